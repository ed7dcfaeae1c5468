#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "contain/bag.h"
#include "contain/hashio.h"
#include "contain/sha256x.h"
#include "contain/util.h"
#include "unit.h"

static char dir[64];

static void setup(void)
{
	unit_tmpdir(dir, sizeof(dir), "test_bag");
}

static void teardown(void)
{
	unit_tmpdir_remove(dir);
}

START_TEST(path_encodings)
{
	char *m = bag_path_manifest_encode("data/a%b\nc\rd e\xff");
	ck_assert_str_eq(m, "data/a%25b%0Ac%0Dd e\xff");
	char *d = bag_path_decode(m);
	ck_assert_str_eq(d, "data/a%b\nc\rd e\xff");
	free(m);
	free(d);
	char *j = bag_path_json_encode("data/caf\xc3\xa9 %\xff\xc3");
	ck_assert_str_eq(j, "data/caf\xc3\xa9 %25%FF%C3");
	d = bag_path_decode(j);
	ck_assert_str_eq(d, "data/caf\xc3\xa9 %\xff\xc3");
	free(j);
	free(d);
	ck_assert_ptr_null(bag_path_decode("bad%zz"));
	ck_assert_ptr_null(bag_path_decode("nul%00"));
	ck_assert_ptr_null(bag_path_decode("short%4"));
	ck_assert(bag_path_ok("data/x"));
	ck_assert(bag_path_ok("data/a b/\n/c"));
	ck_assert(!bag_path_ok("data/"));
	ck_assert(!bag_path_ok("data/../x"));
	ck_assert(!bag_path_ok("data/./x"));
	ck_assert(!bag_path_ok("data//x"));
	ck_assert(!bag_path_ok("data/x/"));
	ck_assert(!bag_path_ok("/data/x"));
	ck_assert(!bag_path_ok("bag-info.txt"));
}
END_TEST

START_TEST(info_parse)
{
	struct bag_info bi;
	char prob[256];
	const char *t = "A: one\nLong-Label: two\n  continued\n\tand more\nC:x\n";
	ck_assert_int_eq(bag_info_parse(t, strlen(t), &bi, prob, sizeof(prob)), 0);
	ck_assert_uint_eq(bi.n, 3);
	ck_assert_str_eq(bag_info_get(&bi, "long-label"), "two continued and more");
	ck_assert_str_eq(bag_info_get(&bi, "C"), "x");
	bag_info_free(&bi);
	t = "A: one\nno colon here\n";
	ck_assert_int_eq(bag_info_parse(t, strlen(t), &bi, prob, sizeof(prob)), 1);
	ck_assert_ptr_nonnull(strstr(prob, "line 2"));
	bag_info_free(&bi);
	t = " starts with a continuation\n";
	ck_assert_int_eq(bag_info_parse(t, strlen(t), &bi, prob, sizeof(prob)), 1);
	bag_info_free(&bi);
}
END_TEST

/* the parsers' bounds: a long line, too many fields, a value grown by
 * continuation lines past BAG_VALUE_MAX (and linear, not quadratic) */
START_TEST(info_parse_bounds)
{
	struct bag_info bi;
	char prob[256];
	struct sbuf b = SBUF_INIT;
	sbuf_adds(&b, "A: ");
	for (unsigned i = 0; i < BAG_LINE_MAX; i++)
		sbuf_addc(&b, 'x');
	sbuf_adds(&b, "\nB: two\n");
	ck_assert_int_eq(bag_info_parse(b.buf, b.len, &bi, prob, sizeof(prob)), 1);
	ck_assert_ptr_nonnull(strstr(prob, "line 1 is longer than"));
	ck_assert_uint_eq(bi.n, 1); /* the long line skipped, the next read */
	ck_assert_str_eq(bag_info_get(&bi, "B"), "two");
	bag_info_free(&bi);
	sbuf_reset(&b);
	for (unsigned i = 0; i <= BAG_INFO_FIELDS_MAX; i++)
		sbuf_printf(&b, "F%u: v\n", i);
	ck_assert_int_eq(bag_info_parse(b.buf, b.len, &bi, prob, sizeof(prob)), 1);
	ck_assert_ptr_nonnull(strstr(prob, "fields: the rest not read"));
	ck_assert_uint_eq(bi.n, BAG_INFO_FIELDS_MAX);
	bag_info_free(&bi);
	/* 4 million continuation lines: quadratic would take hours */
	sbuf_reset(&b);
	sbuf_adds(&b, "C: c\n");
	for (unsigned i = 0; i < 4000000; i++)
		sbuf_adds(&b, " y\n");
	ck_assert_int_eq(bag_info_parse(b.buf, b.len, &bi, prob, sizeof(prob)), 1);
	ck_assert_ptr_nonnull(strstr(prob, "the value is longer than"));
	ck_assert_uint_le(strlen(bag_info_get(&bi, "C")), BAG_VALUE_MAX);
	ck_assert_uint_ge(strlen(bag_info_get(&bi, "C")), BAG_VALUE_MAX - 2);
	bag_info_free(&bi);
	sbuf_free(&b);
}
END_TEST

START_TEST(manifest_parse_bounds)
{
	struct bag_manifest m;
	char prob[256];
	struct sbuf b = SBUF_INIT;
	char h[65];
	memset(h, 'a', 64);
	h[64] = 0;
	sbuf_printf(&b, "%s  data/", h);
	for (unsigned i = 0; i < BAG_LINE_MAX; i++)
		sbuf_addc(&b, 'x');
	sbuf_printf(&b, "\n%s  data/y\n", h);
	ck_assert_int_eq(bag_manifest_parse(b.buf, b.len, &m, prob, sizeof(prob)), 1);
	ck_assert_ptr_nonnull(strstr(prob, "line 1 is longer than"));
	ck_assert_uint_eq(m.n, 1);
	ck_assert_str_eq(m.e[0].path, "data/y");
	bag_manifest_free(&m);
	/* past BAG_MANIFEST_LINES_MAX lines the rest is not read (empty lines
	 * are the cheapest way there) */
	sbuf_reset(&b);
	for (unsigned i = 0; i < BAG_MANIFEST_LINES_MAX; i++)
		sbuf_addc(&b, '\n');
	sbuf_printf(&b, "%s  data/z\n", h);
	ck_assert_int_eq(bag_manifest_parse(b.buf, b.len, &m, prob, sizeof(prob)), 1);
	ck_assert_uint_eq(m.n, 0);
	sbuf_free(&b);
}
END_TEST

START_TEST(manifest_parse)
{
	struct bag_manifest m;
	char prob[256];
	char h[65];
	memset(h, 'A', 64);
	h[64] = 0;
	char *t = xasprintf("%s  data/a%%0Ab\n%s\tdata/sp ace\n", h, h);
	ck_assert_int_eq(bag_manifest_parse(t, strlen(t), &m, prob, sizeof(prob)), 0);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_str_eq(m.e[0].path, "data/a\nb");
	ck_assert_str_eq(m.e[1].path, "data/sp ace");
	ck_assert_int_eq(m.e[0].hash[0], 'a'); /* lowered */
	bag_manifest_free(&m);
	free(t);
	t = xasprintf("abc  data/x\n");
	ck_assert_int_eq(bag_manifest_parse(t, strlen(t), &m, prob, sizeof(prob)), 1);
	bag_manifest_free(&m);
	free(t);
	/* a damaged hash: reported, and its line kept (it matches no file) */
	h[3] = 'g';
	t = xasprintf("%s  data/x\n", h);
	ck_assert_int_eq(bag_manifest_parse(t, strlen(t), &m, prob, sizeof(prob)), 1);
	ck_assert_uint_eq(m.n, 1);
	ck_assert_str_eq(m.e[0].path, "data/x");
	ck_assert_ptr_nonnull(strstr(prob, "not hexadecimal"));
	bag_manifest_free(&m);
	free(t);
}
END_TEST

START_TEST(hasher_matches_one_shot)
{
	size_t n = (5u << 20) + 123;
	unsigned char *buf = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 7 + (i >> 9));
	memset(buf + 1000, 0, 3u << 20); /* a run of zeros, given as zeros below */
	unsigned char a[HASH_LEN], b[HASH_LEN];
	sha256_buf(buf, n, a);
	struct hasher *h = hasher_new();
	hasher_update(h, buf, 1000);
	hasher_zeros(h, 3u << 20);
	size_t off = 1000 + (3u << 20);
	while (off < n) {
		size_t k = n - off > 77777 ? 77777 : n - off;
		hasher_update(h, buf + off, k);
		off += k;
	}
	ck_assert_uint_eq(hasher_bytes(h), n);
	hasher_final(h, b);
	hasher_free(h);
	ck_assert_int_eq(memcmp(a, b, HASH_LEN), 0);
	/* in place (no copy) between copies and zeros: the same digest; small
	 * ones before the thread starts, large ones on it */
	h = hasher_new();
	hasher_update_ref(h, buf, 10);
	hasher_update(h, buf + 10, 990);
	hasher_zeros(h, 3u << 20);
	off = 1000 + (3u << 20);
	for (size_t i = 0; off < n; i++) {
		size_t k = n - off > 333333 ? 333333 : n - off;
		if (i % 3 == 2) {
			hasher_update(h, buf + off, k);
		} else {
			hasher_update_ref(h, buf + off, k);
			if (i % 2)
				hasher_wait(h);
		}
		off += k;
	}
	hasher_wait(h);
	ck_assert_uint_eq(hasher_bytes(h), n);
	hasher_final(h, b);
	hasher_free(h);
	ck_assert_int_eq(memcmp(a, b, HASH_LEN), 0);
	free(buf);
}
END_TEST

static struct bag *open_bag(const char *name, struct err *e)
{
	struct bag *b;
	char out[128];
	snprintf(out, sizeof(out), "%s/%s", dir, name);
	struct bag_opts o = {.out = out, .case_id = "CASE-1", .examiner = "unit"};
	ck_assert_msg(bag_open(&o, &b, e) == 0, "%s", e->msg);
	return b;
}

static void verify_ok(const char *name, int want)
{
	char p[128];
	struct err e = {0};
	json_t *r;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int rc = bag_verify(p, NULL, &r, &e);
	char *s = r ? json_dumps(r, 0) : NULL;
	ck_assert_msg(rc == want, "verify %s: %d: %s %s", name, rc, e.msg, s ? s : "");
	free(s);
	json_decref(r);
}

static void write_several(struct bag *b, struct err *e)
{
	/* a spooled artifact stays open while others are added and closed */
	struct bag_file *pcap, *core;
	ck_assert_int_eq(bag_file_open(b, "data/network/capture.pcap", "pcap", "pcap", &pcap, e), 0);
	ck_assert_int_eq(bag_file_write(pcap, "PCAP", 4, e), 0);
	json_t *j = json_pack("{s:i}", "pid", 1);
	ck_assert_int_eq(bag_add_json(b, "data/processes/tree.json", j, "processes", "procs", e), 0);
	json_decref(j);
	ck_assert_int_eq(bag_file_open(b, "data/memory/1.core", "core", "memory", &core, e), 0);
	struct sink s = bag_file_sink(core);
	ck_assert_int_eq(sink_write(&s, "\177ELF", 4, e), 0);
	ck_assert_int_eq(sink_hole(&s, 1 << 20, e), 0);
	ck_assert_int_eq(sink_write(&s, "end", 3, e), 0);
	json_t *note = json_pack("{s:s,s:i}", "skipped", "[vvar]", "bytes", 4096);
	ck_assert_int_eq(bag_file_note(core, note, e), 0);
	json_decref(note);
	char sha[HASH_HEX];
	ck_assert_int_eq(bag_file_close(core, sha, e), 0);
	ck_assert_uint_eq(strlen(sha), 64);
	/* seal refuses while the pcap is open */
	ck_assert_int_eq(bag_seal(b, e), -1);
	ck_assert_int_eq(e->kind, ERR_WRONGSTATE);
	ck_assert_int_eq(bag_file_write(pcap, "MORE", 4, e), 0);
	ck_assert_int_eq(bag_file_close(pcap, NULL, e), 0);
}

START_TEST(dir_round_trip)
{
	struct err e = {0};
	struct bag *b = open_bag("b", &e);
	write_several(b, &e);
	ck_assert_int_eq(bag_add_buf(b, "data/x", "1", 1, "f", "t", &e), 0);
	ck_assert_int_eq(bag_add_buf(b, "data/x", "1", 1, "f", "t", &e), -1); /* twice */
	ck_assert_int_eq(bag_add_buf(b, "data/../x", "1", 1, "f", "t", &e), -1);
	ck_assert_int_eq(bag_add_buf(b, "manifest-sha256.txt", "1", 1, "f", "t", &e), -1);
	ck_assert_int_eq(bag_set_info(b, "Contain-Status", "complete", &e), -1);
	ck_assert_int_eq(bag_set_info(b, "X-Note", "a\nb", &e), -1);
	ck_assert_int_eq(bag_set_info(b, "Contain-Image-Digest", "sha256:abc", &e), 0);
	struct bag_file *f;
	ck_assert_int_eq(bag_file_open_sized(b, "data/short", "f", "t", 10, &f, &e), 0);
	ck_assert_int_eq(bag_file_write(f, "0123456789X", 11, &e), -1); /* over the size */
	ck_assert_int_eq(bag_file_write(f, "01234", 5, &e), 0);
	ck_assert_int_eq(bag_file_close(f, NULL, &e), 0); /* zero-filled, noted */
	ck_assert_int_eq(bag_file_open(b, "data/failed", "f", "t", &f, &e), 0);
	ck_assert_int_eq(bag_file_write(f, "part", 4, &e), 0);
	ck_assert_int_eq(bag_file_fail(f, "collector gave up", &e), 0);
	ck_assert_int_eq(bag_event(b, "freeze", "abc", "ok", NULL, &e), 0);
	ck_assert_msg(bag_seal(b, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(bag_seal(b, &e), -1);
	bag_free(b);
	verify_ok("b", 0);
	char p[128];
	struct stat st;
	snprintf(p, sizeof(p), "%s/b/data/memory/1.core", dir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, 4 + (1 << 20) + 3);
	ck_assert_int_lt(st.st_blocks, 256); /* the hole stayed a hole */
	snprintf(p, sizeof(p), "%s/b/data/failed", dir);
	ck_assert_int_eq(stat(p, &st), -1); /* a failed artifact is dropped */
}
END_TEST

/* index.json takes top-level fields beside bag and artifacts (capture's
 * windows); the two of its own are refused; the bag still verifies */
START_TEST(index_extra_fields)
{
	struct err e = {0};
	struct bag *b = open_bag("ix", &e);
	json_t *w = json_pack("{s:{s:s}}", "observed", "from", "2026-12-06T00:00:00Z");
	ck_assert_int_eq(bag_set_index(b, "windows", w, &e), 0);
	ck_assert_int_eq(bag_set_index(b, "artifacts", w, &e), -1);
	ck_assert_int_eq(bag_set_index(b, "bag", w, &e), -1);
	json_decref(w);
	ck_assert_int_eq(bag_add_buf(b, "data/x", "1", 1, "f", "t", &e), 0);
	ck_assert_msg(bag_seal(b, &e) == 0, "%s", e.msg);
	w = json_object();
	ck_assert_int_eq(bag_set_index(b, "late", w, &e), -1); /* sealed */
	json_decref(w);
	bag_free(b);
	verify_ok("ix", 0);
	char p[128];
	snprintf(p, sizeof(p), "%s/ix/index.json", dir);
	json_error_t je;
	json_t *idx = json_load_file(p, 0, &je);
	ck_assert_ptr_nonnull(idx);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_object_get(idx, "windows"), "observed"), "from")),
			 "2026-12-06T00:00:00Z");
	ck_assert_uint_eq(json_array_size(json_object_get(idx, "artifacts")), 1);
	json_decref(idx);
}
END_TEST

START_TEST(tar_round_trip)
{
	static const char *const names[] = {"b.tar", "b.tar.gz", "b.tar.zst"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct err e = {0};
		struct bag *b = open_bag(names[i], &e);
		write_several(b, &e);
		ck_assert_msg(bag_seal(b, &e) == 0, "%s", e.msg);
		bag_free(b);
		verify_ok(names[i], 0);
	}
}
END_TEST

/* bag_file_buf + bag_file_commit (read straight into the hashing buffer):
 * the same digest and bytes as bag_file_write, mixed with it; a buffer lent
 * and not committed refuses other writes; a commit past the buffer or with
 * none lent is refused; both forms verify */
/* f holds total bytes whose digest is hex: it closes with it, the bag seals and verifies */
static void close_seal_verify(struct bag *b, struct bag_file *f, const char *name, size_t total,
			      const char *hex)
{
	struct err e = {0};
	char got[HASH_HEX];
	ck_assert_uint_eq(bag_file_size(f), total);
	ck_assert_int_eq(bag_file_close(f, got, &e), 0);
	ck_assert_str_eq(got, hex);
	ck_assert_msg(bag_seal(b, &e) == 0, "%s", e.msg);
	bag_free(b);
	verify_ok(name, 0);
}

/* bag_file_hash_given: the caller hashes what it writes; the bag adds its
 * holes and a sized artifact's zero fill to the caller's context and takes
 * the digest from it: the digest of the artifact's bytes, both forms; a
 * failed artifact's context is discarded (ASan: nothing leaks, with the
 * fallback forced too) */
START_TEST(given_digest)
{
	static const char *const names[] = {"g0", "g0.tar", "g1", "g1.tar"};
	const size_t total = (1u << 20) + 4096 + 700 + 5000;
	unsigned char *want = xcalloc(1, total);
	for (size_t i = 0; i < (1u << 20); i++)
		want[i] = (unsigned char)(i * 7 + (i >> 9));
	memcpy(want + (1u << 20) + 4096, "tail", 4); /* after a 4096-byte hole */
	char hex[HASH_HEX], got[HASH_HEX];
	sha256_hex(want, total, hex);
	for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
		bool old = sha256x_force_fallback(k >= 2);
		struct err e = {0};
		struct bag *b = open_bag(names[k], &e);
		struct bag_file *f;
		struct sha256x c, c2;
		ck_assert_int_eq(bag_file_open(b, "data/failed", "f", "t", &f, &e), 0);
		sha256x_init(&c2);
		bag_file_hash_given(f, &c2);
		sha256x_update(&c2, "part", 4);
		ck_assert_int_eq(bag_file_write(f, "part", 4, &e), 0);
		ck_assert_int_eq(bag_file_fail(f, "collector gave up", &e), 0);
		ck_assert_int_eq(bag_file_open_sized(b, "data/given", "f", "t", total, &f, &e), 0);
		sha256x_init(&c);
		bag_file_hash_given(f, &c);
		/* the bag takes the caller's context: a digest of its own would not show it */
		sha256x_update(&c, want, 1u << 20);
		ck_assert_int_eq(bag_file_write(f, want, 1u << 20, &e), 0);
		ck_assert_int_eq(bag_file_hole(f, 4096, &e), 0);
		sha256x_update(&c, want + (1u << 20) + 4096, 700);
		ck_assert_int_eq(bag_file_write(f, want + (1u << 20) + 4096, 700, &e), 0);
		ck_assert_uint_eq(bag_file_size(f), total - 5000);
		ck_assert_int_eq(bag_file_close(f, got, &e), 0); /* zero-filled */
		ck_assert_str_eq(got, hex);
		ck_assert_msg(bag_seal(b, &e) == 0, "%s", e.msg);
		bag_free(b);
		verify_ok(names[k], 0); /* the bytes are the manifest's */
		sha256x_force_fallback(old);
	}
	free(want);
}
END_TEST

START_TEST(zero_copy_commit)
{
	static const char *const names[] = {"z", "z.tar"};
	const size_t total = (3u << 20) + 5;
	unsigned char *want = xmalloc(total);
	for (size_t i = 0; i < total; i++)
		want[i] = (unsigned char)(i * 131 + (i >> 12));
	char hex[HASH_HEX], got[HASH_HEX];
	sha256_hex(want, total, hex);
	for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
		struct err e = {0};
		struct bag *b = open_bag(names[k], &e);
		struct bag_file *f;
		ck_assert_int_eq(bag_file_open_sized(b, "data/big", "f", "t", total, &f, &e), 0);
		ck_assert_int_eq(bag_file_commit(f, 1, &e), -1); /* nothing lent */
		ck_assert_int_eq(e.kind, ERR_WRONGSTATE);
		size_t off = 0, cap, cap2;
		ck_assert_int_eq(bag_file_write(f, want, 7, &e), 0); /* a copied start */
		off = 7;
		unsigned char *zb = bag_file_buf(f, &cap);
		ck_assert_uint_ge(cap, 4096);
		ck_assert_ptr_eq(bag_file_buf(f, &cap2), zb); /* asked again: the same */
		ck_assert_int_eq(bag_file_write(f, want, 1, &e), -1); /* lent: refused */
		ck_assert_int_eq(e.kind, ERR_WRONGSTATE);
		ck_assert_int_eq(bag_file_hole(f, 1, &e), -1);
		ck_assert_int_eq(bag_file_commit(f, cap + 1, &e), -1); /* past the buffer */
		ck_assert_int_eq(e.kind, ERR_INVALID);
		ck_assert_int_eq(bag_file_commit(f, 0, &e), 0); /* given back, nothing written */
		while (off < total) {
			zb = bag_file_buf(f, &cap);
			size_t n = total - off < cap ? total - off : cap;
			if (n > 1000 && (off & 1))
				n -= 1000; /* commits of any length */
			memcpy(zb, want + off, n);
			ck_assert_msg(bag_file_commit(f, n, &e) == 0, "%s", e.msg);
			off += n;
			if (off + 3 <= total && off % 3 == 0) { /* copied writes between */
				ck_assert_int_eq(bag_file_write(f, want + off, 3, &e), 0);
				off += 3;
			}
		}
		close_seal_verify(b, f, names[k], total, hex);
	}
	char p[128];
	snprintf(p, sizeof(p), "%s/z/data/big", dir);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	unsigned char md[HASH_LEN];
	uint64_t size;
	struct err e = {0};
	ck_assert_int_eq(sha256_fd(fd, md, &size, &e), 0);
	close(fd);
	hex_encode(md, HASH_LEN, got);
	ck_assert_uint_eq(size, total);
	ck_assert_str_eq(got, hex);
	free(want);
}
END_TEST

/* bag_file_direct_io: aligned writes (O_DIRECT in a directory) and others
 * (buffered), holes, in-place hashing of large writes: the bytes and the
 * digest are those written, in both forms */
START_TEST(direct_io_writes)
{
	static const char *const names[] = {"dio", "dio.tar"};
	const size_t page = 4096, big = 1u << 20;
	unsigned char *src = aligned_alloc(page, 4 * big);
	ck_assert_ptr_nonnull(src);
	for (size_t i = 0; i < 4 * big; i++)
		src[i] = (unsigned char)(i * 13 + (i >> 11) + 1);
	/* the plan: {offset into src (page aligned: an aligned buffer), bytes}
	 * or a hole (src == -1) */
	static const struct {
		long src;
		size_t n;
	} plan[] = {
		{0, 1000},		   /* unaligned head: buffered */
		{-1, 8192 - 1000},	   /* hole to a page boundary */
		{4096, 1u << 20},	   /* aligned: O_DIRECT, hashed in place */
		{-1, 4096},		   /* a hole between */
		{2u << 20, 2u << 20},	   /* aligned again */
		{16, 300u << 10},	   /* misaligned buffer: buffered, hashed in place */
		{4096, 4096},		   /* aligned buffer, unaligned offset: buffered */
		{-1, 4096 - 16},	   /* back to a page boundary */
		{8192, 512u << 10},	   /* aligned: O_DIRECT again */
		{5, 77},		   /* an unaligned tail */
	};
	size_t total = 0;
	for (size_t i = 0; i < ARRAY_SIZE(plan); i++)
		total += plan[i].n;
	unsigned char *want = xcalloc(1, total);
	size_t at = 0;
	for (size_t i = 0; i < ARRAY_SIZE(plan); i++) {
		if (plan[i].src >= 0)
			memcpy(want + at, src + plan[i].src, plan[i].n);
		at += plan[i].n;
	}
	char hex[HASH_HEX];
	sha256_hex(want, total, hex);
	for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
		struct err e = {0};
		struct bag *b = open_bag(names[k], &e);
		struct bag_file *f;
		ck_assert_int_eq(bag_file_open_sized(b, "data/memory/1.core", "core", "memory", total,
						     &f, &e),
				 0);
		bag_file_direct_io(f);
		struct sink s = bag_file_sink(f);
		for (size_t i = 0; i < ARRAY_SIZE(plan); i++) {
			int r = plan[i].src >= 0 ? sink_write(&s, src + plan[i].src, plan[i].n, &e)
						 : sink_hole(&s, plan[i].n, &e);
			ck_assert_msg(r == 0, "step %zu: %s", i, e.msg);
		}
		close_seal_verify(b, f, names[k], total, hex);
	}
	char p[128];
	snprintf(p, sizeof(p), "%s/dio/data/memory/1.core", dir);
	size_t len;
	char *disk = NULL;
	struct err e = {0};
	ck_assert_int_eq(read_file_at(AT_FDCWD, p, 64u << 20, &disk, &len, NULL, &e), 0);
	ck_assert_uint_eq(len, total);
	ck_assert_int_eq(memcmp(disk, want, total), 0);
	free(disk);
	free(want);
	free(src);
}
END_TEST

START_TEST(unsealed_is_incomplete)
{
	struct err e = {0};
	struct bag *b = open_bag("u", &e);
	ck_assert_int_eq(bag_add_buf(b, "data/x", "1", 1, "f", "t", &e), 0);
	bag_free(b); /* as a crash would leave it */
	verify_ok("u", 1);
	b = open_bag("u.tar", &e);
	ck_assert_int_eq(bag_add_buf(b, "data/x", "1", 1, "f", "t", &e), 0);
	ck_assert_int_eq(bag_abort(b, "test", &e), 0);
	bag_free(b);
	verify_ok("u.tar", 1);
}
END_TEST

struct tw {
	struct bag *b;
	int n;
};

static void *thread_writer(void *arg)
{
	struct tw *t = arg;
	struct err e = {0};
	char path[64], buf[4096];
	memset(buf, 'a' + t->n, sizeof(buf));
	for (int i = 0; i < 20; i++) {
		struct bag_file *f;
		snprintf(path, sizeof(path), "data/t%d/f%d", t->n, i);
		if (bag_file_open(t->b, path, "f", "thread", &f, &e) < 0)
			return (void *)1;
		for (int k = 0; k < 50; k++)
			if (bag_file_write(f, buf, sizeof(buf), &e) < 0)
				return (void *)2;
		if (bag_file_close(f, NULL, &e) < 0)
			return (void *)3;
	}
	return NULL;
}

START_TEST(threads_write_at_once)
{
	static const char *const names[] = {"th", "th.tar"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct err e = {0};
		struct bag *b = open_bag(names[i], &e);
		pthread_t th[3];
		struct tw tw[3];
		for (int k = 0; k < 3; k++) {
			tw[k] = (struct tw){b, k};
			ck_assert_int_eq(pthread_create(&th[k], NULL, thread_writer, &tw[k]), 0);
		}
		for (int k = 0; k < 3; k++) {
			void *rv;
			pthread_join(th[k], &rv);
			ck_assert_ptr_null(rv);
		}
		ck_assert_msg(bag_seal(b, &e) == 0, "%s", e.msg);
		bag_free(b);
		verify_ok(names[i], 0);
	}
}
END_TEST

/* many small artifacts: more than one group commit (directory form) and a
 * queue of mime types worked out on the side; each index entry gets its own */
static void write_many(struct bag *b, struct err *e)
{
	unsigned char core[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
	unsigned char pcap[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0};
	core[16] = 4; /* ET_CORE */
	core[18] = 62;
	pcap[16] = 0xff;
	pcap[17] = 0xff;
	pcap[20] = 1;
	for (int i = 0; i < 600; i++) {
		char p[64], txt[64];
		snprintf(p, sizeof(p), "data/many/%03d", i);
		switch (i % 5) {
		case 0:
			snprintf(txt, sizeof(txt), "line %d of some plain text\n", i);
			ck_assert_int_eq(bag_add_buf(b, p, txt, strlen(txt), "f", "t", e), 0);
			break;
		case 1: {
			json_t *j = json_pack("{s:i}", "n", i);
			ck_assert_int_eq(bag_add_json(b, p, j, "f", "t", e), 0);
			json_decref(j);
			break;
		}
		case 2:
			ck_assert_int_eq(bag_add_buf(b, p, core, sizeof(core), "core", "t", e), 0);
			break;
		case 3:
			ck_assert_int_eq(bag_add_buf(b, p, pcap, sizeof(pcap), "pcap", "t", e), 0);
			break;
		default:
			ck_assert_int_eq(bag_add_buf(b, p, "", 0, "f", "t", e), 0);
		}
	}
}

static void check_many(const char *index_json)
{
	static const char *const want[] = {"text/plain", "application/json",
					   "application/x-coredump", "application/vnd.tcpdump.pcap",
					   "application/x-empty"};
	json_error_t je;
	json_t *idx = json_loads(index_json, 0, &je);
	ck_assert_ptr_nonnull(idx);
	json_t *arts = json_object_get(idx, "artifacts"), *a;
	size_t i, seen = 0;
	json_array_foreach(arts, i, a) {
		const char *p = json_string_value(json_object_get(a, "path"));
		int n;
		if (!p || sscanf(p, "data/many/%d", &n) != 1)
			continue;
		ck_assert_str_eq(json_string_value(json_object_get(a, "mime")), want[n % 5]);
		seen++;
	}
	ck_assert_uint_eq(seen, 600);
	json_decref(idx);
}

START_TEST(many_small_artifacts)
{
	struct err e = {0};
	struct bag *b = open_bag("m", &e);
	write_many(b, &e);
	ck_assert_msg(bag_seal(b, &e) == 0, "%s", e.msg);
	bag_free(b);
	verify_ok("m", 0);
	char p[128], *buf;
	size_t len;
	bool trunc;
	snprintf(p, sizeof(p), "%s/m/index.json", dir);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read_fd_bounded(fd, 1 << 24, &buf, &len, &trunc, &e), 0);
	close(fd);
	check_many(buf);
	free(buf);

	/* the tar form, and a bag freed unsealed with mime types still queued */
	b = open_bag("m.tar", &e);
	write_many(b, &e);
	ck_assert_msg(bag_seal(b, &e) == 0, "%s", e.msg);
	bag_free(b);
	verify_ok("m.tar", 0);
	b = open_bag("u", &e);
	write_many(b, &e);
	bag_free(b);
	verify_ok("u", 1);

	/* libmagic off: the same answers for these, without it */
	b = open_bag("n", &e);
	ck_assert_int_eq(bag_set_libmagic(b, false, &e), 0);
	write_many(b, &e);
	ck_assert_int_eq(bag_add_buf(b, "data/bin", "\x01\x02\x03\x04", 4, "f", "t", &e), 0);
	ck_assert_msg(bag_seal(b, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(bag_set_libmagic(b, true, &e), -1); /* sealed */
	bag_free(b);
	verify_ok("n", 0);
	snprintf(p, sizeof(p), "%s/n/index.json", dir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read_fd_bounded(fd, 1 << 24, &buf, &len, &trunc, &e), 0);
	close(fd);
	check_many(buf);
	ck_assert_ptr_nonnull(strstr(buf, "\"application/octet-stream\""));
	free(buf);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("bag");
	TCase *tc = tcase_create("bag");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, path_encodings);
	tcase_add_test(tc, info_parse);
	tcase_add_test(tc, manifest_parse);
	tcase_add_test(tc, info_parse_bounds);
	tcase_add_test(tc, manifest_parse_bounds);
	tcase_add_test(tc, hasher_matches_one_shot);
	tcase_add_test(tc, dir_round_trip);
	tcase_add_test(tc, tar_round_trip);
	tcase_add_test(tc, zero_copy_commit);
	tcase_add_test(tc, given_digest);
	tcase_add_test(tc, direct_io_writes);
	tcase_add_test(tc, index_extra_fields);
	tcase_add_test(tc, unsealed_is_incomplete);
	tcase_add_test(tc, threads_write_at_once);
	tcase_add_test(tc, many_small_artifacts);
	suite_add_tcase(s, tc);
	return s;
}
