/*
 * drain.c -- health for load balancers and orchestrators, and draining.
 *
 * An app is healthy when it is not drained and at least min_online of
 * its instances (all of them, when it has fewer) are online; pmcd's
 * HTTP listener answers GET /health (every app) and /health/APP with 200
 * or 503 and one line saying why (metrics.c serves them).
 *
 * `pmc drain APP` makes its health 503, so that a balancer checking it
 * stops sending new connections; the instances go on serving.  `pmc
 * drain --wait` returns once no new connection has come for a quiet
 * period.  The connections are counted by the app's eBPF balancing
 * program (bal_connections), which sees every new one; without eBPF, by
 * the network namespace's TCP passive opens (/proc/net/snmp) less those
 * of pmcd's own HTTP listener (conn.c counts them), which also counts
 * any other server of the namespace.  While an app is drained its count is read every
 * DRAIN_TICK_MS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "drain.h"
#include "events.h"
#include "log.h"
#include "pmcd.h"

#define DRAIN_TICK_MS	100

static struct timer	 tick;
static int		 tick_set;

/* The namespace's TCP passive opens, less our HTTP listener's. */
static int
passive_opens(uint64_t *n)
{
	char		 names[1024], values[1024], *np, *vp, *k, *v;
	FILE		*f;
	int		 rc = -1;

	if ((f = fopen("/proc/net/snmp", "re")) == NULL)
		return (-1);
	while (fgets(names, sizeof(names), f) != NULL) {
		if (strncmp(names, "Tcp:", 4) != 0 ||
		    fgets(values, sizeof(values), f) == NULL)
			continue;
		np = names;
		vp = values;
		while ((k = strsep(&np, " \n")) != NULL &&
		    (v = strsep(&vp, " \n")) != NULL)
			if (strcmp(k, "PassiveOpens") == 0) {
				*n = strtoull(v, NULL, 10) -
				    conn_inet_accepted();
				rc = 0;
				break;
			}
		break;
	}
	fclose(f);
	return (rc);
}

/* The connections app was sent so far, by whichever count it has. */
static int
connections(struct app *app, uint64_t *n)
{
	if (balance_connections(app, n) == 0) {
		app->drain_source = "ebpf";
		return (0);
	}
	app->drain_source = "netns";
	return (passive_opens(n));
}

static void
drain_tick(void *arg)
{
	struct app	*app;
	uint64_t	 n, now = now_ms();
	int		 any = 0;

	(void)arg;
	TAILQ_FOREACH(app, &sv->apps, entry) {
		if (!app->drained)
			continue;
		any = 1;
		if (connections(app, &n) == -1)
			continue;
		if (!app->drain_counted || n != app->drain_count) {
			/* A count that went back (a counter wrapped, or
			 * pmcd's own accepts overtook): moved, by one. */
			if (app->drain_counted)
				app->drain_seen += n > app->drain_count ?
				    n - app->drain_count : 1;
			app->drain_count = n;
			app->drain_changed_ms = now;
			app->drain_counted = 1;
		}
	}
	if (any)
		timer_start(&tick, DRAIN_TICK_MS);
}

void
drain_set(struct app *app, int on)
{
	if (app->drained == on)
		return;
	app->drained = on;
	app->drain_counted = 0;
	app->drain_seen = 0;
	app->drain_ms = app->drain_changed_ms = now_ms();
	log_info("%s: %s", app->spec->name, on ? "drained: health 503, "
	    "instances serving" : "undrained");
	if (events_wanted())
		events_emit(on ? "drain" : "undrain", app->spec->name, -1,
		    NULL, 0);
	if (!tick_set) {
		timer_set(&tick, drain_tick, NULL);
		tick_set = 1;
	}
	if (on && !timer_armed(&tick))
		drain_tick(NULL);
}

int
drain_quiet(const struct app *app, uint64_t quiet_ms)
{
	uint64_t	 now = now_ms();

	return (app->drained && app->drain_counted &&
	    now - app->drain_changed_ms >= quiet_ms);
}

/* One line on app's health to why; 1 when healthy. */
static int
app_health(const struct app *app, struct pbuf *why)
{
	size_t		 i;
	unsigned int	 total = 0, online = 0, need;

	for (i = 0; i < app->ninst; i++) {
		if (instance_dropped(app->inst[i]))
			continue;
		total++;
		online += app->inst[i]->state == IS_ONLINE;
	}
	need = app->spec->min_online < total ? app->spec->min_online : total;
	if (app->drained) {
		pbuf_printf(why, "%s: drained", app->spec->name);
		return (0);
	}
	if (online < need || total == 0) {
		pbuf_printf(why, "%s: %u/%u online, min_online %u",
		    app->spec->name, online, total, app->spec->min_online);
		return (0);
	}
	pbuf_printf(why, "%s: %u/%u online", app->spec->name, online, total);
	return (1);
}

int
health_text(const char *name, struct pbuf *body)
{
	struct app	*app;
	struct pbuf	 bad = { 0 }, line = { 0 };
	int		 napps = 0, code = 200;

	if (name != NULL) {
		if ((app = app_find(name)) == NULL || app->deleting) {
			pbuf_printf(body, "%s: no such app\n", name);
			return (404);
		}
		code = app_health(app, &line) ? 200 : 503;
		pbuf_printf(body, "%s: %.*s\n", code == 200 ? "ok" :
		    "unhealthy", (int)line.len, line.data);
		pbuf_free(&line);
		return (code);
	}
	TAILQ_FOREACH(app, &sv->apps, entry) {
		if (app->deleting)
			continue;
		napps++;
		line.len = 0;
		if (app_health(app, &line))
			continue;
		pbuf_printf(&bad, "%s%.*s", code == 503 ? "; " : "",
		    (int)line.len, line.data);
		code = 503;
	}
	if (code == 200)
		pbuf_printf(body, "ok: %d app%s healthy\n", napps,
		    napps == 1 ? "" : "s");
	else
		pbuf_printf(body, "unhealthy: %.*s\n", (int)bad.len, bad.data);
	pbuf_free(&bad);
	pbuf_free(&line);
	return (code);
}

void
drain_describe(const struct app *app, struct pbuf *out)
{
	if (!app->drained)
		return;
	pbuf_printf(out, "drained: for %llu s, %llu new connection%s since "
	    "(counted by %s), none for %llu ms\n",
	    (unsigned long long)((now_ms() - app->drain_ms) / 1000),
	    (unsigned long long)app->drain_seen,
	    app->drain_seen == 1 ? "" : "s",
	    app->drain_source != NULL ? app->drain_source : "nothing yet",
	    (unsigned long long)(now_ms() - app->drain_changed_ms));
}
