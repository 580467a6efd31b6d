/*
 * cmd-delete.c -- `pmc delete NAME...|all`: stop apps and forget them.
 */
#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_delete_exec(struct cmd *);

const struct cmd_entry cmd_delete_entry = {
	.name = "delete",
	.getopt = "",
	.lower = 1,
	.upper = -1,
	.usage = "NAME...|all",
	.help = "Stop the apps and forget them.",
	.exec = cmd_delete_exec
};

static int
cmd_delete_exec(struct cmd *cmd)
{
	return (client_call(MSG_DELETE, cmd->argc, cmd->argv));
}
