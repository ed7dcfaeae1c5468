/* quarantine.c: the whole operation, network first, then freeze; and its
 * undoing. Used by the quarantine and release verbs and by capture.
 * Fail closed: whatever is in place stays; the state file says what. */
#include <string.h>

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

static void state_init(const struct ctr *c, struct qstate *s)
{
	if (s->id)
		return;
	s->id = xstrdup(c->id);
	s->runtime = xstrdup(rt_kind_name(c->runtime));
	s->name = c->name ? xstrdup(c->name) : NULL;
	s->pid = c->pid;
	s->netns_path = c->netns_path ? xstrdup(c->netns_path) : NULL;
	s->netns_inode = c->netns_inode;
	now(&s->created);
}

static int save(const char *dir, struct qstate *s, struct err *e)
{
	now(&s->updated);
	return qstate_save(dir, s, e);
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
	if (s->id && strcmp(s->id, c->id) != 0)
		return err_set(e, ERR_INVALID, "state is for another container");
	bool want_net = o->net && !s->net;
	bool want_freeze = o->freeze && !s->frozen;
	if (!want_net && !want_freeze) {
		r->already = true;
		describe(s, r->holds, sizeof(r->holds));
		return 0;
	}
	if (!o->dry_run)
		state_init(c, s);

	char ntab[NCUT_TABLE_MAX], htab[NCUT_TABLE_MAX];
	ncut_table_names(c->id, ntab, htab);
	_cleanup_free_ struct ncut_dev *devs = NULL;
	size_t ndevs = 0;
	if (want_net) {
		r->netns_ruleset = ncut_netns_ruleset(ntab, &o->ncut, e);
		if (!r->netns_ruleset)
			return -1;
		log_debug("quarantine: rulesets built at %.1f ms", (time_mono() - t0) * 1e3);
		if (ncut_find_host_devs(c->netns_path, c->netns_inode, &devs, &ndevs, &r->skipped,
					e) < 0)
			return err_wrap(e, "find the host end of its links");
		if (ndevs) {
			r->host_ruleset = ncut_host_ruleset(htab, devs, ndevs, &o->ncut, e);
			if (!r->host_ruleset)
				return -1;
		}
	}
	struct frz_target ft = {0};
	if (want_freeze) {
		if (frz_pick(c, o->freezer, &ft, e) < 0)
			return -1;
		char ctl[4096], st[4096];
		frz_files(&ft, ctl, sizeof(ctl), st, sizeof(st));
		r->freeze_ctl = xstrdup(ctl);
		r->freeze_state = xstrdup(st);
	}
	log_debug("quarantine: host devices found at %.1f ms", (time_mono() - t0) * 1e3);
	if (o->dry_run) {
		frz_target_free(&ft);
		return 0;
	}

	if (want_net) {
		/* the two layers at once: the child in the container netns
		 * adds its table while we add the host's */
		struct ncut_job job;
		uint64_t h = 0, hh = 0;
		struct err he = {0};
		int rc_h = 0;
		if (ncut_table_add_start(c->netns_path, c->netns_inode, "inet", ntab,
					 r->netns_ruleset, 4, &job, e) < 0) {
			frz_target_free(&ft);
			describe(s, r->holds, sizeof(r->holds));
			return err_wrap(e, "network cut in the container netns");
		}
		if (ndevs)
			rc_h = ncut_table_add(NULL, 0, "netdev", htab, r->host_ruleset, 2 * ndevs,
					      &hh, &he);
		int rc = ncut_table_add_finish(&job, &h, e);
		log_debug("quarantine: both tables added at %.1f ms", (time_mono() - t0) * 1e3);
		if (h) { /* it is there (even if its check failed): record it */
			s->netns_table = xstrdup(ntab);
			s->netns_handle = h;
		}
		if (hh) {
			s->host_table = xstrdup(htab);
			s->host_handle = hh;
			s->devs = steal_pointer(&devs);
			s->ndevs = ndevs;
		}
		bool freeze_recorded = false;
		if (rc == 0 && rc_h == 0 && want_freeze) {
			freeze_recorded = true;
			/* the freeze that comes next is recorded in the same save:
			 * one fsync less, and release thaws a freeze that never
			 * happened harmlessly */
			s->freezer = ft;
			memset(&ft, 0, sizeof(ft));
			s->frozen = true;
			now(&s->freeze_time);
		}
		if (h || hh) {
			s->net = true;
			now(&s->net_time);
			s->nallow = o->ncut.nallow;
			if (s->nallow) {
				s->allow = xcalloc(s->nallow, sizeof(*s->allow));
				memcpy(s->allow, o->ncut.allow, s->nallow * sizeof(*s->allow));
			}
			s->nflog_group = o->ncut.nflog_group;
		}
		struct err se = {0};
		int rc_s = (h || hh) ? save(state_dir, s, &se) : 0;
		if (rc < 0 || rc_h < 0 || rc_s < 0) {
			frz_target_free(&ft);
			if (freeze_recorded) { /* not on disk, not done */
				s->frozen = false;
				frz_target_free(&s->freezer);
			}
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
	}
	log_debug("quarantine: network cut at %.1f ms", (time_mono() - t0) * 1e3);
	if (want_freeze) {
		/* recorded before it holds: a freeze that times out stays, and
		 * release must know to thaw it */
		if (!r->did_net) {
			s->freezer = ft;
			s->frozen = true;
			now(&s->freeze_time);
			if (save(state_dir, s, e) < 0) {
				describe(s, r->holds, sizeof(r->holds));
				return -1;
			}
		}
		if (frz_freeze(&s->freezer, o->timeout, &r->frz, e) < 0) {
			describe(s, r->holds, sizeof(r->holds));
			return err_wrap(e, "freeze");
		}
		r->did_freeze = true;
		log_debug("quarantine: frozen at %.1f ms (%zu tasks)", (time_mono() - t0) * 1e3,
			  r->frz.npids);
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
	size_t l = strlen(r->problems);
	if (l && l < sizeof(r->problems) - 2) {
		memcpy(r->problems + l, "; ", 3);
		l += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->problems + l, sizeof(r->problems) - l, fmt, ap);
	va_end(ap);
}

int quarantine_release(const char *state_dir, struct qstate *s, bool keep_network,
		       double timeout, struct release_result *r, struct err *e)
{
	bool failed = false;
	memset(r, 0, sizeof(*r));
	struct err fe = {0};
	if (s->frozen) {
		struct err le = {0};
		if (frz_thaw(&s->freezer, timeout, &le) < 0) {
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
	if (keep_network) {
		r->kept_network = s->net;
	} else if (s->net) {
		bool net_failed = false;
		if (s->netns_table) {
			struct err le = {0};
			bool gone = false;
			if (ncut_table_del(s->netns_path, s->netns_inode, "inet", s->netns_table,
					   s->netns_handle, &gone, &le) < 0) {
				if (netns_unreachable(&le)) {
					r->netns_gone = true;
					problem(r,
						"table inet %s: the container netns is gone (%s); "
						"nothing to remove there",
						s->netns_table, le.msg);
				} else {
					problem(r, "table inet %s: %s", s->netns_table, le.msg);
					fe = le;
					failed = net_failed = true;
				}
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
			bool gone = false;
			if (ncut_table_del(NULL, 0, "netdev", s->host_table, s->host_handle, &gone,
					   &le) < 0) {
				problem(r, "table netdev %s: %s", s->host_table, le.msg);
				fe = le;
				failed = net_failed = true;
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
		if (!s->netns_table && !s->host_table)
			s->net = false;
	}
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
