/*
 * cmd.c -- the table of pmc verbs, their usage and their options.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

#define CMD_LONGOPTS_MAX	16

/* In the order `pmc help` lists them. */
const struct cmd_entry *cmd_table[] = {
	&cmd_start_entry,
	&cmd_list_entry,
	&cmd_describe_entry,
	&cmd_monit_entry,
	&cmd_metrics_entry,
	&cmd_stop_entry,
	&cmd_restart_entry,
	&cmd_delete_entry,
	&cmd_reload_entry,
	&cmd_scale_entry,
	&cmd_signal_entry,
	&cmd_drain_entry,
	&cmd_undrain_entry,
	&cmd_convert_entry,
	&cmd_send_entry,
	&cmd_events_entry,
	&cmd_logs_entry,
	&cmd_flush_entry,
	&cmd_reopen_logs_entry,
	&cmd_save_entry,
	&cmd_resurrect_entry,
	&cmd_startup_entry,
	&cmd_ping_entry,
	&cmd_update_entry,
	&cmd_kill_entry,
	&cmd_help_entry,
	NULL
};

/* The verb called exactly name; no prefix matching. */
const struct cmd_entry *
cmd_find(const char *name)
{
	const struct cmd_entry	**ep;

	for (ep = cmd_table; *ep != NULL; ep++) {
		if (strcmp((*ep)->name, name) == 0)
			return (*ep);
	}
	return (NULL);
}

void
cmd_usage(FILE *fp, const struct cmd_entry *entry)
{
	if (*entry->usage == '\0')
		fprintf(fp, "usage: pmc %s\n", entry->name);
	else
		fprintf(fp, "usage: pmc %s %s\n", entry->name, entry->usage);
}

/* The answer to `pmc help VERB` and `pmc VERB -h`. */
void
cmd_describe(FILE *fp, const struct cmd_entry *entry)
{
	cmd_usage(fp, entry);
	fprintf(fp, "%s\n", entry->help);
}

/* The answer to `pmc help`: one line per verb, its synopsis and use. */
void
cmd_overview(FILE *fp)
{
	const struct cmd_entry	**ep;
	char			  line[128];
	int			  width, n;

	fprintf(fp, "usage: pmc COMMAND [ARGS]\n\ncommands:\n");
	width = 0;
	for (ep = cmd_table; *ep != NULL; ep++) {
		n = snprintf(line, sizeof(line), "%s %s", (*ep)->name,
		    (*ep)->usage);
		if (n > width)
			width = n;
	}
	for (ep = cmd_table; *ep != NULL; ep++) {
		snprintf(line, sizeof(line), "%s %s", (*ep)->name,
		    (*ep)->usage);
		fprintf(fp, "  %-*s  %s\n", width, line, (*ep)->help);
	}
	fprintf(fp, "\nRun \"pmc help COMMAND\" or \"pmc COMMAND -h\" for one "
	    "command; see pmc(1).\n");
}

void
cmd_unknown(const char *name)
{
	fprintf(stderr, "pmc: unknown command \"%s\"\n", name);
	fprintf(stderr, "pmc: run \"pmc help\" for the list of commands\n");
}

/* entry's long options, then --help. */
static void
cmd_longopts(const struct cmd_entry *entry, struct option *lo)
{
	size_t	 n;

	n = 0;
	if (entry->longopts != NULL) {
		for (; entry->longopts[n].name != NULL &&
		    n < CMD_LONGOPTS_MAX - 2; n++)
			lo[n] = entry->longopts[n];
	}
	memset(&lo[n], 0, 2 * sizeof(*lo));
	lo[n].name = "help";
	lo[n].has_arg = no_argument;
	lo[n].val = 'h';
}

/*
 * Parse the options and check the argument count of one call; argv[0] is
 * the verb.  getopt prints "pmc: VERB: ..." for a bad option.
 */
int
cmd_parse(const struct cmd_entry *entry, int argc, char **argv,
    struct cmd *cmd)
{
	struct option	 lo[CMD_LONGOPTS_MAX];
	char		 optstr[64], prog[64], *verb;
	int		 ch, bad;

	memset(cmd, 0, sizeof(*cmd));
	cmd->entry = entry;
	cmd_longopts(entry, lo);
	/* A leading '+' stops at the first argument: `scale web -1`. */
	if (entry->getopt[0] == '+')
		snprintf(optstr, sizeof(optstr), "+h%s", entry->getopt + 1);
	else
		snprintf(optstr, sizeof(optstr), "h%s", entry->getopt);
	snprintf(prog, sizeof(prog), "pmc: %s", entry->name);

	verb = argv[0];
	argv[0] = prog;
	optind = 1;
	opterr = 1;
	bad = 0;
	while ((ch = getopt_long(argc, argv, optstr, lo, NULL)) != -1) {
		if (ch == '?' || ch == ':' || ch < 0 || ch >= 128) {
			bad = 1;
			continue;
		}
		cmd->flags[ch]++;
		cmd->optargs[ch] = optarg;
	}
	argv[0] = verb;

	if (!bad && cmd->flags['h']) {
		cmd_describe(stdout, entry);
		return (1);
	}
	cmd->argc = argc - optind;
	cmd->argv = argv + optind;
	if (bad || cmd->argc < entry->lower ||
	    (entry->upper != -1 && cmd->argc > entry->upper)) {
		cmd_usage(stderr, entry);
		return (-1);
	}
	return (0);
}

int
cmd_has(const struct cmd *cmd, int ch)
{
	if (ch < 0 || ch >= 128)
		return (0);
	return (cmd->flags[ch] != 0);
}
