/*
 * addr.h -- listen addresses: the listen: entries of a spec and pmcd's
 * --metrics address.
 */
#ifndef PMC_ADDR_H
#define PMC_ADDR_H

#include <sys/types.h>
#include <sys/socket.h>

#define SPEC_ADDR_MAX	128	/* longest text form of an address */
#define ADDR_EXPECT	"host:port, [v6]:port or unix:/path"

struct listen_addr {
	int			 family;	/* AF_INET, AF_INET6, AF_UNIX */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 text[SPEC_ADDR_MAX];	/* canonical text */
};

/*
 * 0, or -1 with *why what was expected ("a port from 1 to 65535").
 * A numeric host is read here, a name through lookup_host (lookup.h).
 * text is canonical: numeric host, "[v6]:port", "unix:/abs/path".  A
 * relative unix: path is taken from the folder base; with base NULL,
 * it is refused.
 */
int	 parse_listen_at(const char *, const char *base, struct listen_addr *,
	    const char **why);
int	 parse_listen(const char *, struct listen_addr *, const char **why);
/* Would binding both fail: the same port with a wildcard in one family. */
int	 listen_overlap(const struct listen_addr *, const struct listen_addr *);

#endif /* PMC_ADDR_H */
