/* elfcore.c: the pure half of the memory collector: /proc/PID/maps lines,
 * which mappings go in, the ELF core layout, the notes (kernel
 * fs/binfmt_elf.c fill_note_info / write_note_info, gdb's gcore). */
#include <elf.h>
#include <signal.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/sysmacros.h>
#include <sys/user.h>

#include "contain/memory.h"

/* ---- maps lines ---- */


/* hex digits at *p up to the first non-hex char; at most 16 */
static bool take_hex(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int nd = 0;
	while (s < end && hex_digit(*s) >= 0) {
		if (++nd > 16)
			return false;
		v = (v << 4) | (uint64_t)hex_digit(*s);
		s++;
	}
	if (nd == 0)
		return false;
	*p = s;
	*out = v;
	return true;
}

static bool take_dec(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int nd = 0;
	while (s < end && *s >= '0' && *s <= '9') {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return false;
		nd++;
		s++;
	}
	if (nd == 0)
		return false;
	*p = s;
	*out = v;
	return true;
}

static bool take_char(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

void mem_map_clear(struct mem_map *m)
{
	free(m->path);
	memset(m, 0, sizeof(*m));
}

int mem_maps_parse_line(const char *line, size_t len, struct mem_map *m, struct err *e)
{
	memset(m, 0, sizeof(*m));
	if (len && line[len - 1] == '\n')
		len--;
	const char *p = line, *end = line + len;
	if (memchr(line, '\0', len) || memchr(line, '\n', len))
		return err_set(e, ERR_INVALID, "maps line holds a NUL or a newline");
	uint64_t a, b, off, maj, min, ino;
	if (!take_hex(&p, end, &a) || !take_char(&p, end, '-') || !take_hex(&p, end, &b) ||
	    !take_char(&p, end, ' '))
		return err_set(e, ERR_INVALID, "maps line: bad address range");
	if (a >= b || (a % MEM_PAGE) || (b % MEM_PAGE))
		return err_set(e, ERR_INVALID, "maps line: bad address range");
	if (end - p < 5)
		return err_set(e, ERR_INVALID, "maps line: bad permissions");
	unsigned perms = 0;
	if (p[0] == 'r')
		perms |= MEM_R;
	else if (p[0] != '-')
		return err_set(e, ERR_INVALID, "maps line: bad permissions");
	if (p[1] == 'w')
		perms |= MEM_W;
	else if (p[1] != '-')
		return err_set(e, ERR_INVALID, "maps line: bad permissions");
	if (p[2] == 'x')
		perms |= MEM_X;
	else if (p[2] != '-')
		return err_set(e, ERR_INVALID, "maps line: bad permissions");
	if (p[3] == 's')
		perms |= MEM_SHARED;
	else if (p[3] != 'p')
		return err_set(e, ERR_INVALID, "maps line: bad permissions");
	p += 4;
	if (!take_char(&p, end, ' ') || !take_hex(&p, end, &off) || !take_char(&p, end, ' '))
		return err_set(e, ERR_INVALID, "maps line: bad offset");
	if (!take_hex(&p, end, &maj) || !take_char(&p, end, ':') || !take_hex(&p, end, &min) ||
	    !take_char(&p, end, ' ') || maj > 0xfff || min > 0xfffff)
		return err_set(e, ERR_INVALID, "maps line: bad device");
	if (!take_dec(&p, end, &ino))
		return err_set(e, ERR_INVALID, "maps line: bad inode");
	if (p < end && *p != ' ')
		return err_set(e, ERR_INVALID, "maps line: bad inode");
	while (p < end && *p == ' ')
		p++;
	size_t plen = (size_t)(end - p);
	if (plen > MEM_MAP_PATH_MAX)
		return err_set(e, ERR_INVALID, "maps line: path too long");
	m->start = a;
	m->end = b;
	m->offset = off;
	m->perms = perms;
	m->dev_major = (unsigned)maj;
	m->dev_minor = (unsigned)min;
	m->inode = ino;
	m->path = plen ? xstrndup(p, plen) : NULL;
	return 0;
}

void mem_maps_free(struct mem_map *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

int mem_maps_parse(const char *buf, size_t len, size_t max_maps, struct mem_map **out,
		   size_t *n, size_t *bad, struct err *e)
{
	if (!max_maps)
		max_maps = 1u << 20;
	struct mem_map *v = NULL;
	size_t nv = 0, cap = 0, nbad = 0;
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (l) {
			struct mem_map m;
			struct err le;
			if (mem_maps_parse_line(p, l, &m, &le) < 0) {
				nbad++;
			} else {
				if (nv >= max_maps) {
					mem_map_clear(&m);
					mem_maps_free(v, nv);
					return err_set(e, ERR_INVALID, "more than %zu maps", max_maps);
				}
				xgrow(&v, &cap, nv + 1, sizeof(*v));
				v[nv++] = m;
			}
		}
		p += l + (nl ? 1 : 0);
	}
	*out = v;
	*n = nv;
	if (bad)
		*bad = nbad;
	return 0;
}

/* ---- selection ---- */

static bool path_is(const char *p, const char *want)
{
	return p && strcmp(p, want) == 0;
}

int mem_map_classify(const struct mem_map *m, const struct mem_select *s, const char **why)
{
	const char *p = m->path;
	const char *dummy;
	if (!why)
		why = &dummy;
	if (path_is(p, "[vvar]") || path_is(p, "[vvar_vclock]")) {
		*why = "vvar";
		return MEM_PICK_SKIP;
	}
	if (path_is(p, "[vsyscall]")) {
		*why = "vsyscall";
		return MEM_PICK_SKIP;
	}
	if (!(m->perms & MEM_R)) {
		*why = "not readable";
		return MEM_PICK_SKIP;
	}
	if (p && str_has_prefix(p, "[stack")) {
		*why = "stack";
		return 0;
	}
	if (path_is(p, "[heap]")) {
		*why = "heap";
		return 1;
	}
	if (path_is(p, "[vdso]")) {
		*why = "vdso";
		return 2;
	}
	if (!p || p[0] == '[') {
		*why = "anonymous";
		return 3;
	}
	if (p[0] != '/') {
		/* not a path the kernel would print for a file: treat as anonymous */
		*why = "anonymous";
		return 3;
	}
	bool deleted = str_has_suffix(p, " (deleted)");
	if (str_has_prefix(p, "/memfd:")) {
		*why = "memfd";
		return 4;
	}
	if (str_has_prefix(p, "/dev/") && !str_has_prefix(p, "/dev/shm/") &&
	    !str_has_prefix(p, "/dev/zero")) {
		*why = "device";
		return MEM_PICK_SKIP;
	}
	if (s && s->have_exe && makedev(m->dev_major, m->dev_minor) == s->exe_dev &&
	    m->inode == s->exe_ino) {
		*why = "executable";
		return 5;
	}
	if (deleted) {
		*why = "deleted file";
		return 4;
	}
	if (str_has_prefix(p, "/dev/shm/") || str_has_prefix(p, "/dev/zero")) {
		*why = "shared memory";
		return 4;
	}
	if ((m->perms & MEM_W) && !(m->perms & MEM_SHARED)) {
		*why = "private writable";
		return 4;
	}
	if (s && s->full) {
		*why = "file";
		return 6;
	}
	*why = "file-backed read-only";
	return m->offset == 0 ? MEM_PICK_HEADER : MEM_PICK_SKIP;
}

/* ---- layout ---- */

void mem_layout_free(struct mem_layout *L)
{
	free(L->segs);
	memset(L, 0, sizeof(*L));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

int mem_layout_compute(const struct mem_map *maps, size_t n, const struct mem_select *s,
		       uint64_t max_bytes, uint64_t notes_size, struct mem_layout *L,
		       struct err *e)
{
	memset(L, 0, sizeof(*L));
	L->segs = n ? xcalloc(n, sizeof(*L->segs)) : NULL;
	L->nsegs = n;
	for (size_t i = 0; i < n; i++) {
		struct mem_seg *g = &L->segs[i];
		g->vaddr = maps[i].start;
		g->memsz = maps[i].end - maps[i].start;
		g->flags = ((maps[i].perms & MEM_R) ? PF_R : 0) |
			   ((maps[i].perms & MEM_W) ? PF_W : 0) |
			   ((maps[i].perms & MEM_X) ? PF_X : 0);
		g->prio = mem_map_classify(&maps[i], s, &g->why);
	}
	/* give the budget in priority order (then address order) */
	uint64_t left = max_bytes ? max_bytes : UINT64_MAX;
	for (int prio = 0; prio <= 7; prio++) {
		for (size_t i = 0; i < n; i++) {
			struct mem_seg *g = &L->segs[i];
			uint64_t want;
			if (prio < 7 && g->prio == prio)
				want = g->memsz;
			else if (prio == 7 && g->prio == MEM_PICK_HEADER)
				want = MEM_PAGE;
			else
				continue;
			uint64_t take = want <= left ? want : left / MEM_PAGE * MEM_PAGE;
			g->filesz = take;
			g->cut = want - take;
			left -= take;
			L->bytes += take;
			L->bytes_cut += g->cut;
		}
	}
	L->phnum = (uint64_t)n + 1;
	L->xnum = L->phnum >= PN_XNUM;
	L->phoff = sizeof(Elf64_Ehdr);
	uint64_t ph;
	if (__builtin_mul_overflow(L->phnum, (uint64_t)sizeof(Elf64_Phdr), &ph))
		return err_set(e, ERR_INVALID, "too many segments");
	L->notes_off = L->phoff + ph;
	L->notes_size = notes_size;
	uint64_t off;
	if (__builtin_add_overflow(L->notes_off, notes_size, &off) || off > (UINT64_MAX >> 2))
		return err_set(e, ERR_INVALID, "notes too large");
	L->data_off = align_up(off, MEM_PAGE);
	off = L->data_off;
	for (size_t i = 0; i < n; i++) {
		L->segs[i].offset = off;
		if (__builtin_add_overflow(off, L->segs[i].filesz, &off))
			return err_set(e, ERR_INVALID, "core too large");
	}
	L->shoff = L->xnum ? off : 0;
	L->size = off + (L->xnum ? sizeof(Elf64_Shdr) : 0);
	return 0;
}

void mem_layout_headers(const struct mem_layout *L, struct sbuf *out)
{
	Elf64_Ehdr eh;
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = L->phoff;
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = L->xnum ? PN_XNUM : (Elf64_Half)L->phnum;
	if (L->xnum) {
		eh.e_shoff = L->shoff;
		eh.e_shentsize = sizeof(Elf64_Shdr);
		eh.e_shnum = 1;
		eh.e_shstrndx = SHN_UNDEF;
	}
	sbuf_add(out, &eh, sizeof(eh));
	Elf64_Phdr ph;
	memset(&ph, 0, sizeof(ph));
	ph.p_type = PT_NOTE;
	ph.p_offset = L->notes_off;
	ph.p_filesz = L->notes_size;
	ph.p_align = 4;
	sbuf_add(out, &ph, sizeof(ph));
	for (size_t i = 0; i < L->nsegs; i++) {
		const struct mem_seg *g = &L->segs[i];
		memset(&ph, 0, sizeof(ph));
		ph.p_type = PT_LOAD;
		ph.p_offset = g->offset;
		ph.p_vaddr = g->vaddr;
		ph.p_filesz = g->filesz;
		ph.p_memsz = g->memsz;
		ph.p_flags = g->flags;
		ph.p_align = MEM_PAGE;
		sbuf_add(out, &ph, sizeof(ph));
	}
}

void mem_layout_shdr(const struct mem_layout *L, struct sbuf *out)
{
	Elf64_Shdr sh;
	memset(&sh, 0, sizeof(sh));
	sh.sh_type = SHT_NULL;
	sh.sh_size = 1;
	sh.sh_link = SHN_UNDEF;
	sh.sh_info = (Elf64_Word)(L->phnum > UINT32_MAX ? UINT32_MAX : L->phnum);
	sbuf_add(out, &sh, sizeof(sh));
}

/* ---- notes ---- */

static void pad4(struct sbuf *b)
{
	static const char z[4];
	size_t r = b->len % 4;
	if (r)
		sbuf_add(b, z, 4 - r);
}

void mem_note_add(struct sbuf *b, const char *name, uint32_t type, const void *desc,
		  size_t descsz)
{
	Elf64_Nhdr nh;
	size_t nl = strlen(name) + 1;
	nh.n_namesz = (Elf64_Word)nl;
	nh.n_descsz = (Elf64_Word)descsz;
	nh.n_type = type;
	pad4(b);
	sbuf_add(b, &nh, sizeof(nh));
	sbuf_add(b, name, nl);
	pad4(b);
	if (descsz)
		sbuf_add(b, desc, descsz);
	pad4(b);
}

void mem_note_file_desc(const struct mem_map *maps, size_t n, size_t max, struct sbuf *out,
			size_t *dropped)
{
	if (!max)
		max = 4u << 20;
	/* pick the entries that fit: 24 bytes each + name + NUL, + 16 of header */
	size_t total = 16, count = 0, nd = 0;
	bool *take = n ? xcalloc(n, sizeof(bool)) : NULL;
	for (size_t i = 0; i < n; i++) {
		if (!maps[i].path || maps[i].path[0] != '/')
			continue;
		size_t need = 24 + strlen(maps[i].path) + 1;
		if (total + need > max) {
			nd++;
			continue;
		}
		total += need;
		take[i] = true;
		count++;
	}
	uint64_t hdr[2] = {count, MEM_PAGE};
	sbuf_add(out, hdr, sizeof(hdr));
	for (size_t i = 0; i < n; i++) {
		if (!take[i])
			continue;
		uint64_t ent[3] = {maps[i].start, maps[i].end, maps[i].offset / MEM_PAGE};
		sbuf_add(out, ent, sizeof(ent));
	}
	for (size_t i = 0; i < n; i++)
		if (take[i])
			sbuf_add(out, maps[i].path, strlen(maps[i].path) + 1);
	free(take);
	if (dropped)
		*dropped = nd;
}

/* ---- /proc parsing ---- */

int mem_parse_stat(const char *buf, size_t len, struct mem_procinfo *pi, struct err *e)
{
	const char *lp = memchr(buf, '(', len);
	const char *rp = NULL;
	for (size_t i = len; i > 0; i--)
		if (buf[i - 1] == ')') {
			rp = buf + i - 1;
			break;
		}
	if (!lp || !rp || rp < lp)
		return err_set(e, ERR_INVALID, "stat: no comm");
	size_t cl = (size_t)(rp - lp - 1);
	if (cl > sizeof(pi->comm) - 1)
		cl = sizeof(pi->comm) - 1;
	memcpy(pi->comm, lp + 1, cl);
	pi->comm[cl] = '\0';
	/* fields after the comm: 3 state, 4 ppid, 5 pgrp, 6 session, ..., 9 flags,
	 * 14 utime, 15 stime, 16 cutime, 17 cstime, 18 priority, 19 nice */
	const char *p = rp + 1, *end = buf + len;
	long long f[20] = {0};
	char state = '?';
	for (int field = 3; field <= 19; field++) {
		if (p >= end || *p != ' ')
			return err_set(e, ERR_INVALID, "stat: field %d missing", field);
		p++;
		const char *s = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		size_t fl = (size_t)(p - s);
		if (field == 3) {
			if (fl != 1)
				return err_set(e, ERR_INVALID, "stat: bad state");
			state = *s;
			continue;
		}
		char tmp[32];
		if (fl == 0 || fl >= sizeof(tmp))
			return err_set(e, ERR_INVALID, "stat: bad field %d", field);
		memcpy(tmp, s, fl);
		tmp[fl] = '\0';
		long long v;
		if (parse_ll(tmp, INT64_MIN, INT64_MAX, &v) < 0)
			return err_set(e, ERR_INVALID, "stat: bad field %d", field);
		f[field] = v;
	}
	pi->state = state;
	pi->ppid = (pid_t)f[4];
	pi->pgrp = (pid_t)f[5];
	pi->sid = (pid_t)f[6];
	pi->flags = (unsigned long)f[9];
	pi->utime = (uint64_t)f[14];
	pi->stime = (uint64_t)f[15];
	pi->cutime = (uint64_t)f[16];
	pi->cstime = (uint64_t)f[17];
	pi->nice = (int)f[19];
	/* the pid is the first field */
	long long pid;
	char tmp[24];
	size_t pl = (size_t)(lp - buf);
	while (pl && buf[pl - 1] == ' ')
		pl--;
	if (pl == 0 || pl >= sizeof(tmp))
		return err_set(e, ERR_INVALID, "stat: bad pid");
	memcpy(tmp, buf, pl);
	tmp[pl] = '\0';
	if (parse_ll(tmp, 1, INT32_MAX, &pid) < 0)
		return err_set(e, ERR_INVALID, "stat: bad pid");
	pi->pid = (pid_t)pid;
	return 0;
}

static bool status_field(const char *buf, size_t len, const char *key, char *val, size_t vsz)
{
	size_t kl = strlen(key);
	const char *p = buf, *end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (l > kl && memcmp(p, key, kl) == 0 && p[kl] == ':') {
			const char *s = p + kl + 1;
			while (s < p + l && (*s == ' ' || *s == '\t'))
				s++;
			size_t vl = (size_t)(p + l - s);
			if (vl >= vsz)
				vl = vsz - 1;
			memcpy(val, s, vl);
			val[vl] = '\0';
			return true;
		}
		p += l + 1;
	}
	return false;
}

/* "NSpid:\t812\t7": every field a decimal id (>= min, pid 0 is a
 * process group or session outside the namespace), at most MEM_NS_MAX of
 * them. The number of fields, or -1 when the line is missing or malformed. */
static int ns_fields(const char *buf, size_t len, const char *key, pid_t *out, long long min)
{
	char v[MEM_NS_MAX * 12];
	if (!status_field(buf, len, key, v, sizeof(v)) || strlen(v) == sizeof(v) - 1)
		return -1; /* missing, or cut: the last field would be wrong */
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(v, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		long long x;
		if (n == MEM_NS_MAX || parse_ll(tok, min, INT32_MAX, &x) < 0)
			return -1;
		out[n++] = (pid_t)x;
	}
	return n ? n : -1;
}

static uint64_t hex64(const char *s)
{
	uint64_t v = 0;
	const char *p = s;
	if (!take_hex(&p, s + strlen(s), &v))
		return 0;
	return v;
}

void mem_parse_status(const char *buf, size_t len, struct mem_procinfo *pi)
{
	char v[128];
	unsigned long long u;
	if (status_field(buf, len, "Uid", v, sizeof(v))) {
		v[strcspn(v, " \t")] = '\0';
		if (parse_ull(v, UINT32_MAX, &u) == 0)
			pi->uid = (uint32_t)u;
	}
	if (status_field(buf, len, "Gid", v, sizeof(v))) {
		v[strcspn(v, " \t")] = '\0';
		if (parse_ull(v, UINT32_MAX, &u) == 0)
			pi->gid = (uint32_t)u;
	}
	if (status_field(buf, len, "SigPnd", v, sizeof(v)))
		pi->sigpend = hex64(v);
	if (status_field(buf, len, "SigBlk", v, sizeof(v)))
		pi->sighold = hex64(v);
	/* the ids in each pid namespace, the host's first, the process's own last */
	pid_t f[MEM_NS_MAX];
	int np = ns_fields(buf, len, "NSpid", f, 1);
	pi->ns_depth = 0;
	if (np <= 0)
		return;
	pid_t own = f[np - 1];
	if (ns_fields(buf, len, "NSpgid", f, 0) != np)
		return;
	pid_t pg = f[np - 1];
	if (ns_fields(buf, len, "NSsid", f, 0) != np)
		return;
	pi->ns_depth = (unsigned)np;
	pi->ns_pid = own;
	pi->ns_pgrp = pg;
	pi->ns_sid = f[np - 1];
}

pid_t mem_ns_ppid(const char *parent_status, size_t len, unsigned child_depth)
{
	pid_t f[MEM_NS_MAX];
	int np = ns_fields(parent_status, len, "NSpid", f, 1);
	if (np <= 0 || child_depth == 0 || (unsigned)np < child_depth)
		return 0;
	return f[child_depth - 1];
}

void mem_set_psargs(struct mem_procinfo *pi, const char *cmdline, size_t len)
{
	size_t n = len < sizeof(pi->psargs) - 1 ? len : sizeof(pi->psargs) - 1;
	for (size_t i = 0; i < n; i++)
		pi->psargs[i] = cmdline[i] ? cmdline[i] : ' ';
	while (n && pi->psargs[n - 1] == ' ')
		n--;
	pi->psargs[n] = '\0';
}

int mem_parse_syscall(const char *buf, size_t len, struct mem_thread *t, struct err *e)
{
	char tmp[512];
	if (len >= sizeof(tmp))
		return err_set(e, ERR_INVALID, "syscall file too long");
	memcpy(tmp, buf, len);
	tmp[len] = '\0';
	str_rstrip(tmp);
	if (strcmp(tmp, "running") == 0)
		return err_set(e, ERR_WRONGSTATE, "thread is running");
	/* fields: nr [a1..a6] sp pc */
	char *f[9];
	int nf = 0;
	char *save = NULL;
	for (char *tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (nf == 9)
			return err_set(e, ERR_INVALID, "syscall file: too many fields");
		f[nf++] = tok;
	}
	if (nf != 9 && nf != 3)
		return err_set(e, ERR_INVALID, "syscall file: %d fields", nf);
	long long nr;
	if (parse_ll(f[0], -1, 1 << 20, &nr) < 0)
		return err_set(e, ERR_INVALID, "syscall file: bad number");
	uint64_t v[9] = {0};
	for (int i = 1; i < nf; i++) {
		const char *s = f[i];
		if (s[0] == '0' && s[1] == 'x')
			s += 2;
		const char *p = s;
		if (!take_hex(&p, s + strlen(s), &v[i]) || *p)
			return err_set(e, ERR_INVALID, "syscall file: bad field %d", i + 1);
	}
	struct user_regs_struct r;
	memset(&r, 0, sizeof(r));
	r.orig_rax = (unsigned long long)nr;
	r.rax = nr >= 0 ? (unsigned long long)-38 /* -ENOSYS */ : 0;
	if (nf == 9) {
		r.rdi = v[1];
		r.rsi = v[2];
		r.rdx = v[3];
		r.r10 = v[4];
		r.r8 = v[5];
		r.r9 = v[6];
	}
	r.rsp = v[nf - 2];
	r.rip = v[nf - 1];
	r.cs = 0x33;
	r.ss = 0x2b;
	memcpy(t->regs, &r, sizeof(r));
	t->have_regs = true;
	t->regs_source = "syscall";
	return 0;
}

/* ---- the notes, in the kernel's order ---- */

_Static_assert(sizeof(struct user_regs_struct) == 27 * 8, "user_regs_struct");
_Static_assert(sizeof(elf_gregset_t) == 27 * 8, "elf_gregset_t");
_Static_assert(sizeof(struct user_fpregs_struct) == 512, "user_fpregs_struct");
_Static_assert(sizeof(siginfo_t) == 128, "siginfo_t");

static void tick_tv(uint64_t ticks, struct timeval *tv)
{
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	tv->tv_sec = (time_t)(ticks / (uint64_t)hz);
	tv->tv_usec = (suseconds_t)((ticks % (uint64_t)hz) * 1000000 / (uint64_t)hz);
}

static void prstatus_add(struct sbuf *out, const struct mem_procinfo *pi, const struct mem_thread *t)
{
	struct elf_prstatus ps;
	memset(&ps, 0, sizeof(ps));
	ps.pr_info.si_signo = t->cursig;
	ps.pr_cursig = (short)t->cursig;
	ps.pr_sigpend = t->info.sigpend;
	ps.pr_sighold = t->info.sighold;
	/* the ids the process sees, as the kernel's own cores have them */
	bool ns = pi->ns_depth && t->info.ns_depth == pi->ns_depth;
	ps.pr_pid = ns ? t->info.ns_pid : t->tid;
	ps.pr_ppid = pi->ns_depth ? pi->ns_ppid : pi->ppid;
	ps.pr_pgrp = pi->ns_depth ? pi->ns_pgrp : pi->pgrp;
	ps.pr_sid = pi->ns_depth ? pi->ns_sid : pi->sid;
	tick_tv(t->info.utime, &ps.pr_utime);
	tick_tv(t->info.stime, &ps.pr_stime);
	tick_tv(t->info.cutime, &ps.pr_cutime);
	tick_tv(t->info.cstime, &ps.pr_cstime);
	if (t->have_regs)
		memcpy(&ps.pr_reg, t->regs, sizeof(ps.pr_reg));
	ps.pr_fpvalid = t->have_fp ? 1 : 0;
	mem_note_add(out, "CORE", NT_PRSTATUS, &ps, sizeof(ps));
}

static void thread_fp_add(struct sbuf *out, const struct mem_thread *t)
{
	if (t->have_fp)
		mem_note_add(out, "CORE", NT_FPREGSET, t->fpregs, sizeof(t->fpregs));
	if (t->xstate && t->xstate_len)
		mem_note_add(out, "LINUX", NT_X86_XSTATE, t->xstate, t->xstate_len);
}

void mem_notes_build(const struct mem_procinfo *pi, const struct mem_thread *threads,
		     size_t nthreads, const void *auxv, size_t auxv_len,
		     const struct sbuf *file_desc, struct sbuf *out)
{
	for (size_t i = 0; i < nthreads; i++) {
		prstatus_add(out, pi, &threads[i]);
		if (i == 0) {
			struct elf_prpsinfo pp;
			memset(&pp, 0, sizeof(pp));
			char st = pi->state ? pi->state : 'R';
			static const char states[] = "RSDTZW";
			const char *sp = strchr(states, st);
			pp.pr_state = (char)(sp ? sp - states : 0);
			pp.pr_sname = st;
			pp.pr_zomb = st == 'Z';
			pp.pr_nice = (char)pi->nice;
			pp.pr_flag = pi->flags;
			pp.pr_uid = pi->uid;
			pp.pr_gid = pi->gid;
			pp.pr_pid = pi->ns_depth ? pi->ns_pid : pi->pid;
			pp.pr_ppid = pi->ns_depth ? pi->ns_ppid : pi->ppid;
			pp.pr_pgrp = pi->ns_depth ? pi->ns_pgrp : pi->pgrp;
			pp.pr_sid = pi->ns_depth ? pi->ns_sid : pi->sid;
			memcpy(pp.pr_fname, pi->comm, sizeof(pp.pr_fname));
			memcpy(pp.pr_psargs, pi->psargs, sizeof(pp.pr_psargs));
			mem_note_add(out, "CORE", NT_PRPSINFO, &pp, sizeof(pp));
			if (threads[0].have_siginfo)
				mem_note_add(out, "CORE", NT_SIGINFO, threads[0].siginfo,
					     sizeof(threads[0].siginfo));
			if (auxv && auxv_len)
				mem_note_add(out, "CORE", NT_AUXV, auxv, auxv_len);
			if (file_desc && file_desc->len)
				mem_note_add(out, "CORE", NT_FILE, file_desc->buf, file_desc->len);
		}
		thread_fp_add(out, &threads[i]);
	}
}
