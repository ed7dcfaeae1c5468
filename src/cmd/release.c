/* release.c: contain release REF — thaw, then remove exactly the tables the
 * quarantine added (in the netns and on the host), verified; audited. */
#include <getopt.h>
#include <string.h>

#include "contain/cmd.h"
#include "contain/isolate.h"

static void audit_or_warn(const char *target, const char *result, json_t *extra, int *rc)
{
	struct err e = {0};
	if (audit_record(G.audit_log, "release", target, result, extra, &e) < 0) {
		log_error("%s", e.msg);
		if (*rc == EXIT_OK)
			*rc = EXIT_SYS;
	}
}

int cmd_release(int argc, char **argv)
{
	enum { O_KEEP_NET = 256, O_JSON, O_TIMEOUT };
	static const struct option opts[] = {
		{"keep-network", no_argument, NULL, O_KEEP_NET},
		{"json", no_argument, NULL, O_JSON},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{0, 0, 0, 0},
	};
	bool keep_net = false;
	double timeout = 10;
	struct err e = {0};
	long long v;
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_KEEP_NET:
			keep_net = true;
			break;
		case O_JSON:
			G.json = true;
			break;
		case O_TIMEOUT:
			if (parse_ll(optarg, 1, 3600, &v) < 0)
				return cmd_usage_error("release", "bad timeout '%s'", optarg);
			timeout = (double)v;
			break;
		default:
			return cmd_usage_error("release", "bad option");
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error("release", "takes one REF");
	const char *ref = argv[optind];

	/* a container that is gone can still be released from its state */
	_cleanup_ctr_ struct ctr *ct = NULL;
	_cleanup_free_ char *id = NULL;
	if (runtime_resolve(&G.roots, ref, &ct, &e) == 0) {
		id = xstrdup(ct->id);
	} else {
		struct err e2 = {0};
		if (e.kind == ERR_AMBIG || qstate_find(G.state_dir, ref, &id, &e2) < 0) {
			if (e.kind != ERR_AMBIG && e2.kind == ERR_AMBIG)
				e = e2;
			rc = e.kind == ERR_AMBIG ? EXIT_USAGE : EXIT_FOUND;
			if (e.kind == ERR_AMBIG)
				log_error("release '%s': %s", ref, e.msg);
			else
				log_error("release '%s': not quarantined (%s)", ref, e.msg);
			json_t *x = json_pack("{s:s}", "error", e.msg);
			audit_or_warn(ref, "not-quarantined", x, &rc);
			json_decref(x);
			return rc;
		}
		err_clear(&e);
	}

	_cleanup_close_ int lock = qstate_lock(G.state_dir, id, &e);
	if (lock < 0) {
		log_error("release '%s': %s", id, e.msg);
		return EXIT_SYS;
	}
	struct qstate st;
	if (qstate_load(G.state_dir, id, &st, &e) < 0) {
		rc = e.kind == ERR_NOTFOUND ? EXIT_FOUND : EXIT_SYS;
		if (e.kind == ERR_NOTFOUND)
			log_error("release '%s': not quarantined", id);
		else
			log_error("release '%s': %s", id, e.msg);
		json_t *x = json_pack("{s:s}", "error", e.msg);
		audit_or_warn(id, e.kind == ERR_NOTFOUND ? "not-quarantined" : "failed", x, &rc);
		json_decref(x);
		return rc;
	}
	/* same netns (by inode), maybe another path to it now */
	if (ct && ct->netns_path && ct->netns_inode == st.netns_inode &&
	    (!st.netns_path || strcmp(ct->netns_path, st.netns_path) != 0)) {
		free(st.netns_path);
		st.netns_path = xstrdup(ct->netns_path);
	}
	json_t *before = qstate_to_json(&st);
	struct release_result r;
	int ok = quarantine_release(G.state_dir, &st, keep_net, timeout, &r, &e);

	struct sbuf done = SBUF_INIT;
	if (r.thawed)
		sbuf_adds(&done, "thawed");
	if (r.netns_removed)
		sbuf_printf(&done, "%sremoved the container netns table", done.len ? "; " : "");
	if (r.host_removed)
		sbuf_printf(&done, "%sremoved the host table", done.len ? "; " : "");
	if (r.kept_network)
		sbuf_printf(&done, "%snetwork cut kept", done.len ? "; " : "");
	if (!done.len)
		sbuf_adds(&done, "nothing to undo");

	json_t *x = json_object();
	json_object_set_new(x, "state", before);
	json_object_set_new(x, "done", json_string(done.buf));
	json_object_set_new(x, "keep_network", json_boolean(keep_net));
	if (*r.problems)
		json_object_set_new(x, "problems", json_string(r.problems));
	if (ok < 0) {
		rc = EXIT_SYS;
		json_object_set_new(x, "error", json_string(e.msg));
		log_error("release '%s': %s", id, e.msg);
		log_error("release '%s': done: %s; the state file keeps what is left", id, done.buf);
	} else if (*r.problems) {
		log_warn("release '%s': %s", id, r.problems);
	}
	audit_or_warn(id, ok < 0 ? "partial" : "ok", x, &rc);
	if (ok == 0) {
		if (G.json) {
			json_t *out = json_object();
			json_object_set_new(out, "result", json_string("ok"));
			json_object_set_new(out, "id", json_string(id));
			json_object_set_new(out, "thawed", json_boolean(r.thawed));
			json_object_set_new(out, "netns_table_removed", json_boolean(r.netns_removed));
			json_object_set_new(out, "netns_table_gone", json_boolean(r.netns_gone));
			json_object_set_new(out, "host_table_removed", json_boolean(r.host_removed));
			json_object_set_new(out, "host_table_gone", json_boolean(r.host_gone));
			json_object_set_new(out, "kept_network", json_boolean(r.kept_network));
			json_object_set_new(out, "problems",
					    *r.problems ? json_string(r.problems) : json_null());
			cmd_print_json(out);
			json_decref(out);
		} else {
			printf("released '%s': %s\n", id, done.buf);
		}
	}
	json_decref(x);
	sbuf_free(&done);
	qstate_free(&st);
	return rc;
}
