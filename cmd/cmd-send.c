/*
 * cmd-send.c -- `pmc send NAME[:INSTANCE]|all JSON`: a message to the
 * instances' channels.
 */
#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_send_exec(struct cmd *);

const struct cmd_entry cmd_send_entry = {
	.name = "send",
	.getopt = "",
	.lower = 2,
	.upper = 2,
	.usage = "NAME[:INSTANCE]|all JSON",
	.help = "Send a JSON message to the instances (Node: "
	    "process.on('message')).",
	.exec = cmd_send_exec
};

static int
cmd_send_exec(struct cmd *cmd)
{
	return (client_call(MSG_SEND, cmd->argc, cmd->argv));
}
