/* diff: the bag's layer (data/fs/upper.tar, streamed once) against the
 * image's index.
 *
 * Each tar entry is normalized (an_path_norm) and looked up in the image:
 *   - ".wh.NAME": NAME deleted (listed when the image has it, else a note);
 *   - ".wh..wh..opq": its directory opaque, with the image entries it hides;
 *   - absent from the image: added;
 *   - a regular file whose content (SHA-256, hashed as it streams) or whose
 *     type differs: modified; same content but mode, owner, link target,
 *     file capabilities or xattrs differ: metadata; else unchanged (counted,
 *     nothing else kept). Directories are listed only when their metadata
 *     differ (an upperdir holds copies of the parents of what changed).
 * Added and modified regular files get their type: libmagic on the first
 * AN_MAGIC_BYTES, the ELF sniffer and the shebang line, as the bytes pass.
 * Files whose path an_keep_path() names are kept whole (AN_KEEP_MAX) in the
 * returned aidx. Overlay xattrs (trusted.overlay.*, user.overlay.*) are the
 * upperdir's bookkeeping, never a change.
 *
 * files.json (the listing the collector wrote beside the tar) gives the
 * times (mtime, atime, ctime) of every entry and the entries left out of the
 * tar ("in_tar": false: their sha256 is taken from it); it is indexed once
 * by a seeded hash of the path (deep entries are "parent" + "name": their
 * hash extends the parent's, no full path is built).
 *
 * whole_root (a container without an overlay: the layer is its whole root):
 * no whiteouts (".wh." names are files like any other), and every image
 * entry the layer does not have is deleted, except under directories the
 * listing says were not walked: mount points ("mount_point": true), a
 * directory that could not be opened (a "note"), and, without a listing,
 * proc, sys and dev.
 *
 * Everything in the layer is attacker-written: paths are bounded
 * (AN_PATH_MAX), entries (AN_ENTRIES_MAX), bytes (AN_LAYER_MAX, holes
 * counted), notes (DIFF_NOTES_MAX); strings go into the JSON through the
 * bag's encoder (invalid UTF-8 and '%' percent-encoded). */
#include <archive.h>
#include <archive_entry.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "contain/analyze.h"
#include "contain/bag.h"
#include "contain/hashio.h"

#define DIFF_NOTES_MAX 1000u
#define MAGIC_QUEUE_MAX (32u << 20) /* head bytes waiting for libmagic */
#define CAPS_XATTR "security.capability"

/* ---------------------------------------------------------------------- */
/* files.json, indexed by path                                             */

struct fjent {
	json_t *j;	   /* the entry (borrowed from the document) */
	const char *name;  /* "path", or "name" of a deep entry */
	size_t nlen;
	char *owned;	   /* a decoded base64 name */
	uint32_t parent;   /* UINT32_MAX: name is the whole path */
	uint32_t next;	   /* hash chain */
	uint32_t plen;	   /* length of the whole path (0: unusable) */
	uint64_t h;
};

struct fjidx {
	struct fjent *ents;
	size_t n;
	uint32_t *buckets;
	size_t nbuckets; /* a power of two */
	uint64_t seed;
	bool have; /* a listing was given */
};

static uint64_t fnv_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t path_hash(uint64_t seed, const char *p, size_t n)
{
	return fnv_add(14695981039346656037ull ^ seed, p, n);
}

/* a string member, base64-decoded when "<key>_base64" is true */
static const char *fj_bytes(json_t *j, const char *key, size_t *n, char **owned)
{
	json_t *v = json_object_get(j, key);
	const char *s = json_string_value(v);
	*owned = NULL;
	if (!s)
		return NULL;
	char k[64];
	snprintf(k, sizeof(k), "%s_base64", key);
	if (!json_is_true(json_object_get(j, k))) {
		*n = json_string_length(v);
		return s;
	}
	unsigned char *d = base64_decode(s, json_string_length(v), n);
	*owned = (char *)d;
	return (const char *)d;
}

static void fj_free(struct fjidx *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->ents[i].owned);
	free(x->ents);
	free(x->buckets);
	memset(x, 0, sizeof(*x));
}

static void fj_build(struct fjidx *x, json_t *doc)
{
	memset(x, 0, sizeof(*x));
	json_t *arr = json_object_get(doc, "entries");
	if (!json_is_array(arr))
		return;
	x->have = true;
	size_t n = json_array_size(arr);
	if (n > AN_ENTRIES_MAX)
		n = AN_ENTRIES_MAX;
	if (getrandom(&x->seed, sizeof(x->seed), GRND_NONBLOCK) != sizeof(x->seed))
		x->seed = (uint64_t)(uintptr_t)x ^ (uint64_t)time(NULL);
	x->ents = xcalloc(n ? n : 1, sizeof(*x->ents));
	x->nbuckets = 16;
	while (x->nbuckets < n)
		x->nbuckets <<= 1;
	x->buckets = xmalloc(x->nbuckets * sizeof(*x->buckets));
	memset(x->buckets, 0xff, x->nbuckets * sizeof(*x->buckets));
	x->n = n;
	for (size_t i = 0; i < n; i++) {
		struct fjent *f = &x->ents[i];
		f->j = json_array_get(arr, i);
		f->parent = UINT32_MAX;
		f->next = UINT32_MAX;
		if (!json_is_object(f->j))
			continue;
		f->name = fj_bytes(f->j, "path", &f->nlen, &f->owned);
		if (f->name) {
			if (f->nlen == 0 || f->nlen >= AN_PATH_MAX || memchr(f->name, 0, f->nlen))
				continue;
			f->plen = (uint32_t)f->nlen;
			f->h = path_hash(x->seed, f->name, f->nlen);
		} else {
			json_int_t p = json_integer_value(json_object_get(f->j, "parent"));
			f->name = fj_bytes(f->j, "name", &f->nlen, &f->owned);
			/* a parent listed before it, whose path is usable */
			if (!f->name || !f->nlen || memchr(f->name, 0, f->nlen) ||
			    memchr(f->name, '/', f->nlen) || p < 0 || (size_t)p >= i ||
			    !x->ents[p].plen)
				continue;
			const struct fjent *pe = &x->ents[p];
			if (f->nlen >= AN_PATH_MAX || pe->plen + 1 + f->nlen >= AN_PATH_MAX)
				continue;
			f->parent = (uint32_t)p;
			f->plen = (uint32_t)(pe->plen + 1 + f->nlen);
			f->h = fnv_add(fnv_add(pe->h, "/", 1), f->name, f->nlen);
		}
		size_t b = f->h & (x->nbuckets - 1);
		f->next = x->buckets[b];
		x->buckets[b] = (uint32_t)i;
	}
}

/* does entry i have the path q (qlen bytes)? walks up the parents */
static bool fj_is(const struct fjidx *x, uint32_t i, const char *q, size_t qlen)
{
	while (i != UINT32_MAX) {
		const struct fjent *f = &x->ents[i];
		if (f->parent == UINT32_MAX)
			return f->nlen == qlen && memcmp(f->name, q, qlen) == 0;
		if (qlen < f->nlen + 1 || q[qlen - f->nlen - 1] != '/' ||
		    memcmp(q + qlen - f->nlen, f->name, f->nlen) != 0)
			return false;
		qlen -= f->nlen + 1;
		i = f->parent;
	}
	return false;
}

static json_t *fj_lookup(const struct fjidx *x, const char *path)
{
	if (!x->n)
		return NULL;
	size_t n = strlen(path);
	uint64_t h = path_hash(x->seed, path, n);
	for (uint32_t i = x->buckets[h & (x->nbuckets - 1)]; i != UINT32_MAX; i = x->ents[i].next)
		if (x->ents[i].h == h && x->ents[i].plen == n && fj_is(x, i, path, n))
			return x->ents[i].j;
	return NULL;
}

/* the path of entry i into out (AN_PATH_MAX bytes); false when unusable */
static bool fj_path(const struct fjidx *x, uint32_t i, char *out)
{
	const struct fjent *f = &x->ents[i];
	if (!f->plen)
		return false;
	size_t end = f->plen;
	out[end] = 0;
	while (i != UINT32_MAX) {
		f = &x->ents[i];
		if (f->nlen > end)
			return false;
		memcpy(out + end - f->nlen, f->name, f->nlen);
		end -= f->nlen;
		if (f->parent == UINT32_MAX)
			return end == 0;
		if (end == 0)
			return false;
		out[--end] = '/';
		i = f->parent;
	}
	return false;
}

/* ---------------------------------------------------------------------- */
/* the diff's state                                                        */

struct diff {
	const struct aidx *img;
	const struct adiff_opts *o;
	json_t *added, *modified, *metadata, *deleted, *opaque;
	struct bag_notes notes; /* at most DIFF_NOTES_MAX */
	uint64_t entries, unchanged, bytes_hashed, layer_bytes;
	uint64_t n_added, n_modified, n_metadata, n_deleted, n_opaque;
	uint64_t listed, unlisted; /* entries in the arrays; counted, not listed */
	unsigned char *seen; /* bitmap over image ids (whole_root) */
	size_t seen_cap;
	struct fjidx fj;
	struct aidx *kept;
	struct magicq *mq;
};

/* One entry of the layer, from the tar or the listing. */
struct lent {
	const char *path;
	enum aent_type type;
	uint32_t mode, uid, gid;
	uint64_t size;
	bool has_tar_mtime;
	struct timespec mtime;
	const char *link;
	const unsigned char *caps;
	size_t caps_len;
	uint32_t nxattrs; /* neither overlay nor security.capability */
	bool has_sha;
	unsigned char sha[32];
	bool in_tar;
	bool content_known; /* a regular file whose hash is known */
	bool metacopy;	    /* an overlay metacopy: content is the lower layer's */
	const char *hardlink_to;
	json_t *fj;
	/* the head of the content, for the file type (regular files in the tar) */
	bool typed;
	unsigned char *head; /* min(size, AN_MAGIC_BYTES) bytes allocated */
	size_t head_len, head_cap;
	struct aelf_sniff elf;
};

static void note(struct diff *d, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(struct diff *d, const char *path, const char *fmt, ...)
{
	if (!bag_notes_room(&d->notes))
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	if (path) {
		_cleanup_free_ char *enc = bag_path_json_encode(path);
		size_t n = strlen(enc), k = n;
		if (k > 300) /* cut on a character boundary */
			for (k = 300; k && ((unsigned char)enc[k] & 0xc0) == 0x80; k--)
				;
		sbuf_addc(&b, '\'');
		sbuf_add(&b, enc, k);
		sbuf_adds(&b, k < n ? "...': " : "': ");
	}
	/* a message may quote an attacker's name (libarchive's): JSON-safe */
	if (utf8_valid(msg, strlen(msg))) {
		sbuf_adds(&b, msg);
	} else {
		_cleanup_free_ char *enc = bag_path_json_encode(msg);
		sbuf_adds(&b, enc);
	}
	bag_note_str(&d->notes, b.buf);
}

static void mark_seen(struct diff *d, aidx_id id)
{
	if (d->seen && id < d->seen_cap)
		d->seen[id / 8] |= (unsigned char)(1u << (id % 8));
}

static bool is_seen(const struct diff *d, aidx_id id)
{
	return d->seen && id < d->seen_cap && (d->seen[id / 8] & (1u << (id % 8)));
}

static void mode_str(uint32_t mode, char out[5])
{
	snprintf(out, 5, "%04o", mode & 07777);
}

static void hex_caps(json_t *o, const char *key, const unsigned char *caps, size_t n)
{
	if (!caps || !n)
		return;
	_cleanup_free_ char *hex = xmalloc(2 * n + 1);
	hex_encode(caps, n, hex);
	json_object_set_new(o, key, json_string(hex));
}

static void sha_hex(json_t *o, const char *key, const unsigned char sha[32])
{
	char hex[65];
	hex_encode(sha, 32, hex);
	json_object_set_new(o, key, json_string(hex));
}

/* a time from the listing, as it wrote it (RFC 3339), when a valid string */
static void fj_time(json_t *o, json_t *fj, const char *key)
{
	const char *s = json_string_value(json_object_get(fj, key));
	if (s && strlen(s) < 64)
		json_object_set_new(o, key, json_string(s));
}

static enum aent_type fj_type(const char *t)
{
	static const struct {
		const char *name;
		enum aent_type t;
	} map[] = {
		{"file", AENT_FILE},   {"dir", AENT_DIR},     {"symlink", AENT_SYMLINK},
		{"char", AENT_CHAR},   {"block", AENT_BLOCK}, {"fifo", AENT_FIFO},
		{"socket", AENT_SOCKET},
	};
	for (size_t i = 0; t && i < ARRAY_SIZE(map); i++)
		if (!strcmp(t, map[i].name))
			return map[i].t;
	return AENT_NONE;
}

/* ---- libmagic, on a thread of its own ----
 * libmagic's magic_buffer() costs 0.25 ms (binary) to 2 ms (text) of CPU a
 * call whatever the size, two calls a file (MIME, description): far more
 * than hashing a file of 50 KiB. So the heads of added and modified files go
 * to worker threads (one per CPU, the first owns the caller's handle for the
 * diff's duration, the others open their own), while this thread reads and
 * hashes on. The queue is bounded in bytes (the reader waits); the entry a
 * job fills is not touched here again until the worker is joined. Without a
 * thread, inline. */
struct mjob {
	json_t *ent;
	unsigned char *head;
	size_t n;
	uint64_t size;
	struct mjob *next;
};

#define MAGIC_THREADS_MAX 4

struct magicq;
struct mworker {
	struct magicq *q;
	struct aftype *ft;
	bool own; /* opened here (the first worker uses the caller's) */
	pthread_t thr;
};

struct magicq {
	struct aftype *ft; /* the caller's: inline when no thread started */
	pthread_mutex_t mu;
	pthread_cond_t cv_job, cv_room;
	struct mjob *first, *last;
	size_t bytes;
	bool stop;
	size_t nthr;
	struct mworker w[MAGIC_THREADS_MAX];
};

static void *magic_worker(void *arg)
{
	struct mworker *w = arg;
	struct magicq *q = w->q;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->first && !q->stop)
			pthread_cond_wait(&q->cv_job, &q->mu);
		struct mjob *j = q->first;
		if (!j)
			break;
		q->first = j->next;
		if (!q->first)
			q->last = NULL;
		pthread_mutex_unlock(&q->mu);
		aftype_buffer(w->ft, j->head, j->n, j->size, j->ent);
		pthread_mutex_lock(&q->mu);
		q->bytes -= j->n;
		pthread_cond_signal(&q->cv_room);
		free(j->head);
		free(j);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* one worker per CPU (at most MAGIC_THREADS_MAX): libmagic is the diff's
 * heaviest work, the reader (this thread) mostly waits for it */
static struct magicq *magicq_new(struct aftype *ft)
{
	struct magicq *q = xcalloc(1, sizeof(*q));
	q->ft = ft;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv_job, NULL);
	pthread_cond_init(&q->cv_room, NULL);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = ncpu < 1 ? 1 : ncpu > MAGIC_THREADS_MAX ? MAGIC_THREADS_MAX : (size_t)ncpu;
	for (size_t i = 0; i < want; i++) {
		struct mworker *w = &q->w[q->nthr];
		w->q = q;
		w->ft = ft;
		if (i > 0) {
			struct err e = {0};
			if (aftype_open(&w->ft, &e) < 0)
				break;
			w->own = true;
		}
		if (pthread_create(&w->thr, NULL, magic_worker, w) != 0) {
			if (w->own)
				aftype_close(w->ft);
			break;
		}
		q->nthr++;
	}
	return q;
}

/* the file type of ent from head (taken over) */
static void magicq_add(struct magicq *q, json_t *ent, unsigned char *head, size_t n, uint64_t size)
{
	if (!q->nthr) {
		aftype_buffer(q->ft, head, n, size, ent);
		free(head);
		return;
	}
	struct mjob *j = xmalloc(sizeof(*j));
	*j = (struct mjob){.ent = ent, .head = head, .n = n, .size = size};
	pthread_mutex_lock(&q->mu);
	while (q->bytes && q->bytes + n > MAGIC_QUEUE_MAX)
		pthread_cond_wait(&q->cv_room, &q->mu);
	q->bytes += n;
	if (q->last)
		q->last->next = j;
	else
		q->first = j;
	q->last = j;
	pthread_cond_signal(&q->cv_job);
	pthread_mutex_unlock(&q->mu);
}

/* every job done */
static void magicq_free(struct magicq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_broadcast(&q->cv_job);
	pthread_mutex_unlock(&q->mu);
	for (size_t i = 0; i < q->nthr; i++) {
		pthread_join(q->w[i].thr, NULL);
		if (q->w[i].own)
			aftype_close(q->w[i].ft);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv_job);
	pthread_cond_destroy(&q->cv_room);
	free(q);
}

/* the common fields of a listed entry */
static json_t *entry_json(const struct lent *l)
{
	json_t *o = json_object();
	char m[5];
	mode_str(l->mode, m);
	json_object_set_new(o, "path", bag_json_path(l->path));
	json_object_set_new(o, "type", json_string(aent_type_name(l->type)));
	json_object_set_new(o, "mode", json_string(m));
	json_object_set_new(o, "uid", json_integer(l->uid));
	json_object_set_new(o, "gid", json_integer(l->gid));
	/* a tar says 0 for what is not a regular file; the listing has lstat's */
	json_t *fsz = json_object_get(l->fj, "size");
	if (l->type != AENT_FILE && json_is_integer(fsz) && json_integer_value(fsz) >= 0)
		json_object_set_new(o, "size", json_integer(json_integer_value(fsz)));
	else
		json_object_set_new(o, "size",
				    json_integer((json_int_t)(l->size > INT64_MAX ? INT64_MAX
										  : l->size)));
	if (l->fj) {
		fj_time(o, l->fj, "mtime");
		fj_time(o, l->fj, "atime");
		fj_time(o, l->fj, "ctime");
	}
	if (!json_object_get(o, "mtime") && l->has_tar_mtime) {
		char t[64];
		time_rfc3339_from(&l->mtime, t, sizeof(t));
		json_object_set_new(o, "mtime", json_string(t));
	}
	if (l->type == AENT_FILE && l->has_sha)
		sha_hex(o, "sha256", l->sha);
	if (l->link)
		json_object_set_new(o, "link_target", bag_json_path(l->link));
	hex_caps(o, "caps", l->caps, l->caps_len);
	json_object_set_new(o, "in_tar", json_boolean(l->in_tar));
	if (l->metacopy)
		json_object_set_new(o, "metacopy", json_true());
	if (l->hardlink_to)
		json_object_set_new(o, "hardlink_to", bag_json_path(l->hardlink_to));
	return o;
}

/* elf, shebang of a regular file (mime and magic: magic_later) */
static void filetype_json(struct lent *l, json_t *o)
{
	/* a file whose bytes were not read here (a hard link, left out of
	 * the tar): no type rather than a wrong one */
	if (l->type != AENT_FILE || !l->typed)
		return;
	json_t *elf = aelf_json(&l->elf);
	json_object_set_new(o, "elf", elf ? elf : json_null());
	char *sb = an_shebang(l->head, l->head_len);
	json_object_set_new(o, "shebang", sb ? json_string(sb) : json_null());
	free(sb);
}

/* ---------------------------------------------------------------------- */
/* comparing one entry with the image                                      */

static bool caps_eq(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

enum {
	CH_CONTENT = 1 << 0,
	CH_TYPE = 1 << 1,
	CH_MODE = 1 << 2,
	CH_UID = 1 << 3,
	CH_GID = 1 << 4,
	CH_SETUID = 1 << 5,
	CH_SETGID = 1 << 6,
	CH_CAPS_ADDED = 1 << 7,
	CH_CAPS_CHANGED = 1 << 8,
	CH_CAPS_REMOVED = 1 << 9,
	CH_LINK = 1 << 10,
	CH_XATTRS = 1 << 11,
};
static const char *const change_names[] = {
	"content",	"type",	       "mode",	       "uid",	      "gid",	     "setuid-added",
	"setgid-added", "caps-added", "caps-changed", "caps-removed", "link-target", "xattrs",
};

/* the metadata changes of l against the image entry ie (same type): no
 * JSON made for the unchanged */
static unsigned meta_changes(const struct lent *l, const struct aidx_entry *ie)
{
	unsigned ch = 0;
	if ((l->mode & 07777) != (ie->mode & 07777)) {
		ch |= CH_MODE;
		if ((l->mode & 04000) && !(ie->mode & 04000))
			ch |= CH_SETUID;
		if ((l->mode & 02000) && !(ie->mode & 02000))
			ch |= CH_SETGID;
	}
	if (l->uid != ie->uid)
		ch |= CH_UID;
	if (l->gid != ie->gid)
		ch |= CH_GID;
	bool lc = l->caps && l->caps_len, ic = ie->caps && ie->caps_len;
	if (lc && !ic)
		ch |= CH_CAPS_ADDED;
	else if (!lc && ic)
		ch |= CH_CAPS_REMOVED;
	else if (lc && ic && !caps_eq(l->caps, l->caps_len, ie->caps, ie->caps_len))
		ch |= CH_CAPS_CHANGED;
	if (l->type == AENT_SYMLINK &&
	    strcmp(l->link ? l->link : "", ie->link_target ? ie->link_target : "") != 0)
		ch |= CH_LINK;
	/* xattrs other than the capability: the image counts it in nxattrs */
	uint32_t inx = ie->nxattrs - (ic && ie->nxattrs ? 1 : 0);
	if (l->nxattrs != inx)
		ch |= CH_XATTRS;
	return ch;
}

/* "changes" and the image's side of each changed field */
static void changes_json(json_t *o, unsigned ch, const struct aidx_entry *ie)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(change_names); i++)
		if (ch & (1u << i))
			json_array_append_new(arr, json_string(change_names[i]));
	if (ch & CH_MODE) {
		char m[5];
		mode_str(ie->mode, m);
		json_object_set_new(o, "image_mode", json_string(m));
	}
	if (ch & CH_UID)
		json_object_set_new(o, "image_uid", json_integer(ie->uid));
	if (ch & CH_GID)
		json_object_set_new(o, "image_gid", json_integer(ie->gid));
	if (ch & (CH_CAPS_CHANGED | CH_CAPS_REMOVED))
		hex_caps(o, "image_caps", ie->caps, ie->caps_len);
	if ((ch & CH_LINK) && ie->link_target)
		json_object_set_new(o, "image_link_target", bag_json_path(ie->link_target));
	json_object_set_new(o, "changes", arr);
}

/* An entry worth listing past AN_DIFF_LIST_MAX: what a rule may act on
 * (an ELF, a script, anything executable, setuid/setgid, file
 * capabilities, a link, a kept file), not the bulk of plain files. */
static bool notable(const json_t *o)
{
	if (json_object_get(o, "elf") || json_object_get(o, "shebang") ||
	    json_object_get(o, "caps") || json_object_get(o, "link_target") ||
	    json_object_get(o, "changes"))
		return true;
	const char *m = json_string_value(json_object_get(o, "mode"));
	unsigned long mode = m ? strtoul(m, NULL, 8) : 0;
	if (mode & 06111)
		return true;
	const char *p = json_string_value(json_object_get(o, "path"));
	return p && an_keep_path(p);
}

/* List o in arr, or only count it: past AN_DIFF_LIST_MAX entries listed
 * only notable ones go on, up to AN_DIFF_LIST_MAX + AN_DIFF_NOTABLE_MAX (a
 * layer of a million dropped files must not hold a million entries, and
 * every report written from them, in memory). Returns whether o was listed
 * (it is freed when not). */
static bool push(struct diff *d, json_t *arr, uint64_t *count, json_t *o)
{
	(*count)++;
	if (d->listed >= AN_DIFF_LIST_MAX &&
	    (d->listed >= AN_DIFF_LIST_MAX + AN_DIFF_NOTABLE_MAX || !notable(o))) {
		d->unlisted++;
		json_decref(o);
		return false;
	}
	d->listed++;
	json_array_append_new(arr, o);
	return true;
}

/* mime and magic of a listed regular file, once its entry is complete:
 * the head goes to the worker */
static void magic_later(struct diff *d, struct lent *l, json_t *o)
{
	if (l->type != AENT_FILE || !l->typed || !d->mq)
		return;
	magicq_add(d->mq, o, l->head, l->head_len, l->size);
	l->head = NULL;
}

/* classify l (its content read, if any) against the image */
static void classify(struct diff *d, struct lent *l)
{
	aidx_id id = aidx_lookup(d->img, l->path);
	if (id == AIDX_NONE || id == AIDX_ROOT) {
		json_t *o = entry_json(l);
		filetype_json(l, o);
		if (push(d, d->added, &d->n_added, o))
			magic_later(d, l, o);
		return;
	}
	mark_seen(d, id);
	struct aidx_entry ie;
	aidx_get(d->img, id, &ie);
	unsigned ch = 0;
	if (ie.type != l->type) {
		ch = CH_TYPE;
	} else {
		if (l->type == AENT_FILE && !l->metacopy && l->content_known) {
			if (ie.has_sha256 ? memcmp(ie.sha256, l->sha, 32) != 0
					  : ie.size != l->size) /* the image could not hash it */
				ch |= CH_CONTENT;
		}
		ch |= meta_changes(l, &ie);
	}
	if (!ch) {
		d->unchanged++;
		return;
	}
	json_t *ent = entry_json(l);
	if (ch & (CH_CONTENT | CH_TYPE)) {
		json_object_set_new(ent, "image_type", json_string(aent_type_name(ie.type)));
		if (ie.has_sha256)
			sha_hex(ent, "image_sha256", ie.sha256);
		json_object_set_new(ent, "image_size",
				    json_integer((json_int_t)(ie.size > INT64_MAX ? INT64_MAX
										  : ie.size)));
		if (ie.type == AENT_SYMLINK && ie.link_target)
			json_object_set_new(ent, "image_link_target", bag_json_path(ie.link_target));
		filetype_json(l, ent);
		changes_json(ent, ch, &ie);
		if (push(d, d->modified, &d->n_modified, ent))
			magic_later(d, l, ent);
	} else {
		changes_json(ent, ch, &ie);
		push(d, d->metadata, &d->n_metadata, ent);
	}
}

/* count the image entries under dir; their paths into sample (at most
 * AN_OPAQUE_SAMPLE) when sample */
static uint64_t subtree(const struct aidx *img, aidx_id dir, json_t *sample)
{
	uint64_t n = 0;
	_cleanup_free_ char *buf = sample ? xmalloc(AN_PATH_MAX) : NULL;
	aidx_id id = aidx_first_child(img, dir);
	while (id != AIDX_NONE) {
		n++;
		if (sample && json_array_size(sample) < AN_OPAQUE_SAMPLE &&
		    aidx_path(img, id, buf, AN_PATH_MAX) < AN_PATH_MAX)
			json_array_append_new(sample, bag_json_path(buf));
		aidx_id c = aidx_first_child(img, id);
		if (c != AIDX_NONE) {
			id = c;
			continue;
		}
		while (id != dir) {
			aidx_id s = aidx_next_sibling(img, id);
			if (s != AIDX_NONE) {
				id = s;
				break;
			}
			id = aidx_parent(img, id);
		}
		if (id == dir)
			break;
	}
	return n;
}

/* a whiteout of path (upperdir only) */
static void whiteout(struct diff *d, const char *path, json_t *fj)
{
	aidx_id id = aidx_lookup(d->img, path);
	if (id == AIDX_NONE || id == AIDX_ROOT) {
		note(d, path, "whiteout of a path the image does not have");
		return;
	}
	mark_seen(d, id);
	struct aidx_entry ie;
	aidx_get(d->img, id, &ie);
	json_t *o = json_object();
	char m[5];
	mode_str(ie.mode, m);
	json_object_set_new(o, "path", bag_json_path(path));
	json_object_set_new(o, "type", json_string(aent_type_name(ie.type)));
	json_object_set_new(o, "image_type", json_string(aent_type_name(ie.type)));
	json_object_set_new(o, "image_mode", json_string(m));
	if (ie.has_sha256)
		sha_hex(o, "image_sha256", ie.sha256);
	if (ie.type == AENT_SYMLINK && ie.link_target)
		json_object_set_new(o, "image_link_target", bag_json_path(ie.link_target));
	if (ie.type == AENT_FILE)
		json_object_set_new(o, "image_size",
				    json_integer((json_int_t)(ie.size > INT64_MAX ? INT64_MAX
										  : ie.size)));
	if (ie.type == AENT_DIR)
		json_object_set_new(o, "image_entries",
				    json_integer((json_int_t)subtree(d->img, id, NULL)));
	if (fj) {
		fj_time(o, fj, "mtime");
		fj_time(o, fj, "atime");
		fj_time(o, fj, "ctime");
	}
	push(d, d->deleted, &d->n_deleted, o);
}

/* an opaque directory: what of the image it hides */
static void opaque(struct diff *d, const char *dir)
{
	aidx_id id = *dir ? aidx_lookup(d->img, dir) : AIDX_ROOT;
	if (id == AIDX_NONE)
		return; /* a directory new in this layer hides nothing */
	json_t *o = json_object();
	json_t *sample = json_array();
	uint64_t n = subtree(d->img, id, sample);
	json_object_set_new(o, "path", bag_json_path(dir));
	json_object_set_new(o, "type", json_string("dir"));
	json_object_set_new(o, "hidden", json_integer((json_int_t)n));
	json_object_set_new(o, "hidden_sample", sample);
	json_t *fj = *dir ? fj_lookup(&d->fj, dir) : NULL;
	if (fj) {
		fj_time(o, fj, "mtime");
		fj_time(o, fj, "atime");
		fj_time(o, fj, "ctime");
	}
	push(d, d->opaque, &d->n_opaque, o);
}

/* ---------------------------------------------------------------------- */
/* the tar                                                                 */

static const unsigned char zeros[65536];

struct reader {
	struct diff *d;
	struct lent *l;
	struct hasher *h;
	struct sbuf *keep;
	bool keep_trunc;
	uint64_t pos;
};

static void take(struct reader *r, const void *buf, size_t n)
{
	struct lent *l = r->l;
	if (buf == zeros)
		hasher_zeros(r->h, n);
	else
		hasher_update(r->h, buf, n);
	if (l->typed) {
		if (l->head_len < l->head_cap) {
			size_t k = l->head_cap - l->head_len;
			if (k > n)
				k = n;
			memcpy(l->head + l->head_len, buf, k);
			l->head_len += k;
		}
		aelf_feed(&l->elf, buf, n);
	}
	if (r->keep) {
		size_t room = AN_KEEP_MAX - r->keep->len;
		if (n > room)
			r->keep_trunc = true;
		sbuf_add(r->keep, buf, n > room ? room : n);
	}
	r->pos += n;
}

static void take_zeros(struct reader *r, uint64_t n)
{
	if (!r->l->typed && !r->keep) {
		hasher_zeros(r->h, n);
		r->pos += n;
		return;
	}
	while (n) {
		size_t k = n > sizeof(zeros) ? sizeof(zeros) : (size_t)n;
		take(r, zeros, k);
		n -= k;
	}
}

/* read a regular file's content: hash, head, ELF, kept bytes */
static int read_content(struct diff *d, struct archive *a, struct lent *l, bool sparse,
			struct sbuf *keep, bool *keep_trunc, struct err *e)
{
	struct reader r = {.d = d, .l = l, .h = hasher_new(), .keep = keep};
	int rc = 0;
	for (;;) {
		const void *buf;
		size_t n;
		la_int64_t off;
		int ar = archive_read_data_block(a, &buf, &n, &off);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar == ARCHIVE_WARN) {
			note(d, l->path, "reading its data: %s", archive_error_string(a));
		} else if (ar != ARCHIVE_OK) {
			rc = err_set(e, ERR_INVALID, "layer: reading its data: %s",
				     archive_error_string(a) ? archive_error_string(a) : "error");
			break;
		}
		if (off < 0 || (uint64_t)off < r.pos) {
			rc = err_set(e, ERR_INVALID, "layer: data blocks out of order");
			break;
		}
		uint64_t hole = (uint64_t)off - r.pos;
		if (hole > AN_LAYER_MAX - d->layer_bytes || n > AN_LAYER_MAX - d->layer_bytes - hole) {
			rc = err_set(e, ERR_INVALID, "layer: more than %llu bytes of content",
				     (unsigned long long)AN_LAYER_MAX);
			break;
		}
		d->layer_bytes += hole + n;
		if (hole)
			take_zeros(&r, hole);
		if (n)
			take(&r, buf, n);
	}
	/* a sparse file's trailing hole, when libarchive gives no block for it */
	if (rc == 0 && sparse && r.pos < l->size) {
		uint64_t hole = l->size - r.pos;
		if (hole > AN_LAYER_MAX - d->layer_bytes) {
			rc = err_set(e, ERR_INVALID, "layer: more than %llu bytes of content",
				     (unsigned long long)AN_LAYER_MAX);
		} else {
			d->layer_bytes += hole;
			take_zeros(&r, hole);
		}
	}
	if (rc == 0 && r.pos != l->size)
		note(d, l->path, "%llu bytes of data, %llu declared", (unsigned long long)r.pos,
		     (unsigned long long)l->size);
	hasher_final(r.h, l->sha);
	d->bytes_hashed += hasher_bytes(r.h);
	hasher_free(r.h);
	if (rc < 0)
		return rc;
	l->has_sha = true;
	l->content_known = true;
	if (keep)
		*keep_trunc = r.keep_trunc;
	return 0;
}

/* xattrs of a tar entry: the capability, the count of the others
 * (overlay bookkeeping left out) */
static void tar_xattrs(struct archive_entry *ae, struct lent *l, bool *overlay_opaque)
{
	const char *name;
	const void *val;
	size_t n;
	archive_entry_xattr_reset(ae);
	while (archive_entry_xattr_next(ae, &name, &val, &n) == ARCHIVE_OK) {
		if (!name)
			continue;
		if (str_has_prefix(name, "trusted.overlay.") || str_has_prefix(name, "user.overlay.")) {
			if ((!strcmp(name, "trusted.overlay.opaque") ||
			     !strcmp(name, "user.overlay.opaque")) &&
			    n == 1 && *(const char *)val == 'y')
				*overlay_opaque = true;
			continue;
		}
		if (!strcmp(name, CAPS_XATTR)) {
			l->caps = val;
			l->caps_len = n;
			continue;
		}
		l->nxattrs++;
	}
}

static bool hex32(const char *s, unsigned char out[32])
{
	return s && strlen(s) == 64 && hex_decode(s, out, 32) == 0;
}

/* a hard link: the content is its target's, as the listing says */
static void hardlink_content(struct diff *d, struct lent *l, const char *target)
{
	l->hardlink_to = target;
	json_t *tfj = fj_lookup(&d->fj, target);
	const char *t = json_string_value(json_object_get(tfj, "type"));
	enum aent_type ty = fj_type(t);
	if (tfj && ty != AENT_NONE)
		l->type = ty;
	else
		l->type = AENT_FILE;
	if (l->type != AENT_FILE)
		return;
	const char *sha = json_string_value(json_object_get(l->fj, "sha256"));
	if (!sha)
		sha = json_string_value(json_object_get(tfj, "sha256"));
	if (hex32(sha, l->sha)) {
		l->has_sha = l->content_known = true;
		json_t *szj = json_object_get(l->fj, "size");
		if (!json_is_integer(szj))
			szj = json_object_get(tfj, "size");
		if (json_integer_value(szj) > 0)
			l->size = (uint64_t)json_integer_value(szj);
	} else {
		note(d, l->path, "hard link whose content the listing does not give: compared by "
				 "metadata only");
	}
}

/* "./", "/", ".": the root itself (not listed) */
static bool root_name(const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p != '.' && *p != '/')
			return false;
	return !strstr(s, "..");
}

static int keep_content(struct diff *d, const struct lent *l, const struct sbuf *kb, bool trunc,
			struct err *e)
{
	struct aidx_entry ke = {
		.type = l->type,
		.mode = l->mode,
		.uid = l->uid,
		.gid = l->gid,
		.size = l->size,
		.mtime = l->mtime.tv_sec,
		.has_sha256 = l->has_sha,
	};
	memcpy(ke.sha256, l->sha, 32);
	aidx_id id;
	if (aidx_set(d->kept, l->path, &ke, &id, e) < 0 ||
	    aidx_keep(d->kept, id, kb->buf ? kb->buf : "", kb->len, trunc, e) < 0)
		return -1;
	return 0;
}

/* one tar entry; -1 only when the tar cannot be read on */
static int tar_entry(struct diff *d, struct archive *a, struct archive_entry *ae, char *path,
		     struct err *e)
{
	const char *name = archive_entry_pathname(ae);
	if (!name)
		name = archive_entry_pathname_utf8(ae);
	if (!name) {
		note(d, NULL, "an entry without a readable name: skipped");
		return 0;
	}
	struct err pe = {0};
	if (strnlen(name, AN_PATH_MAX + 1) > AN_PATH_MAX) {
		note(d, NULL, "an entry with a path longer than %u bytes: skipped", AN_PATH_MAX);
		return 0;
	}
	if (an_path_norm(name, path, &pe) < 0) {
		if (!root_name(name))
			note(d, NULL, "%s: skipped", pe.msg);
		return 0;
	}
	char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (!d->o->whole_root && str_has_prefix(base, ".wh.")) {
		const char *wname = base + 4;
		size_t dlen = slash ? (size_t)(slash - path) : 0;
		if (!strcmp(wname, ".wh..opq")) {
			path[dlen] = 0;
			opaque(d, path);
			return 0;
		}
		if (!*wname || !strcmp(wname, ".") || !strcmp(wname, "..") ||
		    str_has_prefix(wname, ".wh.")) {
			note(d, path, "a whiteout with no usable name: skipped");
			return 0;
		}
		memmove(path + (slash ? dlen + 1 : 0), wname, strlen(wname) + 1);
		whiteout(d, path, fj_lookup(&d->fj, path));
		return 0;
	}

	struct lent l = {
		.path = path,
		.type = aent_type_from_mode(archive_entry_filetype(ae)),
		.mode = (uint32_t)archive_entry_perm(ae) & 07777,
		.uid = (uint32_t)archive_entry_uid(ae),
		.gid = (uint32_t)archive_entry_gid(ae),
		.size = archive_entry_size(ae) > 0 ? (uint64_t)archive_entry_size(ae) : 0,
		.has_tar_mtime = archive_entry_mtime_is_set(ae),
		.mtime = {archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)},
		.in_tar = true,
	};
	l.fj = fj_lookup(&d->fj, path);
	l.metacopy = json_is_true(json_object_get(l.fj, "metacopy"));
	bool overlay_opaque = false;
	tar_xattrs(ae, &l, &overlay_opaque);
	/* an upperdir tarred as is (not by our collector): overlayfs' own
	 * whiteouts (0:0 character devices) and opaque xattrs */
	if (!d->o->whole_root && l.type == AENT_CHAR && archive_entry_rdev(ae) == 0) {
		whiteout(d, path, l.fj);
		return 0;
	}
	if (!d->o->whole_root && l.type == AENT_DIR && overlay_opaque)
		opaque(d, path);
	const char *hl = archive_entry_hardlink(ae);
	if (!hl)
		hl = archive_entry_hardlink_utf8(ae);
	char *target = NULL;
	if (hl) {
		target = xmalloc(AN_PATH_MAX);
		if (an_path_norm(hl, target, &pe) < 0) {
			note(d, path, "hard link to a bad name: %s: skipped", pe.msg);
			free(target);
			return 0;
		}
	}
	int rc = 0;
	if (hl) {
		hardlink_content(d, &l, target);
		classify(d, &l);
		free(target);
		return 0;
	}
	free(target);
	if (l.type == AENT_NONE) {
		note(d, path, "an entry of an unknown type: skipped");
		return 0;
	}
	if (l.type == AENT_SYMLINK) {
		l.link = archive_entry_symlink(ae);
		if (!l.link)
			l.link = archive_entry_symlink_utf8(ae);
		if (!l.link)
			l.link = "";
	}
	if (l.type != AENT_FILE) {
		classify(d, &l);
		return 0;
	}

	/* a regular file: its type is worked out when it may be listed with
	 * one (not in the image, or not a regular file there) or may be
	 * modified (a regular file there: its hash decides) */
	l.typed = true;
	l.head_cap = l.size < AN_MAGIC_BYTES ? (size_t)l.size : AN_MAGIC_BYTES;
	l.head = xmalloc(l.head_cap ? l.head_cap : 1);
	aelf_init(&l.elf);
	bool keep = d->kept && an_keep_path(path);
	_cleanup_sbuf_ struct sbuf kb = SBUF_INIT;
	bool trunc = false;
	rc = read_content(d, a, &l, archive_entry_sparse_count(ae) > 0, keep ? &kb : NULL, &trunc,
			  e);
	if (rc == 0) {
		classify(d, &l);
		struct err ke = {0};
		if (keep && keep_content(d, &l, &kb, trunc, &ke) < 0)
			note(d, path, "not kept: %s", ke.msg);
	}
	aelf_free(&l.elf);
	free(l.head);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* entries of the listing left out of the tar                              */

static void listing_entry(struct diff *d, uint32_t i, char *path)
{
	json_t *j = d->fj.ents[i].j;
	if (!json_is_false(json_object_get(j, "in_tar")))
		return;
	if (!fj_path(&d->fj, i, path))
		return;
	const char *t = json_string_value(json_object_get(j, "type"));
	if (t && !strcmp(t, "whiteout")) {
		if (!d->o->whole_root)
			whiteout(d, path, j);
		return;
	}
	if (json_is_true(json_object_get(j, "opaque")) && !d->o->whole_root)
		opaque(d, path);
	struct lent l = {.path = path, .fj = j, .in_tar = false};
	l.type = fj_type(t);
	const char *ms = json_string_value(json_object_get(j, "mode"));
	if (ms && *ms && strlen(ms) <= 6 && strspn(ms, "01234567") == strlen(ms))
		l.mode = (uint32_t)strtoul(ms, NULL, 8) & 07777;
	l.uid = (uint32_t)json_integer_value(json_object_get(j, "uid"));
	l.gid = (uint32_t)json_integer_value(json_object_get(j, "gid"));
	json_int_t sz = json_integer_value(json_object_get(j, "size"));
	l.size = sz > 0 ? (uint64_t)sz : 0;
	l.metacopy = json_is_true(json_object_get(j, "metacopy"));
	_cleanup_free_ char *link_owned = NULL;
	size_t ln;
	if (l.type == AENT_SYMLINK) {
		l.link = fj_bytes(j, "link_target", &ln, &link_owned);
		if (!l.link || memchr(l.link, 0, ln))
			l.link = "";
	}
	/* xattrs: base64 values; the capability decoded */
	_cleanup_free_ unsigned char *caps = NULL;
	json_t *xa = json_object_get(j, "xattrs");
	const char *k;
	json_t *val;
	json_object_foreach(xa, k, val)
	{
		if (str_has_prefix(k, "trusted.overlay.") || str_has_prefix(k, "user.overlay."))
			continue;
		if (!strcmp(k, CAPS_XATTR) && json_is_string(val) && !caps) {
			caps = base64_decode(json_string_value(val), json_string_length(val),
					     &l.caps_len);
			l.caps = caps;
			continue;
		}
		l.nxattrs++;
	}
	_cleanup_free_ char *target = NULL; /* l.hardlink_to, till classified */
	if (t && !strcmp(t, "hardlink")) {
		size_t tn;
		_cleanup_free_ char *towned = NULL;
		const char *to = fj_bytes(j, "hardlink_to", &tn, &towned);
		target = xmalloc(AN_PATH_MAX);
		struct err pe = {0};
		if (to && !memchr(to, 0, tn) && an_path_norm(to, target, &pe) == 0)
			hardlink_content(d, &l, target);
		else
			l.type = AENT_FILE;
	} else if (l.type == AENT_FILE) {
		const char *sha = json_string_value(json_object_get(j, "sha256"));
		if (hex32(sha, l.sha))
			l.has_sha = l.content_known = true;
		else
			note(d, path, "left out of the tar and without a sha256 in the listing: "
				      "compared by metadata only");
	}
	if (l.type == AENT_NONE) {
		note(d, path, "listed with an unknown type '%.40s': skipped", t ? t : "");
		return;
	}
	if (l.type == AENT_DIR && !json_is_true(json_object_get(j, "in_tar")) &&
	    json_object_get(j, "note") && !d->o->whole_root)
		return; /* a directory that could not be read: nothing to say of it */
	classify(d, &l);
}

/* ---------------------------------------------------------------------- */
/* whole root: what the image has and the listing not                      */

/* a directory whose content the listing did not walk */
static bool not_walked(struct diff *d, aidx_id id, const char *path)
{
	json_t *fj = fj_lookup(&d->fj, path);
	if (fj)
		return json_is_true(json_object_get(fj, "mount_point")) ||
		       json_object_get(fj, "note") != NULL;
	if (!d->fj.have && aidx_parent(d->img, id) == AIDX_ROOT)
		return !strcmp(path, "proc") || !strcmp(path, "sys") || !strcmp(path, "dev");
	return false;
}

static void whole_root_deleted(struct diff *d)
{
	_cleanup_free_ char *buf = xmalloc(AN_PATH_MAX);
	aidx_id id = aidx_first_child(d->img, AIDX_ROOT);
	while (id != AIDX_NONE) {
		bool descend = false;
		if (aidx_path(d->img, id, buf, AN_PATH_MAX) >= AN_PATH_MAX) {
			/* cannot be named: not judged */
		} else if (not_walked(d, id, buf)) {
			uint64_t n = subtree(d->img, id, NULL);
			if (n)
				note(d, buf,
				     "not walked by the collector (a mount point or unreadable): %llu "
				     "image entries under it not compared",
				     (unsigned long long)n);
		} else if (!is_seen(d, id)) {
			whiteout(d, buf, NULL);
		} else {
			descend = true;
		}
		aidx_id c = descend ? aidx_first_child(d->img, id) : AIDX_NONE;
		if (c != AIDX_NONE) {
			id = c;
			continue;
		}
		while (id != AIDX_ROOT) {
			aidx_id s = aidx_next_sibling(d->img, id);
			if (s != AIDX_NONE) {
				id = s;
				break;
			}
			id = aidx_parent(d->img, id);
		}
		if (id == AIDX_ROOT)
			break;
	}
}

/* ---------------------------------------------------------------------- */

static void diff_free(struct diff *d)
{
	magicq_free(d->mq); /* first: its jobs fill entries of the arrays */
	d->mq = NULL;
	json_decref(d->added);
	json_decref(d->modified);
	json_decref(d->metadata);
	json_decref(d->deleted);
	json_decref(d->opaque);
	json_decref(d->notes.arr);
	free(d->seen);
	fj_free(&d->fj);
	aidx_free(d->kept);
}

static int read_layer(struct diff *d, struct archive *a, struct err *e)
{
	_cleanup_free_ char *path = xmalloc(AN_PATH_MAX);
	for (;;) {
		struct archive_entry *ae;
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r == ARCHIVE_WARN) {
			note(d, NULL, "layer: %s", archive_error_string(a));
		} else if (r != ARCHIVE_OK) {
			const char *why = archive_error_string(a) ? archive_error_string(a) : "error";
			if (d->entries == 0)
				return err_set(e, ERR_INVALID, "layer: %s", why);
			note(d, NULL, "layer: %s: the rest not read", why);
			return 0;
		}
		if (d->entries >= AN_ENTRIES_MAX) {
			note(d, NULL, "layer: more than %u entries: the rest not read",
			     AN_ENTRIES_MAX);
			return 0;
		}
		d->entries++;
		struct err te = {0};
		if (tar_entry(d, a, ae, path, &te) < 0) {
			note(d, NULL, "%s: the rest not read", te.msg);
			return 0;
		}
	}
}

int adiff_layer(const struct aidx *img, struct archive *layer, const struct adiff_opts *o,
		json_t **out, struct aidx **kept, struct err *e)
{
	struct diff d = {
		.img = img,
		.o = o,
		.added = json_array(),
		.modified = json_array(),
		.metadata = json_array(),
		.deleted = json_array(),
		.opaque = json_array(),
		.notes = {.arr = json_array(), .max = DIFF_NOTES_MAX},
	};
	if (o->ftype)
		d.mq = magicq_new(o->ftype);
	if (kept)
		d.kept = aidx_new();
	if (o->whole_root) {
		d.seen_cap = aidx_capacity(img);
		d.seen = xcalloc(d.seen_cap / 8 + 1, 1);
	}
	fj_build(&d.fj, o->files_json);
	if (o->files_json && !d.fj.have)
		note(&d, NULL, "files.json has no \"entries\" array: times and left-out entries "
			       "unknown");

	if (read_layer(&d, layer, e) < 0) {
		diff_free(&d);
		return -1;
	}
	char *path = xmalloc(AN_PATH_MAX);
	for (size_t i = 0; i < d.fj.n; i++)
		listing_entry(&d, (uint32_t)i, path);
	free(path);
	if (o->whole_root)
		whole_root_deleted(&d);
	/* the worker's last jobs done before the entries are handed out */
	magicq_free(d.mq);
	d.mq = NULL;
	bag_notes_end(&d.notes, "not listed");

	if (d.unlisted) {
		char msg[200];
		snprintf(msg, sizeof(msg),
			 "%" PRIu64 " changed entries counted in stats but not listed (past %u "
			 "entries only executables, scripts, links, setuid/capability and "
			 "watched files are listed)",
			 d.unlisted, AN_DIFF_LIST_MAX);
		json_array_append_new(d.notes.arr, json_string(msg));
	}

	json_t *stats = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "unlisted",
				  (json_int_t)d.unlisted, "layer_entries",
				  (json_int_t)d.entries, "added", (json_int_t)d.n_added, "modified",
				  (json_int_t)d.n_modified, "metadata", (json_int_t)d.n_metadata,
				  "deleted", (json_int_t)d.n_deleted, "opaque", (json_int_t)d.n_opaque,
				  "unchanged", (json_int_t)d.unchanged, "bytes_hashed",
				  (json_int_t)d.bytes_hashed);
	*out = json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:o}", "added", d.added, "modified", d.modified,
			 "metadata", d.metadata, "deleted", d.deleted, "opaque", d.opaque, "notes",
			 d.notes.arr, "stats", stats);
	if (kept)
		*kept = steal_pointer(&d.kept);
	diff_free(&d);
	return 0;
}
