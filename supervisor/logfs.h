/*
 * logfs.h -- apps' log files on the file system: who acts in their
 * folder, and opening, rotating and emptying them without following a
 * link (logfs.c).
 */
#ifndef PMCD_LOGFS_H
#define PMCD_LOGFS_H

#include <sys/types.h>

#include "spec.h"

/* Whose file it is: named in messages; as root, its ids say who acts. */
struct logowner {
	char		 app[SPEC_NAME_MAX + 1];
	const char	*field;		/* "logs.out" or "logs.err" */
	uid_t		 uid;		/* the app's, or pmcd's own */
	gid_t		 gid;
	gid_t		*groups;	/* its other groups */
	size_t		 ngroups;
};

void	 logowner_set(struct logowner *, const struct app_spec *, int err);
void	 logowner_clear(struct logowner *);

/*
 * Each returns -1 with why, one line naming the app, the field and the
 * path ("web: logs.out: /srv/logs is writable by uid 1001, which is
 * neither root nor web's user").
 */

/* At pmc start: -1 when the file's folder is refused; a missing one is not. */
int	 logfs_check(const char *path, const struct logowner *, char *why,
	    size_t);
/*
 * A descriptor on the log file at path, opened for appending (created
 * when create), or without create for emptying it (-1 with errno ENOENT
 * when there is none).
 */
int	 logfs_open(const char *path, const struct logowner *, int create,
	    char *why, size_t);
/* path -> path.1 -> ... -> path.<keep>; keep 0: path is removed. */
int	 logfs_rotate(const char *path, const struct logowner *,
	    unsigned int keep, char *why, size_t);
/* Remove path.1 ... path.<keep>. */
int	 logfs_remove_rotated(const char *path, const struct logowner *,
	    unsigned int keep, char *why, size_t);

#endif /* PMCD_LOGFS_H */
