/*
 * cpus.c -- the CPUs this process may run on: affinity and cgroup
 * quotas; see cpus.h.
 */
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpus.h"

/* The smaller of two limits, where 0 or less is none. */
static int
limit_min(int a, int b)
{
	if (a <= 0)
		return b;
	if (b <= 0)
		return a;
	return a < b ? a : b;
}

/* ceil(quota / period), 0 when either is not a positive number. */
static int
quota_cpus(long long quota, long long period)
{
	long long	n;

	if (quota <= 0 || period <= 0)
		return 0;
	n = (quota + period - 1) / period;
	return n > INT_MAX ? INT_MAX : (int)n;
}

static long long
read_number(const char *dir, const char *file)
{
	char		 path[PATH_MAX];
	FILE		*fp;
	long long	 v;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	if (fscanf(fp, "%lld", &v) != 1)
		v = 0;
	fclose(fp);
	return v;
}

/* cgroup v2: cpu.max holds "max PERIOD" or "QUOTA PERIOD". */
static int
cpu_max_v2(const char *dir)
{
	char		 path[PATH_MAX], quota[32];
	FILE		*fp;
	long long	 period;
	int		 n = 0;

	snprintf(path, sizeof(path), "%s/cpu.max", dir);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	if (fscanf(fp, "%31s %lld", quota, &period) == 2 &&
	    strcmp(quota, "max") != 0)
		n = quota_cpus(strtoll(quota, NULL, 10), period);
	fclose(fp);
	return n;
}

static int
cpu_max_v1(const char *dir)
{
	return quota_cpus(read_number(dir, "cpu.cfs_quota_us"),
	    read_number(dir, "cpu.cfs_period_us"));
}

/* The smallest limit on the way from cgroup rel up to the root. */
static int
cgroup_walk(const char *mnt, const char *rel, int (*limit)(const char *))
{
	char	 dir[PATH_MAX], *slash;
	size_t	 base = strlen(mnt);
	int	 best = 0;

	if (snprintf(dir, sizeof(dir), "%s%s", mnt, rel) >= (int)sizeof(dir))
		return 0;
	for (;;) {
		best = limit_min(best, limit(dir));
		if ((slash = strrchr(dir + base, '/')) == NULL)
			break;
		*slash = '\0';
	}
	return best;
}

/* Is "cpu" one of the comma-separated controllers of a v1 line? */
static const char *
cgroup_v1_cpu(const char *line)
{
	const char	*ctl, *end, *p;
	size_t		 n;

	if ((ctl = strchr(line, ':')) == NULL ||
	    (end = strchr(++ctl, ':')) == NULL)
		return NULL;
	for (p = ctl; p < end; p += n + 1) {
		n = strcspn(p, ",:");
		if (n == 3 && strncmp(p, "cpu", 3) == 0)
			return end + 1;
	}
	return NULL;
}

/* CPUs the cgroup quotas of this process allow; 0: no limit. */
static int
cgroup_cpus(void)
{
	FILE		*fp;
	char		*line = NULL;
	const char	*rel;
	size_t		 cap = 0;
	int		 best = 0;

	if ((fp = fopen("/proc/self/cgroup", "re")) == NULL)
		return 0;
	while (getline(&line, &cap, fp) != -1) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "0::/", 4) == 0)
			best = limit_min(best, cgroup_walk("/sys/fs/cgroup",
			    line + 3, cpu_max_v2));
		else if ((rel = cgroup_v1_cpu(line)) != NULL && *rel == '/')
			best = limit_min(best, cgroup_walk(
			    "/sys/fs/cgroup/cpu", rel, cpu_max_v1));
	}
	free(line);
	fclose(fp);
	return best;
}

int
cpus_available(void)
{
	cpu_set_t	set;
	long		n = 0;
	int		limit;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n <= 0)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n > INT_MAX)
		n = INT_MAX;
	limit = cgroup_cpus();
	if (limit > 0 && limit < n)
		n = limit;
	return n < 1 ? 1 : (int)n;
}
