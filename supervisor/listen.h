/*
 * listen.h -- the listen sockets pmcd binds and holds for an app's life.
 */
#ifndef PMCD_LISTEN_H
#define PMCD_LISTEN_H

#include <stddef.h>

#include "spec.h"

/*
 * A bound, listening socket (blocking, CLOEXEC) for app, or -1 with why;
 * a copy of an adopted one when the service manager passed a match.
 */
int	listen_open(const struct app_spec *, const struct listen_addr *,
	    int reuseport, char *why, size_t);
/* Take the sockets of our own LISTEN_FDS; returns how many. */
int	listen_adopt(void);
/* One named after app, or on one of its addresses? */
int	listen_adopted_for(const struct app_spec *);
/*
 * For an app going away: fd takes no new connection from now on (a
 * filter drops each SYN; the client retries and meets a closed port
 * once the socket is gone), while handshakes under way complete and
 * the queued connections stay to be accepted.  Returns 0 and does
 * nothing for a unix socket, or a socket the service manager passed
 * (that one outlives the app, queue and all, for its next start).
 */
int	listen_refuse(const struct listen_addr *, int fd);
/* Connections waiting in fd's accept queue; 0 for a unix socket. */
unsigned int listen_queued(int fd);
/* Close a socket from listen_open; removes a unix socket's file. */
void	listen_close(const struct listen_addr *, int fd);

/*
 * An app's socket layout: one socket per address, or, with balance:
 * reuseport, one per address and slot (slot-major).  fds[i] serves
 * layout_addr(s, i).
 */
size_t	layout_size(const struct app_spec *);
const struct listen_addr *layout_addr(const struct app_spec *, size_t i);
/* The sockets one instance inherits, in order: its slot's, n = nlisten;
 * -1 when one is missing. */
int	layout_slot_fds(const struct app_spec *, const int *fds, size_t nfds,
	    int slot, int *out);
/* Close the sockets of fds (laid out for spec) that keep does not hold. */
void	layout_close(const struct app_spec *, int *fds, size_t nfds,
	    const int *keep, size_t nkeep);

#endif /* PMCD_LISTEN_H */
