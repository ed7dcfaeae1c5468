/* audit: the node audit log, a rooted hash-chained JSON-lines file (the
 * format of include/contain/chain.h) that every quarantine, release and
 * capture step is written to.
 *
 * Its first line is a genesis line that binds the log to the node:
 *   {"seq":0,...,"action":"genesis","target":"","result":"ok",
 *    "node":{"machine_id":"<id>","machine_id_source":"/etc/machine-id",
 *            "hostname":"..","created":"<RFC 3339>","nonce":"<64 hex>"}}
 * and the hash of that line starts the chain (line seq 1's prev). The
 * machine id is /etc/machine-id, else /var/lib/dbus/machine-id, else a
 * random node id made once in AUDIT_NODE_ID_FILE (0600). A log that is
 * empty, whose first line is not a genesis, or whose genesis names another
 * machine does not verify.
 *
 * A bag records the head of this log (seq and hash of its last line, and the
 * log's genesis hash) at the start and the end of its capture: in its custody
 * log (event "audit-head") and in bag-info.txt (Contain-Audit-Head-Start,
 * Contain-Audit-Head-End: "SEQ:HASH", Contain-Audit-Genesis). Root can rewrite
 * the log, but not the bags already sent off the node: audit_verify() with
 * bags proves their heads are still in the log (a truncated or rebuilt log
 * fails).
 *
 * With a node key (audit_set_key) every line is signed (chain.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "contain/chain.h"
#include "contain/util.h"

#define AUDIT_NODE_ID_FILE "/var/lib/contain/node-id"
#define AUDIT_ID_MAX 65 /* a machine id: 32 hex digits (at most 64) + NUL */

struct bag;

/* The node's identity. */
struct audit_node {
	char machine_id[AUDIT_ID_MAX];
	char source[256]; /* the file it came from */
};
/* Read the machine id: the first of paths (NULL-terminated list) that
 * exists and is not empty, else the node id file `fallback`, made with a
 * random id (O_EXCL, O_NOFOLLOW, 0600, its directory 0700) when create is
 * true and it does not exist. A file that is there but holds no machine id
 * (hex, 32..64 digits, an optional newline) is an error (ERR_INVALID), never
 * skipped: the node's identity does not change behind its log. ERR_NOTFOUND
 * when there is none (and create is false). */
int audit_node_from(const char *const *paths, const char *fallback, bool create,
		    struct audit_node *n, struct err *e);
/* The same for this node (/etc/machine-id, /var/lib/dbus/machine-id,
 * AUDIT_NODE_ID_FILE). */
int audit_node_get(bool create, struct audit_node *n, struct err *e);

/* The node key every line is signed with (PEM PKCS8 Ed25519, `contain
 * keygen`), for the whole process: NULL for none. Loaded and checked now. */
int audit_set_key(const char *path, struct err *e);

/* Append one event to the audit log at path (its directory made 0700; a
 * missing or empty file gets its genesis line first). extra (borrowed, may
 * be NULL) adds fields. Signed when a key is set. A log whose chain is
 * broken or whose first line is no genesis is refused (ERR_INVALID); one
 * whose genesis names another machine is still appended to (the record
 * matters more; audit_verify reports it). */
int audit_record(const char *path, const char *action, const char *target,
		 const char *result, json_t *extra, struct err *e);

struct audit_head {
	unsigned long long seq;	      /* of the last line (0: only the genesis) */
	char hash[CHAIN_HASH_HEX];    /* its SHA-256 */
	char genesis[CHAIN_HASH_HEX]; /* the log's genesis hash */
};
/* The head of the audit log at path; a missing or empty log is made (with
 * its genesis) first, as audit_record would. A broken chain: ERR_INVALID. */
int audit_head(const char *path, struct audit_head *h, struct err *e);
/* "SEQ:HASH" (buf >= AUDIT_HEAD_TEXT) and back. */
#define AUDIT_HEAD_TEXT (24 + CHAIN_HASH_HEX)
void audit_head_format(const struct audit_head *h, char *buf, size_t n);
int audit_head_parse(const char *s, struct audit_head *h);

/* Record the audit log's head in a bag: a custody event "audit-head" with
 * {"phase":"start"|"end","audit_head":{"seq","hash","genesis"}} (target:
 * the log's path) and bag-info.txt's
 * Contain-Audit-Head-Start or -End (SEQ:HASH) and Contain-Audit-Genesis.
 * end: false at the capture's start, true at its end (before the seal). */
int audit_bag_mark(struct bag *b, const char *path, bool end, struct audit_head *h,
		   struct err *e);

struct audit_verify_opts {
	const char *machine_id;	 /* the node the log must be from; NULL: this node */
	const char *pubkey;	 /* PEM Ed25519 public key: every line signed by it */
	const char *const *bags; /* bags whose recorded heads must be in the log */
	size_t nbags;
};
/* Verify the audit log at path: its genesis (this node), its chain, the
 * signatures (with pubkey) and each bag's heads. *report gets {"file",
 * "valid","lines","seq","head","genesis","node","signed_lines",
 * "first_bad_line","problem","truncated_tail","bags":[{"bag","ok","problem",
 * "heads":[{"phase","seq","hash","ok","problem"}]}]}. Returns 0 valid, 1 a
 * problem found (named in the report), -1 the log could not be read (e
 * filled). A bag that cannot be read is a problem of that bag. */
int audit_verify(const char *path, const struct audit_verify_opts *o, json_t **report,
		 struct err *e);
