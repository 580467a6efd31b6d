/*
 * leftover.c -- what a pmcd that did not stop left running.
 *
 * An instance's leader dies with pmcd (PR_SET_PDEATHSIG), but what it
 * forked (the workers of a pre-forking server) lives on, keeps serving
 * old code and holds the port.  So pmcd keeps $PMC_HOME/groups: the boot
 * it runs in, and for each instance's process group the group id and
 * the start time of its leader, with the app's stop_signal and
 * kill_timeout.  It is rewritten (to groups.new, then renamed) after any
 * loop round in which a group began or ended, and removed at a clean
 * exit.  A new pmcd that finds it, from the same boot, ends those groups
 * before it binds anything: stop_signal, then SIGKILL after
 * kill_timeout.  Only processes that are in the group and its session
 * (an instance calls setsid) and started no earlier than the recorded
 * leader are signalled, so a group id reused since is never hit.
 *
 * Format, one record a line, fields separated by spaces:
 *	pmcd-groups 1 <boot id>
 *	<pgid> <leader start, clock ticks since boot> <signal> <kill ms>
 *	    <app> <slot>
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "home.h"
#include "log.h"
#include "path.h"
#include "pmcd.h"

#define LEFTOVER_VERSION	1
#define LEFTOVER_MAX		4096	/* groups read back */

struct group_rec {
	pid_t			 pgid;
	unsigned long long	 start;
	int			 sig;
	unsigned long long	 kill_ms;
	char			 app[SPEC_NAME_MAX + 1];
	int			 slot;
	unsigned int		 ended;
};

static int	 dirty;

/* This boot's id, "" when unknown. */
static void
boot_id(char *buf, size_t len)
{
	FILE	*f;

	buf[0] = '\0';
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "re")) == NULL)
		return;
	if (fgets(buf, (int)len, f) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Group, session and start time of pid, from /proc; 0, or -1. */
static int
proc_ids(pid_t pid, pid_t *pgrp, pid_t *sid, unsigned long long *start,
    char *state)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 v;
	size_t			 n;
	int			 fd, i;
	ssize_t			 r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return (-1);
	n = (size_t)r;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return (-1);
	*state = p[2];
	p += 2;
	/* Fields from 3 (state): 5 pgrp, 6 session, 22 starttime. */
	for (i = 3; i <= 22 && p != NULL; i++) {
		v = strtoull(p, NULL, 10);
		if (i == 5)
			*pgrp = (pid_t)v;
		else if (i == 6)
			*sid = (pid_t)v;
		else if (i == 22)
			*start = v;
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	}
	return (i > 22 ? 0 : -1);
}

unsigned long long
leftover_start_time(pid_t pid)
{
	unsigned long long	 start;
	pid_t			 pgrp, sid;
	char			 state;

	return (proc_ids(pid, &pgrp, &sid, &start, &state) == 0 ? start : 0);
}

void
leftover_changed(void)
{
	dirty = 1;
}

static void
write_group(FILE *f, const struct instance *in)
{
	if (in != NULL && in->pgid != 0)
		fprintf(f, "%d %llu %d %llu %s %d\n", (int)in->pgid,
		    in->pgid_start, in->app->spec->stop_signal,
		    (unsigned long long)in->app->spec->kill_timeout_ms,
		    in->app->spec->name, in->slot);
}

/* After a loop round: the record again, when a group began or ended. */
void
leftover_sync(void)
{
	struct app	*app;
	char		 path[PATH_MAX], tmp[PATH_MAX], boot[64];
	FILE		*f;
	size_t		 i;
	int		 fd;

	if (!dirty)
		return;
	dirty = 0;
	home_path(path, sizeof(path), "groups");
	home_path(tmp, sizeof(tmp), "groups.new");
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("%s", tmp);
		if (fd != -1)
			close(fd);
		return;
	}
	boot_id(boot, sizeof(boot));
	fprintf(f, "pmcd-groups %d %s\n", LEFTOVER_VERSION, boot);
	TAILQ_FOREACH(app, &sv->apps, entry) {
		for (i = 0; i < app->ninst; i++)
			write_group(f, app->inst[i]);
		write_group(f, app->surge);
	}
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		log_warn("%s", path);
		unlink(tmp);
	}
}

/* A clean exit leaves nothing behind to end. */
void
leftover_clear(void)
{
	char	 path[PATH_MAX];

	home_path(path, sizeof(path), "groups");
	unlink(path);
}

/* The records of a previous run of this boot; how many. */
static size_t
read_groups(const char *path, struct group_rec *g, size_t max)
{
	char			 line[256], boot[64], rboot[64];
	FILE			*f;
	size_t			 n = 0;
	int			 version;

	if ((f = path_fopen(path)) == NULL)
		return (0);
	boot_id(boot, sizeof(boot));
	if (fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "pmcd-groups %d %63s", &version, rboot) != 2 ||
	    version != LEFTOVER_VERSION || boot[0] == '\0' ||
	    strcmp(boot, rboot) != 0) {
		fclose(f);
		return (0);
	}
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		memset(&g[n], 0, sizeof(g[n]));
		if (sscanf(line, "%d %llu %d %llu %64s %d", &g[n].pgid,
		    &g[n].start, &g[n].sig, &g[n].kill_ms, g[n].app,
		    &g[n].slot) == 6 && g[n].pgid > 1 && g[n].sig > 0 &&
		    g[n].sig < NSIG)
			n++;
	}
	fclose(f);
	return (n);
}

/*
 * Signal what is left of every group with sig (0: count only; -1: the
 * group's stop_signal, counted as ended); how many processes are still
 * there.  Zombies do not count.
 */
static size_t
signal_groups(struct group_rec *g, size_t n, int sig)
{
	struct dirent		*de;
	DIR			*d;
	unsigned long long	 start;
	pid_t			 pid, pgrp, sid;
	size_t			 left = 0, i;
	char			 state;

	if ((d = opendir("/proc")) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		if ((pid = (pid_t)strtol(de->d_name, NULL, 10)) <= 1 ||
		    pid == getpid() ||
		    proc_ids(pid, &pgrp, &sid, &start, &state) == -1 ||
		    state == 'Z' || state == 'X')
			continue;
		for (i = 0; i < n; i++) {
			if (pgrp != g[i].pgid || sid != g[i].pgid ||
			    start < g[i].start)
				continue;
			if (sig != 0 && kill(pid, sig == -1 ? g[i].sig : sig) ==
			    0 && sig == -1)
				g[i].ended++;
			left++;
			break;
		}
	}
	closedir(d);
	return (left);
}

static void
nap_ms(long ms)
{
	struct timespec	 ts = { 0, ms * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * At start, before anything is bound: end what a pmcd that did not stop
 * left.  The loop does not run yet, so this waits, at most the longest
 * kill_timeout of those groups (and a second more after SIGKILL).
 */
void
leftover_end(void)
{
	struct group_rec	*g;
	char			 path[PATH_MAX];
	unsigned long long	 wait_ms = 0, waited;
	size_t			 n, i, left;

	home_path(path, sizeof(path), "groups");
	if ((g = calloc(LEFTOVER_MAX, sizeof(*g))) == NULL)
		fatal("calloc");
	n = read_groups(path, g, LEFTOVER_MAX);
	for (i = 0; i < n; i++)
		if (g[i].kill_ms > wait_ms)
			wait_ms = g[i].kill_ms;
	left = n > 0 ? signal_groups(g, n, -1) : 0;
	if (left > 0) {
		signal_groups(g, n, SIGCONT);
		for (waited = 0; waited < wait_ms &&
		    signal_groups(g, n, 0) > 0; waited += 20)
			nap_ms(20);
		if (signal_groups(g, n, SIGKILL) > 0)
			for (waited = 0; waited < 1000 &&
			    signal_groups(g, n, 0) > 0; waited += 20)
				nap_ms(20);
	}
	for (i = 0; i < n; i++)
		if (g[i].ended > 0)
			log_warnx("%s[%d]: ended %u leftover process%s of "
			    "group %d (from a pmcd that did not stop)",
			    g[i].app, g[i].slot, g[i].ended,
			    g[i].ended == 1 ? "" : "es", (int)g[i].pgid);
	free(g);
	unlink(path);
}
