/*
 * specerr.c -- the problems of a spec being read: each kept with its
 * position, handed back in file order; and the checks that report them
 * in the words every message uses ("field: expected ..., got ...").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "specload.h"
#include "xmalloc.h"
#include "ytree.h"

/* Error collection. */
static void
errors_push(struct spec_errors *errs, char *msg)
{
	errs->msgs = xreallocarray(errs->msgs, errs->count + 1,
	    sizeof(*errs->msgs));
	errs->msgs[errs->count++] = msg;
}

void
spec_errors_add(struct spec_errors *errs, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	errors_push(errs, xvasprintf(fmt, ap));
	va_end(ap);
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

void
spec_problem(struct spec_ctx *ctx, int line, int column, const char *fmt, ...)
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
void
spec_problems_flush(struct spec_ctx *ctx, struct spec_errors *errs)
{
	size_t	i;

	if (ctx->nproblems > 0)
		qsort(ctx->problems, ctx->nproblems, sizeof(*ctx->problems),
		    problem_cmp);
	for (i = 0; i < ctx->nproblems; i++)
		errors_push(errs, ctx->problems[i].msg);
	free(ctx->problems);
	ctx->problems = NULL;
	ctx->nproblems = 0;
}

void
spec_bad(struct spec_ctx *ctx, const char *field, const struct ynode *n,
    const char *expected)
{
	char	buf[YSHOW_SIZE];

	problem_at(ctx, n, "%s: expected %s, got %s", field, expected,
	    ynode_show(n, buf, sizeof(buf)));
}

/* The text of a non-null scalar, else a problem and NULL. */
const char *
spec_scalar(struct spec_ctx *ctx, const char *field, const struct ynode *n,
    const char *expected)
{
	if (n->type == Y_SCALAR && !ynode_is_null(n))
		return n->text;
	spec_bad(ctx, field, n, expected);
	return NULL;
}

/* Is key i of map a usable string, not seen before in map? */
int
spec_key_ok(struct spec_ctx *ctx, const struct ynode *map, size_t i,
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
