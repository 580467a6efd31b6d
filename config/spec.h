/*
 * spec.h -- the pm.yaml app spec, shared by pmc and pmcd.
 *
 * spec_parse() turns the bytes of one YAML file into a struct spec whose
 * every field is validated and filled with its default.  Errors are
 * collected, not printed: every error of a file is reported, and a spec
 * with any error is never returned (all or nothing).
 */
#ifndef PMC_SPEC_H
#define PMC_SPEC_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

#define SPEC_NAME_MAX		64
#define SPEC_INSTANCES_MAX	1024	/* largest instances: N */
#define SPEC_LOG_KEEP_MAX	1000	/* largest logs.keep */

enum balance_mode {
	BALANCE_SHARED = 0,		/* one socket for all instances */
	BALANCE_REUSEPORT,		/* one SO_REUSEPORT socket per slot,
					   the kernel's hash picks */
	BALANCE_ROUND_ROBIN,		/* per slot, a program takes turns */
	BALANCE_STICKY			/* per slot, by client address */
};

/* Does the mode give each slot its own SO_REUSEPORT socket? */
#define BALANCE_PER_SLOT(m)	((m) != BALANCE_SHARED)

enum restart_policy {
	RESTART_ALWAYS = 0,
	RESTART_ON_FAILURE,
	RESTART_NEVER
};

enum ready_mode {
	READY_AUTO = 0,			/* READY=1, shim listen(), or 1 s alive */
	READY_NOTIFY,			/* READY=1 on NOTIFY_SOCKET */
	READY_DELAY			/* alive for ready_delay_ms */
};

enum logs_to {
	LOGS_TO_AUTO = 0,		/* both under systemd or as PID 1 */
	LOGS_TO_FILE,
	LOGS_TO_STDOUT,			/* pmcd's stdout, "app[i]: " lines */
	LOGS_TO_BOTH
};

enum instances_mode {
	INSTANCES_FIXED = 0,		/* instances: N */
	INSTANCES_MAX,			/* instances: max */
	INSTANCES_MAX_MINUS		/* instances: -N */
};

/*
 * Who an app runs as: user: and group: looked up once, when the spec is
 * read (by pmc, or by pmcd's look-up helper), never again at a spawn.
 * Without user: and group:, set is 0 and the app runs as pmcd does.
 */
struct spec_ids {
	int			 set;		/* user: or group: given */
	uid_t			 uid;
	gid_t			 gid;		/* group:, else the user's */
	gid_t			*groups;	/* supplementary, gid first */
	size_t			 ngroups;
	char			*login;		/* USER, LOGNAME; NULL: no user: */
	char			*home;		/* HOME */
	char			*shell;		/* SHELL */
};

struct app_spec {
	char			 name[SPEC_NAME_MAX + 1];
	char			**argv;		/* NULL-terminated */
	size_t			 argc;
	char			*cwd;		/* absolute; default: spec folder */

	enum instances_mode	 instances_mode;
	int			 instances_arg;	/* N, or the N of -N */
	int			 instances;	/* resolved count, >= 1 */

	struct listen_addr	*listen;
	size_t			 nlisten;
	enum balance_mode	 balance;
	int			 balance_default;	/* not given: round-robin,
						   shared where it cannot be */
	uint64_t		 slow_start_ms;	/* round-robin; 0: none */
	int			 intercept_bind;
	int			 channel;	/* default 1: PMC_CHANNEL_FD */
	int			 node_cluster;	/* answer Node's cluster
						   protocol on the channel */

	char			**env;		/* "KEY=value", NULL-terminated */
	size_t			 nenv;

	char			*user;		/* NULL when not set */
	char			*group;
	struct spec_ids		 ids;		/* user and group, resolved */

	enum restart_policy	 restart;
	uint64_t		 backoff_initial_ms;	/* default 100 */
	uint64_t		 backoff_max_ms;	/* default 30000 */
	uint64_t		 backoff_min_uptime_ms;	/* default 1000 */
	uint64_t		 backoff_reset_ms;	/* default 30000: max_memory */
	unsigned int		 max_restarts;		/* 0: unlimited */
	unsigned int		 min_online;	/* for /health; default 1 */
	int			 stop_signal;		/* default SIGTERM */
	uint64_t		 kill_timeout_ms;	/* default 5000 */
	enum ready_mode		 ready;
	uint64_t		 ready_delay_ms;	/* READY_DELAY only */
	uint64_t		 ready_timeout_ms;	/* default 30000 */
	uint64_t		 max_memory;		/* bytes, 0: none */
	char			*cron_restart;	/* crontab(5) time, or NULL */
	char			**watch;	/* paths under cwd; none: off */
	size_t			 nwatch;
	char			**ignore_watch;	/* fnmatch(3) patterns */
	size_t			 nignore_watch;
	uint64_t		 watch_delay_ms;	/* default 1000 */

	char			*log_out;	/* NULL: default path */
	char			*log_err;
	uint64_t		 log_max_size;	/* default 10M */
	unsigned int		 log_keep;	/* default 5 */
	int			 log_timestamps;	/* default 1 */
	enum logs_to		 log_to;	/* default auto */

	int			 pm2;		/* from a PM2 process file
						   (ecosystem.h) */
	char			*envname;	/* --env it was read with; NULL */
	int			 line;		/* where the app starts */
	int			 column;
};

struct spec {
	char			*path;		/* as given to spec_parse */
	struct app_spec		**apps;
	size_t			 napps;
};

/* Collected error messages, each "PATH:LINE:COL: field: what". */
struct spec_errors {
	char			**msgs;
	size_t			 count;
};

/*
 * Parse buf (len bytes, the content of the file at path) into *out.
 * path is used in messages and, made absolute, as the default cwd.
 * Returns 0 on success; -1 with every problem appended to errs.
 */
int	 spec_parse(const char *path, const char *buf, size_t len,
	    struct spec **out, struct spec_errors *errs);
/*
 * The same, with relative paths taken from the folder of real (the file
 * a symlink at path points to), so that pmc and pmcd agree.
 */
int	 spec_parse_in(const char *path, const char *real, const char *buf,
	    size_t len, struct spec **out, struct spec_errors *errs);
void	 spec_free(struct spec *);
/*
 * Every effective field, one "app.field=value" line each, control
 * characters escaped (pmcd -n -v; pmc describe shows these lines).
 */
void	 spec_dump(const struct spec *, FILE *);
/*
 * Write apps as a complete pm.yaml, every field explicit, that spec_parse
 * reads back into specs app_spec_equal to these (on this machine: user,
 * group and "instances: max" are looked up where the file is read).
 * With no apps, only comments.  Returns 0, or -1 on a write error, or
 * with errno EILSEQ for text that is not UTF-8 (never in a loaded spec).
 */
int	 spec_write_yaml(struct app_spec *const *apps, size_t napps, FILE *);
void	 app_spec_free(struct app_spec *);
struct app_spec *app_spec_dup(const struct app_spec *);
/* Same effective spec: nothing to do when an app is started again. */
int	 app_spec_equal(const struct app_spec *, const struct app_spec *);

/*
 * env_NAME blocks: spec_set_env(NAME) before a parse merges each app's
 * env_NAME over its env, as --env does (NULL: none); an app read so
 * records NAME.  spec_env_block: is key an env_NAME key?
 */
void	 spec_set_env(const char *);
const char *spec_env(void);
int	 spec_env_block(const char *key);

void	 spec_errors_add(struct spec_errors *, const char *fmt, ...)
	    __attribute__((__format__(__printf__, 2, 3)));
void	 spec_errors_clear(struct spec_errors *);

/* The words a spec uses for these values. */
const char *balance_name(enum balance_mode);
const char *restart_name(enum restart_policy);
const char *logs_to_name(enum logs_to);

#endif /* PMC_SPEC_H */
