/* fz_diff: a hostile bag layer (the input as a tar, any compression
 * libarchive reads) against a small fixed image index, as an upperdir and as
 * a whole root, with a small files.json. Verdicts (fz.h): diff (adiff_layer
 * returned 0 for the upperdir reading). */
#include <archive.h>
#include <string.h>

#include "contain/analyze.h"
#include "fz.h"

static struct aidx *image(void)
{
	static const char *const files[] = {"etc/passwd", "bin/busybox", "bin/wget",
					    "var/www/index.html", "var/www/sub/a", "usr/lib/x.so"};
	struct aidx *x = aidx_new();
	struct err e = {0};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct aidx_entry ent = {.type = AENT_FILE, .mode = 0755, .size = 1,
					 .has_sha256 = true};
		memset(ent.sha256, (int)i, sizeof(ent.sha256));
		aidx_set(x, files[i], &ent, NULL, &e);
	}
	struct aidx_entry ln = {.type = AENT_SYMLINK, .mode = 0777, .link_target = "busybox"};
	aidx_set(x, "bin/ps", &ln, NULL, &e);
	return x;
}

static int run(struct aidx *img, const uint8_t *data, size_t size, bool whole_root, json_t *fj)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	int rc = -1;
	if (archive_read_open_memory(a, data, size) == ARCHIVE_OK) {
		struct adiff_opts o = {.whole_root = whole_root, .files_json = fj};
		json_t *out = NULL;
		struct aidx *kept = NULL;
		struct err e = {0};
		rc = adiff_layer(img, a, &o, &out, &kept, &e);
		if (rc == 0)
			free(json_dumps(out, JSON_COMPACT));
		json_decref(out);
		aidx_free(kept);
	}
	archive_read_free(a);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aidx *img = image();
	json_t *fj = json_loads(
		"{\"entries\":[{\"path\":\"etc\",\"type\":\"dir\",\"mode\":\"0755\",\"in_tar\":true},"
		"{\"parent\":0,\"name\":\"passwd\",\"type\":\"file\",\"mode\":\"0644\",\"in_tar\":true,"
		"\"mtime\":\"2026-12-07T01:54:30Z\"},"
		"{\"path\":\"big\",\"type\":\"file\",\"mode\":\"0644\",\"in_tar\":false,"
		"\"sha256\":\"0101010101010101010101010101010101010101010101010101010101010101\"},"
		"{\"path\":\"proc\",\"type\":\"dir\",\"mount_point\":true,\"in_tar\":true},"
		"{\"path\":\"bin/ln2\",\"type\":\"hardlink\",\"hardlink_to\":\"bin/busybox\","
		"\"in_tar\":false,\"xattrs\":{\"security.capability\":\"AQAAAg==\"}}]}",
		0, NULL);
	fz_verdict("diff", run(img, data, size, false, fj) == 0);
	run(img, data, size, true, fj);
	run(img, data, size, false, NULL);
	json_decref(fj);
	aidx_free(img);
	return 0;
}
