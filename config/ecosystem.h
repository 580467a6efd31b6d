/*
 * ecosystem.h -- PM2's process files (ecosystem.config.js, and the JSON
 * and YAML files PM2 also reads) as pm.yaml text.
 *
 * A file is PM2's when it is JavaScript (.js, .cjs, .mjs), or JSON or
 * YAML whose apps have a "script" and no "command".  JavaScript is
 * evaluated elsewhere (pmc runs node as its user; pmcd never does): this
 * code takes its JSON.  Each PM2 field with a pmc meaning becomes that
 * field (the table in pm.yaml(5)); one without is a warning naming it.
 */
#ifndef PMC_ECOSYSTEM_H
#define PMC_ECOSYSTEM_H

#include <stddef.h>

#include "spec.h"

struct pbuf;

/* The first line of every translation: pmcd knows one by it. */
#define ECO_MARK	"# Translated by pmc from the PM2 process file "

enum eco_kind {
	ECO_NONE,		/* a pm.yaml */
	ECO_JS,			/* JavaScript: its JSON, from node */
	ECO_DATA		/* PM2's JSON or YAML */
};

/* What path, holding buf[0..len), is. */
enum eco_kind	 eco_kind(const char *path, const char *buf, size_t len);

/*
 * The pm.yaml of the PM2 apps in buf[0..len) (JSON or YAML; from the
 * file at path), with env_NAME merged over env when envname is set, into
 * out (NUL-terminated).  Warnings (a field with no pmc meaning) go to
 * warns, each "path: app NAME: field: why".  0, or -1 with errs.
 */
int		 eco_translate(const char *path, const char *buf, size_t len,
		    const char *envname, struct pbuf *out,
		    struct spec_errors *warns, struct spec_errors *errs);

/* The interpreter PM2 runs script with ("node" for .js), or NULL. */
const char	*eco_interpreter(const char *script);

/* Is path, by its name, a process file rather than a script to run:
 * ecosystem*, *.config.js (.cjs, .mjs), .json, .yaml, .yml? */
int		 eco_is_file_name(const char *path);

/* Does buf begin as a translation does (ECO_MARK)? */
int		 eco_is_translation(const char *buf);

#endif /* PMC_ECOSYSTEM_H */
