/*
 * home.h -- where pmc and pmcd keep the control socket, logs and state.
 */
#ifndef PMC_HOME_H
#define PMC_HOME_H

#include <stddef.h>

/* $PMC_HOME, else $XDG_RUNTIME_DIR/pmc, else ~/.pmc; root: /run/pmc. */
const char	*pmc_home(void);
/*
 * Check that dir is a folder owned by us, not group- or world-writable
 * (creating it 0700 first when create is set).  0, or -1 with why.
 */
int		 home_check(const char *dir, int create, char *why, size_t);
/*
 * Check that the control socket, when there is one, is a socket owned by
 * us: one of another user is not our pmcd.  0, or -1 with why.
 */
int		 home_sock_check(char *why, size_t);
/* $PMC_HOME/logs; as root without PMC_HOME, /var/log/pmc. */
const char	*pmc_logdir(void);
/*
 * Saved state (the dump): $PMC_HOME; without it /var/lib/pmc for root,
 * else $XDG_STATE_HOME/pmc or ~/.local/state/pmc.
 */
const char	*pmc_statedir(void);
/* The dump pmc save writes: <state folder>/dump.yaml. */
void		 pmc_dump_path(char *, size_t);
/* buf = "<home>/<name>". */
void		 home_path(char *buf, size_t, const char *name);

#endif /* PMC_HOME_H */
