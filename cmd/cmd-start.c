/*
 * cmd-start.c -- `pmc start FILE...`: check each spec here, start pmcd
 * when none answers (client_start_open), and hand it the specs.
 *
 * The files are read once: what pmcd gets is what was checked.
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
#include "protocol.h"
#include "spec.h"

static int	cmd_start_exec(struct cmd *);

static const struct option cmd_start_longopts[] = {
	{ "prune", no_argument, NULL, 'p' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_start_entry = {
	.name = "start",
	.getopt = "",
	.longopts = cmd_start_longopts,
	.lower = 1,
	.upper = -1,
	.usage = "[--prune] FILE...",
	.help = "Start the apps of each spec FILE (and pmcd if needed); "
	    "reload the changed ones.",
	.exec = cmd_start_exec
};

/* Read all of path into *buf; reports, -1 on error. */
static int
read_spec(const char *path, char **buf, size_t *len)
{
	struct pbuf	 pb;
	char		 chunk[8192];
	ssize_t		 n;
	int		 fd;

	memset(&pb, 0, sizeof(pb));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "pmc: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "pmc: %s: %s\n", path, strerror(errno));
			break;
		}
		if (n == 0) {
			close(fd);
			pbuf_add(&pb, "", 1);	/* a C string for spec_parse */
			*buf = pb.data;
			*len = pb.len - 1;
			return (0);
		}
		if (pb.len + (size_t)n > PMC_MSG_MAX) {
			fprintf(stderr, "pmc: %s: larger than %u bytes\n", path,
			    PMC_MSG_MAX);
			break;
		}
		pbuf_add(&pb, chunk, (size_t)n);
	}
	close(fd);
	pbuf_free(&pb);
	return (-1);
}

/* Check one spec and add its path and content to pb; -1 once reported. */
static int
add_spec(struct pbuf *pb, const char *path)
{
	struct spec_errors	 errs;
	struct spec		*spec;
	char			*buf, real[PATH_MAX];
	size_t			 len, i;
	int			 r;

	if (read_spec(path, &buf, &len) == -1)
		return (-1);
	r = -1;
	memset(&errs, 0, sizeof(errs));
	if (memchr(buf, '\0', len) != NULL)
		fprintf(stderr, "pmc: %s: contains a NUL byte\n", path);
	else if (spec_parse(path, buf, len, &spec, &errs) == -1) {
		for (i = 0; i < errs.count; i++)
			fprintf(stderr, "pmc: %s\n", errs.msgs[i]);
	} else {
		spec_free(spec);
		if (realpath(path, real) == NULL)
			fprintf(stderr, "pmc: %s: %s\n", path, strerror(errno));
		else {
			pbuf_add_field(pb, real);
			pbuf_add_field(pb, buf);
			r = 0;
		}
	}
	spec_errors_clear(&errs);
	free(buf);
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
		if (add_spec(&pb, cmd->argv[i]) == -1)
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
