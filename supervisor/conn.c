/*
 * conn.c -- connections on a listening socket: see conn.h.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

static uint64_t	 inet_accepted;	/* TCP connections, every listener */

static void
conn_free(void *arg)
{
	struct conn	*c = arg;

	if (c->arg != NULL)
		c->l->ops->free(c->arg);
	free(c->in);
	pbuf_free(&c->out);
	free(c);
}

void
conn_drop(struct conn *c)
{
	if (c->dropped)
		return;
	c->dropped = 1;
	timer_stop(&c->deadline);
	watch_close(&c->w);
	TAILQ_REMOVE(&c->l->conns, c, entry);
	c->l->n--;
	loop_defer(conn_free, c);
}

static void
conn_expire(void *arg)
{
	conn_drop(arg);
}

void
conn_deadline(struct conn *c, uint64_t ms)
{
	if (ms == 0)
		timer_stop(&c->deadline);
	else
		timer_start(&c->deadline, ms);
}

/* Read while more is wanted; write while anything is queued. */
void
conn_interest(struct conn *c)
{
	uint32_t	 ev = 0;

	if (c->dropped)
		return;
	if (c->want > 0)
		ev |= EPOLLIN;
	if (c->out.len > c->off)
		ev |= EPOLLOUT;
	watch_mod(&c->w, ev);
}

/* Read up to c->want bytes, handing each piece to ops->input. */
static void
conn_read(struct conn *c)
{
	ssize_t	 n;
	size_t	 need;
	char	*p;

	while (!c->dropped && c->want > 0) {
		if ((need = c->inlen + c->want + 1) > c->incap) {
			if ((p = realloc(c->in, need)) == NULL)
				fatal("realloc");
			c->in = p;
			c->incap = need;
		}
		n = recv(c->w.fd, c->in + c->inlen, c->want, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			conn_drop(c);
			return;
		}
		c->inlen += (size_t)n;
		c->want -= (size_t)n;
		c->in[c->inlen] = '\0';
		c->l->ops->input(c, n == 0);
		if (n == 0)
			return;
	}
}

/* Write what is queued: 0 when all is sent, 1 when the peer must read
   first, -1 when it is gone. */
static int
conn_send(struct conn *c)
{
	ssize_t	 n;

	while (c->off < c->out.len) {
		n = send(c->w.fd, c->out.data + c->off, c->out.len - c->off,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return (1);
		if (n <= 0)
			return (-1);
		c->off += (size_t)n;
	}
	return (0);
}

static void
conn_flush(struct conn *c)
{
	switch (conn_send(c)) {
	case -1:
		conn_drop(c);
		break;
	case 1:
		/* One that reads nothing goes when the deadline passes. */
		if (c->l->ops->stall_ms != 0)
			conn_deadline(c, c->l->ops->stall_ms);
		break;
	default:
		c->out.len = c->off = 0;
		c->l->ops->sent(c);
		break;
	}
}

static void
conn_io(struct watch *w, uint32_t events)
{
	struct conn	*c = w->arg;

	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->want > 0)
		conn_read(c);
	/*
	 * Past its request a peer may half-close and still take the
	 * answer; a hang-up means it is gone.
	 */
	if (!c->dropped && (events & (EPOLLHUP | EPOLLERR)) && c->want == 0)
		conn_drop(c);
	if (!c->dropped && c->out.len > c->off)
		conn_flush(c);
	conn_interest(c);
}

/* At the limit, drop the oldest connection still reading; 0 if any. */
static int
conn_make_room(struct conn_listener *l)
{
	struct conn	*c;

	if (l->n < l->ops->max)
		return (0);
	TAILQ_FOREACH(c, &l->conns, entry) {
		if (c->want > 0) {
			if (l->ops->log_full)
				log_warnx("%s: too many clients; dropped the "
				    "oldest that had not sent a request",
				    l->ops->name);
			conn_drop(c);
			return (0);
		}
	}
	if (l->ops->log_full)
		log_warnx("%s: too many clients, all busy; refusing one",
		    l->ops->name);
	return (-1);
}

/* A connection on fd, accepted or carried over: NULL when refused. */
static struct conn *
conn_new(struct conn_listener *l, int fd)
{
	struct conn	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->l = l;
	c->w.fd = fd;
	c->w.fn = conn_io;
	c->w.arg = c;
	timer_set(&c->deadline, conn_expire, c);
	if ((c->arg = l->ops->open(c)) == NULL ||
	    conn_make_room(l) == -1) {
		timer_stop(&c->deadline);
		close(fd);
		conn_free(c);
		return (NULL);
	}
	if (watch_add(&c->w, EPOLLIN) == -1)
		fatal("epoll_ctl");
	TAILQ_INSERT_TAIL(&l->conns, c, entry);
	l->n++;
	return (c);
}

struct conn *
conn_adopt(struct conn_listener *l, int fd)
{
	return (conn_new(l, fd));
}

static void
conn_accept(struct watch *w, uint32_t events)
{
	struct conn_listener	*l = w->arg;
	struct conn		*c;
	int			 fd;

	(void)events;
	while ((fd = accept4(w->fd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
		if (l->inet)
			inet_accepted++;
		if ((c = conn_new(l, fd)) == NULL)
			continue;
		/* A request already there is answered before a later
		   connection can take this one's place. */
		conn_io(&c->w, EPOLLIN);
	}
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		/* Out of descriptors: stop accepting a moment, not spin. */
		log_warn("%s: accept, pausing 100ms", l->ops->name);
		watch_mod(&l->w, 0);
		timer_start(&l->pause, 100);
	} else if (errno != EAGAIN && errno != EINTR &&
	    errno != ECONNABORTED)
		log_warn("%s: accept", l->ops->name);
}

static void
conn_resume(void *arg)
{
	struct conn_listener	*l = arg;

	if (l->w.fd != -1)
		watch_mod(&l->w, EPOLLIN);
}

uint64_t
conn_inet_accepted(void)
{
	return (inet_accepted);
}

void
conn_listen(struct conn_listener *l, int fd, const struct conn_ops *ops)
{
	socklen_t	 len = sizeof(int);
	int		 domain = AF_UNIX;

	l->w.fd = fd;
	l->w.fn = conn_accept;
	l->w.arg = l;
	l->ops = ops;
	l->inet = getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
	    domain != AF_UNIX;
	TAILQ_INIT(&l->conns);
	l->n = 0;
	timer_set(&l->pause, conn_resume, l);
	if (watch_add(&l->w, EPOLLIN) == -1)
		fatal("epoll_ctl");
}

void
conn_close(struct conn_listener *l, int last_words)
{
	struct conn	*c;

	if (l->ops == NULL)
		return;		/* never listened */
	timer_stop(&l->pause);
	if (l->w.fd != -1)
		watch_close(&l->w);
	while ((c = TAILQ_FIRST(&l->conns)) != NULL) {
		if (last_words)
			conn_last_words(c);
		conn_drop(c);
	}
}

int
conn_last_words(struct conn *c)
{
	struct timeval	 tv = { 1, 0 }, none = { 0, 0 };
	int		 rc;

	if (c->out.len <= c->off)
		return (0);
	setsockopt(c->w.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	fcntl(c->w.fd, F_SETFL, 0);
	rc = conn_send(c);
	setsockopt(c->w.fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));
	fcntl(c->w.fd, F_SETFL, O_NONBLOCK);
	if (rc == 0)
		c->out.len = c->off = 0;
	return (rc == 0 ? 0 : -1);
}
