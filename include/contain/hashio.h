/* hashio: streaming SHA-256 that moves to a second thread once the data is
 * large, so the caller's write (or read) runs while the hash is computed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contain/util.h"

#define HASH_LEN 32
#define HASH_HEX 65

struct hasher;

struct hasher *hasher_new(void);
/* Hash on the caller's thread always, never copied: for a caller that is a
 * thread of its own already (a second thread would only add the copy). */
void hasher_inline(struct hasher *h);
/* Hash n bytes (copied when threaded: buf is free to reuse on return). */
void hasher_update(struct hasher *h, const void *buf, size_t n);
/* Hash n bytes in place, without a copy: once the data is large, on the
 * hasher's thread while the caller goes on (small data is hashed here);
 * buf must stay as it is until hasher_wait() returns. */
void hasher_update_ref(struct hasher *h, const void *buf, size_t n);
/* Wait until every byte given so far is hashed. */
void hasher_wait(struct hasher *h);
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

/* ---- hashpair: read and hash files two at a time on one thread ----
 *
 * SHA-NI is latency-bound (include/contain/sha256x.h): a thread that hashes
 * two files at once, their blocks interleaved, does ~1.4x the bytes of one.
 * hashpair_run() takes items from ops->next while it has a free slot of
 * two, reads each item in chunks of up to HASHPAIR_CHUNK bytes into that
 * slot's buffer, hashes what both slots hold together (one alone when the
 * other has nothing), and hands each finished item to ops->done. It never
 * waits for an item: when next has none and both slots are empty, it
 * returns. Items never mix: each digest is of exactly its own bytes. */
#define HASHPAIR_CHUNK (1u << 20)

struct hashres;

struct hashpair_item {
	int fd;		/* read here; hashpair never closes it (done may) */
	bool range;	/* pread [off, off + len); else read(2) to EOF */
	uint64_t off;	/* range: where the bytes start */
	uint64_t len;	/* range: how many; else the size fstat gave, or
			   UINT64_MAX: a short read that brings the bytes to
			   exactly len is the end (no second read(2) to see
			   EOF), a file that grew is read on */
	void *tag;	/* the caller's */
};

struct hashpair_ops {
	/* the next item: 1 (*it filled), 0 none now (never blocks long) */
	int (*next)(void *arg, struct hashpair_item *it);
	/* it is hashed: r->md (valid when r->err == 0), r->bytes read, r->err
	 * the errno of a failed read; r->tag is it->tag */
	void (*done)(void *arg, const struct hashpair_item *it, const struct hashres *r);
};

/* Buffers kept between runs (two of HASHPAIR_CHUNK, made on first use);
 * hashpair_bufs_free() frees them. */
struct hashpair_bufs {
	char *buf[2];
};

void hashpair_run(const struct hashpair_ops *ops, void *arg, struct hashpair_bufs *b);
void hashpair_bufs_free(struct hashpair_bufs *b);

/* ---- hashpool: a bounded pool of SHA-256 workers ----
 *
 * N worker threads hash jobs that a reader (the caller, one thread or
 * several) feeds. One job is one digest: a stream of chunks in order, or an
 * open fd that a worker reads itself. A job's chunks are hashed in order by
 * one worker at a time; different jobs run on different workers at once, so
 * many files use every core (one big file still runs at one core's rate).
 *
 * Bounds: the bytes held in queued chunks never pass max_queued (the feeding
 * calls block until workers free some), and at most max_jobs jobs are queued
 * or running (hashpool_job_fd and hashpool_job_begin block), so the reader
 * never runs ahead of the hashing by more than that. Workers never wait on
 * a job (a job with no chunk queued is set aside), so any mix of open jobs
 * cannot deadlock.
 *
 * Results: a finished job is posted with its tag; a pool's results are taken
 * either each by its job (hashpool_job_wait) or in completion order
 * (hashpool_next), one way per pool. Every stream job is ended, even on an
 * error path (its result is then left to hashpool_free). The handles are
 * thread safe; one job is fed by one thread at a time. Memory: a few KiB a
 * pool, a 1 MiB read buffer a worker, plus the queued chunks (at most
 * max_queued, plus up to 256 KiB a stream job being fed). */
struct hashpool;
struct hashjob;

struct hashpool_opts {
	unsigned workers;  /* 0: one per CPU this process may run on (at most 16) */
	size_t max_queued; /* bytes in queued chunks; 0: 32 MiB */
	unsigned max_jobs; /* jobs queued or running; 0: 4 per worker */
};

struct hashres {
	void *tag;		     /* as given when the job was made */
	unsigned char md[HASH_LEN];  /* the digest (valid when err == 0) */
	uint64_t bytes;		     /* bytes hashed */
	int err;		     /* 0, or the errno of a failed read (fd job) */
};

/* o may be NULL (defaults). Falls back to hashing on the calling thread
 * when no thread can start (correct, only slower). */
struct hashpool *hashpool_new(const struct hashpool_opts *o);
unsigned hashpool_workers(const struct hashpool *p);
/* Waits for every job still queued or running, then frees the pool and any
 * result not taken. */
void hashpool_free(struct hashpool *p);

/* A stream job: feed it with write/buf+push/zeros, then end it. */
struct hashjob *hashpool_job_begin(struct hashpool *p, void *tag);
/* Copy n bytes in (large n is split into chunks). */
void hashpool_job_write(struct hashjob *j, const void *buf, size_t n);
/* Zero-copy: a buffer of *cap bytes to fill (blocks while the pool holds
 * max_queued bytes), handed to the job by hashpool_job_push (n <= cap; the
 * pool owns and frees the buffer). A buffer got and not pushed is given
 * back with hashpool_job_push(j, buf, 0). */
void *hashpool_buf(struct hashpool *p, size_t *cap);
void hashpool_job_push(struct hashjob *j, void *buf, size_t n);
/* n zero bytes (a hole), hashed without a buffer of them. */
void hashpool_job_zeros(struct hashjob *j, uint64_t n);
/* No more data: the job is posted when its last chunk is hashed. */
void hashpool_job_end(struct hashjob *j);

/* An fd job: a worker reads fd from its offset to EOF in large reads
 * (posix_fadvise SEQUENTIAL) and hashes it; the pool closes fd. Posted with
 * err set if a read fails. Regular files only (the caller checked fstat). */
struct hashjob *hashpool_job_fd(struct hashpool *p, int fd, void *tag);

/* A range job: a worker hashes len bytes of fd from offset off (pread; fd
 * is shared, not closed, and must stay open until the job is taken). A
 * range that ends early (EOF) is posted with bytes < len and err 0. */
struct hashjob *hashpool_job_range(struct hashpool *p, int fd, uint64_t off, uint64_t len,
				   void *tag);

/* Wait for job j (ended, or an fd or range job), fill *r, free j. */
void hashpool_job_wait(struct hashjob *j, struct hashres *r);
/* The next finished job, in completion order; blocks while jobs are queued
 * or running (a stream job not ended counts: end it first). 1: *r filled;
 * 0: no job left (every job made has been taken). */
int hashpool_next(struct hashpool *p, struct hashres *r);
