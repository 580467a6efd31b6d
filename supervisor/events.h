/*
 * events.h -- what happens to apps and instances, as it happens, for
 * `pmc events` subscribers (control clients that asked for MSG_EVENTS).
 *
 * An event is a kind, an app, an instance slot (or none) and a few
 * fields.  Each subscriber gets it as one line, text or JSON (schema in
 * pmc(1)), in its own bounded queue: a subscriber that falls more than
 * EVENTS_QUEUE_MAX bytes behind is dropped, told how many events it
 * missed.  With no subscriber an event costs one comparison.
 */
#ifndef PMCD_EVENTS_H
#define PMCD_EVENTS_H

#include <stddef.h>

#define EVENTS_QUEUE_MAX	(256 * 1024)	/* bytes behind, a subscriber */
#define EVENTS_SUBSCRIBERS_MAX	16

enum evf_type {
	EVF_NUM,		/* num */
	EVF_STR,		/* str, quoted in JSON */
	EVF_JSON		/* str, a checked JSON value, as it is */
};

struct ev_field {
	const char	*key;
	enum evf_type	 type;
	long long	 num;
	const char	*str;
};

#define EV_NUM(k, n)	{ (k), EVF_NUM, (long long)(n), NULL }
#define EV_STR(k, s)	{ (k), EVF_STR, 0, (s) }
#define EV_JSON(k, s)	{ (k), EVF_JSON, 0, (s) }

struct client;

/* Is anyone listening?  Lets a caller skip building fields. */
int	 events_wanted(void);
/* kind happened to app (NULL: pmcd itself), instance slot (-1: none). */
void	 events_emit(const char *kind, const char *app, int slot,
	    const struct ev_field *, size_t);
/* c subscribes: json or text, the apps of names (none: all). */
int	 events_subscribe(struct client *, int json, const char **names,
	    int n, char *why, size_t len);
/* All that c was sent is written (a subscriber that fell behind goes). */
void	 events_sent(struct client *);
/* pmcd exits: every subscriber's stream ends, status 0. */
void	 events_end(void);
/* pmc update: a subscriber that fell behind is told, 1; else 0. */
int	 events_behind(struct client *);
/* c goes (its connection is freed). */
void	 events_unsubscribe(struct client *);

#endif /* PMCD_EVENTS_H */
