/* store_checks.h - check verdicts in the store (schema version 3, table checks): one row per check of a
 * run, written when the check finishes, read by `mlci show` and the promotion gates. */
#ifndef MLCI_STORE_CHECKS_H
#define MLCI_STORE_CHECKS_H

#include <stdint.h>

#include "record/verdict.h"
#include "registry/store.h"

/* Insert or replace the row (run, v->name); details are stored as compact JSON. */
int store_check_put(struct store *st, const char *run, const struct verdict *v, struct err *e);

/* One stored row; strings valid during the callback only. */
struct store_check_row {
	const char *run, *name, *kind, *status, *summary, *details_json;
	int64_t started_ms, duration_ms;
};
/* Call "fn" for every check of "run" in the order they started. A non-zero return from "fn" stops
 * the walk and is returned. */
int store_checks_each(struct store *st, const char *run, int (*fn)(void *payload, const struct store_check_row *r),
		      void *payload, struct err *e);

/* The latest run whose "name" check has details.reuse_key = "key" and whose checks of kind "kind" all
 * passed: 1 with "run_out" (41+ bytes) filled, 0 when none, -1 on error. */
int store_checks_find_reusable(struct store *st, const char *name, const char *kind, const char *key, char *run_out,
			       size_t n, struct err *e);

#endif
