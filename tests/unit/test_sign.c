/* test_sign: Ed25519 keys and signatures (src/evidence/sign.c): key files
 * made once (O_EXCL, 0600), loaded back, signatures that hold and ones that
 * do not, and keys that are not Ed25519 refused by name. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/pem.h>

#include "contain/sign.h"
#include "unit.h"

static char dir[64];

static void setup(void)
{
	unit_tmpdir(dir, sizeof(dir), "test_sign");
}

static void teardown(void)
{
	unit_tmpdir_remove(dir);
}

static char *at(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
	return buf;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	ck_assert_int_eq(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

START_TEST(keygen_round_trip)
{
	struct err e = {0};
	char base[128], kp[160], pp[160];
	char fpr[SIGN_FPR_HEX], fpr2[SIGN_FPR_HEX], fpr3[SIGN_FPR_HEX];
	at(base, sizeof(base), "k");
	snprintf(kp, sizeof(kp), "%s.key", base);
	snprintf(pp, sizeof(pp), "%s.pub", base);
	mode_t old = umask(0); /* the modes must not depend on the umask */
	int rc = sign_keygen(base, fpr, &e);
	umask(old);
	ck_assert_msg(rc == 0, "%s", e.msg);
	ck_assert_int_eq(mode_of(kp), 0600);
	ck_assert_int_eq(mode_of(pp), 0644);
	ck_assert_uint_eq(strlen(fpr), 64);
	ck_assert(is_hex_string(fpr));

	_cleanup_pkey_ EVP_PKEY *priv = NULL;
	_cleanup_pkey_ EVP_PKEY *pub = NULL;
	_cleanup_pkey_ EVP_PKEY *pub_from_priv = NULL;
	ck_assert_msg(sign_load_private(kp, &priv, &e) == 0, "%s", e.msg);
	ck_assert_msg(sign_load_public(pp, &pub, &e) == 0, "%s", e.msg);
	/* a private key file gives its public half */
	ck_assert_msg(sign_load_public(kp, &pub_from_priv, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(sign_fingerprint(pub, fpr2, &e), 0);
	ck_assert_int_eq(sign_fingerprint(priv, fpr3, &e), 0);
	ck_assert_str_eq(fpr, fpr2);
	ck_assert_str_eq(fpr, fpr3);
	/* the raw public key round trip */
	unsigned char raw[SIGN_RAW_PUB_LEN];
	ck_assert_int_eq(sign_raw_public(pub, raw, &e), 0);
	_cleanup_pkey_ EVP_PKEY *again = sign_public_from_raw(raw);
	ck_assert_ptr_nonnull(again);
	ck_assert_int_eq(sign_fingerprint(again, fpr2, &e), 0);
	ck_assert_str_eq(fpr, fpr2);
	/* the private key file is PEM PKCS8 */
	char *buf;
	size_t len;
	ck_assert_int_eq(read_file_at(AT_FDCWD, kp, 1 << 16, &buf, &len, NULL, &e), 0);
	ck_assert(str_has_prefix(buf, "-----BEGIN PRIVATE KEY-----\n"));
	free(buf);
}
END_TEST

START_TEST(keygen_never_overwrites)
{
	struct err e = {0};
	char base[128], kp[160], pp[160], other[160];
	char fpr[SIGN_FPR_HEX];
	at(base, sizeof(base), "k");
	snprintf(kp, sizeof(kp), "%s.key", base);
	snprintf(pp, sizeof(pp), "%s.pub", base);
	ck_assert_int_eq(sign_keygen(base, fpr, &e), 0);
	char *before;
	size_t blen;
	ck_assert_int_eq(read_file_at(AT_FDCWD, kp, 1 << 16, &before, &blen, NULL, &e), 0);
	ck_assert_int_eq(sign_keygen(base, fpr, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "already exists"));
	char *after;
	size_t alen;
	ck_assert_int_eq(read_file_at(AT_FDCWD, kp, 1 << 16, &after, &alen, NULL, &e), 0);
	ck_assert_uint_eq(alen, blen);
	ck_assert_int_eq(memcmp(before, after, blen), 0);
	free(before);
	free(after);
	/* only the .pub exists: still refused, no .key made */
	unlink(kp);
	ck_assert_int_eq(sign_keygen(base, fpr, &e), -1);
	ck_assert_int_eq(access(kp, F_OK), -1);
	/* a dangling symlink where the key would go: never followed */
	unlink(pp);
	at(other, sizeof(other), "elsewhere");
	ck_assert_int_eq(symlink(other, kp), 0);
	ck_assert_int_eq(sign_keygen(base, fpr, &e), -1);
	ck_assert_int_eq(access(other, F_OK), -1);
	ck_assert_int_eq(access(pp, F_OK), -1);
}
END_TEST

START_TEST(sign_and_check)
{
	struct err e = {0};
	char base[128], kp[160], base2[128], kp2[160];
	char fpr[SIGN_FPR_HEX];
	at(base, sizeof(base), "a");
	at(base2, sizeof(base2), "b");
	snprintf(kp, sizeof(kp), "%s.key", base);
	snprintf(kp2, sizeof(kp2), "%s.key", base2);
	ck_assert_int_eq(sign_keygen(base, fpr, &e), 0);
	ck_assert_int_eq(sign_keygen(base2, fpr, &e), 0);
	_cleanup_pkey_ EVP_PKEY *k = NULL;
	_cleanup_pkey_ EVP_PKEY *k2 = NULL;
	ck_assert_int_eq(sign_load_private(kp, &k, &e), 0);
	ck_assert_int_eq(sign_load_private(kp2, &k2, &e), 0);
	static const char msg[] = "tagmanifest-sha256.txt bytes";
	unsigned char sig[SIGN_SIG_LEN];
	ck_assert_int_eq(sign_buf(k, msg, sizeof(msg) - 1, sig, &e), 0);
	ck_assert_int_eq(sign_check(k, msg, sizeof(msg) - 1, sig, sizeof(sig)), 1);
	/* Ed25519 is deterministic: the same bytes, the same signature */
	unsigned char sig2[SIGN_SIG_LEN];
	ck_assert_int_eq(sign_buf(k, msg, sizeof(msg) - 1, sig2, &e), 0);
	ck_assert_int_eq(memcmp(sig, sig2, sizeof(sig)), 0);
	/* a flipped bit of the message, of the signature: no */
	char bad[sizeof(msg)];
	memcpy(bad, msg, sizeof(msg));
	bad[3] ^= 0x01;
	ck_assert_int_eq(sign_check(k, bad, sizeof(msg) - 1, sig, sizeof(sig)), 0);
	for (size_t bit = 0; bit < 8 * sizeof(sig); bit += 61) {
		unsigned char s2[SIGN_SIG_LEN];
		memcpy(s2, sig, sizeof(s2));
		s2[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		ck_assert_int_eq(sign_check(k, msg, sizeof(msg) - 1, s2, sizeof(s2)), 0);
	}
	/* the wrong key, a short signature: no */
	ck_assert_int_eq(sign_check(k2, msg, sizeof(msg) - 1, sig, sizeof(sig)), 0);
	ck_assert_int_eq(sign_check(k, msg, sizeof(msg) - 1, sig, sizeof(sig) - 1), 0);
	/* the empty message signs and checks too */
	ck_assert_int_eq(sign_buf(k, "", 0, sig, &e), 0);
	ck_assert_int_eq(sign_check(k, "", 0, sig, sizeof(sig)), 1);
}
END_TEST

/* write an EC P-256 key pair as PEM (a key that is not Ed25519) */
static void write_ec(const char *kp, const char *pp)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ck_assert_ptr_nonnull(k);
	FILE *f = fopen(kp, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
	f = fopen(pp, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_PUBKEY(f, k), 1);
	fclose(f);
	EVP_PKEY_free(k);
}

START_TEST(not_ed25519_refused)
{
	struct err e = {0};
	char kp[160], pp[160], junk[160];
	at(kp, sizeof(kp), "ec.key");
	at(pp, sizeof(pp), "ec.pub");
	write_ec(kp, pp);
	EVP_PKEY *k = NULL;
	ck_assert_int_eq(sign_load_private(kp, &k, &e), -1);
	ck_assert_ptr_null(k);
	ck_assert_int_eq(e.kind, ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(e.msg, "is not an Ed25519 key"));
	ck_assert_ptr_nonnull(strstr(e.msg, kp));
	err_clear(&e);
	ck_assert_int_eq(sign_load_public(pp, &k, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "is not an Ed25519 key"));
	err_clear(&e);
	ck_assert_int_eq(sign_load_public(kp, &k, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "Ed25519"));
	/* not PEM at all; a public key where a private one is wanted */
	at(junk, sizeof(junk), "junk");
	int fd = open(junk, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_eq(write_all(fd, "hello\n", 6), 0);
	close(fd);
	err_clear(&e);
	ck_assert_int_eq(sign_load_private(junk, &k, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "is not a PEM private key"));
	err_clear(&e);
	ck_assert_int_eq(sign_load_public(junk, &k, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "is not a PEM public key"));
	char base[128], fpr[SIGN_FPR_HEX], pub[160];
	at(base, sizeof(base), "ed");
	snprintf(pub, sizeof(pub), "%s.pub", base);
	ck_assert_int_eq(sign_keygen(base, fpr, &e), 0);
	err_clear(&e);
	ck_assert_int_eq(sign_load_private(pub, &k, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "is not a PEM private key"));
	/* a missing file: a system error naming it */
	err_clear(&e);
	ck_assert_int_eq(sign_load_private(at(junk, sizeof(junk), "missing"), &k, &e), -1);
	ck_assert_int_eq(e.kind, ERR_SYS);
	ck_assert_ptr_nonnull(strstr(e.msg, "missing"));
	/* a key file too large to be one */
	at(junk, sizeof(junk), "big");
	fd = open(junk, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	err_clear(&e);
	ck_assert_int_eq(sign_load_private(junk, &k, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "too large"));
}
END_TEST

static void unhex(const char *h, unsigned char *out, size_t n)
{
	ck_assert_uint_eq(strlen(h), 2 * n);
	ck_assert_int_eq(hex_decode(h, out, n), 0);
}

/* a known answer: RFC 8032 section 7.1, TEST 1 and TEST 2 (the keys, the
 * public half and the signatures are Ed25519's, not just self-consistent) */
static const struct {
	const char *secret, *public, *msg, *sig;
} rfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701"
     "cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d"
     "0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

START_TEST(rfc8032_vectors)
{
	for (size_t i = 0; i < sizeof(rfc8032) / sizeof(rfc8032[0]); i++) {
		unsigned char sk[32], pk[SIGN_RAW_PUB_LEN], want[SIGN_SIG_LEN], got[SIGN_SIG_LEN];
		unsigned char msg[8];
		size_t mlen = strlen(rfc8032[i].msg) / 2;
		unhex(rfc8032[i].secret, sk, sizeof(sk));
		unhex(rfc8032[i].public, pk, sizeof(pk));
		unhex(rfc8032[i].sig, want, sizeof(want));
		if (mlen)
			unhex(rfc8032[i].msg, msg, mlen);
		_cleanup_pkey_ EVP_PKEY *k =
		    EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk, sizeof(sk));
		ck_assert_ptr_nonnull(k);
		struct err e = {0};
		unsigned char raw[SIGN_RAW_PUB_LEN];
		ck_assert_int_eq(sign_raw_public(k, raw, &e), 0);
		ck_assert_mem_eq(raw, pk, sizeof(pk));
		ck_assert_int_eq(sign_buf(k, msg, mlen, got, &e), 0);
		ck_assert_mem_eq(got, want, sizeof(want));
		_cleanup_pkey_ EVP_PKEY *pub = sign_public_from_raw(pk);
		ck_assert_ptr_nonnull(pub);
		ck_assert_int_eq(sign_check(pub, msg, mlen, want, sizeof(want)), 1);
	}
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("sign");
	TCase *tc = tcase_create("sign");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, keygen_round_trip);
	tcase_add_test(tc, keygen_never_overwrites);
	tcase_add_test(tc, sign_and_check);
	tcase_add_test(tc, not_ed25519_refused);
	tcase_add_test(tc, rfc8032_vectors);
	suite_add_tcase(s, tc);
	return s;
}
