/*
 * ytree.h -- YAML text as a tree of scalars, sequences and mappings,
 * each node with its line and column (libyaml's parser, one document,
 * no aliases, no NUL in a scalar).  Tags are ignored: a scalar is its
 * text, and whether it was quoted.
 */
#ifndef PMC_YTREE_H
#define PMC_YTREE_H

#include <stddef.h>

#define YTREE_DEPTH_MAX	64		/* nesting */
#define YSHOW_SIZE	(40 * 4 + 16)	/* ynode_show's buffer */

enum ytype {
	Y_SCALAR,
	Y_SEQ,
	Y_MAP
};

struct ynode {
	enum ytype	  type;
	char		 *text;		/* Y_SCALAR */
	size_t		  len;
	int		  plain;	/* unquoted scalar */
	int		  line;		/* 1-based */
	int		  column;
	struct ynode	**kids;		/* Y_MAP: key, value, key, value... */
	size_t		  nkids;
	size_t		  cap;
};

/* Where ytree_parse reports the one problem that stops it. */
typedef void ytree_report(void *arg, int line, int column, const char *);

/*
 * The tree of len bytes of YAML at buf in *root (NULL for an empty
 * stream).  0, or -1 and *root NULL with the problem sent to report.
 */
int	 ytree_parse(const char *buf, size_t len, struct ynode **root,
	    ytree_report *, void *arg);
void	 ynode_free(struct ynode *);

/* A plain "", "~", "null", "Null" or "NULL" scalar: YAML's null. */
int	 ynode_is_null(const struct ynode *);
/* Would the text s, written plain, read as null? */
int	 ytext_is_null(const char *s);
/*
 * What a user wrote, for "got ...": a scalar quoted, escaped and
 * shortened, "nothing", or "a mapping", "an empty sequence"...
 */
const char *ynode_show(const struct ynode *, char *buf, size_t size);

/* Can a YAML scalar hold s: is it UTF-8, as libyaml's parser reads it? */
int	 ytext_ok(const char *s);

#endif /* PMC_YTREE_H */
