/* main.c: the table of verbs, global options, exit codes. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "contain/audit.h"
#include "contain/cmd.h"
#include "contain/dlib.h"
#include "contain/isolate.h"
#include "contain/sha256x.h"


/* the libraries of the verbs (CMD_LIBS) */
#define L_ARCHIVE DLIB_BIT(DLIB_ARCHIVE)
#define L_MAGIC DLIB_BIT(DLIB_MAGIC)
#define L_YARA DLIB_BIT(DLIB_YARA)
#define L_PCAP DLIB_BIT(DLIB_PCAP)
#define L_NFT DLIB_BIT(DLIB_NFTABLES)
#define L_CRYPTO DLIB_BIT(DLIB_CRYPTO)
/* a bag written, a container cut and captured */
#define L_CAPTURE CMD_LIBS(L_ARCHIVE | L_MAGIC | L_PCAP | L_NFT | L_CRYPTO)
/* a bag, an image or a pcap read, files typed, rules matched */
#define L_DETECT CMD_LIBS(L_ARCHIVE | L_MAGIC | L_YARA | L_PCAP | L_CRYPTO)

static const struct cmd commands[] = {
	{"list", cmd_list, CMD_JSON, "list every container on the node, of every runtime",
	 "usage: contain list [--json]\n"
	 "\n"
	 "List every container on the node, of every runtime at once (runc, containerd,\n"
	 "Docker, podman, CRI-O): RUNTIME, ID, NAME, IMAGE, PID, STATUS, QUARANTINE, POD,\n"
	 "NAMESPACE. QUARANTINE is read from the kernel, not from the state file:\n"
	 "cut+frozen, cut, frozen, stale (a state of a container that is gone), or -.\n"
	 "With the cgroup2 freezer, runc's STATUS and the v1 freezer still say running.\n"
	 "\n"
	 "  --json       one JSON array, full ids and every field (\"quarantine\" too)\n"},
	{"inspect", cmd_inspect, CMD_JSON, "resolve one container and print everything about it",
	 "usage: contain inspect REF\n"
	 "\n"
	 "Resolve REF (a full id, a unique id prefix, a name, or a host PID inside the\n"
	 "container) and print it as JSON: runtime, id, name, image, pids, cgroups, netns,\n"
	 "rootfs and overlay dirs, OCI config, log path, labels, Kubernetes metadata,\n"
	 "and its quarantine as the kernel holds it (\"quarantine\": net_cut, frozen,\n"
	 "frozen_by, stale). An unknown REF exits 1; an ambiguous prefix lists the candidates and exits 2.\n"},
	{"quarantine", cmd_quarantine,
	 CMD_NEEDS_ROOT | CMD_JSON | CMD_LIBS_BG | CMD_CRYPTO_SIG | CMD_LIBS(L_NFT | L_CRYPTO),
	 "cut a container's network and freeze it, verified",
	 "usage: contain quarantine [OPTIONS] REF\n"
	 "\n"
	 "Stop the bleeding without destroying evidence: the container keeps its memory,\n"
	 "sockets and files, but can no longer talk to anyone or run. The network cut:\n"
	 "an nftables table of its own in the container's netns (inet contain_q_<12 hex\n"
	 "of an HMAC of the id keyed by the state dir's netns.key: the container cannot\n"
	 "take the name first), everything dropped before conntrack but loopback and\n"
	 "--allow, and one on the\n"
	 "host (netdev contain_h_<id12>) on the host end of each of its veths, which\n"
	 "root inside the container cannot lift. The freeze: the unified cgroup's\n"
	 "cgroup.freeze, else the v1 freezer, verified for every pid. The freeze is\n"
	 "started first and the tables are added while the kernel freezes the tasks (a\n"
	 "frozen task sends nothing); both are then confirmed by the kernel, and a cut\n"
	 "that fails leaves the container frozen. The intent (tables,\n"
	 "devices, cgroup, and the container's incarnation: init pid and start time,\n"
	 "netns inode) is written to the state dir before anything is touched, so a\n"
	 "killed run leaves what release or a new quarantine finish. 'Already\n"
	 "quarantined' is read back from the kernel, never from the state file: what is\n"
	 "missing is applied again; a state of a container that is gone (same id, new\n"
	 "container) is stale, reported and replaced. Everything is in the audit log.\n"
	 "On a failure what is in place stays (exit 3).\n"
	 "Containers on the host network are refused for the network part.\n"
	 "\n"
	 "  --net-only           cut the network, do not freeze\n"
	 "  --freeze-only        freeze, do not cut the network\n"
	 "  --allow CIDR[:PORT]  keep traffic to/from CIDR (and PORT) open, e.g. a\n"
	 "                       collector; IPv6 with a port as [CIDR]:PORT; repeatable\n"
	 "  --nflog-group N      log each dropped packet to NFLOG group N first\n"
	 "  --dry-run            print the nft rulesets and cgroup files it would touch,\n"
	 "                       touch nothing\n"
	 "  --timeout SECS       how long to wait for the freeze to hold (default 10)\n"
	 "  --freezer v1|cgroup2 force one freezer (default: the unified cgroup when it\n"
	 "                       holds the pids, else v1; for tests)\n"
	 "  --json               print the state as JSON\n"},
	{"release", cmd_release, CMD_NEEDS_ROOT | CMD_JSON | CMD_CRYPTO_SIG | CMD_LIBS(L_NFT | L_CRYPTO),
	 "undo a quarantine, explicitly",
	 "usage: contain release [--keep-network] [--json] REF\n"
	 "       contain release --stale [--json]\n"
	 "\n"
	 "Thaw the container, then remove exactly the nftables tables its quarantine\n"
	 "added (in its netns and on the host), verified, and audited. A table already\n"
	 "gone is reported and the rest goes on. A container that is not quarantined\n"
	 "exits 1. A container that is gone is released from its state file; its\n"
	 "tables are removed but nothing is thawed: a new container may own its cgroup\n"
	 "now. Without a state file, the tables of its names are removed.\n"
	 "\n"
	 "  --stale         remove every state, host table (netdev contain_h_*) and lock\n"
	 "                  whose container is gone (a host table binds a device NAME: a\n"
	 "                  new veth of that name would be cut); a live container's\n"
	 "                  cgroup is never touched; prints what it removed\n"
	 "  --keep-network  thaw only; the network cut stays\n"
	 "  --timeout SECS  how long to wait for the thaw (default 10)\n"
	 "  --json          print what was done as JSON\n"},
	{"audit", cmd_audit, CMD_LIBS(L_ARCHIVE | L_CRYPTO), "check the node audit log, and the heads bags recorded",
	 "usage: contain audit verify [--bag BAG]... [--pubkey KEY] [--machine-id ID]\n"
	 "                            [--json] [FILE]\n"
	 "\n"
	 "Check the node audit log (default the --audit-log file,\n"
	 "/var/log/contain/audit.jsonl): its first line is a genesis that binds it to\n"
	 "this node (machine id, host name, creation time, a random nonce) and starts\n"
	 "its hash chain; every line after it holds the hash of the one before. An\n"
	 "empty log, a first line that is not a genesis, or a genesis of another\n"
	 "machine fails, as does the first broken line (named).\n"
	 "\n"
	 "Root can rewrite a log from end to end, so a log alone proves little: every\n"
	 "bag records the log's head (seq and hash of its last line) at the start and\n"
	 "the end of its capture. With --bag, each of those heads must still be in the\n"
	 "log, under the same genesis: a log cut short, rebuilt, or from another node\n"
	 "fails, naming the bag and the head. This reads only the bag's bag-info.txt:\n"
	 "run `contain verify BAG` too, to prove the bag itself untampered.\n"
	 "\n"
	 "  --bag BAG          a bag (directory, .tar, .tar.gz, .tar.zst) whose audit\n"
	 "                     heads must be in the log; repeatable\n"
	 "  -k, --pubkey KEY   every line must carry a valid signature by this Ed25519\n"
	 "                     key (the public half of --audit-key)\n"
	 "  --machine-id ID    the node the log must be from (default this one's: for a\n"
	 "                     log copied off its node)\n"
	 "  --json             the result as data\n"
	 "\n"
	 "Exit status: 0 intact (and every head found), 1 a problem found (named),\n"
	 "2 usage, 3 the log could not be read.\n"},
	{"capture", cmd_capture, CMD_NEEDS_ROOT | CMD_JSON | L_CAPTURE,
	 "collect a container's evidence into a sealed bag",
	 "usage: contain capture [OPTIONS] REF -o OUT\n"
	 "\n"
	 "Collect the evidence of one container into a BagIt bag, in the order of\n"
	 "volatility: start the pcap in its netns (it runs through the cut) and the\n"
	 "pcap of the host table's drops (NFLOG of the host netns, a group of its\n"
	 "own: capture-host-nflog.pcap), cut the network (the quarantine's own code),\n"
	 "snapshot processes and network state, freeze, take the memory of every\n"
	 "process (ELF cores), the overlay upperdir (an OCI layer tar and files.json),\n"
	 "the OCI config, runtime state, image, mountinfo and logs; stop the pcaps;\n"
	 "seal. index.json states the windows (observed, cut and running, frozen)\n"
	 "with their times. The container is left quarantined and frozen (what the\n"
	 "summary says holds is read back from the kernel at the end): `contain\n"
	 "release REF` is the responder's decision.\n"
	 "OUT: a directory, NAME.tar, NAME.tar.gz, NAME.tar.zst, or - (a tar on stdout).\n"
	 "\n"
	 "  -o, --output OUT         where the bag goes (required)\n"
	 "  --case ID                External-Identifier in bag-info.txt\n"
	 "  --examiner NAME          Contact-Name in bag-info.txt\n"
	 "  --sign-key KEY           seal with this Ed25519 key (contain keygen)\n"
	 "  --no-quarantine          capture the live container, touch nothing\n"
	 "  --allow CIDR[:PORT]      keep this open through the cut (repeatable)\n"
	 "  --observe SECS           pcap SECS seconds with the container untouched before\n"
	 "                           the cut (default 0, at most 3600): it keeps talking\n"
	 "                           to whoever it talks to (a C2, an exfiltration) meanwhile\n"
	 "  --watch-cut SECS         after the cut, leave its processes running, cut off,\n"
	 "                           SECS seconds before the freeze (default 0, at most\n"
	 "                           3600): what they try once cut off is recorded, but\n"
	 "                           meanwhile they can act on their own files and\n"
	 "                           processes (wipe themselves, kill, encrypt)\n"
	 "  --pcap-seconds N         how long the pcap runs after those windows (default 10)\n"
	 "  --pcap-max-bytes N       bound of the pcap files together (default 256M; a\n"
	 "                           quarter of it for the host's NFLOG pcap)\n"
	 "  --no-pcap, --no-fs, --no-memory   leave that collector out\n"
	 "  --memory-full            add file-backed read-only mappings to the cores\n"
	 "  --max-memory-bytes N     bound of all cores together (default none)\n"
	 "  --max-file-bytes N       files above this are hashed, content left out\n"
	 "                           (default 1G)\n"
	 "  --log-max-bytes N        newest bytes of the container log kept (default 16M)\n"
	 "  --freezer v1|cgroup2     force one freezer (default auto)\n"
	 "  --json                   print the bag's summary as JSON (stderr with -o -)\n"
	 "Sizes take k, M, G suffixes.\n"
	 "\n"
	 "A container that exits during the capture still gives a sealed bag naming\n"
	 "what it could no longer give. Every capture is one line in the audit log\n"
	 "(ok, partial or failed, with the error).\n"
	 "\n"
	 "Exit status: 0 everything collected, 1 some artifact missing or partial\n"
	 "(listed), 2 usage, 3 no bag could be written (or sealed).\n"},
	{"verify", cmd_verify, CMD_JSON | CMD_CRYPTO_SIG | CMD_LIBS(L_CRYPTO), /* libarchive: cmd_verify */
	 "prove a bag complete, untampered and signed",
	 "usage: contain verify BAG [--pubkey KEY] [--json]\n"
	 "\n"
	 "Check an evidence bag: a directory, a tar, a .tar.gz or .tar.zst, or - for a\n"
	 "tar on stdin (plain, gzip or zstd; known by its first bytes, not its name),\n"
	 "read in one streaming pass (never extracted). Checks bagit.txt\n"
	 "and bag-info.txt, every payload file against manifest-sha256.txt (and no file\n"
	 "left out), Payload-Oxum, tagmanifest-sha256.txt, the custody chain and its head\n"
	 "in bag-info, Contain-Status, and the Ed25519 signature. Tar entries that try\n"
	 "to leave the bag (absolute, .., links) and sparse entries are reported, never\n"
	 "written or hashed. An unsealed bag, or a tar cut short, is checked against its\n"
	 "custody log and reported as incomplete. Any other input format (xz, bzip2,\n"
	 "lzop, zip...) is refused by name: no external program is ever run. The first\n"
	 "1000 problems are listed, the rest counted.\n"
	 "\n"
	 "  -k, --pubkey KEY  the signer must be this public key (PEM); without it a\n"
	 "                    signature is checked against the key the bag names:\n"
	 "                    \"signed, signer not checked\"\n"
	 "  --json            the checks as data\n"
	 "\n"
	 "Exit status: 0 valid, 1 invalid, incomplete or in a format not read, 2 usage,\n"
	 "3 could not read.\n"},
	{"analyze", cmd_analyze, CMD_JSON | L_DETECT,
	 "analyze a bag offline against its image: changes, findings, reports",
	 cmd_analyze_usage},
	{"scan", cmd_scan, CMD_JSON | L_DETECT,
	 "YARA and the memory and network findings on a directory, a file or a live container",
	 cmd_scan_usage},
	{"respond", cmd_respond, CMD_JSON | L_CAPTURE,
	 "read detector alerts, match playbooks, capture and quarantine",
	 "usage: contain respond [--playbooks DIR] [--bags DIR]\n"
	 "                       [--listen unix:PATH | --follow FILE] [--dry-run] [--json]\n"
	 "       contain respond --check DIR\n"
	 "\n"
	 "Read detector alerts (Falco, falcosidekick, Tetragon, Tracee, Sysdig Secure:\n"
	 "one JSON document a line) and run the steps of the playbooks they match on\n"
	 "the container they name: capture (evidence first: its pcap runs before its\n"
	 "own cut), quarantine, freeze, release_after, notify. The container is\n"
	 "resolved through discovery (a full id or Falco's 12-character one, every\n"
	 "runtime); a host event (container \"host\" or none) is never acted on; the\n"
	 "allow list (DIR/allow.json) is checked on the resolved container. The same\n"
	 "alert for the same playbook is acted on once within the dedup window;\n"
	 "actions are rate-limited node-wide, queued (bounded; a full queue drops,\n"
	 "audited) and run by workers, one at a time per container. Reading never\n"
	 "waits on an action. Every decision and step is a line of the audit log, and\n"
	 "the alerts that lead to none are summarized there once a second; each is\n"
	 "printed too (--json: as JSON lines). A capture's bag records the alert\n"
	 "(normalized and raw) in its custody log and index.json.\n"
	 "Input: stdin to its end (the actions queued finish, then exit 0: a batch\n"
	 "replay), or --follow, or --listen. A line is at most 1 MiB; a longer or\n"
	 "malformed one is skipped (audited) and the next one read. SIGTERM or SIGINT:\n"
	 "the actions in flight finish, the queued ones are dropped (audited), exit 0.\n"
	 "SIGHUP: the playbooks are read again; a set with an error keeps the old one\n"
	 "(audited). Playbook files and their dir must be root's and not writable by\n"
	 "group or others.\n"
	 "\n"
	 "  --playbooks DIR     the playbooks (default /etc/contain/playbooks)\n"
	 "  --bags DIR          where capture steps write their bags unless the playbook\n"
	 "                      names a place (default /var/lib/contain/bags)\n"
	 "  --listen unix:PATH  a unix socket (made 0600; a stale one replaced, a live\n"
	 "                      one refused), up to 64 clients at once: JSON lines, or\n"
	 "                      HTTP/1.1 POST of a JSON body or an array of them, with a\n"
	 "                      Content-Length (answered 200, or 400 naming the problem)\n"
	 "  --follow FILE       the lines added to FILE from now on, like tail -F: across\n"
	 "                      rotation (the new file from its start) and truncation\n"
	 "  --dry-run           decide and log what would be done, touch nothing\n"
	 "  --dedup-seconds N   the dedup window (default 300)\n"
	 "  --rate N            node-wide actions a minute (default 60)\n"
	 "  --workers N         actions at once, on different containers (default 4)\n"
	 "  --check DIR         load the playbooks of DIR, print what each matches (JSON)\n"
	 "                      or each error with its file and line (exit 1)\n"
	 "  --json              each decision and step as a JSON line\n"
	 "\n"
	 "Exit status: 0 the input ended or a signal stopped it, 1 --check found an\n"
	 "error, 2 usage, 3 it could not start (playbooks refused, socket, not root).\n"},
	{"keygen", cmd_keygen, CMD_JSON | CMD_LIBS(L_CRYPTO), "make an Ed25519 key pair for sealing bags",
	 "usage: contain keygen -o NAME [--json]\n"
	 "\n"
	 "Write NAME.key (PEM PKCS8 private key, mode 0600) and NAME.pub (PEM public\n"
	 "key) and print the fingerprint: SHA-256 of the raw 32-byte public key, the\n"
	 "Contain-Signer-Fingerprint of the bags it seals. Never overwrites a file.\n"
	 "\n"
	 "  -o, --output NAME  base name of the two files (required)\n"
	 "  --json             print the file names and fingerprint as JSON\n"
	 "\n"
	 "Exit status: 0 ok, 2 usage, 3 a file exists or could not be written.\n"},
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
	"  --audit-log FILE       node audit log (default /var/log/contain/audit.jsonl);\n"
	"                         also CONTAIN_AUDIT_LOG\n"
	"  --audit-key KEY        sign every audit line with this Ed25519 key (contain\n"
	"                         keygen; check with audit verify --pubkey); also\n"
	"                         CONTAIN_AUDIT_KEY\n"
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

int cmd_libs_ready(const char *name)
{
	struct err e = {0};
	if (dlib_load_bg_wait(&e) == 0)
		return 0;
	log_error("%s: %s", name, e.msg);
	return EXIT_SYS;
}

int cmd_usage_error(const char *name, const char *fmt, ...)
{
	/* a missing library is said first, as if it was opened at start */
	if (cmd_libs_ready(name) != 0)
		return EXIT_SYS;
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

int cmd_version(struct globals *g, int argc, char **argv)
{
	(void)g;
	(void)argv;
	if (argc > 1)
		return cmd_usage_error("version", "takes no arguments");
	printf("contain %s\n", CONTAIN_VERSION);
	return EXIT_OK;
}

int cmd_help_verb(struct globals *g, int argc, char **argv)
{
	(void)g;
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
	/* the global options: handed to the verb, never a global */
	struct globals g = {0};
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"root", required_argument, NULL, 'r'},
		{"state-dir", required_argument, NULL, 's'},
		{"audit-log", required_argument, NULL, 'a'},
		{"audit-key", required_argument, NULL, 'k'},
		{"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0, 0, 0, 0},
	};
	struct err e = {0};
	int c;

	g.state_dir = getenv("CONTAIN_STATE_DIR");
	if (!g.state_dir || !*g.state_dir)
		g.state_dir = "/run/contain";
	g.audit_log = getenv("CONTAIN_AUDIT_LOG");
	if (!g.audit_log || !*g.audit_log)
		g.audit_log = "/var/log/contain/audit.jsonl";
	g.audit_key = getenv("CONTAIN_AUDIT_KEY");
	if (g.audit_key && !*g.audit_key)
		g.audit_key = NULL;
	if (rt_roots_from_env(&g.roots, &e) < 0) {
		log_err(&e);
		return EXIT_USAGE;
	}

	/* global options stop at the verb ('+') */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+vqhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			g.json = true;
			break;
		case 'r':
			if (rt_roots_add(&g.roots, optarg, &e) < 0) {
				log_err(&e);
				return EXIT_USAGE;
			}
			break;
		case 's':
			g.state_dir = optarg;
			break;
		case 'a':
			g.audit_log = optarg;
			break;
		case 'k':
			g.audit_key = optarg;
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
	/* the libraries the verb may use, before it touches anything (or
	 * while it resolves, CMD_LIBS_BG; not with --audit-key: read below) */
	unsigned libs = CMD_LIBS_OF(cmd->flags);
	if ((cmd->flags & CMD_CRYPTO_SIG) && !g.audit_key && sha256x_accelerated())
		libs &= ~L_CRYPTO; /* opened by the verb if it checks a signature */
	if ((cmd->flags & CMD_LIBS_BG) && !g.audit_key)
		/* with libnftables: its first context made there too */
		dlib_load_bg_start(libs, libs & L_NFT ? ncut_prewarm : NULL);
	else if (dlib_load_mask(libs, &e) < 0) {
		log_error("%s: %s", cmd->name, e.msg);
		return EXIT_SYS;
	}
	/* the verbs that write the audit log sign it: a bad key stops them
	 * before they act */
	if ((cmd->flags & CMD_NEEDS_ROOT) && g.audit_key && audit_set_key(g.audit_key, &e) < 0) {
		log_error("%s: --audit-key '%s': %s", cmd->name, g.audit_key, e.msg);
		return EXIT_USAGE;
	}
	int vi = optind;
	optind = 0; /* reset getopt for the verb (glibc: 0 reinitialises) */
	opterr = 1;
	int rc = cmd->fn(&g, argc - vi, argv + vi);
	/* never left loading (the verb has waited on every path that acts) */
	if (rc == EXIT_OK && cmd_libs_ready(cmd->name) != 0)
		rc = EXIT_SYS;
	(void)dlib_load_bg_wait(NULL);
	rt_roots_free(&g.roots);
	return finish(rc);
}
