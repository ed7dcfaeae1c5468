/* cmd: the verbs. Each src/cmd/<verb>.c exports one cmd_<verb>(). */
#pragma once

#include <stdbool.h>

#include "contain/runtime.h"
#include "contain/util.h"

/* Global options, parsed by main before the verb and handed to it (crun's
 * global arguments): no global variable, no edge from a verb back to main. */
struct globals {
	bool json;		/* --json */
	struct rt_roots roots;	/* --root RUNTIME=DIR, CONTAIN_ROOTS */
	const char *state_dir;	/* --state-dir, CONTAIN_STATE_DIR (default /run/contain) */
	const char *audit_log;	/* --audit-log, CONTAIN_AUDIT_LOG (default /var/log/contain/audit.jsonl) */
	const char *audit_key;	/* --audit-key, CONTAIN_AUDIT_KEY: sign the audit lines (NULL: no) */
};

enum {
	CMD_NEEDS_ROOT = 1 << 0, /* refuse to run unless euid 0 */
	CMD_JSON = 1 << 1,	 /* prints data: takes --json */
};

struct cmd {
	const char *name;
	int (*fn)(struct globals *g, int argc, char **argv);
	int flags;
	const char *summary; /* one line */
	const char *usage;   /* the whole `contain help VERB` text */
};

const struct cmd *cmd_find(const char *name);
/* print the verb's usage to stdout (for --help) and return 0 */
int cmd_help(const char *name);
/* print "usage: ..." for a bad command line to stderr, return EXIT_USAGE */
int cmd_usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* print a JSON value to stdout, indented, with a newline */
int cmd_print_json(json_t *v);

int cmd_list(struct globals *g, int argc, char **argv);
int cmd_inspect(struct globals *g, int argc, char **argv);
int cmd_quarantine(struct globals *g, int argc, char **argv);
int cmd_release(struct globals *g, int argc, char **argv);
int cmd_audit(struct globals *g, int argc, char **argv);
int cmd_verify(struct globals *g, int argc, char **argv);
int cmd_keygen(struct globals *g, int argc, char **argv);
int cmd_capture(struct globals *g, int argc, char **argv);
int cmd_analyze(struct globals *g, int argc, char **argv);
int cmd_respond(struct globals *g, int argc, char **argv);
/* the usage of analyze, beside its options (src/cmd/analyze.c) */
extern const char cmd_analyze_usage[];
int cmd_version(struct globals *g, int argc, char **argv);
int cmd_help_verb(struct globals *g, int argc, char **argv);
