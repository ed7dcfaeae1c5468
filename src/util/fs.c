/* fs.c: bounded reads and careful writes. */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "contain/util.h"

int read_fd_bounded(int fd, size_t max, char **buf, size_t *len, bool *truncated,
		    struct err *e)
{
	struct sbuf b = SBUF_INIT;
	char chunk[65536];
	if (truncated)
		*truncated = false;
	sbuf_add(&b, "", 0);
	while (b.len < max) {
		size_t want = sizeof(chunk);
		if (want > max - b.len)
			want = max - b.len;
		ssize_t r = read(fd, chunk, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			sbuf_free(&b);
			return err_sys(e, saved, "read");
		}
		if (r == 0)
			goto done;
		sbuf_add(&b, chunk, (size_t)r);
	}
	/* at the bound: is there more? */
	if (truncated) {
		char c;
		ssize_t r;
		do
			r = read(fd, &c, 1);
		while (r < 0 && errno == EINTR);
		*truncated = r > 0;
	}
done:
	*len = b.len;
	*buf = sbuf_steal(&b);
	return 0;
}

int read_file_at(int dirfd, const char *path, size_t max, char **buf, size_t *len,
		 bool *truncated, struct err *e)
{
	struct stat st;
	/* O_NONBLOCK: a FIFO planted where a file should be must not hang us;
	 * O_PATH first would be stricter, but /proc files need a real open. */
	_cleanup_close_ int pfd = openat(dirfd, path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return err_sys(e, errno, "open '%s'", path);
	if (fstat(pfd, &st) < 0)
		return err_sys(e, errno, "stat '%s'", path);
	if (!S_ISREG(st.st_mode))
		return err_set(e, ERR_INVALID, "'%s' is not a regular file", path);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	_cleanup_close_ int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return err_sys(e, errno, "open '%s'", path);
	if (read_fd_bounded(fd, max, buf, len, truncated, e) < 0)
		return err_wrap(e, "'%s'", path);
	return 0;
}

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t pread_all(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int mkdir_p(const char *path, mode_t mode, struct err *e)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(tmp))
		return err_set(e, ERR_INVALID, "bad directory path '%s'", path);
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return err_sys(e, errno, "mkdir '%s'", tmp);
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return err_sys(e, errno, "mkdir '%s'", tmp);
	struct stat st;
	if (stat(tmp, &st) < 0)
		return err_sys(e, errno, "stat '%s'", tmp);
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ERR_INVALID, "'%s' is not a directory", tmp);
	return 0;
}

int write_file_atomic(const char *path, const void *buf, size_t n, mode_t mode,
		      struct err *e)
{
	char tmp[PATH_MAX];
	int r = snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	if (r < 0 || (size_t)r >= sizeof(tmp))
		return err_set(e, ERR_INVALID, "path too long '%s'", path);
	_cleanup_close_ int fd =
		open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return err_sys(e, errno, "create '%s'", tmp);
	if (write_all(fd, buf, n) < 0 || fsync(fd) < 0) {
		int saved = errno;
		unlink(tmp);
		return err_sys(e, saved, "write '%s'", tmp);
	}
	if (rename(tmp, path) < 0) {
		int saved = errno;
		unlink(tmp);
		return err_sys(e, saved, "rename '%s'", path);
	}
	return 0;
}
