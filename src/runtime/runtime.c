/* runtime.c: the core of discovery. Runs every backend over its state
 * roots, keeps one entry per container (the highest-level runtime wins),
 * fills what the kernel knows, and resolves a REF into one struct ctr. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define MAX_CONTAINERS 100000

/* Every backend, indexed by its rt_kind (git's commands[], crun's
 * static_handlers[]). Plain references: every binary that discovers
 * containers (contain, the unit tests, the test tools) links all of them and
 * resolves containers the same way. */
static const struct rt_backend *const rt_backends[] = {
    [RT_RUNC] = &rt_backend_runc,     [RT_CONTAINERD] = &rt_backend_containerd,
    [RT_DOCKER] = &rt_backend_docker, [RT_PODMAN] = &rt_backend_podman,
    [RT_CRIO] = &rt_backend_crio,
};
_Static_assert(sizeof(rt_backends) / sizeof(rt_backends[0]) == RT__COUNT,
	       "one backend for each enum rt_kind");

const struct rt_backend *rt_backend_for(enum rt_kind k)
{
	return (unsigned)k < RT__COUNT ? rt_backends[k] : NULL;
}

/* ---- struct ctr ---- */

struct ctr *ctr_new(enum rt_kind kind)
{
	struct ctr *c = xcalloc(1, sizeof(*c));
	c->runtime = kind;
	c->frz_v1_state = c->frz_v2_frozen = -1;
	return c;
}

void ctr_set(char **field, const char *v)
{
	free(*field);
	*field = v ? xstrdup(v) : NULL;
}

void ctr_list_add(struct ctr_list *l, struct ctr *c)
{
	xgrow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = c;
}

const char *ctr_label(const struct ctr *c, const char *key)
{
	for (size_t i = 0; i < c->nlabels; i++)
		if (strcmp(c->labels[i].key, key) == 0)
			return c->labels[i].value;
	return NULL;
}

void ctr_add_label(struct ctr *c, const char *key, const char *value)
{
	if (!key)
		return;
	for (size_t i = 0; i < c->nlabels; i++) {
		if (strcmp(c->labels[i].key, key) == 0) {
			ctr_set(&c->labels[i].value, value ? value : "");
			return;
		}
	}
	c->labels = xreallocarray(c->labels, c->nlabels + 1, sizeof(*c->labels));
	c->labels[c->nlabels].key = xstrdup(key);
	c->labels[c->nlabels].value = xstrdup(value ? value : "");
	c->nlabels++;
}

static void set_if_unset(char **field, const char *v)
{
	if (!*field && v && *v)
		*field = xstrdup(v);
}

void ctr_k8s_from_labels(struct ctr *c)
{
	static const char *const pod[] = {"io.kubernetes.pod.name",
					  "io.kubernetes.cri.sandbox-name",
					  "io.kubernetes.cri-o.KubeName", NULL};
	static const char *const ns[] = {"io.kubernetes.pod.namespace",
					 "io.kubernetes.cri.sandbox-namespace",
					 "io.kubernetes.cri-o.Namespace", NULL};
	static const char *const name[] = {"io.kubernetes.container.name",
					   "io.kubernetes.cri.container-name", NULL};
	for (int i = 0; pod[i]; i++)
		set_if_unset(&c->k8s_pod, ctr_label(c, pod[i]));
	for (int i = 0; ns[i]; i++)
		set_if_unset(&c->k8s_namespace, ctr_label(c, ns[i]));
	for (int i = 0; name[i]; i++)
		set_if_unset(&c->k8s_container, ctr_label(c, name[i]));

	/* CRI-O keeps the pod's labels as one JSON string, and the container
	 * metadata ({"name": ...}) as another */
	const char *cl = ctr_label(c, "io.kubernetes.cri-o.Labels");
	if (cl && strlen(cl) < 1 << 20) {
		json_t *j = json_loads(cl, JSON_REJECT_DUPLICATES, NULL);
		if (json_is_object(j)) {
			set_if_unset(&c->k8s_pod, json_str(j, "io.kubernetes.pod.name"));
			set_if_unset(&c->k8s_namespace, json_str(j, "io.kubernetes.pod.namespace"));
			set_if_unset(&c->k8s_container,
				     json_str(j, "io.kubernetes.container.name"));
		}
		json_decref(j);
	}
	const char *md = ctr_label(c, "io.kubernetes.cri-o.Metadata");
	if (md && strlen(md) < 1 << 20) {
		json_t *j = json_loads(md, JSON_REJECT_DUPLICATES, NULL);
		if (json_is_object(j))
			set_if_unset(&c->k8s_container, json_str(j, "name"));
		json_decref(j);
	}
	/* a pod sandbox has a pod but no container name */
}

static void cgroups_free(struct ctr *c)
{
	for (size_t i = 0; i < c->ncgroups; i++) {
		free(c->cgroups[i].controllers);
		free(c->cgroups[i].path);
		free(c->cgroups[i].fs_path);
	}
	free(c->cgroups);
	c->cgroups = NULL;
	c->ncgroups = 0;
}

void ctr_free(struct ctr *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->name);
	free(c->status);
	free(c->namespace);
	free(c->image);
	free(c->image_digest);
	free(c->pids);
	cgroups_free(c);
	free(c->cgroup_unified);
	free(c->cgroup_freezer);
	free(c->frz_v1_dir);
	free(c->frz_v2_dir);
	free(c->netns_path);
	free(c->rootfs);
	free(c->upperdir);
	free(c->workdir);
	for (size_t i = 0; i < c->nlowerdirs; i++)
		free(c->lowerdirs[i]);
	free(c->lowerdirs);
	free(c->rootfs_fstype);
	free(c->bundle);
	free(c->config_path);
	free(c->state_path);
	free(c->state_root);
	free(c->log_path);
	free(c->created);
	for (size_t i = 0; i < c->nlabels; i++) {
		free(c->labels[i].key);
		free(c->labels[i].value);
	}
	free(c->labels);
	free(c->k8s_pod);
	free(c->k8s_namespace);
	free(c->k8s_container);
	free(c);
}

void ctr_list_free(struct ctr_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		ctr_free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- json ---- */

json_t *json_load_file_bounded(const char *path, size_t max, struct err *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	bool trunc;
	if (read_file_at(AT_FDCWD, path, max, &buf, &len, &trunc, e) < 0)
		return NULL;
	if (trunc) {
		err_set(e, ERR_INVALID, "'%s' is larger than %zu bytes", path, max);
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		err_set(e, ERR_INVALID, "bad JSON in '%s': %s (line %d)", path, je.text, je.line);
		return NULL;
	}
	return j;
}

const char *json_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A JSON string for bytes that came from a runtime file or the kernel: as
 * is when valid UTF-8, else with the bad bytes written \xNN. */
static json_t *jstr(const char *s)
{
	if (!s)
		return json_null();
	size_t n = strlen(s);
	if (utf8_valid(s, n))
		return json_stringn(s, n);
	struct sbuf b = SBUF_INIT;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80)
			sbuf_addc(&b, (char)*p);
		else
			sbuf_printf(&b, "\\x%02x", *p);
	}
	json_t *j = json_stringn(b.buf, b.len);
	sbuf_free(&b);
	return j;
}

int ctr_read_oci_config(struct ctr *c, struct err *e)
{
	if (!c->config_path)
		return err_set(e, ERR_INVALID, "no OCI config path");
	json_t *j = json_load_file_bounded(c->config_path, 8 << 20, e);
	if (!j)
		return -1;
	if (!json_is_object(j)) {
		json_decref(j);
		return err_set(e, ERR_INVALID, "'%s': not a JSON object", c->config_path);
	}
	json_t *ann = json_object_get(j, "annotations");
	const char *k;
	json_t *v;
	if (json_is_object(ann)) {
		json_object_foreach(ann, k, v)
		{
			if (json_is_string(v))
				ctr_add_label(c, k, json_string_value(v));
		}
	}
	const char *root = json_str(json_object_get(j, "root"), "path");
	if (root && !c->rootfs) {
		if (root[0] == '/') {
			c->rootfs = xstrdup(root);
		} else {
			_cleanup_free_ char *dir = xstrdup(c->config_path);
			char *sl = strrchr(dir, '/');
			if (sl)
				*sl = '\0';
			c->rootfs = xasprintf("%s/%s", c->bundle ? c->bundle : dir, root);
		}
	}
	json_decref(j);
	ctr_k8s_from_labels(c);
	return 0;
}

json_t *ctr_brief_json(const struct ctr *c)
{
	json_t *j = json_object();
	json_object_set_new(j, "id", json_string(c->id));
	json_object_set_new(j, "runtime", json_string(rt_kind_name(c->runtime)));
	if (c->name)
		json_object_set_new(j, "name", json_string(c->name));
	json_object_set_new(j, "pid", json_integer(c->pid));
	return j;
}

json_t *ctr_to_json(const struct ctr *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "runtime", json_string(rt_kind_name(c->runtime)));
	json_object_set_new(o, "id", jstr(c->id));
	json_object_set_new(o, "name", jstr(c->name));
	json_object_set_new(o, "status", jstr(c->status ? c->status : "unknown"));
	json_object_set_new(o, "namespace", jstr(c->namespace));
	json_object_set_new(o, "image", jstr(c->image));
	json_object_set_new(o, "image_digest", jstr(c->image_digest));
	json_object_set_new(o, "pid", json_integer(c->pid));
	json_t *pids = json_array();
	for (size_t i = 0; i < c->npids; i++)
		json_array_append_new(pids, json_integer(c->pids[i]));
	json_object_set_new(o, "pids", pids);
	json_t *cgs = json_array();
	for (size_t i = 0; i < c->ncgroups; i++) {
		json_t *g = json_object();
		json_object_set_new(g, "controllers", jstr(c->cgroups[i].controllers));
		json_object_set_new(g, "path", jstr(c->cgroups[i].path));
		json_object_set_new(g, "fs_path", jstr(c->cgroups[i].fs_path));
		json_array_append_new(cgs, g);
	}
	json_object_set_new(o, "cgroups", cgs);
	json_object_set_new(o, "cgroup_unified", jstr(c->cgroup_unified));
	json_object_set_new(o, "cgroup_freezer", jstr(c->cgroup_freezer));
	if (c->netns_path) {
		json_t *n = json_object();
		json_object_set_new(n, "path", jstr(c->netns_path));
		json_object_set_new(n, "inode", json_integer((json_int_t)c->netns_inode));
		json_object_set_new(n, "host", json_boolean(c->host_netns));
		json_object_set_new(o, "netns", n);
	} else {
		json_object_set_new(o, "netns", json_null());
	}
	json_object_set_new(o, "rootfs", jstr(c->rootfs));
	json_object_set_new(o, "rootfs_fstype", jstr(c->rootfs_fstype));
	if (c->upperdir || c->nlowerdirs) {
		json_t *ov = json_object();
		json_object_set_new(ov, "upperdir", jstr(c->upperdir));
		json_t *low = json_array();
		for (size_t i = 0; i < c->nlowerdirs; i++)
			json_array_append_new(low, jstr(c->lowerdirs[i]));
		json_object_set_new(ov, "lowerdirs", low);
		json_object_set_new(ov, "workdir", jstr(c->workdir));
		json_object_set_new(o, "overlay", ov);
	} else {
		json_object_set_new(o, "overlay", json_null());
	}
	json_object_set_new(o, "bundle", jstr(c->bundle));
	json_object_set_new(o, "config_path", jstr(c->config_path));
	json_object_set_new(o, "state_path", jstr(c->state_path));
	json_object_set_new(o, "state_root", jstr(c->state_root));
	json_object_set_new(o, "log_path", jstr(c->log_path));
	json_object_set_new(o, "created", jstr(c->created));
	json_t *labels = json_object();
	for (size_t i = 0; i < c->nlabels; i++) {
		json_t *v = jstr(c->labels[i].value);
		if (utf8_valid(c->labels[i].key, strlen(c->labels[i].key)))
			json_object_set_new(labels, c->labels[i].key, v);
		else
			json_decref(v); /* a key jansson cannot hold: dropped */
	}
	json_object_set_new(o, "labels", labels);
	if (c->k8s_pod || c->k8s_namespace || c->k8s_container) {
		json_t *k = json_object();
		json_object_set_new(k, "pod", jstr(c->k8s_pod));
		json_object_set_new(k, "namespace", jstr(c->k8s_namespace));
		json_object_set_new(k, "container", jstr(c->k8s_container));
		json_object_set_new(o, "kubernetes", k);
	} else {
		json_object_set_new(o, "kubernetes", json_null());
	}
	return o;
}

/* ---- discovery ---- */

int runtime_scan(const struct rt_roots *roots, struct ctr_list *out, struct err *e)
{
	for (int k = 0; k < RT__COUNT; k++) {
		const struct rt_backend *b = rt_backends[k];
		if (roots && roots->replace[k]) {
			for (size_t i = 0; i < roots->n; i++) {
				if ((int)roots->v[i].kind != k)
					continue;
				struct err be = {0};
				if (b->scan(roots->v[i].dir, out, &be) < 0)
					log_warn("%s: root '%s': %s", rt_kind_name(b->kind),
						 roots->v[i].dir, be.msg);
			}
		} else if (b->default_roots) {
			for (const char *const *r = b->default_roots; *r; r++) {
				struct err be = {0};
				if (b->scan(*r, out, &be) < 0)
					log_warn("%s: root '%s': %s", rt_kind_name(b->kind), *r,
						 be.msg);
			}
		}
		if (out->n > MAX_CONTAINERS)
			return err_set(e, ERR_INVALID, "more than %d containers: refusing to go on",
				       MAX_CONTAINERS);
	}
	return 0;
}

static int rank(enum rt_kind k)
{
	switch (k) {
	case RT_CRIO:
		return 4; /* claims only what carries its annotations */
	case RT_DOCKER:
	case RT_PODMAN:
		return 3;
	case RT_CONTAINERD:
		return 2;
	case RT_RUNC:
		return 1;
	default:
		return 0;
	}
}

static void take(char **dst, char **src)
{
	if (!*dst && *src) {
		*dst = *src;
		*src = NULL;
	}
}

/* fields hi did not know, from lo */
static void ctr_merge(struct ctr *hi, struct ctr *lo)
{
	take(&hi->name, &lo->name);
	if (!hi->status || strcmp(hi->status, "unknown") == 0) {
		free(hi->status);
		hi->status = lo->status;
		lo->status = NULL;
	}
	take(&hi->namespace, &lo->namespace);
	take(&hi->image, &lo->image);
	take(&hi->image_digest, &lo->image_digest);
	if (hi->pid <= 0 && lo->pid > 0)
		hi->pid = lo->pid;
	take(&hi->rootfs, &lo->rootfs);
	take(&hi->bundle, &lo->bundle);
	take(&hi->config_path, &lo->config_path);
	take(&hi->state_path, &lo->state_path);
	take(&hi->state_root, &lo->state_root);
	take(&hi->log_path, &lo->log_path);
	take(&hi->created, &lo->created);
	take(&hi->k8s_pod, &lo->k8s_pod);
	take(&hi->k8s_namespace, &lo->k8s_namespace);
	take(&hi->k8s_container, &lo->k8s_container);
	for (size_t i = 0; i < lo->nlabels; i++)
		if (!ctr_label(hi, lo->labels[i].key))
			ctr_add_label(hi, lo->labels[i].key, lo->labels[i].value);
}

void ctr_list_dedup(struct ctr_list *l)
{
	size_t w = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct ctr *c = l->v[i];
		size_t j;
		for (j = 0; j < w; j++)
			if (c->id && l->v[j]->id && strcmp(c->id, l->v[j]->id) == 0)
				break;
		if (j == w) {
			l->v[w++] = c;
			continue;
		}
		struct ctr *have = l->v[j];
		if (rank(c->runtime) > rank(have->runtime)) {
			ctr_merge(c, have);
			ctr_free(have);
			l->v[j] = c;
		} else {
			ctr_merge(have, c);
			ctr_free(c);
		}
	}
	l->n = w;
}

static bool pid_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static void fill_one(struct ctr *c, const struct proc_host_view *hv)
{
	if (c->pid <= 0)
		return;
	if (!pid_alive(c->pid)) {
		log_warn("%s container '%s': pid %d no longer exists", rt_kind_name(c->runtime),
			 c->id, (int)c->pid);
		c->pid = 0;
		ctr_set(&c->status, "stopped");
		return;
	}
	struct err fe = {0};
	if ((hv ? ctr_fill_from_proc_host(c, hv, &fe) : ctr_fill_from_proc(c, &fe)) < 0)
		log_warn("%s container '%s': %s", rt_kind_name(c->runtime), c->id, fe.msg);
}

int runtime_list(const struct rt_roots *roots, struct ctr_list *out, struct err *e)
{
	if (runtime_scan(roots, out, e) < 0)
		return -1;
	ctr_list_dedup(out);
	/* the host's view (mountinfo, cgroups) only when a container runs */
	bool running = false;
	for (size_t i = 0; i < out->n && !running; i++)
		running = out->v[i]->pid > 0;
	if (!running)
		return 0;
	struct proc_host_view hv = {0};
	proc_host_view_read(&hv);
	for (size_t i = 0; i < out->n; i++)
		fill_one(out->v[i], &hv);
	proc_host_view_free(&hv);
	return 0;
}

/* ---- resolution ---- */

static void describe(struct sbuf *b, const struct ctr *c)
{
	sbuf_printf(b, "\n  %s (%s", c->id, rt_kind_name(c->runtime));
	if (c->name && strcmp(c->name, c->id) != 0)
		sbuf_printf(b, ", name '%s'", c->name);
	sbuf_adds(b, ")");
}

static struct ctr *take_at(struct ctr_list *l, size_t i)
{
	struct ctr *c = l->v[i];
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
	return c;
}

static int ambiguous(struct ctr_list *l, const char *ref, const char *what, const size_t *hits,
		     size_t nhits, struct err *e)
{
	struct sbuf b = SBUF_INIT;
	for (size_t i = 0; i < nhits && i < 20; i++)
		describe(&b, l->v[hits[i]]);
	if (nhits > 20)
		sbuf_printf(&b, "\n  ... and %zu more", nhits - 20);
	err_set(e, ERR_AMBIG, "ambiguous reference '%s': %zu containers match by %s:%s", ref, nhits,
		what, b.buf ? b.buf : "");
	sbuf_free(&b);
	return -1;
}

int runtime_match(struct ctr_list *l, const char *ref, struct ctr **out, struct err *e)
{
	if (!ref || !*ref)
		return err_set(e, ERR_INVALID, "empty container reference");
	_cleanup_free_ size_t *hits = xcalloc(l->n + 1, sizeof(size_t));
	size_t n = 0;
	/* exact id, then exact name, then unique id prefix */
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i]->id && strcmp(l->v[i]->id, ref) == 0)
			hits[n++] = i;
	if (n == 1) {
		*out = take_at(l, hits[0]);
		return 0;
	}
	n = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i]->name && strcmp(l->v[i]->name, ref) == 0)
			hits[n++] = i;
	if (n == 1) {
		*out = take_at(l, hits[0]);
		return 0;
	}
	if (n > 1)
		return ambiguous(l, ref, "name", hits, n, e);
	n = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i]->id && str_has_prefix(l->v[i]->id, ref))
			hits[n++] = i;
	if (n == 1) {
		*out = take_at(l, hits[0]);
		return 0;
	}
	if (n > 1)
		return ambiguous(l, ref, "id prefix", hits, n, e);
	return err_set(e, ERR_NOTFOUND, "no container matches '%s'", ref);
}

/* the lines of /proc/PID/cgroup as (hierarchy controllers, path) */
static char *read_small(const char *path, size_t max, struct err *e)
{
	char *buf = NULL;
	size_t len;
	if (read_file_at(AT_FDCWD, path, max, &buf, &len, NULL, e) < 0)
		return NULL;
	return buf;
}

static bool path_under(const char *p, const char *base)
{
	size_t n = strlen(base);
	if (strcmp(base, "/") == 0 || n == 0)
		return false;
	return strncmp(p, base, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* Is g one of the hierarchies that decide whether a process is in c? The
 * container's own cgroup2 dir when it has one, else its own v1 freezer,
 * else any hierarchy mapped here. A hierarchy where it only shares a
 * parent's cgroup says nothing: on a cgroup2 host whose kernel still has
 * v1 hierarchies (unmounted), every container sits in the v1 cgroup its
 * runtime was started from, and every process of that cgroup would match
 * the first container listed. */
static bool cgroup_decides(const struct ctr *c, const struct ctr_cgroup *g)
{
	if (!g->path || strcmp(g->path, "/") == 0)
		return false;
	if (c->cgroup_unified)
		return g->fs_path && strcmp(g->fs_path, c->cgroup_unified) == 0 && g->controllers &&
		       !*g->controllers;
	if (c->cgroup_freezer)
		return g->fs_path && strcmp(g->fs_path, c->cgroup_freezer) == 0;
	return g->fs_path != NULL;
}

bool ctr_cgroup_holds(const struct ctr *c, const char *proc_cgroup)
{
	for (size_t i = 0; i < c->ncgroups; i++) {
		const struct ctr_cgroup *g = &c->cgroups[i];
		if (!cgroup_decides(c, g))
			continue;
		const char *line = proc_cgroup;
		while (line && *line) {
			const char *nl = strchr(line, '\n');
			size_t ll = nl ? (size_t)(nl - line) : strlen(line);
			_cleanup_free_ char *l = xstrndup(line, ll);
			char *c1 = strchr(l, ':');
			char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
			if (c2) {
				*c2 = '\0';
				if (strcmp(c1 + 1, g->controllers ? g->controllers : "") == 0 &&
				    path_under(c2 + 1, g->path))
					return true;
			}
			line = nl ? nl + 1 : NULL;
		}
	}
	return false;
}

static int ns_inode(pid_t pid, const char *ns, unsigned long long *ino)
{
	char p[64];
	struct stat st;
	snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns);
	if (stat(p, &st) < 0)
		return -1;
	*ino = (unsigned long long)st.st_ino;
	return 0;
}

static int resolve_pid(struct ctr_list *l, pid_t pid, struct ctr **out, bool *filled,
		       struct err *e)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
	_cleanup_free_ char *cg = read_small(p, 1 << 16, e);
	if (!cg)
		return err_wrap(e, "pid %d", (int)pid);
	_cleanup_free_ char *cid = proc_container_id_of_pid(pid, NULL);
	unsigned long long host_pidns = 0, self_pidns = 0, pidns = 0;
	ns_inode(1, "pid", &host_pidns); /* may be refused (a protected init) */
	ns_inode(getpid(), "pid", &self_pidns);
	ns_inode(pid, "pid", &pidns);
	bool own_pidns = pidns && pidns != host_pidns && pidns != self_pidns;
	struct proc_host_view hv = {0};
	proc_host_view_read(&hv); /* once for all the candidates */
	int rc = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct ctr *c = l->v[i];
		if (cid && c->id && strcmp(c->id, cid) == 0)
			goto found;
		if (c->pid <= 0)
			continue;
		if (c->pid == pid)
			goto found;
		fill_one(c, &hv);
		if (c->pid <= 0)
			continue;
		*filled = true;
		if (ctr_cgroup_holds(c, cg))
			goto found;
		unsigned long long cns = 0;
		if (own_pidns && ns_inode(c->pid, "pid", &cns) == 0 && cns == pidns)
			goto found;
		*filled = false;
		continue;
	found:
		*out = take_at(l, i);
		rc = 1;
		break;
	}
	proc_host_view_free(&hv);
	if (rc)
		return 0;
	str_rstrip(cg);
	if (cid)
		return err_set(e, ERR_NOTFOUND,
			       "pid %d is in container '%s' by its cgroup, but no runtime state "
			       "lists that container (try --root RUNTIME=DIR)",
			       (int)pid, cid);
	/* first line is enough to show where it is */
	char *nl = strchr(cg, '\n');
	if (nl)
		*nl = '\0';
	return err_set(e, ERR_NOTFOUND, "pid %d is not in any container (cgroup '%s')", (int)pid,
		       cg);
}

int runtime_resolve(const struct rt_roots *roots, const char *ref, struct ctr **out, struct err *e)
{
	struct ctr_list l = {0};
	*out = NULL;
	if (runtime_scan(roots, &l, e) < 0) {
		ctr_list_free(&l);
		return err_wrap(e, "resolve '%s'", ref);
	}
	ctr_list_dedup(&l);
	int r;
	pid_t pid;
	char proc[64];
	struct stat st;
	/* a number that is a live pid is taken as a host pid, unless it is
	 * also exactly a container's id or name */
	bool exact = false, filled = false;
	for (size_t i = 0; i < l.n; i++)
		if ((l.v[i]->id && strcmp(l.v[i]->id, ref) == 0) ||
		    (l.v[i]->name && strcmp(l.v[i]->name, ref) == 0))
			exact = true;
	if (!exact && parse_pid(ref, &pid) == 0 &&
	    (snprintf(proc, sizeof(proc), "/proc/%d", (int)pid), stat(proc, &st) == 0)) {
		r = resolve_pid(&l, pid, out, &filled, e);
		/* digits are hex too: a pid outside containers may still be an
		 * id prefix the user meant */
		struct err me = {0};
		if (r < 0 && e->kind == ERR_NOTFOUND && runtime_match(&l, ref, out, &me) == 0)
			r = 0;
	} else {
		r = runtime_match(&l, ref, out, e);
	}
	ctr_list_free(&l);
	if (r < 0)
		return -1;
	if (!filled) /* resolve_pid filled the one it found by its cgroup */
		fill_one(*out, NULL);
	return 0;
}

bool rt_is_dir_at(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

bool rt_is_reg(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool rt_hex_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128)
		return false;
	for (const char *p = s; *p; p++)
		if (hex_digit(*p) < 0)
			return false;
	return true;
}

void rt_each_id_dir(const char *who, const char *dir,
		    void (*fn)(const char *dir, const char *id, void *ctx), void *ctx)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	size_t seen = 0;
	while ((de = readdir(d))) {
		if (!rt_hex_id(de->d_name) || !rt_is_dir_at(dirfd(d), de->d_name))
			continue;
		if (++seen > RT_MAX_IDS) {
			log_warn("%s: '%s': more than %d containers, the rest skipped", who, dir,
				 RT_MAX_IDS);
			break;
		}
		fn(dir, de->d_name, ctx);
	}
}
