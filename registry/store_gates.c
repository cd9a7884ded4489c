/* store_gates.c - pins, environment locks and the facts promotion gates need from the store (schema v3
 * and v4 tables). Bound parameters only; it must not print. */
#include "registry/store_gates.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "registry/store_int.h"
#include "common/banned.h"

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

void store_pin_release(struct store_pin *p)
{
	free(p->model);
	free(p->reason);
	memset(p, 0, sizeof(*p));
}

int store_pin_set(struct store *st, const struct store_pin *p, struct err *e)
{
	sqlite3_stmt *s;
	if (store_prepare(st, &s,
			  "INSERT OR REPLACE INTO pins(pipeline, environment, model, version, actor, reason, "
			  "state_commit, time_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			  "could not pin the environment", e) < 0)
		return -1;
	store_bind_text(s, 1, p->pipeline);
	store_bind_text(s, 2, p->environment);
	store_bind_text(s, 3, p->model);
	if (p->version)
		sqlite3_bind_int64(s, 4, p->version);
	else
		sqlite3_bind_null(s, 4);
	store_bind_text(s, 5, p->actor);
	store_bind_text(s, 6, p->reason);
	store_bind_text(s, 7, p->state_commit[0] ? p->state_commit : NULL);
	store_bind_ms(s, 8, p->time_ms ? p->time_ms : clock_wall_ms());
	return store_exec_done(st, s, "could not pin the environment", e);
}

static void pin_from_row(sqlite3_stmt *s, struct store_pin *p)
{
	memset(p, 0, sizeof(*p));
	copy(p->pipeline, sizeof(p->pipeline), store_col(s, 0));
	copy(p->environment, sizeof(p->environment), store_col(s, 1));
	p->model = store_col_dup(s, 2);
	p->version = sqlite3_column_int64(s, 3);
	copy(p->actor, sizeof(p->actor), store_col(s, 4));
	p->reason = store_col_dup(s, 5);
	copy(p->state_commit, sizeof(p->state_commit), store_col(s, 6));
	p->time_ms = sqlite3_column_int64(s, 7);
}

#define PIN_COLS "pipeline, environment, model, version, actor, reason, state_commit, time_ms"

int store_pin_get(struct store *st, const char *pipeline, const char *env, struct store_pin *out, struct err *e)
{
	sqlite3_stmt *s;
	int rc;
	if (store_prepare(st, &s,
			  "SELECT " PIN_COLS " FROM pins WHERE (?1 IS NULL OR pipeline = ?1) AND environment = ?2 "
			  "ORDER BY time_ms DESC LIMIT 1",
			  "could not read pins", e) < 0)
		return -1;
	store_bind_text(s, 1, pipeline);
	store_bind_text(s, 2, env);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		pin_from_row(s, out);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_sql_err(st, e, "could not read pins");
}

int store_pin_remove(struct store *st, const char *pipeline, const char *env, int *removed, struct err *e)
{
	sqlite3_stmt *s;
	if (store_prepare(st, &s, "DELETE FROM pins WHERE (?1 IS NULL OR pipeline = ?1) AND environment = ?2",
			  "could not unpin", e) < 0)
		return -1;
	store_bind_text(s, 1, pipeline);
	store_bind_text(s, 2, env);
	if (store_exec_done(st, s, "could not unpin", e) < 0)
		return -1;
	*removed = sqlite3_changes(store_db(st));
	return 0;
}

int store_pins_each(struct store *st, int (*fn)(void *payload, const struct store_pin *p), void *payload, struct err *e)
{
	sqlite3_stmt *s;
	int rc, ret = 0;
	if (store_prepare(st, &s, "SELECT " PIN_COLS " FROM pins ORDER BY environment, pipeline", "could not list pins",
			  e) < 0)
		return -1;
	while (!ret && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_pin p;
		pin_from_row(s, &p);
		ret = fn(payload, &p);
		store_pin_release(&p);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_sql_err(st, e, "could not list pins");
	sqlite3_finalize(s);
	return ret < 0 ? -1 : 0;
}

static void this_host(char *h, size_t n)
{
	if (gethostname(h, n) < 0)
		copy(h, n, "localhost");
	h[n - 1] = '\0';
}

int store_env_lock_try(struct store *st, const char *pipeline, const char *env, const char *holder,
		       struct strvec *holder_out, struct err *e)
{
	struct store_tx tx;
	sqlite3_stmt *s = NULL;
	char host[256];
	int rc, taken = 0;

	this_host(host, sizeof(host));
	if (store_tx_begin(st, &tx, e) < 0)
		return err_prefix(e, "could not lock environment '%s'", env);
	if (store_prepare(
		    st, &s,
		    "SELECT holder, host, pid, acquired_ms FROM env_locks WHERE pipeline = ?1 AND environment = ?2",
		    "could not read environment locks", e) < 0)
		goto fail;
	store_bind_text(s, 1, pipeline);
	store_bind_text(s, 2, env);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *h = store_col(s, 1);
		pid_t pid = (pid_t)sqlite3_column_int64(s, 2);
		int dead = h && !strcmp(h, host) && pid > 0 && kill(pid, 0) < 0 && errno == ESRCH;
		if (!dead) {
			char when[32];
			time_t t = (time_t)(sqlite3_column_int64(s, 3) / 1000);
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			strvec_pushf(holder_out, "%s (pid %lld on host %s, since %s)", store_col(s, 0),
				     (long long)sqlite3_column_int64(s, 2), h ? h : "?", when);
			sqlite3_finalize(s);
			store_tx_rollback(st, &tx);
			return 0;
		}
	} else if (rc != SQLITE_DONE) {
		store_sql_err(st, e, "could not read environment locks");
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (store_prepare(st, &s,
			  "INSERT OR REPLACE INTO env_locks(pipeline, environment, holder, host, pid, acquired_ms) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			  "could not lock the environment", e) < 0)
		goto fail;
	store_bind_text(s, 1, pipeline);
	store_bind_text(s, 2, env);
	store_bind_text(s, 3, holder);
	store_bind_text(s, 4, host);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)getpid());
	store_bind_ms(s, 6, clock_wall_ms());
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	s = NULL;
	if (rc != SQLITE_DONE) {
		store_sql_err(st, e, "could not lock environment '%s'", env);
		goto fail;
	}
	taken = 1;
	if (store_tx_commit(st, &tx, e) < 0)
		return -1;
	return taken;
fail:
	sqlite3_finalize(s);
	store_tx_rollback(st, &tx);
	return -1;
}

int store_env_lock_release(struct store *st, const char *pipeline, const char *env, struct err *e)
{
	sqlite3_stmt *s;
	if (store_prepare(st, &s, "DELETE FROM env_locks WHERE pipeline = ?1 AND environment = ?2 AND pid = ?3",
			  "could not unlock the environment", e) < 0)
		return -1;
	store_bind_text(s, 1, pipeline);
	store_bind_text(s, 2, env);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)getpid());
	return store_exec_done(st, s, "could not unlock the environment", e);
}

int store_runs_with_output(struct store *st, const char *pipeline, const char *artifact,
			   int (*fn)(void *payload, const struct store_output_run *r), void *payload, struct err *e)
{
	sqlite3_stmt *s;
	int rc, ret = 0;
	if (store_prepare(
		    st, &s,
		    "SELECT r.id, r.branch, r.started_ms, "
		    "(SELECT COUNT(*) FROM steps st WHERE st.run = r.id AND st.status = 'passed') "
		    "FROM runs r WHERE r.pipeline = ?1 AND r.status = 'passed' AND "
		    "EXISTS (SELECT 1 FROM events ev WHERE ev.run = r.id AND ev.kind = 'output' AND ev.artifact = ?2) "
		    "ORDER BY r.started_ms",
		    "could not count runs", e) < 0)
		return -1;
	store_bind_text(s, 1, pipeline);
	store_bind_text(s, 2, artifact);
	while (!ret && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_output_run r;
		r.run = store_col(s, 0);
		r.branch = store_col(s, 1);
		r.started_ms = sqlite3_column_int64(s, 2);
		r.executed_steps = sqlite3_column_int64(s, 3);
		ret = fn(payload, &r);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_sql_err(st, e, "could not count runs");
	sqlite3_finalize(s);
	return ret < 0 ? -1 : 0;
}

int store_run_source(struct store *st, const char *run, char **repo, char **commit_id, char **branch, struct err *e)
{
	sqlite3_stmt *s;
	int rc;
	if (store_prepare(st, &s, "SELECT repo, commit_id, branch FROM runs WHERE id = ?1", "could not read a run", e) <
	    0)
		return -1;
	store_bind_text(s, 1, run);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*repo = store_col_dup(s, 0);
		*commit_id = store_col_dup(s, 1);
		*branch = store_col_dup(s, 2);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_sql_err(st, e, "could not read run '%s'", run);
}

int store_model_artifact(struct store *st, const char *model, int64_t version, char **artifact, char **run,
			 struct err *e)
{
	sqlite3_stmt *s;
	int rc;
	if (store_prepare(st, &s, "SELECT artifact, run FROM model_versions WHERE model = ?1 AND version = ?2",
			  "could not read a model version", e) < 0)
		return -1;
	store_bind_text(s, 1, model);
	sqlite3_bind_int64(s, 2, version);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*artifact = store_col_dup(s, 0);
		*run = store_col_dup(s, 1);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_sql_err(st, e, "could not read %s@%lld", model, (long long)version);
}

int store_transition_time(struct store *st, const char *state_commit, const char *env, int64_t *ms, struct err *e)
{
	sqlite3_stmt *s;
	int rc;
	if (store_prepare(st, &s,
			  "SELECT min(time_ms) FROM stage_transitions WHERE state_commit = ?1 AND environment = ?2 AND "
			  "to_stage = ?2",
			  "could not read stage transitions", e) < 0)
		return -1;
	store_bind_text(s, 1, state_commit);
	store_bind_text(s, 2, env);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*ms = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sql_err(st, e, "could not read stage transitions");
}

int store_transition_exists(struct store *st, const char *state_commit, struct err *e)
{
	sqlite3_stmt *s;
	int rc;
	if (store_prepare(st, &s, "SELECT 1 FROM stage_transitions WHERE state_commit = ?1 LIMIT 1",
			  "could not read stage transitions", e) < 0)
		return -1;
	store_bind_text(s, 1, state_commit);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_sql_err(st, e, "could not read stage transitions");
}

int store_promotion_set(struct store *st, int64_t id, const char *status, const char *waiting_for,
			const char *state_commit, const char *evidence, struct err *e)
{
	sqlite3_stmt *s;
	if (store_prepare(
		    st, &s,
		    "UPDATE promotions SET status = ?2, waiting_for = ?3, state_commit = COALESCE(?4, state_commit), "
		    "updated_ms = ?5, evidence = COALESCE(?6, evidence) WHERE id = ?1",
		    "could not update a promotion", e) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, status);
	store_bind_text(s, 3, waiting_for);
	store_bind_text(s, 4, state_commit);
	store_bind_ms(s, 5, clock_wall_ms());
	store_bind_text(s, 6, evidence);
	return store_exec_done(st, s, "could not update a promotion", e);
}

int store_pipeline_repo(struct store *st, const char *pipeline, char **repo, struct err *e)
{
	sqlite3_stmt *s;
	int rc;
	if (store_prepare(st, &s, "SELECT repo FROM runs WHERE pipeline = ?1 ORDER BY started_ms DESC LIMIT 1",
			  "could not read runs", e) < 0)
		return -1;
	store_bind_text(s, 1, pipeline);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*repo = store_col_dup(s, 0);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_sql_err(st, e, "could not read runs");
}

int store_run_outputs_each(struct store *st, const char *run,
			   int (*fn)(void *payload, const char *component, const char *name, const char *digest),
			   void *payload, struct err *e)
{
	sqlite3_stmt *s;
	int rc, ret = 0;
	if (store_prepare(st, &s,
			  "SELECT component, name, artifact FROM events WHERE run = ?1 AND kind = 'output' "
			  "ORDER BY component, name",
			  "could not read outputs", e) < 0)
		return -1;
	store_bind_text(s, 1, run);
	while (!ret && (rc = sqlite3_step(s)) == SQLITE_ROW)
		ret = fn(payload, store_col(s, 0), store_col(s, 1), store_col(s, 2));
	if (!ret && rc != SQLITE_DONE)
		ret = store_sql_err(st, e, "could not read outputs");
	sqlite3_finalize(s);
	return ret < 0 ? -1 : 0;
}
