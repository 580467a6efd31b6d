/*
 * cmd-metrics.c -- `pmc metrics`: every instance's figures in the
 * Prometheus text format, as pmcd --metrics serves them over HTTP.
 */
#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_metrics_exec(struct cmd *);

const struct cmd_entry cmd_metrics_entry = {
	.name = "metrics",
	.getopt = "",
	.lower = 0,
	.upper = 0,
	.usage = "",
	.help = "Print every instance's figures for Prometheus.",
	.exec = cmd_metrics_exec
};

static int
cmd_metrics_exec(struct cmd *cmd)
{
	return (client_call(MSG_METRICS, cmd->argc, cmd->argv));
}
