/*
 * fuzz-lines.c -- the log line framer, lines_cut, driven as logs.c
 * drives it: reads of any size into a buffer of cap bytes, lines_cut
 * after each, and at the end of the pipe the rest as a last line.
 *
 * Input: one byte picks cap (LINE_MAX_BYTES, as pmcd has it, or 1 to
 * 64 to reach the cut often), one seeds the read sizes, then the bytes
 * the instance writes.
 *
 * Invariants: no line holds a newline or passes cap bytes; a cut line
 * is exactly cap bytes; the buffer never fills (a read of 0 bytes would
 * look like the end of the pipe); the lines, each but cut ones and the
 * last followed by a newline, give back the input exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"

struct out {
	char	*data;
	size_t	 len;
	size_t	 cap;		/* the framer's */
	size_t	 lines;
};

static char	 buf[LINE_MAX_BYTES];

static void
line(void *arg, const char *s, size_t len, int cut)
{
	struct out	*o = arg;

	CHECK(len <= o->cap);
	CHECK(memchr(s, '\n', len) == NULL);
	CHECK(!cut || len == o->cap);
	CHECK(s >= buf && s + len <= buf + o->cap);
	memcpy(o->data + o->len, s, len);
	o->len += len;
	if (!cut)
		o->data[o->len++] = '\n';
	o->lines++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out	 o;
	size_t		 len = 0, off, n, want;
	unsigned int	 seed;

	if (size < 2)
		return (0);
	o.cap = data[0] & 0x80 ? LINE_MAX_BYTES : (size_t)(data[0] & 0x3f) + 1;
	seed = data[1];
	data += 2;
	size -= 2;
	CHECK((o.data = malloc(size + 1)) != NULL);
	o.len = o.lines = 0;

	for (off = 0; off < size; off += n) {
		CHECK(len < o.cap);
		seed = seed * 1103515245 + 12345;
		want = 1 + (seed >> 16) % (2 * o.cap);
		n = size - off;
		if (n > o.cap - len)
			n = o.cap - len;
		if (n > want)
			n = want;
		memcpy(buf + len, data + off, n);
		len = lines_cut(buf, len + n, o.cap, line, &o);
	}
	CHECK(len < o.cap);
	if (len > 0) {			/* the last line, without a newline */
		memcpy(o.data + o.len, buf, len);
		o.len += len;
	}
	CHECK(o.len == size);
	CHECK(size == 0 || memcmp(o.data, data, size) == 0);
	free(o.data);
	return (0);
}
