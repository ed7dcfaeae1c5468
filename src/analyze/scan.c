/* scan.c: contain scan: the YARA rules and the memory and network findings
 * of analyze, on what a responder has before there is a bag: a directory, a
 * file (typed by its content: a pcap, an ELF core, a tar, a bag, else any
 * file), or a live container handed over by the verb (its upperdir as a
 * directory fd, its processes' memory as core streams).
 *
 * One thread reads (the walk, the tar, the core, the pcap) and hands each
 * object to the YARA pool, whose workers scan on every CPU. Everything read
 * is hostile: a directory is walked one component at a time by fd
 * (O_NOFOLLOW), a symlink is never followed, a FIFO, socket or device never
 * opened, each object bounded by --yara-max-bytes and their count by
 * SCAN_OBJECTS_MAX; a tar is streamed, never extracted. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contain/analyze.h"
#include "contain/bag.h"
#include "contain/safefs.h"

struct scan {
	const struct scan_opts *o;
	struct ayara *y;
	struct ayara_pool *pool;
	json_t *report;
	json_t *sec;	 /* report["scan"] */
	json_t *skipped; /* [{path, why}] (at most SCAN_SKIPPED_LIST) */
	uint64_t nskipped;
	uint64_t objects, bytes;
	uint64_t max_bytes;
	bool objects_full;
	struct acores *cores;	/* the cores read (NULL: none yet) */
	const struct abag *bag; /* a bag target: its process tree names the cores' processes */
	/* the directory walk */
	dev_t root_dev;
	unsigned depth;
	struct sbuf path;
};

static void skip(struct scan *s, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void skip(struct scan *s, const char *path, const char *fmt, ...)
{
	s->nskipped++;
	if (json_array_size(s->skipped) >= SCAN_SKIPPED_LIST)
		return;
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	json_array_append_new(s->skipped,
			      json_pack("{s:o,s:o}", "path", bag_json_path(path), "why",
					bag_json_text(why)));
}

static void note(struct scan *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct scan *s, const char *fmt, ...)
{
	json_t *notes = json_object_get(s->report, "notes");
	if (json_array_size(notes) >= SCAN_SKIPPED_LIST)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(notes, bag_json_text(msg));
}

/* one more object; false past SCAN_OBJECTS_MAX (noted once) */
static bool take(struct scan *s)
{
	if (s->objects >= SCAN_OBJECTS_MAX) {
		if (!s->objects_full)
			note(s, "only the first %u objects scanned (the rest counted as skipped)",
			     SCAN_OBJECTS_MAX);
		s->objects_full = true;
		s->nskipped++;
		return false;
	}
	s->objects++;
	return true;
}

/* A file's first n bytes (buf malloc'd: the pool's now) of size bytes. */
static void submit(struct scan *s, void *buf, size_t n, uint64_t size, const char *path,
		   json_t *evidence)
{
	struct ayara_ctx c = {.source = "file", .path = path, .size = size};
	s->bytes += n;
	ayara_pool_submit(s->pool, buf, n, &c, evidence);
}

/* ---- a regular file, by fd ---- */

/* Read at most max bytes of fd into a malloc'd buffer (*n: how many). */
static int read_head(int fd, uint64_t size, uint64_t max, void **out, size_t *n, struct err *e)
{
	size_t want = (size_t)(size < max ? size : max);
	char *buf = xmalloc(want ? want : 1);
	size_t got = 0;
	while (got < want) {
		ssize_t r = read(fd, buf + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			free(buf);
			return err_sys(e, err, "read");
		}
		if (r == 0)
			break; /* shrank while read: what is there */
		got += (size_t)r;
	}
	*out = buf;
	*n = got;
	return 0;
}

static void scan_fd(struct scan *s, int fd, const struct stat *st, const char *path)
{
	if (!take(s))
		return;
	void *buf = NULL;
	size_t n = 0;
	struct err e = {0};
	if (read_head(fd, (uint64_t)st->st_size, s->max_bytes, &buf, &n, &e) < 0) {
		skip(s, path, "%s", e.msg);
		return;
	}
	submit(s, buf, n, (uint64_t)st->st_size, path, NULL);
}

/* ---- a directory, walked safely ---- */

static const char *type_name(mode_t m)
{
	return S_ISLNK(m)    ? "a symlink (never followed)"
	       : S_ISFIFO(m) ? "a FIFO (never opened)"
	       : S_ISSOCK(m) ? "a socket (never opened)"
	       : S_ISCHR(m)  ? "a character device (never opened)"
	       : S_ISBLK(m)  ? "a block device (never opened)"
			     : "not a regular file";
}

static void walk_dir(struct scan *s, int dfd);

/* one entry of the directory dfd; s->path holds its path */
static void walk_entry(struct scan *s, int dfd, const char *name)
{
	const char *path = s->path.buf;
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		skip(s, path, "stat: %s", strerror(errno));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		if (st.st_dev != s->root_dev) {
			skip(s, path, "a mount point (another filesystem: not walked)");
			return;
		}
		if (s->depth >= SCAN_DEPTH_MAX) {
			skip(s, path, "deeper than %u directories: not walked", SCAN_DEPTH_MAX);
			return;
		}
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			skip(s, path, "open: %s", strerror(errno));
			return;
		}
		struct stat st2;
		if (fstat(fd, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev) {
			close(fd);
			skip(s, path, "changed while walked");
			return;
		}
		s->depth++;
		walk_dir(s, fd); /* closes fd */
		s->depth--;
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		skip(s, path, "%s", type_name(st.st_mode));
		return;
	}
	/* O_PATH first: nothing is opened for reading until fstat says it is
	 * the regular file stat saw (were it swapped for a FIFO or a device
	 * since, it is refused unopened) */
	_cleanup_close_ int pfd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0) {
		skip(s, path, "open: %s", strerror(errno));
		return;
	}
	struct stat st2;
	if (fstat(pfd, &st2) < 0 || !S_ISREG(st2.st_mode) || st2.st_ino != st.st_ino ||
	    st2.st_dev != st.st_dev) {
		skip(s, path, "changed while walked");
		return;
	}
	struct err e = {0};
	_cleanup_close_ int fd = fd_reopen(pfd, O_RDONLY | O_NOCTTY, &e);
	if (fd < 0) {
		skip(s, path, "open: %s", e.msg);
		return;
	}
	scan_fd(s, fd, &st2, path);
}

static void walk_dir(struct scan *s, int dfd)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		skip(s, s->path.buf, "read: %s", strerror(errno));
		close(dfd);
		return;
	}
	size_t base = s->path.len;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		s->path.len = base;
		if (base && s->path.buf[base - 1] != '/')
			sbuf_addc(&s->path, '/');
		sbuf_adds(&s->path, de->d_name);
		if (s->path.len >= AN_PATH_MAX) {
			skip(s, s->path.buf, "a path longer than %u bytes", AN_PATH_MAX);
			continue;
		}
		walk_entry(s, dirfd(d), de->d_name);
		s->path.len = base;
		s->path.buf[base] = '\0';
		errno = 0;
	}
	if (errno)
		skip(s, s->path.buf, "read: %s", strerror(errno));
	s->path.len = base;
	s->path.buf[base] = '\0';
	closedir(d);
}

/* dfd: a directory (closed here); shown is how its path is shown */
static void scan_dirfd(struct scan *s, int dfd, const char *shown)
{
	struct stat st;
	if (fstat(dfd, &st) < 0) {
		skip(s, shown, "stat: %s", strerror(errno));
		close(dfd);
		return;
	}
	s->root_dev = st.st_dev;
	sbuf_reset(&s->path);
	sbuf_adds(&s->path, shown);
	walk_dir(s, dfd);
}

/* ---- a tar: each regular member, streamed ---- */

static void scan_archive(struct scan *s, struct archive *a, const char *name)
{
	for (;;) {
		struct archive_entry *ae;
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			note(s, "'%s': %s (the members after it are not scanned)", name,
			     archive_error_string(a));
			break;
		}
		const char *mp = archive_entry_pathname(ae);
		if (!mp)
			mp = "?";
		if (archive_entry_filetype(ae) != AE_IFREG || archive_entry_hardlink(ae))
			continue;
		if (!take(s))
			continue;
		uint64_t size = archive_entry_size_is_set(ae) ? (uint64_t)archive_entry_size(ae) : 0;
		size_t want = (size_t)(size < s->max_bytes ? size : s->max_bytes);
		char *buf = xmalloc(want ? want : 1);
		size_t got = 0;
		bool bad = false;
		while (got < want) {
			la_ssize_t g = archive_read_data(a, buf + got, want - got);
			if (g < 0) {
				bad = true;
				break;
			}
			if (g == 0)
				break;
			got += (size_t)g;
		}
		if (bad) {
			free(buf);
			skip(s, mp, "'%s': %s", name, archive_error_string(a));
			continue;
		}
		submit(s, buf, got, size, mp,
		       json_pack("{s:o}", "archive", bag_json_path(name)));
	}
}

static int scan_tar(struct scan *s, const char *path, struct err *e)
{
	struct archive *a = NULL;
	if (bag_tar_open(path, path, &a, e) < 0)
		return -1;
	scan_archive(s, a, path);
	archive_read_free(a);
	return 0;
}

/* a tar streamed from fd (read to its end; not closed) */
static void scan_tar_fd(struct scan *s, int fd, const char *name)
{
	struct archive *a = archive_read_new();
	if (!a) {
		note(s, "%s: archive_read_new failed", name);
		return;
	}
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, 1 << 20) != ARCHIVE_OK)
		note(s, "%s: %s", name, archive_error_string(a));
	else
		scan_archive(s, a, name);
	archive_read_free(a);
}

/* ---- a core: its regions to the pool (acores, as analyze), mem.anon-elf ---- */

/* mem.anon-elf for each core of analyses.cores with an ELF header in an
 * anonymous executable mapping (analyze's process rule, here without a
 * process tree) */
static void anon_elf_findings(struct scan *s)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(s->report, "analyses"), "cores"), i, c)
	{
		json_t *hits = json_object_get(c, "anon_elf");
		if (!json_array_size(hits))
			continue;
		json_t *first = json_array_get(hits, 0);
		const char *member = json_string_value(json_object_get(c, "member"));
		const char *comm = json_string_value(json_object_get(c, "comm"));
		const char *map = json_string_value(json_object_get(first, "mapping"));
		char detail[512];
		snprintf(detail, sizeof(detail),
			 "an ELF header in memory at 0x%llx of process %lld (%s), in an executable "
			 "mapping with no file behind it (%s)",
			 (unsigned long long)json_integer_value(json_object_get(first, "vaddr")),
			 (long long)json_integer_value(json_object_get(c, "pid")), comm ? comm : "?",
			 map ? map : "anon");
		findings_add(s->report, "mem.anon-elf", SEV_CRITICAL,
			     "ELF image in an anonymous executable mapping", "T1620", member,
			     json_pack("{s:O,s:O,s:O}", "core", json_object_get(c, "member"), "pid",
				       json_object_get(c, "pid"), "anon_elf", hits),
			     detail);
	}
}

/* a bag's data/processes/tree.json: the comm of pid (NULL: not there) */
static const char *tree_comm(const struct abag *b, long long pid)
{
	json_t *p;
	size_t i;
	json_array_foreach(json_object_get(b ? b->tree : NULL, "pids"), i, p)
	{
		json_t *v = json_object_get(p, "pid");
		if (json_is_integer(v) && json_integer_value(v) == pid)
			return json_string_value(json_object_get(p, "comm"));
	}
	return NULL;
}

/* abag_cores' fn (a bag's cores, or a live container's processes) */
static int core_fn(const struct abag_core *c, void *ctx, struct err *e)
{
	(void)e;
	struct scan *s = ctx;
	struct abag_core cc = *c;
	if (!cc.comm)
		cc.comm = tree_comm(s->bag, c->pid);
	take(s);
	if (!s->cores)
		s->cores = acores_new(s->report, s->pool);
	return acores_one(&cc, s->cores, e);
}

/* ---- a pcap: flows and YARA on the streams ---- */

static int scan_pcap(struct scan *s, const char *path, int fd, struct err *e)
{
	FILE *fp = fdopen(fd, "rb");
	if (!fp)
		return err_sys(e, errno, "'%s'", path);
	struct aflows_opts fo = {0};
	ayara_stream_opts(s->pool, &fo);
	struct aflows *f = aflows_new(&fo);
	take(s);
	int rc = aflows_read(f, fp, path, e);
	json_t *out = NULL;
	aflows_finish(f, s->report, &out);
	aflows_free(f);
	json_object_update(json_object_get(s->report, "network"), out);
	json_decref(out);
	return rc;
}

/* ---- a bag: its layer's files, cores and pcaps ---- */

static int layer_fn(struct archive *layer, void *ctx, struct err *e)
{
	(void)e;
	scan_archive(ctx, layer, "data/fs/upper.tar");
	return 0;
}

static int scan_bag(struct scan *s, const char *path, struct err *e)
{
	struct abag_opts bo = {.path = path, .pubkey = s->o->pubkey, .force = s->o->force};
	struct abag *b = NULL;
	int rc = abag_open(&bo, &b, e);
	if (b && b->verify)
		json_object_set_new(s->sec, "bag",
				    json_pack("{s:O?,s:b,s:b}", "verify", b->verify, "verified",
					      b->verified, "forced", b->forced));
	if (rc < 0) {
		abag_free(b);
		return -1;
	}
	s->bag = b;
	struct err le = {0};
	if (b->has_layer && abag_layer(b, layer_fn, s, &le) < 0)
		note(s, "the layer: %s", le.msg);
	struct err ce = {0};
	if (abag_cores(b, core_fn, s, &ce) < 0)
		note(s, "the cores: %s", ce.msg);
	struct aflows_opts fo = {0};
	ayara_stream_opts(s->pool, &fo);
	struct err ne = {0};
	if (analyze_network(s->report, b, &fo, &ne) < 0)
		note(s, "the pcaps: %s", ne.msg);
	json_t *n;
	size_t i;
	json_array_foreach(b->notes, i, n) note(s, "bag: %s", json_string_value(n));
	s->bag = NULL;
	abag_free(b);
	return 0;
}

/* ---- a file, by its content ---- */

static const char *const kind_names[] = {
    [SCAN_DIR] = "directory", [SCAN_FILE] = "file",	   [SCAN_PCAP] = "pcap",
    [SCAN_CORE] = "core",     [SCAN_TAR] = "tar",	   [SCAN_BAG] = "bag",
    [SCAN_CONTAINER] = "container",
};

const char *scan_kind_name(enum scan_kind k)
{
	return k < ARRAY_SIZE(kind_names) && kind_names[k] ? kind_names[k] : "?";
}

/* a tar (plain or compressed) whose first members hold TOP/bagit.txt */
static bool tar_is_bag(const char *path)
{
	struct archive *a = NULL;
	struct err e = {0};
	if (bag_tar_open(path, path, &a, &e) < 0)
		return false;
	bool bag = false;
	for (int i = 0; i < 16 && !bag; i++) {
		struct archive_entry *ae;
		if (archive_read_next_header(a, &ae) != ARCHIVE_OK)
			break;
		const char *p = archive_entry_pathname(ae);
		const char *rel = p ? bag_tar_below_top(p) : NULL;
		bag = rel && strcmp(rel, "bagit.txt") == 0;
	}
	archive_read_free(a);
	return bag;
}

/* a tar: "ustar" at 257, or gzip / zstd that libarchive reads as a tar */
static bool is_tar(const char *path, const unsigned char *h, size_t n)
{
	if (n >= 262 && memcmp(h + 257, "ustar", 5) == 0)
		return true;
	bool gz = n >= 2 && h[0] == 0x1f && h[1] == 0x8b;
	bool zst = n >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0;
	if (!gz && !zst)
		return false;
	struct archive *a = NULL;
	struct err e = {0};
	if (bag_tar_open(path, path, &a, &e) < 0)
		return false;
	struct archive_entry *ae;
	int r = archive_read_next_header(a, &ae);
	archive_read_free(a);
	return r == ARCHIVE_OK || r == ARCHIVE_WARN;
}

enum scan_kind scan_kind_of(const unsigned char *h, size_t n)
{
	static const unsigned char pcaps[][4] = {
	    {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, {0x4d, 0x3c, 0xb2, 0xa1},
	    {0xa1, 0xb2, 0x3c, 0x4d}, {0x0a, 0x0d, 0x0d, 0x0a}};
	for (size_t i = 0; n >= 4 && i < ARRAY_SIZE(pcaps); i++)
		if (memcmp(h, pcaps[i], 4) == 0)
			return SCAN_PCAP;
	/* ELF64, little endian, ET_CORE */
	if (n >= 18 && memcmp(h, "\x7f" "ELF", 4) == 0 && h[4] == 2 && h[5] == 1 && h[16] == 4 &&
	    h[17] == 0)
		return SCAN_CORE;
	if (n >= 262 && memcmp(h + 257, "ustar", 5) == 0)
		return SCAN_TAR;
	return SCAN_FILE;
}

static int scan_path(struct scan *s, const char *path, struct err *e)
{
	/* the target itself is named by the responder: a symlink to it is
	 * followed; it is opened for reading only once fstat says it is a
	 * directory or a regular file */
	_cleanup_close_ int pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return err_sys(e, errno, "open '%s'", path);
	struct stat st;
	if (fstat(pfd, &st) < 0)
		return err_sys(e, errno, "stat '%s'", path);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "'%s' is %s: a directory or a regular file is scanned",
			       path, type_name(st.st_mode));
	_cleanup_close_ int fd =
	    fd_reopen(pfd, S_ISDIR(st.st_mode) ? O_RDONLY | O_DIRECTORY : O_RDONLY | O_NOCTTY, e);
	if (fd < 0)
		return err_wrap(e, "open '%s'", path);
	enum scan_kind k;
	if (S_ISDIR(st.st_mode)) {
		struct stat bt;
		k = fstatat(fd, "bagit.txt", &bt, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(bt.st_mode)
			? SCAN_BAG
			: SCAN_DIR;
	} else {
		unsigned char h[512];
		ssize_t n = pread(fd, h, sizeof(h), 0);
		if (n < 0)
			return err_sys(e, errno, "read '%s'", path);
		k = scan_kind_of(h, (size_t)n);
		if (k == SCAN_FILE && is_tar(path, h, (size_t)n))
			k = SCAN_TAR;
		if (k == SCAN_TAR && tar_is_bag(path))
			k = SCAN_BAG;
	}
	json_object_set_new(s->sec, "kind", json_string(scan_kind_name(k)));
	switch (k) {
	case SCAN_DIR:
		scan_dirfd(s, steal_fd(&fd), path);
		return 0;
	case SCAN_BAG:
		return scan_bag(s, path, e);
	case SCAN_TAR:
		return scan_tar(s, path, e);
	case SCAN_PCAP:
		return scan_pcap(s, path, steal_fd(&fd), e);
	case SCAN_CORE: {
		/* the names of [heap], [stack]...: PID.maps beside PID.core, as
		 * capture and the memory collector write them */
		_cleanup_free_ char *maps = NULL;
		size_t maps_len = 0;
		if (str_has_suffix(path, ".core")) {
			_cleanup_free_ char *mp = xasprintf("%.*s.maps", (int)(strlen(path) - 5), path);
			bool trunc = false;
			struct err me = {0};
			if (read_file_at(AT_FDCWD, mp, AN_MAPS_ONE_MAX, &maps, &maps_len, &trunc, &me) < 0)
				maps = NULL, maps_len = 0;
			else
				json_object_set_new(s->sec, "maps", bag_json_path(mp));
		}
		struct abag_core c = {
		    .pid = -1, .name = path, .fd = fd, .maps = maps, .maps_len = maps_len};
		struct stat cst;
		if (fstat(fd, &cst) == 0)
			c.size = (uint64_t)cst.st_size;
		/* its pid and name: the notes first (a pass over them alone) */
		struct acore_opts no = {.maps = maps, .maps_len = maps_len};
		struct acore_info info;
		struct err ne = {0};
		char comm[17] = "";
		if (acore_read_fd(fd, &no, &info, &ne) == 0) {
			c.pid = info.pid;
			memcpy(comm, info.comm, sizeof(comm));
			c.comm = comm[0] ? comm : NULL;
		}
		acore_info_free(&info);
		return core_fn(&c, s, e);
	}
	default:
		scan_fd(s, fd, &st, path);
		return 0;
	}
}

/* ---- the report ---- */

static json_t *report_new(const struct scan_opts *o)
{
	json_t *r = json_object();
	char now[64];
	time_rfc3339_ns(now, sizeof(now));
	json_object_set_new(r, "schema_version", json_integer(REPORT_SCHEMA_VERSION));
	json_object_set_new(r, "tool", json_string("contain " CONTAIN_VERSION));
	json_object_set_new(r, "generated", json_string(now));
	json_object_set_new(r, "scan",
			    json_pack("{s:o}", "target",
				      o->target ? bag_json_path(o->target)
						: bag_json_text(o->source->name)));
	json_object_set_new(r, "findings", json_array());
	json_object_set_new(r, "summary", json_object());
	json_object_set_new(r, "network", json_object());
	json_object_set_new(r, "analyses", json_object());
	json_object_set_new(r, "notes", json_array());
	return r;
}

static void summary_fail(json_t *report, const char *fail_on)
{
	json_t *sum = json_object_get(report, "summary");
	json_object_set_new(sum, "fail_on", json_string(fail_on));
	bool failed = false;
	enum sev thr, sv;
	if (strcmp(fail_on, "none") != 0 && sev_parse(fail_on, &thr) == 0) {
		json_t *f;
		size_t i;
		json_array_foreach(json_object_get(report, "findings"), i, f)
		{
			const char *x = json_string_value(json_object_get(f, "severity"));
			if (x && sev_parse(x, &sv) == 0 && sv >= thr)
				failed = true;
		}
	}
	json_object_set_new(sum, "failed", json_boolean(failed));
}

int scan_run(const struct scan_opts *o, json_t **report, struct err *e)
{
	const char *fail_on = o->fail_on ? o->fail_on : "high";
	enum sev thr;
	*report = NULL;
	if (strcmp(fail_on, "none") != 0 && sev_parse(fail_on, &thr) < 0)
		return err_set(e, ERR_INVALID, "unknown severity '%s' for --fail-on", fail_on);
	if (!o->target == !o->source)
		return err_set(e, ERR_INVALID, "a target or a container is needed (one)");
	struct scan s = {.o = o, .skipped = json_array()};
	s.report = *report = report_new(o);
	s.sec = json_object_get(s.report, "scan");
	if (ayara_open(&o->yara, &s.y, e) < 0) {
		json_decref(s.skipped);
		return err_wrap(e, "yara rules");
	}
	s.max_bytes = ayara_max_bytes(s.y);
	s.pool = ayara_pool_new(s.y, s.report, o->workers);
	double t0 = time_mono();
	int rc = 0;
	if (o->target) {
		rc = scan_path(&s, o->target, e);
	} else {
		json_object_set_new(s.sec, "kind", json_string("container"));
		if (o->source->tar_fd >= 0)
			scan_tar_fd(&s, o->source->tar_fd, "the container's files");
		struct err ce = {0};
		if (o->source->cores && o->source->cores(o->source->ctx, core_fn, &s, &ce) < 0)
			note(&s, "the container's memory: %s", ce.msg);
	}
	ayara_pool_finish(s.pool);
	if (s.cores)
		acores_finish(s.cores);
	json_t *core;
	size_t ci;
	json_array_foreach(json_object_get(json_object_get(s.report, "analyses"), "cores"), ci, core)
		s.bytes += (uint64_t)json_integer_value(json_object_get(core, "bytes_read"));
	anon_elf_findings(&s);
	json_object_set_new(s.sec, "objects", json_integer((json_int_t)s.objects));
	json_object_set_new(s.sec, "bytes", json_integer((json_int_t)s.bytes));
	json_object_set_new(s.sec, "seconds", json_real(time_mono() - t0));
	json_object_set_new(s.sec, "skipped_count", json_integer((json_int_t)s.nskipped));
	json_object_set_new(s.sec, "skipped", s.skipped);
	json_object_set_new(json_object_get(s.report, "analyses"), "yara", ayara_section(s.y));
	ayara_free(s.y);
	sbuf_free(&s.path);
	if (rc < 0)
		return -1;
	findings_finish(s.report);
	summary_fail(s.report, fail_on);
	return 0;
}
