/* test_runtime.c: the runtime core against state trees made here (runc
 * roots with good and corrupt state.json, namespaced roots), the CRI-O
 * fixture tree, mountinfo and cgroup parsing, dedup and resolution. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../../src/runtime/internal.h"
#include "contain/util.h"
#include "unit.h"

static char tmpl[64];

static void mk_tmp(void)
{
	snprintf(tmpl, sizeof(tmpl), "/tmp/test_runtime.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void rm_tmp(void)
{
	nftw(tmpl, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *path, const char *text)
{
	struct err e = {0};
	_cleanup_free_ char *dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	ck_assert_int_eq(mkdir_p(dir, 0755, &e), 0);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static struct ctr *find(struct ctr_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i]->id, id) == 0)
			return l->v[i];
	return NULL;
}

/* ---- mountinfo ---- */

START_TEST(mountinfo_overlay_escapes)
{
	const char *mi = "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
			 "74 50 0:40 / / rw,relatime shared:1 master:2 - overlay overlay "
			 "rw,lowerdir=/l/lo\\040w1:/l/l\\134\\054o\\134:2:/l/three,"
			 "upperdir=/u/u\\134\\054p,workdir=/w/w\\040k,uuid=on\n"
			 "75 74 0:41 / /proc rw - proc proc rw\n";
	struct ctr *c = ctr_new(RT_RUNC);
	struct err e = {0};
	ck_assert_int_eq(proc_parse_root_mount(mi, c, &e), 0);
	ck_assert_str_eq(c->rootfs_fstype, "overlay");
	ck_assert_str_eq(c->upperdir, "/u/u,p");
	ck_assert_str_eq(c->workdir, "/w/w k");
	ck_assert_uint_eq(c->nlowerdirs, 3);
	ck_assert_str_eq(c->lowerdirs[0], "/l/lo w1");
	ck_assert_str_eq(c->lowerdirs[1], "/l/l,o:2");
	ck_assert_str_eq(c->lowerdirs[2], "/l/three");
	ctr_free(c);
}
END_TEST

START_TEST(mountinfo_not_overlay)
{
	struct ctr *c = ctr_new(RT_RUNC);
	struct err e = {0};
	ck_assert_int_eq(proc_parse_root_mount("30 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
					       "31 30 0:5 / /dev rw - tmpfs tmpfs rw\n",
					       c, &e),
			 0);
	ck_assert_str_eq(c->rootfs_fstype, "ext4");
	ck_assert_ptr_null(c->upperdir);
	ck_assert_uint_eq(c->nlowerdirs, 0);
	/* the new mount API's lowerdir+ form, one dir per option */
	ck_assert_int_eq(proc_parse_root_mount("1 0 0:40 / / rw - overlay overlay "
					       "rw,lowerdir+=/a,lowerdir+=/b\\040c,upperdir=/u,"
					       "workdir=/w\n",
					       c, &e),
			 0);
	ck_assert_uint_eq(c->nlowerdirs, 2);
	ck_assert_str_eq(c->lowerdirs[1], "/b c");
	/* garbage and no root mount */
	ck_assert_int_eq(proc_parse_root_mount("garbage\n1 2 3\n", c, &e), -1);
	ck_assert_ptr_null(c->rootfs_fstype);
	ctr_free(c);
	char s[] = "a\\040b\\011c\\134d\\999";
	mountinfo_unescape(s);
	ck_assert_str_eq(s, "a b\tc\\d\\999");
}
END_TEST

/* ---- cgroups ---- */

static const char hybrid_mi[] =
    "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
    "42 31 0:35 /nested /mnt/mem\\040x rw - cgroup cgroup rw,memory\n";

START_TEST(cgroup_mapping)
{
	struct ctr *c = ctr_new(RT_RUNC);
	struct err e = {0};
	const char *cg = "12:cpu,cpuacct:/contain-test/x\n"
			 "6:freezer:/contain-test/x\n"
			 "1:name=systemd:/contain-test/x\n"
			 "4:memory:/nested/contain-test/x\n"
			 "3:blkio:/contain-test/x\n"
			 "0::/contain-test/x\n";
	ck_assert_int_eq(proc_map_cgroups(c, cg, hybrid_mi, &e), 0);
	ck_assert_uint_eq(c->ncgroups, 6);
	ck_assert_str_eq(c->cgroups[0].controllers, "cpu,cpuacct");
	ck_assert_str_eq(c->cgroups[0].fs_path, "/sys/fs/cgroup/cpu,cpuacct/contain-test/x");
	ck_assert_str_eq(c->cgroups[2].fs_path, "/sys/fs/cgroup/systemd/contain-test/x");
	ck_assert_str_eq(c->cgroups[3].fs_path, "/mnt/mem x/contain-test/x");
	ck_assert_ptr_null(c->cgroups[4].fs_path); /* blkio is not mounted */
	ck_assert_str_eq(c->cgroups[5].controllers, "");
	ck_assert_str_eq(c->cgroup_unified, "/sys/fs/cgroup/unified/contain-test/x");
	ck_assert_str_eq(c->cgroup_freezer, "/sys/fs/cgroup/freezer/contain-test/x");

	/* the root cgroup is never the container's own (freezing it would
	 * freeze the host): no unified path for "0::/" */
	ck_assert_int_eq(proc_map_cgroups(c, "6:freezer:/contain-test/y\n0::/\n", hybrid_mi, &e),
			 0);
	ck_assert_uint_eq(c->ncgroups, 2);
	ck_assert_ptr_null(c->cgroup_unified);
	ck_assert_str_eq(c->cgroup_freezer, "/sys/fs/cgroup/freezer/contain-test/y");
	ctr_free(c);
}
END_TEST

/* a pure cgroup2 host: cgroup2 at /sys/fs/cgroup, no v1 mount. The second
 * text is what this hybrid kernel still shows for the v1 hierarchies in a
 * mount namespace where only cgroup2 is mounted (t0800): never mapped. */
static const char pure_v2_mi[] =
    "25 1 0:22 / / rw - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n"
    "30 25 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

START_TEST(cgroup_mapping_pure_v2)
{
	struct ctr *c = ctr_new(RT_RUNC);
	struct err e = {0};
	ck_assert_int_eq(proc_map_cgroups(c, "0::/system.slice/docker-ab.scope\n", pure_v2_mi, &e),
			 0);
	ck_assert_uint_eq(c->ncgroups, 1);
	ck_assert_str_eq(c->cgroups[0].controllers, "");
	ck_assert_str_eq(c->cgroups[0].fs_path, "/sys/fs/cgroup/system.slice/docker-ab.scope");
	ck_assert_str_eq(c->cgroup_unified, "/sys/fs/cgroup/system.slice/docker-ab.scope");
	ck_assert_ptr_null(c->cgroup_freezer);

	const char *hybrid_kernel = "9:name=systemd:/\n"
				    "6:freezer:/\n"
				    "4:memory:/process_api/a1\n"
				    "0::/contain-test/x\n";
	ck_assert_int_eq(proc_map_cgroups(c, hybrid_kernel, pure_v2_mi, &e), 0);
	ck_assert_uint_eq(c->ncgroups, 4);
	for (size_t i = 0; i < 3; i++)
		ck_assert_ptr_null(c->cgroups[i].fs_path); /* no v1 mount here */
	ck_assert_str_eq(c->cgroup_unified, "/sys/fs/cgroup/contain-test/x");
	ck_assert_ptr_null(c->cgroup_freezer);

	/* contain in a cgroup namespace of its own sees the container outside
	 * it: no fs path is ever built through ".." */
	ck_assert_int_eq(proc_map_cgroups(c, "0::/../../kubepods/pod1/ab\n", pure_v2_mi, &e), 0);
	ck_assert_uint_eq(c->ncgroups, 1);
	ck_assert_ptr_null(c->cgroups[0].fs_path);
	ck_assert_ptr_null(c->cgroup_unified);

	/* the root is never the container's own, on a pure cgroup2 host too */
	ck_assert_int_eq(proc_map_cgroups(c, "0::/\n", pure_v2_mi, &e), 0);
	ck_assert_ptr_null(c->cgroup_unified);
	ctr_free(c);
}
END_TEST

/* a cgroup namespace of its own: the container's cgroup is its root */
static void ns_roots_is(const char *host, const char *ns, const char *want)
{
	char *r = proc_cgroup_ns_roots(host, ns);
	ck_assert_str_eq(r, want);
	free(r);
}

START_TEST(cgroup_ns_roots)
{
	/* systemd in the container moved itself into init.scope */
	ns_roots_is("0::/contain-test/x/init.scope\n", "0::/init.scope\n", "0::/contain-test/x\n");
	ns_roots_is("0::/system.slice/docker-ab.scope/init.scope\n", "0::/init.scope\n",
		    "0::/system.slice/docker-ab.scope\n");
	/* the init at the namespace's root: as it is */
	ns_roots_is("0::/contain-test/x\n", "0::/\n", "0::/contain-test/x\n");
	/* the namespace rooted at the host's root: as it is, never "" */
	ns_roots_is("0::/init.scope\n", "0::/init.scope\n", "0::/init.scope\n");
	/* moved out of its namespace (the kernel writes "/.."): as it is */
	ns_roots_is("0::/other/y\n", "0::/../other/y\n", "0::/other/y\n");
	/* views that do not agree: as it is */
	ns_roots_is("0::/a/b\n", "0::/c\n", "0::/a/b\n");
	ns_roots_is("0::/x/ainit.scope\n", "0::/init.scope\n", "0::/x/ainit.scope\n");
	/* a hostile ".." in a path is never climbed */
	ns_roots_is("0::/a/../b/c\n", "0::/c\n", "0::/a/../b/c\n");
	/* per hierarchy (hybrid): the freezer's root, a line the namespace
	 * does not show kept, the unified one at its root */
	ns_roots_is("6:freezer:/docker/ab/sub\n1:name=systemd:/docker/ab/init.scope\n0::/\n",
		    "6:freezer:/sub\n0::/\n",
		    "6:freezer:/docker/ab\n1:name=systemd:/docker/ab/init.scope\n0::/\n");
	/* the result maps like any /proc/PID/cgroup text */
	struct ctr *c = ctr_new(RT_RUNC);
	struct err e = {0};
	char *t = proc_cgroup_ns_roots("0::/contain-test/x/init.scope\n", "0::/init.scope\n");
	ck_assert_int_eq(proc_map_cgroups(c, t, pure_v2_mi, &e), 0);
	ck_assert_str_eq(c->cgroup_unified, "/sys/fs/cgroup/contain-test/x");
	free(t);
	ctr_free(c);
}
END_TEST

/* which container holds a pid: decided by the container's own cgroup,
 * never by a v1 hierarchy where it only shares its runtime's cgroup */
START_TEST(cgroup_holds)
{
	struct ctr *a = ctr_new(RT_RUNC);
	struct err e = {0};
	const char *init_a = "6:freezer:/\n4:memory:/runner/1\n0::/contain-test/a\n";
	ck_assert_int_eq(proc_map_cgroups(a, init_a, pure_v2_mi, &e), 0);
	ck_assert(ctr_cgroup_holds(a, "6:freezer:/\n4:memory:/runner/1\n0::/contain-test/a\n"));
	ck_assert(ctr_cgroup_holds(a, "4:memory:/runner/1\n0::/contain-test/a/svc\n"));
	/* another container started from the same runner: not a's */
	ck_assert(!ctr_cgroup_holds(a, "4:memory:/runner/1\n0::/contain-test/b/svc\n"));
	ck_assert(!ctr_cgroup_holds(a, "0::/contain-test/ab\n"));
	/* hybrid, v1 freezer only (no unified dir of its own) */
	ck_assert_int_eq(proc_map_cgroups(a,
					  "6:freezer:/contain-test/v\n4:memory:/runner/1\n0::/\n",
					  hybrid_mi, &e),
			 0);
	ck_assert_ptr_null(a->cgroup_unified);
	ck_assert(ctr_cgroup_holds(a, "6:freezer:/contain-test/v\n0::/\n"));
	ck_assert(!ctr_cgroup_holds(a, "6:freezer:/contain-test/w\n4:memory:/runner/1\n0::/\n"));
	ctr_free(a);
}
END_TEST

START_TEST(cgroup_ids)
{
	const char *id = "4b5e57f6eb2f42b9039b3d1e13929295f231749c510cbe341cd68036d9af97e2";
	char p[256];
	char *r;
	snprintf(p, sizeof(p), "/system.slice/docker-%s.scope", id);
	ck_assert_str_eq(r = cgroup_path_container_id(p), id);
	free(r);
	snprintf(p, sizeof(p), "/docker/%s", id);
	ck_assert_str_eq(r = cgroup_path_container_id(p), id);
	free(r);
	snprintf(p, sizeof(p), "/kubepods/besteffort/pod4f7b2c1e/crio-%s.scope", id);
	ck_assert_str_eq(r = cgroup_path_container_id(p), id);
	free(r);
	snprintf(p, sizeof(p), "/machine.slice/libpod-conmon-%s.scope", id);
	ck_assert_ptr_null(cgroup_path_container_id(p));
	snprintf(p, sizeof(p), "/x/%sa", id); /* 65 hex digits */
	ck_assert_ptr_null(cgroup_path_container_id(p));
	ck_assert_ptr_null(cgroup_path_container_id("/user.slice/session-1.scope"));
	ck_assert_ptr_null(cgroup_path_container_id("/"));
}
END_TEST

/* ---- runc ---- */

static void runc_state(const char *dir, const char *id, pid_t pid, unsigned long long start,
		       const char *extra)
{
	char p[512], body[2048];
	snprintf(p, sizeof(p), "%s/%s/state.json", dir, id);
	snprintf(body, sizeof(body),
		 "{\"id\":\"%s\",\"init_process_pid\":%d,\"init_process_start\":%llu,"
		 "\"created\":\"2026-01-02T03:04:05Z\",\"config\":{\"rootfs\":\"/b/%s/rootfs\","
		 "\"labels\":[\"bundle=/b/%s\",\"io.kubernetes.cri.container-name=app\","
		 "\"io.kubernetes.pod.name=pod-1\",\"io.kubernetes.pod.namespace=ns-1\"]}%s}",
		 id, (int)pid, start, id, id, extra ? extra : "");
	put(p, body);
}

START_TEST(runc_roots)
{
	mk_tmp();
	struct err e = {0};
	unsigned long long me;
	ck_assert_int_eq(proc_pid_starttime(getpid(), &me, &e), 0);
	char root[128], p[512], fz[256], body[512];
	snprintf(root, sizeof(root), "%s/runc", tmpl);
	runc_state(root, "good", getpid(), me, NULL);
	runc_state(root, "recycled", getpid(), me + 1, NULL); /* same pid, other process */
	runc_state(root, "created", getpid(), me, NULL);
	snprintf(p, sizeof(p), "%s/created/exec.fifo", root);
	put(p, "");
	/* a paused one: its freezer says FROZEN */
	snprintf(fz, sizeof(fz), "%s/cg/freezer/p", tmpl);
	snprintf(p, sizeof(p), "%s/freezer.state", fz);
	put(p, "FROZEN\n");
	snprintf(body, sizeof(body), ",\"cgroup_paths\":{\"freezer\":\"%s\"}", fz);
	runc_state(root, "paused", getpid(), me, body);
	/* corrupt ones: truncated, not an object, no id */
	snprintf(p, sizeof(p), "%s/truncated/state.json", root);
	put(p, "{\"id\":\"truncated\",\"init_process_pid\":1");
	snprintf(p, sizeof(p), "%s/array/state.json", root);
	put(p, "[1,2]");
	snprintf(p, sizeof(p), "%s/noid/state.json", root);
	put(p, "{\"init_process_pid\":0}");
	/* hostile: a symlinked state.json and a FIFO are never read */
	snprintf(p, sizeof(p), "%s/link", root);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/link/state.json", root);
	snprintf(body, sizeof(body), "%s/good/state.json", root);
	ck_assert_int_eq(symlink(body, p), 0);
	snprintf(p, sizeof(p), "%s/fifo", root);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/fifo/state.json", root);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	/* a namespace dir, as containerd's runc root has */
	snprintf(p, sizeof(p), "%s/moby", root);
	runc_state(p, "nsd", 0, 0, NULL);

	struct ctr_list l = {0};
	ck_assert_int_eq(rt_backend_runc.scan(root, &l, &e), 0);
	ck_assert_uint_eq(l.n, 5);
	struct ctr *c = find(&l, "good");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->status, "running");
	ck_assert_int_eq(c->pid, getpid());
	ck_assert_str_eq(c->bundle, "/b/good");
	ck_assert_str_eq(c->config_path, "/b/good/config.json");
	ck_assert_str_eq(c->rootfs, "/b/good/rootfs");
	ck_assert_str_eq(c->created, "2026-01-02T03:04:05Z");
	ck_assert_str_eq(c->state_root, root);
	ck_assert_str_eq(c->k8s_pod, "pod-1");
	ck_assert_str_eq(c->k8s_namespace, "ns-1");
	ck_assert_str_eq(c->k8s_container, "app");
	ck_assert_ptr_null(ctr_label(c, "bundle"));
	c = find(&l, "recycled");
	ck_assert_str_eq(c->status, "stopped");
	ck_assert_int_eq(c->pid, 0);
	ck_assert_str_eq(find(&l, "created")->status, "created");
	ck_assert_str_eq(find(&l, "paused")->status, "paused");
	c = find(&l, "nsd");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->namespace, "moby");
	ck_assert_str_eq(c->status, "stopped");
	ck_assert_ptr_null(find(&l, "truncated"));
	ck_assert_ptr_null(find(&l, "link"));
	ck_assert_ptr_null(find(&l, "fifo"));
	ctr_list_free(&l);

	/* a missing root is silently empty */
	snprintf(p, sizeof(p), "%s/none", tmpl);
	ck_assert_int_eq(rt_backend_runc.scan(p, &l, &e), 0);
	ck_assert_uint_eq(l.n, 0);
	rm_tmp();
}
END_TEST

/* ---- CRI-O ---- */

START_TEST(crio_fixture)
{
	const char *top = getenv("CONTAIN_TOP");
	char root[512];
	snprintf(root, sizeof(root), "%s/fixtures/crio/storage", top ? top : ".");
	struct ctr_list l = {0};
	struct err e = {0};
	ck_assert_int_eq(rt_backend_crio.scan(root, &l, &e), 0);
	ck_assert_uint_eq(l.n, 2); /* the podman container is not CRI-O's */
	struct ctr *c =
	    find(&l, "4b5e57f6eb2f42b9039b3d1e13929295f231749c510cbe341cd68036d9af97e2");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->runtime, RT_CRIO);
	ck_assert_str_eq(c->name, "web");
	ck_assert_str_eq(c->k8s_pod, "web-7d9c4b-x2x9z");
	ck_assert_str_eq(c->k8s_namespace, "shop");
	ck_assert_str_eq(c->k8s_container, "web");
	ck_assert_str_eq(c->image, "registry.example.com/shop/web:1.4");
	ck_assert(str_has_prefix(c->image_digest, "sha256:"));
	ck_assert(str_has_prefix(c->log_path, "/var/log/pods/shop_web-7d9c4b-x2x9z_"));
	ck_assert(str_has_suffix(c->rootfs, "/merged"));
	ck_assert(str_has_suffix(c->config_path, "/userdata/config.json"));
	ck_assert(str_has_suffix(c->state_path, "/userdata/state.json"));
	/* recorded as running with pid 4242, which is not that process here */
	ck_assert_str_eq(c->status, "stopped");
	ck_assert_int_eq(c->pid, 0);
	c = find(&l, "b7ad567477c83756aab9a542b2be04f77dbae25115d85f22070d74d8cc4779dc");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(ctr_label(c, "io.kubernetes.cri-o.ContainerType"), "sandbox");
	ck_assert_str_eq(c->k8s_pod, "web-7d9c4b-x2x9z");
	ctr_list_free(&l);

	/* corrupt config with CRI-O annotations: warned, skipped */
	mk_tmp();
	char p[256];
	snprintf(p, sizeof(p), "%s/overlay-containers/abc/userdata/config.json", tmpl);
	put(p, "{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"container\"");
	/* podman writes io.kubernetes.cri-o.Created and .TTY itself: not CRI-O's */
	snprintf(p, sizeof(p), "%s/overlay-containers/def/userdata/config.json", tmpl);
	put(p, "{\"annotations\":{\"io.kubernetes.cri-o.Created\":\"x\","
	       "\"io.kubernetes.cri-o.TTY\":\"false\"}}");
	/* a manager other than libpod decides for CRI-O */
	snprintf(p, sizeof(p), "%s/vfs-containers/123/userdata/config.json", tmpl);
	put(p, "{\"annotations\":{\"io.container.manager\":\"cri-o\","
	       "\"io.kubernetes.cri-o.TTY\":\"false\",\"io.kubernetes.pod.name\":\"p\"}}");
	ck_assert_int_eq(rt_backend_crio.scan(tmpl, &l, &e), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0]->id, "123");
	ck_assert_str_eq(l.v[0]->k8s_pod, "p");
	ck_assert_str_eq(l.v[0]->status, "stopped");
	ctr_list_free(&l);
	rm_tmp();
}
END_TEST

/* ---- dedup and resolution ---- */

static struct ctr *mk(enum rt_kind k, const char *id, const char *name)
{
	struct ctr *c = ctr_new(k);
	c->id = xstrdup(id);
	if (name)
		c->name = xstrdup(name);
	c->status = xstrdup("running");
	return c;
}

START_TEST(dedup)
{
	for (int order = 0; order < 2; order++) {
		struct ctr_list l = {0};
		struct ctr *r = mk(RT_RUNC, "abc123", "abc123");
		r->bundle = xstrdup("/run/containerd/io.containerd.runtime.v2.task/moby/abc123");
		r->pid = 77;
		ctr_add_label(r, "from", "runc");
		struct ctr *ctd = mk(RT_CONTAINERD, "abc123", NULL);
		ctd->namespace = xstrdup("moby");
		struct ctr *d = mk(RT_DOCKER, "abc123", "web");
		d->image = xstrdup("nginx:1");
		ctr_add_label(d, "from", "docker");
		if (order == 0) {
			ctr_list_add(&l, r);
			ctr_list_add(&l, ctd);
			ctr_list_add(&l, d);
		} else {
			ctr_list_add(&l, d);
			ctr_list_add(&l, r);
			ctr_list_add(&l, ctd);
		}
		ctr_list_add(&l, mk(RT_RUNC, "other", "other"));
		ctr_list_dedup(&l);
		ck_assert_uint_eq(l.n, 2);
		struct ctr *c = find(&l, "abc123");
		ck_assert_int_eq(c->runtime, RT_DOCKER);
		ck_assert_str_eq(c->name, "web");
		ck_assert_str_eq(c->image, "nginx:1");
		ck_assert_str_eq(c->namespace, "moby");
		ck_assert_int_eq(c->pid, 77);
		ck_assert(str_has_suffix(c->bundle, "/moby/abc123"));
		ck_assert_str_eq(ctr_label(c, "from"), "docker");
		ctr_list_free(&l);
	}
}
END_TEST

static void mklist(struct ctr_list *l)
{
	ctr_list_add(l, mk(RT_DOCKER, "aaaa1111", "web"));
	ctr_list_add(l, mk(RT_DOCKER, "aaaa2222", "db"));
	ctr_list_add(l, mk(RT_PODMAN, "bbbb3333", "cache"));
	ctr_list_add(l, mk(RT_CONTAINERD, "cccc4444", "dup"));
	ctr_list_add(l, mk(RT_PODMAN, "dddd5555", "dup"));
}

START_TEST(resolution)
{
	struct ctr_list l = {0};
	struct ctr *c = NULL;
	struct err e = {0};
	mklist(&l);
	ck_assert_int_eq(runtime_match(&l, "aaaa2222", &c, &e), 0);
	ck_assert_str_eq(c->name, "db");
	ck_assert_uint_eq(l.n, 4);
	ctr_free(c);
	ck_assert_int_eq(runtime_match(&l, "cache", &c, &e), 0);
	ck_assert_str_eq(c->id, "bbbb3333");
	ctr_free(c);
	ck_assert_int_eq(runtime_match(&l, "aa", &c, &e), 0); /* unique now */
	ck_assert_str_eq(c->id, "aaaa1111");
	ctr_free(c);
	ctr_list_free(&l);

	mklist(&l);
	ck_assert_int_eq(runtime_match(&l, "aaaa", &c, &e), -1);
	ck_assert_int_eq(e.kind, ERR_AMBIG);
	ck_assert_int_eq(err_exit_code(&e), EXIT_USAGE);
	ck_assert_ptr_nonnull(strstr(e.msg, "aaaa1111"));
	ck_assert_ptr_nonnull(strstr(e.msg, "aaaa2222"));
	ck_assert_ptr_nonnull(strstr(e.msg, "'web'"));
	ck_assert_int_eq(runtime_match(&l, "dup", &c, &e), -1);
	ck_assert_int_eq(e.kind, ERR_AMBIG);
	ck_assert_int_eq(runtime_match(&l, "zzz", &c, &e), -1);
	ck_assert_int_eq(e.kind, ERR_NOTFOUND);
	ck_assert_int_eq(err_exit_code(&e), EXIT_FOUND);
	ck_assert_str_eq(e.msg, "no container matches 'zzz'");
	ck_assert_int_eq(runtime_match(&l, "", &c, &e), -1);
	ck_assert_uint_eq(l.n, 5);
	ctr_list_free(&l);
}
END_TEST

/* ---- the whole path, with replaced roots ---- */

START_TEST(list_with_roots)
{
	mk_tmp();
	struct err e = {0};
	unsigned long long me;
	ck_assert_int_eq(proc_pid_starttime(getpid(), &me, &e), 0);
	char a[256], b[256], spec[300];
	snprintf(a, sizeof(a), "%s/a", tmpl);
	snprintf(b, sizeof(b), "%s/b", tmpl);
	runc_state(a, "self-ctr", getpid(), me, NULL);
	runc_state(b, "self-ctr", getpid(), me, NULL);
	runc_state(b, "gone-ctr", 0, 0, NULL);
	struct rt_roots roots = {0};
	snprintf(spec, sizeof(spec), "runc=%s", a);
	ck_assert_int_eq(rt_roots_add(&roots, spec, &e), 0);
	snprintf(spec, sizeof(spec), "runc=%s", b);
	ck_assert_int_eq(rt_roots_add(&roots, spec, &e), 0);
	snprintf(spec, sizeof(spec), "crio=%s/nothing", tmpl);
	ck_assert_int_eq(rt_roots_add(&roots, spec, &e), 0);
	ck_assert(roots.replace[RT_RUNC]);
	ck_assert_int_eq(rt_roots_add(&roots, "nope=/x", &e), -1);
	ck_assert_int_eq(rt_roots_add(&roots, "runc=rel", &e), -1);
	ck_assert_int_eq(rt_roots_add(&roots, "runc", &e), -1);

	struct ctr_list l = {0};
	ck_assert_int_eq(runtime_list(&roots, &l, &e), 0);
	ck_assert_uint_eq(l.n, 2); /* self-ctr once */
	struct ctr *c = find(&l, "self-ctr");
	ck_assert_int_eq(c->pid, getpid());
	ck_assert_uint_ge(c->npids, 1);
	ck_assert_uint_ge(c->ncgroups, 1);
	struct stat st;
	ck_assert_int_eq(stat("/proc/self/ns/net", &st), 0);
	ck_assert_uint_eq(c->netns_inode, st.st_ino);
	char want[64];
	snprintf(want, sizeof(want), "/proc/%d/root", (int)getpid());
	ck_assert_str_eq(c->rootfs, want);
	ck_assert_ptr_nonnull(c->rootfs_fstype);

	json_t *j = ctr_to_json(c);
	static const char *const keys[] = {
	    "runtime",	 "id",		"name",		  "status",
	    "namespace", "image",	"image_digest",	  "pid",
	    "pids",	 "cgroups",	"cgroup_unified", "cgroup_freezer",
	    "netns",	 "rootfs",	"rootfs_fstype",  "overlay",
	    "bundle",	 "config_path", "state_path",	  "state_root",
	    "log_path",	 "created",	"labels",	  "kubernetes",
	    NULL};
	for (int i = 0; keys[i]; i++)
		ck_assert_msg(json_object_get(j, keys[i]) != NULL, "key %s", keys[i]);
	ck_assert_str_eq(json_string_value(json_object_get(j, "runtime")), "runc");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(j, "kubernetes"), "pod")), "pod-1");
	json_decref(j);
	ctr_list_free(&l);

	/* a host pid: our own process is "in" self-ctr (it is its init) */
	struct ctr *r = NULL;
	char ref[32];
	snprintf(ref, sizeof(ref), "%d", (int)getpid());
	ck_assert_int_eq(runtime_resolve(&roots, ref, &r, &e), 0);
	ck_assert_str_eq(r->id, "self-ctr");
	ctr_free(r);
	ck_assert_int_eq(runtime_resolve(&roots, "gone", &r, &e), 0);
	ck_assert_str_eq(r->status, "stopped");
	ctr_free(r);
	ck_assert_int_eq(runtime_resolve(&roots, "-ctr", &r, &e), -1);
	ck_assert_int_eq(e.kind, ERR_NOTFOUND);
	rt_roots_free(&roots);
	rm_tmp();
}
END_TEST

START_TEST(json_hostile_strings)
{
	struct ctr *c = mk(RT_RUNC, "x", "bad\xff\xfename\x1b[31m");
	ctr_add_label(c, "k", "v\xc3");
	ctr_add_label(c, "bad\xffkey", "v");
	json_t *j = ctr_to_json(c);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_string_value(json_object_get(j, "name")),
			 "bad\\xff\\xfename\x1b[31m");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "labels"), "k")),
			 "v\\xc3");
	ck_assert_uint_eq(json_object_size(json_object_get(j, "labels")), 1);
	ck_assert(json_is_null(json_object_get(j, "overlay")));
	ck_assert(json_is_null(json_object_get(j, "kubernetes")));
	char *s = json_dumps(j, 0);
	ck_assert_ptr_nonnull(strcasestr(s, "\\u001b[31m")); /* escaped by jansson */
	free(s);
	json_decref(j);
	ctr_free(c);
}
END_TEST

/* the static backend table: one live backend for each of the five runtimes,
 * in rt_kind order, the same in this test binary as in contain */
START_TEST(backend_table)
{
	char names[128] = "";
	for (int k = 0; k < RT__COUNT; k++) {
		const struct rt_backend *b = rt_backend_for((enum rt_kind)k);
		ck_assert_msg(b != NULL, "no backend for kind %d", k);
		ck_assert_int_eq(b->kind, k);
		ck_assert_ptr_nonnull(b->scan);
		ck_assert_ptr_nonnull(b->default_roots);
		ck_assert_ptr_nonnull(b->default_roots[0]);
		/* the contract: a missing root is no error and adds nothing */
		struct ctr_list l = {0};
		struct err e = {0};
		ck_assert_int_eq(b->scan("/nonexistent/contain-test-root", &l, &e), 0);
		ck_assert_uint_eq(l.n, 0);
		ctr_list_free(&l);
		if (k)
			strcat(names, " ");
		strcat(names, rt_kind_name((enum rt_kind)k));
	}
	ck_assert_str_eq(names, "runc containerd docker podman crio");
	ck_assert_ptr_null(rt_backend_for(RT__COUNT));
	int below = -1;
	ck_assert_ptr_null(rt_backend_for((enum rt_kind)below));
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("runtime");
	TCase *t = tcase_create("runtime");
	tcase_add_test(t, mountinfo_overlay_escapes);
	tcase_add_test(t, mountinfo_not_overlay);
	tcase_add_test(t, cgroup_mapping);
	tcase_add_test(t, cgroup_mapping_pure_v2);
	tcase_add_test(t, cgroup_ns_roots);
	tcase_add_test(t, cgroup_holds);
	tcase_add_test(t, cgroup_ids);
	tcase_add_test(t, runc_roots);
	tcase_add_test(t, crio_fixture);
	tcase_add_test(t, dedup);
	tcase_add_test(t, resolution);
	tcase_add_test(t, list_with_roots);
	tcase_add_test(t, json_hostile_strings);
	tcase_add_test(t, backend_table);
	suite_add_tcase(s, t);
	return s;
}
