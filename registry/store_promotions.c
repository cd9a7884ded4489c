/* store_promotions.c - the promotions table (schema versions 2 and 4): add candidates, supersede older pending
 * ones, list them for `mlci status`. Bound parameters only; it must not print. */
#include "registry/store_promotions.h"

#include <string.h>

#include "registry/store_int.h"
#include "common/clock.h"
#include "common/banned.h"

int store_promotion_add(struct store *st, const struct store_promotion *p, int64_t *id_out, struct err *e)
{
	struct store_tx tx;
	sqlite3_stmt *s = NULL;
	int64_t now = clock_wall_ms();

	if (store_tx_begin(st, &tx, e) < 0)
		return -1;
	if (!p->keep_pending) {
		if (store_prepare(st, &s,
				  "UPDATE promotions SET status = 'superseded', updated_ms = ?3 "
				  "WHERE pipeline = ?1 AND environment = ?2 AND status = 'pending'",
				  "could not supersede pending promotions", e) < 0)
			goto fail;
		store_bind_text(s, 1, p->pipeline);
		store_bind_text(s, 2, p->environment);
		store_bind_ms(s, 3, now);
		if (sqlite3_step(s) != SQLITE_DONE) {
			store_sql_err(st, e, "could not supersede pending promotions");
			goto fail;
		}
		sqlite3_finalize(s);
		s = NULL;
	}
	if (store_prepare(
		    st, &s,
		    "INSERT INTO promotions(pipeline, environment, model, version, run, commit_id, branch, status, "
		    "waiting_for, state_commit, created_ms, updated_ms, evidence) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)",
		    "could not record the promotion", e) < 0)
		goto fail;
	store_bind_text(s, 1, p->pipeline);
	store_bind_text(s, 2, p->environment);
	store_bind_text(s, 3, p->model);
	if (p->version)
		sqlite3_bind_int64(s, 4, p->version);
	else
		sqlite3_bind_null(s, 4);
	store_bind_text(s, 5, p->run);
	store_bind_text(s, 6, p->commit_id);
	store_bind_text(s, 7, p->branch);
	store_bind_text(s, 8, p->status);
	store_bind_text(s, 9, p->waiting_for);
	store_bind_text(s, 10, p->state_commit);
	store_bind_ms(s, 11, now);
	store_bind_text(s, 12, p->evidence);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_sql_err(st, e, "could not record the promotion to '%s'", p->environment);
		goto fail;
	}
	sqlite3_finalize(s);
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(store_db(st));
	return store_tx_commit(st, &tx, e);
fail:
	sqlite3_finalize(s);
	store_tx_rollback(st, &tx);
	return -1;
}

int store_promotions_each(struct store *st, const char *environment, const char *status,
			  int (*fn)(void *payload, const struct store_promotion *p), void *payload, struct err *e)
{
	sqlite3_stmt *s;
	int rc, ret = 0;
	if (store_prepare(
		    st, &s,
		    "SELECT id, pipeline, environment, model, version, run, commit_id, branch, status, waiting_for, "
		    "state_commit, created_ms, updated_ms, evidence FROM promotions "
		    "WHERE (?1 IS NULL OR environment = ?1) AND (?2 IS NULL OR status = ?2) ORDER BY id DESC",
		    "could not list promotions", e) < 0)
		return -1;
	store_bind_text(s, 1, environment);
	store_bind_text(s, 2, status);
	while (!ret && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_promotion p;
		memset(&p, 0, sizeof(p));
		p.id = sqlite3_column_int64(s, 0);
		p.pipeline = store_col(s, 1);
		p.environment = store_col(s, 2);
		p.model = store_col(s, 3);
		p.version = sqlite3_column_int64(s, 4);
		p.run = store_col(s, 5);
		p.commit_id = store_col(s, 6);
		p.branch = store_col(s, 7);
		p.status = store_col(s, 8);
		p.waiting_for = store_col(s, 9);
		p.state_commit = store_col(s, 10);
		p.created_ms = sqlite3_column_int64(s, 11);
		p.updated_ms = sqlite3_column_int64(s, 12);
		p.evidence = store_col(s, 13);
		ret = fn(payload, &p);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_sql_err(st, e, "could not list promotions");
	sqlite3_finalize(s);
	return ret < 0 ? -1 : 0;
}
