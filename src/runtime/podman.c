/* podman.c: podman's containers, from containers/storage and the OCI specs
 * libpod writes there (libpod's own bolt DB is not parsed).
 *
 * What it reads, for a root DIR (defaults: the graph root
 * /var/lib/containers/storage and the run root /run/containers/storage);
 * DRIVER is each "<driver>-containers" directory (overlay, vfs, btrfs...):
 *   graph root layout:
 *     DIR/DRIVER-containers/containers.json   one entry per container: id,
 *         names[0] (the name), image (the image id), created, metadata (a
 *         JSON string: image-name, name; CRI-O's carries pod-name/pod-id)
 *     DIR/DRIVER-containers/ID/userdata/config.json   the OCI spec: annotations
 *         (io.podman.annotations.*, org.opencontainers.image.*), root.path,
 *         and the bind mounts whose sources name the run root's userdata
 *         (/run/.containerenv, /etc/hostname), where the pidfile is
 *     DIR/DRIVER-containers/ID/userdata/ctr.log   the k8s-file log
 *   run root layout:
 *     DIR/DRIVER-containers/ID/userdata/pidfile   the init pid (conmon -p)
 *     (no containers.json there: each such dir becomes an entry with its id
 *     and pid, merged by the core with the graph root's one)
 * Containers whose config.json has CRI-O's annotations (io.kubernetes.cri-o.*
 * beyond the Created/TTY that podman itself writes, or io.container.manager
 * other than libpod), or whose storage metadata names a pod id, are CRI-O's:
 * skipped here (crio.c claims them).
 * Status: running while the pidfile's pid lives; podman leaves the pidfile of
 * a stopped container behind, so a dead pid there means "stopped" (pid 0),
 * not corrupt state; no pidfile: "stopped" once config.json is there (written
 * at the first start), else "created".
 * Missing files: skipped silently. Bad JSON, truncated files, a pidfile that
 * is not a pid: log_warn naming the file, that container (or, for a bad
 * containers.json, that file's containers) skipped. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define CONTAINERS_JSON_MAX (64u << 20)
#define METADATA_MAX (1u << 20)
#define PID_MAX_BYTES 64
#define MAX_ENTRIES 100000

static const char *const podman_roots[] = {
	"/var/lib/containers/storage",
	"/run/containers/storage",
	NULL,
};

/* CRI-O's container, by its annotations (podman writes io.kubernetes.cri-o.
 * Created and .TTY too, and io.container.manager=libpod) */
static bool is_crio(const struct ctr *c)
{
	const char *mgr = ctr_label(c, "io.container.manager");
	if (mgr)
		return strcmp(mgr, "libpod") != 0;
	for (size_t i = 0; i < c->nlabels; i++) {
		const char *k = c->labels[i].key;
		if (str_has_prefix(k, "io.kubernetes.cri-o.") &&
		    strcmp(k, "io.kubernetes.cri-o.Created") != 0 &&
		    strcmp(k, "io.kubernetes.cri-o.TTY") != 0)
			return true;
	}
	return false;
}

/* the pidfile: *pid 0 and *present false when there is none; a dead pid
 * gives *pid 0, *present true. -1 when it is not a pid. */
static int read_pidfile(const char *path, pid_t *pid, bool *present, struct err *e)
{
	struct stat st;
	*pid = 0;
	*present = false;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : err_sys(e, errno, "stat '%s'", path);
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "'%s' is not a regular file", path);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	bool trunc;
	if (read_file_at(AT_FDCWD, path, PID_MAX_BYTES, &buf, &len, &trunc, e) < 0)
		return -1;
	*present = true;
	str_rstrip(buf);
	if (len == 0)
		return 0; /* written empty at create, before the start */
	pid_t p;
	if (trunc || parse_pid(buf, &p) < 0)
		return err_set(e, ERR_INVALID, "'%s': not a pid", path);
	if (kill(p, 0) < 0 && errno == ESRCH)
		return 0;
	*pid = p;
	return 0;
}

/* pidfile → c->pid, c->status, c->state_path. -1: warned, skip it */
static int apply_pidfile(struct ctr *c, const char *userdata)
{
	_cleanup_free_ char *pf = xasprintf("%s/pidfile", userdata);
	pid_t pid;
	bool present;
	struct err e = {0};
	if (read_pidfile(pf, &pid, &present, &e) < 0) {
		log_warn("podman: %s", e.msg);
		return -1;
	}
	if (pid > 0) {
		_cleanup_free_ char *owner = proc_container_id_of_pid(pid, NULL);
		if (owner && strcmp(owner, c->id) != 0)
			pid = 0; /* reused by another container's process: this one is gone */
	}
	if (present) {
		ctr_set(&c->state_path, pf);
		ctr_set(&c->status, pid > 0 ? "running" : "stopped");
		c->pid = pid;
	}
	return 0;
}

/* the run root's userdata dir, from the bind mount sources of config.json */
static char *runroot_userdata(const char *config_path, const char *id)
{
	json_t *j = json_load_file_bounded(config_path, 8u << 20, NULL);
	if (!j)
		return NULL;
	char *found = NULL;
	json_t *mounts = json_object_get(j, "mounts");
	size_t i;
	json_t *m;
	json_array_foreach(mounts, i, m)
	{
		const char *dst = json_str(m, "destination");
		const char *src = json_str(m, "source");
		if (!dst || !src || src[0] != '/' || strlen(src) >= PATH_MAX)
			continue;
		const char *leaf = NULL;
		if (strcmp(dst, "/run/.containerenv") == 0)
			leaf = "/.containerenv";
		else if (strcmp(dst, "/etc/hostname") == 0)
			leaf = "/hostname";
		if (!leaf || !str_has_suffix(src, leaf))
			continue;
		size_t n = strlen(src) - strlen(leaf);
		_cleanup_free_ char *ud = xstrndup(src, n);
		/* .../<DRIVER>-containers/<id>/userdata */
		_cleanup_free_ char *want = xasprintf("/%s/userdata", id);
		if (!str_has_suffix(ud, want))
			continue;
		found = steal_pointer(&ud);
		break;
	}
	json_decref(j);
	return found;
}

static void add_from_storage(const char *root, const char *cdir, const char *cjson,
			     json_t *ent, struct ctr_list *out)
{
	const char *id = json_str(ent, "id");
	if (!id || !rt_hex_id(id)) {
		log_warn("podman: '%s': an entry without a valid id", cjson);
		return;
	}
	_cleanup_ctr_ struct ctr *c = ctr_new(RT_PODMAN);
	c->id = xstrdup(id);
	c->state_root = xstrdup(root);
	c->state_path = xstrdup(cjson);

	json_t *names = json_object_get(ent, "names");
	if (json_is_array(names) && json_is_string(json_array_get(names, 0)))
		c->name = xstrdup(json_string_value(json_array_get(names, 0)));
	const char *img = json_str(ent, "image");
	if (img && rt_hex_id(img) && strlen(img) == 64)
		c->image_digest = xasprintf("sha256:%s", img);
	const char *created = json_str(ent, "created");
	if (created && *created)
		c->created = xstrdup(created);

	const char *md = json_str(ent, "metadata");
	if (md && strlen(md) < METADATA_MAX) {
		json_t *m = json_loads(md, JSON_REJECT_DUPLICATES, NULL);
		if (json_is_object(m)) {
			if (json_object_get(m, "pod-id") || json_object_get(m, "pod-name")) {
				json_decref(m);
				return; /* CRI-O's */
			}
			const char *iname = json_str(m, "image-name");
			if (iname && *iname)
				c->image = xstrdup(iname);
			const char *n = json_str(m, "name");
			if (!c->name && n && *n)
				c->name = xstrdup(n);
		}
		json_decref(m);
	}

	_cleanup_free_ char *ud = xasprintf("%s/%s/userdata", cdir, id);
	_cleanup_free_ char *cfg = xasprintf("%s/config.json", ud);
	if (rt_is_reg(cfg)) {
		c->config_path = xstrdup(cfg);
		c->bundle = xstrdup(ud);
		struct err e = {0};
		if (ctr_read_oci_config(c, &e) < 0) {
			log_warn("podman: %s", e.msg);
			return;
		}
		if (is_crio(c))
			return;
		_cleanup_free_ char *run = runroot_userdata(cfg, id);
		if (run && apply_pidfile(c, run) < 0)
			return;
	}
	/* a graph root that is also the run root (or holds the pidfile) */
	if (c->pid <= 0 && apply_pidfile(c, ud) < 0)
		return;
	/* no pidfile: libpod writes config.json at the first start */
	if (!c->status)
		c->status = xstrdup(c->config_path ? "stopped" : "created");
	if (!c->image && c->image_digest)
		c->image = xstrdup(c->image_digest + strlen("sha256:"));
	_cleanup_free_ char *logp = xasprintf("%s/ctr.log", ud);
	if (rt_is_reg(logp))
		c->log_path = steal_pointer(&logp);
	ctr_list_add(out, steal_pointer(&c));
}

/* graph root: containers.json */
static void scan_graph(const char *root, const char *cdir, const char *cjson,
		       struct ctr_list *out)
{
	struct err e = {0};
	json_t *j = json_load_file_bounded(cjson, CONTAINERS_JSON_MAX, &e);
	if (!j) {
		log_warn("podman: %s", e.msg);
		return;
	}
	if (!json_is_array(j)) {
		log_warn("podman: '%s': not a JSON array", cjson);
		json_decref(j);
		return;
	}
	size_t i;
	json_t *ent;
	json_array_foreach(j, i, ent)
	{
		if (i >= MAX_ENTRIES) {
			log_warn("podman: '%s': more than %d containers, the rest skipped", cjson,
				 MAX_ENTRIES);
			break;
		}
		if (!json_is_object(ent)) {
			log_warn("podman: '%s': entry %zu is not an object", cjson, i);
			continue;
		}
		add_from_storage(root, cdir, cjson, ent, out);
	}
	json_decref(j);
}

struct run_ctx {
	const char *root;
	struct ctr_list *out;
};

/* one run-root entry: a container when its userdata holds a pidfile */
static void scan_run_one(const char *cdir, const char *id, void *ctx)
{
	struct run_ctx *rc = ctx;
	_cleanup_free_ char *ud = xasprintf("%s/%s/userdata", cdir, id);
	_cleanup_free_ char *pf = xasprintf("%s/pidfile", ud);
	if (!rt_is_reg(pf))
		return;
	_cleanup_ctr_ struct ctr *c = ctr_new(RT_PODMAN);
	c->id = xstrdup(id);
	c->state_root = xstrdup(rc->root);
	/* CRI-O keeps its bundle (config.json) in the run root's userdata */
	_cleanup_free_ char *cfg = xasprintf("%s/config.json", ud);
	if (rt_is_reg(cfg)) {
		c->config_path = xstrdup(cfg);
		struct err e = {0};
		if (ctr_read_oci_config(c, &e) < 0) {
			log_warn("podman: %s", e.msg);
			return;
		}
		if (is_crio(c))
			return;
		c->bundle = xstrdup(ud);
	}
	if (apply_pidfile(c, ud) < 0)
		return;
	ctr_list_add(rc->out, steal_pointer(&c));
}

/* run root: one entry per userdata dir that holds a pidfile */
static void scan_run(const char *root, const char *cdir, struct ctr_list *out)
{
	struct run_ctx rc = {root, out};
	rt_each_id_dir("podman", cdir, scan_run_one, &rc);
}

static int podman_scan(const char *root, struct ctr_list *out, struct err *e)
{
	(void)e;
	_cleanup_closedir_ DIR *d = opendir(root);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!str_has_suffix(de->d_name, "-containers") || de->d_name[0] == '.' ||
		    !rt_is_dir_at(dirfd(d), de->d_name))
			continue;
		_cleanup_free_ char *cdir = xasprintf("%s/%s", root, de->d_name);
		_cleanup_free_ char *cjson = xasprintf("%s/containers.json", cdir);
		struct stat st;
		if (lstat(cjson, &st) == 0)
			scan_graph(root, cdir, cjson, out);
		else
			scan_run(root, cdir, out);
	}
	return 0;
}

const struct rt_backend rt_backend_podman = {
	.kind = RT_PODMAN,
	.default_roots = podman_roots,
	.scan = podman_scan,
};
