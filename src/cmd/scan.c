/* scan.c: contain scan TARGET | --container REF — parse the options, run
 * scan_run (src/analyze/scan.c), print the findings, one a line, most
 * severe first, and a summary line.
 *
 * --container: the container resolved like every verb; its files through
 * capture's own walk (fslayer_collect_ctr, the OCI layer tar it writes,
 * streamed through a pipe into the scan, never to disk) and each process's
 * memory through capture's reader (mem_dump_pid, its core streamed through
 * a pipe into acore_read_stream). Both writers run on a thread of their own
 * while scan_run reads. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "contain/analyze.h"
#include "contain/cmd.h"
#include "contain/fslayer.h"
#include "contain/memory.h"

enum {
	O_JSON = 256,
	O_NOCOLOR,
	O_CONTAINER,
	O_FORCE,
	O_WORKERS,
};
static const struct option opts[] = {
    {"container", required_argument, NULL, O_CONTAINER},
    {"force", no_argument, NULL, O_FORCE},
    {"pubkey", required_argument, NULL, 'k'},
    {"json", no_argument, NULL, O_JSON},
    {"no-color", no_argument, NULL, O_NOCOLOR},
    {"workers", required_argument, NULL, O_WORKERS},
    CMD_DETECT_OPTIONS,
    {0, 0, 0, 0},
};
const char cmd_scan_usage[] =
    "usage: contain scan [OPTIONS] TARGET\n"
    "       contain scan [OPTIONS] --container REF\n"
    "\n"
    "The detection of `contain analyze` (the shipped YARA rules and --rules, the\n"
    "memory and network findings) without a bag: for a responder deciding\n"
    "whether to quarantine. Writes nothing; never runs anything it reads.\n"
    "TARGET is typed by its content, not its name:\n"
    "  a directory    walked by fd one component at a time: symlinks are never\n"
    "                 followed, FIFOs, sockets and devices never opened, other\n"
    "                 filesystems not entered (each skip listed in --json)\n"
    "  a pcap/pcapng  the flows summary and flow.* findings, YARA on each TCP\n"
    "                 stream and UDP payload\n"
    "  an ELF core    YARA on its regions (pid, address, mapping), mem.anon-elf\n"
    "  a tar          plain, .gz or .zst: each regular member streamed, never\n"
    "                 extracted\n"
    "  a bag          a directory or tar holding bagit.txt: verified first (as\n"
    "                 analyze; refused unless --force), then its layer's files,\n"
    "                 cores and pcaps\n"
    "  any other file YARA on it\n"
    "--container REF: a live container (needs root): its overlay upperdir\n"
    "through capture's walk and each process's memory read as capture reads it,\n"
    "without writing a core anywhere.\n"
    "\n"
    /* opts[] in order */
    "  --container REF    scan a running container (id, prefix, name or host pid)\n"
    "  --force            scan a bag that does not verify\n"
    "  -k, --pubkey KEY   a bag's signer must be this public key (as verify)\n"
    "  --json             print the report (docs/report-schema.md, contain scan)\n"
    "  --no-color         no colour (also when NO_COLOR is set or stdout is not a\n"
    "                     terminal)\n"
    "  --workers N        scanning threads (default: the online CPUs, at most 8)\n"
    CMD_DETECT_HELP
    "Each object is scanned up to --yara-max-bytes and --yara-timeout.\n"
    "\n"
    "Examples:\n"
    "  contain scan /var/www\n"
    "  contain scan case-42.tar.zst --fail-on medium\n"
    "  contain scan capture.pcap --json\n"
    "  contain scan --container web-1 --rules /root/ir/rules\n"
    "\n"
    "Exit status: 0 no finding at or above --fail-on, 1 one is (or a bag did not\n"
    "verify and no --force), 2 usage, 3 could not scan.\n";

static const char *s_or(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : dflt;
}

/* where a finding is: an address (memory), a flow (network), else its path */
static void print_where(const json_t *f)
{
	const json_t *ev = json_object_get(f, "evidence");
	const json_t *addr = json_object_get(ev, "address"), *flow = json_object_get(ev, "flow");
	if (json_is_integer(addr)) {
		printf("pid %lld 0x%llx %s", (long long)json_integer_value(json_object_get(ev, "pid")),
		       (unsigned long long)json_integer_value(addr),
		       cmd_tsafe(s_or(ev, "mapping", "?")));
	} else if (json_is_object(flow)) {
		printf("%s %s:%lld -> %s:%lld %s", cmd_tsafe(s_or(flow, "proto", "?")),
		       cmd_tsafe(s_or(flow, "src", "?")),
		       (long long)json_integer_value(json_object_get(flow, "sport")),
		       cmd_tsafe(s_or(flow, "dst", "?")),
		       (long long)json_integer_value(json_object_get(flow, "dport")),
		       cmd_tsafe(s_or(ev, "direction", "")));
	} else {
		printf("%s", cmd_tsafe(s_or(f, "path", "-")));
	}
}

static void print_report(const json_t *r, const struct cmd_colors *c)
{
	const json_t *findings = json_object_get(r, "findings"), *f;
	size_t i;
	json_array_foreach(findings, i, f)
	{
		const char *sev = s_or(f, "severity", "?");
		printf("%s%-8s%s %-28s ", cmd_sev_color(c, sev), cmd_tsafe(sev), c->off,
		       cmd_tsafe(s_or(f, "id", "?")));
		print_where(f);
		printf("  %s%s%s\n", c->dim, cmd_tsafe(s_or(f, "title", "")), c->off);
	}
	const json_t *sec = json_object_get(r, "scan"), *sum = json_object_get(r, "summary");
	const json_t *counts = json_object_get(sum, "counts");
	printf("%sscan: %s %s: %lld objects, %lld bytes, %lld skipped; %s", c->bold,
	       cmd_tsafe(s_or(sec, "kind", "?")), cmd_tsafe(s_or(sec, "target", "?")),
	       (long long)json_integer_value(json_object_get(sec, "objects")),
	       (long long)json_integer_value(json_object_get(sec, "bytes")),
	       (long long)json_integer_value(json_object_get(sec, "skipped_count")),
	       s_or(sum, "verdict", "?"));
	static const char *const sevs[] = {"critical", "high", "medium", "low", "info"};
	for (size_t k = 0; k < ARRAY_SIZE(sevs); k++)
		printf("%s %lld %s", k ? "," : ":",
		       (long long)json_integer_value(json_object_get(counts, sevs[k])), sevs[k]);
	printf("%s\n", c->off);
}

/* ---- --container: the files and the memory as streams ---- */

struct live {
	struct ctr *ct;
	int tar_rd; /* the layer tar's read end */
	pthread_t tar_thread;
	bool tar_started;
	struct err tar_err;
	int tar_rc;
};

static int fd_write(void *ctx, const void *buf, size_t n, struct err *e)
{
	int fd = *(int *)ctx;
	if (write_all(fd, buf, n) < 0)
		return err_sys(e, errno, "write to the scan");
	return 0;
}

struct tar_job {
	struct live *lv;
	int wr;
};

static void *tar_thread(void *arg)
{
	struct tar_job *j = arg;
	struct sink s = {.write = fd_write, .ctx = &j->wr};
	struct fslayer_opts fo = {.files_text_only = true};
	struct fslayer_result res = {0};
	j->lv->tar_rc = fslayer_collect_ctr(j->lv->ct, &fo, &s, &res, &j->lv->tar_err);
	fslayer_result_free(&res);
	close(j->wr);
	free(j);
	return NULL;
}

/* one process's core: mem_dump_pid on a thread, its bytes read here */
struct core_job {
	pid_t pid;
	int wr;
	pthread_mutex_t mu;
	struct sbuf maps;
	json_t *summary;
	struct err e;
	int rc;
};

static int maps_write(void *ctx, const void *buf, size_t n, struct err *e)
{
	(void)e;
	struct core_job *j = ctx;
	pthread_mutex_lock(&j->mu);
	sbuf_add(&j->maps, buf, n);
	pthread_mutex_unlock(&j->mu);
	return 0;
}

static void *core_thread(void *arg)
{
	struct core_job *j = arg;
	struct sink core = {.write = fd_write, .ctx = &j->wr};
	struct sink maps = {.write = maps_write, .ctx = j};
	struct mem_opts mo = {0};
	j->rc = mem_dump_pid(j->pid, &mo, &core, &maps, &j->summary, &j->e);
	close(j->wr);
	return NULL;
}

struct pipe_rd {
	int fd;
	char first;
	bool have_first;
};

static ssize_t pipe_read(void *ctx, void *buf, size_t n, struct err *e)
{
	struct pipe_rd *p = ctx;
	if (!n)
		return 0;
	if (p->have_first) {
		p->have_first = false;
		*(char *)buf = p->first;
		return 1;
	}
	for (;;) {
		ssize_t r = read(p->fd, buf, n);
		if (r >= 0)
			return r;
		if (errno != EINTR)
			return err_sys(e, errno, "read a core");
	}
}

static void drain(int fd)
{
	char buf[65536];
	while (read(fd, buf, sizeof(buf)) > 0 || errno == EINTR)
		;
}

static int live_cores(void *ctx, abag_core_fn fn, void *fnctx, struct err *e)
{
	struct live *lv = ctx;
	struct err re = {0};
	if (ctr_refresh_pids(lv->ct, &re) < 0)
		log_warn("container: its pids: %s", re.msg);
	for (size_t i = 0; i < lv->ct->npids; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return err_sys(e, errno, "pipe");
		struct core_job j = {.pid = lv->ct->pids[i], .wr = p[1]};
		pthread_mutex_init(&j.mu, NULL);
		pthread_t t;
		if (pthread_create(&t, NULL, core_thread, &j) != 0) {
			close(p[0]);
			close(p[1]);
			pthread_mutex_destroy(&j.mu);
			return err_set(e, ERR_SYS, "cannot start a thread");
		}
		/* the maps are written before the first byte of the core */
		struct pipe_rd pr = {.fd = p[0]};
		ssize_t r;
		do
			r = read(p[0], &pr.first, 1);
		while (r < 0 && errno == EINTR);
		pr.have_first = r == 1;
		char name[64], cpath[64];
		snprintf(name, sizeof(name), "memory/%d.core", (int)j.pid);
		snprintf(cpath, sizeof(cpath), "/proc/%d/comm", (int)j.pid);
		_cleanup_free_ char *comm = NULL;
		size_t clen = 0;
		struct err ce = {0};
		if (read_file_at(AT_FDCWD, cpath, 64, &comm, &clen, NULL, &ce) == 0)
			str_rstrip(comm);
		int rc = 0;
		if (r == 1) {
			pthread_mutex_lock(&j.mu);
			struct abag_core c = {.pid = j.pid,
					      .name = name,
					      .fd = -1,
					      .rd = pipe_read,
					      .rctx = &pr,
					      .maps = j.maps.buf,
					      .maps_len = j.maps.len,
					      .comm = comm};
			pthread_mutex_unlock(&j.mu);
			rc = fn(&c, fnctx, e);
		}
		drain(p[0]);
		pthread_join(t, NULL);
		close(p[0]);
		pthread_mutex_destroy(&j.mu);
		sbuf_free(&j.maps);
		json_decref(j.summary);
		if (j.rc < 0)
			log_warn("container: memory of pid %d: %s", (int)j.pid, j.e.msg);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int live_open(struct globals *g, const char *ref, struct live *lv, struct scan_source *src,
		     struct err *e)
{
	if (runtime_resolve(&g->roots, ref, &lv->ct, e) < 0)
		return -1;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_sys(e, errno, "pipe");
	struct tar_job *j = xcalloc(1, sizeof(*j));
	j->lv = lv;
	j->wr = p[1];
	if (pthread_create(&lv->tar_thread, NULL, tar_thread, j) != 0) {
		close(p[0]);
		close(p[1]);
		free(j);
		return err_set(e, ERR_SYS, "cannot start a thread");
	}
	lv->tar_started = true;
	lv->tar_rd = p[0];
	src->name = lv->ct->id;
	src->tar_fd = p[0];
	src->cores = live_cores;
	src->ctx = lv;
	return 0;
}

static void live_close(struct live *lv)
{
	if (lv->tar_started) {
		drain(lv->tar_rd);
		pthread_join(lv->tar_thread, NULL);
		close(lv->tar_rd);
		if (lv->tar_rc < 0)
			log_warn("container: its files: %s", lv->tar_err.msg);
	}
	ctr_free(lv->ct);
}

int cmd_scan(struct globals *g, int argc, char **argv)
{
	struct scan_opts o = {0};
	struct cmd_detect d = {.fail_on = "high"};
	bool json = g->json, color = true;
	const char *container = NULL;
	int ch;
	while ((ch = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		switch (ch) {
		case O_CONTAINER:
			container = optarg;
			break;
		case O_FORCE:
			o.force = true;
			break;
		case 'k':
			o.pubkey = optarg;
			break;
		case O_JSON:
			json = true;
			break;
		case O_NOCOLOR:
			color = false;
			break;
		case O_WORKERS: {
			long long v;
			if (parse_ll(optarg, 1, 64, &v) < 0)
				return cmd_usage_error("scan", "--workers '%s': 1 to 64", optarg);
			o.workers = (unsigned)v;
			break;
		}
		default: {
			int rc = cmd_detect_opt("scan", ch, optarg, &d);
			if (rc > 0)
				return rc;
			if (rc < 0)
				return cmd_usage_error("scan", "bad option");
		}
		}
	}
	int nargs = argc - optind;
	if (container && nargs)
		return cmd_usage_error("scan", "a TARGET or --container REF, not both");
	if (!container && nargs != 1)
		return cmd_usage_error("scan", nargs ? "takes one TARGET, got %d"
						     : "a TARGET is needed (a directory or a file)%.0d",
				       nargs);
	o.yara = d.yara;
	o.fail_on = d.fail_on;
	const char *nc = getenv("NO_COLOR");
	color = color && !json && isatty(STDOUT_FILENO) && !(nc && *nc);
	struct cmd_colors c = cmd_colors_for(color);

	struct err e = {0};
	struct live lv = {0};
	struct scan_source src = {.tar_fd = -1};
	if (container) {
		if (geteuid() != 0) {
			err_set(&e, ERR_UNSUPP, "--container needs root (it reads the container's "
					      "files and memory)");
			log_err(&e);
			return EXIT_SYS;
		}
		signal(SIGPIPE, SIG_IGN);
		if (live_open(g, container, &lv, &src, &e) < 0) {
			err_wrap(&e, "scan");
			log_err(&e);
			live_close(&lv);
			return err_exit_code(&e);
		}
		o.source = &src;
	} else {
		o.target = argv[optind];
	}
	/* each object's bytes go through a buffer of up to --yara-max-bytes:
	 * kept in the heap (not mapped and unmapped each time) they are not
	 * faulted in again for every file (perf: a fifth of the time) */
	mallopt(M_MMAP_THRESHOLD, 256 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	json_t *r = NULL;
	int rc = scan_run(&o, &r, &e);
	if (container)
		live_close(&lv);
	cmd_print_yara_errors(r);
	int code;
	if (rc < 0) {
		const json_t *bag = json_object_get(json_object_get(r, "scan"), "bag");
		err_wrap(&e, "scan");
		log_err(&e);
		code = bag && !json_is_true(json_object_get(bag, "verified")) ? EXIT_FOUND
									       : err_exit_code(&e);
		if (code == EXIT_OK)
			code = EXIT_SYS;
	} else {
		if (json)
			cmd_print_json(r);
		else
			print_report(r, &c);
		code = cmd_exit_for(r);
	}
	json_decref(r);
	return code;
}
