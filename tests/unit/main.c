/* main.c: the one runner for every unit test binary. TAP goes to the file
 * named by $UNIT_TAP (tests/run.sh reads it), Check's summary to stdout. */
#include <stdlib.h>

#include "unit.h"

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
