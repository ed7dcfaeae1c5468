/* test_fslayer.c: the layer collector on a crafted upper dir, read back with
 * libarchive: every entry checked. */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "contain/fslayer.h"
#include "contain/sha256x.h"
#include "contain/util.h"
#include "unit.h"

#define DEEP 10000
#define TB (1ull << 40)
#define BIG_BYTES (100 * 1024)
#define MAX_FILE (64 * 1024)

static char top[64];   /* the temp dir */
static char upper[96]; /* top/upper */
static bool have_whiteout, have_opaque_trusted, have_cap;

static void rm_rf(const char *p)
{
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", "--one-file-system", p, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
}

static void put(int dfd, const char *name, const void *buf, size_t n)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, buf, n), 0);
	close(fd);
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned l = 0;
	EVP_Digest(p, n, md, &l, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

static unsigned char big[BIG_BYTES];

/* the crafted upper dir */
static void build_upper(void)
{
	strcpy(top, "/tmp/contain-ut-fsl-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	snprintf(upper, sizeof(upper), "%s/upper", top);
	ck_assert_int_eq(mkdir(upper, 0755), 0);
	int u = open(upper, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(u, 0);

	ck_assert_int_eq(mkdirat(u, "etc", 0755), 0);
	int etc = openat(u, "etc", O_RDONLY | O_DIRECTORY);
	put(etc, "passwd", "root:x:0:0:planted:/root:/bin/sh\n", 34);
	ck_assert_int_eq(linkat(etc, "passwd", etc, "hard", 0), 0);
	ck_assert_int_eq(symlinkat("/etc/shadow", etc, "shadowlink"), 0);
	close(etc);

	ck_assert_int_eq(mkdirat(u, "bin", 0755), 0);
	have_whiteout = mknodat(u, "bin/wget", S_IFCHR | 0, makedev(0, 0)) == 0;
	put(u, "bin/tool", "tool", 4);
	/* security.capability: VFS_CAP_REVISION_2, effective, CAP_NET_RAW permitted */
	uint32_t cap[5] = {0x02000001, 1u << 13, 0, 0, 0};
	char cp[128];
	snprintf(cp, sizeof(cp), "%s/bin/tool", upper);
	have_cap = setxattr(cp, "security.capability", cap, sizeof(cap), 0) == 0;

	ck_assert_int_eq(mkdirat(u, "opq", 0755), 0);
	put(u, "opq/keep", "kept", 4);
	char op[128];
	snprintf(op, sizeof(op), "%s/opq", upper);
	have_opaque_trusted = setxattr(op, "trusted.overlay.opaque", "y", 1, 0) == 0;
	if (!have_opaque_trusted)
		ck_assert_int_eq(setxattr(op, "user.overlay.opaque", "y", 1, 0), 0);

	ck_assert_int_eq(mkfifoat(u, "fifo", 0644), 0);

	/* 1 TB sparse with 5 bytes at 1 GiB */
	int sp = openat(u, "sparse", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(sp, 0);
	ck_assert_int_eq(ftruncate(sp, (off_t)TB), 0);
	ck_assert_int_eq(pwrite(sp, "HELLO", 5, 1 << 30), 5);
	close(sp);
	/* a small sparse file: its holes are hashed, sha256 is the content's */
	sp = openat(u, "smallsparse", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_eq(pwrite(sp, "tail", 4, 8 << 20), 4);
	close(sp);

	put(u, "new\nline", "nl", 2);
	put(u, "bad\xff\xfe", "bad", 3);
	put(u, ".wh.sneaky", "", 0);

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + 3);
	put(u, "big", big, sizeof(big));

	/* a DEEP-level chain of "d" with a file at the bottom */
	ck_assert_int_eq(mkdirat(u, "deep", 0755), 0);
	int cur = openat(u, "deep", O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < DEEP - 1; i++) {
		ck_assert_int_eq(mkdirat(cur, "d", 0755), 0);
		int n = openat(cur, "d", O_RDONLY | O_DIRECTORY);
		ck_assert_int_ge(n, 0);
		close(cur);
		cur = n;
	}
	put(cur, "leaf", "bottom", 6);
	close(cur);
	close(u);
}

static void teardown_upper(void)
{
	if (top[0])
		rm_rf(top);
}

struct got {
	char *path;
	size_t plen;
	int type;
	int64_t size;
	char *symlink, *hardlink;
	struct sbuf data;
	int64_t data_off; /* offset of the first data block */
	int sparse;
	bool has_cap, has_overlay_xattr;
};

struct tarview {
	struct got *v;
	size_t n, cap;
};

static void read_tar(const struct sbuf *t, struct tarview *tv)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	ck_assert_int_eq(archive_read_open_memory(a, t->buf, t->len), ARCHIVE_OK);
	struct archive_entry *ae;
	int r;
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		xgrow(&tv->v, &tv->cap, tv->n + 1, sizeof(*tv->v));
		struct got *g = &tv->v[tv->n++];
		memset(g, 0, sizeof(*g));
		const char *p = archive_entry_pathname(ae);
		g->plen = strlen(p);
		g->path = xstrdup(p);
		g->type = (int)archive_entry_filetype(ae);
		g->size = archive_entry_size(ae);
		if (archive_entry_symlink(ae))
			g->symlink = xstrdup(archive_entry_symlink(ae));
		if (archive_entry_hardlink(ae))
			g->hardlink = xstrdup(archive_entry_hardlink(ae));
		g->sparse = archive_entry_sparse_count(ae);
		const char *xn;
		const void *xv;
		size_t xs;
		archive_entry_xattr_reset(ae);
		while (archive_entry_xattr_next(ae, &xn, &xv, &xs) == ARCHIVE_OK) {
			if (!strcmp(xn, "security.capability"))
				g->has_cap = true;
			if (strstr(xn, "overlay."))
				g->has_overlay_xattr = true;
		}
		g->data_off = -1;
		const void *buf;
		size_t len;
		int64_t off;
		while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
			if (len && g->data_off < 0)
				g->data_off = off;
			if (g->data.len < 1 << 20)
				sbuf_add(&g->data, buf, len);
		}
		ck_assert_int_eq(r, ARCHIVE_EOF);
	}
	ck_assert_msg(r == ARCHIVE_EOF, "tar read: %s", archive_error_string(a));
	archive_read_free(a);
}

static void tarview_free(struct tarview *tv)
{
	for (size_t i = 0; i < tv->n; i++) {
		free(tv->v[i].path);
		free(tv->v[i].symlink);
		free(tv->v[i].hardlink);
		sbuf_free(&tv->v[i].data);
	}
	free(tv->v);
}

static const struct got *find(const struct tarview *tv, const char *path)
{
	for (size_t i = 0; i < tv->n; i++)
		if (!strcmp(tv->v[i].path, path))
			return &tv->v[i];
	return NULL;
}

static json_t *jfind(json_t *files, const char *path)
{
	json_t *ents = json_object_get(files, "entries"), *e;
	size_t i;
	json_array_foreach(ents, i, e)
	{
		const char *p = json_string_value(json_object_get(e, "path"));
		if (p && !json_object_get(e, "path_base64") && !strcmp(p, path))
			return e;
	}
	return NULL;
}

/* tar_sha256 ended: the SHA-256 of exactly the bytes the sink took */
static void check_tar_digest(struct sha256x *c, const struct sbuf *tar)
{
	unsigned char md[SHA256X_LEN];
	char got[65], want[65];
	sha256x_final(c, md);
	hex_encode(md, sizeof(md), got);
	sha256_hex(tar->buf, tar->len, want);
	ck_assert_str_eq(got, want);
}

/* with the tar's digest (fslayer_opts.tar_sha256) checked against its bytes */
static void collect(bool threads, enum fslayer_kind kind, struct sbuf *tar, struct fslayer_result *res)
{
	struct sha256x c;
	sha256x_init(&c);
	struct fslayer_opts o = {.max_file_bytes = MAX_FILE, .no_threads = !threads, .tar_sha256 = &c};
	struct sink s = sink_sbuf(tar);
	struct err e = {0};
	int r = fslayer_collect_dir(upper, kind, &o, &s, res, &e);
	ck_assert_msg(r == 0, "collect: %s", e.msg);
	check_tar_digest(&c, tar);
}

/* the whole layer, checked entry by entry */
static void check_layer(bool threads)
{
	build_upper();
	/* bounded fds: the 10,000-deep walk must live within 100 */
	struct rlimit rl = {100, 100};
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	alarm(120); /* a FIFO opened for reading would hang here */

	struct sbuf tar = SBUF_INIT;
	struct fslayer_result res;
	collect(threads, FSLAYER_UPPER, &tar, &res);
	ck_assert_uint_eq(res.tar_bytes, tar.len);
	ck_assert_msg(tar.len < 8u << 20, "tar is %zu bytes", tar.len);

	struct tarview tv = {0};
	read_tar(&tar, &tv);

	/* hard link: names sorted, so etc/hard holds the data */
	const struct got *g = find(&tv, "etc/hard");
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->type, AE_IFREG);
	ck_assert_int_eq(g->data.len, 34);
	ck_assert(memcmp(g->data.buf, "root:x:0:0:planted", 18) == 0);
	g = find(&tv, "etc/passwd");
	ck_assert_ptr_nonnull(g);
	ck_assert_str_eq(g->hardlink, "etc/hard");

	/* the symlink is a link, its target's content nowhere */
	g = find(&tv, "etc/shadowlink");
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->type, AE_IFLNK);
	ck_assert_str_eq(g->symlink, "/etc/shadow");
	char *shadow = NULL;
	size_t sl = 0;
	struct err e = {0};
	if (read_file_at(AT_FDCWD, "/etc/shadow", 1 << 20, &shadow, &sl, NULL, &e) == 0) {
		for (char *line = strtok(shadow, "\n"); line; line = strtok(NULL, "\n"))
			if (strlen(line) >= 8)
				ck_assert_msg(!memmem(tar.buf, tar.len, line, strlen(line)),
					      "/etc/shadow content in the tar");
		free(shadow);
	}

	/* whiteout */
	if (have_whiteout) {
		g = find(&tv, "bin/.wh.wget");
		ck_assert_ptr_nonnull(g);
		ck_assert_int_eq(g->type, AE_IFREG);
		ck_assert_int_eq(g->size, 0);
		ck_assert_ptr_null(find(&tv, "bin/wget"));
		json_t *w = jfind(res.files, "bin/wget");
		ck_assert_ptr_nonnull(w);
		ck_assert_str_eq(json_string_value(json_object_get(w, "type")), "whiteout");
		ck_assert(json_is_true(json_object_get(w, "whiteout")));
	}
	g = find(&tv, "bin/tool");
	ck_assert_ptr_nonnull(g);
	if (have_cap)
		ck_assert(g->has_cap);

	/* opaque directory */
	g = find(&tv, "opq/");
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->type, AE_IFDIR);
	ck_assert(!g->has_overlay_xattr);
	g = find(&tv, "opq/.wh..wh..opq");
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->type, AE_IFREG);
	ck_assert_int_eq(g->size, 0);
	ck_assert(json_is_true(json_object_get(jfind(res.files, "opq"), "opaque")));
	ck_assert_ptr_nonnull(find(&tv, "opq/keep"));
	/* entry order: the marker after its directory, before its content */
	size_t io = 0, im = 0, ik = 0;
	for (size_t i = 0; i < tv.n; i++) {
		if (!strcmp(tv.v[i].path, "opq/"))
			io = i;
		if (!strcmp(tv.v[i].path, "opq/.wh..wh..opq"))
			im = i;
		if (!strcmp(tv.v[i].path, "opq/keep"))
			ik = i;
	}
	ck_assert(io < im && im < ik);

	/* FIFO recorded, not read */
	g = find(&tv, "fifo");
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->type, AE_IFIFO);

	/* 1 TB sparse: kept sparse, its data where it was */
	g = find(&tv, "sparse");
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->type, AE_IFREG);
	ck_assert_int_eq(g->size, (int64_t)TB);
	ck_assert_int_gt(g->sparse, 0);
	ck_assert_int_eq(g->data_off, 1 << 30);
	ck_assert(g->data.len >= 5 && memcmp(g->data.buf, "HELLO", 5) == 0);
	json_t *sj = jfind(res.files, "sparse");
	ck_assert_ptr_nonnull(sj);
	ck_assert_ptr_null(json_object_get(sj, "sha256")); /* a TB of zeros is not hashed */
	ck_assert_ptr_nonnull(json_object_get(sj, "sha256_data"));
	ck_assert_ptr_nonnull(json_object_get(json_object_get(sj, "sparse"), "map"));

	/* small sparse: the hash is the whole content's */
	g = find(&tv, "smallsparse");
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->size, (8 << 20) + 4);
	{
		unsigned char *full = xcalloc(1, (8 << 20) + 4);
		memcpy(full + (8 << 20), "tail", 4);
		char hex[65];
		sha256_hex(full, (8 << 20) + 4, hex);
		free(full);
		ck_assert_str_eq(json_string_value(json_object_get(jfind(res.files, "smallsparse"), "sha256")),
				 hex);
	}

	/* odd names */
	g = find(&tv, "new\nline");
	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->data.len, 2);
	ck_assert_ptr_nonnull(find(&tv, "bad\xff\xfe"));
	ck_assert_ptr_nonnull(find(&tv, ".wh.sneaky"));
	bool found_b64 = false;
	json_t *ents = json_object_get(res.files, "entries"), *je;
	size_t i;
	json_array_foreach(ents, i, je)
	{
		if (json_is_true(json_object_get(je, "path_base64")) &&
		    !strcmp(json_string_value(json_object_get(je, "path")), "YmFk//4="))
			found_b64 = true;
	}
	ck_assert(found_b64);
	ck_assert_ptr_nonnull(jfind(res.files, "new\nline"));

	/* over max_file_bytes: hashed, listed, not in the tar */
	ck_assert_ptr_null(find(&tv, "big"));
	json_t *bj = jfind(res.files, "big");
	ck_assert_ptr_nonnull(bj);
	ck_assert(json_is_false(json_object_get(bj, "in_tar")));
	char hex[65];
	sha256_hex(big, sizeof(big), hex);
	ck_assert_str_eq(json_string_value(json_object_get(bj, "sha256")), hex);
	sha256_hex("root:x:0:0:planted:/root:/bin/sh\n", 34, hex);
	ck_assert_str_eq(json_string_value(json_object_get(jfind(res.files, "etc/passwd"), "sha256")), hex);
	ck_assert_str_eq(json_string_value(json_object_get(jfind(res.files, "etc/passwd"), "type")),
			 "hardlink");

	/* the deep chain: its leaf at full depth, pax long name */
	struct sbuf leaf = SBUF_INIT;
	sbuf_adds(&leaf, "deep");
	for (int k = 0; k < DEEP - 1; k++)
		sbuf_adds(&leaf, "/d");
	sbuf_adds(&leaf, "/leaf");
	g = find(&tv, leaf.buf);
	ck_assert_msg(g != NULL, "deep leaf (%zu bytes of path) not in the tar", leaf.len);
	ck_assert_int_eq(g->data.len, 6);
	sbuf_free(&leaf);
	/* every directory in files.json, deep ones by parent index */
	size_t dirs = 0, deep_by_parent = 0;
	json_array_foreach(ents, i, je)
	{
		if (!strcmp(json_string_value(json_object_get(je, "type")), "dir"))
			dirs++;
		if (json_object_get(je, "parent")) {
			json_int_t pidx = json_integer_value(json_object_get(je, "parent"));
			ck_assert(pidx >= 0 && (size_t)pidx < i);
			deep_by_parent++;
		}
	}
	ck_assert_uint_ge(dirs, DEEP + 3);
	ck_assert_uint_gt(deep_by_parent, DEEP / 2);

	/* notes say what was left out */
	char *notes = json_dumps(res.notes, 0);
	ck_assert_ptr_nonnull(strstr(notes, "max_file_bytes"));
	ck_assert_ptr_nonnull(strstr(notes, ".wh."));
	free(notes);
	ck_assert_str_eq(json_string_value(json_object_get(res.files, "layer")), "upperdir");

	tarview_free(&tv);
	sbuf_free(&tar);
	fslayer_result_free(&res);
	teardown_upper();
}

START_TEST(layer_threaded)
{
	check_layer(true);
}
END_TEST

START_TEST(layer_inline)
{
	check_layer(false);
}
END_TEST

/* without SHA-NI (forced): files hashed on the walking thread, the tar on
 * the writer; the same checks */
START_TEST(layer_fallback)
{
	bool old = sha256x_force_fallback(true);
	check_layer(true);
	check_layer(false);
	sha256x_force_fallback(old);
}
END_TEST

/* threaded and inline give the same bytes, run after run. (The first run
 * is a warm-up: readlink updates a symlink's atime once under relatime.) */
START_TEST(layer_deterministic)
{
	build_upper();
	struct sbuf t0 = SBUF_INIT, t1 = SBUF_INIT, t2 = SBUF_INIT, t3 = SBUF_INIT;
	struct fslayer_result r0, r1, r2, r3;
	collect(true, FSLAYER_UPPER, &t0, &r0);
	collect(true, FSLAYER_UPPER, &t1, &r1);
	collect(false, FSLAYER_UPPER, &t2, &r2);
	collect(true, FSLAYER_UPPER, &t3, &r3);
	ck_assert_uint_eq(t0.len, t1.len);
	ck_assert_uint_eq(t1.len, t2.len);
	ck_assert(memcmp(t1.buf, t2.buf, t1.len) == 0);
	ck_assert_uint_eq(t1.len, t3.len);
	ck_assert(memcmp(t1.buf, t3.buf, t1.len) == 0);
	fslayer_result_free(&r0);
	sbuf_free(&t0);
	json_object_del(r1.files, "stats");
	json_object_del(r2.files, "stats");
	json_object_del(r1.files, "time");
	json_object_del(r2.files, "time");
	ck_assert(json_equal(r1.files, r2.files));
	fslayer_result_free(&r1);
	fslayer_result_free(&r2);
	fslayer_result_free(&r3);
	sbuf_free(&t1);
	sbuf_free(&t2);
	sbuf_free(&t3);
	teardown_upper();
}
END_TEST

/* a whole root: char 0:0 is a device, no whiteout or opaque markers, and a
 * filesystem mounted below is skipped */
START_TEST(whole_root)
{
	build_upper();
	bool mounted = false;
	char mp[160];
	snprintf(mp, sizeof(mp), "%s/proc", upper);
	ck_assert_int_eq(mkdir(mp, 0555), 0);
	if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mount("tmpfs", mp, "tmpfs", 0, "size=1m") == 0) {
		mounted = true;
		char f[200];
		snprintf(f, sizeof(f), "%s/secret", mp);
		int fd = open(f, O_WRONLY | O_CREAT, 0600);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	struct sbuf tar = SBUF_INIT;
	struct fslayer_result res;
	collect(true, FSLAYER_ROOT, &tar, &res);
	struct tarview tv = {0};
	read_tar(&tar, &tv);
	ck_assert(res.whole_root);
	ck_assert_str_eq(json_string_value(json_object_get(res.files, "layer")), "rootfs");
	ck_assert_ptr_null(find(&tv, "opq/.wh..wh..opq"));
	if (have_whiteout) {
		const struct got *g = find(&tv, "bin/wget");
		ck_assert_ptr_nonnull(g);
		ck_assert_int_eq(g->type, AE_IFCHR);
		ck_assert_ptr_null(find(&tv, "bin/.wh.wget"));
	}
	if (mounted) {
		ck_assert_ptr_nonnull(find(&tv, "proc/"));
		ck_assert_ptr_null(find(&tv, "proc/secret"));
		ck_assert(json_is_true(json_object_get(jfind(res.files, "proc"), "mount_point")));
		umount2(mp, MNT_DETACH);
	}
	tarview_free(&tv);
	sbuf_free(&tar);
	fslayer_result_free(&res);
	teardown_upper();
	if (!mounted)
		fprintf(stderr, "# SKIP mount point part: cannot mount tmpfs here\n");
}
END_TEST

/* a sink that fails: the error comes back, nothing hangs */
static int failing_write(void *ctx, const void *buf, size_t n, struct err *e)
{
	(void)buf;
	size_t *left = ctx;
	if (n > *left)
		return err_set(e, ERR_SYS, "disk full");
	*left -= n;
	return 0;
}

START_TEST(sink_failure)
{
	build_upper();
	for (int threads = 0; threads < 2; threads++) {
		size_t left = 4096;
		struct sink s = {failing_write, NULL, &left};
		struct sha256x c;
		sha256x_init(&c);
		struct fslayer_opts o = {.max_file_bytes = MAX_FILE, .no_threads = !threads,
					 .tar_sha256 = &c};
		struct fslayer_result res;
		struct err e = {0};
		ck_assert_int_eq(fslayer_collect_dir(upper, FSLAYER_UPPER, &o, &s, &res, &e), -1);
		ck_assert_msg(strstr(e.msg, "disk full") != NULL, "error: %s", e.msg);
		/* the caller's context: still its to end */
		ck_assert_uint_le(c.bytes, 4096);
		sha256x_discard(&c);
	}
	teardown_upper();
}
END_TEST

/* files.json times are the RFC 3339 of util's time_rfc3339_from */
START_TEST(times)
{
	static const long long secs[] = {0, -1, 951782400, 951868799, 1700000000, 4102444800LL,
					 253402300799LL, -62135596800LL};
	char dir[] = "/tmp/contain-ut-fslt-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	for (size_t i = 0; i < ARRAY_SIZE(secs); i++) {
		char name[16];
		snprintf(name, sizeof(name), "t%zu", i);
		put(d, name, "x", 1);
		struct timespec ts[2] = {{secs[i], 123456789}, {secs[i], 987654321}};
		ck_assert_int_eq(utimensat(d, name, ts, 0), 0);
	}
	struct sbuf tar = SBUF_INIT;
	struct sink s = sink_sbuf(&tar);
	struct fslayer_result res;
	struct err e = {0};
	ck_assert_int_eq(fslayer_collect_dir(dir, FSLAYER_UPPER, NULL, &s, &res, &e), 0);
	for (size_t i = 0; i < ARRAY_SIZE(secs); i++) {
		char name[16], want[64];
		snprintf(name, sizeof(name), "t%zu", i);
		struct stat st; /* what the filesystem kept (ext4 stops in 2446) */
		ck_assert_int_eq(fstatat(d, name, &st, 0), 0);
		time_rfc3339_from(&st.st_mtim, want, sizeof(want));
		json_t *j = jfind(res.files, name);
		ck_assert_ptr_nonnull(j);
		ck_assert_str_eq(json_string_value(json_object_get(j, "mtime")), want);
	}
	fslayer_result_free(&res);
	sbuf_free(&tar);
	close(d);
	rm_rf(dir);
}
END_TEST

START_TEST(missing_dir)
{
	struct sbuf tar = SBUF_INIT;
	struct sink s = sink_sbuf(&tar);
	struct fslayer_result res;
	struct err e = {0};
	ck_assert_int_eq(fslayer_collect_dir("/nonexistent/upper", FSLAYER_UPPER, NULL, &s, &res, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "'/nonexistent/upper'"));
	sbuf_free(&tar);
}
END_TEST

/* Many files of many sizes: far more bytes than the threads' shared ring
 * holds, so it wraps many times (files ending at its very end too). The
 * threaded tar must be byte for byte the inline one, every entry readable
 * with its content, and files.json's text must parse to the same document. */

START_TEST(ring_wraps)
{
	char dir[] = "/tmp/contain-fsl-ring.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	static const size_t odd[] = {1, 511, 512, 513, (256u << 10) - 1, 256u << 10, (256u << 10) + 1,
				     (1u << 20) + 7, 3u << 20, 0};
	size_t nfiles = 0;
	_cleanup_free_ unsigned char *buf = xmalloc(3u << 20);
	for (unsigned i = 0; i < 2400; i++) {
		char p[128];
		if (i % 100 == 0) {
			snprintf(p, sizeof(p), "%s/d%03u", dir, i / 100);
			ck_assert_int_eq(mkdir(p, 0755), 0);
		}
		snprintf(p, sizeof(p), "%s/d%03u/f%04u", dir, i / 100, i);
		size_t n = i < ARRAY_SIZE(odd) ? odd[i] : 1 + (size_t)(i * 7919u) % 9000;
		unit_pattern_fill(buf, n, i);
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write_all(fd, buf, n), 0);
		close(fd);
		nfiles++;
	}
	struct sbuf t1 = SBUF_INIT, t2 = SBUF_INIT;
	struct fslayer_result r1, r2;
	struct err e = {0};
	struct sha256x c1, c2;
	sha256x_init(&c1);
	sha256x_init(&c2);
	struct fslayer_opts o1 = {.tar_sha256 = &c1}, o2 = {.no_threads = true, .tar_sha256 = &c2};
	struct sink s1 = sink_sbuf(&t1), s2 = sink_sbuf(&t2);
	ck_assert_int_eq(fslayer_collect_dir(dir, FSLAYER_UPPER, &o1, &s1, &r1, &e), 0);
	ck_assert_int_eq(fslayer_collect_dir(dir, FSLAYER_UPPER, &o2, &s2, &r2, &e), 0);
	check_tar_digest(&c1, &t1);
	check_tar_digest(&c2, &t2);
	ck_assert_uint_gt(t1.len, 4u * (4u << 20)); /* the ring is 4 MiB */
	ck_assert_uint_eq(t1.len, t2.len);
	ck_assert(memcmp(t1.buf, t2.buf, t1.len) == 0);
	ck_assert_uint_eq(r1.entries, nfiles + 24);

	/* every file back out of the tar with its bytes */
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	ck_assert_int_eq(archive_read_open_memory(a, t1.buf, t1.len), ARCHIVE_OK);
	struct archive_entry *ae;
	size_t seen = 0;
	_cleanup_free_ unsigned char *got = xmalloc(3u << 20);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		unsigned i;
		if (archive_entry_filetype(ae) != AE_IFREG ||
		    sscanf(archive_entry_pathname(ae), "d%*3u/f%4u", &i) != 1)
			continue;
		size_t n = (size_t)archive_entry_size(ae);
		ck_assert_int_eq(archive_read_data(a, got, n), (la_ssize_t)n);
		unit_pattern_fill(buf, n, i);
		ck_assert_msg(memcmp(got, buf, n) == 0, "content of f%04u", i);
		seen++;
	}
	archive_read_free(a);
	ck_assert_uint_eq(seen, nfiles);

	/* the text is the document */
	json_error_t je;
	json_t *txt = json_loadb(r1.files_text, r1.files_len, 0, &je);
	ck_assert_ptr_nonnull(txt);
	ck_assert(json_equal(txt, r1.files));
	ck_assert_int_eq(r1.files_text[r1.files_len - 1], '\n');
	json_decref(txt);
	json_object_del(r1.files, "stats");
	json_object_del(r2.files, "stats");
	json_object_del(r1.files, "time");
	json_object_del(r2.files, "time");
	ck_assert(json_equal(r1.files, r2.files));

	/* files_text_only: no tree, the same text */
	struct sbuf t3 = SBUF_INIT;
	struct sink s3 = sink_sbuf(&t3);
	struct fslayer_opts o3 = {.files_text_only = true};
	struct fslayer_result r3;
	ck_assert_int_eq(fslayer_collect_dir(dir, FSLAYER_UPPER, &o3, &s3, &r3, &e), 0);
	ck_assert_ptr_null(r3.files);
	ck_assert_ptr_nonnull(r3.files_text);
	ck_assert_uint_eq(t3.len, t1.len);
	ck_assert(memcmp(t3.buf, t1.buf, t1.len) == 0);
	fslayer_result_free(&r1);
	fslayer_result_free(&r2);
	fslayer_result_free(&r3);
	sbuf_free(&t1);
	sbuf_free(&t2);
	sbuf_free(&t3);
	rm_rf(dir);
}
END_TEST

/* the sizing pass: its length is the tar's, and the tar given its plan is
 * the very tar written without one (sparse, hard links, xattrs, whiteouts,
 * deep paths: the crafted layer) */
START_TEST(sized_exact)
{
	build_upper();
	struct sbuf t0 = SBUF_INIT, t1 = SBUF_INIT, t2 = SBUF_INIT;
	struct fslayer_result r0, r1, r2;
	collect(true, FSLAYER_UPPER, &t0, &r0); /* warm-up (symlink atime) */
	collect(true, FSLAYER_UPPER, &t1, &r1);
	struct fslayer_opts o = {.max_file_bytes = MAX_FILE};
	struct err e = {0};
	ck_assert_int_eq(fslayer_size_dir(upper, FSLAYER_UPPER, &o, &o.plan, &e), 0);
	ck_assert_uint_eq(fslayer_plan_bytes(o.plan), t1.len);
	struct sink s = sink_sbuf(&t2);
	ck_assert_int_eq(fslayer_collect_dir(upper, FSLAYER_UPPER, &o, &s, &r2, &e), 0);
	ck_assert_uint_eq(r2.changed, 0);
	ck_assert_uint_eq(t2.len, t1.len);
	ck_assert(memcmp(t1.buf, t2.buf, t1.len) == 0);
	fslayer_plan_free(o.plan);
	fslayer_result_free(&r0);
	fslayer_result_free(&r1);
	fslayer_result_free(&r2);
	sbuf_free(&t0);
	sbuf_free(&t1);
	sbuf_free(&t2);
	teardown_upper();
}
END_TEST

/* entries that change between the sizing pass and the capture: a file
 * grown, one shrunk, one removed, one added, an xattr set. The tar is never
 * longer than planned and, zero-filled to the plan, still reads whole; the
 * changed entries are out of it, listed, hashed and noted. */
START_TEST(sized_changed)
{
	char dir[] = "/tmp/contain-fsl-sized.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(d, 0);
	unsigned char buf[20000];
	unit_pattern_fill(buf, sizeof(buf), 7);
	put(d, "keep", buf, 3000);
	put(d, "grow", buf, 5000);
	put(d, "shrink", buf, 9000);
	put(d, "gone", buf, 700);
	put(d, "xattr", buf, 100);
	for (int i = 0; i < 3; i++) {
		char n[16];
		snprintf(n, sizeof(n), "f%d", i);
		put(d, n, buf + i, 1000);
	}
	struct fslayer_opts o = {0};
	struct err e = {0};
	ck_assert_int_eq(fslayer_size_dir(dir, FSLAYER_UPPER, &o, &o.plan, &e), 0);
	uint64_t planned = fslayer_plan_bytes(o.plan);
	ck_assert_uint_gt(planned, 3000 + 5000 + 9000);

	put(d, "grow", buf, 20000);
	put(d, "shrink", buf, 10);
	ck_assert_int_eq(unlinkat(d, "gone", 0), 0);
	put(d, "added", buf, 400);
	char xp[96];
	snprintf(xp, sizeof(xp), "%s/xattr", dir);
	bool xset = setxattr(xp, "user.changed", "1", 1, 0) == 0;

	struct sbuf t = SBUF_INIT;
	struct sink s = sink_sbuf(&t);
	struct fslayer_result r;
	struct sha256x c;
	sha256x_init(&c);
	o.tar_sha256 = &c;
	ck_assert_int_eq(fslayer_collect_dir(dir, FSLAYER_UPPER, &o, &s, &r, &e), 0);
	check_tar_digest(&c, &t); /* the entries left out: not in it */
	ck_assert_uint_le(t.len, planned);
	ck_assert_uint_eq(r.tar_bytes, t.len);
	ck_assert_uint_eq(r.changed, xset ? 4 : 3); /* grow, shrink, added (, xattr) */
	/* what a tar bag holds: the rest of the declared length as zeros */
	size_t have = t.len;
	sbuf_add(&t, buf, 0);
	while (t.len < planned) {
		static const unsigned char z[4096];
		size_t k = planned - t.len > sizeof(z) ? sizeof(z) : (size_t)(planned - t.len);
		sbuf_add(&t, z, k);
	}
	ck_assert_uint_gt(planned, have);
	struct tarview tv = {0};
	read_tar(&t, &tv);
	ck_assert_ptr_nonnull(find(&tv, "keep"));
	ck_assert_int_eq(find(&tv, "keep")->size, 3000);
	ck_assert(memcmp(find(&tv, "keep")->data.buf, buf, 3000) == 0);
	ck_assert_ptr_nonnull(find(&tv, "f2"));
	ck_assert_ptr_null(find(&tv, "grow"));
	ck_assert_ptr_null(find(&tv, "shrink"));
	ck_assert_ptr_null(find(&tv, "gone"));
	ck_assert_ptr_null(find(&tv, "added"));
	if (xset)
		ck_assert_ptr_null(find(&tv, "xattr"));
	/* listed and hashed as they are now, not in the tar */
	json_t *g = jfind(r.files, "grow");
	ck_assert_ptr_nonnull(g);
	ck_assert(json_is_false(json_object_get(g, "in_tar")));
	ck_assert_int_eq(json_integer_value(json_object_get(g, "size")), 20000);
	char hex[65];
	sha256_hex(buf, 20000, hex);
	ck_assert_str_eq(json_string_value(json_object_get(g, "sha256")), hex);
	_cleanup_free_ char *notes = json_dumps(r.notes, 0);
	ck_assert_ptr_nonnull(strstr(notes, "changed between the sizing pass and the capture"));
	tarview_free(&tv);
	fslayer_result_free(&r);
	fslayer_plan_free(o.plan);
	sbuf_free(&t);
	close(d);
	rm_rf(dir);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("fslayer");
	TCase *tc = tcase_create("fslayer");
	tcase_set_timeout(tc, 300);
	if (geteuid() == 0) {
		tcase_add_test(tc, layer_threaded);
		tcase_add_test(tc, layer_inline);
		tcase_add_test(tc, layer_fallback);
		tcase_add_test(tc, layer_deterministic);
		tcase_add_test(tc, whole_root);
		tcase_add_test(tc, sink_failure);
		tcase_add_test(tc, sized_exact);
	}
	tcase_add_test(tc, sized_changed);
	tcase_add_test(tc, times);
	tcase_add_test(tc, missing_dir);
	tcase_add_test(tc, ring_wraps);
	suite_add_tcase(s, tc);
	return s;
}
