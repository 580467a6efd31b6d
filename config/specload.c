/*
 * specload.c -- load and validate pm.yaml app specs by walking the table of
 * fields (specfield.h): read, default, copy, compare and free an app,
 * and show its fields as texts to the writers (specwrite.c).
 *
 * The YAML text is first turned into a tree (ytree.c), then each app
 * mapping is read against the rows of spec_fields; a field not given
 * takes its default, read from the text of the row as if the spec had
 * said it.  Every problem is collected with its position (specerr.c);
 * the messages are handed back sorted by position, and a spec with any
 * problem is freed.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "human.h"
#include "path.h"
#include "specload.h"
#include "xmalloc.h"
#include "ytree.h"

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define EXPECT_DURATION	"a duration like 100ms, 5s, 1m or 2h"
#define EXPECT_SIZE	"a size like 512K, 10M or 1G"
#define EXPECT_BOOL	"true or false"
/* What `pmc save` could not write back (a folder named in Latin-1...). */
#define EXPECT_UTF8	"a path that is UTF-8 text once made absolute"

static void
tree_problem(void *arg, int line, int column, const char *msg)
{
	spec_problem(arg, line, column, "%s", msg);
}

/* "a, b or c" of a NULL-terminated list, after lead, in buf. */
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
		for (i = 0; i < spec_nfields; i++)
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
unknown_key(struct spec_ctx *ctx, const struct ynode *k, const char *prefix,
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

static void	 field_read(struct spec_ctx *, const struct spec_field *,
		    const struct ynode *);

/* Read the keys of map as the fields of group (NULL: of the app). */
static void
walk_map(struct spec_ctx *ctx, const struct ynode *map,
    const struct spec_field *group)
{
	const struct spec_field	*f, *rows[FIELDS_MAX];
	const char		*keys[FIELDS_MAX];
	const struct ynode	*k;
	char			 prefix[SPEC_NAME_MAX];
	size_t			 i, j, n = 0;

	snprintf(prefix, sizeof(prefix), "%s%s", group != NULL ?
	    group->name : "", group != NULL ? "." : "");
	for (i = 0; i < spec_nfields; i++) {
		if (!field_in(&spec_fields[i], group))
			continue;
		rows[n] = &spec_fields[i];
		keys[n++] = spec_field_key(&spec_fields[i]);
	}
	for (i = 0; i + 1 < map->nkids; i += 2) {
		k = map->kids[i];
		if (!spec_key_ok(ctx, map, i, prefix))
			continue;
		for (j = 0, f = NULL; j < n && f == NULL; j++)
			if (strcmp(k->text, keys[j]) == 0)
				f = rows[j];
		/* env_NAME: env's finish takes the one --env names. */
		if (f == NULL && group == NULL && spec_env_block(k->text)) {
			if (map->kids[i + 1]->type != Y_MAP)
				spec_bad(ctx, k->text, map->kids[i + 1],
				    "a mapping of names to values");
			continue;
		}
		if (f == NULL)
			unknown_key(ctx, k, prefix, keys, n);
		else
			field_read(ctx, f, map->kids[i + 1]);
	}
}

/* Reading values by kind. */
static int
path_set(struct spec_ctx *ctx, const char *s, char **dst, const char **why)
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
scalar_set(struct spec_ctx *ctx, const struct spec_field *f, const char *s,
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
		i = parse_word(s, f->words);
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
field_value(struct spec_ctx *ctx, const struct spec_field *f,
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
			spec_bad(ctx, f->name, n, why);
		else
			walk_map(ctx, n, f);
		return;
	}
	if ((s = spec_scalar(ctx, f->name, n, why)) != NULL &&
	    scalar_set(ctx, f, s, FIELD(ctx->app, f), &why) == -1)
		spec_bad(ctx, f->name, n, why);
}

/* Read the value n the spec gives f, and remember how it went. */
static void
field_read(struct spec_ctx *ctx, const struct spec_field *f,
    const struct ynode *n)
{
	size_t	before = ctx->nproblems;

	AT(ctx, f) = n;
	field_value(ctx, f, n);
	if (ctx->nproblems != before)
		ctx->bad |= (uint64_t)1 << ROW(f);
}

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
field_default(struct spec_ctx *ctx, const struct spec_field *f,
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
app_finish(struct spec_ctx *ctx, const struct ynode *n)
{
	const struct spec_field	*f, *end = spec_fields + spec_nfields;

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
parse_app(struct spec_ctx *ctx, const struct ynode *n)
{
	struct spec	*spec = ctx->spec;

	if (n->type != Y_MAP) {
		spec_bad(ctx, "app", n, "a mapping");
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
parse_apps(struct spec_ctx *ctx, const struct ynode *n)
{
	size_t	i;

	if (n->type != Y_SEQ || n->nkids == 0) {
		spec_bad(ctx, "apps", n, "a list of apps");
		return;
	}
	for (i = 0; i < n->nkids; i++)
		parse_app(ctx, n->kids[i]);
}

static void
parse_root(struct spec_ctx *ctx, const struct ynode *root)
{
	static const char *const keys[] = { "apps" };
	char			 buf[YSHOW_SIZE];
	size_t			 i;
	int			 apps = 0;

	if (root == NULL) {
		spec_problem(ctx, 1, 1, "expected a mapping with key \"apps\", "
		    "got an empty file");
		return;
	}
	if (root->type != Y_MAP) {
		problem_at(ctx, root, "expected a mapping with key \"apps\", "
		    "got %s", ynode_show(root, buf, sizeof(buf)));
		return;
	}
	for (i = 0; i + 1 < root->nkids; i += 2) {
		if (!spec_key_ok(ctx, root, i, ""))
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
	struct spec_ctx	 ctx;
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
	spec_problems_flush(&ctx, errs);
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
/* The env_NAME block that --env picked: NULL, none. */
static char	*env_chosen;

void
spec_set_env(const char *name)
{
	free(env_chosen);
	env_chosen = name != NULL ? xstrdup(name) : NULL;
}

const char *
spec_env(void)
{
	return env_chosen;
}

int
spec_env_block(const char *key)
{
	size_t	n = strlen(key);

	return n > 4 && strncmp(key, "env_", 4) == 0 && strspn(key + 4,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") == n - 4;
}

void
app_spec_free(struct app_spec *app)
{
	const struct spec_field	*f;

	if (app == NULL)
		return;
	free(app->envname);
	for (f = spec_fields; f < spec_fields + spec_nfields; f++) {
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
	d->envname = xstrdup_or_null(app->envname);
	for (f = spec_fields; f < spec_fields + spec_nfields; f++) {
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

	for (f = spec_fields; f < spec_fields + spec_nfields; f++)
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
