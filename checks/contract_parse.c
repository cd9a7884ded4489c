/* contract_parse.c - the case file (docs/service.md "Contract cases"): cases, requests, expectations and
 * matchers read from one YAML document into struct contract_case, every problem at FILE:LINE:COL. It reads
 * no files (contract_load.c does) and sends nothing. */
#include "checks/contract_int.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/banned.h"

static const char *const type_names[] = { "string", "number", "integer", "boolean", "null", "array", "object", NULL };

/* A "status:" value: 200, "4xx", or a list of them. */
static void parse_status_item(struct contract_pctx *c, struct contract_case *k, yaml_node_t *n)
{
	const char *s = yaml_doc_scalar(n);
	long lo, hi;
	if (s && strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
	    (s[2] == 'x' || s[2] == 'X')) {
		lo = (s[0] - '0') * 100;
		hi = lo + 99;
	} else {
		double d;
		if (!s || !yaml_doc_is_plain(n) || yaml_doc_number(s, &d) < 0 || d < 100 || d > 599 || floor(d) != d) {
			contract_diag(c, n, "expect.status",
				      "expected an HTTP status (100 to 599) or a class such as \"4xx\"");
			return;
		}
		lo = hi = (long)d;
	}
	k->status = xrealloc(k->status, (k->n_status + 1) * sizeof(*k->status));
	k->status[k->n_status].lo = lo;
	k->status[k->n_status].hi = hi;
	k->n_status++;
}

static void parse_matcher_type(struct contract_pctx *c, struct contract_expect *x, yaml_node_t *n, const char *what)
{
	const char *t = yaml_doc_scalar(n);
	size_t i;
	struct buf key = BUF_INIT;
	for (i = 0; t && type_names[i] && strcmp(type_names[i], t); i++)
		;
	if (t && type_names[i]) {
		x->type = (enum contract_type)(i + 1);
		return;
	}
	buf_addf(&key, "%s.type", what);
	contract_diag(c, n, key.ptr, "expected one of string, number, integer, boolean, null, array, object");
	buf_release(&key);
}

/* The value of one path of expect.json: a mapping of matchers, or any other value to be equal to. */
static void parse_matcher(struct contract_pctx *c, struct contract_expect *x, yaml_node_t *n)
{
	static const char *const keys[] = { "equals",  "one_of",  "type",     "min",    "max", "len",
					    "min_len", "max_len", "contains", "exists", NULL };
	enum { M_EQUALS, M_ONE_OF, M_TYPE, M_MIN, M_MAX, M_LEN, M_MIN_LEN, M_MAX_LEN, M_CONTAINS, M_EXISTS, M_N };
	yaml_node_t *v[M_N];
	struct buf what = BUF_INIT, key = BUF_INIT;
	buf_addf(&what, "expect.json.\"%s\"", x->text);
	if (n->type != YAML_MAPPING_NODE) {
		x->equals = contract_to_json(c, n, 0);
		goto done;
	}
	if (contract_fields(c, n, what.ptr, keys, v) < 0)
		goto done;
	if (!yaml_doc_map_len(n)) {
		contract_diag(c, n, what.ptr, "empty matcher (to expect an empty object, write {equals: {}})");
		goto done;
	}
	if (v[M_EQUALS])
		x->equals = contract_to_json(c, v[M_EQUALS], 0);
	if (v[M_ONE_OF]) {
		if (v[M_ONE_OF]->type != YAML_SEQUENCE_NODE) {
			buf_addf(&key, "%s.one_of", what.ptr);
			contract_diag(c, v[M_ONE_OF], key.ptr, "expected a sequence of values");
		} else {
			x->one_of = contract_to_json(c, v[M_ONE_OF], 0);
		}
	}
	if (v[M_TYPE])
		parse_matcher_type(c, x, v[M_TYPE], what.ptr);
	if (v[M_MIN] && contract_get_num(c, v[M_MIN], "min", &x->min) == 0)
		x->has_min = 1;
	if (v[M_MAX] && contract_get_num(c, v[M_MAX], "max", &x->max) == 0)
		x->has_max = 1;
	if (x->has_min && x->has_max && x->min > x->max)
		contract_diag(c, v[M_MIN], what.ptr, "min %g is greater than max %g", x->min, x->max);
	if (v[M_LEN])
		contract_get_count(c, v[M_LEN], "len", &x->len);
	if (v[M_MIN_LEN])
		contract_get_count(c, v[M_MIN_LEN], "min_len", &x->min_len);
	if (v[M_MAX_LEN])
		contract_get_count(c, v[M_MAX_LEN], "max_len", &x->max_len);
	if (v[M_CONTAINS]) {
		const char *s = contract_get_str(c, v[M_CONTAINS], "contains");
		if (s)
			x->contains = xstrdup(s);
	}
	if (v[M_EXISTS] && contract_get_bool(c, v[M_EXISTS], "exists", &x->exists) == 0 && !x->exists) {
		for (int i = 0; i < M_N; i++)
			if (i != M_EXISTS && v[i]) {
				contract_diag(c, v[i], what.ptr,
					      "\"exists: false\" cannot be combined with other matchers");
				break;
			}
	}
done:
	buf_release(&what);
	buf_release(&key);
}

/* expect.json: JSON paths to values or matchers, each path once. */
static void parse_json_expect(struct contract_pctx *c, struct contract_case *k, yaml_node_t *n)
{
	size_t cnt;
	if (n->type != YAML_MAPPING_NODE) {
		contract_diag(c, n, "expect.json", "expected a mapping of JSON paths to values or matchers, got %s",
			      yaml_doc_kind(n));
		return;
	}
	cnt = yaml_doc_map_len(n);
	k->json = xcalloc(cnt ? cnt : 1, sizeof(*k->json));
	for (size_t p = 0; p < cnt; p++) {
		yaml_node_t *kn = yaml_doc_map_key(c->doc, n, p), *vn = yaml_doc_map_value(c->doc, n, p);
		const char *ks = yaml_doc_scalar(kn);
		struct contract_expect *x = &k->json[k->n_json];
		struct buf why = BUF_INIT;
		if (!ks) {
			contract_diag(c, kn, "expect.json", "keys must be JSON paths (scalars)");
			continue;
		}
		for (size_t i = 0; i < k->n_json; i++)
			if (!strcmp(k->json[i].text, ks)) {
				contract_diag(c, kn, "expect.json", "duplicate path \"%s\"", ks);
				ks = NULL;
				break;
			}
		if (!ks)
			continue;
		memset(x, 0, sizeof(*x));
		x->len = x->min_len = x->max_len = -1;
		x->exists = 1;
		if (contract_path_parse(ks, &x->path, &why) < 0) {
			contract_diag(c, kn, "expect.json", "%s", why.ptr);
			buf_release(&why);
			continue;
		}
		buf_release(&why);
		x->text = xstrdup(ks);
		x->line = yaml_doc_pos(kn).line;
		x->col = yaml_doc_pos(kn).col;
		k->n_json++;
		if (vn)
			parse_matcher(c, x, vn);
	}
}

/* request.headers: a mapping of header names (RFC 9110 tokens) to one-line values. */
static void parse_headers(struct contract_pctx *c, struct contract_case *k, yaml_node_t *n)
{
	size_t np = yaml_doc_map_len(n);
	if (n->type != YAML_MAPPING_NODE) {
		contract_diag(c, n, "request.headers", "expected a mapping of header names to values");
		return;
	}
	for (size_t p = 0; p < np; p++) {
		yaml_node_t *hk = yaml_doc_map_key(c->doc, n, p), *hv = yaml_doc_map_value(c->doc, n, p);
		const char *ks = yaml_doc_scalar(hk), *vs = yaml_doc_scalar(hv);
		int ok = ks && *ks;
		for (const char *q = ks; ok && *q; q++)
			ok = isalnum((unsigned char)*q) || strchr("!#$%&'*+-.^_`|~", *q);
		if (!ok) {
			contract_diag(c, hk, "request.headers", "invalid header name");
			continue;
		}
		if (!vs || strpbrk(vs, "\r\n")) {
			struct buf key = BUF_INIT;
			buf_addf(&key, "request.headers.%s", ks);
			contract_diag(c, hv, key.ptr, "expected a one-line string");
			buf_release(&key);
			continue;
		}
		strvec_pushf(&k->headers, "%s: %s", ks, vs);
	}
}

/* request.body (JSON, sent compact with its Content-Type) or request.body_text (sent as is). */
static void parse_body(struct contract_pctx *c, struct contract_case *k, yaml_node_t *body, yaml_node_t *text)
{
	if (body && text)
		contract_diag(c, text, "request", "give \"body\" (JSON) or \"body_text\" (sent as is), not both");
	if (body) {
		cJSON *j = contract_to_json(c, body, 0);
		if (j) {
			k->body = cJSON_PrintUnformatted(j);
			k->body_len = k->body ? strlen(k->body) : 0;
			cJSON_Delete(j);
			if (!k->body)
				contract_diag(c, body, "request.body", "could not be encoded as JSON");
		}
		strvec_push(&k->headers, "Content-Type: application/json");
	} else if (text) {
		const char *s = contract_get_str(c, text, "request.body_text");
		if (s) {
			k->body_len = yaml_doc_scalar_len(text);
			k->body = xmalloc(k->body_len + 1);
			memcpy(k->body, s, k->body_len + 1);
		}
	}
}

static void parse_request(struct contract_pctx *c, struct contract_case *k, yaml_node_t *n)
{
	static const char *const keys[] = { "method", "path", "headers", "body", "body_text", NULL };
	yaml_node_t *v[5];
	if (contract_fields(c, n, "request", keys, v) < 0)
		return;
	parse_body(c, k, v[3], v[4]);
	if (v[0]) {
		const char *m = contract_get_str(c, v[0], "request.method");
		if (m) {
			int ok = *m && strlen(m) <= 32;
			for (const char *p = m; ok && *p; p++)
				ok = isupper((unsigned char)*p) != 0;
			if (!ok)
				contract_diag(c, v[0], "request.method",
					      "expected an upper-case HTTP method such as GET or POST, got \"%s\"", m);
			else
				k->method = xstrdup(m);
		}
	}
	if (!k->method)
		k->method = xstrdup(k->body ? "POST" : "GET");
	if (!v[1]) {
		contract_diag(c, n, "request", "missing required key \"path\"");
	} else {
		const char *p = contract_get_str(c, v[1], "request.path");
		if (p && (p[0] != '/' || strpbrk(p, " \t\r\n")))
			contract_diag(c, v[1], "request.path",
				      "expected an HTTP path starting with '/' and without spaces, got \"%s\"", p);
		else if (p)
			k->path = xstrdup(p);
	}
	if (v[2])
		parse_headers(c, k, v[2]);
}

static void parse_expect(struct contract_pctx *c, struct contract_case *k, yaml_node_t *n)
{
	static const char *const keys[] = { "status", "json", "max_latency_ms", NULL };
	yaml_node_t *v[3];
	if (contract_fields(c, n, "expect", keys, v) < 0)
		return;
	if (v[0]) {
		if (v[0]->type == YAML_SEQUENCE_NODE) {
			size_t cnt = yaml_doc_seq_len(v[0]);
			for (size_t i = 0; i < cnt; i++)
				parse_status_item(c, k, yaml_doc_seq_item(c->doc, v[0], i));
			if (!k->n_status)
				contract_diag(c, v[0], "expect.status", "empty list");
		} else {
			parse_status_item(c, k, v[0]);
		}
	}
	if (v[1])
		parse_json_expect(c, k, v[1]);
	if (v[2] && contract_get_num(c, v[2], "expect.max_latency_ms", &k->max_latency_ms) == 0 &&
	    k->max_latency_ms <= 0)
		contract_diag(c, v[2], "expect.max_latency_ms", "expected a number > 0");
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

void contract_cases_release(struct contract_cases *c)
{
	for (size_t i = 0; i < c->n; i++)
		case_release(&c->items[i]);
	free(c->items);
	c->items = NULL;
	c->n = c->alloc = 0;
}

static void parse_case(struct contract_pctx *c, struct contract_case *k, yaml_node_t *n, size_t idx)
{
	static const char *const keys[] = { "name", "request", "expect", "timeout_ms", NULL };
	yaml_node_t *v[4];
	struct buf what = BUF_INIT;
	memset(k, 0, sizeof(*k));
	strvec_init(&k->headers);
	k->file = xstrdup(c->file);
	k->line = yaml_doc_pos(n).line;
	k->col = yaml_doc_pos(n).col;
	yaml_doc_key_push(&what, "cases");
	yaml_doc_key_push_index(&what, idx);
	if (contract_fields(c, n, what.ptr, keys, v) < 0)
		goto done;
	if (!v[0]) {
		contract_diag(c, n, what.ptr, "missing required key \"name\"");
	} else {
		const char *s = contract_get_str(c, v[0], "name");
		if (s && !*s)
			contract_diag(c, v[0], "name", "must not be empty");
		else if (s)
			k->name = xstrdup(s);
	}
	if (!v[1])
		contract_diag(c, n, what.ptr, "missing required key \"request\"");
	else
		parse_request(c, k, v[1]);
	if (v[2])
		parse_expect(c, k, v[2]);
	if (v[3]) {
		double d;
		if (contract_get_num(c, v[3], "timeout_ms", &d) == 0) {
			if (d <= 0 || d > 3600000)
				contract_diag(c, v[3], "timeout_ms",
					      "expected a number of milliseconds > 0 (at most one hour)");
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

static void parse_root(struct contract_pctx *c, struct contract_cases *out, yaml_node_t *root)
{
	static const char *const keys[] = { "cases", NULL };
	yaml_node_t *v[1], *cases;
	size_t cnt;
	if (contract_fields(c, root, "case file", keys, v) < 0)
		return;
	cases = v[0];
	if (!cases) {
		contract_diag(c, root, "", "missing required key \"cases\" (a list of cases)");
		return;
	}
	if (cases->type != YAML_SEQUENCE_NODE) {
		contract_diag(c, cases, "cases", "expected a sequence, got %s", yaml_doc_kind(cases));
		return;
	}
	cnt = yaml_doc_seq_len(cases);
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *item = yaml_doc_seq_item(c->doc, cases, i);
		struct contract_case k;
		size_t before = c->nerr;
		parse_case(c, &k, item, i);
		if (k.name && c->nerr == before)
			for (size_t j = 0; j < out->n; j++)
				if (out->items[j].name && !strcmp(out->items[j].name, k.name) &&
				    !strcmp(out->items[j].file, k.file)) {
					contract_diag(c, item, "", "duplicate case name \"%s\" (also at line %u)",
						      k.name, out->items[j].line);
					break;
				}
		ALLOC_GROW(out->items, out->n + 1, out->alloc);
		out->items[out->n++] = k;
	}
}

/* Word a load failure as this format always has: the size limit, or libyaml's problem and context. */
static void load_diag(struct contract_pctx *c, const struct yaml_doc_error *e, size_t len)
{
	c->nerr++;
	if (e->kind == YAML_DOC_TOO_LARGE)
		diags_add(c->diags, (struct diag_pos){ 1, 1 }, "",
			  "case file is too large (%zu bytes; the limit is %d)", len, CONTRACT_MAX_BYTES);
	else
		diags_add(c->diags, e->mark, "", "%s%s%s", e->problem ? e->problem : "YAML syntax error",
			  e->context ? " " : "", e->context ? e->context : "");
}

int contract_parse_buffer(struct contract_cases *out, const char *data, size_t len, const char *file,
			  struct strvec *diags)
{
	static const struct yaml_doc_limits lim = { CONTRACT_MAX_BYTES, 0, 0, 0 };
	struct yaml_doc doc;
	struct diags d;
	struct contract_pctx c = { &doc, file ? file : "contract.yaml", &d, 0, 0 };
	size_t before = out->n;
	diags_init(&d);
	d.verbatim = 1;
	d.max = 0;
	diags_set_file(&d, c.file);
	if (yaml_doc_load(&doc, data, len, &lim, &d) < 0) {
		load_diag(&c, &doc.error, len);
	} else if (!doc.root) {
		diags_add(&d, (struct diag_pos){ 1, 1 }, "", "empty case file (expected a \"cases\" list)");
		c.nerr++;
	} else {
		parse_root(&c, out, doc.root);
		diags_sort(&d, 0);
	}
	yaml_doc_release(&doc);
	if (c.nerr > CONTRACT_MAX_SHOWN)
		diags_add(&d, (struct diag_pos){ 0, 0 }, "", "%zu more problems not shown",
			  c.nerr - CONTRACT_MAX_SHOWN);
	diags_to_strvec(&d, diags);
	diags_release(&d);
	if (c.nerr) {
		while (out->n > before)
			case_release(&out->items[--out->n]);
		return -1;
	}
	return 0;
}
