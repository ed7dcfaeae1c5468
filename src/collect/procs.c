/* procs.c: processes/tree.json, every pid of the container's cgroup read
 * from /proc. Everything here is attacker-controlled: each file is read
 * bounded, bytes that are not UTF-8 are escaped or base64'd and flagged,
 * and a process that exits during the walk is a note, never an error. */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "contain/bag.h"
#include "contain/collect.h"

#define PROC_SMALL (64 * 1024) /* status, stat, cgroup */

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

#define _cleanup_json_ _cleanup_(json_decrefp) /* jansson's own */

static void md_freep(EVP_MD_CTX **c)
{
	if (*c)
		EVP_MD_CTX_free(*c);
}

json_t *collect_json_text(const char *s, size_t n)
{
	if (utf8_valid(s, n) && memchr(s, '\0', n) == NULL)
		return json_stringn(s, n);
	struct sbuf b = SBUF_INIT;
	for (size_t i = 0; i < n;) {
		/* take the longest valid run of UTF-8 starting here */
		size_t l = 1;
		unsigned char c = (unsigned char)s[i];
		if (c >= 0xc0 && c < 0xe0)
			l = 2;
		else if (c >= 0xe0 && c < 0xf0)
			l = 3;
		else if (c >= 0xf0 && c < 0xf8)
			l = 4;
		if (c != 0 && i + l <= n && utf8_valid(s + i, l) && !(l == 1 && c == '\\')) {
			sbuf_add(&b, s + i, l);
			i += l;
		} else {
			sbuf_printf(&b, "\\x%02x", c);
			i++;
		}
	}
	json_t *j = json_stringn(b.buf ? b.buf : "", b.len);
	sbuf_free(&b);
	return j ? j : json_string("");
}

json_t *collect_json_bytes(const void *p, size_t n, bool truncated)
{
	json_t *o = json_object();
	if (utf8_valid(p, n)) {
		json_object_set_new(o, "encoding", json_string("utf-8"));
		json_object_set_new(o, "data", json_stringn(p, n));
	} else {
		char *b = base64_encode(p, n);
		json_object_set_new(o, "encoding", json_string("base64"));
		json_object_set_new(o, "data", json_string(b));
		free(b);
	}
	json_object_set_new(o, "size", json_integer((json_int_t)n));
	json_object_set_new(o, "truncated", json_boolean(truncated));
	return o;
}

void collect_note(json_t *notes, const char *fmt, ...)
{
	if (!notes)
		return;
	struct bag_notes nt = {.arr = notes, .encode = collect_json_text};
	va_list ap;
	va_start(ap, fmt);
	bag_notev(&nt, fmt, ap);
	va_end(ap);
}

json_t *collect_caps_decode(uint64_t mask)
{
	json_t *a = json_array();
	for (unsigned i = 0; i < 64; i++) {
		if (!(mask & (1ull << i)))
			continue;
		if (i < ARRAY_SIZE(cap_names)) {
			json_array_append_new(a, json_string(cap_names[i]));
		} else {
			char n[16];
			snprintf(n, sizeof(n), "cap_%u", i);
			json_array_append_new(a, json_string(n));
		}
	}
	return a;
}

int collect_parse_stat(const char *buf, size_t len, char *comm, size_t commsz, char *state,
		       pid_t *ppid, unsigned long long *starttime, struct err *e)
{
	/* "pid (comm) S ppid ..." where comm may hold spaces and ')' */
	const char *lp = memchr(buf, '(', len);
	const char *rp = NULL;
	for (size_t i = len; i > 0; i--) {
		if (buf[i - 1] == ')') {
			rp = buf + i - 1;
			break;
		}
	}
	if (!lp || !rp || rp < lp)
		return err_set(e, ERR_INVALID, "malformed stat line");
	size_t cl = (size_t)(rp - lp - 1);
	if (comm && commsz) {
		if (cl >= commsz)
			cl = commsz - 1;
		memcpy(comm, lp + 1, cl);
		comm[cl] = '\0';
	}
	/* fields after the comm: 3 state, 4 ppid, ... 22 starttime */
	char tail[1024];
	size_t tl = len - (size_t)(rp + 1 - buf);
	if (tl >= sizeof(tail))
		tl = sizeof(tail) - 1;
	memcpy(tail, rp + 1, tl);
	tail[tl] = '\0';
	char *save = NULL;
	int field = 3;
	bool have_state = false, have_ppid = false, have_start = false;
	for (char *t = strtok_r(tail, " \n", &save); t; t = strtok_r(NULL, " \n", &save), field++) {
		if (field == 3) {
			if (state)
				*state = t[0];
			have_state = true;
		} else if (field == 4) {
			long long v;
			if (parse_ll(t, 0, INT_MAX, &v) < 0)
				return err_set(e, ERR_INVALID, "malformed ppid '%s'", t);
			if (ppid)
				*ppid = (pid_t)v;
			have_ppid = true;
		} else if (field == 22) {
			unsigned long long v;
			if (parse_ull(t, ULLONG_MAX, &v) < 0)
				return err_set(e, ERR_INVALID, "malformed starttime '%s'", t);
			if (starttime)
				*starttime = v;
			have_start = true;
			break;
		}
	}
	if (!have_state || !have_ppid || !have_start)
		return err_set(e, ERR_INVALID, "short stat line");
	return 0;
}

/* a file of /proc/PID, bounded; -1 with errno-ish kind in e */
static int proc_read(int pidfd, const char *name, size_t max, char **buf, size_t *len,
		     bool *trunc, struct err *e)
{
	return read_file_at(pidfd, name, max, buf, len, trunc, e);
}

static bool proc_gone(int pidfd)
{
	/* the directory fd stays valid after exit; its files then fail with ESRCH/ENOENT */
	struct stat st;
	return fstatat(pidfd, "stat", &st, 0) < 0 && (errno == ENOENT || errno == ESRCH);
}

/* readlink into a JSON text; NULL on failure */
static json_t *proc_readlink(int dirfd, const char *name, char *raw, size_t rawsz)
{
	char tmp[PATH_MAX + 64];
	ssize_t l = readlinkat(dirfd, name, tmp, sizeof(tmp) - 1);
	if (l < 0)
		return NULL;
	tmp[l] = '\0';
	if (raw && rawsz) {
		size_t c = (size_t)l < rawsz - 1 ? (size_t)l : rawsz - 1;
		memcpy(raw, tmp, c);
		raw[c] = '\0';
	}
	return collect_json_text(tmp, (size_t)l);
}

static long long boot_time(void)
{
	char *buf = NULL;
	size_t len;
	struct err e = {0};
	if (read_file_at(AT_FDCWD, "/proc/stat", 1 << 20, &buf, &len, NULL, &e) < 0)
		return -1;
	long long bt = -1;
	char *p = strstr(buf, "\nbtime ");
	if (p) {
		char *end = strchr(p + 7, '\n');
		if (end)
			*end = '\0';
		if (parse_ll(p + 7, 0, LLONG_MAX, &bt) < 0)
			bt = -1;
	}
	free(buf);
	return bt;
}

static json_t *start_time_json(unsigned long long ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	long long bt = boot_time();
	if (hz <= 0 || bt < 0)
		return json_null();
	struct timespec ts;
	ts.tv_sec = (time_t)(bt + (long long)(ticks / (unsigned long long)hz));
	ts.tv_nsec = (long)((ticks % (unsigned long long)hz) * (1000000000ull / (unsigned long long)hz));
	char buf[64];
	time_rfc3339_from(&ts, buf, sizeof(buf));
	return json_string(buf);
}

/* "Key:\tvalue" of /proc/PID/status (value to end of line), or NULL */
static const char *status_get(const char *status, const char *key, char *out, size_t outsz)
{
	size_t kl = strlen(key);
	const char *p = status;
	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
			const char *v = p + kl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			const char *end = strchr(v, '\n');
			size_t n = end ? (size_t)(end - v) : strlen(v);
			if (n >= outsz)
				n = outsz - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return out;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static json_t *id_list(const char *v)
{
	json_t *a = json_array();
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s", v);
	char *save = NULL;
	for (char *t = strtok_r(tmp, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		long long n;
		if (parse_ll(t, 0, LLONG_MAX, &n) == 0)
			json_array_append_new(a, json_integer(n));
	}
	return a;
}

static void add_status(json_t *o, const char *status, json_t *notes, pid_t pid)
{
	char v[512];
	if (status_get(status, "NSpid", v, sizeof(v)))
		json_object_set_new(o, "nspid", id_list(v));
	if (status_get(status, "Uid", v, sizeof(v)))
		json_object_set_new(o, "uids", id_list(v));
	if (status_get(status, "Gid", v, sizeof(v)))
		json_object_set_new(o, "gids", id_list(v));
	if (status_get(status, "Groups", v, sizeof(v)))
		json_object_set_new(o, "groups", id_list(v));
	/* the pid (host's view, as "pid") of a process tracing this one; 0: none */
	if (status_get(status, "TracerPid", v, sizeof(v))) {
		long long n;
		if (parse_ll(v, 0, LLONG_MAX, &n) == 0)
			json_object_set_new(o, "tracer_pid", json_integer(n));
	}
	if (status_get(status, "Threads", v, sizeof(v))) {
		long long n;
		if (parse_ll(v, 0, LLONG_MAX, &n) == 0)
			json_object_set_new(o, "nthreads", json_integer(n));
	}
	static const struct {
		const char *key, *name;
	} caps[] = {{"CapInh", "inheritable"}, {"CapPrm", "permitted"}, {"CapEff", "effective"},
		    {"CapBnd", "bounding"},	   {"CapAmb", "ambient"}};
	json_t *cj = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		if (!status_get(status, caps[i].key, v, sizeof(v)))
			continue;
		unsigned long long m;
		char *end = NULL;
		errno = 0;
		m = strtoull(v, &end, 16);
		if (errno || end == v || *end) {
			collect_note(notes, "pid %d: malformed %s", (int)pid, caps[i].key);
			continue;
		}
		json_t *c = json_object();
		json_object_set_new(c, "hex", json_string(v));
		json_object_set_new(c, "names", collect_caps_decode(m));
		json_object_set_new(cj, caps[i].name, c);
	}
	json_object_set_new(o, "capabilities", cj);
	if (status_get(status, "Seccomp", v, sizeof(v))) {
		static const char *const modes[] = {"disabled", "strict", "filter"};
		long long n;
		if (parse_ll(v, 0, 2, &n) == 0)
			json_object_set_new(o, "seccomp", json_string(modes[n]));
		else
			json_object_set_new(o, "seccomp", collect_json_text(v, strlen(v)));
	}
	if (status_get(status, "NoNewPrivs", v, sizeof(v)))
		json_object_set_new(o, "no_new_privs", json_boolean(strcmp(v, "1") == 0));
}

/* SHA-256 of /proc/PID/exe, opened through the magic link so a deleted or
 * memfd executable is still read. */
static void add_exe(json_t *o, int pidfd, uint64_t max, json_t *notes, pid_t pid)
{
	json_t *x = json_object();
	char raw[PATH_MAX + 64] = "";
	json_t *path = proc_readlink(pidfd, "exe", raw, sizeof(raw));
	json_object_set_new(x, "path", path ? path : json_null());
	bool deleted = str_has_suffix(raw, " (deleted)");
	bool memfd = str_has_prefix(raw, "/memfd:");
	json_object_set_new(x, "deleted", json_boolean(deleted));
	json_object_set_new(x, "memfd", json_boolean(memfd));
	json_object_set_new(o, "exe", x);
	if (!path) {
		/* kernel threads and zombies have none */
		json_object_set_new(x, "sha256", json_null());
		return;
	}
	_cleanup_close_ int fd = openat(pidfd, "exe", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		collect_note(notes, "pid %d: open exe: %s", (int)pid, strerror(errno));
		json_object_set_new(x, "sha256", json_null());
		return;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		collect_note(notes, "pid %d: exe is not a regular file", (int)pid);
		json_object_set_new(x, "sha256", json_null());
		return;
	}
	json_object_set_new(x, "size", json_integer((json_int_t)st.st_size));
	_cleanup_(md_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		json_object_set_new(x, "sha256", json_null());
		return;
	}
	_cleanup_free_ unsigned char *buf = xmalloc(1 << 16);
	uint64_t done = 0;
	bool cut = false;
	for (;;) {
		size_t want = 1 << 16;
		if (max - done < want)
			want = (size_t)(max - done);
		if (want == 0) {
			/* is there more? */
			char c;
			ssize_t r = read(fd, &c, 1);
			cut = r > 0;
			break;
		}
		ssize_t r = read(fd, buf, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			collect_note(notes, "pid %d: read exe: %s", (int)pid, strerror(errno));
			json_object_set_new(x, "sha256", json_null());
			return;
		}
		if (r == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)r);
		done += (uint64_t)r;
	}
	unsigned char d[32];
	unsigned dl = 0;
	EVP_DigestFinal_ex(md, d, &dl);
	char hex[65];
	hex_encode(d, 32, hex);
	json_object_set_new(x, "sha256", json_string(hex));
	json_object_set_new(x, "hashed_bytes", json_integer((json_int_t)done));
	json_object_set_new(x, "truncated", json_boolean(cut));
	if (cut)
		collect_note(notes, "pid %d: exe larger than %llu bytes: hash covers the first %llu",
		     (int)pid, (unsigned long long)max, (unsigned long long)done);
}

static void add_bytes_file(json_t *o, const char *key, int pidfd, const char *name, size_t max,
			   json_t *notes, pid_t pid)
{
	char *buf = NULL;
	size_t len = 0;
	bool trunc = false;
	struct err e = {0};
	if (proc_read(pidfd, name, max, &buf, &len, &trunc, &e) < 0) {
		collect_note(notes, "pid %d: %s: %s", (int)pid, name, e.msg);
		json_object_set_new(o, key, json_null());
		return;
	}
	json_t *b = collect_json_bytes(buf, len, trunc);
	/* the NUL-separated list too, when it is text */
	if (utf8_valid(buf, len)) {
		json_t *a = json_array();
		size_t i = 0;
		while (i < len) {
			size_t l = strnlen(buf + i, len - i);
			json_array_append_new(a, json_stringn(buf + i, l));
			i += l + 1;
		}
		json_object_set_new(b, "list", a);
	}
	if (trunc)
		collect_note(notes, "pid %d: %s cut at %zu bytes", (int)pid, name, max);
	if (!utf8_valid(buf, len))
		collect_note(notes, "pid %d: %s is not UTF-8: kept as base64", (int)pid, name);
	json_object_set_new(o, key, b);
	free(buf);
}

static void add_threads(json_t *o, int pidfd, size_t max, json_t *notes, pid_t pid)
{
	json_t *a = json_array();
	json_object_set_new(o, "threads", a);
	int tfd = openat(pidfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		return;
	_cleanup_closedir_ DIR *d = fdopendir(tfd);
	if (!d) {
		close(tfd);
		return;
	}
	struct dirent *de;
	size_t n = 0;
	while ((de = readdir(d))) {
		pid_t tid;
		if (parse_pid(de->d_name, &tid) < 0)
			continue;
		if (n++ >= max) {
			collect_note(notes, "pid %d: more than %zu threads: list cut", (int)pid, max);
			break;
		}
		char p[300];
		snprintf(p, sizeof(p), "%s/stat", de->d_name);
		char *buf = NULL;
		size_t len;
		struct err e = {0};
		json_t *t = json_object();
		json_object_set_new(t, "tid", json_integer(tid));
		if (read_file_at(dirfd(d), p, 4096, &buf, &len, NULL, &e) == 0) {
			char comm[64], st = '?';
			if (collect_parse_stat(buf, len, comm, sizeof(comm), &st, NULL, NULL, &e) == 0) {
				json_object_set_new(t, "comm", collect_json_text(comm, strlen(comm)));
				json_object_set_new(t, "state", json_stringn(&st, 1));
			}
			free(buf);
		} else {
			json_object_set_new(t, "gone", json_true());
		}
		json_array_append_new(a, t);
	}
}

static void add_fds(json_t *o, int pidfd, size_t max, json_t *sockets, json_t *notes, pid_t pid)
{
	json_t *a = json_array();
	json_object_set_new(o, "fds", a);
	int ffd = openat(pidfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ffd < 0) {
		collect_note(notes, "pid %d: fd: %s", (int)pid, strerror(errno));
		return;
	}
	_cleanup_closedir_ DIR *d = fdopendir(ffd);
	if (!d) {
		close(ffd);
		return;
	}
	struct dirent *de;
	size_t n = 0;
	while ((de = readdir(d))) {
		long long fdn;
		if (parse_ll(de->d_name, 0, INT_MAX, &fdn) < 0)
			continue;
		if (n++ >= max) {
			collect_note(notes, "pid %d: more than %zu fds: list cut", (int)pid, max);
			break;
		}
		char raw[PATH_MAX + 64] = "";
		json_t *target = proc_readlink(dirfd(d), de->d_name, raw, sizeof(raw));
		if (!target)
			continue; /* closed meanwhile */
		json_t *f = json_object();
		json_object_set_new(f, "fd", json_integer(fdn));
		json_object_set_new(f, "target", target);
		unsigned long long ino;
		const char *type = "file";
		if (sscanf(raw, "socket:[%llu]", &ino) == 1) {
			type = "socket";
			json_object_set_new(f, "inode", json_integer((json_int_t)ino));
			char k[32];
			snprintf(k, sizeof(k), "%llu", ino);
			json_t *s = sockets ? json_object_get(sockets, k) : NULL;
			if (s)
				json_object_set(f, "socket", s);
		} else if (sscanf(raw, "pipe:[%llu]", &ino) == 1) {
			type = "pipe";
			json_object_set_new(f, "inode", json_integer((json_int_t)ino));
		} else if (str_has_prefix(raw, "anon_inode:")) {
			type = "anon_inode";
		} else if (str_has_prefix(raw, "/memfd:")) {
			type = "memfd";
		} else if (raw[0] != '/') {
			type = "other";
		}
		json_object_set_new(f, "type", json_string(type));
		if (raw[0] == '/' && str_has_suffix(raw, " (deleted)"))
			json_object_set_new(f, "deleted", json_true());
		json_array_append_new(a, f);
	}
}

static void add_namespaces(json_t *o, int pidfd)
{
	static const char *const ns[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
					 "time", "time_for_children", "user", "uts"};
	json_t *j = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		char p[64], t[128];
		snprintf(p, sizeof(p), "ns/%s", ns[i]);
		ssize_t l = readlinkat(pidfd, p, t, sizeof(t) - 1);
		if (l < 0)
			continue;
		t[l] = '\0';
		char *lb = strchr(t, '[');
		unsigned long long ino;
		if (lb && sscanf(lb, "[%llu]", &ino) == 1)
			json_object_set_new(j, ns[i], json_integer((json_int_t)ino));
	}
	json_object_set_new(o, "namespaces", j);
}

json_t *collect_proc_one(pid_t pid, const struct collect_procs_opts *o, json_t *sockets,
			 json_t *notes, bool *gone)
{
	*gone = false;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	_cleanup_close_ int pidfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pidfd < 0) {
		*gone = true;
		return NULL;
	}
	_cleanup_free_ char *stat = NULL;
	size_t slen = 0;
	struct err e = {0};
	if (proc_read(pidfd, "stat", 4096, &stat, &slen, NULL, &e) < 0) {
		*gone = true;
		return NULL;
	}
	char comm[64] = "", state = '?';
	pid_t ppid = 0;
	unsigned long long start = 0;
	json_t *p = json_object();
	json_object_set_new(p, "pid", json_integer(pid));
	if (collect_parse_stat(stat, slen, comm, sizeof(comm), &state, &ppid, &start, &e) < 0) {
		collect_note(notes, "pid %d: stat: %s", (int)pid, e.msg);
	} else {
		json_object_set_new(p, "ppid", json_integer(ppid));
		json_object_set_new(p, "comm", collect_json_text(comm, strlen(comm)));
		json_object_set_new(p, "state", json_stringn(&state, 1));
		json_object_set_new(p, "start_ticks", json_integer((json_int_t)start));
		json_object_set_new(p, "start_time", start_time_json(start));
	}
	_cleanup_free_ char *status = NULL;
	size_t stlen;
	if (proc_read(pidfd, "status", PROC_SMALL, &status, &stlen, NULL, &e) == 0)
		add_status(p, status, notes, pid);
	else
		collect_note(notes, "pid %d: status: %s", (int)pid, e.msg);
	add_bytes_file(p, "cmdline", pidfd, "cmdline", o->max_cmdline, notes, pid);
	add_bytes_file(p, "environ", pidfd, "environ", o->max_cmdline, notes, pid);
	add_exe(p, pidfd, o->max_exe_bytes, notes, pid);
	json_t *l = proc_readlink(pidfd, "cwd", NULL, 0);
	json_object_set_new(p, "cwd", l ? l : json_null());
	l = proc_readlink(pidfd, "root", NULL, 0);
	json_object_set_new(p, "root", l ? l : json_null());
	add_threads(p, pidfd, o->max_threads, notes, pid);
	add_fds(p, pidfd, o->max_fds, sockets, notes, pid);
	add_namespaces(p, pidfd);
	_cleanup_free_ char *cg = NULL;
	size_t cglen;
	bool cgt = false;
	if (proc_read(pidfd, "cgroup", PROC_SMALL, &cg, &cglen, &cgt, &e) == 0) {
		json_t *a = json_array();
		char *save = NULL;
		for (char *t = strtok_r(cg, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
			json_array_append_new(a, collect_json_text(t, strlen(t)));
		json_object_set_new(p, "cgroup", a);
	}
	if (proc_gone(pidfd)) {
		collect_note(notes, "pid %d exited during the walk: its entry may be partial", (int)pid);
		json_object_set_new(p, "exited_during_walk", json_true());
	}
	json_object_set_new(p, "children", json_array());
	return p;
}

static void procs_opts_fill(struct collect_procs_opts *d, const struct collect_procs_opts *o)
{
	if (o)
		*d = *o;
	else
		memset(d, 0, sizeof(*d));
	if (!d->max_exe_bytes)
		d->max_exe_bytes = 512ull << 20;
	if (!d->max_cmdline)
		d->max_cmdline = 256 * 1024;
	if (!d->max_fds)
		d->max_fds = 4096;
	if (!d->max_threads)
		d->max_threads = 4096;
}

static unsigned long long netns_ino_of(pid_t pid)
{
	char p[64];
	struct stat st;
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	if (stat(p, &st) < 0)
		return 0;
	return (unsigned long long)st.st_ino;
}

int collect_procs(const struct ctr *c, const struct collect_procs_opts *opts, json_t **out,
		  struct err *e)
{
	if (!c->npids)
		return err_set(e, ERR_WRONGSTATE, "container '%s' has no process",
			       c->id ? c->id : "?");
	struct collect_procs_opts o;
	procs_opts_fill(&o, opts);
	char now[64];
	time_rfc3339_ns(now, sizeof(now));
	_cleanup_json_ json_t *r = json_object();
	json_t *notes = json_array();
	json_t *pids = json_array();
	json_object_set_new(r, "collector", json_string("processes"));
	json_object_set_new(r, "time", json_string(now));
	json_object_set_new(r, "pids", pids);
	/* socket tables, one per netns seen (most containers have one) */
	json_t *tables = json_object();
	json_t *byid = json_object();
	for (size_t i = 0; i < c->npids; i++) {
		pid_t pid = c->pids[i];
		char k[32];
		snprintf(k, sizeof(k), "%llu", netns_ino_of(pid));
		json_t *socks = json_object_get(tables, k);
		if (!socks && strcmp(k, "0") != 0) {
			socks = collect_net_sockets(pid, notes);
			if (socks)
				json_object_set_new(tables, k, socks);
		}
		bool gone = false;
		json_t *p = collect_proc_one(pid, &o, socks, notes, &gone);
		if (!p) {
			collect_note(notes, "pid %d exited before it could be read", (int)pid);
			continue;
		}
		json_array_append_new(pids, p);
		snprintf(k, sizeof(k), "%d", (int)pid);
		json_object_set(byid, k, p);
	}
	json_decref(tables);
	/* the tree: children lists, and roots whose parent is not in the set */
	json_t *roots = json_array();
	size_t i;
	json_t *p;
	json_array_foreach(pids, i, p)
	{
		json_t *pp = json_object_get(p, "ppid");
		json_t *parent = NULL;
		if (pp) {
			char k[32];
			snprintf(k, sizeof(k), "%lld", (long long)json_integer_value(pp));
			parent = json_object_get(byid, k);
		}
		json_t *pid = json_object_get(p, "pid");
		if (parent && parent != p)
			json_array_append(json_object_get(parent, "children"), pid);
		else
			json_array_append(roots, pid);
	}
	json_decref(byid);
	json_t *tree = json_object();
	json_object_set_new(tree, "roots", roots);
	json_object_set_new(r, "tree", tree);
	json_object_set_new(r, "notes", notes);
	*out = steal_pointer(&r);
	return 0;
}
