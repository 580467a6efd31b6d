/*
 * cmd-events.c -- `pmc events [--json] [NAME...]`: what happens to the
 * apps, one line per event, as it happens, until interrupted.
 */
#include <getopt.h>
#include <stdlib.h>

#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_events_exec(struct cmd *);

static const struct option cmd_events_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_events_entry = {
	.name = "events",
	.getopt = "",
	.longopts = cmd_events_longopts,
	.lower = 0,
	.upper = -1,
	.usage = "[--json] [NAME...]",
	.help = "Print each event of the apps (start, online, exit, "
	    "message...) as it happens, until interrupted.",
	.exec = cmd_events_exec
};

static int
cmd_events_exec(struct cmd *cmd)
{
	char	**argv;
	int	 i, r;

	if ((argv = calloc((size_t)cmd->argc + 2, sizeof(*argv))) == NULL)
		return (PMC_EXIT_FAIL);
	argv[0] = cmd_has(cmd, 'j') ? "json" : "";
	for (i = 0; i < cmd->argc; i++)
		argv[i + 1] = cmd->argv[i];
	r = client_call(MSG_EVENTS, cmd->argc + 1, argv);
	free(argv);
	return (r);
}
