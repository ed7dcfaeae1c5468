/* fz_nfnl: the read-back of a cut (src/isolate/nfnl.c) on hostile replies.
 * The kernel is the only sender nfnl.c reads (its socket is connected to
 * the kernel and every sender is checked), but the tables and chains it
 * describes can be made by a root process in the container's netns, and a
 * parser that trusts a length is a parser that can be walked off its
 * buffer. The input (tests/fuzz/gen_nfnl_corpus.py): one flags byte (bit
 * 0: the table is read as a netdev table), the request's sequence number
 * (4 bytes, little-endian), then the replies, read for table contain_t.
 * Verdicts (fz.h): table (the table was found), chains (at least one of
 * its base chains drops), end (the replies end: DONE or an ACK). */
#include <stdlib.h>
#include <string.h>

#include "contain/isolate.h"
#include "fz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	bool netdev = data[0] & 1;
	uint32_t seq = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
		       (uint32_t)data[4] << 24;
	struct ncut_table_info ti;
	size_t nnames = 99;
	struct err e = {0};
	int r = nfnl_parse_replies(data + 5, size - 5, seq, "contain_t", netdev, &ti, &nnames, &e);
	if (r < -1 || r > 2 || (r < 0 && !*e.msg) || nnames > 64)
		abort();
	size_t kept = ti.nbound < ARRAY_SIZE(ti.bound) ? ti.nbound : ARRAY_SIZE(ti.bound);
	for (size_t i = 0; i < kept; i++)
		if (strnlen(ti.bound[i].dev, sizeof(ti.bound[i].dev)) == sizeof(ti.bound[i].dev) ||
		    strnlen(ti.bound[i].chain, sizeof(ti.bound[i].chain)) ==
			    sizeof(ti.bound[i].chain) ||
		    (!netdev && ti.nbound))
			abort();
	fz_verdict("table", ti.exists);
	fz_verdict("chains", ti.ndrop > 0);
	fz_verdict("end", r == 0 || r == 1);
	return 0;
}
