/* test_audit: the node audit log bound to its node (genesis), its head in
 * bags, and audit_verify against the node and against bags' heads. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <archive.h>
#include <archive_entry.h>

#include "contain/audit.h"
#include "contain/bag.h"
#include "unit.h"

static char dir[64];

static void setup(void)
{
	unit_tmpdir(dir, sizeof(dir), "test_audit");
}

static void teardown(void)
{
	unit_tmpdir_remove(dir);
}

static const char *at(const char *name)
{
	static char p[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, text, strlen(text)), 0);
	close(fd);
}

static char *slurp(const char *path, size_t *len)
{
	char *buf;
	struct err e = {0};
	ck_assert_int_eq(read_file_at(AT_FDCWD, path, 1 << 24, &buf, len, NULL, &e), 0);
	return buf;
}

START_TEST(node_id_sources)
{
	struct err e = {0};
	struct audit_node n;
	char none[128], mid[128];
	snprintf(none, sizeof(none), "%s", at("none"));
	snprintf(mid, sizeof(mid), "%s", at("mid"));
	const char *paths[] = {none, mid, NULL};
	put(at("mid"), "0123456789abcdef0123456789abcdef\n");
	ck_assert_int_eq(audit_node_from(paths, at("node-id"), false, &n, &e), 0);
	ck_assert_str_eq(n.machine_id, "0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(n.source, at("mid"));
	/* not a machine id: refused, not skipped */
	put(at("mid"), "hello\n");
	ck_assert_int_eq(audit_node_from(paths, at("node-id"), false, &n, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	/* neither: the node id file, made once with create, 0600, kept */
	unlink(at("mid"));
	err_clear(&e);
	ck_assert_int_eq(audit_node_from(paths, at("sub/node-id"), false, &n, &e), -1);
	ck_assert_int_eq(e.kind, ERR_NOTFOUND);
	ck_assert_int_eq(audit_node_from(paths, at("sub/node-id"), true, &n, &e), 0);
	ck_assert_uint_eq(strlen(n.machine_id), 32);
	ck_assert_str_eq(n.source, at("sub/node-id"));
	struct stat st;
	ck_assert_int_eq(stat(at("sub/node-id"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(at("sub"), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	char first[AUDIT_ID_MAX];
	memcpy(first, n.machine_id, sizeof(first));
	ck_assert_int_eq(audit_node_from(paths, at("sub/node-id"), true, &n, &e), 0);
	ck_assert_str_eq(n.machine_id, first);
	/* a symlink in its place is not followed, dangling or not */
	unlink(at("sub/node-id"));
	ck_assert_int_eq(symlink(at("mid2"), at("sub/node-id")), 0);
	ck_assert_int_eq(audit_node_from(paths, at("sub/node-id"), true, &n, &e), -1);
	ck_assert_int_eq(access(at("mid2"), F_OK), -1);
	put(at("mid2"), "0123456789abcdef0123456789abcdef\n");
	ck_assert_int_eq(audit_node_from(paths, at("sub/node-id"), true, &n, &e), -1);
	ck_assert_int_eq(e.errnum, ELOOP);
}
END_TEST

START_TEST(genesis_binds_the_node)
{
	struct err e = {0};
	struct audit_node n;
	ck_assert_msg(audit_node_get(true, &n, &e) == 0, "%s", e.msg);
	char log[128];
	snprintf(log, sizeof(log), "%s", at("log/audit.jsonl"));
	ck_assert_int_eq(audit_record(log, "quarantine", "abc", "ok", NULL, &e), 0);
	ck_assert_int_eq(audit_record(log, "release", "abc", "ok", NULL, &e), 0);
	size_t len;
	char *buf = slurp(log, &len);
	char want[512];
	snprintf(want, sizeof(want), "\"node\":{\"machine_id\":\"%s\",\"machine_id_source\":\"%s\","
				     "\"hostname\":\"",
		 n.machine_id, n.source);
	ck_assert_ptr_nonnull(strstr(buf, want));
	ck_assert(str_has_prefix(buf, "{\"seq\":0,"));
	ck_assert_ptr_nonnull(strstr(buf, "\"nonce\":\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"created\":\""));
	free(buf);

	json_t *rep = NULL;
	struct audit_verify_opts o = {0};
	ck_assert_int_eq(audit_verify(log, &o, &rep, &e), 0);
	ck_assert(json_is_true(json_object_get(rep, "valid")));
	ck_assert_int_eq(json_integer_value(json_object_get(rep, "seq")), 2);
	json_decref(rep);
	/* another node's log */
	o.machine_id = "ffffffffffffffffffffffffffffffff";
	ck_assert_int_eq(audit_verify(log, &o, &rep, &e), 1);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(rep, "problem")),
				     "is for machine id"));
	ck_assert_int_eq(json_integer_value(json_object_get(rep, "first_bad_line")), 1);
	json_decref(rep);

	/* two new logs never share a genesis (time, nonce) */
	struct audit_head h1, h2;
	ck_assert_int_eq(audit_head(log, &h1, &e), 0);
	ck_assert_int_eq(audit_head(at("other.jsonl"), &h2, &e), 0);
	ck_assert_str_ne(h1.genesis, h2.genesis);
	ck_assert_uint_eq(h1.seq, 2);
	ck_assert_uint_eq(h2.seq, 0);
	ck_assert_str_eq(h2.hash, h2.genesis);

	/* an empty file verifies no more */
	put(at("empty.jsonl"), "");
	o.machine_id = NULL;
	ck_assert_int_eq(audit_verify(at("empty.jsonl"), &o, &rep, &e), 1);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(rep, "problem")), "empty"));
	json_decref(rep);
	/* a missing one is an error, not a verdict */
	ck_assert_int_eq(audit_verify(at("missing.jsonl"), &o, &rep, &e), -1);
	ck_assert_ptr_null(rep);
}
END_TEST

START_TEST(head_text)
{
	struct audit_head h = {.seq = 42}, g;
	memset(h.hash, 'a', CHAIN_HASH_HEX - 1);
	h.hash[CHAIN_HASH_HEX - 1] = '\0';
	char t[AUDIT_HEAD_TEXT];
	audit_head_format(&h, t, sizeof(t));
	ck_assert(str_has_prefix(t, "42:aaaa"));
	ck_assert_int_eq(audit_head_parse(t, &g), 0);
	ck_assert_uint_eq(g.seq, 42);
	ck_assert_str_eq(g.hash, h.hash);
	ck_assert_int_eq(audit_head_parse("42", &g), -1);
	ck_assert_int_eq(audit_head_parse(":aa", &g), -1);
	ck_assert_int_eq(audit_head_parse("x:aaaa", &g), -1);
	ck_assert_int_eq(audit_head_parse("-1:aaaa", &g), -1);
	t[strlen(t) - 1] = 'z';
	ck_assert_int_eq(audit_head_parse(t, &g), -1);
}
END_TEST

/* a bag (directory) whose capture recorded the log's heads */
static void make_bag(const char *out, const char *log, int between)
{
	struct err e = {0};
	struct bag *b;
	struct bag_opts bo = {.out = out};
	struct audit_head h;
	ck_assert_msg(bag_open(&bo, &b, &e) == 0, "%s", e.msg);
	ck_assert_msg(audit_bag_mark(b, log, false, &h, &e) == 0, "%s", e.msg);
	for (int i = 0; i < between; i++)
		ck_assert_int_eq(audit_record(log, "quarantine-net", "abc", "ok", NULL, &e), 0);
	ck_assert_msg(audit_bag_mark(b, log, true, &h, &e) == 0, "%s", e.msg);
	ck_assert_msg(bag_seal(b, &e) == 0, "%s", e.msg);
	bag_free(b);
}

static const char *head_problem(json_t *rep, size_t bag, size_t head)
{
	json_t *b = json_array_get(json_object_get(rep, "bags"), bag);
	json_t *h = json_array_get(json_object_get(b, "heads"), head);
	return json_string_value(json_object_get(h, "problem"));
}

START_TEST(bag_heads_in_the_log)
{
	struct err e = {0};
	char log[128];
	snprintf(log, sizeof(log), "%s", at("audit.jsonl"));
	ck_assert_int_eq(audit_record(log, "quarantine", "abc", "ok", NULL, &e), 0);
	make_bag(at("bag1"), log, 2);
	ck_assert_int_eq(audit_record(log, "release", "abc", "ok", NULL, &e), 0);

	/* bag-info and custody hold the heads */
	size_t len;
	char *info = NULL;
	ck_assert_int_eq(bag_tag_read(at("bag1"), "bag-info.txt", 1 << 20, &info, &len, &e), 0);
	ck_assert_ptr_nonnull(strstr(info, "Contain-Audit-Head-Start: 1:"));
	ck_assert_ptr_nonnull(strstr(info, "Contain-Audit-Head-End: 3:"));
	ck_assert_ptr_nonnull(strstr(info, "Contain-Audit-Genesis: "));
	free(info);
	char *cust = slurp(at("bag1/custody.jsonl"), &len);
	ck_assert_ptr_nonnull(strstr(cust, "\"action\":\"audit-head\""));
	ck_assert_ptr_nonnull(strstr(cust, "\"phase\":\"start\",\"audit_head\":{\"seq\":1,\"hash\":\""));
	ck_assert_ptr_nonnull(strstr(cust, "\"phase\":\"end\",\"audit_head\":{\"seq\":3,\"hash\":\""));
	free(cust);

	char bag1[128];
	snprintf(bag1, sizeof(bag1), "%s", at("bag1"));
	const char *bags[] = {bag1};
	struct audit_verify_opts o = {.bags = bags, .nbags = 1};
	json_t *rep = NULL;
	ck_assert_msg(audit_verify(log, &o, &rep, &e) == 0, "%s", e.msg);
	json_decref(rep);

	/* the last two lines deleted: the end head (seq 3) is gone */
	char *buf = slurp(log, &len);
	char *cut = buf + len - 1;
	for (int k = 0; k < 2; k++) {
		while (cut > buf && cut[-1] != '\n')
			cut--;
		cut--;
	}
	put(log, "");
	int fd = open(log, O_WRONLY);
	ck_assert_int_eq(write_all(fd, buf, (size_t)(cut - buf + 1)), 0);
	close(fd);
	ck_assert_int_eq(audit_verify(log, &o, &rep, &e), 1);
	ck_assert(json_is_false(json_object_get(rep, "valid")));
	ck_assert_ptr_null(head_problem(rep, 0, 0)); /* the start is still there */
	ck_assert_ptr_nonnull(strstr(head_problem(rep, 0, 1), "truncated"));
	json_decref(rep);

	/* the whole log made anew (as a rebuild would): another genesis */
	unlink(log);
	ck_assert_int_eq(audit_record(log, "quarantine", "abc", "ok", NULL, &e), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(audit_record(log, "x", "abc", "ok", NULL, &e), 0);
	ck_assert_int_eq(audit_verify(log, &o, &rep, &e), 1);
	ck_assert_ptr_nonnull(strstr(head_problem(rep, 0, 0), "genesis"));
	json_decref(rep);
	free(buf);

	/* a bag without heads, a path that is no bag */
	mkdir(at("bag2"), 0700);
	put(at("bag2/bag-info.txt"), "Contain-Bag-Id: x\n");
	char bag2[128], nothing[128];
	snprintf(bag2, sizeof(bag2), "%s", at("bag2"));
	snprintf(nothing, sizeof(nothing), "%s", at("nothing"));
	const char *bags2[] = {bag2, nothing};
	struct audit_verify_opts o2 = {.bags = bags2, .nbags = 2};
	ck_assert_int_eq(audit_verify(log, &o2, &rep, &e), 1);
	json_t *b0 = json_array_get(json_object_get(rep, "bags"), 0);
	json_t *b1 = json_array_get(json_object_get(rep, "bags"), 1);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(b0, "problem")),
				     "records no audit log"));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(b1, "problem")),
				     "cannot read"));
	json_decref(rep);
}
END_TEST

START_TEST(tag_read_refuses_links)
{
	struct err e = {0};
	char *buf = NULL;
	size_t len;
	mkdir(at("bag"), 0700);
	put(at("secret"), "Contain-Audit-Genesis: x\n");
	ck_assert_int_eq(symlink(at("secret"), at("bag/bag-info.txt")), 0);
	ck_assert_int_eq(bag_tag_read(at("bag"), "bag-info.txt", 1024, &buf, &len, &e), -1);
	ck_assert_ptr_null(buf);
	unlink(at("bag/bag-info.txt"));
	ck_assert_int_eq(bag_tag_read(at("bag"), "bag-info.txt", 1024, &buf, &len, &e), -1);
	ck_assert_int_eq(e.kind, ERR_NOTFOUND);
	ck_assert_int_eq(bag_tag_read(at("bag"), "../secret", 1024, &buf, &len, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	put(at("bag/bag-info.txt"), "0123456789");
	ck_assert_int_eq(bag_tag_read(at("bag"), "bag-info.txt", 4, &buf, &len, &e), -1);
	ck_assert_int_eq(bag_tag_read(at("bag"), "bag-info.txt", 10, &buf, &len, &e), 0);
	ck_assert_uint_eq(len, 10);
	free(buf);
}
END_TEST

/* a tar of (name, type, content) entries */
struct tent {
	const char *name;
	mode_t type;
	const char *text;
};

static void write_tar(const char *path, const struct tent *t, size_t n)
{
	struct archive *a = archive_write_new();
	ck_assert_int_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, t[i].name);
		archive_entry_set_filetype(ae, t[i].type);
		archive_entry_set_perm(ae, 0644);
		if (t[i].type == AE_IFLNK) {
			archive_entry_set_symlink(ae, t[i].text);
			archive_entry_set_size(ae, 0);
		} else {
			archive_entry_set_size(ae, t[i].text ? (la_int64_t)strlen(t[i].text) : 0);
		}
		ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
		if (t[i].type == AE_IFREG && t[i].text)
			ck_assert_int_eq(archive_write_data(a, t[i].text, strlen(t[i].text)),
					 (la_ssize_t)strlen(t[i].text));
		archive_entry_free(ae);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

START_TEST(tag_read_tar)
{
	struct err e = {0};
	char *buf = NULL;
	size_t len;
	char tar[128];
	snprintf(tar, sizeof(tar), "%s", at("b.tar"));
	const struct tent good[] = {
		{"b", AE_IFDIR, NULL},
		{"b/data/bag-info.txt", AE_IFREG, "not this one\n"},
		{"b/data/x", AE_IFREG, "payload"},
		{"./b/bag-info.txt", AE_IFREG, "Contain-Audit-Genesis: g\n"},
	};
	write_tar(tar, good, ARRAY_SIZE(good));
	ck_assert_msg(bag_tag_read(tar, "bag-info.txt", 1024, &buf, &len, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(buf, "Contain-Audit-Genesis: g\n");
	free(buf);
	ck_assert_int_eq(bag_tag_read(tar, "bag-info.txt", 8, &buf, &len, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "larger than"));
	/* twice: which one would be believed? neither */
	const struct tent twice[] = {
		{"b/bag-info.txt", AE_IFREG, "A: 1\n"},
		{"b/bag-info.txt", AE_IFREG, "A: 2\n"},
	};
	write_tar(tar, twice, ARRAY_SIZE(twice));
	ck_assert_int_eq(bag_tag_read(tar, "bag-info.txt", 1024, &buf, &len, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "twice"));
	/* a symlink entry is not followed */
	const struct tent link[] = {{"b/bag-info.txt", AE_IFLNK, "/etc/passwd"}};
	write_tar(tar, link, ARRAY_SIZE(link));
	ck_assert_int_eq(bag_tag_read(tar, "bag-info.txt", 1024, &buf, &len, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a regular file"));
	/* none; not a tar at all */
	const struct tent none[] = {{"b/bagit.txt", AE_IFREG, "x"}};
	write_tar(tar, none, ARRAY_SIZE(none));
	ck_assert_int_eq(bag_tag_read(tar, "bag-info.txt", 1024, &buf, &len, &e), -1);
	ck_assert_int_eq(e.kind, ERR_NOTFOUND);
	put(tar, "this is no tar, and not compressed either, just text of some length\n");
	ck_assert_int_eq(bag_tag_read(tar, "bag-info.txt", 1024, &buf, &len, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("audit");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, node_id_sources);
	tcase_add_test(tc, genesis_binds_the_node);
	tcase_add_test(tc, head_text);
	tcase_add_test(tc, bag_heads_in_the_log);
	tcase_add_test(tc, tag_read_refuses_links);
	tcase_add_test(tc, tag_read_tar);
	suite_add_tcase(s, tc);
	return s;
}
