/* chain: a hash-chained JSON-lines log. One format and one piece of code for
 * the bag's custody.jsonl and the node's audit log.
 *
 * Each line is one compact JSON object:
 *   {"seq":N,"time":"RFC3339 ns UTC","actor":{"uid":..,"user":"..","pid":..,"host":".."},
 *    "tool":"contain VERSION","action":"..","target":"..","result":"..", <extra fields>,
 *    "prev":"<sha256 hex>"}
 * seq starts at 1. prev is the SHA-256 of the previous line's bytes (without
 * its '\n'); the first line's prev is the genesis: SHA-256 of
 * "contain-chain-genesis:" + seed (the bag id for a bag, "audit" for the
 * audit log). The head is the SHA-256 of the last line's bytes (the genesis
 * for an empty log). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "contain/util.h"

#define CHAIN_HASH_HEX 65 /* 64 hex digits + NUL */
#define CHAIN_AUDIT_SEED "audit"
#define CHAIN_MAX_LINE (1u << 20) /* a longer line is invalid */

struct chain;

enum {
	CHAIN_CREATE_EXCL = 1 << 0, /* new file, O_EXCL (a bag's custody log) */
	CHAIN_APPEND = 1 << 1,	    /* create if missing, else continue its chain (audit log) */
	CHAIN_FSYNC = 1 << 2,	    /* fsync after every line */
	CHAIN_MEMORY = 1 << 3,	    /* no file (path ignored): lines kept in memory, chain_buf() */
	CHAIN_KEEP = 1 << 4,	    /* with a file: also keep the lines this handle wrote in memory */
};

/* Open a chain file. With CHAIN_APPEND an existing file is read to find its
 * seq and head (and checked: a broken chain is ERR_INVALID, never extended
 * silently). The file is 0600, O_NOFOLLOW, and flock()ed while appending
 * (not with CHAIN_CREATE_EXCL: a file made by this handle has no other
 * writer). */
int chain_open(const char *path, const char *seed, int flags, struct chain **out,
	       struct err *e);

/* Append one event. extra (may be NULL, borrowed) holds more fields to put
 * in the object (e.g. "artifacts", "container", "details"). */
int chain_append(struct chain *c, const char *action, const char *target,
		 const char *result, json_t *extra, struct err *e);

/* Current head hash (hex) and seq of the last line. */
const char *chain_head(const struct chain *c);
unsigned long long chain_seq(const struct chain *c);
/* The bytes written (CHAIN_MEMORY, CHAIN_KEEP), else NULL. */
const char *chain_buf(const struct chain *c, size_t *len);
/* fsync the file now (no-op in memory). */
int chain_sync(struct chain *c, struct err *e);
void chain_close(struct chain *c);
static inline void chain_closep(struct chain **c)
{
	if (*c)
		chain_close(*c);
}
#define _cleanup_chain_ _cleanup_(chain_closep)

/* SHA-256 hex of a line's bytes (what the next line's prev holds). */
void chain_line_hash(const char *line, size_t n, char out[CHAIN_HASH_HEX]);

/* The genesis hash for a seed. */
void chain_genesis(const char *seed, char out[CHAIN_HASH_HEX]);

struct chain_check {
	unsigned long long lines;	/* lines read */
	unsigned long long first_bad;	/* 1-based line number of the first broken line, 0 if none */
	char head[CHAIN_HASH_HEX];	/* head hash of the valid prefix */
	char problem[512];		/* what is wrong with first_bad */
	bool truncated_tail;		/* the last line has no '\n' (killed mid-write) */
};

/* Check a chain held in memory (buf, n). Returns 0 when the whole chain is
 * good, 1 when a line is broken (details in r), -1 on error. */
int chain_check_buf(const char *buf, size_t n, const char *seed, struct chain_check *r,
		    struct err *e);
/* The same, handing each good line's parsed object (borrowed: valid during
 * the call) to fn, in order: one parse a line for a reader that wants the
 * events too. */
typedef void chain_line_fn(void *ctx, json_t *line);
int chain_check_buf_each(const char *buf, size_t n, const char *seed, struct chain_check *r,
			 chain_line_fn *fn, void *ctx, struct err *e);
int chain_check_file(const char *path, const char *seed, struct chain_check *r,
		     struct err *e);
