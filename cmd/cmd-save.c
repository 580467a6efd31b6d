/*
 * cmd-save.c -- `pmc save [--force]`: pmcd writes the specs of its apps
 * to the dump file, for `pmc resurrect` and `pmcd --resurrect`.
 *
 * pmcd refuses to replace a dump of apps with an empty one unless told
 * --force: a save after a crash or a `pmc delete all` would otherwise
 * lose what there was to resurrect.
 */
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "protocol.h"

static int	cmd_save_exec(struct cmd *);

static const struct option cmd_save_longopts[] = {
	{ "force", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_save_entry = {
	.name = "save",
	.getopt = "f",
	.longopts = cmd_save_longopts,
	.lower = 0,
	.upper = 0,
	.usage = "[--force]",
	.help = "Save the running apps to the dump file, to be restored by "
	    "resurrect.",
	.exec = cmd_save_exec
};

static int
cmd_save_exec(struct cmd *cmd)
{
	struct pbuf	 pb;
	int		 fd, r;

	if ((fd = client_open()) == -1)
		return (PMC_EXIT_FAIL);
	memset(&pb, 0, sizeof(pb));
	pbuf_add_field(&pb, cmd_has(cmd, 'f') ? "force" : "");	/* flags */
	r = client_request(fd, MSG_SAVE, &pb, NULL, NULL);
	pbuf_free(&pb);
	close(fd);
	return (r);
}
