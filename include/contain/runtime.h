/* runtime: find containers, whatever runs them, and resolve one into a
 * struct ctr. Every later step takes that struct; none goes back to a
 * runtime's files. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "contain/util.h"

enum rt_kind {
	RT_RUNC = 0,
	RT_CONTAINERD,
	RT_DOCKER,
	RT_PODMAN,
	RT_CRIO,
	RT__COUNT,
};

const char *rt_kind_name(enum rt_kind k); /* "runc", "containerd", ... */
int rt_kind_parse(const char *name, enum rt_kind *out);

/* One cgroup v1 controller hierarchy or the unified one. */
struct ctr_cgroup {
	char *controllers; /* "freezer", "cpu,cpuacct", "name=systemd", "" for unified */
	char *path;	   /* the container's cgroup path ("/contain-test/abc"): the init's,
			    * as /proc/PID/cgroup shows it, or the root of the init's
			    * cgroup namespace when the init sits below it */
	char *fs_path;	   /* absolute path in cgroupfs if found ("/sys/fs/cgroup/freezer/...") */
};

struct kv {
	char *key, *value;
};

struct ctr {
	enum rt_kind runtime;
	char *id;	 /* full id */
	char *name;	 /* may be NULL */
	char *status;	 /* "running", "paused", "stopped", "created", "unknown" */
	char *namespace; /* containerd namespace, NULL elsewhere */
	char *image;	 /* image reference as the runtime knows it; may be NULL */
	char *image_digest; /* sha256:...; may be NULL */
	pid_t pid;	 /* init pid on the host; 0 if not running */
	pid_t *pids;	 /* every pid of its cgroup (host pids) */
	size_t npids;

	struct ctr_cgroup *cgroups; /* one per hierarchy of the init process */
	size_t ncgroups;
	char *cgroup_unified; /* fs path of its cgroup2 dir, or NULL */
	char *cgroup_freezer; /* fs path of its v1 freezer dir, or NULL */
	/* What the runtime read of the freezers while listing (runc: for its
	 * "paused"), so that one list reads each file once: the dir read and
	 * its state (v1 freezer.state: 0 THAWED, 1 FREEZING, 2 FROZEN; v2
	 * cgroup.events: frozen 0/1), -1 and NULL when not read. A reading of
	 * the moment of the list, never for a later check (isolate.h
	 * quarantine_verify_listed). */
	char *frz_v1_dir, *frz_v2_dir;
	int frz_v1_state, frz_v2_frozen;

	char *netns_path;  /* "/proc/PID/ns/net" or a bind-mounted path */
	unsigned long long netns_inode;
	bool host_netns;   /* the netns is the host's own (refuse network cut) */

	char *rootfs;	/* host path of the root (bundle rootfs or merged dir) */
	char *upperdir; /* overlay upper, from mountinfo; NULL if not overlay */
	char *workdir;
	char **lowerdirs;
	size_t nlowerdirs;
	char *rootfs_fstype; /* "overlay", "ext4"... from mountinfo */

	char *bundle;	   /* OCI bundle directory if known */
	char *config_path; /* OCI config.json */
	char *state_path;  /* the runtime's own state file we read */
	char *state_root;  /* the state root it was found under */
	char *log_path;	   /* container log (json-file, k8s-file, CRI log) or NULL */
	char *created;	   /* RFC 3339 if known */

	struct kv *labels; /* labels and OCI annotations, merged */
	size_t nlabels;

	/* Kubernetes, from annotations */
	char *k8s_pod, *k8s_namespace, *k8s_container;
};

/* The freezer files, parsed (one parser each, used by isolate too):
 * cgroup.events: *frozen = value of the "frozen" key (-1 if absent);
 * freezer.state: 0 THAWED, 1 FREEZING, 2 FROZEN. */
int frz_parse_events(const char *buf, int *frozen, int *populated);
int frz_parse_v1_state(const char *buf, int *state);

struct ctr_list {
	struct ctr **v;
	size_t n, cap;
};

/* Extra or replacement state roots: --root RUNTIME=DIR, CONTAIN_ROOTS. */
struct rt_roots {
	struct {
		enum rt_kind kind;
		char *dir;
	} *v;
	size_t n, cap;
	bool replace[RT__COUNT]; /* given roots replace the defaults */
};

/* "runc=/run/runc" into roots (replacing that runtime's defaults). */
int rt_roots_add(struct rt_roots *r, const char *spec, struct err *e);
/* CONTAIN_ROOTS="runc=/a,docker=/b" */
int rt_roots_from_env(struct rt_roots *r, struct err *e);
void rt_roots_free(struct rt_roots *r);

/* Every container of every runtime. Corrupt state is warned about
 * (log_warn) per container and skipped; missing runtimes are silent. */
int runtime_list(const struct rt_roots *roots, struct ctr_list *out, struct err *e);

/* Resolve REF: a full id, a unique id prefix, a name, or a host PID.
 * ERR_NOTFOUND (exit 1), ERR_AMBIG (exit 2, candidates in the message). */
int runtime_resolve(const struct rt_roots *roots, const char *ref, struct ctr **out,
		    struct err *e);

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot): with
 * the pid, it names one process for good (a pid can be recycled). */
int proc_pid_starttime(pid_t pid, unsigned long long *out, struct err *e);

/* The fs paths of PID's own cgroup2 dir and v1 freezer dir: /proc/PID/cgroup
 * mapped through this mount namespace's mountinfo (the hybrid layout, a pure
 * cgroup2 /sys/fs/cgroup, or anywhere else it is mounted). NULL where PID
 * sits in a hierarchy's root or the hierarchy is not mounted here. Either
 * out may be NULL. */
int proc_cgroup_dirs(pid_t pid, char **unified, char **freezer, struct err *e);

/* Re-read the pids of the container's cgroup. */
int ctr_refresh_pids(struct ctr *c, struct err *e);

json_t *ctr_to_json(const struct ctr *c);
/* {id, runtime, name (when known), pid}: how audit lines and results name it */
json_t *ctr_brief_json(const struct ctr *c);
void ctr_free(struct ctr *c);
void ctr_list_free(struct ctr_list *l);
static inline void ctr_freep(struct ctr **c)
{
	if (*c)
		ctr_free(*c);
}
#define _cleanup_ctr_ _cleanup_(ctr_freep)
