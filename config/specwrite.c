/*
 * specwrite.c -- an app spec written out, by walking the table of
 * fields (specfield.h): as "app.field=value" lines (spec_dump, for
 * `pmcd -n -v` and `pmc describe`), and as a pm.yaml that reads back
 * into the same apps (spec_write_yaml, for `pmc save`).
 *
 * The YAML is libyaml's emitter's.  A value is written plain where
 * libyaml finds that safe, quoted otherwise; double-quoted, with
 * escapes, when it would read as null or holds a line break, so that
 * every value is one line.  Only UTF-8 can be written: the loader
 * refuses a path that is not (spec.c, EXPECT_UTF8), and the parser
 * any other text that is not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "spec.h"
#include "specfield.h"
#include "xmalloc.h"
#include "ytree.h"

#define TEXT_MAX	64	/* a value spec_field_text formats */

/* Dumping: one "app.field=value" line per effective value. */

/* s with control characters and backslashes escaped. */
static void
dump_text(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fprintf(fp, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, fp);
	}
}

/* An argument as the string form of command would need it. */
static void
dump_word(FILE *fp, const char *s)
{
	if (*s != '\0' && strpbrk(s, " \t\n\r\f\v'\"\\") == NULL) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

/*
 * A command is one line of words; a mapping one line a pair, none when
 * empty; a list one line an item, an empty one when empty.
 */
static void
dump_field(FILE *fp, const struct app_spec *app, const struct spec_field *f)
{
	char	buf[TEXT_MAX];
	size_t	i, n = spec_field_count(f, app);

	if (f->flags & SF_WORDS) {
		fprintf(fp, "%s.%s=", app->name, f->name);
		for (i = 0; i < n; i++) {
			if (i > 0)
				fputc(' ', fp);
			dump_word(fp, spec_field_text(f, app, i, 1, buf,
			    sizeof(buf)));
		}
		fputc('\n', fp);
		return;
	}
	if (n == 0 && !(f->flags & SF_PAIRS))
		fprintf(fp, "%s.%s=\n", app->name, f->name);
	for (i = 0; i < n; i++) {
		fprintf(fp, "%s.%s%c", app->name, f->name,
		    f->flags & SF_PAIRS ? '.' : '=');
		dump_text(fp, spec_field_text(f, app, i, 1, buf, sizeof(buf)));
		fputc('\n', fp);
	}
}

void
spec_dump(const struct spec *spec, FILE *fp)
{
	const struct spec_field	*f;
	size_t			 i;

	for (i = 0; i < spec->napps; i++)
		for (f = spec_fields; f < spec_fields + spec_nfields; f++)
			if (!(f->flags & (SF_NAME | SF_HIDDEN)) &&
			    f->kind != SK_GROUP)
				dump_field(fp, spec->apps[i], f);
}

/*
 * Writing a spec back as YAML.  Every field is written, defaults too,
 * so that the file means the same thing wherever and whenever it is
 * read; a field not set (user:, logs.out:) or empty (env:) is left out.
 *
 * libyaml writes a list under a key without indenting it ("apps:" then
 * "- name: web"); the list of apps is written as the document and each
 * line indented by two, the layout dumps always had (supervisor/dump.c
 * counts the lines "  - name: "), with a blank line between apps.
 */
struct out {
	FILE	*f;
	int	 bol;		/* at the start of a line */
	int	 apps;		/* apps begun */
};

static int
out_write(void *arg, unsigned char *buf, size_t len)
{
	struct out	*o = arg;
	unsigned char	*nl;
	size_t		 n;

	while (len > 0) {
		/* Only the list of apps starts at column 0. */
		if (o->bol && buf[0] == '-' && o->apps++ > 0 &&
		    fputc('\n', o->f) == EOF)
			return 0;
		if (o->bol && buf[0] != '\n' && fputs("  ", o->f) == EOF)
			return 0;
		nl = memchr(buf, '\n', len);
		n = nl != NULL ? (size_t)(nl - buf) + 1 : len;
		if (fwrite(buf, 1, n, o->f) != n)
			return 0;
		o->bol = nl != NULL;
		buf += n;
		len -= n;
	}
	return 1;
}

/* Emit ev, made by its initializer that returned made. */
static int
emit(yaml_emitter_t *e, yaml_event_t *ev, int made)
{
	if (!made) {
		errno = EILSEQ;		/* not UTF-8 */
		return -1;
	}
	if (yaml_emitter_emit(e, ev))
		return 0;
	if (e->error != YAML_WRITER_ERROR)
		errno = EINVAL;
	return -1;
}

static int
emit_text(yaml_emitter_t *e, const char *s)
{
	yaml_scalar_style_t	 style = YAML_ANY_SCALAR_STYLE;
	yaml_event_t		 ev;

	/* Line breaks: \n, \r, U+0085, U+2028, U+2029. */
	if (ytext_is_null(s) || strpbrk(s, "\n\r") != NULL ||
	    strstr(s, "\xc2\x85") != NULL ||
	    strstr(s, "\xe2\x80\xa8") != NULL ||
	    strstr(s, "\xe2\x80\xa9") != NULL)
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return emit(e, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (const yaml_char_t *)s, (int)strlen(s), 1, 1, style));
}

static int
emit_map(yaml_emitter_t *e)
{
	yaml_event_t	ev;

	return emit(e, &ev, yaml_mapping_start_event_initialize(&ev, NULL,
	    NULL, 1, YAML_BLOCK_MAPPING_STYLE));
}

static int
emit_list(yaml_emitter_t *e, int flow)
{
	yaml_event_t	ev;

	return emit(e, &ev, yaml_sequence_start_event_initialize(&ev, NULL,
	    NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE :
	    YAML_BLOCK_SEQUENCE_STYLE));
}

static int
emit_end(yaml_emitter_t *e, int map)
{
	yaml_event_t	ev;

	return emit(e, &ev, map ? yaml_mapping_end_event_initialize(&ev) :
	    yaml_sequence_end_event_initialize(&ev));
}

/* "KEY=value" as a key and its value. */
static int
emit_pair(yaml_emitter_t *e, const char *s)
{
	char	*key;
	size_t	 n = strcspn(s, "=");
	int	 rc;

	key = xasprintf("%.*s", (int)n, s);
	rc = emit_text(e, key);
	free(key);
	if (rc == -1)
		return -1;
	return emit_text(e, s[n] == '=' ? s + n + 1 : "");
}

static int
write_field(yaml_emitter_t *e, const struct app_spec *app,
    const struct spec_field *f)
{
	char	buf[TEXT_MAX];
	size_t	i, n = spec_field_count(f, app);
	int	pairs = f->flags & SF_PAIRS;

	if (n == 0)
		return 0;
	if (emit_text(e, spec_field_key(f)) == -1)
		return -1;
	if (!(f->flags & (SF_LIST | SF_WORDS | SF_PAIRS)))
		return emit_text(e, spec_field_text(f, app, 0, 0, buf,
		    sizeof(buf)));
	if ((pairs ? emit_map(e) : emit_list(e, f->flags & SF_WORDS)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (pairs && emit_pair(e, spec_field_text(f, app, i, 0, buf,
		    sizeof(buf))) == -1)
			return -1;
		if (!pairs && emit_text(e, spec_field_text(f, app, i, 0, buf,
		    sizeof(buf))) == -1)
			return -1;
	}
	return emit_end(e, pairs);
}

/* One app: a mapping of its fields, a group's in a mapping of its own. */
static int
write_app(yaml_emitter_t *e, const struct app_spec *app)
{
	const struct spec_field	*f, *group = NULL;

	if (emit_map(e) == -1)
		return -1;
	for (f = spec_fields; f < spec_fields + spec_nfields; f++) {
		if (f->flags & SF_HIDDEN)
			continue;
		if (group != NULL && strchr(f->name, '.') == NULL) {
			if (emit_end(e, 1) == -1)
				return -1;
			group = NULL;
		}
		if (f->kind == SK_GROUP) {
			if (emit_text(e, f->name) == -1 || emit_map(e) == -1)
				return -1;
			group = f;
		} else if (write_field(e, app, f) == -1)
			return -1;
	}
	if (group != NULL && emit_end(e, 1) == -1)
		return -1;
	return emit_end(e, 1);
}

static int
write_apps(yaml_emitter_t *e, struct app_spec *const *apps, size_t napps)
{
	yaml_event_t	ev;
	size_t		i;

	if (emit(e, &ev, yaml_stream_start_event_initialize(&ev,
	    YAML_UTF8_ENCODING)) == -1 ||
	    emit(e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL,
	    NULL, 1)) == -1 || emit_list(e, 0) == -1)
		return -1;
	for (i = 0; i < napps; i++)
		if (write_app(e, apps[i]) == -1)
			return -1;
	if (emit_end(e, 0) == -1 ||
	    emit(e, &ev, yaml_document_end_event_initialize(&ev, 1)) == -1 ||
	    emit(e, &ev, yaml_stream_end_event_initialize(&ev)) == -1)
		return -1;
	return 0;
}

int
spec_write_yaml(struct app_spec *const *apps, size_t napps, FILE *f)
{
	yaml_emitter_t	 e;
	struct out	 o = { f, 1, 0 };
	int		 rc = 0;

	fputs("# written by pmcd; pmc resurrect reads it back\n", f);
	if (napps == 0)
		fputs("# no apps were running\n", f);
	else {
		fputs("apps:\n", f);
		if (!yaml_emitter_initialize(&e))
			return -1;
		yaml_emitter_set_output(&e, out_write, &o);
		yaml_emitter_set_unicode(&e, 1);
		yaml_emitter_set_width(&e, -1);
		rc = write_apps(&e, apps, napps);
		yaml_emitter_delete(&e);
	}
	if (rc == -1 || fflush(f) == EOF || ferror(f))
		return -1;
	return 0;
}
