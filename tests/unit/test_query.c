/* test_query.c - unit tests of registry/query.c and registry/lineage.c on a store filled through the
 * store API in a scratch directory: run listing and filters, show by prefix, diff, lineage, registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "registry/query.h"
#include "registry/store.h"

static char scratch[256];
static struct store st;

#define R1 "20261125-100000-aaaaaa"
#define R2 "20261125-110000-aaabbb"
#define R3 "20261125-120000-cccccc"
#define C1 "1111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222"
#define C3 "3333333333333333333333333333333333333333"
/* raw input, ingest's dataset, train's model, r3's model, a self-produced artifact */
#define D_RAW    "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0"
#define D_DATA   "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
#define D_MODEL  "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2"
#define D_MODEL3 "c2c2c2c2d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3"
#define D_LOOP   "e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4"

static void ok(int r, struct err *e)
{
	if (r < 0)
		fail_msg("%s", err_msg(e));
}

static void run_begin(const char *id, const char *pipeline, const char *commit, const char *branch, const char *params,
		      int64_t started)
{
	struct err e = ERR_INIT;
	struct store_run r;
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.pipeline = pipeline;
	r.repo = "/src/repo";
	r.commit_id = commit;
	r.branch = branch;
	r.trigger = "manual";
	r.status = "running";
	r.params_json = params;
	r.started_ms = started;
	ok(store_run_begin(&st, &r, &e), &e);
	err_release(&e);
}

static void step(const char *run, const char *component, const char *phase, const char *status, int64_t started,
		 const char *key, const char *cached_from)
{
	struct err e = ERR_INIT;
	struct store_step s;
	char log[512];
	memset(&s, 0, sizeof(s));
	snprintf(log, sizeof(log), "%s/logs/%s/%s.log", scratch, run, component);
	s.run = run;
	s.component = component;
	s.phase = phase;
	s.status = status;
	s.started_ms = started;
	s.finished_ms = started ? started + 1500 : 0;
	s.duration_ms = started ? 1500 : 0;
	s.has_exit_code = started != 0;
	s.exit_code = strcmp(status, "failed") ? 0 : 1;
	s.cache_key = key;
	s.cached_from = cached_from;
	s.log_path = log;
	ok(store_step_put(&st, &s, &e), &e);
	err_release(&e);
}

static void event(const char *run, const char *component, const char *digest, const char *kind, const char *name)
{
	struct err e = ERR_INIT;
	ok(store_event_put(&st, run, component, digest, kind, name, &e), &e);
	err_release(&e);
}

static void finish(const char *run, const char *status, int64_t at)
{
	struct err e = ERR_INIT;
	ok(store_run_finish(&st, run, status, at, NULL, &e), &e);
	err_release(&e);
}

static int64_t reg(const char *model, const char *run, const char *commit, const char *artifact, const char *metrics)
{
	struct err e = ERR_INIT;
	int64_t v = 0;
	int created = 0;
	ok(store_model_register(&st, model, run, commit, artifact, metrics, &v, &created, &e), &e);
	assert_int_equal(created, 1);
	err_release(&e);
	return v;
}

static int setup(void **state)
{
	struct err e = ERR_INIT;
	static const char *const arts[] = { D_RAW, D_DATA, D_MODEL, D_MODEL3, D_LOOP };
	(void)state;
	snprintf(scratch, sizeof(scratch), "%s/mlci-query.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(scratch))
		return -1;
	if (store_open(&st, scratch, &e) < 0) {
		fprintf(stderr, "%s\n", err_msg(&e));
		err_release(&e);
		return -1;
	}
	for (size_t i = 0; i < sizeof(arts) / sizeof(arts[0]); i++)
		ok(store_artifact_put(&st, arts[i], 2048 * (int64_t)(i + 1), "output", "file:///a", &e), &e);

	/* r1: ingest (raw -> dataset) then train (dataset -> model), registered as bc-model@1 */
	run_begin(R1, "bc", C1, "main", "{\"epochs\":\"10\",\"lr\":\"0.1\"}", 1000000);
	step(R1, "ingest", "build", "passed", 1000100, "k-ingest-build", NULL);
	step(R1, "ingest", "run", "passed", 1000300, "k-ingest", NULL);
	step(R1, "train", "run", "passed", 1000500, "k-train-1", NULL);
	event(R1, "ingest", D_RAW, "input", "raw");
	event(R1, "ingest", D_DATA, "output", "dataset");
	event(R1, "train", D_DATA, "input", "dataset");
	event(R1, "train", D_MODEL, "output", "model");
	ok(store_metric_put(&st, R1, "accuracy", "", 0.9, &e), &e);
	ok(store_metric_put(&st, R1, "accuracy", "age>50", 0.85, &e), &e);
	assert_int_equal(reg("bc-model", R1, C1, D_MODEL, "{\"accuracy\":0.9}"), 1);
	finish(R1, "passed", 1002000);

	/* r2: dev branch, ingest cached from r1 (its events recorded in r2 too), train failed */
	run_begin(R2, "bc", C2, "dev", "{\"epochs\":\"20\",\"lr\":\"0.1\"}", 2000000);
	step(R2, "ingest", "build", "passed", 2000100, "k-ingest-build", NULL);
	step(R2, "ingest", "run", "cached", 2000300, "k-ingest", R1);
	step(R2, "train", "run", "failed", 2000500, "k-train-2", NULL);
	event(R2, "ingest", D_DATA, "output", "dataset");
	ok(store_metric_put(&st, R2, "accuracy", "", 0.95, &e), &e);
	ok(store_metric_put(&st, R2, "loss", "", 0.2, &e), &e);
	finish(R2, "failed", 2003000);

	/* r3: another pipeline; a second model version and an artifact that claims to be its own input */
	run_begin(R3, "other", C3, "main", "{}", 3000000);
	step(R3, "train", "run", "passed", 3000100, "k-other", NULL);
	step(R3, "loop", "run", "passed", 3000200, "k-loop", NULL);
	event(R3, "train", D_MODEL3, "output", "model");
	event(R3, "loop", D_LOOP, "input", "self");
	event(R3, "loop", D_LOOP, "output", "self");
	assert_int_equal(reg("bc-model", R3, C3, D_MODEL3, "{\"accuracy\":0.97}"), 2);
	finish(R3, "passed", 3001000);

	if (sqlite3_exec(store_db(&st),
			 "INSERT INTO stage_transitions(model, version, environment, from_stage, to_stage, actor,"
			 " reason, state_commit, time_ms) VALUES ('bc-model', 1, 'test', NULL, 'test', 'ci', 'auto',"
			 " 'abcdef0123456789', 1003000)",
			 NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	err_release(&e);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_close(&st);
	return fs_rm_rf(scratch, NULL);
}

static const char *str(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	return s ? s : "(null)";
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static cJSON *runs(const char *pipeline, const char *branch, const char *status, int limit)
{
	struct query_runs_filter f = { pipeline, branch, status, limit };
	struct err e = ERR_INIT;
	cJSON *out = NULL;
	ok(query_runs(&st, &f, &out, &e), &e);
	err_release(&e);
	return out;
}

static void test_runs_order_filters_limit(void **state)
{
	cJSON *r;
	(void)state;
	r = runs(NULL, NULL, NULL, 0);
	assert_int_equal(cJSON_GetArraySize(r), 3);
	assert_string_equal(str(cJSON_GetArrayItem(r, 0), "id"), R3);
	assert_string_equal(str(cJSON_GetArrayItem(r, 1), "id"), R2);
	assert_string_equal(str(cJSON_GetArrayItem(r, 2), "id"), R1);
	assert_int_equal((int)num(cJSON_GetArrayItem(r, 1), "steps"), 3);
	assert_int_equal((int)num(cJSON_GetArrayItem(r, 1), "steps_cached"), 1);
	assert_int_equal((int)num(cJSON_GetArrayItem(r, 2), "duration_ms"), 2000);
	assert_string_equal(str(cJSON_GetArrayItem(r, 2), "started"), "1970-01-01T00:16:40Z");
	cJSON_Delete(r);

	r = runs("bc", NULL, NULL, 0);
	assert_int_equal(cJSON_GetArraySize(r), 2);
	assert_string_equal(str(cJSON_GetArrayItem(r, 0), "id"), R2);
	cJSON_Delete(r);
	r = runs(NULL, "main", NULL, 0);
	assert_int_equal(cJSON_GetArraySize(r), 2);
	assert_string_equal(str(cJSON_GetArrayItem(r, 0), "id"), R3);
	assert_string_equal(str(cJSON_GetArrayItem(r, 1), "id"), R1);
	cJSON_Delete(r);
	r = runs(NULL, NULL, "failed", 0);
	assert_int_equal(cJSON_GetArraySize(r), 1);
	assert_string_equal(str(cJSON_GetArrayItem(r, 0), "status"), "failed");
	cJSON_Delete(r);
	r = runs("bc", "main", "failed", 0);
	assert_int_equal(cJSON_GetArraySize(r), 0);
	cJSON_Delete(r);
	r = runs(NULL, NULL, NULL, 1);
	assert_int_equal(cJSON_GetArraySize(r), 1);
	assert_string_equal(str(cJSON_GetArrayItem(r, 0), "id"), R3);
	cJSON_Delete(r);
}

static void test_show_by_prefix(void **state)
{
	struct err e = ERR_INIT;
	cJSON *r = NULL, *steps, *arts, *mets, *s;
	(void)state;
	ok(query_run_show(&st, "20261125-11", &r, &e), &e);
	assert_string_equal(str(r, "id"), R2);
	assert_string_equal(str(r, "status"), "failed");
	assert_string_equal(str(r, "branch"), "dev");
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(r, "params"), "epochs"), "20");
	steps = cJSON_GetObjectItemCaseSensitive(r, "steps");
	assert_int_equal(cJSON_GetArraySize(steps), 3);
	s = cJSON_GetArrayItem(steps, 1); /* in start order */
	assert_string_equal(str(s, "component"), "ingest");
	assert_string_equal(str(s, "phase"), "run");
	assert_string_equal(str(s, "status"), "cached");
	assert_string_equal(str(s, "cached_from"), R1);
	assert_string_equal(str(s, "cache_key"), "k-ingest");
	assert_non_null(strstr(str(s, "log_path"), "/logs/" R2 "/ingest.log"));
	s = cJSON_GetArrayItem(steps, 2);
	assert_string_equal(str(s, "component"), "train");
	assert_int_equal((int)num(s, "exit_code"), 1);
	assert_int_equal((int)num(s, "duration_ms"), 1500);
	arts = cJSON_GetObjectItemCaseSensitive(r, "artifacts");
	assert_int_equal(cJSON_GetArraySize(arts), 1);
	assert_string_equal(str(cJSON_GetArrayItem(arts, 0), "digest"), D_DATA);
	assert_string_equal(str(cJSON_GetArrayItem(arts, 0), "kind"), "output");
	assert_int_equal((int)num(cJSON_GetArrayItem(arts, 0), "size"), 4096);
	mets = cJSON_GetObjectItemCaseSensitive(r, "metrics");
	assert_int_equal(cJSON_GetArraySize(mets), 2);
	assert_string_equal(str(cJSON_GetArrayItem(mets, 1), "name"), "loss");
	cJSON_Delete(r);

	/* the full id works, and an exact id is never ambiguous */
	ok(query_run_show(&st, R1, &r, &e), &e);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "models")), 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "artifacts")), 4);
	cJSON_Delete(r);
	err_release(&e);
}

static void test_show_errors(void **state)
{
	struct err e = ERR_INIT;
	cJSON *r = NULL;
	(void)state;
	assert_int_equal(query_run_show(&st, "20261125-1", &r, &e), -1);
	assert_null(r);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_non_null(strstr(err_msg(&e), "ambiguous run id '20261125-1'"));
	assert_non_null(strstr(err_msg(&e), R1));
	assert_int_equal(query_run_show(&st, "nope", &r, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_string_equal(err_msg(&e), "unknown run 'nope'");
	/* a LIKE wildcard is not a prefix */
	assert_int_equal(query_run_show(&st, "%", &r, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	err_release(&e);
}

static const cJSON *find(const cJSON *arr, const char *key, const char *value, const char *key2, const char *value2)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, arr) {
		if (!strcmp(str(x, key), value) && (!key2 || !strcmp(str(x, key2), value2)))
			return x;
	}
	fail_msg("no %s=%s in the array", key, value);
	return NULL;
}

static void test_diff(void **state)
{
	struct err e = ERR_INIT;
	cJSON *d = NULL;
	const cJSON *p, *m, *steps;
	(void)state;
	ok(query_run_diff(&st, "20261125-10", "20261125-11", &d, &e), &e);
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(d, "a"), "id"), R1);
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(d, "b"), "id"), R2);
	p = cJSON_GetObjectItemCaseSensitive(d, "params");
	assert_int_equal(cJSON_GetArraySize(p), 2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(find(p, "name", "epochs", NULL, NULL), "differs")));
	assert_string_equal(str(find(p, "name", "epochs", NULL, NULL), "a"), "10");
	assert_string_equal(str(find(p, "name", "epochs", NULL, NULL), "b"), "20");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(find(p, "name", "lr", NULL, NULL), "differs")));
	m = cJSON_GetObjectItemCaseSensitive(d, "metrics");
	assert_int_equal(cJSON_GetArraySize(m), 3);
	assert_float_equal(num(find(m, "name", "accuracy", "slice", ""), "delta"), 0.05, 1e-9);
	assert_true(
		cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(find(m, "name", "accuracy", "slice", ""), "differs")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(find(m, "name", "loss", NULL, NULL), "a")));
	assert_true(
		cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(find(m, "name", "accuracy", "slice", "age>50"), "b")));
	/* ingest: same key, passed vs cached -> listed; ingest build identical -> not listed */
	steps = cJSON_GetObjectItemCaseSensitive(d, "steps");
	assert_int_equal(cJSON_GetArraySize(steps), 2);
	assert_string_equal(str(find(steps, "component", "train", NULL, NULL), "b_status"), "failed");
	assert_string_equal(str(find(steps, "component", "train", NULL, NULL), "b_cache_key"), "k-train-2");
	assert_string_equal(str(find(steps, "component", "ingest", NULL, NULL), "b_status"), "cached");
	assert_int_equal((int)num(d, "differences"), 1 + 3 + 2);
	cJSON_Delete(d);

	assert_int_equal(query_run_diff(&st, R1, "zzz", &d, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_null(d);
	err_release(&e);
}

static void test_lineage_model(void **state)
{
	struct err e = ERR_INIT;
	cJSON *l = NULL;
	const cJSON *m, *a, *p, *in, *raw;
	(void)state;
	ok(query_lineage(&st, "bc-model@1", 0, &l, &e), &e);
	assert_string_equal(str(l, "kind"), "model");
	m = cJSON_GetObjectItemCaseSensitive(l, "model");
	assert_string_equal(str(m, "run"), R1);
	assert_string_equal(str(m, "commit"), C1);
	a = cJSON_GetObjectItemCaseSensitive(l, "artifact");
	assert_string_equal(str(a, "digest"), D_MODEL);
	p = cJSON_GetObjectItemCaseSensitive(a, "produced_by");
	assert_string_equal(str(p, "run"), R1);
	assert_string_equal(str(p, "component"), "train");
	assert_string_equal(str(p, "name"), "model");
	assert_string_equal(str(p, "commit"), C1);
	/* model <- train's input: ingest's dataset <- ingest's input: raw (produced by nothing recorded) */
	in = cJSON_GetObjectItemCaseSensitive(a, "inputs");
	assert_int_equal(cJSON_GetArraySize(in), 1);
	in = cJSON_GetArrayItem(in, 0);
	assert_string_equal(str(in, "digest"), D_DATA);
	assert_string_equal(str(in, "as"), "dataset");
	p = cJSON_GetObjectItemCaseSensitive(in, "produced_by");
	assert_string_equal(str(p, "component"), "ingest");
	assert_string_equal(str(p, "run"), R1); /* the producer in the model's own run, not r2's cached copy */
	raw = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(in, "inputs"), 0);
	assert_non_null(raw);
	assert_string_equal(str(raw, "digest"), D_RAW);
	assert_string_equal(str(raw, "as"), "raw");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(raw, "produced_by")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(raw, "inputs")), 0);
	cJSON_Delete(l);

	/* depth 1 stops below the model's inputs and says so */
	ok(query_lineage(&st, "bc-model@1", 1, &l, &e), &e);
	in = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "artifact"), "inputs"), 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "truncated")));
	cJSON_Delete(l);

	/* MODEL alone is its latest version */
	ok(query_lineage(&st, "bc-model", 0, &l, &e), &e);
	assert_int_equal((int)num(cJSON_GetObjectItemCaseSensitive(l, "model"), "version"), 2);
	cJSON_Delete(l);

	assert_int_equal(query_lineage(&st, "bc-model@9", 0, &l, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_int_equal(query_lineage(&st, "bc-model@x", 0, &l, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_int_equal(query_lineage(&st, "nothing", 0, &l, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_null(l);
	err_release(&e);
}

static void test_lineage_digest(void **state)
{
	struct err e = ERR_INIT;
	cJSON *l = NULL;
	const cJSON *a, *in;
	(void)state;
	ok(query_lineage(&st, "sha256:B1B1B1B1", 0, &l, &e), &e);
	assert_string_equal(str(l, "kind"), "artifact");
	a = cJSON_GetObjectItemCaseSensitive(l, "artifact");
	assert_string_equal(str(a, "digest"), D_DATA);
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(a, "produced_by"), "component"), "ingest");
	cJSON_Delete(l);

	/* too short, ambiguous */
	assert_int_equal(query_lineage(&st, "b1b1b1", 0, &l, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_int_equal(query_lineage(&st, "c2c2c2c2", 0, &l, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_non_null(strstr(err_msg(&e), "ambiguous"));

	/* an artifact recorded as its own input ends the walk instead of looping */
	ok(query_lineage(&st, D_LOOP, 0, &l, &e), &e);
	a = cJSON_GetObjectItemCaseSensitive(l, "artifact");
	in = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "inputs"), 0);
	assert_non_null(in);
	assert_string_equal(str(in, "digest"), D_LOOP);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "seen")));
	assert_null(cJSON_GetObjectItemCaseSensitive(in, "inputs"));
	cJSON_Delete(l);
	err_release(&e);
}

static void test_registry(void **state)
{
	struct err e = ERR_INIT;
	cJSON *o = NULL, *v;
	const cJSON *t;
	(void)state;
	ok(query_models(&st, &o, &e), &e);
	assert_int_equal(cJSON_GetArraySize(o), 1);
	v = cJSON_GetArrayItem(o, 0);
	assert_string_equal(str(v, "model"), "bc-model");
	assert_int_equal((int)num(v, "latest_version"), 2);
	assert_int_equal((int)num(v, "versions"), 2);
	assert_string_equal(str(v, "latest_run"), R3);
	cJSON_Delete(o);

	ok(query_model_show(&st, "bc-model", &o, &e), &e);
	v = cJSON_GetObjectItemCaseSensitive(o, "versions");
	assert_int_equal(cJSON_GetArraySize(v), 2);
	assert_int_equal((int)num(cJSON_GetArrayItem(v, 0), "version"), 2);
	assert_int_equal((int)num(cJSON_GetArrayItem(v, 0), "previous"), 1);
	assert_string_equal(str(cJSON_GetArrayItem(v, 0), "artifact"), D_MODEL3);
	assert_float_equal(num(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(v, 1), "metrics"), "accuracy"), 0.9,
			   1e-9);
	cJSON_Delete(o);

	ok(query_model_show(&st, "bc-model@1", &o, &e), &e);
	assert_int_equal((int)num(o, "version"), 1);
	assert_string_equal(str(o, "run"), R1);
	assert_string_equal(str(o, "branch"), "main");
	assert_string_equal(str(o, "run_status"), "passed");
	t = cJSON_GetObjectItemCaseSensitive(o, "transitions");
	assert_int_equal(cJSON_GetArraySize(t), 1);
	assert_string_equal(str(cJSON_GetArrayItem(t, 0), "environment"), "test");
	assert_string_equal(str(cJSON_GetArrayItem(t, 0), "state_commit"), "abcdef0123456789");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(t, 0), "from")));
	cJSON_Delete(o);

	assert_int_equal(query_model_show(&st, "nope", &o, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_string_equal(err_msg(&e), "unknown model 'nope'");
	assert_int_equal(query_model_show(&st, "bc-model@3", &o, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_null(o);
	err_release(&e);
}

static void test_no_database(void **state)
{
	struct err e = ERR_INIT;
	struct store other;
	char dir[300];
	(void)state;
	snprintf(dir, sizeof(dir), "%s/empty-home", scratch);
	assert_int_equal(query_store_open(&other, dir, &e), 0);
	assert_false(fs_exists(dir)); /* listing nothing creates nothing */
	assert_int_equal(query_store_open(&other, scratch, &e), 1);
	store_close(&other);
	err_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs_order_filters_limit),
		cmocka_unit_test(test_show_by_prefix),
		cmocka_unit_test(test_show_errors),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_lineage_model),
		cmocka_unit_test(test_lineage_digest),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_no_database),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
