/*
 * restore.c -- the new pmcd's side of `pmc update`: read the state the
 * old binary wrote to a memfd (state.h) and take over its apps,
 * instances and descriptors, then answer the client that asked.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channel.h"
#include "control.h"
#include "drain.h"
#include "events.h"
#include "log.h"
#include "pmcd.h"
#include "state.h"

static struct client	*asker;
static char		 binary[PATH_MAX];

static struct app *
load_app(const struct state_rec *r, char *why, size_t len)
{
	struct spec_errors	 errs = { NULL, 0 };
	struct spec		*spec;
	struct app_spec		*as;
	struct app		*app;
	const char		*yaml, *file = rec_str(r, "file");
	size_t			 ylen, nfds = rec_unum(r, "nfds"), i;
	size_t			 ninst = rec_unum(r, "ninst");
	int			*fds;

	yaml = rec_bytes(r, "yaml", &ylen);
	if (nfds > 65536 || ninst > 65536) {
		snprintf(why, len, "app %s: %zu sockets, %zu instances",
		    rec_str(r, "name"), nfds, ninst);
		return (NULL);
	}
	if (spec_parse(file, yaml, ylen, &spec, &errs) == -1 ||
	    spec->napps != 1) {
		snprintf(why, len, "app %s: %s", rec_str(r, "name"),
		    errs.count > 0 ? errs.msgs[0] : "not one app");
		spec_errors_clear(&errs);
		if (spec != NULL)
			spec_free(spec);
		return (NULL);
	}
	as = spec->apps[0];
	spec->napps = 0;
	spec_free(spec);
	as->pm2 = rec_num(r, "pm2") != 0;
	if (*rec_str(r, "env") != '\0' &&
	    (as->envname = strdup(rec_str(r, "env"))) == NULL)
		fatal("strdup");
	if ((fds = calloc(nfds + 1, sizeof(*fds))) == NULL)
		fatal("calloc");
	for (i = 0; i < nfds; i++)
		fds[i] = -1;
	app = app_adopt(as, file, fds, nfds, ninst);
	if (rec_num(r, "drained") != 0) {
		/* Counted again from here: the programs' counters are new. */
		drain_set(app, 1);
		app->drain_ms = rec_unum(r, "drain_ms");
		app->drain_seen = rec_unum(r, "drain_seen");
	}
	return (app);
}

static void
load_held(struct instance *in, const char *list)
{
	char	*dup, *p, *tok;

	if (*list == '\0')
		return;
	if ((dup = strdup(list)) == NULL)
		fatal("strdup");
	for (p = dup; (tok = strsep(&p, ",")) != NULL; ) {
		if ((in->held = reallocarray(in->held, in->nheld + 1,
		    sizeof(*in->held))) == NULL)
			fatal("reallocarray");
		in->held[in->nheld++] = (ino_t)strtoull(tok, NULL, 10);
	}
	free(dup);
}

static struct instance *
load_instance(struct app *app, const struct state_rec *r)
{
	struct instance	*in;
	long long	 slot = rec_num(r, "slot"), st = rec_num(r, "istate");
	uint64_t	 when, now = now_ms();

	if (app == NULL || slot < 0 || (size_t)slot >= app->ninst ||
	    st < 0 || st >= IS_NSTATES)
		return (NULL);
	in = app->inst[slot];
	in->state = (enum istate)st;
	in->pid = (pid_t)rec_num(r, "pid");
	in->last_pid = (pid_t)rec_num(r, "last_pid");
	in->pgid = (pid_t)rec_num(r, "pgid");
	in->pgid_start = rec_unum(r, "pgid_start");
	in->draining = (int)rec_num(r, "draining");
	in->killed = (int)rec_num(r, "killed");
	in->exec_fd = rec_fd(r, "exec_fd");
	load_held(in, rec_str(r, "held"));
	in->failed = (int)rec_num(r, "failed");
	in->restarts = (unsigned int)rec_unum(r, "restarts");
	in->streak = (unsigned int)rec_unum(r, "streak");
	in->delay_ms = rec_unum(r, "delay_ms");
	in->started_ms = rec_unum(r, "started_ms");
	in->started_wall_ms = rec_num(r, "started_wall_ms");
	in->exited_ms = rec_unum(r, "exited_ms");
	in->exited_wall_ms = rec_num(r, "exited_wall_ms");
	in->wstatus = (int)rec_num(r, "wstatus");
	strlcpy(in->reason, rec_str(r, "reason"), sizeof(in->reason));
	strlcpy(in->status_text, rec_str(r, "status_text"),
	    sizeof(in->status_text));
	in->cluster_online = (int)rec_num(r, "cluster_online");
	in->disconnecting = (int)rec_num(r, "disconnecting");
	in->cpu_base_us = rec_num(r, "cpu_base_us");
	in->cpu_old_us = rec_num(r, "cpu_old_us");
	in->cpu_total_us = rec_unum(r, "cpu_total_us");
	in->old_pgid = (pid_t)rec_num(r, "old_pgid");
	in->memory_retry_ms = rec_unum(r, "memory_retry_ms");
	in->replaced_ms = rec_unum(r, "replaced_ms");
	in->over_ms = rec_unum(r, "over_ms");
	in->memory_failures = (unsigned int)rec_unum(r, "memory_failures");
	if ((when = rec_unum(r, "timer")) != 0)	/* the same clock */
		timer_start(&in->timer, when > now ? when - now : 0);
	if (in->pid != 0) {
		pids_add(in);
		sample_arm(in);
	}
	return (in);
}

static int
load_cluster(struct app *app, const struct state_rec *r)
{
	struct cluster_sock	*cs;

	if (app == NULL || rec_fd(r, "fd") == -1)
		return (-1);
	if ((cs = reallocarray(app->cluster, app->ncluster + 1,
	    sizeof(*cs))) == NULL)
		fatal("reallocarray");
	app->cluster = cs;
	cs += app->ncluster++;
	strlcpy(cs->key, rec_str(r, "key"), sizeof(cs->key));
	cs->fd = rec_fd(r, "fd");
	return (0);
}

/* One record; -1 with why when it cannot be taken. */
static int
load(const struct state_rec *r, struct app **app, struct instance **in,
    char *why, size_t len)
{
	long long	 i;

	if (strcmp(r->kind, "pmcd") == 0) {
		sv->lock_fd = rec_fd(r, "lock");
		sv->nofile.rlim_cur = rec_unum(r, "nofile_cur");
		sv->nofile.rlim_max = rec_unum(r, "nofile_max");
		strlcpy(binary, rec_str(r, "binary"), sizeof(binary));
	} else if (strcmp(r->kind, "control") == 0 ||
	    strcmp(r->kind, "client") == 0 || strcmp(r->kind, "sub") == 0) {
		if (control_load(r, &asker) == -1 && strcmp(r->kind, "control") == 0) {
			snprintf(why, len, "no control socket");
			return (-1);
		}
	} else if (strcmp(r->kind, "notify") == 0)
		notify_load(r);
	else if (strcmp(r->kind, "metrics") == 0)
		metrics_load(r);
	else if (strcmp(r->kind, "app") == 0) {
		*in = NULL;
		if ((*app = load_app(r, why, len)) == NULL)
			return (-1);
	} else if (strcmp(r->kind, "afd") == 0) {
		i = rec_num(r, "i");
		if (*app == NULL || i < 0 || (size_t)i >= (*app)->nfds)
			goto bad;
		(*app)->fds[i] = rec_fd(r, "fd");
	} else if (strcmp(r->kind, "csock") == 0) {
		if (load_cluster(*app, r) == -1)
			goto bad;
	} else if (strcmp(r->kind, "bslot") == 0) {
		if (*app == NULL)
			goto bad;
		balance_load(*app, r);
	} else if (strcmp(r->kind, "inst") == 0) {
		if ((*in = load_instance(*app, r)) == NULL)
			goto bad;
	} else if (strcmp(r->kind, "chan") == 0 ||
	    strcmp(r->kind, "chanmsg") == 0) {
		if (*in == NULL || channel_load(*in, r) == -1)
			goto bad;
	} else if (strcmp(r->kind, "pipe") == 0) {
		if (logs_load(r) == -1)
			goto bad;
	}
	/* Other kinds are a newer pmcd's: nothing for us. */
	return (0);
bad:
	snprintf(why, len, "a \"%s\" record out of place", r->kind);
	return (-1);
}

int
state_restore(int fd, char *why, size_t len)
{
	struct state_rec	 r;
	struct app		*app = NULL;
	struct instance		*in = NULL;
	FILE			*f;
	char			*line = NULL, wbuf[256];
	size_t			 cap = 0, ninst = 0, napps = 0;
	int			 version = -1, n = 0, ended = 0, rc = -1;

	if ((f = fdopen(fd, "r")) == NULL) {
		snprintf(why, len, "state fd %d: %s", fd, strerror(errno));
		return (-1);
	}
	if (getline(&line, &cap, f) == -1 ||
	    sscanf(line, "pmcd-state %d", &version) != 1 ||
	    version != PMCD_STATE_VERSION) {
		snprintf(why, len, "state version %d, this pmcd reads %d",
		    version, PMCD_STATE_VERSION);
		goto out;
	}
	for (n = 2; getline(&line, &cap, f) != -1; n++) {
		if (strcmp(line, "end\n") == 0) {
			ended = 1;
			break;
		}
		if (state_parse(line, &r) == -1) {
			snprintf(why, len, "line %d: malformed", n);
			goto out;
		}
		if (load(&r, &app, &in, wbuf, sizeof(wbuf)) == -1) {
			snprintf(why, len, "line %d: %s", n, wbuf);
			goto out;
		}
	}
	if (!ended) {
		snprintf(why, len, "line %d: the state ends early", n);
		goto out;
	}
	TAILQ_FOREACH(app, &sv->apps, entry) {
		app_cron(app);
		watch_sync(app);
		napps++;
		ninst += app->ninst;
	}
	leftover_changed();
	log_info("pmcd %ld updated: running %s; %zu app%s, %zu instance%s "
	    "kept", (long)getpid(), binary, napps, napps == 1 ? "" : "s",
	    ninst, ninst == 1 ? "" : "s");
	if (events_wanted()) {
		struct ev_field	 ef[] = {
			EV_STR("binary", binary),
			EV_NUM("pid", getpid()),
			EV_NUM("instances", ninst)
		};

		events_emit("update", NULL, -1, ef, 3);
	}
	if (asker != NULL) {
		reply_outf(asker, "pmcd %ld updated: running %s; %zu "
		    "instance%s kept\n", (long)getpid(), binary, ninst,
		    ninst == 1 ? "" : "s");
		reply_exit(asker, 0);
		asker = NULL;
	}
	rc = 0;
out:
	free(line);
	fclose(f);
	return (rc);
}
