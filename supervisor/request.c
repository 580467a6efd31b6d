/*
 * request.c -- the requests of the control socket, one handler a type,
 * and the outcome a client waits for: instances online or failed, apps
 * stopped or gone, a reload ended.  control.c reads a request, hands it
 * to handler_find's handler, and re-checks the waiting clients after
 * every round of the loop.
 */
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "control.h"
#include "events.h"
#include "home.h"
#include "human.h"
#include "json.h"
#include "log.h"
#include "drain.h"
#include "pmcd.h"
#include "state.h"
#include "specfile.h"

/* --- waiting for an outcome ------------------------------------------------ */

static void
wait_for(struct client *c, enum wait_kind kind)
{
	c->wait = kind;
}

static void
wait_add(struct client *c, const char *name)
{
	char	**names;

	names = reallocarray(c->names, c->nnames + 1, sizeof(*names));
	if (names == NULL || (names[c->nnames] = strdup(name)) == NULL)
		fatal("wait_add");
	c->names = names;
	c->nnames++;
}

static int
count_state(const struct app *app, enum istate s)
{
	size_t	 i;
	int	 k = 0;

	for (i = 0; i < app->ninst; i++)
		k += app->inst[i]->state == s && !instance_dropped(app->inst[i]);
	return (k);
}

/* Tell how a start went: online count, and each failure's reason. */
static int
report_start(struct client *c, const struct app *app)
{
	const struct instance	*in;
	char			 buf[512];
	size_t			 i;
	int			 bad = 0, online = count_state(app, IS_ONLINE);

	for (i = 0; i < app->ninst; i++) {
		in = app->inst[i];
		if (instance_dropped(in) || (in->state == IS_ONLINE && !in->failed))
			continue;
		if (in->state == IS_STOPPED && !in->failed)
			continue;
		reply_errf(c, "%s[%d]: %s (%s)", app->spec->name, in->slot,
		    in->reason[0] != '\0' ? in->reason : "did not start",
		    istate_name(in->state));
		bad = 1;
	}
	if (reload_status(app, buf, sizeof(buf))) {
		reply_errf(c, "%s: %s", app->spec->name, buf);
		bad = 1;
	}
	snprintf(buf, sizeof(buf), "%s: %d/%d online\n", app->spec->name,
	    online, app->spec->instances);
	reply_text(c, MSG_OUT, buf);
	return (bad);
}

int
client_settled(struct client *c)
{
	struct app	*app;
	size_t		 i;

	if (c->wait == WAIT_KILL)
		return (apps_all_stopped());
	if (c->wait == WAIT_DRAIN) {
		if (now_ms() >= c->deadline_ms)
			return (1);
		for (i = 0; i < c->nnames; i++)
			if ((app = app_find(c->names[i])) != NULL &&
			    !app->deleting && !drain_quiet(app, c->quiet_ms))
				return (0);
		return (1);
	}
	for (i = 0; i < c->nnames; i++) {
		if ((app = app_find(c->names[i])) == NULL)
			continue;
		if (c->wait == WAIT_DELETE || reload_running(app))
			return (0);
		if (!app_settled(app, c->wait == WAIT_STOP))
			return (0);
	}
	return (1);
}

/* drain --wait's outcome for one app: 1 when it was not quiet. */
static int
report_drain(struct client *c, const char *name, const struct app *app)
{
	if (app == NULL || app->deleting) {
		reply_outf(c, "%s: deleted\n", name);
		return (0);
	}
	if (!app->drained) {
		reply_errf(c, "%s: undrained while waiting", name);
		return (1);
	}
	if (drain_quiet(app, c->quiet_ms)) {
		reply_outf(c, "%s: drained, no new connection for %llu ms\n",
		    name, (unsigned long long)c->quiet_ms);
		return (0);
	}
	reply_errf(c, "%s: drained, but still sent new connections (%llu "
	    "since the drain) at the timeout", name,
	    (unsigned long long)app->drain_seen);
	return (1);
}

void
client_finish(struct client *c)
{
	struct app	*app;
	size_t		 i;
	int		 status = c->wait_status;
	char		 buf[256];

	for (i = 0; i < c->nnames; i++) {
		app = app_find(c->names[i]);
		if (c->wait == WAIT_DRAIN)
			status |= report_drain(c, c->names[i], app);
		else if ((c->wait == WAIT_START || c->wait == WAIT_RELOAD) &&
		    app != NULL)
			status |= report_start(c, app);
		else if (c->wait == WAIT_STOP && app != NULL) {
			snprintf(buf, sizeof(buf), "%s: stopped\n",
			    c->names[i]);
			reply_text(c, MSG_OUT, buf);
		} else if (c->wait == WAIT_DELETE) {
			snprintf(buf, sizeof(buf), "%s: deleted\n",
			    c->names[i]);
			reply_text(c, MSG_OUT, buf);
		}
	}
	if (c->wait == WAIT_KILL)
		reply_text(c, MSG_OUT, "pmcd: every app stopped, exiting\n");
	c->wait = WAIT_NONE;
	reply_exit(c, status);
}

void
client_wait_free(struct client *c)
{
	size_t	 i;

	for (i = 0; i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
}

/* --- requests --------------------------------------------------------------- */

static void
do_ping(struct client *c, const char **f, int n)
{
	(void)f;
	(void)n;
	reply_text(c, MSG_OUT, "pong\n");
	reply_exit(c, 0);
}

static void
free_specs(struct spec **specs, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		spec_free(specs[i]);
	free(specs);
}

/* Apply specs as `pmc start` does, and wait for the outcome. */
static void
apply_and_wait(struct client *c, struct spec **specs, size_t nspecs,
    int prune)
{
	struct pbuf	 perr = { 0 }, out = { 0 };
	struct app	**victims = NULL;
	size_t		 i, j, nvictims = 0;

	for (i = 0; i < nspecs; i++)
		for (j = 0; j < specs[i]->napps; j++)
			wait_add(c, specs[i]->apps[j]->name);
	if (prune)
		victims = apps_pruned(specs, nspecs, &nvictims);
	if (app_apply(specs, nspecs, victims, nvictims,
	    &perr, &out) == -1) {
		reply_errs(c, &perr);
		reply_exit(c, 1);
	} else {
		for (i = 0; i < nvictims; i++) {
			pbuf_printf(&out, "%s: deleted (no longer in %s)\n",
			    victims[i]->spec->name, victims[i]->file);
			wait_add(c, victims[i]->spec->name);
			app_delete(victims[i]);
		}
		if (out.len > 0) {
			pbuf_add(&out, "", 1);
			reply_text(c, MSG_OUT, out.data);
		}
		wait_for(c, WAIT_START);
	}
	free(victims);
	pbuf_free(&perr);
	pbuf_free(&out);
}

/*
 * Parse the files of a MSG_START or MSG_RESURRECT, each as three fields
 * (real path, content, answers): as root, only files that no one but
 * root can change (specfile.h).  0, or -1 with every error replied.
 */
static int
parse_files(struct client *c, const char **f, int n, struct spec **specs,
    size_t *nspecs)
{
	struct spec_errors	 errs = { NULL, 0 };
	char			 why[PATH_MAX + 160];
	size_t			 i;
	int			 k;

	*nspecs = 0;
	for (k = 0; k + 2 < n; k += 3) {
		if (geteuid() == 0 && specfile_trusted(f[k], geteuid(), why,
		    sizeof(why)) == -1)
			spec_errors_add(&errs, "%s", why);
		else if (specfile_parse(f[k], f[k + 1], f[k + 2],
		    &specs[*nspecs], &errs) == 0)
			(*nspecs)++;
	}
	for (i = 0; i < errs.count; i++)
		reply_text(c, MSG_ERR, errs.msgs[i]);
	if (errs.count == 0)
		return (0);
	spec_errors_clear(&errs);
	while (*nspecs > 0)
		spec_free(specs[--*nspecs]);
	reply_exit(c, 1);
	return (-1);
}

/*
 * In flags (words a space apart), the word name, or name=VALUE: "" or
 * VALUE (a static buffer), or NULL when it is not there.
 */
static const char *
flag_value(const char *flags, const char *name)
{
	static char	 v[SPEC_NAME_MAX + 1];
	const char	*p = flags, *e;
	size_t		 n = strlen(name), len;

	while (*p != '\0') {
		e = p + strcspn(p, " ");
		len = (size_t)(e - p);
		if (len >= n && strncmp(p, name, n) == 0 &&
		    (len == n || p[n] == '=')) {
			snprintf(v, sizeof(v), "%.*s", len > n ?
			    (int)(len - n - 1) : 0, p + n + 1);
			return (v);
		}
		p = *e == ' ' ? e + 1 : e;
	}
	return (NULL);
}

static void
do_start(struct client *c, const char **f, int n)
{
	struct spec	**specs;
	size_t		 nspecs;
	int		 rc;

	if (n < 4 || (n - 1) % 3 != 0) {
		reply_text(c, MSG_ERR, "start: expected flags, then path, "
		    "content and answers of each file");
		reply_exit(c, 2);
		return;
	}
	if ((specs = calloc((size_t)n / 3 + 1, sizeof(*specs))) == NULL)
		fatal("calloc");
	/* flags: "prune", "env=NAME", a space apart */
	spec_set_env(flag_value(f[0], "env"));
	rc = parse_files(c, f + 1, n - 1, specs, &nspecs);
	spec_set_env(NULL);
	if (rc == 0) {
		apply_and_wait(c, specs, nspecs, flag_value(f[0], "prune") !=
		    NULL);
		free_specs(specs, nspecs);
	} else
		free(specs);
}

static void
do_save(struct client *c, const char **f, int n)
{
	char	 why[PATH_MAX + 256], path[PATH_MAX];
	size_t	 saved;

	if (n != 1) {
		reply_text(c, MSG_ERR, "save: expected a flags field");
		reply_exit(c, 2);
		return;
	}
	if (dump_save(strcmp(f[0], "force") == 0, &saved, why,
	    sizeof(why)) == -1) {
		reply_text(c, MSG_ERR, why);
		reply_exit(c, 1);
		return;
	}
	pmc_dump_path(path, sizeof(path));
	reply_outf(c, "saved %zu app%s to %s\n", saved, saved == 1 ? "" : "s",
	    path);
	reply_exit(c, 0);
}

/* pmc read the dump (an empty one is not sent) and looked its names up. */
static void
do_resurrect(struct client *c, const char **f, int n)
{
	struct spec	*spec[1];
	size_t		 nspecs;

	if (n != 3) {
		reply_text(c, MSG_ERR, "resurrect: expected the dump's path, "
		    "content and answers");
		reply_exit(c, 2);
		return;
	}
	if (parse_files(c, f, n, spec, &nspecs) == 0) {
		apply_and_wait(c, spec, 1, 0);
		spec_free(spec[0]);
	}
}

static void
do_list(struct client *c, const char **f, int n)
{
	struct app	*app;
	struct instance	*in;
	struct pbuf	 rec = { 0 };
	size_t		 i;
	uint64_t	 up;

	(void)f;
	(void)n;
	sample_fresh();
	TAILQ_FOREACH(app, &sv->apps, entry) {
		for (i = 0; i <= app->ninst; i++) {
			/* A reload's new instance follows the others. */
			in = i < app->ninst ? app->inst[i] : app->surge;
			if (in == NULL)
				continue;
			up = in->pid != 0 ? now_ms() - in->started_ms : 0;
			rec.len = 0;
			pbuf_printf(&rec, "%s\t%d\t%d\t%s\t%u\t%llu\t%.1f\t%llu"
			    "\t%s\t%s\t%u", app->spec->name, in->slot,
			    (int)in->pid, istate_name(in->state),
			    in->restarts, (unsigned long long)up,
			    in->pid != 0 ? in->cpu : 0,
			    (unsigned long long)(in->pid != 0 ? in->rss : 0),
			    balance_name(app->spec->balance),
			    balance_engine(app), in->state == IS_ONLINE ?
			    balance_weight(app, in->slot) : 0);
			pbuf_add(&rec, "", 1);
			reply(c, MSG_DATA, rec.data, rec.len);
		}
	}
	pbuf_free(&rec);
	reply_exit(c, 0);
}

/* The apps named in f[0..n-1], or all of them for "all". */
static struct app **
resolve(struct client *c, const char **f, int n, size_t *count, int *bad)
{
	struct app	**apps, *app;
	size_t		 k = 0, total = 0;
	int		 i, all = 0;

	TAILQ_FOREACH(app, &sv->apps, entry)
		total++;
	for (i = 0; i < n; i++)
		all |= strcmp(f[i], "all") == 0;
	if ((apps = calloc(total + (size_t)n + 1, sizeof(*apps))) == NULL)
		fatal("calloc");
	*bad = 0;
	if (all) {
		TAILQ_FOREACH(app, &sv->apps, entry)
			if (!app->deleting)
				apps[k++] = app;
	} else
		for (i = 0; i < n; i++) {
			if ((app = app_find(f[i])) == NULL || app->deleting) {
				reply_errf(c, "%s: no such app", f[i]);
				*bad = 1;
			} else
				apps[k++] = app;
		}
	*count = k;
	return (apps);
}

/* resolve, for a request of app names: NULL (answered) when none. */
static struct app **
named(struct client *c, const char **f, int n, size_t *count, int *bad)
{
	if (n < 1) {
		reply_text(c, MSG_ERR, "expected an app name or all");
		reply_exit(c, 2);
		return (NULL);
	}
	return (resolve(c, f, n, count, bad));
}

static void
do_verb(struct client *c, const char **f, int n, uint32_t type)
{
	struct app	**apps;
	size_t		 i, k;
	int		 bad;

	if ((apps = named(c, f, n, &k, &bad)) == NULL)
		return;
	for (i = 0; i < k; i++) {
		if (type == MSG_RESTART && reload_by_user(apps[i])) {
			reply_errf(c, "%s: a reload is under way; wait for it "
			    "to end, or stop the app", apps[i]->spec->name);
			bad = 1;
			continue;
		}
		wait_add(c, apps[i]->spec->name);
		if (type == MSG_STOP)
			app_stop(apps[i]);
		else if (type == MSG_RESTART)
			app_restart(apps[i]);
		else
			app_delete(apps[i]);
	}
	c->wait_status = bad;
	wait_for(c, type == MSG_STOP ? WAIT_STOP : type == MSG_RESTART ?
	    WAIT_START : WAIT_DELETE);
	free(apps);
}

static void
do_stop(struct client *c, const char **f, int n)
{
	do_verb(c, f, n, MSG_STOP);
}

static void
do_restart(struct client *c, const char **f, int n)
{
	do_verb(c, f, n, MSG_RESTART);
}

static void
do_delete(struct client *c, const char **f, int n)
{
	do_verb(c, f, n, MSG_DELETE);
}

/*
 * drain FLAGS QUIET_MS TIMEOUT_MS NAME...|all: health 503; with "wait",
 * the answer once no new connection came for QUIET_MS.
 */
static void
do_drain(struct client *c, const char **f, int n)
{
	struct app	**apps;
	const char	*e1 = NULL, *e2 = NULL;
	long long	 quiet = 0, timeout = 0;
	size_t		 i, k;
	int		 bad, wait;

	if (n >= 3) {
		quiet = strtonum(f[1], 0, 86400000, &e1);
		timeout = strtonum(f[2], 0, 86400000, &e2);
	}
	if (n < 4 || (strcmp(f[0], "") != 0 && strcmp(f[0], "wait") != 0) ||
	    e1 != NULL || e2 != NULL) {
		reply_text(c, MSG_ERR, "drain: expected flags, quiet ms, "
		    "timeout ms, then app names or all");
		reply_exit(c, 2);
		return;
	}
	wait = strcmp(f[0], "wait") == 0;
	apps = resolve(c, f + 3, n - 3, &k, &bad);
	for (i = 0; i < k; i++) {
		drain_set(apps[i], 1);
		if (wait)
			wait_add(c, apps[i]->spec->name);
		else
			reply_outf(c, "%s: drained\n", apps[i]->spec->name);
	}
	free(apps);
	if (!wait || k == 0) {
		reply_exit(c, bad);
		return;
	}
	c->wait_status = bad;
	c->quiet_ms = (uint64_t)quiet;
	c->deadline_ms = now_ms() + (uint64_t)timeout;
	wait_for(c, WAIT_DRAIN);
}

static void
do_undrain(struct client *c, const char **f, int n)
{
	struct app	**apps;
	size_t		 i, k;
	int		 bad;

	if ((apps = named(c, f, n, &k, &bad)) == NULL)
		return;
	for (i = 0; i < k; i++) {
		drain_set(apps[i], 0);
		reply_outf(c, "%s: undrained\n", apps[i]->spec->name);
	}
	free(apps);
	reply_exit(c, bad);
}

static void
do_kill(struct client *c, const char **f, int n)
{
	(void)f;
	(void)n;
	log_info("stopping every app and exiting (pmc kill)");
	sdnotify_stopping();
	sv->stopping = 1;
	apps_stop_all();
	wait_for(c, WAIT_KILL);
}

static void
do_describe(struct client *c, const char **f, int n)
{
	struct app	*app;
	struct pbuf	 out = { 0 };

	if (n != 1) {
		reply_text(c, MSG_ERR, "describe: expected one app name");
		reply_exit(c, 2);
		return;
	}
	if ((app = app_find(f[0])) == NULL) {
		reply_errf(c, "%s: no such app", f[0]);
		reply_exit(c, 1);
		return;
	}
	app_describe(app, &out);
	pbuf_add(&out, "", 1);
	reply_text(c, MSG_OUT, out.data);
	pbuf_free(&out);
	reply_exit(c, 0);
}

/* reload [nowait] NAME...|all */
static void
do_reload(struct client *c, const char **f, int n)
{
	struct app	**apps;
	size_t		 i, k;
	int		 bad, nowait;

	if (n < 2) {
		reply_text(c, MSG_ERR, "reload: expected flags and app names");
		reply_exit(c, 2);
		return;
	}
	nowait = strcmp(f[0], "nowait") == 0;
	for (i = 1; i < (size_t)n; i++)
		if (strcmp(f[i], "all") == 0)
			sdnotify_reloading();
	apps = resolve(c, f + 1, n - 1, &k, &bad);
	for (i = 0; i < k; i++) {
		/* Queued: it follows the max_memory replacement under
		 * way, and answers as started. */
		if (reload_request(apps[i]) == RELOAD_BUSY) {
			reply_errf(c, "%s: a reload is already under way",
			    apps[i]->spec->name);
			bad = 1;
			continue;
		}
		wait_add(c, apps[i]->spec->name);
		if (nowait)
			reply_outf(c, "%s: reload started\n",
			    apps[i]->spec->name);
	}
	free(apps);
	c->wait_status = bad;
	if (nowait) {
		reply_exit(c, bad);
		return;
	}
	wait_for(c, WAIT_RELOAD);
}

/* scale NAME N|+N|-N */
static void
do_scale(struct client *c, const char **f, int n)
{
	struct app	*app;
	struct pbuf	 errs = { 0 };
	const char	*errstr;
	long long	 v;
	int		 to;

	if (n != 2) {
		reply_text(c, MSG_ERR, "scale: expected an app name and a count");
		reply_exit(c, 2);
		return;
	}
	if ((app = app_find(f[0])) == NULL || app->deleting) {
		reply_errf(c, "%s: no such app", f[0]);
		reply_exit(c, 1);
		return;
	}
	v = strtonum(f[1] + (f[1][0] == '+' || f[1][0] == '-'), 0,
	    SPEC_INSTANCES_MAX, &errstr);
	to = f[1][0] == '+' ? app->spec->instances + (int)v :
	    f[1][0] == '-' ? app->spec->instances - (int)v : (int)v;
	if (errstr != NULL || to < 1 || to > SPEC_INSTANCES_MAX) {
		reply_errf(c, "scale: %s: expected a count from 1 to %d, or "
		    "+N or -N, got \"%s\"", f[0], SPEC_INSTANCES_MAX, f[1]);
		reply_exit(c, 2);
		return;
	}
	if (app_scale(app, to, &errs) == -1) {
		reply_errs(c, &errs);
		pbuf_free(&errs);
		reply_exit(c, 1);
		return;
	}
	pbuf_free(&errs);
	wait_add(c, app->spec->name);
	wait_for(c, WAIT_START);
}

/* signal SIG NAME...|all */
static void
do_signal(struct client *c, const char **f, int n)
{
	struct app	**apps;
	struct instance	*in;
	size_t		 i, j, k;
	int		 bad, sig, sent;

	if (n < 2) {
		reply_text(c, MSG_ERR, "signal: expected a signal and names");
		reply_exit(c, 2);
		return;
	}
	if ((sig = parse_signal(f[0])) <= 0) {
		reply_errf(c, "signal: unknown signal \"%s\"", f[0]);
		reply_exit(c, 2);
		return;
	}
	apps = resolve(c, f + 1, n - 1, &k, &bad);
	for (i = 0; i < k; i++) {
		sent = 0;
		for (j = 0; j <= apps[i]->ninst; j++) {
			in = j < apps[i]->ninst ? apps[i]->inst[j] :
			    apps[i]->surge;
			if (in == NULL || in->pid == 0)
				continue;
			if (killpg(in->pid, sig) == 0)
				sent++;
		}
		reply_outf(c, "%s: sent %s to %d instance%s\n",
		    apps[i]->spec->name, signal_name(sig), sent,
		    sent == 1 ? "" : "s");
	}
	free(apps);
	reply_exit(c, bad);
}

/* flush [NAME...|all] */
static void
do_flush(struct client *c, const char **f, int n)
{
	static const char	*all[] = { "all" };
	struct app		**apps;
	struct pbuf		 errs = { 0 };
	size_t			 i, k;
	int			 bad;

	apps = n == 0 ? resolve(c, all, 1, &k, &bad) : resolve(c, f, n, &k,
	    &bad);
	for (i = 0; i < k; i++) {
		if (logs_flush(apps[i]->spec, &errs) == -1) {
			reply_errs(c, &errs);
			errs.len = 0;
			bad = 1;
		} else
			reply_outf(c, "%s: logs flushed\n",
			    apps[i]->spec->name);
	}
	pbuf_free(&errs);
	free(apps);
	reply_exit(c, bad);
}

static void
do_reopen(struct client *c, const char **f, int n)
{
	struct pbuf	 errs = { 0 };
	int		 bad;

	(void)f;
	(void)n;
	bad = logs_reopen(&errs) == -1;
	if (bad)
		reply_errs(c, &errs);
	else
		reply_text(c, MSG_OUT, "log files reopened\n");
	pbuf_free(&errs);
	reply_exit(c, bad);
}

/* logs [NAME...]: where each app's files are, for pmc logs to read. */
static void
do_logs(struct client *c, const char **f, int n)
{
	static const char	*all[] = { "all" };
	struct app		**apps;
	struct pbuf		 rec = { 0 };
	char			 path[PATH_MAX];
	size_t			 i, k;
	int			 bad, err;

	apps = n == 0 ? resolve(c, all, 1, &k, &bad) : resolve(c, f, n, &k,
	    &bad);
	for (i = 0; i < k; i++)
		for (err = 0; err < 2; err++) {
			logs_path(apps[i]->spec, err, path, sizeof(path));
			rec.len = 0;
			pbuf_printf(&rec, "%s\t%s\t%s\t%u",
			    apps[i]->spec->name, err ? "err" : "out", path,
			    apps[i]->spec->log_keep);
			pbuf_add(&rec, "", 1);
			reply(c, MSG_DATA, rec.data, rec.len);
		}
	pbuf_free(&rec);
	free(apps);
	reply_exit(c, bad);
}

static void
do_metrics(struct client *c, const char **f, int n)
{
	struct pbuf	 out = { 0 };

	(void)f;
	(void)n;
	sample_fresh();
	metrics_text(&out);
	pbuf_add(&out, "", 1);
	reply_text(c, MSG_OUT, out.data);
	pbuf_free(&out);
	reply_exit(c, 0);
}

/* events [json] [NAME...]: stream events until the client goes. */
static void
do_events(struct client *c, const char **f, int n)
{
	char	 why[128];
	int	 i, bad = 0;

	if (n < 1 || (strcmp(f[0], "") != 0 && strcmp(f[0], "json") != 0)) {
		reply_text(c, MSG_ERR, "events: expected flags \"\" or "
		    "\"json\", then app names");
		reply_exit(c, 2);
		return;
	}
	for (i = 1; i < n; i++)
		if (app_find(f[i]) == NULL) {
			reply_errf(c, "%s: no such app", f[i]);
			bad = 1;
		}
	if (bad) {
		reply_exit(c, 1);
		return;
	}
	if (events_subscribe(c, f[0][0] != '\0', f + 1, n - 1, why,
	    sizeof(why)) == -1) {
		reply_text(c, MSG_ERR, why);
		reply_exit(c, 1);
	}
}

/*
 * send TARGET JSON: TARGET is an app, "app:N" or "all"; JSON one value,
 * sent compact (one line) to each instance's channel.
 */
static void
do_send(struct client *c, const char **f, int n)
{
	struct app	**apps, *one = NULL;
	struct instance	*in;
	const char	*why, *colon, *errstr = NULL;
	char		 name[SPEC_NAME_MAX + 1], cwhy[128], *flat;
	size_t		 at, i, j, k, len;
	long long	 slot = -1;
	int		 bad = 0, sent = 0;

	if (n != 2) {
		reply_text(c, MSG_ERR, "send: expected a target and a JSON "
		    "value");
		reply_exit(c, 2);
		return;
	}
	len = strlen(f[1]);
	if (json_check(f[1], len, &at, &why) == -1) {
		reply_errf(c, "send: not a JSON value: %s expected at "
		    "character %zu", why, at + 1);
		reply_exit(c, 2);
		return;
	}
	if (len > CHANNEL_MSG_MAX) {
		reply_errf(c, "send: %zu bytes: at most %d", len,
		    CHANNEL_MSG_MAX);
		reply_exit(c, 2);
		return;
	}
	if ((colon = strrchr(f[0], ':')) != NULL) {
		slot = strtonum(colon + 1, 0, SPEC_INSTANCES_MAX - 1, &errstr);
		if (errstr != NULL || (size_t)(colon - f[0]) > SPEC_NAME_MAX) {
			reply_errf(c, "send: %s: expected NAME, NAME:INSTANCE "
			    "or all", f[0]);
			reply_exit(c, 2);
			return;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(colon - f[0]), f[0]);
	} else
		strlcpy(name, f[0], sizeof(name));
	{
		const char	*nf[1] = { name };

		apps = resolve(c, nf, 1, &k, &bad);
	}
	if ((flat = malloc(len + 1)) == NULL)
		fatal("malloc");
	len = json_compact(f[1], len, flat);
	for (i = 0; i < k; i++) {
		one = apps[i];
		if (slot >= one->spec->instances) {
			reply_errf(c, "%s: no instance %lld (it has %d)",
			    one->spec->name, slot, one->spec->instances);
			bad = 1;
			continue;
		}
		for (j = 0; j < one->ninst; j++) {
			in = one->inst[j];
			if ((slot >= 0 && in->slot != slot) ||
			    instance_dropped(in))
				continue;
			/* A reload's new instance takes it in its place. */
			if (one->surge != NULL && one->surge->slot == in->slot &&
			    one->surge->state == IS_ONLINE)
				in = one->surge;
			if (channel_send(in, flat, len, -1, cwhy,
			    sizeof(cwhy)) == -1) {
				reply_errf(c, "%s[%d]: %s", one->spec->name,
				    in->slot, cwhy);
				bad = 1;
			} else
				sent++;
		}
	}
	free(flat);
	free(apps);
	if (k > 0)
		reply_outf(c, "sent to %d instance%s\n", sent,
		    sent == 1 ? "" : "s");
	reply_exit(c, bad);
}

static const struct handler handlers[] = {
	{ MSG_PING, do_ping },
	{ MSG_START, do_start },
	{ MSG_LIST, do_list },
	{ MSG_DESCRIBE, do_describe },
	{ MSG_STOP, do_stop },
	{ MSG_RESTART, do_restart },
	{ MSG_DELETE, do_delete },
	{ MSG_KILL, do_kill },
	{ MSG_RELOAD, do_reload },
	{ MSG_SCALE, do_scale },
	{ MSG_SIGNAL, do_signal },
	{ MSG_SAVE, do_save },
	{ MSG_RESURRECT, do_resurrect },
	{ MSG_FLUSH, do_flush },
	{ MSG_REOPEN, do_reopen },
	{ MSG_LOGS, do_logs },
	{ MSG_METRICS, do_metrics },
	{ MSG_EVENTS, do_events },
	{ MSG_SEND, do_send },
	{ MSG_UPDATE, update_request },
	{ MSG_DRAIN, do_drain },
	{ MSG_UNDRAIN, do_undrain },
};

const struct handler *
handler_find(uint32_t type)
{
	size_t	 i;

	for (i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (handlers[i].type == type)
			return (&handlers[i]);
	return (NULL);
}
