/*
 * cmd-signal.c -- `pmc signal SIG NAME...|all`: signal every instance's
 * process group.
 */
#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_signal_exec(struct cmd *);

const struct cmd_entry cmd_signal_entry = {
	.name = "signal",
	.getopt = "",
	.lower = 2,
	.upper = -1,
	.usage = "SIG NAME...|all",
	.help = "Send signal SIG (HUP, USR1, 10...) to every instance's "
	    "process group.",
	.exec = cmd_signal_exec
};

static int
cmd_signal_exec(struct cmd *cmd)
{
	return (client_call(MSG_SIGNAL, cmd->argc, cmd->argv));
}
