/*
 * frame.c -- cut instances' output into lines, and parse their notify
 * datagrams.  No state and no system calls: see frame.h.
 */
#include <string.h>

#include "frame.h"

size_t
lines_cut(char *buf, size_t len, size_t cap,
    void (*fn)(void *, const char *, size_t, int), void *arg)
{
	char	*start = buf, *nl;
	size_t	 left = len;

	while ((nl = memchr(start, '\n', left)) != NULL) {
		fn(arg, start, (size_t)(nl - start), 0);
		left -= (size_t)(nl - start) + 1;
		start = nl + 1;
	}
	if (left >= cap) {		/* one line fills the buffer: cut */
		fn(arg, start, left, 1);
		left = 0;
	}
	memmove(buf, start, left);
	return (left);
}

int
notify_parse(const char *buf, size_t len, struct notify_msg *m)
{
	const char	*line, *end = buf + len, *nl;
	size_t		 n;

	memset(m, 0, sizeof(*m));
	if (memchr(buf, '\0', len) != NULL)
		return (-1);
	for (line = buf; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		n = (size_t)(nl - line);
		if (n == 7 && memcmp(line, "READY=1", 7) == 0)
			m->ready = 1;
		else if (n == 15 && memcmp(line, "PMC_LISTENING=1", 15) == 0)
			m->listening = 1;
		else if (n >= 7 && memcmp(line, "STATUS=", 7) == 0) {
			m->status = line + 7;
			m->status_len = n - 7;
		}
	}
	return (0);
}
