/* store_records.c - the store's rows below the run: steps, the step cache lookup, artifacts and
 * lineage events, metrics, model versions and stage transitions. It must not open files or decide policy. */
#include "registry/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "registry/store_int.h"
#include "common/banned.h"

/* ---------------------------------------------------------------- steps */

/*
 * Upsert one step row and commit it at once (or inside the caller's transaction). Status is always
 * overwritten; every other column only when this put sets it, so the row of a running step keeps
 * its start time and log path when it is put again as finished.
 */
int store_step_put(struct store *st, const struct store_step *s, struct err *e)
{
	static const char sql[] =
		"INSERT INTO steps(run, component, phase, status, started_ms, finished_ms, duration_ms, exit_code, "
		"cache_key, cached_from, log_path, reason) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
		"ON CONFLICT(run, component, phase) DO UPDATE SET status = excluded.status, "
		"started_ms = coalesce(excluded.started_ms, started_ms), "
		"finished_ms = coalesce(excluded.finished_ms, finished_ms), "
		"duration_ms = coalesce(excluded.duration_ms, duration_ms), "
		"exit_code = coalesce(excluded.exit_code, exit_code), "
		"cache_key = coalesce(excluded.cache_key, cache_key), "
		"cached_from = coalesce(excluded.cached_from, cached_from), "
		"log_path = coalesce(excluded.log_path, log_path), "
		"reason = coalesce(excluded.reason, reason)";
	struct store_tx tx;
	sqlite3_stmt *q = NULL;
	int ret = -1;
	if (store_tx_begin(st, &tx, e) < 0)
		return err_prefix(e, "could not record step '%s %s'", s->component, s->phase);
	if (store_prepare(st, &q, sql, "could not record step", e) < 0)
		goto done;
	store_bind_text(q, 1, s->run);
	store_bind_text(q, 2, s->component);
	store_bind_text(q, 3, s->phase);
	store_bind_text(q, 4, s->status);
	store_bind_ms(q, 5, s->started_ms);
	store_bind_ms(q, 6, s->finished_ms);
	if (s->finished_ms)
		sqlite3_bind_int64(q, 7, s->duration_ms);
	else
		sqlite3_bind_null(q, 7);
	if (s->has_exit_code)
		sqlite3_bind_int(q, 8, s->exit_code);
	else
		sqlite3_bind_null(q, 8);
	store_bind_text(q, 9, s->cache_key);
	store_bind_text(q, 10, s->cached_from);
	store_bind_text(q, 11, s->log_path);
	store_bind_text(q, 12, s->reason);
	if (sqlite3_step(q) != SQLITE_DONE) {
		store_sql_err(st, e, "could not record step '%s %s'", s->component, s->phase);
		goto done;
	}
	if (store_tx_commit(st, &tx, e) < 0) {
		err_prefix(e, "could not record step '%s %s'", s->component, s->phase);
		goto done;
	}
	ret = 0;
done:
	sqlite3_finalize(q);
	store_tx_rollback(st, &tx);
	return ret;
}

/* ---------------------------------------------------------------- cache */

/* Bound on cached_from hops: the engine records the origin directly, so more than one is unusual and
 * a cycle (a hand-edited store) must not loop forever. */
#define CACHE_MAX_HOPS 32

/*
 * The run that really executed the latest completed step with "cache_key" and "phase": a "passed"
 * step is its own origin; a "cached" one names the run it came from in cached_from, which is
 * followed (through that run's step with the same key) until a run that executed it.
 */
int store_cache_lookup(struct store *st, const char *cache_key, const char *phase, char *run_out, size_t n,
		       struct err *e)
{
	static const char latest_sql[] = "SELECT run, cached_from FROM steps WHERE cache_key = ?1 AND phase = ?2 "
					 "AND status IN ('passed', 'cached') "
					 "ORDER BY coalesce(finished_ms, started_ms, 0) DESC, rowid DESC LIMIT 1";
	static const char origin_sql[] =
		"SELECT cached_from FROM steps WHERE run = ?1 AND cache_key = ?2 AND phase = ?3 "
		"AND status IN ('passed', 'cached') LIMIT 1";
	sqlite3_stmt *s = NULL;
	char run[256], from[256];
	int rc, hops;
	if (!cache_key || !phase)
		return 0;
	if (store_prepare(st, &s, latest_sql, "could not look up the step cache", e) < 0)
		return -1;
	store_bind_text(s, 1, cache_key);
	store_bind_text(s, 2, phase);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(s);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		store_sql_err(st, e, "could not look up the step cache");
		sqlite3_finalize(s);
		return -1;
	}
	snprintf(run, sizeof(run), "%s", (const char *)sqlite3_column_text(s, 0));
	snprintf(from, sizeof(from), "%s",
		 sqlite3_column_type(s, 1) == SQLITE_NULL ? "" : (const char *)sqlite3_column_text(s, 1));
	sqlite3_finalize(s);

	for (hops = 0; from[0] && hops < CACHE_MAX_HOPS; hops++) {
		snprintf(run, sizeof(run), "%s", from);
		from[0] = '\0';
		if (store_prepare(st, &s, origin_sql, "could not look up the step cache", e) < 0)
			return -1;
		store_bind_text(s, 1, run);
		store_bind_text(s, 2, cache_key);
		store_bind_text(s, 3, phase);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
			snprintf(from, sizeof(from), "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_sql_err(st, e, "could not look up the step cache");
		/* SQLITE_DONE: the origin's step row is gone; the run named is the best answer. */
	}
	if (strlen(run) >= n)
		return err_set(e, MLCI_EINFRA, "could not look up the step cache: run id '%s' is too long", run);
	memcpy(run_out, run, strlen(run) + 1);
	return 1;
}

/* ---------------------------------------------------------------- artifacts and lineage */

/* Run one bound write statement in its own (or the caller's) transaction; "what" names it in errors. */
static int write_one(struct store *st, sqlite3_stmt *s, const char *what, struct err *e)
{
	struct store_tx tx;
	int ret = -1;
	if (store_tx_begin(st, &tx, e) < 0)
		return err_prefix(e, "%s", what);
	if (sqlite3_step(s) != SQLITE_DONE)
		store_sql_err(st, e, "%s", what);
	else if (store_tx_commit(st, &tx, e) < 0)
		err_prefix(e, "%s", what);
	else
		ret = 0;
	store_tx_rollback(st, &tx);
	return ret;
}

int store_artifact_put(struct store *st, const char *digest, int64_t size, const char *type, const char *uri,
		       struct err *e)
{
	struct buf what = BUF_INIT;
	sqlite3_stmt *s;
	int ret;
	if (store_prepare(st, &s,
			  "INSERT INTO artifacts(digest, size, type, uri, created_ms) VALUES (?1, ?2, ?3, ?4, ?5) "
			  "ON CONFLICT(digest) DO NOTHING",
			  "could not record artifact", e) < 0)
		return -1;
	store_bind_text(s, 1, digest);
	sqlite3_bind_int64(s, 2, size);
	store_bind_text(s, 3, type);
	store_bind_text(s, 4, uri);
	sqlite3_bind_int64(s, 5, clock_wall_ms());
	buf_addf(&what, "could not record artifact '%s'", digest ? digest : "");
	ret = write_one(st, s, what.ptr, e);
	sqlite3_finalize(s);
	buf_release(&what);
	return ret;
}

int store_event_put(struct store *st, const char *run, const char *component, const char *digest, const char *kind,
		    const char *name, struct err *e)
{
	struct buf what = BUF_INIT;
	sqlite3_stmt *s;
	int ret;
	if (store_prepare(st, &s,
			  "INSERT INTO events(run, component, artifact, kind, name) VALUES (?1, ?2, ?3, ?4, ?5)",
			  "could not record lineage event", e) < 0)
		return -1;
	store_bind_text(s, 1, run);
	store_bind_text(s, 2, component);
	store_bind_text(s, 3, digest);
	store_bind_text(s, 4, kind);
	store_bind_text(s, 5, name);
	buf_addf(&what, "could not record %s '%s' of '%s'", kind ? kind : "event", name ? name : "",
		 component ? component : "");
	ret = write_one(st, s, what.ptr, e);
	sqlite3_finalize(s);
	buf_release(&what);
	return ret;
}

int store_outputs_each(struct store *st, const char *run, const char *component,
		       int (*fn)(void *payload, const char *name, const char *digest), void *payload, struct err *e)
{
	sqlite3_stmt *s;
	int rc, ret = 0;
	if (store_prepare(st, &s,
			  "SELECT name, artifact FROM events WHERE run = ?1 AND component = ?2 AND kind = 'output' "
			  "ORDER BY name, id",
			  "could not list outputs", e) < 0)
		return -1;
	store_bind_text(s, 1, run);
	store_bind_text(s, 2, component);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ret = fn(payload, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1));
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_sql_err(st, e, "could not list the outputs of '%s' in run '%s'", component, run);
	sqlite3_finalize(s);
	return ret;
}

/* ---------------------------------------------------------------- metrics */

int store_metric_put(struct store *st, const char *run, const char *name, const char *slice, double value,
		     struct err *e)
{
	struct buf what = BUF_INIT;
	sqlite3_stmt *s;
	int ret;
	if (store_prepare(st, &s,
			  "INSERT INTO metrics(run, name, slice, value) VALUES (?1, ?2, ?3, ?4) "
			  "ON CONFLICT(run, name, slice) DO UPDATE SET value = excluded.value",
			  "could not record metric", e) < 0)
		return -1;
	store_bind_text(s, 1, run);
	store_bind_text(s, 2, name);
	store_bind_text(s, 3, slice ? slice : "");
	sqlite3_bind_double(s, 4, value);
	buf_addf(&what, "could not record metric '%s'", name ? name : "");
	ret = write_one(st, s, what.ptr, e);
	sqlite3_finalize(s);
	buf_release(&what);
	return ret;
}

/* ---------------------------------------------------------------- registry */

/* First column of the first row as an integer: 1 with "*out" set, 0 for no row or NULL, -1 on error. */
static int query_int64(struct store *st, sqlite3_stmt *s, int64_t *out, struct err *e)
{
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) == SQLITE_NULL)
			return 0;
		*out = sqlite3_column_int64(s, 0);
		return 1;
	}
	if (rc == SQLITE_DONE)
		return 0;
	return store_sql_err(st, e, "could not query the registry");
}

/*
 * Register "model" version for (artifact, commit) unless it exists. The lookup, the max() and the
 * insert run in one BEGIN IMMEDIATE transaction, so two processes registering at once get distinct
 * version numbers and an identical (model, artifact, commit) is never registered twice.
 */
int store_model_register(struct store *st, const char *model, const char *run, const char *commit_id,
			 const char *artifact, const char *metrics_json, int64_t *version_out, int *created,
			 struct err *e)
{
	struct store_tx tx;
	sqlite3_stmt *s = NULL;
	int64_t found = 0, max = 0;
	int r, has_max, ret = -1;
	*created = 0;
	if (store_tx_begin(st, &tx, e) < 0)
		goto out;
	if (store_prepare(st, &s,
			  "SELECT version FROM model_versions WHERE model = ?1 AND artifact = ?2 AND commit_id = ?3",
			  "could not query the registry", e) < 0)
		goto done;
	store_bind_text(s, 1, model);
	store_bind_text(s, 2, artifact);
	store_bind_text(s, 3, commit_id);
	r = query_int64(st, s, &found, e);
	sqlite3_finalize(s);
	s = NULL;
	if (r < 0)
		goto done;
	if (r == 1) {
		*version_out = found;
		ret = store_tx_commit(st, &tx, e);
		goto done;
	}
	if (store_prepare(st, &s, "SELECT max(version) FROM model_versions WHERE model = ?1",
			  "could not query the registry", e) < 0)
		goto done;
	store_bind_text(s, 1, model);
	has_max = query_int64(st, s, &max, e);
	sqlite3_finalize(s);
	s = NULL;
	if (has_max < 0)
		goto done;
	if (store_prepare(st, &s,
			  "INSERT INTO model_versions(model, version, run, commit_id, artifact, metrics, previous, "
			  "created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			  "could not insert the version", e) < 0)
		goto done;
	store_bind_text(s, 1, model);
	sqlite3_bind_int64(s, 2, has_max ? max + 1 : 1);
	store_bind_text(s, 3, run);
	store_bind_text(s, 4, commit_id);
	store_bind_text(s, 5, artifact);
	store_bind_text(s, 6, metrics_json ? metrics_json : "{}");
	if (has_max)
		sqlite3_bind_int64(s, 7, max);
	else
		sqlite3_bind_null(s, 7);
	sqlite3_bind_int64(s, 8, clock_wall_ms());
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_sql_err(st, e, "could not insert the version");
		goto done;
	}
	if (store_tx_commit(st, &tx, e) < 0)
		goto done;
	*version_out = has_max ? max + 1 : 1;
	*created = 1;
	ret = 0;
done:
	sqlite3_finalize(s);
	store_tx_rollback(st, &tx);
out:
	if (ret < 0)
		err_prefix(e, "could not register '%s'", model ? model : "");
	return ret;
}

int store_transition_add(struct store *st, const struct store_transition *t, int64_t *id_out, struct err *e)
{
	struct store_tx tx;
	sqlite3_stmt *s;
	int ret = -1;
	if (store_prepare(st, &s,
			  "INSERT INTO stage_transitions(model, version, environment, from_stage, to_stage, actor, "
			  "reason, state_commit, time_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
			  "could not record stage transition", e) < 0)
		return -1;
	store_bind_text(s, 1, t->model);
	sqlite3_bind_int64(s, 2, t->version);
	store_bind_text(s, 3, t->environment);
	store_bind_text(s, 4, t->from_stage);
	store_bind_text(s, 5, t->to_stage);
	store_bind_text(s, 6, t->actor);
	store_bind_text(s, 7, t->reason);
	store_bind_text(s, 8, t->state_commit);
	sqlite3_bind_int64(s, 9, t->time_ms ? t->time_ms : clock_wall_ms());
	if (store_tx_begin(st, &tx, e) < 0) {
		err_prefix(e, "could not record stage transition");
		goto done;
	}
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_sql_err(st, e, "could not record stage transition of '%s' version %lld to '%s'",
			      t->model ? t->model : "", (long long)t->version, t->to_stage ? t->to_stage : "");
		goto done;
	}
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(st->db);
	ret = store_tx_commit(st, &tx, e);
	if (ret < 0)
		err_prefix(e, "could not record stage transition");
done:
	store_tx_rollback(st, &tx);
	sqlite3_finalize(s);
	return ret;
}
