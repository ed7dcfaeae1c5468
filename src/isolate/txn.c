/* txn.c: the quarantine and release transactions, one library call each,
 * used alike by the verbs, capture and respond:
 *   lock -> load (stale? reconcile) -> intent -> apply -> verify -> audit.
 * Nothing here prints; results and warnings are data. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/isolate.h"

static void audit(const struct qtxn_opts *t, const char *action, const char *target,
		  const char *result, json_t *extra, struct err *ae)
{
	struct err e = {0};
	if (!t->audit_log)
		return;
	if (t->by)
		json_object_set_new(extra, "by", json_string(t->by));
	if (audit_record(t->audit_log, action, target, result, extra, &e) < 0)
		*ae = e;
}

void quarantine_outcome_free(struct quarantine_outcome *o)
{
	quarantine_result_free(&o->r);
	qstate_free(&o->state);
	json_decref(o->audit);
	memset(o, 0, sizeof(*o));
}

int quarantine_run(const struct ctr *c, const struct qtxn_opts *t,
		   const struct quarantine_opts *o, struct quarantine_outcome *out,
		   struct err *e)
{
	memset(out, 0, sizeof(*out));
	_cleanup_close_ int lock = -1;
	if (!o->dry_run) {
		struct err le = {0};
		lock = qstate_lock(t->state_dir, c->id, e);
		if (lock < 0)
			return -1;
		(void)qstate_clean_tmp(t->state_dir, NULL, &le);
	}
	if (qstate_load(t->state_dir, c->id, &out->state, e) < 0) {
		if (e->kind != ERR_NOTFOUND)
			return -1;
		err_clear(e);
	}
	int ok = quarantine_apply(c, t->state_dir, o, &out->state, &out->r, e);
	if (o->dry_run)
		return ok;
	struct err ve = {0};
	quarantine_verify(c, t->state_dir, o->net ? QV_NET : 0, &out->after, &ve);

	json_t *x = json_object();
	json_object_set_new(x, "container", ctr_brief_json(c));
	json_t *op = json_object();
	json_object_set_new(op, "net", json_boolean(o->net));
	json_object_set_new(op, "freeze", json_boolean(o->freeze));
	json_t *al = json_array();
	for (size_t i = 0; i < o->ncut.nallow; i++) {
		char b[96];
		ncut_allow_format(&o->ncut.allow[i], b, sizeof(b));
		json_array_append_new(al, json_string(b));
	}
	json_object_set_new(op, "allow", al);
	json_object_set_new(op, "nflog_group", json_integer(o->ncut.nflog_group));
	json_object_set_new(x, "options", op);
	json_object_set_new(x, "holds", json_string(out->r.holds));
	if (out->r.stale)
		json_object_set_new(x, "stale_replaced", json_string(out->r.stale_why));
	if (*out->r.repaired)
		json_object_set_new(x, "repaired", json_string(out->r.repaired));
	if (out->r.adopted)
		json_object_set_new(x, "adopted", json_true());
	if (out->state.id)
		json_object_set_new(x, "state", qstate_to_json(&out->state));
	json_object_set_new(x, "verified", qverify_to_json(&out->after));
	if (out->r.skipped)
		json_object_set_new(x, "host_skipped", json_string(out->r.skipped));
	bool holds_any = out->state.net || out->state.frozen;
	if (ok < 0) {
		json_object_set_new(x, "error", json_string(e->msg));
		out->result = holds_any ? "partial" : "failed";
	} else {
		/* the answer is the kernel's: what was asked must read back */
		bool net_ok = !o->net || out->after.net_cut;
		bool frz_ok = !o->freeze || out->after.frozen;
		if (!net_ok || !frz_ok) {
			ok = err_set(e, ERR_SYS, "quarantine did not read back from the kernel:%s%s",
				     net_ok ? "" : " the network is not cut",
				     frz_ok ? "" : " the cgroup is not frozen");
			json_object_set_new(x, "error", json_string(e->msg));
			out->result = "partial";
		} else if (out->r.already) {
			out->result = "already";
		} else {
			out->result = "ok";
			json_object_set_new(x, "seconds", json_real(out->r.seconds));
			if (out->r.did_freeze)
				json_object_set_new(x, "frozen_pids",
						    json_integer((json_int_t)out->r.frz.npids));
		}
	}
	audit(t, QAUDIT_QUARANTINE, c->id, out->result, x, &out->audit_err);
	out->audit = x;
	return ok;
}

void release_outcome_free(struct release_outcome *o)
{
	json_decref(o->before);
	memset(o, 0, sizeof(*o));
}

/* No state: the tables found by their names (the netns table's needs the
 * state dir's key: without one, none there is ours). */
static bool state_from_tables(const struct ctr *c, const char *id, const char *state_dir,
			      struct qstate *s)
{
	char ntab[NCUT_TABLE_MAX], htab[NCUT_TABLE_MAX];
	struct ncut_table_info *ti = xcalloc(1, sizeof(*ti));
	_cleanup_free_ struct ncut_table_info *tf = ti;
	struct err e = {0};
	if (qstate_table_names(state_dir, false, id, ntab, htab, &e) < 0 &&
	    e.kind != ERR_NOTFOUND)
		log_warn("release: %s", e.msg);
	err_clear(&e);
	memset(s, 0, sizeof(*s));
	s->id = xstrdup(id);
	if (c && c->pid > 0) {
		s->pid = c->pid;
		if (proc_pid_starttime(c->pid, &s->pid_start, &e) < 0)
			s->pid = 0;
		s->netns_inode = c->netns_inode;
	}
	if (c && c->netns_path && !c->host_netns && c->pid > 0 &&
	    ncut_table_info(c->netns_path, c->netns_inode, "inet", ntab, ti, &e) == 0 &&
	    ti->exists) {
		s->netns_table = xstrdup(ntab);
		s->netns_path = xstrdup(c->netns_path);
		s->net = true;
	}
	err_clear(&e);
	if (ncut_table_info(NULL, 0, "netdev", htab, ti, &e) == 0 && ti->exists) {
		s->host_table = xstrdup(htab);
		s->host_handle = ti->handle;
		s->net = true;
	}
	return s->net;
}

int release_run(const struct ctr *c, const char *id, const struct qtxn_opts *t,
		const struct release_opts *o, struct release_outcome *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	int lock = qstate_lock(t->state_dir, id, e);
	if (lock < 0)
		return -1;
	struct err le = {0};
	(void)qstate_clean_tmp(t->state_dir, NULL, &le);
	struct qstate st;
	int rc = 0;
	json_t *x = json_object();
	if (qstate_load(t->state_dir, id, &st, e) == 0) {
		out->had_state = true;
	} else if (e->kind != ERR_NOTFOUND) {
		json_object_set_new(x, "error", json_string(e->msg));
		out->result = "failed";
		rc = -1;
		goto audit;
	} else if (!state_from_tables(c, id, t->state_dir, &st)) {
		qstate_free(&st);
		json_object_set_new(x, "error", json_string(e->msg));
		out->nothing = true;
		out->result = "not-quarantined";
		(void)qstate_unlock_remove(t->state_dir, id, lock, &le);
		lock = -1;
		rc = -1;
		goto audit;
	} else {
		err_clear(e);
	}
	/* same netns (by inode), maybe another path to it now */
	if (c && c->netns_path && c->netns_inode == st.netns_inode &&
	    (!st.netns_path || strcmp(c->netns_path, st.netns_path) != 0)) {
		free(st.netns_path);
		st.netns_path = xstrdup(c->netns_path);
	}
	out->before = qstate_to_json(&st);
	json_object_set_new(x, "state", json_incref(out->before));
	json_object_set_new(x, "from", json_string(out->had_state ? "state" : "tables found by name"));
	rc = quarantine_release(c, t->state_dir, &st, o->keep_network, o->timeout, &out->r, e);
	bool left = st.net || st.frozen;
	qstate_free(&st);
	struct sbuf done = SBUF_INIT;
	if (out->r.thawed)
		sbuf_adds(&done, "thawed");
	if (out->r.netns_removed)
		sbuf_printf(&done, "%sremoved the container netns table", done.len ? "; " : "");
	if (out->r.host_removed)
		sbuf_printf(&done, "%sremoved the host table", done.len ? "; " : "");
	if (out->r.kept_network)
		sbuf_printf(&done, "%snetwork cut kept", done.len ? "; " : "");
	json_object_set_new(x, "done", json_string(done.len ? done.buf : "nothing to undo"));
	sbuf_free(&done);
	json_object_set_new(x, "keep_network", json_boolean(o->keep_network));
	if (out->r.stale)
		json_object_set_new(x, "stale", json_string(out->r.stale_why));
	if (*out->r.problems)
		json_object_set_new(x, "problems", json_string(out->r.problems));
	if (rc < 0) {
		json_object_set_new(x, "error", json_string(e->msg));
		out->result = "partial";
	} else {
		out->result = "ok";
	}
	if (!left) { /* nothing left: the lock file goes too */
		(void)qstate_unlock_remove(t->state_dir, id, lock, &le);
		lock = -1;
	}
audit:
	if (lock >= 0)
		close(lock);
	audit(t, QAUDIT_RELEASE, id, out->result, x, &out->audit_err);
	json_decref(x);
	return rc;
}

void stale_outcome_free(struct stale_outcome *o)
{
	json_decref(o->removed);
	json_decref(o->kept);
	json_decref(o->problems);
	memset(o, 0, sizeof(*o));
}

static void note(json_t *a, const char *kind, const char *name, const char *why)
{
	json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "kind", kind, "name", name, "why", why));
}

/* one state file: released if its incarnation is gone; claims its host table */
static void sweep_state(const struct qtxn_opts *t, const char *id, struct stale_outcome *out,
			json_t *claimed)
{
	struct err e = {0};
	int lock = qstate_lock(t->state_dir, id, &e);
	if (lock < 0) {
		json_array_append_new(out->problems, json_sprintf("'%s': %s", id, e.msg));
		return;
	}
	struct qstate s;
	if (qstate_load(t->state_dir, id, &s, &e) < 0) {
		if (e.kind != ERR_NOTFOUND)
			json_array_append_new(out->problems, json_sprintf("'%s': %s", id, e.msg));
		close(lock);
		return;
	}
	char why[256];
	if (qstate_live(&s, NULL, why, sizeof(why))) {
		char ht[NCUT_TABLE_MAX];
		ncut_table_names(NULL, id, NULL, ht);
		json_object_set_new(claimed, ht, json_true());
		note(out->kept, "state", id, "its container lives");
		qstate_free(&s);
		close(lock);
		return;
	}
	struct release_result r;
	char ht[NCUT_TABLE_MAX];
	snprintf(ht, sizeof(ht), "%s", s.host_table ? s.host_table : "");
	json_t *x = json_pack("{s:s,s:o}", "stale", why, "state", qstate_to_json(&s));
	int rc = quarantine_release(NULL, t->state_dir, &s, false, 10, &r, &e);
	bool left = s.net || s.frozen;
	if (rc < 0) {
		json_array_append_new(out->problems, json_sprintf("'%s': %s", id, e.msg));
		json_object_set_new(x, "error", json_string(e.msg));
	} else {
		note(out->removed, "state", id, why);
		if (r.host_removed)
			note(out->removed, "host-table", ht, why);
	}
	if (*r.problems)
		json_object_set_new(x, "problems", json_string(r.problems));
	audit(t, QAUDIT_RELEASE, id, rc < 0 ? "partial" : "ok", x, &out->audit_err);
	json_decref(x);
	qstate_free(&s);
	struct err le = {0};
	if (!left)
		(void)qstate_unlock_remove(t->state_dir, id, lock, &le);
	else
		close(lock);
}

/* a lock file without a state: removed (under the lock, re-checked) */
static void sweep_lock(const struct qtxn_opts *t, const char *id, struct stale_outcome *out)
{
	struct err e = {0};
	char p[4096];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s.json", t->state_dir, id);
	if (lstat(p, &st) == 0)
		return;
	int lock = qstate_lock(t->state_dir, id, &e);
	if (lock < 0)
		return;
	if (lstat(p, &st) == 0) {
		close(lock);
		return;
	}
	if (qstate_unlock_remove(t->state_dir, id, lock, &e) == 0)
		note(out->removed, "lock", id, "no state");
}

int release_stale_run(const struct qtxn_opts *t, struct stale_outcome *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	out->removed = json_array();
	out->kept = json_array();
	out->problems = json_array();
	size_t ntmp = 0;
	if (qstate_clean_tmp(t->state_dir, &ntmp, e) < 0)
		return -1;
	if (ntmp)
		note(out->removed, "temp", "", "left by a killed run");
	json_t *claimed = json_object();
	json_t *ids = json_array(), *locks = json_array();
	/* one readdir of the state dir */
	DIR *d = opendir(t->state_dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);
			if (de->d_name[0] == '.' || l > 200)
				continue;
			if (str_has_suffix(de->d_name, ".json"))
				json_array_append_new(ids, json_stringn(de->d_name, l - 5));
			else if (str_has_suffix(de->d_name, ".lock"))
				json_array_append_new(locks, json_stringn(de->d_name, l - 5));
		}
		closedir(d);
	}
	size_t i;
	json_t *it;
	json_array_foreach(ids, i, it) sweep_state(t, json_string_value(it), out, claimed);
	json_array_foreach(locks, i, it) sweep_lock(t, json_string_value(it), out);
	json_decref(ids);
	json_decref(locks);

	/* host tables of ours that no live state claims */
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	if (ncut_host_tables(&names, &n, e) < 0) {
		rc = -1;
		n = 0;
	}
	for (size_t k = 0; k < n; k++) {
		char why[256];
		bool orphan = false;
		struct err le = {0};
		if (json_object_get(claimed, names[k])) {
			note(out->kept, "host-table", names[k], "claimed by a live quarantine");
		} else if (qhost_table_orphaned(names[k], 0, &orphan, why, sizeof(why), &le) < 0) {
			json_array_append_new(out->problems, json_sprintf("%s: %s", names[k], le.msg));
		} else if (!orphan) {
			note(out->kept, "host-table", names[k], why);
		} else {
			bool gone;
			if (ncut_table_del(NULL, 0, "netdev", names[k], 0, &gone, NULL, &le) < 0) {
				json_array_append_new(out->problems,
						      json_sprintf("%s: %s", names[k], le.msg));
			} else {
				note(out->removed, "host-table", names[k], why);
				json_t *x = json_pack("{s:s,s:s}", "host_table", names[k], "stale", why);
				audit(t, QAUDIT_RELEASE, names[k], "ok", x, &out->audit_err);
				json_decref(x);
			}
		}
		free(names[k]);
	}
	free(names);
	json_decref(claimed);
	return rc;
}
