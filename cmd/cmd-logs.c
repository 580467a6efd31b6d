/*
 * cmd-logs.c -- `pmc logs [NAME] [-n N] [-f] [--out|--err] [--instance I]`:
 * the last lines of apps' log files, then, with -f, what comes after.
 *
 * pmcd only says where the files are (MSG_LOGS); pmc reads them itself
 * and keeps no connection open, so a slow or stopped reader never holds
 * pmcd up.  The tail reads back into the rotated files (x.log.1, x.log.2
 * ... up to logs.keep) when the current one has too few lines.  -f polls
 * every FOLLOW_MS; a new inode at the path (rotation, a reopen after
 * logrotate) or a shrunken file (pmc flush) makes it start again at the
 * beginning, after what the old descriptor still holds.
 *
 * The files may be written by an app's user: pmc opens them with
 * O_NOFOLLOW and O_NONBLOCK and reads only regular files, and escapes
 * what it prints when stdout is a terminal (human_text).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "human.h"
#include "protocol.h"
#include "spec.h"

#define LOGS_DEFAULT_LINES	15
#define LOGS_MAX_LINES		100000000ULL
#define FOLLOW_MS		100
#define READ_CHUNK		65536
#define LINE_CAP		(1024 * 1024)	/* longer: shown in pieces */
#define LAST_BYTES		64	/* kept to see a file rewritten */

static int	cmd_logs_exec(struct cmd *);

static const struct option cmd_logs_longopts[] = {
	{ "lines", required_argument, NULL, 'n' },
	{ "follow", no_argument, NULL, 'f' },
	{ "out", no_argument, NULL, 'o' },
	{ "err", no_argument, NULL, 'e' },
	{ "instance", required_argument, NULL, 'i' },
	{ NULL, 0, NULL, 0 }
};

const struct cmd_entry cmd_logs_entry = {
	.name = "logs",
	.getopt = "n:f",
	.longopts = cmd_logs_longopts,
	.lower = 0,
	.upper = 1,
	.usage = "[NAME] [-n N] [-f] [--out|--err] [--instance I]",
	.help = "Show the last N (15) lines of each log file, then with -f "
	    "follow them; lines of several files start \"APP out | \" or "
	    "\"APP err | \".",
	.exec = cmd_logs_exec
};

/* One file pmcd named, and how far pmc has read it. */
struct logsrc {
	char		 app[SPEC_NAME_MAX + 1];
	int		 err;
	char		*path;
	unsigned int	 keep;
	int		 fd;		/* the current file, -f */
	dev_t		 dev;
	ino_t		 ino;
	off_t		 off;		/* bytes read from fd */
	char		 last[LAST_BYTES];	/* the last ones read */
	size_t		 lastlen;
	int		 refused;	/* said once, until it changes */
	char		*buf;		/* a line not yet whole */
	size_t		 len, cap;
};

struct logsrcs {
	struct logsrc	*v;
	size_t		 n;
};

/* The last lines seen, up to want of them. */
struct ring {
	char		**v;
	size_t		  n, cap, head, want;
};

struct opts {
	unsigned long long	 lines;
	int			 follow;
	int			 streams;	/* bit 0: out, bit 1: err */
	char			 tag[32];	/* "[I] ", or "" */
	size_t			 taglen;
	int			 prefix;	/* several files: name them */
	int			 escape;	/* stdout is a terminal */
};

typedef void (*line_fn)(const char *, size_t, void *);

static volatile sig_atomic_t	 logs_stop;
static int			 logs_failed;	/* a file was refused */

static int
parse_count(const char *s, unsigned long long max, unsigned long long *out)
{
	const char	*p;

	if (*s == '\0' || strlen(s) > 20)
		return (-1);
	for (p = s; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return (-1);
	errno = 0;
	*out = strtoull(s, NULL, 10);
	return (errno != 0 || *out > max ? -1 : 0);
}

/* client_data_fn: "name\tout|err\tpath\tkeep". */
static int
add_src(const char *record, void *arg)
{
	struct logsrcs		*srcs = arg;
	struct logsrc		*v, *s;
	char			*copy, *p, *col[4];
	unsigned long long	 keep;
	int			 n, r = -1;

	if ((copy = strdup(record)) == NULL)
		return (-1);
	for (n = 0, p = copy; n < 4 && p != NULL; n++)
		col[n] = strsep(&p, "\t");
	if (n != 4 || p != NULL || *col[0] == '\0' ||
	    strlen(col[0]) > SPEC_NAME_MAX || *col[2] == '\0' ||
	    (strcmp(col[1], "out") != 0 && strcmp(col[1], "err") != 0) ||
	    parse_count(col[3], SPEC_LOG_KEEP_MAX, &keep) == -1)
		goto out;
	v = reallocarray(srcs->v, srcs->n + 1, sizeof(*srcs->v));
	if (v == NULL)
		goto out;
	srcs->v = v;
	s = &v[srcs->n];
	memset(s, 0, sizeof(*s));
	if ((s->path = strdup(col[2])) == NULL)
		goto out;
	strlcpy(s->app, col[0], sizeof(s->app));
	s->err = strcmp(col[1], "err") == 0;
	s->keep = (unsigned int)keep;
	s->fd = -1;
	srcs->n++;
	r = 0;
out:
	free(copy);
	return (r);
}

/* --- lines ------------------------------------------------------------------ */

/* "2026-11-22T01:01:18.134Z ": the timestamp pmcd may put first. */
static size_t
timestamp_len(const char *line, size_t len)
{
	if (len >= 25 && line[4] == '-' && line[7] == '-' && line[10] == 'T' &&
	    line[13] == ':' && line[16] == ':' && line[19] == '.' &&
	    line[23] == 'Z' && line[24] == ' ')
		return (25);
	return (0);
}

static int
wanted(const struct opts *o, const char *line, size_t len)
{
	size_t	 t;

	if (o->taglen == 0)
		return (1);
	t = timestamp_len(line, len);
	return (len - t >= o->taglen &&
	    memcmp(line + t, o->tag, o->taglen) == 0);
}

static void
print_line(const struct opts *o, const struct logsrc *s, const char *line,
    size_t len)
{
	if (o->prefix)
		printf("%s %s | ", s->app, s->err ? "err" : "out");
	if (o->escape)
		human_text(stdout, line, len);
	else
		fwrite(line, 1, len, stdout);
	putchar('\n');
}

static void
ring_push(struct ring *r, const char *line, size_t len)
{
	char	**v, *copy;
	size_t	  cap;

	if (r->want == 0 || (copy = strndup(line, len)) == NULL)
		return;
	if (r->n < r->want) {
		if (r->n == r->cap) {
			cap = r->cap == 0 ? 64 : r->cap * 2;
			if (cap > r->want)
				cap = r->want;
			if ((v = reallocarray(r->v, cap, sizeof(*v))) == NULL) {
				free(copy);
				return;
			}
			r->v = v;
			r->cap = cap;
		}
		r->v[r->n++] = copy;
		return;
	}
	free(r->v[r->head]);
	r->v[r->head] = copy;
	r->head = (r->head + 1) % r->n;
}

static void
ring_print(const struct opts *o, const struct logsrc *s, struct ring *r)
{
	size_t	 i;
	char	*line;

	for (i = 0; i < r->n; i++) {
		line = r->v[(r->head + i) % r->n];
		print_line(o, s, line, strlen(line));
		free(line);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Keep the last LAST_BYTES read, to compare with the file later. */
static void
remember(struct logsrc *s, const char *p, size_t n)
{
	size_t	 keep;

	if (n >= LAST_BYTES) {
		memcpy(s->last, p + n - LAST_BYTES, LAST_BYTES);
		s->lastlen = LAST_BYTES;
		return;
	}
	keep = s->lastlen + n > LAST_BYTES ? LAST_BYTES - n : s->lastlen;
	memmove(s->last, s->last + s->lastlen - keep, keep);
	memcpy(s->last + keep, p, n);
	s->lastlen = keep + n;
}

/*
 * Emptied since read (pmc flush), maybe written again since: smaller than
 * what was read, or not holding what was read at its end.
 */
static int
rewritten(const struct logsrc *s)
{
	struct stat	 sb;
	char		 now[LAST_BYTES];

	if (fstat(s->fd, &sb) == -1)
		return (0);
	if (sb.st_size < s->off)
		return (1);
	if (s->lastlen == 0)
		return (0);
	return (pread(s->fd, now, s->lastlen, s->off - (off_t)s->lastlen) !=
	    (ssize_t)s->lastlen || memcmp(now, s->last, s->lastlen) != 0);
}

/*
 * Read fd to its end, handing each whole line to fn; a line not yet
 * whole stays in s->buf.  -1 on a read error.
 */
static int
drain(struct logsrc *s, int fd, line_fn fn, void *arg)
{
	char	*nl, *start, *nb;
	size_t	 left;
	ssize_t	 n;

	for (;;) {
		if (s->cap - s->len < READ_CHUNK) {
			if ((nb = realloc(s->buf, s->cap + READ_CHUNK)) ==
			    NULL)
				return (-1);
			s->buf = nb;
			s->cap += READ_CHUNK;
		}
		n = read(fd, s->buf + s->len, s->cap - s->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (n == 0 ? 0 : -1);
		remember(s, s->buf + s->len, (size_t)n);
		s->off += n;
		s->len += (size_t)n;
		start = s->buf;
		left = s->len;
		while ((nl = memchr(start, '\n', left)) != NULL) {
			fn(start, (size_t)(nl - start), arg);
			left -= (size_t)(nl - start) + 1;
			start = nl + 1;
		}
		if (left >= LINE_CAP) {
			fn(start, left, arg);
			left = 0;
		}
		memmove(s->buf, start, left);
		s->len = left;
	}
}

/* What drain left: a last line without its newline. */
static void
drain_rest(struct logsrc *s, line_fn fn, void *arg)
{
	if (s->len > 0)
		fn(s->buf, s->len, arg);
	s->len = 0;
}

/* --- the tail --------------------------------------------------------------- */

struct tail_arg {
	const struct opts	*o;
	struct ring		*r;
};

static void
tail_line(const char *line, size_t len, void *arg)
{
	struct tail_arg	*ta = arg;

	if (wanted(ta->o, line, len))
		ring_push(ta->r, line, len);
}

/* The last r->want wanted lines of one file into r. */
static void
tail_file(const struct opts *o, struct logsrc *s, int fd, struct ring *r,
    int keep_partial)
{
	struct tail_arg	 ta = { o, r };

	if (drain(s, fd, tail_line, &ta) == -1)
		fprintf(stderr, "pmc: logs: %s: %s\n", s->path,
		    strerror(errno));
	if (!keep_partial)
		drain_rest(s, tail_line, &ta);
}

/*
 * Open a log file to read: never through a link, never waiting on a
 * FIFO, and only a regular file.  -1 when there is none, or when it is
 * refused (said unless quiet).
 */
static int
open_log(const char *path, struct stat *sb, int quiet)
{
	const char	*why;
	int		 fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT)
		return (-1);
	if (fd == -1)
		why = errno == ELOOP ? "a symbolic link, not followed" :
		    strerror(errno);
	else if (fstat(fd, sb) == -1)
		why = strerror(errno);
	else if (!S_ISREG(sb->st_mode))
		why = "not a regular file";
	else
		return (fd);
	if (fd != -1)
		close(fd);
	if (!quiet)
		fprintf(stderr, "pmc: logs: %s: %s\n", path, why);
	logs_failed = 1;
	return (-1);
}

static int
open_current(struct logsrc *s)
{
	struct stat	 sb;

	s->fd = open_log(s->path, &sb, s->refused);
	/* A refusal is said once, not at each poll of -f. */
	s->refused = s->fd == -1 && errno != ENOENT;
	if (s->fd == -1)
		return (-1);
	s->dev = sb.st_dev;
	s->ino = sb.st_ino;
	s->off = 0;
	s->len = 0;
	s->lastlen = 0;
	return (0);
}

/* The last o->lines lines of s: its current file, then the rotated ones. */
static void
tail(const struct opts *o, struct logsrc *s)
{
	struct ring	*rings;
	struct logsrc	 old;
	struct stat	 sb;
	char		 name[PATH_MAX + 16];
	size_t		 got = 0;
	unsigned int	 i;
	int		 fd;

	if ((rings = calloc(s->keep + 1, sizeof(*rings))) == NULL)
		return;
	if (open_current(s) == 0) {
		rings[0].want = o->lines;
		tail_file(o, s, s->fd, &rings[0], o->follow);
		got = rings[0].n;
		if (!o->follow) {
			close(s->fd);
			s->fd = -1;
		}
	}
	for (i = 1; i <= s->keep && got < o->lines; i++) {
		snprintf(name, sizeof(name), "%s.%u", s->path, i);
		if ((fd = open_log(name, &sb, 0)) == -1)
			break;
		rings[i].want = o->lines - got;
		memset(&old, 0, sizeof(old));
		old.path = name;
		tail_file(o, &old, fd, &rings[i], 0);
		free(old.buf);
		got += rings[i].n;
		close(fd);
	}
	for (i = s->keep + 1; i-- > 0;)
		ring_print(o, s, &rings[i]);
	free(rings);
}

/* --- following -------------------------------------------------------------- */

struct follow_arg {
	const struct opts	*o;
	const struct logsrc	*s;
};

static void
follow_line(const char *line, size_t len, void *arg)
{
	struct follow_arg	*fa = arg;

	if (wanted(fa->o, line, len))
		print_line(fa->o, fa->s, line, len);
}

/*
 * The old file of s is now x.log.<k>: show x.log.<k-1> ... x.log.1 whole,
 * the files it rotated through between two polls.  Not found (moved
 * away, or rotated out already): nothing to add.
 */
static void
follow_missed(const struct logsrc *s, struct follow_arg *fa)
{
	struct logsrc	 old;
	struct stat	 sb;
	char		 name[PATH_MAX + 16];
	unsigned int	 k, j;
	int		 fd;

	for (k = 1; k <= s->keep; k++) {
		snprintf(name, sizeof(name), "%s.%u", s->path, k);
		if (lstat(name, &sb) == 0 && sb.st_dev == s->dev &&
		    sb.st_ino == s->ino)
			break;
	}
	if (k > s->keep)
		return;
	for (j = k - 1; j >= 1; j--) {
		snprintf(name, sizeof(name), "%s.%u", s->path, j);
		if ((fd = open_log(name, &sb, 0)) == -1)
			continue;
		memset(&old, 0, sizeof(old));
		old.path = name;
		drain(&old, fd, follow_line, fa);
		drain_rest(&old, follow_line, fa);
		free(old.buf);
		close(fd);
	}
}

/* New lines of s; the file at its path anew when it was replaced. */
static void
follow_one(const struct opts *o, struct logsrc *s)
{
	struct follow_arg	 fa = { o, s };
	struct stat		 sb;

	if (s->fd == -1) {
		if (open_current(s) == -1)
			return;
	}
	if (rewritten(s)) {
		/* Emptied (pmc flush): what it holds now is new. */
		lseek(s->fd, 0, SEEK_SET);
		s->off = 0;
		s->len = 0;
		s->lastlen = 0;
	}
	drain(s, s->fd, follow_line, &fa);
	if (lstat(s->path, &sb) == -1 ||
	    (sb.st_dev == s->dev && sb.st_ino == s->ino))
		return;
	/*
	 * Rotated or moved away: finish the old file, then the ones rotated
	 * after it while we slept, then the new one.
	 */
	drain(s, s->fd, follow_line, &fa);
	drain_rest(s, follow_line, &fa);
	close(s->fd);
	follow_missed(s, &fa);
	if (open_current(s) == 0)
		drain(s, s->fd, follow_line, &fa);
}

static void
on_signal(int sig)
{
	(void)sig;
	logs_stop = 1;
}

static void
follow(const struct opts *o, struct logsrcs *srcs)
{
	struct sigaction	 sa;
	struct timespec		 ts = { 0, FOLLOW_MS * 1000000L };
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!logs_stop) {
		for (i = 0; i < srcs->n && !logs_stop; i++)
			follow_one(o, &srcs->v[i]);
		fflush(stdout);
		if (!logs_stop)
			nanosleep(&ts, NULL);
	}
}

/* --- the verb --------------------------------------------------------------- */

static int
logs_options(struct cmd *cmd, struct opts *o)
{
	unsigned long long	 inst;

	memset(o, 0, sizeof(*o));
	o->lines = LOGS_DEFAULT_LINES;
	if (cmd_has(cmd, 'n') && parse_count(cmd->optargs['n'],
	    LOGS_MAX_LINES, &o->lines) == -1) {
		fprintf(stderr, "pmc: logs: -n: expected a number of lines, "
		    "got \"%s\"\n", cmd->optargs['n']);
		return (-1);
	}
	if (cmd_has(cmd, 'i')) {
		if (parse_count(cmd->optargs['i'], INT_MAX, &inst) == -1) {
			fprintf(stderr, "pmc: logs: --instance: expected an "
			    "instance number, got \"%s\"\n",
			    cmd->optargs['i']);
			return (-1);
		}
		o->taglen = (size_t)snprintf(o->tag, sizeof(o->tag),
		    "[%llu] ", inst);
	}
	if (cmd_has(cmd, 'o') && cmd_has(cmd, 'e')) {
		fprintf(stderr, "pmc: logs: --out and --err exclude each "
		    "other\n");
		return (-1);
	}
	o->streams = cmd_has(cmd, 'o') ? 1 : cmd_has(cmd, 'e') ? 2 : 3;
	o->follow = cmd_has(cmd, 'f');
	return (0);
}

/* Ask pmcd where the files are; keep the streams asked for. */
static int
logs_sources(struct cmd *cmd, const struct opts *o, struct logsrcs *srcs)
{
	struct pbuf	 pb;
	size_t		 i, k;
	int		 fd, r;

	if ((fd = client_open()) == -1)
		return (PMC_EXIT_FAIL);
	memset(&pb, 0, sizeof(pb));
	if (cmd->argc == 1)
		pbuf_add_field(&pb, cmd->argv[0]);
	r = client_request(fd, MSG_LOGS, &pb, add_src, srcs);
	pbuf_free(&pb);
	close(fd);
	for (i = k = 0; i < srcs->n; i++) {
		if (o->streams & (1 << srcs->v[i].err))
			srcs->v[k++] = srcs->v[i];
		else
			free(srcs->v[i].path);
	}
	srcs->n = k;
	return (r);
}

static int
cmd_logs_exec(struct cmd *cmd)
{
	struct logsrcs	 srcs = { NULL, 0 };
	struct opts	 o;
	size_t		 i;
	int		 r;

	if (logs_options(cmd, &o) == -1) {
		cmd_usage(stderr, cmd->entry);
		return (PMC_EXIT_USAGE);
	}
	if ((r = logs_sources(cmd, &o, &srcs)) != PMC_EXIT_OK)
		goto out;
	o.prefix = srcs.n > 1;
	o.escape = isatty(STDOUT_FILENO);
	for (i = 0; i < srcs.n; i++)
		tail(&o, &srcs.v[i]);
	fflush(stdout);
	if (o.follow)
		follow(&o, &srcs);
	if (logs_failed && r == PMC_EXIT_OK)
		r = PMC_EXIT_FAIL;
out:
	for (i = 0; i < srcs.n; i++) {
		if (srcs.v[i].fd != -1)
			close(srcs.v[i].fd);
		free(srcs.v[i].path);
		free(srcs.v[i].buf);
	}
	free(srcs.v);
	return (r);
}
