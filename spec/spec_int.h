/* spec_int.h - internals shared by the files of the mlci.yaml parser (spec/spec*.c): the walk context,
 * typed getters worded for mlci.yaml over the YAML toolkit (common/yaml_doc.h), and value grammars.
 * Not an API: nothing outside spec/spec*.c includes it. */
#ifndef MLCI_SPEC_INT_H
#define MLCI_SPEC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/yaml_doc.h"
#include "spec/spec.h"

#define SPEC_MAX_BYTES      (1024 * 1024) /* larger files are refused before parsing */
#define SPEC_MAX_COMPONENTS 1000          /* also the limit on environments */
#define SPEC_MAX_DEPTH      32            /* mappings and sequences nested deeper are refused */
#define SPEC_NONE           ((size_t)-1)

/* A sorted view of names for O(log n) lookup; "idx" maps back to the caller's index. */
struct spec_index {
	const char **names; /* borrowed strings; owned array */
	size_t *idx;
	size_t n;
};

/* The state of one parse: the document, where diags go, what is being filled, and the dotted key
 * path of the node being looked at (diagnostics use it). */
struct spec_ctx {
	struct yaml_doc *doc;
	struct diags *diags;
	struct spec *s;
	struct buf key;
	struct spec_index comps;    /* component names, once known */
	struct spec_index *outputs; /* per component, built on first use; owned */
	struct spec_index envs;     /* environment names, once known */
	size_t cur;                 /* the component or environment being parsed */
	size_t nerr;                /* problems found (diags past the cap are dropped, not this) */
};

/* One allowed key of a fixed-shape mapping. */
struct spec_field {
	const char *name;
	int required;
};

/* The pairs of a mapping; keys[i] == NULL marks a pair already reported (bad or duplicate key). */
struct spec_pairs {
	yaml_node_t **keys;
	yaml_node_t **vals;
	const char **names;
	size_t n;
};

/* Diagnostics at node "n" (or "pos") under the current key path; each counts in c->nerr. */
void spec_err(struct spec_ctx *c, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void spec_err_at(struct spec_ctx *c, struct diag_pos pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Nodes (spec_yaml.c). */
/* yaml_doc_kind, with "null" for a null scalar. */
const char *spec_kind(const yaml_node_t *n);
/* The text of scalar "n", or NULL after a diag ("expected WHAT, got a sequence"). */
const char *spec_scalar(struct spec_ctx *c, const yaml_node_t *n, const char *what);
int spec_map(struct spec_ctx *c, yaml_node_t *n, struct spec_pairs *out);
void spec_pairs_release(struct spec_pairs *p);
/* Match the keys of mapping "n" against "f"; vals[i] receives the value of f[i] or NULL. Unknown,
 * duplicate and missing required keys are reported. -1 when "n" is not a mapping. */
int spec_fields(struct spec_ctx *c, yaml_node_t *n, const struct spec_field *f, size_t nf, yaml_node_t **vals);

/* Getters: each pushes "name" on the key path while it looks at "n", reports problems and returns -1.
 * A NULL "n" (key absent) returns 1 and leaves "out" alone. */
int spec_get_str(struct spec_ctx *c, yaml_node_t *n, const char *name, const char *what, char **out);
int spec_get_bool(struct spec_ctx *c, yaml_node_t *n, const char *name, int *out);
int spec_get_int(struct spec_ctx *c, yaml_node_t *n, const char *name, int64_t min, int64_t max, int64_t *out);
int spec_get_num(struct spec_ctx *c, yaml_node_t *n, const char *name, double min, int min_excl, double max,
		 double *out);
int spec_get_duration(struct spec_ctx *c, yaml_node_t *n, const char *name, int64_t *ms);
int spec_get_size(struct spec_ctx *c, yaml_node_t *n, const char *name, int64_t *bytes);
int spec_get_enum(struct spec_ctx *c, yaml_node_t *n, const char *name, const char *const *vals, size_t nvals,
		  int *idx);

/* Item converters for spec_get_list: return a malloc'd value, or NULL after a diag. The key path
 * already names the item. */
typedef char *(*spec_conv_fn)(struct spec_ctx *c, yaml_node_t *item, const char *text);
char *spec_conv_str(struct spec_ctx *c, yaml_node_t *item, const char *text);
char *spec_conv_repo_path(struct spec_ctx *c, yaml_node_t *item, const char *text);
/* A sequence of scalars (or, when "scalar_ok", one scalar) into "out"; items that fail "conv" are
 * left out. With "dup_noun", repeated items are reported as duplicate DUP_NOUN and left out. */
int spec_get_list(struct spec_ctx *c, yaml_node_t *n, const char *name, int scalar_ok, const char *what,
		  spec_conv_fn conv, const char *dup_noun, struct spec_strlist *out);
void spec_strlist_release(struct spec_strlist *l);
/* Check and normalise a repo-relative path ("." for the root); NULL after a diag at "n". */
char *spec_repo_path(struct spec_ctx *c, yaml_node_t *n, const char *text);

/* Names (spec_yaml.c). */
void spec_index_build(struct spec_index *ix, const char *const *names, size_t n);
size_t spec_index_find(const struct spec_index *ix, const char *name);
void spec_index_release(struct spec_index *ix);
/* first[i] = index of the first earlier string equal to strs[i], or SPEC_NONE. Caller frees. */
size_t *spec_find_dups(const char *const *strs, size_t n);
/* The candidate within edit distance 2 of "word" (NULL if none), for "did you mean". */
const char *spec_suggest(const char *word, const char *const *cands, size_t n);
/* Append " (did you mean \"X\"?)" when there is a suggestion. */
void spec_add_suggestion(struct buf *b, const char *word, const char *const *cands, size_t n);

/* Value grammars (spec_values.c). */
int spec_parse_number(const char *s, double *out);
int spec_parse_threshold(const char *s, enum spec_cmp *op, double *value);
int spec_parse_tolerance(const char *s, double *value, int *relative);
/* 0 when "s" is a valid 5-field cron expression; else -1 with the reason in "why". */
int spec_check_cron(const char *s, struct buf *why);
int spec_check_glob(const char *g, const char **why);
int spec_check_url(const char *s);
int spec_check_ssh(const char *s, const char **why);
int spec_name_ok(const char *s, int lower_only);

/* Sections (spec_sections.c): the whole top-level mapping "root". */
void spec_parse_root(struct spec_ctx *c, yaml_node_t *root);
/* The top level of policy.yaml: environments, groups, freeze. */
void spec_parse_policy_root(struct spec_ctx *c, yaml_node_t *root);

/* Sections (spec_checks.c): the checks mapping, after components are parsed. */
void spec_parse_checks(struct spec_ctx *c, yaml_node_t *n);
void spec_checks_release(struct spec_checks *k);

/* "component/output" reference at node "n" (key "name"), resolved against declared outputs. */
void spec_get_ref(struct spec_ctx *c, yaml_node_t *n, const char *name, struct spec_ref *r);
void spec_ref_release(struct spec_ref *r);

#endif
