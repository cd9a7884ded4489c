/* store_review.c - approvals, rejections and state repo marks in the store (registry/store_review.h;
 * schema v3 and v4 tables). Bound parameters only; it must not print or decide who may review. */
#include "registry/store_review.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "registry/store_int.h"
#include "common/banned.h"

int store_approval_add(struct store *st, const char *pipeline, const char *env, const char *model, int64_t version,
		       const char *artifact, const char *approver, const char *evidence, struct err *e)
{
	sqlite3_stmt *s;
	if (store_prepare(st, &s,
			  "INSERT OR IGNORE INTO approvals(pipeline, environment, model, version, artifact, approver, "
			  "time_ms, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			  "could not record the approval", e) < 0)
		return -1;
	store_bind_text(s, 1, pipeline);
	store_bind_text(s, 2, env);
	store_bind_text(s, 3, model);
	sqlite3_bind_int64(s, 4, version);
	store_bind_text(s, 5, artifact);
	store_bind_text(s, 6, approver);
	store_bind_ms(s, 7, clock_wall_ms());
	store_bind_text(s, 8, evidence);
	if (store_exec_done(st, s, "could not record the approval", e) < 0)
		return -1;
	return sqlite3_changes(store_db(st)) > 0;
}

int store_approvals_list(struct store *st, const char *pipeline, const char *env, const char *model, int64_t version,
			 const char *artifact, struct strvec *out, struct err *e)
{
	sqlite3_stmt *s;
	int rc;
	if (store_prepare(st, &s,
			  "SELECT approver FROM approvals WHERE pipeline = ?1 AND environment = ?2 AND model = ?3 "
			  "AND version = ?4 AND artifact = ?5 ORDER BY id",
			  "could not list approvals", e) < 0)
		return -1;
	store_bind_text(s, 1, pipeline);
	store_bind_text(s, 2, env);
	store_bind_text(s, 3, model);
	sqlite3_bind_int64(s, 4, version);
	store_bind_text(s, 5, artifact);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (!strvec_contains(out, store_col(s, 0)))
			strvec_push(out, store_col(s, 0));
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_sql_err(st, e, "could not list approvals");
}

void store_rejection_release(struct store_rejection *r)
{
	free(r->approver);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

int store_rejection_add(struct store *st, const char *pipeline, const char *env, const char *model, int64_t version,
			const char *artifact, const char *approver, const char *reason, struct err *e)
{
	sqlite3_stmt *s;
	if (store_prepare(st, &s,
			  "INSERT INTO rejections(pipeline, environment, model, version, artifact, approver, reason, "
			  "time_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			  "could not record the rejection", e) < 0)
		return -1;
	store_bind_text(s, 1, pipeline);
	store_bind_text(s, 2, env);
	store_bind_text(s, 3, model);
	if (version)
		sqlite3_bind_int64(s, 4, version);
	else
		sqlite3_bind_null(s, 4);
	store_bind_text(s, 5, artifact);
	store_bind_text(s, 6, approver);
	store_bind_text(s, 7, reason);
	store_bind_ms(s, 8, clock_wall_ms());
	return store_exec_done(st, s, "could not record the rejection", e);
}

int store_rejection_get(struct store *st, const char *pipeline, const char *env, const char *artifact,
			struct store_rejection *out, struct err *e)
{
	sqlite3_stmt *s;
	int rc;
	memset(out, 0, sizeof(*out));
	if (store_prepare(st, &s,
			  "SELECT approver, reason, version, time_ms FROM rejections WHERE pipeline = ?1 AND "
			  "environment = ?2 AND artifact = ?3 ORDER BY id DESC LIMIT 1",
			  "could not read rejections", e) < 0)
		return -1;
	store_bind_text(s, 1, pipeline);
	store_bind_text(s, 2, env);
	store_bind_text(s, 3, artifact);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->approver = xstrdup(store_col(s, 0) ? store_col(s, 0) : "");
		out->reason = xstrdup(store_col(s, 1) ? store_col(s, 1) : "");
		out->version = sqlite3_column_int64(s, 2);
		out->time_ms = sqlite3_column_int64(s, 3);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_sql_err(st, e, "could not read rejections");
}

int store_state_mark_get(struct store *st, const char *state, char out[41], struct err *e)
{
	sqlite3_stmt *s;
	int rc;
	out[0] = '\0';
	if (store_prepare(st, &s, "SELECT commit_id FROM state_marks WHERE state = ?1", "could not read state marks",
			  e) < 0)
		return -1;
	store_bind_text(s, 1, state);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		snprintf(out, 41, "%s", store_col(s, 0) ? store_col(s, 0) : "");
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_sql_err(st, e, "could not read state marks");
}

int store_state_mark_set(struct store *st, const char *state, const char *commit, struct err *e)
{
	sqlite3_stmt *s;
	if (store_prepare(st, &s,
			  "INSERT OR REPLACE INTO state_marks(state, commit_id, updated_ms) VALUES (?1, ?2, ?3)",
			  "could not write the state mark", e) < 0)
		return -1;
	store_bind_text(s, 1, state);
	store_bind_text(s, 2, commit);
	store_bind_ms(s, 3, clock_wall_ms());
	return store_exec_done(st, s, "could not write the state mark", e);
}
