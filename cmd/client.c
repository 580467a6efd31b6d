/*
 * client.c -- one request to pmcd and the printing of its replies; starting
 * pmcd when none answers, for start and resurrect.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "home.h"
#include "human.h"
#include "protocol.h"

#define MALFORMED	"pmc: malformed reply from pmcd\n"

int
client_home(int create)
{
	struct stat	 sb;
	char		 why[PATH_MAX + 128];
	const char	*home;

	home = pmc_home();
	/* No home yet: nothing runs there, the connect says so. */
	if (!create && lstat(home, &sb) == -1 && errno == ENOENT)
		return (0);
	if (home_check(home, create, why, sizeof(why)) == -1 ||
	    home_sock_check(why, sizeof(why)) == -1) {
		fprintf(stderr, "pmc: %s\n", why);
		return (-1);
	}
	return (0);
}

/*
 * A pmcd that is stopped or stuck accepts nothing, and once its socket's
 * queue is full a plain connect() would wait for ever: SO_SNDTIMEO bounds
 * a connect on an AF_UNIX socket (Linux fails it with EAGAIN, told here as
 * ETIMEDOUT); it is taken off again, so that sends are as they were.
 */
int
client_connect_within(int seconds)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { seconds, 0 }, none = { 0, 0 };
	char			 path[PATH_MAX];
	int			 fd, saved;

	home_path(path, sizeof(path), "pmc.sock");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none,
	    sizeof(none)) == -1) {
		saved = errno == EAGAIN || errno == EINPROGRESS ? ETIMEDOUT :
		    errno;
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

int
client_connect(void)
{
	return (client_connect_within(CLIENT_CONNECT_S));
}

int
client_not_running(int error)
{
	return (error == ENOENT || error == ECONNREFUSED || error == ENOTDIR);
}

void
client_connect_error(int error)
{
	char	 path[PATH_MAX];

	home_path(path, sizeof(path), "pmc.sock");
	if (error == ECONNREFUSED)
		fprintf(stderr, "pmc: pmcd is not running (nothing answers "
		    "on %s)\n", path);
	else if (error == ETIMEDOUT)
		fprintf(stderr, "pmc: pmcd is not answering (no connection "
		    "accepted on %s within %d seconds)\n", path,
		    CLIENT_CONNECT_S);
	else if (client_not_running(error))
		fprintf(stderr, "pmc: pmcd is not running (no %s)\n", path);
	else
		fprintf(stderr, "pmc: connect %s: %s\n", path,
		    strerror(error));
}

int
client_open(void)
{
	int	 fd;

	if (client_home(0) == -1)
		return (-1);
	if ((fd = client_connect()) == -1) {
		client_connect_error(errno);
		return (-1);
	}
	return (fd);
}

/* $PMCD, else the pmcd beside this pmc. */
static int
pmcd_path(char *buf, size_t len)
{
	const char	*s;
	char		 exe[PATH_MAX], *slash;
	ssize_t		 n;

	if ((s = getenv("PMCD")) != NULL && *s != '\0') {
		if (strlcpy(buf, s, len) >= len) {
			fprintf(stderr, "pmc: PMCD: %s\n",
			    strerror(ENAMETOOLONG));
			return (-1);
		}
		return (0);
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) == -1) {
		fprintf(stderr, "pmc: /proc/self/exe: %s\n", strerror(errno));
		return (-1);
	}
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	if ((size_t)snprintf(buf, len, "%s/pmcd", exe) >= len) {
		fprintf(stderr, "pmc: %s/pmcd: %s\n", exe,
		    strerror(ENAMETOOLONG));
		return (-1);
	}
	return (0);
}

/* Run pmcd, which detaches and returns once its socket answers. */
static int
spawn_pmcd(void)
{
	char	 path[PATH_MAX];
	pid_t	 pid;
	int	 status;

	if (pmcd_path(path, sizeof(path)) == -1)
		return (-1);
	fflush(stdout);
	switch (pid = fork()) {
	case -1:
		fprintf(stderr, "pmc: fork: %s\n", strerror(errno));
		return (-1);
	case 0:
		execl(path, "pmcd", (char *)NULL);
		fprintf(stderr, "pmc: %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "pmc: waitpid: %s\n", strerror(errno));
			return (-1);
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return (0);
	if (WIFEXITED(status))
		fprintf(stderr, "pmc: could not start pmcd (%s exited with "
		    "status %d)\n", path, WEXITSTATUS(status));
	else
		fprintf(stderr, "pmc: could not start pmcd (%s killed by "
		    "signal %d)\n", path, WTERMSIG(status));
	return (-1);
}

/* Connect once start.lock is ours: start pmcd first when none answers. */
static int
locked_connect(void)
{
	char	 path[PATH_MAX];
	int	 fd;

	if ((fd = client_connect()) != -1 || !client_not_running(errno))
		return (fd);
	if (spawn_pmcd() == -1) {
		errno = 0;
		return (-1);
	}
	if ((fd = client_connect()) == -1) {
		home_path(path, sizeof(path), "pmc.sock");
		fprintf(stderr, "pmc: could not start pmcd (connect %s: %s)\n",
		    path, strerror(errno));
		errno = 0;
	}
	return (fd);
}

/* start.lock makes concurrent `pmc start`s start one pmcd. */
int
client_start_open(void)
{
	char	 path[PATH_MAX];
	int	 fd, lock, saved;

	if (client_home(1) == -1)
		return (-1);
	if ((fd = client_connect()) != -1)
		return (fd);
	if (!client_not_running(errno)) {
		client_connect_error(errno);
		return (-1);
	}

	home_path(path, sizeof(path), "start.lock");
	if ((lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "pmc: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	while (flock(lock, LOCK_EX) == -1) {
		if (errno != EINTR) {
			fprintf(stderr, "pmc: flock %s: %s\n", path,
			    strerror(errno));
			close(lock);
			return (-1);
		}
	}
	fd = locked_connect();
	saved = errno;
	close(lock);
	if (fd == -1 && saved != 0)
		client_connect_error(saved);
	return (fd);
}

/*
 * pmcd's text, which may quote what an app said (STATUS=, a reason):
 * escaped when it goes to a terminal.
 */
static void
print_text(FILE *fp, const char *text, size_t len)
{
	if (isatty(fileno(fp)))
		human_text(fp, text, len);
	else
		fwrite(text, 1, len, fp);
}

/* MSG_ERR: one "pmc: " line per line of text. */
static void
print_err(const char *text)
{
	const char	*nl;

	fflush(stdout);		/* keep the order of stdout and stderr */
	while (*text != '\0') {
		if ((nl = strchr(text, '\n')) == NULL)
			nl = text + strlen(text);
		fputs("pmc: ", stderr);
		print_text(stderr, text, (size_t)(nl - text));
		putc('\n', stderr);
		text = *nl == '\n' ? nl + 1 : nl;
	}
}

/* MSG_EXIT's field: a status 0..255, or -1. */
static int
parse_status(const char *s)
{
	int	 n;

	if (*s == '\0' || strlen(s) > 3)
		return (-1);
	for (n = 0; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		n = n * 10 + (*s - '0');
	}
	return (n > 255 ? -1 : n);
}

/* Why proto_recv failed, in the user's words. */
static void
recv_error(int error, const struct pmc_msghdr *hdr)
{
	const char	*why;

	fflush(stdout);
	if (error == EPROTO) {
		why = proto_check(hdr);
		if (hdr->version != PMC_PROTO_VERSION)
			fprintf(stderr, "pmc: %s\n", why);
		else
			fputs(MALFORMED, stderr);
	} else if (error == ECONNRESET)
		fprintf(stderr, "pmc: pmcd closed the connection\n");
	else
		fprintf(stderr, "pmc: read from pmcd: %s\n", strerror(error));
}

/*
 * Handle one reply: its exit status for MSG_EXIT, -1 to read on, -2 when
 * it is malformed.
 */
static int
reply(const struct pmc_msghdr *hdr, const char *payload, const char **fields,
    client_data_fn fn, void *arg)
{
	int	 i, n;

	n = proto_fields(payload, hdr->len, fields, PMC_FIELDS_MAX);
	if (n == -1)
		return (-2);
	switch (hdr->type) {
	case MSG_OUT:
		if (n != 1)
			return (-2);
		print_text(stdout, fields[0], strlen(fields[0]));
		fflush(stdout);		/* pmc events: a line as it comes */
		return (-1);
	case MSG_ERR:
		if (n != 1)
			return (-2);
		print_err(fields[0]);
		return (-1);
	case MSG_DATA:
		if (fn == NULL)
			return (-2);
		for (i = 0; i < n; i++) {
			if (fn(fields[i], arg) == -1)
				return (-2);
		}
		return (-1);
	case MSG_EXIT:
		if (n != 1 || (i = parse_status(fields[0])) == -1)
			return (-2);
		return (i);
	}
	return (-2);
}

int
client_request(int fd, uint32_t type, const struct pbuf *pb,
    client_data_fn fn, void *arg)
{
	struct pmc_msghdr	  hdr;
	const char		**fields;
	char			 *payload;
	int			  r;

	/* pmcd may answer and close before reading it all: read anyway. */
	if (proto_send(fd, type, pb->data, pb->len) == -1 &&
	    errno != EPIPE && errno != ECONNRESET) {
		fprintf(stderr, "pmc: send to pmcd: %s\n", strerror(errno));
		return (PMC_EXIT_FAIL);
	}
	if ((fields = calloc(PMC_FIELDS_MAX, sizeof(*fields))) == NULL) {
		fprintf(stderr, "pmc: %s\n", strerror(errno));
		return (PMC_EXIT_FAIL);
	}
	do {
		if (proto_recv(fd, &hdr, &payload) == -1) {
			recv_error(errno, &hdr);
			r = PMC_EXIT_FAIL;
			break;
		}
		r = reply(&hdr, payload, fields, fn, arg);
		free(payload);
		if (r == -2) {
			fflush(stdout);
			fputs(MALFORMED, stderr);
			r = PMC_EXIT_FAIL;
		}
	} while (r == -1);
	free(fields);
	return (r);
}

int
client_call(uint32_t type, int argc, char **argv)
{
	struct pbuf	 pb;
	int		 fd, i, r;

	if ((fd = client_open()) == -1)
		return (PMC_EXIT_FAIL);
	memset(&pb, 0, sizeof(pb));
	for (i = 0; i < argc; i++)
		pbuf_add_field(&pb, argv[i]);
	r = client_request(fd, type, &pb, NULL, NULL);
	pbuf_free(&pb);
	close(fd);
	return (r);
}
