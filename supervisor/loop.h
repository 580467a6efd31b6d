/*
 * loop.h -- pmcd's one event loop: descriptors through epoll, timers
 * from the nearest deadline.  Nothing in pmcd sleeps or blocks.
 */
#ifndef PMCD_LOOP_H
#define PMCD_LOOP_H

#include <sys/epoll.h>
#include <sys/queue.h>

#include <stdint.h>

struct watch {
	int	  fd;
	uint32_t  events;	/* as last given to epoll */
	void	(*fn)(struct watch *, uint32_t events);
	void	 *arg;
};

struct timer {
	TAILQ_ENTRY(timer)	 entry;
	uint64_t		 when;		/* monotonic ms */
	int			 armed;
	void			(*fn)(void *);
	void			*arg;
};

void		loop_init(void);
uint64_t	now_ms(void);		/* CLOCK_MONOTONIC, ms */

/* Watch w->fd for events (EPOLLIN, EPOLLOUT); 0, or -1 with errno. */
int		watch_add(struct watch *, uint32_t events);
int		watch_mod(struct watch *, uint32_t events);
void		watch_del(struct watch *);	/* and sets fd to -1 */
void		watch_close(struct watch *);	/* watch_del and close */

void		timer_set(struct timer *, void (*)(void *), void *);
void		timer_start(struct timer *, uint64_t delay_ms);
void		timer_stop(struct timer *);
int		timer_armed(const struct timer *);

/*
 * Run fn(arg) once the current batch of events is handled: the way to
 * free an object whose watch may still have an event pending.
 */
void		loop_defer(void (*)(void *), void *);

/* Run what was deferred and release the loop, before exiting. */
void		loop_end(void);

/* One round: wait for the nearest deadline or an event; run handlers. */
void		loop_once(void);

#endif /* PMCD_LOOP_H */
