/* fz_jline: jline (include/contain/jline.h) against jansson. Whatever jline
 * takes as simple JSON, jansson must take too (with JSON_REJECT_DUPLICATES,
 * as the chain walk parses a line) and hold the same values: the same types,
 * strings, integers, members in the same number, and jl_get finding each.
 * Any other input jline must decline, never take. Verdicts (fz.h): jline
 * (jl_parse took the input). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "contain/jline.h"
#include "contain/util.h"
#include "fz.h"

static void same(const struct jl_val *v, json_t *j)
{
	struct jl_iter it;
	struct jl_val k, e, got;
	size_t n = 0;
	switch (v->t) {
	case JL_OBJ:
		if (!json_is_object(j))
			abort();
		jl_iter_init(&it, v);
		while (jl_next(&it, &k, &e)) {
			char *key = jl_strdup(&k);
			const char *keys[] = {key};
			struct jl_val many[1];
			if (!key || !jl_get(v, key, &got) || got.p != e.p || got.t != e.t)
				abort();
			jl_getn(v, keys, many, 1);
			if (many[0].p != e.p || many[0].t != e.t)
				abort();
			same(&e, json_object_get(j, key));
			free(key);
			n++;
		}
		if (n != json_object_size(j))
			abort();
		break;
	case JL_ARR:
		if (!json_is_array(j))
			abort();
		jl_iter_init(&it, v);
		while (jl_next(&it, &k, &e))
			same(&e, json_array_get(j, n++));
		if (n != json_array_size(j))
			abort();
		break;
	case JL_STR:
		if (!json_is_string(j) || json_string_length(j) != v->n ||
		    memcmp(json_string_value(j), v->p, v->n) != 0)
			abort();
		break;
	case JL_INT:
		if (!json_is_integer(j) || json_integer_value(j) != v->i)
			abort();
		break;
	case JL_TRUE:
		if (!json_is_true(j))
			abort();
		break;
	case JL_FALSE:
		if (!json_is_false(j))
			abort();
		break;
	case JL_NULL:
		if (!json_is_null(j))
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct jl_val v;
	bool took = jl_parse(s, size, &v) == 1;
	fz_verdict("jline", took);
	if (!took)
		return 0;
	json_error_t je;
	json_t *j = json_loadb(s, size, JSON_REJECT_DUPLICATES, &je);
	if (!j) /* jline took what jansson refuses */
		abort();
	same(&v, j);
	json_decref(j);
	return 0;
}
