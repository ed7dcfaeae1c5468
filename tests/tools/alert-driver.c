/* alert-driver: the alert normalizer (alert_parse) on files, for the tests
 * and the benchmark.
 *   alert-driver FILE...          each FILE one document: its normalized
 *                                 alert (alert_to_json, one line) or
 *                                 "error: MESSAGE"; exit 1 if any failed
 *   alert-driver --lines FILE     each line of FILE a document, the same
 *   alert-driver --bench N FILE   parse the lines of FILE round robin, N in
 *                                 all: "L lines/s M MB/s cpu C lines/s accepted
 *                                 A rejected R (...)" (by wall and CPU time)
 *   alert-driver --jansson N FILE the same with json_loadb alone (the
 *                                 baseline: what a full parse costs)
 *   alert-driver --peek N FILE    the same with alert_peek alone (the
 *                                 intake's first look at every line) */
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "contain/respond.h"
#include "contain/util.h"

static int one(const char *buf, size_t n)
{
	struct alert a;
	struct err e = {0};
	if (alert_parse(buf, n, &a, &e) < 0) {
		printf("error: %s\n", e.msg);
		return 1;
	}
	json_t *j = alert_to_json(&a);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", s);
	free(s);
	json_decref(j);
	if (!alert_raw(&a) || !json_is_object(a.raw)) {
		printf("error: alert_raw did not give the object\n");
		alert_free(&a);
		return 1;
	}
	alert_free(&a);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	char *buf;
	struct err e = {0};
	if (read_file_at(AT_FDCWD, path, 1u << 30, &buf, len, NULL, &e) < 0) {
		fprintf(stderr, "alert-driver: %s\n", e.msg);
		exit(3);
	}
	return buf;
}

struct line {
	const char *p;
	size_t n;
};

static struct line *lines_of(const char *buf, size_t len, size_t *count)
{
	struct line *v = NULL;
	size_t cap = 0, k = 0, off = 0, l;
	const char *p;
	while ((p = str_line_next(buf, len, &off, &l, NULL))) {
		if (!l)
			continue;
		xgrow(&v, &cap, k + 1, sizeof(*v));
		v[k++] = (struct line){p, l};
	}
	*count = k;
	return v;
}

enum mode { M_PARSE, M_JANSSON, M_PEEK };

static int bench(unsigned long long total, const char *path, enum mode mode)
{
	size_t len, n;
	char *buf = slurp(path, &len);
	struct line *v = lines_of(buf, len, &n);
	if (!n) {
		fprintf(stderr, "alert-driver: no lines in %s\n", path);
		return 3;
	}
	unsigned long long ok = 0, bad = 0, bytes = 0;
	struct timespec c0, c1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	double t0 = time_mono();
	for (unsigned long long i = 0; i < total; i++) {
		const struct line *x = &v[i % n];
		bytes += x->n;
		if (mode == M_PEEK) {
			static struct alert_peek pk;
			struct err e;
			alert_peek(x->p, x->n, &pk, &e) == 0 ? ok++ : bad++;
			continue;
		}
		if (mode == M_JANSSON) {
			json_error_t je;
			json_t *j = json_loadb(x->p, x->n, 0, &je);
			j ? ok++ : bad++;
			json_decref(j);
			continue;
		}
		struct alert a;
		struct err e;
		if (alert_parse(x->p, x->n, &a, &e) == 0)
			ok++;
		else
			bad++;
		alert_free(&a);
	}
	double s = time_mono() - t0;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	/* by wall time, and by CPU time (what one core does when it is not shared) */
	printf("%.0f lines/s %.1f MB/s cpu %.0f lines/s accepted %llu rejected %llu (%llu lines of "
	       "%zu, %.3f s, cpu %.3f s)\n",
	       (double)total / s, (double)bytes / s / 1e6, (double)total / cpu, ok, bad, total, n,
	       s, cpu);
	free(v);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && (strcmp(argv[1], "--bench") == 0 || strcmp(argv[1], "--jansson") == 0 ||
			  strcmp(argv[1], "--peek") == 0)) {
		unsigned long long total;
		if (parse_ull(argv[2], 1ull << 40, &total) < 0 || total == 0) {
			fprintf(stderr, "alert-driver: bad count '%s'\n", argv[2]);
			return 2;
		}
		return bench(total, argv[3],
			     argv[1][2] == 'j'	 ? M_JANSSON
			     : argv[1][2] == 'p' ? M_PEEK
						 : M_PARSE);
	}
	int rc = 0;
	if (argc == 3 && strcmp(argv[1], "--lines") == 0) {
		size_t len, n;
		char *buf = slurp(argv[2], &len);
		struct line *v = lines_of(buf, len, &n);
		for (size_t i = 0; i < n; i++)
			rc |= one(v[i].p, v[i].n);
		free(v);
		free(buf);
		return rc;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: alert-driver FILE... | --lines FILE | --bench|--jansson|--peek N FILE\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		size_t len;
		char *buf = slurp(argv[i], &len);
		rc |= one(buf, len);
		free(buf);
	}
	return rc;
}
