/*
 * balance.c -- who gets the next connection of an app with per-slot
 * sockets (balance: round-robin, sticky, reuseport).
 *
 * The kernel decides, for every SYN, with a program of bpf.c attached to
 * each listen address's SO_REUSEPORT group; pmcd only rewrites what the
 * program reads when the set of live slots changes:
 *
 *   round-robin	the turns: each slot whose instance is online, in
 *			order, once (or, while one ramps up under
 *			slow_start, by weight: smooth weighted
 *			round-robin, as nginx spreads its upstreams).
 *   sticky		the buckets: each of BAL_BUCKETS client-address
 *			buckets goes to the live slot that ranks highest
 *			for it (rendezvous hashing), so losing or adding
 *			a slot moves only that slot's share.  A slot that
 *			went down keeps its buckets for STICKY_GRACE_MS,
 *			long enough for a crash's immediate restart.
 *   reuseport		no choice of ours: the kernel's hash.  The program
 *			is there to move connections queued on a closed
 *			socket to the others.
 *
 * A slot is live while its instance, or a reload's new instance for it,
 * is online.  With no live slot the kernel's hash picks, and the
 * connection waits in that slot's queue until an instance is back.
 * Rewrites happen after a loop round in which an instance changed state
 * (balances_step) and, while a slot ramps up or a sticky slot's grace
 * runs, on a timer; otherwise there is no periodic work.
 *
 * A deleted app closes its doors before its instances are stopped (see
 * app_delete); with eBPF, balance_refuse replaces the program by one
 * that answers new connections with a reset, at once, as a closed port
 * does, rather than leave them to the filter that drops their SYNs.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf.h"
#include "listen.h"
#include "log.h"
#include "pmcd.h"
#include "state.h"

#define STICKY_GRACE_MS	1000
#define WEIGHT_FULL	16	/* a slot's weight once ramped */
#define RAMP_STEP_MIN_MS 100	/* no more rewrites than this while ramping */


/*
 * One listen address: its group's program and the sockets given to it.
 * An address the spec no longer has is retired, not closed: the old
 * instances of a reload still serve it until they are replaced.
 */
struct bal_addr {
	char		 text[SPEC_ADDR_MAX];
	int		 family;
	struct balancer	*b;		/* NULL: none (kernel's hash only) */
	int		*fds;		/* per slot, as given to b; -1 none */
	ino_t		*ino;		/* the same sockets' inodes */
	size_t		 nfds;
	int		 retired;
	uint16_t	 turns[BAL_TURNS_MAX];
	size_t		 nturns;	/* as written; SIZE_MAX: never */
	uint16_t	 buckets[BAL_BUCKETS];
	int		 buckets_set;
};

struct balance {
	enum balance_mode	 mode;
	struct bal_addr		**a;
	size_t			 na;
	const char		*engine;	/* "ebpf", "classic", "kernel" */
	char			 why[512];	/* why not eBPF; "" when it is */

	size_t			 nslots;
	uint64_t		*live_since;	/* per slot: ms, 0 when not */
	pid_t			*live_pid;	/* per slot: its newest online
						   instance, whose ramp it is */
	uint64_t		*down_since;	/* per slot: ms, 0 when up or
						   never was */
	unsigned int		*weight;	/* per slot, by slow_start */
	struct timer		 timer;
};

static enum bal_kind
kind_of(enum balance_mode m)
{
	switch (m) {
	case BALANCE_ROUND_ROBIN:
		return (BAL_TURNS);
	case BALANCE_STICKY:
		return (BAL_STICKY);
	default:
		return (BAL_HASH);
	}
}

static void	balance_timer(void *);

static struct balance *
balance_new(struct app *app)
{
	struct balance	*bl;

	if ((bl = calloc(1, sizeof(*bl))) == NULL)
		fatal("calloc");
	bl->mode = app->spec->balance;
	bl->engine = "kernel";
	timer_set(&bl->timer, balance_timer, app);
	return (bl);
}

static void
addr_free(struct bal_addr *a)
{
	if (a == NULL)
		return;
	if (a->b != NULL)
		bal_close(a->b);
	free(a->fds);
	free(a->ino);
	free(a);
}

void
balance_free(struct app *app)
{
	struct balance	*bl = app->bal;
	size_t		 i;

	if (bl == NULL)
		return;
	timer_stop(&bl->timer);
	for (i = 0; i < bl->na; i++)
		addr_free(bl->a[i]);
	free(bl->a);
	free(bl->live_since);
	free(bl->live_pid);
	free(bl->down_since);
	free(bl->weight);
	free(bl);
	app->bal = NULL;
}

/* The socket of slot for listen address j, or -1. */
static int
slot_fd(const struct app *app, size_t j, size_t slot)
{
	size_t	 i = slot * app->spec->nlisten + j;

	return (i < app->nfds ? app->fds[i] : -1);
}

/* A new address j: its program, on one of its sockets. */
static struct bal_addr *
addr_open(struct app *app, size_t j)
{
	struct balance		*bl = app->bal;
	const struct listen_addr *la = &app->spec->listen[j];
	struct bal_addr		*a;
	char			 why[sizeof(bl->why)];
	size_t			 s;
	int			 fd = -1;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("calloc");
	strlcpy(a->text, la->text, sizeof(a->text));
	a->family = la->family;
	a->nturns = SIZE_MAX;
	for (s = 0; s * app->spec->nlisten < app->nfds && fd == -1; s++)
		fd = slot_fd(app, j, s);
	if (fd == -1)
		return (a);
	why[0] = '\0';
	a->b = bal_open(kind_of(bl->mode), fd, la->family, 0, why,
	    sizeof(why));
	if (a->b != NULL && bal_is_ebpf(a->b)) {
		bl->engine = "ebpf";
		return (a);
	}
	if (a->b != NULL && strcmp(bl->engine, "ebpf") != 0)
		bl->engine = "classic";
	if (bl->why[0] == '\0' && why[0] != '\0') {
		strlcpy(bl->why, why, sizeof(bl->why));
		if (bl->mode == BALANCE_ROUND_ROBIN)
			log_warnx("%s: balance: round-robin takes random turns "
			    "(even on average, not exact): %s", app->spec->name,
			    why);
		else if (bl->mode == BALANCE_STICKY)
			log_warnx("%s: balance: sticky by classic BPF: %s",
			    app->spec->name, why);
		else
			log_warnx("%s: balance: reuseport without a program: "
			    "connections queued on a slot that is scaled away "
			    "are reset: %s", app->spec->name, why);
	}
	return (a);
}

/* Give a's program the sockets of address j in the current layout. */
static void
addr_sockets(struct app *app, struct bal_addr *a, size_t j)
{
	struct stat	 sb;
	size_t		 s, nslots = app->nfds / app->spec->nlisten;
	char		 why[256];
	int		 fd;

	if (nslots > a->nfds) {
		a->fds = reallocarray(a->fds, nslots, sizeof(*a->fds));
		a->ino = reallocarray(a->ino, nslots, sizeof(*a->ino));
		if (a->fds == NULL || a->ino == NULL)
			fatal("reallocarray");
		for (s = a->nfds; s < nslots; s++) {
			a->fds[s] = -1;
			a->ino[s] = 0;
		}
		a->nfds = nslots;
	}
	for (s = 0; s < a->nfds; s++) {
		fd = s < nslots ? slot_fd(app, j, s) : -1;
		if (fd == a->fds[s])
			continue;
		if (a->b != NULL && s < BAL_SLOTS_MAX && bal_set_socket(a->b,
		    (int)s, fd, why, sizeof(why)) == -1)
			log_warnx("%s: %s slot %zu: %s", app->spec->name,
			    a->text, s, why);
		a->fds[s] = fd;
		a->ino[s] = fd != -1 && fstat(fd, &sb) == 0 ? sb.st_ino : 0;
	}
}

/*
 * Match the addresses to the spec's (a reload may add or remove some):
 * a kept one keeps its program, a new one gets one, a dropped one is
 * retired until no instance holds its sockets.
 */
static void
sync_sockets(struct app *app)
{
	struct balance	*bl = app->bal;
	struct bal_addr	**na, *a;
	size_t		 j, k, n = 0, nl = app->spec->nlisten;

	if ((na = calloc(nl + bl->na + 1, sizeof(*na))) == NULL)
		fatal("calloc");
	for (j = 0; j < nl; j++) {
		for (k = 0; k < bl->na; k++)
			if (bl->a[k] != NULL && strcmp(bl->a[k]->text,
			    app->spec->listen[j].text) == 0)
				break;
		if (k < bl->na) {
			a = bl->a[k];
			bl->a[k] = NULL;
		} else
			a = addr_open(app, j);
		a->retired = 0;
		addr_sockets(app, a, j);
		na[n++] = a;
	}
	for (k = 0; k < bl->na; k++)
		if (bl->a[k] != NULL) {
			bl->a[k]->retired = 1;
			na[n++] = bl->a[k];
		}
	free(bl->a);
	bl->a = na;
	bl->na = n;
}

/* Grow the per-slot arrays to n. */
static void
slots_grow(struct balance *bl, size_t n)
{
	size_t	 i;

	if (n <= bl->nslots)
		return;
	bl->live_since = reallocarray(bl->live_since, n, sizeof(uint64_t));
	bl->live_pid = reallocarray(bl->live_pid, n, sizeof(pid_t));
	bl->down_since = reallocarray(bl->down_since, n, sizeof(uint64_t));
	bl->weight = reallocarray(bl->weight, n, sizeof(unsigned int));
	if (bl->live_since == NULL || bl->down_since == NULL ||
	    bl->weight == NULL || bl->live_pid == NULL)
		fatal("reallocarray");
	for (i = bl->nslots; i < n; i++) {
		bl->live_since[i] = bl->down_since[i] = 0;
		bl->live_pid[i] = 0;
		bl->weight[i] = 0;
	}
	bl->nslots = n;
}

/* Does in run, online, holding the socket of inode ino? */
static int
serves(const struct instance *in, ino_t ino)
{
	size_t	 j;

	if (in == NULL || in->state != IS_ONLINE || ino == 0)
		return (0);
	for (j = 0; j < in->nheld; j++)
		if (in->held[j] == ino)
			return (1);
	return (0);
}

/* Is slot's socket of a accepted on by an online instance? */
static int
holds(const struct app *app, const struct bal_addr *a, size_t slot)
{
	if (slot >= a->nfds || slot >= (size_t)app->spec->instances)
		return (0);
	return ((slot < app->ninst && serves(app->inst[slot], a->ino[slot])) ||
	    (app->surge != NULL && app->surge->slot == (int)slot &&
	    serves(app->surge, a->ino[slot])));
}

/*
 * The pid of slot's newest online instance (a reload's new one, else
 * its own), or 0: none is online.
 */
static pid_t
slot_live(const struct app *app, size_t slot)
{
	if (slot >= (size_t)app->spec->instances)
		return (0);
	if (app->surge != NULL && app->surge->slot == (int)slot &&
	    app->surge->state == IS_ONLINE)
		return (app->surge->pid);
	if (slot < app->ninst && app->inst[slot]->state == IS_ONLINE)
		return (app->inst[slot]->pid);
	return (0);
}

/* The sooner of a timer already due and one at ms. */
static void
timer_sooner(uint64_t *next, uint64_t ms)
{
	if (*next == 0 || ms < *next)
		*next = ms;
}

/*
 * Who is live since when, and each slot's weight: full, or, under
 * slow_start, growing from 1 to full over that time.  A reload's new
 * instance starts its own ramp when it comes online beside the old.
 */
static void
update_slots(struct app *app, uint64_t now, uint64_t *next)
{
	struct balance	*bl = app->bal;
	uint64_t	 ramp = 0, up, step;
	unsigned int	 full = 1, w;
	size_t		 s, nlive = 0;
	pid_t		 pid;

	for (s = 0; s < bl->nslots; s++) {
		if ((pid = slot_live(app, s)) != 0) {
			if (bl->live_since[s] == 0 || bl->live_pid[s] != pid)
				bl->live_since[s] = now;
			bl->live_pid[s] = pid;
			bl->down_since[s] = 0;
			nlive++;
		} else if (bl->live_since[s] != 0) {
			bl->live_since[s] = 0;
			bl->live_pid[s] = 0;
			bl->down_since[s] = now;
		}
	}
	if (bl->mode == BALANCE_ROUND_ROBIN)
		ramp = app->spec->slow_start_ms;
	if (ramp > 0 && nlive > 0) {
		full = BAL_TURNS_MAX / (unsigned int)nlive;
		if (full > WEIGHT_FULL)
			full = WEIGHT_FULL;
		if (full < 1)
			full = 1;
	}
	step = ramp / full;
	if (step < RAMP_STEP_MIN_MS)
		step = RAMP_STEP_MIN_MS;
	for (s = 0; s < bl->nslots; s++) {
		w = 0;
		if (bl->live_since[s] != 0) {
			w = full;
			up = now - bl->live_since[s];
			if (ramp > 0 && up < ramp) {
				w = (unsigned int)((uint64_t)full * up / ramp);
				if (w < 1)
					w = 1;
				timer_sooner(next, now + step);
			}
		}
		bl->weight[s] = w;
	}
}

/*
 * round-robin: the turns of the slots that serve a, by weight (smooth
 * weighted round-robin); written when they changed.
 */
static void
make_turns(struct app *app, struct bal_addr *a)
{
	struct balance	*bl = app->bal;
	long long	 cur[BAL_SLOTS_MAX] = { 0 }, best;
	unsigned int	 w[BAL_SLOTS_MAX];
	uint16_t	 turns[BAL_TURNS_MAX];
	size_t		 s, k, total = 0, pick, n = bl->nslots;
	char		 why[256];

	if (n > BAL_SLOTS_MAX)
		n = BAL_SLOTS_MAX;
	for (s = 0; s < n; s++) {
		w[s] = holds(app, a, s) ? bl->weight[s] : 0;
		total += w[s];
	}
	if (total > BAL_TURNS_MAX)
		total = BAL_TURNS_MAX;
	for (k = 0; k < total; k++) {
		pick = SIZE_MAX;
		best = 0;
		for (s = 0; s < n; s++) {
			if (w[s] == 0)
				continue;
			cur[s] += w[s];
			if (pick == SIZE_MAX || cur[s] > best) {
				best = cur[s];
				pick = s;
			}
		}
		cur[pick] -= (long long)total;
		turns[k] = (uint16_t)pick;
	}
	if (a->nturns == total &&
	    memcmp(a->turns, turns, total * sizeof(turns[0])) == 0)
		return;
	memcpy(a->turns, turns, total * sizeof(turns[0]));
	a->nturns = total;
	if (a->b != NULL && bal_set_turns(a->b, a->turns, a->nturns, why,
	    sizeof(why)) == -1)
		log_warnx("%s: %s: %s", app->spec->name, a->text, why);
}

/* murmur3's finalizer: the rank of slot for bucket b. */
static uint32_t
rank(uint32_t b, uint32_t slot)
{
	uint32_t	 h = b * 0x9e3779b1u ^ (slot + 1) * 0x85ebca6bu;

	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return (h);
}

/*
 * sticky: each bucket to the slot that ranks highest for it among those
 * that serve a, or went down less than STICKY_GRACE_MS ago; with none
 * such, among every slot that has a socket.
 */
static void
make_buckets(struct app *app, struct bal_addr *a, uint64_t now,
    uint64_t *next)
{
	struct balance	*bl = app->bal;
	size_t		 s, n = a->nfds, ok = 0;
	uint32_t	 b, r, best;
	uint16_t	 buckets[BAL_BUCKETS];
	unsigned char	 cand[BAL_SLOTS_MAX];
	char		 why[256];
	int		 pick, any;

	if (n > bl->nslots)
		n = bl->nslots;
	if (n > BAL_SLOTS_MAX)
		n = BAL_SLOTS_MAX;
	for (s = 0; s < n; s++) {
		cand[s] = holds(app, a, s) || (bl->live_since[s] == 0 &&
		    bl->down_since[s] != 0 && a->fds[s] != -1 &&
		    now - bl->down_since[s] < STICKY_GRACE_MS);
		if (cand[s] && bl->live_since[s] == 0)
			timer_sooner(next, bl->down_since[s] +
			    STICKY_GRACE_MS);
		ok += cand[s];
	}
	any = ok == 0;
	for (b = 0; b < BAL_BUCKETS; b++) {
		pick = -1;
		best = 0;
		for (s = 0; s < n; s++) {
			if (any ? a->fds[s] == -1 : !cand[s])
				continue;
			r = rank(b, (uint32_t)s);
			if (pick == -1 || r > best) {
				best = r;
				pick = (int)s;
			}
		}
		buckets[b] = (uint16_t)(pick == -1 ? 0 : pick);
	}
	if (a->buckets_set && memcmp(buckets, a->buckets,
	    sizeof(buckets)) == 0)
		return;
	memcpy(a->buckets, buckets, sizeof(buckets));
	a->buckets_set = 1;
	if (a->b != NULL && bal_set_buckets(a->b, a->buckets, why,
	    sizeof(why)) == -1)
		log_warnx("%s: %s: %s", app->spec->name, a->text, why);
}

/* Does any online instance still accept on one of a's sockets? */
static int
addr_served(const struct app *app, const struct bal_addr *a)
{
	size_t	 s;

	for (s = 0; s < a->nfds; s++)
		if (holds(app, a, s))
			return (1);
	return (0);
}

/* Rewrite what the programs read, when it changed. */
static void
rewrite(struct app *app)
{
	struct balance	*bl = app->bal;
	struct bal_addr	*a;
	uint64_t	 now = now_ms(), next = 0;
	size_t		 i, n;

	n = (size_t)app->spec->instances;
	for (i = 0; i < bl->na; i++)
		if (bl->a[i]->nfds > n)
			n = bl->a[i]->nfds;
	slots_grow(bl, n);
	update_slots(app, now, &next);
	for (i = 0; i < bl->na; ) {
		a = bl->a[i];
		if (a->retired && !addr_served(app, a)) {
			addr_free(a);
			bl->a[i] = bl->a[--bl->na];
			continue;
		}
		if (bl->mode == BALANCE_ROUND_ROBIN)
			make_turns(app, a);
		else if (bl->mode == BALANCE_STICKY)
			make_buckets(app, a, now, &next);
		i++;
	}
	if (next != 0)
		timer_start(&bl->timer, next > now ? next - now : 0);
	else
		timer_stop(&bl->timer);
}

static void
balance_timer(void *arg)
{
	struct app	*app = arg;

	if (app->bal != NULL)
		rewrite(app);
}

void
balance_sync(struct app *app)
{
	app->rebalance = 0;
	if (!BALANCE_PER_SLOT(app->spec->balance) || app->spec->nlisten == 0 ||
	    app->nfds == 0) {
		balance_free(app);
		return;
	}
	if (app->bal != NULL && app->bal->mode != app->spec->balance)
		balance_free(app);
	if (app->bal == NULL)
		app->bal = balance_new(app);
	sync_sockets(app);
	rewrite(app);
}

void
balances_step(void)
{
	struct app	*app;

	TAILQ_FOREACH(app, &sv->apps, entry)
		if (app->rebalance)
			balance_sync(app);
}

void
balance_refuse(struct app *app)
{
	struct balance	*bl = app->bal;
	char		 why[256];
	size_t		 i;

	for (i = 0; bl != NULL && i < bl->na; i++)
		if (bl->a[i]->b != NULL && bal_is_ebpf(bl->a[i]->b) &&
		    bal_refuse(bl->a[i]->b, why, sizeof(why)) == -1)
			log_warnx("%s: %s: %s", app->spec->name,
			    bl->a[i]->text, why);
}

const char *
balance_engine(const struct app *app)
{
	return (app->bal != NULL ? app->bal->engine : "kernel");
}

const char *
balance_why(const struct app *app)
{
	return (app->bal != NULL ? app->bal->why : "");
}

unsigned int
balance_weight(const struct app *app, int slot)
{
	const struct balance	*bl = app->bal;

	if (bl == NULL || slot < 0 || (size_t)slot >= bl->nslots)
		return (0);
	return (bl->weight[slot]);
}

/* pmc update: when each slot came up or went down (slow_start, sticky). */
void
balance_save(const struct app *app, struct state_out *o)
{
	const struct balance	*bl = app->bal;
	size_t			 s;

	for (s = 0; bl != NULL && s < bl->nslots; s++) {
		state_begin(o, "bslot");
		state_num(o, "slot", (long long)s);
		state_unum(o, "live_since", bl->live_since[s]);
		state_num(o, "live_pid", bl->live_pid[s]);
		state_unum(o, "down_since", bl->down_since[s]);
		state_end(o);
	}
}

/* One "bslot" record; the programs are loaded anew by balance_sync. */
void
balance_load(struct app *app, const struct state_rec *r)
{
	long long	 s = rec_num(r, "slot");

	if (!BALANCE_PER_SLOT(app->spec->balance) || s < 0 || s > 65535)
		return;
	if (app->bal == NULL)
		app->bal = balance_new(app);
	slots_grow(app->bal, (size_t)s + 1);
	app->bal->live_since[s] = rec_unum(r, "live_since");
	app->bal->live_pid[s] = (pid_t)rec_num(r, "live_pid");
	app->bal->down_since[s] = rec_unum(r, "down_since");
	app->rebalance = 1;
}

/*
 * pmc update, before the exec: each socket leaves its eBPF sockarray, so
 * that the new pmcd's program can take it (a socket is in one sockarray
 * at a time).  Until then the program finds no socket and the kernel's
 * hash spreads the new connections: none is refused.  fail: the exec
 * did not happen; new programs are loaded as for a new app.
 */
void
balance_release(int fail)
{
	struct app	*app;
	struct bal_addr	*a;
	size_t		 i, s;
	char		 why[256];

	TAILQ_FOREACH(app, &sv->apps, entry) {
		if (app->bal == NULL)
			continue;
		if (fail) {
			balance_free(app);
			app->rebalance = 1;
			continue;
		}
		for (i = 0; i < app->bal->na; i++) {
			a = app->bal->a[i];
			if (a->b == NULL || !bal_is_ebpf(a->b))
				continue;
			for (s = 0; s < a->nfds; s++)
				if (a->fds[s] != -1)
					bal_set_socket(a->b, (int)s, -1, why,
					    sizeof(why));
		}
	}
}

int
balance_connections(const struct app *app, uint64_t *n)
{
	const struct bal_addr	*a;
	uint32_t		 c;
	size_t			 i;

	*n = 0;
	if (app->bal == NULL || app->bal->na == 0)
		return (-1);
	for (i = 0; i < app->bal->na; i++) {
		a = app->bal->a[i];
		if (a->b == NULL || bal_connections(a->b, &c) == -1)
			return (-1);
		*n += c;
	}
	return (0);
}
