/*
 * pmc.c -- the control CLI of pmcd: `pmc VERB [ARGS]`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

/* Report a failed write to stdout (a full disk, a closed pipe). */
static int
flush_stdout(int status)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "pmc: stdout: %s\n", strerror(errno));
		return (status == PMC_EXIT_OK ? PMC_EXIT_FAIL : status);
	}
	return (status);
}

int
main(int argc, char **argv)
{
	const struct cmd_entry	*entry;
	struct cmd		 cmd;
	int			 r;

	if (argc < 2) {
		cmd_overview(stderr);
		return (PMC_EXIT_USAGE);
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		cmd_overview(stdout);
		return (flush_stdout(PMC_EXIT_OK));
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "pmc: unknown option %s\n", argv[1]);
		cmd_overview(stderr);
		return (PMC_EXIT_USAGE);
	}
	if ((entry = cmd_find(argv[1])) == NULL) {
		cmd_unknown(argv[1]);
		return (PMC_EXIT_USAGE);
	}

	r = cmd_parse(entry, argc - 1, argv + 1, &cmd);
	if (r == 1)
		return (flush_stdout(PMC_EXIT_OK));
	if (r == -1)
		return (PMC_EXIT_USAGE);
	return (flush_stdout(entry->exec(&cmd)));
}
