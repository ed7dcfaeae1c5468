/* log.c: the one printer. Everything the tool says on stderr goes here. */
#include <stdio.h>

#include "contain/util.h"

static int verbosity;
static unsigned warn_count;

void log_set_verbosity(int v)
{
	verbosity = v;
}

int log_verbosity(void)
{
	return verbosity;
}

unsigned log_warn_count(void)
{
	return warn_count;
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	fputs("contain: ", stderr);
	if (prefix)
		fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(NULL, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	warn_count++;
	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	vlog(NULL, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;
	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

void log_err(const struct err *e)
{
	log_error("%s", e->msg[0] ? e->msg : "unknown error");
}
