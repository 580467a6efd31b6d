/*
 * fuzz-json.c -- config/json.c on any bytes, as a channel line or the
 * JSON of `pmc send` reaches it.
 *
 * Invariants: json_check never reads past the input and, when it
 * refuses, points inside it (or at its end); a value it accepts,
 * compacted, is accepted again, is no longer, holds no newline, and
 * compacts to itself; json_member's spans lie inside the input and are
 * values json_check accepts; json_quote of ASCII input is a JSON string.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "protocol.h"

static const char *const keys[] = { "cmd", "act", "seq", "msg", "data",
	"type", "" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data, *why, *v;
	char		*flat, *again;
	size_t		 at, n, m, vlen, i;
	struct pbuf	 pb = { 0 };

	/* Exactly size bytes, so that a read past them is caught. */
	if (json_check(s, size, &at, &why) == -1) {
		CHECK(at <= size);
		CHECK(why != NULL && *why != '\0');
	} else {
		CHECK((flat = malloc(size + 1)) != NULL);
		n = json_compact(s, size, flat);
		CHECK(n <= size);
		CHECK(memchr(flat, '\n', n) == NULL);
		CHECK(json_check(flat, n, NULL, NULL) == 0);
		CHECK((again = malloc(n + 1)) != NULL);
		m = json_compact(flat, n, again);
		CHECK(m == n && memcmp(flat, again, n) == 0);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (json_member(s, size, keys[i], &v, &vlen) == -1)
				continue;
			CHECK(v >= s && v + vlen <= s + size);
			CHECK(json_check(v, vlen, NULL, NULL) == 0);
		}
		free(again);
		free(flat);
	}
	json_quote(&pb, s, size);
	CHECK(pb.len >= 2 && pb.data[0] == '"' && pb.data[pb.len - 1] == '"');
	/* ASCII in, a JSON string out (other bytes pass as they are). */
	for (i = 0; i < size && (unsigned char)s[i] < 0x80; i++)
		;
	if (i == size)
		CHECK(json_check(pb.data, pb.len, NULL, NULL) == 0);
	pbuf_free(&pb);
	return (0);
}
