/* sha256x.c: SHA-256 (FIPS 180-4 section 6.2) on the x86 SHA extensions
 * (SHA256RNDS2, SHA256MSG1, SHA256MSG2, as Intel's "SHA extensions"
 * paper lays them out), one state or two interleaved; OpenSSL's EVP where
 * the CPU has none. See include/contain/sha256x.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "contain/sha256x.h"

#if defined(__x86_64__) || defined(__i386__)
#define SHA256X_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

static bool forced_fallback;

bool sha256x_force_fallback(bool on)
{
	return __atomic_exchange_n(&forced_fallback, on, __ATOMIC_SEQ_CST);
}

#ifdef SHA256X_X86
/* the 64 round constants (FIPS 180-4 4.2.2), 16-byte aligned: four a load */
static const uint32_t K[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2};

/* cpuid: leaf 1 ECX bit 9 SSSE3, bit 19 SSE4.1; leaf 7 EBX bit 29 SHA.
 * (__builtin_cpu_supports("sha") says the same; clang 14 lacks the name.) */
static bool cpu_has_sha(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19)))
		return false;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return (b & (1u << 29)) != 0;
}

bool sha256x_accelerated(void)
{
	static int has = -1; /* racing first callers compute the same answer */
	int v = __atomic_load_n(&has, __ATOMIC_RELAXED);
	if (v < 0) {
		v = cpu_has_sha();
		__atomic_store_n(&has, v, __ATOMIC_RELAXED);
	}
	return v && !__atomic_load_n(&forced_fallback, __ATOMIC_RELAXED);
}

#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* The state as SHA256RNDS2 wants it: ABEF and CDGH (a is the high lane). */
SHA_TARGET static inline void state_load(const uint32_t h[8], __m128i *abef, __m128i *cdgh)
{
	__m128i t = _mm_loadu_si128((const __m128i *)&h[0]); /* a b c d, a low */
	__m128i u = _mm_loadu_si128((const __m128i *)&h[4]); /* e f g h */
	t = _mm_shuffle_epi32(t, 0xB1);			      /* b a d c */
	u = _mm_shuffle_epi32(u, 0x1B);			      /* h g f e */
	*abef = _mm_alignr_epi8(t, u, 8);		      /* f e b a */
	*cdgh = _mm_blend_epi16(u, t, 0xF0);		      /* h g d c */
}

SHA_TARGET static inline void state_store(uint32_t h[8], __m128i abef, __m128i cdgh)
{
	__m128i t = _mm_shuffle_epi32(abef, 0x1B); /* a b e f */
	__m128i u = _mm_shuffle_epi32(cdgh, 0xB1); /* g h c d */
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, u, 0xF0)); /* a b c d */
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(u, t, 8));	  /* e f g h */
}

/* message words w[4i..4i+3], big-endian in the block */
SHA_TARGET static inline __m128i msg_load(const unsigned char *p, int i)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
}

/* W[t..t+3] from W[t-16..t-1] given as four quads w0..w3 (FIPS 180-4
 * 6.2.2 step 1): MSG1 adds sigma0, the alignr brings W[t-7], MSG2 adds
 * sigma1 of the words just made. */
SHA_TARGET static inline __m128i msg_next(__m128i w0, __m128i w1, __m128i w2, __m128i w3)
{
	__m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
	return _mm_sha256msg2_epu32(t, w3);
}

/* four rounds of one state with quad i of the schedule in w */
#define ROUNDS4(abef, cdgh, w, i)                                                                  \
	do {                                                                                       \
		__m128i m_ = _mm_add_epi32((w), _mm_load_si128((const __m128i *)&K[4 * (i)]));     \
		(cdgh) = _mm_sha256rnds2_epu32((cdgh), (abef), m_);                                \
		(abef) = _mm_sha256rnds2_epu32((abef), (cdgh), _mm_shuffle_epi32(m_, 0x0E));       \
	} while (0)

/* quad i (0..15) of one block: rounds 4i..4i+3, then the schedule quad
 * 4 ahead replaces the one used (w[0..3] rotate, quad j in w[j % 4]) */
#define STEP1(i)                                                                                   \
	do {                                                                                       \
		ROUNDS4(s0, s1, w[(i) % 4], (i));                                                  \
		if ((i) < 12)                                                                      \
			w[(i) % 4] = msg_next(w[(i) % 4], w[((i) + 1) % 4], w[((i) + 2) % 4],      \
					      w[((i) + 3) % 4]);                                   \
	} while (0)

#define STEPS16(STEP)                                                                              \
	STEP(0);                                                                                   \
	STEP(1);                                                                                   \
	STEP(2);                                                                                   \
	STEP(3);                                                                                   \
	STEP(4);                                                                                   \
	STEP(5);                                                                                   \
	STEP(6);                                                                                   \
	STEP(7);                                                                                   \
	STEP(8);                                                                                   \
	STEP(9);                                                                                   \
	STEP(10);                                                                                  \
	STEP(11);                                                                                  \
	STEP(12);                                                                                  \
	STEP(13);                                                                                  \
	STEP(14);                                                                                  \
	STEP(15)

SHA_TARGET static void blocks1(uint32_t h[8], const unsigned char *p, size_t nb)
{
	__m128i s0, s1;
	state_load(h, &s0, &s1);
	for (; nb; nb--, p += SHA256X_BLOCK) {
		__m128i k0 = s0, k1 = s1;
		__m128i w[4] = {msg_load(p, 0), msg_load(p, 1), msg_load(p, 2), msg_load(p, 3)};
		STEPS16(STEP1);
		s0 = _mm_add_epi32(s0, k0);
		s1 = _mm_add_epi32(s1, k1);
	}
	state_store(h, s0, s1);
}

/* two states over different blocks: two schedules, the rounds interleaved */
#define STEP2(i)                                                                                   \
	do {                                                                                       \
		ROUNDS4(a0, a1, v[(i) % 4], (i));                                                  \
		ROUNDS4(b0, b1, w[(i) % 4], (i));                                                  \
		if ((i) < 12) {                                                                    \
			v[(i) % 4] = msg_next(v[(i) % 4], v[((i) + 1) % 4], v[((i) + 2) % 4],      \
					      v[((i) + 3) % 4]);                                   \
			w[(i) % 4] = msg_next(w[(i) % 4], w[((i) + 1) % 4], w[((i) + 2) % 4],      \
					      w[((i) + 3) % 4]);                                   \
		}                                                                                  \
	} while (0)

/* the body of both: inlined where pa and pb are one pointer, the loads and
 * the schedule of the second message are the first's (the compiler folds
 * them: one schedule for both states) */
SHA_TARGET static inline __attribute__((always_inline)) void
blocks2_body(uint32_t ha[8], const unsigned char *pa, uint32_t hb[8], const unsigned char *pb,
	     size_t nb)
{
	__m128i a0, a1, b0, b1;
	state_load(ha, &a0, &a1);
	state_load(hb, &b0, &b1);
	for (; nb; nb--, pa += SHA256X_BLOCK, pb += SHA256X_BLOCK) {
		__m128i ka0 = a0, ka1 = a1, kb0 = b0, kb1 = b1;
		__m128i v[4] = {msg_load(pa, 0), msg_load(pa, 1), msg_load(pa, 2), msg_load(pa, 3)};
		__m128i w[4] = {msg_load(pb, 0), msg_load(pb, 1), msg_load(pb, 2), msg_load(pb, 3)};
		STEPS16(STEP2);
		a0 = _mm_add_epi32(a0, ka0);
		a1 = _mm_add_epi32(a1, ka1);
		b0 = _mm_add_epi32(b0, kb0);
		b1 = _mm_add_epi32(b1, kb1);
	}
	state_store(ha, a0, a1);
	state_store(hb, b0, b1);
}

SHA_TARGET static void blocks2(uint32_t ha[8], const unsigned char *pa, uint32_t hb[8],
			       const unsigned char *pb, size_t nb)
{
	blocks2_body(ha, pa, hb, pb, nb);
}

/* two states over the same blocks */
SHA_TARGET static void blocks2same(uint32_t ha[8], uint32_t hb[8], const unsigned char *p,
				   size_t nb)
{
	blocks2_body(ha, p, hb, p, nb);
}
#else
bool sha256x_accelerated(void)
{
	return false;
}

/* never called: every context is a fallback one here */
static void blocks1(uint32_t h[8], const unsigned char *p, size_t nb)
{
	(void)h, (void)p, (void)nb;
	abort();
}

static void blocks2(uint32_t ha[8], const unsigned char *pa, uint32_t hb[8],
		    const unsigned char *pb, size_t nb)
{
	(void)ha, (void)pa, (void)hb, (void)pb, (void)nb;
	abort();
}

static void blocks2same(uint32_t ha[8], uint32_t hb[8], const unsigned char *p, size_t nb)
{
	(void)ha, (void)hb, (void)p, (void)nb;
	abort();
}
#endif

/* SHA-256 fetched once: EVP_sha256() fetches it anew on every digest in
 * OpenSSL 3 */
static EVP_MD *evp_md;
static pthread_once_t evp_once = PTHREAD_ONCE_INIT;

static void evp_fetch(void)
{
	evp_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!evp_md)
		abort();
}

void sha256x_init(struct sha256x *c)
{
	memcpy(c->h, IV, sizeof(c->h));
	c->bytes = 0;
	c->fill = 0;
	c->evp = NULL;
	if (sha256x_accelerated())
		return;
	pthread_once(&evp_once, evp_fetch);
	c->evp = EVP_MD_CTX_new();
	if (!c->evp || EVP_DigestInit_ex(c->evp, evp_md, NULL) != 1)
		abort();
}

/* top up c's partial block from *p; hashes it when full */
static void fill_partial(struct sha256x *c, const unsigned char **p, size_t *n)
{
	if (!c->fill)
		return;
	size_t k = SHA256X_BLOCK - c->fill;
	if (k > *n)
		k = *n;
	memcpy(c->buf + c->fill, *p, k);
	c->fill += (unsigned)k;
	*p += k;
	*n -= k;
	if (c->fill == SHA256X_BLOCK) {
		blocks1(c->h, c->buf, 1);
		c->fill = 0;
	}
}

/* the tail that is not a whole block waits in c->buf (c->fill is 0) */
static void keep_tail(struct sha256x *c, const unsigned char *p, size_t n)
{
	memcpy(c->buf, p, n);
	c->fill = (unsigned)n;
}

void sha256x_update(struct sha256x *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	if (c->evp) {
		c->bytes += n;
		if (EVP_DigestUpdate(c->evp, p, n) != 1)
			abort();
		return;
	}
	c->bytes += n;
	fill_partial(c, &p, &n);
	if (c->fill)
		return; /* all of it went into the partial block */
	if (n >= SHA256X_BLOCK)
		blocks1(c->h, p, n / SHA256X_BLOCK);
	keep_tail(c, p + (n & ~(size_t)(SHA256X_BLOCK - 1)), n % SHA256X_BLOCK);
}

void sha256x_update2(struct sha256x *a, const void *da, size_t na, struct sha256x *b,
		     const void *db, size_t nb)
{
	const unsigned char *pa = da, *pb = db;
	if (a->evp || b->evp) {
		sha256x_update(a, pa, na);
		sha256x_update(b, pb, nb);
		return;
	}
	a->bytes += na;
	b->bytes += nb;
	fill_partial(a, &pa, &na);
	fill_partial(b, &pb, &nb);
	/* a context whose partial block is still partial took all its bytes
	 * (na or nb is 0), so both are at a block boundary past here */
	size_t both = (na < nb ? na : nb) / SHA256X_BLOCK;
	if (both) {
		if (pa == pb)
			blocks2same(a->h, b->h, pa, both);
		else
			blocks2(a->h, pa, b->h, pb, both);
		pa += both * SHA256X_BLOCK;
		pb += both * SHA256X_BLOCK;
		na -= both * SHA256X_BLOCK;
		nb -= both * SHA256X_BLOCK;
	}
	/* at most one of them has whole blocks left */
	if (!a->fill) {
		if (na >= SHA256X_BLOCK)
			blocks1(a->h, pa, na / SHA256X_BLOCK);
		keep_tail(a, pa + (na & ~(size_t)(SHA256X_BLOCK - 1)), na % SHA256X_BLOCK);
	}
	if (!b->fill) {
		if (nb >= SHA256X_BLOCK)
			blocks1(b->h, pb, nb / SHA256X_BLOCK);
		keep_tail(b, pb + (nb & ~(size_t)(SHA256X_BLOCK - 1)), nb % SHA256X_BLOCK);
	}
}

void sha256x_zeros(struct sha256x *c, uint64_t n)
{
	static const unsigned char z[64 << 10];
	while (n) {
		size_t k = n > sizeof(z) ? sizeof(z) : (size_t)n;
		sha256x_update(c, z, k);
		n -= k;
	}
}

void sha256x_final(struct sha256x *c, unsigned char out[SHA256X_LEN])
{
	if (c->evp) {
		unsigned len = 0;
		if (EVP_DigestFinal_ex(c->evp, out, &len) != 1 || len != SHA256X_LEN)
			abort();
		sha256x_discard(c);
		return;
	}
	/* FIPS 180-4 5.1.1: a 1 bit, zeros to 448 mod 512, the length in bits */
	uint64_t bits = c->bytes * 8;
	c->buf[c->fill++] = 0x80;
	if (c->fill > SHA256X_BLOCK - 8) {
		memset(c->buf + c->fill, 0, SHA256X_BLOCK - c->fill);
		blocks1(c->h, c->buf, 1);
		c->fill = 0;
	}
	memset(c->buf + c->fill, 0, SHA256X_BLOCK - 8 - c->fill);
	for (int i = 0; i < 8; i++)
		c->buf[SHA256X_BLOCK - 1 - i] = (unsigned char)(bits >> (8 * i));
	blocks1(c->h, c->buf, 1);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
	sha256x_discard(c);
}

void sha256x_discard(struct sha256x *c)
{
	if (c->evp)
		EVP_MD_CTX_free(c->evp);
	c->evp = NULL;
	c->fill = 0;
	c->bytes = 0;
}

void sha256x(const void *p, size_t n, unsigned char out[SHA256X_LEN])
{
	struct sha256x c;
	sha256x_init(&c);
	sha256x_update(&c, p, n);
	sha256x_final(&c, out);
}

void sha256x_hmac(const void *key, size_t klen, const void *msg, size_t n,
		  unsigned char out[SHA256X_LEN])
{
	unsigned char k[SHA256X_BLOCK] = {0}, pad[SHA256X_BLOCK], inner[SHA256X_LEN];
	if (klen > SHA256X_BLOCK)
		sha256x(key, klen, k);
	else if (klen)
		memcpy(k, key, klen);
	struct sha256x c;
	for (int i = 0; i < SHA256X_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	sha256x_init(&c);
	sha256x_update(&c, pad, sizeof(pad));
	sha256x_update(&c, msg, n);
	sha256x_final(&c, inner);
	for (int i = 0; i < SHA256X_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256x_init(&c);
	sha256x_update(&c, pad, sizeof(pad));
	sha256x_update(&c, inner, sizeof(inner));
	sha256x_final(&c, out);
	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
}
