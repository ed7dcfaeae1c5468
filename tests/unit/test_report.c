/* test_report: the five report writers on a hand-built report whose strings
 * are hostile (HTML, markdown, CSV and bodyfile injection, newlines, invalid
 * UTF-8 percent-encoded, direction controls): each output escapes them, an
 * unverified bag is said first, the CSV and the bodyfile keep their shape. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/analyze.h"
#include "unit.h"

#define P_SCRIPT "tmp/x</script><script>alert(1)</script>"
#define P_IMG	 "tmp/<img src=x onerror=\"document.title='PWNED'\">"
#define P_NL	 "tmp/new\nline"
#define P_PIPE	 "etc/a|b,c\"d"
#define P_MD	 "tmp/[x](javascript:alert(1))"
#define P_BAD	 "tmp/bad%FF%FEname"
#define P_BIDI                                                                                     \
	"tmp/gpj\xe2\x80\xae"                                                                      \
	"exe.sh"
#define CSV_INJ "=cmd|' /C calc'!A0"

static json_t *entry(const char *path, const char *type)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:s, s:s}", "path", path, "type",
			 type, "mode", "4755", "uid", 0, "gid", 0, "size", 42, "mtime",
			 "2026-12-07T01:54:30.5Z", "atime", "2026-12-07T01:54:31Z", "ctime",
			 "2026-12-07T01:54:30.5Z", "sha256",
			 "abababababababababababababababababababababababababababababababab");
}

static json_t *hostile_report(bool verified)
{
	json_t *added = json_array();
	const char *paths[] = {P_SCRIPT, P_IMG, P_NL, P_PIPE, P_MD, P_BAD, P_BIDI};
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		json_array_append_new(added, entry(paths[i], "file"));
	json_t *deleted = json_array();
	json_array_append_new(deleted, json_pack("{s:s, s:s, s:s}", "path", "bin/wget",
						 "image_type", "symlink", "image_mode", "0777"));
	json_t *findings = json_array();
	json_array_append_new(
	    findings,
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s}", "id", "fs.dropped-script",
		      "severity", "high", "title", "script dropped", "attack", "T1059.004", "path",
		      P_SCRIPT, "evidence", "member", "data/fs/upper.tar", "name", P_IMG, "detail",
		      "[click](javascript:alert(1)) <b>x</b> `t` | pipe\nline"));
	json_t *procs = json_pack("[{s:i, s:i, s:s, s:s, s:b, s:b, s:i, s:s, s:[s, s], s:s}]",
				  "pid", 12, "ppid", 1, "comm", CSV_INJ, "exe",
				  "/tmp/"
				  "<script>alert(1)</script>"
				  " (deleted)",
				  "exe_deleted", 1, "exe_memfd", 0, "uid", 0, "user", "root",
				  "cmdline", P_IMG, "x", "start_time", "2026-12-07T01:54:29.9Z");
	json_t *custody = json_array();
	for (int i = 1; i <= 300; i++)
		json_array_append_new(custody, json_pack("{s:i, s:s, s:s, s:s, s:s}", "seq", i,
							 "time", "2026-12-07T01:54:30.1Z", "action",
							 i == 2 ? CSV_INJ : "event", "target",
							 i == 3 ? P_PIPE : "ctr", "result", "ok"));
	json_t *r = json_pack(
	    "{s:i, s:s, s:s, s:{s:s, s:b, s:s, s:[s, s], s:b}, s:{s:s, s:s},"
	    " s:{s:o, s:[], s:[], s:o, s:[]}, s:o,"
	    " s:{s:{s:i, s:i, s:i, s:i, s:i}, s:i, s:s, s:s},"
	    " s:o, s:{s:[{s:i, s:s, s:s, s:s, s:s}]},"
	    " s:[{s:s, s:s, s:s, s:s, s:f}], s:o, s:{}, s:[s]}",
	    "schema_version", 1, "tool", "contain 0.1.0", "generated", "2026-12-07T02:00:00Z",
	    "bag", "id", "bag-1", "verified", verified, "verdict", verified ? "valid" : "invalid",
	    "problems", "payload 'data/fs/upper.tar': sha256 mismatch", P_IMG, "forced", !verified,
	    "container", "runtime", "runc", "name", P_IMG, "diff", "added", added, "modified",
	    "metadata", "deleted", deleted, "opaque", "findings", findings, "summary", "counts",
	    "critical", 0, "high", 1, "medium", 0, "low", 0, "info", 0, "total", 1, "verdict",
	    "compromised", "worst", "high", "processes", procs, "network", "sockets", "pid", 12,
	    "proto", "tcp", "state", "ESTABLISHED", "local", "10.0.0.2:1", "remote", P_IMG,
	    "quarantine", "step", CSV_INJ, "by", "capture", "at", "2026-12-07T01:54:30.2Z", "holds",
	    "network cut", "seconds", 0.1, "custody", custody, "analyses", "notes",
	    "note " P_SCRIPT);
	ck_assert_ptr_nonnull(r);
	return r;
}

struct out {
	char dir[128];
	char *f[5];
	size_t n[5];
};
enum { O_JSON, O_MD, O_HTML, O_CSV, O_BODY };
static const char *const names[] = {"report.json", "report.md", "report.html", "timeline.csv",
				    "bodyfile"};

static void write_all_reports(json_t *r, struct out *o)
{
	int (*fns[])(const json_t *, int, const char *,
		     struct err *) = {report_write_json, report_write_md, report_write_html,
				      report_write_timeline, report_write_bodyfile};
	unit_tmpdir(o->dir, sizeof(o->dir), "test_report");
	int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	for (size_t i = 0; i < ARRAY_SIZE(fns); i++) {
		struct err e = {0};
		ck_assert_msg(fns[i](r, dfd, names[i], &e) == 0, "%s: %s", names[i], e.msg);
		bool tr;
		ck_assert_int_eq(
		    read_file_at(dfd, names[i], 64u << 20, &o->f[i], &o->n[i], &tr, &e), 0);
		ck_assert_uint_eq(strlen(o->f[i]), o->n[i]); /* no NUL byte inside */
		struct stat st;
		ck_assert_int_eq(fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0644);
	}
	close(dfd);
}

static void out_free(struct out *o)
{
	for (size_t i = 0; i < 5; i++)
		free(o->f[i]);
	unit_tmpdir_remove(o->dir);
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

START_TEST(json_roundtrip)
{
	json_t *r = hostile_report(false);
	struct out o = {0};
	write_all_reports(r, &o);
	ck_assert(o.n[O_JSON] > 0 && o.f[O_JSON][o.n[O_JSON] - 1] == '\n');
	json_t *back = json_loads(o.f[O_JSON], 0, NULL);
	ck_assert_ptr_nonnull(back);
	ck_assert(json_equal(back, r));
	json_decref(back);
	json_decref(r);
	out_free(&o);
}
END_TEST

START_TEST(markdown_escapes)
{
	json_t *r = hostile_report(false);
	struct out o = {0};
	write_all_reports(r, &o);
	const char *md = o.f[O_MD];
	const char *nl = strchr(md, '\n');
	ck_assert_ptr_nonnull(nl);
	char *first = strndup(md, (size_t)(nl - md));
	ck_assert_msg(str_has_prefix(first, "# contain analysis: compromised "), "%s", first);
	ck_assert_msg(strstr(first, "EVIDENCE DID NOT VERIFY"), "%s", first);
	ck_assert_msg(strstr(first, "sha256 mismatch"), "%s", first);
	free(first);
	/* free text: link syntax escaped; paths: code spans */
	ck_assert(strstr(md, "\\[click\\]\\(javascript:alert\\(1\\)\\)"));
	ck_assert(strstr(md, "\\<b\\>x\\</b\\>"));
	ck_assert(strstr(md, "`tmp/[x](javascript:alert(1))`"));
	/* no raw "<" outside a code span: every "<script" is in backticks or escaped */
	for (const char *p = md; (p = strstr(p, "<script")); p++)
		ck_assert_msg(p > md &&
				  (p[-1] == '\\' || memchr(p - (p - md < 80 ? p - md : 80), '`',
							   (size_t)(p - md < 80 ? p - md : 80))),
			      "raw <script at %zu", (size_t)(p - md));
	/* newline and direction control encoded, the pipe escaped in a table */
	ck_assert(strstr(md, "`tmp/new%0Aline`"));
	ck_assert(!strstr(md, "new\nline"));
	ck_assert(strstr(md, "gpj%E2%80%AEexe.sh"));
	ck_assert(strstr(md, "`etc/a\\|b,c\"d`"));
	ck_assert(strstr(md, "pipe%0Aline"));
	/* the custody log is bounded: 50 first, 50 last */
	ck_assert(strstr(md, "200 more, see report.json"));
	json_decref(r);
	out_free(&o);
}
END_TEST

/* needle inside a raw tag of h (the nearest "<" or ">" before it is "<") */
static bool in_tag(const char *h, const char *needle)
{
	for (const char *p = h; (p = strstr(p, needle)); p++) {
		const char *q = p;
		while (q > h && *q != '<' && *q != '>')
			q--;
		if (*q == '<')
			return true;
	}
	return false;
}

START_TEST(html_escapes)
{
	json_t *r = hostile_report(false);
	struct out o = {0};
	write_all_reports(r, &o);
	const char *h = o.f[O_HTML];
	/* exactly two script elements: the data island and ours */
	ck_assert_uint_eq(count(h, "<script"), 2);
	ck_assert_uint_eq(count(h, "</script>"), 2);
	ck_assert(strstr(h, "<script type=\"application/json\" id=\"data\">"));
	ck_assert(!strstr(h, "<img"));
	ck_assert(!strstr(h, "<b>x"));
	ck_assert(
	    strstr(h, "&lt;img src=x onerror=&quot;document.title=&#39;PWNED&#39;&quot;&gt;"));
	ck_assert(strstr(h, "tmp/x&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert(strstr(h, "x\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"));
	/* title and first element of the body say it */
	ck_assert(strstr(h, "<title>EVIDENCE DID NOT VERIFY"));
	const char *body = strstr(h, "<body>\n");
	ck_assert_ptr_nonnull(body);
	ck_assert(str_has_prefix(
	    body + 7, "<div class=\"unverified\" id=\"unverified\">EVIDENCE DID NOT VERIFY"));
	/* nothing external: no src=, no url(, the CSP forbids the rest */
	ck_assert(!in_tag(h, " src="));
	ck_assert(!in_tag(h, "href="));
	ck_assert(!strstr(h, "url("));
	ck_assert(strstr(h, "default-src 'none'"));
	ck_assert(strstr(h, "script-src 'unsafe-inline' 'sha256-"));
	ck_assert(!strstr(h, "innerHTML"));
	ck_assert(!strstr(h, "eval("));
	json_decref(r);
	out_free(&o);
}
END_TEST

/* RFC 4180 records of s: fields per record into nf (at most max records);
 * returns the record count, or -1 on a malformed quote. fields[i] of record
 * 1.. can be read back through get_field. */
static int csv_shape(const char *s, size_t *nf, int max)
{
	int rec = 0;
	size_t fields = 1;
	bool q = false, start = true;
	for (const char *p = s; *p; p++) {
		if (q) {
			if (*p == '"' && p[1] == '"')
				p++;
			else if (*p == '"')
				q = false;
			continue;
		}
		if (*p == '"') {
			if (!start)
				return -1;
			q = true;
		} else if (*p == ',') {
			fields++;
			start = true;
			continue;
		} else if (*p == '\r' && p[1] == '\n') {
			if (rec < max)
				nf[rec] = fields;
			rec++;
			fields = 1;
			p++;
			start = true;
			continue;
		} else if (*p == '\n' || *p == '\r') {
			return -1; /* a bare line end outside quotes */
		}
		start = false;
	}
	return q ? -1 : rec;
}

START_TEST(csv_shape_and_injection)
{
	json_t *r = hostile_report(false);
	struct out o = {0};
	write_all_reports(r, &o);
	const char *c = o.f[O_CSV];
	size_t nf[1000];
	int n = csv_shape(c, nf, 1000);
	ck_assert_int_gt(n, 300);
	for (int i = 0; i < n && i < 1000; i++)
		ck_assert_msg(nf[i] == 6, "record %d has %zu fields", i, nf[i]);
	ck_assert(str_has_prefix(c, "time,source,kind,macb,target,detail\r\n"));
	ck_assert(strstr(c, "\r\n\"2026-12-07T02:00:00.000000000Z\",\"contain\",\"warning\""));
	/* a formula is defused, a quote doubled, a newline encoded */
	ck_assert(strstr(c, "\"'" CSV_INJ "\""));
	ck_assert(!strstr(c, ",\"" CSV_INJ));
	ck_assert(strstr(c, "\"/etc/a|b,c\"\"d\""));
	ck_assert(strstr(c, "\"/tmp/new%0Aline\""));
	ck_assert(strstr(c, "\"file\",\"added\",\"M.C.\""));
	ck_assert(strstr(c, "\"file\",\"added\",\".A..\""));
	ck_assert(strstr(c, "\"process\",\"start\",\"\",\"pid 12\""));
	json_decref(r);
	out_free(&o);
}
END_TEST

START_TEST(bodyfile_shape)
{
	json_t *r = hostile_report(false);
	struct out o = {0};
	write_all_reports(r, &o);
	const char *b = o.f[O_BODY];
	ck_assert(str_has_prefix(b, "0|EVIDENCE DID NOT VERIFY"));
	size_t lines = 0;
	for (const char *p = b; *p;) {
		const char *e = strchr(p, '\n');
		ck_assert_ptr_nonnull(e);
		size_t bars = 0;
		for (const char *q = p; q < e; q++)
			bars += *q == '|';
		ck_assert_msg(bars == 10, "line %zu: %.*s", lines, (int)(e - p), p);
		lines++;
		p = e + 1;
	}
	ck_assert_uint_ge(lines, 7 + 1 + 1 + 300 + 1 + 1);
	ck_assert(strstr(b, "0|/etc/a%7Cb,c\"d|0|r/rrwsr-xr-x|0|0|42|1796608471|1796608470|"
			    "1796608470|0\n"));
	ck_assert(strstr(b, "0|/tmp/new%0Aline|"));
	ck_assert(strstr(b, "0|/bin/wget (deleted)|0|l/lrwxrwxrwx|"));
	ck_assert(strstr(b, "0|[process] pid 12 =cmd%7C' /C calc'!A0 (/tmp/<script>"));
	ck_assert(strstr(b, "|0|-/----------|0|0|0|0|0|0|1796608469\n"));
	json_decref(r);
	out_free(&o);
}
END_TEST

START_TEST(verified_has_no_banner)
{
	json_t *r = hostile_report(true);
	struct out o = {0};
	write_all_reports(r, &o);
	for (size_t i = O_MD; i <= O_BODY; i++)
		ck_assert_msg(!strstr(o.f[i], "DID NOT VERIFY"), "%s", names[i]);
	ck_assert(str_has_prefix(o.f[O_MD], "# contain analysis: compromised\n"));
	json_decref(r);
	out_free(&o);
}
END_TEST

/* A top-level "warning" (analyze.c's, in a forced report) is said first even
 * when bag says it verified. */
START_TEST(warning_member_is_said)
{
	json_t *r = hostile_report(true);
	json_object_set_new(r, "warning", json_string("EVIDENCE NOT VERIFIED: <b>bag</b>"));
	struct out o = {0};
	write_all_reports(r, &o);
	ck_assert(str_has_prefix(o.f[O_MD], "# contain analysis: compromised \xe2\x80\x94 EVIDENCE "
					    "NOT VERIFIED: \\<b\\>bag\\</b\\>\n"));
	ck_assert(strstr(o.f[O_HTML], "<title>EVIDENCE NOT VERIFIED: &lt;b&gt;bag&lt;/b&gt;"));
	ck_assert(str_has_prefix(o.f[O_BODY], "0|EVIDENCE NOT VERIFIED: <b>bag</b>|"));
	ck_assert(strstr(o.f[O_CSV], "\"warning\",\"\",\"bag-1\",\"EVIDENCE NOT VERIFIED: <b>bag</b>\""));
	json_decref(r);
	out_free(&o);
}
END_TEST

/* A report of the wrong shape everywhere is still written (the writers read
 * tolerantly), and the missing verification is said. */
START_TEST(wrong_shapes)
{
	json_t *r = json_pack("{s:i, s:s, s:[i, n, {s:s}], s:[n, i, {s:s, s:i}], s:{s:i},"
			      " s:{s:i}, s:[s], s:[{s:s}], s:i}",
			      "diff", 5, "findings", "x", "processes", 1, "pid", "x", "custody", 3,
			      "seq", "x", "time", 7, "network", "sockets", 3, "summary", "counts",
			      7, "quarantine", "x", "notes", "a", "b", "bag", 1);
	ck_assert_ptr_nonnull(r);
	struct out o = {0};
	write_all_reports(r, &o);
	ck_assert(strstr(o.f[O_MD], "EVIDENCE DID NOT VERIFY"));
	ck_assert(strstr(o.f[O_HTML], "EVIDENCE DID NOT VERIFY"));
	json_decref(r);
	out_free(&o);
}
END_TEST

START_TEST(never_overwrites_or_follows)
{
	json_t *r = hostile_report(true);
	char dir[128];
	unit_tmpdir(dir, sizeof(dir), "test_report");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	struct err e = {0};
	ck_assert_int_eq(report_write_md(r, dfd, "report.md", &e), 0);
	ck_assert_int_eq(report_write_md(r, dfd, "report.md", &e), -1);
	ck_assert_int_eq(e.errnum, EEXIST);
	ck_assert_int_eq(symlinkat("target", dfd, "report.html"), 0);
	ck_assert_int_eq(report_write_html(r, dfd, "report.html", &e), -1);
	ck_assert_int_eq(faccessat(dfd, "target", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	close(dfd);
	unit_tmpdir_remove(dir);
	json_decref(r);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");
	tcase_add_test(tc, json_roundtrip);
	tcase_add_test(tc, markdown_escapes);
	tcase_add_test(tc, html_escapes);
	tcase_add_test(tc, csv_shape_and_injection);
	tcase_add_test(tc, bodyfile_shape);
	tcase_add_test(tc, verified_has_no_banner);
	tcase_add_test(tc, warning_member_is_said);
	tcase_add_test(tc, wrong_shapes);
	tcase_add_test(tc, never_overwrites_or_follows);
	suite_add_tcase(s, tc);
	return s;
}
