/*
 * state.c -- the record format of pmcd's state across an update (see
 * state.h): writing values, splitting and decoding a line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "state.h"

void
state_begin(struct state_out *o, const char *kind)
{
	fputs(kind, o->f);
}

void
state_num(struct state_out *o, const char *key, long long v)
{
	fprintf(o->f, " %s=%lld", key, v);
}

void
state_unum(struct state_out *o, const char *key, unsigned long long v)
{
	fprintf(o->f, " %s=%llu", key, v);
}

void
state_bytes(struct state_out *o, const char *key, const void *p, size_t len)
{
	const unsigned char	*s = p;
	size_t			 i;

	fprintf(o->f, " %s=", key);
	for (i = 0; i < len; i++) {
		if (s[i] < '!' || s[i] > '~' || s[i] == '%' || s[i] == '=')
			fprintf(o->f, "%%%02X", s[i]);
		else
			fputc(s[i], o->f);
	}
}

void
state_str(struct state_out *o, const char *key, const char *s)
{
	if (s != NULL)
		state_bytes(o, key, s, strlen(s));
}

void
state_fd(struct state_out *o, const char *key, int fd)
{
	int	*p;

	if (fd < 0)
		return;
	if (o->nfds == o->cap) {
		o->cap = o->cap == 0 ? 64 : o->cap * 2;
		if ((p = reallocarray(o->fds, o->cap, sizeof(*p))) == NULL)
			fatal("reallocarray");
		o->fds = p;
	}
	o->fds[o->nfds++] = fd;
	state_num(o, key, fd);
}

void
state_end(struct state_out *o)
{
	fputc('\n', o->f);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/* Decode s in place, bytes may be NUL; its length, or -1: bad escape. */
static long
decode(char *s)
{
	char	*r = s, *w = s;
	int	 hi, lo;

	for (; *r != '\0'; r++) {
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		if ((hi = hexval(r[1])) == -1 || (lo = hexval(r[2])) == -1)
			return (-1);
		*w++ = (char)(hi << 4 | lo);
		r += 2;
	}
	*w = '\0';
	return (w - s);
}

int
state_parse(char *line, struct state_rec *r)
{
	char	*p, *tok, *eq;
	long	 n;

	memset(r, 0, sizeof(*r));
	line[strcspn(line, "\n")] = '\0';
	if ((r->kind = strsep(&line, " ")) == NULL || *r->kind == '\0')
		return (-1);
	p = line;
	while ((tok = strsep(&p, " ")) != NULL) {
		if (*tok == '\0')
			continue;
		if ((eq = strchr(tok, '=')) == NULL || r->n == STATE_KEYS_MAX)
			return (-1);
		*eq = '\0';
		if ((n = decode(eq + 1)) == -1)
			return (-1);
		r->key[r->n] = tok;
		r->val[r->n] = eq + 1;
		r->len[r->n++] = (size_t)n;
	}
	return (0);
}

static int
find(const struct state_rec *r, const char *key)
{
	int	 i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->key[i], key) == 0)
			return (i);
	return (-1);
}

long long
rec_num(const struct state_rec *r, const char *key)
{
	int	 i = find(r, key);

	return (i == -1 ? 0 : strtoll(r->val[i], NULL, 10));
}

unsigned long long
rec_unum(const struct state_rec *r, const char *key)
{
	int	 i = find(r, key);

	return (i == -1 ? 0 : strtoull(r->val[i], NULL, 10));
}

const char *
rec_bytes(const struct state_rec *r, const char *key, size_t *len)
{
	int	 i = find(r, key);

	*len = i == -1 ? 0 : r->len[i];
	return (i == -1 ? "" : r->val[i]);
}

const char *
rec_str(const struct state_rec *r, const char *key)
{
	size_t	 len;

	return (rec_bytes(r, key, &len));
}

int
rec_fd(const struct state_rec *r, const char *key)
{
	int	 i = find(r, key);

	return (i == -1 ? -1 : (int)strtol(r->val[i], NULL, 10));
}
