/* query.h - read-only queries on the metadata store (runs, one run, diff, lineage, registry), each
 * returning one cJSON document that the commands print as JSON or render as text. Never writes, never prints. */
#ifndef MLCI_QUERY_H
#define MLCI_QUERY_H

#include <stdint.h>

#include "common/error.h"
#include "registry/store.h"

struct cJSON;

/* Open the store of "home" only when "$home/mlci.db" exists, so that listing nothing creates nothing.
 * Returns 1 when opened, 0 when there is no database ("st" untouched), -1 on error. */
int query_store_open(struct store *st, const char *home, struct err *e);

/* Times: "2026-11-25 17:42:03" (UTC) into "out", "-" for 0. */
void query_fmt_time(char *out, size_t n, int64_t ms);

struct query_runs_filter {
	const char *pipeline, *branch, *status; /* NULL = any */
	int limit;                              /* <= 0: 20 */
};
/* Runs matching "f", newest first: an array of {id, pipeline, branch, commit, status, trigger,
 * started, started_ms, finished_ms, duration_ms, steps, steps_cached}. */
int query_runs(struct store *st, const struct query_runs_filter *f, struct cJSON **out, struct err *e);

/* Resolve a full run id or a unique prefix of one into "id_out" (malloc'd). Unknown or ambiguous
 * prefixes are MLCI_EUSAGE errors naming the candidates. */
int query_run_resolve(struct store *st, const char *prefix, char **id_out, struct err *e);

/* One run: the run row (params as an object) plus "steps" (in phase then start order), "artifacts"
 * (events joined with artifacts) and "metrics". "run" may be a unique prefix. */
int query_run_show(struct store *st, const char *run, struct cJSON **out, struct err *e);

/* Two runs side by side: {a, b, params: [{name, a, b, differs}], metrics: [{name, slice, a, b, delta,
 * differs}], steps: [{component, phase, a_status, b_status, a_cache_key, b_cache_key}] (only the steps
 * whose status or cache key differ), differences}. */
int query_run_diff(struct store *st, const char *run_a, const char *run_b, struct cJSON **out, struct err *e);

/* Lineage of "what": MODEL@VERSION, MODEL (its latest version) or an artifact digest (full, or a
 * unique prefix of at least 8 hex digits). A tree of artifact nodes {digest, type, size, uri, as,
 * produced_by: {run, commit, branch, pipeline, component, name} | null, inputs: [node], seen, truncated},
 * walked upstream through output and input events at most "max_depth" levels (<= 0: 32); an artifact
 * met twice is listed once with "seen": true. */
#define QUERY_LINEAGE_DEPTH 32
int query_lineage(struct store *st, const char *what, int max_depth, struct cJSON **out, struct err *e);

/* Registry: models with {model, latest_version, versions, latest_run, latest_commit, created_ms, created}. */
int query_models(struct store *st, struct cJSON **out, struct err *e);
/* "spec" is MODEL (every version, newest first) or MODEL@VERSION (that version with its run and its
 * stage transitions). Unknown models and versions are MLCI_EUSAGE errors. */
int query_model_show(struct store *st, const char *spec, struct cJSON **out, struct err *e);

/* Split "MODEL@VERSION": returns 1 with "model_out" (malloc'd) and "version_out" set, 0 when "s" has no
 * '@' (model_out = copy of s, version 0), -1 when the version is not a positive integer. */
int query_parse_model_ref(const char *s, char **model_out, int64_t *version_out);

#endif
