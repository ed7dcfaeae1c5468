/* fz.h: what a fuzz target tells the replay about an input (tests/fuzz/README.md).
 * A target calls fz_verdict(KIND, ACCEPTED) for each parser it ran: KIND is
 * the parser's name ("bag-info", "manifest", ...), ACCEPTED whether it took
 * the input as well formed. The replay (replay.c) checks a corpus file named
 * ok-KIND-* was accepted by KIND and bad-KIND-* rejected; libFuzzer ignores
 * the verdicts. */
#ifndef CONTAIN_FZ_H
#define CONTAIN_FZ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void fz_verdict(const char *kind, bool accepted);
/* the replay's side: forget the last input's verdicts; look one up (0 found,
 * -1 the target gave none for kind); the kinds given, in order */
void fz_verdict_reset(void);
int fz_verdict_get(const char *kind, bool *accepted);
size_t fz_verdict_count(void);
const char *fz_verdict_kind(size_t i);
#endif
