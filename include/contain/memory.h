/* memory: an ELF core file (ET_CORE, as the kernel and gdb's gcore write
 * them) of every process of a container, taken without thawing it.
 *
 * The collector writes through sinks (one for <pid>.core, one for
 * <pid>.maps) and returns a JSON summary; it never writes a file itself,
 * never prints, never exits. x86_64 only (ERR_UNSUPP elsewhere).
 *
 * How a process is taken (mem_dump_pid):
 *   1. its threads are stopped and their registers read: by a helper
 *      process that PTRACE_SEIZEs + PTRACE_INTERRUPTs every thread (this
 *      reaches threads of a cgroup frozen by the unified freezer, which stays
 *      frozen). When the v1 freezer holds the process (a task in the
 *      refrigerator does not stop for ptrace), once per freezer cgroup, a
 *      holder seizes and interrupts every task of the cgroup and its
 *      children (none seizable: nothing is thawed), thaws, waits for each
 *      task to trap (an interrupt queued on a frozen task is taken in the
 *      kernel, in get_signal, before any return to user space), freezes
 *      again and reads FROZEN back, reads GP, FP and XSTATE
 *      (PTRACE_GETREGSET) and detaches them frozen; the window (THAWED
 *      written to FROZEN read back) is measured and reported
 *      (summary v1_interrupt), on any failure the cgroup is written FROZEN,
 *      never THAWED. A thread without registers (not trapped, or
 *      MEM_REGS_SYSCALL) has those of /proc/PID/task/TID/syscall (stack and
 *      instruction pointer and the syscall arguments only), said per thread;
 *      the notes carry the ids of the process's own pid namespace, as the
 *      kernel's cores do (struct mem_procinfo);
 *   2. /proc/PID/maps is read once and copied to the maps sink; the whole
 *      ELF layout (headers, notes, page-aligned segments) is computed from it;
 *   3. the core streams out sequentially: headers, notes, then the segments,
 *      read by the same helper with process_vm_readv (/proc/PID/mem when that
 *      is refused) in chunks with a timeout each. Unreadable pages and
 *      all-zero pages are holes (sink hole()); a read that hangs (a FUSE or
 *      userfaultfd mapping) kills the helper, the rest of that region stays a
 *      hole and is listed; the layout never changes once written;
 *   4. the threads are detached (the helper exiting detaches whatever it
 *      still holds), and the cgroup's freeze state is checked again.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "contain/util.h"

/* ---- /proc/PID/maps ---- */
enum {
	MEM_R = 1 << 0,
	MEM_W = 1 << 1,
	MEM_X = 1 << 2,
	MEM_SHARED = 1 << 3, /* 's' (else 'p', private) */
};

struct mem_map {
	uint64_t start, end, offset;
	unsigned perms; /* MEM_R | MEM_W | MEM_X | MEM_SHARED */
	unsigned dev_major, dev_minor;
	uint64_t inode;
	char *path; /* NULL when anonymous; else as the kernel shows it ("[heap]",
		       "/usr/lib/x.so", "/memfd:x (deleted)"), escapes kept */
};

/* One line, without or with its '\n'. Strict: hex start-end (start < end,
 * page aligned), 4 permission characters, hex offset, hex major:minor,
 * decimal inode, optional path (at most MEM_MAP_PATH_MAX bytes). 0 ok, -1
 * ERR_INVALID for anything else. m->path is allocated (free with
 * mem_map_clear). */
#define MEM_MAP_PATH_MAX 8192
int mem_maps_parse_line(const char *line, size_t len, struct mem_map *m, struct err *e);
void mem_map_clear(struct mem_map *m);
/* A whole maps file: every line parsed, at most max_maps of them (0:
 * 1<<20). Malformed lines are skipped and counted in *bad (may be NULL);
 * more than max_maps lines is ERR_INVALID. */
int mem_maps_parse(const char *buf, size_t len, size_t max_maps, struct mem_map **out,
		   size_t *n, size_t *bad, struct err *e);
void mem_maps_free(struct mem_map *v, size_t n);

/* ---- which mappings are dumped ---- */
struct mem_select {
	bool full;		 /* add readable file-backed read-only mappings */
	bool have_exe;		 /* exe_dev/exe_ino are valid */
	uint64_t exe_dev;	 /* makedev(major, minor) of /proc/PID/exe */
	uint64_t exe_ino;
};

/* Priority of a mapping in the core (lower goes in first when max_bytes
 * cuts) and why (a static string): >= 0 dumped whole, MEM_PICK_HEADER only
 * its first page (a file mapping at offset 0 left out: the ELF header page,
 * so gdb can match build ids, as the kernel does), MEM_PICK_SKIP left out
 * (filesz 0). */
enum { MEM_PICK_SKIP = -1, MEM_PICK_HEADER = -2 };
int mem_map_classify(const struct mem_map *m, const struct mem_select *s, const char **why);

/* ---- the core's layout, computed before a byte is written ---- */
struct mem_seg {
	uint64_t vaddr, memsz;
	uint64_t filesz; /* bytes of content in the file (0: left out) */
	uint64_t offset; /* file offset (page aligned) */
	uint32_t flags;	 /* PF_R | PF_W | PF_X */
	int prio;	 /* mem_map_classify */
	const char *why;
	uint64_t cut; /* bytes left out by max_bytes */
};

struct mem_layout {
	struct mem_seg *segs; /* one per map, in address order */
	size_t nsegs;
	uint64_t phnum;	   /* program headers: 1 PT_NOTE + nsegs */
	bool xnum;	   /* phnum >= PN_XNUM: the count lives in section header 0 */
	uint64_t phoff;	   /* 64 */
	uint64_t notes_off, notes_size;
	uint64_t data_off; /* first segment, page aligned */
	uint64_t shoff;	   /* with xnum: the one section header, after the data */
	uint64_t size;	   /* the whole file */
	uint64_t bytes;	   /* sum of filesz */
	uint64_t bytes_cut;
};

#define MEM_PAGE 4096u

/* max_bytes 0: no bound. ERR_INVALID on overflow. */
int mem_layout_compute(const struct mem_map *maps, size_t n, const struct mem_select *s,
		       uint64_t max_bytes, uint64_t notes_size, struct mem_layout *L,
		       struct err *e);
void mem_layout_free(struct mem_layout *L);
/* The ELF header and the program headers (everything before notes_off). */
void mem_layout_headers(const struct mem_layout *L, struct sbuf *out);
/* With xnum, the section header written at shoff (64 bytes). */
void mem_layout_shdr(const struct mem_layout *L, struct sbuf *out);

/* ---- notes ---- */
/* Append one note: Elf64_Nhdr, name with its NUL padded to 4, desc padded to 4. */
void mem_note_add(struct sbuf *b, const char *name, uint32_t type, const void *desc,
		  size_t descsz);
/* The NT_FILE desc for every file-backed map (path starting with '/'):
 * count, page size, {start, end, offset in pages}..., names. Bounded to
 * max bytes (0: 4 MiB, the kernel's bound): maps past it are left out and
 * counted in *dropped (may be NULL). */
void mem_note_file_desc(const struct mem_map *maps, size_t n, size_t max, struct sbuf *out,
			size_t *dropped);

/* What /proc/PID/stat, status and cmdline say, for PRPSINFO and PRSTATUS. */
struct mem_procinfo {
	pid_t pid, ppid, pgrp, sid;
	char state;
	int nice;
	unsigned long flags;
	uint32_t uid, gid;
	char comm[16];	 /* NUL-terminated, cut to 15 */
	char psargs[80]; /* cmdline, NULs as spaces, cut to 79 */
	uint64_t utime, stime, cutime, cstime; /* clock ticks */
	uint64_t sigpend, sighold;	       /* SigPnd, SigBlk (per thread) */
	/* The ids in the process's own pid namespace, as the kernel writes
	 * them in its cores (task_pid_vnr & co.): the last field of NSpid,
	 * NSpgid, NSsid of /proc/PID/status; ns_ppid is the parent's id at the
	 * same level (mem_ns_ppid), 0 when the parent is outside the namespace.
	 * ns_depth is the number of NSpid fields (0: the kernel shows none, the
	 * host ids are used). pid, ppid, pgrp and sid stay the host's. */
	unsigned ns_depth;
	pid_t ns_pid, ns_ppid, ns_pgrp, ns_sid;
};
/* /proc/PID/stat (comm may hold spaces and parentheses: the last ')' ends it) */
int mem_parse_stat(const char *buf, size_t len, struct mem_procinfo *pi, struct err *e);
/* /proc/PID/status: Uid, Gid (real), SigPnd, SigBlk, and the last fields
 * of NSpid, NSpgid, NSsid (ns_depth: how many NSpid fields, at most
 * MEM_NS_MAX; a malformed or longer line leaves ns_depth 0). */
#define MEM_NS_MAX 33 /* MAX_PID_NS_LEVEL 32, plus the host's */
void mem_parse_status(const char *buf, size_t len, struct mem_procinfo *pi);
/* The parent's id as the child's namespace sees it, from the parent's
 * /proc/PPID/status: its NSpid field at the child's depth (child_depth
 * fields), 0 when the parent has fewer (it lives in an ancestor namespace)
 * or the line is missing or malformed. */
pid_t mem_ns_ppid(const char *parent_status, size_t len, unsigned child_depth);
/* cmdline -> psargs */
void mem_set_psargs(struct mem_procinfo *pi, const char *cmdline, size_t len);

/* One thread's state for its notes. */
struct mem_thread {
	pid_t tid;
	const char *regs_source; /* "ptrace", "syscall", "none" */
	char regs_error[160];	 /* why ptrace was not the source, or "" */
	bool have_regs, have_fp;
	unsigned char regs[27 * 8]; /* struct user_regs_struct == elf_gregset_t */
	unsigned char fpregs[512];  /* struct user_fpregs_struct == elf_fpregset_t */
	unsigned char *xstate;	    /* NT_X86_XSTATE (malloc'd) or NULL */
	size_t xstate_len;
	int cursig;		    /* a signal it was stopped with, else 0 */
	bool have_siginfo;
	unsigned char siginfo[128]; /* siginfo_t */
	struct mem_procinfo info;   /* the thread's own stat (times, signals) */
};

/* /proc/PID/task/TID/syscall: "NR a1..a6 SP PC", "-1 SP PC" or "running".
 * Fills t->regs (orig_rax, rdi, rsi, rdx, r10, r8, r9, rsp, rip, cs, ss).
 * 0 ok, -1 ERR_INVALID (or "running": ERR_WRONGSTATE). */
int mem_parse_syscall(const char *buf, size_t len, struct mem_thread *t, struct err *e);

/* The notes carry the namespace ids (info.ns_pid of each thread, pi's
 * ns_ppid, ns_pgrp, ns_sid) when pi->ns_depth is set, else the host ids.
 * Every note of the core in the kernel's order: the first thread's
 * PRSTATUS, PRPSINFO, SIGINFO (when the first thread had a signal), AUXV,
 * FILE, its FPREGSET and X86_XSTATE, then each other thread's PRSTATUS,
 * FPREGSET, X86_XSTATE. threads[0] should be the main thread. */
void mem_notes_build(const struct mem_procinfo *pi, const struct mem_thread *threads,
		     size_t nthreads, const void *auxv, size_t auxv_len,
		     const struct sbuf *file_desc, struct sbuf *out);

/* ---- taking processes ---- */
enum mem_regs_mode {
	MEM_REGS_AUTO = 0, /* ptrace (through a thaw window under the v1 freezer) */
	MEM_REGS_PTRACE,   /* the same */
	MEM_REGS_SYSCALL,  /* never ptrace: /proc/PID/task/TID/syscall */
};

struct mem_opts {
	bool full;		 /* file-backed read-only mappings too */
	uint64_t max_bytes;	 /* bound of the segment bytes (0: none); mem_collect: of all cores */
	enum mem_regs_mode regs;
	unsigned read_timeout_ms; /* one chunk read (0: 10000) */
	unsigned stop_timeout_ms; /* stopping all threads (0: 3000) */
	size_t max_maps_bytes;	 /* bound of /proc/PID/maps (0: 64 MiB) */
	/* Freeze state to check before and after each process (may be NULL:
	 * found from /proc/PID/cgroup). A process whose cgroup was frozen
	 * before and is not after is an error in its summary. */
	const char *cgroup_unified; /* cgroup2 dir of the container */
	const char *cgroup_freezer; /* v1 freezer dir of the container */
	/* test hook: called after each chunk of segment bytes is written
	 * (mem-driver uses it to kill a process mid-capture); may be NULL */
	void (*progress)(void *ctx, pid_t pid, uint64_t written);
	void *progress_ctx;
};

/* Freeze state of the cgroup a process lives in (or of the dirs given):
 * "frozen", "thawed" or "unknown", for the unified and the v1 freezer. */
struct mem_freeze {
	char v2[16], v1[16];
};
void mem_freeze_state(pid_t pid, const char *cg_unified, const char *cg_freezer,
		      struct mem_freeze *out);

/* One process: its core through core, its raw maps through maps (may be
 * NULL). *summary (always set, even on -1) is {pid, comm, exe, ids:{pid,
 * ppid, pgrp, sid (the host's), ns_pid, ns_ppid, ns_pgrp, ns_sid, ns_depth},
 * threads, registers:{source, threads:[{tid (host), ns_tid, source, error?}],
 * v1_interrupt?}, regions, regions_dumped,
 * bytes, bytes_zero, bytes_unreadable, bytes_cut, core_size, freeze:{before,
 * after}, skipped:[...], cut:[...], unreadable:[...], notes:[...], error?}.
 * Returns 0 when a core was written (pages lost when the process exited or
 * a read failed are holes, listed), -1 when not (gone before, a sink error,
 * no access). */
int mem_dump_pid(pid_t pid, const struct mem_opts *o, const struct sink *core,
		 const struct sink *maps, json_t **summary, struct err *e);

/* Sinks for mem_collect: open gives the sink for "<pid>.core" or
 * "<pid>.maps"; close ends it (ok false: the artifact is incomplete);
 * summary is the process's (mem_dump_pid), for the ids to record with the
 * artifact. open_sized (may be NULL: open is used) opens the core once its
 * layout is known, with the exact size the core will have (a tar bag then
 * writes it straight into the tar, not through a spool file); a core whose
 * layout was never reached is opened with open, written empty and closed
 * with ok false. */
struct mem_out {
	int (*open)(void *ctx, pid_t pid, const char *name, struct sink *out, struct err *e);
	int (*close)(void *ctx, pid_t pid, const char *name, bool ok, const json_t *summary,
		     struct err *e);
	void *ctx;
	int (*open_sized)(void *ctx, pid_t pid, const char *name, uint64_t size, struct sink *out,
			  struct err *e);
};

/* Every pid: {collector:"memory", time, options:{full, max_bytes, regs},
 * processes:[summary...], cores, failed, bytes, v1_interrupt?:[{freezer,
 * result, cgroups, tasks, trapped, thawed, window_us, thaw_write_us,
 * traps_us, refrozen, frozen_after, errno?, task?}] (one per v1 freezer
 * cgroup whose window was tried)}. A failing process is
 * recorded and the others still go in; -1 only when none could be taken
 * (or on a close error of the sink). o->max_bytes bounds all cores together. */
int mem_collect(const pid_t *pids, size_t npids, const struct mem_opts *o,
		const struct mem_out *out, json_t **summary, struct err *e);
