/*
 * cmd-monit.c -- `pmc monit`: every instance on one live screen, redrawn
 * every second, with a short history of its cpu and memory.
 *
 * No curses: ANSI escapes and termios.  The screen is the terminal's
 * alternate one, with the cursor hidden, auto-wrap off and the terminal
 * out of canonical mode and echo; all of it is undone on every way out:
 * q, SIGINT (Ctrl-C), SIGTERM, SIGHUP, SIGQUIT, an error, and around a
 * stop by SIGTSTP (Ctrl-Z).  Signals arrive on a signalfd, keys on stdin,
 * the refreshes on a timerfd, and one poll() waits for all three.
 *
 * A pmcd that stops answering is shown as such in the header, and asked
 * again every second until it answers.  Asking is bounded in time
 * (MONIT_TIMEOUT_S for the connect, for each send and each receive), so a
 * stopped pmcd delays a key or a signal by a few seconds at most.
 */
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/timerfd.h>

#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "home.h"
#include "human.h"
#include "listing.h"
#include "protocol.h"

#define MONIT_REFRESH_MS	1000
#define MONIT_HISTORY		120	/* samples kept per instance */
#define MONIT_HISTORY_MIN	12	/* narrower: no history column */
#define MONIT_TIMEOUT_S		2	/* pmcd must answer within */
#define MONIT_NAME_MAX		24	/* widest NAME column */
#define MONIT_GAP		2	/* spaces between columns */
#define MONIT_TOP		3	/* lines above the rows */

static int	cmd_monit_exec(struct cmd *);

const struct cmd_entry cmd_monit_entry = {
	.name = "monit",
	.getopt = "",
	.lower = 0,
	.upper = 0,
	.usage = "",
	.help = "Show every instance live, with its cpu and memory history; "
	    "q quits.",
	.exec = cmd_monit_exec
};

/* The history of one row, kept across refreshes. */
struct monit_slot {
	char			 name[SPEC_NAME_MAX + 1];
	unsigned long long	 instance;
	int			 dup;	/* 1: a reload's new instance */
	size_t			 n;	/* samples, the newest last */
	double			 cpu[MONIT_HISTORY];	/* -1: not running */
	unsigned long long	 mem[MONIT_HISTORY];
};

struct monit {
	struct list_rows	 rows;
	struct monit_slot	*slots;	/* one per row, in the same order */
	int			 answering;
	char			 why[256];	/* when not answering */
	char			 since[16];	/* not answering since */
	int			 width;
	int			 height;
	int			 utf8;

	int			 ttyfd;
	struct termios		 saved;
	int			 on;	/* the screen is set up */
	int			 sigfd;
	int			 timerfd;	/* the next refresh */
	int			 keys;	/* stdin is the terminal: read q */

	char			 error[128];	/* why the loop failed */
	struct pbuf		 out;	/* the frame */
	int			 col;	/* columns used on its line */
};

/* The columns before the history ones; NAME's width varies. */
static const struct {
	const char	*title;
	int		 width;
} monit_columns[] = {
	{ "NAME", 4 }, { "INST", 4 }, { "PID", 7 }, { "STATUS", 8 },
	{ "CPU", 6 }, { "MEM", 7 }, { "UPTIME", 6 }, { "RESTARTS", 8 }
};
#define MONIT_NCOLUMNS	(sizeof(monit_columns) / sizeof(monit_columns[0]))

static const char *const spark_utf8[8] = {
	"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
	"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"
};
static const char spark_ascii[] = "_.:-=+*#";

/* The one monit, for the atexit handler. */
static struct monit	*monit_atexit;

/* --- the terminal --------------------------------------------------------- */

static void
term_write(int fd, const char *s, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += n;
		len -= (size_t)n;
	}
}

static void
term_size(struct monit *m)
{
	struct winsize	 ws;

	m->width = 80;
	m->height = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 &&
	    ws.ws_row > 0) {
		m->width = ws.ws_col;
		m->height = ws.ws_row;
	}
}

/* Alternate screen, cursor hidden, no auto-wrap, no echo, no line mode. */
static int
term_on(struct monit *m)
{
	static const char	 enter[] = "\033[?1049h\033[?25l\033[?7l\033[2J";
	struct termios		 t;

	if (tcgetattr(m->ttyfd, &m->saved) == -1) {
		fprintf(stderr, "pmc: monit: tcgetattr: %s\n", strerror(errno));
		return (-1);
	}
	t = m->saved;
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(m->ttyfd, TCSANOW, &t) == -1) {
		fprintf(stderr, "pmc: monit: tcsetattr: %s\n", strerror(errno));
		return (-1);
	}
	m->on = 1;
	term_write(STDOUT_FILENO, enter, sizeof(enter) - 1);
	return (0);
}

/* Undo term_on; harmless when it was not done or is undone already. */
static void
term_off(struct monit *m)
{
	static const char	 leave[] = "\033[0m\033[?7h\033[?25h\033[?1049l";

	if (!m->on)
		return;
	m->on = 0;
	term_write(STDOUT_FILENO, leave, sizeof(leave) - 1);
	tcsetattr(m->ttyfd, TCSANOW, &m->saved);
}

static void
term_off_atexit(void)
{
	if (monit_atexit != NULL)
		term_off(monit_atexit);
}

/* Ctrl-Z: give the terminal back, stop, and take it again on SIGCONT. */
static void
term_suspend(struct monit *m)
{
	term_off(m);
	raise(SIGSTOP);
	term_size(m);
	term_on(m);
}

/* --- the frame ------------------------------------------------------------ */

static void
line_start(struct monit *m, int y)
{
	pbuf_printf(&m->out, "\033[%d;1H", y);
	m->col = 0;
}

/* The rest of the line blank: erasing from the last column would eat it. */
static void
line_end(struct monit *m)
{
	if (m->col < m->width)
		pbuf_printf(&m->out, "\033[K");
}

/* Printable ASCII text, cut at the right edge. */
static void
put(struct monit *m, const char *s)
{
	size_t	 len = strlen(s);

	if (len > (size_t)(m->width - m->col))
		len = (size_t)(m->width - m->col);
	pbuf_add(&m->out, s, len);
	m->col += (int)len;
}

static void __attribute__((__format__(__printf__, 2, 3)))
putf(struct monit *m, const char *fmt, ...)
{
	char	 buf[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(m, buf);
}

/* s, then spaces up to width and the gap. */
static void
put_cell(struct monit *m, const char *s, int width, int last)
{
	char	 buf[MONIT_HISTORY + MONIT_NAME_MAX + 16];

	snprintf(buf, sizeof(buf), "%-*.*s%*s", width, width, s,
	    last ? 0 : MONIT_GAP, "");
	put(m, buf);
}

/* One block of a sparkline, level 0 (nothing) to 8. */
static void
put_spark(struct monit *m, int level)
{
	if (m->col >= m->width)
		return;
	if (level <= 0)
		pbuf_add(&m->out, " ", 1);
	else if (m->utf8)
		pbuf_printf(&m->out, "%s", spark_utf8[level - 1]);
	else
		pbuf_add(&m->out, &spark_ascii[level - 1], 1);
	m->col++;
}

/* 0 < v <= max as a level 1..8; 0 counts as 1, the floor. */
static int
spark_level(double v, double max)
{
	double	 x;
	int	 level;

	if (v < 0)
		return (0);
	if (max <= 0)
		return (1);
	x = v / max * 8;
	level = (int)x;
	if (x > level)
		level++;	/* rounded up: any use shows */
	return (level < 1 ? 1 : level > 8 ? 8 : level);
}

/* --- the data ------------------------------------------------------------- */

/* The slot of old that row i's (name, instance, dup) had, or NULL. */
static struct monit_slot *
slot_find(struct monit_slot *old, size_t nold, const struct list_row *row,
    int dup)
{
	size_t	 i;

	for (i = 0; i < nold; i++) {
		if (old[i].instance == row->instance && old[i].dup == dup &&
		    strcmp(old[i].name, row->name) == 0)
			return (&old[i]);
	}
	return (NULL);
}

static void
slot_push(struct monit_slot *s, const struct list_row *row)
{
	if (s->n == MONIT_HISTORY) {
		memmove(s->cpu, s->cpu + 1, (MONIT_HISTORY - 1) *
		    sizeof(*s->cpu));
		memmove(s->mem, s->mem + 1, (MONIT_HISTORY - 1) *
		    sizeof(*s->mem));
		s->n--;
	}
	s->cpu[s->n] = row->pid != 0 ? row->cpu : -1;
	s->mem[s->n] = row->pid != 0 ? row->memory : 0;
	s->n++;
}

/*
 * Row i is a second one for its app and instance: a reload's new
 * instance, which follows the other rows of its app.
 */
static int
slot_repeated(const struct list_rows *rows, size_t i)
{
	const struct list_row	*row = &rows->v[i];
	size_t			 k;

	for (k = i; k > 0 && strcmp(rows->v[k - 1].name, row->name) == 0;
	    k--) {
		if (rows->v[k - 1].instance == row->instance)
			return (1);
	}
	return (0);
}

/* New rows: carry each one's history over and add this sample. */
static int
slots_update(struct monit *m, struct monit_slot *old, size_t nold)
{
	struct monit_slot	*s, *prev;
	const struct list_row	*row;
	size_t			 i;
	int			 dup;

	m->slots = calloc(m->rows.n != 0 ? m->rows.n : 1, sizeof(*m->slots));
	if (m->slots == NULL)
		return (-1);
	for (i = 0; i < m->rows.n; i++) {
		row = &m->rows.v[i];
		s = &m->slots[i];
		dup = slot_repeated(&m->rows, i);
		if ((prev = slot_find(old, nold, row, dup)) != NULL)
			*s = *prev;
		else {
			strlcpy(s->name, row->name, sizeof(s->name));
			s->instance = row->instance;
			s->dup = dup;
		}
		slot_push(s, row);
	}
	return (0);
}

/* Ask pmcd for the rows; on failure, say so in the header. */
static int
monit_fetch(struct monit *m)
{
	struct monit_slot	*old = m->slots;
	struct timeval		 tv = { MONIT_TIMEOUT_S, 0 };
	struct tm		*tm;
	size_t			 nold = m->rows.n;
	time_t			 now;
	int			 fd, r = -1;

	listing_clear(&m->rows);
	m->slots = NULL;
	/* Bounded: a stopped pmcd must not keep q and Ctrl-C waiting. */
	if ((fd = client_connect_within(MONIT_TIMEOUT_S)) == -1) {
		if (errno == ETIMEDOUT)
			snprintf(m->why, sizeof(m->why), "connect: not "
			    "accepted within %d seconds", MONIT_TIMEOUT_S);
		else
			snprintf(m->why, sizeof(m->why), "connect: %s",
			    strerror(errno));
	} else {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		r = listing_fetch(fd, &m->rows, m->why, sizeof(m->why));
		close(fd);
	}
	if (r == -1) {
		listing_clear(&m->rows);
		if (m->answering) {
			now = time(NULL);
			tm = localtime(&now);
			strftime(m->since, sizeof(m->since), "%H:%M:%S", tm);
		}
		m->answering = 0;
	} else
		m->answering = 1;
	if (slots_update(m, old, r == -1 ? 0 : nold) == -1) {
		snprintf(m->error, sizeof(m->error), "%s", strerror(errno));
		free(old);
		return (-1);
	}
	free(old);
	return (0);
}

/* --- drawing -------------------------------------------------------------- */

/* The pid in $PMC_HOME/pmcd.pid, or 0. */
static long
pmcd_pid(void)
{
	char	 path[PATH_MAX];
	FILE	*f;
	long	 pid = 0;

	home_path(path, sizeof(path), "pmcd.pid");
	if ((f = fopen(path, "re")) != NULL) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid);
}

static void
draw_header(struct monit *m)
{
	char			 mem[32], clock[16], who[32];
	unsigned long long	 memory = 0;
	long			 pid;
	double			 cpu = 0;
	size_t			 i, online = 0, apps = 0;
	time_t			 now = time(NULL);

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
	line_start(m, 1);
	if (!m->answering) {
		putf(m, "pmc monit  %s  pmcd not answering since %s: %s; "
		    "retrying every second", clock, m->since, m->why);
		line_end(m);
		return;
	}
	for (i = 0; i < m->rows.n; i++) {
		if (i == 0 || strcmp(m->rows.v[i].name,
		    m->rows.v[i - 1].name) != 0)
			apps++;
		if (strcmp(m->rows.v[i].status, "online") == 0)
			online++;
		cpu += m->rows.v[i].cpu;
		memory += m->rows.v[i].memory;
	}
	human_size(memory, mem, sizeof(mem));
	if ((pid = pmcd_pid()) > 0)
		snprintf(who, sizeof(who), "pmcd %ld", pid);
	else
		strlcpy(who, "pmcd", sizeof(who));
	putf(m, "pmc monit  %s  %s  apps %zu  instances %zu (%zu online)"
	    "  cpu %.1f%%  mem %s", clock, who, apps, m->rows.n,
	    online, cpu, mem);
	line_end(m);
}

/* The width of NAME: its longest value, within bounds. */
static int
name_width(const struct monit *m)
{
	size_t	 i, w = strlen(monit_columns[0].title), len;

	for (i = 0; i < m->rows.n; i++) {
		if ((len = strlen(m->rows.v[i].name)) > w)
			w = len;
	}
	return (w > MONIT_NAME_MAX ? MONIT_NAME_MAX : (int)w);
}

/* The width of each history column, 0 when there is no room. */
static int
history_width(const struct monit *m, int namew)
{
	size_t	 i;
	int	 used = namew + MONIT_GAP, w;

	for (i = 1; i < MONIT_NCOLUMNS; i++)
		used += monit_columns[i].width + MONIT_GAP;
	w = (m->width - used - MONIT_GAP) / 2;
	if (w < MONIT_HISTORY_MIN)
		return (0);
	return (w > MONIT_HISTORY ? MONIT_HISTORY : w);
}

static void
draw_titles(struct monit *m, int namew, int histw)
{
	size_t	 i;

	line_start(m, MONIT_TOP);
	pbuf_printf(&m->out, "\033[7m");
	for (i = 0; i < MONIT_NCOLUMNS; i++)
		put_cell(m, monit_columns[i].title, i == 0 ? namew :
		    monit_columns[i].width, i == MONIT_NCOLUMNS - 1 &&
		    histw == 0);
	if (histw != 0) {
		put_cell(m, "CPU HISTORY", histw, 0);
		put_cell(m, "MEM HISTORY", histw, 1);
	}
	/* The bar across the whole width. */
	while (m->col < m->width)
		put(m, " ");
	pbuf_printf(&m->out, "\033[0m");
}

/* The last w samples of s, oldest left; blank before its first one. */
static void
draw_history(struct monit *m, const struct monit_slot *s, int w, int mem,
    double memmax)
{
	size_t	 i, from;
	int	 k;

	from = s->n > (size_t)w ? s->n - (size_t)w : 0;
	for (k = (int)(s->n - from); k < w; k++)
		put_spark(m, 0);
	for (i = from; i < s->n; i++) {
		if (mem)
			put_spark(m, s->cpu[i] < 0 ? 0 :
			    spark_level((double)s->mem[i], memmax));
		else
			put_spark(m, spark_level(s->cpu[i], 100));
	}
}

static void
draw_row(struct monit *m, size_t r, int y, int namew, int histw,
    double memmax)
{
	const struct list_row	*row = &m->rows.v[r];
	char			 cell[MONIT_NCOLUMNS][SPEC_NAME_MAX + 1];
	size_t			 i;

	snprintf(cell[0], sizeof(cell[0]), "%s", row->name);
	snprintf(cell[1], sizeof(cell[0]), "%llu", row->instance);
	snprintf(cell[3], sizeof(cell[0]), "%s", row->status);
	snprintf(cell[7], sizeof(cell[0]), "%llu", row->restarts);
	if (row->pid == 0) {
		strlcpy(cell[2], "-", 32);
		strlcpy(cell[4], "-", 32);
		strlcpy(cell[5], "-", 32);
		strlcpy(cell[6], "-", 32);
	} else {
		snprintf(cell[2], sizeof(cell[0]), "%llu", row->pid);
		snprintf(cell[4], sizeof(cell[0]), "%.1f%%", row->cpu);
		human_size(row->memory, cell[5], sizeof(cell[0]));
		human_uptime(row->uptime_ms, cell[6], sizeof(cell[0]));
	}
	line_start(m, y);
	for (i = 0; i < MONIT_NCOLUMNS; i++)
		put_cell(m, cell[i], i == 0 ? namew : monit_columns[i].width,
		    i == MONIT_NCOLUMNS - 1 && histw == 0);
	if (histw != 0) {
		draw_history(m, &m->slots[r], histw, 0, 0);
		put_cell(m, "", 0, 0);
		draw_history(m, &m->slots[r], histw, 1, memmax);
	}
	line_end(m);
}

/* The largest memory sample on screen: the top of the MEM scale. */
static double
memory_max(const struct monit *m)
{
	unsigned long long	 max = 0;
	size_t			 i, k;

	for (i = 0; i < m->rows.n; i++) {
		for (k = 0; k < m->slots[i].n; k++) {
			if (m->slots[i].mem[k] > max)
				max = m->slots[i].mem[k];
		}
	}
	return ((double)max);
}

static void
draw_rows(struct monit *m)
{
	int	 namew = name_width(m), histw = history_width(m, namew);
	int	 y = MONIT_TOP + 1, room = m->height - MONIT_TOP;
	double	 memmax = memory_max(m);
	size_t	 r, shown;

	draw_titles(m, namew, histw);
	if (room <= 0)
		return;
	shown = m->rows.n <= (size_t)room ? m->rows.n : (size_t)room - 1;
	for (r = 0; r < shown; r++)
		draw_row(m, r, y++, namew, histw, memmax);
	if (shown < m->rows.n) {
		line_start(m, y++);
		putf(m, "... %zu more (a taller window shows them)",
		    m->rows.n - shown);
		line_end(m);
	} else if (m->rows.n == 0 && m->answering) {
		line_start(m, y++);
		put(m, "no apps (pmc start FILE runs some)");
		line_end(m);
	}
	if (y <= m->height)
		pbuf_printf(&m->out, "\033[%d;1H\033[J", y);
}

static void
monit_draw(struct monit *m)
{
	m->out.len = 0;
	draw_header(m);
	if (m->height >= 2) {
		line_start(m, 2);
		put(m, "q: quit  (refreshed every second)");
		line_end(m);
	}
	if (m->height >= MONIT_TOP)
		draw_rows(m);
	term_write(STDOUT_FILENO, m->out.data, m->out.len);
}

/* --- the loop ------------------------------------------------------------- */

/* 1: quit; 0: go on. */
static int
monit_signal(struct monit *m)
{
	struct signalfd_siginfo	 si;

	if (read(m->sigfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return (0);
	switch (si.ssi_signo) {
	case SIGWINCH:
		term_size(m);
		term_write(STDOUT_FILENO, "\033[2J", 4);
		monit_draw(m);
		return (0);
	case SIGTSTP:
		term_suspend(m);
		monit_draw(m);
		return (0);
	}
	return (1);	/* SIGINT, SIGTERM, SIGHUP, SIGQUIT */
}

/* 1: quit (q, or the terminal is gone); 0: go on. */
static int
monit_key(void)
{
	char	 buf[64];
	ssize_t	 n, i;

	if ((n = read(STDIN_FILENO, buf, sizeof(buf))) == -1)
		return (errno != EINTR && errno != EAGAIN);
	if (n == 0)
		return (1);
	for (i = 0; i < n; i++) {
		if (buf[i] == 'q' || buf[i] == 'Q')
			return (1);
	}
	return (0);
}

/* Refresh now and then every MONIT_REFRESH_MS: the deadline of poll(). */
static int
monit_timer(struct monit *m)
{
	struct itimerspec	 its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 1;
	its.it_interval.tv_sec = MONIT_REFRESH_MS / 1000;
	its.it_interval.tv_nsec = (MONIT_REFRESH_MS % 1000) * 1000000L;
	if ((m->timerfd = timerfd_create(CLOCK_MONOTONIC,
	    TFD_CLOEXEC | TFD_NONBLOCK)) == -1 ||
	    timerfd_settime(m->timerfd, 0, &its, NULL) == -1) {
		fprintf(stderr, "pmc: monit: timerfd: %s\n", strerror(errno));
		return (-1);
	}
	return (0);
}

static int
monit_loop(struct monit *m)
{
	struct pollfd	 pfd[3];
	uint64_t	 ticks;

	for (;;) {
		pfd[0].fd = m->sigfd;
		pfd[1].fd = m->keys ? STDIN_FILENO : -1;
		pfd[2].fd = m->timerfd;
		pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
		if (poll(pfd, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(m->error, sizeof(m->error), "poll: %s",
			    strerror(errno));
			return (PMC_EXIT_FAIL);
		}
		if ((pfd[0].revents & POLLIN) && monit_signal(m))
			return (PMC_EXIT_OK);
		if (pfd[1].revents != 0 && monit_key())
			return (PMC_EXIT_OK);
		if ((pfd[2].revents & POLLIN) &&
		    read(m->timerfd, &ticks, sizeof(ticks)) > 0) {
			if (monit_fetch(m) == -1)
				return (PMC_EXIT_FAIL);
			monit_draw(m);
		}
	}
}

/* Signals that end or disturb the view come through a signalfd. */
static int
monit_signals(struct monit *m)
{
	sigset_t	 set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGTSTP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (m->sigfd = signalfd(-1, &set, SFD_CLOEXEC)) == -1) {
		fprintf(stderr, "pmc: monit: signalfd: %s\n", strerror(errno));
		return (-1);
	}
	return (0);
}

/* UTF-8 blocks for the history when the locale's charset is UTF-8. */
static int
locale_utf8(void)
{
	if (setlocale(LC_CTYPE, "") == NULL)
		return (0);
	return (strcmp(nl_langinfo(CODESET), "UTF-8") == 0);
}

static int
cmd_monit_exec(struct cmd *cmd)
{
	struct monit	 m;
	const char	*term;
	int		 fd, r;

	(void)cmd;
	if (!isatty(STDOUT_FILENO)) {
		fprintf(stderr, "pmc: monit: needs a terminal (standard output "
		    "is not one); use pmc list or pmc metrics\n");
		return (PMC_EXIT_USAGE);
	}
	if ((term = getenv("TERM")) != NULL && strcmp(term, "dumb") == 0) {
		fprintf(stderr, "pmc: monit: TERM is dumb: needs a terminal "
		    "that takes ANSI escapes; use pmc list\n");
		return (PMC_EXIT_USAGE);
	}
	/* No pmcd at all: say so now, as every verb does. */
	if ((fd = client_open()) == -1)
		return (PMC_EXIT_FAIL);
	close(fd);

	memset(&m, 0, sizeof(m));
	m.answering = 1;
	m.utf8 = locale_utf8();
	m.keys = isatty(STDIN_FILENO);
	m.ttyfd = m.keys ? STDIN_FILENO : STDOUT_FILENO;
	m.sigfd = m.timerfd = -1;
	if (monit_signals(&m) == -1 || monit_timer(&m) == -1)
		r = PMC_EXIT_FAIL;
	else {
		term_size(&m);
		monit_atexit = &m;
		atexit(term_off_atexit);
		r = term_on(&m) == -1 ? PMC_EXIT_FAIL : monit_loop(&m);
		term_off(&m);
		monit_atexit = NULL;
		/* Once the screen is back, where it can be read. */
		if (*m.error != '\0')
			fprintf(stderr, "pmc: monit: %s\n", m.error);
	}
	if (m.sigfd != -1)
		close(m.sigfd);
	if (m.timerfd != -1)
		close(m.timerfd);
	listing_clear(&m.rows);
	free(m.slots);
	pbuf_free(&m.out);
	return (r);
}
