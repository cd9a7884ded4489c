/* contract.c - the case-file parser of API contract cases (see contract.h and docs/service.md): YAML to
 * struct contract_case, every problem at FILE:LINE:COL. It reads no files and sends nothing. */
#include "checks/contract.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "common/alloc.h"
#include "common/banned.h"

/* ---------------------------------------------------------------- YAML -> JSON */

struct pctx {
	yaml_document_t *doc;
	const char *file;
	struct strvec *diags;
	size_t nerr;
	size_t nodes; /* JSON values built so far (bounded by CONTRACT_MAX_NODES) */
};

static void diag(struct pctx *c, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void diag(struct pctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	c->nerr++;
	if (c->nerr > 100)
		return;
	buf_addf(&b, "%s:%u:%u: ", c->file, n ? (unsigned)n->start_mark.line + 1 : 1,
		 n ? (unsigned)n->start_mark.column + 1 : 1);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	strvec_push_owned(c->diags, buf_detach(&b, NULL));
}

static yaml_node_t *node(struct pctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static const char *kind_name(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a sequence" : "a scalar";
}

/* A YAML 1.2 core-schema number as JSON allows it (ints, decimals, exponents; a leading '+' too). */
static int plain_number(const char *s, double *out)
{
	const char *p = s;
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
	*out = strtod(s, &end);
	return *end || !isfinite(*out) ? -1 : 0;
}

/* Build the JSON value of YAML node "n": plain scalars are null (null, ~, empty), booleans
 * (true/false in the three YAML spellings), numbers or strings; quoted scalars are strings. */
static cJSON *to_json(struct pctx *c, yaml_node_t *n, int depth)
{
	cJSON *j = NULL;
	if (!n)
		return NULL;
	if (depth > CONTRACT_MAX_DEPTH) {
		diag(c, n, "nested deeper than %d levels", CONTRACT_MAX_DEPTH);
		return NULL;
	}
	if (++c->nodes > CONTRACT_MAX_NODES) {
		if (c->nodes == CONTRACT_MAX_NODES + 1)
			diag(c, n, "more than %d values (aliases count each time they are used)", CONTRACT_MAX_NODES);
		return NULL;
	}
	if (n->type == YAML_SCALAR_NODE) {
		const char *s = scalar(n);
		double d;
		if (!is_plain(n))
			return cJSON_CreateString(s);
		if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"))
			return cJSON_CreateNull();
		if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
			return cJSON_CreateTrue();
		if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
			return cJSON_CreateFalse();
		if (plain_number(s, &d) == 0)
			return cJSON_CreateNumber(d);
		if (!strcasecmp(s, ".inf") || !strcasecmp(s, "-.inf") || !strcasecmp(s, "+.inf") ||
		    !strcasecmp(s, ".nan")) {
			diag(c, n, "'%s' has no JSON form (JSON numbers are finite)", s);
			return NULL;
		}
		return cJSON_CreateString(s);
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		j = cJSON_CreateArray();
		for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			cJSON *v = to_json(c, node(c, *it), depth + 1);
			if (!v) {
				cJSON_Delete(j);
				return NULL;
			}
			cJSON_AddItemToArray(j, v);
		}
		return j;
	}
	if (n->type == YAML_MAPPING_NODE) {
		j = cJSON_CreateObject();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node(c, p->key);
			const char *ks = scalar(k);
			cJSON *v;
			if (!ks) {
				diag(c, k, "a JSON object key must be a scalar, not %s", k ? kind_name(k) : "nothing");
				cJSON_Delete(j);
				return NULL;
			}
			if (cJSON_GetObjectItemCaseSensitive(j, ks)) {
				diag(c, k, "duplicate key \"%s\"", ks);
				cJSON_Delete(j);
				return NULL;
			}
			v = to_json(c, node(c, p->value), depth + 1);
			if (!v) {
				cJSON_Delete(j);
				return NULL;
			}
			cJSON_AddItemToObject(j, ks, v);
		}
		return j;
	}
	diag(c, n, "empty value");
	return NULL;
}

/* ---------------------------------------------------------------- the case file */

/* Pairs of mapping "n" checked against "allowed" (NULL-terminated): vals[i] is the value of
 * allowed[i] or NULL. Unknown and duplicate keys are reported. -1 when "n" is not a mapping. */
static int fields(struct pctx *c, yaml_node_t *n, const char *what, const char *const *allowed, yaml_node_t **vals)
{
	size_t na = 0;
	while (allowed[na])
		vals[na++] = NULL;
	if (!n || n->type != YAML_MAPPING_NODE) {
		diag(c, n, "%s: expected a mapping, got %s", what, n ? kind_name(n) : "nothing");
		return -1;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key);
		const char *ks = scalar(k);
		size_t i;
		if (!ks) {
			diag(c, k, "%s: keys must be scalars", what);
			continue;
		}
		for (i = 0; i < na && strcmp(allowed[i], ks); i++)
			;
		if (i == na) {
			struct buf list = BUF_INIT;
			for (size_t a = 0; a < na; a++)
				buf_addf(&list, "%s%s", a ? ", " : "", allowed[a]);
			diag(c, k, "%s: unknown key \"%s\" (expected one of: %s)", what, ks, list.ptr);
			buf_release(&list);
		} else if (vals[i]) {
			diag(c, k, "%s: duplicate key \"%s\"", what, ks);
		} else {
			vals[i] = node(c, p->value);
		}
	}
	return 0;
}

static const char *get_str(struct pctx *c, yaml_node_t *n, const char *what)
{
	const char *s = scalar(n);
	if (!s)
		diag(c, n, "%s: expected a string, got %s", what, kind_name(n));
	return s;
}

static int get_num(struct pctx *c, yaml_node_t *n, const char *what, double *out)
{
	const char *s = scalar(n);
	if (!s || !is_plain(n) || plain_number(s, out) < 0) {
		diag(c, n, "%s: expected a number, got %s%s%s", what, s ? "\"" : kind_name(n), s ? s : "",
		     s ? "\"" : "");
		return -1;
	}
	return 0;
}

static int get_count(struct pctx *c, yaml_node_t *n, const char *what, int64_t *out)
{
	double d;
	if (get_num(c, n, what, &d) < 0)
		return -1;
	if (d < 0 || d > 1e15 || floor(d) != d) {
		diag(c, n, "%s: expected a whole number >= 0, got %s", what, scalar(n));
		return -1;
	}
	*out = (int64_t)d;
	return 0;
}

static int get_bool(struct pctx *c, yaml_node_t *n, const char *what, int *out)
{
	const char *s = scalar(n);
	if (s && is_plain(n) && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")))
		*out = 1;
	else if (s && is_plain(n) && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")))
		*out = 0;
	else {
		diag(c, n, "%s: expected true or false", what);
		return -1;
	}
	return 0;
}

static const char *const type_names[] = { "string", "number", "integer", "boolean", "null", "array", "object", NULL };

/* A "status:" value: 200, "4xx", or a list of them. */
static void parse_status_item(struct pctx *c, struct contract_case *k, yaml_node_t *n)
{
	const char *s = scalar(n);
	long lo, hi;
	if (s && strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
	    (s[2] == 'x' || s[2] == 'X')) {
		lo = (s[0] - '0') * 100;
		hi = lo + 99;
	} else {
		double d;
		if (!s || !is_plain(n) || plain_number(s, &d) < 0 || d < 100 || d > 599 || floor(d) != d) {
			diag(c, n, "expect.status: expected an HTTP status (100 to 599) or a class such as \"4xx\"");
			return;
		}
		lo = hi = (long)d;
	}
	k->status = xrealloc(k->status, (k->n_status + 1) * sizeof(*k->status));
	k->status[k->n_status].lo = lo;
	k->status[k->n_status].hi = hi;
	k->n_status++;
}

static void parse_matcher(struct pctx *c, struct contract_expect *x, yaml_node_t *n)
{
	static const char *const keys[] = { "equals",  "one_of",  "type",     "min",    "max", "len",
					    "min_len", "max_len", "contains", "exists", NULL };
	enum { M_EQUALS, M_ONE_OF, M_TYPE, M_MIN, M_MAX, M_LEN, M_MIN_LEN, M_MAX_LEN, M_CONTAINS, M_EXISTS, M_N };
	yaml_node_t *v[M_N];
	struct buf what = BUF_INIT;
	buf_addf(&what, "expect.json.\"%s\"", x->text);
	if (n->type != YAML_MAPPING_NODE) {
		x->equals = to_json(c, n, 0);
		goto done;
	}
	if (fields(c, n, what.ptr, keys, v) < 0)
		goto done;
	if (!n->data.mapping.pairs.top || n->data.mapping.pairs.top == n->data.mapping.pairs.start) {
		diag(c, n, "%s: empty matcher (to expect an empty object, write {equals: {}})", what.ptr);
		goto done;
	}
	if (v[M_EQUALS])
		x->equals = to_json(c, v[M_EQUALS], 0);
	if (v[M_ONE_OF]) {
		if (v[M_ONE_OF]->type != YAML_SEQUENCE_NODE)
			diag(c, v[M_ONE_OF], "%s.one_of: expected a sequence of values", what.ptr);
		else
			x->one_of = to_json(c, v[M_ONE_OF], 0);
	}
	if (v[M_TYPE]) {
		const char *t = scalar(v[M_TYPE]);
		size_t i;
		for (i = 0; t && type_names[i] && strcmp(type_names[i], t); i++)
			;
		if (!t || !type_names[i])
			diag(c, v[M_TYPE],
			     "%s.type: expected one of string, number, integer, boolean, null, array, object",
			     what.ptr);
		else
			x->type = (enum contract_type)(i + 1);
	}
	if (v[M_MIN] && get_num(c, v[M_MIN], "min", &x->min) == 0)
		x->has_min = 1;
	if (v[M_MAX] && get_num(c, v[M_MAX], "max", &x->max) == 0)
		x->has_max = 1;
	if (x->has_min && x->has_max && x->min > x->max)
		diag(c, v[M_MIN], "%s: min %g is greater than max %g", what.ptr, x->min, x->max);
	if (v[M_LEN])
		get_count(c, v[M_LEN], "len", &x->len);
	if (v[M_MIN_LEN])
		get_count(c, v[M_MIN_LEN], "min_len", &x->min_len);
	if (v[M_MAX_LEN])
		get_count(c, v[M_MAX_LEN], "max_len", &x->max_len);
	if (v[M_CONTAINS]) {
		const char *s = get_str(c, v[M_CONTAINS], "contains");
		if (s)
			x->contains = xstrdup(s);
	}
	if (v[M_EXISTS] && get_bool(c, v[M_EXISTS], "exists", &x->exists) == 0 && !x->exists) {
		for (int i = 0; i < M_N; i++)
			if (i != M_EXISTS && v[i]) {
				diag(c, v[i], "%s: \"exists: false\" cannot be combined with other matchers", what.ptr);
				break;
			}
	}
done:
	buf_release(&what);
}

static void parse_json_expect(struct pctx *c, struct contract_case *k, yaml_node_t *n)
{
	size_t cnt;
	if (n->type != YAML_MAPPING_NODE) {
		diag(c, n, "expect.json: expected a mapping of JSON paths to values or matchers, got %s", kind_name(n));
		return;
	}
	cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	k->json = xcalloc(cnt ? cnt : 1, sizeof(*k->json));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = node(c, p->key), *vn = node(c, p->value);
		const char *ks = scalar(kn);
		struct contract_expect *x = &k->json[k->n_json];
		struct buf why = BUF_INIT;
		if (!ks) {
			diag(c, kn, "expect.json: keys must be JSON paths (scalars)");
			continue;
		}
		for (size_t i = 0; i < k->n_json; i++)
			if (!strcmp(k->json[i].text, ks)) {
				diag(c, kn, "expect.json: duplicate path \"%s\"", ks);
				ks = NULL;
				break;
			}
		if (!ks)
			continue;
		memset(x, 0, sizeof(*x));
		x->len = x->min_len = x->max_len = -1;
		x->exists = 1;
		if (contract_path_parse(ks, &x->path, &why) < 0) {
			diag(c, kn, "expect.json: %s", why.ptr);
			buf_release(&why);
			continue;
		}
		buf_release(&why);
		x->text = xstrdup(ks);
		x->line = (unsigned)kn->start_mark.line + 1;
		x->col = (unsigned)kn->start_mark.column + 1;
		k->n_json++;
		if (vn)
			parse_matcher(c, x, vn);
	}
}

static void parse_request(struct pctx *c, struct contract_case *k, yaml_node_t *n)
{
	static const char *const keys[] = { "method", "path", "headers", "body", "body_text", NULL };
	yaml_node_t *v[5];
	if (fields(c, n, "request", keys, v) < 0)
		return;
	if (v[3] && v[4])
		diag(c, v[4], "request: give \"body\" (JSON) or \"body_text\" (sent as is), not both");
	if (v[3]) {
		cJSON *j = to_json(c, v[3], 0);
		if (j) {
			k->body = cJSON_PrintUnformatted(j);
			k->body_len = k->body ? strlen(k->body) : 0;
			cJSON_Delete(j);
			if (!k->body)
				diag(c, v[3], "request.body: could not be encoded as JSON");
		}
		strvec_push(&k->headers, "Content-Type: application/json");
	} else if (v[4]) {
		const char *s = get_str(c, v[4], "request.body_text");
		if (s) {
			k->body_len = v[4]->data.scalar.length;
			k->body = xmalloc(k->body_len + 1);
			memcpy(k->body, s, k->body_len + 1);
		}
	}
	if (v[0]) {
		const char *m = get_str(c, v[0], "request.method");
		if (m) {
			int ok = *m && strlen(m) <= 32;
			for (const char *p = m; ok && *p; p++)
				ok = isupper((unsigned char)*p) != 0;
			if (!ok)
				diag(c, v[0],
				     "request.method: expected an upper-case HTTP method such as GET or POST, got "
				     "\"%s\"",
				     m);
			else
				k->method = xstrdup(m);
		}
	}
	if (!k->method)
		k->method = xstrdup(k->body ? "POST" : "GET");
	if (!v[1]) {
		diag(c, n, "request: missing required key \"path\"");
	} else {
		const char *p = get_str(c, v[1], "request.path");
		if (p && (p[0] != '/' || strpbrk(p, " \t\r\n")))
			diag(c, v[1],
			     "request.path: expected an HTTP path starting with '/' and without spaces, got \"%s\"", p);
		else if (p)
			k->path = xstrdup(p);
	}
	if (v[2]) {
		if (v[2]->type != YAML_MAPPING_NODE) {
			diag(c, v[2], "request.headers: expected a mapping of header names to values");
		} else {
			for (yaml_node_pair_t *p = v[2]->data.mapping.pairs.start; p < v[2]->data.mapping.pairs.top;
			     p++) {
				yaml_node_t *hk = node(c, p->key), *hv = node(c, p->value);
				const char *ks = scalar(hk), *vs = scalar(hv);
				int ok = ks && *ks;
				for (const char *q = ks; ok && *q; q++)
					ok = isalnum((unsigned char)*q) || strchr("!#$%&'*+-.^_`|~", *q);
				if (!ok) {
					diag(c, hk, "request.headers: invalid header name");
					continue;
				}
				if (!vs || strpbrk(vs, "\r\n")) {
					diag(c, hv, "request.headers.%s: expected a one-line string", ks);
					continue;
				}
				strvec_pushf(&k->headers, "%s: %s", ks, vs);
			}
		}
	}
}

static void parse_expect(struct pctx *c, struct contract_case *k, yaml_node_t *n)
{
	static const char *const keys[] = { "status", "json", "max_latency_ms", NULL };
	yaml_node_t *v[3];
	if (fields(c, n, "expect", keys, v) < 0)
		return;
	if (v[0]) {
		if (v[0]->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = v[0]->data.sequence.items.start; it < v[0]->data.sequence.items.top;
			     it++)
				parse_status_item(c, k, node(c, *it));
			if (!k->n_status)
				diag(c, v[0], "expect.status: empty list");
		} else {
			parse_status_item(c, k, v[0]);
		}
	}
	if (v[1])
		parse_json_expect(c, k, v[1]);
	if (v[2] && get_num(c, v[2], "expect.max_latency_ms", &k->max_latency_ms) == 0 && k->max_latency_ms <= 0)
		diag(c, v[2], "expect.max_latency_ms: expected a number > 0");
}

static void case_release(struct contract_case *k)
{
	free(k->name);
	free(k->file);
	free(k->method);
	free(k->path);
	strvec_clear(&k->headers);
	if (k->body)
		free(k->body); /* cJSON_PrintUnformatted uses malloc (cJSON's default hooks) */
	free(k->status);
	for (size_t i = 0; i < k->n_json; i++) {
		free(k->json[i].text);
		contract_path_release(&k->json[i].path);
		cJSON_Delete(k->json[i].equals);
		cJSON_Delete(k->json[i].one_of);
		free(k->json[i].contains);
	}
	free(k->json);
	memset(k, 0, sizeof(*k));
}

static void parse_case(struct pctx *c, struct contract_case *k, yaml_node_t *n, size_t idx)
{
	static const char *const keys[] = { "name", "request", "expect", "timeout_ms", NULL };
	yaml_node_t *v[4];
	struct buf what = BUF_INIT;
	memset(k, 0, sizeof(*k));
	strvec_init(&k->headers);
	k->file = xstrdup(c->file);
	k->line = n ? (unsigned)n->start_mark.line + 1 : 1;
	k->col = n ? (unsigned)n->start_mark.column + 1 : 1;
	buf_addf(&what, "cases[%zu]", idx);
	if (fields(c, n, what.ptr, keys, v) < 0)
		goto done;
	if (!v[0]) {
		diag(c, n, "%s: missing required key \"name\"", what.ptr);
	} else {
		const char *s = get_str(c, v[0], "name");
		if (s && !*s)
			diag(c, v[0], "name: must not be empty");
		else if (s)
			k->name = xstrdup(s);
	}
	if (!v[1])
		diag(c, n, "%s: missing required key \"request\"", what.ptr);
	else
		parse_request(c, k, v[1]);
	if (v[2])
		parse_expect(c, k, v[2]);
	if (v[3]) {
		double d;
		if (get_num(c, v[3], "timeout_ms", &d) == 0) {
			if (d <= 0 || d > 3600000)
				diag(c, v[3], "timeout_ms: expected a number of milliseconds > 0 (at most one hour)");
			else
				k->timeout_ms = (int64_t)ceil(d);
		}
	}
	if (!k->n_status) {
		k->status = xmalloc(sizeof(*k->status));
		k->status[0].lo = 200;
		k->status[0].hi = 299;
		k->n_status = 1;
	}
done:
	buf_release(&what);
}

static void parse_root(struct pctx *c, struct contract_cases *out, yaml_node_t *root)
{
	static const char *const keys[] = { "cases", NULL };
	yaml_node_t *v[1], *cases;
	if (fields(c, root, "case file", keys, v) < 0)
		return;
	cases = v[0];
	if (!cases) {
		diag(c, root, "missing required key \"cases\" (a list of cases)");
		return;
	}
	if (cases->type != YAML_SEQUENCE_NODE) {
		diag(c, cases, "cases: expected a sequence, got %s", kind_name(cases));
		return;
	}
	for (yaml_node_item_t *it = cases->data.sequence.items.start; it < cases->data.sequence.items.top; it++) {
		struct contract_case k;
		size_t before = c->nerr;
		parse_case(c, &k, node(c, *it), (size_t)(it - cases->data.sequence.items.start));
		if (k.name && c->nerr == before)
			for (size_t i = 0; i < out->n; i++)
				if (out->items[i].name && !strcmp(out->items[i].name, k.name) &&
				    !strcmp(out->items[i].file, k.file)) {
					diag(c, node(c, *it), "duplicate case name \"%s\" (also at line %u)", k.name,
					     out->items[i].line);
					break;
				}
		ALLOC_GROW(out->items, out->n + 1, out->alloc);
		out->items[out->n++] = k;
	}
}

/* Diags of one file in file order: "FILE:LINE:COL: ..." sorted by line then column (stable). */
struct diag_key {
	unsigned long line, col;
	size_t idx;
	char *s;
};

static int cmp_diag(const void *a, const void *b)
{
	const struct diag_key *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void sort_diags(struct strvec *diags, size_t from, const char *file)
{
	size_t n = diags->n - from, fl = strlen(file);
	struct diag_key *k;
	if (n < 2)
		return;
	k = xcalloc(n, sizeof(*k));
	for (size_t i = 0; i < n; i++) {
		const char *s = diags->v[from + i];
		char *end;
		k[i].idx = i;
		k[i].s = diags->v[from + i];
		k[i].line = k[i].col = (unsigned long)-1;
		if (!strncmp(s, file, fl) && s[fl] == ':') {
			k[i].line = strtoul(s + fl + 1, &end, 10);
			if (*end == ':')
				k[i].col = strtoul(end + 1, NULL, 10);
		}
	}
	qsort(k, n, sizeof(*k), cmp_diag);
	for (size_t i = 0; i < n; i++)
		diags->v[from + i] = k[i].s;
	free(k);
}

int contract_parse_buffer(struct contract_cases *out, const char *data, size_t len, const char *file,
			  struct strvec *diags)
{
	struct pctx c = { NULL, file ? file : "contract.yaml", diags, 0, 0 };
	size_t before = out->n;
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;
	if (len > CONTRACT_MAX_BYTES) {
		strvec_pushf(diags, "%s:1:1: case file is too large (%zu bytes; the limit is %d)", c.file, len,
			     CONTRACT_MAX_BYTES);
		return -1;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, &doc)) {
		strvec_pushf(diags, "%s:%zu:%zu: %s%s%s", c.file, p.problem_mark.line + 1, p.problem_mark.column + 1,
			     p.problem ? p.problem : "YAML syntax error", p.context ? " " : "",
			     p.context ? p.context : "");
		yaml_parser_delete(&p);
		return -1;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		strvec_pushf(diags, "%s:1:1: empty case file (expected a \"cases\" list)", c.file);
		c.nerr++;
	} else {
		size_t d0 = diags->n;
		parse_root(&c, out, root);
		sort_diags(diags, d0, c.file);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	if (c.nerr) {
		if (c.nerr > 100)
			strvec_pushf(diags, "%s: %zu more problems not shown", c.file, c.nerr - 100);
		while (out->n > before)
			case_release(&out->items[--out->n]);
		return -1;
	}
	return 0;
}

void contract_cases_release(struct contract_cases *c)
{
	for (size_t i = 0; i < c->n; i++)
		case_release(&c->items[i]);
	free(c->items);
	c->items = NULL;
	c->n = c->alloc = 0;
}
