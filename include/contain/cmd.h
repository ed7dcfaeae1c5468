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
	/* its CMD_LIBS are opened on a thread while it starts (resolves);
	 * it calls cmd_libs_ready() before it writes anything or exits */
	CMD_LIBS_BG = 1 << 2,
	/* libcrypto (in its CMD_LIBS) only signs, checks signatures, and
	 * hashes where the CPU lacks SHA-NI (sha256x): with SHA-NI and no
	 * --audit-key it is not opened at start; the verb opens it
	 * (dlib_load) before a signature is checked */
	CMD_CRYPTO_SIG = 1 << 3,
};
/* the verb's libraries, opened in the background (CMD_LIBS_BG): 0 when
 * they are there, else the error printed ("contain: VERB: ...") and
 * EXIT_SYS; 0 at once for a verb without the flag */
int cmd_libs_ready(const char *name);
/* the heavy libraries a verb may use (DLIB_BIT()s of contain/dlib.h): main
 * opens them before the verb runs, so a missing one stops that verb, and
 * only that verb, before it touches anything */
#define CMD_LIBS(mask) ((int)((mask) << 8))
#define CMD_LIBS_OF(flags) ((unsigned)(flags) >> 8)

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
int cmd_scan(struct globals *g, int argc, char **argv);
extern const char cmd_scan_usage[];
int cmd_version(struct globals *g, int argc, char **argv);
int cmd_help_verb(struct globals *g, int argc, char **argv);

/* ---- what analyze and scan share (src/cmd/detect.c) ---- */
#include "contain/analyze.h"
/* getopt values of the shared options: CMD_DETECT_OPTIONS in a verb's
 * option table, CMD_DETECT_HELP in its usage, cmd_detect_opt in its switch */
enum {
	CMD_O_FAILON = 0x1000,
	CMD_O_RULES,
	CMD_O_NOSHIPPED,
	CMD_O_YTIMEOUT,
	CMD_O_YMAX,
	CMD_O_CACHEDIR,
};
#define CMD_DETECT_OPTIONS                                                                         \
	{"fail-on", required_argument, NULL, CMD_O_FAILON},                                        \
	    {"rules", required_argument, NULL, CMD_O_RULES},                                       \
	    {"no-shipped-rules", no_argument, NULL, CMD_O_NOSHIPPED},                              \
	    {"yara-timeout", required_argument, NULL, CMD_O_YTIMEOUT},                             \
	    {"yara-max-bytes", required_argument, NULL, CMD_O_YMAX},                               \
	    {"cache-dir", required_argument, NULL, CMD_O_CACHEDIR}
/* CMD_DETECT_OPTIONS in order */
#define CMD_DETECT_HELP                                                                            \
	"  --fail-on SEV      exit 1 when a finding is at or above SEV: critical,\n"                \
	"                     high (default), medium, low, info, or none\n"                          \
	"  --rules FILE|DIR   YARA rules to add to the shipped ones (a DIR: its *.yar\n"             \
	"                     and *.yara); repeatable. A file that does not compile\n"               \
	"                     is reported (file, line, message), the others run\n"                   \
	"  --no-shipped-rules only the --rules rules\n"                                              \
	"  --yara-timeout SECS  per scanned object (default 10)\n"                                   \
	"  --yara-max-bytes N   bytes scanned of one object (default 64M; a larger\n"                \
	"                     one: its first N bytes, noted)\n"                                      \
	"  --cache-dir DIR    keep the compiled rules in DIR (made 0700), keyed by the\n"            \
	"                     rule files' content (default: no cache, nothing written)\n"
#define CMD_RULES_MAX 64
struct cmd_detect {
	const char *fail_on; /* "high" unless --fail-on */
	struct ayara_opts yara;
	const char *rules[CMD_RULES_MAX];
	size_t nrules;
};
/* One of the shared options: 0 taken, EXIT_USAGE a bad value (printed),
 * -1 not one of them. */
int cmd_detect_opt(const char *verb, int ch, const char *arg, struct cmd_detect *d);
struct cmd_colors {
	const char *bold, *red, *yellow, *cyan, *dim, *off;
};
struct cmd_colors cmd_colors_for(bool on);
const char *cmd_sev_color(const struct cmd_colors *c, const char *sev);
/* a string from hostile input for the terminal (control bytes as \xNN, cut) */
const char *cmd_tsafe(const char *s);
/* rule files that did not compile, scans that failed: warnings on stderr */
void cmd_print_yara_errors(const json_t *report);
/* EXIT_FOUND when the report's summary.failed, else EXIT_OK */
int cmd_exit_for(const json_t *report);
