/* dl_yara.c: the libyara functions contain calls, opened on first use
 * (dlib.h). One line per function: F(ret, name, (params), (args)), or
 * V(name, (params), (args)) when it returns void; N(name): resolved, defined
 * by hand below. */
#include <yara.h>

#include "dlib-wrap.h"

#define DLIB_ME	   DLIB_YARA
#define DLIB_TABLE dlib_table_yara

#define SYMS(F, V, N)                                                                              \
	F(int, yr_compiler_add_string, (YR_COMPILER * a0, const char *a1, const char *a2),         \
	  (a0, a1, a2))                                                                            \
	F(int, yr_compiler_create, (YR_COMPILER * *a0), (a0))                                      \
	F(int, yr_compiler_define_integer_variable,                                                \
	  (YR_COMPILER * a0, const char *a1, int64_t a2), (a0, a1, a2))                            \
	F(int, yr_compiler_define_string_variable,                                                 \
	  (YR_COMPILER * a0, const char *a1, const char *a2), (a0, a1, a2))                        \
	V(yr_compiler_destroy, (YR_COMPILER * a0), (a0))                                           \
	F(int, yr_compiler_get_rules, (YR_COMPILER * a0, YR_RULES * *a1), (a0, a1))                \
	V(yr_compiler_set_callback, (YR_COMPILER * a0, YR_COMPILER_CALLBACK_FUNC a1, void *a2),    \
	  (a0, a1, a2))                                                                            \
	V(yr_compiler_set_include_callback,                                                        \
	  (YR_COMPILER * a0, YR_COMPILER_INCLUDE_CALLBACK_FUNC a1,                                 \
	   YR_COMPILER_INCLUDE_FREE_FUNC a2, void *a3),                                            \
	  (a0, a1, a2, a3))                                                                        \
	F(int, yr_finalize, (void), ())                                                            \
	F(int, yr_initialize, (void), ())                                                          \
	F(int, yr_rules_destroy, (YR_RULES * a0), (a0))                                            \
	F(int, yr_rules_load_stream, (YR_STREAM * a0, YR_RULES * *a1), (a0, a1))                   \
	F(int, yr_rules_save_stream, (YR_RULES * a0, YR_STREAM * a1), (a0, a1))                    \
	F(int, yr_scanner_create, (YR_RULES * a0, YR_SCANNER * *a1), (a0, a1))                     \
	F(int, yr_scanner_define_integer_variable, (YR_SCANNER * a0, const char *a1, int64_t a2),  \
	  (a0, a1, a2))                                                                            \
	F(int, yr_scanner_define_string_variable,                                                  \
	  (YR_SCANNER * a0, const char *a1, const char *a2), (a0, a1, a2))                         \
	V(yr_scanner_destroy, (YR_SCANNER * a0), (a0))                                             \
	F(int, yr_scanner_scan_mem, (YR_SCANNER * a0, const uint8_t *a1, size_t a2), (a0, a1, a2)) \
	V(yr_scanner_set_callback, (YR_SCANNER * a0, YR_CALLBACK_FUNC a1, void *a2), (a0, a1, a2)) \
	V(yr_scanner_set_flags, (YR_SCANNER * a0, int a1), (a0, a1))                               \
	V(yr_scanner_set_timeout, (YR_SCANNER * a0, int a1), (a0, a1))

DLIB_WRAPPERS(SYMS)
