/* jline.c: the fast reader of simple JSON (include/contain/jline.h). One
 * pass checks the whole text; the iterators then rely on that check. */
#include <string.h>

#include "contain/jline.h"
#include "contain/util.h"

#define JL_MAX_DIGITS 18 /* below 2^63: no overflow to think about */

static const char *ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

/* a string from p (at its quote) to past its closing quote; NULL: declined */
static const char *str_end(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c < 0x20 || c >= 0x7f || c == '\\')
			return NULL;
	}
	return NULL;
}

static const char *int_end(const char *p, const char *end, long long *out)
{
	bool neg = false;
	long long x = 0;
	int digits = 0;
	if (*p == '-') {
		neg = true;
		p++;
	}
	const char *first = p;
	while (p < end && *p >= '0' && *p <= '9') {
		if (++digits > JL_MAX_DIGITS)
			return NULL;
		x = x * 10 + (*p - '0');
		p++;
	}
	/* no digit, a leading zero, "-0", or a fraction or exponent: declined */
	if (digits == 0 || (*first == '0' && (digits > 1 || neg)))
		return NULL;
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
		return NULL;
	*out = neg ? -x : x;
	return p;
}

static const char *value_end(const char *p, const char *end, int depth);

static const char *obj_end(const char *p, const char *end, int depth)
{
	struct {
		const char *p;
		size_t n;
	} keys[JL_MAX_MEMBERS];
	size_t nk = 0;
	p = ws(p + 1, end);
	if (p < end && *p == '}')
		return p + 1;
	for (;;) {
		if (p >= end || *p != '"' || nk == JL_MAX_MEMBERS)
			return NULL;
		const char *k = p + 1, *ke = str_end(p, end);
		if (!ke)
			return NULL;
		size_t kn = (size_t)(ke - 1 - k);
		for (size_t i = 0; i < nk; i++)
			if (keys[i].n == kn && memcmp(keys[i].p, k, kn) == 0)
				return NULL; /* a key twice: jansson's rules decide */
		keys[nk].p = k;
		keys[nk++].n = kn;
		p = ws(ke, end);
		if (p >= end || *p != ':')
			return NULL;
		p = value_end(ws(p + 1, end), end, depth + 1);
		if (!p)
			return NULL;
		p = ws(p, end);
		if (p < end && *p == '}')
			return p + 1;
		if (p >= end || *p != ',')
			return NULL;
		p = ws(p + 1, end);
	}
}

static const char *arr_end(const char *p, const char *end, int depth)
{
	p = ws(p + 1, end);
	if (p < end && *p == ']')
		return p + 1;
	for (;;) {
		p = value_end(p, end, depth + 1);
		if (!p)
			return NULL;
		p = ws(p, end);
		if (p < end && *p == ']')
			return p + 1;
		if (p >= end || *p != ',')
			return NULL;
		p = ws(p + 1, end);
	}
}

static const char *lit_end(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0 ? p + n : NULL;
}

static const char *value_end(const char *p, const char *end, int depth)
{
	long long x;
	if (p >= end || depth > JL_MAX_DEPTH)
		return NULL;
	switch (*p) {
	case '{':
		return obj_end(p, end, depth);
	case '[':
		return arr_end(p, end, depth);
	case '"':
		return str_end(p, end);
	case 't':
		return lit_end(p, end, "true");
	case 'f':
		return lit_end(p, end, "false");
	case 'n':
		return lit_end(p, end, "null");
	default:
		return *p == '-' || (*p >= '0' && *p <= '9') ? int_end(p, end, &x) : NULL;
	}
}

int jl_parse(const char *s, size_t n, struct jl_val *v)
{
	const char *end = s + n, *p = ws(s, end);
	if (p >= end || *p != '{')
		return 0;
	const char *e = value_end(p, end, 1);
	if (!e || ws(e, end) != end)
		return 0;
	*v = (struct jl_val){.t = JL_OBJ, .p = p, .n = (size_t)(e - p)};
	return 1;
}

/* ---- over text jl_parse took ---- */

/* the end of the value at p, which is well formed and simple */
static const char *skip(const char *p, const char *end, struct jl_val *v)
{
	const char *q;
	int d = 0;
	switch (*p) {
	case '"':
		q = memchr(p + 1, '"', (size_t)(end - p - 1));
		*v = (struct jl_val){.t = JL_STR, .p = p + 1, .n = (size_t)(q - p - 1)};
		return q + 1;
	case '{':
	case '[':
		for (q = p; q < end; q++) {
			if (*q == '"')
				q = memchr(q + 1, '"', (size_t)(end - q - 1));
			else if (*q == '{' || *q == '[')
				d++;
			else if ((*q == '}' || *q == ']') && --d == 0)
				break;
		}
		*v = (struct jl_val){.t = *p == '{' ? JL_OBJ : JL_ARR, .p = p,
				     .n = (size_t)(q + 1 - p)};
		return q + 1;
	case 't':
		*v = (struct jl_val){.t = JL_TRUE, .p = p, .n = 4};
		return p + 4;
	case 'f':
		*v = (struct jl_val){.t = JL_FALSE, .p = p, .n = 5};
		return p + 5;
	case 'n':
		*v = (struct jl_val){.t = JL_NULL, .p = p, .n = 4};
		return p + 4;
	default:
		*v = (struct jl_val){.t = JL_INT, .p = p};
		q = int_end(p, end, &v->i);
		v->n = (size_t)(q - p);
		return q;
	}
}

void jl_iter_init(struct jl_iter *it, const struct jl_val *v)
{
	bool ok = v->t == JL_OBJ || v->t == JL_ARR;
	it->p = ok ? v->p + 1 : NULL;
	it->end = ok ? v->p + v->n - 1 : NULL;
	it->obj = v->t == JL_OBJ;
}

bool jl_next(struct jl_iter *it, struct jl_val *key, struct jl_val *val)
{
	if (!it->p)
		return false;
	const char *p = ws(it->p, it->end);
	if (p < it->end && *p == ',')
		p = ws(p + 1, it->end);
	if (p >= it->end)
		return false;
	*key = (struct jl_val){.t = JL_NONE};
	if (it->obj) {
		p = skip(p, it->end, key);
		p = ws(p, it->end) + 1; /* the ':' */
		p = ws(p, it->end);
	}
	it->p = skip(p, it->end, val);
	return true;
}

bool jl_get(const struct jl_val *obj, const char *key, struct jl_val *out)
{
	struct jl_iter it;
	struct jl_val k;
	size_t kn = strlen(key);
	*out = (struct jl_val){.t = JL_NONE};
	if (obj->t != JL_OBJ)
		return false;
	jl_iter_init(&it, obj);
	while (jl_next(&it, &k, out))
		if (k.n == kn && memcmp(k.p, key, kn) == 0)
			return true;
	*out = (struct jl_val){.t = JL_NONE};
	return false;
}

void jl_getn(const struct jl_val *obj, const char *const keys[], struct jl_val out[], size_t n)
{
	struct jl_iter it;
	struct jl_val k, v;
	for (size_t i = 0; i < n; i++)
		out[i] = (struct jl_val){.t = JL_NONE};
	if (obj->t != JL_OBJ)
		return;
	jl_iter_init(&it, obj);
	while (jl_next(&it, &k, &v))
		for (size_t i = 0; i < n; i++)
			if (jl_streq(&k, keys[i]))
				out[i] = v;
}

char *jl_strdup(const struct jl_val *v)
{
	return v->t == JL_STR ? xstrndup(v->p, v->n) : NULL;
}

bool jl_streq(const struct jl_val *v, const char *s)
{
	return v->t == JL_STR && strlen(s) == v->n && memcmp(v->p, s, v->n) == 0;
}
