/* verify.c: the bag reader. One streaming pass over a directory or a tar
 * (never extracted), every file hashed as it passes, then every check. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <linux/openat2.h>

#include "contain/bag.h"
#include "contain/chain.h"
#include "contain/dlib.h"
#include "contain/hashio.h"
#include "contain/jline.h"
#include "contain/sign.h"

/* how much of a tag file is read: the lists (manifest, custody log, index)
 * grow with the payload; the others are a few lines in any bag contain
 * writes, and are parsed whole, so they get a small bound */
#define TAG_MAX (256u << 20)
#define TAG_SMALL_MAX (1u << 20)
/* files a bag may hold (each costs ~200 bytes to track): a bag contain
 * writes holds hundreds; a few MB of compressed tar headers could name tens
 * of millions */
#define MAX_FILES 1000000u
#define MAX_DEPTH 64
/* Work worth a thread: a thread costs some 0.2-0.3 ms here (its stack, its
 * malloc arena, the TLB shootdowns every munmap then costs a threaded
 * process on this VM), about what 0.5 MiB takes to hash. A bag of 100
 * small files is verified on this thread alone. */
#define HASH_THREAD_MIN (4u << 20)  /* payload bytes to hash */
#define PRE_THREAD_MIN (256u << 10) /* custody log and index.json bytes */
/* problems kept as records; past it only counted ("and N more problems"):
 * a bag whose every line fails costs a counter, not a JSON record a line */
#define PROBLEMS_MAX 1000u
/* artifacts and unfinished files listed in the report; past it counted */
#define LIST_MAX 100000u
/* values (arrays, objects, members) index.json may hold to be parsed: a few
 * KB of compressed "[0,0,0..." would otherwise become gigabytes of jansson
 * nodes; 4M is some 400,000 artifacts */
#define INDEX_VALUES_MAX 4000000u

enum { T_BAGIT, T_INFO, T_MANIFEST, T_TAGMANIFEST, T_CUSTODY, T_INDEX, T_SIG, T_COUNT };
static const char *const tag_names[T_COUNT] = {
	"bagit.txt",	 "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt",
	"custody.jsonl", "index.json",	 "signature.ed25519",
};

static size_t tag_max(int t)
{
	return t == T_MANIFEST || t == T_CUSTODY || t == T_INDEX ? TAG_MAX : TAG_SMALL_MAX;
}

struct vfile {
	char *path; /* relative to the bag's top */
	uint64_t size;
	char sha[HASH_HEX];
	bool hashed, in_manifest, in_custody;
	bool cut;  /* the tar ends inside it */
	bool over;    /* larger than its bound (cap): not hashed, a problem */
	bool no_hash; /* an unsealed bag's file with no custody record: its hash
		       * would be compared with nothing, so it is not read */
	uint64_t cap; /* directory form: the most bytes hashed (see payload_caps) */
	int err;   /* errno when it could not be read */
};

struct tag {
	bool present, too_big;
	struct sbuf buf;
	bool hashed; /* sha is buf's (pre_analyze) */
	char sha[HASH_HEX];
};

struct cust_art {
	char *path; /* raw */
	char sha[HASH_HEX];
	uint64_t size;
};

struct cust {
	struct cust_art *art;
	size_t nart, capart;
	char **open; /* opened, never closed or failed */
	size_t nopen, capopen;
	char **failed;
	size_t nfailed, capfailed;
	char last_action[64];
};

/* the tag files' heavy parsing (the custody chain, index.json), done on
 * threads while the payload is walked and hashed (directory form: the two
 * files are read there too) or at analyze (tar form) */
struct pre {
	bool done;
	bool started; /* on thr (pre_start) */
	bool small;   /* parsed on one thread (PRE_THREAD_MIN) */
	pthread_t thr;
	char *bag_id;	/* the seed the chain was checked with */
	int crc;	/* chain_check_buf_each's answer */
	struct chain_check r;
	struct cust cu;
	json_t *idx;
	json_error_t je;
	bool jl_idx; /* index.json is simple JSON (jline.h): jidx, no idx */
	bool rfail, rfail_index; /* reading a tag_fd failed (custody, index): */
	struct err rerr, rerr_index;  /* why */
	struct jl_val jidx;
};

struct view {
	const char *path;
	bool tar;
	struct vfile *files;
	size_t n, cap;
	struct tag tags[T_COUNT];
	json_t *checks;
	size_t fails;	/* problems found */
	size_t listed;	/* of which recorded in checks (at most PROBLEMS_MAX) */
	size_t gaps;	/* of which say only that the bag is incomplete */
	bool cut;	/* the tar ends early (cut short), not damaged */
	bool over_files; /* more than MAX_FILES: the rest not tracked */
	const char *refused; /* the input is in a form verify does not read: which */
	/* for the workers */
	uint64_t pay_cap; /* directory form: Payload-Oxum's bytes, or UINT64_MAX */
	bool cap_by_custody; /* no Payload-Oxum: caps from the custody records */
	int rootfd;
	int tag_fd[T_COUNT]; /* directory form: the custody log and index.json,
			      * open, read by pre_body; -1 */
	atomic_size_t next;
	size_t *order;
	struct pre pre;
};

enum { C_OK, C_FAIL, C_GAP };

/* One check. A problem past PROBLEMS_MAX is counted, not formatted. A gap
 * is a problem that only says the bag is incomplete (never sealed, cut
 * short): the verdict is INCOMPLETE when every problem is a gap. */
static void vcheck(struct view *v, const char *name, int kind, const char *fmt, va_list ap)
{
	char msg[1024];
	bool ok = kind == C_OK;
	if (kind == C_GAP)
		v->gaps++;
	if (!ok && v->listed >= PROBLEMS_MAX) {
		v->fails++;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* a detail may quote a hostile name: keep it printable JSON */
	_cleanup_free_ char *safe = utf8_valid(msg, strlen(msg)) ? xstrdup(msg)
								   : bag_path_json_encode(msg);
	json_array_append_new(v->checks,
			      json_pack("{s:s,s:b,s:s}", "check", name, "ok", ok, "detail", safe));
	if (!ok) {
		v->fails++;
		v->listed++;
	}
}

static void check(struct view *v, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void check(struct view *v, const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vcheck(v, name, ok ? C_OK : C_FAIL, fmt, ap);
	va_end(ap);
}

static void gap(struct view *v, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void gap(struct view *v, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vcheck(v, name, C_GAP, fmt, ap);
	va_end(ap);
}

/* a tag file that is not there: in a tar cut short, what was lost with the
 * end (a gap); otherwise a problem */
static void missing(struct view *v, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void missing(struct view *v, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vcheck(v, name, v->cut ? C_GAP : C_FAIL, fmt, ap);
	va_end(ap);
}

/* a name for a message: percent-encoded where it is not printable UTF-8 */
static char *shown(const char *p)
{
	const char *q = p;
	while ((unsigned char)*q >= 0x20 && (unsigned char)*q < 0x7f && *q != '%')
		q++;
	if (!*q) /* printable ASCII with no '%': shown as is */
		return xstrdup(p);
	struct sbuf b = SBUF_INIT;
	_cleanup_free_ char *j = bag_path_json_encode(p);
	sbuf_add(&b, "", 0);
	for (const char *s = j; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			sbuf_printf(&b, "%%%02X", (unsigned char)*s);
		else
			sbuf_addc(&b, *s);
	}
	return sbuf_steal(&b);
}

/* shown(p), made once into *s on first use */
static const char *lazy_shown(char **s, const char *p)
{
	if (!*s)
		*s = shown(p);
	return *s;
}

static int tag_index(const char *name)
{
	for (int i = 0; i < T_COUNT; i++)
		if (strcmp(name, tag_names[i]) == 0)
			return i;
	return -1;
}

static struct vfile *add_file(struct view *v, const char *rel)
{
	xgrow(&v->files, &v->cap, v->n + 1, sizeof(*v->files));
	struct vfile *f = &v->files[v->n++];
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(rel);
	return f;
}

static int vf_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vfile *)a)->path, ((const struct vfile *)b)->path);
}

static struct vfile *find_file(struct view *v, const char *rel)
{
	struct vfile key = {.path = (char *)rel};
	return v->n ? bsearch(&key, v->files, v->n, sizeof(*v->files), vf_cmp) : NULL;
}

/* ---- directory form ---- */

static int open_beneath(int rootfd, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
		return (int)fd;
	return openat(rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
}

/* Each hashing thread takes files two at a time (hashpair, include/
 * contain/hashio.h: SHA-NI hashes two messages interleaved at ~1.4x the
 * bytes of one), reads them into its own buffers and hashes them there: no
 * copy between threads, no allocation per file. 1 MiB reads (the fastest
 * here: fewer syscalls, still in cache). Hashing the page cache in place
 * through mmap (8 MiB windows, MAP_POPULATE) was measured and dropped: on
 * this machine's VM (PVM, shadow page tables) every freshly mapped page
 * costs a trap on first touch, 2.9 s of CPU for the 2 GiB bench against
 * 1.8 s with read(2) into a reused buffer, whose copy is about 0.04 s a
 * 600 MiB file. */

/* The next payload file to hash, opened (a file that cannot be is marked
 * and passed over). A short read that brings a file to exactly the size
 * fstat gave is its end: no second read(2) per small file to be told so. */
static int pair_next(void *arg, struct hashpair_item *it)
{
	struct view *v = arg;
	for (;;) {
		size_t k = atomic_fetch_add(&v->next, 1);
		if (k >= v->n)
			return 0;
		struct vfile *f = &v->files[v->order[k]];
		struct stat st;
		if (f->no_hash)
			continue;
		int fd = open_beneath(v->rootfd, f->path);
		if (fd < 0) {
			f->err = errno;
			continue;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			f->err = EINVAL;
			close(fd);
			continue;
		}
		if ((uint64_t)st.st_size > f->cap) {
			f->over = true; /* a sparse 16 TiB file would take hours of zeros */
			f->size = (uint64_t)st.st_size;
			close(fd);
			continue;
		}
		if ((uint64_t)st.st_size >= HASHPAIR_CHUNK)
			posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		*it = (struct hashpair_item){.fd = fd, .len = (uint64_t)st.st_size, .tag = f};
		return 1;
	}
}

static void pair_done(void *arg, const struct hashpair_item *it, const struct hashres *r)
{
	struct vfile *f = it->tag;
	(void)arg;
	close(it->fd);
	if (r->err) {
		f->err = r->err;
		return;
	}
	f->size = r->bytes;
	hex_encode(r->md, HASH_LEN, f->sha);
	f->hashed = true;
}

static void *hash_worker(void *arg)
{
	static const struct hashpair_ops ops = {pair_next, pair_done};
	struct hashpair_bufs bufs = {0};
	hashpair_run(&ops, arg, &bufs);
	hashpair_bufs_free(&bufs);
	return NULL;
}

#define VERIFY_THREADS 8

static unsigned verify_threads(void)
{
	cpu_set_t set;
	int n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 2;
	return n < 1 ? 1 : n > VERIFY_THREADS ? VERIFY_THREADS : (unsigned)n;
}

static int size_desc(const void *a, const void *b, void *arg)
{
	const struct view *v = arg;
	uint64_t x = v->files[*(const size_t *)a].size, y = v->files[*(const size_t *)b].size;
	return x < y ? 1 : x > y ? -1 : 0;
}

static const char *type_name(mode_t m)
{
	return S_ISLNK(m) ? "a symlink" : S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket" : S_ISCHR(m) || S_ISBLK(m) ? "a device" : "not a regular file";
}

static void walk_data(struct view *v, int dfd, const char *rel, int depth)
{
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		check(v, "payload", false, "cannot read directory '%s': %s", rel, strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", rel, de->d_name);
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			_cleanup_free_ char *s = shown(p);
			check(v, "payload", false, "cannot stat '%s': %s", s, strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth >= MAX_DEPTH) {
				_cleanup_free_ char *s = shown(p);
				check(v, "payload", false, "'%s' is nested too deep", s);
				continue;
			}
			int nfd = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd < 0) {
				_cleanup_free_ char *s = shown(p);
				check(v, "payload", false, "cannot open '%s': %s", s, strerror(errno));
				continue;
			}
			walk_data(v, nfd, p, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			if (v->n >= MAX_FILES) {
				check(v, "payload", false, "more than %u files: the rest not checked",
				      MAX_FILES);
				return;
			}
			add_file(v, p)->size = (uint64_t)st.st_size;
		} else {
			_cleanup_free_ char *s = shown(p);
			check(v, "payload", false, "'%s' is %s: not followed, not read", s,
			      type_name(st.st_mode));
		}
	}
}

/* A buffer for a large tag file in transparent huge pages where the kernel
 * has them (madvise mode): a 74 MB custody log then takes some 40 page
 * faults, not 18,000 (each a trap on this VM). Freed with free(). */
#define HUGE_PAGE (2u << 20)
static char *tag_alloc(size_t n)
{
	if (n < 2 * HUGE_PAGE)
		return xmalloc(n);
	size_t sz = (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	char *b = aligned_alloc(HUGE_PAGE, sz);
	if (!b)
		return xmalloc(n);
	madvise(b, sz, MADV_HUGEPAGE); /* a hint: without it, small pages */
	return b;
}

/* A regular tag file smaller than its bound: read in one buffer of its size
 * (a 10 MB custody log grown 64 KiB at a time was copied over and over).
 * 1: read; 0: not such a file, or it changed size (read_fd_bounded then). */
static int read_sized(int fd, size_t max, char **out, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size >= max)
		return 0;
	size_t n = (size_t)st.st_size, got = 0;
	char *buf = tag_alloc(n + 2);
	while (got < n + 1) { /* one byte more: is the file still its size? */
		ssize_t r = read(fd, buf + got, n + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got != n) { /* it changed: from the start, the bounded way */
		free(buf);
		return lseek(fd, 0, SEEK_SET) == 0 ? 0 : -1;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 1;
}

static int read_tag_fd(struct view *v, int t, int fd, struct err *e)
{
	struct tag *tg = &v->tags[t];
	char *buf;
	size_t len;
	bool trunc = false;
	int rs = read_sized(fd, tag_max(t), &buf, &len);
	if (rs < 0)
		return err_sys(e, errno, "read");
	if (rs == 0 && read_fd_bounded(fd, tag_max(t), &buf, &len, &trunc, e) < 0)
		return -1;
	tg->present = true;
	tg->too_big = trunc;
	sbuf_free(&tg->buf); /* taken as is: no second copy of a large manifest */
	tg->buf = (struct sbuf){.buf = buf, .len = len, .cap = len + 1};
	return 0;
}

static void pre_analyze(struct view *v);
static void pre_start(struct view *v);

/* Payload-Oxum's octet count from bag-info.txt, UINT64_MAX when there is none
 * (or it is not "BYTES.FILES") */
static uint64_t oxum_bytes(struct view *v)
{
	struct bag_info bi = {0};
	char prob[256];
	uint64_t cap = UINT64_MAX;
	if (!v->tags[T_INFO].present)
		return cap;
	bag_info_parse(v->tags[T_INFO].buf.buf ? v->tags[T_INFO].buf.buf : "",
		       v->tags[T_INFO].buf.len, &bi, prob, sizeof(prob));
	const char *ox = bag_info_get(&bi, "Payload-Oxum");
	const char *dot = ox ? strchr(ox, '.') : NULL;
	unsigned long long b;
	if (dot) {
		_cleanup_free_ char *bytes = xstrndup(ox, (size_t)(dot - ox));
		if (parse_ull(bytes, ULLONG_MAX, &b) == 0)
			cap = b;
	}
	bag_info_free(&bi);
	return cap;
}

static int cap_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct cust_art *const *)a)->path,
		      (*(const struct cust_art *const *)b)->path);
}

/* How much of each file the directory form may hash (the tag files are read
 * by now). A payload file is never hashed past the whole payload Payload-Oxum
 * declares. Without Payload-Oxum (a bag never sealed), the custody log is
 * parsed first: a payload file is never hashed past the size of its custody
 * record, and one with no record (compared with nothing) is not read. */
static void payload_caps(struct view *v)
{
	v->pay_cap = oxum_bytes(v);
	for (size_t i = 0; i < v->n; i++)
		v->files[i].cap = str_has_prefix(v->files[i].path, "data/") ? v->pay_cap
									   : UINT64_MAX;
	if (v->pay_cap != UINT64_MAX)
		return;
	pre_analyze(v);
	struct cust *cu = &v->pre.cu;
	if (!v->pre.bag_id)
		return; /* no custody log to go by: reported as such */
	v->cap_by_custody = true;
	_cleanup_free_ struct cust_art **by = xreallocarray(NULL, cu->nart + 1, sizeof(*by));
	for (size_t i = 0; i < cu->nart; i++)
		by[i] = &cu->art[i];
	if (cu->nart)
		qsort(by, cu->nart, sizeof(*by), cap_cmp);
	for (size_t i = 0; i < v->n; i++) {
		struct vfile *f = &v->files[i];
		if (!str_has_prefix(f->path, "data/"))
			continue;
		struct cust_art key = {.path = f->path}, *kp = &key;
		struct cust_art **hit =
			cu->nart ? bsearch(&kp, by, cu->nart, sizeof(*by), cap_cmp) : NULL;
		if (!hit) {
			f->no_hash = true;
			continue;
		}
		/* the largest record of that path (a path recorded twice) */
		size_t j = (size_t)(hit - by);
		while (j > 0 && strcmp(by[j - 1]->path, f->path) == 0)
			j--;
		f->cap = 0;
		for (; j < cu->nart && strcmp(by[j]->path, f->path) == 0; j++)
			if (by[j]->size > f->cap)
				f->cap = by[j]->size;
	}
}

static int collect_dir(struct view *v, int rootfd, struct err *e)
{
	int dfd = dup(rootfd);
	if (dfd < 0)
		return err_sys(e, errno, "dup");
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return err_sys(e, errno, "read '%s'", v->path);
	}
	struct dirent *de;
	bool have_data = false;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		struct stat st;
		if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return err_sys(e, errno, "stat '%s/%s'", v->path, name);
		if (strcmp(name, "data") == 0 && S_ISDIR(st.st_mode)) {
			have_data = true; /* walked below, once the tag files are read */
			continue;
		}
		_cleanup_free_ char *s = shown(name);
		if (!S_ISREG(st.st_mode)) {
			check(v, "files", false, "'%s' is %s: not followed, not read", s,
			      type_name(st.st_mode));
			continue;
		}
		int t = tag_index(name);
		if (t == T_CUSTODY || t == T_INDEX) { /* read on pre_start's thread */
			v->tag_fd[t] = open_beneath(rootfd, name);
			if (v->tag_fd[t] < 0)
				return err_sys(e, errno, "open '%s/%s'", v->path, name);
		} else if (t >= 0) {
			_cleanup_close_ int fd = open_beneath(rootfd, name);
			if (fd < 0)
				return err_sys(e, errno, "open '%s/%s'", v->path, name);
			if (read_tag_fd(v, t, fd, e) < 0)
				return err_wrap(e, "'%s/%s'", v->path, name);
		} else {
			add_file(v, name)->size = (uint64_t)st.st_size; /* hashed below */
		}
	}
	/* the tag files parsed on threads while the payload is walked */
	pre_start(v);
	if (have_data) {
		int nfd = openat(rootfd, "data", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0)
			return err_sys(e, errno, "open '%s/data'", v->path);
		walk_data(v, nfd, "data", 1);
	} else {
		check(v, "payload", false, "no data/ directory");
	}
	/* hash every file on two threads, the largest first */
	if (v->n) {
		payload_caps(v);
		v->order = xreallocarray(NULL, v->n, sizeof(size_t));
		for (size_t i = 0; i < v->n; i++)
			v->order[i] = i;
		qsort_r(v->order, v->n, sizeof(size_t), size_desc, v);
		uint64_t bytes = 0;
		for (size_t i = 0; i < v->n; i++)
			if (!v->files[i].no_hash)
				bytes += v->files[i].size < v->files[i].cap ? v->files[i].size
									    : v->files[i].cap;
		v->rootfd = rootfd;
		atomic_store(&v->next, 0);
		/* a hashing thread per CPU, each hashing two files at once
		 * (hashpair); this one parses the tag files meanwhile. It hashed
		 * too once, a thread more than CPUs so that no large file was
		 * left alone at the end on one core: with two files a thread,
		 * that third thread only took small files from beside a large
		 * one, which then went on alone. It hashes when no thread starts. */
		pthread_t t[VERIFY_THREADS];
		unsigned nt = 0, want = bytes < HASH_THREAD_MIN ? 0 : verify_threads();
		while (nt < want && 2 * nt < v->n &&
		       pthread_create(&t[nt], NULL, hash_worker, v) == 0)
			nt++;
		pre_analyze(v); /* done already when the caps needed the custody log */
		if (nt == 0)
			hash_worker(v);
		for (unsigned i = 0; i < nt; i++)
			pthread_join(t[i], NULL);
		for (size_t i = 0; i < v->n; i++) {
			if (v->files[i].err) {
				_cleanup_free_ char *s = shown(v->files[i].path);
				check(v, "payload", false, "cannot read '%s': %s", s,
				      strerror(v->files[i].err));
			} else if (v->files[i].over) {
				_cleanup_free_ char *s = shown(v->files[i].path);
				check(v, "payload", false,
				      "payload '%s' declares %llu bytes, more than %s (%llu bytes): "
				      "not hashed",
				      s, (unsigned long long)v->files[i].size,
				      v->cap_by_custody ? "its custody record"
							: "the whole payload of Payload-Oxum",
				      (unsigned long long)v->files[i].cap);
			}
		}
	}
	pre_analyze(v); /* the custody log and index.json read there */
	if (v->pre.rfail) {
		*e = v->pre.rerr;
		return -1;
	}
	return 0;
}

/* ---- tar form ---- */

static bool has_dotdot(const char *p)
{
	const char *s = p;
	while (*s) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);
		if (len == 2 && s[0] == '.' && s[1] == '.')
			return true;
		if (!slash)
			break;
		s = slash + 1;
	}
	return false;
}

/* Hash one tar member as libarchive hands it over. A bag's own members are
 * never sparse (the writer puts a hole's zeros in the tar), so a member whose
 * data does not arrive as one run from offset 0 up to its declared size is
 * refused (*sparse set), never filled in: a pax sparse header can declare
 * exabytes of holes in a few bytes. So what is hashed is bounded by the bytes
 * the (decompressed) tar really holds. */
static void hash_entry(struct archive *a, struct archive_entry *ae, struct hasher *h,
		       struct sbuf *keep, uint64_t keep_max, bool *too_big, bool *sparse,
		       int *rerr)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	uint64_t cur = 0;
	int r;
	if (keep && !keep->buf && archive_entry_size_is_set(ae) && archive_entry_size(ae) > 0 &&
	    (uint64_t)archive_entry_size(ae) < keep_max) {
		/* a tag file in one buffer of its size, as read_sized does for the
		 * directory form: a 7 MB custody log is not grown and copied */
		size_t n = (size_t)archive_entry_size(ae) + 1;
		*keep = (struct sbuf){.buf = tag_alloc(n), .len = 0, .cap = n};
		keep->buf[0] = '\0';
	}
	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		if (off < 0 || (uint64_t)off != cur) {
			*sparse = true;
			return;
		}
		hasher_update(h, buf, size);
		if (keep) {
			if (keep->len + size > keep_max)
				*too_big = true;
			else
				sbuf_add(keep, buf, size);
		}
		cur += size;
	}
	if (r != ARCHIVE_EOF && r != ARCHIVE_OK) {
		*rerr = r;
		return;
	}
	la_int64_t total = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
	if (total > 0 && (uint64_t)total > cur)
		*sparse = true; /* a trailing hole */
}

/* A sparse member: reported, never hashed; the payload file stays listed,
 * unhashed. Its data is skipped as stored, not as declared. */
static void sparse_member(struct view *v, struct archive_entry *ae, const char *shown_name)
{
	la_int64_t decl = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
	check(v, "tar", false,
	      "tar entry '%s' is sparse, declaring %lld bytes: a bag's members never are; "
	      "not hashed",
	      shown_name, (long long)decl);
}

/* ---- the input of the tar form: what it is, read by us ----
 * libarchive is handed the bytes through a callback, never a file name, and
 * gets only the gzip or zstd filter, chosen here from the first bytes: its
 * other filters (and its fallback that runs lzop, lrzip, grzip... found on
 * PATH) are never registered. Anything else compressed is refused by name. */
#define SRC_BUF (1u << 20)
/* range jobs queued at once: a job is a few hundred bytes (no data), so the
 * headers run ahead of the hashing to the tag files at the tar's end, which
 * are then parsed while the workers hash (16 MiB at most) */
#define RANGE_JOBS (1u << 16)
#define SNIFF_LEN 512u

struct src {
	int fd;
	char *buf;
	size_t head; /* bytes of buf read ahead to sniff, handed over first */
	bool head_given, eof;
	/* a plain tar in a regular file: members are hashed by the pool's
	 * workers with pread, and libarchive seeks over their data */
	bool seekable;
	uint64_t size, pos; /* the file's size; our read offset in it */
	struct hashpool *pool;
};

static la_ssize_t src_read(struct archive *a, void *arg, const void **out)
{
	struct src *s = arg;
	*out = s->buf;
	if (!s->head_given) {
		s->head_given = true;
		if (s->head)
			return (la_ssize_t)s->head;
	}
	for (;;) {
		ssize_t r = read(s->fd, s->buf, SRC_BUF);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			archive_set_error(a, errno, "read: %s", strerror(errno));
			return -1;
		}
		if (r == 0)
			s->eof = true;
		s->pos += (uint64_t)r;
		return r;
	}
}

/* libarchive skips a member's data (hashed by a worker) with a seek, never
 * past the end of the file: what is missing there is read, and found cut
 * short, as without the seek */
static la_int64_t src_skip(struct archive *a, void *arg, la_int64_t n)
{
	(void)a;
	struct src *s = arg;
	if (!s->seekable || !s->head_given || n <= 0 || s->pos >= s->size)
		return 0;
	uint64_t k = (uint64_t)n < s->size - s->pos ? (uint64_t)n : s->size - s->pos;
	if (lseek(s->fd, (off_t)(s->pos + k), SEEK_SET) < 0)
		return 0;
	s->pos += k;
	return (la_int64_t)k;
}

static int src_fill_head(struct src *s)
{
	while (s->head < SNIFF_LEN) {
		ssize_t r = read(s->fd, s->buf + s->head, SRC_BUF - s->head);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			s->eof = true;
			break;
		}
		s->head += (size_t)r;
		s->pos += (uint64_t)r;
	}
	return 0;
}

enum src_kind { SRC_TAR, SRC_GZIP, SRC_ZSTD, SRC_OTHER, SRC_CUT };

static const struct {
	const char *magic;
	size_t len, off;
	const char *name;
} other_formats[] = {
	{"\xfd" "7zXZ\0", 6, 0, "xz-compressed"},
	{"BZh", 3, 0, "bzip2-compressed"},
	{"\x89LZO\0\r\n\x1a\n", 9, 0, "lzop-compressed"},
	{"LRZI", 4, 0, "lrzip-compressed"},
	{"GRZipII\0\x02\x04:)", 12, 0, "grzip-compressed"},
	{"\x04\x22\x4d\x18", 4, 0, "lz4-compressed"},
	{"\x02\x21\x4c\x18", 4, 0, "lz4-compressed"},
	{"LZIP", 4, 0, "lzip-compressed"},
	{"\x1f\x9d", 2, 0, "compress(1)-compressed (.Z)"},
	{"\x5d\0\0", 3, 0, "lzma-compressed"},
	{"begin ", 6, 0, "uuencoded"},
	{"begin-base64 ", 13, 0, "uuencoded"},
	{"\xed\xab\xee\xdb", 4, 0, "an RPM package"},
	{"PK\x03\x04", 4, 0, "a zip archive"},
	{"7z\xbc\xaf\x27\x1c", 6, 0, "a 7-zip archive"},
	{"Rar!", 4, 0, "a RAR archive"},
	{"070707", 6, 0, "a cpio archive"},
	{"070701", 6, 0, "a cpio archive"},
	{"070702", 6, 0, "a cpio archive"},
	{"\xc7\x71", 2, 0, "a cpio archive"},
	{"!<arch>\n", 8, 0, "an ar archive"},
	{"xar!", 4, 0, "a xar archive"},
	{"MSCF", 4, 0, "a cab archive"},
};

static enum src_kind src_sniff(const struct src *s, const char **name)
{
	const unsigned char *b = (const unsigned char *)s->buf;
	*name = NULL;
	/* all there is: nothing, the start of a gzip or zstd magic, or less than
	 * a tar header that says ustar: a bag cut short before its first entry */
	if (s->eof && (s->head == 0 || (s->head == 1 && b[0] == 0x1f) ||
		       (s->head < 4 && memcmp(b, "\x28\xb5\x2f\xfd", s->head) == 0) ||
		       (s->head < 512 && s->head >= 262 && memcmp(b + 257, "ustar", 5) == 0)))
		return SRC_CUT;
	if (s->head >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return SRC_GZIP;
	if (s->head >= 4 && memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0)
		return SRC_ZSTD;
	for (size_t i = 0; i < ARRAY_SIZE(other_formats); i++) {
		size_t l = other_formats[i].len, o = other_formats[i].off;
		if (s->head >= o + l && memcmp(b + o, other_formats[i].magic, l) == 0) {
			*name = other_formats[i].name;
			return SRC_OTHER;
		}
	}
	return SRC_TAR; /* or nothing known: libarchive's tar reader says which */
}

/* A read error once the input is at its end, saying so: the tar was cut
 * short (the writer stopped, the disk filled, a copy was interrupted), not
 * damaged. gzip's reader reports a missing trailer with no message. */
static bool cut_short(struct archive *a, const struct src *s)
{
	if (!s->eof)
		return false;
	const char *m = archive_error_string(a);
	return !m || strcasestr(m, "truncated") || strcasestr(m, "premature") ||
	       strcasestr(m, "unexpected end");
}

static const char *arerr(struct archive *a)
{
	return archive_error_string(a) ? archive_error_string(a) : "truncated input";
}

/* Open the tar form's input, know it by its first bytes and hand it to
 * libarchive with the one filter it needs. 0 with *out set; 0 with *out
 * NULL when there is nothing to read (refused, or cut before a header:
 * reported); -1 could not read. */
static int tar_open(struct view *v, struct src *src, struct archive **out, struct err *e)
{
	*out = NULL;
	if (src_fill_head(src) < 0)
		return err_sys(e, errno, "read '%s'", v->path);
	const char *other;
	enum src_kind kind = src_sniff(src, &other);
	if (kind == SRC_OTHER) {
		v->refused = other;
		return 0;
	}
	if (kind == SRC_CUT) {
		v->cut = true;
		gap(v, "tar", "the tar ends before its first entry (%zu bytes): cut short", src->head);
		return 0;
	}
	struct archive *a = archive_read_new();
	if (!a)
		return err_set(e, ERR_SYS, "archive_read_new failed");
	/* ARCHIVE_WARN here means "through an external program": refused */
	if ((kind == SRC_GZIP && archive_read_support_filter_gzip(a) != ARCHIVE_OK) ||
	    (kind == SRC_ZSTD && archive_read_support_filter_zstd(a) != ARCHIVE_OK)) {
		archive_read_free(a);
		return err_set(e, ERR_SYS,
			       "read '%s': this libarchive has no built-in %s decoder (an external "
			       "program is never run)",
			       v->path, kind == SRC_GZIP ? "gzip" : "zstd");
	}
	archive_read_support_format_tar(a);
	src->seekable = src->seekable && kind == SRC_TAR;
	if (archive_read_open2(a, src, NULL, src_read, src_skip, NULL) != ARCHIVE_OK) {
		/* a gzip or zstd magic then too little for its header is cut too */
		int rc = 0;
		if (cut_short(a, src) || (src->eof && kind != SRC_TAR && src->head < 32)) {
			v->cut = true;
			gap(v, "tar", "the tar ends before its first entry (%s): cut short", arerr(a));
		} else {
			rc = err_set(e, ERR_SYS, "read '%s': %s", v->path, archive_error_string(a));
		}
		archive_read_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* The path of a tar entry under the bag's top directory (into *clean), or
 * NULL for an entry not read: one that would leave the bag, a link, a
 * device, one outside the top directory (reported), a directory. */
static const char *entry_rel(struct view *v, struct archive_entry *ae, const char *s,
			     char **top, char **clean)
{
	const char *name = archive_entry_pathname(ae);
	mode_t type = archive_entry_filetype(ae);
	if (name[0] == '/') {
		check(v, "tar", false, "tar entry '%s' is an absolute path: not extracted", s);
		return NULL;
	}
	if (has_dotdot(name)) {
		check(v, "tar", false, "tar entry '%s' escapes the bag with '..': not extracted", s);
		return NULL;
	}
	if (archive_entry_hardlink(ae)) {
		check(v, "tar", false, "tar entry '%s' is a hard link: not extracted", s);
		return NULL;
	}
	if (type == AE_IFLNK) {
		check(v, "tar", false, "tar entry '%s' is a symlink: not extracted", s);
		return NULL;
	}
	if (type != AE_IFREG && type != AE_IFDIR) {
		check(v, "tar", false, "tar entry '%s' is not a file or directory: not extracted", s);
		return NULL;
	}
	/* everything lives under one top directory */
	*clean = xstrdup(name);
	size_t cl = strlen(*clean);
	while (cl > 1 && (*clean)[cl - 1] == '/')
		(*clean)[--cl] = '\0';
	char *p = *clean;
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	char *slash = strchr(p, '/');
	size_t tl = slash ? (size_t)(slash - p) : strlen(p);
	if (!*top) {
		*top = xstrndup(p, tl);
	} else if (tl != strlen(*top) || strncmp(p, *top, tl) != 0) {
		check(v, "tar", false, "tar entry '%s' is outside the bag's top directory '%s'", s,
		      *top);
		return NULL;
	}
	if (!slash) {
		if (type != AE_IFDIR)
			check(v, "tar", false, "tar entry '%s' should be the top directory", s);
		return NULL;
	}
	return type == AE_IFDIR ? NULL : slash + 1;
}

/* A payload member of a plain tar file, whole in the file: hashed by a
 * worker (pread of its bytes where the tar holds them), not read here.
 * false: not such a member (read as a stream). */
static bool range_member(struct view *v, struct archive *a, struct archive_entry *ae,
			 const char *rel, const char *s, const struct src *src)
{
	if (!archive_entry_size_is_set(ae) || archive_entry_size(ae) < 0)
		return false;
	uint64_t size = (uint64_t)archive_entry_size(ae);
	la_int64_t off = archive_filter_bytes(a, 0); /* where its data starts */
	if (off < 0 || (uint64_t)off > src->size || size > src->size - (uint64_t)off)
		return false; /* cut short: the stream reports it */
	if (!str_has_prefix(rel, "data/") && strchr(rel, '/'))
		check(v, "files", false, "'%s' is outside data/ in a subdirectory", s);
	struct vfile *f = add_file(v, rel);
	f->size = size;
	hashpool_job_range(src->pool, src->fd, (uint64_t)off, size,
			   (void *)(uintptr_t)(size_t)(f - v->files));
	return true;
}

/* The pool's digests of the range members, into their files. */
static void range_results(struct view *v, struct hashpool *pool)
{
	struct hashres r;
	while (hashpool_next(pool, &r) == 1) {
		struct vfile *f = &v->files[(size_t)(uintptr_t)r.tag];
		if (r.err == 0 && r.bytes == f->size) {
			hex_encode(r.md, HASH_LEN, f->sha);
			f->hashed = true;
			continue;
		}
		_cleanup_free_ char *sh = shown(f->path);
		if (r.err)
			check(v, "payload", false, "cannot read '%s': %s", sh, strerror(r.err));
		else
			check(v, "tar", false,
			      "tar entry '%s': %llu of its %llu bytes read (the tar changed while read)",
			      sh, (unsigned long long)r.bytes, (unsigned long long)f->size);
	}
}

/* Read one file entry: a tag file kept (bounded), a payload file hashed.
 * false: stop reading (the tar is cut short or damaged; reported). */
static bool tar_member(struct view *v, struct archive *a, struct archive_entry *ae,
		       const char *rel, const char *s, const struct src *src)
{
	int t = strchr(rel, '/') ? -1 : tag_index(rel);
	if (t < 0 && v->n >= MAX_FILES) {
		if (!v->over_files) /* once; the tag files are still read */
			check(v, "payload", false, "more than %u files: the rest not checked",
			      MAX_FILES);
		v->over_files = true;
		return true;
	}
	if (t >= 0 && v->tags[t].present) {
		check(v, "tar", false, "tar entry '%s' is there twice", s);
		return true;
	}
	if (archive_entry_sparse_count(ae) > 0) {
		sparse_member(v, ae, s);
		if (t < 0)
			add_file(v, rel); /* there, unread: the manifest does not call it missing */
		return true;
	}
	if (t < 0 && src->seekable && src->pool && range_member(v, a, ae, rel, s, src))
		return true;
	struct hasher *h = hasher_new();
	struct vfile *f = NULL;
	int rerr = 0;
	bool sparse = false;
	if (t >= 0) {
		/* hashed here as read: no thread, no copy (its bytes are kept) */
		hasher_inline(h);
		v->tags[t].present = true;
		hash_entry(a, ae, h, &v->tags[t].buf, tag_max(t), &v->tags[t].too_big, &sparse,
			   &rerr);
		if (!v->tags[t].too_big && !sparse && !rerr) { /* the digest of buf: kept */
			unsigned char md[HASH_LEN];
			hasher_final(h, md);
			hex_encode(md, HASH_LEN, v->tags[t].sha);
			v->tags[t].hashed = true;
		}
	} else {
		if (!str_has_prefix(rel, "data/") && strchr(rel, '/'))
			check(v, "files", false, "'%s' is outside data/ in a subdirectory", s);
		f = add_file(v, rel);
		hash_entry(a, ae, h, NULL, 0, NULL, &sparse, &rerr);
		unsigned char md[HASH_LEN];
		f->size = hasher_bytes(h);
		hasher_final(h, md);
		hex_encode(md, HASH_LEN, f->sha);
		f->hashed = !rerr && !sparse;
	}
	hasher_free(h);
	if (t >= 0 && (sparse || rerr)) { /* what was read of it proves nothing */
		v->tags[t].present = false;
		sbuf_free(&v->tags[t].buf);
	}
	if (sparse && !rerr) {
		sparse_member(v, ae, s);
		if (archive_read_data_skip(a) < ARCHIVE_WARN)
			rerr = ARCHIVE_FATAL;
	}
	if (rerr && cut_short(a, src)) {
		v->cut = true;
		if (f)
			f->cut = true; /* unfinished */
		gap(v, "tar", "the tar ends early, inside '%s' (%s): cut short", s, arerr(a));
		return false;
	}
	if (rerr) {
		check(v, "tar", false, "the tar is damaged in '%s': %s", s, archive_error_string(a));
		return false;
	}
	return true;
}

static int collect_tar(struct view *v, struct err *e)
{
	_cleanup_free_ char *buf = xmalloc(SRC_BUF);
	struct src src = {.fd = 0, .buf = buf};
	_cleanup_close_ int ownfd = -1;
	if (strcmp(v->path, "-") != 0) {
		ownfd = open(v->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (ownfd < 0)
			return err_sys(e, errno, "open '%s'", v->path);
		src.fd = ownfd;
		struct stat st;
		if (fstat(ownfd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
			src.seekable = true;
			src.size = (uint64_t)st.st_size;
			posix_fadvise(ownfd, 0, 0, POSIX_FADV_SEQUENTIAL);
		}
	}
	struct archive *a;
	if (tar_open(v, &src, &a, e) < 0)
		return -1;
	if (!a)
		return 0;
	if (src.seekable) {
		/* a worker per CPU, each hashing two members at once (hashpair):
		 * a third worker took the third of three large members alone
		 * where it now goes beside another (1.81 s of CPU against 1.61
		 * for the 2 GiB bench) */
		struct hashpool_opts po = {.workers = verify_threads(), .max_jobs = RANGE_JOBS};
		src.pool = hashpool_new(&po);
	}
	int rc = 0;
	char *top = NULL;
	size_t entries = 0;
	for (;;) {
		struct archive_entry *ae;
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			if (cut_short(a, &src)) {
				v->cut = true;
				gap(v, "tar", "the tar ends early, after %zu entries (%s): cut short",
				    entries, arerr(a));
				break;
			}
			if (entries == 0) {
				rc = err_set(e, ERR_SYS, "read '%s': %s", v->path,
					     archive_error_string(a));
				break;
			}
			check(v, "tar", false, "the tar is damaged after %zu entries: %s", entries,
			      archive_error_string(a));
			break;
		}
		entries++;
		const char *name = archive_entry_pathname(ae);
		if (!name || !*name) {
			check(v, "tar", false, "entry %zu has no name", entries);
			continue;
		}
		_cleanup_free_ char *s = shown(name);
		_cleanup_free_ char *clean = NULL;
		const char *rel = entry_rel(v, ae, s, &top, &clean);
		if (rel && !tar_member(v, a, ae, rel, s, &src))
			break;
	}
	/* the tag files are all read (a bag's come after its payload): the
	 * custody chain and index.json parsed while the workers still hash */
	pre_start(v);
	if (src.pool) {
		range_results(v, src.pool);
		hashpool_free(src.pool);
	}
	if (!top && !v->cut && rc == 0)
		check(v, "tar", false, "the tar is empty");
	free(top);
	archive_read_free(a);
	return rc;
}

/* ---- the checks ---- */

static void strlist_add(char ***l, size_t *n, size_t *cap, const char *s)
{
	xgrow(l, cap, *n + 1, sizeof(char *));
	(*l)[(*n)++] = xstrdup(s);
}

static void strlist_del(char **l, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(l[i], s) == 0) {
			free(l[i]);
			l[i] = l[--*n];
			return;
		}
	}
}

/* One event of the good prefix of the custody log (chain_check_buf_each):
 * what custody_event and custody_jevent read of a line, the same from
 * jansson's tree or jline's view. */
static void cust_action(struct cust *c, const char *action, const char *target)
{
	snprintf(c->last_action, sizeof(c->last_action), "%s", action ? action : "");
	_cleanup_free_ char *raw = target ? bag_path_decode(target) : NULL;
	if (action && raw && strcmp(action, "artifact-open") == 0) {
		strlist_add(&c->open, &c->nopen, &c->capopen, raw);
	} else if (action && raw && strcmp(action, "artifact-failed") == 0) {
		strlist_del(c->open, &c->nopen, raw);
		strlist_add(&c->failed, &c->nfailed, &c->capfailed, raw);
	} else if (action && raw && strcmp(action, "artifact") == 0) {
		strlist_del(c->open, &c->nopen, raw);
	}
}

/* one record of an "artifact" event's artifacts (p: its path, NULL if none) */
static void cust_art(struct cust *c, const char *p, const char *h, size_t hlen, bool sz_int,
		     long long sz)
{
	char *rp = p ? bag_path_decode(p) : NULL;
	if (!rp || !h || hlen != 64 || !sz_int) {
		free(rp);
		return;
	}
	xgrow(&c->art, &c->capart, c->nart + 1, sizeof(*c->art));
	c->art[c->nart].path = rp;
	memcpy(c->art[c->nart].sha, h, 64);
	c->art[c->nart].sha[64] = '\0';
	c->art[c->nart].size = (uint64_t)sz;
	c->nart++;
}

static void custody_event(void *ctx, json_t *o)
{
	struct cust *c = ctx;
	const char *action = json_string_value(json_object_get(o, "action"));
	cust_action(c, action, json_string_value(json_object_get(o, "target")));
	if (!action || strcmp(action, "artifact") != 0)
		return;
	json_t *arts = json_object_get(o, "artifacts"), *a;
	size_t i;
	json_array_foreach(arts, i, a) {
		const char *h = json_string_value(json_object_get(a, "sha256"));
		json_t *sz = json_object_get(a, "size");
		cust_art(c, json_string_value(json_object_get(a, "path")), h, h ? strlen(h) : 0,
			 json_is_integer(sz), json_integer_value(sz));
	}
}

/* the same for a simple line, read without jansson: one pass over its
 * members, one over each record's */
static void custody_jevent(void *ctx, const struct jl_val *o)
{
	static const char *const keys[] = {"action", "target", "artifacts"};
	static const char *const akeys[] = {"path", "sha256", "size"};
	struct cust *c = ctx;
	struct jl_val m[3], am[3], k, a;
	struct jl_iter it;
	jl_getn(o, keys, m, 3);
	_cleanup_free_ char *act = jl_strdup(&m[0]), *tgt = jl_strdup(&m[1]);
	cust_action(c, act, tgt);
	if (!act || strcmp(act, "artifact") != 0 || m[2].t != JL_ARR)
		return; /* no array: nothing, as json_array_foreach */
	jl_iter_init(&it, &m[2]);
	while (jl_next(&it, &k, &a)) {
		jl_getn(&a, akeys, am, 3); /* no object: no member */
		_cleanup_free_ char *ps = jl_strdup(&am[0]);
		cust_art(c, ps, am[1].t == JL_STR ? am[1].p : NULL, am[1].t == JL_STR ? am[1].n : 0,
			 am[2].t == JL_INT, am[2].i);
	}
}

static void cust_free(struct cust *c)
{
	for (size_t i = 0; i < c->nart; i++)
		free(c->art[i].path);
	free(c->art);
	for (size_t i = 0; i < c->nopen; i++)
		free(c->open[i]);
	free(c->open);
	for (size_t i = 0; i < c->nfailed; i++)
		free(c->failed[i]);
	free(c->failed);
}

/* the tag file t read from its tag_fd, if it has one (then closed); false
 * when that failed (e) */
static bool tag_fd_read(struct view *v, int t, struct err *e)
{
	if (v->tag_fd[t] < 0)
		return true;
	int rc = read_tag_fd(v, t, v->tag_fd[t], e);
	if (rc < 0)
		err_wrap(e, "'%s/%s'", v->path, tag_names[t]);
	close(v->tag_fd[t]);
	v->tag_fd[t] = -1;
	return rc == 0;
}

/* index.json parsed (bounded in values), and the tag files hashed for the
 * tag manifest, on a thread of its own */
static void *index_parse(void *arg)
{
	struct view *v = arg;
	struct pre *p = &v->pre;
	if (!tag_fd_read(v, T_INDEX, &p->rerr_index)) {
		p->rfail_index = true;
		return NULL;
	}
	for (int t = 0; t < T_COUNT; t++) {
		if (t != T_CUSTODY && v->tags[t].present && !v->tags[t].hashed) {
			sha256_hex(v->tags[t].buf.buf ? v->tags[t].buf.buf : "", v->tags[t].buf.len,
				   v->tags[t].sha);
			v->tags[t].hashed = true;
		}
	}
	if (!v->tags[T_INDEX].present)
		return NULL;
	const char *ib = v->tags[T_INDEX].buf.buf ? v->tags[T_INDEX].buf.buf : "";
	size_t il = v->tags[T_INDEX].buf.len;
	if (json_text_values(ib, il) > INDEX_VALUES_MAX) {
		p->je = (json_error_t){.line = -1};
		snprintf(p->je.text, sizeof(p->je.text), "more than %u values: not parsed",
			 INDEX_VALUES_MAX);
	} else if (jl_parse(ib, il, &p->jidx)) {
		p->jl_idx = true;
	} else {
		p->idx = json_loadb(ib, il, 0, &p->je);
	}
	return NULL;
}

/* The custody chain and index.json, parsed at once: for a bag of many small
 * files these parses, not the hashing, are most of verify's time. They read
 * only the tag files (read whole before, not changed after) and write only
 * v->pre and the tags' hashes, read after pre_analyze. */
static void *pre_body(void *arg)
{
	struct view *v = arg;
	struct pre *p = &v->pre;
	pthread_t thr;
	bool started = !p->small && pthread_create(&thr, NULL, index_parse, v) == 0;
	if (!started)
		index_parse(v);
	if (!tag_fd_read(v, T_CUSTODY, &p->rerr)) {
		p->rfail = true;
		goto out;
	}
	if (v->tags[T_CUSTODY].present && !v->tags[T_CUSTODY].hashed) {
		sha256_hex(v->tags[T_CUSTODY].buf.buf ? v->tags[T_CUSTODY].buf.buf : "",
			   v->tags[T_CUSTODY].buf.len, v->tags[T_CUSTODY].sha);
		v->tags[T_CUSTODY].hashed = true;
	}
	if (v->tags[T_INFO].present && v->tags[T_CUSTODY].present) {
		struct bag_info bi = {0};
		char prob[512];
		bag_info_parse(v->tags[T_INFO].buf.buf ? v->tags[T_INFO].buf.buf : "",
			       v->tags[T_INFO].buf.len, &bi, prob, sizeof(prob));
		const char *id = bag_info_get(&bi, "Contain-Bag-Id");
		if (id) {
			struct err e = {0};
			p->bag_id = xstrdup(id);
			p->crc = chain_check_buf_each(v->tags[T_CUSTODY].buf.buf ? v->tags[T_CUSTODY].buf.buf : "",
						      v->tags[T_CUSTODY].buf.len, id, &p->r, custody_event,
						      custody_jevent, &p->cu, &e);
		}
		bag_info_free(&bi);
	}
out:
	if (started)
		pthread_join(thr, NULL);
	if (p->rfail_index && !p->rfail) {
		p->rfail = true;
		p->rerr = p->rerr_index;
	}
	return NULL;
}

/* start the tag files' parsing on a thread (the directory form, while the
 * payload is walked; the tar form, once its headers are read); pre_analyze
 * waits for it. Small ones are parsed by pre_analyze, on its thread. */
static void pre_start(struct view *v)
{
	struct pre *p = &v->pre;
	uint64_t n = 0;
	for (int t = T_CUSTODY; t <= T_INDEX; t++) {
		struct stat st;
		if (v->tag_fd[t] < 0)
			n += v->tags[t].buf.len;
		else if (fstat(v->tag_fd[t], &st) == 0 && st.st_size > 0)
			n += (uint64_t)st.st_size;
	}
	p->small = n < PRE_THREAD_MIN;
	if (!p->done && !p->started && !p->small)
		p->started = pthread_create(&p->thr, NULL, pre_body, v) == 0;
}

/* the tag files parsed: by the thread pre_start started, or here */
static void pre_analyze(struct view *v)
{
	struct pre *p = &v->pre;
	if (p->done)
		return;
	p->done = true;
	if (p->started)
		pthread_join(p->thr, NULL);
	else
		pre_body(v);
}

static void pre_free(struct pre *p)
{
	free(p->bag_id);
	cust_free(&p->cu);
	json_decref(p->idx);
}

static int me_cmp(const void *a, const void *b)
{
	return strcmp(((const struct bag_manifest_entry *)a)->path,
		      ((const struct bag_manifest_entry *)b)->path);
}

static const struct bag_manifest_entry *man_find(const struct bag_manifest *m, const char *p)
{
	struct bag_manifest_entry key = {.path = (char *)p};
	return m->n ? bsearch(&key, m->e, m->n, sizeof(*m->e), me_cmp) : NULL;
}

static const char *tagbuf(struct view *v, int t, size_t *len)
{
	*len = v->tags[t].buf.len;
	return v->tags[t].buf.buf ? v->tags[t].buf.buf : "";
}

static void check_signature(struct view *v, const struct bag_info *bi,
			    const struct bag_verify_opts *o, json_t *report)
{
	const char *fpr = bag_info_get(bi, "Contain-Signer-Fingerprint");
	const char *pub64 = bag_info_get(bi, "Contain-Signer-Public-Key");
	json_t *sj = json_object();
	json_object_set_new(report, "signature", sj);
	_cleanup_pkey_ EVP_PKEY *want = NULL;
	char want_fpr[SIGN_FPR_HEX] = "";
	/* libcrypto only for a signature (main opens it at start only where
	 * the CPU lacks SHA-NI: CMD_CRYPTO_SIG) */
	struct err le = {0};
	if ((o && o->pubkey) || v->tags[T_SIG].present || fpr || pub64) {
		if (dlib_load(DLIB_CRYPTO, &le) < 0) {
			check(v, "signature", false, "cannot check the signature: %s", le.msg);
			json_object_set_new(sj, "status", json_string("unchecked"));
			return;
		}
	}
	if (o && o->pubkey) {
		struct err e = {0};
		if (sign_load_public(o->pubkey, &want, &e) < 0 ||
		    sign_fingerprint(want, want_fpr, &e) < 0) {
			check(v, "signature", false, "cannot use --pubkey: %s", e.msg);
			json_object_set_new(sj, "status", json_string("key-unusable"));
			return;
		}
	}
	if (!v->tags[T_SIG].present) {
		json_object_set_new(sj, "status", json_string("unsigned"));
		if (fpr)
			missing(v, "signature",
				"signature.ed25519 is missing but bag-info names signer %s", fpr);
		else if (want)
			check(v, "signature", false, "the bag is not signed (a signer was expected)");
		else
			check(v, "signature", true, "not signed");
		return;
	}
	if (!fpr || !pub64) {
		check(v, "signature", false,
		      "signature.ed25519 is there but bag-info names no signer");
		json_object_set_new(sj, "status", json_string("invalid"));
		return;
	}
	json_object_set_new(sj, "fingerprint", json_string(fpr));
	/* the key named in bag-info: decode, check its fingerprint */
	unsigned char raw[64];
	int rl = EVP_DecodeBlock(raw, (const unsigned char *)pub64, (int)strlen(pub64));
	_cleanup_pkey_ EVP_PKEY *embedded = NULL;
	char efpr[SIGN_FPR_HEX] = "";
	struct err e = {0};
	if (rl >= SIGN_RAW_PUB_LEN && strlen(pub64) == 44)
		embedded = sign_public_from_raw(raw);
	if (!embedded || sign_fingerprint(embedded, efpr, &e) < 0 ||
	    strcasecmp(efpr, fpr) != 0) {
		check(v, "signature", false,
		      "bag-info's signer key does not match its fingerprint %s", fpr);
		json_object_set_new(sj, "status", json_string("invalid"));
		return;
	}
	EVP_PKEY *k = embedded;
	if (want) {
		if (strcasecmp(want_fpr, fpr) != 0) {
			check(v, "signature", false,
			      "signed by a different key: fingerprint %s, expected %s", fpr, want_fpr);
			json_object_set_new(sj, "status", json_string("wrong-signer"));
			return;
		}
		k = want;
	}
	size_t tl, sl;
	const char *tm = tagbuf(v, T_TAGMANIFEST, &tl);
	const char *sig = tagbuf(v, T_SIG, &sl);
	if (!v->tags[T_TAGMANIFEST].present ||
	    sign_check(k, tm, tl, (const unsigned char *)sig, sl) != 1) {
		check(v, "signature", false, "signature is not valid for the tag manifest");
		json_object_set_new(sj, "status", json_string("invalid"));
		return;
	}
	if (want) {
		check(v, "signature", true, "signature valid, signer %s is the expected key", fpr);
		json_object_set_new(sj, "status", json_string("valid"));
	} else {
		check(v, "signature", true, "signed, signer not checked (fingerprint %s)", fpr);
		json_object_set_new(sj, "status", json_string("signer-not-checked"));
	}
}

/* one entry of index.json (path p, sha256 h, NULL when not strings) against
 * the manifest, or without one the payload; false when it does not match */
static bool index_entry_ok(struct view *v, const struct bag_manifest *man, bool by_man,
			   const char *p, const char *h)
{
	_cleanup_free_ char *rp = p ? bag_path_decode(p) : NULL;
	struct vfile *f = rp ? find_file(v, rp) : NULL;
	const struct bag_manifest_entry *me = by_man && rp ? man_find(man, rp) : NULL;
	bool bad = by_man ? !me || !h || strcmp(h, me->hash) != 0
			  : !f || !h || (f->hashed && strcmp(h, f->sha) != 0);
	if (bad) {
		_cleanup_free_ char *s = rp ? shown(rp) : xstrdup("?");
		check(v, "index", false, "index.json entry '%s' does not match the payload", s);
	}
	return !bad;
}

static void analyze(struct view *v, const struct bag_verify_opts *o, json_t *report)
{
	char prob[512] = "";
	size_t len;
	const char *buf;
	struct bag_info bi = {0}, bagit = {0};
	struct bag_manifest man = {0}, tman = {0};
	struct cust cu = {0};
	json_t *arts = json_array(), *unf = json_array();

	if (v->n) /* qsort and bsearch want a base even for no element */
		qsort(v->files, v->n, sizeof(*v->files), vf_cmp);
	for (size_t i = 1; i < v->n; i++)
		if (strcmp(v->files[i - 1].path, v->files[i].path) == 0) {
			_cleanup_free_ char *s = shown(v->files[i].path);
			check(v, "files", false, "'%s' is in the bag twice", s);
		}
	for (int t = 0; t < T_COUNT; t++)
		if (v->tags[t].too_big)
			check(v, tag_names[t], false, "%s is larger than %zu MiB: not checked",
			      tag_names[t], tag_max(t) >> 20);

	/* bagit.txt */
	if (!v->tags[T_BAGIT].present) {
		missing(v, "bagit.txt", "bagit.txt is missing");
	} else {
		buf = tagbuf(v, T_BAGIT, &len);
		int bad = bag_info_parse(buf, len, &bagit, prob, sizeof(prob));
		const char *ver = bag_info_get(&bagit, "BagIt-Version");
		const char *enc = bag_info_get(&bagit, "Tag-File-Character-Encoding");
		if (bad)
			check(v, "bagit.txt", false, "bagit.txt is not well formed: %s", prob);
		else if (!ver || (strcmp(ver, "1.0") != 0 && strcmp(ver, "0.97") != 0))
			check(v, "bagit.txt", false, "bagit.txt: BagIt-Version is not 1.0");
		else if (!enc || strcasecmp(enc, "UTF-8") != 0)
			check(v, "bagit.txt", false, "bagit.txt: Tag-File-Character-Encoding is not UTF-8");
		else
			check(v, "bagit.txt", true, "bagit.txt well formed (BagIt %s, %s)", ver, enc);
	}

	/* bag-info.txt */
	const char *status = NULL, *bag_id = NULL;
	if (!v->tags[T_INFO].present) {
		missing(v, "bag-info.txt", "bag-info.txt is missing");
	} else {
		buf = tagbuf(v, T_INFO, &len);
		if (bag_info_parse(buf, len, &bi, prob, sizeof(prob)))
			check(v, "bag-info.txt", false, "bag-info.txt is not well formed: %s", prob);
		else
			check(v, "bag-info.txt", true, "bag-info.txt well formed (%zu fields)", bi.n);
		status = bag_info_get(&bi, "Contain-Status");
		bag_id = bag_info_get(&bi, "Contain-Bag-Id");
		if (!bag_id)
			check(v, "bag-info.txt", false, "bag-info.txt has no Contain-Bag-Id");
	}
	bool complete = status && strcmp(status, "complete") == 0;
	json_object_set_new(report, "bag_id", bag_id ? json_string(bag_id) : json_null());
	json_object_set_new(report, "status", json_string(status ? status : "unknown"));

	/* custody chain */
	bool have_custody = v->tags[T_CUSTODY].present;
	if (!have_custody) {
		missing(v, "custody", "custody.jsonl is missing");
	} else if (bag_id) {
		struct chain_check r;
		int rc;
		pre_analyze(v);
		if (v->pre.bag_id && strcmp(v->pre.bag_id, bag_id) == 0) {
			rc = v->pre.crc;
			r = v->pre.r;
			cu = v->pre.cu;
			memset(&v->pre.cu, 0, sizeof(v->pre.cu));
		} else { /* not reached: the same bag-info gives the same id */
			struct err e = {0};
			buf = tagbuf(v, T_CUSTODY, &len);
			rc = chain_check_buf_each(buf, len, bag_id, &r, custody_event,
						  custody_jevent, &cu, &e);
		}
		if (rc == 1 && r.truncated_tail && !complete)
			check(v, "custody", true,
			      "custody.jsonl: %llu lines chained; the last line is cut short "
			      "(the writer stopped mid-line)",
			      r.lines - 1);
		else if (rc == 1)
			check(v, "custody", false, "custody.jsonl is broken at line %llu: %s",
			      r.first_bad, r.problem);
		else
			check(v, "custody", true, "custody.jsonl: %llu lines, chain intact", r.lines);
		if (complete) {
			const char *head = bag_info_get(&bi, "Contain-Custody-Head");
			const char *seq = bag_info_get(&bi, "Contain-Custody-Seq");
			char seqs[32];
			snprintf(seqs, sizeof(seqs), "%llu", rc ? r.first_bad - 1 : r.lines);
			if (!head)
				check(v, "custody-head", false, "bag-info.txt has no Contain-Custody-Head");
			else if (rc || strcasecmp(head, r.head) != 0 || (seq && strcmp(seq, seqs)))
				check(v, "custody-head", false,
				      "custody head does not match bag-info.txt (the log was "
				      "altered or cut)");
			else
				check(v, "custody-head", true, "custody head matches bag-info.txt");
			if (strcmp(cu.last_action, "seal") != 0 && rc == 0)
				check(v, "custody-head", false, "custody.jsonl does not end with the seal");
		}
	}

	/* payload manifest */
	bool have_man = v->tags[T_MANIFEST].present;
	uint64_t pay_bytes = 0;
	size_t pay_n = 0;
	for (size_t i = 0; i < v->n; i++)
		if (str_has_prefix(v->files[i].path, "data/")) {
			pay_bytes += v->files[i].size;
			pay_n++;
		}
	if (have_man) {
		buf = tagbuf(v, T_MANIFEST, &len);
		if (bag_manifest_parse(buf, len, &man, prob, sizeof(prob)))
			check(v, "manifest", false, "manifest-sha256.txt is not well formed: %s", prob);
		size_t bad = 0;
		for (size_t i = 0; i < man.n; i++) {
			const char *p = man.e[i].path;
			_cleanup_free_ char *s = NULL; /* shown(p), for a problem only */
			if (!bag_path_ok(p)) {
				s = shown(p);
				check(v, "manifest", false, "manifest entry '%s' is not a payload path", s);
				bad++;
				continue;
			}
			struct vfile *f = find_file(v, p);
			if (!f) {
				s = shown(p);
				check(v, "manifest", false, "payload '%s' is in the manifest but missing", s);
				bad++;
				continue;
			}
			if (f->in_manifest) {
				s = shown(p);
				check(v, "manifest", false, "payload '%s' is in the manifest twice", s);
				bad++;
				continue;
			}
			f->in_manifest = true;
			if (!f->hashed)
				continue; /* reported as unreadable */
			if (memcmp_ct(f->sha, man.e[i].hash, 64) != 0) {
				s = shown(p);
				check(v, "manifest", false,
				      "payload '%s' was modified: sha256 does not match the manifest", s);
				bad++;
			}
		}
		for (size_t i = 0; i < v->n; i++) {
			if (str_has_prefix(v->files[i].path, "data/") && !v->files[i].in_manifest) {
				_cleanup_free_ char *s = shown(v->files[i].path);
				check(v, "manifest", false, "payload '%s' is not in the manifest", s);
				bad++;
			}
		}
		if (!bad)
			check(v, "manifest", true,
			      "manifest-sha256.txt: %zu payload files present, hashes match", man.n);
	} else if (complete) {
		missing(v, "manifest", "manifest-sha256.txt is missing");
	} else {
		check(v, "manifest", true,
		      "no manifest-sha256.txt (bag not sealed): payload checked against the "
		      "custody log's artifact hashes instead");
	}

	/* Payload-Oxum */
	const char *oxum = bag_info_get(&bi, "Payload-Oxum");
	if (oxum) {
		char want[64];
		snprintf(want, sizeof(want), "%llu.%zu", (unsigned long long)pay_bytes, pay_n);
		if (strcmp(oxum, want) == 0)
			check(v, "payload-oxum", true, "Payload-Oxum %s matches", oxum);
		else
			check(v, "payload-oxum", false, "Payload-Oxum is %s but the payload is %s", oxum,
			      want);
	} else if (complete) {
		check(v, "payload-oxum", false, "bag-info.txt has no Payload-Oxum");
	}

	/* every artifact against the custody log: with a manifest, the records
	 * must agree with it (the files were checked against the manifest);
	 * without one, the files are checked against the records */
	size_t cbad = 0, arts_more = 0, unf_more = 0;
	bool by_man = have_man && man.n;
	bool brief = o && o->brief && complete;
	if (by_man)
		qsort(man.e, man.n, sizeof(*man.e), me_cmp);
	for (size_t i = 0; i < cu.nart; i++) {
		struct cust_art *a = &cu.art[i];
		_cleanup_free_ char *s = NULL; /* shown(a->path), when needed */
		struct vfile *f = find_file(v, a->path);
		bool ok = f && f->hashed && f->size == a->size &&
			  memcmp_ct(f->sha, a->sha, 64) == 0;
		if (by_man) {
			const struct bag_manifest_entry *me = man_find(&man, a->path);
			if (!me) {
				check(v, "artifacts", false,
				      "artifact '%s' is in the custody log but not in the manifest",
				      lazy_shown(&s, a->path));
				cbad++;
			} else if (strcmp(me->hash, a->sha) != 0) {
				check(v, "artifacts", false,
				      "custody record of '%s' does not match the manifest",
				      lazy_shown(&s, a->path));
				cbad++;
			} else if (f && f->hashed && f->size != a->size) {
				check(v, "artifacts", false,
				      "artifact '%s' is %llu bytes, its custody record says %llu",
				      lazy_shown(&s, a->path),
				      (unsigned long long)f->size, (unsigned long long)a->size);
				cbad++;
			}
		} else if (!f) {
			check(v, "artifacts", false, "artifact '%s' is in the custody log but missing",
			      lazy_shown(&s, a->path));
			cbad++;
		} else if (f->hashed && !ok) {
			check(v, "artifacts", false,
			      "artifact '%s' does not match its custody record (sha256 or size)",
			      lazy_shown(&s, a->path));
			cbad++;
		}
		if (f)
			f->in_custody = true;
		if (json_array_size(arts) < LIST_MAX && !brief) {
			/* the keys are constants, s and the hex valid UTF-8: no checks */
			json_t *j = json_object();
			json_object_set_new_nocheck(j, "path", json_string_nocheck(lazy_shown(&s, a->path)));
			json_object_set_new_nocheck(j, "sha256", json_string_nocheck(a->sha));
			json_object_set_new_nocheck(j, "size", json_integer((json_int_t)a->size));
			json_object_set_new_nocheck(j, "ok", json_boolean(ok));
			json_array_append_new(arts, j);
		} else {
			arts_more++;
		}
	}
	for (size_t i = 0; i < cu.nopen; i++) {
		_cleanup_free_ char *s = shown(cu.open[i]);
		if (json_array_size(unf) < LIST_MAX)
			json_array_append_new(unf, json_pack("{s:s,s:s}", "path", s, "reason",
							     "opened, never finished (artifact-open)"));
		else
			unf_more++;
		struct vfile *f = find_file(v, cu.open[i]);
		if (f)
			f->in_custody = true;
	}
	for (size_t i = 0; i < v->n; i++) {
		struct vfile *f = &v->files[i];
		if (!str_has_prefix(f->path, "data/") || f->in_custody)
			continue;
		_cleanup_free_ char *s = shown(f->path);
		if (complete) {
			if (have_custody && !f->in_manifest) /* else reported by the manifest */
				continue;
			if (have_custody) {
				check(v, "artifacts", false, "payload '%s' has no custody record", s);
				cbad++;
			}
		} else if (json_array_size(unf) < LIST_MAX) {
			json_array_append_new(unf, json_pack("{s:s,s:s}", "path", s, "reason",
							     f->cut ? "cut short: the tar ends inside it"
							     : "present, no custody record (not finished)"));
		} else {
			unf_more++;
		}
	}
	if (have_custody && cbad == 0)
		check(v, "artifacts", true, "%zu artifacts match their custody records", cu.nart);
	json_object_set_new(report, "artifacts", arts);
	json_object_set_new(report, "artifacts_omitted", json_integer((json_int_t)arts_more));
	json_object_set_new(report, "unfinished", unf);
	json_object_set_new(report, "unfinished_omitted", json_integer((json_int_t)unf_more));

	/* tag manifest */
	if (v->tags[T_TAGMANIFEST].present) {
		buf = tagbuf(v, T_TAGMANIFEST, &len);
		if (bag_manifest_parse(buf, len, &tman, prob, sizeof(prob)))
			check(v, "tagmanifest", false, "tagmanifest-sha256.txt is not well formed: %s",
			      prob);
		size_t bad = 0;
		bool covered[T_COUNT] = {false};
		for (size_t i = 0; i < tman.n; i++) {
			const char *p = tman.e[i].path;
			_cleanup_free_ char *s = shown(p);
			int t = tag_index(p);
			char h[HASH_HEX];
			if (t == T_TAGMANIFEST || t == T_SIG || str_has_prefix(p, "data/") ||
			    strchr(p, '/')) {
				check(v, "tagmanifest", false, "tag manifest lists '%s', not a tag file",
				      s);
				bad++;
				continue;
			}
			if (t >= 0) {
				covered[t] = true;
				if (!v->tags[t].present) {
					check(v, "tagmanifest", false,
					      "tag file '%s' is in the tag manifest but missing", s);
					bad++;
					continue;
				}
				pre_analyze(v); /* which hashed the tag files */
				if (v->tags[t].hashed)
					memcpy(h, v->tags[t].sha, HASH_HEX);
				else /* not reached */
					sha256_hex(v->tags[t].buf.buf ? v->tags[t].buf.buf : "",
						   v->tags[t].buf.len, h);
			} else {
				struct vfile *f = find_file(v, p);
				if (!f) {
					check(v, "tagmanifest", false,
					      "tag file '%s' is in the tag manifest but missing", s);
					bad++;
					continue;
				}
				f->in_manifest = true;
				memcpy(h, f->sha, HASH_HEX);
			}
			if (strcmp(h, tman.e[i].hash) != 0) {
				check(v, "tagmanifest", false,
				      "tag file '%s' was modified: sha256 does not match the tag "
				      "manifest",
				      s);
				bad++;
			}
		}
		for (int t = 0; t < T_COUNT; t++) {
			if (t == T_TAGMANIFEST || t == T_SIG)
				continue;
			if (!covered[t] && (v->tags[t].present || complete)) {
				check(v, "tagmanifest", false, "tag file '%s' is not in the tag manifest",
				      tag_names[t]);
				bad++;
			}
		}
		for (size_t i = 0; i < v->n; i++) {
			if (!str_has_prefix(v->files[i].path, "data/") && !v->files[i].in_manifest) {
				_cleanup_free_ char *s = shown(v->files[i].path);
				check(v, "tagmanifest", false,
				      "extra file '%s' is not covered by the tag manifest", s);
				bad++;
			}
		}
		if (!bad)
			check(v, "tagmanifest", true,
			      "tagmanifest-sha256.txt: %zu tag files present, hashes match", tman.n);
	} else if (complete) {
		missing(v, "tagmanifest", "tagmanifest-sha256.txt is missing");
	} else {
		for (size_t i = 0; i < v->n; i++) {
			if (!str_has_prefix(v->files[i].path, "data/")) {
				_cleanup_free_ char *s = shown(v->files[i].path);
				check(v, "files", false, "unexpected file '%s' in the bag", s);
			}
		}
	}

	/* index.json */
	if (v->tags[T_INDEX].present) {
		pre_analyze(v);
		json_error_t je = v->pre.je;
		json_t *idx = v->pre.idx;
		v->pre.idx = NULL;
		struct jl_val jia = {.t = JL_NONE};
		json_t *ia = json_object_get(idx, "artifacts");
		if (v->pre.jl_idx)
			jl_get(&v->pre.jidx, "artifacts", &jia);
		if (!json_is_array(ia) && jia.t != JL_ARR) {
			check(v, "index", false, "index.json is not well formed%s%s",
			      idx || v->pre.jl_idx ? "" : ": ", idx || v->pre.jl_idx ? "" : je.text);
		} else {
			size_t i, n = 0, bad = 0;
			json_t *a;
			struct jl_iter it;
			struct jl_val k, ja, jm[2];
			jl_iter_init(&it, &jia);
			for (i = 0;; i++) {
				_cleanup_free_ char *p = NULL, *h = NULL;
				if (ia) {
					if (i >= json_array_size(ia))
						break;
					a = json_array_get(ia, i);
					const char *s = json_string_value(json_object_get(a, "path"));
					const char *t = json_string_value(json_object_get(a, "sha256"));
					p = s ? xstrdup(s) : NULL;
					h = t ? xstrdup(t) : NULL;
				} else {
					if (!jl_next(&it, &k, &ja))
						break;
					static const char *const keys[] = {"path", "sha256"};
					jl_getn(&ja, keys, jm, 2);
					p = jl_strdup(&jm[0]);
					h = jl_strdup(&jm[1]);
				}
				n++;
				if (!index_entry_ok(v, &man, by_man, p, h))
					bad++;
			}
			if (!bad)
				check(v, "index", true, "index.json: %zu artifacts described", n);
		}
		json_decref(idx);
	} else if (complete) {
		missing(v, "index", "index.json is missing");
	}

	check_signature(v, &bi, o, report);

	/* status last: the verdict hangs on it */
	if (complete)
		check(v, "status", true, "Contain-Status: complete");
	else
		gap(v, "status", "bag is incomplete (Contain-Status: %s): never sealed",
		    status ? status : "missing");

	bag_info_free(&bi);
	bag_info_free(&bagit);
	bag_manifest_free(&man);
	bag_manifest_free(&tman);
	cust_free(&cu);
}

int bag_verify(const char *path, const struct bag_verify_opts *o, json_t **report,
	       struct err *e)
{
	struct view v = {.path = path, .rootfd = -1, .pay_cap = UINT64_MAX};
	for (int t = 0; t < T_COUNT; t++)
		v.tag_fd[t] = -1;
	struct stat st;
	*report = NULL;
	int rc = -1;
	v.checks = json_array();
	bool is_dir = strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	if (strcmp(path, "-") != 0 && lstat(path, &st) < 0) {
		err_sys(e, errno, "bag '%s'", path);
		goto out;
	}
	if (is_dir) {
		_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			err_sys(e, errno, "open bag '%s'", path);
			goto out;
		}
		if (collect_dir(&v, fd, e) < 0)
			goto out;
	} else {
		v.tar = true;
		if (dlib_load(DLIB_ARCHIVE, e) < 0 || collect_tar(&v, e) < 0)
			goto out;
	}
	json_t *r = json_object();
	json_object_set_new(r, "bag", json_string(path));
	json_object_set_new(r, "form", json_string(v.refused ? "unsupported"
						   : v.tar   ? "tar"
							     : "directory"));
	if (v.refused) {
		_cleanup_free_ char *sp = shown(path);
		check(&v, "format", false,
		      "'%s' is %s: verify reads a directory, a .tar, a .tar.gz or a .tar.zst "
		      "(and runs no external program)",
		      sp, v.refused);
		json_object_set_new(r, "status", json_string("unknown"));
		json_object_set_new(r, "artifacts", json_array());
		json_object_set_new(r, "unfinished", json_array());
	} else {
		analyze(&v, o, r);
	}
	/* incomplete: every problem says only that (never sealed, cut short) */
	json_object_set_new(r, "verdict", json_string(v.fails == 0	       ? "valid"
						      : v.fails == v.gaps ? "incomplete"
									  : "invalid"));
	json_object_set_new(r, "cut", json_boolean(v.cut));
	json_object_set_new(r, "valid", json_boolean(v.fails == 0));
	json_object_set_new(r, "checks", json_incref(v.checks));
	json_t *probs = json_array(), *c;
	size_t i;
	json_array_foreach(v.checks, i, c) {
		if (!json_is_true(json_object_get(c, "ok")))
			json_array_append(probs, json_object_get(c, "detail"));
	}
	json_object_set_new(r, "problems", probs);
	json_object_set_new(r, "problem_count", json_integer((json_int_t)v.fails));
	json_object_set_new(r, "problems_omitted", json_integer((json_int_t)(v.fails - v.listed)));
	*report = r;
	rc = v.fails == 0 ? 0 : 1;
out:
	if (v.pre.started)
		pre_analyze(&v); /* its thread reads the tag files freed below */
	for (int t = 0; t < T_COUNT; t++)
		if (v.tag_fd[t] >= 0)
			close(v.tag_fd[t]);
	json_decref(v.checks);
	for (size_t k = 0; k < v.n; k++)
		free(v.files[k].path);
	free(v.files);
	free(v.order);
	for (int t = 0; t < T_COUNT; t++)
		sbuf_free(&v.tags[t].buf);
	pre_free(&v.pre);
	return rc;
}
