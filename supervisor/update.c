/*
 * update.c -- `pmc update` and SIGUSR2: pmcd executes a new binary in
 * its own process (the same pid, so the instances stay its children and
 * systemd's MainPID does not change), handing it its state (state.h).
 *
 * Nothing is lost when it goes wrong: the new binary must be trusted as
 * a spec file is, and answer `pmcd --check-state VERSION` with 0 before
 * anything changes; when the exec itself fails the descriptors get their
 * close-on-exec back and pmcd goes on.  Past a successful exec the new
 * pmcd answers the client that asked (restore.c).
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "control.h"
#include "events.h"
#include "log.h"
#include "pmcd.h"
#include "specfile.h"
#include "state.h"

#define CHECK_MS	5000	/* the new binary answers --check-state */

static char	 self[PATH_MAX];	/* what pmcd was started from */

void
update_self_init(void)
{
	ssize_t	 n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		n = 0;
	self[n] = '\0';
}

/* Why pmcd cannot update now, or NULL. */
static const char *
busy(struct client *c, char *buf, size_t len)
{
	struct app	*app;

	if (sv->stopping)
		return ("pmcd is shutting down");
	if (specread_busy())
		return ("the spec files of a SIGHUP are being read");
	TAILQ_FOREACH(app, &sv->apps, entry) {
		if (app->deleting)
			snprintf(buf, len, "%s is being deleted",
			    app->spec->name);
		else if (reload_running(app))
			snprintf(buf, len, "%s is reloading", app->spec->name);
		else
			continue;
		return (buf);
	}
	if (control_waiting(c))
		return ("another request waits for its instances");
	if (channel_busy())
		return ("a channel holds a handle not yet acknowledged");
	return (NULL);
}

/*
 * Run bin --check-state VERSION, at most CHECK_MS: 0, or -1 with why
 * (its first line when it said one).
 */
static int
check_binary(const char *bin, char *why, size_t len)
{
	struct pollfd	 pfd;
	sigset_t	 none;
	char		 out[256], num[16];
	size_t		 got = 0;
	ssize_t		 n;
	pid_t		 pid;
	int		 p[2], st = 0, waited = 0;

	if (specfile_trusted(bin, geteuid(), why, len) == -1)
		return (-1);
	if (access(bin, X_OK) == -1) {
		snprintf(why, len, "%s: %s", bin, strerror(errno));
		return (-1);
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return (-1);
	}
	snprintf(num, sizeof(num), "%d", PMCD_STATE_VERSION);
	if ((pid = fork()) == -1) {
		snprintf(why, len, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return (-1);
	}
	if (pid == 0) {
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl(bin, "pmcd", "--check-state", num, (char *)NULL);
		dprintf(1, "exec: %s\n", strerror(errno));
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	while (got < sizeof(out) - 1 && waited < CHECK_MS) {
		if (poll(&pfd, 1, 100) == 0) {
			waited += 100;
			continue;
		}
		if ((n = read(p[0], out + got, sizeof(out) - 1 - got)) <= 0)
			break;
		got += (size_t)n;
	}
	close(p[0]);
	out[got] = '\0';
	out[strcspn(out, "\n")] = '\0';
	if (waited >= CHECK_MS)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (waited >= CHECK_MS)
		snprintf(why, len, "%s --check-state did not answer in %d s",
		    bin, CHECK_MS / 1000);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return (0);
	else if (out[0] != '\0')
		snprintf(why, len, "%s refused: %.200s", bin, out);
	else if (WIFEXITED(st))
		snprintf(why, len, "%s --check-state %d exited with status %d",
		    bin, PMCD_STATE_VERSION, WEXITSTATUS(st));
	else
		snprintf(why, len, "%s --check-state %d was killed by signal "
		    "%d", bin, PMCD_STATE_VERSION, WTERMSIG(st));
	return (-1);
}

static void
save_instance(const struct instance *in, struct state_out *o)
{
	struct pbuf	 held = { 0 };
	size_t		 i;

	for (i = 0; i < in->nheld; i++)
		pbuf_printf(&held, "%s%llu", i > 0 ? "," : "",
		    (unsigned long long)in->held[i]);
	state_begin(o, "inst");
	state_num(o, "slot", in->slot);
	state_str(o, "state", istate_name(in->state));
	state_num(o, "istate", in->state);
	state_num(o, "pid", in->pid);
	state_num(o, "last_pid", in->last_pid);
	state_num(o, "pgid", in->pgid);
	state_unum(o, "pgid_start", in->pgid_start);
	state_num(o, "draining", in->draining);
	state_num(o, "killed", in->killed);
	state_fd(o, "exec_fd", in->exec_fd);
	state_bytes(o, "held", held.data != NULL ? held.data : "", held.len);
	state_num(o, "failed", in->failed);
	state_unum(o, "restarts", in->restarts);
	state_unum(o, "streak", in->streak);
	state_unum(o, "delay_ms", in->delay_ms);
	state_unum(o, "started_ms", in->started_ms);
	state_num(o, "started_wall_ms", in->started_wall_ms);
	state_unum(o, "exited_ms", in->exited_ms);
	state_num(o, "exited_wall_ms", in->exited_wall_ms);
	state_num(o, "wstatus", in->wstatus);
	state_str(o, "reason", in->reason);
	state_str(o, "status_text", in->status_text);
	if (timer_armed(&in->timer))
		state_unum(o, "timer", in->timer.when);
	state_num(o, "cluster_online", in->cluster_online);
	state_num(o, "disconnecting", in->disconnecting);
	state_num(o, "cpu_base_us", in->cpu_base_us);
	state_num(o, "cpu_old_us", in->cpu_old_us);
	state_unum(o, "cpu_total_us", in->cpu_total_us);
	state_num(o, "old_pgid", in->old_pgid);
	state_unum(o, "memory_retry_ms", in->memory_retry_ms);
	state_unum(o, "replaced_ms", in->replaced_ms);
	state_unum(o, "over_ms", in->over_ms);
	state_unum(o, "memory_failures", in->memory_failures);
	state_end(o);
	channel_save(in, o);
	pbuf_free(&held);
}

static int
save_app(const struct app *app, struct state_out *o)
{
	char		*yaml = NULL;
	size_t		 len = 0, i;
	FILE		*f;
	int		 rc;

	if ((f = open_memstream(&yaml, &len)) == NULL)
		return (-1);
	rc = spec_write_yaml(&app->spec, 1, f);
	if (fclose(f) == EOF || rc == -1) {
		free(yaml);
		return (-1);
	}
	state_begin(o, "app");
	state_str(o, "name", app->spec->name);
	state_str(o, "file", app->file);
	state_str(o, "env", app->spec->envname);
	state_num(o, "pm2", app->spec->pm2);
	state_unum(o, "nfds", app->nfds);
	state_unum(o, "ninst", app->ninst);
	state_num(o, "drained", app->drained);
	state_unum(o, "drain_ms", app->drain_ms);
	state_unum(o, "drain_seen", app->drain_seen);
	state_bytes(o, "yaml", yaml, len);
	state_end(o);
	free(yaml);
	for (i = 0; i < app->nfds; i++) {
		state_begin(o, "afd");
		state_unum(o, "i", i);
		state_fd(o, "fd", app->fds[i]);
		state_end(o);
	}
	for (i = 0; i < app->ncluster; i++) {
		state_begin(o, "csock");
		state_str(o, "key", app->cluster[i].key);
		state_fd(o, "fd", app->cluster[i].fd);
		state_end(o);
	}
	balance_save(app, o);
	for (i = 0; i < app->ninst; i++)
		save_instance(app->inst[i], o);
	return (0);
}

/* The whole state to fd; the descriptors it names in o. */
static int
save(int fd, struct client *c, const char *bin, struct state_out *o)
{
	struct app	*app;
	int		 rc = 0;

	if ((o->f = fdopen(dup(fd), "w")) == NULL)
		return (-1);
	fprintf(o->f, "pmcd-state %d\n", PMCD_STATE_VERSION);
	state_begin(o, "pmcd");
	state_fd(o, "lock", sv->lock_fd);
	state_unum(o, "nofile_cur", sv->nofile.rlim_cur);
	state_unum(o, "nofile_max", sv->nofile.rlim_max);
	state_str(o, "binary", bin);
	state_str(o, "from", self);
	state_end(o);
	control_save(o, c);
	notify_save(o);
	metrics_save(o);
	TAILQ_FOREACH(app, &sv->apps, entry)
		if (save_app(app, o) == -1)
			rc = -1;
	logs_save(o);
	fputs("end\n", o->f);
	if (fclose(o->f) == EOF)
		rc = -1;
	o->f = NULL;
	return (rc);
}

static void
cloexec(const struct state_out *o, int on)
{
	size_t	 i;

	for (i = 0; i < o->nfds; i++)
		fcntl(o->fds[i], F_SETFD, on ? FD_CLOEXEC : 0);
}

/* Execute bin with our state; returns only when that failed, with why. */
static void
exec_new(const char *bin, struct client *c, char *why, size_t len)
{
	struct state_out o = { 0 };
	char		 num[16];
	char		*argv[6];
	int		 fd, n = 0;

	if ((fd = memfd_create("pmcd-state", 0)) == -1) {
		snprintf(why, len, "memfd_create: %s", strerror(errno));
		return;
	}
	sdnotify_reloading();
	control_update_drop(c);
	if (save(fd, c, bin, &o) == -1 || lseek(fd, 0, SEEK_SET) == -1) {
		snprintf(why, len, "writing the state: %s", strerror(errno));
		goto fail;
	}
	snprintf(num, sizeof(num), "%d", fd);
	argv[n++] = (char *)"pmcd";
	argv[n++] = (char *)"--state-fd";
	argv[n++] = num;
	if (sv->fg)
		argv[n++] = (char *)"-f";
	if (sv->verbose)
		argv[n++] = (char *)"-v";
	argv[n] = NULL;
	log_info("updating: executing %s", bin);
	sdnotify_env(1);
	cloexec(&o, 0);
	balance_release(0);
	execv(bin, argv);
	snprintf(why, len, "exec %s: %s", bin, strerror(errno));
	balance_release(1);
	cloexec(&o, 1);
	sdnotify_env(0);
fail:
	close(fd);
	free(o.fds);
}

/*
 * MSG_UPDATE (c) or SIGUSR2 (c NULL): fields, the binary ("": the one
 * pmcd was started from).  On success this never returns.
 */
void
update_request(struct client *c, const char **f, int n)
{
	char		 why[PATH_MAX + 256], buf[SPEC_NAME_MAX + 64];
	const char	*bin = n > 0 && f[0][0] != '\0' ? f[0] : self, *b;

	if ((b = busy(c, buf, sizeof(buf))) != NULL) {
		snprintf(why, sizeof(why), "%s; pmc update again when it has "
		    "ended", b);
	} else if (bin[0] != '/') {
		snprintf(why, sizeof(why), "%s: not an absolute path",
		    bin[0] != '\0' ? bin : "pmcd's own binary");
	} else if (check_binary(bin, why, sizeof(why)) == 0) {
		exec_new(bin, c, why, sizeof(why));
		sdnotify_tick();
	}
	log_warnx("update: %s", why);
	if (c != NULL) {
		reply_errf(c, "update: %s", why);
		reply_exit(c, 1);
	}
}
