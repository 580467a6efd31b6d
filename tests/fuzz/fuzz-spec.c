/*
 * fuzz-spec.c -- the pm.yaml loader: YAML bytes into spec_parse.
 *
 * Invariants: a refused file has at least one error and each names the
 * file; an accepted one dumps, and written back as YAML by
 * spec_write_yaml (what `pmc save` does) it is accepted again into the
 * same apps; a copy of an app equals it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "spec.h"

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

/* Written out and read back, spec gives the same apps. */
static void
check_round_trip(const struct spec *spec)
{
	struct spec		*again;
	struct spec_errors	 errs = { NULL, 0 };
	struct app_spec		*dup;
	FILE			*f;
	char			*yaml = NULL;
	size_t			 len = 0, i;

	CHECK((f = open_memstream(&yaml, &len)) != NULL);
	spec_dump(spec, f);
	CHECK(fclose(f) == 0);
	free(yaml);
	CHECK((f = open_memstream(&yaml, &len)) != NULL);
	CHECK(spec_write_yaml(spec->apps, spec->napps, f) == 0);
	CHECK(fclose(f) == 0);
	if (spec_parse(PATH, yaml, len, &again, &errs) == -1) {
		fprintf(stderr, "written back:\n%s\nrefused:\n", yaml);
		for (i = 0; i < errs.count; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		CHECK(!"spec_write_yaml output accepted");
	}
	CHECK(again->napps == spec->napps);
	for (i = 0; i < spec->napps; i++) {
		CHECK(app_spec_equal(spec->apps[i], again->apps[i]));
		dup = app_spec_dup(spec->apps[i]);
		CHECK(app_spec_equal(spec->apps[i], dup));
		app_spec_free(dup);
	}
	spec_free(again);
	free(yaml);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec		*spec;
	struct spec_errors	 errs = { NULL, 0 };

	if (spec_parse(PATH, (const char *)data, size, &spec, &errs) == -1)
		check_refused(spec, &errs);
	else {
		CHECK(errs.count == 0);
		check_round_trip(spec);
		spec_free(spec);
	}
	spec_errors_clear(&errs);
	return (0);
}
