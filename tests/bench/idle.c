/*
 * idle -- the bench's trivial instance for the scale figure: says
 * READY=1 to NOTIFY_SOCKET when set, then waits for a signal.
 */

#include <unistd.h>

#include "../fixtures/notify-send.h"

int
main(void)
{
	(void)notify_send("READY=1");
	for (;;)
		pause();
}
