/* quarantine.c: the whole operation, network first, then freeze; and its
 * undoing. Used by the quarantine and release verbs and by capture.
 * Fail closed: whatever is in place stays; the state file says what. */
#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/isolate.h"

void quarantine_result_free(struct quarantine_result *r)
{
	free(r->netns_ruleset);
	free(r->host_ruleset);
	free(r->skipped);
	free(r->freeze_ctl);
	free(r->freeze_state);
	memset(r, 0, sizeof(*r));
}

static void now(char **dst)
{
	char t[64];
	time_rfc3339_ns(t, sizeof(t));
	free(*dst);
	*dst = xstrdup(t);
}

static void describe(const struct qstate *s, char *buf, size_t n)
{
	struct sbuf b = SBUF_INIT;
	if (s->net && s->netns_table)
		sbuf_printf(&b, "network cut in the container netns (table inet %s)",
			    s->netns_table);
	if (s->net && s->host_table) {
		sbuf_printf(&b, "%son the host (table netdev %s on", b.len ? " and " : "network cut ",
			    s->host_table);
		for (size_t i = 0; i < s->ndevs; i++)
			sbuf_printf(&b, " %s", s->devs[i].ifname);
		sbuf_adds(&b, ")");
	} else if (s->net && s->netns_table) {
		sbuf_adds(&b, ", no host table (no veth to the host)");
	}
	if (!s->net)
		sbuf_adds(&b, "network not cut");
	if (s->frozen)
		sbuf_printf(&b, "; frozen (%s %s)", frz_kind_name(s->freezer.kind), s->freezer.dir);
	else
		sbuf_adds(&b, "; not frozen");
	snprintf(buf, n, "%s", b.buf ? b.buf : "");
	sbuf_free(&b);
}

/* ---- the incarnation ---- */

int qinc_read(pid_t pid, struct qinc *now, struct err *e)
{
	memset(now, 0, sizeof(*now));
	if (pid <= 0)
		return err_set(e, ERR_NOTFOUND, "no pid");
	now->pid = pid;
	struct err le = {0};
	if (proc_pid_starttime(pid, &now->pid_start, &le) < 0)
		return err_set(e, ERR_NOTFOUND, "pid %d is gone", (int)pid);
	char p[64];
	struct stat st;
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	if (stat(p, &st) < 0) {
		if (errno == ENOENT || errno == ESRCH) /* a zombie has no namespaces left */
			return err_set(e, ERR_NOTFOUND, "pid %d has exited", (int)pid);
		return err_sys(e, errno, "stat '%s'", p); /* cannot tell */
	}
	now->netns_inode = (unsigned long long)st.st_ino;
	return 0;
}

bool qinc_same(const struct qinc *rec, const struct qinc *now, pid_t ctr_pid, char *why,
	       size_t n)
{
	if (rec->pid <= 0) {
		snprintf(why, n, "no init pid recorded");
		return false;
	}
	if (!now) {
		snprintf(why, n, "its init pid %d is gone", (int)rec->pid);
		return false;
	}
	if (rec->pid_start && now->pid_start != rec->pid_start) {
		snprintf(why, n, "pid %d is another process now (start time %llu, recorded %llu)",
			 (int)rec->pid, now->pid_start, rec->pid_start);
		return false;
	}
	if (rec->netns_inode && now->netns_inode != rec->netns_inode) {
		snprintf(why, n, "pid %d is in another netns now (inode %llu, recorded %llu)",
			 (int)rec->pid, now->netns_inode, rec->netns_inode);
		return false;
	}
	if (ctr_pid > 0 && ctr_pid != rec->pid) {
		snprintf(why, n, "the container's init is pid %d now (recorded %d)", (int)ctr_pid,
			 (int)rec->pid);
		return false;
	}
	return true;
}

bool qstate_live(const struct qstate *s, const struct ctr *c, char *why, size_t n)
{
	struct qinc rec = {s->pid, s->pid_start, s->netns_inode}, now;
	struct err e = {0};
	bool have = qinc_read(s->pid, &now, &e) == 0;
	pid_t cp = c ? (c->pid > 0 ? c->pid : -1) : 0;
	if (c && cp < 0) {
		snprintf(why, n, "the container is not running");
		return false;
	}
	return qinc_same(&rec, have ? &now : NULL, cp, why, n);
}

static void state_init(const struct ctr *c, struct qstate *s)
{
	if (s->id)
		return;
	s->id = xstrdup(c->id);
	s->runtime = xstrdup(rt_kind_name(c->runtime));
	s->name = c->name ? xstrdup(c->name) : NULL;
	s->pid = c->pid;
	struct err e = {0};
	if (proc_pid_starttime(c->pid, &s->pid_start, &e) < 0)
		s->pid_start = 0;
	s->cg_unified = c->cgroup_unified ? xstrdup(c->cgroup_unified) : NULL;
	s->cg_freezer = c->cgroup_freezer ? xstrdup(c->cgroup_freezer) : NULL;
	s->netns_path = c->netns_path ? xstrdup(c->netns_path) : NULL;
	s->netns_inode = c->netns_inode;
	now(&s->created);
}

static int save(const char *dir, struct qstate *s, struct err *e)
{
	now(&s->updated);
	return qstate_save(dir, s, e);
}

/* A save on a thread of its own, while this one waits for the freeze: the
 * two fsyncs of the state (file and dir) overlap the kernel's freeze and
 * its check. The state is only read meanwhile (by both); joined, and its
 * result taken, before anything else happens. */
struct save_job {
	pthread_t thread;
	const char *dir;
	const struct qstate *s;
	int rc;
	struct err e;
};

static void *save_thread(void *p)
{
	struct save_job *j = p;
	j->rc = qstate_save(j->dir, j->s, &j->e);
	return NULL;
}

static int save_start(struct save_job *j, const char *dir, struct qstate *s)
{
	memset(j, 0, sizeof(*j));
	now(&s->updated);
	j->dir = dir;
	j->s = s;
	return pthread_create(&j->thread, NULL, save_thread, j) == 0 ? 0 : -1;
}

static int save_finish(struct save_job *j, struct err *e)
{
	pthread_join(j->thread, NULL);
	if (j->rc < 0)
		*e = j->e;
	return j->rc;
}

/* ---- verify: what holds, from the kernel ---- */

/* one more problem for a problems buffer ("; " between them, cut at its
 * size): the read-back's (vproblemf) and release's (problem) */
static void problems_vadd(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t l = strlen(buf);
	if (l && l < size - 2) {
		memcpy(buf + l, "; ", 3);
		l += 2;
	}
	vsnprintf(buf + l, size - l, fmt, ap);
}

__attribute__((format(printf, 2, 3))) static void vproblemf(struct qverify *v,
							     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	problems_vadd(v->problems, sizeof(v->problems), fmt, ap);
	va_end(ap);
}

/* a cgroup dir of the container's own (not a hierarchy's root) */
static bool own_cg(const char *d)
{
	return d && strcmp(d, "/sys/fs/cgroup") != 0 && strcmp(d, "/sys/fs/cgroup/unified") != 0 &&
	       strcmp(d, "/sys/fs/cgroup/freezer") != 0;
}

/* Whether the freezer of kind k holds c frozen. listed: a state the runtime
 * read of the same dir in this list (struct ctr frz_*) is taken, not read
 * again. */
static bool frozen(const struct ctr *c, enum frz_kind k, bool listed)
{
	bool v1 = k == FRZ_V1;
	char *dir = v1 ? c->cgroup_freezer : c->cgroup_unified;
	const char *ldir = v1 ? c->frz_v1_dir : c->frz_v2_dir;
	int lstate = v1 ? c->frz_v1_state : c->frz_v2_frozen;
	if (listed && lstate >= 0 && ldir && strcmp(ldir, dir) == 0)
		return lstate == (v1 ? 2 : 1);
	struct frz_target t = {k, dir};
	bool f = false;
	struct err e = {0};
	return frz_is_frozen(&t, &f, &e) == 0 && f;
}

static void verify_frozen(const struct ctr *c, struct qverify *v, bool listed)
{
	if (own_cg(c->cgroup_unified) && frozen(c, FRZ_CGROUP2, listed)) {
		v->frozen = true;
		v->frozen_by = FRZ_CGROUP2;
		return;
	}
	if (own_cg(c->cgroup_freezer) && frozen(c, FRZ_V1, listed)) {
		v->frozen = true;
		v->frozen_by = FRZ_V1;
	}
}

/* one visit of the container's netns (its table and its links) while the
 * host's table is listed here: every part read from the kernel */
/* ntab "": no key, so no table there is ours */
static void verify_net(const struct ctr *c, const char *ntab, const char *htab,
		       struct qverify *v)
{
	struct err e = {0};
	if (!c->netns_path || c->host_netns || c->pid <= 0)
		return;
	struct ncut_probe *p = xcalloc(1, sizeof(*p));
	_cleanup_free_ struct ncut_probe *pf = p;
	if (ncut_probe(c->netns_path, c->netns_inode, ntab, htab, p, &e) < 0) {
		/* its message names the part: container netns, host table or peers */
		vproblemf(v, "%s", e.msg);
		ncut_probe_free(p);
		return;
	}
	v->net_checked = true;
	v->netns_exists = p->netns.exists;
	/* a table with the owner flag is another program's, never ours */
	v->netns_table = p->netns.exists && !p->netns.owned && p->netns.ndrop == 4;
	if (p->netns.exists && p->netns.owned)
		vproblemf(v,
			  "table inet %s in the container netns is held by another program "
			  "(nftables owner flag, netlink port %u): not ours",
			  ntab, p->netns.owner);
	size_t nd = p->ndevs;
	if (nd > NCUT_MAX_DEVS)
		nd = NCUT_MAX_DEVS;
	if (nd)
		memcpy(v->devs, p->devs, nd * sizeof(*p->devs));
	v->ndevs = nd;
	snprintf(v->skipped, sizeof(v->skipped), "%s", p->skipped ? p->skipped : "");
	v->host_needed = nd > 0;
	v->host_exists = p->host.exists;
	v->host_table = nd ? ncut_host_table_matches(&p->host, p->devs, nd) : false;
	v->net_cut = v->netns_table && (v->host_table || !v->host_needed);
	ncut_probe_free(p);
}

static void verify(const struct ctr *c, const char *state_dir, unsigned what,
		   struct qverify *v)
{
	memset(v, 0, sizeof(*v));
	if (state_dir && (what & QV_STATE)) {
		struct qstate s;
		struct err le = {0};
		if (qstate_load(state_dir, c->id, &s, &le) == 0) {
			v->has_state = true;
			v->stale = !qstate_live(&s, c, v->stale_why, sizeof(v->stale_why));
			qstate_free(&s);
		} else if (le.kind != ERR_NOTFOUND) {
			vproblemf(v, "state: %s", le.msg);
		}
	}
	if (what & QV_NET) {
		char ntab[NCUT_TABLE_MAX], htab[NCUT_TABLE_MAX];
		struct err ke = {0};
		bool keyed = qstate_table_names(state_dir, false, c->id, ntab, htab, &ke) == 0;
		if (!keyed && ke.kind != ERR_NOTFOUND)
			vproblemf(v, "netns table key: %s", ke.msg);
		verify_net(c, ntab, htab, v);
		if (!keyed && ke.kind == ERR_NOTFOUND && v->host_exists)
			vproblemf(v,
				  "a host table of ours is there, but %s/%s is not: the container "
				  "netns table cannot be named (quarantined with another --state-dir?)",
				  state_dir ? state_dir : "(no state dir)", NCUT_KEY_FILE);
	}
	verify_frozen(c, v, what & QV_LISTED);
}

int quarantine_verify(const struct ctr *c, const char *state_dir, unsigned what,
		      struct qverify *v, struct err *e)
{
	verify(c, state_dir, what, v);
	(void)e;
	return 0;
}

const char *qverify_word(const struct qverify *v)
{
	if (v->net_cut && v->frozen)
		return "cut+frozen";
	if (v->net_cut)
		return "cut";
	if (v->frozen)
		return "frozen";
	if (v->stale)
		return "stale";
	return "-";
}

json_t *qverify_to_json(const struct qverify *v)
{
	json_t *j = json_object();
	json_object_set_new(j, "state", json_string(qverify_word(v)));
	json_object_set_new(j, "net_cut", json_boolean(v->net_cut));
	json_object_set_new(j, "frozen", json_boolean(v->frozen));
	json_object_set_new(j, "stale", json_boolean(v->stale));
	if (v->stale)
		json_object_set_new(j, "stale_why", json_string(v->stale_why));
	json_object_set_new(j, "has_state", json_boolean(v->has_state));
	json_object_set_new(j, "verified", json_string("kernel"));
	json_t *n = json_object();
	json_object_set_new(n, "checked", json_boolean(v->net_checked));
	json_object_set_new(n, "netns_table", json_boolean(v->netns_table));
	json_object_set_new(n, "netns_table_present", json_boolean(v->netns_exists));
	json_object_set_new(n, "host_peers", json_integer((json_int_t)v->ndevs));
	json_object_set_new(n, "host_table", json_boolean(v->host_table));
	json_object_set_new(n, "host_table_present", json_boolean(v->host_exists));
	json_object_set_new(j, "network", n);
	json_object_set_new(j, "frozen_by",
			    v->frozen ? json_string(frz_kind_name(v->frozen_by)) : json_null());
	if (v->frozen && v->frozen_by == FRZ_CGROUP2)
		json_object_set_new(j, "note",
				    json_string("frozen through cgroup2 cgroup.freeze: 'runc state' "
						"and the v1 freezer.state still say running/THAWED"));
	if (*v->problems)
		json_object_set_new(j, "problems", json_string(v->problems));
	return j;
}

/* ---- apply ---- */

static void repaired(struct quarantine_result *r, const char *what)
{
	size_t l = strlen(r->repaired);
	snprintf(r->repaired + l, sizeof(r->repaired) - l, "%s%s", l ? "; " : "", what);
}

static void *xmemdup(const void *p, size_t n)
{
	if (!n)
		return NULL;
	void *d = xmalloc(n);
	memcpy(d, p, n);
	return d;
}

/* the network part of the intent: which tables, on which devices */
static void record_net(struct qstate *s, const char *ntab, const char *htab,
		       const struct ncut_dev *devs, size_t ndevs, bool keep_netns_handle,
		       const struct ncut_opts *o)
{
	bool same_host = s->host_table && ndevs && s->ndevs == ndevs &&
			 memcmp(s->devs, devs, ndevs * sizeof(*devs)) == 0;
	if (!keep_netns_handle || !s->netns_table)
		s->netns_handle = 0;
	free(s->netns_table);
	s->netns_table = xstrdup(ntab);
	if (!same_host) {
		free(s->host_table);
		s->host_table = NULL;
		s->host_handle = 0;
		free(s->devs);
		s->devs = NULL;
		s->ndevs = 0;
		if (ndevs) {
			s->host_table = xstrdup(htab);
			s->devs = xmemdup(devs, ndevs * sizeof(*devs));
			s->ndevs = ndevs;
		}
	}
	s->net = true;
	now(&s->net_time);
	free(s->allow);
	s->allow = NULL;
	s->nallow = o->nallow;
	if (s->nallow)
		s->allow = xmemdup(o->allow, s->nallow * sizeof(*s->allow));
	s->nflog_group = o->nflog_group;
}

void quarantine_plan(const struct quarantine_opts *o, const struct qstate *s, bool live,
		     const struct qverify *v, struct qplan *p)
{
	memset(p, 0, sizeof(*p));
	p->net = o->net && !v->net_cut;
	p->freeze = o->freeze && !v->frozen;
	p->already = !p->net && !p->freeze;
	if (p->net) {
		p->netns_add = !v->netns_table;
		p->netns_replace = p->netns_add && v->netns_exists;
		p->host_add = v->host_needed && !v->host_table;
		p->host_replace = p->host_add && v->host_exists;
		p->host_drop = !v->host_needed && v->host_exists;
	}
	/* a state of a gone incarnation records nothing for this one */
	bool rec_net = live && s->net && s->netns_table && (!v->host_needed || s->host_table);
	bool rec_frz = live && s->frozen;
	p->record_net = o->net && !p->net && !rec_net;
	p->record_freeze = o->freeze && !p->freeze && !rec_frz;
	p->repair_net = live && s->net && p->net;
	p->repair_freeze = live && s->frozen && p->freeze;
}

/* "delete table F T" before the ruleset: one batch, the cut never lapses */
static char *replacing(const char *family, const char *table, const char *ruleset)
{
	return xasprintf("delete table %s %s\n%s", family, table, ruleset);
}

/* the freeze of a quarantine, started while the cut is applied */
struct freeze_start {
	bool want;    /* start the freeze (quarantine_apply) */
	bool started; /* it was: fw holds its wait */
	struct frz_wait fw;
	struct err e; /* why not, when wanted and not started */
};

static void start_freeze(struct qstate *s, struct freeze_start *f)
{
	if (f && f->want && !f->started && !f->e.msg[0])
		f->started = frz_freeze_start(&s->freezer, &f->fw, &f->e) == 0;
}

/* The network part of the plan: the two layers at once (the child in the
 * container netns adds its table while we add the host's), handles
 * recorded, fail closed. f (may be NULL): the freeze to start as soon as
 * the container netns's table is on its way, before the host's. */
static int apply_net(const struct ctr *c, const char *state_dir, struct qstate *s,
		     const char *ntab, const char *htab, const struct qplan *p, size_t ndevs,
		     bool defer_save, bool *unsaved, struct freeze_start *f,
		     struct quarantine_result *r, struct err *e)
{
	/* the two layers at once: the child in the container netns
	 * adds its table while we add the host's */
	struct ncut_job job = {0};
	uint64_t h = 0, hh = 0;
	struct err he = {0};
	int rc = 0, rc_h = 0;
	bool started = false;
	if (r->netns_ruleset) {
		_cleanup_free_ char *rs = p->netns_replace
					      ? replacing("inet", ntab, r->netns_ruleset)
					      : xstrdup(r->netns_ruleset);
		if (ncut_table_add_start(c->netns_path, c->netns_inode, "inet", ntab, rs, 4,
					 &job, e) < 0) {
			start_freeze(s, f);
			describe(s, r->holds, sizeof(r->holds));
			return err_wrap(e, "network cut in the container netns");
		}
		started = true;
	}
	start_freeze(s, f);
	if (r->host_ruleset) {
		_cleanup_free_ char *rs = p->host_replace
					      ? replacing("netdev", htab, r->host_ruleset)
					      : xstrdup(r->host_ruleset);
		rc_h = ncut_table_add(NULL, 0, "netdev", htab, rs, 2 * ndevs, &hh, &he);
	} else if (p->host_drop) {
		/* no peer any more: a table of this name binds a name only */
		bool gone;
		rc_h = ncut_table_del(NULL, 0, "netdev", htab, 0, &gone, NULL, &he);
	}
	if (started)
		rc = ncut_table_add_finish(&job, &h, e);
	if (h)
		s->netns_handle = h;
	if (hh)
		s->host_handle = hh;
	struct err se = {0};
	bool ok = rc >= 0 && rc_h >= 0;
	/* the handles: saved now on a failure; on success the caller may
	 * save them while the freeze settles (defer_save) */
	int rc_s = 0;
	if ((h || hh) && (!ok || !defer_save))
		rc_s = save(state_dir, s, &se);
	else if (h || hh)
		*unsaved = true;
	if (rc < 0 || rc_h < 0 || rc_s < 0) {
		describe(s, r->holds, sizeof(r->holds));
		if (rc < 0)
			return err_wrap(e, "network cut in the container netns");
		if (rc_h < 0) {
			*e = he;
			return err_wrap(e, "network cut on the host");
		}
		*e = se;
		return -1;
	}
	r->did_net = true;
	return 0;
}

int quarantine_apply(const struct ctr *c, const char *state_dir,
		     const struct quarantine_opts *o, struct qstate *s,
		     struct quarantine_result *r, struct err *e)
{
	double t0 = time_mono();
	memset(r, 0, sizeof(*r));
	if (o->net && c->host_netns)
		return err_set(e, ERR_UNSUPP,
			       "'%s' is on the host network (its netns is the host's): a network "
			       "cut would cut the host itself; use --freeze-only",
			       c->id);
	if (o->net && !c->netns_path)
		return err_set(e, ERR_WRONGSTATE, "'%s' has no network namespace (not running?)",
			       c->id);
	if (c->pid <= 0)
		return err_set(e, ERR_WRONGSTATE, "'%s' is not running", c->id);
	if (s->id && strcmp(s->id, c->id) != 0)
		return err_set(e, ERR_INVALID, "state is for another container");

	/* 1. a state of another incarnation never answers for this one */
	if (s->id && !qstate_live(s, c, r->stale_why, sizeof(r->stale_why))) {
		r->stale = true;
		if (!o->dry_run)
			qstate_free(s); /* replaced: its tables are found by name below */
	}

	/* 2. what holds now, from the kernel. The netns table's name needs
	 * the state dir's key, made here the first time (a dry run too: it
	 * is ours, not the container's, and the names it prints are real) */
	char ntab[NCUT_TABLE_MAX], htab[NCUT_TABLE_MAX];
	if (o->net && qstate_table_names(state_dir, true, c->id, ntab, htab, e) < 0)
		return err_wrap(e, "the netns table's name (nothing was touched; "
				   "--freeze-only needs no key)");
	if (!o->net)
		ncut_table_names(NULL, c->id, ntab, htab);
	struct qverify *v = xcalloc(1, sizeof(*v));
	_cleanup_free_ struct qverify *vfree = v;
	if (o->net) {
		verify_net(c, ntab, htab, v);
		if (!v->net_checked)
			return err_set(e, ERR_SYS, "cannot read what holds in the kernel: %s",
				       v->problems);
	}
	if (o->freeze)
		verify_frozen(c, v, false);
	struct qplan p;
	quarantine_plan(o, s, s->id && !r->stale, v, &p);
	if (p.repair_net)
		repaired(r, !v->netns_table ? "the container netns table was missing or changed"
					    : "the host table was missing or bound elsewhere");
	if (p.repair_freeze)
		repaired(r, "the cgroup was not frozen");
	if (*v->skipped)
		r->skipped = xstrdup(v->skipped);

	const struct ncut_dev *devs = v->devs;
	size_t ndevs = v->ndevs;
	if (p.netns_add) {
		r->netns_ruleset = ncut_netns_ruleset(ntab, &o->ncut, e);
		if (!r->netns_ruleset)
			return -1;
	}
	if (p.host_add) {
		r->host_ruleset = ncut_host_ruleset(htab, devs, ndevs, &o->ncut, e);
		if (!r->host_ruleset)
			return -1;
	}
	struct frz_target ft = {0};
	if (p.freeze) {
		if (frz_pick(c, o->freezer, &ft, e) < 0)
			return -1;
		char ctl[4096], st[4096];
		frz_files(&ft, ctl, sizeof(ctl), st, sizeof(st));
		r->freeze_ctl = xstrdup(ctl);
		r->freeze_state = xstrdup(st);
	}
	log_debug("quarantine: verified and built at %.1f ms", (time_mono() - t0) * 1e3);
	if (o->dry_run) {
		r->already = p.already;
		if (p.already)
			describe(s, r->holds, sizeof(r->holds));
		frz_target_free(&ft);
		return 0;
	}
	if (p.already && !p.record_net && !p.record_freeze) {
		r->already = true;
		describe(s, r->holds, sizeof(r->holds));
		return 0;
	}

	/* 3. intent, durably, before the kernel is touched */
	state_init(c, s);
	if (p.net || p.record_net)
		record_net(s, ntab, htab, devs, ndevs, !p.netns_add, &o->ncut);
	if (p.freeze) {
		frz_target_free(&s->freezer);
		s->freezer = ft;
		memset(&ft, 0, sizeof(ft));
		s->frozen = true;
		now(&s->freeze_time);
	} else if (p.record_freeze) {
		frz_target_free(&s->freezer);
		s->freezer.kind = v->frozen_by;
		s->freezer.dir = xstrdup(v->frozen_by == FRZ_CGROUP2 ? c->cgroup_unified
								     : c->cgroup_freezer);
		s->frozen = true;
		now(&s->freeze_time);
	}
	if (save(state_dir, s, e) < 0) {
		describe(s, r->holds, sizeof(r->holds));
		return err_wrap(e, "record the intent (nothing was touched)");
	}
	if (p.already) { /* only recorded what holds */
		r->already = r->adopted = true;
		describe(s, r->holds, sizeof(r->holds));
		return 0;
	}

	/* 4. apply what is missing. The freeze is started first and the cut
	 * is applied while the kernel freezes the tasks; then the cut is
	 * confirmed by the kernel and the freeze waited for and checked. At
	 * every instant this is at least as closed as "cut, then freeze" (a
	 * frozen task sends nothing), and a failed cut leaves the container
	 * frozen, not running. The tables' handles are written to the state
	 * (a thread of its own: save_start) while the freeze settles (the
	 * intent, saved above, already names the tables and the cgroup). A
	 * freeze that cannot be started still gets the cut: fail closed. */
	bool unsaved = false;
	log_debug("quarantine: intent saved at %.1f ms", (time_mono() - t0) * 1e3);
	struct freeze_start fs = {.want = p.freeze};
	int rc_n = 0;
	if (p.net) {
		rc_n = apply_net(c, state_dir, s, ntab, htab, &p, ndevs, p.freeze, &unsaved, &fs, r, e);
		log_debug("quarantine: network cut %s at %.1f ms",
			  rc_n < 0 ? "failed" : "confirmed", (time_mono() - t0) * 1e3);
	}
	start_freeze(s, &fs); /* --freeze-only, or an apply_net that failed early */
	if (p.freeze && !fs.started) {
		if (unsaved)
			(void)save(state_dir, s, NULL);
		describe(s, r->holds, sizeof(r->holds));
		if (rc_n < 0) /* both failed */
			return err_wrap(e, "the freeze could not be started (%.300s), and", fs.e.msg);
		*e = fs.e;
		return err_wrap(e, "freeze");
	}
	if (p.freeze) {
		struct err se = {0}, we = {0};
		struct save_job sj;
		bool bg = unsaved && save_start(&sj, state_dir, s) == 0;
		int rc_s = unsaved && !bg ? save(state_dir, s, &se) : 0;
		int rc_f = frz_freeze_wait(&s->freezer, &fs.fw, o->timeout, &r->frz, &we);
		if (bg)
			rc_s = save_finish(&sj, &se);
		r->did_freeze = rc_f == 0;
		if (rc_f == 0)
			log_debug("quarantine: frozen at %.1f ms (%zu tasks)",
				  (time_mono() - t0) * 1e3, r->frz.npids);
		if (rc_n < 0 || rc_f < 0 || rc_s < 0) {
			describe(s, r->holds, sizeof(r->holds));
			if (rc_n < 0 && rc_f < 0)
				return err_wrap(e, "the freeze did not hold either (%.300s), and",
						we.msg);
			if (rc_n < 0)
				return -1; /* apply_net said which cut */
			if (rc_f < 0) {
				*e = we;
				return err_wrap(e, "freeze");
			}
			*e = se;
			return -1;
		}
	} else if (rc_n < 0) {
		return -1;
	}
	r->seconds = time_mono() - t0;
	describe(s, r->holds, sizeof(r->holds));
	return 0;
}

static bool netns_unreachable(const struct err *e)
{
	return e->kind == ERR_WRONGSTATE ||
	       (e->kind == ERR_SYS && (e->errnum == ENOENT || e->errnum == ESRCH));
}

static void problem(struct release_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void problem(struct release_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	problems_vadd(r->problems, sizeof(r->problems), fmt, ap);
	va_end(ap);
}

/* A host table of a gone incarnation: ours to remove when it still has the
 * recorded handle, or when a device it names is gone or renamed (the
 * kernel would bind its hook to whatever takes that name next). */
int qhost_table_orphaned(const char *table, uint64_t handle, bool *orphan, char *why,
			 size_t n, struct err *e)
{
	struct ncut_table_info *ti = xcalloc(1, sizeof(*ti));
	_cleanup_free_ struct ncut_table_info *tf = ti;
	*orphan = false;
	if (ncut_table_info(NULL, 0, "netdev", table, ti, e) < 0)
		return -1;
	if (!ti->exists) {
		snprintf(why, n, "not there");
		return 0;
	}
	if (handle && ti->handle == handle) {
		*orphan = true;
		snprintf(why, n, "the recorded table (handle %llu)", (unsigned long long)handle);
		return 0;
	}
	if (ti->nbound == 0) {
		*orphan = true;
		snprintf(why, n, "bound to no device");
		return 0;
	}
	for (size_t i = 0; i < ti->nbound && i < ARRAY_SIZE(ti->bound); i++) {
		char name[IF_NAMESIZE] = "";
		bool ex;
		if (ncut_host_link(ti->bound[i].ifindex, name, &ex, e) < 0)
			return -1;
		if (!ex || strcmp(name, ti->bound[i].dev) != 0) {
			*orphan = true;
			snprintf(why, n, "its device '%s' (ifindex %d) is gone%s", ti->bound[i].dev,
				 ti->bound[i].ifindex,
				 ex ? " (the index has another name now)" : "");
			return 0;
		}
	}
	snprintf(why, n, "its devices are still there");
	return 0;
}

static void release_net(struct qstate *s, bool live, struct release_result *r, bool *failed,
			struct err *fe)
{
	if (s->netns_table) {
		struct err le = {0};
		bool gone = false, theirs = false;
		bool net_failed = false;
		if (ncut_table_del(s->netns_path, s->netns_inode, "inet", s->netns_table,
				   s->netns_handle, &gone, &theirs, &le) < 0) {
			if (netns_unreachable(&le)) {
				r->netns_gone = true;
				problem(r,
					"table inet %s: the container netns is gone (%s); "
					"nothing to remove there",
					s->netns_table, le.msg);
			} else {
				problem(r, "table inet %s: %s", s->netns_table, le.msg);
				*fe = le;
				*failed = net_failed = true;
			}
		} else if (theirs) {
			r->netns_gone = true;
			problem(r,
				"table inet %s in the container netns is another program's "
				"(nftables owner flag), not ours: left there",
				s->netns_table);
		} else if (gone) {
			r->netns_gone = true;
			problem(r,
				"table inet %s was already gone from the container netns "
				"(removed by hand or flushed)",
				s->netns_table);
		} else {
			r->netns_removed = true;
		}
		if (!net_failed) {
			free(s->netns_table);
			s->netns_table = NULL;
		}
	}
	if (s->host_table) {
		struct err le = {0};
		bool gone = false, orphan = true;
		char why[256] = "";
		uint64_t h = s->host_handle;
		if (!live && qhost_table_orphaned(s->host_table, s->host_handle, &orphan, why,
						  sizeof(why), &le) < 0) {
			problem(r, "table netdev %s: %s", s->host_table, le.msg);
			*fe = le;
			*failed = true;
			return;
		}
		if (!live && !orphan && strcmp(why, "not there") != 0) {
			/* same name, another table whose devices live: not ours */
			problem(r, "table netdev %s is another one now (%s): left", s->host_table,
				why);
			free(s->host_table);
			s->host_table = NULL;
		} else {
			if (!live)
				h = 0; /* orphaned: whatever its handle */
			if (ncut_table_del(NULL, 0, "netdev", s->host_table, h, &gone, NULL, &le) < 0) {
				problem(r, "table netdev %s: %s", s->host_table, le.msg);
				*fe = le;
				*failed = true;
			} else {
				if (gone) {
					r->host_gone = true;
					problem(r, "table netdev %s was already gone from the host",
						s->host_table);
				} else {
					r->host_removed = true;
				}
				free(s->host_table);
				s->host_table = NULL;
			}
		}
	}
	if (!s->netns_table && !s->host_table)
		s->net = false;
}

int quarantine_release(const struct ctr *c, const char *state_dir, struct qstate *s,
		       bool keep_network, double timeout, struct release_result *r,
		       struct err *e)
{
	bool failed = false;
	memset(r, 0, sizeof(*r));
	struct err fe = {0};
	bool live = qstate_live(s, c, r->stale_why, sizeof(r->stale_why));
	r->stale = !live;
	if (s->frozen) {
		struct err le = {0};
		if (!live) {
			/* never write into a cgroup another incarnation may own now */
			problem(r, "not thawed: the quarantined incarnation is gone (%s)",
				r->stale_why);
			s->frozen = false;
		} else if (!frz_cgroup_holds(s->freezer.dir, s->pid)) {
			problem(r, "not thawed: cgroup '%s' does not hold the container's init %d",
				s->freezer.dir ? s->freezer.dir : "", (int)s->pid);
			s->frozen = false;
		} else if (frz_thaw(&s->freezer, timeout, &le) < 0) {
			if (le.kind == ERR_SYS && le.errnum == ENOENT) {
				problem(r, "cgroup '%s' is gone (the container exited)",
					s->freezer.dir);
				s->frozen = false;
			} else {
				problem(r, "thaw: %s", le.msg);
				fe = le;
				failed = true;
			}
		} else {
			r->thawed = true;
			s->frozen = false;
		}
	}
	if (keep_network && live)
		r->kept_network = s->net;
	else if (s->net)
		release_net(s, live, r, &failed, &fe);
	if (!s->net && !s->frozen) {
		if (qstate_remove(state_dir, s->id, e) < 0)
			return -1;
	} else {
		now(&s->updated);
		if (qstate_save(state_dir, s, e) < 0)
			return -1;
	}
	if (failed) {
		*e = fe;
		return err_set(e, fe.kind ? fe.kind : ERR_SYS, "%s", r->problems);
	}
	return 0;
}
