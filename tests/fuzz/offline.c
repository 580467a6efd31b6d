/*
 * offline.c -- host lookups that never leave the machine.
 *
 * specload.c resolves listen: host names with getaddrinfo(3), which may wait
 * on DNS; a fuzzer would hang there, or send queries out.  Here only
 * numeric addresses and "localhost" resolve, from libFuzzer's start in
 * every harness that links this file.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netdb.h>
#include <string.h>

#include "fuzz.h"
#include "lookup.h"

static int
offline_getaddrinfo(const char *host, const char *serv,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo	 h = *hints;

	if (host != NULL && strcmp(host, "localhost") == 0)
		host = h.ai_family == AF_INET6 ? "::1" : "127.0.0.1";
	h.ai_flags |= AI_NUMERICHOST;
	return (getaddrinfo(host, serv, &h, res));
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	spec_getaddrinfo = offline_getaddrinfo;
	return (0);
}
