/*
 * conn.h -- connections on a listening socket, shared by the control
 * socket (control.c) and the metrics listener (metrics.c).
 *
 * A listener accepts without blocking and, out of descriptors, pauses a
 * moment rather than spin.  Each connection has a deadline (it is
 * dropped when it passes), an input buffer that is read while the
 * owner wants more, and an output buffer that is written while it holds
 * anything.  With ops->max connections, a new one takes the place of the
 * oldest that is still reading: one that has been answered, or is being
 * answered, keeps its place.
 */
#ifndef PMCD_CONN_H
#define PMCD_CONN_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "protocol.h"

struct conn;

/* What the owner of a listener does with its connections. */
struct conn_ops {
	const char	*name;		/* in the log: "control" */
	int		 max;		/* connections at the most */
	int		 log_full;	/* log a drop or refusal at max */
	uint64_t	 stall_ms;	/* a send that would block moves the
					   deadline this far; 0: it stays */
	/* A new connection: its state, or NULL to refuse it. */
	void		*(*open)(struct conn *);
	/* c->in grew, or (eof) the peer closed its side. */
	void		 (*input)(struct conn *, int eof);
	/* All of c->out is written. */
	void		 (*sent)(struct conn *);
	/* The end: free what open returned. */
	void		 (*free)(void *);
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct conn_listener	*l;
	struct watch		 w;
	struct timer		 deadline;
	char			*in;		/* read, NUL-terminated */
	size_t			 inlen;
	size_t			 incap;
	size_t			 want;		/* to read still; 0: stop */
	struct pbuf		 out;		/* to write */
	size_t			 off;		/* of out, written */
	int			 dropped;
	void			*arg;		/* what ops->open returned */
};

struct conn_listener {
	struct watch		 w;		/* fd -1 when not listening */
	struct timer		 pause;		/* out of descriptors */
	const struct conn_ops	*ops;
	TAILQ_HEAD(, conn)	 conns;		/* oldest first */
	int			 n;
	int			 inet;		/* TCP, not a Unix socket */
};

/* Accept on fd, a bound and listening non-blocking socket. */
void	 conn_listen(struct conn_listener *, int fd, const struct conn_ops *);
/* Close it and drop every connection, after a short blocking send of
   what each has queued when last_words is set. */
void	 conn_close(struct conn_listener *, int last_words);
void	 conn_drop(struct conn *);
/* A connection on fd, as if accepted (pmc update carries them over). */
struct conn *conn_adopt(struct conn_listener *, int fd);
/* The TCP connections pmcd's listeners ever accepted (drain.c). */
uint64_t conn_inet_accepted(void);
/* A blocking send of what c has queued, 1 s at most; 0 when all went. */
int	 conn_last_words(struct conn *);
void	 conn_deadline(struct conn *, uint64_t ms);	/* 0: none */
void	 conn_interest(struct conn *);	/* after want or out changed */

#endif /* PMCD_CONN_H */
