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

#include <linux/filter.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

/*
 * Sockets pmcd itself was given (systemd's LISTEN_FDS): kept open for
 * pmcd's whole life; apps get copies, matched by LISTEN_FDNAMES = app
 * name, else by address.  So the port survives a restart of pmcd.
 */
struct adopted {
	int	 fd;
	char	 name[SPEC_NAME_MAX + 1];
	char	 text[SPEC_ADDR_MAX];
	int	 copy;		/* the copy an app holds, or -1 */
};

static struct adopted	*adopted;
static size_t		 nadopted;

/* The canonical text of a bound socket, as the spec loader writes it. */
static void
sock_text(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	socklen_t		 sl = sizeof(ss);
	char			 host[INET6_ADDRSTRLEN];
	const void		*a;
	int			 port;

	buf[0] = '\0';
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_UNIX) {
		snprintf(buf, len, "unix:%.*s", (int)(len - 6), sun->sun_path);
		return;
	}
	if (ss.ss_family == AF_INET) {
		a = &((struct sockaddr_in *)&ss)->sin_addr;
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	} else {
		a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	if (inet_ntop(ss.ss_family, a, host, sizeof(host)) == NULL)
		return;
	snprintf(buf, len, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d",
	    host, port);
}

int
listen_adopt(void)
{
	const char	*s, *errstr, *names;
	long long	 n;
	size_t		 i, k;
	int		 fd;

	if ((s = getenv("LISTEN_PID")) == NULL ||
	    strtonum(s, 1, INT32_MAX, &errstr) != getpid() ||
	    (s = getenv("LISTEN_FDS")) == NULL)
		return (0);
	n = strtonum(s, 0, 1024, &errstr);
	if (errstr != NULL || n == 0)
		return (0);
	if ((adopted = calloc((size_t)n, sizeof(*adopted))) == NULL)
		fatal("calloc");
	names = getenv("LISTEN_FDNAMES");
	for (i = 0; i < (size_t)n; i++) {
		fd = 3 + (int)i;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		adopted[i].fd = fd;
		adopted[i].copy = -1;
		for (k = 0; names != NULL && *names != '\0' &&
		    *names != ':' && k < SPEC_NAME_MAX; names++)
			adopted[i].name[k++] = *names;
		while (names != NULL && *names != '\0' && *names++ != ':')
			;
		sock_text(fd, adopted[i].text, sizeof(adopted[i].text));
		log_info("adopted socket %s (%s) from the service manager",
		    adopted[i].text, adopted[i].name);
	}
	nadopted = (size_t)n;
	return ((int)n);
}

/* Is text one of app's listen addresses? */
static int
app_has(const struct app_spec *app, const char *text)
{
	size_t	 j;

	for (j = 0; j < app->nlisten; j++)
		if (strcmp(app->listen[j].text, text) == 0)
			return (1);
	return (0);
}

/*
 * A free adopted socket for one of app's addresses, or -1: named after
 * the app with this address; else named after it with an address the
 * app does not list (systemd's [::]:80 for the app's 127.0.0.1:80);
 * else any name, this address.
 */
static int
take_adopted(const struct app_spec *app, const struct listen_addr *la)
{
	size_t	 i, pass;

	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < nadopted; i++) {
			if (adopted[i].copy != -1)
				continue;
			if (pass == 0 && (strcmp(adopted[i].name,
			    app->name) != 0 ||
			    strcmp(adopted[i].text, la->text) != 0))
				continue;
			if (pass == 1 && (strcmp(adopted[i].name,
			    app->name) != 0 || app_has(app, adopted[i].text)))
				continue;
			if (pass == 2 && strcmp(adopted[i].text, la->text) != 0)
				continue;
			if (pass == 1)
				log_warnx("%s: listen %s is served by the "
				    "socket %s that the service manager passed "
				    "as \"%s\"", app->name, la->text,
				    adopted[i].text, adopted[i].name);
			adopted[i].copy = fcntl(adopted[i].fd,
			    F_DUPFD_CLOEXEC, 3);
			return (adopted[i].copy);
		}
	return (-1);
}

static int
adopted_at(const char *text)
{
	size_t	 i;

	for (i = 0; i < nadopted; i++)
		if (strcmp(adopted[i].text, text) == 0)
			return (1);
	return (0);
}

/* Would the app be given a socket the service manager passed? */
int
listen_adopted_for(const struct app_spec *app)
{
	size_t	 i;

	for (i = 0; i < nadopted; i++)
		if (strcmp(adopted[i].name, app->name) == 0 ||
		    app_has(app, adopted[i].text))
			return (1);
	return (0);
}

/* fd is a copy of an adopted socket: give it back. */
static int
return_adopted(int fd)
{
	size_t	 i;

	for (i = 0; i < nadopted; i++)
		if (adopted[i].copy == fd) {
			adopted[i].copy = -1;
			return (1);
		}
	return (0);
}

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
listen_open(const struct app_spec *app, const struct listen_addr *la,
    int reuseport, char *why, size_t len)
{
	int	 fd, on = 1;

	if (!reuseport && (fd = take_adopted(app, la)) != -1)
		return (fd);
	if (reuseport && adopted_at(la->text)) {
		snprintf(why, len, "%s: the service manager passed this "
		    "address; a passed socket serves only balance: shared",
		    la->text);
		return (-1);
	}
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

/* Is fd a copy of an adopted socket? */
static int
is_adopted(int fd)
{
	size_t	 i;

	for (i = 0; i < nadopted; i++)
		if (adopted[i].copy == fd)
			return (1);
	return (0);
}

int
listen_refuse(const struct listen_addr *la, int fd)
{
	/*
	 * The filter sees the TCP header: byte 13 holds the flags; a SYN
	 * without ACK is a new connection.  Anything else passes, so the
	 * handshakes under way complete.
	 */
	struct sock_filter	 f[] = {
		{ BPF_LD | BPF_B | BPF_ABS, 0, 0, 13 },
		{ BPF_ALU | BPF_AND | BPF_K, 0, 0, 0x12 },
		{ BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0x02 },
		{ BPF_RET | BPF_K, 0, 0, 0 },
		{ BPF_RET | BPF_K, 0, 0, 0xffffffffu },
	};
	struct sock_fprog	 fp = { sizeof(f) / sizeof(f[0]), f };

	if (fd == -1 || la->family == AF_UNIX || is_adopted(fd))
		return (0);
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	    sizeof(fp)) == 0)
		return (1);
	/*
	 * Some kernels want CAP_NET_ADMIN for a filter.  Without one, a
	 * backlog of 0: the kernel drops a SYN while one connection waits.
	 */
	if (listen(fd, 0) == -1) {
		log_warn("%s: listen", la->text);
		return (0);
	}
	return (1);
}

unsigned int
listen_queued(int fd)
{
	struct tcp_info	 ti;
	socklen_t	 len = sizeof(ti);

	if (fd == -1 ||
	    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1)
		return (0);
	return (ti.tcpi_unacked);
}

void
listen_close(const struct listen_addr *la, int fd)
{
	const struct sockaddr_un	*sun = (const void *)&la->ss;

	if (fd == -1)
		return;
	if (return_adopted(fd)) {
		close(fd);	/* the original stays with us */
		return;
	}
	close(fd);
	if (la->family == AF_UNIX)
		unlink(sun->sun_path);
}

/* --- an app's layout ------------------------------------------------------ */

size_t
layout_size(const struct app_spec *s)
{
	if (BALANCE_PER_SLOT(s->balance))
		return (s->nlisten * (size_t)s->instances);
	return (s->nlisten);
}

const struct listen_addr *
layout_addr(const struct app_spec *s, size_t i)
{
	return (&s->listen[i % s->nlisten]);
}

int
layout_slot_fds(const struct app_spec *s, const int *fds, size_t nfds,
    int slot, int *out)
{
	size_t	 j, base = 0;

	if (BALANCE_PER_SLOT(s->balance))
		base = (size_t)slot * s->nlisten;
	if (base + s->nlisten > nfds)
		return (-1);
	for (j = 0; j < s->nlisten; j++)
		if ((out[j] = fds[base + j]) == -1)
			return (-1);
	return (0);
}

/* Close the sockets of fds (laid out for spec) that keep does not hold. */
void
layout_close(const struct app_spec *spec, int *fds, size_t nfds,
    const int *keep, size_t nkeep)
{
	size_t	 i, k;

	/*
	 * Highest slots first: the kernel fills a hole in a reuseport group
	 * with its last socket, and classic BPF counts on slot == index.
	 */
	for (i = nfds; i-- > 0; ) {
		if (fds[i] == -1)
			continue;
		for (k = 0; k < nkeep; k++)
			if (keep[k] == fds[i])
				break;
		/*
		 * A retired reuseport socket leaves the kernel's group now,
		 * though instances still hold it (app.c: close_slot_sockets).
		 */
		if (k == nkeep && BALANCE_PER_SLOT(spec->balance))
			shutdown(fds[i], SHUT_RD);
		if (k == nkeep)
			listen_close(layout_addr(spec, i), fds[i]);
		fds[i] = -1;
	}
}
