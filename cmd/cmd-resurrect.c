/*
 * cmd-resurrect.c -- `pmc resurrect`: start pmcd when none answers, and
 * have it start the apps that `pmc save` wrote to the dump file.
 *
 * pmcd reads the dump itself (it knows where its state lives) and applies
 * it as `pmc start` would: apps already running with the same spec are
 * left alone.
 */
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_resurrect_exec(struct cmd *);

const struct cmd_entry cmd_resurrect_entry = {
	.name = "resurrect",
	.getopt = "",
	.lower = 0,
	.upper = 0,
	.usage = "",
	.help = "Start the apps saved by save (and pmcd if needed).",
	.exec = cmd_resurrect_exec
};

static int
cmd_resurrect_exec(struct cmd *cmd)
{
	struct pbuf	 pb;
	int		 fd, r;

	(void)cmd;
	if ((fd = client_start_open()) == -1)
		return (PMC_EXIT_FAIL);
	memset(&pb, 0, sizeof(pb));
	r = client_request(fd, MSG_RESURRECT, &pb, NULL, NULL);
	close(fd);
	return (r);
}
