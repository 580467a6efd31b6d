/*
 * bpf.h -- the programs that choose a slot for each new connection of a
 * balanced app, attached to the SO_REUSEPORT group of one listen address
 * (balance: round-robin, sticky, reuseport).
 *
 * pmcd holds one socket per slot in the group and tells the balancer
 * which slot's socket that is; the kernel then runs the program for
 * every SYN, so pmcd stays off the data path.  Two kinds of program:
 *
 *   eBPF (BPF_PROG_TYPE_SK_REUSEPORT, attach type SELECT_OR_MIGRATE):
 *	needs CAP_BPF or CAP_SYS_ADMIN.  Picks a socket from a
 *	REUSEPORT_SOCKARRAY keyed by slot; reads turns and buckets from a
 *	map that pmcd rewrites in place; moves the connections queued on a
 *	socket that is closed to the others (no reset on scale-down)
 *	without touching net.ipv4.tcp_migrate_req.
 *   classic BPF (SO_ATTACH_REUSEPORT_CBPF): no privilege.  Returns the
 *	socket's index in the group, which is its slot because pmcd adds
 *	the sockets of an address in slot order and only ever removes the
 *	highest.  Rebuilt and attached again on every change.  Turns
 *	become a weighted random draw (even on average, not exact);
 *	sticky is exact; reuseport gets no program (no migration).
 *
 * No function here logs: failures come back in why.
 */
#ifndef PMCD_BPF_H
#define PMCD_BPF_H

#include <stddef.h>
#include <stdint.h>

#define BAL_SLOTS_MAX	1024		/* SPEC_INSTANCES_MAX */
#define BAL_TURNS_MAX	4096		/* longest schedule */
#define BAL_BUCKETS	256		/* sticky: client hash buckets */

enum bal_kind {
	BAL_TURNS,		/* slots in the order of a schedule */
	BAL_STICKY,		/* a hash of the client address picks a
				   bucket, the bucket a slot */
	BAL_HASH		/* the kernel's 4-tuple hash; eBPF only to
				   migrate queued connections on close */
};

struct balancer;

/*
 * A balancer of kind for the group of fd (a bound, listening
 * SO_REUSEPORT socket of family AF_INET or AF_INET6), attached to it.
 * It keeps its own duplicate of fd to re-attach classic programs:
 * bal_close it before the group's sockets are closed for good.
 *
 * eBPF is tried first unless classic is set; when it cannot be had, why
 * says why (EPERM without CAP_BPF; the verifier's last lines when the
 * kernel refused the program) and a classic program is attached, except
 * for BAL_HASH.  Returns NULL (why set) when nothing could be attached;
 * for BAL_HASH without eBPF, NULL is not an error: the kernel's own
 * hashing serves, without migration.
 */
struct balancer	*bal_open(enum bal_kind, int fd, int family, int classic,
		    char *why, size_t len);
int		 bal_is_ebpf(const struct balancer *);
/* "ebpf" or "classic", as describe and list --json show it. */
const char	*bal_engine(const struct balancer *);

/*
 * slot's socket is fd, or none (-1): eBPF writes the sockarray; classic
 * only checks slot.  Clear a slot before its socket leaves the group.
 */
int		 bal_set_socket(struct balancer *, int slot, int fd,
		    char *why, size_t len);

/*
 * BAL_TURNS: connection k goes to slots[k % n] (eBPF: an atomic counter,
 * kept across calls, so a new schedule does not restart the turn);
 * classic: slot s gets (count of s in slots) / n of them at random.
 * n == 0: no slot is wanted; the kernel's hash decides (connections wait
 * in a slot's queue until its instance is back).  n <= BAL_TURNS_MAX.
 */
int		 bal_set_turns(struct balancer *, const uint16_t *slots,
		    size_t n, char *why, size_t len);

/*
 * BAL_STICKY: bucket b (of BAL_BUCKETS) goes to slots[b]; a client's
 * bucket is fmix32 of its IPv4 address, or of the four words of its IPv6
 * address folded through fmix32, modulo BAL_BUCKETS.
 */
int		 bal_set_buckets(struct balancer *, const uint16_t *slots,
		    char *why, size_t len);

/*
 * eBPF only: from now on the group takes no new connection (each SYN is
 * answered with a reset, as by a closed port) while the connections
 * already queued stay where they are, to be accepted; those queued on a
 * socket that closes still move to the others.  For an app going away:
 * its queues drain before its instances are stopped.  Nothing undoes it.
 */
int		 bal_refuse(struct balancer *, char *why, size_t len);

/* The bucket of a client address (4 or 16 bytes), as the program
 * computes it: for tests and describe. */
unsigned int	 bal_bucket(const void *addr, size_t len);

/*
 * eBPF only: the connections the program has seen (each new one, and
 * each moved off a closing socket), a counter that wraps; 0, or -1.
 */
int		 bal_connections(const struct balancer *, uint32_t *count);

/* Detach nothing (the group keeps the program while it lives); free. */
void		 bal_close(struct balancer *);

#endif /* PMCD_BPF_H */
