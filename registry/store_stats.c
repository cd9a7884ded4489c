/* store_stats.c - dataset_stats rows, output digests by lineage and registered versions' metrics for
 * the pipeline checks (ci/run_checks.c). Bound parameters only; it must not print. */
#include "registry/store_stats.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "registry/store_int.h"
#include "common/banned.h"

int store_dataset_stats_put(struct store *st, const char *dataset, const char *stats, struct err *e)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;
	if (store_prepare(st, &s,
			  "INSERT OR REPLACE INTO dataset_stats(dataset, stats, created_ms) VALUES (?1, ?2, ?3)",
			  "could not record dataset statistics", e) < 0)
		return -1;
	store_bind_text(s, 1, dataset);
	store_bind_text(s, 2, stats);
	sqlite3_bind_int64(s, 3, clock_wall_ms());
	if (sqlite3_step(s) != SQLITE_DONE)
		store_sql_err(st, e, "could not record the statistics of dataset %.12s", dataset);
	else
		rc = 0;
	sqlite3_finalize(s);
	return rc;
}

/* Run a one-row, one-text-column query with up to three text parameters. */
static int one_text(struct store *st, const char *sql, const char *a, const char *b, const char *c, char *out, size_t n,
		    struct err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;
	if (store_prepare(st, &s, sql, "could not query the store", e) < 0)
		return -1;
	store_bind_text(s, 1, a);
	if (b)
		store_bind_text(s, 2, b);
	if (c)
		store_bind_text(s, 3, c);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		snprintf(out, n, "%s", t ? (const char *)t : "");
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = store_sql_err(st, e, "could not query the store");
	}
	sqlite3_finalize(s);
	return rc;
}

int store_dataset_stats_get(struct store *st, const char *dataset, char stats_out[65], struct err *e)
{
	return one_text(st, "SELECT stats FROM dataset_stats WHERE dataset = ?1", dataset, NULL, NULL, stats_out, 65,
			e);
}

int store_run_output_digest(struct store *st, const char *run, const char *component, const char *name,
			    char digest_out[65], struct err *e)
{
	return one_text(st,
			"SELECT artifact FROM events WHERE run = ?1 AND component = ?2 AND name = ?3 AND "
			"kind = 'output' ORDER BY id DESC LIMIT 1",
			run, component, name, digest_out, 65, e);
}

int store_model_version_get(struct store *st, const char *model, int64_t version, char **run_out, char **metrics_out,
			    struct err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;
	if (store_prepare(st, &s, "SELECT run, metrics FROM model_versions WHERE model = ?1 AND version = ?2",
			  "could not query model versions", e) < 0)
		return -1;
	store_bind_text(s, 1, model);
	sqlite3_bind_int64(s, 2, version);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *r = sqlite3_column_text(s, 0), *m = sqlite3_column_text(s, 1);
		if (run_out)
			*run_out = xstrdup(r ? (const char *)r : "");
		if (metrics_out)
			*metrics_out = xstrdup(m ? (const char *)m : "{}");
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = store_sql_err(st, e, "could not read %s version %lld", model, (long long)version);
	}
	sqlite3_finalize(s);
	return rc;
}

int store_metrics_each(struct store *st, const char *run,
		       int (*fn)(void *payload, const char *name, const char *slice, double value), void *payload,
		       struct err *e)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = 0;
	if (store_prepare(st, &s, "SELECT name, slice, value FROM metrics WHERE run = ?1 ORDER BY slice, name",
			  "could not read metrics", e) < 0)
		return -1;
	store_bind_text(s, 1, run);
	while (!ret && (rc = sqlite3_step(s)) == SQLITE_ROW)
		ret = fn(payload, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
			 sqlite3_column_double(s, 2));
	if (!ret && rc != SQLITE_DONE)
		ret = store_sql_err(st, e, "could not read metrics of run %s", run);
	sqlite3_finalize(s);
	return ret < 0 ? -1 : 0;
}
