/*
 * ecosystem.c -- PM2 process files as pm.yaml (see ecosystem.h).
 *
 * The file is read into a tree (JSON through libyaml, after json.c has
 * checked it and put it on one line), each app's PM2 fields are taken
 * in, and a pm.yaml is written out, every string quoted (a JSON string
 * is a YAML double-quoted scalar), so that what the user wrote reaches
 * the spec loader as it is and the loader judges it.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecosystem.h"
#include "json.h"
#include "protocol.h"
#include "xmalloc.h"
#include "ytree.h"

#define ARGV_MAX	256	/* words of a command */

struct eco {
	const char		*path;
	const char		*envname;
	struct pbuf		*out;
	struct spec_errors	*warns;
	struct spec_errors	*errs;
	char			 app[128];	/* the app's name, for messages */
};

/* One app's fields, as found. */
struct pm2app {
	const struct ynode	*name, *script, *args, *interpreter;
	const struct ynode	*interpreter_args, *node_args, *cwd;
	const struct ynode	*instances, *exec_mode, *env, *env_chosen;
	const struct ynode	*autorestart, *max_restarts, *min_uptime;
	const struct ynode	*restart_delay, *exp_backoff, *kill_timeout;
	const struct ynode	*listen_timeout, *wait_ready, *max_memory;
	const struct ynode	*out_file, *error_file, *timestamps;
	const struct ynode	*uid, *gid, *cron;
	const struct ynode	*watch, *ignore_watch, *watch_delay;
};

/* PM2's fields that pmc has no meaning for yet, and why. */
static const struct {
	const char	*name;
	const char	*why;
} later[] = {
	{ "log_file", "pmc keeps out and err apart; no combined file" },
};

static const struct ynode *
ymap_get(const struct ynode *map, const char *key)
{
	size_t	 i;

	if (map == NULL || map->type != Y_MAP)
		return (NULL);
	for (i = 0; i + 1 < map->nkids; i += 2)
		if (map->kids[i]->type == Y_SCALAR &&
		    strcmp(map->kids[i]->text, key) == 0)
			return (map->kids[i + 1]);
	return (NULL);
}

static void
warn(struct eco *e, const char *field, const char *why)
{
	spec_errors_add(e->warns, "%s: app %s: %s: %s", e->path,
	    e->app[0] != '\0' ? e->app : "?", field, why);
}

static int
scalar(const struct ynode *n)
{
	return (n != NULL && n->type == Y_SCALAR && !ynode_is_null(n));
}

static void
str(struct pbuf *pb, const char *s)
{
	json_quote(pb, s, strlen(s));
}

/* "    key: "text"": key carries its indent past the app's four. */
static void
kv(struct eco *e, const char *key, const char *text)
{
	pbuf_printf(e->out, "    %s: ", key);
	str(e->out, text);
	pbuf_add(e->out, "\n", 1);
}

/*
 * A PM2 list field: a string or a list of strings; with bools, true
 * (or false, then nothing) as it is.
 */
static void
list(struct eco *e, const char *key, const struct ynode *n, int bools)
{
	size_t	 i;

	if (n == NULL || ynode_is_null(n))
		return;
	if (n->type == Y_SCALAR && bools && (strcmp(n->text, "true") == 0 ||
	    strcmp(n->text, "false") == 0)) {
		if (strcmp(n->text, "true") == 0)
			pbuf_printf(e->out, "    %s: true\n", key);
		return;
	}
	pbuf_printf(e->out, "    %s: [", key);
	if (n->type == Y_SCALAR)
		str(e->out, n->text);
	for (i = 0; n->type == Y_SEQ && i < n->nkids; i++) {
		if (i > 0)
			pbuf_add(e->out, ", ", 2);
		if (n->kids[i]->type == Y_SCALAR)
			str(e->out, n->kids[i]->text);
	}
	pbuf_printf(e->out, "]\n");
}

/* Is the scalar true (YAML's and JSON's words)? */
static int
truth(const struct ynode *n)
{
	return (scalar(n) && (strcmp(n->text, "true") == 0 ||
	    strcmp(n->text, "True") == 0 || strcmp(n->text, "yes") == 0));
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return (0);
	return (1);
}

/* A PM2 duration: a number of ms, or text as it is ("10s"). */
static void
duration(struct eco *e, const char *field, const struct ynode *n)
{
	if (!scalar(n))
		return;
	pbuf_printf(e->out, "    %s: ", field);
	if (all_digits(n->text))
		pbuf_printf(e->out, "%sms\n", n->text);
	else {
		str(e->out, n->text);
		pbuf_add(e->out, "\n", 1);
	}
}

/* Words of a string as a shell splits them, quotes kept together. */
static size_t
split(const char *s, char **w, size_t max)
{
	size_t	 n = 0;
	char	 q, *b;

	while (*s != '\0' && n < max) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		b = w[n] = xcalloc(1, strlen(s) + 1);
		q = 0;
		for (; *s != '\0' && (q || !isspace((unsigned char)*s)); s++) {
			if (!q && (*s == '"' || *s == '\'')) {
				q = *s;
				continue;
			}
			if (q && *s == q) {
				q = 0;
				continue;
			}
			*b++ = *s;
		}
		*b = '\0';
		n++;
	}
	return (n);
}

/* args-like: a string (split) or a list of strings, appended to w. */
static size_t
words(const struct ynode *n, char **w, size_t at)
{
	size_t	 i;

	if (scalar(n))
		return (at + split(n->text, w + at, ARGV_MAX - at));
	if (n == NULL || n->type != Y_SEQ)
		return (at);
	for (i = 0; i < n->nkids && at < ARGV_MAX; i++)
		if (n->kids[i]->type == Y_SCALAR)
			w[at++] = xstrdup(n->kids[i]->text);
	return (at);
}

const char *
eco_interpreter(const char *script)
{
	static const struct {
		const char	*ext;
		const char	*prog;
	} by_ext[] = {
		{ ".js", "node" }, { ".cjs", "node" }, { ".mjs", "node" },
		{ ".py", "python3" }, { ".sh", "bash" }, { ".rb", "ruby" },
		{ ".pl", "perl" }, { ".php", "php" },
	};
	const char	*dot = strrchr(script, '.');
	size_t		 i;

	if (dot == NULL || strchr(dot, '/') != NULL)
		return (NULL);
	for (i = 0; i < sizeof(by_ext) / sizeof(by_ext[0]); i++)
		if (strcmp(dot, by_ext[i].ext) == 0)
			return (by_ext[i].prog);
	return (NULL);
}

static int
is_node(const char *prog)
{
	const char	*base = strrchr(prog, '/');

	base = base != NULL ? base + 1 : prog;
	return (strcmp(base, "node") == 0 || strcmp(base, "nodejs") == 0);
}

/* command: from script, interpreter, their args; 1 when it is node. */
static int
command(struct eco *e, const struct pm2app *a)
{
	char		*w[ARGV_MAX];
	const char	*interp = NULL;
	size_t		 n = 0, i;
	int		 node = 0;

	if (scalar(a->interpreter) && strcmp(a->interpreter->text, "none") != 0)
		interp = a->interpreter->text;
	else if (!scalar(a->interpreter))
		interp = eco_interpreter(a->script->text);
	if (interp != NULL) {
		w[n++] = xstrdup(interp);
		node = is_node(interp);
		if (node)
			n = words(a->node_args, w, n);
		n = words(a->interpreter_args, w, n);
	}
	if (n < ARGV_MAX)
		w[n++] = xstrdup(a->script->text);
	n = words(a->args, w, n);
	pbuf_printf(e->out, "    command: [");
	for (i = 0; i < n; i++) {
		if (i > 0)
			pbuf_add(e->out, ", ", 2);
		str(e->out, w[i]);
		free(w[i]);
	}
	pbuf_printf(e->out, "]\n");
	return (node);
}

/* env, then env_<envname> over it: the last value of a name wins. */
static void
env(struct eco *e, const struct pm2app *a)
{
	const struct ynode	*maps[2] = { a->env, a->env_chosen }, *m, *v;
	size_t			 i, j;
	int			 head = 0;

	for (i = 0; i < 2; i++) {
		if ((m = maps[i]) == NULL || m->type != Y_MAP)
			continue;
		for (j = 0; j + 1 < m->nkids; j += 2) {
			/* Overridden by env_<envname>: written there. */
			if (i == 0 && ymap_get(maps[1], m->kids[j]->text))
				continue;
			v = m->kids[j + 1];
			if (v->type != Y_SCALAR) {
				warn(e, "env", "a value that is not a string, "
				    "a number or a boolean; left out");
				continue;
			}
			if (!head++)
				pbuf_printf(e->out, "    env:\n");
			pbuf_printf(e->out, "      ");
			str(e->out, m->kids[j]->text);
			pbuf_printf(e->out, ": ");
			/* null is the empty string, as in process.env */
			str(e->out, ynode_is_null(v) && v->plain ? "" : v->text);
			pbuf_add(e->out, "\n", 1);
		}
	}
}

/* Take one PM2 field of an app in, or warn about it. */
static void
take(struct eco *e, struct pm2app *a, const char *key, const struct ynode *v)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} fields[] = {
#define F(n, m)	{ n, offsetof(struct pm2app, m) }
		F("name", name), F("script", script), F("args", args),
		F("interpreter", interpreter), F("exec_interpreter", interpreter),
		F("interpreter_args", interpreter_args),
		F("node_args", node_args), F("cwd", cwd),
		F("instances", instances), F("exec_mode", exec_mode),
		F("env", env), F("autorestart", autorestart),
		F("max_restarts", max_restarts), F("min_uptime", min_uptime),
		F("restart_delay", restart_delay),
		F("exp_backoff_restart_delay", exp_backoff),
		F("kill_timeout", kill_timeout),
		F("listen_timeout", listen_timeout),
		F("wait_ready", wait_ready),
		F("max_memory_restart", max_memory),
		F("out_file", out_file), F("output", out_file),
		F("error_file", error_file), F("err_file", error_file),
		F("error", error_file), F("log_date_format", timestamps),
		F("time", timestamps), F("uid", uid), F("user", uid),
		F("gid", gid), F("cron_restart", cron), F("watch", watch),
		F("ignore_watch", ignore_watch), F("watch_delay", watch_delay),
#undef F
	};
	size_t	 i;
	char	 why[160];

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(key, fields[i].name) == 0) {
			*(const struct ynode **)((char *)a + fields[i].off) = v;
			return;
		}
	if (strncmp(key, "env_", 4) == 0) {
		if (e->envname != NULL && strcmp(key + 4, e->envname) == 0)
			a->env_chosen = v;
		return;
	}
	if (strcmp(key, "merge_logs") == 0 || strcmp(key, "combine_logs") == 0)
		return;		/* pmc always writes one file per stream */
	for (i = 0; i < sizeof(later) / sizeof(later[0]); i++)
		if (strcmp(key, later[i].name) == 0) {
			warn(e, key, later[i].why);
			return;
		}
	snprintf(why, sizeof(why), "PM2's, with no meaning in pmc; ignored");
	warn(e, key, why);
}

static int
app_out(struct eco *e, const struct ynode *node, size_t index)
{
	struct pm2app	 a;
	const char	*base, *dot;
	size_t		 i;
	int		 node_app;

	memset(&a, 0, sizeof(a));
	if (node->type != Y_MAP) {
		spec_errors_add(e->errs, "%s: app %zu: expected a mapping of "
		    "PM2's fields", e->path, index + 1);
		return (-1);
	}
	e->app[0] = '\0';
	if (scalar(ymap_get(node, "name")))
		snprintf(e->app, sizeof(e->app), "%s",
		    ymap_get(node, "name")->text);
	for (i = 0; i + 1 < node->nkids; i += 2)
		if (node->kids[i]->type == Y_SCALAR)
			take(e, &a, node->kids[i]->text, node->kids[i + 1]);
	if (!scalar(a.script)) {
		spec_errors_add(e->errs, "%s: app %s: no script", e->path,
		    e->app[0] != '\0' ? e->app : "?");
		return (-1);
	}
	pbuf_printf(e->out, "  - name: ");
	if (scalar(a.name))
		str(e->out, a.name->text);
	else {
		/* PM2's default: the script's file name, less its suffix. */
		base = strrchr(a.script->text, '/');
		base = base != NULL ? base + 1 : a.script->text;
		dot = strrchr(base, '.');
		pbuf_printf(e->out, "\"%.*s\"", (int)(dot != NULL && dot > base ?
		    dot - base : (long)strlen(base)), base);
	}
	pbuf_add(e->out, "\n", 1);
	node_app = command(e, &a);
	if (scalar(a.cwd))
		kv(e, "cwd", a.cwd->text);
	if (scalar(a.instances)) {
		const char	*t = a.instances->text;

		pbuf_printf(e->out, "    instances: ");
		if (strcmp(t, "0") == 0 || strcmp(t, "max") == 0)
			pbuf_printf(e->out, "max\n");
		else if (all_digits(t) || (t[0] == '-' && all_digits(t + 1)))
			pbuf_printf(e->out, "%s\n", t);
		else {
			str(e->out, t);
			pbuf_add(e->out, "\n", 1);
		}
	}
	if (scalar(a.exec_mode) && strncmp(a.exec_mode->text, "cluster", 7)
	    == 0) {
		if (node_app)
			pbuf_printf(e->out, "    node_cluster: true\n");
		else
			warn(e, "exec_mode", "cluster serves node scripts "
			    "only; each instance runs on its own");
	}
	env(e, &a);
	if (a.autorestart != NULL && scalar(a.autorestart) &&
	    !truth(a.autorestart))
		pbuf_printf(e->out, "    restart: never\n");
	if (scalar(a.max_restarts))
		pbuf_printf(e->out, "    max_restarts: %s\n",
		    a.max_restarts->text);
	if (scalar(a.restart_delay) || scalar(a.exp_backoff) ||
	    scalar(a.min_uptime)) {
		pbuf_printf(e->out, "    backoff:\n");
		if (scalar(a.restart_delay)) {
			duration(e, "  initial", a.restart_delay);
			duration(e, "  max", a.restart_delay);
		} else if (scalar(a.exp_backoff)) {
			duration(e, "  initial", a.exp_backoff);
			pbuf_printf(e->out, "      max: 15s\n");
		}
		duration(e, "  min_uptime", a.min_uptime);
	}
	duration(e, "kill_timeout", a.kill_timeout);
	duration(e, "ready_timeout", a.listen_timeout);
	if (truth(a.wait_ready))
		pbuf_printf(e->out, "    ready: notify\n");
	if (scalar(a.max_memory)) {
		char	 m[64];

		snprintf(m, sizeof(m), "%s", a.max_memory->text);
		for (i = 0; m[i] != '\0'; i++)
			m[i] = (char)toupper((unsigned char)m[i]);
		kv(e, "max_memory", m);
	}
	if (scalar(a.cron))
		kv(e, "cron_restart", a.cron->text);
	list(e, "watch", a.watch, 1);
	list(e, "ignore_watch", a.ignore_watch, 0);
	duration(e, "watch_delay", a.watch_delay);
	if (scalar(a.uid))
		kv(e, "user", a.uid->text);
	if (scalar(a.gid))
		kv(e, "group", a.gid->text);
	if (scalar(a.out_file) || scalar(a.error_file) ||
	    scalar(a.timestamps)) {
		pbuf_printf(e->out, "    logs:\n");
		if (scalar(a.out_file))
			kv(e, "  out", a.out_file->text);
		if (scalar(a.error_file))
			kv(e, "  err", a.error_file->text);
		if (scalar(a.timestamps)) {
			pbuf_printf(e->out, "      timestamps: true\n");
			if (strcmp(a.timestamps->text, "true") != 0)
				warn(e, "log_date_format", "pmc's stamp is "
				    "ISO 8601 UTC with milliseconds, whatever "
				    "the format");
		}
	}
	return (0);
}

static void
tree_problem(void *arg, int line, int column, const char *msg)
{
	struct eco	*e = arg;

	spec_errors_add(e->errs, "%s:%d:%d: %s", e->path, line, column, msg);
}

/* JSON on one line (libyaml reads that as YAML); else the text as is. */
static char *
one_line(const char *buf, size_t len, size_t *outlen)
{
	char	*flat;

	flat = xcalloc(1, len + 1);
	if (json_check(buf, len, NULL, NULL) == 0)
		*outlen = json_compact(buf, len, flat);
	else {
		memcpy(flat, buf, len);
		flat[len] = '\0';
		*outlen = len;
	}
	return (flat);
}

/* The apps of a PM2 file: {apps: [...]}, [...], or one app {...}. */
static const struct ynode *
apps_of(const struct ynode *root, const struct ynode **single)
{
	*single = NULL;
	if (root == NULL)
		return (NULL);
	if (root->type == Y_SEQ)
		return (root);
	if (root->type != Y_MAP)
		return (NULL);
	if (ymap_get(root, "apps") != NULL)
		return (ymap_get(root, "apps"));
	if (ymap_get(root, "script") != NULL)
		*single = root;
	return (NULL);
}

enum eco_kind
eco_kind(const char *path, const char *buf, size_t len)
{
	const struct ynode	*apps, *single, *first;
	struct ynode		*root = NULL;
	struct spec_errors	 errs = { NULL, 0 };
	struct eco		 e = { path, NULL, NULL, NULL, &errs, "" };
	const char		*dot = strrchr(path, '.');
	enum eco_kind		 k = ECO_NONE;
	size_t			 flen;
	char			*flat;

	if (dot != NULL && (strcmp(dot, ".js") == 0 ||
	    strcmp(dot, ".cjs") == 0 || strcmp(dot, ".mjs") == 0))
		return (ECO_JS);
	flat = one_line(buf, len, &flen);
	if (ytree_parse(flat, flen, &root, tree_problem, &e) == 0) {
		apps = apps_of(root, &single);
		first = single != NULL ? single : apps != NULL &&
		    apps->type == Y_SEQ && apps->nkids > 0 ? apps->kids[0] :
		    NULL;
		if (first != NULL && ymap_get(first, "script") != NULL &&
		    ymap_get(first, "command") == NULL)
			k = ECO_DATA;
	}
	ynode_free(root);
	spec_errors_clear(&errs);
	free(flat);
	return (k);
}

int
eco_translate(const char *path, const char *buf, size_t len,
    const char *envname, struct pbuf *out, struct spec_errors *warns,
    struct spec_errors *errs)
{
	struct eco		 e = { path, envname, out, warns, errs, "" };
	const struct ynode	*apps, *single, *k, *v;
	struct ynode		*root = NULL;
	size_t			 flen, i, before = errs->count;
	char			*flat;

	flat = one_line(buf, len, &flen);
	if (ytree_parse(flat, flen, &root, tree_problem, &e) == -1) {
		free(flat);
		return (-1);
	}
	free(flat);
	apps = apps_of(root, &single);
	if (single == NULL && (apps == NULL || apps->type != Y_SEQ ||
	    apps->nkids == 0)) {
		spec_errors_add(errs, "%s: no apps: expected PM2's {apps: "
		    "[...]}, a list of apps, or one app with a script", path);
		ynode_free(root);
		return (-1);
	}
	pbuf_printf(out, "%s%s", ECO_MARK, path);
	if (envname != NULL)
		pbuf_printf(out, " (--env %s)", envname);
	pbuf_printf(out, ".\n# pmcd does not read it again on SIGHUP: run "
	    "pmc start with the file again.\napps:\n");
	if (single != NULL)
		app_out(&e, single, 0);
	else
		for (i = 0; i < apps->nkids; i++)
			app_out(&e, apps->kids[i], i);
	/* Top-level fields besides apps: deploy and the like. */
	for (i = 0; root->type == Y_MAP && single == NULL &&
	    i + 1 < root->nkids; i += 2) {
		k = root->kids[i];
		v = root->kids[i + 1];
		(void)v;
		if (k->type == Y_SCALAR && strcmp(k->text, "apps") != 0)
			spec_errors_add(warns, "%s: %s: PM2's, with no meaning "
			    "in pmc; ignored", path, k->text);
	}
	pbuf_add(out, "", 1);
	ynode_free(root);
	return (errs->count > before ? -1 : 0);
}

int
eco_is_file_name(const char *path)
{
	const char	*base = strrchr(path, '/'), *dot;
	static const char *const ends[] = { ".config.js", ".config.cjs",
		".config.mjs", ".json", ".yaml", ".yml" };
	size_t		 i, n = strlen(path), m;

	base = base != NULL ? base + 1 : path;
	dot = strrchr(base, '.');
	if (strncmp(base, "ecosystem", 9) == 0 && dot != NULL)
		return (1);
	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		if (n >= (m = strlen(ends[i])) &&
		    strcmp(path + n - m, ends[i]) == 0)
			return (1);
	return (0);
}

int
eco_is_translation(const char *buf)
{
	return (strncmp(buf, ECO_MARK, strlen(ECO_MARK)) == 0);
}
