/* collect-driver: run one live collector against a pid or a container, for
 * the tests.
 *   collect-driver procs|net  (--pid PID [--pids A,B,..] | --ref REF) --out FILE
 *       [--max-exe BYTES] [--max-cmdline BYTES]
 *   collect-driver pcap (--pid PID | --ref REF) --out DIR [--seconds N]
 *       [--max-bytes N] [--nflog GROUP]
 * --pid builds a minimal struct ctr: that host pid, the pids of its cgroup
 * (or of its subtree when it sits in a root cgroup), /proc/PID/ns/net,
 * /proc/PID/root. --ref resolves a real container (CONTAIN_ROOTS honoured).
 * pcap writes DIR/capture-DEV.pcap per device ("nflog:5" gives
 * capture-nflog-5.pcap), DIR/ready once capturing, DIR/stats.json at the end;
 * SIGTERM or SIGINT stops it early ("stopped"). */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "contain/collect.h"
#include "contain/runtime.h"
#include "contain/util.h"

static void add_pid(struct ctr *c, size_t *cap, pid_t p)
{
	for (size_t i = 0; i < c->npids; i++)
		if (c->pids[i] == p)
			return;
	xgrow(&c->pids, cap, c->npids + 1, sizeof(pid_t));
	c->pids[c->npids++] = p;
}

static pid_t ppid_of(pid_t p)
{
	char path[64], *buf = NULL;
	size_t len;
	struct err e = {0};
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p);
	if (read_file_at(AT_FDCWD, path, 4096, &buf, &len, NULL, &e) < 0)
		return -1;
	pid_t pp = -1;
	if (collect_parse_stat(buf, len, NULL, 0, NULL, &pp, NULL, &e) < 0)
		pp = -1;
	free(buf);
	return pp;
}

/* pids of the cgroup of pid (v2 or a v1 controller), or its subtree */
static void fill_pids(struct ctr *c, pid_t pid)
{
	size_t cap = 0;
	char path[64], *buf = NULL;
	size_t len;
	struct err e = {0};
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_file_at(AT_FDCWD, path, 65536, &buf, &len, NULL, &e) == 0) {
		static const char *const order[] = {"", "pids", "freezer", "memory"};
		for (size_t k = 0; k < ARRAY_SIZE(order) && !c->npids; k++) {
			char *save = NULL;
			_cleanup_free_ char *copy = xstrdup(buf);
			for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
				char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
				if (!c2)
					continue;
				*c2 = '\0';
				if (strcmp(c1 + 1, order[k]) != 0)
					continue;
				const char *cg = c2 + 1;
				if (strcmp(cg, "/") == 0)
					break;
				_cleanup_free_ char *procs = xasprintf(
					"/sys/fs/cgroup/%s%s/cgroup.procs",
					order[k][0] ? order[k] : "unified", cg);
				char *pb = NULL;
				size_t pl;
				if (read_file_at(AT_FDCWD, procs, 1 << 20, &pb, &pl, NULL, &e) < 0)
					break;
				char *s2 = NULL;
				for (char *t = strtok_r(pb, "\n", &s2); t; t = strtok_r(NULL, "\n", &s2)) {
					pid_t p;
					if (parse_pid(t, &p) == 0)
						add_pid(c, &cap, p);
				}
				free(pb);
				break;
			}
		}
		free(buf);
	}
	if (c->npids)
		return;
	/* no cgroup of its own: the pid and its descendants */
	add_pid(c, &cap, pid);
	bool grew = true;
	while (grew) {
		grew = false;
		DIR *d = opendir("/proc");
		if (!d)
			return;
		struct dirent *de;
		while ((de = readdir(d))) {
			pid_t p;
			if (parse_pid(de->d_name, &p) < 0)
				continue;
			pid_t pp = ppid_of(p);
			for (size_t i = 0; i < c->npids; i++) {
				if (c->pids[i] == pp) {
					size_t before = c->npids;
					add_pid(c, &cap, p);
					grew |= c->npids != before;
					break;
				}
			}
		}
		closedir(d);
	}
}

static struct ctr *ctr_for_pid(pid_t pid, const char *pids)
{
	struct ctr *c = xcalloc(1, sizeof(*c));
	c->runtime = RT_RUNC;
	c->id = xasprintf("pid-%d", (int)pid);
	c->pid = pid;
	c->netns_path = xasprintf("/proc/%d/ns/net", (int)pid);
	c->rootfs = xasprintf("/proc/%d/root", (int)pid);
	struct stat st;
	if (stat(c->netns_path, &st) == 0)
		c->netns_inode = st.st_ino;
	if (pids) {
		size_t cap = 0;
		_cleanup_free_ char *copy = xstrdup(pids);
		char *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			pid_t p;
			if (parse_pid(t, &p) == 0)
				add_pid(c, &cap, p);
		}
	} else {
		fill_pids(c, pid);
	}
	return c;
}

static int write_json(const char *path, json_t *j, struct err *e)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!s)
		return err_set(e, ERR_INVALID, "cannot encode JSON");
	size_t n = strlen(s);
	int rc = write_file_atomic(path, s, n, 0600, e);
	free(s);
	return rc;
}

/* ---- pcap: one file per device ---- */
struct files {
	const char *dir;
	int fds[70];
	size_t n;
};

static int sink_for(void *ctx, const char *dev, int linktype, struct sink *out, struct err *e)
{
	struct files *f = ctx;
	(void)linktype;
	if (f->n >= ARRAY_SIZE(f->fds))
		return err_set(e, ERR_INVALID, "too many devices");
	char name[64];
	snprintf(name, sizeof(name), "%s", dev);
	for (char *p = name; *p; p++)
		if (*p == ':' || *p == '/')
			*p = '-';
	_cleanup_free_ char *path = xasprintf("%s/capture-%s.pcap", f->dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, errno, "create '%s'", path);
	f->fds[f->n] = fd;
	*out = sink_fd(&f->fds[f->n]);
	f->n++;
	return 0;
}

static int run_pcap(const struct ctr *c, const char *dir, struct collect_pcap_opts *o,
		    struct err *e)
{
	struct files f = {.dir = dir};
	if (mkdir_p(dir, 0700, e) < 0)
		return -1;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* blocked before the thread starts, so only sigtimedwait sees them */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct collect_pcap *s = NULL;
	if (collect_pcap_start(c, o, sink_for, &f, &s, e) < 0)
		return -1;
	_cleanup_free_ char *ready = xasprintf("%s/ready", dir);
	if (write_file_atomic(ready, "1\n", 2, 0600, e) < 0)
		log_warn("%s", e->msg);
	bool now = false;
	while (!collect_pcap_finished(s)) {
		struct timespec ts = {0, 100 * 1000 * 1000};
		if (sigtimedwait(&set, NULL, &ts) > 0) {
			now = true;
			break;
		}
	}
	json_t *stats = NULL;
	int rc = collect_pcap_stop(s, now, &stats, e);
	for (size_t i = 0; i < f.n; i++)
		close(f.fds[i]);
	if (stats) {
		_cleanup_free_ char *sp = xasprintf("%s/stats.json", dir);
		struct err e2 = {0};
		if (write_json(sp, stats, &e2) < 0 && rc == 0) {
			*e = e2;
			rc = -1;
		}
		json_decref(stats);
	}
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: collect-driver procs|net|pcap (--pid PID [--pids A,B] | --ref REF) "
			"--out PATH [--seconds N] [--max-bytes N] [--nflog G] [--max-exe N] "
			"[--max-cmdline N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pid", required_argument, NULL, 'p'},	    {"pids", required_argument, NULL, 'P'},
		{"ref", required_argument, NULL, 'r'},	    {"out", required_argument, NULL, 'o'},
		{"seconds", required_argument, NULL, 's'},  {"max-bytes", required_argument, NULL, 'b'},
		{"nflog", required_argument, NULL, 'n'},    {"max-exe", required_argument, NULL, 'x'},
		{"max-cmdline", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
	};
	if (argc < 2)
		usage();
	const char *what = argv[1];
	pid_t pid = 0;
	const char *ref = NULL, *out = NULL, *pids = NULL;
	struct collect_pcap_opts po = {.seconds = 0, .max_bytes = 0, .nflog_group = -1};
	struct collect_procs_opts pr = {0};
	int ch;
	long long v;
	unsigned long long u;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (parse_pid(optarg, &pid) < 0)
				usage();
			break;
		case 'P':
			pids = optarg;
			break;
		case 'r':
			ref = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			if (parse_ll(optarg, 0, 86400, &v) < 0)
				usage();
			po.seconds = (unsigned)v;
			break;
		case 'b':
			if (parse_size(optarg, &u) < 0)
				usage();
			po.max_bytes = u;
			break;
		case 'n':
			if (parse_ll(optarg, 0, 65535, &v) < 0)
				usage();
			po.nflog_group = (int)v;
			break;
		case 'x':
			if (parse_size(optarg, &u) < 0)
				usage();
			pr.max_exe_bytes = u;
			break;
		case 'c':
			if (parse_size(optarg, &u) < 0 || u > (1u << 30))
				usage();
			pr.max_cmdline = (size_t)u;
			break;
		default:
			usage();
		}
	}
	if (!out || (!pid && !ref) || (pid && ref))
		usage();
	struct err e = {0};
	_cleanup_ctr_ struct ctr *c = NULL;
	if (ref) {
		struct rt_roots roots = {0};
		if (rt_roots_from_env(&roots, &e) < 0 || runtime_resolve(&roots, ref, &c, &e) < 0) {
			log_err(&e);
			rt_roots_free(&roots);
			return 3;
		}
		rt_roots_free(&roots);
	} else {
		c = ctr_for_pid(pid, pids);
	}
	json_t *j = NULL;
	int rc;
	if (strcmp(what, "procs") == 0) {
		rc = collect_procs(c, &pr, &j, &e);
	} else if (strcmp(what, "net") == 0) {
		rc = collect_net(c, NULL, &j, &e);
	} else if (strcmp(what, "pcap") == 0) {
		rc = run_pcap(c, out, &po, &e);
		if (rc < 0) {
			log_err(&e);
			return 3;
		}
		return 0;
	} else {
		usage();
		return 2;
	}
	if (rc < 0 || write_json(out, j, &e) < 0) {
		json_decref(j);
		log_err(&e);
		return 3;
	}
	json_decref(j);
	return 0;
}
