/* unit.h: each tests/unit/test_<module>.c defines unit_suite(); main.c runs it
 * with Check (forking each test, so a crash fails one test, not the run). */
#pragma once
#include <check.h>

Suite *unit_suite(void);
