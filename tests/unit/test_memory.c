/* test_memory.c: the pure half of the memory collector: maps lines (hostile
 * ones too), which mappings go in, the layout, the notes. */
#include <elf.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/sysmacros.h>
#include <sys/user.h>

#include "contain/memory.h"
#include "unit.h"

static struct mem_map line(const char *s)
{
	struct mem_map m;
	struct err e;
	ck_assert_msg(mem_maps_parse_line(s, strlen(s), &m, &e) == 0, "%s: %s", s, e.msg);
	return m;
}

static int bad(const char *s, size_t n)
{
	struct mem_map m;
	struct err e;
	int r = mem_maps_parse_line(s, n, &m, &e);
	if (r == 0)
		mem_map_clear(&m);
	return r;
}

START_TEST(maps_good_lines)
{
	struct mem_map m = line("00400000-00401000 r-xp 00001000 fe:00 10952930        /usr/bin/x y\n");
	ck_assert_uint_eq(m.start, 0x400000);
	ck_assert_uint_eq(m.end, 0x401000);
	ck_assert_uint_eq(m.offset, 0x1000);
	ck_assert_uint_eq(m.perms, MEM_R | MEM_X);
	ck_assert_uint_eq(m.dev_major, 0xfe);
	ck_assert_uint_eq(m.dev_minor, 0);
	ck_assert_uint_eq(m.inode, 10952930);
	ck_assert_str_eq(m.path, "/usr/bin/x y"); /* spaces kept */
	mem_map_clear(&m);
	m = line("7f7a95c49000-7f7a96449000 rw-p 00000000 00:00 0 ");
	ck_assert_ptr_null(m.path);
	ck_assert_uint_eq(m.perms, MEM_R | MEM_W);
	mem_map_clear(&m);
	m = line("ffffffffff600000-ffffffffff601000 --xs 00000000 00:00 0     [vsyscall]");
	ck_assert_uint_eq(m.perms, MEM_X | MEM_SHARED);
	ck_assert_str_eq(m.path, "[vsyscall]");
	mem_map_clear(&m);
	m = line("7f0000000000-7f0000001000 rw-s 00000000 00:01 77 /memfd:evil\\012name (deleted)");
	ck_assert_str_eq(m.path, "/memfd:evil\\012name (deleted)");
	mem_map_clear(&m);
}
END_TEST

START_TEST(maps_hostile_lines)
{
	ck_assert_int_eq(bad("", 0), -1);
	ck_assert_int_eq(bad("garbage", 7), -1);
	const char *cases[] = {
		"00401000-00400000 r-xp 00000000 fe:00 1 /x", /* end < start */
		"00400000-00400000 r-xp 00000000 fe:00 1 /x", /* empty */
		"00400001-00401000 r-xp 00000000 fe:00 1 /x", /* unaligned */
		"00400000-00401000 rwxq 00000000 fe:00 1 /x", /* bad perm */
		"00400000-00401000 r?xp 00000000 fe:00 1 /x",
		"00400000-00401000 r-x 00000000 fe:00 1 /x",
		"00400000-00401000 r-xp zz fe:00 1 /x",
		"00400000-00401000 r-xp 00000000 fe00 1 /x",
		"00400000-00401000 r-xp 00000000 fe:00 x /x",
		"00400000-00401000 r-xp 00000000 fe:00 12a /x",
		"00400000-00401000 r-xp 00000000 fe:00 99999999999999999999999 /x",
		"10000000000000000-10000000000001000 r-xp 00000000 fe:00 1 /x", /* 17 digits */
		"-00401000 r-xp 00000000 fe:00 1 /x",
		"00400000-00401000  r-xp 00000000 fe:00 1 /x",
		"00400000-00401000 r-xp 00000000 fffff:00 1 /x",
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		ck_assert_msg(bad(cases[i], strlen(cases[i])) == -1, "accepted: %s", cases[i]);
	/* an embedded NUL or newline */
	char nul[] = "00400000-00401000 r-xp 00000000 fe:00 1 /a\0b";
	ck_assert_int_eq(bad(nul, sizeof(nul) - 1), -1);
	const char *nl = "00400000-00401000 r-xp 00000000 fe:00 1 /a\nb";
	ck_assert_int_eq(bad(nl, strlen(nl)), -1);
	/* a path longer than the bound */
	size_t big = MEM_MAP_PATH_MAX + 100;
	char *l = malloc(big + 64);
	int k = snprintf(l, 64, "00400000-00401000 r-xp 00000000 fe:00 1 /");
	memset(l + k, 'a', big);
	ck_assert_int_eq(bad(l, (size_t)k + big), -1);
	free(l);
}
END_TEST

START_TEST(maps_whole_file)
{
	const char *f = "00400000-00401000 r--p 00000000 fe:00 5 /bin/x\n"
			"junk line\n"
			"\n"
			"00401000-00402000 r-xp 00001000 fe:00 5 /bin/x\n"
			"7ffe0000-7fff0000 rw-p 00000000 00:00 0   [stack]"; /* no final newline */
	struct mem_map *v;
	size_t n, nbad;
	struct err e;
	ck_assert_int_eq(mem_maps_parse(f, strlen(f), 0, &v, &n, &nbad, &e), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(nbad, 1);
	ck_assert_str_eq(v[2].path, "[stack]");
	mem_maps_free(v, n);
	/* more maps than the bound */
	ck_assert_int_eq(mem_maps_parse(f, strlen(f), 2, &v, &n, &nbad, &e), -1);
	ck_assert_int_eq(e.kind, ERR_INVALID);
}
END_TEST

static int pick(const char *l, const struct mem_select *s, const char **why)
{
	struct mem_map m = line(l);
	int r = mem_map_classify(&m, s, why);
	mem_map_clear(&m);
	return r;
}

START_TEST(selection)
{
	struct mem_select s = {.have_exe = true, .exe_dev = makedev(0xfe, 0), .exe_ino = 5};
	const char *why;
	ck_assert_int_eq(pick("1000-2000 rw-p 0 00:00 0 [stack]", &s, &why), 0);
	ck_assert_str_eq(why, "stack");
	ck_assert_int_eq(pick("1000-2000 rw-p 0 00:00 0 [heap]", &s, &why), 1);
	ck_assert_int_ge(pick("1000-2000 rw-p 0 00:00 0", &s, &why), 0);
	ck_assert_str_eq(why, "anonymous");
	ck_assert_int_ge(pick("1000-2000 r-xp 0 00:00 0 [vdso]", &s, &why), 0);
	ck_assert_int_eq(pick("1000-2000 r--p 0 00:00 0 [vvar]", &s, &why), MEM_PICK_SKIP);
	ck_assert_int_eq(pick("1000-2000 r--p 0 00:00 0 [vvar_vclock]", &s, &why), MEM_PICK_SKIP);
	ck_assert_int_eq(pick("1000-2000 --xp 0 00:00 0 [vsyscall]", &s, &why), MEM_PICK_SKIP);
	ck_assert_int_eq(pick("1000-2000 ---p 0 00:00 0", &s, &why), MEM_PICK_SKIP);
	ck_assert_str_eq(why, "not readable");
	/* the executable's own, even read-only */
	ck_assert_int_ge(pick("1000-2000 r-xp 1000 fe:00 5 /bin/x", &s, &why), 0);
	ck_assert_str_eq(why, "executable");
	/* a library's text: out (header page only at offset 0), in with full */
	ck_assert_int_eq(pick("1000-2000 r-xp 1000 fe:00 9 /lib/libc.so", &s, &why), MEM_PICK_SKIP);
	ck_assert_int_eq(pick("1000-2000 r--p 0 fe:00 9 /lib/libc.so", &s, &why), MEM_PICK_HEADER);
	ck_assert_int_ge(pick("1000-2000 rw-p 5000 fe:00 9 /lib/libc.so", &s, &why), 0);
	ck_assert_str_eq(why, "private writable");
	ck_assert_int_ge(pick("1000-2000 r-xp 0 00:01 9 /memfd:x (deleted)", &s, &why), 0);
	ck_assert_str_eq(why, "memfd");
	ck_assert_int_ge(pick("1000-2000 r-xp 0 fe:00 9 /tmp/dropper (deleted)", &s, &why), 0);
	ck_assert_str_eq(why, "deleted file");
	ck_assert_int_eq(pick("1000-2000 rw-s 0 00:05 9 /dev/mem", &s, &why), MEM_PICK_SKIP);
	ck_assert_str_eq(why, "device");
	ck_assert_int_ge(pick("1000-2000 rw-s 0 00:19 9 /dev/shm/x", &s, &why), 0);
	s.full = true;
	ck_assert_int_ge(pick("1000-2000 r-xp 1000 fe:00 9 /lib/libc.so", &s, &why), 0);
	ck_assert_int_eq(pick("1000-2000 rw-s 0 00:05 9 /dev/mem", &s, &why), MEM_PICK_SKIP);
}
END_TEST

static const char *maps3 = "00400000-00402000 r-xp 00000000 fe:00 5 /bin/x\n"
			   "00402000-00403000 r--p 00000000 fe:00 9 /lib/y.so\n"
			   "00500000-00504000 rw-p 00000000 00:00 0 [heap]\n"
			   "7ffe0000-7ffe3000 rw-p 00000000 00:00 0 [stack]\n"
			   "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n";

START_TEST(layout)
{
	struct mem_map *v;
	size_t n;
	struct err e;
	ck_assert_int_eq(mem_maps_parse(maps3, strlen(maps3), 0, &v, &n, NULL, &e), 0);
	struct mem_select s = {.have_exe = true, .exe_dev = makedev(0xfe, 0), .exe_ino = 5};
	struct mem_layout L;
	ck_assert_int_eq(mem_layout_compute(v, n, &s, 0, 1000, &L, &e), 0);
	ck_assert_uint_eq(L.nsegs, 5);
	ck_assert_uint_eq(L.phnum, 6);
	ck_assert(!L.xnum);
	ck_assert_uint_eq(L.notes_off, 64 + 6 * 56);
	ck_assert_uint_eq(L.data_off % MEM_PAGE, 0);
	ck_assert_uint_ge(L.data_off, L.notes_off + 1000);
	/* exe 2 pages, y.so header page, heap 4, stack 3, vsyscall 0 */
	ck_assert_uint_eq(L.segs[0].filesz, 0x2000);
	ck_assert_uint_eq(L.segs[1].filesz, 0x1000);
	ck_assert_uint_eq(L.segs[2].filesz, 0x4000);
	ck_assert_uint_eq(L.segs[3].filesz, 0x3000);
	ck_assert_uint_eq(L.segs[4].filesz, 0);
	ck_assert_uint_eq(L.segs[4].memsz, 0x1000);
	ck_assert_uint_eq(L.bytes, 0xa000);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(L.segs[i].offset % MEM_PAGE, 0);
		if (i)
			ck_assert_uint_eq(L.segs[i].offset, L.segs[i - 1].offset + L.segs[i - 1].filesz);
	}
	ck_assert_uint_eq(L.size, L.data_off + 0xa000);
	ck_assert_uint_eq(L.segs[0].flags, PF_R | PF_X);
	ck_assert_uint_eq(L.segs[2].flags, PF_R | PF_W);

	/* the headers */
	struct sbuf h = SBUF_INIT;
	mem_layout_headers(&L, &h);
	ck_assert_uint_eq(h.len, L.notes_off);
	Elf64_Ehdr eh;
	memcpy(&eh, h.buf, sizeof(eh));
	ck_assert_int_eq(memcmp(eh.e_ident, ELFMAG, SELFMAG), 0);
	ck_assert_int_eq(eh.e_type, ET_CORE);
	ck_assert_int_eq(eh.e_machine, EM_X86_64);
	ck_assert_int_eq(eh.e_phnum, 6);
	Elf64_Phdr ph;
	memcpy(&ph, h.buf + 64, sizeof(ph));
	ck_assert_int_eq(ph.p_type, PT_NOTE);
	ck_assert_uint_eq(ph.p_offset, L.notes_off);
	ck_assert_uint_eq(ph.p_filesz, 1000);
	memcpy(&ph, h.buf + 64 + 56 * 3, sizeof(ph));
	ck_assert_int_eq(ph.p_type, PT_LOAD);
	ck_assert_uint_eq(ph.p_vaddr, 0x500000);
	ck_assert_uint_eq(ph.p_memsz, 0x4000);
	ck_assert_uint_eq(ph.p_offset, L.segs[2].offset);
	sbuf_free(&h);
	mem_layout_free(&L);

	/* max bytes: the stack first, then the heap, cut to pages */
	ck_assert_int_eq(mem_layout_compute(v, n, &s, 0x5000 + 100, 0, &L, &e), 0);
	ck_assert_uint_eq(L.segs[3].filesz, 0x3000);
	ck_assert_uint_eq(L.segs[2].filesz, 0x2000);
	ck_assert_uint_eq(L.segs[2].cut, 0x2000);
	ck_assert_uint_eq(L.segs[0].filesz, 0);
	ck_assert_uint_eq(L.segs[0].cut, 0x2000);
	ck_assert_uint_eq(L.bytes, 0x5000);
	ck_assert_uint_le(L.bytes, 0x5000 + 100);
	mem_layout_free(&L);
	/* 1 byte: nothing fits */
	ck_assert_int_eq(mem_layout_compute(v, n, &s, 1, 0, &L, &e), 0);
	ck_assert_uint_eq(L.bytes, 0);
	mem_layout_free(&L);
	mem_maps_free(v, n);
}
END_TEST

START_TEST(layout_xnum)
{
	size_t n = 70000;
	struct mem_map *v = calloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i].start = 0x10000000 + i * 0x2000;
		v[i].end = v[i].start + 0x1000;
		v[i].perms = MEM_R | MEM_W;
	}
	struct mem_layout L;
	struct err e;
	ck_assert_int_eq(mem_layout_compute(v, n, NULL, 0, 0, &L, &e), 0);
	ck_assert(L.xnum);
	struct sbuf h = SBUF_INIT;
	mem_layout_headers(&L, &h);
	Elf64_Ehdr eh;
	memcpy(&eh, h.buf, sizeof(eh));
	ck_assert_int_eq(eh.e_phnum, PN_XNUM);
	ck_assert_uint_eq(eh.e_shoff, L.shoff);
	ck_assert_uint_eq(eh.e_shnum, 1);
	sbuf_reset(&h);
	mem_layout_shdr(&L, &h);
	Elf64_Shdr sh;
	memcpy(&sh, h.buf, sizeof(sh));
	ck_assert_uint_eq(sh.sh_info, n + 1);
	ck_assert_uint_eq(L.size, L.shoff + sizeof(Elf64_Shdr));
	sbuf_free(&h);
	mem_layout_free(&L);
	free(v);
}
END_TEST

/* walk notes: count by type */
static size_t count_notes(const struct sbuf *b, uint32_t type, const char *name)
{
	size_t off = 0, c = 0;
	while (off + sizeof(Elf64_Nhdr) <= b->len) {
		Elf64_Nhdr nh;
		memcpy(&nh, b->buf + off, sizeof(nh));
		const char *nm = b->buf + off + sizeof(nh);
		if (nh.n_type == type && strcmp(nm, name) == 0)
			c++;
		off += sizeof(nh) + ((nh.n_namesz + 3) & ~3u) + ((nh.n_descsz + 3) & ~3u);
	}
	ck_assert_uint_eq(off, b->len);
	return c;
}

START_TEST(notes)
{
	struct sbuf b = SBUF_INIT;
	mem_note_add(&b, "CORE", NT_AUXV, "abcde", 5);
	ck_assert_uint_eq(b.len, 12 + 8 + 8); /* header, "CORE\0" padded, desc padded */
	ck_assert_uint_eq(b.len % 4, 0);
	sbuf_reset(&b);

	struct mem_map *v;
	size_t n;
	struct err e;
	ck_assert_int_eq(mem_maps_parse(maps3, strlen(maps3), 0, &v, &n, NULL, &e), 0);
	struct sbuf fd = SBUF_INIT;
	size_t dropped;
	mem_note_file_desc(v, n, 0, &fd, &dropped);
	ck_assert_uint_eq(dropped, 0);
	uint64_t hdr[2];
	memcpy(hdr, fd.buf, sizeof(hdr));
	ck_assert_uint_eq(hdr[0], 2); /* /bin/x and /lib/y.so */
	ck_assert_uint_eq(hdr[1], MEM_PAGE);
	uint64_t ent[3];
	memcpy(ent, fd.buf + 16, sizeof(ent));
	ck_assert_uint_eq(ent[0], 0x400000);
	ck_assert_uint_eq(ent[1], 0x402000);
	ck_assert_str_eq(fd.buf + 16 + 2 * 24, "/bin/x");
	ck_assert_str_eq(fd.buf + 16 + 2 * 24 + 7, "/lib/y.so");
	/* the bound drops the ones that do not fit */
	struct sbuf small = SBUF_INIT;
	mem_note_file_desc(v, n, 16 + 24 + 7, &small, &dropped);
	ck_assert_uint_eq(dropped, 1);
	sbuf_free(&small);

	struct mem_procinfo pi = {.pid = 42, .ppid = 1, .state = 'S'};
	memcpy(pi.comm, "memtarget", 10);
	struct mem_thread th[3];
	memset(th, 0, sizeof(th));
	for (int i = 0; i < 3; i++) {
		th[i].tid = 42 + i;
		th[i].have_regs = th[i].have_fp = true;
		struct user_regs_struct r = {.rip = 0x401000u + (unsigned)i, .rsp = 0x7ffe1000};
		memcpy(th[i].regs, &r, sizeof(r));
	}
	mem_notes_build(&pi, th, 3, "auxvauxv", 8, &fd, &b);
	ck_assert_uint_eq(count_notes(&b, NT_PRSTATUS, "CORE"), 3);
	ck_assert_uint_eq(count_notes(&b, NT_FPREGSET, "CORE"), 3);
	ck_assert_uint_eq(count_notes(&b, NT_PRPSINFO, "CORE"), 1);
	ck_assert_uint_eq(count_notes(&b, NT_AUXV, "CORE"), 1);
	ck_assert_uint_eq(count_notes(&b, NT_FILE, "CORE"), 1);
	ck_assert_uint_eq(count_notes(&b, NT_SIGINFO, "CORE"), 0);
	/* kernel order: PRSTATUS(t0), PRPSINFO, AUXV, FILE, FPREGSET(t0), PRSTATUS(t1), ... */
	uint32_t want[] = {NT_PRSTATUS, NT_PRPSINFO, NT_AUXV, NT_FILE, NT_FPREGSET,
			   NT_PRSTATUS, NT_FPREGSET, NT_PRSTATUS, NT_FPREGSET};
	size_t off = 0;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		Elf64_Nhdr nh;
		memcpy(&nh, b.buf + off, sizeof(nh));
		ck_assert_uint_eq(nh.n_type, want[i]);
		if (nh.n_type == NT_PRSTATUS) {
			struct elf_prstatus ps;
			ck_assert_uint_eq(nh.n_descsz, sizeof(ps));
			memcpy(&ps, b.buf + off + sizeof(nh) + 8, sizeof(ps));
			struct user_regs_struct r;
			memcpy(&r, &ps.pr_reg, sizeof(r));
			int t = ps.pr_pid - 42;
			ck_assert_int_ge(t, 0);
			ck_assert_uint_eq(r.rip, 0x401000u + (unsigned)t);
			ck_assert_int_eq(ps.pr_fpvalid, 1);
		}
		if (nh.n_type == NT_PRPSINFO) {
			struct elf_prpsinfo pp;
			memcpy(&pp, b.buf + off + sizeof(nh) + 8, sizeof(pp));
			ck_assert_int_eq(pp.pr_pid, 42);
			ck_assert_str_eq(pp.pr_fname, "memtarget");
			ck_assert_int_eq(pp.pr_sname, 'S');
		}
		off += sizeof(nh) + ((nh.n_namesz + 3) & ~3u) + ((nh.n_descsz + 3) & ~3u);
	}
	ck_assert_uint_eq(off, b.len);
	sbuf_free(&b);
	sbuf_free(&fd);
	mem_maps_free(v, n);
}
END_TEST

START_TEST(proc_parsers)
{
	struct mem_procinfo pi;
	memset(&pi, 0, sizeof(pi));
	struct err e;
	/* a comm with spaces and parentheses */
	const char *st = "1234 (a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 0 0 20 -5 3 0";
	ck_assert_int_eq(mem_parse_stat(st, strlen(st), &pi, &e), 0);
	ck_assert_int_eq(pi.pid, 1234);
	ck_assert_str_eq(pi.comm, "a) b (c)");
	ck_assert_int_eq(pi.state, 'S');
	ck_assert_int_eq(pi.ppid, 1);
	ck_assert_uint_eq(pi.utime, 7);
	ck_assert_uint_eq(pi.stime, 3);
	ck_assert_int_eq(pi.nice, -5);
	ck_assert_int_eq(mem_parse_stat("1 (x", 4, &pi, &e), -1);
	ck_assert_int_eq(mem_parse_stat("1 (x) S 1", 9, &pi, &e), -1);
	ck_assert_int_eq(mem_parse_stat("x (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 0 0", 41, &pi, &e), -1);
	const char *status = "Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGid:\t5\t5\t5\t5\n"
			     "SigPnd:\t0000000000000100\nSigBlk:\t0000000000010000\n";
	mem_parse_status(status, strlen(status), &pi);
	ck_assert_uint_eq(pi.uid, 1000);
	ck_assert_uint_eq(pi.gid, 5);
	ck_assert_uint_eq(pi.sigpend, 0x100);
	ck_assert_uint_eq(pi.sighold, 0x10000);
	mem_set_psargs(&pi, "/bin/sh\0-c\0echo hi\0", 19);
	ck_assert_str_eq(pi.psargs, "/bin/sh -c echo hi");
	char longc[200];
	memset(longc, 'a', sizeof(longc));
	mem_set_psargs(&pi, longc, sizeof(longc));
	ck_assert_uint_eq(strlen(pi.psargs), 79);
}
END_TEST

START_TEST(ns_ids)
{
	struct mem_procinfo pi;
	memset(&pi, 0, sizeof(pi));
	/* a process in a nested pid namespace: host 812, then 40, its own 7 */
	const char *st = "Name:\tx\nNSpid:\t812\t40\t7\nNSpgid:\t800\t30\t0\nNSsid:\t800\t30\t1\n";
	mem_parse_status(st, strlen(st), &pi);
	ck_assert_uint_eq(pi.ns_depth, 3);
	ck_assert_int_eq(pi.ns_pid, 7);
	ck_assert_int_eq(pi.ns_pgrp, 0); /* its group leader is outside */
	ck_assert_int_eq(pi.ns_sid, 1);
	/* the parent at the same depth, and one in an ancestor namespace */
	const char *par = "NSpid:\t811\t39\t6\n";
	ck_assert_int_eq(mem_ns_ppid(par, strlen(par), 3), 6);
	const char *up = "NSpid:\t700\t20\n";
	ck_assert_int_eq(mem_ns_ppid(up, strlen(up), 3), 0);
	ck_assert_int_eq(mem_ns_ppid("Name:\tx\n", 8, 3), 0);
	/* malformed or inconsistent: no namespace ids, the host's are used */
	const char *bad[] = {
	    "NSpid:\t812\tx\nNSpgid:\t1\t1\nNSsid:\t1\t1\n",
	    "NSpid:\t812\t7\nNSpgid:\t1\nNSsid:\t1\t1\n",
	    "NSpid:\t0\nNSpgid:\t1\nNSsid:\t1\n",
	    "NSpid:\t-3\nNSpgid:\t1\nNSsid:\t1\n",
	    "Name:\tx\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		pi.ns_depth = 9;
		mem_parse_status(bad[i], strlen(bad[i]), &pi);
		ck_assert_uint_eq(pi.ns_depth, 0);
	}
	/* more levels than a kernel has */
	struct sbuf b = SBUF_INIT;
	sbuf_adds(&b, "NSpid:");
	for (int i = 0; i < MEM_NS_MAX + 1; i++)
		sbuf_printf(&b, "\t%d", i + 1);
	sbuf_adds(&b, "\nNSpgid:\t1\nNSsid:\t1\n");
	mem_parse_status(b.buf, b.len, &pi);
	ck_assert_uint_eq(pi.ns_depth, 0);
	sbuf_free(&b);

	/* the notes carry them: PRSTATUS per thread, PRPSINFO */
	memset(&pi, 0, sizeof(pi));
	pi.pid = 812;
	pi.ppid = 811;
	pi.state = 'S';
	mem_parse_status(st, strlen(st), &pi);
	pi.ns_ppid = 6;
	struct mem_thread th[2];
	memset(th, 0, sizeof(th));
	th[0].tid = 812;
	th[0].info = pi;
	th[1].tid = 813;
	const char *st1 = "NSpid:\t813\t41\t8\nNSpgid:\t800\t30\t0\nNSsid:\t800\t30\t1\n";
	mem_parse_status(st1, strlen(st1), &th[1].info);
	struct sbuf n = SBUF_INIT;
	mem_notes_build(&pi, th, 2, NULL, 0, NULL, &n);
	size_t off = 0;
	int seen = 0;
	while (off + sizeof(Elf64_Nhdr) <= n.len) {
		Elf64_Nhdr nh;
		memcpy(&nh, n.buf + off, sizeof(nh));
		const unsigned char *desc =
		    (const unsigned char *)n.buf + off + sizeof(nh) + ((nh.n_namesz + 3) & ~3u);
		if (nh.n_type == NT_PRSTATUS) {
			struct elf_prstatus ps;
			memcpy(&ps, desc, sizeof(ps));
			ck_assert_int_eq(ps.pr_pid, seen == 0 ? 7 : 8);
			ck_assert_int_eq(ps.pr_ppid, 6);
			ck_assert_int_eq(ps.pr_pgrp, 0);
			ck_assert_int_eq(ps.pr_sid, 1);
			seen++;
		} else if (nh.n_type == NT_PRPSINFO) {
			struct elf_prpsinfo pp;
			memcpy(&pp, desc, sizeof(pp));
			ck_assert_int_eq(pp.pr_pid, 7);
			ck_assert_int_eq(pp.pr_ppid, 6);
		}
		off += sizeof(nh) + ((nh.n_namesz + 3) & ~3u) + ((nh.n_descsz + 3) & ~3u);
	}
	ck_assert_int_eq(seen, 2);
	sbuf_free(&n);
}
END_TEST

START_TEST(syscall_file)
{
	struct mem_thread t;
	struct err e;
	struct user_regs_struct r;
	memset(&t, 0, sizeof(t));
	const char *s = "34 0x0 0x0 0x0 0x0 0x0 0x0 0x7ffd7f1c5a18 0x43bf32\n";
	ck_assert_int_eq(mem_parse_syscall(s, strlen(s), &t, &e), 0);
	memcpy(&r, t.regs, sizeof(r));
	ck_assert_uint_eq(r.orig_rax, 34);
	ck_assert_uint_eq(r.rsp, 0x7ffd7f1c5a18);
	ck_assert_uint_eq(r.rip, 0x43bf32);
	ck_assert_str_eq(t.regs_source, "syscall");
	memset(&t, 0, sizeof(t));
	s = "-1 0x7ffd7f1c5a18 0x401000\n";
	ck_assert_int_eq(mem_parse_syscall(s, strlen(s), &t, &e), 0);
	memcpy(&r, t.regs, sizeof(r));
	ck_assert_uint_eq(r.rip, 0x401000);
	ck_assert_int_eq(mem_parse_syscall("running\n", 8, &t, &e), -1);
	ck_assert_int_eq(e.kind, ERR_WRONGSTATE);
	ck_assert_int_eq(mem_parse_syscall("1 2 3 4", 7, &t, &e), -1);
	ck_assert_int_eq(mem_parse_syscall("1 0xzz 0x1", 10, &t, &e), -1);
	ck_assert_int_eq(mem_parse_syscall("x 0x1 0x1", 9, &t, &e), -1);
	ck_assert_int_eq(mem_parse_syscall("1 0x11111111111111111 0x1", 25, &t, &e), -1);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("memory");
	TCase *tc = tcase_create("memory");
	tcase_add_test(tc, maps_good_lines);
	tcase_add_test(tc, maps_hostile_lines);
	tcase_add_test(tc, maps_whole_file);
	tcase_add_test(tc, selection);
	tcase_add_test(tc, layout);
	tcase_add_test(tc, layout_xnum);
	tcase_add_test(tc, notes);
	tcase_add_test(tc, proc_parsers);
	tcase_add_test(tc, ns_ids);
	tcase_add_test(tc, syscall_file);
	suite_add_tcase(s, tc);
	return s;
}
