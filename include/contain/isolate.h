/* isolate: quarantine a container without destroying evidence.
 *
 * netcut (src/isolate/netcut.c): two nftables layers.
 *   - in the container's netns (entered with setns by a thread of our own
 *     that ends there, never by running a program of the container): table
 *     inet contain_q_<id12>, chains prerouting/input/forward/output at priority -310 (before raw and
 *     conntrack), policy drop, loopback and --allow entries accepted;
 *   - in the host netns: table netdev contain_h_<id12>, an ingress and an
 *     egress chain (in_<ifindex>, out_<ifindex>) bound to the host end of each
 *     veth of the container, policy drop. Root inside the container cannot
 *     touch it.
 * freeze (src/isolate/freeze.c): cgroup2 cgroup.freeze, else the v1 freezer.
 * state (src/isolate/state.c): what was done, in G.state_dir/<id>.json, so
 *   release removes exactly that (the node audit log: contain/audit.h).
 * quarantine (src/isolate/quarantine.c): the whole operation, used by the
 *   quarantine and release verbs and by capture. */
#pragma once

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "contain/audit.h" /* audit_record: the verbs that quarantine audit */
#include "contain/runtime.h"
#include "contain/util.h"

/* ---- netcut: the ruleset builder ---- */

#define NCUT_TABLE_MAX 64
#define NCUT_PRIO_NETNS (-310) /* before raw (-300) and conntrack (-200) */
#define NCUT_PRIO_HOST (-500)
#define NCUT_LOG_PREFIX "contain-q"
#define NCUT_MAX_ALLOW 64
#define NCUT_MAX_DEVS 32
#define NCUT_MAX_EXTRA 16
#define NCUT_NFLOG_OFF 0xffffffffu /* host_nflog_group: do not log */

/* one --allow CIDR[:PORT] entry */
struct ncut_allow {
	int family;	   /* AF_INET or AF_INET6 */
	char addr[48];	   /* canonical network address (inet_ntop) */
	unsigned prefix;   /* 0..32 / 0..128 */
	unsigned port;	   /* 0: every port */
};

/* "10.0.0.0/8", "10.1.2.3:443", "10.0.0.0/8:443", "fd00::/8", "fd00::1",
 * "[fd00::/64]:443". Host bits set past the prefix are refused. */
int ncut_allow_parse(const char *s, struct ncut_allow *out, struct err *e);
/* back to the CIDR[:PORT] form (buf >= 64) */
void ncut_allow_format(const struct ncut_allow *a, char *buf, size_t n);

/* the host end of one of the container's links */
struct ncut_dev {
	char ifname[IF_NAMESIZE];     /* host side, e.g. "veth1a2b3c" */
	int ifindex;		      /* host side */
	char ctr_ifname[IF_NAMESIZE]; /* container side, e.g. "eth0" */
	int ctr_ifindex;
};

/* What the ruleset builder puts in each drop chain. Extra rules (capture
 * may add its own) go after the accepts and before the log and the drop. */
struct ncut_opts {
	const struct ncut_allow *allow;
	size_t nallow;
	unsigned nflog_group; /* 0: no log; else "log prefix contain-q group N" */
	const char *const *extra; /* nft rule bodies, e.g. "counter" */
	size_t nextra;
	/* the host table's group (in the host netns, where groups are shared
	 * by every container): 0 the same as nflog_group, NCUT_NFLOG_OFF none */
	unsigned host_nflog_group;
};

/* Table names. The host's: contain_h_<12 hex> from the container id (a
 * non-hex id is hashed into 12 hex digits). The container netns's:
 * contain_q_<12 hex> of HMAC-SHA-256(key, id), key from the state dir
 * (qstate_netkey): a container can read its own id, and root in its netns
 * could take a name made from the id alone before the cut, with the
 * nftables owner flag, so that our cut fails there; the key it cannot
 * read. key NULL (no key yet: no cut of ours can exist there): netns_table
 * is "". buf >= NCUT_TABLE_MAX. */
#define NCUT_KEY_LEN  32
#define NCUT_KEY_FILE "netns.key"
void ncut_table_names(const unsigned char *key, const char *id, char *netns_table,
		      char *host_table);

/* The nft text that creates the table (one atomic batch: "add table" fails
 * cleanly on an existing table because it is preceded by "create table").
 * Returns a malloc'ed string; -1/NULL on bad input (ERR_INVALID). */
char *ncut_netns_ruleset(const char *table, const struct ncut_opts *o, struct err *e);
char *ncut_host_ruleset(const char *table, const struct ncut_dev *devs, size_t ndevs,
			const struct ncut_opts *o, struct err *e);

/* Find the host ends of the links of the netns at netns_path (checked to be
 * the namespace with inode ino; 0 skips the check): RTM_GETLINK in the
 * netns (IFLA_LINK + IFLA_LINK_NETNSID), the netnsid checked to be ours,
 * then the host link with that index checked to be a veth whose peer is in
 * that netns. Links that are not veths to the host (macvlan, a peer in a
 * third netns) are named in *skipped (malloc'ed, may be NULL). */
int ncut_find_host_devs(const char *netns_path, unsigned long long ino,
			struct ncut_dev **devs, size_t *ndevs, char **skipped, struct err *e);

/* Make a libnftables context ahead, in this thread's netns (ours): the
 * first host-side call takes it. For the thread that opened the library
 * while the container is resolved (dlib_load_bg_start); quiet on a
 * failure (the caller makes its own then, and says why). */
void ncut_prewarm(void);
/* No context ahead after all (quarantine --freeze-only): said before the
 * library is open, it makes none. */
void ncut_prewarm_cancel(void);

/* Run nft text in the netns (a thread of ours, setns) or in our own (netns_path
 * NULL); then, in a call of its own, look the table up: *handle gets its
 * handle, and its chains are checked to be there with policy drop. */
int ncut_table_add(const char *netns_path, unsigned long long ino, const char *family,
		   const char *table, const char *ruleset, size_t nchains_want,
		   uint64_t *handle, struct err *e);
/* The same in two steps, so the host table can go in while a thread in
 * the container netns works: start starts the thread (netns_path NULL:
 * does it all now), finish waits for it. Every started job must be
 * finished. */
struct ncut_job {
	pthread_t thread;
	void *task; /* the thread's, while it runs */
	void *done; /* a result already there */
};
int ncut_table_add_start(const char *netns_path, unsigned long long ino, const char *family,
			 const char *table, const char *ruleset, size_t nchains_want,
			 struct ncut_job *j, struct err *e);
int ncut_table_add_finish(struct ncut_job *j, uint64_t *handle, struct err *e);
/* The NFLOG groups that rules of our own netns log to, whatever table or
 * family ("log ... group N" in `nft list ruleset`): used[N / 8] bit N % 8
 * is set for each (the bitmap is cleared first). A group a table still logs
 * to is not free even when nobody listens to it now. */
#define NCUT_NFLOG_BITMAP (65536 / 8)
int ncut_nflog_groups_used(unsigned char used[NCUT_NFLOG_BITMAP], struct err *e);

/* Delete the table family/name if it still has that handle (0: any).
 * *gone is set when it was not there (removed by hand, flushed), or when
 * the table of that name is another's: a table with the nftables "owner"
 * flag (held by some program's socket; we never make one) is left, and
 * *theirs (may be NULL) set. Checked to be gone afterwards. */
int ncut_table_del(const char *netns_path, unsigned long long ino, const char *family,
		   const char *table, uint64_t handle, bool *gone, bool *theirs,
		   struct err *e);
/* What a table holds, read from the kernel (in the netns at netns_path,
 * checked to have inode ino, or here when NULL). */
struct ncut_bound {
	char chain[NCUT_TABLE_MAX];
	char dev[IF_NAMESIZE]; /* the device name the hook names */
	int ifindex;	       /* from the chain name in_<ifindex> / out_<ifindex> */
	bool egress;
};
struct ncut_table_info {
	bool exists;
	uint64_t handle;
	bool owned;	/* nftables "owner" flag: held by a netlink socket, never ours */
	uint32_t owner; /* that socket's port id */
	size_t ndrop;  /* base chains with policy drop */
	size_t nbound; /* netdev: chains bound to a device (may exceed the array) */
	struct ncut_bound bound[2 * NCUT_MAX_DEVS];
};
int ncut_table_info(const char *netns_path, unsigned long long ino, const char *family,
		    const char *table, struct ncut_table_info *ti, struct err *e);
/* parse "nft list table netdev X" text (for tests too) */
int ncut_parse_netdev_listing(const char *txt, struct ncut_table_info *ti);
/* What holds of a cut, read from the kernel in one visit of the
 * container's netns (a thread there lists its table inet netns_table and
 * its links) while this thread lists the host's table netdev host_table;
 * then the host ends of its veths (ncut_find_host_devs). On an error, its
 * message says which part failed ("container netns", "host table", "host
 * peers"). */
struct ncut_probe {
	struct ncut_table_info netns, host;
	struct ncut_dev *devs;
	size_t ndevs;
	char *skipped;
};
int ncut_probe(const char *netns_path, unsigned long long ino, const char *netns_table,
	       const char *host_table, struct ncut_probe *p, struct err *e);
void ncut_probe_free(struct ncut_probe *p);
/* the host table is bound to exactly these devices (name and ifindex), an
 * ingress and an egress chain each, every one at policy drop */
bool ncut_host_table_matches(const struct ncut_table_info *ti, const struct ncut_dev *devs,
			     size_t ndevs);
/* every netdev table named contain_h_* in the host netns (malloc'ed) */
int ncut_host_tables(char ***names, size_t *n, struct err *e);
/* The read-back, from the kernel in the calling thread's netns, with no
 * library (nfnl.c: an nftables netlink dump): family/table's existence,
 * handle, base chains at policy drop and (netdev) the devices its chains
 * are bound to; a table that is not there is exists=false, not an error. */
int nfnl_table_info(const char *family, const char *table, struct ncut_table_info *ti,
		    struct err *e);
/* the names of the family's tables that start with prefix (at most max,
 * malloc'ed) */
int nfnl_table_names(const char *family, const char *prefix, size_t max, char ***names,
		     size_t *count, struct err *e);
/* nfnl.c's parsers on one buffer of replies to request seq, as if the
 * kernel had sent it (the fuzz target's way in): table messages into ti
 * (exists, handle), their names with prefix contain_ counted in *nnames,
 * the chains of table into ti (ndrop; bound when netdev). Returns 0 when
 * the replies end (DONE or ACK), 1 when they end but say the dump was
 * interrupted, 2 when more would follow, -1 on an error in them (e). */
int nfnl_parse_replies(const void *buf, size_t len, uint32_t seq, const char *table, bool netdev,
		       struct ncut_table_info *ti, size_t *nnames, struct err *e);
/* the host link ifindex: *exists, and its name now */
int ncut_host_link(int ifindex, char *ifname, bool *exists, struct err *e);
/* Does family/table exist (with that handle, 0: any)? */
int ncut_table_exists(const char *netns_path, unsigned long long ino, const char *family,
		      const char *table, uint64_t handle, bool *exists, struct err *e);

/* ---- freeze ---- */

enum frz_kind {
	FRZ_NONE = 0,
	FRZ_CGROUP2, /* <dir>/cgroup.freeze, cgroup.events "frozen 1" */
	FRZ_V1,	     /* <dir>/freezer.state FROZEN */
};
enum frz_pref {
	FRZ_PREF_AUTO = 0, /* unified when it holds the pids, else v1 */
	FRZ_PREF_V2,
	FRZ_PREF_V1,
};
const char *frz_kind_name(enum frz_kind k); /* "cgroup2", "freezer-v1" */
/* --freezer: "auto", "cgroup2" (or "v2"), "v1"; -1 for anything else */
int frz_pref_parse(const char *s, enum frz_pref *p);
int frz_kind_parse(const char *s, enum frz_kind *k);

struct frz_target {
	enum frz_kind kind;
	char *dir;
};
void frz_target_free(struct frz_target *t);

/* the file written to freeze and the file read to see it hold */
int frz_files(const struct frz_target *t, char *ctl, size_t nctl, char *state,
	      size_t nstate);

/* Does cgroup dir (or a cgroup below it, bounded depth) hold pid? The init
 * may sit below the container's cgroup (systemd's init.scope on cgroup2). */
bool frz_cgroup_holds(const char *dir, pid_t pid);

/* Pick the cgroup to freeze for a container. */
int frz_pick(const struct ctr *c, enum frz_pref pref, struct frz_target *t, struct err *e);

/* parsing, for tests too (frz_parse_events and frz_parse_v1_state are
 * the runtime layer's: runtime.h) */
/* /proc/PID/status: the State letter ('R', 'S', 'D', ...) or 0 */
char frz_parse_status_state(const char *buf);

struct frz_result {
	size_t npids;	/* pids verified frozen */
	double seconds; /* time to hold */
};

/* Freeze and wait (poll) until the cgroup holds it and every pid of it
 * (recursively) is verified frozen, at most timeout seconds (ERR_SYS with
 * ETIMEDOUT then; the cgroup is left freezing: fail closed). */
int frz_freeze(const struct frz_target *t, double timeout, struct frz_result *r,
	       struct err *e);
/* frz_freeze in two steps: start writes the freeze (the kernel freezes the
 * tasks meanwhile), wait waits for it to hold and checks every task, as
 * frz_freeze does; the caller may do other work between the two. wait
 * always frees w; a failed start leaves nothing to free. */
struct frz_wait {
	int ino; /* cgroup2: an inotify on cgroup.events, else -1 */
	double t0;
	char state[4096];
};
int frz_freeze_start(const struct frz_target *t, struct frz_wait *w, struct err *e);
int frz_freeze_wait(const struct frz_target *t, struct frz_wait *w, double timeout,
		    struct frz_result *r, struct err *e);
void frz_wait_free(struct frz_wait *w);
/* the state letter of a /proc/PID/stat text, 0 if none */
char frz_parse_stat_state(const char *buf);
int frz_thaw(const struct frz_target *t, double timeout, struct err *e);
/* Is it frozen now (cgroup's own state)? */
int frz_is_frozen(const struct frz_target *t, bool *frozen, struct err *e);

/* ---- state file ---- */

/* The state is the intent: written (durably) before the kernel is touched,
 * so a kill at any instant leaves what release and quarantine need to
 * finish. It is never trusted for an answer: quarantine_verify reads the
 * kernel. It is bound to one incarnation of the container (init pid and its
 * start time, netns inode, cgroups): when that is gone, the state is stale. */
struct qstate {
	char *id, *runtime, *name;
	pid_t pid;
	unsigned long long pid_start; /* /proc/PID/stat field 22; 0: unknown (v1 state) */
	char *cg_unified, *cg_freezer; /* the container's cgroup dirs */
	char *netns_path;
	unsigned long long netns_inode;
	char *created; /* first quarantine, RFC 3339 ns */
	char *updated;

	bool net;	   /* a network cut is in place */
	char *net_time;
	char *netns_table; /* family inet; NULL if not applied */
	uint64_t netns_handle;
	char *host_table;  /* family netdev; NULL if no host device */
	uint64_t host_handle;
	struct ncut_dev *devs;
	size_t ndevs;
	struct ncut_allow *allow;
	size_t nallow;
	unsigned nflog_group;

	bool frozen;	/* a freeze is in place */
	char *freeze_time;
	struct frz_target freezer;
};
void qstate_free(struct qstate *s);
json_t *qstate_to_json(const struct qstate *s);
int qstate_from_json(json_t *j, struct qstate *s, struct err *e);
/* dir/<id>.json (0600; dir 0700, created) written atomically */
int qstate_save(const char *dir, const struct qstate *s, struct err *e);
/* ERR_NOTFOUND when there is none */
int qstate_load(const char *dir, const char *id, struct qstate *s, struct err *e);
int qstate_remove(const char *dir, const char *id, struct err *e);
/* Serialise quarantine/release of one container: flock on dir/<id>.lock
 * (re-opened when the file was unlinked by the holder before us).
 * Returns the fd holding the lock (close it to release). */
int qstate_lock(const char *dir, const char *id, struct err *e);
/* unlink dir/<id>.lock while holding it (fd), then close fd */
int qstate_unlock_remove(const char *dir, const char *id, int fd, struct err *e);
/* The key the netns table's name is made with (ncut_table_names), in
 * dir/netns.key: 32 random bytes, 0600, made by the first quarantine
 * (create) and never changed. ERR_NOTFOUND when there is none and !create;
 * ERR_INVALID when the file is not one we made (a link, another size,
 * another owner, readable by others). */
int qstate_netkey(const char *dir, bool create, unsigned char key[NCUT_KEY_LEN], struct err *e);
/* A container's table names (ncut_table_names) with dir's key (dir may be
 * NULL): 0 with both names; -1 and e (qstate_netkey's) with the host's name
 * and netns_table "" (no table there is ours). */
int qstate_table_names(const char *dir, bool create, const char *id, char *netns_table,
		       char *host_table, struct err *e);
/* remove "<id>.json.tmp.<pid>" and "netns.key.tmp.<pid>" files whose writer
 * is dead */
int qstate_clean_tmp(const char *dir, size_t *removed, struct err *e);

/* ---- the incarnation ---- */
struct qinc {
	pid_t pid;
	unsigned long long pid_start;	/* 0: unknown */
	unsigned long long netns_inode; /* 0: unknown */
};
/* The incarnation of pid now, from /proc (the runtime's stat parser).
 * ERR_NOTFOUND when the pid is gone (or a zombie without a netns). */
int qinc_read(pid_t pid, struct qinc *now, struct err *e);
/* Is rec still the incarnation now shows? now NULL: its pid is gone.
 * ctr_pid: the container's init as resolved now (0: not resolved). Pure,
 * for tests; why says what differs. */
bool qinc_same(const struct qinc *rec, const struct qinc *now, pid_t ctr_pid, char *why,
	       size_t n);
/* qinc_read + qinc_same for a state (c may be NULL) */
bool qstate_live(const struct qstate *s, const struct ctr *c, char *why, size_t n);
/* The id of the state file matching ref (a full id, a unique prefix, or a
 * name), for a container that is gone. ERR_NOTFOUND, ERR_AMBIG. */
int qstate_find(const char *dir, const char *ref, char **id, struct err *e);

/* ---- one audit vocabulary: quarantine, release, capture, respond ---- */
#define QAUDIT_QUARANTINE "quarantine" /* extra "by", "step" say who and which */
#define QAUDIT_RELEASE "release"
/* results: "ok", "already", "partial", "failed", "not-quarantined" */

/* ---- what holds, read from the kernel (never from the state file) ---- */
struct qverify {
	bool has_state;	 /* a state file for this id */
	bool stale;	 /* its incarnation is gone (stale_why says how) */
	char stale_why[256];
	bool net_checked;  /* the network was looked at (a netns to look in) */
	bool netns_exists; /* table inet contain_q_<id12> in THAT netns (inode checked) */
	bool netns_table;  /* ... and its 4 base chains at policy drop */
	bool host_needed;  /* the container has veth peers on the host now */
	bool host_exists;  /* table netdev contain_h_<id12> on the host */
	bool host_table;   /* ... bound to exactly those peers (name + ifindex), policy drop */
	struct ncut_dev devs[NCUT_MAX_DEVS]; /* the host peers now */
	size_t ndevs;
	bool net_cut;		 /* netns_table && (host_table || !host_needed) */
	bool frozen;		 /* the container's cgroup reads frozen */
	enum frz_kind frozen_by; /* the freezer that says so (FRZ_NONE: none) */
	char problems[512];	 /* what could not be read */
	char skipped[512];	 /* links not cut on the host, and why */
};
/* What quarantine_verify reads:
 * QV_STATE the state file (has_state, stale);
 * QV_NET   the cut (the netns table's name needs the state dir's key:
 *          without one, no table there is ours);
 * QV_LISTED for a container just listed: the freezer states the runtime
 *          read during that list (struct ctr frz_*) are taken for the dirs
 *          they were read from, so one list reads each freezer file once.
 *          Only for the list itself: a check after an action reads again.
 * The freeze is always read. Without QV_NET nothing enters the netns. */
#define QV_STATE  1u
#define QV_NET	  2u
#define QV_LISTED 4u
/* c: the container now; state_dir: the state and the key (may be NULL
 * without QV_STATE; then no netns table is ours). */
int quarantine_verify(const struct ctr *c, const char *state_dir, unsigned what,
		      struct qverify *v, struct err *e);
/* "cut+frozen", "cut", "frozen", "stale", "-" */
const char *qverify_word(const struct qverify *v);
json_t *qverify_to_json(const struct qverify *v);

/* ---- quarantine, release: the whole operation ---- */

struct quarantine_opts {
	bool net;	       /* cut the network (both layers) */
	bool freeze;	       /* freeze the cgroup */
	bool dry_run;	       /* build everything, touch nothing */
	struct ncut_opts ncut; /* allow list, nflog group, extra rules */
	enum frz_pref freezer; /* which freezer */
	double timeout;	       /* for the freeze, seconds (0: 10) */
};

struct quarantine_result {
	bool already;		  /* everything asked for was verified in place: nothing done */
	bool did_net, did_freeze; /* what this call put in place */
	bool stale;		  /* the state found was of a gone incarnation: replaced */
	char stale_why[256];
	bool adopted;		  /* held in the kernel but not (all) in the state: recorded */
	char repaired[512];	  /* recorded but missing in the kernel: re-applied */
	char *netns_ruleset;	  /* the text (dry run: what would run) */
	char *host_ruleset;	  /* NULL when no host device */
	char *skipped;		  /* links not cut on the host, and why */
	char *freeze_ctl, *freeze_state; /* cgroup files */
	struct frz_result frz;
	double seconds;
	char holds[512]; /* what is in place now, for messages */
};
void quarantine_result_free(struct quarantine_result *r);

/* Reconcile: a state of a gone incarnation is dropped (r->stale); what is
 * asked for is read from the kernel (quarantine_verify), and only what is
 * missing is applied. The intent (tables, devices, cgroup, incarnation) is
 * saved durably before the kernel is touched; then network, then freeze;
 * fail closed: what is in place stays, and e / r->holds say what holds.
 * s is the state (loaded by the caller under qstate_lock, or zeroed) and
 * is updated. */
/* The reconcile decision, pure (for tests): from what is asked (o), what
 * the state records (s; live: its incarnation is this one) and what the
 * kernel holds (v), what to apply and what to record. */
struct qplan {
	bool net, freeze;	     /* asked for and missing in the kernel: apply */
	bool netns_add, netns_replace; /* the netns table (replace: one of its name is there) */
	bool host_add, host_replace, host_drop; /* drop: no peer any more, a table binds a name */
	bool record_net, record_freeze; /* held but not (all) recorded: record it */
	bool repair_net, repair_freeze; /* recorded but not held: re-applied (reported) */
	bool already;			/* everything asked for holds */
};
void quarantine_plan(const struct quarantine_opts *o, const struct qstate *s, bool live,
		     const struct qverify *v, struct qplan *p);

int quarantine_apply(const struct ctr *c, const char *state_dir,
		     const struct quarantine_opts *o, struct qstate *s,
		     struct quarantine_result *r, struct err *e);

struct release_result {
	bool stale;		/* the incarnation was gone: nothing thawed */
	char stale_why[256];
	bool thawed;
	bool netns_removed, netns_gone; /* gone: was not there any more */
	bool host_removed, host_gone;
	bool kept_network;
	char problems[1024]; /* what could not be done (the rest went on) */
};
/* Thaw (only the recorded incarnation's own cgroup, never another's), then
 * remove the tables of s (unless keep_network), verified. c (may be NULL)
 * is the container now. The state file is removed when nothing is left,
 * else updated. Returns -1 when something failed (the rest was tried). */
int quarantine_release(const struct ctr *c, const char *state_dir, struct qstate *s,
		       bool keep_network, double timeout, struct release_result *r,
		       struct err *e);

/* A host table of a gone incarnation is ours to remove when it has the
 * recorded handle (0: unknown), is bound to nothing, or names a device
 * that is gone or renamed (the kernel binds netdev hooks by name: a new
 * device of that name would be cut). why says which. */
int qhost_table_orphaned(const char *table, uint64_t handle, bool *orphan, char *why,
			 size_t n, struct err *e);

/* ---- the transactions: lock, load/reconcile, intent, apply, verify, audit ---- */

struct qtxn_opts {
	const char *state_dir;
	const char *audit_log; /* NULL: not audited */
	const char *by;	       /* "quarantine", "capture", "respond" (audit "by") */
};

struct quarantine_outcome {
	struct quarantine_result r;
	struct qstate state; /* after */
	struct qverify after; /* read back from the kernel at the end */
	const char *result;   /* the audit result word */
	struct err audit_err; /* kind != 0: the audit record could not be written */
	json_t *audit;	      /* what was audited (owned) */
};
void quarantine_outcome_free(struct quarantine_outcome *o);
/* Returns -1 when the quarantine did not (fully) hold: e says why, and
 * out->state / out->r.holds what is in place. */
int quarantine_run(const struct ctr *c, const struct qtxn_opts *t,
		   const struct quarantine_opts *o, struct quarantine_outcome *out,
		   struct err *e);

struct release_opts {
	bool keep_network;
	double timeout; /* 0: 10 s */
};
struct release_outcome {
	struct release_result r;
	bool had_state;	     /* from a state file (else from tables found by name) */
	bool nothing;	     /* neither state nor tables: not quarantined (ERR_NOTFOUND) */
	json_t *before;	     /* the state before (owned, may be NULL) */
	const char *result;
	struct err audit_err; /* kind != 0: the audit record could not be written */
};
void release_outcome_free(struct release_outcome *o);
/* c: the container resolved now, or NULL (gone); id: its id. */
int release_run(const struct ctr *c, const char *id, const struct qtxn_opts *t,
		const struct release_opts *o, struct release_outcome *out, struct err *e);

/* contain release --stale: every state, host table (contain_h_*) and lock
 * file whose incarnation is gone; never a live container's cgroup. */
struct stale_outcome {
	json_t *removed;  /* [{kind, name, why}] */
	json_t *kept;	  /* [{kind, name, why}]: not ours to remove */
	json_t *problems; /* strings */
	struct err audit_err; /* kind != 0: the audit record could not be written */
};
void stale_outcome_free(struct stale_outcome *o);
int release_stale_run(const struct qtxn_opts *t, struct stale_outcome *out, struct err *e);
