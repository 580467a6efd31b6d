/*
 * fuzz-cron.c -- config/cron.c on any text, as cron_restart reaches it.
 *
 * Input: 4 bytes pick the time to start from, the rest is the schedule.
 * Invariants: a refused schedule names a place inside it; for one that
 * is taken, the next time is after the start, on a whole minute, within
 * five years, and its local minute, hour, month and day are ones the
 * schedule has (the day by cron's either-day rule).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cron	 c;
	struct tm	 tm;
	const char	*why;
	char		*s;
	size_t		 at;
	time_t		 from, t;
	int		 m, w;

	if (size < 4)
		return (0);
	from = (time_t)((uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
	    (uint32_t)data[2] << 8 | data[3]);
	CHECK((s = malloc(size - 3)) != NULL);
	memcpy(s, data + 4, size - 4);
	s[size - 4] = '\0';
	if (cron_parse(s, &c, &at, &why) == -1) {
		CHECK(at <= strlen(s));
		CHECK(why != NULL && *why != '\0');
		free(s);
		return (0);
	}
	if ((t = cron_next(&c, from)) != (time_t)-1) {
		CHECK(t > from);
		CHECK(t % 60 == 0);
		CHECK(t - from <= (time_t)86400 * 366 * 5 + 86400);
		CHECK(localtime_r(&t, &tm) != NULL);
		CHECK((c.minute >> tm.tm_min) & 1);
		CHECK((c.hour >> tm.tm_hour) & 1);
		CHECK((c.month >> (tm.tm_mon + 1)) & 1);
		m = (c.mday >> tm.tm_mday) & 1;
		w = (c.wday >> tm.tm_wday) & 1;
		CHECK(c.mday_any || c.wday_any ? m && w : m || w);
	}
	free(s);
	return (0);
}
