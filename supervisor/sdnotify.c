/*
 * sdnotify.c -- pmcd telling its own service manager how it is, by the
 * sd_notify protocol (a datagram to $NOTIFY_SOCKET; no libsystemd):
 * READY=1 once every app it was started with has its instances started,
 * RELOADING=1 around SIGHUP and `pmc reload all`, STOPPING=1, a STATUS=
 * line when the summary changes, and WATCHDOG=1 at half $WATCHDOG_USEC.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pmcd.h"

static int			 sd_fd = -1;
static struct sockaddr_un	 sd_addr;
static socklen_t		 sd_len;
static struct timer		 sd_watchdog;
static uint64_t			 sd_watchdog_ms;
static int			 sd_ready;	/* READY=1 sent */
static int			 sd_reloading;	/* RELOADING=1 sent */
static char			 sd_status[256];
static char			 sd_text[sizeof(sd_addr.sun_path) + 1];
static unsigned long long	 sd_usec;	/* WATCHDOG_USEC, 0: none */

static void
sd_send(const char *fmt, ...)
{
	char	 buf[512];
	va_list	 ap;

	if (sd_fd == -1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (sendto(sd_fd, buf, strlen(buf), MSG_NOSIGNAL,
	    (struct sockaddr *)&sd_addr, sd_len) == -1)
		log_warn("sd_notify %s", buf);
}

static void
watchdog_ping(void *arg)
{
	(void)arg;
	sd_send("WATCHDOG=1");
	timer_start(&sd_watchdog, sd_watchdog_ms);
}

static void
watchdog_init(void)
{
	const char	*s, *errstr;
	long long	 usec;

	if ((s = getenv("WATCHDOG_USEC")) == NULL) {
		unsetenv("WATCHDOG_PID");
		return;
	}
	usec = strtonum(s, 1, INT64_MAX, &errstr);
	if (errstr != NULL)
		log_warnx("WATCHDOG_USEC=%s: %s; no watchdog pings", s, errstr);
	else if ((s = getenv("WATCHDOG_PID")) != NULL &&
	    strtonum(s, 1, INT32_MAX, &errstr) != getpid())
		errstr = "meant for another process";
	/* Ours (or no one's), never the instances'. */
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (errstr != NULL)
		return;
	sd_usec = (unsigned long long)usec;
	sd_watchdog_ms = (uint64_t)usec / 2000;
	if (sd_watchdog_ms == 0)
		sd_watchdog_ms = 1;
	timer_set(&sd_watchdog, watchdog_ping, NULL);
	watchdog_ping(NULL);
}

/* Read our own NOTIFY_SOCKET and WATCHDOG_USEC; call before unsetenv. */
void
sdnotify_init(void)
{
	const char	*s = getenv("NOTIFY_SOCKET");
	size_t		 len;

	if (s == NULL || (*s != '/' && *s != '@'))
		return;
	if ((len = strlen(s)) >= sizeof(sd_addr.sun_path)) {
		log_warnx("NOTIFY_SOCKET too long; not notifying");
		return;
	}
	strlcpy(sd_text, s, sizeof(sd_text));
	sd_addr.sun_family = AF_UNIX;
	memcpy(sd_addr.sun_path, s, len);
	if (*s == '@')
		sd_addr.sun_path[0] = '\0';	/* abstract */
	sd_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (*s == '/'));
	sd_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sd_fd == -1) {
		log_warn("NOTIFY_SOCKET");
		return;
	}
	watchdog_init();
}

/* One line: "3 apps, 7/8 instances online". */
static void
summary(char *buf, size_t len)
{
	struct app	*app;
	size_t		 i;
	int		 apps = 0, inst = 0, online = 0;

	TAILQ_FOREACH(app, &sv->apps, entry) {
		apps++;
		for (i = 0; i < app->ninst; i++) {
			if (instance_dropped(app->inst[i]))
				continue;
			inst++;
			online += app->inst[i]->state == IS_ONLINE;
		}
	}
	snprintf(buf, len, "%d app%s, %d/%d instance%s online", apps,
	    apps == 1 ? "" : "s", online, inst, inst == 1 ? "" : "s");
}

static int
apps_started(void)
{
	struct app	*app;

	if (specread_busy())		/* SIGHUP's files not read yet */
		return (0);
	TAILQ_FOREACH(app, &sv->apps, entry)
		if (reload_running(app) || !app_settled(app, 0))
			return (0);
	return (1);
}

void
sdnotify_reloading(void)
{
	struct timespec	 ts;

	if (sd_fd == -1 || sv->stopping)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_send("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	sd_reloading = 1;
}

void
sdnotify_stopping(void)
{
	sd_send("STOPPING=1");
}

/* After each round of events: READY=1 when due, STATUS= when changed. */
void
sdnotify_tick(void)
{
	char	 st[sizeof(sd_status)];

	if (sd_fd == -1 || sv->stopping)
		return;
	summary(st, sizeof(st));
	if ((!sd_ready || sd_reloading) && apps_started()) {
		sd_send("READY=1\nSTATUS=%s", st);
		strlcpy(sd_status, st, sizeof(sd_status));
		sd_ready = 1;
		sd_reloading = 0;
	} else if (strcmp(st, sd_status) != 0) {
		sd_send("STATUS=%s", st);
		strlcpy(sd_status, st, sizeof(sd_status));
	}
}

/*
 * pmc update: the variables we were started with, for the new binary
 * (set), or gone again when the exec failed (clear).
 */
void
sdnotify_env(int set)
{
	char	 num[32];

	if (!set || sd_fd == -1) {
		unsetenv("NOTIFY_SOCKET");
		unsetenv("WATCHDOG_USEC");
		unsetenv("WATCHDOG_PID");
		return;
	}
	setenv("NOTIFY_SOCKET", sd_text, 1);
	if (sd_usec != 0) {
		snprintf(num, sizeof(num), "%llu", sd_usec);
		setenv("WATCHDOG_USEC", num, 1);
		snprintf(num, sizeof(num), "%ld", (long)getpid());
		setenv("WATCHDOG_PID", num, 1);
	}
}

/* The new pmcd: READY=1 once its apps are settled, as after SIGHUP. */
void
sdnotify_updated(void)
{
	sd_ready = 1;
	sd_reloading = 1;
}
