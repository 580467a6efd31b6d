/*
 * json.h -- just enough JSON for the instance channel (Node's "json"
 * serialization: one value a line) and for `pmc send`: check a value,
 * make it one line, find a member of an object.  No tree is built; a
 * value is a span of the text it came in.
 */
#ifndef PMC_JSON_H
#define PMC_JSON_H

#include <stddef.h>

#define JSON_DEPTH_MAX	64	/* nesting of arrays and objects */

/*
 * Is s[0..len) exactly one JSON value (RFC 8259), with white space
 * around it at most?  0, or -1 with *at the offset of the first byte
 * that is wrong and *why what was expected there.
 */
int	 json_check(const char *s, size_t len, size_t *at, const char **why);

/*
 * s[0..len), a checked value, without the white space outside its
 * strings (a pretty-printed value becomes one line), into out, which
 * has room for len + 1 bytes; NUL-terminated.  Returns the new length.
 */
size_t	 json_compact(const char *s, size_t len, char *out);

/*
 * The member key of the object that the checked value s[0..len) is: its
 * value's span in *v, *vlen.  0, or -1 when s is no object or has no
 * such member (the first of two with one name).
 */
int	 json_member(const char *s, size_t len, const char *key,
	    const char **v, size_t *vlen);

/*
 * The checked value v[0..vlen) is a string without escapes equal to
 * word?  1 or 0.  (Names and commands are plain words.)
 */
int	 json_is_word(const char *v, size_t vlen, const char *word);

/*
 * The checked value v[0..vlen) is a string without escapes: its
 * contents copied to out (size len, NUL-terminated; cut short when
 * longer).  0, or -1.
 */
int	 json_word(const char *v, size_t vlen, char *out, size_t len);

/* The checked value v[0..vlen) is an integer in [0, 2^53]: 0, or -1. */
int	 json_uint(const char *v, size_t vlen, unsigned long long *);

/* Append s as a JSON string (quotes, escapes) to out: see pbuf. */
struct pbuf;
void	 json_quote(struct pbuf *, const char *s, size_t len);

#endif /* PMC_JSON_H */
