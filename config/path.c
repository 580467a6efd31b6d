/*
 * path.c -- the paths a spec names, made absolute and clean; see path.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "path.h"
#include "xmalloc.h"

/* Drop "." components, doubled and trailing slashes, in place. */
static void
path_clean(char *p)
{
	char	*r = p, *w = p;

	while (*r != '\0') {
		if (r[0] == '/' && (r[1] == '/' || r[1] == '\0') && w != p) {
			r++;
			continue;
		}
		if (r[0] == '/' && r[1] == '.' && (r[2] == '/' ||
		    r[2] == '\0')) {
			r += 2;
			continue;
		}
		*w++ = *r++;
	}
	if (w > p + 1 && w[-1] == '/')
		w--;
	if (w == p)
		*w++ = '/';
	*w = '\0';
}

char *
path_resolve(const char *dir, const char *p)
{
	char	*s;

	if (p[0] == '/')
		s = xstrdup(p);
	else if (strcmp(p, ".") == 0)
		s = xstrdup(dir);
	else
		s = xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ?
		    "" : "/", p);
	path_clean(s);
	return s;
}

char *
path_dir(const char *path)
{
	char	 cwd[PATH_MAX], *dir, *slash, *abs;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", strlen(dir) + 1);
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (dir[0] == '/') {
		path_clean(dir);
		return dir;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		strlcpy(cwd, "/", sizeof(cwd));
	abs = path_resolve(cwd, dir);
	free(dir);
	return abs;
}

FILE *
path_fopen(const char *path)
{
	FILE	*f;
	int	 fd, e;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return NULL;
	if ((f = fdopen(fd, "r")) == NULL) {
		e = errno;
		close(fd);
		errno = e;
	}
	return f;
}
