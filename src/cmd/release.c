/* release.c: contain release REF — thaw, then remove exactly the tables the
 * quarantine added (in the netns and on the host), verified; audited. */
#include <getopt.h>
#include <string.h>

#include "contain/cmd.h"
#include "contain/isolate.h"

static void audit_or_warn(const struct globals *g, const char *target, const char *result, json_t *extra, int *rc)
{
	struct err e = {0};
	if (audit_record(g->audit_log, QAUDIT_RELEASE, target, result, extra, &e) < 0) {
		log_error("%s", e.msg);
		if (*rc == EXIT_OK)
			*rc = EXIT_SYS;
	}
}

/* REF matches several containers or states: exit 2, audited */
static int refuse_ambiguous(const struct globals *g, const char *ref, const struct err *e)
{
	int rc = EXIT_USAGE;
	log_error("release '%s': %s", ref, e->msg);
	json_t *x = json_pack("{s:s}", "error", e->msg);
	audit_or_warn(g, ref, "not-quarantined", x, &rc);
	json_decref(x);
	return rc;
}

static int release_stale(const struct globals *g)
{
	struct qtxn_opts t = {g->state_dir, g->audit_log, "release"};
	struct stale_outcome so;
	struct err e = {0};
	int rc = EXIT_OK;
	if (release_stale_run(&t, &so, &e) < 0) {
		log_error("release --stale: %s", e.msg);
		rc = EXIT_SYS;
	}
	size_t i;
	json_t *it;
	json_array_foreach(so.problems, i, it) {
		log_error("release --stale: %s", json_string_value(it));
		rc = EXIT_SYS;
	}
	if (so.audit_err.kind) {
		log_error("%s", so.audit_err.msg);
		rc = EXIT_SYS;
	}
	if (g->json) {
		json_t *out = json_pack("{s:O,s:O,s:O}", "removed", so.removed, "kept", so.kept,
					"problems", so.problems);
		cmd_print_json(out);
		json_decref(out);
	} else {
		json_array_foreach(so.removed, i, it) {
			const char *kind = json_string_value(json_object_get(it, "kind"));
			const char *name = json_string_value(json_object_get(it, "name"));
			const char *why = json_string_value(json_object_get(it, "why"));
			printf("removed %s%s%s%s: %s\n", kind, *name ? " '" : "", name,
			       *name ? "'" : "", why);
		}
		if (!json_array_size(so.removed))
			printf("nothing stale\n");
	}
	stale_outcome_free(&so);
	return rc;
}

int cmd_release(struct globals *g, int argc, char **argv)
{
	enum { O_KEEP_NET = 256, O_JSON, O_TIMEOUT, O_STALE };
	static const struct option opts[] = {
		{"keep-network", no_argument, NULL, O_KEEP_NET},
		{"json", no_argument, NULL, O_JSON},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"stale", no_argument, NULL, O_STALE},
		{0, 0, 0, 0},
	};
	struct release_opts ro = {.timeout = 10};
	bool stale = false;
	struct err e = {0};
	long long v;
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_KEEP_NET:
			ro.keep_network = true;
			break;
		case O_JSON:
			g->json = true;
			break;
		case O_TIMEOUT:
			if (parse_ll(optarg, 1, 3600, &v) < 0)
				return cmd_usage_error("release", "bad timeout '%s'", optarg);
			ro.timeout = (double)v;
			break;
		case O_STALE:
			stale = true;
			break;
		default:
			return cmd_usage_error("release", "bad option");
		}
	}
	if (stale) {
		if (optind != argc)
			return cmd_usage_error("release", "--stale takes no REF");
		if (ro.keep_network)
			return cmd_usage_error("release", "--stale and --keep-network exclude each other");
		return release_stale(g);
	}
	if (optind != argc - 1)
		return cmd_usage_error("release", "takes one REF (or --stale)");
	const char *ref = argv[optind];

	/* a container that is gone can still be released from its state, or
	 * from its tables found by name (a full id) */
	_cleanup_ctr_ struct ctr *ct = NULL;
	_cleanup_free_ char *id = NULL;
	if (runtime_resolve(&g->roots, ref, &ct, &e) == 0) {
		id = xstrdup(ct->id);
	} else {
		struct err e2 = {0};
		if (e.kind == ERR_AMBIG)
			return refuse_ambiguous(g, ref, &e);
		if (qstate_find(g->state_dir, ref, &id, &e2) < 0) {
			if (e2.kind == ERR_AMBIG)
				return refuse_ambiguous(g, ref, &e2);
			id = xstrdup(ref); /* its tables may still be there by name */
		}
		err_clear(&e);
	}

	struct qtxn_opts t = {g->state_dir, g->audit_log, "release"};
	struct release_outcome ro_out;
	int ok = release_run(ct, id, &t, &ro, &ro_out, &e);
	struct release_result *r = &ro_out.r;
	if (ro_out.audit_err.kind) {
		log_error("%s", ro_out.audit_err.msg);
		rc = EXIT_SYS;
	}
	if (ro_out.nothing) {
		log_error("release '%s': not quarantined (no state, no table of its name)", ref);
		release_outcome_free(&ro_out);
		return EXIT_FOUND;
	}
	struct sbuf done = SBUF_INIT;
	if (r->thawed)
		sbuf_adds(&done, "thawed");
	if (r->netns_removed)
		sbuf_printf(&done, "%sremoved the container netns table", done.len ? "; " : "");
	if (r->host_removed)
		sbuf_printf(&done, "%sremoved the host table", done.len ? "; " : "");
	if (r->kept_network)
		sbuf_printf(&done, "%snetwork cut kept", done.len ? "; " : "");
	if (!done.len)
		sbuf_adds(&done, "nothing to undo");
	if (r->stale)
		log_warn("release '%s': the quarantined incarnation is gone (%s): tables only, "
			 "no thaw",
			 id, r->stale_why);
	if (!ro_out.had_state)
		log_warn("release '%s': no state file: released the tables found by name", id);
	if (ok < 0) {
		rc = EXIT_SYS;
		log_error("release '%s': %s", id, e.msg);
		log_error("release '%s': done: %s; the state file keeps what is left", id, done.buf);
	} else if (*r->problems) {
		log_warn("release '%s': %s", id, r->problems);
	}
	if (ok == 0) {
		if (g->json) {
			json_t *out = json_object();
			json_object_set_new(out, "result", json_string("ok"));
			json_object_set_new(out, "id", json_string(id));
			json_object_set_new(out, "thawed", json_boolean(r->thawed));
			json_object_set_new(out, "netns_table_removed", json_boolean(r->netns_removed));
			json_object_set_new(out, "netns_table_gone", json_boolean(r->netns_gone));
			json_object_set_new(out, "host_table_removed", json_boolean(r->host_removed));
			json_object_set_new(out, "host_table_gone", json_boolean(r->host_gone));
			json_object_set_new(out, "kept_network", json_boolean(r->kept_network));
			json_object_set_new(out, "stale",
					    r->stale ? json_string(r->stale_why) : json_null());
			json_object_set_new(out, "from_state", json_boolean(ro_out.had_state));
			json_object_set_new(out, "problems",
					    *r->problems ? json_string(r->problems) : json_null());
			cmd_print_json(out);
			json_decref(out);
		} else {
			printf("released '%s': %s\n", id, done.buf);
		}
	}
	sbuf_free(&done);
	release_outcome_free(&ro_out);
	return rc;
}
