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
#include "ecosystem.h"
#include "home.h"
#include "json.h"
#include "path.h"
#include "protocol.h"
#include "spec.h"
#include "specfile.h"

static int	cmd_start_exec(struct cmd *);

static const struct option cmd_start_longopts[] = {
	{ "prune", no_argument, NULL, 'p' },
	{ "env", required_argument, NULL, 'e' },
	{ "name", required_argument, NULL, 'n' },
	{ "instances", required_argument, NULL, 'i' },
	{ "listen", required_argument, NULL, 'l' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_start_entry = {
	.name = "start",
	.getopt = "i:",
	.longopts = cmd_start_longopts,
	.lower = 1,
	.upper = -1,
	.usage = "[--prune] [--env NAME] FILE... | [-i N|max] [--name NAME] "
	    "[--listen ADDR] SCRIPT|-- COMMAND [ARG...]",
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

/*
 * Is path a spec file rather than a script to run: named as one
 * (eco_is_file_name; .yaml, .yml or .json anywhere in its name, as in
 * pm.yaml.example), or a file with a line that starts "apps:"?
 */
static int
spec_like(const char *path)
{
	const char	*base = strrchr(path, '/');
	char		 line[256];
	FILE		*f;
	int		 yes = 0, n = 0;

	base = base != NULL ? base + 1 : path;
	if (eco_is_file_name(path) || strstr(base, ".yaml") != NULL ||
	    strstr(base, ".yml") != NULL || strstr(base, ".json") != NULL)
		return (1);
	if ((f = path_fopen(path)) == NULL)
		return (0);
	while (!yes && n++ < 200 && fgets(line, sizeof(line), f) != NULL)
		yes = strncmp(line, "apps:", 5) == 0;
	fclose(f);
	return (yes);
}

/*
 * The one-line form, PM2's `pm2 start app.js -i max --name api`: is it
 * one?  Yes with -i, --name or --listen, or when the first argument is
 * not a spec file by its name (app.js, ./server).
 */
static int
one_line(const struct cmd *cmd)
{
	return (cmd_has(cmd, 'i') || cmd_has(cmd, 'n') || cmd_has(cmd, 'l') ||
	    !spec_like(cmd->argv[0]));
}

static void
yaml_str(FILE *f, const char *s)
{
	struct pbuf	 pb = { 0 };

	json_quote(&pb, s, strlen(s));
	fwrite(pb.data, 1, pb.len, f);
	pbuf_free(&pb);
}

/*
 * Write the spec of the one-line form to <state>/apps/NAME.yaml, where
 * list, reload, save and resurrect find it as any spec file; its path
 * in path.  The command is SCRIPT (with node for .js, as PM2 runs it)
 * and the arguments after it, in the folder pmc runs in.
 */
static int
write_one_line(const struct cmd *cmd, char *path, size_t len)
{
	const char	*prog = cmd->argv[0], *interp, *base, *dot;
	char		 dir[PATH_MAX], cwd[PATH_MAX], name[SPEC_NAME_MAX + 1];
	char		 tmp[PATH_MAX + 8], why[256];
	FILE		*f;
	int		 i, fd;

	if (cmd_has(cmd, 'n'))
		snprintf(name, sizeof(name), "%s", cmd->optargs['n']);
	else {
		base = strrchr(prog, '/');
		base = base != NULL ? base + 1 : prog;
		dot = strrchr(base, '.');
		snprintf(name, sizeof(name), "%.*s", (int)(dot != NULL &&
		    dot > base ? dot - base : (long)strlen(base)), base);
	}
	if (strchr(name, '/') != NULL || name[0] == '.' || name[0] == '\0') {
		fprintf(stderr, "pmc: start: --name: \"%s\" cannot name a "
		    "file; give another\n", name);
		return (-1);
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		fprintf(stderr, "pmc: getcwd: %s\n", strerror(errno));
		return (-1);
	}
	snprintf(dir, sizeof(dir), "%s/apps", pmc_statedir());
	if (home_check(pmc_statedir(), 1, why, sizeof(why)) == -1 ||
	    home_check(dir, 1, why, sizeof(why)) == -1) {
		fprintf(stderr, "pmc: %s\n", why);
		return (-1);
	}
	if ((size_t)snprintf(path, len, "%s/%s.yaml", dir, name) >= len) {
		fprintf(stderr, "pmc: %s: path too long\n", dir);
		return (-1);
	}
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "pmc: %s: %s\n", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	interp = eco_interpreter(prog);
	fprintf(f, "# Written by pmc start (its one-line form) in %s.\n"
	    "# Edit it and run pmc start with it, as any spec file.\n"
	    "apps:\n  - name: ", cwd);
	yaml_str(f, name);
	fprintf(f, "\n    command: [");
	if (interp != NULL) {
		yaml_str(f, interp);
		fprintf(f, ", ");
	}
	for (i = 0; i < cmd->argc; i++) {
		if (i > 0)
			fprintf(f, ", ");
		yaml_str(f, cmd->argv[i]);
	}
	fprintf(f, "]\n    cwd: ");
	yaml_str(f, cwd);
	fprintf(f, "\n");
	if (cmd_has(cmd, 'i')) {
		fprintf(f, "    instances: ");
		yaml_str(f, cmd->optargs['i']);
		fprintf(f, "\n");
		/* PM2's -i runs a node script in cluster mode. */
		if (interp != NULL && strcmp(interp, "node") == 0)
			fprintf(f, "    node_cluster: true\n");
	}
	if (cmd_has(cmd, 'l')) {
		fprintf(f, "    listen: ");
		yaml_str(f, cmd->optargs['l']);
		fprintf(f, "\n");
	}
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		fprintf(stderr, "pmc: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return (-1);
	}
	return (0);
}

static int
cmd_start_exec(struct cmd *cmd)
{
	struct pbuf	 pb;
	int		 fd, i, r;
	char		 one[PATH_MAX], flags[SPEC_NAME_MAX + 16];
	char		 block[SPEC_NAME_MAX + 8];

	memset(&pb, 0, sizeof(pb));
	/* flags: "prune" and "env=NAME", a space apart */
	snprintf(flags, sizeof(flags), "%s%s%s", cmd_has(cmd, 'p') ? "prune" :
	    "", cmd_has(cmd, 'p') && cmd_has(cmd, 'e') ? " " : "",
	    cmd_has(cmd, 'e') ? "env=" : "");
	if (cmd_has(cmd, 'e')) {
		snprintf(block, sizeof(block), "env_%s", cmd->optargs['e']);
		if (strlen(cmd->optargs['e']) > SPEC_NAME_MAX ||
		    !spec_env_block(block)) {
			fprintf(stderr, "pmc: --env: expected letters, digits, "
			    "\"_\" or \"-\", got \"%s\"\n", cmd->optargs['e']);
			return (PMC_EXIT_USAGE);
		}
		strlcat(flags, cmd->optargs['e'], sizeof(flags));
	}
	pbuf_add_field(&pb, flags);
	r = PMC_EXIT_OK;
	if (one_line(cmd)) {
		if (write_one_line(cmd, one, sizeof(one)) == -1 ||
		    add_spec(&pb, one, NULL) == -1)
			r = PMC_EXIT_FAIL;
	} else
		for (i = 0; i < cmd->argc; i++)
			if (add_spec(&pb, cmd->argv[i],
			    cmd->optargs['e']) == -1)
				r = PMC_EXIT_FAIL;
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
