/*
 * metrics.c -- every instance's figures in the Prometheus text exposition
 * format (version 0.0.4), for `pmc metrics` and, with `pmcd --metrics
 * ADDRESS`, over HTTP for a Prometheus server to scrape.
 *
 * The HTTP side is the least a scraper needs: one request per
 * connection, GET or HEAD of /metrics, answered and closed.  A request
 * is bounded in size, a connection in time, and the connections in
 * number; nothing blocks.  A client has HTTP_HEAD_MS to send its request
 * head, then HTTP_WRITE_MS to take the answer; when all HTTP_CLIENTS_MAX
 * places are taken, a new client takes the place of the oldest one that
 * has not sent its whole request, so that clients which connect and say
 * nothing (or little) cannot lock a scraper out.  After the answer, the
 * rest of what the client sends is read and thrown away until it closes
 * (HTTP_LINGER_MS, HTTP_LINGER_MAX): closing with unread input would
 * reset the connection, and a reset can destroy an answer on its way.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "drain.h"
#include "pmcd.h"
#include "state.h"

#define HTTP_CLIENTS_MAX	16
#define HTTP_REQUEST_MAX	4096
#define HTTP_HEAD_MS		1000	/* to send the request head */
#define HTTP_WRITE_MS		5000	/* to take the answer */
#define HTTP_LINGER_MS		1000	/* to close after the answer */
#define HTTP_LINGER_MAX		(1024 * 1024)	/* bytes read then */
#define HTTP_LINGER_CHUNK	16384

/* --- the text format --------------------------------------------------- */

struct metric {
	const char	*name;
	const char	*type;
	const char	*help;
	int		 running_only;	/* no sample for an instance that
					   has no process */
	void		(*value)(const struct instance *, struct pbuf *);
};

static void
value_up(const struct instance *in, struct pbuf *out)
{
	pbuf_printf(out, "%d", in->state == IS_ONLINE);
}

static void
value_restarts(const struct instance *in, struct pbuf *out)
{
	pbuf_printf(out, "%u", in->restarts);
}

static void
value_cpu(const struct instance *in, struct pbuf *out)
{
	pbuf_printf(out, "%.2f", (double)in->cpu_total_us / 1e6);
}

static void
value_rss(const struct instance *in, struct pbuf *out)
{
	pbuf_printf(out, "%llu", (unsigned long long)in->rss);
}

static void
value_start(const struct instance *in, struct pbuf *out)
{
	pbuf_printf(out, "%lld.%03lld",
	    (long long)(in->started_wall_ms / 1000),
	    (long long)(in->started_wall_ms % 1000));
}

static const struct metric metrics[] = {
	{ "pmc_instance_up", "gauge",
	  "Whether the instance is online (1) or not (0).", 0, value_up },
	{ "pmc_instance_restarts_total", "counter",
	  "Restarts of the instance's slot, crashes and max_memory "
	  "replacements included.", 0, value_restarts },
	{ "pmc_instance_cpu_seconds_total", "counter",
	  "CPU time, user and system, of the instance's process group, "
	  "over every run of its slot.", 0, value_cpu },
	{ "pmc_instance_resident_memory_bytes", "gauge",
	  "Resident memory of the instance's process group, summed over its "
	  "processes.", 1, value_rss },
	{ "pmc_instance_start_time_seconds", "gauge",
	  "When the instance's current process started, in seconds since the "
	  "Unix epoch.", 1, value_start },
};

/* A label value: backslash, double quote and newline escaped. */
static void
label_value(struct pbuf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			pbuf_printf(out, "\\%c", *s);
		else if (*s == '\n')
			pbuf_printf(out, "\\n");
		else
			pbuf_add(out, s, 1);
	}
}

/*
 * Each metric's HELP and TYPE, then one sample per instance slot.  A
 * reload's new instance is left out until it takes its slot: two samples
 * with the same labels would make the whole scrape invalid.
 */
void
metrics_text(struct pbuf *out)
{
	const struct metric	*m;
	const struct instance	*in;
	struct app		*app;
	size_t			 k, i;

	for (k = 0; k < sizeof(metrics) / sizeof(metrics[0]); k++) {
		m = &metrics[k];
		pbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name,
		    m->help, m->name, m->type);
		TAILQ_FOREACH(app, &sv->apps, entry)
			for (i = 0; i < app->ninst; i++) {
				in = app->inst[i];
				if (m->running_only && in->pid == 0)
					continue;
				pbuf_printf(out, "%s{app=\"", m->name);
				label_value(out, app->spec->name);
				pbuf_printf(out, "\",instance=\"%d\"} ",
				    in->slot);
				m->value(in, out);
				pbuf_printf(out, "\n");
			}
	}
}

/* --- over HTTP ----------------------------------------------------------- */

enum hstate {
	H_HEAD,		/* reading the request head */
	H_WRITE,	/* writing the answer */
	H_LINGER	/* answered: reading what is left until the close */
};

struct hclient {
	struct conn	*conn;
	enum hstate	 state;
	int		 metrics;	/* answered with the figures */
	size_t		 drained;	/* bytes read in H_LINGER */
};

static void	*hclient_open(struct conn *);
static void	 hclient_input(struct conn *, int);
static void	 hclient_sent(struct conn *);

static const struct conn_ops	 hops = {
	"metrics", HTTP_CLIENTS_MAX, 0, 0,
	hclient_open, hclient_input, hclient_sent, free
};
static struct conn_listener	 hlistener = { .w = { .fd = -1 } };

static void *
hclient_open(struct conn *c)
{
	struct hclient	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		fatal("calloc");
	h->conn = c;
	h->state = H_HEAD;
	c->want = HTTP_REQUEST_MAX;
	conn_deadline(c, HTTP_HEAD_MS);
	return (h);
}

/* Queue the answer: code, and body (NULL: one line saying the code). */
static void
respond(struct hclient *h, int code, const char *reason, int head,
    const struct pbuf *body)
{
	struct conn	*c = h->conn;
	struct pbuf	 line = { 0 };

	if (body == NULL) {
		pbuf_printf(&line, "%d %s\n", code, reason);
		body = &line;
	}
	pbuf_printf(&c->out, "HTTP/1.0 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n", code, reason, code == 200 &&
	    body != &line && h->metrics ?
	    "text/plain; version=0.0.4; charset=utf-8" :
	    "text/plain; charset=utf-8", body->len);
	if (!head)
		pbuf_add(&c->out, body->data, body->len);
	pbuf_free(&line);
	h->state = H_WRITE;
	c->want = 0;
	conn_deadline(c, HTTP_WRITE_MS);
	conn_interest(c);
}

/* A whole request head, or all the client sent: answer its first line. */
static void
answer(struct hclient *h)
{
	char		*req = h->conn->in, *method, *target, *version, *save;
	struct pbuf	 body = { 0 };
	int		 head, code;

	req[strcspn(req, "\r\n")] = '\0';
	method = strtok_r(req, " ", &save);
	target = strtok_r(NULL, " ", &save);
	version = strtok_r(NULL, " ", &save);
	if (method == NULL || target == NULL || version == NULL ||
	    strncmp(version, "HTTP/1.", 7) != 0 ||
	    strtok_r(NULL, " ", &save) != NULL) {
		respond(h, 400, "Bad Request", 0, NULL);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	target[strcspn(target, "?")] = '\0';
	if (!head && strcmp(method, "GET") != 0)
		respond(h, 405, "Method Not Allowed", 0, NULL);
	else if (strcmp(target, "/metrics") == 0) {
		sample_fresh();
		metrics_text(&body);
		h->metrics = 1;
		respond(h, 200, "OK", head, &body);
	} else if (strcmp(target, "/health") == 0 ||
	    strncmp(target, "/health/", 8) == 0) {
		code = health_text(target[7] == '/' ? target + 8 : NULL,
		    &body);
		respond(h, code, code == 200 ? "OK" : code == 404 ?
		    "Not Found" : "Service Unavailable", head, &body);
	} else
		respond(h, 404, "Not Found", head, NULL);
	pbuf_free(&body);
}

/*
 * The client closed its side before the blank line: answer a request
 * line that is whole, 400 a cut one, and say nothing to nothing.
 */
static void
hclient_eof(struct hclient *h)
{
	struct conn	*c = h->conn;

	if (c->inlen == 0)
		conn_drop(c);
	else if (memchr(c->in, '\n', c->inlen) == NULL)
		respond(h, 400, "Bad Request", 0, NULL);
	else
		answer(h);
}

/* Answered: throw away what comes until the client closes. */
static void
hclient_drain(struct hclient *h, int eof)
{
	struct conn	*c = h->conn;

	h->drained += c->inlen;
	c->inlen = 0;
	c->want = HTTP_LINGER_CHUNK;
	if (eof || h->drained > HTTP_LINGER_MAX)
		conn_drop(c);
}

static void
hclient_input(struct conn *c, int eof)
{
	struct hclient	*h = c->arg;

	if (h->state == H_LINGER)
		hclient_drain(h, eof);
	else if (eof)
		hclient_eof(h);
	else if (strstr(c->in, "\r\n\r\n") != NULL ||
	    strstr(c->in, "\n\n") != NULL)
		answer(h);
	/* A NUL in the head hides its end: no need to wait. */
	else if (memchr(c->in, '\0', c->inlen) != NULL)
		respond(h, 400, "Bad Request", 0, NULL);
	else if (c->want == 0)
		respond(h, 431, "Request Header Fields Too Large", 0, NULL);
}

/* The answer is out: say so, and linger. */
static void
hclient_sent(struct conn *c)
{
	struct hclient	*h = c->arg;

	if (shutdown(c->w.fd, SHUT_WR) == -1) {
		conn_drop(c);
		return;
	}
	h->state = H_LINGER;
	c->inlen = 0;
	c->want = HTTP_LINGER_CHUNK;
	conn_deadline(c, HTTP_LINGER_MS);
}

/* Serve /metrics on addr (host:port or [v6]:port); 0, or -1 and why. */
int
metrics_listen(const char *text, char *why, size_t len)
{
	struct listen_addr	 a;
	const char		*what;
	int			 fd, on = 1;

	if (parse_listen(text, &a, &what) == -1) {
		snprintf(why, len, "expected %s, got \"%s\"", what, text);
		return (-1);
	}
	if (a.family == AF_UNIX) {
		snprintf(why, len, "expected host:port or [v6]:port, got "
		    "\"%s\"", text);
		return (-1);
	}
	fd = socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)) == -1 || bind(fd, (struct sockaddr *)&a.ss,
	    a.sslen) == -1 || listen(fd, 64) == -1) {
		snprintf(why, len, "%s: %s", a.text, strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	conn_listen(&hlistener, fd, &hops);
	return (0);
}

void
metrics_close(void)
{
	conn_close(&hlistener, 0);
}

/* pmc update: the listener goes on; its connections are closed. */
void
metrics_save(struct state_out *o)
{
	if (hlistener.w.fd == -1)
		return;
	state_begin(o, "metrics");
	state_fd(o, "fd", hlistener.w.fd);
	state_end(o);
}

void
metrics_load(const struct state_rec *r)
{
	int	 fd = rec_fd(r, "fd");

	if (fd != -1)
		conn_listen(&hlistener, fd, &hops);
}
