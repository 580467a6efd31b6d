/*
 * cmd.h -- the pmc verbs.
 *
 * Each verb is one file, cmd/cmd-<verb>.c, defining one struct cmd_entry;
 * cmd.c lists them.  `pmc help`, `pmc VERB -h` and the usage line printed
 * on a bad call all come from the entries.
 */
#ifndef PMC_CMD_H
#define PMC_CMD_H

#include <getopt.h>
#include <stdio.h>

/* Exit statuses, the same for every verb. */
#define PMC_EXIT_OK	0
#define PMC_EXIT_FAIL	1
#define PMC_EXIT_USAGE	2

struct cmd;

struct cmd_entry {
	const char		*name;
	const char		*getopt;	/* short options, -h aside; a
						   leading '+': options only
						   before the arguments */
	const struct option	*longopts;	/* NULL or {0}-ended; --help aside */
	int			 lower;		/* fewest arguments */
	int			 upper;		/* most, -1: no limit */
	const char		*usage;		/* after "pmc <name> " */
	const char		*help;		/* one line */
	int			(*exec)(struct cmd *);
};

/* One parsed call. */
struct cmd {
	const struct cmd_entry	*entry;
	int			 argc;		/* arguments after the options */
	char			**argv;
	int			 flags[128];	/* times each option was given */
	const char		*optargs[128];	/* its last argument */
};

extern const struct cmd_entry *cmd_table[];

const struct cmd_entry *cmd_find(const char *);
void	 cmd_usage(FILE *, const struct cmd_entry *);
void	 cmd_describe(FILE *, const struct cmd_entry *);
void	 cmd_overview(FILE *);
void	 cmd_unknown(const char *);
/* 0: run it; 1: -h answered, exit 0; -1: bad usage reported, exit 2. */
int	 cmd_parse(const struct cmd_entry *, int, char **, struct cmd *);
int	 cmd_has(const struct cmd *, int);

extern const struct cmd_entry cmd_start_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_describe_entry;
extern const struct cmd_entry cmd_monit_entry;
extern const struct cmd_entry cmd_metrics_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_restart_entry;
extern const struct cmd_entry cmd_delete_entry;
extern const struct cmd_entry cmd_reload_entry;
extern const struct cmd_entry cmd_scale_entry;
extern const struct cmd_entry cmd_signal_entry;
extern const struct cmd_entry cmd_convert_entry;
extern const struct cmd_entry cmd_send_entry;
extern const struct cmd_entry cmd_events_entry;
extern const struct cmd_entry cmd_logs_entry;
extern const struct cmd_entry cmd_flush_entry;
extern const struct cmd_entry cmd_reopen_logs_entry;
extern const struct cmd_entry cmd_save_entry;
extern const struct cmd_entry cmd_resurrect_entry;
extern const struct cmd_entry cmd_startup_entry;
extern const struct cmd_entry cmd_ping_entry;
extern const struct cmd_entry cmd_kill_entry;
extern const struct cmd_entry cmd_update_entry;
extern const struct cmd_entry cmd_drain_entry;
extern const struct cmd_entry cmd_undrain_entry;
extern const struct cmd_entry cmd_help_entry;

#endif /* PMC_CMD_H */
