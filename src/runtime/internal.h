/* internal.h: the contract between the runtime core (runtime.c, proc.c)
 * and one backend per runtime (runc.c containerd.c docker.c podman.c crio.c).
 *
 * A backend reads only its runtime's own files under one state root and
 * appends a struct ctr for each container it finds, filling what those
 * files say: id, name, status, namespace, image, image_digest, pid, bundle,
 * config_path, state_path, state_root, log_path, created, labels (labels and
 * OCI annotations), k8s_*. It leaves everything the kernel knows (pids,
 * cgroups, netns, rootfs and overlay dirs from mountinfo) to the core, which
 * calls ctr_fill_from_proc() on every container with a live pid.
 * A missing root is not an error (return 0, nothing added). A corrupt
 * container (bad JSON, truncated file) is warned about with log_warn naming
 * the file, and skipped; the scan goes on. */
#pragma once

#include "contain/runtime.h"

struct rt_backend {
	enum rt_kind kind;
	const char *const *default_roots; /* NULL-terminated */
	int (*scan)(const char *root, struct ctr_list *out, struct err *e);
};

extern const struct rt_backend rt_backend_runc, rt_backend_containerd, rt_backend_docker,
    rt_backend_podman, rt_backend_crio;
/* The backend of kind k from the one static table in runtime.c (NULL out of
 * range): runtime_scan walks it in rt_kind order. */
const struct rt_backend *rt_backend_for(enum rt_kind k);

struct ctr *ctr_new(enum rt_kind kind);
void ctr_list_add(struct ctr_list *l, struct ctr *c);
void ctr_add_label(struct ctr *c, const char *key, const char *value);
/* labels/annotations → k8s_pod, k8s_namespace, k8s_container */
void ctr_k8s_from_labels(struct ctr *c);
/* read the OCI config.json at c->config_path for annotations, rootfs path */
int ctr_read_oci_config(struct ctr *c, struct err *e);

/* Everything the kernel knows about a live container, from its init pid:
 * pids of its cgroup, cgroup paths (v1 and unified), netns path and inode,
 * host_netns, rootfs and overlay upper/lower/work dirs from mountinfo. */
int ctr_fill_from_proc(struct ctr *c, struct err *e);
/* The host's own files the mapping of every container reads: read once for
 * a whole list, not once per container (/proc/self/mountinfo grows with
 * the containers' mounts: read per container, a list is quadratic). */
struct proc_host_view {
	char *mountinfo; /* /proc/self/mountinfo, NULL if unreadable */
	char *init_cg;	 /* /proc/1/cgroup, NULL if unreadable */
};
void proc_host_view_read(struct proc_host_view *hv);
void proc_host_view_free(struct proc_host_view *hv);
int ctr_fill_from_proc_host(struct ctr *c, const struct proc_host_view *hv, struct err *e);

/* For a host pid: the container id its cgroup names (64 hex), or NULL. */
char *proc_container_id_of_pid(pid_t pid, struct err *e);

/* json helpers for backends */
json_t *json_load_file_bounded(const char *path, size_t max, struct err *e);
const char *json_str(json_t *obj, const char *key); /* NULL if absent or not a string */

/* ---- added by the core (stable for backends and unit tests) ---- */

/* the label value for key, or NULL */
const char *ctr_label(const struct ctr *c, const char *key);
/* replace *field with a copy of v (NULL clears) */
void ctr_set(char **field, const char *v);

/* The root mount ("/") of a mountinfo text: fstype and, for overlay, the
 * upper/lower/work dirs from its super options (escapes \ooo and \: undone). */
int proc_parse_root_mount(const char *mountinfo, struct ctr *c, struct err *e);
/* /proc/PID/cgroup text mapped to cgroupfs paths via a mountinfo text:
 * fills c->cgroups, c->cgroup_unified, c->cgroup_freezer. */
int proc_map_cgroups(struct ctr *c, const char *proc_cgroup, const char *mountinfo, struct err *e);
/* The container's cgroup in each hierarchy when its init has a cgroup
 * namespace of its own: host_view is /proc/INIT/cgroup as we read it, ns_view
 * as a process in that namespace reads it (paths from its root). Each line
 * whose path is ROOT + the namespace's path becomes ROOT; a line at the
 * namespace's root, outside it ("/.."), or rooted at the host's root is kept
 * as it is. Returns a /proc/PID/cgroup text for proc_map_cgroups. */
char *proc_cgroup_ns_roots(const char *host_view, const char *ns_view);
/* Does a process whose /proc/PID/cgroup text is proc_cgroup sit at or under
 * the container's own cgroup (its cgroup2 dir, else its v1 freezer, else any
 * hierarchy mapped here)? */
bool ctr_cgroup_holds(const struct ctr *c, const char *proc_cgroup);
/* undo mountinfo octal escapes (\040 \011 \012 \134) in place */
void mountinfo_unescape(char *s);
/* the container id (64 hex) a cgroup path names, or NULL */
char *cgroup_path_container_id(const char *path);

/* Every backend over its roots, no dedup, no /proc (runtime_list does both). */
int runtime_scan(const struct rt_roots *roots, struct ctr_list *out, struct err *e);
/* One container seen through several roots is kept once, as the highest-level
 * runtime, with the fields only the lower level knew. */
void ctr_list_dedup(struct ctr_list *l);
/* Resolve ref among l (not a pid): takes the match out of l into *out. */
int runtime_match(struct ctr_list *l, const char *ref, struct ctr **out, struct err *e);

/* small file checks every backend uses (no symlink is followed) */
bool rt_is_dir_at(int dfd, const char *name);
bool rt_is_reg(const char *path);
/* a container id as runtimes write them: hex digits only, 1..128 of them */
bool rt_hex_id(const char *s);

/* Call fn(dir, id, ctx) for each subdirectory of dir named by a hex id
 * (rt_hex_id), at most RT_MAX_IDS of them: past that, a warning naming who
 * and dir, and the rest skipped. A missing dir: nothing. */
#define RT_MAX_IDS 100000
void rt_each_id_dir(const char *who, const char *dir,
		    void (*fn)(const char *dir, const char *id, void *ctx), void *ctx);
