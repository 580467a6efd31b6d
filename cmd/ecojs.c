/*
 * ecojs.c -- a PM2 ecosystem.config.js to JSON: node evaluates it, as
 * the user running pmc (pmcd never runs JavaScript), and prints what it
 * exports.  Used through struct specfile_pm2 (specfile.h).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ecojs.h"
#include "spec.h"
#include "specfile.h"

#define ECOJS_TIMEOUT_MS	10000

/* import() takes CommonJS and ES modules alike; default is the export. */
static const char script[] =
    "const u = require('url'), p = require('path');"
    "import(u.pathToFileURL(p.resolve(process.argv[1])).href).then((m) => {"
    " let v = m.default !== undefined ? m.default : m;"
    " process.stdout.write(JSON.stringify(v === undefined ? null : v));"
    "}).catch((e) => { console.error(String(e && e.stack || e));"
    " process.exit(1); });";

static long long
ms_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int
ecojs_eval(const char *real, char **json, size_t *len,
    struct spec_errors *errs)
{
	struct pollfd	 pfd;
	char		*buf = NULL;
	size_t		 n = 0;
	ssize_t		 r;
	long long	 end = ms_now() + ECOJS_TIMEOUT_MS, left;
	pid_t		 pid;
	int		 p[2], ep[2], st, err = 0;

	if (pipe2(p, O_CLOEXEC) == -1 || pipe2(ep, O_CLOEXEC) == -1) {
		spec_errors_add(errs, "%s: pipe: %s", real, strerror(errno));
		return (-1);
	}
	if ((pid = fork()) == -1) {
		spec_errors_add(errs, "%s: fork: %s", real, strerror(errno));
		return (-1);
	}
	if (pid == 0) {
		dup2(p[1], 1);
		execlp("node", "node", "-e", script, real, (char *)NULL);
		err = errno;
		(void)write(ep[1], &err, sizeof(err));
		_exit(127);
	}
	close(p[1]);
	close(ep[1]);
	if ((buf = malloc(SPECFILE_MAX + 1)) == NULL) {
		spec_errors_add(errs, "%s: %s", real, strerror(errno));
		goto fail;
	}
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		if ((left = end - ms_now()) <= 0) {
			spec_errors_add(errs, "%s: node took more than %d s to "
			    "evaluate it", real, ECOJS_TIMEOUT_MS / 1000);
			goto fail;
		}
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR)
			goto fail;
		if ((r = read(p[0], buf + n, SPECFILE_MAX - n)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		if ((n += (size_t)r) == SPECFILE_MAX) {
			spec_errors_add(errs, "%s: what it exports is more than "
			    "%d bytes as JSON", real, SPECFILE_MAX);
			goto fail;
		}
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (read(ep[0], &err, sizeof(err)) == sizeof(err)) {
		spec_errors_add(errs, "%s: a PM2 JavaScript file is evaluated "
		    "by node: %s%s", real, strerror(err), err == ENOENT ?
		    " (install node, or run pmc convert where it is)" : "");
		close(ep[0]);
		free(buf);
		return (-1);
	}
	close(ep[0]);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		spec_errors_add(errs, "%s: node could not evaluate it (its "
		    "error is above)", real);
		free(buf);
		return (-1);
	}
	buf[n] = '\0';
	*json = buf;
	*len = n;
	return (0);
fail:
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	close(p[0]);
	close(ep[0]);
	free(buf);
	if (errs->count == 0)
		spec_errors_add(errs, "%s: reading node's output: %s", real,
		    strerror(errno));
	return (-1);
}
