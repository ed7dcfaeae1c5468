/* fz_bag: the bag reader's parsers on hostile bytes: bag-info.txt,
 * manifests, custody lines, path decoding, and the whole input as a
 * (compressed) tar handed to bag_verify. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#include "contain/bag.h"
#include "contain/chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char prob[512];
	struct bag_info bi;
	struct bag_manifest m;
	struct chain_check r;
	struct err e = {0};

	bag_info_parse(buf, size, &bi, prob, sizeof(prob));
	bag_info_get(&bi, "Contain-Status");
	bag_info_free(&bi);
	bag_manifest_parse(buf, size, &m, prob, sizeof(prob));
	bag_manifest_free(&m);
	chain_check_buf(buf, size, "fuzz", &r, &e);
	char *s = xstrndup(buf, size);
	free(bag_path_decode(s));
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
		bag_verify(path, NULL, &rep, &e);
		json_decref(rep);
	}
	close(fd);
	unlink(path);
	return 0;
}
