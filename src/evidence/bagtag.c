/* bagtag.c: read one tag file of a bag (a directory or a tar), never
 * extracting anything, never following a link. For readers that want a
 * bag's bag-info.txt without verifying the whole bag (contain audit verify
 * --bag); the bag's own integrity is bag_verify()'s job. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "contain/bag.h"

#define TAG_ENTRIES_MAX 10000000u

static int tag_read_dir(const char *bag, const char *name, size_t max, char **buf,
			size_t *len, struct err *e)
{
	_cleanup_close_ int dfd = open(bag, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_sys(e, errno, "open '%s'", bag);
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return err_set(e, ERR_NOTFOUND, "'%s' has no %s", bag, name);
		return err_sys(e, errno, "open '%s/%s'", bag, name);
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return err_sys(e, errno, "stat '%s/%s'", bag, name);
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "'%s/%s' is not a regular file", bag, name);
	bool trunc = false;
	if (read_fd_bounded(fd, max, buf, len, &trunc, e) < 0)
		return err_wrap(e, "'%s/%s'", bag, name);
	if (trunc) {
		free(*buf);
		*buf = NULL;
		return err_set(e, ERR_INVALID, "'%s/%s' is larger than %zu bytes", bag, name, max);
	}
	return 0;
}

int bag_tar_open(const char *path, const char *name, struct archive **out, struct err *e)
{
	struct archive *a = archive_read_new();
	if (!a)
		return err_set(e, ERR_SYS, "archive_read_new failed");
	/* the forms a bag is written in, nothing else; ARCHIVE_WARN: this
	 * libarchive would run an external gzip or zstd */
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(a) != ARCHIVE_OK) {
		archive_read_free(a);
		return err_set(e, ERR_UNSUPP,
			       "read '%s': this libarchive lacks built-in gzip or zstd (no external "
			       "program is ever run)",
			       name);
	}
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 1 << 20) != ARCHIVE_OK) {
		err_set(e, ERR_INVALID, "read '%s': %s", name, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	*out = a;
	return 0;
}

const char *bag_tar_below_top(const char *p)
{
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	const char *slash = strchr(p, '/');
	if (!slash || slash == p)
		return NULL;
	return slash + 1;
}

static int read_entry(struct archive *a, const char *bag, const char *name, size_t max,
		      struct sbuf *out, struct err *e)
{
	char chunk[65536];
	for (;;) {
		la_ssize_t got = archive_read_data(a, chunk, sizeof(chunk));
		if (got < 0)
			return err_set(e, ERR_INVALID, "read '%s' in '%s': %s", name, bag,
				       archive_error_string(a));
		if (got == 0)
			return 0;
		if ((size_t)got > max - out->len)
			return err_set(e, ERR_INVALID, "'%s' in '%s' is larger than %zu bytes", name,
				       bag, max);
		sbuf_add(out, chunk, (size_t)got);
	}
}

static int tag_read_tar(const char *bag, const char *name, size_t max, char **buf,
			size_t *len, struct err *e)
{
	struct archive *a;
	if (bag_tar_open(bag, bag, &a, e) < 0)
		return -1;
	struct sbuf found = SBUF_INIT;
	bool have = false;
	int rc = 0;
	for (unsigned n = 0;; n++) {
		struct archive_entry *ae;
		int r = archive_read_next_header(a, &ae);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = err_set(e, ERR_INVALID, "read '%s': %s", bag, archive_error_string(a));
			goto out;
		}
		if (n >= TAG_ENTRIES_MAX) {
			rc = err_set(e, ERR_INVALID, "'%s' has more than %u entries", bag,
				     TAG_ENTRIES_MAX);
			goto out;
		}
		const char *p = archive_entry_pathname(ae);
		const char *rel = p ? bag_tar_below_top(p) : NULL;
		if (!rel || strcmp(rel, name) != 0)
			continue; /* the next header skips its data */
		if (archive_entry_filetype(ae) != AE_IFREG || archive_entry_hardlink(ae)) {
			rc = err_set(e, ERR_INVALID, "'%s' in '%s' is not a regular file", name, bag);
			goto out;
		}
		if (have) {
			rc = err_set(e, ERR_INVALID, "'%s' is in '%s' twice", name, bag);
			goto out;
		}
		have = true;
		if (read_entry(a, bag, name, max, &found, e) < 0) {
			rc = -1;
			goto out;
		}
	}
	if (!have) {
		rc = err_set(e, ERR_NOTFOUND, "'%s' has no %s", bag, name);
		goto out;
	}
	*len = found.len;
	*buf = sbuf_steal(&found);
out:
	sbuf_free(&found);
	archive_read_free(a);
	return rc;
}

int bag_tag_read(const char *bag, const char *name, size_t max, char **buf, size_t *len,
		 struct err *e)
{
	struct stat st;
	*buf = NULL;
	*len = 0;
	if (strchr(name, '/') || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return err_set(e, ERR_INVALID, "bad tag file name '%s'", name);
	if (stat(bag, &st) < 0)
		return err_sys(e, errno, "stat '%s'", bag);
	if (S_ISDIR(st.st_mode))
		return tag_read_dir(bag, name, max, buf, len, e);
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "'%s' is not a bag (a directory or a tar)", bag);
	return tag_read_tar(bag, name, max, buf, len, e);
}
