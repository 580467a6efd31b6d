/*
 * logs.c -- what instances write on stdout and stderr.
 *
 * pmcd reads every instance's pipes in its event loop and cuts what
 * comes into lines; each line goes whole, in one write(2), to the app's
 * file ("[<instance>] " first, and a timestamp when logs.timestamps is
 * on) and, with logs.to stdout or both, to pmcd's own stdout as
 * "<app>[<instance>]: <line>".  So lines of several instances never mix
 * mid-line.  A line longer than LINE_MAX_BYTES is cut and each piece
 * marked; a last line without a newline is written when the pipe ends.
 *
 * Back-pressure: pmcd writes files as fast as the disk takes them and
 * reads the pipes no faster, so while the disk keeps up nothing is lost,
 * and when it cannot the instances wait in write(2) on a full pipe, as
 * they would writing to the disk themselves.  A write that fails (disk
 * full) drops that line and is counted.  pmcd's stdout copy never waits:
 * what its reader (journald, docker) cannot take now is dropped.  Memory
 * is bounded: one shared read buffer, and per pipe only the start of a
 * line not ended yet (at most LINE_MAX_BYTES).
 *
 * Rotation: when a file would pass logs.max_size, x.log becomes x.log.1,
 * x.log.1 x.log.2 ... up to logs.keep files, and a new x.log is opened.
 * Opening, rotating and removing go through logfs.c (never through a
 * link; as root, as the app's user in a folder that user can write);
 * `pmc flush` empties a file through a descriptor, never by its path.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "home.h"
#include "log.h"
#include "logfs.h"
#include "pmcd.h"
#include "state.h"

#define READS_PER_EVENT	16		/* then let others have a turn */
#define SPLIT_MARK	" [pmc: line continues]"

struct logfile {
	TAILQ_ENTRY(logfile)	 entry;
	char			*path;
	struct logowner		 owner;		/* who acts on it, as root */
	int			 fd;
	uint64_t		 size;
	uint64_t		 max_size;	/* 0: never rotate */
	unsigned int		 keep;
	int			 refs;
	uint64_t		 dropped;
};

struct outpipe {
	TAILQ_ENTRY(outpipe)	 entry;
	struct watch		 w;
	struct logfile		*lf;		/* NULL: logs.to stdout */
	int			 to_stdout;
	int			 timestamps;
	int			 slot;
	int			 err;		/* stderr's */
	char			 app[SPEC_NAME_MAX + 1];
	char			*part;		/* a line without its newline yet */
	size_t			 len;
};

static TAILQ_HEAD(, logfile)	 logfiles = TAILQ_HEAD_INITIALIZER(logfiles);
static TAILQ_HEAD(, outpipe)	 outpipes = TAILQ_HEAD_INITIALIZER(outpipes);
static uint64_t			 stdout_dropped;

/* --- files ------------------------------------------------------------------ */

/* One error for the client's reply, when there is one. */
static void
errs_add(struct pbuf *errs, const char *why)
{
	if (errs != NULL) {
		pbuf_printf(errs, "%s", why);
		pbuf_add_field(errs, "");
	}
}

/* Where why goes: pmcd's log, and the client's reply. */
static void
report(struct pbuf *errs, const char *why)
{
	log_warnx("%s", why);
	errs_add(errs, why);
}

/* Through logfs: no link followed, as the app's user where it writes. */
static int
logfile_open(struct logfile *lf, struct pbuf *errs)
{
	struct stat	 sb;
	char		 why[PATH_MAX + 256];

	lf->size = 0;
	if ((lf->fd = logfs_open(lf->path, &lf->owner, 1, why,
	    sizeof(why))) == -1) {
		report(errs, why);
		return (-1);
	}
	lf->size = fstat(lf->fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
	return (0);
}

static struct logfile *
logfile_get(const char *path, const struct app_spec *s, int err)
{
	struct logfile	*lf;
	int		 fresh = 0;

	TAILQ_FOREACH(lf, &logfiles, entry)
		if (strcmp(lf->path, path) == 0)
			break;
	if (lf == NULL) {
		if ((lf = calloc(1, sizeof(*lf))) == NULL ||
		    (lf->path = strdup(path)) == NULL)
			fatal("calloc");
		TAILQ_INSERT_TAIL(&logfiles, lf, entry);
		fresh = 1;
	}
	/* The latest spec's say. */
	logowner_set(&lf->owner, s, err);
	lf->max_size = s->log_max_size;
	lf->keep = s->log_keep;
	lf->refs++;
	if (fresh)
		logfile_open(lf, NULL);
	return (lf);
}

static void
logfile_put(struct logfile *lf)
{
	if (--lf->refs > 0)
		return;
	if (lf->fd != -1)
		close(lf->fd);
	TAILQ_REMOVE(&logfiles, lf, entry);
	logowner_clear(&lf->owner);
	free(lf->path);
	free(lf);
}

/* x.log -> x.log.1 -> ... -> x.log.<keep>; then a new x.log. */
static void
logfile_rotate(struct logfile *lf)
{
	char	 why[PATH_MAX + 256];

	if (lf->fd != -1)
		close(lf->fd);
	if (logfs_rotate(lf->path, &lf->owner, lf->keep, why,
	    sizeof(why)) == -1)
		log_warnx("%s", why);
	logfile_open(lf, NULL);
}

static void
logfile_write(struct logfile *lf, const char *buf, size_t len)
{
	ssize_t	 n;
	size_t	 off = 0;

	if (lf->max_size != 0 && lf->size > 0 && lf->size + len > lf->max_size)
		logfile_rotate(lf);
	while (lf->fd != -1 && off < len) {
		if ((n = write(lf->fd, buf + off, len - off)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	lf->size += off;
	if (off < len && lf->dropped++ == 0) {
		if (lf->fd == -1)
			log_warnx("%s: a line was dropped: the file is not "
			    "open (more are counted, not logged)", lf->path);
		else
			log_warn("%s: a line was dropped (more are counted, "
			    "not logged)", lf->path);
	}
}

/*
 * `pmc flush`: empty the file through a descriptor (the one pmcd writes
 * with, or one opened as logfs would), and remove its rotated ones.
 */
static int
flush_file(const char *path, int fd, const struct logowner *o,
    unsigned int keep, struct pbuf *errs)
{
	char	 why[PATH_MAX + 256];
	int	 r = 0, own = fd == -1;

	if (own && (fd = logfs_open(path, o, 0, why, sizeof(why))) == -1 &&
	    errno != ENOENT) {
		report(errs, why);
		r = -1;
	}
	if (fd != -1 && ftruncate(fd, 0) == -1) {
		snprintf(why, sizeof(why), "%s: %s: flush %s: %s", o->app,
		    o->field, path, strerror(errno));
		report(errs, why);
		r = -1;
	}
	if (own && fd != -1)
		close(fd);
	if (logfs_remove_rotated(path, o, keep, why, sizeof(why)) == -1) {
		report(errs, why);
		r = -1;
	}
	return (r);
}

/* SIGUSR1, `pmc reopen-logs`: after an outside logrotate moved them. */
int
logs_reopen(struct pbuf *errs)
{
	struct logfile	*lf;
	int		 r = 0;

	TAILQ_FOREACH(lf, &logfiles, entry) {
		if (lf->fd != -1)
			close(lf->fd);
		if (logfile_open(lf, errs) == -1)
			r = -1;
	}
	log_info("log files reopened%s", r == -1 ? ", not all" : "");
	return (r);
}

/* The path of an app's stdout (err 0) or stderr (err 1) file. */
void
logs_path(const struct app_spec *s, int err, char *buf, size_t len)
{
	const char	*p = err ? s->log_err : s->log_out;

	if (p != NULL)
		strlcpy(buf, p, len);
	else
		snprintf(buf, len, "%s/%s.%s.log", pmc_logdir(), s->name,
		    err ? "err" : "out");
}

int
logs_flush(const struct app_spec *s, struct pbuf *errs)
{
	struct logfile	*lf;
	struct logowner	 o = { .groups = NULL };
	char		 path[PATH_MAX];
	int		 err, r = 0;

	for (err = 0; err < 2; err++) {
		logs_path(s, err, path, sizeof(path));
		TAILQ_FOREACH(lf, &logfiles, entry)
			if (strcmp(lf->path, path) == 0)
				break;
		if (lf != NULL) {
			if (flush_file(path, lf->fd, &lf->owner, lf->keep,
			    errs) == -1)
				r = -1;
			lf->size = 0;
			continue;
		}
		logowner_set(&o, s, err);
		if (flush_file(path, -1, &o, s->log_keep, errs) == -1)
			r = -1;
		logowner_clear(&o);
	}
	return (r);
}

/* Where an app's lines go: logs.to, with auto resolved. */
static enum logs_to
logs_to(const struct app_spec *s)
{
	if (s->log_to != LOGS_TO_AUTO)
		return (s->log_to);
	return (sv->log_to_auto);
}

/*
 * At pmc start, before anything is applied: the folders of s's files,
 * judged as they would be when opened.
 */
int
logs_check(const struct app_spec *s, struct pbuf *errs)
{
	struct logowner	 o = { .groups = NULL };
	char		 path[PATH_MAX], why[PATH_MAX + 256];
	int		 err, r = 0;

	if (logs_to(s) == LOGS_TO_STDOUT)
		return (0);
	for (err = 0; err < 2; err++) {
		logs_path(s, err, path, sizeof(path));
		logowner_set(&o, s, err);
		if (logfs_check(path, &o, why, sizeof(why)) == -1) {
			errs_add(errs, why);
			r = -1;
		}
		logowner_clear(&o);
	}
	return (r);
}

/* --- lines ------------------------------------------------------------------- */

/* "2026-11-22T01:02:03.456Z "; the date part is made once a second. */
static size_t
timestamp(char *buf, size_t len)
{
	static time_t	 last = -1;
	static char	 secs[32];
	static size_t	 nsecs;
	struct timespec	 ts;
	struct tm	 tm;
	long		 ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != last) {
		gmtime_r(&ts.tv_sec, &tm);
		nsecs = strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S.",
		    &tm);
		last = ts.tv_sec;
	}
	if (len < nsecs + 6)
		return (0);
	memcpy(buf, secs, nsecs);
	ms = ts.tv_nsec / 1000000;
	buf[nsecs] = (char)('0' + ms / 100);
	buf[nsecs + 1] = (char)('0' + ms / 10 % 10);
	buf[nsecs + 2] = (char)('0' + ms % 10);
	buf[nsecs + 3] = 'Z';
	buf[nsecs + 4] = ' ';
	return (nsecs + 5);
}

static void
to_stdout(const struct outpipe *op, const char *line, size_t len,
    const char *mark)
{
	static int	 nonblocking;
	char		 buf[LINE_MAX_BYTES + 128];
	int		 n;

	/* Never wait for journald or docker: drop what they cannot take.
	 * (Not on a terminal, whose flags its shell shares.) */
	if (!nonblocking) {
		nonblocking = 1;
		if (!isatty(STDOUT_FILENO))
			fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO,
			    F_GETFL) | O_NONBLOCK);
	}

	n = snprintf(buf, sizeof(buf), "%s[%d]: %.*s%s\n", op->app, op->slot,
	    (int)len, line, mark);
	if (n > (int)sizeof(buf))
		n = sizeof(buf);
	if (write(STDOUT_FILENO, buf, (size_t)n) != n && stdout_dropped++ == 0)
		log_warnx("stdout: a log line was dropped (more are counted, "
		    "not logged)");
}

/*
 * Whole lines for one file gather here and go in one write(2): one
 * buffer for all pipes (pmcd is single-threaded), written out before
 * outpipe_read returns, and before a line that would cross max_size.
 */
static char		 batch[65536];
static size_t		 batch_len;

static void
batch_flush(struct outpipe *op)
{
	if (batch_len > 0 && op->lf != NULL)
		logfile_write(op->lf, batch, batch_len);
	batch_len = 0;
}

/* One line (without its newline), whole, to where it goes. */
static void
emit(struct outpipe *op, const char *line, size_t len, const char *mark)
{
	char		 buf[LINE_MAX_BYTES + 128];
	size_t		 n = 0;
	struct logfile	*lf = op->lf;

	if (lf != NULL) {
		if (op->timestamps)
			n = timestamp(buf, sizeof(buf));
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "[%d] ",
		    op->slot);
		memcpy(buf + n, line, len);
		n += len;
		n += strlcpy(buf + n, mark, sizeof(buf) - n);
		buf[n++] = '\n';
		/* Rotation stays exact: a batch never crosses max_size. */
		if (batch_len + n > sizeof(batch) || (lf->max_size != 0 &&
		    lf->size + batch_len + n > lf->max_size))
			batch_flush(op);
		memcpy(batch + batch_len, buf, n);
		batch_len += n;
	}
	if (op->to_stdout)
		to_stdout(op, line, len, mark);
}

static void
cut_line(void *arg, const char *line, size_t len, int cut)
{
	emit(arg, line, len, cut ? SPLIT_MARK : "");
}

static void
outpipe_free(void *arg)
{
	struct outpipe	*op = arg;

	free(op->part);
	free(op);
}

static void
outpipe_end(struct outpipe *op)
{
	if (op->len > 0)		/* a last line with no newline */
		emit(op, op->part, op->len, "");
	batch_flush(op);
	free(op->part);
	op->part = NULL;
	op->len = 0;
	watch_close(&op->w);
	if (op->lf != NULL)
		logfile_put(op->lf);
	TAILQ_REMOVE(&outpipes, op, entry);
}

/*
 * Every pipe is read into one buffer: a pipe keeps only the start of a
 * line that has not ended yet, so a thousand quiet instances cost no
 * more than their structs.
 */
static char	 rbuf[LINE_MAX_BYTES];

/* Keep what lines_cut left at the start of rbuf for the next read. */
static void
outpipe_keep(struct outpipe *op, size_t left)
{
	char	*p;

	if (left == 0) {
		free(op->part);
		op->part = NULL;
	} else {
		if ((p = realloc(op->part, left)) == NULL)
			fatal("realloc");
		memcpy(p, rbuf, left);
		op->part = p;
	}
	op->len = left;
}

static void
outpipe_read(struct watch *w, uint32_t events)
{
	struct outpipe	*op = w->arg;
	ssize_t		 n;
	size_t		 left;
	int		 i;

	(void)events;
	for (i = 0; i < READS_PER_EVENT; i++) {
		if (op->len > 0)
			memcpy(rbuf, op->part, op->len);
		n = read(w->fd, rbuf + op->len, sizeof(rbuf) - op->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			outpipe_end(op);
			loop_defer(outpipe_free, op);
			return;
		}
		left = lines_cut(rbuf, op->len + (size_t)n, sizeof(rbuf),
		    cut_line, op);
		outpipe_keep(op, left);
		batch_flush(op);
	}
}

/* Drain fd, a pipe of slot of the app of s (NULL: gone; lines dropped). */
static struct outpipe *
outpipe_make(const struct app_spec *s, const char *name, int slot, int fd,
    int err)
{
	struct outpipe		*op;
	enum logs_to		 to = s != NULL ? logs_to(s) : LOGS_TO_FILE;
	char			 path[PATH_MAX];

	if ((op = calloc(1, sizeof(*op))) == NULL)
		fatal("calloc");
	op->w.fd = fd;
	op->w.fn = outpipe_read;
	op->w.arg = op;
	op->slot = slot;
	op->err = err;
	op->timestamps = s != NULL && s->log_timestamps;
	op->to_stdout = to == LOGS_TO_STDOUT || to == LOGS_TO_BOTH;
	strlcpy(op->app, name, sizeof(op->app));
	if (s != NULL && to != LOGS_TO_STDOUT) {
		logs_path(s, err, path, sizeof(path));
		op->lf = logfile_get(path, s, err);
	}
	if (watch_add(&op->w, EPOLLIN) == -1)
		fatal("epoll_ctl");
	TAILQ_INSERT_TAIL(&outpipes, op, entry);
	return (op);
}

/* Drain fd, one of instance in's pipes (stderr when err). */
void
outpipe_new(const struct instance *in, int fd, int err)
{
	outpipe_make(in->app->spec, in->app->spec->name, in->slot, fd, err);
}

/* pmc update: every pipe, with the start of a line it holds. */
void
logs_save(struct state_out *o)
{
	struct outpipe	*op;

	TAILQ_FOREACH(op, &outpipes, entry) {
		state_begin(o, "pipe");
		state_fd(o, "fd", op->w.fd);
		state_str(o, "app", op->app);
		state_num(o, "slot", op->slot);
		state_num(o, "err", op->err);
		state_bytes(o, "part", op->part != NULL ? op->part : "",
		    op->len);
		state_end(o);
	}
}

int
logs_load(const struct state_rec *r)
{
	struct outpipe	*op;
	struct app	*app;
	const char	*part;
	size_t		 len;
	int		 fd = rec_fd(r, "fd");

	if (fd < 0)
		return (-1);
	app = app_find(rec_str(r, "app"));
	op = outpipe_make(app != NULL ? app->spec : NULL, rec_str(r, "app"),
	    (int)rec_num(r, "slot"), fd, rec_num(r, "err") != 0);
	part = rec_bytes(r, "part", &len);
	if (len > 0 && len < LINE_MAX_BYTES) {
		if ((op->part = malloc(len)) == NULL)
			fatal("malloc");
		memcpy(op->part, part, len);
		op->len = len;
	}
	return (0);
}

/* At exit: write out what the pipes still hold, then close them. */
void
outpipes_close(void)
{
	struct outpipe	*op;

	while ((op = TAILQ_FIRST(&outpipes)) != NULL) {
		outpipe_read(&op->w, EPOLLIN);
		if (TAILQ_FIRST(&outpipes) == op) {	/* not at its end */
			outpipe_end(op);
			outpipe_free(op);
		}
	}
}
