/* fz_image: hostile bytes as an image archive (oci-archive or
 * docker-archive, any compression): written to a temp file and handed to
 * aimg_open, the index walked. Verdict (fz.h): image (aimg_open returned 0). */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#include "contain/analyze.h"
#include "fz.h"

static void walk(const struct aidx *x)
{
	char p[AN_PATH_MAX];
	size_t cap = aidx_capacity(x);
	for (size_t id = 1; id < cap; id++) {
		if (aidx_parent(x, (aidx_id)id) == AIDX_NONE)
			continue;
		struct aidx_entry a;
		aidx_get(x, (aidx_id)id, &a);
		aidx_path(x, (aidx_id)id, p, sizeof(p));
		size_t n;
		bool t;
		aidx_kept(x, (aidx_id)id, &n, &t);
		(void)aent_type_name(a.type);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fz_image.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write_all(fd, data, size) == 0) {
		struct aimg_opts o = {.path = path, .max_entries = 100000};
		struct aimg *img = NULL;
		struct err e = {0};
		int r = aimg_open(&o, &img, &e);
		fz_verdict("image", r == 0);
		if (r == 0) {
			walk(img->idx);
			aimg_digest_match(img, "sha256:00");
			char *s = json_dumps(img->layers, 0);
			free(s);
			aimg_free(img);
		}
	}
	close(fd);
	unlink(path);
	return 0;
}
