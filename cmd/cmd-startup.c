/*
 * cmd-startup.c -- `pmc startup [--user|--system] [FILE...]`: print a
 * systemd unit that runs pmcd in the foreground, with the spec FILEs or,
 * without any, with the apps of `pmc save`.
 *
 * The system unit printed without FILE is the one `make install` installs
 * from supervisor/systemd/pmcd.service.in: keep the two in step
 * (tests/install.bats compares them).
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static int	cmd_startup_exec(struct cmd *);

static const struct option cmd_startup_longopts[] = {
	{ "user", no_argument, NULL, 'u' },
	{ "system", no_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_startup_entry = {
	.name = "startup",
	.getopt = "",
	.longopts = cmd_startup_longopts,
	.lower = 0,
	.upper = -1,
	.usage = "[--user|--system] [FILE...]",
	.help = "Print a systemd unit that runs pmcd (with FILEs, or the saved "
	    "apps).",
	.exec = cmd_startup_exec
};

/* Absolute, symlink-free path of an existing regular file; reports. */
static int
startup_realpath(const char *path, char *real)
{
	struct stat	 sb;

	if (realpath(path, real) == NULL || stat(real, &sb) == -1) {
		fprintf(stderr, "pmc: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if (!S_ISREG(sb.st_mode)) {
		fprintf(stderr, "pmc: %s: not a regular file\n", path);
		return (-1);
	}
	return (0);
}

/* $PMCD, else the pmcd beside this pmc; absolute and executable. */
static int
startup_pmcd(char *real)
{
	const char	*s;
	char		 path[PATH_MAX], *slash;
	ssize_t		 n;

	if ((s = getenv("PMCD")) != NULL && *s != '\0') {
		if (strlcpy(path, s, sizeof(path)) >= sizeof(path))
			goto toolong;
	} else {
		n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		if (n == -1) {
			fprintf(stderr, "pmc: /proc/self/exe: %s\n",
			    strerror(errno));
			return (-1);
		}
		path[n] = '\0';
		if ((slash = strrchr(path, '/')) != NULL)
			*slash = '\0';
		if (strlcat(path, "/pmcd", sizeof(path)) >= sizeof(path))
			goto toolong;
	}
	if (startup_realpath(path, real) == -1)
		return (-1);
	if (access(real, X_OK) == -1) {
		fprintf(stderr, "pmc: %s: %s\n", real, strerror(errno));
		return (-1);
	}
	return (0);

toolong:
	fprintf(stderr, "pmc: pmcd: %s\n", strerror(ENAMETOOLONG));
	return (-1);
}

/*
 * Print one word of a systemd command line or assignment.  Plain words go
 * as they are; others in double quotes, with C escapes for '"', '\' and
 * control characters.  '%' always doubles (specifiers); with dollar set,
 * '$' doubles too (variable expansion, in Exec* lines only).
 */
static void
startup_word(const char *word, int dollar)
{
	const unsigned char	*p;
	int			 quote;

	quote = *word == '\0';
	for (p = (const unsigned char *)word; *p != '\0'; p++) {
		if (strchr("/._-+,:=@", *p) == NULL &&
		    !(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p < 0x80)
			quote = 1;
	}
	if (quote)
		putchar('"');
	for (p = (const unsigned char *)word; *p != '\0'; p++) {
		if (*p == '%')
			fputs("%%", stdout);
		else if (*p == '$' && dollar)
			fputs("$$", stdout);
		else if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
	if (quote)
		putchar('"');
}

static void
startup_unit(int user, const char *pmcd, int argc, char **real)
{
	const char	*home;
	char		 env[PATH_MAX + 16];	/* home is at most PATH_MAX */
	int		 i;

	printf("# pmcd.service -- pmcd and its apps under systemd; see "
	    "pmcd(8).\n"
	    "# Printed by `pmc startup`; installed by `make install`.\n"
	    "[Unit]\n"
	    "Description=pmc process supervisor (pmcd)\n"
	    "Documentation=man:pmcd(8) man:pmc(1)\n"
	    "After=network.target\n"
	    "\n"
	    "[Service]\n"
	    "# pmcd sends READY=1 once every app has started, RELOADING=1 "
	    "on SIGHUP,\n"
	    "# STOPPING=1, and WATCHDOG=1 twice per WatchdogSec.\n"
	    "Type=notify\n"
	    "NotifyAccess=main\n");
	if ((home = getenv("PMC_HOME")) != NULL && *home != '\0') {
		strlcpy(env, "PMC_HOME=", sizeof(env));
		strlcat(env, home, sizeof(env));
		fputs("Environment=", stdout);
		startup_word(env, 0);
		putchar('\n');
	}
	fputs("ExecStart=", stdout);
	startup_word(pmcd, 1);
	fputs(" -f", stdout);
	if (argc == 0)
		fputs(" --resurrect", stdout);
	for (i = 0; i < argc; i++) {
		putchar(' ');
		startup_word(real[i], 1);
	}
	printf("\n"
	    "# SIGHUP: pmcd re-reads its spec files and applies the changes.\n"
	    "ExecReload=/bin/kill -HUP $MAINPID\n"
	    "# mixed: SIGTERM goes to pmcd alone, which stops every app "
	    "gracefully\n"
	    "# (its stop_signal, then SIGKILL after its kill_timeout); "
	    "whatever is\n"
	    "# left once pmcd has exited, or after TimeoutStopSec, gets "
	    "SIGKILL from\n"
	    "# systemd.  Keep TimeoutStopSec above the largest "
	    "kill_timeout.\n"
	    "KillMode=mixed\n"
	    "TimeoutStopSec=60\n"
	    "Restart=on-failure\n"
	    "RestartSec=1\n"
	    "WatchdogSec=30\n"
	    "# For pmcd and every instance, which inherit it.\n"
	    "LimitNOFILE=65536\n"
	    "\n"
	    "[Install]\n"
	    "WantedBy=%s\n", user ? "default.target" : "multi-user.target");
}

/* Where to save the unit and how to enable it, on stderr. */
static void
startup_hint(int user, int argc)
{
	const char	*sudo, *name;

	sudo = geteuid() == 0 ? "" : "sudo ";
	if (user) {
		fprintf(stderr, "pmc: save this unit as "
		    "~/.config/systemd/user/pmcd.service, then run:\n"
		    "  systemctl --user daemon-reload\n"
		    "  systemctl --user enable --now pmcd.service\n"
		    "  loginctl enable-linger %s"
		    "   # to start it at boot, not at login\n",
		    (name = getenv("USER")) != NULL ? name : "$USER");
	} else {
		fprintf(stderr, "pmc: save this unit as "
		    "/etc/systemd/system/pmcd.service, then run:\n"
		    "  %ssystemctl daemon-reload\n"
		    "  %ssystemctl enable --now pmcd.service\n", sudo, sudo);
	}
	if (argc == 0)
		fprintf(stderr, "pmc: the unit starts the apps saved by "
		    "\"%spmc save\": run that first\n", user ? "" : sudo);
}

static int
cmd_startup_exec(struct cmd *cmd)
{
	char	 pmcd[PATH_MAX], (*real)[PATH_MAX], **words;
	int	 i, user, r;

	if (cmd_has(cmd, 'u') && cmd_has(cmd, 's')) {
		fprintf(stderr, "pmc: startup: --user and --system exclude "
		    "each other\n");
		cmd_usage(stderr, cmd->entry);
		return (PMC_EXIT_USAGE);
	}
	if (cmd_has(cmd, 'u'))
		user = 1;
	else if (cmd_has(cmd, 's'))
		user = 0;
	else
		user = geteuid() != 0;

	real = calloc(cmd->argc + 1, sizeof(*real));
	words = calloc(cmd->argc + 1, sizeof(*words));
	if (real == NULL || words == NULL) {
		fprintf(stderr, "pmc: %s\n", strerror(errno));
		free(real);
		free(words);
		return (PMC_EXIT_FAIL);
	}
	r = startup_pmcd(pmcd);
	for (i = 0; i < cmd->argc; i++) {
		if (startup_realpath(cmd->argv[i], real[i]) == -1)
			r = -1;
		words[i] = real[i];
	}
	if (r == 0) {
		startup_unit(user, pmcd, cmd->argc, words);
		startup_hint(user, cmd->argc);
	}
	free(real);
	free(words);
	return (r == 0 ? PMC_EXIT_OK : PMC_EXIT_FAIL);
}
