/*
 * specfield.c -- the fields of an app spec: one row each in spec_fields
 * (specfield.h), and the hooks of the fields that are more than their
 * kind: name, command, instances, listen, balance, env, user, group,
 * the ids these resolve to, backoff and ready.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpus.h"
#include "cron.h"
#include "human.h"
#include "lookup.h"
#include "specload.h"
#include "xmalloc.h"
#include "ytree.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define SPEC_STR1(x)	#x
#define SPEC_STR(x)	SPEC_STR1(x)

#define EXPECT_NAME	"1 to 64 letters, digits, \".\", \"_\" or \"-\""
#define EXPECT_COMMAND	"a command (a string or a list of strings)"
#define EXPECT_INST	"a positive integer or \"max\""
#define EXPECT_ENVNAME	"a variable name ([A-Za-z_][A-Za-z0-9_]*)"
#define EXPECT_READY	"auto, notify or delay:<duration>"
#define EXPECT_UTF8_UNIX \
	"a socket path that is UTF-8 text once made absolute"

static const struct spec_hooks name_hooks, command_hooks, instances_hooks,
    listen_hooks, balance_hooks, env_hooks, user_hooks, group_hooks,
    ids_hooks, backoff_hooks, ready_hooks, slow_start_hooks,
    node_cluster_hooks, cron_restart_hooks, watch_hooks,
    ignore_watch_hooks;

/* Words by value: the enums of spec.h. */
static const char *const balance_words[] = {
	"shared", "reuseport", "round-robin", "sticky", NULL
};
static const char *const restart_words[] = {
	"always", "on-failure", "never", NULL
};
static const char *const logs_to_words[] = {
	"auto", "file", "stdout", "both", NULL
};

#define APP(m)	offsetof(struct app_spec, m)

/*
 * The fields of an app, in the order they are dumped and written.  A
 * group's fields follow it.  name and command have no default.
 */
const struct spec_field spec_fields[] = {
	{ "name", SK_CUSTOM, APP(name), .flags = SF_REQUIRED | SF_NAME,
	    .expect = EXPECT_NAME, .hooks = &name_hooks },
	{ "command", SK_STRV, APP(argv), APP(argc),
	    .flags = SF_REQUIRED | SF_WORDS, .expect = EXPECT_COMMAND,
	    .hooks = &command_hooks },
	{ "cwd", SK_PATH, APP(cwd), .def = "." },
	{ "instances", SK_CUSTOM, APP(instances), .def = "1",
	    .expect = EXPECT_INST, .hooks = &instances_hooks },
	{ "listen", SK_CUSTOM, APP(listen), .flags = SF_LIST,
	    .expect = ADDR_EXPECT, .hooks = &listen_hooks },
	{ "balance", SK_ENUM, APP(balance), .def = "round-robin",
	    .words = balance_words, .hooks = &balance_hooks },
	{ "slow_start", SK_DURATION, APP(slow_start_ms), .def = "0",
	    .hooks = &slow_start_hooks },
	{ "intercept_bind", SK_BOOL, APP(intercept_bind), .def = "false" },
	{ "channel", SK_BOOL, APP(channel), .def = "true" },
	{ "node_cluster", SK_BOOL, APP(node_cluster), .def = "false",
	    .hooks = &node_cluster_hooks },
	{ "env", SK_STRV, APP(env), APP(nenv), .flags = SF_PAIRS,
	    .expect = "a mapping of names to values", .hooks = &env_hooks },
	{ "user", SK_STRING, APP(user), .hooks = &user_hooks },
	{ "group", SK_STRING, APP(group), .hooks = &group_hooks },
	{ "ids", SK_CUSTOM, APP(ids), .flags = SF_HIDDEN,
	    .hooks = &ids_hooks },
	{ "restart", SK_ENUM, APP(restart), .def = "always",
	    .words = restart_words },
	{ "backoff", SK_GROUP, .hooks = &backoff_hooks },
	{ "backoff.initial", SK_DURATION, APP(backoff_initial_ms),
	    .def = "100ms", .flags = SF_NONZERO },
	{ "backoff.max", SK_DURATION, APP(backoff_max_ms), .def = "30s" },
	{ "backoff.min_uptime", SK_DURATION, APP(backoff_min_uptime_ms),
	    .def = "1s", .flags = SF_NONZERO },
	{ "backoff.reset_after", SK_DURATION, APP(backoff_reset_ms),
	    .def = "30s" },
	{ "max_restarts", SK_COUNT, APP(max_restarts), .def = "0",
	    .max = INT_MAX },
	{ "min_online", SK_COUNT, APP(min_online), .def = "1",
	    .max = SPEC_INSTANCES_MAX },
	{ "stop_signal", SK_SIGNAL, APP(stop_signal), .def = "TERM" },
	{ "kill_timeout", SK_DURATION, APP(kill_timeout_ms), .def = "5s" },
	{ "ready", SK_CUSTOM, APP(ready), .def = "auto",
	    .expect = EXPECT_READY, .hooks = &ready_hooks },
	{ "ready_timeout", SK_DURATION, APP(ready_timeout_ms), .def = "30s",
	    .flags = SF_NONZERO },
	{ "max_memory", SK_SIZE, APP(max_memory), .def = "0" },
	{ "cron_restart", SK_STRING, APP(cron_restart),
	    .hooks = &cron_restart_hooks },
	{ "watch", SK_STRV, APP(watch), APP(nwatch), .flags = SF_LIST,
	    .expect = "true, false or a list of paths",
	    .hooks = &watch_hooks },
	{ "ignore_watch", SK_STRV, APP(ignore_watch), APP(nignore_watch),
	    .flags = SF_LIST, .expect = "a list of patterns",
	    .hooks = &ignore_watch_hooks },
	{ "watch_delay", SK_DURATION, APP(watch_delay_ms), .def = "1s" },
	{ .name = "logs", .kind = SK_GROUP },
	/* None: pmcd's log folder (logs.c). */
	{ "logs.out", SK_PATH, APP(log_out), .def = NULL },
	{ "logs.err", SK_PATH, APP(log_err), .def = NULL },
	{ "logs.max_size", SK_SIZE, APP(log_max_size), .def = "10M" },
	{ "logs.keep", SK_COUNT, APP(log_keep), .def = "5",
	    .max = SPEC_LOG_KEEP_MAX },
	{ "logs.timestamps", SK_BOOL, APP(log_timestamps), .def = "true" },
	{ "logs.to", SK_ENUM, APP(log_to), .def = "auto",
	    .words = logs_to_words },
};
const size_t spec_nfields = nitems(spec_fields);

_Static_assert(nitems(spec_fields) <= FIELDS_MAX, "more rows than bits");
/* SK_ENUM values are read and written as int. */
_Static_assert(sizeof(enum balance_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum restart_policy) == sizeof(int), "enum size");
_Static_assert(sizeof(enum logs_to) == sizeof(int), "enum size");

/* Variables pmcd sets itself; also every PMC_SHIM_* (the shim's). */
static const char *const reserved_env[] = {
	"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET",
	"PMC_APP", "PMC_INSTANCE", "PMC_CHANNEL_FD", "NODE_CHANNEL_FD",
	"NODE_CHANNEL_SERIALIZATION_MODE", "NODE_UNIQUE_ID"
};

const char *
balance_name(enum balance_mode m)
{
	return word_name(balance_words, (int)m);
}

const char *
restart_name(enum restart_policy r)
{
	return word_name(restart_words, (int)r);
}

const char *
logs_to_name(enum logs_to t)
{
	return word_name(logs_to_words, (int)t);
}

const struct spec_field *
spec_field_named(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(spec_fields); i++)
		if (strcmp(spec_fields[i].name, name) == 0)
			return &spec_fields[i];
	abort();
}

/* name. */
static int
name_valid(const char *s)
{
	size_t	n = strlen(s);

	return n >= 1 && n <= SPEC_NAME_MAX && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

static void
name_parse(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	const char	*s;
	size_t		 i;

	if ((s = spec_scalar(ctx, f->name, n, EXPECT_NAME)) == NULL)
		return;
	if (!name_valid(s)) {
		spec_bad(ctx, f->name, n, EXPECT_NAME);
		return;
	}
	if (strcmp(s, "all") == 0) {	/* pmc stop all */
		spec_bad(ctx, f->name, n, "a name other than \"all\"");
		return;
	}
	for (i = 0; i < ctx->nnames; i++) {
		if (strcmp(ctx->names[i].name, s) == 0) {
			problem_at(ctx, n, "%s: duplicate app name \"%s\" "
			    "(first at line %d)", f->name, s,
			    ctx->names[i].line);
			return;
		}
	}
	strlcpy(ctx->app->name, s, sizeof(ctx->app->name));
	ctx->names = xreallocarray(ctx->names, ctx->nnames + 1,
	    sizeof(*ctx->names));
	ctx->names[ctx->nnames].name = ctx->app->name;
	ctx->names[ctx->nnames++].line = n->line;
}

static size_t
one(const struct app_spec *app)
{
	(void)app;
	return 1;
}

static const char *
name_text(const struct app_spec *app, size_t i, int effective, char *buf,
    size_t size)
{
	(void)i;
	(void)effective;
	(void)buf;
	(void)size;
	return app->name;
}

static int
name_equal(const struct app_spec *a, const struct app_spec *b)
{
	return strcmp(a->name, b->name) == 0;
}

static const struct spec_hooks name_hooks = {
	.parse = name_parse, .count = one, .text = name_text,
	.equal = name_equal
};

/*
 * command.  A string is split into words on blanks, as a shell would
 * without expansions: '...' is literal, "..." knows \" and \\, a \
 * outside quotes escapes the next character.
 */
static int
split_words(const char *s, char ***argv, size_t *argc, const char **why)
{
	char	*w, *p;
	char	 q;

	w = xcalloc(1, strlen(s) + 1);
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		for (p = w; *s != '\0' && !isspace((unsigned char)*s); s++) {
			if (*s == '\\' && s[1] != '\0') {
				*p++ = *++s;
				continue;
			}
			if (*s != '\'' && *s != '"') {
				*p++ = *s;
				continue;
			}
			for (q = *s++; *s != q; s++) {
				if (*s == '\0') {
					*why = q == '"' ?
					    "a closing \" quote" :
					    "a closing ' quote";
					free(w);
					return -1;
				}
				if (q == '"' && *s == '\\' &&
				    (s[1] == '"' || s[1] == '\\'))
					s++;
				*p++ = *s;
			}
		}
		*p = '\0';
		strv_add(argv, argc, xstrdup(w));
	}
	free(w);
	return 0;
}

static void
command_string(struct spec_ctx *ctx, const char *field, const struct ynode *n)
{
	struct app_spec	*app = ctx->app;
	const char	*why = EXPECT_COMMAND;

	if (split_words(n->text, &app->argv, &app->argc, &why) == -1 ||
	    app->argc == 0 || app->argv[0][0] == '\0') {
		spec_bad(ctx, field, n, why);
		strv_free(app->argv);
		app->argv = NULL;
		app->argc = 0;
	}
}

static void
command_list(struct spec_ctx *ctx, const char *field, const struct ynode *n)
{
	struct app_spec	 *app = ctx->app;
	char		**argv = NULL;
	size_t		  argc = 0, i;
	int		  ok = n->nkids > 0;

	if (!ok)
		spec_bad(ctx, field, n, EXPECT_COMMAND);
	for (i = 0; i < n->nkids; i++) {
		if (spec_scalar(ctx, field, n->kids[i], "a string") == NULL)
			ok = 0;
		else if (i == 0 && n->kids[i]->len == 0) {
			spec_bad(ctx, field, n->kids[i], "a program name");
			ok = 0;
		} else if (ok)
			strv_add(&argv, &argc, xstrdup(n->kids[i]->text));
	}
	if (!ok) {
		strv_free(argv);
		return;
	}
	app->argv = argv;
	app->argc = argc;
}

static void
command_parse(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	if (n->type == Y_SEQ)
		command_list(ctx, f->name, n);
	else if (spec_scalar(ctx, f->name, n, EXPECT_COMMAND) != NULL)
		command_string(ctx, f->name, n);
}

static const struct spec_hooks command_hooks = { .parse = command_parse };

/* instances: N, max (the CPUs this process may use) or -N (max - N). */
static void
instances_parse(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	struct app_spec	*app = ctx->app;
	const char	*s;
	uint64_t	 v;

	if ((s = spec_scalar(ctx, f->name, n, EXPECT_INST)) == NULL)
		return;
	if (strcmp(s, "max") == 0) {
		app->instances_mode = INSTANCES_MAX;
		app->instances_arg = 0;
	} else if (s[0] == '-' && parse_uint(s + 1, INT_MAX, &v) == 0 &&
	    v > 0) {
		app->instances_mode = INSTANCES_MAX_MINUS;
		app->instances_arg = (int)v;
	} else if (parse_uint(s, INT_MAX, &v) == 0 && v > 0) {
		if (v > SPEC_INSTANCES_MAX) {
			spec_bad(ctx, f->name, n, "at most "
			    SPEC_STR(SPEC_INSTANCES_MAX));
			return;
		}
		app->instances_mode = INSTANCES_FIXED;
		app->instances_arg = (int)v;
	} else
		spec_bad(ctx, f->name, n, EXPECT_INST);
}

static void
instances_finish(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	struct app_spec	*app = ctx->app;

	(void)f;
	(void)n;
	if (app->instances_mode == INSTANCES_FIXED) {
		app->instances = app->instances_arg;
		return;
	}
	if (ctx->ncpus == 0)
		ctx->ncpus = cpus_available();
	app->instances = ctx->ncpus;
	if (app->instances_mode == INSTANCES_MAX_MINUS)
		app->instances = app->instances_arg >= ctx->ncpus ? 1 :
		    ctx->ncpus - app->instances_arg;
}

/* As written; effective: the count it comes to here. */
static const char *
instances_text(const struct app_spec *app, size_t i, int effective,
    char *buf, size_t size)
{
	(void)i;
	if (effective)
		snprintf(buf, size, "%d", app->instances);
	else if (app->instances_mode == INSTANCES_MAX)
		snprintf(buf, size, "max");
	else if (app->instances_mode == INSTANCES_MAX_MINUS)
		snprintf(buf, size, "-%d", app->instances_arg);
	else
		snprintf(buf, size, "%d", app->instances_arg);
	return buf;
}

static int
instances_equal(const struct app_spec *a, const struct app_spec *b)
{
	return a->instances_mode == b->instances_mode &&
	    a->instances_arg == b->instances_arg &&
	    a->instances == b->instances;
}

static const struct spec_hooks instances_hooks = {
	.parse = instances_parse, .finish = instances_finish, .count = one,
	.text = instances_text, .equal = instances_equal
};

/* listen: one address or a list; none twice, none overlapping, in a file. */
static int
listen_taken(struct spec_ctx *ctx, const char *field, const struct ynode *n,
    const struct listen_addr *a)
{
	const struct seen_addr	*o;
	size_t			 i;

	for (i = 0; i < ctx->naddrs; i++) {
		o = &ctx->addrs[i];
		if (strcmp(o->addr.text, a->text) == 0) {
			problem_at(ctx, n, "%s: duplicate address \"%s\" "
			    "(first at line %d)", field, a->text, o->line);
			return 1;
		}
		if (listen_overlap(&o->addr, a)) {
			problem_at(ctx, n, "%s: address \"%s\" overlaps "
			    "\"%s\" (line %d)", field, a->text, o->addr.text,
			    o->line);
			return 1;
		}
	}
	return 0;
}

static void
listen_one(struct spec_ctx *ctx, const char *field, const struct ynode *n)
{
	struct app_spec		*app = ctx->app;
	struct listen_addr	 a;
	const char		*s, *why;

	if ((s = spec_scalar(ctx, field, n, ADDR_EXPECT)) == NULL)
		return;
	if (parse_listen_at(s, ctx->dir, &a, &why) == -1) {
		spec_bad(ctx, field, n, why);
		return;
	}
	if (!ytext_ok(a.text)) {
		spec_bad(ctx, field, n, EXPECT_UTF8_UNIX);
		return;
	}
	if (listen_taken(ctx, field, n, &a))
		return;
	app->listen = xreallocarray(app->listen, app->nlisten + 1,
	    sizeof(*app->listen));
	app->listen[app->nlisten++] = a;
	ctx->addrs = xreallocarray(ctx->addrs, ctx->naddrs + 1,
	    sizeof(*ctx->addrs));
	ctx->addrs[ctx->naddrs].addr = a;
	ctx->addrs[ctx->naddrs++].line = n->line;
}

static void
listen_parse(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	size_t	i;

	if (n->type != Y_SEQ) {
		listen_one(ctx, f->name, n);
		return;
	}
	if (n->nkids == 0)
		spec_bad(ctx, f->name, n, ADDR_EXPECT);
	for (i = 0; i < n->nkids; i++)
		listen_one(ctx, f->name, n->kids[i]);
}

static size_t
listen_count(const struct app_spec *app)
{
	return app->nlisten;
}

static const char *
listen_text(const struct app_spec *app, size_t i, int effective, char *buf,
    size_t size)
{
	(void)effective;
	(void)buf;
	(void)size;
	return app->listen[i].text;
}

static int
listen_equal(const struct app_spec *a, const struct app_spec *b)
{
	size_t	i;

	if (a->nlisten != b->nlisten)
		return 0;
	for (i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i].text, b->listen[i].text) != 0)
			return 0;
	return 1;
}

static void
listen_copy(struct app_spec *d, const struct app_spec *app)
{
	d->listen = NULL;
	if (app->nlisten == 0)
		return;
	d->listen = xreallocarray(NULL, app->nlisten, sizeof(*d->listen));
	memcpy(d->listen, app->listen, app->nlisten * sizeof(*d->listen));
}

static void
listen_release(struct app_spec *app)
{
	free(app->listen);
}

static const struct spec_hooks listen_hooks = {
	.parse = listen_parse, .count = listen_count, .text = listen_text,
	.equal = listen_equal, .copy = listen_copy, .release = listen_release
};

/*
 * A per-slot balance needs sockets that each slot can have its own of.
 * The default, round-robin, is shared where it cannot be (a unix socket
 * here; a socket the service manager passed, in pmcd: app.c).
 */
static void
balance_finish(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	struct app_spec	*app = ctx->app;
	char		 buf[SPEC_ADDR_MAX + 64];
	size_t		 i;

	(void)n;
	if (AT(ctx, f) == NULL) {
		app->balance_default = 1;
		for (i = 0; i < app->nlisten; i++)
			if (app->listen[i].family == AF_UNIX)
				app->balance = BALANCE_SHARED;
		return;
	}
	if (!BALANCE_PER_SLOT(app->balance))
		return;
	for (i = 0; i < app->nlisten; i++) {
		if (app->listen[i].family != AF_UNIX)
			continue;
		snprintf(buf, sizeof(buf), "shared with a unix socket (%s)",
		    app->listen[i].text);
		spec_bad(ctx, f->name, AT(ctx, f), buf);
		break;
	}
}

static const struct spec_hooks balance_hooks = { .finish = balance_finish };

/* slow_start: only round-robin has turns to share out by weight. */
static void
slow_start_finish(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	const struct app_spec	*app = ctx->app;

	(void)n;
	if (AT(ctx, f) == NULL || BAD(ctx, f) || app->slow_start_ms == 0 ||
	    app->balance == BALANCE_ROUND_ROBIN)
		return;
	problem_at(ctx, AT(ctx, f), "slow_start: needs balance: round-robin "
	    "(balance is %s)", balance_name(app->balance));
}

static const struct spec_hooks slow_start_hooks = {
	.finish = slow_start_finish
};

/* cron_restart: five fields of crontab(5); the column of what is wrong. */
static void
cron_restart_finish(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	const struct ynode	*v = AT(ctx, f);
	struct cron		 c;
	const char		*why;
	size_t			 at;

	(void)n;
	if (v == NULL || BAD(ctx, f) || ctx->app->cron_restart == NULL ||
	    cron_parse(ctx->app->cron_restart, &c, &at, &why) == 0)
		return;
	/* A quoted scalar's text starts one column in. */
	spec_problem(ctx, v->line, v->column + (v->plain ? 0 : 1) + (int)at,
	    "cron_restart: expected %s, got \"%s\"", why,
	    ctx->app->cron_restart);
}

static const struct spec_hooks cron_restart_hooks = {
	.finish = cron_restart_finish
};

/*
 * A list of non-empty strings into the field's strv; with bools, true is
 * ["."] (the app's folder) and false none (watch:).
 */
static void
strings_parse(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n, int bools)
{
	char		***v = (char ***)((char *)ctx->app + f->off);
	size_t		  *nv = (size_t *)((char *)ctx->app + f->off_n);
	const struct ynode *k;
	size_t		   i;
	int		   b;

	if (bools && n->type == Y_SCALAR && n->plain &&
	    (b = parse_bool(n->text)) != -1) {
		if (b)
			strv_add(v, nv, xstrdup("."));
		return;
	}
	if (n->type != Y_SEQ) {
		spec_bad(ctx, f->name, n, f->expect);
		return;
	}
	for (i = 0; i < n->nkids; i++) {
		k = n->kids[i];
		if (k->type != Y_SCALAR || k->len == 0 || ynode_is_null(k))
			spec_bad(ctx, f->name, k, "a non-empty string");
		else
			strv_add(v, nv, xstrdup(k->text));
	}
}

static void
watch_parse(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	strings_parse(ctx, f, n, 1);
}

static void
ignore_watch_parse(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	strings_parse(ctx, f, n, 0);
}

static const struct spec_hooks watch_hooks = { .parse = watch_parse };
static const struct spec_hooks ignore_watch_hooks = {
	.parse = ignore_watch_parse
};

static void
node_cluster_finish(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	(void)n;
	if (AT(ctx, f) == NULL || BAD(ctx, f) || !ctx->app->node_cluster ||
	    ctx->app->channel)
		return;
	problem_at(ctx, AT(ctx, f), "node_cluster: needs channel: true");
}

static const struct spec_hooks node_cluster_hooks = {
	.finish = node_cluster_finish
};

/* env: a mapping of names to strings, none that pmcd sets itself. */
static int
env_name_valid(const char *s)
{
	size_t	n = strlen(s);

	return n > 0 && !isdigit((unsigned char)s[0]) && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_") == n;
}

static void
env_pair(struct spec_ctx *ctx, const struct ynode *k, const struct ynode *v)
{
	struct app_spec	*app = ctx->app;
	char		*field;
	size_t		 i;

	if (!env_name_valid(k->text)) {
		spec_bad(ctx, "env", k, EXPECT_ENVNAME);
		return;
	}
	for (i = 0; i < nitems(reserved_env); i++) {
		if (strcmp(k->text, reserved_env[i]) == 0 ||
		    strncmp(k->text, "PMC_SHIM_", 9) == 0) {
			spec_bad(ctx, "env", k, "a variable not set by pmc");
			return;
		}
	}
	if (v->type != Y_SCALAR) {
		field = xasprintf("env.%s", k->text);
		spec_bad(ctx, field, v, "a string");
		free(field);
		return;
	}
	strv_add(&app->env, &app->nenv, xasprintf("%s=%s", k->text,
	    ynode_is_null(v) ? "" : v->text));
}

static void
env_parse(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	size_t	i;

	if (n->type != Y_MAP) {
		spec_bad(ctx, f->name, n, f->expect);
		return;
	}
	for (i = 0; i + 1 < n->nkids; i += 2)
		if (spec_key_ok(ctx, n, i, "env."))
			env_pair(ctx, n->kids[i], n->kids[i + 1]);
}

/*
 * With --env NAME: the app's env_NAME block over its env, a name of both
 * taking the block's value; the app records NAME.
 */
static void
env_finish(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	struct app_spec		*app = ctx->app;
	const struct ynode	*b = NULL, *k;
	char			 key[SPEC_NAME_MAX + 8], prefix[SPEC_NAME_MAX + 9];
	size_t			 i, j, len;

	(void)f;
	if (spec_env() == NULL)
		return;
	app->envname = xstrdup(spec_env());
	snprintf(key, sizeof(key), "env_%s", spec_env());
	snprintf(prefix, sizeof(prefix), "%s.", key);
	for (i = 0; n->type == Y_MAP && i + 1 < n->nkids; i += 2)
		if (n->kids[i]->type == Y_SCALAR &&
		    strcmp(n->kids[i]->text, key) == 0)
			b = n->kids[i + 1];
	if (b == NULL || b->type != Y_MAP)
		return;
	for (i = 0; i + 1 < b->nkids; i += 2) {
		k = b->kids[i];
		if (!spec_key_ok(ctx, b, i, prefix) || k->type != Y_SCALAR)
			continue;
		len = strlen(k->text);
		for (j = 0; j < app->nenv; j++)
			if (strncmp(app->env[j], k->text, len) == 0 &&
			    app->env[j][len] == '=') {
				free(app->env[j]);
				app->env[j] = app->env[--app->nenv];
				app->env[app->nenv] = NULL;
				break;
			}
		env_pair(ctx, k, b->kids[i + 1]);
	}
}

static const struct spec_hooks env_hooks = {
	.parse = env_parse,
	.finish = env_finish
};

/*
 * user and group: must exist; only root may switch to another.  Digits
 * are a number, never a name, here and at the spawn alike.  The ids are
 * completed in ids_finish, once both are read.
 */
static void
id_parse(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n, int group)
{
	struct lookup_user	 u;
	const char		*s, *what = group ? "an existing group" :
				    "an existing user";
	gid_t			 gid;
	long			 found;

	if ((s = spec_scalar(ctx, f->name, n, what)) == NULL)
		return;
	if (group)
		found = lookup_group(s, &gid) == 0 ? (long)gid : -1;
	else
		found = lookup_user(s, &u) == 0 ? (long)u.uid : -1;
	if (found == -1) {
		spec_bad(ctx, f->name, n, !lookup_replaying() ? what :
		    group ? "a group that pmc looked up" :
		    "a user that pmc looked up");
		return;
	}
	if (geteuid() != 0 && found != (long)(group ? getegid() : geteuid())) {
		problem_at(ctx, n, "%s: only root can run apps as another %s",
		    f->name, group ? "group" : "user");
		return;
	}
	*(char **)FIELD(ctx->app, f) = xstrdup(s);
	ctx->app->ids.set = 1;
	if (group)
		ctx->app->ids.gid = gid;
	else {
		ctx->app->ids.uid = u.uid;
		ctx->app->ids.login = xstrdup(u.login);
		ctx->app->ids.home = xstrdup(u.home);
		ctx->app->ids.shell = xstrdup(u.shell);
		if (ctx->app->group == NULL)
			ctx->app->ids.gid = u.gid;
	}
}

static void
user_parse(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	id_parse(ctx, f, n, 0);
}

static void
group_parse(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	id_parse(ctx, f, n, 1);
}

static const struct spec_hooks user_hooks = { .parse = user_parse };
static const struct spec_hooks group_hooks = { .parse = group_parse };

/*
 * Once user: and group: are read: the uid (pmcd's without user:), the
 * gid (group:, else the user's, else pmcd's) and the supplementary
 * groups (the user's, with that gid first; only the gid without user:).
 */
static void
ids_finish(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	struct app_spec	*app = ctx->app;
	struct spec_ids	*ids = &app->ids;

	(void)f;
	if (!ids->set || (app->user == NULL && app->group == NULL)) {
		memset(ids, 0, sizeof(*ids));
		return;
	}
	if (app->user == NULL)
		ids->uid = geteuid();
	if (app->user == NULL && app->group != NULL) {
		ids->groups = xcalloc(1, sizeof(*ids->groups));
		ids->groups[0] = ids->gid;
		ids->ngroups = 1;
		return;
	}
	if (lookup_groups(ids->login, ids->gid, &ids->groups,
	    &ids->ngroups) == -1)
		problem_at(ctx, n, "user: the groups of %s could not be looked "
		    "up", ids->login);
}

/* The same identity, as looked up: a changed passwd entry is a change. */
static int
ids_equal(const struct app_spec *x, const struct app_spec *y)
{
	const struct spec_ids	*a = &x->ids, *b = &y->ids;

	return a->set == b->set && a->uid == b->uid && a->gid == b->gid &&
	    a->ngroups == b->ngroups && (a->ngroups == 0 ||
	    memcmp(a->groups, b->groups, a->ngroups * sizeof(*a->groups)) ==
	    0) && str_equal(a->login, b->login) &&
	    str_equal(a->home, b->home) && str_equal(a->shell, b->shell);
}

static void
ids_copy(struct app_spec *d, const struct app_spec *app)
{
	d->ids.login = xstrdup_or_null(app->ids.login);
	d->ids.home = xstrdup_or_null(app->ids.home);
	d->ids.shell = xstrdup_or_null(app->ids.shell);
	d->ids.groups = NULL;
	if (app->ids.ngroups == 0)
		return;
	d->ids.groups = xreallocarray(NULL, app->ids.ngroups,
	    sizeof(*d->ids.groups));
	memcpy(d->ids.groups, app->ids.groups, app->ids.ngroups *
	    sizeof(*d->ids.groups));
}

static void
ids_release(struct app_spec *app)
{
	free(app->ids.groups);
	free(app->ids.login);
	free(app->ids.home);
	free(app->ids.shell);
}

static const struct spec_hooks ids_hooks = {
	.finish = ids_finish, .equal = ids_equal, .copy = ids_copy,
	.release = ids_release
};

/* backoff: initial no more than max, once both are known. */
static void
backoff_finish(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	struct app_spec		*app = ctx->app;
	const struct ynode	*v;
	char			 buf[32];

	(void)n;
	if (AT(ctx, f) == NULL || BAD(ctx, f) ||
	    app->backoff_initial_ms <= app->backoff_max_ms)
		return;
	if ((v = AT(ctx, spec_field_named("backoff.initial"))) != NULL) {
		format_duration(app->backoff_max_ms, buf, sizeof(buf));
		problem_at(ctx, v, "backoff.initial: expected at most "
		    "backoff.max (%s), got \"%s\"", buf, v->text);
	} else if ((v = AT(ctx, spec_field_named("backoff.max"))) != NULL) {
		format_duration(app->backoff_initial_ms, buf, sizeof(buf));
		problem_at(ctx, v, "backoff.max: expected at least "
		    "backoff.initial (%s), got \"%s\"", buf, v->text);
	}
}

static const struct spec_hooks backoff_hooks = { .finish = backoff_finish };

/* ready: auto, notify or delay:<duration>. */
static void
ready_parse(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	struct app_spec	*app = ctx->app;
	const char	*s;

	if ((s = spec_scalar(ctx, f->name, n, EXPECT_READY)) == NULL)
		return;
	if (strcmp(s, "auto") == 0)
		app->ready = READY_AUTO;
	else if (strcmp(s, "notify") == 0)
		app->ready = READY_NOTIFY;
	else if (strncmp(s, "delay:", 6) != 0)
		spec_bad(ctx, f->name, n, EXPECT_READY);
	else if (parse_duration_ms(s + 6, &app->ready_delay_ms) == -1)
		spec_bad(ctx, f->name, n, "a duration after \"delay:\"");
	else
		app->ready = READY_DELAY;
}

static const char *
ready_text(const struct app_spec *app, size_t i, int effective, char *buf,
    size_t size)
{
	char	d[32];

	(void)i;
	(void)effective;
	if (app->ready != READY_DELAY)
		return app->ready == READY_NOTIFY ? "notify" : "auto";
	format_duration(app->ready_delay_ms, d, sizeof(d));
	snprintf(buf, size, "delay:%s", d);
	return buf;
}

static int
ready_equal(const struct app_spec *a, const struct app_spec *b)
{
	return a->ready == b->ready && (a->ready != READY_DELAY ||
	    a->ready_delay_ms == b->ready_delay_ms);
}

static const struct spec_hooks ready_hooks = {
	.parse = ready_parse, .count = one, .text = ready_text,
	.equal = ready_equal
};
