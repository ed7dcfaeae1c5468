/* proc.c: what the kernel knows about a live container, from its init pid:
 * cgroups (v1 and unified, mapped to cgroupfs via mountinfo; the root of its
 * cgroup namespace when the init sits below it), every pid of its cgroup,
 * its netns, its root mount (overlay upper/lower/work dirs). */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define MAX_PIDS	(1 << 20)
#define MAX_CGROUP_DIRS 4096
#define MOUNTINFO_MAX	(8u << 20)

static char *read_text(const char *path, size_t max, struct err *e)
{
	char *buf = NULL;
	size_t len;
	bool trunc = false;
	if (read_file_at(AT_FDCWD, path, max, &buf, &len, &trunc, e) < 0)
		return NULL;
	if (trunc) {
		free(buf);
		err_set(e, ERR_INVALID, "'%s' is larger than %zu bytes", path, max);
		return NULL;
	}
	return buf;
}

static bool is_oct(char c)
{
	return c >= '0' && c <= '7';
}

void mountinfo_unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && is_oct(r[1]) && is_oct(r[2]) && is_oct(r[3])) {
			int v = (r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0');
			if (v > 0 && v < 256) {
				*w++ = (char)v;
				r += 4;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
}

/* overlay's own escapes in its options: "\x" stands for x (":" and ",") */
static void backslash_unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r == '\\' && r[1])
			r++;
		*w++ = *r;
	}
	*w = '\0';
}

int proc_pid_starttime(pid_t pid, unsigned long long *out, struct err *e)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	_cleanup_free_ char *buf = read_text(p, 8192, e);
	if (!buf)
		return -1;
	/* comm may hold spaces and ')': fields start after the last ')' */
	char *rp = strrchr(buf, ')');
	if (!rp)
		return err_set(e, ERR_INVALID, "'%s': no ')'", p);
	char *save = NULL;
	int field = 3;
	for (char *tok = strtok_r(rp + 1, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (field == 22) {
			if (parse_ull(tok, ULLONG_MAX, out) < 0)
				return err_set(e, ERR_INVALID, "'%s': bad start time '%s'", p, tok);
			return 0;
		}
		field++;
	}
	return err_set(e, ERR_INVALID, "'%s': too few fields", p);
}

/* ---- mountinfo ---- */

struct mi_line {
	char *root, *mountpoint, *fstype, *source, *superopts; /* unescaped except superopts */
};

/* split one mountinfo line; fields point into line (modified) */
static int mi_parse(char *line, struct mi_line *m)
{
	char *f[64];
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(line, " ", &save); tok && n < 64;
	     tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n < 10)
		return -1;
	int dash = -1;
	for (int i = 6; i < n; i++) {
		if (strcmp(f[i], "-") == 0) {
			dash = i;
			break;
		}
	}
	if (dash < 0 || dash + 3 >= n + 1 || dash + 2 >= n)
		return -1;
	m->root = f[3];
	m->mountpoint = f[4];
	m->fstype = f[dash + 1];
	m->source = f[dash + 2];
	m->superopts = dash + 3 < n ? f[dash + 3] : (char *)"";
	mountinfo_unescape(m->root);
	mountinfo_unescape(m->mountpoint);
	mountinfo_unescape(m->fstype);
	return 0;
}

static void add_lowerdir(struct ctr *c, const char *dir)
{
	if (!*dir)
		return;
	c->lowerdirs = xreallocarray(c->lowerdirs, c->nlowerdirs + 1, sizeof(char *));
	c->lowerdirs[c->nlowerdirs++] = xstrdup(dir);
}

static void clear_overlay(struct ctr *c)
{
	ctr_set(&c->upperdir, NULL);
	ctr_set(&c->workdir, NULL);
	for (size_t i = 0; i < c->nlowerdirs; i++)
		free(c->lowerdirs[i]);
	free(c->lowerdirs);
	c->lowerdirs = NULL;
	c->nlowerdirs = 0;
	ctr_set(&c->rootfs_fstype, NULL);
}

static void parse_overlay_opts(struct ctr *c, const char *superopts)
{
	_cleanup_free_ char *opts = xstrdup(superopts);
	char *save = NULL;
	/* commas inside values are escaped (\054): split first, then unescape */
	for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		mountinfo_unescape(o);
		if (str_has_prefix(o, "upperdir=")) {
			backslash_unescape(o);
			ctr_set(&c->upperdir, o + 9);
		} else if (str_has_prefix(o, "workdir=")) {
			backslash_unescape(o);
			ctr_set(&c->workdir, o + 8);
		} else if (str_has_prefix(o, "lowerdir+=")) {
			backslash_unescape(o);
			add_lowerdir(c, o + 10);
		} else if (str_has_prefix(o, "lowerdir=")) {
			/* "a:b\:c": split at ':' not escaped by a backslash */
			char *v = o + 9, *start = v;
			for (char *p = v;; p++) {
				if (*p == '\\' && p[1]) {
					p++;
					continue;
				}
				if (*p == ':' || *p == '\0') {
					char end = *p;
					*p = '\0';
					backslash_unescape(start);
					add_lowerdir(c, start);
					if (!end)
						break;
					start = p + 1;
				}
			}
		}
	}
}

int proc_parse_root_mount(const char *mountinfo, struct ctr *c, struct err *e)
{
	_cleanup_free_ char *copy = xstrdup(mountinfo);
	char *save = NULL;
	_cleanup_free_ char *fstype = NULL, *superopts = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct mi_line m;
		if (mi_parse(line, &m) < 0)
			continue;
		if (strcmp(m.mountpoint, "/") != 0)
			continue;
		/* the last "/" is the one on top */
		ctr_set(&fstype, m.fstype);
		ctr_set(&superopts, m.superopts);
	}
	clear_overlay(c);
	if (!fstype)
		return err_set(e, ERR_INVALID, "no root mount in mountinfo");
	c->rootfs_fstype = steal_pointer(&fstype);
	if (strcmp(c->rootfs_fstype, "overlay") == 0)
		parse_overlay_opts(c, superopts);
	return 0;
}

/* ---- cgroups ---- */

/* is every controller of want (comma list) among the mount's super options? */
static bool opts_have_all(const char *superopts, const char *want)
{
	_cleanup_free_ char *w = xstrdup(want);
	char *save = NULL;
	int n = 0;
	for (char *tok = strtok_r(w, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t tl = strlen(tok);
		bool found = false;
		for (const char *p = superopts; *p;) {
			const char *comma = strchr(p, ',');
			size_t l = comma ? (size_t)(comma - p) : strlen(p);
			if (l == tl && strncmp(p, tok, l) == 0) {
				found = true;
				break;
			}
			p += l;
			if (*p == ',')
				p++;
		}
		if (!found)
			return false;
		n++;
	}
	return n > 0;
}

static char *cg_fs_path(const char *mountinfo, bool unified, const char *controllers,
			const char *path)
{
	_cleanup_free_ char *copy = xstrdup(mountinfo);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct mi_line m;
		if (mi_parse(line, &m) < 0)
			continue;
		if (unified ? strcmp(m.fstype, "cgroup2") != 0
			    : (strcmp(m.fstype, "cgroup") != 0 ||
			       !opts_have_all(m.superopts, controllers)))
			continue;
		/* the mount shows the hierarchy from m.root down */
		const char *rel;
		if (strcmp(m.root, "/") == 0)
			rel = path;
		else if (str_has_prefix(path, m.root) &&
			 (path[strlen(m.root)] == '\0' || path[strlen(m.root)] == '/'))
			rel = path + strlen(m.root);
		else
			continue;
		if (strcmp(rel, "/") == 0 || !*rel)
			return xstrdup(m.mountpoint);
		return xasprintf("%s%s", strcmp(m.mountpoint, "/") == 0 ? "" : m.mountpoint, rel);
	}
	return NULL;
}

/* is q, a cgroup path as /proc/PID/cgroup shows it, inside the reader's
 * namespace (no ".." component: outside of it the kernel writes "/..")? */
static bool cg_path_inside(const char *q)
{
	if (q[0] != '/')
		return false;
	for (const char *p = q; *p;) {
		while (*p == '/')
			p++;
		size_t l = strcspn(p, "/");
		if (l == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += l;
	}
	return true;
}

int proc_map_cgroups(struct ctr *c, const char *proc_cgroup, const char *mountinfo, struct err *e)
{
	(void)e;
	for (size_t i = 0; i < c->ncgroups; i++) {
		free(c->cgroups[i].controllers);
		free(c->cgroups[i].path);
		free(c->cgroups[i].fs_path);
	}
	free(c->cgroups);
	c->cgroups = NULL;
	c->ncgroups = 0;
	ctr_set(&c->cgroup_unified, NULL);
	ctr_set(&c->cgroup_freezer, NULL);

	_cleanup_free_ char *copy = xstrdup(proc_cgroup);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* "hier-id:controllers:path"; path may hold ':' */
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || c2[1] != '/')
			continue;
		*c1 = *c2 = '\0';
		const char *ctrls = c1 + 1, *path = c2 + 1;
		bool unified = strcmp(line, "0") == 0 && !*ctrls;
		if (!unified && !*ctrls)
			continue;
		c->cgroups = xreallocarray(c->cgroups, c->ncgroups + 1, sizeof(*c->cgroups));
		struct ctr_cgroup *g = &c->cgroups[c->ncgroups++];
		g->controllers = xstrdup(ctrls);
		g->path = xstrdup(path);
		/* a path outside our cgroup namespace ("/../x": contain itself
		 * runs in one) names no dir under our mount: never build one
		 * through ".." */
		g->fs_path =
		    cg_path_inside(path) ? cg_fs_path(mountinfo, unified, ctrls, path) : NULL;
		/* the root cgroup is never a container's own: freezing it
		 * would freeze the host */
		if (strcmp(path, "/") == 0)
			continue;
		if (unified && g->fs_path)
			ctr_set(&c->cgroup_unified, g->fs_path);
		if (!unified && g->fs_path && opts_have_all(ctrls, "freezer"))
			ctr_set(&c->cgroup_freezer, g->fs_path);
	}
	return 0;
}

int proc_cgroup_dirs(pid_t pid, char **unified, char **freezer, struct err *e)
{
	char p[64];
	if (unified)
		*unified = NULL;
	if (freezer)
		*freezer = NULL;
	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
	_cleanup_free_ char *cg = read_text(p, 1 << 16, e);
	if (!cg)
		return -1;
	_cleanup_free_ char *mi = read_text("/proc/self/mountinfo", MOUNTINFO_MAX, e);
	if (!mi)
		return -1;
	struct ctr *c = xcalloc(1, sizeof(*c));
	int r = proc_map_cgroups(c, cg, mi, e);
	if (r == 0 && unified)
		*unified = steal_pointer(&c->cgroup_unified);
	if (r == 0 && freezer)
		*freezer = steal_pointer(&c->cgroup_freezer);
	ctr_free(c);
	return r;
}

/* ---- the container's cgroup: the root of its cgroup namespace ---- */

/* the path of the line of text (a /proc/PID/cgroup text) whose
 * "id:controllers:" is key (keylen bytes), or NULL */
static char *cg_line_path(const char *text, const char *key, size_t keylen)
{
	for (const char *l = text; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t ll = nl ? (size_t)(nl - l) : strlen(l);
		if (ll >= keylen && strncmp(l, key, keylen) == 0)
			return xstrndup(l + keylen, ll - keylen);
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

char *proc_cgroup_ns_roots(const char *host_view, const char *ns_view)
{
	struct sbuf out = SBUF_INIT;
	_cleanup_free_ char *copy = xstrdup(host_view);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2) {
			sbuf_printf(&out, "%s\n", line);
			continue;
		}
		size_t keylen = (size_t)(c2 - line) + 1; /* "id:controllers:" */
		const char *path = c2 + 1;
		_cleanup_free_ char *q = cg_line_path(ns_view, line, keylen);
		size_t pl = strlen(path), ql = q ? strlen(q) : 0;
		/* path = ROOT + q: ROOT is the namespace's root, an ancestor of
		 * the init's cgroup. Not when q is "/" (the init sits at the
		 * root) or ROOT would be empty (the host's root), nor when q is
		 * outside the namespace ("/.."), nor for a path with "..". */
		if (q && strcmp(q, "/") != 0 && cg_path_inside(q) && cg_path_inside(path) &&
		    pl > ql && strcmp(path + pl - ql, q) == 0)
			sbuf_printf(&out, "%.*s%.*s\n", (int)keylen, line, (int)(pl - ql), path);
		else
			sbuf_printf(&out, "%.*s%s\n", (int)keylen, line, path);
	}
	return sbuf_steal(&out);
}

struct view_job {
	int nsfd;
	const char *cgpath;
	char *out; /* what was read, or NULL */
};

/* A thread of ours joins the cgroup namespace and reads the file: a
 * namespace is a thread's own (setns moves only the caller), and it ends
 * with the thread. Nothing of the container runs. */
static void *view_thread(void *p)
{
	struct view_job *j = p;
	if (setns(j->nsfd, CLONE_NEWCGROUP) < 0)
		return NULL;
	_cleanup_close_ int fd = open(j->cgpath, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = NULL;
	size_t len;
	bool trunc = false;
	struct err e = {0};
	if (read_fd_bounded(fd, 1u << 16, &buf, &len, &trunc, &e) < 0 || trunc) {
		free(buf);
		return NULL;
	}
	j->out = buf;
	return NULL;
}

/* /proc/PID/cgroup as a process in PID's cgroup namespace reads it (paths
 * from the namespace's root), or NULL when PID shares ours or that cannot
 * be read. Read by a thread that joins the namespace (view_thread); a
 * forked child did it before, a fork of the whole process for one read
 * (and no fork from a process that may run threads). */
static char *cgroupns_view(pid_t pid)
{
	char nspath[64], cgpath[64];
	struct stat mine, theirs;
	snprintf(nspath, sizeof(nspath), "/proc/%d/ns/cgroup", (int)pid);
	snprintf(cgpath, sizeof(cgpath), "/proc/%d/cgroup", (int)pid);
	if (stat("/proc/self/ns/cgroup", &mine) < 0 || stat(nspath, &theirs) < 0 ||
	    (mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev))
		return NULL;
	_cleanup_close_ int nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return NULL;
	struct view_job j = {.nsfd = nsfd, .cgpath = cgpath};
	pthread_t t;
	if (pthread_create(&t, NULL, view_thread, &j) != 0)
		return NULL;
	pthread_join(t, NULL);
	return j.out;
}

/* ---- pids ---- */

static void add_pid(struct ctr *c, pid_t p, size_t *cap)
{
	xgrow(&c->pids, cap, c->npids + 1, sizeof(pid_t));
	c->pids[c->npids++] = p;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* A pid seen twice (it moved between two cgroups of the tree while they
 * were read) is kept once, at its first place: O(n log n), not a scan of
 * the list per pid (quadratic in a container of thousands). */
static void uniq_pids(struct ctr *c)
{
	if (c->npids < 2)
		return;
	pid_t *u = xmalloc(c->npids * sizeof(pid_t));
	memcpy(u, c->pids, c->npids * sizeof(pid_t));
	qsort(u, c->npids, sizeof(pid_t), pid_cmp);
	size_t nu = 1;
	for (size_t i = 1; i < c->npids; i++)
		if (u[i] != u[nu - 1])
			u[nu++] = u[i];
	if (nu < c->npids) {
		bool *seen = xcalloc(nu, sizeof(bool));
		size_t k = 0;
		for (size_t i = 0; i < c->npids; i++) {
			pid_t *f = bsearch(&c->pids[i], u, nu, sizeof(pid_t), pid_cmp);
			size_t at = (size_t)(f - u);
			if (!seen[at]) {
				seen[at] = true;
				c->pids[k++] = c->pids[i];
			}
		}
		c->npids = k;
		free(seen);
	}
	free(u);
}

/* cgroup.procs of dir and every cgroup below it (bounded) */
static int read_procs_tree(int dirfd, struct ctr *c, size_t *cap, int depth, int *ndirs)
{
	if (depth > 32 || ++*ndirs > MAX_CGROUP_DIRS)
		return 0;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct err e = {0};
	if (read_file_at(dirfd, "cgroup.procs", 16u << 20, &buf, &len, NULL, &e) < 0)
		return -1;
	char *save = NULL;
	for (char *tok = strtok_r(buf, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		pid_t p;
		if (parse_pid(tok, &p) == 0 && c->npids < MAX_PIDS)
			add_pid(c, p, cap);
	}
	int dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		_cleanup_close_ int sub =
		    openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			read_procs_tree(sub, c, cap, depth + 1, ndirs);
	}
	return 0;
}

/* path of pid 1 in the hierarchy named by controllers ("" = unified), in
 * init_cg (the text of /proc/1/cgroup, read once by the caller for all
 * its hierarchies; NULL when unreadable) */
static char *host_cgroup_path(const char *init_cg, const char *controllers)
{
	if (!init_cg)
		return NULL;
	size_t cl = strlen(controllers);
	for (const char *l = init_cg; *l;) {
		const char *nl = strchr(l, '\n');
		size_t ll = nl ? (size_t)(nl - l) : strlen(l);
		const char *c1 = memchr(l, ':', ll);
		const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - l)) : NULL;
		if (c2 && (size_t)(c2 - c1 - 1) == cl && strncmp(c1 + 1, controllers, cl) == 0)
			return xstrndup(c2 + 1, ll - (size_t)(c2 + 1 - l));
		if (!nl)
			break;
		l = nl + 1;
	}
	return NULL;
}

/* a hierarchy we may read the container's pids from: its own cgroup, not
 * the root and not the one the host's init sits in (that would be every
 * process of the host) */
static bool cgroup_is_own(const struct ctr_cgroup *g, const char *init_cg)
{
	if (!g->fs_path || !g->path || strcmp(g->path, "/") == 0)
		return false;
	_cleanup_free_ char *host = host_cgroup_path(init_cg, g->controllers);
	return !host || strcmp(host, g->path) != 0;
}

static char *init_cgroup_text(void)
{
	return read_text("/proc/1/cgroup", 1 << 16, NULL);
}

static int collect_pids(struct ctr *c, bool require_init, const char *init_cg, struct err *e)
{
	/* unified first, then the freezer, then any v1 hierarchy */
	const struct ctr_cgroup *order[64];
	size_t n = 0;
	for (size_t pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < c->ncgroups && n < ARRAY_SIZE(order); i++) {
			const struct ctr_cgroup *g = &c->cgroups[i];
			bool uni = !*g->controllers;
			bool frz = !uni && opts_have_all(g->controllers, "freezer");
			if ((pass == 0 && uni) || (pass == 1 && frz) || (pass == 2 && !uni && !frz))
				order[n++] = g;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!cgroup_is_own(order[i], init_cg))
			continue;
		_cleanup_close_ int fd =
		    open(order[i]->fs_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		free(c->pids);
		c->pids = NULL;
		c->npids = 0;
		size_t cap = 0;
		int ndirs = 0;
		if (read_procs_tree(fd, c, &cap, 0, &ndirs) < 0)
			continue;
		uniq_pids(c);
		bool has_init = false;
		for (size_t k = 0; k < c->npids; k++)
			if (c->pids[k] == c->pid)
				has_init = true;
		if (require_init ? has_init : c->npids > 0)
			return 0;
	}
	free(c->pids);
	c->pids = NULL;
	c->npids = 0;
	if (c->pid > 0 && (kill(c->pid, 0) == 0 || errno == EPERM)) {
		/* no cgroup of its own: at least the init */
		c->pids = xmalloc(sizeof(pid_t));
		c->pids[0] = c->pid;
		c->npids = 1;
		return 0;
	}
	return err_set(e, ERR_NOTFOUND, "container '%s': no cgroup of its own to read pids from",
		       c->id ? c->id : "?");
}

int ctr_refresh_pids(struct ctr *c, struct err *e)
{
	if (!c->ncgroups)
		return err_set(e, ERR_WRONGSTATE, "container '%s': cgroups not known",
			       c->id ? c->id : "?");
	_cleanup_free_ char *init_cg = init_cgroup_text();
	return collect_pids(c, false, init_cg, e);
}

/* ---- container ids in cgroup paths ---- */

char *cgroup_path_container_id(const char *path)
{
	/* the deepest component holding a run of exactly 64 hex digits:
	 * /docker/<id>, /system.slice/docker-<id>.scope, crio-<id>.scope,
	 * cri-containerd-<id>.scope, /kubepods/.../pod<uid>/<id>, libpod-<id>;
	 * conmon's own scope (libpod-conmon-<id>) is not the container */
	char *found = NULL;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchr(p, '/');
		size_t l = end ? (size_t)(end - p) : strlen(p);
		bool conmon = memmem(p, l, "conmon", 6) != NULL;
		for (size_t i = 0; !conmon && i + 64 <= l; i++) {
			size_t k = 0;
			while (i + k < l && strchr("0123456789abcdef", p[i + k]) && p[i + k])
				k++;
			if (k == 64 && (i == 0 || !strchr("0123456789abcdef", p[i - 1]))) {
				free(found);
				found = xstrndup(p + i, 64);
				break;
			}
			i += k;
		}
		p += l;
	}
	return found;
}

char *proc_container_id_of_pid(pid_t pid, struct err *e)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
	_cleanup_free_ char *buf = read_text(p, 1 << 16, e);
	if (!buf)
		return NULL;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		char *id = cgroup_path_container_id(c2 + 1);
		if (id)
			return id;
	}
	return NULL;
}

/* ---- all of it ---- */

void proc_host_view_read(struct proc_host_view *hv)
{
	struct err e = {0};
	hv->mountinfo = read_text("/proc/self/mountinfo", MOUNTINFO_MAX, &e);
	hv->init_cg = init_cgroup_text();
}

void proc_host_view_free(struct proc_host_view *hv)
{
	free(hv->mountinfo);
	free(hv->init_cg);
	hv->mountinfo = hv->init_cg = NULL;
}

int ctr_fill_from_proc(struct ctr *c, struct err *e)
{
	struct proc_host_view hv = {0};
	hv.mountinfo = read_text("/proc/self/mountinfo", MOUNTINFO_MAX, e);
	if (!hv.mountinfo)
		return -1;
	hv.init_cg = init_cgroup_text();
	int rc = ctr_fill_from_proc_host(c, &hv, e);
	proc_host_view_free(&hv);
	return rc;
}

int ctr_fill_from_proc_host(struct ctr *c, const struct proc_host_view *hv, struct err *e)
{
	char p[96];
	if (c->pid <= 0)
		return err_set(e, ERR_WRONGSTATE, "container '%s' is not running",
			       c->id ? c->id : "?");
	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)c->pid);
	_cleanup_free_ char *cg = read_text(p, 1 << 16, e);
	if (!cg)
		return err_wrap(e, "pid %d", (int)c->pid);
	const char *mi = hv->mountinfo;
	if (!mi)
		return err_set(e, ERR_SYS, "cannot read /proc/self/mountinfo");
	/* In a cgroup namespace of its own (the default on a cgroup2 host),
	 * the container's cgroup is the namespace's root: the init may sit
	 * below it (systemd moves itself into init.scope, its services into
	 * siblings), and freezing or listing only the init's leaf would leave
	 * the rest running. The root is the kernel's, set when the runtime
	 * made the namespace; the container can move deeper, never above it. */
	_cleanup_free_ char *nsv = cgroupns_view(c->pid);
	_cleanup_free_ char *own = nsv ? proc_cgroup_ns_roots(cg, nsv) : NULL;
	if (proc_map_cgroups(c, own ? own : cg, mi, e) < 0)
		return -1;
	/* nor is the cgroup the host's init sits in (its /proc/1/cgroup read
	 * once by the caller, for every hierarchy and for the pids below) */
	const char *init_cg = hv->init_cg;
	for (size_t i = 0; i < c->ncgroups; i++) {
		const struct ctr_cgroup *g = &c->cgroups[i];
		if (cgroup_is_own(g, init_cg) || !g->fs_path)
			continue;
		if (c->cgroup_unified && strcmp(c->cgroup_unified, g->fs_path) == 0)
			ctr_set(&c->cgroup_unified, NULL);
		if (c->cgroup_freezer && strcmp(c->cgroup_freezer, g->fs_path) == 0)
			ctr_set(&c->cgroup_freezer, NULL);
	}
	if (collect_pids(c, true, init_cg, e) < 0)
		return -1;

	/* netns */
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)c->pid);
	struct stat st, host, self;
	if (stat(p, &st) == 0) {
		ctr_set(&c->netns_path, p);
		c->netns_inode = (unsigned long long)st.st_ino;
		/* the host's is pid 1's; where that is not ours to see (a
		 * protected init), or we sit elsewhere, ours counts too: a cut
		 * there would cut the tool itself */
		c->host_netns = (stat("/proc/1/ns/net", &host) == 0 && host.st_ino == st.st_ino &&
				 host.st_dev == st.st_dev) ||
				(stat("/proc/self/ns/net", &self) == 0 &&
				 self.st_ino == st.st_ino && self.st_dev == st.st_dev);
	} else {
		ctr_set(&c->netns_path, NULL);
		c->netns_inode = 0;
		c->host_netns = false;
	}

	/* the root as the container sees it, and what is mounted there */
	snprintf(p, sizeof(p), "/proc/%d/root", (int)c->pid);
	ctr_set(&c->rootfs, p);
	snprintf(p, sizeof(p), "/proc/%d/mountinfo", (int)c->pid);
	_cleanup_free_ char *cmi = read_text(p, MOUNTINFO_MAX, e);
	if (!cmi)
		return err_wrap(e, "pid %d", (int)c->pid);
	if (proc_parse_root_mount(cmi, c, e) < 0)
		return err_wrap(e, "'%s'", p);
	return 0;
}
