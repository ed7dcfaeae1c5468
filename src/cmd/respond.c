/* respond.c: contain respond — detector alerts to playbook steps
 * (src/respond/respond.c), or --check a playbook dir. */
#include <getopt.h>
#include <string.h>

#include "contain/audit.h"
#include "contain/cmd.h"
#include "contain/respond.h"

struct ev_ctx {
	bool json;
};

/* each decision and step: a JSON line, or one line of text */
static void print_event(void *ctx, const json_t *ev)
{
	struct ev_ctx *c = ctx;
	if (c->json) {
		json_dumpf(ev, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		fflush(stdout);
		return;
	}
	const char *action = json_string_value(json_object_get(ev, "action"));
	const char *target = json_string_value(json_object_get(ev, "target"));
	const char *result = json_string_value(json_object_get(ev, "result"));
	const char *pb = json_string_value(json_object_get(ev, "playbook"));
	const char *step = json_string_value(json_object_get(ev, "step"));
	const char *err = json_string_value(json_object_get(ev, "error"));
	const char *why = json_string_value(json_object_get(ev, "why"));
	const char *ae = json_string_value(json_object_get(ev, "audit_error"));
	const char *bag = json_string_value(json_object_get(ev, "bag"));
	char id[16];
	snprintf(id, sizeof(id), "%.12s", target ? target : "");
	if (!action || !result)
		return;
	if (strcmp(action, "respond-intake") == 0) {
		printf("respond: intake: %lld received, %lld malformed, %lld unmatched, %lld host, "
		       "%lld matched, %lld deduped, %lld dropped\n",
		       (long long)json_integer_value(json_object_get(ev, "received")),
		       (long long)json_integer_value(json_object_get(ev, "malformed")),
		       (long long)json_integer_value(json_object_get(ev, "unmatched")),
		       (long long)json_integer_value(json_object_get(ev, "host")),
		       (long long)json_integer_value(json_object_get(ev, "matched")),
		       (long long)json_integer_value(json_object_get(ev, "deduped")),
		       (long long)json_integer_value(json_object_get(ev, "dropped")));
	} else if (strcmp(action, "respond") == 0) {
		/* a decision: acted, dry-run, allowlisted, rate-limited, unresolved... */
		printf("respond: %s %s (playbook %s)%s%s%s%s\n",
		       json_string_value(json_object_get(ev, "decision")) ?: result, id, pb ?: "?",
		       why ? ": " : "", why ?: "", err ? ": " : "", err ?: "");
	} else if (strcmp(action, "respond-step") == 0) {
		/* a quarantine after a capture's own cut finds it in place: "already",
		 * read back from the kernel */
		const char *holds = json_string_value(json_object_get(ev, "holds"));
		printf("respond:   %s %s: %s%s%s%s%s%s\n", step ?: "?", id,
		       strcmp(result, "already") == 0 ? "already in place" : result,
		       holds && *holds ? " (" : "", holds && *holds ? holds : "",
		       holds && *holds ? ")" : "", bag ? ", bag " : "", bag ?: "");
		if (err)
			printf("respond:     %s\n", err);
	} else if (strcmp(action, "respond-done") == 0) {
		printf("respond: done %s (playbook %s): %s, %.1f s after the alert\n", id,
		       pb ?: "?", result, json_number_value(json_object_get(ev, "seconds")));
	} else if (strcmp(action, "respond-input") == 0) {
		printf("respond: input %s: %s\n", target ?: "",
		       json_string_value(json_object_get(ev, "input")) ?: "?");
	} else {
		/* respond-start, -stop, -reload */
		printf("respond: %s: %s%s%s\n", action + strlen("respond-") * str_has_prefix(action, "respond-"),
		       result, err ? ": " : why ? ": " : "", err ?: why ?: "");
	}
	if (ae)
		log_error("respond: %s", ae);
	fflush(stdout);
}

static int check_dir(const char *dir)
{
	struct pb_set *s = NULL;
	json_t *errors = NULL;
	struct err e = {0};
	if (pb_load_dir(dir, &s, &errors, &e) < 0) {
		size_t i;
		json_t *x;
		json_array_foreach(errors, i, x)
		{
			const char *f = json_string_value(json_object_get(x, "file"));
			json_int_t line = json_integer_value(json_object_get(x, "line"));
			const char *m = json_string_value(json_object_get(x, "message"));
			if (line > 0)
				log_error("%s:%lld: %s", f ? f : dir, (long long)line, m ? m : "?");
			else
				log_error("%s: %s", f ? f : dir, m ? m : "?");
		}
		if (!json_array_size(errors))
			log_error("playbooks '%s': %s", dir, e.msg);
		json_decref(errors);
		return e.kind == ERR_SYS ? EXIT_SYS : EXIT_FOUND;
	}
	json_decref(errors);
	json_t *d = pb_describe(s);
	int rc = cmd_print_json(d) < 0 ? EXIT_SYS : EXIT_OK;
	json_decref(d);
	pb_set_free(s);
	return rc;
}

int cmd_respond(struct globals *g, int argc, char **argv)
{
	enum {
		O_PLAYBOOKS = 256,
		O_BAGS,
		O_LISTEN,
		O_FOLLOW,
		O_DRY,
		O_CHECK,
		O_DEDUP,
		O_RATE,
		O_WORKERS,
		O_JSON
	};
	static const struct option opts[] = {
	    {"playbooks", required_argument, NULL, O_PLAYBOOKS},
	    {"bags", required_argument, NULL, O_BAGS},
	    {"listen", required_argument, NULL, O_LISTEN},
	    {"follow", required_argument, NULL, O_FOLLOW},
	    {"dry-run", no_argument, NULL, O_DRY},
	    {"check", required_argument, NULL, O_CHECK},
	    {"dedup-seconds", required_argument, NULL, O_DEDUP},
	    {"rate", required_argument, NULL, O_RATE},
	    {"workers", required_argument, NULL, O_WORKERS},
	    {"json", no_argument, NULL, O_JSON},
	    {0, 0, 0, 0},
	};
	struct respond_opts o = {.in_fd = STDIN_FILENO};
	const char *check = NULL;
	long long v;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_PLAYBOOKS:
			o.playbooks = optarg;
			break;
		case O_BAGS:
			o.bags = optarg;
			break;
		case O_LISTEN:
			o.listen = optarg;
			break;
		case O_FOLLOW:
			o.follow = optarg;
			break;
		case O_DRY:
			o.dry_run = true;
			break;
		case O_CHECK:
			check = optarg;
			break;
		case O_DEDUP:
			if (parse_ll(optarg, 1, 86400, &v) < 0)
				return cmd_usage_error(
				    "respond", "bad --dedup-seconds '%s' (1..86400)", optarg);
			o.dedup_seconds = (unsigned)v;
			break;
		case O_RATE:
			if (parse_ll(optarg, 1, 100000, &v) < 0)
				return cmd_usage_error("respond", "bad --rate '%s' (1..100000)",
						       optarg);
			o.rate_per_min = (unsigned)v;
			break;
		case O_WORKERS:
			if (parse_ll(optarg, 1, 64, &v) < 0)
				return cmd_usage_error("respond", "bad --workers '%s' (1..64)",
						       optarg);
			o.workers = (unsigned)v;
			break;
		case O_JSON:
			g->json = true;
			break;
		default:
			return cmd_usage_error("respond", "bad option");
		}
	}
	if (optind != argc)
		return cmd_usage_error("respond", "takes no arguments");
	if (check) {
		if (o.listen || o.follow || o.dry_run || o.bags || o.playbooks)
			return cmd_usage_error("respond", "--check takes only a directory");
		return check_dir(check);
	}
	if (o.listen && o.follow)
		return cmd_usage_error("respond", "--listen and --follow exclude each other");
	if (o.listen && !str_has_prefix(o.listen, "unix:"))
		return cmd_usage_error("respond", "--listen takes unix:PATH");
	/* --check reads; the engine acts (the table's CMD_NEEDS_ROOT, here) */
	if (geteuid() != 0) {
		log_error("respond: must be run as root");
		return EXIT_SYS;
	}

	struct ev_ctx ctx = {g->json};
	o.state_dir = g->state_dir;
	o.audit_log = g->audit_log;
	o.roots = &g->roots;
	o.event = print_event;
	o.event_ctx = &ctx;
	struct err e = {0};
	if (g->audit_key && audit_set_key(g->audit_key, &e) < 0) {
		log_error("respond: --audit-key '%s': %s", g->audit_key, e.msg);
		return EXIT_USAGE;
	}
	if (respond_run(&o, &e) < 0) {
		log_error("respond: %s", e.msg);
		return EXIT_SYS;
	}
	return EXIT_OK;
}
