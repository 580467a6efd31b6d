/*
 * reload.c -- replacing an app's instances one slot at a time, so that
 * the port never stops answering and a bad release never replaces a
 * good one.
 *
 * For each slot: start a new instance beside the old one (same slot,
 * same sockets: the "surge"), wait until it is ready, then stop the old
 * one and put the new one in its place.  Never more than one surge per
 * app.  When a surge exits or is not ready in time, it is stopped, the
 * old instance keeps serving, and the reload ends as failed; if no slot
 * was replaced yet, the app goes back to its old spec and sockets.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pmcd.h"

/*
 * Begin a reload of app.  With a new spec (and the socket layout made
 * for it), the app switches to it now: new instances use it, the old
 * ones keep running until replaced.
 */
void
reload_begin(struct app *app, struct app_spec *spec, int *fds, size_t nfds)
{
	app_clear_verdicts(app);
	app->reloading = 1;
	app->reload_slot = 0;
	app->reload_done = 0;
	app->reload_failed = 0;
	app->reload_interrupted = 0;
	app->old_stopped = 0;
	app->reload_end = SIZE_MAX;
	app->reload_memory = 0;
	app->reload_reason[0] = '\0';
	if (spec != NULL) {
		app->old_spec = app->spec;
		app->old_fds = app->fds;
		app->old_nfds = app->nfds;
		app->spec = spec;
		app->fds = fds;
		app->nfds = nfds;
	}
	log_info("%s: reloading %zu instance%s", app->spec->name, app->ninst,
	    app->ninst == 1 ? "" : "s");
}

/*
 * Replace one slot's instance the same way (max_memory, see sample.c);
 * app->reload_why says why.  Verdicts stay: this is no client's request.
 */
void
reload_slot_begin(struct app *app, size_t slot)
{
	app->reloading = 1;
	app->reload_slot = slot;
	app->reload_end = slot + 1;
	app->reload_memory = 1;
	app->reload_done = 0;
	app->reload_failed = 0;
	app->reload_interrupted = 0;
	app->old_stopped = 0;
	app->reload_reason[0] = '\0';
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
	struct instance	*s = app->surge;

	if (!app->reloading || !app->reload_memory)
		return (0);
	log_info("%s[%d]: max_memory replacement cancelled by a request",
	    app->spec->name, (int)app->reload_slot);
	if (s != NULL) {
		s->cancelled = 1;
		s->pending = 0;
		s->failed = 0;
		if (!instance_down(s))
			instance_event(s, IE_STOP);
	}
	/* The old one was being stopped for it: it serves again. */
	if (app->old_stopped && app->reload_slot < app->ninst)
		instance_event(app->inst[app->reload_slot], IE_START);
	app->reloading = 0;
	app->reload_memory = 0;
	app->reload_failed = 0;
	app->reload_interrupted = 0;
	app->old_stopped = 0;
	return (1);
}

/*
 * Is a reload that a user asked for under way (or waiting for a
 * max_memory replacement to end)?  Only then are a restart, a scale or
 * a new spec refused.
 */
int
reload_by_user(const struct app *app)
{
	return (app->reloading && (!app->reload_memory || app->reload_queued));
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
	if (reload_cancel(app) && app->reload_queued) {
		/* The pmc reload that waited for it is interrupted. */
		app->reload_queued = 0;
		app->reload_failed = 1;
		app->reload_interrupted = 1;
		strlcpy(app->reload_reason, why, sizeof(app->reload_reason));
	}
	if (!app->reloading)
		return;
	if (!app->reload_failed) {
		app->reload_failed = 1;
		app->reload_interrupted = 1;
		strlcpy(app->reload_reason, why, sizeof(app->reload_reason));
	}
	if (app->surge != NULL) {
		app->surge->failed = 1;
		instance_event(app->surge, IE_STOP);
	}
}

/* Drop the sockets and spec the app no longer uses. */
static void
release_old(struct app *app, int revert)
{
	struct app_spec	*spec;
	int		*fds;
	size_t		 nfds;

	if (app->old_spec == NULL)
		return;
	if (revert) {
		spec = app->spec;
		fds = app->fds;
		nfds = app->nfds;
		app->spec = app->old_spec;
		app->fds = app->old_fds;
		app->nfds = app->old_nfds;
	} else {
		spec = app->old_spec;
		fds = app->old_fds;
		nfds = app->old_nfds;
	}
	app_close_fds(spec, fds, nfds, app->fds, app->nfds);
	free(fds);
	app_spec_free(spec);
	app->old_spec = NULL;
	app->old_fds = NULL;
	app->old_nfds = 0;
}

/* Slots past the old count start; slots past the new count stop. */
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
		} else if (i >= n && !app->inst[i]->doomed) {
			app->inst[i]->doomed = 1;
			instance_event(app->inst[i], IE_STOP);
		}
	}
	app->ninst = total;
}

/*
 * Start the slots held stopped: all of them after a success; after a
 * failure only those that were waiting to restart.
 */
static void
release_held(struct app *app, int failed, int interrupted)
{
	struct instance	*in;
	size_t		 i;

	for (i = 0; i < app->ninst; i++) {
		in = app->inst[i];
		if (!in->held)
			continue;
		if (!in->doomed && !interrupted && (!failed || in->held == 2)) {
			in->pending = 1;
			in->failed = 0;
			instance_event(in, IE_RESTART);
		}
		in->held = 0;
	}
}

/* A max_memory replacement ended: pace the next try after a failure. */
static void
finish_memory(struct app *app)
{
	const struct app_spec	*s = app->spec;
	struct instance		*in;

	app->reloading = 0;
	app->reload_memory = 0;
	if (!app->reload_failed || app->reload_interrupted ||
	    app->reload_slot >= app->ninst)
		return;		/* done, or the app was asked to stop */
	in = app->inst[app->reload_slot];
	log_warnx("%s[%d]: replacement failed: %s; the old instance keeps "
	    "running, next try in %llums", s->name, in->slot,
	    app->reload_reason, (unsigned long long)in->delay_ms);
	in->memory_retry_ms = now_ms() + in->delay_ms;
	in->delay_ms = backoff_next(s, in->delay_ms);
	in->memory_failures++;
	/* Nobody asked for it: no client reports it as a reload's. */
	app->reload_failed = app->reload_interrupted;
}

static void
finish(struct app *app)
{
	int	 revert = app->reload_failed && app->reload_done == 0;

	if (app->reload_memory) {
		finish_memory(app);
		goto queued;
	}
	if (app->reload_failed) {
		log_warnx("%s: reload failed: %s; %s", app->spec->name,
		    app->reload_reason, revert ? "kept the old instances" :
		    "kept the instances replaced so far");
	} else
		log_info("%s: reloaded", app->spec->name);
	release_old(app, revert);
	if (!revert)
		resize(app, !app->reload_interrupted);
	app->reloading = 0;
	/* Interrupted by a stop: what it held stays stopped. */
	release_held(app, app->reload_failed, app->reload_interrupted);
queued:
	/* A pmc reload that came during a max_memory replacement. */
	if (app->reload_queued) {
		app->reload_queued = 0;
		if (!app->reload_interrupted)
			reload_begin(app, NULL, NULL, 0);
	}
}

/* The surge failed: once it is gone, so is the reload. */
static int
surge_failed(struct app *app)
{
	struct instance	*s = app->surge;
	struct instance	*old = app->inst[app->reload_slot];

	if (!instance_down(s))
		return (0);	/* still stopping, or its group draining */
	/* The old one was being stopped for it: it serves again. */
	if (app->old_stopped && !app->reload_interrupted) {
		old->pending = 1;
		instance_event(old, IE_START);
	}
	app->old_stopped = 0;
	if (!app->reload_failed) {
		app->reload_failed = 1;
		snprintf(app->reload_reason, sizeof(app->reload_reason),
		    "new %s[%d]: %.200s", app->spec->name, s->slot,
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
	struct instance	*old = app->inst[app->reload_slot];
	struct instance	*s = app->surge;

	if (old->state == IS_ONLINE || old->state == IS_STARTING ||
	    old->state == IS_BACKOFF) {
		instance_event(old, IE_STOP);
		app->old_stopped = 1;
	}
	if (!instance_down(old))
		return (0);
	s->restarts = old->restarts;
	s->cpu_total_ticks += old->cpu_total_ticks;
	s->replaced_ms = now_ms();	/* max_memory paces from here */
	if (app->reload_memory) {
		/* A restart, as far as counts and pacing go. */
		s->restarts++;
		s->streak = old->streak + 1;
		s->delay_ms = backoff_next(app->spec, old->delay_ms);
		strlcpy(s->reason, app->reload_why, sizeof(s->reason));
		log_info("%s[%d]: replaced, new pid %d", app->spec->name,
		    s->slot, (int)s->pid);
	}
	instance_free(old);
	app->inst[app->reload_slot] = s;
	s->surge = 0;
	s->pending = 0;
	app->surge = NULL;
	app->old_stopped = 0;
	app->reload_slot++;
	app->reload_done++;
	return (1);
}

/* Start the surge for the next slot that has a running instance. */
static int
next_slot(struct app *app)
{
	struct instance	*old, *s;
	size_t		 n = (size_t)app->spec->instances;

	if (n > app->reload_end)
		n = app->reload_end;
	for (; app->reload_slot < app->ninst && app->reload_slot < n;
	    app->reload_slot++) {
		old = app->inst[app->reload_slot];
		if (old->doomed)
			continue;
		if (old->state == IS_ONLINE || old->state == IS_STARTING)
			break;
		if (app->reload_memory)
			continue;	/* it no longer runs: nothing to do */
		/*
		 * Nothing serves in this slot: hold it stopped, so that no
		 * process of the new spec runs before the reload succeeds;
		 * finish() starts it then (or, failed, as it was).
		 */
		if (!old->held)
			old->held = old->state == IS_BACKOFF ? 2 : 1;
		if (old->state != IS_STOPPING)
			instance_event(old, IE_STOP);
	}
	if (app->reload_slot >= app->ninst || app->reload_slot >= n) {
		finish(app);
		return (0);
	}
	s = instance_new(app, (int)app->reload_slot);
	s->surge = 1;
	s->pending = 1;
	app->surge = s;
	instance_event(s, IE_START);
	return (1);
}

static void
reload_step(struct app *app)
{
	for (;;) {
		if (!drop_cancelled(app))
			return;		/* a cancelled one still stops */
		if (app->surge == NULL) {
			if (app->reload_failed) {
				finish(app);
				return;
			}
			if (!next_slot(app))
				return;
			continue;
		}
		if (app->surge->failed || instance_down(app->surge)) {
			app->surge->failed = 1;
			if (!instance_down(app->surge) &&
			    app->surge->state != IS_STOPPING)
				instance_event(app->surge, IE_STOP);
			surge_failed(app);
			return;
		}
		if (app->surge->state != IS_ONLINE || !surge_ready(app))
			return;
	}
}

/* Advance every reload under way; called after each round of events. */
void
reloads_step(void)
{
	struct app	*app;

	TAILQ_FOREACH(app, &sv->apps, entry) {
		if (app->reloading)
			reload_step(app);
		else
			drop_cancelled(app);
	}
}
