/*
 * cmd-undrain.c -- `pmc undrain NAME...|all`: the apps' health is theirs
 * again (200 when enough instances are online), after pmc drain.
 */
#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_undrain_exec(struct cmd *);

const struct cmd_entry cmd_undrain_entry = {
	.name = "undrain",
	.getopt = "",
	.lower = 1,
	.upper = -1,
	.usage = "NAME...|all",
	.help = "End a drain: the apps' health follows their instances "
	    "again.",
	.exec = cmd_undrain_exec
};

static int
cmd_undrain_exec(struct cmd *cmd)
{
	return (client_call(MSG_UNDRAIN, cmd->argc, cmd->argv));
}
