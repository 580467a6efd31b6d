/*
 * spec.c -- load and validate pm.yaml app specs: the table of fields
 * (specfield.h) and what walks it to read, default, copy, compare and
 * free an app.
 *
 * The YAML text is first turned into a tree (ytree.c), then each app
 * mapping is read against the rows of spec_fields; a field not given
 * takes its default, read from the text of the row as if the spec had
 * said it.  Every problem is collected with its position; the messages
 * are handed back sorted by position, and a spec with any problem is
 * freed.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <limits.h>
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
#include "specfield.h"
#include "xmalloc.h"
#include "ytree.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define FIELDS_MAX	64		/* rows of spec_fields: bits of a mask */

#define SPEC_STR1(x)	#x
#define SPEC_STR(x)	SPEC_STR1(x)

#define EXPECT_NAME	"1 to 64 letters, digits, \".\", \"_\" or \"-\""
#define EXPECT_COMMAND	"a command (a string or a list of strings)"
#define EXPECT_INST	"a positive integer or \"max\""
#define EXPECT_DURATION	"a duration like 100ms, 5s, 1m or 2h"
#define EXPECT_SIZE	"a size like 512K, 10M or 1G"
#define EXPECT_BOOL	"true or false"
#define EXPECT_ENVNAME	"a variable name ([A-Za-z_][A-Za-z0-9_]*)"
#define EXPECT_READY	"auto, notify or delay:<duration>"
/* What `pmc save` could not write back (a folder named in Latin-1...). */
#define EXPECT_UTF8	"a path that is UTF-8 text once made absolute"
#define EXPECT_UTF8_UNIX \
	"a socket path that is UTF-8 text once made absolute"

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
	const struct ynode	 *at[FIELDS_MAX];	/* its values, by row */
	uint64_t		  bad;		/* rows whose value was not */
	struct problem		 *problems;
	size_t			  nproblems;
	struct seen_name	 *names;
	size_t			  nnames;
	struct seen_addr	 *addrs;
	size_t			  naddrs;
	int			  ncpus;	/* 0 until needed */
};

/*
 * What a row does besides, or instead of, what its kind does.  A NULL
 * hook is the kind's (nothing, for SK_CUSTOM).
 */
struct spec_hooks {
	/* Read the value n of row f into ctx->app. */
	void		 (*parse)(struct ctx *, const struct spec_field *,
			    const struct ynode *);
	/* Once every field is read or defaulted; n is the app's mapping. */
	void		 (*finish)(struct ctx *, const struct spec_field *,
			    const struct ynode *);
	size_t		 (*count)(const struct app_spec *);
	const char	*(*text)(const struct app_spec *, size_t, int, char *,
			    size_t);
	int		 (*equal)(const struct app_spec *,
			    const struct app_spec *);
	void		 (*copy)(struct app_spec *, const struct app_spec *);
	void		 (*release)(struct app_spec *);
};

#define FIELD(app, f)	((void *)((char *)(app) + (f)->off))
#define CFIELD(app, f)	((const void *)((const char *)(app) + (f)->off))
#define CCOUNT(app, f)	((const size_t *)((const char *)(app) + (f)->off_n))
#define ROW(f)		((size_t)((f) - spec_fields))
#define AT(ctx, f)	((ctx)->at[ROW(f)])
#define BAD(ctx, f)	(((ctx)->bad >> ROW(f)) & 1)

static const struct spec_hooks name_hooks, command_hooks, instances_hooks,
    listen_hooks, balance_hooks, env_hooks, user_hooks, group_hooks,
    ids_hooks, backoff_hooks, ready_hooks;

/* Words by value: the enums of spec.h. */
static const char *const balance_words[] = { "shared", "reuseport", NULL };
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
	{ "balance", SK_ENUM, APP(balance), .def = "shared",
	    .words = balance_words, .hooks = &balance_hooks },
	{ "intercept_bind", SK_BOOL, APP(intercept_bind), .def = "false" },
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
	{ "backoff.reset_after", SK_DURATION, APP(backoff_reset_ms),
	    .def = "30s" },
	{ "max_restarts", SK_COUNT, APP(max_restarts), .def = "0",
	    .max = INT_MAX },
	{ "stop_signal", SK_SIGNAL, APP(stop_signal), .def = "TERM" },
	{ "kill_timeout", SK_DURATION, APP(kill_timeout_ms), .def = "5s" },
	{ "ready", SK_CUSTOM, APP(ready), .def = "auto",
	    .expect = EXPECT_READY, .hooks = &ready_hooks },
	{ "ready_timeout", SK_DURATION, APP(ready_timeout_ms), .def = "30s",
	    .flags = SF_NONZERO },
	{ "max_memory", SK_SIZE, APP(max_memory), .def = "0" },
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

#define problem_at(ctx, n, ...) \
	problem(ctx, (n)->line, (n)->column, __VA_ARGS__)

static void
tree_problem(void *arg, int line, int column, const char *msg)
{
	problem(arg, line, column, "%s", msg);
}

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

/* Words. */
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

/* The word of value v; the first (the default) for a stray value. */
static const char *
word_name(const char *const *words, int v)
{
	int	i;

	for (i = 0; words[i] != NULL; i++)
		if (i == v)
			return words[i];
	return words[0];
}

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

/* "a, b or c" of a NULL-terminated list, in buf. */
static const char *
words_join(const char *lead, const char *const *words, const char *last,
    char *buf, size_t size)
{
	size_t	i;

	strlcpy(buf, lead, size);
	for (i = 0; words[i] != NULL; i++) {
		if (i > 0)
			strlcat(buf, words[i + 1] == NULL ? last : ", ", size);
		strlcat(buf, words[i], size);
	}
	return buf;
}

/* The table. */
const char *
spec_field_key(const struct spec_field *f)
{
	const char	*dot = strrchr(f->name, '.');

	return dot != NULL ? dot + 1 : f->name;
}

/* Is f a key of the mapping of group (NULL: of the app)? */
static int
field_in(const struct spec_field *f, const struct spec_field *group)
{
	size_t	n;

	if (f->flags & SF_HIDDEN)
		return 0;
	if (group == NULL)
		return strchr(f->name, '.') == NULL;
	n = strlen(group->name);
	return strncmp(f->name, group->name, n) == 0 && f->name[n] == '.' &&
	    strchr(f->name + n + 1, '.') == NULL;
}

static const struct spec_field *
field_named(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(spec_fields); i++)
		if (strcmp(spec_fields[i].name, name) == 0)
			return &spec_fields[i];
	abort();
}

/* What a value of f should have been, for "expected ...". */
static const char *
field_expect(const struct spec_field *f, char *buf, size_t size)
{
	const char	*keys[FIELDS_MAX + 1];
	size_t		 i, n = 0;

	if (f->expect != NULL)
		return f->expect;
	switch (f->kind) {
	case SK_PATH:
		return "a path";
	case SK_DURATION:
		return EXPECT_DURATION;
	case SK_SIZE:
		return EXPECT_SIZE;
	case SK_BOOL:
		return EXPECT_BOOL;
	case SK_COUNT:
		if (f->max == INT_MAX)
			return "a non-negative integer";
		snprintf(buf, size, "an integer from 0 to %llu",
		    (unsigned long long)f->max);
		return buf;
	case SK_ENUM:
		return words_join("", f->words, " or ", buf, size);
	case SK_SIGNAL:
		return "a signal name or number";
	case SK_GROUP:
		for (i = 0; i < nitems(spec_fields); i++)
			if (field_in(&spec_fields[i], f))
				keys[n++] = spec_field_key(&spec_fields[i]);
		keys[n] = NULL;
		return words_join("a mapping with ", keys, ", ", buf, size);
	default:
		return "a string";
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

/* Key k is none of keys: say so, with the closest when one is close. */
static void
unknown_key(struct ctx *ctx, const struct ynode *k, const char *prefix,
    const char *const *keys, size_t nkeys)
{
	const char	*best = NULL;
	int		 d, bestd = INT_MAX;
	size_t		 i;

	for (i = 0; i < nkeys; i++) {
		d = edit_distance(k->text, keys[i]);
		if (d < bestd && d <= (strlen(keys[i]) > 4 ? 2 : 1)) {
			bestd = d;
			best = keys[i];
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
	char			 buf[YSHOW_SIZE];
	size_t			 j;

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

static void	 field_read(struct ctx *, const struct spec_field *,
		    const struct ynode *);

/* Read the keys of map as the fields of group (NULL: of the app). */
static void
walk_map(struct ctx *ctx, const struct ynode *map,
    const struct spec_field *group)
{
	const struct spec_field	*f, *rows[FIELDS_MAX];
	const char		*keys[FIELDS_MAX];
	const struct ynode	*k;
	char			 prefix[SPEC_NAME_MAX];
	size_t			 i, j, n = 0;

	snprintf(prefix, sizeof(prefix), "%s%s", group != NULL ?
	    group->name : "", group != NULL ? "." : "");
	for (i = 0; i < nitems(spec_fields); i++) {
		if (!field_in(&spec_fields[i], group))
			continue;
		rows[n] = &spec_fields[i];
		keys[n++] = spec_field_key(&spec_fields[i]);
	}
	for (i = 0; i + 1 < map->nkids; i += 2) {
		k = map->kids[i];
		if (!key_ok(ctx, map, i, prefix))
			continue;
		for (j = 0, f = NULL; j < n && f == NULL; j++)
			if (strcmp(k->text, keys[j]) == 0)
				f = rows[j];
		if (f == NULL)
			unknown_key(ctx, k, prefix, keys, n);
		else
			field_read(ctx, f, map->kids[i + 1]);
	}
}

/* Reading values by kind. */
static int
path_set(struct ctx *ctx, const char *s, char **dst, const char **why)
{
	char	*p;

	if (*s == '\0')
		return -1;
	p = path_resolve(ctx->dir, s);
	if (!ytext_ok(p)) {
		free(p);
		*why = EXPECT_UTF8;
		return -1;
	}
	free(*dst);
	*dst = p;
	return 0;
}

/* The text s of a scalar field into dst; -1, maybe with a better why. */
static int
scalar_set(struct ctx *ctx, const struct spec_field *f, const char *s,
    void *dst, const char **why)
{
	uint64_t	v;
	int		i;

	switch (f->kind) {
	case SK_STRING:
		free(*(char **)dst);
		*(char **)dst = xstrdup(s);
		return 0;
	case SK_PATH:
		return path_set(ctx, s, dst, why);
	case SK_DURATION:
		if (parse_duration_ms(s, &v) == -1)
			return -1;
		if (v == 0 && (f->flags & SF_NONZERO)) {
			*why = "a duration greater than 0";
			return -1;
		}
		*(uint64_t *)dst = v;
		return 0;
	case SK_SIZE:
		return parse_size(s, dst);
	case SK_COUNT:
		if (parse_uint(s, f->max, &v) == -1)
			return -1;
		*(unsigned int *)dst = (unsigned int)v;
		return 0;
	case SK_BOOL:
		i = parse_bool(s);
		break;
	case SK_ENUM:
		i = word_index(s, f->words);
		break;
	case SK_SIGNAL:
		i = parse_signal(s);
		break;
	default:
		return -1;
	}
	if (i == -1)
		return -1;
	*(int *)dst = i;
	return 0;
}

/* Read the value n of f, as given or as its default. */
static void
field_value(struct ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	char		 buf[256];
	const char	*s, *why;

	if (f->hooks != NULL && f->hooks->parse != NULL) {
		f->hooks->parse(ctx, f, n);
		return;
	}
	why = field_expect(f, buf, sizeof(buf));
	if (f->kind == SK_GROUP) {
		if (n->type != Y_MAP)
			bad(ctx, f->name, n, why);
		else
			walk_map(ctx, n, f);
		return;
	}
	if ((s = scalar(ctx, f->name, n, why)) != NULL &&
	    scalar_set(ctx, f, s, FIELD(ctx->app, f), &why) == -1)
		bad(ctx, f->name, n, why);
}

/* Read the value n the spec gives f, and remember how it went. */
static void
field_read(struct ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	size_t	before = ctx->nproblems;

	AT(ctx, f) = n;
	field_value(ctx, f, n);
	if (ctx->nproblems != before)
		ctx->bad |= (uint64_t)1 << ROW(f);
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
name_parse(struct ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	const char	*s;
	size_t		 i;

	if ((s = scalar(ctx, f->name, n, EXPECT_NAME)) == NULL)
		return;
	if (!name_valid(s)) {
		bad(ctx, f->name, n, EXPECT_NAME);
		return;
	}
	if (strcmp(s, "all") == 0) {	/* pmc stop all */
		bad(ctx, f->name, n, "a name other than \"all\"");
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
command_parse(struct ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	if (n->type == Y_SEQ)
		command_list(ctx, f->name, n);
	else if (scalar(ctx, f->name, n, EXPECT_COMMAND) != NULL)
		command_string(ctx, f->name, n);
}

static const struct spec_hooks command_hooks = { .parse = command_parse };

/* instances: N, max (the CPUs this process may use) or -N (max - N). */
static void
instances_parse(struct ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	struct app_spec	*app = ctx->app;
	const char	*s;
	uint64_t	 v;

	if ((s = scalar(ctx, f->name, n, EXPECT_INST)) == NULL)
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
			bad(ctx, f->name, n, "at most "
			    SPEC_STR(SPEC_INSTANCES_MAX));
			return;
		}
		app->instances_mode = INSTANCES_FIXED;
		app->instances_arg = (int)v;
	} else
		bad(ctx, f->name, n, EXPECT_INST);
}

static void
instances_finish(struct ctx *ctx, const struct spec_field *f,
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

	if ((s = scalar(ctx, field, n, ADDR_EXPECT)) == NULL)
		return;
	if (parse_listen_at(s, ctx->dir, &a, &why) == -1) {
		bad(ctx, field, n, why);
		return;
	}
	if (!ytext_ok(a.text)) {
		bad(ctx, field, n, EXPECT_UTF8_UNIX);
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
listen_parse(struct ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	size_t	i;

	if (n->type != Y_SEQ) {
		listen_one(ctx, f->name, n);
		return;
	}
	if (n->nkids == 0)
		bad(ctx, f->name, n, ADDR_EXPECT);
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

/* balance: reuseport needs sockets that each slot can have its own of. */
static void
balance_finish(struct ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	struct app_spec	*app = ctx->app;
	char		 buf[SPEC_ADDR_MAX + 64];
	size_t		 i;

	(void)n;
	if (app->balance != BALANCE_REUSEPORT || AT(ctx, f) == NULL)
		return;
	for (i = 0; i < app->nlisten; i++) {
		if (app->listen[i].family != AF_UNIX)
			continue;
		snprintf(buf, sizeof(buf), "shared with a unix socket (%s)",
		    app->listen[i].text);
		bad(ctx, f->name, AT(ctx, f), buf);
		break;
	}
}

static const struct spec_hooks balance_hooks = { .finish = balance_finish };

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
env_parse(struct ctx *ctx, const struct spec_field *f, const struct ynode *n)
{
	size_t	i;

	if (n->type != Y_MAP) {
		bad(ctx, f->name, n, f->expect);
		return;
	}
	for (i = 0; i + 1 < n->nkids; i += 2)
		if (key_ok(ctx, n, i, "env."))
			env_pair(ctx, n->kids[i], n->kids[i + 1]);
}

static const struct spec_hooks env_hooks = { .parse = env_parse };

/*
 * user and group: must exist; only root may switch to another.  Digits
 * are a number, never a name, here and at the spawn alike.  The ids are
 * completed in ids_finish, once both are read.
 */
static void
id_parse(struct ctx *ctx, const struct spec_field *f, const struct ynode *n,
    int group)
{
	struct lookup_user	 u;
	const char		*s, *what = group ? "an existing group" :
				    "an existing user";
	gid_t			 gid;
	long			 found;

	if ((s = scalar(ctx, f->name, n, what)) == NULL)
		return;
	if (group)
		found = lookup_group(s, &gid) == 0 ? (long)gid : -1;
	else
		found = lookup_user(s, &u) == 0 ? (long)u.uid : -1;
	if (found == -1) {
		bad(ctx, f->name, n, lookup_replaying() ? (group ?
		    "a group that pmc looked up" : "a user that pmc looked up") :
		    what);
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
user_parse(struct ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	id_parse(ctx, f, n, 0);
}

static void
group_parse(struct ctx *ctx, const struct spec_field *f,
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
ids_finish(struct ctx *ctx, const struct spec_field *f,
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
backoff_finish(struct ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	struct app_spec		*app = ctx->app;
	const struct ynode	*v;
	char			 buf[32];

	(void)n;
	if (AT(ctx, f) == NULL || BAD(ctx, f) ||
	    app->backoff_initial_ms <= app->backoff_max_ms)
		return;
	if ((v = AT(ctx, field_named("backoff.initial"))) != NULL) {
		format_duration(app->backoff_max_ms, buf, sizeof(buf));
		problem_at(ctx, v, "backoff.initial: expected at most "
		    "backoff.max (%s), got \"%s\"", buf, v->text);
	} else if ((v = AT(ctx, field_named("backoff.max"))) != NULL) {
		format_duration(app->backoff_initial_ms, buf, sizeof(buf));
		problem_at(ctx, v, "backoff.max: expected at least "
		    "backoff.initial (%s), got \"%s\"", buf, v->text);
	}
}

static const struct spec_hooks backoff_hooks = { .finish = backoff_finish };

/* ready: auto, notify or delay:<duration>. */
static void
ready_parse(struct ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	struct app_spec	*app = ctx->app;
	const char	*s;

	if ((s = scalar(ctx, f->name, n, EXPECT_READY)) == NULL)
		return;
	if (strcmp(s, "auto") == 0)
		app->ready = READY_AUTO;
	else if (strcmp(s, "notify") == 0)
		app->ready = READY_NOTIFY;
	else if (strncmp(s, "delay:", 6) != 0)
		bad(ctx, f->name, n, EXPECT_READY);
	else if (parse_duration_ms(s + 6, &app->ready_delay_ms) == -1)
		bad(ctx, f->name, n, "a duration after \"delay:\"");
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

/* Apps. */
static struct app_spec *
app_new(const struct ynode *n)
{
	struct app_spec	*app;

	app = xcalloc(1, sizeof(*app));
	app->env = xcalloc(1, sizeof(*app->env));	/* never NULL */
	app->line = n->line;
	app->column = n->column;
	return app;
}

/* The default of f, read as a plain scalar at the app's place, n. */
static void
field_default(struct ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	struct ynode	d;
	char		text[32];

	memset(&d, 0, sizeof(d));
	d.type = Y_SCALAR;
	d.len = strlcpy(text, f->def, sizeof(text));
	d.text = text;
	d.plain = 1;
	d.line = n->line;
	d.column = n->column;
	field_value(ctx, f, &d);
}

/* Once every key of the app at n is read: what is missing, and checks. */
static void
app_finish(struct ctx *ctx, const struct ynode *n)
{
	const struct spec_field	*f, *end = spec_fields + nitems(spec_fields);

	for (f = spec_fields; f < end; f++)
		if ((f->flags & SF_REQUIRED) && AT(ctx, f) == NULL)
			problem_at(ctx, n, "app: missing required key \"%s\"",
			    f->name);
	for (f = spec_fields; f < end; f++)
		if (f->def != NULL && AT(ctx, f) == NULL)
			field_default(ctx, f, n);
	for (f = spec_fields; f < end; f++)
		if (f->hooks != NULL && f->hooks->finish != NULL)
			f->hooks->finish(ctx, f, n);
}

static void
parse_app(struct ctx *ctx, const struct ynode *n)
{
	struct spec	*spec = ctx->spec;

	if (n->type != Y_MAP) {
		bad(ctx, "app", n, "a mapping");
		return;
	}
	ctx->app = app_new(n);
	memset(ctx->at, 0, sizeof(ctx->at));
	ctx->bad = 0;
	walk_map(ctx, n, NULL);
	app_finish(ctx, n);
	spec->apps = xreallocarray(spec->apps, spec->napps + 1,
	    sizeof(*spec->apps));
	spec->apps[spec->napps++] = ctx->app;
	ctx->app = NULL;
}

static void
parse_apps(struct ctx *ctx, const struct ynode *n)
{
	size_t	i;

	if (n->type != Y_SEQ || n->nkids == 0) {
		bad(ctx, "apps", n, "a list of apps");
		return;
	}
	for (i = 0; i < n->nkids; i++)
		parse_app(ctx, n->kids[i]);
}

static void
parse_root(struct ctx *ctx, const struct ynode *root)
{
	static const char *const keys[] = { "apps" };
	char			 buf[YSHOW_SIZE];
	size_t			 i;
	int			 apps = 0;

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
	for (i = 0; i + 1 < root->nkids; i += 2) {
		if (!key_ok(ctx, root, i, ""))
			continue;
		if (strcmp(root->kids[i]->text, keys[0]) != 0) {
			unknown_key(ctx, root->kids[i], "", keys, nitems(keys));
			continue;
		}
		apps = 1;
		parse_apps(ctx, root->kids[i + 1]);
	}
	if (!apps)
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

/* An app as a record: every row freed, copied and compared. */
void
app_spec_free(struct app_spec *app)
{
	const struct spec_field	*f;

	if (app == NULL)
		return;
	for (f = spec_fields; f < spec_fields + nitems(spec_fields); f++) {
		if (f->hooks != NULL && f->hooks->release != NULL)
			f->hooks->release(app);
		else if (f->kind == SK_STRING || f->kind == SK_PATH)
			free(*(char **)FIELD(app, f));
		else if (f->kind == SK_STRV)
			strv_free(*(char ***)FIELD(app, f));
	}
	free(app);
}

struct app_spec *
app_spec_dup(const struct app_spec *app)
{
	const struct spec_field	*f;
	struct app_spec		*d;
	void			*v;

	d = xcalloc(1, sizeof(*d));
	*d = *app;
	for (f = spec_fields; f < spec_fields + nitems(spec_fields); f++) {
		v = FIELD(d, f);
		if (f->hooks != NULL && f->hooks->copy != NULL)
			f->hooks->copy(d, app);
		else if (f->kind == SK_STRING || f->kind == SK_PATH)
			*(char **)v = xstrdup_or_null(*(char **)v);
		else if (f->kind == SK_STRV)
			*(char ***)v = strv_dup(*(char ***)v,
			    *CCOUNT(app, f));
	}
	return d;
}

static int
field_equal(const struct spec_field *f, const struct app_spec *a,
    const struct app_spec *b)
{
	const void	*x = CFIELD(a, f), *y = CFIELD(b, f);

	if (f->hooks != NULL && f->hooks->equal != NULL)
		return f->hooks->equal(a, b);
	switch (f->kind) {
	case SK_STRING:
	case SK_PATH:
		return str_equal(*(char *const *)x, *(char *const *)y);
	case SK_DURATION:
	case SK_SIZE:
		return *(const uint64_t *)x == *(const uint64_t *)y;
	case SK_COUNT:
		return *(const unsigned int *)x == *(const unsigned int *)y;
	case SK_BOOL:
	case SK_ENUM:
	case SK_SIGNAL:
		return *(const int *)x == *(const int *)y;
	case SK_STRV:
		return strv_equal(*(char *const *const *)x, *CCOUNT(a, f),
		    *(char *const *const *)y, *CCOUNT(b, f));
	default:
		return 1;	/* a group: its fields are rows */
	}
}

int
app_spec_equal(const struct app_spec *a, const struct app_spec *b)
{
	const struct spec_field	*f;

	for (f = spec_fields; f < spec_fields + nitems(spec_fields); f++)
		if (!field_equal(f, a, b))
			return 0;
	return 1;
}

/* An app as texts, for the writers. */
size_t
spec_field_count(const struct spec_field *f, const struct app_spec *app)
{
	if (f->hooks != NULL && f->hooks->count != NULL)
		return f->hooks->count(app);
	switch (f->kind) {
	case SK_STRING:
	case SK_PATH:
		return *(char *const *)CFIELD(app, f) != NULL;
	case SK_STRV:
		return *CCOUNT(app, f);
	case SK_GROUP:
	case SK_CUSTOM:
		return 0;
	default:
		return 1;
	}
}

const char *
spec_field_text(const struct spec_field *f, const struct app_spec *app,
    size_t i, int effective, char *buf, size_t size)
{
	const void	*v = CFIELD(app, f);

	if (f->hooks != NULL && f->hooks->text != NULL)
		return f->hooks->text(app, i, effective, buf, size);
	switch (f->kind) {
	case SK_STRING:
	case SK_PATH:
		return *(char *const *)v;
	case SK_STRV:
		return (*(char *const *const *)v)[i];
	case SK_DURATION:
		format_duration(*(const uint64_t *)v, buf, size);
		return buf;
	case SK_SIZE:
		format_size(*(const uint64_t *)v, buf, size);
		return buf;
	case SK_COUNT:
		snprintf(buf, size, "%u", *(const unsigned int *)v);
		return buf;
	case SK_BOOL:
		return *(const int *)v ? "true" : "false";
	case SK_ENUM:
		return word_name(f->words, *(const int *)v);
	case SK_SIGNAL:
		strlcpy(buf, signal_name(*(const int *)v), size);
		return buf;
	default:
		return "";
	}
}
