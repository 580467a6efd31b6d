/*
 * cmd-resurrect.c -- `pmc resurrect`: start pmcd when none answers, and
 * have it start the apps that `pmc save` wrote to the dump file.
 *
 * pmc reads the dump (in the state folder of PMC_HOME, which pmcd
 * shares) as it reads a spec for `pmc start`, names looked up here, and
 * pmcd applies it as `pmc start` would: apps already running with the
 * same spec are left alone.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "home.h"
#include "protocol.h"
#include "spec.h"
#include "specfile.h"

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
	struct spec_errors	 errs = { NULL, 0 };
	struct pbuf		 pb;
	char			 path[PATH_MAX];
	size_t			 i;
	int			 fd, r;

	(void)cmd;
	pmc_dump_path(path, sizeof(path));
	if (access(path, F_OK) == -1) {
		fprintf(stderr, "pmc: no dump file at %s (pmc save writes "
		    "it)\n", path);
		return (PMC_EXIT_FAIL);
	}
	if (specfile_empty(path)) {
		printf("%s: no apps to resurrect\n", path);
		return (PMC_EXIT_OK);
	}
	memset(&pb, 0, sizeof(pb));
	if (specfile_add(&pb, path, &errs) == -1) {
		for (i = 0; i < errs.count; i++)
			fprintf(stderr, "pmc: %s\n", errs.msgs[i]);
		spec_errors_clear(&errs);
		return (PMC_EXIT_FAIL);
	}
	if ((fd = client_start_open()) == -1) {
		pbuf_free(&pb);
		return (PMC_EXIT_FAIL);
	}
	r = client_request(fd, MSG_RESURRECT, &pb, NULL, NULL);
	close(fd);
	pbuf_free(&pb);
	return (r);
}
