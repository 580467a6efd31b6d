/*
 * ytree.c -- YAML text as a tree of nodes with positions; see ytree.h.
 *
 * libyaml's events are hung in a tree as they come, so that every node
 * keeps the line and column it started at.
 */
#include <err.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "xmalloc.h"
#include "ytree.h"

#define SHOW_MAX	40		/* characters shown by ynode_show */

struct builder {
	struct ynode	 *root;
	struct ynode	 *stack[YTREE_DEPTH_MAX];
	int		  depth;
	int		  docs;
	ytree_report	 *report;
	void		 *arg;
};

static void __attribute__((__format__(__printf__, 4, 5)))
problem(struct builder *b, int line, int column, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	b->report(b->arg, line, column, s);
	free(s);
}

void
ynode_free(struct ynode *n)
{
	size_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

static void
node_add(struct ynode *parent, struct ynode *kid)
{
	if (parent->nkids == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 8;
		parent->kids = xreallocarray(parent->kids, parent->cap,
		    sizeof(*parent->kids));
	}
	parent->kids[parent->nkids++] = kid;
}

static struct ynode *
node_new(enum ytype type, const yaml_mark_t *mark)
{
	struct ynode	*n;

	n = xcalloc(1, sizeof(*n));
	n->type = type;
	n->line = mark->line + 1;
	n->column = mark->column + 1;
	return n;
}

/* Hang n in the tree; a collection also becomes the new parent. */
static int
build_attach(struct builder *b, struct ynode *n)
{
	if (b->depth == 0)
		b->root = n;
	else
		node_add(b->stack[b->depth - 1], n);
	if (n->type == Y_SCALAR)
		return 0;
	if (b->depth == YTREE_DEPTH_MAX) {
		problem(b, n->line, n->column, "nesting deeper than %d levels",
		    YTREE_DEPTH_MAX);
		return -1;
	}
	b->stack[b->depth++] = n;
	return 0;
}

static int
build_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct ynode	*n;

	n = node_new(Y_SCALAR, &ev->start_mark);
	n->len = ev->data.scalar.length;
	n->text = xcalloc(1, n->len + 1);
	if (n->len > 0)
		memcpy(n->text, ev->data.scalar.value, n->len);
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (build_attach(b, n) == -1)
		return -1;
	if (strlen(n->text) != n->len) {
		problem(b, n->line, n->column,
		    "NUL characters are not allowed");
		return -1;
	}
	return 0;
}

/* Returns 1 at the end of the stream, 0 to go on, -1 on a problem. */
static int
build_event(struct builder *b, const yaml_event_t *ev)
{
	const yaml_mark_t	*m = &ev->start_mark;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->docs++ == 0)
			return 0;
		problem(b, m->line + 1, m->column + 1,
		    "expected one YAML document, got a second one");
		return -1;
	case YAML_ALIAS_EVENT:
		problem(b, m->line + 1, m->column + 1,
		    "aliases (*%s) are not supported",
		    (const char *)ev->data.alias.anchor);
		return -1;
	case YAML_SCALAR_EVENT:
		return build_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return build_attach(b, node_new(Y_SEQ, m));
	case YAML_MAPPING_START_EVENT:
		return build_attach(b, node_new(Y_MAP, m));
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		return 0;
	case YAML_STREAM_END_EVENT:
		return 1;
	default:
		return 0;
	}
}

/* Line and column of a byte offset, for reader (encoding) errors. */
static void
offset_position(const char *buf, size_t len, size_t off, int *line,
    int *column)
{
	size_t	i;

	*line = *column = 1;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*column = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80)
			(*column)++;
	}
}

static void
parser_problem(struct builder *b, const yaml_parser_t *p, const char *buf,
    size_t len)
{
	const char	*what = p->problem != NULL ? p->problem : "YAML error";
	int		 line, column;

	if (p->error == YAML_MEMORY_ERROR)
		errx(1, "out of memory");
	if (p->error == YAML_READER_ERROR)
		offset_position(buf, len, p->problem_offset, &line, &column);
	else {
		line = p->problem_mark.line + 1;
		column = p->problem_mark.column + 1;
	}
	problem(b, line, column, "%s", what);
}

int
ytree_parse(const char *buf, size_t len, struct ynode **root,
    ytree_report *report, void *arg)
{
	yaml_parser_t	 parser;
	yaml_event_t	 ev;
	struct builder	 b;
	int		 rc = 0;

	memset(&b, 0, sizeof(b));
	b.report = report;
	b.arg = arg;
	if (!yaml_parser_initialize(&parser))
		errx(1, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (rc == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			parser_problem(&b, &parser, buf, len);
			rc = -1;
			break;
		}
		rc = build_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (rc == -1) {
		ynode_free(b.root);
		b.root = NULL;
	}
	*root = b.root;
	return rc == -1 ? -1 : 0;
}

int
ytext_is_null(const char *s)
{
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

int
ynode_is_null(const struct ynode *n)
{
	return n->type == Y_SCALAR && n->plain && ytext_is_null(n->text);
}

const char *
ynode_show(const struct ynode *n, char *buf, size_t size)
{
	const unsigned char	*s;
	size_t			 len = 0, shown = 0;

	if (n->type != Y_SCALAR)
		return n->type == Y_MAP ?
		    (n->nkids ? "a mapping" : "an empty mapping") :
		    (n->nkids ? "a sequence" : "an empty sequence");
	if (n->plain && n->len == 0)
		return "nothing";
	buf[len++] = '"';
	for (s = (const unsigned char *)n->text; *s != '\0'; s++) {
		if ((*s & 0xc0) != 0x80 && (len + 8 >= size ||
		    shown++ == SHOW_MAX)) {
			len += snprintf(buf + len, size - len, "...");
			break;
		}
		if (*s == '"' || *s == '\\')
			len += snprintf(buf + len, size - len, "\\%c", *s);
		else if (*s == '\n')
			len += snprintf(buf + len, size - len, "\\n");
		else if (*s < 0x20 || *s == 0x7f)
			len += snprintf(buf + len, size - len, "\\x%02x", *s);
		else
			buf[len++] = *s;
	}
	snprintf(buf + len, size - len, "\"");
	return buf;
}

/*
 * What libyaml's parser reads: well-formed UTF-8, shortest forms, no
 * surrogates, nothing past U+10FFFF.  (Its emitter checks less: it
 * would write \U001D644C, which the parser then refuses.)
 */
int
ytext_ok(const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	uint32_t		 cp;
	int			 n, i;

	while (*s != '\0') {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf)
			n = 2;
		else if ((*s & 0xf0) == 0xe0)
			n = 3;
		else if (*s >= 0xf0 && *s <= 0xf4)
			n = 4;
		else
			return 0;
		cp = *s & (0x7f >> n);
		for (i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += n;
	}
	return 1;
}
