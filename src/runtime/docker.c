/* docker.c: Docker (moby) containers.
 *
 * What it reads, for a root DIR (defaults /var/lib/docker and /run/docker):
 *   data root layout, DIR/containers/ID/:
 *     config.v2.json  ID, Name (the leading "/" stripped), Config.Image (the
 *                     reference), Image (the image's sha256 id), Created,
 *                     State.{Running,Paused,Restarting,Dead,Pid,StartedAt},
 *                     LogPath, Config.Labels
 *     hostconfig.json LogConfig.Type (the "local" driver keeps its log in
 *                     local-logs/container.log, not at LogPath)
 *   exec root layout, DIR/containerd/daemon/io.containerd.runtime.v2.task/moby/
 *     the tasks of Docker's own containerd, read by the containerd backend
 *     and claimed as Docker's (id, pid, bundle, OCI config); merged with the
 *     data root's entry of the same id by the core.
 * The OCI config and bundle are not in the data root: the containerd/runc
 * entries of the same container give them when their roots are scanned (the
 * core merges them into this one, Docker winning).
 * Missing files: skipped silently. Bad JSON, an id that is not the
 * directory's, a running container whose pid is gone or belongs to another
 * container: log_warn naming the file, that container skipped. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define CONFIG_MAX (16u << 20)
#define HOSTCONFIG_MAX (4u << 20)

static const char *const docker_roots[] = {
	"/var/lib/docker",
	"/run/docker",
	NULL,
};

static bool zero_time(const char *t)
{
	return !t || !*t || str_has_prefix(t, "0001-01-01");
}

/* json_load_file_bounded, but a missing file is *missing = true, no error */
static json_t *load_json(const char *path, size_t max, bool *missing, struct err *e)
{
	struct stat st;
	*missing = false;
	if (lstat(path, &st) < 0 && errno == ENOENT) {
		*missing = true;
		return NULL;
	}
	json_t *j = json_load_file_bounded(path, max, e);
	if (j && !json_is_object(j)) {
		json_decref(j);
		err_set(e, ERR_INVALID, "'%s': not a JSON object", path);
		return NULL;
	}
	return j;
}

/* config.v2.json (j) and hostconfig.json into c; -1: warned, skip it */
static int fill_container(struct ctr *c, json_t *j, const char *dir, const char *cfg,
			  const char *id)
{
	struct err e = {0};
	bool missing;
	const char *jid = json_str(j, "ID");
	if (jid && strcmp(jid, id) != 0) {
		log_warn("docker: '%s': id '%s' is not the directory's", cfg, jid);
		return -1;
	}
	c->id = xstrdup(id);
	c->state_path = xstrdup(cfg);

	const char *name = json_str(j, "Name");
	if (name && *name)
		c->name = xstrdup(name[0] == '/' ? name + 1 : name);
	json_t *config = json_object_get(j, "Config");
	const char *image = json_str(config, "Image");
	if (image && *image)
		c->image = xstrdup(image);
	const char *digest = json_str(j, "Image");
	if (digest && *digest)
		c->image_digest = xstrdup(digest);
	const char *created = json_str(j, "Created");
	if (created && !zero_time(created))
		c->created = xstrdup(created);
	const char *logp = json_str(j, "LogPath");
	if (logp && *logp)
		c->log_path = xstrdup(logp);

	json_t *labels = json_object_get(config, "Labels");
	if (json_is_object(labels)) {
		const char *k;
		json_t *v;
		json_object_foreach(labels, k, v)
		{
			if (json_is_string(v))
				ctr_add_label(c, k, json_string_value(v));
		}
	}
	ctr_k8s_from_labels(c);

	/* the state */
	json_t *st = json_object_get(j, "State");
	if (!json_is_object(st)) {
		log_warn("docker: '%s': no State", cfg);
		return -1;
	}
	bool running = json_is_true(json_object_get(st, "Running"));
	bool paused = json_is_true(json_object_get(st, "Paused"));
	json_t *jp = json_object_get(st, "Pid");
	json_int_t pid = json_is_integer(jp) ? json_integer_value(jp) : 0;
	if (running) {
		if (pid <= 0 || pid > INT_MAX) {
			log_warn("docker: '%s': running without a valid pid", cfg);
			return -1;
		}
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			log_warn("docker: '%s': pid %d no longer exists", cfg, (int)pid);
			return -1;
		}
		/* a reused pid: its cgroup names another container */
		_cleanup_free_ char *owner = proc_container_id_of_pid((pid_t)pid, NULL);
		if (owner && strlen(id) == 64 && strcmp(owner, id) != 0) {
			log_warn("docker: '%s': pid %d belongs to container '%.12s'", cfg, (int)pid,
				 owner);
			return -1;
		}
		c->pid = (pid_t)pid;
		c->status = xstrdup(paused ? "paused" : "running");
	} else {
		c->status = xstrdup(zero_time(json_str(st, "StartedAt")) ? "created" : "stopped");
	}

	/* hostconfig.json: where a log driver other than json-file writes */
	_cleanup_free_ char *hc = xasprintf("%s/hostconfig.json", dir);
	json_t *h = load_json(hc, HOSTCONFIG_MAX, &missing, &e);
	if (!h && !missing) {
		log_warn("docker: %s", e.msg);
		return -1;
	}
	if (h) {
		const char *driver = json_str(json_object_get(h, "LogConfig"), "Type");
		if (driver && strcmp(driver, "local") == 0) {
			_cleanup_free_ char *lp = xasprintf("%s/local-logs/container.log", dir);
			if (rt_is_reg(lp)) {
				free(c->log_path);
				c->log_path = steal_pointer(&lp);
			}
		}
		json_decref(h);
	}
	return 0;
}

static void scan_container(const char *root, const char *cdir, const char *id,
			   struct ctr_list *out)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s", cdir, id);
	_cleanup_free_ char *cfg = xasprintf("%s/config.v2.json", dir);
	struct err e = {0};
	bool missing;
	json_t *j = load_json(cfg, CONFIG_MAX, &missing, &e);
	if (!j) {
		if (!missing)
			log_warn("docker: %s", e.msg);
		return;
	}
	_cleanup_ctr_ struct ctr *c = ctr_new(RT_DOCKER);
	c->state_root = xstrdup(root);
	int r = fill_container(c, j, dir, cfg, id);
	json_decref(j);
	if (r == 0)
		ctr_list_add(out, steal_pointer(&c));
}

struct scan_ctx {
	const char *root;
	struct ctr_list *out;
};

static void scan_one(const char *cdir, const char *id, void *ctx)
{
	struct scan_ctx *sc = ctx;
	scan_container(sc->root, cdir, id, sc->out);
}

static void scan_data_root(const char *root, struct ctr_list *out)
{
	_cleanup_free_ char *cdir = xasprintf("%s/containers", root);
	struct scan_ctx sc = {root, out};
	rt_each_id_dir("docker", cdir, scan_one, &sc);
}

/* Docker's exec root: its containerd's tasks in namespace "moby" are Docker's */
static void scan_exec_root(const char *root, struct ctr_list *out)
{
	_cleanup_free_ char *tasks =
		xasprintf("%s/containerd/daemon/io.containerd.runtime.v2.task/moby", root);
	struct stat st;
	if (stat(tasks, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	_cleanup_free_ char *croot = xasprintf("%s/containerd/daemon", root);
	struct ctr_list l = {0};
	struct err e = {0};
	if (rt_backend_containerd.scan(croot, &l, &e) < 0)
		log_warn("docker: '%s': %s", croot, e.msg);
	for (size_t i = 0; i < l.n; i++) {
		struct ctr *c = l.v[i];
		if (!c->namespace || strcmp(c->namespace, "moby") != 0) {
			ctr_free(c);
			continue;
		}
		c->runtime = RT_DOCKER;
		ctr_set(&c->namespace, NULL);
		ctr_set(&c->name, NULL); /* containerd's is the id; the data root has the name */
		ctr_set(&c->state_root, root);
		ctr_list_add(out, c);
	}
	free(l.v);
}

static int docker_scan(const char *root, struct ctr_list *out, struct err *e)
{
	(void)e;
	scan_data_root(root, out);
	scan_exec_root(root, out);
	return 0;
}

const struct rt_backend rt_backend_docker = {
	.kind = RT_DOCKER,
	.default_roots = docker_roots,
	.scan = docker_scan,
};
