/*
 * message.c -- what a line from an instance's channel means, past
 * Node's handle protocol (channel.c): "ready" is readiness under ready:
 * notify and auto; Node's cluster protocol goes to cluster.c; Node's
 * other internal messages are ignored; anything else is a "message"
 * event for pmc events, as it is.
 */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "json.h"
#include "log.h"
#include "pmcd.h"

void
message_from(struct instance *in, const char *s, size_t len)
{
	enum ready_mode	 r = in->app->spec->ready;
	const char	*v;
	size_t		 vlen;
	char		 cmd[32], *flat;

	if (json_is_word(s, len, "ready")) {
		if (r == READY_NOTIFY || r == READY_AUTO)
			instance_event(in, IE_READY);
		return;
	}
	if (json_member(s, len, "cmd", &v, &vlen) == 0 &&
	    json_word(v, vlen, cmd, sizeof(cmd)) == 0 &&
	    strncmp(cmd, "NODE_", 5) == 0) {
		if (strcmp(cmd, "NODE_CLUSTER") == 0 &&
		    in->app->spec->node_cluster &&
		    cluster_message(in, s, len) == 1 && r == READY_AUTO)
			instance_event(in, IE_READY);
		return;
	}
	if (!events_wanted())
		return;
	if ((flat = malloc(len + 1)) == NULL)
		fatal("malloc");
	json_compact(s, len, flat);
	{
		struct ev_field	 f[] = { EV_JSON("data", flat) };

		events_emit("message", in->app->spec->name, in->slot, f, 1);
	}
	free(flat);
}
