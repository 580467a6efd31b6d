/*
 * app.c -- apps: applying a spec (all or nothing), their listen sockets,
 * and the verbs that act on every instance of an app.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cron.h"
#include "events.h"
#include "home.h"
#include "listen.h"
#include "log.h"
#include "pmcd.h"

#define DRAIN_MAX_MS	2000	/* a deleted app's queues: no longer */
#define DRAIN_STEP_MS	10
#define DRAIN_EMPTY	2	/* checks in a row that find nothing queued */

/* One app of a MSG_START while it is being applied: what changes. */
struct change {
	struct app_spec	*spec;
	const char	*file;
	struct app	*old;		/* running app of that name, or NULL */
	int		*fds;		/* the socket layout for spec */
	size_t		 nfds;
	int		*reused;	/* fds[i] was taken from old */
	int		 unchanged;
	int		 scale_only;	/* only `instances` differs */
};

/*
 * --prune hands over: a socket of an app about to be deleted that the
 * new spec wants goes to the new app, so that renaming an app in its
 * file drops no connection.
 */
struct handover {
	struct app	*from;
	size_t		 k;		/* index in from->fds */
};

struct apply {
	struct app	**victims;
	size_t		 nvictims;
	struct handover	*ho;
	size_t		 nho;
};

struct app *
app_find(const char *name)
{
	struct app	*app;

	TAILQ_FOREACH(app, &sv->apps, entry)
		if (strcmp(app->spec->name, name) == 0)
			return (app);
	return (NULL);
}

/* The old socket serving the same address (and slot) as new one i. */
static int
take_old_fd(struct change *p, size_t i, int *taken)
{
	const struct app_spec	*ns = p->spec, *os;
	size_t			 k;

	if (p->old == NULL)
		return (-1);
	os = p->old->spec;
	if (os->balance != ns->balance)
		return (-1);
	for (k = 0; k < p->old->nfds; k++) {
		if (taken[k] || p->old->fds[k] == -1)
			continue;
		if (strcmp(layout_addr(os, k)->text,
		    layout_addr(ns, i)->text) != 0)
			continue;
		if (BALANCE_PER_SLOT(ns->balance) &&
		    k / os->nlisten != i / ns->nlisten)
			continue;
		taken[k] = 1;
		return (p->old->fds[k]);
	}
	return (-1);
}

/* A socket of an app about to be pruned, serving new socket i. */
static int
take_victim_fd(struct apply *ctx, const struct app_spec *ns, size_t i)
{
	struct app	*v;
	size_t		 a, k, h;

	for (a = 0; a < ctx->nvictims; a++) {
		v = ctx->victims[a];
		if (v->spec->balance != ns->balance)
			continue;
		for (k = 0; k < v->nfds; k++) {
			if (v->fds[k] == -1 || strcmp(layout_addr(v->spec,
			    k)->text, layout_addr(ns, i)->text) != 0)
				continue;
			if (BALANCE_PER_SLOT(ns->balance) &&
			    k / v->spec->nlisten != i / ns->nlisten)
				continue;
			for (h = 0; h < ctx->nho; h++)
				if (ctx->ho[h].from == v && ctx->ho[h].k == k)
					break;
			if (h < ctx->nho)
				continue;
			ctx->ho[ctx->nho].from = v;
			ctx->ho[ctx->nho++].k = k;
			return (v->fds[k]);
		}
	}
	return (-1);
}

static int
open_sockets(struct change *p, struct apply *ctx, struct pbuf *errs)
{
	const struct app_spec	*s = p->spec;
	char			 why[256];
	int			*taken = NULL;
	size_t			 i;

	p->nfds = layout_size(s);
	p->fds = calloc(p->nfds + 1, sizeof(int));
	p->reused = calloc(p->nfds + 1, sizeof(int));
	if (p->old != NULL)
		taken = calloc(p->old->nfds + 1, sizeof(int));
	if (p->fds == NULL || p->reused == NULL ||
	    (p->old != NULL && taken == NULL))
		fatal("calloc");
	for (i = 0; i < p->nfds; i++)
		p->fds[i] = -1;
	for (i = 0; i < p->nfds; i++) {
		if ((p->fds[i] = take_old_fd(p, i, taken)) != -1 ||
		    (p->fds[i] = take_victim_fd(ctx, s, i)) != -1) {
			p->reused[i] = 1;
			continue;
		}
		p->fds[i] = listen_open(s, layout_addr(s, i),
		    BALANCE_PER_SLOT(s->balance), why, sizeof(why));
		if (p->fds[i] == -1) {
			pbuf_printf(errs, "%s: listen %s", s->name, why);
			pbuf_add_field(errs, "");
			free(taken);
			return (-1);
		}
	}
	free(taken);
	return (0);
}

static void
close_new_sockets(struct change *p)
{
	size_t	 i;

	for (i = 0; i < p->nfds; i++)
		if (!p->reused[i] && p->fds[i] != -1)
			listen_close(layout_addr(p->spec, i), p->fds[i]);
}

static void
app_close_sockets(struct app *app)
{
	layout_close(app->spec, app->fds, app->nfds, NULL, 0);
	free(app->fds);
	app->fds = NULL;
	app->nfds = 0;
}

/* Two apps on one address: within this request, or with a running app. */
static int
is_victim(const struct apply *ctx, const struct app *app)
{
	size_t	 i;

	for (i = 0; i < ctx->nvictims; i++)
		if (ctx->victims[i] == app)
			return (1);
	return (0);
}

/*
 * A running app cannot switch balance on an address it keeps: the old
 * socket (with or without SO_REUSEPORT) blocks the new ones.
 */
static int
check_balance(const struct change *p, struct pbuf *errs)
{
	const struct app_spec	*os, *ns = p->spec;
	size_t			 a, b;

	if (p->old == NULL || p->old->spec->balance == ns->balance)
		return (0);
	os = p->old->spec;
	for (a = 0; a < ns->nlisten; a++)
		for (b = 0; b < os->nlisten; b++)
			if (strcmp(ns->listen[a].text, os->listen[b].text) == 0)
				goto clash;
	return (0);
clash:
	pbuf_printf(errs, "%s: balance cannot change from %s to %s on %s "
	    "while the app runs; delete the app and start it again, or move "
	    "it to another address", ns->name, balance_name(os->balance),
	    balance_name(ns->balance), ns->listen[a].text);
	pbuf_add_field(errs, "");
	return (-1);
}

static int
check_conflicts(struct change *ps, size_t n, const struct apply *ctx,
    struct pbuf *errs)
{
	struct app	*app;
	size_t		 i, j, a, b;
	int		 bad = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(ps[i].spec->name, ps[j].spec->name) == 0) {
				pbuf_printf(errs, "%s: app defined in both %s "
				    "and %s", ps[i].spec->name, ps[j].file,
				    ps[i].file);
				pbuf_add_field(errs, "");
				bad = 1;
			}
			for (a = 0; a < ps[i].spec->nlisten; a++)
				for (b = 0; b < ps[j].spec->nlisten; b++)
					if (strcmp(ps[i].spec->listen[a].text,
					    ps[j].spec->listen[b].text) == 0) {
						pbuf_printf(errs, "%s: listen "
						    "%s is also used by app %s",
						    ps[i].spec->name,
						    ps[i].spec->listen[a].text,
						    ps[j].spec->name);
						pbuf_add_field(errs, "");
						bad = 1;
					}
		}
		if (check_balance(&ps[i], errs) == -1)
			bad = 1;
		TAILQ_FOREACH(app, &sv->apps, entry) {
			if (strcmp(app->spec->name, ps[i].spec->name) == 0 ||
			    is_victim(ctx, app))
				continue;
			for (a = 0; a < ps[i].spec->nlisten; a++)
				for (b = 0; b < app->spec->nlisten; b++)
					if (strcmp(ps[i].spec->listen[a].text,
					    app->spec->listen[b].text) == 0) {
						pbuf_printf(errs, "%s: listen "
						    "%s is already used by app "
						    "%s", ps[i].spec->name,
						    app->spec->listen[b].text,
						    app->spec->name);
						pbuf_add_field(errs, "");
						bad = 1;
					}
		}
	}
	return (bad ? -1 : 0);
}

/* Every app's log folders, each refusal said (logs.c). */
static int
check_logs(const struct change *ps, size_t n, struct pbuf *errs)
{
	size_t	 i;
	int	 bad = 0;

	for (i = 0; i < n; i++)
		if (logs_check(ps[i].spec, errs) == -1)
			bad = 1;
	return (bad ? -1 : 0);
}

static struct app *
app_new(struct change *p)
{
	struct app	*app;
	int		 i;

	if ((app = calloc(1, sizeof(*app))) == NULL)
		fatal("calloc");
	app->spec = p->spec;
	app->file = strdup(p->file);
	app->fds = p->fds;
	app->nfds = p->nfds;
	app->ninst = (size_t)p->spec->instances;
	app->inst = calloc(app->ninst, sizeof(*app->inst));
	if (app->file == NULL || app->inst == NULL)
		fatal("calloc");
	for (i = 0; i < p->spec->instances; i++)
		app->inst[i] = instance_new(app, i);
	TAILQ_INSERT_TAIL(&sv->apps, app, entry);
	app->rebalance = 1;
	return (app);
}

/*
 * pmc update: an app carried over, its instances still to be filled in
 * (restore.c).  Nothing starts; its cron and watches are set again.
 */
struct app *
app_adopt(struct app_spec *spec, const char *file, int *fds, size_t nfds,
    size_t ninst)
{
	struct app	*app;
	size_t		 i;

	if ((app = calloc(1, sizeof(*app))) == NULL)
		fatal("calloc");
	app->spec = spec;
	app->file = strdup(file);
	app->fds = fds;
	app->nfds = nfds;
	app->ninst = ninst;
	app->inst = calloc(ninst + 1, sizeof(*app->inst));
	if (app->file == NULL || app->inst == NULL)
		fatal("calloc");
	for (i = 0; i < ninst; i++)
		app->inst[i] = instance_new(app, (int)i);
	TAILQ_INSERT_TAIL(&sv->apps, app, entry);
	app->rebalance = 1;
	app->changed = 1;
	return (app);
}

static void
mark_pending(struct instance *in)
{
	in->pending = 1;
	in->failed = 0;
}

static void
app_start_stopped(struct app *app)
{
	size_t	 i;

	if (app->reload.kind == RELOAD_ALL)
		return;		/* it starts what it holds when it ends */
	/*
	 * A max_memory replacement keeps on with its one slot, an online
	 * one: the slots that do not run are not its business.
	 */
	reload_forget(app);
	instances_clear_verdicts(app);

	for (i = 0; i < app->ninst; i++) {
		if (app->inst[i]->state == IS_ONLINE ||
		    app->inst[i]->state == IS_STARTING ||
		    instance_dropped(app->inst[i]))
			continue;
		mark_pending(app->inst[i]);
		instance_event(app->inst[i], IE_START);
	}
}

static void
apply_one(struct change *p, struct pbuf *out)
{
	struct app	*app;
	struct pbuf	 errs = { 0 };
	size_t		 i;

	if (p->unchanged) {
		free(p->old->file);
		if ((p->old->file = strdup(p->file)) == NULL)
			fatal("strdup");
		app_start_stopped(p->old);
		pbuf_printf(out, "%s: unchanged\n", p->spec->name);
		app_spec_free(p->spec);
		return;
	}
	if (p->scale_only) {
		/* app_scale ends a max_memory replacement itself. */
		if (app_scale(p->old, p->spec->instances, &errs) == -1)
			log_warnx("%s: scaling failed", p->spec->name);
		else
			pbuf_printf(out, "%s: scaled to %d\n", p->spec->name,
			    p->spec->instances);
		p->old->spec->instances_mode = p->spec->instances_mode;
		p->old->spec->instances_arg = p->spec->instances_arg;
		pbuf_free(&errs);
		app_spec_free(p->spec);
		return;
	}
	if (p->old != NULL) {
		free(p->old->file);
		if ((p->old->file = strdup(p->file)) == NULL)
			fatal("strdup");
		reload_cancel(p->old);	/* the new spec replaces it all */
		reload_begin(p->old, p->spec, p->fds, p->nfds);
		for (i = 0; i < p->old->ninst; i++)
			p->old->inst[i]->failed = 0;
		pbuf_printf(out, "%s: spec changed, reloading\n",
		    p->spec->name);
		free(p->reused);
		return;
	}
	app = app_new(p);
	free(p->reused);
	log_info("%s: starting %d instance%s", app->spec->name,
	    app->spec->instances, app->spec->instances == 1 ? "" : "s");
	for (i = 0; i < app->ninst; i++) {
		mark_pending(app->inst[i]);
		instance_event(app->inst[i], IE_START);
	}
}

/*
 * The default balance, round-robin, needs sockets of its own: where the
 * service manager passed the address, the app shares that one.  Before
 * any comparison, so that a spec read again compares equal.
 */
static void
resolve_balance(struct app_spec *s)
{
	if (!s->balance_default || !BALANCE_PER_SLOT(s->balance) ||
	    !listen_adopted_for(s))
		return;
	log_info("%s: balance: shared, the default where the service manager "
	    "passed the socket", s->name);
	s->balance = BALANCE_SHARED;
}

static int	open_slot_sockets(struct app *, int, int, struct pbuf *);
static void	close_slot_sockets(struct app *, int);

/* A scale up of per-slot sockets: the new slots' sockets, or -1. */
static int
scale_sockets(struct change *p, struct pbuf *errs)
{
	if (!BALANCE_PER_SLOT(p->spec->balance) ||
	    p->spec->instances <= p->old->spec->instances)
		return (0);
	return (open_slot_sockets(p->old, p->old->spec->instances,
	    p->spec->instances, errs));
}

/* Undo scale_sockets: the request failed elsewhere. */
static void
unscale_sockets(struct change *p)
{
	int	 i;

	if (!BALANCE_PER_SLOT(p->spec->balance))
		return;
	for (i = p->spec->instances - 1; i >= p->old->spec->instances; i--)
		close_slot_sockets(p->old, i);
}

/* Equal but for the instance count: a change that scale can apply. */
static int
only_count_differs(const struct app_spec *a, const struct app_spec *b)
{
	struct app_spec	 t = *b;

	t.instances_mode = a->instances_mode;
	t.instances_arg = a->instances_arg;
	t.instances = a->instances;
	return (app_spec_equal(a, &t));
}

/*
 * Apply every app of specs, or nothing: conflicts and sockets are
 * checked first, and only when all is well does anything change.
 * The specs' apps are taken over (the spec structs are emptied).
 */
/* pmc events: a spec applied to app, or (app NULL) refused, with why. */
static void
spec_event(const char *app, const char *file, const char *outcome,
    const char *why)
{
	struct ev_field	 f[3] = {
		EV_STR("outcome", outcome), EV_STR("file", file),
		EV_STR("error", why != NULL ? why : "")
	};

	events_emit("spec", app, -1, f, why != NULL ? 3 : 2);
}

int
app_apply(struct spec **specs, size_t nspecs, struct app **victims,
    size_t nvictims, struct pbuf *errs, struct pbuf *out)
{
	struct change	*ps;
	struct apply	 ctx = { victims, nvictims, NULL, 0 };
	struct app	*v;
	size_t		 n = 0, i, j, nv;
	int		 rc = -1;

	for (i = 0; i < nspecs; i++)
		n += specs[i]->napps;
	for (i = 0, nv = 0; i < nvictims; i++)
		nv += victims[i]->nfds;
	if ((ps = calloc(n + 1, sizeof(*ps))) == NULL ||
	    (ctx.ho = calloc(nv + 1, sizeof(*ctx.ho))) == NULL)
		fatal("calloc");
	for (i = 0, n = 0; i < nspecs; i++)
		for (j = 0; j < specs[i]->napps; j++, n++) {
			ps[n].spec = specs[i]->apps[j];
			resolve_balance(ps[n].spec);
			ps[n].file = specs[i]->path;
			ps[n].old = app_find(ps[n].spec->name);
			if (ps[n].old != NULL && ps[n].old->deleting) {
				pbuf_printf(errs, "%s: is being deleted; "
				    "try again", ps[n].spec->name);
				pbuf_add_field(errs, "");
				goto out;
			}
			if (ps[n].old != NULL && reload_by_user(ps[n].old) &&
			    !app_spec_equal(ps[n].old->spec, ps[n].spec)) {
				pbuf_printf(errs, "%s: a reload is under way; "
				    "try again when it ends", ps[n].spec->name);
				pbuf_add_field(errs, "");
				goto out;
			}
		}
	if (check_conflicts(ps, n, &ctx, errs) == -1 ||
	    check_logs(ps, n, errs) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		ps[i].unchanged = ps[i].old != NULL &&
		    app_spec_equal(ps[i].old->spec, ps[i].spec);
		ps[i].scale_only = ps[i].old != NULL && !ps[i].unchanged &&
		    only_count_differs(ps[i].old->spec, ps[i].spec);
		if (!ps[i].unchanged && !ps[i].scale_only &&
		    open_sockets(&ps[i], &ctx, errs) == -1)
			break;
		/* Growing per-slot sockets: bound here, before anything
		 * changes; app_scale finds them open. */
		if (ps[i].scale_only && scale_sockets(&ps[i], errs) == -1)
			break;
	}
	if (i < n) {
		for (j = 0; j <= i; j++) {
			close_new_sockets(&ps[j]);
			if (ps[j].scale_only && j < i)
				unscale_sockets(&ps[j]);
			free(ps[j].fds);
			free(ps[j].reused);
		}
		goto out;
	}
	/* The handed-over sockets belong to their new apps now. */
	for (i = 0; i < ctx.nho; i++) {
		v = ctx.ho[i].from;
		reload_forget_fd(v, v->fds[ctx.ho[i].k]);
		v->fds[ctx.ho[i].k] = -1;
	}
	for (i = 0; i < n; i++) {
		spec_event(ps[i].spec->name, ps[i].file, ps[i].unchanged ?
		    "unchanged" : ps[i].old == NULL ? "started" : "changed",
		    NULL);
		apply_one(&ps[i], out);
	}
	for (i = 0; i < nspecs; i++)
		specs[i]->napps = 0;	/* the apps are ours now */
	TAILQ_FOREACH(v, &sv->apps, entry) {
		app_cron(v);
		watch_sync(v);
	}
	rc = 0;
out:
	if (rc == -1)
		spec_event(NULL, nspecs > 0 ? specs[0]->path : "", "refused",
		    errs->data);
	free(ctx.ho);
	free(ps);
	return (rc);
}

/* --- verbs on a running app ------------------------------------------------ */

void
app_stop(struct app *app)
{
	size_t	 i;

	reload_abort(app, "interrupted: the app was asked to stop");
	for (i = 0; i < app->ninst; i++)
		instance_event(app->inst[i], IE_STOP);
}

void
app_restart(struct app *app)
{
	size_t	 i;

	reload_cancel(app);	/* a max_memory one: the restart replaces it */
	reload_forget(app);		/* this request's outcome now */
	instances_clear_verdicts(app);
	for (i = 0; i < app->ninst; i++) {
		if (instance_dropped(app->inst[i]))
			continue;
		mark_pending(app->inst[i]);
		instance_event(app->inst[i], IE_RESTART);
	}
}

/* --- cron_restart ----------------------------------------------------------- */

static int64_t
wall_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* cron_restart's time: a rolling reload, as pmc reload does it. */
static void
cron_fire(void *arg)
{
	struct app	*app = arg;
	int64_t		 now = wall_now_ms();
	size_t		 i, up = 0;

	/* The wall clock was set back meanwhile: wait the rest. */
	if (now < app->cron_next * 1000) {
		timer_start(&app->cron, (uint64_t)(app->cron_next * 1000 - now));
		return;
	}
	for (i = 0; i < app->ninst; i++)
		up += app->inst[i]->state == IS_ONLINE;
	if (up == 0)
		log_info("%s: cron_restart: nothing online, no reload",
		    app->spec->name);
	else if (reload_request(app) == RELOAD_BUSY)
		log_info("%s: cron_restart: a reload is under way already",
		    app->spec->name);
	else
		log_info("%s: cron_restart \"%s\": reloading",
		    app->spec->name, app->spec->cron_restart);
	app_cron(app);
}

void
app_cron(struct app *app)
{
	struct cron	 c;
	int64_t		 now = wall_now_ms();
	time_t		 next;

	timer_stop(&app->cron);
	app->cron_next = 0;
	if (app->spec->cron_restart == NULL || app->deleting ||
	    cron_parse(app->spec->cron_restart, &c, NULL, NULL) == -1 ||
	    (next = cron_next(&c, (time_t)(now / 1000))) == (time_t)-1)
		return;
	app->cron_next = (int64_t)next;
	timer_set(&app->cron, cron_fire, app);
	timer_start(&app->cron, (uint64_t)((int64_t)next * 1000 - now));
}

/* Connections waiting in the app's accept queues. */
static unsigned int
app_queued(const struct app *app)
{
	unsigned int	 n = 0;
	size_t		 i;

	for (i = 0; i < app->nfds; i++)
		n += listen_queued(app->fds[i]);
	return (n);
}

static void
drain_step(void *arg)
{
	struct app	*app = arg;

	app->drain_empty = app_queued(app) == 0 ? app->drain_empty + 1 : 0;
	if (app->drain_empty >= DRAIN_EMPTY || now_ms() >= app->drain_until) {
		if (app->drain_empty < DRAIN_EMPTY)
			log_warnx("%s: %u connections still queued after %d ms; "
			    "stopping anyway", app->spec->name,
			    app_queued(app), DRAIN_MAX_MS);
		app_stop(app);
		return;
	}
	timer_start(&app->drain, DRAIN_STEP_MS);
}

/*
 * An app goes away without resetting a connection the kernel accepted
 * for it: its sockets take no new one (eBPF refuses them, else a filter
 * drops their SYNs), its instances, still running, accept what is
 * queued, and it is stopped once nothing is (or after DRAIN_MAX_MS:
 * an instance that is down cannot drain its slot's queue).
 */
const char *
app_file_env(const char *file)
{
	struct app	*app;

	TAILQ_FOREACH(app, &sv->apps, entry)
		if (!app->deleting && strcmp(app->file, file) == 0 &&
		    app->spec->envname != NULL)
			return (app->spec->envname);
	return (NULL);
}

void
app_delete(struct app *app)
{
	size_t	 i;
	int	 shut = 0, given = 0;

	app->deleting = 1;
	watch_free(app);
	for (i = 0; i < app->nfds; i++) {
		given |= app->fds[i] == -1;
		shut += listen_refuse(layout_addr(app->spec, i), app->fds[i]);
	}
	/* A socket handed over to a new app (--prune) keeps its group. */
	if (!given)
		balance_refuse(app);
	if (shut == 0) {
		app_stop(app);
		return;
	}
	app->drain_until = now_ms() + DRAIN_MAX_MS;
	app->drain_empty = 0;
	timer_set(&app->drain, drain_step, app);
	timer_start(&app->drain, 0);
}

void
apps_stop_all(void)
{
	struct app	*app;

	TAILQ_FOREACH(app, &sv->apps, entry)
		app_stop(app);
}

/*
 * Has every instance reached the end of what was asked of it?  For a
 * stop: stopped (or errored).  For a start: online, or failed.
 */
int
app_settled(const struct app *app, int for_stop)
{
	const struct instance	*in;
	size_t			 i;

	if (for_stop && app->surge != NULL && !instance_down(app->surge))
		return (0);
	for (i = 0; i < app->ninst; i++) {
		in = app->inst[i];
		/* A start waits only for what it started. */
		if (for_stop ? !instance_down(in) : in->pending &&
		    !(in->state == IS_ONLINE || in->failed || instance_down(in)))
			return (0);
	}
	return (1);
}

int
apps_all_stopped(void)
{
	struct app	*app;

	TAILQ_FOREACH(app, &sv->apps, entry)
		if (!app_settled(app, 1))
			return (0);
	return (1);
}

static void
app_free(struct app *app)
{
	size_t	 i;

	TAILQ_REMOVE(&sv->apps, app, entry);
	for (i = 0; i < app->ninst; i++)
		instance_free(app->inst[i]);
	if (app->surge != NULL)
		instance_free(app->surge);
	reload_free(app);
	balance_free(app);
	cluster_free(app);
	timer_stop(&app->drain);
	timer_stop(&app->cron);
	watch_free(app);
	app_close_sockets(app);
	free(app->inst);
	free(app->file);
	app_spec_free(app->spec);
	free(app);
}

/* Free deleted apps and dropped instances once they have stopped. */
void
apps_gc(void)
{
	struct app	*app, *next;

	TAILQ_FOREACH_SAFE(app, &sv->apps, entry, next) {
		if (app->deleting && app_settled(app, 1)) {
			log_info("%s: deleted", app->spec->name);
			app_free(app);
			continue;
		}
		while (app->ninst > 0 &&
		    app->inst[app->ninst - 1]->state == IS_DROPPED)
			instance_free(app->inst[--app->ninst]);
	}
}

void
apps_free_all(void)
{
	struct app	*app;

	while ((app = TAILQ_FIRST(&sv->apps)) != NULL)
		app_free(app);
}

/* --- scale ------------------------------------------------------------------- */

/* reuseport: the sockets of slots [from, to) into app->fds. */
static int
open_slot_sockets(struct app *app, int from, int to, struct pbuf *errs)
{
	const struct app_spec	*s = app->spec;
	size_t			 need = (size_t)to * s->nlisten, i, k;
	char			 why[256];
	int			*fds;

	if (need > app->nfds) {
		if ((fds = reallocarray(app->fds, need, sizeof(int))) == NULL)
			fatal("reallocarray");
		for (i = app->nfds; i < need; i++)
			fds[i] = -1;
		app->fds = fds;
		app->nfds = need;
	}
	for (i = (size_t)from * s->nlisten; i < need; i++) {
		if (app->fds[i] != -1)
			continue;
		app->fds[i] = listen_open(s, layout_addr(s, i), 1, why,
		    sizeof(why));
		if (app->fds[i] == -1) {
			pbuf_printf(errs, "%s: listen %s", s->name, why);
			pbuf_add_field(errs, "");
			for (k = (size_t)from * s->nlisten; k < i; k++) {
				listen_close(layout_addr(s, k), app->fds[k]);
				app->fds[k] = -1;
			}
			return (-1);
		}
	}
	return (0);
}

/*
 * reuseport: take slot's sockets out of the kernel's group first, so new
 * connections hash to the other slots; what is queued on them is moved
 * to the others when net.ipv4.tcp_migrate_req is 1, else reset.
 */
static void
close_slot_sockets(struct app *app, int slot)
{
	const struct app_spec	*s = app->spec;
	size_t			 j, i;

	for (j = 0; j < s->nlisten; j++) {
		i = (size_t)slot * s->nlisten + j;
		if (i >= app->nfds || app->fds[i] == -1)
			continue;
		shutdown(app->fds[i], SHUT_RD);
		listen_close(layout_addr(s, i), app->fds[i]);
		app->fds[i] = -1;
	}
}

/* Grow the instance array to n slots, new ones stopped. */
static void
grow(struct app *app, size_t n)
{
	struct instance	**inst;
	size_t		 i;

	if (n <= app->ninst)
		return;
	if ((inst = reallocarray(app->inst, n, sizeof(*inst))) == NULL)
		fatal("reallocarray");
	for (i = app->ninst; i < n; i++)
		inst[i] = instance_new(app, (int)i);
	app->inst = inst;
	app->ninst = n;
}

int
app_scale(struct app *app, int n, struct pbuf *errs)
{
	struct app_spec	*s = app->spec;
	int		 old = s->instances, i;

	if (reload_by_user(app)) {
		pbuf_printf(errs, "%s: a reload is under way; try again when "
		    "it ends", s->name);
		pbuf_add_field(errs, "");
		return (-1);
	}
	reload_cancel(app);	/* a max_memory replacement: scale instead */
	reload_forget(app);
	instances_clear_verdicts(app);
	if (n > old && BALANCE_PER_SLOT(s->balance) &&
	    open_slot_sockets(app, old, n, errs) == -1)
		return (-1);
	grow(app, (size_t)n);
	s->instances = n;
	/* The programs pass over the slots that go before their sockets
	 * close, and move what is queued on them to the others. */
	balance_sync(app);
	for (i = old; i < n; i++) {
		mark_pending(app->inst[i]);
		instance_event(app->inst[i], IE_REVIVE);
	}
	for (i = old - 1; i >= n; i--) {
		if (BALANCE_PER_SLOT(s->balance))
			close_slot_sockets(app, i);
		instance_event(app->inst[i], IE_DROP);
	}
	log_info("%s: scaled from %d to %d instance%s", s->name, old, n,
	    n == 1 ? "" : "s");
	{
		struct ev_field	 f[] = { EV_NUM("from", old), EV_NUM("to", n) };

		events_emit("scale", s->name, -1, f, 2);
	}
	s->instances_mode = INSTANCES_FIXED;
	s->instances_arg = n;
	return (0);
}

/* --prune: the running apps that came from one of specs' files and are
 * no longer in it. */
struct app **
apps_pruned(struct spec **specs, size_t nspecs, size_t *count)
{
	struct app	**v, *app;
	size_t		 n = 0, i, j, total = 0;
	int		 from, listed;

	TAILQ_FOREACH(app, &sv->apps, entry)
		total++;
	if ((v = calloc(total + 1, sizeof(*v))) == NULL)
		fatal("calloc");
	TAILQ_FOREACH(app, &sv->apps, entry) {
		from = listed = 0;
		for (i = 0; i < nspecs; i++) {
			from |= strcmp(app->file, specs[i]->path) == 0;
			for (j = 0; j < specs[i]->napps; j++)
				listed |= strcmp(app->spec->name,
				    specs[i]->apps[j]->name) == 0;
		}
		if (from && !listed && !app->deleting)
			v[n++] = app;
	}
	*count = n;
	return (v);
}
