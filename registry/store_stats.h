/* store_stats.h - what the pipeline checks look up in the store: dataset statistics rows (schema v3,
 * table dataset_stats), an output's digest in a run's lineage, and a registered version's metrics. */
#ifndef MLCI_STORE_STATS_H
#define MLCI_STORE_STATS_H

#include <stdint.h>

#include "registry/store.h"

/* Record that the statistics of artifact "dataset" are artifact "stats" (insert or replace). Both
 * digests must already be artifacts. */
int store_dataset_stats_put(struct store *st, const char *dataset, const char *stats, struct err *e);
/* The statistics artifact of "dataset": 1 and "stats_out" filled, 0 when none, -1 on error. */
int store_dataset_stats_get(struct store *st, const char *dataset, char stats_out[65], struct err *e);
/* Digest of output "name" of "component" in "run" (its output event): 1 found, 0 not, -1 error. */
int store_run_output_digest(struct store *st, const char *run, const char *component, const char *name,
			    char digest_out[65], struct err *e);
/* A registered version: 1 and *run_out, *metrics_out (the metrics JSON text; both malloc'd, may be
 * NULL pointers to skip), 0 when there is no such version, -1 on error. */
int store_model_version_get(struct store *st, const char *model, int64_t version, char **run_out, char **metrics_out,
			    struct err *e);

/* Every metric of "run" (slice "" for the whole dataset), by slice then name. A non-zero return from "fn"
 * stops the walk. */
int store_metrics_each(struct store *st, const char *run,
		       int (*fn)(void *payload, const char *name, const char *slice, double value), void *payload,
		       struct err *e);

#endif
