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

#include "home.h"
#include "human.h"
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

int
pid_cmp(struct instance *a, struct instance *b)
{
	return (a->pid < b->pid ? -1 : a->pid > b->pid);
}

RB_GENERATE(pid_tree, instance, by_pid, pid_cmp)

static void	instance_timeout(void *);

int64_t
wall_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

const char *
istate_name(enum istate s)
{
	static const char *names[] = {
		"stopped", "starting", "online", "stopping", "backoff",
		"errored"
	};

	return (names[s]);
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
		RB_REMOVE(pid_tree, &sv->pids, in);
	if (in->pgid != 0)
		leftover_changed();
	if (in->exec_fd != -1)
		close(in->exec_fd);
	free(in);
}

struct instance *
instance_by_pid(pid_t pid)
{
	struct instance	 key;

	key.pid = pid;
	return (RB_FIND(pid_tree, &sv->pids, &key));
}

static void
set_state(struct instance *in, enum istate s)
{
	in->state = s;
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

/* Put the listen sockets at 3.. and the error pipe just past them. */
/* hi: room for nfds descriptors, allocated before the fork. */
static int
child_fds(const int *fds, int *hi, int nfds, int exfd)
{
	int	 i, base = 3 + nfds + 1;

	for (i = 0; i < nfds; i++)
		if ((hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, base)) == -1)
			return (-1);
	if ((exfd = fcntl(exfd, F_DUPFD_CLOEXEC, base)) == -1)
		return (-1);
	for (i = 0; i < nfds; i++)
		if (dup2(hi[i], 3 + i) == -1)
			return (-1);
	if (dup3(exfd, 3 + nfds, O_CLOEXEC) == -1)
		return (-1);
	closefrom(3 + nfds + 1);
	return (3 + nfds);
}

static void
child_env(const struct instance *in, int nfds)
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
child(const struct instance *in, int *fds, int nfds, int outfd,
    int errfd, int exfd, pid_t parent)
{
	const struct app_spec	*s = in->app->spec;
	sigset_t		 none;
	int			 sig, nullfd, more[3] = { outfd, errfd, exfd };

	child_trim(fds, nfds, more, 3);
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
	if ((sig = child_fds(fds, fds + nfds, nfds, exfd)) == -1)
		child_fail(exfd, STAGE_SETUP);
	exfd = sig;
	/* pmcd raised its own RLIMIT_NOFILE; the instance gets the one
	 * pmcd was started with. */
	setrlimit(RLIMIT_NOFILE, &sv->nofile);
	child_env(in, nfds);
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

static int
spawn(struct instance *in)
{
	int			*fds, nfds, outp[2], errp[2], exp[2];
	pid_t			 pid, parent = getpid();

	nfds = app_fd_count(in->app);
	/* The sockets, then room for the child to move them (child_fds). */
	if ((fds = calloc((size_t)nfds * 2 + 1, sizeof(int))) == NULL)
		return (-1);
	if (app_fds_for(in->app, in->slot, fds) == -1) {
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
	if ((pid = fork()) == -1)
		goto fail_ex;
	if (pid == 0)
		child(in, fds, nfds, outp[1], errp[1], exp[1], parent);
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
	in->cpu_ticks = 0;
	in->cpu_sampled_ms = 0;
	in->cpu = 0;
	in->rss = 0;
	in->nprocs = 1;
	in->memory_retry_ms = 0;
	in->status_text[0] = '\0';
	RB_INSERT(pid_tree, &sv->pids, in);
	sample_arm();
	return (0);
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
		log_warnx("%s[%d]: %s, retrying in %llums", s->name, in->slot,
		    in->reason, (unsigned long long)in->delay_ms);
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

/* --- stopping ----------------------------------------------------------- */

static void
signal_group(struct instance *in, int sig)
{
	if (in->pgid != 0 && killpg(in->pgid, sig) == -1 && errno != ESRCH)
		log_warn("%s[%d]: killpg %d", in->app->spec->name, in->slot,
		    in->pgid);
}

static void
begin_stop(struct instance *in, int then_start)
{
	in->restart_after_stop = then_start;
	timer_stop(&in->timer);
	if (in->pid == 0) {
		set_state(in, IS_STOPPED);
		return;
	}
	set_state(in, IS_STOPPING);
	in->killed = 0;
	signal_group(in, in->app->spec->stop_signal);
	signal_group(in, SIGCONT);
	timer_start(&in->timer, in->app->spec->kill_timeout_ms);
}

/* --- exits -------------------------------------------------------------- */

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
 * Back off and restart, or give up after max_restarts in a row; the
 * delay doubles from backoff.initial up to backoff.max, and starts over
 * once an instance stayed up for backoff.reset_after.
 */
static void
schedule_restart(struct instance *in)
{
	const struct app_spec	*s = in->app->spec;

	if (in->exited_ms - in->started_ms >= s->backoff_reset_ms) {
		in->streak = 0;
		in->delay_ms = s->backoff_initial_ms;
	}
	if (s->max_restarts != 0 && in->streak >= s->max_restarts) {
		log_warnx("%s[%d]: %s, giving up after %u restarts", s->name,
		    in->slot, in->reason, in->streak);
		strlcat(in->reason, ", gave up (max_restarts)",
		    sizeof(in->reason));
		set_state(in, IS_ERRORED);
		return;
	}
	log_warnx("%s[%d]: %s, restarting in %llums", s->name, in->slot,
	    in->reason, (unsigned long long)in->delay_ms);
	set_state(in, IS_BACKOFF);
	timer_start(&in->timer, in->delay_ms);
	in->streak++;
	in->restarts++;
	in->delay_ms = backoff_next(s, in->delay_ms);
}

/* The leader exited while nobody asked it to. */
static void
unexpected_exit(struct instance *in)
{
	const struct app_spec	*s = in->app->spec;
	int			 ws = in->wstatus, clean, ex;

	timer_stop(&in->timer);
	if (in->pending)
		in->failed = 1;
	if ((ex = exec_error(in)) == 2 && !in->surge) {
		schedule_restart(in);
		return;
	}
	if (ex) {
		log_warnx("%s[%d]: %s", s->name, in->slot, in->reason);
		set_state(in, IS_ERRORED);
		return;
	}
	describe_status(ws, in->reason, sizeof(in->reason));
	if (in->surge) {
		/* A reload's new instance gets one chance: see reload.c. */
		log_warnx("%s[%d]: new instance %s", s->name, in->slot,
		    in->reason);
		in->failed = 1;
		set_state(in, IS_ERRORED);
		return;
	}
	clean = WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
	if (!wants_restart(s, ws)) {
		log_info("%s[%d]: %s, not restarting (restart: %s)", s->name,
		    in->slot, in->reason, restart_name(s->restart));
		set_state(in, clean ? IS_STOPPED : IS_ERRORED);
		return;
	}
	schedule_restart(in);
}

/*
 * The leader was reaped.  When it was asked to stop, the rest of its
 * process group gets the rest of kill_timeout to finish (a wrapper
 * script's worker may still be cleaning up); otherwise what is left of
 * the group is killed at once, so that the slot can start afresh.
 */
void
instance_reaped(pid_t pid, int wstatus)
{
	struct instance	*in;

	if ((in = instance_by_pid(pid)) == NULL)
		return;		/* an orphan we adopted as subreaper */
	RB_REMOVE(pid_tree, &sv->pids, in);
	in->pid = 0;
	in->wstatus = wstatus;
	in->exited_ms = now_ms();
	in->exited_wall_ms = wall_ms();
	if (in->state == IS_STOPPING && killpg(in->pgid, 0) == 0) {
		in->draining = 1;
		return;
	}
	if (killpg(in->pgid, SIGKILL) == 0)
		log_info("%s[%d]: killed what was left of process group %d",
		    in->app->spec->name, in->slot, in->pgid);
	in->pgid = 0;
	leftover_changed();
	instance_event(in, IE_EXIT);
}

/* Is the process group of a draining instance empty now? */
static int
group_gone(struct instance *in)
{
	if (killpg(in->pgid, 0) == 0 || errno != ESRCH)
		return (0);
	in->draining = 0;
	in->pgid = 0;
	leftover_changed();
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

/* --- the state machine --------------------------------------------------- */

static void
became_ready(struct instance *in)
{
	timer_stop(&in->timer);
	in->failed = 0;
	set_state(in, IS_ONLINE);
}

static void
starting_event(struct instance *in, enum ievent ev)
{
	const struct app_spec	*s = in->app->spec;
	char			 d[32];

	switch (ev) {
	case IE_READY:
		became_ready(in);
		break;
	case IE_TIMER:
		if (s->ready != READY_NOTIFY) {
			became_ready(in);
			break;
		}
		format_duration(s->ready_timeout_ms, d, sizeof(d));
		snprintf(in->reason, sizeof(in->reason),
		    "not ready within %s (ready_timeout)", d);
		log_warnx("%s[%d]: %s, stopping it", s->name, in->slot,
		    in->reason);
		if (in->pending || in->surge)
			in->failed = 1;
		/*
		 * A failure like a crash: backoff and max_restarts apply;
		 * a reload's new instance is not restarted (reload.c).
		 */
		begin_stop(in, 0);
		in->timed_out = !in->surge;
		break;
	case IE_STOP:
		begin_stop(in, 0);
		break;
	case IE_RESTART:
		begin_stop(in, 1);
		break;
	case IE_EXIT:
		unexpected_exit(in);
		break;
	case IE_START:
		break;
	}
}

static void
stopping_event(struct instance *in, enum ievent ev)
{
	switch (ev) {
	case IE_EXIT:
		timer_stop(&in->timer);
		exec_error(in);
		if (in->timed_out) {
			/* Not ready in time: a failure, as restart sees it. */
			in->timed_out = 0;
			if (in->app->spec->restart == RESTART_NEVER)
				set_state(in, IS_ERRORED);
			else
				schedule_restart(in);
			break;
		}
		/* Keep why a surge failed, or why it was restarted. */
		if (!(in->surge && in->failed) && !in->memory_restart)
			describe_status(in->wstatus, in->reason,
			    sizeof(in->reason));
		in->memory_restart = 0;
		set_state(in, IS_STOPPED);
		if (in->restart_after_stop) {
			in->restart_after_stop = 0;
			start(in);
		}
		break;
	case IE_TIMER:
		if (in->draining && group_gone(in))
			break;
		if (!in->killed)
			log_warnx("%s[%d]: still running %llums after %s, "
			    "sending KILL", in->app->spec->name, in->slot,
			    (unsigned long long)in->app->spec->kill_timeout_ms,
			    signal_name(in->app->spec->stop_signal));
		in->killed = 1;
		signal_group(in, SIGKILL);
		/* Members that are not our children send no SIGCHLD. */
		timer_start(&in->timer, 100);
		break;
	case IE_START:
	case IE_RESTART:
		in->restart_after_stop = 1;
		in->timed_out = 0;
		break;
	case IE_STOP:
		in->restart_after_stop = 0;
		in->timed_out = 0;
		in->memory_restart = 0;
		break;
	case IE_READY:
		break;
	}
}

void
instance_event(struct instance *in, enum ievent ev)
{
	/* A slot being dropped never starts again. */
	if (in->doomed && (ev == IE_START || ev == IE_RESTART))
		ev = IE_STOP;
	switch (in->state) {
	case IS_STOPPED:
	case IS_ERRORED:
		if (ev == IE_START || ev == IE_RESTART) {
			in->streak = 0;
			in->delay_ms = in->app->spec->backoff_initial_ms;
			start(in);
		}
		break;
	case IS_BACKOFF:
		if (ev == IE_START || ev == IE_RESTART || ev == IE_TIMER)
			start(in);
		else if (ev == IE_STOP) {
			timer_stop(&in->timer);
			set_state(in, IS_STOPPED);
		}
		break;
	case IS_STARTING:
		starting_event(in, ev);
		break;
	case IS_ONLINE:
		if (ev == IE_STOP || ev == IE_RESTART)
			begin_stop(in, ev == IE_RESTART);
		else if (ev == IE_EXIT)
			unexpected_exit(in);
		break;
	case IS_STOPPING:
		stopping_event(in, ev);
		break;
	}
}
