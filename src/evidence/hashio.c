/* hashio.c: SHA-256 while writing or reading, on a second thread for big
 * data. Small data is hashed inline: no thread for a 200-byte JSON file. */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "contain/hashio.h"

enum {
	SLOT_SIZE = 1 << 20,
	NSLOT = 4,
	INLINE_LIMIT = 1 << 20, /* bytes hashed inline before a thread starts */
};

struct slot {
	char *buf;
	size_t len;	 /* data bytes */
	uint64_t zeros;	 /* or a run of zeros */
	bool full;
};

struct hasher {
	EVP_MD_CTX *ctx;
	uint64_t bytes;
	bool threaded, done, stop;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv_full, cv_free;
	struct slot slots[NSLOT];
	unsigned head, tail; /* head: next to fill; tail: next to hash */
	size_t fill;	     /* bytes in slots[head] being filled (update()) */
};

static const unsigned char zero_page[65536];

static void md_zeros(EVP_MD_CTX *ctx, uint64_t n)
{
	while (n) {
		size_t k = n > sizeof(zero_page) ? sizeof(zero_page) : (size_t)n;
		EVP_DigestUpdate(ctx, zero_page, k);
		n -= k;
	}
}

static void *worker(void *arg)
{
	struct hasher *h = arg;
	pthread_mutex_lock(&h->mu);
	for (;;) {
		struct slot *s = &h->slots[h->tail];
		while (!s->full && !h->stop)
			pthread_cond_wait(&h->cv_full, &h->mu);
		if (!s->full && h->stop)
			break;
		pthread_mutex_unlock(&h->mu);
		if (s->len)
			EVP_DigestUpdate(h->ctx, s->buf, s->len);
		if (s->zeros)
			md_zeros(h->ctx, s->zeros);
		pthread_mutex_lock(&h->mu);
		s->full = false;
		s->len = 0;
		s->zeros = 0;
		h->tail = (h->tail + 1) % NSLOT;
		pthread_cond_signal(&h->cv_free);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

struct hasher *hasher_new(void)
{
	struct hasher *h = xcalloc(1, sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		abort();
	return h;
}

static void start_thread(struct hasher *h)
{
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv_full, NULL);
	pthread_cond_init(&h->cv_free, NULL);
	for (unsigned i = 0; i < NSLOT; i++)
		h->slots[i].buf = xmalloc(SLOT_SIZE);
	if (pthread_create(&h->thr, NULL, worker, h) != 0) {
		/* no thread: stay inline (correct, only slower) */
		for (unsigned i = 0; i < NSLOT; i++)
			free(h->slots[i].buf);
		pthread_mutex_destroy(&h->mu);
		pthread_cond_destroy(&h->cv_full);
		pthread_cond_destroy(&h->cv_free);
		memset(h->slots, 0, sizeof(h->slots));
		return;
	}
	h->threaded = true;
}

/* wait until slots[head] is free (called with the lock held) */
static struct slot *wait_head(struct hasher *h)
{
	struct slot *s = &h->slots[h->head];
	while (s->full)
		pthread_cond_wait(&h->cv_free, &h->mu);
	return s;
}

static void push_head(struct hasher *h)
{
	h->slots[h->head].full = true;
	h->head = (h->head + 1) % NSLOT;
	h->fill = 0;
	pthread_cond_signal(&h->cv_full);
}

/* hand the partly filled slot over (lock held) */
static void flush_fill(struct hasher *h)
{
	if (h->fill) {
		h->slots[h->head].len = h->fill;
		push_head(h);
	}
}

static bool want_thread(struct hasher *h, uint64_t more)
{
	if (!h->threaded && h->bytes + more > INLINE_LIMIT)
		start_thread(h);
	return h->threaded;
}

void hasher_update(struct hasher *h, const void *buf, size_t n)
{
	const char *p = buf;
	if (!want_thread(h, n)) {
		EVP_DigestUpdate(h->ctx, buf, n);
		h->bytes += n;
		return;
	}
	h->bytes += n;
	pthread_mutex_lock(&h->mu);
	while (n) {
		struct slot *s = wait_head(h);
		size_t k = SLOT_SIZE - h->fill;
		if (k > n)
			k = n;
		pthread_mutex_unlock(&h->mu);
		memcpy(s->buf + h->fill, p, k);
		pthread_mutex_lock(&h->mu);
		h->fill += k;
		p += k;
		n -= k;
		if (h->fill == SLOT_SIZE) {
			s->len = SLOT_SIZE;
			push_head(h);
		}
	}
	pthread_mutex_unlock(&h->mu);
}

void hasher_zeros(struct hasher *h, uint64_t n)
{
	if (!n)
		return;
	if (!want_thread(h, n)) {
		md_zeros(h->ctx, n);
		h->bytes += n;
		return;
	}
	h->bytes += n;
	pthread_mutex_lock(&h->mu);
	flush_fill(h);
	struct slot *s = wait_head(h);
	s->zeros = n;
	push_head(h);
	pthread_mutex_unlock(&h->mu);
}

void *hasher_buf(struct hasher *h, size_t *cap)
{
	if (!h->threaded)
		start_thread(h);
	if (!h->threaded) {
		/* no thread could start: a private buffer in slot 0 */
		if (!h->slots[0].buf)
			h->slots[0].buf = xmalloc(SLOT_SIZE);
		*cap = SLOT_SIZE;
		return h->slots[0].buf;
	}
	pthread_mutex_lock(&h->mu);
	flush_fill(h);
	struct slot *s = wait_head(h);
	pthread_mutex_unlock(&h->mu);
	*cap = SLOT_SIZE;
	return s->buf;
}

void hasher_submit(struct hasher *h, size_t n)
{
	h->bytes += n;
	if (!h->threaded) {
		EVP_DigestUpdate(h->ctx, h->slots[0].buf, n);
		return;
	}
	if (!n)
		return;
	pthread_mutex_lock(&h->mu);
	h->slots[h->head].len = n;
	push_head(h);
	pthread_mutex_unlock(&h->mu);
}

static void stop_thread(struct hasher *h)
{
	if (!h->threaded)
		return;
	pthread_mutex_lock(&h->mu);
	flush_fill(h);
	h->stop = true;
	pthread_cond_signal(&h->cv_full);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thr, NULL);
	h->threaded = false;
	for (unsigned i = 0; i < NSLOT; i++) {
		free(h->slots[i].buf);
		h->slots[i].buf = NULL;
	}
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv_full);
	pthread_cond_destroy(&h->cv_free);
}

void hasher_final(struct hasher *h, unsigned char out[HASH_LEN])
{
	unsigned int len = 0;
	stop_thread(h);
	if (h->done || EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != HASH_LEN)
		abort(); /* a programming error, or libcrypto without SHA-256 */
	h->done = true;
}

uint64_t hasher_bytes(const struct hasher *h)
{
	return h->bytes;
}

void hasher_free(struct hasher *h)
{
	if (!h)
		return;
	stop_thread(h);
	free(h->slots[0].buf); /* the no-thread fallback buffer */
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

/* SHA-256 fetched once: EVP_sha256() fetches it anew on every digest in
 * OpenSSL 3 (a third of the time of hashing a normalized alert) */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!sha256_md)
		abort();
}

void sha256_buf(const void *buf, size_t n, unsigned char out[HASH_LEN])
{
	unsigned int len = 0;
	pthread_once(&sha256_once, sha256_fetch);
	if (EVP_Digest(buf, n, out, &len, sha256_md, NULL) != 1)
		abort();
}

void sha256_hex(const void *buf, size_t n, char out[HASH_HEX])
{
	unsigned char md[HASH_LEN];
	sha256_buf(buf, n, md);
	hex_encode(md, HASH_LEN, out);
}

int sha256_fd(int fd, unsigned char out[HASH_LEN], uint64_t *size, struct err *e)
{
	struct hasher *h = hasher_new();
	/* small files: one read inline, no thread */
	char small[65536];
	ssize_t r;
	do
		r = read(fd, small, sizeof(small));
	while (r < 0 && errno == EINTR);
	if (r < 0)
		goto fail;
	hasher_update(h, small, (size_t)r);
	if ((size_t)r == sizeof(small)) {
		for (;;) {
			size_t cap;
			char *buf = hasher_buf(h, &cap);
			do
				r = read(fd, buf, cap);
			while (r < 0 && errno == EINTR);
			if (r < 0)
				goto fail;
			hasher_submit(h, (size_t)r);
			if (r == 0)
				break;
		}
	}
	*size = hasher_bytes(h);
	hasher_final(h, out);
	hasher_free(h);
	return 0;
fail:;
	int saved = errno;
	hasher_free(h);
	return err_sys(e, saved, "read");
}
