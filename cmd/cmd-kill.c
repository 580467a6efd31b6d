/*
 * cmd-kill.c -- `pmc kill`: stop every app and pmcd, and wait until pmcd
 * is gone, so that nothing of ours runs when it returns.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "home.h"
#include "protocol.h"

#define KILL_WAIT_MS	15000
#define KILL_POLL_MS	20

static int	cmd_kill_exec(struct cmd *);

const struct cmd_entry cmd_kill_entry = {
	.name = "kill",
	.getopt = "",
	.lower = 0,
	.upper = 0,
	.usage = "",
	.help = "Stop every app and pmcd; wait until pmcd exits.",
	.exec = cmd_kill_exec
};

/* The pid in $PMC_HOME/pmcd.pid, or 0. */
static pid_t
read_pid(void)
{
	char	 path[PATH_MAX], buf[32], *end;
	long	 n;
	ssize_t	 len;
	int	 fd;

	home_path(path, sizeof(path), "pmcd.pid");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return (0);
	buf[len] = '\0';
	errno = 0;
	n = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
	    n <= 1 || n > INT_MAX)
		return (0);
	return ((pid_t)n);
}

/* A process that no longer runs: no such pid, or a zombie. */
static int
gone(pid_t pid)
{
	char	 path[64], buf[512], *p;
	ssize_t	 len;
	int	 fd;

	if (kill(pid, 0) == -1)
		return (errno == ESRCH || errno == EPERM);
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (errno == ENOENT);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return (0);
	buf[len] = '\0';
	/* "pid (comm) S ...": the state follows the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return (0);
	return (p[2] == 'Z' || p[2] == 'X');
}

static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
wait_gone(pid_t pid)
{
	struct timespec	 ts = { 0, KILL_POLL_MS * 1000000L };
	long long	 deadline;

	deadline = now_ms() + KILL_WAIT_MS;
	while (!gone(pid)) {
		if (now_ms() >= deadline) {
			fprintf(stderr, "pmc: pmcd (pid %ld) is still running "
			    "after %d s\n", (long)pid, KILL_WAIT_MS / 1000);
			return (PMC_EXIT_FAIL);
		}
		nanosleep(&ts, NULL);
	}
	return (PMC_EXIT_OK);
}

static int
cmd_kill_exec(struct cmd *cmd)
{
	struct pbuf	 pb;
	pid_t		 pid;
	int		 fd, r;

	(void)cmd;
	pid = read_pid();	/* before pmcd removes the file */
	if ((fd = client_open()) == -1)
		return (PMC_EXIT_FAIL);
	memset(&pb, 0, sizeof(pb));
	r = client_request(fd, MSG_KILL, &pb, NULL, NULL);
	close(fd);
	if (r != PMC_EXIT_OK || pid == 0)
		return (r);
	return (wait_gone(pid));
}
