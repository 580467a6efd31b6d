/*
 * idle -- the bench's trivial instance for the scale figure: says
 * READY=1 to NOTIFY_SOCKET when set, then waits for a signal.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(void)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	size_t			 plen;
	int			 fd;

	if (path != NULL && (path[0] == '/' || path[0] == '@') &&
	    (plen = strlen(path)) < sizeof(sun.sun_path) &&
	    (fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) != -1) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, path, plen);
		len = offsetof(struct sockaddr_un, sun_path) + plen;
		if (path[0] == '@')
			sun.sun_path[0] = '\0';
		sendto(fd, "READY=1", 7, MSG_NOSIGNAL,
		    (struct sockaddr *)&sun, len);
		close(fd);
	}
	for (;;)
		pause();
}
