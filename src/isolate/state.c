/* state.c: what a quarantine put in place, in <state_dir>/<id>.json, so a
 * release removes exactly that; and the node audit log. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "contain/chain.h"
#include "contain/isolate.h"

#define QSTATE_VERSION 2 /* 2: the incarnation (pid start time, cgroups) */
#define QSTATE_MAX (1u << 20)
#define KEY_TMP ".tmp." /* NCUT_KEY_FILE KEY_TMP <pid>: the key being made */

void qstate_free(struct qstate *s)
{
	free(s->id);
	free(s->runtime);
	free(s->name);
	free(s->netns_path);
	free(s->cg_unified);
	free(s->cg_freezer);
	free(s->created);
	free(s->updated);
	free(s->net_time);
	free(s->netns_table);
	free(s->host_table);
	free(s->devs);
	free(s->allow);
	free(s->freeze_time);
	frz_target_free(&s->freezer);
	memset(s, 0, sizeof(*s));
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *qstate_to_json(const struct qstate *s)
{
	json_t *j = json_object();
	json_object_set_new(j, "version", json_integer(QSTATE_VERSION));
	json_object_set_new(j, "id", jstr_or_null(s->id));
	json_object_set_new(j, "runtime", jstr_or_null(s->runtime));
	json_object_set_new(j, "name", jstr_or_null(s->name));
	json_object_set_new(j, "pid", json_integer(s->pid));
	/* the incarnation: this init (pid + start time), this netns, these
	 * cgroups; a state whose incarnation is gone is stale */
	json_t *inc = json_object();
	json_object_set_new(inc, "pid", json_integer(s->pid));
	json_object_set_new(inc, "pid_start", json_integer((json_int_t)s->pid_start));
	json_object_set_new(inc, "netns_inode", json_integer((json_int_t)s->netns_inode));
	json_object_set_new(inc, "cgroup_unified", jstr_or_null(s->cg_unified));
	json_object_set_new(inc, "cgroup_freezer", jstr_or_null(s->cg_freezer));
	json_object_set_new(j, "incarnation", inc);
	json_object_set_new(j, "netns_path", jstr_or_null(s->netns_path));
	json_object_set_new(j, "netns_inode", json_integer((json_int_t)s->netns_inode));
	json_object_set_new(j, "created", jstr_or_null(s->created));
	json_object_set_new(j, "updated", jstr_or_null(s->updated));

	json_t *n = json_object();
	json_object_set_new(n, "applied", json_boolean(s->net));
	json_object_set_new(n, "time", jstr_or_null(s->net_time));
	json_t *nt = json_null();
	if (s->netns_table) {
		nt = json_object();
		json_object_set_new(nt, "family", json_string("inet"));
		json_object_set_new(nt, "name", json_string(s->netns_table));
		json_object_set_new(nt, "handle", json_integer((json_int_t)s->netns_handle));
	}
	json_object_set_new(n, "netns_table", nt);
	json_t *ht = json_null();
	if (s->host_table) {
		ht = json_object();
		json_object_set_new(ht, "family", json_string("netdev"));
		json_object_set_new(ht, "name", json_string(s->host_table));
		json_object_set_new(ht, "handle", json_integer((json_int_t)s->host_handle));
	}
	json_object_set_new(n, "host_table", ht);
	json_t *devs = json_array();
	for (size_t i = 0; i < s->ndevs; i++) {
		json_t *d = json_object();
		json_object_set_new(d, "ifname", json_string(s->devs[i].ifname));
		json_object_set_new(d, "ifindex", json_integer(s->devs[i].ifindex));
		json_object_set_new(d, "ctr_ifname", json_string(s->devs[i].ctr_ifname));
		json_object_set_new(d, "ctr_ifindex", json_integer(s->devs[i].ctr_ifindex));
		json_array_append_new(devs, d);
	}
	json_object_set_new(n, "devices", devs);
	json_t *al = json_array();
	for (size_t i = 0; i < s->nallow; i++) {
		char b[96];
		ncut_allow_format(&s->allow[i], b, sizeof(b));
		json_array_append_new(al, json_string(b));
	}
	json_object_set_new(n, "allow", al);
	json_object_set_new(n, "nflog_group", json_integer(s->nflog_group));
	json_object_set_new(j, "network", n);

	json_t *f = json_object();
	json_object_set_new(f, "applied", json_boolean(s->frozen));
	json_object_set_new(f, "time", jstr_or_null(s->freeze_time));
	json_object_set_new(f, "kind", json_string(frz_kind_name(s->freezer.kind)));
	json_object_set_new(f, "dir", jstr_or_null(s->freezer.dir));
	char ctl[4096], st[4096];
	if (frz_files(&s->freezer, ctl, sizeof(ctl), st, sizeof(st)) == 0) {
		json_object_set_new(f, "control_file", json_string(ctl));
		json_object_set_new(f, "state_file", json_string(st));
	}
	json_object_set_new(j, "freeze", f);
	return j;
}

static char *dupstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? xstrdup(s) : NULL;
}

static int get_ifname(json_t *o, const char *k, char *dst, struct err *e)
{
	const char *s = json_string_value(json_object_get(o, k));
	if (!s || !*s || strlen(s) >= IF_NAMESIZE)
		return err_set(e, ERR_INVALID, "bad '%s' in a device", k);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

int qstate_from_json(json_t *j, struct qstate *s, struct err *e)
{
	memset(s, 0, sizeof(*s));
	if (!json_is_object(j))
		return err_set(e, ERR_INVALID, "not a JSON object");
	json_int_t ver = json_integer_value(json_object_get(j, "version"));
	if (ver != 1 && ver != QSTATE_VERSION)
		return err_set(e, ERR_INVALID, "unknown state version");
	s->id = dupstr(j, "id");
	if (!s->id || !*s->id)
		goto bad;
	s->runtime = dupstr(j, "runtime");
	s->name = dupstr(j, "name");
	s->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	s->netns_path = dupstr(j, "netns_path");
	s->netns_inode = (unsigned long long)json_integer_value(json_object_get(j, "netns_inode"));
	/* version 1 has no incarnation: pid_start 0 (unknown) */
	json_t *inc = json_object_get(j, "incarnation");
	if (json_is_object(inc)) {
		s->pid_start = (unsigned long long)json_integer_value(json_object_get(inc, "pid_start"));
		s->cg_unified = dupstr(inc, "cgroup_unified");
		s->cg_freezer = dupstr(inc, "cgroup_freezer");
		if ((pid_t)json_integer_value(json_object_get(inc, "pid")) != s->pid)
			goto bad;
	}
	if (s->pid < 0)
		goto bad;
	s->created = dupstr(j, "created");
	s->updated = dupstr(j, "updated");

	json_t *n = json_object_get(j, "network");
	if (!json_is_object(n))
		goto bad;
	s->net = json_is_true(json_object_get(n, "applied"));
	s->net_time = dupstr(n, "time");
	json_t *nt = json_object_get(n, "netns_table");
	if (json_is_object(nt)) {
		s->netns_table = dupstr(nt, "name");
		s->netns_handle = (uint64_t)json_integer_value(json_object_get(nt, "handle"));
		if (!s->netns_table)
			goto bad;
	}
	json_t *ht = json_object_get(n, "host_table");
	if (json_is_object(ht)) {
		s->host_table = dupstr(ht, "name");
		s->host_handle = (uint64_t)json_integer_value(json_object_get(ht, "handle"));
		if (!s->host_table)
			goto bad;
	}
	json_t *devs = json_object_get(n, "devices"), *it;
	size_t i;
	if (json_array_size(devs) > NCUT_MAX_DEVS)
		goto bad;
	if (json_array_size(devs)) {
		s->devs = xcalloc(json_array_size(devs), sizeof(*s->devs));
		json_array_foreach(devs, i, it) {
			struct ncut_dev *d = &s->devs[s->ndevs];
			if (get_ifname(it, "ifname", d->ifname, e) < 0 ||
			    get_ifname(it, "ctr_ifname", d->ctr_ifname, e) < 0)
				goto fail;
			d->ifindex = (int)json_integer_value(json_object_get(it, "ifindex"));
			d->ctr_ifindex = (int)json_integer_value(json_object_get(it, "ctr_ifindex"));
			s->ndevs++;
		}
	}
	json_t *al = json_object_get(n, "allow");
	if (json_array_size(al) > NCUT_MAX_ALLOW)
		goto bad;
	if (json_array_size(al)) {
		s->allow = xcalloc(json_array_size(al), sizeof(*s->allow));
		json_array_foreach(al, i, it) {
			const char *a = json_string_value(it);
			if (!a || ncut_allow_parse(a, &s->allow[s->nallow], e) < 0)
				goto bad;
			s->nallow++;
		}
	}
	s->nflog_group = (unsigned)json_integer_value(json_object_get(n, "nflog_group"));

	json_t *f = json_object_get(j, "freeze");
	if (!json_is_object(f))
		goto bad;
	s->frozen = json_is_true(json_object_get(f, "applied"));
	s->freeze_time = dupstr(f, "time");
	const char *k = json_string_value(json_object_get(f, "kind"));
	if (!k || frz_kind_parse(k, &s->freezer.kind) < 0)
		goto bad;
	s->freezer.dir = dupstr(f, "dir");
	if (s->freezer.kind != FRZ_NONE &&
	    (!s->freezer.dir || !str_has_prefix(s->freezer.dir, "/sys/fs/cgroup/") ||
	     strstr(s->freezer.dir, "/..") || strstr(s->freezer.dir, "//")))
		goto bad;
	if (s->frozen && s->freezer.kind == FRZ_NONE)
		goto bad;
	return 0;
bad:
	err_set(e, ERR_INVALID, "malformed quarantine state");
fail:
	qstate_free(s);
	return -1;
}

/* an id names a file in the state dir: no '/', no leading '.' */
static int state_path(const char *dir, const char *id, char *buf, size_t n, struct err *e)
{
	if (!id || !*id || id[0] == '.' || strchr(id, '/') || strlen(id) > 128)
		return err_set(e, ERR_INVALID, "bad container id '%s' for a state file",
			       id ? id : "");
	if (snprintf(buf, n, "%s/%s.json", dir, id) >= (int)n)
		return err_set(e, ERR_INVALID, "state path too long");
	return 0;
}

int qstate_save(const char *dir, const struct qstate *s, struct err *e)
{
	char path[4096];
	if (state_path(dir, s->id, path, sizeof(path), e) < 0)
		return -1;
	if (mkdir_p(dir, 0700, e) < 0)
		return err_wrap(e, "state dir '%s'", dir);
	json_t *j = qstate_to_json(s);
	char *txt = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!txt)
		return err_set(e, ERR_SYS, "state: json encoding failed");
	size_t l = strlen(txt);
	char *t2 = xmalloc(l + 2);
	memcpy(t2, txt, l);
	t2[l] = '\n';
	t2[l + 1] = '\0';
	free(txt);
	int rc = write_file_atomic(path, t2, l + 1, 0600, e);
	free(t2);
	if (rc < 0)
		return err_wrap(e, "write state '%s'", path);
	/* the rename itself durable: the state is the intent a kill at any
	 * later instant leaves for release to finish */
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		return err_sys(e, errno, "sync state dir '%s'", dir);
	return 0;
}

/* the key file as it must be: ours, a regular file of exactly the key's
 * length, no one else may read it */
static int netkey_read(int dfd, const char *dir, unsigned char key[NCUT_KEY_LEN],
		       struct err *e)
{
	_cleanup_close_ int fd = openat(dfd, NCUT_KEY_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(e, ERR_NOTFOUND,
				       "no netns table key in '%s' (no quarantine was made with "
				       "this state dir)",
				       dir);
		return err_sys(e, errno, "open '%s/" NCUT_KEY_FILE "'", dir);
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_sys(e, errno, "stat '%s/" NCUT_KEY_FILE "'", dir);
	if (!S_ISREG(st.st_mode) || st.st_size != NCUT_KEY_LEN || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return err_set(e, ERR_INVALID,
			       "'%s/" NCUT_KEY_FILE "' is not a key of ours (a regular file of %d "
			       "bytes, owned by us, mode 0600): refused",
			       dir, NCUT_KEY_LEN);
	if (pread_all(fd, key, NCUT_KEY_LEN, 0) != NCUT_KEY_LEN)
		return err_sys(e, errno ? errno : EIO, "read '%s/" NCUT_KEY_FILE "'", dir);
	return 0;
}

int qstate_netkey(const char *dir, bool create, unsigned char key[NCUT_KEY_LEN], struct err *e)
{
	if (create && mkdir_p(dir, 0700, e) < 0)
		return err_wrap(e, "state dir '%s'", dir);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT && !create)
			return err_set(e, ERR_NOTFOUND, "no state dir '%s'", dir);
		return err_sys(e, errno, "open state dir '%s'", dir);
	}
	struct err re = {0};
	if (netkey_read(dfd, dir, key, &re) == 0 || re.kind != ERR_NOTFOUND || !create) {
		*e = re;
		return re.msg[0] ? -1 : 0;
	}
	/* made whole under a temporary name, then linked under its own: a
	 * racing maker's link fails with EEXIST and that one reads ours; a
	 * temporary a kill left is removed by qstate_clean_tmp */
	unsigned char k[NCUT_KEY_LEN];
	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k))
		return err_sys(e, errno, "getrandom for the netns table key");
	char tmp[64];
	snprintf(tmp, sizeof(tmp), NCUT_KEY_FILE KEY_TMP "%d", (int)getpid());
	(void)unlinkat(dfd, tmp, 0);
	int fd = openat(dfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		explicit_bzero(k, sizeof(k));
		return err_sys(e, errno, "make the netns table key in '%s'", dir);
	}
	bool written = write(fd, k, sizeof(k)) == (ssize_t)sizeof(k) && fsync(fd) == 0;
	int err = errno;
	explicit_bzero(k, sizeof(k));
	close(fd);
	if (written && linkat(dfd, tmp, dfd, NCUT_KEY_FILE, 0) < 0 && errno != EEXIST) {
		written = false;
		err = errno;
	}
	(void)unlinkat(dfd, tmp, 0);
	if (!written)
		return err_sys(e, err, "write the netns table key '%s/" NCUT_KEY_FILE "'", dir);
	if (fsync(dfd) < 0)
		return err_sys(e, errno, "sync state dir '%s'", dir);
	return netkey_read(dfd, dir, key, e);
}

int qstate_table_names(const char *dir, bool create, const char *id, char *netns_table,
		       char *host_table, struct err *e)
{
	unsigned char key[NCUT_KEY_LEN];
	int rc = dir ? qstate_netkey(dir, create, key, e)
		     : err_set(e, ERR_NOTFOUND, "no state dir: no netns table key");
	ncut_table_names(rc == 0 ? key : NULL, id, netns_table, host_table);
	explicit_bzero(key, sizeof(key));
	return rc;
}

/* "<id>.json.tmp.<pid>" or "netns.key.tmp.<pid>": the pid, or 0 */
static pid_t tmp_owner(const char *name)
{
	const char *t = strstr(name, ".json.tmp.");
	pid_t pid;
	if (t)
		t += strlen(".json.tmp.");
	else if (str_has_prefix(name, NCUT_KEY_FILE KEY_TMP))
		t = name + strlen(NCUT_KEY_FILE KEY_TMP);
	if (!t || parse_pid(t, &pid) < 0)
		return 0;
	return pid;
}

int qstate_clean_tmp(const char *dir, size_t *removed, struct err *e)
{
	if (removed)
		*removed = 0;
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, errno, "open state dir '%s'", dir);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		pid_t pid = tmp_owner(de->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		struct qinc now;
		struct err le = {0};
		/* its writer may still be at it; a zombie (nobody reaps orphans
		 * on some nodes) is dead: qinc_read finds no namespaces */
		if ((kill(pid, 0) == 0 || errno != ESRCH) &&
		    (qinc_read(pid, &now, &le) == 0 || le.kind != ERR_NOTFOUND))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0 && removed)
			(*removed)++;
	}
	return 0;
}

int qstate_load(const char *dir, const char *id, struct qstate *s, struct err *e)
{
	char path[4096];
	_cleanup_free_ char *buf = NULL;
	size_t len;
	bool trunc = false;
	memset(s, 0, sizeof(*s));
	if (state_path(dir, id, path, sizeof(path), e) < 0)
		return -1;
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return err_set(e, ERR_NOTFOUND, "no quarantine state for '%s'", id);
		return err_sys(e, errno, "stat '%s'", path);
	}
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "state '%s' is not a regular file", path);
	if (read_file_at(AT_FDCWD, path, QSTATE_MAX, &buf, &len, &trunc, e) < 0)
		return -1;
	if (trunc)
		return err_set(e, ERR_INVALID, "state '%s' is too large", path);
	json_error_t je;
	json_t *j = json_loadb(buf, len, 0, &je);
	if (!j)
		return err_set(e, ERR_INVALID, "state '%s': bad json: %s", path, je.text);
	int rc = qstate_from_json(j, s, e);
	json_decref(j);
	if (rc < 0)
		return err_wrap(e, "state '%s'", path);
	if (strcmp(s->id, id) != 0) {
		qstate_free(s);
		return err_set(e, ERR_INVALID, "state '%s' is for another id", path);
	}
	return 0;
}

int qstate_remove(const char *dir, const char *id, struct err *e)
{
	char path[4096];
	if (state_path(dir, id, path, sizeof(path), e) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_sys(e, errno, "remove state '%s'", path);
	return 0;
}

int qstate_find(const char *dir, const char *ref, char **id, struct err *e)
{
	*id = NULL;
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return err_set(e, ERR_NOTFOUND, "no quarantined container '%s'", ref);
		return err_sys(e, errno, "open state dir '%s'", dir);
	}
	struct dirent *de;
	char *exact = NULL, *found = NULL;
	size_t nfound = 0;
	struct sbuf cands = SBUF_INIT;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !str_has_suffix(de->d_name, ".json"))
			continue;
		char idb[256];
		size_t l = strlen(de->d_name) - 5;
		if (l == 0 || l >= sizeof(idb))
			continue;
		memcpy(idb, de->d_name, l);
		idb[l] = '\0';
		struct qstate s;
		struct err le = {0};
		if (qstate_load(dir, idb, &s, &le) < 0)
			continue;
		bool name_eq = s.name && strcmp(s.name, ref) == 0;
		if (strcmp(idb, ref) == 0 || name_eq) {
			free(exact);
			exact = xstrdup(idb);
		} else if (str_has_prefix(idb, ref)) {
			free(found);
			found = xstrdup(idb);
			nfound++;
			sbuf_printf(&cands, "%s%s", cands.len ? ", " : "", idb);
		}
		qstate_free(&s);
	}
	if (exact) {
		free(found);
		sbuf_free(&cands);
		*id = exact;
		return 0;
	}
	if (nfound == 1) {
		sbuf_free(&cands);
		*id = found;
		return 0;
	}
	free(found);
	if (nfound > 1) {
		err_set(e, ERR_AMBIG, "'%s' matches several quarantined containers: %s", ref,
			cands.buf);
		sbuf_free(&cands);
		return -1;
	}
	sbuf_free(&cands);
	return err_set(e, ERR_NOTFOUND, "no quarantined container '%s'", ref);
}

static int lock_path(const char *dir, const char *id, char *path, size_t n, struct err *e)
{
	if (state_path(dir, id, path, n - 8, e) < 0)
		return -1;
	memcpy(path + strlen(path) - 5, ".lock", 6);
	return 0;
}

int qstate_lock(const char *dir, const char *id, struct err *e)
{
	char path[4096];
	if (lock_path(dir, id, path, sizeof(path), e) < 0)
		return -1;
	if (mkdir_p(dir, 0700, e) < 0)
		return err_wrap(e, "state dir '%s'", dir);
	for (int tries = 0; tries < 1000; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_sys(e, errno, "open '%s'", path);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				int en = errno;
				close(fd);
				return err_sys(e, en, "lock '%s'", path);
			}
		}
		/* the holder before us may have unlinked it (qstate_unlock_remove):
		 * a lock on a file no longer at path locks nothing */
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	return err_set(e, ERR_SYS, "lock '%s': it keeps being replaced", path);
}

int qstate_unlock_remove(const char *dir, const char *id, int fd, struct err *e)
{
	char path[4096];
	int rc = 0;
	/* unlinked while we hold it: whoever waits on the old inode sees it
	 * gone after the lock and opens the path again */
	if (lock_path(dir, id, path, sizeof(path), e) < 0)
		rc = -1;
	else if (unlink(path) < 0 && errno != ENOENT)
		rc = err_sys(e, errno, "remove '%s'", path);
	if (fd >= 0)
		close(fd);
	return rc;
}
