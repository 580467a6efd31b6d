/*
 * cron.c -- crontab(5) times (see cron.h).
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "cron.h"

static const struct {
	const char	*name;
	int		 lo, hi;
	const char	*expect;
} fields[5] = {
	{ "minute", 0, 59, "a minute from 0 to 59" },
	{ "hour", 0, 23, "an hour from 0 to 23" },
	{ "day of month", 1, 31, "a day of the month from 1 to 31" },
	{ "month", 1, 12, "a month from 1 to 12 or jan to dec" },
	{ "day of week", 0, 7, "a day of the week from 0 to 7 or sun to sat" },
};

static const char *const months[] = { "jan", "feb", "mar", "apr", "may",
	"jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const days[] = { "sun", "mon", "tue", "wed", "thu",
	"fri", "sat" };

static const struct {
	const char	*word;
	const char	*is;
} shorthands[] = {
	{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

struct parse {
	const char	*s, *p;
	const char	*bad;
	const char	*why;
};

static int
fail(struct parse *ps, const char *at, const char *why)
{
	ps->bad = at;
	ps->why = why;
	return (-1);
}

/* A number or (months, days) a name of field f at ps->p into *v. */
static int
value(struct parse *ps, int f, int *v)
{
	const char	*start = ps->p;
	long		 n = 0;
	size_t		 i;

	if (isdigit((unsigned char)*ps->p)) {
		while (isdigit((unsigned char)*ps->p) && n < 1000)
			n = n * 10 + (*ps->p++ - '0');
		if (n < fields[f].lo || n > fields[f].hi)
			return (fail(ps, start, fields[f].expect));
		*v = (int)n;
		return (0);
	}
	for (i = 0; f == 3 && i < 12; i++)
		if (strncasecmp(ps->p, months[i], 3) == 0) {
			ps->p += 3;
			*v = (int)i + 1;
			return (0);
		}
	for (i = 0; f == 4 && i < 7; i++)
		if (strncasecmp(ps->p, days[i], 3) == 0) {
			ps->p += 3;
			*v = (int)i;
			return (0);
		}
	return (fail(ps, start, fields[f].expect));
}

/* One field at ps->p: its bits into *bits; *any when it is "*". */
static int
field(struct parse *ps, int f, uint64_t *bits, int *any)
{
	const char	*start;
	int		 lo, hi, step, v;
	long		 n;

	*bits = 0;
	*any = strncmp(ps->p, "*", 1) == 0 && (ps->p[1] == ' ' ||
	    ps->p[1] == '\t' || ps->p[1] == '\0');
	for (;;) {
		start = ps->p;
		step = 1;
		if (*ps->p == '*') {
			ps->p++;
			lo = fields[f].lo;
			hi = fields[f].hi;
		} else {
			if (value(ps, f, &lo) == -1)
				return (-1);
			hi = lo;
			if (*ps->p == '-') {
				ps->p++;
				if (value(ps, f, &hi) == -1)
					return (-1);
				if (hi < lo)
					return (fail(ps, start, "a range whose "
					    "end is not before its start"));
			}
		}
		if (*ps->p == '/') {
			start = ++ps->p;
			for (n = 0; isdigit((unsigned char)*ps->p) && n < 1000;
			    ps->p++)
				n = n * 10 + (*ps->p - '0');
			if (ps->p == start || n < 1 || n > fields[f].hi)
				return (fail(ps, start, "a step from 1 up"));
			step = (int)n;
		}
		for (v = lo; v <= hi; v += step)
			*bits |= (uint64_t)1 << (f == 4 && v == 7 ? 0 : v);
		if (*ps->p != ',')
			break;
		ps->p++;
	}
	if (*ps->p != '\0' && *ps->p != ' ' && *ps->p != '\t')
		return (fail(ps, ps->p, *ps->p == '-' || *ps->p == '/' ?
		    fields[f].expect : "',', a space or the end"));
	return (0);
}

int
cron_parse(const char *s, struct cron *c, size_t *at, const char **why)
{
	struct parse	 ps = { s, s, NULL, NULL };
	uint64_t	 bits[5];
	int		 any[5], f;
	size_t		 i;

	while (*ps.p == ' ' || *ps.p == '\t')
		ps.p++;
	if (*ps.p == '@') {
		for (i = 0; i < sizeof(shorthands) / sizeof(shorthands[0]); i++)
			if (strcmp(ps.p, shorthands[i].word) == 0)
				return (cron_parse(shorthands[i].is, c, at,
				    why));
		fail(&ps, ps.p, "@yearly, @monthly, @weekly, @daily or "
		    "@hourly");
		goto bad;
	}
	for (f = 0; f < 5; f++) {
		while (*ps.p == ' ' || *ps.p == '\t')
			ps.p++;
		if (*ps.p == '\0') {
			fail(&ps, ps.p, f == 0 ? "five fields: minute hour "
			    "day-of-month month day-of-week" : fields[f].expect);
			goto bad;
		}
		if (field(&ps, f, &bits[f], &any[f]) == -1)
			goto bad;
	}
	while (*ps.p == ' ' || *ps.p == '\t')
		ps.p++;
	if (*ps.p != '\0') {
		fail(&ps, ps.p, "the end after five fields");
		goto bad;
	}
	memset(c, 0, sizeof(*c));
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->mday = (uint32_t)bits[2];
	c->month = (uint16_t)bits[3];
	c->wday = (uint8_t)bits[4];
	c->mday_any = any[2];
	c->wday_any = any[4];
	if (cron_next(c, 0) == (time_t)-1) {
		ps.bad = s;
		ps.why = "a day that comes (this one never does)";
		goto bad;
	}
	return (0);
bad:
	if (at != NULL)
		*at = (size_t)(ps.bad - s);
	if (why != NULL)
		*why = ps.why;
	return (-1);
}

static int
day_ok(const struct cron *c, const struct tm *tm)
{
	int	 m = (c->mday >> tm->tm_mday) & 1;
	int	 w = (c->wday >> tm->tm_wday) & 1;

	if (c->mday_any || c->wday_any)
		return (m && w);
	return (m || w);
}

time_t
cron_next(const struct cron *c, time_t after)
{
	struct tm	 tm;
	time_t		 t = after - after % 60 + 60, limit, was;
	int		 guard;

	limit = after + (time_t)86400 * 366 * 5;
	for (guard = 0; guard < 100000 && t <= limit; guard++) {
		localtime_r(&t, &tm);
		tm.tm_sec = 0;
		if (!((c->month >> (tm.tm_mon + 1)) & 1)) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = 0;
		} else if (!day_ok(c, &tm)) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = 0;
		} else if (!((c->hour >> tm.tm_hour) & 1)) {
			tm.tm_hour++;
			tm.tm_min = 0;
		} else if (!((c->minute >> tm.tm_min) & 1)) {
			tm.tm_min++;
		} else
			return (t);
		tm.tm_isdst = -1;
		was = t;
		if ((t = mktime(&tm)) == (time_t)-1)
			return ((time_t)-1);
		/* An hour a DST change repeats: never back into it. */
		if (t <= was)
			t = was + 60;
	}
	return ((time_t)-1);
}
