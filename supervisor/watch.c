/*
 * watch.c -- watch: an app's folders through inotify; a change, once
 * watch_delay has passed without another, is a rolling reload (as pmc
 * reload), so no request fails for it.
 *
 * Every folder under each watched path is watched, those made later
 * too; a folder or file whose name matches ignore_watch (fnmatch(3),
 * on the name and on the path under the app's cwd) is left out, and so
 * are node_modules and .git always.  Links are not followed.  When the
 * kernel has no watch left (fs.inotify.max_user_watches), describe says
 * how many folders are watched and that the rest are not.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pmcd.h"

#define WATCH_EVENTS	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | \
	IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
	IN_DONT_FOLLOW)
#define WATCH_DIRS_MAX	65536	/* folders of one app */

static const char *const always_ignored[] = { "node_modules", ".git" };

struct wdir {
	int	 wd;
	char	*path;		/* absolute */
};

struct watcher {
	struct app	*app;
	const struct app_spec *spec;	/* the one it watches for */
	struct watch	 w;
	struct timer	 delay;
	struct wdir	*dirs;
	size_t		 ndirs, cap;
	char		 error[256];	/* why some are not watched; "" */
	unsigned long long changes, ignored, reloads;
	int		 pending;	/* a reload waits for watch_delay */
};

static void	watch_read(struct watch *, uint32_t);

/* Is the entry at path (name its last part) one to leave out? */
static int
ignored(const struct app *app, const char *path, const char *name)
{
	const struct app_spec	*s = app->spec;
	const char		*rel = path;
	size_t			 i, n = strlen(s->cwd);

	for (i = 0; i < sizeof(always_ignored) / sizeof(always_ignored[0]); i++)
		if (strcmp(name, always_ignored[i]) == 0)
			return (1);
	if (strncmp(path, s->cwd, n) == 0 && path[n] == '/')
		rel = path + n + 1;
	for (i = 0; i < s->nignore_watch; i++)
		if (fnmatch(s->ignore_watch[i], name, 0) == 0 ||
		    fnmatch(s->ignore_watch[i], rel, FNM_PATHNAME) == 0)
			return (1);
	return (0);
}

static const char *
dir_of(const struct watcher *wt, int wd)
{
	size_t	 i;

	for (i = 0; i < wt->ndirs; i++)
		if (wt->dirs[i].wd == wd)
			return (wt->dirs[i].path);
	return (NULL);
}

/* Watch path and every folder under it, not followed through links. */
static void
add_tree(struct watcher *wt, const char *path)
{
	struct dirent	*de;
	struct stat	 sb;
	char		 sub[PATH_MAX];
	DIR		*d;
	int		 wd, fd;

	if (wt->ndirs >= WATCH_DIRS_MAX) {
		snprintf(wt->error, sizeof(wt->error), "more than %d folders: "
		    "the rest are not watched", WATCH_DIRS_MAX);
		return;
	}
	if ((wd = inotify_add_watch(wt->w.fd, path, WATCH_EVENTS)) == -1) {
		if (errno == ENOSPC)
			snprintf(wt->error, sizeof(wt->error), "out of inotify "
			    "watches (sysctl fs.inotify.max_user_watches) "
			    "after %zu folders: the rest are not watched",
			    wt->ndirs);
		else if (errno != ENOENT && errno != ENOTDIR)
			snprintf(wt->error, sizeof(wt->error), "%s: %s", path,
			    strerror(errno));
		return;
	}
	if (dir_of(wt, wd) == NULL) {
		if (wt->ndirs == wt->cap) {
			wt->cap = wt->cap == 0 ? 16 : wt->cap * 2;
			if ((wt->dirs = reallocarray(wt->dirs, wt->cap,
			    sizeof(*wt->dirs))) == NULL)
				fatal("reallocarray");
		}
		wt->dirs[wt->ndirs].wd = wd;
		if ((wt->dirs[wt->ndirs++].path = strdup(path)) == NULL)
			fatal("strdup");
	}
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
		    de->d_name) >= sizeof(sub))
			continue;
		if (de->d_type == DT_UNKNOWN) {
			if (fstatat(dirfd(d), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISDIR(sb.st_mode))
				continue;
		} else if (de->d_type != DT_DIR)
			continue;
		if (!ignored(wt->app, sub, de->d_name))
			add_tree(wt, sub);
	}
	closedir(d);
}

static void
delay_done(void *arg)
{
	struct watcher	*wt = arg;
	struct app	*app = wt->app;

	wt->pending = 0;
	if (app->deleting || sv->stopping)
		return;
	if (reload_request(app) == RELOAD_BUSY) {
		/* One is under way: this change waits for its end. */
		wt->pending = 1;
		timer_start(&wt->delay, app->spec->watch_delay_ms);
		return;
	}
	wt->reloads++;
	log_info("%s: watch: a change, reloading", app->spec->name);
}

static void
watch_read(struct watch *w, uint32_t events)
{
	struct watcher		*wt = w->arg;
	char			 buf[16384], path[PATH_MAX];
	const struct inotify_event *ev;
	const char		*dir;
	ssize_t			 n;
	size_t			 off;

	(void)events;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off + sizeof(*ev) <= (size_t)n;
		    off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if ((dir = dir_of(wt, ev->wd)) == NULL ||
			    (ev->mask & IN_IGNORED))
				continue;
			if (ev->len == 0 || ev->name[0] == '\0') {
				wt->changes++;
				continue;
			}
			snprintf(path, sizeof(path), "%s/%s", dir, ev->name);
			if (ignored(wt->app, path, ev->name)) {
				wt->ignored++;
				continue;
			}
			wt->changes++;
			/* A new folder: watched, and what it holds. */
			if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
			    (ev->mask & IN_ISDIR))
				add_tree(wt, path);
			wt->pending = 1;
			timer_start(&wt->delay, wt->app->spec->watch_delay_ms);
		}
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		log_warn("%s: watch: read", wt->app->spec->name);
}

void
watch_free(struct app *app)
{
	struct watcher	*wt = app->watcher;
	size_t		 i;

	if (wt == NULL)
		return;
	timer_stop(&wt->delay);
	if (wt->w.fd != -1)
		watch_close(&wt->w);
	for (i = 0; i < wt->ndirs; i++)
		free(wt->dirs[i].path);
	free(wt->dirs);
	free(wt);
	app->watcher = NULL;
}

/* The app's spec may be new: then watch what it says, afresh. */
void
watch_sync(struct app *app)
{
	const struct app_spec	*s = app->spec;
	struct watcher		*wt;
	char			 path[PATH_MAX];
	size_t			 i;

	if (app->watcher != NULL && app->watcher->spec == s)
		return;
	watch_free(app);
	if (s->nwatch == 0 || app->deleting)
		return;
	if ((wt = calloc(1, sizeof(*wt))) == NULL)
		fatal("calloc");
	wt->app = app;
	wt->spec = s;
	timer_set(&wt->delay, delay_done, wt);
	wt->w.fn = watch_read;
	wt->w.arg = wt;
	if ((wt->w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    watch_add(&wt->w, EPOLLIN) == -1) {
		snprintf(wt->error, sizeof(wt->error), "inotify: %s%s",
		    strerror(errno), errno == EMFILE ? " (fs.inotify."
		    "max_user_instances)" : "");
		if (wt->w.fd != -1)
			close(wt->w.fd);
		wt->w.fd = -1;
		log_warnx("%s: watch: %s", s->name, wt->error);
		app->watcher = wt;
		return;
	}
	for (i = 0; i < s->nwatch; i++) {
		if (s->watch[i][0] == '/')
			snprintf(path, sizeof(path), "%s", s->watch[i]);
		else if (strcmp(s->watch[i], ".") == 0)
			snprintf(path, sizeof(path), "%s", s->cwd);
		else
			snprintf(path, sizeof(path), "%s/%s", s->cwd,
			    s->watch[i]);
		add_tree(wt, path);
	}
	if (wt->error[0] != '\0')
		log_warnx("%s: watch: %s", s->name, wt->error);
	app->watcher = wt;
}

void
watch_describe(const struct app *app, struct pbuf *out)
{
	const struct watcher	*wt = app->watcher;

	if (wt == NULL)
		return;
	pbuf_printf(out, "watch: %zu folder%s (node_modules and .git left "
	    "out), %llu change%s seen, %llu ignored, %llu reload%s%s\n",
	    wt->ndirs, wt->ndirs == 1 ? "" : "s", wt->changes,
	    wt->changes == 1 ? "" : "s", wt->ignored, wt->reloads,
	    wt->reloads == 1 ? "" : "s", wt->pending ?
	    ", one waiting for watch_delay" : "");
	if (wt->error[0] != '\0')
		pbuf_printf(out, "  not all watched: %s\n", wt->error);
}
