/* sign.c: Ed25519 key pairs, fingerprints, signatures (libcrypto). */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "contain/sign.h"

#define KEY_FILE_MAX (64 * 1024)

int sign_raw_public(EVP_PKEY *k, unsigned char raw[SIGN_RAW_PUB_LEN], struct err *e)
{
	size_t len = SIGN_RAW_PUB_LEN;
	if (EVP_PKEY_get_raw_public_key(k, raw, &len) != 1 || len != SIGN_RAW_PUB_LEN)
		return err_set(e, ERR_INVALID, "not an Ed25519 key");
	return 0;
}

int sign_fingerprint(EVP_PKEY *k, char fpr[SIGN_FPR_HEX], struct err *e)
{
	unsigned char raw[SIGN_RAW_PUB_LEN], md[32];
	unsigned int mdlen = 0;
	if (sign_raw_public(k, raw, e) < 0)
		return -1;
	if (EVP_Digest(raw, sizeof(raw), md, &mdlen, EVP_sha256(), NULL) != 1)
		return err_set(e, ERR_SYS, "sha256 failed");
	hex_encode(md, 32, fpr);
	return 0;
}

EVP_PKEY *sign_public_from_raw(const unsigned char raw[SIGN_RAW_PUB_LEN])
{
	return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, SIGN_RAW_PUB_LEN);
}

/* write a memory BIO's bytes to a new file, then wipe them */
static int bio_to_new_file(BIO *bio, const char *path, mode_t mode, struct err *e)
{
	char *p = NULL;
	long n = BIO_get_mem_data(bio, &p);
	if (n <= 0 || !p)
		return err_set(e, ERR_SYS, "encode key for '%s'", path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		int saved = errno;
		explicit_bzero(p, (size_t)n);
		return err_sys(e, saved, "create '%s'", path);
	}
	int rc = 0;
	if (fchmod(fd, mode) < 0 || write_all(fd, p, (size_t)n) < 0 || fsync(fd) < 0)
		rc = err_sys(e, errno, "write '%s'", path);
	explicit_bzero(p, (size_t)n);
	if (close(fd) < 0 && rc == 0)
		rc = err_sys(e, errno, "close '%s'", path);
	if (rc < 0)
		unlink(path);
	return rc;
}

int sign_keygen(const char *base, char fpr[SIGN_FPR_HEX], struct err *e)
{
	_cleanup_free_ char *kpath = xasprintf("%s.key", base);
	_cleanup_free_ char *ppath = xasprintf("%s.pub", base);
	struct stat st;
	/* refuse before making anything if either exists */
	if (lstat(kpath, &st) == 0)
		return err_set(e, ERR_INVALID, "'%s' already exists: not overwriting it", kpath);
	if (lstat(ppath, &st) == 0)
		return err_set(e, ERR_INVALID, "'%s' already exists: not overwriting it", ppath);
	_cleanup_pkey_ EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &k) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return err_set(e, ERR_SYS, "ed25519 key generation failed");
	}
	EVP_PKEY_CTX_free(ctx);
	if (sign_fingerprint(k, fpr, e) < 0)
		return -1;
	BIO *kb = BIO_new(BIO_s_secmem());
	BIO *pb = BIO_new(BIO_s_mem());
	int rc = -1;
	if (!kb || !pb || PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_PUBKEY(pb, k) != 1) {
		err_set(e, ERR_SYS, "encode key pair '%s'", base);
		goto out;
	}
	if (bio_to_new_file(kb, kpath, 0600, e) < 0)
		goto out;
	if (bio_to_new_file(pb, ppath, 0644, e) < 0) {
		unlink(kpath);
		goto out;
	}
	rc = 0;
out:
	BIO_free(kb);
	BIO_free(pb);
	return rc;
}

static int read_key_file(const char *path, char **buf, size_t *len, struct err *e)
{
	bool trunc = false;
	if (read_file_at(AT_FDCWD, path, KEY_FILE_MAX, buf, len, &trunc, e) < 0)
		return -1;
	if (trunc) {
		explicit_bzero(*buf, *len);
		free(*buf);
		*buf = NULL;
		return err_set(e, ERR_INVALID, "key file '%s' is too large", path);
	}
	return 0;
}

int sign_load_private(const char *path, EVP_PKEY **out, struct err *e)
{
	char *buf;
	size_t len;
	if (read_key_file(path, &buf, &len, e) < 0)
		return -1;
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	explicit_bzero(buf, len);
	free(buf);
	if (!k)
		return err_set(e, ERR_INVALID, "'%s' is not a PEM private key", path);
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return err_set(e, ERR_INVALID, "'%s' is not an Ed25519 key", path);
	}
	*out = k;
	return 0;
}

int sign_load_public(const char *path, EVP_PKEY **out, struct err *e)
{
	char *buf;
	size_t len;
	if (read_key_file(path, &buf, &len, e) < 0)
		return -1;
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	bool other_private = false; /* a private key of another type */
	if (!k && b) {
		BIO_free(b);
		b = BIO_new_mem_buf(buf, (int)len);
		EVP_PKEY *priv = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
		if (priv && EVP_PKEY_get_id(priv) != EVP_PKEY_ED25519) {
			other_private = true;
		} else if (priv) {
			unsigned char raw[SIGN_RAW_PUB_LEN];
			size_t rl = sizeof(raw);
			if (EVP_PKEY_get_raw_public_key(priv, raw, &rl) == 1)
				k = sign_public_from_raw(raw);
		}
		EVP_PKEY_free(priv);
	}
	BIO_free(b);
	explicit_bzero(buf, len);
	free(buf);
	if (other_private)
		return err_set(e, ERR_INVALID, "'%s' is not an Ed25519 key", path);
	if (!k)
		return err_set(e, ERR_INVALID, "'%s' is not a PEM public key", path);
	if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return err_set(e, ERR_INVALID, "'%s' is not an Ed25519 key", path);
	}
	*out = k;
	return 0;
}

int sign_buf(EVP_PKEY *k, const void *data, size_t n, unsigned char sig[SIGN_SIG_LEN],
	     struct err *e)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = SIGN_SIG_LEN;
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) == 1 &&
		 EVP_DigestSign(ctx, sig, &siglen, data, n) == 1 && siglen == SIGN_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return err_set(e, ERR_SYS, "ed25519 signing failed");
	return 0;
}

int sign_check(EVP_PKEY *k, const void *data, size_t n, const unsigned char *sig,
	       size_t siglen)
{
	if (siglen != SIGN_SIG_LEN)
		return 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) == 1 &&
		 EVP_DigestVerify(ctx, sig, siglen, data, n) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 1 : 0;
}
