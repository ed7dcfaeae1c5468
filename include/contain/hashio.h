/* hashio: streaming SHA-256 that moves to a second thread once the data is
 * large, so the caller's write (or read) runs while the hash is computed. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "contain/util.h"

#define HASH_LEN 32
#define HASH_HEX 65

struct hasher;

struct hasher *hasher_new(void);
/* Hash n bytes (copied when threaded: buf is free to reuse on return). */
void hasher_update(struct hasher *h, const void *buf, size_t n);
/* Hash n zero bytes (a hole) without a buffer of them. */
void hasher_zeros(struct hasher *h, uint64_t n);
/* For readers: a free buffer to read into (blocks until one is free), then
 * hasher_submit() the bytes put there. Avoids the copy. */
void *hasher_buf(struct hasher *h, size_t *cap);
void hasher_submit(struct hasher *h, size_t n);
/* Finish: out gets the digest; the hasher cannot be used again. */
void hasher_final(struct hasher *h, unsigned char out[HASH_LEN]);
uint64_t hasher_bytes(const struct hasher *h);
void hasher_free(struct hasher *h);

/* One-shot helpers. */
void sha256_buf(const void *buf, size_t n, unsigned char out[HASH_LEN]);
void sha256_hex(const void *buf, size_t n, char out[HASH_HEX]);
/* Hash an open fd from its offset to EOF (read on this thread, hash on a
 * second). *size gets the bytes read. */
int sha256_fd(int fd, unsigned char out[HASH_LEN], uint64_t *size, struct err *e);
