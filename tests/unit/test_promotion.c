/* test_promotion.c - unit tests of the promotion seam without any engine run: a run record and typed
 * environment states driven through promote_after_run, cd_apply (state commit, transitions, deploy hook,
 * restore on failure, candidate row) and the incremental reconciliation, against a scratch store and a
 * scratch bare state repo; env_state's JSON round trip; one session parses the policy and opens the
 * state repo once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd/apply.h"
#include "common/clock.h"
#include "cd/candidate.h"
#include "cd/env_state.h"
#include "cd/promote.h"
#include "cd/reconcile.h"
#include "cd/session.h"
#include "cd/state.h"
#include "common/fs.h"
#include "common/path.h"
#include "registry/store.h"
#include "registry/store_promotions.h"
#include "testutil.h"

struct fx {
	char *home;
	char *deployed; /* what the deploy hook of "test" wrote */
};

static const char policy[] = "environments:\n"
			     "  test: { promote: auto, branches: [\"dev/*\"], deploy: { command: \"cp "
			     "\\\"$MLCI_STATE_JSON\\\" \\\"$MLCI_DEPLOY_OUT/test.json\\\"\" } }\n"
			     "  broken: { promote: auto, branches: [\"broken/*\"], deploy: { command: \"exit 7\" } }\n"
			     "  staging: { promote: semi, branches: [main], approvals: 1 }\n";

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *p;
	f->home = test_scratch_dir("promotion");
	if (!f->home)
		return -1;
	p = path_join(f->home, "policy.yaml");
	if (fs_write_atomic(p, policy, strlen(policy), 0644, NULL) < 0)
		return -1;
	free(p);
	f->deployed = path_join(f->home, "deployed");
	if (fs_mkdir_p(f->deployed, 0755, NULL) < 0)
		return -1;
	setenv("MLCI_DEPLOY_OUT", f->deployed, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	test_scratch_remove(f->home);
	free(f->deployed);
	free(f);
	return 0;
}

/* A finished, passed run of pipeline "p" on "branch" that registered model "m" with artifact "digest"
 * (the run row, the artifact, its output event and the version are put in the store). */
static void make_run(struct store *st, struct run_record *rec, const char *id, const char *branch, const char *commit,
		     const char *digest)
{
	struct store_run r;
	struct err e = ERR_INIT;
	int created = 0;
	run_record_init(rec);
	snprintf(rec->id, sizeof(rec->id), "%s", id);
	rec->status = RUN_PASSED;
	rec->pipeline = strdup("p");
	rec->model = strdup("m");
	rec->repo = strdup("/nowhere");
	rec->branch = strdup(branch);
	snprintf(rec->commit, sizeof(rec->commit), "%s", commit);
	rec->message = strdup("change\n\nReviewed-by: Rita <rita@example.com>\n");
	rec->author_name = strdup("Dev");
	rec->author_email = strdup("dev@example.com");
	run_record_add_output(rec, "train", "model.txt", digest, 3);
	snprintf(rec->model_digest, sizeof(rec->model_digest), "%s", digest);
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.pipeline = "p";
	r.repo = "/nowhere";
	r.commit_id = commit;
	r.branch = branch;
	r.trigger = "manual";
	r.status = "running";
	r.started_ms = clock_wall_ms();
	assert_int_equal(store_run_begin(st, &r, &e), 0);
	assert_int_equal(store_artifact_put(st, digest, 3, "output", "/nowhere", &e), 0);
	assert_int_equal(store_event_put(st, id, "train", digest, "output", "model.txt", &e), 0);
	assert_int_equal(store_model_register(st, "m", id, commit, digest, "{}", &rec->model_version, &created, &e), 0);
	assert_int_equal(store_run_finish(st, id, "passed", clock_wall_ms(), NULL, &e), 0);
	err_release(&e);
}

static int64_t count(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t n = -1;
	assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static const char d1[] = "1111111111111111111111111111111111111111111111111111111111111111";
static const char d2[] = "2222222222222222222222222222222222222222222222222222222222222222";
static const char c1[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char c2[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/* A run on dev/x is promoted to test: one state commit holding the record's state, an entering
 * transition, a promotions row, the deploy hook ran with the state; the session parsed the policy once
 * and opened the state repo once. A second version replaces it: entering and leaving rows. */
static void test_auto_promotion(void **state)
{
	struct fx *f = *state;
	struct cd_session s;
	struct store *st;
	struct run_record r1, r2;
	struct promote_outcome out;
	struct state_repo *sr;
	struct env_state got;
	struct err e = ERR_INIT;
	char *deployed;
	int parses = policy_parse_count(), opens = state_open_count();

	cd_session_init(&s, f->home, NULL, NULL);
	assert_int_equal(cd_session_store(&s, &st, &e), 0);
	make_run(st, &r1, "run-1", "dev/x", c1, d1);
	assert_int_equal(promote_after_run(&s, &r1, "alice", &out, &e), 0);
	assert_int_equal(out.action, PROMOTE_DONE);
	assert_string_equal(out.environment, "test");
	assert_int_equal(strlen(out.state_commit), 40);
	assert_int_equal(policy_parse_count(), parses + 1);
	assert_int_equal(state_open_count(), opens + 1);
	/* what the state repo holds is the record's state */
	assert_int_equal(cd_session_state(&s, 0, &sr, &e), 0);
	assert_int_equal(state_read(sr, "p", "test", &got, NULL, &e), 1);
	assert_string_equal(got.commit, c1);
	assert_string_equal(got.run, "run-1");
	assert_int_equal(got.model_version, r1.model_version);
	assert_string_equal(got.model_artifact, d1);
	assert_int_equal(got.n_artifacts, 1);
	assert_string_equal(got.artifacts[0].name, "train/model.txt");
	assert_string_equal(got.rule, "auto");
	assert_string_equal(got.promoted_by, "alice");
	env_state_release(&got);
	/* the deploy hook got it */
	deployed = path_join(f->deployed, "test.json");
	assert_true(fs_is_file(deployed));
	free(deployed);
	assert_int_equal(count(st, "SELECT count(*) FROM stage_transitions WHERE to_stage = 'test'"), 1);
	assert_int_equal(count(st, "SELECT count(*) FROM promotions WHERE status = 'promoted'"), 1);
	promote_outcome_release(&out);
	/* the same again: nothing to promote, nothing written */
	assert_int_equal(promote_after_run(&s, &r1, "alice", &out, &e), 0);
	assert_int_equal(out.action, PROMOTE_NONE);
	assert_non_null(strstr(out.detail, "already runs commit"));
	promote_outcome_release(&out);
	/* a new version replaces it: one row entering, one leaving ("replaced by m@2") */
	make_run(st, &r2, "run-2", "dev/x", c2, d2);
	assert_int_equal(promote_after_run(&s, &r2, "alice", &out, &e), 0);
	assert_int_equal(out.action, PROMOTE_DONE);
	assert_int_equal(count(st, "SELECT count(*) FROM stage_transitions WHERE version = 1 AND from_stage = 'test' "
				   "AND to_stage = 'replaced' AND reason = 'replaced by m@2'"),
			 1);
	assert_int_equal(count(st, "SELECT count(*) FROM stage_transitions WHERE version = 2 AND to_stage = 'test'"),
			 1);
	assert_int_equal(policy_parse_count(), parses + 1);
	assert_int_equal(state_open_count(), opens + 1);
	promote_outcome_release(&out);
	run_record_release(&r1);
	run_record_release(&r2);
	cd_session_release(&s);
	err_release(&e);
}

/* A deploy hook that fails: the state is committed, then restored by a second commit marked
 * deploy_failed; the failed version gets a rolled-back row even on a first deploy; the row says failed. */
static void test_failed_first_deploy(void **state)
{
	struct fx *f = *state;
	struct cd_session s;
	struct store *st;
	struct run_record r;
	struct promote_outcome out;
	struct state_repo *sr;
	struct env_state got;
	struct err e = ERR_INIT;

	cd_session_init(&s, f->home, NULL, NULL);
	assert_int_equal(cd_session_store(&s, &st, &e), 0);
	make_run(st, &r, "run-b", "broken/x", c1, d1);
	assert_int_equal(promote_after_run(&s, &r, "alice", &out, &e), 0);
	assert_int_equal(out.action, PROMOTE_FAILED);
	assert_non_null(strstr(out.detail, "deploy to broken failed, rolled back"));
	assert_non_null(strstr(out.detail, "exited with status 7"));
	assert_int_equal(cd_session_state(&s, 0, &sr, &e), 0);
	assert_int_equal(state_read(sr, "p", "broken", &got, NULL, &e), 1);
	assert_int_equal(got.model_version, 0);
	assert_non_null(got.failed_commit);
	assert_string_equal(got.note, "emptied: the first deploy failed");
	env_state_release(&got);
	assert_int_equal(count(st, "SELECT count(*) FROM stage_transitions WHERE environment = 'broken' AND to_stage = "
				   "'rolled-back'"),
			 1);
	assert_int_equal(count(st, "SELECT count(*) FROM promotions WHERE environment = 'broken' AND status = "
				   "'failed'"),
			 1);
	promote_outcome_release(&out);
	run_record_release(&r);
	cd_session_release(&s);
	err_release(&e);
}

/* semi without enough approvals: a pending row, nothing written to the state repo for staging. */
static void test_semi_pending(void **state)
{
	struct fx *f = *state;
	struct cd_session s;
	struct store *st;
	struct run_record r;
	struct promote_outcome out;
	struct err e = ERR_INIT;

	cd_session_init(&s, f->home, NULL, NULL);
	assert_int_equal(cd_session_store(&s, &st, &e), 0);
	make_run(st, &r, "run-m", "main", c1, d1);
	free(r.message);
	r.message = strdup("no review\n");
	assert_int_equal(promote_after_run(&s, &r, "alice", &out, &e), 0);
	assert_int_equal(out.action, PROMOTE_PENDING);
	assert_non_null(strstr(out.detail, "approvals 0/1"));
	assert_int_equal(count(st, "SELECT count(*) FROM promotions WHERE environment = 'staging' AND status = "
				   "'pending'"),
			 1);
	promote_outcome_release(&out);
	/* the author's own trailer does not count; someone else's does */
	free(r.message);
	r.message = strdup("x\n\nReviewed-by: Dev <dev@example.com>\nReviewed-by: Rita <rita@example.com>\n");
	assert_int_equal(promote_after_run(&s, &r, "alice", &out, &e), 0);
	assert_int_equal(out.action, PROMOTE_DONE);
	promote_outcome_release(&out);
	run_record_release(&r);
	cd_session_release(&s);
	err_release(&e);
}

/* Reconciliation reads only the state commits made since the last one it read: three commits written
 * without registry rows (a crash after each), one reconcile adds their rows; a fourth commit, the next
 * reconcile reads one. */
static void test_incremental_reconcile(void **state)
{
	struct fx *f = *state;
	struct cd_session s;
	struct store *st;
	struct state_repo *sr;
	struct run_record r1, r2;
	struct err e = ERR_INIT;
	char c[41];
	int added = 0;

	cd_session_init(&s, f->home, NULL, NULL);
	assert_int_equal(cd_session_store(&s, &st, &e), 0);
	make_run(st, &r1, "run-r1", "dev/x", c1, d1);
	make_run(st, &r2, "run-r2", "dev/x", c2, d2);
	assert_int_equal(cd_reconcile(&s, &added, &e), 0); /* nothing yet: marks the empty repo */
	assert_int_equal(added, 0);
	assert_int_equal(cd_session_state(&s, 0, &sr, &e), 0);
	for (int i = 0; i < 3; i++) {
		struct env_state x;
		cd_state_from_record(&x, i % 2 ? &r2 : &r1, "qa");
		cd_state_stamp(&x, "qa", "auto", "bob", NULL, NULL);
		assert_int_equal(state_write(sr, "p", "qa", &x, "bob", "promote", c, &e), 0);
		env_state_release(&x);
	}
	cd_session_release(&s);
	/* a new command: its session reconciles the three commits */
	cd_session_init(&s, f->home, NULL, NULL);
	assert_int_equal(cd_reconcile(&s, &added, &e), 0);
	assert_int_equal(added, 3);
	assert_int_equal(cd_reconcile_commits_read(), 3);
	assert_int_equal(cd_session_store(&s, &st, &e), 0);
	assert_int_equal(count(st,
			       "SELECT count(*) FROM stage_transitions WHERE environment = 'qa' AND to_stage = 'qa' "
			       "AND reason = 'reconciled from the state repo'"),
			 3);
	assert_int_equal(cd_session_state(&s, 0, &sr, &e), 0);
	{
		struct env_state x;
		cd_state_from_record(&x, &r2, "qa");
		cd_state_stamp(&x, "qa", "auto", "bob", NULL, NULL);
		assert_int_equal(state_write(sr, "p", "qa", &x, "bob", "promote", c, &e), 0);
		env_state_release(&x);
	}
	cd_session_release(&s);
	cd_session_init(&s, f->home, NULL, NULL);
	assert_int_equal(cd_reconcile(&s, &added, &e), 0);
	assert_int_equal(added, 1);
	assert_int_equal(cd_reconcile_commits_read(), 1);
	/* once per session */
	assert_int_equal(cd_reconcile(&s, &added, &e), 0);
	assert_int_equal(added, 0);
	run_record_release(&r1);
	run_record_release(&r2);
	cd_session_release(&s);
	err_release(&e);
}

/* env_state: every field survives a JSON round trip, unknown members are kept, bad types are errors. */
static void test_env_state_json(void **state)
{
	struct env_state a, b;
	struct err e = ERR_INIT;
	cJSON *j, *extra;
	char *t1, *t2;
	(void)state;
	env_state_init(&a);
	env_state_set(&a.environment, "production");
	env_state_set(&a.pipeline, "p");
	env_state_set(&a.commit, c1);
	env_state_set(&a.branch, "main");
	env_state_set(&a.run, "run-1");
	env_state_set(&a.model_name, "m");
	a.model_version = 3;
	env_state_set(&a.model_artifact, d1);
	env_state_add_artifact(&a, "train/model.txt", d1);
	env_state_set(&a.rule, "manual");
	env_state_set(&a.promoted_by, "alice");
	strvec_push(&a.approvals, "bob");
	env_state_set(&a.promoted_at, "2026-12-04T10:00:00Z");
	env_state_set(&a.reason, "release");
	a.rolled_back_from = 2;
	verdicts_add(&a.gates, "min_staging_runs", "gate", VERDICT_PASS, NULL, 1, 0, "3 runs");
	env_state_set(&a.override_gate, "min_soak");
	env_state_set(&a.override_by, "carol");
	env_state_set(&a.override_reason, "incident 42");
	env_state_set(&a.failed_commit, c2);
	env_state_set(&a.failed_reason, "hook");
	j = env_state_to_json(&a);
	cJSON_AddStringToObject(j, "from_the_future", "kept");
	assert_int_equal(env_state_from_json(&b, j, &e), 0);
	cJSON_Delete(j);
	extra = cJSON_GetObjectItemCaseSensitive(b.extra, "from_the_future");
	assert_true(cJSON_IsString(extra));
	j = env_state_to_json(&b);
	t2 = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	cJSON_Delete(b.extra);
	b.extra = NULL;
	j = env_state_to_json(&b);
	t1 = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	j = env_state_to_json(&a);
	free(t1);
	t1 = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	assert_non_null(strstr(t2, "\"from_the_future\":\"kept\""));
	assert_int_equal(b.model_version, 3);
	assert_string_equal(b.gates.items[0].name, "min_staging_runs");
	assert_string_equal(b.override_reason, "incident 42");
	assert_string_equal(b.failed_commit, c2);
	free(t2);
	free(t1);
	env_state_release(&a);
	env_state_release(&b);
	/* a known member of the wrong type names it */
	assert_int_equal(env_state_parse(&b, "{\"model\": {\"version\": \"three\"}}", 31, "s", &e), -1);
	assert_non_null(strstr(err_msg(&e), "\"version\" is not a whole number"));
	err_release(&e);
	/* numbers an int64 cannot hold, or that are not whole, are refused rather than converted (the
	 * fuzzer's first find: 1.1e105 overflowed the conversion) */
	{
		static const char *const bad[] = { "{\"model\": {\"version\": 1.1e105}}",
						   "{\"model\": {\"version\": 2.5}}", "{\"rolled_back_from\": -1e19}" };
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			assert_int_equal(env_state_parse(&b, bad[i], strlen(bad[i]), "s", &e), -1);
			assert_non_null(strstr(err_msg(&e), "is not a whole number"));
			err_release(&e);
			env_state_release(&b);
		}
		assert_int_equal(env_state_parse(&b, "{\"model\": {\"version\": 7}}", 27, "s", &e), 0);
		assert_int_equal(b.model_version, 7);
		env_state_release(&b);
	}
	assert_int_equal(env_state_parse(&b, "[1]", 3, "s", &e), -1);
	err_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auto_promotion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_first_deploy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_semi_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incremental_reconcile, setup, teardown),
		cmocka_unit_test(test_env_state_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
