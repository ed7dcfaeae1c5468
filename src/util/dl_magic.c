/* dl_magic.c: the libmagic functions contain calls, opened on first use
 * (dlib.h). One line per function: F(ret, name, (params), (args)), or
 * V(name, (params), (args)) when it returns void; N(name): resolved, defined
 * by hand below. */
#include <magic.h>

#include "dlib-wrap.h"

#define DLIB_ME	   DLIB_MAGIC
#define DLIB_TABLE dlib_table_magic

#define SYMS(F, V, N)                                                                              \
	F(const char *, magic_buffer, (magic_t a0, const void *a1, size_t a2), (a0, a1, a2))       \
	V(magic_close, (magic_t a0), (a0))                                                         \
	F(const char *, magic_error, (magic_t a0), (a0))                                           \
	F(int, magic_load, (magic_t a0, const char *a1), (a0, a1))                                 \
	F(magic_t, magic_open, (int a0), (a0))                                                     \
	F(int, magic_setparam, (magic_t a0, int a1, const void *a2), (a0, a1, a2))

DLIB_WRAPPERS(SYMS)
