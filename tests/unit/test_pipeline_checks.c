/* test_pipeline_checks.c - unit tests of the pipeline checks' pure parts: convergence, the NaN scan,
 * thresholds, baseline tolerance and direction, slice gaps, infra rows, and the spec keys they use. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/infra.h"
#include "checks/model_checks.h"
#include "checks/training.h"
#include "spec/spec.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "tests/unit/testutil.h"
#include "common/banned.h"

static char *scratch;

static char *write_file(const char *name, const char *text)
{
	struct buf p = BUF_INIT;
	buf_addf(&p, "%s/%s", scratch, name);
	assert_int_equal(fs_write_atomic(p.ptr, text, strlen(text), 0644, NULL), 0);
	return buf_detach(&p, NULL);
}

static void parse_ok(struct spec *s, const char *yaml)
{
	struct diags d;
	spec_init(s);
	diags_init(&d);
	if (spec_parse_buffer(s, yaml, strlen(yaml), "mlci.yaml", &d) < 0) {
		struct buf b = BUF_INIT;
		diag_format(&d, 0, &b);
		fail_msg("%s", b.ptr);
	}
	diags_release(&d);
}

static int parse_fails_with(const char *yaml, const char *want)
{
	struct spec s;
	struct diags d;
	int found = 0;
	spec_init(&s);
	diags_init(&d);
	if (spec_parse_buffer(&s, yaml, strlen(yaml), "mlci.yaml", &d) < 0)
		for (size_t i = 0; i < d.n; i++) {
			struct buf b = BUF_INIT;
			diag_format(&d, i, &b);
			found |= strstr(b.ptr, want) != NULL;
			if (!found)
				print_message("diag: %s\n", b.ptr);
			buf_release(&b);
		}
	spec_release(&s);
	diags_release(&d);
	return found;
}

#define PIPE                                                                                                           \
	"pipeline: p\ncomponents:\n  t: {run: x, outputs: [history.csv, model.json]}\n"                                \
	"  e: {run: y, needs: [t], outputs: [metrics.json, slices.json]}\n"

static void test_converged(void **state)
{
	double dec[30], flat[30], first, last;
	size_t w;
	(void)state;
	for (int i = 0; i < 30; i++) {
		dec[i] = 1.0 / (1 + i);
		flat[i] = 0.5;
	}
	assert_int_equal(training_converged(dec, 30, 0, 0.9, &first, &last, &w), 1);
	assert_int_equal(w, 10); /* default window */
	assert_true(fabs(first - 0.29289682539682538) < 1e-12);
	assert_int_equal(training_converged(flat, 30, 5, 0.9, &first, &last, &w), 0);
	assert_true(first == 0.5 && last == 0.5 && w == 5);
	/* the window is capped at a third of the rows */
	assert_int_equal(training_converged(dec, 6, 10, 0.9, &first, &last, &w), 1);
	assert_int_equal(w, 2);
	assert_int_equal(training_converged(dec, 1, 0, 0.9, &first, &last, &w), -1);
	dec[3] = NAN;
	assert_int_equal(training_converged(dec, 30, 0, 0.9, &first, &last, &w), -1);
}

static void test_loss_column(void **state)
{
	const char *a[] = { "epoch", "val_loss", "loss" }, *b[] = { "epoch", "Train_Loss" }, *c[] = { "epoch", "acc" };
	(void)state;
	assert_int_equal(training_loss_column(a, 3), 2);
	assert_int_equal(training_loss_column(b, 2), 1);
	assert_int_equal(training_loss_column(c, 2), -1);
}

static void test_find_nan(void **state)
{
	uint64_t line = 0, col = 0;
	char tok[32];
	char *j1 = write_file("a.json",
			      "{\n  \"nan_count\": 1, \"note\": \"NaN in a string\",\n  \"w\": [1e-5, -Infinity]\n}\n");
	char *j2 = write_file("b.json", "{\"inference\": 1.5, \"info\": \"inf\"}\n");
	char *c1 = write_file("h.csv", "epoch,loss\n1,0.5\n2,nan\n");
	char *c2 = write_file("ok.csv", "name,x\ninfo,1e10\nnancy,2\n");
	(void)state;
	assert_int_equal(training_find_nan(j1, &line, &col, tok, NULL), 1);
	assert_int_equal(line, 3);
	assert_int_equal(col, 15);
	assert_string_equal(tok, "-Infinity");
	assert_int_equal(training_find_nan(j2, &line, &col, tok, NULL), 0);
	assert_int_equal(training_find_nan(c1, &line, &col, tok, NULL), 1);
	assert_int_equal(line, 3);
	assert_int_equal(col, 3);
	assert_string_equal(tok, "nan");
	assert_int_equal(training_find_nan(c2, &line, &col, tok, NULL), 0);
	free(j1);
	free(j2);
	free(c1);
	free(c2);
}

static void test_last_number(void **state)
{
	double x = 0;
	(void)state;
	assert_int_equal(training_last_number("epoch 1 loss 0.3\nepoch 2 loss 0.01\n", &x), 1);
	assert_true(x == 0.01);
	assert_int_equal(training_last_number("no numbers here", &x), 0);
}

static void test_lower_is_better(void **state)
{
	struct spec_strlist l;
	char *items[] = { "cost" };
	(void)state;
	l.items = items;
	l.n = 1;
	l.pos = NULL;
	assert_int_equal(model_lower_is_better("val_loss", NULL), 1);
	assert_int_equal(model_lower_is_better("error_rate", NULL), 1);
	assert_int_equal(model_lower_is_better("RMSE", NULL), 1);
	assert_int_equal(model_lower_is_better("latency_p99_ms", NULL), 1);
	assert_int_equal(model_lower_is_better("accuracy", NULL), 0);
	assert_int_equal(model_lower_is_better("roc_auc", NULL), 0);
	assert_int_equal(model_lower_is_better("glossary", NULL), 0); /* not a word part */
	assert_int_equal(model_lower_is_better("cost", &l), 1);
}

static void test_thresholds_and_baseline(void **state)
{
	struct spec s;
	struct verdicts v = VERDICTS_INIT;
	cJSON *m = cJSON_Parse("{\"accuracy\": 0.871, \"log_loss\": 0.25, \"auc\": 0.96}");
	cJSON *base = cJSON_Parse("{\"accuracy\": 0.972, \"log_loss\": 0.2, \"auc\": 0.965}");
	(void)state;
	parse_ok(&s, PIPE "checks:\n  model: {metrics: e/metrics.json, thresholds: {accuracy: \">= 0.90\", log_loss: "
			  "\"< 0.3\"}, baseline: production, tolerance: {accuracy: 0.01, log_loss: 10%, auc: 1%}}\n");
	model_check_thresholds(&v, &s.checks.model, m, "e/metrics.json");
	assert_int_equal(v.items[0].status, VERDICT_FAIL);
	assert_string_equal(v.items[0].summary, "accuracy 0.871 < 0.9 (threshold)");
	model_check_baseline(&v, &s.checks.model, m, base, "production", NULL);
	assert_int_equal(v.items[1].status, VERDICT_FAIL);
	/* accuracy dropped 0.101 > 0.01; log_loss rose 0.05 > 10% of 0.2; auc dropped 0.005 <= 1% of 0.965 */
	assert_string_equal(v.items[1].summary, "accuracy 0.871 vs production 0.972: -0.101 beyond tolerance 0.01; "
						"log_loss 0.250 vs production 0.200: +0.050 beyond tolerance 10%");
	model_check_baseline(&v, &s.checks.model, m, NULL, NULL, "no model in production");
	assert_int_equal(v.items[2].status, VERDICT_PASS);
	assert_string_equal(v.items[2].summary, "no baseline: skipped (no model in production)");
	/* a better model passes, improvements in either direction are fine */
	cJSON_Delete(m);
	m = cJSON_Parse("{\"accuracy\": 0.98, \"log_loss\": 0.1, \"auc\": 0.96}");
	model_check_baseline(&v, &s.checks.model, m, base, "production", NULL);
	assert_int_equal(v.items[3].status, VERDICT_PASS);
	model_check_thresholds(&v, &s.checks.model, m, "e/metrics.json");
	assert_int_equal(v.items[4].status, VERDICT_PASS);
	cJSON_Delete(m);
	cJSON_Delete(base);
	verdicts_release(&v);
	spec_release(&s);
}

static void test_slices(void **state)
{
	struct spec s;
	struct verdicts v = VERDICTS_INIT;
	cJSON *m = cJSON_Parse("{\"accuracy\": 0.95}");
	cJSON *ok = cJSON_Parse("{\"band\": {\"a\": {\"accuracy\": 0.97, \"rows\": 50}, \"b\": {\"accuracy\": 0.91, "
				"\"rows\": 40}}}");
	cJSON *bad = cJSON_Parse("{\"band\": {\"a\": {\"accuracy\": 0.99, \"rows\": 50}, \"b\": {\"accuracy\": 0.80, "
				 "\"rows\": 40}, \"c\": {\"accuracy\": 0.1, \"rows\": 3}}}");
	(void)state;
	parse_ok(&s, PIPE "checks:\n  model: {metrics: e/metrics.json, slices: {metrics: e/slices.json, max_gap: "
			  "{accuracy: 0.05}, min_rows: 10}}\n");
	model_check_slices(&v, &s.checks.model, m, ok, "e/slices.json");
	assert_int_equal(v.items[0].status, VERDICT_PASS);
	assert_string_equal(v.items[0].summary, "2 slices within max_gap of overall");
	model_check_slices(&v, &s.checks.model, m, bad, "e/slices.json");
	assert_int_equal(v.items[1].status, VERDICT_FAIL);
	assert_string_equal(v.items[1].summary,
			    "slice band=b accuracy 0.800 vs overall 0.950: gap 0.150 > max_gap 0.05; "
			    "too small: band=c (3 rows < 10)");
	cJSON_Delete(m);
	cJSON_Delete(ok);
	cJSON_Delete(bad);
	verdicts_release(&v);
	spec_release(&s);
}

static void test_infra(void **state)
{
	struct spec s;
	struct verdicts v = VERDICTS_INIT;
	struct infra_found f;
	char path[4096];
	(void)state;
	assert_int_equal(infra_which("sh", "/nonexistent:/bin:/usr/bin", path, sizeof(path)), 1);
	assert_int_equal(infra_which("no-such-cmd-xyz", "/bin:/usr/bin", path, sizeof(path)), 0);
	parse_ok(&s, PIPE "checks:\n  infra: {requires: {commands: [sh], memory: 2Gi, cpus: 2, disk: 1Gi, accelerator: "
			  "nvidia}}\n");
	infra_probe(&f, &s.checks.infra, "/tmp", "/bin:/usr/bin");
	assert_non_null(f.cmds[0].path);
	f.mem_available = (int64_t)1 << 30;
	f.cpus = 2;
	f.disk_free = (int64_t)10 << 30;
	f.nvidia = 0;
	infra_check(&v, &s.checks.infra, &f);
	assert_int_equal(v.items[0].status, VERDICT_FAIL);
	assert_non_null(strstr(v.items[0].summary, "on this machine: 2 of 5 unmet"));
	assert_non_null(strstr(v.items[0].summary, "memory: required 2.0Gi, found 1.0Gi (unmet)"));
	assert_non_null(strstr(v.items[0].summary, "accelerator: required nvidia, found none (unmet)"));
	assert_non_null(strstr(v.items[0].summary, "cpus: required 2, found 2;"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(v.items[0].details, "requirements")), 5);
	f.nvidia = 1;
	f.mem_available = (int64_t)4 << 30;
	infra_check(&v, &s.checks.infra, &f);
	assert_int_equal(v.items[1].status, VERDICT_PASS);
	infra_found_release(&f);
	verdicts_release(&v);
	spec_release(&s);
}

/* The remote probe's output goes through the same comparison as a local probe. */
static void test_infra_remote_parse(void **state)
{
	struct spec s;
	struct verdicts v = VERDICTS_INIT;
	struct infra_found f;
	struct err e = ERR_INIT;
	struct buf script = BUF_INIT;
	(void)state;
	parse_ok(&s, PIPE "checks:\n  infra: {requires: {commands: [sh, \"python3 >= 3.9\", \"gcc >= 99\", nope], "
			  "memory: 1Gi, cpus: 2, disk: 1Gi}}\n");
	infra_remote_script(&s.checks.infra, "mlci-deploy/test", &script);
	assert_non_null(strstr(script.ptr, "command -v 'nope'"));
	assert_non_null(strstr(script.ptr, "d='mlci-deploy/test'"));
	infra_found_init(&f);
	f.machine = xstrdup("deploy@127.0.0.1:2222");
	assert_int_equal(
		infra_parse_remote(&f, &s.checks.infra,
				   "mem_kb 2097152\ncpus 4\ndisk_path /home/deploy\ndisk_kb 1048\nnvidia 0\n"
				   "cmd 0 /bin/sh\ncmd 1 /usr/bin/python3\nver 1 Python 3.11.2 \ncmd 2 /usr/bin/gcc\n"
				   "ver 2 gcc (Debian 12.2.0-14) 12.2.0 \ncmd 3 \nend\n",
				   &e),
		0);
	assert_true(f.mem_available == (int64_t)2 << 30);
	assert_true(f.cpus == 4);
	assert_true(f.disk_free == 1048 * 1024);
	assert_string_equal(f.disk_path, "/home/deploy");
	assert_string_equal(f.cmds[1].version, "3.11.2");
	assert_string_equal(f.cmds[2].version, "12.2.0");
	assert_null(f.cmds[3].path);
	infra_check(&v, &s.checks.infra, &f);
	assert_int_equal(v.items[0].status, VERDICT_FAIL);
	assert_non_null(strstr(v.items[0].summary, "on deploy@127.0.0.1:2222: 3 of 7 unmet"));
	assert_non_null(strstr(v.items[0].summary, "command python3: required >= 3.9, found /usr/bin/python3 3.11.2;"));
	assert_non_null(strstr(v.items[0].summary, "command gcc: required >= 99, found /usr/bin/gcc 12.2.0 (unmet)"));
	assert_non_null(strstr(v.items[0].summary, "command nope: required on PATH, found not found (unmet)"));
	assert_non_null(strstr(v.items[0].summary, "disk: required 1.0Gi, found 1Mi (unmet)"));
	assert_string_equal(cJSON_GetObjectItem(v.items[0].details, "machine")->valuestring, "deploy@127.0.0.1:2222");
	infra_found_release(&f);
	/* a cut-off output is an error, not a pass */
	infra_found_init(&f);
	assert_int_equal(infra_parse_remote(&f, &s.checks.infra, "mem_kb 1\n", &e), -1);
	infra_found_release(&f);
	err_release(&e);
	buf_release(&script);
	verdicts_release(&v);
	spec_release(&s);
}

static void test_infra_versions(void **state)
{
	char *name, *minv, v[64];
	(void)state;
	assert_int_equal(infra_parse_command("python3 >= 3.9", &name, &minv), 0);
	assert_string_equal(name, "python3");
	assert_string_equal(minv, "3.9");
	free(name);
	free(minv);
	assert_int_equal(infra_parse_command("gcc>=12", &name, &minv), 0);
	assert_string_equal(name, "gcc");
	assert_string_equal(minv, "12");
	free(name);
	free(minv);
	assert_int_equal(infra_parse_command("sh", &name, &minv), 0);
	assert_null(minv);
	free(name);
	assert_int_equal(infra_parse_command("python3 >= three", &name, &minv), -1);
	assert_int_equal(infra_parse_command(">= 3", &name, &minv), -1);
	assert_int_equal(infra_find_version("Python 3.11.2\n", v, sizeof(v)), 1);
	assert_string_equal(v, "3.11.2");
	assert_int_equal(infra_find_version("git version 2.39.5 (x86_64-linux-gnu2.0)", v, sizeof(v)), 1);
	assert_string_equal(v, "2.39.5");
	assert_int_equal(infra_find_version("no version 12 here", v, sizeof(v)), 0);
	assert_true(infra_version_cmp("3.10", "3.9") > 0);
	assert_true(infra_version_cmp("3.9", "3.9.0") == 0);
	assert_true(infra_version_cmp("3", "3.1") < 0);
	assert_true(infra_version_cmp("2.39.5", "2.39") > 0);
}

static void test_spec_keys(void **state)
{
	struct spec s;
	(void)state;
	parse_ok(&s, PIPE "checks:\n  training: {history: t/history.csv, converges: {window: 5, ratio: 0.8},\n"
			  "    overfit_sample: {run: python3 overfit.py, max_loss: 0.05}}\n"
			  "  model: {metrics: e/metrics.json, lower_is_better: [cost]}\n");
	assert_int_equal(s.checks.training.converges, 1);
	assert_int_equal(s.checks.training.converges_window, 5);
	assert_true(s.checks.training.converges_ratio == 0.8);
	assert_string_equal(s.checks.training.overfit_run, "python3 overfit.py");
	assert_true(s.checks.training.overfit_max_loss == 0.05);
	assert_int_equal(s.checks.model.lower_is_better.n, 1);
	spec_release(&s);
	assert_true(parse_fails_with(PIPE "checks:\n  training: {history: t/history.csv, converges: {ratio: 1.5}}\n",
				     "checks.training.converges.ratio: invalid number \"1.5\""));
	assert_true(parse_fails_with(PIPE "checks:\n  training: {converges: {window: 3}}\n",
				     "converges needs \"history\""));
	assert_true(parse_fails_with(PIPE "checks:\n  training: {overfit_sample: {run: x}}\n",
				     "checks.training.overfit_sample: missing required key \"max_loss\""));
	/* a check against a file no component declares */
	assert_true(parse_fails_with(PIPE "checks:\n  model: {metrics: e/nope.json}\n", "nope.json"));
	assert_true(
		parse_fails_with(PIPE "checks:\n  data: {dataset: t/data.csv}\n", "declares no output \"data.csv\""));
	assert_true(parse_fails_with(PIPE "checks:\n  training: {no_nan: [x/model.json]}\n", "x/model.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converged),
		cmocka_unit_test(test_loss_column),
		cmocka_unit_test(test_find_nan),
		cmocka_unit_test(test_last_number),
		cmocka_unit_test(test_lower_is_better),
		cmocka_unit_test(test_thresholds_and_baseline),
		cmocka_unit_test(test_slices),
		cmocka_unit_test(test_infra),
		cmocka_unit_test(test_infra_versions),
		cmocka_unit_test(test_spec_keys),
		cmocka_unit_test(test_infra_remote_parse),
	};
	int rc;
	scratch = test_scratch_dir("pipeline-checks");
	if (!scratch)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	test_scratch_remove(scratch);
	return rc;
}
