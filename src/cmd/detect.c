/* detect.c: what `contain analyze` and `contain scan` share on the command
 * line: the YARA and --fail-on options (parsed here, once, their help beside
 * them), the colours, and a string from hostile input made safe for a
 * terminal. */
#include <getopt.h>
#include <string.h>

#include "contain/analyze.h"
#include "contain/cmd.h"

/* "  --rules FILE|DIR ..." lines of both verbs' usage: CMD_DETECT_HELP (cmd.h) */

int cmd_detect_opt(const char *verb, int ch, const char *arg, struct cmd_detect *d)
{
	switch (ch) {
	case CMD_O_FAILON: {
		enum sev s;
		if (strcmp(arg, "none") != 0 && sev_parse(arg, &s) < 0)
			return cmd_usage_error(verb,
					       "unknown --fail-on '%s' (critical, high, medium, "
					       "low, info or none)",
					       arg);
		d->fail_on = arg;
		return 0;
	}
	case CMD_O_RULES:
		if (d->nrules >= CMD_RULES_MAX)
			return cmd_usage_error(verb, "more than %d --rules", CMD_RULES_MAX);
		if (!*arg)
			return cmd_usage_error(verb, "--rules needs a file or a directory");
		d->rules[d->nrules++] = arg;
		d->yara.rules = d->rules;
		d->yara.nrules = d->nrules;
		return 0;
	case CMD_O_NOSHIPPED:
		d->yara.no_shipped = true;
		return 0;
	case CMD_O_YTIMEOUT: {
		long long v;
		if (parse_ll(arg, 1, 3600, &v) < 0)
			return cmd_usage_error(verb, "--yara-timeout '%s': seconds, 1 to 3600", arg);
		d->yara.timeout = (unsigned)v;
		return 0;
	}
	case CMD_O_YMAX: {
		unsigned long long v;
		if (parse_size(arg, &v) < 0 || v < 1 || v > (1ull << 30))
			return cmd_usage_error(verb,
					       "--yara-max-bytes '%s': a size, 1 to 1G (64M, 512k)",
					       arg);
		d->yara.max_bytes = v;
		return 0;
	}
	case CMD_O_CACHEDIR:
		if (!*arg)
			return cmd_usage_error(verb, "--cache-dir needs a directory");
		d->yara.cache_dir = arg;
		return 0;
	default:
		return -1;
	}
}

struct cmd_colors cmd_colors_for(bool on)
{
	if (!on)
		return (struct cmd_colors){"", "", "", "", "", ""};
	return (struct cmd_colors){"\033[1m",  "\033[1;31m", "\033[33m",
				   "\033[36m", "\033[2m",    "\033[0m"};
}

const char *cmd_sev_color(const struct cmd_colors *c, const char *sev)
{
	if (!sev)
		return c->off;
	if (strcmp(sev, "critical") == 0 || strcmp(sev, "high") == 0)
		return c->red;
	if (strcmp(sev, "medium") == 0)
		return c->yellow;
	if (strcmp(sev, "low") == 0)
		return c->cyan;
	return c->dim;
}

/* Control bytes (C0, DEL, C1: an escape sequence, a newline, a carriage
 * return written by the attacker) shown as \xNN, cut at TERM_MAX bytes. One
 * of four rotating buffers, so a printf may take several. */
#define TERM_MAX 300
const char *cmd_tsafe(const char *s)
{
	static char bufs[4][TERM_MAX * 4 + 8];
	static unsigned next;
	char *out = bufs[next++ % 4];
	size_t o = 0, i = 0;
	for (; s[i] && i < TERM_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool c1 = ch == 0xc2 && (unsigned char)s[i + 1] >= 0x80 &&
			  (unsigned char)s[i + 1] <= 0x9f;
		if (ch < 0x20 || ch == 0x7f || c1) {
			if (c1)
				ch = (unsigned char)s[++i];
			o += (size_t)snprintf(out + o, 5, "\\x%02x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	if (s[i])
		o += (size_t)snprintf(out + o, 4, "...");
	out[o] = '\0';
	return out;
}

static const char *s_or(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : dflt;
}

void cmd_print_yara_errors(const json_t *r)
{
	const json_t *errs =
	    json_object_get(json_object_get(json_object_get(r, "analyses"), "yara"), "errors");
	const json_t *x;
	size_t i;
	json_array_foreach(errs, i, x)
	{
		if (i >= 20) {
			log_warn("yara: %zu more errors (report analyses.yara.errors)",
				 json_array_size(errs) - i);
			break;
		}
		const char *file = s_or(x, "file", NULL), *path = s_or(x, "path", NULL);
		json_t *line = json_object_get(x, "line");
		if (file && json_is_integer(line))
			log_warn("yara: rule file '%s' line %lld: %s", cmd_tsafe(file),
				 (long long)json_integer_value(line),
				 cmd_tsafe(s_or(x, "message", "?")));
		else
			log_warn("yara: '%s': %s", cmd_tsafe(file ? file : path ? path : "?"),
				 cmd_tsafe(s_or(x, "message", "?")));
	}
}

int cmd_exit_for(const json_t *r)
{
	return json_is_true(json_object_get(json_object_get(r, "summary"), "failed")) ? EXIT_FOUND
										      : EXIT_OK;
}
