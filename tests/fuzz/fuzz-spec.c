/*
 * fuzz-spec.c -- the pm.yaml loader and writer: YAML bytes into
 * spec_parse, and the input itself as a string in an app.
 *
 * Invariants: a refused file has at least one error and each names the
 * file; an accepted one, written back by spec_write_yaml (what `pmc
 * save` does), is accepted again into the same apps: equal, every field
 * of the table with the same texts, the same `pmcd -n -v` dump, and
 * written again the same bytes; a copy of an app equals it.  And any
 * string the loader can hold (UTF-8 without NUL: the input, when it is
 * one) comes back the same from a dump, as an argument, an environment
 * value and a path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "path.h"
#include "spec.h"
#include "specfield.h"
#include "xmalloc.h"
#include "ytree.h"

#define PATH	"/fuzz/pm.yaml"

static void
check_refused(const struct spec *spec, const struct spec_errors *errs)
{
	size_t	 i;

	CHECK(spec == NULL);
	CHECK(errs->count > 0);
	for (i = 0; i < errs->count; i++)
		CHECK(strncmp(errs->msgs[i], PATH ":", sizeof(PATH)) == 0);
}

/* spec_dump or spec_write_yaml of spec, as a string of *len bytes. */
static char *
text_of(const struct spec *spec, int yaml, size_t *len)
{
	FILE	*f;
	char	*s = NULL;

	CHECK((f = open_memstream(&s, len)) != NULL);
	if (yaml)
		CHECK(spec_write_yaml(spec->apps, spec->napps, f) == 0);
	else
		spec_dump(spec, f);
	CHECK(fclose(f) == 0);
	return s;
}

/* Every field of the table: the same texts, as written and effective. */
static void
check_fields(const struct app_spec *a, const struct app_spec *b)
{
	const struct spec_field	*f;
	char			 ba[64], bb[64];
	size_t			 i, n;
	int			 eff;

	for (f = spec_fields; f < spec_fields + spec_nfields; f++) {
		n = spec_field_count(f, a);
		CHECK(spec_field_count(f, b) == n);
		for (i = 0; i < n; i++)
			for (eff = 0; eff < 2; eff++)
				CHECK(strcmp(spec_field_text(f, a, i, eff, ba,
				    sizeof(ba)), spec_field_text(f, b, i, eff,
				    bb, sizeof(bb))) == 0);
	}
}

/* Written out and read back, spec gives the same apps. */
static void
check_round_trip(const struct spec *spec)
{
	struct spec		*again;
	struct spec_errors	 errs = { NULL, 0 };
	struct app_spec		*dup;
	char			*yaml, *yaml2, *dump, *dump2;
	size_t			 len, len2, dlen, dlen2, i;

	dump = text_of(spec, 0, &dlen);
	yaml = text_of(spec, 1, &len);
	if (spec_parse(PATH, yaml, len, &again, &errs) == -1) {
		fprintf(stderr, "written back:\n%s\nrefused:\n", yaml);
		for (i = 0; i < errs.count; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		CHECK(!"spec_write_yaml output accepted");
	}
	CHECK(again->napps == spec->napps);
	for (i = 0; i < spec->napps; i++) {
		CHECK(app_spec_equal(spec->apps[i], again->apps[i]));
		check_fields(spec->apps[i], again->apps[i]);
		dup = app_spec_dup(spec->apps[i]);
		CHECK(app_spec_equal(spec->apps[i], dup));
		app_spec_free(dup);
	}
	dump2 = text_of(again, 0, &dlen2);
	CHECK(dlen == dlen2 && memcmp(dump, dump2, dlen) == 0);
	yaml2 = text_of(again, 1, &len2);
	if (len != len2 || memcmp(yaml, yaml2, len) != 0) {
		fprintf(stderr, "written:\n%s\nwritten again:\n%s\n", yaml,
		    yaml2);
		CHECK(!"spec_write_yaml output stable");
	}
	spec_free(again);
	free(yaml);
	free(yaml2);
	free(dump);
	free(dump2);
}

/* s as an argument, an environment value, cwd and logs.out of an app. */
static void
check_string(const char *s)
{
	static const char	 base[] = "apps: [{name: s, command: x}]";
	struct spec		*spec;
	struct spec_errors	 errs = { NULL, 0 };
	struct app_spec		*app;

	CHECK(spec_parse(PATH, base, sizeof(base) - 1, &spec, &errs) == 0);
	app = spec->apps[0];
	strv_add(&app->argv, &app->argc, xstrdup(s));
	strv_add(&app->env, &app->nenv, xasprintf("K=%s", s));
	free(app->cwd);
	app->cwd = path_resolve("/", s);
	app->log_out = path_resolve("/", s);
	check_round_trip(spec);
	spec_free(spec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec		*spec;
	struct spec_errors	 errs = { NULL, 0 };
	char			*s;

	if (spec_parse(PATH, (const char *)data, size, &spec, &errs) == -1)
		check_refused(spec, &errs);
	else {
		CHECK(errs.count == 0);
		check_round_trip(spec);
		spec_free(spec);
	}
	spec_errors_clear(&errs);
	s = xasprintf("%.*s", (int)size, (const char *)data);
	if (strlen(s) == size && ytext_ok(s))
		check_string(s);
	free(s);
	return (0);
}
