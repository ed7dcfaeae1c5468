/* mkbag: a test tool. Build a bag from files and directories on disk
 * through the bag writer API.
 *   mkbag -o OUT [--sign KEY] [--case ID] [--examiner NAME] [--unsized]
 *         [--sparse] [--kill-after N] [--abort] [--json-artifact]
 *         [--no-libmagic] [--direct-io] SRC...
 * A file SRC becomes data/<its name>; a directory's files become
 * data/<path under it>. --kill-after N: after N artifacts, open the next one,
 * write half of it and raise(SIGKILL). --unsized: artifacts opened without a
 * size (spooled in a tar). --sparse: holes (SEEK_HOLE) written as holes.
 * --abort: bag_abort instead of bag_seal. --no-libmagic: bag_set_libmagic
 * off. --direct-io: artifacts of 1 MiB or more with bag_file_direct_io, read
 * into an aligned buffer (in a directory bag: written with O_DIRECT, hashed
 * in place). The bag id goes to stderr. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/bag.h"

static struct {
	bool unsized, sparse, direct;
	long kill_after;
	long done;
} O = {.kill_after = -1};

static int die(const struct err *e)
{
	fprintf(stderr, "mkbag: %s\n", e->msg);
	return 1;
}

/* --direct-io: up to DIRECT_BUF bytes at off through an aligned buffer of
 * our own, written with O_DIRECT and hashed in place (bag_file_direct_io, as
 * the memory collector writes cores): no page-cache copy of the artifact */
#define DIRECT_BUF (4u << 20)
static ssize_t copy_direct(struct bag_file *f, int fd, off_t left, off_t off, struct err *e)
{
	static void *ab;
	if (!ab && posix_memalign(&ab, 4096, DIRECT_BUF) != 0)
		return err_sys(e, ENOMEM, "read buffer");
	size_t want = (size_t)left > DIRECT_BUF ? DIRECT_BUF : (size_t)left;
	ssize_t r = pread(fd, ab, want, off);
	if (r <= 0)
		return err_sys(e, r < 0 ? errno : EIO, "read");
	return bag_file_write(f, ab, (size_t)r, e) < 0 ? -1 : r;
}

static int copy_fd(struct bag_file *f, int fd, off_t size, bool half, struct err *e)
{
	static char buf[1 << 20];
	off_t off = 0, stop = half ? size / 2 : size;
	while (off < stop) {
		if (O.sparse) {
			off_t d = lseek(fd, off, SEEK_DATA);
			if (d < 0 || d > stop)
				d = stop;
			if (d > off) {
				if (bag_file_hole(f, (uint64_t)(d - off), e) < 0)
					return -1;
				off = d;
				continue;
			}
		}
		off_t end = stop;
		if (O.sparse) {
			off_t h = lseek(fd, off, SEEK_HOLE);
			if (h >= 0 && h < end)
				end = h;
		}
		while (off < end) {
			size_t want = (size_t)(end - off) > sizeof(buf) ? sizeof(buf) : (size_t)(end - off);
			if (O.direct && size >= (1 << 20) && off % 4096 == 0) {
				ssize_t r = copy_direct(f, fd, end - off, off, e);
				if (r < 0)
					return -1;
				off += r;
				continue;
			}
			if (size >= (1 << 20)) { /* read straight into the hashing buffer */
				size_t cap;
				char *zb = bag_file_buf(f, &cap);
				ssize_t r = pread(fd, zb, want < cap ? want : cap, off);
				if (r <= 0) {
					int saved = r < 0 ? errno : EIO;
					(void)bag_file_commit(f, 0, e);
					return err_sys(e, saved, "read");
				}
				if (bag_file_commit(f, (size_t)r, e) < 0)
					return -1;
				off += r;
				continue;
			}
			ssize_t r = pread(fd, buf, want, off);
			if (r <= 0)
				return err_sys(e, r < 0 ? errno : EIO, "read");
			if (bag_file_write(f, buf, (size_t)r, e) < 0)
				return -1;
			off += r;
		}
	}
	return 0;
}

static int add_file(struct bag *b, const char *src, const char *rel, struct err *e)
{
	_cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return err_sys(e, errno, "open '%s'", src);
	_cleanup_free_ char *path = xasprintf("data/%s", rel);
	struct bag_file *f;
	bool kill = O.kill_after >= 0 && O.done == O.kill_after;
	int r = O.unsized ? bag_file_open(b, path, "file", "mkbag", &f, e)
			  : bag_file_open_sized(b, path, "file", "mkbag", (uint64_t)st.st_size, &f, e);
	if (r < 0)
		return -1;
	if (O.direct && st.st_size >= (1 << 20))
		bag_file_direct_io(f);
	if (copy_fd(f, fd, st.st_size, kill, e) < 0)
		return -1;
	if (kill) {
		fprintf(stderr, "mkbag: killing myself in '%s'\n", path);
		raise(SIGKILL);
	}
	if (bag_file_close(f, NULL, e) < 0)
		return -1;
	O.done++;
	return 0;
}

static int namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_tree(struct bag *b, const char *src, const char *rel, struct err *e)
{
	struct stat st;
	if (lstat(src, &st) < 0)
		return err_sys(e, errno, "stat '%s'", src);
	if (S_ISREG(st.st_mode))
		return add_file(b, src, rel, e);
	if (!S_ISDIR(st.st_mode))
		return 0;
	DIR *d = opendir(src);
	if (!d)
		return err_sys(e, errno, "opendir '%s'", src);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		xgrow(&names, &cap, n + 1, sizeof(char *));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), namecmp);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *s = xasprintf("%s/%s", src, names[i]);
		_cleanup_free_ char *r = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		if (rc == 0 && add_tree(b, s, r, e) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'},	    {"sign", required_argument, NULL, 's'},
		{"case", required_argument, NULL, 'c'},	    {"examiner", required_argument, NULL, 'x'},
		{"unsized", no_argument, NULL, 'u'},	    {"sparse", no_argument, NULL, 'p'},
		{"kill-after", required_argument, NULL, 'k'}, {"abort", no_argument, NULL, 'a'},
		{"json-artifact", no_argument, NULL, 'J'},  {"no-libmagic", no_argument, NULL, 'M'},
		{"direct-io", no_argument, NULL, 'D'},
		{0, 0, 0, 0},
	};
	struct bag_opts bo = {0};
	bool do_abort = false, json_art = false, no_magic = false;
	int c;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': bo.out = optarg; break;
		case 's': bo.sign_key = optarg; break;
		case 'c': bo.case_id = optarg; break;
		case 'x': bo.examiner = optarg; break;
		case 'u': O.unsized = true; break;
		case 'p': O.sparse = true; break;
		case 'k': O.kill_after = atol(optarg); break;
		case 'a': do_abort = true; break;
		case 'J': json_art = true; break;
		case 'M': no_magic = true; break;
		case 'D': O.direct = true; break;
		default: fprintf(stderr, "usage: mkbag -o OUT [options] SRC...\n"); return 2;
		}
	}
	if (!bo.out) {
		fprintf(stderr, "usage: mkbag -o OUT [options] SRC...\n");
		return 2;
	}
	bo.container_id = "0123456789abcdef";
	bo.runtime = "test";
	struct err e = {0};
	struct bag *b;
	if (bag_open(&bo, &b, &e) < 0)
		return die(&e);
	fprintf(stderr, "mkbag: bag %s\n", bag_id(b));
	if (no_magic && bag_set_libmagic(b, false, &e) < 0)
		return die(&e);
	if (bag_event(b, "test-start", "mkbag", "ok", NULL, &e) < 0)
		return die(&e);
	for (int i = optind; i < argc; i++) {
		const char *src = argv[i];
		struct stat st;
		if (lstat(src, &st) < 0) {
			err_sys(&e, errno, "stat '%s'", src);
			return die(&e);
		}
		const char *base = strrchr(src, '/');
		base = base ? base + 1 : src;
		if (add_tree(b, src, S_ISDIR(st.st_mode) ? "" : base, &e) < 0)
			return die(&e);
	}
	if (json_art) {
		json_t *j = json_pack("{s:s,s:i}", "made_by", "mkbag", "files", (int)O.done);
		int r = bag_add_json(b, "data/mkbag.json", j, "meta", "mkbag", &e);
		json_decref(j);
		if (r < 0)
			return die(&e);
	}
	if (do_abort ? bag_abort(b, "mkbag --abort", &e) < 0 : bag_seal(b, &e) < 0)
		return die(&e);
	bag_free(b);
	return 0;
}
