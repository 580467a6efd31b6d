/*
 * human.c -- figures and text for people.
 */
#define LIBBSD_OPENBSD_VIS	/* libbsd: the historical strnvis */

#include <stdio.h>
#include <vis.h>

#include "human.h"

void
human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char	 units[] = "KMGTP";
	double			 v;
	size_t			 u;

	if (bytes < 1024) {
		snprintf(buf, len, "%lluB", (unsigned long long)bytes);
		return;
	}
	v = (double)bytes / 1024;
	for (u = 0; v >= 1023.95 && u < sizeof(units) - 2; u++)
		v /= 1024;
	snprintf(buf, len, "%.1f%c", v, units[u]);
}

/*
 * The length of the UTF-8 sequence at p when it is valid (shortest form,
 * no surrogate) and not a C1 control (U+0080 to U+009F); else 0.
 */
static size_t
utf8_len(const unsigned char *p, size_t len)
{
	unsigned int	 cp;
	size_t		 n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return (0);
	if (len < n)
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < 0xa0 || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (n);
}

void
human_text(FILE *fp, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 e[8];
	size_t			 i, n;

	for (i = 0; i < len; i += n) {
		n = 1;
		if (p[i] == '\t' || p[i] == '\n' ||
		    (p[i] >= 0x20 && p[i] < 0x7f))
			putc(p[i], fp);
		else if ((n = utf8_len(p + i, len - i)) > 0)
			fwrite(p + i, 1, n, fp);
		else {
			n = 1;
			vis(e, p[i], VIS_OCTAL | VIS_CSTYLE | VIS_NOSLASH |
			    VIS_NOLOCALE, i + 1 < len ? p[i + 1] : '\0');
			fputs(e, fp);
		}
	}
}
