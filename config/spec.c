/*
 * spec.c -- load and validate pm.yaml app specs.
 *
 * The YAML text is first turned into a small tree of scalars, sequences
 * and mappings (from libyaml's events, so that every node keeps its line
 * and column), then each app mapping is walked against a table of known
 * keys.  Every problem is collected with its position; the messages are
 * handed back sorted by position, and a spec with any problem is freed.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <err.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cpus.h"
#include "human.h"
#include "lookup.h"
#include "path.h"
#include "spec.h"
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
#define EXPECT_LISTEN	ADDR_EXPECT
#define EXPECT_DURATION	"a duration like 100ms, 5s, 1m or 2h"
#define EXPECT_SIZE	"a size like 512K, 10M or 1G"
#define EXPECT_BOOL	"true or false"
#define EXPECT_ENVNAME	"a variable name ([A-Za-z_][A-Za-z0-9_]*)"

/* One problem, kept with its position until they are sorted. */
struct problem {
	int		  line;
	int		  column;
	size_t		  seq;
	char		 *msg;
};

struct seen_name {
	const char	 *name;
	int		  line;
};

struct seen_addr {
	struct listen_addr addr;
	int		  line;
};

struct ctx {
	const char		 *path;
	char			 *dir;		/* absolute folder of path */
	struct spec		 *spec;
	struct app_spec		 *app;		/* the app being read */
	const struct ynode	 *balance_at;	/* its balance value */
	struct problem		 *problems;
	size_t			  nproblems;
	struct seen_name	 *names;
	size_t			  nnames;
	struct seen_addr	 *addrs;
	size_t			  naddrs;
	int			  ncpus;	/* 0 until needed */
};

struct field {
	const char	 *key;
	void		(*fn)(struct ctx *, const char *, const struct ynode *,
			    void *);
	size_t		  off;		/* of the value in struct app_spec */
};

static void	 f_name(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_command(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_path(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_instances(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_listen(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_balance(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_bool(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_env(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_user(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_group(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_restart(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_backoff(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_count(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_keep(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_signal(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_duration(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_positive(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_ready(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_size(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_logs(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_logs_to(struct ctx *, const char *, const struct ynode *,
		    void *);
static void	 f_apps(struct ctx *, const char *, const struct ynode *,
		    void *);

#define APP(m)	offsetof(struct app_spec, m)

static const struct field top_fields[] = {
	{ "apps",		f_apps,		0 },
};

/* The order of the first two matters: see parse_app. */
static const struct field app_fields[] = {
	{ "name",		f_name,		APP(name) },
	{ "command",		f_command,	0 },
	{ "cwd",		f_path,		APP(cwd) },
	{ "instances",		f_instances,	0 },
	{ "listen",		f_listen,	0 },
	{ "balance",		f_balance,	APP(balance) },
	{ "intercept_bind",	f_bool,		APP(intercept_bind) },
	{ "env",		f_env,		0 },
	{ "user",		f_user,		APP(user) },
	{ "group",		f_group,	APP(group) },
	{ "restart",		f_restart,	APP(restart) },
	{ "backoff",		f_backoff,	0 },
	{ "max_restarts",	f_count,	APP(max_restarts) },
	{ "stop_signal",	f_signal,	APP(stop_signal) },
	{ "kill_timeout",	f_duration,	APP(kill_timeout_ms) },
	{ "ready",		f_ready,	0 },
	{ "ready_timeout",	f_positive,	APP(ready_timeout_ms) },
	{ "max_memory",		f_size,		APP(max_memory) },
	{ "logs",		f_logs,		0 },
};

static const struct field backoff_fields[] = {
	{ "initial",		f_positive,	APP(backoff_initial_ms) },
	{ "max",		f_duration,	APP(backoff_max_ms) },
	{ "reset_after",	f_duration,	APP(backoff_reset_ms) },
};

static const struct field logs_fields[] = {
	{ "out",		f_path,		APP(log_out) },
	{ "err",		f_path,		APP(log_err) },
	{ "max_size",		f_size,		APP(log_max_size) },
	{ "keep",		f_keep,		APP(log_keep) },
	{ "timestamps",		f_bool,		APP(log_timestamps) },
	{ "to",			f_logs_to,	APP(log_to) },
};

/* Variables pmcd sets itself; also every PMC_SHIM_* (the shim's). */
static const char *const reserved_env[] = {
	"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET",
	"PMC_APP", "PMC_INSTANCE"
};

/* Error collection. */
void
spec_errors_add(struct spec_errors *errs, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	errs->msgs = xreallocarray(errs->msgs, errs->count + 1,
	    sizeof(*errs->msgs));
	errs->msgs[errs->count++] = s;
}

void
spec_errors_clear(struct spec_errors *errs)
{
	size_t	i;

	for (i = 0; i < errs->count; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->count = 0;
}

static void __attribute__((__format__(__printf__, 4, 5)))
problem(struct ctx *ctx, int line, int column, const char *fmt, ...)
{
	struct problem	*p;
	va_list		 ap;
	char		*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	ctx->problems = xreallocarray(ctx->problems, ctx->nproblems + 1,
	    sizeof(*ctx->problems));
	p = &ctx->problems[ctx->nproblems];
	p->line = line;
	p->column = column;
	p->seq = ctx->nproblems++;
	p->msg = xasprintf("%s:%d:%d: %s", ctx->path, line, column, s);
	free(s);
}

static void
tree_problem(void *arg, int line, int column, const char *msg)
{
	problem(arg, line, column, "%s", msg);
}

#define problem_at(ctx, n, ...) \
	problem(ctx, (n)->line, (n)->column, __VA_ARGS__)

static int
problem_cmp(const void *a, const void *b)
{
	const struct problem	*pa = a, *pb = b;

	if (pa->line != pb->line)
		return pa->line < pb->line ? -1 : 1;
	if (pa->column != pb->column)
		return pa->column < pb->column ? -1 : 1;
	return pa->seq < pb->seq ? -1 : pa->seq > pb->seq;
}

/* Hand the problems, in file order, to errs. */
static void
problems_flush(struct ctx *ctx, struct spec_errors *errs)
{
	size_t	i;

	if (ctx->nproblems > 0)
		qsort(ctx->problems, ctx->nproblems, sizeof(*ctx->problems),
		    problem_cmp);
	for (i = 0; i < ctx->nproblems; i++) {
		errs->msgs = xreallocarray(errs->msgs, errs->count + 1,
		    sizeof(*errs->msgs));
		errs->msgs[errs->count++] = ctx->problems[i].msg;
	}
	free(ctx->problems);
	ctx->problems = NULL;
	ctx->nproblems = 0;
}

static void
bad(struct ctx *ctx, const char *field, const struct ynode *n,
    const char *expected)
{
	char	buf[YSHOW_SIZE];

	problem_at(ctx, n, "%s: expected %s, got %s", field, expected,
	    ynode_show(n, buf, sizeof(buf)));
}

/* The text of a non-null scalar, else a problem and NULL. */
static const char *
scalar(struct ctx *ctx, const char *field, const struct ynode *n,
    const char *expected)
{
	if (n->type == Y_SCALAR && !ynode_is_null(n))
		return n->text;
	bad(ctx, field, n, expected);
	return NULL;
}

static int
parse_bool(const char *s)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	size_t			 i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* Index of s in a NULL-terminated word list, or -1. */
static int
word_index(const char *s, const char *const *words)
{
	int	i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	return -1;
}

const char *
balance_name(enum balance_mode m)
{
	return m == BALANCE_REUSEPORT ? "reuseport" : "shared";
}

const char *
logs_to_name(enum logs_to t)
{
	static const char *const names[] = {
		"auto", "file", "stdout", "both"
	};

	return (names[t]);
}

const char *
restart_name(enum restart_policy r)
{
	switch (r) {
	case RESTART_ON_FAILURE:
		return "on-failure";
	case RESTART_NEVER:
		return "never";
	default:
		return "always";
	}
}

/* Mappings. */
static int
edit_distance(const char *a, const char *b)
{
	int	row[SPEC_NAME_MAX + 2], i, j, diag, up, best;
	size_t	la = strlen(a), lb = strlen(b);

	if (la > SPEC_NAME_MAX || lb > SPEC_NAME_MAX)
		return INT_MAX;
	for (j = 0; j <= (int)lb; j++)
		row[j] = j;
	for (i = 1; i <= (int)la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= (int)lb; j++) {
			up = row[j];
			best = diag + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void
unknown_key(struct ctx *ctx, const struct ynode *k, const char *prefix,
    const struct field *fields, size_t nfields)
{
	const char	*best = NULL;
	int		 d, bestd = INT_MAX;
	size_t		 i;

	for (i = 0; i < nfields; i++) {
		d = edit_distance(k->text, fields[i].key);
		if (d < bestd && d <= (strlen(fields[i].key) > 4 ? 2 : 1)) {
			bestd = d;
			best = fields[i].key;
		}
	}
	if (best != NULL)
		problem_at(ctx, k, "unknown key \"%s%s\" (did you mean "
		    "\"%s%s\"?)", prefix, k->text, prefix, best);
	else
		problem_at(ctx, k, "unknown key \"%s%s\"", prefix, k->text);
}

/* Is key i of map a usable string, not seen before in map? */
static int
key_ok(struct ctx *ctx, const struct ynode *map, size_t i,
    const char *prefix)
{
	const struct ynode	*k = map->kids[i], *o;
	size_t			 j;

	char			 buf[YSHOW_SIZE];

	if (k->type != Y_SCALAR || ynode_is_null(k)) {
		problem_at(ctx, k, "expected a string key, got %s",
		    ynode_show(k, buf, sizeof(buf)));
		return 0;
	}
	for (j = 0; j < i; j += 2) {
		o = map->kids[j];
		if (o->type == Y_SCALAR && strcmp(o->text, k->text) == 0) {
			problem_at(ctx, k, "duplicate key \"%s%s\" (first at "
			    "line %d)", prefix, k->text, o->line);
			return 0;
		}
	}
	return 1;
}

/* Check map against fields; returns a bit per field found. */
static unsigned int
walk_map(struct ctx *ctx, const struct ynode *map, const char *prefix,
    const struct field *fields, size_t nfields)
{
	const struct ynode	*k;
	char			 name[128];
	void			*dst;
	unsigned int		 seen = 0;
	size_t			 i, f;

	for (i = 0; i + 1 < map->nkids; i += 2) {
		k = map->kids[i];
		if (!key_ok(ctx, map, i, prefix))
			continue;
		for (f = 0; f < nfields; f++)
			if (strcmp(k->text, fields[f].key) == 0)
				break;
		if (f == nfields) {
			unknown_key(ctx, k, prefix, fields, nfields);
			continue;
		}
		seen |= 1U << f;
		snprintf(name, sizeof(name), "%s%s", prefix, fields[f].key);
		dst = ctx->app != NULL ? (char *)ctx->app + fields[f].off :
		    NULL;
		fields[f].fn(ctx, name, map->kids[i + 1], dst);
	}
	return seen;
}

/* Field handlers: check one value, store it at dst or in ctx->app. */
static int
name_valid(const char *s)
{
	size_t	n = strlen(s);

	return n >= 1 && n <= SPEC_NAME_MAX && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

static void
f_name(struct ctx *ctx, const char *field, const struct ynode *n, void *dst)
{
	const char	*s;
	size_t		 i;

	if ((s = scalar(ctx, field, n, EXPECT_NAME)) == NULL)
		return;
	if (!name_valid(s)) {
		bad(ctx, field, n, EXPECT_NAME);
		return;
	}
	if (strcmp(s, "all") == 0) {	/* pmc stop all */
		bad(ctx, field, n, "a name other than \"all\"");
		return;
	}
	for (i = 0; i < ctx->nnames; i++) {
		if (strcmp(ctx->names[i].name, s) == 0) {
			problem_at(ctx, n, "%s: duplicate app name \"%s\" "
			    "(first at line %d)", field, s,
			    ctx->names[i].line);
			return;
		}
	}
	strlcpy(dst, s, SPEC_NAME_MAX + 1);
	ctx->names = xreallocarray(ctx->names, ctx->nnames + 1,
	    sizeof(*ctx->names));
	ctx->names[ctx->nnames].name = dst;
	ctx->names[ctx->nnames++].line = n->line;
}

/*
 * Split s into words on blanks, as a shell would without expansions:
 * '...' is literal, "..." knows \" and \\, a \ outside quotes escapes
 * the next character.
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
command_string(struct ctx *ctx, const char *field, const struct ynode *n)
{
	struct app_spec	*app = ctx->app;
	const char	*why = EXPECT_COMMAND;

	if (split_words(n->text, &app->argv, &app->argc, &why) == -1 ||
	    app->argc == 0 || app->argv[0][0] == '\0') {
		bad(ctx, field, n, why);
		strv_free(app->argv);
		app->argv = NULL;
		app->argc = 0;
	}
}

static void
command_list(struct ctx *ctx, const char *field, const struct ynode *n)
{
	struct app_spec	 *app = ctx->app;
	char		**argv = NULL;
	size_t		  argc = 0, i;
	int		  ok = n->nkids > 0;

	if (!ok)
		bad(ctx, field, n, EXPECT_COMMAND);
	for (i = 0; i < n->nkids; i++) {
		if (scalar(ctx, field, n->kids[i], "a string") == NULL)
			ok = 0;
		else if (i == 0 && n->kids[i]->len == 0) {
			bad(ctx, field, n->kids[i], "a program name");
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
f_command(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	(void)dst;
	if (n->type == Y_SEQ)
		command_list(ctx, field, n);
	else if (scalar(ctx, field, n, EXPECT_COMMAND) != NULL)
		command_string(ctx, field, n);
}

static void
f_path(struct ctx *ctx, const char *field, const struct ynode *n, void *dst)
{
	char	**p = dst;

	if (scalar(ctx, field, n, "a path") == NULL)
		return;
	if (n->len == 0) {
		bad(ctx, field, n, "a path");
		return;
	}
	*p = path_resolve(ctx->dir, n->text);
}

static void
f_instances(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	struct app_spec	*app = ctx->app;
	const char	*s;
	uint64_t	 v;

	(void)dst;
	if ((s = scalar(ctx, field, n, EXPECT_INST)) == NULL)
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
			bad(ctx, field, n, "at most "
			    SPEC_STR(SPEC_INSTANCES_MAX));
			return;
		}
		app->instances_mode = INSTANCES_FIXED;
		app->instances_arg = (int)v;
	} else
		bad(ctx, field, n, EXPECT_INST);
}

/* Is a taken by an earlier listen entry of this file? */
static int
listen_taken(struct ctx *ctx, const char *field, const struct ynode *n,
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
listen_one(struct ctx *ctx, const char *field, const struct ynode *n)
{
	struct app_spec		*app = ctx->app;
	struct listen_addr	 a;
	const char		*s, *why;

	if ((s = scalar(ctx, field, n, EXPECT_LISTEN)) == NULL)
		return;
	if (parse_listen_at(s, ctx->dir, &a, &why) == -1) {
		bad(ctx, field, n, why);
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
f_listen(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	size_t	i;

	(void)dst;
	if (n->type != Y_SEQ) {
		listen_one(ctx, field, n);
		return;
	}
	if (n->nkids == 0)
		bad(ctx, field, n, EXPECT_LISTEN);
	for (i = 0; i < n->nkids; i++)
		listen_one(ctx, field, n->kids[i]);
}

static void
f_balance(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	static const char *const words[] = { "shared", "reuseport", NULL };
	enum balance_mode	*b = dst;
	const char		*s;
	int			 i;

	if ((s = scalar(ctx, field, n, "shared or reuseport")) == NULL)
		return;
	if ((i = word_index(s, words)) == -1) {
		bad(ctx, field, n, "shared or reuseport");
		return;
	}
	*b = i == 0 ? BALANCE_SHARED : BALANCE_REUSEPORT;
	ctx->balance_at = n;
}

static void
f_bool(struct ctx *ctx, const char *field, const struct ynode *n, void *dst)
{
	int		*b = dst;
	const char	*s;
	int		 v;

	if ((s = scalar(ctx, field, n, EXPECT_BOOL)) == NULL)
		return;
	if ((v = parse_bool(s)) == -1)
		bad(ctx, field, n, EXPECT_BOOL);
	else
		*b = v;
}

static int
env_name_valid(const char *s)
{
	size_t	n = strlen(s);

	return n > 0 && !isdigit((unsigned char)s[0]) && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_") == n;
}

static void
env_pair(struct ctx *ctx, const struct ynode *k, const struct ynode *v)
{
	struct app_spec	*app = ctx->app;
	char		*field;
	size_t		 i;

	if (!env_name_valid(k->text)) {
		bad(ctx, "env", k, EXPECT_ENVNAME);
		return;
	}
	for (i = 0; i < nitems(reserved_env); i++) {
		if (strcmp(k->text, reserved_env[i]) == 0 ||
		    strncmp(k->text, "PMC_SHIM_", 9) == 0) {
			bad(ctx, "env", k, "a variable not set by pmc");
			return;
		}
	}
	if (v->type != Y_SCALAR) {
		field = xasprintf("env.%s", k->text);
		bad(ctx, field, v, "a string");
		free(field);
		return;
	}
	strv_add(&app->env, &app->nenv, xasprintf("%s=%s", k->text,
	    ynode_is_null(v) ? "" : v->text));
}

static void
f_env(struct ctx *ctx, const char *field, const struct ynode *n, void *dst)
{
	size_t	i;

	(void)dst;
	if (n->type != Y_MAP) {
		bad(ctx, field, n, "a mapping of names to values");
		return;
	}
	for (i = 0; i + 1 < n->nkids; i += 2)
		if (key_ok(ctx, n, i, "env."))
			env_pair(ctx, n->kids[i], n->kids[i + 1]);
}

/*
 * user and group: must exist; only root may switch to another.  Digits
 * are a number, never a name, here and at the spawn alike.  The ids are
 * completed in app_ids, once both are read.
 */
static void
f_id(struct ctx *ctx, const char *field, const struct ynode *n, void *dst,
    int group)
{
	struct lookup_user	 u;
	const char		*s, *what = group ? "an existing group" :
				    "an existing user";
	gid_t			 gid;
	long			 found;

	if ((s = scalar(ctx, field, n, what)) == NULL)
		return;
	if (group)
		found = lookup_group(s, &gid) == 0 ? (long)gid : -1;
	else
		found = lookup_user(s, &u) == 0 ? (long)u.uid : -1;
	if (found == -1) {
		bad(ctx, field, n, lookup_replaying() ? (group ?
		    "a group that pmc looked up" : "a user that pmc looked up") :
		    what);
		return;
	}
	if (geteuid() != 0 && found != (long)(group ? getegid() : geteuid())) {
		problem_at(ctx, n, "%s: only root can run apps as another %s",
		    field, group ? "group" : "user");
		return;
	}
	*(char **)dst = xstrdup(s);
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

/*
 * Once user: and group: are read: the uid (pmcd's without user:), the
 * gid (group:, else the user's, else pmcd's) and the supplementary
 * groups (the user's, with that gid first; only the gid without user:).
 */
static void
app_ids(struct ctx *ctx, struct app_spec *app, const struct ynode *n)
{
	struct spec_ids	*ids = &app->ids;

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

static void
f_user(struct ctx *ctx, const char *field, const struct ynode *n, void *dst)
{
	f_id(ctx, field, n, dst, 0);
}

static void
f_group(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	f_id(ctx, field, n, dst, 1);
}

static void
f_restart(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	static const char *const words[] = {
		"always", "on-failure", "never", NULL
	};
	static const enum restart_policy policies[] = {
		RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER
	};
	const char	*s, *what = "always, on-failure or never";
	int		 i;

	if ((s = scalar(ctx, field, n, what)) == NULL)
		return;
	if ((i = word_index(s, words)) == -1)
		bad(ctx, field, n, what);
	else
		*(enum restart_policy *)dst = policies[i];
}

static void
f_logs_to(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	static const char *const words[] = {
		"auto", "file", "stdout", "both", NULL
	};
	const char	*s, *what = "auto, file, stdout or both";
	int		 i;

	if ((s = scalar(ctx, field, n, what)) == NULL)
		return;
	if ((i = word_index(s, words)) == -1)
		bad(ctx, field, n, what);
	else
		*(enum logs_to *)dst = (enum logs_to)i;
}

static void
f_backoff(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	struct app_spec		*app = ctx->app;
	const struct ynode	*v;
	char			 buf[32];
	size_t			 before = ctx->nproblems;

	(void)dst;
	if (n->type != Y_MAP) {
		bad(ctx, field, n, "a mapping with initial, max, reset_after");
		return;
	}
	walk_map(ctx, n, "backoff.", backoff_fields, nitems(backoff_fields));
	if (ctx->nproblems != before ||
	    app->backoff_initial_ms <= app->backoff_max_ms)
		return;
	if ((v = ymap_get(n, "initial")) != NULL) {
		format_duration(app->backoff_max_ms, buf, sizeof(buf));
		problem_at(ctx, v, "backoff.initial: expected at most "
		    "backoff.max (%s), got \"%s\"", buf, v->text);
	} else if ((v = ymap_get(n, "max")) != NULL) {
		format_duration(app->backoff_initial_ms, buf, sizeof(buf));
		problem_at(ctx, v, "backoff.max: expected at least "
		    "backoff.initial (%s), got \"%s\"", buf, v->text);
	}
}

static void
f_count(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	const char	*s, *what = "a non-negative integer";
	uint64_t	 v;

	if ((s = scalar(ctx, field, n, what)) == NULL)
		return;
	if (parse_uint(s, INT_MAX, &v) == -1)
		bad(ctx, field, n, what);
	else
		*(unsigned int *)dst = (unsigned int)v;
}

static void
f_keep(struct ctx *ctx, const char *field, const struct ynode *n, void *dst)
{
	const char	*s, *what = "an integer from 0 to "
			    SPEC_STR(SPEC_LOG_KEEP_MAX);
	uint64_t	 v;

	if ((s = scalar(ctx, field, n, what)) == NULL)
		return;
	if (parse_uint(s, SPEC_LOG_KEEP_MAX, &v) == -1)
		bad(ctx, field, n, what);
	else
		*(unsigned int *)dst = (unsigned int)v;
}

static void
f_signal(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	const char	*s, *what = "a signal name or number";
	int		 sig;

	if ((s = scalar(ctx, field, n, what)) == NULL)
		return;
	if ((sig = parse_signal(s)) == -1)
		bad(ctx, field, n, what);
	else
		*(int *)dst = sig;
}

static void
f_duration(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	const char	*s;

	if ((s = scalar(ctx, field, n, EXPECT_DURATION)) == NULL)
		return;
	if (parse_duration_ms(s, dst) == -1)
		bad(ctx, field, n, EXPECT_DURATION);
}

static void
f_positive(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	const char	*s, *what = "a duration greater than 0";
	uint64_t	 v;

	if ((s = scalar(ctx, field, n, EXPECT_DURATION)) == NULL)
		return;
	if (parse_duration_ms(s, &v) == -1)
		bad(ctx, field, n, EXPECT_DURATION);
	else if (v == 0)
		bad(ctx, field, n, what);
	else
		*(uint64_t *)dst = v;
}

static void
f_ready(struct ctx *ctx, const char *field, const struct ynode *n,
    void *dst)
{
	struct app_spec	*app = ctx->app;
	const char	*s, *what = "auto, notify or delay:<duration>";

	(void)dst;
	if ((s = scalar(ctx, field, n, what)) == NULL)
		return;
	if (strcmp(s, "auto") == 0)
		app->ready = READY_AUTO;
	else if (strcmp(s, "notify") == 0)
		app->ready = READY_NOTIFY;
	else if (strncmp(s, "delay:", 6) != 0)
		bad(ctx, field, n, what);
	else if (parse_duration_ms(s + 6, &app->ready_delay_ms) == -1)
		bad(ctx, field, n, "a duration after \"delay:\"");
	else
		app->ready = READY_DELAY;
}

static void
f_size(struct ctx *ctx, const char *field, const struct ynode *n, void *dst)
{
	const char	*s;

	if ((s = scalar(ctx, field, n, EXPECT_SIZE)) == NULL)
		return;
	if (parse_size(s, dst) == -1)
		bad(ctx, field, n, EXPECT_SIZE);
}

static void
f_logs(struct ctx *ctx, const char *field, const struct ynode *n, void *dst)
{
	(void)dst;
	if (n->type != Y_MAP) {
		bad(ctx, field, n, "a mapping with out, err, max_size, keep, "
		    "timestamps, to");
		return;
	}
	walk_map(ctx, n, "logs.", logs_fields, nitems(logs_fields));
}

/* Apps. */
static struct app_spec *
app_new(const struct ynode *n)
{
	struct app_spec	*app;

	app = xcalloc(1, sizeof(*app));
	app->instances_mode = INSTANCES_FIXED;
	app->instances_arg = 1;
	app->instances = 1;
	app->env = xcalloc(1, sizeof(*app->env));
	app->restart = RESTART_ALWAYS;
	app->backoff_initial_ms = 100;
	app->backoff_max_ms = 30000;
	app->backoff_reset_ms = 30000;
	app->stop_signal = SIGTERM;
	app->kill_timeout_ms = 5000;
	app->ready = READY_AUTO;
	app->ready_timeout_ms = 30000;
	app->log_max_size = 10 * 1024 * 1024;
	app->log_keep = 5;
	app->log_timestamps = 1;
	app->line = n->line;
	app->column = n->column;
	return app;
}

static void
app_resolve_instances(struct ctx *ctx, struct app_spec *app)
{
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

/* Checks between fields of one app, once all are read. */
static void
app_finish(struct ctx *ctx, struct app_spec *app, const struct ynode *n,
    unsigned int seen)
{
	char	buf[SPEC_ADDR_MAX + 64];
	size_t	i;

	if (!(seen & 1))
		problem_at(ctx, n, "app: missing required key \"name\"");
	if (!(seen & 2))
		problem_at(ctx, n, "app: missing required key \"command\"");
	if (app->cwd == NULL)
		app->cwd = xstrdup(ctx->dir);
	app_ids(ctx, app, n);
	app_resolve_instances(ctx, app);
	if (app->balance != BALANCE_REUSEPORT || ctx->balance_at == NULL)
		return;
	for (i = 0; i < app->nlisten; i++) {
		if (app->listen[i].family != AF_UNIX)
			continue;
		snprintf(buf, sizeof(buf), "shared with a unix socket (%s)",
		    app->listen[i].text);
		bad(ctx, "balance", ctx->balance_at, buf);
		break;
	}
}

static void
parse_app(struct ctx *ctx, const struct ynode *n)
{
	struct spec	*spec = ctx->spec;
	struct app_spec	*app;
	unsigned int	 seen;

	if (n->type != Y_MAP) {
		bad(ctx, "app", n, "a mapping");
		return;
	}
	app = app_new(n);
	ctx->app = app;
	ctx->balance_at = NULL;
	seen = walk_map(ctx, n, "", app_fields, nitems(app_fields));
	app_finish(ctx, app, n, seen);
	ctx->app = NULL;
	spec->apps = xreallocarray(spec->apps, spec->napps + 1,
	    sizeof(*spec->apps));
	spec->apps[spec->napps++] = app;
}

static void
f_apps(struct ctx *ctx, const char *field, const struct ynode *n, void *dst)
{
	size_t	i;

	(void)dst;
	if (n->type != Y_SEQ || n->nkids == 0) {
		bad(ctx, field, n, "a list of apps");
		return;
	}
	for (i = 0; i < n->nkids; i++)
		parse_app(ctx, n->kids[i]);
}

static void
parse_root(struct ctx *ctx, const struct ynode *root)
{
	char	buf[YSHOW_SIZE];

	if (root == NULL) {
		problem(ctx, 1, 1, "expected a mapping with key \"apps\", "
		    "got an empty file");
		return;
	}
	if (root->type != Y_MAP) {
		problem_at(ctx, root, "expected a mapping with key \"apps\", "
		    "got %s", ynode_show(root, buf, sizeof(buf)));
		return;
	}
	if (!(walk_map(ctx, root, "", top_fields, nitems(top_fields)) & 1))
		problem_at(ctx, root, "missing required key \"apps\"");
}

int
spec_parse(const char *path, const char *buf, size_t len, struct spec **out,
    struct spec_errors *errs)
{
	return spec_parse_in(path, NULL, buf, len, out, errs);
}

int
spec_parse_in(const char *path, const char *real, const char *buf, size_t len,
    struct spec **out, struct spec_errors *errs)
{
	struct ctx	 ctx;
	struct ynode	*root;
	int		 rc;

	*out = NULL;
	memset(&ctx, 0, sizeof(ctx));
	ctx.path = path;
	ctx.dir = path_dir(real != NULL ? real : path);
	ctx.spec = xcalloc(1, sizeof(*ctx.spec));
	ctx.spec->path = xstrdup(path);
	if (ytree_parse(buf, len, &root, tree_problem, &ctx) == 0)
		parse_root(&ctx, root);
	ynode_free(root);
	rc = ctx.nproblems == 0 ? 0 : -1;
	problems_flush(&ctx, errs);
	if (rc == 0)
		*out = ctx.spec;
	else
		spec_free(ctx.spec);
	free(ctx.dir);
	free(ctx.names);
	free(ctx.addrs);
	return rc;
}

void
app_spec_free(struct app_spec *app)
{
	if (app == NULL)
		return;
	strv_free(app->argv);
	free(app->cwd);
	free(app->listen);
	strv_free(app->env);
	free(app->user);
	free(app->group);
	free(app->ids.groups);
	free(app->ids.login);
	free(app->ids.home);
	free(app->ids.shell);
	free(app->log_out);
	free(app->log_err);
	free(app);
}

void
spec_free(struct spec *spec)
{
	size_t	i;

	if (spec == NULL)
		return;
	for (i = 0; i < spec->napps; i++)
		app_spec_free(spec->apps[i]);
	free(spec->apps);
	free(spec->path);
	free(spec);
}

struct app_spec *
app_spec_dup(const struct app_spec *app)
{
	struct app_spec	*d;

	d = xcalloc(1, sizeof(*d));
	*d = *app;
	d->argv = strv_dup(app->argv, app->argc);
	d->cwd = xstrdup_or_null(app->cwd);
	d->listen = NULL;
	if (app->nlisten > 0) {
		d->listen = xreallocarray(NULL, app->nlisten,
		    sizeof(*d->listen));
		memcpy(d->listen, app->listen, app->nlisten *
		    sizeof(*d->listen));
	}
	d->env = strv_dup(app->env, app->nenv);
	d->user = xstrdup_or_null(app->user);
	d->group = xstrdup_or_null(app->group);
	d->ids.login = xstrdup_or_null(app->ids.login);
	d->ids.home = xstrdup_or_null(app->ids.home);
	d->ids.shell = xstrdup_or_null(app->ids.shell);
	if (app->ids.ngroups > 0) {
		d->ids.groups = xreallocarray(NULL, app->ids.ngroups,
		    sizeof(*d->ids.groups));
		memcpy(d->ids.groups, app->ids.groups, app->ids.ngroups *
		    sizeof(*d->ids.groups));
	}
	d->log_out = xstrdup_or_null(app->log_out);
	d->log_err = xstrdup_or_null(app->log_err);
	return d;
}

/* The same identity, as looked up: a changed passwd entry is a change. */
static int
ids_equal(const struct spec_ids *a, const struct spec_ids *b)
{
	return a->set == b->set && a->uid == b->uid && a->gid == b->gid &&
	    a->ngroups == b->ngroups && (a->ngroups == 0 ||
	    memcmp(a->groups, b->groups, a->ngroups * sizeof(*a->groups)) ==
	    0) && str_equal(a->login, b->login) &&
	    str_equal(a->home, b->home) && str_equal(a->shell, b->shell);
}

/* What the process is: command, place, identity, sockets. */
static int
app_equal_process(const struct app_spec *a, const struct app_spec *b)
{
	size_t	i;

	if (strcmp(a->name, b->name) != 0 ||
	    !strv_equal(a->argv, a->argc, b->argv, b->argc) ||
	    !str_equal(a->cwd, b->cwd) ||
	    !strv_equal(a->env, a->nenv, b->env, b->nenv) ||
	    !str_equal(a->user, b->user) || !str_equal(a->group, b->group) ||
	    !ids_equal(&a->ids, &b->ids))
		return 0;
	if (a->nlisten != b->nlisten || a->balance != b->balance ||
	    a->intercept_bind != b->intercept_bind)
		return 0;
	for (i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i].text, b->listen[i].text) != 0)
			return 0;
	return 1;
}

/* How it is run: counts, policies, timers, logs. */
static int
app_equal_policy(const struct app_spec *a, const struct app_spec *b)
{
	return a->instances_mode == b->instances_mode &&
	    a->instances_arg == b->instances_arg &&
	    a->instances == b->instances &&
	    a->restart == b->restart &&
	    a->backoff_initial_ms == b->backoff_initial_ms &&
	    a->backoff_max_ms == b->backoff_max_ms &&
	    a->backoff_reset_ms == b->backoff_reset_ms &&
	    a->max_restarts == b->max_restarts &&
	    a->stop_signal == b->stop_signal &&
	    a->kill_timeout_ms == b->kill_timeout_ms &&
	    a->ready == b->ready &&
	    (a->ready != READY_DELAY ||
	    a->ready_delay_ms == b->ready_delay_ms) &&
	    a->ready_timeout_ms == b->ready_timeout_ms &&
	    a->max_memory == b->max_memory &&
	    str_equal(a->log_out, b->log_out) &&
	    str_equal(a->log_err, b->log_err) &&
	    a->log_max_size == b->log_max_size &&
	    a->log_keep == b->log_keep &&
	    a->log_timestamps == b->log_timestamps &&
	    a->log_to == b->log_to;
}

int
app_spec_equal(const struct app_spec *a, const struct app_spec *b)
{
	return app_equal_process(a, b) && app_equal_policy(a, b);
}

/* Dumping: one "app.field=value" line per effective value. */

/* s with control characters and backslashes escaped. */
static void
dump_text(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fprintf(fp, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, fp);
	}
}

/* An argument as the string form of command would need it. */
static void
dump_word(FILE *fp, const char *s)
{
	if (*s != '\0' && strpbrk(s, " \t\n\r\f\v'\"\\") == NULL) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
dump_str(FILE *fp, const char *app, const char *field, const char *v)
{
	fprintf(fp, "%s.%s=", app, field);
	if (v != NULL)
		dump_text(fp, v);
	fputc('\n', fp);
}

static void
dump_duration(FILE *fp, const char *app, const char *field, uint64_t ms)
{
	char	buf[32];

	format_duration(ms, buf, sizeof(buf));
	fprintf(fp, "%s.%s=%s\n", app, field, buf);
}

static void
dump_size(FILE *fp, const char *app, const char *field, uint64_t bytes)
{
	char	buf[32];

	format_size(bytes, buf, sizeof(buf));
	fprintf(fp, "%s.%s=%s\n", app, field, buf);
}

static void
dump_process(const struct app_spec *app, FILE *fp)
{
	const char	*n = app->name;
	size_t		 i;

	fprintf(fp, "%s.command=", n);
	for (i = 0; i < app->argc; i++) {
		if (i > 0)
			fputc(' ', fp);
		dump_word(fp, app->argv[i]);
	}
	fputc('\n', fp);
	dump_str(fp, n, "cwd", app->cwd);
	fprintf(fp, "%s.instances=%d\n", n, app->instances);
	if (app->nlisten == 0)
		fprintf(fp, "%s.listen=\n", n);
	for (i = 0; i < app->nlisten; i++)
		fprintf(fp, "%s.listen=%s\n", n, app->listen[i].text);
	fprintf(fp, "%s.balance=%s\n", n, balance_name(app->balance));
	fprintf(fp, "%s.intercept_bind=%s\n", n,
	    app->intercept_bind ? "true" : "false");
	for (i = 0; i < app->nenv; i++) {
		fprintf(fp, "%s.env.", n);
		dump_text(fp, app->env[i]);
		fputc('\n', fp);
	}
	dump_str(fp, n, "user", app->user);
	dump_str(fp, n, "group", app->group);
}

static void
dump_policy(const struct app_spec *app, FILE *fp)
{
	const char	*n = app->name;
	char		 buf[32];

	fprintf(fp, "%s.restart=%s\n", n, restart_name(app->restart));
	dump_duration(fp, n, "backoff.initial", app->backoff_initial_ms);
	dump_duration(fp, n, "backoff.max", app->backoff_max_ms);
	dump_duration(fp, n, "backoff.reset_after", app->backoff_reset_ms);
	fprintf(fp, "%s.max_restarts=%u\n", n, app->max_restarts);
	fprintf(fp, "%s.stop_signal=%s\n", n, signal_name(app->stop_signal));
	dump_duration(fp, n, "kill_timeout", app->kill_timeout_ms);
	if (app->ready == READY_DELAY) {
		format_duration(app->ready_delay_ms, buf, sizeof(buf));
		fprintf(fp, "%s.ready=delay:%s\n", n, buf);
	} else
		fprintf(fp, "%s.ready=%s\n", n,
		    app->ready == READY_NOTIFY ? "notify" : "auto");
	dump_duration(fp, n, "ready_timeout", app->ready_timeout_ms);
	dump_size(fp, n, "max_memory", app->max_memory);
	dump_str(fp, n, "logs.out", app->log_out);
	dump_str(fp, n, "logs.err", app->log_err);
	dump_size(fp, n, "logs.max_size", app->log_max_size);
	fprintf(fp, "%s.logs.keep=%u\n", n, app->log_keep);
	fprintf(fp, "%s.logs.timestamps=%s\n", n,
	    app->log_timestamps ? "true" : "false");
	fprintf(fp, "%s.logs.to=%s\n", n, logs_to_name(app->log_to));
}

void
spec_dump(const struct spec *spec, FILE *fp)
{
	size_t	i;

	for (i = 0; i < spec->napps; i++) {
		dump_process(spec->apps[i], fp);
		dump_policy(spec->apps[i], fp);
	}
}

/*
 * Writing a spec back as YAML (the dump of `pmc save`).  Every field is
 * written, defaults too, so that the file means the same thing wherever
 * and whenever it is read.  A string is written plain when that cannot
 * change its meaning, else double-quoted with escapes.
 */

/* Plain-safe: letters, digits and "_./-", not starting with "-". */
static int
yaml_plain_ok(const char *s)
{
	if (*s == '\0' || *s == '-' || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_./-") == strlen(s);
}

/* The code point of the UTF-8 sequence at s and its length, or -1. */
static int
utf8_decode(const unsigned char *s, uint32_t *cp)
{
	static const uint32_t	 min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	int			 n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4;
	else
		return -1;
	*cp = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min[n] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return -1;
	return n;
}

/*
 * May code point cp stand as itself in a double-quoted scalar?  Not the
 * characters YAML does not allow in a stream, nor its line breaks.
 */
static int
yaml_char_ok(uint32_t cp)
{
	return (cp >= 0x20 && cp <= 0x7e && cp != '"' && cp != '\\') ||
	    (cp >= 0xa0 && cp <= 0xd7ff && cp != 0x2028 && cp != 0x2029) ||
	    (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff) ||
	    (cp >= 0x10000 && cp <= 0x10ffff);
}

static void
yaml_escape(FILE *f, uint32_t cp)
{
	switch (cp) {
	case '"':
		fputs("\\\"", f);
		break;
	case '\\':
		fputs("\\\\", f);
		break;
	case '\n':
		fputs("\\n", f);
		break;
	case '\t':
		fputs("\\t", f);
		break;
	case '\r':
		fputs("\\r", f);
		break;
	default:
		if (cp <= 0xff)
			fprintf(f, "\\x%02x", (unsigned int)cp);
		else if (cp <= 0xffff)
			fprintf(f, "\\u%04x", (unsigned int)cp);
		else
			fprintf(f, "\\U%08x", (unsigned int)cp);
	}
}

/* s double-quoted; a byte that is not UTF-8 becomes \xHH. */
static void
yaml_quoted(FILE *f, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 cp;
	int			 n;

	fputc('"', f);
	while (*p != '\0') {
		if ((n = utf8_decode(p, &cp)) == -1) {
			fprintf(f, "\\x%02x", *p++);
			continue;
		}
		if (yaml_char_ok(cp))
			fwrite(p, 1, (size_t)n, f);
		else
			yaml_escape(f, cp);
		p += n;
	}
	fputc('"', f);
}

/* s as a YAML scalar: plain when that is safe, else double-quoted. */
static void
yaml_str(FILE *f, const char *s)
{
	if (yaml_plain_ok(s))
		fputs(s, f);
	else
		yaml_quoted(f, s);
}

static void
yaml_key_str(FILE *f, const char *indent, const char *key, const char *v)
{
	fprintf(f, "%s%s: ", indent, key);
	yaml_str(f, v);
	fputc('\n', f);
}

static void
yaml_duration(FILE *f, const char *indent, const char *key, uint64_t ms)
{
	char	buf[32];

	format_duration(ms, buf, sizeof(buf));
	fprintf(f, "%s%s: %s\n", indent, key, buf);
}

static void
yaml_size(FILE *f, const char *indent, const char *key, uint64_t bytes)
{
	char	buf[32];

	format_size(bytes, buf, sizeof(buf));
	fprintf(f, "%s%s: %s\n", indent, key, buf);
}

/* name, command, cwd, instances, listen, balance, intercept_bind. */
static void
write_process(const struct app_spec *app, FILE *f)
{
	size_t	i;

	fputs("  - name: ", f);
	yaml_str(f, app->name);
	fputs("\n    command: [", f);
	for (i = 0; i < app->argc; i++) {
		if (i > 0)
			fputs(", ", f);
		yaml_str(f, app->argv[i]);
	}
	fputs("]\n", f);
	yaml_key_str(f, "    ", "cwd", app->cwd);
	if (app->instances_mode == INSTANCES_MAX)
		fputs("    instances: max\n", f);
	else if (app->instances_mode == INSTANCES_MAX_MINUS)
		fprintf(f, "    instances: -%d\n", app->instances_arg);
	else
		fprintf(f, "    instances: %d\n", app->instances);
	if (app->nlisten > 0)
		fputs("    listen:\n", f);
	for (i = 0; i < app->nlisten; i++) {
		fputs("      - ", f);
		yaml_str(f, app->listen[i].text);
		fputc('\n', f);
	}
	fprintf(f, "    balance: %s\n", balance_name(app->balance));
	fprintf(f, "    intercept_bind: %s\n",
	    app->intercept_bind ? "true" : "false");
}

/* env, user, group. */
static void
write_identity(const struct app_spec *app, FILE *f)
{
	const char	*eq;
	size_t		 i;

	fputs(app->nenv > 0 ? "    env:\n" : "    env: {}\n", f);
	for (i = 0; i < app->nenv; i++) {
		/* Quoted: a key like NULL or a value like null is text. */
		eq = app->env[i] + strcspn(app->env[i], "=");
		fprintf(f, "      \"%.*s\": ", (int)(eq - app->env[i]),
		    app->env[i]);
		yaml_quoted(f, *eq == '=' ? eq + 1 : "");
		fputc('\n', f);
	}
	if (app->user != NULL)
		yaml_key_str(f, "    ", "user", app->user);
	if (app->group != NULL)
		yaml_key_str(f, "    ", "group", app->group);
}

/* restart, backoff, max_restarts, stop_signal, kill_timeout, ready... */
static void
write_policy(const struct app_spec *app, FILE *f)
{
	char	buf[32];

	fprintf(f, "    restart: %s\n", restart_name(app->restart));
	fputs("    backoff:\n", f);
	yaml_duration(f, "      ", "initial", app->backoff_initial_ms);
	yaml_duration(f, "      ", "max", app->backoff_max_ms);
	yaml_duration(f, "      ", "reset_after", app->backoff_reset_ms);
	fprintf(f, "    max_restarts: %u\n", app->max_restarts);
	fprintf(f, "    stop_signal: %s\n", signal_name(app->stop_signal));
	yaml_duration(f, "    ", "kill_timeout", app->kill_timeout_ms);
	if (app->ready == READY_DELAY) {
		format_duration(app->ready_delay_ms, buf, sizeof(buf));
		fprintf(f, "    ready: \"delay:%s\"\n", buf);
	} else
		fprintf(f, "    ready: %s\n",
		    app->ready == READY_NOTIFY ? "notify" : "auto");
	yaml_duration(f, "    ", "ready_timeout", app->ready_timeout_ms);
	yaml_size(f, "    ", "max_memory", app->max_memory);
}

static void
write_logs(const struct app_spec *app, FILE *f)
{
	fputs("    logs:\n", f);
	if (app->log_out != NULL)
		yaml_key_str(f, "      ", "out", app->log_out);
	if (app->log_err != NULL)
		yaml_key_str(f, "      ", "err", app->log_err);
	yaml_size(f, "      ", "max_size", app->log_max_size);
	fprintf(f, "      keep: %u\n", app->log_keep);
	fprintf(f, "      timestamps: %s\n",
	    app->log_timestamps ? "true" : "false");
	fprintf(f, "      to: %s\n", logs_to_name(app->log_to));
}

int
spec_write_yaml(struct app_spec *const *apps, size_t napps, FILE *f)
{
	size_t	i;

	fputs("# written by pmcd; pmc resurrect reads it back\n", f);
	if (napps == 0)
		fputs("# no apps were running\n", f);
	else
		fputs("apps:\n", f);
	for (i = 0; i < napps; i++) {
		if (i > 0)
			fputc('\n', f);
		write_process(apps[i], f);
		write_identity(apps[i], f);
		write_policy(apps[i], f);
		write_logs(apps[i], f);
	}
	if (fflush(f) == EOF || ferror(f))
		return -1;
	return 0;
}
