/*
 * cmd-update.c -- `pmc update [--binary PATH]`: pmcd executes the pmcd
 * binary now installed (or PATH) in its own process, keeping every app,
 * instance and socket; the new pmcd answers.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_update_exec(struct cmd *);

static const struct option cmd_update_longopts[] = {
	{ "binary", required_argument, NULL, 'b' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_update_entry = {
	.name = "update",
	.getopt = "b:",
	.longopts = cmd_update_longopts,
	.lower = 0,
	.upper = 0,
	.usage = "[--binary PATH]",
	.help = "Replace pmcd by the binary at its path (or PATH) without "
	    "stopping any instance.",
	.exec = cmd_update_exec
};

static int
cmd_update_exec(struct cmd *cmd)
{
	struct pbuf	 pb;
	const char	*bin = cmd->optargs['b'];
	char		 real[PATH_MAX];
	int		 fd, r;

	if (bin != NULL && realpath(bin, real) == NULL) {
		fprintf(stderr, "pmc: update: %s: %s\n", bin, strerror(errno));
		return (PMC_EXIT_FAIL);
	}
	if ((fd = client_open()) == -1)
		return (PMC_EXIT_FAIL);
	memset(&pb, 0, sizeof(pb));
	pbuf_add_field(&pb, bin != NULL ? real : "");
	r = client_request(fd, MSG_UPDATE, &pb, NULL, NULL);
	pbuf_free(&pb);
	close(fd);
	return (r);
}
