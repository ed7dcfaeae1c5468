/* test_coreread: src/analyze/coreread.c on cores written here (ELF header,
 * PT_NOTE with NT_PRPSINFO/NT_PRSTATUS/NT_FILE, three PT_LOADs), read from an
 * fd and from a stream in small reads, with small chunks; a real core of a
 * child process written by the memory collector (mem_dump_pid); hostile
 * cores (every truncation, lying counts and sizes, huge phnum, overlaps);
 * and the process rules of issue 11 in findings.c over hand-built reports
 * (positive and negative cases). */
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "contain/analyze.h"
#include "contain/memory.h"
#include "unit.h"

/* ---- a core built here ---- */

static void note(struct sbuf *b, const char *name, uint32_t type, const void *d, size_t n)
{
	mem_note_add(b, name, type, d, n);
}

#define V_EXE  0x400000ull
#define V_ANON 0x7f0000000000ull
#define V_GONE 0x7f0000100000ull

struct built {
	struct sbuf buf;
	size_t load_off[3];
};

/* exe (r-x, file /usr/bin/target, 2 pages), anon rwx with an ELF header (1
 * page), a region left out (filesz 0) */
static void build_core(struct built *bt, bool file_count_lies)
{
	struct sbuf notes = SBUF_INIT;
	struct elf_prstatus ps;
	memset(&ps, 0, sizeof(ps));
	ps.pr_pid = 4242;
	note(&notes, "CORE", NT_PRSTATUS, &ps, sizeof(ps));
	struct elf_prpsinfo pp;
	memset(&pp, 0, sizeof(pp));
	pp.pr_pid = 4242;
	snprintf(pp.pr_fname, sizeof(pp.pr_fname), "target");
	snprintf(pp.pr_psargs, sizeof(pp.pr_psargs), "/usr/bin/target -x");
	note(&notes, "CORE", NT_PRPSINFO, &pp, sizeof(pp));
	struct sbuf nf = SBUF_INIT;
	uint64_t hdr[2] = {file_count_lies ? 1000000 : 1, 4096};
	sbuf_add(&nf, hdr, sizeof(hdr));
	uint64_t ent[3] = {V_EXE, V_EXE + 0x2000, 3};
	sbuf_add(&nf, ent, sizeof(ent));
	sbuf_add(&nf, "/usr/bin/target", 16);
	note(&notes, "CORE", NT_FILE, nf.buf, nf.len);
	sbuf_free(&nf);

	size_t phnum = 4;
	size_t notes_off = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
	size_t data_off = (notes_off + notes.len + 4095) / 4096 * 4096;
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)phnum;
	bt->buf = (struct sbuf)SBUF_INIT;
	sbuf_add(&bt->buf, &eh, sizeof(eh));
	Elf64_Phdr ph[4];
	memset(ph, 0, sizeof(ph));
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = notes_off;
	ph[0].p_filesz = notes.len;
	struct {
		uint64_t va, sz, fsz;
		uint32_t fl;
	} segs[3] = {{V_EXE, 0x2000, 0x2000, PF_R | PF_X},
		     {V_ANON, 0x1000, 0x1000, PF_R | PF_W | PF_X},
		     {V_GONE, 0x3000, 0, PF_R}};
	size_t off = data_off;
	for (int i = 0; i < 3; i++) {
		ph[i + 1].p_type = PT_LOAD;
		ph[i + 1].p_vaddr = segs[i].va;
		ph[i + 1].p_memsz = segs[i].sz;
		ph[i + 1].p_filesz = segs[i].fsz;
		ph[i + 1].p_offset = off;
		ph[i + 1].p_flags = segs[i].fl;
		ph[i + 1].p_align = 4096;
		bt->load_off[i] = off;
		off += segs[i].fsz;
	}
	sbuf_add(&bt->buf, ph, sizeof(ph));
	sbuf_add(&bt->buf, notes.buf, notes.len);
	while (bt->buf.len < data_off)
		sbuf_addc(&bt->buf, 0);
	/* region 0: bytes i & 0xff; region 1: an ELF header then 0xcc */
	for (size_t i = 0; i < 0x2000; i++)
		sbuf_addc(&bt->buf, (char)(i & 0xff));
	sbuf_add(&bt->buf,
		 "\x7f"
		 "ELF\x02\x01\x01",
		 7);
	for (size_t i = 7; i < 0x1000; i++)
		sbuf_addc(&bt->buf, (char)0xcc);
	sbuf_free(&notes);
}

/* what the callbacks saw */
struct seen {
	size_t calls;
	size_t nreg;
	struct {
		uint64_t vaddr, bytes, next_off;
		char name[64];
		bool file_backed;
		uint64_t file_ofs;
		uint32_t flags;
		bool content_ok;
		bool elf_head;
	} r[16];
	int stop_after; /* <0 stop at that call number (1-based) */
};

static int on_region(const struct acore_region *r, const void *data, size_t n, uint64_t off,
		     void *arg)
{
	struct seen *s = arg;
	s->calls++;
	if (s->stop_after && (int)s->calls == s->stop_after)
		return -1;
	size_t k;
	for (k = 0; k < s->nreg; k++)
		if (s->r[k].vaddr == r->vaddr)
			break;
	if (k == s->nreg) {
		ck_assert_uint_lt(s->nreg, 16);
		s->nreg++;
		s->r[k].vaddr = r->vaddr;
		snprintf(s->r[k].name, sizeof(s->r[k].name), "%s", r->name);
		s->r[k].file_backed = r->file_backed;
		s->r[k].file_ofs = r->file_ofs;
		s->r[k].flags = r->flags;
		s->r[k].content_ok = true;
	}
	ck_assert_uint_eq(off, s->r[k].next_off); /* in order, no gap */
	ck_assert(n == 0 || data != NULL);
	const unsigned char *d = data;
	for (size_t i = 0; i < n; i++) {
		uint64_t at = off + i;
		unsigned char want = r->vaddr == V_EXE ? (unsigned char)(at & 0xff)
				     : at < 7	       ? (unsigned char)"\x7f"
									"ELF\x02\x01\x01"[at]
						       : 0xcc;
		if (d[i] != want)
			s->r[k].content_ok = false;
	}
	if (off == 0 && n >= 4 &&
	    memcmp(d,
		   "\x7f"
		   "ELF",
		   4) == 0)
		s->r[k].elf_head = true;
	s->r[k].bytes += n;
	s->r[k].next_off += n;
	return 0;
}

struct mstream {
	const unsigned char *p;
	size_t len, pos, step;
};

static ssize_t mread(void *ctx, void *buf, size_t n, struct err *e)
{
	(void)e;
	struct mstream *m = ctx;
	size_t k = m->len - m->pos;
	if (k > n)
		k = n;
	if (k > m->step)
		k = m->step;
	memcpy(buf, m->p + m->pos, k);
	m->pos += k;
	return (ssize_t)k;
}

static int tmpfile_with(const void *buf, size_t n)
{
	char path[] = "/tmp/test_coreread.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write_all(fd, buf, n), 0);
	return fd;
}

static void check_seen(const struct seen *s, const struct acore_info *info)
{
	ck_assert_uint_eq(s->nreg, 3);
	ck_assert_int_eq(info->pid, 4242);
	ck_assert_str_eq(info->comm, "target");
	ck_assert_str_eq(info->psargs, "/usr/bin/target -x");
	ck_assert_uint_eq(info->nthreads, 1);
	ck_assert_uint_eq(info->nregions, 3);
	ck_assert_uint_eq(info->nfile, 1);
	ck_assert_uint_eq(info->bytes, 0x3000);
	/* exe: named from NT_FILE, file offset 3 pages */
	ck_assert_str_eq(s->r[0].name, "/usr/bin/target");
	ck_assert(s->r[0].file_backed);
	ck_assert_uint_eq(s->r[0].file_ofs, 3 * 4096);
	ck_assert_uint_eq(s->r[0].bytes, 0x2000);
	ck_assert(s->r[0].content_ok);
	ck_assert_uint_eq(s->r[0].flags, PF_R | PF_X);
	/* anon rwx, starting with an ELF header */
	ck_assert_str_eq(s->r[1].name, "anon");
	ck_assert(!s->r[1].file_backed);
	ck_assert(s->r[1].elf_head);
	ck_assert(s->r[1].content_ok);
	ck_assert_uint_eq(s->r[1].flags, PF_R | PF_W | PF_X);
	/* left out: one call, no bytes */
	ck_assert_uint_eq(s->r[2].vaddr, V_GONE);
	ck_assert_uint_eq(s->r[2].bytes, 0);
}

START_TEST(built_core_fd_and_stream)
{
	struct built bt;
	build_core(&bt, false);
	/* fd, default chunk and 4 KiB chunks */
	size_t chunks[] = {0, 4096, 1000};
	for (size_t c = 0; c < ARRAY_SIZE(chunks); c++) {
		int fd = tmpfile_with(bt.buf.buf, bt.buf.len);
		struct seen s = {0};
		struct acore_opts o = {.on_region = on_region, .arg = &s, .chunk = chunks[c]};
		struct acore_info info;
		struct err e = {0};
		ck_assert_msg(acore_read_fd(fd, &o, &info, &e) == 0, "fd: %s", e.msg);
		check_seen(&s, &info);
		ck_assert_uint_eq(json_array_size(info.notes), 0);
		acore_info_free(&info);
		close(fd);
	}
	/* stream, in reads of 1, 7 and 65536 bytes */
	size_t steps[] = {1, 7, 65536};
	for (size_t k = 0; k < ARRAY_SIZE(steps); k++) {
		struct mstream m = {(const unsigned char *)bt.buf.buf, bt.buf.len, 0, steps[k]};
		struct seen s = {0};
		struct acore_opts o = {.on_region = on_region, .arg = &s, .chunk = 3000};
		struct acore_info info;
		struct err e = {0};
		ck_assert_msg(acore_read_stream(mread, &m, &o, &info, &e) == 0, "stream: %s",
			      e.msg);
		check_seen(&s, &info);
		acore_info_free(&info);
	}
	sbuf_free(&bt.buf);
}
END_TEST

static bool want_x_anon(const struct acore_region *r, void *arg)
{
	(void)arg;
	return (r->flags & PF_X) && !r->file_backed;
}

START_TEST(names_from_maps_and_bounds)
{
	struct built bt;
	build_core(&bt, false);
	const char maps[] = "00400000-00402000 r-xp 00003000 fe:01 12 /usr/bin/target\n"
			    "7f0000000000-7f0000001000 rwxp 00000000 00:00 0 [heap]\n"
			    "7f0000100000-7f0000103000 r--p 00000000 00:00 0 [stack]\n";
	int fd = tmpfile_with(bt.buf.buf, bt.buf.len);
	struct seen s = {0};
	struct acore_opts o = {.on_region = on_region,
			       .arg = &s,
			       .maps = maps,
			       .maps_len = strlen(maps),
			       .max_bytes = 0x2000};
	struct acore_info info;
	struct err e = {0};
	ck_assert_msg(acore_read_fd(fd, &o, &info, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(s.nreg, 3);
	ck_assert_str_eq(s.r[0].name, "/usr/bin/target"); /* NT_FILE first */
	ck_assert_str_eq(s.r[1].name, "[heap]");
	ck_assert_str_eq(s.r[2].name, "[stack]");
	/* max_bytes: the exe's 8 KiB, then nothing of the heap */
	ck_assert_uint_eq(info.bytes, 0x2000);
	ck_assert_uint_eq(s.r[1].bytes, 0);
	ck_assert_uint_eq(info.bytes_left_out, 0x1000);
	acore_info_free(&info);

	/* want: only the executable anonymous region is read; a core cut in a
	 * region not read is still an error */
	struct seen sw = {0};
	o = (struct acore_opts){.on_region = on_region, .arg = &sw, .want = want_x_anon};
	ck_assert_msg(acore_read_fd(fd, &o, &info, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(sw.nreg, 3);
	ck_assert_uint_eq(sw.r[0].bytes, 0);
	ck_assert_uint_eq(sw.r[1].bytes, 0x1000);
	ck_assert_uint_eq(info.bytes, 0x1000);
	acore_info_free(&info);
	for (int mode = 0; mode < 2; mode++) {
		size_t cut = bt.load_off[1] - 100; /* inside the exe's region, not wanted */
		struct seen sc = {0};
		o.arg = &sc;
		int rc;
		if (mode == 0) {
			int cfd = tmpfile_with(bt.buf.buf, cut);
			rc = acore_read_fd(cfd, &o, &info, &e);
			close(cfd);
		} else {
			struct mstream ms = {(const unsigned char *)bt.buf.buf, cut, 0, 4096};
			rc = acore_read_stream(mread, &ms, &o, &info, &e);
		}
		ck_assert_int_eq(rc, -1);
		ck_assert_msg(strstr(e.msg, "truncated"), "mode %d: %s", mode, e.msg);
		acore_info_free(&info);
	}

	/* the callback stops the read: an error saying so */
	struct seen s2 = {.stop_after = 2};
	o = (struct acore_opts){.on_region = on_region, .arg = &s2, .chunk = 4096};
	ck_assert_int_eq(acore_read_fd(fd, &o, &info, &e), -1);
	ck_assert_int_eq(e.kind, ERR_WRONGSTATE);
	ck_assert_ptr_nonnull(strstr(e.msg, "stopped"));
	acore_info_free(&info);
	close(fd);
	sbuf_free(&bt.buf);
}
END_TEST

/* every prefix of the core: no crash; a cut core is an error naming it */
START_TEST(hostile_truncated)
{
	struct built bt;
	build_core(&bt, false);
	for (size_t cut = 0; cut < bt.buf.len; cut += (cut < 600 ? 1 : 97)) {
		for (int mode = 0; mode < 2; mode++) {
			struct seen s = {0};
			struct acore_opts o = {.on_region = on_region, .arg = &s, .chunk = 4096};
			struct acore_info info;
			struct err e = {0};
			int rc;
			if (mode == 0) {
				int fd = tmpfile_with(bt.buf.buf, cut);
				rc = acore_read_fd(fd, &o, &info, &e);
				close(fd);
			} else {
				struct mstream m = {(const unsigned char *)bt.buf.buf, cut, 0,
						    4096};
				rc = acore_read_stream(mread, &m, &o, &info, &e);
			}
			ck_assert_msg(rc == -1, "cut at %zu (mode %d) read as whole", cut, mode);
			ck_assert_msg(e.kind == ERR_INVALID && e.msg[0], "cut at %zu: %d %s", cut,
				      e.kind, e.msg);
			if (cut >= 64 && cut > bt.load_off[0])
				ck_assert_msg(strstr(e.msg, "truncated"), "cut %zu: %s", cut,
					      e.msg);
			acore_info_free(&info);
		}
	}
	sbuf_free(&bt.buf);
}
END_TEST

static int read_mem(const void *buf, size_t n, struct acore_info *info, struct err *e,
		    struct seen *s)
{
	int fd = tmpfile_with(buf, n);
	struct acore_opts o = {.on_region = on_region, .arg = s, .chunk = 4096};
	int rc = acore_read_fd(fd, &o, info, e);
	close(fd);
	if (rc == 0) { /* the stream agrees */
		struct mstream m = {buf, n, 0, 777};
		struct seen s2 = {0};
		struct acore_info i2;
		struct err e2 = {0};
		o.arg = &s2;
		int rc2 = acore_read_stream(mread, &m, &o, &i2, &e2);
		ck_assert_msg(rc2 == 0 || e2.kind == ERR_UNSUPP, "stream: %s", e2.msg);
		acore_info_free(&i2);
	}
	return rc;
}

START_TEST(hostile_lying)
{
	struct built bt;
	build_core(&bt, true); /* NT_FILE says a million entries */
	struct seen s = {0};
	struct acore_info info;
	struct err e = {0};
	ck_assert_int_eq(read_mem(bt.buf.buf, bt.buf.len, &info, &e, &s), 0);
	ck_assert_uint_eq(info.nfile, 1);
	ck_assert_str_eq(s.r[0].name, "/usr/bin/target");
	ck_assert_uint_ge(json_array_size(info.notes), 1);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(info.notes, 0)), "NT_FILE"));
	acore_info_free(&info);

	unsigned char *c = xmalloc(bt.buf.len);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)c;
	Elf64_Phdr *ph = (Elf64_Phdr *)(c + sizeof(Elf64_Ehdr));

	/* phnum past the bound */
	memcpy(c, bt.buf.buf, bt.buf.len);
	eh->e_phnum = PN_XNUM - 1;
	ck_assert_int_eq(read_mem(c, bt.buf.len, &info, &e, &(struct seen){0}), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "truncated"));
	acore_info_free(&info);
	/* PN_XNUM without a section header */
	memcpy(c, bt.buf.buf, bt.buf.len);
	eh->e_phnum = PN_XNUM;
	ck_assert_int_eq(read_mem(c, bt.buf.len, &info, &e, &(struct seen){0}), -1);
	acore_info_free(&info);
	/* a segment past the end of the file */
	memcpy(c, bt.buf.buf, bt.buf.len);
	ph[2].p_offset = 1ull << 40;
	ck_assert_int_eq(read_mem(c, bt.buf.len, &info, &e, &(struct seen){0}), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "truncated"));
	acore_info_free(&info);
	/* offset + size overflow */
	memcpy(c, bt.buf.buf, bt.buf.len);
	ph[1].p_offset = UINT64_MAX - 10;
	ck_assert_int_eq(read_mem(c, bt.buf.len, &info, &e, &(struct seen){0}), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "overflows"));
	acore_info_free(&info);
	/* notes larger than the bound */
	memcpy(c, bt.buf.buf, bt.buf.len);
	ph[0].p_filesz = 1ull << 40;
	ck_assert_int_eq(read_mem(c, bt.buf.len, &info, &e, &(struct seen){0}), -1);
	acore_info_free(&info);
	/* a note's size lying: noted, the rest of the core read */
	memcpy(c, bt.buf.buf, bt.buf.len);
	Elf64_Nhdr *nh = (Elf64_Nhdr *)(c + ph[0].p_offset);
	nh->n_descsz = 0x7fffffff;
	struct seen s3 = {0};
	ck_assert_int_eq(read_mem(c, bt.buf.len, &info, &e, &s3), 0);
	ck_assert_uint_eq(s3.nreg, 3);
	ck_assert_uint_eq(info.nfile, 0);
	ck_assert_str_eq(s3.r[0].name, "anon"); /* no NT_FILE read */
	acore_info_free(&info);
	/* overlapping segments: fd reads both; a stream skips the overlap */
	memcpy(c, bt.buf.buf, bt.buf.len);
	ph[2].p_offset = ph[1].p_offset;
	struct seen s4 = {0};
	int fd = tmpfile_with(c, bt.buf.len);
	struct acore_opts o = {.on_region = on_region, .arg = &s4};
	ck_assert_int_eq(acore_read_fd(fd, &o, &info, &e), 0);
	ck_assert_uint_eq(info.bytes, 0x3000);
	acore_info_free(&info);
	close(fd);
	struct mstream m = {c, bt.buf.len, 0, 4096};
	struct seen s5 = {0};
	o.arg = &s5;
	ck_assert_int_eq(acore_read_stream(mread, &m, &o, &info, &e), 0);
	ck_assert_uint_eq(s5.nreg, 3);
	ck_assert_uint_eq(info.bytes, 0x2000);
	ck_assert_uint_ge(json_array_size(info.notes), 1);
	acore_info_free(&info);
	/* not a core, ELF32, big endian */
	memcpy(c, bt.buf.buf, bt.buf.len);
	eh->e_type = ET_EXEC;
	ck_assert_int_eq(read_mem(c, bt.buf.len, &info, &e, &(struct seen){0}), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not a core"));
	acore_info_free(&info);
	memcpy(c, bt.buf.buf, bt.buf.len);
	c[EI_CLASS] = ELFCLASS32;
	ck_assert_int_eq(read_mem(c, bt.buf.len, &info, &e, &(struct seen){0}), -1);
	acore_info_free(&info);
	ck_assert_int_eq(read_mem("hello", 5, &info, &e, &(struct seen){0}), -1);
	ck_assert_str_eq(e.msg, "not an ELF file");
	acore_info_free(&info);
	free(c);
	sbuf_free(&bt.buf);
}
END_TEST

/* ---- a real core: a child's, written by the memory collector ---- */

static const char MARK[] = "contain-coreread-heap-marker-5b1d";
static char *volatile keep_heap;

struct find_mark {
	char heap_name[64];
	bool mark_in_heap, mark_anon;
	uint64_t anon_elf_va;
	uint64_t want_va;
	uint64_t x_anon_va, x_anon_filesz; /* the rwx anonymous region, however much was kept */
	bool exe_seen;
	char exe[4096];
	size_t regions;
	uint64_t heap_va;
	char tail[64]; /* the last bytes of the previous chunk, for a marker across chunks */
	size_t tail_n;
};

static int on_real(const struct acore_region *r, const void *data, size_t n, uint64_t off,
		   void *arg)
{
	struct find_mark *f = arg;
	if (off == 0)
		f->regions++;
	if (strcmp(r->name, f->exe) == 0)
		f->exe_seen = true;
	if ((r->flags & PF_X) && !r->file_backed && strcmp(r->name, "anon") == 0 &&
	    r->vaddr == f->want_va) {
		f->x_anon_va = r->vaddr;
		f->x_anon_filesz = r->filesz;
	}
	if (off == 0 && n >= 4 &&
	    memcmp(data,
		   "\x7f"
		   "ELF",
		   4) == 0 &&
	    (r->flags & PF_X) && !r->file_backed && strcmp(r->name, "anon") == 0)
		f->anon_elf_va = r->vaddr;
	if (n && memmem(data, n, MARK, sizeof(MARK) - 1)) {
		snprintf(f->heap_name, sizeof(f->heap_name), "%s", r->name);
		if (strcmp(r->name, "[heap]") == 0)
			f->mark_in_heap = true;
		if (!r->file_backed)
			f->mark_anon = true;
	}
	return 0;
}

START_TEST(real_core_of_a_child)
{
	int pfd[2];
	ck_assert_int_eq(pipe(pfd), 0);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		char *h = sbrk(4096); /* the brk heap, whatever the allocator */
		if (h == (void *)-1)
			_exit(1);
		memcpy(h, MARK, sizeof(MARK));
		keep_heap = h;
		/* an ELF image loaded from memory: an anonymous rwx map starting
		 * with an ELF header (what a reflective loader leaves) */
		unsigned char *x = mmap(NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (x == MAP_FAILED)
			_exit(1);
		memcpy(x,
		       "\x7f"
		       "ELF\x02\x01\x01",
		       7);
		char a[32];
		int an = snprintf(a, sizeof(a), "%lx\n", (unsigned long)(uintptr_t)x);
		(void)!write(pfd[1], a, (size_t)an);
		for (;;)
			pause();
	}
	char abuf[32] = "";
	ck_assert_int_gt(read(pfd[0], abuf, sizeof(abuf) - 1), 0);
	unsigned long anon_va = strtoul(abuf, NULL, 16);
	char dir[64];
	unit_tmpdir(dir, sizeof(dir), "coreread");
	char cpath[128], mpath[128];
	snprintf(cpath, sizeof(cpath), "%s/core", dir);
	snprintf(mpath, sizeof(mpath), "%s/maps", dir);
	int cfd = open(cpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int mfd = open(mpath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert(cfd >= 0 && mfd >= 0);
	struct sink cs = sink_fd(&cfd), ms = sink_fd(&mfd);
	/* bounded: a sanitizer's shadow memory is terabytes of anonymous maps */
	struct mem_opts mo = {.max_bytes = 256u << 20};
	json_t *sum = NULL;
	struct err e = {0};
	int rc = mem_dump_pid(child, &mo, &cs, &ms, &sum, &e);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	json_decref(sum);
	if (rc < 0) {
		printf("# SKIP the memory collector cannot dump a child here: %s\n", e.msg);
		close(cfd);
		close(mfd);
		unit_tmpdir_remove(dir);
		return;
	}
	struct find_mark f = {.want_va = anon_va};
	ssize_t l = readlink("/proc/self/exe", f.exe, sizeof(f.exe) - 1);
	ck_assert_int_gt(l, 0);
	f.exe[l] = '\0';
	char *maps = NULL;
	size_t mlen = 0;
	bool trunc = false;
	lseek(mfd, 0, SEEK_SET);
	ck_assert_int_eq(read_fd_bounded(mfd, 16u << 20, &maps, &mlen, &trunc, &e), 0);
	struct acore_opts o = {.on_region = on_real, .arg = &f, .maps = maps, .maps_len = mlen};
	struct acore_info info;
	ck_assert_msg(acore_read_fd(cfd, &o, &info, &e) == 0, "real core: %s", e.msg);
	ck_assert_int_eq(info.pid, child);
	ck_assert_uint_ge(info.nthreads, 1);
	ck_assert_uint_ge(info.nfile, 1);
	ck_assert_uint_eq(f.regions, info.nregions); /* every PT_LOAD got calls */
	ck_assert_msg(f.exe_seen, "no region named %s", f.exe);
	ck_assert_msg(f.mark_in_heap, "the marker is not in a region named [heap] (in '%s')",
		      f.heap_name);
	/* the rwx map is a region named anon; its bytes, when kept (a sanitizer's
	 * shadow maps may take the byte bound first), start with the ELF header */
	ck_assert_msg(f.x_anon_va == anon_va, "no rwx anon region at 0x%lx", anon_va);
	if (f.x_anon_filesz)
		ck_assert_msg(f.anon_elf_va == anon_va,
			      "the anonymous ELF at 0x%lx: found at 0x%llx", anon_va,
			      (unsigned long long)f.anon_elf_va);
	acore_info_free(&info);
	/* the same as a stream, without the maps: [heap] unknown, the exe named */
	struct find_mark f2 = {0};
	memcpy(f2.exe, f.exe, sizeof(f.exe));
	struct sbuf all = SBUF_INIT;
	lseek(cfd, 0, SEEK_SET);
	char *cbuf = NULL;
	size_t clen = 0;
	ck_assert_int_eq(read_fd_bounded(cfd, 1u << 30, &cbuf, &clen, &trunc, &e), 0);
	struct mstream m = {(const unsigned char *)cbuf, clen, 0, 65536};
	o = (struct acore_opts){.on_region = on_real, .arg = &f2};
	ck_assert_msg(acore_read_stream(mread, &m, &o, &info, &e) == 0, "stream: %s", e.msg);
	ck_assert(f2.exe_seen);
	ck_assert_uint_eq(f2.regions, info.nregions);
	acore_info_free(&info);
	sbuf_free(&all);
	free(cbuf);
	free(maps);
	close(cfd);
	close(mfd);
	unit_tmpdir_remove(dir);
}
END_TEST

/* ---- the process rules (findings.c) over hand-built reports ---- */

static json_t *J(const char *s)
{
	char *d = xstrdup(s);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t je;
	json_t *j = json_loads(d, 0, &je);
	ck_assert_msg(j != NULL, "bad test json: %s: %s", je.text, d);
	free(d);
	return j;
}

static json_t *report_with(const char *procs)
{
	char *s = xasprintf(
	    "{'diff':{'added':[],'modified':[],'metadata':[],'deleted':[],'opaque':[]},"
	    "'image':{'match':'match','config':{'ExposedPorts':{'8080/tcp':{}}}},"
	    "'container':{'capabilities':{'effective':['CAP_KILL','CAP_NET_BIND_SERVICE'],"
	    "'bounding':['CAP_KILL','CAP_NET_BIND_SERVICE'],'permitted':[]}},"
	    "'network':{'sockets':["
	    "{'pid':10,'proto':'tcp6','state':'LISTEN','local':'[::]:8080'},"
	    "{'pid':11,'proto':'tcp','state':'LISTEN','local':'0.0.0.0:4444'},"
	    "{'pid':12,'proto':'tcp','state':'LISTEN','local':'127.0.0.1:5000'},"
	    "{'pid':11,'proto':'tcp','state':'ESTABLISHED','local':'10.0.0.2:5555'}]},"
	    "'analyses':{'cores':[{'member':'data/memory/13.core','pid':13,'anon_elf':"
	    "[{'vaddr':140000000000,'region_start':140000000000,'region_size':4096,"
	    "'mapping':'anon','perms':'rwx','offset_in_region':0}]},"
	    "{'member':'data/memory/10.core','pid':10,'anon_elf':[]}]},"
	    "'processes':[%s],'findings':[]}",
	    procs);
	json_t *r = J(s);
	free(s);
	return r;
}

static json_t *finding(const json_t *r, const char *id, const char *path)
{
	json_t *f;
	size_t i;
	json_array_foreach(json_object_get(r, "findings"), i, f)
	{
		const char *fi = json_string_value(json_object_get(f, "id"));
		const char *fp = json_string_value(json_object_get(f, "path"));
		if (strcmp(fi, id) == 0 && (!path || (fp && strcmp(fp, path) == 0)))
			return f;
	}
	return NULL;
}

static void want(const json_t *r, const char *id, const char *path, const char *sev,
		 const char *attack)
{
	json_t *f = finding(r, id, path);
	if (!f) {
		struct sbuf b = SBUF_INIT;
		json_t *x;
		size_t i;
		json_array_foreach(json_object_get(r, "findings"), i, x) if (b.len < 1500)
		    sbuf_printf(&b, " %s@%s", json_string_value(json_object_get(x, "id")),
				json_string_value(json_object_get(x, "path")));
		ck_abort_msg("no %s at %s:%s", id, path, b.buf ? b.buf : "");
	}
	ck_assert_str_eq(json_string_value(json_object_get(f, "severity")), sev);
	if (attack)
		ck_assert_str_eq(json_string_value(json_object_get(f, "attack")), attack);
}

#define P(pid, comm, exe, argv, stdio, caps)                                                       \
	"{'pid':" #pid ",'comm':'" comm "','exe':'" exe "','cmdline':" argv ",'stdio':" stdio      \
	",'cap_effective':" caps "}"
#define FILES "[{'type':'file','target':'/dev/null'},{'type':'pipe','target':'pipe:[1]'},null]"
#define SOCK0                                                                                      \
	"[{'type':'socket','target':'socket:[77]'},{'type':'socket','target':'socket:[77]'},null]"
#define SOCK2	"[{'type':'file','target':'/dev/null'},null,{'type':'socket','target':'socket:[9]'}]"
#define CAPS_OK "['CAP_KILL']"

START_TEST(rules_positive)
{
	json_t *r = report_with(P(20, "sh", "/bin/busybox", "['sh','-i']", SOCK0, CAPS_OK) "," P(
	    21, "python3", "/usr/bin/python3.11", "['python3','-c','x']", SOCK2,
	    CAPS_OK) "," P(22, "miner", "/tmp/miner", "['./miner']", FILES,
			   CAPS_OK) "," P(23, "x", "/var/tmp/.cache/x (deleted)", "['x']", FILES,
					  CAPS_OK) "," P(11, "httpd", "/usr/sbin/httpd",
							 "['httpd']", FILES,
							 CAPS_OK) "," P(24, "app", "/usr/bin/app",
									"['app']", FILES,
									"['CAP_KILL','CAP_NET_RAW'"
									"]") "," P(25, "app2",
										   "/usr/bin/app2",
										   "['app2']",
										   FILES,
										   "['CAP_SYS_"
										   "ADMIN']") "," P(26,
												    "kworker/"
												    "0:1",
												    "/usr/bin/"
												    "xmrig",
												    "['"
												    "kworker/"
												    "0:1']",
												    FILES,
												    CAPS_OK) "," P(27,
														   "sshd",
														   "/usr/bin/cryptominer",
														   "['/usr/bin/cryptominer']",
														   FILES,
														   CAPS_OK) "," P(13,
																  "loader",
																  "/usr/bin/loader",
																  "['loader']",
																  FILES,
																  CAPS_OK));
	findings_rules(r, NULL, NULL);
	findings_finish(r);
	want(r, "proc.shell-socket-stdio", "bin/busybox", "critical", "T1059");
	want(r, "proc.shell-socket-stdio", "usr/bin/python3.11", "high", "T1059");
	want(r, "proc.exe-in-tmp", "tmp/miner", "high", "T1105");
	want(r, "proc.exe-in-tmp", "var/tmp/.cache/x", "critical", "T1564.001");
	want(r, "proc.listener-undeclared", "usr/sbin/httpd", "medium", "T1571");
	json_t *f = finding(r, "proc.listener-undeclared", "usr/sbin/httpd");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(f, "detail")), "4444"));
	want(r, "proc.caps-beyond-config", "usr/bin/app", "high", "T1548");
	want(r, "proc.caps-beyond-config", "usr/bin/app2", "critical", "T1548");
	want(r, "proc.name-mismatch", "usr/bin/xmrig", "high", "T1036.004");
	want(r, "proc.name-mismatch", "usr/bin/cryptominer", "medium", "T1036");
	want(r, "mem.anon-elf", "usr/bin/loader", "critical", "T1620");
	f = finding(r, "mem.anon-elf", "usr/bin/loader");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(f, "detail")), "0x"));
	json_decref(r);
}
END_TEST

START_TEST(rules_negative)
{
	/* busybox applets, a script (comm its name), a link's name, a title,
	 * a declared listener (pid 10 on 8080), a loopback one (low), caps within
	 * the config, a shell on pipes, a core without anon ELF */
	json_t *r =
	    report_with(P(10, "sleep", "/bin/busybox", "['sleep','100']", FILES, CAPS_OK) "," P(
		30, "backup.sh", "/usr/bin/dash", "['/bin/sh','/usr/local/bin/backup.sh']", FILES,
		CAPS_OK) "," P(31, "sh", "/usr/bin/dash", "['-sh']", FILES,
			       CAPS_OK) "," P(32, "gunicorn", "/usr/bin/python3.11",
					      "['gunicorn: master [app]','--bind']", FILES,
					      CAPS_OK) "," P(33, "averyveryverylo",
							     "/usr/lib/x/"
							     "averyveryverylongname",
							     "['x']", FILES,
							     "['CAP_NET_BIND_SERVICE'"
							     "]") "," P(12, "redis-server",
									"/usr/bin/"
									"redis-server",
									"['redis-"
									"server']",
									FILES,
									"[]") "," P(34,
										    "b"
										    "a"
										    "s"
										    "h",
										    "/"
										    "b"
										    "i"
										    "n"
										    "/"
										    "b"
										    "a"
										    "s"
										    "h",
										    "["
										    "'"
										    "b"
										    "a"
										    "s"
										    "h"
										    "'"
										    "]",
										    FILES,
										    CAPS_OK));
	findings_rules(r, NULL, NULL);
	findings_finish(r);
	static const char *const none[] = {"proc.shell-socket-stdio", "proc.exe-in-tmp",
					   "proc.caps-beyond-config", "proc.name-mismatch",
					   "mem.anon-elf"};
	for (size_t i = 0; i < ARRAY_SIZE(none); i++)
		ck_assert_msg(!finding(r, none[i], NULL), "%s made: %s", none[i],
			      json_dumps(json_object_get(r, "findings"), 0));
	want(r, "proc.listener-undeclared", "usr/bin/redis-server", "low", NULL);
	ck_assert(!finding(r, "proc.listener-undeclared", "bin/busybox"));
	/* nothing at or above medium */
	json_t *f;
	size_t i;
	json_array_foreach(json_object_get(r, "findings"), i, f)
	{
		const char *sv = json_string_value(json_object_get(f, "severity"));
		ck_assert_msg(strcmp(sv, "low") == 0 || strcmp(sv, "info") == 0, "%s: %s",
			      json_string_value(json_object_get(f, "id")), sv);
	}
	json_decref(r);

	/* no image config, no container caps: those rules say nothing */
	r = report_with(P(11, "httpd", "/usr/sbin/httpd", "['httpd']", FILES, "['CAP_SYS_ADMIN']"));
	json_object_set_new(json_object_get(r, "image"), "config", json_null());
	json_object_set_new(json_object_get(r, "container"), "capabilities", json_null());
	findings_rules(r, NULL, NULL);
	ck_assert(!finding(r, "proc.listener-undeclared", NULL));
	ck_assert(!finding(r, "proc.caps-beyond-config", NULL));
	json_decref(r);

	/* the tree's own form (fds, capabilities) works as the summary's */
	r = report_with("{'pid':40,'comm':'bash','exe':{'path':'/bin/bash'},"
			"'cmdline':{'list':['bash']},'fds':[{'fd':0,'type':'socket',"
			"'target':'socket:[5]'}],'capabilities':{'effective':{'names':"
			"['CAP_KILL']}}}");
	findings_rules(r, NULL, NULL);
	want(r, "proc.shell-socket-stdio", "bin/bash", "high", "T1059");
	ck_assert(!finding(r, "proc.caps-beyond-config", NULL));
	json_decref(r);
}
END_TEST

/* proc.traced: by a process of the container (high, the tracer named), by
 * one outside it (medium); TracerPid 0 or missing: nothing. Both forms. */
START_TEST(rules_traced)
{
	json_t *r = report_with(
	    "{'pid':50,'comm':'app','exe':'/usr/bin/app','cmdline':['app'],'tracer_pid':51},"
	    "{'pid':51,'comm':'tracer','exe':'/tmp/tracer','cmdline':['/tmp/tracer'],'tracer_pid':0},"
	    "{'pid':52,'comm':'sleep','exe':'/bin/busybox','cmdline':['sleep'],'tracer_pid':999},"
	    "{'pid':53,'comm':'cat','exe':'/usr/bin/cat','cmdline':['cat']},"
	    "{'pid':54,'comm':'self','exe':'/usr/bin/self','cmdline':['self'],'tracer_pid':54}");
	findings_rules(r, NULL, NULL);
	findings_finish(r);
	want(r, "proc.traced", "usr/bin/app", "high", "T1055.008");
	json_t *f = finding(r, "proc.traced", "usr/bin/app");
	json_t *ev = json_object_get(f, "evidence");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "tracer_pid")), 51);
	ck_assert(json_is_true(json_object_get(ev, "tracer_in_container")));
	ck_assert_str_eq(json_string_value(json_object_get(ev, "tracer_comm")), "tracer");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "tracer_exe")), "/tmp/tracer");
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(f, "detail")), "traced by pid 51 (tracer)"));
	want(r, "proc.traced", "bin/busybox", "medium", "T1055.008");
	f = finding(r, "proc.traced", "bin/busybox");
	ck_assert(json_is_false(json_object_get(json_object_get(f, "evidence"), "tracer_in_container")));
	ck_assert(!finding(r, "proc.traced", "tmp/tracer"));
	ck_assert(!finding(r, "proc.traced", "usr/bin/cat"));
	ck_assert(!finding(r, "proc.traced", "usr/bin/self"));
	json_decref(r);

	/* the tree's form: exe an object */
	r = report_with("{'pid':60,'comm':'a','exe':{'path':'/usr/bin/a'},'cmdline':{'list':['a']},"
			"'tracer_pid':61},{'pid':61,'comm':'gdb','exe':{'path':'/usr/bin/gdb'},"
			"'cmdline':{'list':['gdb']}}");
	findings_rules(r, NULL, NULL);
	want(r, "proc.traced", "usr/bin/a", "high", "T1055.008");
	f = finding(r, "proc.traced", "usr/bin/a");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(f, "evidence"), "tracer_exe")),
	    "/usr/bin/gdb");
	json_decref(r);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("coreread");
	TCase *tc = tcase_create("coreread");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, built_core_fd_and_stream);
	tcase_add_test(tc, names_from_maps_and_bounds);
	tcase_add_test(tc, hostile_truncated);
	tcase_add_test(tc, hostile_lying);
	tcase_add_test(tc, real_core_of_a_child);
	tcase_add_test(tc, rules_positive);
	tcase_add_test(tc, rules_negative);
	tcase_add_test(tc, rules_traced);
	suite_add_tcase(s, tc);
	return s;
}
