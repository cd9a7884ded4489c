/* test_spec.c - unit tests of the mlci.yaml parser (spec/spec*.c): valid fixtures, a table of invalid
 * specs with their exact first diagnostic, value grammars, env names, branch matching, paths on disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spec/spec.h"
#include "common/alloc.h"
#include "common/path.h"

/* ---------- helpers ---------- */

static const char *top_dir(void)
{
	const char *t = getenv("TOP");
	return t && *t ? t : ".";
}

/* All diags of "d", one per line, for failure messages. */
static char *all_diags(const struct diags *d)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < d->n; i++) {
		diag_format(d, i, &b);
		buf_addch(&b, '\n');
	}
	return buf_detach(&b, NULL);
}

static int parse_str(struct spec *s, struct diags *d, const char *yaml)
{
	spec_init(s);
	diags_init(d);
	return spec_parse_buffer(s, yaml, strlen(yaml), "mlci.yaml", d);
}

/* Parse "yaml" and fail the test (printing every diag) unless it is valid. */
static void parse_ok(struct spec *s, const char *yaml)
{
	struct diags d;
	int r = parse_str(s, &d, yaml);
	if (r != 0 || d.n) {
		char *all = all_diags(&d);
		print_error("unexpected diagnostics:\n%s", all);
		free(all);
	}
	assert_int_equal(r, 0);
	assert_int_equal(d.n, 0);
	diags_release(&d);
}

static char *diag_str(const struct diags *d, size_t i)
{
	struct buf b = BUF_INIT;
	diag_format(d, i, &b);
	return buf_detach(&b, NULL);
}

/* ---------- valid specs ---------- */

static void parse_file_ok(const char *path)
{
	struct spec s;
	struct diags d;
	int r;
	spec_init(&s);
	diags_init(&d);
	r = spec_parse_file(&s, path, NULL, &d);
	if (r != 0) {
		char *all = all_diags(&d);
		print_error("%s:\n%s", path, all);
		free(all);
	}
	assert_int_equal(r, 0);
	assert_int_equal(d.n, 0);
	assert_non_null(s.pipeline);
	assert_true(s.n_components > 0);
	spec_release(&s);
	diags_release(&d);
}

static void test_valid_fixtures(void **state)
{
	char *dir = path_join(top_dir(), "tests/fixtures/specs/valid");
	DIR *dh = opendir(dir);
	struct dirent *de;
	int n = 0;
	(void)state;
	assert_non_null(dh);
	while ((de = readdir(dh))) {
		size_t l = strlen(de->d_name);
		char *p;
		if (l < 6 || strcmp(de->d_name + l - 5, ".yaml"))
			continue;
		p = path_join(dir, de->d_name);
		parse_file_ok(p);
		free(p);
		n++;
	}
	closedir(dh);
	free(dir);
	assert_true(n >= 4);
}

/* The template "mlci init" writes must parse and its paths must exist (when it is there). */
static void test_template_spec(void **state)
{
	char *root = path_join(top_dir(), "templates/default");
	char *p = path_join(root, "mlci.yaml");
	struct spec s;
	struct diags d;
	(void)state;
	assert_int_equal(access(p, R_OK), 0);
	parse_file_ok(p);
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_file(&s, p, "mlci.yaml", &d), 0);
	if (spec_check_paths(&s, root, &d) != 0) {
		char *all = all_diags(&d);
		print_error("%s", all);
		free(all);
		fail();
	}
	spec_release(&s);
	diags_release(&d);
	free(p);
	free(root);
}

/* Every complete example in the docs (a ```yaml block that starts with "pipeline:") must parse. */
static void test_doc_examples(void **state)
{
	static const char *const docs[] = { "docs/spec.md", "README.md" };
	size_t n_examples = 0;
	(void)state;
	for (size_t k = 0; k < sizeof(docs) / sizeof(docs[0]); k++) {
		char *path = path_join(top_dir(), docs[k]);
		struct buf text = BUF_INIT;
		const char *p;
		assert_int_equal(buf_read_file(&text, path), 0);
		for (p = text.ptr; (p = strstr(p, "```yaml\n")) != NULL;) {
			const char *start = p + 8, *end = strstr(start, "\n```");
			struct spec s;
			struct diags d;
			assert_non_null(end);
			p = end + 4;
			if (strncmp(start, "pipeline:", 9))
				continue;
			spec_init(&s);
			diags_init(&d);
			if (spec_parse_buffer(&s, start, (size_t)(end - start) + 1, docs[k], &d) != 0) {
				char *all = all_diags(&d);
				print_error("example in %s:\n%s", docs[k], all);
				free(all);
				fail();
			}
			spec_release(&s);
			diags_release(&d);
			n_examples++;
		}
		buf_release(&text);
		free(path);
	}
	assert_true(n_examples >= 2);
}

static void test_design_example_fields(void **state)
{
	char *p = path_join(top_dir(), "tests/fixtures/specs/valid/design.yaml");
	struct spec s;
	struct diags d;
	const struct spec_component *c;
	(void)state;
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_file(&s, p, "mlci.yaml", &d), 0);
	free(p);
	assert_string_equal(s.pipeline, "breast-cancer");
	assert_string_equal(s.model, "bc-classifier");
	assert_int_equal(s.params.n, 2);
	assert_string_equal(s.params.items[0].key, "learning_rate");
	assert_string_equal(s.params.items[0].value, "0.1");
	assert_string_equal(s.params.items[1].value, "300");
	assert_int_equal(s.env.n, 1);
	assert_string_equal(s.env.items[0].key, "PYTHONHASHSEED");
	assert_string_equal(s.env.items[0].value, "0");

	assert_int_equal(s.n_components, 3);
	c = &s.components[0];
	assert_string_equal(c->name, "ingest");
	assert_string_equal(c->path, "components/ingest");
	assert_int_equal(c->path_pos.line, 7);
	assert_int_equal(c->path_pos.col, 11);
	assert_null(c->build);
	assert_string_equal(c->test, "python3 -m unittest -q");
	assert_int_equal(c->inputs.n, 1);
	assert_string_equal(c->inputs.items[0], "data/breast_cancer.csv");
	assert_int_equal(c->outputs.n, 1);
	assert_int_equal(c->timeout_ms, 5 * 60 * 1000);
	c = &s.components[1];
	assert_string_equal(c->build, "true");
	assert_int_equal(c->needs.n, 1);
	assert_int_equal(c->need_idx[0], 0);
	assert_int_equal(c->outputs.n, 2);
	assert_string_equal(c->outputs.items[1], "history.csv");
	assert_true(c->cpus == 1.0);
	assert_int_equal(c->memory_bytes, 512LL << 20);
	assert_int_equal(c->timeout_ms, 0);
	c = &s.components[2];
	assert_null(c->path);
	assert_int_equal(c->needs.n, 2);
	assert_int_equal(c->need_idx[0], 1);
	assert_int_equal(c->need_idx[1], 0);
	assert_int_equal(spec_component_index(&s, "evaluate"), 2);
	assert_int_equal(spec_component_index(&s, "nope"), (size_t)-1);

	assert_true(s.checks.data.present);
	assert_string_equal(s.checks.data.dataset.text, "ingest/dataset.csv");
	assert_int_equal(s.checks.data.dataset.comp, 0);
	assert_string_equal(s.checks.data.dataset.output, "dataset.csv");
	assert_string_equal(s.checks.data.schema, "schema.yaml");
	assert_true(s.checks.data.drift_present);
	assert_string_equal(s.checks.data.drift_reference, "production");
	assert_string_equal(s.checks.data.drift_method, "auto");
	assert_true(s.checks.data.drift_threshold == 0.2);
	assert_string_equal(s.checks.data.on_drift, "retrain");
	assert_int_equal(s.checks.training.converges, 1);
	assert_int_equal(s.checks.training.history.comp, 1);
	assert_int_equal(s.checks.training.n_no_nan, 1);
	assert_string_equal(s.checks.training.no_nan[0].output, "model.json");
	assert_int_equal(s.checks.model.metrics.comp, 2);
	assert_null(s.model_artifact.text);
	assert_int_equal(s.checks.model.n_thresholds, 1);
	assert_string_equal(s.checks.model.thresholds[0].metric, "accuracy");
	assert_int_equal(s.checks.model.thresholds[0].op, SPEC_GE);
	assert_true(s.checks.model.thresholds[0].value == 0.90);
	assert_string_equal(s.checks.model.baseline, "production");
	assert_int_equal(s.checks.model.n_tolerance, 1);
	assert_true(s.checks.model.tolerance[0].value == 0.01);
	assert_int_equal(s.checks.model.tolerance[0].relative, 0);
	assert_string_equal(s.checks.model.slices_metrics.output, "slices.json");
	assert_int_equal(s.checks.model.n_max_gap, 1);
	assert_true(s.checks.model.max_gap[0].value == 0.10);
	assert_true(s.checks.infra.present);
	assert_int_equal(s.checks.infra.commands.n, 1);
	assert_int_equal(s.checks.infra.memory_bytes, 256LL << 20);
	assert_true(s.checks.infra.cpus == 1.0);
	assert_string_equal(s.checks.infra.accelerator, "none");
	assert_string_equal(s.checks.service.ready, "/v2/health/ready");
	assert_string_equal(s.checks.service.protocol, "kserve-v2");
	assert_string_equal(s.checks.service.contract, "contracts");
	assert_int_equal(s.checks.service.ready_timeout_ms, 60000);
	assert_true(s.checks.service.load_present);
	assert_true(s.checks.service.load_rate == 200);
	assert_int_equal(s.checks.service.load_duration_ms, 10000);
	assert_int_equal(s.checks.service.load_connections, 8);
	assert_true(s.checks.service.load_p99_ms == 50);
	assert_true(s.checks.service.load_min_qps == 0);
	assert_true(s.checks.service.load_max_error_rate == 0.001);

	assert_int_equal(s.n_environments, 3);
	assert_string_equal(s.environments[0].name, "test");
	assert_int_equal(s.environments[0].promote, SPEC_PROMOTE_AUTO);
	assert_int_equal(s.environments[0].branches.n, 2);
	assert_string_equal(s.environments[0].deploy_command, "scripts/deploy.sh test");
	assert_int_equal(s.environments[1].promote, SPEC_PROMOTE_SEMI);
	assert_int_equal(s.environments[1].approvals, 1);
	assert_string_equal(s.environments[1].deploy_webhook, "http://127.0.0.1:9000/deploy");
	assert_int_equal(s.environments[2].promote, SPEC_PROMOTE_MANUAL);
	assert_string_equal(s.environments[2].from, "staging");
	assert_int_equal(s.environments[2].min_staging_runs, 3);
	assert_int_equal(s.environments[2].approvers.n, 2);
	assert_string_equal(s.environments[2].deploy_ssh, "deploy@127.0.0.1");
	assert_string_equal(s.triggers.schedule, "0 3 * * *");
	assert_int_equal(s.triggers.data.n, 1);
	spec_release(&s);
	diags_release(&d);
}

static void test_defaults_and_scalar_lists(void **state)
{
	struct spec s;
	(void)state;
	parse_ok(&s, "pipeline: p\n"
		     "components:\n"
		     "  a: {run: x, inputs: data.csv, outputs: out.csv, path: .}\n"
		     "  b: {run: y, needs: a}\n"
		     "checks:\n"
		     "  data: {dataset: a/out.csv, drift: {}}\n"
		     "  service: {start: ./serve, ready: /ready, load: {}}\n"
		     "environments:\n"
		     "  e: {promote: auto, branches: main}\n");
	assert_string_equal(s.model, "p");
	assert_null(s.components[0].path);
	assert_int_equal(s.components[0].inputs.n, 1);
	assert_int_equal(s.components[0].outputs.n, 1);
	assert_int_equal(s.components[1].need_idx[0], 0);
	assert_string_equal(s.environments[0].branches.items[0], "main");
	assert_string_equal(s.checks.data.drift_reference, "production");
	assert_string_equal(s.checks.data.drift_method, "auto");
	assert_string_equal(s.checks.data.on_drift, "fail");
	assert_true(s.checks.data.drift_threshold == 0.2);
	assert_int_equal(s.checks.training.converges, -1);
	assert_string_equal(s.checks.service.protocol, "kserve-v2");
	assert_int_equal(s.checks.service.ready_timeout_ms, 60000);
	assert_int_equal(s.checks.service.load_duration_ms, 10000);
	assert_int_equal(s.checks.service.load_connections, 1);
	assert_true(s.checks.service.load_max_error_rate < 0);
	spec_release(&s);
}

static void test_drift_reference(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "production", "production" },       { "bc-classifier@3", "bc-classifier@3" },
		{ "./sub/../ref.csv", "./ref.csv" },  { "data//ref.csv", "data/ref.csv" },
		{ "./data/ref.csv", "data/ref.csv" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct spec s;
		struct buf y = BUF_INIT;
		buf_addf(&y,
			 "pipeline: p\ncomponents: {a: {run: x, outputs: [d.csv]}}\n"
			 "checks: {data: {dataset: a/d.csv, drift: {reference: \"%s\"}}}\n",
			 cases[i].in);
		parse_ok(&s, y.ptr);
		assert_string_equal(s.checks.data.drift_reference, cases[i].want);
		assert_int_equal(s.checks.data.drift_reference_pos.line, 3);
		spec_release(&s);
		buf_release(&y);
	}
}

static void test_tolerance_and_thresholds(void **state)
{
	struct spec s;
	(void)state;
	parse_ok(&s, "pipeline: p\n"
		     "components: {e: {run: x, outputs: [m.json]}}\n"
		     "checks:\n"
		     "  model:\n"
		     "    metrics: e/m.json\n"
		     "    thresholds: {a: \">= 0.9\", b: \"<=0.1\", c: \"> 0.5\", d: \"< 3\", e: \"== 1\", f: \"  >=  "
		     "-2e-1 \"}\n"
		     "    baseline: bc@3\n"
		     "    tolerance: {a: 1%, b: 0.5, c: \"0%\"}\n");
	assert_int_equal(s.checks.model.n_thresholds, 6);
	assert_int_equal(s.checks.model.thresholds[1].op, SPEC_LE);
	assert_true(s.checks.model.thresholds[1].value == 0.1);
	assert_int_equal(s.checks.model.thresholds[2].op, SPEC_GT);
	assert_int_equal(s.checks.model.thresholds[3].op, SPEC_LT);
	assert_true(s.checks.model.thresholds[3].value == 3);
	assert_int_equal(s.checks.model.thresholds[4].op, SPEC_EQ);
	assert_true(s.checks.model.thresholds[5].value == -0.2);
	assert_int_equal(s.checks.model.tolerance[0].relative, 1);
	assert_true(s.checks.model.tolerance[0].value == 0.01);
	assert_int_equal(s.checks.model.tolerance[1].relative, 0);
	assert_true(s.checks.model.tolerance[1].value == 0.5);
	assert_int_equal(s.checks.model.tolerance[2].relative, 1);
	spec_release(&s);
}

/* ---------- invalid specs ---------- */

struct bad_case {
	const char *name, *yaml, *want_first_diag;
	size_t want_n;
};

#define HDR  "pipeline: p\n"
#define COMP "components:\n  a: {run: x, outputs: [o.csv, m.json]}\n"

static const struct bad_case bad_cases[] = {
	/* model_artifact */
	{ "model_artifact unknown output", HDR "model_artifact: a/model.bin\n" COMP,
	  "mlci.yaml:2:17: model_artifact: component \"a\" declares no output \"model.bin\"", 1 },
	{ "model_artifact not a reference", HDR "model_artifact: model.json\n" COMP,
	  "mlci.yaml:2:17: model_artifact: invalid reference \"model.json\" (expected component/output, e.g. "
	  "\"train/model.json\")",
	  1 },
	{ "model_artifact a list", HDR "model_artifact: [a/m.json]\n" COMP,
	  "mlci.yaml:2:17: model_artifact: expected a reference of the form component/output, got a sequence", 1 },
	/* input as a whole */
	{ "empty", "", "mlci.yaml:1:1: empty spec", 1 },
	{ "only comments", "# nothing\n\n# here\n", "mlci.yaml:1:1: empty spec", 1 },
	{ "null document", "---\n", "mlci.yaml:1:1: empty spec", 1 },
	{ "syntax error", HDR "  bad: indent\n",
	  "mlci.yaml:2:6: syntax error: mapping values are not allowed in this context", 1 },
	{ "unclosed flow", HDR "components: {a: {run: x}\n",
	  "mlci.yaml:3:1: syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 2, "
	  "column 13)",
	  1 },
	{ "tab indent", HDR "components:\n\ta: {run: x}\n",
	  "mlci.yaml:3:1: syntax error: found character that cannot start any token (while scanning for the next token "
	  "at line 3, column 1)",
	  1 },
	{ "bad utf8", HDR "model: \xff\n", "mlci.yaml:2:8: invalid character: invalid leading UTF-8 octet (byte 0xff)",
	  1 },
	{ "aliases", HDR "x: &a [1]\ny: *a\nz: *a\n",
	  "mlci.yaml:3:4: aliases are not supported (found \"*a\"; write the value out instead)", 2 },
	{ "two documents", HDR COMP "---\n" HDR,
	  "mlci.yaml:4:1: more than one document in the file (expected a single YAML document)", 1 },
	{ "nesting too deep",
	  HDR "x: "
	      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	      "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	  "mlci.yaml:2:35: nesting is deeper than 32 levels", 1 },
	{ "top is a sequence", "- a\n- b\n", "mlci.yaml:1:1: expected a mapping at the top level, got a sequence", 1 },
	{ "top is a scalar", "hello\n", "mlci.yaml:1:1: expected a mapping at the top level, got a scalar", 1 },

	/* top level */
	{ "missing pipeline", COMP, "mlci.yaml:1:1: missing required key \"pipeline\"", 1 },
	{ "missing components", HDR, "mlci.yaml:1:1: missing required key \"components\"", 1 },
	{ "unknown top key", HDR COMP "trigers: {}\n",
	  "mlci.yaml:4:1: unknown key \"trigers\" (did you mean \"triggers\"?)", 1 },
	{ "unknown top key far", HDR COMP "colour: red\n", "mlci.yaml:4:1: unknown key \"colour\"", 1 },
	{ "duplicate key", HDR COMP "pipeline: q\n",
	  "mlci.yaml:4:1: duplicate key \"pipeline\" (first defined at line 1)", 1 },
	{ "bad pipeline name", "pipeline: a b\n" COMP,
	  "mlci.yaml:1:11: pipeline: invalid pipeline name \"a b\" (expected up to 128 letters, digits, \".\", \"-\" "
	  "and \"_\")",
	  1 },
	{ "pipeline is a mapping", "pipeline: {a: 1}\n" COMP,
	  "mlci.yaml:1:11: pipeline: expected a name, got a mapping", 1 },
	{ "bad model name", HDR "model: x@1\n" COMP,
	  "mlci.yaml:2:8: model: invalid model name \"x@1\" (expected up to 128 letters, digits, \".\", \"-\" and "
	  "\"_\")",
	  1 },
	{ "terminal escapes in a value", "pipeline: \"red\\e[31m\\u0085\\n\"\n" COMP,
	  "mlci.yaml:1:11: pipeline: invalid pipeline name \"red\\x1b[31m\\u0085\\n\" (expected up to 128 letters, "
	  "digits, \".\", \"-\" and \"_\")",
	  1 },
	{ "long value cut",
	  "pipeline: "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 x\n" COMP,
	  "mlci.yaml:1:11: pipeline: invalid pipeline name "
	  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\xc3\xa9\xc3\xa9...\" (expected up "
	  "to 128 letters, digits, \".\", \"-\" and \"_\")",
	  1 },
	{ "key not scalar", HDR COMP "[a]: 1\n", "mlci.yaml:4:1: expected a key, got a sequence", 1 },

	/* params and env */
	{ "param not scalar", HDR "params: {lr: [1, 2]}\n" COMP,
	  "mlci.yaml:2:14: params.lr: expected a scalar value, got a sequence", 1 },
	{ "param null", HDR "params:\n  lr:\n" COMP,
	  "mlci.yaml:3:6: params.lr: expected a scalar value, got null (write \"\" for an empty value)", 1 },
	{ "param name collision", HDR "params: {a-b: 1, a_b: 2}\n" COMP,
	  "mlci.yaml:2:18: params: parameter \"a_b\" has the same variable name as \"a-b\" (MLCI_PARAM_A_B)", 1 },
	{ "param bad name", HDR "params: {\"a b\": 1}\n" COMP,
	  "mlci.yaml:2:10: params: invalid parameter name \"a b\" (expected letters, digits, \".\", \"-\" and \"_\")",
	  1 },
	{ "env bad name", HDR "env: {1X: a}\n" COMP,
	  "mlci.yaml:2:7: env: invalid variable name \"1X\" (expected letters, digits and \"_\", not starting with a "
	  "digit)",
	  1 },
	{ "env reserved", HDR "env: {MLCI_OUT: /tmp}\n" COMP,
	  "mlci.yaml:2:7: env: variable \"MLCI_OUT\" is reserved (names starting with MLCI_ are set by mlci)", 1 },
	{ "env not a mapping", HDR "env: [A]\n" COMP, "mlci.yaml:2:6: env: expected a mapping, got a sequence", 1 },

	/* components */
	{ "components empty", HDR "components: {}\n", "mlci.yaml:2:13: components: expected at least one component",
	  1 },
	{ "components null", HDR "components:\n", "mlci.yaml:2:12: components: expected at least one component", 1 },
	{ "components sequence", HDR "components: [a, b]\n",
	  "mlci.yaml:2:13: components: expected a mapping, got a sequence", 1 },
	{ "component bad name", HDR "components:\n  Train: {run: x}\n",
	  "mlci.yaml:3:3: components: invalid component name \"Train\" (expected up to 63 lowercase letters, digits, "
	  "\"-\" and \"_\", starting with a letter or digit)",
	  1 },
	{ "component not mapping", HDR "components:\n  a: run it\n",
	  "mlci.yaml:3:6: components.a: expected a mapping, got a scalar", 1 },
	{ "component missing run", HDR "components:\n  a:\n    test: x\n",
	  "mlci.yaml:4:5: components.a: missing required key \"run\"", 1 },
	{ "component unknown key", HDR "components:\n  train:\n    run: x\n    neds: [x]\n",
	  "mlci.yaml:5:5: components.train: unknown key \"neds\" (did you mean \"needs\"?)", 1 },
	{ "run empty string", HDR "components:\n  a: {run: \"\"}\n",
	  "mlci.yaml:3:12: components.a.run: expected a command, got an empty string", 1 },
	{ "run null", HDR "components:\n  a:\n    run:\n",
	  "mlci.yaml:4:9: components.a.run: expected a command, got null", 1 },
	{ "run sequence", HDR "components:\n  a: {run: [make, test]}\n",
	  "mlci.yaml:3:12: components.a.run: expected a command, got a sequence", 1 },
	{ "run with NUL", HDR "components:\n  a: {run: \"a\\0b\"}\n",
	  "mlci.yaml:3:12: components.a.run: expected a command, got a value containing a NUL character", 1 },
	{ "env name collision", HDR "components:\n  a-b: {run: x}\n  a_b: {run: y}\n",
	  "mlci.yaml:4:3: components: component \"a_b\" has the same variable name as \"a-b\" (MLCI_IN_A_B)", 1 },
	{ "needs unknown", HDR "components:\n  ingest: {run: x}\n  train:\n    run: y\n    needs: [ingst]\n",
	  "mlci.yaml:6:13: components.train.needs[0]: unknown component \"ingst\" (did you mean \"ingest\"?)", 1 },
	{ "needs unknown scalar", HDR "components:\n  ingest: {run: x}\n  train: {run: y, needs: nope}\n",
	  "mlci.yaml:4:26: components.train.needs: unknown component \"nope\"", 1 },
	{ "needs itself", HDR "components:\n  a: {run: x, needs: [a]}\n",
	  "mlci.yaml:3:23: components.a.needs[0]: component \"a\" cannot need itself", 1 },
	{ "needs duplicate", HDR "components:\n  a: {run: x}\n  b: {run: y, needs: [a, a]}\n",
	  "mlci.yaml:4:26: components.b.needs[1]: duplicate need \"a\"", 1 },
	{ "needs mapping", HDR "components:\n  a: {run: x}\n  b: {run: y, needs: {a: 1}}\n",
	  "mlci.yaml:4:22: components.b.needs: expected a sequence, got a mapping", 1 },
	{ "cycle of two",
	  HDR "components:\n  train: {run: x, needs: [evaluate]}\n  evaluate: {run: y, needs: [train]}\n",
	  "mlci.yaml:4:30: components.evaluate.needs: dependency cycle: train -> evaluate -> train", 1 },
	{ "cycle of three",
	  HDR "components:\n  a: {run: x, needs: [c]}\n  b: {run: y, needs: [a]}\n  c: {run: z, needs: [b]}\n",
	  "mlci.yaml:4:23: components.b.needs: dependency cycle: a -> b -> c -> a", 1 },
	{ "path absolute", HDR "components:\n  a: {run: x, path: /usr/src}\n",
	  "mlci.yaml:3:21: components.a.path: path \"/usr/src\" is absolute; paths are relative to the repository root",
	  1 },
	{ "path escapes", HDR "components:\n  a: {run: x, path: src/../../other}\n",
	  "mlci.yaml:3:21: components.a.path: path \"src/../../other\" leaves the repository", 1 },
	{ "input escapes", HDR "components:\n  a: {run: x, inputs: [data, ../secrets]}\n",
	  "mlci.yaml:3:30: components.a.inputs[1]: path \"../secrets\" leaves the repository", 1 },
	{ "input duplicate", HDR "components:\n  a: {run: x, inputs: [data/x, ./data//x]}\n",
	  "mlci.yaml:3:32: components.a.inputs[1]: duplicate input \"data/x\"", 1 },
	{ "output dotdot", HDR "components:\n  a: {run: x, outputs: [../model.json]}\n",
	  "mlci.yaml:3:25: components.a.outputs[0]: invalid output \"../model.json\" (expected a plain relative file "
	  "path such as \"model.json\" or \"plots/roc.png\", without \".\" or \"..\" parts)",
	  1 },
	{ "output absolute", HDR "components:\n  a: {run: x, outputs: /tmp/m}\n",
	  "mlci.yaml:3:24: components.a.outputs: invalid output \"/tmp/m\" (expected a plain relative file path such "
	  "as \"model.json\" or \"plots/roc.png\", without \".\" or \"..\" parts)",
	  1 },
	{ "output duplicate", HDR "components:\n  a: {run: x, outputs: [m.json, m.json]}\n",
	  "mlci.yaml:3:33: components.a.outputs[1]: duplicate output \"m.json\"", 1 },
	{ "timeout bad unit", HDR "components:\n  a: {run: x, timeout: 5x}\n",
	  "mlci.yaml:3:24: components.a.timeout: invalid duration \"5x\" (expected a number followed by ms, s, m, h or "
	  "d, e.g. \"90s\" or \"5m\")",
	  1 },
	{ "timeout no unit", HDR "components:\n  a: {run: x, timeout: 300}\n",
	  "mlci.yaml:3:24: components.a.timeout: invalid duration \"300\" (expected a number followed by ms, s, m, h "
	  "or d, e.g. \"90s\" or \"5m\")",
	  1 },
	{ "timeout zero", HDR "components:\n  a: {run: x, timeout: 0s}\n",
	  "mlci.yaml:3:24: components.a.timeout: invalid duration \"0s\" (expected more than zero, e.g. \"90s\" or "
	  "\"5m\")",
	  1 },
	{ "memory bad", HDR "components:\n  a: {run: x, resources: {memory: 12XB}}\n",
	  "mlci.yaml:3:35: components.a.resources.memory: invalid size \"12XB\" (expected a number of bytes, "
	  "optionally followed by k, M, G, T, Ki, Mi, Gi or Ti, e.g. \"512Mi\" or \"1G\")",
	  1 },
	{ "cpus zero", HDR "components:\n  a: {run: x, resources: {cpus: 0}}\n",
	  "mlci.yaml:3:33: components.a.resources.cpus: invalid number \"0\" (expected a number > 0 and <= 4096)", 1 },
	{ "resources unknown key", HDR "components:\n  a: {run: x, resources: {gpus: 1}}\n",
	  "mlci.yaml:3:27: components.a.resources: unknown key \"gpus\" (did you mean \"cpus\"?)", 1 },

	/* checks */
	{ "checks unknown section", HDR COMP "checks: {dat: {}}\n",
	  "mlci.yaml:4:10: checks: unknown key \"dat\" (did you mean \"data\"?)", 1 },
	{ "dataset missing", HDR COMP "checks: {data: {schema: s.yaml}}\n",
	  "mlci.yaml:4:16: checks.data: missing required key \"dataset\"", 1 },
	{ "dataset no slash", HDR COMP "checks: {data: {dataset: o.csv}}\n",
	  "mlci.yaml:4:26: checks.data.dataset: invalid reference \"o.csv\" (expected component/output, e.g. "
	  "\"train/model.json\")",
	  1 },
	{ "dataset unknown component", HDR COMP "checks: {data: {dataset: b/o.csv}}\n",
	  "mlci.yaml:4:26: checks.data.dataset: unknown component \"b\" in \"b/o.csv\"", 1 },
	{ "dataset undeclared output", HDR COMP "checks: {data: {dataset: a/0.csv}}\n",
	  "mlci.yaml:4:26: checks.data.dataset: component \"a\" declares no output \"0.csv\" (did you mean \"o.csv\"?)",
	  1 },
	{ "schema absolute", HDR COMP "checks: {data: {dataset: a/o.csv, schema: /etc/schema.yaml}}\n",
	  "mlci.yaml:4:43: checks.data.schema: path \"/etc/schema.yaml\" is absolute; paths are relative to the "
	  "repository root",
	  1 },
	{ "drift reference escapes", HDR COMP "checks: {data: {dataset: a/o.csv, drift: {reference: ../ref.csv}}}\n",
	  "mlci.yaml:4:54: checks.data.drift.reference: path \"../ref.csv\" leaves the repository", 1 },
	{ "drift method", HDR COMP "checks: {data: {dataset: a/o.csv, drift: {method: pis}}}\n",
	  "mlci.yaml:4:51: checks.data.drift.method: invalid method \"pis\" (expected auto, psi, ks, chi2, "
	  "jensen_shannon or linf; did you mean \"psi\"?)",
	  1 },
	{ "drift threshold", HDR COMP "checks: {data: {dataset: a/o.csv, drift: {threshold: -1}}}\n",
	  "mlci.yaml:4:54: checks.data.drift.threshold: invalid number \"-1\" (expected a number > 0)", 1 },
	{ "on_drift", HDR COMP "checks: {data: {dataset: a/o.csv, drift: {on_drift: page}}}\n",
	  "mlci.yaml:4:53: checks.data.drift.on_drift: invalid on_drift \"page\" (expected fail, warn or retrain)", 1 },
	{ "converges not bool", HDR COMP "checks: {training: {history: a/o.csv, converges: yes}}\n",
	  "mlci.yaml:4:50: checks.training.converges: invalid boolean \"yes\" (expected true or false)", 1 },
	{ "converges without history", HDR COMP "checks: {training: {converges: true}}\n",
	  "mlci.yaml:4:32: checks.training.converges: converges needs \"history\" (the training history to check)", 1 },
	{ "no_nan scalar", HDR COMP "checks: {training: {no_nan: a/m.json}}\n",
	  "mlci.yaml:4:29: checks.training.no_nan: expected a sequence, got a scalar (write [a/m.json] for a one-item "
	  "list)",
	  1 },
	{ "no_nan bad item", HDR COMP "checks: {training: {no_nan: [a/m.json, a/n.json]}}\n",
	  "mlci.yaml:4:40: checks.training.no_nan[1]: component \"a\" declares no output \"n.json\" (did you mean "
	  "\"m.json\"?)",
	  1 },
	{ "model metrics missing", HDR COMP "checks:\n  model:\n    thresholds: {acc: \">= 0.9\"}\n",
	  "mlci.yaml:6:5: checks.model: missing required key \"metrics\"", 1 },
	{ "threshold bad", HDR COMP "checks:\n  model:\n    metrics: a/m.json\n    thresholds: {accuracy: 0.9}\n",
	  "mlci.yaml:7:28: checks.model.thresholds.accuracy: invalid threshold \"0.9\" (expected a comparison and a "
	  "number, e.g. \">= 0.90\", \"<= 0.1\" or \"== 1\")",
	  1 },
	{ "threshold not a number", HDR COMP "checks: {model: {metrics: a/m.json, thresholds: {f1: \">= high\"}}}\n",
	  "mlci.yaml:4:54: checks.model.thresholds.f1: invalid threshold \">= high\" (expected a comparison and a "
	  "number, e.g. \">= 0.90\", \"<= 0.1\" or \"== 1\")",
	  1 },
	{ "tolerance without baseline", HDR COMP "checks: {model: {metrics: a/m.json, tolerance: {acc: 0.1}}}\n",
	  "mlci.yaml:4:48: checks.model.tolerance: tolerance needs \"baseline\" (the model version to compare with)",
	  1 },
	{ "tolerance bad",
	  HDR COMP "checks: {model: {metrics: a/m.json, baseline: production, tolerance: {acc: \"1 %\"}}}\n",
	  "mlci.yaml:4:76: checks.model.tolerance.acc: invalid tolerance \"1 %\" (expected a number >= 0 such as 0.01, "
	  "or a percentage such as \"1%\")",
	  1 },
	{ "slices output", HDR COMP "checks: {model: {metrics: a/m.json, slices: {metrics: a/s.json}}}\n",
	  "mlci.yaml:4:55: checks.model.slices.metrics: component \"a\" declares no output \"s.json\" (did you mean "
	  "\"m.json\"?)",
	  1 },
	{ "slices min_rows",
	  HDR COMP "checks: {model: {metrics: a/m.json, slices: {metrics: a/m.json, min_rows: 0}}}\n",
	  "mlci.yaml:4:75: checks.model.slices.min_rows: invalid number \"0\" (expected a whole number >= 1)", 1 },
	{ "infra requires missing", HDR COMP "checks: {infra: {commands: [python3]}}\n",
	  "mlci.yaml:4:17: checks.infra: missing required key \"requires\"", 2 },
	{ "infra accelerator", HDR COMP "checks: {infra: {requires: {accelerator: amd}}}\n",
	  "mlci.yaml:4:42: checks.infra.requires.accelerator: invalid accelerator \"amd\" (expected none or nvidia)",
	  1 },
	{ "infra disk", HDR COMP "checks: {infra: {requires: {disk: lots}}}\n",
	  "mlci.yaml:4:35: checks.infra.requires.disk: invalid size \"lots\" (expected a number of bytes, optionally "
	  "followed by k, M, G, T, Ki, Mi, Gi or Ti, e.g. \"512Mi\" or \"1G\")",
	  1 },
	{ "service ready path", HDR COMP "checks: {service: {start: ./s, ready: health}}\n",
	  "mlci.yaml:4:39: checks.service.ready: invalid ready path \"health\" (expected an HTTP path starting with "
	  "\"/\")",
	  1 },
	{ "service protocol", HDR COMP "checks: {service: {start: ./s, ready: /r, protocol: kserve}}\n",
	  "mlci.yaml:4:53: checks.service.protocol: invalid protocol \"kserve\" (expected kserve-v2, tfserving-v1 or "
	  "none)",
	  1 },
	{ "service missing start", HDR COMP "checks: {service: {ready: /r}}\n",
	  "mlci.yaml:4:19: checks.service: missing required key \"start\"", 1 },
	{ "load duration", HDR COMP "checks: {service: {start: ./s, ready: /r, load: {duration: 10}}}\n",
	  "mlci.yaml:4:60: checks.service.load.duration: invalid duration \"10\" (expected a number followed by ms, s, "
	  "m, h or d, e.g. \"90s\" or \"5m\")",
	  1 },
	{ "load error rate", HDR COMP "checks: {service: {start: ./s, ready: /r, load: {max_error_rate: 5}}}\n",
	  "mlci.yaml:4:66: checks.service.load.max_error_rate: invalid number \"5\" (expected a number from 0 to 1)",
	  1 },
	{ "load connections", HDR COMP "checks: {service: {start: ./s, ready: /r, load: {connections: 1.5}}}\n",
	  "mlci.yaml:4:63: checks.service.load.connections: invalid number \"1.5\" (expected a whole number from 1 to "
	  "10000)",
	  1 },

	/* environments */
	{ "promote missing", HDR COMP "environments:\n  test: {branches: [main]}\n",
	  "mlci.yaml:5:9: environments.test: missing required key \"promote\"", 1 },
	{ "promote bad", HDR COMP "environments:\n  test: {promote: atuo, branches: [main]}\n",
	  "mlci.yaml:5:19: environments.test.promote: invalid promote \"atuo\" (expected auto, semi or manual; did you "
	  "mean \"auto\"?)",
	  1 },
	{ "env unknown key", HDR COMP "environments:\n  test: {promote: auto, branch: [main]}\n",
	  "mlci.yaml:5:9: environments.test: an auto environment needs branches (the branch patterns whose runs it "
	  "promotes)",
	  2 },
	{ "env bad name", HDR COMP "environments:\n  Prod: {promote: manual, approvers: [a]}\n",
	  "mlci.yaml:5:3: environments: invalid environment name \"Prod\" (expected up to 63 lowercase letters, "
	  "digits, \"-\" and \"_\", starting with a letter or digit)",
	  1 },
	{ "branch glob", HDR COMP "environments:\n  test: {promote: auto, branches: [\"dev/[a\"]}\n",
	  "mlci.yaml:5:36: environments.test.branches[0]: invalid branch pattern \"dev/[a\" (has a \"[\" without a "
	  "matching \"]\")",
	  1 },
	{ "branch glob empty", HDR COMP "environments:\n  test: {promote: auto, branches: [main, \"\"]}\n",
	  "mlci.yaml:5:42: environments.test.branches[1]: invalid branch pattern \"\" (is empty)", 1 },
	{ "branch duplicate", HDR COMP "environments:\n  test: {promote: auto, branches: [main, main]}\n",
	  "mlci.yaml:5:42: environments.test.branches[1]: duplicate branch pattern \"main\"", 1 },
	{ "from unknown",
	  HDR COMP "environments:\n  staging: {promote: semi, branches: [main]}\n  prod: {promote: manual, from: "
		   "stagign, approvers: [a]}\n",
	  "mlci.yaml:6:33: environments.prod.from: unknown environment \"stagign\" (did you mean \"staging\"?)", 1 },
	{ "from itself", HDR COMP "environments:\n  prod: {promote: manual, from: prod, approvers: [a]}\n",
	  "mlci.yaml:5:33: environments.prod.from: environment \"prod\" cannot promote from itself", 1 },
	{ "promotion cycle",
	  HDR COMP "environments:\n  a: {promote: manual, from: b, approvers: [x]}\n  b: {promote: manual, from: a, "
		   "approvers: [x]}\n",
	  "mlci.yaml:5:3: environments.a.from: promotion cycle: a -> b -> a", 1 },
	{ "auto with approvals", HDR COMP "environments:\n  test: {promote: auto, branches: [main], approvals: 1}\n",
	  "mlci.yaml:5:54: environments.test.approvals: approvals do not apply to auto environments (they promote at "
	  "once)",
	  1 },
	{ "manual without approvers", HDR COMP "environments:\n  prod: {promote: manual}\n",
	  "mlci.yaml:5:9: environments.prod: a manual environment needs approvers (who may promote to it)", 1 },
	{ "manual with branches",
	  HDR COMP "environments:\n  prod: {promote: manual, branches: [main], approvers: [a]}\n",
	  "mlci.yaml:5:37: environments.prod.branches: branches do not apply to manual environments (they are promoted "
	  "with \"mlci promote\")",
	  1 },
	{ "approvals exceed approvers",
	  HDR COMP "environments:\n  prod: {promote: manual, approvals: 3, approvers: [a, b]}\n",
	  "mlci.yaml:5:38: environments.prod.approvals: approvals (3) is more than the number of approvers (2)", 1 },
	{ "approvals negative", HDR COMP "environments:\n  s: {promote: semi, branches: [main], approvals: -1}\n",
	  "mlci.yaml:5:51: environments.s.approvals: invalid number \"-1\" (expected a whole number from 0 to 100)",
	  1 },
	{ "approver duplicate", HDR COMP "environments:\n  prod: {promote: manual, approvers: [ann, ann]}\n",
	  "mlci.yaml:5:44: environments.prod.approvers[1]: duplicate approver \"ann\"", 1 },
	{ "approvers scalar", HDR COMP "environments:\n  prod: {promote: manual, approvers: ann}\n",
	  "mlci.yaml:5:38: environments.prod.approvers: expected a sequence, got a scalar (write [ann] for a one-item "
	  "list)",
	  1 },
	{ "min runs without from",
	  HDR COMP "environments:\n  prod: {promote: manual, approvers: [a], min_staging_runs: 2}\n",
	  "mlci.yaml:5:61: environments.prod.min_staging_runs: min_staging_runs needs \"from\" (the environment whose "
	  "runs are counted)",
	  1 },
	{ "webhook not http",
	  HDR COMP "environments:\n  s: {promote: semi, branches: [main], deploy: {webhook: ftp://x/y}}\n",
	  "mlci.yaml:5:58: environments.s.deploy.webhook: invalid webhook \"ftp://x/y\" (expected an http:// or "
	  "https:// URL)",
	  1 },
	{ "ssh bad",
	  HDR COMP "environments:\n  s: {promote: semi, branches: [main], deploy: {ssh: \"host\", command: x}}\n",
	  "mlci.yaml:5:54: environments.s.deploy.ssh: invalid ssh target \"host\" (expected user@host or "
	  "user@host:port, e.g. \"deploy@10.0.0.5:22\")",
	  1 },
	{ "ssh bad port",
	  HDR COMP "environments:\n  s: {promote: semi, branches: [main], deploy: {ssh: \"u@h:70000\", command: x}}\n",
	  "mlci.yaml:5:54: environments.s.deploy.ssh: invalid ssh target \"u@h:70000\" (has a bad port (expected "
	  "user@host:PORT with PORT from 1 to 65535))",
	  1 },
	{ "ssh without command", HDR COMP "environments:\n  s: {promote: semi, branches: [main], deploy: {ssh: u@h}}\n",
	  "mlci.yaml:5:54: environments.s.deploy.ssh: ssh deploy needs a command to run on the host (deploy.command)",
	  1 },
	{ "deploy empty", HDR COMP "environments:\n  s: {promote: semi, branches: [main], deploy: {}}\n",
	  "mlci.yaml:5:48: environments.s.deploy: deploy needs at least one of command, webhook or ssh", 1 },
	{ "dir without ssh",
	  HDR COMP "environments:\n  s: {promote: semi, branches: [main], deploy: {command: x, dir: d}}\n",
	  "mlci.yaml:5:66: environments.s.deploy.dir: dir is the remote directory of an ssh deploy (it needs "
	  "deploy.ssh)",
	  1 },

	/* triggers */
	{ "schedule fields", HDR COMP "triggers: {schedule: \"0 3 * *\"}\n",
	  "mlci.yaml:4:22: triggers.schedule: invalid schedule \"0 3 * *\" (expected 5 fields: minute hour "
	  "day-of-month month day-of-week, e.g. \"0 3 * * *\")",
	  1 },
	{ "schedule range", HDR COMP "triggers: {schedule: \"0 24 * * *\"}\n",
	  "mlci.yaml:4:22: triggers.schedule: invalid schedule \"0 24 * * *\" (hour \"24\" is out of range 0-23)", 1 },
	{ "schedule step", HDR COMP "triggers: {schedule: \"*/0 * * * *\"}\n",
	  "mlci.yaml:4:22: triggers.schedule: invalid schedule \"*/0 * * * *\" (minute step in \"*/0\" must be a "
	  "number from 1 to 59)",
	  1 },
	{ "schedule names", HDR COMP "triggers: {schedule: \"0 3 * * MON\"}\n",
	  "mlci.yaml:4:22: triggers.schedule: invalid schedule \"0 3 * * MON\" (day of week field \"MON\" is not a "
	  "number, range, list or \"*\")",
	  1 },
	{ "schedule reversed range", HDR COMP "triggers: {schedule: \"0 3 20-10 * *\"}\n",
	  "mlci.yaml:4:22: triggers.schedule: invalid schedule \"0 3 20-10 * *\" (day of month range in \"20-10\" is "
	  "not N-M with 1 <= N <= M <= 31)",
	  1 },
	{ "trigger data escapes", HDR COMP "triggers: {data: [/data]}\n",
	  "mlci.yaml:4:19: triggers.data[0]: path \"/data\" is absolute; paths are relative to the repository root",
	  1 },
	{ "triggers unknown key", HDR COMP "triggers: {cron: \"0 3 * * *\"}\n",
	  "mlci.yaml:4:12: triggers: unknown key \"cron\"", 1 },
};

static void test_bad_case(void **state)
{
	const struct bad_case *bc = *state;
	struct spec s;
	struct diags d;
	char *first, *all;
	int r = parse_str(&s, &d, bc->yaml);
	all = all_diags(&d);
	if (d.n != bc->want_n || d.n == 0) {
		print_error("case \"%s\": want %zu diags, got %zu:\n%s", bc->name, bc->want_n, d.n, all);
		fail();
	}
	first = diag_str(&d, 0);
	if (strcmp(first, bc->want_first_diag)) {
		print_error("case \"%s\":\n want: %s\n  got: %s\n  all:\n%s", bc->name, bc->want_first_diag, first,
			    all);
		fail();
	}
	assert_int_equal(r, -1);
	free(first);
	free(all);
	spec_release(&s);
	diags_release(&d);
}

/* ---------- more than one problem ---------- */

static void test_all_errors_reported(void **state)
{
	static const char *yaml = "pipeline: p\n"
				  "components:\n"
				  "  ingest: {run: x, outputs: [d.csv], timeout: soon}\n"
				  "  train:\n"
				  "    run: y\n"
				  "    neds: [ingest]\n"
				  "    needs: [ingst]\n"
				  "checks:\n"
				  "  data: {dataset: ingest/e.csv}\n"
				  "environments:\n"
				  "  test: {promote: sometimes, branches: [main]}\n"
				  "triggers: {schedule: daily}\n";
	static const char *want[] = {
		"mlci.yaml:3:47: components.ingest.timeout: invalid duration \"soon\" (expected a number followed by "
		"ms, s, m, h or d, e.g. \"90s\" or \"5m\")",
		"mlci.yaml:6:5: components.train: unknown key \"neds\" (did you mean \"needs\"?)",
		"mlci.yaml:7:13: components.train.needs[0]: unknown component \"ingst\" (did you mean \"ingest\"?)",
		"mlci.yaml:9:19: checks.data.dataset: component \"ingest\" declares no output \"e.csv\" (did you mean "
		"\"d.csv\"?)",
		"mlci.yaml:11:19: environments.test.promote: invalid promote \"sometimes\" (expected auto, semi or "
		"manual)",
		"mlci.yaml:12:22: triggers.schedule: invalid schedule \"daily\" (expected 5 fields: minute hour "
		"day-of-month month day-of-week, e.g. \"0 3 * * *\")",
	};
	struct spec s;
	struct diags d;
	(void)state;
	assert_int_equal(parse_str(&s, &d, yaml), -1);
	assert_int_equal(d.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < d.n; i++) {
		char *got = diag_str(&d, i);
		assert_string_equal(got, want[i]);
		free(got);
	}
	spec_release(&s);
	diags_release(&d);
}

/* The example of docs/spec.md ("Errors"): the output there is this test's expectation. */
static void test_docs_example(void **state)
{
	static const char *want[] = {
		"mlci.yaml:6:14: components.ingest.timeout: invalid duration \"5x\" (expected a number followed by ms, "
		"s, m, h or d, e.g. \"90s\" or \"5m\")",
		"mlci.yaml:8:5: components.train: unknown key \"neds\" (did you mean \"needs\"?)",
		"mlci.yaml:9:13: components.train.needs[0]: unknown component \"ingst\" (did you mean \"ingest\"?)",
		"mlci.yaml:13:21: checks.model.metrics: component \"train\" declares no output \"metrics.json\"",
		"mlci.yaml:13:65: checks.model.thresholds.accuracy: invalid threshold \"=> 0.9\" (expected a "
		"comparison and a number, e.g. \">= 0.90\", \"<= 0.1\" or \"== 1\")",
		"mlci.yaml:15:15: environments.production: a manual environment needs approvers (who may promote to "
		"it)",
		"mlci.yaml:15:40: environments.production.from: unknown environment \"staging\"",
		"mlci.yaml:16:23: triggers.schedule: invalid schedule \"0 3 * *\" (expected 5 fields: minute hour "
		"day-of-month month day-of-week, e.g. \"0 3 * * *\")",
	};
	char *p = path_join(top_dir(), "tests/fixtures/specs/invalid/docs-example.yaml");
	struct spec s;
	struct diags d;
	(void)state;
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_file(&s, p, "mlci.yaml", &d), -1);
	free(p);
	assert_int_equal(d.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < d.n; i++) {
		char *got = diag_str(&d, i);
		assert_string_equal(got, want[i]);
		free(got);
	}
	spec_release(&s);
	diags_release(&d);
}

/* A hostile file with thousands of errors yields a bounded list ending in "too many errors". */
static void test_diag_cap(void **state)
{
	struct buf y = BUF_INIT;
	struct spec s;
	struct diags d;
	(void)state;
	buf_addstr(&y, "pipeline: p\ncomponents:\n");
	for (int i = 0; i < 500; i++)
		buf_addf(&y, "  c%d: {run: x, timeout: bad}\n", i);
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_buffer(&s, y.ptr, y.len, "big.yaml", &d), -1);
	assert_int_equal(d.n, 201);
	assert_string_equal(d.items[200].msg, "too many errors; stopping here");
	assert_int_equal(d.items[0].pos.line, 3);
	spec_release(&s);
	diags_release(&d);
	buf_release(&y);
}

static void test_too_many_components(void **state)
{
	struct buf y = BUF_INIT;
	struct spec s;
	struct diags d;
	char *first;
	(void)state;
	buf_addstr(&y, "pipeline: p\ncomponents:\n");
	for (int i = 0; i < 1001; i++)
		buf_addf(&y, "  c%d: {run: x}\n", i);
	assert_int_equal(parse_str(&s, &d, y.ptr), -1);
	assert_int_equal(d.n, 1);
	first = diag_str(&d, 0);
	assert_string_equal(first, "mlci.yaml:3:3: components: too many components (1001; the limit is 1000)");
	free(first);
	spec_release(&s);
	diags_release(&d);
	buf_release(&y);
}

/* A long chain written backwards still orders fine; a cycle through the whole chain is found. */
static void test_long_chain(void **state)
{
	struct buf y = BUF_INIT;
	struct spec s;
	struct diags d;
	(void)state;
	buf_addstr(&y, "pipeline: p\ncomponents:\n");
	for (int i = 0; i < 300; i++)
		buf_addf(&y, "  c%d: {run: x, needs: [c%d]}\n", i, i + 1);
	buf_addstr(&y, "  c300: {run: x}\n");
	parse_ok(&s, y.ptr);
	spec_release(&s);
	buf_reset(&y);
	buf_addstr(&y, "pipeline: p\ncomponents:\n");
	for (int i = 0; i < 300; i++)
		buf_addf(&y, "  c%d: {run: x, needs: [c%d]}\n", i, (i + 1) % 300);
	assert_int_equal(parse_str(&s, &d, y.ptr), -1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.items[0].msg, "dependency cycle: c0 -> c299 -> c298"));
	spec_release(&s);
	diags_release(&d);
	buf_release(&y);
}

static void test_too_large(void **state)
{
	size_t n = 1024 * 1024 + 1;
	char *big = xmalloc(n);
	struct spec s;
	struct diags d;
	char *first;
	(void)state;
	memset(big, '#', n);
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_buffer(&s, big, n, "mlci.yaml", &d), -1);
	assert_int_equal(d.n, 1);
	first = diag_str(&d, 0);
	assert_string_equal(first, "mlci.yaml: spec is too large (1048577 bytes; the limit is 1048576)");
	free(first);
	free(big);
	spec_release(&s);
	diags_release(&d);
}

static void test_missing_file(void **state)
{
	struct spec s;
	struct diags d;
	char *first;
	(void)state;
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_file(&s, "/nonexistent/mlci.yaml", "mlci.yaml", &d), -1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.items[0].pos.line, 0);
	first = diag_str(&d, 0);
	assert_string_equal(first, "mlci.yaml: could not read \"/nonexistent/mlci.yaml\": No such file or directory");
	free(first);
	spec_release(&s);
	diags_release(&d);
}

static void test_diag_format(void **state)
{
	struct diags d;
	struct buf b = BUF_INIT;
	(void)state;
	diags_init(&d);
	d.file = xstrdup("x/mlci.yaml");
	d.items = xcalloc(2, sizeof(*d.items));
	d.n = d.alloc = 2;
	d.items[0].pos = (struct diag_pos){ 14, 5 };
	d.items[0].key = xstrdup("components.train.needs[0]");
	d.items[0].msg = xstrdup("unknown component \"ingst\" (did you mean \"ingest\"?)");
	d.items[1].pos = (struct diag_pos){ 1, 1 };
	d.items[1].key = xstrdup("");
	d.items[1].msg = xstrdup("empty spec");
	diag_format(&d, 0, &b);
	assert_string_equal(
		b.ptr,
		"x/mlci.yaml:14:5: components.train.needs[0]: unknown component \"ingst\" (did you mean \"ingest\"?)");
	buf_reset(&b);
	diag_format(&d, 1, &b);
	assert_string_equal(b.ptr, "x/mlci.yaml:1:1: empty spec");
	buf_reset(&b);
	diag_format(&d, 2, &b); /* out of range: nothing */
	assert_string_equal(b.ptr, "");
	buf_release(&b);
	diags_release(&d);
}

/* ---------- value grammars ---------- */

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		int64_t ms;
	} ok[] = {
		{ "5m", 300000 },    { "90s", 90000 }, { "1h30m", 5400000 },    { "250ms", 250 },
		{ "2d", 172800000 }, { "0s", 0 },      { "1m30s500ms", 90500 }, { "1d1h1m1s1ms", 90061001 },
		{ "007s", 7000 },
	};
	static const char *bad[] = { "",
				     "5",
				     "5x",
				     "m",
				     "1.5h",
				     "-5s",
				     "5 m",
				     " 5m",
				     "5m ",
				     "5S",
				     "1h30",
				     "99999999999999999999s",
				     "106751991167301d",
				     "ms",
				     "5mss" };
	int64_t v;
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -2;
		assert_int_equal(spec_parse_duration(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (spec_parse_duration(bad[i], &v) != -1) {
			print_error("duration \"%s\" was accepted\n", bad[i]);
			fail();
		}
	}
}

static void test_sizes(void **state)
{
	static const struct {
		const char *s;
		int64_t b;
	} ok[] = {
		{ "512Mi", 512LL << 20 },
		{ "1Gi", 1LL << 30 },
		{ "100k", 100000 },
		{ "100K", 100000 },
		{ "1G", 1000000000LL },
		{ "1024", 1024 },
		{ "2Ti", 2LL << 40 },
		{ "3M", 3000000 },
		{ "4Ki", 4096 },
		{ "512MiB", 512LL << 20 },
		{ "1GB", 1000000000LL },
		{ "10B", 10 },
		{ "0", 0 },
		{ "1T", 1000000000000LL },
	};
	static const char *bad[] = {
		"",          "Mi",  "1.5Gi", "-1", "1 Gi", "1gi", "1m", "1Mib", "1iB", "1Bi", "9223372036854775808",
		"9000000Ti", "0x10"
	};
	int64_t v;
	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -2;
		assert_int_equal(spec_parse_size(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (spec_parse_size(bad[i], &v) != -1) {
			print_error("size \"%s\" was accepted\n", bad[i]);
			fail();
		}
	}
}

static void test_env_name(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	spec_env_name("MLCI_IN_", "features-a", &b);
	assert_string_equal(b.ptr, "MLCI_IN_FEATURES_A");
	buf_reset(&b);
	spec_env_name("MLCI_PARAM_", "learning_rate", &b);
	assert_string_equal(b.ptr, "MLCI_PARAM_LEARNING_RATE");
	buf_reset(&b);
	spec_env_name("MLCI_PARAM_", "a.b-C9", &b);
	assert_string_equal(b.ptr, "MLCI_PARAM_A_B_C9");
	buf_reset(&b);
	spec_env_name("X_", "\xc3\xa9t\xc3\xa9", &b);
	assert_string_equal(b.ptr, "X___T__");
	buf_release(&b);
}

static void test_environment_for_branch(void **state)
{
	struct spec s;
	const struct spec_environment *e;
	(void)state;
	parse_ok(&s, "pipeline: p\n"
		     "components: {a: {run: x}}\n"
		     "environments:\n"
		     "  test: {promote: auto, branches: [\"dev/*\", \"feature/*\"]}\n"
		     "  hotfix: {promote: auto, branches: [\"fix-[0-9]*\", \"dev/special\"]}\n"
		     "  staging: {promote: semi, branches: [main]}\n"
		     "  production: {promote: manual, from: staging, approvers: [alice]}\n");
	e = spec_environment_for_branch(&s, "dev/alice");
	assert_non_null(e);
	assert_string_equal(e->name, "test");
	e = spec_environment_for_branch(&s, "dev/special"); /* first in file order wins */
	assert_string_equal(e->name, "test");
	e = spec_environment_for_branch(&s, "feature/x/y"); /* "*" also matches "/" */
	assert_string_equal(e->name, "test");
	e = spec_environment_for_branch(&s, "fix-12");
	assert_string_equal(e->name, "hotfix");
	assert_null(spec_environment_for_branch(&s, "fix-x"));
	e = spec_environment_for_branch(&s, "main");
	assert_string_equal(e->name, "staging");
	assert_null(spec_environment_for_branch(&s, "mainline"));
	assert_null(spec_environment_for_branch(&s, "release/1.0"));
	spec_release(&s);
}

/* ---------- paths on disk ---------- */

static void write_file(const char *dir, const char *rel, const char *text)
{
	char *p = path_join(dir, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static void mkdir_in(const char *dir, const char *rel)
{
	char *p = path_join(dir, rel);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

static void rm_rf(const char *path)
{
	DIR *dh = opendir(path);
	struct dirent *de;
	if (!dh) {
		unlink(path);
		return;
	}
	while ((de = readdir(dh))) {
		char *p;
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = path_join(path, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_rf(p);
		else
			unlink(p);
		free(p);
	}
	closedir(dh);
	rmdir(path);
}

static void test_check_paths(void **state)
{
	char tmpl[] = "/tmp/mlci-spec-XXXXXX";
	char *root = mkdtemp(tmpl), *link;
	struct spec s;
	struct diags d;
	static const char *yaml = "pipeline: p\n"
				  "components:\n"
				  "  ok: {run: x, path: src, inputs: [data/a.csv, data], outputs: [d.csv]}\n"
				  "  notdir: {run: x, path: data/a.csv}\n"
				  "  missing: {run: x, path: nope, inputs: [data/b.csv]}\n"
				  "  escape: {run: x, inputs: [out/passwd, data/inner]}\n"
				  "checks:\n"
				  "  data: {dataset: ok/d.csv, schema: data, drift: {reference: ./missing.csv}}\n"
				  "  service: {start: x, ready: /r, contract: out}\n"
				  "triggers: {data: [data/a.csv, gone]}\n";
	static const char *want[] = {
		"mlci.yaml:4:26: components.notdir.path: path \"data/a.csv\" is not a directory",
		"mlci.yaml:5:27: components.missing.path: path \"nope\" does not exist in the repository",
		"mlci.yaml:5:42: components.missing.inputs[0]: path \"data/b.csv\" does not exist in the repository",
		"mlci.yaml:6:29: components.escape.inputs[0]: path \"out/passwd\" leaves the repository through a "
		"symlink (it resolves to \"/etc/passwd\")",
		"mlci.yaml:8:37: checks.data.schema: path \"data\" is not a regular file",
		"mlci.yaml:8:62: checks.data.drift.reference: path \"./missing.csv\" does not exist in the repository",
		"mlci.yaml:9:44: checks.service.contract: path \"out\" leaves the repository through a symlink (it "
		"resolves to \"/etc\")",
		"mlci.yaml:10:31: triggers.data[1]: path \"gone\" does not exist in the repository",
	};
	(void)state;
	assert_non_null(root);
	mkdir_in(root, "src");
	mkdir_in(root, "data");
	write_file(root, "data/a.csv", "x\n1\n");
	link = path_join(root, "out");
	assert_int_equal(symlink("/etc", link), 0);
	free(link);
	link = path_join(root, "data/inner");
	assert_int_equal(symlink("../src", link), 0); /* a symlink that stays inside is fine */
	free(link);

	spec_init(&s);
	diags_init(&d);
	if (spec_parse_buffer(&s, yaml, strlen(yaml), "mlci.yaml", &d) != 0) {
		char *all = all_diags(&d);
		print_error("%s", all);
		free(all);
		fail();
	}
	assert_int_equal(spec_check_paths(&s, root, &d), -1);
	if (d.n != sizeof(want) / sizeof(want[0])) {
		char *all = all_diags(&d);
		print_error("%s", all);
		free(all);
	}
	assert_int_equal(d.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < d.n; i++) {
		char *got = diag_str(&d, i);
		assert_string_equal(got, want[i]);
		free(got);
	}
	spec_release(&s);
	diags_release(&d);

	/* everything present: no diags */
	parse_ok(&s, "pipeline: p\ncomponents:\n  a: {run: x, path: src/, inputs: [data/a.csv, data/inner]}\n");
	diags_init(&d);
	assert_int_equal(spec_check_paths(&s, root, &d), 0);
	assert_int_equal(d.n, 0);
	spec_release(&s);
	diags_release(&d);
	rm_rf(root);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_valid_fixtures),
		cmocka_unit_test(test_template_spec),
		cmocka_unit_test(test_doc_examples),
		cmocka_unit_test(test_design_example_fields),
		cmocka_unit_test(test_defaults_and_scalar_lists),
		cmocka_unit_test(test_tolerance_and_thresholds),
		cmocka_unit_test(test_drift_reference),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_docs_example),
		cmocka_unit_test(test_diag_cap),
		cmocka_unit_test(test_too_many_components),
		cmocka_unit_test(test_long_chain),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_diag_format),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_env_name),
		cmocka_unit_test(test_environment_for_branch),
		cmocka_unit_test(test_check_paths),
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), nbad = sizeof(bad_cases) / sizeof(bad_cases[0]), n = 0;
	struct CMUnitTest *tests = xcalloc(nfixed + nbad, sizeof(*tests));
	int r;
	for (size_t i = 0; i < nfixed; i++)
		tests[n++] = fixed[i];
	for (size_t i = 0; i < nbad; i++) {
		tests[n].name = bad_cases[i].name;
		tests[n].test_func = test_bad_case;
		tests[n].initial_state = (void *)&bad_cases[i];
		n++;
	}
	r = _cmocka_run_group_tests("spec", tests, n, NULL, NULL);
	free(tests);
	return r;
}
