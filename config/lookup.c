/*
 * lookup.c -- user, group and host names asked of the system once, and
 * the answers written down or read back; see lookup.h.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lookup.h"
#include "protocol.h"

#define FIELDS_MAX	8
#define GROUPS_MAX	65536

static struct pbuf	*record;
static const char	*replay;

int	(*spec_getaddrinfo)(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **) = getaddrinfo;

void
lookup_record(struct pbuf *pb)
{
	record = pb;
}

void
lookup_replay(const char *answers)
{
	replay = answers;
}

int
lookup_replaying(void)
{
	return replay != NULL;
}

/* Fields of a line of the answers: tab-separated, no tab nor newline. */
static int
writable(const char *s)
{
	return strpbrk(s, "\t\n") == NULL;
}

static void
record_line(const char *kind, const char **f, size_t n)
{
	size_t	i;

	if (record == NULL)
		return;
	pbuf_printf(record, "%s", kind);
	for (i = 0; i < n; i++)
		pbuf_printf(record, "\t%s", f[i]);
	pbuf_printf(record, "\n");
}

/*
 * The first line of the answers of this kind whose first nkey fields
 * are key; its fields (copied into buf) in f.  Returns the count, or -1.
 */
static int
replay_find(const char *kind, const char **key, size_t nkey, char *buf,
    size_t len, char **f)
{
	const char	*line, *end;
	size_t		 i, n;
	int		 nf;
	char		*p;

	for (line = replay; *line != '\0'; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		if ((size_t)(end - line) >= len)
			continue;
		memcpy(buf, line, (size_t)(end - line));
		buf[end - line] = '\0';
		nf = 0;
		for (p = buf; p != NULL && nf < FIELDS_MAX; nf++)
			f[nf] = strsep(&p, "\t");
		if (nf < 1 || strcmp(f[0], kind) != 0 || (size_t)nf <= nkey)
			continue;
		for (i = 0, n = 0; i < nkey; i++)
			n += strcmp(f[i + 1], key[i]) == 0;
		if (n == nkey)
			return nf - 1;
	}
	return -1;
}

/* An unsigned decimal number below max; 0, or -1. */
static int
number(const char *s, unsigned long long max, unsigned long long *v)
{
	char	*end;

	if (*s < '0' || *s > '9')
		return -1;
	*v = strtoull(s, &end, 10);
	return *end == '\0' && *v <= max ? 0 : -1;
}

static int
all_digits(const char *s)
{
	return *s != '\0' && s[strspn(s, "0123456789")] == '\0';
}

int
lookup_user(const char *key, struct lookup_user *u)
{
	char			 buf[4096], num[2][24], *f[FIELDS_MAX];
	const char		*out[6];
	struct passwd		*pw;
	unsigned long long	 uid, gid, id;

	if (replay != NULL) {
		if (replay_find("u", &key, 1, buf, sizeof(buf), f) != 6 ||
		    number(f[2], UINT32_MAX - 1, &uid) == -1 ||
		    number(f[3], UINT32_MAX - 1, &gid) == -1 ||
		    strlcpy(u->login, f[4], sizeof(u->login)) >=
		    sizeof(u->login) ||
		    strlcpy(u->home, f[5], sizeof(u->home)) >=
		    sizeof(u->home) ||
		    strlcpy(u->shell, f[6], sizeof(u->shell)) >=
		    sizeof(u->shell))
			return -1;
		u->uid = (uid_t)uid;
		u->gid = (gid_t)gid;
		return 0;
	}
	if (!writable(key))
		return -1;
	if (all_digits(key))
		pw = number(key, UINT32_MAX - 1, &id) == 0 ?
		    getpwuid((uid_t)id) : NULL;
	else
		pw = getpwnam(key);
	if (pw == NULL || !writable(pw->pw_name) || !writable(pw->pw_dir) ||
	    !writable(pw->pw_shell) ||
	    strlcpy(u->login, pw->pw_name, sizeof(u->login)) >=
	    sizeof(u->login) ||
	    strlcpy(u->home, pw->pw_dir, sizeof(u->home)) >= sizeof(u->home) ||
	    strlcpy(u->shell, pw->pw_shell, sizeof(u->shell)) >=
	    sizeof(u->shell))
		return -1;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(num[0], sizeof(num[0]), "%u", (unsigned int)u->uid);
	snprintf(num[1], sizeof(num[1]), "%u", (unsigned int)u->gid);
	out[0] = key;
	out[1] = num[0];
	out[2] = num[1];
	out[3] = u->login;
	out[4] = u->home;
	out[5] = u->shell;
	record_line("u", out, 6);
	return 0;
}

int
lookup_group(const char *key, gid_t *gid)
{
	char			 buf[1024], num[24], *f[FIELDS_MAX];
	const char		*out[2];
	struct group		*gr;
	unsigned long long	 id;

	if (replay != NULL) {
		if (replay_find("g", &key, 1, buf, sizeof(buf), f) != 2 ||
		    number(f[2], UINT32_MAX - 1, &id) == -1)
			return -1;
		*gid = (gid_t)id;
		return 0;
	}
	if (!writable(key))
		return -1;
	if (all_digits(key))
		gr = number(key, UINT32_MAX - 1, &id) == 0 ?
		    getgrgid((gid_t)id) : NULL;
	else
		gr = getgrnam(key);
	if (gr == NULL)
		return -1;
	*gid = gr->gr_gid;
	snprintf(num, sizeof(num), "%u", (unsigned int)*gid);
	out[0] = key;
	out[1] = num;
	record_line("g", out, 2);
	return 0;
}

/* "1,2,3" into a malloc'd array; 0, or -1. */
static int
groups_parse(const char *s, gid_t **groups, size_t *n)
{
	unsigned long long	 v;
	char			*copy, *p, *tok;
	gid_t			*g;
	size_t			 count = 1;

	for (p = (char *)(uintptr_t)s; (p = strchr(p, ',')) != NULL; p++)
		count++;
	if (count > GROUPS_MAX || (g = calloc(count, sizeof(*g))) == NULL)
		return -1;
	if ((copy = strdup(s)) == NULL) {
		free(g);
		return -1;
	}
	*n = 0;
	for (p = copy; (tok = strsep(&p, ",")) != NULL; ) {
		if (number(tok, UINT32_MAX - 1, &v) == -1) {
			free(copy);
			free(g);
			return -1;
		}
		g[(*n)++] = (gid_t)v;
	}
	free(copy);
	*groups = g;
	return 0;
}

int
lookup_groups(const char *login, gid_t gid, gid_t **groups, size_t *ngroups)
{
	char		 buf[65536], num[24], *f[FIELDS_MAX];
	const char	*key[2], *out[3];
	struct pbuf	 list = { 0 };
	gid_t		*g = NULL, *ng;
	int		 n = 64, i;

	snprintf(num, sizeof(num), "%u", (unsigned int)gid);
	key[0] = login;
	key[1] = num;
	if (replay != NULL)
		return replay_find("G", key, 2, buf, sizeof(buf), f) == 3 ?
		    groups_parse(f[3], groups, ngroups) : -1;
	if (!writable(login))
		return -1;
	for (;;) {
		if ((ng = reallocarray(g, (size_t)n, sizeof(*g))) == NULL) {
			free(g);
			return -1;
		}
		g = ng;
		if (getgrouplist(login, gid, g, &n) != -1)
			break;
		if (n > GROUPS_MAX) {
			free(g);
			return -1;
		}
	}
	for (i = 0; i < n; i++)
		pbuf_printf(&list, "%s%u", i > 0 ? "," : "",
		    (unsigned int)g[i]);
	pbuf_add(&list, "", 1);
	out[0] = login;
	out[1] = num;
	out[2] = list.data;
	record_line("G", out, 3);
	pbuf_free(&list);
	*groups = g;
	*ngroups = (size_t)n;
	return 0;
}

/* A numeric address into ss; 0, or -1.  No name service is asked. */
static int
numeric(const char *addr, const char *port, int family,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct addrinfo	 hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(addr, port, &hints, &res) != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int
lookup_host(const char *host, const char *port, int v6only,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	char		 buf[1024], addr[NI_MAXHOST], *f[FIELDS_MAX];
	const char	*key[3], *out[4];
	struct addrinfo	 hints, *res, *ai, *pick = NULL;
	int		 rc;

	key[0] = host;
	key[1] = port;
	key[2] = v6only ? "1" : "0";
	if (replay != NULL)
		return replay_find("h", key, 3, buf, sizeof(buf), f) == 4 ?
		    numeric(f[4], port, v6only ? AF_INET6 : AF_UNSPEC, ss,
		    sslen) : -1;
	if (!writable(host) || !writable(port))
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = v6only ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if (spec_getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET && (pick == NULL ||
		    pick->ai_family != AF_INET))
			pick = ai;
		else if (ai->ai_family == AF_INET6 && pick == NULL)
			pick = ai;
	}
	rc = -1;
	if (pick != NULL && getnameinfo(pick->ai_addr, pick->ai_addrlen, addr,
	    sizeof(addr), NULL, 0, NI_NUMERICHOST) == 0) {
		memcpy(ss, pick->ai_addr, pick->ai_addrlen);
		*sslen = pick->ai_addrlen;
		out[0] = host;
		out[1] = port;
		out[2] = key[2];
		out[3] = addr;
		record_line("h", out, 4);
		rc = 0;
	}
	freeaddrinfo(res);
	return rc;
}
