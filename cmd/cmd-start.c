/*
 * cmd-start.c -- `pmc start FILE...`: check each spec here, start pmcd
 * when none answers (client_start_open), and hand it the specs.
 *
 * The files are read once: what pmcd gets is what was checked, with the
 * answers of every name looked up (lookup.h), so pmcd asks no one.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "ecojs.h"
#include "protocol.h"
#include "spec.h"
#include "specfile.h"

static int	cmd_start_exec(struct cmd *);

static const struct option cmd_start_longopts[] = {
	{ "prune", no_argument, NULL, 'p' },
	{ "env", required_argument, NULL, 'e' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_start_entry = {
	.name = "start",
	.getopt = "",
	.longopts = cmd_start_longopts,
	.lower = 1,
	.upper = -1,
	.usage = "[--prune] [--env NAME] FILE...",
	.help = "Start the apps of each spec FILE, or PM2 process file "
	    "(and pmcd if needed); reload the changed ones.",
	.exec = cmd_start_exec
};

/*
 * Check one spec (a PM2 process file translated, its env_NAME block
 * chosen by env) and add its path, content and answers to pb.
 */
static int
add_spec(struct pbuf *pb, const char *path, const char *env)
{
	struct spec_errors	 errs, warns;
	struct specfile_pm2	 pm2 = { ecojs_eval, env, &warns };
	size_t			 i;
	int			 r;

	memset(&errs, 0, sizeof(errs));
	memset(&warns, 0, sizeof(warns));
	r = specfile_add_pm2(pb, path, &pm2, &errs);
	for (i = 0; i < warns.count; i++)
		fprintf(stderr, "pmc: warning: %s\n", warns.msgs[i]);
	for (i = 0; r == -1 && i < errs.count; i++)
		fprintf(stderr, "pmc: %s\n", errs.msgs[i]);
	spec_errors_clear(&errs);
	spec_errors_clear(&warns);
	return (r);
}

static int
cmd_start_exec(struct cmd *cmd)
{
	struct pbuf	 pb;
	int		 fd, i, r;

	memset(&pb, 0, sizeof(pb));
	pbuf_add_field(&pb, cmd_has(cmd, 'p') ? "prune" : "");	/* flags */
	r = PMC_EXIT_OK;
	for (i = 0; i < cmd->argc; i++) {
		if (add_spec(&pb, cmd->argv[i], cmd->optargs['e']) == -1)
			r = PMC_EXIT_FAIL;
	}
	if (r == PMC_EXIT_OK && pb.len > PMC_MSG_MAX) {
		fprintf(stderr, "pmc: the spec files are too large together "
		    "(%zu bytes, at most %u)\n", pb.len, PMC_MSG_MAX);
		r = PMC_EXIT_FAIL;
	}
	if (r != PMC_EXIT_OK) {
		pbuf_free(&pb);
		return (r);
	}
	if ((fd = client_start_open()) == -1) {
		pbuf_free(&pb);
		return (PMC_EXIT_FAIL);
	}
	r = client_request(fd, MSG_START, &pb, NULL, NULL);
	close(fd);
	pbuf_free(&pb);
	return (r);
}
