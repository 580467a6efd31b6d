/*
 * dump.c -- `pmc save` and `pmc resurrect`: the running apps written to
 * a spec file that survives crashes, and read back.
 *
 * The dump is written to <file>.new, fsynced, the old one hard-linked to
 * <file>.bak, then renamed over <file> and the folder fsynced: at every
 * moment <file> is either the whole old dump or the whole new one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "home.h"
#include "log.h"
#include "pmcd.h"
#include "specfile.h"

/*
 * How many apps the dump at path holds; 0 when none or unreadable.  The
 * lines spec_write_yaml starts an app with are counted: parsing would
 * look names up, which pmcd's loop never does.
 */
static size_t
dump_count(const char *path)
{
	char	 line[512];
	FILE	*f;
	size_t	 n = 0;
	int	 fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return (0);
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return (1);	/* something is there: do not lose it */
	}
	while (fgets(line, sizeof(line), f) != NULL)
		n += strncmp(line, "  - name: ", 10) == 0;
	fclose(f);
	return (n);
}

static int
fsync_dir(const char *dir)
{
	int	 fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	rc = fsync(fd);
	close(fd);
	return (rc);
}

static int
write_new(const char *tmp, struct app_spec *const *apps, size_t n)
{
	FILE	*f;
	int	 fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		return (-1);
	}
	if (spec_write_yaml(apps, n, f) == -1 || fflush(f) == EOF ||
	    fsync(fd) == -1) {
		fclose(f);
		unlink(tmp);
		return (-1);
	}
	return (fclose(f) == EOF ? -1 : 0);
}

/*
 * Save the running apps.  Returns 0 with *saved set, or -1 with why; an
 * empty save over a dump of apps needs force.
 */
int
dump_save(int force, size_t *saved, char *why, size_t whylen)
{
	struct app_spec	**apps;
	struct app	*app;
	char		 path[PATH_MAX], tmp[PATH_MAX + 8], bak[PATH_MAX + 8];
	size_t		 n = 0, old;
	int		 rc = -1;

	pmc_dump_path(path, sizeof(path));
	TAILQ_FOREACH(app, &sv->apps, entry)
		n++;
	if ((apps = calloc(n + 1, sizeof(*apps))) == NULL)
		fatal("calloc");
	n = 0;
	TAILQ_FOREACH(app, &sv->apps, entry)
		if (!app->deleting)
			apps[n++] = app->spec;
	if (n == 0 && !force && (old = dump_count(path)) > 0) {
		snprintf(why, whylen, "%s holds %zu app%s and none runs now; "
		    "pmc save --force writes an empty dump", path, old,
		    old == 1 ? "" : "s");
		goto out;
	}
	if (home_check(pmc_statedir(), 1, why, whylen) == -1)
		goto out;
	if (mkdir(pmc_statedir(), 0700) == -1 && errno != EEXIST) {
		snprintf(why, whylen, "%s: %s", pmc_statedir(), strerror(errno));
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	snprintf(bak, sizeof(bak), "%s.bak", path);
	if (write_new(tmp, apps, n) == -1) {
		snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	/* The previous dump stays as .bak (a second name, no copy). */
	if (access(path, F_OK) == 0) {
		if (unlink(bak) == -1 && errno != ENOENT)
			log_warn("%s", bak);
		if (link(path, bak) == -1)
			log_warn("keeping %s", bak);
	}
	if (rename(tmp, path) == -1 || fsync_dir(pmc_statedir()) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	*saved = n;
	rc = 0;
out:
	free(apps);
	return (rc);
}

/* pmcd --resurrect: the dump's apps, if any; errors are fatal. */
int
dump_load(struct spec **out, char *why, size_t whylen)
{
	struct spec_errors	 errs = { NULL, 0 };
	char			 path[PATH_MAX];
	size_t			 i;

	*out = NULL;
	pmc_dump_path(path, sizeof(path));
	if (access(path, F_OK) == -1 || specfile_empty(path))
		return (0);
	if (spec_load(path, out, &errs) == -1) {
		for (i = 0; i < errs.count; i++)
			log_warnx("%s", errs.msgs[i]);
		snprintf(why, whylen, "%s: %zu error%s", path, errs.count,
		    errs.count == 1 ? "" : "s");
		spec_errors_clear(&errs);
		return (-1);
	}
	return (0);
}
