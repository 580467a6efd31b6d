/*
 * protocol.c -- framing of the messages between pmc and pmcd.
 *
 * See protocol.h for the layout.  The pbuf functions are used by both
 * ends; proto_send and proto_recv block and are for pmc only (pmcd reads
 * and writes without blocking, in its event loop).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol.h"

static void
pbuf_nomem(void)
{
	fputs("out of memory\n", stderr);
	abort();
}

/* Make room for n more bytes. */
static void
pbuf_grow(struct pbuf *pb, size_t n)
{
	size_t	 need, cap;
	char	*p;

	if (n > SIZE_MAX - pb->len)
		pbuf_nomem();
	need = pb->len + n;
	if (need <= pb->cap)
		return;
	cap = pb->cap != 0 ? pb->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			pbuf_nomem();
		cap *= 2;
	}
	if ((p = realloc(pb->data, cap)) == NULL)
		pbuf_nomem();
	pb->data = p;
	pb->cap = cap;
}

void
pbuf_add(struct pbuf *pb, const void *buf, size_t n)
{
	if (n == 0)
		return;
	pbuf_grow(pb, n);
	memcpy(pb->data + pb->len, buf, n);
	pb->len += n;
}

void
pbuf_add_field(struct pbuf *pb, const char *s)
{
	pbuf_add(pb, s, strlen(s) + 1);
}

void
pbuf_printf(struct pbuf *pb, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		pbuf_nomem();	/* only on a bad format or no memory */
	pbuf_grow(pb, (size_t)n + 1);	/* vsnprintf writes a NUL */
	va_start(ap, fmt);
	vsnprintf(pb->data + pb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	pb->len += (size_t)n;
}

void
pbuf_free(struct pbuf *pb)
{
	free(pb->data);
	pb->data = NULL;
	pb->len = pb->cap = 0;
}

const char *
proto_check(const struct pmc_msghdr *hdr)
{
	if (hdr->version != PMC_PROTO_VERSION)
		return ("incompatible pmc and pmcd");
	if (hdr->len > PMC_MSG_MAX)
		return ("message too large");
	if (hdr->flags != 0)
		return ("reserved header flags set");
	return (NULL);
}

int
proto_fields(const char *payload, size_t len, const char **fields,
    size_t max)
{
	const char	*p, *end, *nul;
	size_t		 n;

	if (len == 0)
		return (0);
	if (payload[len - 1] != '\0')
		return (-1);
	end = payload + len;
	n = 0;
	for (p = payload; p < end; p = nul + 1) {
		if (n == max || n == (size_t)PMC_FIELDS_MAX)
			return (-1);
		nul = memchr(p, '\0', (size_t)(end - p));
		fields[n++] = p;
	}
	return ((int)n);
}

int
proto_send(int fd, uint32_t type, const void *payload, size_t len)
{
	struct pmc_msghdr	 hdr;
	struct iovec		 iov[2];
	struct msghdr		 msg;
	ssize_t			 n;
	size_t			 done, total;

	if (len > PMC_MSG_MAX) {
		errno = EMSGSIZE;
		return (-1);
	}
	memset(&hdr, 0, sizeof(hdr));
	hdr.version = PMC_PROTO_VERSION;
	hdr.type = type;
	hdr.len = (uint32_t)len;

	total = sizeof(hdr) + len;
	for (done = 0; done < total; done += (size_t)n) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		if (done < sizeof(hdr)) {
			iov[0].iov_base = (char *)&hdr + done;
			iov[0].iov_len = sizeof(hdr) - done;
			iov[1].iov_base = (void *)(uintptr_t)payload;
			iov[1].iov_len = len;
			msg.msg_iovlen = len != 0 ? 2 : 1;
		} else {
			iov[0].iov_base = (char *)(uintptr_t)payload +
			    (done - sizeof(hdr));
			iov[0].iov_len = total - done;
			msg.msg_iovlen = 1;
		}
		if ((n = sendmsg(fd, &msg, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				n = 0;
			else
				return (-1);
		}
	}
	return (0);
}

/* Read exactly len bytes; end of file before that is ECONNRESET. */
static int
read_full(int fd, void *buf, size_t len)
{
	size_t	 done;
	ssize_t	 n;

	for (done = 0; done < len; done += (size_t)n) {
		n = read(fd, (char *)buf + done, len - done);
		if (n == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			return (-1);
		}
		if (n == 0) {
			errno = ECONNRESET;
			return (-1);
		}
	}
	return (0);
}

/*
 * End of file, at a message boundary or not, fails with ECONNRESET.  A
 * header that proto_check refuses fails with EPROTO, and *hdr holds it:
 * proto_check(hdr) then says why.
 */
int
proto_recv(int fd, struct pmc_msghdr *hdr, char **payload)
{
	char	*p;

	*payload = NULL;
	if (read_full(fd, hdr, sizeof(*hdr)) == -1)
		return (-1);
	if (proto_check(hdr) != NULL) {
		errno = EPROTO;
		return (-1);
	}
	if ((p = malloc((size_t)hdr->len + 1)) == NULL)
		return (-1);
	if (read_full(fd, p, hdr->len) == -1) {
		free(p);
		return (-1);
	}
	p[hdr->len] = '\0';
	*payload = p;
	return (0);
}
