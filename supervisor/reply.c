/*
 * reply.c -- what pmcd answers a control client: frames queued on its
 * connection (protocol.h), ending with MSG_EXIT.  Used by the socket
 * (control.c) and the handlers (request.c) alike.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "control.h"
#include "pmcd.h"

void
reply(struct client *c, uint32_t type, const char *payload, size_t len)
{
	struct pmc_msghdr	 hdr = { PMC_PROTO_VERSION, type, 0, 0 };

	if (c->closing)
		return;
	hdr.len = (uint32_t)len;
	pbuf_add(&c->conn->out, &hdr, sizeof(hdr));
	pbuf_add(&c->conn->out, payload, len);
	conn_interest(c->conn);
}

void
reply_text(struct client *c, uint32_t type, const char *text)
{
	reply(c, type, text, strlen(text) + 1);
}

static void __attribute__((__format__(__printf__, 3, 0)))
reply_vf(struct client *c, uint32_t type, const char *fmt, va_list ap)
{
	char	 buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	reply_text(c, type, buf);
}

void
reply_errf(struct client *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	reply_vf(c, MSG_ERR, fmt, ap);
	va_end(ap);
}

void
reply_outf(struct client *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	reply_vf(c, MSG_OUT, fmt, ap);
	va_end(ap);
}

void
reply_exit(struct client *c, int status)
{
	char	 buf[4];

	snprintf(buf, sizeof(buf), "%d", status);
	reply_text(c, MSG_EXIT, buf);
	c->closing = 1;
	c->conn->want = 0;	/* read no more */
}

/* Send each NUL-ended field of errs as one MSG_ERR. */
void
reply_errs(struct client *c, const struct pbuf *errs)
{
	const char	*fields[PMC_FIELDS_MAX];
	int		 i, n;

	n = proto_fields(errs->data, errs->len, fields, PMC_FIELDS_MAX);
	for (i = 0; i < n; i++)
		reply_text(c, MSG_ERR, fields[i]);
}
