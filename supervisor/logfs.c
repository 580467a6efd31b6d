/*
 * logfs.c -- apps' log files on the file system, as root: who acts in
 * a log file's folder, and opening, rotating and emptying the files
 * without following a link that someone else put there.
 *
 * As root, pmcd reaches the folder of a log file by a walk of its own:
 * each component opened with O_NOFOLLOW, links read and followed here,
 * so that the walk knows whether the app's user could have changed
 * where it went (a folder of the way that the app's user can write).
 * The folder is then judged by the descriptor the walk ended on -- what
 * is judged is what is used -- and every call is made relative to it
 * (openat, renameat, unlinkat):
 *
 *  - writable only by root (pmcd's user and group), reached by a way the
 *    app's user cannot change: pmcd acts as itself;
 *  - writable by the app's user or group, or reached by a way the app's
 *    user can change: pmcd acts as the app, with setfsuid/setfsgid
 *    around each call (pmcd is single-threaded), and takes its own
 *    identity back after, checked;
 *  - writable by anyone else (another uid, another gid, or everyone,
 *    sticky or not): refused.
 *
 * Not root, pmcd acts as itself everywhere.  Either way a file is
 * opened with O_NOFOLLOW and O_NONBLOCK (a planted FIFO must not block
 * the loop) and kept only when fstat says it is a regular file with one
 * link, owned by whoever acts in its folder.
 */
#include <sys/fsuid.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "logfs.h"

#define WALK_LINKS	40	/* links followed in one walk, as the kernel */

/* Who makes the calls in a folder. */
struct actor {
	int		 switched;	/* root acting as the app */
	uid_t		 uid;		/* owns the files made there */
	gid_t		 gid;
};

/* A log file's folder, open and judged. */
struct folder {
	int		 fd;
	const char	*base;		/* the file's name in it */
	char		 dir[PATH_MAX];
	struct actor	 actor;
};

void
logowner_set(struct logowner *o, const struct app_spec *s, int err)
{
	logowner_clear(o);
	strlcpy(o->app, s->name, sizeof(o->app));
	o->field = err ? "logs.err" : "logs.out";
	if (!s->ids.set) {
		o->uid = geteuid();
		o->gid = getegid();
		return;
	}
	o->uid = s->ids.uid;
	o->gid = s->ids.gid;
	if (s->ids.ngroups == 0)
		return;
	o->groups = reallocarray(NULL, s->ids.ngroups, sizeof(*o->groups));
	if (o->groups == NULL)
		fatal("reallocarray");
	memcpy(o->groups, s->ids.groups, s->ids.ngroups * sizeof(*o->groups));
	o->ngroups = s->ids.ngroups;
}

void
logowner_clear(struct logowner *o)
{
	free(o->groups);
	o->groups = NULL;
	o->ngroups = 0;
}

/* --- the folder ------------------------------------------------------------- */

static int
in_groups(const struct logowner *o, gid_t gid)
{
	size_t	 i;

	if (gid == o->gid)
		return (1);
	for (i = 0; i < o->ngroups; i++)
		if (o->groups[i] == gid)
			return (1);
	return (0);
}

/* Could the app's user put something else at entry sb of folder dsb? */
static int
app_can_swap(const struct logowner *o, const struct stat *dsb,
    const struct stat *sb)
{
	int	 w;

	if (dsb->st_uid == o->uid)
		return (1);
	w = (dsb->st_mode & S_IWOTH) ||
	    ((dsb->st_mode & S_IWGRP) && in_groups(o, dsb->st_gid));
	return (w && (!(dsb->st_mode & S_ISVTX) || sb->st_uid == o->uid));
}

static int
close_keep_errno(int fd)
{
	int	 saved = errno;

	close(fd);
	errno = saved;
	return (-1);
}

/* Go on at link, with rest still to walk: todo becomes "link/rest". */
static int
walk_link(int fd, char *todo, size_t len, const char *rest)
{
	char	 link[PATH_MAX], next[PATH_MAX];
	ssize_t	 n;

	if ((n = readlinkat(fd, "", link, sizeof(link))) == -1)
		return (-1);
	if ((size_t)n == sizeof(link) || snprintf(next, sizeof(next),
	    "%.*s/%s", (int)n, link, rest) >= (int)sizeof(next) ||
	    strlcpy(todo, next, len) >= len) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (0);
}

/*
 * Open the folder dir as the kernel would resolve it, one component at
 * a time, and say in *swappable whether the app's user could change
 * where the walk goes.  An O_PATH descriptor, or -1 with errno.
 */
static int
walk(const char *dir, const struct logowner *o, int *swappable)
{
	char		 todo[PATH_MAX], *p, *c;
	struct stat	 dsb, sb;
	int		 fd, nfd, links = 0;

	*swappable = 0;
	if (strlcpy(todo, dir, sizeof(todo)) >= sizeof(todo)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	p = todo;
	fd = open(*p == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	while (fd != -1) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			return (fd);
		c = p;
		p += strcspn(p, "/");
		if (*p != '\0')
			*p++ = '\0';
		if (strcmp(c, ".") == 0)
			continue;
		if (fstat(fd, &dsb) == -1 ||
		    (nfd = openat(fd, c, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1)
			return (close_keep_errno(fd));
		if (fstat(nfd, &sb) == -1) {
			close_keep_errno(nfd);
			return (close_keep_errno(fd));
		}
		if (strcmp(c, "..") != 0 && app_can_swap(o, &dsb, &sb))
			*swappable = 1;
		if (S_ISDIR(sb.st_mode)) {
			close(fd);
			fd = nfd;
			continue;
		}
		if (!S_ISLNK(sb.st_mode))
			errno = ENOTDIR;
		else if (++links > WALK_LINKS)
			errno = ELOOP;
		else if (walk_link(nfd, todo, sizeof(todo), p) == 0) {
			close(nfd);
			p = todo;
			if (*p == '/') {
				close(fd);
				fd = open("/", O_PATH | O_DIRECTORY |
				    O_CLOEXEC);
			}
			continue;
		}
		close_keep_errno(nfd);
		return (close_keep_errno(fd));
	}
	return (-1);
}

/*
 * Who acts in folder f (root only): -1 with why when someone other
 * than root and the app's user and group can write it.
 */
static int
judge(struct folder *f, const struct logowner *o, int swappable, char *why,
    size_t len)
{
	struct stat	 sb;
	uid_t		 me = geteuid();
	gid_t		 mygid = getegid();
	int		 gw;

	if (fstat(f->fd, &sb) == -1) {
		snprintf(why, len, "%s: %s: %s: %s", o->app, o->field, f->dir,
		    strerror(errno));
		return (-1);
	}
	gw = (sb.st_mode & S_IWGRP) != 0;
	if (sb.st_mode & S_IWOTH)
		snprintf(why, len, "%s: %s: %s is writable by everyone (mode "
		    "%04o)", o->app, o->field, f->dir,
		    (unsigned int)(sb.st_mode & 07777));
	else if (sb.st_uid != me && sb.st_uid != o->uid)
		snprintf(why, len, "%s: %s: %s is writable by uid %u, which is "
		    "neither root nor %s's user", o->app, o->field, f->dir,
		    (unsigned int)sb.st_uid, o->app);
	else if (gw && sb.st_gid != mygid && sb.st_gid != o->gid)
		snprintf(why, len, "%s: %s: %s is writable by gid %u, which is "
		    "neither root's group nor %s's group", o->app, o->field,
		    f->dir, (unsigned int)sb.st_gid, o->app);
	else {
		f->actor.switched = (o->uid != me || o->gid != mygid) &&
		    (swappable || sb.st_uid == o->uid ||
		    (gw && sb.st_gid == o->gid));
		f->actor.uid = f->actor.switched ? o->uid : me;
		f->actor.gid = f->actor.switched ? o->gid : mygid;
		return (0);
	}
	return (-1);
}

/*
 * Open the folder of path and judge it: 0; -1 with why when it cannot
 * be opened (errno kept); -2 with why when it is refused.
 */
static int
folder_open(const char *path, const struct logowner *o, struct folder *f,
    char *why, size_t len)
{
	const char	*slash = strrchr(path, '/');
	int		 swappable = 0;

	memset(f, 0, sizeof(*f));
	f->base = slash != NULL ? slash + 1 : path;
	if (slash == NULL)
		strlcpy(f->dir, ".", sizeof(f->dir));
	else
		snprintf(f->dir, sizeof(f->dir), "%.*s",
		    slash == path ? 1 : (int)(slash - path), path);
	if (*f->base == '\0' || strcmp(f->base, ".") == 0 ||
	    strcmp(f->base, "..") == 0) {
		snprintf(why, len, "%s: %s: %s: not a file name", o->app,
		    o->field, path);
		errno = EINVAL;
		return (-1);
	}
	f->actor.uid = geteuid();
	f->actor.gid = getegid();
	if (geteuid() != 0)
		f->fd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	else
		f->fd = walk(f->dir, o, &swappable);
	if (f->fd == -1) {
		snprintf(why, len, "%s: %s: %s: %s", o->app, o->field, f->dir,
		    strerror(errno));
		return (-1);
	}
	if (geteuid() == 0 && judge(f, o, swappable, why, len) == -1) {
		close(f->fd);
		errno = EPERM;
		return (-2);
	}
	return (0);
}

/* --- acting as the app ------------------------------------------------------ */

static void
act_back(const struct actor *a)
{
	int	 saved = errno;

	if (!a->switched)
		return;
	(void)setfsuid(geteuid());
	(void)setfsgid(getegid());
	if ((uid_t)setfsuid((uid_t)-1) != geteuid() ||
	    (gid_t)setfsgid((gid_t)-1) != getegid())
		fatalx("cannot take back pmcd's own file identity");
	errno = saved;
}

static int
act_as(const struct actor *a)
{
	if (!a->switched)
		return (0);
	(void)setfsgid(a->gid);
	(void)setfsuid(a->uid);
	if ((uid_t)setfsuid((uid_t)-1) == a->uid &&
	    (gid_t)setfsgid((gid_t)-1) == a->gid)
		return (0);
	act_back(a);
	errno = EPERM;
	return (-1);
}

/* --- the files -------------------------------------------------------------- */

/* Who f's files belong to, for messages: "root", "web's user". */
static void
actor_name(const struct folder *f, const struct logowner *o, char *buf,
    size_t len)
{
	if (f->actor.switched)
		snprintf(buf, len, "%s's user", o->app);
	else
		strlcpy(buf, geteuid() == 0 ? "root" : "pmcd's user", len);
}

/* An open file is kept only when it is what pmcd would have made. */
static int
file_check(int fd, const char *path, const struct folder *f,
    const struct logowner *o, char *why, size_t len)
{
	struct stat	 sb;
	char		 who[SPEC_NAME_MAX + 16];

	if (fstat(fd, &sb) == -1)
		snprintf(why, len, "%s: %s: %s: %s", o->app, o->field, path,
		    strerror(errno));
	else if (!S_ISREG(sb.st_mode))
		snprintf(why, len, "%s: %s: %s: not a regular file", o->app,
		    o->field, path);
	else if (sb.st_nlink > 1)
		snprintf(why, len, "%s: %s: %s: has %ju links; a log file "
		    "must have one", o->app, o->field, path,
		    (uintmax_t)sb.st_nlink);
	else if (sb.st_uid != f->actor.uid) {
		actor_name(f, o, who, sizeof(who));
		snprintf(why, len, "%s: %s: %s: owned by uid %u, not by uid %u "
		    "(%s)", o->app, o->field, path, (unsigned int)sb.st_uid,
		    (unsigned int)f->actor.uid, who);
	} else
		return (0);
	return (-1);
}

/* Why openat of a file name (no folder in it) failed. */
static void
open_error(const char *path, const struct folder *f,
    const struct logowner *o, char *why, size_t len)
{
	char	 who[SPEC_NAME_MAX + 16];

	if (errno == ELOOP)		/* O_NOFOLLOW on a link */
		snprintf(why, len, "%s: %s: %s: a symbolic link, not followed",
		    o->app, o->field, path);
	else if (errno == ENXIO || errno == EISDIR)	/* FIFO, socket */
		snprintf(why, len, "%s: %s: %s: not a regular file", o->app,
		    o->field, path);
	else if (errno == EACCES && f->actor.switched) {
		actor_name(f, o, who, sizeof(who));
		snprintf(why, len, "%s: %s: %s: %s (as uid %u, %s)", o->app,
		    o->field, path, strerror(errno),
		    (unsigned int)f->actor.uid, who);
	} else
		snprintf(why, len, "%s: %s: %s: %s", o->app, o->field, path,
		    strerror(errno));
}

int
logfs_check(const char *path, const struct logowner *o, char *why,
    size_t len)
{
	struct folder	 f;
	int		 r;

	if ((r = folder_open(path, o, &f, why, len)) == -2)
		return (-1);
	if (r == 0)
		close(f.fd);
	return (0);	/* not there yet: said when it is opened */
}

int
logfs_open(const char *path, const struct logowner *o, int create,
    char *why, size_t len)
{
	struct folder	 f;
	int		 fd = -1, flags;

	if (folder_open(path, o, &f, why, len) != 0)
		return (-1);
	flags = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	if (create)
		flags |= O_APPEND | O_CREAT;
	if (act_as(&f.actor) == 0) {
		fd = openat(f.fd, f.base, flags, 0640);
		act_back(&f.actor);
	}
	if (fd == -1) {
		open_error(path, &f, o, why, len);
		return (close_keep_errno(f.fd));
	}
	close(f.fd);
	if (file_check(fd, path, &f, o, why, len) == -1) {
		close(fd);
		errno = EPERM;
		return (-1);
	}
	return (fd);
}

static void
rotated_name(char *buf, size_t len, const char *base, unsigned int i)
{
	snprintf(buf, len, "%s.%u", base, i);
}

/* One rename or unlink in f, as f's actor; -1 with why. */
static int
folder_call(struct folder *f, const struct logowner *o, const char *from,
    const char *to, char *why, size_t len)
{
	int	 r = -1;

	if (act_as(&f->actor) == 0) {
		r = to != NULL ? renameat(f->fd, from, f->fd, to) :
		    unlinkat(f->fd, from, 0);
		act_back(&f->actor);
	}
	if (r == -1 && errno != ENOENT) {
		snprintf(why, len, "%s: %s: %s %s/%s: %s", o->app, o->field,
		    to != NULL ? "rotate" : "remove", f->dir, from,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

int
logfs_rotate(const char *path, const struct logowner *o, unsigned int keep,
    char *why, size_t len)
{
	struct folder	 f;
	char		 from[NAME_MAX + 16], to[NAME_MAX + 16];
	unsigned int	 i;
	int		 r = 0;

	if (folder_open(path, o, &f, why, len) != 0)
		return (-1);
	if (keep == 0)
		r |= folder_call(&f, o, f.base, NULL, why, len);
	for (i = keep; i > 1; i--) {
		rotated_name(from, sizeof(from), f.base, i - 1);
		rotated_name(to, sizeof(to), f.base, i);
		r |= folder_call(&f, o, from, to, why, len);
	}
	if (keep > 0) {
		rotated_name(to, sizeof(to), f.base, 1);
		r |= folder_call(&f, o, f.base, to, why, len);
	}
	close(f.fd);
	return (r);
}

int
logfs_remove_rotated(const char *path, const struct logowner *o,
    unsigned int keep, char *why, size_t len)
{
	struct folder	 f;
	char		 name[NAME_MAX + 16];
	unsigned int	 i;
	int		 r = 0;

	if (folder_open(path, o, &f, why, len) != 0)
		return (-1);
	for (i = 1; i <= keep; i++) {
		rotated_name(name, sizeof(name), f.base, i);
		r |= folder_call(&f, o, name, NULL, why, len);
	}
	close(f.fd);
	return (r);
}
