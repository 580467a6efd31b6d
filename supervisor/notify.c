/*
 * notify.c -- the sd_notify socket instances report readiness on.
 *
 * One datagram socket, SO_PASSCRED on: the kernel stamps each message
 * with the sender's pid, which names the instance (its leader, or any
 * process of its group).  Unknown senders are ignored, so the socket can
 * live in the abstract namespace (a name the kernel picks), where
 * instances that run as another user can reach it too.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "pmcd.h"
#include "state.h"

#define NOTIFY_MAX	4096

static struct watch	 nw = { .fd = -1 };

static struct instance *
sender(pid_t pid)
{
	struct instance	*in;
	pid_t		 pgid;

	if ((in = instance_by_pid(pid)) != NULL)
		return (in);
	if ((pgid = getpgid(pid)) == -1)
		return (NULL);
	return (instance_by_pid(pgid));
}

/* Act on one datagram from in. */
static void
notify_apply(struct instance *in, const char *buf, size_t len)
{
	struct notify_msg	 m;
	size_t			 n;

	if (notify_parse(buf, len, &m) == -1) {
		in_warnx(in, "a notify message holding a NUL byte was "
		    "ignored, as systemd does");
		return;
	}
	if (m.status != NULL) {
		n = m.status_len < sizeof(in->status_text) - 1 ?
		    m.status_len : sizeof(in->status_text) - 1;
		memcpy(in->status_text, m.status, n);
		in->status_text[n] = '\0';
	}
	/* PMC_LISTENING=1 comes from the shim's listen(). */
	if (m.ready || (m.listening && in->app->spec->ready == READY_AUTO))
		instance_event(in, IE_READY);
}

static void
notify_read(struct watch *w, uint32_t events)
{
	char			 buf[NOTIFY_MAX];
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(struct ucred))];
	}			 cm;
	struct iovec		 iov = { buf, NOTIFY_MAX };
	struct msghdr		 msg = { 0 };
	struct cmsghdr		*ch;
	struct ucred		 cred;
	struct instance		*in;
	ssize_t			 n;

	(void)events;
	for (;;) {
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		n = recvmsg(w->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC |
		    MSG_TRUNC);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return;
		ch = CMSG_FIRSTHDR(&msg);
		if (ch == NULL || ch->cmsg_type != SCM_CREDENTIALS ||
		    (size_t)n > NOTIFY_MAX)
			continue;	/* no credentials, or too long */
		memcpy(&cred, CMSG_DATA(ch), sizeof(cred));
		if ((in = sender(cred.pid)) == NULL)
			continue;
		notify_apply(in, buf, (size_t)n);
	}
}

void
notify_init(void)
{
	struct sockaddr_un	 sun;
	socklen_t		 len = sizeof(sa_family_t);
	int			 fd, on = 1;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	/*
	 * Autobind: the kernel picks a unique abstract name, so two pmcd
	 * sharing a network namespace (two containers' PID 1) never clash.
	 */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (bind(fd, (struct sockaddr *)&sun, len) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1)
		fatal("notify socket");
	len = sizeof(sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1 ||
	    len <= offsetof(struct sockaddr_un, sun_path) + 1)
		fatal("notify socket name");
	len -= offsetof(struct sockaddr_un, sun_path);
	sv->notify_path[0] = '@';
	memcpy(sv->notify_path + 1, sun.sun_path + 1,
	    len - 1 < sizeof(sv->notify_path) - 2 ? len - 1 :
	    sizeof(sv->notify_path) - 2);
	nw.fd = fd;
	nw.fn = notify_read;
	if (watch_add(&nw, EPOLLIN) == -1)
		fatal("epoll_ctl");
}

/* pmc update: the socket, and its name the instances were given. */
void
notify_save(struct state_out *o)
{
	state_begin(o, "notify");
	state_fd(o, "fd", nw.fd);
	state_str(o, "path", sv->notify_path);
	state_end(o);
}

void
notify_load(const struct state_rec *r)
{
	if ((nw.fd = rec_fd(r, "fd")) == -1)
		fatalx("state: no notify socket");
	strlcpy(sv->notify_path, rec_str(r, "path"), sizeof(sv->notify_path));
	nw.fn = notify_read;
	if (watch_add(&nw, EPOLLIN) == -1)
		fatal("epoll_ctl");
}
