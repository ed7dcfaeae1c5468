/* sink.c: the byte sinks collectors write through. */
#include <string.h>

#include "contain/util.h"

int sink_write(const struct sink *s, const void *buf, size_t n, struct err *e)
{
	if (n == 0)
		return 0;
	return s->write(s->ctx, buf, n, e);
}

int sink_hole(const struct sink *s, uint64_t n, struct err *e)
{
	static const char zeros[65536];
	if (n == 0)
		return 0;
	if (s->hole)
		return s->hole(s->ctx, n, e);
	while (n) {
		size_t k = n > sizeof(zeros) ? sizeof(zeros) : (size_t)n;
		if (s->write(s->ctx, zeros, k, e) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

static int fd_write(void *ctx, const void *buf, size_t n, struct err *e)
{
	int fd = *(int *)ctx;
	if (write_all(fd, buf, n) < 0)
		return err_sys(e, errno, "write");
	return 0;
}

static int fd_hole(void *ctx, uint64_t n, struct err *e)
{
	int fd = *(int *)ctx;
	if (n > INT64_MAX)
		return err_set(e, ERR_INVALID, "hole too large");
	off_t cur = lseek(fd, 0, SEEK_CUR);
	if (cur < 0) {
		struct sink s = {fd_write, NULL, ctx};
		return sink_hole(&s, n, e);
	}
	off_t end;
	if (__builtin_add_overflow(cur, (off_t)n, &end))
		return err_set(e, ERR_INVALID, "hole too large");
	/* extend the file so a trailing hole is kept */
	if (ftruncate(fd, end) < 0)
		return err_sys(e, errno, "ftruncate");
	if (lseek(fd, end, SEEK_SET) < 0)
		return err_sys(e, errno, "lseek");
	return 0;
}

struct sink sink_fd(int *fd)
{
	struct sink s = {fd_write, fd_hole, fd};
	return s;
}

static int sbuf_write(void *ctx, const void *buf, size_t n, struct err *e)
{
	(void)e;
	sbuf_add((struct sbuf *)ctx, buf, n);
	return 0;
}

struct sink sink_sbuf(struct sbuf *b)
{
	struct sink s = {sbuf_write, NULL, b};
	return s;
}
