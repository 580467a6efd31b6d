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

#include "log.h"
#include "pmcd.h"

#define HTTP_CLIENTS_MAX	16
#define HTTP_REQUEST_MAX	4096
#define HTTP_HEAD_MS		1000	/* to send the request head */
#define HTTP_WRITE_MS		5000	/* to take the answer */
#define HTTP_LINGER_MS		1000	/* to close after the answer */
#define HTTP_LINGER_MAX		(1024 * 1024)	/* bytes read then */

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
	long	 tck = sysconf(_SC_CLK_TCK);

	pbuf_printf(out, "%.2f", tck > 0 ?
	    (double)in->cpu_total_ticks / (double)tck : 0.0);
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
	TAILQ_ENTRY(hclient)	 entry;
	struct watch		 w;
	struct timer		 timer;	/* the end of the current state */
	enum hstate		 state;
	char			 req[HTTP_REQUEST_MAX + 1];
	size_t			 got;
	struct pbuf		 out;
	size_t			 off;
	size_t			 drained;	/* bytes read in H_LINGER */
};

/* Oldest first. */
static TAILQ_HEAD(, hclient)	 hclients = TAILQ_HEAD_INITIALIZER(hclients);
static int			 nhclients;
static struct watch		 hlistener = { .fd = -1 };
static struct timer		 haccept_pause;

static void
hclient_free(void *arg)
{
	struct hclient	*h = arg;

	pbuf_free(&h->out);
	free(h);
}

static void
hclient_drop(struct hclient *h)
{
	timer_stop(&h->timer);
	watch_close(&h->w);
	TAILQ_REMOVE(&hclients, h, entry);
	nhclients--;
	loop_defer(hclient_free, h);
}

static void
hclient_expire(void *arg)
{
	hclient_drop(arg);
}

static void
respond(struct hclient *h, int code, const char *reason, int head)
{
	struct pbuf	 body = { 0 };

	if (code == 200)
		metrics_text(&body);
	else
		pbuf_printf(&body, "%d %s\n", code, reason);
	pbuf_printf(&h->out, "HTTP/1.0 %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", code, reason, code == 200 ?
	    "text/plain; version=0.0.4; charset=utf-8" :
	    "text/plain; charset=utf-8", body.len);
	if (!head)
		pbuf_add(&h->out, body.data, body.len);
	pbuf_free(&body);
	h->state = H_WRITE;
	timer_start(&h->timer, HTTP_WRITE_MS);
	watch_mod(&h->w, EPOLLOUT);
}

/* A whole request head, or all the client sent: answer its first line. */
static void
answer(struct hclient *h)
{
	char	*method, *target, *version, *save;
	int	 head;

	h->req[h->got] = '\0';
	h->req[strcspn(h->req, "\r\n")] = '\0';
	method = strtok_r(h->req, " ", &save);
	target = strtok_r(NULL, " ", &save);
	version = strtok_r(NULL, " ", &save);
	if (method == NULL || target == NULL || version == NULL ||
	    strncmp(version, "HTTP/1.", 7) != 0 ||
	    strtok_r(NULL, " ", &save) != NULL) {
		respond(h, 400, "Bad Request", 0);
		return;
	}
	head = strcmp(method, "HEAD") == 0;
	if (!head && strcmp(method, "GET") != 0)
		respond(h, 405, "Method Not Allowed", 0);
	else if (strcmp(target, "/metrics") != 0 &&
	    strncmp(target, "/metrics?", 9) != 0)
		respond(h, 404, "Not Found", head);
	else {
		sample_fresh();
		respond(h, 200, "OK", head);
	}
}

/*
 * The client closed its side before the blank line: answer a request
 * line that is whole, 400 a cut one, and say nothing to nothing.
 */
static void
hclient_eof(struct hclient *h)
{
	if (h->got == 0)
		hclient_drop(h);
	else if (memchr(h->req, '\n', h->got) == NULL)
		respond(h, 400, "Bad Request", 0);
	else
		answer(h);
}

static void
hclient_read(struct hclient *h)
{
	ssize_t	 n;

	for (;;) {
		n = recv(h->w.fd, h->req + h->got, HTTP_REQUEST_MAX - h->got,
		    0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == 0) {
			hclient_eof(h);
			return;
		}
		if (n == -1) {
			hclient_drop(h);
			return;
		}
		h->got += (size_t)n;
		h->req[h->got] = '\0';
		if (strstr(h->req, "\r\n\r\n") != NULL ||
		    strstr(h->req, "\n\n") != NULL) {
			answer(h);
			return;
		}
		/* A NUL in the head hides its end: no need to wait. */
		if (memchr(h->req + h->got - (size_t)n, '\0', (size_t)n) != NULL) {
			respond(h, 400, "Bad Request", 0);
			return;
		}
		if (h->got == HTTP_REQUEST_MAX) {
			respond(h, 431, "Request Header Fields Too Large", 0);
			return;
		}
	}
}

/* Answered: throw away what comes until the client closes. */
static void
hclient_drain(struct hclient *h)
{
	char	 buf[16384];
	ssize_t	 n;

	for (;;) {
		n = recv(h->w.fd, buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		h->drained += (size_t)n;
		if (h->drained > HTTP_LINGER_MAX)
			break;
	}
	hclient_drop(h);
}

static void
hclient_write(struct hclient *h)
{
	ssize_t	 n;

	while (h->off < h->out.len) {
		n = send(h->w.fd, h->out.data + h->off, h->out.len - h->off,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			hclient_drop(h);
			return;
		}
		h->off += (size_t)n;
	}
	if (shutdown(h->w.fd, SHUT_WR) == -1) {
		hclient_drop(h);
		return;
	}
	h->state = H_LINGER;
	timer_start(&h->timer, HTTP_LINGER_MS);
	watch_mod(&h->w, EPOLLIN);
	hclient_drain(h);
}

static void
hclient_io(struct watch *w, uint32_t events)
{
	struct hclient	*h = w->arg;

	switch (h->state) {
	case H_HEAD:
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			hclient_read(h);
		break;
	case H_WRITE:
		if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			hclient_write(h);
		break;
	case H_LINGER:
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			hclient_drain(h);
		break;
	}
}

/*
 * All places taken: free the oldest that is not writing an answer, one
 * that has not sent its request or that is done; 0, or -1 when every
 * client is being answered.
 */
static int
hclient_evict(void)
{
	struct hclient	*h;

	TAILQ_FOREACH(h, &hclients, entry) {
		if (h->state != H_WRITE) {
			hclient_drop(h);
			return (0);
		}
	}
	return (-1);
}

static void
hlistener_accept(struct watch *w, uint32_t events)
{
	struct hclient	*h;
	int		 fd;

	(void)events;
	while ((fd = accept4(w->fd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
		if (nhclients >= HTTP_CLIENTS_MAX && hclient_evict() == -1) {
			close(fd);	/* a scraper retries */
			continue;
		}
		if ((h = calloc(1, sizeof(*h))) == NULL)
			fatal("calloc");
		h->w.fd = fd;
		h->w.fn = hclient_io;
		h->w.arg = h;
		h->state = H_HEAD;
		timer_set(&h->timer, hclient_expire, h);
		timer_start(&h->timer, HTTP_HEAD_MS);
		if (watch_add(&h->w, EPOLLIN) == -1)
			fatal("epoll_ctl");
		TAILQ_INSERT_TAIL(&hclients, h, entry);
		nhclients++;
		/* A request already there is answered before a later
		   client can take this one's place. */
		hclient_read(h);
	}
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		log_warn("metrics: accept, pausing 100ms");
		watch_mod(&hlistener, 0);
		timer_start(&haccept_pause, 100);
	} else if (errno != EAGAIN && errno != EINTR &&
	    errno != ECONNABORTED)
		log_warn("metrics: accept");
}

static void
haccept_resume(void *arg)
{
	(void)arg;
	if (hlistener.fd != -1)
		watch_mod(&hlistener, EPOLLIN);
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
	hlistener.fd = fd;
	hlistener.fn = hlistener_accept;
	timer_set(&haccept_pause, haccept_resume, NULL);
	if (watch_add(&hlistener, EPOLLIN) == -1)
		fatal("epoll_ctl");
	return (0);
}

void
metrics_close(void)
{
	struct hclient	*h;

	timer_stop(&haccept_pause);
	if (hlistener.fd != -1)
		watch_close(&hlistener);
	while ((h = TAILQ_FIRST(&hclients)) != NULL)
		hclient_drop(h);
}
