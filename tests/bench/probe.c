/*
 * probe -- time until a server on 127.0.0.1:PORT is answered by N
 * processes it has not seen before, each request on a new connection,
 * for the bench's restart and cold-start figures.  Answers must name
 * the pid ("... pid P ...", as tests/bench/httpd and hello.js do).
 *
 * usage: probe [-k PID] [-x PID]... [-n N] [-t MS] PORT [COMMAND...]
 *	-k PID	send SIGKILL to PID, then start the clock
 *	-x PID	a pid that does not count (the survivors)
 *	-n N	distinct new pids to wait for (1)
 *	-t MS	give up after MS milliseconds (10000); exit 1
 * With COMMAND, the clock starts as it is spawned; its exit is waited
 * for (untimed) after the answers, and its failure is the probe's.
 * Prints the milliseconds taken, e.g. "12.4".
 */

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PIDS	256

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e3 + ts.tv_nsec / 1e6);
}

/* One GET on a new connection: the pid that answered, or -1. */
static long
ask(int port)
{
	static const char	 req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n\r\n";
	struct sockaddr_in	 sin;
	struct pollfd		 pfd;
	char			 buf[1024], *p;
	size_t			 len = 0;
	ssize_t			 n;
	int			 fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == -1) {
		close(fd);
		return (-1);
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (len < sizeof(buf) - 1 && poll(&pfd, 1, 500) == 1 &&
	    (n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	if ((p = strstr(buf, "pid ")) == NULL)
		return (-1);
	return (atol(p + 4));
}

static int
known(const long *pids, int n, long pid)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return (1);
	return (0);
}

int
main(int argc, char *argv[])
{
	struct timespec	 ms = { 0, 1000000 };
	long		 seen[MAX_PIDS], pid, killpid = 0;
	double		 t0, limit = 10000, took;
	pid_t		 cmd = -1;
	int		 ch, nseen = 0, nold = 0, want = 1, port, status;

	while ((ch = getopt(argc, argv, "+k:x:n:t:")) != -1) {
		switch (ch) {
		case 'k':
			killpid = atol(optarg);
			break;
		case 'x':
			if (nseen < MAX_PIDS / 2)
				seen[nseen++] = atol(optarg);
			nold = nseen;
			break;
		case 'n':
			want = atoi(optarg);
			break;
		case 't':
			limit = atof(optarg);
			break;
		default:
			errx(2, "usage: probe [-k PID] [-x PID]... [-n N] "
			    "[-t MS] PORT [COMMAND...]");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || (port = atoi(argv[0])) < 1 || port > 65535 ||
	    want < 1 || want > MAX_PIDS / 2)
		errx(2, "bad PORT or -n");
	if (killpid > 1 && kill((pid_t)killpid, SIGKILL) == -1)
		err(1, "kill %ld", killpid);
	t0 = now_ms();
	if (argc > 1) {
		if ((cmd = fork()) == -1)
			err(1, "fork");
		if (cmd == 0) {
			execvp(argv[1], argv + 1);
			err(127, "%s", argv[1]);
		}
	}
	while (nseen - nold < want) {
		if (now_ms() - t0 > limit)
			errx(1, "timed out after %.0f ms: %d of %d answered",
			    limit, nseen - nold, want);
		pid = ask(port);
		if (pid > 0 && !known(seen, nseen, pid)) {
			seen[nseen++] = pid;
			continue;
		}
		nanosleep(&ms, NULL);
	}
	took = now_ms() - t0;
	printf("%.1f\n", took);
	if (cmd != -1) {
		while (waitpid(cmd, &status, 0) == -1 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			errx(1, "%s failed", argv[1]);
	}
	return (0);
}
