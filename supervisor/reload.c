/*
 * reload.c -- replacing an app's instances one slot at a time, so that
 * the port never stops answering and a bad release never replaces a
 * good one; and max_memory, which replaces one slot the same way.
 *
 * For each slot: start a new instance beside the old one (same slot,
 * same sockets: the "surge"), wait until it is ready, then stop the old
 * one and put the new one in its place.  Never more than one surge per
 * app.  When a surge exits or is not ready in time, it is stopped, the
 * old instance keeps serving, and the reload ends as failed; if no slot
 * was replaced yet, the app goes back to its old spec and sockets.
 *
 * A reload is app->reload (reload.h).  It moves on when an instance of
 * its app changes state (set_state marks the app), once per loop round:
 * reloads_step().  Other files ask it questions through the functions
 * below, never through its fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "human.h"
#include "listen.h"
#include "log.h"
#include "pmcd.h"

/* Worth a step: the app's instances changed, or the reload did. */
static void
stir(struct app *app)
{
	app->changed = 1;
}

static void
reset(struct reload *r, enum reload_kind kind)
{
	r->kind = kind;
	r->slot = 0;
	r->done = 0;
	r->end = SIZE_MAX;
	r->old_stopped = 0;
	r->outcome = RELOAD_OK;
	r->reason[0] = '\0';
}

/*
 * Begin a reload of app.  With a new spec (and the socket layout made
 * for it), the app switches to it now: new instances use it, the old
 * ones keep running until replaced.
 */
void
reload_begin(struct app *app, struct app_spec *spec, int *fds, size_t nfds)
{
	struct reload	*r = &app->reload;

	instances_clear_verdicts(app);
	reset(r, RELOAD_ALL);
	if (spec != NULL) {
		r->old_spec = app->spec;
		r->old_fds = app->fds;
		r->old_nfds = app->nfds;
		app->spec = spec;
		app->fds = fds;
		app->nfds = nfds;
		balance_sync(app);
	}
	log_info("%s: reloading %zu instance%s", app->spec->name, app->ninst,
	    app->ninst == 1 ? "" : "s");
	{
		struct ev_field	 f[] = { EV_STR("step", "begin"),
		    EV_NUM("instances", app->ninst) };

		events_emit("reload", app->spec->name, -1, f, 2);
	}
	stir(app);
}

/* pmc reload: now, or after the max_memory replacement under way. */
enum reload_request
reload_request(struct app *app)
{
	if (app->reload.kind == RELOAD_MEMORY) {
		app->reload.queued = 1;
		return (RELOAD_QUEUED);
	}
	if (app->reload.kind != RELOAD_NONE)
		return (RELOAD_BUSY);
	reload_begin(app, NULL, NULL, 0);
	return (RELOAD_STARTED);
}

/*
 * Replace one slot's instance the same way (max_memory); why says why.
 * Verdicts stay: this is no client's request.
 */
static void
reload_slot_begin(struct app *app, size_t slot, const char *why)
{
	struct reload	*r = &app->reload;

	reset(r, RELOAD_MEMORY);
	r->slot = slot;
	r->end = slot + 1;
	strlcpy(r->why, why, sizeof(r->why));
	stir(app);
}

/*
 * A user's request (restart, stop, scale, a new spec) ends a max_memory
 * replacement under way (the callers refuse when a pmc reload waits for
 * it: see reload_by_user): the old instance stays, the new one is stopped
 * and dropped once down (reloads_step), and nobody is told it failed.
 * 1 when there was one.
 */
int
reload_cancel(struct app *app)
{
	struct reload	*r = &app->reload;
	struct instance	*s = app->surge;

	if (r->kind != RELOAD_MEMORY)
		return (0);
	if (r->slot < app->ninst)
		in_info(app->inst[r->slot],
		    "max_memory replacement cancelled by a request");
	if (s != NULL) {
		s->cancelled = 1;
		s->pending = 0;
		s->failed = 0;
		if (!instance_down(s))
			instance_event(s, IE_STOP);
	}
	/* The old one was being stopped for it: it serves again. */
	if (r->old_stopped && r->slot < app->ninst)
		instance_event(app->inst[r->slot], IE_START);
	r->kind = RELOAD_NONE;
	r->outcome = RELOAD_OK;
	r->old_stopped = 0;
	stir(app);
	return (1);
}

int
reload_running(const struct app *app)
{
	return (app->reload.kind != RELOAD_NONE);
}

/*
 * Is a reload that a user asked for under way (or waiting for a
 * max_memory replacement to end)?  Only then are a restart, a scale or
 * a new spec refused.
 */
int
reload_by_user(const struct app *app)
{
	return (app->reload.kind == RELOAD_ALL ||
	    (app->reload.kind == RELOAD_MEMORY && app->reload.queued));
}

/* A new request on an app that does not reload: the last outcome is
 * not its business. */
void
reload_forget(struct app *app)
{
	if (app->reload.kind == RELOAD_NONE)
		app->reload.outcome = RELOAD_OK;
}

/* How the last reload ended, for a client: 0, or 1 and why in buf. */
int
reload_status(const struct app *app, char *buf, size_t len)
{
	const struct reload	*r = &app->reload;

	switch (r->outcome) {
	case RELOAD_OK:
		return (0);
	case RELOAD_INTERRUPTED:
		snprintf(buf, len, "reload %s", r->reason);
		break;
	case RELOAD_FAILED:
		snprintf(buf, len, "reload failed: %s; %s", r->reason,
		    r->done == 0 ? "the old instances keep serving" :
		    "the instances replaced so far keep the new spec");
		break;
	}
	return (1);
}

/* What describe calls the surge, and the last outcome. */
const char *
reload_surge_title(const struct app *app)
{
	if (app->surge != NULL && app->surge->cancelled)
		return ("replacement cancelled");
	return (app->reload.kind == RELOAD_MEMORY ? "replacement under way" :
	    "reload under way");
}

/* A socket of the old layout went to another app (--prune hands over). */
void
reload_forget_fd(struct app *app, int fd)
{
	struct reload	*r = &app->reload;
	size_t		 j;

	for (j = 0; j < r->old_nfds; j++)
		if (r->old_fds[j] == fd)
			r->old_fds[j] = -1;
}

/* The app goes: what the reload still holds goes with it. */
void
reload_free(struct app *app)
{
	struct reload	*r = &app->reload;

	if (r->old_spec != NULL) {
		layout_close(r->old_spec, r->old_fds, r->old_nfds,
		    app->fds, app->nfds);
		free(r->old_fds);
		app_spec_free(r->old_spec);
		r->old_spec = NULL;
	}
	free(r->hold);
	r->hold = NULL;
	r->nhold = 0;
}

/* A cancelled surge: gone once down; 0 while it still stops. */
static int
drop_cancelled(struct app *app)
{
	if (app->surge == NULL || !app->surge->cancelled)
		return (1);
	if (!instance_down(app->surge))
		return (0);
	instance_free(app->surge);
	app->surge = NULL;
	return (1);
}

void
reload_abort(struct app *app, const char *why)
{
	struct reload	*r = &app->reload;

	if (reload_cancel(app) && r->queued) {
		/* The pmc reload that waited for it is interrupted. */
		r->queued = 0;
		r->outcome = RELOAD_INTERRUPTED;
		strlcpy(r->reason, why, sizeof(r->reason));
	}
	if (r->kind == RELOAD_NONE)
		return;
	if (r->outcome == RELOAD_OK) {
		r->outcome = RELOAD_INTERRUPTED;
		strlcpy(r->reason, why, sizeof(r->reason));
	}
	if (app->surge != NULL) {
		app->surge->failed = 1;
		instance_event(app->surge, IE_STOP);
	}
	stir(app);
}

/* Drop the sockets and spec the app no longer uses. */
static void
release_old(struct app *app, int revert)
{
	struct reload	*r = &app->reload;
	struct app_spec	*spec;
	int		*fds;
	size_t		 nfds;

	if (r->old_spec == NULL)
		return;
	if (revert) {
		spec = app->spec;
		fds = app->fds;
		nfds = app->nfds;
		app->spec = r->old_spec;
		app->fds = r->old_fds;
		app->nfds = r->old_nfds;
	} else {
		spec = r->old_spec;
		fds = r->old_fds;
		nfds = r->old_nfds;
	}
	balance_sync(app);	/* before the sockets it no longer has close */
	layout_close(spec, fds, nfds, app->fds, app->nfds);
	free(fds);
	app_spec_free(spec);
	r->old_spec = NULL;
	r->old_fds = NULL;
	r->old_nfds = 0;
}

/* Slots past the old count start; slots past the new count go. */
static void
resize(struct app *app, int start_new)
{
	struct instance	**inst;
	size_t		 i, n = (size_t)app->spec->instances, total;

	total = n > app->ninst ? n : app->ninst;
	if (total > app->ninst) {
		inst = reallocarray(app->inst, total, sizeof(*inst));
		if (inst == NULL)
			fatal("reallocarray");
		for (i = app->ninst; i < total; i++)
			inst[i] = NULL;
		app->inst = inst;
	}
	for (i = 0; i < total; i++) {
		if (i >= app->ninst) {
			app->inst[i] = instance_new(app, (int)i);
			app->inst[i]->pending = start_new;
			if (start_new)
				instance_event(app->inst[i], IE_START);
		} else if (i >= n)
			instance_event(app->inst[i], IE_DROP);
	}
	app->ninst = total;
}

/* Hold a slot that does not serve stopped until the reload ends. */
static void
hold(struct app *app, size_t slot)
{
	struct reload	*r = &app->reload;
	struct instance	*in = app->inst[slot];

	if (r->nhold < app->ninst) {
		r->hold = reallocarray(r->hold, app->ninst, sizeof(*r->hold));
		if (r->hold == NULL)
			fatal("reallocarray");
		memset(r->hold + r->nhold, 0,
		    (app->ninst - r->nhold) * sizeof(*r->hold));
		r->nhold = app->ninst;
	}
	if (r->hold[slot] == HOLD_NONE)
		r->hold[slot] = in->state == IS_BACKOFF ? HOLD_BACKOFF :
		    HOLD_STOPPED;
	instance_event(in, IE_STOP);
}

/*
 * Start the slots held stopped: all of them after a success; after a
 * failure only those that were waiting to restart.
 */
static void
release_held(struct app *app)
{
	struct reload	*r = &app->reload;
	struct instance	*in;
	size_t		 i;

	for (i = 0; i < r->nhold && i < app->ninst; i++) {
		in = app->inst[i];
		if (r->hold[i] == HOLD_NONE || instance_dropped(in) ||
		    r->outcome == RELOAD_INTERRUPTED)
			continue;
		if (r->outcome == RELOAD_OK || r->hold[i] == HOLD_BACKOFF) {
			in->pending = 1;
			in->failed = 0;
			instance_event(in, IE_RESTART);
		}
	}
	free(r->hold);
	r->hold = NULL;
	r->nhold = 0;
}

/* A max_memory replacement ended: pace the next try after a failure. */
static void
finish_memory(struct app *app)
{
	struct reload		*r = &app->reload;
	const struct app_spec	*s = app->spec;
	struct instance		*in;

	r->kind = RELOAD_NONE;
	if (r->outcome != RELOAD_FAILED || r->slot >= app->ninst)
		return;		/* done, or the app was asked to stop */
	in = app->inst[r->slot];
	in_warnx(in, "replacement failed: %s; the old instance keeps "
	    "running, next try in %llums", r->reason,
	    (unsigned long long)in->delay_ms);
	{
		struct ev_field	 f[] = { EV_STR("step", "failed"),
		    EV_STR("reason", r->reason) };

		events_emit("memory", s->name, in->slot, f, 2);
	}
	in->memory_retry_ms = now_ms() + in->delay_ms;
	in->delay_ms = backoff_next(s, in->delay_ms);
	in->memory_failures++;
	/* Nobody asked for it: no client reports it as a reload's. */
	r->outcome = RELOAD_OK;
}

static void
reload_event(const struct app *app, int revert)
{
	const struct reload	*r = &app->reload;
	struct ev_field		 f[] = {
		EV_STR("step", "end"),
		EV_STR("outcome", r->outcome == RELOAD_OK ? "ok" : revert ?
		    "failed, reverted" : "failed"),
		EV_STR("reason", r->reason),
	};

	events_emit("reload", app->spec->name, -1, f,
	    r->outcome == RELOAD_OK ? 2 : 3);
}

static void
finish(struct app *app)
{
	struct reload	*r = &app->reload;
	int		 revert = r->outcome != RELOAD_OK && r->done == 0;

	if (r->kind == RELOAD_MEMORY)
		finish_memory(app);
	else {
		if (r->outcome != RELOAD_OK)
			log_warnx("%s: reload failed: %s; %s", app->spec->name,
			    r->reason, revert ? "kept the old instances" :
			    "kept the instances replaced so far");
		else
			log_info("%s: reloaded", app->spec->name);
		reload_event(app, revert);
		release_old(app, revert);
		if (!revert)
			resize(app, r->outcome != RELOAD_INTERRUPTED);
		r->kind = RELOAD_NONE;
		/* Interrupted by a stop: what it held stays stopped. */
		release_held(app);
	}
	/* A pmc reload that came during a max_memory replacement. */
	if (r->queued) {
		r->queued = 0;
		if (r->outcome != RELOAD_INTERRUPTED)
			reload_begin(app, NULL, NULL, 0);
	}
}

/* The surge failed: once it is gone, so is the reload. */
static int
surge_failed(struct app *app)
{
	struct reload	*r = &app->reload;
	struct instance	*s = app->surge;
	struct instance	*old = app->inst[r->slot];

	if (!instance_down(s))
		return (0);	/* still stopping, or its group draining */
	/* The old one was being stopped for it: it serves again. */
	if (r->old_stopped && r->outcome != RELOAD_INTERRUPTED) {
		old->pending = 1;
		instance_event(old, IE_START);
	}
	r->old_stopped = 0;
	if (r->outcome == RELOAD_OK) {
		r->outcome = RELOAD_FAILED;
		snprintf(r->reason, sizeof(r->reason), "new %s[%d]: %.200s",
		    app->spec->name, s->slot,
		    s->reason[0] != '\0' ? s->reason : "did not start");
	}
	instance_free(s);
	app->surge = NULL;
	finish(app);
	return (1);
}

/* The surge is online: stop the old instance, then take its place. */
static int
surge_ready(struct app *app)
{
	struct reload	*r = &app->reload;
	struct instance	*old = app->inst[r->slot];
	struct instance	*s = app->surge;

	if (old->state == IS_ONLINE || old->state == IS_STARTING ||
	    old->state == IS_BACKOFF) {
		instance_event(old, IE_STOP);
		r->old_stopped = 1;
	}
	if (!instance_down(old))
		return (0);
	s->restarts = old->restarts;
	s->cpu_total_us += old->cpu_total_us;
	s->replaced_ms = now_ms();	/* max_memory paces from here */
	if (r->kind == RELOAD_MEMORY) {
		/* A restart, as far as counts and pacing go. */
		s->streak = old->streak;
		s->delay_ms = old->delay_ms;
		instance_count_restart(s, 1);
		strlcpy(s->reason, r->why, sizeof(s->reason));
		in_info(s, "replaced, new pid %d", (int)s->pid);
		if (events_wanted()) {
			struct ev_field	 f[] = { EV_STR("step", "replaced"),
			    EV_NUM("old_pid", old->last_pid != 0 ?
			    old->last_pid : old->pid), EV_NUM("pid", s->pid) };

			events_emit("reload", s->app->spec->name, s->slot, f,
			    3);
		}
	}
	instance_free(old);
	app->inst[r->slot] = s;
	s->surge = 0;
	s->pending = 0;
	app->surge = NULL;
	r->old_stopped = 0;
	r->slot++;
	r->done++;
	return (1);
}

/* Start the surge for the next slot that has a running instance. */
static int
next_slot(struct app *app)
{
	struct reload	*r = &app->reload;
	struct instance	*old, *s;
	size_t		 n = (size_t)app->spec->instances;

	if (n > r->end)
		n = r->end;
	for (; r->slot < app->ninst && r->slot < n; r->slot++) {
		old = app->inst[r->slot];
		if (instance_dropped(old))
			continue;
		if (old->state == IS_ONLINE || old->state == IS_STARTING)
			break;
		if (r->kind == RELOAD_MEMORY)
			continue;	/* it no longer runs: nothing to do */
		/*
		 * Nothing serves in this slot: hold it stopped, so that no
		 * process of the new spec runs before the reload succeeds;
		 * finish() starts it then (or, failed, as it was).
		 */
		hold(app, r->slot);
	}
	if (r->slot >= app->ninst || r->slot >= n) {
		finish(app);
		return (0);
	}
	s = instance_new(app, (int)r->slot);
	s->surge = 1;
	s->pending = 1;
	app->surge = s;
	instance_event(s, IE_START);
	return (1);
}

static void
reload_step(struct app *app)
{
	struct reload	*r = &app->reload;

	for (;;) {
		if (!drop_cancelled(app))
			return;		/* a cancelled one still stops */
		if (app->surge == NULL) {
			if (r->outcome != RELOAD_OK) {
				finish(app);
				return;
			}
			if (!next_slot(app))
				return;
			continue;
		}
		if (app->surge->failed || instance_down(app->surge)) {
			app->surge->failed = 1;
			if (!instance_down(app->surge))
				instance_event(app->surge, IE_STOP);
			surge_failed(app);
			return;
		}
		if (app->surge->state != IS_ONLINE || !surge_ready(app))
			return;
	}
}

/*
 * Advance the reloads whose apps changed since the last round; what a
 * step itself changes is seen at the next round.
 */
void
reloads_step(void)
{
	struct app	*app;

	TAILQ_FOREACH(app, &sv->apps, entry) {
		if (!app->changed)
			continue;
		app->changed = 0;
		if (app->reload.kind != RELOAD_NONE)
			reload_step(app);
		else
			drop_cancelled(app);
	}
}

/* --- max_memory ------------------------------------------------------------ */

/*
 * An online instance whose group's resident memory passes the limit is
 * replaced as a reload replaces it, the new one ready before the old one
 * stops.  Paced like restarts: not before its backoff delay after it
 * started or took its slot (a delay that doubles with each replacement
 * in a row and starts over once one stays up backoff.reset_after), and
 * never while the app reloads anyway.  One slot at a time per app: the
 * one over the limit the longest, then the one most over it.  Where no
 * graceful replacement can be had (no listen socket, or MEMORY_TRIES of
 * them failed in a row), the instance is restarted in place instead.
 * The figures are sample.c's, after each sample.
 */
#define MEMORY_TRIES	3
#define STR(x)		#x
#define XSTR(x)		STR(x)

static int
memory_due(struct instance *in, uint64_t now)
{
	const struct app_spec	*s = in->app->spec;
	uint64_t		 since;

	if (in->state != IS_ONLINE || in->rss <= s->max_memory ||
	    in->surge || instance_dropped(in)) {
		in->over_ms = 0;
		return (0);
	}
	if (in->over_ms == 0)
		in->over_ms = now;
	since = in->replaced_ms > in->started_ms ? in->replaced_ms :
	    in->started_ms;
	if (now - since >= s->backoff_reset_ms) {
		in->streak = 0;
		in->delay_ms = s->backoff_initial_ms;
	}
	return (now - since >= in->delay_ms && now >= in->memory_retry_ms);
}

static void
memory_event(const struct instance *in, const char *action)
{
	struct ev_field	 f[] = { EV_STR("step", action),
	    EV_NUM("rss", in->rss), EV_NUM("max_memory",
	    in->app->spec->max_memory) };

	events_emit("memory", in->app->spec->name, in->slot, f, 3);
}

/* Stop, then start: the limit holds where no replacement can be had. */
static void
memory_restart(struct instance *in, const char *have, const char *limit)
{
	in_warnx(in, "memory %s over max_memory %s, restarting (%s)", have,
	    limit, in->app->spec->nlisten == 0 ?
	    "no listen socket to replace it on" :
	    "its replacements failed " XSTR(MEMORY_TRIES) " times");
	memory_event(in, "restart");
	snprintf(in->reason, sizeof(in->reason),
	    "restarted: memory %s over max_memory %s", have, limit);
	in->memory_failures = 0;
	in->over_ms = 0;
	instance_event(in, IE_RECYCLE);
}

static void
memory_check(struct app *app)
{
	const struct app_spec	*s = app->spec;
	struct instance		*in, *pick = NULL;
	char			 have[32], limit[32], why[128];
	uint64_t		 now = now_ms();
	size_t			 i;

	if (s->max_memory == 0)
		return;
	for (i = 0; i < app->ninst; i++) {
		in = app->inst[i];
		if (!memory_due(in, now))
			continue;
		if (pick == NULL || in->over_ms < pick->over_ms ||
		    (in->over_ms == pick->over_ms && in->rss > pick->rss))
			pick = in;
	}
	if (pick == NULL || app->deleting || reload_running(app) ||
	    app->surge != NULL || sv->stopping)
		return;
	human_size(pick->rss, have, sizeof(have));
	format_size(s->max_memory, limit, sizeof(limit));
	if (s->nlisten == 0 || pick->memory_failures >= MEMORY_TRIES) {
		memory_restart(pick, have, limit);
		return;
	}
	in_warnx(pick, "memory %s over max_memory %s, replacing", have, limit);
	memory_event(pick, "replace");
	snprintf(why, sizeof(why), "replaced: memory %s over max_memory %s",
	    have, limit);
	reload_slot_begin(app, (size_t)pick->slot, why);
}

void
reload_memory_check(void)
{
	struct app	*app, *next;

	TAILQ_FOREACH_SAFE(app, &sv->apps, entry, next)
		memory_check(app);
}
