/* yaml_doc.c - the YAML node toolkit (common/yaml_doc.h): bounded loading with a first pass over the
 * events for shape limits, node access with positions, core-schema scalars and key paths. It must not
 * know any file format nor word a parser error: callers do. */
#include "common/yaml_doc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* ---------- loading ---------- */

static struct diag_pos mark_pos(yaml_mark_t m)
{
	struct diag_pos p = { (unsigned)m.line + 1, (unsigned)m.column + 1 };
	return p;
}

/* Keep the parser's error in "e". Reader errors (bad encoding, control characters) carry a byte offset
 * instead of a mark: "pos" is that offset counted as line:col in "data". */
static void keep_error(const yaml_parser_t *p, const char *data, size_t len, struct yaml_doc_error *e)
{
	e->kind = p->error == YAML_MEMORY_ERROR   ? YAML_DOC_NOMEM
		  : p->error == YAML_READER_ERROR ? YAML_DOC_ENCODING
						  : YAML_DOC_SYNTAX;
	e->problem = p->problem;
	e->context = p->context;
	e->mark = mark_pos(p->problem_mark);
	e->context_pos = mark_pos(p->context_mark);
	e->pos = e->mark;
	e->byte = -1;
	if (e->kind == YAML_DOC_ENCODING) {
		size_t off = p->problem_offset < len ? p->problem_offset : len, nl = 0;
		e->pos.line = 1;
		for (size_t i = 0; i < off; i++) {
			if (data[i] == '\n') {
				e->pos.line++;
				nl = i + 1;
			}
		}
		e->pos.col = (unsigned)(off - nl + 1);
		if (p->problem_value != -1)
			e->byte = p->problem_value & 0xff;
	}
}

/* The first pass over the event stream: the shape limits of "lim", and syntax errors anywhere up to
 * where it stops. 0 when the document may be loaded; -1 after diags or with d->error set. */
static int scan_events(struct yaml_doc *d, const char *data, size_t len, const struct yaml_doc_limits *lim,
		       struct diags *diags)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int docs = 0, ret = 0, done = 0, depth = 0;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			keep_error(&p, data, len, &d->error);
			ret = -1;
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs == 2 && lim->one_document) {
				diags_add(diags, mark_pos(ev.start_mark), "",
					  "more than one document in the file (expected a single YAML document)");
				ret = -1;
				done = 1;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > lim->max_depth && lim->max_depth) {
				diags_add(diags, mark_pos(ev.start_mark), "", "nesting is deeper than %d levels",
					  lim->max_depth);
				ret = -1;
				done = 1;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
			if (lim->no_aliases) {
				diags_add(diags, mark_pos(ev.start_mark), "",
					  "aliases are not supported (found \"*%s\"; write the value out instead)",
					  (const char *)ev.data.alias.anchor);
				ret = -1;
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (ret < 0 && d->error.kind == YAML_DOC_OK)
		d->error.kind = YAML_DOC_REFUSED;
	return ret;
}

int yaml_doc_load(struct yaml_doc *d, const char *data, size_t len, const struct yaml_doc_limits *lim,
		  struct diags *diags)
{
	yaml_parser_t p;
	int ok;
	memset(d, 0, sizeof(*d));
	if (!data) {
		data = "";
		len = 0;
	}
	if (lim->max_bytes && len > lim->max_bytes) {
		d->error.kind = YAML_DOC_TOO_LARGE;
		return -1;
	}
	if ((lim->max_depth || lim->no_aliases || lim->one_document) && scan_events(d, data, len, lim, diags) < 0)
		return -1;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	ok = yaml_parser_load(&p, &d->doc);
	if (!ok)
		keep_error(&p, data, len, &d->error);
	yaml_parser_delete(&p);
	if (!ok)
		return -1;
	d->loaded = 1;
	d->root = yaml_document_get_root_node(&d->doc);
	return 0;
}

void yaml_doc_release(struct yaml_doc *d)
{
	if (d->loaded)
		yaml_document_delete(&d->doc);
	memset(d, 0, sizeof(*d));
}

/* ---------- nodes ---------- */

struct diag_pos yaml_doc_pos(const yaml_node_t *n)
{
	struct diag_pos p = { 1, 1 };
	if (n)
		p = mark_pos(n->start_mark);
	return p;
}

yaml_node_t *yaml_doc_node(struct yaml_doc *d, int id)
{
	return yaml_document_get_node(&d->doc, id);
}

const char *yaml_doc_kind(const yaml_node_t *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_SCALAR_NODE:
		return "a scalar";
	default:
		return "nothing";
	}
}

const char *yaml_doc_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

size_t yaml_doc_scalar_len(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? n->data.scalar.length : 0;
}

int yaml_doc_is_plain(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

int yaml_doc_is_null(const yaml_node_t *n)
{
	const char *v;
	if (!yaml_doc_is_plain(n))
		return 0;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* ---------- core-schema scalars ---------- */

int yaml_doc_bool(const char *text, int *out)
{
	if (!strcmp(text, "true") || !strcmp(text, "True") || !strcmp(text, "TRUE"))
		*out = 1;
	else if (!strcmp(text, "false") || !strcmp(text, "False") || !strcmp(text, "FALSE"))
		*out = 0;
	else
		return -1;
	return 0;
}

int yaml_doc_int(const char *text, int64_t *out)
{
	const char *p = text;
	int neg = 0;
	int64_t v = 0;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!(*p >= '0' && *p <= '9'))
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		int dg = *p - '0';
		if (v > (INT64_MAX - dg) / 10)
			return -1;
		v = v * 10 + dg;
	}
	if (*p)
		return -1;
	*out = neg ? -v : v;
	return 0;
}

int yaml_doc_number(const char *text, double *out)
{
	const char *p = text;
	char *end;
	int digits = 0;
	if (*p == '-' || *p == '+')
		p++;
	while (isdigit((unsigned char)*p))
		p++, digits++;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++, digits++;
	}
	if (!digits)
		return -1;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p)
		return -1;
	errno = 0;
	*out = strtod(text, &end);
	return *end || !isfinite(*out) ? -1 : 0;
}

/* ---------- mappings and sequences ---------- */

size_t yaml_doc_map_len(const yaml_node_t *n)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return 0;
	return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

yaml_node_t *yaml_doc_map_key(struct yaml_doc *d, const yaml_node_t *n, size_t i)
{
	return i < yaml_doc_map_len(n) ? yaml_doc_node(d, n->data.mapping.pairs.start[i].key) : NULL;
}

yaml_node_t *yaml_doc_map_value(struct yaml_doc *d, const yaml_node_t *n, size_t i)
{
	return i < yaml_doc_map_len(n) ? yaml_doc_node(d, n->data.mapping.pairs.start[i].value) : NULL;
}

size_t yaml_doc_seq_len(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SEQUENCE_NODE)
		return 0;
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *yaml_doc_seq_item(struct yaml_doc *d, const yaml_node_t *n, size_t i)
{
	return i < yaml_doc_seq_len(n) ? yaml_doc_node(d, n->data.sequence.items.start[i]) : NULL;
}

/* ---------- key paths ---------- */

size_t yaml_doc_key_push(struct buf *key, const char *name)
{
	size_t mark = key->len;
	if (name && *name) {
		if (key->len)
			buf_addch(key, '.');
		buf_addstr(key, name);
	}
	return mark;
}

size_t yaml_doc_key_push_index(struct buf *key, size_t i)
{
	size_t mark = key->len;
	buf_addf(key, "[%zu]", i);
	return mark;
}

void yaml_doc_key_pop(struct buf *key, size_t mark)
{
	buf_setlen(key, mark);
}
