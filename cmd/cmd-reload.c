/*
 * cmd-reload.c -- `pmc reload [--no-wait] NAME...|all`: replace the
 * instances one at a time, each new one ready before its old one stops.
 */
#include <getopt.h>
#include <stdlib.h>

#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_reload_exec(struct cmd *);

static const struct option cmd_reload_longopts[] = {
	{ "no-wait", no_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_reload_entry = {
	.name = "reload",
	.getopt = "",
	.longopts = cmd_reload_longopts,
	.lower = 1,
	.upper = -1,
	.usage = "[--no-wait] NAME...|all",
	.help = "Replace the instances one by one with no downtime; roll "
	    "back when a new one fails.",
	.exec = cmd_reload_exec
};

static int
cmd_reload_exec(struct cmd *cmd)
{
	char	**argv;
	int	 i, r;

	if ((argv = calloc((size_t)cmd->argc + 2, sizeof(*argv))) == NULL)
		return (PMC_EXIT_FAIL);
	argv[0] = cmd_has(cmd, 'n') ? "nowait" : "";
	for (i = 0; i < cmd->argc; i++)
		argv[i + 1] = cmd->argv[i];
	r = client_call(MSG_RELOAD, cmd->argc + 1, argv);
	free(argv);
	return (r);
}
