/* dl_crypto.c: the libcrypto functions contain calls, opened on first use
 * (dlib.h): libcrypto's start (3,500 symbol and 17,000 relative
 * relocations, its constructors) is most of what a bare `contain version`
 * would cost. One line per function: F(ret, name, (params), (args)), or
 * V(name, (params), (args)) when it returns void; N(name): resolved,
 * defined by hand below. */
#include <stdarg.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "dlib-wrap.h"

#define DLIB_ME	   DLIB_CRYPTO
#define DLIB_TABLE dlib_table_crypto

#define SYMS(F, V, N)                                                                              \
	F(long int, BIO_ctrl, (BIO * a0, int a1, long int a2, void *a3), (a0, a1, a2, a3))         \
	F(int, BIO_free, (BIO * a0), (a0))                                                         \
	F(BIO *, BIO_new, (const BIO_METHOD *a0), (a0))                                            \
	F(BIO *, BIO_new_mem_buf, (const void *a0, int a1), (a0, a1))                              \
	F(const BIO_METHOD *, BIO_s_mem, (void), ())                                               \
	F(const BIO_METHOD *, BIO_s_secmem, (void), ())                                            \
	F(int, CRYPTO_memcmp, (const void *a0, const void *a1, size_t a2), (a0, a1, a2))           \
	F(int, EVP_DecodeBlock, (unsigned char *a0, const unsigned char *a1, int a2),              \
	  (a0, a1, a2))                                                                            \
	F(int, EVP_Digest,                                                                         \
	  (const void *a0, size_t a1, unsigned char *a2, unsigned int *a3, const EVP_MD *a4,       \
	   ENGINE *a5),                                                                            \
	  (a0, a1, a2, a3, a4, a5))                                                                \
	F(int, EVP_DigestFinal_ex, (EVP_MD_CTX * a0, unsigned char *a1, unsigned int *a2),         \
	  (a0, a1, a2))                                                                            \
	F(int, EVP_DigestInit_ex, (EVP_MD_CTX * a0, const EVP_MD *a1, ENGINE *a2), (a0, a1, a2))   \
	F(int, EVP_DigestSign,                                                                     \
	  (EVP_MD_CTX * a0, unsigned char *a1, size_t *a2, const unsigned char *a3, size_t a4),    \
	  (a0, a1, a2, a3, a4))                                                                    \
	F(int, EVP_DigestSignInit,                                                                 \
	  (EVP_MD_CTX * a0, EVP_PKEY_CTX * *a1, const EVP_MD *a2, ENGINE *a3, EVP_PKEY *a4),       \
	  (a0, a1, a2, a3, a4))                                                                    \
	F(int, EVP_DigestUpdate, (EVP_MD_CTX * a0, const void *a1, size_t a2), (a0, a1, a2))       \
	F(int, EVP_DigestVerify,                                                                   \
	  (EVP_MD_CTX * a0, const unsigned char *a1, size_t a2, const unsigned char *a3,           \
	   size_t a4),                                                                             \
	  (a0, a1, a2, a3, a4))                                                                    \
	F(int, EVP_DigestVerifyInit,                                                               \
	  (EVP_MD_CTX * a0, EVP_PKEY_CTX * *a1, const EVP_MD *a2, ENGINE *a3, EVP_PKEY *a4),       \
	  (a0, a1, a2, a3, a4))                                                                    \
	F(int, EVP_EncodeBlock, (unsigned char *a0, const unsigned char *a1, int a2),              \
	  (a0, a1, a2))                                                                            \
	V(EVP_MD_CTX_free, (EVP_MD_CTX * a0), (a0))                                                \
	F(EVP_MD_CTX *, EVP_MD_CTX_new, (void), ())                                                \
	F(EVP_MD *, EVP_MD_fetch, (OSSL_LIB_CTX * a0, const char *a1, const char *a2),             \
	  (a0, a1, a2))                                                                            \
	V(EVP_MD_free, (EVP_MD * a0), (a0))                                                        \
	V(EVP_PKEY_CTX_free, (EVP_PKEY_CTX * a0), (a0))                                            \
	F(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_id, (int a0, ENGINE *a1), (a0, a1))                     \
	N(EVP_PKEY_Q_keygen)                                                                       \
	V(EVP_PKEY_free, (EVP_PKEY * a0), (a0))                                                    \
	F(int, EVP_PKEY_get_id, (const EVP_PKEY *a0), (a0))                                        \
	F(int, EVP_PKEY_get_raw_public_key, (const EVP_PKEY *a0, unsigned char *a1, size_t *a2),   \
	  (a0, a1, a2))                                                                            \
	F(int, EVP_PKEY_keygen, (EVP_PKEY_CTX * a0, EVP_PKEY * *a1), (a0, a1))                     \
	F(int, EVP_PKEY_keygen_init, (EVP_PKEY_CTX * a0), (a0))                                    \
	F(EVP_PKEY *, EVP_PKEY_new_raw_private_key,                                                \
	  (int a0, ENGINE *a1, const unsigned char *a2, size_t a3), (a0, a1, a2, a3))              \
	F(EVP_PKEY *, EVP_PKEY_new_raw_public_key,                                                 \
	  (int a0, ENGINE *a1, const unsigned char *a2, size_t a3), (a0, a1, a2, a3))              \
	F(const EVP_MD *, EVP_sha256, (void), ())                                                  \
	F(EVP_PKEY *, PEM_read_bio_PUBKEY,                                                         \
	  (BIO * a0, EVP_PKEY * *a1, pem_password_cb * a2, void *a3), (a0, a1, a2, a3))            \
	F(EVP_PKEY *, PEM_read_bio_PrivateKey,                                                     \
	  (BIO * a0, EVP_PKEY * *a1, pem_password_cb * a2, void *a3), (a0, a1, a2, a3))            \
	F(int, PEM_write_PUBKEY, (FILE * a0, const EVP_PKEY *a1), (a0, a1))                        \
	F(int, PEM_write_PrivateKey,                                                               \
	  (FILE * a0, const EVP_PKEY *a1, const EVP_CIPHER *a2, const unsigned char *a3, int a4,   \
	   pem_password_cb *a5, void *a6),                                                         \
	  (a0, a1, a2, a3, a4, a5, a6))                                                            \
	F(int, PEM_write_bio_PUBKEY, (BIO * a0, const EVP_PKEY *a1), (a0, a1))                     \
	F(int, PEM_write_bio_PrivateKey,                                                           \
	  (BIO * a0, const EVP_PKEY *a1, const EVP_CIPHER *a2, const unsigned char *a3, int a4,    \
	   pem_password_cb *a5, void *a6),                                                         \
	  (a0, a1, a2, a3, a4, a5, a6))                                                            \
	F(int, RAND_bytes, (unsigned char *a0, int a1), (a0, a1))

DLIB_WRAPPERS(SYMS)

/* variadic: its extra argument is the one EVP_RSA_gen (a size_t) or
 * EVP_EC_gen (a curve name) passes; the other types take none */
EVP_PKEY *EVP_PKEY_Q_keygen(OSSL_LIB_CTX *libctx, const char *propq, const char *type, ...)
{
	EVP_PKEY *(*fn)(OSSL_LIB_CTX *, const char *, const char *, ...);
	EVP_PKEY *k;
	va_list ap;

	DLIB_ENSURE();
	fn = (__typeof__(fn))dlib_ptrs[DLIB_I_EVP_PKEY_Q_keygen];
	va_start(ap, type);
	if (type && strcmp(type, "RSA") == 0)
		k = fn(libctx, propq, type, va_arg(ap, size_t));
	else if (type && strcmp(type, "EC") == 0)
		k = fn(libctx, propq, type, va_arg(ap, char *));
	else
		k = fn(libctx, propq, type);
	va_end(ap);
	return k;
}
