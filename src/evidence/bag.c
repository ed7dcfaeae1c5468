/* bag.c: the bag writer (directory and tar forms). See include/contain/bag.h. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <magic.h>
#include <openssl/rand.h>

#include "contain/bag.h"
#include "contain/chain.h"
#include "contain/hashio.h"
#include "contain/sha256x.h"
#include "contain/sign.h"

#define HEAD_KEEP 4096	   /* first bytes kept for libmagic */
#define COPY_CHUNK (1 << 20)

static const char bagit_txt[] = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

struct payload {
	char *path;
	char sha[HASH_HEX];
	uint64_t size;
};

/* a set of strings (artifact paths): open addressing */
struct strset {
	char **slot;
	size_t cap, n;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void strset_grow(struct strset *s);
/* true when added, false when it was there */
static bool strset_add(struct strset *s, const char *k)
{
	if ((s->n + 1) * 2 > s->cap)
		strset_grow(s);
	size_t i = str_hash(k) & (s->cap - 1);
	while (s->slot[i]) {
		if (strcmp(s->slot[i], k) == 0)
			return false;
		i = (i + 1) & (s->cap - 1);
	}
	s->slot[i] = xstrdup(k);
	s->n++;
	return true;
}

static void strset_grow(struct strset *s)
{
	struct strset ns = {NULL, s->cap ? s->cap * 2 : 64, 0};
	ns.slot = xcalloc(ns.cap, sizeof(char *));
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->slot[i])
			continue;
		size_t j = str_hash(s->slot[i]) & (ns.cap - 1);
		while (ns.slot[j])
			j = (j + 1) & (ns.cap - 1);
		ns.slot[j] = s->slot[i];
		ns.n++;
	}
	free(s->slot);
	*s = ns;
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

struct mime_job {
	json_t *ent; /* its index entry (a reference: touched by the writer only) */
	unsigned char *head;
	size_t len;
	char *mime; /* the worker's answer */
};

#define MIME_THREADS 2 /* libmagic workers at most (each with its own handle) */
#define MIME_MORE_AT 8	/* jobs waiting per worker before one more starts */

struct mimeq {
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	struct mime_job *job;
	size_t n, cap;
	size_t next;  /* the first job nobody has taken */
	size_t ndone; /* jobs classified */
	size_t bytes; /* head bytes not classified yet */
	bool started, failed, stop;
	unsigned nthr;
	pthread_t thr[MIME_THREADS];
};

struct bag {
	pthread_mutex_t mu;
	enum bag_form form;
	enum bag_compress comp;
	char id[BAG_ID_LEN];
	char *name;
	char *out;
	int dirfd;
	int outfd;
	bool own_outfd;
	struct archive *ar;
	char *spool_dir;
	struct chain *custody;
	json_t *index;
	json_t *index_extra; /* top-level fields of index.json besides bag, artifacts */
	struct payload *pay;
	size_t npay, cappay;
	uint64_t pay_bytes;
	struct strset paths;
	struct bag_info info;
	size_t capinfo;
	EVP_PKEY *key;
	char fpr[SIGN_FPR_HEX];
	struct bag_file *direct;
	struct bag_file **pending;
	size_t npending, cappending;
	unsigned nopen;
	bool done; /* sealed or aborted */
	bool broken;
	magic_t magic; /* no mime thread: classified inline */
	bool magic_tried;
	bool no_libmagic; /* bag_set_libmagic(false) */
	struct mimeq mq;
	/* directory form: the small artifacts closed since the last sync */
	unsigned grp_n;
	uint64_t grp_bytes;
	struct timespec grp_t0;
	/* directory form: the directory the last artifact was created in */
	char *pdir;
	int pdirfd;
	char date[16];
};

struct bag_file {
	struct bag *b;
	char *path;
	char *kind, *collector;
	char start[48], end[48];
	int fd;
	bool direct, sized, holes, closed;
	bool json;   /* from bag_add_json */
	bool dio;    /* bag_file_direct_io: large writes hashed in place; in a directory,
		      * aligned ones bypass the page cache */
	bool dio_on; /* O_DIRECT is set on fd now */
	bool dio_no; /* the filesystem refused O_DIRECT: buffered */
	uint64_t declared;
	uint64_t size;
	uint64_t kicked; /* directory form: bytes handed to writeback so far */
	struct hasher *h;
	struct sha256x *given; /* bag_file_hash_given: the caller's digest of the bytes */
	void *lent; /* bag_file_buf's buffer, until bag_file_commit */
	size_t lentcap;
	unsigned char head[HEAD_KEEP];
	size_t headlen;
	json_t *notes;
	char sha[HASH_HEX];
};

/* ---- small helpers ---- */

static void make_uuid(char out[BAG_ID_LEN])
{
	unsigned char u[16];
	if (RAND_bytes(u, sizeof(u)) != 1)
		abort(); /* no randomness: nothing sane to do */
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	snprintf(out, BAG_ID_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
		 u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
}

void bag_form_for(const char *out, enum bag_form *form, enum bag_compress *comp)
{
	*form = BAG_FORM_TAR;
	*comp = BAG_COMPRESS_NONE;
	if (strcmp(out, "-") == 0 || str_has_suffix(out, ".tar"))
		return;
	if (str_has_suffix(out, ".tar.gz") || str_has_suffix(out, ".tgz")) {
		*comp = BAG_COMPRESS_GZIP;
		return;
	}
	if (str_has_suffix(out, ".tar.zst") || str_has_suffix(out, ".tzst")) {
		*comp = BAG_COMPRESS_ZSTD;
		return;
	}
	*form = BAG_FORM_DIR;
}

static char *default_name(const char *out, const char *id)
{
	if (strcmp(out, "-") == 0)
		return xasprintf("contain-%s", id);
	const char *base = strrchr(out, '/');
	base = base ? base + 1 : out;
	static const char *const ext[] = {".tar.gz", ".tar.zst", ".tgz", ".tzst", ".tar"};
	size_t n = strlen(base);
	for (size_t i = 0; i < ARRAY_SIZE(ext); i++) {
		if (str_has_suffix(base, ext[i])) {
			n -= strlen(ext[i]);
			break;
		}
	}
	if (n == 0 || (n == 1 && base[0] == '.') || (n == 2 && base[0] == '.' && base[1] == '.'))
		return xasprintf("contain-%s", id);
	return xstrndup(base, n);
}

static bool info_value_ok(const char *v)
{
	return !strchr(v, '\n') && !strchr(v, '\r') && utf8_valid(v, strlen(v));
}

static const char *const info_reserved[] = {
	"Bagging-Date",		  "Payload-Oxum",		"Bag-Software-Agent",
	"Contain-Bag-Id",	  "Contain-Custody-Head",	"Contain-Custody-Seq",
	"Contain-Status",	  "Contain-Signer-Fingerprint", "Contain-Signer-Public-Key",
};

static int info_set(struct bag *b, const char *key, const char *value, bool internal,
		    struct err *e)
{
	if (!*key || strchr(key, ':') || !info_value_ok(key) || key[0] == ' ' ||
	    key[0] == '\t')
		return err_set(e, ERR_INVALID, "bad bag-info label '%s'", key);
	if (!info_value_ok(value))
		return err_set(e, ERR_INVALID, "bad bag-info value for '%s'", key);
	if (!internal)
		for (size_t i = 0; i < ARRAY_SIZE(info_reserved); i++)
			if (strcasecmp(key, info_reserved[i]) == 0)
				return err_set(e, ERR_INVALID,
					       "bag-info label '%s' is set by the writer", key);
	for (size_t i = 0; i < b->info.n; i++) {
		if (strcasecmp(b->info.f[i].label, key) == 0) {
			free(b->info.f[i].value);
			b->info.f[i].value = xstrdup(value);
			return 0;
		}
	}
	xgrow(&b->info.f, &b->capinfo, b->info.n + 1, sizeof(*b->info.f));
	b->info.f[b->info.n].label = xstrdup(key);
	b->info.f[b->info.n].value = xstrdup(value);
	b->info.n++;
	return 0;
}

/* bag-info.txt text; final adds the seal fields */
static char *info_text(struct bag *b, bool final, const char *status)
{
	struct sbuf s = SBUF_INIT;
	sbuf_printf(&s, "Bagging-Date: %s\n", b->date);
	sbuf_printf(&s, "Bag-Software-Agent: contain %s\n", CONTAIN_VERSION);
	if (final)
		sbuf_printf(&s, "Payload-Oxum: %llu.%zu\n", (unsigned long long)b->pay_bytes,
			    b->npay);
	sbuf_printf(&s, "Contain-Bag-Id: %s\n", b->id);
	for (size_t i = 0; i < b->info.n; i++)
		sbuf_printf(&s, "%s: %s\n", b->info.f[i].label, b->info.f[i].value);
	if (final) {
		sbuf_printf(&s, "Contain-Custody-Head: %s\n", chain_head(b->custody));
		sbuf_printf(&s, "Contain-Custody-Seq: %llu\n", chain_seq(b->custody));
		if (b->key) {
			unsigned char raw[SIGN_RAW_PUB_LEN];
			struct err e2;
			if (sign_raw_public(b->key, raw, &e2) == 0) {
				_cleanup_free_ char *b64 = base64_encode(raw, sizeof(raw));
				sbuf_printf(&s, "Contain-Signer-Fingerprint: %s\n", b->fpr);
				sbuf_printf(&s, "Contain-Signer-Public-Key: %s\n", b64);
			}
		}
	}
	sbuf_printf(&s, "Contain-Status: %s\n", status);
	return sbuf_steal(&s);
}

/* ---- directory form ---- */

static int dir_write_new(struct bag *b, const char *name, const void *buf, size_t n,
			 struct err *e)
{
	_cleanup_close_ int fd = openat(b->dirfd, name,
					O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, errno, "create '%s/%s'", b->out, name);
	if (write_all(fd, buf, n) < 0 || fsync(fd) < 0)
		return err_sys(e, errno, "write '%s/%s'", b->out, name);
	return 0;
}

static int dir_replace(struct bag *b, const char *name, const void *buf, size_t n,
		       struct err *e)
{
	char tmp[300];
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	unlinkat(b->dirfd, tmp, 0);
	if (dir_write_new(b, tmp, buf, n, e) < 0)
		return -1;
	if (renameat(b->dirfd, tmp, b->dirfd, name) < 0) {
		int saved = errno;
		unlinkat(b->dirfd, tmp, 0);
		return err_sys(e, saved, "rename '%s/%s'", b->out, name);
	}
	if (fsync(b->dirfd) < 0)
		return err_sys(e, errno, "fsync '%s'", b->out);
	return 0;
}

/* open data/a/b/c for writing, making a/ and b/ (0700) without following
 * links; the directory of the last artifact is kept open (they come in runs:
 * 10,000 files in one directory were a walk of every component each) */
static int dir_create_file(struct bag *b, const char *path, struct err *e)
{
	const char *base = strrchr(path, '/');
	int fd;
	if (base && b->pdir && strlen(b->pdir) == (size_t)(base - path) &&
	    memcmp(b->pdir, path, (size_t)(base - path)) == 0) {
		fd = openat(b->pdirfd, base + 1,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_sys(e, errno, "create '%s'", path);
		return fd;
	}
	_cleanup_free_ char *p = xstrdup(path);
	int dfd = dup(b->dirfd);
	if (dfd < 0)
		return err_sys(e, errno, "dup");
	char *comp = p;
	for (;;) {
		char *slash = strchr(comp, '/');
		if (!slash)
			break;
		*slash = '\0';
		if (mkdirat(dfd, comp, 0700) < 0 && errno != EEXIST) {
			int saved = errno;
			close(dfd);
			return err_sys(e, saved, "mkdir '%s'", path);
		}
		int nfd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int saved = errno;
		close(dfd);
		if (nfd < 0)
			return err_sys(e, saved, "open directory of '%s'", path);
		dfd = nfd;
		comp = slash + 1;
	}
	fd = openat(dfd, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int saved = errno;
	if (fd < 0) {
		close(dfd);
		return err_sys(e, saved, "create '%s'", path);
	}
	if (comp == p) { /* no directory (bag_path_ok makes this "data/...") */
		close(dfd);
		return fd;
	}
	/* keep this directory for the next artifact */
	if (b->pdirfd >= 0)
		close(b->pdirfd);
	free(b->pdir);
	b->pdir = xstrndup(path, (size_t)(comp - p) - 1);
	b->pdirfd = dfd;
	return fd;
}

/* ---- directory form: when data reaches the disk ----
 * See the header comment of bag.h for the guarantee. An artifact of
 * SYNC_EACH_MIN bytes or more is fdatasync()ed when it closes, then its
 * custody line is written and synced: the artifact first, then its line.
 * Smaller ones are a group (group commit): each closes without a sync, its
 * custody line written at once (so a killed writer loses nothing: SIGKILL
 * does not lose the page cache), and the group is made durable by one
 * syncfs() when it reaches GROUP_MAX_FILES artifacts or GROUP_MAX_BYTES,
 * when its oldest member is GROUP_MAX_MS old at the writer's next open or
 * close, and before any event, large artifact, failure, seal or abort is
 * synced. Large artifacts hand their data to writeback every KICK_BYTES as
 * they are written, so their final fdatasync finds little left to do. */
#define SYNC_EACH_MIN (1u << 20)
#define GROUP_MAX_FILES 4096u
#define GROUP_MAX_BYTES (256u << 20)
#define GROUP_MAX_MS 1000
#define KICK_BYTES (8u << 20)

static bool group_old(const struct bag *b)
{
	if (!b->grp_n)
		return false;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)(now.tv_sec - b->grp_t0.tv_sec) * 1000 +
		     (now.tv_nsec - b->grp_t0.tv_nsec) / 1000000;
	return ms >= GROUP_MAX_MS;
}

/* make the custody log, and every artifact of the group, durable (lock held) */
static int group_commit(struct bag *b, struct err *e)
{
	if (b->form != BAG_FORM_DIR || !b->grp_n)
		return chain_sync(b->custody, e);
	if (syncfs(b->dirfd) < 0)
		return err_sys(e, errno, "sync '%s'", b->out);
	b->grp_n = 0;
	b->grp_bytes = 0;
	return 0;
}

/* a small artifact closed: into the group (lock held) */
static int group_add(struct bag *b, uint64_t size, struct err *e)
{
	if (b->grp_n++ == 0)
		clock_gettime(CLOCK_MONOTONIC, &b->grp_t0);
	b->grp_bytes += size;
	if (b->grp_n >= GROUP_MAX_FILES || b->grp_bytes >= GROUP_MAX_BYTES || group_old(b))
		return group_commit(b, e);
	return 0;
}

/* ---- tar form ---- */

static int ar_fail(struct bag *b, struct err *e, const char *what)
{
	b->broken = true;
	return err_set(e, ERR_SYS, "%s '%s': %s", what, b->out, archive_error_string(b->ar) ?
					 archive_error_string(b->ar) : "archive error");
}

static int tar_header(struct bag *b, const char *rel, uint64_t size, bool dir, struct err *e)
{
	struct archive_entry *ae = archive_entry_new();
	_cleanup_free_ char *full = rel ? xasprintf("%s/%s", b->name, rel) : xstrdup(b->name);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	archive_entry_copy_pathname(ae, full);
	archive_entry_set_filetype(ae, dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(ae, dir ? 0700 : 0600);
	archive_entry_set_size(ae, dir ? 0 : (la_int64_t)size);
	archive_entry_set_mtime(ae, now.tv_sec, now.tv_nsec);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	int r = archive_write_header(b->ar, ae);
	archive_entry_free(ae);
	if (r < ARCHIVE_WARN)
		return ar_fail(b, e, "write tar header");
	return 0;
}

static int tar_data(struct bag *b, const void *buf, size_t n, struct err *e)
{
	const char *p = buf;
	while (n) {
		la_ssize_t w = archive_write_data(b->ar, p, n);
		if (w <= 0)
			return ar_fail(b, e, "write tar");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int tar_zeros(struct bag *b, uint64_t n, struct err *e)
{
	static const char zeros[65536];
	while (n) {
		size_t k = n > sizeof(zeros) ? sizeof(zeros) : (size_t)n;
		if (tar_data(b, zeros, k, e) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

static int tar_finish_entry(struct bag *b, struct err *e)
{
	if (archive_write_finish_entry(b->ar) < ARCHIVE_WARN)
		return ar_fail(b, e, "write tar");
	return 0;
}

static int tar_whole(struct bag *b, const char *rel, const void *buf, size_t n, struct err *e)
{
	if (tar_header(b, rel, n, false, e) < 0 || tar_data(b, buf, n, e) < 0 ||
	    tar_finish_entry(b, e) < 0)
		return -1;
	return 0;
}

static int spool_open(struct bag *b, struct err *e)
{
	int fd = open(b->spool_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* no O_TMPFILE here: a named temp file, unlinked at once */
	_cleanup_free_ char *tmpl = xasprintf("%s/.contain-spool.XXXXXX", b->spool_dir);
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "spool file in '%s'", b->spool_dir);
	unlink(tmpl);
	return fd;
}

/* copy a closed spooled artifact into the tar (lock held, tar free) */
static int spool_copy(struct bag *b, struct bag_file *f, struct err *e)
{
	if (tar_header(b, f->path, f->size, false, e) < 0)
		return -1;
	_cleanup_free_ char *buf = xmalloc(COPY_CHUNK);
	off_t off = 0, end = (off_t)f->size;
	while (off < end) {
		off_t data = f->holes ? lseek(f->fd, off, SEEK_DATA) : off;
		if (data < 0 || data > end)
			data = end; /* ENXIO: only a hole up to the end */
		if (data > off) {
			if (tar_zeros(b, (uint64_t)(data - off), e) < 0)
				return -1;
			off = data;
			continue;
		}
		off_t hole = f->holes ? lseek(f->fd, off, SEEK_HOLE) : end;
		if (hole < 0 || hole > end)
			hole = end;
		while (off < hole) {
			size_t want = (size_t)(hole - off) > COPY_CHUNK ? COPY_CHUNK
									 : (size_t)(hole - off);
			ssize_t r = pread(f->fd, buf, want, off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				b->broken = true;
				return err_sys(e, r < 0 ? errno : EIO, "read spool of '%s'", f->path);
			}
			if (tar_data(b, buf, (size_t)r, e) < 0)
				return -1;
			off += r;
		}
	}
	return tar_finish_entry(b, e);
}

static void file_free(struct bag_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	hasher_free(f->h);
	if (f->given)
		sha256x_discard(f->given);
	json_decref(f->notes);
	free(f->path);
	free(f->kind);
	free(f->collector);
	free(f);
}

/* copy every closed spooled artifact waiting for the tar (lock held) */
static int flush_pending(struct bag *b, struct err *e)
{
	int rc = 0;
	while (b->npending && !b->direct) {
		struct bag_file *f = b->pending[0];
		memmove(b->pending, b->pending + 1, (b->npending - 1) * sizeof(*b->pending));
		b->npending--;
		if (rc == 0 && spool_copy(b, f, e) < 0)
			rc = -1;
		file_free(f);
	}
	return rc;
}

/* ---- open ---- */

static int open_dir(struct bag *b, struct err *e)
{
	if (mkdir(b->out, 0700) < 0)
		return err_sys(e, errno, "create bag directory '%s'", b->out);
	b->dirfd = open(b->out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (b->dirfd < 0)
		return err_sys(e, errno, "open '%s'", b->out);
	if (mkdirat(b->dirfd, "data", 0700) < 0)
		return err_sys(e, errno, "mkdir '%s/data'", b->out);
	if (dir_write_new(b, "bagit.txt", bagit_txt, strlen(bagit_txt), e) < 0)
		return -1;
	_cleanup_free_ char *info = info_text(b, false, "incomplete");
	if (dir_write_new(b, "bag-info.txt", info, strlen(info), e) < 0)
		return -1;
	_cleanup_free_ char *cpath = xasprintf("%s/custody.jsonl", b->out);
	if (chain_open(cpath, b->id, CHAIN_CREATE_EXCL | CHAIN_KEEP, &b->custody,
		       e) < 0)
		return -1;
	if (fsync(b->dirfd) < 0)
		return err_sys(e, errno, "fsync '%s'", b->out);
	return 0;
}

static int open_tar(struct bag *b, const struct bag_opts *o, struct err *e)
{
	if (strcmp(b->out, "-") == 0) {
		b->outfd = o->out_fd > 0 ? o->out_fd : STDOUT_FILENO;
	} else {
		b->outfd = open(b->out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (b->outfd < 0)
			return err_sys(e, errno, "create '%s'", b->out);
		b->own_outfd = true;
	}
	b->ar = archive_write_new();
	if (!b->ar)
		return err_set(e, ERR_SYS, "archive_write_new failed");
	int r = archive_write_set_format_pax(b->ar);
	if (r == ARCHIVE_OK && b->comp == BAG_COMPRESS_GZIP)
		r = archive_write_add_filter_gzip(b->ar);
	if (r == ARCHIVE_OK && b->comp == BAG_COMPRESS_ZSTD)
		r = archive_write_add_filter_zstd(b->ar);
	if (r == ARCHIVE_OK)
		r = archive_write_set_bytes_per_block(b->ar, 65536);
	if (r == ARCHIVE_OK)
		r = archive_write_set_bytes_in_last_block(b->ar, 1);
	if (r == ARCHIVE_OK)
		r = archive_write_open_fd(b->ar, b->outfd);
	if (r != ARCHIVE_OK)
		return ar_fail(b, e, "open tar");
	if (chain_open(NULL, b->id, CHAIN_MEMORY, &b->custody, e) < 0)
		return -1;
	if (tar_header(b, NULL, 0, true, e) < 0 || tar_header(b, "data", 0, true, e) < 0 ||
	    tar_whole(b, "bagit.txt", bagit_txt, strlen(bagit_txt), e) < 0)
		return -1;
	return 0;
}

int bag_open(const struct bag_opts *o, struct bag **out, struct err *e)
{
	*out = NULL;
	if (!o->out || !*o->out)
		return err_set(e, ERR_INVALID, "bag: no output given");
	struct bag *b = xcalloc(1, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	b->dirfd = b->outfd = b->pdirfd = -1;
	b->out = xstrdup(o->out);
	bag_form_for(o->out, &b->form, &b->comp);
	make_uuid(b->id);
	b->name = o->name ? xstrdup(o->name) : default_name(o->out, b->id);
	if (!*b->name || strchr(b->name, '/') || strcmp(b->name, "..") == 0 ||
	    strcmp(b->name, ".") == 0) {
		bag_free(b);
		return err_set(e, ERR_INVALID, "bad bag name '%s'", o->name);
	}
	b->index = json_array();
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(b->date, sizeof(b->date), "%Y-%m-%d", &tm);

	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	const struct {
		const char *k, *v;
	} init[] = {
		{"External-Identifier", o->case_id},
		{"Contact-Name", o->examiner},
		{"Contain-Host", host},
		{"Contain-Container-Id", o->container_id},
		{"Contain-Runtime", o->runtime},
		{"Contain-Image-Digest", o->image_digest},
	};
	for (size_t i = 0; i < ARRAY_SIZE(init); i++) {
		if (init[i].v && *init[i].v && info_set(b, init[i].k, init[i].v, true, e) < 0) {
			bag_free(b);
			return -1;
		}
	}
	if (o->sign_key) {
		if (sign_load_private(o->sign_key, &b->key, e) < 0 ||
		    sign_fingerprint(b->key, b->fpr, e) < 0) {
			bag_free(b);
			return err_wrap(e, "bag signing key");
		}
	}
	if (o->spool_dir) {
		b->spool_dir = xstrdup(o->spool_dir);
	} else if (strcmp(o->out, "-") == 0) {
		const char *t = getenv("TMPDIR");
		b->spool_dir = xstrdup(t && *t ? t : "/tmp");
	} else {
		const char *slash = strrchr(o->out, '/');
		b->spool_dir = slash ? xstrndup(o->out, slash == o->out ? 1 : (size_t)(slash - o->out))
				     : xstrdup(".");
	}
	int rc = b->form == BAG_FORM_DIR ? open_dir(b, e) : open_tar(b, o, e);
	if (rc < 0) {
		err_wrap(e, "bag '%s'", o->out);
		if (b->form == BAG_FORM_TAR && b->ar)
			archive_write_fail(b->ar);
		bag_free(b);
		return -1;
	}
	json_t *extra = json_pack("{s:{s:s,s:s,s:s,s:s*,s:s*,s:s*}}", "bag", "id", b->id, "form",
				  b->form == BAG_FORM_DIR ? "directory" : "tar", "name", b->name,
				  "case", o->case_id, "examiner", o->examiner, "container",
				  o->container_id);
	rc = chain_append(b->custody, "bag-open", b->id, "ok", extra, e);
	json_decref(extra);
	if (rc == 0)
		rc = chain_sync(b->custody, e);
	if (rc < 0) {
		bag_free(b);
		return err_wrap(e, "bag '%s'", o->out);
	}
	*out = b;
	return 0;
}

const char *bag_id(const struct bag *b)
{
	return b->id;
}

/* ---- artifacts ---- */

static int file_open(struct bag *b, const char *path, const char *kind, const char *collector,
		     bool sized, uint64_t size, bool log_open, struct bag_file **out,
		     struct err *e)
{
	*out = NULL;
	if (!bag_path_ok(path))
		return err_set(e, ERR_INVALID, "bad artifact path '%s'", path);
	pthread_mutex_lock(&b->mu);
	int rc = -1;
	struct bag_file *f = NULL;
	if (b->done || b->broken) {
		err_set(e, ERR_WRONGSTATE, "bag '%s' is %s", b->out, b->done ? "closed" : "broken");
		goto out;
	}
	if (group_old(b) && group_commit(b, e) < 0)
		goto out;
	if (!strset_add(&b->paths, path)) {
		err_set(e, ERR_INVALID, "artifact '%s' is already in the bag", path);
		goto out;
	}
	/* no payload path may be the parent directory of another */
	f = xcalloc(1, sizeof(*f));
	f->b = b;
	f->fd = -1;
	f->path = xstrdup(path);
	f->kind = xstrdup(kind ? kind : "file");
	f->collector = xstrdup(collector ? collector : "contain");
	f->sized = sized;
	f->declared = size;
	f->h = hasher_new();
	f->notes = json_array();
	time_rfc3339_ns(f->start, sizeof(f->start));
	if (b->form == BAG_FORM_DIR) {
		f->fd = dir_create_file(b, path, e);
		if (f->fd < 0)
			goto out;
	} else if (sized && !b->direct && !b->npending) {
		if (tar_header(b, path, size, false, e) < 0)
			goto out;
		f->direct = true;
		b->direct = f;
	} else {
		f->fd = spool_open(b, e);
		if (f->fd < 0)
			goto out;
	}
	if (log_open) {
		_cleanup_free_ char *jp = bag_path_json_encode(path);
		json_t *extra = json_pack("{s:s,s:s}", "kind", f->kind, "collector", f->collector);
		int r = chain_append(b->custody, "artifact-open", jp, "ok", extra, e);
		json_decref(extra);
		if (r < 0)
			goto out;
	}
	b->nopen++;
	*out = f;
	f = NULL;
	rc = 0;
out:
	if (f) {
		if (f->direct) {
			b->direct = NULL;
			b->broken = true; /* a header without its data */
		}
		file_free(f);
	}
	pthread_mutex_unlock(&b->mu);
	if (rc < 0)
		err_wrap(e, "bag artifact");
	return rc;
}

int bag_file_open(struct bag *b, const char *path, const char *kind, const char *collector,
		  struct bag_file **out, struct err *e)
{
	return file_open(b, path, kind, collector, false, 0, true, out, e);
}

int bag_file_open_sized(struct bag *b, const char *path, const char *kind,
			const char *collector, uint64_t size, struct bag_file **out,
			struct err *e)
{
	return file_open(b, path, kind, collector, true, size, true, out, e);
}

static void keep_head(struct bag_file *f, const void *buf, size_t n, bool zeros)
{
	if (f->headlen >= HEAD_KEEP)
		return;
	size_t k = HEAD_KEEP - f->headlen;
	if (k > n)
		k = n;
	if (zeros)
		memset(f->head + f->headlen, 0, k);
	else
		memcpy(f->head + f->headlen, buf, k);
	f->headlen += k;
}

/* may n more bytes be written to f */
static int write_ok(const struct bag_file *f, size_t n, struct err *e)
{
	if (f->closed)
		return err_set(e, ERR_WRONGSTATE, "artifact '%s' is closed", f->path);
	if (f->lent)
		return err_set(e, ERR_WRONGSTATE, "artifact '%s': a buffer is not committed",
			       f->path);
	if (f->sized && (n > f->declared || f->size > f->declared - n))
		return err_set(e, ERR_INVALID, "artifact '%s': more than the %llu bytes declared",
			       f->path, (unsigned long long)f->declared);
	return 0;
}

/* the n bytes at buf, hashed already (or being hashed), into the bag */
static int write_out(struct bag_file *f, const void *buf, size_t n, struct err *e);

void bag_file_direct_io(struct bag_file *f)
{
	f->dio = true;
}

/* O_DIRECT on or off on f->fd (it changes with the alignment of each
 * write); false when the filesystem refuses it: buffered from then on */
static bool dio_set(struct bag_file *f, bool on)
{
	if (f->dio_on == on)
		return true;
	int fl = fcntl(f->fd, F_GETFL);
	if (fl < 0 || fcntl(f->fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) < 0) {
		f->dio_no = true;
		return false;
	}
	f->dio_on = on;
	return true;
}

/* Directory form, n bytes to the file. With bag_file_direct_io, a write
 * whose buffer, length and file offset are DIO_ALIGN-aligned goes to the
 * disk without a page-cache copy (in this VM, filling fresh page cache
 * costs more CPU than hashing the bytes); the close's fdatasync still
 * makes the whole artifact durable. Any refusal of O_DIRECT (EINVAL: the
 * filesystem, or an alignment the device wants larger) falls back to
 * buffered writes for the rest of the artifact. */
#define DIO_ALIGN   4096u
#define INPLACE_MIN (256u << 10)
static int file_write(struct bag_file *f, const void *buf, size_t n)
{
	bool aligned = ((uintptr_t)buf % DIO_ALIGN | n % DIO_ALIGN | f->size % DIO_ALIGN) == 0;
	if (!f->dio || f->dio_no || f->b->form != BAG_FORM_DIR || !dio_set(f, aligned) ||
	    !aligned)
		return write_all(f->fd, buf, n);
	const char *p = buf;
	while (n) {
		ssize_t k = write(f->fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EINVAL) {
			/* refused: the offset is where it was, the rest goes buffered */
			if (!dio_set(f, false))
				return -1;
			f->dio_no = true;
			return write_all(f->fd, p, n);
		}
		if (k <= 0)
			return k < 0 ? -1 : (errno = EIO, -1);
		p += k;
		n -= (size_t)k;
		if (n % DIO_ALIGN && !dio_set(f, false))
			return -1;
	}
	return 0;
}

int bag_file_write(struct bag_file *f, const void *buf, size_t n, struct err *e)
{
	if (n == 0)
		return 0;
	if (write_ok(f, n, e) < 0)
		return -1;
	keep_head(f, buf, n, false);
	if (f->given)
		return write_out(f, buf, n, e); /* the caller hashed them */
	if (f->dio && n >= INPLACE_MIN) {
		/* hashed in place on the hasher's thread while it is written */
		hasher_update_ref(f->h, buf, n);
		int r = write_out(f, buf, n, e);
		hasher_wait(f->h); /* buf is the caller's again */
		return r;
	}
	hasher_update(f->h, buf, n);
	return write_out(f, buf, n, e);
}

void *bag_file_buf(struct bag_file *f, size_t *cap)
{
	if (f->lent) { /* asked again before a commit: the same one */
		*cap = f->lentcap;
		return f->lent;
	}
	f->lent = hasher_buf(f->h, &f->lentcap);
	*cap = f->lentcap;
	return f->lent;
}

int bag_file_commit(struct bag_file *f, size_t n, struct err *e)
{
	const void *buf = f->lent;
	if (!buf)
		return n ? err_set(e, ERR_WRONGSTATE, "artifact '%s': no buffer to commit", f->path)
			 : 0;
	if (n > f->lentcap)
		return err_set(e, ERR_INVALID, "artifact '%s': %zu bytes in a buffer of %zu",
			       f->path, n, f->lentcap);
	f->lent = NULL; /* given back whatever happens next */
	if (n == 0)
		return 0;
	if (write_ok(f, n, e) < 0)
		return -1;
	keep_head(f, buf, n, false);
	/* hashed on the hasher's thread while it is written here: the buffer
	 * is not reused before the next bag_file_buf or write, on this thread */
	hasher_submit(f->h, n);
	return write_out(f, buf, n, e);
}

static int write_out(struct bag_file *f, const void *buf, size_t n, struct err *e)
{
	struct bag *b = f->b;
	if (f->direct) {
		pthread_mutex_lock(&b->mu);
		int r = tar_data(b, buf, n, e);
		pthread_mutex_unlock(&b->mu);
		if (r < 0)
			return err_wrap(e, "artifact '%s'", f->path);
	} else if (file_write(f, buf, n) < 0) {
		return err_sys(e, errno, "write artifact '%s'", f->path);
	}
	f->size += n;
	if (f->dio_on) {
		f->kicked = f->size; /* nothing of it in the page cache */
	} else if (b->form == BAG_FORM_DIR && f->size - f->kicked >= KICK_BYTES) {
		/* start writeback now (asynchronous): the close's fdatasync is then short */
		sync_file_range(f->fd, (off_t)f->kicked, (off_t)(f->size - f->kicked),
				SYNC_FILE_RANGE_WRITE);
		f->kicked = f->size;
	}
	return 0;
}

/* n zero bytes into the artifact's digest (the bag's, or the caller's) */
static void file_zeros(struct bag_file *f, uint64_t n)
{
	if (f->given)
		sha256x_zeros(f->given, n);
	else
		hasher_zeros(f->h, n);
}

int bag_file_hole(struct bag_file *f, uint64_t n, struct err *e)
{
	struct bag *b = f->b;
	if (n == 0)
		return 0;
	if (f->closed)
		return err_set(e, ERR_WRONGSTATE, "artifact '%s' is closed", f->path);
	if (f->lent)
		return err_set(e, ERR_WRONGSTATE, "artifact '%s': a buffer is not committed",
			       f->path);
	if (n > (uint64_t)INT64_MAX - f->size)
		return err_set(e, ERR_INVALID, "artifact '%s': hole too large", f->path);
	if (f->sized && (n > f->declared || f->size > f->declared - n))
		return err_set(e, ERR_INVALID, "artifact '%s': more than the %llu bytes declared",
			       f->path, (unsigned long long)f->declared);
	keep_head(f, NULL, n > HEAD_KEEP ? HEAD_KEEP : (size_t)n, true);
	file_zeros(f, n);
	if (f->direct) {
		/* straight into the tar: zeros (no pax sparse entries) */
		pthread_mutex_lock(&b->mu);
		int r = tar_zeros(b, n, e);
		pthread_mutex_unlock(&b->mu);
		if (r < 0)
			return err_wrap(e, "artifact '%s'", f->path);
	} else {
		if (lseek(f->fd, (off_t)n, SEEK_CUR) < 0)
			return err_sys(e, errno, "seek artifact '%s'", f->path);
		f->holes = true;
	}
	f->size += n;
	return 0;
}

int bag_file_note(struct bag_file *f, json_t *note, struct err *e)
{
	if (!note || (!json_is_string(note) && !json_is_object(note)))
		return err_set(e, ERR_INVALID, "artifact '%s': a note is a string or an object",
			       f->path);
	json_array_append_new(f->notes, json_deep_copy(note));
	return 0;
}

static int sink_w(void *ctx, const void *buf, size_t n, struct err *e)
{
	return bag_file_write(ctx, buf, n, e);
}

static int sink_h(void *ctx, uint64_t n, struct err *e)
{
	return bag_file_hole(ctx, n, e);
}

void bag_file_hash_inline(struct bag_file *f)
{
	hasher_inline(f->h);
}

void bag_file_hash_given(struct bag_file *f, struct sha256x *c)
{
	f->given = c;
}

struct sink bag_file_sink(struct bag_file *f)
{
	struct sink s = {sink_w, sink_h, f};
	return s;
}

uint64_t bag_file_size(const struct bag_file *f)
{
	return f->size;
}

/* ---- mime types, on a thread of their own ----
 * libmagic 5.44's magic_buffer() costs about 0.3 ms a call whatever the
 * size of the buffer (it walks its whole database for bytes it does not
 * know: random data, plain text), more than hashing 200 KiB. Per artifact
 * on the writer's path that was 70% of the time of a bag of 10,000 small
 * files. So the index's mime types are worked out by a worker thread with
 * its own magic handle (loaded once per bag) while the writer goes on, and
 * filled into index.json at seal. The heads (first HEAD_KEEP bytes) wait
 * in a queue bounded in bytes: a writer that gets MIME_QUEUE_MAX ahead
 * waits. Without a thread, inline as before. */
#define MIME_QUEUE_MAX (16u << 20)

static magic_t magic_new(void)
{
	magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
	if (m && magic_load(m, NULL) < 0) {
		magic_close(m);
		m = NULL;
	}
	return m;
}

static char *mime_classify(magic_t m, const void *head, size_t len)
{
	const char *r = m ? magic_buffer(m, head, len) : NULL;
	return xstrdup(r ? r : "application/octet-stream");
}

/* take and classify jobs while there are any (q->mu held; dropped while
 * libmagic runs); with wait, sleep for more until stop */
static void mime_work(struct mimeq *q, magic_t m, bool wait)
{
	for (;;) {
		while (wait && q->next == q->n && !q->stop)
			pthread_cond_wait(&q->cv_work, &q->mu);
		if (q->next == q->n || (wait && q->stop))
			return; /* stopped: bag_free drops what is left */
		size_t i = q->next++;
		unsigned char *head = q->job[i].head;
		size_t len = q->job[i].len;
		pthread_mutex_unlock(&q->mu); /* job[] may move: only index it locked */
		char *mime = mime_classify(m, head, len);
		free(head);
		pthread_mutex_lock(&q->mu);
		q->job[i].head = NULL;
		q->job[i].mime = mime;
		q->bytes -= len;
		q->ndone++;
		pthread_cond_broadcast(&q->cv_done);
	}
}

static void *mime_worker(void *arg)
{
	struct mimeq *q = arg;
	magic_t m = magic_new();
	pthread_mutex_lock(&q->mu);
	mime_work(q, m, true);
	pthread_mutex_unlock(&q->mu);
	if (m)
		magic_close(m);
	return NULL;
}

/* The formats contain itself writes, known from their first bytes without
 * libmagic (the same answers as libmagic 5.44 gives): NULL for the others. */
static const char *mime_known(const struct bag_file *f)
{
	const unsigned char *h = f->head;
	size_t n = f->headlen;
	if (n == 0)
		return "application/x-empty";
	if (f->json)
		return "application/json"; /* bag_add_json: JSON by construction */
	/* pcap, either byte order, microseconds or nanoseconds */
	static const char pcap[4][4] = {
		"\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4", "\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d"};
	for (size_t i = 0; n >= 24 && i < ARRAY_SIZE(pcap); i++)
		if (memcmp(h, pcap[i], 4) == 0)
			return "application/vnd.tcpdump.pcap";
	if (n >= 20 && memcmp(h, "\x7f" "ELF", 4) == 0 && (h[5] == 1 || h[5] == 2)) {
		unsigned type = h[5] == 1 ? h[16] | (unsigned)h[17] << 8 : (unsigned)h[16] << 8 | h[17];
		if (type == 4) /* ET_CORE: what the memory collector writes */
			return "application/x-coredump";
	}
	return NULL;
}

/* without libmagic: UTF-8 text or not (a sequence cut by the end of the
 * head is fine) */
static const char *mime_plain(const struct bag_file *f)
{
	const unsigned char *h = f->head;
	size_t n = f->headlen;
	for (size_t i = 0; i < n; i++)
		if ((h[i] < 0x20 && (h[i] == 0 || !strchr("\t\n\r\f\b\x1b", h[i]))) ||
		    h[i] == 0x7f)
			return "application/octet-stream";
	for (size_t cut = 0; cut < 4 && cut < n; cut++) {
		if (utf8_valid((const char *)h, n - cut))
			return "text/plain";
		if (n < HEAD_KEEP)
			break; /* the whole artifact: nothing was cut */
	}
	return "application/octet-stream";
}

/* the index entry ent gets its "mime" now or at mime_drain (bag lock held) */
static void mime_queue(struct bag *b, json_t *ent, const struct bag_file *f)
{
	struct mimeq *q = &b->mq;
	const char *known = mime_known(f);
	if (!known && b->no_libmagic)
		known = mime_plain(f);
	if (known) {
		json_object_set_new(ent, "mime", json_string(known));
		return;
	}
	if (!q->started && !q->failed) {
		pthread_mutex_init(&q->mu, NULL);
		pthread_cond_init(&q->cv_work, NULL);
		pthread_cond_init(&q->cv_done, NULL);
		if (pthread_create(&q->thr[0], NULL, mime_worker, q) == 0) {
			q->started = true;
			q->nthr = 1;
		} else {
			q->failed = true;
			pthread_mutex_destroy(&q->mu);
			pthread_cond_destroy(&q->cv_work);
			pthread_cond_destroy(&q->cv_done);
		}
	}
	if (!q->started) {
		if (!b->magic_tried) {
			b->magic_tried = true;
			b->magic = magic_new();
		}
		_cleanup_free_ char *m = mime_classify(b->magic, f->head, f->headlen);
		json_object_set_new(ent, "mime", json_string(m));
		return;
	}
	unsigned char *head = xmalloc(f->headlen);
	memcpy(head, f->head, f->headlen);
	pthread_mutex_lock(&q->mu);
	while (q->bytes + f->headlen > MIME_QUEUE_MAX && q->ndone < q->n)
		pthread_cond_wait(&q->cv_done, &q->mu);
	xgrow(&q->job, &q->cap, q->n + 1, sizeof(*q->job));
	q->job[q->n] = (struct mime_job){json_incref(ent), head, f->headlen, NULL};
	q->n++;
	q->bytes += f->headlen;
	pthread_cond_signal(&q->cv_work);
	/* libmagic falling behind (about 0.3 ms a call here): one more worker,
	 * so the CPU the writer leaves while it waits on a sync is used. The
	 * answers do not change: every handle is opened and loaded alike. */
	if (q->nthr < MIME_THREADS && q->n - q->next > (size_t)MIME_MORE_AT * q->nthr &&
	    sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
	    pthread_create(&q->thr[q->nthr], NULL, mime_worker, q) == 0)
		q->nthr++;
	pthread_mutex_unlock(&q->mu);
}

/* finish every queued mime type, this thread helping the worker (at seal
 * it has nothing else to do), and put each in its index entry */
static void mime_drain(struct bag *b)
{
	struct mimeq *q = &b->mq;
	if (!q->started)
		return;
	pthread_mutex_lock(&q->mu);
	if (q->next < q->n) {
		if (!b->magic_tried) {
			pthread_mutex_unlock(&q->mu);
			b->magic_tried = true;
			b->magic = magic_new();
			pthread_mutex_lock(&q->mu);
		}
		mime_work(q, b->magic, false);
	}
	while (q->ndone < q->n)
		pthread_cond_wait(&q->cv_done, &q->mu);
	for (size_t i = 0; i < q->n; i++) {
		json_object_set_new(q->job[i].ent, "mime", json_string(q->job[i].mime));
		json_decref(q->job[i].ent);
		free(q->job[i].mime);
	}
	q->n = q->next = q->ndone = 0;
	pthread_mutex_unlock(&q->mu);
}

static void mime_stop(struct bag *b)
{
	struct mimeq *q = &b->mq;
	if (!q->started)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_broadcast(&q->cv_work);
	pthread_mutex_unlock(&q->mu);
	for (unsigned i = 0; i < q->nthr; i++)
		pthread_join(q->thr[i], NULL);
	for (size_t i = 0; i < q->n; i++) {
		json_decref(q->job[i].ent);
		free(q->job[i].head);
		free(q->job[i].mime);
	}
	free(q->job);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv_work);
	pthread_cond_destroy(&q->cv_done);
	memset(q, 0, sizeof(*q));
}

/* finish a file: lock held */
static int file_finish(struct bag *b, struct bag_file *f, const char *result, struct err *e)
{
	unsigned char md[HASH_LEN];
	if (f->sized && f->size < f->declared) {
		uint64_t missing = f->declared - f->size;
		json_array_append_new(f->notes,
				      json_pack("{s:s,s:I}", "short", "zero-filled to the declared size",
						"bytes", (json_int_t)missing));
		file_zeros(f, missing);
		keep_head(f, NULL, missing > HEAD_KEEP ? HEAD_KEEP : (size_t)missing, true);
		if (f->direct) {
			if (tar_zeros(b, missing, e) < 0)
				return -1;
		} else if (lseek(f->fd, (off_t)missing, SEEK_CUR) < 0) {
			return err_sys(e, errno, "seek artifact '%s'", f->path);
		} else {
			f->holes = true;
		}
		f->size = f->declared;
	}
	if (f->given) {
		sha256x_final(f->given, md);
		f->given = NULL;
	} else {
		hasher_final(f->h, md);
	}
	hex_encode(md, HASH_LEN, f->sha);
	time_rfc3339_ns(f->end, sizeof(f->end));
	if (f->direct) {
		if (tar_finish_entry(b, e) < 0)
			return -1;
		b->direct = NULL;
	} else {
		if (f->holes && ftruncate(f->fd, (off_t)f->size) < 0)
			return err_sys(e, errno, "truncate artifact '%s'", f->path);
		if (b->form == BAG_FORM_DIR && f->size >= SYNC_EACH_MIN && fdatasync(f->fd) < 0)
			return err_sys(e, errno, "fsync artifact '%s'", f->path);
	}
	xgrow(&b->pay, &b->cappay, b->npay + 1, sizeof(*b->pay));
	b->pay[b->npay].path = xstrdup(f->path);
	memcpy(b->pay[b->npay].sha, f->sha, HASH_HEX);
	b->pay[b->npay].size = f->size;
	b->npay++;
	b->pay_bytes += f->size;

	_cleanup_free_ char *jp = bag_path_json_encode(f->path);
	json_t *ent = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:O}", "path", jp, "kind",
				f->kind, "collector", f->collector, "start", f->start, "end", f->end,
				"size", (json_int_t)f->size, "sha256", f->sha, "mime",
				"application/octet-stream", "notes", f->notes);
	json_array_append_new(b->index, ent);
	mime_queue(b, ent, f);
	json_t *extra = json_pack("{s:s,s:s,s:[{s:s,s:s,s:I}]}", "kind", f->kind, "collector",
				  f->collector, "artifacts", "path", jp, "sha256", f->sha, "size",
				  (json_int_t)f->size);
	int r = chain_append(b->custody, "artifact", jp, result, extra, e);
	json_decref(extra);
	/* a large artifact (synced above) first, then its custody line; a small
	 * one joins the group */
	if (r == 0)
		r = b->form == BAG_FORM_DIR && f->size < SYNC_EACH_MIN ? group_add(b, f->size, e)
								       : group_commit(b, e);
	return r;
}

static int file_close(struct bag_file *f, const char *result, char *out_sha256,
		      struct err *e)
{
	struct bag *b = f->b;
	pthread_mutex_lock(&b->mu);
	int rc = file_finish(b, f, result, e);
	if (rc == 0 && out_sha256)
		memcpy(out_sha256, f->sha, HASH_HEX);
	b->nopen--;
	f->closed = true;
	if (rc == 0 && b->form == BAG_FORM_TAR && !f->direct) {
		xgrow(&b->pending, &b->cappending, b->npending + 1, sizeof(*b->pending));
		b->pending[b->npending++] = f;
		f = NULL;
	}
	if (rc == 0 && b->form == BAG_FORM_TAR)
		rc = flush_pending(b, e);
	if (rc < 0)
		b->broken = b->broken || b->form == BAG_FORM_TAR;
	pthread_mutex_unlock(&b->mu);
	if (f) {
		if (f->direct && rc < 0 && b->direct == f)
			b->direct = NULL;
		file_free(f);
	}
	return rc;
}

int bag_file_close(struct bag_file *f, char *out_sha256, struct err *e)
{
	if (file_close(f, "ok", out_sha256, e) < 0)
		return err_wrap(e, "bag artifact");
	return 0;
}

int bag_file_fail(struct bag_file *f, const char *reason, struct err *e)
{
	struct bag *b = f->b;
	if (f->direct) {
		/* its header is in the tar already: finish it zero-filled, noted */
		json_array_append_new(f->notes, json_pack("{s:s}", "failed", reason ? reason : ""));
		if (file_close(f, "failed", NULL, e) < 0)
			return err_wrap(e, "bag artifact");
		return 0;
	}
	pthread_mutex_lock(&b->mu);
	if (b->form == BAG_FORM_DIR) {
		close(f->fd);
		f->fd = -1;
		/* the parent is ours (created under the bag without links) */
		_cleanup_free_ char *p = xstrdup(f->path);
		unlinkat(b->dirfd, p, 0);
	}
	_cleanup_free_ char *jp = bag_path_json_encode(f->path);
	json_t *extra = json_pack("{s:s,s:s,s:s}", "kind", f->kind, "collector", f->collector,
				  "reason", reason ? reason : "");
	int rc = chain_append(b->custody, "artifact-failed", jp, "failed", extra, e);
	json_decref(extra);
	if (rc == 0)
		rc = group_commit(b, e);
	b->nopen--;
	pthread_mutex_unlock(&b->mu);
	file_free(f);
	return rc;
}

static int add_buf(struct bag *b, const char *path, const void *buf, size_t n, const char *kind,
		   const char *collector, bool json, struct err *e)
{
	struct bag_file *f;
	/* one call: no artifact-open line (nothing can be left half done by us) */
	if (file_open(b, path, kind, collector, true, n, false, &f, e) < 0)
		return -1;
	f->json = json;
	if (bag_file_write(f, buf, n, e) < 0) {
		bag_file_fail(f, e->msg, NULL);
		return err_wrap(e, "bag artifact");
	}
	return bag_file_close(f, NULL, e);
}

int bag_add_buf(struct bag *b, const char *path, const void *buf, size_t n, const char *kind,
		const char *collector, struct err *e)
{
	return add_buf(b, path, buf, n, kind, collector, false, e);
}

int bag_add_json_text(struct bag *b, const char *path, const void *buf, size_t n,
		      const char *kind, const char *collector, struct err *e)
{
	return add_buf(b, path, buf, n, kind, collector, true, e);
}

int bag_add_json(struct bag *b, const char *path, json_t *j, const char *kind,
		 const char *collector, struct err *e)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (!s)
		return err_set(e, ERR_INVALID, "bag artifact '%s': cannot serialize JSON", path);
	size_t n = strlen(s);
	s = xrealloc(s, n + 2);
	s[n++] = '\n';
	s[n] = '\0';
	int rc = add_buf(b, path, s, n, kind, collector, true, e);
	free(s);
	return rc;
}

int bag_event(struct bag *b, const char *action, const char *target, const char *result,
	      json_t *extra, struct err *e)
{
	pthread_mutex_lock(&b->mu);
	int rc;
	if (b->done)
		rc = err_set(e, ERR_WRONGSTATE, "bag '%s' is closed", b->out);
	else
		rc = chain_append(b->custody, action, target, result, extra, e);
	if (rc == 0)
		rc = group_commit(b, e);
	pthread_mutex_unlock(&b->mu);
	return rc;
}

int bag_set_info(struct bag *b, const char *key, const char *value, struct err *e)
{
	pthread_mutex_lock(&b->mu);
	int rc = b->done ? err_set(e, ERR_WRONGSTATE, "bag '%s' is closed", b->out)
			 : info_set(b, key, value, false, e);
	pthread_mutex_unlock(&b->mu);
	return rc;
}

int bag_set_index(struct bag *b, const char *key, json_t *value, struct err *e)
{
	if (!key || !*key || strcmp(key, "bag") == 0 || strcmp(key, "artifacts") == 0 || !value)
		return err_set(e, ERR_INVALID, "bad index.json field '%s'", key ? key : "");
	pthread_mutex_lock(&b->mu);
	int rc = 0;
	if (b->done) {
		rc = err_set(e, ERR_WRONGSTATE, "bag '%s' is closed", b->out);
	} else {
		if (!b->index_extra)
			b->index_extra = json_object();
		json_object_set_new(b->index_extra, key, json_deep_copy(value));
	}
	pthread_mutex_unlock(&b->mu);
	return rc;
}

int bag_set_libmagic(struct bag *b, bool on, struct err *e)
{
	pthread_mutex_lock(&b->mu);
	int rc = 0;
	if (b->done)
		rc = err_set(e, ERR_WRONGSTATE, "bag '%s' is closed", b->out);
	else
		b->no_libmagic = !on;
	pthread_mutex_unlock(&b->mu);
	return rc;
}

/* ---- seal and abort ---- */

static int pay_cmp(const void *a, const void *b)
{
	return strcmp(((const struct payload *)a)->path, ((const struct payload *)b)->path);
}

struct tagfile {
	const char *name;
	char *buf;
	size_t len;
	bool borrowed;
};

static int write_tail(struct bag *b, bool final, struct err *e)
{
	/* directory form: the last group is synced first, while the mime
	 * workers finish what is queued (the sync's wait and libmagic overlap);
	 * from here on no artifact is written */
	if (b->form == BAG_FORM_DIR && group_commit(b, e) < 0)
		return -1;
	int rc = -1;
	struct sbuf man = SBUF_INIT, tag = SBUF_INIT, idxb = SBUF_INIT;
	mime_drain(b);
	json_t *idx = json_pack("{s:s,s:O}", "bag", b->id, "artifacts", b->index);
	if (b->index_extra)
		json_object_update_missing(idx, b->index_extra);
	char *idxs = json_dumps(idx, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(idx);
	sbuf_adds(&idxb, idxs ? idxs : "{}");
	sbuf_addc(&idxb, '\n');
	free(idxs);

	if (b->npay) /* qsort wants a base even for no element */
		qsort(b->pay, b->npay, sizeof(*b->pay), pay_cmp);
	for (size_t i = 0; i < b->npay; i++) {
		_cleanup_free_ char *enc = bag_path_manifest_encode(b->pay[i].path);
		sbuf_printf(&man, "%s  %s\n", b->pay[i].sha, enc);
	}
	_cleanup_free_ char *info = info_text(b, final, final ? "complete" : "incomplete");
	size_t clen = 0;
	const char *cbuf = chain_buf(b->custody, &clen);

	/* tag files in name order; the tag manifest covers all of them */
	struct tagfile tf[] = {
		{"bag-info.txt", info, strlen(info), true},
		{"bagit.txt", (char *)bagit_txt, strlen(bagit_txt), true},
		{"custody.jsonl", (char *)cbuf, clen, true},
		{"index.json", idxb.buf, idxb.len, true},
		{"manifest-sha256.txt", man.buf ? man.buf : (char *)"", man.len, true},
	};
	for (size_t i = 0; i < ARRAY_SIZE(tf); i++) {
		char h[HASH_HEX];
		sha256_hex(tf[i].buf, tf[i].len, h);
		sbuf_printf(&tag, "%s  %s\n", h, tf[i].name);
	}
	unsigned char sig[SIGN_SIG_LEN];
	if (final && b->key && sign_buf(b->key, tag.buf, tag.len, sig, e) < 0)
		goto out;

	if (b->form == BAG_FORM_DIR) {
		if (dir_write_new(b, "index.json", idxb.buf, idxb.len, e) < 0)
			goto out;
		if (final) {
			if (dir_write_new(b, "manifest-sha256.txt", tf[4].buf, tf[4].len, e) < 0 ||
			    dir_write_new(b, "tagmanifest-sha256.txt", tag.buf, tag.len, e) < 0)
				goto out;
			if (b->key && dir_write_new(b, "signature.ed25519", sig, sizeof(sig), e) < 0)
				goto out;
			/* bag-info last: the commit point (Contain-Status: complete) */
			if (dir_replace(b, "bag-info.txt", info, strlen(info), e) < 0)
				goto out;
		}
		if (fsync(b->dirfd) < 0) {
			err_sys(e, errno, "fsync '%s'", b->out);
			goto out;
		}
	} else {
		if (flush_pending(b, e) < 0)
			goto out;
		if (tar_whole(b, "custody.jsonl", cbuf, clen, e) < 0 ||
		    tar_whole(b, "index.json", idxb.buf, idxb.len, e) < 0 ||
		    tar_whole(b, "bag-info.txt", info, strlen(info), e) < 0)
			goto out;
		if (final) {
			if (tar_whole(b, "manifest-sha256.txt", tf[4].buf, tf[4].len, e) < 0 ||
			    tar_whole(b, "tagmanifest-sha256.txt", tag.buf, tag.len, e) < 0)
				goto out;
			if (b->key && tar_whole(b, "signature.ed25519", sig, sizeof(sig), e) < 0)
				goto out;
		}
		if (archive_write_close(b->ar) != ARCHIVE_OK) {
			ar_fail(b, e, "finish tar");
			goto out;
		}
		if (b->own_outfd) {
			if (fsync(b->outfd) < 0) {
				err_sys(e, errno, "fsync '%s'", b->out);
				goto out;
			}
			int fd = steal_fd(&b->outfd);
			if (close(fd) < 0) {
				err_sys(e, errno, "close '%s'", b->out);
				goto out;
			}
		}
	}
	rc = 0;
out:
	sbuf_free(&man);
	sbuf_free(&tag);
	sbuf_free(&idxb);
	return rc;
}

int bag_seal(struct bag *b, struct err *e)
{
	pthread_mutex_lock(&b->mu);
	int rc = -1;
	if (b->done || b->broken) {
		err_set(e, ERR_WRONGSTATE, "bag is %s", b->done ? "closed" : "broken");
		goto out;
	}
	if (b->nopen) {
		err_set(e, ERR_WRONGSTATE, "%u artifact%s still open", b->nopen,
			b->nopen == 1 ? " is" : "s are");
		goto out;
	}
	json_t *extra = json_pack("{s:I,s:I}", "payload_files", (json_int_t)b->npay,
				  "payload_bytes", (json_int_t)b->pay_bytes);
	rc = chain_append(b->custody, "seal", b->id, "ok", extra, e);
	json_decref(extra);
	if (rc < 0)
		goto out;
	b->done = true;
	rc = write_tail(b, true, e);
	if (rc < 0)
		b->broken = true;
out:
	pthread_mutex_unlock(&b->mu);
	if (rc < 0)
		err_wrap(e, "seal bag '%s'", b->out);
	return rc;
}

int bag_abort(struct bag *b, const char *reason, struct err *e)
{
	pthread_mutex_lock(&b->mu);
	int rc = -1;
	if (b->done) {
		err_set(e, ERR_WRONGSTATE, "bag is closed");
		goto out;
	}
	b->done = true;
	json_t *extra = json_pack("{s:s,s:I}", "reason", reason ? reason : "", "open_artifacts",
				  (json_int_t)b->nopen);
	rc = chain_append(b->custody, "bag-abort", b->id, "incomplete", extra, e);
	json_decref(extra);
	if (rc < 0)
		goto out;
	if (b->form == BAG_FORM_TAR && b->direct) {
		/* a half-written entry: the tar cannot be finished cleanly */
		archive_write_fail(b->ar);
		b->broken = true;
		rc = err_set(e, ERR_WRONGSTATE, "an artifact was being written into the tar");
		goto out;
	}
	rc = write_tail(b, false, e);
out:
	pthread_mutex_unlock(&b->mu);
	if (rc < 0)
		err_wrap(e, "abort bag '%s'", b->out);
	return rc;
}

void bag_free(struct bag *b)
{
	if (!b)
		return;
	mime_stop(b);
	for (size_t i = 0; i < b->npending; i++)
		file_free(b->pending[i]);
	free(b->pending);
	if (b->ar) {
		if (!b->done || b->broken)
			archive_write_fail(b->ar); /* no trailer for an unfinished tar */
		archive_write_free(b->ar);
	}
	if (b->own_outfd && b->outfd >= 0)
		close(b->outfd);
	if (b->dirfd >= 0)
		close(b->dirfd);
	if (b->pdirfd >= 0)
		close(b->pdirfd);
	free(b->pdir);
	if (b->custody)
		chain_close(b->custody);
	json_decref(b->index);
	json_decref(b->index_extra);
	for (size_t i = 0; i < b->npay; i++)
		free(b->pay[i].path);
	free(b->pay);
	strset_free(&b->paths);
	bag_info_free(&b->info);
	if (b->key)
		EVP_PKEY_free(b->key);
	if (b->magic)
		magic_close(b->magic);
	free(b->spool_dir);
	free(b->name);
	free(b->out);
	pthread_mutex_destroy(&b->mu);
	free(b);
}
