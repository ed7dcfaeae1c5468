/* fz_playbook: the playbook loader on hostile bytes. The input is loaded as
 * a playbook file (pb_load_buf "fz.json") and as an allow list ("allow.json");
 * whatever loads is described (pb_describe, serialized), matched against a
 * few fixed alerts of every source (pb_match: indexes in range, the first
 * without "continue" ends the list) and asked about a fixed container
 * (pb_allowed). Every error must name a file and a line >= 0 and a message.
 * Verdicts (fz.h): playbook, allow (the load returned 0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contain/respond.h"
#include "fz.h"

static void check_errors(json_t *errors, int rc)
{
	if (rc < 0 && !json_array_size(errors))
		abort(); /* a refusal says why */
	size_t i;
	json_t *x;
	json_array_foreach(errors, i, x)
	{
		if (!json_is_string(json_object_get(x, "file")) ||
		    !json_is_integer(json_object_get(x, "line")) ||
		    json_integer_value(json_object_get(x, "line")) < 0 ||
		    !json_string_length(json_object_get(x, "message")))
			abort();
	}
	json_decref(errors);
}

static void exercise(const struct pb_set *s)
{
	static const char *const sources[] = {"falco", "falcosidekick", "tetragon", "tracee",
					      "sysdig", "other"};
	static const char *const rules[] = {"Terminal shell in container", "x", "", "*"};
	json_t *d = pb_describe(s);
	if (!d)
		abort();
	free(json_dumps(d, JSON_COMPACT));
	json_decref(d);
	json_t *fields = json_pack("{s:s,s:i,s:s,s:n,s:f,s:b}", "proc.name", "bash", "fd.sport",
				   4444, "fd.name", "/etc/shadow", "k8s.ns.name", "proc.pid", 1.5,
				   "evt.failed", 0);
	json_t *tags = json_pack("[s,s]", "container", "T1059");
	for (size_t k = 0; k < 6 * 4 * 9; k++) {
		struct alert a = {0};
		a.source = sources[k % 6];
		a.rule = (char *)rules[(k / 6) % 4];
		a.prio = (enum alert_prio)((k / 24) % 8);
		a.prio_known = k % 9 != 8;
		a.container_id = (char *)"0123456789ab";
		a.container_name = a.image = a.pod = a.ns = (char *)"";
		a.pid = (long long)k;
		a.fields = fields;
		a.tags = tags;
		size_t idx[4];
		size_t n = pb_match(s, &a, idx, 4);
		if (n > 4)
			abort();
		for (size_t i = 0; i < n; i++)
			if (idx[i] >= s->n || (i + 1 < n && !s->v[idx[i]].cont) ||
			    (i && idx[i] <= idx[i - 1]))
				abort();
	}
	json_t *c = json_pack("{s:s,s:s,s:{s:s},s:{s:s,s:s}}", "name", "web", "image", "nginx",
			      "labels", "contain.io/protect", "true", "kubernetes", "namespace",
			      "kube-system", "pod", "web-1");
	const char *why = NULL;
	struct alert a = {0};
	if (pb_allowed(s, &a, c, &why) && !why)
		abort();
	json_decref(c);
	json_decref(fields);
	json_decref(tags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"fz.json", "allow.json"};
	static const char *const kinds[] = {"playbook", "allow"};
	for (size_t i = 0; i < 2; i++) {
		struct pb_set *s = NULL;
		json_t *errors = NULL;
		struct err e = {0};
		int rc = pb_load_buf(names[i], (const char *)data, size, &s, &errors, &e);
		fz_verdict(kinds[i], rc == 0);
		check_errors(errors, rc);
		if (rc == 0) {
			if (!s)
				abort();
			exercise(s);
			pb_set_free(s);
		} else if (s || !e.msg[0]) {
			abort();
		}
	}
	return 0;
}
