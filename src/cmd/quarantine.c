/* quarantine.c: contain quarantine REF — cut the network (in the netns and
 * on the host) and freeze (started first, the cut applied while the tasks
 * freeze); verified, recorded, audited. */
#include <getopt.h>
#include <string.h>

#include "contain/cmd.h"
#include "contain/isolate.h"

static void audit_or_warn(const struct globals *g, const char *action, const char *target, const char *result,
			  json_t *extra, int *rc)
{
	struct err e = {0};
	if (audit_record(g->audit_log, action, target, result, extra, &e) < 0) {
		log_error("%s", e.msg);
		if (*rc == EXIT_OK)
			*rc = EXIT_SYS;
	}
}

static void print_dry_run(const struct globals *g, const struct ctr *c, const struct quarantine_result *r)
{
	if (g->json) {
		json_t *j = json_object();
		json_object_set_new(j, "dry_run", json_true());
		json_object_set_new(j, "container", ctr_brief_json(c));
		if (r->already)
			json_object_set_new(j, "already", json_true());
		json_object_set_new(j, "netns_ruleset",
				    r->netns_ruleset ? json_string(r->netns_ruleset) : json_null());
		json_object_set_new(j, "host_ruleset",
				    r->host_ruleset ? json_string(r->host_ruleset) : json_null());
		json_object_set_new(j, "freeze_control_file",
				    r->freeze_ctl ? json_string(r->freeze_ctl) : json_null());
		json_object_set_new(j, "freeze_state_file",
				    r->freeze_state ? json_string(r->freeze_state) : json_null());
		if (r->skipped)
			json_object_set_new(j, "host_skipped", json_string(r->skipped));
		cmd_print_json(j);
		json_decref(j);
		return;
	}
	if (r->already) {
		printf("# '%s' is already quarantined: %s\n", c->id, r->holds);
		return;
	}
	if (r->netns_ruleset) {
		printf("# in the container netns %s (inode %llu):\n", c->netns_path,
		       c->netns_inode);
		fputs(r->netns_ruleset, stdout);
	}
	if (r->host_ruleset) {
		printf("# in the host netns:\n");
		fputs(r->host_ruleset, stdout);
	} else if (r->netns_ruleset) {
		printf("# in the host netns: nothing (no veth to the host)\n");
	}
	if (r->skipped)
		printf("# not cut on the host: %s\n", r->skipped);
	if (r->freeze_ctl)
		printf("# freeze: write '%s' to %s, wait for %s in %s\n",
		       strstr(r->freeze_ctl, "cgroup.freeze") ? "1" : "FROZEN", r->freeze_ctl,
		       strstr(r->freeze_ctl, "cgroup.freeze") ? "'frozen 1'" : "'FROZEN'",
		       r->freeze_state);
}

int cmd_quarantine(struct globals *g, int argc, char **argv)
{
	enum { O_NET_ONLY = 256, O_FREEZE_ONLY, O_ALLOW, O_DRY_RUN, O_JSON, O_NFLOG, O_FREEZER,
	       O_TIMEOUT };
	static const struct option opts[] = {
		{"net-only", no_argument, NULL, O_NET_ONLY},
		{"freeze-only", no_argument, NULL, O_FREEZE_ONLY},
		{"allow", required_argument, NULL, O_ALLOW},
		{"dry-run", no_argument, NULL, O_DRY_RUN},
		{"json", no_argument, NULL, O_JSON},
		{"nflog-group", required_argument, NULL, O_NFLOG},
		{"freezer", required_argument, NULL, O_FREEZER},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{0, 0, 0, 0},
	};
	struct quarantine_opts qo = {.net = true, .freeze = true, .timeout = 10};
	struct ncut_allow allow[NCUT_MAX_ALLOW];
	size_t nallow = 0;
	bool net_only = false, freeze_only = false;
	struct err e = {0};
	long long v;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_NET_ONLY:
			net_only = true;
			break;
		case O_FREEZE_ONLY:
			freeze_only = true;
			break;
		case O_ALLOW:
			if (nallow >= NCUT_MAX_ALLOW)
				return cmd_usage_error("quarantine", "at most %d --allow",
						       NCUT_MAX_ALLOW);
			if (ncut_allow_parse(optarg, &allow[nallow], &e) < 0)
				return cmd_usage_error("quarantine", "%s", e.msg);
			nallow++;
			break;
		case O_DRY_RUN:
			qo.dry_run = true;
			break;
		case O_JSON:
			g->json = true;
			break;
		case O_NFLOG:
			if (parse_ll(optarg, 1, 65535, &v) < 0)
				return cmd_usage_error("quarantine", "bad nflog group '%s'", optarg);
			qo.ncut.nflog_group = (unsigned)v;
			break;
		case O_FREEZER:
			if (frz_pref_parse(optarg, &qo.freezer) < 0)
				return cmd_usage_error("quarantine", "bad freezer '%s'", optarg);
			break;
		case O_TIMEOUT:
			if (parse_ll(optarg, 1, 3600, &v) < 0)
				return cmd_usage_error("quarantine", "bad timeout '%s'", optarg);
			qo.timeout = (double)v;
			break;
		default:
			return cmd_usage_error("quarantine", "bad option");
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error("quarantine", "takes one REF");
	if (net_only && freeze_only)
		return cmd_usage_error("quarantine", "--net-only and --freeze-only exclude each other");
	if (freeze_only && nallow)
		return cmd_usage_error("quarantine", "--allow needs the network cut");
	if (freeze_only)
		ncut_prewarm_cancel(); /* no cut: no libnftables context ahead */
	qo.net = !freeze_only;
	qo.freeze = !net_only;
	qo.ncut.allow = allow;
	qo.ncut.nallow = nallow;
	const char *ref = argv[optind];

	/* its libraries were opened while it resolved (CMD_LIBS_BG): checked
	 * before anything is written, the audit line of a failure too */
	_cleanup_ctr_ struct ctr *ct = NULL;
	int rr = runtime_resolve(&g->roots, ref, &ct, &e);
	if (cmd_libs_ready("quarantine") != 0)
		return EXIT_SYS;
	if (rr < 0) {
		int rc = err_exit_code(&e);
		log_error("quarantine '%s': %s", ref, e.msg);
		if (!qo.dry_run) {
			json_t *x = json_pack("{s:s}", "error", e.msg);
			audit_or_warn(g, QAUDIT_QUARANTINE, ref, "failed", x, &rc);
			json_decref(x);
		}
		return rc;
	}

	struct qtxn_opts t = {g->state_dir, qo.dry_run ? NULL : g->audit_log, "quarantine"};
	struct quarantine_outcome qo_out;
	int rc = EXIT_OK;
	int ok = quarantine_run(ct, &t, &qo, &qo_out, &e);
	struct quarantine_result *r = &qo_out.r;
	struct qstate *st = &qo_out.state;
	if (r->stale)
		log_warn("quarantine '%s': a stale state was replaced (%s)", ct->id, r->stale_why);
	if (*r->repaired)
		log_warn("quarantine '%s': re-applied what was missing: %s", ct->id, r->repaired);
	if (qo.dry_run) {
		if (ok < 0) {
			log_error("quarantine '%s': %s", ct->id, e.msg);
			rc = err_exit_code(&e);
		} else {
			print_dry_run(g, ct, r);
		}
		quarantine_outcome_free(&qo_out);
		return rc;
	}
	if (qo_out.audit_err.kind) {
		log_error("%s", qo_out.audit_err.msg);
		rc = EXIT_SYS;
	}
	if (ok < 0) {
		/* fail closed: 3; a container that is not running and got nothing: 1 */
		rc = e.kind == ERR_WRONGSTATE && !st->net && !st->frozen ? EXIT_FOUND : EXIT_SYS;
		log_error("quarantine '%s': %s", ct->id, e.msg);
		if (st->net || st->frozen)
			log_error("quarantine '%s': in place now: %s (read back from the kernel: %s)",
				  ct->id, r->holds, qverify_word(&qo_out.after));
		else
			log_error("quarantine '%s': nothing is in place", ct->id);
	}
	if (r->skipped)
		log_warn("quarantine '%s': not cut on the host: %s", ct->id, r->skipped);

	if (ok == 0) {
		if (g->json) {
			json_t *out = json_object();
			json_object_set_new(out, "result", json_string(qo_out.result));
			json_object_set(out, "container", json_object_get(qo_out.audit, "container"));
			json_object_set_new(out, "holds", json_string(r->holds));
			json_object_set_new(out, "state", st->id ? qstate_to_json(st) : json_null());
			json_object_set_new(out, "verified", qverify_to_json(&qo_out.after));
			json_object_set_new(out, "stale_replaced",
					    r->stale ? json_string(r->stale_why) : json_null());
			if (*r->repaired)
				json_object_set_new(out, "repaired", json_string(r->repaired));
			if (r->did_freeze)
				json_object_set_new(out, "frozen_pids",
						    json_integer((json_int_t)r->frz.npids));
			cmd_print_json(out);
			json_decref(out);
		} else if (r->already) {
			printf("'%s' is already quarantined (verified in the kernel): %s; nothing "
			       "changed\n",
			       ct->id, r->holds);
		} else {
			printf("quarantined '%s': %s\n", ct->id, r->holds);
		}
	}
	quarantine_outcome_free(&qo_out);
	return rc;
}
