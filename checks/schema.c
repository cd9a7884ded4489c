/* schema.c - the schema file: parse it with libyaml (every error as FILE:LINE:COL), write it, JSON of it.
 * It must not read data files: inference and validation are in checks/schema_check.c. */
#include "checks/schema.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/alloc.h"
#include "common/banned.h"

void schema_init(struct schema *s)
{
	memset(s, 0, sizeof(*s));
}

static void column_release(struct schema_column *c)
{
	free(c->name);
	for (size_t i = 0; i < c->n_domain; i++)
		free(c->domain[i]);
	free(c->domain);
}

void schema_release(struct schema *s)
{
	for (size_t i = 0; i < s->n_cols; i++)
		column_release(&s->cols[i]);
	free(s->cols);
	memset(s, 0, sizeof(*s));
}

const char *schema_type_name(enum schema_type t)
{
	switch (t) {
	case SCHEMA_INT:
		return "int";
	case SCHEMA_FLOAT:
		return "float";
	case SCHEMA_BOOL:
		return "bool";
	default:
		return "string";
	}
}

/* ---------- parsing ---------- */

struct pctx {
	yaml_document_t *doc;
	const char *file;
	struct strvec *diags;
};

static void diag(struct pctx *c, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void diag(struct pctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	buf_addf(&b, "%s:%u:%u: ", c->file, n ? (unsigned)n->start_mark.line + 1 : 1,
		 n ? (unsigned)n->start_mark.column + 1 : 1);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	strvec_push_owned(c->diags, buf_detach(&b, NULL));
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static int get_bool(struct pctx *c, const yaml_node_t *n, const char *key, int *out)
{
	const char *v = scalar(n);
	if (v && (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "yes")))
		*out = 1;
	else if (v && (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "no")))
		*out = 0;
	else {
		diag(c, n, "%s: expected true or false", key);
		return -1;
	}
	return 0;
}

static int get_number(struct pctx *c, const yaml_node_t *n, const char *key, double *out)
{
	const char *v = scalar(n);
	char *end;
	if (!v || !*v || !is_plain(n)) {
		diag(c, n, "%s: expected a number", key);
		return -1;
	}
	errno = 0;
	*out = strtod(v, &end);
	if (*end || errno || !isfinite(*out)) {
		diag(c, n, "%s: expected a finite number, not '%.64s'", key, v);
		return -1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void parse_domain(struct pctx *c, struct schema_column *col, yaml_node_t *n)
{
	yaml_node_item_t *it;
	if (n->type != YAML_SEQUENCE_NODE) {
		diag(c, n, "domain: expected a list of values");
		return;
	}
	size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	col->domain = xcalloc(cnt ? cnt : 1, sizeof(char *));
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = yaml_document_get_node(c->doc, *it);
		const char *s = scalar(v);
		if (!s) {
			diag(c, v ? v : n, "domain: expected a scalar value");
			continue;
		}
		col->domain[col->n_domain++] = xstrdup(s);
	}
	qsort(col->domain, col->n_domain, sizeof(char *), cmp_str);
	for (size_t i = 1; i < col->n_domain; i++)
		if (!strcmp(col->domain[i - 1], col->domain[i])) {
			diag(c, n, "domain: duplicate value '%.64s'", col->domain[i]);
			break;
		}
	if (!col->n_domain)
		diag(c, n, "domain: empty list (every value would be unknown)");
}

static void parse_column(struct pctx *c, struct schema *s, yaml_node_t *n, size_t idx)
{
	struct schema_column *col = &s->cols[s->n_cols];
	yaml_node_t *type_node = NULL, *domain_node = NULL, *min_node = NULL;
	yaml_node_pair_t *p;
	size_t before = c->diags->n;
	memset(col, 0, sizeof(*col));
	col->required = 1;
	col->type = SCHEMA_STRING;
	col->line = (unsigned)n->start_mark.line + 1;
	col->col = (unsigned)n->start_mark.column + 1;
	if (n->type != YAML_MAPPING_NODE) {
		diag(c, n, "columns[%zu]: expected a mapping (name, type, ...)", idx);
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		const char *key = scalar(k);
		if (!k || !v)
			continue;
		if (!key) {
			diag(c, k, "columns[%zu]: keys must be scalars", idx);
		} else if (!strcmp(key, "name")) {
			if (!scalar(v) || !*scalar(v))
				diag(c, v, "name: expected a non-empty string");
			else {
				free(col->name);
				col->name = xstrdup(scalar(v));
			}
		} else if (!strcmp(key, "type")) {
			const char *t = scalar(v);
			type_node = v;
			if (t && !strcmp(t, "int"))
				col->type = SCHEMA_INT;
			else if (t && !strcmp(t, "float"))
				col->type = SCHEMA_FLOAT;
			else if (t && !strcmp(t, "string"))
				col->type = SCHEMA_STRING;
			else if (t && !strcmp(t, "bool"))
				col->type = SCHEMA_BOOL;
			else
				diag(c, v, "type: unknown type '%.64s' (expected int, float, string or bool)",
				     t ? t : "");
		} else if (!strcmp(key, "nullable")) {
			get_bool(c, v, key, &col->nullable);
		} else if (!strcmp(key, "required")) {
			get_bool(c, v, key, &col->required);
		} else if (!strcmp(key, "warn")) {
			get_bool(c, v, key, &col->warn);
		} else if (!strcmp(key, "min")) {
			min_node = v;
			col->has_min = !get_number(c, v, key, &col->min);
		} else if (!strcmp(key, "max")) {
			col->has_max = !get_number(c, v, key, &col->max);
		} else if (!strcmp(key, "domain")) {
			if (col->domain) {
				diag(c, k, "domain: given twice");
				continue;
			}
			domain_node = v;
			parse_domain(c, col, v);
		} else {
			diag(c, k,
			     "columns[%zu]: unknown key '%.64s' (expected name, type, nullable, required, warn, "
			     "min, max or domain)",
			     idx, key);
		}
	}
	if (!col->name)
		diag(c, n, "columns[%zu]: missing 'name'", idx);
	if (!type_node)
		diag(c, n, "columns[%zu]: missing 'type' (int, float, string or bool)", idx);
	if (c->diags->n == before) {
		if ((col->has_min || col->has_max) && col->type != SCHEMA_INT && col->type != SCHEMA_FLOAT)
			diag(c, min_node ? min_node : n, "%s: min/max need type int or float", col->name);
		if (col->has_min && col->has_max && col->min > col->max)
			diag(c, min_node, "%s: min %g is greater than max %g", col->name, col->min, col->max);
		if (domain_node && col->type == SCHEMA_FLOAT)
			diag(c, domain_node, "%s: a domain needs type int, string or bool", col->name);
		if (domain_node && col->type == SCHEMA_INT)
			for (size_t i = 0; i < col->n_domain; i++) {
				char *end;
				errno = 0;
				(void)strtoll(col->domain[i], &end, 10);
				if (!*col->domain[i] || *end || errno) {
					diag(c, domain_node, "%s: domain value '%.64s' is not an int", col->name,
					     col->domain[i]);
					break;
				}
			}
	}
	s->n_cols++;
}

static void parse_root(struct pctx *c, struct schema *s, yaml_node_t *root)
{
	yaml_node_pair_t *p;
	yaml_node_t *cols = NULL;
	if (root->type != YAML_MAPPING_NODE) {
		diag(c, root, "expected a mapping with a 'columns' list");
		return;
	}
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		const char *key = scalar(k);
		if (!k || !v)
			continue;
		if (key && !strcmp(key, "columns")) {
			cols = v;
		} else if (key && !strcmp(key, "unexpected_columns")) {
			const char *t = scalar(v);
			if (t && !strcmp(t, "error"))
				s->unexpected = SCHEMA_EXTRA_ERROR;
			else if (t && !strcmp(t, "warn"))
				s->unexpected = SCHEMA_EXTRA_WARN;
			else if (t && !strcmp(t, "ignore"))
				s->unexpected = SCHEMA_EXTRA_IGNORE;
			else
				diag(c, v, "unexpected_columns: expected error, warn or ignore");
		} else if (key && !strcmp(key, "empty_dataset")) {
			const char *t = scalar(v);
			if (t && (!strcmp(t, "error") || !strcmp(t, "warn")))
				s->empty_warn = !strcmp(t, "warn");
			else
				diag(c, v, "empty_dataset: expected error or warn");
		} else {
			diag(c, k, "unknown key '%.64s' (expected columns, unexpected_columns or empty_dataset)",
			     key ? key : "");
		}
	}
	if (!cols) {
		diag(c, root, "missing 'columns'");
		return;
	}
	if (cols->type != YAML_SEQUENCE_NODE) {
		diag(c, cols, "columns: expected a list");
		return;
	}
	size_t cnt = (size_t)(cols->data.sequence.items.top - cols->data.sequence.items.start);
	s->cols = xcalloc(cnt ? cnt : 1, sizeof(*s->cols));
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *n = yaml_document_get_node(c->doc, cols->data.sequence.items.start[i]);
		if (n)
			parse_column(c, s, n, i);
	}
	for (size_t i = 0; i < s->n_cols; i++)
		for (size_t j = 0; j < i; j++)
			if (s->cols[i].name && s->cols[j].name && !strcmp(s->cols[i].name, s->cols[j].name)) {
				struct buf b = BUF_INIT;
				buf_addf(&b, "%s:%u:%u: column '%.64s' is defined twice (first at line %u)", c->file,
					 s->cols[i].line, s->cols[i].col, s->cols[i].name, s->cols[j].line);
				strvec_push_owned(c->diags, buf_detach(&b, NULL));
				break;
			}
}

int schema_parse_buffer(struct schema *s, const char *data, size_t len, const char *file, struct strvec *diags)
{
	struct pctx c = { NULL, file ? file : "schema.yaml", diags };
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;
	size_t before = diags->n;
	schema_init(s);
	if (len > SCHEMA_MAX_BYTES) {
		strvec_pushf(diags, "%s:1:1: schema is too large (%zu bytes; the limit is %d)", c.file, len,
			     SCHEMA_MAX_BYTES);
		return -1;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, &doc)) {
		strvec_pushf(diags, "%s:%zu:%zu: %s", c.file, p.problem_mark.line + 1, p.problem_mark.column + 1,
			     p.problem ? p.problem : "YAML syntax error");
		yaml_parser_delete(&p);
		return -1;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		strvec_pushf(diags, "%s:1:1: empty schema (expected a 'columns' list)", c.file);
	else
		parse_root(&c, s, root);
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	if (diags->n > before) {
		schema_release(s);
		return -1;
	}
	return 0;
}

int schema_parse_file(struct schema *s, const char *path, struct strvec *diags)
{
	struct buf b = BUF_INIT;
	int r;
	b.max = SCHEMA_MAX_BYTES;
	schema_init(s);
	if (buf_read_file(&b, path)) {
		strvec_pushf(diags, "%s: could not read: %s", path,
			     errno == EFBIG ? "file too large" : strerror(errno));
		buf_release(&b);
		return -1;
	}
	r = schema_parse_buffer(s, b.ptr, b.len, path, diags);
	buf_release(&b);
	return r;
}

/* ---------- writing ---------- */

/* Append "v" as a YAML flow scalar: bare when it reads back as the same string, else double-quoted.
 * "as_text" quotes values that YAML would read as something else (numbers, booleans, null). */
static void add_scalar(struct buf *b, const char *v, int as_text)
{
	int bare = *v && !strchr("-?:,[]{}#&*!|>'\"%@` ", v[0]);
	size_t n = strlen(v);
	if (n && v[n - 1] == ' ')
		bare = 0;
	for (const char *p = v; bare && *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_.-/ ", *p)))
			bare = 0;
	if (bare && as_text) {
		static const char *const special[] = { "true", "false", "True", "False", "TRUE", "FALSE", "yes",
						       "no",   "Yes",   "No",   "YES",   "NO",   "on",    "off",
						       "On",   "Off",   "ON",   "OFF",   "null", "Null",  "NULL",
						       "y",    "n",     "Y",    "N" };
		char *end;
		for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
			if (!strcmp(v, special[i]))
				bare = 0;
		(void)strtod(v, &end);
		if (!*end || (v[0] == '.' && v[1]))
			bare = 0;
	}
	if (bare) {
		buf_addstr(b, v);
		return;
	}
	buf_addch(b, '"');
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			buf_addf(b, "\\x%02x", *p);
		else
			buf_addch(b, (char)*p);
	}
	buf_addch(b, '"');
}

/* Integral values as integers ("90", never "9e+01"), others as the shortest text that reads back as
 * "d"; a ".0" is added to integral values of float columns. */
static void add_double(struct buf *b, double d, int is_float)
{
	char s[64];
	if (d == floor(d) && fabs(d) < 1e15) {
		snprintf(s, sizeof(s), "%.0f", d);
		if (!strcmp(s, "-0"))
			snprintf(s, sizeof(s), "0");
		buf_addstr(b, s);
		if (is_float)
			buf_addstr(b, ".0");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	buf_addstr(b, s);
	if (is_float && !strpbrk(s, ".eEn"))
		buf_addstr(b, ".0");
}

void schema_write_yaml(const struct schema *s, const char *comment, struct buf *out)
{
	if (comment)
		buf_addf(out, "# %s\n", comment);
	if (s->unexpected != SCHEMA_EXTRA_ERROR)
		buf_addf(out, "unexpected_columns: %s\n", s->unexpected == SCHEMA_EXTRA_WARN ? "warn" : "ignore");
	if (s->empty_warn)
		buf_addstr(out, "empty_dataset: warn\n");
	buf_addstr(out, s->n_cols ? "columns:\n" : "columns: []\n");
	for (size_t i = 0; i < s->n_cols; i++) {
		const struct schema_column *c = &s->cols[i];
		buf_addstr(out, "  - { name: ");
		add_scalar(out, c->name, 1);
		buf_addf(out, ", type: %s, nullable: %s", schema_type_name(c->type), c->nullable ? "true" : "false");
		if (!c->required)
			buf_addstr(out, ", required: false");
		if (c->warn)
			buf_addstr(out, ", warn: true");
		if (c->has_min) {
			buf_addstr(out, ", min: ");
			add_double(out, c->min, c->type == SCHEMA_FLOAT);
		}
		if (c->has_max) {
			buf_addstr(out, ", max: ");
			add_double(out, c->max, c->type == SCHEMA_FLOAT);
		}
		if (c->domain) {
			buf_addstr(out, ", domain: [");
			for (size_t k = 0; k < c->n_domain; k++) {
				if (k)
					buf_addstr(out, ", ");
				add_scalar(out, c->domain[k], c->type == SCHEMA_STRING);
			}
			buf_addstr(out, "]");
		}
		buf_addstr(out, " }\n");
	}
}

cJSON *schema_json(const struct schema *s)
{
	cJSON *o = cJSON_CreateObject(), *cols = cJSON_AddArrayToObject(o, "columns");
	cJSON_AddStringToObject(o, "unexpected_columns",
				s->unexpected == SCHEMA_EXTRA_ERROR  ? "error"
				: s->unexpected == SCHEMA_EXTRA_WARN ? "warn"
								     : "ignore");
	cJSON_AddStringToObject(o, "empty_dataset", s->empty_warn ? "warn" : "error");
	for (size_t i = 0; i < s->n_cols; i++) {
		const struct schema_column *c = &s->cols[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "name", c->name);
		cJSON_AddStringToObject(j, "type", schema_type_name(c->type));
		cJSON_AddBoolToObject(j, "nullable", c->nullable);
		cJSON_AddBoolToObject(j, "required", c->required);
		cJSON_AddBoolToObject(j, "warn", c->warn);
		if (c->has_min)
			cJSON_AddNumberToObject(j, "min", c->min);
		if (c->has_max)
			cJSON_AddNumberToObject(j, "max", c->max);
		if (c->domain) {
			cJSON *d = cJSON_AddArrayToObject(j, "domain");
			for (size_t k = 0; k < c->n_domain; k++)
				cJSON_AddItemToArray(d, cJSON_CreateString(c->domain[k]));
		}
		cJSON_AddItemToArray(cols, j);
	}
	return o;
}
