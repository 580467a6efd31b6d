/*
 * reload.h -- a rolling reload of one app, and max_memory's one-slot
 * replacement, which is the same operation on one slot (reload.c).
 */
#ifndef PMCD_RELOAD_H
#define PMCD_RELOAD_H

#include <stddef.h>

struct app;
struct app_spec;
struct pbuf;

enum reload_kind {
	RELOAD_NONE = 0,	/* nothing under way */
	RELOAD_ALL,		/* pmc reload, or a changed spec: every slot */
	RELOAD_MEMORY		/* max_memory: one slot, nobody waits */
};

enum reload_outcome {
	RELOAD_OK = 0,		/* the last one succeeded, or none ran */
	RELOAD_FAILED,		/* a new instance did not come online */
	RELOAD_INTERRUPTED	/* the app was asked to stop */
};

/* What a slot held by a reload does when the reload ends. */
enum reload_hold {
	HOLD_NONE = 0,
	HOLD_STOPPED,		/* it was down: starts only after a success */
	HOLD_BACKOFF		/* it was waiting to restart: starts anyway */
};

struct reload {
	enum reload_kind	 kind;
	size_t			 slot;		/* slot being replaced */
	size_t			 end;		/* past the last slot to do */
	size_t			 done;		/* slots replaced so far */
	int			 old_stopped;	/* its old instance stops */
	enum reload_hold	*hold;		/* per slot, NULL: none */
	size_t			 nhold;
	struct app_spec		*old_spec;	/* NULL: the same spec */
	int			*old_fds;
	size_t			 old_nfds;
	int			 queued;	/* a pmc reload waits for a
						   max_memory one to end */
	char			 why[128];	/* a max_memory one's reason */
	enum reload_outcome	 outcome;	/* of the last one */
	char			 reason[320];	/* why it failed */
};

/* Why `pmc reload` got the answer it got. */
enum reload_request {
	RELOAD_STARTED,
	RELOAD_QUEUED,		/* after the max_memory one under way */
	RELOAD_BUSY		/* one is already under way */
};

void		 reload_begin(struct app *, struct app_spec *, int *fds,
		    size_t nfds);
enum reload_request reload_request(struct app *);
void		 reload_abort(struct app *, const char *why);
int		 reload_cancel(struct app *);
int		 reload_running(const struct app *);
int		 reload_by_user(const struct app *);
void		 reload_forget(struct app *);	/* a new request's outcome */
int		 reload_status(const struct app *, char *, size_t);
const char	*reload_surge_title(const struct app *);
void		 reload_forget_fd(struct app *, int fd);
void		 reload_free(struct app *);
void		 reloads_step(void);
void		 reload_memory_check(void);	/* after each sample */

#endif /* PMCD_RELOAD_H */
