/*
 * frame.h -- what instances send, cut into pieces: the lines of their
 * stdout and stderr, and their sd_notify datagrams.  Pure functions of
 * the bytes, shared by logs.c and notify.c, and fuzzed by tests/fuzz/.
 */
#ifndef PMC_FRAME_H
#define PMC_FRAME_H

#include <stddef.h>

#define LINE_MAX_BYTES	16384		/* longer lines are cut */

/*
 * Hand fn(arg, line, len, cut) each whole line in buf[0..len), without
 * its newline; then, when no newline is left and the rest fills all cap
 * bytes, that rest too with cut set.  Moves what is left (the start of
 * a line) to the front of buf and returns its length, always < cap.
 * Every line handed over is at most cap bytes and holds no newline.
 */
size_t	 lines_cut(char *buf, size_t len, size_t cap,
	    void (*fn)(void *, const char *, size_t, int), void *arg);

/* What one notify datagram said. */
struct notify_msg {
	int		 ready;		/* READY=1 */
	int		 listening;	/* PMC_LISTENING=1, from the shim */
	const char	*status;	/* the last STATUS=, NULL when none */
	size_t		 status_len;	/* not NUL-terminated */
};

/*
 * Parse a datagram of newline-separated assignments; other lines are
 * ignored.  Returns 0, or -1 when it holds a NUL byte: such a datagram
 * is ignored whole, as systemd does.
 */
int	 notify_parse(const char *buf, size_t len, struct notify_msg *);

#endif /* PMC_FRAME_H */
