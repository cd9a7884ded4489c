/* test_store.c - unit tests of the metadata store (registry/store*.c) on real SQLite files in a mkdtemp()
 * directory: migrations, transactions, steps, cache, lineage, registry, interrupted runs, concurrency. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/path.h"
#include "registry/store.h"
#include "registry/store_schema.h"
#include "common/banned.h"

static char *home;

static int setup(void **state)
{
	char tmpl[PATH_MAX];
	const char *t = getenv("TMPDIR");
	(void)state;
	snprintf(tmpl, sizeof(tmpl), "%s/mlci-test-store-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpl))
		return -1;
	home = xstrdup(tmpl);
	return 0;
}

static int teardown(void **state)
{
	struct err e = ERR_INIT;
	int r;
	(void)state;
	r = fs_rm_rf(home, &e);
	err_release(&e);
	free(home);
	return r;
}

static char *hp(const char *rel)
{
	return path_join(home, rel);
}

static void open_ok(struct store *st)
{
	struct err e = ERR_INIT;
	if (store_open(st, home, &e) < 0)
		fail_msg("store_open: %s", err_msg(&e));
	err_release(&e);
}

/* Raw access to a database file, bypassing the store (fixtures, corruption, checks). */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("raw_exec: %s", msg ? msg : "?");
	sqlite3_close(db);
}

/* First column of the first row of "sql" with optional text parameter ?1; INT64_MIN for no row/NULL. */
static int64_t q_int(struct store *st, const char *sql, const char *p1)
{
	sqlite3_stmt *s;
	int64_t v = INT64_MIN;
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("prepare '%s': %s", sql, sqlite3_errmsg(store_db(st)));
	if (p1)
		sqlite3_bind_text(s, 1, p1, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Same for text; malloc'd, NULL for no row/NULL. */
static char *q_text(struct store *st, const char *sql, const char *p1)
{
	sqlite3_stmt *s;
	char *v = NULL;
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("prepare '%s': %s", sql, sqlite3_errmsg(store_db(st)));
	if (p1)
		sqlite3_bind_text(s, 1, p1, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return v;
}

static void assert_text(struct store *st, const char *sql, const char *p1, const char *want)
{
	char *got = q_text(st, sql, p1);
	if (!got || strcmp(got, want) != 0)
		fail_msg("%s [%s]: got '%s', want '%s'", sql, p1 ? p1 : "", got ? got : "(null)", want);
	free(got);
}

static struct store_run sample_run(const char *id)
{
	struct store_run r;
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.pipeline = "demo";
	r.repo = "/src/demo";
	r.commit_id = "0123456789abcdef0123456789abcdef01234567";
	r.branch = "main";
	r.trigger = "manual";
	r.params_json = "{\"epochs\": \"3\"}";
	r.started_ms = 1000;
	return r;
}

static void run_ok(struct store *st, const char *id)
{
	struct store_run r = sample_run(id);
	struct err e = ERR_INIT;
	if (store_run_begin(st, &r, &e) < 0)
		fail_msg("store_run_begin: %s", err_msg(&e));
	err_release(&e);
}

static void finish_ok(struct store *st, const char *id, const char *status)
{
	struct err e = ERR_INIT;
	if (store_run_finish(st, id, status, 2000, NULL, &e) < 0)
		fail_msg("store_run_finish: %s", err_msg(&e));
	err_release(&e);
}

/* A finished run (lock released) so the same handle can record the next one. */
static void finished_run(struct store *st, const char *id)
{
	run_ok(st, id);
	finish_ok(st, id, "passed");
}

static struct store_step sample_step(const char *run, const char *component, const char *phase, const char *status)
{
	struct store_step s;
	memset(&s, 0, sizeof(s));
	s.run = run;
	s.component = component;
	s.phase = phase;
	s.status = status;
	return s;
}

static void step_ok(struct store *st, const struct store_step *s)
{
	struct err e = ERR_INIT;
	if (store_step_put(st, s, &e) < 0)
		fail_msg("store_step_put: %s", err_msg(&e));
	err_release(&e);
}

static const char digest_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char digest_b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
static const char digest_c[] = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

static void artifact_ok(struct store *st, const char *digest)
{
	struct err e = ERR_INIT;
	if (store_artifact_put(st, digest, 12, "output", "file:///x", &e) < 0)
		fail_msg("store_artifact_put: %s", err_msg(&e));
	err_release(&e);
}

static void check_current_schema(struct store *st)
{
	static const char *const tables[] = { "schema_version", "runs",    "steps",          "artifacts",
					      "events",         "metrics", "model_versions", "stage_transitions",
					      "promotions",     "checks",  "dataset_stats",  "branch_heads",
					      "approvals",      "pins",    "env_locks" };
	assert_int_equal(q_int(st, "SELECT count(*) FROM schema_version", NULL), 1);
	assert_int_equal(q_int(st, "SELECT version FROM schema_version", NULL), STORE_SCHEMA_VERSION);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (q_int(st, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", tables[i]) != 1)
			fail_msg("table '%s' missing", tables[i]);
	assert_int_equal(q_int(st, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'", NULL), 2);
}

/* ---------------------------------------------------------------- migrations */

static void test_migrate_new_home(void **state)
{
	struct store st;
	char *sub = hp("a/b/home");
	struct err e = ERR_INIT;
	(void)state;
	assert_int_equal(store_open(&st, sub, &e), 0);
	check_current_schema(&st);
	store_close(&st);
	/* reopening a current store changes nothing */
	assert_int_equal(store_open(&st, sub, &e), 0);
	check_current_schema(&st);
	store_close(&st);
	err_release(&e);
	free(sub);
}

static void test_migrate_empty_file(void **state)
{
	struct store st;
	char *db = hp("mlci.db");
	(void)state;
	assert_int_equal(fs_write_atomic(db, "", 0, 0644, NULL), 0);
	open_ok(&st);
	check_current_schema(&st);
	store_close(&st);
	free(db);
}

/*
 * Stores as earlier releases left them. Adding schema version N+1 means adding one fixture here: the
 * version-N schema exactly as released (copy store_migrations[N] and its predecessors' final form),
 * with a row in every table, and a "check" query that is 1 when those rows survived the migration.
 */
struct schema_fixture {
	const char *name;
	const char *sql;   /* creates the old store */
	const char *check; /* NULL, or a query returning 1 after migration */
};

/* Version 1 exactly as released (store_schema.c migration_1), with a row in every table. */
#define SCHEMA_V1                                                                                                      \
	"CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);\n"                                       \
	"CREATE TABLE runs(id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, repo TEXT NOT NULL,\n"                         \
	"  commit_id TEXT NOT NULL, branch TEXT, trigger TEXT NOT NULL, status TEXT NOT NULL,\n"                       \
	"  host TEXT NOT NULL, user TEXT NOT NULL, pid INTEGER NOT NULL, params TEXT NOT NULL,\n"                      \
	"  mlci_version TEXT NOT NULL, resumed_from TEXT REFERENCES runs(id),\n"                                       \
	"  started_ms INTEGER NOT NULL, finished_ms INTEGER, reason TEXT);\n"                                          \
	"CREATE INDEX runs_by_status ON runs(status);\n"                                                               \
	"CREATE TABLE steps(run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"                                \
	"  component TEXT NOT NULL,\n"                                                                                 \
	"  phase TEXT NOT NULL CHECK(phase IN ('build','test','run','check')),\n"                                      \
	"  status TEXT NOT NULL, started_ms INTEGER, finished_ms INTEGER, duration_ms INTEGER,\n"                      \
	"  exit_code INTEGER, cache_key TEXT, cached_from TEXT REFERENCES runs(id), log_path TEXT,\n"                  \
	"  reason TEXT, PRIMARY KEY(run, component, phase));\n"                                                        \
	"CREATE INDEX steps_by_key ON steps(cache_key, phase, status);\n"                                              \
	"CREATE TABLE artifacts(digest TEXT PRIMARY KEY, size INTEGER NOT NULL, type TEXT NOT NULL,\n"                 \
	"  uri TEXT NOT NULL, created_ms INTEGER NOT NULL);\n"                                                         \
	"CREATE TABLE events(id INTEGER PRIMARY KEY,\n"                                                                \
	"  run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, component TEXT NOT NULL,\n"                        \
	"  artifact TEXT NOT NULL REFERENCES artifacts(digest),\n"                                                     \
	"  kind TEXT NOT NULL CHECK(kind IN ('input','output')), name TEXT NOT NULL);\n"                               \
	"CREATE INDEX events_by_artifact ON events(artifact);\n"                                                       \
	"CREATE INDEX events_by_run ON events(run, component);\n"                                                      \
	"CREATE TABLE metrics(run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"                              \
	"  name TEXT NOT NULL, slice TEXT NOT NULL DEFAULT '', value REAL NOT NULL,\n"                                 \
	"  PRIMARY KEY(run, name, slice));\n"                                                                          \
	"CREATE TABLE model_versions(model TEXT NOT NULL, version INTEGER NOT NULL,\n"                                 \
	"  run TEXT NOT NULL REFERENCES runs(id), commit_id TEXT NOT NULL,\n"                                          \
	"  artifact TEXT NOT NULL REFERENCES artifacts(digest), metrics TEXT NOT NULL,\n"                              \
	"  previous INTEGER, created_ms INTEGER NOT NULL,\n"                                                           \
	"  PRIMARY KEY(model, version), UNIQUE(model, artifact, commit_id));\n"                                        \
	"CREATE TABLE stage_transitions(id INTEGER PRIMARY KEY, model TEXT NOT NULL,\n"                                \
	"  version INTEGER NOT NULL, environment TEXT NOT NULL, from_stage TEXT, to_stage TEXT NOT NULL,\n"            \
	"  actor TEXT NOT NULL, reason TEXT, state_commit TEXT, time_ms INTEGER NOT NULL,\n"                           \
	"  FOREIGN KEY(model, version) REFERENCES model_versions(model, version));\n"                                  \
	"CREATE TRIGGER stage_transitions_no_update BEFORE UPDATE ON stage_transitions\n"                              \
	"  BEGIN SELECT RAISE(ABORT, 'stage_transitions is append-only'); END;\n"                                      \
	"CREATE TRIGGER stage_transitions_no_delete BEFORE DELETE ON stage_transitions\n"                              \
	"  BEGIN SELECT RAISE(ABORT, 'stage_transitions is append-only'); END;\n"

/* Version 2 exactly as released: version 1 plus migration_2. */
#define SCHEMA_V2                                                                                                      \
	SCHEMA_V1                                                                                                      \
	"CREATE TABLE promotions(id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL,\n"                                    \
	"  environment TEXT NOT NULL, model TEXT, version INTEGER, run TEXT NOT NULL REFERENCES runs(id),\n"           \
	"  commit_id TEXT NOT NULL, branch TEXT, status TEXT NOT NULL\n"                                               \
	"  CHECK(status IN ('pending','promoted','superseded','failed','cancelled')),\n"                               \
	"  waiting_for TEXT, state_commit TEXT, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);\n"          \
	"CREATE INDEX promotions_by_env ON promotions(environment, status);\n"

static const struct schema_fixture fixtures[] = {
	{ "version 2: version 1 rows plus a pending promotion",
	  SCHEMA_V2 "INSERT INTO schema_version VALUES (2);"
		    "INSERT INTO runs VALUES ('r1','p','repo','c1','main','manual','passed','h','u',1,'{}','0.1.0',"
		    "NULL,1,2,NULL);"
		    "INSERT INTO artifacts VALUES ('d1',1,'output','u',1);"
		    "INSERT INTO model_versions VALUES ('m',1,'r1','c1','d1','{}',NULL,1);"
		    "INSERT INTO stage_transitions VALUES (1,'m',1,'test',NULL,'test','u',NULL,NULL,1);"
		    "INSERT INTO promotions VALUES (1,'p','staging','m',1,'r1','c1','main','pending','approvals 0/1',"
		    "NULL,1,1);",
	  "SELECT (SELECT count(*) FROM runs WHERE id = 'r1') + (SELECT count(*) FROM model_versions) +"
	  " (SELECT count(*) FROM stage_transitions) + (SELECT count(*) FROM promotions WHERE status = 'pending') +"
	  " (SELECT count(*) FROM checks) + (SELECT count(*) FROM pins) = 4" },
	{ "version 1: a run, step, artifact, event, metric and model version",
	  SCHEMA_V1 "INSERT INTO schema_version VALUES (1);"
		    "INSERT INTO runs VALUES ('r1','p','repo','c1','main','manual','passed','h','u',1,'{}','0.1.0',"
		    "NULL,1,2,NULL);"
		    "INSERT INTO steps VALUES ('r1','a','run','passed',1,2,1,0,'k',NULL,NULL,NULL);"
		    "INSERT INTO artifacts VALUES ('d1',1,'output','u',1);"
		    "INSERT INTO events VALUES (1,'r1','a','d1','output','o');"
		    "INSERT INTO metrics VALUES ('r1','accuracy','',0.9);"
		    "INSERT INTO model_versions VALUES ('m',1,'r1','c1','d1','{}',NULL,1);"
		    "INSERT INTO stage_transitions VALUES (1,'m',1,'test',NULL,'test','u',NULL,NULL,1);",
	  "SELECT (SELECT count(*) FROM runs WHERE id = 'r1') + (SELECT count(*) FROM steps) +"
	  " (SELECT count(*) FROM events) + (SELECT count(*) FROM metrics) + (SELECT count(*) FROM model_versions) +"
	  " (SELECT count(*) FROM stage_transitions) + (SELECT count(*) FROM promotions) = 6" },
	{ "version 0: no tables at all", "", NULL },
	{ "version 0: empty schema_version table", "CREATE TABLE schema_version(version INTEGER NOT NULL);", NULL },
	{ "version 0: schema_version row 0",
	  "CREATE TABLE schema_version(version INTEGER NOT NULL); INSERT INTO schema_version VALUES (0);", NULL },
};

static void test_migrate_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
		struct store st;
		struct err e = ERR_INIT;
		char *db = hp("mlci.db");
		struct store_run r = sample_run("after-migration");
		print_message("fixture: %s\n", fixtures[i].name);
		assert_int_equal(fs_rm_rf(db, NULL), 0);
		raw_exec(db, fixtures[i].sql);
		if (store_open(&st, home, &e) < 0)
			fail_msg("%s: %s", fixtures[i].name, err_msg(&e));
		check_current_schema(&st);
		if (fixtures[i].check)
			assert_int_equal(q_int(&st, fixtures[i].check, NULL), 1);
		/* the migrated store is usable */
		assert_int_equal(store_run_begin(&st, &r, &e), 0);
		assert_int_equal(store_run_finish(&st, r.id, "passed", 0, NULL, &e), 0);
		store_close(&st);
		err_release(&e);
		unlink(db);
		free(db);
		{
			char *wal = hp("mlci.db-wal"), *shm = hp("mlci.db-shm");
			unlink(wal);
			unlink(shm);
			free(wal);
			free(shm);
		}
	}
}

/* Every prefix of the migration chain (a store at each earlier version, built from the migrations
 * themselves) reaches the current version. */
static void test_migrate_chain(void **state)
{
	(void)state;
	for (int v = 0; v < STORE_SCHEMA_VERSION; v++) {
		struct buf sql = BUF_INIT;
		struct store st;
		char *db;
		char name[64];
		snprintf(name, sizeof(name), "v%d/mlci.db", v);
		db = hp(name);
		*strrchr(db, '/') = '\0';
		assert_int_equal(fs_mkdir_p(db, 0755, NULL), 0);
		db[strlen(db)] = '/';
		for (int k = 1; k <= v; k++)
			buf_addstr(&sql, store_migrations[k]);
		buf_addf(&sql,
			 "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL);"
			 "INSERT INTO schema_version VALUES (%d);",
			 v);
		raw_exec(db, sql.ptr);
		*strrchr(db, '/') = '\0';
		{
			struct err e = ERR_INIT;
			if (store_open(&st, db, &e) < 0)
				fail_msg("from version %d: %s", v, err_msg(&e));
			err_release(&e);
		}
		check_current_schema(&st);
		store_close(&st);
		buf_release(&sql);
		free(db);
	}
}

static void test_newer_schema_refused(void **state)
{
	struct store st;
	struct err e = ERR_INIT;
	char *db = hp("mlci.db");
	char want[128];
	(void)state;
	open_ok(&st);
	store_close(&st);
	raw_exec(db, "UPDATE schema_version SET version = 99");
	assert_int_equal(store_open(&st, home, &e), -1);
	assert_int_equal(e.code, MLCI_EINFRA);
	snprintf(want, sizeof(want), "store schema version 99 is newer than this mlci (%d)", STORE_SCHEMA_VERSION);
	if (!strstr(err_msg(&e), want))
		fail_msg("message: %s", err_msg(&e));
	assert_null(st.db);
	err_release(&e);
	free(db);
}

static void test_pragmas(void **state)
{
	struct store st;
	(void)state;
	open_ok(&st);
	assert_text(&st, "PRAGMA journal_mode", NULL, "wal");
	assert_int_equal(q_int(&st, "PRAGMA foreign_keys", NULL), 1);
	assert_int_equal(q_int(&st, "PRAGMA synchronous", NULL), 1); /* NORMAL */
	assert_int_equal(q_int(&st, "PRAGMA busy_timeout", NULL), 10000);
	assert_int_equal(sqlite3_db_readonly(store_db(&st), "main"), 0);
	store_close(&st);
}

/* ---------------------------------------------------------------- transactions */

static void test_rollback_leaves_nothing(void **state)
{
	struct store st;
	struct err e = ERR_INIT;
	struct store_step s = sample_step("r1", "train", "run", "passed");
	(void)state;
	open_ok(&st);
	assert_int_equal(store_begin(&st, &e), 0);
	assert_int_equal(store_begin(&st, &e), -1); /* no nesting at the API */
	run_ok(&st, "r1");
	step_ok(&st, &s);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM steps", NULL), 1);
	store_rollback(&st);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM runs", NULL), 0);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM steps", NULL), 0);
	assert_int_equal(store_commit(&st, &e), -1); /* nothing open */
	store_close(&st);
	/* not in the file either */
	open_ok(&st);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM runs", NULL), 0);
	store_close(&st);
	err_release(&e);
}

static void test_failing_statement_rolls_back_change(void **state)
{
	struct store st;
	struct err e = ERR_INIT;
	struct store_step bad = sample_step("r1", "train", "bogus", "passed");
	(void)state;
	open_ok(&st);
	finished_run(&st, "r1");

	/* caller's multi-row change: the failing row makes the caller roll back all of it */
	assert_int_equal(store_begin(&st, &e), 0);
	artifact_ok(&st, digest_a);
	assert_int_equal(store_event_put(&st, "r1", "train", digest_a, "output", "model.json", &e), 0);
	assert_int_equal(store_event_put(&st, "r1", "train", digest_a, "sideways", "x", &e), -1);
	assert_non_null(strstr(err_msg(&e), "CHECK constraint failed"));
	store_rollback(&st);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM artifacts", NULL), 0);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM events", NULL), 0);

	/* a failing put inside an open transaction undoes only itself (savepoint) */
	assert_int_equal(store_begin(&st, &e), 0);
	artifact_ok(&st, digest_a);
	assert_int_equal(store_step_put(&st, &bad, &e), -1);
	if (strncmp(err_msg(&e), "could not record step 'train bogus': CHECK constraint failed", 60) != 0)
		fail_msg("message: %s", err_msg(&e));
	assert_int_equal(store_commit(&st, &e), 0);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM artifacts", NULL), 1);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM steps", NULL), 0);

	/* foreign keys are enforced: lineage of an unknown artifact, a step of an unknown run */
	assert_int_equal(store_event_put(&st, "r1", "train", digest_b, "output", "x", &e), -1);
	assert_non_null(strstr(err_msg(&e), "FOREIGN KEY constraint failed"));
	{
		struct store_step orphan = sample_step("nope", "train", "run", "passed");
		assert_int_equal(store_step_put(&st, &orphan, &e), -1);
		assert_string_equal(err_msg(&e), "could not record step 'train run': FOREIGN KEY constraint failed");
		assert_int_equal(e.code, MLCI_EINFRA);
	}
	store_close(&st);
	err_release(&e);
}

static void test_busy_error_message(void **state)
{
	struct store a, b;
	struct err e = ERR_INIT;
	struct store_step s = sample_step("r1", "train", "run", "passed");
	(void)state;
	open_ok(&a);
	finished_run(&a, "r1");
	open_ok(&b);
	sqlite3_busy_timeout(store_db(&b), 50);
	assert_int_equal(store_begin(&a, &e), 0);
	assert_int_equal(store_step_put(&b, &s, &e), -1);
	assert_string_equal(err_msg(&e), "could not record step 'train run': database is locked");
	store_rollback(&a);
	step_ok(&b, &s);
	store_close(&b);
	store_close(&a);
	err_release(&e);
}

/* ---------------------------------------------------------------- runs and steps */

static void test_run_rows(void **state)
{
	struct store st, other;
	struct err e = ERR_INIT;
	struct store_run bad = sample_run("../escape");
	char *lock = hp("locks/r1.lock");
	char *user;
	(void)state;
	open_ok(&st);
	run_ok(&st, "r1");
	assert_true(fs_is_file(lock));
	assert_text(&st, "SELECT status FROM runs WHERE id = ?1", "r1", "running");
	assert_text(&st, "SELECT params FROM runs WHERE id = ?1", "r1", "{\"epochs\": \"3\"}");
	assert_text(&st, "SELECT mlci_version FROM runs WHERE id = ?1", "r1", MLCI_VERSION);
	assert_int_equal(q_int(&st, "SELECT pid FROM runs WHERE id = ?1", "r1"), getpid());
	user = q_text(&st, "SELECT user FROM runs WHERE id = ?1", "r1");
	assert_non_null(user);
	assert_true(user[0] != '\0');
	free(user);
	assert_int_equal(q_int(&st, "SELECT length(host) > 0 FROM runs WHERE id = ?1", "r1"), 1);

	/* one run per handle; a second handle cannot take a run that is owned */
	{
		struct store_run r2 = sample_run("r2");
		assert_int_equal(store_run_begin(&st, &r2, &e), -1);
	}
	open_ok(&other);
	{
		struct store_run again = sample_run("r1");
		assert_int_equal(store_run_begin(&other, &again, &e), -1);
		assert_non_null(strstr(err_msg(&e), "owned by another process"));
	}
	assert_int_equal(store_run_begin(&other, &bad, &e), -1);
	assert_non_null(strstr(err_msg(&e), "invalid run id"));
	store_close(&other);

	assert_int_equal(store_run_finish(&st, "r1", "failed", 5000, "train failed", &e), 0);
	assert_false(fs_exists(lock));
	assert_text(&st, "SELECT status FROM runs WHERE id = ?1", "r1", "failed");
	assert_text(&st, "SELECT reason FROM runs WHERE id = ?1", "r1", "train failed");
	assert_int_equal(q_int(&st, "SELECT finished_ms FROM runs WHERE id = ?1", "r1"), 5000);
	assert_int_equal(store_run_finish(&st, "missing", "passed", 0, NULL, &e), -1);
	assert_non_null(strstr(err_msg(&e), "no such run"));

	/* a duplicate id is refused by the primary key and leaves no lock behind */
	{
		struct store_run dup = sample_run("r1");
		assert_int_equal(store_run_begin(&st, &dup, &e), -1);
		assert_int_equal(st.lock_fd, -1);
		assert_false(fs_exists(lock));
	}
	store_close(&st);
	free(lock);
	err_release(&e);
}

static void test_step_upsert(void **state)
{
	struct store st;
	struct store_step s = sample_step("r1", "train", "run", "running");
	(void)state;
	open_ok(&st);
	finished_run(&st, "r1");
	s.started_ms = 100;
	s.log_path = "/logs/r1/train.log";
	s.cache_key = "key1";
	step_ok(&st, &s);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM steps", NULL), 1);
	assert_int_equal(q_int(&st, "SELECT finished_ms FROM steps", NULL), INT64_MIN);

	s = sample_step("r1", "train", "run", "passed");
	s.finished_ms = 350;
	s.duration_ms = 250;
	s.has_exit_code = 1;
	s.exit_code = 0;
	step_ok(&st, &s);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM steps", NULL), 1);
	assert_text(&st, "SELECT status FROM steps", NULL, "passed");
	assert_int_equal(q_int(&st, "SELECT started_ms FROM steps", NULL), 100);
	assert_int_equal(q_int(&st, "SELECT finished_ms FROM steps", NULL), 350);
	assert_int_equal(q_int(&st, "SELECT duration_ms FROM steps", NULL), 250);
	assert_int_equal(q_int(&st, "SELECT exit_code FROM steps", NULL), 0);
	assert_text(&st, "SELECT log_path FROM steps", NULL, "/logs/r1/train.log");
	assert_text(&st, "SELECT cache_key FROM steps", NULL, "key1");

	/* other phases of the same component are other rows */
	s = sample_step("r1", "train", "test", "failed");
	s.has_exit_code = 1;
	s.exit_code = 3;
	step_ok(&st, &s);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM steps", NULL), 2);
	assert_int_equal(q_int(&st, "SELECT exit_code FROM steps WHERE phase = ?1", "test"), 3);
	store_close(&st);
}

static void test_metrics(void **state)
{
	struct store st;
	struct err e = ERR_INIT;
	(void)state;
	open_ok(&st);
	finished_run(&st, "r1");
	assert_int_equal(store_metric_put(&st, "r1", "accuracy", NULL, 0.5, &e), 0);
	assert_int_equal(store_metric_put(&st, "r1", "accuracy", NULL, 0.75, &e), 0);
	assert_int_equal(store_metric_put(&st, "r1", "accuracy", "age>50", 0.25, &e), 0);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM metrics", NULL), 2);
	assert_int_equal(q_int(&st, "SELECT value * 100 FROM metrics WHERE slice = ''", NULL), 75);
	assert_int_equal(store_metric_put(&st, "nope", "accuracy", NULL, 1, &e), -1);
	store_close(&st);
	err_release(&e);
}

/* ---------------------------------------------------------------- cache */

static void cached_step(struct store *st, const char *run, const char *phase, const char *status, const char *key,
			const char *from, int64_t finished)
{
	struct store_step s = sample_step(run, "train", phase, status);
	s.cache_key = key;
	s.cached_from = from;
	s.started_ms = finished - 10;
	s.finished_ms = finished;
	step_ok(st, &s);
}

static void test_cache_lookup(void **state)
{
	struct store st;
	struct err e = ERR_INIT;
	char run[64], tiny[4];
	(void)state;
	open_ok(&st);
	finished_run(&st, "ra");
	finished_run(&st, "rb");
	finished_run(&st, "rc");
	finished_run(&st, "rd");

	assert_int_equal(store_cache_lookup(&st, "K", "run", run, sizeof(run), &e), 0); /* empty */
	cached_step(&st, "ra", "run", "passed", "K", NULL, 100);
	assert_int_equal(store_cache_lookup(&st, "K", "run", run, sizeof(run), &e), 1);
	assert_string_equal(run, "ra");
	assert_int_equal(store_cache_lookup(&st, "K", "test", run, sizeof(run), &e), 0); /* phase mismatch */
	assert_int_equal(store_cache_lookup(&st, "other", "run", run, sizeof(run), &e), 0);

	/* a failed step is not a hit, even when newer */
	cached_step(&st, "rb", "run", "failed", "F", NULL, 200);
	assert_int_equal(store_cache_lookup(&st, "F", "run", run, sizeof(run), &e), 0);
	cached_step(&st, "rb", "test", "running", "T", NULL, 200);
	assert_int_equal(store_cache_lookup(&st, "T", "test", run, sizeof(run), &e), 0);

	/* cached steps point at the origin, also through a chain */
	cached_step(&st, "rc", "run", "cached", "K", "ra", 300);
	assert_int_equal(store_cache_lookup(&st, "K", "run", run, sizeof(run), &e), 1);
	assert_string_equal(run, "ra");
	cached_step(&st, "rd", "run", "cached", "K", "rc", 400);
	assert_int_equal(store_cache_lookup(&st, "K", "run", run, sizeof(run), &e), 1);
	assert_string_equal(run, "ra");

	/* the latest passing execution wins */
	cached_step(&st, "rb", "run", "passed", "K", NULL, 500);
	assert_int_equal(store_cache_lookup(&st, "K", "run", run, sizeof(run), &e), 1);
	assert_string_equal(run, "rb");

	assert_int_equal(store_cache_lookup(&st, "K", "run", tiny, sizeof(tiny), &e), 1); /* "rb" fits */
	assert_int_equal(store_cache_lookup(&st, "K", "run", tiny, 2, &e), -1);
	store_close(&st);
	err_release(&e);
}

/* ---------------------------------------------------------------- lineage */

struct collected {
	struct buf names;
	int stop_after;
	int calls;
};

static int collect(void *payload, const char *name, const char *digest)
{
	struct collected *c = payload;
	buf_addf(&c->names, "%s=%.1s ", name, digest);
	c->calls++;
	return c->stop_after && c->calls >= c->stop_after ? 42 : 0;
}

static void test_outputs_each(void **state)
{
	struct store st;
	struct err e = ERR_INIT;
	struct collected c;
	(void)state;
	open_ok(&st);
	finished_run(&st, "r1");
	artifact_ok(&st, digest_a);
	artifact_ok(&st, digest_b);
	artifact_ok(&st, digest_c);
	artifact_ok(&st, digest_c); /* idempotent */
	assert_int_equal(q_int(&st, "SELECT count(*) FROM artifacts", NULL), 3);
	assert_int_equal(store_event_put(&st, "r1", "train", digest_a, "output", "z.csv", &e), 0);
	assert_int_equal(store_event_put(&st, "r1", "train", digest_b, "output", "a.json", &e), 0);
	assert_int_equal(store_event_put(&st, "r1", "train", digest_c, "output", "m.bin", &e), 0);
	assert_int_equal(store_event_put(&st, "r1", "train", digest_c, "input", "b.in", &e), 0);
	assert_int_equal(store_event_put(&st, "r1", "eval", digest_c, "output", "b.out", &e), 0);

	memset(&c, 0, sizeof(c));
	buf_init(&c.names, 0);
	assert_int_equal(store_outputs_each(&st, "r1", "train", collect, &c, &e), 0);
	assert_string_equal(c.names.ptr, "a.json=b m.bin=c z.csv=a ");
	buf_reset(&c.names);
	c.calls = 0;
	c.stop_after = 2;
	assert_int_equal(store_outputs_each(&st, "r1", "train", collect, &c, &e), 42);
	assert_int_equal(c.calls, 2);
	buf_reset(&c.names);
	c.calls = 0;
	assert_int_equal(store_outputs_each(&st, "r1", "nothing", collect, &c, &e), 0);
	assert_int_equal(c.calls, 0);
	buf_release(&c.names);
	store_close(&st);
	err_release(&e);
}

/* ---------------------------------------------------------------- registry */

static void test_model_register(void **state)
{
	struct store st;
	struct err e = ERR_INIT;
	int64_t v = 0;
	int created = -1;
	(void)state;
	open_ok(&st);
	finished_run(&st, "r1");
	artifact_ok(&st, digest_a);
	artifact_ok(&st, digest_b);

	assert_int_equal(store_model_register(&st, "bc", "r1", "c1", digest_a, "{\"acc\": 0.9}", &v, &created, &e), 0);
	assert_int_equal(v, 1);
	assert_int_equal(created, 1);
	assert_int_equal(q_int(&st, "SELECT previous FROM model_versions WHERE version = 1", NULL), INT64_MIN);

	assert_int_equal(store_model_register(&st, "bc", "r1", "c1", digest_b, NULL, &v, &created, &e), 0);
	assert_int_equal(v, 2);
	assert_int_equal(created, 1);
	assert_int_equal(q_int(&st, "SELECT previous FROM model_versions WHERE version = 2", NULL), 1);
	assert_text(&st, "SELECT metrics FROM model_versions WHERE version = 2", NULL, "{}");

	/* identical (model, artifact, commit): the existing version */
	assert_int_equal(store_model_register(&st, "bc", "r1", "c1", digest_a, "{}", &v, &created, &e), 0);
	assert_int_equal(v, 1);
	assert_int_equal(created, 0);
	/* same artifact, another commit: a new version */
	assert_int_equal(store_model_register(&st, "bc", "r1", "c2", digest_a, "{}", &v, &created, &e), 0);
	assert_int_equal(v, 3);
	assert_int_equal(q_int(&st, "SELECT previous FROM model_versions WHERE version = 3", NULL), 2);
	/* versions are per model */
	assert_int_equal(store_model_register(&st, "other", "r1", "c1", digest_a, "{}", &v, &created, &e), 0);
	assert_int_equal(v, 1);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM model_versions", NULL), 4);

	/* an unknown artifact is refused and leaves nothing */
	assert_int_equal(store_model_register(&st, "bc", "r1", "c9", digest_c, "{}", &v, &created, &e), -1);
	assert_int_equal(created, 0);
	assert_non_null(strstr(err_msg(&e), "FOREIGN KEY"));
	assert_int_equal(q_int(&st, "SELECT count(*) FROM model_versions", NULL), 4);
	store_close(&st);
	err_release(&e);
}

static void test_transitions_append_only(void **state)
{
	struct store st;
	struct err e = ERR_INIT;
	struct store_transition t;
	int64_t v, id = 0;
	int created;
	char *msg = NULL;
	(void)state;
	open_ok(&st);
	finished_run(&st, "r1");
	artifact_ok(&st, digest_a);
	assert_int_equal(store_model_register(&st, "bc", "r1", "c1", digest_a, "{}", &v, &created, &e), 0);
	memset(&t, 0, sizeof(t));
	t.model = "bc";
	t.version = 1;
	t.environment = "staging";
	t.to_stage = "staging";
	t.actor = "alice";
	t.state_commit = "abc";
	assert_int_equal(store_transition_add(&st, &t, &id, &e), 0);
	assert_true(id > 0);
	t.version = 7; /* no such model version */
	assert_int_equal(store_transition_add(&st, &t, NULL, &e), -1);

	assert_int_not_equal(
		sqlite3_exec(store_db(&st), "UPDATE stage_transitions SET actor = 'mallory'", NULL, NULL, &msg),
		SQLITE_OK);
	assert_non_null(strstr(msg, "stage_transitions is append-only"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(store_db(&st), "DELETE FROM stage_transitions", NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "stage_transitions is append-only"));
	sqlite3_free(msg);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM stage_transitions", NULL), 1);
	assert_text(&st, "SELECT actor FROM stage_transitions", NULL, "alice");
	store_close(&st);
	err_release(&e);
}

/* ---------------------------------------------------------------- interrupted runs */

static void test_killed_run_is_interrupted(void **state)
{
	int fds[2];
	pid_t pid;
	char byte, want[128];
	int status;
	struct store st;
	char *lock = hp("locks/dying.lock");
	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store cs;
		struct err e = ERR_INIT;
		struct store_run r = sample_run("dying");
		struct store_step s = sample_step("dying", "train", "run", "running");
		struct store_step done = sample_step("dying", "ingest", "run", "passed");
		close(fds[0]);
		if (store_open(&cs, home, &e) < 0 || store_run_begin(&cs, &r, &e) < 0 ||
		    store_step_put(&cs, &done, &e) < 0 || store_step_put(&cs, &s, &e) < 0) {
			fprintf(stderr, "child: %s\n", err_msg(&e));
			_exit(1);
		}
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &byte, 1), 1);
	close(fds[0]);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_true(fs_is_file(lock));

	open_ok(&st);
	assert_text(&st, "PRAGMA integrity_check", NULL, "ok");
	assert_text(&st, "SELECT status FROM runs WHERE id = ?1", "dying", "interrupted");
	assert_true(q_int(&st, "SELECT finished_ms FROM runs WHERE id = ?1", "dying") > 0);
	snprintf(want, sizeof(want), "mlci process died (pid %ld on ", (long)pid);
	{
		char *reason = q_text(&st, "SELECT reason FROM runs WHERE id = ?1", "dying");
		assert_non_null(reason);
		if (strncmp(reason, want, strlen(want)) != 0)
			fail_msg("reason: %s", reason);
		free(reason);
	}
	assert_text(&st, "SELECT status FROM steps WHERE component = ?1", "train", "interrupted");
	assert_text(&st, "SELECT status FROM steps WHERE component = ?1", "ingest", "passed");
	assert_false(fs_exists(lock));
	store_close(&st);
	free(lock);
}

static void test_live_run_not_interrupted(void **state)
{
	struct store owner, other;
	(void)state;
	open_ok(&owner);
	run_ok(&owner, "alive");
	open_ok(&other);
	assert_text(&other, "SELECT status FROM runs WHERE id = ?1", "alive", "running");
	store_close(&other);
	finish_ok(&owner, "alive", "passed");
	open_ok(&other);
	assert_text(&other, "SELECT status FROM runs WHERE id = ?1", "alive", "passed");
	store_close(&other);

	/* closing a handle with its run unfinished gives the run up */
	run_ok(&owner, "abandoned");
	store_close(&owner);
	open_ok(&other);
	assert_text(&other, "SELECT status FROM runs WHERE id = ?1", "abandoned", "interrupted");
	assert_text(&other, "SELECT status FROM runs WHERE id = ?1", "alive", "passed");
	store_close(&other);
}

/* ---------------------------------------------------------------- concurrency */

#define RUNS_PER_WRITER 200

static int writer(int start_fd, int which)
{
	struct store st;
	struct err e = ERR_INIT;
	char go;
	if (read(start_fd, &go, 1) != 1)
		return 1;
	if (store_open(&st, home, &e) < 0)
		goto fail;
	for (int i = 0; i < RUNS_PER_WRITER; i++) {
		char id[64];
		struct store_run r;
		struct store_step s;
		snprintf(id, sizeof(id), "w%d-%03d", which, i);
		r = sample_run(id);
		if (store_run_begin(&st, &r, &e) < 0)
			goto fail;
		s = sample_step(id, "ingest", "run", "passed");
		s.cache_key = id;
		if (store_step_put(&st, &s, &e) < 0)
			goto fail;
		s = sample_step(id, "train", "run", "passed");
		if (store_step_put(&st, &s, &e) < 0)
			goto fail;
		if (store_begin(&st, &e) < 0 || store_metric_put(&st, id, "accuracy", NULL, 0.5, &e) < 0 ||
		    store_metric_put(&st, id, "loss", NULL, 0.1, &e) < 0 || store_commit(&st, &e) < 0)
			goto fail;
		if (store_run_finish(&st, id, "passed", 0, NULL, &e) < 0)
			goto fail;
	}
	store_close(&st);
	err_release(&e);
	return 0;
fail:
	fprintf(stderr, "writer %d: %s\n", which, err_msg(&e));
	return 1;
}

static void test_concurrent_writers(void **state)
{
	int fds[2];
	pid_t pids[2];
	struct store st;
	(void)state;
	assert_int_equal(pipe(fds), 0);
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(fds[1]);
			_exit(writer(fds[0], i));
		}
	}
	close(fds[0]);
	/* both start at once, on a store that does not exist yet */
	assert_int_equal(write(fds[1], "gg", 2), 2);
	close(fds[1]);
	for (int i = 0; i < 2; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	open_ok(&st);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM runs WHERE status = 'passed'", NULL), 2 * RUNS_PER_WRITER);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM steps", NULL), 4 * RUNS_PER_WRITER);
	assert_int_equal(q_int(&st, "SELECT count(*) FROM metrics", NULL), 4 * RUNS_PER_WRITER);
	assert_text(&st, "PRAGMA integrity_check", NULL, "ok");
	store_close(&st);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_migrate_new_home),
		T(test_migrate_empty_file),
		T(test_migrate_fixtures),
		T(test_migrate_chain),
		T(test_newer_schema_refused),
		T(test_pragmas),
		T(test_rollback_leaves_nothing),
		T(test_failing_statement_rolls_back_change),
		T(test_busy_error_message),
		T(test_run_rows),
		T(test_step_upsert),
		T(test_metrics),
		T(test_cache_lookup),
		T(test_outputs_each),
		T(test_model_register),
		T(test_transitions_append_only),
		T(test_killed_run_is_interrupted),
		T(test_live_run_not_interrupted),
		T(test_concurrent_writers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
