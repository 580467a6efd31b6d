/*
 * state.h -- pmcd's state as it crosses `pmc update` (update.c): the
 * old pmcd writes it to a memfd, executes the new binary in its own
 * process and the new one reads it back (restore.c).
 *
 * The format is text, one record a line:
 *
 *	pmcd-state <version>
 *	<kind> <key>=<value> <key>=<value> ...
 *	...
 *	end
 *
 * A value is a decimal number or bytes with every byte outside '!'..'~'
 * and every '%' and '=' written as %XX.  A reader ignores keys it does
 * not know and takes an absent key as 0, "" or no descriptor, so that a
 * field can be added without a new version; PMCD_STATE_VERSION changes
 * when a record's meaning does.  A "fd" value is a descriptor number
 * that the exec keeps open (close-on-exec is cleared for it alone).
 * pmcd(8) lists the records.
 */
#ifndef PMCD_STATE_H
#define PMCD_STATE_H

#include <stddef.h>
#include <stdio.h>

#define PMCD_STATE_VERSION	1
#define STATE_KEYS_MAX		64

/* Writing: the records, and the descriptors they name. */
struct state_out {
	FILE	*f;
	int	*fds;
	size_t	 nfds;
	size_t	 cap;
};

void	 state_begin(struct state_out *, const char *kind);
void	 state_num(struct state_out *, const char *key, long long);
void	 state_unum(struct state_out *, const char *key, unsigned long long);
void	 state_str(struct state_out *, const char *key, const char *);
void	 state_bytes(struct state_out *, const char *key, const void *,
	    size_t);
void	 state_fd(struct state_out *, const char *key, int fd);	/* -1: none */
void	 state_end(struct state_out *);

/* Reading: one record, its values decoded in place. */
struct state_rec {
	const char	*kind;
	int		 n;
	char		*key[STATE_KEYS_MAX];
	char		*val[STATE_KEYS_MAX];
	size_t		 len[STATE_KEYS_MAX];
};

/* Split line (changed in place); 0, or -1 when it is no record. */
int		 state_parse(char *line, struct state_rec *);
long long	 rec_num(const struct state_rec *, const char *key);
unsigned long long rec_unum(const struct state_rec *, const char *key);
const char	*rec_str(const struct state_rec *, const char *key);
const char	*rec_bytes(const struct state_rec *, const char *key,
		    size_t *len);
int		 rec_fd(const struct state_rec *, const char *key);

/* Each module's part, written and read by update.c and restore.c. */
struct app;
struct instance;
struct client;

void	 logs_save(struct state_out *);
int	 logs_load(const struct state_rec *);	/* "pipe" */
void	 channel_save(const struct instance *, struct state_out *);
int	 channel_load(struct instance *, const struct state_rec *);
int	 channel_busy(void);	/* a handle waits for its ack */
void	 balance_save(const struct app *, struct state_out *);
void	 balance_load(struct app *, const struct state_rec *);
void	 balance_release(int fail);	/* before the exec, or after it
					   failed */
void	 events_save(struct state_out *);
void	 control_save(struct state_out *, struct client *updating);
int	 control_load(const struct state_rec *, struct client **asker);
/* The clients that would be lost: told to try again, then dropped. */
void	 control_update_drop(struct client *updating);
int	 control_waiting(struct client *except);	/* clients wait */
void	 notify_save(struct state_out *);
void	 notify_load(const struct state_rec *);
void	 metrics_save(struct state_out *);
void	 metrics_load(const struct state_rec *);

/* restore.c: the new pmcd's side.  -1 with why: nothing can go on. */
int	 state_restore(int fd, char *why, size_t);
/* update.c: the updating client, answered once the new pmcd runs. */
void	 update_request(struct client *, const char **, int);
/* The path pmcd was started from ("" unknown), for pmc update. */
void	 update_self_init(void);

#endif /* PMCD_STATE_H */
