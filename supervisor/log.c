/*
 * log.c -- every message pmcd prints goes through here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static int	log_timestamps;

void
log_init(int timestamps)
{
	log_timestamps = timestamps;
}

static void
vlog(const char *fmt, va_list ap, const char *why)
{
	char		 ts[32];
	struct tm	 tm;
	time_t		 now;

	if (log_timestamps) {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S ", &tm);
		fputs(ts, stderr);
	}
	fputs("pmcd: ", stderr);
	vfprintf(stderr, fmt, ap);
	if (why != NULL)
		fprintf(stderr, ": %s", why);
	fputc('\n', stderr);
	fflush(stderr);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	char	 why[128];

	strlcpy(why, strerror(errno), sizeof(why));
	va_start(ap, fmt);
	vlog(fmt, ap, why);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	char	 why[128];

	strlcpy(why, strerror(errno), sizeof(why));
	va_start(ap, fmt);
	vlog(fmt, ap, why);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
