/* fz_pkgdb: the package database reader and the finding rules on hostile
 * bytes. The input is read as a dpkg status and as an apk installed
 * database (pkgdb_parse), kept as the layer's copy of every kept text file
 * (passwd, shadow, group, sudoers, ld.so.preload, authorized_keys, the
 * package databases) against a small fixed image, and parsed as a report
 * whose rules run against the same two indexes. Verdicts (fz.h): dpkg, apk
 * (pkgdb_parse returned packages), report (the input is a JSON object and
 * the rules ran; the result serializes). */
#include <string.h>

#include "contain/analyze.h"
#include "fz.h"

static const char *const kept_paths[] = {
    "etc/passwd",	   "etc/shadow",	   "etc/group",
    "etc/gshadow",	   "etc/sudoers",	   "etc/ld.so.preload",
    "etc/crontab",	   "etc/ssh/sshd_config",  "root/.ssh/authorized_keys",
    "var/lib/dpkg/status", "lib/apk/db/installed",
};

static const char *const image_content[] = {
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\n",
    "root:*:19000:0:99999:7:::\n",
    "root:x:0:\nsudo:x:27:\n",
    "root:::\n",
    "root ALL=(ALL) ALL\n",
    "",
    "# crontab\n",
    "PermitRootLogin no\n",
    "ssh-ed25519 AAAA admin\n",
    "Package: libc6\nStatus: install ok installed\nVersion: 2.36\n\n",
    "P:musl\nV:1.2.4\n\n",
};

static void must(int rc)
{
	if (rc != 0)
		abort(); /* the fixed image must build */
}

static aidx_id put(struct aidx *x, const char *path, enum aent_type t, const char *link)
{
	struct aidx_entry a = {0};
	a.type = t;
	a.mode = t == AENT_DIR ? 0755 : 0755;
	a.has_sha256 = t == AENT_FILE;
	memset(a.sha256, 0xaa, sizeof(a.sha256));
	a.link_target = link;
	struct err e = {0};
	aidx_id id = AIDX_NONE;
	must(aidx_set(x, path, &a, &id, &e));
	return id;
}

static json_t *fixed_report(void)
{
	json_t *r =
	    json_pack("{s:{s:[],s:[],s:[],s:[],s:[]},s:[],s:{s:s}}", "diff", "added", "modified",
		      "metadata", "deleted", "opaque", "processes", "image", "match", "mismatch");
	json_t *mod = json_object_get(json_object_get(r, "diff"), "modified");
	for (size_t i = 0; i < sizeof(kept_paths) / sizeof(kept_paths[0]); i++)
		json_array_append_new(mod, json_pack("{s:s,s:s,s:s}", "path", kept_paths[i], "type",
						     "file", "mode", "0644"));
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *note = NULL;
	json_t *p = pkgdb_parse("var/lib/dpkg/status", data, size, &note);
	fz_verdict("dpkg", p != NULL);
	json_decref(p);
	free(note);
	p = pkgdb_parse("lib/apk/db/installed", data, size, &note);
	fz_verdict("apk", p != NULL);
	json_decref(p);
	free(note);
	p = pkgdb_parse("var/lib/rpm/Packages", data, size, &note);
	json_decref(p);
	free(note);

	/* the image: a merged /usr, a few binaries, kept files; the layer: the input */
	struct aidx *img = aidx_new(), *bag = aidx_new();
	put(img, "usr/bin/sh", AENT_FILE, NULL);
	put(img, "bin", AENT_SYMLINK, "usr/bin");
	put(img, "usr/lib/loop", AENT_SYMLINK, "../lib/loop");
	struct err e = {0};
	size_t keep = size < AN_KEEP_MAX ? size : AN_KEEP_MAX;
	for (size_t i = 0; i < sizeof(kept_paths) / sizeof(kept_paths[0]); i++) {
		aidx_id id = put(img, kept_paths[i], AENT_FILE, NULL);
		must(aidx_keep(img, id, image_content[i], strlen(image_content[i]), false, &e));
		id = put(bag, kept_paths[i], AENT_FILE, NULL);
		if (aidx_keep(bag, id, data, keep, keep < size, &e) < 0)
			break; /* the index's bound on kept bytes: the rest is not kept */
	}
	json_t *r = fixed_report();
	findings_rules(r, img, bag);
	findings_finish(r);
	char *dump = json_dumps(r, 0);
	if (!dump)
		abort(); /* a finding that does not serialize: a bug */
	free(dump);
	json_decref(r);

	/* the input as a report */
	json_error_t je;
	r = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	bool ok = json_is_object(r);
	if (ok) {
		findings_rules(r, img, bag);
		findings_finish(r);
		dump = json_dumps(r, 0);
		ok = dump != NULL;
		free(dump);
	}
	fz_verdict("report", ok);
	json_decref(r);
	aidx_free(bag);
	aidx_free(img);
	return 0;
}
