/* coreread.c: the bag's ELF cores read back, streaming and bounded (the
 * layout src/collect/elfcore.c writes; any Linux core). The notes (
 * NT_PRSTATUS, NT_PRPSINFO, NT_FILE: count, page size, count x {start, end,
 * file offset in pages}, then count NUL-terminated names) name the
 * regions; each PT_LOAD's bytes go to a callback in bounded chunks. Every
 * size read from the core is checked against the file, the bounds of
 * analyze.h and overflow before it is used. */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

#include "contain/analyze.h"
#include "contain/memory.h"

struct src {
	int fd; /* >= 0: pread */
	acore_read_fn rd;
	void *ctx;
	uint64_t pos;  /* stream: bytes consumed */
	uint64_t size; /* fd: the file's size */
	unsigned char *scratch;
	size_t scratch_sz;
};

/* read up to n bytes at off into buf: the count read (short at the end), or
 * -1 with e. A stream cannot go back: off < pos is ERR_WRONGSTATE. */
static ssize_t src_read(struct src *s, uint64_t off, void *buf, size_t n, struct err *e)
{
	size_t got = 0;
	if (s->fd >= 0) {
		ssize_t r = pread_all(s->fd, buf, n, (off_t)off);
		if (r < 0)
			return err_sys(e, errno, "read the core at byte %llu", (unsigned long long)off);
		return r;
	}
	if (off < s->pos)
		return err_set(e, ERR_WRONGSTATE, "byte %llu is behind the stream (at %llu)",
			       (unsigned long long)off, (unsigned long long)s->pos);
	while (s->pos < off) { /* skip forward */
		uint64_t left = off - s->pos;
		size_t want = left < s->scratch_sz ? (size_t)left : s->scratch_sz;
		ssize_t r = s->rd(s->ctx, s->scratch, want, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		s->pos += (uint64_t)r;
	}
	while (got < n) {
		ssize_t r = s->rd(s->ctx, (char *)buf + got, n - got, e);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
		s->pos += (uint64_t)r;
	}
	return (ssize_t)got;
}

static void inote(struct acore_info *info, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void inote(struct acore_info *info, const char *fmt, ...)
{
	if (json_array_size(info->notes) >= ACORE_NOTES_LIST)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(info->notes, json_string(msg));
}

struct nfile {
	uint64_t start, end, ofs; /* ofs in bytes (UINT64_MAX: overflowed) */
	char *name;
};

struct part {
	uint64_t off, size;
	bool is_note;
	size_t ph;   /* index in the program headers */
	size_t load; /* among the PT_LOADs */
};

struct core {
	struct src s;
	const struct acore_opts *o;
	struct acore_info *info;
	Elf64_Phdr *ph;
	size_t phnum;
	struct part *parts;
	size_t nparts;
	struct nfile *nf;
	size_t nnf;
	struct mem_map *maps;
	size_t nmaps;
	uint64_t sp; /* the first thread's stack pointer (0: unknown) */
	uint64_t notes_bytes;
	uint64_t budget; /* region bytes left to deliver */
	unsigned char *buf;
	size_t chunk;
};

static int nfile_cmp(const void *a, const void *b)
{
	const struct nfile *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int map_cmp(const void *a, const void *b)
{
	const struct mem_map *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int part_cmp(const void *a, const void *b)
{
	const struct part *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	if (x->is_note != y->is_note)
		return x->is_note ? -1 : 1; /* notes first */
	return x->ph < y->ph ? -1 : x->ph > y->ph;
}

/* NT_FILE: count, page_size, count x {start, end, pgoff}, names */
static void parse_nt_file(struct core *c, const unsigned char *d, size_t n)
{
	if (c->nf) {
		c->info->nfile = c->nnf;
		inote(c->info, "a second NT_FILE note ignored");
		return;
	}
	if (n < 16) {
		inote(c->info, "NT_FILE note of %zu bytes: too short", n);
		return;
	}
	uint64_t count, page;
	memcpy(&count, d, 8);
	memcpy(&page, d + 8, 8);
	uint64_t fit = (n - 16) / 24;
	if (count > fit) {
		inote(c->info, "NT_FILE says %llu entries, its %zu bytes hold at most %llu",
		      (unsigned long long)count, n, (unsigned long long)fit);
		count = fit;
	}
	if (count > ACORE_NFILE_MAX) {
		inote(c->info, "NT_FILE: only the first %u entries used", ACORE_NFILE_MAX);
		count = ACORE_NFILE_MAX;
	}
	if (page == 0 || (page & (page - 1)) || page > (1u << 30)) {
		inote(c->info, "NT_FILE page size %llu is not a power of two: file offsets unknown",
		      (unsigned long long)page);
		page = 0;
	}
	const unsigned char *names = d + 16 + count * 24, *end = d + n;
	c->nf = count ? xcalloc((size_t)count, sizeof(*c->nf)) : NULL;
	size_t k = 0, bad = 0;
	for (uint64_t i = 0; i < count; i++) {
		const unsigned char *ent = d + 16 + i * 24;
		const unsigned char *z =
		    names < end ? memchr(names, '\0', (size_t)(end - names)) : NULL;
		if (!z) {
			inote(c->info, "NT_FILE: %llu entries without a name",
			      (unsigned long long)(count - i));
			break;
		}
		struct nfile f;
		memcpy(&f.start, ent, 8);
		memcpy(&f.end, ent + 8, 8);
		uint64_t pg;
		memcpy(&pg, ent + 16, 8);
		const char *nm = (const char *)names;
		names = z + 1;
		if (f.end <= f.start) {
			bad++;
			continue;
		}
		if (!page || __builtin_mul_overflow(pg, page, &f.ofs))
			f.ofs = UINT64_MAX;
		f.name = xstrdup(nm);
		c->nf[k++] = f;
	}
	if (bad)
		inote(c->info, "NT_FILE: %zu entries with end <= start skipped", bad);
	c->nnf = k;
	c->info->nfile = k;
	if (c->nnf)
		qsort(c->nf, c->nnf, sizeof(*c->nf), nfile_cmp);
}

static void parse_notes(struct core *c, const unsigned char *d, size_t n, size_t ph)
{
	size_t p = 0;
	while (p < n) {
		if (n - p < sizeof(Elf64_Nhdr)) {
			inote(c->info, "note segment %zu: %zu stray bytes at its end", ph, n - p);
			return;
		}
		Elf64_Nhdr nh;
		memcpy(&nh, d + p, sizeof(nh));
		p += sizeof(nh);
		uint64_t nsz = ((uint64_t)nh.n_namesz + 3) & ~3ull;
		uint64_t dsz = ((uint64_t)nh.n_descsz + 3) & ~3ull;
		if (nsz > n - p) {
			inote(c->info, "note segment %zu: a note's name runs past the segment", ph);
			return;
		}
		const char *name = (const char *)d + p;
		bool core = nh.n_namesz == 5 && memcmp(name, "CORE", 5) == 0;
		p += (size_t)nsz;
		if (nh.n_descsz > n - p) {
			inote(c->info,
			      "note segment %zu: a note (type %u) says %u bytes, %zu are left", ph,
			      nh.n_type, nh.n_descsz, n - p);
			return;
		}
		const unsigned char *desc = d + p;
		size_t dn = nh.n_descsz;
		p = dsz > n - p ? n : p + (size_t)dsz;
		if (!core)
			continue;
		if (nh.n_type == NT_PRSTATUS) {
			c->info->nthreads++;
			if (dn >= sizeof(struct elf_prstatus) && c->info->nthreads == 1) {
				struct elf_prstatus ps;
				memcpy(&ps, desc, sizeof(ps));
				if (c->info->pid < 0)
					c->info->pid = ps.pr_pid;
#if defined(__x86_64__)
				struct user_regs_struct regs;
				memcpy(&regs, &ps.pr_reg, sizeof(regs));
				c->sp = regs.rsp;
#endif
			}
		} else if (nh.n_type == NT_PRPSINFO) {
			if (dn < sizeof(struct elf_prpsinfo)) {
				inote(c->info, "NT_PRPSINFO of %zu bytes: too short", dn);
				continue;
			}
			struct elf_prpsinfo pp;
			memcpy(&pp, desc, sizeof(pp));
			c->info->pid = pp.pr_pid;
			memcpy(c->info->comm, pp.pr_fname, 16);
			c->info->comm[16] = '\0';
			memcpy(c->info->psargs, pp.pr_psargs, 80);
			c->info->psargs[80] = '\0';
		} else if (nh.n_type == NT_FILE) {
			parse_nt_file(c, desc, dn);
		}
	}
}

static int read_note_part(struct core *c, const struct part *pt, struct err *e)
{
	if (pt->size > ACORE_NOTES_MAX - c->notes_bytes)
		return err_set(e, ERR_INVALID, "the notes are larger than %u bytes",
			       ACORE_NOTES_MAX);
	c->notes_bytes += pt->size;
	size_t n = (size_t)pt->size;
	_cleanup_free_ unsigned char *d = xmalloc(n ? n : 1);
	ssize_t got = src_read(&c->s, pt->off, d, n, e);
	if (got < 0)
		return err_wrap(e, "notes (program header %zu)", pt->ph);
	if ((size_t)got < n)
		return err_set(e, ERR_INVALID,
			       "core truncated: the notes (program header %zu, bytes %llu..%llu) "
			       "end past the end of the file",
			       pt->ph, (unsigned long long)pt->off,
			       (unsigned long long)(pt->off + pt->size));
	parse_notes(c, d, n, pt->ph);
	return 0;
}

static void region_name(const struct core *c, struct acore_region *r)
{
	r->name = "anon";
	r->file_backed = false;
	r->file_ofs = 0;
	/* NT_FILE: the last entry starting at or before vaddr */
	size_t lo = 0, hi = c->nnf;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->nf[mid].start <= r->vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && r->vaddr < c->nf[lo - 1].end) {
		const struct nfile *f = &c->nf[lo - 1];
		r->name = f->name;
		r->file_backed = true;
		r->file_ofs = f->ofs == UINT64_MAX || f->ofs > UINT64_MAX - (r->vaddr - f->start)
				  ? UINT64_MAX
				  : f->ofs + (r->vaddr - f->start);
		return;
	}
	lo = 0;
	hi = c->nmaps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->maps[mid].start <= r->vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && r->vaddr < c->maps[lo - 1].end) {
		const struct mem_map *m = &c->maps[lo - 1];
		if (m->path && *m->path) {
			r->name = m->path;
			r->file_backed = m->path[0] == '/';
			if (r->file_backed)
				r->file_ofs = m->offset + (r->vaddr - m->start) < m->offset
						  ? UINT64_MAX
						  : m->offset + (r->vaddr - m->start);
		}
		return;
	}
	if (c->sp && c->sp >= r->vaddr && c->sp - r->vaddr < r->memsz)
		r->name = "[stack]";
}

static int deliver(struct core *c, const struct acore_region *r, const void *d, size_t n,
		   uint64_t off, struct err *e, int *verdict)
{
	*verdict = c->o->on_region ? c->o->on_region(r, d, n, off, c->o->arg) : 1;
	if (*verdict < 0)
		return err_set(e, ERR_WRONGSTATE, "stopped by the caller at region %zu (0x%llx)",
			       r->index, (unsigned long long)r->vaddr);
	return 0;
}

static int read_load_part(struct core *c, const struct part *pt, uint64_t read_to, struct err *e)
{
	const Elf64_Phdr *ph = &c->ph[pt->ph];
	struct acore_region r = {
	    .index = pt->load,
	    .vaddr = ph->p_vaddr,
	    .memsz = ph->p_memsz,
	    .filesz = pt->size,
	    .offset = pt->off,
	    .flags = ph->p_flags & (PF_R | PF_W | PF_X),
	};
	region_name(c, &r);
	int v;
	/* what of it can be read: a stream cannot go back over bytes read */
	uint64_t skip = 0;
	if (c->s.fd < 0 && pt->off < read_to && pt->size) {
		skip = read_to - pt->off < pt->size ? read_to - pt->off : pt->size;
		inote(
		    c->info,
		    "region %zu (0x%llx): %llu bytes overlap an earlier part of the core: not read "
		    "from a stream",
		    r.index, (unsigned long long)r.vaddr, (unsigned long long)skip);
		/* only whole regions are delivered: the overlap makes this one empty */
		skip = pt->size;
	}
	if (c->o->want && !c->o->want(&r, c->o->arg))
		return deliver(c, &r, NULL, 0, 0, e, &v); /* not wanted: not read */
	uint64_t want = pt->size - skip;
	uint64_t take = want < c->budget ? want : c->budget;
	c->info->bytes_left_out += pt->size - take;
	if (take == 0)
		return deliver(c, &r, NULL, 0, 0, e, &v);
	c->budget -= take;
	uint64_t done = 0;
	while (done < take) {
		size_t n = take - done < c->chunk ? (size_t)(take - done) : c->chunk;
		ssize_t got = src_read(&c->s, pt->off + done, c->buf, n, e);
		if (got < 0)
			return err_wrap(e, "region %zu (0x%llx)", r.index,
					(unsigned long long)r.vaddr);
		if (got > 0) {
			c->info->bytes += (uint64_t)got;
			if (deliver(c, &r, c->buf, (size_t)got, done, e, &v) < 0)
				return -1;
		}
		done += (uint64_t)got;
		if ((size_t)got < n)
			return err_set(
			    e, ERR_INVALID,
			    "core truncated: region %zu (0x%llx, bytes %llu..%llu of the "
			    "core) ends past the end of the file (at byte %llu)",
			    r.index, (unsigned long long)r.vaddr, (unsigned long long)pt->off,
			    (unsigned long long)(pt->off + pt->size),
			    (unsigned long long)(pt->off + done));
		if (v > 0) {
			c->info->bytes_left_out += take - done;
			break;
		}
	}
	return 0;
}

static int core_run(struct core *c, struct err *e)
{
	struct acore_info *info = c->info;
	unsigned char eh_buf[sizeof(Elf64_Ehdr)];
	ssize_t got = src_read(&c->s, 0, eh_buf, sizeof(eh_buf), e);
	if (got < 0)
		return -1;
	if ((size_t)got < SELFMAG || memcmp(eh_buf, ELFMAG, SELFMAG) != 0)
		return err_set(e, ERR_INVALID, "not an ELF file");
	if ((size_t)got < sizeof(Elf64_Ehdr))
		return err_set(e, ERR_INVALID, "core truncated: %zd bytes, the ELF header is %zu",
			       got, sizeof(Elf64_Ehdr));
	Elf64_Ehdr eh;
	memcpy(&eh, eh_buf, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return err_set(e, ERR_INVALID, "not an ELF64 core (class %u)",
			       eh.e_ident[EI_CLASS]);
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return err_set(e, ERR_INVALID, "not a little-endian core");
	if (eh.e_type != ET_CORE)
		return err_set(e, ERR_INVALID, "not a core (ELF type %u)", eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return err_set(e, ERR_INVALID, "program header size %u, not %zu", eh.e_phentsize,
			       sizeof(Elf64_Phdr));
	uint64_t phnum = eh.e_phnum;
	if (phnum == PN_XNUM) {
		/* the count is in section header 0's sh_info */
		if (c->s.fd < 0)
			return err_set(e, ERR_UNSUPP,
				       "the core has 65535 or more program headers: their count "
				       "is in the section header after the data, which a stream "
				       "does not reach first");
		if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff == 0)
			return err_set(e, ERR_INVALID,
				       "65535+ program headers and no section header");
		Elf64_Shdr sh;
		got = src_read(&c->s, eh.e_shoff, &sh, sizeof(sh), e);
		if (got < 0)
			return -1;
		if ((size_t)got < sizeof(sh))
			return err_set(
			    e, ERR_INVALID,
			    "core truncated: the section header (byte %llu) is past its end",
			    (unsigned long long)eh.e_shoff);
		phnum = sh.sh_info;
	}
	if (phnum > ACORE_PHNUM_MAX)
		return err_set(e, ERR_INVALID, "%llu program headers (at most %u are read)",
			       (unsigned long long)phnum, ACORE_PHNUM_MAX);
	uint64_t phbytes = phnum * sizeof(Elf64_Phdr), phend;
	if (__builtin_add_overflow(eh.e_phoff, phbytes, &phend))
		return err_set(e, ERR_INVALID, "program header offset %llu overflows",
			       (unsigned long long)eh.e_phoff);
	if (c->s.fd < 0 && eh.e_phoff < sizeof(Elf64_Ehdr) && phnum)
		return err_set(e, ERR_INVALID,
			       "program headers at byte %llu, inside the ELF header",
			       (unsigned long long)eh.e_phoff);
	c->phnum = (size_t)phnum;
	c->ph = xcalloc(c->phnum ? c->phnum : 1, sizeof(Elf64_Phdr));
	got = src_read(&c->s, eh.e_phoff, c->ph, (size_t)phbytes, e);
	if (got < 0)
		return err_wrap(e, "program headers");
	if ((uint64_t)got < phbytes)
		return err_set(e, ERR_INVALID,
			       "core truncated: %llu program headers at byte %llu end past the end "
			       "of the file",
			       (unsigned long long)phnum, (unsigned long long)eh.e_phoff);
	/* the parts to read: notes and loads, checked against the file */
	c->parts = xcalloc(c->phnum ? c->phnum : 1, sizeof(*c->parts));
	size_t nload = 0;
	for (size_t i = 0; i < c->phnum; i++) {
		const Elf64_Phdr *p = &c->ph[i];
		if (p->p_type != PT_NOTE && p->p_type != PT_LOAD)
			continue;
		uint64_t end;
		if (__builtin_add_overflow(p->p_offset, p->p_filesz, &end))
			return err_set(
			    e, ERR_INVALID, "program header %zu: offset %llu + size %llu overflows",
			    i, (unsigned long long)p->p_offset, (unsigned long long)p->p_filesz);
		struct part pt = {.off = p->p_offset, .size = p->p_filesz, .ph = i};
		if (p->p_type == PT_NOTE) {
			if (!p->p_filesz)
				continue;
			if (p->p_filesz > ACORE_NOTES_MAX)
				return err_set(
				    e, ERR_INVALID,
				    "program header %zu: %llu bytes of notes (at most %u)", i,
				    (unsigned long long)p->p_filesz, ACORE_NOTES_MAX);
			pt.is_note = true;
		} else {
			uint64_t vend;
			if (__builtin_add_overflow(p->p_vaddr, p->p_memsz, &vend))
				return err_set(e, ERR_INVALID,
					       "program header %zu: address 0x%llx + size %llu "
					       "overflows",
					       i, (unsigned long long)p->p_vaddr,
					       (unsigned long long)p->p_memsz);
			if (p->p_filesz > p->p_memsz) {
				inote(
				    info,
				    "region %zu (0x%llx): %llu bytes in the file, %llu in memory: "
				    "only those read",
				    nload, (unsigned long long)p->p_vaddr,
				    (unsigned long long)p->p_filesz,
				    (unsigned long long)p->p_memsz);
				pt.size = p->p_memsz;
			}
			pt.load = nload++;
		}
		if (c->s.fd >= 0 && pt.size && pt.off + pt.size > c->s.size)
			inote(info,
			      "program header %zu: bytes %llu..%llu, the file has %llu: the core "
			      "is truncated",
			      i, (unsigned long long)pt.off, (unsigned long long)(pt.off + pt.size),
			      (unsigned long long)c->s.size);
		c->parts[c->nparts++] = pt;
	}
	info->nregions = nload;
	if (c->nparts)
		qsort(c->parts, c->nparts, sizeof(*c->parts), part_cmp);
	/* fd: every note first, wherever it is */
	if (c->s.fd >= 0)
		for (size_t i = 0; i < c->nparts; i++)
			if (c->parts[i].is_note && read_note_part(c, &c->parts[i], e) < 0)
				return -1;
	uint64_t read_to = phend; /* a stream's parts must start at or after this */
	for (size_t i = 0; i < c->nparts; i++) {
		const struct part *pt = &c->parts[i];
		if (pt->is_note) {
			if (c->s.fd >= 0)
				continue;
			if (pt->off < read_to) {
				inote(info,
				      "the notes (program header %zu) overlap an earlier part: not "
				      "read from a stream",
				      pt->ph);
				continue;
			}
			if (read_note_part(c, pt, e) < 0)
				return -1;
		} else {
			/* a stream with the notes later in the file: names from
			 * the maps (and the stack pointer) only */
			if (read_load_part(c, pt, read_to, e) < 0)
				return -1;
		}
		if (pt->off + pt->size > read_to)
			read_to = pt->off + pt->size;
	}
	/* parts not read (not wanted, past max_bytes) may still lie past the
	 * end: a cut core is an error whatever was read of it */
	if (c->s.fd >= 0 ? read_to > c->s.size
			 : read_to > c->s.pos && src_read(&c->s, read_to, NULL, 0, e) < 0)
		return c->s.fd >= 0
			   ? err_set(e, ERR_INVALID,
				     "core truncated: its parts end at byte %llu, the file "
				     "has %llu",
				     (unsigned long long)read_to, (unsigned long long)c->s.size)
			   : -1;
	if (c->s.fd < 0 && c->s.pos < read_to)
		return err_set(
		    e, ERR_INVALID,
		    "core truncated: its parts end at byte %llu, the stream ends at %llu",
		    (unsigned long long)read_to, (unsigned long long)c->s.pos);
	return 0;
}

static int core_read(struct core *c, const struct acore_opts *o, struct acore_info *info,
		     struct err *e)
{
	memset(info, 0, sizeof(*info));
	info->pid = -1;
	info->notes = json_array();
	c->o = o;
	c->info = info;
	c->chunk = o->chunk ? o->chunk : ACORE_CHUNK;
	if (c->chunk > (64u << 20))
		c->chunk = 64u << 20;
	c->budget = o->max_bytes ? o->max_bytes : UINT64_MAX;
	c->buf = xmalloc(c->chunk);
	c->s.scratch = c->buf;
	c->s.scratch_sz = c->chunk;
	if (o->maps && o->maps_len) {
		size_t bad = 0;
		struct err me = {0};
		if (mem_maps_parse(o->maps, o->maps_len, ACORE_PHNUM_MAX, &c->maps, &c->nmaps, &bad,
				   &me) < 0) {
			inote(info, "the maps file not used: %s", me.msg);
			c->maps = NULL;
			c->nmaps = 0;
		} else {
			if (bad)
				inote(info, "the maps file: %zu malformed lines skipped", bad);
			if (c->nmaps)
				qsort(c->maps, c->nmaps, sizeof(*c->maps), map_cmp);
		}
	}
	int rc = core_run(c, e);
	free(c->buf);
	free(c->ph);
	free(c->parts);
	for (size_t i = 0; i < c->nnf; i++)
		free(c->nf[i].name);
	free(c->nf);
	mem_maps_free(c->maps, c->nmaps);
	return rc;
}

int acore_read_fd(int fd, const struct acore_opts *o, struct acore_info *info, struct err *e)
{
	struct stat st;
	memset(info, 0, sizeof(*info));
	if (fstat(fd, &st) < 0)
		return err_sys(e, errno, "stat the core");
	struct core c = {.s = {.fd = fd, .size = (uint64_t)st.st_size}};
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "the core is not a regular file");
	return core_read(&c, o, info, e);
}

int acore_read_stream(acore_read_fn rd, void *ctx, const struct acore_opts *o,
		      struct acore_info *info, struct err *e)
{
	struct core c = {.s = {.fd = -1, .rd = rd, .ctx = ctx}};
	return core_read(&c, o, info, e);
}

void acore_info_free(struct acore_info *info)
{
	if (!info)
		return;
	json_decref(info->notes);
	info->notes = NULL;
}
