/*
 * notify.c -- the sd_notify socket instances report readiness on.
 *
 * One datagram socket, SO_PASSCRED on: the kernel stamps each message
 * with the sender's pid, which names the instance (its leader, or any
 * process of its group).  Unknown senders are ignored, so the socket can
 * live in the abstract namespace ("@pmcd/<pid>/notify"), where instances
 * that run as another user can reach it too.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pmcd.h"

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

static void
notify_line(struct instance *in, const char *line)
{
	if (strcmp(line, "READY=1") == 0)
		instance_event(in, IE_READY);
	else if (strcmp(line, "PMC_LISTENING=1") == 0 &&
	    in->app->spec->ready == READY_AUTO)
		instance_event(in, IE_READY);	/* from the shim's listen() */
	else if (strncmp(line, "STATUS=", 7) == 0)
		strlcpy(in->status_text, line + 7, sizeof(in->status_text));
}

static void
notify_read(struct watch *w, uint32_t events)
{
	char			 buf[NOTIFY_MAX + 1], *line, *next;
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
		buf[n] = '\0';
		for (line = buf; line != NULL; line = next) {
			if ((next = strchr(line, '\n')) != NULL)
				*next++ = '\0';
			notify_line(in, line);
		}
	}
}

void
notify_init(void)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	char			 path[64];
	socklen_t		 len;
	int			 fd, on = 1;

	snprintf(path, sizeof(path), "@pmcd/%ld/notify", (long)getpid());
	/* Abstract: a NUL first, and the length says where the name ends. */
	memcpy(sun.sun_path + 1, path + 1, strlen(path) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	if (bind(fd, (struct sockaddr *)&sun, len) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1)
		fatal("notify socket %s", path);
	nw.fd = fd;
	nw.fn = notify_read;
	if (watch_add(&nw, EPOLLIN) == -1)
		fatal("epoll_ctl");
	strlcpy(sv->notify_path, path, sizeof(sv->notify_path));
}
