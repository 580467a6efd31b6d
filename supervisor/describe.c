/*
 * describe.c -- `pmc describe`: an app's spec, its sockets, its log
 * files and each instance, as text for the user.
 */
#include <sys/socket.h>

#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bpf.h"
#include "channel.h"
#include "human.h"
#include "listen.h"
#include "drain.h"
#include "pmcd.h"
#include "specfield.h"

/* 850ms, 42s, 5m3s, 2h10m, 3d4h: how long an instance has been up. */
static void
format_uptime(uint64_t ms, char *buf, size_t len)
{
	uint64_t	 s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, len, "%llums", (unsigned long long)ms);
	else if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%llus", (unsigned long long)s / 60,
		    (unsigned long long)s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh%llum", (unsigned long long)s / 3600,
		    (unsigned long long)s % 3600 / 60);
	else
		snprintf(buf, len, "%llud%lluh", (unsigned long long)s / 86400,
		    (unsigned long long)s % 86400 / 3600);
}

/* "2026-11-22T02:13:18Z (12s ago)": when something happened. */
static void
format_when(int64_t wall, uint64_t mono, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t = (time_t)(wall / 1000);
	char		 ago[32], at[32];

	format_uptime(now_ms() - mono, ago, sizeof(ago));
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strlcpy(at, "?", sizeof(at));
	snprintf(buf, len, "%s (%s ago)", at, ago);
}

#define DESCRIBE_PIDS	64	/* shown per instance */

/* Who picks the instance for a connection, and how. */
static void
describe_balance(const struct app *app, struct pbuf *out)
{
	const struct app_spec	*s = app->spec;
	const char		*engine = balance_engine(app);
	const char		*why = balance_why(app);

	if (s->nlisten == 0)
		return;
	pbuf_printf(out, "balance: %s", balance_name(s->balance));
	switch (s->balance) {
	case BALANCE_SHARED:
		pbuf_printf(out, ": one queue, the kernel wakes an instance");
		break;
	case BALANCE_REUSEPORT:
		pbuf_printf(out, ": the kernel's hash of each connection");
		if (strcmp(engine, "ebpf") == 0)
			pbuf_printf(out, "; eBPF moves the connections queued "
			    "on a slot scaled away to the others");
		break;
	case BALANCE_ROUND_ROBIN:
		if (strcmp(engine, "ebpf") == 0)
			pbuf_printf(out, " by eBPF: exact turns over the "
			    "online instances");
		else if (strcmp(engine, "classic") == 0)
			pbuf_printf(out, " by classic BPF: random turns over "
			    "the online instances, even on average");
		break;
	case BALANCE_STICKY:
		if (strcmp(engine, "ebpf") == 0 ||
		    strcmp(engine, "classic") == 0)
			pbuf_printf(out, " by %s: %d buckets of client "
			    "addresses over the online instances",
			    strcmp(engine, "ebpf") == 0 ? "eBPF" :
			    "classic BPF", BAL_BUCKETS);
		break;
	}
	if (s->balance != BALANCE_SHARED && strcmp(engine, "kernel") == 0 &&
	    s->balance != BALANCE_REUSEPORT)
		pbuf_printf(out, ": no program attached");
	pbuf_printf(out, "\n");
	if (*why != '\0')
		pbuf_printf(out, "  %s\n", why);
}

/* cron_restart's next reload, in local time as the schedule is. */
static void
describe_cron(const struct app *app, struct pbuf *out)
{
	struct tm	 tm;
	time_t		 t = (time_t)app->cron_next;
	char		 at[64];

	if (app->spec->cron_restart == NULL)
		return;
	pbuf_printf(out, "cron_restart: %s", app->spec->cron_restart);
	if (app->cron_next != 0 && localtime_r(&t, &tm) != NULL &&
	    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%S%z", &tm) > 0)
		pbuf_printf(out, ", next reload at %s\n", at);
	else
		pbuf_printf(out, ", no time to come\n");
}

static void
describe_instance(const struct instance *in,
    const struct sample_members *m, struct pbuf *out)
{
	const struct app_spec	*s = in->app->spec;
	char			 up[32], mem[32], when[128];
	size_t			 n = 0, i;

	format_uptime(in->pid != 0 ? now_ms() - in->started_ms : 0, up,
	    sizeof(up));
	pbuf_printf(out, "  %s[%d]: %s", s->name, in->slot,
	    istate_name(in->state));
	if (in->pid != 0) {
		human_size(in->rss, mem, sizeof(mem));
		pbuf_printf(out, ", pid %d, up %s, cpu %.1f%%, memory %s",
		    (int)in->pid, up, in->cpu, mem);
	}
	if (s->balance == BALANCE_ROUND_ROBIN && s->slow_start_ms > 0 &&
	    in->state == IS_ONLINE)
		pbuf_printf(out, ", weight %u",
		    balance_weight(in->app, in->slot));
	pbuf_printf(out, ", %u restart%s\n", in->restarts,
	    in->restarts == 1 ? "" : "s");
	for (i = 0; in->pgid != 0 && i < m->n; i++) {
		if (m->in[i] != in)
			continue;
		if (n == DESCRIBE_PIDS) {
			pbuf_printf(out, " ...");
			break;
		}
		if (n++ == 0)
			pbuf_printf(out, "    process group %d:", (int)in->pgid);
		pbuf_printf(out, " %d", (int)m->pid[i]);
	}
	if (n > 0)
		pbuf_printf(out, "\n");
	if (in->reason[0] != '\0') {
		pbuf_printf(out, "    last: %s", in->reason);
		if (in->exited_ms != 0) {
			format_when(in->exited_wall_ms, in->exited_ms, when,
			    sizeof(when));
			pbuf_printf(out, ", at %s", when);
		}
		pbuf_printf(out, "\n");
	}
	if (in->status_text[0] != '\0')
		pbuf_printf(out, "    status: %s\n", in->status_text);
	if (s->channel) {
		pbuf_printf(out, "    channel: ");
		channel_describe(in, out);
		pbuf_printf(out, "\n");
	}
}

/* What a field left at its default means, for describe. */
static void
describe_default(const struct app *app, const char *field, char *buf,
    size_t len)
{
	buf[0] = '\0';
	/* Names looked up once at start: NSS may block, pmcd may not. */
	if (strcmp(field, "user") == 0 && sv->user[0] != '\0')
		snprintf(buf, len, "%s (pmcd's)", sv->user);
	else if (strcmp(field, "group") == 0 && sv->group[0] != '\0')
		snprintf(buf, len, "%s (pmcd's)", sv->group);
	else if (strcmp(field, "logs.out") == 0)
		logs_path(app->spec, 0, buf, len);
	else if (strcmp(field, "logs.err") == 0)
		logs_path(app->spec, 1, buf, len);
}

/* The sockets pmcd holds for the app, with what the kernel bound. */
static void
describe_sockets(const struct app *app, struct pbuf *out)
{
	const struct app_spec	*s = app->spec;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 host[64], serv[16], bound[96];
	size_t			 i;

	if (app->nfds == 0 && app->ncluster == 0)
		return;
	pbuf_printf(out, "sockets:\n");
	for (i = 0; i < app->ncluster; i++)
		pbuf_printf(out, "  %s (bound for Node's cluster)\n",
		    app->cluster[i].key);
	for (i = 0; i < app->nfds; i++) {
		if (app->fds[i] == -1)
			continue;
		pbuf_printf(out, "  %s", layout_addr(s, i)->text);
		if (BALANCE_PER_SLOT(s->balance))
			pbuf_printf(out, " (slot %zu)",
			    i / s->nlisten);
		sl = sizeof(ss);
		if (getsockname(app->fds[i], (struct sockaddr *)&ss,
		    &sl) == 0 && ss.ss_family != AF_UNIX &&
		    getnameinfo((struct sockaddr *)&ss, sl, host,
		    sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
			snprintf(bound, sizeof(bound), "%s%s%s:%s",
			    ss.ss_family == AF_INET6 ? "[" : "", host,
			    ss.ss_family == AF_INET6 ? "]" : "", serv);
			if (strcmp(bound, layout_addr(s, i)->text) != 0)
				pbuf_printf(out, ", bound %s", bound);
		}
		pbuf_printf(out, "\n");
	}
}

/* What describe shows of the spec: each value as "  field: value". */
struct describe_spec {
	const struct app	*app;
	struct pbuf		*out;
};

static void
describe_value(const struct spec_value *v, void *arg)
{
	const struct describe_spec	*d = arg;
	char				 fill[PATH_MAX];

	fill[0] = '\0';
	if (v->dflt)
		describe_default(d->app, v->name, fill, sizeof(fill));
	pbuf_printf(d->out, "  %s: %s\n", v->name, fill[0] != '\0' ? fill :
	    v->text);
}

void
app_describe(const struct app *app, struct pbuf *out)
{
	struct describe_spec	 d = { app, out };
	struct sample_members	 m;
	char			 path[PATH_MAX], why[512];
	size_t			 i;

	pbuf_printf(out, "app %s from %s\n", app->spec->name, app->file);
	pbuf_printf(out, "spec:\n");
	spec_values(app->spec, describe_value, &d);
	describe_sockets(app, out);
	describe_balance(app, out);
	describe_cron(app, out);
	watch_describe(app, out);
	drain_describe(app, out);
	logs_path(app->spec, 0, path, sizeof(path));
	pbuf_printf(out, "log files:\n  stdout: %s\n", path);
	logs_path(app->spec, 1, path, sizeof(path));
	pbuf_printf(out, "  stderr: %s\n", path);
	/* The figures of now, and one walk of the processes for every
	 * instance, not one each. */
	sample_fresh();
	sample_members(app, &m);
	pbuf_printf(out, "instances:\n");
	for (i = 0; i < app->ninst; i++)
		describe_instance(app->inst[i], &m, out);
	if (app->surge != NULL) {
		pbuf_printf(out, "%s, new instance:\n",
		    reload_surge_title(app));
		describe_instance(app->surge, &m, out);
	}
	sample_members_free(&m);
	if (app->surge == NULL && reload_status(app, why, sizeof(why)))
		pbuf_printf(out, "last %s\n", why);
}
