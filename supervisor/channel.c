/*
 * channel.c -- the message channel of each instance (see channel.h):
 * lines in, checked and dispatched; a bounded queue out.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "json.h"
#include "log.h"
#include "pmcd.h"
#include "state.h"

#define FDS_MAX		16	/* descriptors read with one message */
#define HANDLE_TRIES	3	/* sends of one handle, as Node's */

struct outmsg {
	STAILQ_ENTRY(outmsg)	 entry;
	char			*data;	/* the line, "\n" included */
	size_t			 len;
	size_t			 off;	/* written */
	int			 fd;	/* to pass with its first byte, or -1 */
	int			 tries;	/* sends of fd so far */
	int			 bypass;	/* an ack: never held back */
};

struct channel {
	struct watch		 w;	/* fd -1 once closed */
	struct instance		*in;
	char			 buf[CHANNEL_MSG_MAX + 1];
	size_t			 len;
	int			 skipping;	/* the rest of a long line */
	STAILQ_HEAD(, outmsg)	 q;
	size_t			 queued;	/* bytes in q, unwritten */
	int			 wait_ack;	/* a handle went; hold the rest */
	struct outmsg		*unacked;	/* the line of that handle, kept
						   to send again on a NACK */
	unsigned long long	 sent, received, refused, bad, handles;
	int			 warned;	/* of a bad line, this run */
};

static void	channel_io(struct watch *, uint32_t);

static void
interest(struct channel *ch)
{
	uint32_t	 ev = EPOLLIN;

	if (ch->w.fd == -1)
		return;
	if (!STAILQ_EMPTY(&ch->q) && (!ch->wait_ack ||
	    STAILQ_FIRST(&ch->q)->off > 0 || STAILQ_FIRST(&ch->q)->bypass))
		ev |= EPOLLOUT;
	if (ev != ch->w.events)
		watch_mod(&ch->w, ev);
}

static void
outmsg_free(struct outmsg *m)
{
	if (m->fd != -1)
		close(m->fd);
	free(m->data);
	free(m);
}

static void
queue_free(struct channel *ch)
{
	struct outmsg	*m;

	while ((m = STAILQ_FIRST(&ch->q)) != NULL) {
		STAILQ_REMOVE_HEAD(&ch->q, entry);
		outmsg_free(m);
	}
	ch->queued = 0;
	if (ch->unacked != NULL)
		outmsg_free(ch->unacked);
	ch->unacked = NULL;
}

/* The instance's end is gone: stop reading and writing, keep counts. */
static void
hang_up(struct channel *ch)
{
	if (ch->w.fd == -1)
		return;
	watch_close(&ch->w);
	queue_free(ch);
	in_debug(ch->in, "channel closed");
}

int
channel_open(struct instance *in, int *child)
{
	struct channel	*ch;
	int		 pair[2];

	channel_close(in);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == -1)
		return (-1);
	if (fcntl(pair[0], F_SETFL, O_NONBLOCK) == -1) {
		close(pair[0]);
		close(pair[1]);
		return (-1);
	}
	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		fatal("calloc");
	ch->in = in;
	STAILQ_INIT(&ch->q);
	ch->w.fd = pair[0];
	ch->w.fn = channel_io;
	ch->w.arg = ch;
	if (watch_add(&ch->w, EPOLLIN) == -1) {
		close(pair[0]);
		close(pair[1]);
		free(ch);
		return (-1);
	}
	in->ch = ch;
	*child = pair[1];
	return (0);
}

static void
channel_free(void *arg)
{
	free(arg);
}

void
channel_close(struct instance *in)
{
	struct channel	*ch = in->ch;

	if (ch == NULL)
		return;
	hang_up(ch);
	in->ch = NULL;
	/* An event for its watch may be pending in this round. */
	loop_defer(channel_free, ch);
}

/* --- out ------------------------------------------------------------------ */

static void
flush(struct channel *ch)
{
	struct outmsg	*m;
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	}		 cm;
	ssize_t		 n;

	/* After a handle only acks go, and the rest of a line begun. */
	while (ch->w.fd != -1 && (m = STAILQ_FIRST(&ch->q)) != NULL &&
	    (!ch->wait_ack || m->off > 0 || m->bypass)) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = m->data + m->off;
		iov.iov_len = m->len - m->off;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		if (m->fd != -1 && m->off == 0) {
			memset(&cm, 0, sizeof(cm));
			msg.msg_control = cm.buf;
			msg.msg_controllen = sizeof(cm.buf);
			cm.hdr.cmsg_level = SOL_SOCKET;
			cm.hdr.cmsg_type = SCM_RIGHTS;
			cm.hdr.cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(&cm.hdr), &m->fd, sizeof(int));
		}
		n = sendmsg(ch->w.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			hang_up(ch);
			return;
		}
		if (m->fd != -1 && m->off == 0) {
			/* It went with the first byte. */
			m->tries++;
			ch->wait_ack = 1;
		}
		m->off += (size_t)n;
		ch->queued -= (size_t)n;
		if (m->off < m->len)
			break;
		STAILQ_REMOVE_HEAD(&ch->q, entry);
		ch->sent++;
		if (m->fd != -1) {
			if (ch->unacked != NULL)
				outmsg_free(ch->unacked);
			ch->unacked = m;
		} else
			outmsg_free(m);
	}
	interest(ch);
}

/* Queue a line; first: ahead of what waits (Node's acks never wait). */
static int
enqueue(struct channel *ch, const char *json, size_t len, int fd, int first)
{
	struct outmsg	*m, *head;

	if (ch->queued + len + 1 > CHANNEL_QUEUE_MAX)
		return (-1);
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->data = malloc(len + 1)) == NULL)
		fatal("malloc");
	memcpy(m->data, json, len);
	m->data[len] = '\n';
	m->len = len + 1;
	m->fd = -1;
	m->bypass = first;
	if (fd != -1 && (m->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1) {
		free(m->data);
		free(m);
		return (-1);
	}
	head = STAILQ_FIRST(&ch->q);
	if (first && head != NULL && head->off > 0)
		STAILQ_INSERT_AFTER(&ch->q, head, m, entry);
	else if (first)
		STAILQ_INSERT_HEAD(&ch->q, m, entry);
	else
		STAILQ_INSERT_TAIL(&ch->q, m, entry);
	ch->queued += m->len;
	return (0);
}

int
channel_send(struct instance *in, const char *json, size_t len, int fd,
    char *why, size_t whylen)
{
	struct channel	*ch = in->ch;

	if (!in->app->spec->channel) {
		snprintf(why, whylen, "no channel (channel: false)");
		return (-1);
	}
	if (ch == NULL || ch->w.fd == -1) {
		snprintf(why, whylen, "channel closed%s", in->pid == 0 ?
		    " (not running)" : "");
		return (-1);
	}
	if (enqueue(ch, json, len, fd, 0) == -1) {
		ch->refused++;
		snprintf(why, whylen, "channel full (%zu bytes unread)",
		    ch->queued);
		return (-1);
	}
	flush(ch);
	return (0);
}

/* --- in ------------------------------------------------------------------- */

static void
bad_line(struct channel *ch, const char *what)
{
	ch->bad++;
	if (ch->warned++ == 0)
		in_warnx(ch->in, "channel: %s, dropped (and any more such "
		    "lines of this run: describe counts them)", what);
}

static void	dispatch(struct channel *, const char *, size_t, int);

/*
 * The instance took our handle, or (ok 0) did not get it: Node's NACK,
 * after which we send it again, as Node does, HANDLE_TRIES times.
 */
static void
acked(struct channel *ch, int ok)
{
	struct outmsg	*m = ch->unacked, *head;

	ch->wait_ack = 0;
	ch->unacked = NULL;
	if (m == NULL)
		return;
	if (ok || m->tries >= HANDLE_TRIES) {
		if (!ok)
			in_warnx(ch->in, "channel: a handle was refused %d "
			    "times (NODE_HANDLE_NACK), given up", m->tries);
		outmsg_free(m);
		return;
	}
	m->off = 0;
	if ((head = STAILQ_FIRST(&ch->q)) != NULL && head->off > 0)
		STAILQ_INSERT_AFTER(&ch->q, head, m, entry);
	else
		STAILQ_INSERT_HEAD(&ch->q, m, entry);
	ch->queued += m->len;
}

/* A message carried a handle: ack it (closed already), take its msg. */
static void
handle_msg(struct channel *ch, const char *s, size_t len)
{
	static const char	 ack[] = "{\"cmd\":\"NODE_HANDLE_ACK\"}";
	const char		*v;
	size_t			 vlen;

	ch->handles++;
	if (enqueue(ch, ack, sizeof(ack) - 1, -1, 1) == -1)
		ch->refused++;
	if (json_member(s, len, "msg", &v, &vlen) == 0)
		dispatch(ch, v, vlen, 1);
}

static void	(*deliver)(struct instance *, const char *, size_t);

void
channel_init(void (*fn)(struct instance *, const char *, size_t))
{
	deliver = fn;
}

/* Node's handle protocol here; every other message to deliver(). */
static void
dispatch(struct channel *ch, const char *s, size_t len, int inner)
{
	const char	*v;
	size_t		 vlen;
	char		 cmd[32];

	if (json_member(s, len, "cmd", &v, &vlen) == 0 &&
	    json_word(v, vlen, cmd, sizeof(cmd)) == 0) {
		if (strcmp(cmd, "NODE_HANDLE") == 0 && !inner) {
			handle_msg(ch, s, len);
			return;
		}
		if (strcmp(cmd, "NODE_HANDLE_ACK") == 0) {
			acked(ch, 1);
			return;
		}
		if (strcmp(cmd, "NODE_HANDLE_NACK") == 0) {
			acked(ch, 0);
			return;
		}
	}
	if (deliver != NULL)
		deliver(ch->in, s, len);
}

/* Complete lines in ch->buf, from a read of n bytes at its end. */
static void
lines(struct channel *ch, size_t n)
{
	char	*p, *nl, *end;
	size_t	 at;
	const char *why;

	p = ch->buf;
	end = ch->buf + ch->len + n;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (ch->skipping)
			ch->skipping = 0;
		else if (nl > p && json_check(p, (size_t)(nl - p), &at,
		    &why) == -1) {
			char	 what[96];

			snprintf(what, sizeof(what), "a line that is not "
			    "JSON (%s expected at byte %zu)", why, at + 1);
			bad_line(ch, what);
		} else if (nl > p) {
			ch->received++;
			dispatch(ch, p, (size_t)(nl - p), 0);
			if (ch->in->ch != ch)	/* it ended meanwhile */
				return;
		}
		p = nl + 1;
	}
	ch->len = (size_t)(end - p);
	memmove(ch->buf, p, ch->len);
	if (ch->len == CHANNEL_MSG_MAX) {
		if (!ch->skipping) {
			char	 what[64];

			snprintf(what, sizeof(what), "a message longer than "
			    "%d bytes", CHANNEL_MSG_MAX);
			bad_line(ch, what);
		}
		ch->skipping = 1;
		ch->len = 0;
	}
}

static void
drain(struct channel *ch)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(FDS_MAX * sizeof(int))];
	}		 cm;
	struct cmsghdr	*c;
	struct msghdr	 msg;
	struct iovec	 iov;
	size_t		 total = 0, i, nfd;
	ssize_t		 n;
	int		 fd;

	while (ch->w.fd != -1 && total < CHANNEL_READ_MAX) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = ch->buf + ch->len;
		iov.iov_len = CHANNEL_MSG_MAX - ch->len;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		n = recvmsg(ch->w.fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		/* Handles are never kept: closed, acknowledged by line. */
		for (c = CMSG_FIRSTHDR(&msg); n >= 0 && c != NULL;
		    c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < nfd; i++) {
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int),
				    sizeof(int));
				close(fd);
			}
		}
		if (n <= 0) {
			hang_up(ch);
			return;
		}
		total += (size_t)n;
		lines(ch, (size_t)n);
		if (ch->in->ch != ch)
			return;
	}
	flush(ch);
}

static void
channel_io(struct watch *w, uint32_t events)
{
	struct channel	*ch = w->arg;

	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		drain(ch);
	else if (events & EPOLLOUT)
		flush(ch);
}

void
channel_describe(const struct instance *in, struct pbuf *pb)
{
	const struct channel	*ch = in->ch;

	if (!in->app->spec->channel)
		return;
	if (ch == NULL) {
		pbuf_printf(pb, "none (not running)");
		return;
	}
	pbuf_printf(pb, "%s, %llu sent, %llu received",
	    ch->w.fd == -1 ? "closed" : "open", ch->sent, ch->received);
	if (ch->queued > 0)
		pbuf_printf(pb, ", %zu bytes unread", ch->queued);
	if (ch->refused > 0)
		pbuf_printf(pb, ", %llu refused (full)", ch->refused);
	if (ch->bad > 0)
		pbuf_printf(pb, ", %llu bad lines dropped", ch->bad);
	if (ch->handles > 0)
		pbuf_printf(pb, ", %llu handles closed", ch->handles);
}

/* --- across pmc update (state.h) ------------------------------------------ */

/* A handle sent and not acknowledged, or queued: not to be carried. */
int
channel_busy(void)
{
	struct app	*app;
	struct outmsg	*m;
	size_t		 i;

	TAILQ_FOREACH(app, &sv->apps, entry)
		for (i = 0; i < app->ninst; i++) {
			if (app->inst[i]->ch == NULL)
				continue;
			if (app->inst[i]->ch->wait_ack ||
			    app->inst[i]->ch->unacked != NULL)
				return (1);
			STAILQ_FOREACH(m, &app->inst[i]->ch->q, entry)
				if (m->fd != -1)
					return (1);
		}
	return (0);
}

void
channel_save(const struct instance *in, struct state_out *o)
{
	const struct channel	*ch = in->ch;
	const struct outmsg	*m;

	if (ch == NULL)
		return;
	state_begin(o, "chan");
	state_fd(o, "fd", ch->w.fd);
	state_bytes(o, "in", ch->buf, ch->len);
	state_num(o, "skipping", ch->skipping);
	state_unum(o, "sent", ch->sent);
	state_unum(o, "received", ch->received);
	state_unum(o, "refused", ch->refused);
	state_unum(o, "bad", ch->bad);
	state_unum(o, "handles", ch->handles);
	state_num(o, "warned", ch->warned);
	state_end(o);
	STAILQ_FOREACH(m, &ch->q, entry) {
		state_begin(o, "chanmsg");
		state_bytes(o, "data", m->data + m->off, m->len - m->off);
		state_num(o, "bypass", m->bypass);
		state_end(o);
	}
}

/* A "chan" record makes in's channel, each "chanmsg" queues a line. */
int
channel_load(struct instance *in, const struct state_rec *r)
{
	struct channel	*ch = in->ch;
	struct outmsg	*m;
	const char	*p;
	size_t		 len;

	if (strcmp(r->kind, "chanmsg") == 0) {
		p = rec_bytes(r, "data", &len);
		if (ch == NULL || len == 0)
			return (-1);
		if ((m = calloc(1, sizeof(*m))) == NULL ||
		    (m->data = malloc(len)) == NULL)
			fatal("calloc");
		memcpy(m->data, p, len);
		m->len = len;
		m->fd = -1;
		m->bypass = rec_num(r, "bypass") != 0;
		STAILQ_INSERT_TAIL(&ch->q, m, entry);
		ch->queued += len;
		interest(ch);
		return (0);
	}
	if (ch != NULL || (ch = calloc(1, sizeof(*ch))) == NULL)
		return (-1);
	ch->in = in;
	STAILQ_INIT(&ch->q);
	ch->w.fd = rec_fd(r, "fd");
	ch->w.fn = channel_io;
	ch->w.arg = ch;
	if (ch->w.fd != -1 && watch_add(&ch->w, EPOLLIN) == -1)
		fatal("epoll_ctl");
	p = rec_bytes(r, "in", &len);
	if (len <= CHANNEL_MSG_MAX) {
		memcpy(ch->buf, p, len);
		ch->len = len;
	}
	ch->skipping = rec_num(r, "skipping") != 0;
	ch->sent = rec_unum(r, "sent");
	ch->received = rec_unum(r, "received");
	ch->refused = rec_unum(r, "refused");
	ch->bad = rec_unum(r, "bad");
	ch->handles = rec_unum(r, "handles");
	ch->warned = rec_num(r, "warned") != 0;
	in->ch = ch;
	return (0);
}
