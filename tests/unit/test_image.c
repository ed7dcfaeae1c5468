/* test_image: images built here with libarchive (OCI layout, oci-archive,
 * docker-archive; gzip, zstd and plain layers; whiteouts, an opaque dir, hard
 * and symbolic links, setuid, a capability), the fixture image in its three
 * forms, and hostile images. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "contain/analyze.h"
#include "contain/hashio.h"
#include "unit.h"

/* ---- writing tars into memory ---- */

static la_ssize_t sb_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
	(void)a;
	sbuf_add(ctx, buf, n);
	return (la_ssize_t)n;
}

struct tb {
	struct archive *a;
	struct sbuf out;
};

static void tb_open(struct tb *t)
{
	memset(t, 0, sizeof(*t));
	t->a = archive_write_new();
	ck_assert_int_eq(archive_write_set_format_pax_restricted(t->a), ARCHIVE_OK);
	archive_write_set_bytes_in_last_block(t->a, 1);
	ck_assert_int_eq(archive_write_open(t->a, &t->out, NULL, sb_write, NULL), ARCHIVE_OK);
}

/* an entry: type 'f' file, 'd' dir, 'l' symlink (data = target), 'h' hard link */
static void tb_add_x(struct tb *t, char type, const char *name, const void *data, size_t n,
		     unsigned mode, const void *caps, size_t caps_len)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_mtime(e, 1700000000, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	switch (type) {
	case 'f':
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, (la_int64_t)n);
		break;
	case 'd':
		archive_entry_set_filetype(e, AE_IFDIR);
		break;
	case 'l':
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_symlink(e, data);
		break;
	case 'h':
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_hardlink(e, data);
		break;
	}
	archive_entry_set_perm(e, mode);
	if (caps)
		archive_entry_xattr_add_entry(e, "security.capability", caps, caps_len);
	ck_assert_int_eq(archive_write_header(t->a, e), ARCHIVE_OK);
	if (type == 'f' && n)
		ck_assert_int_eq(archive_write_data(t->a, data, n), (la_ssize_t)n);
	archive_entry_free(e);
}

static void tb_add(struct tb *t, char type, const char *name, const char *data, unsigned mode)
{
	tb_add_x(t, type, name, data, data && type == 'f' ? strlen(data) : 0, mode, NULL, 0);
}

static void tb_close(struct tb *t)
{
	ck_assert_int_eq(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
}

/* bytes compressed with "gzip", "zstd" or "none" */
static void compress(const struct sbuf *in, const char *filter, struct sbuf *out)
{
	memset(out, 0, sizeof(*out));
	if (!strcmp(filter, "none")) {
		sbuf_add(out, in->buf, in->len);
		return;
	}
	struct archive *a = archive_write_new();
	archive_write_set_format_raw(a);
	ck_assert_int_eq(archive_write_add_filter_by_name(a, filter), ARCHIVE_OK);
	archive_write_set_bytes_in_last_block(a, 1);
	ck_assert_int_eq(archive_write_open(a, out, NULL, sb_write, NULL), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "data");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)in->len);
	ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_data(a, in->buf, in->len), (la_ssize_t)in->len);
	archive_entry_free(e);
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void hexdigest(const void *b, size_t n, char hex[65])
{
	sha256_hex(b, n, hex);
}

static void write_file(const char *dir, const char *name, const void *b, size_t n)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	char *slash = strrchr(p, '/');
	*slash = 0;
	struct err e = {0};
	ck_assert_int_eq(mkdir_p(p, 0755, &e), 0);
	*slash = '/';
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write_all(fd, b, n), 0);
	close(fd);
}

/* ---- an image: its layers (as tars) and the three forms ---- */

#define MAXL 4
struct timg {
	size_t nl;
	struct sbuf raw[MAXL];	/* the layer tars */
	struct sbuf blob[MAXL]; /* compressed as stored in OCI forms */
	const char *filter[MAXL];
	char blob_hex[MAXL][65], diff_hex[MAXL][65];
	struct sbuf config, manifest, index;
	char config_hex[65], manifest_hex[65];
};

static void timg_layer(struct timg *im, struct tb *t, const char *filter)
{
	size_t i = im->nl++;
	im->raw[i] = t->out;
	im->filter[i] = filter;
	compress(&im->raw[i], filter, &im->blob[i]);
	hexdigest(im->blob[i].buf, im->blob[i].len, im->blob_hex[i]);
	hexdigest(im->raw[i].buf, im->raw[i].len, im->diff_hex[i]);
}

static const char *media_type(const char *filter)
{
	if (!strcmp(filter, "gzip"))
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	if (!strcmp(filter, "zstd"))
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	return "application/vnd.oci.image.layer.v1.tar";
}

static void timg_meta(struct timg *im, const char *ref)
{
	memset(&im->config, 0, sizeof(im->config));
	sbuf_adds(&im->config, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":"
			       "{\"Entrypoint\":[\"/bin/sh\"],\"Env\":[\"PATH=/bin\"]},"
			       "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
	for (size_t i = 0; i < im->nl; i++)
		sbuf_printf(&im->config, "%s\"sha256:%s\"", i ? "," : "", im->diff_hex[i]);
	sbuf_adds(&im->config, "]}}");
	hexdigest(im->config.buf, im->config.len, im->config_hex);
	memset(&im->manifest, 0, sizeof(im->manifest));
	sbuf_printf(&im->manifest,
		    "{\"schemaVersion\":2,\"mediaType\":\"application/"
		    "vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/"
		    "vnd.oci.image.config.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu},"
		    "\"layers\":[",
		    im->config_hex, im->config.len);
	for (size_t i = 0; i < im->nl; i++)
		sbuf_printf(
		    &im->manifest, "%s{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%zu}",
		    i ? "," : "", media_type(im->filter[i]), im->blob_hex[i], im->blob[i].len);
	sbuf_adds(&im->manifest, "]}");
	hexdigest(im->manifest.buf, im->manifest.len, im->manifest_hex);
	memset(&im->index, 0, sizeof(im->index));
	sbuf_printf(&im->index,
		    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
		    "vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu,"
		    "\"annotations\":{\"org.opencontainers.image.ref.name\":\"%s\"}}]}",
		    im->manifest_hex, im->manifest.len, ref);
}

static void timg_free(struct timg *im)
{
	for (size_t i = 0; i < im->nl; i++) {
		sbuf_free(&im->raw[i]);
		sbuf_free(&im->blob[i]);
	}
	sbuf_free(&im->config);
	sbuf_free(&im->manifest);
	sbuf_free(&im->index);
}

static void oci_layout_write(const struct timg *im, const char *dir)
{
	char n[128];
	write_file(dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	write_file(dir, "index.json", im->index.buf, im->index.len);
	snprintf(n, sizeof(n), "blobs/sha256/%s", im->manifest_hex);
	write_file(dir, n, im->manifest.buf, im->manifest.len);
	snprintf(n, sizeof(n), "blobs/sha256/%s", im->config_hex);
	write_file(dir, n, im->config.buf, im->config.len);
	for (size_t i = 0; i < im->nl; i++) {
		snprintf(n, sizeof(n), "blobs/sha256/%s", im->blob_hex[i]);
		write_file(dir, n, im->blob[i].buf, im->blob[i].len);
	}
}

static void tar_to_file(struct tb *t, const char *path)
{
	tb_close(t);
	write_file("", path, t->out.buf, t->out.len);
	sbuf_free(&t->out);
}

static void oci_archive_write(const struct timg *im, const char *path)
{
	struct tb t;
	char n[128];
	tb_open(&t);
	tb_add(&t, 'f', "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 0644);
	tb_add(&t, 'd', "blobs", NULL, 0755);
	tb_add(&t, 'd', "blobs/sha256", NULL, 0755);
	for (size_t i = 0; i < im->nl; i++) {
		snprintf(n, sizeof(n), "blobs/sha256/%s", im->blob_hex[i]);
		tb_add_x(&t, 'f', n, im->blob[i].buf, im->blob[i].len, 0644, NULL, 0);
	}
	snprintf(n, sizeof(n), "blobs/sha256/%s", im->config_hex);
	tb_add_x(&t, 'f', n, im->config.buf, im->config.len, 0644, NULL, 0);
	snprintf(n, sizeof(n), "blobs/sha256/%s", im->manifest_hex);
	tb_add_x(&t, 'f', n, im->manifest.buf, im->manifest.len, 0644, NULL, 0);
	tb_add(&t, 'f', "index.json", im->index.buf, 0644);
	tar_to_file(&t, path);
}

/* legacy docker save: <id>/layer.tar uncompressed, <config hex>.json; the
 * first layer as a symlink to a top-level tar (as skopeo writes) */
static void docker_archive_write(const struct timg *im, const char *path, const char *tag)
{
	struct tb t;
	char n[128], tgt[128];
	struct sbuf man = SBUF_INIT;
	tb_open(&t);
	sbuf_printf(&man, "[{\"Config\":\"%s.json\",\"RepoTags\":[\"%s\"],\"Layers\":[",
		    im->config_hex, tag);
	for (size_t i = 0; i < im->nl; i++) {
		if (i == 0) {
			snprintf(n, sizeof(n), "%s.tar", im->diff_hex[i]);
			tb_add_x(&t, 'f', n, im->raw[i].buf, im->raw[i].len, 0444, NULL, 0);
			snprintf(n, sizeof(n), "id%zu/layer.tar", i);
			snprintf(tgt, sizeof(tgt), "../%s.tar", im->diff_hex[i]);
			tb_add(&t, 'l', n, tgt, 0777);
		} else {
			snprintf(n, sizeof(n), "id%zu/layer.tar", i);
			tb_add_x(&t, 'f', n, im->raw[i].buf, im->raw[i].len, 0444, NULL, 0);
		}
		sbuf_printf(&man, "%s\"id%zu/layer.tar\"", i ? "," : "", i);
	}
	sbuf_adds(&man, "]}]");
	snprintf(n, sizeof(n), "%s.json", im->config_hex);
	tb_add_x(&t, 'f', n, im->config.buf, im->config.len, 0444, NULL, 0);
	tb_add(&t, 'f', "manifest.json", man.buf, 0444);
	tar_to_file(&t, path);
	sbuf_free(&man);
}

/* newer docker save: layers as blobs/sha256/<hex> (here compressed) */
static void docker_blobs_write(const struct timg *im, const char *path)
{
	struct tb t;
	char n[128];
	struct sbuf man = SBUF_INIT;
	tb_open(&t);
	sbuf_printf(&man,
		    "[{\"Config\":\"blobs/sha256/%s\",\"RepoTags\":[\"docker.io/library/"
		    "blobimg:2\"],\"Layers\":[",
		    im->config_hex);
	for (size_t i = 0; i < im->nl; i++) {
		snprintf(n, sizeof(n), "blobs/sha256/%s", im->blob_hex[i]);
		tb_add_x(&t, 'f', n, im->blob[i].buf, im->blob[i].len, 0444, NULL, 0);
		sbuf_printf(&man, "%s\"blobs/sha256/%s\"", i ? "," : "", im->blob_hex[i]);
	}
	sbuf_adds(&man, "]}]");
	snprintf(n, sizeof(n), "blobs/sha256/%s", im->config_hex);
	tb_add_x(&t, 'f', n, im->config.buf, im->config.len, 0444, NULL, 0);
	tb_add(&t, 'f', "manifest.json", man.buf, 0444);
	tar_to_file(&t, path);
	sbuf_free(&man);
}

/* ---- the image of the tests ---- */

static const unsigned char CAPS[20] = {0, 0, 0, 2, 0, 0x20, 0, 0}; /* cap_net_raw */

static void build_test_image(struct timg *im)
{
	memset(im, 0, sizeof(*im));
	struct tb t;
	/* layer 0 (gzip) */
	tb_open(&t);
	tb_add(&t, 'd', "./", NULL, 0755);
	tb_add(&t, 'd', "./etc", NULL, 0755);
	tb_add(&t, 'f', "./etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0644);
	tb_add(&t, 'f', "./etc/app/old.conf", "old\n", 0644);
	tb_add(&t, 'f', "./etc/app/sub/x", "x\n", 0644);
	tb_add(&t, 'f', "./bin/sh", "#!shell\n", 0755);
	tb_add(&t, 'h', "./bin/link", "./bin/sh", 0755);
	tb_add(&t, 'f', "./usr/bin/su", "su\n", 04755);
	tb_add_x(&t, 'f', "./usr/bin/ping", "ping\n", 5, 0755, CAPS, sizeof(CAPS));
	tb_add(&t, 'l', "./lib/evil", "../../../etc/shadow", 0777);
	tb_add(&t, 'f', "./tmp/gone", "bye\n", 0644);
	tb_add(&t, 'f', "./tmp/dir/a", "a\n", 0644);
	tb_add(&t, 'f', "./tmp/same", "same layer\n", 0644);
	tb_close(&t);
	timg_layer(im, &t, "gzip");
	/* layer 1 (zstd) */
	tb_open(&t);
	tb_add(&t, 'd', "etc/app", NULL, 0700);
	tb_add(&t, 'f', "etc/app/new.conf", "new\n", 0600);
	tb_add(&t, 'f', "etc/app/.wh..wh..opq", "", 0);
	tb_add(&t, 'f', "etc/passwd", "root:x:0:0:root:/root:/bin/sh\neve:x:0:0::/:/bin/sh\n",
	       0644);
	tb_add(&t, 'f', "tmp/.wh.gone", "", 0);
	tb_add(&t, 'f', "tmp/.wh.dir", "", 0);
	tb_add(&t, 'f', "tmp/new", "n\n", 0644);
	tb_add(&t, 'f', "tmp/.wh.new", "", 0); /* same layer: not hidden */
	tb_add(&t, 'f', "tmp/.wh.nothing", "", 0);
	tb_add(&t, 'h', "usr/bin/su2", "usr/bin/su", 04755);
	tb_close(&t);
	timg_layer(im, &t, "zstd");
	/* layer 2 (plain) */
	tb_open(&t);
	tb_add(&t, 'f', "root/.ssh/authorized_keys", "ssh-ed25519 AAAA eve\n", 0600);
	tb_add(&t, 'f', "bin/sh", "#!shell v2\n", 0755);
	tb_close(&t);
	timg_layer(im, &t, "none");
	timg_meta(im, "v1");
}

static void sha_of(const char *s, unsigned char out[32])
{
	sha256_buf(s, strlen(s), out);
}

/* A line per node, sorted by the walk: path type mode uid size sha link caps layer */
static void dump_walk(const struct aidx *x, aidx_id d, struct sbuf *b)
{
	/* children in name order: collect, sort */
	size_t n = 0, cap = 0;
	char **names = NULL;
	aidx_id *ids = NULL;
	size_t icap = 0;
	for (aidx_id c = aidx_first_child(x, d); c != AIDX_NONE; c = aidx_next_sibling(x, c)) {
		char p[AN_PATH_MAX];
		aidx_path(x, c, p, sizeof(p));
		xgrow(&names, &cap, n + 1, sizeof(*names));
		xgrow(&ids, &icap, n + 1, sizeof(*ids));
		names[n] = xstrdup(p);
		ids[n++] = c;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
			aidx_id ti = ids[j];
			ids[j] = ids[j - 1];
			ids[j - 1] = ti;
		}
	for (size_t i = 0; i < n; i++) {
		struct aidx_entry a;
		aidx_get(x, ids[i], &a);
		char h[65] = "-";
		if (a.has_sha256)
			hex_encode(a.sha256, 32, h);
		sbuf_printf(b, "%s %s %o %u:%u %llu %s %s %zu %u\n", names[i],
			    aent_type_name(a.type), a.mode, a.uid, a.gid,
			    (unsigned long long)a.size, h, a.link_target ? a.link_target : "-",
			    a.caps_len, a.nxattrs);
		dump_walk(x, ids[i], b);
		free(names[i]);
	}
	free(names);
	free(ids);
}

static char *dump(const struct aimg *img)
{
	struct sbuf b = SBUF_INIT;
	dump_walk(img->idx, AIDX_ROOT, &b);
	return sbuf_steal(&b);
}

static struct aimg *open_ok(const char *path, const char *ref)
{
	struct aimg_opts o = {.path = path, .ref = ref};
	struct aimg *img = NULL;
	struct err e = {0};
	ck_assert_msg(aimg_open(&o, &img, &e) == 0, "open %s: %s", path, e.msg);
	return img;
}

static bool notes_have(const struct aimg *img, const char *needle)
{
	size_t i;
	json_t *n;
	json_array_foreach(img->notes, i, n) if (strstr(json_string_value(n), needle)) return true;
	return false;
}

static void check_test_index_common(const struct aimg *img)
{
	struct aidx *x = img->idx;
	struct aidx_entry a;
	unsigned char md[32];
	/* layer 1 replaced passwd; its content is kept */
	aidx_id pw = aidx_lookup(x, "etc/passwd");
	ck_assert_uint_ne(pw, AIDX_NONE);
	aidx_get(x, pw, &a);
	const char *pw1 = "root:x:0:0:root:/root:/bin/sh\neve:x:0:0::/:/bin/sh\n";
	sha_of(pw1, md);
	ck_assert(a.has_sha256);
	ck_assert_int_eq(memcmp(a.sha256, md, 32), 0);
	ck_assert_uint_eq(a.size, strlen(pw1));
	ck_assert_uint_eq(a.layer, 1);
	size_t kn;
	bool kt;
	const char *k = aidx_kept(x, pw, &kn, &kt);
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(kn, strlen(pw1));
	ck_assert(!kt);
	ck_assert_int_eq(memcmp(k, pw1, kn), 0);
	ck_assert_ptr_nonnull(aidx_kept(x, aidx_lookup(x, "root/.ssh/authorized_keys"), &kn, &kt));
	ck_assert_ptr_null(aidx_kept(x, aidx_lookup(x, "bin/sh"), &kn, &kt));
	/* the opaque dir: lower content gone, its own stays */
	ck_assert_uint_eq(aidx_lookup(x, "etc/app/old.conf"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(x, "etc/app/sub"), AIDX_NONE);
	ck_assert_uint_ne(aidx_lookup(x, "etc/app/new.conf"), AIDX_NONE);
	aidx_get(x, aidx_lookup(x, "etc/app"), &a);
	ck_assert_uint_eq(a.mode, 0700);
	/* whiteouts: lower file and dir gone, same-layer file stays */
	ck_assert_uint_eq(aidx_lookup(x, "tmp/gone"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(x, "tmp/dir"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(x, "tmp/dir/a"), AIDX_NONE);
	ck_assert_uint_ne(aidx_lookup(x, "tmp/new"), AIDX_NONE);
	ck_assert_uint_ne(aidx_lookup(x, "tmp/same"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(x, "tmp/.wh.gone"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(x, "etc/app/.wh..wh..opq"), AIDX_NONE);
	/* hard links: the target's content in that layer */
	struct aidx_entry l, s;
	aidx_get(x, aidx_lookup(x, "bin/link"), &l);
	ck_assert_int_eq(l.type, AENT_FILE);
	sha_of("#!shell\n", md); /* the first sh, not layer 2's */
	ck_assert_int_eq(memcmp(l.sha256, md, 32), 0);
	aidx_get(x, aidx_lookup(x, "bin/sh"), &s);
	sha_of("#!shell v2\n", md);
	ck_assert_int_eq(memcmp(s.sha256, md, 32), 0);
	aidx_get(x, aidx_lookup(x, "usr/bin/su2"), &l);
	ck_assert_uint_eq(l.mode, 04755);
	sha_of("su\n", md);
	ck_assert_int_eq(memcmp(l.sha256, md, 32), 0);
	/* setuid, caps, symlink */
	aidx_get(x, aidx_lookup(x, "usr/bin/su"), &a);
	ck_assert_uint_eq(a.mode, 04755);
	aidx_get(x, aidx_lookup(x, "usr/bin/ping"), &a);
	ck_assert_uint_eq(a.caps_len, sizeof(CAPS));
	ck_assert_int_eq(memcmp(a.caps, CAPS, sizeof(CAPS)), 0);
	ck_assert_uint_ge(a.nxattrs, 1);
	aidx_get(x, aidx_lookup(x, "lib/evil"), &a);
	ck_assert_int_eq(a.type, AENT_SYMLINK);
	ck_assert_str_eq(a.link_target, "../../../etc/shadow");
}

static void check_test_index(const struct aimg *img)
{
	check_test_index_common(img);
	/* config and layers */
	ck_assert(json_is_object(img->config));
	ck_assert_ptr_nonnull(json_object_get(img->config, "Entrypoint"));
	ck_assert_uint_eq(json_array_size(img->layers), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *lj = json_array_get(img->layers, i);
		ck_assert(json_is_true(json_object_get(lj, "digest_ok")));
		ck_assert(json_is_true(json_object_get(lj, "complete")));
	}
	ck_assert_uint_gt(img->bytes_hashed, 0);
}

START_TEST(three_forms)
{
	char dir[128], p[256];
	unit_tmpdir(dir, sizeof(dir), "test_image");
	struct timg im;
	build_test_image(&im);
	snprintf(p, sizeof(p), "%s/oci", dir);
	oci_layout_write(&im, p);
	struct aimg *a = open_ok(p, NULL);
	ck_assert_str_eq(a->form, "oci-layout");
	ck_assert_str_eq(a->ref, "v1");
	char want[80];
	snprintf(want, sizeof(want), "sha256:%s", im.manifest_hex);
	ck_assert_str_eq(a->manifest_digest, want);
	ck_assert_str_eq(aimg_digest_match(a, want), "match");
	snprintf(want, sizeof(want), "sha256:%s", im.config_hex);
	ck_assert_str_eq(a->config_digest, want);
	ck_assert_str_eq(aimg_digest_match(a, want), "match");
	ck_assert_str_eq(aimg_digest_match(a, im.config_hex), "match");
	char at[160];
	snprintf(at, sizeof(at), "docker.io/library/x@sha256:%s", im.manifest_hex);
	ck_assert_str_eq(aimg_digest_match(a, at), "match");
	ck_assert_str_eq(aimg_digest_match(a, "sha256:00"), "mismatch");
	ck_assert_str_eq(aimg_digest_match(a, NULL), "unknown");
	json_t *l0 = json_array_get(a->layers, 0), *l1 = json_array_get(a->layers, 1);
	ck_assert_str_eq(json_string_value(json_object_get(l0, "compression")), "gzip");
	ck_assert_str_eq(json_string_value(json_object_get(l1, "compression")), "zstd");
	ck_assert_int_eq(json_integer_value(json_object_get(l0, "compressed_size")),
			 (json_int_t)im.blob[0].len);
	ck_assert_int_eq(json_integer_value(json_object_get(l0, "size")),
			 (json_int_t)im.raw[0].len);
	check_test_index(a);
	char *d1 = dump(a);

	snprintf(p, sizeof(p), "%s/oci.tar", dir);
	oci_archive_write(&im, p);
	struct aimg *b = open_ok(p, "v1");
	ck_assert_str_eq(b->form, "oci-archive");
	check_test_index(b);
	char *d2 = dump(b);
	ck_assert_str_eq(d1, d2);

	snprintf(p, sizeof(p), "%s/docker.tar", dir);
	docker_archive_write(&im, p, "contain-test:v1");
	struct aimg *c = open_ok(p, "contain-test:v1");
	ck_assert_str_eq(c->form, "docker-archive");
	ck_assert_ptr_null(c->manifest_digest);
	ck_assert_str_eq(c->config_digest, want);
	ck_assert_str_eq(c->ref, "contain-test:v1");
	check_test_index(c);
	char *d3 = dump(c);
	ck_assert_str_eq(d1, d3);
	json_t *cl = json_array_get(c->layers, 0);
	ck_assert_str_eq(json_string_value(json_object_get(cl, "compression")), "none");

	snprintf(p, sizeof(p), "%s/docker-blobs.tar", dir);
	docker_blobs_write(&im, p);
	struct aimg *d = open_ok(p, "blobimg:2");
	ck_assert_str_eq(d->form, "docker-archive");
	check_test_index(d);
	char *d4 = dump(d);
	ck_assert_str_eq(d1, d4);
	free(d1);
	free(d2);
	free(d3);
	free(d4);
	aimg_free(a);
	aimg_free(b);
	aimg_free(c);
	aimg_free(d);
	timg_free(&im);
	unit_tmpdir_remove(dir);
}
END_TEST

/* a legacy docker-archive whose layer files are gzip: read, the diff_id
 * (of the uncompressed tar) said to be unchecked, never "mismatch" */
START_TEST(docker_compressed_layer)
{
	char dir[128], p[256];
	unit_tmpdir(dir, sizeof(dir), "test_image");
	struct timg im;
	build_test_image(&im);
	for (size_t i = 0; i < im.nl; i++) {
		sbuf_free(&im.raw[i]);
		im.raw[i] = im.blob[i]; /* docker_archive_write stores raw[] */
		memset(&im.blob[i], 0, sizeof(im.blob[i]));
	}
	snprintf(p, sizeof(p), "%s/docker-gz.tar", dir);
	docker_archive_write(&im, p, "gz:1");
	struct aimg *img = open_ok(p, NULL);
	ck_assert_str_eq(img->ref, "gz:1");
	check_test_index_common(img);
	json_t *l0 = json_array_get(img->layers, 0);
	ck_assert(json_is_null(json_object_get(l0, "digest_ok")));
	ck_assert_str_eq(json_string_value(json_object_get(l0, "compression")), "gzip");
	ck_assert(notes_have(img, "not checked"));
	aimg_free(img);
	timg_free(&im);
	unit_tmpdir_remove(dir);
}
END_TEST

START_TEST(ref_selection)
{
	char dir[128], p[256];
	unit_tmpdir(dir, sizeof(dir), "test_image");
	struct timg im;
	build_test_image(&im);
	snprintf(p, sizeof(p), "%s/docker.tar", dir);
	docker_archive_write(&im, p, "docker.io/library/contain-fixture:latest");
	const char *ok[] = {NULL, "contain-fixture:latest", "latest", "contain-fixture",
			    "docker.io/library/contain-fixture:latest"};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct aimg *a = open_ok(p, ok[i]);
		ck_assert_str_eq(a->ref, "docker.io/library/contain-fixture:latest");
		aimg_free(a);
	}
	struct aimg_opts o = {.path = p, .ref = "other:latest"};
	struct aimg *img = NULL;
	struct err e = {0};
	ck_assert_int_eq(aimg_open(&o, &img, &e), -1);
	ck_assert_int_eq(e.kind, ERR_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(e.msg, "contain-fixture:latest"));

	/* two images in one layout: ambiguous without a ref; a digest or a ref picks */
	snprintf(p, sizeof(p), "%s/two", dir);
	oci_layout_write(&im, p);
	struct timg im2;
	memset(&im2, 0, sizeof(im2));
	struct tb t;
	tb_open(&t);
	tb_add(&t, 'f', "only", "other image\n", 0644);
	tb_close(&t);
	timg_layer(&im2, &t, "gzip");
	timg_meta(&im2, "v2");
	char sub[300];
	snprintf(sub, sizeof(sub), "%s/two2", dir);
	oci_layout_write(&im2, sub);
	/* merge: blobs of im2 into p, an index naming both */
	char n[128];
	snprintf(n, sizeof(n), "blobs/sha256/%s", im2.manifest_hex);
	write_file(p, n, im2.manifest.buf, im2.manifest.len);
	snprintf(n, sizeof(n), "blobs/sha256/%s", im2.config_hex);
	write_file(p, n, im2.config.buf, im2.config.len);
	snprintf(n, sizeof(n), "blobs/sha256/%s", im2.blob_hex[0]);
	write_file(p, n, im2.blob[0].buf, im2.blob[0].len);
	struct sbuf idx = SBUF_INIT;
	sbuf_printf(&idx,
		    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
		    "vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu,"
		    "\"annotations\":{\"org.opencontainers.image.ref.name\":\"img:v1\"}},"
		    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
		    "\"sha256:%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref."
		    "name\":\"img:v2\"}}]}",
		    im.manifest_hex, im.manifest.len, im2.manifest_hex, im2.manifest.len);
	write_file(p, "index.json", idx.buf, idx.len);
	sbuf_free(&idx);
	o.path = p;
	o.ref = NULL;
	ck_assert_int_eq(aimg_open(&o, &img, &e), -1);
	ck_assert_int_eq(e.kind, ERR_AMBIG);
	ck_assert_ptr_nonnull(strstr(e.msg, "img:v1"));
	ck_assert_ptr_nonnull(strstr(e.msg, "img:v2"));
	char want[80];
	snprintf(want, sizeof(want), "sha256:%s", im2.config_hex);
	o.want_digest = want;
	ck_assert_int_eq(aimg_open(&o, &img, &e), 0);
	ck_assert_str_eq(img->ref, "img:v2");
	ck_assert_uint_eq(aidx_count(img->idx), 1);
	ck_assert_uint_eq(json_array_size(img->refs), 2);
	aimg_free(img);
	/* an attestation manifest beside an image is no second image */
	idx = (struct sbuf)SBUF_INIT;
	sbuf_printf(&idx,
		    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
		    "vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu,"
		    "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
		    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
		    "\"sha256:%s\",\"size\":%zu,\"platform\":{\"os\":\"unknown\","
		    "\"architecture\":\"unknown\"},\"annotations\":{\"vnd.docker.reference."
		    "type\":\"attestation-manifest\"}}]}",
		    im.manifest_hex, im.manifest.len, im2.manifest_hex, im2.manifest.len);
	write_file(p, "index.json", idx.buf, idx.len);
	sbuf_free(&idx);
	o.want_digest = NULL;
	o.ref = NULL;
	ck_assert_int_eq(aimg_open(&o, &img, &e), 0);
	ck_assert_uint_eq(json_array_size(img->refs), 1);
	ck_assert_ptr_nonnull(aidx_kept(img->idx, aidx_lookup(img->idx, "etc/passwd"), NULL, NULL));
	aimg_free(img);
	idx = (struct sbuf)SBUF_INIT;
	sbuf_printf(&idx,
		    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
		    "vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:%s\",\"size\":%zu,"
		    "\"annotations\":{\"org.opencontainers.image.ref.name\":\"img:v1\"}},"
		    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
		    "\"sha256:%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref."
		    "name\":\"img:v2\"}}]}",
		    im.manifest_hex, im.manifest.len, im2.manifest_hex, im2.manifest.len);
	write_file(p, "index.json", idx.buf, idx.len);
	sbuf_free(&idx);
	o.ref = "v1"; /* a bare tag */
	ck_assert_int_eq(aimg_open(&o, &img, &e), 0);
	ck_assert_str_eq(img->ref, "img:v1");
	aimg_free(img);
	timg_free(&im);
	timg_free(&im2);
	unit_tmpdir_remove(dir);
}
END_TEST

START_TEST(fixture_forms)
{
	const char *top = getenv("CONTAIN_TOP");
	char base[512], p[600];
	snprintf(base, sizeof(base), "%s/fixtures/cache", top ? top : ".");
	snprintf(p, sizeof(p), "%s/fixture-docker.tar", base);
	if (access(p, R_OK) != 0) {
		printf("# SKIP fixture image not built (bash fixtures/build.sh)\n");
		return;
	}
	const char *forms[] = {"oci", "fixture-oci.tar", "fixture-docker.tar"};
	char *first = NULL;
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", base, forms[i]);
		struct aimg *img = open_ok(p, i ? "contain-fixture:latest" : "latest");
		ck_assert_uint_gt(aidx_count(img->idx), 10);
		ck_assert_uint_ne(aidx_lookup(img->idx, "contain-init"), AIDX_NONE);
		ck_assert_uint_ne(aidx_lookup(img->idx, "bin/busybox"), AIDX_NONE);
		ck_assert(
		    json_is_true(json_object_get(json_array_get(img->layers, 0), "digest_ok")));
		ck_assert_uint_eq(json_array_size(img->notes), 0);
		char *d = dump(img);
		if (!first)
			first = d;
		else {
			ck_assert_str_eq(first, d);
			free(d);
		}
		aimg_free(img);
	}
	free(first);
}
END_TEST

/* ---- hostile ---- */

static void open_fail(const char *path, enum err_kind kind, const char *needle)
{
	struct aimg_opts o = {.path = path};
	struct aimg *img = NULL;
	struct err e = {0};
	ck_assert_int_eq(aimg_open(&o, &img, &e), -1);
	ck_assert_ptr_null(img);
	ck_assert_msg(e.kind == kind, "kind %d, want %d: %s", e.kind, kind, e.msg);
	ck_assert_msg(strstr(e.msg, needle), "'%s' not in '%s'", needle, e.msg);
}

/* A one-layer OCI layout around a given layer tar (compressed with filter). */
static void one_layer(const char *dir, struct tb *t, const char *filter, struct timg *im)
{
	memset(im, 0, sizeof(*im));
	timg_layer(im, t, filter);
	timg_meta(im, "x");
	oci_layout_write(im, dir);
}

START_TEST(hostile_layers)
{
	char dir[128], p[256];
	unit_tmpdir(dir, sizeof(dir), "test_image");
	struct timg im;
	struct tb t;
	/* names that climb or are absolute, links pointing out, a long name */
	tb_open(&t);
	tb_add(&t, 'f', "../../etc/cron.d/x", "evil\n", 0644);
	tb_add(&t, 'f', "/abs/file", "abs\n", 0644);
	tb_add(&t, 'f', "a/../../b", "b\n", 0644);
	tb_add(&t, 'l', "up", "../../../../etc/passwd", 0777);
	tb_add(&t, 'h', "hl", "../../etc/shadow", 0644);
	tb_add(&t, 'h', "hl2", "nothing-here", 0644);
	char *longname = xmalloc(AN_PATH_MAX + 100);
	memset(longname, 'n', AN_PATH_MAX + 99);
	longname[AN_PATH_MAX + 99] = 0;
	tb_add(&t, 'f', longname, "long\n", 0644);
	free(longname);
	tb_add(&t, 'f', "file", "f\n", 0644);
	tb_add(&t, 'f', "file/under", "u\n", 0644);
	tb_add(&t, 'f', ".wh...", "", 0);
	tb_close(&t);
	snprintf(p, sizeof(p), "%s/l1", dir);
	one_layer(p, &t, "gzip", &im);
	struct aimg *img = open_ok(p, NULL);
	ck_assert_uint_ne(aidx_lookup(img->idx, "abs/file"), AIDX_NONE);
	ck_assert_uint_ne(aidx_lookup(img->idx, "up"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(img->idx, "etc"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(img->idx, "b"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(img->idx, "hl"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(img->idx, "hl2"), AIDX_NONE);
	ck_assert_uint_eq(aidx_lookup(img->idx, "file/under"), AIDX_NONE);
	ck_assert(notes_have(img, "'..' component"));
	ck_assert(notes_have(img, "longer than"));
	ck_assert(notes_have(img, "non-directory"));
	ck_assert(notes_have(img, "no such file before it"));
	aimg_free(img);
	timg_free(&im);

	/* a truncated layer: what was read stays, the layer says incomplete */
	tb_open(&t);
	char big[100000];
	memset(big, 'z', sizeof(big));
	tb_add(&t, 'f', "first", "1\n", 0644);
	tb_add_x(&t, 'f', "big", big, sizeof(big), 0644, NULL, 0);
	tb_close(&t);
	t.out.len = 30000;
	snprintf(p, sizeof(p), "%s/trunc", dir);
	one_layer(p, &t, "none", &im);
	img = open_ok(p, NULL);
	ck_assert_uint_ne(aidx_lookup(img->idx, "first"), AIDX_NONE);
	ck_assert(json_is_false(json_object_get(json_array_get(img->layers, 0), "complete")));
	ck_assert(notes_have(img, "stopped"));
	aimg_free(img);
	timg_free(&im);

	/* a layer that is not a tar */
	memset(&t, 0, sizeof(t));
	sbuf_adds(&t.out, "this is not a tar archive at all, just words");
	snprintf(p, sizeof(p), "%s/notar", dir);
	one_layer(p, &t, "gzip", &im);
	img = open_ok(p, NULL);
	ck_assert(json_is_false(json_object_get(json_array_get(img->layers, 0), "complete")));
	aimg_free(img);
	timg_free(&im);

	/* a digest that does not match: applied, told */
	tb_open(&t);
	tb_add(&t, 'f', "f", "1\n", 0644);
	tb_close(&t);
	snprintf(p, sizeof(p), "%s/baddigest", dir);
	one_layer(p, &t, "gzip", &im);
	char n[200];
	snprintf(n, sizeof(n), "blobs/sha256/%s", im.blob_hex[0]);
	struct tb t2;
	tb_open(&t2);
	tb_add(&t2, 'f', "f", "2\n", 0644);
	tb_add(&t2, 'f', "g", "2\n", 0644);
	tb_close(&t2);
	struct sbuf z;
	compress(&t2.out, "gzip", &z);
	write_file(p, n, z.buf, z.len);
	img = open_ok(p, NULL);
	ck_assert(json_is_false(json_object_get(json_array_get(img->layers, 0), "digest_ok")));
	ck_assert(notes_have(img, "expected"));
	ck_assert_uint_ne(aidx_lookup(img->idx, "g"), AIDX_NONE);
	aimg_free(img);
	sbuf_free(&z);
	sbuf_free(&t2.out);
	timg_free(&im);
	unit_tmpdir_remove(dir);
}
END_TEST

START_TEST(hostile_bomb)
{
	char dir[128], p[256];
	unit_tmpdir(dir, sizeof(dir), "test_image");
	struct timg im;
	struct tb t;
	/* 200 MiB of zeros: zstd makes it a few KiB, ratio far past AN_RATIO_MAX */
	tb_open(&t);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "zeros");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 200ll << 20);
	ck_assert_int_eq(archive_write_header(t.a, e), ARCHIVE_OK);
	archive_entry_free(e);
	static char zero[1 << 20];
	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(archive_write_data(t.a, zero, sizeof(zero)),
				 (la_ssize_t)sizeof(zero));
	tb_add(&t, 'f', "after", "a\n", 0644);
	tb_close(&t);
	snprintf(p, sizeof(p), "%s/bomb", dir);
	one_layer(p, &t, "zstd", &im);
	ck_assert_uint_lt(im.blob[0].len, 200u << 10);
	struct aimg *img = open_ok(p, NULL);
	ck_assert(json_is_false(json_object_get(json_array_get(img->layers, 0), "complete")));
	ck_assert(notes_have(img, "decompression bomb"));
	ck_assert_uint_eq(aidx_lookup(img->idx, "after"), AIDX_NONE);
	aimg_free(img);
	timg_free(&im);
	unit_tmpdir_remove(dir);
}
END_TEST

START_TEST(hostile_json)
{
	char dir[128], p[256];
	unit_tmpdir(dir, sizeof(dir), "test_image");
	/* nothing to read */
	snprintf(p, sizeof(p), "%s/empty", dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	open_fail(p, ERR_INVALID, "neither an OCI layout");
	snprintf(p, sizeof(p), "%s/missing", dir);
	open_fail(p, ERR_SYS, "missing");
	/* JSON nested 100,000 deep */
	snprintf(p, sizeof(p), "%s/deep", dir);
	char *deep = xmalloc(200001);
	memset(deep, '[', 100000);
	memset(deep + 100000, ']', 100000);
	write_file(p, "index.json", deep, 200000);
	open_fail(p, ERR_INVALID, "invalid JSON");
	/* the same as an archive member */
	struct tb t;
	tb_open(&t);
	tb_add_x(&t, 'f', "manifest.json", deep, 200000, 0644, NULL, 0);
	snprintf(p, sizeof(p), "%s/deep.tar", dir);
	tar_to_file(&t, p);
	open_fail(p, ERR_INVALID, "invalid JSON");
	free(deep);
	/* a blob path that tries to escape, or is no sha256 */
	const char *bad[] = {
	    "sha256:../../../../etc/passwd", "sha512:abcd",
	    "sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789",
	    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(p, sizeof(p), "%s/esc%zu", dir, i);
		char idx[512];
		snprintf(idx, sizeof(idx),
			 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
			 "vnd.oci.image.manifest.v1+json\",\"digest\":\"%s\",\"size\":1}]}",
			 bad[i]);
		write_file(p, "index.json", idx, strlen(idx));
		open_fail(p, ERR_INVALID, "bad digest");
	}
	/* a manifest's blob missing */
	snprintf(p, sizeof(p), "%s/noblob", dir);
	const char *idx = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
			  "vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:"
			  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
			  "\"size\":1}]}";
	write_file(p, "index.json", idx, strlen(idx));
	open_fail(p, ERR_NOTFOUND, "no image");
	/* a layer blob missing */
	struct timg im;
	tb_open(&t);
	tb_add(&t, 'f', "f", "1\n", 0644);
	tb_close(&t);
	snprintf(p, sizeof(p), "%s/nolayer", dir);
	one_layer(p, &t, "gzip", &im);
	char n[512];
	snprintf(n, sizeof(n), "%s/blobs/sha256/%s", p, im.blob_hex[0]);
	ck_assert_int_eq(unlink(n), 0);
	open_fail(p, ERR_SYS, "layer");
	timg_free(&im);
	/* docker manifest.json naming a layer outside, or not there */
	tb_open(&t);
	tb_add(&t, 'f', "cfg.json", "{\"config\":{}}", 0644);
	tb_add(&t, 'f', "manifest.json",
	       "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"a:b\"],\"Layers\":[\"../../x.tar\"]}]",
	       0644);
	snprintf(p, sizeof(p), "%s/dup.tar", dir);
	tar_to_file(&t, p);
	open_fail(p, ERR_INVALID, "'..' component");
	tb_open(&t);
	tb_add(&t, 'f', "cfg.json", "{\"config\":{}}", 0644);
	tb_add(&t, 'f', "manifest.json",
	       "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"a:b\"],\"Layers\":[\"gone.tar\"]}]",
	       0644);
	snprintf(p, sizeof(p), "%s/gone.tar", dir);
	tar_to_file(&t, p);
	open_fail(p, ERR_NOTFOUND, "gone.tar");
	/* not a tar at all */
	snprintf(p, sizeof(p), "%s/junk", dir);
	write_file("", p, "junk junk junk", 14);
	open_fail(p, ERR_INVALID, "junk");
	unit_tmpdir_remove(dir);
}
END_TEST

START_TEST(hostile_entries)
{
	/* more entries than the image may have (AN_ENTRIES_MAX, lowered via
	 * the index): the layer stops, told */
	char dir[128], p[256];
	unit_tmpdir(dir, sizeof(dir), "test_image");
	struct timg im;
	struct tb t;
	tb_open(&t);
	for (int i = 0; i < 3000; i++) {
		char n[32];
		snprintf(n, sizeof(n), "d%d/f%d", i % 7, i);
		tb_add(&t, 'f', n, "", 0644);
	}
	tb_close(&t);
	snprintf(p, sizeof(p), "%s/many", dir);
	one_layer(p, &t, "gzip", &im);
	char many[256];
	snprintf(many, sizeof(many), "%s", p);
	struct aimg *img = open_ok(p, NULL);
	ck_assert_uint_eq(aidx_count(img->idx), 3007);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(json_array_get(img->layers, 0), "entries")), 3000);
	aimg_free(img);
	/* a kept file past AN_KEEP_MAX: kept truncated, hashed whole; notes bounded */
	tb_open(&t);
	size_t big = AN_KEEP_MAX + 4096;
	char *pw = xmalloc(big);
	memset(pw, 'p', big);
	tb_add_x(&t, 'f', "etc/passwd", pw, big, 0644, NULL, 0);
	for (int i = 0; i < 500; i++) {
		char n[32];
		snprintf(n, sizeof(n), "../up%d", i);
		tb_add(&t, 'f', n, "", 0644);
	}
	tb_close(&t);
	snprintf(p, sizeof(p), "%s/bigkeep", dir);
	struct timg im2;
	one_layer(p, &t, "zstd", &im2);
	img = open_ok(p, NULL);
	aidx_id id = aidx_lookup(img->idx, "etc/passwd");
	size_t kn;
	bool kt;
	ck_assert_ptr_nonnull(aidx_kept(img->idx, id, &kn, &kt));
	ck_assert_uint_eq(kn, AN_KEEP_MAX);
	ck_assert(kt);
	struct aidx_entry a;
	aidx_get(img->idx, id, &a);
	unsigned char md[32];
	sha256_buf(pw, big, md);
	ck_assert_int_eq(memcmp(a.sha256, md, 32), 0);
	ck_assert_uint_eq(a.size, big);
	free(pw);
	ck_assert_uint_le(json_array_size(img->notes), 201);
	ck_assert(notes_have(img, "more notes left out"));
	aimg_free(img);
	timg_free(&im2);

	struct aimg_opts o = {.path = many, .max_entries = 1000};
	struct err e = {0};
	ck_assert_int_eq(aimg_open(&o, &img, &e), 0);
	ck_assert(json_is_false(json_object_get(json_array_get(img->layers, 0), "complete")));
	ck_assert(notes_have(img, "more than 1000 entries"));
	ck_assert_uint_le(aidx_count(img->idx), 1000);
	aimg_free(img);
	timg_free(&im);
	unit_tmpdir_remove(dir);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("image");
	TCase *tc = tcase_create("image");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, three_forms);
	tcase_add_test(tc, docker_compressed_layer);
	tcase_add_test(tc, ref_selection);
	tcase_add_test(tc, fixture_forms);
	tcase_add_test(tc, hostile_layers);
	tcase_add_test(tc, hostile_bomb);
	tcase_add_test(tc, hostile_json);
	tcase_add_test(tc, hostile_entries);
	suite_add_tcase(s, tc);
	return s;
}
