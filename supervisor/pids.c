/*
 * pids.c -- from a process id to the instance it leads, and from a
 * process group to its instance: for SIGCHLD (instance.c), notify
 * datagrams (notify.c) and sampling (sample.c), none of which need more
 * of each other.
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

/*
 * The instance whose process group is pgid, in this run (its leader may
 * be gone, the group draining) or the last one (a member pmcd reaps
 * after the slot started again).
 */
struct instance *
instance_by_group(pid_t pgid)
{
	struct instance	*in;
	struct app	*app;
	size_t		 i;

	if ((in = instance_by_pid(pgid)) != NULL && in->pgid == pgid)
		return (in);
	TAILQ_FOREACH(app, &sv->apps, entry) {
		for (i = 0; i <= app->ninst; i++) {
			in = i < app->ninst ? app->inst[i] : app->surge;
			if (in != NULL && (in->pgid == pgid ||
			    in->old_pgid == pgid))
				return (in);
		}
	}
	return (NULL);
}
