/*
 * json.c -- see json.h.  A recursive descent that only walks: each
 * function takes the position of a value and returns the position past
 * it, or NULL with the error set.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "protocol.h"

struct walk {
	const char	*s, *end;
	const char	*bad;		/* where it went wrong */
	const char	*why;
};

static const char *value(struct walk *, const char *, int);

static const char *
fail(struct walk *w, const char *p, const char *why)
{
	w->bad = p;
	w->why = why;
	return (NULL);
}

static const char *
space(const struct walk *w, const char *p)
{
	while (p < w->end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return (p);
}

static int
hex(int c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F'));
}

/* One UTF-8 sequence at p, well formed (no overlong, no surrogate). */
static const char *
utf8(struct walk *w, const char *p)
{
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 left = (size_t)(w->end - p), n, i;
	unsigned int		 c;

	if (u[0] < 0x80)
		return (p + 1);
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		n = 1, c = u[0] & 0x1f;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		n = 2, c = u[0] & 0x0f;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		n = 3, c = u[0] & 0x07;
	else
		return (fail(w, p, "UTF-8"));
	if (left <= n)
		return (fail(w, p, "UTF-8"));
	for (i = 1; i <= n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return (fail(w, p, "UTF-8"));
		c = c << 6 | (u[i] & 0x3f);
	}
	if ((n == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 3 && (c < 0x10000 || c > 0x10ffff)))
		return (fail(w, p, "UTF-8"));
	return (p + n + 1);
}

static const char *
string(struct walk *w, const char *p)
{
	int	 i;

	p++;			/* the quote */
	while (p < w->end) {
		if (*p == '"')
			return (p + 1);
		if ((unsigned char)*p < 0x20)
			return (fail(w, p, "no control character in a string"));
		if (*p != '\\') {
			if ((p = utf8(w, p)) == NULL)
				return (NULL);
			continue;
		}
		if (++p >= w->end)
			break;
		if (strchr("\"\\/bfnrt", *p) != NULL && *p != '\0') {
			p++;
			continue;
		}
		if (*p != 'u')
			return (fail(w, p, "an escape"));
		for (i = 1; i <= 4; i++)
			if (p + i >= w->end || !hex(p[i]))
				return (fail(w, p, "four hex digits"));
		p += 5;
	}
	return (fail(w, p, "the end of the string"));
}

static const char *
digits(const struct walk *w, const char *p)
{
	while (p < w->end && *p >= '0' && *p <= '9')
		p++;
	return (p);
}

static const char *
number(struct walk *w, const char *p)
{
	const char	*q;

	if (*p == '-')
		p++;
	if (p >= w->end || *p < '0' || *p > '9')
		return (fail(w, p, "a digit"));
	p = *p == '0' ? p + 1 : digits(w, p);
	if (p < w->end && *p == '.') {
		if ((q = digits(w, p + 1)) == p + 1)
			return (fail(w, q, "a digit"));
		p = q;
	}
	if (p < w->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < w->end && (*p == '+' || *p == '-'))
			p++;
		if ((q = digits(w, p)) == p)
			return (fail(w, p, "a digit"));
		p = q;
	}
	return (p);
}

static const char *
word(struct walk *w, const char *p, const char *lit)
{
	size_t	 n = strlen(lit);

	if ((size_t)(w->end - p) < n || memcmp(p, lit, n) != 0)
		return (fail(w, p, "a value"));
	return (p + n);
}

/* An array or object at p: [ value, ... ] or { "key": value, ... }. */
static const char *
group(struct walk *w, const char *p, int depth)
{
	char	 close = *p == '[' ? ']' : '}';

	if (depth >= JSON_DEPTH_MAX)
		return (fail(w, p, "less nesting"));
	p = space(w, p + 1);
	if (p < w->end && *p == close)
		return (p + 1);
	for (;;) {
		if (close == '}') {
			if (p >= w->end || *p != '"')
				return (fail(w, p, "a member name"));
			if ((p = string(w, p)) == NULL)
				return (NULL);
			p = space(w, p);
			if (p >= w->end || *p != ':')
				return (fail(w, p, "':'"));
			p = space(w, p + 1);
		}
		if ((p = value(w, p, depth + 1)) == NULL)
			return (NULL);
		p = space(w, p);
		if (p < w->end && *p == close)
			return (p + 1);
		if (p >= w->end || *p != ',')
			return (fail(w, p, close == ']' ? "',' or ']'" :
			    "',' or '}'"));
		p = space(w, p + 1);
	}
}

static const char *
value(struct walk *w, const char *p, int depth)
{
	if (p >= w->end)
		return (fail(w, p, "a value"));
	switch (*p) {
	case '"':
		return (string(w, p));
	case '[':
	case '{':
		return (group(w, p, depth));
	case 't':
		return (word(w, p, "true"));
	case 'f':
		return (word(w, p, "false"));
	case 'n':
		return (word(w, p, "null"));
	default:
		if (*p != '-' && (*p < '0' || *p > '9'))
			return (fail(w, p, "a value"));
		return (number(w, p));
	}
}

int
json_check(const char *s, size_t len, size_t *at, const char **why)
{
	struct walk	 w = { s, s + len, NULL, NULL };
	const char	*p;

	if ((p = value(&w, space(&w, s), 0)) != NULL &&
	    (p = space(&w, p)) != w.end)
		fail(&w, p, "the end of the value");
	if (w.bad == NULL)
		return (0);
	if (at != NULL)
		*at = (size_t)(w.bad - s);
	if (why != NULL)
		*why = w.why;
	return (-1);
}

size_t
json_compact(const char *s, size_t len, char *out)
{
	size_t	 i, n = 0;
	int	 in = 0, esc = 0;

	for (i = 0; i < len; i++) {
		if (in) {
			if (esc)
				esc = 0;
			else if (s[i] == '\\')
				esc = 1;
			else if (s[i] == '"')
				in = 0;
		} else if (s[i] == '"')
			in = 1;
		else if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
		    s[i] == '\r')
			continue;
		out[n++] = s[i];
	}
	out[n] = '\0';
	return (n);
}

int
json_member(const char *s, size_t len, const char *key, const char **v,
    size_t *vlen)
{
	struct walk	 w = { s, s + len, NULL, NULL };
	const char	*p = space(&w, s), *k, *e;
	size_t		 klen = strlen(key);

	if (p >= w.end || *p != '{')
		return (-1);
	p = space(&w, p + 1);
	while (p < w.end && *p == '"') {
		k = p;
		if ((p = string(&w, p)) == NULL)
			return (-1);
		e = p;
		p = space(&w, p);
		p = space(&w, p + 1);		/* the ':' */
		*v = p;
		if ((p = value(&w, p, 1)) == NULL)
			return (-1);
		if ((size_t)(e - k) == klen + 2 &&
		    memcmp(k + 1, key, klen) == 0) {
			*vlen = (size_t)(p - *v);
			return (0);
		}
		p = space(&w, p);
		if (p < w.end && *p == ',')
			p = space(&w, p + 1);
	}
	return (-1);
}

int
json_word(const char *v, size_t vlen, char *out, size_t len)
{
	if (vlen < 2 || v[0] != '"' || v[vlen - 1] != '"' ||
	    memchr(v, '\\', vlen) != NULL || len == 0)
		return (-1);
	snprintf(out, len, "%.*s", (int)(vlen - 2), v + 1);
	return (0);
}

int
json_is_word(const char *v, size_t vlen, const char *word)
{
	size_t	 n = strlen(word);

	return (vlen == n + 2 && v[0] == '"' && v[vlen - 1] == '"' &&
	    memcmp(v + 1, word, n) == 0);
}

int
json_uint(const char *v, size_t vlen, unsigned long long *out)
{
	unsigned long long	 n = 0;
	size_t			 i;

	if (vlen == 0 || vlen > 16)
		return (-1);
	for (i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return (-1);
		n = n * 10 + (unsigned long long)(v[i] - '0');
	}
	if (n > (1ULL << 53))
		return (-1);
	*out = n;
	return (0);
}

void
json_quote(struct pbuf *pb, const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;

	pbuf_add(pb, "\"", 1);
	for (i = 0; i < len; i++) {
		switch (u[i]) {
		case '"':
			pbuf_add(pb, "\\\"", 2);
			break;
		case '\\':
			pbuf_add(pb, "\\\\", 2);
			break;
		case '\n':
			pbuf_add(pb, "\\n", 2);
			break;
		case '\t':
			pbuf_add(pb, "\\t", 2);
			break;
		case '\r':
			pbuf_add(pb, "\\r", 2);
			break;
		default:
			if (u[i] < 0x20 || u[i] == 0x7f)
				pbuf_printf(pb, "\\u%04x", u[i]);
			else
				pbuf_add(pb, s + i, 1);
		}
	}
	pbuf_add(pb, "\"", 1);
}
