/* contract_int.h - internals shared by the case-file parser (checks/contract_yaml.c, contract_parse.c): the
 * parse context, its diagnostics, and YAML values read as case-file fields or JSON. Not an API: nothing
 * outside checks/contract_*.c includes it. */
#ifndef MLCI_CONTRACT_INT_H
#define MLCI_CONTRACT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "checks/contract.h"
#include "common/diag.h"
#include "common/yaml_doc.h"

#define CONTRACT_MAX_SHOWN 100 /* problems listed per file; the rest are counted in one last line */

/* The state of one case file's parse. */
struct contract_pctx {
	struct yaml_doc *doc;
	const char *file;    /* display name */
	struct diags *diags; /* verbatim, uncapped: the parser caps at CONTRACT_MAX_SHOWN itself */
	size_t nerr;         /* problems found, shown or not */
	size_t nodes;        /* JSON values built so far (bounded by CONTRACT_MAX_NODES) */
};

/* A problem at node "n" (1:1 for NULL) under "key" ("" for none); counted always, kept while fewer than
 * CONTRACT_MAX_SHOWN were. */
void contract_diag(struct contract_pctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Pairs of mapping "n" checked against "allowed" (NULL-terminated): vals[i] is the value of allowed[i] or
 * NULL. Unknown and duplicate keys are reported under "what". -1 when "n" is not a mapping. */
int contract_fields(struct contract_pctx *c, yaml_node_t *n, const char *what, const char *const *allowed,
		    yaml_node_t **vals);
/* Field values; each reports under "what" and returns NULL / -1 when "n" is not one. */
const char *contract_get_str(struct contract_pctx *c, yaml_node_t *n, const char *what);
int contract_get_num(struct contract_pctx *c, yaml_node_t *n, const char *what, double *out);
int contract_get_count(struct contract_pctx *c, yaml_node_t *n, const char *what, int64_t *out);
int contract_get_bool(struct contract_pctx *c, yaml_node_t *n, const char *what, int *out);

/* The JSON value of YAML node "n" (owned by the caller), or NULL after a diag. Plain scalars are null (null,
 * ~, empty), booleans (true/false in the three YAML spellings), numbers or strings; quoted scalars are
 * strings. "depth" is the nesting so far (bounded by CONTRACT_MAX_DEPTH). */
struct cJSON *contract_to_json(struct contract_pctx *c, yaml_node_t *n, int depth);

#endif
