/* dlib: the heavy libraries, opened on first use (systemd's dlopen-*.c, in
 * the shape of wrappers).
 *
 * libarchive, libmagic, libyara, libpcap, libnftables (and the 25
 * libraries they pull in: libxml2, ICU, libstdc++, libdbus, libsystemd,
 * libgcrypt, ...) and libcrypto are not on the link line: `contain
 * version`, `contain list` or `contain quarantine --help` do not pay for
 * them at every start. Each of
 * their functions that contain calls is defined in src/util/dl_<lib>.c
 * with the library's own prototype (so the compiler checks it against the
 * library's header); it calls the library's function through a table that
 * dlib_load() fills with dlsym(), every symbol at once. Call sites do not
 * change.
 *
 * A verb states in its flags (CMD_LIBS in src/main.c) the libraries it may
 * use; main loads them before the verb runs, so a missing one is a clear
 * error (exit 3) before anything is touched, and only in those verbs. A
 * wrapper called before its library was loaded (a test binary, a tool)
 * loads it then; if that fails it prints the error and aborts: that is
 * the dynamic linker's behaviour at start today, moved to first use.
 *
 * To call a new function of one of these libraries, add one line to the
 * list in its dl_<lib>.c (the link fails with "undefined reference" until
 * then). */
#pragma once

#include <stdbool.h>

#include "contain/util.h"

/* in the order dlib_load_mask() loads them: libcrypto first, which libyara
 * links too, so that a broken libcrypto is named as such */
enum dlib {
	DLIB_CRYPTO, /* not optional, but 3 of the 4 ms a start cost */
	DLIB_ARCHIVE,
	DLIB_MAGIC,
	DLIB_YARA,
	DLIB_PCAP,
	DLIB_NFTABLES,
	DLIB_COUNT,
};

#define DLIB_BIT(l) (1u << (l))

/* The SONAME opened for the library, e.g. "libyara.so.9". */
const char *dlib_soname(enum dlib l);

/* Open the library and resolve every symbol contain uses; idempotent and
 * thread-safe. -1 and an error naming the library (and the package that
 * holds it) when it cannot be opened or lacks a symbol. */
int dlib_load(enum dlib l, struct err *e);

/* dlib_load() of each library in the mask (DLIB_BIT()s), in order. */
int dlib_load_mask(unsigned mask, struct err *e);

/* Whether the library is loaded (no attempt is made). */
bool dlib_loaded(enum dlib l);

/* dlib_load_mask(mask) on a thread of its own, for a verb that has work to
 * do before it needs them (quarantine resolves the container meanwhile);
 * dlib_load_bg_wait() joins it and gives its result (0 without a start).
 * The verb waits before it writes or exits: the error is the same, only
 * later. A wrapper called meanwhile waits on the load lock. When the
 * thread cannot start, the libraries are loaded at once. then (may be
 * NULL) runs on that thread after a load that succeeded: work that warms
 * a library (quarantine: ncut_prewarm). */
void dlib_load_bg_start(unsigned mask, void (*then)(void));
int dlib_load_bg_wait(struct err *e);
