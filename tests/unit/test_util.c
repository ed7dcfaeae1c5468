#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/safefs.h"
#include "contain/util.h"
#include "unit.h"

START_TEST(parse_numbers)
{
	long long v;
	unsigned long long u;
	pid_t p;
	ck_assert_int_eq(parse_ll("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(parse_ll("42x", 0, 100, &v), -1);
	ck_assert_int_eq(parse_ll("", 0, 100, &v), -1);
	ck_assert_int_eq(parse_ll(" 4", 0, 100, &v), -1);
	ck_assert_int_eq(parse_ll("101", 0, 100, &v), -1);
	ck_assert_int_eq(parse_ll("99999999999999999999999", 0, 100, &v), -1);
	ck_assert_int_eq(parse_size("4k", &u), 0);
	ck_assert_uint_eq(u, 4096);
	ck_assert_int_eq(parse_size("2G", &u), 0);
	ck_assert_uint_eq(u, 2ull << 30);
	ck_assert_int_eq(parse_size("-1", &u), -1);
	ck_assert_int_eq(parse_pid("0", &p), -1);
	ck_assert_int_eq(parse_pid("1", &p), 0);
	ck_assert_int_eq(parse_pid("2147483648", &p), -1);
}
END_TEST

START_TEST(utf8)
{
	ck_assert(utf8_valid("abc", 3));
	ck_assert(utf8_valid("\xc3\xa9", 2));
	ck_assert(!utf8_valid("\xc3", 1));
	ck_assert(!utf8_valid("\xff", 1));
	ck_assert(!utf8_valid("\xc0\x80", 2)); /* overlong NUL */
	ck_assert(!utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
}
END_TEST

START_TEST(hex_and_base64)
{
	char out[16];
	unsigned char back[3];
	hex_encode((const unsigned char *)"\x01\xab\xff", 3, out);
	ck_assert_str_eq(out, "01abff");
	ck_assert_int_eq(hex_decode("01abff", back, 3), 0);
	ck_assert_int_eq(memcmp(back, "\x01\xab\xff", 3), 0);
	ck_assert_int_eq(hex_decode("01abf", back, 3), -1);
	char *b = base64_encode((const unsigned char *)"hello", 5);
	ck_assert_str_eq(b, "aGVsbG8=");
	free(b);
	size_t dn;
	unsigned char *d = base64_decode("aGVsbG8=", 8, &dn);
	ck_assert_uint_eq(dn, 5);
	ck_assert_int_eq(memcmp(d, "hello", 5), 0);
	free(d);
	d = base64_decode("AQIDBA==", 8, &dn);
	ck_assert_uint_eq(dn, 4);
	free(d);
	d = base64_decode("", 0, &dn);
	ck_assert_uint_eq(dn, 0);
	free(d);
	ck_assert_ptr_null(base64_decode("aGVsbG8", 7, &dn));
	ck_assert_ptr_null(base64_decode("aG!sbG8=", 8, &dn));
	ck_assert_ptr_null(base64_decode("a===", 4, &dn));
}
END_TEST

START_TEST(sbuf_grows)
{
	struct sbuf b = SBUF_INIT;
	for (int i = 0; i < 10000; i++)
		sbuf_printf(&b, "%d,", i);
	ck_assert(str_has_prefix(b.buf, "0,1,2,"));
	ck_assert(str_has_suffix(b.buf, "9999,"));
	sbuf_free(&b);
}
END_TEST

START_TEST(err_chain)
{
	struct err e = {0};
	err_sys(&e, ENOENT, "open '%s'", "/x");
	err_wrap(&e, "inspect '%s'", "abc");
	ck_assert_str_eq(e.msg, "inspect 'abc': open '/x': No such file or directory");
	ck_assert_int_eq(err_exit_code(&e), EXIT_SYS);
	err_set(&e, ERR_AMBIG, "x");
	ck_assert_int_eq(err_exit_code(&e), EXIT_USAGE);
}
END_TEST

static char tmpdir[64];

static void mk_root(void)
{
	strcpy(tmpdir, "/tmp/contain-ut-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	char p[256];
	snprintf(p, sizeof(p), "%s/etc", tmpdir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/hosts", tmpdir);
	FILE *f = fopen(p, "w");
	fputs("inside\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/escape", tmpdir);
	ck_assert_int_eq(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/dotdot", tmpdir);
	ck_assert_int_eq(symlink("../../../../../etc/hosts", p), 0);
	snprintf(p, sizeof(p), "%s/fifo", tmpdir);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
}

START_TEST(safe_open_stays_in_root)
{
	struct err e = {0};
	mk_root();
	int root = open(tmpdir, O_PATH | O_DIRECTORY);
	char *buf;
	size_t len;
	/* an absolute link resolves inside the root: /etc/passwd does not exist there */
	ck_assert_int_eq(safe_read_in_root(root, "/escape", 1024, &buf, &len, NULL, &e), -1);
	/* a ../ link is clamped at the root: it reaches the root's own /etc/hosts */
	ck_assert_int_eq(safe_read_in_root(root, "dotdot", 1024, &buf, &len, NULL, &e), 0);
	ck_assert_str_eq(buf, "inside\n");
	free(buf);
	/* a FIFO is refused, not opened (this would hang otherwise) */
	ck_assert_int_eq(safe_read_in_root(root, "fifo", 1024, &buf, &len, NULL, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	close(root);
}
END_TEST

START_TEST(read_bounded)
{
	struct err e = {0};
	char *buf;
	size_t len;
	bool trunc;
	mk_root();
	char p[256];
	snprintf(p, sizeof(p), "%s/etc/hosts", tmpdir);
	ck_assert_int_eq(read_file_at(AT_FDCWD, p, 3, &buf, &len, &trunc, &e), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert(trunc);
	ck_assert_str_eq(buf, "ins");
	free(buf);
	snprintf(p, sizeof(p), "%s/fifo", tmpdir);
	ck_assert_int_eq(read_file_at(AT_FDCWD, p, 3, &buf, &len, &trunc, &e), -1);
	ck_assert_int_eq(read_file_at(AT_FDCWD, "/proc/self/status", 1 << 20, &buf, &len, &trunc, &e), 0);
	ck_assert(!trunc);
	ck_assert(strstr(buf, "Pid:") != NULL);
	free(buf);
}
END_TEST

START_TEST(time_format)
{
	char t[64];
	time_rfc3339_ns(t, sizeof(t));
	ck_assert_uint_eq(strlen(t), 30);
	ck_assert_int_eq(t[29], 'Z');
	ck_assert_int_eq(t[19], '.');
}
END_TEST

/* memcmp_ct: 0 only when every byte is equal, wherever they differ */
START_TEST(memcmp_constant_time)
{
	unsigned char a[64], b[64];
	for (int i = 0; i < 64; i++)
		a[i] = b[i] = (unsigned char)(i * 37);
	ck_assert_int_eq(memcmp_ct(a, b, sizeof(a)), 0);
	ck_assert_int_eq(memcmp_ct(a, b, 0), 0);
	for (int i = 0; i < 64; i++)
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (unsigned char)(1u << bit);
			ck_assert_int_ne(memcmp_ct(a, b, sizeof(a)), 0);
			ck_assert_int_eq(memcmp_ct(a, b, (size_t)i), 0); /* the bytes before */
			b[i] ^= (unsigned char)(1u << bit);
		}
}
END_TEST

START_TEST(line_next)
{
	const char buf[] = "a\r\n\nbc\r\r\nlast";
	size_t off = 0, len;
	bool nl;
	const char *l = str_line_next(buf, sizeof(buf) - 1, &off, &len, &nl);
	ck_assert(l == buf && len == 1 && nl);
	l = str_line_next(buf, sizeof(buf) - 1, &off, &len, &nl);
	ck_assert(l == buf + 3 && len == 0 && nl);
	l = str_line_next(buf, sizeof(buf) - 1, &off, &len, NULL);
	ck_assert(l == buf + 4 && len == 3); /* one CR cut, not two */
	l = str_line_next(buf, sizeof(buf) - 1, &off, &len, &nl);
	ck_assert(l && len == 4 && !nl && !memcmp(l, "last", 4));
	ck_assert_ptr_null(str_line_next(buf, sizeof(buf) - 1, &off, &len, &nl));
	off = 0;
	ck_assert_ptr_null(str_line_next(buf, 0, &off, &len, &nl));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");
	tcase_add_test(tc, parse_numbers);
	tcase_add_test(tc, utf8);
	tcase_add_test(tc, hex_and_base64);
	tcase_add_test(tc, sbuf_grows);
	tcase_add_test(tc, err_chain);
	tcase_add_test(tc, safe_open_stays_in_root);
	tcase_add_test(tc, read_bounded);
	tcase_add_test(tc, time_format);
	tcase_add_test(tc, line_next);
	tcase_add_test(tc, memcmp_constant_time);
	suite_add_tcase(s, tc);
	return s;
}
