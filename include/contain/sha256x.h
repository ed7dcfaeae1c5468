/* sha256x: SHA-256 (FIPS 180-4) on the x86 SHA extensions, one message or
 * two at once on one core.
 *
 * SHA-NI's rounds are latency-bound: one message keeps the unit half idle,
 * and two independent messages interleaved block by block on the same core
 * hash ~1.4x the bytes one does. sha256x_update2() feeds two contexts and
 * hashes the blocks both have together (two files, or a file and the tar
 * that carries it: when both get the same bytes at the same block offset,
 * the message schedule is computed once).
 *
 * Where the CPU lacks SHA-NI, SSSE3 or SSE4.1 (cpuid, checked at init), a
 * context runs on OpenSSL's EVP SHA-256 instead: the same digests, one
 * message at a time. A context records which it uses when initialised, so
 * contexts of either kind mix freely.
 *
 * A context is the caller's memory: init, update any number of times (any
 * lengths, partial blocks are kept), then final, or discard on a path that
 * wants no digest (final and discard free the fallback's EVP context; an
 * accelerated context holds nothing). One thread at a time per context. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256X_LEN   32
#define SHA256X_BLOCK 64

struct evp_md_ctx_st;

struct sha256x {
	uint32_t h[8];			  /* the chaining state (accelerated) */
	uint64_t bytes;			  /* message bytes so far */
	unsigned char buf[SHA256X_BLOCK]; /* the partial block */
	unsigned fill;			  /* bytes in buf (< 64) */
	struct evp_md_ctx_st *evp;	  /* non-NULL: the OpenSSL fallback */
};

/* true when this CPU has SHA-NI, SSSE3 and SSE4.1 and the fallback is not
 * forced (sha256x_force_fallback). */
bool sha256x_accelerated(void);
/* Tests and benchmarks: on, every context initialised afterwards uses the
 * OpenSSL fallback; off, the CPU decides again. Returns the old setting. */
bool sha256x_force_fallback(bool on);

void sha256x_init(struct sha256x *c);
void sha256x_update(struct sha256x *c, const void *p, size_t n);
/* a gets na bytes at pa, b gets nb bytes at pb (a != b); the blocks both
 * have at block boundaries are hashed together, the rest one at a time. */
void sha256x_update2(struct sha256x *a, const void *pa, size_t na, struct sha256x *b,
		     const void *pb, size_t nb);
/* n zero bytes (a hole of a sparse file, a zero fill) into c */
void sha256x_zeros(struct sha256x *c, uint64_t n);
/* out gets the digest; c is spent (init it again to reuse it). */
void sha256x_final(struct sha256x *c, unsigned char out[SHA256X_LEN]);
/* Drop c without a digest. */
void sha256x_discard(struct sha256x *c);
/* One-shot: out = SHA-256 of n bytes at p. */
void sha256x(const void *p, size_t n, unsigned char out[SHA256X_LEN]);
/* HMAC-SHA-256 (RFC 2104; a key longer than a block is hashed first) */
void sha256x_hmac(const void *key, size_t klen, const void *msg, size_t n,
		  unsigned char out[SHA256X_LEN]);
