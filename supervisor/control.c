/*
 * control.c -- the control socket: clients, framing, and the dispatch
 * of each request to its handler in request.c (replies: reply.c).
 *
 * A client sends one request; the reply may wait for instances to come
 * online or stop (the client is then "waiting" and re-checked after
 * every round of the loop).  conn.c does the socket work.  Nothing here
 * blocks: a client that says nothing is dropped after CLIENT_IDLE_MS,
 * and so is one that reads nothing of its queued replies for as long.
 * With CLIENTS_MAX of them, a new one takes the place of the oldest that
 * has not sent a whole request yet, so stalled connections cannot lock
 * the CLI out.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "control.h"
#include "events.h"
#include "log.h"
#include "pmcd.h"
#include "state.h"

#define CLIENTS_MAX	64
#define CLIENT_IDLE_MS	10000

static void	*client_open(struct conn *);
static void	 client_input(struct conn *, int);
static void	 client_sent(struct conn *);
static void	 client_free(void *);

static const struct conn_ops	 control_ops = {
	"control", CLIENTS_MAX, 1, CLIENT_IDLE_MS,
	client_open, client_input, client_sent, client_free
};
static struct conn_listener	 listener = { .w = { .fd = -1 } };
static char			 sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

/* --- client life ---------------------------------------------------------- */

static void	dispatch(struct client *);

/* Only our own user and root may talk to pmcd. */
static void *
client_open(struct conn *cn)
{
	struct client	*c;
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	if (getsockopt(cn->w.fd, SOL_SOCKET, SO_PEERCRED, &cred,
	    &len) == -1) {
		log_warn("control: SO_PEERCRED");
		return (NULL);
	}
	if (cred.uid != geteuid() && cred.uid != 0) {
		log_warnx("control: refused a client of uid %u",
		    (unsigned)cred.uid);
		return (NULL);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("calloc");
	c->conn = cn;
	cn->want = sizeof(c->hdr);
	conn_deadline(cn, CLIENT_IDLE_MS);
	return (c);
}

/* Read the header, then the payload; dispatch when complete. */
static void
client_input(struct conn *cn, int eof)
{
	struct client	*c = cn->arg;
	const char	*why;

	if (eof) {
		conn_drop(cn);
		return;
	}
	if (cn->want > 0)
		return;
	if (cn->inlen == sizeof(c->hdr)) {
		memcpy(&c->hdr, cn->in, sizeof(c->hdr));
		if ((why = proto_check(&c->hdr)) != NULL) {
			reply_text(c, MSG_ERR, why);
			reply_exit(c, 2);
			return;
		}
		if ((cn->want = c->hdr.len) > 0)
			return;
	}
	c->have_request = 1;
	conn_deadline(cn, 0);
	dispatch(c);
}

/* All replies sent: no deadline while the request waits; maybe the end. */
static void
client_sent(struct conn *cn)
{
	struct client	*c = cn->arg;

	if (c->have_request)
		conn_deadline(cn, 0);
	if (c->closing)
		conn_drop(cn);
	else		/* a subscriber that fell behind: its last words */
		events_sent(c);
}

static void
client_free(void *arg)
{
	struct client	*c = arg;

	client_wait_free(c);
	events_unsubscribe(c);
	free(c);
}

void
control_init(const char *path)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	mode_t			 old;
	int			 fd;

	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("%s: path too long for a socket", path);
	strlcpy(sock_path, path, sizeof(sock_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatal("socket");
	unlink(path);	/* stale: we hold the lock, no other pmcd has it */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", path);
	umask(old);
	if (listen(fd, SOMAXCONN) == -1)
		fatal("listen %s", path);
	conn_listen(&listener, fd, &control_ops);
}

/* Last words: a short blocking send of what each client has queued. */
void
control_close(void)
{
	if (listener.w.fd != -1)
		unlink(sock_path);
	events_end();
	conn_close(&listener, 1);
}

void
control_changed(void)
{
	struct conn	*cn, *next;
	struct client	*c;

	TAILQ_FOREACH_SAFE(cn, &listener.conns, entry, next) {
		c = cn->arg;
		if (c->wait != WAIT_NONE && client_settled(c))
			client_finish(c);
	}
}

static void
dispatch(struct client *c)
{
	const struct handler	 *h;
	const char		**f;
	int			  n;

	if ((f = calloc(PMC_FIELDS_MAX, sizeof(*f))) == NULL)
		fatal("calloc");
	n = proto_fields(c->conn->in + sizeof(c->hdr), c->hdr.len, f,
	    PMC_FIELDS_MAX);
	if (n == -1) {
		reply_text(c, MSG_ERR, "malformed request: fields not "
		    "NUL-terminated or too many");
		reply_exit(c, 2);
	} else if ((h = handler_find(c->hdr.type)) == NULL) {
		reply_errf(c, "unknown request type %u (a newer pmc?)",
		    c->hdr.type);
		reply_exit(c, 2);
	} else if (sv->stopping && c->hdr.type != MSG_PING &&
	    c->hdr.type != MSG_LIST && c->hdr.type != MSG_METRICS &&
	    c->hdr.type != MSG_EVENTS) {
		reply_text(c, MSG_ERR, "pmcd is shutting down");
		reply_exit(c, 1);
	} else
		h->fn(c, f, n);
	free(f);
}

/* --- across pmc update (state.h) ------------------------------------------ */

/* Does a client other than except wait for an outcome? */
int
control_waiting(struct client *except)
{
	struct conn	*cn;
	struct client	*c;

	TAILQ_FOREACH(cn, &listener.conns, entry) {
		c = cn->arg;
		if (c != except && c->wait != WAIT_NONE)
			return (1);
	}
	return (0);
}

/*
 * Before the exec: what each client was sent goes out first.  The
 * updating client and the subscribers of pmc events go on with the new
 * pmcd; a client half-way through its request is told to try again.
 */
void
control_update_drop(struct client *updating)
{
	struct conn	*cn, *next;
	struct client	*c;

	TAILQ_FOREACH_SAFE(cn, &listener.conns, entry, next) {
		c = cn->arg;
		if (c == updating)
			continue;
		if (c->events != NULL && !events_behind(c) &&
		    conn_last_words(cn) == 0)
			continue;
		if (!c->have_request && c->events == NULL) {
			reply_text(c, MSG_ERR, "pmcd is updating itself; "
			    "try again");
			reply_exit(c, 1);
		}
		conn_last_words(cn);
		conn_drop(cn);
	}
	if (updating != NULL)
		conn_last_words(updating->conn);
}

void
control_save(struct state_out *o, struct client *updating)
{
	state_begin(o, "control");
	state_fd(o, "fd", listener.w.fd);
	state_str(o, "path", sock_path);
	state_end(o);
	events_save(o);
	if (updating == NULL)
		return;
	state_begin(o, "client");
	state_fd(o, "fd", updating->conn->w.fd);
	state_end(o);
}

/*
 * "control", "sub" or "client": the socket and who was talking; the
 * client that asked for the update to *asker, to be answered.
 */
int
control_load(const struct state_rec *r, struct client **asker)
{
	struct conn	*cn;
	struct client	*c;
	char		 why[128], *names, *p;
	const char	**v;
	int		 fd = rec_fd(r, "fd"), n = 0;

	if (fd < 0)
		return (-1);
	if (strcmp(r->kind, "control") == 0) {
		strlcpy(sock_path, rec_str(r, "path"), sizeof(sock_path));
		conn_listen(&listener, fd, &control_ops);
		return (0);
	}
	if (listener.ops == NULL || (cn = conn_adopt(&listener, fd)) == NULL)
		return (-1);
	c = cn->arg;
	c->have_request = 1;
	cn->want = 0;
	conn_deadline(cn, 0);
	conn_interest(cn);
	if (strcmp(r->kind, "client") == 0) {
		*asker = c;
		return (0);
	}
	/* Names a comma apart: at most one more than its commas. */
	if ((names = strdup(rec_str(r, "names"))) == NULL ||
	    (v = calloc(strlen(names) + 1, sizeof(*v))) == NULL)
		fatal("strdup");
	for (p = names; p != NULL && *p != '\0'; )
		v[n++] = strsep(&p, ",");
	if (events_subscribe(c, rec_num(r, "json") != 0, v, n, why,
	    sizeof(why)) == -1)
		conn_drop(cn);
	free(v);
	free(names);
	return (0);
}
