/*
 * specfield.h -- the app spec as one table of field descriptors.
 *
 * Each field of an app is one row of spec_fields: its name as a spec
 * writes it ("backoff.max" inside a group), its kind, where its value
 * lives in struct app_spec, its default as a spec would write it, and
 * flags.  The loader (specload.c) reads, defaults, copies, compares and
 * frees an app by walking the table; the writers (specwrite.c) dump it
 * and write it as YAML by walking it too, through spec_field_count and
 * spec_field_text, and spec_values hands the dump's values to describe
 * (supervisor/describe.c).  A new field is a row, a member of struct
 * app_spec and its paragraph in pm.yaml(5).
 */
#ifndef PMC_SPECFIELD_H
#define PMC_SPECFIELD_H

#include <stddef.h>
#include <stdint.h>

struct app_spec;
struct spec_hooks;

enum spec_kind {
	SK_STRING,	/* char *, NULL when not set */
	SK_PATH,	/* char *, made absolute against the spec's folder */
	SK_DURATION,	/* uint64_t ms: "0", "100ms", "5s", "1m", "2h" */
	SK_SIZE,	/* uint64_t bytes: "4096", "512K", "10M", "1G" */
	SK_BOOL,	/* int */
	SK_COUNT,	/* unsigned int, at most max */
	SK_ENUM,	/* an enum: the index of its word in words */
	SK_SIGNAL,	/* int: "TERM", "SIGHUP", "9" */
	SK_STRV,	/* char **, NULL-terminated; a size_t count at off_n */
	SK_GROUP,	/* a mapping of the rows that follow, "<name>.*" */
	SK_CUSTOM	/* what hooks do */
};

#define SF_REQUIRED	0x01	/* no default: the key must be there */
#define SF_NONZERO	0x02	/* SK_DURATION: more than 0 */
#define SF_NAME		0x04	/* the app's name: what dump lines start with */
#define SF_LIST		0x08	/* texts: a sequence */
#define SF_WORDS	0x10	/* texts: a command line, one flow sequence */
#define SF_PAIRS	0x20	/* texts "KEY=value": a mapping */
#define SF_HIDDEN	0x40	/* not a key: derived, copied and compared */

struct spec_field {
	const char		 *name;
	enum spec_kind		  kind;
	size_t			  off;		/* in struct app_spec */
	size_t			  off_n;	/* SK_STRV: of the count */
	const char		 *def;		/* the default; NULL: none */
	unsigned int		  flags;
	const char		 *expect;	/* what a bad value should be */
	const char *const	 *words;	/* SK_ENUM, NULL-terminated */
	uint64_t		  max;		/* SK_COUNT */
	const struct spec_hooks	 *hooks;	/* SK_CUSTOM; else overrides */
};

extern const struct spec_field	spec_fields[];
extern const size_t		spec_nfields;

/* The last part of the name: the key inside its mapping. */
const char	*spec_field_key(const struct spec_field *);
/* How many texts the field of app holds: 0 when not set or empty. */
size_t		 spec_field_count(const struct spec_field *,
		    const struct app_spec *);
/*
 * Text i of the field of app, as a spec would write it; with effective,
 * what it comes to here (for "instances: max", the count of CPUs).  In
 * buf, or in app.
 */
const char	*spec_field_text(const struct spec_field *,
		    const struct app_spec *, size_t i, int effective,
		    char *buf, size_t size);

/* One value of an app, as spec_dump writes it. */
struct spec_value {
	const struct app_spec	*app;
	const struct spec_field	*field;
	const char		*name;	/* "backoff.max"; "env.PATH" */
	const char		*text;	/* escaped, one line; "" if not set */
	int			 dflt;	/* the field is at its default */
};

/*
 * Call fn with each value of app that spec_dump writes, in the table's
 * order: what it comes to here ("instances: max" is the count of CPUs).
 * A field with a default is at it when it writes as its default, which
 * cwd, made absolute, never does; one without, when it is not set.
 */
void		 spec_values(const struct app_spec *,
		    void (*fn)(const struct spec_value *, void *), void *);

#endif /* PMC_SPECFIELD_H */
