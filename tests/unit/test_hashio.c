/* test_hashio: the hashing pool gives the one-shot digest of every job, in
 * any mix of stream, zero-copy, hole and fd jobs, on any number of workers,
 * within its bounds, and with no thread at all. */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "contain/hashio.h"
#include "contain/sha256x.h"
#include "unit.h"

#define BIG (5u << 20)

/* a job of n bytes fed in pieces of odd sizes, mixing write and buf/push */
static void feed(struct hashpool *p, struct hashjob *j, const unsigned char *b, size_t n,
		 unsigned seed)
{
	size_t off = 0, step = 1 + seed % 7;
	while (off < n) {
		size_t k = n - off < step ? n - off : step;
		if ((off / step) % 3 == 2) {
			size_t cap;
			char *buf = hashpool_buf(p, &cap);
			if (k > cap)
				k = cap;
			memcpy(buf, b + off, k);
			hashpool_job_push(j, buf, k);
		} else {
			hashpool_job_write(j, b + off, k);
		}
		off += k;
		step = step * 3 + 1;
		if (step > (3u << 20))
			step = 1 + seed % 5;
	}
}

static void check_pool(unsigned workers, size_t max_queued, unsigned max_jobs)
{
	struct hashpool_opts o = {.workers = workers, .max_queued = max_queued,
				  .max_jobs = max_jobs};
	struct hashpool *p = hashpool_new(&o);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_le(hashpool_workers(p), workers ? workers : 16);
	enum { N = 24 };
	size_t sizes[N];
	unsigned char *data[N];
	struct hashjob *jobs[N];
	for (unsigned i = 0; i < N; i++) {
		sizes[i] = i == 0 ? 0 : i % 5 == 0 ? BIG + i : (i * 40009u) % 300000u;
		data[i] = unit_pattern(sizes[i], i);
		jobs[i] = hashpool_job_begin(p, &data[i]);
		feed(p, jobs[i], data[i], sizes[i], i);
		hashpool_job_end(jobs[i]);
	}
	for (unsigned i = 0; i < N; i++) {
		struct hashres r;
		unsigned char want[HASH_LEN];
		hashpool_job_wait(jobs[i], &r);
		sha256_buf(data[i], sizes[i], want);
		ck_assert_ptr_eq(r.tag, &data[i]);
		ck_assert_int_eq(r.err, 0);
		ck_assert_uint_eq(r.bytes, sizes[i]);
		ck_assert_mem_eq(r.md, want, HASH_LEN);
		free(data[i]);
	}
	hashpool_free(p);
}

START_TEST(stream_jobs_match_one_shot)
{
	check_pool(0, 0, 0);
	check_pool(1, 0, 0);
	check_pool(2, 0, 0);
	check_pool(4, 0, 0);
}
END_TEST

START_TEST(tight_bounds_do_not_deadlock)
{
	/* bounds below one chunk and one job: the pool must still progress */
	check_pool(1, 1, 1);
	check_pool(2, 4096, 1);
	check_pool(3, 1u << 20, 2);
}
END_TEST

/* many stream jobs open at once, fed round robin, more than max_jobs */
START_TEST(interleaved_open_jobs)
{
	struct hashpool_opts o = {.workers = 2, .max_queued = 2u << 20, .max_jobs = 2};
	struct hashpool *p = hashpool_new(&o);
	enum { N = 9, PIECE = 70001, PIECES = 12 };
	unsigned char *data[N];
	struct hashjob *jobs[N];
	for (unsigned i = 0; i < N; i++) {
		data[i] = unit_pattern((size_t)PIECE * PIECES, 100 + i);
		jobs[i] = hashpool_job_begin(p, NULL);
	}
	for (unsigned k = 0; k < PIECES; k++)
		for (unsigned i = 0; i < N; i++) {
			hashpool_job_write(jobs[i], data[i] + (size_t)k * PIECE, PIECE);
			if (k == 5)
				hashpool_job_zeros(jobs[i], 12345);
		}
	for (unsigned i = 0; i < N; i++)
		hashpool_job_end(jobs[i]);
	for (unsigned i = 0; i < N; i++) {
		struct hashres r;
		hashpool_job_wait(jobs[i], &r);
		/* the same bytes through the one-thread hasher */
		struct hasher *h = hasher_new();
		for (unsigned k = 0; k < PIECES; k++) {
			hasher_update(h, data[i] + (size_t)k * PIECE, PIECE);
			if (k == 5)
				hasher_zeros(h, 12345);
		}
		unsigned char want[HASH_LEN];
		ck_assert_uint_eq(r.bytes, hasher_bytes(h));
		hasher_final(h, want);
		hasher_free(h);
		ck_assert_mem_eq(r.md, want, HASH_LEN);
		free(data[i]);
	}
	hashpool_free(p);
}
END_TEST

START_TEST(fd_jobs_and_next)
{
	char dir[128];
	unit_tmpdir(dir, sizeof(dir), "test_hashio");
	enum { N = 40 };
	unsigned char want[N][HASH_LEN];
	size_t sizes[N];
	unsigned seen[N] = {0};
	struct hashpool_opts o = {.workers = 2, .max_jobs = 3};
	struct hashpool *p = hashpool_new(&o);
	for (unsigned i = 0; i < N; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/f%u", dir, i);
		sizes[i] = i == 7 ? (3u << 20) + 17 : (i * 9973u) % 200000u;
		unsigned char *b = unit_pattern(sizes[i], 7 * i);
		sha256_buf(b, sizes[i], want[i]);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, b, sizes[i]), (ssize_t)sizes[i]);
		close(fd);
		free(b);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		ck_assert_int_ge(fd, 0);
		hashpool_job_fd(p, fd, (void *)(uintptr_t)i);
	}
	/* and a read that fails: a directory */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	hashpool_job_fd(p, dfd, (void *)(uintptr_t)N);
	struct hashres r;
	unsigned got = 0, failed = 0;
	while (hashpool_next(p, &r) == 1) {
		unsigned i = (unsigned)(uintptr_t)r.tag;
		if (i == N) {
			ck_assert_int_eq(r.err, EISDIR);
			failed++;
			continue;
		}
		ck_assert_uint_lt(i, N);
		ck_assert_int_eq(r.err, 0);
		ck_assert_uint_eq(r.bytes, sizes[i]);
		ck_assert_mem_eq(r.md, want[i], HASH_LEN);
		seen[i]++;
		got++;
	}
	ck_assert_uint_eq(got, N);
	ck_assert_uint_eq(failed, 1);
	for (unsigned i = 0; i < N; i++)
		ck_assert_uint_eq(seen[i], 1);
	ck_assert_int_eq(hashpool_next(p, &r), 0);
	hashpool_free(p);
	unit_tmpdir_remove(dir);
}
END_TEST

/* range jobs over one shared fd, one past the end of the file */
START_TEST(range_jobs)
{
	char dir[128], path[256];
	unit_tmpdir(dir, sizeof(dir), "test_hashio");
	snprintf(path, sizeof(path), "%s/f", dir);
	size_t n = (4u << 20) + 999;
	unsigned char *b = unit_pattern(n, 3);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b, n), (ssize_t)n);
	struct hashpool_opts o = {.workers = 2, .max_jobs = 2};
	struct hashpool *p = hashpool_new(&o);
	enum { N = 12 };
	uint64_t off[N], len[N];
	struct hashjob *j[N];
	for (unsigned i = 0; i < N; i++) {
		off[i] = (i * 390001u) % n;
		len[i] = i == 0 ? 0 : i == N - 1 ? n - off[i] + 5000 : (i * 123457u) % (n - off[i]);
		j[i] = hashpool_job_range(p, fd, off[i], len[i], NULL);
	}
	for (unsigned i = 0; i < N; i++) {
		struct hashres r;
		hashpool_job_wait(j[i], &r);
		uint64_t have = i == N - 1 ? n - off[i] : len[i];
		unsigned char want[HASH_LEN];
		sha256_buf(b + off[i], have, want);
		ck_assert_int_eq(r.err, 0);
		ck_assert_uint_eq(r.bytes, have); /* the last one: short, no error */
		ck_assert_mem_eq(r.md, want, HASH_LEN);
	}
	hashpool_free(p);
	ck_assert_int_eq(fcntl(fd, F_GETFD), FD_CLOEXEC); /* still ours, still open */
	close(fd);
	free(b);
	unit_tmpdir_remove(dir);
}
END_TEST

/* results left untaken, an ended job never waited: freed by hashpool_free */
START_TEST(free_with_results_left)
{
	struct hashpool *p = hashpool_new(NULL);
	for (unsigned i = 0; i < 10; i++) {
		struct hashjob *j = hashpool_job_begin(p, NULL);
		unsigned char *b = unit_pattern(100000, i);
		hashpool_job_write(j, b, 100000);
		free(b);
		hashpool_job_end(j);
	}
	hashpool_free(p);
}
END_TEST

/* several feeder threads on one pool */
struct feeder {
	struct hashpool *p;
	unsigned seed;
	int ok;
};

static void *feeder_run(void *arg)
{
	struct feeder *f = arg;
	for (unsigned k = 0; k < 6; k++) {
		size_t n = 1000 + (f->seed * 7919u + k * 104729u) % 2000000u;
		unsigned char *b = unit_pattern(n, f->seed * 10 + k);
		struct hashjob *j = hashpool_job_begin(f->p, NULL);
		feed(f->p, j, b, n, f->seed + k);
		hashpool_job_end(j);
		struct hashres r;
		unsigned char want[HASH_LEN];
		hashpool_job_wait(j, &r);
		sha256_buf(b, n, want);
		if (r.bytes != n || memcmp(r.md, want, HASH_LEN) != 0)
			f->ok = 0;
		free(b);
	}
	return NULL;
}

START_TEST(several_feeders)
{
	struct hashpool_opts o = {.workers = 2, .max_queued = 3u << 20, .max_jobs = 3};
	struct hashpool *p = hashpool_new(&o);
	enum { T = 4 };
	pthread_t t[T];
	struct feeder f[T];
	for (unsigned i = 0; i < T; i++) {
		f[i] = (struct feeder){.p = p, .seed = i + 1, .ok = 1};
		ck_assert_int_eq(pthread_create(&t[i], NULL, feeder_run, &f[i]), 0);
	}
	for (unsigned i = 0; i < T; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(f[i].ok, 1);
	}
	hashpool_free(p);
}
END_TEST

/* hashpair: items of sizes about the chunk and block bounds, read to EOF,
 * to a size fstat gave (and one that grew past it), and as ranges (one past
 * EOF), each hashed once to its own digest; on SHA-NI and on the fallback */
struct pair_case {
	int fd;
	size_t n, next;
	struct hashpair_item items[32];
	unsigned char want[32][HASH_LEN];
	uint64_t want_bytes[32];
	unsigned done[32];
};

static int pc_next(void *arg, struct hashpair_item *it)
{
	struct pair_case *pc = arg;
	if (pc->next >= pc->n)
		return 0;
	*it = pc->items[pc->next++];
	return 1;
}

static void pc_done(void *arg, const struct hashpair_item *it, const struct hashres *r)
{
	struct pair_case *pc = arg;
	size_t i = (size_t)(uintptr_t)it->tag;
	ck_assert_uint_lt(i, pc->n);
	ck_assert_ptr_eq(r->tag, it->tag);
	ck_assert_int_eq(r->err, 0);
	ck_assert_uint_eq(r->bytes, pc->want_bytes[i]);
	ck_assert_mem_eq(r->md, pc->want[i], HASH_LEN);
	pc->done[i]++;
}

static void pair_cases(void)
{
	char dir[128];
	unit_tmpdir(dir, sizeof(dir), "test_hashio");
	static const size_t sizes[] = {0, 1, 63, 64, 65, 1000, HASHPAIR_CHUNK - 1, HASHPAIR_CHUNK,
				       HASHPAIR_CHUNK + 1, 3 * HASHPAIR_CHUNK + 17, 200000, 5};
	enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
	struct pair_case pc = {0};
	int fds[NS];
	unsigned char *big = unit_pattern(4 * HASHPAIR_CHUNK, 5);
	for (unsigned i = 0; i < NS; i++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/p%u", dir, i);
		unsigned char *b = unit_pattern(sizes[i], 100 + i);
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, b, sizes[i]), (ssize_t)sizes[i]);
		free(b);
		fds[i] = fd;
	}
	/* a file for ranges */
	char rpath[256];
	snprintf(rpath, sizeof(rpath), "%s/ranges", dir);
	int rfd = open(rpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(rfd, 0);
	ck_assert_int_eq(write(rfd, big, 4 * HASHPAIR_CHUNK), (ssize_t)(4 * HASHPAIR_CHUNK));
	for (unsigned i = 0; i < NS; i++) {
		/* read to EOF, to the size, and (i % 3 == 2) to a size that grew */
		ck_assert_int_eq(lseek(fds[i], 0, SEEK_SET), 0);
		unsigned char *b = unit_pattern(sizes[i], 100 + i);
		size_t k = pc.n++;
		uint64_t len = i % 3 == 0 ? UINT64_MAX : i % 3 == 1 ? sizes[i]
						: (sizes[i] > 10 ? sizes[i] - 10 : 0);
		pc.items[k] = (struct hashpair_item){.fd = fds[i], .len = len,
						     .tag = (void *)(uintptr_t)k};
		sha256_buf(b, sizes[i], pc.want[k]);
		pc.want_bytes[k] = sizes[i];
		free(b);
		/* a range of the range file */
		uint64_t off = (i * 77777u) % (2 * HASHPAIR_CHUNK);
		k = pc.n++;
		pc.items[k] = (struct hashpair_item){.fd = rfd, .range = true, .off = off,
						     .len = sizes[i], .tag = (void *)(uintptr_t)k};
		sha256_buf(big + off, sizes[i], pc.want[k]);
		pc.want_bytes[k] = sizes[i];
	}
	/* a range that runs past EOF: the bytes there are */
	size_t k = pc.n++;
	uint64_t off = 4 * HASHPAIR_CHUNK - 1000;
	pc.items[k] = (struct hashpair_item){.fd = rfd, .range = true, .off = off, .len = 5000,
					     .tag = (void *)(uintptr_t)k};
	sha256_buf(big + off, 1000, pc.want[k]);
	pc.want_bytes[k] = 1000;
	static const struct hashpair_ops ops = {pc_next, pc_done};
	struct hashpair_bufs bufs = {0};
	hashpair_run(&ops, &pc, &bufs);
	hashpair_bufs_free(&bufs);
	for (size_t i = 0; i < pc.n; i++)
		ck_assert_uint_eq(pc.done[i], 1);
	for (unsigned i = 0; i < NS; i++)
		close(fds[i]);
	close(rfd);
	free(big);
	unit_tmpdir_remove(dir);
}

START_TEST(hashpair_items)
{
	pair_cases();
}
END_TEST

START_TEST(hashpair_items_fallback)
{
	sha256x_force_fallback(true);
	pair_cases();
	sha256x_force_fallback(false);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("hashio");
	TCase *tc = tcase_create("pool");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, stream_jobs_match_one_shot);
	tcase_add_test(tc, tight_bounds_do_not_deadlock);
	tcase_add_test(tc, interleaved_open_jobs);
	tcase_add_test(tc, fd_jobs_and_next);
	tcase_add_test(tc, range_jobs);
	tcase_add_test(tc, free_with_results_left);
	tcase_add_test(tc, several_feeders);
	tcase_add_test(tc, hashpair_items);
	tcase_add_test(tc, hashpair_items_fallback);
	suite_add_tcase(s, tc);
	return s;
}
