/* audit.c: contain audit verify [--bag BAG]... [--pubkey KEY] [FILE] —
 * check the node audit log: its genesis (this node), its hash chain, its
 * signatures, and that the heads bags recorded are still in it. */
#include <getopt.h>
#include <string.h>

#include "contain/audit.h"
#include "contain/cmd.h"

#define AUDIT_MAX_BAGS 4096

/* the problems on stderr always; what holds on stdout unless --json */
static void print_text(json_t *j, bool json)
{
	const char *file = json_string_value(json_object_get(j, "file"));
	const char *problem = json_string_value(json_object_get(j, "problem"));
	json_int_t seq = json_integer_value(json_object_get(j, "seq"));
	if (problem) {
		log_error("audit log '%s': line %lld is broken: %s", file,
			  (long long)json_integer_value(json_object_get(j, "first_bad_line")),
			  problem);
	} else if (!json) {
		printf("audit log '%s': genesis %s, %lld lines, chain intact, head %lld:%s",
		       file, json_string_value(json_object_get(j, "genesis")),
		       (long long)json_integer_value(json_object_get(j, "lines")), (long long)seq,
		       json_string_value(json_object_get(j, "head")));
		if (json_is_true(json_object_get(j, "signatures_checked")))
			printf(", every line signed by the key");
		printf("\n");
	}
	size_t i, k;
	json_t *b, *h;
	json_array_foreach(json_object_get(j, "bags"), i, b) {
		const char *bag = json_string_value(json_object_get(b, "bag"));
		const char *bp = json_string_value(json_object_get(b, "problem"));
		if (bp)
			log_error("bag '%s': %s", bag, bp);
		json_array_foreach(json_object_get(b, "heads"), k, h) {
			const char *phase = json_string_value(json_object_get(h, "phase"));
			long long hs = (long long)json_integer_value(json_object_get(h, "seq"));
			const char *hh = json_string_value(json_object_get(h, "hash"));
			if (json_is_true(json_object_get(h, "ok"))) {
				if (!json)
					printf("bag '%s': audit head %s %lld:%s is in the log\n", bag, phase, hs,
				       hh);
			} else {
				log_error("bag '%s': audit head %s %lld:%s is not in the log: %s", bag,
					  phase, hs, hh,
					  json_string_value(json_object_get(h, "problem")));
			}
		}
	}
	if (json_is_true(json_object_get(j, "truncated_tail")))
		log_warn("audit log '%s': the last line has no newline (cut mid-write?)", file);
}

int cmd_audit(struct globals *g, int argc, char **argv)
{
	enum { O_BAG = 256, O_PUBKEY, O_MACHINE, O_JSON };
	static const struct option opts[] = {
		{"bag", required_argument, NULL, O_BAG},
		{"pubkey", required_argument, NULL, O_PUBKEY},
		{"machine-id", required_argument, NULL, O_MACHINE},
		{"json", no_argument, NULL, O_JSON},
		{0, 0, 0, 0},
	};
	bool json = g->json;
	if (argc < 2 || strcmp(argv[1], "verify") != 0)
		return cmd_usage_error("audit", argc < 2 ? "needs an action%s" : "unknown action '%s'",
				       argc < 2 ? "" : argv[1]);
	const char *bags[AUDIT_MAX_BAGS];
	struct audit_verify_opts o = {.bags = bags};
	int ch;
	/* the options follow "verify": argv[1] is getopt's argv[0] */
	while ((ch = getopt_long(argc - 1, argv + 1, "k:", opts, NULL)) != -1) {
		switch (ch) {
		case O_BAG:
			if (o.nbags >= AUDIT_MAX_BAGS)
				return cmd_usage_error("audit", "at most %d --bag", AUDIT_MAX_BAGS);
			if (strcmp(optarg, "-") == 0)
				return cmd_usage_error("audit", "--bag takes a directory or a tar, not -");
			bags[o.nbags++] = optarg;
			break;
		case 'k':
		case O_PUBKEY: o.pubkey = optarg; break;
		case O_MACHINE:
			if (strlen(optarg) < 32 || strlen(optarg) >= AUDIT_ID_MAX ||
			    !is_hex_string(optarg))
				return cmd_usage_error("audit", "bad --machine-id '%s' (32 to 64 hex "
								"digits)", optarg);
			o.machine_id = optarg;
			break;
		case O_JSON: json = true; break;
		default: return cmd_usage_error("audit", "bad option");
		}
	}
	int rest = argc - 1 - optind;
	if (rest > 1)
		return cmd_usage_error("audit", "verify takes at most one FILE");
	const char *path = rest == 1 ? argv[1 + optind] : g->audit_log;
	json_t *j = NULL;
	struct err e = {0};
	int rc = audit_verify(path, &o, &j, &e);
	if (rc < 0) {
		log_error("audit verify '%s': %s", path, e.msg);
		return err_exit_code(&e) == EXIT_FOUND ? EXIT_FOUND : EXIT_SYS;
	}
	if (json)
		cmd_print_json(j);
	print_text(j, json);
	json_decref(j);
	return rc == 0 ? EXIT_OK : EXIT_FOUND;
}
