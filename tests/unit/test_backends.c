/* test_backends.c: the containerd, Docker and podman scanners against small
 * state trees written to a temp dir: a good container, corrupt JSON, a
 * truncated file, a dead pid, hostile files (FIFOs), for each runtime. */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../src/runtime/internal.h"
#include "contain/util.h"
#include "unit.h"

#define ID1 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID2 "2222222222222222222222222222222222222222222222222222222222222222"
#define ID3 "3333333333333333333333333333333333333333333333333333333333333333"
#define IMGID "683c87307687bb40beb20b03cdfa6a406826ec130fcf79cc0ce19bab73b05240"

static char root[64];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "%s", "/tmp/contain-ut-backends.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* write root/rel (parents made) */
static void put(const char *rel, const char *content)
{
	char *p = xasprintf("%s/%s", root, rel);
	char *dir = xstrdup(p);
	*strrchr(dir, '/') = '\0';
	struct err e = {0};
	ck_assert_int_eq(mkdir_p(dir, 0700, &e), 0);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, content, strlen(content)), 0);
	close(fd);
	free(dir);
	free(p);
}

static void putf(const char *rel, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(const char *rel, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	ck_assert_int_ge(vasprintf(&s, fmt, ap), 0);
	va_end(ap);
	put(rel, s);
	free(s);
}

static void fifo(const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	free(p);
}

/* a pid that existed a moment ago and is gone */
static pid_t dead_pid(void)
{
	pid_t p = fork();
	ck_assert_int_ge(p, 0);
	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	return p;
}

/* scan root/sub with b; stderr (the warnings) into *warn */
static struct ctr_list scan(const struct rt_backend *b, const char *sub, char **warn)
{
	struct ctr_list l = {0};
	char *dir = sub ? xasprintf("%s/%s", root, sub) : xstrdup(root);
	char tmpl[] = "/tmp/contain-ut-stderr.XXXXXX";
	int fd = mkstemp(tmpl);
	ck_assert_int_ge(fd, 0);
	unlink(tmpl);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	struct err e = {0};
	int r = b->scan(dir, &l, &e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ck_assert_int_eq(r, 0);
	size_t len;
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ck_assert_int_eq(read_fd_bounded(fd, 1 << 20, warn, &len, NULL, &e), 0);
	close(fd);
	free(dir);
	return l;
}

static struct ctr *find(struct ctr_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i]->id, id) == 0)
			return l->v[i];
	return NULL;
}

#define assert_warned(w, needle)                                                    \
	do {                                                                         \
		char *n_ = xasprintf("%s/%s", root, needle);                          \
		ck_assert_msg(strstr(w, n_) != NULL, "no warning naming '%s' in: %s", n_, w); \
		free(n_);                                                            \
	} while (0)

/* ---------------------------------------------------------------- containerd */

#define CTRD_TASK "io.containerd.runtime.v2.task/k8s.io/" ID1

static const char ctrd_config[] =
	"{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"annotations\":{"
	"\"io.kubernetes.cri.image-name\":\"docker.io/library/nginx:1.25\","
	"\"io.kubernetes.pod.name\":\"web-7f\",\"io.kubernetes.pod.namespace\":\"prod\","
	"\"io.kubernetes.cri.container-name\":\"nginx\"}}";

START_TEST(containerd_good)
{
	put(CTRD_TASK "/config.json", ctrd_config);
	putf(CTRD_TASK "/init.pid", "%d", (int)getpid());
	fifo(CTRD_TASK "/log"); /* really there: never opened */
	put(CTRD_TASK "/address", "unix:///run/containerd/s/abc");
	/* v1 layout and Docker's own containerd ("daemon/") too */
	put("io.containerd.runtime.v1.linux/default/old/config.json", "{\"ociVersion\":\"1.0.2\"}");
	put("daemon/io.containerd.runtime.v2.task/moby/" ID2 "/config.json", "{}");
	putf("daemon/io.containerd.runtime.v2.task/moby/" ID2 "/init.pid", "%d\n", (int)getpid());
	/* a dir without config.json: silently nothing */
	put("io.containerd.runtime.v2.task/default/half/address", "x");

	char *w = NULL;
	struct ctr_list l = scan(&rt_backend_containerd, NULL, &w);
	ck_assert_str_eq(w, "");
	ck_assert_uint_eq(l.n, 3);
	struct ctr *c = find(&l, ID1);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->runtime, RT_CONTAINERD);
	ck_assert_str_eq(c->namespace, "k8s.io");
	ck_assert_str_eq(c->name, ID1);
	ck_assert_str_eq(c->status, "running");
	ck_assert_int_eq(c->pid, getpid());
	ck_assert_str_eq(c->image, "docker.io/library/nginx:1.25");
	ck_assert_ptr_null(c->image_digest);
	ck_assert_str_eq(c->k8s_pod, "web-7f");
	ck_assert_str_eq(c->k8s_namespace, "prod");
	ck_assert_str_eq(c->k8s_container, "nginx");
	char *want = xasprintf("%s/" CTRD_TASK, root);
	ck_assert_str_eq(c->bundle, want);
	char *wantrf = xasprintf("%s/rootfs", want);
	ck_assert_str_eq(c->rootfs, wantrf);
	char *wantcfg = xasprintf("%s/config.json", want);
	ck_assert_str_eq(c->config_path, wantcfg);
	ck_assert_str_eq(c->state_root, root);
	ck_assert_ptr_nonnull(c->created);
	ck_assert_ptr_null(c->log_path);

	c = find(&l, "old");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->namespace, "default");
	ck_assert_str_eq(c->status, "created"); /* no init.pid */
	ck_assert_int_eq(c->pid, 0);
	c = find(&l, ID2);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->namespace, "moby");
	ck_assert_int_eq(c->pid, getpid());
	free(want), free(wantrf), free(wantcfg), free(w);
	ctr_list_free(&l);
}
END_TEST

START_TEST(containerd_bad)
{
	put(CTRD_TASK "/config.json", ctrd_config);
	putf(CTRD_TASK "/init.pid", "%d", (int)getpid());
	/* corrupt JSON */
	put("io.containerd.runtime.v2.task/default/corrupt/config.json", "{\"ociVersion\": 1.0.2,");
	/* truncated */
	put("io.containerd.runtime.v2.task/default/trunc/config.json",
	    "{\"ociVersion\":\"1.0.2\",\"annotations\":{\"a\":\"b");
	/* a dead pid */
	put("io.containerd.runtime.v2.task/default/dead/config.json", "{}");
	putf("io.containerd.runtime.v2.task/default/dead/init.pid", "%d", (int)dead_pid());
	/* not a pid, and a FIFO where init.pid should be (must not block) */
	put("io.containerd.runtime.v2.task/default/junk/config.json", "{}");
	put("io.containerd.runtime.v2.task/default/junk/init.pid", "12ab\n");
	put("io.containerd.runtime.v2.task/default/fifo/config.json", "{}");
	fifo("io.containerd.runtime.v2.task/default/fifo/init.pid");
	/* a FIFO for config.json */
	put("io.containerd.runtime.v2.task/default/fifocfg/address", "x");
	fifo("io.containerd.runtime.v2.task/default/fifocfg/config.json");

	char *w = NULL;
	struct ctr_list l = scan(&rt_backend_containerd, NULL, &w);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_ptr_nonnull(find(&l, ID1));
	assert_warned(w, "io.containerd.runtime.v2.task/default/corrupt/config.json");
	assert_warned(w, "io.containerd.runtime.v2.task/default/trunc/config.json");
	assert_warned(w, "io.containerd.runtime.v2.task/default/dead/init.pid");
	assert_warned(w, "io.containerd.runtime.v2.task/default/junk/init.pid");
	assert_warned(w, "io.containerd.runtime.v2.task/default/fifo/init.pid");
	assert_warned(w, "io.containerd.runtime.v2.task/default/fifocfg/config.json");
	ck_assert_ptr_null(strstr(w, ID1));
	free(w);
	ctr_list_free(&l);
}
END_TEST

START_TEST(missing_roots)
{
	char *w = NULL;
	struct ctr_list l = scan(&rt_backend_containerd, "nope", &w);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_str_eq(w, "");
	free(w);
	l = scan(&rt_backend_docker, "nope", &w);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_str_eq(w, "");
	free(w);
	l = scan(&rt_backend_podman, "nope", &w);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_str_eq(w, "");
	free(w);
}
END_TEST

/* ---------------------------------------------------------------- docker */

static void docker_put(const char *id, const char *name, bool running, int pid,
		       const char *started)
{
	char *rel = xasprintf("containers/%s/config.v2.json", id);
	putf(rel,
	     "{\"ID\":\"%s\",\"Name\":\"/%s\",\"Created\":\"2026-12-01T10:00:00.5Z\","
	     "\"Image\":\"sha256:" IMGID "\",\"LogPath\":\"%s/containers/%s/%s-json.log\","
	     "\"Config\":{\"Image\":\"nginx:1.25\",\"Labels\":{\"team\":\"blue\","
	     "\"io.kubernetes.pod.name\":\"p1\"}},"
	     "\"State\":{\"Running\":%s,\"Paused\":false,\"Pid\":%d,\"StartedAt\":\"%s\"}}",
	     id, name, root, id, id, running ? "true" : "false", pid, started);
	free(rel);
	rel = xasprintf("containers/%s/hostconfig.json", id);
	put(rel, "{\"LogConfig\":{\"Type\":\"json-file\",\"Config\":{}},\"NetworkMode\":\"default\"}");
	free(rel);
}

START_TEST(docker_good)
{
	docker_put(ID1, "web", true, (int)getpid(), "2026-12-01T10:00:01Z");
	docker_put(ID2, "old", false, 0, "2026-12-01T10:00:01Z");
	docker_put(ID3, "new", false, 0, "0001-01-01T00:00:00Z");
	/* a "local" log driver, no LogPath */
	put("containers/" ID3 "/hostconfig.json", "{\"LogConfig\":{\"Type\":\"local\"}}");
	put("containers/" ID3 "/local-logs/container.log", "x");
	put("containers/not-an-id/config.v2.json", "{}");

	char *w = NULL;
	struct ctr_list l = scan(&rt_backend_docker, NULL, &w);
	ck_assert_str_eq(w, "");
	ck_assert_uint_eq(l.n, 3);
	struct ctr *c = find(&l, ID1);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->runtime, RT_DOCKER);
	ck_assert_str_eq(c->name, "web");
	ck_assert_str_eq(c->image, "nginx:1.25");
	ck_assert_str_eq(c->image_digest, "sha256:" IMGID);
	ck_assert_str_eq(c->status, "running");
	ck_assert_int_eq(c->pid, getpid());
	ck_assert_str_eq(c->created, "2026-12-01T10:00:00.5Z");
	char *lp = xasprintf("%s/containers/" ID1 "/" ID1 "-json.log", root);
	ck_assert_str_eq(c->log_path, lp);
	ck_assert_str_eq(ctr_label(c, "team"), "blue");
	ck_assert_str_eq(c->k8s_pod, "p1");
	ck_assert_ptr_null(c->config_path); /* the OCI spec is containerd's, merged later */
	ck_assert_ptr_null(c->namespace);
	c = find(&l, ID2);
	ck_assert_str_eq(c->status, "stopped");
	ck_assert_int_eq(c->pid, 0);
	c = find(&l, ID3);
	ck_assert_str_eq(c->status, "created");
	char *lp3 = xasprintf("%s/containers/" ID3 "/local-logs/container.log", root);
	ck_assert_str_eq(c->log_path, lp3);
	free(lp), free(lp3), free(w);
	ctr_list_free(&l);
}
END_TEST

START_TEST(docker_exec_root)
{
	put("containerd/daemon/io.containerd.runtime.v2.task/moby/" ID1 "/config.json",
	    "{\"root\":{\"path\":\"/x/merged\"}}");
	putf("containerd/daemon/io.containerd.runtime.v2.task/moby/" ID1 "/init.pid", "%d",
	     (int)getpid());
	put("containerd/daemon/io.containerd.runtime.v2.task/other/" ID2 "/config.json", "{}");
	char *w = NULL;
	struct ctr_list l = scan(&rt_backend_docker, NULL, &w);
	ck_assert_str_eq(w, "");
	ck_assert_uint_eq(l.n, 1);
	struct ctr *c = l.v[0];
	ck_assert_int_eq(c->runtime, RT_DOCKER);
	ck_assert_str_eq(c->id, ID1);
	ck_assert_int_eq(c->pid, getpid());
	ck_assert_str_eq(c->rootfs, "/x/merged");
	ck_assert_ptr_null(c->namespace);
	ck_assert_str_eq(c->state_root, root);
	free(w);
	ctr_list_free(&l);
}
END_TEST

START_TEST(docker_bad)
{
	docker_put(ID1, "web", true, (int)getpid(), "2026-12-01T10:00:01Z");
	/* corrupt JSON */
	put("containers/" ID2 "/config.v2.json", "{\"ID\": \"" ID2 "\", \"Name\": /x}");
	/* truncated */
	put("containers/aaaa/config.v2.json", "{\"ID\":\"aaaa\",\"State\":{\"Running\":tr");
	/* a dead pid while "Running" */
	docker_put(ID3, "gone", true, (int)dead_pid(), "2026-12-01T10:00:01Z");
	/* an id that is not its directory's */
	put("containers/bbbb/config.v2.json", "{\"ID\":\"cccc\",\"State\":{}}");
	/* a FIFO for hostconfig.json */
	put("containers/dddd/config.v2.json", "{\"ID\":\"dddd\",\"State\":{\"Running\":false}}");
	fifo("containers/dddd/hostconfig.json");

	char *w = NULL;
	struct ctr_list l = scan(&rt_backend_docker, NULL, &w);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_ptr_nonnull(find(&l, ID1));
	assert_warned(w, "containers/" ID2 "/config.v2.json");
	assert_warned(w, "containers/aaaa/config.v2.json");
	assert_warned(w, "containers/" ID3 "/config.v2.json");
	ck_assert_ptr_nonnull(strstr(w, "no longer exists"));
	assert_warned(w, "containers/bbbb/config.v2.json");
	assert_warned(w, "containers/dddd/hostconfig.json");
	free(w);
	ctr_list_free(&l);
}
END_TEST

/* ---------------------------------------------------------------- podman */

static void podman_userdata(const char *id, const char *extra_ann)
{
	char *rel = xasprintf("graph/overlay-containers/%s/userdata/config.json", id);
	putf(rel,
	     "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"%s/graph/overlay/x/merged\"},"
	     "\"annotations\":{\"io.container.manager\":\"libpod\","
	     "\"io.kubernetes.cri-o.Created\":\"2026-12-01T10:00:00Z\","
	     "\"io.kubernetes.cri-o.TTY\":\"false\",\"io.podman.annotations.init\":\"FALSE\"%s},"
	     "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	     "{\"destination\":\"/etc/hostname\",\"type\":\"bind\","
	     "\"source\":\"%s/run/overlay-containers/%s/userdata/hostname\"}]}",
	     root, extra_ann, root, id);
	free(rel);
}

static void podman_containers_json(void)
{
	put("graph/overlay-containers/containers.json",
	    "[{\"id\":\"" ID1 "\",\"names\":[\"web\"],\"image\":\"" IMGID "\",\"layer\":\"l1\","
	    "\"metadata\":\"{\\\"image-name\\\":\\\"localhost/app:1\\\",\\\"name\\\":\\\"web\\\"}\","
	    "\"created\":\"2026-12-01T10:00:00.1Z\"},"
	    "{\"id\":\"" ID2 "\",\"names\":[\"stopped\"],\"image\":\"" IMGID "\",\"metadata\":\"{}\"},"
	    "{\"id\":\"" ID3 "\",\"names\":[\"k8s_crio\"],\"image\":\"" IMGID "\","
	    "\"metadata\":\"{\\\"pod-name\\\":\\\"p\\\",\\\"pod-id\\\":\\\"abc\\\"}\"}]");
}

START_TEST(podman_good)
{
	podman_containers_json();
	podman_userdata(ID1, "");
	put("graph/overlay-containers/" ID1 "/userdata/ctr.log", "");
	fifo("graph/overlay-containers/" ID1 "/userdata/ctl");
	putf("run/overlay-containers/" ID1 "/userdata/pidfile", "%d", (int)getpid());
	put("run/overlay-containers/" ID1 "/userdata/conmon.pid", "1");
	/* stopped: podman leaves the pidfile with the old pid */
	podman_userdata(ID2, "");
	putf("run/overlay-containers/" ID2 "/userdata/pidfile", "%d", (int)dead_pid());

	char *w = NULL;
	struct ctr_list l = scan(&rt_backend_podman, "graph", &w);
	ck_assert_str_eq(w, "");
	ck_assert_uint_eq(l.n, 2); /* the CRI-O one (pod-id in its metadata) is not podman's */
	struct ctr *c = find(&l, ID1);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->runtime, RT_PODMAN);
	ck_assert_str_eq(c->name, "web");
	ck_assert_str_eq(c->image, "localhost/app:1");
	ck_assert_str_eq(c->image_digest, "sha256:" IMGID);
	ck_assert_str_eq(c->created, "2026-12-01T10:00:00.1Z");
	ck_assert_str_eq(c->status, "running");
	ck_assert_int_eq(c->pid, getpid());
	ck_assert_str_eq(ctr_label(c, "io.podman.annotations.init"), "FALSE");
	char *lp = xasprintf("%s/graph/overlay-containers/" ID1 "/userdata/ctr.log", root);
	ck_assert_str_eq(c->log_path, lp);
	char *rf = xasprintf("%s/graph/overlay/x/merged", root);
	ck_assert_str_eq(c->rootfs, rf);
	char *pf = xasprintf("%s/run/overlay-containers/" ID1 "/userdata/pidfile", root);
	ck_assert_str_eq(c->state_path, pf);
	ck_assert_ptr_null(c->k8s_pod);
	c = find(&l, ID2);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->status, "stopped");
	ck_assert_int_eq(c->pid, 0);
	free(lp), free(rf), free(pf), free(w);
	ctr_list_free(&l);

	/* the run root alone: id and pid */
	l = scan(&rt_backend_podman, "run", &w);
	ck_assert_str_eq(w, "");
	ck_assert_uint_eq(l.n, 2);
	c = find(&l, ID1);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->pid, getpid());
	ck_assert_str_eq(c->status, "running");
	free(w);
	ctr_list_free(&l);
}
END_TEST

START_TEST(podman_crio_skipped)
{
	put("graph/overlay-containers/containers.json",
	    "[{\"id\":\"" ID1 "\",\"names\":[\"x\"],\"metadata\":\"{}\"}]");
	char *rel = xasprintf("graph/overlay-containers/%s/userdata/config.json", ID1);
	put(rel, "{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"container\","
		 "\"io.kubernetes.cri-o.SandboxID\":\"abc\"}}");
	free(rel);
	/* CRI-O's bundle in the run root */
	put("run/overlay-containers/" ID2 "/userdata/config.json",
	    "{\"annotations\":{\"io.container.manager\":\"cri-o\"}}");
	putf("run/overlay-containers/" ID2 "/userdata/pidfile", "%d", (int)getpid());
	char *w = NULL;
	struct ctr_list l = scan(&rt_backend_podman, "graph", &w);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_str_eq(w, "");
	free(w);
	l = scan(&rt_backend_podman, "run", &w);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_str_eq(w, "");
	free(w);
}
END_TEST

START_TEST(podman_bad)
{
	/* a corrupt containers.json: warned, none of it listed */
	put("g1/overlay-containers/containers.json", "[{\"id\": \"" ID1 "\", \"names\": [\"web\"");
	char *w = NULL;
	struct ctr_list l = scan(&rt_backend_podman, "g1", &w);
	ck_assert_uint_eq(l.n, 0);
	assert_warned(w, "g1/overlay-containers/containers.json");
	free(w);

	/* a truncated config.json, a pidfile that is no pid, a FIFO pidfile:
	 * those skipped and warned about; the good one listed */
	podman_containers_json();
	podman_userdata(ID1, "");
	putf("run/overlay-containers/" ID1 "/userdata/pidfile", "%d", (int)getpid());
	put("graph/overlay-containers/" ID2 "/userdata/config.json",
	    "{\"ociVersion\":\"1.0.2\",\"annotations\":{\"io.container.manager\":\"lib");
	put("run/overlay-containers/" ID3 "/userdata/pidfile", "pid\n");
	put("run/overlay-containers/4444/userdata/pidfile", "");
	fifo("run/overlay-containers/4444/userdata/pidfile.fifo");
	put("run/overlay-containers/5555/userdata/.keep", "");
	fifo("run/overlay-containers/5555/userdata/pidfile");
	l = scan(&rt_backend_podman, "graph", &w);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_ptr_nonnull(find(&l, ID1));
	assert_warned(w, "graph/overlay-containers/" ID2 "/userdata/config.json");
	free(w);
	ctr_list_free(&l);

	l = scan(&rt_backend_podman, "run", &w);
	assert_warned(w, "run/overlay-containers/" ID3 "/userdata/pidfile");
	ck_assert_ptr_null(find(&l, ID3));
	ck_assert_ptr_nonnull(find(&l, ID1));
	ck_assert_ptr_null(find(&l, "5555")); /* a FIFO pidfile is no pidfile */
	struct ctr *c = find(&l, "4444");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->pid, 0); /* empty: created, not started */
	free(w);
	ctr_list_free(&l);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("backends");
	TCase *tc = tcase_create("scan");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, containerd_good);
	tcase_add_test(tc, containerd_bad);
	tcase_add_test(tc, missing_roots);
	tcase_add_test(tc, docker_good);
	tcase_add_test(tc, docker_exec_root);
	tcase_add_test(tc, docker_bad);
	tcase_add_test(tc, podman_good);
	tcase_add_test(tc, podman_crio_skipped);
	tcase_add_test(tc, podman_bad);
	suite_add_tcase(s, tc);
	return s;
}
