/*
 * addr.c -- listen addresses; see addr.h.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "human.h"
#include "lookup.h"
#include "path.h"

static int
listen_unix(const char *path, const char *base, struct listen_addr *a,
    const char **why)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)&a->ss;
	char			*abs;

	if (*path == '\0') {
		*why = "a socket path after \"unix:\"";
		return -1;
	}
	if (*path != '/' && base == NULL) {
		*why = "an absolute socket path";
		return -1;
	}
	abs = path_resolve(base != NULL ? base : "/", path);
	if (strlen(abs) >= sizeof(sun->sun_path)) {
		free(abs);
		*why = "a socket path of at most 107 bytes";
		return -1;
	}
	a->family = AF_UNIX;
	sun->sun_family = AF_UNIX;
	strlcpy(sun->sun_path, abs, sizeof(sun->sun_path));
	a->sslen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(abs) + 1);
	snprintf(a->text, sizeof(a->text), "unix:%s", abs);
	free(abs);
	return 0;
}

/* Resolve host: a numeric address here, a name through lookup_host. */
static int
listen_resolve(const char *host, const char *port, int v6only,
    struct listen_addr *a)
{
	struct addrinfo	 hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = v6only ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		if (v6only || lookup_host(host, port, 0, &a->ss,
		    &a->sslen) == -1)
			return -1;
		a->family = a->ss.ss_family;
		return 0;
	}
	a->family = res->ai_family;
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
listen_inet(const char *s, struct listen_addr *a, const char **why)
{
	char		 host[SPEC_ADDR_MAX], num[NI_MAXHOST];
	const char	*colon, *port;
	size_t		 hlen;
	uint64_t	 p;
	int		 v6 = s[0] == '[';

	*why = ADDR_EXPECT;
	if ((colon = strrchr(s, ':')) == NULL)
		return -1;
	port = colon + 1;
	hlen = (size_t)(colon - s);
	if (v6 && (hlen < 3 || s[hlen - 1] != ']'))
		return -1;
	if (v6) {
		s++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host) || (!v6 && memchr(s, ':', hlen)))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (!v6 && strcmp(host, "*") == 0)
		strlcpy(host, "0.0.0.0", sizeof(host));
	if (parse_uint(port, 65535, &p) == -1 || p == 0) {
		*why = "a port from 1 to 65535";
		return -1;
	}
	if (listen_resolve(host, port, v6, a) == -1) {
		*why = v6 ? "an IPv6 address in [brackets]" :
		    "a host name that resolves";
		return -1;
	}
	if (getnameinfo((struct sockaddr *)&a->ss, a->sslen, num, sizeof(num),
	    NULL, 0, NI_NUMERICHOST) != 0)
		return -1;
	snprintf(a->text, sizeof(a->text), a->family == AF_INET6 ?
	    "[%s]:%llu" : "%s:%llu", num, (unsigned long long)p);
	return 0;
}

int
parse_listen_at(const char *s, const char *base, struct listen_addr *a,
    const char **why)
{
	memset(a, 0, sizeof(*a));
	if (strncmp(s, "unix:", 5) == 0)
		return listen_unix(s + 5, base, a, why);
	return listen_inet(s, a, why);
}

int
parse_listen(const char *s, struct listen_addr *a, const char **why)
{
	return parse_listen_at(s, NULL, a, why);
}

static int
inet_wildcard(const struct listen_addr *a)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (a->family == AF_INET) {
		sin = (const struct sockaddr_in *)&a->ss;
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	sin6 = (const struct sockaddr_in6 *)&a->ss;
	return a->family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

static int
inet_port(const struct listen_addr *a)
{
	if (a->family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

int
listen_overlap(const struct listen_addr *a, const struct listen_addr *b)
{
	if (a->family != b->family || a->family == AF_UNIX)
		return 0;
	if (inet_port(a) != inet_port(b))
		return 0;
	return inet_wildcard(a) || inet_wildcard(b);
}
