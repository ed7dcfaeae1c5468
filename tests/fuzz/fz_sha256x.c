/* fz_sha256x: sha256x (include/contain/sha256x.h) against OpenSSL. The
 * input's first 4 bytes steer, the rest is the data: it is cut into two
 * messages (or one message given to both contexts, from the same buffer or
 * a copy), fed in pieces of sizes drawn from the steering bytes, through
 * sha256x_update and sha256x_update2 in turn, with either context on the
 * OpenSSL fallback when asked. Both digests must be OpenSSL's. Verdicts
 * (fz.h): sha256x (both digests matched; a mismatch aborts). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "contain/sha256x.h"
#include "fz.h"

static void want(const unsigned char *p, size_t n, unsigned char out[32])
{
	unsigned len = 0;
	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
		abort();
}

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t steer[4] = {0};
	memcpy(steer, data, size < 4 ? size : 4);
	const uint8_t *msg = size > 4 ? data + 4 : data;
	size_t len = size > 4 ? size - 4 : 0;
	unsigned mode = steer[0] % 3; /* 0 two messages, 1 one buffer, 2 a copy */
	bool fall_a = steer[0] & 0x10, fall_b = steer[0] & 0x20;
	uint32_t r = (uint32_t)steer[1] << 16 | (uint32_t)steer[2] << 8 | steer[3] | 1;
	size_t maxpiece = 1 + (steer[1] & 0x0f) * 37;

	const uint8_t *pa = msg, *pb;
	size_t na = len, nb;
	uint8_t *copy = NULL;
	if (mode == 0) {
		na = len * steer[2] / 255;
		pb = msg + na;
		nb = len - na;
	} else if (mode == 1) {
		pb = msg;
		nb = len;
	} else {
		copy = malloc(len ? len : 1);
		if (!copy)
			abort();
		memcpy(copy, msg, len);
		pb = copy;
		nb = len;
	}

	struct sha256x a, b;
	sha256x_force_fallback(fall_a);
	sha256x_init(&a);
	sha256x_force_fallback(fall_b);
	sha256x_init(&b);
	sha256x_force_fallback(false);
	size_t oa = 0, ob = 0;
	while (oa < na || ob < nb) {
		size_t ka = rnd(&r) % (maxpiece + 1), kb = mode ? ka : rnd(&r) % (maxpiece + 1);
		if (ka > na - oa)
			ka = na - oa;
		if (kb > nb - ob)
			kb = nb - ob;
		if (rnd(&r) % 4 == 0) {
			sha256x_update(&a, pa + oa, ka);
			sha256x_update(&b, pb + ob, kb);
		} else {
			sha256x_update2(&a, pa + oa, ka, &b, pb + ob, kb);
		}
		oa += ka;
		ob += kb;
	}
	unsigned char ga[32], gb[32], wa[32], wb[32];
	sha256x_final(&a, ga);
	sha256x_final(&b, gb);
	want(pa, na, wa);
	want(pb, nb, wb);
	if (memcmp(ga, wa, 32) != 0 || memcmp(gb, wb, 32) != 0)
		abort();
	/* the one-shot too */
	sha256x(msg, len, ga);
	want(msg, len, wa);
	if (memcmp(ga, wa, 32) != 0)
		abort();
	free(copy);
	fz_verdict("sha256x", true);
	return 0;
}
