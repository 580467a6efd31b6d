/*
 * pmcd.h -- the supervisor: one struct owns the apps, their instances
 * and the index from pid to instance.
 */
#ifndef PMCD_H
#define PMCD_H

#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/tree.h>
#include <sys/types.h>

#include <stdint.h>

#include "loop.h"
#include "protocol.h"
#include "reload.h"
#include "spec.h"

/*
 * An instance's state (instance.c holds the table of what each event
 * does in each).  The first six are what `pmc list` shows; the others
 * are stopping or stopped with what comes next decided.
 */
enum istate {
	IS_STOPPED = 0,
	IS_STARTING,		/* spawned, not yet ready */
	IS_ONLINE,
	IS_STOPPING,		/* stop_signal sent, waiting for the exit */
	IS_BACKOFF,		/* waiting to be restarted */
	IS_ERRORED,		/* gave up; `pmc restart` tries again */
	IS_RESTARTING,		/* stopping, then starts again */
	IS_FAILING,		/* stopping, not ready in time: then as after
				   a crash (backoff, max_restarts) */
	IS_RECYCLING,		/* stopping for max_memory, then starts again
				   keeping that reason */
	IS_DROPPING,		/* stopping; its slot is past the count */
	IS_DROPPED,		/* stopped, to be freed (apps_gc) */
	IS_NSTATES
};

/* What an instance is told; the state machine does the rest. */
enum ievent {
	IE_START,		/* run (again) */
	IE_STOP,		/* stop and stay stopped */
	IE_RESTART,		/* stop, then start */
	IE_READY,		/* READY=1, or alive long enough */
	IE_EXIT,		/* the leader was reaped, its group empty */
	IE_TIMER,		/* backoff, kill or ready deadline */
	IE_RECYCLE,		/* max_memory, no replacement to be had:
				   restart in place (reason set by caller) */
	IE_DROP,		/* the slot goes: stop, never start again */
	IE_REVIVE,		/* a dropped slot is wanted again: run it */
	IE_NEVENTS
};

struct app;
struct balance;
struct channel;
struct watcher;

struct instance {
	struct app		*app;
	int			 slot;		/* PMC_INSTANCE */
	enum istate		 state;
	pid_t			 pid;		/* 0 when none */
	pid_t			 last_pid;	/* the one before, for -v */
	pid_t			 pgid;		/* its group, while any of it
						   lives */
	unsigned long long	 pgid_start;	/* its leader's start time
						   (leftover.c) */
	int			 draining;	/* leader gone, group not yet */
	int			 killed;	/* SIGKILL sent in this stop */
	int			 exec_fd;	/* error pipe of the last spawn */
	ino_t			*held;		/* its listen sockets' inodes, as
						   spawned (balance.c) */
	size_t			 nheld;
	int			 surge;		/* a reload's new instance: one
						   chance, never restarted */
	int			 pending;	/* a client waits for a verdict */
	int			 failed;	/* verdict: did not come online */
	unsigned int		 restarts;	/* total */
	unsigned int		 streak;	/* restarts since last reset */
	uint64_t		 delay_ms;	/* next backoff delay */
	uint64_t		 started_ms;
	int64_t			 started_wall_ms;	/* the same, Unix time */
	uint64_t		 exited_ms;
	int64_t			 exited_wall_ms;
	int			 wstatus;	/* last wait status */
	char			 reason[256];	/* last exit or failure */
	char			 status_text[128];	/* STATUS= */
	struct timer		 timer;
	struct channel		*ch;		/* channel.c's, or NULL */
	int			 cluster_online;	/* Node's cluster worker
						   said so, this run */
	int			 disconnecting;	/* asked to (cluster.c): the
						   stop signal is still to
						   come */

	/*
	 * Its whole process group, sampled when someone looks, and once
	 * a second for max_memory (sample.c).  CPU time in microseconds:
	 * cpu_total_us counts what was seen, cpu_base_us is the group's
	 * sum at the last sample less what was reaped since, so that the
	 * next sample (or the group's end) adds the rest exactly.
	 */
	int64_t			 cpu_base_us;
	int64_t			 cpu_old_us;	/* earlier runs' members, seen
						   by a sample, not reaped */
	uint64_t		 cpu_now_us;	/* being summed */
	uint64_t		 cpu_sampled_ms;	/* 0: not since the spawn */
	uint64_t		 cpu_total_us;	/* the slot's, every run */
	pid_t			 old_pgid;	/* the group of its last run */
	double			 cpu;		/* percent of one CPU */
	uint64_t		 rss;		/* bytes, summed */
	int			 nprocs;
	uint64_t		 memory_retry_ms;	/* no max_memory replacement
						   before this */
	uint64_t		 replaced_ms;	/* took its slot (a reload) */
	uint64_t		 over_ms;	/* over max_memory since */
	unsigned int		 memory_failures;	/* replacements that failed
						   in a row */
	int			 cancelled;	/* a surge whose replacement
						   a user's request ended */
	RB_ENTRY(instance)	 by_pid;
};

/* A socket bound for Node's cluster on demand (cluster.c). */
struct cluster_sock {
	char			 key[SPEC_ADDR_MAX + 16];	/* its address */
	int			 fd;
};

struct app {
	TAILQ_ENTRY(app)	 entry;
	struct app_spec		*spec;
	char			*file;		/* spec file it came from */
	int			*fds;		/* listen sockets, see app_fd */
	size_t			 nfds;
	struct instance		**inst;
	size_t			 ninst;
	int			 deleting;
	struct timer		 drain;		/* deleting: queues draining */
	struct timer		 cron;		/* cron_restart's next reload */
	struct watcher		*watcher;	/* watch.c's, or NULL */
	int64_t			 cron_next;	/* its Unix time; 0: none */
	uint64_t		 drain_until;	/* then stop, drained or not */
	int			 drain_empty;	/* checks in a row that found
						   nothing queued */

	int			 changed;	/* an instance changed state:
						   reloads_step looks */
	int			 rebalance;	/* the same, or the sockets
						   changed: balances_step */
	struct balance		*bal;		/* balance.c's, per-slot modes */
	struct cluster_sock	*cluster;	/* bound for Node's cluster on
						   demand (cluster.c) */
	size_t			 ncluster;
	struct instance		*surge;		/* a reload's new instance */
	struct reload		 reload;	/* reload.c's, see reload.h */

	/* drain.c: pmc drain, and the connections counted since. */
	int			 drained;
	int			 drain_counted;	/* drain_count was read */
	uint64_t		 drain_ms;	/* drained since */
	uint64_t		 drain_changed_ms;	/* the count last moved */
	uint64_t		 drain_count;
	uint64_t		 drain_seen;	/* new connections since */
	const char		*drain_source;	/* "ebpf", "netns" */
};

RB_HEAD(pid_tree, instance);
TAILQ_HEAD(app_list, app);

struct pmcd {
	struct app_list		 apps;
	struct pid_tree		 pids;
	int			 stopping;	/* SIGTERM, pmc kill */
	int			 exit_status;
	char			 notify_path[108];
	char			 shim_path[4096];	/* "" when not found */
	enum logs_to		 log_to_auto;	/* what logs.to: auto means */
	struct rlimit		 nofile;	/* as started; for instances */
	char			 user[64];	/* our user's name, or "" */
	char			 group[64];	/* our group's name, or "" */
	int			 lock_fd;	/* pmcd.lock, held */
	int			 verbose;	/* -v */
	int			 fg;		/* -f */
};

extern struct pmcd	*sv;

/* app.c */
struct app	*app_find(const char *);
int		 app_apply(struct spec **, size_t, struct app **victims,
		    size_t nvictims, struct pbuf *errs, struct pbuf *out);
void		 app_stop(struct app *);
struct app	*app_adopt(struct app_spec *, const char *file, int *fds,
		    size_t nfds, size_t ninst);	/* pmc update */
void		 app_cron(struct app *);	/* arm cron_restart's timer */
/* The --env that the apps of file were started with, or NULL. */
const char	*app_file_env(const char *file);
void		 app_restart(struct app *);
void		 app_delete(struct app *);
int		 app_settled(const struct app *, int for_stop);
void		 apps_stop_all(void);
void		 apps_gc(void);
int		 app_scale(struct app *, int, struct pbuf *errs);
struct app	**apps_pruned(struct spec **, size_t, size_t *);
void		 apps_free_all(void);
int		 apps_all_stopped(void);

/* watch.c: watch, ignore_watch, watch_delay */
void		 watch_sync(struct app *);	/* after its spec changed */
void		 watch_free(struct app *);
void		 watch_describe(const struct app *, struct pbuf *);

/* cluster.c: Node's cluster protocol, node_cluster: true */
int		 cluster_message(struct instance *, const char *, size_t);
						/* 1: the worker listens */

/* message.c: an instance's channel line, past Node's handle protocol */
void		 message_from(struct instance *, const char *, size_t);
int		 cluster_disconnect(struct instance *);	/* -1: cannot */
void		 cluster_free(struct app *);

/* balance.c */
void		 balance_sync(struct app *);	/* sockets or states changed */
void		 balances_step(void);		/* the apps marked rebalance */
void		 balance_free(struct app *);
void		 balance_refuse(struct app *);	/* eBPF: no new connection */
const char	*balance_engine(const struct app *);	/* ebpf classic kernel */
const char	*balance_why(const struct app *);	/* why not eBPF, or "" */
unsigned int	 balance_weight(const struct app *, int slot);
/* Connections its eBPF programs saw, summed: 0, or -1 without eBPF. */
int		 balance_connections(const struct app *, uint64_t *);

/* describe.c */
void		 app_describe(const struct app *, struct pbuf *);

/* pids.c */
void		 pids_add(struct instance *);	/* its pid is set */
void		 pids_remove(struct instance *);
struct instance	*instance_by_pid(pid_t);
struct instance	*instance_by_group(pid_t pgid);	/* this run's or the last */

/* instance.c */
struct instance	*instance_new(struct app *, int slot);
void		 instance_free(struct instance *);
void		 instance_event(struct instance *, enum ievent);
int		 instance_down(const struct instance *);
int		 instance_dropped(const struct instance *);	/* its slot goes */
void		 instance_count_restart(struct instance *, int in_loop);
void		 instances_clear_verdicts(struct app *);
void		 in_debug(const struct instance *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
void		 in_info(const struct instance *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
void		 in_warnx(const struct instance *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));
uint64_t	 backoff_next(const struct app_spec *, uint64_t delay_ms);
struct instance	*instance_of_child(pid_t, pid_t *pgrp);	/* before reaping */
void		 instance_reaped(struct instance *, pid_t, pid_t pgrp,
		    int wstatus, const struct rusage *);
void		 instances_check_groups(void);	/* after reaping */
const char	*istate_name(enum istate);	/* as pmc list shows it */
int64_t		 wall_ms(void);		/* CLOCK_REALTIME, ms */

/* logs.c */
void		 outpipe_new(const struct instance *, int fd, int err);
void		 outpipes_close(void);
int		 logs_reopen(struct pbuf *errs);	/* errs may be NULL */
int		 logs_flush(const struct app_spec *, struct pbuf *errs);
int		 logs_check(const struct app_spec *, struct pbuf *errs);
void		 logs_path(const struct app_spec *, int err, char *, size_t);

/* sample.c */
void		 sample_arm(const struct instance *);	/* after a spawn */
void		 sample_fresh(void);	/* before showing the figures */
pid_t		 sample_pgrp(pid_t);	/* a process's group, or -1 */
void		 sample_reaped(struct instance *, pid_t pgrp,
		    const struct rusage *);
void		 sample_ended(struct instance *);	/* its group is empty */
void		 sample_then(void (*)(void));	/* call after each sample */
struct sample_members {
	pid_t			*pid;
	struct instance		**in;	/* whose group pid[i] is in */
	size_t			 n, cap;
};
void		 sample_members(const struct app *, struct sample_members *);
void		 sample_members_free(struct sample_members *);

/* metrics.c */
void		 metrics_text(struct pbuf *);
int		 metrics_listen(const char *addr, char *why, size_t);
void		 metrics_close(void);

/* control.c */
void		 control_init(const char *path);
void		 control_close(void);
void		 control_changed(void);	/* re-check waiting clients */

/* dump.c */
int		 dump_save(int force, size_t *saved, char *why, size_t);
int		 dump_load(struct spec **, char *why, size_t);

/* shimpath.c */
void		 shim_locate(char *, size_t);
int		 shim_can_enter(const char *);

/* sdnotify.c */
void		 sdnotify_init(void);
void		 sdnotify_tick(void);
void		 sdnotify_reloading(void);
void		 sdnotify_stopping(void);
void		 sdnotify_env(int set);		/* pmc update */
void		 sdnotify_updated(void);

/* specread.c */
void		 specread_start(char **files, size_t n,
		    void (*done)(struct spec **, size_t));
int		 specread_busy(void);

/* leftover.c */
void		 leftover_end(void);	/* at start, before binding */
void		 leftover_changed(void);	/* a group began or ended */
void		 leftover_sync(void);	/* after a loop round */
void		 leftover_clear(void);	/* at a clean exit */
unsigned long long leftover_start_time(pid_t);

/* notify.c */
void		 notify_init(void);

#endif /* PMCD_H */
