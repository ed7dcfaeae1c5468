/* test_aidx: the compact index (src/analyze/aidx.c) and the path helpers. */
#include <string.h>

#include "contain/analyze.h"
#include "unit.h"

static struct aidx_entry ent_of(enum aent_type t, uint16_t layer)
{
	struct aidx_entry a = {0};
	a.type = t;
	a.mode = t == AENT_DIR ? 0755 : 0644;
	a.layer = layer;
	return a;
}

static aidx_id must_set(struct aidx *x, const char *path, enum aent_type t, uint16_t layer)
{
	struct err e = {0};
	struct aidx_entry a = ent_of(t, layer);
	aidx_id id = AIDX_NONE;
	ck_assert_msg(aidx_set(x, path, &a, &id, &e) == 0, "set %s: %s", path, e.msg);
	ck_assert_uint_ne(id, AIDX_NONE);
	return id;
}

static void assert_path(const struct aidx *x, aidx_id id, const char *want)
{
	char buf[AN_PATH_MAX];
	size_t n = aidx_path(x, id, buf, sizeof(buf));
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_str_eq(buf, want);
}

START_TEST(set_lookup_get)
{
	struct aidx *x = aidx_new();
	struct err e = {0};
	ck_assert_uint_eq(aidx_count(x), 0);
	ck_assert_uint_eq(aidx_lookup(x, ""), AIDX_ROOT);
	ck_assert_uint_eq(aidx_lookup(x, "etc"), AIDX_NONE);

	struct aidx_entry a = ent_of(AENT_FILE, 2);
	a.mode = 0104755; /* type bits dropped, setuid kept */
	a.uid = 1000;
	a.gid = 100;
	a.size = 12345;
	a.mtime = -5;
	a.has_sha256 = true;
	memset(a.sha256, 0xab, 32);
	const unsigned char caps[] = {1, 0, 0, 2, 0x20, 0, 0, 0};
	a.caps = caps;
	a.caps_len = sizeof(caps);
	a.nxattrs = 3;
	aidx_id id;
	ck_assert_int_eq(aidx_set(x, "usr/bin/ping", &a, &id, &e), 0);
	ck_assert_uint_eq(aidx_count(x), 3);
	ck_assert_uint_eq(aidx_lookup(x, "usr/bin/ping"), id);

	struct aidx_entry g;
	aidx_get(x, id, &g);
	ck_assert_int_eq(g.type, AENT_FILE);
	ck_assert_uint_eq(g.mode, 04755);
	ck_assert_uint_eq(g.uid, 1000);
	ck_assert_uint_eq(g.gid, 100);
	ck_assert_uint_eq(g.size, 12345);
	ck_assert_int_eq(g.mtime, -5);
	ck_assert(g.has_sha256);
	ck_assert_int_eq(g.sha256[31], 0xab);
	ck_assert_uint_eq(g.caps_len, sizeof(caps));
	ck_assert_int_eq(memcmp(g.caps, caps, sizeof(caps)), 0);
	ck_assert_uint_eq(g.nxattrs, 3);
	ck_assert_uint_eq(g.layer, 2);
	ck_assert(!g.implicit);
	ck_assert_ptr_null(g.link_target);

	/* implied parents */
	aidx_id usr = aidx_lookup(x, "usr"), bin = aidx_lookup(x, "usr/bin");
	ck_assert_uint_ne(usr, AIDX_NONE);
	aidx_get(x, bin, &g);
	ck_assert_int_eq(g.type, AENT_DIR);
	ck_assert(g.implicit);
	ck_assert_uint_eq(aidx_parent(x, id), bin);
	ck_assert_uint_eq(aidx_parent(x, bin), usr);
	ck_assert_uint_eq(aidx_parent(x, usr), AIDX_ROOT);
	ck_assert_uint_eq(aidx_first_child(x, bin), id);
	ck_assert_uint_eq(aidx_next_sibling(x, id), AIDX_NONE);

	/* an explicit dir entry clears implicit, keeps its children */
	ck_assert_uint_eq(must_set(x, "usr/bin", AENT_DIR, 2), bin);
	aidx_get(x, bin, &g);
	ck_assert(!g.implicit);
	ck_assert_uint_eq(aidx_lookup(x, "usr/bin/ping"), id);

	/* a symlink and its target */
	a = ent_of(AENT_SYMLINK, 0);
	a.link_target = "../../etc/shadow";
	ck_assert_int_eq(aidx_set(x, "usr/lib/evil", &a, &id, &e), 0);
	aidx_get(x, id, &g);
	ck_assert_str_eq(g.link_target, "../../etc/shadow");
	ck_assert_int_eq(g.type, AENT_SYMLINK);

	/* lookups that must miss */
	ck_assert_uint_eq(aidx_lookup(x, "usr/bi"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(x, "usr//bin"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(x, "usr/bin/ping/x"), AIDX_NONE);
	ck_assert_str_eq(aent_type_name(AENT_SOCKET), "socket");
	ck_assert_str_eq(aent_type_name(AENT_DIR), "dir");
	aidx_free(x);
}
END_TEST

START_TEST(replace_and_refuse)
{
	struct aidx *x = aidx_new();
	struct err e = {0};
	aidx_id d = must_set(x, "opt/app", AENT_DIR, 0);
	must_set(x, "opt/app/a", AENT_FILE, 0);
	must_set(x, "opt/app/sub/b", AENT_FILE, 0);
	ck_assert_uint_eq(aidx_count(x), 5);
	/* a dir replaced by a file: its children go */
	ck_assert_uint_eq(must_set(x, "opt/app", AENT_FILE, 1), d);
	ck_assert_uint_eq(aidx_count(x), 2);
	ck_assert_uint_eq(aidx_lookup(x, "opt/app/a"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(x, "opt/app/sub"), AIDX_NONE);
	ck_assert_uint_eq(aidx_first_child(x, d), AIDX_NONE);
	/* a path under a non-directory is refused */
	struct aidx_entry a = ent_of(AENT_FILE, 1);
	ck_assert_int_eq(aidx_set(x, "opt/app/c", &a, NULL, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, "non-directory"));
	/* unnormalized paths are refused */
	ck_assert_int_eq(aidx_set(x, "a/../b", &a, NULL, &e), -1);
	ck_assert_int_eq(aidx_set(x, "a//b", &a, NULL, &e), -1);
	ck_assert_int_eq(aidx_set(x, "", &a, NULL, &e), -1);
	ck_assert_int_eq(aidx_set(x, "./a", &a, NULL, &e), -1);
	a.type = AENT_NONE;
	ck_assert_int_eq(aidx_set(x, "z", &a, NULL, &e), -1);
	/* the file becomes a dir again: empty */
	must_set(x, "opt/app", AENT_DIR, 2);
	must_set(x, "opt/app/c", AENT_FILE, 2);
	ck_assert_uint_eq(aidx_count(x), 3);
	aidx_free(x);
}
END_TEST

START_TEST(remove_subtree)
{
	struct aidx *x = aidx_new();
	must_set(x, "a/b/c/d", AENT_FILE, 0);
	must_set(x, "a/b/e", AENT_FILE, 0);
	must_set(x, "a/f", AENT_FILE, 0);
	aidx_id keep = must_set(x, "g", AENT_FILE, 0);
	size_t cap = aidx_capacity(x);
	ck_assert_uint_eq(aidx_count(x), 7);
	aidx_remove(x, aidx_lookup(x, "a/b"));
	ck_assert_uint_eq(aidx_count(x), 3);
	ck_assert_uint_eq(aidx_lookup(x, "a/b"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(x, "a/b/c/d"), AIDX_NONE);
	ck_assert_uint_ne(aidx_lookup(x, "a/f"), AIDX_NONE);
	ck_assert_uint_eq(aidx_capacity(x), cap); /* ids are not reused */
	/* a removed path can come back, with a new id */
	aidx_id again = must_set(x, "a/b/e", AENT_FILE, 1);
	ck_assert_uint_ge(again, cap);
	assert_path(x, again, "a/b/e");
	/* removing the root empties the tree, the root stays */
	aidx_remove(x, AIDX_ROOT);
	ck_assert_uint_eq(aidx_count(x), 0);
	ck_assert_uint_eq(aidx_lookup(x, "g"), AIDX_NONE);
	ck_assert_uint_eq(aidx_first_child(x, AIDX_ROOT), AIDX_NONE);
	struct aidx_entry g;
	aidx_get(x, keep, &g);
	ck_assert_int_eq(g.type, AENT_NONE); /* a dead id reads as nothing */
	ck_assert_uint_eq(aidx_parent(x, keep), AIDX_NONE);
	aidx_free(x);
}
END_TEST

START_TEST(remove_below_opaque)
{
	struct aidx *x = aidx_new();
	/* layer 0 */
	must_set(x, "etc/app/old.conf", AENT_FILE, 0);
	must_set(x, "etc/app/conf.d/x", AENT_FILE, 0);
	must_set(x, "etc/app/keep/deep/y", AENT_FILE, 0);
	must_set(x, "etc/other", AENT_FILE, 0);
	/* layer 1 writes into the dir before (or after) its opaque marker */
	aidx_id app = must_set(x, "etc/app", AENT_DIR, 1);
	must_set(x, "etc/app/new.conf", AENT_FILE, 1);
	must_set(x, "etc/app/conf.d", AENT_DIR, 1);
	must_set(x, "etc/app/keep/deep/z", AENT_FILE, 1); /* lower dirs hold a new file */
	aidx_remove_below(x, app, 1);
	ck_assert_uint_eq(aidx_lookup(x, "etc/app/old.conf"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(x, "etc/app/conf.d/x"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(x, "etc/app/keep/deep/y"), AIDX_NONE);
	ck_assert_uint_ne(aidx_lookup(x, "etc/app/new.conf"), AIDX_NONE);
	ck_assert_uint_ne(aidx_lookup(x, "etc/app/conf.d"), AIDX_NONE);
	ck_assert_uint_ne(aidx_lookup(x, "etc/app/keep/deep/z"), AIDX_NONE);
	ck_assert_uint_ne(aidx_lookup(x, "etc/other"), AIDX_NONE);
	ck_assert_uint_ne(aidx_lookup(x, "etc/app"), AIDX_NONE);
	/* etc app conf.d keep deep z new.conf other */
	ck_assert_uint_eq(aidx_count(x), 8);
	/* a later layer's opaque dir removes what layer 1 wrote there */
	aidx_remove_below(x, app, 2);
	ck_assert_uint_eq(aidx_first_child(x, app), AIDX_NONE);
	ck_assert_uint_eq(aidx_count(x), 3);
	/* on a file or a dead id: nothing */
	aidx_id other = aidx_lookup(x, "etc/other");
	aidx_remove_below(x, other, 5);
	aidx_remove_below(x, 999999, 5);
	ck_assert_uint_eq(aidx_count(x), 3);
	aidx_free(x);
}
END_TEST

START_TEST(paths_and_walk)
{
	struct aidx *x = aidx_new();
	aidx_id ids[5];
	ids[2] = must_set(x, "a/b/c.txt", AENT_FILE, 0);
	ids[3] = must_set(x, "z/y/x/w/v", AENT_FILE, 0);
	ids[4] = must_set(x, "zz", AENT_FILE, 0);
	assert_path(x, ids[2], "a/b/c.txt");
	assert_path(x, ids[3], "z/y/x/w/v");
	assert_path(x, ids[4], "zz");
	assert_path(x, AIDX_ROOT, "");
	/* too small a buffer: the length needed, like snprintf */
	char small[4];
	ck_assert_uint_eq(aidx_path(x, ids[2], small, sizeof(small)), 9);
	ck_assert_uint_eq(aidx_path(x, ids[2], NULL, 0), 9);
	char exact[10];
	ck_assert_uint_eq(aidx_path(x, ids[2], exact, sizeof(exact)), 9);
	ck_assert_str_eq(exact, "a/b/c.txt");
	/* a walk over first_child/next_sibling sees every node once */
	size_t seen = 0;
	aidx_id stack[64];
	size_t sp = 0;
	stack[sp++] = AIDX_ROOT;
	while (sp) {
		aidx_id d = stack[--sp];
		for (aidx_id c = aidx_first_child(x, d); c != AIDX_NONE;
		     c = aidx_next_sibling(x, c)) {
			seen++;
			ck_assert_uint_eq(aidx_parent(x, c), d);
			stack[sp++] = c;
		}
	}
	ck_assert_uint_eq(seen, aidx_count(x));
	ck_assert_uint_eq(seen, 9);
	aidx_free(x);
}
END_TEST

START_TEST(many_and_bounds)
{
	struct aidx *x = aidx_new();
	struct err e = {0};
	char p[64];
	/* 50,000 files in 500 dirs: a few MiB */
	for (int i = 0; i < 50000; i++) {
		snprintf(p, sizeof(p), "usr/share/d%03d/file-%06d.txt", i % 500, i);
		must_set(x, p, AENT_FILE, 0);
	}
	ck_assert_uint_eq(aidx_count(x), 50000 + 500 + 2);
	ck_assert_uint_lt(aidx_memory(x), 12u << 20);
	for (int i = 0; i < 50000; i += 997) {
		snprintf(p, sizeof(p), "usr/share/d%03d/file-%06d.txt", i % 500, i);
		aidx_id id = aidx_lookup(x, p);
		ck_assert_uint_ne(id, AIDX_NONE);
		assert_path(x, id, p);
	}
	aidx_remove(x, aidx_lookup(x, "usr/share"));
	ck_assert_uint_eq(aidx_count(x), 1);
	aidx_free(x);

	/* the node bound (AN_ENTRIES_MAX, lowered) */
	x = aidx_new();
	aidx_set_limit(x, 10);
	for (int i = 0; i < 10; i++) {
		snprintf(p, sizeof(p), "f%d", i);
		must_set(x, p, AENT_FILE, 0);
	}
	struct aidx_entry a = ent_of(AENT_FILE, 0);
	ck_assert_int_eq(aidx_set(x, "one-more", &a, NULL, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, "more than 10 entries"));
	must_set(x, "f3", AENT_FILE, 1); /* replacing costs no node */
	aidx_free(x);

	/* a path of AN_PATH_MAX bytes is refused; one byte less is fine */
	x = aidx_new();
	char *big = malloc(AN_PATH_MAX + 1);
	for (size_t i = 0; i < AN_PATH_MAX; i++)
		big[i] = (i % 2) ? '/' : 'a';
	big[AN_PATH_MAX - 1] = 'b';
	big[AN_PATH_MAX] = 0;
	ck_assert_int_eq(aidx_set(x, big, &a, NULL, &e), -1);
	big[AN_PATH_MAX - 1] = 0;
	ck_assert_int_eq(aidx_set(x, big, &a, NULL, &e), 0);
	aidx_id deep = aidx_lookup(x, big);
	ck_assert_uint_ne(deep, AIDX_NONE);
	assert_path(x, deep, big);
	ck_assert_uint_eq(aidx_count(x), AN_PATH_MAX / 2);
	aidx_remove(x, aidx_lookup(x, "a"));
	ck_assert_uint_eq(aidx_count(x), 0);
	free(big);
	aidx_free(x);
}
END_TEST

START_TEST(keep)
{
	struct aidx *x = aidx_new();
	struct err e = {0};
	aidx_id pw = must_set(x, "etc/passwd", AENT_FILE, 0);
	size_t n = 0;
	bool tr = true;
	ck_assert_ptr_null(aidx_kept(x, pw, &n, &tr));
	ck_assert_int_eq(aidx_keep(x, pw, "root:x:0:0::/root:/bin/sh\n", 26, false, &e), 0);
	const char *k = aidx_kept(x, pw, &n, &tr);
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(n, 26);
	ck_assert(!tr);
	ck_assert(str_has_prefix(k, "root:x:0:0"));
	/* kept again: replaced */
	ck_assert_int_eq(aidx_keep(x, pw, "x", 1, true, &e), 0);
	k = aidx_kept(x, pw, &n, &tr);
	ck_assert_uint_eq(n, 1);
	ck_assert(tr);
	/* the entry replaced by a later layer: the old content goes */
	must_set(x, "etc/passwd", AENT_FILE, 1);
	ck_assert_ptr_null(aidx_kept(x, pw, &n, &tr));
	ck_assert_int_eq(aidx_keep(x, pw, "y", 1, false, &e), 0);
	/* removed: gone */
	aidx_remove(x, aidx_lookup(x, "etc"));
	ck_assert_ptr_null(aidx_kept(x, pw, &n, &tr));
	ck_assert_int_eq(aidx_keep(x, pw, "y", 1, false, &e), -1);
	aidx_free(x);
}
END_TEST

START_TEST(path_norm)
{
	char out[AN_PATH_MAX];
	struct err e = {0};
	ck_assert_int_eq(an_path_norm("./a//b", out, &e), 0);
	ck_assert_str_eq(out, "a/b");
	ck_assert_int_eq(an_path_norm("/abs/x/", out, &e), 0);
	ck_assert_str_eq(out, "abs/x");
	ck_assert_int_eq(an_path_norm("a/./b/.", out, &e), 0);
	ck_assert_str_eq(out, "a/b");
	ck_assert_int_eq(an_path_norm("..foo/.bar", out, &e), 0);
	ck_assert_str_eq(out, "..foo/.bar");
	ck_assert_int_eq(an_path_norm("a/../b", out, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, "'a/../b'"));
	ck_assert_int_eq(an_path_norm("../etc/passwd", out, &e), -1);
	ck_assert_int_eq(an_path_norm("a/..", out, &e), -1);
	ck_assert_int_eq(an_path_norm("", out, &e), -1);
	ck_assert_int_eq(an_path_norm("./", out, &e), -1);
	ck_assert_int_eq(an_path_norm("/", out, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "empty"));
	/* longest accepted: AN_PATH_MAX - 1 bytes; a 100 MB name is refused */
	char *big = malloc(100u << 20);
	memset(big, 'a', (100u << 20) - 1);
	big[(100u << 20) - 1] = 0;
	ck_assert_int_eq(an_path_norm(big, out, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "longer than"));
	ck_assert_uint_lt(strlen(e.msg), 400);
	big[AN_PATH_MAX - 1] = 0;
	ck_assert_int_eq(an_path_norm(big, out, &e), 0);
	ck_assert_uint_eq(strlen(out), AN_PATH_MAX - 1);
	big[AN_PATH_MAX - 1] = 'a';
	big[AN_PATH_MAX] = 0;
	ck_assert_int_eq(an_path_norm(big, out, &e), -1);
	/* many short components past the bound */
	for (size_t i = 0; i < 3 * AN_PATH_MAX; i++)
		big[i] = (i % 2) ? '/' : 'x';
	big[3 * AN_PATH_MAX] = 0;
	ck_assert_int_eq(an_path_norm(big, out, &e), -1);
	free(big);
}
END_TEST

START_TEST(keep_paths)
{
	ck_assert(an_keep_path("etc/passwd"));
	ck_assert(an_keep_path("etc/shadow"));
	ck_assert(an_keep_path("etc/sudoers.d/90-cloud"));
	ck_assert(!an_keep_path("etc/sudoers.d/"));
	ck_assert(!an_keep_path("etc/sudoers.d/a/b"));
	ck_assert(an_keep_path("var/lib/dpkg/status"));
	ck_assert(an_keep_path("lib/apk/db/installed"));
	ck_assert(an_keep_path("usr/lib/sysimage/rpm/rpmdb.sqlite"));
	ck_assert(an_keep_path("root/.ssh/authorized_keys"));
	ck_assert(an_keep_path("home/eve/.ssh/authorized_keys"));
	ck_assert(!an_keep_path("home/eve/.ssh/id_rsa"));
	ck_assert(!an_keep_path("etc/passwd-"));
	ck_assert(!an_keep_path("xetc/passwd"));
	ck_assert(!an_keep_path(""));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("aidx");
	TCase *tc = tcase_create("aidx");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, set_lookup_get);
	tcase_add_test(tc, replace_and_refuse);
	tcase_add_test(tc, remove_subtree);
	tcase_add_test(tc, remove_below_opaque);
	tcase_add_test(tc, paths_and_walk);
	tcase_add_test(tc, many_and_bounds);
	tcase_add_test(tc, keep);
	tcase_add_test(tc, path_norm);
	tcase_add_test(tc, keep_paths);
	suite_add_tcase(s, tc);
	return s;
}
