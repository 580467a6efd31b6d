/*
 * channel.h -- the message channel between pmcd and each instance.
 *
 * One end of a stream socketpair, given to the instance at the first
 * descriptor past its listen sockets (3 + LISTEN_FDS) and announced as
 * PMC_CHANNEL_FD and, so that Node's process.send() and
 * process.on('message') work unchanged, as NODE_CHANNEL_FD with
 * NODE_CHANNEL_SERIALIZATION_MODE=json.  The format is Node's "json"
 * serialization, both ways: one JSON value a line, ended by "\n".
 *
 * From an instance:
 *	"ready"				READY=1 for ready: notify and auto
 *	{"cmd":"NODE_HANDLE",...}	a descriptor came with it (Node's
 *					process.send(msg, handle)): pmcd
 *					closes it and answers
 *					{"cmd":"NODE_HANDLE_ACK"}, or Node
 *					would hold every later message back;
 *					msg inside is taken as a message
 *	{"cmd":"NODE_CLUSTER",...}	Node's cluster protocol: cluster.c
 *	{"cmd":"NODE_...",...}		Node's own; ignored
 *	anything else			a "message" event (events.h), as it
 *					is: PM2's {"type":"process:msg",
 *					"data":...} too
 * A line that is no JSON value, or longer than CHANNEL_MSG_MAX, is
 * dropped and counted (describe shows the counts); pmcd reads at most
 * CHANNEL_READ_MAX bytes of one instance a loop round.
 *
 * To an instance: what `pmc send` gives, and cluster.c's replies.  pmcd
 * never blocks on a channel: what the instance has not read waits in a
 * queue of at most CHANNEL_QUEUE_MAX bytes; a message that does not fit
 * is refused and counted.  After a message that carries a descriptor,
 * the rest waits for the instance's NODE_HANDLE_ACK, as Node's own
 * sender does.
 */
#ifndef PMCD_CHANNEL_H
#define PMCD_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#define CHANNEL_MSG_MAX		(64 * 1024)	/* one message, bytes */
#define CHANNEL_QUEUE_MAX	(256 * 1024)	/* queued to one instance */
#define CHANNEL_READ_MAX	(256 * 1024)	/* read a round, one instance */

struct instance;
struct pbuf;

/*
 * Where the messages go that are not Node's handle protocol ("ready",
 * NODE_CLUSTER, the app's own): message.c's, set once at start.
 */
void	 channel_init(void (*)(struct instance *, const char *, size_t));

/*
 * A new channel for in, before its spawn: the instance's end in *child
 * (close-on-exec; the child moves it into place), or -1 with errno.
 */
int	 channel_open(struct instance *, int *child);
/* Close in's channel (the instance ended); what was queued is lost. */
void	 channel_close(struct instance *);

/*
 * Queue one checked, compact JSON value (no newline) to in, with fd
 * (-1: none) passed along as Node passes a handle.  0, or -1 with why:
 * no channel, closed, or full.
 */
int	 channel_send(struct instance *, const char *json, size_t len,
	    int fd, char *why, size_t whylen);

/* For describe: "open, 3 sent, 1 received, 0 dropped" and the like. */
void	 channel_describe(const struct instance *, struct pbuf *);

#endif /* PMCD_CHANNEL_H */
