/*
 * sample.c -- what each instance costs: the cpu and resident memory of
 * its whole process group, read from /proc when someone looks (pmc list,
 * describe, monit, a metrics scrape: sample_fresh, at most one walk per
 * FRESH_MS), and once a second for the apps that set max_memory.  With
 * neither, pmcd reads nothing and does not wake up.  It only measures:
 * what acts on the figures (max_memory) is called after each sample, see
 * sample_then().
 *
 * CPU totals do not depend on sampling: what a process of the group used
 * until it was reaped comes from wait4's rusage (sample_reaped), and the
 * rest when the group ends (sample_ended).
 *
 * Which processes: pmcd's own children are the instances' leaders and,
 * pmcd being the child subreaper, the orphans of their groups.  From each
 * of them that belongs to an instance's group, the walk goes down the
 * kernel's children lists (/proc/P/task/T/children) to the members of
 * that group.  So a sample reads /proc for the instances' processes
 * only: its cost grows with them, not with every process on the machine
 * (one scan of all of /proc per second would), and when nothing runs the
 * timer is off and pmcd does not wake up at all.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "human.h"
#include "log.h"
#include "pmcd.h"

#define SAMPLE_MS	1000
#define FRESH_MS	200	/* a burst of lists costs one walk */
#define MIN_WINDOW_MS	250
#define STR(x)		#x
#define XSTR(x)		STR(x)
#define CHILDREN_MAX	(8 << 20)	/* a children list: 8 MB, ~1M pids */

/* What one /proc/PID/stat says. */
struct pstat {
	pid_t		 pgrp;
	uint64_t	 us;		/* utime stime cutime cstime */
	uint64_t	 rss;		/* bytes */
	long		 threads;
};

/*
 * Pids to visit, each with the instance whose group it is in, and the
 * set of those already seen: a thread that exits hands its children to
 * another, so one walk may find a child in two lists.
 */
struct walk {
	pid_t			*pid;
	struct instance		**in;
	size_t			 n, cap;
	pid_t			*seen;		/* open addressing, 0: free */
	size_t			 nseen, seencap;	/* a power of 2 */
	char			*buf;		/* a children list */
	size_t			 buflen;
};

static struct timer	 sample_timer;
static int		 sample_timer_set;
static uint64_t		 page_size;
static uint64_t		 fresh_ms;	/* the last walk of every group */

static void	(*sampled_hook)(void);

static void	sample_tick(void *);
static void	sample_all(int memory_only);

static int
read_file(const char *path, char *buf, size_t len)
{
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return (-1);
	buf[n] = '\0';
	return (0);
}

static uint64_t
clock_ticks(void)
{
	static uint64_t	 tck;
	long		 t;

	if (tck == 0)
		tck = (t = sysconf(_SC_CLK_TCK)) > 0 ? (uint64_t)t : 100;
	return (tck);
}

static int
read_stat(pid_t pid, struct pstat *ps)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	long		 cut, cst, threads, pages;
	int		 pgrp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof(buf)) == -1)
		return (-1);
	/* After the comm: state(3) ppid pgrp ... utime(14) ... rss(24). */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %*c %*d %d "
	    "%*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %ld %ld %*d %*d %ld "
	    "%*d %*u %*u %ld", &pgrp, &ut, &st, &cut, &cst, &threads,
	    &pages) != 7)
		return (-1);
	ps->pgrp = pgrp;
	ps->us = ((uint64_t)ut + st + (cut > 0 ? (uint64_t)cut : 0) +
	    (cst > 0 ? (uint64_t)cst : 0)) * 1000000 / clock_ticks();
	ps->rss = pages > 0 ? (uint64_t)pages * page_size : 0;
	ps->threads = threads;
	return (0);
}

/* Add pid to the seen set; 0 when it was there already. */
static int
walk_see(struct walk *w, pid_t pid)
{
	pid_t	*old = w->seen;
	size_t	 oldcap = w->seencap, i, h;

	if (2 * (w->nseen + 1) > w->seencap) {
		w->seencap = oldcap == 0 ? 256 : oldcap * 2;
		if ((w->seen = calloc(w->seencap, sizeof(*w->seen))) == NULL)
			fatal("calloc");
		w->nseen = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i] != 0)
				walk_see(w, old[i]);
		free(old);
	}
	h = ((size_t)pid * 2654435761u) & (w->seencap - 1);
	for (; w->seen[h] != 0; h = (h + 1) & (w->seencap - 1))
		if (w->seen[h] == pid)
			return (0);
	w->seen[h] = pid;
	w->nseen++;
	return (1);
}

/* Append (pid, in) to the arrays *pids and *ins, of n used, cap in all. */
static void
pairs_push(pid_t **pids, struct instance ***ins, size_t *n, size_t *cap,
    pid_t pid, struct instance *in)
{
	size_t	 c;

	if (*n == *cap) {
		c = *cap == 0 ? 64 : *cap * 2;
		if ((*pids = reallocarray(*pids, c, sizeof(**pids))) == NULL ||
		    (*ins = reallocarray(*ins, c, sizeof(**ins))) == NULL)
			fatal("reallocarray");
		*cap = c;
	}
	(*pids)[*n] = pid;
	(*ins)[(*n)++] = in;
}

static void
walk_push(struct walk *w, pid_t pid, struct instance *in)
{
	if (walk_see(w, pid))
		pairs_push(&w->pid, &w->in, &w->n, &w->cap, pid, in);
}

/*
 * A children list, whole: into w->buf, grown as needed up to
 * CHILDREN_MAX (past that, the rest of the list is not read, and the
 * pid it was cut in is dropped).
 */
static int
read_children(struct walk *w, const char *path)
{
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	for (;;) {
		if (len + 1 >= w->buflen) {
			if (w->buflen >= CHILDREN_MAX) {
				/* Cut: drop the last, maybe partial, pid. */
				while (len > 0 && w->buf[len - 1] != ' ')
					len--;
				break;
			}
			w->buflen = w->buflen == 0 ? 4096 : w->buflen * 2;
			if ((w->buf = realloc(w->buf, w->buflen)) == NULL)
				fatal("realloc");
		}
		n = read(fd, w->buf + len, w->buflen - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	w->buf[len] = '\0';
	return (0);
}

/* The children one thread lists, pushed with in (or NULL). */
static void
push_listed(struct walk *w, const char *path, struct instance *in)
{
	char	*p, *end;
	long	 c;

	if (read_children(w, path) == -1)
		return;
	for (p = w->buf; ; p = end) {
		c = strtol(p, &end, 10);
		if (end == p)
			break;
		if (c > 0)
			walk_push(w, (pid_t)c, in);
	}
}

/*
 * The children of every thread of pid (proc: its /proc folder), pushed
 * with in (or NULL).  A process of one thread, as most are, has one
 * list, under its own id: the task folder need not be read.
 */
static void
push_children(struct walk *w, const char *proc, pid_t pid, long threads,
    struct instance *in)
{
	char		 path[384];
	struct dirent	*de;
	DIR		*d;

	if (threads == 1) {
		snprintf(path, sizeof(path), "%s/task/%d/children", proc,
		    (int)pid);
		push_listed(w, path, in);
		return;
	}
	snprintf(path, sizeof(path), "%s/task", proc);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/task/%s/children", proc,
		    de->d_name);
		push_listed(w, path, in);
	}
	closedir(d);
}

static void
instance_update(struct instance *in, uint64_t us, uint64_t now)
{
	uint64_t	 since;
	int64_t		 delta;

	since = in->cpu_sampled_ms != 0 ? in->cpu_sampled_ms : in->started_ms;
	/* A member that left the group takes its time away: not negative. */
	delta = (int64_t)us - in->cpu_base_us;
	if (delta < 0)
		delta = 0;
	in->cpu_total_us += (uint64_t)delta;
	/* Over less than a few ticks, a percentage says nothing. */
	if (now - since >= MIN_WINDOW_MS)
		in->cpu = (double)delta / 10.0 / (double)(now - since);
	in->cpu_base_us = (int64_t)us;
	in->cpu_sampled_ms = now;
}

/* Who is sampled: every app, or those with max_memory. */
static int
sampled(const struct app *app, int memory_only)
{
	return (!memory_only || app->spec->max_memory != 0);
}

/*
 * fn on every instance with a process group (of the apps with max_memory
 * only, when memory_only); the sum of what it says.
 */
static int
foreach_group(int (*fn)(struct instance *), int memory_only)
{
	struct app	*app;
	struct instance	*in;
	size_t		 i;
	int		 n = 0;

	TAILQ_FOREACH(app, &sv->apps, entry)
		for (i = 0; i <= app->ninst && sampled(app, memory_only);
		    i++) {
			in = i < app->ninst ? app->inst[i] : app->surge;
			if (in != NULL && in->pgid != 0)
				n += fn != NULL ? fn(in) : 1;
		}
	return (n);
}

static int
zero(struct instance *in)
{
	in->rss = 0;
	in->nprocs = 0;
	in->cpu_now_us = 0;
	return (1);
}

static int
update(struct instance *in)
{
	instance_update(in, in->cpu_now_us, now_ms());
	return (1);
}

/* A process of an instance's group, and what it says. */
typedef void	(*member_fn)(struct instance *, pid_t, const struct pstat *,
		    void *);

/*
 * Without the kernel's children lists (CONFIG_PROC_CHILDREN), every
 * process of /proc, each of whose group is an instance's.
 */
static void
scan_proc(struct walk *w)
{
	struct dirent	*de;
	DIR		*d;
	long		 pid;
	char		*end;

	if ((d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		pid = strtol(de->d_name, &end, 10);
		if (pid > 0 && *end == '\0')
			walk_push(w, (pid_t)pid, NULL);
	}
	closedir(d);
}

/*
 * Call fn for every process of every instance's group (of only's
 * instances, when only is not NULL; of the apps with max_memory, when
 * memory_only).
 */
static void
walk_groups(const struct app *only, int memory_only, member_fn fn,
    void *arg)
{
	struct walk	 w = { 0 };
	struct pstat	 ps;
	struct instance	*in;
	char		 proc[64];
	size_t		 k;
	static int	 children = -1;	/* the kernel lists them */

	if (page_size == 0)
		page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	if (children == -1) {
		snprintf(proc, sizeof(proc), "/proc/self/task/%d/children",
		    (int)getpid());
		children = access(proc, R_OK) == 0;
		if (!children)
			log_warnx("no %s: sampling reads every process of "
			    "/proc", proc);
	}
	if (children)
		push_children(&w, "/proc/self", getpid(), 0, NULL);
	else
		scan_proc(&w);
	for (k = 0; k < w.n; k++) {
		if (read_stat(w.pid[k], &ps) == -1)
			continue;	/* gone meanwhile */
		in = w.in[k];
		if (in == NULL && (in = instance_by_group(ps.pgrp)) == NULL)
			continue;	/* not an instance's */
		if (ps.pgrp != in->pgid)
			continue;	/* left the group: not ours now */
		if ((only != NULL && in->app != only) ||
		    !sampled(in->app, memory_only))
			continue;
		fn(in, w.pid[k], &ps, arg);
		snprintf(proc, sizeof(proc), "/proc/%d", (int)w.pid[k]);
		if (children)
			push_children(&w, proc, w.pid[k], ps.threads, in);
	}
	free(w.pid);
	free(w.in);
	free(w.seen);
	free(w.buf);
}

static void
add_member(struct instance *in, pid_t pid, const struct pstat *ps,
    void *arg)
{
	(void)pid;
	(void)arg;
	in->rss += ps->rss;
	in->cpu_now_us += ps->us;
	in->nprocs++;
}

static void
sample_all(int memory_only)
{
	if (!memory_only)
		fresh_ms = now_ms();
	if (foreach_group(zero, memory_only) == 0)
		return;
	walk_groups(NULL, memory_only, add_member, NULL);
	foreach_group(update, memory_only);
	if (sampled_hook != NULL)
		sampled_hook();
}

static void
list_member(struct instance *in, pid_t pid, const struct pstat *ps,
    void *arg)
{
	struct sample_members	*m = arg;

	(void)ps;
	pairs_push(&m->pid, &m->in, &m->n, &m->cap, pid, in);
}

/*
 * The processes of every group of app's instances, in one walk (each
 * with its instance); free them with sample_members_free.
 */
void
sample_members(const struct app *app, struct sample_members *m)
{
	memset(m, 0, sizeof(*m));
	walk_groups(app, 0, list_member, m);
}

void
sample_members_free(struct sample_members *m)
{
	free(m->pid);
	free(m->in);
	memset(m, 0, sizeof(*m));
}

static void
sample_tick(void *arg)
{
	(void)arg;
	sample_all(1);
	if (foreach_group(NULL, 1) > 0)
		timer_start(&sample_timer, SAMPLE_MS);
}

/* Who acts on the figures (max_memory, in reload.c) */
void
sample_then(void (*hook)(void))
{
	sampled_hook = hook;
}

/* A spawn: an app with max_memory is watched from now on. */
void
sample_arm(const struct instance *in)
{
	if (in->app->spec->max_memory == 0)
		return;
	if (!sample_timer_set) {
		timer_set(&sample_timer, sample_tick, NULL);
		sample_timer_set = 1;
	}
	if (!timer_armed(&sample_timer))
		timer_start(&sample_timer, SAMPLE_MS);
}

/* Before the figures are shown: sample, unless that was just done. */
void
sample_fresh(void)
{
	uint64_t	 now = now_ms();

	if (fresh_ms != 0 && now - fresh_ms < FRESH_MS)
		return;
	sample_all(0);
}

pid_t
sample_pgrp(pid_t pid)
{
	struct pstat	 ps;

	if (page_size == 0)
		page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	return (read_stat(pid, &ps) == -1 ? -1 : ps.pgrp);
}

/* What the old runs' reaped members used past their last sample. */
static void
settle_old(struct instance *in)
{
	if (in->cpu_old_us < 0) {
		in->cpu_total_us += (uint64_t)-in->cpu_old_us;
		in->cpu_old_us = 0;
	}
}

/*
 * A process of in's group (pgrp) was reaped, with what it and the
 * children it reaped used.  Of the running group: the next sample, or
 * the group's end, adds what no sample saw.  Of an earlier run, whose
 * group already ended: all of it now.
 */
void
sample_reaped(struct instance *in, pid_t pgrp, const struct rusage *ru)
{
	uint64_t	 us;

	us = (uint64_t)ru->ru_utime.tv_sec * 1000000 +
	    (uint64_t)ru->ru_utime.tv_usec +
	    (uint64_t)ru->ru_stime.tv_sec * 1000000 +
	    (uint64_t)ru->ru_stime.tv_usec;
	if (in->pgid != 0 && pgrp == in->pgid)
		in->cpu_base_us -= (int64_t)us;
	else {
		in->cpu_old_us -= (int64_t)us;
		settle_old(in);
	}
}

/*
 * The group's run is over (its leader reaped, what was left killed).
 * What the last sample saw of members not reaped yet stays owed by
 * them (cpu_old_us) until they are; the rest is counted now.  The
 * total never goes down.
 */
void
sample_ended(struct instance *in)
{
	in->cpu_old_us += in->cpu_base_us;
	in->cpu_base_us = 0;
	settle_old(in);
}
