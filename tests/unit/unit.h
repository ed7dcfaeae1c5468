/* unit.h: each tests/unit/test_<module>.c defines unit_suite(); main.c runs it
 * with Check (forking each test, so a crash fails one test, not the run). */
#pragma once
#include <check.h>

Suite *unit_suite(void);

/* A fresh dir /tmp/<name>.XXXXXX in buf (n >= 64), made 0700 by mkdtemp; and
 * its removal with everything below it (only what unit_tmpdir made). */
void unit_tmpdir(char *buf, size_t n, const char *name);
void unit_tmpdir_remove(const char *dir);

/* n bytes (malloc'ed, at least 1) of a xorshift stream from seed: test data
 * that differs in every byte and seed. */
unsigned char *unit_pattern(size_t n, unsigned seed);
/* the same bytes into b */
void unit_pattern_fill(unsigned char *b, size_t n, unsigned seed);
