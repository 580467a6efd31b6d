/*
 * pids.c -- the index from a process id to the instance it leads: for
 * SIGCHLD (instance.c), notify datagrams (notify.c) and sampling
 * (sample.c), none of which need more of each other.
 */
#include "pmcd.h"

static int	pid_cmp(struct instance *, struct instance *);

RB_PROTOTYPE(pid_tree, instance, by_pid, pid_cmp)
RB_GENERATE(pid_tree, instance, by_pid, pid_cmp)

static int
pid_cmp(struct instance *a, struct instance *b)
{
	return (a->pid < b->pid ? -1 : a->pid > b->pid);
}

void
pids_add(struct instance *in)
{
	RB_INSERT(pid_tree, &sv->pids, in);
}

void
pids_remove(struct instance *in)
{
	RB_REMOVE(pid_tree, &sv->pids, in);
}

struct instance *
instance_by_pid(pid_t pid)
{
	struct instance	 key;

	key.pid = pid;
	return (RB_FIND(pid_tree, &sv->pids, &key));
}
