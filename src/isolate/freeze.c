/* freeze.c: freeze a container's cgroup, verified: cgroup2 cgroup.freeze
 * (cgroup.events "frozen 1"), else the v1 freezer (freezer.state FROZEN).
 * Every pid of the cgroup (and of its descendants) is checked not to run. */
#include <fcntl.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>

#include "contain/isolate.h"

#define FRZ_MAX_PIDS 65536
#define FRZ_MAX_DEPTH 16
#define FRZ_MAX_FILE (4u << 20)

const char *frz_kind_name(enum frz_kind k)
{
	switch (k) {
	case FRZ_CGROUP2:
		return "cgroup2";
	case FRZ_V1:
		return "freezer-v1";
	default:
		return "none";
	}
}

int frz_kind_parse(const char *s, enum frz_kind *k)
{
	if (strcmp(s, "cgroup2") == 0)
		*k = FRZ_CGROUP2;
	else if (strcmp(s, "freezer-v1") == 0)
		*k = FRZ_V1;
	else if (strcmp(s, "none") == 0)
		*k = FRZ_NONE;
	else
		return -1;
	return 0;
}

void frz_target_free(struct frz_target *t)
{
	free(t->dir);
	t->dir = NULL;
	t->kind = FRZ_NONE;
}

int frz_files(const struct frz_target *t, char *ctl, size_t nctl, char *state, size_t nstate)
{
	const char *c = t->kind == FRZ_CGROUP2 ? "cgroup.freeze" : "freezer.state";
	const char *s = t->kind == FRZ_CGROUP2 ? "cgroup.events" : "freezer.state";
	if (t->kind == FRZ_NONE || !t->dir)
		return -1;
	int a = snprintf(ctl, nctl, "%s/%s", t->dir, c);
	int b = snprintf(state, nstate, "%s/%s", t->dir, s);
	if (a < 0 || (size_t)a >= nctl || b < 0 || (size_t)b >= nstate)
		return -1;
	return 0;
}

char frz_parse_status_state(const char *buf)
{
	const char *p = buf;
	while (p && *p) {
		if (strncmp(p, "State:", 6) == 0) {
			p += 6;
			while (*p == ' ' || *p == '\t')
				p++;
			return (*p >= 'A' && *p <= 'Z') ? *p : 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

char frz_parse_stat_state(const char *buf)
{
	const char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	return (p[2] >= 'A' && p[2] <= 'Z') ? p[2] : 0;
}

static bool dir_ok(const char *dir)
{
	struct stat st;
	return dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Each pid listed in <dir>/<file> and in the same file of every cgroup
 * below dir (at most FRZ_MAX_DEPTH deep) is handed to fn(dir, pid, ctx, e):
 * 0 goes on, 1 stops the walk (returned), -1 fails it. An unreadable file
 * or dir fails it too. */
typedef int (*cg_pid_fn)(const char *dir, pid_t pid, void *ctx, struct err *e);
static int cg_walk(const char *dir, const char *file, int depth, cg_pid_fn fn, void *ctx,
		   struct err *e)
{
	char path[4096];
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (depth > FRZ_MAX_DEPTH)
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return err_set(e, ERR_INVALID, "cgroup path too long");
	if (read_file_at(AT_FDCWD, path, FRZ_MAX_FILE, &buf, &len, NULL, e) < 0)
		return -1;
	for (char *p = buf; p && *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		pid_t pid;
		if (parse_pid(p, &pid) == 0) {
			int rc = fn(dir, pid, ctx, e);
			if (rc != 0)
				return rc;
		}
		p = nl ? nl + 1 : NULL;
	}
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d)
		return err_sys(e, errno, "open '%s'", dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		char sub[4096];
		if (snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >= (int)sizeof(sub))
			continue;
		int rc = cg_walk(sub, file, depth + 1, fn, ctx, e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int pid_is(const char *dir, pid_t pid, void *ctx, struct err *e)
{
	(void)dir;
	(void)e;
	return pid == *(const pid_t *)ctx;
}

/* does cgroup.procs of dir, or of a cgroup below it, hold pid? The init
 * may sit below the container's cgroup (systemd's init.scope on a cgroup2
 * host): the freeze of the container's cgroup holds it there too. */
static bool cg_holds(const char *dir, pid_t pid)
{
	struct err e = {0};
	return dir && pid > 0 && cg_walk(dir, "cgroup.procs", 0, pid_is, &pid, &e) == 1;
}

bool frz_cgroup_holds(const char *dir, pid_t pid)
{
	return cg_holds(dir, pid);
}

int frz_pick(const struct ctr *c, enum frz_pref pref, struct frz_target *t, struct err *e)
{
	memset(t, 0, sizeof(*t));
	bool v2 = dir_ok(c->cgroup_unified) && strcmp(c->cgroup_unified, "/sys/fs/cgroup") != 0 &&
		  strcmp(c->cgroup_unified, "/sys/fs/cgroup/unified") != 0;
	bool v1 = dir_ok(c->cgroup_freezer) &&
		  strcmp(c->cgroup_freezer, "/sys/fs/cgroup/freezer") != 0;
	if (v2 && c->pid > 0 && !cg_holds(c->cgroup_unified, c->pid))
		v2 = false; /* exists, but the container's pids are elsewhere */
	if (pref == FRZ_PREF_V1 && !v1)
		return err_set(e, ERR_UNSUPP, "no v1 freezer cgroup for this container");
	if (pref == FRZ_PREF_V2 && !v2)
		return err_set(e, ERR_UNSUPP, "no unified cgroup holding the container's pids");
	if (pref != FRZ_PREF_V1 && v2) {
		t->kind = FRZ_CGROUP2;
		t->dir = xstrdup(c->cgroup_unified);
	} else if (v1) {
		t->kind = FRZ_V1;
		t->dir = xstrdup(c->cgroup_freezer);
	} else {
		return err_set(e, ERR_UNSUPP,
			       "no cgroup to freeze: neither a unified cgroup of its own nor a v1 "
			       "freezer");
	}
	return 0;
}

static int write_str(const char *path, const char *s, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_sys(e, errno, "open '%s'", path);
	if (write_all(fd, s, strlen(s)) < 0) {
		int en = errno;
		close(fd);
		return err_sys(e, en, "write '%s'", path);
	}
	if (close(fd) < 0)
		return err_sys(e, errno, "write '%s'", path);
	return 0;
}

/* the cgroup's own state: 1 frozen, 0 not (yet) */
static int cg_frozen(const struct frz_target *t, int *frozen, struct err *e)
{
	char ctl[4096], st[4096];
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (frz_files(t, ctl, sizeof(ctl), st, sizeof(st)) < 0)
		return err_set(e, ERR_INVALID, "bad freezer target");
	if (read_file_at(AT_FDCWD, st, 4096, &buf, &len, NULL, e) < 0)
		return -1;
	if (t->kind == FRZ_CGROUP2) {
		if (frz_parse_events(buf, frozen, NULL) < 0)
			return err_set(e, ERR_INVALID, "no 'frozen' key in '%s'", st);
	} else {
		int s;
		if (frz_parse_v1_state(buf, &s) < 0)
			return err_set(e, ERR_INVALID, "unknown state in '%s'", st);
		*frozen = s == 2;
	}
	return 0;
}

int frz_is_frozen(const struct frz_target *t, bool *frozen, struct err *e)
{
	int f;
	if (cg_frozen(t, &f, e) < 0)
		return -1;
	*frozen = f == 1;
	return 0;
}

/* every task of dir and its descendants: none may be running. The tasks
 * file lists threads (v1 "tasks", v2 "cgroup.threads"). */
struct task_check {
	size_t *n;
	char *bad;
	size_t nbad;
};

/* the state letter of task tid from /proc/<tid>/stat (the field after
 * the last ')': the comm may hold any byte), 0 when it is gone or
 * unreadable. One open and one bounded read: the status file is much
 * dearer to make, and this runs for every task of the container. */
static char task_state(pid_t tid)
{
	char p[64], buf[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)tid);
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf) - 1)) < 0 && errno == EINTR)
		;
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return frz_parse_stat_state(buf);
}

static int task_check(const char *dir, pid_t pid, void *ctx, struct err *e)
{
	struct task_check *t = ctx;
	char s = task_state(pid);
	if (s) {
		(*t->n)++;
		if (s == 'R' && !*t->bad)
			snprintf(t->bad, t->nbad, "pid %d is running", (int)pid);
	} /* a task that exited is not running */
	if (*t->n > FRZ_MAX_PIDS)
		return err_set(e, ERR_INVALID, "more than %d tasks in '%s'", FRZ_MAX_PIDS, dir);
	return 0;
}

static int check_tasks(const char *dir, bool v2, size_t *n, char *bad, size_t nbad,
		       struct err *e)
{
	struct task_check t = {n, bad, nbad};
	return cg_walk(dir, v2 ? "cgroup.threads" : "tasks", 0, task_check, &t, e) < 0 ? -1 : 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int frz_freeze_start(const struct frz_target *t, struct frz_wait *w, struct err *e)
{
	char ctl[4096];
	memset(w, 0, sizeof(*w));
	w->ino = -1;
	if (frz_files(t, ctl, sizeof(ctl), w->state, sizeof(w->state)) < 0)
		return err_set(e, ERR_INVALID, "bad freezer target");
	w->t0 = time_mono();
	/* cgroup2: kernfs notifies cgroup.events changes, so wait on inotify
	 * instead of sleeping between polls (v1 has no such notification) */
	if (t->kind == FRZ_CGROUP2) {
		w->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (w->ino >= 0 && inotify_add_watch(w->ino, w->state, IN_MODIFY) < 0) {
			close(w->ino);
			w->ino = -1;
		}
	}
	if (write_str(ctl, t->kind == FRZ_CGROUP2 ? "1" : "FROZEN", e) < 0) {
		frz_wait_free(w);
		return -1;
	}
	return 0;
}

void frz_wait_free(struct frz_wait *w)
{
	if (w->ino >= 0)
		close(w->ino);
	w->ino = -1;
}

int frz_freeze_wait(const struct frz_target *t, struct frz_wait *w, double timeout,
		    struct frz_result *r, struct err *e)
{
	char ctl[4096], st[4096];
	memset(r, 0, sizeof(*r));
	if (frz_files(t, ctl, sizeof(ctl), st, sizeof(st)) < 0) {
		frz_wait_free(w);
		return err_set(e, ERR_INVALID, "bad freezer target");
	}
	if (timeout <= 0)
		timeout = 10;
	/* v1: short polls first (the tasks of a container enter the
	 * refrigerator within microseconds), then backing off to 50 ms */
	long us = 50;
	int poll_ms = 1; /* cgroup2: the inotify wait's timeout */
	char bad[128];
	int rc;
	for (;;) {
		int f;
		bad[0] = '\0';
		if (cg_frozen(t, &f, e) < 0) {
			rc = -1;
			break;
		}
		if (f == 1) {
			size_t n = 0;
			if (check_tasks(t->dir, t->kind == FRZ_CGROUP2, &n, bad, sizeof(bad),
					e) < 0) {
				rc = -1;
				break;
			}
			/* still frozen after the walk: nothing slipped through */
			if (!*bad && cg_frozen(t, &f, e) == 0 && f == 1) {
				r->npids = n;
				r->seconds = time_mono() - w->t0;
				rc = 0;
				break;
			}
		}
		if (time_mono() - w->t0 > timeout) {
			errno = ETIMEDOUT;
			rc = err_set(e, ERR_SYS,
				     "freeze of '%s' did not hold within %.0f s (%s): it is left "
				     "freezing",
				     t->dir, timeout, *bad ? bad : "the cgroup is not frozen");
			break;
		}
		if (t->kind == FRZ_V1 && f != 1) /* v1: re-kick stragglers */
			(void)write_str(ctl, "FROZEN", NULL);
		if (w->ino >= 0 && f != 1) {
			/* woken by the change; the timeout covers a missed or a
			 * late one: the kernel sends cgroup.events notifications
			 * at most once in 10 ms (a later one waits on a timer), so
			 * short timeouts first, backing off to 16 ms */
			struct pollfd pfd = {w->ino, POLLIN, 0};
			char evbuf[4096];
			if (poll(&pfd, 1, poll_ms) > 0)
				while (read(w->ino, evbuf, sizeof(evbuf)) > 0)
					;
			if (poll_ms < 16)
				poll_ms *= 2;
			continue;
		}
		struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
		nanosleep(&ts, NULL);
		if (us < 50000)
			us *= 2;
	}
	frz_wait_free(w);
	return rc;
}

int frz_freeze(const struct frz_target *t, double timeout, struct frz_result *r,
	       struct err *e)
{
	struct frz_wait w;
	memset(r, 0, sizeof(*r));
	if (frz_freeze_start(t, &w, e) < 0)
		return -1;
	return frz_freeze_wait(t, &w, timeout, r, e);
}

int frz_thaw(const struct frz_target *t, double timeout, struct err *e)
{
	char ctl[4096], st[4096];
	if (frz_files(t, ctl, sizeof(ctl), st, sizeof(st)) < 0)
		return err_set(e, ERR_INVALID, "bad freezer target");
	if (timeout <= 0)
		timeout = 10;
	double t0 = time_mono();
	if (write_str(ctl, t->kind == FRZ_CGROUP2 ? "0" : "THAWED", e) < 0)
		return -1;
	long ms = 1;
	for (;;) {
		int f;
		if (t->kind == FRZ_CGROUP2) {
			if (cg_frozen(t, &f, e) < 0)
				return -1;
			if (f == 0)
				return 0;
		} else {
			_cleanup_free_ char *buf = NULL;
			size_t len;
			int s;
			if (read_file_at(AT_FDCWD, st, 4096, &buf, &len, NULL, e) < 0)
				return -1;
			if (frz_parse_v1_state(buf, &s) == 0 && s == 0)
				return 0;
		}
		if (time_mono() - t0 > timeout)
			return err_set(e, ERR_SYS, "thaw of '%s' did not hold within %.0f s",
				       t->dir, timeout);
		sleep_ms(ms);
		if (ms < 50)
			ms *= 2;
	}
}

int frz_pref_parse(const char *s, enum frz_pref *p)
{
	if (strcmp(s, "auto") == 0)
		*p = FRZ_PREF_AUTO;
	else if (strcmp(s, "cgroup2") == 0 || strcmp(s, "v2") == 0)
		*p = FRZ_PREF_V2;
	else if (strcmp(s, "v1") == 0)
		*p = FRZ_PREF_V1;
	else
		return -1;
	return 0;
}
