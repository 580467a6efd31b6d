/*
 * events.c -- the subscribers of `pmc events` and what they are sent
 * (see events.h).  Each event is formatted at most twice, text and
 * JSON, whatever the number of subscribers.
 */
#include <sys/queue.h>
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "control.h"
#include "events.h"
#include "json.h"
#include "log.h"
#include "pmcd.h"
#include "state.h"

struct subscriber {
	LIST_ENTRY(subscriber)	 entry;
	struct client		*c;
	int			 json;
	char			**names;	/* none: every app */
	int			 nnames;
	unsigned long long	 missed;	/* since it fell behind */
};

static LIST_HEAD(, subscriber)	 subs = LIST_HEAD_INITIALIZER(subs);
static int			 nsubs;

int
events_wanted(void)
{
	return (nsubs > 0);
}

static int
wants(const struct subscriber *s, const char *app)
{
	int	 i;

	if (s->nnames == 0 || app == NULL)
		return (1);
	for (i = 0; i < s->nnames; i++)
		if (strcmp(s->names[i], app) == 0)
			return (1);
	return (0);
}

static void
stamp(char *buf, size_t len)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 secs[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", secs, (int)(tv.tv_usec / 1000) % 1000);
}

/* A text value: as it is when it is one plain word, else quoted. */
static void
text_value(struct pbuf *pb, const char *s)
{
	if (*s != '\0' && strpbrk(s, " \t\n\"=\\") == NULL)
		pbuf_add(pb, s, strlen(s));
	else
		json_quote(pb, s, strlen(s));
}

static void
format(struct pbuf *pb, int json, const char *when, const char *kind,
    const char *app, int slot, const struct ev_field *f, size_t n)
{
	size_t	 i;

	if (json) {
		pbuf_printf(pb, "{\"time\":\"%s\",\"event\":\"%s\"", when, kind);
		if (app != NULL) {
			pbuf_add(pb, ",\"app\":", 7);
			json_quote(pb, app, strlen(app));
		}
		if (slot >= 0)
			pbuf_printf(pb, ",\"instance\":%d", slot);
	} else {
		pbuf_printf(pb, "%s ", when);
		if (app != NULL && slot >= 0)
			pbuf_printf(pb, "%s[%d] ", app, slot);
		else if (app != NULL)
			pbuf_printf(pb, "%s ", app);
		pbuf_printf(pb, "%s", kind);
	}
	for (i = 0; i < n; i++) {
		if (json)
			pbuf_printf(pb, ",\"%s\":", f[i].key);
		else
			pbuf_printf(pb, " %s=", f[i].key);
		switch (f[i].type) {
		case EVF_NUM:
			pbuf_printf(pb, "%lld", f[i].num);
			break;
		case EVF_STR:
			if (json)
				json_quote(pb, f[i].str, strlen(f[i].str));
			else
				text_value(pb, f[i].str);
			break;
		case EVF_JSON:
			pbuf_add(pb, f[i].str, strlen(f[i].str));
			break;
		}
	}
	pbuf_add(pb, json ? "}\n" : "\n", json ? 3 : 2);	/* and a NUL */
}

void
events_emit(const char *kind, const char *app, int slot,
    const struct ev_field *f, size_t n)
{
	struct subscriber	*s;
	struct pbuf		 line[2];
	struct conn		*cn;
	char			 when[40];
	int			 j;

	if (nsubs == 0)
		return;
	memset(line, 0, sizeof(line));
	stamp(when, sizeof(when));
	LIST_FOREACH(s, &subs, entry) {
		if (!wants(s, app))
			continue;
		cn = s->c->conn;
		if (s->missed > 0 || cn->out.len - cn->off > EVENTS_QUEUE_MAX) {
			if (s->missed++ == 0)
				log_warnx("events: a subscriber fell %d KiB "
				    "behind; it is dropped once it has read "
				    "what it was sent", EVENTS_QUEUE_MAX / 1024);
			continue;
		}
		j = s->json;
		if (line[j].len == 0)
			format(&line[j], j, when, kind, app, slot, f, n);
		reply(s->c, MSG_OUT, line[j].data, line[j].len);
	}
	pbuf_free(&line[0]);
	pbuf_free(&line[1]);
}

int
events_subscribe(struct client *c, int json, const char **names, int n,
    char *why, size_t len)
{
	struct subscriber	*s;
	int			 i;

	if (nsubs >= EVENTS_SUBSCRIBERS_MAX) {
		snprintf(why, len, "events: %d subscribers already, the most "
		    "pmcd serves", EVENTS_SUBSCRIBERS_MAX);
		return (-1);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (n > 0 && (s->names = calloc((size_t)n, sizeof(char *))) == NULL))
		fatal("calloc");
	for (i = 0; i < n; i++)
		if ((s->names[i] = strdup(names[i])) == NULL)
			fatal("strdup");
	s->nnames = n;
	s->c = c;
	s->json = json;
	c->events = s;
	LIST_INSERT_HEAD(&subs, s, entry);
	nsubs++;
	return (0);
}

/* All it was sent is written: one that fell behind is told, and goes. */
void
events_sent(struct client *c)
{
	struct subscriber	*s = c->events;

	if (s == NULL || s->missed == 0)
		return;
	reply_errf(c, "events: dropped: %llu events missed, read too slowly",
	    s->missed);
	reply_exit(c, 1);
	events_unsubscribe(c);
}

void
events_unsubscribe(struct client *c)
{
	struct subscriber	*s = c->events;
	int			 i;

	if (s == NULL)
		return;
	LIST_REMOVE(s, entry);
	nsubs--;
	for (i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	free(s);
	c->events = NULL;
}

void
events_end(void)
{
	struct subscriber	*s;

	while ((s = LIST_FIRST(&subs)) != NULL) {
		reply_exit(s->c, 0);
		events_unsubscribe(s->c);
	}
}

/* pmc update: each subscriber's connection and what it asked for. */
void
events_save(struct state_out *o)
{
	struct subscriber	*s;
	struct pbuf		 names = { 0 };
	int			 i;

	LIST_FOREACH(s, &subs, entry) {
		names.len = 0;
		for (i = 0; i < s->nnames; i++)
			pbuf_printf(&names, "%s%s", i > 0 ? "," : "",
			    s->names[i]);
		state_begin(o, "sub");
		state_fd(o, "fd", s->c->conn->w.fd);
		state_num(o, "json", s->json);
		state_bytes(o, "names", names.data != NULL ? names.data : "",
		    names.len);
		state_end(o);
	}
	pbuf_free(&names);
}

/* Was c a subscriber that fell behind? Then it is told so. */
int
events_behind(struct client *c)
{
	if (c->events == NULL || c->events->missed == 0)
		return (0);
	events_sent(c);
	return (1);
}
