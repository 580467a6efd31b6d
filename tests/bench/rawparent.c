/*
 * rawparent -- the physical reference for the bench: bind
 * 127.0.0.1:PORT, fork N children that exec COMMAND with the socket at
 * fd 3 (LISTEN_FDS=1, LISTEN_PID=their pid), then only wait.  No
 * supervision, no restart: the kernel's shared accept queue and nothing
 * else.  SIGTERM or SIGINT is passed to the children; it exits when they
 * are gone.
 *
 * usage: rawparent PORT N COMMAND [ARG...]
 */

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CHILDREN	256

static pid_t	 kids[MAX_CHILDREN];
static int	 nkids;

static void
pass_on(int sig)
{
	int	 i;

	for (i = 0; i < nkids; i++)
		kill(kids[i], sig);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	struct sigaction	 sa;
	char			 pid[32];
	int			 fd, i, n, on = 1;
	long			 port;

	if (argc < 4)
		errx(2, "usage: rawparent PORT N COMMAND [ARG...]");
	port = atol(argv[1]);
	n = atoi(argv[2]);
	if (port < 1 || port > 65535 || n < 1 || n > MAX_CHILDREN)
		errx(2, "bad PORT or N");
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "bind 127.0.0.1:%ld", port);
	if (listen(fd, SOMAXCONN) == -1)
		err(1, "listen");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pass_on;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (i = 0; i < n; i++) {
		if ((kids[i] = fork()) == -1)
			err(1, "fork");
		if (kids[i] == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			if (fd != 3 && (dup2(fd, 3) == -1 || close(fd) == -1))
				err(1, "dup2");
			snprintf(pid, sizeof(pid), "%ld", (long)getpid());
			setenv("LISTEN_FDS", "1", 1);
			setenv("LISTEN_PID", pid, 1);
			execvp(argv[3], argv + 3);
			err(127, "%s", argv[3]);
		}
		nkids++;
	}
	close(fd);
	while (wait(NULL) != -1 || errno == EINTR)
		;
	return (0);
}
