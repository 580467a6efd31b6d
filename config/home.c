/*
 * home.c -- PMC_HOME: where the control socket, logs and state live.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "home.h"

const char *
pmc_home(void)
{
	static char	 home[PATH_MAX];
	const char	*s;
	struct passwd	*pw;

	if (home[0] != '\0')
		return (home);
	if ((s = getenv("PMC_HOME")) != NULL && *s != '\0')
		strlcpy(home, s, sizeof(home));
	else if (geteuid() == 0)
		strlcpy(home, "/run/pmc", sizeof(home));
	else if ((s = getenv("XDG_RUNTIME_DIR")) != NULL && *s == '/')
		snprintf(home, sizeof(home), "%s/pmc", s);
	else {
		if ((s = getenv("HOME")) == NULL || *s == '\0') {
			pw = getpwuid(getuid());
			s = pw != NULL ? pw->pw_dir : "/tmp";
		}
		snprintf(home, sizeof(home), "%s/.pmc", s);
	}
	return (home);
}

const char *
pmc_logdir(void)
{
	static char	 dir[PATH_MAX];
	const char	*s;

	if (dir[0] != '\0')
		return (dir);
	s = getenv("PMC_HOME");
	if (geteuid() == 0 && (s == NULL || *s == '\0'))
		strlcpy(dir, "/var/log/pmc", sizeof(dir));
	else
		snprintf(dir, sizeof(dir), "%s/logs", pmc_home());
	return (dir);
}

const char *
pmc_statedir(void)
{
	static char	 dir[PATH_MAX];
	const char	*s;

	if (dir[0] != '\0')
		return (dir);
	s = getenv("PMC_HOME");
	if (s != NULL && *s != '\0')
		strlcpy(dir, pmc_home(), sizeof(dir));
	else if (geteuid() == 0)
		strlcpy(dir, "/var/lib/pmc", sizeof(dir));
	else if ((s = getenv("XDG_STATE_HOME")) != NULL && *s == '/')
		snprintf(dir, sizeof(dir), "%s/pmc", s);
	else if ((s = getenv("HOME")) != NULL && *s == '/')
		/* Not the runtime folder: a saved dump outlives a reboot. */
		snprintf(dir, sizeof(dir), "%s/.local/state/pmc", s);
	else
		strlcpy(dir, pmc_home(), sizeof(dir));
	return (dir);
}

void
home_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", pmc_home(), name);
}

/* mkdir -p for the parents of dir, then dir itself 0700. */
static int
make_dir(const char *dir)
{
	char	 path[PATH_MAX], *p;

	if (strlcpy(path, dir, sizeof(path)) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return (-1);
		*p = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return (-1);
	return (0);
}

/* 1, with why, when path (whose stat is sb) is another user's. */
static int
not_ours(const char *path, const struct stat *sb, char *why, size_t whylen)
{
	if (sb->st_uid == geteuid())
		return (0);
	snprintf(why, whylen, "%s: owned by uid %u, not by us (uid %u)",
	    path, (unsigned)sb->st_uid, (unsigned)geteuid());
	return (1);
}

int
home_check(const char *dir, int create, char *why, size_t whylen)
{
	struct stat	 sb;

	if (create && make_dir(dir) == -1) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	if (lstat(dir, &sb) == -1) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(why, whylen, "%s: not a folder", dir);
		return (-1);
	}
	if (not_ours(dir, &sb, why, whylen))
		return (-1);
	if ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whylen, "%s: group or world writable (mode %03o); "
		    "expected 0700", dir, (unsigned)(sb.st_mode & 0777));
		return (-1);
	}
	return (0);
}

int
home_sock_check(char *why, size_t whylen)
{
	struct stat	 sb;
	char		 path[PATH_MAX];

	home_path(path, sizeof(path), "pmc.sock");
	if (lstat(path, &sb) == -1)
		return (0);	/* none: the connect says so */
	if (!S_ISSOCK(sb.st_mode)) {
		snprintf(why, whylen, "%s: not a socket", path);
		return (-1);
	}
	if (not_ours(path, &sb, why, whylen))
		return (-1);
	return (0);
}

void
pmc_dump_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/dump.yaml", pmc_statedir());
}
