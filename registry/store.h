/* store.h - the metadata store: one SQLite file ($MLCI_HOME/mlci.db) holding runs, steps, artifacts,
 * lineage events, metrics and the model registry. It stores and queries; it never runs steps or prints. */
#ifndef MLCI_STORE_H
#define MLCI_STORE_H

#include <stdint.h>

#include "common/error.h"

struct sqlite3;

/*
 * Schema, version 4 (registry/store_schema.c holds the migrations; never edit a released one, add one):
 *
 *   schema_version(version INTEGER NOT NULL)                      -- exactly one row
 *   runs(id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, repo TEXT NOT NULL, commit_id TEXT NOT NULL,
 *        branch TEXT, trigger TEXT NOT NULL, status TEXT NOT NULL, host TEXT NOT NULL, user TEXT NOT NULL,
 *        pid INTEGER NOT NULL, params TEXT NOT NULL,               -- JSON object {"name": "value"}
 *        mlci_version TEXT NOT NULL, resumed_from TEXT REFERENCES runs(id),
 *        started_ms INTEGER NOT NULL, finished_ms INTEGER, reason TEXT)
 *        INDEX runs_by_status ON runs(status)                      -- store_open's interrupted-run scan
 *   steps(run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, component TEXT NOT NULL,
 *        phase TEXT NOT NULL CHECK(phase IN ('build','test','run','check')), status TEXT NOT NULL,
 *        started_ms INTEGER, finished_ms INTEGER, duration_ms INTEGER, exit_code INTEGER,
 *        cache_key TEXT, cached_from TEXT REFERENCES runs(id), log_path TEXT, reason TEXT,
 *        PRIMARY KEY(run, component, phase))
 *        INDEX steps_by_key ON steps(cache_key, phase, status)
 *   artifacts(digest TEXT PRIMARY KEY, size INTEGER NOT NULL, type TEXT NOT NULL, uri TEXT NOT NULL,
 *        created_ms INTEGER NOT NULL)
 *   events(id INTEGER PRIMARY KEY, run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
 *        component TEXT NOT NULL, artifact TEXT NOT NULL REFERENCES artifacts(digest),
 *        kind TEXT NOT NULL CHECK(kind IN ('input','output')), name TEXT NOT NULL)
 *        INDEX events_by_artifact ON events(artifact), INDEX events_by_run ON events(run, component)
 *   metrics(run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, name TEXT NOT NULL,
 *        slice TEXT NOT NULL DEFAULT '', value REAL NOT NULL, PRIMARY KEY(run, name, slice))
 *   model_versions(model TEXT NOT NULL, version INTEGER NOT NULL, run TEXT NOT NULL REFERENCES runs(id),
 *        commit_id TEXT NOT NULL, artifact TEXT NOT NULL REFERENCES artifacts(digest),
 *        metrics TEXT NOT NULL, previous INTEGER, created_ms INTEGER NOT NULL,
 *        PRIMARY KEY(model, version), UNIQUE(model, artifact, commit_id))
 *   stage_transitions(id INTEGER PRIMARY KEY, model TEXT NOT NULL, version INTEGER NOT NULL,
 *        environment TEXT NOT NULL, from_stage TEXT, to_stage TEXT NOT NULL, actor TEXT NOT NULL,
 *        reason TEXT, state_commit TEXT, time_ms INTEGER NOT NULL,
 *        FOREIGN KEY(model, version) REFERENCES model_versions(model, version))
 *        -- append-only: triggers abort any UPDATE or DELETE
 *
 *   -- version 2
 *   promotions(id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, environment TEXT NOT NULL, model TEXT,
 *        version INTEGER, run TEXT NOT NULL REFERENCES runs(id), commit_id TEXT NOT NULL, branch TEXT,
 *        status TEXT NOT NULL CHECK(status IN ('pending','promoted','superseded','failed','cancelled')),
 *        waiting_for TEXT, state_commit TEXT, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL)
 *        INDEX promotions_by_env ON promotions(environment, status)
 *
 *   -- version 3
 *   checks(run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, name TEXT NOT NULL,
 *        kind TEXT NOT NULL CHECK(kind IN ('data','training','model','infra','service')),
 *        status TEXT NOT NULL CHECK(status IN ('pass','warn','fail','skipped')),
 *        summary TEXT NOT NULL,                                    -- one line, figures included
 *        details TEXT NOT NULL DEFAULT '{}',                       -- JSON object of measured figures
 *        started_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL, PRIMARY KEY(run, name))
 *   dataset_stats(dataset TEXT PRIMARY KEY REFERENCES artifacts(digest),   -- a dataset artifact
 *        stats TEXT NOT NULL REFERENCES artifacts(digest),          -- its saved statistics file
 *        created_ms INTEGER NOT NULL)
 *   branch_heads(repo TEXT NOT NULL, branch TEXT NOT NULL, commit_id TEXT NOT NULL,   -- mlci watch
 *        run TEXT REFERENCES runs(id),
 *        status TEXT NOT NULL DEFAULT 'seen' CHECK(status IN ('seen','running','done','deleted')),
 *        updated_ms INTEGER NOT NULL, PRIMARY KEY(repo, branch))
 *   approvals(id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, environment TEXT NOT NULL,
 *        model TEXT NOT NULL, version INTEGER NOT NULL, artifact TEXT NOT NULL,  -- bound to the digest
 *        approver TEXT NOT NULL, time_ms INTEGER NOT NULL,
 *        UNIQUE(pipeline, environment, model, version, artifact, approver))
 *   pins(pipeline TEXT NOT NULL, environment TEXT NOT NULL, model TEXT, version INTEGER,
 *        actor TEXT NOT NULL, reason TEXT, state_commit TEXT, time_ms INTEGER NOT NULL,
 *        PRIMARY KEY(pipeline, environment))                      -- set by rollback, removed by unpin
 *   env_locks(pipeline TEXT NOT NULL, environment TEXT NOT NULL, holder TEXT NOT NULL, host TEXT NOT NULL,
 *        pid INTEGER NOT NULL, acquired_ms INTEGER NOT NULL,
 *        PRIMARY KEY(pipeline, environment))                       -- one promotion per environment
 *
 *   -- version 4
 *   approvals: + evidence TEXT                                     -- JSON array of the gates seen
 *   promotions: + evidence TEXT                                    -- JSON array of the gates decided on
 *   rejections(id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, environment TEXT NOT NULL, model TEXT,
 *        version INTEGER, artifact TEXT NOT NULL, approver TEXT NOT NULL, reason TEXT NOT NULL,
 *        time_ms INTEGER NOT NULL)                                 -- mlci reject; bound to the digest
 *        INDEX rejections_by_candidate ON rejections(pipeline, environment, artifact)
 *   state_marks(state TEXT PRIMARY KEY,                            -- a state repo (path or URL)
 *        commit_id TEXT NOT NULL, updated_ms INTEGER NOT NULL)     -- reconciled up to this commit
 *   INDEX stage_transitions_by_commit ON stage_transitions(state_commit)
 *   INDEX stage_transitions_by_version ON stage_transitions(model, version)
 *
 * Statuses are the strings of ci/run.h (run_status_name, step_status_name) plus "interrupted" for a
 * run whose mlci process died.
 */

#define STORE_SCHEMA_VERSION 4

struct store {
	struct sqlite3 *db; /* owned */
	char *path;         /* owned */
	char *home;         /* owned; for lock files */
	int lock_fd;        /* flock'd $home/locks/<run>.lock of the run this process owns; -1 = none */
	char *lock_path;    /* owned; path of that lock file, NULL while lock_fd is -1 */
};

/* Open (creating if needed) "$home/mlci.db": WAL, foreign_keys=ON, busy timeout 10 s, migrate to
 * STORE_SCHEMA_VERSION in one transaction, then mark runs whose owner died as "interrupted". */
int store_open(struct store *st, const char *home, struct err *e);
void store_close(struct store *st);

/* Transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int store_begin(struct store *st, struct err *e);
int store_commit(struct store *st, struct err *e);
void store_rollback(struct store *st);

/* Runs */
struct store_run {
	const char *id, *pipeline, *repo, *commit_id, *branch, *trigger, *status;
	const char *params_json;  /* JSON object text */
	const char *resumed_from; /* NULL = none */
	int64_t started_ms, finished_ms;
	const char *reason;
};
/* Insert the run (status "running" whatever r->status says, host, user, pid of this process) and take
 * its lock, so that another process can tell it is alive. One run per store handle at a time; the lock
 * is released by store_run_finish of that run or by store_close (a run closed unfinished is then
 * marked "interrupted" by the next store_open). "r->id" must be [A-Za-z0-9._-]+, not starting with '.';
 * NULL params_json means "{}"; finished_ms and reason are not used here. */
int store_run_begin(struct store *st, const struct store_run *r, struct err *e);
int store_run_finish(struct store *st, const char *run_id, const char *status, int64_t finished_ms, const char *reason,
		     struct err *e);

/* Steps: upsert one step row; committed at once (its own transaction unless one is open).
 * Times of 0 and NULL strings are "unset": an upsert overwrites status and only the fields it sets,
 * so a step put as "running" with started_ms and log_path keeps them when put again as "passed".
 * duration_ms is recorded only together with finished_ms. */
struct store_step {
	const char *run, *component, *phase, *status;
	int64_t started_ms, finished_ms, duration_ms;
	int has_exit_code;
	int exit_code;
	const char *cache_key;   /* NULL = none */
	const char *cached_from; /* NULL = none */
	const char *log_path, *reason;
};
int store_step_put(struct store *st, const struct store_step *s, struct err *e);

/* Find the latest completed step ("passed", or "cached" from one) for "cache_key" and "phase"; on a hit
 * fill "run_out" (41+ bytes, the run that executed it, following cached_from to the origin) and return
 * 1; 0 on a miss, -1 on error. */
int store_cache_lookup(struct store *st, const char *cache_key, const char *phase, char *run_out, size_t n,
		       struct err *e);

/* Artifacts and lineage */
int store_artifact_put(struct store *st, const char *digest, int64_t size, const char *type, const char *uri,
		       struct err *e);
int store_event_put(struct store *st, const char *run, const char *component, const char *digest, const char *kind,
		    const char *name, struct err *e);
/* Output artifacts of "component" in "run", ordered by name: calls "fn" for each (name, digest); the
 * strings are valid during the call only. A non-zero return from "fn" stops the walk and is returned
 * (with "e" untouched); -1 with "e" set on a store error. */
int store_outputs_each(struct store *st, const char *run, const char *component,
		       int (*fn)(void *payload, const char *name, const char *digest), void *payload, struct err *e);

/* Metrics */
int store_metric_put(struct store *st, const char *run, const char *name, const char *slice, double value,
		     struct err *e);

/* Registry: register a version of "model" for "run" unless (model, artifact, commit) exists already.
 * "version_out" gets the new or existing version; "created" 1 when it was new. */
int store_model_register(struct store *st, const char *model, const char *run, const char *commit_id,
			 const char *artifact, const char *metrics_json, int64_t *version_out, int *created,
			 struct err *e);

/* Append a stage transition (the table refuses UPDATE and DELETE). "from_stage", "reason" and
 * "state_commit" may be NULL; time_ms 0 means now. "id_out" (may be NULL) gets the row id. */
struct store_transition {
	const char *model;
	int64_t version;
	const char *environment, *from_stage, *to_stage, *actor, *reason, *state_commit;
	int64_t time_ms;
};
int store_transition_add(struct store *st, const struct store_transition *t, int64_t *id_out, struct err *e);

/* Low-level access for queries (registry/query.c). */
struct sqlite3 *store_db(struct store *st);

#endif
