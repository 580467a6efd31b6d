/*
 * shim.c -- libpmc-shim.so, preloaded (LD_PRELOAD) into the instances of
 * an app with intercept_bind: true, so that a server which binds its own
 * port gets pmcd's listen socket instead of a socket of its own.
 *
 * pmcd hands the sockets over the systemd way (fds 3.., LISTEN_FDS,
 * LISTEN_PID).  Before main(), the constructor learns each socket's
 * address, moves it out of the way to a high descriptor and removes the
 * LISTEN_* variables: the server binds by itself and must not see them.
 * Then:
 *
 *	bind(fd, A)	when A matches a listen socket (same family and port,
 *			and the same address or a wildcard; a unix socket by
 *			its file), fd becomes a duplicate of it (dup3, keeping
 *			fd's close-on-exec) and bind returns 0.  A v6 wildcard
 *			bind also matches a v4 listen socket on its port,
 *			unless the server set IPV6_V6ONLY.  Everything else,
 *			UDP included, goes to the real bind.
 *	listen(fd)	on one of those sockets: 0, without touching pmcd's
 *			backlog; the first time, "PMC_LISTENING=1" goes to
 *			NOTIFY_SOCKET (pmcd's `ready: auto`).
 *	shutdown(fd)	on one of them: 0, and nothing done.  Shutting a
 *			listening socket down takes it out of the listening
 *			state for pmcd and every instance: the port would
 *			refuse connections for good.  The cost: a server that
 *			shuts its socket down to wake its own threads from
 *			accept() is not woken, and stops at kill_timeout.
 *	close, close_range, closefrom
 *			never close the shim's high descriptors (close
 *			pretends), so that a server that closes everything it
 *			does not know at start-up still finds them.
 *	dup2, dup3	onto a high descriptor move the shim's copy away first.
 *	unlink, unlinkat
 *			pretend on the file of a unix listen socket: servers
 *			often remove their socket file before bind and at exit,
 *			which would leave pmcd's socket unreachable.
 *
 * Which process is the server.  A command is often a chain of execs in
 * one process (a "#!/usr/bin/env python3" script, `sh -c 'exec ...'`), so
 * the high descriptors stay inheritable until the first intercepted bind,
 * and PMC_SHIM_PID/PMC_SHIM_FDS (the pid, and fd:inode pairs) let the
 * next program of the same pid adopt them.  A process with another pid
 * is a child of the server: its shim closes the copies it inherited,
 * removes itself from LD_PRELOAD and PMC_SHIM_* from the environment,
 * and does nothing else.  After the first intercepted bind the high
 * descriptors are close-on-exec, so a server that re-execs itself after
 * binding (a binary upgrade) starts without them, like any other child;
 * a server whose command forks it (not execs it), as `npm start` does, is
 * not helped.  Raw syscalls (Go, static binaries) bypass the shim; pmcd
 * refuses static binaries.
 *
 * O_NONBLOCK.  It is a property of the open file description, which the
 * duplicate shares with pmcd and with every instance of the app, not of
 * the descriptor.  When the server's own socket was nonblocking
 * (SOCK_NONBLOCK), the shared socket is made nonblocking too; a blocking
 * one is left as it is (never cleared).  The other choice, a blocking
 * socket under an event loop, hangs the loop in accept() whenever another
 * instance took the connection first.  The instances run the same program
 * and so want the same mode; servers that set O_NONBLOCK after bind (most
 * do) change the shared description in any case; pmcd never accepts.
 * Likewise, options the server set on its own socket before bind
 * (TCP_NODELAY, SO_KEEPALIVE...) are not carried over, and options set
 * after bind apply to the shared socket.
 *
 * Threads: the table is written by the constructor only, apart from a
 * descriptor moved by dup2/dup3 (under a spin lock, read atomically).
 * No allocation, no stdio, no environment change after the constructor.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SOCKS	64
#define HIGH_BASE	1000	/* where the shim's descriptors go */
#define SHIM_NAME	"libpmc-shim.so"
#define LISTENING_MSG	"PMC_LISTENING=1"

/* glibc declares bind() with a transparent union under _GNU_SOURCE. */
#if defined(__GLIBC__) && defined(__USE_GNU) && !defined(__cplusplus)
#define SA_ARG		__CONST_SOCKADDR_ARG
#define SA_PTR(a)	((a).__sockaddr__)
#else
#define SA_ARG		const struct sockaddr *
#define SA_PTR(a)	(a)
#endif

#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
#define HAVE_CLOSE_RANGE
#endif

/* A listen socket handed over by pmcd. */
struct lsock {
	int			 fd;	/* the shim's copy; -1 once lost */
	ino_t			 ino;	/* the socket's inode */
	dev_t			 fdev;	/* AF_UNIX: the socket file */
	ino_t			 fino;
	socklen_t		 len;
	struct sockaddr_storage	 ss;
};

static struct lsock	 socks[MAX_SOCKS];
static int		 nsocks;
static int		 nunix;		/* how many are AF_UNIX with a file */
static int		 fdbase = HIGH_BASE;
static int		 bound;		/* a bind was intercepted */
static int		 notified;
static int		 moving;	/* a spin lock for move_away() */
static struct sockaddr_un notify_sun;
static socklen_t	 notify_len;

static int	(*real_bind)(int, SA_ARG, socklen_t);
static int	(*real_listen)(int, int);
static int	(*real_shutdown)(int, int);
static int	(*real_close)(int);
static int	(*real_dup2)(int, int);
static int	(*real_dup3)(int, int, int);
static int	(*real_unlink)(const char *);
static int	(*real_unlinkat)(int, const char *, int);
#ifdef HAVE_CLOSE_RANGE
static int	(*real_close_range)(unsigned int, unsigned int, int);
static void	(*real_closefrom)(int);
#endif

static int	 resolved;

#define NEXT(f)	(real_##f = (__typeof__(real_##f))dlsym(RTLD_NEXT, #f))

/* The functions the shim wraps; done by the constructor, or earlier. */
static void
resolve(void)
{
	NEXT(bind);
	NEXT(listen);
	NEXT(shutdown);
	NEXT(close);
	NEXT(dup2);
	NEXT(dup3);
	NEXT(unlink);
	NEXT(unlinkat);
#ifdef HAVE_CLOSE_RANGE
	NEXT(close_range);
	NEXT(closefrom);
#endif
	resolved = 1;
}

/* Called by another library's constructor before ours: resolve now. */
#define RESOLVE()	do { if (!resolved) resolve(); } while (0)

static int
load_fd(int i)
{
	return (__atomic_load_n(&socks[i].fd, __ATOMIC_ACQUIRE));
}

/* Is fd one of the shim's own copies? */
static int
is_ours(int fd)
{
	int	 i;

	if (fd < fdbase)
		return (0);
	for (i = 0; i < nsocks; i++)
		if (load_fd(i) == fd)
			return (1);
	return (0);
}

/* --- the constructor ----------------------------------------------------- */

static long
env_num(const char *name)
{
	const char	*s = getenv(name);
	char		*end;
	long		 v;

	if (s == NULL || *s < '0' || *s > '9')
		return (-1);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return (-1);
	return (v);
}

/* Below the soft limit on descriptors, with room for MAX_SOCKS moves. */
static void
choose_base(int nfds)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= HIGH_BASE + 2 * MAX_SOCKS)
		return;
	if (rl.rlim_cur > 2 * MAX_SOCKS + 3 + (rlim_t)nfds)
		fdbase = (int)rl.rlim_cur - 2 * MAX_SOCKS;
	else
		fdbase = 3 + nfds;
}

/* Record fd, a listening socket already at a high number, in the table. */
static int
record(int fd, ino_t ino)
{
	struct lsock		*ls = &socks[nsocks];
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ls->ss;
	struct stat		 sb;

	ls->len = sizeof(ls->ss);
	if (getsockname(fd, (struct sockaddr *)&ls->ss, &ls->len) == -1)
		return (-1);
	switch (ls->ss.ss_family) {
	case AF_INET:
	case AF_INET6:
		break;
	case AF_UNIX:
		/* ss is longer than sun and zeroed: sun_path ends. */
		if (ls->len > offsetof(struct sockaddr_un, sun_path) &&
		    sun->sun_path[0] != '\0' &&
		    stat(sun->sun_path, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
			ls->fdev = sb.st_dev;
			ls->fino = sb.st_ino;
			nunix++;
		}
		break;
	default:
		return (-1);
	}
	ls->fd = fd;
	ls->ino = ino;
	nsocks++;
	return (0);
}

/* The first program of an instance: take fds 3..3+n-1 from pmcd. */
static void
take_listen_fds(int n)
{
	struct stat	 sb;
	int		 i, fd;

	if (n > MAX_SOCKS)
		n = MAX_SOCKS;
	choose_base(n);
	for (i = 0; i < n; i++) {
		if (fstat(3 + i, &sb) == -1 || !S_ISSOCK(sb.st_mode))
			continue;
		/* Inheritable until the first bind: see the top. */
		if ((fd = fcntl(3 + i, F_DUPFD, fdbase)) == -1)
			continue;
		if (record(fd, sb.st_ino) == -1) {
			real_close(fd);
			continue;
		}
		real_close(3 + i);
	}
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
}

/*
 * PMC_SHIM_FDS, "fd:inode,...": call fn on each descriptor still open on
 * the same socket.
 */
static void
each_passed_fd(void (*fn)(int, ino_t))
{
	const char	*s = getenv("PMC_SHIM_FDS");
	struct stat	 sb;
	char		*end;
	long		 fd;
	unsigned long	 ino;

	while (s != NULL && *s != '\0') {
		fd = strtol(s, &end, 10);
		if (*end != ':')
			return;
		ino = strtoul(end + 1, &end, 10);
		if (*end != ',' && *end != '\0')
			return;
		s = *end == ',' ? end + 1 : end;
		if (fd >= 3 && fd <= 0x7fffffff && fstat((int)fd, &sb) == 0 &&
		    S_ISSOCK(sb.st_mode) && sb.st_ino == (ino_t)ino)
			fn((int)fd, sb.st_ino);
	}
}

static void
adopt_fd(int fd, ino_t ino)
{
	if (nsocks < MAX_SOCKS && record(fd, ino) == 0 && fd < fdbase)
		fdbase = fd;
}

static void
drop_fd(int fd, ino_t ino)
{
	(void)ino;
	real_close(fd);
}

/* Remove this library from LD_PRELOAD, keeping any other. */
static void
strip_preload(void)
{
	const char	*v = getenv("LD_PRELOAD"), *p, *base;
	char		*out;
	size_t		 n, len = 0;

	if (v == NULL || (out = malloc(strlen(v) + 1)) == NULL)
		return;
	for (p = v; *p != '\0'; p += n) {
		p += strspn(p, " :");	/* ld.so splits on both */
		if ((n = strcspn(p, " :")) == 0)
			break;
		for (base = p + n; base > p && base[-1] != '/'; base--)
			;
		if (p + n - base == (ptrdiff_t)strlen(SHIM_NAME) &&
		    memcmp(base, SHIM_NAME, strlen(SHIM_NAME)) == 0)
			continue;
		if (len > 0)
			out[len++] = ':';
		memcpy(out + len, p, n);
		len += n;
	}
	out[len] = '\0';
	if (len == 0)
		unsetenv("LD_PRELOAD");
	else
		setenv("LD_PRELOAD", out, 1);
	free(out);
}

/* Tell the next program of this pid where the sockets are. */
static void
publish(void)
{
	char	 buf[MAX_SOCKS * 48 + 1], num[32];
	int	 i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < nsocks; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s%d:%lu",
		    i > 0 ? "," : "", socks[i].fd,
		    (unsigned long)socks[i].ino);
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	setenv("PMC_SHIM_PID", num, 1);
	setenv("PMC_SHIM_FDS", buf, 1);
}

/* NOTIFY_SOCKET, read now: the server may unset it later. */
static void
notify_init(void)
{
	const char	*s = getenv("NOTIFY_SOCKET");
	size_t		 n;

	if (s == NULL || (s[0] != '/' && s[0] != '@') ||
	    (n = strlen(s)) >= sizeof(notify_sun.sun_path))
		return;
	notify_sun.sun_family = AF_UNIX;
	memcpy(notify_sun.sun_path, s, n);
	if (s[0] == '@')
		notify_sun.sun_path[0] = '\0';	/* abstract */
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

static void __attribute__((constructor))
shim_init(void)
{
	long	 pid = (long)getpid(), shim_pid, n;

	RESOLVE();
	if ((shim_pid = env_num("PMC_SHIM_PID")) != -1 && shim_pid != pid) {
		/* A child of the server: stand aside. */
		each_passed_fd(drop_fd);
		unsetenv("PMC_SHIM_PID");
		unsetenv("PMC_SHIM_FDS");
		strip_preload();
		return;
	}
	if (shim_pid == pid) {
		/* The next program of an exec chain. */
		fdbase = 0x7fffffff;
		each_passed_fd(adopt_fd);
		if (fdbase == 0x7fffffff)
			fdbase = HIGH_BASE;
	} else if (env_num("LISTEN_PID") == pid &&
	    (n = env_num("LISTEN_FDS")) > 0)
		take_listen_fds((int)n);
	else
		return;		/* not started by pmcd: inert */
	publish();
	notify_init();
}

/* --- bind and listen ----------------------------------------------------- */

/* A unix socket by its file (any spelling of the path), or abstract name. */
static int
unix_score(const struct sockaddr_un *sun, socklen_t len,
    const struct lsock *ls)
{
	const struct sockaddr_un	*lsun = (const void *)&ls->ss;
	size_t				 off = offsetof(struct sockaddr_un,
					    sun_path);
	char				 path[sizeof(sun->sun_path) + 1];
	struct stat			 sb;

	if (len <= off || len > sizeof(*sun))
		return (0);
	if (sun->sun_path[0] == '\0')
		return (ls->len == len &&
		    memcmp(sun->sun_path, lsun->sun_path, len - off) == 0 ? 3 :
		    0);
	if (ls->fino == 0)
		return (0);
	memcpy(path, sun->sun_path, len - off);
	path[len - off] = '\0';
	if (stat(path, &sb) == -1 || !S_ISSOCK(sb.st_mode))
		return (0);
	return (sb.st_dev == ls->fdev && sb.st_ino == ls->fino ? 3 : 0);
}

/*
 * How well the server's address matches a listen socket: 3 the same
 * address, 2 a wildcard on its port, 1 a v6 wildcard on a v4 socket's
 * port, 0 not at all.
 */
static int
inet_score(const struct sockaddr *sa, socklen_t len, const struct lsock *ls,
    int v6only)
{
	const struct sockaddr_in	*in = (const void *)sa;
	const struct sockaddr_in	*lin = (const void *)&ls->ss;
	const struct sockaddr_in6	*in6 = (const void *)sa;
	const struct sockaddr_in6	*lin6 = (const void *)&ls->ss;

	if (sa->sa_family == AF_INET) {
		if (len < sizeof(*in) || ls->ss.ss_family != AF_INET ||
		    in->sin_port != lin->sin_port || in->sin_port == 0)
			return (0);
		if (in->sin_addr.s_addr == lin->sin_addr.s_addr)
			return (3);
		return (in->sin_addr.s_addr == htonl(INADDR_ANY) ? 2 : 0);
	}
	if (len < sizeof(*in6) || in6->sin6_port == 0)
		return (0);
	if (ls->ss.ss_family == AF_INET6) {
		if (in6->sin6_port != lin6->sin6_port)
			return (0);
		if (IN6_ARE_ADDR_EQUAL(&in6->sin6_addr, &lin6->sin6_addr))
			return (3);
		return (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) ? 2 : 0);
	}
	if (ls->ss.ss_family != AF_INET || in6->sin6_port != lin->sin_port)
		return (0);
	if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
	    memcmp(&in6->sin6_addr.s6_addr[12], &lin->sin_addr, 4) == 0)
		return (3);
	return (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr) && !v6only ? 1 : 0);
}

/* The listen socket a bind(fd, sa, len) should get, or -1. */
static int
find(int fd, const struct sockaddr *sa, socklen_t len)
{
	socklen_t	 olen = sizeof(int);
	int		 type, v6only = 0, i, s, best = -1, best_s = 0;

	if (len < sizeof(sa_family_t) || (sa->sa_family != AF_INET &&
	    sa->sa_family != AF_INET6 && sa->sa_family != AF_UNIX))
		return (-1);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) == -1 ||
	    type != SOCK_STREAM)
		return (-1);
	olen = sizeof(int);
	if (sa->sa_family == AF_INET6 && getsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &v6only, &olen) == -1)
		v6only = 0;
	for (i = 0; i < nsocks; i++) {
		if (load_fd(i) == -1)
			continue;
		if (sa->sa_family == AF_UNIX)
			s = socks[i].ss.ss_family != AF_UNIX ? 0 :
			    unix_score((const void *)sa, len, &socks[i]);
		else
			s = inet_score(sa, len, &socks[i], v6only);
		if (s > best_s) {
			best = i;
			best_s = s;
		}
	}
	return (best);
}

/* Set close-on-exec on every copy: the server has bound; see the top. */
static void
seal(void)
{
	int	 i, fd;

	if (__atomic_exchange_n(&bound, 1, __ATOMIC_ACQ_REL))
		return;
	for (i = 0; i < nsocks; i++)
		if ((fd = load_fd(i)) != -1)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Make fd a duplicate of listen socket i; see the top for O_NONBLOCK. */
static int
take(int fd, int i)
{
	int	 fdflags, flags, src, lflags;

	if ((fdflags = fcntl(fd, F_GETFD)) == -1 ||
	    (flags = fcntl(fd, F_GETFL)) == -1 || (src = load_fd(i)) == -1)
		return (-1);
	if (real_dup3(src, fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) == -1)
		return (-1);
	if ((flags & O_NONBLOCK) && (lflags = fcntl(fd, F_GETFL)) != -1 &&
	    !(lflags & O_NONBLOCK))
		fcntl(fd, F_SETFL, lflags | O_NONBLOCK);
	seal();
	return (0);
}

int
bind(int fd, SA_ARG addr, socklen_t len)
{
	const struct sockaddr	*sa = SA_PTR(addr);
	int			 i, saved = errno;

	RESOLVE();
	if (nsocks == 0 || sa == NULL || (i = find(fd, sa, len)) == -1) {
		errno = saved;
		return (real_bind(fd, addr, len));
	}
	if (take(fd, i) == -1)
		return (real_bind(fd, addr, len));
	errno = saved;
	return (0);
}

/* Is fd (any duplicate) one of the listen sockets? */
static int
is_listen_socket(int fd)
{
	struct stat	 sb;
	int		 i;

	if (fstat(fd, &sb) == -1 || !S_ISSOCK(sb.st_mode))
		return (0);
	for (i = 0; i < nsocks; i++)
		if (socks[i].ino == sb.st_ino)
			return (1);
	return (0);
}

/* Once per program: tell pmcd that the server listens. */
static void
notify_listening(void)
{
	int	 s;

	if (notify_len == 0 ||
	    __atomic_exchange_n(&notified, 1, __ATOMIC_ACQ_REL))
		return;
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(s, LISTENING_MSG, sizeof(LISTENING_MSG) - 1,
	    MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&notify_sun,
	    notify_len);
	real_close(s);
}

int
listen(int fd, int backlog)
{
	int	 saved = errno;

	RESOLVE();
	if (nsocks == 0 || !is_listen_socket(fd)) {
		errno = saved;
		return (real_listen(fd, backlog));
	}
	notify_listening();
	errno = saved;
	return (0);
}

int
shutdown(int fd, int how)
{
	int	 saved = errno;

	RESOLVE();
	if (nsocks == 0 || !is_listen_socket(fd)) {
		errno = saved;
		return (real_shutdown(fd, how));
	}
	errno = saved;
	return (0);
}

/* --- descriptors --------------------------------------------------------- */

int
close(int fd)
{
	RESOLVE();
	if (nsocks > 0 && is_ours(fd))
		return (0);
	return (real_close(fd));
}

/* Before fd is replaced by dup2/dup3: move the shim's copy elsewhere. */
static void
move_away(int fd)
{
	int	 i, nfd, cmd;

	while (__atomic_exchange_n(&moving, 1, __ATOMIC_ACQUIRE))
		;
	for (i = 0; i < nsocks; i++) {
		if (load_fd(i) != fd)
			continue;
		cmd = fcntl(fd, F_GETFD) & FD_CLOEXEC ? F_DUPFD_CLOEXEC :
		    F_DUPFD;
		nfd = fcntl(fd, cmd, fdbase);
		__atomic_store_n(&socks[i].fd, nfd, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&moving, 0, __ATOMIC_RELEASE);
}

/* dup2/dup3 failed after the move: the old copy is no longer ours. */
static int
dup_failed(int newfd)
{
	int	 saved = errno;

	if (fcntl(newfd, F_GETFD) != -1 && !is_ours(newfd))
		real_close(newfd);
	errno = saved;
	return (-1);
}

int
dup2(int oldfd, int newfd)
{
	int	 moved = 0;

	RESOLVE();
	if (nsocks > 0 && oldfd != newfd && is_ours(newfd)) {
		move_away(newfd);
		moved = 1;
	}
	if (real_dup2(oldfd, newfd) == -1)
		return (moved ? dup_failed(newfd) : -1);
	return (newfd);
}

int
dup3(int oldfd, int newfd, int flags)
{
	int	 moved = 0;

	RESOLVE();
	if (nsocks > 0 && oldfd != newfd && is_ours(newfd)) {
		move_away(newfd);
		moved = 1;
	}
	if (real_dup3(oldfd, newfd, flags) == -1)
		return (moved ? dup_failed(newfd) : -1);
	return (newfd);
}

#ifdef HAVE_CLOSE_RANGE
/* The shim's descriptors, ascending. */
static int
sorted_fds(int *fds)
{
	int	 i, j, n = 0, fd;

	for (i = 0; i < nsocks; i++) {
		if ((fd = load_fd(i)) == -1)
			continue;
		for (j = n; j > 0 && fds[j - 1] > fd; j--)
			fds[j] = fds[j - 1];
		fds[j] = fd;
		n++;
	}
	return (n);
}

/* The real close_range on [first, last] minus the shim's descriptors. */
int
close_range(unsigned int first, unsigned int last, int flags)
{
	int		 fds[MAX_SOCKS], i, n;
	unsigned int	 a = first, fd;

	RESOLVE();
	if (real_close_range == NULL) {
		errno = ENOSYS;
		return (-1);
	}
	if (nsocks == 0 || first > last)
		return (real_close_range(first, last, flags));
	n = sorted_fds(fds);
	for (i = 0; i < n; i++) {
		fd = (unsigned int)fds[i];
		if (fd < a || fd > last)
			continue;
		if (fd > a && real_close_range(a, fd - 1, flags) == -1)
			return (-1);
		a = fd + 1;
	}
	if (a <= last)
		return (real_close_range(a, last, flags));
	return (0);
}

/* closefrom, around the shim's descriptors. */
void
closefrom(int lowfd)
{
	int		 fds[MAX_SOCKS], i, n;
	unsigned int	 a = lowfd < 0 ? 0 : (unsigned int)lowfd, fd, k;

	RESOLVE();
	if (real_closefrom == NULL)
		return;
	if (nsocks == 0) {
		real_closefrom(lowfd);
		return;
	}
	n = sorted_fds(fds);
	for (i = 0; i < n; i++) {
		fd = (unsigned int)fds[i];
		if (fd < a)
			continue;
		if (fd > a && (real_close_range == NULL ||
		    real_close_range(a, fd - 1, 0) == -1))
			for (k = a; k < fd; k++)	/* no close_range(2) */
				real_close((int)k);
		a = fd + 1;
	}
	real_closefrom((int)a);
}
#endif

/* --- the file of a unix listen socket ----------------------------------- */

static int
is_listen_file(int dirfd, const char *path)
{
	struct stat	 sb;
	int		 i, saved = errno;

	if (nunix == 0 || path == NULL ||
	    fstatat(dirfd, path, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISSOCK(sb.st_mode)) {
		errno = saved;
		return (0);
	}
	for (i = 0; i < nsocks; i++)
		if (socks[i].fino != 0 && socks[i].fino == sb.st_ino &&
		    socks[i].fdev == sb.st_dev)
			return (1);
	errno = saved;
	return (0);
}

int
unlink(const char *path)
{
	RESOLVE();
	if (is_listen_file(AT_FDCWD, path))
		return (0);
	return (real_unlink(path));
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	RESOLVE();
	if (!(flags & AT_REMOVEDIR) && is_listen_file(dirfd, path))
		return (0);
	return (real_unlinkat(dirfd, path, flags));
}
