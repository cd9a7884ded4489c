/* store_checks.c - the checks table (schema version 3): record verdicts, list them for a run.
 * Bound parameters only; it must not print. */
#include "registry/store_checks.h"

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "registry/store_int.h"
#include "common/banned.h"

int store_check_put(struct store *st, const char *run, const struct verdict *v, struct err *e)
{
	sqlite3_stmt *s = NULL;
	char *details = v->details ? cJSON_PrintUnformatted(v->details) : NULL;
	int rc = -1;

	if (store_prepare(st, &s,
			  "INSERT OR REPLACE INTO checks(run, name, kind, status, summary, details, started_ms, "
			  "duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			  "could not record the check", e) < 0)
		goto out;
	store_bind_text(s, 1, run);
	store_bind_text(s, 2, v->name);
	store_bind_text(s, 3, v->kind);
	store_bind_text(s, 4, verdict_status_name(v->status));
	store_bind_text(s, 5, v->summary);
	store_bind_text(s, 6, details ? details : "{}");
	sqlite3_bind_int64(s, 7, v->started_ms);
	sqlite3_bind_int64(s, 8, v->duration_ms);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_sql_err(st, e, "could not record check '%s' of run %s", v->name, run);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	cJSON_free(details);
	return rc;
}

int store_checks_each(struct store *st, const char *run, int (*fn)(void *payload, const struct store_check_row *r),
		      void *payload, struct err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(st, &s,
			  "SELECT run, name, kind, status, summary, details, started_ms, duration_ms FROM checks "
			  "WHERE run = ?1 ORDER BY started_ms, rowid",
			  "could not list checks", e) < 0)
		return -1;
	store_bind_text(s, 1, run);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_check_row r = { store_col_str(s, 0),        store_col_str(s, 1),       store_col_str(s, 2),
					     store_col_str(s, 3),        store_col_str(s, 4),       store_col_str(s, 5),
					     sqlite3_column_int64(s, 6), sqlite3_column_int64(s, 7) };
		int ret = fn(payload, &r);
		if (ret) {
			sqlite3_finalize(s);
			return ret;
		}
	}
	if (rc != SQLITE_DONE) {
		store_sql_err(st, e, "could not list checks of run %s", run);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

int store_checks_find_reusable(struct store *st, const char *name, const char *kind, const char *key, char *run_out,
			       size_t n, struct err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (store_prepare(
		    st, &s,
		    "SELECT c.run FROM checks c WHERE c.name = ?1 AND json_extract(c.details, '$.reuse_key') = ?3 "
		    "AND NOT EXISTS (SELECT 1 FROM checks o WHERE o.run = c.run AND o.kind = ?2 AND o.status != "
		    "'pass') "
		    "ORDER BY c.started_ms DESC LIMIT 1",
		    "could not look for reusable checks", e) < 0)
		return -1;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, kind);
	store_bind_text(s, 3, key);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(run_out, n, "%s", store_col_str(s, 0));
		sqlite3_finalize(s);
		return 1;
	}
	if (rc != SQLITE_DONE) {
		store_sql_err(st, e, "could not look for reusable checks");
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}
