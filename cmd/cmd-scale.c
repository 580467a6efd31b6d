/*
 * cmd-scale.c -- `pmc scale NAME N|+N|-N`: run more or fewer instances.
 */
#include <stdio.h>

#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_scale_exec(struct cmd *);

const struct cmd_entry cmd_scale_entry = {
	.name = "scale",
	.getopt = "+",
	.lower = 2,
	.upper = 2,
	.usage = "NAME N|+N|-N",
	.help = "Run N instances (or N more, or N fewer); extra ones stop "
	    "gracefully.",
	.exec = cmd_scale_exec
};

static int
cmd_scale_exec(struct cmd *cmd)
{
	return (client_call(MSG_SCALE, cmd->argc, cmd->argv));
}
