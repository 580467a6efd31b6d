/*
 * ecojs.h -- a PM2 JavaScript process file evaluated by node, as the
 * user running pmc, to the JSON of what it exports (ecosystem.h).
 */
#ifndef PMC_ECOJS_H
#define PMC_ECOJS_H

#include <stddef.h>

struct spec_errors;

/* *json (malloc'd, NUL-terminated), *len; 0, or -1 with errs. */
int	 ecojs_eval(const char *real, char **json, size_t *len,
	    struct spec_errors *errs);

#endif /* PMC_ECOJS_H */
