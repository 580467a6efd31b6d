/*
 * fuzz-notify.c -- the sd_notify datagram parser, notify_parse.
 *
 * Checked against a plain reading of the protocol: NUL-free datagrams
 * only; lines split at each newline; READY=1 and PMC_LISTENING=1 whole
 * lines; the last STATUS= line's value.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct notify_msg	 m;
	const char		*buf = (const char *)data;
	char			*copy, *rest, *line, *status = NULL;
	int			 ready = 0, listening = 0, rc;

	rc = notify_parse(buf, size, &m);
	if (memchr(buf, '\0', size) != NULL) {
		CHECK(rc == -1);
		return (0);
	}
	CHECK(rc == 0);

	CHECK((copy = malloc(size + 1)) != NULL);
	memcpy(copy, buf, size);
	copy[size] = '\0';
	rest = copy;
	while ((line = strsep(&rest, "\n")) != NULL) {
		if (strcmp(line, "READY=1") == 0)
			ready = 1;
		else if (strcmp(line, "PMC_LISTENING=1") == 0)
			listening = 1;
		else if (strncmp(line, "STATUS=", 7) == 0)
			status = line + 7;
	}
	CHECK(m.ready == ready);
	CHECK(m.listening == listening);
	CHECK((m.status == NULL) == (status == NULL));
	if (status != NULL) {
		CHECK(m.status >= buf && m.status + m.status_len <= buf + size);
		CHECK(m.status_len == strlen(status));
		CHECK(memcmp(m.status, status, m.status_len) == 0);
		CHECK(m.status - buf == status - copy);
	}
	free(copy);
	return (0);
}
