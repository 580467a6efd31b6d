/*
 * human.c -- figures and words as people write and read them; see
 * human.h.
 */
#define LIBBSD_OPENBSD_VIS	/* libbsd: the historical strnvis */

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <vis.h>

#include "human.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

static const struct {
	const char	*name;
	int		 sig;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "IO", SIGIO }, { "POLL", SIGPOLL },
#ifdef SIGPWR
	{ "PWR", SIGPWR },
#endif
	{ "SYS", SIGSYS },
};

int
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Digits then a suffix from units; no suffix when bare is set. */
static int
parse_scaled(const char *s, const char *const *units,
    const uint64_t *mul, size_t nunits, int bare, uint64_t *out)
{
	char		 digits[32];
	size_t		 n, i;
	uint64_t	 v;

	n = strspn(s, "0123456789");
	if (n == 0 || n >= sizeof(digits))
		return -1;
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (parse_uint(digits, HUMAN_VALUE_MAX, &v) == -1)
		return -1;
	if (s[n] == '\0' && bare) {
		*out = v;
		return 0;
	}
	for (i = 0; i < nunits; i++) {
		if (strcmp(s + n, units[i]) != 0)
			continue;
		if (v > HUMAN_VALUE_MAX / mul[i])
			return -1;
		*out = v * mul[i];
		return 0;
	}
	return -1;
}

int
parse_duration_ms(const char *s, uint64_t *out)
{
	static const char *const units[] = { "ms", "s", "m", "h" };
	static const uint64_t	 mul[] = { 1, 1000, 60000, 3600000 };

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	return parse_scaled(s, units, mul, nitems(units), 0, out);
}

void
format_duration(uint64_t ms, char *buf, size_t size)
{
	static const char *const units[] = { "h", "m", "s" };
	static const uint64_t	 mul[] = { 3600000, 60000, 1000 };
	size_t			 i;

	for (i = 0; i < nitems(units); i++) {
		if (ms != 0 && ms % mul[i] == 0) {
			snprintf(buf, size, "%llu%s",
			    (unsigned long long)(ms / mul[i]), units[i]);
			return;
		}
	}
	if (ms == 0)
		snprintf(buf, size, "0");
	else
		snprintf(buf, size, "%llums", (unsigned long long)ms);
}

int
parse_size(const char *s, uint64_t *out)
{
	static const char *const units[] = { "K", "M", "G" };
	static const uint64_t	 mul[] = { 1ULL << 10, 1ULL << 20, 1ULL << 30 };

	return parse_scaled(s, units, mul, nitems(units), 1, out);
}

void
format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char	 units[] = "GMK";
	int			 i, shift;

	for (i = 0; i < 3; i++) {
		shift = 30 - 10 * i;
		if (bytes != 0 && bytes % (1ULL << shift) == 0) {
			snprintf(buf, size, "%llu%c",
			    (unsigned long long)(bytes >> shift), units[i]);
			return;
		}
	}
	snprintf(buf, size, "%llu", (unsigned long long)bytes);
}

void
human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char	 units[] = "KMGTP";
	double			 v;
	size_t			 u;

	if (bytes < 1024) {
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
		return;
	}
	v = (double)bytes / 1024;
	for (u = 0; v >= 1023.95 && u < sizeof(units) - 2; u++)
		v /= 1024;
	snprintf(buf, len, "%.1f%c", v, units[u]);
}

int
parse_signal(const char *s)
{
	uint64_t	v;
	size_t		i;

	if (parse_uint(s, INT_MAX, &v) == 0) {
		if (v >= (uint64_t)SIGRTMIN && v <= (uint64_t)SIGRTMAX)
			return (int)v;
		for (i = 0; i < nitems(signals); i++)
			if ((uint64_t)signals[i].sig == v)
				return (int)v;
		return -1;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < nitems(signals); i++)
		if (strcasecmp(s, signals[i].name) == 0)
			return signals[i].sig;
	return -1;
}

const char *
signal_name(int sig)
{
	static char	buf[16];
	size_t		i;

	for (i = 0; i < nitems(signals); i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	snprintf(buf, sizeof(buf), "%d", sig);
	return buf;
}

int
parse_bool(const char *s)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	size_t			 i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

int
parse_word(const char *s, const char *const *words)
{
	int	i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	return -1;
}

const char *
word_name(const char *const *words, int v)
{
	int	i;

	for (i = 0; words[i] != NULL; i++)
		if (i == v)
			return words[i];
	return words[0];
}

/*
 * The length of the UTF-8 sequence at p when it is valid (shortest form,
 * no surrogate) and not a C1 control (U+0080 to U+009F); else 0.
 */
static size_t
utf8_len(const unsigned char *p, size_t len)
{
	unsigned int	 cp;
	size_t		 n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return (0);
	if (len < n)
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < 0xa0 || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (n);
}

void
human_text(FILE *fp, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 e[8];
	size_t			 i, n;

	for (i = 0; i < len; i += n) {
		n = 1;
		if (p[i] == '\t' || p[i] == '\n' ||
		    (p[i] >= 0x20 && p[i] < 0x7f))
			putc(p[i], fp);
		else if ((n = utf8_len(p + i, len - i)) > 0)
			fwrite(p + i, 1, n, fp);
		else {
			n = 1;
			vis(e, p[i], VIS_OCTAL | VIS_CSTYLE | VIS_NOSLASH |
			    VIS_NOLOCALE, i + 1 < len ? p[i + 1] : '\0');
			fputs(e, fp);
		}
	}
}
