/* test_sysroot: the sysroot's link targets (src/analyze/sysroot.c) and its
 * directory check. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contain/analyze.h"
#include "unit.h"

static const char *lt(const char *path, const char *target)
{
	static char out[2 * AN_PATH_MAX];
	ck_assert_msg(asysroot_link_target(path, target, out, sizeof(out)) == 0, "%s -> %s", path,
		      target);
	return out;
}

START_TEST(link_targets)
{
	/* relative without "..": as it is */
	ck_assert_str_eq(lt("bin/sh", "busybox"), "busybox");
	ck_assert_str_eq(lt("lib", "usr/lib"), "usr/lib");
	ck_assert_str_eq(lt("a/b/c", "./x//y"), "./x//y");
	ck_assert_str_eq(lt("a", ""), ".");
	/* absolute: up to DIR, then down */
	ck_assert_str_eq(lt("lib64/ld.so", "/usr/lib/ld.so"), "../usr/lib/ld.so");
	ck_assert_str_eq(lt("top", "/etc/passwd"), "etc/passwd");
	ck_assert_str_eq(lt("a/b/c", "/"), "../..");
	ck_assert_str_eq(lt("top", "/"), ".");
	/* "..": resolved lexically, "/.." is "/" */
	ck_assert_str_eq(lt("a/b/c", "../x"), "../../a/x");
	ck_assert_str_eq(lt("a/b", "../../../../../etc/shadow"), "../etc/shadow");
	ck_assert_str_eq(lt("x", "../../.."), ".");
	ck_assert_str_eq(lt("d/l", "l/../../.."), "..");
	ck_assert_str_eq(lt("d/l", "/../../tmp/./x/"), "../tmp/x");
	/* too long */
	char big[AN_PATH_MAX + 10], out[64];
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = 0;
	ck_assert_int_eq(asysroot_link_target("l", big, out, sizeof(out)), -1);
}
END_TEST

START_TEST(dir_check)
{
	char d[128], p[256];
	unit_tmpdir(d, sizeof(d), "sysroot");
	struct err e = {0};
	snprintf(p, sizeof(p), "%s/new", d);
	ck_assert_int_eq(asysroot_dir_check(p, &e), 0); /* does not exist */
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(asysroot_dir_check(p, &e), 0); /* empty */
	snprintf(p, sizeof(p), "%s/new/f", d);
	int fd = open(p, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/new", d);
	ck_assert_int_eq(asysroot_dir_check(p, &e), -1);
	ck_assert(strstr(e.msg, "not empty"));
	snprintf(p, sizeof(p), "%s/new/f", d);
	ck_assert_int_eq(asysroot_dir_check(p, &e), -1);
	ck_assert(strstr(e.msg, "not a directory"));
	char l[256];
	snprintf(l, sizeof(l), "%s/link", d);
	snprintf(p, sizeof(p), "%s/new", d);
	ck_assert_int_eq(symlink(p, l), 0);
	ck_assert_int_eq(asysroot_dir_check(l, &e), -1); /* a symlink, even to a dir */
	unit_tmpdir_remove(d);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("sysroot");
	TCase *tc = tcase_create("sysroot");
	tcase_add_test(tc, link_targets);
	tcase_add_test(tc, dir_check);
	suite_add_tcase(s, tc);
	return s;
}
