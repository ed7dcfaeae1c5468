#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "contain/chain.h"
#include "contain/util.h"
#include "unit.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_chain.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	/* only our mkdtemp dir */
	snprintf(cmd, sizeof(cmd), "%s/log", dir);
	unlink(cmd);
	rmdir(dir);
}

static char *logpath(void)
{
	static char p[128];
	snprintf(p, sizeof(p), "%s/log", dir);
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	char *buf;
	struct err e = {0};
	ck_assert_int_eq(read_file_at(AT_FDCWD, path, 1 << 24, &buf, len, NULL, &e), 0);
	return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, buf, len), 0);
	close(fd);
}

static void write_events(const char *path, int flags, int n)
{
	struct err e = {0};
	struct chain *c;
	ck_assert_msg(chain_open(path, CHAIN_AUDIT_SEED, flags, &c, &e) == 0, "%s", e.msg);
	for (int i = 0; i < n; i++) {
		char t[32];
		snprintf(t, sizeof(t), "target-%d", i);
		ck_assert_msg(chain_append(c, "test", t, "ok", NULL, &e) == 0, "%s", e.msg);
	}
	chain_close(c);
}

START_TEST(genesis_value)
{
	char g[CHAIN_HASH_HEX];
	chain_genesis("audit", g);
	ck_assert_str_eq(g, "42aa93adac1c80428e692a08c9709756dfcc9a84ed937297fd6ec9ada1f5b836");
	char g2[CHAIN_HASH_HEX];
	chain_genesis("some-bag-id", g2);
	ck_assert_str_ne(g, g2);
}
END_TEST

START_TEST(line_format)
{
	struct err e = {0};
	struct chain *c;
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_CREATE_EXCL | CHAIN_FSYNC, &c, &e), 0);
	json_t *extra = json_pack("{s:s,s:[i]}", "container", "abc", "n", 1);
	ck_assert_int_eq(chain_append(c, "quarantine", "abc123", "ok", extra, &e), 0);
	json_decref(extra);
	ck_assert_uint_eq(chain_seq(c), 1);
	char head[CHAIN_HASH_HEX];
	memcpy(head, chain_head(c), sizeof(head));
	chain_close(c);

	size_t len;
	char *buf = slurp(logpath(), &len);
	ck_assert(str_has_prefix(buf, "{\"seq\":1,\"time\":\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"actor\":{\"uid\":"));
	ck_assert_ptr_nonnull(strstr(buf, ",\"tool\":\"contain " CONTAIN_VERSION "\",\"action\":"
					  "\"quarantine\",\"target\":\"abc123\",\"result\":\"ok\","
					  "\"container\":\"abc\",\"n\":[1],\"prev\":\"42aa93ad"));
	ck_assert(str_has_suffix(buf, "\"}\n"));
	ck_assert_ptr_null(strstr(buf, "\", \"")); /* compact */
	ck_assert_ptr_null(strstr(buf, "\": "));
	char h[CHAIN_HASH_HEX];
	chain_line_hash(buf, len - 1, h);
	ck_assert_str_eq(h, head);

	struct stat st;
	ck_assert_int_eq(stat(logpath(), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	free(buf);
}
END_TEST

START_TEST(excl_and_append)
{
	struct err e = {0};
	struct chain *c;
	write_events(logpath(), CHAIN_CREATE_EXCL, 3);
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_CREATE_EXCL, &c, &e), -1);
	ck_assert_int_eq(e.errnum, EEXIST);
	write_events(logpath(), CHAIN_APPEND, 2);
	struct chain_check r;
	ck_assert_int_eq(chain_check_file(logpath(), "audit", &r, &e), 0);
	ck_assert_uint_eq(r.lines, 5);
	ck_assert_uint_eq(r.first_bad, 0);
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_APPEND, &c, &e), 0);
	ck_assert_uint_eq(chain_seq(c), 5);
	ck_assert_str_eq(chain_head(c), r.head);
	chain_close(c);
	/* the wrong seed: the first line's prev is wrong */
	ck_assert_int_eq(chain_check_file(logpath(), "other", &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 1);
}
END_TEST

START_TEST(empty_head_is_genesis)
{
	struct err e = {0};
	struct chain_check r;
	char g[CHAIN_HASH_HEX];
	chain_genesis("x", g);
	ck_assert_int_eq(chain_check_buf("", 0, "x", &r, &e), 0);
	ck_assert_str_eq(r.head, g);
	ck_assert_uint_eq(r.lines, 0);
}
END_TEST

START_TEST(tamper_detected)
{
	struct err e = {0};
	struct chain_check r;
	struct chain *c;
	write_events(logpath(), CHAIN_CREATE_EXCL, 4);
	size_t len;
	char *orig = slurp(logpath(), &len);

	/* one byte edited in line 2: line 3's prev no longer matches */
	char *b = xstrdup(orig);
	char *l2 = strchr(b, '\n') + 1;
	char *tg = strstr(l2, "target-1");
	tg[7] = '9';
	ck_assert_int_eq(chain_check_buf(b, len, "audit", &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 3);
	ck_assert_ptr_nonnull(strstr(r.problem, "prev"));
	spit(logpath(), b, len);
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_APPEND, &c, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, "line 3"));
	free(b);

	/* a line removed */
	struct sbuf s = SBUF_INIT;
	char *l3 = strchr(strchr(orig, '\n') + 1, '\n') + 1;
	sbuf_add(&s, orig, (size_t)(strchr(orig, '\n') + 1 - orig));
	sbuf_adds(&s, l3);
	ck_assert_int_eq(chain_check_buf(s.buf, s.len, "audit", &r, &e), 1);
	ck_assert_uint_eq(r.first_bad, 2);
	ck_assert_ptr_nonnull(strstr(r.problem, "seq 3"));
	sbuf_free(&s);

	/* truncated mid-line */
	ck_assert_int_eq(chain_check_buf(orig, len - 10, "audit", &r, &e), 1);
	ck_assert(r.truncated_tail);
	ck_assert_uint_eq(r.first_bad, 4);
	ck_assert_uint_eq(r.lines, 4);

	/* truncated at a line end: still a valid (shorter) chain */
	size_t cut = (size_t)(strrchr(orig, '\n') - orig);
	while (cut && orig[cut - 1] != '\n')
		cut--;
	ck_assert_int_eq(chain_check_buf(orig, cut, "audit", &r, &e), 0);
	ck_assert_uint_eq(r.lines, 3);

	/* not JSON */
	ck_assert_int_eq(chain_check_buf("hello\n", 6, "audit", &r, &e), 1);
	ck_assert_ptr_nonnull(strstr(r.problem, "not JSON"));
	free(orig);
}
END_TEST

START_TEST(reserved_extra_refused)
{
	struct err e = {0};
	struct chain *c;
	ck_assert_int_eq(chain_open(NULL, "x", CHAIN_MEMORY, &c, &e), 0);
	json_t *extra = json_pack("{s:i}", "seq", 9);
	ck_assert_int_eq(chain_append(c, "a", "t", "ok", extra, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "reserved"));
	json_decref(extra);
	ck_assert_int_eq(chain_append(c, "a", "bad\xff", "ok", NULL, &e), 0);
	size_t len;
	const char *buf = chain_buf(c, &len);
	ck_assert_ptr_nonnull(strstr(buf, "bad\\\\xff"));
	struct chain_check r;
	ck_assert_int_eq(chain_check_buf(buf, len, "x", &r, &e), 0);
	ck_assert_str_eq(r.head, chain_head(c));
	chain_close(c);
}
END_TEST

START_TEST(two_handles_interleave)
{
	struct err e = {0};
	struct chain *a, *b;
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_APPEND, &a, &e), 0);
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_APPEND, &b, &e), 0);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(chain_append(i % 2 ? a : b, "x", "y", "ok", NULL, &e), 0);
		ck_assert_int_eq(chain_append(a, "x", "y", "ok", NULL, &e), 0);
	}
	ck_assert_uint_eq(chain_seq(a), 20);
	chain_close(a);
	chain_close(b);
	struct chain_check r;
	ck_assert_int_eq(chain_check_file(logpath(), "audit", &r, &e), 0);
	ck_assert_uint_eq(r.lines, 20);
}
END_TEST

START_TEST(two_processes_do_not_fork_the_chain)
{
	struct err e = {0};
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		ck_assert_int_ge(kids[k], 0);
		if (kids[k] == 0) {
			struct chain *c;
			if (chain_open(logpath(), "audit", CHAIN_APPEND, &c, &e) < 0)
				_exit(1);
			for (int i = 0; i < 300; i++)
				if (chain_append(c, "race", "t", "ok", NULL, &e) < 0)
					_exit(2);
			chain_close(c);
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int st;
		ck_assert_int_eq(waitpid(kids[k], &st, 0), kids[k]);
		ck_assert(WIFEXITED(st));
		ck_assert_int_eq(WEXITSTATUS(st), 0);
	}
	struct chain_check r;
	ck_assert_int_eq(chain_check_file(logpath(), "audit", &r, &e), 0);
	ck_assert_uint_eq(r.lines, 600);
}
END_TEST

START_TEST(symlink_refused)
{
	struct err e = {0};
	struct chain *c;
	ck_assert_int_eq(symlink("/tmp/nonexistent-target", logpath()), 0);
	ck_assert_int_eq(chain_open(logpath(), "audit", CHAIN_APPEND, &c, &e), -1);
	ck_assert_int_eq(e.errnum, ELOOP);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("chain");
	TCase *tc = tcase_create("chain");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, genesis_value);
	tcase_add_test(tc, line_format);
	tcase_add_test(tc, excl_and_append);
	tcase_add_test(tc, empty_head_is_genesis);
	tcase_add_test(tc, tamper_detected);
	tcase_add_test(tc, reserved_extra_refused);
	tcase_add_test(tc, two_handles_interleave);
	tcase_add_test(tc, two_processes_do_not_fork_the_chain);
	tcase_add_test(tc, symlink_refused);
	suite_add_tcase(s, tc);
	return s;
}
