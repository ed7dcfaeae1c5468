/* fz_elf: the streaming ELF sniffer (aelf_*), the shebang reader and libmagic
 * on hostile bytes. The input is fed whole, in 7-byte chunks and in chunks of
 * a size taken from its first byte: the three results must be the same JSON
 * (the sniffer does not depend on how a stream is cut), else abort.
 * Verdicts (fz.h): elf (aelf_json returned an object). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contain/analyze.h"
#include "fz.h"

static json_t *sniff(const uint8_t *data, size_t size, size_t chunk)
{
	struct aelf_sniff s;
	aelf_init(&s);
	for (size_t off = 0; off < size; off += chunk)
		aelf_feed(&s, data + off, size - off < chunk ? size - off : chunk);
	json_t *j = aelf_json(&s);
	aelf_free(&s);
	return j;
}

static struct aftype *ftype; /* one libmagic handle for the process */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *whole = sniff(data, size, size ? size : 1);
	json_t *seven = sniff(data, size, 7);
	json_t *odd = sniff(data, size, size ? 1 + data[0] % 61 : 1);
	if ((!whole != !seven) || (!whole != !odd) ||
	    (whole && (!json_equal(whole, seven) || !json_equal(whole, odd)))) {
		fprintf(stderr, "fz_elf: the result depends on the chunking\n");
		abort();
	}
	fz_verdict("elf", whole != NULL);
	/* what a report writer would do with it */
	free(json_dumps(whole, JSON_COMPACT));
	json_decref(whole);
	json_decref(seven);
	json_decref(odd);

	free(an_shebang(data, size));

	struct err e = {0};
	if (!ftype && aftype_open(&ftype, &e) < 0)
		return 0;
	json_t *ent = json_object();
	size_t n = size < AN_MAGIC_BYTES ? size : AN_MAGIC_BYTES;
	aftype_buffer(ftype, data, n, size, ent);
	free(json_dumps(ent, JSON_COMPACT));
	json_decref(ent);
	return 0;
}
