/*
 * log.c -- every message pmcd prints goes through here, those about one
 * instance ("web[2]: ...", in_debug, in_info, in_warnx) too.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pmcd.h"

static int	log_timestamps;
static int	log_verbose;
static int	log_journal;	/* stderr is the journal's stream */

/*
 * Under systemd, stderr is a stream to the journal (JOURNAL_STREAM
 * names it): each line then starts with its priority, "<4>", which
 * journald reads and strips, so `journalctl -p warning` finds warnings.
 */
void
log_init(int timestamps, int verbose)
{
	const char	*js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat	 st;

	log_timestamps = timestamps;
	log_verbose = verbose;
	log_journal = js != NULL &&
	    sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/* Detached: stderr is pmcd.log now, which wants timestamps. */
void
log_reinit(int timestamps)
{
	log_init(timestamps, log_verbose);
}

static void
vlog(int prio, const char *fmt, va_list ap, const char *why)
{
	log_vprefix(prio, NULL, fmt, ap, why);
}

void
log_vprefix(int prio, const char *prefix, const char *fmt, va_list ap,
    const char *why)
{
	char		 ts[32];
	struct tm	 tm;
	time_t		 now;

	if (prio == LOG_PRIO_DEBUG && !log_verbose)
		return;
	if (log_journal)
		fprintf(stderr, "<%d>", prio);
	else if (log_timestamps) {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S ", &tm);
		fputs(ts, stderr);
	}
	fputs("pmcd: ", stderr);
	if (prefix != NULL)
		fprintf(stderr, "%s: ", prefix);
	vfprintf(stderr, fmt, ap);
	if (why != NULL)
		fprintf(stderr, ": %s", why);
	fputc('\n', stderr);
	fflush(stderr);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_PRIO_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_PRIO_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_PRIO_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	char	 why[128];

	strlcpy(why, strerror(errno), sizeof(why));
	va_start(ap, fmt);
	vlog(LOG_PRIO_WARNING, fmt, ap, why);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	char	 why[128];

	strlcpy(why, strerror(errno), sizeof(why));
	va_start(ap, fmt);
	vlog(LOG_PRIO_ERR, fmt, ap, why);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_PRIO_ERR, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

/* --- about one instance ------------------------------------------------- */

/* "web[2]": how every message about an instance begins. */
static void
in_vlog(int prio, const struct instance *in, const char *fmt, va_list ap)
{
	char	 prefix[SPEC_NAME_MAX + 16];

	snprintf(prefix, sizeof(prefix), "%s[%d]", in->app->spec->name,
	    in->slot);
	log_vprefix(prio, prefix, fmt, ap, NULL);
}

void
in_debug(const struct instance *in, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	in_vlog(LOG_PRIO_DEBUG, in, fmt, ap);
	va_end(ap);
}

void
in_info(const struct instance *in, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	in_vlog(LOG_PRIO_INFO, in, fmt, ap);
	va_end(ap);
}

void
in_warnx(const struct instance *in, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	in_vlog(LOG_PRIO_WARNING, in, fmt, ap);
	va_end(ap);
}
