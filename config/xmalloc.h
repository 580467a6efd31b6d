/*
 * xmalloc.h -- memory that is there or the program ends, and
 * NULL-terminated string vectors.
 *
 * Running out of memory while reading or writing a spec is not worth a
 * recovery path: pmc and pmcd both give up, with err(3)'s message.
 */
#ifndef PMC_XMALLOC_H
#define PMC_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrdup_or_null(const char *);		/* NULL stays NULL */
char	*xasprintf(const char *, ...)
	    __attribute__((__format__(__printf__, 1, 2)));
char	*xvasprintf(const char *, va_list)
	    __attribute__((__format__(__printf__, 1, 0)));

/* Append s (taken over) to the vector *v of *n strings. */
void	 strv_add(char ***v, size_t *n, char *s);
void	 strv_free(char **);
char	**strv_dup(char *const *, size_t);	/* NULL stays NULL */

/* Equal strings, NULL equal only to NULL. */
int	 str_equal(const char *, const char *);
int	 strv_equal(char *const *, size_t, char *const *, size_t);

#endif /* PMC_XMALLOC_H */
