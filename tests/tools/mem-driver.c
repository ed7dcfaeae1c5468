/* mem-driver: drive the memory collector from tests and the benchmark.
 *
 *   mem-driver --pid PID [--pid PID...] [--full] [--max-bytes N]
 *              [--regs auto|ptrace|syscall] [--cgroup-freeze PATH]
 *              [--kill-after-bytes N] --out DIR
 *
 * Writes DIR/PID.core and DIR/PID.maps for each pid and prints the summary
 * JSON. --cgroup-freeze PATH (a cgroup2 dir, or a v1 freezer dir) asserts
 * the cgroup is frozen before and after, and hands the dir to the library.
 * --kill-after-bytes N SIGKILLs the first pid once N bytes of its segments
 * are written and waits until it is gone (a process exiting mid-capture).
 * Exit: 0 every core written, 1 a process failed or the cgroup was not
 * frozen, 2 usage, 3 system error. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "contain/memory.h"
#include "contain/util.h"

struct files {
	int dirfd;
	struct {
		char name[64];
		int fd;
	} f[2];
};

static int f_open(void *ctx, pid_t pid, const char *name, struct sink *out, struct err *e)
{
	(void)pid;
	struct files *fs = ctx;
	int slot = str_has_suffix(name, ".core") ? 0 : 1;
	int fd = openat(fs->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, errno, "create '%s'", name);
	snprintf(fs->f[slot].name, sizeof(fs->f[slot].name), "%s", name);
	fs->f[slot].fd = fd;
	*out = sink_fd(&fs->f[slot].fd);
	return 0;
}

static int f_close(void *ctx, pid_t pid, const char *name, bool ok, const json_t *summary,
		   struct err *e)
{
	(void)pid;
	(void)ok;
	(void)summary;
	struct files *fs = ctx;
	int slot = str_has_suffix(name, ".core") ? 0 : 1;
	int fd = fs->f[slot].fd;
	fs->f[slot].fd = -1;
	if (fd >= 0 && close(fd) < 0)
		return err_sys(e, errno, "close '%s'", name);
	return 0;
}

static bool cg_frozen(const char *dir)
{
	char path[4096];
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct err e;
	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	if (read_file_at(AT_FDCWD, path, 4096, &buf, &len, NULL, &e) == 0)
		return strstr(buf, "\nfrozen 1") || str_has_prefix(buf, "frozen 1");
	snprintf(path, sizeof(path), "%s/freezer.state", dir);
	if (read_file_at(AT_FDCWD, path, 4096, &buf, &len, NULL, &e) == 0)
		return str_has_prefix(buf, "FROZEN");
	return false;
}

struct killer {
	pid_t pid;
	uint64_t after;
	bool done;
};

static void kill_hook(void *ctx, pid_t pid, uint64_t written)
{
	struct killer *k = ctx;
	if (k->done || pid != k->pid || written < k->after)
		return;
	k->done = true;
	kill(pid, SIGKILL);
	/* wait until its memory is gone: no /proc entry, or a zombie */
	for (int i = 0; i < 1000; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		_cleanup_free_ char *buf = NULL;
		size_t len;
		struct err e;
		if (read_file_at(AT_FDCWD, path, 4096, &buf, &len, NULL, &e) < 0)
			return;
		const char *rp = strrchr(buf, ')');
		if (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'))
			return;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"pid", required_argument, NULL, 'p'},
		{"full", no_argument, NULL, 'f'},
		{"max-bytes", required_argument, NULL, 'm'},
		{"regs", required_argument, NULL, 'r'},
		{"cgroup-freeze", required_argument, NULL, 'c'},
		{"kill-after-bytes", required_argument, NULL, 'k'},
		{"out", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	struct mem_opts o = {0};
	pid_t *pids = NULL;
	size_t npids = 0, cap = 0;
	const char *out = NULL, *cg = NULL;
	struct killer k = {0};
	bool kill_set = false;
	int c;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		unsigned long long v;
		pid_t p;
		switch (c) {
		case 'p':
			if (parse_pid(optarg, &p) < 0) {
				fprintf(stderr, "mem-driver: bad pid '%s'\n", optarg);
				return 2;
			}
			xgrow(&pids, &cap, npids + 1, sizeof(*pids));
			pids[npids++] = p;
			break;
		case 'f':
			o.full = true;
			break;
		case 'm':
			if (parse_size(optarg, &v) < 0) {
				fprintf(stderr, "mem-driver: bad size '%s'\n", optarg);
				return 2;
			}
			o.max_bytes = v;
			break;
		case 'r':
			if (strcmp(optarg, "auto") == 0)
				o.regs = MEM_REGS_AUTO;
			else if (strcmp(optarg, "ptrace") == 0)
				o.regs = MEM_REGS_PTRACE;
			else if (strcmp(optarg, "syscall") == 0)
				o.regs = MEM_REGS_SYSCALL;
			else {
				fprintf(stderr, "mem-driver: bad --regs '%s'\n", optarg);
				return 2;
			}
			break;
		case 'c':
			cg = optarg;
			break;
		case 'k':
			if (parse_size(optarg, &v) < 0) {
				fprintf(stderr, "mem-driver: bad size '%s'\n", optarg);
				return 2;
			}
			k.after = v;
			kill_set = true;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!npids || !out || optind != argc) {
		fprintf(stderr, "usage: mem-driver --pid PID [--pid PID...] [--full] [--max-bytes N] "
				"[--regs auto|ptrace|syscall] [--cgroup-freeze PATH] "
				"[--kill-after-bytes N] --out DIR\n");
		return 2;
	}
	int rc = 0;
	if (cg) {
		char probe[4096];
		snprintf(probe, sizeof(probe), "%s/freezer.state", cg);
		if (access(probe, F_OK) == 0)
			o.cgroup_freezer = cg;
		else
			o.cgroup_unified = cg;
		if (!cg_frozen(cg)) {
			fprintf(stderr, "mem-driver: cgroup '%s' is not frozen before\n", cg);
			return 1;
		}
	}
	if (kill_set) {
		k.pid = pids[0];
		o.progress = kill_hook;
		o.progress_ctx = &k;
	}
	struct err e;
	err_clear(&e);
	if (mkdir_p(out, 0700, &e) < 0) {
		fprintf(stderr, "mem-driver: %s\n", e.msg);
		return 3;
	}
	struct files fs = {.dirfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
	fs.f[0].fd = fs.f[1].fd = -1;
	if (fs.dirfd < 0) {
		fprintf(stderr, "mem-driver: open '%s': %s\n", out, strerror(errno));
		return 3;
	}
	struct mem_out mo = {f_open, f_close, &fs, NULL};
	json_t *sum = NULL;
	double t0 = time_mono();
	int r = mem_collect(pids, npids, &o, &mo, &sum, &e);
	double t1 = time_mono();
	if (sum) {
		json_object_set_new(sum, "seconds", json_real(t1 - t0));
		json_dumpf(sum, stdout, JSON_INDENT(2));
		putchar('\n');
		if (json_integer_value(json_object_get(sum, "failed")) ||
		    json_integer_value(json_object_get(sum, "freeze_lost")))
			rc = 1;
		json_decref(sum);
	}
	if (r < 0) {
		fprintf(stderr, "mem-driver: %s\n", e.msg);
		rc = rc ? rc : 1;
	}
	if (cg && !cg_frozen(cg)) {
		fprintf(stderr, "mem-driver: cgroup '%s' is not frozen after\n", cg);
		rc = 1;
	}
	close(fs.dirfd);
	free(pids);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 3;
	return rc;
}
