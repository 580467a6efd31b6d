/*
 * listen.c -- binding the sockets that instances inherit.
 *
 * They stay blocking: the open file description is shared with every
 * instance, and servers given a socket the systemd way expect it as
 * systemd passes it.  pmcd itself never accepts on them.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

/* Remove a unix socket file nobody answers on; refuse anything else. */
static int
unix_stale(const struct listen_addr *la, char *why, size_t len)
{
	const struct sockaddr_un	*sun = (const void *)&la->ss;
	struct stat			 sb;
	int				 fd, rc;

	if (lstat(sun->sun_path, &sb) == -1)
		return (0);
	if (!S_ISSOCK(sb.st_mode)) {
		snprintf(why, len, "%s: file exists and is not a socket",
		    la->text);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	rc = connect(fd, (const struct sockaddr *)&la->ss, la->sslen);
	close(fd);
	if (rc == 0) {
		snprintf(why, len, "%s: Address already in use", la->text);
		return (-1);
	}
	if (unlink(sun->sun_path) == 0 || errno == ENOENT)
		return (0);
fail:
	snprintf(why, len, "%s: %s", la->text, strerror(errno));
	return (-1);
}

int
listen_open(const struct listen_addr *la, int reuseport, char *why,
    size_t len)
{
	int	 fd, on = 1;

	if (la->family == AF_UNIX && unix_stale(la, why, len) == -1)
		return (-1);
	fd = socket(la->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (la->family != AF_UNIX && setsockopt(fd, SOL_SOCKET,
	    SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on,
	    sizeof(on)) == -1)
		goto fail;
	if (la->family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&la->ss, la->sslen) == -1)
		goto fail;
	if (listen(fd, SOMAXCONN) == -1)
		goto fail;
	return (fd);
fail:
	snprintf(why, len, "%s: %s", la->text, strerror(errno));
	if (fd != -1)
		close(fd);
	return (-1);
}

void
listen_close(const struct listen_addr *la, int fd)
{
	const struct sockaddr_un	*sun = (const void *)&la->ss;

	if (fd == -1)
		return;
	close(fd);
	if (la->family == AF_UNIX)
		unlink(sun->sun_path);
}
