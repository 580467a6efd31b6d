/*
 * cmd-help.c -- `pmc help [COMMAND]`: the verbs and their usage.
 */
#include <stdio.h>

#include "cmd.h"

static int	cmd_help_exec(struct cmd *);

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.getopt = "",
	.lower = 0,
	.upper = 1,
	.usage = "[COMMAND]",
	.help = "List the commands, or show how to call COMMAND.",
	.exec = cmd_help_exec
};

static int
cmd_help_exec(struct cmd *cmd)
{
	const struct cmd_entry	*entry;

	if (cmd->argc == 0) {
		cmd_overview(stdout);
		return (PMC_EXIT_OK);
	}
	if ((entry = cmd_find(cmd->argv[0])) == NULL) {
		cmd_unknown(cmd->argv[0]);
		return (PMC_EXIT_USAGE);
	}
	cmd_describe(stdout, entry);
	return (PMC_EXIT_OK);
}
