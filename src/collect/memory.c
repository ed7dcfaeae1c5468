/* memory.c: the live half of the memory collector. A helper process (the
 * "agent", forked per process taken) is the ptrace tracer and the memory
 * reader: whatever it hangs on (a thread that never stops, a FUSE or
 * userfaultfd page), it can be SIGKILLed, and its death detaches every
 * thread it still holds. It shares two chunk buffers and the thread
 * states with us through a MAP_SHARED mapping and takes orders over a
 * SOCK_SEQPACKET pair; it only makes system calls (it may be forked from a
 * threaded program). While we write one chunk it reads the next. */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

#include "contain/memory.h"
#include "contain/runtime.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

#define CHUNK (4u << 20)
#define CHUNK_PAGES (CHUNK / MEM_PAGE)
#define XSTATE_MAX 16384
#define MAX_THREADS 65536
#define MAX_TIMEOUTS 3
#define LIST_MAX 256 /* entries of each JSON list */

/* ---- the agent ---- */

enum { AG_T_NONE = 0, AG_T_STOPPED, AG_T_GONE, AG_T_FAILED };

struct ag_thread {
	pid_t tid;
	int state;
	int err;
	int seized;
	int stopsig, event;
	int have_regs, have_fp, have_si;
	struct user_regs_struct regs;
	struct user_fpregs_struct fp;
	siginfo_t si;
	uint32_t xlen;
	unsigned char xstate[XSTATE_MAX];
};

struct ag_slot {
	uint64_t addr, len;
	int32_t err;
	uint32_t nfail;
	uint8_t fail[CHUNK_PAGES / 8];
	uint8_t zero[CHUNK_PAGES / 8]; /* all-zero pages, found by the agent while hot */
};

struct ag_shm {
	struct ag_slot slot[2];
	pid_t pid;
	int memfd;
	uint32_t stop_timeout_ms;
	uint32_t nthreads, cap;
	struct ag_thread th[];
};

enum { OP_ATTACH = 1, OP_READ, OP_DETACH, OP_QUIT };

struct ag_msg {
	uint32_t op, slot;
	uint32_t first, count;
	uint64_t addr, len;
};

struct ag_resp {
	uint32_t op, slot;
	int32_t err;
};

struct agent {
	pid_t child;
	int sock;
	void *map; /* the thread states (sh) */
	size_t mapsz;
	void *dmap; /* the two chunk buffers: the cached pair (dcached) or a pair of its own */
	bool dcached;
	unsigned char *data[2];
	struct ag_shm *sh;
};

/* The chunk buffers (2 x CHUNK, shared with the agent) are kept from one
 * process to the next: the agents are sequential, each dead (SIGKILLed and
 * reaped) before its buffers are reused, and fresh buffers for every
 * process would cost a page fault for each page on first touch (costly in
 * a VM). A second collector running at once gets a pair of its own. */
static void *data_cache;
static int data_cache_busy;

static double now_ms(void)
{
	return time_mono() * 1000.0;
}

static void nap_us(long us)
{
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
}

static bool page_zero(const unsigned char *p)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;
	if (w[0] | w[MEM_PAGE / 8 - 1])
		return false;
	uint64_t acc = 0;
	for (size_t i = 0; i < MEM_PAGE / 8; i += 8) {
		acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] |
		       w[i + 7];
		if (acc)
			return false;
	}
	return true;
}

static void ag_get_regs(struct ag_thread *t)
{
	struct iovec gp = {&t->regs, sizeof(t->regs)};
	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_PRSTATUS, &gp) == 0 &&
	    gp.iov_len == sizeof(t->regs))
		t->have_regs = 1;
	struct iovec fp = {&t->fp, sizeof(t->fp)};
	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_PRFPREG, &fp) == 0 &&
	    fp.iov_len == sizeof(t->fp))
		t->have_fp = 1;
	struct iovec iov = {t->xstate, sizeof(t->xstate)};
	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_X86_XSTATE, &iov) == 0)
		t->xlen = (uint32_t)iov.iov_len;
	/* a signal-delivery-stop: the signal is evidence, and is given back at detach */
	if (t->event == 0 && ptrace(PTRACE_GETSIGINFO, t->tid, 0, &t->si) == 0)
		t->have_si = 1;
}

static void ag_attach(struct ag_shm *sh, uint32_t first, uint32_t count)
{
	uint32_t end = first + count;
	if (end > sh->nthreads)
		end = sh->nthreads;
	for (uint32_t i = first; i < end; i++) {
		struct ag_thread *t = &sh->th[i];
		if (ptrace(PTRACE_SEIZE, t->tid, 0, 0) < 0) {
			t->state = errno == ESRCH ? AG_T_GONE : AG_T_FAILED;
			t->err = errno;
			continue;
		}
		t->seized = 1;
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0) {
			t->state = errno == ESRCH ? AG_T_GONE : AG_T_FAILED;
			t->err = errno;
		}
	}
	double deadline = now_ms() + sh->stop_timeout_ms;
	long nap = 50;
	for (;;) {
		int pending = 0;
		for (uint32_t i = first; i < end; i++) {
			struct ag_thread *t = &sh->th[i];
			if (!t->seized || t->state != AG_T_NONE)
				continue;
			int st;
			pid_t r = waitpid(t->tid, &st, __WALL | WNOHANG);
			if (r == t->tid && WIFSTOPPED(st)) {
				t->state = AG_T_STOPPED;
				t->stopsig = WSTOPSIG(st);
				t->event = (st >> 16) & 0xff;
				ag_get_regs(t);
			} else if (r == t->tid || (r < 0 && errno == ECHILD)) {
				t->state = AG_T_GONE;
				t->err = ESRCH;
			} else {
				pending++;
			}
		}
		if (!pending)
			break;
		if (now_ms() > deadline) {
			for (uint32_t i = first; i < end; i++)
				if (sh->th[i].seized && sh->th[i].state == AG_T_NONE) {
					sh->th[i].state = AG_T_FAILED;
					sh->th[i].err = ETIMEDOUT;
				}
			break;
		}
		nap_us(nap);
		if (nap < 2000)
			nap *= 2;
	}
}

static void ag_detach(struct ag_shm *sh)
{
	for (uint32_t i = 0; i < sh->nthreads; i++) {
		struct ag_thread *t = &sh->th[i];
		if (t->state != AG_T_STOPPED)
			continue;
		/* give back a signal it was about to get (signal-delivery-stop) */
		long sig = (t->event == 0 && t->stopsig != SIGTRAP) ? t->stopsig : 0;
		ptrace(PTRACE_DETACH, t->tid, 0, (void *)sig);
		t->seized = 0;
	}
}

static ssize_t ag_readmem(struct ag_shm *sh, bool *use_mem, void *dst, uint64_t addr, size_t len)
{
	for (;;) {
		ssize_t n;
		if (*use_mem) {
			n = pread(sh->memfd, dst, len, (off_t)addr);
		} else {
			struct iovec l = {dst, len}, r = {(void *)(uintptr_t)addr, len};
			n = process_vm_readv(sh->pid, &l, 1, &r, 1, 0);
			if (n < 0 && (errno == ENOSYS || errno == EPERM) && sh->memfd >= 0) {
				*use_mem = true;
				continue;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}

/* the zero pages of [*done, upto) (pages of the slot), not failed ones */
static void ag_scan_zero(struct ag_slot *s, const unsigned char *data, uint64_t *done,
			 uint64_t upto)
{
	for (uint64_t p = *done; p < upto; p++)
		if (!(s->fail[p / 8] & (1u << (p % 8))) && page_zero(data + p * MEM_PAGE))
			s->zero[p / 8] |= (uint8_t)(1u << (p % 8));
	if (upto > *done)
		*done = upto;
}

/* Read in pieces of ZSCAN bytes, each scanned for zero pages right after
 * it is read, while it is still in the cache (a scan of the whole chunk
 * afterwards missed the cache on every page). */
#define ZSCAN (256u << 10)
static void ag_read(struct ag_shm *sh, unsigned char *data, struct ag_slot *s, bool *use_mem)
{
	memset(s->fail, 0, sizeof(s->fail));
	memset(s->zero, 0, sizeof(s->zero));
	s->nfail = 0;
	s->err = 0;
	uint64_t len = s->len, off = 0, scanned = 0;
	while (off < len) {
		uint64_t want = len - off, room = ZSCAN - off % ZSCAN;
		if (want > room)
			want = room;
		ssize_t n = ag_readmem(sh, use_mem, data + off, s->addr + off, (size_t)want);
		if (n > 0) {
			off += (uint64_t)n;
			ag_scan_zero(s, data, &scanned, off / MEM_PAGE);
			continue;
		}
		int err = n < 0 ? errno : EIO;
		uint64_t pg = off / MEM_PAGE;
		uint64_t stop = (err == ESRCH) ? len / MEM_PAGE : pg + 1;
		if (err == ESRCH)
			s->err = ESRCH;
		for (uint64_t p = pg; p < stop; p++) {
			memset(data + p * MEM_PAGE, 0, MEM_PAGE);
			s->fail[p / 8] |= (uint8_t)(1u << (p % 8));
			s->nfail++;
		}
		off = stop * MEM_PAGE;
		ag_scan_zero(s, data, &scanned, stop);
	}
}

/* A forked child gets no page-table entries for a shared mapping: each
 * first touch of a chunk buffer would fault (a trap per page in a VM).
 * One call maps the part of the slot a read needs, growing with the
 * reads: a small process maps what its largest chunk needs, not the
 * 2048 pages of both buffers. Where the call is refused (before Linux
 * 5.14) the pages fault in as they are used. */
static void ag_map(unsigned char *data, uint64_t *mapped, uint64_t len)
{
	if (len <= *mapped)
		return;
	madvise(data + *mapped, (size_t)(len - *mapped), MADV_POPULATE_WRITE);
	*mapped = len;
}

__attribute__((noreturn)) static void agent_main(struct agent *a, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	struct ag_shm *sh = a->sh;
	bool use_mem = false;
	uint64_t mapped[2] = {0, 0};
	for (;;) {
		struct ag_msg m;
		ssize_t n = recv(a->sock, &m, sizeof(m), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(m))
			break;
		struct ag_resp r = {m.op, m.slot, 0};
		switch (m.op) {
		case OP_ATTACH:
			ag_attach(sh, m.first, m.count);
			break;
		case OP_READ:
			if (m.slot > 1 || m.len > CHUNK || m.len % MEM_PAGE) {
				r.err = EINVAL;
				break;
			}
			sh->slot[m.slot].addr = m.addr;
			sh->slot[m.slot].len = m.len;
			ag_map(a->data[m.slot], &mapped[m.slot], m.len);
			ag_read(sh, a->data[m.slot], &sh->slot[m.slot], &use_mem);
			r.err = sh->slot[m.slot].err;
			break;
		case OP_DETACH:
			ag_detach(sh);
			break;
		case OP_QUIT:
			ag_detach(sh);
			_exit(0);
		default:
			r.err = EINVAL;
		}
		if (send(a->sock, &r, sizeof(r), MSG_NOSIGNAL) != (ssize_t)sizeof(r))
			break;
	}
	ag_detach(sh);
	_exit(0);
}

static int agent_alloc(struct agent *a, pid_t pid, uint32_t cap, int memfd, unsigned stop_ms,
		       struct err *e)
{
	memset(a, 0, sizeof(*a));
	a->child = -1;
	a->sock = -1;
	size_t hdr = sizeof(struct ag_shm) + (size_t)cap * sizeof(struct ag_thread);
	a->mapsz = (hdr + MEM_PAGE - 1) / MEM_PAGE * MEM_PAGE;
	a->map = mmap(NULL, a->mapsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a->map == MAP_FAILED) {
		a->map = NULL;
		return err_sys(e, errno, "mmap %zu bytes", a->mapsz);
	}
	if (!__atomic_exchange_n(&data_cache_busy, 1, __ATOMIC_ACQUIRE)) {
		if (!data_cache) {
			void *m = mmap(NULL, 2 * (size_t)CHUNK, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			data_cache = m == MAP_FAILED ? NULL : m;
		}
		if (data_cache) {
			a->dmap = data_cache;
			a->dcached = true;
		} else {
			__atomic_store_n(&data_cache_busy, 0, __ATOMIC_RELEASE);
		}
	}
	if (!a->dmap) {
		void *m = mmap(NULL, 2 * (size_t)CHUNK, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			int err = errno;
			munmap(a->map, a->mapsz);
			a->map = NULL;
			return err_sys(e, err, "mmap %zu bytes", 2 * (size_t)CHUNK);
		}
		a->dmap = m;
	}
	a->data[0] = a->dmap;
	a->data[1] = (unsigned char *)a->dmap + CHUNK;
	a->sh = (struct ag_shm *)a->map;
	a->sh->pid = pid;
	a->sh->memfd = memfd;
	a->sh->cap = cap;
	a->sh->stop_timeout_ms = stop_ms;
	return 0;
}

static int agent_spawn(struct agent *a, struct err *e)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_sys(e, errno, "socketpair");
	pid_t parent = getpid();
	pid_t c = fork();
	if (c < 0) {
		int saved = errno;
		close(sv[0]);
		close(sv[1]);
		return err_sys(e, saved, "fork");
	}
	if (c == 0) {
		close(sv[0]);
		a->sock = sv[1];
		agent_main(a, parent);
	}
	close(sv[1]);
	a->sock = sv[0];
	a->child = c;
	return 0;
}

static void agent_kill(struct agent *a)
{
	if (a->child > 0) {
		kill(a->child, SIGKILL);
		while (waitpid(a->child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	a->child = -1;
	if (a->sock >= 0)
		close(a->sock);
	a->sock = -1;
}

static int agent_send(struct agent *a, const struct ag_msg *m, struct err *e)
{
	if (a->child <= 0)
		return err_set(e, ERR_WRONGSTATE, "memory reader not running");
	if (send(a->sock, m, sizeof(*m), MSG_NOSIGNAL) != (ssize_t)sizeof(*m))
		return err_sys(e, errno, "memory reader");
	return 0;
}

/* -1 with errnum ETIMEDOUT (timeout) or EPIPE (it died) */
static int agent_recv(struct agent *a, unsigned timeout_ms, struct ag_resp *r, struct err *e)
{
	double deadline = now_ms() + timeout_ms;
	for (;;) {
		double left = deadline - now_ms();
		if (left <= 0)
			return err_sys(e, ETIMEDOUT, "memory reader");
		struct pollfd p = {a->sock, POLLIN, 0};
		int k = poll(&p, 1, (int)left + 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return err_sys(e, errno, "poll");
		if (k == 0)
			continue;
		ssize_t n = recv(a->sock, r, sizeof(*r), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(*r))
			return err_sys(e, EPIPE, "memory reader");
		return 0;
	}
}

static void agent_stop(struct agent *a)
{
	if (a->child > 0) {
		struct ag_msg m = {.op = OP_QUIT};
		struct err e;
		if (agent_send(a, &m, &e) == 0) {
			/* it detaches and exits: wait for the hang-up, bounded */
			struct pollfd p = {a->sock, POLLIN, 0};
			poll(&p, 1, 3000);
		}
	}
	agent_kill(a);
}

static void agent_free(struct agent *a)
{
	agent_kill(a); /* reaped: nothing writes to its buffers any more */
	if (a->map)
		munmap(a->map, a->mapsz);
	a->map = NULL;
	if (a->dcached)
		__atomic_store_n(&data_cache_busy, 0, __ATOMIC_RELEASE);
	else if (a->dmap)
		munmap(a->dmap, 2 * (size_t)CHUNK);
	a->dmap = NULL;
	a->dcached = false;
}

/* ---- freeze state ---- */

static void v2_state(const char *dir, char *out, size_t n)
{
	_cleanup_free_ char *path = xasprintf("%s/cgroup.events", dir);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct err e;
	snprintf(out, n, "unknown");
	if (read_file_at(AT_FDCWD, path, 4096, &buf, &len, NULL, &e) < 0)
		return;
	const char *f = strstr(buf, "frozen ");
	if (f && (f == buf || f[-1] == '\n'))
		snprintf(out, n, "%s", f[7] == '1' ? "frozen" : "thawed");
}

static void v1_state(const char *dir, char *out, size_t n)
{
	_cleanup_free_ char *path = xasprintf("%s/freezer.state", dir);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct err e;
	snprintf(out, n, "unknown");
	if (read_file_at(AT_FDCWD, path, 4096, &buf, &len, NULL, &e) < 0)
		return;
	str_rstrip(buf);
	if (strcmp(buf, "FROZEN") == 0)
		snprintf(out, n, "frozen");
	else if (strcmp(buf, "FREEZING") == 0)
		snprintf(out, n, "freezing");
	else if (strcmp(buf, "THAWED") == 0)
		snprintf(out, n, "thawed");
}

void mem_freeze_state(pid_t pid, const char *cg_unified, const char *cg_freezer,
		      struct mem_freeze *out)
{
	snprintf(out->v2, sizeof(out->v2), "unknown");
	snprintf(out->v1, sizeof(out->v1), "unknown");
	/* a dir not given: the process's own, mapped through mountinfo the way
	 * discovery maps it (hybrid, pure cgroup2, wherever it is mounted) */
	_cleanup_free_ char *v2dir = NULL;
	_cleanup_free_ char *v1dir = NULL;
	if (!cg_unified || !cg_freezer) {
		struct err e = {0};
		(void)proc_cgroup_dirs(pid, cg_unified ? NULL : &v2dir, cg_freezer ? NULL : &v1dir,
				       &e);
	}
	const char *u = cg_unified ? cg_unified : v2dir;
	const char *f = cg_freezer ? cg_freezer : v1dir;
	if (u)
		v2_state(u, out->v2, sizeof(out->v2));
	if (f)
		v1_state(f, out->v1, sizeof(out->v1));
}

static bool fz_frozen(const char *s)
{
	return strcmp(s, "frozen") == 0 || strcmp(s, "freezing") == 0;
}

/* ---- helpers ---- */

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* tids of the process, main thread first, at most MAX_THREADS */
static int list_tids(int dirfd, pid_t pid, pid_t **out, size_t *n, struct err *e)
{
	int tfd = openat(dirfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		return err_sys(e, errno, "open '/proc/%d/task'", (int)pid);
	DIR *d = fdopendir(tfd);
	if (!d) {
		close(tfd);
		return err_sys(e, errno, "opendir '/proc/%d/task'", (int)pid);
	}
	pid_t *v = NULL;
	size_t nv = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) && nv < MAX_THREADS) {
		pid_t t;
		if (parse_pid(de->d_name, &t) < 0)
			continue;
		xgrow(&v, &cap, nv + 1, sizeof(*v));
		v[nv++] = t;
	}
	closedir(d);
	if (nv)
		qsort(v, nv, sizeof(*v), cmp_pid);
	for (size_t i = 0; i < nv; i++)
		if (v[i] == pid && i) {
			memmove(v + 1, v, i * sizeof(*v));
			v[0] = pid;
			break;
		}
	*out = v;
	*n = nv;
	return 0;
}

static json_t *range_json(uint64_t a, uint64_t b, const char *path, const char *why)
{
	char s[32], t[32];
	snprintf(s, sizeof(s), "0x%llx", (unsigned long long)a);
	snprintf(t, sizeof(t), "0x%llx", (unsigned long long)b);
	json_t *o = json_pack("{s:s, s:s, s:I}", "start", s, "end", t, "size", (json_int_t)(b - a));
	if (path)
		json_object_set_new(o, "path", json_string(utf8_valid(path, strlen(path)) ? path : "?"));
	if (why)
		json_object_set_new(o, "reason", json_string(why));
	return o;
}

static void list_add(json_t *arr, size_t *count, json_t *item)
{
	(*count)++;
	if (json_array_size(arr) < LIST_MAX)
		json_array_append_new(arr, item);
	else
		json_decref(item);
}

/* ---- the v1 freezer: registers through a thaw window ----
 *
 * A task the v1 freezer holds sits in the refrigerator and does not stop
 * for PTRACE_INTERRUPT, so ptrace cannot read its registers. What the
 * kernel does with an interrupt queued on a frozen task: PTRACE_INTERRUPT
 * sets JOBCTL_TRAP_STOP and TIF_SIGPENDING; once thawed the task leaves
 * the refrigerator (in get_signal, or a freezable sleep that then returns
 * towards user space) and cannot return to user space with a signal
 * pending without passing get_signal, which takes the job-control trap
 * before anything else: it enters the ptrace stop in the kernel. So the
 * holder (a child, the tracer) seizes and interrupts every task of the
 * freezer cgroup and its children while they are frozen (if any cannot
 * be seized, it thaws nothing), thaws, waits for each to trap, freezes
 * again and reads freezer.state back, then reads each thread's registers
 * (PTRACE_GETREGSET: GP, FP, XSTATE) and detaches them while frozen; they
 * stay frozen. The window (thaw written to FROZEN read back) runs kernel
 * code of the container only; it is measured and reported. A thread that
 * did not trap keeps the /proc/PID/task/TID/syscall fallback, said per
 * thread. The holder is not killed with us: its steps are bounded and it
 * always ends by freezing. On any doubt the cgroup is written FROZEN again
 * (never THAWED). */

#define V1_MAX_DIRS  256
#define V1_MAX_TASKS 8192
#define V1_TASKS_BUF (1u << 20)
#define V1_FREEZE_MS 30000 /* the holder retries FROZEN this long, holding the threads */

enum {
	V1_OK = 0,
	V1_NOT_FROZEN, /* the cgroup was not FROZEN when the holder started */
	V1_PARENT,     /* a parent cgroup freezes it: a thaw here would not thaw */
	V1_LIST,       /* a tasks file could not be read (or too many tasks) */
	V1_SEIZE,      /* a task could not be seized or interrupted: not thawed */
	V1_THAW,       /* writing THAWED failed */
	V1_REFREEZE,   /* FROZEN not read back within V1_FREEZE_MS */
};

struct v1_shm {
	uint32_t n, cap, ndirs;
	int32_t result, sys_err;
	pid_t bad_tid;
	int32_t thawed, refrozen;
	uint32_t trapped;
	double t_thaw, t_thaw_done, t_trapped, t_frozen; /* ms, monotonic */
	int dirfd[V1_MAX_DIRS];
	char buf[V1_TASKS_BUF];
	struct ag_thread th[];
};

struct v1_set {
	char *dir;
	struct v1_shm *sh;
	size_t mapsz;
	json_t *report;
	bool ok; /* the registers of the trapped threads are in sh */
};

static ssize_t v1_read(int dirfd, const char *name, char *buf, size_t max)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t off = 0;
	for (;;) {
		ssize_t n = read(fd, buf + off, max - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return n < 0 ? -1 : (ssize_t)off;
		}
		off += (size_t)n;
		if (off == max) {
			close(fd);
			errno = EOVERFLOW;
			return -1;
		}
	}
}

static int v1_write(int dirfd, const char *state)
{
	int fd = openat(dirfd, "freezer.state", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, state, strlen(state));
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(state) ? 0 : -1;
}

static bool v1_is(int dirfd, const char *want)
{
	char b[32];
	ssize_t n = v1_read(dirfd, "freezer.state", b, sizeof(b) - 1);
	if (n <= 0)
		return false;
	size_t l = strlen(want);
	return (size_t)n >= l && memcmp(b, want, l) == 0 && (b[l] == '\n' || (size_t)n == l);
}

/* every task of the cgroups not known yet; -1 (V1_LIST) on a read error or overflow */
static int v1_scan(struct v1_shm *sh)
{
	for (uint32_t d = 0; d < sh->ndirs; d++) {
		ssize_t n = v1_read(sh->dirfd[d], "tasks", sh->buf, sizeof(sh->buf));
		if (n < 0) {
			sh->sys_err = errno;
			return -1;
		}
		long v = 0;
		bool in = false;
		for (ssize_t i = 0; i <= n; i++) {
			char c = i < n ? sh->buf[i] : '\n';
			if (c >= '0' && c <= '9') {
				if (v >= 1 << 30) { /* no pid is that long */
					sh->sys_err = ERANGE;
					return -1;
				}
				v = v * 10 + (c - '0');
				in = true;
				continue;
			}
			if (in && v > 0) {
				bool known = false;
				for (uint32_t k = 0; k < sh->n && !known; k++)
					known = sh->th[k].tid == (pid_t)v;
				if (!known) {
					if (sh->n == sh->cap) {
						sh->sys_err = E2BIG;
						return -1;
					}
					sh->th[sh->n].tid = (pid_t)v;
					sh->th[sh->n].state = AG_T_NONE;
					sh->n++;
				}
			}
			v = 0;
			in = false;
		}
	}
	return 0;
}

static void v1_seize(struct v1_shm *sh, uint32_t from)
{
	for (uint32_t i = from; i < sh->n; i++) {
		struct ag_thread *t = &sh->th[i];
		if (ptrace(PTRACE_SEIZE, t->tid, 0, 0) < 0) {
			t->state = errno == ESRCH ? AG_T_GONE : AG_T_FAILED;
			t->err = errno;
			continue;
		}
		t->seized = 1;
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0) {
			t->state = errno == ESRCH ? AG_T_GONE : AG_T_FAILED;
			t->err = errno;
		}
	}
}

static void v1_detach_all(struct v1_shm *sh)
{
	for (uint32_t i = 0; i < sh->n; i++)
		if (sh->th[i].seized) {
			ptrace(PTRACE_DETACH, sh->th[i].tid, 0, 0);
			sh->th[i].seized = 0;
		}
}

/* the traps, each thread's first stop after the thaw, until the deadline */
static void v1_wait_traps(struct v1_shm *sh, double deadline)
{
	long nap = 20;
	for (;;) {
		uint32_t pending = 0;
		for (uint32_t i = 0; i < sh->n; i++) {
			struct ag_thread *t = &sh->th[i];
			if (!t->seized || t->state != AG_T_NONE)
				continue;
			int st;
			pid_t r = waitpid(t->tid, &st, __WALL | WNOHANG);
			if (r == t->tid && WIFSTOPPED(st)) {
				t->state = AG_T_STOPPED;
				t->stopsig = WSTOPSIG(st);
				t->event = (st >> 16) & 0xff;
				sh->trapped++;
			} else if (r == t->tid || (r < 0 && errno == ECHILD)) {
				t->state = AG_T_GONE;
				t->err = ESRCH;
				t->seized = 0;
			} else {
				pending++;
			}
		}
		if (!pending || now_ms() > deadline)
			break;
		nap_us(nap);
		if (nap < 1000)
			nap *= 2;
	}
	for (uint32_t i = 0; i < sh->n; i++)
		if (sh->th[i].seized && sh->th[i].state == AG_T_NONE) {
			sh->th[i].state = AG_T_FAILED;
			sh->th[i].err = ETIMEDOUT;
		}
}

__attribute__((noreturn)) static void v1_holder(struct v1_shm *sh, unsigned stop_ms)
{
	/* not ours to stop halfway: a signal to our process group, or our
	 * death, must not leave the container thawed */
	setpgid(0, 0);
	struct sigaction ign;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &ign, NULL);
	int root = sh->dirfd[0];
	char b[8];
	if (!v1_is(root, "FROZEN")) {
		sh->result = V1_NOT_FROZEN;
		_exit(0);
	}
	if (v1_read(root, "freezer.parent_freezing", b, sizeof(b)) > 0 && b[0] != '0') {
		sh->result = V1_PARENT;
		_exit(0);
	}
	/* seize every task, frozen; tasks moved in meanwhile too */
	uint32_t from = 0;
	for (int round = 0; round < 4; round++) {
		if (v1_scan(sh) < 0) {
			sh->result = V1_LIST;
			v1_detach_all(sh);
			_exit(0);
		}
		if (from == sh->n)
			break;
		v1_seize(sh, from);
		from = sh->n;
	}
	for (uint32_t i = 0; i < sh->n; i++)
		if (sh->th[i].state == AG_T_FAILED) {
			sh->result = V1_SEIZE;
			sh->bad_tid = sh->th[i].tid;
			sh->sys_err = sh->th[i].err;
			v1_detach_all(sh);
			_exit(0);
		}
	/* still frozen, and no task came in since the last round */
	int last = v1_scan(sh);
	if (last < 0 || from != sh->n || !v1_is(root, "FROZEN")) {
		sh->result = last < 0 ? V1_LIST : from != sh->n ? V1_SEIZE : V1_NOT_FROZEN;
		v1_detach_all(sh);
		_exit(0);
	}
	/* the window: thaw, every thread traps in the kernel, freeze */
	sh->t_thaw = now_ms();
	if (v1_write(root, "THAWED") < 0) {
		sh->result = V1_THAW;
		sh->sys_err = errno;
		v1_write(root, "FROZEN");
	} else {
		sh->thawed = 1;
		sh->t_thaw_done = now_ms();
		v1_wait_traps(sh, sh->t_thaw_done + stop_ms);
		sh->t_trapped = now_ms();
	}
	double deadline = now_ms() + V1_FREEZE_MS;
	for (int k = 0;; k++) {
		if (k % 20 == 0)
			v1_write(root, "FROZEN");
		if (v1_is(root, "FROZEN")) {
			sh->refrozen = 1;
			break;
		}
		if (now_ms() > deadline)
			break;
		nap_us(1000);
	}
	sh->t_frozen = now_ms();
	if (!sh->refrozen) {
		/* the threads stay in their ptrace stop as long as we live */
		sh->result = V1_REFREEZE;
		_exit(0);
	}
	for (uint32_t i = 0; i < sh->n; i++)
		if (sh->th[i].state == AG_T_STOPPED)
			ag_get_regs(&sh->th[i]);
	v1_detach_all(sh);
	_exit(0);
}

static void v1_set_free(struct v1_set *s)
{
	if (s->sh) {
		for (uint32_t d = 0; d < s->sh->ndirs; d++)
			if (s->sh->dirfd[d] >= 0)
				close(s->sh->dirfd[d]);
		munmap(s->sh, s->mapsz);
	}
	free(s->dir);
	json_decref(s->report);
	memset(s, 0, sizeof(*s));
}

/* the cgroup and its children (the v1 freezer thaws them with it), bounded */
static int v1_dirs(struct v1_shm *sh, const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "open '%s'", dir);
	sh->dirfd[sh->ndirs++] = fd;
	for (uint32_t i = 0; i < sh->ndirs; i++) {
		int dfd = fcntl(sh->dirfd[i], F_DUPFD_CLOEXEC, 0);
		DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
		if (!d) {
			if (dfd >= 0)
				close(dfd);
			return err_sys(e, errno, "cgroup '%s': readdir", dir);
		}
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			if (sh->ndirs == V1_MAX_DIRS) {
				closedir(d);
				return err_set(e, ERR_INVALID,
					       "cgroup '%s': more than %d child cgroups", dir,
					       V1_MAX_DIRS);
			}
			int c = openat(sh->dirfd[i], de->d_name,
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (c >= 0)
				sh->dirfd[sh->ndirs++] = c;
		}
		closedir(d);
	}
	return 0;
}

static const char *v1_result_str(int r)
{
	switch (r) {
	case V1_OK:
		return "ok";
	case V1_NOT_FROZEN:
		return "the v1 freezer is not FROZEN";
	case V1_PARENT:
		return "a parent cgroup freezes it (a thaw would not reach its tasks)";
	case V1_LIST:
		return "its tasks could not be listed";
	case V1_SEIZE:
		return "a task could not be seized or interrupted: not thawed";
	case V1_THAW:
		return "THAWED could not be written";
	case V1_REFREEZE:
		return "FROZEN not read back after the window";
	}
	return "?";
}

/* Take the registers of every thread of the v1-frozen cgroup DIR. Fills s
 * (s->report always). -1 only when nothing could be tried (s->report says
 * why); the cgroup is FROZEN when it returns, or the report says it is not. */
static int v1_take(const char *dir, unsigned stop_ms, struct v1_set *s, struct err *e)
{
	memset(s, 0, sizeof(*s));
	s->dir = xstrdup(dir);
	s->report = json_pack("{s:s}", "freezer", utf8_valid(dir, strlen(dir)) ? dir : "?");
	uint32_t cap = V1_MAX_TASKS;
	s->mapsz = sizeof(struct v1_shm) + (size_t)cap * sizeof(struct ag_thread);
	void *m = mmap(NULL, s->mapsz, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		err_sys(e, errno, "mmap %zu bytes", s->mapsz);
		json_object_set_new(s->report, "error", json_string(e->msg));
		return -1;
	}
	s->sh = m;
	s->sh->cap = cap;
	if (v1_dirs(s->sh, dir, e) < 0) {
		json_object_set_new(s->report, "error", json_string(e->msg));
		return -1;
	}
	pid_t c = fork();
	if (c < 0) {
		err_sys(e, errno, "fork");
		json_object_set_new(s->report, "error", json_string(e->msg));
		return -1;
	}
	if (c == 0)
		v1_holder(s->sh, stop_ms);
	/* bounded: the traps, the refreeze, a margin */
	double deadline = now_ms() + stop_ms + V1_FREEZE_MS + 10000;
	int st;
	for (;;) {
		pid_t r = waitpid(c, &st, WNOHANG);
		if (r == c || (r < 0 && errno != EINTR))
			break;
		if (now_ms() > deadline) {
			kill(c, SIGKILL);
			while (waitpid(c, &st, 0) < 0 && errno == EINTR)
				;
			json_object_set_new(s->report, "holder", json_string("killed: timed out"));
			break;
		}
		nap_us(2000);
	}
	struct v1_shm *sh = s->sh;
	/* fail closed: whatever happened, the cgroup ends FROZEN or says so */
	int root = sh->dirfd[0];
	bool frozen = v1_is(root, "FROZEN");
	for (int k = 0; !frozen && k < 200; k++) {
		if (k % 20 == 0)
			v1_write(root, "FROZEN");
		nap_us(10000);
		frozen = v1_is(root, "FROZEN");
	}
	json_t *r = s->report;
	json_object_set_new(r, "result", json_string(v1_result_str(sh->result)));
	if (sh->result == V1_SEIZE && sh->bad_tid)
		json_object_set_new(r, "task", json_integer(sh->bad_tid));
	if (sh->sys_err)
		json_object_set_new(r, "errno", json_string(strerror(sh->sys_err)));
	json_object_set_new(r, "cgroups", json_integer(sh->ndirs));
	json_object_set_new(r, "tasks", json_integer(sh->n));
	json_object_set_new(r, "trapped", json_integer(sh->trapped));
	json_object_set_new(r, "thawed", json_boolean(sh->thawed));
	if (sh->thawed) {
		/* the window: THAWED written (its start) to FROZEN read back */
		json_object_set_new(r, "window_us",
				    json_integer((json_int_t)((sh->t_frozen - sh->t_thaw) * 1000)));
		json_object_set_new(
		    r, "thaw_write_us",
		    json_integer((json_int_t)((sh->t_thaw_done - sh->t_thaw) * 1000)));
		json_object_set_new(
		    r, "traps_us", json_integer((json_int_t)((sh->t_trapped - sh->t_thaw) * 1000)));
		json_object_set_new(r, "refrozen", json_boolean(sh->refrozen));
	}
	json_object_set_new(r, "frozen_after", json_boolean(frozen));
	s->ok = sh->result == V1_OK && sh->refrozen;
	return 0;
}

static const struct ag_thread *v1_find(const struct v1_set *s, pid_t tid)
{
	if (!s || !s->sh)
		return NULL;
	for (uint32_t i = 0; i < s->sh->n; i++)
		if (s->sh->th[i].tid == tid)
			return &s->sh->th[i];
	return NULL;
}

/* ---- one process ---- */

struct dump {
	pid_t pid;
	const struct mem_opts *o;
	const struct sink *core, *maps;
	/* mem_collect: the core is opened once its size is known (core NULL till then) */
	const struct mem_out *out;
	const char *cname;
	struct sink core_s;
	json_t *sum, *notes, *unreadable;
	size_t n_unreadable;
	uint64_t last_bad_end; /* to merge adjacent unreadable ranges */
	json_t *last_bad;
	uint64_t pos; /* bytes of the core written */
	uint64_t bytes_zero, bytes_unreadable, written_seg;
	bool gone;
	const struct v1_set *v1; /* registers taken through a v1 thaw window, or NULL */
	const char *v1_why;	 /* why there are none, when the v1 freezer holds it */
};

static void note(struct dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct dump *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json_array_size(d->notes) < LIST_MAX)
		json_array_append_new(d->notes, json_string(buf));
}

static void bad_range(struct dump *d, uint64_t a, uint64_t b, const char *why)
{
	d->bytes_unreadable += b - a;
	if (d->last_bad && d->last_bad_end == a &&
	    strcmp(json_string_value(json_object_get(d->last_bad, "reason")), why) == 0) {
		char t[32];
		snprintf(t, sizeof(t), "0x%llx", (unsigned long long)b);
		json_object_set_new(d->last_bad, "end", json_string(t));
		json_int_t sz = json_integer_value(json_object_get(d->last_bad, "size"));
		json_object_set_new(d->last_bad, "size", json_integer(sz + (json_int_t)(b - a)));
		d->last_bad_end = b;
		return;
	}
	json_t *r = range_json(a, b, NULL, why);
	size_t before = json_array_size(d->unreadable);
	list_add(d->unreadable, &d->n_unreadable, r);
	d->last_bad = json_array_size(d->unreadable) > before ? r : NULL;
	d->last_bad_end = b;
}

static int put_hole(struct dump *d, uint64_t n, struct err *e)
{
	if (sink_hole(d->core, n, e) < 0)
		return -1;
	d->pos += n;
	return 0;
}

/* write one chunk read by the agent: data runs, holes for zero and failed pages */
static int put_chunk(struct dump *d, const unsigned char *data, const struct ag_slot *s,
		     struct err *e)
{
	uint64_t np = s->len / MEM_PAGE;
	uint64_t i = 0;
	while (i < np) {
		bool failed = s->fail[i / 8] & (1u << (i % 8));
		bool hole = failed || (s->zero[i / 8] & (1u << (i % 8)));
		uint64_t j = i + 1;
		while (j < np) {
			bool f2 = s->fail[j / 8] & (1u << (j % 8));
			bool h2 = f2 || (s->zero[j / 8] & (1u << (j % 8)));
			if (h2 != hole || (hole && f2 != failed))
				break;
			j++;
		}
		uint64_t n = (j - i) * MEM_PAGE;
		if (!hole) {
			if (sink_write(d->core, data + i * MEM_PAGE, (size_t)n, e) < 0)
				return -1;
			d->pos += n;
		} else {
			if (put_hole(d, n, e) < 0)
				return -1;
			if (failed)
				bad_range(d, s->addr + i * MEM_PAGE, s->addr + j * MEM_PAGE,
					  s->err == ESRCH ? "process exited" : "unreadable");
			else
				d->bytes_zero += n;
		}
		i = j;
	}
	d->written_seg += s->len;
	if (d->o->progress)
		d->o->progress(d->o->progress_ctx, d->pid, d->written_seg);
	return 0;
}

struct pending {
	uint32_t slot;
	size_t seg;
	uint64_t addr, len;
};

/* the segments, chunk by chunk, two reads in flight */
static int put_segments(struct dump *d, struct agent *ag, const struct mem_layout *L,
			struct err *e)
{
	unsigned tmo = d->o->read_timeout_ms ? d->o->read_timeout_ms : 10000;
	size_t seg = 0;
	uint64_t segoff = 0;
	struct pending q[2];
	size_t nq = 0;
	int timeouts = 0;
	bool stop_reading = false;
	uint32_t free_slot = 0;
	for (;;) {
		while (!stop_reading && nq < 2) {
			while (seg < L->nsegs && segoff >= L->segs[seg].filesz) {
				seg++;
				segoff = 0;
			}
			if (seg >= L->nsegs)
				break;
			uint64_t len = L->segs[seg].filesz - segoff;
			if (len > CHUNK)
				len = CHUNK;
			struct pending p = {free_slot, seg, L->segs[seg].vaddr + segoff, len};
			struct ag_msg m = {.op = OP_READ, .slot = p.slot, .addr = p.addr, .len = len};
			if (agent_send(ag, &m, e) < 0) {
				note(d, "memory reader lost: %s", e->msg);
				stop_reading = true;
				break;
			}
			q[nq++] = p;
			free_slot ^= 1;
			segoff += len;
		}
		if (nq == 0)
			break;
		struct ag_resp r;
		struct pending p = q[0];
		if (agent_recv(ag, tmo, &r, e) == 0 && r.slot == p.slot) {
			q[0] = q[1];
			nq--;
			if (put_chunk(d, ag->data[p.slot], &ag->sh->slot[p.slot], e) < 0)
				return -1;
			if (r.err == ESRCH && !d->gone) {
				d->gone = true;
				note(d, "process exited during capture");
			}
			if (d->gone)
				stop_reading = true;
			continue;
		}
		/* timed out or died: the rest of this segment stays a hole */
		const struct mem_seg *g = &L->segs[p.seg];
		uint64_t seg_end = g->offset + g->filesz;
		bool timed_out = e->errnum == ETIMEDOUT;
		bad_range(d, p.addr, g->vaddr + g->filesz, timed_out ? "read timed out" : "reader died");
		agent_kill(ag);
		if (put_hole(d, seg_end - d->pos, e) < 0)
			return -1;
		nq = 0;
		seg = p.seg + 1;
		segoff = 0;
		if (++timeouts >= MAX_TIMEOUTS) {
			note(d, "gave up reading after %d failed reads", timeouts);
			stop_reading = true;
		} else if (agent_spawn(ag, e) < 0) {
			note(d, "memory reader: %s", e->msg);
			stop_reading = true;
		}
		if (stop_reading)
			break;
	}
	/* whatever was not read (the process exited, the reader gave up) */
	uint64_t data_end = L->nsegs ? L->segs[L->nsegs - 1].offset + L->segs[L->nsegs - 1].filesz
				     : L->data_off;
	if (d->pos < data_end) {
		/* list what was lost, segment by segment */
		for (size_t i = 0; i < L->nsegs; i++) {
			const struct mem_seg *g = &L->segs[i];
			uint64_t a = g->offset, b = g->offset + g->filesz;
			if (b <= d->pos || a == b)
				continue;
			uint64_t from = a > d->pos ? a : d->pos;
			bad_range(d, g->vaddr + (from - a), g->vaddr + g->filesz,
				  d->gone ? "process exited" : "not read");
		}
		if (put_hole(d, data_end - d->pos, e) < 0)
			return -1;
	}
	return 0;
}

static void thread_from_syscall(int dirfd, struct mem_thread *t)
{
	char path[64];
	snprintf(path, sizeof(path), "task/%d/syscall", (int)t->tid);
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct err e;
	if (read_file_at(dirfd, path, 4096, &buf, &len, NULL, &e) < 0 ||
	    mem_parse_syscall(buf, len, t, &e) < 0) {
		t->regs_source = "none";
		size_t l = strlen(t->regs_error);
		snprintf(t->regs_error + l, sizeof(t->regs_error) - l, "%ssyscall: %s",
			 l ? "; " : "", e.msg);
	}
}

static void thread_info(int dirfd, struct mem_thread *t)
{
	char path[64];
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct err e;
	snprintf(path, sizeof(path), "task/%d/stat", (int)t->tid);
	if (read_file_at(dirfd, path, 4096, &buf, &len, NULL, &e) == 0)
		mem_parse_stat(buf, len, &t->info, &e);
	free(buf);
	buf = NULL;
	snprintf(path, sizeof(path), "task/%d/status", (int)t->tid);
	if (read_file_at(dirfd, path, 65536, &buf, &len, NULL, &e) == 0)
		mem_parse_status(buf, len, &t->info);
}

static void threads_free(struct mem_thread *t, size_t n)
{
	if (!t)
		return;
	for (size_t i = 0; i < n; i++)
		free(t[i].xstate);
	free(t);
}

static json_t *str_or_null(const char *s)
{
	if (!s)
		return json_null();
	return json_string(utf8_valid(s, strlen(s)) ? s : "?");
}

/* The parent as the process's namespace sees it; the ids in the summary,
 * host and namespace side by side (the process tree has the host's). */
static void ns_ids(struct dump *d, struct mem_procinfo *pi)
{
	pi->ns_ppid = 0;
	if (pi->ns_depth && pi->ppid > 0) {
		char path[64];
		_cleanup_free_ char *buf = NULL;
		size_t len;
		struct err e;
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pi->ppid);
		if (read_file_at(AT_FDCWD, path, 65536, &buf, &len, NULL, &e) == 0)
			pi->ns_ppid = mem_ns_ppid(buf, len, pi->ns_depth);
		else
			note(d, "parent %d: %s: ppid 0 in the notes", (int)pi->ppid, e.msg);
	}
	if (!pi->ns_depth)
		note(d, "no NSpid in /proc/%d/status: the notes carry the host ids", (int)pi->pid);
	json_t *ids = json_pack("{s:i, s:i, s:i, s:i}", "pid", (int)pi->pid, "ppid", (int)pi->ppid,
				"pgrp", (int)pi->pgrp, "sid", (int)pi->sid);
	if (pi->ns_depth) {
		json_object_set_new(ids, "ns_pid", json_integer(pi->ns_pid));
		json_object_set_new(ids, "ns_ppid", json_integer(pi->ns_ppid));
		json_object_set_new(ids, "ns_pgrp", json_integer(pi->ns_pgrp));
		json_object_set_new(ids, "ns_sid", json_integer(pi->ns_sid));
		json_object_set_new(ids, "ns_depth", json_integer(pi->ns_depth));
	}
	json_object_set_new(d->sum, "ids", ids);
}

static void thread_from_ptrace(struct mem_thread *t, const struct ag_thread *at)
{
	t->regs_source = "ptrace";
	t->have_regs = true;
	memcpy(t->regs, &at->regs, sizeof(t->regs));
	if (at->have_fp) {
		t->have_fp = true;
		memcpy(t->fpregs, &at->fp, sizeof(t->fpregs));
	}
	if (at->xlen && at->xlen <= sizeof(at->xstate)) {
		t->xstate = xmalloc(at->xlen);
		memcpy(t->xstate, at->xstate, at->xlen);
		t->xstate_len = at->xlen;
	}
	if (at->have_si && at->event == 0 && at->stopsig != SIGTRAP) {
		t->have_siginfo = true;
		t->cursig = at->stopsig;
		memcpy(t->siginfo, &at->si, sizeof(t->siginfo));
	}
}

/* why a thread of a v1-frozen process has no ptrace registers */
static void v1_why(const struct dump *d, const struct ag_thread *vt, char *out, size_t n)
{
	const struct v1_set *s = d->v1;
	if (!s)
		snprintf(out, n, "v1 freezer: no thaw window: %s",
			 d->v1_why ? d->v1_why : "not tried");
	else if (!s->ok)
		snprintf(out, n, "v1 freezer: no thaw window: %s",
			 json_string_value(json_object_get(s->report, "result")));
	else if (!vt)
		snprintf(out, n,
			 "v1 freezer: not among the cgroup's tasks when it was interrupted");
	else if (vt->state == AG_T_FAILED && vt->err == ETIMEDOUT)
		snprintf(out, n, "v1 freezer: did not trap in the thaw window (not interrupted)");
	else if (vt->state == AG_T_GONE)
		snprintf(out, n, "v1 freezer: the thread exited");
	else
		snprintf(out, n, "v1 freezer: %s", vt->err ? strerror(vt->err) : "no registers");
}

static int dump_pid(struct dump *d, struct err *e)
{
	const struct mem_opts *o = d->o;
	pid_t pid = d->pid;
	json_t *sum = d->sum;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	_cleanup_close_ int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return err_sys(e, errno, "open '%s'", path);

	/* what the process is */
	struct mem_procinfo pi;
	memset(&pi, 0, sizeof(pi));
	{
		_cleanup_free_ char *buf = NULL;
		size_t len;
		if (read_file_at(dirfd, "stat", 4096, &buf, &len, NULL, e) < 0)
			return err_wrap(e, "process %d", (int)pid);
		if (mem_parse_stat(buf, len, &pi, e) < 0)
			return err_wrap(e, "process %d", (int)pid);
		if (pi.state == 'Z' || pi.state == 'X')
			return err_set(e, ERR_WRONGSTATE, "process %d is a zombie", (int)pid);
	}
	{
		_cleanup_free_ char *buf = NULL;
		size_t len;
		if (read_file_at(dirfd, "status", 65536, &buf, &len, NULL, e) == 0)
			mem_parse_status(buf, len, &pi);
		free(buf);
		buf = NULL;
		if (read_file_at(dirfd, "cmdline", 4096, &buf, &len, NULL, e) == 0)
			mem_set_psargs(&pi, buf, len);
		ns_ids(d, &pi);
	}
	json_object_set_new(sum, "comm", json_string(utf8_valid(pi.comm, strlen(pi.comm)) ? pi.comm : "?"));
	struct mem_select sel = {.full = o->full};
	{
		struct stat st;
		if (fstatat(dirfd, "exe", &st, 0) == 0) {
			sel.have_exe = true;
			sel.exe_dev = st.st_dev;
			sel.exe_ino = st.st_ino;
		}
		char exe[4096];
		ssize_t n = readlinkat(dirfd, "exe", exe, sizeof(exe) - 1);
		if (n >= 0) {
			exe[n] = '\0';
			json_object_set_new(sum, "exe", str_or_null(exe));
		}
	}
	_cleanup_free_ char *auxv = NULL;
	size_t auxv_len = 0;
	if (read_file_at(dirfd, "auxv", 65536, &auxv, &auxv_len, NULL, e) < 0) {
		note(d, "auxv: %s", e->msg);
		auxv_len = 0;
	}

	/* freeze state before */
	struct mem_freeze fz0 = {{0}, {0}};
	mem_freeze_state(pid, o->cgroup_unified, o->cgroup_freezer, &fz0);
	bool v1_frozen = fz_frozen(fz0.v1);
	/* a v1-frozen task does not stop for ptrace: its registers come from
	 * the thaw window (v1_take), taken for the whole cgroup before */
	bool use_ptrace = o->regs != MEM_REGS_SYSCALL && !v1_frozen;
	bool use_v1 = o->regs != MEM_REGS_SYSCALL && v1_frozen;

	/* the threads */
	_cleanup_free_ pid_t *tids = NULL;
	size_t ntids = 0;
	if (list_tids(dirfd, pid, &tids, &ntids, e) < 0)
		return -1;
	if (ntids == 0)
		return err_set(e, ERR_NOTFOUND, "process %d has no threads", (int)pid);
	uint32_t cap = (uint32_t)(ntids * 2 + 16 > MAX_THREADS ? MAX_THREADS : ntids * 2 + 16);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	_cleanup_close_ int memfd = open(path, O_RDONLY | O_CLOEXEC);
	struct agent ag;
	if (agent_alloc(&ag, pid, cap, memfd, o->stop_timeout_ms ? o->stop_timeout_ms : 3000, e) < 0)
		return -1;
	int rc = -1;
	struct mem_thread *th = NULL;
	size_t nth = 0;
	struct mem_map *maps = NULL;
	size_t nmaps = 0;
	struct mem_layout L = {0};
	_cleanup_sbuf_ struct sbuf fdesc = SBUF_INIT;
	_cleanup_sbuf_ struct sbuf notes = SBUF_INIT;
	_cleanup_sbuf_ struct sbuf hdr = SBUF_INIT;
	_cleanup_free_ char *mapsbuf = NULL;

	for (size_t i = 0; i < ntids; i++)
		ag.sh->th[i].tid = tids[i];
	ag.sh->nthreads = (uint32_t)ntids;
	if (agent_spawn(&ag, e) < 0)
		goto out;
	if (use_ptrace) {
		uint32_t first = 0;
		for (int round = 0; round < 8; round++) {
			struct ag_msg m = {.op = OP_ATTACH, .first = first,
					   .count = ag.sh->nthreads - first};
			struct ag_resp r;
			if (agent_send(&ag, &m, e) < 0 ||
			    agent_recv(&ag, ag.sh->stop_timeout_ms + 5000, &r, e) < 0) {
				note(d, "stopping threads: %s", e->msg);
				agent_kill(&ag);
				if (agent_spawn(&ag, e) < 0)
					goto out;
				break;
			}
			/* threads born meanwhile (a running process) */
			_cleanup_free_ pid_t *again = NULL;
			size_t nagain = 0;
			if (list_tids(dirfd, pid, &again, &nagain, e) < 0)
				break;
			first = ag.sh->nthreads;
			for (size_t i = 0; i < nagain && ag.sh->nthreads < ag.sh->cap; i++) {
				bool known = false;
				for (uint32_t k = 0; k < ag.sh->nthreads && !known; k++)
					known = ag.sh->th[k].tid == again[i];
				if (!known)
					ag.sh->th[ag.sh->nthreads++].tid = again[i];
			}
			if (first == ag.sh->nthreads)
				break;
		}
	}
	nth = ag.sh->nthreads;
	th = xcalloc(nth, sizeof(*th));
	size_t n_ptrace = 0, n_sys = 0, n_none = 0;
	for (size_t i = 0; i < nth; i++) {
		struct ag_thread *at = &ag.sh->th[i];
		struct mem_thread *t = &th[i];
		t->tid = at->tid;
		t->regs_source = "none";
		const struct ag_thread *vt = use_v1 ? v1_find(d->v1, at->tid) : NULL;
		if (use_ptrace && at->state == AG_T_STOPPED && at->have_regs) {
			thread_from_ptrace(t, at);
		} else if (vt && d->v1->ok && vt->state == AG_T_STOPPED && vt->have_regs) {
			thread_from_ptrace(t, vt);
		} else {
			if (use_v1) {
				v1_why(d, vt, t->regs_error, sizeof(t->regs_error));
			} else if (use_ptrace) {
				if (at->state == AG_T_GONE)
					snprintf(t->regs_error, sizeof(t->regs_error), "ptrace: thread exited");
				else
					snprintf(t->regs_error, sizeof(t->regs_error), "ptrace: %s",
						 at->err ? strerror(at->err) : "no registers");
			} else {
				snprintf(t->regs_error, sizeof(t->regs_error), "%s",
					 v1_frozen ? "v1 freezer holds the process: registers not "
						     "asked for through a thaw window"
						   : "ptrace not asked for");
			}
			thread_from_syscall(dirfd, t);
		}
		thread_info(dirfd, t);
		if (strcmp(t->regs_source, "ptrace") == 0)
			n_ptrace++;
		else if (strcmp(t->regs_source, "syscall") == 0)
			n_sys++;
		else
			n_none++;
	}

	/* the maps, once, now that the threads are stopped */
	size_t mapslen = 0;
	bool mtrunc = false;
	size_t mmax = o->max_maps_bytes ? o->max_maps_bytes : (64u << 20);
	if (read_file_at(dirfd, "maps", mmax, &mapsbuf, &mapslen, &mtrunc, e) < 0) {
		err_wrap(e, "process %d: maps", (int)pid);
		goto out;
	}
	if (mapslen == 0) {
		err_set(e, ERR_WRONGSTATE, "process %d: no mappings (a kernel thread or exited)", (int)pid);
		goto out;
	}
	if (mtrunc)
		note(d, "maps cut at %zu bytes", mmax);
	/* the raw maps, beside the core */
	if (d->maps && sink_write(d->maps, mapsbuf, mapslen, e) < 0) {
		err_wrap(e, "process %d: maps", (int)pid);
		goto out;
	}
	size_t nbad = 0;
	if (mem_maps_parse(mapsbuf, mapslen, 0, &maps, &nmaps, &nbad, e) < 0) {
		err_wrap(e, "process %d: maps", (int)pid);
		goto out;
	}
	if (nbad)
		note(d, "%zu malformed maps lines skipped", nbad);

	size_t dropped = 0;
	mem_note_file_desc(maps, nmaps, 0, &fdesc, &dropped);
	if (dropped)
		note(d, "NT_FILE: %zu mappings left out (4 MiB bound)", dropped);
	mem_notes_build(&pi, th, nth, auxv, auxv_len, &fdesc, &notes);
	if (mem_layout_compute(maps, nmaps, &sel, o->max_bytes, notes.len, &L, e) < 0)
		goto out;
	mem_layout_headers(&L, &hdr);
	if (!d->core) {
		/* mem_collect's core, now that its exact size is known */
		const struct mem_out *mo = d->out;
		if (!mo) {
			err_set(e, ERR_INVALID, "process %d: no sink for the core", (int)pid);
			goto out;
		}
		int r = mo->open_sized
				? mo->open_sized(mo->ctx, pid, d->cname, L.size, &d->core_s, e)
				: mo->open(mo->ctx, pid, d->cname, &d->core_s, e);
		if (r < 0)
			goto out;
		d->core = &d->core_s;
	}

	/* stream it out */
	if (sink_write(d->core, hdr.buf, hdr.len, e) < 0 ||
	    sink_write(d->core, notes.buf, notes.len, e) < 0)
		goto out;
	d->pos = hdr.len + notes.len;
	if (put_hole(d, L.data_off - d->pos, e) < 0)
		goto out;
	if (put_segments(d, &ag, &L, e) < 0)
		goto out;
	if (L.xnum) {
		sbuf_reset(&hdr);
		mem_layout_shdr(&L, &hdr);
		if (sink_write(d->core, hdr.buf, hdr.len, e) < 0)
			goto out;
		d->pos += hdr.len;
	}
	rc = 0;

	/* the summary */
	json_object_set_new(sum, "threads", json_integer((json_int_t)nth));
	json_t *regs = json_object();
	json_t *rth = json_array();
	const char *src = n_ptrace == nth ? "ptrace" : n_sys == nth ? "syscall" : n_none == nth ? "none" : "mixed";
	json_object_set_new(regs, "source", json_string(src));
	for (size_t i = 0; i < nth && i < LIST_MAX; i++) {
		json_t *t = json_pack("{s:i, s:s}", "tid", (int)th[i].tid, "source", th[i].regs_source);
		if (pi.ns_depth && th[i].info.ns_depth == pi.ns_depth)
			json_object_set_new(t, "ns_tid", json_integer(th[i].info.ns_pid));
		if (th[i].regs_error[0])
			json_object_set_new(t, "error", json_string(th[i].regs_error));
		if (th[i].cursig)
			json_object_set_new(t, "signal", json_integer(th[i].cursig));
		json_array_append_new(rth, t);
	}
	json_object_set_new(regs, "threads", rth);
	if (use_v1 && d->v1)
		json_object_set_new(regs, "v1_interrupt", json_incref(d->v1->report));
	json_object_set_new(sum, "registers", regs);
	size_t ndumped = 0, nskip = 0, ncut = 0;
	json_t *skipped = json_array(), *cut = json_array();
	for (size_t i = 0; i < L.nsegs; i++) {
		const struct mem_seg *g = &L.segs[i];
		if (g->filesz)
			ndumped++;
		if (g->prio == MEM_PICK_SKIP || g->prio == MEM_PICK_HEADER)
			list_add(skipped, &nskip,
				 range_json(g->vaddr, g->vaddr + g->memsz, maps[i].path,
					    g->prio == MEM_PICK_HEADER ? "file-backed read-only (header page kept)"
								       : g->why));
		if (g->cut) {
			json_t *c = range_json(g->vaddr + g->filesz, g->vaddr + g->memsz, maps[i].path, "max bytes");
			list_add(cut, &ncut, c);
		}
	}
	json_object_set_new(sum, "regions", json_integer((json_int_t)L.nsegs));
	json_object_set_new(sum, "regions_dumped", json_integer((json_int_t)ndumped));
	json_object_set_new(sum, "bytes", json_integer((json_int_t)L.bytes));
	json_object_set_new(sum, "bytes_zero", json_integer((json_int_t)d->bytes_zero));
	json_object_set_new(sum, "bytes_unreadable", json_integer((json_int_t)d->bytes_unreadable));
	json_object_set_new(sum, "bytes_cut", json_integer((json_int_t)L.bytes_cut));
	json_object_set_new(sum, "core_size", json_integer((json_int_t)L.size));
	json_object_set_new(sum, "skipped", skipped);
	json_object_set_new(sum, "skipped_count", json_integer((json_int_t)nskip));
	json_object_set_new(sum, "cut", cut);
	json_object_set_new(sum, "cut_count", json_integer((json_int_t)ncut));
	json_object_set_new(sum, "unreadable_count", json_integer((json_int_t)d->n_unreadable));
	json_object_set_new(sum, "exited_during_capture", json_boolean(d->gone));
out:;
	/* detach, let the agent go */
	if (ag.child > 0) {
		struct ag_msg m = {.op = OP_DETACH};
		struct ag_resp r;
		struct err e2;
		if (agent_send(&ag, &m, &e2) == 0)
			agent_recv(&ag, 5000, &r, &e2);
	}
	agent_stop(&ag);
	agent_free(&ag);

	/* freeze state after: a frozen cgroup must still be frozen */
	struct mem_freeze fz1 = {{0}, {0}};
	mem_freeze_state(pid, o->cgroup_unified, o->cgroup_freezer, &fz1);
	for (int i = 0; i < 40 && ((fz_frozen(fz0.v2) && !fz_frozen(fz1.v2)) ||
				   (fz_frozen(fz0.v1) && !fz_frozen(fz1.v1))); i++) {
		nap_us(50000);
		mem_freeze_state(pid, o->cgroup_unified, o->cgroup_freezer, &fz1);
	}
	json_object_set_new(sum, "freeze",
			    json_pack("{s:{s:s, s:s}, s:{s:s, s:s}}", "before", "unified", fz0.v2,
				      "v1", fz0.v1, "after", "unified", fz1.v2, "v1", fz1.v1));
	bool lost = (fz_frozen(fz0.v2) && !fz_frozen(fz1.v2)) ||
		    (fz_frozen(fz0.v1) && !fz_frozen(fz1.v1));
	json_object_set_new(sum, "freeze_lost", json_boolean(lost));
	if (lost)
		note(d, "its cgroup was frozen before and is not after");
	threads_free(th, nth);
	mem_maps_free(maps, nmaps);
	mem_layout_free(&L);
	return rc;
}

/* the v1 thaw windows taken, one per freezer cgroup */
#define V1_SETS 8
struct v1_cache {
	struct v1_set set[V1_SETS];
	size_t n;
	json_t *reports;
};

static void v1_cache_free(struct v1_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		v1_set_free(&c->set[i]);
	c->n = 0;
	json_decref(c->reports);
	c->reports = NULL;
}

/* The registers of pid's threads when the v1 freezer holds it: its
 * cgroup's thaw window, taken once. NULL (and *why) when there is none. */
static const struct v1_set *v1_for(struct v1_cache *c, pid_t pid, const struct mem_opts *o,
				   const char **why)
{
	*why = NULL;
	if (o->regs == MEM_REGS_SYSCALL)
		return NULL;
	_cleanup_free_ char *own = NULL;
	const char *dir = o->cgroup_freezer;
	if (!dir) {
		struct err e = {0};
		(void)proc_cgroup_dirs(pid, NULL, &own, &e);
		dir = own;
	}
	if (!dir)
		return NULL;
	char st[16];
	v1_state(dir, st, sizeof(st));
	if (strcmp(st, "frozen") != 0) {
		if (strcmp(st, "freezing") == 0)
			*why = "the v1 freezer is FREEZING, not FROZEN";
		return NULL;
	}
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->set[i].dir, dir) == 0)
			return &c->set[i];
	if (c->n == V1_SETS) {
		*why = "too many v1 freezer cgroups";
		return NULL;
	}
	struct v1_set *s = &c->set[c->n];
	struct err e = {0};
	unsigned stop_ms = o->stop_timeout_ms ? o->stop_timeout_ms : 3000;
	int rc = v1_take(dir, stop_ms, s, &e);
	if (!c->reports)
		c->reports = json_array();
	json_array_append(c->reports, s->report);
	if (rc < 0) {
		v1_set_free(s);
		*why = "the thaw window could not be set up (see v1_interrupt)";
		return NULL;
	}
	c->n++;
	return s;
}

static int dump_one(pid_t pid, const struct mem_opts *o, const struct sink *core,
		    const struct sink *maps, struct v1_cache *v1c, json_t **summary, struct err *e,
		    const struct mem_out *out, bool *core_opened);

int mem_dump_pid(pid_t pid, const struct mem_opts *o, const struct sink *core,
		 const struct sink *maps, json_t **summary, struct err *e)
{
	static const struct mem_opts defaults;
	struct v1_cache c = {0};
	int rc = dump_one(pid, o ? o : &defaults, core, maps, &c, summary, e, NULL, NULL);
	v1_cache_free(&c);
	return rc;
}

/* the process is no more: no /proc/PID, or a zombie */
static bool proc_gone(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 && errno == ESRCH;
	buf[n] = '\0';
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

static int dump_one(pid_t pid, const struct mem_opts *o, const struct sink *core,
		    const struct sink *maps, struct v1_cache *v1c, json_t **summary, struct err *e,
		    const struct mem_out *out, bool *core_opened)
{
	struct dump d;
	memset(&d, 0, sizeof(d));
	d.pid = pid;
	d.o = o;
	d.core = core;
	d.maps = maps;
	d.out = out;
	char cname[32];
	snprintf(cname, sizeof(cname), "%d.core", (int)pid);
	d.cname = cname;
	d.sum = json_object();
	d.notes = json_array();
	d.unreadable = json_array();
	json_object_set_new(d.sum, "pid", json_integer(pid));
	char name[32];
	snprintf(name, sizeof(name), "%d.core", (int)pid);
	json_object_set_new(d.sum, "core", json_string(name));
	snprintf(name, sizeof(name), "%d.maps", (int)pid);
	json_object_set_new(d.sum, "maps", json_string(name));
#ifndef __x86_64__
	(void)v1c;
	int rc = err_set(e, ERR_UNSUPP, "memory: only x86_64 cores are written");
#else
	d.v1 = v1_for(v1c, pid, o, &d.v1_why);
	int rc = dump_pid(&d, e);
#endif
	if (core_opened)
		*core_opened = d.core != NULL;
	if (rc < 0) {
		json_object_set_new(d.sum, "error", json_string(e->msg));
		/* it exited (or died) before its memory could be read: nothing of
		 * it is left to collect, which is not the collector failing */
		if (proc_gone(pid))
			json_object_set_new(d.sum, "gone", json_true());
	}
	json_object_set_new(d.sum, "unreadable", d.unreadable);
	json_object_set_new(d.sum, "notes", d.notes);
	*summary = d.sum;
	return rc;
}

int mem_collect(const pid_t *pids, size_t npids, const struct mem_opts *o,
		const struct mem_out *out, json_t **summary, struct err *e)
{
	static const struct mem_opts defaults;
	if (!o)
		o = &defaults;
	char ts[48];
	time_rfc3339_ns(ts, sizeof(ts));
	static const char *modes[] = {"auto", "ptrace", "syscall"};
	json_t *sum = json_pack("{s:s, s:s, s:{s:b, s:I, s:s}}", "collector", "memory", "time", ts,
				"options", "full", o->full, "max_bytes", (json_int_t)o->max_bytes,
				"regs", o->regs <= MEM_REGS_SYSCALL ? modes[o->regs] : "?");
	json_t *procs = json_array();
	struct v1_cache v1c = {0};
	size_t ncores = 0, nfailed = 0, nlost = 0;
	uint64_t used = 0;
	int ret = 0;
	for (size_t i = 0; i < npids; i++) {
		pid_t pid = pids[i];
		struct mem_opts po = *o;
		if (o->max_bytes) {
			uint64_t left = o->max_bytes > used ? o->max_bytes - used : 0;
			po.max_bytes = left ? left : 1; /* 1: nothing fits */
		}
		char cname[32], mname[32];
		snprintf(cname, sizeof(cname), "%d.core", (int)pid);
		snprintf(mname, sizeof(mname), "%d.maps", (int)pid);
		struct sink cs, ms;
		struct err pe;
		err_clear(&pe);
		json_t *ps = NULL;
		if (out->open(out->ctx, pid, mname, &ms, &pe) < 0) {
			nfailed++;
			ps = json_pack("{s:i, s:s}", "pid", (int)pid, "error", pe.msg);
			json_array_append_new(procs, ps);
			continue;
		}
		/* the core is opened by dump_one once its size is known; if it
		 * never got that far, it is opened here, empty, to say so */
		bool core_opened = false;
		int rc = dump_one(pid, &po, NULL, &ms, &v1c, &ps, &pe, out, &core_opened);
		if (!core_opened) {
			struct err oe;
			err_clear(&oe);
			if (out->open(out->ctx, pid, cname, &cs, &oe) < 0) {
				struct err ce;
				out->close(out->ctx, pid, mname, false, ps, &ce);
				nfailed++;
				if (rc == 0 || !json_object_get(ps, "error"))
					json_object_set_new(ps, "error", json_string(oe.msg));
				json_array_append_new(procs, ps);
				continue;
			}
		}
		struct err ce;
		err_clear(&ce);
		int c1 = out->close(out->ctx, pid, cname, rc == 0, ps, &ce);
		int c2 = out->close(out->ctx, pid, mname, rc == 0, ps, c1 < 0 ? &pe : &ce);
		if (c1 < 0 || c2 < 0) {
			json_object_set_new(ps, "error", json_string(ce.msg));
			err_set(e, ce.kind, "%s", ce.msg);
			ret = -1;
		}
		if (rc == 0) {
			ncores++;
			used += (uint64_t)json_integer_value(json_object_get(ps, "bytes"));
		} else {
			nfailed++;
		}
		if (json_is_true(json_object_get(ps, "freeze_lost")))
			nlost++;
		json_array_append_new(procs, ps);
	}
	json_object_set_new(sum, "processes", procs);
	if (v1c.reports)
		json_object_set(sum, "v1_interrupt", v1c.reports);
	v1_cache_free(&v1c);
	json_object_set_new(sum, "cores", json_integer((json_int_t)ncores));
	json_object_set_new(sum, "failed", json_integer((json_int_t)nfailed));
	json_object_set_new(sum, "freeze_lost", json_integer((json_int_t)nlost));
	json_object_set_new(sum, "bytes", json_integer((json_int_t)used));
	*summary = sum;
	if (ret == 0 && ncores == 0 && npids)
		return err_set(e, ERR_NOTFOUND, "memory: no process could be taken");
	if (ret == 0 && npids == 0)
		return err_set(e, ERR_NOTFOUND, "memory: no process given");
	return ret;
}
