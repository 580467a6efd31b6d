/*
 * pmcd.c -- the supervisor daemon: its arguments and environment, start-up,
 * signals, and the main loop (main, at the end, reads in that order).
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "home.h"
#include "listen.h"
#include "log.h"
#include "pmcd.h"
#include "specfile.h"
#include "state.h"

static struct pmcd	 the_pmcd;
struct pmcd		*sv = &the_pmcd;

static struct watch	 sigw = { .fd = -1 };
static int		 made_files;	/* pmc.sock and pmcd.pid are ours */
static int		 ready_fd = -1;	/* to the parent, when detaching */

static void		 reread_files(void);

static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr, "usage: pmcd [-f] [-v] [--resurrect] "
	    "[--metrics address] [file ...]\n"
	    "       pmcd -n [-v | -w] file ...\n"
	    "       pmcd --check-state version\n");
	exit(2);
}

/* -n -w: every app of every file, as one dump. */
static int
write_files(char **files, int n)
{
	struct spec		**specs;
	struct spec_errors	 errs = { NULL, 0 };
	struct app_spec		**apps = NULL, **a;
	size_t			 i, j, napps = 0, ns = 0;
	int			 k, rc = 0;

	if ((specs = calloc((size_t)n + 1, sizeof(*specs))) == NULL)
		fatal("calloc");
	for (k = 0; k < n; k++)
		if (spec_load(files[k], &specs[ns], &errs) == 0)
			ns++;
	for (i = 0; i < errs.count; i++)
		fprintf(stderr, "pmcd: %s\n", errs.msgs[i]);
	for (i = 0; i < ns && errs.count == 0; i++)
		for (j = 0; j < specs[i]->napps; j++) {
			if ((a = reallocarray(apps, napps + 1,
			    sizeof(*apps))) == NULL)
				fatal("reallocarray");
			apps = a;
			apps[napps++] = specs[i]->apps[j];
		}
	if (errs.count > 0 || spec_write_yaml(apps, napps, stdout) == -1)
		rc = 1;
	spec_errors_clear(&errs);
	free(apps);
	for (i = 0; i < ns; i++)
		spec_free(specs[i]);
	free(specs);
	return (rc);
}

/* -n: check the files, print every error, apply nothing; -v: print
 * what they mean; -w: as a dump. */
static int
check_files(char **files, int n, int verbose, int yaml)
{
	struct spec		*spec;
	struct spec_errors	 errs = { NULL, 0 };
	size_t			 i;
	int			 k, bad = 0;

	if (n == 0)
		usage();
	if (yaml)
		return (write_files(files, n));
	for (k = 0; k < n; k++) {
		if (spec_load(files[k], &spec, &errs) == -1) {
			bad = 1;
			continue;
		}
		if (verbose)
			spec_dump(spec, stdout);
		spec_free(spec);
	}
	for (i = 0; i < errs.count; i++)
		fprintf(stderr, "pmcd: %s\n", errs.msgs[i]);
	spec_errors_clear(&errs);
	if (bad)
		return (1);
	printf("configuration OK\n");
	return (0);
}

/*
 * Reap every child that exited: first a look without reaping (its /proc
 * entry says its group), then wait4 for what it used.
 */
static void
reap(void)
{
	struct instance	*in;
	struct rusage	 ru;
	siginfo_t	 si;
	pid_t		 pid, pgrp;
	int		 ws;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("waitid");
			break;
		}
		if ((pid = si.si_pid) == 0)
			break;
		in = instance_of_child(pid, &pgrp);
		if (wait4(pid, &ws, WNOHANG, &ru) <= 0) {
			if (errno == EINTR)
				continue;
			log_warn("wait4 %d", (int)pid);
			break;
		}
		if (in != NULL)
			instance_reaped(in, pid, pgrp, ws, &ru);
	}
	instances_check_groups();
}

static void
shutdown_all(const char *why)
{
	if (!sv->stopping) {
		log_info("%s: stopping every app", why);
		sdnotify_stopping();
	}
	sv->stopping = 1;
	apps_stop_all();
}

static void
signal_read(struct watch *w, uint32_t events)
{
	struct signalfd_siginfo	 si;

	(void)events;
	while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap();
			break;
		case SIGTERM:
			shutdown_all("SIGTERM");
			break;
		case SIGINT:
			shutdown_all("SIGINT");
			break;
		case SIGUSR1:
			logs_reopen(NULL);
			break;
		case SIGUSR2:
			update_request(NULL, NULL, 0);
			break;
		case SIGHUP:
			if (!sv->stopping) {
				sdnotify_reloading();
				reread_files();
			}
			break;
		default:
			break;
		}
	}
}

static void
signals_init(void)
{
	sigset_t	 set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
	signal(SIGPIPE, SIG_IGN);
	if ((sigw.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	sigw.fn = signal_read;
	if (watch_add(&sigw, EPOLLIN) == -1)
		fatal("epoll_ctl");
}

/* One pmcd per PMC_HOME: hold an exclusive lock for our whole life. */
static void
take_lock(void)
{
	char	 path[PATH_MAX], pid[32] = "";
	FILE	*f;
	int	 fd;

	home_path(path, sizeof(path), "pmcd.lock");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		fatal("%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		home_path(path, sizeof(path), "pmcd.pid");
		if ((f = fopen(path, "re")) != NULL) {
			if (fgets(pid, sizeof(pid), f) == NULL)
				pid[0] = '\0';
			fclose(f);
		}
		pid[strcspn(pid, "\n")] = '\0';
		fatalx("already running for %s (pid %s)", pmc_home(),
		    pid[0] != '\0' ? pid : "?");
	}
	sv->lock_fd = fd;
}

static void
write_pidfile(void)
{
	char	 path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE	*f;

	home_path(path, sizeof(path), "pmcd.pid");
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if ((f = fopen(tmp, "we")) == NULL)
		fatal("%s", tmp);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) == EOF || rename(tmp, path) == -1)
		fatal("%s", path);
}

/* Fork twice; the parent waits for "ready" and exits 0, or 1. */
static void
detach(void)
{
	char	 c = 0;
	int	 p[2];
	pid_t	 pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0) {
		close(p[1]);
		while (read(p[0], &c, 1) == -1 && errno == EINTR)
			;
		_exit(c == 'r' ? 0 : 1);
	}
	close(p[0]);
	if (setsid() == -1)
		fatal("setsid");
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	ready_fd = p[1];
}

/* Detached: say we are up, then send our output to pmcd.log. */
static void
announce_ready(void)
{
	char	 path[PATH_MAX];
	int	 fd;

	if (ready_fd == -1)
		return;
	home_path(path, sizeof(path), "pmcd.log");
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd != -1) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) != -1) {
		dup2(fd, 0);
		close(fd);
	}
	log_reinit(1);
	(void)!write(ready_fd, "r", 1);
	close(ready_fd);
	ready_fd = -1;
}

/* Apply specs whole, as pmc start would; -1 with the errors logged. */
static int
apply_specs(struct spec **specs, size_t ns)
{
	struct pbuf	 perr = { 0 }, out = { 0 };
	const char	*fields[PMC_FIELDS_MAX];
	int		 k, nf, rc = 0;

	if (app_apply(specs, ns, NULL, 0, &perr, &out) == -1) {
		nf = proto_fields(perr.data, perr.len, fields, PMC_FIELDS_MAX);
		for (k = 0; k < nf; k++)
			log_warnx("%s", fields[k]);
		rc = -1;
	}
	pbuf_free(&perr);
	pbuf_free(&out);
	return (rc);
}

/*
 * Load files and apply them whole; -1 when anything was wrong.  Only
 * before the loop runs: the names they hold are looked up here.
 */
static int
apply_files(char **files, size_t n)
{
	struct spec		**specs;
	struct spec_errors	 errs = { NULL, 0 };
	size_t			 i, ns = 0;
	int			 rc = 0;

	if ((specs = calloc(n + 1, sizeof(*specs))) == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++)
		if (spec_load(files[i], &specs[ns], &errs) == 0)
			ns++;
	for (i = 0; i < errs.count; i++)
		log_warnx("%s", errs.msgs[i]);
	if (errs.count > 0 || apply_specs(specs, ns) == -1)
		rc = -1;
	for (i = 0; i < ns; i++)
		spec_free(specs[i]);
	free(specs);
	spec_errors_clear(&errs);
	return (rc);
}

/* The files given on the command line, made absolute. */
static void
load_files(char **files, int n)
{
	char	 real[PATH_MAX], **abs;
	int	 k;

	if (n == 0)
		return;
	if ((abs = calloc((size_t)n + 1, sizeof(*abs))) == NULL)
		fatal("calloc");
	for (k = 0; k < n; k++) {
		if (realpath(files[k], real) == NULL)
			fatal("%s", files[k]);
		if ((abs[k] = strdup(real)) == NULL)
			fatal("strdup");
	}
	if (apply_files(abs, (size_t)n) == -1)
		fatalx("nothing started");
	for (k = 0; k < n; k++)
		free(abs[k]);
	free(abs);
}

/* --resurrect: start what `pmc save` wrote; no dump, no apps. */
static void
load_dump(void)
{
	struct spec	*spec;
	struct pbuf	 perr = { 0 }, out = { 0 };
	const char	*fields[PMC_FIELDS_MAX];
	char		 why[PATH_MAX + 64];
	int		 k, nf;

	if (dump_load(&spec, why, sizeof(why)) == -1)
		fatalx("--resurrect: %s", why);
	if (spec == NULL) {
		log_info("--resurrect: no saved apps");
		return;
	}
	if (app_apply(&spec, 1, NULL, 0, &perr, &out) == -1) {
		nf = proto_fields(perr.data, perr.len, fields, PMC_FIELDS_MAX);
		for (k = 0; k < nf; k++)
			log_warnx("%s", fields[k]);
		fatalx("--resurrect: nothing started");
	}
	spec_free(spec);
	pbuf_free(&perr);
	pbuf_free(&out);
}

static void
reread_done(struct spec **specs, size_t n)
{
	if (apply_specs(specs, n) == -1)
		log_warnx("SIGHUP: nothing applied");
}

/*
 * SIGHUP: read every file the running apps came from, apply as start.
 * A child reads them (specread.c): the loop goes on meanwhile.
 */
static void
reread_files(void)
{
	struct app	*app;
	char		**files;
	size_t		 n = 0, i;

	TAILQ_FOREACH(app, &sv->apps, entry)
		n++;
	if ((files = calloc(n + 1, sizeof(*files))) == NULL)
		fatal("calloc");
	n = 0;
	TAILQ_FOREACH(app, &sv->apps, entry) {
		if (app->deleting)
			continue;
		if (app->spec->pm2) {
			log_info("SIGHUP: %s: from the PM2 process file %s, "
			    "not read again (pmcd never runs JavaScript, nor "
			    "knows its --env): run pmc start with it",
			    app->spec->name, app->file);
			continue;
		}
		for (i = 0; i < n; i++)
			if (strcmp(files[i], app->file) == 0)
				break;
		if (i == n)
			files[n++] = app->file;
	}
	log_info("SIGHUP: re-reading %zu spec file%s", n, n == 1 ? "" : "s");
	specread_start(files, n, reread_done);
	free(files);
}

/* --check-state: can this binary take a state of that version? */
static int
check_state(int version)
{
	if (version == PMCD_STATE_VERSION)
		return (0);
	printf("state version %d; this pmcd reads version %d\n", version,
	    PMCD_STATE_VERSION);
	return (1);
}

/* Soft RLIMIT_NOFILE to the hard one; instances get back the first. */
static void
raise_nofile(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit RLIMIT_NOFILE");
		rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	}
	sv->nofile = rl;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE");
	}
}

/* On any exit, fatal ones too: leave no socket or pid file behind. */
static void
remove_files(void)
{
	char	 path[PATH_MAX];

	if (!made_files)
		return;
	home_path(path, sizeof(path), "pmc.sock");
	unlink(path);
	home_path(path, sizeof(path), "pmcd.pid");
	unlink(path);
}

/* Our user's and group's names, for describe (NSS may block later). */
static void
names_init(void)
{
	struct passwd	*pw;
	struct group	*gr;

	if ((pw = getpwuid(geteuid())) != NULL)
		strlcpy(sv->user, pw->pw_name, sizeof(sv->user));
	if ((gr = getgrgid(getegid())) != NULL)
		strlcpy(sv->group, gr->gr_name, sizeof(sv->group));
}

/* What the command line and the environment ask for. */
struct options {
	int		 fg;		/* -f: stay in the foreground */
	int		 check;		/* -n */
	int		 verbose;	/* -v: with -n, print; else log
					   every transition */
	int		 yaml;		/* -w */
	int		 resurrect;
	const char	*metrics;	/* --metrics, PMCD_METRICS */
	int		 state_fd;	/* --state-fd: an update's, or -1 */
	int		 check_state;	/* --check-state: a version, or -1 */
	char		**files;
	int		 nfiles;
};

static void
arguments(int argc, char *argv[], struct options *o)
{
	int		 ch;
	static const struct option longopts[] = {
		{ "metrics", required_argument, NULL, 'm' },
		{ "resurrect", no_argument, NULL, 'r' },
		{ "state-fd", required_argument, NULL, 'S' },
		{ "check-state", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*errstr;

	while ((ch = getopt_long(argc, argv, "fhnvw", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->fg = 1;
			break;
		case 'm':
			o->metrics = optarg;
			break;
		case 'n':
			o->check = 1;
			break;
		case 'r':
			o->resurrect = 1;
			break;
		case 'S':
			o->state_fd = (int)strtonum(optarg, 3, INT_MAX, &errstr);
			if (errstr != NULL)
				usage();
			break;
		case 'C':
			o->check_state = (int)strtonum(optarg, 0, INT_MAX,
			    &errstr);
			if (errstr != NULL)
				usage();
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'w':
			o->yaml = 1;
			break;
		default:
			usage();
		}
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	if ((o->yaml && !o->check) || (o->verbose && o->yaml))
		usage();
}

/*
 * What pmcd takes from its environment, then removes so that instances
 * never inherit it: the metrics address, the service manager's notify
 * socket and watchdog, and what a service manager or a shim set for
 * pmcd itself.
 */
static void
environment(struct options *o)
{
	static char	 maddr[256];	/* outlives PMCD_METRICS */
	const char	*m;

	if (o->metrics == NULL && (m = getenv("PMCD_METRICS")) != NULL)
		o->metrics = strlcpy(maddr, m, sizeof(maddr)) <
		    sizeof(maddr) ? maddr : NULL;
	/* Under systemd (journal) or as a container's PID 1, the lines of
	 * instances also go to our stdout unless a spec says otherwise. */
	sv->log_to_auto = o->fg && (getenv("JOURNAL_STREAM") != NULL ||
	    getpid() == 1) ? LOGS_TO_BOTH : LOGS_TO_FILE;
	sdnotify_init();	/* NOTIFY_SOCKET, WATCHDOG_*: ours */
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	unsetenv("PMCD_METRICS");
	unsetenv("PMC_SHIM_PID");	/* a shim's, if we run under one */
	unsetenv("PMC_SHIM_FDS");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("NOTIFY_SOCKET");
}

/* Start up, serve until stopped, clean up; the exit status. */
static int
run(struct options *o)
{
	char	 path[PATH_MAX], why[PATH_MAX + 128];

	sv->fg = o->fg;
	sv->verbose = o->verbose;
	if (o->state_fd == -1) {
		if (home_check(pmc_home(), 1, why, sizeof(why)) == -1)
			fatalx("%s", why);
		if (!o->fg)
			detach();
		take_lock();
		leftover_end();
	}
	update_self_init();
	loop_init();
	if (o->state_fd == -1 && o->metrics != NULL && *o->metrics != '\0' &&
	    metrics_listen(o->metrics, why, sizeof(why)) == -1)
		fatalx("--metrics: %s", why);
	if (mkdir(pmc_logdir(), 0700) == -1 && errno != EEXIST)
		fatal("%s", pmc_logdir());
	sample_then(reload_memory_check);
	channel_init(message_from);
	shim_locate(sv->shim_path, sizeof(sv->shim_path));
	raise_nofile();
	names_init();
	TAILQ_INIT(&sv->apps);
	RB_INIT(&sv->pids);
	signals_init();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER");
	home_path(path, sizeof(path), "pmc.sock");
	made_files = 1;
	atexit(remove_files);
	if (o->state_fd != -1) {
		/* pmc update: the old binary's apps, sockets and clients. */
		if (state_restore(o->state_fd, why, sizeof(why)) == -1)
			fatalx("update: %s", why);
		sdnotify_updated();
		reap();
	} else {
		control_init(path);
		notify_init();
		write_pidfile();
		if (o->resurrect)
			load_dump();
		load_files(o->files, o->nfiles);
		announce_ready();
		log_info("pmcd %ld ready, PMC_HOME %s", (long)getpid(),
		    pmc_home());
		/* Here, not in metrics_listen: pmc start's terminal is not
		 * ours. */
		if (o->metrics != NULL && *o->metrics != '\0')
			log_info("metrics on http://%s/metrics", o->metrics);
	}

	while (!(sv->stopping && apps_all_stopped())) {
		loop_once();
		reloads_step();
		balances_step();
		apps_gc();
		control_changed();
		sdnotify_tick();
		leftover_sync();
	}
	leftover_clear();
	control_changed();
	control_close();
	metrics_close();
	outpipes_close();
	apps_free_all();
	loop_end();
	home_path(path, sizeof(path), "pmcd.pid");
	unlink(path);
	log_info("every app stopped, exiting");
	return (sv->exit_status);
}

int
main(int argc, char *argv[])
{
	struct options	 o = { 0 };

	o.state_fd = o.check_state = -1;
	arguments(argc, argv, &o);
	if (o.check)
		return (check_files(o.files, o.nfiles, o.verbose, o.yaml));
	if (o.check_state != -1)
		return (check_state(o.check_state));
	/* Nothing the caller left open outlives this point, but sockets
	 * passed to us the systemd way, or by the pmcd we update. */
	if (o.state_fd == -1)
		closefrom(3 + listen_adopt());
	log_init(0, o.verbose);
	environment(&o);
	return (run(&o));
}
