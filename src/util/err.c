/* err.c: struct err, filled by library code, printed by main and cmd_*. */
#include <stdio.h>
#include <string.h>

#include "contain/util.h"

static int err_vset(struct err *e, enum err_kind kind, int errnum, const char *fmt,
		    va_list ap)
{
	if (!e)
		return -1;
	e->kind = kind;
	e->errnum = errnum;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return -1;
}

int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, kind, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int err_sys(struct err *e, int errnum, const char *fmt, ...)
{
	va_list ap;
	if (!e)
		return -1;
	va_start(ap, fmt);
	err_vset(e, ERR_SYS, errnum, fmt, ap);
	va_end(ap);
	size_t l = strlen(e->msg);
	if (l < sizeof(e->msg))
		snprintf(e->msg + l, sizeof(e->msg) - l, ": %s", strerror(errnum));
	return -1;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	char prefix[1024], old[sizeof(e->msg)];
	va_list ap;
	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	/* truncation is acceptable here: the newest context comes first */
	size_t pl = strlen(prefix);
	if (pl > sizeof(e->msg) - 3)
		pl = sizeof(e->msg) - 3;
	memcpy(e->msg, prefix, pl);
	memcpy(e->msg + pl, ": ", 2);
	size_t ol = strnlen(old, sizeof(old) - 1);
	if (ol > sizeof(e->msg) - pl - 3)
		ol = sizeof(e->msg) - pl - 3;
	memcpy(e->msg + pl + 2, old, ol);
	e->msg[pl + 2 + ol] = '\0';
	return -1;
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->kind = ERR_NONE;
	e->errnum = 0;
	e->msg[0] = '\0';
}

int err_exit_code(const struct err *e)
{
	switch (e->kind) {
	case ERR_NONE:
		return EXIT_OK;
	case ERR_NOTFOUND:
	case ERR_WRONGSTATE:
		return EXIT_FOUND;
	case ERR_AMBIG:
		return EXIT_USAGE;
	case ERR_INVALID:
	case ERR_UNSUPP:
	case ERR_SYS:
	default:
		return EXIT_SYS;
	}
}
