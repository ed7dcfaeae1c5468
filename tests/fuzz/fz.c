/* fz.c: the verdicts of the current input (fz.h), linked into both the
 * replay and the libFuzzer builds of every target. */
#include <string.h>

#include "fz.h"

#define FZ_MAX_KINDS 16

static struct {
	const char *kind;
	bool accepted;
} verdicts[FZ_MAX_KINDS];
static size_t n_verdicts;

void fz_verdict(const char *kind, bool accepted)
{
	for (size_t i = 0; i < n_verdicts; i++) {
		if (strcmp(verdicts[i].kind, kind) == 0) {
			verdicts[i].accepted = accepted;
			return;
		}
	}
	if (n_verdicts < FZ_MAX_KINDS) {
		verdicts[n_verdicts].kind = kind;
		verdicts[n_verdicts].accepted = accepted;
		n_verdicts++;
	}
}

void fz_verdict_reset(void)
{
	n_verdicts = 0;
}

int fz_verdict_get(const char *kind, bool *accepted)
{
	for (size_t i = 0; i < n_verdicts; i++) {
		if (strcmp(verdicts[i].kind, kind) == 0) {
			*accepted = verdicts[i].accepted;
			return 0;
		}
	}
	return -1;
}

size_t fz_verdict_count(void)
{
	return n_verdicts;
}

const char *fz_verdict_kind(size_t i)
{
	return i < n_verdicts ? verdicts[i].kind : NULL;
}
