/* store_schema.c - the SQL of every schema migration of the metadata store (see store.h for the schema).
 * Must not hold values or logic: plain DDL only, and a released migration is never edited. */
#include "registry/store_schema.h"

#include "registry/store.h"
#include "common/banned.h"

/* Version 1: the initial schema. schema_version may exist already (an empty version-0 store), so it
 * is created only if missing; store.c rewrites its single row after the migrations. */
static const char migration_1[] =
	"CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);\n"
	"CREATE TABLE runs(id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, repo TEXT NOT NULL,\n"
	"  commit_id TEXT NOT NULL, branch TEXT, trigger TEXT NOT NULL, status TEXT NOT NULL,\n"
	"  host TEXT NOT NULL, user TEXT NOT NULL, pid INTEGER NOT NULL, params TEXT NOT NULL,\n"
	"  mlci_version TEXT NOT NULL, resumed_from TEXT REFERENCES runs(id),\n"
	"  started_ms INTEGER NOT NULL, finished_ms INTEGER, reason TEXT);\n"
	"CREATE INDEX runs_by_status ON runs(status);\n"
	"CREATE TABLE steps(run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  component TEXT NOT NULL,\n"
	"  phase TEXT NOT NULL CHECK(phase IN ('build','test','run','check')),\n"
	"  status TEXT NOT NULL, started_ms INTEGER, finished_ms INTEGER, duration_ms INTEGER,\n"
	"  exit_code INTEGER, cache_key TEXT, cached_from TEXT REFERENCES runs(id), log_path TEXT,\n"
	"  reason TEXT, PRIMARY KEY(run, component, phase));\n"
	"CREATE INDEX steps_by_key ON steps(cache_key, phase, status);\n"
	"CREATE TABLE artifacts(digest TEXT PRIMARY KEY, size INTEGER NOT NULL, type TEXT NOT NULL,\n"
	"  uri TEXT NOT NULL, created_ms INTEGER NOT NULL);\n"
	"CREATE TABLE events(id INTEGER PRIMARY KEY,\n"
	"  run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, component TEXT NOT NULL,\n"
	"  artifact TEXT NOT NULL REFERENCES artifacts(digest),\n"
	"  kind TEXT NOT NULL CHECK(kind IN ('input','output')), name TEXT NOT NULL);\n"
	"CREATE INDEX events_by_artifact ON events(artifact);\n"
	"CREATE INDEX events_by_run ON events(run, component);\n"
	"CREATE TABLE metrics(run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  name TEXT NOT NULL, slice TEXT NOT NULL DEFAULT '', value REAL NOT NULL,\n"
	"  PRIMARY KEY(run, name, slice));\n"
	"CREATE TABLE model_versions(model TEXT NOT NULL, version INTEGER NOT NULL,\n"
	"  run TEXT NOT NULL REFERENCES runs(id), commit_id TEXT NOT NULL,\n"
	"  artifact TEXT NOT NULL REFERENCES artifacts(digest), metrics TEXT NOT NULL,\n"
	"  previous INTEGER, created_ms INTEGER NOT NULL,\n"
	"  PRIMARY KEY(model, version), UNIQUE(model, artifact, commit_id));\n"
	"CREATE TABLE stage_transitions(id INTEGER PRIMARY KEY, model TEXT NOT NULL,\n"
	"  version INTEGER NOT NULL, environment TEXT NOT NULL, from_stage TEXT, to_stage TEXT NOT NULL,\n"
	"  actor TEXT NOT NULL, reason TEXT, state_commit TEXT, time_ms INTEGER NOT NULL,\n"
	"  FOREIGN KEY(model, version) REFERENCES model_versions(model, version));\n"
	"CREATE TRIGGER stage_transitions_no_update BEFORE UPDATE ON stage_transitions\n"
	"  BEGIN SELECT RAISE(ABORT, 'stage_transitions is append-only'); END;\n"
	"CREATE TRIGGER stage_transitions_no_delete BEFORE DELETE ON stage_transitions\n"
	"  BEGIN SELECT RAISE(ABORT, 'stage_transitions is append-only'); END;\n";

/* Version 2: promotion candidates (pending, promoted, superseded, failed) per environment. */
static const char migration_2[] =
	"CREATE TABLE promotions(id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL,\n"
	"  environment TEXT NOT NULL, model TEXT, version INTEGER, run TEXT NOT NULL REFERENCES runs(id),\n"
	"  commit_id TEXT NOT NULL, branch TEXT, status TEXT NOT NULL\n"
	"  CHECK(status IN ('pending','promoted','superseded','failed','cancelled')),\n"
	"  waiting_for TEXT, state_commit TEXT, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);\n"
	"CREATE INDEX promotions_by_env ON promotions(environment, status);\n";

/* Version 3: check verdicts, dataset statistics, watched branch heads, approvals, environment pins
 * and per-environment promotion locks. */
static const char migration_3[] =
	"CREATE TABLE checks(run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  name TEXT NOT NULL,\n"
	"  kind TEXT NOT NULL CHECK(kind IN ('data','training','model','infra','service')),\n"
	"  status TEXT NOT NULL CHECK(status IN ('pass','warn','fail','skipped')),\n"
	"  summary TEXT NOT NULL, details TEXT NOT NULL DEFAULT '{}',\n"
	"  started_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL, PRIMARY KEY(run, name));\n"
	"CREATE TABLE dataset_stats(dataset TEXT PRIMARY KEY REFERENCES artifacts(digest),\n"
	"  stats TEXT NOT NULL REFERENCES artifacts(digest), created_ms INTEGER NOT NULL);\n"
	"CREATE TABLE branch_heads(repo TEXT NOT NULL, branch TEXT NOT NULL, commit_id TEXT NOT NULL,\n"
	"  run TEXT REFERENCES runs(id), status TEXT NOT NULL DEFAULT 'seen'\n"
	"  CHECK(status IN ('seen','running','done','deleted')),\n"
	"  updated_ms INTEGER NOT NULL, PRIMARY KEY(repo, branch));\n"
	"CREATE TABLE approvals(id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, environment TEXT NOT NULL,\n"
	"  model TEXT NOT NULL, version INTEGER NOT NULL, artifact TEXT NOT NULL, approver TEXT NOT NULL,\n"
	"  time_ms INTEGER NOT NULL,\n"
	"  UNIQUE(pipeline, environment, model, version, artifact, approver));\n"
	"CREATE TABLE pins(pipeline TEXT NOT NULL, environment TEXT NOT NULL, model TEXT, version INTEGER,\n"
	"  actor TEXT NOT NULL, reason TEXT, state_commit TEXT, time_ms INTEGER NOT NULL,\n"
	"  PRIMARY KEY(pipeline, environment));\n"
	"CREATE TABLE env_locks(pipeline TEXT NOT NULL, environment TEXT NOT NULL, holder TEXT NOT NULL,\n"
	"  host TEXT NOT NULL, pid INTEGER NOT NULL, acquired_ms INTEGER NOT NULL,\n"
	"  PRIMARY KEY(pipeline, environment));\n";

/* Version 4: gate evidence with approvals and promotions, recorded rejections of candidates, the
 * reconciliation mark of each state repo, and indexes for transition lookups. */
static const char migration_4[] =
	"ALTER TABLE approvals ADD COLUMN evidence TEXT;\n"
	"ALTER TABLE promotions ADD COLUMN evidence TEXT;\n"
	"CREATE TABLE rejections(id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, environment TEXT NOT NULL,\n"
	"  model TEXT, version INTEGER, artifact TEXT NOT NULL, approver TEXT NOT NULL, reason TEXT NOT NULL,\n"
	"  time_ms INTEGER NOT NULL);\n"
	"CREATE INDEX rejections_by_candidate ON rejections(pipeline, environment, artifact);\n"
	"CREATE TABLE state_marks(state TEXT PRIMARY KEY, commit_id TEXT NOT NULL, updated_ms INTEGER NOT NULL);\n"
	"CREATE INDEX stage_transitions_by_commit ON stage_transitions(state_commit);\n"
	"CREATE INDEX stage_transitions_by_version ON stage_transitions(model, version);\n";

const char *const store_migrations[STORE_SCHEMA_VERSION + 1] = {
	NULL, migration_1, migration_2, migration_3, migration_4,
};
