/*
 * cluster.c -- the primary's side of Node's cluster protocol, for an app
 * with node_cluster: true.  Its instances run with NODE_UNIQUE_ID set,
 * so node makes each one a cluster worker (cluster.isWorker, worker.id
 * = slot + 1) that speaks to us on its channel (channel.h) in messages
 * {"cmd":"NODE_CLUSTER","act":...,"seq":N}:
 *
 *   online		the worker runs.
 *   queryServer	server.listen() was called: address, port,
 *			addressType (4, 6; -1 a pipe path).  We answer
 *			{"ack":seq,"key":...,"errno":0,"data":null} with the
 *			listen socket as a handle ("net.Native"): the
 *			slot's socket of a listen: address of the spec
 *			when one matches, else one bound now for the app,
 *			shared by its instances and kept for its life, as
 *			Node's primary binds on demand.  Refused (errno
 *			set, which node raises as the server's error, and
 *			said in the log): a privileged port for an app
 *			that runs as another user than pmcd, UDP, a pipe
 *			path the spec does not list, more than
 *			CLUSTER_SOCKS_MAX such sockets.
 *   listening		that server listens: ready, for ready: auto
 *			(cluster_message says so; message.c acts).
 *   close, exitedAfterDisconnect	nothing to do.
 *
 * To stop a worker we send {"act":"disconnect"}: node closes its
 * servers, lets the requests in flight end, closes the channel and
 * exits once idle (instance.c falls back to stop_signal).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "channel.h"
#include "json.h"
#include "listen.h"
#include "log.h"
#include "pmcd.h"

#define CLUSTER_SOCKS_MAX	16	/* bound on demand, an app */

/* The member key of s as a word, or "" when absent or not a word. */
static void
word_of(const char *s, size_t len, const char *key, char *out, size_t olen)
{
	const char	*v;
	size_t		 vlen;

	out[0] = '\0';
	if (json_member(s, len, key, &v, &vlen) == 0)
		json_word(v, vlen, out, olen);
}

static long long
num_of(const char *s, size_t len, const char *key, long long def)
{
	const char		*v;
	size_t			 vlen;
	unsigned long long	 n;

	if (json_member(s, len, key, &v, &vlen) == -1)
		return (def);
	if (vlen == 2 && memcmp(v, "-1", 2) == 0)
		return (-1);
	if (json_uint(v, vlen, &n) == -1)
		return (def);
	return ((long long)n);
}

static int
is_wildcard(const char *host)
{
	return (*host == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "::") == 0);
}

/* The host and port of a TCP listen address, as text. */
static int
addr_parts(const struct listen_addr *la, char *host, size_t hlen, int *port)
{
	const struct sockaddr_in	*sin = (const void *)&la->ss;
	const struct sockaddr_in6	*sin6 = (const void *)&la->ss;

	if (la->family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, host, (socklen_t)hlen);
		*port = ntohs(sin->sin_port);
	} else if (la->family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, (socklen_t)hlen);
		*port = ntohs(sin6->sin6_port);
	} else
		return (-1);
	return (0);
}

/*
 * The socket of in's slot for the spec's listen address that the query
 * names: the same port (or unix path); the same host unless either is
 * a wildcard.  -1 when none.
 */
static int
spec_socket(const struct instance *in, const char *addr, long long port,
    long long type)
{
	const struct app_spec	*s = in->app->spec;
	const struct sockaddr_un *sun;
	int			*fds, p, best = -1;
	char			 host[INET6_ADDRSTRLEN];
	size_t			 j;

	if (s->nlisten == 0)
		return (-1);
	if ((fds = calloc(s->nlisten, sizeof(*fds))) == NULL)
		fatal("calloc");
	if (layout_slot_fds(s, in->app->fds, in->app->nfds, in->slot,
	    fds) == -1) {
		free(fds);
		return (-1);
	}
	for (j = 0; j < s->nlisten; j++) {
		if (type == -1) {
			sun = (const void *)&s->listen[j].ss;
			if (s->listen[j].family == AF_UNIX &&
			    strcmp(sun->sun_path, addr) == 0) {
				best = fds[j];
				break;
			}
			continue;
		}
		if (addr_parts(&s->listen[j], host, sizeof(host), &p) == -1 ||
		    p != port)
			continue;
		if (strcmp(host, addr) == 0) {
			best = fds[j];
			break;
		}
		if (best == -1 && (is_wildcard(addr) || is_wildcard(host)))
			best = fds[j];
	}
	free(fds);
	return (best);
}

/* The lowest port anyone may bind (net.ipv4.ip_unprivileged_port_start). */
static long long
unprivileged_start(void)
{
	FILE		*f;
	long long	 n = 1024;

	if ((f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start",
	    "re")) != NULL) {
		if (fscanf(f, "%lld", &n) != 1)
			n = 1024;
		fclose(f);
	}
	return (n);
}

/*
 * A socket bound on demand for the app, found or made: 0 with *fd, or a
 * negative errno for node and why for the log.
 */
static int
demand_socket(struct app *app, const char *addr, long long port,
    long long type, int *fd, char *why, size_t len)
{
	const struct app_spec	*s = app->spec;
	struct cluster_sock	*cs;
	struct listen_addr	 la;
	char			 text[SPEC_ADDR_MAX], lwhy[256];
	const char		*host = addr, *pwhy;
	size_t			 i;

	if (type != 4 && type != 6) {
		snprintf(why, len, "%s: only TCP is served; list the address "
		    "under listen:", type == -1 ? addr : "UDP");
		return (-EAFNOSUPPORT);
	}
	if (is_wildcard(host))
		host = type == 6 ? "::" : "0.0.0.0";
	snprintf(text, sizeof(text), type == 6 ? "[%s]:%lld" : "%s:%lld",
	    host, port);
	for (i = 0; i < app->ncluster; i++) {
		cs = &app->cluster[i];
		if (strcmp(cs->key, text) == 0) {
			*fd = cs->fd;
			return (0);
		}
	}
	if (port > 0 && port < unprivileged_start() && s->ids.set &&
	    s->ids.uid != geteuid()) {
		snprintf(why, len, "%s: a privileged port, and the app does "
		    "not run as pmcd's user: list it under listen:", text);
		return (-EACCES);
	}
	if (app->ncluster >= CLUSTER_SOCKS_MAX) {
		snprintf(why, len, "%s: the app has %d addresses bound on "
		    "demand already, the most", text, CLUSTER_SOCKS_MAX);
		return (-EMFILE);
	}
	if (parse_listen(text, &la, &pwhy) == -1) {
		snprintf(why, len, "%s: expected %s", text, pwhy);
		return (-EINVAL);
	}
	if ((*fd = listen_open(s, &la, 0, lwhy, sizeof(lwhy))) == -1) {
		snprintf(why, len, "%s", lwhy);
		return (-EADDRINUSE);
	}
	app->cluster = reallocarray(app->cluster, app->ncluster + 1,
	    sizeof(*app->cluster));
	if (app->cluster == NULL)
		fatal("reallocarray");
	cs = &app->cluster[app->ncluster++];
	strlcpy(cs->key, text, sizeof(cs->key));
	cs->fd = *fd;
	log_info("%s: bound %s for Node's cluster (server.listen), shared by "
	    "its instances while the app lives", s->name, text);
	return (0);
}

static void
query_server(struct instance *in, const char *s, size_t len, long long seq)
{
	struct pbuf	 out = { 0 };
	char		 addr[SPEC_ADDR_MAX], why[512] = "", key[SPEC_ADDR_MAX + 32];
	long long	 port, type;
	int		 fd, err = 0;

	word_of(s, len, "address", addr, sizeof(addr));
	port = num_of(s, len, "port", 0);
	type = num_of(s, len, "addressType", 4);
	if ((fd = spec_socket(in, addr, port, type)) == -1)
		err = demand_socket(in->app, addr, port, type, &fd, why,
		    sizeof(why));
	snprintf(key, sizeof(key), "%s:%lld:%lld", addr, port, type);
	pbuf_printf(&out, "{\"cmd\":\"NODE_CLUSTER\",\"ack\":%lld,\"key\":",
	    seq);
	json_quote(&out, key, strlen(key));
	pbuf_printf(&out, ",\"errno\":%d,\"data\":null}", err);
	if (err != 0) {
		in_warnx(in, "server.listen through Node's cluster refused: "
		    "%s", why);
		channel_send(in, out.data, out.len, -1, why, sizeof(why));
	} else {
		struct pbuf	 h = { 0 };

		pbuf_printf(&h, "{\"cmd\":\"NODE_HANDLE\",\"type\":"
		    "\"net.Native\",\"msg\":");
		pbuf_add(&h, out.data, out.len);
		pbuf_add(&h, "}", 1);
		if (channel_send(in, h.data, h.len, fd, why,
		    sizeof(why)) == -1)
			in_warnx(in, "cluster: cannot answer queryServer: %s",
			    why);
		pbuf_free(&h);
	}
	pbuf_free(&out);
}

int
cluster_message(struct instance *in, const char *s, size_t len)
{
	char		 act[32];
	long long	 seq = num_of(s, len, "seq", -1);

	word_of(s, len, "act", act, sizeof(act));
	if (strcmp(act, "online") == 0) {
		in->cluster_online = 1;
		in_debug(in, "cluster worker online");
	} else if (strcmp(act, "queryServer") == 0 && seq >= 0)
		query_server(in, s, len, seq);
	else if (strcmp(act, "listening") == 0)
		return (1);
	return (0);
}

int
cluster_disconnect(struct instance *in)
{
	static const char	 msg[] =
	    "{\"cmd\":\"NODE_CLUSTER\",\"act\":\"disconnect\",\"seq\":0}";
	char			 why[128];

	if (!in->app->spec->node_cluster || !in->cluster_online)
		return (-1);
	return (channel_send(in, msg, sizeof(msg) - 1, -1, why, sizeof(why)));
}

void
cluster_free(struct app *app)
{
	size_t	 i;

	for (i = 0; i < app->ncluster; i++)
		close(app->cluster[i].fd);
	free(app->cluster);
	app->cluster = NULL;
	app->ncluster = 0;
}
