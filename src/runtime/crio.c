/* crio.c: CRI-O's containers, in the containers/storage layout it shares
 * with podman:
 *   <root>/overlay-containers/<id>/userdata/config.json   the OCI spec
 *   <root>/overlay-containers/<id>/userdata/state.json    CRI-O's state
 *   (or the same under the run root, /run/containers/storage)
 * A container is CRI-O's when its config.json says io.container.manager is
 * not libpod, or (no manager named) carries io.kubernetes.cri-o.* annotations
 * beyond the Created and TTY ones podman writes too: podman's containers in
 * the same tree are left to the podman backend (podman.c: the same rule). */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define CONFIG_MAX	(8u << 20)
#define STATE_MAX	(4u << 20)
#define MAX_ENTRIES	100000
#define DEFAULT_ROOT	"/var/lib/containers/storage"
#define DEFAULT_RUNROOT "/run/containers/storage"

static const char *const crio_roots[] = {DEFAULT_ROOT, NULL};

static void image_digest_from(struct ctr *c, const char *ref)
{
	if (!ref)
		return;
	const char *at = strstr(ref, "@sha256:");
	if (at && is_hex_string(at + 8) && strlen(at + 8) == 64)
		ctr_set(&c->image_digest, at + 1);
	else if (str_has_prefix(ref, "sha256:") && strlen(ref) == 71 && is_hex_string(ref + 7))
		ctr_set(&c->image_digest, ref);
	else if (strlen(ref) == 64 && is_hex_string(ref))
		c->image_digest = xasprintf("sha256:%s", ref);
}

/* CRI-O's state.json: the OCI state plus initPid / initStartTime */
static void read_state(struct ctr *c, const char *path)
{
	struct err e = {0};
	json_t *j = json_load_file_bounded(path, STATE_MAX, &e);
	if (!j) {
		log_warn("crio: %s", e.msg);
		ctr_set(&c->status, "unknown");
		return;
	}
	ctr_set(&c->state_path, path);
	const char *st = json_str(j, "status");
	ctr_set(&c->status, st ? st : "unknown");
	json_int_t pid = 0;
	json_t *jp = json_object_get(j, "initPid");
	if (!json_is_integer(jp))
		jp = json_object_get(j, "pid");
	if (json_is_integer(jp))
		pid = json_integer_value(jp);
	if (pid < 0 || pid > INT_MAX) {
		log_warn("crio: '%s': bad pid", path);
		pid = 0;
	}
	if (!c->created && json_str(j, "created"))
		ctr_set(&c->created, json_str(j, "created"));
	unsigned long long want = 0, now = 0;
	json_t *js = json_object_get(j, "initStartTime");
	bool have_start =
	    (json_is_string(js) && parse_ull(json_string_value(js), ULLONG_MAX, &want) == 0) ||
	    (json_is_integer(js) && (want = (unsigned long long)json_integer_value(js), 1));
	if (pid > 0 && (strcmp(c->status, "running") == 0 || strcmp(c->status, "paused") == 0 ||
			strcmp(c->status, "created") == 0)) {
		struct err se = {0};
		if (proc_pid_starttime((pid_t)pid, &now, &se) < 0) {
			log_warn("crio container '%s': pid %lld no longer exists", c->id,
				 (long long)pid);
			pid = 0;
			ctr_set(&c->status, "stopped");
		} else if (have_start && want && now != want) {
			log_warn("crio container '%s': pid %lld is another process now: taking it "
				 "as stopped",
				 c->id, (long long)pid);
			pid = 0;
			ctr_set(&c->status, "stopped");
		}
	} else {
		pid = 0;
	}
	c->pid = (pid_t)pid;
	json_decref(j);
}

static void read_container(const char *root, const char *cdir, const char *id, struct ctr_list *out)
{
	_cleanup_free_ char *ud = xasprintf("%s/%s/userdata", cdir, id);
	_cleanup_free_ char *cfg = xasprintf("%s/config.json", ud);
	if (!rt_is_reg(cfg))
		return;
	/* a cheap look first: podman's containers, most of this tree, are
	 * not parsed (nor warned about) here */
	_cleanup_free_ char *raw = NULL;
	size_t len;
	bool trunc = false;
	struct err e = {0};
	if (read_file_at(AT_FDCWD, cfg, CONFIG_MAX, &raw, &len, &trunc, &e) < 0) {
		log_warn("crio: %s", e.msg);
		return;
	}
	if (!memmem(raw, len, "io.kubernetes.cri-o.", 20))
		return;

	struct ctr *c = ctr_new(RT_CRIO);
	c->id = xstrdup(id);
	c->config_path = xstrdup(cfg);
	c->bundle = xstrdup(ud);
	c->state_root = xstrdup(root);
	if (trunc || ctr_read_oci_config(c, &e) < 0) {
		if (trunc)
			log_warn("crio: '%s' is larger than %u bytes", cfg, CONFIG_MAX);
		else
			log_warn("crio: %s", e.msg);
		ctr_free(c);
		return;
	}
	/* the same partition as podman.c: io.container.manager decides when
	 * present; else CRI-O annotations beyond the Created and TTY that
	 * podman writes too */
	const char *mgr = ctr_label(c, "io.container.manager");
	bool crio = false;
	for (size_t i = 0; !mgr && i < c->nlabels; i++) {
		const char *k = c->labels[i].key;
		if (str_has_prefix(k, "io.kubernetes.cri-o.") &&
		    strcmp(k, "io.kubernetes.cri-o.Created") != 0 &&
		    strcmp(k, "io.kubernetes.cri-o.TTY") != 0)
			crio = true;
	}
	if (mgr)
		crio = strcmp(mgr, "libpod") != 0;
	if (!crio) {
		ctr_free(c);
		return;
	}
	const char *aid = ctr_label(c, "io.kubernetes.cri-o.ContainerID");
	if (aid && strcmp(aid, id) != 0)
		log_warn("crio: '%s': ContainerID '%s' is not its directory's name, using '%s'",
			 cfg, aid, id);

	if (c->k8s_container)
		c->name = xstrdup(c->k8s_container);
	else if (ctr_label(c, "io.kubernetes.cri-o.Name"))
		c->name = xstrdup(ctr_label(c, "io.kubernetes.cri-o.Name"));
	else if (ctr_label(c, "io.kubernetes.cri-o.ContainerName"))
		c->name = xstrdup(ctr_label(c, "io.kubernetes.cri-o.ContainerName"));
	const char *img = ctr_label(c, "io.kubernetes.cri-o.ImageName");
	if (!img)
		img = ctr_label(c, "io.kubernetes.cri-o.Image");
	if (img)
		c->image = xstrdup(img);
	image_digest_from(c, ctr_label(c, "io.kubernetes.cri-o.ImageRef"));
	if (!c->image_digest)
		image_digest_from(c, ctr_label(c, "io.kubernetes.cri-o.Image"));
	const char *lp = ctr_label(c, "io.kubernetes.cri-o.LogPath");
	if (lp)
		c->log_path = xstrdup(lp);
	const char *cr = ctr_label(c, "io.kubernetes.cri-o.Created");
	if (cr)
		c->created = xstrdup(cr);
	const char *mp = ctr_label(c, "io.kubernetes.cri-o.MountPoint");
	if (mp)
		ctr_set(&c->rootfs, mp);

	/* state: beside the config, else in the run root (default layout) */
	_cleanup_free_ char *sp = xasprintf("%s/state.json", ud);
	if (!rt_is_reg(sp) && strcmp(root, DEFAULT_ROOT) == 0) {
		const char *base = strrchr(cdir, '/');
		free(sp);
		sp =
		    xasprintf("%s%s/%s/userdata/state.json", DEFAULT_RUNROOT, base ? base : "", id);
	}
	if (rt_is_reg(sp)) {
		read_state(c, sp);
	} else {
		ctr_set(&c->status, "stopped");
	}
	ctr_list_add(out, c);
}

static int scan_containers_dir(const char *root, const char *cdir, struct ctr_list *out)
{
	_cleanup_closedir_ DIR *d = opendir(cdir);
	if (!d)
		return 0;
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (++n > MAX_ENTRIES) {
			log_warn("crio: '%s': more than %d entries, the rest skipped", cdir,
				 MAX_ENTRIES);
			break;
		}
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		read_container(root, cdir, de->d_name, out);
	}
	return 0;
}

static int crio_scan(const char *root, struct ctr_list *out, struct err *e)
{
	_cleanup_closedir_ DIR *d = opendir(root);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_sys(e, errno, "open '%s'", root);
	}
	struct dirent *de;
	/* one "<driver>-containers" dir per storage driver (overlay, vfs...) */
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !str_has_suffix(de->d_name, "-containers"))
			continue;
		_cleanup_free_ char *cdir = xasprintf("%s/%s", root, de->d_name);
		struct stat st;
		if (lstat(cdir, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		scan_containers_dir(root, cdir, out);
	}
	return 0;
}

const struct rt_backend rt_backend_crio = {
    .kind = RT_CRIO,
    .default_roots = crio_roots,
    .scan = crio_scan,
};
