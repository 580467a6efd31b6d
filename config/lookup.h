/*
 * lookup.h -- the names a spec holds, looked up once.
 *
 * user:, group: and the host names of listen: go through the system's
 * name services (NSS: files, LDAP, DNS), which may wait for seconds.
 * pmcd's loop never does: pmc, or a helper process pmcd forks for
 * SIGHUP, reads the spec in record mode, asking the system and writing
 * every answer down, and sends the answers beside the spec text; pmcd
 * parses the text again in replay mode, answered from that list alone.
 *
 * The answers are text, one per line, fields separated by tabs:
 *
 *	u <key> <uid> <gid> <login> <home> <shell>	user: (a name, or
 *							digits: a uid)
 *	g <key> <gid>					group:
 *	G <login> <gid> <gid>,<gid>,...			the groups of login,
 *							primary gid first
 *	h <host> <port> <v6only> <address>		a listen: host name,
 *							the numeric address
 *
 * A name or value holding a tab or a newline cannot be written down and
 * is treated as not found.
 */
#ifndef PMC_LOOKUP_H
#define PMC_LOOKUP_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

struct pbuf;

#define LOOKUP_NAME_MAX	256

struct lookup_user {
	uid_t	uid;
	gid_t	gid;
	char	login[LOOKUP_NAME_MAX];
	char	home[LOOKUP_NAME_MAX * 4];
	char	shell[LOOKUP_NAME_MAX * 4];
};

/*
 * Record mode: every answer from the system is added to pb (NULL:
 * stop).  Replay mode: answers come from the text answers only (NULL:
 * ask the system again); the text must outlive the parse.
 */
void	 lookup_record(struct pbuf *);
void	 lookup_replay(const char *answers);
int	 lookup_replaying(void);

/* A key that is all digits is a number, never a name.  0, or -1. */
int	 lookup_user(const char *key, struct lookup_user *);
int	 lookup_group(const char *key, gid_t *);
/* login's groups, gid first; *groups is malloc'd.  0, or -1. */
int	 lookup_groups(const char *login, gid_t gid, gid_t **groups,
	    size_t *ngroups);
/* A host name (not numeric) to one address, IPv4 preferred.  0, or -1. */
int	 lookup_host(const char *host, const char *port, int v6only,
	    struct sockaddr_storage *, socklen_t *);

/*
 * What lookup_host asks: getaddrinfo(3).  The fuzzers point it at a
 * resolver that never leaves the machine; its results go to freeaddrinfo.
 */
struct addrinfo;
extern int (*spec_getaddrinfo)(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **);

#endif /* PMC_LOOKUP_H */
