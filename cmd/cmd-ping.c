/*
 * cmd-ping.c -- `pmc ping`: does pmcd answer?
 */
#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_ping_exec(struct cmd *);

const struct cmd_entry cmd_ping_entry = {
	.name = "ping",
	.getopt = "",
	.lower = 0,
	.upper = 0,
	.usage = "",
	.help = "Check that pmcd answers (it prints \"pong\").",
	.exec = cmd_ping_exec
};

static int
cmd_ping_exec(struct cmd *cmd)
{
	return (client_call(MSG_PING, cmd->argc, cmd->argv));
}
