/* test_procs: the process collector on the test's own children: a huge
 * argv, bytes that are not UTF-8, a deleted executable, a listening socket,
 * a pid that is gone. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/evp.h>

#include "contain/collect.h"
#include "contain/util.h"
#include "unit.h"

static pid_t kids[8];
static size_t nkids;

static void reap(void)
{
	for (size_t i = 0; i < nkids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	nkids = 0;
}

/* fork+exec argv with stdin a pipe we never write: "sh -c 'read x'" blocks.
 * Returns once the child has exec'd (its exe link is no longer ours). */
static pid_t spawn(const char *path, char *const argv[])
{
	int in[2], sync[2];
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe2(sync, O_CLOEXEC), 0);
	pid_t p = fork();
	ck_assert_int_ge(p, 0);
	if (p == 0) {
		dup2(in[0], 0);
		close(in[1]);
		close(sync[0]);
		execv(path, argv);
		_exit(127);
	}
	close(in[0]);
	close(sync[1]);
	char c;
	ck_assert_int_eq(read(sync[0], &c, 1), 0); /* EOF at exec */
	close(sync[0]);
	kids[nkids++] = p;
	/* in[1] stays open (leaked on purpose) so read blocks */
	return p;
}

static json_t *one(pid_t pid, json_t *sockets, json_t *notes)
{
	struct collect_procs_opts o = {0};
	o.max_cmdline = 256 * 1024;
	o.max_exe_bytes = 512ull << 20;
	o.max_fds = 4096;
	o.max_threads = 4096;
	bool gone = true;
	json_t *p = collect_proc_one(pid, &o, sockets, notes, &gone);
	ck_assert_ptr_nonnull(p);
	ck_assert(!gone);
	return p;
}

static bool notes_match(json_t *notes, const char *needle)
{
	size_t i;
	json_t *n;
	json_array_foreach(notes, i, n) if (strstr(json_string_value(n), needle)) return true;
	return false;
}

START_TEST(huge_argv_is_cut_and_flagged)
{
	size_t big = 100 * 1024;
	char *a1 = xmalloc(big + 1), *a2 = xmalloc(big + 1), *a3 = xmalloc(big + 1);
	memset(a1, 'a', big), a1[big] = 0;
	memset(a2, 'b', big), a2[big] = 0;
	memset(a3, 'c', big), a3[big] = 0;
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)"read x", (char *)"sh", a1, a2, a3, NULL};
	pid_t p = spawn("/bin/sh", argv);
	json_t *notes = json_array();
	json_t *j = one(p, NULL, notes);
	json_t *cl = json_object_get(j, "cmdline");
	ck_assert(json_is_true(json_object_get(cl, "truncated")));
	ck_assert_int_eq(json_integer_value(json_object_get(cl, "size")), 256 * 1024);
	ck_assert_str_eq(json_string_value(json_object_get(cl, "encoding")), "utf-8");
	ck_assert(notes_match(notes, "cmdline cut at 262144"));
	json_t *list = json_object_get(cl, "list");
	ck_assert_str_eq(json_string_value(json_array_get(list, 0)), "sh");
	ck_assert_str_eq(json_string_value(json_array_get(list, 2)), "read x");
	json_decref(j);
	json_decref(notes);
	free(a1), free(a2), free(a3);
	reap();
}
END_TEST

START_TEST(invalid_utf8_arg_is_base64)
{
	char bad[] = "x\xff\xfe\xc3y";
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)"read x", bad, NULL};
	pid_t p = spawn("/bin/sh", argv);
	json_t *notes = json_array();
	json_t *j = one(p, NULL, notes);
	json_t *cl = json_object_get(j, "cmdline");
	ck_assert_str_eq(json_string_value(json_object_get(cl, "encoding")), "base64");
	ck_assert(!json_is_true(json_object_get(cl, "truncated")));
	ck_assert_ptr_null(json_object_get(cl, "list"));
	/* the exact bytes, NULs included */
	const char want[] = "sh\0-c\0read x\0x\xff\xfe\xc3y";
	char *b = base64_encode((const unsigned char *)want, sizeof(want));
	ck_assert_str_eq(json_string_value(json_object_get(cl, "data")), b);
	free(b);
	ck_assert(notes_match(notes, "not UTF-8"));
	/* and the whole object still dumps as JSON */
	char *s = json_dumps(j, 0);
	ck_assert_ptr_nonnull(s);
	free(s);
	json_decref(j);
	json_decref(notes);
	reap();
}
END_TEST

static void sha256_file(const char *path, char hex[65])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	char buf[65536];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(md, buf, (size_t)r);
	unsigned char d[32];
	EVP_DigestFinal_ex(md, d, NULL);
	EVP_MD_CTX_free(md);
	close(fd);
	hex_encode(d, 32, hex);
}

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	ck_assert(in >= 0 && out >= 0);
	char buf[65536];
	ssize_t r;
	while ((r = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write_all(out, buf, (size_t)r), 0);
	close(in);
	close(out);
}

START_TEST(deleted_exe_is_hashed_and_flagged)
{
	char dir[] = "/tmp/test_procs.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/sh-copy", dir);
	copy_file("/bin/sh", path);
	char want[65];
	sha256_file("/bin/sh", want);
	char *argv[] = {(char *)"sh-copy", (char *)"-c", (char *)"read x", NULL};
	pid_t p = spawn(path, argv);
	ck_assert_int_eq(unlink(path), 0);
	rmdir(dir);
	json_t *notes = json_array();
	json_t *j = one(p, NULL, notes);
	json_t *x = json_object_get(j, "exe");
	ck_assert(json_is_true(json_object_get(x, "deleted")));
	ck_assert(!json_is_true(json_object_get(x, "memfd")));
	ck_assert_str_eq(json_string_value(json_object_get(x, "sha256")), want);
	ck_assert(!json_is_true(json_object_get(x, "truncated")));
	ck_assert(str_has_suffix(json_string_value(json_object_get(x, "path")), "(deleted)"));
	json_decref(j);

	/* a bound below its size: hash of the prefix, flagged */
	struct collect_procs_opts o = {.max_cmdline = 4096, .max_exe_bytes = 1000,
				       .max_fds = 10, .max_threads = 10};
	bool gone;
	j = collect_proc_one(p, &o, NULL, notes, &gone);
	ck_assert_ptr_nonnull(j);
	x = json_object_get(j, "exe");
	ck_assert(json_is_true(json_object_get(x, "truncated")));
	ck_assert_int_eq(json_integer_value(json_object_get(x, "hashed_bytes")), 1000);
	ck_assert_str_ne(json_string_value(json_object_get(x, "sha256")), want);
	ck_assert(notes_match(notes, "hash covers the first 1000"));
	json_decref(j);
	json_decref(notes);
	reap();
}
END_TEST

START_TEST(memfd_exe_is_hashed_and_flagged)
{
	char want[65];
	sha256_file("/bin/sh", want);
	int sync[2];
	ck_assert_int_eq(pipe2(sync, O_CLOEXEC), 0);
	int in[2];
	ck_assert_int_eq(pipe(in), 0);
	pid_t p = fork();
	ck_assert_int_ge(p, 0);
	if (p == 0) {
		close(sync[0]);
		dup2(in[0], 0);
		close(in[1]);
		int m = memfd_create("implant", MFD_CLOEXEC);
		int src = open("/bin/sh", O_RDONLY | O_CLOEXEC);
		char buf[65536];
		ssize_t r;
		while ((r = read(src, buf, sizeof(buf))) > 0)
			if (write_all(m, buf, (size_t)r) < 0)
				_exit(1);
		char *argv[] = {(char *)"implant", (char *)"-c", (char *)"read x", NULL};
		extern char **environ;
		fexecve(m, argv, environ);
		_exit(127);
	}
	kids[nkids++] = p;
	close(in[0]);
	close(sync[1]);
	char c;
	ck_assert_int_eq(read(sync[0], &c, 1), 0);
	close(sync[0]);
	json_t *notes = json_array();
	json_t *j = one(p, NULL, notes);
	json_t *x = json_object_get(j, "exe");
	ck_assert(json_is_true(json_object_get(x, "memfd")));
	ck_assert(str_has_prefix(json_string_value(json_object_get(x, "path")), "/memfd:implant"));
	ck_assert_str_eq(json_string_value(json_object_get(x, "sha256")), want);
	json_decref(j);
	json_decref(notes);
	reap();
}
END_TEST

START_TEST(listening_socket_is_resolved)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s, 4), 0);
	socklen_t al = sizeof(a);
	getsockname(s, (struct sockaddr *)&a, &al);
	int port = ntohs(a.sin_port);
	pid_t p = fork();
	if (p == 0) {
		/* the child keeps the listener (its fd survives the fork) */
		pause();
		_exit(0);
	}
	kids[nkids++] = p;
	close(s);
	json_t *notes = json_array();
	json_t *socks = collect_net_sockets(p, notes);
	ck_assert_ptr_nonnull(socks);
	json_t *j = one(p, socks, notes);
	size_t i;
	json_t *f;
	bool found = false;
	json_array_foreach(json_object_get(j, "fds"), i, f)
	{
		json_t *sk = json_object_get(f, "socket");
		if (!sk)
			continue;
		ck_assert_str_eq(json_string_value(json_object_get(f, "type")), "socket");
		if (json_integer_value(json_object_get(sk, "lport")) == port) {
			ck_assert_str_eq(json_string_value(json_object_get(sk, "state")), "LISTEN");
			ck_assert_str_eq(json_string_value(json_object_get(sk, "local")), "127.0.0.1");
			ck_assert_str_eq(json_string_value(json_object_get(sk, "proto")), "tcp");
			found = true;
		}
	}
	ck_assert(found);
	/* the rest of the record */
	ck_assert_int_eq(json_integer_value(json_object_get(j, "ppid")), getpid());
	ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(j, "nspid"), 0)), p);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(j, "namespaces"), "net"));
	ck_assert_int_eq(json_array_size(json_object_get(j, "threads")), 1);
	const char *st = json_string_value(json_object_get(j, "start_time"));
	ck_assert(st && strlen(st) == 30 && st[29] == 'Z');
	json_decref(j);
	json_decref(socks);
	json_decref(notes);
	reap();
}
END_TEST

START_TEST(whole_collection_with_a_gone_pid)
{
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)"read x", NULL};
	pid_t p = spawn("/bin/sh", argv);
	/* a pid that existed and is gone */
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	pid_t pids[] = {getpid(), p, dead};
	struct ctr c = {0};
	c.id = (char *)"t";
	c.pid = getpid();
	c.pids = pids;
	c.npids = 3;
	struct err e = {0};
	json_t *r = NULL;
	ck_assert_int_eq(collect_procs(&c, NULL, &r, &e), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "collector")), "processes");
	ck_assert_int_eq(json_array_size(json_object_get(r, "pids")), 2);
	char want[64];
	snprintf(want, sizeof(want), "pid %d exited", (int)dead);
	ck_assert(notes_match(json_object_get(r, "notes"), want));
	/* the tree: p is our child, we are the root */
	json_t *roots = json_object_get(json_object_get(r, "tree"), "roots");
	ck_assert_int_eq(json_array_size(roots), 1);
	ck_assert_int_eq(json_integer_value(json_array_get(roots, 0)), getpid());
	json_t *me = json_array_get(json_object_get(r, "pids"), 0);
	ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(me, "children"), 0)), p);
	json_decref(r);

	struct ctr none = {0};
	ck_assert_int_eq(collect_procs(&none, NULL, &r, &e), -1);
	reap();
}
END_TEST

START_TEST(stat_and_caps_parsing)
{
	char comm[64], st;
	pid_t pp;
	unsigned long long start;
	struct err e = {0};
	const char line[] = "42 (a) (b) c) S 7 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
			    "123456 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0";
	ck_assert_int_eq(collect_parse_stat(line, strlen(line), comm, sizeof(comm), &st, &pp,
					    &start, &e),
			 0);
	ck_assert_str_eq(comm, "a) (b) c");
	ck_assert_int_eq(st, 'S');
	ck_assert_int_eq(pp, 7);
	ck_assert_uint_eq(start, 123456);
	ck_assert_int_eq(collect_parse_stat("42 (x S 7", 9, comm, sizeof(comm), &st, &pp, &start, &e),
			 -1);
	ck_assert_int_eq(collect_parse_stat("42 (x) S 7 1", 12, comm, sizeof(comm), &st, &pp, &start,
					    &e),
			 -1);

	json_t *c = collect_caps_decode((1ull << 0) | (1ull << 21) | (1ull << 40) | (1ull << 63));
	ck_assert_int_eq(json_array_size(c), 4);
	ck_assert_str_eq(json_string_value(json_array_get(c, 0)), "CAP_CHOWN");
	ck_assert_str_eq(json_string_value(json_array_get(c, 1)), "CAP_SYS_ADMIN");
	ck_assert_str_eq(json_string_value(json_array_get(c, 2)), "CAP_CHECKPOINT_RESTORE");
	ck_assert_str_eq(json_string_value(json_array_get(c, 3)), "cap_63");
	json_decref(c);

	json_t *t = collect_json_text("a\xffz\\", 4);
	ck_assert_str_eq(json_string_value(t), "a\\xffz\\x5c");
	json_decref(t);
	t = collect_json_text("\xc3\xa9", 2);
	ck_assert_str_eq(json_string_value(t), "\xc3\xa9");
	json_decref(t);
}
END_TEST

/* TracerPid: a child traced by us names our pid; untraced, 0 */
START_TEST(tracer_pid_is_recorded)
{
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)"read x", NULL};
	pid_t p = spawn("/bin/sh", argv);
	json_t *notes = json_array();
	json_t *j = one(p, NULL, notes);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "tracer_pid")), 0);
	ck_assert(json_is_integer(json_object_get(j, "tracer_pid")));
	json_decref(j);
	ck_assert_int_eq(ptrace(PTRACE_ATTACH, p, NULL, NULL), 0);
	int st;
	ck_assert_int_eq(waitpid(p, &st, __WALL), p);
	ck_assert(WIFSTOPPED(st));
	j = one(p, NULL, notes);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "tracer_pid")), getpid());
	json_decref(j);
	ck_assert_int_eq(ptrace(PTRACE_DETACH, p, NULL, NULL), 0);
	j = one(p, NULL, notes);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "tracer_pid")), 0);
	json_decref(j);
	json_decref(notes);
	reap();
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("procs");
	TCase *tc = tcase_create("procs");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, huge_argv_is_cut_and_flagged);
	tcase_add_test(tc, invalid_utf8_arg_is_base64);
	tcase_add_test(tc, deleted_exe_is_hashed_and_flagged);
	tcase_add_test(tc, memfd_exe_is_hashed_and_flagged);
	tcase_add_test(tc, listening_socket_is_resolved);
	tcase_add_test(tc, whole_collection_with_a_gone_pid);
	tcase_add_test(tc, stat_and_caps_parsing);
	tcase_add_test(tc, tracer_pid_is_recorded);
	suite_add_tcase(s, tc);
	return s;
}
