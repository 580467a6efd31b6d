/*
 * specfile.h -- reading a spec file the one way pmc, pmcd and pmcd's
 * look-up helper all read it.
 *
 * The file is the one a symlink points to, and its relative paths are
 * resolved against that folder by everyone.  When root reads it, the
 * file and every folder above it must be owned by root (or by the uid
 * pmcd runs as) and writable by no one else, as sshd's StrictModes
 * asks: otherwise whoever can write it decides what root runs.  A
 * folder that others may write is accepted only with the sticky bit
 * and owned by root (as /tmp is): there no one else can rename or
 * remove what root put in it.  Opens never block (a FIFO is refused,
 * not waited on) and a file is at most SPECFILE_MAX bytes.
 */
#ifndef PMC_SPECFILE_H
#define PMC_SPECFILE_H

#include <sys/types.h>

#include <stddef.h>

#define SPECFILE_MAX	(1024 * 1024)		/* bytes of one spec file */

struct pbuf;
struct spec;
struct spec_errors;

/*
 * May a pmcd running as root, or as owner, read the file at real (an
 * absolute path with no symlink)?  0, or -1 with why set, such as
 * "/srv/app/pm.yaml: owned by uid 1000 and writable by it; a root pmcd
 * reads only root's files".
 */
int	 specfile_trusted(const char *real, uid_t owner, char *why,
	    size_t whylen);

/*
 * Read the spec at path: its real path to *real, its bytes (a C string)
 * to *buf and *len, both malloc'd.  The trust check applies when the
 * caller is root.  0, or -1 with one message in errs.
 */
int	 specfile_read(const char *path, char **real, char **buf,
	    size_t *len, struct spec_errors *errs);

/* specfile_read, then spec_parse_in; the names looked up as they come. */
int	 spec_load(const char *path, struct spec **out,
	    struct spec_errors *errs);

/*
 * How a PM2 process file is taken (ecosystem.h): js evaluates a
 * JavaScript one to JSON (pmc runs node; NULL in pmcd, which refuses
 * them), env picks its env_NAME block, warns gets what has no pmc
 * meaning.  specfile_add_pm2 with NULL is specfile_add.
 */
struct specfile_pm2 {
	int		 (*js)(const char *real, char **json, size_t *len,
			    struct spec_errors *);
	const char	 *env;
	struct spec_errors *warns;
};

/*
 * What pmc start (and pmcd's look-up helper) sends for one file: read
 * it, parse it with every name looked up and the answers written down
 * (lookup.h), and add three fields to pb: the real path, the content,
 * the answers.  0, or -1 with every problem in errs and pb unchanged.
 */
int	 specfile_add(struct pbuf *pb, const char *path,
	    struct spec_errors *errs);
int	 specfile_add_pm2(struct pbuf *pb, const char *path,
	    const struct specfile_pm2 *, struct spec_errors *errs);
/*
 * The pm.yaml text of the file at path as specfile_add would send it
 * (a PM2 file translated, else as it is), its real path in *real: both
 * malloc'd.  0, or -1 with errs.
 */
int	 specfile_text(const char *path, const struct specfile_pm2 *,
	    char **real, char **text, size_t *len, struct spec_errors *errs);

/* pmcd: parse one file as specfile_add sent it, no name service asked. */
int	 specfile_parse(const char *real, const char *content,
	    const char *answers, struct spec **out, struct spec_errors *errs);

/* A file of nothing but comments and blank lines (an empty dump). */
int	 specfile_empty(const char *path);

#endif /* PMC_SPECFILE_H */
