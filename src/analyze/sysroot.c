/* sysroot: the container's root written into a directory for gdb's
 * `set sysroot` (contain analyze --sysroot DIR).
 *
 * The final tree is an index, never an extraction: the image's layers were
 * applied into img->idx by aimg_open; the bag's layer (data/fs/upper.tar) is
 * applied on top as one more layer (whiteouts, opaque dirs), or, a whole
 * root, alone into a fresh index. Then DIR is written from that index:
 *   1. directories, top down (mode & 0777 | 0700: never set-id or sticky);
 *   2. regular files: each layer that holds the final content of at least
 *      one file is streamed once more (aimg_layer_read, abag_layer; a layer
 *      none of whose files survived is not read at all); an entry whose
 *      path's final entry is a file of that layer is written, hashed as it
 *      is written, and kept only when its hash is the index's (a path
 *      written twice in one layer: the last one);
 *   3. files whose content no layer entry gave (hard links, files the bag's
 *      listing left out of its tar, overlay metacopy files of the bag's
 *      layer, whose data is the image's: the index knows them by hash): copied
 *      from a written file of that hash; what is still wanted (a hard link
 *      to a file replaced later, a whole root's left-out files) is looked
 *      for in every image layer, read once more: each regular entry of a
 *      wanted size hashed through an unnamed file (O_TMPFILE) and linked
 *      into place when its hash is wanted; the rest is "missing" (noted);
 *   4. symlinks, written last: a target without ".." is kept as it is; any
 *      other (absolute, or with "..") is resolved lexically as in a chroot
 *      of DIR and written as "../" up to DIR then down, so that no link
 *      written here resolves outside DIR, whatever links it passes.
 * Devices, FIFOs and sockets are never made (counted); set-id and sticky
 * bits never set (counted). Every path is made one component at a time from
 * DIR's fd: openat(O_DIRECTORY | O_NOFOLLOW) per directory, the last
 * component made with O_CREAT | O_EXCL | O_NOFOLLOW, mkdirat or symlinkat;
 * no link is followed while writing. Bounded in bytes and files: a bound
 * reached stops with an error naming it; what was written stays. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "contain/analyze.h"
#include "contain/bag.h"
#include "contain/hashio.h"

#define SR_NOTES_MAX 100u

struct sr {
	const struct asysroot_opts *o;
	uint64_t max_bytes, max_files;
	int root;
	struct aidx *fin;
	unsigned char *done; /* bitmap over fin ids: the final content is written */
	unsigned char *made; /* bitmap over fin ids: counted as a file made */
	uint64_t bytes, files, dirs, symlinks, copied, byhash, special, setid, missing, rewritten;
	uint64_t nmade; /* paths made (directories, files, symlinks): max_files */
	struct bag_notes nt;
	char path[AN_PATH_MAX];
};

static bool bit(const unsigned char *m, aidx_id i)
{
	return m[i / 8] & (1u << (i % 8));
}

static void bit_set(unsigned char *m, aidx_id i)
{
	m[i / 8] |= (unsigned char)(1u << (i % 8));
}

/* ---- making paths inside DIR ---- */

/* The directory that holds path (one openat per component, O_NOFOLLOW):
 * its fd, *base the last component. */
static int sr_parent(struct sr *r, const char *path, const char **base, struct err *e)
{
	int fd = dup(r->root);
	if (fd < 0)
		return err_sys(e, errno, "dup");
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n >= 256 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.')) {
			close(fd);
			return err_set(e, ERR_INVALID, "'%.200s': a bad component", path);
		}
		if (!slash) {
			*base = p;
			return fd;
		}
		char comp[256];
		memcpy(comp, p, n);
		comp[n] = 0;
		int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (nfd < 0)
			return err_sys(e, errno, "'%.200s': open '%s'", path, comp);
		fd = nfd;
		p = slash + 1;
	}
}

static int count_file(struct sr *r, aidx_id id, struct err *e)
{
	if (r->made && id != AIDX_NONE && bit(r->made, id))
		return 0;
	if (r->nmade >= r->max_files)
		return err_set(e, ERR_INVALID,
			       "more than %llu files (--sysroot-max-files): what was written stays",
			       (unsigned long long)r->max_files);
	if (r->made && id != AIDX_NONE)
		bit_set(r->made, id);
	r->nmade++;
	return 0;
}

static int add_bytes(struct sr *r, uint64_t n, struct err *e)
{
	if (n > r->max_bytes - r->bytes)
		return err_set(e, ERR_INVALID,
			       "more than %llu bytes (--sysroot-max-bytes): what was written stays",
			       (unsigned long long)r->max_bytes);
	r->bytes += n;
	return 0;
}

static int make_dir(struct sr *r, const char *path, const struct aidx_entry *ae, struct err *e)
{
	if (count_file(r, AIDX_NONE, e) < 0)
		return -1;
	const char *base;
	_cleanup_close_ int pfd = sr_parent(r, path, &base, e);
	if (pfd < 0)
		return -1;
	if (mkdirat(pfd, base, 0700) < 0)
		return err_sys(e, errno, "mkdir '%.200s'", path);
	_cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "open '%.200s'", path);
	mode_t m = ae->implicit ? 0755 : (ae->mode & 0777);
	if (fchmod(fd, m | 0700) < 0)
		return err_sys(e, errno, "chmod '%.200s'", path);
	if (ae->mode & 07000)
		r->setid++;
	r->dirs++;
	return 0;
}

/* A new regular file (an earlier one of that name removed): its fd. */
static int file_create(struct sr *r, const char *path, int *pfd_out, const char **base,
		       struct err *e)
{
	int pfd = sr_parent(r, path, base, e);
	if (pfd < 0)
		return -1;
	if (unlinkat(pfd, *base, 0) < 0 && errno != ENOENT) {
		err_sys(e, errno, "remove '%.200s'", path);
		close(pfd);
		return -1;
	}
	int fd = openat(pfd, *base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_sys(e, errno, "create '%.200s'", path);
		close(pfd);
		return -1;
	}
	*pfd_out = pfd;
	return fd;
}

static int pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	const char *p = buf;
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* The file's end: its size (a trailing hole), its mode, its hash against
 * the index's: kept and marked done, or removed. */
static int file_finish(struct sr *r, aidx_id id, const char *path, int fd, int pfd,
		       const char *base, const struct aidx_entry *ae, struct hasher *h,
		       uint64_t pos, struct err *e)
{
	if (pos < ae->size) {
		hasher_zeros(h, ae->size - pos);
		if (ftruncate(fd, (off_t)ae->size) < 0)
			return err_sys(e, errno, "truncate '%.200s'", path);
	}
	if (fchmod(fd, (ae->mode & 0777) | 0600) < 0)
		return err_sys(e, errno, "chmod '%.200s'", path);
	unsigned char md[32];
	hasher_final(h, md);
	if (ae->has_sha256 && memcmp(md, ae->sha256, 32) != 0) {
		/* not the final content (a later entry of the path, or a copy) */
		if (unlinkat(pfd, base, 0) < 0)
			return err_sys(e, errno, "remove '%.200s'", path);
		return 0;
	}
	bit_set(r->done, id);
	return 0;
}

/* ---- regular files from a layer's tar ---- */

struct content_ctx {
	struct sr *r;
	uint16_t layer;
};

/* The current entry's data into fd at its offsets (holes left as holes),
 * hashed; *pos its end. 1 when it would pass `limit` bytes (the write
 * stops there), -1 on a read or write error. */
static int entry_data(struct archive *a, int fd, struct hasher *h, uint64_t limit, uint64_t *pos,
		      const char *path, struct err *e)
{
	*pos = 0;
	for (;;) {
		const void *buf;
		size_t n;
		la_int64_t off;
		int ar = archive_read_data_block(a, &buf, &n, &off);
		if (ar == ARCHIVE_EOF)
			return 0;
		if (ar < ARCHIVE_WARN)
			return err_set(e, ERR_INVALID, "'%.200s': %s", path,
				       archive_error_string(a));
		if (off < 0 || (uint64_t)off < *pos)
			return err_set(e, ERR_INVALID, "'%.200s': bad data offset", path);
		if ((uint64_t)off > limit || n > limit - (uint64_t)off)
			return 1;
		hasher_zeros(h, (uint64_t)off - *pos);
		hasher_update(h, buf, n);
		if (pwrite_all(fd, buf, n, (uint64_t)off) < 0)
			return err_sys(e, errno, "write '%.200s'", path);
		*pos = (uint64_t)off + n;
	}
}

static int write_entry(struct sr *r, aidx_id id, const char *path, const struct aidx_entry *ae,
		       struct archive *a, struct err *e)
{
	if (count_file(r, id, e) < 0)
		return -1;
	const char *base;
	_cleanup_close_ int pfd = -1;
	_cleanup_close_ int fd = file_create(r, path, &pfd, &base, e);
	if (fd < 0)
		return -1;
	struct hasher *h = hasher_new();
	uint64_t pos = 0;
	int rc = entry_data(a, fd, h, r->max_bytes - r->bytes, &pos, path, e);
	if (rc > 0)
		rc = add_bytes(r, UINT64_MAX, e); /* the bound's error */
	if (rc == 0)
		rc = add_bytes(r, pos > ae->size ? pos : ae->size, e);
	if (rc == 0)
		rc = file_finish(r, id, path, fd, pfd, base, ae, h, pos, e);
	else
		unlinkat(pfd, base, 0); /* a partial file is not left */
	hasher_free(h);
	return rc;
}

static int content_fn(struct archive *a, uint16_t layer, void *ctx, struct err *e)
{
	struct sr *r = ctx;
	struct archive_entry *ent;
	int ar;
	char path[AN_PATH_MAX];
	while ((ar = archive_read_next_header(a, &ent)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		const char *raw = archive_entry_pathname(ent);
		struct err ne = {0};
		if (!raw || archive_entry_hardlink(ent) ||
		    archive_entry_filetype(ent) != AE_IFREG || an_path_norm(raw, path, &ne) < 0)
			continue;
		aidx_id id = aidx_lookup(r->fin, path);
		if (id == AIDX_NONE || bit(r->done, id))
			continue;
		struct aidx_entry ae;
		aidx_get(r->fin, id, &ae);
		if (ae.type != AENT_FILE || ae.layer != layer)
			continue;
		if (write_entry(r, id, path, &ae, a, e) < 0)
			return -1;
	}
	if (ar != ARCHIVE_EOF)
		return err_set(e, ERR_INVALID, "%s",
			       archive_error_string(a) ? archive_error_string(a) : "unreadable");
	return 0;
}

static int bag_content_fn(struct archive *a, void *ctx, struct err *e)
{
	struct content_ctx *cc = ctx;
	return content_fn(a, cc->layer, cc->r, e);
}

/* ---- files given by hash (hard links): copied from one written ---- */

struct shatab {
	aidx_id *slot;
	size_t mask;
};

static size_t sha_hash(const unsigned char *s)
{
	size_t h;
	memcpy(&h, s, sizeof(h));
	return h;
}

static aidx_id shatab_find(struct sr *r, const struct shatab *t, const unsigned char *sha)
{
	struct aidx_entry ae;
	for (size_t i = sha_hash(sha) & t->mask; t->slot[i] != AIDX_NONE; i = (i + 1) & t->mask) {
		aidx_get(r->fin, t->slot[i], &ae);
		if (!memcmp(ae.sha256, sha, 32))
			return t->slot[i];
	}
	return AIDX_NONE;
}

/* The files of fin with a hash that are written (done) or not. */
static void shatab_build(struct sr *r, struct shatab *t, bool done)
{
	size_t cap = aidx_capacity(r->fin), n = 16;
	while (n < 2 * cap + 2)
		n *= 2;
	t->slot = xmalloc(n * sizeof(*t->slot));
	for (size_t i = 0; i < n; i++)
		t->slot[i] = AIDX_NONE;
	t->mask = n - 1;
	struct aidx_entry ae;
	for (aidx_id id = 1; id < cap; id++) {
		if (bit(r->done, id) != done)
			continue;
		aidx_get(r->fin, id, &ae);
		if (ae.type != AENT_FILE || !ae.has_sha256)
			continue;
		if (!done && shatab_find(r, t, ae.sha256) != AIDX_NONE)
			continue; /* one of each content is enough */
		size_t i = sha_hash(ae.sha256) & t->mask;
		while (t->slot[i] != AIDX_NONE)
			i = (i + 1) & t->mask;
		t->slot[i] = id;
	}
}

static int copy_file(struct sr *r, aidx_id from, aidx_id to, const struct aidx_entry *ae,
		     struct err *e)
{
	char src[AN_PATH_MAX];
	if (aidx_path(r->fin, from, src, sizeof(src)) >= sizeof(src) ||
	    aidx_path(r->fin, to, r->path, sizeof(r->path)) >= sizeof(r->path))
		return err_set(e, ERR_INVALID, "a path longer than %u bytes", AN_PATH_MAX);
	if (count_file(r, to, e) < 0)
		return -1;
	const char *sbase;
	_cleanup_close_ int spfd = sr_parent(r, src, &sbase, e);
	if (spfd < 0)
		return -1;
	_cleanup_close_ int in = openat(spfd, sbase, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode))
		return err_sys(e, in < 0 ? errno : EINVAL, "open '%.200s'", src);
	const char *base;
	_cleanup_close_ int pfd = -1;
	_cleanup_close_ int fd = file_create(r, r->path, &pfd, &base, e);
	if (fd < 0)
		return -1;
	struct hasher *h = hasher_new();
	uint64_t pos = 0;
	int rc = 0;
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_sys(e, errno, "read '%.200s'", src);
			break;
		}
		if (n == 0)
			break;
		if (add_bytes(r, (uint64_t)n, e) < 0) {
			rc = -1;
			break;
		}
		hasher_update(h, buf, (size_t)n);
		if (pwrite_all(fd, buf, (size_t)n, pos) < 0) {
			rc = err_sys(e, errno, "write '%.200s'", r->path);
			break;
		}
		pos += (uint64_t)n;
	}
	if (rc == 0)
		rc = file_finish(r, to, r->path, fd, pfd, base, ae, h, pos, e);
	else
		unlinkat(pfd, base, 0);
	hasher_free(h);
	if (rc == 0 && bit(r->done, to))
		r->copied++;
	return rc;
}

static int copies(struct sr *r, bool last, struct err *e)
{
	struct shatab t;
	shatab_build(r, &t, true);
	int rc = 0;
	struct aidx_entry ae;
	size_t cap = aidx_capacity(r->fin);
	for (aidx_id id = 1; id < cap && rc == 0; id++) {
		if (bit(r->done, id))
			continue;
		aidx_get(r->fin, id, &ae);
		if (ae.type != AENT_FILE || aidx_parent(r->fin, id) == AIDX_NONE)
			continue;
		aidx_id from = ae.has_sha256 ? shatab_find(r, &t, ae.sha256) : AIDX_NONE;
		if (from == AIDX_NONE) {
			if (!last)
				continue;
			r->missing++;
			if (aidx_path(r->fin, id, r->path, sizeof(r->path)) < sizeof(r->path))
				bag_note(&r->nt,
					 "'%.200s': its content is in no layer read, not written",
					 r->path);
			continue;
		}
		rc = copy_file(r, from, id, &ae, e);
	}
	free(t.slot);
	return rc;
}

/* ---- contents the final tree wants by hash, from the image's layers ---- */

struct fallback {
	struct sr *r;
	struct shatab want; /* fin ids not written, one per content */
	uint64_t *sizes;    /* their sizes, sorted */
	size_t nsizes;
};

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A regular entry of a layer whose size a wanted content has: written to
 * an unnamed file in DIR (O_TMPFILE: no name of the tree can clash),
 * hashed, and linked at the path that wants that content, else dropped. */
static int fallback_entry(struct fallback *f, struct archive *a, uint64_t size, struct err *e)
{
	struct sr *r = f->r;
	_cleanup_close_ int fd = openat(r->root, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, errno, "an unnamed file in the sysroot (O_TMPFILE)");
	struct hasher *h = hasher_new();
	uint64_t pos = 0;
	int rc = entry_data(a, fd, h, r->max_bytes - r->bytes, &pos, "an unnamed file", e);
	if (rc > 0) { /* could not be kept: not a candidate */
		pos = UINT64_MAX;
		rc = 0;
	} else if (rc == 0 && pos < size) {
		hasher_zeros(h, size - pos); /* a trailing hole */
	}
	unsigned char md[32];
	hasher_final(h, md);
	hasher_free(h);
	aidx_id to = rc == 0 && pos != UINT64_MAX ? shatab_find(r, &f->want, md) : AIDX_NONE;
	struct aidx_entry ae;
	aidx_get(r->fin, to, &ae);
	if (to == AIDX_NONE || bit(r->done, to) || pos > ae.size ||
	    aidx_path(r->fin, to, r->path, sizeof(r->path)) >= sizeof(r->path) ||
	    count_file(r, to, e) < 0)
		return rc < 0 || (to != AIDX_NONE && e->kind) ? -1 : 0;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	const char *base;
	_cleanup_close_ int pfd = sr_parent(r, r->path, &base, e);
	if (pfd < 0 || add_bytes(r, ae.size, e) < 0 ||
	    (pos < ae.size && ftruncate(fd, (off_t)ae.size) < 0) ||
	    fchmod(fd, (ae.mode & 0777) | 0600) < 0 ||
	    linkat(AT_FDCWD, proc, pfd, base, AT_SYMLINK_FOLLOW) < 0) {
		if (!e->kind)
			err_sys(e, errno, "'%.200s'", r->path);
		return -1;
	}
	bit_set(r->done, to);
	r->byhash++;
	return 0;
}

static int fallback_fn(struct archive *a, uint16_t layer, void *ctx, struct err *e)
{
	(void)layer;
	struct fallback *f = ctx;
	struct archive_entry *ent;
	int ar;
	while ((ar = archive_read_next_header(a, &ent)) == ARCHIVE_OK || ar == ARCHIVE_WARN) {
		if (archive_entry_hardlink(ent) || archive_entry_filetype(ent) != AE_IFREG)
			continue;
		uint64_t sz = archive_entry_size(ent) > 0 ? (uint64_t)archive_entry_size(ent) : 0;
		if (!bsearch(&sz, f->sizes, f->nsizes, sizeof(*f->sizes), u64_cmp))
			continue;
		if (fallback_entry(f, a, sz, e) < 0)
			return -1;
	}
	if (ar != ARCHIVE_EOF)
		return err_set(e, ERR_INVALID, "%s",
			       archive_error_string(a) ? archive_error_string(a) : "unreadable");
	return 0;
}

/* Files not written that an index knows by hash only (a hard link whose
 * target was replaced later, a file the bag's listing left out of its tar,
 * a whole-root layer's files the image has): every image layer is read once
 * more, and each regular entry of a size wanted is hashed (through a
 * temporary file in DIR) and, of a content wanted, renamed into place. */
static int fallback(struct sr *r, struct aimg *img, size_t nl, struct err *e)
{
	struct fallback f = {.r = r};
	shatab_build(r, &f.want, false);
	size_t cap = aidx_capacity(r->fin);
	f.sizes = xcalloc(cap + 1, sizeof(*f.sizes));
	struct aidx_entry ae;
	for (size_t i = 0; i <= f.want.mask; i++) {
		if (f.want.slot[i] == AIDX_NONE)
			continue;
		aidx_get(r->fin, f.want.slot[i], &ae);
		f.sizes[f.nsizes++] = ae.size;
	}
	qsort(f.sizes, f.nsizes, sizeof(*f.sizes), u64_cmp);
	int rc = 0;
	for (size_t i = 0; f.nsizes && i < nl && rc == 0; i++)
		if (aimg_layer_read(img, i, fallback_fn, &f, e) < 0)
			rc = err_wrap(e, "image layer %zu", i);
	free(f.want.slot);
	free(f.sizes);
	return rc;
}

/* ---- the listing's files left out of the bag's tar ---- */

static bool hex_sha(const char *s, unsigned char out[32])
{
	if (!s || strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 32; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + (size_t)k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return false;
		}
		out[i] = (unsigned char)v;
	}
	return true;
}

/* files.json's regular files with "in_tar": false (over max_file_bytes...):
 * the path gets that content (by hash) instead of the image's. Entries
 * named by "parent" and "name" (deep paths) or percent-encoded are a note. */
static void listing_left_out(struct sr *r, const json_t *files, uint16_t layer)
{
	size_t i;
	json_t *j;
	json_array_foreach(json_object_get(files, "entries"), i, j)
	{
		if (!json_is_false(json_object_get(j, "in_tar")))
			continue;
		const char *t = json_string_value(json_object_get(j, "type"));
		if (!t || strcmp(t, "file") != 0)
			continue;
		const char *p = json_string_value(json_object_get(j, "path"));
		struct aidx_entry ae = {.type = AENT_FILE, .layer = layer};
		char path[AN_PATH_MAX];
		struct err ne = {0};
		if (!p || strchr(p, '%') || an_path_norm(p, path, &ne) < 0 ||
		    !hex_sha(json_string_value(json_object_get(j, "sha256")), ae.sha256)) {
			bag_note(&r->nt, "a file left out of the bag's tar (%.200s) not placed",
				 p ? p : "a deep path");
			continue;
		}
		ae.has_sha256 = true;
		const char *ms = json_string_value(json_object_get(j, "mode"));
		if (ms && strlen(ms) <= 6 && strspn(ms, "01234567") == strlen(ms))
			ae.mode = (uint32_t)strtoul(ms, NULL, 8) & 07777;
		json_int_t sz = json_integer_value(json_object_get(j, "size"));
		ae.size = sz > 0 ? (uint64_t)sz : 0;
		aidx_id id;
		if (aidx_set(r->fin, path, &ae, &id, &ne) < 0)
			bag_note(&r->nt, "'%.200s': %s", path, ne.msg);
	}
}

/* ---- overlay metacopy files: the upper holds the metadata, a lower the data ---- */

struct metacopy {
	char path[AN_PATH_MAX];
	unsigned char sha256[32];
	uint64_t size;
};

/* The listing's "metacopy" files the image has as a regular file: their
 * image content (its hash), taken before the bag's layer replaces them. */
static struct metacopy *metacopy_save(struct sr *r, const json_t *files, size_t *n)
{
	struct metacopy *m = NULL;
	size_t cap = 0;
	*n = 0;
	size_t i;
	json_t *j;
	json_array_foreach(json_object_get(files, "entries"), i, j)
	{
		if (!json_is_true(json_object_get(j, "metacopy")))
			continue;
		const char *p = json_string_value(json_object_get(j, "path"));
		char path[AN_PATH_MAX];
		struct err ne = {0};
		struct aidx_entry ie;
		if (!p || strchr(p, '%') || an_path_norm(p, path, &ne) < 0)
			continue;
		aidx_get(r->fin, aidx_lookup(r->fin, path), &ie);
		if (ie.type != AENT_FILE || !ie.has_sha256)
			continue;
		xgrow(&m, &cap, *n + 1, sizeof(*m));
		memcpy(m[*n].path, path, sizeof(path));
		memcpy(m[*n].sha256, ie.sha256, 32);
		m[*n].size = ie.size;
		(*n)++;
	}
	return m;
}

/* ... and given back to the bag layer's entry of that path: its content is
 * then found by hash (a written file, else the image's layers) */
static void metacopy_restore(struct sr *r, const struct metacopy *m, size_t n, uint16_t layer)
{
	for (size_t i = 0; i < n; i++) {
		struct aidx_entry ae;
		aidx_get(r->fin, aidx_lookup(r->fin, m[i].path), &ae);
		if (ae.type != AENT_FILE || ae.layer != layer)
			continue;
		memcpy(ae.sha256, m[i].sha256, 32);
		ae.has_sha256 = true;
		ae.size = m[i].size;
		ae.caps = NULL;
		ae.caps_len = 0;
		aidx_id id;
		struct err ne = {0};
		if (aidx_set(r->fin, m[i].path, &ae, &id, &ne) < 0)
			bag_note(&r->nt, "'%.200s': %s", m[i].path, ne.msg);
	}
}

/* ---- symlinks ---- */

/* The target a link at path gets: target itself when it has no ".." and is
 * relative (it can only go down); else resolved lexically from the link's
 * directory as in a chroot of DIR ("/.." is "/") and written as "../" up to
 * DIR, then down. -1 when too long. */
int asysroot_link_target(const char *path, const char *target, char *out, size_t sz)
{
	bool up = target[0] == '/';
	for (const char *p = target; *p && !up;) {
		const char *s = p;
		while (*p && *p != '/')
			p++;
		if (p - s == 2 && s[0] == '.' && s[1] == '.')
			up = true;
		while (*p == '/')
			p++;
	}
	if (!up) {
		if ((size_t)snprintf(out, sz, "%s", *target ? target : ".") >= sz)
			return -1;
		return 0;
	}
	/* resolve: the link's directory, then the target's components */
	char res[AN_PATH_MAX];
	size_t o = 0, depth = 0;
	const char *slash = strrchr(path, '/');
	if (slash) {
		size_t dl = (size_t)(slash - path);
		if (dl >= sizeof(res))
			return -1;
		for (size_t i = 0; i < dl; i++)
			depth += path[i] == '/';
		depth++;
		if (target[0] != '/') {
			memcpy(res, path, dl);
			o = dl;
		}
	}
	res[o] = 0;
	for (const char *p = target; *p;) {
		const char *s = p;
		while (*p && *p != '/')
			p++;
		size_t n = (size_t)(p - s);
		while (*p == '/')
			p++;
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (o && res[o - 1] != '/')
				o--;
			if (o)
				o--;
			res[o] = 0;
			continue;
		}
		if (o + 1 + n >= sizeof(res))
			return -1;
		if (o)
			res[o++] = '/';
		memcpy(res + o, s, n);
		o += n;
		res[o] = 0;
	}
	size_t w = 0;
	for (size_t i = 0; i < depth; i++) {
		if (w + 3 >= sz)
			return -1;
		memcpy(out + w, i ? "/.." : "..", i ? 3 : 2);
		w += i ? 3 : 2;
	}
	int n = snprintf(out + w, sz - w, "%s%s", w && o ? "/" : "", o ? res : (w ? "" : "."));
	if (n < 0 || (size_t)n >= sz - w)
		return -1;
	return 0;
}

static int make_symlink(struct sr *r, const char *path, const struct aidx_entry *ae, struct err *e)
{
	if (count_file(r, AIDX_NONE, e) < 0)
		return -1;
	char t[AN_PATH_MAX * 2];
	const char *target = ae->link_target ? ae->link_target : "";
	if (asysroot_link_target(path, target, t, sizeof(t)) < 0) {
		bag_note(&r->nt, "'%.200s': link target too long, not written", path);
		return 0;
	}
	if (strcmp(t, target) != 0)
		r->rewritten++;
	const char *base;
	_cleanup_close_ int pfd = sr_parent(r, path, &base, e);
	if (pfd < 0)
		return -1;
	if (symlinkat(t, pfd, base) < 0)
		return err_sys(e, errno, "symlink '%.200s'", path);
	r->symlinks++;
	return 0;
}

/* ---- the tree ---- */

static aidx_id next_preorder(const struct aidx *x, aidx_id id, bool descend)
{
	if (descend) {
		aidx_id c = aidx_first_child(x, id);
		if (c != AIDX_NONE)
			return c;
	}
	while (id != AIDX_ROOT) {
		aidx_id s = aidx_next_sibling(x, id);
		if (s != AIDX_NONE)
			return s;
		id = aidx_parent(x, id);
	}
	return AIDX_NONE;
}

/* Directories (phase 1) or symlinks (phase 4), top down; in phase 1 the
 * other types are counted. */
static int walk(struct sr *r, bool links, uint64_t *need, size_t nlayers, struct err *e)
{
	struct aidx_entry ae;
	for (aidx_id id = next_preorder(r->fin, AIDX_ROOT, true); id != AIDX_NONE;) {
		aidx_get(r->fin, id, &ae);
		if (aidx_path(r->fin, id, r->path, sizeof(r->path)) >= sizeof(r->path)) {
			bag_note(&r->nt, "a path longer than %u bytes, not written", AN_PATH_MAX);
			id = next_preorder(r->fin, id, false);
			continue;
		}
		int rc = 0;
		if (!links && ae.type == AENT_DIR)
			rc = make_dir(r, r->path, &ae, e);
		else if (links && ae.type == AENT_SYMLINK)
			rc = make_symlink(r, r->path, &ae, e);
		else if (!links && ae.type == AENT_FILE) {
			if (ae.mode & 07000)
				r->setid++;
			if (ae.layer < nlayers)
				need[ae.layer]++;
		} else if (!links && ae.type != AENT_SYMLINK)
			r->special++;
		if (rc < 0)
			return err_wrap(e, "'%.200s'", r->path);
		id = next_preorder(r->fin, id, ae.type == AENT_DIR);
	}
	return 0;
}

/* ---- DIR ---- */

int asysroot_dir_check(const char *dir, struct err *e)
{
	struct stat st;
	if (lstat(dir, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, errno, "sysroot '%s'", dir);
	}
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ERR_INVALID, "sysroot '%s' exists and is not a directory", dir);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "sysroot '%s'", dir);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_sys(e, errno, "sysroot '%s'", dir);
	}
	struct dirent *de;
	bool empty = true;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	if (!empty)
		return err_set(e, ERR_INVALID, "sysroot '%s' exists and is not empty", dir);
	return 0;
}

static int dir_open(const char *dir, struct err *e)
{
	if (asysroot_dir_check(dir, e) < 0)
		return -1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_sys(e, errno, "mkdir '%s'", dir);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, errno, "open '%s' (a directory, not a symlink)", dir);
	return fd;
}

struct apply_ctx {
	struct aidx *idx;
	uint16_t layer;
	bool whiteouts;
	json_t *notes;
};

static int apply_fn(struct archive *a, void *ctx, struct err *e)
{
	struct apply_ctx *ac = ctx;
	return aimg_layer_apply(ac->idx, a, ac->layer, ac->whiteouts, ac->notes, e);
}

static json_t *section(const struct sr *r, const char *dir, json_t *notes)
{
	return json_pack("{s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "dir",
			 bag_json_path(dir), "bytes", (json_int_t)r->bytes, "files",
			 (json_int_t)r->files, "directories", (json_int_t)r->dirs, "symlinks",
			 (json_int_t)r->symlinks, "symlinks_rewritten", (json_int_t)r->rewritten,
			 "copies", (json_int_t)r->copied, "found_by_hash", (json_int_t)r->byhash,
			 "special_skipped", (json_int_t)r->special, "setid_cleared",
			 (json_int_t)r->setid, "missing", (json_int_t)r->missing, "max_bytes",
			 (json_int_t)r->max_bytes, "max_files", (json_int_t)r->max_files, "notes",
			 json_incref(notes));
}

static int sr_run(struct sr *r, struct aimg *img, struct abag *b, json_t *notes, struct err *e)
{
	size_t nl = aimg_layer_count(img);
	if (nl >= UINT16_MAX)
		return err_set(e, ERR_INVALID, "%zu layers", nl);
	r->fin = img->idx;
	bool whole = json_is_true(json_object_get(b->files, "whole_root"));
	if (b->has_layer) {
		if (whole)
			r->fin = aidx_new(); /* the layer is the whole root */
		size_t nmeta = 0;
		_cleanup_free_ struct metacopy *meta =
		    whole ? NULL : metacopy_save(r, b->files, &nmeta);
		struct apply_ctx ac = {
		    .idx = r->fin, .layer = (uint16_t)nl, .whiteouts = !whole, .notes = notes};
		if (abag_layer(b, apply_fn, &ac, e) < 0)
			return err_wrap(e, "the bag's layer");
		metacopy_restore(r, meta, nmeta, (uint16_t)nl);
		listing_left_out(r, b->files, (uint16_t)nl);
	} else {
		bag_note(&r->nt, "the bag has no layer (data/fs/upper.tar): the image alone");
	}
	size_t cap = aidx_capacity(r->fin);
	r->done = xcalloc(cap / 8 + 1, 1);
	r->made = xcalloc(cap / 8 + 1, 1);
	_cleanup_free_ uint64_t *need = xcalloc(nl + 1, sizeof(*need));
	if (walk(r, false, need, nl + 1, e) < 0)
		return -1;
	for (size_t i = 0; i < nl; i++) {
		if (!need[i])
			continue; /* none of its files survived: not read */
		if (aimg_layer_read(img, i, content_fn, r, e) < 0)
			return err_wrap(e, "image layer %zu", i);
	}
	if (need[nl]) {
		struct content_ctx cc = {.r = r, .layer = (uint16_t)nl};
		if (abag_layer(b, bag_content_fn, &cc, e) < 0)
			return err_wrap(e, "the bag's layer");
	}
	int rc = copies(r, false, e);
	if (rc == 0)
		rc = fallback(r, img, nl, e);
	if (rc == 0)
		rc = copies(r, true, e);
	for (aidx_id id = 0; id < cap; id++)
		if (bit(r->done, id))
			r->files++;
	return rc < 0 ? -1 : walk(r, true, NULL, 0, e);
}

int asysroot_write(struct aimg *img, struct abag *b, const struct asysroot_opts *o, json_t **out,
		   struct err *e)
{
	*out = NULL;
	json_t *notes = json_array();
	struct sr r = {
	    .o = o,
	    .max_bytes = o->max_bytes ? o->max_bytes : ASYSROOT_MAX_BYTES_DEFAULT,
	    .max_files = o->max_files ? o->max_files : ASYSROOT_MAX_FILES_DEFAULT,
	    .nt = {.arr = notes, .max = SR_NOTES_MAX},
	};
	r.root = dir_open(o->dir, e);
	if (r.root < 0) {
		json_decref(notes);
		return err_wrap(e, "sysroot");
	}
	int rc = sr_run(&r, img, b, notes, e);
	if (rc < 0)
		err_wrap(e, "sysroot '%s'", o->dir);
	bag_notes_end(&r.nt, "left out");
	*out = section(&r, o->dir, notes);
	if (rc < 0)
		json_object_set_new(*out, "error", bag_json_text(e->msg));
	json_decref(notes);
	if (r.fin && r.fin != img->idx)
		aidx_free(r.fin);
	free(r.done);
	free(r.made);
	close(r.root);
	return rc;
}
