/* respond.c: the engine of `contain respond` (include/contain/respond.h).
 *
 * One reader (this thread) takes documents from the input (stdin to its
 * end, a file followed across rotation and truncation, or a unix socket of
 * JSON lines and HTTP POSTs), normalizes them (alert.c), matches them
 * (playbook.c), drops host events and what the dedup window already saw,
 * and queues one job per (alert, playbook). It never waits on an action:
 * a full queue drops the job (audited). Workers resolve the container,
 * check the allow list, the node-wide rate limit and that no other action
 * runs on it, then run the steps through the existing transactions
 * (capture_run, quarantine_run, release_run). Every decision and step is
 * one line of the audit log; alerts that lead to no action are summarized
 * there once a second (counts, and a few samples of what was malformed). */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "contain/capture.h"
#include "contain/isolate.h"
#include "contain/respond.h"

#define RESPOND_DEFAULT_PLAYBOOKS "/etc/contain/playbooks"
#define RESPOND_DEFAULT_BAGS	  "/var/lib/contain/bags"
#define RESPOND_CLIENTS_MAX	  64u	 /* socket clients at once */
#define RESPOND_HTTP_HEAD_MAX	  16384u /* bytes of an HTTP request's head */
#define RESPOND_READ_CHUNK	  (1u << 20) /* one read: lines of ~1 KiB, ~1000 a read */
#define RESPOND_DEDUP_MAX	  65536u /* keys remembered within the window */
#define RESPOND_MATCH_MAX	  16u	 /* playbooks one alert may start */
#define RESPOND_SAMPLES_MAX	  5u	 /* malformed samples per summary line */
#define RESPOND_FOLLOW_POLL_MS	  20
#define RESPOND_NOTIFY_OUT_MAX	  4096u /* bytes of a notify program's output kept */
#define RESPOND_TIMERS_MAX	  1024u

/* ---- playbook sets, shared by reference (a reload swaps the current) ---- */
struct pbref {
	struct pb_set *s;
	unsigned refs; /* under eng.lock */
};

/* one alert shared by the jobs of its playbooks */
struct shared_alert {
	struct alert a;
	unsigned refs; /* under eng.lock */
	char received[40];
	double t_recv;
};

struct job {
	struct pbref *set;
	size_t pb;
	struct shared_alert *sa;
};

struct dedup_ent {
	char key[65];
	uint64_t pbh; /* hash of the playbook's name */
	double until; /* 0: empty slot */
	unsigned long long count;
};

struct timer {
	double at;
	char *id;
	char *playbook;
	char *key;
};

struct eng {
	const struct respond_opts *o;
	const char *pbdir, *bags;
	unsigned dedup_seconds, rate_per_min, nworkers;

	pthread_mutex_t lock; /* everything below but the reader's own */
	pthread_cond_t cond;  /* the queue, the busy set, the timers changed */
	struct pbref *cur;
	struct job q[RESPOND_QUEUE_MAX];
	size_t qhead, qn;
	bool closing;  /* no more jobs will come: workers drain and leave */
	bool stopping; /* SIGTERM: queued jobs are dropped, in-flight finish */
	char **busy;   /* container ids an action runs on (nworkers slots) */
	double tokens, tokens_at;
	struct timer timers[RESPOND_TIMERS_MAX];
	size_t ntimers;
	size_t running; /* workers in a job */

	pthread_mutex_t ev_lock; /* the verb's callback, one at a time */

	/* the reader's own (no lock) */
	struct dedup_ent *dedup;
	struct alert_scan *scan; /* the first look's scan, kept for the parse */
	struct alert_scan *scan2; /* the second classifying thread's */
	struct batch *batch;	  /* the lines of one read (NULL: one at a time) */
	size_t ndedup;
	struct {
		unsigned long long received, malformed, too_long, unmatched, host, matched, deduped,
		    queued, dropped, http_bad;
		unsigned long long by_source[8]; /* counts of the sources of src_names */
		json_t *samples;		 /* [{error}] */
	} st;
	double st_at;
};

/* ---- small helpers ---- */

static double now_mono(void)
{
	return time_mono();
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static void eng_event(struct eng *g, json_t *ev)
{
	if (g->o->event) {
		pthread_mutex_lock(&g->ev_lock);
		g->o->event(g->o->event_ctx, ev);
		pthread_mutex_unlock(&g->ev_lock);
	}
}

/* one line of the audit log, and the same as an event for the verb; a
 * failure to audit is itself an event (the verb shows it) */
static void eng_audit(struct eng *g, const char *action, const char *target, const char *result,
		      json_t *extra)
{
	struct err e = {0};
	json_t *ev = json_object();
	json_object_set_new(ev, "action", json_string(action));
	json_object_set_new(ev, "target", json_string(target ? target : ""));
	json_object_set_new(ev, "result", json_string(result));
	if (extra)
		json_object_update(ev, extra);
	if (g->o->audit_log &&
	    audit_record(g->o->audit_log, action, target ? target : "", result, extra, &e) < 0)
		json_object_set_new(ev, "audit_error", json_string(e.msg));
	eng_event(g, ev);
	json_decref(ev);
}

static void pbref_put(struct eng *g, struct pbref *r)
{
	bool last;
	pthread_mutex_lock(&g->lock);
	last = --r->refs == 0;
	pthread_mutex_unlock(&g->lock);
	if (last) {
		pb_set_free(r->s);
		free(r);
	}
}

static void sa_put(struct eng *g, struct shared_alert *sa)
{
	bool last;
	pthread_mutex_lock(&g->lock);
	last = --sa->refs == 0;
	pthread_mutex_unlock(&g->lock);
	if (last) {
		alert_free(&sa->a);
		free(sa);
	}
}

/* ---- the intake summary (the reader's own counts) ---- */

static const char *const src_names[] = {"falco",  "falcosidekick", "tetragon",
					"tracee", "sysdig",	   "other"};

static size_t src_index(const char *s)
{
	size_t i = 0;
	for (; i + 1 < ARRAY_SIZE(src_names); i++)
		if (strcmp(s, src_names[i]) == 0)
			break;
	return i;
}

static void stats_sample(struct eng *g, const char *what, const char *msg)
{
	if (json_array_size(g->st.samples) >= RESPOND_SAMPLES_MAX)
		return;
	json_t *s = json_pack("{s:s,s:s?}", "what", what, "error", msg);
	if (s)
		json_array_append_new(g->st.samples, s);
}

static void stats_flush(struct eng *g, bool force)
{
	double t = now_mono();
	if (!force && t - g->st_at < 1.0)
		return;
	g->st_at = t;
	if (!g->st.received && !g->st.too_long && !g->st.http_bad)
		return;
	json_t *bs = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(src_names); i++)
		if (g->st.by_source[i])
			json_object_set_new(bs, src_names[i],
					    json_integer((json_int_t)g->st.by_source[i]));
	json_t *x =
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:O}", "received",
		      (json_int_t)g->st.received, "malformed", (json_int_t)g->st.malformed,
		      "too_long", (json_int_t)g->st.too_long, "unmatched",
		      (json_int_t)g->st.unmatched, "host", (json_int_t)g->st.host, "matched",
		      (json_int_t)g->st.matched, "deduped", (json_int_t)g->st.deduped, "queued",
		      (json_int_t)g->st.queued, "dropped", (json_int_t)g->st.dropped, "http_bad",
		      (json_int_t)g->st.http_bad, "by_source", bs, "samples", g->st.samples);
	const char *res =
	    g->st.malformed || g->st.too_long || g->st.dropped || g->st.http_bad ? "partial" : "ok";
	eng_audit(g, "respond-intake", "", res, x);
	json_decref(x);
	json_decref(g->st.samples);
	memset(&g->st, 0, sizeof(g->st));
	g->st.samples = json_array();
}

/* ---- dedup: (playbook, alert key) within the window ---- */

/* true when the pair was seen within the window (and counts it) */
static bool dedup_seen(struct eng *g, const char *key, const char *pbname)
{
	double t = now_mono();
	uint64_t pbh = fnv1a(pbname);
	uint64_t h = fnv1a(key) ^ (pbh * 31);
	size_t mask = RESPOND_DEDUP_MAX - 1, free_slot = SIZE_MAX;
	for (size_t i = 0; i < RESPOND_DEDUP_MAX; i++) {
		struct dedup_ent *d = &g->dedup[(h + i) & mask];
		if (d->until == 0) {
			if (free_slot == SIZE_MAX)
				free_slot = (h + i) & mask;
			break;
		}
		if (d->pbh == pbh && strcmp(d->key, key) == 0) {
			if (d->until > t) {
				d->count++;
				return true;
			}
			d->until = t + g->dedup_seconds;
			d->count = 0;
			return false;
		}
		if (d->until <= t && free_slot == SIZE_MAX)
			free_slot = (h + i) & mask;
	}
	if (free_slot == SIZE_MAX || g->ndedup >= RESPOND_DEDUP_MAX * 3 / 4) {
		/* full of live keys: rebuild without the expired ones */
		struct dedup_ent *old = g->dedup;
		g->dedup = xcalloc(RESPOND_DEDUP_MAX, sizeof(*g->dedup));
		g->ndedup = 0;
		for (size_t i = 0; i < RESPOND_DEDUP_MAX; i++) {
			if (old[i].until <= t)
				continue;
			uint64_t hh = fnv1a(old[i].key) ^ (old[i].pbh * 31);
			for (size_t j = 0; j < RESPOND_DEDUP_MAX; j++) {
				struct dedup_ent *d = &g->dedup[(hh + j) & mask];
				if (d->until == 0) {
					*d = old[i];
					g->ndedup++;
					break;
				}
			}
		}
		free(old);
		if (g->ndedup >= RESPOND_DEDUP_MAX * 3 / 4)
			return false; /* not remembered: the queue and the rate limit still bound it
				       */
		return dedup_seen(g, key, pbname);
	}
	struct dedup_ent *d = &g->dedup[free_slot];
	if (d->until == 0)
		g->ndedup++;
	snprintf(d->key, sizeof(d->key), "%s", key);
	d->pbh = pbh;
	d->until = t + g->dedup_seconds;
	d->count = 0;
	return false;
}

/* ---- one document: parse, match, dedup, queue ---- */

/* What the first half of a document's handling found (classify): no state
 * of the engine is touched, so that two threads may classify the lines of
 * one read at once; commit then takes the results in input order. */
enum doc_kind { DOC_BLANK, DOC_MALFORMED, DOC_UNMATCHED, DOC_HOST, DOC_MATCHED };
struct doc_res {
	enum doc_kind kind;
	const char *source;	/* DOC_UNMATCHED, DOC_HOST, DOC_MATCHED */
	struct shared_alert *sa; /* DOC_MATCHED: parsed and keyed */
	size_t m, idx[RESPOND_MATCH_MAX];
	char *why; /* DOC_MALFORMED: the message (allocated) */
};

static void classify(const struct pb_set *set, struct alert_scan *scan, const char *buf, size_t n,
		     struct doc_res *r)
{
	r->kind = DOC_BLANK;
	r->source = NULL;
	r->sa = NULL;
	r->m = 0;
	r->why = NULL;
	size_t i = 0;
	while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'))
		i++;
	if (i == n)
		return; /* a blank line */
	/* the first look: what no playbook could match is only counted (most
	 * of a detector's output), never normalized, hashed or allocated */
	struct err e = {0};
	struct alert_peek pk;
	pk.keep = scan;
	if (alert_peek(buf, n, &pk, &e) < 0) {
		r->kind = DOC_MALFORMED;
		r->why = xstrdup(e.msg);
		return;
	}
	if (!pb_may_match(set, &pk)) {
		r->kind = DOC_UNMATCHED;
		r->source = pk.source;
		return;
	}
	struct shared_alert *sa = xcalloc(1, sizeof(*sa));
	if (alert_parse_scanned(scan, buf, n, &sa->a, &e) < 0) {
		r->kind = DOC_MALFORMED;
		r->why = xstrdup(e.msg);
		alert_free(&sa->a);
		free(sa);
		return;
	}
	r->source = sa->a.source;
	r->m = pb_match(set, &sa->a, r->idx, RESPOND_MATCH_MAX);
	if (r->m == 0 || sa->a.host) {
		r->kind = r->m == 0 ? DOC_UNMATCHED : DOC_HOST;
		alert_free(&sa->a);
		free(sa);
		return;
	}
	alert_key(&sa->a); /* here, on the classifying thread */
	r->kind = DOC_MATCHED;
	r->sa = sa;
}

/* the second half, in input order on the reader: counts, dedup, queue.
 * -1 (with e) for a malformed document. */
static int commit(struct eng *g, struct pbref *set, struct doc_res *r, struct err *e)
{
	if (r->kind == DOC_BLANK)
		return 0;
	g->st.received++;
	if (r->kind == DOC_MALFORMED) {
		g->st.malformed++;
		stats_sample(g, "malformed", r->why);
		err_set(e, ERR_INVALID, "%s", r->why);
		free(r->why);
		r->why = NULL;
		return -1;
	}
	g->st.by_source[src_index(r->source)]++;
	if (r->kind == DOC_UNMATCHED) {
		g->st.unmatched++;
		return 0;
	}
	if (r->kind == DOC_HOST) {
		g->st.host++;
		return 0;
	}
	struct shared_alert *sa = r->sa;
	r->sa = NULL;
	g->st.matched++;
	sa->t_recv = now_mono();
	time_rfc3339_ns(sa->received, sizeof(sa->received));
	sa->refs = 1; /* ours, until the loop ends */
	for (size_t k = 0; k < r->m; k++) {
		const struct playbook *p = &set->s->v[r->idx[k]];
		if (dedup_seen(g, alert_key(&sa->a), p->name)) {
			g->st.deduped++;
			continue;
		}
		/* the raw alert (for the bag) is parsed here, once, in this thread:
		 * only for what is acted on (alert_raw is not for two threads) */
		if (!sa->a.raw)
			alert_raw(&sa->a);
		pthread_mutex_lock(&g->lock);
		if (g->qn >= RESPOND_QUEUE_MAX) {
			pthread_mutex_unlock(&g->lock);
			/* counted in the summary (with a sample), never a write of
			 * its own: a flood must not slow the reader down */
			g->st.dropped++;
			char why[256];
			snprintf(why, sizeof(why),
				 "the action queue is full: playbook '%.64s', container '%.64s'",
				 p->name, sa->a.container_id);
			stats_sample(g, "dropped", why);
			continue;
		}
		struct job *j = &g->q[(g->qhead + g->qn) % RESPOND_QUEUE_MAX];
		j->set = set;
		j->pb = r->idx[k];
		j->sa = sa;
		set->refs++;
		sa->refs++;
		g->qn++;
		pthread_cond_broadcast(&g->cond);
		pthread_mutex_unlock(&g->lock);
		g->st.queued++;
	}
	sa_put(g, sa);
	return 0;
}

static int handle_doc(struct eng *g, const char *buf, size_t n, struct err *e)
{
	struct doc_res r;
	classify(g->cur->s, g->scan, buf, n, &r);
	return commit(g, g->cur, &r, e);
}

/* ---- the lines of one read, classified on two threads ---- */

/* The whole lines of one read (no copy: they point into it) are classified
 * in two halves at once, the second by a thread started for the batch (a
 * thread start costs microseconds; a batch of a 1 MiB read is hundreds of
 * lines of microseconds each), and committed in order. */
#define BATCH_MAX  4096u /* lines */
#define BATCH_PAIR 64u	 /* fewer: one thread does them */
struct batch {
	size_t n;
	const char *p[BATCH_MAX];
	size_t len[BATCH_MAX];
	struct doc_res r[BATCH_MAX];
};

struct half {
	struct batch *b;
	size_t from, to;
	const struct pb_set *set;
	struct alert_scan *scan;
};

static void *classify_half(void *arg)
{
	struct half *h = arg;
	for (size_t i = h->from; i < h->to; i++)
		classify(h->set, h->scan, h->b->p[i], h->b->len[i], &h->b->r[i]);
	return NULL;
}

static void batch_flush(struct eng *g)
{
	struct batch *b = g->batch;
	if (!b || b->n == 0)
		return;
	struct pbref *set = g->cur;
	size_t mid = b->n >= BATCH_PAIR ? b->n / 2 : 0;
	struct half hi = {b, mid, b->n, set->s, g->scan2};
	pthread_t th;
	bool two = mid > 0 && pthread_create(&th, NULL, classify_half, &hi) == 0;
	struct half lo = {b, 0, two ? mid : b->n, set->s, g->scan};
	classify_half(&lo);
	if (two)
		pthread_join(th, NULL);
	for (size_t i = 0; i < b->n; i++) {
		struct err e = {0};
		commit(g, set, &b->r[i], &e);
	}
	b->n = 0;
}

static void batch_add(struct eng *g, const char *p, size_t n)
{
	if (!g->batch) {
		struct err e = {0};
		handle_doc(g, p, n, &e);
		return;
	}
	struct batch *b = g->batch;
	b->p[b->n] = p;
	b->len[b->n] = n;
	if (++b->n == BATCH_MAX)
		batch_flush(g);
}

struct linebuf {
	struct sbuf b;
	bool skipping; /* in a line past ALERT_LINE_MAX */
};

static void lines_feed(struct eng *g, struct linebuf *lb, const char *p, size_t n)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		if (!lb->skipping && lb->b.len + take > ALERT_LINE_MAX) {
			batch_flush(g); /* in input order */
			lb->skipping = true;
			g->st.too_long++;
			stats_sample(g, "too_long", "a line longer than 1 MiB was skipped");
			sbuf_reset(&lb->b);
		}
		if (!lb->skipping) {
			if (nl && lb->b.len == 0) {
				batch_add(g, p, take); /* the common case: no copy */
			} else {
				sbuf_add(&lb->b, p, take);
				if (nl) {
					struct err e = {0};
					batch_flush(g); /* in input order */
					handle_doc(g, lb->b.buf, lb->b.len, &e);
					sbuf_reset(&lb->b);
				}
			}
		}
		if (nl) {
			lb->skipping = false;
			take++;
		}
		p += take;
		n -= take;
	}
	batch_flush(g); /* p is the caller's: nothing may point into it after */
	if (lb->b.cap > 2 * RESPOND_READ_CHUNK && lb->b.len == 0)
		sbuf_free(&lb->b); /* memory flat after a long line */
}

/* the last line of a stream without its '\n' */
static void lines_end(struct eng *g, struct linebuf *lb)
{
	if (!lb->skipping && lb->b.len) {
		struct err e = {0};
		handle_doc(g, lb->b.buf, lb->b.len, &e);
	}
	sbuf_reset(&lb->b);
	lb->skipping = false;
}

/* ---- signals: one fd the reader polls ---- */

enum sig_act { SIG_NONE, SIG_STOP, SIG_RELOAD };

static void reload(struct eng *g)
{
	struct pb_set *s = NULL;
	json_t *errors = NULL;
	struct err e = {0};
	if (pb_load_dir(g->pbdir, &s, &errors, &e) < 0) {
		json_t *x = json_pack("{s:s,s:s,s:O*}", "error", e.msg, "kept", "the old playbooks",
				      "errors", errors);
		eng_audit(g, "respond-reload", g->pbdir, "failed", x);
		json_decref(x);
		json_decref(errors);
		return;
	}
	json_decref(errors);
	struct pbref *r = xcalloc(1, sizeof(*r));
	r->s = s;
	r->refs = 1;
	struct pbref *old = g->cur;
	pthread_mutex_lock(&g->lock);
	g->cur = r;
	pthread_mutex_unlock(&g->lock);
	json_t *x = json_pack("{s:I,s:O}", "playbooks", (json_int_t)s->n, "sources", s->sources);
	eng_audit(g, "respond-reload", g->pbdir, "ok", x);
	json_decref(x);
	pbref_put(g, old);
}

static enum sig_act read_signal(struct eng *g, int sfd)
{
	struct signalfd_siginfo si;
	enum sig_act act = SIG_NONE;
	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(g);
			if (act == SIG_NONE)
				act = SIG_RELOAD;
		} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			act = SIG_STOP;
		}
	}
	return act;
}

/* ---- input: an fd to its end ---- */

static int run_fd(struct eng *g, int fd, int sfd, struct err *e)
{
	_cleanup_free_ char *buf = xmalloc(RESPOND_READ_CHUNK);
	struct linebuf lb = {SBUF_INIT, false};
	for (;;) {
		struct pollfd p[2] = {{fd, POLLIN, 0}, {sfd, POLLIN, 0}};
		int r = poll(p, 2, 1000);
		if (r < 0 && errno != EINTR) {
			sbuf_free(&lb.b);
			return err_sys(e, errno, "poll");
		}
		stats_flush(g, false);
		if (r > 0 && (p[1].revents & POLLIN) && read_signal(g, sfd) == SIG_STOP) {
			g->stopping = true;
			break;
		}
		if (r <= 0 || !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t k = read(fd, buf, RESPOND_READ_CHUNK);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			sbuf_free(&lb.b);
			return err_sys(e, errno, "read the input");
		}
		if (k == 0)
			break;
		lines_feed(g, &lb, buf, (size_t)k);
	}
	lines_end(g, &lb);
	sbuf_free(&lb.b);
	return 0;
}

/* ---- input: a file followed like tail -F ---- */

static void follow_note(struct eng *g, const char *path, const char *what)
{
	json_t *x = json_pack("{s:s}", "input", what);
	eng_audit(g, "respond-input", path, "ok", x);
	json_decref(x);
}

/* read what fd has now into lb; the bytes read */
static off_t follow_read(struct eng *g, int fd, struct linebuf *lb, char *buf)
{
	off_t got = 0;
	for (;;) {
		ssize_t k = read(fd, buf, RESPOND_READ_CHUNK);
		if (k <= 0)
			break;
		got += k;
		lines_feed(g, lb, buf, (size_t)k);
	}
	return got;
}

#define RESPOND_FOLLOW_GRACE 2.0 /* seconds a rotated file is still read */

static int run_follow(struct eng *g, const char *path, int sfd, struct err *e)
{
	_cleanup_free_ char *buf = xmalloc(RESPOND_READ_CHUNK);
	struct linebuf lb = {SBUF_INIT, false}, oldlb = {SBUF_INIT, false};
	int fd = -1, oldfd = -1;
	double old_until = 0;
	struct stat fst = {0};
	off_t pos = 0;
	bool first = true, waiting = false, seen = false;
	int rc = 0;
	for (;;) {
		if (fd < 0) {
			fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
			if (fd < 0 && errno != ENOENT) {
				rc = err_sys(e, errno, "--follow '%s'", path);
				break;
			}
			if (fd < 0 && first && !waiting) {
				/* not there yet (the detector has not written): said once */
				follow_note(g, path, "waiting: no such file yet");
				waiting = true;
			}
			if (fd >= 0 && (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode))) {
				rc = err_set(e, ERR_INVALID, "--follow '%s': not a regular file",
					     path);
				break;
			}
			if (fd >= 0) {
				/* the file there at the start: only what is added from now;
				 * a file that appears later (rotated in): from its start */
				pos = first ? lseek(fd, 0, SEEK_END) : 0;
				follow_note(g, path, seen ? "reopened" : "opened");
				seen = true;
			}
			first = false;
		}
		if (oldfd >= 0) {
			/* a writer may still finish its line in the rotated file */
			follow_read(g, oldfd, &oldlb, buf);
			if (now_mono() > old_until) {
				lines_end(g, &oldlb);
				close(oldfd);
				oldfd = -1;
			}
		}
		if (fd >= 0) {
			pos += follow_read(g, fd, &lb, buf);
			struct stat now, pst;
			if (fstat(fd, &now) == 0 && now.st_size < pos) {
				/* truncated in place: from its start again */
				lines_end(g, &lb);
				lseek(fd, 0, SEEK_SET);
				pos = 0;
				follow_note(g, path, "truncated");
				continue;
			}
			if (stat(path, &pst) < 0 || pst.st_ino != fst.st_ino ||
			    pst.st_dev != fst.st_dev) {
				/* rotated (renamed or removed): the old one is still read a
				 * little while; the new one from its start when it appears */
				if (oldfd >= 0) {
					follow_read(g, oldfd, &oldlb, buf);
					lines_end(g, &oldlb);
					close(oldfd);
				}
				oldfd = fd;
				fd = -1;
				oldlb = lb;
				lb = (struct linebuf){SBUF_INIT, false};
				old_until = now_mono() + RESPOND_FOLLOW_GRACE;
				follow_note(g, path, "rotated");
				continue;
			}
		}
		struct pollfd p = {sfd, POLLIN, 0};
		int r = poll(&p, 1, RESPOND_FOLLOW_POLL_MS);
		stats_flush(g, false);
		if (r > 0 && read_signal(g, sfd) == SIG_STOP) {
			g->stopping = true;
			break;
		}
	}
	if (oldfd >= 0) {
		follow_read(g, oldfd, &oldlb, buf);
		lines_end(g, &oldlb);
		close(oldfd);
	}
	if (fd >= 0) {
		follow_read(g, fd, &lb, buf);
		lines_end(g, &lb);
		close(fd);
	}
	sbuf_free(&lb.b);
	sbuf_free(&oldlb.b);
	return rc;
}

/* ---- input: a unix socket, JSON lines or HTTP/1.1 POST ---- */

struct client {
	int fd;
	struct linebuf lb;
	bool decided, http; /* what this connection speaks, from its first bytes */
	struct sbuf head;   /* HTTP: the request head being read */
	size_t body_want;   /* HTTP: the Content-Length, once the head is in */
	bool in_body, close_after;
	struct sbuf body;
};

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	sbuf_free(&c->lb.b);
	sbuf_free(&c->head);
	sbuf_free(&c->body);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void http_answer(struct client *c, int code, const char *msg)
{
	char out[1024];
	const char *reason = code == 200   ? "OK"
			     : code == 400 ? "Bad Request"
			     : code == 405 ? "Method Not Allowed"
			     : code == 411 ? "Length Required"
			     : code == 413 ? "Payload Too Large"
					   : "Error";
	int n = snprintf(
	    out, sizeof(out),
	    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n%s\n", code,
	    reason, strlen(msg) + 1, c->close_after ? "Connection: close\r\n" : "", msg);
	if (n > 0 && (size_t)n < sizeof(out) &&
	    send(c->fd, out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
		c->close_after = true; /* a client that does not read its answer goes */
}

/* The body: one JSON document or an array of them. 200 when each was an
 * alert, else 400 naming the first problem. */
static void http_body(struct eng *g, struct client *c)
{
	struct err e = {0};
	const char *p = c->body.buf ? c->body.buf : "";
	size_t n = c->body.len, i = 0;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i < n && p[i] == '[') {
		/* an array of alerts (falcosidekick batches, a replay): each
		 * element is one document, found by the normalizer's own scanner */
		size_t cnt = 0, bad = 0;
		struct alert_range *v = xcalloc(ALERT_BATCH_MAX, sizeof(*v));
		if (alert_split(p, n, v, ALERT_BATCH_MAX, &cnt, &e) < 0) {
			free(v);
			g->st.received++;
			g->st.malformed++;
			stats_sample(g, "malformed", e.msg);
			http_answer(c, 400, e.msg);
			return;
		}
		char first[sizeof(e.msg) + 32] = "";
		for (size_t k = 0; k < cnt; k++) {
			err_clear(&e);
			if (handle_doc(g, p + v[k].off, v[k].len, &e) < 0 && !bad++)
				snprintf(first, sizeof(first), "element %zu: %s", k, e.msg);
		}
		free(v);
		if (bad)
			http_answer(c, 400, first);
		else
			http_answer(c, 200, "ok");
		return;
	}
	if (handle_doc(g, p, n, &e) < 0)
		http_answer(c, 400, e.msg);
	else
		http_answer(c, 200, "ok");
}

/* the head is in (up to and with its blank line): the request line and
 * the headers that matter. false: answered with an error, close. */
static bool http_head(struct eng *g, struct client *c)
{
	char *h = c->head.buf;
	char *eol = strstr(h, "\r\n");
	if (!eol)
		return false;
	*eol = '\0';
	bool post = str_has_prefix(h, "POST ");
	bool v11 = str_has_suffix(h, " HTTP/1.1");
	if (!post || (!v11 && !str_has_suffix(h, " HTTP/1.0"))) {
		g->st.http_bad++;
		stats_sample(g, "http", "not an HTTP/1.x POST");
		c->close_after = true;
		http_answer(c, post ? 400 : 405, "only POST of a JSON body");
		return false;
	}
	c->close_after = !v11;
	long long len = -1;
	for (char *line = eol + 2; *line;) {
		char *end = strstr(line, "\r\n");
		if (!end)
			break;
		*end = '\0';
		char *colon = strchr(line, ':');
		if (colon) {
			*colon = '\0';
			char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			str_rstrip(v);
			if (strcasecmp(line, "Content-Length") == 0) {
				if (len >= 0 || parse_ll(v, 0, ALERT_LINE_MAX, &len) < 0) {
					long long big;
					bool too_big = parse_ll(v, 0, LLONG_MAX, &big) == 0;
					g->st.http_bad++;
					stats_sample(g, "http", "bad or too large Content-Length");
					c->close_after = true;
					http_answer(c, too_big ? 413 : 400,
						    too_big ? "body larger than 1 MiB"
							    : "bad Content-Length");
					return false;
				}
			} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
				g->st.http_bad++;
				stats_sample(g, "http", "Transfer-Encoding refused");
				c->close_after = true;
				http_answer(c, 411, "a Content-Length is required");
				return false;
			} else if (strcasecmp(line, "Connection") == 0 &&
				   strcasecmp(v, "close") == 0) {
				c->close_after = true;
			}
		}
		line = end + 2;
	}
	if (len < 0) {
		g->st.http_bad++;
		stats_sample(g, "http", "no Content-Length");
		c->close_after = true;
		http_answer(c, 411, "a Content-Length is required");
		return false;
	}
	c->body_want = (size_t)len;
	c->in_body = true;
	sbuf_reset(&c->body);
	return true;
}

/* bytes of an HTTP connection; false: close it */
static bool http_feed(struct eng *g, struct client *c, const char *p, size_t n)
{
	while (n) {
		if (!c->in_body) {
			/* the head, to its blank line, bounded */
			size_t take = 0;
			const char *end = NULL;
			for (size_t i = 0; i < n; i++) {
				if (p[i] == '\n' && c->head.len + i >= 3) {
					/* look at the last four bytes: head + p[0..i] */
					char last[4];
					for (size_t k = 0; k < 4; k++) {
						size_t back = 3 - k; /* bytes before i */
						last[k] =
						    back <= i
							? p[i - back]
							: c->head.buf[c->head.len - (back - i)];
					}
					if (memcmp(last, "\r\n\r\n", 4) == 0) {
						end = p + i;
						break;
					}
				}
			}
			take = end ? (size_t)(end - p) + 1 : n;
			if (c->head.len + take > RESPOND_HTTP_HEAD_MAX) {
				g->st.http_bad++;
				stats_sample(g, "http", "request head larger than 16 KiB");
				c->close_after = true;
				http_answer(c, 400, "request head too large");
				return false;
			}
			sbuf_add(&c->head, p, take);
			p += take;
			n -= take;
			if (!end)
				return true;
			bool ok = http_head(g, c);
			sbuf_reset(&c->head);
			if (!ok)
				return false;
		}
		if (c->in_body) {
			size_t want = c->body_want - c->body.len;
			size_t take = n < want ? n : want;
			sbuf_add(&c->body, p, take);
			p += take;
			n -= take;
			if (c->body.len == c->body_want) {
				http_body(g, c);
				c->in_body = false;
				sbuf_free(&c->body);
				if (c->close_after)
					return false;
			}
		}
	}
	return true;
}

static int listen_socket(const char *spec, int *out, char **path_out, struct err *e)
{
	if (!str_has_prefix(spec, "unix:"))
		return err_set(e, ERR_INVALID, "--listen '%s': only unix:PATH", spec);
	const char *path = spec + 5;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, ERR_INVALID, "--listen '%s': the path is empty or too long",
			       spec);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return err_set(e, ERR_INVALID, "--listen '%s': exists and is not a socket",
				       path);
		/* a socket left by a dead respond goes; a live one is refused */
		int t = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (t >= 0 && connect(t, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(t);
			return err_set(e, ERR_WRONGSTATE,
				       "--listen '%s': another process listens there", path);
		}
		if (t >= 0)
			close(t);
		if (unlink(path) < 0)
			return err_sys(e, errno, "--listen: unlink '%s'", path);
	}
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_sys(e, errno, "socket");
	mode_t old = umask(0177); /* created 0600, never wider for an instant */
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int saved = errno;
	umask(old);
	if (r < 0)
		return err_sys(e, saved, "--listen: bind '%s'", path);
	if (chmod(path, 0600) < 0 || lstat(path, &st) < 0 || (st.st_mode & 0777) != 0600) {
		saved = errno;
		unlink(path);
		return err_sys(e, saved, "--listen: '%s' is not 0600", path);
	}
	if (listen(fd, 64) < 0) {
		saved = errno;
		unlink(path);
		return err_sys(e, saved, "--listen: listen '%s'", path);
	}
	*out = steal_fd(&fd);
	*path_out = xstrdup(path);
	return 0;
}

static void client_feed(struct eng *g, struct client *c, const char *p, size_t n, bool *drop)
{
	if (!c->decided) {
		/* "POST " (or any method-looking start) makes it HTTP */
		if (n && p[0] >= 'A' && p[0] <= 'Z')
			c->http = true;
		c->decided = true;
	}
	if (c->http)
		*drop = !http_feed(g, c, p, n);
	else
		lines_feed(g, &c->lb, p, n);
}

static int run_listen(struct eng *g, int lfd, int sfd, struct err *e)
{
	(void)e;
	_cleanup_free_ char *buf = xmalloc(RESPOND_READ_CHUNK);
	struct client cl[RESPOND_CLIENTS_MAX];
	for (size_t i = 0; i < RESPOND_CLIENTS_MAX; i++) {
		memset(&cl[i], 0, sizeof(cl[i]));
		cl[i].fd = -1;
	}
	struct pollfd p[RESPOND_CLIENTS_MAX + 2];
	for (;;) {
		size_t np = 0;
		p[np++] = (struct pollfd){sfd, POLLIN, 0};
		p[np++] = (struct pollfd){lfd, POLLIN, 0};
		size_t map[RESPOND_CLIENTS_MAX];
		for (size_t i = 0; i < RESPOND_CLIENTS_MAX; i++) {
			if (cl[i].fd < 0)
				continue;
			map[np - 2] = i;
			p[np++] = (struct pollfd){cl[i].fd, POLLIN, 0};
		}
		int r = poll(p, np, 1000);
		stats_flush(g, false);
		if (r <= 0)
			continue;
		if ((p[0].revents & POLLIN) && read_signal(g, sfd) == SIG_STOP) {
			g->stopping = true;
			break;
		}
		for (size_t k = 2; k < np; k++) {
			if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct client *c = &cl[map[k - 2]];
			ssize_t n = read(c->fd, buf, RESPOND_READ_CHUNK);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			bool drop = n <= 0;
			if (n > 0)
				client_feed(g, c, buf, (size_t)n, &drop);
			if (drop) {
				if (!c->http)
					lines_end(g, &c->lb); /* its last line without '\n' */
				client_close(c);
			}
		}
		if (p[1].revents & POLLIN) {
			for (;;) {
				int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				if (fd < 0)
					break;
				size_t i = 0;
				while (i < RESPOND_CLIENTS_MAX && cl[i].fd >= 0)
					i++;
				if (i == RESPOND_CLIENTS_MAX) {
					close(fd); /* bounded: the client may come back */
					g->st.http_bad++;
					stats_sample(g, "socket", "too many clients: one refused");
					continue;
				}
				cl[i].fd = fd;
			}
		}
	}
	for (size_t i = 0; i < RESPOND_CLIENTS_MAX; i++)
		if (cl[i].fd >= 0)
			client_close(&cl[i]);
	return 0;
}

/* ---- the steps ---- */

struct act {
	struct eng *g;
	const struct playbook *p;
	const struct alert *a;
	struct shared_alert *sa;
	struct ctr *c;
	bool dry;
	json_t *results; /* [{step, result, ...}] */
};

static bool opt_bool(const json_t *o, const char *k, bool def)
{
	json_t *v = json_object_get(o, k);
	return json_is_boolean(v) ? json_is_true(v) : def;
}

static long long opt_int(const json_t *o, const char *k, long long def)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

static const char *opt_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* a duration: an integer of seconds, or "30s", "5m", "2h", "1d" */
static long long opt_seconds(const json_t *o, const char *k, long long def)
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		return json_integer_value(v);
	const char *s = json_string_value(v);
	if (!s || !*s)
		return def;
	size_t n = strlen(s);
	long long mul = 1;
	char num[32];
	if (n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's':
		num[--n] = '\0';
		break;
	case 'm':
		mul = 60;
		num[--n] = '\0';
		break;
	case 'h':
		mul = 3600;
		num[--n] = '\0';
		break;
	case 'd':
		mul = 86400;
		num[--n] = '\0';
		break;
	}
	long long x;
	if (parse_ll(num, 0, 366LL * 86400, &x) < 0)
		return -1;
	return x * mul;
}

static bool playbook_has(const struct playbook *p, enum pb_step_kind k)
{
	for (size_t i = 0; i < p->nsteps; i++)
		if (p->steps[i].kind == k)
			return true;
	return false;
}

static json_t *step_result(const char *step, const char *result)
{
	return json_pack("{s:s,s:s}", "step", step, "result", result);
}

static void audit_step(struct act *x, json_t *r)
{
	json_t *ex = json_deep_copy(r);
	json_object_set_new(ex, "playbook", json_string(x->p->name));
	json_object_set_new(ex, "by", json_string("respond"));
	json_object_set_new(ex, "alert_key", json_string(x->a->key));
	json_object_del(ex, "result");
	eng_audit(x->g, "respond-step", x->c->id, json_string_value(json_object_get(r, "result")),
		  ex);
	json_decref(ex);
	json_array_append(x->results, r);
}

/* the bag's name: <bags>/<time>-<id12>-<playbook> */
static char *bag_path(struct act *x, const json_t *opts)
{
	const char *dir = opt_str(opts, "output");
	if (!dir)
		dir = x->g->bags;
	char t[40];
	time_rfc3339_ns(t, sizeof(t));
	char stamp[32];
	size_t k = 0;
	for (size_t i = 0; t[i] && k + 1 < sizeof(stamp) && i < 19; i++)
		if (t[i] != '-' && t[i] != ':')
			stamp[k++] = t[i];
	stamp[k] = '\0';
	char name[64];
	snprintf(name, sizeof(name), "%s", x->p->name);
	for (char *q = name; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '-' || *q == '_'))
			*q = '_';
	return xasprintf("%s/%s-%.12s-%s-%09ld", dir, stamp, x->c->id, name,
			 (long)(now_mono() * 1e9) % 1000000000L);
}

static void step_capture(struct act *x, const json_t *opts)
{
	bool quarantine = playbook_has(x->p, PB_QUARANTINE);
	_cleanup_free_ char *out = bag_path(x, opts);
	json_t *r = step_result("capture", "ok");
	json_object_set_new(r, "bag", json_string(out));
	json_object_set_new(r, "quarantine", json_boolean(quarantine));
	if (x->dry) {
		json_object_set_new(r, "result", json_string("dry-run"));
		json_object_set_new(
		    r, "would",
		    json_string(quarantine
				    ? "capture with its own cut and freeze after its pcap starts"
				    : "capture the live container, untouched"));
		audit_step(x, r);
		json_decref(r);
		return;
	}
	struct err e = {0};
	char *slash = strrchr(out, '/');
	*slash = '\0';
	if (mkdir_p(out, 0700, &e) < 0) {
		*slash = '/';
		json_object_set_new(r, "result", json_string("failed"));
		json_object_set_new(r, "error", json_string(e.msg));
		audit_step(x, r);
		json_decref(r);
		return;
	}
	*slash = '/';
	json_t *trigger = json_pack("{s:o,s:O,s:s,s:s}", "alert", alert_to_json(x->a), "raw",
				    x->a->raw ? x->a->raw : json_null(), "playbook", x->p->name,
				    "received", x->sa->received);
	struct capture_opts co = {
	    .out = out,
	    .case_id = opt_str(opts, "case"),
	    .examiner = opt_str(opts, "examiner"),
	    .sign_key = opt_str(opts, "sign_key"),
	    .state_dir = x->g->o->state_dir,
	    .audit_log = x->g->o->audit_log,
	    .quarantine = quarantine,
	    .pcap = opt_bool(opts, "pcap", true),
	    .fs = opt_bool(opts, "fs", true),
	    .memory = opt_bool(opts, "memory", true),
	    .pcap_seconds = (unsigned)opt_int(opts, "pcap_seconds", 5),
	    .observe_seconds = (unsigned)opt_int(opts, "observe_seconds", 0),
	    .watch_cut_seconds = (unsigned)opt_int(opts, "watch_cut_seconds", 0),
	    .pcap_max_bytes = (unsigned long long)opt_int(opts, "pcap_max_bytes", 256ll << 20),
	    .max_file_bytes = (unsigned long long)opt_int(opts, "max_file_bytes", 1ll << 30),
	    .log_max_bytes = 16ull << 20,
	    .max_memory_bytes = (unsigned long long)opt_int(opts, "max_memory_bytes", 0),
	    .trigger = trigger,
	};
	struct capture_result cr;
	int rc = capture_run(x->c, &co, &cr, &e);
	json_decref(trigger);
	json_object_set_new(r, "result", json_string(rc < 0 ? "failed" : rc ? "partial" : "ok"));
	json_object_set_new(r, "status", json_string(cr.status ? cr.status : "failed"));
	json_object_set_new(r, "bag_id", json_string(cr.bag_id));
	json_object_set_new(r, "net_cut", json_boolean(cr.net_cut));
	json_object_set_new(r, "frozen", json_boolean(cr.frozen));
	json_object_set_new(r, "missing", json_incref(cr.missing ? cr.missing : json_array()));
	if (rc < 0)
		json_object_set_new(r, "error", json_string(e.msg));
	json_object_set_new(r, "seconds", json_real(cr.seconds));
	capture_result_free(&cr);
	audit_step(x, r);
	json_decref(r);
}

/* quarantine (net + freeze unless "freeze": false) or freeze only, through
 * the quarantine transaction; what holds is what it read back */
static void step_quarantine(struct act *x, const json_t *opts, bool net)
{
	const char *name = net ? "quarantine" : "freeze";
	json_t *r = step_result(name, "ok");
	bool freeze = net ? opt_bool(opts, "freeze", true) : true;
	if (x->dry) {
		char t1[NCUT_TABLE_MAX], t2[NCUT_TABLE_MAX];
		struct err ke = {0};
		bool keyed =
			qstate_table_names(x->g->o->state_dir, false, x->c->id, t1, t2, &ke) == 0;
		json_object_set_new(r, "result", json_string("dry-run"));
		if (net) {
			/* a dry run makes no key: without one, the name is not known yet */
			json_object_set_new(r, "netns_table",
					    keyed ? json_sprintf("inet %s", t1)
						  : json_sprintf("inet contain_q_<keyed: %s>", ke.msg));
			json_object_set_new(r, "host_table", json_sprintf("netdev %s", t2));
		}
		if (freeze)
			json_object_set_new(r, "freeze",
					    json_string(x->c->cgroup_unified ? x->c->cgroup_unified
							: x->c->cgroup_freezer
							    ? x->c->cgroup_freezer
							    : ""));
		audit_step(x, r);
		json_decref(r);
		return;
	}
	struct qtxn_opts t = {x->g->o->state_dir, x->g->o->audit_log, "respond"};
	struct quarantine_opts qo = {
	    .net = net, .freeze = freeze, .timeout = (double)opt_int(opts, "timeout", 10)};
	struct quarantine_outcome out;
	struct err e = {0};
	int ok = quarantine_run(x->c, &t, &qo, &out, &e);
	json_object_set_new(r, "result",
			    json_string(ok < 0	     ? "failed"
					: out.result ? out.result
						     : "ok"));
	json_object_set_new(r, "net_cut", json_boolean(out.after.net_cut));
	json_object_set_new(r, "frozen", json_boolean(out.after.frozen));
	json_object_set_new(r, "holds", json_string(out.r.holds));
	if (ok < 0)
		json_object_set_new(r, "error", json_string(e.msg));
	if (out.audit_err.kind)
		json_object_set_new(r, "audit_error", json_string(out.audit_err.msg));
	quarantine_outcome_free(&out);
	audit_step(x, r);
	json_decref(r);
}

static void step_release_after(struct act *x, const json_t *opts)
{
	json_t *r = step_result("release_after", "ok");
	long long secs = opt_seconds(opts, "after", -1);
	if (secs < 0)
		secs = opt_seconds(opts, "seconds", -1);
	if (secs <= 0) {
		json_object_set_new(r, "result", json_string("failed"));
		json_object_set_new(r, "error", json_string("no duration (\"after\")"));
		audit_step(x, r);
		json_decref(r);
		return;
	}
	json_object_set_new(r, "seconds", json_integer(secs));
	if (x->dry) {
		json_object_set_new(r, "result", json_string("dry-run"));
		audit_step(x, r);
		json_decref(r);
		return;
	}
	struct eng *g = x->g;
	pthread_mutex_lock(&g->lock);
	if (g->ntimers >= RESPOND_TIMERS_MAX) {
		pthread_mutex_unlock(&g->lock);
		json_object_set_new(r, "result", json_string("failed"));
		json_object_set_new(r, "error", json_string("too many release timers"));
	} else {
		struct timer *tm = &g->timers[g->ntimers++];
		tm->at = now_mono() + (double)secs;
		tm->id = xstrdup(x->c->id);
		tm->playbook = xstrdup(x->p->name);
		tm->key = xstrdup(x->a->key);
		pthread_cond_broadcast(&g->cond);
		pthread_mutex_unlock(&g->lock);
		json_object_set_new(r, "result", json_string("scheduled"));
	}
	audit_step(x, r);
	json_decref(r);
}

/* the playbook's program, its fixed argv, the alert and results on stdin */
static void step_notify(struct act *x, const json_t *opts)
{
	json_t *r = step_result("notify", "ok");
	const char *prog = opt_str(opts, "program");
	json_t *args = json_object_get(opts, "args");
	long long timeout = opt_int(opts, "timeout", 10);
	if (timeout <= 0 || timeout > PB_NOTIFY_SECONDS_MAX)
		timeout = 10;
	json_object_set_new(r, "program", json_string(prog ? prog : ""));
	if (!prog || prog[0] != '/') {
		json_object_set_new(r, "result", json_string("failed"));
		json_object_set_new(r, "error", json_string("no absolute program"));
		goto out;
	}
	if (x->dry) {
		json_object_set_new(r, "result", json_string("dry-run"));
		goto out;
	}
	size_t na = json_array_size(args);
	char **argv = xcalloc(na + 2, sizeof(*argv));
	argv[0] = (char *)prog;
	for (size_t i = 0; i < na; i++) {
		const char *s = json_string_value(json_array_get(args, i));
		argv[i + 1] = (char *)(s ? s : "");
	}
	json_t *in = json_pack("{s:o,s:o,s:s,s:O}", "alert", alert_to_json(x->a), "container",
			       ctr_brief_json(x->c), "playbook", x->p->name, "results", x->results);
	char *text = json_dumps(in, JSON_COMPACT);
	json_decref(in);
	int pin[2], pout[2];
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(text);
		free(argv);
		json_object_set_new(r, "result", json_string("failed"));
		json_object_set_new(r, "error", json_sprintf("pipe: %s", strerror(errno)));
		goto out;
	}
	double t0 = now_mono();
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		int dn = open("/dev/null", O_RDWR);
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(pout[1], 2);
		if (dn > 2)
			close(dn);
		/* nothing of ours beyond its stdio: bags, sockets, the audit log */
		close_range(3, ~0u, 0);
		static char *const envp[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
					     (char *)"LANG=C", NULL};
		execve(prog, argv, envp);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	free(argv);
	if (pid < 0) {
		close(pin[1]);
		close(pout[0]);
		free(text);
		json_object_set_new(r, "result", json_string("failed"));
		json_object_set_new(r, "error", json_sprintf("fork: %s", strerror(errno)));
		goto out;
	}
	/* stdin: written without blocking past the deadline */
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	size_t off = 0, len = strlen(text);
	struct sbuf got = SBUF_INIT;
	int status = 0;
	bool exited = false, killed = false;
	char rb[1024];
	while (!exited) {
		double left = (double)timeout - (now_mono() - t0);
		if (left <= 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = true;
			waitpid(pid, &status, 0);
			break;
		}
		struct pollfd p[2] = {{pin[1], POLLOUT, 0}, {pout[0], POLLIN, 0}};
		int np = pin[1] >= 0 ? 2 : 1;
		struct pollfd *pp = pin[1] >= 0 ? p : p + 1;
		poll(pp, (nfds_t)np, left < 0.05 ? (int)(left * 1000) + 1 : 50);
		if (pin[1] >= 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(pin[1], text + off, len - off);
			if (w > 0)
				off += (size_t)w;
			if (off == len || (w < 0 && errno != EAGAIN && errno != EINTR)) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
		ssize_t k;
		while ((k = read(pout[0], rb, sizeof(rb))) > 0)
			if (got.len < RESPOND_NOTIFY_OUT_MAX)
				sbuf_add(&got, rb, (size_t)k);
		if (waitpid(pid, &status, WNOHANG) == pid)
			exited = true;
	}
	if (pin[1] >= 0)
		close(pin[1]);
	close(pout[0]);
	free(text);
	if (got.len > RESPOND_NOTIFY_OUT_MAX)
		got.len = RESPOND_NOTIFY_OUT_MAX, got.buf[got.len] = '\0';
	json_object_set_new(r, "output", json_stringn(got.buf ? got.buf : "", got.len));
	if (!json_object_get(r, "output"))
		json_object_set_new(r, "output", json_string("(not UTF-8)"));
	sbuf_free(&got);
	json_object_set_new(r, "seconds", json_real(now_mono() - t0));
	if (killed) {
		json_object_set_new(r, "result", json_string("failed"));
		json_object_set_new(r, "error", json_sprintf("killed after %lld s", timeout));
	} else if (WIFEXITED(status)) {
		json_object_set_new(r, "exit", json_integer(WEXITSTATUS(status)));
		if (WEXITSTATUS(status) != 0)
			json_object_set_new(r, "result", json_string("failed"));
	} else {
		json_object_set_new(r, "result", json_string("failed"));
		json_object_set_new(r, "error", json_sprintf("signal %d", WTERMSIG(status)));
	}
out:
	audit_step(x, r);
	json_decref(r);
}

static void run_steps(struct act *x)
{
	for (size_t i = 0; i < x->p->nsteps; i++) {
		const struct pb_step *s = &x->p->steps[i];
		switch (s->kind) {
		case PB_CAPTURE:
			step_capture(x, s->opts);
			break;
		case PB_QUARANTINE:
			step_quarantine(x, s->opts, true);
			break;
		case PB_FREEZE:
			step_quarantine(x, s->opts, false);
			break;
		case PB_RELEASE_AFTER:
			step_release_after(x, s->opts);
			break;
		case PB_NOTIFY:
			step_notify(x, s->opts);
			break;
		}
	}
}

/* ---- a job: resolve, allow list, rate, one at a time, the steps ---- */

static bool busy_take(struct eng *g, const char *id)
{
	/* under g->lock: wait while another action runs on id */
	for (;;) {
		bool found = false;
		for (size_t i = 0; i < g->nworkers; i++)
			if (g->busy[i] && strcmp(g->busy[i], id) == 0)
				found = true;
		if (!found)
			break;
		pthread_cond_wait(&g->cond, &g->lock);
	}
	for (size_t i = 0; i < g->nworkers; i++) {
		if (!g->busy[i]) {
			g->busy[i] = xstrdup(id);
			return true;
		}
	}
	return false; /* cannot happen: one slot per worker */
}

static void busy_give(struct eng *g, const char *id)
{
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < g->nworkers; i++) {
		if (g->busy[i] && strcmp(g->busy[i], id) == 0) {
			free(g->busy[i]);
			g->busy[i] = NULL;
			break;
		}
	}
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

/* a token of the node-wide rate (per minute); false: over it */
static bool rate_take(struct eng *g)
{
	pthread_mutex_lock(&g->lock);
	double t = now_mono();
	g->tokens += (t - g->tokens_at) * (double)g->rate_per_min / 60.0;
	if (g->tokens > (double)g->rate_per_min)
		g->tokens = (double)g->rate_per_min;
	g->tokens_at = t;
	bool ok = g->tokens >= 1.0;
	if (ok)
		g->tokens -= 1.0;
	pthread_mutex_unlock(&g->lock);
	return ok;
}

static json_t *decision_json(const struct playbook *p, const struct alert *a, const char *decision)
{
	json_t *x = json_object();
	json_object_set_new(x, "decision", json_string(decision));
	json_object_set_new(x, "playbook", json_string(p->name));
	json_object_set_new(x, "alert", alert_to_json(a));
	return x;
}

static void run_job(struct eng *g, struct job *j)
{
	const struct playbook *p = &j->set->s->v[j->pb];
	const struct alert *a = &j->sa->a;
	struct err e = {0};
	_cleanup_ctr_ struct ctr *c = NULL;
	if (runtime_resolve((const struct rt_roots *)g->o->roots, a->container_id, &c, &e) < 0) {
		json_t *x = decision_json(p, a, "unresolved");
		json_object_set_new(x, "error", json_string(e.msg));
		eng_audit(g, "respond", a->container_id, "failed", x);
		json_decref(x);
		return;
	}
	json_t *cj = ctr_to_json(c);
	const char *why = NULL;
	bool allowed = pb_allowed(j->set->s, a, cj, &why);
	json_decref(cj);
	if (allowed) {
		json_t *x = decision_json(p, a, "allowlisted");
		json_object_set_new(x, "why", json_string(why ? why : ""));
		json_object_set_new(x, "container", ctr_brief_json(c));
		eng_audit(g, "respond", c->id, "allowlisted", x);
		json_decref(x);
		return;
	}
	bool dry = g->o->dry_run || p->dry_run;
	if (!dry && !rate_take(g)) {
		json_t *x = decision_json(p, a, "rate-limited");
		json_object_set_new(x, "rate_per_min", json_integer(g->rate_per_min));
		json_object_set_new(x, "container", ctr_brief_json(c));
		eng_audit(g, "respond", c->id, "rate-limited", x);
		json_decref(x);
		return;
	}
	pthread_mutex_lock(&g->lock);
	busy_take(g, c->id);
	pthread_mutex_unlock(&g->lock);

	json_t *x = decision_json(p, a, dry ? "dry-run" : "acted");
	json_object_set_new(x, "container", ctr_brief_json(c));
	json_object_set_new(x, "received", json_string(j->sa->received));
	eng_audit(g, "respond", c->id, dry ? "dry-run" : "acted", x);
	json_decref(x);

	struct act ac = {g, p, a, j->sa, c, dry, json_array()};
	run_steps(&ac);

	/* the end of the action: each step's result, and how long it took */
	size_t i;
	json_t *s;
	const char *res = "ok";
	json_array_foreach(ac.results, i, s)
	{
		const char *r = json_string_value(json_object_get(s, "result"));
		if (r && strcmp(r, "failed") == 0)
			res = "failed";
		else if (r && strcmp(r, "partial") == 0 && strcmp(res, "ok") == 0)
			res = "partial";
	}
	if (dry)
		res = "dry-run";
	json_t *d = json_pack("{s:s,s:s,s:O,s:f}", "decision", "done", "playbook", p->name, "steps",
			      ac.results, "seconds", now_mono() - j->sa->t_recv);
	eng_audit(g, "respond-done", c->id, res, d);
	json_decref(d);
	json_decref(ac.results);
	busy_give(g, c->id);
}

/* release_after: due timers, each released and read back */
static void run_timer(struct eng *g, struct timer *tm)
{
	struct err e = {0};
	_cleanup_ctr_ struct ctr *c = NULL;
	if (runtime_resolve((const struct rt_roots *)g->o->roots, tm->id, &c, &e) < 0)
		c = NULL; /* gone: released from its state file, nothing thawed */
	if (c) {
		pthread_mutex_lock(&g->lock);
		busy_take(g, c->id);
		pthread_mutex_unlock(&g->lock);
	}
	struct qtxn_opts t = {g->o->state_dir, g->o->audit_log, "respond"};
	struct release_opts ro = {0};
	struct release_outcome out;
	int ok = release_run(c, tm->id, &t, &ro, &out, &e);
	json_t *x = json_pack("{s:s,s:s,s:s,s:s}", "step", "release_after", "playbook",
			      tm->playbook, "alert_key", tm->key, "by", "respond");
	if (ok < 0)
		json_object_set_new(x, "error", json_string(e.msg));
	bool held = false;
	if (c) {
		struct qverify v;
		struct err ve = {0};
		if (quarantine_verify(c, g->o->state_dir, QV_NET, &v, &ve) == 0) {
			held = v.net_cut || v.frozen;
			json_object_set_new(x, "verified", qverify_to_json(&v));
		} else {
			json_object_set_new(x, "verify_error", json_string(ve.msg));
		}
	}
	eng_audit(g, "respond-step", tm->id, ok < 0 || held ? "failed" : "ok", x);
	json_decref(x);
	release_outcome_free(&out);
	if (c)
		busy_give(g, c->id);
}

static void *worker(void *arg)
{
	struct eng *g = arg;
	pthread_mutex_lock(&g->lock);
	for (;;) {
		/* a due timer first, then a job */
		double t = now_mono(), next = 0;
		size_t due = SIZE_MAX;
		if (!g->stopping) {
			for (size_t i = 0; i < g->ntimers; i++) {
				if (g->timers[i].at <= t) {
					due = i;
					break;
				}
				if (next == 0 || g->timers[i].at < next)
					next = g->timers[i].at;
			}
		}
		if (due != SIZE_MAX) {
			struct timer tm = g->timers[due];
			g->timers[due] = g->timers[--g->ntimers];
			g->running++;
			pthread_mutex_unlock(&g->lock);
			run_timer(g, &tm);
			free(tm.id);
			free(tm.playbook);
			free(tm.key);
			pthread_mutex_lock(&g->lock);
			g->running--;
			pthread_cond_broadcast(&g->cond);
			continue;
		}
		if (g->qn && !g->stopping) {
			struct job j = g->q[g->qhead];
			g->qhead = (g->qhead + 1) % RESPOND_QUEUE_MAX;
			g->qn--;
			g->running++;
			pthread_mutex_unlock(&g->lock);
			run_job(g, &j);
			pbref_put(g, j.set);
			sa_put(g, j.sa);
			pthread_mutex_lock(&g->lock);
			g->running--;
			pthread_cond_broadcast(&g->cond);
			continue;
		}
		/* done when closing and nothing queued (timers left are abandoned) */
		if (g->closing && (g->qn == 0 || g->stopping))
			break;
		if (next > 0) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			double w = next - t;
			ts.tv_sec += (time_t)w;
			ts.tv_nsec += (long)((w - (double)(time_t)w) * 1e9);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&g->cond, &g->lock, &ts);
		} else {
			pthread_cond_wait(&g->cond, &g->lock);
		}
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/* ---- respond_run ---- */

static void drop_queued(struct eng *g)
{
	/* SIGTERM: what waits in the queue is not started (audited) */
	for (;;) {
		pthread_mutex_lock(&g->lock);
		if (!g->qn) {
			pthread_mutex_unlock(&g->lock);
			break;
		}
		struct job j = g->q[g->qhead];
		g->qhead = (g->qhead + 1) % RESPOND_QUEUE_MAX;
		g->qn--;
		pthread_mutex_unlock(&g->lock);
		json_t *x = decision_json(&j.set->s->v[j.pb], &j.sa->a, "dropped");
		json_object_set_new(x, "why", json_string("stopping (SIGTERM) before it started"));
		eng_audit(g, "respond", j.sa->a.container_id, "dropped", x);
		json_decref(x);
		pbref_put(g, j.set);
		sa_put(g, j.sa);
	}
}

int respond_run(const struct respond_opts *o, struct err *e)
{
	if ((o->listen != NULL) + (o->follow != NULL) > 1)
		return err_set(e, ERR_INVALID, "--listen and --follow exclude each other");
	if (!o->state_dir)
		return err_set(e, ERR_INVALID, "no state dir");
	struct eng g = {
	    .o = o,
	    .pbdir = o->playbooks ? o->playbooks : RESPOND_DEFAULT_PLAYBOOKS,
	    .bags = o->bags ? o->bags : RESPOND_DEFAULT_BAGS,
	    .dedup_seconds = o->dedup_seconds ? o->dedup_seconds : RESPOND_DEDUP_SECONDS,
	    .rate_per_min = o->rate_per_min ? o->rate_per_min : RESPOND_RATE_PER_MIN,
	    .nworkers = o->workers ? o->workers : RESPOND_WORKERS,
	};
	if (g.nworkers > 64)
		return err_set(e, ERR_INVALID, "at most 64 workers");

	struct pb_set *s = NULL;
	json_t *errors = NULL;
	if (pb_load_dir(g.pbdir, &s, &errors, e) < 0) {
		json_decref(errors);
		return err_wrap(e, "playbooks '%s'", g.pbdir);
	}
	json_decref(errors);
	g.cur = xcalloc(1, sizeof(*g.cur));
	g.cur->s = s;
	g.cur->refs = 1;

	int lfd = -1;
	_cleanup_free_ char *sock_path = NULL;
	if (o->listen && listen_socket(o->listen, &lfd, &sock_path, e) < 0) {
		pbref_put(&g, g.cur);
		return -1;
	}

	/* signals: SIGTERM, SIGINT, SIGHUP through an fd (all threads have them
	 * blocked, so none is ever delivered elsewhere); SIGPIPE blocked: a
	 * notify program that goes away is an EPIPE */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	sigdelset(&set, SIGPIPE);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		int saved = errno;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (lfd >= 0) {
			close(lfd);
			unlink(sock_path);
		}
		pbref_put(&g, g.cur);
		return err_sys(e, saved, "signalfd");
	}

	pthread_mutex_init(&g.lock, NULL);
	pthread_mutex_init(&g.ev_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_cond_init(&g.cond, &ca);
	g.busy = xcalloc(g.nworkers, sizeof(*g.busy));
	g.dedup = xcalloc(RESPOND_DEDUP_MAX, sizeof(*g.dedup));
	g.scan = alert_scan_new();
	g.scan2 = alert_scan_new();
	g.batch = xmalloc(sizeof(*g.batch));
	g.batch->n = 0;
	g.tokens = (double)g.rate_per_min;
	g.tokens_at = now_mono();
	g.st.samples = json_array();
	g.st_at = now_mono();

	json_t *x =
	    json_pack("{s:s,s:s,s:I,s:b,s:I,s:I,s:I,s:O}", "playbooks", g.pbdir, "input",
		      o->listen	  ? o->listen
		      : o->follow ? o->follow
				  : "stdin",
		      "loaded", (json_int_t)s->n, "dry_run", o->dry_run, "dedup_seconds",
		      (json_int_t)g.dedup_seconds, "rate_per_min", (json_int_t)g.rate_per_min,
		      "workers", (json_int_t)g.nworkers, "sources", s->sources);
	eng_audit(&g, "respond-start", "", "ok", x);
	json_decref(x);

	pthread_t *th = xcalloc(g.nworkers, sizeof(*th));
	size_t nth = 0;
	for (; nth < g.nworkers; nth++)
		if (pthread_create(&th[nth], NULL, worker, &g) != 0)
			break;
	int rc = 0;
	if (nth == 0) {
		rc = err_set(e, ERR_SYS, "no worker thread could be started");
	} else if (o->listen) {
		rc = run_listen(&g, lfd, sfd, e);
	} else if (o->follow) {
		rc = run_follow(&g, o->follow, sfd, e);
	} else {
		rc = run_fd(&g, o->in_fd, sfd, e);
	}
	stats_flush(&g, true);

	/* the end: in-flight actions finish; on SIGTERM queued ones are dropped,
	 * at the end of the input they all run */
	if (g.stopping)
		drop_queued(&g);
	pthread_mutex_lock(&g.lock);
	g.closing = true;
	pthread_cond_broadcast(&g.cond);
	pthread_mutex_unlock(&g.lock);
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	free(th);
	drop_queued(&g); /* none when the workers drained it */

	for (size_t i = 0; i < g.ntimers; i++) {
		json_t *tx = json_pack(
		    "{s:s,s:s,s:s}", "step", "release_after", "playbook", g.timers[i].playbook,
		    "why", "respond stopped before it was due: the container stays quarantined");
		eng_audit(&g, "respond-step", g.timers[i].id, "abandoned", tx);
		json_decref(tx);
		free(g.timers[i].id);
		free(g.timers[i].playbook);
		free(g.timers[i].key);
	}
	json_t *sx = json_pack("{s:s}", "why",
			       rc < 0 ? e->msg : g.stopping ? "signal" : "end of input");
	eng_audit(&g, "respond-stop", "", rc < 0 ? "failed" : "ok", sx);
	json_decref(sx);

	if (lfd >= 0) {
		close(lfd);
		unlink(sock_path);
	}
	close(sfd);
	/* a signal that came meanwhile is not left pending for the caller */
	struct timespec zero = {0, 0};
	sigaddset(&set, SIGPIPE);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (size_t i = 0; i < g.nworkers; i++)
		free(g.busy[i]);
	free(g.busy);
	free(g.dedup);
	alert_scan_free(g.scan);
	alert_scan_free(g.scan2);
	free(g.batch);
	json_decref(g.st.samples);
	pbref_put(&g, g.cur);
	pthread_mutex_destroy(&g.lock);
	pthread_mutex_destroy(&g.ev_lock);
	pthread_cond_destroy(&g.cond);
	pthread_condattr_destroy(&ca);
	return rc < 0 ? -1 : 0;
}
