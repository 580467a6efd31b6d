/*
 * specfile.c -- a spec file read safely, checked, and parsed with its
 * names looked up once; see specfile.h.
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

#include "ecosystem.h"
#include "lookup.h"
#include "path.h"
#include "protocol.h"
#include "spec.h"
#include "specfile.h"

/* One step of the walk: the file itself (dir 0) or a folder above it. */
static int
trusted_one(const char *path, const struct stat *st, uid_t owner, int dir,
    char *why, size_t whylen)
{
	mode_t	 mode = st->st_mode & 07777;

	if (st->st_uid != 0 && st->st_uid != owner) {
		snprintf(why, whylen, "%s: owned by uid %u and writable by it; "
		    "a root pmcd reads only root's files", path,
		    (unsigned int)st->st_uid);
		return -1;
	}
	/* /tmp: others may write, but not rename or remove root's. */
	if (dir && (mode & S_ISVTX) && st->st_uid == 0)
		return 0;
	if (mode & S_IWOTH) {
		snprintf(why, whylen, "%s: writable by anyone (mode %04o); a "
		    "root pmcd reads only files that no one else can change",
		    path, (unsigned int)mode);
		return -1;
	}
	if (mode & S_IWGRP) {
		snprintf(why, whylen, "%s: writable by group %u (mode %04o); a "
		    "root pmcd reads only files that no one else can change",
		    path, (unsigned int)st->st_gid, (unsigned int)mode);
		return -1;
	}
	return 0;
}

/* The folders above real, from its own up to "/". */
static int
trusted_folders(const char *real, uid_t owner, char *why, size_t whylen)
{
	struct stat	 st;
	char		 dir[PATH_MAX], *slash;

	if (strlcpy(dir, real, sizeof(dir)) >= sizeof(dir)) {
		snprintf(why, whylen, "%s: %s", real, strerror(ENAMETOOLONG));
		return -1;
	}
	while ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (lstat(dir, &st) == -1) {
			snprintf(why, whylen, "%s: %s", dir, strerror(errno));
			return -1;
		}
		if (trusted_one(dir, &st, owner, 1, why, whylen) == -1)
			return -1;
		if (slash == dir)
			break;
	}
	return 0;
}

int
specfile_trusted(const char *real, uid_t owner, char *why, size_t whylen)
{
	struct stat	 st;

	if (lstat(real, &st) == -1) {
		snprintf(why, whylen, "%s: %s", real, strerror(errno));
		return -1;
	}
	if (trusted_one(real, &st, owner, 0, why, whylen) == -1)
		return -1;
	return trusted_folders(real, owner, why, whylen);
}

/* All of fd, at most SPECFILE_MAX bytes, NUL-terminated; 0, or errno. */
static int
read_all(int fd, char **bufp, size_t *lenp)
{
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n;
	int	 save;

	buf = calloc(1, SPECFILE_MAX + 2);
	if (buf == NULL)
		return ENOMEM;
	while ((n = read(fd, buf + len, SPECFILE_MAX + 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || (len += (size_t)n) > SPECFILE_MAX) {
			save = n == -1 ? errno : EFBIG;
			free(buf);
			return save;
		}
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

/*
 * Open real without blocking or following a link; -1 with why.  Errors
 * name the file as the user gave it (path), ownership its real place.
 */
static int
open_spec(const char *path, const char *real, char *why, size_t whylen)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open(real, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		if (fstat(fd, &st) == -1)
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
		else
			snprintf(why, whylen, "%s: %s", path,
			    S_ISDIR(st.st_mode) ? strerror(EISDIR) :
			    "not a regular file");
		close(fd);
		return -1;
	}
	if (geteuid() == 0 && (trusted_one(real, &st, 0, 0, why,
	    whylen) == -1 || trusted_folders(real, 0, why, whylen) == -1)) {
		close(fd);
		return -1;
	}
	return fd;
}

int
specfile_read(const char *path, char **real, char **buf, size_t *len,
    struct spec_errors *errs)
{
	char	 resolved[PATH_MAX], why[PATH_MAX + 160];
	int	 fd, err;

	*real = *buf = NULL;
	if (realpath(path, resolved) == NULL) {
		spec_errors_add(errs, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((fd = open_spec(path, resolved, why, sizeof(why))) == -1) {
		spec_errors_add(errs, "%s", why);
		return -1;
	}
	err = read_all(fd, buf, len);
	close(fd);
	if (err == EFBIG)
		spec_errors_add(errs, "%s: larger than %u bytes", path,
		    SPECFILE_MAX);
	else if (err != 0)
		spec_errors_add(errs, "%s: %s", path, strerror(err));
	else if (memchr(*buf, '\0', *len) != NULL)
		spec_errors_add(errs, "%s: contains a NUL byte", path);
	else if ((*real = strdup(resolved)) == NULL)
		spec_errors_add(errs, "%s: %s", path, strerror(ENOMEM));
	else
		return 0;
	free(*buf);
	*buf = NULL;
	return -1;
}

int
spec_load(const char *path, struct spec **out, struct spec_errors *errs)
{
	char	*real, *buf;
	size_t	 len;
	int	 rc;

	*out = NULL;
	if (specfile_read(path, &real, &buf, &len, errs) == -1)
		return -1;
	rc = spec_parse_in(path, real, buf, len, out, errs);
	free(real);
	free(buf);
	return rc;
}

int
specfile_text(const char *path, const struct specfile_pm2 *pm2, char **real,
    char **text, size_t *len, struct spec_errors *errs)
{
	struct spec_errors	 nowarn = { NULL, 0 };
	struct pbuf		 yaml = { 0 };
	enum eco_kind		 kind;
	char			*buf, *json;
	size_t			 jlen;
	int			 rc;

	if (specfile_read(path, real, &buf, len, errs) == -1)
		return (-1);
	*text = buf;
	if ((kind = eco_kind(*real, buf, *len)) == ECO_NONE)
		return (0);
	if (kind == ECO_JS) {
		if (pm2 == NULL || pm2->js == NULL) {
			spec_errors_add(errs, "%s: a JavaScript process file: "
			    "pmcd never runs one; run pmc start with it", path);
			goto fail;
		}
		if (pm2->js(*real, &json, &jlen, errs) == -1)
			goto fail;
		free(buf);
		*text = buf = json;
		*len = jlen;
	}
	rc = eco_translate(path, buf, *len, pm2 != NULL ? pm2->env : NULL,
	    &yaml, pm2 != NULL && pm2->warns != NULL ? pm2->warns : &nowarn,
	    errs);
	spec_errors_clear(&nowarn);
	free(buf);
	*text = NULL;
	if (rc == -1) {
		pbuf_free(&yaml);
		free(*real);
		*real = NULL;
		return (-1);
	}
	*text = yaml.data;
	*len = yaml.len - 1;
	return (0);
fail:
	free(buf);
	free(*real);
	*text = *real = NULL;
	return (-1);
}

int
specfile_add_pm2(struct pbuf *pb, const char *path,
    const struct specfile_pm2 *pm2, struct spec_errors *errs)
{
	struct pbuf	 answers = { 0 };
	struct spec	*spec;
	char		*real, *buf;
	size_t		 len, before = errs->count;
	int		 rc;

	if (specfile_text(path, pm2, &real, &buf, &len, errs) == -1)
		return -1;
	lookup_record(&answers);
	/* A pm.yaml's env_NAME blocks: --env picks one (a PM2 file's
	 * translation has none left). */
	spec_set_env(pm2 != NULL ? pm2->env : NULL);
	rc = spec_parse_in(path, real, buf, len, &spec, errs);
	spec_set_env(NULL);
	lookup_record(NULL);
	if (rc == 0) {
		spec_free(spec);
		pbuf_add(&answers, "", 1);
		pbuf_add_field(pb, real);
		pbuf_add_field(pb, buf);
		pbuf_add_field(pb, answers.data);
	} else if (eco_is_translation(buf) && errs->count > before)
		spec_errors_add(errs, "%s: the lines above are those of its "
		    "translation to pm.yaml: pmc convert %s shows it", path,
		    path);
	pbuf_free(&answers);
	free(real);
	free(buf);
	return rc;
}

int
specfile_add(struct pbuf *pb, const char *path, struct spec_errors *errs)
{
	return (specfile_add_pm2(pb, path, NULL, errs));
}

int
specfile_parse(const char *real, const char *content, const char *answers,
    struct spec **out, struct spec_errors *errs)
{
	int	 rc;
	size_t	 i;

	lookup_replay(answers);
	rc = spec_parse(real, content, strlen(content), out, errs);
	lookup_replay(NULL);
	/* A PM2 file's: SIGHUP leaves it be (no env, no JavaScript). */
	for (i = 0; rc == 0 && eco_is_translation(content) &&
	    i < (*out)->napps; i++)
		(*out)->apps[i]->pm2 = 1;
	return rc;
}

int
specfile_empty(const char *path)
{
	char	 line[512];
	FILE	*f;
	int	 empty = 1;

	if ((f = path_fopen(path)) == NULL)
		return 0;
	while (empty && fgets(line, sizeof(line), f) != NULL)
		empty = line[strspn(line, " \t\r\n")] == '\0' ||
		    line[strspn(line, " \t")] == '#';
	fclose(f);
	return empty;
}
