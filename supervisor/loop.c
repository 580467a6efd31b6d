/*
 * loop.c -- the event loop.  Timers live in one list sorted by deadline;
 * epoll_wait sleeps until the first of them (or forever when none).
 */
#include <sys/epoll.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

#define LOOP_EVENTS	64

struct deferred {
	void	(*fn)(void *);
	void	 *arg;
};

static int			 epfd = -1;
static struct deferred		*deferred;
static size_t			 ndeferred, deferred_cap;
static TAILQ_HEAD(, timer)	 timers = TAILQ_HEAD_INITIALIZER(timers);

void
loop_init(void)
{
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
}

uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

int
watch_add(struct watch *w, uint32_t events)
{
	struct epoll_event	 ev = { .events = events, .data.ptr = w };

	w->events = events;
	return (epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev));
}

int
watch_mod(struct watch *w, uint32_t events)
{
	struct epoll_event	 ev = { .events = events, .data.ptr = w };

	/* A reply of many records asks the same again and again. */
	if (events == w->events)
		return (0);
	w->events = events;
	return (epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev));
}

void
watch_del(struct watch *w)
{
	if (w->fd != -1)
		epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->fd = -1;
}

void
watch_close(struct watch *w)
{
	int	 fd = w->fd;

	watch_del(w);
	if (fd != -1)
		close(fd);
}

void
timer_set(struct timer *t, void (*fn)(void *), void *arg)
{
	t->fn = fn;
	t->arg = arg;
	t->armed = 0;
}

void
timer_stop(struct timer *t)
{
	if (t->armed) {
		TAILQ_REMOVE(&timers, t, entry);
		t->armed = 0;
	}
}

void
timer_start(struct timer *t, uint64_t delay_ms)
{
	struct timer	*t2;

	timer_stop(t);
	t->when = now_ms() + delay_ms;
	t->armed = 1;
	TAILQ_FOREACH(t2, &timers, entry) {
		if (t2->when > t->when) {
			TAILQ_INSERT_BEFORE(t2, t, entry);
			return;
		}
	}
	TAILQ_INSERT_TAIL(&timers, t, entry);
}

int
timer_armed(const struct timer *t)
{
	return (t->armed);
}

void
loop_defer(void (*fn)(void *), void *arg)
{
	struct deferred	*d;
	size_t		 cap;

	if (ndeferred == deferred_cap) {
		cap = deferred_cap == 0 ? 16 : deferred_cap * 2;
		d = reallocarray(deferred, cap, sizeof(*d));
		if (d == NULL)
			fatal("loop_defer");
		deferred = d;
		deferred_cap = cap;
	}
	deferred[ndeferred].fn = fn;
	deferred[ndeferred].arg = arg;
	ndeferred++;
}

static void
run_deferred(void)
{
	size_t	 i;

	for (i = 0; i < ndeferred; i++)
		deferred[i].fn(deferred[i].arg);
	ndeferred = 0;
}

void
loop_end(void)
{
	run_deferred();
	free(deferred);
	deferred = NULL;
	ndeferred = deferred_cap = 0;
	if (epfd != -1)
		close(epfd);
	epfd = -1;
}

static int
next_timeout(void)
{
	struct timer	*t;
	uint64_t	 now;

	if ((t = TAILQ_FIRST(&timers)) == NULL)
		return (-1);
	now = now_ms();
	if (t->when <= now)
		return (0);
	if (t->when - now > 60000)
		return (60000);
	return ((int)(t->when - now));
}

static void
run_timers(void)
{
	struct timer	*t;
	uint64_t	 now = now_ms();

	while ((t = TAILQ_FIRST(&timers)) != NULL && t->when <= now) {
		TAILQ_REMOVE(&timers, t, entry);
		t->armed = 0;
		t->fn(t->arg);
	}
}

void
loop_once(void)
{
	struct epoll_event	 evs[LOOP_EVENTS];
	struct watch		*w;
	int			 i, n;

	n = epoll_wait(epfd, evs, LOOP_EVENTS, next_timeout());
	if (n == -1 && errno != EINTR)
		fatal("epoll_wait");
	for (i = 0; i < n; i++) {
		w = evs[i].data.ptr;
		if (w->fd != -1)
			w->fn(w, evs[i].events);
	}
	run_deferred();
	run_timers();
	run_deferred();
}
