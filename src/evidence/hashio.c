/* hashio.c: SHA-256 while writing or reading, on a second thread for big
 * data. Small data is hashed inline: no thread for a 200-byte JSON file.
 * The hashing itself is sha256x (SHA-NI, two messages at once where a
 * thread has two: hashpair). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "contain/hashio.h"
#include "contain/sha256x.h"

enum {
	SLOT_SIZE = 1 << 20,
	NSLOT = 4,
	INLINE_LIMIT = 1 << 20, /* bytes hashed inline before a thread starts */
};

struct slot {
	char *buf;
	const char *ref; /* or the caller's bytes, hashed in place (hasher_update_ref) */
	size_t len;	 /* data bytes */
	uint64_t zeros;	 /* or a run of zeros */
	bool full;
};

struct hasher {
	struct sha256x ctx;
	uint64_t bytes;
	bool threaded, done, stop;
	bool inline_only; /* hasher_inline: never a thread, never a copy */
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv_full, cv_free;
	struct slot slots[NSLOT];
	unsigned head, tail; /* head: next to fill; tail: next to hash */
	size_t fill;	     /* bytes in slots[head] being filled (update()) */
};


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
			sha256x_update(&h->ctx, s->ref ? s->ref : s->buf, s->len);
		if (s->zeros)
			sha256x_zeros(&h->ctx, s->zeros);
		pthread_mutex_lock(&h->mu);
		s->full = false;
		s->ref = NULL;
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
	sha256x_init(&h->ctx);
	return h;
}

void hasher_inline(struct hasher *h)
{
	h->inline_only = true;
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
	if (!h->threaded && !h->inline_only && h->bytes + more > INLINE_LIMIT)
		start_thread(h);
	return h->threaded;
}

void hasher_update(struct hasher *h, const void *buf, size_t n)
{
	const char *p = buf;
	if (!want_thread(h, n)) {
		sha256x_update(&h->ctx, buf, n);
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

void hasher_update_ref(struct hasher *h, const void *buf, size_t n)
{
	if (!n)
		return;
	h->bytes += n;
	if (!want_thread(h, 0)) {
		sha256x_update(&h->ctx, buf, n);
		return;
	}
	pthread_mutex_lock(&h->mu);
	flush_fill(h);
	struct slot *s = wait_head(h);
	s->ref = buf;
	s->len = n;
	push_head(h);
	pthread_mutex_unlock(&h->mu);
}

void hasher_wait(struct hasher *h)
{
	if (!h->threaded)
		return;
	pthread_mutex_lock(&h->mu);
	flush_fill(h);
	for (unsigned i = 0; i < NSLOT; i++)
		while (h->slots[i].full)
			pthread_cond_wait(&h->cv_free, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

void hasher_zeros(struct hasher *h, uint64_t n)
{
	if (!n)
		return;
	if (!want_thread(h, n)) {
		sha256x_zeros(&h->ctx, n);
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
		sha256x_update(&h->ctx, h->slots[0].buf, n);
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
	stop_thread(h);
	if (h->done)
		abort(); /* a programming error */
	sha256x_final(&h->ctx, out);
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
	if (!h->done)
		sha256x_discard(&h->ctx);
	free(h);
}

void sha256_buf(const void *buf, size_t n, unsigned char out[HASH_LEN])
{
	sha256x(buf, n, out);
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

/* ---- hashpair ---- */

struct pslot {
	struct hashpair_item it;
	struct sha256x c;
	char *buf;
	size_t have, pos; /* bytes in buf not hashed yet, from pos */
	uint64_t got;	  /* bytes of the item read */
	int err;
	bool busy, eof;
};

/* the slot's next chunk: have > 0, or eof set (the end, or a read error) */
static void pslot_read(struct pslot *s)
{
	size_t want = HASHPAIR_CHUNK;
	ssize_t r;
	if (s->it.range && s->it.len - s->got < want)
		want = (size_t)(s->it.len - s->got);
	if (!want) {
		s->eof = true;
		return;
	}
	do
		r = s->it.range ? pread(s->it.fd, s->buf, want, (off_t)(s->it.off + s->got))
				: read(s->it.fd, s->buf, want);
	while (r < 0 && errno == EINTR);
	if (r <= 0) { /* a range that ends early: bytes < len tells */
		if (r < 0)
			s->err = errno ? errno : EIO;
		s->eof = true;
		return;
	}
	s->have = (size_t)r;
	s->pos = 0;
	s->got += (uint64_t)r;
	/* a regular file reads short only at its end: a short read that brings
	 * it to the size fstat gave is its end */
	if (s->it.range ? s->got == s->it.len : (size_t)r < want && s->got == s->it.len)
		s->eof = true;
}

static void pslot_finish(const struct hashpair_ops *ops, void *arg, struct pslot *s)
{
	struct hashres r = {.tag = s->it.tag, .bytes = s->got, .err = s->err};
	if (s->err)
		sha256x_discard(&s->c);
	else
		sha256x_final(&s->c, r.md);
	s->busy = false;
	ops->done(arg, &s->it, &r);
}

/* Give the slot bytes to hash: on return it is busy with have > 0, or free
 * and ops->next has nothing now. Items that end are finished on the way. */
static void pslot_fill(const struct hashpair_ops *ops, void *arg, struct pslot *s, char **buf)
{
	for (;;) {
		if (!s->busy) {
			if (ops->next(arg, &s->it) != 1)
				return;
			if (!*buf)
				*buf = xmalloc(HASHPAIR_CHUNK);
			s->buf = *buf;
			sha256x_init(&s->c);
			s->busy = true;
			s->eof = false;
			s->err = 0;
			s->got = 0;
			s->have = 0;
		}
		if (s->have)
			return;
		if (!s->eof) {
			pslot_read(s);
			if (s->have)
				return;
		}
		pslot_finish(ops, arg, s);
	}
}

void hashpair_run(const struct hashpair_ops *ops, void *arg, struct hashpair_bufs *b)
{
	struct pslot s[2] = {0};
	for (;;) {
		pslot_fill(ops, arg, &s[0], &b->buf[0]);
		pslot_fill(ops, arg, &s[1], &b->buf[1]);
		if (s[0].busy && s[1].busy) {
			size_t k = s[0].have < s[1].have ? s[0].have : s[1].have;
			sha256x_update2(&s[0].c, s[0].buf + s[0].pos, k, &s[1].c,
					s[1].buf + s[1].pos, k);
			for (int i = 0; i < 2; i++) {
				s[i].pos += k;
				s[i].have -= k;
			}
		} else if (s[0].busy || s[1].busy) {
			struct pslot *t = s[0].busy ? &s[0] : &s[1];
			sha256x_update(&t->c, t->buf + t->pos, t->have);
			t->pos += t->have;
			t->have = 0;
		} else {
			return;
		}
	}
}

void hashpair_bufs_free(struct hashpair_bufs *b)
{
	for (int i = 0; i < 2; i++) {
		free(b->buf[i]);
		b->buf[i] = NULL;
	}
}

/* ---- hashpool ---- */

enum {
	HP_CHUNK = 1 << 20,	 /* hashpool_buf's buffers and job_write's chunks */
	HP_FILL = 256 << 10,	 /* job_write gathers small writes up to this */
	HP_MAX_WORKERS = 16,
	HP_DEFAULT_QUEUED = 32 << 20,
	HP_FREE_KEEP = 8, /* chunk buffers kept for reuse */
};

struct chunk {
	struct chunk *next;
	char *buf; /* NULL: a run of zeros */
	size_t len, cap;
	uint64_t zeros;
};

struct hashjob {
	struct hashpool *p;
	struct sha256x ctx; /* a stream job's */
	int fd; /* fd or range job: read by a worker; -1 for a stream job */
	bool reader;	   /* an fd or range job (hashpair hashes it) */
	bool range;	   /* a range job: pread [off, off + len), fd not ours */
	uint64_t off, len;
	struct chunk *head, *tail;
	struct chunk *fill; /* job_write's gathering chunk, not queued yet */
	bool ended, busy, on_ready, done;
	struct hashjob *rnext;
	struct hashjob *dnext, *dprev;
	struct hashres res;
};

struct hashpool {
	pthread_mutex_t mu;
	pthread_cond_t cv_work;	 /* a job is ready, or stop */
	pthread_cond_t cv_space; /* bytes or a job slot freed */
	pthread_cond_t cv_done;	 /* a job posted */
	pthread_t thr[HP_MAX_WORKERS];
	unsigned nthr;
	bool stop;
	struct hashjob *ready, *ready_tail;
	struct hashjob *done, *done_tail;
	size_t held;	   /* bytes of buffers handed out or queued */
	size_t inflight;   /* of those, queued or being hashed */
	size_t max_queued;
	unsigned active;   /* jobs not finished */
	unsigned finishable; /* of those, ended (or fd jobs) */
	unsigned max_jobs;
	unsigned untaken; /* jobs made and not taken */
	char *freebuf[HP_FREE_KEEP];
	unsigned nfree;
};

/* lock held */
static void ready_push(struct hashpool *p, struct hashjob *j)
{
	if (j->busy || j->on_ready)
		return;
	j->on_ready = true;
	j->rnext = NULL;
	if (p->ready_tail)
		p->ready_tail->rnext = j;
	else
		p->ready = j;
	p->ready_tail = j;
	pthread_cond_signal(&p->cv_work);
}

static struct hashjob *ready_pop(struct hashpool *p)
{
	struct hashjob *j = p->ready;
	if (!j)
		return NULL;
	p->ready = j->rnext;
	if (!p->ready)
		p->ready_tail = NULL;
	j->on_ready = false;
	return j;
}

/* lock held: the job's last byte is hashed (a reader's digest is in res) */
static void job_post(struct hashpool *p, struct hashjob *j)
{
	if (!j->reader) {
		if (j->res.err == 0)
			sha256x_final(&j->ctx, j->res.md);
		else
			sha256x_discard(&j->ctx);
	}
	j->done = true;
	j->dnext = NULL;
	j->dprev = p->done_tail;
	if (p->done_tail)
		p->done_tail->dnext = j;
	else
		p->done = j;
	p->done_tail = j;
	p->active--;
	p->finishable--;
	pthread_cond_broadcast(&p->cv_done);
	pthread_cond_broadcast(&p->cv_space);
}

static void done_unlink(struct hashpool *p, struct hashjob *j)
{
	if (j->dprev)
		j->dprev->dnext = j->dnext;
	else
		p->done = j->dnext;
	if (j->dnext)
		j->dnext->dprev = j->dprev;
	else
		p->done_tail = j->dprev;
}

/* lock held */
static void chunk_release(struct hashpool *p, struct chunk *c)
{
	if (c->buf) {
		p->held -= c->cap;
		p->inflight -= c->cap;
		if (c->cap == HP_CHUNK && p->nfree < HP_FREE_KEEP)
			p->freebuf[p->nfree++] = c->buf;
		else
			free(c->buf);
	}
	free(c);
	pthread_cond_broadcast(&p->cv_space);
}

/* Pull the ready fd or range job nearest the head of the queue, if any
 * (lock held). */
static struct hashjob *ready_pop_reader(struct hashpool *p)
{
	struct hashjob *prev = NULL;
	for (struct hashjob *j = p->ready; j; prev = j, j = j->rnext) {
		if (!j->reader)
			continue;
		if (prev)
			prev->rnext = j->rnext;
		else
			p->ready = j->rnext;
		if (p->ready_tail == j)
			p->ready_tail = prev;
		j->on_ready = false;
		return j;
	}
	return NULL;
}

/* A worker's reader jobs, two at a time: the one it took, then any other
 * ready (never waiting for one). */
struct pool_pair {
	struct hashpool *p;
	struct hashjob *first;
};

static int pool_pair_next(void *arg, struct hashpair_item *it)
{
	struct pool_pair *pp = arg;
	struct hashjob *j = pp->first;
	pp->first = NULL;
	if (!j) {
		pthread_mutex_lock(&pp->p->mu);
		j = pp->p->nthr ? ready_pop_reader(pp->p) : NULL;
		if (j)
			j->busy = true;
		pthread_mutex_unlock(&pp->p->mu);
		if (!j)
			return 0;
	}
	if (!j->range)
		posix_fadvise(j->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	*it = (struct hashpair_item){.fd = j->fd, .range = j->range, .off = j->off,
				     .len = j->range ? j->len : UINT64_MAX, .tag = j};
	return 1;
}

static void pool_pair_done(void *arg, const struct hashpair_item *it, const struct hashres *r)
{
	struct pool_pair *pp = arg;
	struct hashjob *j = it->tag;
	if (!j->range)
		close(j->fd);
	j->fd = -1;
	j->res.bytes = r->bytes;
	j->res.err = r->err;
	memcpy(j->res.md, r->md, HASH_LEN);
	pthread_mutex_lock(&pp->p->mu);
	j->busy = false;
	job_post(pp->p, j);
	pthread_mutex_unlock(&pp->p->mu);
}

/* Hash what job j has queued (lock held on entry and exit; dropped while
 * hashing). j is busy: no other worker touches it meanwhile. */
static void job_run(struct hashpool *p, struct hashjob *j, struct hashpair_bufs *bufs)
{
	if (j->reader) {
		static const struct hashpair_ops ops = {pool_pair_next, pool_pair_done};
		struct pool_pair pp = {p, j};
		pthread_mutex_unlock(&p->mu);
		hashpair_run(&ops, &pp, bufs);
		pthread_mutex_lock(&p->mu);
		return;
	}
	while (j->head) {
		struct chunk *c = j->head;
		j->head = j->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		for (struct chunk *k = c; k; k = k->next) {
			if (k->buf)
				sha256x_update(&j->ctx, k->buf, k->len);
			else
				sha256x_zeros(&j->ctx, k->zeros);
		}
		pthread_mutex_lock(&p->mu);
		while (c) {
			struct chunk *next = c->next;
			chunk_release(p, c);
			c = next;
		}
	}
	j->busy = false;
	if (j->ended)
		job_post(p, j);
}

static void *pool_worker(void *arg)
{
	struct hashpool *p = arg;
	struct hashpair_bufs bufs = {0};
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct hashjob *j;
		while (!(j = ready_pop(p)) && !p->stop)
			pthread_cond_wait(&p->cv_work, &p->mu);
		if (!j)
			break;
		j->busy = true;
		job_run(p, j, &bufs);
	}
	pthread_mutex_unlock(&p->mu);
	hashpair_bufs_free(&bufs);
	return NULL;
}

static unsigned cpus_usable(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		int n = CPU_COUNT(&set);
		if (n > 0)
			return (unsigned)n;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

struct hashpool *hashpool_new(const struct hashpool_opts *o)
{
	struct hashpool *p = xcalloc(1, sizeof(*p));
	unsigned n = o && o->workers ? o->workers : cpus_usable();
	if (n > HP_MAX_WORKERS)
		n = HP_MAX_WORKERS;
	p->max_queued = o && o->max_queued ? o->max_queued : HP_DEFAULT_QUEUED;
	p->max_jobs = o && o->max_jobs ? o->max_jobs : 4 * n;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_work, NULL);
	pthread_cond_init(&p->cv_space, NULL);
	pthread_cond_init(&p->cv_done, NULL);
	while (p->nthr < n && pthread_create(&p->thr[p->nthr], NULL, pool_worker, p) == 0)
		p->nthr++;
	return p; /* no thread at all: every job is hashed by its feeder */
}

unsigned hashpool_workers(const struct hashpool *p)
{
	return p->nthr;
}

/* lock held: wait for room for cap more bytes. Never waits when nothing is
 * queued (the feeders hold all there is: waiting would never end). */
static void wait_bytes(struct hashpool *p, size_t cap)
{
	while (p->held + cap > p->max_queued && p->inflight > 0)
		pthread_cond_wait(&p->cv_space, &p->mu);
	p->held += cap;
}

static char *buf_take(struct hashpool *p)
{
	return p->nfree ? p->freebuf[--p->nfree] : NULL;
}

void *hashpool_buf(struct hashpool *p, size_t *cap)
{
	pthread_mutex_lock(&p->mu);
	wait_bytes(p, HP_CHUNK);
	char *b = buf_take(p);
	pthread_mutex_unlock(&p->mu);
	*cap = HP_CHUNK;
	return b ? b : xmalloc(HP_CHUNK);
}

/* lock held: queue chunk c on j (its bytes already counted in held) */
static void queue_chunk(struct hashpool *p, struct hashjob *j, struct chunk *c)
{
	c->next = NULL;
	if (c->buf)
		p->inflight += c->cap;
	if (j->tail)
		j->tail->next = c;
	else
		j->head = c;
	j->tail = c;
	if (p->nthr)
		ready_push(p, j);
}

/* No worker thread: hash what j has queued here (lock held). */
static void run_inline(struct hashpool *p, struct hashjob *j)
{
	if (p->nthr || j->busy)
		return;
	/* kept for the thread's life: the no-thread fallback only */
	static _Thread_local struct hashpair_bufs bufs;
	j->busy = true;
	job_run(p, j, &bufs);
}

static void push_chunk(struct hashjob *j, char *buf, size_t len, size_t cap)
{
	struct hashpool *p = j->p;
	struct chunk *c = xcalloc(1, sizeof(*c));
	c->buf = buf;
	c->len = len;
	c->cap = cap;
	pthread_mutex_lock(&p->mu);
	queue_chunk(p, j, c);
	run_inline(p, j);
	pthread_mutex_unlock(&p->mu);
}

/* hand job_write's gathering chunk over */
static void fill_flush(struct hashjob *j)
{
	struct chunk *c = j->fill;
	if (!c)
		return;
	j->fill = NULL;
	struct hashpool *p = j->p;
	pthread_mutex_lock(&p->mu);
	wait_bytes(p, c->cap);
	queue_chunk(p, j, c);
	run_inline(p, j);
	pthread_mutex_unlock(&p->mu);
}

void hashpool_job_push(struct hashjob *j, void *buf, size_t n)
{
	struct hashpool *p = j->p;
	if (n == 0) {
		pthread_mutex_lock(&p->mu);
		p->held -= HP_CHUNK;
		if (p->nfree < HP_FREE_KEEP)
			p->freebuf[p->nfree++] = buf;
		else
			free(buf);
		pthread_cond_broadcast(&p->cv_space);
		pthread_mutex_unlock(&p->mu);
		return;
	}
	fill_flush(j); /* what job_write gathered goes first */
	j->res.bytes += n;
	push_chunk(j, buf, n, HP_CHUNK);
}

void hashpool_job_write(struct hashjob *j, const void *buf, size_t n)
{
	const char *s = buf;
	j->res.bytes += n;
	while (n) {
		if (!j->fill && n >= HP_FILL) {
			/* large: a chunk of its own, copied once */
			size_t cap;
			char *b = hashpool_buf(j->p, &cap);
			size_t k = n < cap ? n : cap;
			memcpy(b, s, k);
			push_chunk(j, b, k, cap);
			s += k;
			n -= k;
			continue;
		}
		if (!j->fill) {
			j->fill = xcalloc(1, sizeof(*j->fill));
			j->fill->buf = xmalloc(HP_FILL);
			j->fill->cap = HP_FILL;
		}
		size_t k = HP_FILL - j->fill->len;
		if (k > n)
			k = n;
		memcpy(j->fill->buf + j->fill->len, s, k);
		j->fill->len += k;
		s += k;
		n -= k;
		if (j->fill->len == HP_FILL)
			fill_flush(j);
	}
}

void hashpool_job_zeros(struct hashjob *j, uint64_t n)
{
	if (!n)
		return;
	fill_flush(j);
	j->res.bytes += n;
	struct chunk *c = xcalloc(1, sizeof(*c));
	c->zeros = n;
	struct hashpool *p = j->p;
	pthread_mutex_lock(&p->mu);
	queue_chunk(p, j, c);
	run_inline(p, j);
	pthread_mutex_unlock(&p->mu);
}

/* lock held: wait for a job slot. Never waits when no job could finish
 * (every one is a stream job its feeder has not ended). */
static void wait_job_slot(struct hashpool *p)
{
	while (p->active >= p->max_jobs && p->finishable > 0)
		pthread_cond_wait(&p->cv_space, &p->mu);
	p->active++;
	p->untaken++;
}

static struct hashjob *job_new(struct hashpool *p, void *tag, int fd)
{
	struct hashjob *j = xcalloc(1, sizeof(*j));
	j->p = p;
	j->fd = fd;
	j->res.tag = tag;
	j->reader = fd >= 0;
	if (!j->reader)
		sha256x_init(&j->ctx);
	return j;
}

struct hashjob *hashpool_job_begin(struct hashpool *p, void *tag)
{
	struct hashjob *j = job_new(p, tag, -1);
	pthread_mutex_lock(&p->mu);
	wait_job_slot(p);
	pthread_mutex_unlock(&p->mu);
	return j;
}

void hashpool_job_end(struct hashjob *j)
{
	struct hashpool *p = j->p;
	fill_flush(j);
	pthread_mutex_lock(&p->mu);
	j->ended = true;
	p->finishable++;
	if (!j->busy && !j->on_ready && !j->head)
		job_post(p, j); /* all hashed already */
	pthread_mutex_unlock(&p->mu);
}

/* a job whose bytes a worker reads itself (a file, a range of one): ready
 * at once, or hashed here when the pool has no thread */
static struct hashjob *job_submit_read(struct hashpool *p, struct hashjob *j)
{
	pthread_mutex_lock(&p->mu);
	wait_job_slot(p);
	j->ended = true;
	p->finishable++;
	if (p->nthr)
		ready_push(p, j);
	else
		run_inline(p, j);
	pthread_mutex_unlock(&p->mu);
	return j;
}

struct hashjob *hashpool_job_fd(struct hashpool *p, int fd, void *tag)
{
	return job_submit_read(p, job_new(p, tag, fd));
}

struct hashjob *hashpool_job_range(struct hashpool *p, int fd, uint64_t off, uint64_t len,
				   void *tag)
{
	struct hashjob *j = job_new(p, tag, fd);
	j->range = true;
	j->off = off;
	j->len = len;
	return job_submit_read(p, j);
}

static void job_take(struct hashpool *p, struct hashjob *j, struct hashres *r)
{
	done_unlink(p, j);
	p->untaken--;
	*r = j->res;
	free(j);
}

void hashpool_job_wait(struct hashjob *j, struct hashres *r)
{
	struct hashpool *p = j->p;
	pthread_mutex_lock(&p->mu);
	while (!j->done)
		pthread_cond_wait(&p->cv_done, &p->mu);
	job_take(p, j, r);
	pthread_mutex_unlock(&p->mu);
}

int hashpool_next(struct hashpool *p, struct hashres *r)
{
	int got = 0;
	pthread_mutex_lock(&p->mu);
	while (!p->done && p->active > 0)
		pthread_cond_wait(&p->cv_done, &p->mu);
	if (p->done) {
		job_take(p, p->done, r);
		got = 1;
	}
	pthread_mutex_unlock(&p->mu);
	return got;
}

void hashpool_free(struct hashpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	while (p->finishable > 0)
		pthread_cond_wait(&p->cv_done, &p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nthr; i++)
		pthread_join(p->thr[i], NULL);
	while (p->done) {
		struct hashres r;
		job_take(p, p->done, &r);
	}
	for (unsigned i = 0; i < p->nfree; i++)
		free(p->freebuf[i]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv_work);
	pthread_cond_destroy(&p->cv_space);
	pthread_cond_destroy(&p->cv_done);
	free(p);
}
