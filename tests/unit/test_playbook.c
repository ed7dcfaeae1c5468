/* test_playbook: the playbook format (playbooks/README.md), its errors with
 * file and line, matching, the allow list, the directory's ownership checks,
 * and the shipped playbooks each matched by an alert of its kind. */
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "contain/respond.h"
#include "unit.h"

/* ---- helpers ---- */

static struct pb_set *load_ok(const char *text)
{
	struct pb_set *s = NULL;
	json_t *errors = NULL;
	struct err e = {0};
	int rc = pb_load_buf("t.json", text, strlen(text), &s, &errors, &e);
	if (rc < 0) {
		char *d = json_dumps(errors, JSON_COMPACT);
		ck_abort_msg("load failed: %s (%s)", e.msg, d);
	}
	json_decref(errors);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* the load fails and its first error is at line with a message containing want */
static void load_bad(const char *text, unsigned line, const char *want)
{
	struct pb_set *s = (void *)1;
	json_t *errors = NULL;
	struct err e = {0};
	ck_assert_int_eq(pb_load_buf("t.json", text, strlen(text), &s, &errors, &e), -1);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	json_t *first = json_array_get(errors, 0);
	ck_assert_ptr_nonnull(first);
	const char *m = json_string_value(json_object_get(first, "message"));
	ck_assert_msg(m && strstr(m, want), "message '%s' lacks '%s'", m ? m : "(none)", want);
	ck_assert_int_eq(json_integer_value(json_object_get(first, "line")), line);
	ck_assert_str_eq(json_string_value(json_object_get(first, "file")), "t.json");
	ck_assert_msg(strstr(e.msg, want), "err '%s'", e.msg);
	json_decref(errors);
}

struct fa {
	struct alert a;
};

static void mk(struct alert *a, const char *source, const char *rule, int prio,
	       const char *fields, const char *tags)
{
	memset(a, 0, sizeof(*a));
	a->source = source;
	a->rule = (char *)rule;
	a->prio_known = prio >= 0;
	a->prio = prio >= 0 ? (enum alert_prio)prio : AP_DEBUG;
	a->container_id = (char *)"0123456789ab";
	a->container_name = (char *)"web";
	a->image = (char *)"nginx";
	a->pod = (char *)"";
	a->ns = (char *)"";
	a->fields = json_loads(fields ? fields : "{}", 0, NULL);
	a->tags = json_loads(tags ? tags : "[]", 0, NULL);
	ck_assert_ptr_nonnull(a->fields);
	ck_assert_ptr_nonnull(a->tags);
}

static void unmk(struct alert *a)
{
	json_decref(a->fields);
	json_decref(a->tags);
}

/* the names of the playbooks a matches, space-separated */
static const char *matched(const struct pb_set *s, const struct alert *a)
{
	static char buf[512];
	size_t idx[8];
	size_t n = pb_match(s, a, idx, 8);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strncat(buf, i ? " " : "", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, s->v[idx[i]].name, sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

#define STEPS "\"steps\": [{\"capture\": {}}]"

/* ---- the format ---- */

START_TEST(parse_full)
{
	struct pb_set *s = load_ok("[{\"name\": \"a\", \"description\": \"x\",\n"
				   " \"match\": {\"source\": [\"falco\"], \"rule\": \"R\"},\n"
				   " \"steps\": [{\"capture\": {\"pcap_seconds\": 3, \"pcap_max_bytes\": \"64M\", \"memory\": false}},\n"
				   "   {\"quarantine\": {\"timeout\": 5}},\n"
				   "   {\"release_after\": \"30m\"},\n"
				   "   {\"notify\": {\"program\": \"/bin/true\", \"args\": [\"-x\"], \"timeout\": 3}}],\n"
				   " \"dry_run\": true, \"continue\": true},\n"
				   "{\"name\": \"b\", \"match\": {\"priority\": \">=Critical\"}, " STEPS "}]");
	ck_assert_uint_eq(s->n, 2);
	const struct playbook *p = &s->v[0];
	ck_assert_str_eq(p->name, "a");
	ck_assert_str_eq(p->file, "t.json");
	ck_assert_uint_eq(p->line, 1);
	ck_assert(p->dry_run);
	ck_assert(p->cont);
	ck_assert_uint_eq(p->nsteps, 4);
	ck_assert_int_eq(p->steps[0].kind, PB_CAPTURE);
	ck_assert_int_eq(json_integer_value(json_object_get(p->steps[0].opts, "pcap_max_bytes")),
			 64 << 20);
	ck_assert(json_is_false(json_object_get(p->steps[0].opts, "memory")));
	ck_assert_int_eq(p->steps[1].kind, PB_QUARANTINE);
	ck_assert_int_eq(p->steps[2].kind, PB_RELEASE_AFTER);
	ck_assert_int_eq(json_integer_value(json_object_get(p->steps[2].opts, "after")), 1800);
	ck_assert_int_eq(p->steps[3].kind, PB_NOTIFY);
	ck_assert_str_eq(json_string_value(json_object_get(p->steps[3].opts, "program")),
			 "/bin/true");
	ck_assert_uint_eq(s->v[1].line, 8);
	ck_assert(!s->v[1].dry_run && !s->v[1].cont);
	ck_assert_uint_eq(json_array_size(s->sources), 1);
	ck_assert_uint_eq(strlen(json_string_value(
				  json_object_get(json_array_get(s->sources, 0), "sha256"))),
			  64);
	json_t *d = pb_describe(s);
	json_t *m = json_array_get(json_object_get(json_array_get(json_object_get(d, "playbooks"),
								    1),
						   "match"),
				   0);
	ck_assert_str_eq(json_string_value(json_object_get(m, "text")),
			 "priority in {Critical, Alert, Emergency}");
	m = json_array_get(json_object_get(json_array_get(json_object_get(d, "playbooks"), 0),
					   "match"),
			   0);
	ck_assert_str_eq(json_string_value(json_object_get(m, "text")),
			 "source in {falco} and rule in {\"R\"}");
	ck_assert(json_is_null(json_object_get(d, "allow")));
	json_decref(d);
	pb_set_free(s);
}
END_TEST

START_TEST(errors_with_lines)
{
	load_bad("{\"name\": \"a\",\n \"match\": {\"rule\": \"x\"},\n \"bogus\": 1,\n " STEPS "}",
		 3, "unknown key 'bogus' in a playbook");
	load_bad("{\"name\": \"a\",\n \"match\": {\"rule\": \"x\",\n  \"colour\": \"red\"},\n " STEPS "}",
		 3, "unknown key 'colour' in a matcher");
	load_bad("{\"name\": \"a\",\n \"match\": {\"rule_glob\": [\"ok*\",\n  \"bad[\"]},\n " STEPS "}",
		 3, "unclosed '['");
	load_bad("{\"name\": \"a\",\n \"match\": {\"rule_glob\": \"x\\\\\"},\n " STEPS "}", 2,
		 "lone '\\'");
	load_bad("{\"name\": \"a\",\n \"match\": {\"priority\":\n [\">=Emergency\", \"<Debug\"]},\n " STEPS "}",
		 2, "impossible matcher: no priority");
	load_bad("{\"name\": \"a\",\n \"match\": {\"priority\": \">=Severe\"},\n " STEPS "}", 2,
		 "priority 'Severe'");
	load_bad("{\"name\": \"a\",\n \"match\": {\"fields\": [\n {\"field\": \"fd.sport\", \"op\": \">\", \"value\": 5},\n"
		 " {\"field\": \"fd.sport\", \"op\": \"<\", \"value\": 3}]},\n " STEPS "}",
		 3, "numeric bounds that exclude each other");
	load_bad("{\"name\": \"a\", \"match\": {\"fields\": [\n {\"field\": \"x\", \"op\": \"=\", \"value\": \"a\"},\n"
		 " {\"field\": \"x\", \"op\": \"=\", \"value\": [\"b\", \"c\"]}]},\n " STEPS "}",
		 2, "no value in common");
	load_bad("{\"name\": \"a\", \"match\": {\"fields\": [\n {\"field\": \"x\", \"op\": \"=\", \"value\": 1},\n"
		 " {\"field\": \"x\", \"op\": \"!=\", \"value\": \"1\"}]},\n " STEPS "}",
		 2, "excluded by a '!='");
	load_bad("{\"name\": \"a\", \"match\": {\"fields\": [\n {\"field\": \"x\", \"op\": \"exists\", \"value\": false},\n"
		 " {\"field\": \"x\", \"op\": \"glob\", \"value\": \"*\"}]},\n " STEPS "}",
		 2, "'exists': false");
	load_bad("{\"name\": \"a\", \"match\": {\"fields\": [\n {\"field\": \"x\", \"op\": \"~\", \"value\": 1}]},\n " STEPS "}",
		 2, "op '~'");
	load_bad("{\"name\": \"a\", \"match\": {\"fields\": [\n {\"field\": \"x\", \"op\": \">\",\n \"value\": \"5\"}]},\n " STEPS "}",
		 3, "'>' takes a number");
	load_bad("{\"name\": \"a\", \"match\": {\"source\": \"splunk\"}, " STEPS "}", 1,
		 "source 'splunk'");
	load_bad("{\"name\": \"a\",\n \"match\": {},\n " STEPS "}", 2, "empty matcher");
	load_bad("{\"name\": \"a b\", \"match\": {\"rule\": \"x\"}, " STEPS "}", 1, "name must be");
	load_bad("{\"match\": {\"rule\": \"x\"}, " STEPS "}", 1, "needs a name");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}}", 1, "needs steps");
	/* JSON syntax: jansson's line */
	load_bad("{\"name\": \"a\",\n\n \"match\": {\"rule\": \"x\",},\n " STEPS "}", 3,
		 "not valid JSON");
	load_bad("{\"name\": \"a\", \"name\": \"b\"}", 1, "not valid JSON");
	load_bad("[{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, " STEPS "},\n"
		 " {\"name\": \"a\", \"match\": {\"rule\": \"y\"}, " STEPS "}]",
		 2, "a second playbook named 'a' (the first: t.json:1)");
	load_bad("[]", 1, "1 to");
}
END_TEST

START_TEST(step_errors)
{
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"quarantine\": {}},\n {\"capture\": {}}]}",
		 2, "evidence first");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"capture\": {}},\n {\"release_after\": \"1h\"}]}",
		 3, "release_after without a quarantine");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"quarantine\": {}},\n {\"freeze\": {}}]}",
		 3, "'quarantine' and 'freeze'");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"capture\": {}},\n {\"capture\": {}}]}",
		 3, "a second 'capture'");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"notify\": {\n \"program\": \"bin/x\"}}]}",
		 3, "absolute path");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"notify\": {\"program\": \"/usr/../bin/sh\"}}]}",
		 2, "without '.' or '..'");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"notify\": {\"args\": []}}]}",
		 2, "notify needs a program");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"notify\": {\"program\": \"/bin/true\", \"timeout\": 301}}]}",
		 2, "timeout must be");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"notify\": {\"program\": \"/bin/true\", \"args\": [1]}}]}",
		 2, "an argument must be a string");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"capture\": {\n \"encrypt_to\": \"k\"}}]}",
		 3, "encrypt_to is not supported");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"capture\": {\"pcap_seconds\": 99999}}]}",
		 2, "pcap_seconds must be");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"capture\": {\"pcap_max_bytes\": \"lots\"}}]}",
		 2, "pcap_max_bytes must be");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"capture\": {\"sheep\": 1}}]}",
		 2, "unknown option 'sheep' of step 'capture'");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"quarantine\": {}},\n {\"release_after\": \"31d\"}]}",
		 3, "from 1 second to 30 days");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"kill\": {}}]}",
		 2, "unknown step 'kill'");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n {\"capture\": {}, \"quarantine\": {}}]}",
		 2, "one key");
	load_bad("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"steps\": []}", 1, "1 to 16 steps");
}
END_TEST

/* ---- matching ---- */

START_TEST(match_rules)
{
	struct pb_set *s = load_ok(
		"[{\"name\": \"exact\", \"match\": {\"source\": \"falco\", \"rule\": \"Terminal shell in container\"}, " STEPS "},\n"
		" {\"name\": \"glob\", \"match\": {\"rule_glob\": \"*[Mm]iner*\", \"priority\": [\">=Warning\", \"<=Error\"]}, " STEPS "},\n"
		" {\"name\": \"tags\", \"match\": {\"tags\": [\"T1059\", \"container\"]}, \"continue\": true, " STEPS "},\n"
		" {\"name\": \"fields\", \"match\": [{\"fields\": [\n"
		"    {\"field\": \"fd.sport\", \"op\": \">=\", \"value\": 4000},\n"
		"    {\"field\": \"fd.sport\", \"op\": \"<\", \"value\": 5000},\n"
		"    {\"field\": \"proc.name\", \"op\": \"glob\", \"value\": [\"*sh\", \"nc\"]},\n"
		"    {\"field\": \"user.name\", \"op\": \"!=\", \"value\": \"root\"},\n"
		"    {\"field\": \"fd.rip\", \"op\": \"exists\", \"value\": true},\n"
		"    {\"field\": \"k8s.ns.name\", \"op\": \"exists\", \"value\": false}]},\n"
		"   {\"fields\": [{\"field\": \"proc.pid\", \"op\": \"=\", \"value\": \"4242\"}]}], " STEPS "},\n"
		" {\"name\": \"last\", \"match\": {\"priority\": \"Emergency\"}, " STEPS "}]");
	struct alert a;
	mk(&a, "falco", "Terminal shell in container", AP_NOTICE, NULL, NULL);
	ck_assert_str_eq(matched(s, &a), "exact");
	a.source = "tetragon";
	ck_assert_str_eq(matched(s, &a), "");
	unmk(&a);
	/* glob and a priority range; an unknown priority never matches one */
	mk(&a, "tracee", "Crypto Miner detected", AP_WARNING, NULL, NULL);
	ck_assert_str_eq(matched(s, &a), "glob");
	a.prio = AP_CRITICAL;
	ck_assert_str_eq(matched(s, &a), "");
	a.prio = AP_ERROR;
	ck_assert_str_eq(matched(s, &a), "glob");
	a.prio_known = false;
	ck_assert_str_eq(matched(s, &a), "");
	unmk(&a);
	/* tags: all of them; continue lets the next match too */
	mk(&a, "falco", "x", AP_NOTICE, NULL, "[\"container\", \"T1059\", \"shell\"]");
	ck_assert_str_eq(matched(s, &a), "tags");
	unmk(&a);
	mk(&a, "falco", "x", AP_EMERGENCY, NULL, "[\"container\", \"T1059\"]");
	ck_assert_str_eq(matched(s, &a), "tags last");
	size_t idx[1];
	ck_assert_uint_eq(pb_match(s, &a, idx, 1), 1); /* max honoured */
	unmk(&a);
	mk(&a, "falco", "x", AP_NOTICE, NULL, "[\"container\"]");
	ck_assert_str_eq(matched(s, &a), "");
	unmk(&a);
	/* fields: AND within a matcher */
	const char *f = "{\"fd.sport\": 4444, \"proc.name\": \"bash\", \"user.name\": \"www\", "
			"\"fd.rip\": \"10.0.0.1\", \"k8s.ns.name\": null}";
	mk(&a, "sysdig", "y", AP_INFORMATIONAL, f, NULL);
	ck_assert_str_eq(matched(s, &a), "fields");
	json_object_set_new(a.fields, "fd.sport", json_string("4999")); /* a number as a string */
	ck_assert_str_eq(matched(s, &a), "fields");
	json_object_set_new(a.fields, "fd.sport", json_integer(5000));
	ck_assert_str_eq(matched(s, &a), "");
	json_object_set_new(a.fields, "fd.sport", json_integer(4000));
	json_object_set_new(a.fields, "proc.name", json_string("nc"));
	ck_assert_str_eq(matched(s, &a), "fields");
	json_object_set_new(a.fields, "proc.name", json_string("python"));
	ck_assert_str_eq(matched(s, &a), "");
	json_object_set_new(a.fields, "proc.name", json_string("zsh"));
	json_object_set_new(a.fields, "user.name", json_string("root"));
	ck_assert_str_eq(matched(s, &a), "");
	json_object_del(a.fields, "user.name"); /* absent: '!=' fails too */
	ck_assert_str_eq(matched(s, &a), "");
	json_object_set_new(a.fields, "user.name", json_string("www"));
	json_object_set_new(a.fields, "k8s.ns.name", json_string("prod"));
	ck_assert_str_eq(matched(s, &a), "");
	json_object_set_new(a.fields, "k8s.ns.name", json_null());
	json_object_del(a.fields, "fd.rip");
	ck_assert_str_eq(matched(s, &a), "");
	unmk(&a);
	/* OR across matchers; the normalized pid answers proc.pid */
	mk(&a, "falco", "z", AP_NOTICE, NULL, NULL);
	ck_assert_str_eq(matched(s, &a), "");
	a.pid = 4242;
	ck_assert_str_eq(matched(s, &a), "fields");
	json_object_set_new(a.fields, "proc.pid", json_integer(4243)); /* the detector's field first */
	ck_assert_str_eq(matched(s, &a), "");
	unmk(&a);
	pb_set_free(s);
}
END_TEST

START_TEST(match_normalized_fields)
{
	struct pb_set *s = load_ok(
		"{\"name\": \"n\", \"match\": {\"fields\": [\n"
		" {\"field\": \"container.name\", \"op\": \"=\", \"value\": \"web\"},\n"
		" {\"field\": \"container.image.repository\", \"op\": \"glob\", \"value\": \"ngin?\"},\n"
		" {\"field\": \"container.id\", \"op\": \"glob\", \"value\": \"0123*\"}]}, " STEPS "}");
	struct alert a;
	mk(&a, "tetragon", "process_exec", AP_NOTICE, NULL, NULL);
	ck_assert_str_eq(matched(s, &a), "n");
	a.image = (char *)"redis";
	ck_assert_str_eq(matched(s, &a), "");
	a.image = (char *)"";
	ck_assert_str_eq(matched(s, &a), "");
	unmk(&a);
	pb_set_free(s);
}
END_TEST

/* the globs are matched by playbook.c's own matcher: the same answers as
 * fnmatch(pattern, text, 0) */
START_TEST(globs_as_fnmatch)
{
	static const char *const pats[] = {
		"*", "?", "a*", "*a", "*a*", "a?c", "[abc]", "[!abc]", "[^a]x", "[]a]", "[a-c]*",
		"[a-]", "*[Mm]iner*", "\\*", "a\\?b", "**a**b**", "*ab*ab*", "[\\]]x",
		"Terminal shell in container", "*shell*", "a[b-d]e*f?", "*.json", "x*y*z", "[z-a]"};
	static const char *const texts[] = {
		"", "a", "b", "ab", "abc", "aXc", "x", "]x", "-", "]", "*", "a?b", "aab", "ababab",
		"Crypto Miner detected", "miner", "Terminal shell in container", "bash shell",
		"abef1", "acexxfy", "a.json", "xyz", "xaybzc", "zyx", "\\", "\\x", "]]x", "a-"};
	for (size_t i = 0; i < ARRAY_SIZE(pats); i++) {
		json_t *pb = json_pack("{s:s,s:{s:s},s:[{s:{}}]}", "name", "g", "match", "rule_glob",
				       pats[i], "steps", "capture");
		char *text = json_dumps(pb, JSON_COMPACT);
		json_decref(pb);
		struct pb_set *s = load_ok(text);
		free(text);
		for (size_t k = 0; k < ARRAY_SIZE(texts); k++) {
			struct alert a;
			mk(&a, "falco", texts[k], AP_NOTICE, NULL, NULL);
			bool want = fnmatch(pats[i], texts[k], 0) == 0;
			ck_assert_msg((*matched(s, &a) != '\0') == want, "glob '%s' on '%s': want %d",
				      pats[i], texts[k], want);
			unmk(&a);
		}
		pb_set_free(s);
	}
	load_bad("{\"name\": \"a\", \"match\": {\"rule_glob\": \"[[:alpha:]]*\"}, " STEPS "}", 1,
		 "character class");
}
END_TEST

/* ---- the allow list ---- */

START_TEST(allow_list)
{
	const char *text = "{\"namespaces\": [\"kube-*\"], \"names\": [\"falco*\"],\n"
			   " \"images\": [\"registry.k8s.io/*\"], \"labels\": {\"contain.io/protect\": \"true\"}}";
	struct pb_set *s = NULL;
	json_t *errors = NULL;
	struct err e = {0};
	ck_assert_int_eq(pb_load_buf("allow.json", text, strlen(text), &s, &errors, &e), 0);
	json_decref(errors);
	struct alert a;
	mk(&a, "falco", "x", AP_NOTICE, NULL, NULL);
	const char *why = "unset";
	json_t *c = json_loads("{\"name\": \"web\", \"image\": \"nginx:1\", \"labels\": {}, "
			       "\"kubernetes\": null}", 0, NULL);
	ck_assert(!pb_allowed(s, &a, c, &why));
	ck_assert_ptr_null(why);
	json_object_set_new(c, "kubernetes", json_pack("{s:s,s:s}", "namespace", "kube-system",
						       "pod", "coredns-1"));
	ck_assert(pb_allowed(s, &a, c, &why));
	ck_assert_str_eq(why, "namespace 'kube-system' is on the allow list");
	json_object_set_new(c, "kubernetes", json_null());
	json_object_set_new(c, "labels", json_pack("{s:s}", "io.kubernetes.pod.namespace", "kube-public"));
	ck_assert(pb_allowed(s, &a, c, &why));
	json_object_set_new(c, "labels", json_pack("{s:s}", "contain.io/protect", "true"));
	ck_assert(pb_allowed(s, &a, c, &why));
	ck_assert_str_eq(why, "label contain.io/protect=true is on the allow list");
	json_object_set_new(c, "labels", json_pack("{s:s}", "contain.io/protect", "false"));
	ck_assert(!pb_allowed(s, &a, c, &why));
	json_object_set_new(c, "name", json_string("falco-node"));
	ck_assert(pb_allowed(s, &a, c, &why));
	json_object_set_new(c, "name", json_string("web"));
	json_object_set_new(c, "image", json_string("registry.k8s.io/pause:3.9"));
	ck_assert(pb_allowed(s, &a, c, &why));
	json_object_set_new(c, "image", json_string("nginx"));
	/* the alert's namespace counts only when the runtime knows none */
	a.ns = (char *)"kube-system";
	ck_assert(pb_allowed(s, &a, c, &why));
	json_object_set_new(c, "kubernetes", json_pack("{s:s}", "namespace", "prod"));
	ck_assert(!pb_allowed(s, &a, c, &why));
	json_decref(c);
	unmk(&a);
	json_t *d = pb_describe(s);
	ck_assert_str_eq(json_string_value(json_array_get(
				 json_object_get(json_object_get(d, "allow"), "namespaces"), 0)),
			 "kube-*");
	json_decref(d);
	pb_set_free(s);
	/* no allow list: nothing protected */
	s = load_ok("{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, " STEPS "}");
	mk(&a, "falco", "x", AP_NOTICE, NULL, NULL);
	c = json_pack("{s:s}", "name", "falco");
	ck_assert(!pb_allowed(s, &a, c, &why));
	json_decref(c);
	unmk(&a);
	pb_set_free(s);
	/* errors */
	const char *bad = "{\"namespaces\": [\"kube-system\"],\n \"pods\": []}";
	s = (void *)1;
	ck_assert_int_eq(pb_load_buf("allow.json", bad, strlen(bad), &s, &errors, &e), -1);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(errors, 0), "line")), 2);
	ck_assert_ptr_nonnull(strstr(e.msg, "unknown key 'pods' in the allow list"));
	json_decref(errors);
	bad = "{\"labels\": {\"a\": \"[x\"}}";
	ck_assert_int_eq(pb_load_buf("allow.json", bad, strlen(bad), &s, &errors, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "unclosed '['"));
	json_decref(errors);
}
END_TEST

/* ---- a directory: ownership, permissions, symlinks ---- */

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_int_eq(chmod(p, mode), 0);
}

static int load_dir(const char *dir, struct pb_set **s, char *first, size_t n)
{
	json_t *errors = NULL;
	struct err e = {0};
	int rc = pb_load_dir(dir, s, &errors, &e);
	snprintf(first, n, "%s", rc < 0 ? e.msg : "");
	json_decref(errors);
	return rc;
}

START_TEST(dir_checks)
{
	if (geteuid() != 0) {
		printf("# SKIP ownership checks need root\n");
		return;
	}
	char dir[128], m[2048], p[512];
	unit_tmpdir(dir, sizeof(dir), "pbdir");
	ck_assert_int_eq(chmod(dir, 0755), 0);
	struct pb_set *s = NULL;
	ck_assert_int_eq(load_dir(dir, &s, m, sizeof(m)), -1);
	ck_assert_ptr_nonnull(strstr(m, "no playbook"));
	put(dir, "b.json", "{\"name\": \"b\", \"match\": {\"rule\": \"x\"}, " STEPS "}", 0644);
	put(dir, "a.json", "{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, \"continue\": true, " STEPS "}", 0600);
	put(dir, "README.md", "not json", 0666);
	put(dir, ".hidden.json", "not json", 0666);
	put(dir, "allow.json", "{\"namespaces\": [\"kube-system\"]}", 0644);
	ck_assert_int_eq(load_dir(dir, &s, m, sizeof(m)), 0);
	ck_assert_uint_eq(s->n, 2);
	ck_assert_str_eq(s->v[0].name, "a"); /* file name order */
	snprintf(p, sizeof(p), "%s/a.json", dir);
	ck_assert_str_eq(s->v[0].file, p);
	ck_assert_ptr_nonnull(s->allow);
	ck_assert_uint_eq(json_array_size(s->sources), 3);
	pb_set_free(s);
	/* a group-writable file, a file of another owner, a symlink, a writable dir */
	snprintf(p, sizeof(p), "%s/b.json", dir);
	ck_assert_int_eq(chmod(p, 0664), 0);
	ck_assert_int_eq(load_dir(dir, &s, m, sizeof(m)), -1);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(m, "b.json: must be owned by root and not writable by group or others"), "%s", m);
	ck_assert_int_eq(chmod(p, 0644), 0);
	ck_assert_int_eq(chown(p, 65534, 0), 0);
	ck_assert_int_eq(load_dir(dir, &s, m, sizeof(m)), -1);
	ck_assert_ptr_nonnull(strstr(m, "must be owned by root"));
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(symlink("a.json", p), 0);
	ck_assert_int_eq(load_dir(dir, &s, m, sizeof(m)), -1);
	ck_assert_msg(strstr(m, "b.json: a symbolic link: refused"), "%s", m);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(chmod(dir, 0775), 0);
	ck_assert_int_eq(load_dir(dir, &s, m, sizeof(m)), -1);
	ck_assert_ptr_nonnull(strstr(m, "the directory must be owned by root"));
	ck_assert_int_eq(chmod(dir, 0755), 0);
	/* a notify program must exist, be root's and not writable by others */
	put(dir, "c.json", "{\"name\": \"c\", \"match\": {\"rule\": \"x\"}, \"steps\": [\n"
			   "{\"notify\": {\"program\": \"/nonexistent/notify\"}}]}", 0644);
	ck_assert_int_eq(load_dir(dir, &s, m, sizeof(m)), -1);
	ck_assert_msg(strstr(m, "c.json:2: program '/nonexistent/notify': No such file"), "%s", m);
	snprintf(p, sizeof(p), "%s/prog", dir);
	put(dir, "prog", "#!/bin/sh\n", 0777);
	char text[1024];
	snprintf(text, sizeof(text),
		 "{\"name\": \"c\", \"match\": {\"rule\": \"x\"}, \"steps\": [{\"notify\": {\"program\": \"%s\"}}]}", p);
	put(dir, "c.json", text, 0644);
	ck_assert_int_eq(load_dir(dir, &s, m, sizeof(m)), -1);
	ck_assert_ptr_nonnull(strstr(m, "not writable by group or others"));
	ck_assert_int_eq(chmod(p, 0755), 0);
	ck_assert_int_eq(load_dir(dir, &s, m, sizeof(m)), 0);
	pb_set_free(s);
	/* the dir itself a symlink */
	snprintf(p, sizeof(p), "%s.link", dir);
	ck_assert_int_eq(symlink(dir, p), 0);
	ck_assert_int_eq(load_dir(p, &s, m, sizeof(m)), -1);
	unlink(p);
	unit_tmpdir_remove(dir);
}
END_TEST

/* ---- the shipped playbooks (playbooks/), each matched by an alert of its kind ---- */

struct shipped_case {
	const char *want;
	const char *source, *rule;
	int prio;
	const char *fields;
};

static const struct shipped_case shipped_cases[] = {
	{"terminal-shell", "falco", "Terminal shell in container", AP_NOTICE,
	 "{\"proc.name\": \"bash\", \"proc.tty\": 34816}"},
	{"terminal-shell", "falcosidekick", "Terminal shell in container", AP_NOTICE, NULL},
	{"drift", "falco", "Drop and execute new binary in container", AP_CRITICAL, NULL},
	{"drift", "tracee", "dropped_executable", AP_WARNING, NULL},
	{"crypto-mining", "falco", "Detect crypto miners using the Stratum protocol", AP_CRITICAL, NULL},
	{"crypto-mining", "tetragon", "process_exec", AP_NOTICE, "{\"proc.name\": \"xmrig\"}"},
	{"reverse-shell", "falco", "Redirect STDOUT/STDIN to Network Connection in Container",
	 AP_NOTICE, NULL},
	{"reverse-shell", "falco", "Unexpected outbound connection destination", AP_NOTICE,
	 "{\"fd.sport\": 4444}"},
	{"sensitive-file", "falco", "Read sensitive file untrusted", AP_WARNING,
	 "{\"fd.name\": \"/etc/shadow\"}"},
	{"sensitive-file", "tetragon", "process_kprobe", AP_NOTICE,
	 "{\"fd.name\": \"/var/run/secrets/kubernetes.io/serviceaccount/token\", \"proc.name\": \"cat\"}"},
	{"container-escape", "falco", "Detect release_agent File Container Escapes", AP_CRITICAL, NULL},
	{"container-escape", "tracee", "cgroup_release_agent", AP_CRITICAL, NULL},
	{"critical-catch-all", "falco", "Some rule nobody wrote a playbook for", AP_CRITICAL, NULL},
	{"critical-catch-all", "tracee", "anti_debugging", AP_EMERGENCY, NULL},
	{"", "falco", "Some rule nobody wrote a playbook for", AP_ERROR, NULL},
	{"", "tetragon", "process_kprobe", AP_NOTICE,
	 "{\"fd.name\": \"/var/run/secrets/kubernetes.io/serviceaccount/token\", \"proc.name\": \"kubelet\"}"},
};

START_TEST(shipped)
{
	if (geteuid() != 0) {
		printf("# SKIP the playbooks dir must be root's: needs root\n");
		return;
	}
	const char *top = getenv("CONTAIN_TOP");
	char src[512], dir[128], m[2048];
	snprintf(src, sizeof(src), "%s/playbooks", top ? top : ".");
	/* a copy: the checkout's modes are the umask's, the installed ones are 0644 */
	unit_tmpdir(dir, sizeof(dir), "pbship");
	ck_assert_int_eq(chmod(dir, 0755), 0);
	DIR *d = opendir(src);
	ck_assert_ptr_nonnull(d);
	struct dirent *de;
	unsigned files = 0;
	while ((de = readdir(d))) {
		if (!str_has_suffix(de->d_name, ".json"))
			continue;
		char p[1024], *buf = NULL;
		size_t n;
		struct err e = {0};
		snprintf(p, sizeof(p), "%s/%s", src, de->d_name);
		ck_assert_int_eq(read_file_at(AT_FDCWD, p, 1 << 20, &buf, &n, NULL, &e), 0);
		put(dir, de->d_name, buf, 0644);
		free(buf);
		files++;
	}
	closedir(d);
	ck_assert_uint_ge(files, 8);
	struct pb_set *s = NULL;
	ck_assert_msg(load_dir(dir, &s, m, sizeof(m)) == 0, "%s", m);
	ck_assert_uint_eq(s->n, 7);
	/* each shipped playbook is matched by at least one case */
	for (size_t i = 0; i < s->n; i++) {
		bool hit = false;
		for (size_t k = 0; k < ARRAY_SIZE(shipped_cases); k++)
			hit |= strcmp(shipped_cases[k].want, s->v[i].name) == 0;
		ck_assert_msg(hit, "no case for shipped playbook '%s'", s->v[i].name);
	}
	for (size_t k = 0; k < ARRAY_SIZE(shipped_cases); k++) {
		const struct shipped_case *c = &shipped_cases[k];
		struct alert a;
		mk(&a, c->source, c->rule, c->prio, c->fields, NULL);
		ck_assert_msg(strcmp(matched(s, &a), c->want) == 0, "case %zu (%s): got '%s'", k,
			      c->rule, matched(s, &a));
		unmk(&a);
	}
	/* the shipped allow list: kube-system and contain.io/protect=true */
	struct alert a;
	mk(&a, "falco", "x", AP_NOTICE, NULL, NULL);
	json_t *c = json_pack("{s:s,s:{s:s},s:n}", "name", "web", "labels", "contain.io/protect",
			      "true", "kubernetes");
	ck_assert(pb_allowed(s, &a, c, NULL));
	json_decref(c);
	c = json_pack("{s:s,s:{},s:{s:s}}", "name", "web", "labels", "kubernetes", "namespace",
		      "kube-system");
	ck_assert(pb_allowed(s, &a, c, NULL));
	json_decref(c);
	c = json_pack("{s:s,s:{},s:{s:s}}", "name", "web", "labels", "kubernetes", "namespace",
		      "default");
	ck_assert(!pb_allowed(s, &a, c, NULL));
	json_decref(c);
	unmk(&a);
	pb_set_free(s);
	unit_tmpdir_remove(dir);
}
END_TEST

/* the published alerts of r-alerts' fixtures/alerts/ through alert_parse */
static const struct {
	const char *file, *want;
} fixture_cases[] = {
	{"falco/terminal-shell.json", "terminal-shell"},
	{"falco/terminal-shell-null-image.json", "terminal-shell"},
	{"falcosidekick/forwarded-uuid.json", "terminal-shell"},
	{"tracee/flat-new-executable-dropped.json", "drift"},
	{"tracee/v1beta1-detection.json", "sensitive-file"},
	{"tetragon/kprobe-filename-access.json", "sensitive-file"},
	{"tetragon/kprobe-write-passwd.json", "sensitive-file"},
	{"tetragon/exec-nsenter-privileged.json", "container-escape"},
	{"sysdig/policy-event.json", "critical-catch-all"},
	{"falco/k8s-api-from-container.json", ""},
	{"falco/falcosidekick-test-input.json", ""},
	{"tetragon/exec-tiefighter.json", ""},
	{"tracee/flat-net-packet-http.json", ""},
};

START_TEST(shipped_fixtures)
{
	if (geteuid() != 0) {
		printf("# SKIP the playbooks dir must be root's: needs root\n");
		return;
	}
	const char *top = getenv("CONTAIN_TOP");
	char p[1024], m[2048];
	snprintf(p, sizeof(p), "%s/playbooks", top ? top : ".");
	struct stat st;
	ck_assert_int_eq(stat(p, &st), 0);
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		printf("# SKIP the checkout's playbooks/ is group or other writable (umask)\n");
		return;
	}
	struct pb_set *s = NULL;
	ck_assert_msg(load_dir(p, &s, m, sizeof(m)) == 0, "%s", m);
	for (size_t k = 0; k < ARRAY_SIZE(fixture_cases); k++) {
		snprintf(p, sizeof(p), "%s/fixtures/alerts/%s", top ? top : ".", fixture_cases[k].file);
		char *buf = NULL;
		size_t n;
		struct err e = {0};
		ck_assert_msg(read_file_at(AT_FDCWD, p, ALERT_LINE_MAX, &buf, &n, NULL, &e) == 0, "%s",
			      e.msg);
		struct alert a;
		memset(&a, 0, sizeof(a));
		ck_assert_msg(alert_parse(buf, n, &a, &e) == 0, "%s: %s", p, e.msg);
		ck_assert_msg(strcmp(matched(s, &a), fixture_cases[k].want) == 0,
			      "%s (rule '%s'): got '%s', want '%s'", fixture_cases[k].file, a.rule,
			      matched(s, &a), fixture_cases[k].want);
		alert_free(&a);
		free(buf);
	}
	pb_set_free(s);
}
END_TEST

/* ---- hostile input: bounded, never a crash ---- */

START_TEST(hostile)
{
	struct pb_set *s;
	json_t *errors;
	struct err e;
	/* deep nesting, a huge buffer, NUL bytes, not UTF-8 */
	size_t n = 200000;
	char *deep = malloc(n * 2 + 1);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	ck_assert_int_eq(pb_load_buf("t.json", deep, 2 * n, &s, &errors, &e), -1);
	json_decref(errors);
	free(deep);
	char *big = calloc(1, PB_FILE_MAX + 2);
	memset(big, ' ', PB_FILE_MAX + 1);
	ck_assert_int_eq(pb_load_buf("t.json", big, PB_FILE_MAX + 1, &s, &errors, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "larger than 1 MiB"));
	json_decref(errors);
	free(big);
	const char nul[] = "{\"name\": \"a\\u0000\"}";
	ck_assert_int_eq(pb_load_buf("t.json", nul, sizeof(nul) - 1, &s, &errors, &e), -1);
	json_decref(errors);
	ck_assert_int_eq(pb_load_buf("t.json", "\xff", 1, &s, NULL, &e), -1);
	ck_assert_int_eq(pb_load_buf("t.json", NULL, 0, &s, NULL, &e), -1);
	/* many errors: bounded */
	struct sbuf b = SBUF_INIT;
	sbuf_adds(&b, "{\"name\": \"a\", \"match\": {\"rule\": \"x\"}, " STEPS);
	for (int i = 0; i < 500; i++)
		sbuf_printf(&b, ", \"k%d\": 1", i);
	sbuf_adds(&b, "}");
	ck_assert_int_eq(pb_load_buf("t.json", b.buf, b.len, &s, &errors, &e), -1);
	ck_assert_uint_eq(json_array_size(errors), 101);
	json_decref(errors);
	sbuf_free(&b);
	/* pb_match on NULLs */
	size_t idx[1];
	ck_assert_uint_eq(pb_match(NULL, NULL, idx, 1), 0);
}
END_TEST

/* ---- the intake's first look: alert_peek + pb_may_match against the full path ---- */

struct peek_sets {
	struct pb_set *v[16];
	size_t n;
};

static void peek_set_add(struct peek_sets *ps, const char *name, const char *buf, size_t n)
{
	json_t *errors = NULL;
	struct err e = {0};
	ck_assert_uint_lt(ps->n, ARRAY_SIZE(ps->v));
	ck_assert_msg(pb_load_buf(name, buf, n, &ps->v[ps->n], &errors, &e) == 0, "%s: %s", name,
		      e.msg);
	json_decref(errors);
	ps->n++;
}

/* one document through both paths: the peek refuses only what alert_parse
 * refuses, with its message; knows only what the alert says; and
 * pb_may_match never says no where pb_match finds a playbook. Returns how
 * many sets the peek filtered out. */
static size_t peek_check(const struct peek_sets *ps, const char *what, const char *buf, size_t n)
{
	static struct alert_peek pk;
	struct alert a;
	struct err pe = {0}, e = {0};
	static struct alert_scan *sc;
	if (!sc)
		sc = alert_scan_new();
	pk.keep = sc;
	int pr = alert_peek(buf, n, &pk, &pe);
	int r = alert_parse(buf, n, &a, &e);
	size_t filtered = 0;
	/* the parse from the kept scan is the parse */
	struct alert b;
	struct err be = {0};
	int br = alert_parse_scanned(sc, buf, n, &b, &be);
	ck_assert_int_eq(br, r);
	if (r == 0)
		ck_assert_str_eq(b.key, a.key);
	else
		ck_assert_str_eq(be.msg, e.msg);
	alert_free(&b);
	if (pr < 0) {
		ck_assert_msg(r < 0, "%s: the peek refused what alert_parse takes (%s)", what, pe.msg);
		ck_assert_str_eq(pe.msg, e.msg);
	} else if (r == 0) {
		ck_assert_str_eq(pk.source, a.source);
		if (pk.rule_known)
			ck_assert_str_eq(pk.rule, a.rule);
		if (pk.prio_sure) {
			ck_assert_msg(pk.prio_known == a.prio_known, "%s: priority known", what);
			if (pk.prio_known)
				ck_assert_int_eq(pk.prio, a.prio);
		}
		for (size_t i = 0; i < ps->n; i++) {
			size_t idx[16];
			bool may = pb_may_match(ps->v[i], &pk);
			ck_assert_msg(may || !pb_match(ps->v[i], &a, idx, ARRAY_SIZE(idx)),
				      "%s: pb_may_match said no, pb_match matched (set %zu)", what,
				      i);
			filtered += !may;
		}
	}
	alert_free(&a);
	return filtered;
}

/* every file of dir (top-relative) through peek_check; how many were */
static size_t peek_dir(const struct peek_sets *ps, const char *sub, size_t *filtered)
{
	const char *top = getenv("CONTAIN_TOP");
	char d[1024], p[2048];
	snprintf(d, sizeof(d), "%s/%s", top ? top : ".", sub);
	DIR *dir = opendir(d);
	ck_assert_msg(dir != NULL, "opendir '%s'", d);
	size_t k = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || de->d_type != DT_REG)
			continue;
		snprintf(p, sizeof(p), "%s/%s", d, de->d_name);
		char *buf = NULL;
		size_t n;
		struct err e = {0};
		ck_assert_msg(read_file_at(AT_FDCWD, p, 2 * ALERT_LINE_MAX, &buf, &n, NULL, &e) == 0,
			      "%s", e.msg);
		*filtered += peek_check(ps, p, buf, n);
		/* and its variants: a rule, a priority, a source of another kind */
		static const char *const subs[][2] = {
		    {"\"priority\":\"", "\"priority\":\"Crit"},
		    {"\"rule\":\"", "\"rule\":\"Terminal shell in container"},
		    {"\"rule\": \"", "\"rule\": \"\\u0054erminal shell in container\", \"x\": \""},
		    {"\"priority\": \"", "\"priority\": \"Critical\", \"y\": \""},
		    {"\"output_fields\"", "\"uuid\":\"u\",\"output_fields\""},
		};
		for (size_t j = 0; j < ARRAY_SIZE(subs); j++) {
			const char *at = memmem(buf, n, subs[j][0], strlen(subs[j][0]));
			if (!at)
				continue;
			struct sbuf b = SBUF_INIT;
			sbuf_add(&b, buf, (size_t)(at - buf));
			sbuf_adds(&b, subs[j][1]);
			size_t skip = (size_t)(at - buf) + strlen(subs[j][0]);
			sbuf_add(&b, buf + skip, n - skip);
			*filtered += peek_check(ps, p, b.buf, b.len);
			sbuf_free(&b);
		}
		free(buf);
		k++;
	}
	closedir(dir);
	return k;
}

START_TEST(peek_conservative)
{
	struct peek_sets ps = {0};
	/* the shipped playbooks, one set each (read as buffers: no ownership check) */
	static const char *const shipped_files[] = {
	    "10-terminal-shell.json", "20-drift.json",	       "30-crypto-mining.json",
	    "40-reverse-shell.json",  "50-sensitive-file.json", "60-container-escape.json",
	    "90-critical-catch-all.json"};
	const char *top = getenv("CONTAIN_TOP");
	char p[1024];
	for (size_t i = 0; i < ARRAY_SIZE(shipped_files); i++) {
		snprintf(p, sizeof(p), "%s/playbooks/%s", top ? top : ".", shipped_files[i]);
		char *buf = NULL;
		size_t n;
		struct err e = {0};
		ck_assert_msg(read_file_at(AT_FDCWD, p, PB_FILE_MAX, &buf, &n, NULL, &e) == 0, "%s",
			      e.msg);
		peek_set_add(&ps, shipped_files[i], buf, n);
		free(buf);
	}
	/* the bench's, and matchers of every kind the peek looks at */
	static const char *const sets[] = {
	    "{\"name\": \"b\", \"match\": {\"source\": \"falco\", \"rule\": \"Terminal shell in container\"}, " STEPS "}",
	    "{\"name\": \"g\", \"match\": {\"rule_glob\": [\"*[Ss]hell*\", \"Read*\"], \"priority\": [\">=Warning\", \"<=Critical\"]}, " STEPS "}",
	    "{\"name\": \"p\", \"match\": {\"priority\": \">=Error\"}, " STEPS "}",
	    "{\"name\": \"s\", \"match\": {\"source\": [\"tetragon\", \"tracee\", \"sysdig\"], \"priority\": \"Emergency\"}, " STEPS "}",
	    "{\"name\": \"t\", \"match\": [{\"rule\": \"\"}, {\"source\": \"falcosidekick\", \"tags\": [\"T1059\"]}], " STEPS "}",
	    "{\"name\": \"f\", \"match\": {\"fields\": [{\"field\": \"proc.name\", \"op\": \"glob\", \"value\": \"*sh\"}]}, " STEPS "}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		peek_set_add(&ps, "t.json", sets[i], strlen(sets[i]));
	size_t filtered = 0, files = 0;
	static const char *const dirs[] = {"fixtures/alerts/falco",	"fixtures/alerts/falcosidekick",
					   "fixtures/alerts/tetragon", "fixtures/alerts/tracee",
					   "fixtures/alerts/sysdig",   "tests/fuzz/corpus/alert"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		files += peek_dir(&ps, dirs[i], &filtered);
	ck_assert_uint_ge(files, 40);
	/* and it does filter: most (input, set) pairs need no parse */
	ck_assert_msg(filtered > files * 2, "only %zu filtered of %zu inputs", filtered, files);
	for (size_t i = 0; i < ps.n; i++)
		pb_set_free(ps.v[i]);
	/* no set: nothing may match (pb_match of NULL is 0) */
	static struct alert_peek pk;
	struct err e = {0};
	ck_assert_int_eq(alert_peek("{\"rule\":\"r\",\"output_fields\":{}}", 31, &pk, &e), 0);
	ck_assert(!pb_may_match(NULL, &pk));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("playbook");
	TCase *t = tcase_create("playbook");
	tcase_add_test(t, parse_full);
	tcase_add_test(t, errors_with_lines);
	tcase_add_test(t, step_errors);
	tcase_add_test(t, match_rules);
	tcase_add_test(t, match_normalized_fields);
	tcase_add_test(t, globs_as_fnmatch);
	tcase_add_test(t, allow_list);
	tcase_add_test(t, dir_checks);
	tcase_add_test(t, shipped);
	tcase_add_test(t, shipped_fixtures);
	tcase_add_test(t, hostile);
	tcase_add_test(t, peek_conservative);
	suite_add_tcase(s, t);
	return s;
}
