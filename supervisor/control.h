/*
 * control.h -- what the control socket (control.c) and the requests it
 * dispatches (request.c) share: a client, its replies, and the outcome
 * it waits for.
 */
#ifndef PMCD_CONTROL_H
#define PMCD_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

struct conn;
struct subscriber;

enum wait_kind {
	WAIT_NONE = 0,
	WAIT_START,		/* every named app online or failed */
	WAIT_RELOAD,		/* every named app's reload ended */
	WAIT_STOP,		/* every named app stopped */
	WAIT_DELETE,		/* every named app gone */
	WAIT_KILL,		/* everything stopped; then pmcd exits */
	WAIT_DRAIN		/* every named app quiet, or the deadline */
};

/* A client of the control socket: one request, its replies. */
struct client {
	struct conn		*conn;
	struct pmc_msghdr	 hdr;		/* the request's; its payload
						   follows in conn->in */
	int			 have_request;
	int			 closing;	/* close once out is sent */
	enum wait_kind		 wait;
	char			**names;	/* apps waited for */
	size_t			 nnames;
	int			 wait_status;	/* exit status so far */
	uint64_t		 quiet_ms;	/* WAIT_DRAIN */
	uint64_t		 deadline_ms;
	struct subscriber	*events;	/* pmc events (events.c) */
};

/* reply.c: queue a reply; reply_exit ends the exchange. */
void	 reply(struct client *, uint32_t type, const char *, size_t);
void	 reply_text(struct client *, uint32_t type, const char *);
void	 reply_errf(struct client *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
void	 reply_outf(struct client *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
void	 reply_exit(struct client *, int status);
void	 reply_errs(struct client *, const struct pbuf *);

/* request.c: one handler a request type. */
struct handler {
	uint32_t	 type;
	void		(*fn)(struct client *, const char **, int);
};

const struct handler	*handler_find(uint32_t type);	/* NULL: unknown */

/* request.c: a client waiting for an outcome (c->wait). */
int	 client_settled(struct client *);	/* 1: the wait is over */
void	 client_finish(struct client *);	/* reply the outcome */
void	 client_wait_free(struct client *);

#endif /* PMCD_CONTROL_H */
