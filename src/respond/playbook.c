/* playbook: playbooks/NAME.json and allow.json into a checked set
 * (format: playbooks/README.md); an alert -> the playbooks it matches; a
 * resolved container -> whether the allow list protects it.
 *
 * Every playbook is as dangerous as root (it freezes and cuts containers),
 * so the files must be root's and not writable by others, and anything not
 * understood is an error with its file and line: jansson gives the line of a
 * syntax error; for the rest, the path of the offending value is looked up
 * again in the text (pb_line_of). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/hashio.h"
#include "contain/respond.h"

#define PB_ERRORS_MAX 100u    /* errors kept of one load */
#define PB_NAME_MAX   64u
#define PB_GLOB_MAX   1024u
#define PB_LIST_MAX   256u    /* strings in one list (rules, globs, values) */
#define PB_ARGS_MAX   64u
#define PB_DEPTH_MAX  16u     /* of a path into a playbook */
#define PB_RELEASE_MAX (30ll * 86400)
#define PB_SECS_MAX   3600ll
#define PB_TIMEOUT_MAX 300ll

static const char *const pb_sources[] = {"falco", "falcosidekick", "tetragon", "tracee",
					 "sysdig"};
static const char *const pb_step_names[] = {"capture", "quarantine", "freeze", "release_after",
					    "notify"};

/* ---- compiled matchers ---- */
enum cop { C_EQ, C_NE, C_GLOB, C_NGLOB, C_LT, C_LE, C_GT, C_GE, C_EXISTS };
static const char *const cop_names[] = {"=", "!=", "glob", "!glob", "<", "<=", ">", ">=",
					"exists"};

struct cond {
	char *field;
	enum cop op;
	json_t *vals; /* array of scalars (=, !=, glob, !glob) */
	double num;   /* <, <=, >, >= */
	bool exists;
};

struct matcher {
	unsigned sources; /* bit i: pb_sources[i]; 0: any */
	unsigned prio;	  /* bit p: enum alert_prio allowed; 0: no priority condition */
	json_t *rules;	  /* array of strings, or NULL */
	json_t *globs;	  /* array of globs, or NULL */
	json_t *tags;	  /* array of strings, or NULL */
	struct cond *conds;
	size_t nconds;
};

struct pbm {
	struct matcher *v;
	size_t n;
	json_t *desc; /* [{..., text}] for pb_describe */
};

struct allow {
	json_t *namespaces, *names, *images; /* arrays of globs */
	json_t *labels;			     /* object: label -> glob */
};

/* ---- load context: the file, the path into it, the errors ---- */
struct seg {
	const char *key; /* NULL: an index */
	size_t idx;
};

struct ctx {
	const char *file; /* as reported */
	const char *text;
	size_t n;
	struct seg path[PB_DEPTH_MAX];
	unsigned depth;
	json_t *errors;
	bool fs; /* check the notify programs on this file system */
};

static void push_key(struct ctx *c, const char *k)
{
	if (c->depth < PB_DEPTH_MAX)
		c->path[c->depth] = (struct seg){k, 0};
	c->depth++;
}

static void push_idx(struct ctx *c, size_t i)
{
	if (c->depth < PB_DEPTH_MAX)
		c->path[c->depth] = (struct seg){NULL, i};
	c->depth++;
}

static void pop(struct ctx *c)
{
	c->depth--;
}

/* -- where a path is in the text: a scan of the (already valid) JSON -- */
struct scan {
	const char *p, *end;
	unsigned line;
	bool done;
};

static void scan_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) {
		if (*s->p == '\n')
			s->line++;
		s->p++;
	}
}

/* s->p at '"': past the closing quote; the raw bytes between */
static void scan_string(struct scan *s, const char **raw, size_t *len)
{
	const char *b = ++s->p;
	while (s->p < s->end && *s->p != '"') {
		if (*s->p == '\\' && s->p + 1 < s->end)
			s->p++;
		s->p++;
	}
	*raw = b;
	*len = (size_t)(s->p - b);
	if (s->p < s->end)
		s->p++;
}

/* any value, iteratively (no recursion on hostile depth) */
static void scan_skip(struct scan *s)
{
	size_t depth = 0;
	do {
		scan_ws(s);
		if (s->p >= s->end)
			return;
		char ch = *s->p;
		if (ch == '"') {
			const char *r;
			size_t l;
			scan_string(s, &r, &l);
		} else if (ch == '{' || ch == '[') {
			depth++;
			s->p++;
		} else if (ch == '}' || ch == ']') {
			if (depth)
				depth--;
			s->p++;
		} else if (ch == ',' || ch == ':') {
			s->p++;
		} else { /* a literal; at least one byte (jansson lets a NUL through after one) */
			do
				s->p++;
			while (s->p < s->end && *s->p && !strchr(" \t\r\n,:]}", *s->p));
		}
	} while (depth);
}

static void scan_path(struct scan *s, const struct seg *path, unsigned plen, unsigned d,
		      unsigned *best)
{
	scan_ws(s);
	*best = s->line;
	if (d == plen || s->p >= s->end) {
		s->done = true;
		return;
	}
	char open = *s->p;
	if (open != '{' && open != '[') {
		s->done = true; /* the path goes below a scalar: this is as near as it gets */
		return;
	}
	s->p++;
	for (size_t i = 0;; i++) {
		scan_ws(s);
		if (s->p >= s->end || *s->p == '}' || *s->p == ']') {
			s->done = true; /* not found below: the container's line stands */
			return;
		}
		bool on;
		if (open == '{') {
			if (*s->p != '"') {
				s->done = true;
				return;
			}
			unsigned kline = s->line;
			const char *raw;
			size_t l;
			scan_string(s, &raw, &l);
			on = path[d].key && strlen(path[d].key) == l && memcmp(path[d].key, raw, l) == 0;
			scan_ws(s);
			if (s->p < s->end && *s->p == ':')
				s->p++;
			if (on && d + 1 == plen) {
				*best = kline; /* the key's line: where "unknown key" points */
				s->done = true;
				return;
			}
		} else {
			on = !path[d].key && path[d].idx == i;
		}
		if (on) {
			scan_path(s, path, plen, d + 1, best);
			return;
		}
		scan_skip(s);
		scan_ws(s);
		if (s->p < s->end && *s->p == ',')
			s->p++;
	}
}

/* the line of the value (or object key) at path in text; 0 when unknown */
static unsigned pb_line_of(const char *text, size_t n, const struct seg *path, unsigned plen)
{
	if (!text)
		return 0;
	struct scan s = {text, text + n, 1, false};
	unsigned best = 1;
	scan_path(&s, path, plen > PB_DEPTH_MAX ? PB_DEPTH_MAX : plen, 0, &best);
	return best;
}

/* s as valid UTF-8 for JSON: a message cut inside a character, jansson's
 * text of a bad escape, a file name: each byte of an invalid one a '?' */
static const char *utf8_safe(const char *s, char *buf, size_t n)
{
	if (utf8_valid(s, strlen(s)))
		return s;
	size_t i = 0;
	for (; s[i] && i + 1 < n; i++)
		buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static void add_error(json_t *errors, const char *file, unsigned line, const char *msg)
{
	size_t n = json_array_size(errors);
	if (n > PB_ERRORS_MAX)
		return;
	if (n == PB_ERRORS_MAX)
		msg = "more errors not shown";
	char fb[PATH_MAX], mb[1100];
	json_array_append_new(errors, json_pack("{s:s,s:I,s:s}", "file",
						utf8_safe(file, fb, sizeof(fb)), "line",
						(json_int_t)line, "message",
						utf8_safe(msg, mb, sizeof(mb))));
}

/* an error at the current path; returns false so it can be `return perr(...)` */
static bool perr(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool perr(struct ctx *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	add_error(c->errors, c->file, pb_line_of(c->text, c->n, c->path, c->depth), msg);
	return false;
}

/* ---- small checks ---- */

/* NULL when g is a usable fnmatch pattern, else what is wrong */
static const char *glob_bad(const char *g)
{
	if (!*g)
		return "an empty glob";
	if (strlen(g) > PB_GLOB_MAX)
		return "a glob longer than 1024 bytes";
	for (const char *p = g; *p; p++) {
		if (*p == '\\') {
			if (!p[1])
				return "a glob ending in a lone '\\'";
			p++;
		} else if (*p == '[') {
			const char *q = p + 1;
			if (*q == '!' || *q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']') {
				if (q[0] == '[' && (q[1] == ':' || q[1] == '=' || q[1] == '.'))
					return "a character class ([[:alpha:]]) in a glob: not supported";
				if (*q == '\\' && q[1])
					q++;
				q++;
			}
			if (!*q)
				return "an unclosed '[' in a glob";
			p = q;
		}
	}
	return NULL;
}

static bool str_ok(struct ctx *c, const json_t *v, size_t max, const char *what)
{
	if (!json_is_string(v))
		return perr(c, "%s must be a string", what);
	size_t l = json_string_length(v);
	if (l > max)
		return perr(c, "%s is longer than %zu bytes", what, max);
	if (strlen(json_string_value(v)) != l)
		return perr(c, "%s holds a NUL byte", what);
	return true;
}

/* a string or an array of 1..PB_LIST_MAX strings (globs when glob) -> a new array */
static json_t *str_list(struct ctx *c, const json_t *v, bool glob, const char *what)
{
	json_t *out = json_array();
	if (json_is_string(v)) {
		json_array_append(out, (json_t *)v);
	} else if (json_is_array(v) && json_array_size(v) && json_array_size(v) <= PB_LIST_MAX) {
		json_array_extend(out, (json_t *)v);
	} else {
		json_decref(out);
		perr(c, "%s must be a string or an array of 1 to %u strings", what, PB_LIST_MAX);
		return NULL;
	}
	size_t i;
	json_t *x;
	bool ok = true;
	json_array_foreach(out, i, x)
	{
		if (json_is_array(v))
			push_idx(c, i);
		if (!str_ok(c, x, glob ? PB_GLOB_MAX : ALERT_STR_MAX, what)) {
			ok = false;
		} else if (glob && glob_bad(json_string_value(x))) {
			ok = perr(c, "%s '%s': %s", what, json_string_value(x),
				  glob_bad(json_string_value(x)));
		}
		if (json_is_array(v))
			pop(c);
	}
	if (!ok) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static bool keys_known(struct ctx *c, const json_t *o, const char *const *known, const char *what)
{
	const char *k;
	json_t *v;
	bool ok = true;
	json_object_foreach((json_t *)o, k, v)
	{
		bool found = false;
		for (size_t i = 0; known[i]; i++)
			found |= strcmp(known[i], k) == 0;
		if (!found) {
			push_key(c, k);
			ok = perr(c, "unknown key '%s' in %s", k, what);
			pop(c);
		}
	}
	return ok;
}

/* "Critical", "=Critical", ">=Critical", ">Warning", "<=Notice", "<Error", "!=Debug" -> mask */
static bool prio_expr(struct ctx *c, const char *s, unsigned *mask)
{
	const char *op = "=";
	static const char *const ops[] = {">=", "<=", "!=", ">", "<", "="};
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		if (str_has_prefix(s, ops[i])) {
			op = ops[i];
			s += strlen(ops[i]);
			break;
		}
	enum alert_prio p;
	if (alert_prio_parse(s, &p) < 0)
		return perr(c, "priority '%s': not one of Debug, Informational, Notice, Warning, "
			       "Error, Critical, Alert, Emergency", s);
	unsigned m = 0;
	for (unsigned q = AP_DEBUG; q <= AP_EMERGENCY; q++) {
		bool in = strcmp(op, ">=") == 0   ? q >= p
			  : strcmp(op, "<=") == 0 ? q <= p
			  : strcmp(op, "!=") == 0 ? q != p
			  : strcmp(op, ">") == 0  ? q > p
			  : strcmp(op, "<") == 0  ? q < p
						  : q == p;
		if (in)
			m |= 1u << q;
	}
	*mask &= m;
	return true;
}

static bool parse_priority(struct ctx *c, const json_t *v, unsigned *mask)
{
	json_t *l = str_list(c, v, false, "priority");
	if (!l)
		return false;
	*mask = (1u << (AP_EMERGENCY + 1)) - 1;
	size_t i;
	json_t *x;
	bool ok = true;
	json_array_foreach(l, i, x)
	{
		if (json_is_array(v))
			push_idx(c, i);
		ok &= prio_expr(c, json_string_value(x), mask);
		if (json_is_array(v))
			pop(c);
	}
	json_decref(l);
	if (ok && !*mask)
		return perr(c, "impossible matcher: no priority satisfies every priority condition");
	return ok;
}

static bool parse_sources(struct ctx *c, const json_t *v, unsigned *mask)
{
	json_t *l = str_list(c, v, false, "source");
	if (!l)
		return false;
	size_t i;
	json_t *x;
	bool ok = true;
	json_array_foreach(l, i, x)
	{
		size_t k = 0;
		while (k < ARRAY_SIZE(pb_sources) && strcmp(pb_sources[k], json_string_value(x)))
			k++;
		if (k == ARRAY_SIZE(pb_sources)) {
			if (json_is_array(v))
				push_idx(c, i);
			ok = perr(c, "source '%s': not one of falco, falcosidekick, tetragon, tracee, "
				     "sysdig", json_string_value(x));
			if (json_is_array(v))
				pop(c);
		} else {
			*mask |= 1u << k;
		}
	}
	json_decref(l);
	return ok;
}

/* ---- field conditions ---- */

/* the decimal text of a scalar for string comparisons and globs */
static bool scalar_text(const json_t *v, char *buf, size_t n, const char **out)
{
	if (json_is_string(v)) {
		*out = json_string_value(v);
	} else if (json_is_integer(v)) {
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
		*out = buf;
	} else if (json_is_real(v)) {
		snprintf(buf, n, "%.17g", json_real_value(v));
		*out = buf;
	} else if (json_is_boolean(v)) {
		*out = json_is_true(v) ? "true" : "false";
	} else {
		return false;
	}
	return true;
}

/* a scalar as a number: a JSON number, or a string that is one whole */
static bool scalar_num(const json_t *v, double *d)
{
	if (json_is_number(v)) {
		*d = json_number_value(v);
		return true;
	}
	const char *s = json_string_value(v);
	if (!s || !*s || strlen(s) > 64)
		return false;
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (*end || errno || !isfinite(x) || *s == ' ')
		return false;
	*d = x;
	return true;
}

static bool cond_vals(struct ctx *c, struct cond *k, const json_t *v)
{
	bool glob = k->op == C_GLOB || k->op == C_NGLOB;
	if (glob) {
		k->vals = str_list(c, v, true, "a glob condition's value");
		return k->vals != NULL;
	}
	k->vals = json_array();
	if (json_is_array(v) && json_array_size(v) && json_array_size(v) <= PB_LIST_MAX)
		json_array_extend(k->vals, (json_t *)v);
	else if (!json_is_array(v))
		json_array_append(k->vals, (json_t *)v);
	else
		return perr(c, "'%s' takes a scalar or an array of 1 to %u of them",
			    cop_names[k->op], PB_LIST_MAX);
	size_t i;
	json_t *x;
	json_array_foreach(k->vals, i, x)
	{
		if (!(json_is_string(x) || json_is_number(x) || json_is_boolean(x)))
			return perr(c, "'%s' compares to strings, numbers or booleans",
				    cop_names[k->op]);
		if (json_is_string(x) && !str_ok(c, x, ALERT_STR_MAX, "a value"))
			return false;
	}
	return true;
}

static bool parse_cond(struct ctx *c, const json_t *o, struct cond *k)
{
	static const char *const known[] = {"field", "op", "value", NULL};
	if (!json_is_object(o))
		return perr(c, "a field condition must be an object {field, op, value}");
	bool ok = keys_known(c, o, known, "a field condition");
	const json_t *f = json_object_get(o, "field"), *op = json_object_get(o, "op"),
		     *v = json_object_get(o, "value");
	if (!f || !op || !v)
		return perr(c, "a field condition needs field, op and value");
	push_key(c, "field");
	if (str_ok(c, f, 256, "field") && !json_string_length(f))
		ok = perr(c, "field is empty");
	else if (json_is_string(f))
		k->field = xstrdup(json_string_value(f));
	else
		ok = false;
	pop(c);
	push_key(c, "op");
	size_t i = 0;
	if (!json_is_string(op))
		ok = perr(c, "op must be a string");
	else {
		while (i < ARRAY_SIZE(cop_names) && strcmp(cop_names[i], json_string_value(op)))
			i++;
		if (i == ARRAY_SIZE(cop_names))
			ok = perr(c, "op '%s': not one of =, !=, glob, !glob, <, <=, >, >=, exists",
				  json_string_value(op));
	}
	pop(c);
	if (!ok)
		return false;
	k->op = (enum cop)i;
	push_key(c, "value");
	if (k->op == C_EXISTS) {
		if (!json_is_boolean(v))
			ok = perr(c, "'exists' takes true or false");
		k->exists = json_is_true(v);
	} else if (k->op >= C_LT) {
		if (!json_is_number(v))
			ok = perr(c, "'%s' takes a number", cop_names[k->op]);
		else
			k->num = json_number_value(v);
	} else {
		ok = cond_vals(c, k, v);
	}
	pop(c);
	return ok;
}

/* whether text equals one of vals (as text); numbers as numbers */
static bool vals_has(const json_t *vals, const json_t *x)
{
	char b1[64], b2[64];
	const char *t1, *t2;
	double d1, d2;
	size_t i;
	json_t *v;
	if (!scalar_text(x, b1, sizeof(b1), &t1))
		return false;
	json_array_foreach(vals, i, v)
	{
		if (json_is_number(v) || json_is_number(x)) {
			if (scalar_num(v, &d1) && scalar_num(x, &d2) && d1 == d2)
				return true;
			if (json_is_number(v) && json_is_number(x))
				continue;
		}
		if (json_is_boolean(v) != json_is_boolean(x))
			continue;
		if (scalar_text(v, b2, sizeof(b2), &t2) && strcmp(t1, t2) == 0)
			return true;
	}
	return false;
}

/* conditions on one field that no value can satisfy together */
static const char *conds_impossible(const struct cond *v, size_t n, size_t at)
{
	const char *f = v[at].field;
	double lo = -INFINITY, hi = INFINITY;
	bool lo_strict = false, hi_strict = false, absent = false, other = false;
	const json_t *eq = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct cond *k = &v[i];
		if (strcmp(k->field, f))
			continue;
		if (k->op == C_EXISTS && !k->exists)
			absent = true;
		else
			other = true;
		if ((k->op == C_GT || k->op == C_GE) &&
		    (k->num > lo || (k->num == lo && k->op == C_GT))) {
			lo = k->num;
			lo_strict = k->op == C_GT;
		}
		if ((k->op == C_LT || k->op == C_LE) &&
		    (k->num < hi || (k->num == hi && k->op == C_LT))) {
			hi = k->num;
			hi_strict = k->op == C_LT;
		}
		if (k->op == C_EQ) {
			if (eq) {
				bool common = false;
				size_t j;
				json_t *x;
				json_array_foreach(k->vals, j, x) common |= vals_has(eq, x);
				if (!common)
					return "two '=' conditions with no value in common";
			}
			eq = k->vals;
		}
	}
	if (absent && other)
		return "'exists': false with another condition on the same field";
	if (lo > hi || (lo == hi && (lo_strict || hi_strict)))
		return "numeric bounds that exclude each other";
	for (size_t i = 0; eq && i < n; i++) {
		if (strcmp(v[i].field, f) || v[i].op != C_NE)
			continue;
		bool left = false;
		size_t j;
		json_t *x;
		json_array_foreach(eq, j, x) left |= !vals_has(v[i].vals, x);
		if (!left)
			return "every '=' value is excluded by a '!=' on the same field";
	}
	if (eq && (lo > -INFINITY || hi < INFINITY)) {
		bool in = false;
		size_t j;
		json_t *x;
		double d;
		json_array_foreach(eq, j, x)
		{
			if (!scalar_num(x, &d))
				continue;
			in |= (d > lo || (d == lo && !lo_strict)) && (d < hi || (d == hi && !hi_strict));
		}
		if (!in)
			return "no '=' value lies within the numeric bounds";
	}
	return NULL;
}

static bool parse_fields(struct ctx *c, const json_t *v, struct matcher *m)
{
	if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > PB_CONDS_MAX)
		return perr(c, "fields must be an array of 1 to %u conditions", PB_CONDS_MAX);
	m->conds = xcalloc(json_array_size(v), sizeof(*m->conds));
	bool ok = true;
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x)
	{
		push_idx(c, i);
		ok &= parse_cond(c, x, &m->conds[m->nconds]);
		m->nconds++;
		pop(c);
	}
	for (i = 0; ok && i < m->nconds; i++) {
		const char *why = conds_impossible(m->conds, m->nconds, i);
		if (why) {
			push_idx(c, i);
			ok = perr(c, "impossible matcher on field '%s': %s", m->conds[i].field, why);
			pop(c);
		}
	}
	return ok;
}

/* ---- matchers ---- */

static void matcher_text(const struct matcher *m, struct sbuf *b)
{
	const char *sep = "";
	if (m->sources) {
		sbuf_adds(b, "source in {");
		for (size_t i = 0, first = 1; i < ARRAY_SIZE(pb_sources); i++)
			if (m->sources & (1u << i)) {
				sbuf_printf(b, "%s%s", first ? "" : ", ", pb_sources[i]);
				first = 0;
			}
		sbuf_adds(b, "}");
		sep = " and ";
	}
	size_t i;
	json_t *x;
	if (m->rules) {
		sbuf_printf(b, "%srule in {", sep);
		json_array_foreach(m->rules, i, x)
			sbuf_printf(b, "%s\"%s\"", i ? ", " : "", json_string_value(x));
		sbuf_adds(b, "}");
		sep = " and ";
	}
	if (m->globs) {
		sbuf_printf(b, "%srule matches {", sep);
		json_array_foreach(m->globs, i, x)
			sbuf_printf(b, "%s\"%s\"", i ? ", " : "", json_string_value(x));
		sbuf_adds(b, "}");
		sep = " and ";
	}
	if (m->prio) {
		sbuf_printf(b, "%spriority in {", sep);
		for (unsigned p = AP_DEBUG, first = 1; p <= AP_EMERGENCY; p++)
			if (m->prio & (1u << p)) {
				sbuf_printf(b, "%s%s", first ? "" : ", ", alert_prio_name(p));
				first = 0;
			}
		sbuf_adds(b, "}");
		sep = " and ";
	}
	if (m->tags) {
		sbuf_printf(b, "%stags include {", sep);
		json_array_foreach(m->tags, i, x)
			sbuf_printf(b, "%s\"%s\"", i ? ", " : "", json_string_value(x));
		sbuf_adds(b, "}");
		sep = " and ";
	}
	for (size_t k = 0; k < m->nconds; k++) {
		const struct cond *cd = &m->conds[k];
		sbuf_printf(b, "%s%s %s ", sep, cd->field, cop_names[cd->op]);
		if (cd->op == C_EXISTS)
			sbuf_adds(b, cd->exists ? "true" : "false");
		else if (cd->op >= C_LT)
			sbuf_printf(b, "%.17g", cd->num);
		else {
			char *s = json_dumps(cd->vals, JSON_COMPACT | JSON_ENCODE_ANY);
			sbuf_adds(b, s ? s : "?");
			free(s);
		}
		sep = " and ";
	}
}

static bool parse_matcher(struct ctx *c, const json_t *o, struct matcher *m)
{
	static const char *const known[] = {"source", "rule", "rule_glob", "priority",
					    "tags",	"fields", NULL};
	if (!json_is_object(o))
		return perr(c, "a matcher must be an object");
	if (!json_object_size(o))
		return perr(c, "an empty matcher would match every alert: say what it matches "
			       "(e.g. \"priority\": \">=Debug\")");
	bool ok = keys_known(c, o, known, "a matcher");
	const json_t *v;
	if ((v = json_object_get(o, "source"))) {
		push_key(c, "source");
		ok &= parse_sources(c, v, &m->sources);
		pop(c);
	}
	if ((v = json_object_get(o, "rule"))) {
		push_key(c, "rule");
		ok &= (m->rules = str_list(c, v, false, "rule")) != NULL;
		pop(c);
	}
	if ((v = json_object_get(o, "rule_glob"))) {
		push_key(c, "rule_glob");
		ok &= (m->globs = str_list(c, v, true, "rule_glob")) != NULL;
		pop(c);
	}
	if ((v = json_object_get(o, "priority"))) {
		push_key(c, "priority");
		ok &= parse_priority(c, v, &m->prio);
		pop(c);
	}
	if ((v = json_object_get(o, "tags"))) {
		push_key(c, "tags");
		if (!json_is_array(v))
			ok = perr(c, "tags must be an array of strings");
		else
			ok &= (m->tags = str_list(c, v, false, "a tag")) != NULL;
		pop(c);
	}
	if ((v = json_object_get(o, "fields"))) {
		push_key(c, "fields");
		ok &= parse_fields(c, v, m);
		pop(c);
	}
	return ok;
}

static void matcher_free(struct matcher *m)
{
	json_decref(m->rules);
	json_decref(m->globs);
	json_decref(m->tags);
	for (size_t i = 0; i < m->nconds; i++) {
		free(m->conds[i].field);
		json_decref(m->conds[i].vals);
	}
	free(m->conds);
}

static void pbm_free(struct pbm *pm)
{
	if (!pm)
		return;
	for (size_t i = 0; i < pm->n; i++)
		matcher_free(&pm->v[i]);
	free(pm->v);
	json_decref(pm->desc);
	free(pm);
}

static struct pbm *parse_match(struct ctx *c, const json_t *v)
{
	bool one = json_is_object(v);
	if (!one && (!json_is_array(v) || !json_array_size(v) ||
		     json_array_size(v) > PB_MATCHERS_MAX)) {
		perr(c, "match must be a matcher or an array of 1 to %u matchers", PB_MATCHERS_MAX);
		return NULL;
	}
	size_t n = one ? 1 : json_array_size(v);
	struct pbm *pm = xcalloc(1, sizeof(*pm));
	pm->v = xcalloc(n, sizeof(*pm->v));
	pm->desc = json_array();
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		const json_t *o = one ? v : json_array_get(v, i);
		if (!one)
			push_idx(c, i);
		ok &= parse_matcher(c, o, &pm->v[i]);
		pm->n++;
		if (!one)
			pop(c);
		if (ok) {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
			matcher_text(&pm->v[i], &b);
			json_t *d = json_deep_copy(o);
			json_object_set_new(d, "text", json_string(b.buf ? b.buf : ""));
			json_array_append_new(pm->desc, d);
		}
	}
	if (!ok) {
		pbm_free(pm);
		return NULL;
	}
	return pm;
}

/* ---- steps ---- */

enum okind { O_STR, O_ABSPATH, O_BOOL, O_SECS, O_SIZE, O_TIMEOUT, O_NOTIFY_TIMEOUT, O_DURATION,
	     O_PROGRAM, O_ARGS, O_REFUSED };
struct optdef {
	const char *name;
	enum okind kind;
};

static const struct optdef capture_defs[] = {
	{"output", O_ABSPATH},	     {"case", O_STR},		   {"examiner", O_STR},
	{"sign_key", O_ABSPATH},     {"pcap", O_BOOL},		   {"fs", O_BOOL},
	{"memory", O_BOOL},	     {"pcap_seconds", O_SECS},	   {"observe_seconds", O_SECS},
	{"watch_cut_seconds", O_SECS}, {"pcap_max_bytes", O_SIZE}, {"max_file_bytes", O_SIZE},
	{"max_memory_bytes", O_SIZE}, {"encrypt_to", O_REFUSED},   {NULL, O_STR}};
static const struct optdef quarantine_defs[] = {
	{"freeze", O_BOOL}, {"timeout", O_TIMEOUT}, {NULL, O_STR}};
static const struct optdef freeze_defs[] = {{"timeout", O_TIMEOUT}, {NULL, O_STR}};
static const struct optdef release_defs[] = {{"after", O_DURATION}, {NULL, O_STR}};
static const struct optdef notify_defs[] = {
	{"program", O_PROGRAM}, {"args", O_ARGS}, {"timeout", O_NOTIFY_TIMEOUT}, {NULL, O_STR}};
static const struct optdef *const step_defs[] = {capture_defs, quarantine_defs, freeze_defs,
						 release_defs, notify_defs};

/* "30", 30, "30s", "5m", "2h", "1d" -> seconds */
static bool duration(const json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	const char *s = json_string_value(v);
	if (!s || !*s || strlen(s) > 24)
		return false;
	char num[32];
	size_t n = strlen(s);
	memcpy(num, s, n + 1);
	long long mul = 1;
	const char *u = strchr("smhd", num[n - 1]);
	if (u && num[n - 1]) {
		static const long long muls[] = {1, 60, 3600, 86400};
		mul = muls[u - "smhd"];
		num[--n] = '\0';
	}
	long long x;
	if (parse_ll(num, 0, PB_RELEASE_MAX, &x) < 0)
		return false;
	*out = x * mul;
	return true;
}

static bool abs_path_ok(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *s = p; (s = strchr(s, '/')); s++)
		if ((s[1] == '.' && (s[2] == '/' || !s[2])) ||
		    (s[1] == '.' && s[2] == '.' && (s[3] == '/' || !s[3])))
			return false;
	return true;
}

/* the notify program on this file system: root's, regular, executable, not writable by others */
static bool program_ok(struct ctx *c, const char *p)
{
	struct stat st;
	if (stat(p, &st) < 0)
		return perr(c, "program '%s': %s", p, strerror(errno));
	if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
		return perr(c, "program '%s': not an executable regular file", p);
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return perr(c, "program '%s': must be owned by root and not writable by group "
			       "or others", p);
	return true;
}

static bool opt_value(struct ctx *c, const struct optdef *d, const json_t *v, json_t *out)
{
	long long x;
	unsigned long long u;
	switch (d->kind) {
	case O_STR:
		if (!str_ok(c, v, 256, d->name))
			return false;
		break;
	case O_ABSPATH:
	case O_PROGRAM:
		if (!str_ok(c, v, PATH_MAX - 1, d->name))
			return false;
		if (!abs_path_ok(json_string_value(v)))
			return perr(c, "%s '%s': must be an absolute path without '.' or '..'",
				    d->name, json_string_value(v));
		if (d->kind == O_PROGRAM && c->fs && !program_ok(c, json_string_value(v)))
			return false;
		break;
	case O_BOOL:
		if (!json_is_boolean(v))
			return perr(c, "%s must be true or false", d->name);
		break;
	case O_SECS:
	case O_TIMEOUT:
	case O_NOTIFY_TIMEOUT: {
		long long lo = d->kind == O_SECS ? 0 : 1;
		long long hi = d->kind == O_NOTIFY_TIMEOUT ? PB_NOTIFY_SECONDS_MAX
			       : d->kind == O_TIMEOUT	   ? PB_TIMEOUT_MAX
							   : PB_SECS_MAX;
		if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
			return perr(c, "%s must be a whole number of seconds from %lld to %lld",
				    d->name, lo, hi);
		break;
	}
	case O_SIZE:
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			break;
		if (!json_is_string(v) || parse_size(json_string_value(v), &u) < 0 ||
		    u > (unsigned long long)LLONG_MAX)
			return perr(c, "%s must be a number of bytes or a size like \"64M\"", d->name);
		json_object_set_new(out, d->name, json_integer((json_int_t)u));
		return true;
	case O_DURATION:
		if (!duration(v, &x) || x < 1 || x > PB_RELEASE_MAX)
			return perr(c, "%s must be a duration from 1 second to 30 days (\"30m\", "
				       "\"2h\", 600)", d->name);
		json_object_set_new(out, d->name, json_integer(x));
		return true;
	case O_ARGS: {
		if (!json_is_array(v) || json_array_size(v) > PB_ARGS_MAX)
			return perr(c, "args must be an array of at most %u strings", PB_ARGS_MAX);
		size_t i;
		json_t *a;
		json_array_foreach(v, i, a)
		{
			push_idx(c, i);
			bool ok = str_ok(c, a, ALERT_STR_MAX, "an argument");
			pop(c);
			if (!ok)
				return false;
		}
		break;
	}
	case O_REFUSED:
		return perr(c, "%s is not supported yet (bags cannot be encrypted)", d->name);
	}
	json_object_set(out, d->name, (json_t *)v);
	return true;
}

static json_t *step_opts(struct ctx *c, enum pb_step_kind kind, const json_t *v)
{
	const struct optdef *defs = step_defs[kind];
	json_t *in = (json_t *)v, *wrapped = NULL;
	if (kind == PB_RELEASE_AFTER && !json_is_object(v))
		in = wrapped = json_pack("{s:O}", "after", v); /* "release_after": "30m" */
	if (!json_is_object(in)) {
		perr(c, "the options of '%s' must be an object ({} for the defaults)",
		     pb_step_names[kind]);
		return NULL;
	}
	json_t *out = json_object();
	bool ok = true;
	const char *k;
	json_t *x;
	json_object_foreach(in, k, x)
	{
		const struct optdef *d = defs;
		while (d->name && strcmp(d->name, k))
			d++;
		if (!wrapped)
			push_key(c, k);
		if (!d->name)
			ok = perr(c, "unknown option '%s' of step '%s'", k, pb_step_names[kind]);
		else
			ok &= opt_value(c, d, x, out);
		if (!wrapped)
			pop(c);
	}
	if (ok && kind == PB_NOTIFY && !json_object_get(out, "program"))
		ok = perr(c, "notify needs a program (an absolute path)");
	if (ok && kind == PB_RELEASE_AFTER && !json_object_get(out, "after"))
		ok = perr(c, "release_after needs a duration (\"after\")");
	json_decref(wrapped);
	if (!ok) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* one step {KIND: OPTIONS}; seen counts the kinds before it */
static bool parse_step(struct ctx *c, const json_t *o, struct pb_step *st, unsigned *seen)
{
	if (!json_is_object(o) || json_object_size(o) != 1)
		return perr(c, "a step must be an object with one key: capture, quarantine, "
			       "freeze, release_after or notify");
	const char *k = json_object_iter_key(json_object_iter((json_t *)o));
	size_t i = 0;
	while (i < ARRAY_SIZE(pb_step_names) && strcmp(pb_step_names[i], k))
		i++;
	push_key(c, k);
	if (i == ARRAY_SIZE(pb_step_names)) {
		perr(c, "unknown step '%s' (capture, quarantine, freeze, release_after, notify)", k);
		pop(c);
		return false;
	}
	enum pb_step_kind kind = (enum pb_step_kind)i;
	bool ok = true;
	if (kind != PB_NOTIFY && seen[kind])
		ok = perr(c, "a second '%s' step", k);
	if ((kind == PB_QUARANTINE && seen[PB_FREEZE]) || (kind == PB_FREEZE && seen[PB_QUARANTINE]))
		ok = perr(c, "'quarantine' and 'freeze' in one playbook (quarantine freezes; "
			     "\"freeze\": false in its options cuts the network only)");
	if (kind == PB_RELEASE_AFTER && !seen[PB_QUARANTINE] && !seen[PB_FREEZE])
		ok = perr(c, "release_after without a quarantine or freeze step before it");
	st->kind = kind;
	st->opts = step_opts(c, kind, json_object_iter_value(json_object_iter((json_t *)o)));
	pop(c);
	seen[kind]++;
	return ok && st->opts;
}

static bool parse_steps(struct ctx *c, const json_t *v, struct playbook *p)
{
	if (!json_is_array(v) || !json_array_size(v) || json_array_size(v) > PB_STEPS_MAX)
		return perr(c, "steps must be an array of 1 to %u steps", PB_STEPS_MAX);
	p->steps = xcalloc(json_array_size(v), sizeof(*p->steps));
	unsigned seen[ARRAY_SIZE(pb_step_names)] = {0};
	bool ok = true;
	size_t i;
	json_t *x;
	json_array_foreach(v, i, x)
	{
		push_idx(c, i);
		ok &= parse_step(c, x, &p->steps[p->nsteps], seen);
		p->nsteps++;
		pop(c);
	}
	/* evidence first: a cut or freeze before the capture would lose what it records */
	size_t cap = SIZE_MAX;
	for (i = 0; i < p->nsteps; i++)
		if (p->steps[i].kind == PB_CAPTURE)
			cap = i;
	for (i = 0; ok && cap != SIZE_MAX && i < cap; i++)
		if (p->steps[i].kind == PB_QUARANTINE || p->steps[i].kind == PB_FREEZE) {
			push_idx(c, i);
			ok = perr(c, "'%s' before 'capture': evidence first, capture must come "
				     "before it", pb_step_names[p->steps[i].kind]);
			pop(c);
		}
	return ok;
}

/* ---- a playbook, a file, a set ---- */

static void playbook_clear(struct playbook *p)
{
	free(p->name);
	free(p->file);
	for (size_t i = 0; i < p->nsteps; i++)
		json_decref(p->steps[i].opts);
	free(p->steps);
	pbm_free(p->match);
	memset(p, 0, sizeof(*p));
}

static bool name_ok(const char *s)
{
	if (!*s || strlen(s) > PB_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

static bool parse_flag(struct ctx *c, const json_t *o, const char *k, bool *out)
{
	const json_t *v = json_object_get(o, k);
	if (!v)
		return true;
	push_key(c, k);
	bool ok = json_is_boolean(v) || perr(c, "%s must be true or false", k);
	*out = json_is_true(v);
	pop(c);
	return ok;
}

static bool parse_playbook(struct ctx *c, const json_t *o, struct playbook *p)
{
	static const char *const known[] = {"name",	"description", "match",
					    "steps",	"dry_run",     "continue", NULL};
	p->file = xstrdup(c->file);
	p->line = pb_line_of(c->text, c->n, c->path, c->depth);
	if (!json_is_object(o))
		return perr(c, "a playbook must be an object");
	bool ok = keys_known(c, o, known, "a playbook");
	const json_t *v = json_object_get(o, "name");
	push_key(c, "name");
	if (!v)
		ok = perr(c, "a playbook needs a name");
	else if (!json_is_string(v) || !name_ok(json_string_value(v)))
		ok = perr(c, "name must be 1 to %u letters, digits, '.', '_' or '-'", PB_NAME_MAX);
	else
		p->name = xstrdup(json_string_value(v));
	pop(c);
	if ((v = json_object_get(o, "description"))) {
		push_key(c, "description");
		ok &= str_ok(c, v, ALERT_STR_MAX, "description");
		pop(c);
	}
	push_key(c, "match");
	if (!(v = json_object_get(o, "match")))
		ok = perr(c, "a playbook needs match (a matcher or an array of them)");
	else
		ok &= (p->match = parse_match(c, v)) != NULL;
	pop(c);
	push_key(c, "steps");
	if (!(v = json_object_get(o, "steps")))
		ok = perr(c, "a playbook needs steps");
	else
		ok &= parse_steps(c, v, p);
	pop(c);
	ok &= parse_flag(c, o, "dry_run", &p->dry_run);
	ok &= parse_flag(c, o, "continue", &p->cont);
	return ok;
}

static void allow_free(struct allow *a)
{
	if (!a)
		return;
	json_decref(a->namespaces);
	json_decref(a->names);
	json_decref(a->images);
	json_decref(a->labels);
	free(a);
}

static bool parse_allow(struct ctx *c, const json_t *o, struct allow **out)
{
	static const char *const known[] = {"namespaces", "names", "images", "labels", NULL};
	if (!json_is_object(o))
		return perr(c, "the allow list must be an object {namespaces, names, images, labels}");
	bool ok = keys_known(c, o, known, "the allow list");
	struct allow *a = xcalloc(1, sizeof(*a));
	json_t **lists[] = {&a->namespaces, &a->names, &a->images};
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		const json_t *v = json_object_get(o, known[i]);
		if (!v)
			continue;
		push_key(c, known[i]);
		if (!json_is_array(v))
			ok = perr(c, "%s must be an array of globs", known[i]);
		else if (json_array_size(v))
			ok &= (*lists[i] = str_list(c, v, true, known[i])) != NULL;
		pop(c);
	}
	const json_t *l = json_object_get(o, "labels");
	if (l) {
		push_key(c, "labels");
		if (!json_is_object(l) || json_object_size(l) > PB_LIST_MAX)
			ok = perr(c, "labels must be an object of at most %u label: glob", PB_LIST_MAX);
		else {
			const char *k;
			json_t *x;
			a->labels = json_object();
			json_object_foreach((json_t *)l, k, x)
			{
				push_key(c, k);
				if (str_ok(c, x, PB_GLOB_MAX, "a label's value") &&
				    glob_bad(json_string_value(x)))
					ok = perr(c, "label '%s': %s", k, glob_bad(json_string_value(x)));
				else if (!json_is_string(x))
					ok = false;
				json_object_set(a->labels, k, x);
				pop(c);
			}
		}
		pop(c);
	}
	if (!ok) {
		allow_free(a);
		return false;
	}
	allow_free(*out);
	*out = a;
	return true;
}

static bool is_allow_file(const char *name)
{
	const char *b = strrchr(name, '/');
	return strcmp(b ? b + 1 : name, "allow.json") == 0;
}

/* one file's text into s (playbooks appended, or the allow list) */
static bool load_text(struct pb_set *s, const char *file, const char *buf, size_t n, bool fs,
		      json_t *errors)
{
	struct ctx c = {.file = file, .errors = errors, .fs = fs};
	char sha[HASH_HEX];
	sha256_hex(buf, n, sha);
	json_t *src = json_pack("{s:s,s:s}", "file", file, "sha256", sha);
	json_array_append_new(s->sources, src ? src : json_pack("{s:s}", "sha256", sha));
	if (n > PB_FILE_MAX) {
		add_error(errors, file, 0, "larger than 1 MiB");
		return false;
	}
	json_error_t je;
	json_t *root = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		char m[300];
		snprintf(m, sizeof(m), "not valid JSON: %s", je.text);
		add_error(errors, file, je.line > 0 ? (unsigned)je.line : 0, m);
		return false;
	}
	c.text = buf;
	c.n = n;
	bool ok = true;
	if (is_allow_file(file)) {
		ok = parse_allow(&c, root, (struct allow **)&s->allow);
	} else if (json_is_array(root) && (!json_array_size(root) ||
					  s->n + json_array_size(root) > PB_FILES_MAX * 16)) {
		ok = perr(&c, "an array of playbooks must hold 1 to %u of them", PB_FILES_MAX * 16);
	} else {
		bool many = json_is_array(root);
		size_t cnt = many ? json_array_size(root) : 1;
		s->v = xreallocarray(s->v, s->n + cnt, sizeof(*s->v));
		for (size_t i = 0; i < cnt; i++) {
			if (many)
				push_idx(&c, i);
			struct playbook *p = &s->v[s->n++];
			memset(p, 0, sizeof(*p));
			ok &= parse_playbook(&c, many ? json_array_get(root, i) : root, p);
			if (many)
				pop(&c);
		}
	}
	json_decref(root);
	return ok;
}

static bool names_unique(const struct pb_set *s, json_t *errors)
{
	bool ok = true;
	for (size_t i = 0; i < s->n; i++)
		for (size_t j = 0; j < i && s->v[i].name; j++)
			if (s->v[j].name && strcmp(s->v[i].name, s->v[j].name) == 0) {
				char m[256];
				snprintf(m, sizeof(m), "a second playbook named '%s' (the first: %s:%u)",
					 s->v[i].name, s->v[j].file, s->v[j].line);
				add_error(errors, s->v[i].file, s->v[i].line, m);
				ok = false;
				break;
			}
	return ok;
}

static struct pb_set *set_new(void)
{
	struct pb_set *s = xcalloc(1, sizeof(*s));
	s->sources = json_array();
	return s;
}

void pb_set_free(struct pb_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		playbook_clear(&s->v[i]);
	free(s->v);
	allow_free(s->allow);
	json_decref(s->sources);
	free(s);
}

static int load_finish(struct pb_set *s, bool ok, struct pb_set **out, json_t *errors,
		       json_t **errors_out, struct err *e)
{
	ok &= names_unique(s, errors);
	if (ok && !s->n && !json_array_size(errors)) {
		add_error(errors, "", 0, "no playbook (NAME.json) found");
		ok = false;
	}
	if (!ok) {
		json_t *first = json_array_get(errors, 0);
		const char *f = json_string_value(json_object_get(first, "file"));
		long long line = json_integer_value(json_object_get(first, "line"));
		const char *m = json_string_value(json_object_get(first, "message"));
		if (line > 0)
			err_set(e, ERR_INVALID, "%s:%lld: %s", f ? f : "?", line, m ? m : "?");
		else
			err_set(e, ERR_INVALID, "%s%s%s", f && *f ? f : "", f && *f ? ": " : "",
				m ? m : "?");
		pb_set_free(s);
		*out = NULL;
	} else {
		*out = s;
	}
	if (errors_out)
		*errors_out = errors;
	else
		json_decref(errors);
	return ok ? 0 : -1;
}

int pb_load_buf(const char *name, const char *buf, size_t n, struct pb_set **out,
		json_t **errors, struct err *e)
{
	struct pb_set *s = set_new();
	json_t *errs = json_array();
	bool ok = load_text(s, name, buf ? buf : "", buf ? n : 0, false, errs);
	if (ok && is_allow_file(name) && !s->n)
		ok = true; /* an allow list alone: a set with no playbook is fine here */
	if (ok && is_allow_file(name)) {
		*out = s;
		if (errors)
			*errors = errs;
		else
			json_decref(errs);
		return 0;
	}
	return load_finish(s, ok, out, errs, errors, e);
}

/* ---- the directory: root's, not writable by others, no symlinks ---- */

static bool owner_ok(const struct stat *st)
{
	return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool load_one(struct pb_set *s, int dfd, const char *dir, const char *name, json_t *errs)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char m[300];
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(m, sizeof(m), "%s", errno == ELOOP ? "a symbolic link: refused"
							   : strerror(errno));
		add_error(errs, path, 0, m);
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		add_error(errs, path, 0, "not a regular file");
		return false;
	}
	if (!owner_ok(&st)) {
		add_error(errs, path, 0, "must be owned by root and not writable by group or others");
		return false;
	}
	_cleanup_free_ char *buf = NULL;
	size_t n;
	bool trunc;
	struct err e = {0};
	if (read_fd_bounded(fd, PB_FILE_MAX, &buf, &n, &trunc, &e) < 0) {
		add_error(errs, path, 0, e.msg);
		return false;
	}
	if (trunc) {
		add_error(errs, path, 0, "larger than 1 MiB");
		return false;
	}
	return load_text(s, path, buf, n, true, errs);
}

/* the *.json names of dfd (not hidden), sorted; NULL on error (in errs) */
static char **list_json(int dfd, const char *dir, size_t *count, json_t *errs)
{
	int fd2 = dup(dfd);
	DIR *d = fd2 < 0 ? NULL : fdopendir(fd2);
	if (!d) {
		if (fd2 >= 0)
			close(fd2);
		add_error(errs, dir, 0, strerror(errno));
		return NULL;
	}
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	bool ok = true;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !str_has_suffix(de->d_name, ".json"))
			continue;
		if (n == PB_FILES_MAX) {
			add_error(errs, dir, 0, "more than 1000 playbook files");
			ok = false;
			break;
		}
		xgrow(&v, &cap, n + 1, sizeof(*v));
		v[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*count = n;
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return NULL;
	}
	return v ? v : xcalloc(1, sizeof(*v));
}

int pb_load_dir(const char *dir, struct pb_set **out, json_t **errors, struct err *e)
{
	*out = NULL;
	json_t *errs = json_array();
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (dfd < 0 || fstat(dfd, &st) < 0) {
		int en = errno;
		add_error(errs, dir, 0, en == ELOOP || en == ENOTDIR ? "not a directory (or a symbolic link)"
								      : strerror(en));
		if (errors)
			*errors = errs;
		else
			json_decref(errs);
		return err_sys(e, en, "playbooks '%s'", dir);
	}
	struct pb_set *s = set_new();
	bool ok = true;
	if (!owner_ok(&st)) {
		add_error(errs, dir, 0,
			  "the directory must be owned by root and not writable by group or others");
		ok = false;
	}
	size_t n = 0;
	char **names = ok ? list_json(dfd, dir, &n, errs) : NULL;
	ok &= names != NULL;
	for (size_t i = 0; names && i < n; i++) {
		ok &= load_one(s, dfd, dir, names[i], errs);
		free(names[i]);
	}
	free(names);
	return load_finish(s, ok, out, errs, errors, e);
}

/* ---- matching ---- */

/* a field of the alert: its fields first, then the normalized attributes */
static const json_t *alert_field(const struct alert *a, const char *name, json_t **tmp)
{
	const json_t *v = a->fields ? json_object_get(a->fields, name) : NULL;
	if (v && !json_is_null(v))
		return v;
	const char *s = NULL;
	if (strcmp(name, "container.id") == 0)
		s = a->container_id;
	else if (strcmp(name, "container.name") == 0)
		s = a->container_name;
	else if (strcmp(name, "container.image.repository") == 0 ||
		 strcmp(name, "container.image") == 0)
		s = a->image;
	else if (strcmp(name, "k8s.pod.name") == 0)
		s = a->pod;
	else if (strcmp(name, "k8s.ns.name") == 0)
		s = a->ns;
	else if (strcmp(name, "proc.pid") == 0 && a->pid > 0)
		return *tmp = json_integer(a->pid);
	if (!s || !*s)
		return NULL;
	return *tmp = json_string(s);
}

/* one bracket expression at *pp ('[', closed: glob_bad checked) against c;
 * *pp moved past its ']' */
static bool glob_class(const char **pp, unsigned char c)
{
	const char *p = *pp + 1;
	bool neg = false, hit = false, first = true;
	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	while (*p && (first || *p != ']')) {
		first = false;
		if (*p == '\\' && p[1])
			p++;
		unsigned char lo = (unsigned char)*p++, hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			p++;
			if (*p == '\\' && p[1])
				p++;
			hi = (unsigned char)*p++;
		}
		hit |= c >= lo && c <= hi;
	}
	if (*p == ']')
		p++;
	*pp = p;
	return hit != neg;
}

/* fnmatch(p, s, 0) on bytes (*, ?, [...], \ escapes; no character classes),
 * without its cost: one backtrack point, the last '*' (linear for the
 * patterns playbooks use; fnmatch was half the time of a match) */
static bool glob_match(const char *p, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;
	while (*s) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return true;
			star_p = p;
			star_s = s;
			continue;
		}
		const char *np = p + 1;
		bool one;
		if (!*p)
			one = false;
		else if (*p == '?')
			one = true;
		else if (*p == '[') {
			np = p;
			one = glob_class(&np, (unsigned char)*s);
		} else {
			if (*p == '\\' && p[1])
				np = p + 2, p++;
			one = *p == *s;
		}
		if (one) {
			p = np;
			s++;
		} else if (star_p) {
			p = star_p;
			s = ++star_s;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

static bool globs_match(const json_t *globs, const char *text)
{
	size_t i;
	json_t *g;
	json_array_foreach(globs, i, g) if (glob_match(json_string_value(g), text)) return true;
	return false;
}

static bool cond_holds(const struct cond *k, const struct alert *a)
{
	json_t *tmp = NULL;
	const json_t *v = alert_field(a, k->field, &tmp);
	bool r = false;
	char buf[64];
	const char *t;
	double d;
	if (k->op == C_EXISTS)
		r = (v != NULL) == k->exists;
	else if (!v || json_is_array(v) || json_is_object(v))
		r = false;
	else if (k->op == C_EQ || k->op == C_NE)
		r = vals_has(k->vals, v) == (k->op == C_EQ);
	else if (k->op == C_GLOB || k->op == C_NGLOB)
		r = scalar_text(v, buf, sizeof(buf), &t) &&
		    globs_match(k->vals, t) == (k->op == C_GLOB);
	else if (scalar_num(v, &d))
		r = k->op == C_LT ? d < k->num : k->op == C_LE ? d <= k->num
					     : k->op == C_GT ? d > k->num : d >= k->num;
	json_decref(tmp);
	return r;
}

static bool has_tag(const json_t *tags, const char *t)
{
	size_t i;
	json_t *x;
	json_array_foreach(tags, i, x)
	{
		const char *s = json_string_value(x);
		if (s && strcmp(s, t) == 0)
			return true;
	}
	return false;
}

static bool matcher_holds(const struct matcher *m, const struct alert *a, unsigned src)
{
	if (m->sources && !(m->sources & src))
		return false;
	if (m->prio && (!a->prio_known || a->prio > AP_EMERGENCY || !(m->prio & (1u << a->prio))))
		return false;
	size_t i;
	json_t *x;
	const char *rule = a->rule ? a->rule : "";
	if (m->rules) { /* lengths first: most rules differ in length */
		size_t rl = strlen(rule);
		bool any = false;
		json_array_foreach(m->rules, i, x)
		{
			if (json_string_length(x) == rl && memcmp(json_string_value(x), rule, rl) == 0) {
				any = true;
				break;
			}
		}
		if (!any)
			return false;
	}
	if (m->globs && !globs_match(m->globs, rule))
		return false;
	if (m->tags) {
		json_array_foreach(m->tags, i, x) if (!has_tag(a->tags, json_string_value(x))) return
			false;
	}
	for (size_t k = 0; k < m->nconds; k++)
		if (!cond_holds(&m->conds[k], a))
			return false;
	return true;
}

size_t pb_match(const struct pb_set *s, const struct alert *a, size_t *idx, size_t max)
{
	if (!s || !a)
		return 0;
	unsigned src = 0;
	for (size_t k = 0; a->source && k < ARRAY_SIZE(pb_sources); k++)
		if (strcmp(a->source, pb_sources[k]) == 0)
			src = 1u << k;
	size_t n = 0;
	for (size_t i = 0; i < s->n && n < max; i++) {
		const struct pbm *pm = s->v[i].match;
		bool hit = false;
		for (size_t j = 0; pm && j < pm->n && !hit; j++)
			hit = matcher_holds(&pm->v[j], a, src);
		if (!hit)
			continue;
		idx[n++] = i;
		if (!s->v[i].cont)
			break;
	}
	return n;
}

/* pb_match's source, priority and rule checks on what the peek knows;
 * everything else (tags, field conditions) taken as holding */
static bool matcher_may_hold(const struct matcher *m, const struct alert_peek *p, unsigned src)
{
	if (m->sources && !(m->sources & src))
		return false;
	if (m->prio && p->prio_sure &&
	    (!p->prio_known || p->prio > AP_EMERGENCY || !(m->prio & (1u << p->prio))))
		return false;
	if (!p->rule_known)
		return true;
	size_t i;
	json_t *x;
	if (m->rules) {
		bool any = false;
		json_array_foreach(m->rules, i, x)
		{
			if (json_string_length(x) == p->rule_len &&
			    memcmp(json_string_value(x), p->rule, p->rule_len) == 0) {
				any = true;
				break;
			}
		}
		if (!any)
			return false;
	}
	if (m->globs && !globs_match(m->globs, p->rule))
		return false;
	return true;
}

bool pb_may_match(const struct pb_set *s, const struct alert_peek *p)
{
	if (!s || !p)
		return false; /* pb_match of no set is 0 */
	unsigned src = 0;
	for (size_t k = 0; p->source && k < ARRAY_SIZE(pb_sources); k++)
		if (strcmp(p->source, pb_sources[k]) == 0)
			src = 1u << k;
	for (size_t i = 0; i < s->n; i++) {
		const struct pbm *pm = s->v[i].match;
		for (size_t j = 0; pm && j < pm->n; j++)
			if (matcher_may_hold(&pm->v[j], p, src))
				return true;
	}
	return false;
}

/* ---- the allow list ---- */

static const char *jget(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s && *s ? s : NULL;
}

/* the container's Kubernetes namespace: discovery's, else its CRI labels */
static const char *ctr_namespace(const json_t *c)
{
	const char *ns = jget(json_object_get(c, "kubernetes"), "namespace");
	if (!ns)
		ns = jget(json_object_get(c, "labels"), "io.kubernetes.pod.namespace");
	return ns;
}

bool pb_allowed(const struct pb_set *s, const struct alert *a, const json_t *ctr_json,
		const char **why)
{
	static __thread char reason[512];
	const struct allow *al = s ? s->allow : NULL;
	if (why)
		*why = NULL;
	if (!al || !ctr_json)
		return false;
	const json_t *k8s = json_object_get(ctr_json, "kubernetes");
	const char *ns = ctr_namespace(ctr_json);
	if (!ns && a && a->ns && *a->ns)
		ns = a->ns; /* the runtime knows none: the detector's word */
	const char *names[] = {jget(ctr_json, "name"), jget(k8s, "pod"), jget(k8s, "container"),
			       jget(json_object_get(ctr_json, "labels"), "io.kubernetes.pod.name")};
	const char *image = jget(ctr_json, "image");
	if (al->namespaces && ns && globs_match(al->namespaces, ns)) {
		snprintf(reason, sizeof(reason), "namespace '%s' is on the allow list", ns);
		goto yes;
	}
	for (size_t i = 0; al->names && i < ARRAY_SIZE(names); i++)
		if (names[i] && globs_match(al->names, names[i])) {
			snprintf(reason, sizeof(reason), "name '%s' is on the allow list", names[i]);
			goto yes;
		}
	if (al->images && image && globs_match(al->images, image)) {
		snprintf(reason, sizeof(reason), "image '%s' is on the allow list", image);
		goto yes;
	}
	const json_t *labels = json_object_get(ctr_json, "labels");
	const char *lk;
	json_t *g;
	if (al->labels)
		json_object_foreach((json_t *)al->labels, lk, g)
		{
			const char *lv = json_string_value(json_object_get(labels, lk));
			if (lv && glob_match(json_string_value(g), lv)) {
				snprintf(reason, sizeof(reason), "label %s=%s is on the allow list", lk,
					 lv);
				goto yes;
			}
		}
	return false;
yes:
	if (why)
		*why = reason;
	return true;
}

/* ---- describe ---- */

/* a new reference to x, or a new empty array (object) */
static json_t *or_new(json_t *x, bool object)
{
	return x ? json_incref(x) : object ? json_object() : json_array();
}

json_t *pb_describe(const struct pb_set *s)
{
	json_t *pbs = json_array();
	for (size_t i = 0; s && i < s->n; i++) {
		const struct playbook *p = &s->v[i];
		const struct pbm *pm = p->match;
		json_t *steps = json_array();
		for (size_t k = 0; k < p->nsteps; k++)
			json_array_append_new(steps, json_pack("{s:O}", pb_step_names[p->steps[k].kind],
							       p->steps[k].opts));
		json_array_append_new(
			pbs, json_pack("{s:s,s:s,s:I,s:b,s:b,s:o,s:o}", "name", p->name, "file",
				       p->file, "line", (json_int_t)p->line, "dry_run", p->dry_run,
				       "continue", p->cont, "match", or_new(pm ? pm->desc : NULL, false),
				       "steps", steps));
	}
	json_t *allow = json_null();
	const struct allow *al = s ? s->allow : NULL;
	if (al)
		allow = json_pack("{s:o,s:o,s:o,s:o}", "namespaces", or_new(al->namespaces, false),
				  "names", or_new(al->names, false), "images",
				  or_new(al->images, false), "labels", or_new(al->labels, true));
	return json_pack("{s:o,s:o,s:o}", "playbooks", pbs, "allow", allow, "sources",
			 or_new(s ? s->sources : NULL, false));
}
