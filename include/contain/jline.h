/* jline.h: a fast reader for the plain JSON contain writes (custody lines,
 * index.json). It takes only "simple" JSON: strings of printable ASCII with
 * no escape, integers of at most 18 digits, true/false/null, objects of at
 * most JL_MAX_MEMBERS members with no key twice, nesting at most
 * JL_MAX_DEPTH. Anything else it declines (0), and the caller parses the text
 * with jansson, whose answer then stands. So whatever it accepts, jansson
 * accepts with the same values (tests/fuzz/fz_jline.c checks this). */
#ifndef CONTAIN_JLINE_H
#define CONTAIN_JLINE_H
#include <stdbool.h>
#include <stddef.h>

#define JL_MAX_DEPTH 16
#define JL_MAX_MEMBERS 64

enum jl_type { JL_NONE, JL_OBJ, JL_ARR, JL_STR, JL_INT, JL_TRUE, JL_FALSE, JL_NULL };

struct jl_val {
	enum jl_type t;
	const char *p; /* JL_STR: the characters (no quotes, no escape in them);
			* JL_OBJ/JL_ARR: the text from the bracket to its match */
	size_t n;
	long long i; /* JL_INT */
};

/* s[0..n): one object (with whitespace around). 1: simple, *v is it; 0: not
 * simple JSON, or not well formed: parse it with jansson. */
int jl_parse(const char *s, size_t n, struct jl_val *v);

/* Members of an object, elements of an array, from a value jl_parse took.
 * jl_next gives each in turn (key: JL_NONE for an array), false at the end. */
struct jl_iter {
	const char *p, *end;
	bool obj;
};
void jl_iter_init(struct jl_iter *it, const struct jl_val *v);
bool jl_next(struct jl_iter *it, struct jl_val *key, struct jl_val *val);
/* the member key of obj (JL_NONE in *out when obj has none or is no object) */
bool jl_get(const struct jl_val *obj, const char *key, struct jl_val *out);
/* the members keys[0..n) of obj into out[0..n), in one pass (JL_NONE for
 * one it lacks, all when obj is no object) */
void jl_getn(const struct jl_val *obj, const char *const keys[], struct jl_val out[], size_t n);
/* a JL_STR as a C string (malloc'ed); NULL when v is no string */
char *jl_strdup(const struct jl_val *v);
bool jl_streq(const struct jl_val *v, const char *s);
#endif
