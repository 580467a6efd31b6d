/*
 * listing.c -- the MSG_LIST reply of pmcd, parsed into rows; the human
 * forms of sizes and durations that the views of it print.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listing.h"
#include "protocol.h"

/* The columns this pmc knows; a newer pmcd may send more after them. */
#define LISTING_NCOLUMNS	LIST_NCOLUMNS
#define LISTING_NEEDED		(LIST_MEMORY + 1)	/* an older pmcd's */

/* A decimal number of digits only, at most max; 0 or -1. */
static int
parse_number(const char *s, unsigned long long max, unsigned long long *out)
{
	const char		*p;
	unsigned long long	 n;

	if (*s == '\0')
		return (-1);
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return (-1);
	}
	errno = 0;
	n = strtoull(s, NULL, 10);
	if (errno != 0 || n > max)
		return (-1);
	*out = n;
	return (0);
}

/* "12.5": digits, optionally a point and digits. */
static int
parse_cpu(const char *s, double *out)
{
	const char	*p;

	for (p = s; *p >= '0' && *p <= '9'; p++)
		;
	if (p == s || p - s > 9)
		return (-1);
	if (*p == '.') {
		if (p[1] == '\0')
			return (-1);
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (*p != '\0')
		return (-1);
	*out = strtod(s, NULL);
	return (0);
}

static int
parse_status(const char *s, char *out, size_t len)
{
	const char	*p;

	if (*s == '\0')
		return (-1);
	for (p = s; *p != '\0'; p++) {
		if ((*p < 'a' || *p > 'z') && *p != '-')
			return (-1);
	}
	return (strlcpy(out, s, len) >= len ? -1 : 0);
}

static int
parse_row(char **col, struct list_row *row)
{
	size_t	 len;

	len = strlen(col[LIST_NAME]);
	if (len == 0 || len > SPEC_NAME_MAX)
		return (-1);
	memcpy(row->name, col[LIST_NAME], len + 1);
	if (parse_number(col[LIST_INSTANCE], INT_MAX, &row->instance) == -1 ||
	    parse_number(col[LIST_PID], INT_MAX, &row->pid) == -1 ||
	    parse_status(col[LIST_STATUS], row->status,
	    sizeof(row->status)) == -1 ||
	    parse_number(col[LIST_RESTARTS], UINT64_MAX, &row->restarts) == -1 ||
	    parse_number(col[LIST_UPTIME_MS], UINT64_MAX,
	    &row->uptime_ms) == -1 ||
	    parse_cpu(col[LIST_CPU], &row->cpu) == -1 ||
	    parse_number(col[LIST_MEMORY], UINT64_MAX, &row->memory) == -1)
		return (-1);
	row->balance[0] = row->engine[0] = '\0';
	row->weight = 0;
	if (col[LIST_WEIGHT] != NULL &&
	    (parse_status(col[LIST_BALANCE], row->balance,
	    sizeof(row->balance)) == -1 ||
	    parse_status(col[LIST_ENGINE], row->engine,
	    sizeof(row->engine)) == -1 ||
	    parse_number(col[LIST_WEIGHT], UINT32_MAX, &row->weight) == -1))
		return (-1);
	return (0);
}

int
listing_add(const char *record, void *arg)
{
	struct list_rows	*rows = arg;
	struct list_row		*v;
	char			*copy, *p, *col[LISTING_NCOLUMNS];
	int			 n, r;

	if ((copy = strdup(record)) == NULL)
		return (-1);
	for (n = 0, p = copy; n < LISTING_NCOLUMNS && p != NULL; n++)
		col[n] = strsep(&p, "\t");
	for (; n < LISTING_NCOLUMNS; n++)
		col[n] = NULL;
	r = -1;
	if (col[LISTING_NEEDED - 1] != NULL) {
		v = reallocarray(rows->v, rows->n + 1, sizeof(*rows->v));
		if (v != NULL) {
			rows->v = v;
			r = parse_row(col, &rows->v[rows->n]);
			if (r == 0)
				rows->n++;
		}
	}
	free(copy);
	return (r);
}

/* Why proto_recv failed. */
static void
recv_why(int error, const struct pmc_msghdr *hdr, char *why, size_t len)
{
	if (error == EPROTO && hdr->version != PMC_PROTO_VERSION)
		snprintf(why, len, "%s", proto_check(hdr));
	else if (error == EPROTO)
		snprintf(why, len, "malformed reply from pmcd");
	else if (error == ECONNRESET)
		snprintf(why, len, "pmcd closed the connection");
	else if (error == EAGAIN || error == EWOULDBLOCK)
		snprintf(why, len, "no reply from pmcd in time");
	else
		snprintf(why, len, "read from pmcd: %s", strerror(error));
}

/*
 * One reply to MSG_LIST: 1 at MSG_EXIT 0, 0 to read on, -1 with why.
 * MSG_ERR's text is kept as why.
 */
static int
fetch_reply(const struct pmc_msghdr *hdr, const char **f, int n,
    struct list_rows *rows, char *why, size_t len)
{
	int	 i;

	switch (hdr->type) {
	case MSG_OUT:
		return (n == 1 ? 0 : -1);
	case MSG_ERR:
		if (n != 1)
			break;
		snprintf(why, len, "%.*s", (int)strcspn(f[0], "\n"), f[0]);
		return (0);
	case MSG_DATA:
		for (i = 0; i < n; i++) {
			if (listing_add(f[i], rows) == -1)
				break;
		}
		if (i < n)
			break;
		return (0);
	case MSG_EXIT:
		if (n == 1 && strcmp(f[0], "0") == 0)
			return (1);
		if (n != 1)
			break;
		if (*why == '\0')
			snprintf(why, len, "pmcd failed the request (exit "
			    "status %.3s)", f[0]);
		return (-1);
	}
	snprintf(why, len, "malformed reply from pmcd");
	return (-1);
}

int
listing_fetch(int fd, struct list_rows *rows, char *why, size_t len)
{
	struct pmc_msghdr	  hdr;
	const char		**fields;
	char			 *payload;
	int			  n, r;

	*why = '\0';
	if (proto_send(fd, MSG_LIST, NULL, 0) == -1) {
		snprintf(why, len, "send to pmcd: %s", strerror(errno));
		return (-1);
	}
	if ((fields = calloc(PMC_FIELDS_MAX, sizeof(*fields))) == NULL) {
		snprintf(why, len, "%s", strerror(errno));
		return (-1);
	}
	do {
		if (proto_recv(fd, &hdr, &payload) == -1) {
			recv_why(errno, &hdr, why, len);
			r = -1;
			break;
		}
		n = proto_fields(payload, hdr.len, fields, PMC_FIELDS_MAX);
		if (n == -1) {
			snprintf(why, len, "malformed reply from pmcd");
			r = -1;
		} else
			r = fetch_reply(&hdr, fields, n, rows, why, len);
		free(payload);
	} while (r == 0);
	free(fields);
	return (r == 1 ? 0 : -1);
}

void
listing_clear(struct list_rows *rows)
{
	free(rows->v);
	rows->v = NULL;
	rows->n = 0;
}

void
human_uptime(unsigned long long ms, char *buf, size_t len)
{
	unsigned long long	 s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%llus", s);
	else if (s < 3600)
		snprintf(buf, len, "%llum", s / 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh", s / 3600);
	else
		snprintf(buf, len, "%llud", s / 86400);
}
