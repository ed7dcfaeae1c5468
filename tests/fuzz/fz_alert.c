/* fz_alert: the alert normalizer (alert_parse) on hostile bytes, checked
 * against jansson: what alert_parse accepts jansson parses to the same
 * object (alert_raw), and a JSON object jansson takes within the depth bound
 * is never refused as "not JSON" (but for a NUL byte, which jansson skips
 * after a number and the scanner refuses). An accepted alert keeps its bounds: every
 * string present, UTF-8 and at most ALERT_STR_MAX bytes, at most
 * ALERT_FIELDS_MAX fields and ALERT_TAGS_MAX tags, a container id that is ""
 * or 12 to 64 lowercase hex digits (host exactly when ""), a 64-hex key.
 * The input is also split as an array of alerts (alert_split): each range
 * inside the input, each a JSON value.
 * The intake's first look (alert_peek, pb_may_match) is checked against
 * the full path: a document the peek refuses is refused by alert_parse with
 * the same message; one alert_parse takes, the peek takes with the same
 * source, and the rule and priority it says it knows are the alert's; and
 * pb_may_match is never false where pb_match finds a playbook (on a set of
 * matchers on source, rules, globs, priorities, tags and fields); and
 * alert_parse_scanned from the peek's kept scan gives what alert_parse does.
 * Verdicts (fz.h): alert (alert_parse returned 0), split (alert_split
 * returned 0), peek (alert_peek returned 0). */
#include <string.h>

#include "contain/respond.h"
#include "fz.h"

static size_t depth(const json_t *j)
{
	size_t d = 0, k;
	const char *key;
	json_t *v;
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, key, v) if ((k = depth(v)) > d) d = k;
		return d + 1;
	}
	if (json_is_array(j)) {
		json_array_foreach(j, k, v)
		{
			size_t dv = depth(v);
			if (dv > d)
				d = dv;
		}
		return d + 1;
	}
	return 0;
}

static void check_str(const char *s)
{
	if (!s || strlen(s) > ALERT_STR_MAX || !utf8_valid(s, strlen(s)))
		abort();
}

static void check(struct alert *a)
{
	check_str(a->rule);
	check_str(a->time);
	check_str(a->container_name);
	check_str(a->image);
	check_str(a->pod);
	check_str(a->ns);
	if (!a->source || !json_is_array(a->tags) || !json_is_object(a->fields) ||
	    !json_is_array(a->notes))
		abort();
	if (json_array_size(a->tags) > ALERT_TAGS_MAX ||
	    json_object_size(a->fields) > ALERT_FIELDS_MAX)
		abort();
	size_t l = strlen(a->container_id);
	if (a->host != (l == 0) || (l && (l < 12 || l > 64)))
		abort();
	for (size_t i = 0; i < l; i++)
		if (!strchr("0123456789abcdef", a->container_id[i]))
			abort();
	if (strlen(alert_key(a)) != 64 || !is_hex_string(a->key))
		abort();
	json_t *j = alert_to_json(a);
	char *s = j ? json_dumps(j, 0) : NULL;
	if (!s)
		abort(); /* an alert that does not serialize: a bug */
	free(s);
	json_decref(j);
}

#define STEPS "\"steps\": [{\"capture\": {}}]"
static const char *const peek_sets[] = {
    "[{\"name\": \"a\", \"match\": {\"source\": \"falco\", \"rule\": \"Terminal shell in "
    "container\"}, " STEPS "}]",
    "[{\"name\": \"a\", \"match\": {\"rule_glob\": [\"*[Ss]hell*\", \"?\"], \"priority\": "
    "[\">=Warning\", \"<=Critical\"]}, " STEPS "}]",
    "[{\"name\": \"a\", \"match\": {\"priority\": \">=Error\"}, " STEPS "}]",
    "[{\"name\": \"a\", \"match\": {\"source\": [\"tetragon\", \"sysdig\"]}, " STEPS "}]",
    "[{\"name\": \"a\", \"match\": [{\"rule\": [\"\", \"x\"]}, {\"tags\": [\"T1059\"]}], " STEPS "}]",
    "[{\"name\": \"a\", \"match\": {\"source\": \"falcosidekick\", \"fields\": [{\"field\": "
    "\"proc.name\", \"op\": \"glob\", \"value\": \"*sh\"}]}, " STEPS "}]",
};

static void check_peek(const uint8_t *data, size_t size, int r, struct alert *a,
		       const struct err *pe)
{
	static struct pb_set *sets[ARRAY_SIZE(peek_sets)];
	static bool loaded;
	if (!loaded) {
		for (size_t i = 0; i < ARRAY_SIZE(peek_sets); i++) {
			json_t *errors = NULL;
			struct err e = {0};
			if (pb_load_buf("peek.json", peek_sets[i], strlen(peek_sets[i]), &sets[i],
					&errors, &e) < 0)
				abort(); /* the harness's own playbooks */
			json_decref(errors);
		}
		loaded = true;
	}
	static struct alert_peek pk;
	static struct alert_scan *sc;
	if (!sc)
		sc = alert_scan_new();
	pk.keep = sc;
	struct err e = {0};
	int pr = alert_peek((const char *)data, size, &pk, &e);
	fz_verdict("peek", pr == 0);
	/* the parse from the kept scan is the parse */
	struct alert b;
	struct err be = {0};
	int br = alert_parse_scanned(sc, (const char *)data, size, &b, &be);
	if (br != r || (r == 0 && strcmp(alert_key(&b), alert_key(a)) != 0) ||
	    (r < 0 && strcmp(be.msg, pe->msg) != 0))
		abort();
	alert_free(&b);
	if (pr < 0) {
		if (r == 0 || strcmp(e.msg, pe->msg) != 0)
			abort(); /* the peek refused what the parse takes, or said otherwise */
		return;
	}
	if (r < 0)
		return; /* refused past the shape: the peek does not look */
	if (!pk.source || strcmp(pk.source, a->source) != 0)
		abort();
	if (pk.rule_known && strcmp(pk.rule, a->rule) != 0)
		abort();
	if (pk.rule_known && pk.rule_len != strlen(pk.rule))
		abort();
	if (pk.prio_sure && (pk.prio_known != a->prio_known ||
			     (pk.prio_known && pk.prio != a->prio)))
		abort();
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		size_t idx[4];
		bool may = pb_may_match(sets[i], &pk);
		if (pb_match(sets[i], a, idx, ARRAY_SIZE(idx)) && !may)
			abort(); /* not conservative */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alert a;
	struct err e = {0};
	int r = alert_parse((const char *)data, size, &a, &e);
	fz_verdict("alert", r == 0);
	json_error_t je;
	json_t *j = json_loadb((const char *)data, size, 0, &je);
	check_peek(data, size, r, &a, &e);
	if (r == 0) {
		check(&a);
		/* the scanner took it: jansson does too, to the same document */
		if (!j || !json_equal(alert_raw(&a), j))
			abort();
	} else {
		if (a.rule || a.fields || a.text)
			abort(); /* refused: empty */
		if (!e.msg[0])
			abort(); /* refused without saying why */
		/* jansson took a JSON object within the bounds: not "not JSON"
		 * (but for jansson's one leniency, which the scanner refuses: a
		 * NUL byte right after a number is skipped, {"a":1\0} taken) */
		if (j && json_is_object(j) && depth(j) <= ALERT_DEPTH_MAX &&
		    size <= ALERT_LINE_MAX && !memchr(data, 0, size) &&
		    strncmp(e.msg, "not JSON", 8) == 0)
			abort();
	}
	json_decref(j);
	alert_free(&a);

	/* the input as an array of alerts: every range inside it, each one a
	 * JSON value alert_parse never calls "not JSON" */
	static struct alert_range v[ALERT_BATCH_MAX];
	size_t n = 0;
	r = alert_split((const char *)data, size, v, ARRAY_SIZE(v), &n, &e);
	fz_verdict("split", r == 0);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (v[i].off > size || v[i].len > size - v[i].off || !v[i].len)
			abort();
		err_clear(&e);
		if (alert_parse((const char *)data + v[i].off, v[i].len, &a, &e) < 0 &&
		    strncmp(e.msg, "not JSON", 8) == 0)
			abort();
		alert_free(&a);
	}
	return 0;
}
