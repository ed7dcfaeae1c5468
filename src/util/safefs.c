/* safefs.c: open inside an attacker-controlled root without leaving it
 * (crun's safe_openat): openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS),
 * falling back to a walk one component at a time with O_NOFOLLOW in which
 * symlinks are resolved by hand against the root. */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "contain/safefs.h"

#define MAX_LINKS 40

static int walk_in_root(int rootfd, const char *path, int flags, int depth, struct err *e);

/* Resolve path component by component; return an O_PATH fd of the last one,
 * or, when flags ask for more than O_PATH, the reopened fd. */
static int walk_in_root(int rootfd, const char *path, int flags, int depth, struct err *e)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof(buf))
		return err_set(e, ERR_INVALID, "path too long");
	memcpy(buf, path, n + 1);

	_cleanup_close_ int cur = openat(rootfd, ".", O_PATH | O_CLOEXEC | O_DIRECTORY);
	if (cur < 0)
		return err_sys(e, errno, "open root");
	/* a stack of directory fds for "..", bounded by path length */
	int stack[PATH_MAX / 2];
	size_t sp = 0;
	char *save = NULL;
	char *comp = strtok_r(buf, "/", &save);
	int ret = -1;
	while (comp) {
		char *next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, ".") == 0) {
			comp = next;
			continue;
		}
		if (strcmp(comp, "..") == 0) {
			if (sp > 0) {
				close(cur);
				cur = stack[--sp];
			}
			comp = next;
			continue;
		}
		int fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			err_sys(e, errno, "open '%s'", comp);
			goto out;
		}
		struct stat st;
		if (fstat(fd, &st) < 0) {
			err_sys(e, errno, "stat '%s'", comp);
			close(fd);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t l = readlinkat(fd, "", target, sizeof(target) - 1);
			close(fd);
			if (l < 0) {
				err_sys(e, errno, "readlink '%s'", comp);
				goto out;
			}
			target[l] = '\0';
			if (depth >= MAX_LINKS) {
				err_set(e, ERR_INVALID, "too many levels of symbolic links");
				goto out;
			}
			/* the rest of the path, after the link's target */
			char rest[PATH_MAX];
			int w;
			if (target[0] == '/') {
				w = snprintf(rest, sizeof(rest), "%s/%s", target,
					     next ? path + (next - buf) : "");
			} else {
				/* relative to the directory we are in: rebuild from the stack
				 * is costly; instead resolve relative to cur by recursing with
				 * cur as a temporary root would let ".." escape to it only, so
				 * build the absolute in-root path from components seen. */
				size_t consumed = (size_t)(comp - buf);
				char prefix[PATH_MAX];
				memcpy(prefix, path, consumed);
				prefix[consumed] = '\0';
				w = snprintf(rest, sizeof(rest), "/%s%s/%s", prefix, target,
					     next ? path + (next - buf) : "");
			}
			if (w < 0 || (size_t)w >= sizeof(rest)) {
				err_set(e, ERR_INVALID, "path too long");
				goto out;
			}
			ret = walk_in_root(rootfd, rest, flags, depth + 1, e);
			goto out;
		}
		if (next && !S_ISDIR(st.st_mode)) {
			close(fd);
			err_sys(e, ENOTDIR, "open '%s'", comp);
			goto out;
		}
		if (sp < ARRAY_SIZE(stack)) {
			stack[sp++] = cur;
		} else {
			close(cur);
		}
		cur = fd;
		comp = next;
	}
	if ((flags & O_PATH) || (flags & (O_ACCMODE | O_DIRECTORY)) == 0) {
		ret = steal_fd(&cur);
	} else {
		ret = fd_reopen(cur, flags & ~O_NOFOLLOW, e);
	}
out:
	while (sp > 0)
		close(stack[--sp]);
	return ret;
}

int fd_reopen(int fd, int flags, struct err *e)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int r = open(proc, flags | O_CLOEXEC);
	if (r < 0)
		return err_sys(e, errno, "reopen");
	return r;
}

int safe_open_in_root(int rootfd, const char *path, int flags, struct err *e)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *p = path;
	while (*p == '/')
		p++;
	if (!*p)
		p = ".";
	long fd;
	/* EAGAIN: a mount or rename anywhere on the system raced the
	 * RESOLVE_IN_ROOT lookup (openat2(2)); it is safe to retry */
	int tries = 0;
	do
		fd = syscall(SYS_openat2, rootfd, p, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN && ++tries < 64);
	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS && errno != EPERM && errno != E2BIG)
		return err_sys(e, errno, "open '%s' in root", path);
	int r = walk_in_root(rootfd, p, flags, 0, e);
	if (r < 0)
		return err_wrap(e, "open '%s' in root", path);
	return r;
}

int safe_open_regular_in_root(int rootfd, const char *path, struct stat *st, struct err *e)
{
	struct stat tmp;
	if (!st)
		st = &tmp;
	_cleanup_close_ int pfd = safe_open_in_root(rootfd, path, O_PATH, e);
	if (pfd < 0)
		return -1;
	if (fstat(pfd, st) < 0)
		return err_sys(e, errno, "stat '%s'", path);
	if (!S_ISREG(st->st_mode))
		return err_set(e, ERR_INVALID, "'%s' is not a regular file (mode %o), not read",
			       path, (unsigned)(st->st_mode & S_IFMT));
	int fd = fd_reopen(pfd, O_RDONLY | O_NONBLOCK, e);
	if (fd < 0)
		return err_wrap(e, "'%s'", path);
	return fd;
}

int safe_read_in_root(int rootfd, const char *path, size_t max, char **buf, size_t *len,
		      bool *truncated, struct err *e)
{
	_cleanup_close_ int fd = safe_open_regular_in_root(rootfd, path, NULL, e);
	if (fd < 0)
		return -1;
	if (read_fd_bounded(fd, max, buf, len, truncated, e) < 0)
		return err_wrap(e, "'%s'", path);
	return 0;
}
