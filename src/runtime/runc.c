/* runc.c: runc's own state: <root>/<id>/state.json. A root may also hold
 * one directory per namespace (containerd's /run/containerd/runc/<ns>/,
 * Docker's /run/docker/runtime-runc/moby/): those are scanned one level
 * deeper, and the directory name becomes the container's namespace. */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define STATE_MAX   (4u << 20)
#define MAX_ENTRIES 100000

static const char *const runc_roots[] = {
    "/run/runc",		/* runc itself, podman and CRI-O as root */
    "/run/containerd/runc",	/* containerd's shims: one dir per namespace */
    "/run/docker/runtime-runc", /* Docker 20.10 (namespace "moby") */
    NULL,
};

static bool exists_at(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* a state file that is a symlink (a mounted node image pointing out of
 * itself) or a FIFO is not followed */
static bool regular_at(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* "1234" or 1234 */
static int json_ull(json_t *v, unsigned long long *out)
{
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return -1;
		*out = (unsigned long long)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v))
		return parse_ull(json_string_value(v), ULLONG_MAX, out);
	return -1;
}

int frz_parse_events(const char *buf, int *frozen, int *populated)
{
	*frozen = -1;
	if (populated)
		*populated = -1;
	const char *p = buf;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		if (l == 8 && strncmp(p, "frozen 0", 8) == 0)
			*frozen = 0;
		else if (l == 8 && strncmp(p, "frozen 1", 8) == 0)
			*frozen = 1;
		else if (populated && l == 11 && strncmp(p, "populated 0", 11) == 0)
			*populated = 0;
		else if (populated && l == 11 && strncmp(p, "populated 1", 11) == 0)
			*populated = 1;
		p = nl ? nl + 1 : NULL;
	}
	return *frozen < 0 ? -1 : 0;
}

int frz_parse_v1_state(const char *buf, int *state)
{
	size_t l = strcspn(buf, "\n");
	if (l == 6 && strncmp(buf, "THAWED", 6) == 0)
		*state = 0;
	else if (l == 8 && strncmp(buf, "FREEZING", 8) == 0)
		*state = 1;
	else if (l == 6 && strncmp(buf, "FROZEN", 6) == 0)
		*state = 2;
	else
		return -1;
	return 0;
}

/* The freezers of its cgroup_paths, each file read once: FROZEN or
 * FREEZING in the v1 freezer, or "frozen 1" in the v2 cgroup.events. What
 * was read stays in c (frz_*) for the quarantine column of the same list. */
static bool cgroup_frozen(struct ctr *c, json_t *cgpaths)
{
	const char *fz = json_str(cgpaths, "freezer");
	const char *uni = json_str(cgpaths, "");
	char p[PATH_MAX];
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int st;
	if (fz && snprintf(p, sizeof(p), "%s/freezer.state", fz) < (int)sizeof(p) &&
	    read_file_at(AT_FDCWD, p, 64, &buf, &len, NULL, NULL) == 0 &&
	    frz_parse_v1_state(buf, &st) == 0) {
		ctr_set(&c->frz_v1_dir, fz);
		c->frz_v1_state = st;
	}
	free(buf);
	buf = NULL;
	if (uni && snprintf(p, sizeof(p), "%s/cgroup.events", uni) < (int)sizeof(p) &&
	    read_file_at(AT_FDCWD, p, 4096, &buf, &len, NULL, NULL) == 0 &&
	    frz_parse_events(buf, &st, NULL) == 0) {
		ctr_set(&c->frz_v2_dir, uni);
		c->frz_v2_frozen = st;
	}
	return c->frz_v1_state >= 1 || c->frz_v2_frozen == 1;
}

static void read_container(const char *root, const char *dir, const char *name, const char *ns,
			   struct ctr_list *out)
{
	_cleanup_free_ char *path = xasprintf("%s/%s/state.json", dir, name);
	struct err e = {0};
	json_t *j = json_load_file_bounded(path, STATE_MAX, &e);
	if (!j) {
		log_warn("runc: %s", e.msg);
		return;
	}
	if (!json_is_object(j)) {
		log_warn("runc: '%s': not a JSON object", path);
		json_decref(j);
		return;
	}
	const char *id = json_str(j, "id");
	if (!id || !*id) {
		log_warn("runc: '%s': no container id", path);
		json_decref(j);
		return;
	}
	if (strcmp(id, name) != 0)
		log_warn("runc: '%s': id '%s' is not its directory's name, using '%s'", path, id,
			 name);

	struct ctr *c = ctr_new(RT_RUNC);
	c->id = xstrdup(name);
	c->name = xstrdup(name);
	if (ns)
		c->namespace = xstrdup(ns);
	c->state_path = xstrdup(path);
	c->state_root = xstrdup(root);
	const char *created = json_str(j, "created");
	if (created)
		c->created = xstrdup(created);

	json_t *cfg = json_object_get(j, "config");
	const char *rootfs = json_str(cfg, "rootfs");
	if (rootfs)
		c->rootfs = xstrdup(rootfs);
	json_t *labels = json_object_get(cfg, "labels");
	size_t i;
	json_t *v;
	json_array_foreach(labels, i, v)
	{
		const char *s = json_string_value(v);
		if (!s)
			continue;
		const char *eq = strchr(s, '=');
		if (!eq)
			continue;
		_cleanup_free_ char *k = xstrndup(s, (size_t)(eq - s));
		if (strcmp(k, "bundle") == 0) {
			ctr_set(&c->bundle, eq + 1);
			continue;
		}
		ctr_add_label(c, k, eq + 1);
	}
	if (c->bundle)
		c->config_path = xasprintf("%s/config.json", c->bundle);
	ctr_k8s_from_labels(c);
	const char *img = ctr_label(c, "io.kubernetes.cri.image-name");
	if (img)
		c->image = xstrdup(img);

	/* the init: alive, and the same process (a pid can be recycled) */
	json_t *jpid = json_object_get(j, "init_process_pid");
	unsigned long long start = 0, now = 0;
	bool have_start = json_ull(json_object_get(j, "init_process_start"), &start) == 0;
	json_int_t pid = json_is_integer(jpid) ? json_integer_value(jpid) : -1;
	if (pid < 0 || pid > INT_MAX) {
		log_warn("runc: '%s': bad init_process_pid", path);
		pid = 0;
	}
	const char *status = "stopped";
	if (pid > 0) {
		struct err se = {0};
		if (proc_pid_starttime((pid_t)pid, &now, &se) < 0) {
			log_warn("runc container '%s': init pid %lld no longer exists", name,
				 (long long)pid);
			pid = 0;
		} else if (have_start && now != start) {
			log_warn("runc container '%s': pid %lld is another process now (start "
				 "time %llu, state says %llu): taking it as stopped",
				 name, (long long)pid, now, start);
			pid = 0;
		} else {
			_cleanup_free_ char *cdir = xasprintf("%s/%s", dir, name);
			_cleanup_close_ int cfd =
			    open(cdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd >= 0 && exists_at(cfd, "exec.fifo"))
				status = "created";
			else if (cgroup_frozen(c, json_object_get(j, "cgroup_paths")))
				status = "paused";
			else
				status = "running";
		}
	}
	c->pid = (pid_t)pid;
	c->status = xstrdup(status);
	json_decref(j);
	ctr_list_add(out, c);
}

static int scan_dir(const char *root, const char *dir, const char *ns, int depth,
		    struct ctr_list *out, struct err *e)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT || (depth > 0 && errno == ENOTDIR))
			return 0;
		return err_sys(e, errno, "open '%s'", dir);
	}
	int dup = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return err_sys(e, errno, "open '%s'", dir);
	_cleanup_closedir_ DIR *d = fdopendir(dup);
	if (!d) {
		close(dup);
		return err_sys(e, errno, "open '%s'", dir);
	}
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (++n > MAX_ENTRIES) {
			log_warn("runc: '%s': more than %d entries, the rest skipped", dir,
				 MAX_ENTRIES);
			break;
		}
		if (!rt_is_dir_at(dfd, de->d_name))
			continue;
		_cleanup_close_ int cfd =
		    openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0)
			continue;
		if (regular_at(cfd, "state.json")) {
			read_container(root, dir, de->d_name, ns, out);
		} else if (exists_at(cfd, "state.json")) {
			log_warn("runc: '%s/%s/state.json' is not a regular file, skipped", dir,
				 de->d_name);
		} else if (depth == 0) {
			/* a namespace dir: <root>/<ns>/<id>/state.json */
			_cleanup_free_ char *sub = xasprintf("%s/%s", dir, de->d_name);
			struct err se = {0};
			if (scan_dir(root, sub, de->d_name, depth + 1, out, &se) < 0)
				log_warn("runc: %s", se.msg);
		}
	}
	return 0;
}

static int runc_scan(const char *root, struct ctr_list *out, struct err *e)
{
	return scan_dir(root, root, NULL, 0, out, e);
}

const struct rt_backend rt_backend_runc = {
    .kind = RT_RUNC,
    .default_roots = runc_roots,
    .scan = runc_scan,
};
