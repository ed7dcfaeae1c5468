/* fslayer.c: a container's overlay upperdir (or whole root) as an OCI image
 * layer tar, plus files.json. See include/contain/fslayer.h for the contract.
 *
 * Shape: one iterative walk by directory fd (frames on an explicit stack,
 * names of a directory read and sorted when it is entered, so its fd can be
 * closed while deeper levels are walked and reopened through ".." — checked by
 * dev/ino — on the way back up).
 *
 * The bytes: one arena (a 4 MiB ring) shared by two threads. The calling
 * thread preads file content into it once; a writer thread hands the tar
 * stream to the sink straight from those bytes and hashes them there: the
 * file's SHA-256 for files.json and, for a caller that wants it
 * (fslayer_opts.tar_sha256: a bag artifact that takes the caller's digest),
 * the tar stream's. A file's content starts on a 512-byte boundary of the
 * tar, so both digests take the same 64-byte blocks and are computed
 * together, two SHA-256 states interleaved on one core (sha256x_update2:
 * SHA-NI is latency-bound, two states cost little more than one).
 * libarchive gets the arena pointer from archive_write_data and, with no
 * blocking, hands that very pointer to our write callback, which queues a
 * reference (with the file's digest attached) instead of a copy. Only
 * libarchive's own bytes (headers, padding) are copied into the arena, next
 * to the data, so consecutive small files' headers and paddings make one
 * run of tar bytes. The writer has a deep queue of jobs (no per-file
 * handoff); the arena is reused once it has passed a region.
 *
 * files.json is written as text while walking (one entry a line), not as a
 * tree of jansson objects (about 2 KiB of fresh heap per entry): hashes go
 * into fixed-width slots filled in at the end. The json_t form is parsed
 * from that text only when the caller asks for it. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <archive.h>
#include <archive_entry.h>

#include "contain/fslayer.h"
#include "contain/hashio.h"
#include "contain/sha256x.h"

#define CHUNK (256u << 10)	  /* file content per read and per job */
#define ARENA_SIZE (4u << 20)	  /* the shared ring (a power of two) */
#define QCAP 8192u		  /* jobs queued per consumer (a power of two) */
#define WBATCH (256u << 10)	  /* tar bytes gathered into one writer job */
#define WAKE_DEPTH 32		  /* a sleeping consumer is woken at this depth */
#define WAKE_BYTES (64u << 10)	  /* ... or for a job this big */
#define QBATCH 64		  /* jobs a consumer takes at once */
#define RELEASE_BYTES (512u << 10) /* ... handing their arena back after this many */
#define MAX_OPEN_DIRS 64
#define MAX_NOTES 1000
#define MAX_EXTENTS 65536	  /* beyond: gaps are merged into data */
#define MAX_JSON_EXTENTS 1024	  /* sparse map extents listed in files.json */
#define MAX_DIR_ENTRIES (8u << 20) /* names read from one directory */
#define XATTR_LIST_BYTES 65536
#define XATTR_VALUE_BYTES 65536
#define NOTE_PATH_BYTES 200

/* zeros for holes; never written */
static const unsigned char zeros[CHUNK];

/* ---------------------------------------------------------------------- */
/* the arena and the writer's job queue                                    */

/* J_TAR: the bytes go to the sink (and the tar digest); res set: they (and
 * zeros after them) are the file's content for its digest, begun and ended
 * by J_BEGIN and J_END; a job may be both */
enum { J_BEGIN = 1, J_END = 2, J_QUIT = 4, J_TAR = 8 };

struct fhash {
	unsigned char md[32];
	bool done;
};

/* a file's digest being computed */
struct fstate {
	struct sha256x c;
	bool live; /* begun, not ended */
};

struct job {
	uint64_t apos;	     /* arena position of the bytes (monotonic, never wraps) */
	uint64_t zeros;	     /* zero bytes of the file's content after them */
	struct fhash *res; /* the file's result */
	uint32_t len;	     /* bytes at apos */
	uint32_t flags;
};

struct queue {
	struct job *jobs;
	uint64_t head, tail; /* tail moves once a job is done with */
	pthread_cond_t cv;
	bool waiting;
};

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv_space; /* the producer waits for arena or queue room */
	bool prod_waiting, inited;
	unsigned char *buf;
	size_t size;
	uint64_t ahead; /* next free arena position (producer only) */
	struct queue wq;
};

static int pipe_init(struct pipe *p, bool threads, struct err *e)
{
	memset(p, 0, sizeof(*p));
	p->size = threads ? ARENA_SIZE : CHUNK;
	p->buf = xmalloc(p->size);
	if (!threads)
		return 0;
	p->wq.jobs = xcalloc(QCAP, sizeof(struct job));
	if (pthread_mutex_init(&p->mu, NULL) != 0 || pthread_cond_init(&p->cv_space, NULL) != 0 ||
	    pthread_cond_init(&p->wq.cv, NULL) != 0)
		return err_set(e, ERR_SYS, "init thread queues");
	p->inited = true;
	return 0;
}

static void pipe_destroy(struct pipe *p)
{
	free(p->buf);
	free(p->wq.jobs);
	if (p->inited) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv_space);
		pthread_cond_destroy(&p->wq.cv);
	}
	memset(p, 0, sizeof(*p));
}

static inline unsigned char *arena_ptr(const struct pipe *p, uint64_t apos)
{
	return p->buf + (apos & (p->size - 1));
}

/* the oldest arena position a queue still needs (UINT64_MAX: none); mu held */
static uint64_t q_low(const struct queue *q)
{
	return q->head != q->tail ? q->jobs[q->tail & (QCAP - 1)].apos : UINT64_MAX;
}

/* mu held: let a sleeping consumer at what is queued before the producer sleeps */
static void wake_all(struct pipe *p)
{
	if (p->wq.waiting)
		pthread_cond_signal(&p->wq.cv);
}

/* producer: queue a job (waits while the queue is full) */
static void q_post(struct pipe *p, struct queue *q, const struct job *j, bool wake)
{
	pthread_mutex_lock(&p->mu);
	while (q->head - q->tail >= QCAP) {
		wake_all(p);
		p->prod_waiting = true;
		pthread_cond_wait(&p->cv_space, &p->mu);
		p->prod_waiting = false;
	}
	q->jobs[q->head & (QCAP - 1)] = *j;
	q->head++;
	if (q->waiting && (wake || q->head - q->tail >= WAKE_DEPTH))
		pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&p->mu);
}

/* producer: n jobs in one go (waits while the queue is full) */
static void q_post_n(struct pipe *p, struct queue *q, const struct job *j, size_t n, bool wake)
{
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < n; i++) {
		while (q->head - q->tail >= QCAP) {
			wake_all(p);
			p->prod_waiting = true;
			pthread_cond_wait(&p->cv_space, &p->mu);
			p->prod_waiting = false;
		}
		q->jobs[q->head & (QCAP - 1)] = j[i];
		q->head++;
	}
	if (q->waiting && (wake || q->head - q->tail >= WAKE_DEPTH))
		pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&p->mu);
}

/* consumer: up to max queued jobs at once (waits for one): one lock for a
 * run of small files, not two per job (10,000 files were 40,000 contended
 * lock round trips between the three threads). They stay queued (their
 * bytes kept) until q_done_n. */
static size_t q_get_batch(struct pipe *p, struct queue *q, struct job *out, size_t max)
{
	pthread_mutex_lock(&p->mu);
	while (q->head == q->tail) {
		q->waiting = true;
		pthread_cond_wait(&q->cv, &p->mu);
		q->waiting = false;
	}
	size_t n = (size_t)(q->head - q->tail);
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++)
		out[i] = q->jobs[(q->tail + i) & (QCAP - 1)];
	pthread_mutex_unlock(&p->mu);
	return n;
}

static void q_done_n(struct pipe *p, struct queue *q, size_t n)
{
	if (!n)
		return;
	pthread_mutex_lock(&p->mu);
	q->tail += n;
	if (p->prod_waiting)
		pthread_cond_signal(&p->cv_space);
	pthread_mutex_unlock(&p->mu);
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

/* a hash slot in the files.json text, filled in at the end */
struct fent {
	size_t off; /* of its key ("sha256" or "sha256_data") in doc */
	struct fhash *h;
	bool full; /* "sha256" (the whole content) or "sha256_data" */
};

struct hlink {
	dev_t dev;
	ino_t ino;
	char *tarpath;	/* NULL when the first was not put in the tar */
	char *pathjson; /* the first entry's "path" value as JSON text, NULL if it had none */
	long idx;
	struct fhash *h;
	bool full, used, path_b64;
};

struct fsl {
	enum fslayer_kind kind;
	uint64_t max_file, hole_hash, deep_budget, deep_used;
	const struct sink *sink;
	struct archive *a;
	struct archive_entry *ae; /* reused for every header */
	bool threads;
	struct pipe p;
	pthread_t wth;
	bool wstarted;
	struct fstate wf;     /* the file the writer hashes */
	struct fstate mf;     /* the file this thread hashes (self) */
	bool self;	      /* files are hashed here, not on the writer (see collect_fd) */
	struct sha256x *tctx; /* the tar stream's digest, the caller's (or NULL) */
	/* the chunk being handed to libarchive: its bytes are referenced, not
	 * copied; its file job (pin_job) rides on the tar job of exactly those
	 * bytes, or is queued on its own before any other reference to them */
	bool pin, pin_held;
	uint64_t pin_apos;
	const unsigned char *pin_ptr;
	size_t pin_len;
	struct job pin_job;
	/* jobs gathered for the writer, not yet queued (apos never decreases) */
	struct job jpend[QBATCH];
	size_t njpend;
	int wfailed; /* atomic: the writer thread's sink failed */
	struct err werr;
	uint64_t tar_bytes;
	dev_t root_dev;

	struct frame *fr;
	size_t nfr, capfr;
	struct sbuf path;

	struct sbuf doc; /* files.json text */
	size_t nents;
	size_t ent_path_off, ent_path_len; /* the current entry's "path" value in doc */
	bool ent_path_b64;
	json_t *notes;
	size_t nnotes, dropped_notes;
	struct fent *fents;
	size_t nfents, capfents;
	struct fhash *hres; /* blocks of hash results */
	size_t nhres, caphres;
	struct fhash **hblocks;
	size_t nhblocks, caphblocks;
	struct hlink *hl;
	size_t hln, hlcap;

	/* the sizing pass (plan_out: no content read or hashed, the tar only
	 * counted) and the pass it bounds (plan): see fslayer_size_ctr */
	struct fslayer_plan *plan_out;
	struct fslayer_plan *plan;
	bool in_hdr;	  /* archive_write_header running: its bytes go to hdr */
	bool drop;	  /* an entry refused by the plan being closed: bytes dropped */
	struct sbuf hdr;  /* the header bytes of the entry being written */
	uint64_t changed; /* entries the plan refused */

	uint64_t tar_entries, data_bytes, hashed_bytes;
	uint64_t n_by_type[9];
	unsigned long deep_omitted;
	struct err *e;
};


/* ---------------------------------------------------------------------- */
/* the sizing pass's plan: the digest of every tar header it wrote        */

/* A tar entry's length (header, data, padding) follows from its header
 * bytes alone (size, or realsize and the sparse map's length, are in it),
 * so a second pass that writes only headers byte-identical to the first
 * pass's writes a tar no longer than the first: an entry that changed in
 * between (size, times, xattrs, a new name) has another digest and is left
 * out of the tar (listed in files.json, noted); one that went away leaves
 * its bytes missing (the artifact is then zero-filled to its declared size:
 * zero blocks after a tar's end are still a valid tar). */
#define PLAN_KEY 16 /* bytes of SHA-256 kept per header */

struct plan_slot {
	unsigned char k[PLAN_KEY];
	bool used, taken;
};

struct fslayer_plan {
	struct plan_slot *t;
	size_t n, cap;
	uint64_t bytes; /* the whole tar */
};

static void plan_key(const void *buf, size_t n, unsigned char k[PLAN_KEY])
{
	unsigned char md[SHA256X_LEN];
	sha256x(buf, n, md); /* no EVP context made and freed per header */
	memcpy(k, md, PLAN_KEY);
}

static size_t plan_pos(const unsigned char k[PLAN_KEY], size_t cap)
{
	uint64_t x;
	memcpy(&x, k, sizeof(x));
	return (size_t)x & (cap - 1);
}

static struct plan_slot *plan_find(const struct fslayer_plan *p, const unsigned char k[PLAN_KEY])
{
	if (!p->cap)
		return NULL;
	for (size_t i = plan_pos(k, p->cap);; i = (i + 1) & (p->cap - 1)) {
		struct plan_slot *s = &p->t[i];
		if (!s->used)
			return NULL;
		if (!memcmp(s->k, k, PLAN_KEY))
			return s;
	}
}

static void plan_add(struct fslayer_plan *p, const unsigned char k[PLAN_KEY])
{
	if ((p->n + 1) * 2 > p->cap) {
		size_t ocap = p->cap, ncap = ocap ? ocap * 2 : 1024;
		struct plan_slot *old = p->t;
		p->t = xcalloc(ncap, sizeof(*p->t));
		p->cap = ncap;
		for (size_t i = 0; i < ocap; i++) {
			if (!old[i].used)
				continue;
			size_t j = plan_pos(old[i].k, ncap);
			while (p->t[j].used)
				j = (j + 1) & (ncap - 1);
			p->t[j] = old[i];
		}
		free(old);
	}
	size_t j = plan_pos(k, p->cap);
	while (p->t[j].used)
		j = (j + 1) & (p->cap - 1);
	memcpy(p->t[j].k, k, PLAN_KEY);
	p->t[j].used = true;
	p->n++;
}

void fslayer_plan_free(struct fslayer_plan *p)
{
	if (!p)
		return;
	free(p->t);
	free(p);
}

uint64_t fslayer_plan_bytes(const struct fslayer_plan *p)
{
	return p ? p->bytes : 0;
}

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

/* ---------------------------------------------------------------------- */
/* files.json text                                                         */

/* a comma unless the object or array was just opened */
static void jsep(struct sbuf *b)
{
	char c = b->len ? b->buf[b->len - 1] : '{';
	if (c != '{' && c != '[')
		sbuf_addc(b, ',');
}

static void jkey(struct sbuf *b, const char *k)
{
	jsep(b);
	sbuf_addc(b, '"');
	sbuf_adds(b, k);
	sbuf_add(b, "\":", 2);
}

/* a JSON string of n bytes of valid UTF-8 without NUL (escaped as jansson does) */
static void jquote(struct sbuf *b, const char *s, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	sbuf_addc(b, '"');
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sbuf_add(b, s + run, i - run);
		run = i + 1;
		char esc[6] = {'\\', 0};
		size_t k = 2;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hexd[c >> 4];
			esc[5] = hexd[c & 15];
			k = 6;
		}
		sbuf_add(b, esc, k);
	}
	sbuf_add(b, s + run, n - run);
	sbuf_addc(b, '"');
}

static void jstr(struct sbuf *b, const char *key, const char *s)
{
	jkey(b, key);
	jquote(b, s, strlen(s));
}

static void jnum(struct sbuf *b, long long v)
{
	char d[24];
	size_t k = sizeof(d);
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do {
		d[--k] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		d[--k] = '-';
	sbuf_add(b, d + k, sizeof(d) - k);
}

static void jint(struct sbuf *b, const char *key, long long v)
{
	jkey(b, key);
	jnum(b, v);
}

static void jbool(struct sbuf *b, const char *key, bool v)
{
	jkey(b, key);
	sbuf_adds(b, v ? "true" : "false");
}

/* raw bytes under key: the string when valid UTF-8, else base64 and
 * key_base64. Returns whether base64 was used; voff, vlen: where the value went. */
static bool jbytes(struct sbuf *b, const char *key, const char *s, size_t n, size_t *voff,
		   size_t *vlen)
{
	jkey(b, key);
	size_t start = b->len;
	bool b64 = !(utf8_valid(s, n) && memchr(s, 0, n) == NULL);
	if (!b64) {
		jquote(b, s, n);
	} else {
		_cleanup_free_ char *e = base64_encode((const unsigned char *)s, n);
		jquote(b, e, strlen(e));
	}
	if (voff) {
		*voff = start;
		*vlen = b->len - start;
	}
	if (b64) {
		char k[64];
		snprintf(k, sizeof(k), "%s_base64", key);
		jbool(b, k, true);
	}
	return b64;
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

static void jtime(struct sbuf *b, const char *key, const struct timespec *ts)
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
	jstr(b, key, buf);
}

/* hash results live in blocks: one allocation per 1024 files, not per file */
static struct fhash *new_hashres(struct fsl *w)
{
	if (w->nhres == w->caphres) {
		xgrow(&w->hblocks, &w->caphblocks, w->nhblocks + 1, sizeof(*w->hblocks));
		w->hres = xcalloc(1024, sizeof(*w->hres));
		w->hblocks[w->nhblocks++] = w->hres;
		w->nhres = 0;
		w->caphres = 1024;
	}
	return &w->hres[w->nhres++];
}

/* close the current entry; with h, a hash slot is left for its digest */
static void entry_close(struct fsl *w, struct fhash *h, bool full)
{
	struct sbuf *b = &w->doc;
	if (h) {
		jsep(b);
		xgrow(&w->fents, &w->capfents, w->nfents + 1, sizeof(*w->fents));
		w->fents[w->nfents++] = (struct fent){b->len, h, full};
		sbuf_adds(b, full ? "\"sha256\":\"" : "\"sha256_data\":\"");
		sbuf_add(b, "0000000000000000000000000000000000000000000000000000000000000000\"", 65);
	}
	sbuf_addc(b, '}');
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
/* the writer thread                                                       */

/* n tar bytes to the sink (none after it failed): true when it took them */
static bool tar_out(struct fsl *w, const unsigned char *buf, size_t n)
{
	if (!n || __atomic_load_n(&w->wfailed, __ATOMIC_ACQUIRE))
		return false;
	if (sink_write(w->sink, buf, n, &w->werr) < 0) {
		__atomic_store_n(&w->wfailed, 1, __ATOMIC_RELEASE);
		return false;
	}
	return true;
}

/* A job's digests: the tar's for bytes the sink took (written: the tar
 * digest covers what was written, nothing after a failure), the file's
 * (res) whatever happened to the sink. The bytes both take are hashed
 * together. */
static void file_begin(struct fstate *f, const struct job *j)
{
	if (!(j->flags & J_BEGIN))
		return;
	if (f->live)
		sha256x_discard(&f->c);
	sha256x_init(&f->c);
	f->live = true;
}

/* the job's zeros, and the digest at its end */
static void file_end(struct fstate *f, const struct job *j)
{
	sha256x_zeros(&f->c, j->zeros);
	if (j->flags & J_END) {
		sha256x_final(&f->c, j->res->md);
		f->live = false;
		j->res->done = true;
	}
}

static void job_hash(struct fsl *w, const unsigned char *buf, const struct job *j, bool written)
{
	struct sha256x *fc = &w->wf.c, *tc = written ? w->tctx : NULL;
	if (j->res)
		file_begin(&w->wf, j);
	if (tc && j->res)
		sha256x_update2(tc, buf, j->len, fc, buf, j->len);
	else if (tc)
		sha256x_update(tc, buf, j->len);
	else if (j->res)
		sha256x_update(fc, buf, j->len);
	if (j->res)
		file_end(&w->wf, j);
}

/* one job, written and hashed (no threads) */
static void run_job(struct fsl *w, const unsigned char *buf, const struct job *j)
{
	job_hash(w, buf, j, (j->flags & J_TAR) && tar_out(w, buf, j->len));
}

/* jobs [from, to), tar bytes contiguous in the arena at p: one write, then
 * their digests */
static void write_run(struct fsl *w, const struct job *jb, size_t from, size_t to,
		      const unsigned char *p, size_t len)
{
	bool ok = tar_out(w, p, len);
	for (size_t k = from; k < to; k++)
		job_hash(w, arena_ptr(&w->p, jb[k].apos), &jb[k], ok);
}

/* The writer's loop: jobs taken in batches; the tar bytes of consecutive
 * jobs that lie next to each other in the arena go out in one write (a
 * small file is a header job and a content job: two writes a file were
 * 20,000 syscalls for 10,000 files); jobs handed back every RELEASE_BYTES
 * (so the producer can reuse the arena behind them) and at the batch's
 * end, their bytes written first. */
static void *writer_main(void *arg)
{
	struct fsl *w = arg;
	struct queue *q = &w->p.wq;
	struct job jb[QBATCH];
	for (;;) {
		size_t n = q_get_batch(&w->p, q, jb, QBATCH), done = 0, r0 = 0, rlen = 0;
		const unsigned char *rp = NULL;
		uint64_t bytes = 0;
		bool quit = false;
		for (size_t i = 0; i < n; i++) {
			if (jb[i].flags & J_QUIT) {
				quit = true; /* nothing is queued after it */
				n = i + 1;
				break;
			}
			const unsigned char *p = arena_ptr(&w->p, jb[i].apos);
			bool tar = (jb[i].flags & J_TAR) && jb[i].len;
			if (rlen && (!tar || p != rp + rlen)) {
				write_run(w, jb, r0, i, rp, rlen);
				rlen = 0;
			}
			if (!tar) {
				job_hash(w, p, &jb[i], false); /* a file's alone (zeros, not in the tar) */
			} else {
				if (!rlen) {
					rp = p;
					r0 = i;
				}
				rlen += jb[i].len;
			}
			bytes += jb[i].len;
			if (bytes >= RELEASE_BYTES) {
				if (rlen)
					write_run(w, jb, r0, i + 1, rp, rlen);
				rlen = 0;
				q_done_n(&w->p, q, i + 1 - done);
				done = i + 1;
				bytes = 0;
			}
		}
		if (rlen)
			write_run(w, jb, r0, quit ? n - 1 : n, rp, rlen);
		q_done_n(&w->p, q, n - done);
		if (quit)
			return NULL;
	}
}

/* queue the gathered jobs */
static void jflush(struct fsl *w, bool wake)
{
	if (!w->njpend)
		return;
	size_t n = w->njpend;
	w->njpend = 0;
	q_post_n(&w->p, &w->p.wq, w->jpend, n, wake);
}

/* a job, gathered (small files come in runs); queued at once when large.
 * Tar bytes right after a run of tar bytes in the arena join it. */
static void jadd(struct fsl *w, const struct job *j)
{
	struct job *l = w->njpend ? &w->jpend[w->njpend - 1] : NULL;
	if (l && !j->res && !l->res && j->flags == J_TAR && l->flags == J_TAR &&
	    l->apos + l->len == j->apos &&
	    l->len + j->len <= WBATCH && (j->apos & (w->p.size - 1)) != 0) {
		l->len += j->len;
		if (l->len >= WBATCH)
			jflush(w, true);
		return;
	}
	w->jpend[w->njpend++] = *j;
	bool big = j->len >= WAKE_BYTES || j->zeros >= WAKE_BYTES;
	if (big || w->njpend == QBATCH)
		jflush(w, big);
}

/* main thread: n (<= CHUNK) contiguous arena bytes, once the writer has
 * passed them. Without threads the arena is one chunk, used at once. */
static unsigned char *arena_alloc(struct fsl *w, size_t n, uint64_t *apos)
{
	struct pipe *p = &w->p;
	if (!w->threads) {
		*apos = 0;
		return p->buf;
	}
	pthread_mutex_lock(&p->mu);
	for (;;) {
		uint64_t pos = p->ahead;
		size_t off = (size_t)(pos & (p->size - 1));
		if (off + n > p->size)
			pos += p->size - off; /* regions never straddle the end */
		uint64_t low = q_low(&p->wq);
		if (w->pin && w->pin_apos < low)
			low = w->pin_apos;
		if (w->njpend && w->jpend[0].apos < low)
			low = w->jpend[0].apos;
		if (low == UINT64_MAX || pos + n - low <= p->size) {
			p->ahead = pos + n;
			*apos = pos;
			break;
		}
		if (w->njpend) { /* what we hold back may be what we wait for */
			pthread_mutex_unlock(&p->mu);
			jflush(w, true);
			pthread_mutex_lock(&p->mu);
			continue;
		}
		wake_all(p);
		p->prod_waiting = true;
		pthread_cond_wait(&p->cv_space, &p->mu);
		p->prod_waiting = false;
	}
	pthread_mutex_unlock(&p->mu);
	return arena_ptr(p, *apos);
}

/* a file job (content at apos, or zeros only): to the writer, or done here
 * (no threads, or files hashed here) */
static void file_post(struct fsl *w, const struct job *j)
{
	w->hashed_bytes += j->len + j->zeros;
	if (w->self) {
		file_begin(&w->mf, j);
		sha256x_update(&w->mf.c, arena_ptr(&w->p, j->apos), j->len);
		file_end(&w->mf, j);
	} else if (w->threads) {
		jadd(w, j);
	} else {
		run_job(w, arena_ptr(&w->p, j->apos), j);
	}
}

/* the pinned chunk's file job, on its own (before any other use of its bytes) */
static void pin_release(struct fsl *w)
{
	if (!w->pin_held)
		return;
	w->pin_held = false;
	file_post(w, &w->pin_job);
}

/* The tar job *j of some tar bytes: when they are exactly the pinned chunk
 * (whole), its file job rides on it (one job hashes both digests);
 * otherwise that file job goes on its own first */
static void pin_ride(struct fsl *w, bool whole, struct job *j)
{
	if (whole && w->pin_held) {
		*j = w->pin_job;
		j->flags |= J_TAR;
		w->pin_held = false;
		w->hashed_bytes += j->len + j->zeros;
	}
	pin_release(w);
}

/* tar bytes on their way to the sink (the writer thread, or at once) */
static la_ssize_t tar_emit(struct fsl *w, struct archive *a, const void *buf, size_t n)
{
	if (__atomic_load_n(&w->wfailed, __ATOMIC_ACQUIRE)) {
		archive_set_error(a, EIO, "sink failed");
		return -1;
	}
	if (w->plan && (n > w->plan->bytes || w->tar_bytes > w->plan->bytes - n)) {
		/* cannot happen (every header is one the sizing pass wrote) */
		archive_set_error(a, EFBIG, "layer tar longer than its sizing pass");
		return -1;
	}
	const unsigned char *b = buf;
	uintptr_t at = (uintptr_t)b, pin = (uintptr_t)w->pin_ptr;
	bool pinned = w->pin && at >= pin && n <= w->pin_len && at - pin <= w->pin_len - n;
	if (!w->threads) {
		struct job j = {.flags = J_TAR, .len = (uint32_t)n};
		pin_ride(w, pinned && at == pin && n == w->pin_len, &j);
		/* the arena is one chunk: not the home of libarchive's own bytes */
		run_job(w, b, &j);
		if (w->wfailed) {
			archive_set_error(a, EIO, "sink failed");
			return -1;
		}
		w->tar_bytes += n;
		return (la_ssize_t)n;
	}
	if (pinned) {
		/* file content already in the arena: referenced, not copied */
		struct job j = {.apos = w->pin_apos + (uint64_t)(at - pin), .len = (uint32_t)n,
				.flags = J_TAR};
		pin_ride(w, at == pin && n == w->pin_len, &j);
		jadd(w, &j);
	} else {
		/* libarchive's own bytes (headers, padding): copied next to the data */
		pin_release(w);
		for (size_t left = n; left;) {
			size_t k = left > CHUNK ? CHUNK : left;
			struct job j = {.len = (uint32_t)k, .flags = J_TAR};
			unsigned char *d = arena_alloc(w, k, &j.apos);
			memcpy(d, b, k);
			jadd(w, &j);
			b += k;
			left -= k;
		}
	}
	w->tar_bytes += n;
	return (la_ssize_t)n;
}

static la_ssize_t tar_write_cb(struct archive *a, void *ctx, const void *buf, size_t n)
{
	struct fsl *w = ctx;
	if (w->in_hdr) {
		/* kept until the header is known to be one the plan has */
		sbuf_add(&w->hdr, buf, n);
		return (la_ssize_t)n;
	}
	if (w->drop)
		return (la_ssize_t)n;
	if (w->plan_out) {
		w->tar_bytes += n; /* the sizing pass only counts */
		return (la_ssize_t)n;
	}
	return tar_emit(w, a, buf, n);
}

static int threads_start(struct fsl *w)
{
	if (!w->threads)
		return 0;
	if (pthread_create(&w->wth, NULL, writer_main, w) != 0) {
		w->threads = false;
		return 0;
	}
	w->wstarted = true;
	return 0;
}

/* hand over what is gathered and stop the writer (it finishes its queue) */
static void threads_stop(struct fsl *w)
{
	if (w->wstarted) {
		jflush(w, true);
		struct job q = {.apos = w->p.ahead, .flags = J_QUIT};
		q_post(&w->p, &w->p.wq, &q, true);
		pthread_join(w->wth, NULL);
		w->wstarted = false;
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

/* The header just written (its bytes in w->hdr): the sizing pass records
 * it; the pass after it sends it on only when the sizing pass wrote the
 * same bytes, else it closes the entry with its bytes dropped (1: left out,
 * noted). */
static int tar_header_planned(struct fsl *w, const char *path, size_t plen)
{
	unsigned char k[PLAN_KEY];
	plan_key(w->hdr.buf, w->hdr.len, k);
	if (w->plan_out) {
		plan_add(w->plan_out, k);
		w->tar_bytes += w->hdr.len;
		w->tar_entries++;
		return 0;
	}
	struct plan_slot *s = plan_find(w->plan, k);
	if (s && !s->taken) {
		s->taken = true;
		if (tar_emit(w, w->a, w->hdr.buf, w->hdr.len) < 0)
			return tar_fatal(w);
		w->tar_entries++;
		return 0;
	}
	w->drop = true;
	int r = archive_write_finish_entry(w->a);
	w->drop = false;
	if (r == ARCHIVE_FATAL)
		return tar_fatal(w);
	w->changed++;
	add_note(w, path, plen,
		 "changed between the sizing pass and the capture: left out of the tar (listed "
		 "and hashed in files.json)");
	return 1;
}

/* 0 written, 1 refused for this entry (noted), -1 fatal */
static int tar_header(struct fsl *w, struct archive_entry *ae, const char *path, size_t plen)
{
	bool planned = w->plan_out || w->plan;
	if (planned) {
		w->hdr.len = 0;
		w->in_hdr = true;
	}
	int r = archive_write_header(w->a, ae);
	w->in_hdr = false;
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (planned)
			return tar_header_planned(w, path, plen);
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

/* the reused entry, cleared */
static struct archive_entry *ae_get(struct fsl *w)
{
	return archive_entry_clear(w->ae);
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
	struct archive_entry *ae = ae_get(w);
	struct stat m = *st;
	m.st_mode = S_IFREG | (st->st_mode & 0666);
	ae_meta(ae, tarpath, &m);
	archive_entry_set_size(ae, 0);
	int r = tar_header(w, ae, tarpath, strlen(tarpath));
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

/* xattrs of an open fd, or (fd < 0) of NAME in directory dfd, never
 * following it (Linux 6.13's listxattrat/getxattrat: the sizing pass reads
 * a file's xattrs without opening it; ENOSYS before) */
#ifndef SYS_listxattrat
#define SYS_getxattrat 464
#define SYS_listxattrat 465
#endif
struct xattr_at_args {
	uint64_t value;
	uint32_t size, flags;
};

static ssize_t xa_list(int fd, int dfd, const char *name, char *list, size_t size)
{
	if (fd >= 0)
		return flistxattr(fd, list, size);
	return syscall(SYS_listxattrat, dfd, name, AT_SYMLINK_NOFOLLOW, list, size);
}

static ssize_t xa_get(int fd, int dfd, const char *name, const char *key, void *val, size_t size)
{
	if (fd >= 0)
		return fgetxattr(fd, key, val, size);
	struct xattr_at_args a = {.value = (uint64_t)(uintptr_t)val, .size = (uint32_t)size};
	return syscall(SYS_getxattrat, dfd, name, AT_SYMLINK_NOFOLLOW, key, &a, sizeof(a));
}

/* whether this kernel has listxattrat (-1 not yet known, 0 no, 1 yes) */
static int xattrat_ok = -1;

static bool have_xattrat(int dfd, const char *name)
{
	int ok = __atomic_load_n(&xattrat_ok, __ATOMIC_RELAXED);
	if (ok < 0) {
		char l[1];
		ok = !(syscall(SYS_listxattrat, dfd, name, AT_SYMLINK_NOFOLLOW, l, 0) < 0 &&
		       errno == ENOSYS);
		__atomic_store_n(&xattrat_ok, ok, __ATOMIC_RELAXED);
	}
	return ok;
}

/* Read the xattrs of fd (or, fd < 0, of NAME in dfd): into ae (may be NULL)
 * and into the current entry's "xattrs". Sets *opaque for an overlay opaque
 * directory, *metacopy for a metacopy file. */
static void read_xattrs_at(struct fsl *w, int fd, int dfd, const char *fname,
			   struct archive_entry *ae, bool *opaque, bool *metacopy)
{
	char list[XATTR_LIST_BYTES];
	ssize_t n = xa_list(fd, dfd, fname, list, sizeof(list));
	if (n <= 0) {
		if (n < 0 && errno == ERANGE)
			add_note(w, w->path.buf, w->path.len, "xattr list larger than %d bytes: not read",
				 XATTR_LIST_BYTES);
		return;
	}
	_cleanup_free_ char *val = xmalloc(XATTR_VALUE_BYTES);
	bool open = false;
	for (ssize_t off = 0; off < n;) {
		const char *name = list + off;
		size_t nl = strnlen(name, (size_t)(n - off));
		off += (ssize_t)nl + 1;
		if (nl == 0 || (ssize_t)off > n)
			continue;
		ssize_t vl = xa_get(fd, dfd, fname, name, val, XATTR_VALUE_BYTES);
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
			if (!open) {
				jkey(&w->doc, "xattrs");
				sbuf_addc(&w->doc, '{');
				open = true;
			}
			_cleanup_free_ char *b = base64_encode((const unsigned char *)val, (size_t)vl);
			jsep(&w->doc);
			jquote(&w->doc, name, nl);
			sbuf_addc(&w->doc, ':');
			jquote(&w->doc, b, strlen(b));
		}
	}
	if (open)
		sbuf_addc(&w->doc, '}');
}

static void read_xattrs(struct fsl *w, int fd, struct archive_entry *ae, bool *opaque,
			bool *metacopy)
{
	read_xattrs_at(w, fd, -1, NULL, ae, opaque, metacopy);
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

/* Stream [off, off+len) of fd to the file's digest and (to_tar) the
 * archive, read once into the arena. last: the final chunk ends the hash. *short_read set
 * if the file gave less (the rest is zeros, so the tar stays consistent). */
static int stream_data(struct fsl *w, int fd, off_t off, uint64_t len, bool to_tar,
		       struct fhash *h, bool *first, bool last, bool *short_read)
{
	if (w->plan_out) {
		/* the sizing pass: the tar's length only, nothing read */
		*first = false;
		if (!to_tar)
			return 0;
		for (; len; len -= len > CHUNK ? CHUNK : len) {
			size_t k = len > CHUNK ? CHUNK : (size_t)len;
			if (tar_write_all(w, zeros, k) < 0)
				return -1;
			w->data_bytes += k;
		}
		return 0;
	}
	do {
		size_t want = len > CHUNK ? CHUNK : (size_t)len;
		uint64_t apos;
		unsigned char *buf = arena_alloc(w, want, &apos);
		size_t got = 0;
		if (!*short_read) { /* an error reads as the file's end */
			ssize_t r = pread_all(fd, buf, want, off);
			got = r > 0 ? (size_t)r : 0;
			*short_read = got < want;
		}
		if (got < want)
			memset(buf + got, 0, want - got);
		len -= want;
		off += (off_t)want;
		struct job j = {.apos = apos, .res = h, .len = (uint32_t)want};
		if (*first)
			j.flags |= J_BEGIN;
		if (last && len == 0)
			j.flags |= J_END;
		*first = false;
		/* pinned until libarchive has handed its pointers on */
		w->pin = true;
		w->pin_apos = apos;
		w->pin_ptr = buf;
		w->pin_len = want;
		w->pin_job = j;
		w->pin_held = true;
		if (w->self)
			pin_release(w); /* hashed here, now: the tar bytes go alone */
		int r = 0;
		if (to_tar) {
			r = tar_write_all(w, buf, want);
			if (r == 0)
				w->data_bytes += want;
		}
		pin_release(w);
		w->pin = false;
		if (r < 0)
			return -1;
	} while (len);
	return 0;
}

/* a hole: skipped by the pax sparse writer; hashed as zeros when hash_zeros */
static int stream_hole(struct fsl *w, uint64_t len, bool to_tar, bool hash_zeros,
		       struct fhash *h, bool *first, bool last)
{
	if (!w->plan_out && (hash_zeros || last || *first)) {
		struct job j = {.apos = w->p.ahead, .res = h, .zeros = hash_zeros ? len : 0};
		if (*first)
			j.flags |= J_BEGIN;
		if (last)
			j.flags |= J_END;
		*first = false;
		file_post(w, &j);
	}
	if (to_tar) {
		while (len) {
			size_t k = len > sizeof(zeros) ? sizeof(zeros) : (size_t)len;
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

/* open a files.json entry for the current path (w->path), deep entries by
 * parent; its common fields written, the entry left open */
static void new_entry(struct fsl *w, const struct frame *f, const char *name, int type,
		      const struct stat *st, long *idx)
{
	struct sbuf *b = &w->doc;
	w->ent_path_len = 0;
	w->ent_path_b64 = false;
	if (w->plan_out) {
		/* the sizing pass writes no files.json: what an entry adds to
		 * the text after this is dropped at the next one */
		b->len = 0;
		*idx = (long)w->nents++;
		return;
	}
	sbuf_add(b, w->nents ? ",\n{" : "\n{", w->nents ? 3 : 2);
	if (w->path.len > FSLAYER_DEEP_PATH) {
		jint(b, "parent", f->idx);
		jbytes(b, "name", name, strlen(name), NULL, NULL);
	} else {
		w->ent_path_b64 = jbytes(b, "path", w->path.buf, w->path.len, &w->ent_path_off,
					 &w->ent_path_len);
	}
	jkey(b, "type");
	sbuf_addc(b, '"');
	sbuf_adds(b, type_names[type]);
	sbuf_addc(b, '"');
	char mode[8] = "\"0000\"";
	unsigned m = (unsigned)(st->st_mode & 07777);
	for (int i = 4; i >= 1; i--, m >>= 3)
		mode[i] = (char)('0' + (m & 7));
	jkey(b, "mode");
	sbuf_add(b, mode, 6);
	jint(b, "uid", st->st_uid);
	jint(b, "gid", st->st_gid);
	jint(b, "size", (long long)st->st_size);
	jtime(b, "mtime", &st->st_mtim);
	jtime(b, "ctime", &st->st_ctim);
	jtime(b, "atime", &st->st_atim);
	jint(b, "inode", (long long)st->st_ino);
	jint(b, "nlink", (long long)st->st_nlink);
	*idx = (long)w->nents++;
	w->n_by_type[type]++;
}

/* the current entry's "path" value, for a later hard link's "hardlink_to" */
static char *entry_pathjson(const struct fsl *w)
{
	if (!w->ent_path_len)
		return NULL;
	char *s = xmalloc(w->ent_path_len + 1);
	memcpy(s, w->doc.buf + w->ent_path_off, w->ent_path_len);
	s[w->ent_path_len] = '\0';
	return s;
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

/* a regular file, stat'ed and (fd >= 0) opened; fd < 0 only in the sizing
 * pass for a file that is not sparse: nothing of it is read then */
static int do_regular_fd(struct fsl *w, const struct frame *f, const char *name,
			 struct stat *st, int fd)
{
	struct sbuf *b = &w->doc;
	long idx;
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
		new_entry(w, f, name, T_HARDLINK, st, &idx);
		if (hl->pathjson) {
			jkey(b, "hardlink_to");
			sbuf_adds(b, hl->pathjson);
		}
		if (hl->path_b64)
			jbool(b, "hardlink_to_base64", true);
		jint(b, "hardlink_index", hl->idx);
		bool in_tar = hl->tarpath && deep_ok(w, w->path.len);
		if (in_tar) {
			struct archive_entry *ae = ae_get(w);
			ae_meta(ae, w->path.buf, st);
			archive_entry_set_size(ae, 0);
			archive_entry_copy_hardlink(ae, hl->tarpath);
			int r = tar_header(w, ae, w->path.buf, w->path.len);
			if (r < 0 || (r == 0 && tar_finish(w) < 0))
				return -1;
			in_tar = r == 0;
		}
		jbool(b, "in_tar", in_tar);
		entry_close(w, hl->h, hl->full);
		return 0;
	}

	new_entry(w, f, name, T_FILE, st, &idx);
	char *pathjson = st->st_nlink > 1 && !again ? entry_pathjson(w) : NULL;
	bool path_b64 = w->ent_path_b64;
	struct archive_entry *ae = ae_get(w);
	bool metacopy = false;
	read_xattrs_at(w, fd, f->fd, name, ae, NULL, &metacopy);
	if (metacopy && w->kind == FSLAYER_UPPER) {
		jbool(b, "metacopy", true);
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
	struct ext one = {0, st->st_size};
	const struct ext *ex = &one;
	if (!sparse) {
		next = st->st_size > 0 ? 1 : 0;
		data = (uint64_t)st->st_size;
	} else {
		ex = ext;
	}
	uint64_t holes = (uint64_t)st->st_size - data;
	bool hash_zeros = holes <= w->hole_hash;
	if (sparse) {
		jkey(b, "sparse");
		sbuf_addc(b, '{');
		jint(b, "data_bytes", (long long)data);
		jint(b, "extents", next);
		jkey(b, "map");
		sbuf_addc(b, '[');
		for (long i = 0; i < next && i < MAX_JSON_EXTENTS; i++) {
			jsep(b);
			sbuf_addc(b, '[');
			jnum(b, (long long)ex[i].off);
			sbuf_addc(b, ',');
			jnum(b, (long long)ex[i].len);
			sbuf_addc(b, ']');
		}
		sbuf_addc(b, ']');
		if (next > MAX_JSON_EXTENTS)
			jbool(b, "map_truncated", true);
		sbuf_addc(b, '}');
		if (!hash_zeros)
			add_note(w, w->path.buf, w->path.len,
				 "sparse with %llu hole bytes: sha256_data covers its data extents only",
				 (unsigned long long)holes);
	}

	const char *note = NULL;
	bool to_tar = data <= w->max_file && deep_ok(w, w->path.len);
	if (data > w->max_file) {
		note = "over max_file_bytes: content not in the tar";
		add_note(w, w->path.buf, w->path.len,
			 "%llu bytes over max_file_bytes (%llu): hashed, content left out of the tar",
			 (unsigned long long)data, (unsigned long long)w->max_file);
	}
	if (to_tar) {
		ae_meta(ae, w->path.buf, st);
		archive_entry_set_size(ae, st->st_size);
		if (sparse) {
			for (long i = 0; i < next; i++)
				archive_entry_sparse_add_entry(ae, ex[i].off, ex[i].len);
			if (next == 0)
				archive_entry_sparse_add_entry(ae, st->st_size, 0);
		}
		int r = tar_header(w, ae, w->path.buf, w->path.len);
		if (r < 0) {
			free(pathjson);
			return -1;
		}
		to_tar = r == 0;
	}

	struct fhash *h = new_hashres(w);
	if (again) {
		if (to_tar)
			again->tarpath = xstrdup(w->path.buf);
	} else if (st->st_nlink > 1) {
		struct hlink *n = hl_add(w, st->st_dev, st->st_ino);
		n->tarpath = to_tar ? xstrdup(w->path.buf) : NULL;
		n->pathjson = pathjson;
		n->path_b64 = path_b64;
		n->idx = idx;
		n->h = h;
		n->full = hash_zeros;
		pathjson = NULL;
	}
	free(pathjson);

	if (data > CHUNK && !w->plan_out)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	bool first = true, short_read = false;
	off_t pos = 0;
	for (long i = 0; i < next; i++) {
		bool last_ext = i == next - 1 && ex[i].off + ex[i].len == st->st_size;
		if (ex[i].off > pos &&
		    stream_hole(w, (uint64_t)(ex[i].off - pos), to_tar, hash_zeros, h, &first, false) < 0)
			return -1;
		if (stream_data(w, fd, ex[i].off, (uint64_t)ex[i].len, to_tar, h, &first, last_ext,
				&short_read) < 0)
			return -1;
		pos = ex[i].off + ex[i].len;
	}
	if (pos < st->st_size || first) {
		if (stream_hole(w, (uint64_t)(st->st_size - pos), to_tar, hash_zeros, h, &first, true) < 0)
			return -1;
	}
	if (short_read) {
		note = "changed while read: the rest is zeros";
		add_note(w, w->path.buf, w->path.len, "shrank or failed while read: the rest is zeros");
	}
	if (note)
		jstr(b, "note", note);
	jbool(b, "in_tar", to_tar);
	entry_close(w, h, hash_zeros);
	if (to_tar && tar_finish(w) < 0)
		return -1;
	return 0;
}

static int do_regular(struct fsl *w, const struct frame *f, const char *name, struct stat *st)
{
	/* The sizing pass opens only what may be sparse (its map needs an fd):
	 * the rest is the walk's stat and the xattrs read by name. What it gets
	 * wrong (the file changed) only leaves that entry out of the tar. */
	if (w->plan_out && !((uint64_t)st->st_blocks * 512 < (uint64_t)st->st_size) &&
	    have_xattrat(f->fd, name))
		return do_regular_fd(w, f, name, st, -1);
	int fd = openat(f->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(f->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	_cleanup_close_ int fdc = fd;
	struct sbuf *b = &w->doc;
	long idx;
	if (fd < 0) {
		int errnum = errno;
		new_entry(w, f, name, T_FILE, st, &idx);
		jbool(b, "in_tar", false);
		jstr(b, "note", "could not be opened");
		entry_close(w, NULL, false);
		add_note(w, w->path.buf, w->path.len, "open: %s", strerror(errnum));
		return 0;
	}
	struct stat st2;
	if (fstat(fd, &st2) < 0 || !S_ISREG(st2.st_mode) || st2.st_dev != st->st_dev ||
	    st2.st_ino != st->st_ino) {
		new_entry(w, f, name, T_FILE, st, &idx);
		jbool(b, "in_tar", false);
		jstr(b, "note", "replaced while read");
		entry_close(w, NULL, false);
		add_note(w, w->path.buf, w->path.len, "replaced between stat and open: skipped");
		return 0;
	}
	*st = st2;

	return do_regular_fd(w, f, name, st, fd);
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
	struct sbuf *b = &w->doc;
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

	new_entry(w, f, name, hl ? T_HARDLINK : type, st, &idx);
	if (type == T_CHAR || type == T_BLOCK) {
		jint(b, "rdev_major", major(st->st_rdev));
		jint(b, "rdev_minor", minor(st->st_rdev));
	}
	char target[PATH_MAX + 1];
	ssize_t tl = -1;
	if (type == T_SYMLINK) {
		tl = readlinkat(f->fd, name, target, sizeof(target) - 1);
		if (tl < 0) {
			add_note(w, w->path.buf, w->path.len, "readlink: %s", strerror(errno));
			jbool(b, "in_tar", false);
			entry_close(w, NULL, false);
			return 0;
		}
		target[tl] = '\0';
		jbytes(b, "link_target", target, (size_t)tl, NULL, NULL);
	}
	if (type == T_SOCKET) {
		jbool(b, "in_tar", false);
		jstr(b, "note", "socket: a tar cannot hold it");
		entry_close(w, NULL, false);
		add_note(w, w->path.buf, w->path.len, "socket: listed in files.json only");
		return 0;
	}
	_cleanup_free_ char *tp = NULL;
	if (whiteout) {
		tp = wh_path(w, f, name);
		jbool(b, "whiteout", true);
		if (w->path.len <= FSLAYER_DEEP_PATH)
			jbytes(b, "tar_path", tp, strlen(tp), NULL, NULL);
	}
	const char *tarpath = tp ? tp : w->path.buf;
	bool in_tar = deep_ok(w, strlen(tarpath));
	if (in_tar && whiteout) {
		if (tar_marker(w, tarpath, st) < 0)
			return -1;
	} else if (in_tar) {
		struct archive_entry *ae = ae_get(w);
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
		if (r < 0 || (r == 0 && tar_finish(w) < 0))
			return -1;
		in_tar = r == 0;
	}
	jbool(b, "in_tar", in_tar);
	if (hl) {
		jint(b, "hardlink_index", hl->idx);
	} else if (!whiteout && st->st_nlink > 1) {
		struct hlink *n = hl_add(w, st->st_dev, st->st_ino);
		n->tarpath = in_tar ? xstrdup(tarpath) : NULL;
		n->pathjson = entry_pathjson(w);
		n->path_b64 = w->ent_path_b64;
		n->idx = idx;
	}
	entry_close(w, NULL, false);
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
		new_entry(w, f, name, T_DIR, st0, &idx);
		jbool(&w->doc, "in_tar", false);
		jstr(&w->doc, "note", "could not be opened");
		entry_close(w, NULL, false);
		add_note(w, w->path.buf, w->path.len, "open directory: %s",
			 fd < 0 ? strerror(errnum) : "replaced while read");
		return 0;
	}
	new_entry(w, f, name, T_DIR, &st, &idx);
	struct archive_entry *ae = ae_get(w);
	bool opaque = false;
	read_xattrs(w, fd, ae, &opaque, NULL);
	opaque = opaque && w->kind == FSLAYER_UPPER;
	if (opaque)
		jbool(&w->doc, "opaque", true);

	bool mount = st.st_dev != w->root_dev;
	struct frame nf = {.fd = fd, .dev = st.st_dev, .ino = st.st_ino, .idx = idx, .name = name};
	if (mount) {
		jbool(&w->doc, "mount_point", true);
		jstr(&w->doc, "note", "another filesystem mounted here: not walked");
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
			frame_free(&nf);
			return -1;
		}
		in_tar = r == 0;
	}
	jbool(&w->doc, "in_tar", in_tar);
	entry_close(w, NULL, false);
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
	sbuf_free(&w->hdr);
	if (w->a)
		archive_write_free(w->a);
	if (w->ae)
		archive_entry_free(w->ae);
	pipe_destroy(&w->p);
	if (w->wf.live)
		sha256x_discard(&w->wf.c);
	if (w->mf.live)
		sha256x_discard(&w->mf.c);
	sbuf_free(&w->doc);
	json_decref(w->notes);
	for (size_t i = 0; i < w->nhblocks; i++)
		free(w->hblocks[i]);
	free(w->hblocks);
	free(w->fents);
	for (size_t i = 0; i < w->hlcap; i++)
		if (w->hl[i].used) {
			free(w->hl[i].tarpath);
			free(w->hl[i].pathjson);
		}
	free(w->hl);
}

/* digests into their slots, then the document's tail: stats and notes */
static void doc_finish(struct fsl *w, double t0)
{
	struct sbuf *b = &w->doc;
	for (size_t i = 0; i < w->nfents; i++) {
		struct fent *fe = &w->fents[i];
		size_t klen = fe->full ? 10 : 15; /* "sha256":"  "sha256_data":" */
		char *p = b->buf + fe->off;
		if (fe->h && fe->h->done) {
			char hex[65];
			hex_encode(fe->h->md, 32, hex);
			memcpy(p + klen, hex, 64);
		} else {
			/* no digest (cannot happen on success): null, padded with blanks */
			memset(p, ' ', klen + 65);
			memcpy(p, fe->full ? "\"sha256\":null" : "\"sha256_data\":null",
			       fe->full ? 13 : 18);
		}
	}
	if (w->changed) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "%llu entries changed between the sizing pass and the capture: left out of "
			 "the tar",
			 (unsigned long long)w->changed);
		json_array_append_new(w->notes, json_string(msg));
	}
	if (w->dropped_notes) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%zu more notes not listed", w->dropped_notes);
		json_array_append_new(w->notes, json_string(msg));
	}
	sbuf_adds(b, w->nents ? "\n]" : "]");
	jkey(b, "stats");
	sbuf_addc(b, '{');
	jint(b, "entries", (long long)w->nents);
	jint(b, "tar_entries", (long long)w->tar_entries);
	jint(b, "tar_bytes", (long long)w->tar_bytes);
	jint(b, "data_bytes", (long long)w->data_bytes);
	jint(b, "hashed_bytes", (long long)w->hashed_bytes);
	long long us = (long long)((time_mono() - t0) * 1e6);
	char frac[8];
	put_digits(frac, (unsigned long)(us % 1000000), 6);
	jint(b, "seconds", us / 1000000);
	sbuf_addc(b, '.');
	sbuf_add(b, frac, 6);
	jkey(b, "by_type");
	sbuf_addc(b, '{');
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		if (w->n_by_type[i])
			jint(b, type_names[i], (long long)w->n_by_type[i]);
	sbuf_add(b, "}}", 2);
	jkey(b, "notes");
	_cleanup_free_ char *nj = json_dumps(w->notes, JSON_COMPACT);
	sbuf_adds(b, nj ? nj : "[]");
	sbuf_add(b, "}\n", 2);
}

/* plan_out: the sizing pass (no sink; res untouched, plan_out->bytes set) */
static int collect_fd(int rootfd, enum fslayer_kind kind, const char *source,
		      const struct fslayer_opts *o, const struct sink *tar, const char *extra_note,
		      struct fslayer_result *res, struct fslayer_plan *plan_out, struct err *e)
{
	static const struct fslayer_opts defaults;
	if (!o)
		o = &defaults;
	if (res)
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
		.tctx = plan_out ? NULL : o->tar_sha256,
		.threads = !o->no_threads && !plan_out,
		/* Without SHA-NI two states on one core cost what two hashes
		 * do: the writer keeps the tar's, the files are hashed here as
		 * they are read (the two cores share the two chains). */
		.self = !o->no_threads && !plan_out && !sha256x_accelerated(),
		.plan_out = plan_out,
		.plan = plan_out ? NULL : o->plan,
		.notes = json_array(),
		.e = e,
	};
	sbuf_adds(&w.path, "");
	/* the document's head: all but stats and notes, which follow the entries */
	struct sbuf *b = &w.doc;
	sbuf_addc(b, '{');
	jstr(b, "collector", "fslayer");
	jstr(b, "layer", kind == FSLAYER_UPPER ? "upperdir" : "rootfs");
	jbool(b, "whole_root", kind == FSLAYER_ROOT);
	if (source)
		jbytes(b, "source", source, strlen(source), NULL, NULL);
	jstr(b, "time", started);
	jstr(b, "tar_format", "pax (OCI image layer)");
	jint(b, "max_file_bytes", (long long)w.max_file);
	jkey(b, "entries");
	sbuf_addc(b, '[');

	int ret = -1;
	w.ae = archive_entry_new();
	if (!w.ae) {
		close(fd);
		err_set(e, ERR_SYS, "create archive entry");
		goto out;
	}
	if (pipe_init(&w.p, w.threads, e) < 0) {
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
	if (plan_out) {
		plan_out->bytes = w.tar_bytes;
		ret = 0;
		goto out;
	}
	if (extra_note)
		json_array_append_new(w.notes, json_string(extra_note));
	doc_finish(&w, t0);

	if (!o->files_text_only) {
		json_error_t je;
		res->files = json_loadb(w.doc.buf, w.doc.len, 0, &je);
		if (!res->files) {
			err_set(e, ERR_INVALID, "files.json: %s at %d", je.text, je.position);
			goto out;
		}
	}
	res->files_len = w.doc.len;
	res->files_text = sbuf_steal(&w.doc);
	res->notes = json_incref(w.notes);
	res->whole_root = kind == FSLAYER_ROOT;
	res->entries = w.nents;
	res->tar_entries = w.tar_entries;
	res->tar_bytes = w.tar_bytes;
	res->data_bytes = w.data_bytes;
	res->hashed_bytes = w.hashed_bytes;
	res->changed = w.changed;
	ret = 0;
out:
	fsl_free(&w);
	return ret;
}

int fslayer_collect_fd(int rootfd, enum fslayer_kind kind, const char *source,
		       const struct fslayer_opts *o, const struct sink *tar,
		       struct fslayer_result *res, struct err *e)
{
	return collect_fd(rootfd, kind, source, o, tar, NULL, res, NULL, e);
}

static int collect_dir(const char *dir, enum fslayer_kind kind, const struct fslayer_opts *o,
		       const struct sink *tar, const char *extra_note, struct fslayer_result *res,
		       struct fslayer_plan *plan_out, struct err *e)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "open '%s'", dir);
	return collect_fd(fd, kind, dir, o, tar, extra_note, res, plan_out, e);
}

int fslayer_collect_dir(const char *dir, enum fslayer_kind kind, const struct fslayer_opts *o,
			const struct sink *tar, struct fslayer_result *res, struct err *e)
{
	return collect_dir(dir, kind, o, tar, NULL, res, NULL, e);
}

static int collect_ctr(const struct ctr *c, const struct fslayer_opts *o, const struct sink *tar,
		       struct fslayer_result *res, struct fslayer_plan *plan_out, struct err *e)
{
	static const char whole[] = "no overlay upperdir: the layer is the whole root";
	bool overlay = c->upperdir && (!c->rootfs_fstype || !strcmp(c->rootfs_fstype, "overlay"));
	if (overlay)
		return collect_dir(c->upperdir, FSLAYER_UPPER, o, tar, NULL, res, plan_out, e);
	if (c->pid > 0) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/root", (int)c->pid);
		_cleanup_close_ int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return err_sys(e, errno, "open '%s'", p);
		return collect_fd(fd, FSLAYER_ROOT, p, o, tar, whole, res, plan_out, e);
	}
	if (c->rootfs)
		return collect_dir(c->rootfs, FSLAYER_ROOT, o, tar, whole, res, plan_out, e);
	return err_set(e, ERR_UNSUPP, "container '%s': no upperdir, no running process and no rootfs",
		       c->id ? c->id : "?");
}

int fslayer_collect_ctr(const struct ctr *c, const struct fslayer_opts *o,
			const struct sink *tar, struct fslayer_result *res, struct err *e)
{
	return collect_ctr(c, o, tar, res, NULL, e);
}

int fslayer_size_ctr(const struct ctr *c, const struct fslayer_opts *o,
		     struct fslayer_plan **plan, struct err *e)
{
	struct fslayer_plan *p = xcalloc(1, sizeof(*p));
	*plan = NULL;
	if (collect_ctr(c, o, NULL, NULL, p, e) < 0) {
		fslayer_plan_free(p);
		return -1;
	}
	*plan = p;
	return 0;
}

int fslayer_size_dir(const char *dir, enum fslayer_kind kind, const struct fslayer_opts *o,
		     struct fslayer_plan **plan, struct err *e)
{
	struct fslayer_plan *p = xcalloc(1, sizeof(*p));
	*plan = NULL;
	if (collect_dir(dir, kind, o, NULL, NULL, NULL, p, e) < 0) {
		fslayer_plan_free(p);
		return -1;
	}
	*plan = p;
	return 0;
}

void fslayer_result_free(struct fslayer_result *r)
{
	json_decref(r->files);
	json_decref(r->notes);
	free(r->files_text);
	r->files = r->notes = NULL;
	r->files_text = NULL;
	r->files_len = 0;
}
