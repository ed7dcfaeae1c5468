/* scan: targets typed by their first bytes; scan_run on a directory (the walk:
 * a symlink never followed, a FIFO never opened, the depth bound, a name with
 * a newline), on a plain file, on a tar; its refusals. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contain/analyze.h"
#include "unit.h"

static char dir[128];
static char rules[256];

static void put(const char *rel, const char *text)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void setup(void)
{
	unit_tmpdir(dir, sizeof(dir), "test_scan");
	put("rule.yar", "rule Unit_Marker { strings: $a = \"UNIT-SCAN-MARKER\" condition: $a }\n");
	snprintf(rules, sizeof(rules), "%s/rule.yar", dir);
	char p[256];
	snprintf(p, sizeof(p), "%s/t", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
}

static void teardown(void)
{
	unit_tmpdir_remove(dir);
}

static json_t *run(const char *target, int want_rc)
{
	const char *r[] = {rules};
	struct scan_opts o = {.target = target,
			      .fail_on = "high",
			      .yara = {.no_shipped = true, .rules = r, .nrules = 1}};
	json_t *rep = NULL;
	struct err e = {0};
	int rc = scan_run(&o, &rep, &e);
	ck_assert_msg(rc == want_rc, "scan_run '%s': %d (%s)", target, rc, e.msg);
	return rep;
}

static size_t hits(const json_t *rep, const char *path)
{
	size_t n = 0, i;
	json_t *f;
	json_array_foreach(json_object_get(rep, "findings"), i, f)
	{
		const char *p = json_string_value(json_object_get(f, "path"));
		if (strcmp(json_string_value(json_object_get(f, "id")), "yara.unit-marker") == 0 &&
		    (!path || (p && strcmp(p, path) == 0)))
			n++;
	}
	return n;
}

static bool skipped(const json_t *rep, const char *path, const char *why)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(json_object_get(rep, "scan"), "skipped"), i, s)
	{
		if (strcmp(json_string_value(json_object_get(s, "path")), path) == 0 &&
		    strstr(json_string_value(json_object_get(s, "why")), why))
			return true;
	}
	return false;
}

START_TEST(kinds)
{
	unsigned char h[512] = {0};
	ck_assert_int_eq(scan_kind_of(h, sizeof(h)), SCAN_FILE);
	memcpy(h, "\xd4\xc3\xb2\xa1", 4);
	ck_assert_int_eq(scan_kind_of(h, 4), SCAN_PCAP);
	memcpy(h, "\x0a\x0d\x0d\x0a", 4);
	ck_assert_int_eq(scan_kind_of(h, 4), SCAN_PCAP);
	memset(h, 0, sizeof(h));
	memcpy(h, "\x7f" "ELF\x02\x01\x01", 7);
	h[16] = 4; /* ET_CORE */
	ck_assert_int_eq(scan_kind_of(h, 64), SCAN_CORE);
	h[16] = 2; /* ET_EXEC: a file */
	ck_assert_int_eq(scan_kind_of(h, 64), SCAN_FILE);
	ck_assert_int_eq(scan_kind_of(h, 10), SCAN_FILE); /* cut short */
	memset(h, 0, sizeof(h));
	memcpy(h + 257, "ustar", 5);
	ck_assert_int_eq(scan_kind_of(h, sizeof(h)), SCAN_TAR);
	ck_assert_int_eq(scan_kind_of(h, 260), SCAN_FILE);
	ck_assert_str_eq(scan_kind_name(SCAN_BAG), "bag");
	ck_assert_str_eq(scan_kind_name((enum scan_kind)99), "?");
}
END_TEST

START_TEST(walk_hostile)
{
	char t[256], p[4096];
	snprintf(t, sizeof(t), "%s/t", dir);
	put("t/hit.txt", "xx UNIT-SCAN-MARKER xx");
	put("outside.txt", "UNIT-SCAN-MARKER");
	snprintf(p, sizeof(p), "%s/t/link", dir);
	ck_assert_int_eq(symlink("../outside.txt", p), 0);
	snprintf(p, sizeof(p), "%s/t/fifo", dir);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	put("t/new\nline", "UNIT-SCAN-MARKER");
	/* 300 directories deep */
	size_t n = (size_t)snprintf(p, sizeof(p), "%s/t", dir);
	for (int i = 0; i < 300; i++) {
		n += (size_t)snprintf(p + n, sizeof(p) - n, "/d");
		ck_assert_int_eq(mkdir(p, 0700), 0);
	}
	json_t *rep = run(t, 0);
	ck_assert_uint_eq(hits(rep, NULL), 2);
	char want[512];
	snprintf(want, sizeof(want), "%s/hit.txt", t);
	ck_assert_uint_eq(hits(rep, want), 1);
	snprintf(want, sizeof(want), "%s/new\nline", t);
	ck_assert_uint_eq(hits(rep, want), 1);
	snprintf(want, sizeof(want), "%s/link", t);
	ck_assert(skipped(rep, want, "symlink"));
	snprintf(want, sizeof(want), "%s/fifo", t);
	ck_assert(skipped(rep, want, "FIFO"));
	json_t *sec = json_object_get(rep, "scan");
	ck_assert_str_eq(json_string_value(json_object_get(sec, "kind")), "directory");
	ck_assert_int_eq(json_integer_value(json_object_get(sec, "objects")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(sec, "skipped_count")), 3);
	/* a rule without a severity is medium: under --fail-on high */
	ck_assert(json_is_false(json_object_get(json_object_get(rep, "summary"), "failed")));
	bool deep = false;
	size_t i;
	json_t *sk;
	json_array_foreach(json_object_get(sec, "skipped"), i, sk)
		deep = deep || strstr(json_string_value(json_object_get(sk, "why")), "deeper than 256");
	ck_assert(deep);
	json_decref(rep);
}
END_TEST

START_TEST(a_file_and_refusals)
{
	put("one.bin", "UNIT-SCAN-MARKER");
	char p[256];
	snprintf(p, sizeof(p), "%s/one.bin", dir);
	json_t *rep = run(p, 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(rep, "scan"), "kind")),
			 "file");
	ck_assert_uint_eq(hits(rep, p), 1);
	json_decref(rep);
	/* a FIFO named as the target: refused, not opened for reading */
	snprintf(p, sizeof(p), "%s/f", dir);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	rep = run(p, -1);
	json_decref(rep);
	snprintf(p, sizeof(p), "%s/none", dir);
	rep = run(p, -1);
	json_decref(rep);
	/* neither a target nor a source, both */
	struct scan_opts o = {0};
	struct err e = {0};
	ck_assert_int_eq(scan_run(&o, &rep, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	struct scan_opts o2 = {.target = "x", .fail_on = "bogus"};
	ck_assert_int_eq(scan_run(&o2, &rep, &e), -1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("scan");
	TCase *tc = tcase_create("scan");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kinds);
	tcase_add_test(tc, walk_hostile);
	tcase_add_test(tc, a_file_and_refusals);
	suite_add_tcase(s, tc);
	return s;
}
