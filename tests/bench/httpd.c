/*
 * httpd -- the bench's C server: epoll, non-blocking, HTTP/1.1
 * keep-alive, one fixed answer "hello from pid P".  What a small
 * efficient server does, so that a supervisor's cost shows.
 *
 * Listen sockets the systemd way (LISTEN_PID, LISTEN_FDS, fds 3...), or
 * with --port N it binds 127.0.0.1:N itself (the single-process run, and
 * the shim run where pmc's preload library turns that bind into its own
 * socket; BENCH_PLAIN=1 makes it ignore LISTEN_FDS for that run).
 * Sends READY=1 to NOTIFY_SOCKET when set.
 *
 * SIGTERM or SIGINT drains: stop accepting, answer each open
 * connection's next request with "Connection: close" and close it; exit
 * when none is left or after DRAIN_MS.
 */

#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../fixtures/notify-send.h"

#define MAX_LISTEN	16
#define MAX_EVENTS	64
#define BUF_SIZE	8192
#define DRAIN_MS	3000

struct conn {
	char	*buf;		/* NULL: no connection on this fd */
	size_t	 len;
};

static struct conn	*conns;
static size_t		 nconns_max, nconns;
static int		 lfds[MAX_LISTEN], nlfds, ep, draining;
static char		 ok[256], okclose[256];
static size_t		 oklen, okcloselen;

static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
notify_ready(void)
{
	(void)notify_send("READY=1");
}

static void
take_listen_fds(long port)
{
	struct sockaddr_in	 sin;
	const char		*fds = getenv("LISTEN_FDS");
	const char		*pid = getenv("LISTEN_PID");
	int			 i, n, on = 1;

	if (fds != NULL && pid != NULL && atol(pid) == (long)getpid() &&
	    getenv("BENCH_PLAIN") == NULL) {
		n = atoi(fds);
		if (n < 1 || n > MAX_LISTEN)
			errx(1, "LISTEN_FDS=%s: expected 1..%d", fds,
			    MAX_LISTEN);
		for (i = 0; i < n; i++) {
			lfds[nlfds++] = 3 + i;
			fcntl(3 + i, F_SETFD, FD_CLOEXEC);
		}
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDNAMES");
		return;
	}
	if (port <= 0 || port > 65535)
		errx(1, "no LISTEN_FDS for this process and no --port");
	if ((lfds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	setsockopt(lfds[0], SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfds[0], (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "bind 127.0.0.1:%ld", port);
	if (listen(lfds[0], SOMAXCONN) == -1)
		err(1, "listen");
	nlfds = 1;
}

static void
watch(int fd, unsigned int events)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		err(1, "epoll_ctl");
}

static void
conn_close(int fd)
{
	free(conns[fd].buf);
	conns[fd].buf = NULL;
	conns[fd].len = 0;
	nconns--;
	close(fd);
}

static void
accept_all(int lfd)
{
	int	 c, on = 1;

	while ((c = accept4(lfd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
		if ((size_t)c >= nconns_max ||
		    (conns[c].buf = malloc(BUF_SIZE)) == NULL) {
			close(c);
			continue;
		}
		conns[c].len = 0;
		nconns++;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		watch(c, EPOLLIN | EPOLLRDHUP);
	}
}

/* The answers are a few hundred bytes: a send() takes them whole. */
static int
answer(int fd, int close_after)
{
	const char	*p = close_after ? okclose : ok;
	size_t		 n = close_after ? okcloselen : oklen;

	return (send(fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1);
}

static void
conn_read(int fd)
{
	struct conn	*c = &conns[fd];
	char		*end;
	ssize_t		 n;
	size_t		 used;
	int		 last;

	for (;;) {
		n = recv(fd, c->buf + c->len, BUF_SIZE - 1 - c->len, 0);
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(fd);
			return;
		}
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		while ((end = strstr(c->buf, "\r\n\r\n")) != NULL) {
			*end = '\0';
			last = draining || strcasestr(c->buf,
			    "Connection: close") != NULL;
			if (answer(fd, last) == -1 || last) {
				conn_close(fd);
				return;
			}
			used = (size_t)(end + 4 - c->buf);
			memmove(c->buf, end + 4, c->len - used + 1);
			c->len -= used;
		}
		if (c->len == BUF_SIZE - 1) {
			conn_close(fd);
			return;
		}
	}
}

static void
drain(void)
{
	int	 i;

	draining = 1;
	/* Other processes hold the socket: unwatch it before closing ours. */
	for (i = 0; i < nlfds; i++) {
		epoll_ctl(ep, EPOLL_CTL_DEL, lfds[i], NULL);
		close(lfds[i]);
	}
	nlfds = 0;
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 evs[MAX_EVENTS];
	sigset_t		 mask;
	long long		 deadline = 0;
	long			 port = 0;
	int			 i, n, fd, sfd, timeout;

	if (argc == 3 && strcmp(argv[1], "--port") == 0)
		port = atol(argv[2]);
	else if (argc != 1)
		errx(2, "usage: httpd [--port N]");
	take_listen_fds(port);
	oklen = (size_t)snprintf(ok, sizeof(ok), "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
	    "hello from pid %-7ld\n", 23, (long)getpid());
	okcloselen = (size_t)snprintf(okclose, sizeof(okclose),
	    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n\r\n"
	    "hello from pid %-7ld\n", 23, (long)getpid());
	nconns_max = 65536;
	if ((conns = calloc(nconns_max, sizeof(*conns))) == NULL)
		err(1, "calloc");
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		err(1, "signalfd");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	watch(sfd, EPOLLIN);
	for (i = 0; i < nlfds; i++) {
		fcntl(lfds[i], F_SETFL, fcntl(lfds[i], F_GETFL) | O_NONBLOCK);
		/* Wake one of the processes sharing the socket, not all. */
		watch(lfds[i], EPOLLIN | EPOLLEXCLUSIVE);
	}
	notify_ready();
	for (;;) {
		timeout = -1;
		if (draining) {
			if (nconns == 0 || now_ms() >= deadline)
				exit(0);
			timeout = (int)(deadline - now_ms());
		}
		if ((n = epoll_wait(ep, evs, MAX_EVENTS, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		for (i = 0; i < n; i++) {
			fd = evs[i].data.fd;
			if (fd == sfd) {
				if (!draining) {
					drain();
					deadline = now_ms() + DRAIN_MS;
				}
				continue;
			}
			if (fd < (int)nconns_max && conns[fd].buf != NULL)
				conn_read(fd);
			else if (!draining)
				accept_all(fd);
		}
	}
}
