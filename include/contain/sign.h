/* sign: Ed25519 keys and signatures for sealing bags (libcrypto). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "contain/util.h"

#define SIGN_SIG_LEN 64
#define SIGN_RAW_PUB_LEN 32
#define SIGN_FPR_HEX 65 /* SHA-256 of the raw 32-byte public key, hex */

/* Make a key pair: BASE.key (PEM PKCS8, 0600) and BASE.pub (PEM
 * SubjectPublicKeyInfo, 0644), both O_EXCL|O_NOFOLLOW: never overwrites. */
int sign_keygen(const char *base, char fpr[SIGN_FPR_HEX], struct err *e);
/* Load an Ed25519 private key (PEM PKCS8). The file buffer is wiped. */
int sign_load_private(const char *path, EVP_PKEY **out, struct err *e);
/* Load an Ed25519 public key: PEM SubjectPublicKeyInfo, or a private key
 * file (its public half is taken). */
int sign_load_public(const char *path, EVP_PKEY **out, struct err *e);
EVP_PKEY *sign_public_from_raw(const unsigned char raw[SIGN_RAW_PUB_LEN]);
int sign_raw_public(EVP_PKEY *k, unsigned char raw[SIGN_RAW_PUB_LEN], struct err *e);
int sign_fingerprint(EVP_PKEY *k, char fpr[SIGN_FPR_HEX], struct err *e);
int sign_buf(EVP_PKEY *k, const void *data, size_t n, unsigned char sig[SIGN_SIG_LEN],
	     struct err *e);
/* 1 valid, 0 not valid. */
int sign_check(EVP_PKEY *k, const void *data, size_t n, const unsigned char *sig,
	       size_t siglen);

static inline void evp_pkey_freep(EVP_PKEY **k)
{
	if (*k)
		EVP_PKEY_free(*k);
}
#define _cleanup_pkey_ _cleanup_(evp_pkey_freep)
