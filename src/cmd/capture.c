/* capture.c: contain capture REF -o OUT — parse the options, resolve REF,
 * run the capture transaction (src/capture/capture.c), print the summary. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contain/capture.h"
#include "contain/cmd.h"

/* the progress line on a terminal */
struct progress_ctx {
	const char *id;
	bool tty;
	const char *pause_at, *pause_file; /* the test hook below */
};

/* TEST HOOK, for the test suite only (tests/integration/t0704): with
 * CONTAIN_TEST_PAUSE_AT=PHASE (a name of CAPTURE_PHASES) and
 * CONTAIN_TEST_PAUSE_FILE=PATH, the capture writes "paused PHASE" to PATH
 * when PHASE begins and waits (at most 5 minutes) until PATH is removed, so
 * a test can act on the container at a known step (kill it). It only ever
 * delays the capture; it never changes what the capture does. */
static void test_pause(struct progress_ctx *p, const char *phase)
{
	if (!p->pause_at || !p->pause_file || strcmp(p->pause_at, phase) != 0)
		return;
	int fd = open(p->pause_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("test hook: create '%s': %s", p->pause_file, strerror(errno));
		return;
	}
	char line[128];
	int n = snprintf(line, sizeof(line), "paused %s\n", phase);
	if (write(fd, line, (size_t)n) != n)
		log_warn("test hook: write '%s': %s", p->pause_file, strerror(errno));
	close(fd);
	struct stat st;
	for (int i = 0; i < 300 * 20 && lstat(p->pause_file, &st) == 0; i++)
		usleep(50000);
}

static void progress(void *ctx, const char *phase, double elapsed)
{
	struct progress_ctx *p = ctx;
	test_pause(p, phase);
	if (!p->tty)
		return;
	fprintf(stderr, "\r\033[Kcontain: capture %s [%.1fs] %s", p->id, elapsed, phase);
	fflush(stderr);
}

/* "windows: observed 1.0 s untouched, 2.0 s cut off and running, 0.9 s frozen" */
static void print_windows(FILE *f, json_t *w)
{
	static const struct {
		const char *key, *what;
	} ws[] = {{"observed", "untouched"},
		  {"cut_running", "cut off and running"},
		  {"frozen", "frozen"}};
	bool any = false;
	for (size_t i = 0; i < ARRAY_SIZE(ws); i++) {
		json_t *x = json_object_get(w, ws[i].key);
		if (!json_is_object(x))
			continue;
		fprintf(f, "%s%.1f s %s", any ? ", " : "windows: ",
			json_real_value(json_object_get(x, "seconds")), ws[i].what);
		any = true;
	}
	if (any)
		fputc('\n', f);
}

static int parse_u(const char *opt, const char *s, unsigned long long *v)
{
	if (parse_size(s, v) < 0)
		return cmd_usage_error("capture", "bad %s '%s'", opt, s);
	return 0;
}

int cmd_capture(struct globals *g, int argc, char **argv)
{
	enum { O_CASE = 256, O_EXAMINER, O_SIGN, O_NOQ, O_PSEC, O_PMAX, O_NOPCAP, O_NOFS, O_NOMEM,
	       O_MEMFULL, O_MAXMEM, O_MAXFILE, O_LOGMAX, O_ALLOW, O_JSON, O_FREEZER, O_OBSERVE, O_WATCH };
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"case", required_argument, NULL, O_CASE},
		{"examiner", required_argument, NULL, O_EXAMINER},
		{"sign-key", required_argument, NULL, O_SIGN},
		{"no-quarantine", no_argument, NULL, O_NOQ},
		{"pcap-seconds", required_argument, NULL, O_PSEC},
		{"pcap-max-bytes", required_argument, NULL, O_PMAX},
		{"no-pcap", no_argument, NULL, O_NOPCAP},
		{"no-fs", no_argument, NULL, O_NOFS},
		{"no-memory", no_argument, NULL, O_NOMEM},
		{"memory-full", no_argument, NULL, O_MEMFULL},
		{"max-memory-bytes", required_argument, NULL, O_MAXMEM},
		{"max-file-bytes", required_argument, NULL, O_MAXFILE},
		{"log-max-bytes", required_argument, NULL, O_LOGMAX},
		{"allow", required_argument, NULL, O_ALLOW},
		{"freezer", required_argument, NULL, O_FREEZER},
		{"json", no_argument, NULL, O_JSON},
		{"observe", required_argument, NULL, O_OBSERVE},
		{"watch-cut", required_argument, NULL, O_WATCH},
		{0, 0, 0, 0},
	};
	struct capture_opts o = {
		.quarantine = true,
		.pcap = true,
		.fs = true,
		.memory = true,
		.pcap_seconds = 10,
		.pcap_max_bytes = 256ull << 20,
		.max_file_bytes = 1ull << 30,
		.log_max_bytes = 16ull << 20,
	};
	struct ncut_allow allow[NCUT_MAX_ALLOW];
	struct err e = {0};
	unsigned long long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': o.out = optarg; break;
		case O_CASE: o.case_id = optarg; break;
		case O_EXAMINER: o.examiner = optarg; break;
		case O_SIGN: o.sign_key = optarg; break;
		case O_NOQ: o.quarantine = false; break;
		case O_PSEC:
			if (parse_ull(optarg, 86400, &v) < 0)
				return cmd_usage_error("capture", "bad --pcap-seconds '%s'", optarg);
			o.pcap_seconds = (unsigned)v;
			break;
		case O_PMAX:
			if (parse_u("--pcap-max-bytes", optarg, &o.pcap_max_bytes))
				return EXIT_USAGE;
			break;
		case O_NOPCAP: o.pcap = false; break;
		case O_NOFS: o.fs = false; break;
		case O_NOMEM: o.memory = false; break;
		case O_MEMFULL: o.memory_full = true; break;
		case O_MAXMEM:
			if (parse_u("--max-memory-bytes", optarg, &o.max_memory_bytes))
				return EXIT_USAGE;
			break;
		case O_MAXFILE:
			if (parse_u("--max-file-bytes", optarg, &o.max_file_bytes))
				return EXIT_USAGE;
			break;
		case O_LOGMAX:
			if (parse_u("--log-max-bytes", optarg, &o.log_max_bytes))
				return EXIT_USAGE;
			break;
		case O_ALLOW:
			if (o.nallow >= NCUT_MAX_ALLOW)
				return cmd_usage_error("capture", "at most %d --allow", NCUT_MAX_ALLOW);
			if (ncut_allow_parse(optarg, &allow[o.nallow], &e) < 0)
				return cmd_usage_error("capture", "%s", e.msg);
			o.nallow++;
			break;
		case O_FREEZER:
			if (frz_pref_parse(optarg, &o.freezer) < 0)
				return cmd_usage_error("capture", "bad freezer '%s'", optarg);
			break;
		case O_JSON: g->json = true; break;
		case O_OBSERVE:
			if (parse_ull(optarg, CAPTURE_WINDOW_MAX, &v) < 0)
				return cmd_usage_error("capture", "bad --observe '%s' (0..%u seconds)",
						       optarg, CAPTURE_WINDOW_MAX);
			o.observe_seconds = (unsigned)v;
			break;
		case O_WATCH:
			if (parse_ull(optarg, CAPTURE_WINDOW_MAX, &v) < 0)
				return cmd_usage_error("capture",
						       "bad --watch-cut '%s' (0..%u seconds)", optarg,
						       CAPTURE_WINDOW_MAX);
			o.watch_cut_seconds = (unsigned)v;
			break;
		default: return cmd_usage_error("capture", "bad option");
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error("capture", "takes one REF");
	if (!o.out)
		return cmd_usage_error("capture", "-o OUT is required (a directory, a .tar, "
						  ".tar.gz, .tar.zst, or - for stdout)");
	o.allow = allow;
	o.state_dir = g->state_dir;
	o.audit_log = g->audit_log;
	if (capture_opts_check(&o, &e) < 0)
		return cmd_usage_error("capture", "%s", e.msg);
	bool to_stdout = strcmp(o.out, "-") == 0;
	if (to_stdout && isatty(STDOUT_FILENO))
		return cmd_usage_error("capture", "refusing to write a tar to a terminal");
	const char *ref = argv[optind];

	/* a pipe reader that goes away must be an error we see, not a kill */
	signal(SIGPIPE, SIG_IGN);

	/* TEST HOOK (tests/integration/t0703): the first NFLOG group of the host
	 * netns the capture tries, so a test can make two captures meet */
	const char *hf = getenv("CONTAIN_TEST_HOST_NFLOG_FIRST");
	if (hf && (parse_ull(hf, 65535, &v) < 0 || v == 0))
		return cmd_usage_error("capture", "bad CONTAIN_TEST_HOST_NFLOG_FIRST '%s'", hf);
	if (hf)
		o.host_nflog_first = (unsigned)v;
	struct progress_ctx pctx = {
		.tty = isatty(STDERR_FILENO),
		.pause_at = getenv("CONTAIN_TEST_PAUSE_AT"),
		.pause_file = getenv("CONTAIN_TEST_PAUSE_FILE"),
	};
	if (pctx.pause_at) {
		static const char *const phases[] = {CAPTURE_PHASES};
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(phases); i++)
			known = known || strcmp(phases[i], pctx.pause_at) == 0;
		if (!known || !pctx.pause_file)
			return cmd_usage_error("capture", "CONTAIN_TEST_PAUSE_AT '%s' needs a phase "
							  "and CONTAIN_TEST_PAUSE_FILE",
					       pctx.pause_at);
	}
	_cleanup_ctr_ struct ctr *c = NULL;
	if (runtime_resolve(&g->roots, ref, &c, &e) < 0) {
		log_error("capture '%s': %s", ref, e.msg);
		return err_exit_code(&e);
	}
	pctx.id = c->id;
	o.progress = progress;
	o.progress_ctx = &pctx;
	struct capture_result r;
	int rc = capture_run(c, &o, &r, &e);
	if (pctx.tty)
		fprintf(stderr, "\r\033[K");
	size_t i;
	json_t *m;
	json_array_foreach(r.warnings, i, m)
	{
		log_warn("capture: %s", json_string_value(m));
	}
	if (rc < 0)
		log_error("capture '%s': %s", c->id, e.msg);

	/* with -o - stdout is the tar: the summary goes to stderr */
	FILE *f = to_stdout ? stderr : stdout;
	if (r.bag_id[0] && g->json) {
		json_t *sum = capture_result_to_json(&r, c, o.out);
		json_dumpf(sum, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', f);
		json_decref(sum);
	} else if (r.bag_id[0]) {
		fprintf(f, "bag %s (%s): %s, %zu missing or partial, %.1f s\n", o.out, r.bag_id,
			r.status, json_array_size(r.missing), r.seconds);
		json_array_foreach(r.missing, i, m)
		{
			fprintf(f, "  missing: %s: %s\n", json_string_value(json_object_get(m, "artifact")),
				json_string_value(json_object_get(m, "reason")));
		}
		print_windows(f, r.windows);
		if (r.net_cut || r.frozen)
			fprintf(f, "container %s is left %s%s%s; release it with: contain release %s\n",
				c->id, r.net_cut ? "quarantined" : "",
				r.net_cut && r.frozen ? " and " : "", r.frozen ? "frozen" : "", c->id);
		else if (!o.quarantine)
			fprintf(f, "container %s was captured live and not touched\n", c->id);
	}
	capture_result_free(&r);
	if (rc < 0) /* no sealed bag; a container that is not running is not found */
		return c->pid <= 0 ? EXIT_FOUND : EXIT_SYS;
	return rc ? EXIT_FOUND : EXIT_OK;
}
