/*
 * listing.h -- the MSG_LIST reply, parsed: one row per instance.  Shared
 * by `pmc list` and `pmc monit`.
 */
#ifndef PMC_LISTING_H
#define PMC_LISTING_H

#include <stddef.h>

#include "spec.h"

#define LISTING_STATUS_MAX	31

/* One MSG_DATA record, checked. */
struct list_row {
	char			 name[SPEC_NAME_MAX + 1];
	unsigned long long	 instance;
	unsigned long long	 pid;
	char			 status[LISTING_STATUS_MAX + 1];
	unsigned long long	 restarts;
	unsigned long long	 uptime_ms;
	double			 cpu;
	unsigned long long	 memory;
	char			 balance[LISTING_STATUS_MAX + 1];	/* "" */
	char			 engine[LISTING_STATUS_MAX + 1];	/* from an */
	unsigned long long	 weight;			/* old pmcd */
};

struct list_rows {
	struct list_row		*v;
	size_t			 n;
};

/*
 * A client_data_fn: parse one record into the list_rows arg; -1 when it
 * is malformed.  Columns past the ones above, which a newer pmcd may
 * append, are ignored.
 */
int	 listing_add(const char *, void *);
/*
 * One MSG_LIST exchange on fd, printing nothing: 0 with the rows added
 * to rows, or -1 with why it failed in why.
 */
int	 listing_fetch(int, struct list_rows *, char *why, size_t);
void	 listing_clear(struct list_rows *);

/* 200000 -> "3m": the largest whole unit. */
void	 human_uptime(unsigned long long, char *, size_t);

#endif /* PMC_LISTING_H */
