/* respond: detector alerts to evidence-first containment on the node
 * (src/respond/). Three parts, each library code (never prints, never
 * exits):
 *
 *   alert.c     one input line or HTTP body (Falco, falcosidekick,
 *               Tetragon, Tracee, Sysdig Secure) -> one normalized alert;
 *   playbook.c  playbooks/NAME.json (and the allow list) -> a checked set;
 *               an alert -> the playbooks it matches;
 *   respond.c   the engine: inputs (stdin, a followed file, a unix socket
 *               with JSON lines or HTTP POST), dedup, allow list, rate
 *               limit, a bounded queue of actions run by workers (one action
 *               at a time per container), dry run, audit, signals.
 *
 * Every alert is the attacker's input as much as the detector's: bounded,
 * never a field in an argv or a shell, never trusted to name the host. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "contain/util.h"

/* ---- the normalized alert (alert.c) ---- */
#define ALERT_LINE_MAX	 (1u << 20) /* bytes of one line or body */
#define ALERT_FIELDS_MAX 512u	    /* fields kept of one alert */
#define ALERT_TAGS_MAX	 64u
#define ALERT_STR_MAX	 4096u	    /* bytes of one kept string (longer: cut, noted) */
#define ALERT_DEPTH_MAX	 64u	    /* nesting of objects and arrays in one alert */

/* Falco's priorities, lowest first (Tetragon/Tracee severities map onto them) */
enum alert_prio {
	AP_DEBUG,
	AP_INFORMATIONAL,
	AP_NOTICE,
	AP_WARNING,
	AP_ERROR,
	AP_CRITICAL,
	AP_ALERT,
	AP_EMERGENCY,
};
const char *alert_prio_name(enum alert_prio p); /* "Critical"... */
/* Case-insensitive; "info" for Informational. 0, or -1 for an unknown name. */
int alert_prio_parse(const char *s, enum alert_prio *p);

/* Everything in it belongs to it: freed by alert_free only (the "" of an
 * unknown member is one shared static string, never to be freed or written). */
struct alert {
	const char *source;   /* "falco", "falcosidekick", "tetragon", "tracee", "sysdig" (static) */
	char *rule;	      /* Falco rule; Tetragon policy name (else the event kind);
			       * Tracee policy (else eventName); never NULL ("" unknown) */
	enum alert_prio prio;
	bool prio_known;
	char *time;	      /* RFC 3339 (UTC, as given or converted), "" unknown */
	char *container_id;   /* as given: full, a 12-char prefix, or "" (lowercase hex,
			       * 12 to 64 digits, a "containerd://" scheme dropped; any
			       * other id refuses the alert: never a name or a pid) */
	bool host;	      /* a host event ("host", "" or no container): never acted on */
	char *container_name; /* "" unknown */
	char *image;	      /* "" unknown */
	char *pod, *ns;	      /* Kubernetes pod and namespace, "" unknown */
	long long pid;	      /* the process's pid as the detector saw it (host pid), 0 unknown */
	json_t *tags;	      /* array of strings */
	json_t *fields;	      /* object: Falco field names ("proc.name", "fd.name"...) -> scalar */
	char *text;	      /* the input as given (a copy, text_len bytes, NUL-terminated) */
	size_t text_len;
	json_t *raw;	      /* the input as parsed: NULL until alert_raw(a) (a full jansson
			       * parse costs 5x the normalization: only an alert acted on needs it) */
	char key[65];	      /* "" until alert_key(a): SHA-256 hex of the normalized alert
			       * (source, rule, container, pid, the fields; never the output
			       * text or the time): "identical" */
	json_t *notes;	      /* array of strings: what was cut or odd (may be empty) */
};
/* One JSON document (a line, or an HTTP body) into a. The format is told
 * from its shape. Returns 0, or -1 with e (ERR_INVALID naming what is
 * wrong: not JSON, nesting or size past the bounds, no known format); a is
 * then empty (alert_free is still safe). Reentrant; uses ~50 KiB of stack. */
int alert_parse(const char *buf, size_t n, struct alert *a, struct err *e);
void alert_free(struct alert *a);
/* a->key, computed on the first call (most alerts match no playbook and are
 * never keyed): the dedup key of an alert alert_parse accepted. Not safe
 * from two threads on one alert at once. */
const char *alert_key(struct alert *a);
/* The cheap first look at one document, for the intake: the same strict
 * scan as alert_parse (JSON, bounds, nesting, the format told from its
 * shape: an error here is exactly alert_parse's error), then only what a
 * playbook's cheap conditions look at, decoded into p itself: no
 * allocation, no normalization, no key. Each "known" says the value is what
 * alert_parse would give; unknown (a member of an odd type, a rule past
 * ALERT_STR_MAX, a format whose rule or priority needs the normalizer)
 * must be taken as "anything" (pb_may_match does). What alert_parse checks
 * past the shape (a container id that is not hex, a time, a member of the
 * wrong type) is NOT checked: a document alert_peek takes may still be
 * refused by alert_parse. Reentrant (a keep is one thread's); ~45 KiB of
 * stack without a keep. */
struct alert_scan; /* the scan of one document (~45 KiB), kept for the parse */
struct alert_peek {
	struct alert_scan *keep; /* in: NULL, or from alert_scan_new: the scan is kept
				  * there, and alert_parse_scanned normalizes from it */
	const char *source;	/* as alert_parse would set it (static) */
	bool rule_known;	/* rule is the alert's rule */
	bool prio_sure;		/* prio_known (and prio) are the alert's */
	bool prio_known;
	enum alert_prio prio;
	size_t rule_len;
	char rule[ALERT_STR_MAX + 1];
};
int alert_peek(const char *buf, size_t n, struct alert_peek *p, struct err *e);
struct alert_scan *alert_scan_new(void);
void alert_scan_free(struct alert_scan *sc);
/* alert_parse of the document alert_peek last took with sc as its keep (the
 * same buf and n, still valid): the normalization without a second scan;
 * anything else is parsed in full. */
int alert_parse_scanned(struct alert_scan *sc, const char *buf, size_t n, struct alert *a,
			struct err *e);
/* An HTTP body that is a JSON array of alerts (falcosidekick batches, a
 * replay): the byte ranges of its elements, each one document for
 * alert_parse, found with the same scanner (the array checked as JSON to its
 * end, not parsed). At most max: more is an error. 0 with *count, or -1 with
 * e (ERR_INVALID: not a JSON array, not JSON, more than max). */
#define ALERT_BATCH_MAX 4096u
struct alert_range {
	size_t off, len;
};
int alert_split(const char *buf, size_t n, struct alert_range *v, size_t max, size_t *count,
		struct err *e);
/* a->raw, parsed from a->text on the first call (borrowed: alert_free drops
 * it). Never NULL for an alert alert_parse accepted (its text is JSON that
 * jansson takes: the same grammar, UTF-8, no \u0000, integers in range).
 * Not safe from two threads on one alert at once. */
json_t *alert_raw(struct alert *a);
/* {source, rule, priority, time, container: {id, name, image, host}, pod,
 * namespace, pid, tags, fields, key, notes} (no raw) */
json_t *alert_to_json(const struct alert *a);

/* ---- playbooks (playbook.c) ---- */
#define PB_FILES_MAX	 1000u
#define PB_FILE_MAX	 (1u << 20)
#define PB_MATCHERS_MAX	 64u
#define PB_CONDS_MAX	 64u
#define PB_STEPS_MAX	 16u
#define PB_NOTIFY_SECONDS_MAX 300u

enum pb_step_kind { PB_CAPTURE, PB_QUARANTINE, PB_FREEZE, PB_RELEASE_AFTER, PB_NOTIFY };
struct pb_step {
	enum pb_step_kind kind;
	json_t *opts; /* the step's options as checked (object; see playbooks/README.md) */
};
struct playbook {
	char *name;   /* unique in the set */
	char *file;   /* where it was read */
	unsigned line; /* of its start, for messages */
	bool dry_run; /* per playbook */
	bool cont;    /* "continue": later playbooks may match too */
	struct pb_step *steps;
	size_t nsteps;
	void *match;  /* playbook.c's compiled matchers */
};
struct pb_set {
	struct playbook *v; /* in file name order, then order in the file */
	size_t n;
	void *allow;	    /* the compiled allow list */
	json_t *sources;    /* [{file, sha256}] what was loaded */
};
/* Every NAME.json of dir (the allow list: dir/allow.json). Files and dir must
 * be owned by root and not writable by group or others (like sudoers), else
 * refused. Any error (unknown key, bad glob, impossible matcher, a step's
 * bad option) is one entry {file, line, message} in *errors and makes the
 * load fail: -1 with e naming the first; *out NULL. */
int pb_load_dir(const char *dir, struct pb_set **out, json_t **errors, struct err *e);
/* The same from one buffer (tests, fuzzing): no ownership check. */
int pb_load_buf(const char *name, const char *buf, size_t n, struct pb_set **out,
		json_t **errors, struct err *e);
void pb_set_free(struct pb_set *s);
/* The playbooks a matches, in order, up to the first without "continue":
 * indexes into s->v in idx (at most max); returns how many. */
size_t pb_match(const struct pb_set *s, const struct alert *a, size_t *idx, size_t max);
/* Conservative: false only when pb_match could match no playbook for any
 * alert alert_parse might make of the document p was peeked from (source,
 * rule and priority are checked where p knows them; tags and field
 * conditions are taken as holding). The intake counts such a document as
 * unmatched without parsing it. */
bool pb_may_match(const struct pb_set *s, const struct alert_peek *p);
/* Whether the allow list protects a container (NULL why: not allowed).
 * ctr_json: ctr_to_json() of the resolved container (its name, image,
 * labels, Kubernetes namespace from its labels/annotations). */
bool pb_allowed(const struct pb_set *s, const struct alert *a, const json_t *ctr_json,
		const char **why);
/* What each playbook matches, for `contain respond --check`. */
json_t *pb_describe(const struct pb_set *s);

/* ---- the engine (respond.c) ---- */
#define RESPOND_DEDUP_SECONDS 300u   /* default window */
#define RESPOND_QUEUE_MAX     1024u  /* actions waiting */
#define RESPOND_WORKERS	      4u
#define RESPOND_RATE_PER_MIN  60u    /* node-wide actions a minute (default) */

struct respond_opts {
	const char *playbooks;	 /* --playbooks DIR (NULL: /etc/contain/playbooks) */
	const char *bags;	 /* --bags DIR (NULL: /var/lib/contain/bags) */
	const char *listen;	 /* --listen unix:PATH, or NULL */
	const char *follow;	 /* --follow FILE, or NULL */
	int in_fd;		 /* neither: this fd (stdin), to its end */
	bool dry_run;
	unsigned dedup_seconds;	 /* 0: RESPOND_DEDUP_SECONDS */
	unsigned rate_per_min;	 /* 0: RESPOND_RATE_PER_MIN */
	unsigned workers;	 /* 0: RESPOND_WORKERS */
	const char *state_dir;	 /* quarantine state */
	const char *audit_log;
	const void *roots;	 /* struct rt_roots * for discovery */
	void (*event)(void *ctx, const json_t *ev); /* each decision and step, for the verb */
	void *event_ctx;
};
/* Run until the input ends (stdin, a closed socket is not an end) or
 * SIGTERM/SIGINT: the actions in flight finish, then it returns 0. SIGHUP
 * reloads the playbooks (a broken set keeps the old one, audited). -1 with
 * e when it cannot start (playbooks refused, socket cannot be made). */
int respond_run(const struct respond_opts *o, struct err *e);
