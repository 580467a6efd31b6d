/*
 * cmd-drain.c -- `pmc drain [--wait] [--quiet D] [--timeout D]
 * NAME...|all`: the apps' health turns 503 so that a load balancer
 * stops sending them new connections, while their instances serve on;
 * with --wait, return once none came for the quiet period.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "client.h"
#include "cmd.h"
#include "human.h"
#include "protocol.h"

#define QUIET_DEFAULT	"2s"
#define TIMEOUT_DEFAULT	"60s"

static int	cmd_drain_exec(struct cmd *);

static const struct option cmd_drain_longopts[] = {
	{ "wait", no_argument, NULL, 'w' },
	{ "quiet", required_argument, NULL, 'q' },
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_drain_entry = {
	.name = "drain",
	.getopt = "",
	.longopts = cmd_drain_longopts,
	.lower = 1,
	.upper = -1,
	.usage = "[--wait] [--quiet DURATION] [--timeout DURATION] "
	    "NAME...|all",
	.help = "Make the apps' health 503 for load balancers, instances "
	    "serving; --wait until no new connection comes.",
	.exec = cmd_drain_exec
};

/* A duration option, as milliseconds in text; -1 when it is not one. */
static int
duration(const char *opt, const char *text, char *buf, size_t len)
{
	uint64_t	 ms;

	if (parse_duration_ms(text, &ms) == -1) {
		fprintf(stderr, "pmc: drain: --%s: expected a duration such "
		    "as 2s or 500ms, got \"%s\"\n", opt, text);
		return (-1);
	}
	snprintf(buf, len, "%llu", (unsigned long long)ms);
	return (0);
}

static int
cmd_drain_exec(struct cmd *cmd)
{
	const char	*q = cmd->optargs['q'], *t = cmd->optargs['t'];
	char		**argv, quiet[32], timeout[32];
	int		 i, r;

	if ((q != NULL || t != NULL) && !cmd_has(cmd, 'w')) {
		fprintf(stderr, "pmc: drain: --quiet and --timeout go with "
		    "--wait\n");
		return (PMC_EXIT_USAGE);
	}
	if (duration("quiet", q != NULL ? q : QUIET_DEFAULT, quiet,
	    sizeof(quiet)) == -1 || duration("timeout", t != NULL ? t :
	    TIMEOUT_DEFAULT, timeout, sizeof(timeout)) == -1)
		return (PMC_EXIT_USAGE);
	if ((argv = calloc((size_t)cmd->argc + 4, sizeof(*argv))) == NULL)
		return (PMC_EXIT_FAIL);
	argv[0] = cmd_has(cmd, 'w') ? "wait" : "";
	argv[1] = quiet;
	argv[2] = timeout;
	for (i = 0; i < cmd->argc; i++)
		argv[i + 3] = cmd->argv[i];
	r = client_call(MSG_DRAIN, cmd->argc + 3, argv);
	free(argv);
	return (r);
}
