/* dlib-wrap.h: how src/util/dl_<lib>.c define their wrappers (dlib.h).
 *
 * A file lists its functions in one macro, SYMS(F, V, N): F(ret, name,
 * (params), (args)) for a function that returns a value, V(name, (params),
 * (args)) for one that returns void, N(name) for one resolved into the table
 * but defined by hand (a variadic one). DLIB_WRAPPERS(SYMS) then defines
 * the table (names and pointers) that dlib.c fills, and each function: a
 * check that the table is filled, then a call through it. */
#pragma once

#include <stddef.h>

#include "contain/dlib.h"

struct dlib_table {
	const char *const *names;
	void **ptrs;
	size_t n;
	void *handle; /* dlopen()'s, kept for the life of the process */
	int loaded;   /* read and written with __atomic */
};

/* the tables, one per library (dl_<lib>.c) */
extern struct dlib_table dlib_table_archive, dlib_table_magic, dlib_table_yara, dlib_table_pcap,
    dlib_table_nftables, dlib_table_crypto;

/* dlib_load(), or print why it failed and exit 127 (a wrapper cannot return
 * an error of its own) */
void dlib_need(enum dlib l);

#define DLIB_IDX_F(ret, name, params, args)  DLIB_I_##name,
#define DLIB_IDX_V(name, params, args)	     DLIB_I_##name,
#define DLIB_NAME_F(ret, name, params, args) #name,
#define DLIB_NAME_V(name, params, args)	     #name,
#define DLIB_IDX_N(name)		     DLIB_I_##name,
#define DLIB_NAME_N(name)		     #name,
#define DLIB_DEF_N(name)
#define DLIB_DEF_F(ret, name, params, args)                                                        \
	ret name params                                                                            \
	{                                                                                          \
		DLIB_ENSURE();                                                                     \
		ret(*fn_) params = (ret(*) params)dlib_ptrs[DLIB_I_##name];                        \
		return fn_ args;                                                                   \
	}
#define DLIB_DEF_V(name, params, args)                                                             \
	void name params                                                                           \
	{                                                                                          \
		DLIB_ENSURE();                                                                     \
		void(*fn_) params = (void(*) params)dlib_ptrs[DLIB_I_##name];                      \
		fn_ args;                                                                          \
	}

/* in dl_<lib>.c: #define DLIB_ME DLIB_ARCHIVE and DLIB_TABLE dlib_table_archive,
 * then DLIB_WRAPPERS(SYMS) */
#define DLIB_ENSURE()                                                                              \
	do {                                                                                       \
		if (!__atomic_load_n(&DLIB_TABLE.loaded, __ATOMIC_ACQUIRE))                        \
			dlib_need(DLIB_ME);                                                        \
	} while (0)

#define DLIB_WRAPPERS(SYMS)                                                                        \
	enum { SYMS(DLIB_IDX_F, DLIB_IDX_V, DLIB_IDX_N) DLIB_N };                                  \
	static const char *const dlib_names[] = {SYMS(DLIB_NAME_F, DLIB_NAME_V, DLIB_NAME_N)};     \
	static void *dlib_ptrs[DLIB_N];                                                            \
	struct dlib_table DLIB_TABLE = {dlib_names, dlib_ptrs, DLIB_N, NULL, 0};                   \
	SYMS(DLIB_DEF_F, DLIB_DEF_V, DLIB_DEF_N)
