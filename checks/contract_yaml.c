/* contract_yaml.c - YAML values of a case file (checks/contract_int.h): diagnostics, fixed-shape mappings,
 * typed fields and YAML -> JSON, over the YAML toolkit. It knows no field of a case (contract_parse.c does). */
#include "checks/contract_int.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/banned.h"

void contract_diag(struct contract_pctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	va_list ap;
	c->nerr++;
	if (c->nerr > CONTRACT_MAX_SHOWN)
		return;
	va_start(ap, fmt);
	diags_vadd(c->diags, yaml_doc_pos(n), key, fmt, ap);
	va_end(ap);
}

int contract_fields(struct contract_pctx *c, yaml_node_t *n, const char *what, const char *const *allowed,
		    yaml_node_t **vals)
{
	size_t na = 0, np = yaml_doc_map_len(n);
	while (allowed[na])
		vals[na++] = NULL;
	if (!n || n->type != YAML_MAPPING_NODE) {
		contract_diag(c, n, what, "expected a mapping, got %s", yaml_doc_kind(n));
		return -1;
	}
	for (size_t p = 0; p < np; p++) {
		yaml_node_t *k = yaml_doc_map_key(c->doc, n, p);
		const char *ks = yaml_doc_scalar(k);
		size_t i;
		if (!ks) {
			contract_diag(c, k, what, "keys must be scalars");
			continue;
		}
		for (i = 0; i < na && strcmp(allowed[i], ks); i++)
			;
		if (i == na) {
			struct buf list = BUF_INIT;
			for (size_t a = 0; a < na; a++)
				buf_addf(&list, "%s%s", a ? ", " : "", allowed[a]);
			contract_diag(c, k, what, "unknown key \"%s\" (expected one of: %s)", ks, list.ptr);
			buf_release(&list);
		} else if (vals[i]) {
			contract_diag(c, k, what, "duplicate key \"%s\"", ks);
		} else {
			vals[i] = yaml_doc_map_value(c->doc, n, p);
		}
	}
	return 0;
}

const char *contract_get_str(struct contract_pctx *c, yaml_node_t *n, const char *what)
{
	const char *s = yaml_doc_scalar(n);
	if (!s)
		contract_diag(c, n, what, "expected a string, got %s", yaml_doc_kind(n));
	return s;
}

int contract_get_num(struct contract_pctx *c, yaml_node_t *n, const char *what, double *out)
{
	const char *s = yaml_doc_scalar(n);
	if (!s || !yaml_doc_is_plain(n) || yaml_doc_number(s, out) < 0) {
		contract_diag(c, n, what, "expected a number, got %s%s%s", s ? "\"" : yaml_doc_kind(n), s ? s : "",
			      s ? "\"" : "");
		return -1;
	}
	return 0;
}

int contract_get_count(struct contract_pctx *c, yaml_node_t *n, const char *what, int64_t *out)
{
	double d;
	if (contract_get_num(c, n, what, &d) < 0)
		return -1;
	if (d < 0 || d > 1e15 || floor(d) != d) {
		contract_diag(c, n, what, "expected a whole number >= 0, got %s", yaml_doc_scalar(n));
		return -1;
	}
	*out = (int64_t)d;
	return 0;
}

int contract_get_bool(struct contract_pctx *c, yaml_node_t *n, const char *what, int *out)
{
	const char *s = yaml_doc_scalar(n);
	if (!s || !yaml_doc_is_plain(n) || yaml_doc_bool(s, out) < 0) {
		contract_diag(c, n, what, "expected true or false");
		return -1;
	}
	return 0;
}

static cJSON *scalar_to_json(struct contract_pctx *c, yaml_node_t *n)
{
	const char *s = yaml_doc_scalar(n);
	double d;
	int b;
	if (!yaml_doc_is_plain(n))
		return cJSON_CreateString(s);
	if (yaml_doc_is_null(n))
		return cJSON_CreateNull();
	if (yaml_doc_bool(s, &b) == 0)
		return cJSON_CreateBool(b);
	if (yaml_doc_number(s, &d) == 0)
		return cJSON_CreateNumber(d);
	if (!strcasecmp(s, ".inf") || !strcasecmp(s, "-.inf") || !strcasecmp(s, "+.inf") || !strcasecmp(s, ".nan")) {
		contract_diag(c, n, "", "'%s' has no JSON form (JSON numbers are finite)", s);
		return NULL;
	}
	return cJSON_CreateString(s);
}

cJSON *contract_to_json(struct contract_pctx *c, yaml_node_t *n, int depth)
{
	cJSON *j = NULL;
	if (!n)
		return NULL;
	if (depth > CONTRACT_MAX_DEPTH) {
		contract_diag(c, n, "", "nested deeper than %d levels", CONTRACT_MAX_DEPTH);
		return NULL;
	}
	if (++c->nodes > CONTRACT_MAX_NODES) {
		if (c->nodes == CONTRACT_MAX_NODES + 1)
			contract_diag(c, n, "", "more than %d values (aliases count each time they are used)",
				      CONTRACT_MAX_NODES);
		return NULL;
	}
	if (n->type == YAML_SCALAR_NODE)
		return scalar_to_json(c, n);
	if (n->type == YAML_SEQUENCE_NODE) {
		size_t cnt = yaml_doc_seq_len(n);
		j = cJSON_CreateArray();
		for (size_t i = 0; i < cnt; i++) {
			cJSON *v = contract_to_json(c, yaml_doc_seq_item(c->doc, n, i), depth + 1);
			if (!v) {
				cJSON_Delete(j);
				return NULL;
			}
			cJSON_AddItemToArray(j, v);
		}
		return j;
	}
	if (n->type == YAML_MAPPING_NODE) {
		size_t np = yaml_doc_map_len(n);
		j = cJSON_CreateObject();
		for (size_t p = 0; p < np; p++) {
			yaml_node_t *k = yaml_doc_map_key(c->doc, n, p);
			const char *ks = yaml_doc_scalar(k);
			cJSON *v;
			if (!ks) {
				contract_diag(c, k, "", "a JSON object key must be a scalar, not %s", yaml_doc_kind(k));
				cJSON_Delete(j);
				return NULL;
			}
			if (cJSON_GetObjectItemCaseSensitive(j, ks)) {
				contract_diag(c, k, "", "duplicate key \"%s\"", ks);
				cJSON_Delete(j);
				return NULL;
			}
			v = contract_to_json(c, yaml_doc_map_value(c->doc, n, p), depth + 1);
			if (!v) {
				cJSON_Delete(j);
				return NULL;
			}
			cJSON_AddItemToObject(j, ks, v);
		}
		return j;
	}
	contract_diag(c, n, "", "empty value");
	return NULL;
}
