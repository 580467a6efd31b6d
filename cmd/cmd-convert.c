/*
 * cmd-convert.c -- `pmc convert [--env NAME] FILE`: print the pm.yaml
 * that a PM2 process file (ecosystem.config.js, its JSON or YAML) is
 * started as, so that one can move to pm.yaml for good.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "ecojs.h"
#include "ecosystem.h"
#include "spec.h"
#include "specfile.h"

static int	cmd_convert_exec(struct cmd *);

static const struct option cmd_convert_longopts[] = {
	{ "env", required_argument, NULL, 'e' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_convert_entry = {
	.name = "convert",
	.getopt = "",
	.longopts = cmd_convert_longopts,
	.lower = 1,
	.upper = 1,
	.usage = "[--env NAME] FILE",
	.help = "Print the pm.yaml a PM2 process file (ecosystem.config.js, "
	    ".json, .yaml) is started as.",
	.exec = cmd_convert_exec
};

static int
cmd_convert_exec(struct cmd *cmd)
{
	struct spec_errors	 errs, warns;
	struct specfile_pm2	 pm2 = { ecojs_eval, cmd->optargs['e'], &warns };
	struct spec		*spec;
	const char		*path = cmd->argv[0];
	char			*real = NULL, *text = NULL;
	size_t			 len, i;
	int			 r = PMC_EXIT_OK;

	memset(&errs, 0, sizeof(errs));
	memset(&warns, 0, sizeof(warns));
	if (specfile_text(path, &pm2, &real, &text, &len, &errs) == -1)
		r = PMC_EXIT_FAIL;
	else if (!eco_is_translation(text)) {
		spec_errors_add(&errs, "%s: not a PM2 process file (its apps "
		    "have no script:); it is read as a pm.yaml", path);
		r = PMC_EXIT_FAIL;
	} else {
		fputs(text, stdout);
		/* What the loader makes of it: pmc start would say the same. */
		if (spec_parse_in(path, real, text, len, &spec, &errs) == 0)
			spec_free(spec);
		else
			r = PMC_EXIT_FAIL;
	}
	for (i = 0; i < warns.count; i++)
		fprintf(stderr, "pmc: warning: %s\n", warns.msgs[i]);
	for (i = 0; i < errs.count; i++)
		fprintf(stderr, "pmc: %s\n", errs.msgs[i]);
	spec_errors_clear(&errs);
	spec_errors_clear(&warns);
	free(real);
	free(text);
	return (r);
}
