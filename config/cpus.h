/*
 * cpus.h -- how many CPUs this process may run on: what `instances:
 * max` means.
 */
#ifndef PMC_CPUS_H
#define PMC_CPUS_H

/*
 * The CPUs of the affinity mask (else those online), no more than the
 * smallest cgroup quota on the way up from this process's cgroup
 * (v2 cpu.max, v1 cpu.cfs_quota_us over cpu.cfs_period_us, rounded
 * up).  At least 1.
 */
int	 cpus_available(void);

#endif /* PMC_CPUS_H */
