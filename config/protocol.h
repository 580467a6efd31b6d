/*
 * protocol.h -- the messages between pmc and pmcd.
 *
 * Transport: a SOCK_STREAM Unix socket, $PMC_HOME/pmc.sock.  Every message
 * is a struct pmc_msghdr (host byte order: both ends are on one machine)
 * followed by hdr.len payload bytes.  A payload is a sequence of fields,
 * each a string ended by one NUL byte; a non-empty payload whose last byte
 * is not NUL is malformed.  Fields never hold NUL themselves.
 *
 * A client sends one request and reads replies until MSG_EXIT, which ends
 * the exchange; pmcd then closes the connection.  Replies before MSG_EXIT
 * are any number of MSG_OUT, MSG_ERR and MSG_DATA.
 *
 * Bump PMC_PROTO_VERSION when a layout below changes meaning or a field
 * is added to or removed from an existing message.  Adding a new message
 * type does not need a bump: an old pmcd answers it with MSG_ERR and
 * MSG_EXIT 2.  Never reuse a number.  On a version mismatch the receiver
 * answers MSG_ERR "incompatible pmc and pmcd" (from pmcd) and closes; pmc
 * prints "pmc: incompatible pmc and pmcd".
 */
#ifndef PMC_PROTOCOL_H
#define PMC_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define PMC_PROTO_VERSION	2
#define PMC_MSG_MAX		(4U * 1024 * 1024)	/* payload bound */
#define PMC_FIELDS_MAX		4096			/* fields a message */

struct pmc_msghdr {
	uint32_t	version;	/* PMC_PROTO_VERSION */
	uint32_t	type;		/* enum pmc_msgtype */
	uint32_t	len;		/* payload bytes that follow */
	uint32_t	flags;		/* zero; reserved */
};

enum pmc_msgtype {
	/* Requests, pmc -> pmcd. */
	MSG_PING = 1,		/* no fields */
	MSG_START = 2,		/* flags field: words a space apart,
				   "prune" and "env=NAME" (the env_NAME
				   blocks to merge), or ""; then per
				   file: its real path (no symlink), its
				   content, the answers of the names it
				   looked up (lookup.h; pmcd asks no name
				   service itself); "prune" deletes the
				   apps that came from one of these paths
				   and are no longer in it */
	MSG_LIST = 3,		/* no fields; replies MSG_DATA */
	MSG_DESCRIBE = 4,	/* app name; replies MSG_OUT */
	MSG_STOP = 5,		/* app names or "all" */
	MSG_RESTART = 6,	/* app names or "all" */
	MSG_DELETE = 7,		/* app names or "all" */
	MSG_KILL = 8,		/* no fields; pmcd stops everything, exits */
	MSG_RELOAD = 9,		/* flags field ("" or "nowait"), then app
				   names or "all" */
	MSG_SCALE = 10,		/* app name, count: "N", "+N" or "-N" */
	MSG_SIGNAL = 11,	/* signal name or number, then app names or
				   "all" */
	MSG_SAVE = 12,		/* flags field ("" or "force"); pmcd writes
				   its running apps to the dump file */
	MSG_RESURRECT = 13,	/* the dump file as pmc read it: path,
				   content, answers; pmcd applies it as
				   MSG_START would */
	MSG_FLUSH = 14,		/* app names or "all" (none: all); empties
				   their log files */
	MSG_REOPEN = 15,	/* no fields; reopen every log file */
	MSG_LOGS = 16,		/* app names (none: all); replies MSG_DATA,
				   one record per file: name, "out" or "err",
				   path, keep (tab-separated) */
	MSG_METRICS = 17,	/* no fields; replies MSG_OUT: every
				   instance's figures in the Prometheus text
				   format, version 0.0.4 */
	MSG_EVENTS = 18,	/* flags field ("" or "json"), then app
				   names (none: all); replies one MSG_OUT
				   per event, one line each, until the
				   client goes (or falls behind: MSG_ERR,
				   MSG_EXIT 1) */
	MSG_SEND = 19,		/* target ("NAME", "NAME:N" or "all"), then
				   one JSON value; pmcd writes it to the
				   channel of each instance targeted */
	MSG_UPDATE = 20,	/* the new binary's absolute path, or "":
				   the one pmcd was started from; pmcd
				   executes it in its own process and the
				   new pmcd answers (pmcd(8) UPDATE) */
	MSG_DRAIN = 21,		/* flags field ("" or "wait"), the quiet
				   period and the timeout in ms (decimal),
				   then app names or "all": their health
				   turns 503; with "wait", the reply comes
				   once no new connection came for the quiet
				   period, or at the timeout (exit 1) */
	MSG_UNDRAIN = 22,	/* app names or "all": healthy again */

	/* Replies, pmcd -> pmc. */
	MSG_OUT = 100,		/* one field: text for stdout */
	MSG_ERR = 101,		/* one field: text for stderr, without the
				   "pmc: " prefix, one problem a line */
	MSG_DATA = 102,		/* records; see below */
	MSG_EXIT = 103		/* one field: exit status, "0", "1" or "2" */
};

/*
 * MSG_DATA in reply to MSG_LIST: one field per instance, its values
 * separated by tabs, in this order (numbers in decimal):
 */
enum list_column {
	LIST_NAME = 0,
	LIST_INSTANCE,		/* slot, 0..N-1 */
	LIST_PID,		/* 0 when none */
	LIST_STATUS,		/* starting online stopping stopped backoff
				   errored */
	LIST_RESTARTS,
	LIST_UPTIME_MS,		/* 0 when not running */
	LIST_CPU,		/* percent of one CPU over the last sample
				   of its process group, one decimal: "12.5" */
	LIST_MEMORY,		/* RSS bytes, summed over its process group */
	LIST_BALANCE,		/* the app's balance: shared, reuseport, ... */
	LIST_ENGINE,		/* who applies it: ebpf, classic, kernel */
	LIST_WEIGHT,		/* its slot's weight in the turns; 0: none */
	LIST_NCOLUMNS
};

/* A growable payload.  All functions abort on out of memory. */
struct pbuf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	 pbuf_add(struct pbuf *, const void *, size_t);
void	 pbuf_add_field(struct pbuf *, const char *);	/* adds the NUL */
void	 pbuf_printf(struct pbuf *, const char *, ...)
	    __attribute__((__format__(__printf__, 2, 3)));	/* no NUL */
void	 pbuf_free(struct pbuf *);

/* NULL when hdr is acceptable, else why not. */
const char *proto_check(const struct pmc_msghdr *);
/*
 * Split a payload into at most max fields.  Returns the count, or -1
 * when the payload is not NUL-terminated or has more than max fields.
 */
int	 proto_fields(const char *payload, size_t len, const char **fields,
	    size_t max);

/* Blocking helpers for pmc.  Return 0, or -1 with errno set. */
int	 proto_send(int fd, uint32_t type, const void *payload, size_t len);
/* Reads one message; *payload is malloc'd, NUL-terminated past len. */
int	 proto_recv(int fd, struct pmc_msghdr *, char **payload);

#endif /* PMC_PROTOCOL_H */
