/* schema.c - the schema file: parse it with the YAML toolkit (every error as FILE:LINE:COL), write it, JSON of it.
 * It must not read data files: inference and validation are in checks/schema_check.c. */
#include "checks/schema.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/diag.h"
#include "common/yaml_doc.h"
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
	struct yaml_doc *doc;
	struct diags *diags;
};

static void diag(struct pctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void diag(struct pctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diags_vadd(c->diags, yaml_doc_pos(n), key, fmt, ap);
	va_end(ap);
}

/* The schema format's booleans (any quoting): true, True, yes; false, False, no. */
static int get_bool(struct pctx *c, const yaml_node_t *n, const char *key, int *out)
{
	const char *v = yaml_doc_scalar(n);
	if (v && (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "yes")))
		*out = 1;
	else if (v && (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "no")))
		*out = 0;
	else {
		diag(c, n, key, "expected true or false");
		return -1;
	}
	return 0;
}

/* A plain scalar strtod reads whole to a finite number. */
static int get_number(struct pctx *c, const yaml_node_t *n, const char *key, double *out)
{
	const char *v = yaml_doc_scalar(n);
	char *end;
	if (!v || !*v || !yaml_doc_is_plain(n)) {
		diag(c, n, key, "expected a number");
		return -1;
	}
	errno = 0;
	*out = strtod(v, &end);
	if (*end || errno || !isfinite(*out)) {
		diag(c, n, key, "expected a finite number, not '%.64s'", v);
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
	size_t cnt;
	if (n->type != YAML_SEQUENCE_NODE) {
		diag(c, n, "domain", "expected a list of values");
		return;
	}
	cnt = yaml_doc_seq_len(n);
	col->domain = xcalloc(cnt ? cnt : 1, sizeof(char *));
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *v = yaml_doc_seq_item(c->doc, n, i);
		const char *s = yaml_doc_scalar(v);
		if (!s) {
			diag(c, v ? v : n, "domain", "expected a scalar value");
			continue;
		}
		col->domain[col->n_domain++] = xstrdup(s);
	}
	qsort(col->domain, col->n_domain, sizeof(char *), cmp_str);
	for (size_t i = 1; i < col->n_domain; i++)
		if (!strcmp(col->domain[i - 1], col->domain[i])) {
			diag(c, n, "domain", "duplicate value '%.64s'", col->domain[i]);
			break;
		}
	if (!col->n_domain)
		diag(c, n, "domain", "empty list (every value would be unknown)");
}

static int parse_type(struct pctx *c, struct schema_column *col, const yaml_node_t *v)
{
	static const char *const names[] = { "int", "float", "string", "bool" };
	static const enum schema_type types[] = { SCHEMA_INT, SCHEMA_FLOAT, SCHEMA_STRING, SCHEMA_BOOL };
	const char *t = yaml_doc_scalar(v);
	for (size_t i = 0; t && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(t, names[i])) {
			col->type = types[i];
			return 0;
		}
	diag(c, v, "type", "unknown type '%.64s' (expected int, float, string or bool)", t ? t : "");
	return -1;
}

/* What only makes sense once the whole column is read: min/max and domain against the type. */
static void check_column(struct pctx *c, const struct schema_column *col, const yaml_node_t *n,
			 const yaml_node_t *min_node, const yaml_node_t *domain_node)
{
	if ((col->has_min || col->has_max) && col->type != SCHEMA_INT && col->type != SCHEMA_FLOAT)
		diag(c, min_node ? min_node : n, col->name, "min/max need type int or float");
	if (col->has_min && col->has_max && col->min > col->max)
		diag(c, min_node, col->name, "min %g is greater than max %g", col->min, col->max);
	if (domain_node && col->type == SCHEMA_FLOAT)
		diag(c, domain_node, col->name, "a domain needs type int, string or bool");
	if (domain_node && col->type == SCHEMA_INT)
		for (size_t i = 0; i < col->n_domain; i++) {
			char *end;
			errno = 0;
			(void)strtoll(col->domain[i], &end, 10);
			if (!*col->domain[i] || *end || errno) {
				diag(c, domain_node, col->name, "domain value '%.64s' is not an int", col->domain[i]);
				break;
			}
		}
}

static void parse_column(struct pctx *c, struct schema *s, yaml_node_t *n, size_t idx)
{
	struct schema_column *col = &s->cols[s->n_cols];
	yaml_node_t *type_node = NULL, *domain_node = NULL, *min_node = NULL;
	size_t before = c->diags->n, np = yaml_doc_map_len(n);
	struct buf where = BUF_INIT;
	memset(col, 0, sizeof(*col));
	col->required = 1;
	col->type = SCHEMA_STRING;
	col->line = yaml_doc_pos(n).line;
	col->col = yaml_doc_pos(n).col;
	buf_addf(&where, "columns[%zu]", idx);
	if (n->type != YAML_MAPPING_NODE) {
		diag(c, n, where.ptr, "expected a mapping (name, type, ...)");
		buf_release(&where);
		return;
	}
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *k = yaml_doc_map_key(c->doc, n, i);
		yaml_node_t *v = yaml_doc_map_value(c->doc, n, i);
		const char *key = yaml_doc_scalar(k);
		if (!k || !v)
			continue;
		if (!key) {
			diag(c, k, where.ptr, "keys must be scalars");
		} else if (!strcmp(key, "name")) {
			if (!yaml_doc_scalar(v) || !*yaml_doc_scalar(v))
				diag(c, v, "name", "expected a non-empty string");
			else {
				free(col->name);
				col->name = xstrdup(yaml_doc_scalar(v));
			}
		} else if (!strcmp(key, "type")) {
			type_node = v;
			parse_type(c, col, v);
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
				diag(c, k, "domain", "given twice");
				continue;
			}
			domain_node = v;
			parse_domain(c, col, v);
		} else {
			diag(c, k, where.ptr,
			     "unknown key '%.64s' (expected name, type, nullable, required, warn, min, max or domain)",
			     key);
		}
	}
	if (!col->name)
		diag(c, n, where.ptr, "missing 'name'");
	if (!type_node)
		diag(c, n, where.ptr, "missing 'type' (int, float, string or bool)");
	if (c->diags->n == before)
		check_column(c, col, n, min_node, domain_node);
	s->n_cols++;
	buf_release(&where);
}

static void parse_root(struct pctx *c, struct schema *s, yaml_node_t *root)
{
	yaml_node_t *cols = NULL;
	size_t cnt, np = yaml_doc_map_len(root);
	if (root->type != YAML_MAPPING_NODE) {
		diag(c, root, "", "expected a mapping with a 'columns' list");
		return;
	}
	for (size_t i = 0; i < np; i++) {
		yaml_node_t *k = yaml_doc_map_key(c->doc, root, i);
		yaml_node_t *v = yaml_doc_map_value(c->doc, root, i);
		const char *key = yaml_doc_scalar(k);
		if (!k || !v)
			continue;
		if (key && !strcmp(key, "columns")) {
			cols = v;
		} else if (key && !strcmp(key, "unexpected_columns")) {
			const char *t = yaml_doc_scalar(v);
			if (t && !strcmp(t, "error"))
				s->unexpected = SCHEMA_EXTRA_ERROR;
			else if (t && !strcmp(t, "warn"))
				s->unexpected = SCHEMA_EXTRA_WARN;
			else if (t && !strcmp(t, "ignore"))
				s->unexpected = SCHEMA_EXTRA_IGNORE;
			else
				diag(c, v, key, "expected error, warn or ignore");
		} else if (key && !strcmp(key, "empty_dataset")) {
			const char *t = yaml_doc_scalar(v);
			if (t && (!strcmp(t, "error") || !strcmp(t, "warn")))
				s->empty_warn = !strcmp(t, "warn");
			else
				diag(c, v, key, "expected error or warn");
		} else {
			diag(c, k, "", "unknown key '%.64s' (expected columns, unexpected_columns or empty_dataset)",
			     key ? key : "");
		}
	}
	if (!cols) {
		diag(c, root, "", "missing 'columns'");
		return;
	}
	if (cols->type != YAML_SEQUENCE_NODE) {
		diag(c, cols, "columns", "expected a list");
		return;
	}
	cnt = yaml_doc_seq_len(cols);
	s->cols = xcalloc(cnt ? cnt : 1, sizeof(*s->cols));
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *n = yaml_doc_seq_item(c->doc, cols, i);
		if (n)
			parse_column(c, s, n, i);
	}
	for (size_t i = 0; i < s->n_cols; i++)
		for (size_t j = 0; j < i; j++)
			if (s->cols[i].name && s->cols[j].name && !strcmp(s->cols[i].name, s->cols[j].name)) {
				diags_add(c->diags, (struct diag_pos){ s->cols[i].line, s->cols[i].col }, "",
					  "column '%.64s' is defined twice (first at line %u)", s->cols[i].name,
					  s->cols[j].line);
				break;
			}
}

/* The schema's diags as this file has always worded them: as given (values are cut with %.64s where
 * they are quoted), every one of them. */
static void diags_for(struct diags *d, const char *file)
{
	diags_init(d);
	d->verbatim = 1;
	d->max = 0;
	diags_set_file(d, file);
}

int schema_parse_buffer(struct schema *s, const char *data, size_t len, const char *file, struct strvec *diags)
{
	static const struct yaml_doc_limits lim = { SCHEMA_MAX_BYTES, 0, 0, 0 };
	struct diags d;
	struct yaml_doc doc;
	struct pctx c = { &doc, &d };
	int ret;
	schema_init(s);
	diags_for(&d, file ? file : "schema.yaml");
	if (yaml_doc_load(&doc, data, len, &lim, &d) < 0) {
		if (doc.error.kind == YAML_DOC_TOO_LARGE)
			diags_add(&d, (struct diag_pos){ 1, 1 }, "", "schema is too large (%zu bytes; the limit is %d)",
				  len, SCHEMA_MAX_BYTES);
		else
			diags_add(&d, doc.error.mark, "", "%s",
				  doc.error.problem ? doc.error.problem : "YAML syntax error");
	} else if (!doc.root) {
		diags_add(&d, (struct diag_pos){ 1, 1 }, "", "empty schema (expected a 'columns' list)");
	} else {
		parse_root(&c, s, doc.root);
	}
	yaml_doc_release(&doc);
	ret = d.n ? -1 : 0;
	if (ret < 0)
		schema_release(s);
	diags_to_strvec(&d, diags);
	diags_release(&d);
	return ret;
}

int schema_parse_file(struct schema *s, const char *path, struct strvec *diags)
{
	struct buf b = BUF_INIT;
	int r;
	b.max = SCHEMA_MAX_BYTES;
	schema_init(s);
	if (buf_read_file(&b, path)) {
		struct diags d;
		diags_for(&d, path);
		diags_add(&d, (struct diag_pos){ 0, 0 }, "", "could not read: %s",
			  errno == EFBIG ? "file too large" : strerror(errno));
		diags_to_strvec(&d, diags);
		diags_release(&d);
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
