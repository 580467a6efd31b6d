/*
 * log.h -- pmcd's own messages, on stderr (the journal, a container's
 * log, or $PMC_HOME/pmcd.log when detached).
 */
#ifndef PMCD_LOG_H
#define PMCD_LOG_H

#include <stdarg.h>

/* syslog(3)'s numbers, as journald reads them. */
enum { LOG_PRIO_ERR = 3, LOG_PRIO_WARNING = 4, LOG_PRIO_INFO = 6,
    LOG_PRIO_DEBUG = 7 };

void	log_init(int timestamps, int verbose);
void	log_reinit(int timestamps);	/* stderr changed */
/* "pmcd: prefix: message[: why]" at a priority; prefix may be NULL. */
void	log_vprefix(int prio, const char *prefix, const char *fmt,
	    va_list, const char *why);
void	log_debug(const char *, ...)		/* only when verbose */
	    __attribute__((__format__(__printf__, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	log_warn(const char *, ...)		/* appends strerror(errno) */
	    __attribute__((__format__(__printf__, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2), __noreturn__));
void	fatalx(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2), __noreturn__));

#endif /* PMCD_LOG_H */
