/* containerd.c: containerd's task state, one directory per running task.
 *
 * What it reads, for a root DIR (default /run/containerd, and Docker's own
 * containerd at /run/docker/containerd/daemon):
 *   DIR/io.containerd.runtime.v2.task/NS/ID/   (shim v2; also DIR/daemon/...
 *   DIR/io.containerd.runtime.v1.linux/NS/ID/   and DIR/containerd/daemon/...,
 *                                                 so /run/docker works too)
 *     config.json   the OCI spec: annotations (labels), root.path (rootfs),
 *                   io.kubernetes.cri.* annotations when CRI made the task
 *     init.pid      the init pid on the host (written by runc at create)
 *   NS (the directory name) is the containerd namespace, ID the container id.
 * Nothing else: "log" there is a FIFO (never opened), "address" the shim's
 * socket, and containerd's metadata (names, images, labels) lives in a bolt
 * DB that is not parsed. So the image is what CRI annotations say
 * (io.kubernetes.cri.image-name), or NULL; the name is nerdctl's annotation
 * (nerdctl/name) or the id; created is config.json's mtime.
 * A task dir without config.json is skipped silently (being created or
 * deleted); bad JSON, a bad or dead init.pid: log_warn naming the file, skip. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define PID_MAX_BYTES 64
#define MAX_ENTRIES 100000

static const char *const containerd_roots[] = {
	"/run/containerd",
	"/run/docker/containerd/daemon",
	NULL,
};

/* where task dirs live below a root, per layout */
static const char *const task_layouts[] = {
	"io.containerd.runtime.v2.task",
	"io.containerd.runtime.v1.linux",
	"daemon/io.containerd.runtime.v2.task",
	"daemon/io.containerd.runtime.v1.linux",
	"containerd/daemon/io.containerd.runtime.v2.task",
	"containerd/daemon/io.containerd.runtime.v1.linux",
	NULL,
};

/* a directory entry we accept as a namespace or id: no dots first, no
 * control characters, bounded */
static bool good_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 255 || s[0] == '.')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static const char *const image_keys[] = {
	"io.kubernetes.cri.image-name",
	"org.opencontainers.image.ref.name",
	NULL,
};

/* 0 ok (pid 0 when init.pid is missing), -1 with e filled */
static int read_init_pid(const char *path, pid_t *pid, struct err *e)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	bool trunc;
	struct stat st;
	*pid = 0;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, errno, "stat '%s'", path);
	}
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "'%s' is not a regular file", path);
	if (read_file_at(AT_FDCWD, path, PID_MAX_BYTES, &buf, &len, &trunc, e) < 0)
		return -1;
	str_rstrip(buf);
	if (trunc || parse_pid(buf, pid) < 0)
		return err_set(e, ERR_INVALID, "'%s': not a pid", path);
	if (kill(*pid, 0) < 0 && errno == ESRCH)
		return err_set(e, ERR_NOTFOUND, "'%s': pid %d no longer exists", path, (int)*pid);
	return 0;
}

static void scan_task(const char *root, const char *nsdir, const char *ns, const char *id,
		      struct ctr_list *out)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s", nsdir, id);
	_cleanup_free_ char *cfg = xasprintf("%s/config.json", dir);
	struct stat st;
	if (lstat(cfg, &st) < 0)
		return; /* not (or no longer) a task: silently */
	if (!S_ISREG(st.st_mode)) {
		log_warn("containerd: '%s' is not a regular file", cfg);
		return;
	}

	_cleanup_ctr_ struct ctr *c = ctr_new(RT_CONTAINERD);
	c->id = xstrdup(id);
	c->namespace = xstrdup(ns);
	c->bundle = xstrdup(dir);
	c->config_path = xstrdup(cfg);
	c->state_root = xstrdup(root);
	struct err e = {0};
	if (ctr_read_oci_config(c, &e) < 0) {
		log_warn("containerd: %s", e.msg);
		return;
	}
	char ts[64];
	time_rfc3339_from(&st.st_mtim, ts, sizeof(ts));
	c->created = xstrdup(ts);

	_cleanup_free_ char *pidf = xasprintf("%s/init.pid", dir);
	pid_t pid;
	if (read_init_pid(pidf, &pid, &e) < 0) {
		log_warn("containerd: task '%s/%s': %s", ns, id, e.msg);
		return;
	}
	c->pid = pid;
	if (pid > 0) {
		c->state_path = steal_pointer(&pidf);
		c->status = xstrdup("running");
	} else {
		c->status = xstrdup("created");
	}

	for (int i = 0; image_keys[i] && !c->image; i++) {
		const char *v = ctr_label(c, image_keys[i]);
		if (v && *v)
			c->image = xstrdup(v);
	}
	const char *name = ctr_label(c, "nerdctl/name");
	c->name = xstrdup(name && *name ? name : id);
	ctr_list_add(out, steal_pointer(&c));
}

static void scan_layout(const char *root, const char *tasks, struct ctr_list *out)
{
	_cleanup_closedir_ DIR *d = opendir(tasks);
	if (!d)
		return; /* a layout this root does not have */
	struct dirent *de;
	size_t seen = 0;
	while ((de = readdir(d)) && seen < MAX_ENTRIES) {
		if (!good_name(de->d_name) || !rt_is_dir_at(dirfd(d), de->d_name))
			continue;
		_cleanup_free_ char *nsdir = xasprintf("%s/%s", tasks, de->d_name);
		_cleanup_closedir_ DIR *nd = opendir(nsdir);
		if (!nd)
			continue;
		struct dirent *te;
		while ((te = readdir(nd)) && seen < MAX_ENTRIES) {
			if (!good_name(te->d_name) || !rt_is_dir_at(dirfd(nd), te->d_name))
				continue;
			seen++;
			scan_task(root, nsdir, de->d_name, te->d_name, out);
		}
	}
	if (seen >= MAX_ENTRIES)
		log_warn("containerd: '%s': more than %d tasks, the rest skipped", tasks,
			 MAX_ENTRIES);
}

static int containerd_scan(const char *root, struct ctr_list *out, struct err *e)
{
	(void)e;
	for (int i = 0; task_layouts[i]; i++) {
		_cleanup_free_ char *tasks = xasprintf("%s/%s", root, task_layouts[i]);
		scan_layout(root, tasks, out);
	}
	return 0;
}

const struct rt_backend rt_backend_containerd = {
	.kind = RT_CONTAINERD,
	.default_roots = containerd_roots,
	.scan = containerd_scan,
};
