/*
 * instance.c -- one running copy of an app: spawning it, its state
 * machine, and what happens when it exits.
 *
 * Every transition is in instance_event(); the rest are its actions.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "events.h"
#include "home.h"
#include "human.h"
#include "listen.h"
#include "log.h"
#include "pmcd.h"

#define AUTO_READY_MS	1000

/* Why a child could not exec, written to the error pipe. */
struct spawn_error {
	int	stage;
	int	err;
};

enum { STAGE_SETUP = 1, STAGE_CWD, STAGE_USER, STAGE_EXEC, STAGE_STATIC,
    STAGE_NOSHIM };

static void	instance_timeout(void *);
static int	group_gone(struct instance *);

int64_t
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

struct instance *
instance_new(struct app *app, int slot)
{
	struct instance	*in;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		fatal("calloc");
	in->app = app;
	in->slot = slot;
	in->exec_fd = -1;
	in->delay_ms = app->spec->backoff_initial_ms;
	timer_set(&in->timer, instance_timeout, in);
	return (in);
}

void
instance_free(struct instance *in)
{
	timer_stop(&in->timer);
	if (in->pid != 0)
		pids_remove(in);
	if (in->pgid != 0)
		leftover_changed();
	if (in->exec_fd != -1)
		close(in->exec_fd);
	channel_close(in);
	free(in->held);
	free(in);
}

/* A new request on app: earlier verdicts are not its business. */
void
instances_clear_verdicts(struct app *app)
{
	size_t	 i;

	for (i = 0; i < app->ninst; i++) {
		app->inst[i]->pending = 0;
		app->inst[i]->failed = 0;
	}
}

/* --- spawning ----------------------------------------------------------- */

static void __attribute__((__noreturn__))
child_fail(int exfd, int stage)
{
	struct spawn_error	 se = { stage, errno };

	(void)!write(exfd, &se, sizeof(se));
	_exit(127);
}

static int
fd_in(int fd, const int *set, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (set[i] == fd)
			return (1);
	return (0);
}

/*
 * First in the child: close every descriptor but 0-2, fds and more, so
 * that its set-up finds room however full pmcd's table is.
 */
static void
child_trim(const int *fds, int nfds, const int *more, int nmore)
{
	int	 fd, lo = 3, top = 2, i;

	for (i = 0; i < nfds; i++)
		top = fds[i] > top ? fds[i] : top;
	for (i = 0; i < nmore; i++)
		top = more[i] > top ? more[i] : top;
	for (fd = 3; fd <= top; fd++) {
		if (!fd_in(fd, fds, nfds) && !fd_in(fd, more, nmore))
			continue;
		if (fd > lo)
			close_range((unsigned)lo, (unsigned)fd - 1, 0);
		lo = fd + 1;
	}
	closefrom(lo);
}

/*
 * Put the listen sockets at 3.., the channel (chfd, -1: none) just past
 * them, and the error pipe past that.  hi: room for nfds descriptors,
 * allocated before the fork.
 */
static int
child_fds(const int *fds, int *hi, int nfds, int chfd, int exfd)
{
	int	 i, ch = chfd != -1, base = 3 + nfds + ch + 1;

	for (i = 0; i < nfds; i++)
		if ((hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, base)) == -1)
			return (-1);
	if (ch && (chfd = fcntl(chfd, F_DUPFD_CLOEXEC, base)) == -1)
		return (-1);
	if ((exfd = fcntl(exfd, F_DUPFD_CLOEXEC, base)) == -1)
		return (-1);
	for (i = 0; i < nfds; i++)
		if (dup2(hi[i], 3 + i) == -1)
			return (-1);
	if (ch && dup2(chfd, 3 + nfds) == -1)
		return (-1);
	if (dup3(exfd, 3 + nfds + ch, O_CLOEXEC) == -1)
		return (-1);
	closefrom(3 + nfds + ch + 1);
	return (3 + nfds + ch);
}

static void
child_env(const struct instance *in, int nfds, int chfd)
{
	const struct app_spec	*s = in->app->spec;
	char			 buf[8192], num[32];
	const char		*old;
	size_t			 i;
	int			 j;

	/* As su and systemd's User= do; env: may still say otherwise. */
	if (s->ids.login != NULL) {
		setenv("HOME", s->ids.home, 1);
		setenv("USER", s->ids.login, 1);
		setenv("LOGNAME", s->ids.login, 1);
		setenv("SHELL", s->ids.shell, 1);
	}
	for (i = 0; i < s->nenv; i++)
		putenv(s->env[i]);
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("NOTIFY_SOCKET");
	if (nfds > 0) {
		snprintf(num, sizeof(num), "%d", nfds);
		setenv("LISTEN_FDS", num, 1);
		snprintf(num, sizeof(num), "%ld", (long)getpid());
		setenv("LISTEN_PID", num, 1);
		buf[0] = '\0';
		for (j = 0; j < nfds; j++) {
			if (j > 0)
				strlcat(buf, ":", sizeof(buf));
			strlcat(buf, s->name, sizeof(buf));
		}
		setenv("LISTEN_FDNAMES", buf, 1);
	}
	if (s->intercept_bind && sv->shim_path[0] != '\0') {
		if ((old = getenv("LD_PRELOAD")) != NULL && *old != '\0') {
			snprintf(buf, sizeof(buf), "%s:%s", sv->shim_path, old);
			setenv("LD_PRELOAD", buf, 1);
		} else
			setenv("LD_PRELOAD", sv->shim_path, 1);
	}
	setenv("PMC_APP", s->name, 1);
	snprintf(num, sizeof(num), "%d", in->slot);
	setenv("PMC_INSTANCE", num, 1);
	setenv("NODE_APP_INSTANCE", num, 0);	/* as PM2 sets it */
	unsetenv("PMC_CHANNEL_FD");
	unsetenv("NODE_CHANNEL_FD");
	unsetenv("NODE_CHANNEL_SERIALIZATION_MODE");
	unsetenv("NODE_UNIQUE_ID");
	if (chfd != -1) {
		snprintf(num, sizeof(num), "%d", 3 + nfds);
		setenv("PMC_CHANNEL_FD", num, 1);
		setenv("NODE_CHANNEL_FD", num, 1);
		setenv("NODE_CHANNEL_SERIALIZATION_MODE", "json", 1);
		if (s->node_cluster) {
			snprintf(num, sizeof(num), "%d", in->slot + 1);
			setenv("NODE_UNIQUE_ID", num, 1);
		}
	}
	if (s->ready != READY_DELAY && sv->notify_path[0] != '\0')
		setenv("NOTIFY_SOCKET", sv->notify_path, 1);
}

/*
 * Become the spec's user and group, as the loader looked them up when
 * the spec was applied: no look-up here, and never pmcd's own groups.
 * Only root can; for anyone else the loader has checked that they name
 * ourselves, so there is nothing to do.
 */
static int
child_user(const struct app_spec *s)
{
	const struct spec_ids	*ids = &s->ids;

	if (!ids->set || geteuid() != 0)
		return (0);
	if (ids->ngroups == 0) {
		errno = EINVAL;
		return (-1);
	}
	if (setgroups(ids->ngroups, ids->groups) == -1 ||
	    setresgid(ids->gid, ids->gid, ids->gid) == -1 ||
	    setresuid(ids->uid, ids->uid, ids->uid) == -1)
		return (-1);
	return (0);
}

static void __attribute__((__noreturn__))
child(const struct instance *in, int *fds, int nfds, int chfd, int outfd,
    int errfd, int exfd, pid_t parent)
{
	const struct app_spec	*s = in->app->spec;
	sigset_t		 none;
	int			 sig, nullfd, fd;
	int			 more[4] = { outfd, errfd, exfd, chfd };

	child_trim(fds, nfds, more, chfd != -1 ? 4 : 3);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setsid() == -1)
		child_fail(exfd, STAGE_SETUP);
	if ((nullfd = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(nullfd, 0) == -1 || dup2(outfd, 1) == -1 ||
	    dup2(errfd, 2) == -1)
		child_fail(exfd, STAGE_SETUP);
	if ((fd = child_fds(fds, fds + nfds, nfds, chfd, exfd)) == -1)
		child_fail(exfd, STAGE_SETUP);
	exfd = fd;
	/* pmcd raised its own RLIMIT_NOFILE; the instance gets the one
	 * pmcd was started with. */
	setrlimit(RLIMIT_NOFILE, &sv->nofile);
	child_env(in, nfds, chfd);
	if (chdir(s->cwd) == -1)
		child_fail(exfd, STAGE_CWD);
	if (child_user(s) == -1)
		child_fail(exfd, STAGE_USER);
	/* After the user change, which clears it: die with pmcd. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		child_fail(exfd, STAGE_SETUP);
	if (getppid() != parent)
		_exit(127);
	if (s->intercept_bind && sv->shim_path[0] == '\0') {
		errno = ENOENT;
		child_fail(exfd, STAGE_NOSHIM);
	}
	if (s->intercept_bind && shim_can_enter(s->argv[0]) == -1) {
		errno = ENOEXEC;
		child_fail(exfd, STAGE_STATIC);
	}
	execvp(s->argv[0], s->argv);
	child_fail(exfd, STAGE_EXEC);
}

/* The sockets this run holds, by inode, for balance.c. */
static void
held_note(struct instance *in, const int *fds, int nfds)
{
	struct stat	 sb;
	int		 j;

	free(in->held);
	if ((in->held = calloc((size_t)nfds + 1, sizeof(*in->held))) == NULL)
		fatal("calloc");
	for (j = 0; j < nfds; j++)
		if (fstat(fds[j], &sb) == 0)
			in->held[j] = sb.st_ino;
	in->nheld = (size_t)nfds;
}

static int
spawn(struct instance *in)
{
	int			*fds, nfds, outp[2], errp[2], exp[2], chfd = -1;
	pid_t			 pid, parent = getpid();

	nfds = (int)in->app->spec->nlisten;
	/* The sockets, then room for the child to move them (child_fds). */
	if ((fds = calloc((size_t)nfds * 2 + 1, sizeof(int))) == NULL)
		return (-1);
	if (layout_slot_fds(in->app->spec, in->app->fds, in->app->nfds,
	    in->slot, fds) == -1) {
		free(fds);
		errno = EBADF;		/* no socket for this slot */
		return (-1);
	}
	if (pipe2(outp, O_CLOEXEC) == -1) {
		free(fds);
		return (-1);
	}
	if (pipe2(errp, O_CLOEXEC) == -1)
		goto fail_out;
	if (pipe2(exp, O_CLOEXEC | O_NONBLOCK) == -1)
		goto fail_err;
	channel_close(in);
	if (in->app->spec->channel && channel_open(in, &chfd) == -1)
		goto fail_ex;
	if ((pid = fork()) == -1)
		goto fail_ch;
	if (pid == 0)
		child(in, fds, nfds, chfd, outp[1], errp[1], exp[1], parent);
	if (chfd != -1)
		close(chfd);
	held_note(in, fds, nfds);
	free(fds);
	close(outp[1]);
	close(errp[1]);
	close(exp[1]);
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	outpipe_new(in, outp[0], 0);
	outpipe_new(in, errp[0], 1);
	if (in->exec_fd != -1)
		close(in->exec_fd);
	in->exec_fd = exp[0];
	in->pid = pid;
	in->pgid = pid;
	in->pgid_start = leftover_start_time(pid);
	leftover_changed();
	in->started_ms = now_ms();
	in->started_wall_ms = wall_ms();
	in->cpu_base_us = 0;
	in->cpu_sampled_ms = 0;
	in->cpu = 0;
	in->rss = 0;
	in->nprocs = 1;
	in->memory_retry_ms = 0;
	in->status_text[0] = '\0';
	in->cluster_online = 0;
	in->disconnecting = 0;
	pids_add(in);
	sample_arm(in);
	return (0);
fail_ch:
	if (chfd != -1) {
		close(chfd);
		channel_close(in);
	}
fail_ex:
	close(exp[0]);
	close(exp[1]);
fail_err:
	close(errp[0]);
	close(errp[1]);
fail_out:
	close(outp[0]);
	close(outp[1]);
	free(fds);
	return (-1);
}

/* --- the state machine --------------------------------------------------- */

/*
 * What each state is: its name in `pmc list` (the six of pmcd(8)),
 * whether nothing runs in it, and whether it waits for an exit after a
 * stop signal.  The states past the six are what an instance will do
 * once stopped: start again, back off as after a crash, or go for good.
 */
static const struct {
	const char	*name;		/* internal, for -v */
	enum istate	 shown;		/* what pmc list says */
	int		 down;
	int		 stopping;
} states[IS_NSTATES] = {
	[IS_STOPPED] =	  { "stopped",	  IS_STOPPED,  1, 0 },
	[IS_STARTING] =	  { "starting",	  IS_STARTING, 0, 0 },
	[IS_ONLINE] =	  { "online",	  IS_ONLINE,   0, 0 },
	[IS_STOPPING] =	  { "stopping",	  IS_STOPPING, 0, 1 },
	[IS_BACKOFF] =	  { "backoff",	  IS_BACKOFF,  0, 0 },
	[IS_ERRORED] =	  { "errored",	  IS_ERRORED,  1, 0 },
	[IS_RESTARTING] = { "restarting", IS_STOPPING, 0, 1 },
	[IS_FAILING] =	  { "failing",	  IS_STOPPING, 0, 1 },
	[IS_RECYCLING] =  { "recycling",  IS_STOPPING, 0, 1 },
	[IS_DROPPING] =	  { "dropping",	  IS_STOPPING, 0, 1 },
	[IS_DROPPED] =	  { "dropped",	  IS_STOPPED,  1, 0 },
};

static const char *const event_names[IE_NEVENTS] = {
	"start", "stop", "restart", "ready", "exit", "timer", "recycle",
	"drop", "revive"
};

const char *
istate_name(enum istate s)
{
	return (states[states[s].shown].name);
}

int
instance_down(const struct instance *in)
{
	return (states[in->state].down);
}

int
instance_dropped(const struct instance *in)
{
	return (in->state == IS_DROPPING || in->state == IS_DROPPED);
}

/* What pmc events says of an instance that enters state s. */
static void
state_event(const struct instance *in, enum istate s)
{
	const char	*app = in->app->spec->name;
	struct ev_field	 f[2];
	size_t		 n = 0;
	const char	*kind;

	switch (s) {
	case IS_STARTING:
		kind = "start";
		f[n++] = (struct ev_field)EV_NUM("pid", in->pid);
		break;
	case IS_ONLINE:
		kind = "online";
		f[n++] = (struct ev_field)EV_NUM("pid", in->pid);
		break;
	case IS_BACKOFF:
		kind = "restart";
		f[n++] = (struct ev_field)EV_NUM("delay_ms", in->delay_ms);
		break;
	case IS_ERRORED:
		kind = "errored";
		f[n++] = (struct ev_field)EV_STR("reason", in->reason);
		break;
	case IS_STOPPED:
		kind = "stopped";
		break;
	case IS_DROPPED:
		kind = "dropped";
		break;
	default:
		if (!states[s].stopping)
			return;
		kind = "stopping";
		f[n++] = (struct ev_field)EV_NUM("pid", in->pid);
		f[n++] = (struct ev_field)EV_STR("then", s == IS_STOPPING ?
		    "stop" : s == IS_DROPPING ? "drop" : "start");
		break;
	}
	events_emit(kind, app, in->slot, f, n);
}

static void
set_state(struct instance *in, enum istate s)
{
	if (in->state == s)
		return;
	if (events_wanted())
		state_event(in, s);
	in_debug(in, "%s -> %s (pid %d)", states[in->state].name,
	    states[s].name, (int)(in->pid != 0 ? in->pid : in->last_pid));
	in->state = s;
	in->app->changed = 1;
	in->app->rebalance = 1;
}

/*
 * Count a restart: one more in a row of quick ones (in_loop), its next
 * delay doubled; or one after a good run, which starts the row over.
 */
void
instance_count_restart(struct instance *in, int in_loop)
{
	in->restarts++;
	if (in_loop) {
		in->streak++;
		in->delay_ms = backoff_next(in->app->spec, in->delay_ms);
	} else {
		in->streak = 0;
		in->delay_ms = in->app->spec->backoff_initial_ms;
	}
}

/*
 * Spawn, and arm the readiness deadline; a failure (out of descriptors,
 * of processes) backs off, doubling the delay like a crash would.
 */
static void
start(struct instance *in)
{
	const struct app_spec	*s = in->app->spec;
	uint64_t		 ms;

	if (spawn(in) == -1) {
		snprintf(in->reason, sizeof(in->reason), "spawn: %s",
		    strerror(errno));
		if (in->pending)
			in->failed = 1;
		in_warnx(in, "%s, retrying in %llums", in->reason,
		    (unsigned long long)in->delay_ms);
		set_state(in, IS_BACKOFF);
		timer_start(&in->timer, in->delay_ms);
		in->delay_ms = backoff_next(s, in->delay_ms);
		return;
	}
	set_state(in, IS_STARTING);
	if (s->ready == READY_AUTO)
		ms = AUTO_READY_MS;
	else if (s->ready == READY_DELAY)
		ms = s->ready_delay_ms;
	else
		ms = s->ready_timeout_ms;
	timer_start(&in->timer, ms);
}

static void
signal_group(struct instance *in, int sig)
{
	if (in->pgid != 0 && killpg(in->pgid, sig) == -1 && errno != ESRCH)
		in_warnx(in, "killpg %d: %s", (int)in->pgid, strerror(errno));
}

static void	on_exit_(struct instance *);

/* Send stop_signal and wait for the exit in one of the stopping states. */
static void
begin_stop(struct instance *in, enum istate then)
{
	timer_stop(&in->timer);
	set_state(in, then);
	if (in->pid == 0) {		/* nothing to wait for */
		on_exit_(in);
		return;
	}
	in->killed = 0;
	/* A Node cluster worker is asked first; the signal comes later. */
	if ((in->disconnecting = cluster_disconnect(in) == 0) == 0) {
		signal_group(in, in->app->spec->stop_signal);
		signal_group(in, SIGCONT);
	}
	timer_start(&in->timer, in->app->spec->kill_timeout_ms);
}

static void
describe_status(int ws, char *buf, size_t len)
{
	if (WIFEXITED(ws))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(ws));
	else if (WIFSIGNALED(ws))
		snprintf(buf, len, "killed by signal %s%s",
		    signal_name(WTERMSIG(ws)),
		    WCOREDUMP(ws) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "ended with wait status %#x", ws);
}

/*
 * An exec error, read from the pipe the child wrote it to: 1, or 2 for
 * a set-up that ran out of descriptors or memory and may work next time.
 */
static int
exec_error(struct instance *in)
{
	const struct app_spec	*s = in->app->spec;
	struct spawn_error	 se;
	ssize_t			 n;

	if (in->exec_fd == -1)
		return (0);
	n = read(in->exec_fd, &se, sizeof(se));
	close(in->exec_fd);
	in->exec_fd = -1;
	if (n != sizeof(se))
		return (0);
	switch (se.stage) {
	case STAGE_CWD:
		snprintf(in->reason, sizeof(in->reason), "cwd %s: %s",
		    s->cwd, strerror(se.err));
		break;
	case STAGE_USER:
		snprintf(in->reason, sizeof(in->reason), "%s %s: %s",
		    s->user != NULL ? "user" : "group",
		    s->user != NULL ? s->user : s->group, strerror(se.err));
		break;
	case STAGE_EXEC:
		snprintf(in->reason, sizeof(in->reason), "exec %s: %s",
		    s->argv[0], strerror(se.err));
		break;
	case STAGE_STATIC:
		snprintf(in->reason, sizeof(in->reason), "intercept_bind: %s "
		    "is statically linked, so no shim can be preloaded into "
		    "it; have it take its socket from LISTEN_FDS (fd 3) and "
		    "set intercept_bind: false", s->argv[0]);
		break;
	case STAGE_NOSHIM:
		snprintf(in->reason, sizeof(in->reason), "intercept_bind: "
		    "libpmc-shim.so not found (make builds it into lib/; "
		    "make install puts it in its SHIMDIR; PMC_SHIM names it)");
		break;
	default:
		snprintf(in->reason, sizeof(in->reason), "setting up: %s",
		    strerror(se.err));
		if (se.err == EMFILE || se.err == ENFILE || se.err == ENOMEM)
			return (2);
		break;
	}
	return (1);
}

static int
wants_restart(const struct app_spec *s, int ws)
{
	int	 failed = !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

	if (s->restart == RESTART_ALWAYS)
		return (1);
	return (s->restart == RESTART_ON_FAILURE && failed);
}

/* The delay after delay: doubled, up to backoff.max, never 0. */
uint64_t
backoff_next(const struct app_spec *s, uint64_t delay)
{
	delay *= 2;
	if (delay > s->backoff_max_ms)
		delay = s->backoff_max_ms;
	return (delay == 0 ? 1 : delay);
}

/*
 * The restart policy.  An instance that was up for backoff.min_uptime
 * or more before it exited is not in a crash loop: it starts again at
 * once and its delay starts over.  One that exits sooner (or was never
 * ready in time) backs off: backoff.initial, doubled each time up to
 * backoff.max, and after max_restarts such exits in a row it is given
 * up on.
 */
static void
schedule_restart(struct instance *in, int failed_start)
{
	const struct app_spec	*s = in->app->spec;
	uint64_t		 up = in->exited_ms - in->started_ms;
	char			 d[32], m[32];

	if (!failed_start && up >= s->backoff_min_uptime_ms) {
		format_duration(up, d, sizeof(d));
		format_duration(s->backoff_min_uptime_ms, m, sizeof(m));
		in_warnx(in, "%s after %s up (min_uptime %s), restarting now",
		    in->reason, d, m);
		if (events_wanted()) {
			struct ev_field	 f[] = { EV_NUM("delay_ms", 0) };

			events_emit("restart", s->name, in->slot, f, 1);
		}
		instance_count_restart(in, 0);
		start(in);
		return;
	}
	if (s->max_restarts != 0 && in->streak >= s->max_restarts) {
		in_warnx(in, "%s, giving up after %u restarts", in->reason,
		    in->streak);
		strlcat(in->reason, ", gave up (max_restarts)",
		    sizeof(in->reason));
		set_state(in, IS_ERRORED);
		return;
	}
	in_warnx(in, "%s, restarting in %llums", in->reason,
	    (unsigned long long)in->delay_ms);
	set_state(in, IS_BACKOFF);
	timer_start(&in->timer, in->delay_ms);
	instance_count_restart(in, 1);
}

/*
 * The table's actions.  Each is what one (state, event) pair does; the
 * actions that may end in more than one state choose it themselves.
 */

static void
a_none(struct instance *in)
{
	(void)in;
}

/* From a rest state: a fresh start, its crash count forgotten. */
static void
a_fresh_start(struct instance *in)
{
	in->streak = 0;
	in->delay_ms = in->app->spec->backoff_initial_ms;
	start(in);
}

static void
a_start(struct instance *in)
{
	start(in);
}

static void
a_unwait(struct instance *in)		/* backoff, told to stop */
{
	timer_stop(&in->timer);
	set_state(in, IS_STOPPED);
}

static void
a_unwait_drop(struct instance *in)
{
	timer_stop(&in->timer);
	set_state(in, IS_DROPPED);
}

static void
a_drop(struct instance *in)		/* at rest: the slot goes */
{
	set_state(in, IS_DROPPED);
}

static void
a_ready(struct instance *in)
{
	timer_stop(&in->timer);
	in->failed = 0;
	set_state(in, IS_ONLINE);
}

static void
a_stop(struct instance *in)
{
	begin_stop(in, IS_STOPPING);
}

static void
a_restart(struct instance *in)
{
	begin_stop(in, IS_RESTARTING);
}

/* max_memory with no replacement to be had: the caller set the reason. */
static void
a_recycle(struct instance *in)
{
	instance_count_restart(in, 1);
	begin_stop(in, IS_RECYCLING);
}

static void
a_drop_running(struct instance *in)
{
	begin_stop(in, IS_DROPPING);
}

/* Already stopping: only what follows the exit changes. */
static void
a_then_stay(struct instance *in)
{
	set_state(in, IS_STOPPING);
}

static void
a_then_start(struct instance *in)
{
	set_state(in, IS_RESTARTING);
}

static void
a_then_drop(struct instance *in)
{
	set_state(in, IS_DROPPING);
}

/* Not ready in time: with ready: notify a failure, else ready enough. */
static void
a_ready_timeout(struct instance *in)
{
	const struct app_spec	*s = in->app->spec;
	char			 d[32];

	if (s->ready != READY_NOTIFY) {
		a_ready(in);
		return;
	}
	format_duration(s->ready_timeout_ms, d, sizeof(d));
	snprintf(in->reason, sizeof(in->reason),
	    "not ready within %s (ready_timeout)", d);
	in_warnx(in, "%s, stopping it", in->reason);
	if (in->pending || in->surge)
		in->failed = 1;
	/*
	 * A failure like a crash: backoff and max_restarts apply; a
	 * reload's new instance is not restarted (reload.c).
	 */
	begin_stop(in, in->surge ? IS_STOPPING : IS_FAILING);
}

/* The leader exited while nobody asked it to. */
static void
a_crashed(struct instance *in)
{
	int	 ws = in->wstatus, clean, ex;

	timer_stop(&in->timer);
	if (in->pending)
		in->failed = 1;
	if ((ex = exec_error(in)) == 2 && !in->surge) {
		schedule_restart(in, 1);
		return;
	}
	if (ex) {
		in_warnx(in, "%s", in->reason);
		set_state(in, IS_ERRORED);
		return;
	}
	describe_status(ws, in->reason, sizeof(in->reason));
	if (in->surge) {
		/* A reload's new instance gets one chance: see reload.c. */
		in_warnx(in, "new instance %s", in->reason);
		in->failed = 1;
		set_state(in, IS_ERRORED);
		return;
	}
	clean = WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
	if (!wants_restart(in->app->spec, ws)) {
		in_info(in, "%s, not restarting (restart: %s)", in->reason,
		    restart_name(in->app->spec->restart));
		set_state(in, clean ? IS_STOPPED : IS_ERRORED);
		return;
	}
	schedule_restart(in, 0);
}

/* The exit a stop waited for; what follows depends on the state. */
static void
on_exit_(struct instance *in)
{
	timer_stop(&in->timer);
	exec_error(in);
	switch (in->state) {
	case IS_FAILING:
		/* Not ready in time: a failure, as restart sees it. */
		if (in->app->spec->restart == RESTART_NEVER)
			set_state(in, IS_ERRORED);
		else
			schedule_restart(in, 1);
		return;
	case IS_RECYCLING:
		/* Its reason says why it was restarted: keep it. */
		set_state(in, IS_STOPPED);
		start(in);
		return;
	default:
		break;
	}
	/* Keep why a surge failed. */
	if (!(in->surge && in->failed))
		describe_status(in->wstatus, in->reason, sizeof(in->reason));
	switch (in->state) {
	case IS_RESTARTING:
		set_state(in, IS_STOPPED);
		start(in);
		break;
	case IS_DROPPING:
		set_state(in, IS_DROPPED);
		break;
	default:
		set_state(in, IS_STOPPED);
		break;
	}
}

/* Still running kill_timeout after the stop signal: SIGKILL the group. */
static void
a_kill(struct instance *in)
{
	const struct app_spec	*s = in->app->spec;

	if (in->draining && group_gone(in))
		return;
	if (in->disconnecting) {
		in->disconnecting = 0;
		in_warnx(in, "still running %llums after Node's cluster "
		    "disconnect, sending %s",
		    (unsigned long long)s->kill_timeout_ms,
		    signal_name(s->stop_signal));
		signal_group(in, s->stop_signal);
		signal_group(in, SIGCONT);
		timer_start(&in->timer, s->kill_timeout_ms);
		return;
	}
	if (!in->killed)
		in_warnx(in, "still running %llums after %s, sending KILL",
		    (unsigned long long)s->kill_timeout_ms,
		    signal_name(s->stop_signal));
	in->killed = 1;
	signal_group(in, SIGKILL);
	/* Members that are not our children send no SIGCHLD. */
	timer_start(&in->timer, 100);
}

#define _	a_none
#define FRESH	a_fresh_start
#define START	a_start
#define STOP	a_stop
#define RESTART	a_restart
#define DROPR	a_drop_running
#define STAY	a_then_stay
#define THEN	a_then_start
#define THENDR	a_then_drop
#define EXIT	on_exit_
#define KILL	a_kill

/*
 * The whole machine: what each event does in each state.  pmcd(8)
 * describes the same table.
 */
static void (*const machine[IS_NSTATES][IE_NEVENTS])(struct instance *) = {
	/*		  start	 stop	restart	ready	exit	timer	recycle	drop	revive */
	[IS_STOPPED] =	{ FRESH, _,	FRESH,	_,	_,	_,	_,	a_drop,	FRESH },
	[IS_ERRORED] =	{ FRESH, _,	FRESH,	_,	_,	_,	_,	a_drop,	FRESH },
	[IS_DROPPED] =	{ _,	 _,	_,	_,	_,	_,	_,	_,	FRESH },
	[IS_BACKOFF] =	{ START, a_unwait, START, _,	_,	START,	_,
			  a_unwait_drop, START },
	[IS_STARTING] =	{ _,	 STOP,	RESTART, a_ready, a_crashed,
			  a_ready_timeout, _,	DROPR,	_ },
	[IS_ONLINE] =	{ _,	 STOP,	RESTART, _,	a_crashed, _,
			  a_recycle, DROPR, _ },
	[IS_STOPPING] =	{ THEN,	 _,	THEN,	_,	EXIT,	KILL,	_,	THENDR,	THEN },
	[IS_FAILING] =	{ THEN,	 STAY,	THEN,	_,	EXIT,	KILL,	_,	THENDR,	THEN },
	[IS_RESTARTING] = { _,	 STAY,	_,	_,	EXIT,	KILL,	_,	THENDR,	_ },
	[IS_RECYCLING] = { _,	 STAY,	_,	_,	EXIT,	KILL,	_,	THENDR,	_ },
	[IS_DROPPING] =	{ _,	 _,	_,	_,	EXIT,	KILL,	_,	_,	THEN },
};

#undef _
#undef FRESH
#undef START
#undef STOP
#undef RESTART
#undef DROPR
#undef STAY
#undef THEN
#undef THENDR
#undef EXIT
#undef KILL

void
instance_event(struct instance *in, enum ievent ev)
{
	in_debug(in, "%s in %s", event_names[ev], states[in->state].name);
	machine[in->state][ev](in);
}

/* --- exits -------------------------------------------------------------- */

/* Its group is over: what is left of it belongs to an earlier run. */
static void
group_ended(struct instance *in)
{
	in->old_pgid = in->pgid;
	in->pgid = 0;
	sample_ended(in);
	leftover_changed();
}

/*
 * Whose is a child that exited?  Asked before it is reaped, while its
 * /proc entry still says its group: an instance's leader, or a member of
 * an instance's group that pmcd adopted as subreaper.
 */
struct instance *
instance_of_child(pid_t pid, pid_t *pgrp)
{
	struct instance	*in;

	if ((in = instance_by_pid(pid)) != NULL) {
		*pgrp = in->pgid;
		return (in);
	}
	if ((*pgrp = sample_pgrp(pid)) <= 0)
		return (NULL);
	return (instance_by_group(*pgrp));
}

/*
 * A child of in was reaped, with what it used (ru).  For its leader:
 * when it was asked to stop, the rest of its process group gets the
 * rest of kill_timeout to finish (a wrapper script's worker may still
 * be cleaning up); otherwise what is left of the group is killed at
 * once, so that the slot can start afresh.
 */
static void
exit_event(const struct instance *in)
{
	int		 ws = in->wstatus;
	struct ev_field	 f[] = {
		EV_NUM("pid", in->last_pid),
		WIFSIGNALED(ws) ? (struct ev_field)EV_STR("signal",
		    signal_name(WTERMSIG(ws))) :
		    (struct ev_field)EV_NUM("code", WEXITSTATUS(ws)),
		EV_NUM("uptime_ms", in->exited_ms - in->started_ms),
	};

	events_emit("exit", in->app->spec->name, in->slot, f, 3);
}

void
instance_reaped(struct instance *in, pid_t pid, pid_t pgrp, int wstatus,
    const struct rusage *ru)
{
	sample_reaped(in, pgrp, ru);
	if (pid != in->pid)
		return;		/* a member of its group */
	pids_remove(in);
	in->last_pid = in->pid;
	in->pid = 0;
	in->wstatus = wstatus;
	in->exited_ms = now_ms();
	in->exited_wall_ms = wall_ms();
	channel_close(in);
	if (events_wanted())
		exit_event(in);
	if (states[in->state].stopping && killpg(in->pgid, 0) == 0) {
		in->draining = 1;
		return;
	}
	if (killpg(in->pgid, SIGKILL) == 0)
		in_info(in, "killed what was left of process group %d",
		    in->pgid);
	group_ended(in);
	instance_event(in, IE_EXIT);
}

/* Is the process group of a draining instance empty now? */
static int
group_gone(struct instance *in)
{
	if (killpg(in->pgid, 0) == 0 || errno != ESRCH)
		return (0);
	in->draining = 0;
	group_ended(in);
	instance_event(in, IE_EXIT);
	return (1);
}

/* After a round of reaping: finish the stops whose groups are empty. */
void
instances_check_groups(void)
{
	struct app	*app;
	size_t		 i;

	TAILQ_FOREACH(app, &sv->apps, entry) {
		for (i = 0; i < app->ninst; i++)
			if (app->inst[i]->draining)
				group_gone(app->inst[i]);
		if (app->surge != NULL && app->surge->draining)
			group_gone(app->surge);
	}
}

static void
instance_timeout(void *arg)
{
	instance_event(arg, IE_TIMER);
}
