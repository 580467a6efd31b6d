/*
 * human.c -- figures for people.
 */
#include <stdio.h>

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
