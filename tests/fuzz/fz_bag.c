/* fz_bag: the bag reader's parsers on hostile bytes: bag-info.txt,
 * manifests, custody lines, path decoding, and the whole input as a
 * (compressed) tar handed to bag_verify. Verdicts (fz.h): bag-info,
 * manifest, custody (chained from the bag id of its first line, as verify
 * seeds it), path, bag (bag_verify: valid). */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#include "contain/bag.h"
#include "contain/chain.h"
#include "fz.h"

/* the custody chain's seed: the bag id its first line names ("fuzz" if none) */
static char *custody_seed(const char *buf, size_t size)
{
	const char *nl = memchr(buf, '\n', size);
	size_t n = nl ? (size_t)(nl - buf) : size;
	json_error_t je;
	json_t *j = json_loadb(buf, n, 0, &je);
	const char *id = json_string_value(json_object_get(json_object_get(j, "bag"), "id"));
	char *seed = xstrdup(id ? id : "fuzz");
	json_decref(j);
	return seed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char prob[512];
	struct bag_info bi;
	struct bag_manifest m;
	struct chain_check r;
	struct err e = {0};

	fz_verdict("bag-info", bag_info_parse(buf, size, &bi, prob, sizeof(prob)) == 0);
	bag_info_get(&bi, "Contain-Status");
	bag_info_free(&bi);
	fz_verdict("manifest", bag_manifest_parse(buf, size, &m, prob, sizeof(prob)) == 0);
	bag_manifest_free(&m);
	char *seed = custody_seed(buf, size);
	fz_verdict("custody", chain_check_buf(buf, size, seed, &r, &e) == 0);
	free(seed);
	char *s = xstrndup(buf, size);
	char *dec = bag_path_decode(s);
	fz_verdict("path", dec && bag_path_ok(dec));
	free(dec);
	free(bag_path_json_encode(s));
	free(bag_path_manifest_encode(s));
	bag_path_ok(s);
	free(s);

	/* as a bag in tar form */
	char path[] = "/tmp/fz_bag.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write_all(fd, data, size) == 0) {
		json_t *rep = NULL;
		fz_verdict("bag", bag_verify(path, NULL, &rep, &e) == 0);
		json_decref(rep);
	}
	close(fd);
	unlink(path);
	return 0;
}
