/*
 * log.h -- pmcd's own messages, on stderr (the journal, a container's
 * log, or $PMC_HOME/pmcd.log when detached).
 */
#ifndef PMCD_LOG_H
#define PMCD_LOG_H

void	log_init(int timestamps);
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
