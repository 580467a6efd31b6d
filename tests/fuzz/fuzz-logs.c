/*
 * fuzz-logs.c -- an instance's output through logs.c, as pmcd writes it
 * to the app's log file: lines_cut, emit's batching and rotation at
 * logs.max_size.  The event loop is stubbed: the harness writes the
 * output into a pipe in pieces and calls the pipe's handler after each,
 * then closes the pipe.
 *
 * Input: one byte picks logs.max_size (0: never rotate, else 64 bytes
 * or more), one picks logs.timestamps, the instance's slot and the piece
 * sizes, then the output.
 *
 * Invariants: the files, oldest first, hold every line of the output in
 * order (all of it when fewer than logs.keep rotations happened, its
 * end otherwise), each "[slot] " tagged, timestamped when asked, cut
 * into marked pieces past LINE_MAX_BYTES; no file passes max_size
 * unless it holds a single line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "fuzz.h"
#include "loop.h"
#include "pmcd.h"

#define KEEP		4
#define SPLIT_MARK	" [pmc: line continues]"
#define TS_LEN		25	/* "2026-11-22T01:02:03.456Z " */

/* --- the event loop, stubbed ------------------------------------------------ */

static struct pmcd	 the_sv;
struct pmcd		*sv = &the_sv;
static struct watch	*watched;

int
watch_add(struct watch *w, uint32_t events)
{
	(void)events;
	watched = w;
	return (0);
}

void
watch_close(struct watch *w)
{
	close(w->fd);
	w->fd = -1;
	watched = NULL;
}

void
loop_defer(void (*fn)(void *), void *arg)
{
	fn(arg);
}

/* pmc update's pipe records (logs_load) look their app up: none here. */
struct app *
app_find(const char *name)
{
	(void)name;
	return (NULL);
}

/* --- the harness ------------------------------------------------------------ */

static char	 dir[PATH_MAX];
static char	 path[PATH_MAX];

static void
cleanup(void)
{
	char	 name[PATH_MAX + 16];
	int	 i;

	unlink(path);
	for (i = 1; i <= KEEP + 1; i++) {
		snprintf(name, sizeof(name), "%s.%d", path, i);
		unlink(name);
	}
}

static void
remove_dir(void)
{
	cleanup();
	rmdir(dir);
}

/* Append file's content to *buf; how many bytes, or -1 when none. */
static long
slurp(const char *file, char **buf, size_t *len)
{
	char	 chunk[8192];
	ssize_t	 n;
	long	 total = 0;
	int	 fd;

	if ((fd = open(file, O_RDONLY)) == -1) {
		CHECK(errno == ENOENT);
		return (-1);
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		CHECK((*buf = realloc(*buf, *len + (size_t)n)) != NULL);
		memcpy(*buf + *len, chunk, (size_t)n);
		*len += (size_t)n;
		total += n;
	}
	CHECK(n == 0);
	close(fd);
	return (total);
}

/* No file passes max_size unless it is one line. */
static void
check_size(const char *start, long n, uint64_t max_size)
{
	if (max_size != 0 && (uint64_t)n > max_size)
		CHECK(memchr(start, '\n', (size_t)n - 1) == NULL);
}

/* The lines expected, without timestamps, as emit writes them. */
static char *
expect(const char *out, size_t len, int slot, size_t *elen)
{
	char	*e, tag[16];
	size_t	 i, line = 0, t, cap;

	t = (size_t)snprintf(tag, sizeof(tag), "[%d] ", slot);
	/* Each byte gives at most a tag and itself; then marks, a newline. */
	cap = len * (t + 1) + (len / LINE_MAX_BYTES + 1) * sizeof(SPLIT_MARK) +
	    1;
	CHECK((e = malloc(cap)) != NULL);
	*elen = 0;
	for (i = 0; i < len; i++) {
		if (line == 0) {
			memcpy(e + *elen, tag, t);
			*elen += t;
		}
		if (out[i] == '\n') {
			e[(*elen)++] = '\n';
			line = 0;
			continue;
		}
		e[(*elen)++] = out[i];
		if (++line == LINE_MAX_BYTES) {
			memcpy(e + *elen, SPLIT_MARK "\n", sizeof(SPLIT_MARK));
			*elen += sizeof(SPLIT_MARK);
			line = 0;
		}
	}
	if (line > 0)
		e[(*elen)++] = '\n';
	return (e);
}

/* Drop each line's timestamp, checking its shape. */
static void
strip_timestamps(char *buf, size_t *len)
{
	static const char	 shape[] = "dddd-dd-ddTdd:dd:dd.dddZ ";
	size_t			 r = 0, w = 0, i;

	while (r < *len) {
		CHECK(*len - r >= TS_LEN);
		for (i = 0; i < TS_LEN; i++)
			CHECK(shape[i] == 'd' ? buf[r + i] >= '0' &&
			    buf[r + i] <= '9' : buf[r + i] == shape[i]);
		r += TS_LEN;
		while (r < *len && buf[r] != '\n')
			buf[w++] = buf[r++];
		CHECK(r < *len);
		buf[w++] = buf[r++];
	}
	*len = w;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct app_spec	 spec;
	struct app	 app;
	struct instance	 in;
	char		 name[PATH_MAX + 16], *files = NULL, *e;
	size_t		 flen = 0, elen, off, n;
	unsigned int	 seed;
	long		 got;
	int		 p[2], i, nfiles = 0;

	if (size < 2)
		return (0);
	if (dir[0] == '\0') {		/* in memory when it can */
		snprintf(dir, sizeof(dir), "%s/pmc-fuzz-logs.XXXXXX",
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		CHECK(mkdtemp(dir) != NULL);
		snprintf(path, sizeof(path), "%s/web.out.log", dir);
		atexit(remove_dir);
	}
	cleanup();
	memset(&spec, 0, sizeof(spec));
	memset(&app, 0, sizeof(app));
	memset(&in, 0, sizeof(in));
	strlcpy(spec.name, "web", sizeof(spec.name));
	spec.log_out = path;
	spec.log_max_size = data[0] == 0 ? 0 : 64 + (uint64_t)data[0] * 8;
	spec.log_keep = KEEP;
	spec.log_timestamps = data[1] & 1;
	spec.log_to = LOGS_TO_FILE;
	app.spec = &spec;
	in.app = &app;
	in.slot = (data[1] >> 1) & 3;
	seed = data[1];
	data += 2;
	size -= 2;

	CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
	outpipe_new(&in, p[0], 0);
	CHECK(watched != NULL);
	for (off = 0; off < size; off += n) {
		seed = seed * 1103515245 + 12345;
		n = 1 + (seed >> 16) % 4096;
		if (n > size - off)
			n = size - off;
		CHECK(write(p[1], data + off, n) == (ssize_t)n);
		watched->fn(watched, EPOLLIN);
	}
	close(p[1]);
	watched->fn(watched, EPOLLIN);	/* the end of the pipe */
	CHECK(watched == NULL);

	/* Oldest first. */
	for (i = KEEP; i >= 0; i--) {
		if (i > 0)
			snprintf(name, sizeof(name), "%s.%d", path, i);
		else
			strlcpy(name, path, sizeof(name));
		off = flen;
		if ((got = slurp(name, &files, &flen)) == -1)
			continue;
		nfiles++;
		if (got > 0)
			check_size(files + off, got, spec.log_max_size);
	}
	if (spec.log_timestamps)
		strip_timestamps(files, &flen);
	e = expect((const char *)data, size, in.slot, &elen);
	CHECK(flen <= elen);
	CHECK(flen == 0 || memcmp(files, e + elen - flen, flen) == 0);
	CHECK(flen == 0 || elen == flen || e[elen - flen - 1] == '\n');
	if (nfiles <= KEEP)
		CHECK(flen == elen);
	free(files);
	free(e);
	return (0);
}
