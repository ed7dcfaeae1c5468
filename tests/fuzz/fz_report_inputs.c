/* fz_report_inputs: the bag's members as hostile input to the report's
 * assembly (analyze_bag_sections, then the findings over it and the JSON
 * and HTML writers). The input is every member at once: tree.json,
 * files.json, image.json, inspect.json, state.json, quarantine.json,
 * index.json, custody.jsonl, bag-info.txt, and the etc/passwd kept on both
 * sides. Verdicts (fz.h):
 *   json    the input parsed as a JSON member (abag_set_member)
 *   inputs  the report was assembled: every section there with its type,
 *           and it serializes (json_dumps) */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/analyze.h"
#include "fz.h"

static const char *const json_members[] = {
    "data/processes/tree.json",
    "data/fs/files.json",
    "data/container/image.json",
    "data/container/inspect.json",
    "data/network/state.json",
    "data/quarantine.json",
    "index.json",
};

static bool sections_ok(const json_t *r)
{
	static const struct {
		const char *key;
		json_type type;
	} want[] = {
	    {"bag", JSON_OBJECT},      {"container", JSON_OBJECT}, {"processes", JSON_ARRAY},
	    {"network", JSON_OBJECT},  {"quarantine", JSON_ARRAY}, {"custody", JSON_ARRAY},
	    {"analyses", JSON_OBJECT}, {"notes", JSON_ARRAY},	   {"findings", JSON_ARRAY},
	    {"summary", JSON_OBJECT},
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		json_t *v = json_object_get(r, want[i].key);
		if (!v || json_typeof(v) != want[i].type)
			return false;
	}
	char *s = json_dumps(r, 0);
	bool ok = s != NULL;
	free(s);
	return ok;
}

/* the report written as the verb writes it; the files go again at once */
static void write_reports(const json_t *r)
{
	char dir[] = "/tmp/fz_report_inputs.XXXXXX";
	if (!mkdtemp(dir))
		return;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		struct err e = {0};
		if (report_write_json(r, dfd, "report.json", &e) == 0)
			unlinkat(dfd, "report.json", 0);
		if (report_write_html(r, dfd, "report.html", &e) == 0)
			unlinkat(dfd, "report.html", 0);
		close(dfd);
	}
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct abag *b = abag_new();
	b->path = xstrdup("fuzz");
	b->verified = true;
	bool parsed = false;
	for (size_t i = 0; i < ARRAY_SIZE(json_members); i++)
		parsed = abag_set_member(b, json_members[i], buf, size) || parsed;
	fz_verdict("json", parsed);
	abag_set_member(b, "custody.jsonl", buf, size);
	abag_set_member(b, "bag-info.txt", buf, size);

	/* the input as etc/passwd, kept on both sides */
	struct aidx *kept = aidx_new();
	struct aidx_entry ent = {.type = AENT_FILE, .mode = 0644, .size = size};
	aidx_id id;
	struct err e = {0};
	if (aidx_set(kept, "etc/passwd", &ent, &id, &e) == 0)
		(void)aidx_keep(kept, id, buf, size < AN_KEEP_MAX ? size : AN_KEEP_MAX,
				size > AN_KEEP_MAX, &e);

	json_t *r = json_object();
	json_object_set_new(r, "schema_version", json_integer(REPORT_SCHEMA_VERSION));
	json_object_set_new(r, "image", json_object());
	json_object_set_new(r, "diff",
			    json_pack("{s:[],s:[],s:[],s:[],s:[],s:[],s:{}}", "added", "modified",
				      "metadata", "deleted", "opaque", "notes", "stats"));
	json_object_set_new(r, "findings", json_array());
	analyze_bag_sections(r, b, kept, kept);
	findings_rules(r, kept, kept);
	findings_finish(r);
	fz_verdict("inputs", sections_ok(r));
	write_reports(r);

	json_decref(r);
	aidx_free(kept);
	abag_free(b);
	return 0;
}
