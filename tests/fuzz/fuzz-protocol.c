/*
 * fuzz-protocol.c -- the control protocol decoder.
 *
 * The input is what a peer writes on the control socket: messages, each
 * a struct pmc_msghdr and its payload, back to back.  It is decoded two
 * ways, which must agree:
 *
 * - as pmcd does (control.c): a header, proto_check, the payload NUL-
 *   terminated past its length, proto_fields; then what the requests
 *   carry is parsed as pmcd parses it: MSG_START's and MSG_RESURRECT's files
 *   by specfile_parse, from the answers they carry,
 *   MSG_SIGNAL's signal by parse_signal;
 * - as pmc does: proto_recv on a socket holding the same bytes; and
 *   taken as pmcd's replies, by client_request (cmd/client.c), which
 *   must return the status of a well-formed MSG_EXIT and 1 on anything
 *   else, having handed each MSG_DATA record on in order.
 *
 * Invariants: fields split as the layout says and, put back together
 * with pbuf_add_field, give the payload again; a message proto_send
 * writes, proto_recv reads back the same.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "specfile.h"
#include "fuzz.h"
#include "human.h"
#include "protocol.h"
#include "spec.h"

/* At most this much input: all of it must fit in a socket's buffer. */
#define INPUT_MAX	(16 * 1024)
#define MSGS_MAX	64

static const char	*fields[PMC_FIELDS_MAX];
static FILE		*devnull;

/* Does proto_fields' answer follow the layout of protocol.h? */
static void
check_fields(const char *payload, size_t len, int n)
{
	struct pbuf	 pb = { NULL, 0, 0 };
	size_t		 nuls = 0, i;

	for (i = 0; i < len; i++)
		nuls += payload[i] == '\0';
	if (len > 0 && payload[len - 1] != '\0') {
		CHECK(n == -1);
		return;
	}
	if (nuls > PMC_FIELDS_MAX) {
		CHECK(n == -1);
		return;
	}
	CHECK(n >= 0 && (size_t)n == nuls);
	for (i = 0; i < (size_t)n; i++) {
		CHECK(fields[i] >= payload && fields[i] < payload + len);
		pbuf_add_field(&pb, fields[i]);
	}
	CHECK(pb.len == len);
	CHECK(len == 0 || memcmp(pb.data, payload, len) == 0);
	pbuf_free(&pb);
}

/* What pmcd makes of a request's fields, past the framing. */
static void
decode_request(uint32_t type, int n)
{
	struct spec		*spec;
	struct spec_errors	 errs = { NULL, 0 };
	int			 i, sig;

	if ((type == MSG_START && n >= 4 && (n - 1) % 3 == 0) ||
	    (type == MSG_RESURRECT && n == 3))
		for (i = type == MSG_START; i + 2 < n; i += 3) {
			if (specfile_parse(fields[i], fields[i + 1],
			    fields[i + 2], &spec, &errs) == 0)
				spec_free(spec);
			else
				CHECK(errs.count > 0);
			spec_errors_clear(&errs);
		}
	if (type == MSG_SIGNAL && n >= 1 && (sig = parse_signal(fields[0])) > 0)
		CHECK(parse_signal(signal_name(sig)) == sig);
}

/*
 * The messages pmcd would see in buf[0..len); how many.  *stop is where
 * the first message not returned starts.
 */
static size_t
decode_pmcd(const uint8_t *buf, size_t len, struct pmc_msghdr *hdrs,
    char **payloads, size_t *stop)
{
	struct pmc_msghdr	 hdr;
	size_t			 off = 0, k = 0;
	char			*payload;
	int			 n;

	for (;;) {
		*stop = off;
		if (k == MSGS_MAX || len - off < sizeof(hdr))
			break;
		memcpy(&hdr, buf + off, sizeof(hdr));
		off += sizeof(hdr);
		if (proto_check(&hdr) != NULL)
			break;
		if (hdr.len > len - off)
			break;		/* pmcd would wait for the rest */
		CHECK((payload = malloc((size_t)hdr.len + 1)) != NULL);
		memcpy(payload, buf + off, hdr.len);
		payload[hdr.len] = '\0';
		off += hdr.len;
		n = proto_fields(payload, hdr.len, fields, PMC_FIELDS_MAX);
		check_fields(payload, hdr.len, n);
		if (n != -1)
			decode_request(hdr.type, n);
		hdrs[k] = hdr;
		payloads[k++] = payload;
	}
	return (k);
}

static void
socket_pair(int sv[2])
{
	int	 size = INPUT_MAX * 4;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* pmc's reading of the same bytes agrees with pmcd's. */
static void
check_recv(const uint8_t *buf, size_t len, const struct pmc_msghdr *hdrs,
    char *const *payloads, size_t k, size_t stop)
{
	struct pmc_msghdr	 hdr;
	char			*payload;
	size_t			 i;
	int			 sv[2];

	socket_pair(sv);
	CHECK(write(sv[0], buf, len) == (ssize_t)len);
	close(sv[0]);
	for (i = 0; i < k; i++) {
		CHECK(proto_recv(sv[1], &hdr, &payload) == 0);
		CHECK(memcmp(&hdr, &hdrs[i], sizeof(hdr)) == 0);
		CHECK(memcmp(payload, payloads[i], hdr.len + 1) == 0);
		free(payload);
	}
	/* What follows is a bad header, a short message or nothing. */
	if (k < MSGS_MAX) {
		CHECK(proto_recv(sv[1], &hdr, &payload) == -1);
		CHECK(payload == NULL);
		if (len - stop >= sizeof(hdr) && proto_check(&hdr) != NULL)
			CHECK(errno == EPROTO);
		else
			CHECK(errno == ECONNRESET);
	}
	close(sv[1]);
}

/* proto_send then proto_recv gives each message back. */
static void
check_send(const struct pmc_msghdr *hdrs, char *const *payloads, size_t k)
{
	struct pmc_msghdr	 hdr;
	char			*payload;
	size_t			 i;
	int			 sv[2];

	socket_pair(sv);
	for (i = 0; i < k; i++) {
		CHECK(proto_send(sv[0], hdrs[i].type, payloads[i],
		    hdrs[i].len) == 0);
		CHECK(proto_recv(sv[1], &hdr, &payload) == 0);
		CHECK(memcmp(&hdr, &hdrs[i], sizeof(hdr)) == 0);
		CHECK(memcmp(payload, payloads[i], hdr.len + 1) == 0);
		free(payload);
	}
	close(sv[0]);
	close(sv[1]);
}

/* MSG_EXIT's status, as protocol.h has it: 0 to 255 in decimal, or -1. */
static int
exit_status(const char *s)
{
	size_t	 len = strlen(s);

	if (len == 0 || len > 3 || strspn(s, "0123456789") != len ||
	    atoi(s) > 255)
		return (-1);
	return (atoi(s));
}

/*
 * What pmc must make of these messages as replies: the exit status, and
 * how many records it hands on; -1 when the first MSGS_MAX do not say.
 */
static int
replies_status(const struct pmc_msghdr *hdrs, char *const *payloads,
    size_t k, size_t *records)
{
	size_t	 i;
	int	 j, n;

	*records = 0;
	for (i = 0; i < k; i++) {
		n = proto_fields(payloads[i], hdrs[i].len, fields,
		    PMC_FIELDS_MAX);
		if (n == -1)
			return (PMC_EXIT_FAIL);
		switch (hdrs[i].type) {
		case MSG_OUT:
		case MSG_ERR:
			if (n != 1)
				return (PMC_EXIT_FAIL);
			break;
		case MSG_DATA:
			for (j = 0; j < n; j++) {
				(*records)++;
				if (strchr(fields[j], '\t') == NULL)
					return (PMC_EXIT_FAIL);
			}
			break;
		case MSG_EXIT:
			if (n != 1 || exit_status(fields[0]) == -1)
				return (PMC_EXIT_FAIL);
			return (exit_status(fields[0]));
		default:
			return (PMC_EXIT_FAIL);
		}
	}
	return (k == MSGS_MAX ? -1 : PMC_EXIT_FAIL);
}

/* A MSG_DATA record; one without a tab is malformed. */
static int
record(const char *rec, void *arg)
{
	size_t	*n = arg;

	(*n)++;
	return (strchr(rec, '\t') != NULL ? 0 : -1);
}

static void
check_client(const uint8_t *buf, size_t len, const struct pmc_msghdr *hdrs,
    char *const *payloads, size_t k)
{
	struct pbuf	 none = { NULL, 0, 0 };
	FILE		*out = stdout, *err = stderr;
	size_t		 want_records, records = 0;
	int		 sv[2], want, got;

	want = replies_status(hdrs, payloads, k, &want_records);
	socket_pair(sv);
	CHECK(write(sv[0], buf, len) == (ssize_t)len);
	shutdown(sv[0], SHUT_WR);
	stdout = stderr = devnull;	/* what pmc prints goes nowhere */
	got = client_request(sv[1], MSG_LIST, &none, record, &records);
	stdout = out;
	stderr = err;
	close(sv[0]);
	close(sv[1]);
	CHECK(got >= 0 && got <= 255);
	if (want != -1) {
		CHECK(got == want);
		CHECK(records == want_records);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pmc_msghdr	 hdrs[MSGS_MAX];
	char			*payloads[MSGS_MAX];
	size_t			 i, k, stop;

	if (size > INPUT_MAX)
		return (0);
	if (devnull == NULL)
		CHECK((devnull = fopen("/dev/null", "w")) != NULL);
	k = decode_pmcd(data, size, hdrs, payloads, &stop);
	check_recv(data, size, hdrs, payloads, k, stop);
	check_send(hdrs, payloads, k);
	check_client(data, size, hdrs, payloads, k);
	for (i = 0; i < k; i++)
		free(payloads[i]);
	return (0);
}
