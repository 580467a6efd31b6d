/*
 * cmd-start.c -- `pmc start FILE...`: check each spec here, start pmcd
 * when none answers, and hand it the specs.
 *
 * The files are read once: what pmcd gets is what was checked.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "home.h"
#include "protocol.h"
#include "spec.h"

static int	cmd_start_exec(struct cmd *);

static const struct option cmd_start_longopts[] = {
	{ "prune", no_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_start_entry = {
	.name = "start",
	.getopt = "",
	.longopts = cmd_start_longopts,
	.lower = 1,
	.upper = -1,
	.usage = "[--prune] FILE...",
	.help = "Start the apps of each spec FILE (and pmcd if needed); "
	    "reload the changed ones.",
	.exec = cmd_start_exec
};

/* Read all of path into *buf; reports, -1 on error. */
static int
read_spec(const char *path, char **buf, size_t *len)
{
	struct pbuf	 pb;
	char		 chunk[8192];
	ssize_t		 n;
	int		 fd;

	memset(&pb, 0, sizeof(pb));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "pmc: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "pmc: %s: %s\n", path, strerror(errno));
			break;
		}
		if (n == 0) {
			close(fd);
			pbuf_add(&pb, "", 1);	/* a C string for spec_parse */
			*buf = pb.data;
			*len = pb.len - 1;
			return (0);
		}
		if (pb.len + (size_t)n > PMC_MSG_MAX) {
			fprintf(stderr, "pmc: %s: larger than %u bytes\n", path,
			    PMC_MSG_MAX);
			break;
		}
		pbuf_add(&pb, chunk, (size_t)n);
	}
	close(fd);
	pbuf_free(&pb);
	return (-1);
}

/* Check one spec and add its path and content to pb; -1 once reported. */
static int
add_spec(struct pbuf *pb, const char *path)
{
	struct spec_errors	 errs;
	struct spec		*spec;
	char			*buf, real[PATH_MAX];
	size_t			 len, i;
	int			 r;

	if (read_spec(path, &buf, &len) == -1)
		return (-1);
	r = -1;
	memset(&errs, 0, sizeof(errs));
	if (memchr(buf, '\0', len) != NULL)
		fprintf(stderr, "pmc: %s: contains a NUL byte\n", path);
	else if (spec_parse(path, buf, len, &spec, &errs) == -1) {
		for (i = 0; i < errs.count; i++)
			fprintf(stderr, "pmc: %s\n", errs.msgs[i]);
	} else {
		spec_free(spec);
		if (realpath(path, real) == NULL)
			fprintf(stderr, "pmc: %s: %s\n", path, strerror(errno));
		else {
			pbuf_add_field(pb, real);
			pbuf_add_field(pb, buf);
			r = 0;
		}
	}
	spec_errors_clear(&errs);
	free(buf);
	return (r);
}

/* $PMCD, else the pmcd beside this pmc. */
static int
pmcd_path(char *buf, size_t len)
{
	const char	*s;
	char		 exe[PATH_MAX], *slash;
	ssize_t		 n;

	if ((s = getenv("PMCD")) != NULL && *s != '\0') {
		if (strlcpy(buf, s, len) >= len) {
			fprintf(stderr, "pmc: PMCD: %s\n",
			    strerror(ENAMETOOLONG));
			return (-1);
		}
		return (0);
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1) {
		fprintf(stderr, "pmc: /proc/self/exe: %s\n", strerror(errno));
		return (-1);
	}
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	if ((size_t)snprintf(buf, len, "%s/pmcd", exe) >= len) {
		fprintf(stderr, "pmc: %s/pmcd: %s\n", exe,
		    strerror(ENAMETOOLONG));
		return (-1);
	}
	return (0);
}

/* Run pmcd, which detaches and returns once its socket answers. */
static int
spawn_pmcd(void)
{
	char	 path[PATH_MAX];
	pid_t	 pid;
	int	 status;

	if (pmcd_path(path, sizeof(path)) == -1)
		return (-1);
	fflush(stdout);
	switch (pid = fork()) {
	case -1:
		fprintf(stderr, "pmc: fork: %s\n", strerror(errno));
		return (-1);
	case 0:
		execl(path, "pmcd", (char *)NULL);
		fprintf(stderr, "pmc: %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "pmc: waitpid: %s\n", strerror(errno));
			return (-1);
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return (0);
	if (WIFEXITED(status))
		fprintf(stderr, "pmc: could not start pmcd (%s exited with "
		    "status %d)\n", path, WEXITSTATUS(status));
	else
		fprintf(stderr, "pmc: could not start pmcd (%s killed by "
		    "signal %d)\n", path, WTERMSIG(status));
	return (-1);
}

/* Connect once start.lock is ours: start pmcd first when none answers. */
static int
locked_connect(void)
{
	char	 path[PATH_MAX];
	int	 fd;

	if ((fd = client_connect()) != -1 || !client_not_running(errno))
		return (fd);
	if (spawn_pmcd() == -1) {
		errno = 0;
		return (-1);
	}
	if ((fd = client_connect()) == -1) {
		home_path(path, sizeof(path), "pmc.sock");
		fprintf(stderr, "pmc: could not start pmcd (connect %s: %s)\n",
		    path, strerror(errno));
		errno = 0;
	}
	return (fd);
}

/*
 * Connect, starting pmcd first when none answers.  start.lock makes
 * concurrent `pmc start`s start one pmcd.
 */
static int
start_connect(void)
{
	char	 path[PATH_MAX];
	int	 fd, lock, saved;

	if (client_home(1) == -1)
		return (-1);
	if ((fd = client_connect()) != -1)
		return (fd);
	if (!client_not_running(errno)) {
		client_connect_error(errno);
		return (-1);
	}

	home_path(path, sizeof(path), "start.lock");
	if ((lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "pmc: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	while (flock(lock, LOCK_EX) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "pmc: flock %s: %s\n", path,
			    strerror(errno));
			close(lock);
			return (-1);
		}
	}
	fd = locked_connect();
	saved = errno;
	close(lock);
	if (fd == -1 && saved != 0)
		client_connect_error(saved);
	return (fd);
}

static int
cmd_start_exec(struct cmd *cmd)
{
	struct pbuf	 pb;
	int		 fd, i, r;

	memset(&pb, 0, sizeof(pb));
	pbuf_add_field(&pb, cmd_has(cmd, 'p') ? "prune" : "");	/* flags */
	r = PMC_EXIT_OK;
	for (i = 0; i < cmd->argc; i++) {
		if (add_spec(&pb, cmd->argv[i]) == -1)
			r = PMC_EXIT_FAIL;
	}
	if (r == PMC_EXIT_OK && pb.len > PMC_MSG_MAX) {
		fprintf(stderr, "pmc: the spec files are too large together "
		    "(%zu bytes, at most %u)\n", pb.len, PMC_MSG_MAX);
		r = PMC_EXIT_FAIL;
	}
	if (r != PMC_EXIT_OK) {
		pbuf_free(&pb);
		return (r);
	}
	if ((fd = start_connect()) == -1) {
		pbuf_free(&pb);
		return (PMC_EXIT_FAIL);
	}
	r = client_request(fd, MSG_START, &pb, NULL, NULL);
	close(fd);
	pbuf_free(&pb);
	return (r);
}
