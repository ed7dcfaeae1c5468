/* roots.c: --root RUNTIME=DIR and CONTAIN_ROOTS. */
#include <string.h>

#include "contain/runtime.h"

static const char *const kind_names[RT__COUNT] = {
	[RT_RUNC] = "runc",	   [RT_CONTAINERD] = "containerd", [RT_DOCKER] = "docker",
	[RT_PODMAN] = "podman", [RT_CRIO] = "crio",
};

const char *rt_kind_name(enum rt_kind k)
{
	return (unsigned)k < RT__COUNT ? kind_names[k] : "unknown";
}

int rt_kind_parse(const char *name, enum rt_kind *out)
{
	for (int k = 0; k < RT__COUNT; k++) {
		if (strcmp(name, kind_names[k]) == 0) {
			*out = (enum rt_kind)k;
			return 0;
		}
	}
	if (strcmp(name, "cri-o") == 0 || strcmp(name, "moby") == 0) {
		*out = name[0] == 'c' ? RT_CRIO : RT_DOCKER;
		return 0;
	}
	return -1;
}

int rt_roots_add(struct rt_roots *r, const char *spec, struct err *e)
{
	const char *eq = strchr(spec, '=');
	enum rt_kind k;
	if (!eq || eq == spec || !eq[1])
		return err_set(e, ERR_INVALID, "bad root '%s': want RUNTIME=DIR", spec);
	char name[32];
	size_t n = (size_t)(eq - spec);
	if (n >= sizeof(name))
		return err_set(e, ERR_INVALID, "bad root '%s': unknown runtime", spec);
	memcpy(name, spec, n);
	name[n] = '\0';
	if (rt_kind_parse(name, &k) < 0)
		return err_set(e, ERR_INVALID,
			       "bad root '%s': unknown runtime '%s' (runc, containerd, docker, podman, crio)",
			       spec, name);
	if (eq[1] != '/')
		return err_set(e, ERR_INVALID, "bad root '%s': the directory must be absolute", spec);
	xgrow(&r->v, &r->cap, r->n + 1, sizeof(*r->v));
	r->v[r->n].kind = k;
	r->v[r->n].dir = xstrdup(eq + 1);
	r->n++;
	r->replace[k] = true;
	return 0;
}

int rt_roots_from_env(struct rt_roots *r, struct err *e)
{
	const char *env = getenv("CONTAIN_ROOTS");
	if (!env || !*env)
		return 0;
	_cleanup_free_ char *copy = xstrdup(env);
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!*tok)
			continue;
		if (rt_roots_add(r, tok, e) < 0)
			return err_wrap(e, "CONTAIN_ROOTS");
	}
	return 0;
}

void rt_roots_free(struct rt_roots *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].dir);
	free(r->v);
	memset(r, 0, sizeof(*r));
}
