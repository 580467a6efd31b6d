/*
 * cmd-stop.c -- `pmc stop NAME...|all`: stop instances, keep the apps.
 */
#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_stop_exec(struct cmd *);

const struct cmd_entry cmd_stop_entry = {
	.name = "stop",
	.getopt = "",
	.lower = 1,
	.upper = -1,
	.usage = "NAME...|all",
	.help = "Stop the instances of the apps; keep the apps.",
	.exec = cmd_stop_exec
};

static int
cmd_stop_exec(struct cmd *cmd)
{
	return (client_call(MSG_STOP, cmd->argc, cmd->argv));
}
