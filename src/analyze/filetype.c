/* filetype: what a file is, from its bytes only.
 *
 * libmagic (MIME type and description) on a buffer of a file's first bytes:
 * it never sees a path or an fd, never decompresses (MAGIC_NO_CHECK_COMPRESS:
 * a hostile gzip stream is named, not inflated) and its own limits are set
 * explicitly (magic_setparam).
 *
 * The ELF header of a stream, parsed as the bytes pass (any chunking, offsets
 * increasing): the header from the first 64 bytes, then the program header
 * table (PT_INTERP, PT_DYNAMIC), the interpreter string at PT_INTERP's offset
 * and the section header table (SHT_SYMTAB: not stripped) gathered when the
 * stream reaches them. Nothing is seeked; a table the stream has already
 * passed when it becomes known (a hostile layout) is left unknown. Every
 * offset and size is attacker-written: sizes are bounded (64 KiB of program
 * headers, 1 MiB of section headers, 256 bytes of interpreter) and every
 * end is computed without overflow. */
#include <magic.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/analyze.h"
#include "contain/bag.h"

enum aent_type aent_type_from_mode(unsigned int mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return AENT_FILE;
	case S_IFDIR:
		return AENT_DIR;
	case S_IFLNK:
		return AENT_SYMLINK;
	case S_IFCHR:
		return AENT_CHAR;
	case S_IFBLK:
		return AENT_BLOCK;
	case S_IFIFO:
		return AENT_FIFO;
	case S_IFSOCK:
		return AENT_SOCKET;
	default:
		return AENT_NONE;
	}
}

/* ---------------------------------------------------------------------- */
/* libmagic                                                                */

struct aftype {
	magic_t mime; /* MAGIC_MIME_TYPE */
	magic_t desc; /* the description ("ELF 64-bit LSB pie executable, ...") */
};

static void magic_closep(magic_t *m)
{
	if (*m)
		magic_close(*m);
}

static int magic_new(int flags, magic_t *out, struct err *e)
{
	_cleanup_(magic_closep) magic_t m = magic_open(flags | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
	if (!m)
		return err_sys(e, errno, "libmagic: magic_open");
	if (magic_load(m, NULL) < 0)
		return err_set(e, ERR_SYS, "libmagic: load its database: %s",
			       magic_error(m) ? magic_error(m) : "unknown error");
	/* libmagic's own bounds, explicit: bytes looked at (our buffer is
	 * already at most AN_MAGIC_BYTES), indirection and name/use
	 * recursion, regex and text-encoding scan lengths */
	static const struct {
		int param;
		size_t v;
	} params[] = {
		{MAGIC_PARAM_BYTES_MAX, AN_MAGIC_BYTES}, {MAGIC_PARAM_INDIR_MAX, 15},
		{MAGIC_PARAM_NAME_MAX, 30},		 {MAGIC_PARAM_REGEX_MAX, 8192},
		{MAGIC_PARAM_ENCODING_MAX, 65536},	 {MAGIC_PARAM_ELF_PHNUM_MAX, 128},
		{MAGIC_PARAM_ELF_SHNUM_MAX, 4096},	 {MAGIC_PARAM_ELF_NOTES_MAX, 256},
	};
	for (size_t i = 0; i < ARRAY_SIZE(params); i++)
		if (magic_setparam(m, params[i].param, &params[i].v) < 0)
			return err_set(e, ERR_SYS, "libmagic: set parameter %d: %s",
				       params[i].param,
				       magic_error(m) ? magic_error(m) : "refused");
	*out = steal_pointer(&m);
	return 0;
}

int aftype_open(struct aftype **out, struct err *e)
{
	struct aftype *t = xcalloc(1, sizeof(*t));
	if (magic_new(MAGIC_MIME_TYPE, &t->mime, e) < 0 || magic_new(MAGIC_NONE, &t->desc, e) < 0) {
		aftype_close(t);
		return -1;
	}
	*out = t;
	return 0;
}

void aftype_close(struct aftype *t)
{
	if (!t)
		return;
	if (t->mime)
		magic_close(t->mime);
	if (t->desc)
		magic_close(t->desc);
	free(t);
}

/* libmagic's answers are ASCII for its own database, but a description can
 * quote bytes of the file (a script's interpreter, a volume label): kept
 * JSON-safe (bag_json_text) */
void aftype_buffer(struct aftype *t, const void *head, size_t n, uint64_t size, json_t *entry)
{
	(void)size; /* libmagic judges the bytes it has; the size is the entry's own field */
	if (n > AN_MAGIC_BYTES)
		n = AN_MAGIC_BYTES;
	/* libmagic wants a non-NULL buffer even for no bytes */
	static const char empty[1];
	if (!head)
		head = empty, n = 0;
	const char *mime = t && t->mime ? magic_buffer(t->mime, head, n) : NULL;
	if (!mime) {
		const char *why = t && t->mime ? magic_error(t->mime) : "no libmagic handle";
		json_object_set_new(entry, "magic_error", bag_json_text(why ? why : "unknown error"));
		return;
	}
	json_object_set_new(entry, "mime", bag_json_text(mime));
	const char *desc = magic_buffer(t->desc, head, n);
	if (!desc) {
		const char *why = magic_error(t->desc);
		json_object_set_new(entry, "magic_error", bag_json_text(why ? why : "unknown error"));
		return;
	}
	json_object_set_new(entry, "magic", bag_json_text(desc));
}

/* ---------------------------------------------------------------------- */
/* the shebang                                                             */

#define SHEBANG_MAX 256

char *an_shebang(const void *head, size_t n)
{
	const char *p = head;
	if (!p || n < 2 || p[0] != '#' || p[1] != '!')
		return NULL;
	p += 2;
	n -= 2;
	size_t len = 0;
	while (len < n && len < SHEBANG_MAX && p[len] != '\n' && p[len] != '\0')
		len++;
	size_t start = 0;
	while (start < len && (p[start] == ' ' || p[start] == '\t'))
		start++;
	while (len > start && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
		len--;
	if (len == start)
		return NULL;
	_cleanup_free_ char *line = xstrndup(p + start, len - start);
	if (utf8_valid(line, strlen(line)) && !strchr(line, '%'))
		return steal_pointer(&line);
	/* the bag's encoding: invalid bytes and '%' as %XX */
	return bag_path_json_encode(line);
}

/* ---------------------------------------------------------------------- */
/* ELF                                                                     */

#define ELF_PH_MAX (64u << 10)
#define ELF_SH_MAX (1u << 20)
#define ELF_INTERP_MAX 256u
#define ELF_DYN_MAX (16u << 10)

enum {
	ET_REL_ = 1,
	ET_EXEC_ = 2,
	ET_DYN_ = 3,
	ET_CORE_ = 4,
	PT_DYNAMIC_ = 2,
	PT_INTERP_ = 3,
	SHT_SYMTAB_ = 2,
	PN_XNUM_ = 0xffff,
};
#define DT_FLAGS_1_ 0x6ffffffbu
#define DF_1_PIE_ 0x08000000u

void aelf_init(struct aelf_sniff *s)
{
	memset(s, 0, sizeof(*s));
}

void aelf_free(struct aelf_sniff *s)
{
	free(s->ph);
	free(s->sh);
	free(s->dyn);
	s->ph = s->sh = s->dyn = NULL;
}

static uint16_t rd16(const struct aelf_sniff *s, const unsigned char *p)
{
	return s->big_endian ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t rd32(const struct aelf_sniff *s, const unsigned char *p)
{
	if (s->big_endian)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint64_t rd64(const struct aelf_sniff *s, const unsigned char *p)
{
	uint64_t a = rd32(s, p), b = rd32(s, p + 4);
	return s->big_endian ? a << 32 | b : b << 32 | a;
}

/* A word of the file's class (an address, an offset): 8 bytes or 4. */
static uint64_t rdword(const struct aelf_sniff *s, const unsigned char *p)
{
	return s->cls == 64 ? rd64(s, p) : rd32(s, p);
}

/* Copy into dst (the file's bytes [off, off + len), got of them already
 * there, gathered in order) what of them buf (the file's bytes
 * [boff, boff + n)) holds. Returns true when the region is complete. A
 * region whose next byte the stream has already passed stays incomplete. */
static bool gather(unsigned char *dst, uint64_t off, size_t len, size_t *got, const void *buf,
		   uint64_t boff, size_t n)
{
	if (*got >= len)
		return true;
	uint64_t want = off + *got; /* no overflow: off + len was checked */
	if (want < boff || want - boff >= n)
		return false;
	size_t at = (size_t)(want - boff);
	size_t k = n - at;
	if (k > len - *got)
		k = len - *got;
	memcpy(dst + *got, (const unsigned char *)buf + at, k);
	*got += k;
	return *got == len;
}

/* does [off, off + size) fit in 64 bits */
static bool span_ok(uint64_t off, uint64_t size)
{
	return size <= UINT64_MAX - off;
}

static void parse_header(struct aelf_sniff *s)
{
	const unsigned char *h = s->head;
	s->hdr_done = true;
	if (memcmp(h, "\x7f" "ELF", 4) != 0)
		return;
	if ((h[4] != 1 && h[4] != 2) || (h[5] != 1 && h[5] != 2)) {
		s->bad = true; /* the magic, but no class or byte order we know */
		return;
	}
	s->cls = h[4] == 1 ? 32 : 64;
	s->big_endian = h[5] == 2;
	s->e_type = rd16(s, h + 16);
	s->e_machine = rd16(s, h + 18);
	/* where e_phoff .. e_shnum stand in the header of each class */
	static const struct ehdr_at {
		uint8_t phoff, shoff, phentsize, phnum, shentsize, shnum;
	} at32 = {28, 32, 42, 44, 46, 48}, at64 = {32, 40, 54, 56, 58, 60};
	const struct ehdr_at *at = s->cls == 64 ? &at64 : &at32;
	s->phoff = rdword(s, h + at->phoff);
	s->shoff = rdword(s, h + at->shoff);
	s->phentsize = rd16(s, h + at->phentsize);
	s->phnum = rd16(s, h + at->phnum);
	s->shentsize = rd16(s, h + at->shentsize);
	s->shnum = rd16(s, h + at->shnum);
	s->is_elf = true;

	/* the program header table: entries at least as large as the
	 * structure we read, at most ELF_PH_MAX bytes in all */
	size_t phmin = s->cls == 64 ? 56 : 32, shmin = s->cls == 64 ? 64 : 40;
	uint64_t phbytes = (uint64_t)s->phnum * s->phentsize;
	if (s->phnum == PN_XNUM_ || (s->phnum && (s->phentsize < phmin || phbytes > ELF_PH_MAX ||
						   !span_ok(s->phoff, phbytes) || s->phoff == 0)))
		s->bad = true; /* extended numbering or a table we will not read */
	else if (s->phnum) {
		s->ph_len = (size_t)phbytes;
		s->ph = xmalloc(s->ph_len);
	}
	uint64_t shbytes = (uint64_t)s->shnum * s->shentsize;
	if (s->shnum && (s->shentsize < shmin || shbytes > ELF_SH_MAX ||
			 !span_ok(s->shoff, shbytes) || s->shoff == 0))
		s->bad = true;
	else if (s->shnum) {
		s->sh_len = (size_t)shbytes;
		s->sh = xmalloc(s->sh_len);
	}
	/* a table overlapping the header: what of it the header holds */
	if (s->ph)
		gather(s->ph, s->phoff, s->ph_len, &s->ph_got, s->head, 0, s->head_len);
	if (s->sh)
		gather(s->sh, s->shoff, s->sh_len, &s->sh_got, s->head, 0, s->head_len);
}

/* the program headers, once whole: PT_INTERP (where its string is) and
 * PT_DYNAMIC */
static void parse_ph(struct aelf_sniff *s)
{
	s->ph_parsed = true;
	for (size_t i = 0; i < s->phnum; i++) {
		const unsigned char *p = s->ph + i * s->phentsize;
		uint32_t type = rd32(s, p);
		uint64_t off = s->cls == 64 ? rd64(s, p + 8) : rd32(s, p + 4);
		uint64_t filesz = s->cls == 64 ? rd64(s, p + 32) : rd32(s, p + 16);
		if (type == PT_DYNAMIC_ && !s->has_dynamic) {
			s->has_dynamic = true;
			if (filesz > ELF_DYN_MAX)
				filesz = ELF_DYN_MAX;
			if (filesz && span_ok(off, filesz)) {
				s->dyn_off = off;
				s->dyn_len = (size_t)filesz;
				s->dyn = xmalloc(s->dyn_len);
			}
		}
		if (type != PT_INTERP_ || s->has_interp)
			continue;
		s->has_interp = true;
		if (filesz > ELF_INTERP_MAX)
			filesz = ELF_INTERP_MAX;
		if (!span_ok(off, filesz))
			continue; /* has_interp, string unknown */
		s->interp_off = off;
		s->interp_len = (size_t)filesz;
	}
}

void aelf_feed(struct aelf_sniff *s, const void *buf, size_t n)
{
	uint64_t boff = s->seen;
	if (!span_ok(boff, n))
		n = (size_t)(UINT64_MAX - boff);
	s->seen += n;
	if (s->head_len < sizeof(s->head)) {
		size_t k = sizeof(s->head) - s->head_len;
		if (k > n)
			k = n;
		memcpy(s->head + s->head_len, buf, k);
		s->head_len += k;
	}
	if (!s->hdr_done) {
		/* not ELF as soon as the magic differs; the header once whole */
		size_t m = s->head_len < 4 ? s->head_len : 4;
		if (memcmp(s->head, "\x7f" "ELF", m) != 0) {
			s->hdr_done = true;
			return;
		}
		size_t need = s->head_len > 4 && s->head[4] == 1 ? 52 : 64;
		if (s->head_len < need)
			return;
		parse_header(s);
	}
	if (!s->is_elf)
		return;
	if (s->ph && !s->ph_parsed &&
	    gather(s->ph, s->phoff, s->ph_len, &s->ph_got, buf, boff, n))
		parse_ph(s);
	/* PT_INTERP's string and PT_DYNAMIC's content become known where the
	 * program headers end: bytes before that only from the header or the
	 * table themselves (a hostile layout), so that the result does not
	 * depend on how the stream was cut into chunks */
	uint64_t ph_end = s->phoff + s->ph_len;
	if (s->interp_len && s->interp_got < s->interp_len) {
		unsigned char *d = (unsigned char *)s->interp;
		gather(d, s->interp_off, s->interp_len, &s->interp_got, s->head, 0, s->head_len);
		if (s->ph)
			gather(d, s->interp_off, s->interp_len, &s->interp_got, s->ph, s->phoff,
			       s->ph_len);
		if (s->interp_off + s->interp_got >= ph_end)
			gather(d, s->interp_off, s->interp_len, &s->interp_got, buf, boff, n);
	}
	if (s->dyn && s->dyn_got < s->dyn_len) {
		gather(s->dyn, s->dyn_off, s->dyn_len, &s->dyn_got, s->head, 0, s->head_len);
		if (s->ph)
			gather(s->dyn, s->dyn_off, s->dyn_len, &s->dyn_got, s->ph, s->phoff,
			       s->ph_len);
		if (s->dyn_off + s->dyn_got >= ph_end)
			gather(s->dyn, s->dyn_off, s->dyn_len, &s->dyn_got, buf, boff, n);
	}
	if (s->sh)
		gather(s->sh, s->shoff, s->sh_len, &s->sh_got, buf, boff, n);
}

/* DT_FLAGS_1 of the dynamic section: 1 with DF_1_PIE, 0 without, -1 when
 * the section was not gathered whole (up to its DT_NULL) */
static int dyn_pie(const struct aelf_sniff *s)
{
	if (!s->dyn || s->dyn_got < s->dyn_len)
		return -1;
	size_t esz = s->cls == 64 ? 16 : 8, half = esz / 2;
	for (size_t i = 0; esz <= s->dyn_len && i <= s->dyn_len - esz; i += esz) {
		uint64_t tag = rdword(s, s->dyn + i);
		uint64_t val = rdword(s, s->dyn + i + half);
		if (tag == 0)
			return 0;
		if (tag == DT_FLAGS_1_)
			return (val & DF_1_PIE_) != 0;
	}
	return s->dyn_len < ELF_DYN_MAX ? 0 : -1;
}

static const char *machine_name(uint16_t m, int cls, char *buf, size_t sz)
{
	switch (m) {
	case 3:
		return "i386";
	case 8:
		return "MIPS";
	case 20:
		return "PowerPC";
	case 21:
		return "PowerPC64";
	case 22:
		return cls == 64 ? "s390x" : "s390";
	case 40:
		return "ARM";
	case 62:
		return "x86-64";
	case 183:
		return "AArch64";
	case 243:
		return "RISC-V";
	case 258:
		return "LoongArch";
	default:
		snprintf(buf, sz, "machine %u", (unsigned)m);
		return buf;
	}
}

/* stripped: true/false from a whole section table, else null */
static json_t *stripped_json(const struct aelf_sniff *s)
{
	if (!s->sh || s->sh_got < s->sh_len)
		return json_null();
	for (size_t i = 0; i < s->shnum; i++)
		if (rd32(s, s->sh + i * s->shentsize + 4) == SHT_SYMTAB_)
			return json_false();
	return json_true();
}

static json_t *interp_json(const struct aelf_sniff *s)
{
	if (!s->interp_len || s->interp_got < s->interp_len)
		return json_null();
	size_t len = strnlen(s->interp, s->interp_len);
	if (!len)
		return json_null();
	_cleanup_free_ char *str = xstrndup(s->interp, len);
	return bag_json_path(str);
}

json_t *aelf_json(const struct aelf_sniff *s)
{
	if (!s->is_elf)
		return NULL;
	bool ph_known = s->phnum == 0 || s->ph_parsed;
	int pie = -1;
	const char *type;
	switch (s->e_type) {
	case ET_REL_:
		type = "relocatable";
		break;
	case ET_EXEC_:
		type = "exec";
		break;
	case ET_DYN_:
		/* as file(1): DF_1_PIE says "executable" (libc.so.6 has an
		 * interpreter and is a library); without the dynamic section,
		 * an interpreter does */
		pie = dyn_pie(s);
		type = pie == 1 || (pie < 0 && s->has_interp) ? "pie executable" : "shared object";
		break;
	case ET_CORE_:
		type = "core";
		break;
	default:
		type = "other";
	}
	json_t *linkage = json_null();
	/* static-pie: a dynamic section (for its own relocation) but no
	 * interpreter and DF_1_PIE */
	bool dynamic = s->has_interp || (s->has_dynamic && pie != 1);
	if ((s->e_type == ET_EXEC_ || s->e_type == ET_DYN_) && ph_known && s->phnum)
		linkage = json_string(dynamic ? "dynamic" : "static");
	char mbuf[32];
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o}", "class", s->cls == 64 ? "ELF64" : "ELF32",
			 "machine", machine_name(s->e_machine, s->cls, mbuf, sizeof(mbuf)), "type", type,
			 "linkage", linkage, "interpreter", interp_json(s), "stripped",
			 stripped_json(s));
}
