/*
 * specread.c -- spec files that pmcd itself must read (SIGHUP), read in
 * a child process.
 *
 * Reading a spec looks names up (user:, group:, listen: hosts), and a
 * name service may wait for seconds (LDAP, DNS).  pmcd's loop never
 * waits, so a child reads the files as `pmc start` would (specfile_add:
 * checked, opened without blocking, names looked up and the answers
 * written down) and writes the result to a pipe: 'S' and the fields of
 * a MSG_START, or 'E' and one field per error.  The loop reads the pipe
 * like any other; at its end the files are parsed again from the
 * answers, asking no one, and handed to done().  A child that has not
 * finished in SPECREAD_TIMEOUT_MS is killed: nothing is applied.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pmcd.h"
#include "specfile.h"

#define SPECREAD_TIMEOUT_MS	30000

static struct {
	pid_t		 pid;		/* 0: none under way */
	struct watch	 w;
	struct timer	 timer;
	struct pbuf	 out;		/* what the child wrote */
	int		 too_long;
	void		(*done)(struct spec **, size_t);
} rd = { .w = { .fd = -1 } };

int
specread_busy(void)
{
	return (rd.pid != 0);
}

static void __attribute__((__noreturn__))
specread_child(int fd, char **files, size_t n)
{
	struct spec_errors	 errs = { NULL, 0 };
	struct pbuf		 pb = { 0 };
	size_t			 i, off;
	ssize_t			 w;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pbuf_add(&pb, "S", 1);
	pbuf_add_field(&pb, "");		/* flags */
	for (i = 0; i < n; i++)
		specfile_add(&pb, files[i], &errs);
	if (errs.count > 0) {
		pb.len = 0;
		pbuf_add(&pb, "E", 1);
		for (i = 0; i < errs.count; i++)
			pbuf_add_field(&pb, errs.msgs[i]);
	}
	for (off = 0; off < pb.len; off += (size_t)w)
		while ((w = write(fd, pb.data + off, pb.len - off)) == -1)
			if (errno != EINTR)
				_exit(1);
	_exit(0);
}

static void
specread_end(void)
{
	if (rd.pid != 0)
		kill(rd.pid, SIGKILL);	/* reaped by pmcd's reap() */
	rd.pid = 0;
	watch_close(&rd.w);
	timer_stop(&rd.timer);
	pbuf_free(&rd.out);
	rd.too_long = 0;
}

/* The child's whole answer: parse it here and hand the specs on. */
static void
specread_finish(void)
{
	const char		**f;
	struct spec_errors	 errs = { NULL, 0 };
	struct spec		**specs;
	size_t			 i, ns = 0;
	int			 nf, k;

	if (rd.out.len < 1 || (rd.out.data[0] != 'S' && rd.out.data[0] != 'E')) {
		log_warnx("SIGHUP: the spec reader ended without an answer; "
		    "nothing applied");
		return;
	}
	if ((f = calloc(PMC_FIELDS_MAX, sizeof(*f))) == NULL ||
	    (specs = calloc(PMC_FIELDS_MAX / 3 + 1, sizeof(*specs))) == NULL)
		fatal("calloc");
	nf = proto_fields(rd.out.data + 1, rd.out.len - 1, f, PMC_FIELDS_MAX);
	if (nf == -1)
		spec_errors_add(&errs, "the spec reader's answer is malformed");
	else if (rd.out.data[0] == 'E')
		for (k = 0; k < nf; k++)
			spec_errors_add(&errs, "%s", f[k]);
	else
		for (k = 1; k + 2 < nf; k += 3) {
			/* With the --env its apps were started with. */
			spec_set_env(app_file_env(f[k]));
			if (specfile_parse(f[k], f[k + 1], f[k + 2],
			    &specs[ns], &errs) == 0)
				ns++;
			spec_set_env(NULL);
		}
	for (i = 0; i < errs.count; i++)
		log_warnx("%s", errs.msgs[i]);
	if (errs.count > 0)
		log_warnx("SIGHUP: nothing applied");
	else
		rd.done(specs, ns);
	for (i = 0; i < ns; i++)
		spec_free(specs[i]);
	spec_errors_clear(&errs);
	free(specs);
	free(f);
}

static void
specread_read(struct watch *w, uint32_t events)
{
	char	 buf[65536];
	ssize_t	 n;

	(void)events;
	for (;;) {
		if ((n = read(w->fd, buf, sizeof(buf))) == -1 &&
		    errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		if (rd.out.len + (size_t)n > PMC_MSG_MAX + 1)
			rd.too_long = 1;
		else
			pbuf_add(&rd.out, buf, (size_t)n);
	}
	rd.pid = 0;		/* it is done; reap() collects it */
	if (rd.too_long)
		log_warnx("SIGHUP: the spec files are larger than %u bytes "
		    "together; nothing applied", PMC_MSG_MAX);
	else
		specread_finish();
	specread_end();
}

static void
specread_timeout(void *arg)
{
	(void)arg;
	log_warnx("SIGHUP: reading the spec files took more than %d s (a "
	    "name service not answering?); nothing applied",
	    SPECREAD_TIMEOUT_MS / 1000);
	specread_end();
}

/*
 * Read files in a child; done(specs, n) once they are all read and
 * parsed.  A read under way is abandoned for the new one.
 */
void
specread_start(char **files, size_t n, void (*done)(struct spec **, size_t))
{
	int	 p[2];
	pid_t	 pid;

	specread_end();
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("SIGHUP: pipe");
		return;
	}
	if ((pid = fork()) == -1) {
		log_warn("SIGHUP: fork");
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		close(p[0]);
		specread_child(p[1], files, n);
	}
	close(p[1]);
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1)
		log_warn("SIGHUP: fcntl");
	rd.pid = pid;
	rd.done = done;
	rd.w.fd = p[0];
	rd.w.fn = specread_read;
	rd.w.arg = NULL;
	if (watch_add(&rd.w, EPOLLIN) == -1)
		fatal("epoll_ctl");
	timer_set(&rd.timer, specread_timeout, NULL);
	timer_start(&rd.timer, SPECREAD_TIMEOUT_MS);
}
