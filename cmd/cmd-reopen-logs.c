/*
 * cmd-reopen-logs.c -- `pmc reopen-logs`: pmcd reopens every log file,
 * as on SIGUSR1; for logrotate's postrotate.
 */
#include <stdio.h>

#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_reopen_logs_exec(struct cmd *);

const struct cmd_entry cmd_reopen_logs_entry = {
	.name = "reopen-logs",
	.getopt = "",
	.lower = 0,
	.upper = 0,
	.usage = "",
	.help = "Reopen every log file (after logrotate moved them), as "
	    "SIGUSR1 to pmcd does.",
	.exec = cmd_reopen_logs_exec
};

static int
cmd_reopen_logs_exec(struct cmd *cmd)
{
	return (client_call(MSG_REOPEN, cmd->argc, cmd->argv));
}
