/* filetype: the streaming ELF sniffer on real binaries of this machine and on
 * hostile headers, libmagic on buffers, the shebang line. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "contain/analyze.h"
#include "unit.h"

/* ---- helpers ---- */

static bool slurp(const char *path, char **buf, size_t *len)
{
	bool trunc = false;
	struct err e = {0};
	return read_file_at(AT_FDCWD, path, 256u << 20, buf, len, &trunc, &e) == 0 && !trunc;
}

/* the sniffer's JSON of buf fed in chunks of chunk bytes (0: whole) */
static json_t *sniff(const void *buf, size_t len, size_t chunk)
{
	struct aelf_sniff s;
	aelf_init(&s);
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk)
		aelf_feed(&s, (const char *)buf + off, len - off < chunk ? len - off : chunk);
	json_t *j = aelf_json(&s);
	aelf_free(&s);
	return j;
}

/* the same result for 1-byte, 7-byte and whole feeding; returned (whole) */
static json_t *sniff_all_ways(const void *buf, size_t len)
{
	json_t *whole = sniff(buf, len, 0);
	json_t *seven = sniff(buf, len, 7);
	json_t *one = sniff(buf, len, 1);
	json_t *odd = sniff(buf, len, 4093);
	if (!json_equal(whole, seven)) {
		char *a = json_dumps(whole, 0), *b = json_dumps(seven, 0);
		ck_abort_msg("7-byte chunks differ: %s vs %s", a, b);
	}
	ck_assert_msg(json_equal(whole, one), "1-byte chunks differ");
	ck_assert_msg(json_equal(whole, odd), "4093-byte chunks differ");
	json_decref(seven);
	json_decref(one);
	json_decref(odd);
	return whole;
}

static json_t *sniff_file(const char *path)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (!slurp(path, &buf, &len))
		return NULL;
	return sniff_all_ways(buf, len);
}

static const char *jstr_of(json_t *j, const char *k)
{
	return json_string_value(json_object_get(j, k));
}

static int run(const char *const argv[])
{
	pid_t p = fork();
	if (p == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	if (p < 0 || waitpid(p, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- real binaries ---- */

START_TEST(elf_pie_dynamic)
{
	json_t *j = sniff_file("/bin/true");
	if (!j) {
		printf("# SKIP /bin/true not readable\n");
		fflush(stdout);
		return;
	}
	ck_assert_str_eq(jstr_of(j, "class"), "ELF64");
#if defined(__x86_64__)
	ck_assert_str_eq(jstr_of(j, "machine"), "x86-64");
	ck_assert_str_eq(jstr_of(j, "interpreter"), "/lib64/ld-linux-x86-64.so.2");
#endif
	ck_assert_str_eq(jstr_of(j, "type"), "pie executable");
	ck_assert_str_eq(jstr_of(j, "linkage"), "dynamic");
	ck_assert(json_is_true(json_object_get(j, "stripped")));
	json_decref(j);
}
END_TEST

START_TEST(elf_static)
{
	static const char *const cands[] = {"/bin/busybox", "/usr/bin/busybox",
					    "/usr/bin/tini-static"};
	json_t *j = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(cands) && !j; i++) {
		struct stat st;
		if (stat(cands[i], &st) == 0)
			j = sniff_file(cands[i]);
		/* only a static one counts */
		if (j && !json_is_null(json_object_get(j, "interpreter"))) {
			json_decref(j);
			j = NULL;
		}
	}
	if (!j) {
		printf("# SKIP no static binary (busybox, tini-static) on this machine\n");
		fflush(stdout);
		return;
	}
	ck_assert_str_eq(jstr_of(j, "type"), "exec");
	ck_assert_str_eq(jstr_of(j, "linkage"), "static");
	ck_assert(json_is_null(json_object_get(j, "interpreter")));
	json_decref(j);
}
END_TEST

START_TEST(elf_shared_object)
{
	static const char *const cands[] = {"/lib/x86_64-linux-gnu/libm.so.6",
					    "/lib/x86_64-linux-gnu/libc.so.6",
					    "/lib/aarch64-linux-gnu/libc.so.6", "/lib64/libc.so.6"};
	for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
		json_t *j = sniff_file(cands[i]);
		if (!j)
			continue;
		/* libc.so.6 has an interpreter (it runs) yet is a library: DF_1_PIE decides */
		ck_assert_str_eq(jstr_of(j, "type"), "shared object");
		ck_assert_str_eq(jstr_of(j, "linkage"), "dynamic");
		ck_assert_str_eq(jstr_of(j, "class"), "ELF64");
		json_decref(j);
		return;
	}
	printf("# SKIP no libc.so.6 / libm.so.6 found\n");
	fflush(stdout);
}
END_TEST

/* compiled here: unstripped, stripped, relocatable, static-pie */
START_TEST(elf_compiled)
{
	char dir[128];
	unit_tmpdir(dir, sizeof(dir), "test_filetype");
	char src[256], exe[256], obj[256], stripped[256], spie[256];
	snprintf(src, sizeof(src), "%s/a.c", dir);
	snprintf(exe, sizeof(exe), "%s/a.out", dir);
	snprintf(obj, sizeof(obj), "%s/a.o", dir);
	snprintf(stripped, sizeof(stripped), "%s/a.stripped", dir);
	snprintf(spie, sizeof(spie), "%s/a.spie", dir);
	static const char prog[] = "int main(void) { return 0; }\n";
	struct err e = {0};
	ck_assert_int_eq(write_file_atomic(src, prog, sizeof(prog) - 1, 0644, &e), 0);
	const char *cc_exe[] = {"gcc", "-O0", "-o", exe, src, NULL};
	if (run(cc_exe) != 0) {
		unit_tmpdir_remove(dir);
		printf("# SKIP gcc cannot build here\n");
		fflush(stdout);
		return;
	}
	const char *cc_obj[] = {"gcc", "-c", "-o", obj, src, NULL};
	ck_assert_int_eq(run(cc_obj), 0);
	const char *strip[] = {"strip", "-o", stripped, exe, NULL};
	ck_assert_int_eq(run(strip), 0);

	json_t *j = sniff_file(exe);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_is_false(json_object_get(j, "stripped")));
	ck_assert_str_eq(jstr_of(j, "linkage"), "dynamic");
	json_decref(j);

	j = sniff_file(stripped);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_is_true(json_object_get(j, "stripped")));
	json_decref(j);

	j = sniff_file(obj);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(jstr_of(j, "type"), "relocatable");
	ck_assert(json_is_false(json_object_get(j, "stripped")));
	ck_assert(json_is_null(json_object_get(j, "linkage")));
	json_decref(j);

	const char *cc_spie[] = {"gcc", "-static-pie", "-o", spie, src, NULL};
	if (run(cc_spie) == 0) {
		j = sniff_file(spie);
		ck_assert_ptr_nonnull(j);
		ck_assert_str_eq(jstr_of(j, "type"), "pie executable");
		ck_assert_str_eq(jstr_of(j, "linkage"), "static");
		json_decref(j);
	} else {
		printf("# SKIP static-pie: gcc -static-pie failed (no static libc)\n");
		fflush(stdout);
	}
	unit_tmpdir_remove(dir);
}
END_TEST

/* ---- synthetic headers ---- */

static void put16(unsigned char *p, uint16_t v, bool be)
{
	p[be ? 0 : 1] = (unsigned char)(v >> 8);
	p[be ? 1 : 0] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v, bool be)
{
	for (int i = 0; i < 4; i++)
		p[be ? 3 - i : i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v, bool be)
{
	for (int i = 0; i < 8; i++)
		p[be ? 7 - i : i] = (unsigned char)(v >> (8 * i));
}

/* an ELF64 LE header: type, phoff/phnum, shoff/shnum (entry sizes standard) */
static void hdr64(unsigned char *b, uint16_t type, uint64_t phoff, uint16_t phnum, uint64_t shoff,
		  uint16_t shnum)
{
	memset(b, 0, 64);
	memcpy(b, "\x7f" "ELF\x02\x01\x01", 7);
	put16(b + 16, type, false);
	put16(b + 18, 62, false);
	put32(b + 20, 1, false);
	put64(b + 32, phoff, false);
	put64(b + 40, shoff, false);
	put16(b + 52, 64, false);
	put16(b + 54, 56, false);
	put16(b + 56, phnum, false);
	put16(b + 58, 64, false);
	put16(b + 60, shnum, false);
}

/* ELF32 big-endian MIPS, one PT_INTERP whose string lies after the table */
START_TEST(elf32_big_endian)
{
	unsigned char b[200];
	memset(b, 0, sizeof(b));
	memcpy(b, "\x7f" "ELF\x01\x02\x01", 7);
	put16(b + 16, 2, true);	 /* ET_EXEC */
	put16(b + 18, 8, true);	 /* EM_MIPS */
	put32(b + 28, 52, true); /* phoff */
	put16(b + 42, 32, true); /* phentsize */
	put16(b + 44, 1, true);	 /* phnum */
	put32(b + 52, 3, true);	 /* PT_INTERP */
	put32(b + 56, 100, true); /* p_offset */
	put32(b + 68, 14, true);  /* p_filesz */
	memcpy(b + 100, "/lib/ld.so.1", 13);
	json_t *j = sniff_all_ways(b, sizeof(b));
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(jstr_of(j, "class"), "ELF32");
	ck_assert_str_eq(jstr_of(j, "machine"), "MIPS");
	ck_assert_str_eq(jstr_of(j, "type"), "exec");
	ck_assert_str_eq(jstr_of(j, "linkage"), "dynamic");
	ck_assert_str_eq(jstr_of(j, "interpreter"), "/lib/ld.so.1");
	ck_assert(json_is_null(json_object_get(j, "stripped"))); /* no section table */
	json_decref(j);
}
END_TEST

START_TEST(elf_hostile)
{
	unsigned char b[4096];
	json_t *j;

	/* not ELF, short, empty */
	ck_assert_ptr_null(sniff("\x7f" "ELG", 4, 0));
	ck_assert_ptr_null(sniff("", 0, 0));
	ck_assert_ptr_null(sniff("#!/bin/sh\n", 10, 0));
	hdr64(b, 2, 64, 1, 0, 0);
	ck_assert_ptr_null(sniff(b, 40, 0)); /* the header cut short */
	b[4] = 9;			     /* no such class */
	ck_assert_ptr_null(sniff(b, 64, 0));

	/* program headers beyond the end of the stream: type known, linkage not */
	hdr64(b, 3, 1u << 30, 4, 0, 0);
	j = sniff_all_ways(b, 64);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(jstr_of(j, "type"), "shared object");
	ck_assert(json_is_null(json_object_get(j, "linkage")));
	ck_assert(json_is_null(json_object_get(j, "interpreter")));
	json_decref(j);

	/* huge tables: refused, not allocated */
	hdr64(b, 2, 64, 0xfffe, 128, 0xffff);
	put16(b + 54, 0xffff, false); /* phentsize 64 KiB: 4 GiB of program headers */
	put16(b + 58, 0xffff, false);
	struct aelf_sniff s;
	aelf_init(&s);
	aelf_feed(&s, b, sizeof(b));
	ck_assert(s.is_elf && s.bad);
	ck_assert_ptr_null(s.ph);
	ck_assert_ptr_null(s.sh);
	j = aelf_json(&s);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_is_null(json_object_get(j, "stripped")));
	json_decref(j);
	aelf_free(&s);

	/* an offset whose end overflows 64 bits */
	hdr64(b, 2, UINT64_MAX - 10, 2, UINT64_MAX - 100, 4);
	aelf_init(&s);
	aelf_feed(&s, b, sizeof(b));
	ck_assert(s.bad);
	ck_assert_ptr_null(s.ph);
	ck_assert_ptr_null(s.sh);
	aelf_free(&s);

	/* entries smaller than the structure */
	hdr64(b, 2, 64, 2, 0, 0);
	put16(b + 54, 8, false);
	aelf_init(&s);
	aelf_feed(&s, b, sizeof(b));
	ck_assert(s.bad);
	aelf_free(&s);

	/* PT_INTERP pointing back into the header, with a huge p_filesz:
	 * bounded to 256 bytes, taken from what passed */
	memset(b, 0, sizeof(b));
	hdr64(b, 3, 64, 1, 0, 0);
	put32(b + 64, 3, false);	 /* PT_INTERP */
	put64(b + 64 + 8, 8, false);	 /* p_offset: inside the header */
	put64(b + 64 + 32, UINT64_MAX, false); /* p_filesz */
	j = sniff_all_ways(b, 64 + 56 + 300);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(jstr_of(j, "type"), "pie executable");
	json_decref(j);

	/* a PT_INTERP string the stream passed before the table: unknown */
	memset(b, 0, sizeof(b));
	hdr64(b, 3, 1024, 1, 0, 0);
	memcpy(b + 200, "/lib/ld.so", 11);
	put32(b + 1024, 3, false);
	put64(b + 1024 + 8, 200, false);
	put64(b + 1024 + 32, 11, false);
	j = sniff_all_ways(b, 1024 + 56);
	ck_assert(json_is_null(json_object_get(j, "interpreter")));
	ck_assert_str_eq(jstr_of(j, "linkage"), "dynamic");
	json_decref(j);

	/* section table cut short by EOF: stripped unknown */
	memset(b, 0, sizeof(b));
	hdr64(b, 2, 0, 0, 1000, 10);
	j = sniff_all_ways(b, 1200);
	ck_assert(json_is_null(json_object_get(j, "stripped")));
	json_decref(j);
	/* whole with a SHT_SYMTAB: not stripped; an unknown machine by number */
	put16(b + 18, 4242, false);
	put32(b + 1000 + 3 * 64 + 4, 2, false);
	j = sniff_all_ways(b, 1000 + 640);
	ck_assert(json_is_false(json_object_get(j, "stripped")));
	ck_assert_str_eq(jstr_of(j, "machine"), "machine 4242");
	json_decref(j);
}
END_TEST

/* ---- libmagic ---- */

START_TEST(magic_buffers)
{
	struct aftype *t = NULL;
	struct err e = {0};
	ck_assert_msg(aftype_open(&t, &e) == 0, "%s", e.msg);

	json_t *j = json_object();
	static const char sh[] = "#!/bin/sh\necho hello\nexit 0\n";
	aftype_buffer(t, sh, sizeof(sh) - 1, sizeof(sh) - 1, j);
	ck_assert_str_eq(jstr_of(j, "mime"), "text/x-shellscript");
	ck_assert_ptr_nonnull(strstr(jstr_of(j, "magic"), "shell script"));
	json_decref(j);

	static const unsigned char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06"
					   "\0\0\0\x1f\xf3\xff\x61";
	j = json_object();
	aftype_buffer(t, png, sizeof(png) - 1, 1000, j);
	ck_assert_str_eq(jstr_of(j, "mime"), "image/png");
	ck_assert_ptr_nonnull(strstr(jstr_of(j, "magic"), "PNG image data"));
	json_decref(j);

	j = json_object();
	aftype_buffer(t, NULL, 0, 0, j);
	ck_assert_str_eq(jstr_of(j, "mime"), "application/x-empty");
	ck_assert_ptr_null(json_object_get(j, "magic_error"));
	json_decref(j);

	/* a gzip stream is named, never inflated */
	static const unsigned char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00"
					  "\x00\x00\x00\x00\x00\x00";
	j = json_object();
	aftype_buffer(t, gz, sizeof(gz) - 1, sizeof(gz) - 1, j);
	ck_assert_str_eq(jstr_of(j, "mime"), "application/gzip");
	json_decref(j);

	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (slurp("/bin/true", &buf, &len)) {
		j = json_object();
		aftype_buffer(t, buf, len, len, j);
		ck_assert(str_has_prefix(jstr_of(j, "mime"), "application/x-"));
		ck_assert(str_has_prefix(jstr_of(j, "magic"), "ELF 64-bit"));
		json_decref(j);
	}

	/* no handle: an error, not a crash */
	j = json_object();
	aftype_buffer(NULL, sh, 4, 4, j);
	ck_assert_ptr_nonnull(jstr_of(j, "magic_error"));
	ck_assert_ptr_null(json_object_get(j, "mime"));
	json_decref(j);
	aftype_close(t);
}
END_TEST

/* ---- shebang ---- */

START_TEST(shebang_lines)
{
	char *s;
	s = an_shebang("#!/bin/sh -e\necho\n", 18);
	ck_assert_str_eq(s, "/bin/sh -e");
	free(s);
	s = an_shebang("#! \t/usr/bin/env python3 \r\nprint()", 34);
	ck_assert_str_eq(s, "/usr/bin/env python3");
	free(s);
	s = an_shebang("#!/bin/bash", 11); /* no newline: the whole buffer */
	ck_assert_str_eq(s, "/bin/bash");
	free(s);
	ck_assert_ptr_null(an_shebang("#!", 2));
	ck_assert_ptr_null(an_shebang("#!   \n/bin/sh", 13));
	ck_assert_ptr_null(an_shebang("# !/bin/sh", 10));
	ck_assert_ptr_null(an_shebang("\x7f" "ELF", 4));
	ck_assert_ptr_null(an_shebang("", 0));
	ck_assert_ptr_null(an_shebang(NULL, 0));
	/* attacker bytes: JSON-safe (invalid UTF-8 and '%' percent-encoded) */
	s = an_shebang("#!/tmp/\xff%x\n", 11);
	ck_assert_str_eq(s, "/tmp/%FF%25x");
	free(s);
	/* bounded */
	char long_line[1000];
	memset(long_line, 'a', sizeof(long_line));
	long_line[0] = '#';
	long_line[1] = '!';
	s = an_shebang(long_line, sizeof(long_line));
	ck_assert_uint_eq(strlen(s), 256);
	free(s);
	/* stops at a NUL */
	s = an_shebang("#!/bin/sh\0evil\n", 15);
	ck_assert_str_eq(s, "/bin/sh");
	free(s);
}
END_TEST

START_TEST(types_of_modes)
{
	ck_assert_int_eq(aent_type_from_mode(S_IFREG | 0644), AENT_FILE);
	ck_assert_int_eq(aent_type_from_mode(S_IFDIR), AENT_DIR);
	ck_assert_int_eq(aent_type_from_mode(S_IFLNK), AENT_SYMLINK);
	ck_assert_int_eq(aent_type_from_mode(S_IFCHR), AENT_CHAR);
	ck_assert_int_eq(aent_type_from_mode(S_IFBLK), AENT_BLOCK);
	ck_assert_int_eq(aent_type_from_mode(S_IFIFO), AENT_FIFO);
	ck_assert_int_eq(aent_type_from_mode(S_IFSOCK), AENT_SOCKET);
	ck_assert_int_eq(aent_type_from_mode(0), AENT_NONE);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("filetype");
	TCase *tc = tcase_create("filetype");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, elf_pie_dynamic);
	tcase_add_test(tc, elf_static);
	tcase_add_test(tc, elf_shared_object);
	tcase_add_test(tc, elf_compiled);
	tcase_add_test(tc, elf32_big_endian);
	tcase_add_test(tc, elf_hostile);
	tcase_add_test(tc, magic_buffers);
	tcase_add_test(tc, shebang_lines);
	tcase_add_test(tc, types_of_modes);
	suite_add_tcase(s, tc);
	return s;
}
