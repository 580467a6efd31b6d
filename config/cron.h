/*
 * cron.h -- the five fields of a crontab(5) time, for cron_restart:
 * minute, hour, day of month, month, day of week, each "*", a number, a
 * name (jan..dec, sun..sat), a range "a-b", a step "*\/n" or "a-b/n",
 * or a list of those; or one of @yearly @annually @monthly @weekly
 * @daily @midnight @hourly.  As cron does: when both day fields are
 * restricted, a day matching either fires.  Times are local.
 */
#ifndef PMC_CRON_H
#define PMC_CRON_H

#include <stdint.h>
#include <time.h>

struct cron {
	uint64_t	 minute;	/* bit n: minute n */
	uint32_t	 hour;
	uint32_t	 mday;		/* bits 1..31 */
	uint16_t	 month;		/* bits 1..12 */
	uint8_t		 wday;		/* bits 0..6, Sunday 0 */
	int		 mday_any;	/* the field was "*" */
	int		 wday_any;
};

/*
 * Parse s.  0, or -1 with *at the offset in s of what is wrong and
 * *why what was expected there ("a minute from 0 to 59").
 */
int	 cron_parse(const char *s, struct cron *, size_t *at,
	    const char **why);

/*
 * The first time after `after` (whole minutes, local time) that c
 * matches, or (time_t)-1 when none comes within five years (February
 * 30th).  A time that a DST change skips does not fire that day; one it
 * repeats fires once.
 */
time_t	 cron_next(const struct cron *, time_t after);

#endif /* PMC_CRON_H */
