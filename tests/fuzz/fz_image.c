/* fz_image: hostile bytes as an image. Twice: (1) as an image archive
 * (oci-archive or docker-archive, any compression), written to a temp file
 * and handed to aimg_open; (2) as the one layer of an OCI layout made around
 * it (its digest computed), so a layer's tar (names, links, whiteouts, pax
 * headers) is reached without the wrapper. The index is walked each time.
 * Verdicts (fz.h): image (aimg_open of the archive returned 0), layer (the
 * layout around the bytes opened and its layer read to its end). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/analyze.h"
#include "contain/hashio.h"
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

static int open_walk(const char *path, bool *complete)
{
	struct aimg_opts o = {.path = path, .max_entries = 100000};
	struct aimg *img = NULL;
	struct err e = {0};
	int r = aimg_open(&o, &img, &e);
	if (r == 0) {
		walk(img->idx);
		aimg_digest_match(img, "sha256:00");
		char *s = json_dumps(img->layers, 0);
		free(s);
		if (complete)
			*complete = json_is_true(
			    json_object_get(json_array_get(img->layers, 0), "complete"));
		aimg_free(img);
	}
	return r;
}

static int put(const char *dir, const char *name, const void *b, size_t n)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int r = write_all(fd, b, n);
	close(fd);
	return r;
}

/* The bytes as the one layer of an OCI layout in a temp dir. */
static void as_layer(const uint8_t *data, size_t size)
{
	char dir[] = "/tmp/fz_image_layout.XXXXXX";
	if (!mkdtemp(dir))
		return;
	char lhex[HASH_HEX], chex[HASH_HEX], mhex[HASH_HEX], p[512];
	sha256_hex(data, size, lhex);
	const char *cfg = "{\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	sha256_hex(cfg, strlen(cfg), chex);
	char *man =
	    xasprintf("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
		      "vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu},"
		      "\"layers\":[{\"mediaType\":\"application/"
		      "vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%s\",\"size\":%zu}]}",
		      chex, strlen(cfg), lhex, size);
	sha256_hex(man, strlen(man), mhex);
	char *idx =
	    xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
		      "vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu}]}",
		      mhex, strlen(man));
	snprintf(p, sizeof(p), "%s/blobs", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/blobs/sha256", dir);
	mkdir(p, 0700);
	char nl[100], nc[100], nm[100];
	snprintf(nl, sizeof(nl), "blobs/sha256/%s", lhex);
	snprintf(nc, sizeof(nc), "blobs/sha256/%s", chex);
	snprintf(nm, sizeof(nm), "blobs/sha256/%s", mhex);
	bool complete = false;
	if (put(dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30) == 0 &&
	    put(dir, "index.json", idx, strlen(idx)) == 0 && put(dir, nm, man, strlen(man)) == 0 &&
	    put(dir, nc, cfg, strlen(cfg)) == 0 && put(dir, nl, data, size) == 0) {
		int r = open_walk(dir, &complete);
		fz_verdict("layer", r == 0 && complete);
	}
	const char *names[] = {"oci-layout", "index.json", nm, nc, nl, "blobs/sha256", "blobs"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		if (unlink(p) < 0)
			rmdir(p);
	}
	rmdir(dir);
	free(man);
	free(idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fz_image.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write_all(fd, data, size) == 0)
		fz_verdict("image", open_walk(path, NULL) == 0);
	close(fd);
	unlink(path);
	as_layer(data, size);
	return 0;
}
