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
 * refuses a path that is not (specload.c, EXPECT_UTF8), and the parser
 * any other text that is not.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "protocol.h"
#include "spec.h"
#include "specfield.h"
#include "xmalloc.h"
#include "ytree.h"

#define TEXT_MAX	64	/* a value spec_field_text formats */

/*
 * Dumping: one "app.field=value" line per effective value.  spec_values
 * formats the values; spec_dump and describe write them out.
 */

/* The n bytes at s, control characters and backslashes escaped. */
static void
escape_text(struct pbuf *pb, const char *s, size_t n)
{
	for (; n > 0; s++, n--) {
		if (*s == '\\')
			pbuf_add(pb, "\\\\", 2);
		else if (*s == '\n')
			pbuf_add(pb, "\\n", 2);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			pbuf_printf(pb, "\\x%02x", (unsigned char)*s);
		else
			pbuf_add(pb, s, 1);
	}
}

/* An argument as the string form of command would need it. */
static void
escape_word(struct pbuf *pb, const char *s)
{
	if (*s != '\0' && strpbrk(s, " \t\n\r\f\v'\"\\") == NULL) {
		pbuf_add(pb, s, strlen(s));
		return;
	}
	pbuf_add(pb, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			pbuf_add(pb, "\\", 1);
		pbuf_add(pb, s, 1);
	}
	pbuf_add(pb, "\"", 1);
}

/* Whether f of app is at its default: writes as def, or is not set. */
static int
field_is_default(const struct spec_field *f, const struct app_spec *app)
{
	char	buf[TEXT_MAX];
	size_t	n = spec_field_count(f, app);

	if (f->def == NULL)
		return n == 0;
	return n == 1 && strcmp(spec_field_text(f, app, 0, 0, buf,
	    sizeof(buf)), f->def) == 0;
}

/* Hand v, its name and text in name and text, to fn; empty both. */
static void
value_out(struct spec_value *v, struct pbuf *name, struct pbuf *text,
    void (*fn)(const struct spec_value *, void *), void *arg)
{
	pbuf_add(name, "", 1);
	pbuf_add(text, "", 1);
	v->name = name->data;
	v->text = text->data;
	fn(v, arg);
	name->len = text->len = 0;
}

/*
 * A command is one value of words; a mapping one value a pair, "KEY=v"
 * as "field.KEY" and "v", none when empty; a list one value an item,
 * an empty one when empty.
 */
static void
field_values(struct spec_value *v, struct pbuf *name, struct pbuf *text,
    void (*fn)(const struct spec_value *, void *), void *arg)
{
	const struct spec_field	*f = v->field;
	const char		*s;
	char			 buf[TEXT_MAX];
	size_t			 i, n = spec_field_count(f, v->app), k;

	if (f->flags & SF_WORDS) {
		pbuf_printf(name, "%s", f->name);
		for (i = 0; i < n; i++) {
			if (i > 0)
				pbuf_add(text, " ", 1);
			escape_word(text, spec_field_text(f, v->app, i, 1, buf,
			    sizeof(buf)));
		}
		value_out(v, name, text, fn, arg);
		return;
	}
	if (n == 0 && !(f->flags & SF_PAIRS)) {
		pbuf_printf(name, "%s", f->name);
		value_out(v, name, text, fn, arg);
	}
	for (i = 0; i < n; i++) {
		s = spec_field_text(f, v->app, i, 1, buf, sizeof(buf));
		pbuf_printf(name, "%s", f->name);
		if (f->flags & SF_PAIRS) {
			k = strcspn(s, "=");
			pbuf_add(name, ".", 1);
			escape_text(name, s, k);
			s += s[k] == '=' ? k + 1 : k;
		}
		escape_text(text, s, strlen(s));
		value_out(v, name, text, fn, arg);
	}
}

void
spec_values(const struct app_spec *app,
    void (*fn)(const struct spec_value *, void *), void *arg)
{
	struct spec_value	 v;
	struct pbuf		 name = { NULL, 0, 0 }, text = { NULL, 0, 0 };

	v.app = app;
	for (v.field = spec_fields; v.field < spec_fields + spec_nfields;
	    v.field++) {
		if ((v.field->flags & (SF_NAME | SF_HIDDEN)) ||
		    v.field->kind == SK_GROUP)
			continue;
		v.dflt = field_is_default(v.field, app);
		field_values(&v, &name, &text, fn, arg);
	}
	pbuf_free(&name);
	pbuf_free(&text);
}

static void
dump_value(const struct spec_value *v, void *arg)
{
	fprintf(arg, "%s.%s=%s\n", v->app->name, v->name, v->text);
}

void
spec_dump(const struct spec *spec, FILE *fp)
{
	size_t	i;

	for (i = 0; i < spec->napps; i++)
		spec_values(spec->apps[i], dump_value, fp);
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
