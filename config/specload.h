/*
 * specload.h -- what the files of the spec loader share, and no one
 * else: specload.c walks the table, specfield.c holds its rows and their
 * hooks, specerr.c collects problems.
 */
#ifndef PMC_SPECLOAD_H
#define PMC_SPECLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "spec.h"
#include "specfield.h"

#define FIELDS_MAX	64	/* rows of spec_fields: bits of a mask */

struct ynode;

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

struct spec_ctx {
	const char		 *path;
	char			 *dir;		/* absolute folder of path */
	struct spec		 *spec;
	struct app_spec		 *app;		/* the app being read */
	const struct ynode	 *at[FIELDS_MAX];	/* its values, by row */
	uint64_t		  bad;		/* rows given a bad value */
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
	void		 (*parse)(struct spec_ctx *, const struct spec_field *,
			    const struct ynode *);
	/* Once every field is read or defaulted; n is the app's mapping. */
	void		 (*finish)(struct spec_ctx *, const struct spec_field *,
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

/* specerr.c */
void	 spec_problem(struct spec_ctx *, int line, int column,
	    const char *fmt, ...) __attribute__((__format__(__printf__, 4, 5)));
#define problem_at(ctx, n, ...) \
	spec_problem(ctx, (n)->line, (n)->column, __VA_ARGS__)
/* Hand the problems, in file order, to errs. */
void	 spec_problems_flush(struct spec_ctx *, struct spec_errors *);
/* "field: expected <expected>, got <what n is>" at n. */
void	 spec_bad(struct spec_ctx *, const char *field, const struct ynode *n,
	    const char *expected);
/* The text of a non-null scalar n, else spec_bad and NULL. */
const char *spec_scalar(struct spec_ctx *, const char *field,
	    const struct ynode *n, const char *expected);
/* Is key i of map a usable string, not seen before in map? */
int	 spec_key_ok(struct spec_ctx *, const struct ynode *map, size_t i,
	    const char *prefix);

/* specfield.c: the row of that name (there must be one). */
const struct spec_field *spec_field_named(const char *);

#endif /* PMC_SPECLOAD_H */
