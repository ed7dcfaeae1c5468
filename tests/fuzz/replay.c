/* replay.c: a main() for the fuzz targets, so a gcc build replays the
 * committed corpus (tests/fuzz/README.md). Each file named on the command
 * line is read and handed to LLVMFuzzerTestOneInput in a child of its own,
 * one TAP line per input:
 *   - a crash, a sanitizer report or a hang (the caller's timeout) fails it;
 *   - a file named ok-KIND-... must be accepted by the target's parser KIND,
 *     bad-KIND-... rejected (the target says so with fz_verdict, fz.h);
 *   - any other name only has to come back.
 * Exits 1 when an input failed. */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fz.h"

/* a corpus input is at most this big (the fuzzers' -max_len is far less) */
#define REPLAY_MAX (64u << 20)

/* exits of the child: it passed or failed (its description in the pipe);
 * anything else is a crash, a sanitizer report or a leak found at exit */
#define CHILD_PASSED 0
#define CHILD_FAILED 10

static unsigned char *read_input(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, len = 0, r;
	unsigned char *buf = malloc(cap);
	while (buf && (r = fread(buf + len, 1, cap - len, f)) > 0) {
		len += r;
		if (len == cap) {
			if (cap >= REPLAY_MAX)
				break;
			unsigned char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return NULL;
	}
	*n = len;
	return buf;
}

/* the kind a name ok-KIND-rest / bad-KIND-rest asks about: the longest kind
 * the target gave a verdict for that the rest starts with (then '-', '.' or
 * the end); NULL if none */
static const char *kind_of(const char *rest)
{
	const char *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < fz_verdict_count(); i++) {
		const char *k = fz_verdict_kind(i);
		size_t l = strlen(k);
		if (strncmp(rest, k, l) == 0 && (rest[l] == '-' || rest[l] == '.' || !rest[l]) &&
		    l > best_len) {
			best = k;
			best_len = l;
		}
	}
	return best;
}

/* in the child: run input path (shown as name); the description of its
 * result goes to line; returns CHILD_PASSED or CHILD_FAILED */
static int replay_one(const char *path, const char *name, char *line, size_t lsz)
{
	size_t len = 0;
	unsigned char *buf = read_input(path, &len);
	if (!buf) {
		snprintf(line, lsz, "%s: cannot read it: %s", name, strerror(errno));
		return CHILD_FAILED;
	}
	fz_verdict_reset();
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);

	printf("# %s:", name);
	for (size_t i = 0; i < fz_verdict_count(); i++) {
		bool acc = false;
		fz_verdict_get(fz_verdict_kind(i), &acc);
		printf(" %s %s", fz_verdict_kind(i), acc ? "accepted" : "rejected");
	}
	printf("\n");

	bool want;
	const char *rest;
	if (strncmp(name, "ok-", 3) == 0) {
		want = true;
		rest = name + 3;
	} else if (strncmp(name, "bad-", 4) == 0) {
		want = false;
		rest = name + 4;
	} else {
		snprintf(line, lsz, "%s: came back (no verdict asked)", name);
		return CHILD_PASSED;
	}
	const char *kind = kind_of(rest);
	if (!kind) {
		snprintf(line, lsz,
			 "%s: the target gave no verdict for the kind this name asks about", name);
		return CHILD_FAILED;
	}
	bool got = false;
	fz_verdict_get(kind, &got);
	snprintf(line, lsz, "%s: %s %s it%s", name, kind, got ? "accepted" : "rejected",
		 got == want ? "" : (want ? ", want accepted" : ", want rejected"));
	return got == want ? CHILD_PASSED : CHILD_FAILED;
}

/* run input i in a child; print its TAP line; 0 passed, 1 failed, -1 error */
static int replay_child(int i, const char *path, const char *name)
{
	int fds[2];
	if (pipe(fds) < 0) {
		perror("pipe");
		return -1;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return -1;
	}
	if (pid == 0) {
		char line[1024] = "";
		close(fds[0]);
		int rc = replay_one(path, name, line, sizeof(line));
		fflush(stdout);
		if (write(fds[1], line, strlen(line)) < 0)
			_exit(1);
		close(fds[1]);
		/* exit, not _exit: LeakSanitizer checks at exit */
		exit(rc);
	}
	close(fds[1]);
	char line[1024];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(line) - 1 && (r = read(fds[0], line + n, sizeof(line) - 1 - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += (size_t)r;
	}
	line[n] = 0;
	close(fds[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			perror("waitpid");
			return -1;
		}
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_PASSED) {
		printf("ok %d - %s\n", i, line);
		return 0;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_FAILED)
		printf("not ok %d - %s\n", i, line);
	else if (WIFSIGNALED(st))
		printf("not ok %d - %s: killed by signal %d (%s)\n", i, name, WTERMSIG(st),
		       strsignal(WTERMSIG(st)));
	else
		printf("not ok %d - %s: exit %d (a sanitizer report or a leak?) %s\n", i, name,
		       WEXITSTATUS(st), line);
	return 1;
}

int main(int argc, char **argv)
{
	int failed = 0;
	printf("1..%d\n", argc - 1);
	for (int i = 1; i < argc; i++) {
		char *copy = strdup(argv[i]);
		if (!copy)
			return 1;
		int rc = replay_child(i, argv[i], basename(copy));
		free(copy);
		if (rc < 0)
			return 1;
		failed += rc;
	}
	fflush(stdout);
	return failed ? 1 : 0;
}
