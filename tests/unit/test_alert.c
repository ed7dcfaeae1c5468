/* test_alert: alert_parse on the published payloads of Falco, falcosidekick,
 * Tetragon, Tracee and Sysdig (fixtures/alerts/, each against its expected
 * normalization in fixtures/alerts/expected/), the key, host events, the
 * bounds, and malformed input: a clear error, never a crash, and the same
 * verdict jansson gives. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>

#include "contain/respond.h"
#include "unit.h"

static const char *top(void)
{
	const char *t = getenv("CONTAIN_TOP");
	return t && *t ? t : ".";
}

static char *slurp(const char *path, size_t *len)
{
	char *buf;
	struct err e = {0};
	ck_assert_msg(read_file_at(AT_FDCWD, path, 1 << 24, &buf, len, NULL, &e) == 0, "%s", e.msg);
	return buf;
}

static int parse_str(const char *s, struct alert *a, struct err *e)
{
	err_clear(e);
	return alert_parse(s, strlen(s), a, e);
}

/* s must be refused with a message holding want */
static void refused(const char *s, const char *want)
{
	struct alert a;
	struct err e = {0};
	ck_assert_msg(parse_str(s, &a, &e) == -1, "accepted: %.200s", s);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	ck_assert_msg(strstr(e.msg, want), "'%s' does not say '%s'", e.msg, want);
	/* empty afterwards, and freeing it again is safe */
	ck_assert_ptr_null(a.rule);
	ck_assert_ptr_null(a.fields);
	alert_free(&a);
}

START_TEST(fixtures_normalize)
{
	static const char *const sources[] = {"falco", "falcosidekick", "tetragon", "tracee",
					      "sysdig"};
	unsigned n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(sources); i++) {
		char dir[512];
		snprintf(dir, sizeof(dir), "%s/fixtures/alerts/%s", top(), sources[i]);
		DIR *d = opendir(dir);
		ck_assert_msg(d != NULL, "no %s", dir);
		struct dirent *de;
		unsigned here = 0;
		while ((de = readdir(d))) {
			if (!str_has_suffix(de->d_name, ".json"))
				continue;
			char path[1024], exp[1024];
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			snprintf(exp, sizeof(exp), "%s/fixtures/alerts/expected/%s/%s", top(),
				 sources[i], de->d_name);
			size_t len;
			char *buf = slurp(path, &len);
			struct alert a;
			struct err e = {0};
			ck_assert_msg(alert_parse(buf, len, &a, &e) == 0, "%s: %s", path, e.msg);
			json_t *got = alert_to_json(&a);
			json_error_t je;
			json_t *want = json_load_file(exp, 0, &je);
			ck_assert_msg(want != NULL, "%s: %s", exp, je.text);
			char *gs = json_dumps(got, JSON_SORT_KEYS | JSON_INDENT(2));
			ck_assert_msg(json_equal(got, want), "%s normalizes to\n%s", path, gs);
			free(gs);
			/* the source is what the directory says; raw is the input */
			ck_assert_str_eq(a.source, sources[i]);
			json_t *raw = json_loadb(buf, len, 0, &je);
			ck_assert_ptr_nonnull(raw);
			ck_assert(json_equal(alert_raw(&a), raw));
			ck_assert_ptr_eq(alert_raw(&a), a.raw);
			json_decref(raw);
			json_decref(got);
			json_decref(want);
			alert_free(&a);
			free(buf);
			here++, n++;
		}
		closedir(d);
		ck_assert_msg(here > 0, "no fixture for %s", sources[i]);
	}
	ck_assert_uint_ge(n, 15);
}
END_TEST

/* the published Falco alert of a terminal shell (falco.org docs) */
static const char falco_shell[] =
    "{\"hostname\":\"falco-xczjd\",\"output\":\"13:44:05.478445995: Critical A shell was spawned "
    "in a container\",\"priority\":\"Critical\",\"rule\":\"Terminal shell in "
    "container\",\"source\":\"syscall\",\"tags\":[\"container\",\"mitre_execution\",\"shell\"],"
    "\"time\":\"2023-05-25T13:44:05.478445995Z\", \"output_fields\": "
    "{\"container.id\":\"ee97d9c4186f\",\"container.image.repository\":\"docker.io/library/"
    "alpine\",\"evt.time\":1685022245478445995,\"k8s.ns.name\":\"default\",\"k8s.pod.name\":"
    "\"kubecon\",\"proc.cmdline\":\"sh -c clear; (bash || ash || "
    "sh)\",\"proc.name\":\"sh\",\"proc.pname\":\"runc\",\"proc.pid\":4242,\"proc.tty\":34816,"
    "\"user.loginuid\":-1,\"user.name\":\"root\"}}";

static char *with(const char *from, const char *to)
{
	const char *p = strstr(falco_shell, from);
	ck_assert_ptr_nonnull(p);
	return xasprintf("%.*s%s%s", (int)(p - falco_shell), falco_shell, to, p + strlen(from));
}

START_TEST(falco_members)
{
	struct alert a;
	struct err e = {0};
	ck_assert_int_eq(parse_str(falco_shell, &a, &e), 0);
	ck_assert_str_eq(a.source, "falco");
	ck_assert_str_eq(a.rule, "Terminal shell in container");
	ck_assert(a.prio_known);
	ck_assert_int_eq(a.prio, AP_CRITICAL);
	ck_assert_str_eq(a.time, "2023-05-25T13:44:05.478445995Z");
	/* the 12-char id kept as given: the engine resolves it */
	ck_assert_str_eq(a.container_id, "ee97d9c4186f");
	ck_assert(!a.host);
	ck_assert_str_eq(a.image, "docker.io/library/alpine");
	ck_assert_str_eq(a.pod, "kubecon");
	ck_assert_str_eq(a.ns, "default");
	ck_assert_int_eq(a.pid, 4242);
	ck_assert_uint_eq(json_array_size(a.tags), 3);
	ck_assert_str_eq(json_string_value(json_object_get(a.fields, "proc.name")), "sh");
	ck_assert_int_eq(json_integer_value(json_object_get(a.fields, "user.loginuid")), -1);
	ck_assert_uint_eq(strlen(alert_key(&a)), 64);
	ck_assert_uint_eq(json_array_size(a.notes), 0);
	ck_assert_ptr_null(a.raw); /* parsed on demand only */
	ck_assert_uint_eq(a.text_len, strlen(falco_shell));
	alert_free(&a);
	alert_free(&a);
}
END_TEST

START_TEST(key_identical)
{
	struct alert a, b;
	struct err e = {0};
	ck_assert_int_eq(parse_str(falco_shell, &a, &e), 0);
	/* another time, another output text, another evt.time, members moved:
	 * the same alert */
	char *t =
	    with("\"output\":\"13:44:05.478445995: Critical", "\"output\":\"14:00:00: Critical");
	char *u = with("1685022245478445995", "1685022999999999999");
	char *v = with("2023-05-25T13:44:05.478445995Z", "2023-05-25T14:00:00Z");
	char *w = with("\"proc.name\":\"sh\",\"proc.pname\":\"runc\"",
		       "\"proc.pname\":\"runc\",\"proc.name\":\"sh\"");
	const char *same[] = {t, u, v, w};
	for (size_t i = 0; i < ARRAY_SIZE(same); i++) {
		ck_assert_int_eq(parse_str(same[i], &b, &e), 0);
		ck_assert_str_eq(alert_key(&a), alert_key(&b));
		alert_free(&b);
	}
	/* another container, pid, rule, field value or source: another alert */
	char *d1 = with("ee97d9c4186f", "ee97d9c4186e");
	char *d2 = with("\"proc.pid\":4242", "\"proc.pid\":4243");
	char *d3 = with("\"rule\":\"Terminal shell in container\"", "\"rule\":\"Other\"");
	char *d4 = with("\"user.name\":\"root\"", "\"user.name\":\"nobody\"");
	char *d5 = with("{\"hostname\"", "{\"uuid\":\"x\",\"hostname\"");
	char *d6 = with("\"proc.tty\":34816", "\"proc.tty\":\"34816\"");
	const char *other[] = {d1, d2, d3, d4, d5, d6};
	for (size_t i = 0; i < ARRAY_SIZE(other); i++) {
		ck_assert_int_eq(parse_str(other[i], &b, &e), 0);
		ck_assert_msg(strcmp(alert_key(&a), alert_key(&b)) != 0, "same key: %s", other[i]);
		alert_free(&b);
	}
	ck_assert_int_eq(parse_str(d5, &b, &e), 0);
	ck_assert_str_eq(b.source, "falcosidekick");
	alert_free(&b);
	free(t), free(u), free(v), free(w);
	free(d1), free(d2), free(d3), free(d4), free(d5), free(d6);
	alert_free(&a);
}
END_TEST

START_TEST(host_events)
{
	struct alert a;
	struct err e = {0};
	const char *hosts[] = {
	    "{\"rule\":\"r\",\"priority\":\"Error\",\"output_fields\":{\"container.id\":\"host\"}}",
	    "{\"rule\":\"r\",\"priority\":\"Error\",\"output_fields\":{\"container.id\":\"\"}}",
	    "{\"rule\":\"r\",\"priority\":\"Error\",\"output_fields\":{\"container.id\":null}}",
	    "{\"rule\":\"r\",\"priority\":\"Error\",\"output_fields\":{\"proc.name\":\"sh\"}}",
	    "{\"process_exec\":{\"process\":{\"pid\":1,\"binary\":\"/bin/sh\"}}}",
	    "{\"eventName\":\"execve\",\"containerId\":\"\",\"hostProcessId\":9}",
	    "{\"name\":\"x\",\"workload\":{\"process\":{\"pid\":1}}}",
	    "{\"content\":{\"fields\":{\"container.id\":\"host\"}},\"severity\":3}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(hosts); i++) {
		ck_assert_msg(parse_str(hosts[i], &a, &e) == 0, "%s: %s", hosts[i], e.msg);
		ck_assert_msg(a.host, "not a host event: %s", hosts[i]);
		ck_assert_str_eq(a.container_id, "");
		alert_free(&a);
	}
	/* Tracee: an empty containerId does not hide the nested id */
	ck_assert_int_eq(parse_str("{\"eventName\":\"e\",\"containerId\":\"\",\"container\":{"
				   "\"id\":\"0123456789abcdef\"}}",
				   &a, &e),
			 0);
	ck_assert_str_eq(a.container_id, "0123456789abcdef");
	alert_free(&a);
	/* Falco's full id, when the rule outputs it, wins over the 12-char one */
	ck_assert_int_eq(parse_str("{\"rule\":\"r\",\"output_fields\":{\"container.id\":"
				   "\"0123456789ab\",\"container.full_id\":\"0123456789abcdef\"}}",
				   &a, &e),
			 0);
	ck_assert_str_eq(a.container_id, "0123456789abcdef");
	alert_free(&a);
	/* a runtime scheme is dropped, the id kept */
	ck_assert_int_eq(parse_str("{\"process_exec\":{\"process\":{\"pod\":{\"container\":{\"id\":"
				   "\"containerd://0123456789abcdef\"}}}}}",
				   &a, &e),
			 0);
	ck_assert(!a.host);
	ck_assert_str_eq(a.container_id, "0123456789abcdef");
	alert_free(&a);
}
END_TEST

START_TEST(container_ids_refused)
{
	/* never a name, a pid, a path or a short prefix for the engine to resolve */
	const char *bad[] = {"1",	    "../../etc",     "nginx",	      "EE97D9C4186F",
			     "ee97d9c4186", "ee97d9c4186f ", "ee97d9c4186f/x"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *s = xasprintf("{\"rule\":\"r\",\"output_fields\":{\"container.id\":\"%s\"}}",
				    bad[i]);
		refused(s, "is not a container id");
		free(s);
	}
	char *s = xasprintf("{\"rule\":\"r\",\"output_fields\":{\"container.id\":\"%0100d\"}}", 0);
	refused(s, "is not a container id");
	free(s);
	refused("{\"rule\":\"r\",\"output_fields\":{\"container.id\":12}}",
		"'container.id' is not a string");
	refused("{\"eventName\":\"e\",\"containerId\":\"pod-name\"}", "is not a container id");
}
END_TEST

START_TEST(malformed)
{
	refused("", "empty");
	refused("   \n", "empty");
	refused("[1,2]", "not a JSON object");
	refused("\"rule\"", "not a JSON object");
	refused("{\"rule\":\"r\"", "unexpected end");
	refused("{\"rule\":\"r\"} x", "bytes after the JSON value");
	refused("{\"rule\":\"r\",}", "expected a member name");
	refused("{\"rule\" \"r\"}", "expected ':'");
	refused("{\"rule\":'r'}", "unexpected character");
	refused("{\"rule\":\"a\x01\"}", "control character");
	refused("{\"rule\":\"a\\q\"}", "invalid escape");
	refused("{\"rule\":\"a\\u12\"}", "invalid \\u escape");
	refused("{\"rule\":\"a\\u0000b\"}", "\\u0000");
	refused("{\"rule\":\"a\\ud800\"}", "lone surrogate");
	refused("{\"rule\":\"a\\udc00\"}", "lone surrogate");
	refused("{\"rule\":\"\xc3\x28\"}", "invalid UTF-8");
	refused("{\"rule\":\"\xed\xa0\x80\"}", "invalid UTF-8");     /* a surrogate in UTF-8 */
	refused("{\"rule\":\"\xc0\xaf\"}", "invalid UTF-8");	     /* overlong */
	refused("{\"rule\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8"); /* past U+10FFFF */
	refused("{\"n\":01}", "expected ',' or '}'");
	refused("{\"n\":1.}", "invalid number");
	refused("{\"n\":-}", "invalid number");
	refused("{\"n\":1e}", "invalid number");
	refused("{\"n\":99999999999999999999}", "integer out of range");
	refused("{\"n\":1e999}", "real number out of range");
	refused("{\"n\":tru}", "unexpected character");
	refused("{\"rule\":\"r\"}", "no known alert format");
	refused("{\"output\":\"x\"}", "no known alert format");
	refused("{\"rule\":5,\"output_fields\":{}}", "falco alert: 'rule' is not a string");
	refused("{\"rule\":\"r\",\"output_fields\":[]}", "'output_fields' is not an object");
	refused("{\"priority\":[],\"output_fields\":{}}", "'priority' is not a string");
	refused("{\"process_exec\":{},\"process_kprobe\":{}}", "more than one Tetragon event");
	refused("{\"process_exec\":{\"process\":{\"pid\":\"x\"}}}",
		"'process.pid' is not an integer");
	refused("{\"process_exec\":{\"process\":{\"pid\":-1}}}", "'process.pid' is not an integer");
	refused("{\"eventName\":\"e\",\"timestamp\":\"now\"}", "'timestamp' is not an integer");
	refused("{\"content\":{\"fields\":{}},\"severity\":9}",
		"'severity' is not an integer in 0..7");
	refused("{\"name\":\"n\",\"threat\":{\"severity\":7}}",
		"'threat.severity' is not an integer");
	/* a NUL byte after a number: jansson skips it, the scanner does not */
	static const char nul[] = "{\"rule\":\"r\",\"output_fields\":{\"a\":1\0,\"b\":2}}";
	struct alert na;
	struct err ne = {0};
	ck_assert_int_eq(alert_parse(nul, sizeof(nul) - 1, &na, &ne), -1);
	ck_assert_ptr_nonnull(strstr(ne.msg, "not JSON"));
	/* nesting past the bound */
	struct sbuf b = SBUF_INIT;
	sbuf_adds(&b, "{\"rule\":\"r\",\"output_fields\":{},\"x\":");
	for (unsigned i = 0; i < ALERT_DEPTH_MAX; i++)
		sbuf_addc(&b, '[');
	for (unsigned i = 0; i < ALERT_DEPTH_MAX; i++)
		sbuf_addc(&b, ']');
	sbuf_addc(&b, '}');
	refused(b.buf, "nested deeper than the bound");
	sbuf_free(&b);
	/* a line past ALERT_LINE_MAX: refused before it is read */
	char *big = xmalloc(ALERT_LINE_MAX + 2);
	memset(big, ' ', ALERT_LINE_MAX + 1);
	big[0] = '{';
	big[ALERT_LINE_MAX] = '}';
	big[ALERT_LINE_MAX + 1] = 0;
	struct alert a;
	struct err e = {0};
	ck_assert_int_eq(alert_parse(big, ALERT_LINE_MAX + 1, &a, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "more than the bound"));
	free(big);
}
END_TEST

/* the scanner takes what jansson takes, and nothing else */
START_TEST(agrees_with_jansson)
{
	const char *docs[] = {
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":\"\\ud83d\\ude00\"}}",
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":\"\xf0\x9f\x98\x80 \xe2\x82\xac\"}}",
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":9223372036854775807,\"b\":-"
	    "9223372036854775808}}",
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":9223372036854775808}}",
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":1.5e300,\"b\":-0.0,\"c\":0e0}}",
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":1e400}}",
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":\"\\u0000\"}}",
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"}}",
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":[{}, [], null, true, false]}}",
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":\"\xff\"}}",
	    " \t\r\n{\"rule\":\"r\",\"output_fields\":{}} \t\r\n",
	    "{\"rule\":\"r\",\"output_fields\":{}}\n{}",
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":+1}}",
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":.5}}",
	    "{\"rule\":\"r\",\"output_fields\":{\"a\":NaN}}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
		json_error_t je;
		json_t *j = json_loads(docs[i], 0, &je);
		struct alert a;
		struct err e = {0};
		int r = parse_str(docs[i], &a, &e);
		ck_assert_msg((r == 0) == (j != NULL), "%s: alert_parse %d (%s), jansson %s",
			      docs[i], r, e.msg, j ? "took it" : je.text);
		if (r == 0)
			ck_assert(json_equal(alert_raw(&a), j));
		json_decref(j);
		alert_free(&a);
	}
}
END_TEST

START_TEST(escapes_and_duplicates)
{
	struct alert a;
	struct err e = {0};
	/* an escaped member name is the name it spells; the last duplicate wins
	 * (as in jansson's raw) */
	ck_assert_int_eq(
	    parse_str("{\"rul\\u0065\":\"first\",\"output_fields\":{\"proc.name\":\"a\","
		      "\"proc.name\":\"b\",\"x\\ty\":\"\\u00e9\"},\"rule\":\"R\\u00e9\"}",
		      &a, &e),
	    0);
	ck_assert_str_eq(a.rule, "R\xc3\xa9");
	ck_assert_str_eq(json_string_value(json_object_get(a.fields, "proc.name")), "b");
	ck_assert_str_eq(json_string_value(json_object_get(a.fields, "x\ty")), "\xc3\xa9");
	json_t *raw = alert_raw(&a);
	ck_assert_str_eq(json_string_value(json_object_get(raw, "rule")), a.rule);
	alert_free(&a);
	/* "<NA>" and null are unknown, not values */
	ck_assert_int_eq(
	    parse_str("{\"rule\":\"r\",\"output_fields\":{\"container.id\":"
		      "\"ee97d9c4186f\",\"k8s.pod.name\":\"<NA>\",\"k8s.ns.name\":null}}",
		      &a, &e),
	    0);
	ck_assert_str_eq(a.pod, "");
	ck_assert_str_eq(a.ns, "");
	alert_free(&a);
}
END_TEST

START_TEST(bounds_cut_and_noted)
{
	struct sbuf b = SBUF_INIT;
	sbuf_adds(&b, "{\"rule\":\"");
	/* a rule of 4095 ASCII bytes then a 2-byte character: cut before it */
	for (unsigned i = 0; i < ALERT_STR_MAX - 1; i++)
		sbuf_addc(&b, 'r');
	sbuf_adds(&b, "\xc3\xa9tail\",\"tags\":[");
	for (unsigned i = 0; i < ALERT_TAGS_MAX + 6; i++)
		sbuf_printf(&b, "%s\"t%u\"", i ? "," : "", i);
	sbuf_adds(&b, ",5],\"output_fields\":{");
	for (unsigned i = 0; i < ALERT_FIELDS_MAX + 10; i++)
		sbuf_printf(&b, "%s\"f%u\":%u", i ? "," : "", i, i);
	sbuf_adds(&b, ",\"obj\":{\"a\":1}}}");
	struct alert a;
	struct err e = {0};
	ck_assert_int_eq(alert_parse(b.buf, b.len, &a, &e), 0);
	ck_assert_uint_eq(strlen(a.rule), ALERT_STR_MAX - 1);
	ck_assert(utf8_valid(a.rule, strlen(a.rule)));
	ck_assert_uint_eq(json_array_size(a.tags), ALERT_TAGS_MAX);
	ck_assert_uint_eq(json_object_size(a.fields), ALERT_FIELDS_MAX);
	char *notes = json_dumps(a.notes, 0);
	ck_assert_msg(strstr(notes, "rule cut to 4095 of 4101 bytes"), "%s", notes);
	ck_assert_msg(strstr(notes, "6 tags past the first 64 left out"), "%s", notes);
	ck_assert_msg(strstr(notes, "1 tags that are not strings left out"), "%s", notes);
	ck_assert_msg(strstr(notes, "11 fields past the first 512 left out"), "%s", notes);
	free(notes);
	alert_free(&a);
	sbuf_free(&b);
}
END_TEST

START_TEST(tracee_and_sysdig_priorities)
{
	struct alert a;
	struct err e = {0};
	static const struct {
		const char *doc;
		enum alert_prio p;
	} cases[] = {
	    {"{\"eventName\":\"e\",\"metadata\":{\"Properties\":{\"Severity\":3}}}", AP_ERROR},
	    {"{\"name\":\"n\",\"threat\":{\"severity\":4}}", AP_CRITICAL},
	    {"{\"name\":\"n\",\"threat\":{\"severity\":\"LOW\"}}", AP_NOTICE},
	    {"{\"content\":{\"fields\":{}},\"severity\":0}", AP_EMERGENCY},
	    {"{\"content\":{\"fields\":{}},\"severity\":7}", AP_DEBUG},
	    {"{\"rule\":\"r\",\"priority\":\"informational\",\"output_fields\":{}}",
	     AP_INFORMATIONAL},
	    {"{\"rule\":\"r\",\"priority\":\"INFO\",\"output_fields\":{}}", AP_INFORMATIONAL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		ck_assert_msg(parse_str(cases[i].doc, &a, &e) == 0, "%s", e.msg);
		ck_assert(a.prio_known);
		ck_assert_int_eq(a.prio, cases[i].p);
		alert_free(&a);
	}
	/* an unknown priority: unknown, noted, not an error */
	ck_assert_int_eq(
	    parse_str("{\"rule\":\"r\",\"priority\":\"Loud\",\"output_fields\":{}}", &a, &e), 0);
	ck_assert(!a.prio_known);
	ck_assert_uint_eq(json_array_size(a.notes), 2);
	alert_free(&a);
	/* a time that is not RFC 3339: left out, noted */
	ck_assert_int_eq(
	    parse_str("{\"rule\":\"r\",\"time\":\"yesterday\",\"output_fields\":{}}", &a, &e), 0);
	ck_assert_str_eq(a.time, "");
	alert_free(&a);
	enum alert_prio p;
	ck_assert_int_eq(alert_prio_parse("cRiTiCaL", &p), 0);
	ck_assert_int_eq(p, AP_CRITICAL);
	ck_assert_int_eq(alert_prio_parse("severe", &p), -1);
	ck_assert_str_eq(alert_prio_name(AP_EMERGENCY), "Emergency");
	ck_assert_str_eq(alert_prio_name(AP_INFORMATIONAL), "Informational");
}
END_TEST

START_TEST(split_arrays)
{
	struct alert_range v[4];
	size_t n;
	struct err e = {0};
	char *body = xasprintf(" [ %s ,\n%s,{\"eventName\":\"e\"} ] \n", falco_shell, falco_shell);
	ck_assert_int_eq(alert_split(body, strlen(body), v, 4, &n, &e), 0);
	ck_assert_uint_eq(n, 3);
	for (size_t i = 0; i < n; i++) {
		struct alert a;
		ck_assert_int_eq(alert_parse(body + v[i].off, v[i].len, &a, &e), 0);
		ck_assert_str_eq(a.source, i < 2 ? "falco" : "tracee");
		alert_free(&a);
	}
	ck_assert_uint_eq(v[0].len, strlen(falco_shell));
	/* more than max */
	ck_assert_int_eq(alert_split(body, strlen(body), v, 2, &n, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "more than 2 alerts"));
	ck_assert_uint_eq(n, 0);
	free(body);
	ck_assert_int_eq(alert_split("[]", 2, v, 4, &n, &e), 0);
	ck_assert_uint_eq(n, 0);
	static const struct {
		const char *body, *want;
	} bad[] = {
	    {"{}", "not a JSON array"}, {"", "not a JSON array"},
	    {"[{}", "unexpected end"},	{"[{},]", "unexpected character"},
	    {"[{}] x", "bytes after"},	{"[{\"a\":\"\xff\"}]", "invalid UTF-8"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_int_eq(alert_split(bad[i].body, strlen(bad[i].body), v, 4, &n, &e), -1);
		ck_assert_msg(strstr(e.msg, bad[i].want), "%s: %s", bad[i].body, e.msg);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("alert");
	TCase *tc = tcase_create("alert");
	tcase_add_test(tc, fixtures_normalize);
	tcase_add_test(tc, falco_members);
	tcase_add_test(tc, key_identical);
	tcase_add_test(tc, host_events);
	tcase_add_test(tc, container_ids_refused);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, agrees_with_jansson);
	tcase_add_test(tc, escapes_and_duplicates);
	tcase_add_test(tc, bounds_cut_and_noted);
	tcase_add_test(tc, tracee_and_sysdig_priorities);
	tcase_add_test(tc, split_arrays);
	suite_add_tcase(s, tc);
	return s;
}
