/*
 * cmd-flush.c -- `pmc flush [NAME...|all]`: empty apps' log files.
 */
#include <stdio.h>

#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_flush_exec(struct cmd *);

const struct cmd_entry cmd_flush_entry = {
	.name = "flush",
	.getopt = "",
	.lower = 0,
	.upper = -1,
	.usage = "[NAME...|all]",
	.help = "Empty the apps' log files (all of them with no NAME) and "
	    "remove their rotated ones.",
	.exec = cmd_flush_exec
};

static int
cmd_flush_exec(struct cmd *cmd)
{
	return (client_call(MSG_FLUSH, cmd->argc, cmd->argv));
}
