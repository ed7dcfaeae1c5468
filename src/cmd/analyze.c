/* analyze.c: contain analyze BAG --image IMG [-o DIR] — parse the options,
 * run analyze_run (src/analyze/analyze.c), print the verdict, the counts and
 * the top findings. */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "contain/analyze.h"
#include "contain/cmd.h"

#define TOP_FINDINGS 10

static void print_sysroot(const json_t *r);

/* The options and their help, side by side: the usage text is made of the
 * same lines as the option table (main.c's `contain help analyze`). */
enum {
	O_IMAGE = 256,
	O_REF,
	O_OVERWRITE,
	O_SYSROOT,
	O_SRBYTES,
	O_SRFILES,
	O_FORCE,
	O_JSON,
	O_NOCOLOR,
	O_NOYARA,
};
static const struct option opts[] = {
    {"image", required_argument, NULL, O_IMAGE}, /* help: below */
    {"image-ref", required_argument, NULL, O_REF},
    {"output", required_argument, NULL, 'o'},
    {"overwrite", no_argument, NULL, O_OVERWRITE},
    {"sysroot", required_argument, NULL, O_SYSROOT},
    {"sysroot-max-bytes", required_argument, NULL, O_SRBYTES},
    {"sysroot-max-files", required_argument, NULL, O_SRFILES},
    {"force", no_argument, NULL, O_FORCE},
    {"pubkey", required_argument, NULL, 'k'},
    {"json", no_argument, NULL, O_JSON},
    {"no-color", no_argument, NULL, O_NOCOLOR},
    {"no-yara", no_argument, NULL, O_NOYARA},
    CMD_DETECT_OPTIONS,
    {0, 0, 0, 0},
};
const char cmd_analyze_usage[] =
    "usage: contain analyze BAG --image IMG [-o DIR] [OPTIONS]\n"
    "\n"
    "Analyze a bag offline against the image its container was started from:\n"
    "what the attacker changed in the container's files (added, modified,\n"
    "metadata changed, deleted, opaque directories), what those files are\n"
    "(libmagic, ELF headers), and what it means (findings with a severity and a\n"
    "MITRE ATT&CK id). Needs no root and no network; never runs anything from\n"
    "the bag or the image; writes only inside DIR.\n"
    "BAG: a directory, a .tar, .tar.gz, .tar.zst, or - (a tar on stdin). It is\n"
    "verified first (as `contain verify`); a bag that does not verify is refused.\n"
    "IMG: an OCI image layout directory, an oci-archive or a docker-archive tar\n"
    "(docker save, podman save), read without extracting anything.\n"
    "DIR gets report.json (docs/report-schema.md), report.md, report.html (one\n"
    "self-contained file), timeline.csv and bodyfile (mactime -b).\n"
    "\n"
    /* opts[] in order */
    "  --image IMG        the image the container was started from (required)\n"
    "  --image-ref NAME   which image of a layout or archive holding several\n"
    "                     (default: the one whose digest the bag recorded)\n"
    "  -o, --output DIR   the report directory (default ./<bag id>-report);\n"
    "                     refused if it exists\n"
    "  --overwrite        DIR may exist: its report files are replaced\n"
    "  --sysroot DIR      also write the container's root (image layers and the\n"
    "                     bag's layer, whiteouts applied) into DIR for gdb's\n"
    "                     `set sysroot`: files, directories and symlinks only\n"
    "                     (no devices, FIFOs, sockets, set-id bits; links made\n"
    "                     to resolve inside DIR; hard links as copies); DIR must\n"
    "                     not exist or be empty. Prints the gdb command per core\n"
    "  --sysroot-max-bytes N  bytes written into DIR (default 8G); past it: exit 3\n"
    "  --sysroot-max-files N  paths made in DIR (default 1000000); past it: exit 3\n"
    "  --force            analyze a bag that does not verify; every report then\n"
    "                     says so in its first line, with the problems\n"
    "  -k, --pubkey KEY   the bag's signer must be this public key (as verify)\n"
    "  --json             print report.json to stdout instead of the summary\n"
    "  --no-color         no colour (also when NO_COLOR is set or stdout is not a\n"
    "                     terminal)\n"
    "  --no-yara          no YARA scan (the layer's files, the cores, the streams)\n"
    CMD_DETECT_HELP
    "\n"
    "Findings (their ids; severity, ATT&CK id and rule: contain(1) FINDINGS):\n"
    "  fs.new-executable fs.new-script fs.binary-replaced fs.binary-deleted\n"
    "  fs.setuid-added fs.setgid-added fs.caps-added fs.account-changed\n"
    "  fs.sudoers-changed fs.ld-preload fs.cron-changed fs.ssh-authorized-keys\n"
    "  fs.sshd-config fs.shell-profile fs.systemd-unit fs.init-script\n"
    "  fs.package-db-changed fs.shell-history fs.dropped-file\n"
    "  image.digest-mismatch image.digest-unknown image.incomplete proc.exe-memfd\n"
    "  proc.exe-deleted proc.exe-not-in-image proc.exe-differs proc.shell-socket-stdio\n"
    "  proc.exe-in-tmp proc.listener-undeclared proc.caps-beyond-config\n"
    "  proc.name-mismatch proc.traced mem.anon-elf flow.mining-pool\n"
    "  flow.cloud-metadata flow.after-cut flow.dga-name flow.nxdomain-many\n"
    "  flow.rare-tld flow.interactive flow.http-download yara.<rule-name>\n"
    "\n"
    "Examples:\n"
    "  contain analyze case-42.tar.zst --image web.tar\n"
    "  contain analyze case-42.tar.zst --image web.tar -o case-42-report --overwrite\n"
    "  contain analyze case-42 --image oci-layout -o case-42-json --fail-on critical --json\n"
    "  contain analyze case-42 --image web.tar -o case-42-gdb --sysroot case-42-root\n"
    "  cat case-42.tar.zst | contain analyze - --image web.tar -o case-42-stdin\n"
    "\n"
    "Exit status: 0 no finding at or above --fail-on, 1 one is (or the bag did\n"
    "not verify and no --force), 2 usage, 3 could not analyze.\n";

static const char *s_or(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : dflt;
}

/* the first line: what verify said of the bag */
static void print_verification(const json_t *bag, const struct cmd_colors *c)
{
	const char *path = cmd_tsafe(s_or(bag, "path", "?"));
	if (json_is_true(json_object_get(bag, "verified"))) {
		const char *sig = s_or(bag, "signature", "unknown");
		printf("bag: VERIFIED: '%s' is complete and untampered%s\n", path,
		       strcmp(sig, "valid") == 0		? ", signed by the expected key"
		       : strcmp(sig, "signer-not-checked") == 0 ? ", signed (signer not checked)"
								: ", not signed");
		return;
	}
	json_t *probs = json_object_get(bag, "problems");
	printf("%sbag: NOT VERIFIED (%s): '%s'%s%s\n", c->red, s_or(bag, "verdict", "invalid"),
	       path,
	       json_is_true(json_object_get(bag, "forced"))
		   ? ": ANALYZED ANYWAY (--force), nothing below is proven evidence"
		   : "",
	       c->off);
	json_t *p;
	size_t i;
	json_array_foreach(probs, i, p)
	{
		if (i >= 5) {
			printf("  and %zu more problems\n", json_array_size(probs) - i);
			break;
		}
		printf("  problem: %s\n", cmd_tsafe(json_string_value(p) ? json_string_value(p) : "?"));
	}
}

static void print_summary(const json_t *r, const char *dir, const struct cmd_colors *c)
{
	print_verification(json_object_get(r, "bag"), c);
	const json_t *sum = json_object_get(r, "summary"), *counts = json_object_get(sum, "counts");
	const char *verdict = s_or(sum, "verdict", "unknown");
	const char *vc = strcmp(verdict, "compromised") == 0  ? c->red
			 : strcmp(verdict, "suspicious") == 0 ? c->yellow
							      : c->off;
	char up[32];
	size_t n = 0;
	for (; verdict[n] && n < sizeof(up) - 1; n++)
		up[n] =
		    (char)(verdict[n] >= 'a' && verdict[n] <= 'z' ? verdict[n] - 32 : verdict[n]);
	up[n] = '\0';
	printf("%sverdict: %s%s", c->bold, vc, up);
	static const char *const sevs[] = {"critical", "high", "medium", "low", "info"};
	for (size_t i = 0; i < ARRAY_SIZE(sevs); i++)
		printf("%s %lld %s", i ? "," : ":",
		       (long long)json_integer_value(json_object_get(counts, sevs[i])), sevs[i]);
	printf("%s\n", c->off);
	json_t *img = json_object_get(r, "image");
	const char *match = s_or(img, "match", "unknown");
	printf("image: %s (%s): ", cmd_tsafe(s_or(img, "path", "?")), s_or(img, "form", "?"));
	if (strcmp(match, "match") == 0)
		printf("the digest the bag recorded matches\n");
	else if (strcmp(match, "mismatch") == 0)
		printf("%sNOT the image the bag recorded (%s)%s\n", c->red,
		       cmd_tsafe(s_or(img, "recorded_digest", "?")), c->off);
	else
		printf("the bag recorded no image digest\n");
	json_t *findings = json_object_get(r, "findings"), *f;
	size_t i;
	if (json_array_size(findings))
		printf("top findings:\n");
	json_array_foreach(findings, i, f)
	{
		if (i >= TOP_FINDINGS) {
			printf("  ... and %zu more (report.md, report.html)\n",
			       json_array_size(findings) - i);
			break;
		}
		const char *sev = s_or(f, "severity", "?");
		printf("  %s%-8s%s %-24s %s  %s%s%s\n", cmd_sev_color(c, sev), cmd_tsafe(sev), c->off,
		       cmd_tsafe(s_or(f, "id", "?")), cmd_tsafe(s_or(f, "path", "-")), c->dim,
		       cmd_tsafe(s_or(f, "title", "")), c->off);
	}
	printf("report: %s/\n", cmd_tsafe(dir));
	printf("html:   %s/report.html\n", cmd_tsafe(dir));
}

int cmd_analyze(struct globals *g, int argc, char **argv)
{
	struct analyze_opts o = {.stdin_fd = STDIN_FILENO};
	struct cmd_detect d = {.fail_on = "high"};
	bool json = g->json, color = true;
	int ch;
	while ((ch = getopt_long(argc, argv, "o:k:", opts, NULL)) != -1) {
		switch (ch) {
		case O_IMAGE:
			o.image = optarg;
			break;
		case O_REF:
			o.image_ref = optarg;
			break;
		case 'o':
			o.out_dir = optarg;
			break;
		case O_OVERWRITE:
			o.overwrite = true;
			break;
		case O_SYSROOT:
			if (!*optarg)
				return cmd_usage_error("analyze", "--sysroot needs a directory");
			o.sysroot.dir = optarg;
			break;
		case O_SRBYTES:
		case O_SRFILES: {
			unsigned long long v;
			if (parse_size(optarg, &v) < 0 || v < 1)
				return cmd_usage_error(
				    "analyze",
				    "--sysroot-max-%s '%s': a number, 1 or more (8G, 5000)",
				    ch == O_SRBYTES ? "bytes" : "files", optarg);
			*(ch == O_SRBYTES ? &o.sysroot.max_bytes : &o.sysroot.max_files) = v;
			break;
		}
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
		case O_NOYARA:
			o.no_yara = true;
			break;
		default: {
			int rc = cmd_detect_opt("analyze", ch, optarg, &d);
			if (rc > 0)
				return rc;
			if (rc < 0)
				return cmd_usage_error("analyze", "bad option");
		}
		}
	}
	if (argc - optind == 0)
		return cmd_usage_error("analyze", "a BAG is needed (a directory, a tar, or -)");
	if (argc - optind > 1)
		return cmd_usage_error("analyze", "takes one BAG, got %d", argc - optind);
	if (!o.image)
		return cmd_usage_error("analyze", "--image IMG is required (an OCI layout, an "
						  "oci-archive or a docker-archive)");
	if (o.out_dir && (strcmp(o.out_dir, "-") == 0 || !*o.out_dir))
		return cmd_usage_error("analyze",
				       "-o '%s': the report is a directory (--json "
				       "prints report.json to stdout)",
				       o.out_dir);
	if (o.no_yara && (d.nrules || d.yara.no_shipped || d.yara.cache_dir))
		return cmd_usage_error("analyze", "--no-yara with --rules, --no-shipped-rules or "
						  "--cache-dir");
	o.yara = d.yara;
	o.fail_on = d.fail_on;
	o.bag = argv[optind];
	if (strcmp(o.bag, "-") == 0 && isatty(STDIN_FILENO))
		return cmd_usage_error("analyze", "refusing to read a bag from a terminal");
	const char *nc = getenv("NO_COLOR");
	color = color && !json && isatty(STDOUT_FILENO) && !(nc && *nc);
	struct cmd_colors c = cmd_colors_for(color);

	struct err e = {0};
	json_t *r = NULL;
	char *dir = NULL;
	int rc = analyze_run(&o, &r, &dir, &e);
	cmd_print_yara_errors(r);
	int code;
	if (rc < 0) {
		json_t *bag = json_object_get(r, "bag");
		if (json_is_false(json_object_get(bag, "verified")) &&
		    !json_is_true(json_object_get(bag, "forced"))) {
			/* refused: the evidence did not verify */
			if (!json)
				print_verification(bag, &c);
			err_wrap(&e, "analyze");
			log_err(&e);
			code = EXIT_FOUND;
		} else {
			err_wrap(&e, "analyze");
			log_err(&e);
			code = err_exit_code(&e);
			if (code == EXIT_OK || code == EXIT_FOUND)
				code = EXIT_SYS;
		}
	} else {
		if (json)
			cmd_print_json(r);
		else
			print_summary(r, dir, &c);
		code = cmd_exit_for(r);
	}
	if (!json)
		print_sysroot(r); /* also what was written before an error */
	json_decref(r);
	free(dir);
	return code;
}

/* the sysroot written and the gdb command line per core (the library
 * shell-quotes it and leaves out a word with a control byte or a byte past
 * ASCII; DIR is printed only when it is printable ASCII) */
static void print_sysroot(const json_t *r)
{
	const json_t *s = json_object_get(json_object_get(r, "analyses"), "sysroot");
	if (!s)
		return;
	const char *dir = s_or(s, "dir", "");
	for (const char *p = dir; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			dir = "";
	printf("sysroot: %s%s%lld files, %lld directories, %lld symlinks, %lld bytes", dir,
	       *dir ? "/: " : "", (long long)json_integer_value(json_object_get(s, "files")),
	       (long long)json_integer_value(json_object_get(s, "directories")),
	       (long long)json_integer_value(json_object_get(s, "symlinks")),
	       (long long)json_integer_value(json_object_get(s, "bytes")));
	static const char *const extra[][2] = {{"special_skipped", "special files not made"},
					       {"setid_cleared", "set-id bits cleared"},
					       {"missing", "files without content"}};
	for (size_t i = 0; i < ARRAY_SIZE(extra); i++) {
		long long n = json_integer_value(json_object_get(s, extra[i][0]));
		if (n)
			printf(", %lld %s", n, extra[i][1]);
	}
	printf("\n");
	const json_t *g;
	size_t i;
	json_array_foreach(json_object_get(s, "gdb"), i, g)
	{
		printf("gdb:    %s\n", s_or(g, "command", "?"));
		if (json_is_true(json_object_get(g, "in_bag_tar")) && i == 0)
			printf("        (the cores are in the bag's tar: extract them first)\n");
	}
}
