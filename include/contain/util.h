/* util: the bottom area. Errors, cleanup helpers, bounded reads, numbers,
 * time, buffers. Everything else may include this; it includes nothing of ours. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define CONTAIN_VERSION "0.1.0"

/* Exit codes (contain.1, EXIT STATUS). Only main and cmd_* pick one. */
enum {
	EXIT_OK = 0,	/* ran, nothing wrong */
	EXIT_FOUND = 1, /* ran and found a problem: unknown ref, bag invalid... */
	EXIT_USAGE = 2, /* bad command line, ambiguous ref */
	EXIT_SYS = 3,	/* system error: could not do the work */
};

/* ---- errors: library code fills a struct err and returns -1 ---- */

enum err_kind {
	ERR_NONE = 0,
	ERR_SYS,      /* a system call failed (errno kept in .errnum) */
	ERR_NOTFOUND, /* the thing asked for does not exist */
	ERR_AMBIG,    /* a reference matched more than one thing */
	ERR_INVALID,  /* input is malformed (a file, a bag, an option value) */
	ERR_WRONGSTATE,    /* the object is in the wrong state for this */
	ERR_UNSUPP,   /* refused on purpose: cannot be done safely or here */
};

struct err {
	enum err_kind kind;
	int errnum;
	char msg[2048];
};

/* Set an error; returns -1 so it can be `return err_set(...)`. */
int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like err_set(ERR_SYS) and appends ": strerror(errnum)". */
int err_sys(struct err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix context on the way up: "ctx: old message". Returns -1. */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);
/* The exit code a verb should use for this error. */
int err_exit_code(const struct err *e);

/* ---- the one printer (util/log.c) ---- */
void log_set_verbosity(int v); /* 0 quiet warnings off? no: 0 normal, 1 -v */
int log_verbosity(void);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const struct err *e); /* "contain: <msg>" */
unsigned log_warn_count(void);

/* ---- cleanup helpers (crun, bubblewrap) ---- */
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

static inline void *steal_ptr_(void *pp)
{
	void **p = (void **)pp;
	void *r = *p;
	*p = NULL;
	return r;
}
#define steal_pointer(pp) steal_ptr_(pp)
static inline int steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- allocation: abort on OOM (like git's xmalloc), check overflow ---- */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Grow *arr (of *cap elements of size) to hold at least need elements. */
void xgrow(void *arr, size_t *cap, size_t need, size_t size);
/* 0 when the n bytes are equal, in a time that depends on n only (for
 * digests and hash chains: signify's timingsafe_bcmp, OpenSSL's
 * CRYPTO_memcmp; ours so that an unsigned chain needs no libcrypto) */
int memcmp_ct(const void *a, const void *b, size_t n);

/* ---- growable byte buffer, always NUL-terminated ---- */
struct sbuf {
	char *buf;
	size_t len, cap;
};
#define SBUF_INIT {NULL, 0, 0}
void sbuf_add(struct sbuf *b, const void *p, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_reset(struct sbuf *b);
void sbuf_free(struct sbuf *b);
char *sbuf_steal(struct sbuf *b); /* caller frees; never NULL */
static inline void sbuf_freep(struct sbuf *b)
{
	sbuf_free(b);
}
#define _cleanup_sbuf_ _cleanup_(sbuf_freep)

/* ---- numbers: one parser (strtoll, ERANGE, whole string, range) ---- */
int parse_ll(const char *s, long long min, long long max, long long *out);
int parse_ull(const char *s, unsigned long long max, unsigned long long *out);
/* "10", "10k", "5M", "2G" (powers of 1024) */
int parse_size(const char *s, unsigned long long *out);
/* a pid: decimal, 1..INT_MAX */
int parse_pid(const char *s, pid_t *out);

/* ---- reading files, bounded ---- */
/* Read at most max bytes of dirfd/path (AT_FDCWD ok). Regular files and
 * /proc pseudo files only: FIFOs, sockets and devices are refused, never
 * opened for reading. *truncated (may be NULL) tells whether more was there.
 * The buffer is NUL-terminated; *len excludes the NUL. */
int read_file_at(int dirfd, const char *path, size_t max, char **buf, size_t *len,
		 bool *truncated, struct err *e);
/* Read an open fd to EOF, at most max bytes. */
int read_fd_bounded(int fd, size_t max, char **buf, size_t *len, bool *truncated,
		    struct err *e);
/* write all of buf to fd, retrying on EINTR/short writes */
int write_all(int fd, const void *buf, size_t n);
/* pread n bytes at off, retrying on EINTR/short reads: the count read
 * (less than n only at end of file), or -1 with errno (what was read
 * before the error is in buf) */
ssize_t pread_all(int fd, void *buf, size_t n, off_t off);
/* mkdir -p with mode for each created component */
int mkdir_p(const char *path, mode_t mode, struct err *e);
/* write a file atomically: tmp in the same dir, fsync, rename */
int write_file_atomic(const char *path, const void *buf, size_t n, mode_t mode,
		      struct err *e);

/* ---- text ---- */
bool utf8_valid(const char *s, size_t n);
/* An upper bound of the values JSON text holds (the commas, colons and
 * opening brackets outside strings, plus one): what a parser would allocate,
 * known before it runs. */
size_t json_text_values(const char *b, size_t n);
void hex_encode(const unsigned char *in, size_t n, char *out /* 2n+1 */);
int hex_decode(const char *in, unsigned char *out, size_t outlen);
/* one hex digit's value, -1 when c is not one */
int hex_digit(char c);
char *base64_encode(const unsigned char *in, size_t n); /* caller frees */
/* Strict standard base64 (padded): the bytes (NUL-terminated, *outlen
 * without it), or NULL for a bad encoding. Caller frees. */
unsigned char *base64_decode(const char *in, size_t n, size_t *outlen);
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
/* trim trailing \n and spaces in place */
void str_rstrip(char *s);
/* The line of buf[0..n) at *off, NULL at the end: its start; *len its
 * length without the '\n' and one '\r' before it; *off moved past its '\n';
 * *nl (NULL: not wanted) whether it ended with a '\n' (the last may not). */
const char *str_line_next(const char *buf, size_t n, size_t *off, size_t *len, bool *nl);
bool is_hex_string(const char *s);

/* ---- time ---- */
/* UTC RFC 3339 with nanoseconds: 2026-12-02T09:13:23.123456789Z (buf >= 40) */
void time_rfc3339_ns(char *buf, size_t n);
void time_rfc3339_from(const struct timespec *ts, char *buf, size_t n);
/* monotonic seconds as double */
double time_mono(void);

/* ---- sink: where a collector's bytes go (a bag artifact, a file, a buffer).
 * Collectors write through a sink so they need not know the bag; the bag's
 * artifact handle gives one (bytes are hashed as they pass). hole() skips n
 * zero bytes (sparse: a core's unread pages, a sparse file's holes); a sink
 * without one gets zeros written. */
struct sink {
	int (*write)(void *ctx, const void *buf, size_t n, struct err *e);
	int (*hole)(void *ctx, uint64_t n, struct err *e); /* may be NULL */
	void *ctx;
};
int sink_write(const struct sink *s, const void *buf, size_t n, struct err *e);
int sink_hole(const struct sink *s, uint64_t n, struct err *e);
/* a sink over an fd (holes become lseek when the fd can seek) */
struct sink sink_fd(int *fd);
/* a sink into an sbuf */
struct sink sink_sbuf(struct sbuf *b);
