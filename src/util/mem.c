/* mem.c: allocation that checks for overflow and aborts on exhaustion
 * (git's xmalloc/st_mult): a forensic tool out of memory cannot go on
 * truthfully, and a NULL passed on is worse than a clear stop. */
#include <stdio.h>
#include <string.h>

#include "contain/util.h"

static void oom(size_t n)
{
	fprintf(stderr, "contain: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(n, size, &total))
		oom(SIZE_MAX);
	return xrealloc(p, total);
}

char *xstrdup(const char *s)
{
	char *r = strdup(s ? s : "");
	if (!r)
		oom(strlen(s));
	return r;
}

char *xstrndup(const char *s, size_t n)
{
	char *r = strndup(s, n);
	if (!r)
		oom(n);
	return r;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *r;
	va_start(ap, fmt);
	if (vasprintf(&r, fmt, ap) < 0)
		oom(0);
	va_end(ap);
	return r;
}

void xgrow(void *arr, size_t *cap, size_t need, size_t size)
{
	void **a = (void **)arr;
	if (need <= *cap)
		return;
	size_t nc = *cap ? *cap : 8;
	while (nc < need) {
		if (__builtin_mul_overflow(nc, 2, &nc))
			oom(SIZE_MAX);
	}
	*a = xreallocarray(*a, nc, size);
	*cap = nc;
}

/* ---- sbuf ---- */

void sbuf_add(struct sbuf *b, const void *p, size_t n)
{
	size_t need;
	if (__builtin_add_overflow(b->len, n, &need) || __builtin_add_overflow(need, 1, &need))
		oom(SIZE_MAX);
	xgrow(&b->buf, &b->cap, need, 1);
	if (n)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void sbuf_adds(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void sbuf_addc(struct sbuf *b, char c)
{
	sbuf_add(b, &c, 1);
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	sbuf_add(b, s, (size_t)n);
	free(s);
}

void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->buf)
		b->buf[0] = '\0';
}

void sbuf_free(struct sbuf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
}

char *sbuf_steal(struct sbuf *b)
{
	char *r = b->buf ? b->buf : xstrdup("");
	b->buf = NULL;
	b->len = b->cap = 0;
	return r;
}

int memcmp_ct(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}
