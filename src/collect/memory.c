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
	void *map;
	size_t mapsz;
	unsigned char *data[2];
	struct ag_shm *sh;
};

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
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &t->regs) == 0)
		t->have_regs = 1;
	if (ptrace(PTRACE_GETFPREGS, t->tid, 0, &t->fp) == 0)
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

static void ag_read(struct ag_shm *sh, unsigned char *data, struct ag_slot *s, bool *use_mem)
{
	memset(s->fail, 0, sizeof(s->fail));
	s->nfail = 0;
	s->err = 0;
	uint64_t len = s->len, off = 0;
	while (off < len) {
		ssize_t n = ag_readmem(sh, use_mem, data + off, s->addr + off, (size_t)(len - off));
		if (n > 0) {
			off += (uint64_t)n;
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
	}
	memset(s->zero, 0, sizeof(s->zero));
	for (uint64_t p = 0; p < len / MEM_PAGE; p++)
		if (!(s->fail[p / 8] & (1u << (p % 8))) && page_zero(data + p * MEM_PAGE))
			s->zero[p / 8] |= (uint8_t)(1u << (p % 8));
}

__attribute__((noreturn)) static void agent_main(struct agent *a, pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	struct ag_shm *sh = a->sh;
	bool use_mem = false;
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
	a->mapsz = 2 * (size_t)CHUNK + (hdr + MEM_PAGE - 1) / MEM_PAGE * MEM_PAGE;
	a->map = mmap(NULL, a->mapsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a->map == MAP_FAILED) {
		a->map = NULL;
		return err_sys(e, errno, "mmap %zu bytes", a->mapsz);
	}
	a->data[0] = a->map;
	a->data[1] = (unsigned char *)a->map + CHUNK;
	a->sh = (struct ag_shm *)((unsigned char *)a->map + 2 * (size_t)CHUNK);
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
	agent_kill(a);
	if (a->map)
		munmap(a->map, a->mapsz);
	a->map = NULL;
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

/* ---- one process ---- */

struct dump {
	pid_t pid;
	const struct mem_opts *o;
	const struct sink *core, *maps;
	json_t *sum, *notes, *unreadable;
	size_t n_unreadable;
	uint64_t last_bad_end; /* to merge adjacent unreadable ranges */
	json_t *last_bad;
	uint64_t pos; /* bytes of the core written */
	uint64_t bytes_zero, bytes_unreadable, written_seg;
	bool gone;
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
	bool use_ptrace = o->regs == MEM_REGS_PTRACE || (o->regs == MEM_REGS_AUTO && !v1_frozen);

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
		if (use_ptrace && at->state == AG_T_STOPPED && at->have_regs) {
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
		} else {
			if (use_ptrace) {
				if (at->state == AG_T_GONE)
					snprintf(t->regs_error, sizeof(t->regs_error), "ptrace: thread exited");
				else
					snprintf(t->regs_error, sizeof(t->regs_error), "ptrace: %s",
						 at->err ? strerror(at->err) : "no registers");
			} else {
				snprintf(t->regs_error, sizeof(t->regs_error), "%s",
					 v1_frozen ? "v1 freezer holds the process: not interrupted"
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

int mem_dump_pid(pid_t pid, const struct mem_opts *o, const struct sink *core,
		 const struct sink *maps, json_t **summary, struct err *e)
{
	static const struct mem_opts defaults;
	if (!o)
		o = &defaults;
	struct dump d;
	memset(&d, 0, sizeof(d));
	d.pid = pid;
	d.o = o;
	d.core = core;
	d.maps = maps;
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
	int rc = err_set(e, ERR_UNSUPP, "memory: only x86_64 cores are written");
#else
	int rc = dump_pid(&d, e);
#endif
	if (rc < 0)
		json_object_set_new(d.sum, "error", json_string(e->msg));
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
		if (out->open(out->ctx, pid, cname, &cs, &pe) < 0) {
			struct err ce;
			out->close(out->ctx, pid, mname, false, &ce);
			nfailed++;
			ps = json_pack("{s:i, s:s}", "pid", (int)pid, "error", pe.msg);
			json_array_append_new(procs, ps);
			continue;
		}
		int rc = mem_dump_pid(pid, &po, &cs, &ms, &ps, &pe);
		struct err ce;
		err_clear(&ce);
		int c1 = out->close(out->ctx, pid, cname, rc == 0, &ce);
		int c2 = out->close(out->ctx, pid, mname, rc == 0, c1 < 0 ? &pe : &ce);
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
