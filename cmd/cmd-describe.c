/*
 * cmd-describe.c -- `pmc describe NAME`: the spec and instances of one app.
 */
#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_describe_exec(struct cmd *);

const struct cmd_entry cmd_describe_entry = {
	.name = "describe",
	.getopt = "",
	.lower = 1,
	.upper = 1,
	.usage = "NAME",
	.help = "Show app NAME: its spec and its instances.",
	.exec = cmd_describe_exec
};

static int
cmd_describe_exec(struct cmd *cmd)
{
	return (client_call(MSG_DESCRIBE, cmd->argc, cmd->argv));
}
