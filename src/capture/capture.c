/* capture.c: the capture transaction (include/contain/capture.h): the
 * evidence of one container into a sealed bag, in the order of volatility
 * (RFC 3227):
 *
 *   1. start the pcap inside its netns (it runs through the cut: the drop
 *      rules log to NFLOG, which the pcap captures too) and, when this
 *      capture makes the cut, the NFLOG group of the host netns its host
 *      table will log to (a group bound now, free, and no rule's yet);
 *      --observe N: N seconds of the container untouched;
 *   2. network quarantine (quarantine_apply, through quarantine_step);
 *   3. processes and network state, before the freeze; --watch-cut N: N
 *      seconds cut off, still running, so what it tries is recorded;
 *   4. freeze the cgroup;
 *   5. memory of every process (ELF cores) from the frozen container;
 *   6. the filesystem diff (overlay upperdir as an OCI layer tar);
 *   7. container metadata: OCI config, runtime state, image, mounts, logs;
 *   8. stop the pcaps; quarantine.json; the windows (index.json); seal.
 *
 * Every end, sealed or not, is one "capture" line in the audit log.
 *
 * Each collector writes through the bag; one that fails is recorded in the
 * index and the custody log and the others still run. The container is left
 * quarantined and frozen: releasing it is the responder's decision. On any
 * error nothing is thawed or reconnected. */
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "contain/audit.h"
#include "contain/bag.h"
#include "contain/capture.h"
#include "contain/collect.h"
#include "contain/fslayer.h"
#include "contain/isolate.h"
#include "contain/memory.h"
#include "contain/sha256x.h"

#define CAPTURE_NFLOG_BASE 7700
#define CAPTURE_MAX_PCAP_FILES 40

/* a moment of the capture: RFC 3339 ("" when it did not happen), and the
 * monotonic clock for the windows' lengths */
struct instant {
	char t[64];
	double m;
};

static void stamp(struct instant *i)
{
	time_rfc3339_ns(i->t, sizeof(i->t));
	i->m = time_mono();
}

struct capture {
	const struct capture_opts *o;
	struct ctr *c; /* the caller's, with a pid list of our own */
	struct bag *bag;
	json_t *missing;  /* artifacts not collected or partial: [{artifact, reason}] */
	json_t *warnings; /* strings */
	/* pcap files, opened from the capture thread */
	pthread_mutex_t lock;
	struct bag_file *pcap_files[CAPTURE_MAX_PCAP_FILES];
	char *pcap_paths[CAPTURE_MAX_PCAP_FILES];
	size_t npcap;
	/* quarantine */
	struct qstate qs;
	int qlock;
	json_t *qlog; /* what the quarantine steps did */
	bool net_cut, frozen;
	bool qfailed; /* a quarantine step asked for did not hold */
	double t0;
	json_t *windows;
	bool npcap_started; /* a pcap session ran */
	/* the pcaps: in the container netns, and the host table's NFLOG group */
	struct collect_pcap *pc, *hpc;
	unsigned nflog;	 /* the group the netns table logs to (0: none) */
	int host_nflog;	 /* the group of the host netns we bound (-1: none) */
	/* the windows, RFC 3339 ("" when it did not happen) */
	struct instant t_pcap, t_cut_start, t_cut, t_freeze_start, t_frozen, t_pcap_stop;
};

static void progress(struct capture *cp, const char *phase)
{
	if (cp->o->progress)
		cp->o->progress(cp->o->progress_ctx, phase, time_mono() - cp->t0);
}

static void missing(struct capture *cp, const char *artifact, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void missing(struct capture *cp, const char *artifact, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(cp->missing, json_pack("{s:s,s:s}", "artifact", artifact,
						     "reason", msg));
	struct err e = {0};
	json_t *x = json_pack("{s:s}", "reason", msg);
	if (bag_event(cp->bag, "collector-failed", artifact, "failed", x, &e) < 0)
		json_array_append_new(cp->warnings, json_sprintf("custody: %s", e.msg));
	json_decref(x);
}

static void warning(struct capture *cp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warning(struct capture *cp, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(cp->warnings, collect_json_text(msg, strlen(msg)));
}

static void add_json(struct capture *cp, const char *path, json_t *j, const char *kind,
		     const char *collector)
{
	struct err e = {0};
	if (bag_add_json(cp->bag, path, j, kind, collector, &e) < 0)
		missing(cp, path, "%s", e.msg);
}

/* ---- 1. pcap ---- */

/* a pcap file of the bag, registered to be closed at the stop */
static int pcap_file_open(struct capture *cp, const char *path, struct sink *out,
			  struct err *e)
{
	pthread_mutex_lock(&cp->lock);
	if (cp->npcap >= CAPTURE_MAX_PCAP_FILES) {
		pthread_mutex_unlock(&cp->lock);
		return err_set(e, ERR_INVALID, "too many capture devices");
	}
	struct bag_file *f;
	if (bag_file_open(cp->bag, path, "pcap", "pcap", &f, e) < 0) {
		pthread_mutex_unlock(&cp->lock);
		return -1;
	}
	cp->pcap_files[cp->npcap] = f;
	cp->pcap_paths[cp->npcap] = xstrdup(path);
	cp->npcap++;
	*out = bag_file_sink(f);
	pthread_mutex_unlock(&cp->lock);
	return 0;
}

static int pcap_sink_for(void *ctx, const char *dev, int linktype, struct sink *out,
			 struct err *e)
{
	struct capture *cp = ctx;
	char path[PATH_MAX];
	char safe[64];
	size_t k = 0;
	(void)linktype;
	/* device names come from the container's netns: keep them tame in paths */
	for (const char *p = dev; *p && k < sizeof(safe) - 1; p++)
		safe[k++] = (char)((*p == '/' || *p == ':' || (unsigned char)*p < 0x20) ? '_' : *p);
	safe[k] = '\0';
	if (str_has_prefix(dev, "nflog"))
		snprintf(path, sizeof(path), "data/network/capture-nflog.pcap");
	else
		snprintf(path, sizeof(path), "data/network/capture-%s.pcap", safe);
	return pcap_file_open(cp, path, out, e);
}

static int host_sink_for(void *ctx, const char *dev, int linktype, struct sink *out,
			 struct err *e)
{
	(void)dev;
	(void)linktype;
	return pcap_file_open(ctx, "data/network/capture-host-nflog.pcap", out, e);
}

/* Where to start looking for a free NFLOG group of the host netns: spread
 * by container and by process, so concurrent captures rarely even try the
 * same group; the bind itself settles a collision (one socket a group). */
#define HOST_NFLOG_FIRST 32768u
#define HOST_NFLOG_SPAN 32000u
#define HOST_NFLOG_TRIES 64u
static unsigned host_nflog_base(const char *id)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	h ^= (uint32_t)getpid() * 2654435761u;
	return HOST_NFLOG_FIRST + h % HOST_NFLOG_SPAN;
}

/* The host table's drops (inbound attempts, and outbound ones that got past
 * the netns table), from the NFLOG group of the host netns we bind now and
 * hand to the ruleset. Only when this capture makes the cut. */
static void host_pcap_start(struct capture *cp, unsigned secs, uint64_t max)
{
	/* a group some table still logs to (a container left quarantined by an
	 * earlier capture) would bring its drops into this bag: never those */
	_cleanup_free_ unsigned char *used = xcalloc(1, NCUT_NFLOG_BITMAP);
	struct err e = {0};
	if (ncut_nflog_groups_used(used, &e) < 0) {
		missing(cp, "data/network/capture-host-nflog.pcap", "%s", e.msg);
		return;
	}
	unsigned first = cp->o->host_nflog_first ? cp->o->host_nflog_first
						 : host_nflog_base(cp->c->id);
	struct collect_pcap_opts po = {
		.seconds = secs,
		.max_bytes = max,
		.nflog_group = (int)first,
		.own_netns = true,
		.nflog_tries = HOST_NFLOG_TRIES,
		.nflog_avoid = used,
		.nflog_as_sll2 = true,
	};
	if (collect_pcap_start(cp->c, &po, host_sink_for, cp, &cp->hpc, &e) < 0) {
		missing(cp, "data/network/capture-host-nflog.pcap", "%s", e.msg);
		cp->hpc = NULL;
		return;
	}
	cp->host_nflog = collect_pcap_nflog_group(cp->hpc);
	cp->npcap_started = true;
}

static void pcap_start(struct capture *cp)
{
	const struct capture_opts *o = cp->o;
	/* the time bound counts after the windows: they are watched, not spent */
	unsigned secs = o->pcap_seconds;
	if (secs)
		secs += o->observe_seconds + o->watch_cut_seconds;
	uint64_t max = o->pcap_max_bytes;
	if (!cp->c->netns_path || cp->c->host_netns) {
		missing(cp, "data/network/capture.pcap", "%s",
			cp->c->host_netns ? "the container is on the host network: no pcap of the host"
					  : "the container has no network namespace");
		return;
	}
	if (o->quarantine && cp->qs.net) {
		warning(cp, "the network was cut before this capture: the drops of its host "
			    "table are not captured (no NFLOG group of ours)");
	} else if (o->quarantine) {
		/* a quarter of the byte bound for the host's drops */
		uint64_t hmax = max ? (max / 4 ? max / 4 : 1) : 0;
		host_pcap_start(cp, secs, hmax);
		if (cp->hpc)
			max -= hmax;
	}
	/* the group the netns table will log to: the first one free in the
	 * container's netns from ours (its root may hold some), bound before
	 * the cut and handed to the ruleset; an existing cut's, as it is */
	bool choose = o->quarantine && !cp->qs.net && cp->nflog;
	struct collect_pcap_opts po = {
		.seconds = secs,
		.max_bytes = max,
		.nflog_group = cp->nflog ? (int)cp->nflog : -1,
		.nflog_tries = choose ? HOST_NFLOG_TRIES : 1,
	};
	struct err e = {0};
	size_t before = cp->npcap;
	int rc = collect_pcap_start(cp->c, &po, pcap_sink_for, cp, &cp->pc, &e);
	if (choose) {
		int g = rc == 0 ? collect_pcap_nflog_group(cp->pc) : -1;
		cp->nflog = g > 0 ? (unsigned)g : 0; /* none bound: the table does not log */
		if (rc == 0 && g <= 0)
			missing(cp, "data/network/capture-nflog.pcap",
				"no free NFLOG group in the container's netns (%u tried from %d): "
				"what it tries after the cut is not recorded",
				HOST_NFLOG_TRIES, po.nflog_group);
	}
	if (rc < 0) {
		cp->pc = NULL;
		if (e.kind == ERR_NOTFOUND && cp->npcap == before) {
			/* no interface but lo and no nflog group (--no-quarantine):
			 * there is no traffic to miss, say so and go on */
			json_t *n = json_pack("{s:s}", "reason", e.msg);
			struct err be = {0};
			if (bag_event(cp->bag, "collector-skipped", "pcap", "skipped", n, &be) < 0)
				warning(cp, "custody: %s", be.msg);
			json_decref(n);
			warning(cp, "pcap: %s", e.msg);
			return;
		}
		missing(cp, "data/network/capture.pcap", "%s", e.msg);
		return;
	}
	cp->npcap_started = true;
}

static void pcap_stop(struct capture *cp)
{
	struct err e = {0};
	json_t *stats = NULL, *hstats = NULL;
	if (!cp->pc && !cp->hpc)
		return;
	if (cp->pc && collect_pcap_stop(cp->pc, false, &stats, &e) < 0)
		warning(cp, "pcap: %s", e.msg);
	cp->pc = NULL;
	/* the host's ends with the same time bound; without one, now */
	if (cp->hpc && collect_pcap_stop(cp->hpc, cp->o->pcap_seconds == 0, &hstats, &e) < 0)
		warning(cp, "host nflog pcap: %s", e.msg);
	cp->hpc = NULL;
	if (!stats)
		stats = json_object();
	if (hstats)
		json_object_set_new(stats, "host_nflog", hstats);
	for (size_t i = 0; i < cp->npcap; i++) {
		struct err fe = {0};
		bag_file_note(cp->pcap_files[i], stats, &fe);
		if (bag_file_close(cp->pcap_files[i], NULL, &fe) < 0)
			missing(cp, cp->pcap_paths[i], "%s", fe.msg);
		free(cp->pcap_paths[i]);
	}
	cp->npcap = 0;
	add_json(cp, "data/network/pcap-stats.json", stats, "pcap-stats", "pcap");
	json_decref(stats);
}

/* ---- 2, 4. quarantine: the quarantine verb's code ---- */

static void audit(struct capture *cp, const char *action, const char *result, json_t *extra)
{
	struct err e = {0};
	if (!cp->o->audit_log)
		return;
	if (audit_record(cp->o->audit_log, action, cp->c->id, result, extra, &e) < 0)
		warning(cp, "audit log: %s", e.msg);
}

static int quarantine_step(struct capture *cp, bool net)
{
	struct quarantine_opts qo = {
		.net = net,
		.freeze = !net,
		.freezer = cp->o->freezer,
		.timeout = 10,
	};
	qo.ncut.allow = cp->o->allow;
	qo.ncut.nallow = cp->o->nallow;
	qo.ncut.nflog_group = net ? cp->nflog : 0;
	qo.ncut.host_nflog_group = net && cp->host_nflog >= 0 ? (unsigned)cp->host_nflog
							      : NCUT_NFLOG_OFF;
	struct quarantine_result r;
	struct err e = {0};
	const char *what = net ? "network cut" : "freeze";
	int ok = quarantine_apply(cp->c, cp->o->state_dir, &qo, &cp->qs, &r, &e);
	json_t *x = json_object();
	json_object_set_new(x, "step", json_string(what));
	json_object_set_new(x, "by", json_string("capture"));
	json_object_set_new(x, "holds", json_string(r.holds));
	if (r.already)
		json_object_set_new(x, "already", json_true());
	if (r.stale) /* a state of a gone incarnation was replaced, not trusted */
		json_object_set_new(x, "stale_replaced", json_string(r.stale_why));
	if (r.skipped)
		json_object_set_new(x, "host_skipped", json_string(r.skipped));
	if (!net && ok == 0)
		json_object_set_new(x, "pids_frozen", json_integer((json_int_t)r.frz.npids));
	if (ok < 0)
		json_object_set_new(x, "error", json_string(e.msg));
	if (net && ok == 0 && !r.already) {
		json_object_set_new(x, "nflog_group", json_integer(cp->nflog));
		if (cp->host_nflog >= 0)
			json_object_set_new(x, "host_nflog_group", json_integer(cp->host_nflog));
	}
	json_object_set_new(x, "seconds", json_real(r.seconds));
	json_object_set_new(x, "at", json_string(net ? cp->qs.net_time ? cp->qs.net_time : ""
							: cp->qs.freeze_time ? cp->qs.freeze_time : ""));
	audit(cp, QAUDIT_QUARANTINE, ok < 0 ? "failed" : r.already ? "already" : "ok", x);
	struct err be = {0};
	if (bag_event(cp->bag, net ? "quarantine-net" : "quarantine-freeze", cp->c->id,
		      ok < 0 ? "failed" : "ok", x, &be) < 0)
		warning(cp, "custody: %s", be.msg);
	json_array_append(cp->qlog, x);
	json_decref(x);
	quarantine_result_free(&r);
	if (ok < 0) {
		/* fail closed: what is in place stays */
		cp->qfailed = true;
		warning(cp, "%s failed: %s (what holds: %s)", what, e.msg,
			cp->qs.net || cp->qs.frozen ? "see quarantine.json" : "nothing");
		return -1;
	}
	if (net)
		cp->net_cut = cp->qs.net;
	else
		cp->frozen = cp->qs.frozen;
	return 0;
}

/* ---- 3. processes and network state ---- */

static void collect_live(struct capture *cp)
{
	struct err e = {0};
	json_t *j = NULL;
	progress(cp, "processes");
	if (ctr_refresh_pids(cp->c, &e) < 0) {
		warning(cp, "refresh pids: %s", e.msg);
		err_clear(&e);
	}
	struct collect_procs_opts po = {0};
	if (collect_procs(cp->c, &po, &j, &e) < 0)
		missing(cp, "data/processes/tree.json", "%s", e.msg);
	else
		add_json(cp, "data/processes/tree.json", j, "processes", "procs");
	json_decref(j);
	j = NULL;
	err_clear(&e);
	struct collect_net_opts no = {0};
	if (cp->c->host_netns) {
		missing(cp, "data/network/state.json", "the container is on the host network");
	} else if (collect_net(cp->c, &no, &j, &e) < 0) {
		missing(cp, "data/network/state.json", "%s", e.msg);
	} else {
		add_json(cp, "data/network/state.json", j, "network", "net");
	}
	json_decref(j);
}

/* ---- 5. memory ---- */

/* alive and not a zombie */
static bool pid_alive(pid_t pid)
{
	char p[64], *buf = NULL;
	size_t len = 0;
	bool trunc = false;
	struct err e = {0};
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if (read_file_at(AT_FDCWD, p, 4096, &buf, &len, &trunc, &e) < 0)
		return false;
	/* "pid (comm) S ...": the state follows the last ')' */
	const char *r = memrchr(buf, ')', len);
	bool alive = r && (size_t)(r - buf) + 2 < len && r[2] != 'Z' && r[2] != 'X';
	free(buf);
	return alive;
}

struct mem_ctx {
	struct capture *cp;
	struct bag_file *f[2]; /* core, maps of the process in hand */
	pid_t pid[2];
};

static int mem_open(void *ctx, pid_t pid, const char *name, struct sink *out, struct err *e)
{
	struct mem_ctx *m = ctx;
	char path[PATH_MAX];
	int slot = str_has_suffix(name, ".maps") ? 1 : 0;
	snprintf(path, sizeof(path), "data/memory/%s", name);
	if (bag_file_open(m->cp->bag, path, slot ? "memory-maps" : "core", "memory", &m->f[slot],
			  e) < 0)
		return -1;
	m->pid[slot] = pid;
	*out = bag_file_sink(m->f[slot]);
	return 0;
}

/* the core, opened once its exact size is known: in a tar bag it goes
 * straight into the tar (no spool file written and read back), in a
 * directory its segments bypass the page cache */
static int mem_open_sized(void *ctx, pid_t pid, const char *name, uint64_t size,
			  struct sink *out, struct err *e)
{
	struct mem_ctx *m = ctx;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "data/memory/%s", name);
	if (bag_file_open_sized(m->cp->bag, path, "core", "memory", size, &m->f[0], e) < 0)
		return -1;
	/* its segments come in page-aligned chunks: in a bag directory they
	 * go to the disk without a copy into the page cache */
	bag_file_direct_io(m->f[0]);
	m->pid[0] = pid;
	*out = bag_file_sink(m->f[0]);
	return 0;
}

/* the index note that ties a core (and its maps) to the process tree: the
 * cores carry the ids of the container's pid namespace, the tree the host's */
static json_t *mem_ids_note(const json_t *sum)
{
	const json_t *ids = json_object_get(sum, "ids");
	if (!json_object_get(ids, "ns_pid"))
		return NULL;
	struct sbuf b = SBUF_INIT;
	sbuf_printf(&b,
		    "ids: host pid %lld is pid %lld in its pid namespace (ppid %lld, pgrp %lld, "
		    "sid %lld there); threads, host=namespace:",
		    (long long)json_integer_value(json_object_get(ids, "pid")),
		    (long long)json_integer_value(json_object_get(ids, "ns_pid")),
		    (long long)json_integer_value(json_object_get(ids, "ns_ppid")),
		    (long long)json_integer_value(json_object_get(ids, "ns_pgrp")),
		    (long long)json_integer_value(json_object_get(ids, "ns_sid")));
	size_t i;
	const json_t *t;
	json_array_foreach(json_object_get(json_object_get(sum, "registers"), "threads"), i, t)
	{
		if (i == 64) {
			sbuf_adds(&b, " ... (summary.json has them all)");
			break;
		}
		const json_t *ns = json_object_get(t, "ns_tid");
		sbuf_printf(&b, " %lld=", (long long)json_integer_value(json_object_get(t, "tid")));
		if (ns)
			sbuf_printf(&b, "%lld", (long long)json_integer_value(ns));
		else
			sbuf_adds(&b, "?");
	}
	json_t *n = json_string(b.buf);
	sbuf_free(&b);
	return n;
}

static int mem_close(void *ctx, pid_t pid, const char *name, bool ok, const json_t *summary,
		     struct err *e)
{
	struct mem_ctx *m = ctx;
	int slot = str_has_suffix(name, ".maps") ? 1 : 0;
	(void)pid;
	struct bag_file *f = m->f[slot];
	m->f[slot] = NULL;
	if (!f)
		return 0;
	json_t *ids = summary ? mem_ids_note(summary) : NULL;
	if (ids) {
		int r = bag_file_note(f, ids, e);
		json_decref(ids);
		if (r < 0) {
			struct err e2;
			bag_file_close(f, NULL, &e2);
			return -1;
		}
	}
	if (ok && slot == 0 && !pid_alive(pid)) {
		/* taken to the end, but the process is gone now: it may have died
		 * while being read (the summary says which pages were lost) */
		json_t *n = json_string("the process exited during or right after its capture: the "
					"core may be partial (see data/memory/summary.json)");
		bag_file_note(f, n, e);
		json_decref(n);
	}
	if (!ok) {
		json_t *n = json_string("incomplete: the process could not be read to the end");
		bag_file_note(f, n, e);
		json_decref(n);
	}
	return bag_file_close(f, NULL, e);
}

static void collect_memory(struct capture *cp)
{
	struct err e = {0};
	json_t *sum = NULL;
	progress(cp, "memory");
	if (ctr_refresh_pids(cp->c, &e) < 0) {
		warning(cp, "refresh pids: %s", e.msg);
		err_clear(&e);
	}
	if (cp->c->npids == 0) {
		missing(cp, "data/memory/", "the container has no process");
		return;
	}
	struct mem_opts mo = {
		.full = cp->o->memory_full,
		.max_bytes = cp->o->max_memory_bytes,
		.cgroup_unified = cp->c->cgroup_unified,
		.cgroup_freezer = cp->c->cgroup_freezer,
	};
	/* Every process is read by an agent forked from us: until it exits, each
	 * page of ours it shares is copy-on-write, and a write to it costs a page
	 * copy and a TLB flush on every CPU. The hashing buffers of each core
	 * (1 MiB) would come from malloc's recycled heap (glibc raises its mmap
	 * threshold after the first free of a large block): a fixed threshold
	 * keeps them fresh mappings of our own, never shared with an agent. */
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
	struct mem_ctx m = {.cp = cp};
	struct mem_out out = {mem_open, mem_close, &m, mem_open_sized};
	int rc = mem_collect(cp->c->pids, cp->c->npids, &mo, &out, &sum, &e);
	if (rc < 0)
		missing(cp, "data/memory/", "%s", e.msg);
	if (sum) {
		/* name each process that was lost or cut short */
		size_t i;
		json_t *p;
		json_array_foreach(json_object_get(sum, "processes"), i, p)
		{
			char path[64];
			json_int_t pid = json_integer_value(json_object_get(p, "pid"));
			const char *err = json_string_value(json_object_get(p, "error"));
			snprintf(path, sizeof(path), "data/memory/%lld.core", (long long)pid);
			if (err && json_is_true(json_object_get(p, "gone")))
				warning(cp, "process %lld exited before its memory was read (%s)",
					(long long)pid, err);
			else if (err)
				missing(cp, path, "%s", err);
			else if (json_is_true(json_object_get(p, "exited_during_capture")))
				missing(cp, path,
					"partial: the process exited during its capture (%lld bytes "
					"unreadable, see summary)",
					(long long)json_integer_value(
						json_object_get(p, "bytes_unreadable")));
		}
		add_json(cp, "data/memory/summary.json", sum, "memory-summary", "memory");
		json_decref(sum);
	}
}

/* ---- 6. filesystem layer ---- */

static void collect_fs(struct capture *cp)
{
	struct err e = {0};
	struct bag_file *f = NULL;
	struct fslayer_result res = {0};
	progress(cp, "fs");
	struct fslayer_opts fo = {.max_file_bytes = cp->o->max_file_bytes, .files_text_only = true};
	/* a tar bag: the layer's length first (a walk without reading content),
	 * so it goes straight into the tar, not through a spool file */
	enum bag_form form;
	enum bag_compress comp;
	bag_form_for(cp->o->out, &form, &comp);
	/* (a sizing pass that fails costs only the speed: the layer is spooled) */
	if (form == BAG_FORM_TAR && fslayer_size_ctr(cp->c, &fo, &fo.plan, &e) < 0)
		e = (struct err){0};
	int r = fo.plan ? bag_file_open_sized(cp->bag, "data/fs/upper.tar", "fs-layer", "fslayer",
					      fslayer_plan_bytes(fo.plan), &f, &e)
			: bag_file_open(cp->bag, "data/fs/upper.tar", "fs-layer", "fslayer", &f, &e);
	if (r < 0) {
		fslayer_plan_free(fo.plan);
		missing(cp, "data/fs/upper.tar", "%s", e.msg);
		return;
	}
	/* the layer's writer thread hashes the tar as it writes it, with the
	 * files' content in one pass (the bag takes that digest) */
	struct sha256x tsha;
	sha256x_init(&tsha);
	bag_file_hash_given(f, &tsha);
	fo.tar_sha256 = &tsha;
	struct sink s = bag_file_sink(f);
	r = fslayer_collect_ctr(cp->c, &fo, &s, &res, &e);
	fslayer_plan_free(fo.plan);
	if (r < 0) {
		struct err fe = {0};
		bag_file_fail(f, e.msg, &fe);
		missing(cp, "data/fs/upper.tar", "%s", e.msg);
		fslayer_result_free(&res);
		return;
	}
	if (res.changed) {
		struct err ne = {0};
		json_t *n = json_pack("{s:s,s:I}", "changed_since_sizing",
				      "entries left out of the tar (files.json notes): the tar ends "
				      "early and is zero-filled to its declared size",
				      "entries", (json_int_t)res.changed);
		bag_file_note(f, n, &ne);
		json_decref(n);
	}
	if (res.notes && json_array_size(res.notes)) {
		struct err ne = {0};
		json_t *n = json_pack("{s:O}", "fslayer", res.notes);
		bag_file_note(f, n, &ne);
		json_decref(n);
	}
	if (res.whole_root) {
		json_t *n = json_string("no overlay upperdir: the layer is the container's whole root");
		bag_file_note(f, n, &e);
		json_decref(n);
	}
	if (bag_file_close(f, NULL, &e) < 0)
		missing(cp, "data/fs/upper.tar", "%s", e.msg);
	if (res.files_text && bag_add_json_text(cp->bag, "data/fs/files.json", res.files_text,
						res.files_len, "fs-files", "fslayer", &e) < 0)
		missing(cp, "data/fs/files.json", "%s", e.msg);
	fslayer_result_free(&res);
}

/* ---- 7. metadata and logs ---- */

/* Copy a host file (runtime state, config, log) into the bag, bounded. With
 * tail, the newest max bytes are kept (logs). */
static void copy_file(struct capture *cp, const char *src, const char *dst, const char *kind,
		      unsigned long long max, bool tail)
{
	struct err e = {0};
	_cleanup_close_ int fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0) {
		missing(cp, dst, "open '%s': %s", src, strerror(errno));
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		missing(cp, dst, "'%s' is not a regular file", src);
		return;
	}
	bool cut = false;
	if (tail && (unsigned long long)st.st_size > max) {
		if (lseek(fd, st.st_size - (off_t)max, SEEK_SET) < 0) {
			missing(cp, dst, "seek '%s': %s", src, strerror(errno));
			return;
		}
		cut = true;
	}
	char *buf = NULL;
	size_t len = 0;
	bool trunc = false;
	if (read_fd_bounded(fd, max, &buf, &len, &trunc, &e) < 0) {
		missing(cp, dst, "'%s': %s", src, e.msg);
		return;
	}
	struct bag_file *f;
	if (bag_file_open_sized(cp->bag, dst, kind, "meta", len, &f, &e) < 0) {
		free(buf);
		missing(cp, dst, "%s", e.msg);
		return;
	}
	bag_file_write(f, buf, len, &e);
	free(buf);
	json_t *n = json_pack("{s:s,s:I}", "source", src, "source_size", (json_int_t)st.st_size);
	if (cut || trunc)
		json_object_set_new(n, "truncated",
				    json_string(tail ? "the newest bytes were kept" : "cut at the bound"));
	bag_file_note(f, n, &e);
	json_decref(n);
	if (bag_file_close(f, NULL, &e) < 0)
		missing(cp, dst, "%s", e.msg);
}

static void collect_meta(struct capture *cp)
{
	struct ctr *c = cp->c;
	progress(cp, "metadata");
	json_t *j = ctr_to_json(c);
	add_json(cp, "data/container/inspect.json", j, "container", "meta");
	json_decref(j);
	if (c->config_path)
		copy_file(cp, c->config_path, "data/container/config.json", "oci-config", 16u << 20,
			  false);
	else
		missing(cp, "data/container/config.json", "the runtime gave no OCI config path");
	if (c->state_path)
		copy_file(cp, c->state_path, "data/container/state.json", "runtime-state", 16u << 20,
			  false);
	j = json_pack("{s:s?,s:s?,s:s}", "image", c->image, "digest", c->image_digest, "runtime",
		      rt_kind_name(c->runtime));
	add_json(cp, "data/container/image.json", j, "image", "meta");
	json_decref(j);
	if (c->pid > 0) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d/mountinfo", (int)c->pid);
		struct err e = {0};
		char *buf = NULL;
		size_t len = 0;
		bool trunc = false;
		if (read_file_at(AT_FDCWD, p, 16u << 20, &buf, &len, &trunc, &e) < 0) {
			missing(cp, "data/container/mountinfo", "%s", e.msg);
		} else {
			if (bag_add_buf(cp->bag, "data/container/mountinfo", buf, len, "mountinfo",
					"meta", &e) < 0)
				missing(cp, "data/container/mountinfo", "%s", e.msg);
			free(buf);
		}
	}
	if (c->log_path) {
		const char *base = strrchr(c->log_path, '/');
		char dst[PATH_MAX];
		snprintf(dst, sizeof(dst), "data/container/logs/%s", base ? base + 1 : c->log_path);
		copy_file(cp, c->log_path, dst, "log", cp->o->log_max_bytes, true);
	}
}

/* ---- the windows: --observe, --watch-cut ---- */

/* Sleep n seconds by the monotonic clock (signals do not shorten it). */
static void wait_seconds(unsigned n)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += n;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

static void window(struct capture *cp, const char *what, unsigned n)
{
	struct err e = {0};
	json_t *x = json_pack("{s:i}", "seconds", (int)n);
	if (bag_event(cp->bag, what, cp->c->id, "started", x, &e) < 0)
		warning(cp, "custody: %s", e.msg);
	wait_seconds(n);
	if (bag_event(cp->bag, what, cp->c->id, "ended", x, &e) < 0)
		warning(cp, "custody: %s", e.msg);
	json_decref(x);
}

/* ---- the transaction ---- */

int capture_opts_check(const struct capture_opts *o, struct err *e)
{
	if (!o->out || !*o->out)
		return err_set(e, ERR_INVALID, "no output: a directory, a .tar, .tar.gz, .tar.zst, "
					       "or - for stdout");
	if (o->quarantine && !o->state_dir)
		return err_set(e, ERR_INVALID, "the quarantine needs a state directory");
	if (!o->quarantine && o->nallow)
		return err_set(e, ERR_INVALID, "--allow needs the quarantine");
	if (o->host_nflog_first > 65535)
		return err_set(e, ERR_INVALID, "host nflog group %u out of range",
			       o->host_nflog_first);
	if (o->nallow > NCUT_MAX_ALLOW)
		return err_set(e, ERR_INVALID, "at most %d --allow", NCUT_MAX_ALLOW);
	if (o->log_max_bytes == 0 || o->log_max_bytes > (1ull << 32))
		return err_set(e, ERR_INVALID, "--log-max-bytes must be 1..4G");
	if (o->pcap && o->pcap_seconds == 0 && o->pcap_max_bytes == 0)
		return err_set(e, ERR_INVALID, "the pcap needs a bound: --pcap-seconds or "
					       "--pcap-max-bytes");
	if (o->observe_seconds > CAPTURE_WINDOW_MAX || o->watch_cut_seconds > CAPTURE_WINDOW_MAX)
		return err_set(e, ERR_INVALID, "--observe and --watch-cut take 0..%u seconds",
			       CAPTURE_WINDOW_MAX);
	if (o->observe_seconds && !o->pcap)
		return err_set(e, ERR_INVALID, "--observe needs the pcap (it is what is observed)");
	if (o->watch_cut_seconds && !o->quarantine)
		return err_set(e, ERR_INVALID, "--watch-cut needs the quarantine (nothing is cut)");
	return 0;
}

void capture_result_free(struct capture_result *r)
{
	json_decref(r->missing);
	json_decref(r->warnings);
	json_decref(r->windows);
	r->missing = r->warnings = r->windows = NULL;
}

json_t *capture_result_to_json(const struct capture_result *r, const struct ctr *c,
			       const char *out)
{
	json_t *j = json_object();
	json_object_set_new(j, "bag", json_string(out));
	json_object_set_new(j, "bag_id", json_string(r->bag_id));
	json_object_set_new(j, "status", json_string(r->status ? r->status : "failed"));
	json_object_set_new(j, "container", json_pack("{s:s,s:s,s:s?,s:i}", "id", c->id,
						      "runtime", rt_kind_name(c->runtime),
						      "name", c->name, "pid", (int)c->pid));
	json_object_set_new(j, "quarantined", json_boolean(r->net_cut));
	json_object_set_new(j, "frozen", json_boolean(r->frozen));
	if (r->quarantine_failed)
		json_object_set_new(j, "quarantine_failed", json_true());
	json_object_set_new(j, "windows", r->windows ? json_incref(r->windows) : json_null());
	json_object_set_new(j, "missing", r->missing ? json_incref(r->missing) : json_array());
	json_object_set_new(j, "warnings", r->warnings ? json_incref(r->warnings) : json_array());
	json_object_set_new(j, "seconds", json_real(r->seconds));
	return j;
}

static void skipped(struct capture *cp, const char *what, const char *why)
{
	struct err e = {0};
	json_t *n = json_pack("{s:s}", "reason", why);
	if (bag_event(cp->bag, "collector-skipped", what, "skipped", n, &e) < 0)
		warning(cp, "custody: %s", e.msg);
	json_decref(n);
}

static json_t *window_json(const struct instant *from, const struct instant *to, int asked)
{
	if (!*from->t || !*to->t)
		return json_null();
	json_t *w = json_pack("{s:s,s:s,s:f}", "from", from->t, "to", to->t, "seconds",
			      to->m - from->m);
	if (asked >= 0)
		json_object_set_new(w, "seconds_asked", json_integer(asked));
	return w;
}

static json_t *windows_json(const struct capture *cp)
{
	const struct capture_opts *o = cp->o;
	json_t *w = json_object();
	const struct instant *obs_end = o->quarantine ? &cp->t_cut_start : &cp->t_pcap_stop;
	json_object_set_new(w, "observed",
			    window_json(&cp->t_pcap, obs_end, (int)o->observe_seconds));
	json_object_set_new(w, "cut_running", window_json(&cp->t_cut, &cp->t_freeze_start,
							  (int)o->watch_cut_seconds));
	json_object_set_new(w, "frozen", window_json(&cp->t_frozen, &cp->t_pcap_stop, -1));
	json_t *t = json_object();
	const struct {
		const char *k, *v;
	} times[] = {{"pcap", cp->t_pcap.t},	 {"cut_start", cp->t_cut_start.t},
		     {"cut", cp->t_cut.t},		 {"freeze_start", cp->t_freeze_start.t},
		     {"frozen", cp->t_frozen.t},	 {"pcap_stop", cp->t_pcap_stop.t}};
	for (size_t i = 0; i < ARRAY_SIZE(times); i++)
		json_object_set_new(t, times[i].k, *times[i].v ? json_string(times[i].v)
							       : json_null());
	json_object_set_new(w, "times", t);
	json_object_set_new(w, "pcap", json_string(!o->pcap ? "off"
						   : cp->npcap_started ? "running through"
								       : "not running"));
	return w;
}

static void quarantine_json(struct capture *cp, json_t *windows)
{
	json_t *qj;
	if (cp->o->quarantine) {
		json_t *q = qstate_to_json(&cp->qs);
		qj = json_pack("{s:b,s:O,s:o,s:O}", "quarantined", cp->net_cut || cp->frozen,
			       "steps", cp->qlog, "state", q, "windows", windows);
	} else {
		qj = json_pack("{s:b,s:s,s:O}", "quarantined", false, "skipped",
			       "--no-quarantine: captured live, the container was not touched",
			       "windows", windows);
	}
	add_json(cp, "data/quarantine.json", qj, "quarantine", "capture");
	json_decref(qj);
}

/* the quarantine state of this container: lock it, load what holds; the
 * NFLOG group the netns drop rules log to: the existing cut's, else ours
 * (groups are per netns: the container's are its own) */
static void capture_prepare(struct capture *cp)
{
	const struct capture_opts *o = cp->o;
	struct ctr *c = cp->c;
	struct err e = {0};

	if (o->quarantine) {
		cp->qlock = qstate_lock(o->state_dir, c->id, &e);
		if (cp->qlock < 0) {
			warning(cp, "quarantine state: %s", e.msg);
			err_clear(&e);
		}
		if (qstate_load(o->state_dir, c->id, &cp->qs, &e) < 0 && e.kind != ERR_NOTFOUND)
			warning(cp, "quarantine state: %s", e.msg);
		err_clear(&e);
	}
	if (o->quarantine && o->pcap && !c->host_netns) {
		cp->nflog = cp->qs.net ? cp->qs.nflog_group
				       : CAPTURE_NFLOG_BASE + (unsigned)(getpid() % 1000);
	}
}

/* 1-4: what is gone once the container is frozen (or dies) */
static void capture_volatile(struct capture *cp)
{
	const struct capture_opts *o = cp->o;
	struct ctr *c = cp->c;

	/* 1. pcap */
	progress(cp, "pcap");
	if (o->pcap)
		pcap_start(cp);
	else
		skipped(cp, "pcap", "--no-pcap");
	stamp(&cp->t_pcap);
	if (o->observe_seconds) {
		progress(cp, "observe");
		/* never leave it untouched for nothing */
		if (!cp->pc)
			warning(cp, "--observe: no pcap of the container runs: cut at once instead");
		else
			window(cp, "observe", o->observe_seconds);
	}
	/* 2. network cut */
	progress(cp, "cut");
	if (o->quarantine) {
		if (c->host_netns)
			warning(cp, "'%s' is on the host network: no network cut (the host's own "
				    "netns), freeze only", c->id);
		else {
			stamp(&cp->t_cut_start);
			if (quarantine_step(cp, true) == 0 && cp->net_cut)
				stamp(&cp->t_cut);
		}
	}
	/* 3. processes, network state; then cut off and running, watched */
	collect_live(cp);
	if (o->watch_cut_seconds) {
		progress(cp, "watch-cut");
		/* never leave it running connected: no cut, no watch */
		if (!cp->net_cut)
			warning(cp, "--watch-cut: the network is not cut: frozen at once instead");
		else
			window(cp, "watch-cut", o->watch_cut_seconds);
	}
	/* 4. freeze */
	progress(cp, "freeze");
	if (o->quarantine) {
		stamp(&cp->t_freeze_start);
		if (quarantine_step(cp, false) == 0 && cp->frozen)
			stamp(&cp->t_frozen);
	}
}

/* 5-7: from the frozen container */
static void capture_frozen(struct capture *cp)
{
	const struct capture_opts *o = cp->o;

	/* 5. memory */
	if (o->memory) {
		if (o->quarantine && !cp->frozen)
			warning(cp, "memory taken from a container that is not frozen");
		collect_memory(cp);
	} else {
		skipped(cp, "memory", "--no-memory");
	}
	/* 6. fs */
	if (o->fs)
		collect_fs(cp);
	else
		skipped(cp, "fs", "--no-fs");
	/* 7. metadata */
	collect_meta(cp);
}

/* 8: stop the pcaps; quarantine.json and the windows; the custody end */
static void capture_finish(struct capture *cp)
{
	struct err e = {0};
	progress(cp, "pcap-stop");
	pcap_stop(cp);
	stamp(&cp->t_pcap_stop);
	json_t *w = windows_json(cp);
	quarantine_json(cp, w);
	if (bag_set_index(cp->bag, "windows", w, &e) < 0) {
		warning(cp, "index.json: %s", e.msg);
		err_clear(&e);
	}
	cp->windows = w;
	/* the node audit log's head after the capture's last quarantine line */
	if (cp->o->audit_log) {
		struct audit_head ah;
		if (audit_bag_mark(cp->bag, cp->o->audit_log, true, &ah, &e) < 0) {
			warning(cp, "audit head at the end: %s", e.msg);
			err_clear(&e);
		}
	}
	json_t *endx = json_pack("{s:O,s:O}", "missing", cp->missing, "warnings", cp->warnings);
	if (bag_event(cp->bag, "capture-end", cp->c->id,
		      json_array_size(cp->missing) ? "partial" : "ok", endx, &e) < 0)
		warning(cp, "custody: %s", e.msg);
	json_decref(endx);
}

/* The capture's own line in the node audit log: ok, partial or failed, and
 * why. A failure to write it is a warning (the bag is the record then). */
static void audit_capture(const struct ctr *c, const struct capture_opts *o,
			  struct capture_result *r, int rc, const struct err *e)
{
	if (!o->audit_log)
		return;
	json_t *x = json_pack("{s:s,s:s,s:s,s:b,s:b,s:f}", "by", "capture", "bag", o->out,
			      "status", r->status, "quarantined", r->net_cut, "frozen", r->frozen,
			      "seconds", r->seconds);
	if (r->bag_id[0])
		json_object_set_new(x, "bag_id", json_string(r->bag_id));
	if (rc < 0)
		json_object_set_new(x, "error", json_string(e->msg));
	size_t nm = r->missing ? json_array_size(r->missing) : 0;
	if (nm) {
		/* what was lost and why, the first few (the bag has them all) */
		json_t *m = json_array();
		for (size_t i = 0; i < nm && i < 8; i++)
			json_array_append(m, json_array_get(r->missing, i));
		json_object_set_new(x, "missing", json_integer((json_int_t)nm));
		json_object_set_new(x, "missing_first", m);
	}
	if (r->quarantine_failed)
		json_object_set_new(x, "quarantine_failed", json_true());
	struct err ae = {0};
	if (audit_record(o->audit_log, "capture", c->id, rc < 0 ? "failed" : rc ? "partial" : "ok",
			 x, &ae) < 0)
		json_array_append_new(r->warnings, json_sprintf("audit log: %s", ae.msg));
	json_decref(x);
}

static int capture_do(const struct ctr *c, const struct capture_opts *o,
		      struct capture_result *r, struct err *e);

int capture_run(const struct ctr *c, const struct capture_opts *o, struct capture_result *r,
		struct err *e)
{
	memset(r, 0, sizeof(*r));
	r->status = "failed";
	r->missing = json_array();
	r->warnings = json_array();
	if (capture_opts_check(o, e) < 0)
		return -1;
	int rc = capture_do(c, o, r, e);
	audit_capture(c, o, r, rc, e);
	return rc;
}

static int capture_do(const struct ctr *c, const struct capture_opts *o,
		      struct capture_result *r, struct err *e)
{
	if (c->pid <= 0)
		return err_set(e, ERR_WRONGSTATE,
			       "the container is not running (no live process)");

	/* our own copy of the container, with a pid list we may re-read */
	struct ctr view = *c;
	view.pids = c->npids ? xmalloc(c->npids * sizeof(*c->pids)) : NULL;
	if (c->npids)
		memcpy(view.pids, c->pids, c->npids * sizeof(*c->pids));

	struct capture cp = {.o = o, .c = &view, .qlock = -1, .t0 = time_mono(), .host_nflog = -1};
	pthread_mutex_init(&cp.lock, NULL);
	cp.missing = json_incref(r->missing);
	cp.warnings = json_incref(r->warnings);
	cp.qlog = json_array();

	int rc = -1;
	struct bag_opts bo = {
		.out = o->out,
		.out_fd = o->out_fd,
		.case_id = o->case_id,
		.examiner = o->examiner,
		.sign_key = o->sign_key,
		.container_id = c->id,
		.runtime = rt_kind_name(c->runtime),
		.image_digest = c->image_digest,
	};
	if (bag_open(&bo, &cp.bag, e) < 0)
		goto out;
	snprintf(r->bag_id, sizeof(r->bag_id), "%s", bag_id(cp.bag));
	r->status = "incomplete";
	json_t *cj = ctr_to_json(c);
	json_t *x = json_pack("{s:o,s:{s:b,s:b,s:b,s:b,s:i,s:I,s:i,s:i}}", "container", cj,
			      "options", "quarantine", o->quarantine, "pcap", o->pcap, "fs", o->fs,
			      "memory", o->memory, "pcap_seconds", (int)o->pcap_seconds,
			      "pcap_max_bytes", (json_int_t)o->pcap_max_bytes, "observe_seconds",
			      (int)o->observe_seconds, "watch_cut_seconds",
			      (int)o->watch_cut_seconds);
	struct err be = {0};
	if (bag_event(cp.bag, "capture-start", c->id, "ok", x, &be) < 0)
		warning(&cp, "custody: %s", be.msg);
	json_decref(x);
	/* what started it (an alert, for respond): custody and index */
	if (o->trigger) {
		if (bag_event(cp.bag, "trigger", c->id, "ok", (json_t *)o->trigger, &be) < 0)
			warning(&cp, "custody: %s", be.msg);
		if (bag_set_index(cp.bag, "trigger", (json_t *)o->trigger, &be) < 0)
			warning(&cp, "index.json: %s", be.msg);
	}
	/* the node audit log's head before anything is done (custody, bag-info) */
	if (o->audit_log) {
		struct audit_head ah;
		if (audit_bag_mark(cp.bag, o->audit_log, false, &ah, &be) < 0) {
			warning(&cp, "audit head at the start: %s", be.msg);
			err_clear(&be);
		}
	}

	capture_prepare(&cp);
	capture_volatile(&cp);
	capture_frozen(&cp);
	capture_finish(&cp);

	progress(&cp, "seal");
	if (bag_seal(cp.bag, e) < 0) {
		err_wrap(e, "seal");
		goto out;
	}
	r->status = "complete";
	rc = json_array_size(cp.missing) || cp.qfailed ? 1 : 0;
out:
	/* what it says holds at the end is read back from the kernel now, not
	 * taken from the state: a table flushed or a thaw meanwhile shows */
	r->net_cut = cp.net_cut;
	r->frozen = cp.frozen;
	if (cp.net_cut || cp.frozen) {
		struct qverify v;
		struct err ve = {0};
		if (quarantine_verify(c, cp.o->state_dir, cp.net_cut ? QV_NET : 0, &v, &ve) < 0) {
			warning(&cp, "could not read back what holds: %s", ve.msg);
			r->net_cut = r->frozen = false;
		} else {
			if (cp.net_cut && !v.net_cut)
				warning(&cp, "the network cut no longer reads back from the kernel%s%s",
					*v.problems ? ": " : "", v.problems);
			if (cp.frozen && !v.frozen)
				warning(&cp, "the cgroup no longer reads frozen");
			r->net_cut = cp.net_cut && v.net_cut;
			r->frozen = cp.frozen && v.frozen;
		}
	}
	r->quarantine_failed = cp.qfailed;
	r->windows = cp.windows;
	r->seconds = time_mono() - cp.t0;
	if (cp.bag)
		bag_free(cp.bag);
	qstate_free(&cp.qs);
	if (cp.qlock >= 0)
		close(cp.qlock);
	json_decref(cp.missing);
	json_decref(cp.warnings);
	json_decref(cp.qlog);
	pthread_mutex_destroy(&cp.lock);
	free(view.pids);
	return rc;
}
