/*
 * path.h -- the paths a spec names, made absolute and clean.
 */
#ifndef PMC_PATH_H
#define PMC_PATH_H

#include <stdio.h>

/*
 * p made absolute against the absolute folder dir, without "."
 * components, doubled or trailing slashes; malloc'd.  ".." is kept.
 */
char	*path_resolve(const char *dir, const char *p);
/* The absolute folder of the file at path, likewise; malloc'd. */
char	*path_dir(const char *path);

/*
 * The file at path for reading, as a root daemon may open what others
 * could have put there: no link followed (O_NOFOLLOW), no FIFO waited
 * on (O_NONBLOCK), close-on-exec.  NULL with errno.
 */
FILE	*path_fopen(const char *path);

#endif /* PMC_PATH_H */
