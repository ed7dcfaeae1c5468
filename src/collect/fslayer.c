/* fslayer.c: a container's overlay upperdir (or whole root) as an OCI image
 * layer tar, plus files.json. See include/contain/fslayer.h for the contract.
 *
 * Shape: one iterative walk by directory fd (frames on an explicit stack,
 * names of a directory read and sorted when it is entered, so its fd can be
 * closed while deeper levels are walked and reopened through ".." — checked by
 * dev/ino — on the way back up). Regular file content is read in 1 MiB
 * chunks into a ring of buffers shared with a hasher thread (SHA-256 of each
 * file) and fed to libarchive on the calling thread; libarchive's output is
 * copied into a second ring drained by a writer thread that calls the sink
 * (which, in a bag, hashes the tar stream). So the two SHA-256 passes over
 * the same bytes run on two cores. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "contain/fslayer.h"

#define BUF_SIZE (1u << 20)
#define NHSLOTS 16 /* hasher ring: 16 MiB */
#define NWSLOTS 8  /* writer ring: 8 MiB */
#define MAX_OPEN_DIRS 64
#define MAX_NOTES 1000
#define MAX_EXTENTS 65536	  /* beyond: gaps are merged into data */
#define MAX_JSON_EXTENTS 1024	  /* sparse map extents listed in files.json */
#define MAX_DIR_ENTRIES (8u << 20) /* names read from one directory */
#define XATTR_LIST_BYTES 65536
#define XATTR_VALUE_BYTES 65536
#define NOTE_PATH_BYTES 200

/* zeros for holes; never written */
static unsigned char zeros[BUF_SIZE];

/* ---------------------------------------------------------------------- */
/* a single-producer single-consumer ring of jobs, each with its buffer    */

enum { J_BEGIN = 1, J_END = 2, J_QUIT = 4 };

struct hashres {
	unsigned char md[32];
	bool done;
};

struct job {
	struct hashres *res; /* hasher: the file's result */
	size_t len;	     /* bytes in the slot's buffer */
	uint64_t zeros;	     /* hasher: zero bytes to hash after them */
	unsigned flags;
};

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t cv_put, cv_get;
	unsigned nslots;
	unsigned long head, tail;
	unsigned char **bufs;
	struct job *jobs;
	bool put_waiting, get_waiting, inited;
};

static int ring_init(struct ring *r, unsigned n, struct err *e)
{
	memset(r, 0, sizeof(*r));
	r->nslots = n;
	r->bufs = xcalloc(n, sizeof(*r->bufs));
	r->jobs = xcalloc(n, sizeof(*r->jobs));
	for (unsigned i = 0; i < n; i++)
		r->bufs[i] = xmalloc(BUF_SIZE);
	if (pthread_mutex_init(&r->mu, NULL) != 0 || pthread_cond_init(&r->cv_put, NULL) != 0 ||
	    pthread_cond_init(&r->cv_get, NULL) != 0)
		return err_set(e, ERR_SYS, "init thread ring");
	r->inited = true;
	return 0;
}

static void ring_destroy(struct ring *r)
{
	if (!r->bufs)
		return;
	for (unsigned i = 0; i < r->nslots; i++)
		free(r->bufs[i]);
	free(r->bufs);
	free(r->jobs);
	if (r->inited) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv_put);
		pthread_cond_destroy(&r->cv_get);
	}
	memset(r, 0, sizeof(*r));
}

/* producer: wait for a free slot */
static unsigned ring_acquire(struct ring *r)
{
	pthread_mutex_lock(&r->mu);
	while (r->head - r->tail >= r->nslots) {
		if (r->get_waiting) /* posts are batched: wake it before we sleep */
			pthread_cond_signal(&r->cv_get);
		r->put_waiting = true;
		pthread_cond_wait(&r->cv_put, &r->mu);
		r->put_waiting = false;
	}
	unsigned s = (unsigned)(r->head % r->nslots);
	pthread_mutex_unlock(&r->mu);
	return s;
}

/* producer: hand the acquired slot over. A sleeping consumer is woken only
 * once a few jobs (or a big one) wait, so small files cost no wake-up each. */
static void ring_post(struct ring *r, const struct job *j)
{
	pthread_mutex_lock(&r->mu);
	r->jobs[r->head % r->nslots] = *j;
	r->head++;
	if (r->get_waiting && (r->head - r->tail >= r->nslots / 4 || j->len >= BUF_SIZE / 4 ||
			       j->zeros >= BUF_SIZE / 4 || (j->flags & J_QUIT)))
		pthread_cond_signal(&r->cv_get);
	pthread_mutex_unlock(&r->mu);
}

/* consumer: the next job (its slot stays ours until ring_release) */
static unsigned ring_get(struct ring *r, struct job *j)
{
	pthread_mutex_lock(&r->mu);
	while (r->head == r->tail) {
		r->get_waiting = true;
		pthread_cond_wait(&r->cv_get, &r->mu);
		r->get_waiting = false;
	}
	unsigned s = (unsigned)(r->tail % r->nslots);
	*j = r->jobs[s];
	pthread_mutex_unlock(&r->mu);
	return s;
}

static void ring_release(struct ring *r)
{
	pthread_mutex_lock(&r->mu);
	r->tail++;
	if (r->put_waiting)
		pthread_cond_signal(&r->cv_put);
	pthread_mutex_unlock(&r->mu);
}

/* ---------------------------------------------------------------------- */
/* the walk's state                                                        */

struct frame {
	int fd;
	dev_t dev;
	ino_t ino;
	char *arena;  /* NUL-separated names */
	size_t *offs; /* sorted offsets into arena */
	size_t n, i;
	size_t pathlen;	  /* length of this directory's path ("" for the root) */
	long idx;	  /* its files.json index, -1 for the root */
	const char *name; /* its own name (in the parent's arena), NULL for the root */
	bool dead;	  /* could not be reopened: rest skipped */
};

struct fent {
	json_t *j; /* borrowed from entries */
	struct hashres *h;
	bool full; /* "sha256" (the whole content) or "sha256_data" */
};

struct hlink {
	dev_t dev;
	ino_t ino;
	char *tarpath; /* NULL when the first was not put in the tar */
	long idx;
	struct hashres *h;
	bool full, used;
};

struct fsl {
	enum fslayer_kind kind;
	uint64_t max_file, hole_hash, deep_budget, deep_used;
	const struct sink *sink;
	struct archive *a;
	bool threads;
	struct ring hring, wring;
	pthread_t hth, wth;
	bool hstarted, wstarted;
	EVP_MD_CTX *hctx;
	int wcur;
	size_t wlen;
	int wfailed; /* atomic: the writer thread's sink failed */
	struct err werr;
	uint64_t tar_bytes;
	dev_t root_dev;

	struct frame *fr;
	size_t nfr, capfr;
	struct sbuf path;

	json_t *entries, *notes;
	size_t nnotes, dropped_notes;
	struct fent *fents;
	size_t nfents, capfents;
	struct hashres **hres;
	size_t nhres, caphres;
	struct hlink *hl;
	size_t hln, hlcap;

	uint64_t tar_entries, data_bytes, hashed_bytes;
	uint64_t n_by_type[9];
	unsigned long deep_omitted;
	struct err *e;
};

enum { T_FILE, T_DIR, T_SYMLINK, T_HARDLINK, T_WHITEOUT, T_FIFO, T_SOCKET, T_CHAR, T_BLOCK };
static const char *const type_names[] = {"file", "dir",	   "symlink", "hardlink", "whiteout",
					 "fifo", "socket", "char",    "block"};

/* a path as note text: printable ASCII/UTF-8 kept, other bytes as \xNN, cut */
static void note_path(struct sbuf *b, const char *p, size_t n)
{
	size_t start = b->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (b->len - start >= NOTE_PATH_BYTES) {
			sbuf_adds(b, "...");
			break;
		}
		if (c < 0x20 || c == 0x7f || c >= 0x80 || c == '\'' || c == '\\')
			sbuf_printf(b, "\\x%02x", c);
		else
			sbuf_addc(b, (char)c);
	}
}

static void add_note(struct fsl *w, const char *path, size_t plen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add_note(struct fsl *w, const char *path, size_t plen, const char *fmt, ...)
{
	if (w->nnotes >= MAX_NOTES) {
		w->dropped_notes++;
		return;
	}
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	if (path) {
		sbuf_adds(&b, "'");
		note_path(&b, path, plen);
		sbuf_adds(&b, "': ");
	}
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sbuf_adds(&b, msg);
	json_array_append_new(w->notes, json_string(b.buf));
	w->nnotes++;
}

/* raw bytes under key: the string when valid UTF-8, else base64 and key_base64 */
static void json_set_bytes(json_t *o, const char *key, const char *s, size_t n)
{
	if (utf8_valid(s, n) && memchr(s, 0, n) == NULL) {
		json_object_set_new(o, key, json_stringn(s, n));
		return;
	}
	_cleanup_free_ char *b = base64_encode((const unsigned char *)s, n);
	json_object_set_new(o, key, json_string(b));
	char k[64];
	snprintf(k, sizeof(k), "%s_base64", key);
	json_object_set_new(o, k, json_true());
}

/* RFC 3339 UTC with nanoseconds, as time_rfc3339_from() writes it, without
 * gmtime_r/strftime/snprintf: three per entry add up on 20,000 small files.
 * (Days to civil date: Howard Hinnant's algorithm.) */
static void put_digits(char *p, unsigned long v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

static void json_set_time(json_t *o, const char *key, const struct timespec *ts)
{
	char buf[64];
	long long t = ts->tv_sec;
	long long days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	long long sod = t - days * 86400;
	long long z = days + 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	long long doe = z - era * 146097;
	long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long y = yoe + era * 400;
	long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long mp = (5 * doy + 2) / 153;
	long long d = doy - (153 * mp + 2) / 5 + 1;
	long long m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999 || ts->tv_nsec < 0 || ts->tv_nsec > 999999999) {
		time_rfc3339_from(ts, buf, sizeof(buf));
	} else {
		memcpy(buf, "0000-00-00T00:00:00.000000000Z", 31);
		put_digits(buf, (unsigned long)y, 4);
		put_digits(buf + 5, (unsigned long)m, 2);
		put_digits(buf + 8, (unsigned long)d, 2);
		put_digits(buf + 11, (unsigned long)(sod / 3600), 2);
		put_digits(buf + 14, (unsigned long)(sod / 60 % 60), 2);
		put_digits(buf + 17, (unsigned long)(sod % 60), 2);
		put_digits(buf + 20, (unsigned long)ts->tv_nsec, 9);
	}
	json_object_set_new(o, key, json_string_nocheck(buf));
}

static struct hashres *new_hashres(struct fsl *w)
{
	xgrow(&w->hres, &w->caphres, w->nhres + 1, sizeof(*w->hres));
	struct hashres *h = xcalloc(1, sizeof(*h));
	w->hres[w->nhres++] = h;
	return h;
}

static void add_fent(struct fsl *w, json_t *j, struct hashres *h, bool full)
{
	xgrow(&w->fents, &w->capfents, w->nfents + 1, sizeof(*w->fents));
	w->fents[w->nfents++] = (struct fent){j, h, full};
}

/* ---------------------------------------------------------------------- */
/* hard links: (dev, ino) -> first path                                    */

static size_t hl_hash(dev_t d, ino_t i)
{
	uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ull ^ (uint64_t)d * 0xC2B2AE3D27D4EB4Full;
	return (size_t)(x ^ (x >> 29));
}

static struct hlink *hl_find(struct fsl *w, dev_t d, ino_t i)
{
	if (!w->hlcap)
		return NULL;
	for (size_t k = hl_hash(d, i) & (w->hlcap - 1);; k = (k + 1) & (w->hlcap - 1)) {
		struct hlink *h = &w->hl[k];
		if (!h->used)
			return NULL;
		if (h->dev == d && h->ino == i)
			return h;
	}
}

static struct hlink *hl_add(struct fsl *w, dev_t d, ino_t i)
{
	if ((w->hln + 1) * 2 > w->hlcap) {
		size_t ncap = w->hlcap ? w->hlcap * 2 : 256;
		struct hlink *old = w->hl;
		size_t ocap = w->hlcap;
		w->hl = xcalloc(ncap, sizeof(*w->hl));
		w->hlcap = ncap;
		for (size_t k = 0; k < ocap; k++) {
			if (!old[k].used)
				continue;
			size_t j = hl_hash(old[k].dev, old[k].ino) & (ncap - 1);
			while (w->hl[j].used)
				j = (j + 1) & (ncap - 1);
			w->hl[j] = old[k];
		}
		free(old);
	}
	size_t k = hl_hash(d, i) & (w->hlcap - 1);
	while (w->hl[k].used)
		k = (k + 1) & (w->hlcap - 1);
	w->hl[k] = (struct hlink){.dev = d, .ino = i, .used = true, .idx = -1};
	w->hln++;
	return &w->hl[k];
}

/* ---------------------------------------------------------------------- */
/* hasher and writer threads                                               */

static void hash_job(EVP_MD_CTX *ctx, const unsigned char *buf, const struct job *j)
{
	if (j->flags & J_BEGIN)
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	if (j->len)
		EVP_DigestUpdate(ctx, buf, j->len);
	for (uint64_t z = j->zeros; z;) {
		size_t k = z > BUF_SIZE ? BUF_SIZE : (size_t)z;
		EVP_DigestUpdate(ctx, zeros, k);
		z -= k;
	}
	if (j->flags & J_END) {
		unsigned n = 0;
		EVP_DigestFinal_ex(ctx, j->res->md, &n);
		j->res->done = true;
	}
}

static void *hasher_main(void *arg)
{
	struct fsl *w = arg;
	for (;;) {
		struct job j;
		unsigned s = ring_get(&w->hring, &j);
		if (j.flags & J_QUIT) {
			ring_release(&w->hring);
			return NULL;
		}
		hash_job(w->hctx, w->hring.bufs[s], &j);
		ring_release(&w->hring);
	}
}

static void *writer_main(void *arg)
{
	struct fsl *w = arg;
	for (;;) {
		struct job j;
		unsigned s = ring_get(&w->wring, &j);
		if (j.flags & J_QUIT) {
			ring_release(&w->wring);
			return NULL;
		}
		if (!__atomic_load_n(&w->wfailed, __ATOMIC_ACQUIRE) &&
		    sink_write(w->sink, w->wring.bufs[s], j.len, &w->werr) < 0)
			__atomic_store_n(&w->wfailed, 1, __ATOMIC_RELEASE);
		ring_release(&w->wring);
	}
}

/* main thread: a hasher buffer to read into */
static unsigned char *hbuf_get(struct fsl *w, unsigned *slot)
{
	*slot = w->threads ? ring_acquire(&w->hring) : 0;
	return w->hring.bufs[*slot];
}

static void hash_post(struct fsl *w, unsigned slot, const struct job *j)
{
	w->hashed_bytes += j->len + j->zeros;
	if (w->threads)
		ring_post(&w->hring, j);
	else
		hash_job(w->hctx, w->hring.bufs[slot], j);
}

static la_ssize_t tar_write_cb(struct archive *a, void *ctx, const void *buf, size_t n)
{
	struct fsl *w = ctx;
	if (__atomic_load_n(&w->wfailed, __ATOMIC_ACQUIRE)) {
		archive_set_error(a, EIO, "sink failed");
		return -1;
	}
	if (!w->threads) {
		if (sink_write(w->sink, buf, n, &w->werr) < 0) {
			w->wfailed = 1;
			archive_set_error(a, EIO, "sink failed");
			return -1;
		}
		w->tar_bytes += n;
		return (la_ssize_t)n;
	}
	const unsigned char *p = buf;
	size_t left = n;
	while (left) {
		if (w->wcur < 0) {
			w->wcur = (int)ring_acquire(&w->wring);
			w->wlen = 0;
		}
		size_t k = BUF_SIZE - w->wlen;
		if (k > left)
			k = left;
		memcpy(w->wring.bufs[w->wcur] + w->wlen, p, k);
		w->wlen += k;
		p += k;
		left -= k;
		if (w->wlen == BUF_SIZE) {
			struct job j = {.len = w->wlen};
			ring_post(&w->wring, &j);
			w->wcur = -1;
		}
	}
	w->tar_bytes += n;
	return (la_ssize_t)n;
}

static int threads_start(struct fsl *w)
{
	if (!w->threads)
		return 0;
	if (pthread_create(&w->hth, NULL, hasher_main, w) != 0) {
		w->threads = false;
		return 0;
	}
	w->hstarted = true;
	if (pthread_create(&w->wth, NULL, writer_main, w) != 0) {
		struct job q = {.flags = J_QUIT};
		ring_acquire(&w->hring);
		ring_post(&w->hring, &q);
		pthread_join(w->hth, NULL);
		w->hstarted = false;
		w->threads = false;
		return 0;
	}
	w->wstarted = true;
	return 0;
}

/* flush the writer's partial buffer and stop both threads */
static void threads_stop(struct fsl *w)
{
	if (w->wstarted) {
		if (w->wcur >= 0 && w->wlen) {
			struct job j = {.len = w->wlen};
			ring_post(&w->wring, &j);
			w->wcur = -1;
		} else if (w->wcur >= 0) {
			/* acquired but empty: post it as an empty job */
			struct job j = {.len = 0};
			ring_post(&w->wring, &j);
			w->wcur = -1;
		}
		struct job q = {.flags = J_QUIT};
		ring_acquire(&w->wring);
		ring_post(&w->wring, &q);
		pthread_join(w->wth, NULL);
		w->wstarted = false;
	}
	if (w->hstarted) {
		struct job q = {.flags = J_QUIT};
		ring_acquire(&w->hring);
		ring_post(&w->hring, &q);
		pthread_join(w->hth, NULL);
		w->hstarted = false;
	}
}

/* ---------------------------------------------------------------------- */
/* tar entries                                                             */

static int tar_fatal(struct fsl *w)
{
	if (__atomic_load_n(&w->wfailed, __ATOMIC_ACQUIRE)) {
		*w->e = w->werr; /* the writer stops touching it once wfailed is set */
		return err_wrap(w->e, "write layer tar");
	}
	return err_set(w->e, ERR_SYS, "write layer tar: %s", archive_error_string(w->a));
}

/* 0 written, 1 refused for this entry (noted), -1 fatal */
static int tar_header(struct fsl *w, struct archive_entry *ae, const char *path, size_t plen)
{
	int r = archive_write_header(w->a, ae);
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN) {
		w->tar_entries++;
		return 0;
	}
	if (r == ARCHIVE_FAILED || r == ARCHIVE_RETRY) {
		add_note(w, path, plen, "left out of the tar: %s", archive_error_string(w->a));
		return 1;
	}
	return tar_fatal(w);
}

static int tar_finish(struct fsl *w)
{
	int r = archive_write_finish_entry(w->a);
	if (r == ARCHIVE_FATAL)
		return tar_fatal(w);
	return 0;
}

static void ae_meta(struct archive_entry *ae, const char *tarpath, const struct stat *st)
{
	archive_entry_copy_pathname(ae, tarpath);
	archive_entry_set_mode(ae, st->st_mode);
	archive_entry_set_uid(ae, st->st_uid);
	archive_entry_set_gid(ae, st->st_gid);
	archive_entry_set_mtime(ae, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	archive_entry_set_atime(ae, st->st_atim.tv_sec, st->st_atim.tv_nsec);
	archive_entry_set_ctime(ae, st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

/* an empty regular file entry (whiteout, opaque marker) */
static int tar_marker(struct fsl *w, const char *tarpath, const struct stat *st)
{
	struct archive_entry *ae = archive_entry_new();
	struct stat m = *st;
	m.st_mode = S_IFREG | (st->st_mode & 0666);
	ae_meta(ae, tarpath, &m);
	archive_entry_set_size(ae, 0);
	int r = tar_header(w, ae, tarpath, strlen(tarpath));
	archive_entry_free(ae);
	if (r < 0)
		return -1;
	return r == 0 ? tar_finish(w) : 0;
}

static int tar_write_all(struct fsl *w, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		la_ssize_t r = archive_write_data(w->a, p, n);
		if (r < 0)
			return tar_fatal(w);
		if (r == 0)
			return 0; /* the entry is full: libarchive drops the rest */
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* xattrs                                                                  */

static bool overlay_xattr(const char *name)
{
	return str_has_prefix(name, "trusted.overlay.") || str_has_prefix(name, "user.overlay.");
}

/* Read fd's xattrs: into ae (may be NULL) and into ent's "xattrs". Sets
 * *opaque for an overlay opaque directory, *metacopy for a metacopy file. */
static void read_xattrs(struct fsl *w, int fd, struct archive_entry *ae, json_t *ent,
			bool *opaque, bool *metacopy)
{
	char list[XATTR_LIST_BYTES];
	ssize_t n = flistxattr(fd, list, sizeof(list));
	if (n <= 0) {
		if (n < 0 && errno == ERANGE)
			add_note(w, w->path.buf, w->path.len, "xattr list larger than %d bytes: not read",
				 XATTR_LIST_BYTES);
		return;
	}
	_cleanup_free_ char *val = xmalloc(XATTR_VALUE_BYTES);
	json_t *xj = NULL;
	for (ssize_t off = 0; off < n;) {
		const char *name = list + off;
		size_t nl = strnlen(name, (size_t)(n - off));
		off += (ssize_t)nl + 1;
		if (nl == 0 || (ssize_t)off > n)
			continue;
		ssize_t vl = fgetxattr(fd, name, val, XATTR_VALUE_BYTES);
		if (vl < 0) {
			if (errno == ERANGE)
				add_note(w, w->path.buf, w->path.len,
					 "xattr value larger than %d bytes: not read", XATTR_VALUE_BYTES);
			continue;
		}
		if ((!strcmp(name, "trusted.overlay.opaque") || !strcmp(name, "user.overlay.opaque")) &&
		    vl == 1 && val[0] == 'y' && opaque)
			*opaque = true;
		if ((!strcmp(name, "trusted.overlay.metacopy") || !strcmp(name, "user.overlay.metacopy")) &&
		    metacopy)
			*metacopy = true;
		if (ae && !(w->kind == FSLAYER_UPPER && overlay_xattr(name)))
			archive_entry_xattr_add_entry(ae, name, val, (size_t)vl);
		if (utf8_valid(name, nl)) {
			if (!xj)
				xj = json_object();
			_cleanup_free_ char *b = base64_encode((const unsigned char *)val, (size_t)vl);
			json_object_set_new(xj, name, json_string(b));
		}
	}
	if (xj)
		json_object_set_new(ent, "xattrs", xj);
}

/* ---------------------------------------------------------------------- */
/* regular file content                                                    */

struct ext {
	off_t off, len;
};

/* Map data extents of a file that may have holes. Returns the number of
 * extents (*ext allocated) or -1 when the file cannot be mapped (treat as
 * one data extent). Past MAX_EXTENTS, gaps are merged into data. */
static long map_extents(int fd, off_t size, struct ext **out, uint64_t *data)
{
	struct ext *v = NULL;
	size_t n = 0, cap = 0;
	off_t pos = 0;
	*data = 0;
	while (pos < size) {
		off_t d = lseek(fd, pos, SEEK_DATA);
		if (d < 0) {
			if (errno == ENXIO)
				break;
			free(v);
			return -1;
		}
		if (d >= size)
			break;
		off_t h = lseek(fd, d, SEEK_HOLE);
		if (h < 0) {
			free(v);
			return -1;
		}
		if (h > size)
			h = size;
		if (h <= d) {
			free(v);
			return -1;
		}
		if (n >= MAX_EXTENTS) {
			v[n - 1].len = h - v[n - 1].off; /* merge the gap in */
		} else {
			xgrow(&v, &cap, n + 1, sizeof(*v));
			v[n++] = (struct ext){d, h - d};
		}
		pos = h;
	}
	for (size_t i = 0; i < n; i++)
		*data += (uint64_t)v[i].len;
	*out = v;
	return (long)n;
}

/* Stream [off, off+len) of fd to the hasher and (to_tar) the archive.
 * last: the final chunk ends the hash. *short_read set if the file gave
 * less (the rest is zeros, so the tar stays consistent). */
static int stream_data(struct fsl *w, int fd, off_t off, uint64_t len, bool to_tar,
		       struct hashres *h, bool *first, bool last, bool *short_read)
{
	do {
		unsigned slot;
		unsigned char *buf = hbuf_get(w, &slot);
		size_t want = len > BUF_SIZE ? BUF_SIZE : (size_t)len;
		size_t got = 0;
		while (got < want && !*short_read) {
			ssize_t r = pread(fd, buf + got, want - got, off + (off_t)got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				*short_read = true;
				break;
			}
			got += (size_t)r;
		}
		if (got < want)
			memset(buf + got, 0, want - got);
		len -= want;
		off += (off_t)want;
		struct job j = {.res = h, .len = want};
		if (*first)
			j.flags |= J_BEGIN;
		if (last && len == 0)
			j.flags |= J_END;
		*first = false;
		hash_post(w, slot, &j);
		if (to_tar) {
			if (tar_write_all(w, buf, want) < 0)
				return -1;
			w->data_bytes += want;
		}
	} while (len);
	return 0;
}

/* a hole: skipped by the pax sparse writer; hashed as zeros when hash_zeros */
static int stream_hole(struct fsl *w, uint64_t len, bool to_tar, bool hash_zeros,
		       struct hashres *h, bool *first, bool last)
{
	if (hash_zeros || last || *first) {
		unsigned slot;
		hbuf_get(w, &slot);
		struct job j = {.res = h, .zeros = hash_zeros ? len : 0};
		if (*first)
			j.flags |= J_BEGIN;
		if (last)
			j.flags |= J_END;
		*first = false;
		hash_post(w, slot, &j);
	}
	if (to_tar) {
		while (len) {
			size_t k = len > BUF_SIZE ? BUF_SIZE : (size_t)len;
			la_ssize_t r = archive_write_data(w->a, zeros, k);
			if (r < 0)
				return tar_fatal(w);
			if (r == 0)
				break;
			len -= (uint64_t)r;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* entries                                                                 */

/* a files.json entry for the current path (w->path), deep entries by parent */
static json_t *new_entry(struct fsl *w, const struct frame *f, const char *name, int type,
			 const struct stat *st, long *idx)
{
	json_t *o = json_object();
	if (w->path.len > FSLAYER_DEEP_PATH) {
		json_object_set_new(o, "parent", json_integer(f->idx));
		json_set_bytes(o, "name", name, strlen(name));
	} else {
		json_set_bytes(o, "path", w->path.buf, w->path.len);
	}
	json_object_set_new(o, "type", json_string(type_names[type]));
	char mode[16];
	snprintf(mode, sizeof(mode), "%04o", (unsigned)(st->st_mode & 07777));
	json_object_set_new(o, "mode", json_string(mode));
	json_object_set_new(o, "uid", json_integer(st->st_uid));
	json_object_set_new(o, "gid", json_integer(st->st_gid));
	json_object_set_new(o, "size", json_integer((json_int_t)st->st_size));
	json_set_time(o, "mtime", &st->st_mtim);
	json_set_time(o, "ctime", &st->st_ctim);
	json_set_time(o, "atime", &st->st_atim);
	json_object_set_new(o, "inode", json_integer((json_int_t)st->st_ino));
	json_object_set_new(o, "nlink", json_integer((json_int_t)st->st_nlink));
	*idx = (long)json_array_size(w->entries);
	json_array_append_new(w->entries, o);
	w->n_by_type[type]++;
	return o;
}

/* may this (deep) entry go into the tar? charges the deep budget */
static bool deep_ok(struct fsl *w, size_t tarlen)
{
	if (w->path.len <= FSLAYER_DEEP_PATH)
		return true;
	if (w->deep_used + tarlen > w->deep_budget) {
		if (w->deep_omitted++ == 0)
			add_note(w, NULL, 0,
				 "deep paths over the %llu byte budget: later deep entries are left out "
				 "of the tar (listed in files.json)",
				 (unsigned long long)w->deep_budget);
		return false;
	}
	w->deep_used += tarlen;
	return true;
}

static int do_regular(struct fsl *w, const struct frame *f, const char *name, struct stat *st)
{
	int fd = openat(f->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(f->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	_cleanup_close_ int fdc = fd;
	long idx;
	if (fd < 0) {
		json_t *ent = new_entry(w, f, name, T_FILE, st, &idx);
		json_object_set_new(ent, "in_tar", json_false());
		json_object_set_new(ent, "note", json_string("could not be opened"));
		add_note(w, w->path.buf, w->path.len, "open: %s", strerror(errno));
		return 0;
	}
	struct stat st2;
	if (fstat(fd, &st2) < 0 || !S_ISREG(st2.st_mode) || st2.st_dev != st->st_dev ||
	    st2.st_ino != st->st_ino) {
		json_t *ent = new_entry(w, f, name, T_FILE, st, &idx);
		json_object_set_new(ent, "in_tar", json_false());
		json_object_set_new(ent, "note", json_string("replaced while read"));
		add_note(w, w->path.buf, w->path.len, "replaced between stat and open: skipped");
		return 0;
	}
	*st = st2;

	/* a hard link to a file seen before */
	struct hlink *hl = st->st_nlink > 1 ? hl_find(w, st->st_dev, st->st_ino) : NULL;
	/* a first link left out of the tar (deep budget, header refused): this
	 * one carries the content, unless it is over max_file_bytes anyway */
	struct hlink *again = NULL;
	if (hl && !hl->tarpath && (uint64_t)st->st_blocks * 512 <= w->max_file &&
	    (uint64_t)st->st_size <= w->max_file) {
		again = hl;
		hl = NULL;
	}
	if (hl) {
		json_t *ent = new_entry(w, f, name, T_HARDLINK, st, &idx);
		json_t *first = json_array_get(w->entries, (size_t)hl->idx);
		json_t *fp = json_object_get(first, "path");
		if (fp)
			json_object_set(ent, "hardlink_to", fp);
		if (json_object_get(first, "path_base64"))
			json_object_set_new(ent, "hardlink_to_base64", json_true());
		json_object_set_new(ent, "hardlink_index", json_integer(hl->idx));
		add_fent(w, ent, hl->h, hl->full);
		bool in_tar = hl->tarpath && deep_ok(w, w->path.len);
		if (in_tar) {
			struct archive_entry *ae = archive_entry_new();
			ae_meta(ae, w->path.buf, st);
			archive_entry_set_size(ae, 0);
			archive_entry_copy_hardlink(ae, hl->tarpath);
			int r = tar_header(w, ae, w->path.buf, w->path.len);
			archive_entry_free(ae);
			if (r < 0 || (r == 0 && tar_finish(w) < 0))
				return -1;
			in_tar = r == 0;
		}
		json_object_set_new(ent, "in_tar", json_boolean(in_tar));
		return 0;
	}

	json_t *ent = new_entry(w, f, name, T_FILE, st, &idx);
	struct archive_entry *ae = archive_entry_new();
	bool metacopy = false;
	read_xattrs(w, fd, ae, ent, NULL, &metacopy);
	if (metacopy && w->kind == FSLAYER_UPPER) {
		json_object_set_new(ent, "metacopy", json_true());
		add_note(w, w->path.buf, w->path.len,
			 "overlay metacopy: the upper file holds metadata only, its data is in a lower layer");
	}

	/* the data map */
	_cleanup_free_ struct ext *ext = NULL;
	long next = 0;
	uint64_t data = (uint64_t)st->st_size;
	bool sparse = false;
	if (st->st_size > 0 && (uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size) {
		next = map_extents(fd, st->st_size, &ext, &data);
		if (next < 0) {
			data = (uint64_t)st->st_size;
		} else if (!(next == 1 && ext[0].off == 0 && ext[0].len == st->st_size)) {
			sparse = true;
		}
	}
	if (!sparse) {
		free(ext);
		ext = xmalloc(sizeof(*ext));
		ext[0] = (struct ext){0, st->st_size};
		next = st->st_size > 0 ? 1 : 0;
		data = (uint64_t)st->st_size;
	}
	uint64_t holes = (uint64_t)st->st_size - data;
	bool hash_zeros = holes <= w->hole_hash;
	if (sparse) {
		json_t *sj = json_object();
		json_object_set_new(sj, "data_bytes", json_integer((json_int_t)data));
		json_object_set_new(sj, "extents", json_integer(next));
		json_t *map = json_array();
		for (long i = 0; i < next && i < MAX_JSON_EXTENTS; i++) {
			json_t *p = json_array();
			json_array_append_new(p, json_integer((json_int_t)ext[i].off));
			json_array_append_new(p, json_integer((json_int_t)ext[i].len));
			json_array_append_new(map, p);
		}
		json_object_set_new(sj, "map", map);
		if (next > MAX_JSON_EXTENTS)
			json_object_set_new(sj, "map_truncated", json_true());
		json_object_set_new(ent, "sparse", sj);
		if (!hash_zeros)
			add_note(w, w->path.buf, w->path.len,
				 "sparse with %llu hole bytes: sha256_data covers its data extents only",
				 (unsigned long long)holes);
	}

	bool to_tar = data <= w->max_file && deep_ok(w, w->path.len);
	if (data > w->max_file) {
		json_object_set_new(ent, "note", json_string("over max_file_bytes: content not in the tar"));
		add_note(w, w->path.buf, w->path.len,
			 "%llu bytes over max_file_bytes (%llu): hashed, content left out of the tar",
			 (unsigned long long)data, (unsigned long long)w->max_file);
	}
	if (to_tar) {
		ae_meta(ae, w->path.buf, st);
		archive_entry_set_size(ae, st->st_size);
		if (sparse) {
			for (long i = 0; i < next; i++)
				archive_entry_sparse_add_entry(ae, ext[i].off, ext[i].len);
			if (next == 0)
				archive_entry_sparse_add_entry(ae, st->st_size, 0);
		}
		int r = tar_header(w, ae, w->path.buf, w->path.len);
		if (r < 0) {
			archive_entry_free(ae);
			return -1;
		}
		to_tar = r == 0;
	}
	archive_entry_free(ae);
	json_object_set_new(ent, "in_tar", json_boolean(to_tar));

	struct hashres *h = new_hashres(w);
	add_fent(w, ent, h, hash_zeros);
	if (again) {
		if (to_tar)
			again->tarpath = xstrdup(w->path.buf);
	} else if (st->st_nlink > 1) {
		struct hlink *n = hl_add(w, st->st_dev, st->st_ino);
		n->tarpath = to_tar ? xstrdup(w->path.buf) : NULL;
		n->idx = idx;
		n->h = h;
		n->full = hash_zeros;
	}

	if (data > BUF_SIZE)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	bool first = true, short_read = false;
	off_t pos = 0;
	for (long i = 0; i < next; i++) {
		bool last_ext = i == next - 1 && ext[i].off + ext[i].len == st->st_size;
		if (ext[i].off > pos &&
		    stream_hole(w, (uint64_t)(ext[i].off - pos), to_tar, hash_zeros, h, &first, false) < 0)
			return -1;
		if (stream_data(w, fd, ext[i].off, (uint64_t)ext[i].len, to_tar, h, &first, last_ext,
				&short_read) < 0)
			return -1;
		pos = ext[i].off + ext[i].len;
	}
	if (pos < st->st_size || first) {
		if (stream_hole(w, (uint64_t)(st->st_size - pos), to_tar, hash_zeros, h, &first, true) < 0)
			return -1;
	}
	if (short_read) {
		json_object_set_new(ent, "note", json_string("changed while read: the rest is zeros"));
		add_note(w, w->path.buf, w->path.len, "shrank or failed while read: the rest is zeros");
	}
	if (to_tar && tar_finish(w) < 0)
		return -1;
	return 0;
}

/* tar path of a whiteout or marker: "DIR/.wh.NAME" */
static char *wh_path(const struct fsl *w, const struct frame *f, const char *name)
{
	struct sbuf b = SBUF_INIT;
	sbuf_add(&b, w->path.buf, f->pathlen);
	if (f->pathlen)
		sbuf_addc(&b, '/');
	sbuf_adds(&b, ".wh.");
	sbuf_adds(&b, name);
	return sbuf_steal(&b);
}

static int do_special(struct fsl *w, const struct frame *f, const char *name, const struct stat *st)
{
	long idx;
	int type;
	bool whiteout = false;
	if (S_ISLNK(st->st_mode))
		type = T_SYMLINK;
	else if (S_ISFIFO(st->st_mode))
		type = T_FIFO;
	else if (S_ISSOCK(st->st_mode))
		type = T_SOCKET;
	else if (S_ISBLK(st->st_mode))
		type = T_BLOCK;
	else if (w->kind == FSLAYER_UPPER && st->st_rdev == makedev(0, 0)) {
		type = T_WHITEOUT;
		whiteout = true;
	} else
		type = T_CHAR;

	/* hard links of non-regular files (never of whiteouts: overlayfs shares one inode) */
	struct hlink *hl = NULL;
	if (!whiteout && type != T_SOCKET && st->st_nlink > 1)
		hl = hl_find(w, st->st_dev, st->st_ino);

	json_t *ent = new_entry(w, f, name, hl ? T_HARDLINK : type, st, &idx);
	if (type == T_CHAR || type == T_BLOCK) {
		json_object_set_new(ent, "rdev_major", json_integer(major(st->st_rdev)));
		json_object_set_new(ent, "rdev_minor", json_integer(minor(st->st_rdev)));
	}
	char target[PATH_MAX + 1];
	ssize_t tl = -1;
	if (type == T_SYMLINK) {
		tl = readlinkat(f->fd, name, target, sizeof(target) - 1);
		if (tl < 0) {
			add_note(w, w->path.buf, w->path.len, "readlink: %s", strerror(errno));
			json_object_set_new(ent, "in_tar", json_false());
			return 0;
		}
		target[tl] = '\0';
		json_set_bytes(ent, "link_target", target, (size_t)tl);
	}
	if (type == T_SOCKET) {
		json_object_set_new(ent, "in_tar", json_false());
		json_object_set_new(ent, "note", json_string("socket: a tar cannot hold it"));
		add_note(w, w->path.buf, w->path.len, "socket: listed in files.json only");
		return 0;
	}
	_cleanup_free_ char *tp = NULL;
	if (whiteout) {
		tp = wh_path(w, f, name);
		json_object_set_new(ent, "whiteout", json_true());
		if (w->path.len <= FSLAYER_DEEP_PATH)
			json_set_bytes(ent, "tar_path", tp, strlen(tp));
	}
	const char *tarpath = tp ? tp : w->path.buf;
	bool in_tar = deep_ok(w, strlen(tarpath));
	if (in_tar && whiteout) {
		if (tar_marker(w, tarpath, st) < 0)
			return -1;
	} else if (in_tar) {
		struct archive_entry *ae = archive_entry_new();
		ae_meta(ae, tarpath, st);
		archive_entry_set_size(ae, 0);
		if (hl && hl->tarpath) {
			archive_entry_copy_hardlink(ae, hl->tarpath);
		} else if (type == T_SYMLINK) {
			archive_entry_copy_symlink(ae, target);
		} else if (type == T_CHAR || type == T_BLOCK) {
			archive_entry_set_rdev(ae, st->st_rdev);
		}
		int r = tar_header(w, ae, tarpath, strlen(tarpath));
		archive_entry_free(ae);
		if (r < 0 || (r == 0 && tar_finish(w) < 0))
			return -1;
		in_tar = r == 0;
	}
	json_object_set_new(ent, "in_tar", json_boolean(in_tar));
	if (hl) {
		json_object_set_new(ent, "hardlink_index", json_integer(hl->idx));
	} else if (!whiteout && st->st_nlink > 1) {
		struct hlink *n = hl_add(w, st->st_dev, st->st_ino);
		n->tarpath = in_tar ? xstrdup(tarpath) : NULL;
		n->idx = idx;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* directories                                                             */

static int cmp_names(const void *a, const void *b, void *arena)
{
	return strcmp((const char *)arena + *(const size_t *)a, (const char *)arena + *(const size_t *)b);
}

/* read and sort the names of dirfd into fr */
static int read_names(struct fsl *w, int dirfd, struct frame *fr)
{
	int d = dup(dirfd);
	if (d < 0)
		return -1;
	DIR *dir = fdopendir(d);
	if (!dir) {
		close(d);
		return -1;
	}
	struct sbuf arena = SBUF_INIT;
	size_t *offs = NULL, n = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(dir)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n >= MAX_DIR_ENTRIES) {
			add_note(w, w->path.buf, w->path.len, "more than %u entries: the rest skipped",
				 MAX_DIR_ENTRIES);
			break;
		}
		xgrow(&offs, &cap, n + 1, sizeof(*offs));
		offs[n++] = arena.len;
		sbuf_add(&arena, de->d_name, strlen(de->d_name) + 1);
	}
	closedir(dir);
	fr->arena = sbuf_steal(&arena);
	if (n > 1)
		qsort_r(offs, n, sizeof(*offs), cmp_names, fr->arena);
	fr->offs = offs;
	fr->n = n;
	fr->i = 0;
	return 0;
}

static void frame_free(struct frame *fr)
{
	if (fr->fd >= 0)
		close(fr->fd);
	free(fr->arena);
	free(fr->offs);
	fr->fd = -1;
	fr->arena = NULL;
	fr->offs = NULL;
}

static bool same_ino(int fd, dev_t dev, ino_t ino)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev == dev && st.st_ino == ino;
}

/* Reopen frame k (closed to bound the open fds): ".." of its child, else by
 * names from the nearest open ancestor; every step checked by dev/ino. */
static int frame_reopen(struct fsl *w, size_t k, int childfd)
{
	struct frame *p = &w->fr[k];
	if (childfd >= 0) {
		int fd = openat(childfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && same_ino(fd, p->dev, p->ino)) {
			p->fd = fd;
			return 0;
		}
		if (fd >= 0)
			close(fd);
	}
	size_t a = k;
	while (a > 0 && w->fr[a].fd < 0)
		a--;
	int cur = w->fr[a].fd;
	for (size_t i = a + 1; i <= k; i++) {
		int fd = openat(cur, w->fr[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cur != w->fr[a].fd)
			close(cur);
		if (fd < 0)
			return -1;
		if (!same_ino(fd, w->fr[i].dev, w->fr[i].ino)) {
			close(fd);
			return -1;
		}
		cur = fd;
	}
	p->fd = cur;
	return 0;
}

static int do_dir(struct fsl *w, size_t fi, const char *name, const struct stat *st0)
{
	struct frame *f = &w->fr[fi];
	long idx;
	/* O_NOATIME: reading the directory must not change the evidence */
	int fd = openat(f->fd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(f->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st = *st0;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_ino != st0->st_ino ||
	    st.st_dev != st0->st_dev) {
		int errnum = errno;
		if (fd >= 0)
			close(fd);
		json_t *ent = new_entry(w, f, name, T_DIR, st0, &idx);
		json_object_set_new(ent, "in_tar", json_false());
		json_object_set_new(ent, "note", json_string("could not be opened"));
		add_note(w, w->path.buf, w->path.len, "open directory: %s",
			 fd < 0 ? strerror(errnum) : "replaced while read");
		return 0;
	}
	json_t *ent = new_entry(w, f, name, T_DIR, &st, &idx);
	struct archive_entry *ae = archive_entry_new();
	bool opaque = false;
	read_xattrs(w, fd, ae, ent, &opaque, NULL);
	opaque = opaque && w->kind == FSLAYER_UPPER;
	if (opaque)
		json_object_set_new(ent, "opaque", json_true());

	bool mount = st.st_dev != w->root_dev;
	struct frame nf = {.fd = fd, .dev = st.st_dev, .ino = st.st_ino, .idx = idx, .name = name};
	if (mount) {
		json_object_set_new(ent, "mount_point", json_true());
		json_object_set_new(ent, "note", json_string("another filesystem mounted here: not walked"));
		add_note(w, w->path.buf, w->path.len, "mount point (another st_dev): contents skipped");
	} else if (read_names(w, fd, &nf) < 0) {
		add_note(w, w->path.buf, w->path.len, "read directory: %s", strerror(errno));
	}

	/* deep directories are implied by their children */
	bool want = w->path.len <= FSLAYER_DEEP_PATH || nf.n == 0 || opaque;
	bool in_tar = false;
	if (want && deep_ok(w, w->path.len + 1)) {
		sbuf_addc(&w->path, '/');
		ae_meta(ae, w->path.buf, &st);
		int r = tar_header(w, ae, w->path.buf, w->path.len);
		if (r == 0 && tar_finish(w) < 0)
			r = -1;
		if (r == 0 && opaque) {
			_cleanup_sbuf_ struct sbuf m = SBUF_INIT;
			sbuf_add(&m, w->path.buf, w->path.len);
			sbuf_adds(&m, ".wh..wh..opq");
			if (tar_marker(w, m.buf, &st) < 0)
				r = -1;
		}
		w->path.len--;
		w->path.buf[w->path.len] = '\0';
		if (r < 0) {
			archive_entry_free(ae);
			frame_free(&nf);
			return -1;
		}
		in_tar = r == 0;
	}
	archive_entry_free(ae);
	json_object_set_new(ent, "in_tar", json_boolean(in_tar));
	if (mount) {
		frame_free(&nf);
		return 0;
	}

	/* push; keep at most MAX_OPEN_DIRS directory fds open */
	nf.pathlen = w->path.len;
	xgrow(&w->fr, &w->capfr, w->nfr + 1, sizeof(*w->fr));
	w->fr[w->nfr++] = nf;
	if (w->nfr > MAX_OPEN_DIRS + 1) {
		struct frame *old = &w->fr[w->nfr - 1 - MAX_OPEN_DIRS];
		if (old->fd >= 0) {
			close(old->fd);
			old->fd = -1;
		}
	}
	return 0;
}

static int walk(struct fsl *w, int rootfd)
{
	struct stat st;
	if (fstat(rootfd, &st) < 0) {
		int errnum = errno;
		close(rootfd);
		return err_sys(w->e, errnum, "stat root");
	}
	w->root_dev = st.st_dev;
	struct frame root = {.fd = rootfd, .dev = st.st_dev, .ino = st.st_ino, .idx = -1};
	if (read_names(w, rootfd, &root) < 0) {
		int errnum = errno;
		frame_free(&root);
		return err_sys(w->e, errnum, "read root directory");
	}
	xgrow(&w->fr, &w->capfr, 1, sizeof(*w->fr));
	w->fr[0] = root;
	w->nfr = 1;

	while (w->nfr) {
		size_t fi = w->nfr - 1;
		struct frame *f = &w->fr[fi];
		if (f->dead || f->i >= f->n) {
			/* pop, making sure the parent is open */
			if (fi > 0 && w->fr[fi - 1].fd < 0 && frame_reopen(w, fi - 1, f->fd) < 0) {
				add_note(w, w->path.buf, w->fr[fi - 1].pathlen,
					 "directory changed during the walk: the rest of it skipped");
				w->fr[fi - 1].dead = true;
			}
			frame_free(f);
			w->nfr--;
			if (w->nfr) {
				w->path.len = w->fr[w->nfr - 1].pathlen;
				w->path.buf[w->path.len] = '\0';
			}
			continue;
		}
		const char *name = f->arena + f->offs[f->i++];
		w->path.len = f->pathlen;
		w->path.buf[w->path.len] = '\0';
		if (f->pathlen)
			sbuf_addc(&w->path, '/');
		sbuf_adds(&w->path, name);

		if (fstatat(f->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			add_note(w, w->path.buf, w->path.len, "stat: %s", strerror(errno));
			continue;
		}
		if (w->kind == FSLAYER_UPPER && str_has_prefix(name, ".wh."))
			add_note(w, w->path.buf, w->path.len,
				 "name starts with .wh.: reads as a whiteout in an OCI layer");
		int r;
		if (S_ISDIR(st.st_mode))
			r = do_dir(w, fi, name, &st);
		else if (S_ISREG(st.st_mode))
			r = do_regular(w, f, name, &st);
		else
			r = do_special(w, f, name, &st);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */

static void fsl_free(struct fsl *w)
{
	if (w->a) {
		/* after a failure: close so libarchive frees its filter state,
		 * with the callback refusing further bytes (the threads may be gone) */
		__atomic_store_n(&w->wfailed, 1, __ATOMIC_RELEASE);
		archive_write_close(w->a);
	}
	threads_stop(w);
	for (size_t i = 0; i < w->nfr; i++)
		frame_free(&w->fr[i]);
	free(w->fr);
	sbuf_free(&w->path);
	if (w->a)
		archive_write_free(w->a);
	ring_destroy(&w->hring);
	ring_destroy(&w->wring);
	EVP_MD_CTX_free(w->hctx);
	json_decref(w->entries);
	json_decref(w->notes);
	for (size_t i = 0; i < w->nhres; i++)
		free(w->hres[i]);
	free(w->hres);
	free(w->fents);
	for (size_t i = 0; i < w->hlcap; i++)
		if (w->hl[i].used)
			free(w->hl[i].tarpath);
	free(w->hl);
}

int fslayer_collect_fd(int rootfd, enum fslayer_kind kind, const char *source,
		       const struct fslayer_opts *o, const struct sink *tar,
		       struct fslayer_result *res, struct err *e)
{
	static const struct fslayer_opts defaults;
	if (!o)
		o = &defaults;
	memset(res, 0, sizeof(*res));
	double t0 = time_mono();
	char started[64];
	time_rfc3339_ns(started, sizeof(started));

	/* our own readable fd of the root (rootfd may be O_PATH) */
	int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "open layer root '%s'", source ? source : "?");

	struct fsl w = {
		.kind = kind,
		.max_file = o->max_file_bytes ? o->max_file_bytes : FSLAYER_DEFAULT_MAX_FILE,
		.hole_hash = o->max_hole_hash ? o->max_hole_hash : FSLAYER_DEFAULT_HOLE_HASH,
		.deep_budget = o->deep_path_budget ? o->deep_path_budget : FSLAYER_DEFAULT_DEEP_BUDGET,
		.sink = tar,
		.threads = !o->no_threads,
		.wcur = -1,
		.entries = json_array(),
		.notes = json_array(),
		.e = e,
	};
	sbuf_adds(&w.path, "");
	int ret = -1;
	w.hctx = EVP_MD_CTX_new();
	if (!w.hctx) {
		close(fd);
		err_set(e, ERR_SYS, "create sha256 context");
		goto out;
	}
	if (ring_init(&w.hring, w.threads ? NHSLOTS : 1, e) < 0 ||
	    (w.threads && ring_init(&w.wring, NWSLOTS, e) < 0)) {
		close(fd);
		goto out;
	}
	w.a = archive_write_new();
	if (!w.a || archive_write_set_format_pax(w.a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(w.a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w.a, 0) != ARCHIVE_OK ||
	    archive_write_set_format_option(w.a, "pax", "xattrheader", "SCHILY") < ARCHIVE_WARN) {
		close(fd);
		err_set(e, ERR_SYS, "set up layer tar writer");
		goto out;
	}
	threads_start(&w);
	if (archive_write_open2(w.a, &w, NULL, tar_write_cb, NULL, NULL) != ARCHIVE_OK) {
		close(fd);
		tar_fatal(&w);
		goto out;
	}
	if (walk(&w, fd) < 0) /* the root frame owns fd now */
		goto out;
	if (archive_write_close(w.a) != ARCHIVE_OK) {
		tar_fatal(&w);
		goto out;
	}
	threads_stop(&w);
	if (w.wfailed) {
		tar_fatal(&w);
		goto out;
	}

	/* digests in */
	for (size_t i = 0; i < w.nfents; i++) {
		struct fent *fe = &w.fents[i];
		if (!fe->h || !fe->h->done)
			continue;
		char hex[65];
		hex_encode(fe->h->md, 32, hex);
		json_object_set_new(fe->j, fe->full ? "sha256" : "sha256_data", json_string(hex));
	}
	if (w.dropped_notes) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%zu more notes not listed", w.dropped_notes);
		json_array_append_new(w.notes, json_string(msg));
	}

	json_t *doc = json_object();
	json_object_set_new(doc, "collector", json_string("fslayer"));
	json_object_set_new(doc, "layer", json_string(kind == FSLAYER_UPPER ? "upperdir" : "rootfs"));
	json_object_set_new(doc, "whole_root", json_boolean(kind == FSLAYER_ROOT));
	if (source)
		json_set_bytes(doc, "source", source, strlen(source));
	json_object_set_new(doc, "time", json_string(started));
	json_object_set_new(doc, "tar_format", json_string("pax (OCI image layer)"));
	json_object_set_new(doc, "max_file_bytes", json_integer((json_int_t)w.max_file));
	json_t *stats = json_object();
	json_object_set_new(stats, "entries", json_integer((json_int_t)json_array_size(w.entries)));
	json_object_set_new(stats, "tar_entries", json_integer((json_int_t)w.tar_entries));
	json_object_set_new(stats, "tar_bytes", json_integer((json_int_t)w.tar_bytes));
	json_object_set_new(stats, "data_bytes", json_integer((json_int_t)w.data_bytes));
	json_object_set_new(stats, "hashed_bytes", json_integer((json_int_t)w.hashed_bytes));
	json_object_set_new(stats, "seconds", json_real(time_mono() - t0));
	json_t *bytype = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		if (w.n_by_type[i])
			json_object_set_new(bytype, type_names[i], json_integer((json_int_t)w.n_by_type[i]));
	json_object_set_new(stats, "by_type", bytype);
	json_object_set_new(doc, "stats", stats);
	json_object_set(doc, "notes", w.notes);
	json_object_set(doc, "entries", w.entries);

	res->files = doc;
	res->notes = json_incref(w.notes);
	res->whole_root = kind == FSLAYER_ROOT;
	res->entries = json_array_size(w.entries);
	res->tar_entries = w.tar_entries;
	res->tar_bytes = w.tar_bytes;
	res->data_bytes = w.data_bytes;
	res->hashed_bytes = w.hashed_bytes;
	ret = 0;
out:
	fsl_free(&w);
	return ret;
}

int fslayer_collect_dir(const char *dir, enum fslayer_kind kind, const struct fslayer_opts *o,
			const struct sink *tar, struct fslayer_result *res, struct err *e)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "open '%s'", dir);
	return fslayer_collect_fd(fd, kind, dir, o, tar, res, e);
}

int fslayer_collect_ctr(const struct ctr *c, const struct fslayer_opts *o,
			const struct sink *tar, struct fslayer_result *res, struct err *e)
{
	bool overlay = c->upperdir && (!c->rootfs_fstype || !strcmp(c->rootfs_fstype, "overlay"));
	if (overlay)
		return fslayer_collect_dir(c->upperdir, FSLAYER_UPPER, o, tar, res, e);
	if (c->pid > 0) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/root", (int)c->pid);
		_cleanup_close_ int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return err_sys(e, errno, "open '%s'", p);
		if (fslayer_collect_fd(fd, FSLAYER_ROOT, p, o, tar, res, e) < 0)
			return -1;
		json_array_append_new(res->notes,
				      json_string("no overlay upperdir: the layer is the whole root"));
		return 0;
	}
	if (c->rootfs) {
		if (fslayer_collect_dir(c->rootfs, FSLAYER_ROOT, o, tar, res, e) < 0)
			return -1;
		json_array_append_new(res->notes,
				      json_string("no overlay upperdir: the layer is the whole root"));
		return 0;
	}
	return err_set(e, ERR_UNSUPP, "container '%s': no upperdir, no running process and no rootfs",
		       c->id ? c->id : "?");
}

void fslayer_result_free(struct fslayer_result *r)
{
	json_decref(r->files);
	json_decref(r->notes);
	r->files = r->notes = NULL;
}
