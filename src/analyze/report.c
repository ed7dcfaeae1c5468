/* report.c: the report files, each written from report.json alone
 * (docs/report-schema.md), each into the report directory with
 * O_CREAT|O_EXCL|O_NOFOLLOW, 0644.
 *
 * Every string of the report that came from the bag or the image is
 * attacker-written. It is valid UTF-8 (invalid bytes percent-encoded, "%"
 * itself as "%25"), and each writer escapes it for its format. Besides, every
 * text format shows control characters (0x00-0x1f, 0x7f) and the Unicode
 * direction controls (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069: names
 * that read backwards) percent-encoded, like the invalid bytes: a name with a
 * newline is one line, "%0A" in it ("vis" below).
 *
 *   report.json   the document, indented, one trailing newline
 *   report.md     markdown: paths, hashes and names in code spans (backticks
 *                 longer than any run inside, "|" as "\|" in tables), free text
 *                 (titles, details) with every markdown punctuation
 *                 backslash-escaped: nothing from the bag becomes a link, an
 *                 image, HTML or a table cell of its own
 *   report.html   one file, no external anything (CSP default-src 'none',
 *                 the one inline script allowed by its hash); verdict,
 *                 counts, findings, quarantine, custody, image and notes are
 *                 rendered here (entity-escaped, readable without JS); the file
 *                 table, process tree and network come from a JSON data island
 *                 (every "<" as \u003c) rendered with textContent only. The
 *                 file table: sort by a click on a column, filter by kind, type
 *                 and a path substring, also from the URL:
 *                 report.html#filter=kind:added,type:file,path:tmp&sort=-size
 *                 The flows table: sort by a click on a column, also from the
 *                 URL: report.html#flowsort=-bytes_out (any column, "-":
 *                 descending)
 *   timeline.csv  RFC 4180 (CRLF line ends, every field quoted when it holds
 *                 a comma, quote or leading space); header
 *                   time,source,kind,macb,target,detail
 *                 time: RFC 3339 UTC with nanoseconds; source: file, process,
 *                 quarantine, custody (contain for the warning row); kind: the
 *                 diff kind (added, modified, metadata, deleted, opaque), "start",
 *                 the quarantine step or the custody action; macb: for a file,
 *                 which of its times this row is (M modified, A accessed, C
 *                 changed, B born; equal times share a row: "MAC."), else empty;
 *                 target: "/path" of the file, "pid N", the custody target;
 *                 detail: the rest. Sorted by time (then source order). A field
 *                 whose first character is = + - @ (a spreadsheet formula) gets
 *                 a leading "'" (CSV injection).
 *   bodyfile      TSK 3.x: MD5|name|inode|mode_as_string|UID|GID|size|atime|
 *                 mtime|ctime|crtime, times in epoch seconds (0: unknown), MD5
 *                 "0" (we hash SHA-256 only), mode as fls writes it
 *                 ("r/rrwsr-xr-x"); name "/path", a deleted one "/path
 *                 (deleted)" as TSK does; "|" in a name as "%7C" (beside the
 *                 "vis" encoding): mactime decodes every %XX of a field, so
 *                 it shows the name's original bytes (the report's strings
 *                 have invalid bytes and "%" itself percent-encoded already).
 *                 Pseudo entries that mactime sorts in:
 *                 "[process] pid N comm (exe)" with crtime the start time,
 *                 "[custody] seq 000N action target result" and "[quarantine]
 *                 step" with mtime their time.
 *
 * A bag that did not verify (bag.verified not true, or a top-level "warning"
 * string, as analyze.c puts first in a forced report): report.md's first line,
 * report.html's <title> and first element, timeline.csv's first row after
 * the header (source "contain", kind "warning", outside the time order) and
 * bodyfile's first line (name "EVIDENCE DID NOT VERIFY: ...", mtime the
 * report's time) say so and why (bag.verdict, bag.problems). */
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "contain/analyze.h"
#include "contain/hashio.h"

#define MD_TABLE_ROWS	500u /* rows of one diff table in report.md */
#define CUSTODY_HEAD	50u  /* custody events shown first ... */
#define CUSTODY_TAIL	50u  /* ... and last, when there are more */
#define BANNER_PROBLEMS 10u  /* problems listed in the first line */

static const char *const diff_kinds[] = {"added", "modified", "metadata", "deleted", "opaque"};
static const char *const sev_names[] = {"critical", "high", "medium", "low", "info"};

/* ---- reading the report, tolerant: a field of the wrong type is absent ---- */

static const json_t *jget(const json_t *o, const char *k)
{
	return json_is_object(o) ? json_object_get(o, k) : NULL;
}

static const char *jstr_of(const json_t *o, const char *k)
{
	const json_t *v = jget(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool jint_of(const json_t *o, const char *k, long long *out)
{
	const json_t *v = jget(o, k);
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (json_is_real(v) && json_real_value(v) >= -9e18 && json_real_value(v) <= 9e18) {
		*out = (long long)json_real_value(v);
		return true;
	}
	return false;
}

static const json_t *jarr_of(const json_t *o, const char *k)
{
	const json_t *v = jget(o, k);
	return json_is_array(v) ? v : NULL;
}

/* A scalar as text into b (string as is, numbers, booleans; null: nothing);
 * arrays and objects as compact JSON. */
static void jtext(struct sbuf *b, const json_t *v)
{
	if (!v || json_is_null(v))
		return;
	if (json_is_string(v)) {
		sbuf_add(b, json_string_value(v), json_string_length(v));
	} else if (json_is_integer(v)) {
		sbuf_printf(b, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		sbuf_printf(b, "%.6g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		sbuf_adds(b, json_is_true(v) ? "true" : "false");
	} else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (s)
			sbuf_adds(b, s);
		free(s);
	}
}

/* The text of o[k] (see jtext) in a fresh string; "" when absent. */
static char *jtext_of(const json_t *o, const char *k)
{
	struct sbuf b = SBUF_INIT;
	jtext(&b, jget(o, k));
	return sbuf_steal(&b);
}

/* ---- times ---- */

/* RFC 3339 ("2026-12-07T01:54:29.52Z", an offset allowed) or epoch seconds. */
static bool time_of(const json_t *v, int64_t *sec, long *nsec)
{
	*nsec = 0;
	if (json_is_integer(v)) {
		*sec = json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (!(d > -1e12 && d < 1e12))
			return false;
		*sec = (int64_t)d;
		*nsec = (long)((d - (double)*sec) * 1e9);
		if (*nsec < 0) {
			*sec -= 1;
			*nsec += 1000000000L;
		}
		return true;
	}
	if (!json_is_string(v))
		return false;
	const char *s = json_string_value(v);
	struct tm tm = {0};
	int n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 19)
		return false;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	const char *p = s + n;
	if (*p == '.') {
		long ns = 0;
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 9)
				ns = ns * 10 + (*p - '0');
		if (digits == 0)
			return false;
		for (; digits < 9; digits++)
			ns *= 10;
		*nsec = ns;
	}
	long off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(p) != 6 || hh > 23 || mm > 59)
			return false;
		off = (hh * 3600L + mm * 60L) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 && !(tm.tm_year == 69 && tm.tm_mon == 11 && tm.tm_mday == 31))
		return false;
	*sec = (int64_t)t - off;
	return true;
}

static void time_fmt(int64_t sec, long nsec, char *buf, size_t n)
{
	time_t t = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		snprintf(buf, n, "%lld", (long long)sec);
		return;
	}
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec);
}

/* ---- "vis": control and direction characters percent-encoded ---- */

/* The length of a direction control at s (3 bytes of UTF-8), else 0. */
static size_t bidi_len(const unsigned char *s, size_t left)
{
	if (left < 3 || s[0] != 0xe2)
		return 0;
	if (s[1] == 0x80 && (s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xaa && s[2] <= 0xae)))
		return 3;
	if (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9)
		return 3;
	return 0;
}

/* Call put(b, piece) for the text of s: runs of plain bytes, and the
 * "%XX" form of each byte to hide. extra: more ASCII bytes to encode. */
static void vis_each(struct sbuf *b, const char *s, size_t n, const char *extra,
		     void (*put)(struct sbuf *, const char *, size_t))
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0;
	while (i < n) {
		size_t bl = bidi_len(u + i, n - i);
		bool enc = u[i] < 0x20 || u[i] == 0x7f || (extra && u[i] && strchr(extra, u[i]));
		if (!enc && !bl) {
			i++;
			continue;
		}
		if (i > start)
			put(b, s + start, i - start);
		size_t k = bl ? bl : 1;
		for (size_t j = 0; j < k; j++) {
			char hx[4];
			snprintf(hx, sizeof(hx), "%%%02X", u[i + j]);
			sbuf_add(b, hx, 3);
		}
		i += k;
		start = i;
	}
	if (n > start)
		put(b, s + start, n - start);
}

static void put_raw(struct sbuf *b, const char *s, size_t n)
{
	sbuf_add(b, s, n);
}

static void vis(struct sbuf *b, const char *s, const char *extra)
{
	if (s)
		vis_each(b, s, strlen(s), extra, put_raw);
}

/* ---- the banner of an unverified bag ---- */

/* "" when the bag verified; else "EVIDENCE DID NOT VERIFY (verdict): p1; p2"
 * (raw text: each writer escapes it). */
static char *banner_text(const json_t *report)
{
	const json_t *bag = jget(report, "bag");
	if (json_is_true(jget(bag, "verified"))) {
		/* analyze.c's "warning" (a forced report) says it, whatever bag says */
		const char *w = jstr_of(report, "warning");
		return xstrdup(w ? w : "");
	}
	struct sbuf b = SBUF_INIT;
	const char *verdict = jstr_of(bag, "verdict");
	sbuf_printf(&b, "EVIDENCE DID NOT VERIFY (bag verdict: %s)",
		    verdict ? verdict : (bag ? "unknown" : "no bag section in the report"));
	if (json_is_true(jget(bag, "forced")))
		sbuf_adds(&b, ", analyzed with --force");
	const json_t *pr = jarr_of(bag, "problems");
	size_t n = json_array_size(pr);
	for (size_t i = 0; i < n && i < BANNER_PROBLEMS; i++) {
		sbuf_adds(&b, i ? "; " : ": ");
		jtext(&b, json_array_get(pr, i));
	}
	if (n > BANNER_PROBLEMS)
		sbuf_printf(&b, "; and %zu more problems", n - BANNER_PROBLEMS);
	if (n == 0 && !json_is_false(jget(bag, "verified")))
		sbuf_adds(&b, ": the report does not say the bag verified");
	return sbuf_steal(&b);
}

static const char *verdict_of(const json_t *report)
{
	const char *v = jstr_of(jget(report, "summary"), "verdict");
	return v ? v : "unknown";
}

/* ---- what report.md and report.html both list ---- */

/* The image's facts, label and key, in the order both show them. */
static const struct fact {
	const char *label, *key;
} image_facts[] = {
    {"path", "path"},
    {"form", "form"},
    {"ref", "ref"},
    {"manifest digest", "manifest_digest"},
    {"config digest", "config_digest"},
    {"recorded digest", "recorded_digest"},
    {"match", "match"},
    {"entries", "entries"},
};

/* Each element of arr as text (see jtext) into b: pre, the text escaped
 * by put_text, post. Returns how many. */
static size_t put_items(struct sbuf *b, const json_t *arr, const char *pre,
			void (*put_text)(struct sbuf *, const char *), const char *post)
{
	size_t n = json_array_size(arr);
	for (size_t i = 0; i < n; i++) {
		_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
		jtext(&t, json_array_get(arr, i));
		sbuf_adds(b, pre);
		put_text(b, t.buf ? t.buf : "");
		sbuf_adds(b, post);
	}
	return n;
}

/* The notes of the report, the diff and the image, in that order (see
 * put_items). Returns how many. */
static size_t put_notes(struct sbuf *b, const json_t *report, const char *pre,
			void (*put_text)(struct sbuf *, const char *), const char *post)
{
	const json_t *lists[] = {jarr_of(report, "notes"), jarr_of(jget(report, "diff"), "notes"),
				 jarr_of(jget(report, "image"), "notes")};
	size_t total = 0;
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
		total += put_items(b, lists[l], pre, put_text, post);
	return total;
}

/* A table of n rows that shows its first head and last tail rows: how
 * many it leaves out at row i (0: none there). */
static size_t rows_left_out(size_t n, size_t head, size_t tail, size_t i)
{
	return n > head + tail && i == head ? n - head - tail : 0;
}

/* ---- the file ---- */

static int write_out(int dirfd, const char *name, const char *buf, size_t n, struct err *e)
{
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_sys(e, errno, "create '%s'", name);
	if (write_all(fd, buf, n) < 0)
		return err_sys(e, errno, "write '%s'", name);
	int r = close(steal_fd(&fd));
	if (r < 0)
		return err_sys(e, errno, "close '%s'", name);
	return 0;
}

/* ======================================================================
 * report.json
 * ==================================================================== */

int report_write_json(const json_t *report, int dirfd, const char *name, struct err *e)
{
	_cleanup_free_ char *s = json_dumps(report, JSON_INDENT(2));
	if (!s)
		return err_set(e, ERR_INVALID, "report '%s': cannot encode the report as JSON",
			       name);
	struct sbuf b = SBUF_INIT;
	sbuf_adds(&b, s);
	sbuf_addc(&b, '\n');
	int r = write_out(dirfd, name, b.buf, b.len, e);
	sbuf_free(&b);
	return r;
}

/* ======================================================================
 * report.md
 * ==================================================================== */

static void put_md_text(struct sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strchr("\\`*_{}[]()#+!|<>~&", s[i]) && s[i])
			sbuf_addc(b, '\\');
		sbuf_addc(b, s[i]);
	}
}

/* Free text: every markdown punctuation escaped, control characters encoded. */
static void md_text(struct sbuf *b, const char *s)
{
	if (s)
		vis_each(b, s, strlen(s), NULL, put_md_text);
}

static void put_md_cell(struct sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '|')
			sbuf_addc(b, '\\');
		sbuf_addc(b, s[i]);
	}
}

/* A code span: literal text, no link, no HTML. In a table "|" is "\|"
 * (GFM splits cells before it parses code spans). Empty: nothing. */
static void md_code(struct sbuf *b, const char *s, bool table)
{
	if (!s || !*s)
		return;
	size_t run = 0, longest = 0;
	for (const char *p = s; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	size_t n = strlen(s);
	bool pad = s[0] == '`' || s[n - 1] == '`' || (s[0] == ' ' && s[n - 1] == ' ');
	for (size_t i = 0; i <= longest; i++)
		sbuf_addc(b, '`');
	if (pad)
		sbuf_addc(b, ' ');
	vis_each(b, s, n, NULL, table ? put_md_cell : put_raw);
	if (pad)
		sbuf_addc(b, ' ');
	for (size_t i = 0; i <= longest; i++)
		sbuf_addc(b, '`');
}

/* o[k] as a code span (tables: see md_code) */
static void md_field(struct sbuf *b, const json_t *o, const char *k, bool table)
{
	_cleanup_free_ char *t = jtext_of(o, k);
	md_code(b, t, table);
}

static void md_kv(struct sbuf *b, const char *label, const json_t *o, const char *k)
{
	const json_t *v = jget(o, k);
	if (!v || json_is_null(v))
		return;
	sbuf_printf(b, "- %s: ", label);
	md_field(b, o, k, false);
	sbuf_addc(b, '\n');
}

static void md_head(struct sbuf *b, const json_t *report)
{
	_cleanup_free_ char *ban = banner_text(report);
	sbuf_adds(b, "# contain analysis: ");
	md_text(b, verdict_of(report));
	if (*ban) {
		sbuf_adds(b, " \xe2\x80\x94 ");
		md_text(b, ban);
	}
	sbuf_adds(b, "\n\n");
	const json_t *sum = jget(report, "summary"), *c = jget(sum, "counts");
	sbuf_adds(
	    b, "| critical | high | medium | low | info | total |\n|---|---|---|---|---|---|\n|");
	for (size_t i = 0; i < ARRAY_SIZE(sev_names); i++) {
		long long v = 0;
		jint_of(c, sev_names[i], &v);
		sbuf_printf(b, " %lld |", v);
	}
	long long total = 0;
	jint_of(sum, "total", &total);
	sbuf_printf(b, " %lld |\n\n", total);
	const char *fo = jstr_of(sum, "fail_on");
	if (fo) {
		sbuf_adds(b, "Threshold (--fail-on): ");
		md_text(b, fo);
		sbuf_adds(b, json_is_true(jget(sum, "failed")) ? ", reached.\n\n"
							       : ", not reached.\n\n");
	}

	const json_t *bag = jget(report, "bag");
	sbuf_adds(b, "## Evidence\n\n");
	md_kv(b, "bag id", bag, "id");
	md_kv(b, "bag path", bag, "path");
	md_kv(b, "form", bag, "form");
	md_kv(b, "verified", bag, "verified");
	md_kv(b, "verdict", bag, "verdict");
	md_kv(b, "forced", bag, "forced");
	md_kv(b, "signed", bag, "signed");
	md_kv(b, "signer", bag, "signer");
	md_kv(b, "case", bag, "case");
	md_kv(b, "examiner", bag, "examiner");
	md_kv(b, "host", bag, "host");
	md_kv(b, "bagging date", bag, "bagging_date");
	md_kv(b, "created", bag, "created");
	put_items(b, jarr_of(bag, "problems"), "- problem: ", md_text, "\n");
	const json_t *ct = jget(report, "container");
	sbuf_adds(b, "\n## Container\n\n");
	md_kv(b, "runtime", ct, "runtime");
	md_kv(b, "id", ct, "id");
	md_kv(b, "name", ct, "name");
	md_kv(b, "image", ct, "image");
	md_kv(b, "image digest", ct, "image_digest");
	md_kv(b, "layer", ct, "layer");
	md_kv(b, "whole root", ct, "whole_root");
	sbuf_addc(b, '\n');
}

static void md_findings(struct sbuf *b, const json_t *report)
{
	const json_t *fs = jarr_of(report, "findings");
	sbuf_printf(b, "## Findings (%zu)\n\n", json_array_size(fs));
	for (size_t s = 0; s < ARRAY_SIZE(sev_names); s++) {
		size_t n = 0, i;
		const json_t *f;
		json_array_foreach(fs, i, f)
		{
			const char *sv = jstr_of(f, "severity");
			if (!sv || strcmp(sv, sev_names[s]))
				continue;
			if (n++ == 0)
				sbuf_printf(b, "### %s\n\n", sev_names[s]);
			sbuf_printf(b, "- **%s** ", sev_names[s]);
			md_field(b, f, "id", false);
			sbuf_adds(b, " ");
			md_text(b, jstr_of(f, "title"));
			sbuf_adds(b, "\n");
			if (jstr_of(f, "attack")) {
				sbuf_adds(b, "  - ATT&CK: ");
				md_field(b, f, "attack", false);
				sbuf_addc(b, '\n');
			}
			if (jget(f, "path") && !json_is_null(jget(f, "path"))) {
				sbuf_adds(b, "  - path: ");
				md_field(b, f, "path", false);
				sbuf_addc(b, '\n');
			}
			if (jget(f, "detail") && !json_is_null(jget(f, "detail"))) {
				_cleanup_free_ char *d = jtext_of(f, "detail");
				sbuf_adds(b, "  - detail: ");
				md_text(b, d);
				sbuf_addc(b, '\n');
			}
			const json_t *ev = jget(f, "evidence");
			if (json_is_object(ev)) {
				const char *k;
				const json_t *v;
				json_object_foreach((json_t *)ev, k, v)
				{
					sbuf_adds(b, "  - evidence ");
					md_text(b, k);
					sbuf_adds(b, ": ");
					struct sbuf tb = SBUF_INIT;
					jtext(&tb, v);
					md_code(b, tb.buf ? tb.buf : "", false);
					sbuf_free(&tb);
					sbuf_addc(b, '\n');
				}
			} else if (ev && !json_is_null(ev)) {
				struct sbuf tb = SBUF_INIT;
				jtext(&tb, ev);
				sbuf_adds(b, "  - evidence: ");
				md_code(b, tb.buf ? tb.buf : "", false);
				sbuf_free(&tb);
				sbuf_addc(b, '\n');
			}
		}
		if (n)
			sbuf_addc(b, '\n');
	}
	/* a severity we do not know is still shown */
	size_t i;
	const json_t *f;
	size_t other = 0;
	json_array_foreach(fs, i, f)
	{
		const char *sv = jstr_of(f, "severity");
		bool known = false;
		for (size_t s = 0; sv && s < ARRAY_SIZE(sev_names); s++)
			known = known || !strcmp(sv, sev_names[s]);
		if (known)
			continue;
		if (other++ == 0)
			sbuf_adds(b, "### other severity\n\n");
		sbuf_adds(b, "- ");
		md_field(b, f, "severity", false);
		sbuf_adds(b, " ");
		md_field(b, f, "id", false);
		sbuf_adds(b, " ");
		md_field(b, f, "path", false);
		sbuf_addc(b, '\n');
	}
	if (other)
		sbuf_addc(b, '\n');
}

static void md_image(struct sbuf *b, const json_t *report)
{
	const json_t *im = jget(report, "image");
	sbuf_adds(b, "## Image\n\n");
	for (size_t i = 0; i < ARRAY_SIZE(image_facts); i++)
		md_kv(b, image_facts[i].label, im, image_facts[i].key);
	const json_t *ls = jarr_of(im, "layers");
	if (json_array_size(ls)) {
		sbuf_adds(b, "\n| layer | digest | media type | size | entries | digest ok |\n"
			     "|---|---|---|---|---|---|\n");
		size_t i;
		const json_t *l;
		json_array_foreach(ls, i, l)
		{
			sbuf_printf(b, "| %zu | ", i);
			md_field(b, l, "digest", true);
			sbuf_adds(b, " | ");
			md_field(b, l, "media_type", true);
			sbuf_adds(b, " | ");
			md_field(b, l, "size", true);
			sbuf_adds(b, " | ");
			md_field(b, l, "entries", true);
			sbuf_adds(b, " | ");
			md_field(b, l, "digest_ok", true);
			sbuf_adds(b, " |\n");
		}
	}
	sbuf_addc(b, '\n');
}

static void md_diff(struct sbuf *b, const json_t *report)
{
	const json_t *d = jget(report, "diff");
	sbuf_adds(b, "## File changes\n\n| kind | entries |\n|---|---|\n");
	for (size_t k = 0; k < ARRAY_SIZE(diff_kinds); k++)
		sbuf_printf(b, "| %s | %zu |\n", diff_kinds[k],
			    json_array_size(jarr_of(d, diff_kinds[k])));
	const json_t *st = jget(d, "stats");
	long long v;
	if (jint_of(st, "unchanged", &v))
		sbuf_printf(b, "| unchanged | %lld |\n", v);
	sbuf_addc(b, '\n');
	for (size_t k = 0; k < ARRAY_SIZE(diff_kinds); k++) {
		const json_t *a = jarr_of(d, diff_kinds[k]);
		size_t n = json_array_size(a);
		if (!n)
			continue;
		sbuf_printf(b, "### %s (%zu)\n\n", diff_kinds[k], n);
		sbuf_adds(b, "| path | type | mode | uid:gid | size | sha256 | what |\n"
			     "|---|---|---|---|---|---|---|\n");
		for (size_t i = 0; i < n && i < MD_TABLE_ROWS; i++) {
			const json_t *x = json_array_get(a, i);
			sbuf_adds(b, "| ");
			md_field(b, x, "path", true);
			sbuf_adds(b, " | ");
			bool del = !strcmp(diff_kinds[k], "deleted");
			bool img = !jget(x, "type") || (del && jget(x, "image_type"));
			md_field(b, x, img ? "image_type" : "type", true);
			sbuf_adds(b, " | ");
			img = !jget(x, "mode") || (del && jget(x, "image_mode"));
			md_field(b, x, img ? "image_mode" : "mode", true);
			sbuf_adds(b, " | ");
			if (jget(x, "uid") || jget(x, "gid")) {
				_cleanup_free_ char *u = jtext_of(x, "uid");
				_cleanup_free_ char *g = jtext_of(x, "gid");
				_cleanup_free_ char *ug = xasprintf("%s:%s", u, g);
				md_code(b, ug, true);
			}
			sbuf_adds(b, " | ");
			md_field(b, x, "size", true);
			sbuf_adds(b, " | ");
			md_field(b, x, jget(x, "sha256") ? "sha256" : "image_sha256", true);
			sbuf_adds(b, " | ");
			/* what: changes, the image's hash, mime, link target, hidden count */
			struct sbuf w = SBUF_INIT;
			const json_t *ch = jarr_of(x, "changes");
			for (size_t j = 0; j < json_array_size(ch); j++) {
				if (j)
					sbuf_addc(&w, ' ');
				jtext(&w, json_array_get(ch, j));
			}
			const char *keys[] = {"image_sha256",	   "mime",   "link_target",
					      "image_link_target", "hidden", "shebang"};
			for (size_t j = 0; j < ARRAY_SIZE(keys); j++) {
				const json_t *kv = jget(x, keys[j]);
				if (!kv || json_is_null(kv) ||
				    (!strcmp(keys[j], "image_sha256") && !jget(x, "sha256")))
					continue;
				if (w.len)
					sbuf_adds(&w, "; ");
				sbuf_printf(&w, "%s=", keys[j]);
				jtext(&w, kv);
			}
			md_code(b, w.buf ? w.buf : "", true);
			sbuf_free(&w);
			sbuf_adds(b, " |\n");
		}
		if (n > MD_TABLE_ROWS)
			sbuf_printf(b, "\n%zu more: see report.json or report.html.\n",
				    n - MD_TABLE_ROWS);
		sbuf_addc(b, '\n');
	}
}

static void md_processes(struct sbuf *b, const json_t *report)
{
	const json_t *ps = jarr_of(report, "processes");
	sbuf_printf(b, "## Processes (%zu)\n\n", json_array_size(ps));
	if (!json_array_size(ps))
		return;
	sbuf_adds(b, "| pid | ppid | user | comm | exe | flags | cmdline | started |\n"
		     "|---|---|---|---|---|---|---|---|\n");
	size_t i;
	const json_t *p;
	json_array_foreach(ps, i, p)
	{
		sbuf_adds(b, "| ");
		md_field(b, p, "pid", true);
		sbuf_adds(b, " | ");
		md_field(b, p, "ppid", true);
		sbuf_adds(b, " | ");
		_cleanup_free_ char *u = jtext_of(p, "user");
		_cleanup_free_ char *uid = jtext_of(p, "uid");
		_cleanup_free_ char *us = xasprintf("%s(%s)", u, uid);
		md_code(b, us, true);
		sbuf_adds(b, " | ");
		md_field(b, p, "comm", true);
		sbuf_adds(b, " | ");
		md_field(b, p, "exe", true);
		sbuf_adds(b, " | ");
		if (json_is_true(jget(p, "exe_deleted")))
			sbuf_adds(b, "**EXE DELETED** ");
		if (json_is_true(jget(p, "exe_memfd")))
			sbuf_adds(b, "**MEMFD** ");
		if (json_is_true(jget(p, "container_init")))
			sbuf_adds(b, "init ");
		sbuf_adds(b, " | ");
		const json_t *cl = jget(p, "cmdline");
		struct sbuf c = SBUF_INIT;
		if (json_is_array(cl)) {
			for (size_t j = 0; j < json_array_size(cl); j++) {
				if (j)
					sbuf_addc(&c, ' ');
				jtext(&c, json_array_get(cl, j));
			}
		} else {
			jtext(&c, cl);
		}
		md_code(b, c.buf ? c.buf : "", true);
		sbuf_free(&c);
		sbuf_adds(b, " | ");
		md_field(b, p, "start_time", true);
		sbuf_adds(b, " |\n");
	}
	sbuf_addc(b, '\n');
}

/* A table: a header of the keys, then each element's ks as cells (see
 * rows_left_out for head and tail), then a blank line. */
static void md_rows(struct sbuf *b, const json_t *arr, const char *const *ks, size_t nk,
		    size_t head, size_t tail);
static void md_flows(struct sbuf *b, const json_t *report)
{
	static const char *const ks[] = {"first", "proto", "src", "sport", "dst", "dport",
					 "state", "packets_out", "bytes_out", "packets_in",
					 "bytes_in", "sni", "http_host"};
	const json_t *fl = jarr_of(jget(report, "network"), "flows");
	sbuf_printf(b, "## Network flows (%zu)\n\n", json_array_size(fl));
	if (!json_array_size(fl))
		return;
	sbuf_adds(b, "|");
	for (size_t k = 0; k < ARRAY_SIZE(ks); k++)
		sbuf_printf(b, " %s |", ks[k]);
	sbuf_adds(b, "\n|");
	for (size_t k = 0; k < ARRAY_SIZE(ks); k++)
		sbuf_adds(b, "---|");
	sbuf_addc(b, '\n');
	md_rows(b, fl, ks, ARRAY_SIZE(ks), 100, 10);
}

static void md_rows(struct sbuf *b, const json_t *arr, const char *const *ks, size_t nk,
		    size_t head, size_t tail)
{
	size_t n = json_array_size(arr);
	sbuf_adds(b, "|");
	for (size_t k = 0; k < nk; k++)
		sbuf_printf(b, " %s |", ks[k]);
	sbuf_adds(b, "\n|");
	for (size_t k = 0; k < nk; k++)
		sbuf_adds(b, "---|");
	sbuf_addc(b, '\n');
	for (size_t i = 0; i < n; i++) {
		size_t more = rows_left_out(n, head, tail, i);
		if (more) {
			sbuf_printf(b, "| %zu more, see report.json |", more);
			for (size_t k = 1; k < nk; k++)
				sbuf_adds(b, " |");
			sbuf_addc(b, '\n');
			i += more;
		}
		const json_t *x = json_array_get(arr, i);
		sbuf_adds(b, "|");
		for (size_t k = 0; k < nk; k++) {
			sbuf_adds(b, " ");
			md_field(b, x, ks[k], true);
			sbuf_adds(b, " |");
		}
		sbuf_addc(b, '\n');
	}
	sbuf_addc(b, '\n');
}

static void md_network(struct sbuf *b, const json_t *report)
{
	const json_t *ss = jarr_of(jget(report, "network"), "sockets");
	sbuf_printf(b, "## Network sockets (%zu)\n\n", json_array_size(ss));
	if (!json_array_size(ss))
		return;
	static const char *const ks[] = {"pid", "proto", "state", "local", "remote", "inode"};
	md_rows(b, ss, ks, ARRAY_SIZE(ks), SIZE_MAX / 2, 0);
}

static const char *const q_keys[] = {"at", "step", "by", "holds", "seconds"};
static const char *const c_keys[] = {"seq", "time", "action", "target", "result"};

static void md_tail(struct sbuf *b, const json_t *report)
{
	const json_t *q = jarr_of(report, "quarantine");
	sbuf_printf(b, "## Quarantine (%zu steps)\n\n", json_array_size(q));
	if (json_array_size(q))
		md_rows(b, q, q_keys, ARRAY_SIZE(q_keys), SIZE_MAX / 2, 0);
	const json_t *c = jarr_of(report, "custody");
	sbuf_printf(b, "## Custody log (%zu events)\n\n", json_array_size(c));
	if (json_array_size(c))
		md_rows(b, c, c_keys, ARRAY_SIZE(c_keys), CUSTODY_HEAD, CUSTODY_TAIL);
	const json_t *an = jget(report, "analyses");
	if (json_object_size(an)) {
		sbuf_adds(b, "## Other analyses\n\n");
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)an, k, v)
		{
			sbuf_adds(b, "- ");
			md_code(b, k, false);
			sbuf_adds(b, ": see report.json\n");
		}
		sbuf_addc(b, '\n');
	}
	sbuf_adds(b, "## Notes\n\n");
	if (!put_notes(b, report, "- ", md_text, "\n"))
		sbuf_adds(b, "None.\n");
	const char *tool = jstr_of(report, "tool"), *gen = jstr_of(report, "generated");
	sbuf_adds(b, "\n---\n");
	md_text(b, tool ? tool : "contain");
	if (gen) {
		sbuf_adds(b, ", ");
		md_text(b, gen);
	}
	sbuf_addc(b, '\n');
}

int report_write_md(const json_t *report, int dirfd, const char *name, struct err *e)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	md_head(&b, report);
	md_findings(&b, report);
	md_image(&b, report);
	md_diff(&b, report);
	md_processes(&b, report);
	md_network(&b, report);
	md_flows(&b, report);
	md_tail(&b, report);
	return write_out(dirfd, name, b.buf, b.len, e);
}

/* ======================================================================
 * report.html
 * ==================================================================== */

static void put_html(struct sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			sbuf_adds(b, "&amp;");
			break;
		case '<':
			sbuf_adds(b, "&lt;");
			break;
		case '>':
			sbuf_adds(b, "&gt;");
			break;
		case '"':
			sbuf_adds(b, "&quot;");
			break;
		case '\'':
			sbuf_adds(b, "&#39;");
			break;
		default:
			sbuf_addc(b, s[i]);
		}
	}
}

static void h_text(struct sbuf *b, const char *s)
{
	if (s)
		vis_each(b, s, strlen(s), NULL, put_html);
}

static void h_field(struct sbuf *b, const json_t *o, const char *k)
{
	_cleanup_free_ char *t = jtext_of(o, k);
	h_text(b, t);
}

/* a severity or verdict name as a class suffix: only known words */
static const char *h_cls(const char *s)
{
	const char *known[] = {"critical", "high",	  "medium",	"low",
			       "info",	   "compromised", "suspicious", "clean"};
	for (size_t i = 0; s && i < ARRAY_SIZE(known); i++)
		if (!strcmp(s, known[i]))
			return known[i];
	return "unknown";
}

static const char html_style[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1400px;padding:0 16px 40px;"
    "color:#1b1b1b;background:#fff}\n"
    "h1{font-size:24px;margin:16px 0 8px}h2{margin-top:28px;border-bottom:2px solid #ddd}\n"
    "code,.mono,td{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px}\n"
    "code{word-break:break-all}section{overflow-x:auto}details{margin:2px 0 4px}"
    "summary{cursor:pointer;color:#444;font-size:12.5px}\n"
    ".unverified{background:#b00020;color:#fff;font-weight:700;font-size:17px;padding:12px 16px;"
    "margin:0 -16px;}\n"
    ".verdict{padding:2px 10px;border-radius:4px;color:#fff}\n"
    ".v-compromised{background:#b00020}.v-suspicious{background:#e08a00}.v-clean{background:#"
    "2e7d32}"
    ".v-unknown{background:#666}\n"
    ".counts{display:flex;gap:8px;flex-wrap:wrap;margin:8px 0}\n"
    ".count{min-width:90px;padding:8px 12px;border-radius:6px;color:#fff;text-align:center}\n"
    ".count b{display:block;font-size:22px}\n"
    ".s-critical{background:#6a0014}.s-high{background:#c62828}.s-medium{background:#ef8f00}"
    ".s-low{background:#c9a800}.s-info{background:#607d8b}.s-unknown{background:#444}\n"
    ".zero{opacity:.35}\n"
    ".finding{border-left:6px solid #999;background:#fafafa;margin:8px 0;padding:6px 10px}\n"
    ".finding.s-critical{border-color:#6a0014}.finding.s-high{border-color:#c62828}"
    ".finding.s-medium{border-color:#ef8f00}.finding.s-low{border-color:#c9a800}"
    ".finding.s-info{border-color:#607d8b}\n"
    ".finding{background:#fafafa;color:#1b1b1b}\n"
    ".badge{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:12px;"
    "text-transform:uppercase}\n"
    ".ftitle{font-weight:600}.attack{color:#444;margin-left:6px}\n"
    "table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:2px 6px;"
    "text-align:left;vertical-align:top}\n"
    "th{background:#f0f0f0;font-family:system-ui,sans-serif}\n"
    "table.ev td:first-child{color:#555;white-space:nowrap}\n"
    "#ftable{width:100%}#ftable td{white-space:nowrap}"
    "#ftable td:nth-child(3),#ftable td:nth-child(8){white-space:normal;word-break:break-all}\n"
    "#ftable th{cursor:pointer;user-select:none;position:sticky;top:0}\n"
    "#ftable th.asc::after{content:' \\25B2'}#ftable th.desc::after{content:' \\25BC'}\n"
    "#ftable td.k-added{color:#1b5e20}#ftable td.k-modified{color:#b00020}"
    "#ftable td.k-deleted{color:#555;text-decoration:line-through}\n"
    ".controls{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin:8px 0}\n"
    "ul.tree{list-style:none;padding-left:18px;border-left:1px dotted #bbb}\n"
    "ul.tree li{margin:2px 0}.flag{background:#b00020;color:#fff;padding:0 4px;border-radius:3px;"
    "margin-left:4px;font-size:11px}\n"
    ".muted{color:#666}.kv td:first-child{font-weight:600;white-space:nowrap}\n";

/* The script: builds the file table, the process tree and the network from
 * the data island with createElement/textContent only. */
static const char html_script[] =
    "(function(){'use strict';\n"
    "var D={};try{D=JSON.parse(document.getElementById('data').textContent)||{};}catch(x){}\n"
    "function vis(s){if(s===null||s===undefined)return'';if(typeof "
    "s==='object')s=JSON.stringify(s);"
    "return "
    "String(s).replace(/[\\u0000-\\u001f\\u007f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]/g,"
    "function(c){return encodeURIComponent(c);});}\n"
    "function el(t,c,x){var e=document.createElement(t);if(c)e.className=c;"
    "if(x!==undefined&&x!==null)e.textContent=vis(x);return e;}\n"
    "function $(i){return document.getElementById(i);}\n"
    "var KINDS=['added','modified','metadata','deleted','opaque'];\n"
    "var COLS=['kind','type','path','mode','owner','size','mime','sha256','changes'];\n"
    "var rows=[];var dd=(D.diff&&typeof D.diff==='object')?D.diff:{};\n"
    "KINDS.forEach(function(k){var a=dd[k];if(!Array.isArray(a))return;a.forEach(function(x){"
    "if(!x||typeof x!=='object')return;"
    "var own=(x.uid!==undefined||x.gid!==undefined)?vis(x.uid)+':'+vis(x.gid):'';"
    "var sz=typeof x.size==='number'?x.size:'';"
    "var ch=Array.isArray(x.changes)?x.changes.map(vis).join(' '):'';"
    "if(typeof x.hidden==='number')ch=(ch?ch+' ':'')+'hides '+x.hidden;"
    "var del=k==='deleted';"
    "rows.push({kind:k,type:vis((del&&x.image_type)||x.type||x.image_type||''),path:'/"
    "'+vis(x.path),"
    "mode:vis((del&&x.image_mode)||x.mode||x.image_mode||''),owner:own,size:sz,mime:vis(x.mime||'')"
    ","
    "sha256:vis(x.sha256||x.image_sha256||''),"
    "changes:ch});});});\n"
    "var st={kind:'',type:'',path:'',sort:'path',desc:false,limit:2000};\n"
    "function cmp(a,b){var x=a[st.sort],y=b[st.sort];var r;"
    "if(typeof x==='number'&&typeof y==='number')r=x-y;"
    "else{x=String(x);y=String(y);r=x<y?-1:(x>y?1:0);}"
    "if(r===0&&st.sort!=='path')r=a.path<b.path?-1:(a.path>b.path?1:0);return st.desc?-r:r;}\n"
    "function render(){var tb=$('fbody');if(!tb)return;"
    "var f=rows.filter(function(r){return(!st.kind||r.kind===st.kind)&&(!st.type||r.type===st.type)"
    "&&(!st.path||r.path.indexOf(st.path)>=0);});f.sort(cmp);"
    "var frag=document.createDocumentFragment();var n=Math.min(f.length,st.limit);"
    "for(var i=0;i<n;i++){var r=f[i],tr=document.createElement('tr');"
    "for(var j=0;j<COLS.length;j++){var td=document.createElement('td');"
    "td.textContent=String(r[COLS[j]]);if(j===0)td.className='k-'+r.kind;tr.appendChild(td);}"
    "frag.appendChild(tr);}\n"
    "while(tb.firstChild)tb.removeChild(tb.firstChild);tb.appendChild(frag);"
    "$('fstatus').textContent='showing '+n+' of '+f.length+' matching ('+rows.length+' in all)';"
    "$('fmore').hidden=!(f.length>n);"
    "var th=document.querySelectorAll('#ftable th');for(var k=0;k<th.length;k++){"
    "var "
    "c=th[k].getAttribute('data-col');th[k].className=c===st.sort?(st.desc?'desc':'asc'):'';}}\n"
    "function sync(){if($('fkind'))$('fkind').value=st.kind;if($('ftype'))$('ftype').value=st.type;"
    "if($('fpath'))$('fpath').value=st.path;}\n"
    "function fromHash(){var h=location.hash.replace(/^#/,'');if(!h)return;"
    "h.split('&').forEach(function(p){var i=p.indexOf('=');if(i<0)return;var k=p.slice(0,i),v;"
    "try{v=decodeURIComponent(p.slice(i+1));}catch(x){return;}"
    "if(k==='filter'){v.split(',').forEach(function(q){var j=q.indexOf(':');if(j<0)return;"
    "var a=q.slice(0,j),b=q.slice(j+1);if(a==='kind')st.kind=b;else if(a==='type')st.type=b;"
    "else if(a==='path')st.path=b;});}"
    "else if(k==='sort'){var d=v.charAt(0)==='-';if(d)v=v.slice(1);"
    "if(COLS.indexOf(v)>=0){st.sort=v;st.desc=d;}}});sync();}\n"
    "function setup(){var t=$('ftable');if(!t)return;"
    "t.querySelector('thead').addEventListener('click',function(ev){var c=ev.target&&"
    "ev.target.getAttribute&&ev.target.getAttribute('data-col');if(!c)return;"
    "if(st.sort===c)st.desc=!st.desc;else{st.sort=c;st.desc=false;}render();});\n"
    "$('fkind').addEventListener('change',function(){st.kind=this.value;render();});"
    "$('ftype').addEventListener('change',function(){st.type=this.value;render();});"
    "$('fpath').addEventListener('input',function(){st.path=this.value;render();});"
    "$('fmore').addEventListener('click',function(){st.limit+=5000;render();});"
    "window.addEventListener('hashchange',function(){fromHash();render();});"
    "$('fcontrols').hidden=false;fromHash();render();}\n"
    "function ptree(){var box=$('ptree');if(!box)return;var P=Array.isArray(D.processes)?"
    "D.processes.filter(function(p){return p&&typeof p==='object'&&typeof p.pid==='number';}):[];"
    "if(!P.length){box.appendChild(el('p','muted','no process in the bag'));return;}"
    "var by={},kids={},seen={};P.forEach(function(p){by[p.pid]=p;});"
    "function isroot(p){return!(typeof p.ppid==='number'&&by[p.ppid]&&p.ppid!==p.pid);}"
    "P.forEach(function(p){if(!isroot(p))(kids[p.ppid]=kids[p.ppid]||[]).push(p);});\n"
    "function line(p){var li=el('li');li.appendChild(el('b',null,'pid '+vis(p.pid)));"
    "if(p.nspid!==undefined&&p.nspid!==null)li.appendChild(el('span','muted',' (ns "
    "'+vis(p.nspid)+')'));"
    "li.appendChild(el('span',null,' '+vis(p.comm)));"
    "li.appendChild(el('code',null,' '+vis(p.exe)));"
    "li.appendChild(el('span','muted',' user '+vis(p.user)+' (uid '+vis(p.uid)+')'));"
    "if(p.exe_deleted===true)li.appendChild(el('span','flag','exe deleted'));"
    "if(p.exe_memfd===true)li.appendChild(el('span','flag','memfd'));"
    "if(p.container_init===true)li.appendChild(el('span','muted',' [init]'));"
    "if(p.start_time)li.appendChild(el('span','muted',' started '+vis(p.start_time)));"
    "var cl=Array.isArray(p.cmdline)?p.cmdline.map(vis).join(' '):vis(p.cmdline);"
    "if(cl)li.appendChild(el('div','mono',cl));return li;}\n"
    "function build(p,ul,depth){if(seen[p.pid])return;seen[p.pid]=1;var "
    "li=line(p);ul.appendChild(li);"
    "var k=kids[p.pid];if(k&&k.length){var sub=el('ul','tree');"
    "k.forEach(function(c){build(c,depth<200?sub:ul,depth+1);});"
    "if(sub.firstChild)li.appendChild(sub);}}\n"
    "var top=el('ul','tree');P.filter(isroot).forEach(function(p){build(p,top,0);});"
    "P.forEach(function(p){if(!seen[p.pid])build(p,top,0);});box.appendChild(top);}\n"
    "function net(){var box=$('netv');if(!box)return;var N=(D.network&&typeof "
    "D.network==='object')?"
    "D.network:{};var S=Array.isArray(N.sockets)?N.sockets:[];var by={},order=[],names={};"
    "if(Array.isArray(D.processes))D.processes.forEach(function(p){if(p&&typeof p==='object')"
    "names[vis(p.pid)]=vis(p.comm);});"
    "S.forEach(function(s){if(!s||typeof s!=='object')return;var k=vis(s.pid);"
    "if(!by[k]){by[k]=[];order.push(k);}by[k].push(s);});"
    "if(!order.length)box.appendChild(el('p','muted','no socket in the bag'));"
    "order.forEach(function(k){box.appendChild(el('h3',null,(k?'pid '+k:'no pid')+(names[k]?"
    "' '+names[k]:'')+' ('+by[k].length+' sockets)'));var t=el('table'),h=el('tr');"
    "['proto','state','local','remote','inode'].forEach(function(c){h.appendChild(el('th',null,c));"
    "});"
    "t.appendChild(h);by[k].forEach(function(s){var tr=el('tr');"
    "['proto','state','local','remote','inode'].forEach(function(c){tr.appendChild(el('td',null,"
    "vis(s[c])));});"
    "t.appendChild(tr);});box.appendChild(t);});"
    "var "
    "I=Array.isArray(N.interfaces)?N.interfaces:[];if(I.length){box.appendChild(el('h3',null,'"
    "interfaces'));"
    "var ul=el('ul');I.forEach(function(i){if(!i||typeof i!=='object')return;var "
    "a=Array.isArray(i.addresses)?"
    "i.addresses.map(function(x){return x&&typeof "
    "x==='object'?vis(x.address)+'/'+vis(x.prefixlen):vis(x);})"
    ".join(' '):'';ul.appendChild(el('li',null,vis(i.name)+' '+vis(i.operstate||'')+' '+a));});"
    "box.appendChild(ul);}}\n"
    "try{setup();}catch(x){if(window.console)console.log('table: '+x);}"
    "try{ptree();}catch(x){if(window.console)console.log('processes: '+x);}"
    "function flows(){var box=$('flowv');if(!box)return;var N=(D.network&&typeof "
    "D.network==='object')?D.network:{};var F=Array.isArray(N.flows)?N.flows.filter("
    "function(f){return f&&typeof f==='object';}):[];"
    "if(!F.length){box.appendChild(el('p','muted','no flow in the pcaps'));return;}"
    "var C=['first','proto','src','sport','dst','dport','state','packets_out','bytes_out',"
    "'packets_in','bytes_in','seconds','after_cut','sni','http_host'];var s={c:'first',d:false};"
    "function fh(){var m=/(?:^#|&)flowsort=(-?)([a-z_]+)/.exec(location.hash);"
    "if(m&&C.indexOf(m[2])>=0){s.c=m[2];s.d=m[1]==='-';}}fh();"
    "var t=el('table'),h=el('tr'),hd=el('thead'),tb=el('tbody');t.id='flowtable';"
    "C.forEach(function(c){"
    "var th=el('th',null,c);th.setAttribute('data-col',c);h.appendChild(th);});"
    "hd.appendChild(h);t.appendChild(hd);t.appendChild(tb);"
    "function draw(){while(tb.firstChild)tb.removeChild(tb.firstChild);F.sort(function(a,b){"
    "var x=a[s.c],y=b[s.c],r=(typeof x==='number'&&typeof y==='number')?x-y:"
    "(vis(x)<vis(y)?-1:(vis(x)>vis(y)?1:0));return s.d?-r:r;});"
    "F.slice(0,5000).forEach(function(f){var tr=el('tr');C.forEach(function(c){"
    "tr.appendChild(el('td',null,vis(f[c])));});tb.appendChild(tr);});"
    "var th=h.childNodes;for(var k=0;k<th.length;k++){var c=th[k].getAttribute('data-col');"
    "th[k].className=c===s.c?(s.d?'desc':'asc'):'';}}"
    "h.addEventListener('click',function(ev){var c=ev.target&&ev.target.getAttribute&&"
    "ev.target.getAttribute('data-col');if(!c)return;if(s.c===c)s.d=!s.d;else{s.c=c;s.d=false;}"
    "draw();});window.addEventListener('hashchange',function(){fh();draw();});"
    "draw();box.appendChild(el('p','muted',F.length+' flows'+(F.length>5000?"
    "' (the first 5000 shown)':'')+'; a column head sorts'));box.appendChild(t);}\n"
    "try{net();}catch(x){if(window.console)console.log('network: '+x);}\n"
    "try{flows();}catch(x){if(window.console)console.log('flows: '+x);}\n"
    "})();\n";

static void h_kvrow(struct sbuf *b, const char *label, const json_t *o, const char *k)
{
	const json_t *v = jget(o, k);
	if (!v || json_is_null(v))
		return;
	sbuf_printf(b, "<tr><td>%s</td><td><code>", label);
	h_field(b, o, k);
	sbuf_adds(b, "</code></td></tr>\n");
}

static void h_head(struct sbuf *b, const json_t *report, const char *ban, const char *csp_hash)
{
	const char *verdict = verdict_of(report);
	sbuf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		     "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		     "style-src 'unsafe-inline'; script-src 'unsafe-inline' 'sha256-");
	sbuf_adds(b, csp_hash);
	sbuf_adds(b, "'; img-src data:; base-uri 'none'; form-action 'none'\">\n"
		     "<meta name=\"referrer\" content=\"no-referrer\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		     "<title>");
	if (*ban) {
		h_text(b, ban);
		sbuf_adds(b, " \xe2\x80\x94 ");
	}
	sbuf_adds(b, "contain analysis: ");
	h_text(b, verdict);
	const char *id = jstr_of(jget(report, "bag"), "id");
	if (id) {
		sbuf_adds(b, " \xe2\x80\x94 bag ");
		h_text(b, id);
	}
	sbuf_adds(b, "</title>\n<style>\n");
	sbuf_adds(b, html_style);
	sbuf_adds(b, "</style></head>\n<body>\n");
	if (*ban) {
		sbuf_adds(b, "<div class=\"unverified\" id=\"unverified\">");
		h_text(b, ban);
		sbuf_adds(b, "</div>\n");
	}
	sbuf_printf(b, "<h1>contain analysis: <span class=\"verdict v-%s\" id=\"verdict\">",
		    h_cls(verdict));
	h_text(b, verdict);
	sbuf_adds(b, "</span></h1>\n<div class=\"counts\" id=\"counts\">\n");
	const json_t *sum = jget(report, "summary"), *c = jget(sum, "counts");
	for (size_t i = 0; i < ARRAY_SIZE(sev_names); i++) {
		long long v = 0;
		jint_of(c, sev_names[i], &v);
		sbuf_printf(b, "<div class=\"count s-%s%s\"><b>%lld</b>%s</div>\n", sev_names[i],
			    v ? "" : " zero", v, sev_names[i]);
	}
	sbuf_adds(b, "</div>\n");
	const char *fo = jstr_of(sum, "fail_on");
	if (fo) {
		sbuf_adds(b, "<p>Threshold (--fail-on): ");
		h_text(b, fo);
		sbuf_adds(b, json_is_true(jget(sum, "failed")) ? ", <b>reached</b>.</p>\n"
							       : ", not reached.</p>\n");
	}
	const json_t *bag = jget(report, "bag"), *ct = jget(report, "container");
	sbuf_adds(b, "<table class=\"kv\" id=\"facts\">\n");
	h_kvrow(b, "bag id", bag, "id");
	h_kvrow(b, "bag path", bag, "path");
	h_kvrow(b, "verified", bag, "verified");
	h_kvrow(b, "verdict", bag, "verdict");
	h_kvrow(b, "forced", bag, "forced");
	h_kvrow(b, "signed", bag, "signed");
	h_kvrow(b, "signer", bag, "signer");
	h_kvrow(b, "case", bag, "case");
	h_kvrow(b, "examiner", bag, "examiner");
	h_kvrow(b, "host", bag, "host");
	h_kvrow(b, "captured", bag, "created");
	h_kvrow(b, "runtime", ct, "runtime");
	h_kvrow(b, "container id", ct, "id");
	h_kvrow(b, "container name", ct, "name");
	h_kvrow(b, "image (recorded)", ct, "image");
	h_kvrow(b, "image digest (recorded)", ct, "image_digest");
	h_kvrow(b, "image match", jget(report, "image"), "match");
	h_kvrow(b, "report made", report, "generated");
	sbuf_adds(b, "</table>\n");
	const json_t *pr = jarr_of(bag, "problems");
	if (json_array_size(pr)) {
		sbuf_adds(b, "<h3>Verification problems</h3><ul id=\"problems\">\n");
		put_items(b, pr, "<li>", h_text, "</li>\n");
		sbuf_adds(b, "</ul>\n");
	}
}

static bool ev_key_main(const char *k)
{
	return !strcmp(k, "member") || !strcmp(k, "sha256") || !strcmp(k, "image_sha256");
}

/* The rows of an evidence object: its main keys (member, hashes) or the
 * others; with b NULL only whether there is one. */
static bool h_evidence(struct sbuf *b, const json_t *ev, bool main_keys)
{
	const char *k;
	const json_t *v;
	bool any = false;
	json_object_foreach((json_t *)ev, k, v)
	{
		if (ev_key_main(k) != main_keys || json_is_null(v))
			continue;
		any = true;
		if (!b)
			break;
		sbuf_adds(b, "<tr><td>");
		h_text(b, k);
		sbuf_adds(b, "</td><td><code>");
		struct sbuf t = SBUF_INIT;
		jtext(&t, v);
		h_text(b, t.buf ? t.buf : "");
		sbuf_free(&t);
		sbuf_adds(b, "</code></td></tr>");
	}
	return any;
}

static void h_finding(struct sbuf *b, const json_t *f, const char *sev)
{
	sbuf_printf(b, "<div class=\"finding s-%s\"><div><span class=\"badge s-%s\">", sev, sev);
	h_field(b, f, "severity");
	sbuf_adds(b, "</span> <code class=\"fid\">");
	h_field(b, f, "id");
	sbuf_adds(b, "</code> <span class=\"ftitle\">");
	h_field(b, f, "title");
	sbuf_adds(b, "</span>");
	if (jstr_of(f, "attack")) {
		sbuf_adds(b, "<span class=\"attack\">ATT&amp;CK ");
		h_field(b, f, "attack");
		sbuf_adds(b, "</span>");
	}
	sbuf_adds(b, "</div>\n<table class=\"ev\">");
	if (jget(f, "path") && !json_is_null(jget(f, "path"))) {
		sbuf_adds(b, "<tr><td>path</td><td><code class=\"fpath\">");
		h_field(b, f, "path");
		sbuf_adds(b, "</code></td></tr>");
	}
	if (jget(f, "detail") && !json_is_null(jget(f, "detail"))) {
		sbuf_adds(b, "<tr><td>detail</td><td>");
		h_field(b, f, "detail");
		sbuf_adds(b, "</td></tr>");
	}
	const json_t *ev = jget(f, "evidence");
	if (json_is_object(ev)) {
		/* the bag member and the hashes in view, the rest folded (<details>
		 * opens without JS) */
		h_evidence(b, ev, true);
		sbuf_adds(b, "</table>");
		if (h_evidence(NULL, ev, false)) {
			sbuf_adds(b,
				  "<details><summary>more evidence</summary><table class=\"ev\">");
			h_evidence(b, ev, false);
			sbuf_adds(b, "</table></details>");
		}
		sbuf_adds(b, "</div>\n");
		return;
	}
	if (ev && !json_is_null(ev)) {
		sbuf_adds(b, "<tr><td>evidence</td><td><code>");
		h_field(b, f, "evidence");
		sbuf_adds(b, "</code></td></tr>");
	}
	sbuf_adds(b, "</table></div>\n");
}

static void h_findings(struct sbuf *b, const json_t *report)
{
	const json_t *fs = jarr_of(report, "findings");
	sbuf_printf(b, "<section id=\"findings\"><h2>Findings (%zu)</h2>\n", json_array_size(fs));
	if (!json_array_size(fs))
		sbuf_adds(b, "<p>No finding.</p>\n");
	for (size_t s = 0; s <= ARRAY_SIZE(sev_names); s++) {
		size_t n = 0, i;
		const json_t *f;
		json_array_foreach(fs, i, f)
		{
			const char *sv = jstr_of(f, "severity");
			const char *cls = h_cls(sv);
			bool mine = s < ARRAY_SIZE(sev_names)
					? !strcmp(cls, sev_names[s])
					: !strcmp(cls, "unknown") || !strcmp(cls, "compromised") ||
					      !strcmp(cls, "suspicious") || !strcmp(cls, "clean");
			if (!mine)
				continue;
			if (n++ == 0)
				sbuf_printf(b, "<h3 class=\"sevh\">%s</h3>\n",
					    s < ARRAY_SIZE(sev_names) ? sev_names[s] : "other");
			h_finding(b, f, s < ARRAY_SIZE(sev_names) ? sev_names[s] : "unknown");
		}
	}
	sbuf_adds(b, "</section>\n");
}

static void h_files(struct sbuf *b, const json_t *report)
{
	const json_t *d = jget(report, "diff");
	sbuf_adds(b, "<section id=\"files\"><h2>File changes</h2>\n<p>");
	for (size_t k = 0; k < ARRAY_SIZE(diff_kinds); k++)
		sbuf_printf(b, "%s%s: <b>%zu</b>", k ? ", " : "", diff_kinds[k],
			    json_array_size(jarr_of(d, diff_kinds[k])));
	long long v;
	if (jint_of(jget(d, "stats"), "unchanged", &v))
		sbuf_printf(b, ", unchanged: %lld", v);
	sbuf_adds(b, "</p>\n<noscript><p>The file table, the process tree and the network need "
		     "JavaScript; report.md and report.json have them.</p></noscript>\n"
		     "<div class=\"controls\" id=\"fcontrols\" hidden>"
		     "<label>kind <select id=\"fkind\"><option value=\"\">all</option>");
	for (size_t k = 0; k < ARRAY_SIZE(diff_kinds); k++)
		sbuf_printf(b, "<option>%s</option>", diff_kinds[k]);
	sbuf_adds(
	    b, "</select></label><label>type <select id=\"ftype\"><option value=\"\">all</option>");
	const char *types[] = {"file", "dir", "symlink", "char", "block", "fifo", "socket"};
	for (size_t k = 0; k < ARRAY_SIZE(types); k++)
		sbuf_printf(b, "<option>%s</option>", types[k]);
	sbuf_adds(b, "</select></label><label>path contains <input id=\"fpath\" type=\"search\" "
		     "size=\"30\"></label><span id=\"fstatus\" class=\"muted\"></span>"
		     "<button id=\"fmore\" type=\"button\" hidden>show more</button></div>\n"
		     "<table id=\"ftable\"><thead><tr>");
	const char *cols[] = {"kind", "type", "path",	"mode",	  "owner",
			      "size", "mime", "sha256", "changes"};
	for (size_t k = 0; k < ARRAY_SIZE(cols); k++)
		sbuf_printf(b, "<th data-col=\"%s\">%s</th>", cols[k],
			    !strcmp(cols[k], "owner") ? "uid:gid" : cols[k]);
	sbuf_adds(b, "</tr></thead><tbody id=\"fbody\"></tbody></table></section>\n");
}

static void h_rows(struct sbuf *b, const json_t *arr, const char *const *ks, size_t nk, size_t head,
		   size_t tail)
{
	size_t n = json_array_size(arr);
	sbuf_adds(b, "<table><tr>");
	for (size_t k = 0; k < nk; k++)
		sbuf_printf(b, "<th>%s</th>", ks[k]);
	sbuf_adds(b, "</tr>\n");
	for (size_t i = 0; i < n; i++) {
		size_t more = rows_left_out(n, head, tail, i);
		if (more) {
			sbuf_printf(b,
				    "<tr><td colspan=\"%zu\" class=\"muted\">%zu more: see "
				    "report.json</td></tr>\n",
				    nk, more);
			i += more;
		}
		const json_t *x = json_array_get(arr, i);
		sbuf_adds(b, "<tr>");
		for (size_t k = 0; k < nk; k++) {
			sbuf_adds(b, "<td>");
			h_field(b, x, ks[k]);
			sbuf_adds(b, "</td>");
		}
		sbuf_adds(b, "</tr>\n");
	}
	sbuf_adds(b, "</table>\n");
}

static void h_tail(struct sbuf *b, const json_t *report)
{
	sbuf_adds(b,
		  "<section id=\"processes\"><h2>Processes</h2><div id=\"ptree\"></div></section>\n"
		  "<section id=\"network\"><h2>Network</h2><div id=\"netv\"></div></section>\n");
	sbuf_printf(b, "<section id=\"flows\"><h2>Network flows (%zu)</h2><div id=\"flowv\"></div>"
		       "</section>\n",
		    json_array_size(jarr_of(jget(report, "network"), "flows")));
	const json_t *q = jarr_of(report, "quarantine");
	sbuf_printf(b, "<section id=\"quarantine\"><h2>Quarantine (%zu steps)</h2>\n",
		    json_array_size(q));
	if (json_array_size(q))
		h_rows(b, q, q_keys, ARRAY_SIZE(q_keys), SIZE_MAX / 2, 0);
	sbuf_adds(b, "</section>\n");
	const json_t *c = jarr_of(report, "custody");
	sbuf_printf(b, "<section id=\"custody\"><h2>Custody log (%zu events)</h2>\n",
		    json_array_size(c));
	if (json_array_size(c))
		h_rows(b, c, c_keys, ARRAY_SIZE(c_keys), CUSTODY_HEAD, CUSTODY_TAIL);
	sbuf_adds(b, "</section>\n");

	const json_t *im = jget(report, "image");
	sbuf_adds(b, "<section id=\"image\"><h2>Image</h2><table class=\"kv\">\n");
	for (size_t i = 0; i < ARRAY_SIZE(image_facts); i++)
		h_kvrow(b, image_facts[i].label, im, image_facts[i].key);
	sbuf_adds(b, "</table>\n");
	const json_t *ls = jarr_of(im, "layers");
	if (json_array_size(ls)) {
		static const char *const l_keys[] = {"digest", "media_type", "compressed_size",
						     "size",   "entries",    "digest_ok"};
		h_rows(b, ls, l_keys, ARRAY_SIZE(l_keys), SIZE_MAX / 2, 0);
	}
	sbuf_adds(b, "</section>\n");

	const json_t *an = jget(report, "analyses");
	if (json_object_size(an)) {
		sbuf_adds(b, "<section id=\"analyses\"><h2>Other analyses</h2><ul>");
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)an, k, v)
		{
			sbuf_adds(b, "<li><code>");
			h_text(b, k);
			sbuf_adds(b, "</code>: see report.json</li>");
		}
		sbuf_adds(b, "</ul></section>\n");
	}
	sbuf_adds(b, "<section id=\"notes\"><h2>Notes</h2><ul>\n");
	put_notes(b, report, "<li>", h_text, "</li>\n");
	sbuf_adds(b, "</ul></section>\n<p class=\"muted\">");
	const char *tool = jstr_of(report, "tool");
	h_text(b, tool ? tool : "contain");
	sbuf_adds(b, "</p>\n");
}

/* The data island: what the script renders (the diff entries with the
 * table's fields only), "<", ">" and "&" as \u escapes so no "</script>" or
 * "<!--" can appear in it. */
static int h_data(struct sbuf *b, const json_t *report, struct err *e)
{
	json_t *d = json_object(), *diff = json_object();
	const json_t *rd = jget(report, "diff");
	static const char *const keep[] = {
	    "path", "type",   "image_type", "mode",   "image_mode",   "uid",	"gid",
	    "size", "hidden", "mime",	    "sha256", "image_sha256", "changes"};
	for (size_t k = 0; k < ARRAY_SIZE(diff_kinds); k++) {
		const json_t *a = jarr_of(rd, diff_kinds[k]);
		json_t *rows = json_array();
		size_t i;
		const json_t *x;
		json_array_foreach(a, i, x)
		{
			json_t *row = json_object();
			for (size_t j = 0; j < ARRAY_SIZE(keep); j++) {
				const json_t *v = jget(x, keep[j]);
				if (v)
					json_object_set(row, keep[j], (json_t *)v);
			}
			json_array_append_new(rows, row);
		}
		json_object_set_new(diff, diff_kinds[k], rows);
	}
	json_object_set_new(d, "diff", diff);
	if (jarr_of(report, "processes"))
		json_object_set(d, "processes", (json_t *)jarr_of(report, "processes"));
	if (json_is_object(jget(report, "network")))
		json_object_set(d, "network", (json_t *)jget(report, "network"));
	char *s = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	if (!s)
		return err_set(e, ERR_INVALID, "cannot encode the report's data as JSON");
	sbuf_adds(b, "<script type=\"application/json\" id=\"data\">");
	for (const char *p = s; *p; p++) {
		if (*p == '<')
			sbuf_adds(b, "\\u003c");
		else if (*p == '>')
			sbuf_adds(b, "\\u003e");
		else if (*p == '&')
			sbuf_adds(b, "\\u0026");
		else
			sbuf_addc(b, *p);
	}
	free(s);
	sbuf_adds(b, "</script>\n");
	return 0;
}

int report_write_html(const json_t *report, int dirfd, const char *name, struct err *e)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	_cleanup_free_ char *ban = banner_text(report);
	unsigned char h[HASH_LEN];
	sha256_buf(html_script, strlen(html_script), h);
	_cleanup_free_ char *hash = base64_encode(h, sizeof(h));
	h_head(&b, report, ban, hash);
	h_findings(&b, report);
	h_files(&b, report);
	h_tail(&b, report);
	if (h_data(&b, report, e) < 0)
		return err_wrap(e, "report '%s'", name);
	sbuf_adds(&b, "<script>");
	sbuf_adds(&b, html_script);
	sbuf_adds(&b, "</script>\n</body></html>\n");
	return write_out(dirfd, name, b.buf, b.len, e);
}

/* ======================================================================
 * timeline.csv
 * ==================================================================== */

struct tl_ev {
	int64_t sec;
	long nsec;
	size_t seq;
	char *row; /* the CSV fields after the time, with the line end */
};

struct tl {
	struct tl_ev *v;
	size_t n, cap;
};

static void put_csv(struct sbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			sbuf_addc(b, '"');
		sbuf_addc(b, s[i]);
	}
}

/* One CSV field: quoted, quotes doubled, control characters encoded, a
 * leading = + - @ defused with "'". */
static void csv_field(struct sbuf *b, const char *s)
{
	sbuf_addc(b, '"');
	if (s && (*s == '=' || *s == '+' || *s == '-' || *s == '@'))
		sbuf_addc(b, '\'');
	if (s)
		vis_each(b, s, strlen(s), NULL, put_csv);
	sbuf_addc(b, '"');
}

static void tl_add(struct tl *t, int64_t sec, long nsec, const char *source, const char *kind,
		   const char *macb, const char *target, const char *detail)
{
	struct sbuf r = SBUF_INIT;
	sbuf_addc(&r, ',');
	csv_field(&r, source);
	sbuf_addc(&r, ',');
	csv_field(&r, kind);
	sbuf_addc(&r, ',');
	csv_field(&r, macb);
	sbuf_addc(&r, ',');
	csv_field(&r, target);
	sbuf_addc(&r, ',');
	csv_field(&r, detail);
	sbuf_adds(&r, "\r\n");
	xgrow(&t->v, &t->cap, t->n + 1, sizeof(*t->v));
	t->v[t->n] = (struct tl_ev){sec, nsec, t->n, sbuf_steal(&r)};
	t->n++;
}

static int tl_cmp(const void *a, const void *b)
{
	const struct tl_ev *x = a, *y = b;
	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->nsec != y->nsec)
		return x->nsec < y->nsec ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* "file 0644 0:0 1234 bytes sha256 ... mime ..." of a diff entry */
static char *file_detail(const json_t *x)
{
	struct sbuf d = SBUF_INIT;
	const char *t = jstr_of(x, "type") ? jstr_of(x, "type") : jstr_of(x, "image_type");
	sbuf_adds(&d, t ? t : "?");
	const char *m = jstr_of(x, "mode") ? jstr_of(x, "mode") : jstr_of(x, "image_mode");
	if (m)
		sbuf_printf(&d, " mode %s", m);
	long long u, g, s;
	if (jint_of(x, "uid", &u) && jint_of(x, "gid", &g))
		sbuf_printf(&d, " owner %lld:%lld", u, g);
	if (jint_of(x, "size", &s))
		sbuf_printf(&d, " size %lld", s);
	const char *keys[] = {"sha256", "image_sha256", "mime", "link_target"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = jstr_of(x, keys[i]);
		if (v)
			sbuf_printf(&d, " %s %s", keys[i], v);
	}
	const json_t *ch = jarr_of(x, "changes");
	for (size_t i = 0; i < json_array_size(ch); i++) {
		sbuf_adds(&d, i ? "," : " changes ");
		jtext(&d, json_array_get(ch, i));
	}
	return sbuf_steal(&d);
}

static void tl_files(struct tl *t, const json_t *report)
{
	const json_t *d = jget(report, "diff");
	for (size_t k = 0; k < ARRAY_SIZE(diff_kinds); k++) {
		const json_t *a = jarr_of(d, diff_kinds[k]);
		size_t i;
		const json_t *x;
		json_array_foreach(a, i, x)
		{
			static const char *const tk[] = {"mtime", "atime", "ctime", "crtime"};
			int64_t sec[4];
			long ns[4];
			bool has[4];
			for (size_t j = 0; j < 4; j++)
				has[j] = time_of(jget(x, tk[j]), &sec[j], &ns[j]);
			_cleanup_free_ char *path = jtext_of(x, "path");
			_cleanup_free_ char *target = xasprintf("/%s", path);
			_cleanup_free_ char *det = file_detail(x);
			for (size_t j = 0; j < 4; j++) {
				if (!has[j])
					continue;
				char macb[5] = "....";
				bool first = true;
				for (size_t l = 0; l < 4; l++) {
					if (!has[l] || sec[l] != sec[j] || ns[l] != ns[j])
						continue;
					if (l < j)
						first = false;
					macb[l] = "MACB"[l];
				}
				if (first)
					tl_add(t, sec[j], ns[j], "file", diff_kinds[k], macb,
					       target, det);
			}
		}
	}
}

static void tl_others(struct tl *t, const json_t *report)
{
	size_t i;
	const json_t *x;
	json_array_foreach(jarr_of(report, "processes"), i, x)
	{
		int64_t s;
		long ns;
		if (!time_of(jget(x, "start_time"), &s, &ns))
			continue;
		_cleanup_free_ char *pid = jtext_of(x, "pid");
		_cleanup_free_ char *target = xasprintf("pid %s", pid);
		struct sbuf d = SBUF_INIT;
		_cleanup_free_ char *ppid = jtext_of(x, "ppid"), *comm = jtext_of(x, "comm"),
				    *exe = jtext_of(x, "exe"), *user = jtext_of(x, "user"),
				    *uid = jtext_of(x, "uid");
		sbuf_printf(&d, "ppid %s comm %s exe %s user %s uid %s", ppid, comm, exe, user,
			    uid);
		if (json_is_true(jget(x, "exe_deleted")))
			sbuf_adds(&d, " EXE-DELETED");
		if (json_is_true(jget(x, "exe_memfd")))
			sbuf_adds(&d, " MEMFD");
		const json_t *cl = jarr_of(x, "cmdline");
		for (size_t j = 0; j < json_array_size(cl); j++) {
			sbuf_adds(&d, j ? " " : " cmdline ");
			jtext(&d, json_array_get(cl, j));
		}
		tl_add(t, s, ns, "process", "start", "", target, d.buf ? d.buf : "");
		sbuf_free(&d);
	}
	json_array_foreach(jarr_of(jget(report, "network"), "flows"), i, x)
	{
		int64_t s;
		long ns;
		if (!time_of(jget(x, "first"), &s, &ns))
			continue;
		_cleanup_free_ char *pr = jtext_of(x, "proto"), *src = jtext_of(x, "src"),
				    *sp = jtext_of(x, "sport"), *dst = jtext_of(x, "dst"),
				    *dp = jtext_of(x, "dport"), *st = jtext_of(x, "state"),
				    *po = jtext_of(x, "packets_out"), *bo = jtext_of(x, "bytes_out"),
				    *pi = jtext_of(x, "packets_in"), *bi = jtext_of(x, "bytes_in"),
				    *sni = jtext_of(x, "sni"), *host = jtext_of(x, "http_host");
		_cleanup_free_ char *target = xasprintf("%s %s:%s -> %s:%s", pr, src, sp, dst, dp);
		_cleanup_free_ char *det =
		    xasprintf("state %s; out %s packets %s bytes; in %s packets %s bytes; sni %s; "
			      "host %s",
			      st, po, bo, pi, bi, sni, host);
		tl_add(t, s, ns, "network", "flow", "", target, det);
	}
	json_array_foreach(jarr_of(report, "quarantine"), i, x)
	{
		int64_t s;
		long ns;
		if (!time_of(jget(x, "at"), &s, &ns))
			continue;
		_cleanup_free_ char *step = jtext_of(x, "step"), *by = jtext_of(x, "by"),
				    *holds = jtext_of(x, "holds"), *secs = jtext_of(x, "seconds");
		_cleanup_free_ char *det = xasprintf("holds: %s; took %s s", holds, secs);
		tl_add(t, s, ns, "quarantine", step, "", by, det);
	}
	json_array_foreach(jarr_of(report, "custody"), i, x)
	{
		int64_t s;
		long ns;
		if (!time_of(jget(x, "time"), &s, &ns))
			continue;
		_cleanup_free_ char *action = jtext_of(x, "action"),
				    *target = jtext_of(x, "target"),
				    *result = jtext_of(x, "result"), *seq = jtext_of(x, "seq");
		_cleanup_free_ char *det = xasprintf("seq %s result %s", seq, result);
		tl_add(t, s, ns, "custody", action, "", target, det);
	}
}

int report_write_timeline(const json_t *report, int dirfd, const char *name, struct err *e)
{
	struct tl t = {0};
	tl_files(&t, report);
	tl_others(&t, report);
	if (t.n > 1)
		qsort(t.v, t.n, sizeof(*t.v), tl_cmp);
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	sbuf_adds(&b, "time,source,kind,macb,target,detail\r\n");
	_cleanup_free_ char *ban = banner_text(report);
	if (*ban) {
		int64_t s = 0;
		long ns = 0;
		char ts[64] = "";
		if (time_of(jget(report, "generated"), &s, &ns))
			time_fmt(s, ns, ts, sizeof(ts));
		sbuf_printf(&b, "\"%s\",", ts);
		csv_field(&b, "contain");
		sbuf_addc(&b, ',');
		csv_field(&b, "warning");
		sbuf_addc(&b, ',');
		csv_field(&b, "");
		sbuf_addc(&b, ',');
		csv_field(&b, jstr_of(jget(report, "bag"), "id"));
		sbuf_addc(&b, ',');
		csv_field(&b, ban);
		sbuf_adds(&b, "\r\n");
	}
	for (size_t i = 0; i < t.n; i++) {
		char ts[64];
		time_fmt(t.v[i].sec, t.v[i].nsec, ts, sizeof(ts));
		sbuf_printf(&b, "\"%s\"", ts);
		sbuf_adds(&b, t.v[i].row);
		free(t.v[i].row);
	}
	free(t.v);
	return write_out(dirfd, name, b.buf, b.len, e);
}

/* ======================================================================
 * bodyfile
 * ==================================================================== */

/* A name field: "|" as %7C besides vis. */
static void body_name(struct sbuf *b, const char *s)
{
	vis(b, s, "|");
}

/* "r/rrwxr-xr-x" as fls -m writes it */
static void body_mode(struct sbuf *b, const char *type, const char *mode)
{
	char t = '-';
	static const char *const tn[] = {"file",  "dir",  "symlink", "char",
					 "block", "fifo", "socket"};
	static const char tc[] = "rdlcbps";
	for (size_t i = 0; type && i < ARRAY_SIZE(tn); i++)
		if (!strcmp(type, tn[i]))
			t = tc[i];
	unsigned long long m = 0;
	bool known = false;
	if (mode && *mode && strlen(mode) <= 6 && strspn(mode, "01234567") == strlen(mode)) {
		m = strtoull(mode, NULL, 8) & 07777;
		known = true;
	}
	char p[10] = "---------";
	if (known) {
		const char *rwx = "rwxrwxrwx";
		for (int i = 0; i < 9; i++)
			if (m & (1u << (8 - i)))
				p[i] = rwx[i];
		if (m & 04000)
			p[2] = (m & 0100) ? 's' : 'S';
		if (m & 02000)
			p[5] = (m & 010) ? 's' : 'S';
		if (m & 01000)
			p[8] = (m & 01) ? 't' : 'T';
	}
	sbuf_printf(b, "%c/%c%s", t, t, p);
}

static long long body_time(const json_t *x, const char *k)
{
	int64_t s;
	long ns;
	return time_of(jget(x, k), &s, &ns) ? (long long)s : 0;
}

static void body_files(struct sbuf *b, const json_t *report)
{
	const json_t *d = jget(report, "diff");
	for (size_t k = 0; k < ARRAY_SIZE(diff_kinds); k++) {
		bool deleted = !strcmp(diff_kinds[k], "deleted");
		size_t i;
		const json_t *x;
		json_array_foreach(jarr_of(d, diff_kinds[k]), i, x)
		{
			long long ino = 0, uid = 0, gid = 0, size = 0;
			jint_of(x, "inode", &ino);
			jint_of(x, "uid", &uid);
			jint_of(x, "gid", &gid);
			jint_of(x, "size", &size);
			_cleanup_free_ char *path = jtext_of(x, "path");
			sbuf_adds(b, "0|/");
			body_name(b, path);
			if (deleted)
				sbuf_adds(b, " (deleted)");
			sbuf_printf(b, "|%lld|", ino);
			const char *ty = jstr_of(x, "type"), *mo = jstr_of(x, "mode");
			if (deleted || !ty || !strcmp(ty, "whiteout")) {
				ty = jstr_of(x, "image_type") ? jstr_of(x, "image_type") : ty;
				mo = jstr_of(x, "image_mode") ? jstr_of(x, "image_mode") : mo;
			}
			body_mode(b, ty, mo);
			sbuf_printf(b, "|%lld|%lld|%lld|%lld|%lld|%lld|%lld\n", uid, gid, size,
				    body_time(x, "atime"), body_time(x, "mtime"),
				    body_time(x, "ctime"), body_time(x, "crtime"));
		}
	}
}

static void body_pseudo(struct sbuf *b, const char *name, long long mtime, long long crtime)
{
	sbuf_adds(b, "0|");
	body_name(b, name);
	sbuf_printf(b, "|0|-/----------|0|0|0|0|%lld|0|%lld\n", mtime, crtime);
}

static void body_others(struct sbuf *b, const json_t *report)
{
	size_t i;
	const json_t *x;
	json_array_foreach(jarr_of(report, "processes"), i, x)
	{
		long long t = body_time(x, "start_time");
		if (!t)
			continue;
		_cleanup_free_ char *pid = jtext_of(x, "pid"), *comm = jtext_of(x, "comm"),
				    *exe = jtext_of(x, "exe");
		_cleanup_free_ char *n =
		    xasprintf("[process] pid %s %s (%s)%s%s", pid, comm, exe,
			      json_is_true(jget(x, "exe_deleted")) ? " EXE-DELETED" : "",
			      json_is_true(jget(x, "exe_memfd")) ? " MEMFD" : "");
		body_pseudo(b, n, 0, t);
	}
	json_array_foreach(jarr_of(report, "quarantine"), i, x)
	{
		long long t = body_time(x, "at");
		if (!t)
			continue;
		_cleanup_free_ char *step = jtext_of(x, "step"), *by = jtext_of(x, "by");
		_cleanup_free_ char *n = xasprintf("[quarantine] %s (by %s)", step, by);
		body_pseudo(b, n, t, 0);
	}
	json_array_foreach(jarr_of(report, "custody"), i, x)
	{
		long long t = body_time(x, "time");
		if (!t)
			continue;
		_cleanup_free_ char *seq = jtext_of(x, "seq"), *action = jtext_of(x, "action"),
				    *target = jtext_of(x, "target"),
				    *result = jtext_of(x, "result");
		long long sq;
		_cleanup_free_ char *sqs =
		    jint_of(x, "seq", &sq) ? xasprintf("%06lld", sq) : xstrdup(seq);
		_cleanup_free_ char *n =
		    xasprintf("[custody] seq %s %s %s %s", sqs, action, target, result);
		body_pseudo(b, n, t, 0);
	}
}

int report_write_bodyfile(const json_t *report, int dirfd, const char *name, struct err *e)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	_cleanup_free_ char *ban = banner_text(report);
	if (*ban) {
		long long t = body_time(report, "generated");
		_cleanup_free_ char *n = xasprintf("%s", ban);
		/* mactime lists only entries with a time: the report's, else 1 */
		body_pseudo(&b, n, t ? t : 1, 0);
	}
	body_files(&b, report);
	body_others(&b, report);
	return write_out(dirfd, name, b.buf ? b.buf : "", b.len, e);
}
