/* main.c: the table of verbs, global options, exit codes. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "contain/cmd.h"

struct globals G;

static const struct cmd commands[] = {
	{"list", cmd_list, CMD_JSON, "list every container on the node, of every runtime",
	 "usage: contain list [--json]\n"
	 "\n"
	 "List every container on the node, of every runtime at once (runc, containerd,\n"
	 "Docker, podman, CRI-O): RUNTIME, ID, NAME, IMAGE, PID, STATUS, POD, NAMESPACE.\n"
	 "\n"
	 "  --json       one JSON array, full ids and every field\n"},
	{"inspect", cmd_inspect, CMD_JSON, "resolve one container and print everything about it",
	 "usage: contain inspect REF\n"
	 "\n"
	 "Resolve REF (a full id, a unique id prefix, a name, or a host PID inside the\n"
	 "container) and print it as JSON: runtime, id, name, image, pids, cgroups, netns,\n"
	 "rootfs and overlay dirs, OCI config, log path, labels, Kubernetes metadata.\n"
	 "An unknown REF exits 1; an ambiguous prefix lists the candidates and exits 2.\n"},
	{"version", cmd_version, 0, "print the version",
	 "usage: contain version\n"},
	{"help", cmd_help_verb, 0, "show help for a verb",
	 "usage: contain help [VERB]\n"},
};

static const char global_usage[] =
	"usage: contain [GLOBAL OPTIONS] VERB [ARGS]\n"
	"\n"
	"contain: container incident response and forensics.\n"
	"\n"
	"Global options:\n"
	"  --json                 machine-readable output on verbs that print data\n"
	"  --root RUNTIME=DIR     add a state root for a runtime (repeatable; replaces that\n"
	"                         runtime's default roots); also CONTAIN_ROOTS=rt=dir,...\n"
	"  --state-dir DIR        quarantine state (default /run/contain)\n"
	"  --audit-log FILE       node audit log (default /var/log/contain/audit.jsonl)\n"
	"  -v, --verbose          say more on stderr\n"
	"  -q, --quiet            no warnings on stderr\n"
	"  -h, --help             this help; `contain help VERB` for a verb\n"
	"  -V, --version          print the version\n"
	"\n"
	"Verbs:\n";

static void print_verbs(FILE *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\nExit status: 0 ok, 1 found a problem, 2 usage, 3 system error.\n", f);
}

const struct cmd *cmd_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int cmd_help(const char *name)
{
	const struct cmd *c = cmd_find(name);
	if (!c)
		return EXIT_USAGE;
	fputs(c->usage, stdout);
	return EXIT_OK;
}

int cmd_usage_error(const char *name, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s: %s", name, msg);
	const struct cmd *c = cmd_find(name);
	if (c) {
		const char *nl = strchr(c->usage, '\n');
		fprintf(stderr, "%.*s\n", nl ? (int)(nl - c->usage) : (int)strlen(c->usage),
			c->usage);
	}
	fprintf(stderr, "try 'contain help %s'\n", name);
	return EXIT_USAGE;
}

int cmd_print_json(json_t *v)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		return -1;
	fputc('\n', stdout);
	return 0;
}

int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cmd_usage_error("version", "takes no arguments");
	printf("contain %s\n", CONTAIN_VERSION);
	return EXIT_OK;
}

int cmd_help_verb(int argc, char **argv)
{
	if (argc < 2) {
		fputs(global_usage, stdout);
		print_verbs(stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return cmd_usage_error("help", "takes at most one verb");
	if (!cmd_find(argv[1])) {
		log_error("unknown verb '%s'", argv[1]);
		print_verbs(stderr);
		return EXIT_USAGE;
	}
	return cmd_help(argv[1]);
}

static int finish(int code)
{
	/* a truncated bag or report on stdout is a failure (git run_builtin) */
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		log_error("write to stdout failed: %s", strerror(errno));
		return EXIT_SYS;
	}
	return code;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"root", required_argument, NULL, 'r'},
		{"state-dir", required_argument, NULL, 's'},
		{"audit-log", required_argument, NULL, 'a'},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0, 0, 0, 0},
	};
	struct err e = {0};
	int c;

	G.state_dir = getenv("CONTAIN_STATE_DIR");
	if (!G.state_dir || !*G.state_dir)
		G.state_dir = "/run/contain";
	G.audit_log = getenv("CONTAIN_AUDIT_LOG");
	if (!G.audit_log || !*G.audit_log)
		G.audit_log = "/var/log/contain/audit.jsonl";
	if (rt_roots_from_env(&G.roots, &e) < 0) {
		log_err(&e);
		return EXIT_USAGE;
	}

	/* global options stop at the verb ('+') */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			G.json = true;
			break;
		case 'r':
			if (rt_roots_add(&G.roots, optarg, &e) < 0) {
				log_err(&e);
				return EXIT_USAGE;
			}
			break;
		case 's':
			G.state_dir = optarg;
			break;
		case 'a':
			G.audit_log = optarg;
			break;
		case 'v':
			log_set_verbosity(log_verbosity() + 1);
			break;
		case 'q':
			log_set_verbosity(-1);
			break;
		case 'h':
			fputs(global_usage, stdout);
			print_verbs(stdout);
			return finish(EXIT_OK);
		case 'V':
			printf("contain %s\n", CONTAIN_VERSION);
			return finish(EXIT_OK);
		default:
			log_error("unknown global option '%s'", argv[optind - 1]);
			fputs(global_usage, stderr);
			print_verbs(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(global_usage, stderr);
		print_verbs(stderr);
		return EXIT_USAGE;
	}
	const struct cmd *cmd = cmd_find(argv[optind]);
	if (!cmd) {
		log_error("unknown verb '%s'", argv[optind]);
		print_verbs(stderr);
		return EXIT_USAGE;
	}
	/* `contain VERB --help` anywhere on its line, before any checks */
	for (int i = optind + 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return finish(cmd_help(cmd->name));
	}
	if ((cmd->flags & CMD_NEEDS_ROOT) && geteuid() != 0) {
		log_error("%s: must be run as root", cmd->name);
		return EXIT_SYS;
	}
	int vi = optind;
	optind = 0; /* reset getopt for the verb (glibc: 0 reinitialises) */
	opterr = 1;
	int rc = cmd->fn(argc - vi, argv + vi);
	rt_roots_free(&G.roots);
	return finish(rc);
}
