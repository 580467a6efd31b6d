/*
 * client.h -- talking to pmcd over $PMC_HOME/pmc.sock.
 */
#ifndef PMC_CLIENT_H
#define PMC_CLIENT_H

#include <stdint.h>

#include "protocol.h"

/* Called with each MSG_DATA record; -1 when it is malformed. */
typedef int (*client_data_fn)(const char *, void *);

/* Check PMC_HOME (creating it when create is set); reports, -1 on error. */
int	 client_home(int create);
/* How long a connect waits for pmcd to accept it. */
#define CLIENT_CONNECT_S	5

/*
 * Connect to pmcd, waiting at most seconds for it to accept: the socket,
 * or -1 with errno, ETIMEDOUT when pmcd accepted nothing in time.
 */
int	 client_connect_within(int);
/* client_connect_within(CLIENT_CONNECT_S). */
int	 client_connect(void);
/* The errno of a failed client_connect says that no pmcd answers. */
int	 client_not_running(int);
/* Report a failed client_connect. */
void	 client_connect_error(int);
/* client_home, then client_connect: the socket, or -1 once reported. */
int	 client_open(void);
/*
 * client_open for the verbs that start pmcd (start, resurrect): creates
 * PMC_HOME and runs $PMCD, else the pmcd beside this pmc, when none
 * answers.  The socket, or -1 once reported.
 */
int	 client_start_open(void);
/*
 * Send one request and print its replies: MSG_OUT to stdout, MSG_ERR to
 * stderr as "pmc: " lines, each MSG_DATA record to fn.  Returns the exit
 * status that MSG_EXIT carries, or 1 once a failure is reported.
 */
int	 client_request(int, uint32_t, const struct pbuf *, client_data_fn,
	    void *);
/* client_open, send argv as the fields, print the replies, close. */
int	 client_call(uint32_t, int, char **);

#endif /* PMC_CLIENT_H */
