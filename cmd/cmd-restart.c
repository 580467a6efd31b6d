/*
 * cmd-restart.c -- `pmc restart NAME...|all`: stop and start instances again.
 */
#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_restart_exec(struct cmd *);

const struct cmd_entry cmd_restart_entry = {
	.name = "restart",
	.getopt = "",
	.lower = 1,
	.upper = -1,
	.usage = "NAME...|all",
	.help = "Restart the instances of the apps.",
	.exec = cmd_restart_exec
};

static int
cmd_restart_exec(struct cmd *cmd)
{
	return (client_call(MSG_RESTART, cmd->argc, cmd->argv));
}
