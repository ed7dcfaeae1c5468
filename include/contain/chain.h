/* chain: a hash-chained JSON-lines log. One format and one piece of code for
 * the bag's custody.jsonl and the node's audit log.
 *
 * Each line is one compact JSON object:
 *   {"seq":N,"time":"RFC3339 ns UTC","actor":{"uid":..,"user":"..","pid":..,"host":".."},
 *    "tool":"contain VERSION","action":"..","target":"..","result":"..", <extra fields>,
 *    "prev":"<sha256 hex>"}
 * seq starts at 1. prev is the SHA-256 of the previous line's bytes (without
 * its '\n'); the first line's prev is the genesis: SHA-256 of
 * "contain-chain-genesis:" + seed (the bag id for a bag's custody log). The
 * head is the SHA-256 of the last line's bytes (the genesis for an empty
 * log).
 *
 * A rooted chain (the node audit log) has no seed: its first line is a
 * genesis line, seq 0 and no "prev",
 *   {"seq":0,"time":..,"actor":..,"tool":..,"action":"genesis","target":"",
 *    "result":"ok", <the caller's fields, e.g. "node">}
 * and the SHA-256 of that line's bytes (the chain's genesis hash) is what
 * line seq 1's prev holds. An empty file is not a rooted chain.
 *
 * Signed lines: a chain opened with a signer ends each line (the genesis
 * too) with ,"sig":"<128 hex>"}: the Ed25519 signature (src/evidence/sign.c)
 * over "contain-chain-sig-v1:" + the SHA-256 hex of the line's bytes without
 * that member (the line as it would be unsigned). The next line's prev is the
 * hash of the whole line, signature included. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "contain/util.h"

#define CHAIN_HASH_HEX 65 /* 64 hex digits + NUL */
#define CHAIN_AUDIT_SEED "audit" /* the audit log's fixed seed before it was rooted
				  * (it proved nothing: an empty file verified) */
#define CHAIN_MAX_LINE (1u << 20) /* a longer line is invalid */
#define CHAIN_SIG_DOMAIN "contain-chain-sig-v1:"
#define CHAIN_GENESIS_ACTION "genesis"

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

/* Open a rooted chain file (CHAIN_APPEND, optionally CHAIN_FSYNC): a file
 * that is missing or empty gets a genesis line first, with the fields of
 * genesis (an object, borrowed) added; an existing file's first line must be
 * a genesis line (ERR_INVALID otherwise). signer (borrowed, may be NULL):
 * every line this handle writes, the genesis too, is signed. The genesis
 * line is written and fsync()ed under the file's lock, so two writers never
 * both make one. */
int chain_open_rooted(const char *path, json_t *genesis, EVP_PKEY *signer, int flags,
		      struct chain **out, struct err *e);
/* The genesis hash of a rooted chain (the seeded chain's genesis otherwise). */
const char *chain_genesis_hash(const struct chain *c);

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
	unsigned long long seq;		/* seq of the last good line (0: none, or the genesis) */
	char genesis[CHAIN_HASH_HEX];	/* the genesis hash (rooted: empty until a genesis line) */
	unsigned long long signed_lines; /* good lines that carry a "sig" */
};

/* Check a chain held in memory (buf, n). Returns 0 when the whole chain is
 * good, 1 when a line is broken (details in r), -1 on error. */
int chain_check_buf(const char *buf, size_t n, const char *seed, struct chain_check *r,
		    struct err *e);
/* The same, handing each good line's parsed object (borrowed: valid during
 * the call) to fn, in order: one parse a line for a reader that wants the
 * events too. With jfn, a simple line (include/contain/jline.h) goes to jfn
 * instead, read without jansson; any other line to fn. */
struct jl_val;
typedef void chain_line_fn(void *ctx, json_t *line);
typedef void chain_jline_fn(void *ctx, const struct jl_val *line);
int chain_check_buf_each(const char *buf, size_t n, const char *seed, struct chain_check *r,
			 chain_line_fn *fn, chain_jline_fn *jfn, void *ctx, struct err *e);
int chain_check_file(const char *path, const char *seed, struct chain_check *r,
		     struct err *e);

/* The general walk. Each good line's parsed object (borrowed, valid during
 * the call), its seq (0 for a genesis line) and its hash go to fn, which
 * may refuse it: return non-zero with a reason in problem (psz bytes), and
 * the line counts as the first broken one. */
typedef int chain_event_fn(void *ctx, json_t *line, unsigned long long seq,
			   const char hash[CHAIN_HASH_HEX], char *problem, size_t psz);
struct chain_check_opts {
	const char *seed; /* a seeded chain (custody); ignored when rooted */
	bool rooted;	  /* the first line is a genesis line (the audit log) */
	EVP_PKEY *pubkey; /* every line must carry a valid "sig" by this key */
	chain_event_fn *fn;
	void *ctx;
};
int chain_check_buf_opts(const char *buf, size_t n, const struct chain_check_opts *o,
			 struct chain_check *r, struct err *e);
int chain_check_file_opts(const char *path, const struct chain_check_opts *o,
			  struct chain_check *r, struct err *e);
