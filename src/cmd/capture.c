/* capture.c: contain capture REF -o OUT — collect the evidence of one
 * container into a sealed bag, in the order of volatility (RFC 3227):
 *
 *   1. start the pcap inside its netns (it runs through the cut: the drop
 *      rules log to NFLOG, which the pcap captures too);
 *   2. network quarantine (the quarantine verb's own code: quarantine_apply);
 *   3. processes and network state, before the freeze;
 *   4. freeze the cgroup;
 *   5. memory of every process (ELF cores) from the frozen container;
 *   6. the filesystem diff (overlay upperdir as an OCI layer tar);
 *   7. container metadata: OCI config, runtime state, image, mounts, logs;
 *   8. stop the pcap; quarantine.json; seal.
 *
 * Each collector writes through the bag; one that fails is recorded in the
 * index and the custody log and the others still run. The container is left
 * quarantined and frozen: releasing it is the responder's decision. On any
 * error nothing is thawed or reconnected. */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contain/audit.h"
#include "contain/bag.h"
#include "contain/cmd.h"
#include "contain/collect.h"
#include "contain/fslayer.h"
#include "contain/isolate.h"
#include "contain/memory.h"

#define CAPTURE_NFLOG_BASE 7700
#define CAPTURE_MAX_PCAP_FILES 40

struct capture_opts {
	const char *out, *case_id, *examiner, *sign_key;
	bool quarantine, pcap, fs, memory, memory_full;
	unsigned pcap_seconds;
	unsigned long long pcap_max_bytes, max_file_bytes, log_max_bytes, max_memory_bytes;
	struct ncut_allow allow[NCUT_MAX_ALLOW];
	size_t nallow;
	enum frz_pref freezer;
};

struct capture {
	struct capture_opts *o;
	struct ctr *c;
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
};

static void progress(struct capture *cp, const char *phase)
{
	if (!isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\r\033[Kcontain: capture %s [%.1fs] %s", cp->c->id, time_mono() - cp->t0,
		phase);
	fflush(stderr);
}

static void progress_done(struct capture *cp)
{
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
	(void)cp;
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
	log_warn("capture: %s: %s", artifact, msg);
	struct err e = {0};
	json_t *x = json_pack("{s:s}", "reason", msg);
	if (bag_event(cp->bag, "collector-failed", artifact, "failed", x, &e) < 0)
		log_warn("capture: custody: %s", e.msg);
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
	json_array_append_new(cp->warnings, json_string(msg));
	log_warn("capture: %s", msg);
}

static void add_json(struct capture *cp, const char *path, json_t *j, const char *kind,
		     const char *collector)
{
	struct err e = {0};
	if (bag_add_json(cp->bag, path, j, kind, collector, &e) < 0)
		missing(cp, path, "%s", e.msg);
}

/* ---- 1. pcap ---- */

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

static struct collect_pcap *pcap_start(struct capture *cp, int nflog)
{
	struct collect_pcap_opts po = {
		.seconds = cp->o->pcap_seconds,
		.max_bytes = cp->o->pcap_max_bytes,
		.nflog_group = nflog,
	};
	struct collect_pcap *s = NULL;
	struct err e = {0};
	if (!cp->c->netns_path || cp->c->host_netns) {
		missing(cp, "data/network/capture.pcap", "%s",
			cp->c->host_netns ? "the container is on the host network: no pcap of the host"
					  : "the container has no network namespace");
		return NULL;
	}
	if (collect_pcap_start(cp->c, &po, pcap_sink_for, cp, &s, &e) < 0) {
		if (e.kind == ERR_NOTFOUND && cp->npcap == 0) {
			/* no interface but lo and no nflog group (--no-quarantine):
			 * there is no traffic to miss, say so and go on */
			json_t *n = json_pack("{s:s}", "reason", e.msg);
			struct err be = {0};
			if (bag_event(cp->bag, "collector-skipped", "pcap", "skipped", n, &be) < 0)
				log_warn("capture: custody: %s", be.msg);
			json_decref(n);
			warning(cp, "pcap: %s", e.msg);
			return NULL;
		}
		missing(cp, "data/network/capture.pcap", "%s", e.msg);
		return NULL;
	}
	return s;
}

static void pcap_stop(struct capture *cp, struct collect_pcap *s)
{
	struct err e = {0};
	json_t *stats = NULL;
	if (!s)
		return;
	progress(cp, "waiting for the pcap bound");
	if (collect_pcap_stop(s, false, &stats, &e) < 0)
		warning(cp, "pcap: %s", e.msg);
	for (size_t i = 0; i < cp->npcap; i++) {
		struct err fe = {0};
		if (stats)
			bag_file_note(cp->pcap_files[i], stats, &fe);
		if (bag_file_close(cp->pcap_files[i], NULL, &fe) < 0)
			missing(cp, cp->pcap_paths[i], "%s", fe.msg);
		free(cp->pcap_paths[i]);
	}
	cp->npcap = 0;
	if (stats) {
		add_json(cp, "data/network/pcap-stats.json", stats, "pcap-stats", "pcap");
		json_decref(stats);
	}
}

/* ---- 2, 4. quarantine: the quarantine verb's code ---- */

static void audit(struct capture *cp, const char *action, const char *result, json_t *extra)
{
	struct err e = {0};
	if (audit_record(G.audit_log, action, cp->c->id, result, extra, &e) < 0)
		warning(cp, "audit log: %s", e.msg);
}

static int quarantine_step(struct capture *cp, bool net, unsigned nflog)
{
	struct quarantine_opts qo = {
		.net = net,
		.freeze = !net,
		.freezer = cp->o->freezer,
		.timeout = 10,
	};
	qo.ncut.allow = cp->o->allow;
	qo.ncut.nallow = cp->o->nallow;
	qo.ncut.nflog_group = nflog;
	struct quarantine_result r;
	struct err e = {0};
	const char *what = net ? "network cut" : "freeze";
	int ok = quarantine_apply(cp->c, G.state_dir, &qo, &cp->qs, &r, &e);
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
	progress(cp, "network state");
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

static int mem_close(void *ctx, pid_t pid, const char *name, bool ok, struct err *e)
{
	struct mem_ctx *m = ctx;
	int slot = str_has_suffix(name, ".maps") ? 1 : 0;
	(void)pid;
	struct bag_file *f = m->f[slot];
	m->f[slot] = NULL;
	if (!f)
		return 0;
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
	struct mem_ctx m = {.cp = cp};
	struct mem_out out = {mem_open, mem_close, &m};
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
			if (err)
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
	progress(cp, "filesystem layer");
	if (bag_file_open(cp->bag, "data/fs/upper.tar", "fs-layer", "fslayer", &f, &e) < 0) {
		missing(cp, "data/fs/upper.tar", "%s", e.msg);
		return;
	}
	struct sink s = bag_file_sink(f);
	struct fslayer_opts fo = {.max_file_bytes = cp->o->max_file_bytes, .files_text_only = true};
	if (fslayer_collect_ctr(cp->c, &fo, &s, &res, &e) < 0) {
		struct err fe = {0};
		bag_file_fail(f, e.msg, &fe);
		missing(cp, "data/fs/upper.tar", "%s", e.msg);
		fslayer_result_free(&res);
		return;
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

/* ---- the verb ---- */

static json_t *summary_json(struct capture *cp, const char *status)
{
	json_t *j = json_object();
	json_object_set_new(j, "bag", json_string(cp->o->out));
	json_object_set_new(j, "bag_id", json_string(bag_id(cp->bag)));
	json_object_set_new(j, "status", json_string(status));
	json_object_set_new(j, "container", json_pack("{s:s,s:s,s:s?,s:i}", "id", cp->c->id,
						      "runtime", rt_kind_name(cp->c->runtime),
						      "name", cp->c->name, "pid", (int)cp->c->pid));
	json_object_set_new(j, "quarantined", json_boolean(cp->net_cut));
	json_object_set_new(j, "frozen", json_boolean(cp->frozen));
	if (cp->qfailed)
		json_object_set_new(j, "quarantine_failed", json_true());
	json_object_set(j, "missing", cp->missing);
	json_object_set(j, "warnings", cp->warnings);
	json_object_set_new(j, "seconds", json_real(time_mono() - cp->t0));
	return j;
}

static int parse_u(const char *opt, const char *s, unsigned long long *v)
{
	if (parse_size(s, v) < 0)
		return cmd_usage_error("capture", "bad %s '%s'", opt, s);
	return 0;
}

int cmd_capture(int argc, char **argv)
{
	enum { O_CASE = 256, O_EXAMINER, O_SIGN, O_NOQ, O_PSEC, O_PMAX, O_NOPCAP, O_NOFS, O_NOMEM,
	       O_MEMFULL, O_MAXMEM, O_MAXFILE, O_LOGMAX, O_ALLOW, O_JSON, O_FREEZER };
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"case", required_argument, NULL, O_CASE},
		{"examiner", required_argument, NULL, O_EXAMINER},
		{"sign-key", required_argument, NULL, O_SIGN},
		{"no-quarantine", no_argument, NULL, O_NOQ},
		{"pcap-seconds", required_argument, NULL, O_PSEC},
		{"pcap-max-bytes", required_argument, NULL, O_PMAX},
		{"no-pcap", no_argument, NULL, O_NOPCAP},
		{"no-fs", no_argument, NULL, O_NOFS},
		{"no-memory", no_argument, NULL, O_NOMEM},
		{"memory-full", no_argument, NULL, O_MEMFULL},
		{"max-memory-bytes", required_argument, NULL, O_MAXMEM},
		{"max-file-bytes", required_argument, NULL, O_MAXFILE},
		{"log-max-bytes", required_argument, NULL, O_LOGMAX},
		{"allow", required_argument, NULL, O_ALLOW},
		{"freezer", required_argument, NULL, O_FREEZER},
		{"json", no_argument, NULL, O_JSON},
		{0, 0, 0, 0},
	};
	struct capture_opts o = {
		.quarantine = true,
		.pcap = true,
		.fs = true,
		.memory = true,
		.pcap_seconds = 10,
		.pcap_max_bytes = 256ull << 20,
		.max_file_bytes = 1ull << 30,
		.log_max_bytes = 16ull << 20,
	};
	struct err e = {0};
	unsigned long long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': o.out = optarg; break;
		case O_CASE: o.case_id = optarg; break;
		case O_EXAMINER: o.examiner = optarg; break;
		case O_SIGN: o.sign_key = optarg; break;
		case O_NOQ: o.quarantine = false; break;
		case O_PSEC:
			if (parse_ull(optarg, 86400, &v) < 0)
				return cmd_usage_error("capture", "bad --pcap-seconds '%s'", optarg);
			o.pcap_seconds = (unsigned)v;
			break;
		case O_PMAX:
			if (parse_u("--pcap-max-bytes", optarg, &o.pcap_max_bytes))
				return EXIT_USAGE;
			break;
		case O_NOPCAP: o.pcap = false; break;
		case O_NOFS: o.fs = false; break;
		case O_NOMEM: o.memory = false; break;
		case O_MEMFULL: o.memory_full = true; break;
		case O_MAXMEM:
			if (parse_u("--max-memory-bytes", optarg, &o.max_memory_bytes))
				return EXIT_USAGE;
			break;
		case O_MAXFILE:
			if (parse_u("--max-file-bytes", optarg, &o.max_file_bytes))
				return EXIT_USAGE;
			break;
		case O_LOGMAX:
			if (parse_u("--log-max-bytes", optarg, &o.log_max_bytes))
				return EXIT_USAGE;
			break;
		case O_ALLOW:
			if (o.nallow >= NCUT_MAX_ALLOW)
				return cmd_usage_error("capture", "at most %d --allow", NCUT_MAX_ALLOW);
			if (ncut_allow_parse(optarg, &o.allow[o.nallow], &e) < 0)
				return cmd_usage_error("capture", "%s", e.msg);
			o.nallow++;
			break;
		case O_FREEZER:
			if (frz_pref_parse(optarg, &o.freezer) < 0)
				return cmd_usage_error("capture", "bad freezer '%s'", optarg);
			break;
		case O_JSON: G.json = true; break;
		default: return cmd_usage_error("capture", "bad option");
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error("capture", "takes one REF");
	if (!o.out)
		return cmd_usage_error("capture", "-o OUT is required (a directory, a .tar, "
						  ".tar.gz, .tar.zst, or - for stdout)");
	if (!o.quarantine && o.nallow)
		return cmd_usage_error("capture", "--allow needs the quarantine");
	if (o.log_max_bytes == 0 || o.log_max_bytes > (1ull << 32))
		return cmd_usage_error("capture", "--log-max-bytes must be 1..4G");
	if (o.pcap && o.pcap_seconds == 0 && o.pcap_max_bytes == 0)
		return cmd_usage_error("capture", "the pcap needs a bound: --pcap-seconds or "
						  "--pcap-max-bytes");
	if (strcmp(o.out, "-") == 0 && isatty(STDOUT_FILENO))
		return cmd_usage_error("capture", "refusing to write a tar to a terminal");
	const char *ref = argv[optind];

	/* a pipe reader that goes away must be an error we see, not a kill */
	signal(SIGPIPE, SIG_IGN);

	_cleanup_ctr_ struct ctr *c = NULL;
	if (runtime_resolve(&G.roots, ref, &c, &e) < 0) {
		log_error("capture '%s': %s", ref, e.msg);
		return err_exit_code(&e);
	}
	if (c->pid <= 0) {
		log_error("capture '%s': the container is not running (no live process)", c->id);
		return EXIT_FOUND;
	}

	struct capture cp = {.o = &o, .c = c, .qlock = -1, .t0 = time_mono()};
	pthread_mutex_init(&cp.lock, NULL);
	cp.missing = json_array();
	cp.warnings = json_array();
	cp.qlog = json_array();

	struct bag_opts bo = {
		.out = o.out,
		.case_id = o.case_id,
		.examiner = o.examiner,
		.sign_key = o.sign_key,
		.container_id = c->id,
		.runtime = rt_kind_name(c->runtime),
		.image_digest = c->image_digest,
	};
	if (bag_open(&bo, &cp.bag, &e) < 0) {
		log_error("capture '%s': %s", c->id, e.msg);
		json_decref(cp.missing);
		json_decref(cp.warnings);
		json_decref(cp.qlog);
		return EXIT_SYS;
	}
	json_t *cj = ctr_to_json(c);
	json_t *x = json_pack("{s:o,s:{s:b,s:b,s:b,s:b,s:i,s:I}}", "container", cj, "options",
			      "quarantine", o.quarantine, "pcap", o.pcap, "fs", o.fs, "memory",
			      o.memory, "pcap_seconds", (int)o.pcap_seconds, "pcap_max_bytes",
			      (json_int_t)o.pcap_max_bytes);
	if (bag_event(cp.bag, "capture-start", c->id, "ok", x, &e) < 0)
		warning(&cp, "custody: %s", e.msg);
	json_decref(x);
	/* the node audit log's head before anything is done (custody, bag-info) */
	struct audit_head ah;
	if (audit_bag_mark(cp.bag, G.audit_log, false, &ah, &e) < 0) {
		warning(&cp, "audit head at the start: %s", e.msg);
		err_clear(&e);
	}

	/* the quarantine state of this container: lock it, load what holds */
	if (o.quarantine) {
		cp.qlock = qstate_lock(G.state_dir, c->id, &e);
		if (cp.qlock < 0) {
			warning(&cp, "quarantine state: %s", e.msg);
			err_clear(&e);
		}
		if (qstate_load(G.state_dir, c->id, &cp.qs, &e) < 0 && e.kind != ERR_NOTFOUND)
			warning(&cp, "quarantine state: %s", e.msg);
		err_clear(&e);
	}
	/* the NFLOG group the drop rules log to: the existing cut's, else ours */
	unsigned nflog = 0;
	if (o.quarantine && o.pcap && !c->host_netns) {
		nflog = cp.qs.net ? cp.qs.nflog_group
				  : CAPTURE_NFLOG_BASE + (unsigned)(getpid() % 1000);
	}

	/* 1. pcap */
	struct collect_pcap *pc = NULL;
	if (o.pcap) {
		progress(&cp, "pcap");
		pc = pcap_start(&cp, nflog ? (int)nflog : -1);
	} else {
		json_t *n = json_pack("{s:s}", "reason", "--no-pcap");
		bag_event(cp.bag, "collector-skipped", "pcap", "skipped", n, &e);
		json_decref(n);
	}
	/* 2. network cut */
	if (o.quarantine) {
		progress(&cp, "network cut");
		if (c->host_netns)
			warning(&cp, "'%s' is on the host network: no network cut (the host's own "
				     "netns), freeze only", c->id);
		else
			quarantine_step(&cp, true, nflog);
	}
	/* 3. processes, network state */
	collect_live(&cp);
	/* 4. freeze */
	if (o.quarantine) {
		progress(&cp, "freeze");
		quarantine_step(&cp, false, 0);
	}
	/* 5. memory */
	if (o.memory) {
		if (o.quarantine && !cp.frozen)
			warning(&cp, "memory taken from a container that is not frozen");
		collect_memory(&cp);
	} else {
		json_t *n = json_pack("{s:s}", "reason", "--no-memory");
		bag_event(cp.bag, "collector-skipped", "memory", "skipped", n, &e);
		json_decref(n);
	}
	/* 6. fs */
	if (o.fs) {
		collect_fs(&cp);
	} else {
		json_t *n = json_pack("{s:s}", "reason", "--no-fs");
		bag_event(cp.bag, "collector-skipped", "fs", "skipped", n, &e);
		json_decref(n);
	}
	/* 7. metadata */
	collect_meta(&cp);
	/* 8. pcap stop, quarantine.json, seal */
	pcap_stop(&cp, pc);
	if (o.quarantine) {
		json_t *q = qstate_to_json(&cp.qs);
		json_t *qj = json_pack("{s:b,s:O,s:o}", "quarantined", cp.net_cut || cp.frozen, "steps",
				       cp.qlog, "state", q);
		add_json(&cp, "data/quarantine.json", qj, "quarantine", "capture");
		json_decref(qj);
	} else {
		json_t *qj = json_pack("{s:b,s:s}", "quarantined", false, "skipped",
				       "--no-quarantine: captured live, the container was not touched");
		add_json(&cp, "data/quarantine.json", qj, "quarantine", "capture");
		json_decref(qj);
	}
	/* the node audit log's head after the capture's last audit line */
	if (audit_bag_mark(cp.bag, G.audit_log, true, &ah, &e) < 0) {
		warning(&cp, "audit head at the end: %s", e.msg);
		err_clear(&e);
	}
	json_t *endx = json_pack("{s:O,s:O}", "missing", cp.missing, "warnings", cp.warnings);
	bag_event(cp.bag, "capture-end", c->id, json_array_size(cp.missing) ? "partial" : "ok",
		  endx, &e);
	json_decref(endx);
	progress(&cp, "sealing");
	int rc = json_array_size(cp.missing) || cp.qfailed ? EXIT_FOUND : EXIT_OK;
	const char *status = "complete";
	if (bag_seal(cp.bag, &e) < 0) {
		log_error("capture '%s': seal: %s", c->id, e.msg);
		rc = EXIT_SYS;
		status = "incomplete";
	}
	progress_done(&cp);

	json_t *sum = summary_json(&cp, status);
	if (G.json) {
		/* with -o - stdout is the tar: the summary goes to stderr */
		if (strcmp(o.out, "-") == 0) {
			json_dumpf(sum, stderr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			fputc('\n', stderr);
		} else {
			cmd_print_json(sum);
		}
	} else {
		FILE *f = strcmp(o.out, "-") == 0 ? stderr : stdout;
		fprintf(f, "bag %s (%s): %s, %zu missing or partial, %.1f s\n", o.out,
			bag_id(cp.bag), status, json_array_size(cp.missing),
			time_mono() - cp.t0);
		size_t i;
		json_t *m;
		json_array_foreach(cp.missing, i, m)
		{
			fprintf(f, "  missing: %s: %s\n", json_string_value(json_object_get(m, "artifact")),
				json_string_value(json_object_get(m, "reason")));
		}
		if (cp.net_cut || cp.frozen)
			fprintf(f, "container %s is left %s%s%s; release it with: contain release %s\n",
				c->id, cp.net_cut ? "quarantined" : "",
				cp.net_cut && cp.frozen ? " and " : "", cp.frozen ? "frozen" : "",
				c->id);
		else if (!o.quarantine)
			fprintf(f, "container %s was captured live and not touched\n", c->id);
	}
	json_decref(sum);
	bag_free(cp.bag);
	qstate_free(&cp.qs);
	if (cp.qlock >= 0)
		close(cp.qlock);
	json_decref(cp.missing);
	json_decref(cp.warnings);
	json_decref(cp.qlog);
	pthread_mutex_destroy(&cp.lock);
	return rc;
}
