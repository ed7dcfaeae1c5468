/* test_sha256x: sha256x is exactly SHA-256: the FIPS 180-4 / NIST example
 * vectors, OpenSSL's digest of every length 0..1100 fed whole, in random
 * splits and as either side of a two-message update (different bytes, the
 * same bytes, the same buffer), on the SHA-NI path and on the forced
 * OpenSSL fallback, and contexts of the two kinds mixed. sha256x_hmac is
 * HMAC-SHA-256: RFC 4231's vectors, and RFC 2104 spelled out over OpenSSL's
 * SHA-256 for key lengths 0..200 (shorter than, equal to and longer than a
 * block). */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "contain/sha256x.h"
#include "unit.h"

#define MAXLEN 1100

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void openssl(const void *p, size_t n, unsigned char out[32])
{
	unsigned len = 0;
	ck_assert_int_eq(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
	ck_assert_uint_eq(len, 32);
}

static void hex(const unsigned char md[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void check_hex(const unsigned char md[32], const char *want)
{
	char got[65];
	hex(md, got);
	ck_assert_str_eq(got, want);
}

/* the NIST examples (FIPS 180-4 / SHAVS), each fed whole and byte by byte */
static void nist_vectors(void)
{
	static const struct {
		const char *msg;
		const char *md;
	} v[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklm"
		 "nopqrlmnopqrsmnopqrstnopqrstu",
		 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	unsigned char md[32];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha256x(v[i].msg, strlen(v[i].msg), md);
		check_hex(md, v[i].md);
		struct sha256x c;
		sha256x_init(&c);
		for (const char *p = v[i].msg; *p; p++)
			sha256x_update(&c, p, 1);
		sha256x_final(&c, md);
		check_hex(md, v[i].md);
	}
	/* one million 'a', in pieces of 1000 and as one buffer */
	enum { M = 1000000 };
	char *a = malloc(M);
	ck_assert_ptr_nonnull(a);
	memset(a, 'a', M);
	const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	sha256x(a, M, md);
	check_hex(md, want);
	struct sha256x c;
	sha256x_init(&c);
	for (int i = 0; i < M / 1000; i++)
		sha256x_update(&c, a, 1000);
	ck_assert_uint_eq(c.bytes, M);
	sha256x_final(&c, md);
	check_hex(md, want);
	free(a);
}

START_TEST(nist_accelerated)
{
	nist_vectors();
}
END_TEST

START_TEST(nist_fallback)
{
	sha256x_force_fallback(true);
	ck_assert(!sha256x_accelerated());
	struct sha256x c;
	sha256x_init(&c);
	ck_assert_ptr_nonnull(c.evp);
	sha256x_discard(&c);
	ck_assert_ptr_null(c.evp);
	nist_vectors();
	sha256x_force_fallback(false);
}
END_TEST

/* the CPU check says what /proc/cpuinfo says */
START_TEST(cpu_check_matches_cpuinfo)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[8192];
	bool sha = false, sse41 = false, ssse3 = false, seen = false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		seen = true;
		sha = strstr(line, " sha_ni") != NULL;
		sse41 = strstr(line, " sse4_1") != NULL;
		ssse3 = strstr(line, " ssse3") != NULL;
		break;
	}
	fclose(f);
	if (seen)
		ck_assert_int_eq(sha256x_accelerated(), sha && sse41 && ssse3);
	struct sha256x c;
	sha256x_init(&c);
	ck_assert(sha256x_accelerated() ? c.evp == NULL : c.evp != NULL);
	sha256x_discard(&c);
}
END_TEST

/* every length, whole and split at every point of a short prefix */
static void every_length(void)
{
	unsigned char *b = unit_pattern(MAXLEN, 7);
	unsigned char want[32], got[32];
	for (size_t n = 0; n <= MAXLEN; n++) {
		openssl(b, n, want);
		sha256x(b, n, got);
		ck_assert_msg(memcmp(want, got, 32) == 0, "length %zu", n);
		size_t cut = n % 131;
		struct sha256x c;
		sha256x_init(&c);
		sha256x_update(&c, b, cut);
		sha256x_update(&c, b + cut, 0);
		sha256x_update(&c, b + cut, n - cut);
		sha256x_final(&c, got);
		ck_assert_msg(memcmp(want, got, 32) == 0, "length %zu cut %zu", n, cut);
	}
	free(b);
}

START_TEST(every_length_accelerated)
{
	every_length();
}
END_TEST

START_TEST(every_length_fallback)
{
	sha256x_force_fallback(true);
	every_length();
	sha256x_force_fallback(false);
}
END_TEST

/* two messages at once: a of every length with b of another (or the same
 * bytes, or the same buffer), each fed in the same random pieces */
static void two_messages(int mode, uint32_t seed)
{
	unsigned char *x = unit_pattern(MAXLEN, 11), *y = unit_pattern(MAXLEN, 12);
	unsigned char wa[32], wb[32], ga[32], gb[32];
	uint32_t r = seed;
	if (mode == 1)
		memcpy(y, x, MAXLEN);
	for (size_t na = 0; na <= MAXLEN; na++) {
		/* mode 0: different bytes, other lengths; 1: equal bytes in
		 * other buffers; 2: one buffer for both */
		size_t nb = mode == 0 ? (na * 7 + 3) % (MAXLEN + 1) : na;
		const unsigned char *pa = x, *pb = mode == 0 ? y : mode == 1 ? y : x;
		openssl(pa, na, wa);
		openssl(pb, nb, wb);
		struct sha256x a, b;
		sha256x_init(&a);
		sha256x_init(&b);
		size_t oa = 0, ob = 0;
		while (oa < na || ob < nb) {
			size_t ka = rnd(&r) % 300, kb = mode == 0 ? rnd(&r) % 300 : ka;
			if (ka > na - oa)
				ka = na - oa;
			if (kb > nb - ob)
				kb = nb - ob;
			if (rnd(&r) % 8 == 0) {
				sha256x_update(&a, pa + oa, ka);
				sha256x_update(&b, pb + ob, kb);
			} else {
				sha256x_update2(&a, pa + oa, ka, &b, pb + ob, kb);
			}
			oa += ka;
			ob += kb;
		}
		ck_assert_uint_eq(a.bytes, na);
		ck_assert_uint_eq(b.bytes, nb);
		sha256x_final(&a, ga);
		sha256x_final(&b, gb);
		ck_assert_msg(memcmp(wa, ga, 32) == 0, "mode %d a length %zu", mode, na);
		ck_assert_msg(memcmp(wb, gb, 32) == 0, "mode %d b length %zu", mode, nb);
	}
	free(x);
	free(y);
}

START_TEST(two_different)
{
	two_messages(0, 1);
	two_messages(0, 99);
}
END_TEST

START_TEST(two_same_bytes)
{
	two_messages(1, 2);
}
END_TEST

START_TEST(two_same_buffer)
{
	two_messages(2, 3);
}
END_TEST

START_TEST(two_fallback)
{
	sha256x_force_fallback(true);
	two_messages(0, 4);
	two_messages(2, 5);
	sha256x_force_fallback(false);
}
END_TEST

/* one context of each kind fed together (the fallback forced for one) */
START_TEST(two_mixed_kinds)
{
	enum { N = 200000 };
	unsigned char *x = unit_pattern(N, 21), *y = unit_pattern(N, 22);
	unsigned char wa[32], wb[32], ga[32], gb[32];
	openssl(x, N, wa);
	openssl(y, N, wb);
	for (int which = 0; which < 2; which++) {
		struct sha256x a, b;
		sha256x_force_fallback(which == 0);
		sha256x_init(&a);
		sha256x_force_fallback(which == 1);
		sha256x_init(&b);
		sha256x_force_fallback(false);
		for (size_t o = 0; o < N; o += 4093) {
			size_t k = N - o < 4093 ? N - o : 4093;
			sha256x_update2(&a, x + o, k, &b, y + o, k);
		}
		sha256x_final(&a, ga);
		sha256x_final(&b, gb);
		ck_assert(memcmp(wa, ga, 32) == 0);
		ck_assert(memcmp(wb, gb, 32) == 0);
	}
	free(x);
	free(y);
}
END_TEST

/* large messages in large random pieces: both block loops run long */
START_TEST(large_random_splits)
{
	enum { N = 3 << 20 };
	unsigned char *x = unit_pattern(N, 31), *y = unit_pattern(N, 32);
	unsigned char wa[32], wb[32], ga[32], gb[32];
	openssl(x, N, wa);
	openssl(y, N - 12345, wb);
	uint32_t r = 77;
	struct sha256x a, b;
	sha256x_init(&a);
	sha256x_init(&b);
	size_t oa = 0, ob = 0, nb = N - 12345;
	while (oa < N || ob < nb) {
		size_t ka = rnd(&r) % 200000, kb = rnd(&r) % 200000;
		if (ka > N - oa)
			ka = N - oa;
		if (kb > nb - ob)
			kb = nb - ob;
		sha256x_update2(&a, x + oa, ka, &b, y + ob, kb);
		oa += ka;
		ob += kb;
	}
	sha256x_final(&a, ga);
	sha256x_final(&b, gb);
	ck_assert(memcmp(wa, ga, 32) == 0);
	ck_assert(memcmp(wb, gb, 32) == 0);
	free(x);
	free(y);
}
END_TEST

/* RFC 4231 4.2, 4.3 and 4.7 (a key longer than a block) */
START_TEST(hmac_rfc4231)
{
	unsigned char md[32], k1[20], k6[131];
	memset(k1, 0x0b, sizeof(k1));
	sha256x_hmac(k1, sizeof(k1), "Hi There", 8, md);
	check_hex(md, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	const char *m2 = "what do ya want for nothing?";
	sha256x_hmac("Jefe", 4, m2, strlen(m2), md);
	check_hex(md, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(k6, 0xaa, sizeof(k6));
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	sha256x_hmac(k6, sizeof(k6), m6, strlen(m6), md);
	check_hex(md, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}
END_TEST

START_TEST(hmac_against_openssl)
{
	unsigned char key[200], msg[300], got[32], want[32];
	uint32_t x = 0x9e3779b9u;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)rnd(&x);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)rnd(&x);
	for (size_t kl = 0; kl <= sizeof(key); kl++) {
		size_t ml = rnd(&x) % sizeof(msg);
		/* RFC 2104: H((K ^ opad) || H((K ^ ipad) || m)), K hashed when long */
		unsigned char k[64] = {0}, buf[64 + sizeof(msg)];
		if (kl > 64)
			openssl(key, kl, k);
		else
			memcpy(k, key, kl);
		for (int i = 0; i < 64; i++)
			buf[i] = k[i] ^ 0x36;
		memcpy(buf + 64, msg, ml);
		openssl(buf, 64 + ml, want);
		for (int i = 0; i < 64; i++)
			buf[i] = k[i] ^ 0x5c;
		memcpy(buf + 64, want, 32);
		openssl(buf, 64 + 32, want);
		sha256x_hmac(key, kl, msg, ml, got);
		ck_assert_msg(memcmp(got, want, 32) == 0, "key %zu bytes, message %zu", kl, ml);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("sha256x");
	TCase *tc = tcase_create("sha256x");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, nist_accelerated);
	tcase_add_test(tc, nist_fallback);
	tcase_add_test(tc, cpu_check_matches_cpuinfo);
	tcase_add_test(tc, every_length_accelerated);
	tcase_add_test(tc, every_length_fallback);
	tcase_add_test(tc, two_different);
	tcase_add_test(tc, two_same_bytes);
	tcase_add_test(tc, two_same_buffer);
	tcase_add_test(tc, two_fallback);
	tcase_add_test(tc, two_mixed_kinds);
	tcase_add_test(tc, large_random_splits);
	tcase_add_test(tc, hmac_rfc4231);
	tcase_add_test(tc, hmac_against_openssl);
	suite_add_tcase(s, tc);
	return s;
}
