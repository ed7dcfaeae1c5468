/* main.c: the one runner for every unit test binary. TAP goes to the file
 * named by $UNIT_TAP (tests/run.sh reads it), Check's summary to stdout. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

void unit_tmpdir(char *buf, size_t n, const char *name)
{
	ck_assert_int_lt(snprintf(buf, n, "/tmp/%s.XXXXXX", name), (int)n);
	ck_assert_ptr_nonnull(mkdtemp(buf));
}

void unit_pattern_fill(unsigned char *b, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)x;
	}
}

unsigned char *unit_pattern(size_t n, unsigned seed)
{
	unsigned char *b = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(b);
	unit_pattern_fill(b, n, seed);
	return b;
}

void unit_tmpdir_remove(const char *dir)
{
	pid_t p = fork();
	if (p == 0) {
		execlp("rm", "rm", "-rf", "--", dir, (char *)NULL);
		_exit(127);
	}
	int st;
	if (p > 0)
		waitpid(p, &st, 0);
}

int main(void)
{
	SRunner *sr = srunner_create(unit_suite());
	const char *tap = getenv("UNIT_TAP");
	if (tap && *tap)
		srunner_set_tap(sr, tap);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
