/* test_contract.c - unit tests of checks/contract*.c: JSON paths, YAML -> JSON values, every matcher and its
 * message, status classes, file:line:col diagnostics, the template's case files, and the parity key. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/contract.h"
#include "checks/protocol.h"
#include "spec/spec.h"
#include "common/alloc.h"
#include "common/path.h"
#include "common/banned.h"

static char *top_path(const char *rel)
{
	const char *t = getenv("TOP");
	return path_join(t && *t ? t : ".", rel);
}

/* Parse "yaml" that must be valid; the caller releases "c". */
static void parse_ok(const char *yaml, struct contract_cases *c)
{
	struct strvec d = STRVEC_INIT;
	if (contract_parse_buffer(c, yaml, strlen(yaml), "t.yaml", &d) < 0)
		fail_msg("unexpected diag: %s", d.n ? d.v[0] : "?");
	strvec_clear(&d);
}

/* Parse "yaml" that must fail; returns the diags joined by '\n' (malloc'd). */
static char *parse_bad(const char *yaml)
{
	struct contract_cases c = CONTRACT_CASES_INIT;
	struct strvec d = STRVEC_INIT;
	struct buf b = BUF_INIT;
	assert_int_equal(contract_parse_buffer(&c, yaml, strlen(yaml), "t.yaml", &d), -1);
	assert_int_equal(c.n, 0);
	for (size_t i = 0; i < d.n; i++)
		buf_addf(&b, "%s\n", d.v[i]);
	strvec_clear(&d);
	contract_cases_release(&c);
	return buf_detach(&b, NULL);
}

/* Check "body" against the only case of "yaml"; returns the problems joined by '\n' ("" = passed). */
static char *check(const char *yaml, long status, double ms, const char *body)
{
	struct contract_cases c = CONTRACT_CASES_INIT;
	struct contract_result r;
	struct buf b = BUF_INIT;
	parse_ok(yaml, &c);
	assert_int_equal(c.n, 1);
	contract_result_init(&r);
	contract_check_response(&c.items[0], status, ms, body, strlen(body), &r);
	assert_int_equal(r.passed, r.problems.n == 0);
	for (size_t i = 0; i < r.problems.n; i++)
		buf_addf(&b, "%s\n", r.problems.v[i]);
	contract_result_release(&r);
	contract_cases_release(&c);
	return buf_detach(&b, NULL);
}

static void collect(const cJSON *v, const char *where, void *payload)
{
	struct strvec *sv = payload;
	char *t = cJSON_PrintUnformatted(v);
	strvec_pushf(sv, "%s=%s", where, t);
	cJSON_free(t);
}

static void test_paths(void **state)
{
	cJSON *j = cJSON_Parse("{\"outputs\":[{\"name\":\"p\",\"data\":[1,2]},{\"name\":\"l\",\"data\":[\"a\"]}],"
			       "\"a.b\":{\"c\":true},\"\":0}");
	struct contract_path p;
	struct buf why = BUF_INIT;
	struct strvec got = STRVEC_INIT;
	(void)state;
	assert_int_equal(contract_path_parse("outputs[1].data[0]", &p, &why), 0);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.segs[1].kind, CONTRACT_SEG_INDEX);
	assert_int_equal(p.segs[1].index, 1);
	assert_int_equal(contract_path_each(j, &p, collect, &got), 1);
	assert_string_equal(got.v[0], "outputs[1].data[0]=\"a\"");
	contract_path_release(&p);
	strvec_clear(&got);

	assert_int_equal(contract_path_parse("$.outputs[*].name", &p, &why), 0);
	assert_int_equal(contract_path_each(j, &p, collect, &got), 2);
	assert_string_equal(got.v[0], "outputs[0].name=\"p\"");
	assert_string_equal(got.v[1], "outputs[1].name=\"l\"");
	contract_path_release(&p);
	strvec_clear(&got);

	assert_int_equal(contract_path_parse("[\"a.b\"].c", &p, &why), 0);
	assert_int_equal(contract_path_each(j, &p, collect, &got), 1);
	assert_string_equal(got.v[0], "[\"a.b\"].c=true");
	contract_path_release(&p);
	strvec_clear(&got);

	assert_int_equal(contract_path_parse("", &p, &why), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(contract_path_each(j, &p, collect, &got), 1);
	contract_path_release(&p);
	strvec_clear(&got);

	/* absent: wrong kind of container, index past the end, missing key */
	assert_int_equal(contract_path_parse("outputs.name", &p, &why), 0);
	assert_int_equal(contract_path_each(j, &p, collect, &got), 0);
	contract_path_release(&p);
	assert_int_equal(contract_path_parse("outputs[7]", &p, &why), 0);
	assert_int_equal(contract_path_each(j, &p, collect, &got), 0);
	contract_path_release(&p);

	static const char *const bad[] = { "a[", "a[x]", "a..b", "a.", "a[1", "a]b", "[\"k", "$x", "a[1]b", NULL };
	for (size_t i = 0; bad[i]; i++) {
		buf_reset(&why);
		if (contract_path_parse(bad[i], &p, &why) == 0)
			fail_msg("path \"%s\" should be refused", bad[i]);
		assert_true(why.len > 0);
	}
	buf_release(&why);
	cJSON_Delete(j);
}

static void test_template_cases(void **state)
{
	char *dir = top_path("templates/default/contracts");
	struct contract_cases c = CONTRACT_CASES_INIT;
	struct strvec d = STRVEC_INIT;
	(void)state;
	if (contract_load(&c, dir, "contracts", &d) < 0)
		fail_msg("%s", d.v[0]);
	assert_int_equal(c.n, 13);
	/* bad_request.yaml first (name order) */
	assert_string_equal(c.items[0].file, "contracts/bad_request.yaml");
	assert_string_equal(c.items[0].method, "POST");
	assert_int_equal(c.items[0].status[0].lo, 400);
	assert_true(c.items[0].max_latency_ms == 200);
	assert_non_null(strstr(c.items[0].body, "\"shape\":[1,29]"));
	assert_non_null(strstr(c.items[0].body, "\"data\":[20.57,17.77,132.9,1326,0.08474,"));
	assert_string_equal(c.items[0].headers.v[0], "Content-Type: application/json");
	/* the unknown-model case expects an exact error string */
	assert_string_equal(c.items[4].json[0].text, "error");
	assert_string_equal(c.items[4].json[0].equals->valuestring, "unknown model 'no-such-model'");
	/* predict.yaml: dotted paths, numbers */
	assert_string_equal(c.items[9].name, "model metadata describes the tensors");
	assert_int_equal(c.items[9].n_json, 7);
	assert_string_equal(c.items[9].json[3].text, "inputs[0].shape[1]");
	assert_true(cJSON_IsNumber(c.items[9].json[3].equals) && c.items[9].json[3].equals->valuedouble == 30);
	assert_string_equal(c.items[12].json[0].equals->valuestring, "contract-batch-1");
	assert_string_equal(c.items[6].method, "GET");
	assert_null(c.items[6].body);
	assert_true(cJSON_IsTrue(c.items[6].json[0].equals));
	contract_cases_release(&c);
	strvec_clear(&d);
	free(dir);
}

static void test_yaml_to_json_values(void **state)
{
	struct contract_cases c = CONTRACT_CASES_INIT;
	(void)state;
	parse_ok("cases:\n"
		 "  - name: v\n"
		 "    request:\n"
		 "      path: /x\n"
		 "      body: { a: 1, b: -2.5e3, c: '1', d: true, e: TRUE, f: ~, g: null, h: , i: [x, \"y\"],\n"
		 "              j: 0x1F, k: +7, l: yes, m: { n: [] } }\n",
		 &c);
	assert_string_equal(c.items[0].body, "{\"a\":1,\"b\":-2500,\"c\":\"1\",\"d\":true,\"e\":true,\"f\":null,"
					     "\"g\":null,\"h\":null,\"i\":[\"x\",\"y\"],\"j\":\"0x1F\",\"k\":7,"
					     "\"l\":\"yes\",\"m\":{\"n\":[]}}");
	assert_string_equal(c.items[0].method, "POST");
	assert_int_equal(c.items[0].n_status, 1);
	assert_int_equal(c.items[0].status[0].lo, 200);
	assert_int_equal(c.items[0].status[0].hi, 299);
	contract_cases_release(&c);
}

static const char *const META =
	"{\"name\":\"m\",\"versions\":[\"1\"],\"n\":3,\"x\":0.25,\"s\":\"hello world\","
	"\"outputs\":[{\"name\":\"p\",\"shape\":[2],\"data\":[0.1,0.9]},"
	"{\"name\":\"l\",\"shape\":[2],\"data\":[\"a\",\"b\"]}],\"obj\":{\"k\":1},\"nil\":null}";

static void test_matchers_pass(void **state)
{
	char *p;
	(void)state;
	p = check("cases:\n"
		  "  - name: all\n"
		  "    request: { path: /m }\n"
		  "    expect:\n"
		  "      status: [200, 3xx]\n"
		  "      max_latency_ms: 50\n"
		  "      json:\n"
		  "        name: m\n"
		  "        n: 3.0\n"
		  "        versions: [\"1\"]\n"
		  "        obj: { equals: { k: 1 } }\n"
		  "        nil: null\n"
		  "        x: { type: number, min: 0, max: 0.25 }\n"
		  "        n2: { exists: false }\n"
		  "        \"outputs[*].shape\": { len: 1, type: array }\n"
		  "        \"outputs[0].data[*]\": { min: 0, max: 1 }\n"
		  "        \"outputs[1].data[1]\": { one_of: [a, b] }\n"
		  "        s: { contains: lo w, min_len: 5, max_len: 11 }\n"
		  "        \"$.n\": { type: integer }\n"
		  "        outputs: { len: 2 }\n"
		  "        \"[\\\"obj\\\"]\": { type: object, len: 1 }\n",
		  302, 12.0, META);
	assert_string_equal(p, "");
	free(p);
}

static void test_matchers_fail_messages(void **state)
{
	char *p;
	(void)state;
	p = check("cases:\n"
		  "  - name: all\n"
		  "    request: { path: /m }\n"
		  "    expect:\n"
		  "      status: 4xx\n"
		  "      max_latency_ms: 5\n"
		  "      json:\n"
		  "        name: other\n"
		  "        x: { min: 0.5 }\n"
		  "        n: { max: 2 }\n"
		  "        s: { type: number }\n"
		  "        versions: { len: 2 }\n"
		  "        \"outputs[*].data\": { max_len: 1 }\n"
		  "        \"outputs[1].data[0]\": { one_of: [x, y] }\n"
		  "        \"outputs[0].name\": { contains: q }\n"
		  "        obj: { exists: false }\n"
		  "        \"missing.deep[2]\": 1\n"
		  "        \"nil\": { type: string }\n"
		  "        \"$.x\": { type: integer }\n",
		  200, 12.5, META);
	assert_string_equal(p, "status: expected 4xx, got 200\n"
			       "latency: expected <= 5 ms, got 12.5 ms\n"
			       "name: expected \"other\", got \"m\"\n"
			       "x: expected >= 0.5, got 0.25\n"
			       "n: expected <= 2, got 3\n"
			       "s: expected type number, got string \"hello world\"\n"
			       "versions: expected length 2, got length 1\n"
			       "outputs[0].data: expected length <= 1, got length 2\n"
			       "outputs[1].data: expected length <= 1, got length 2\n"
			       "outputs[1].data[0]: expected one of [\"x\",\"y\"], got \"a\"\n"
			       "outputs[0].name: expected a string containing \"q\", got \"p\"\n"
			       "obj: expected no such value, got {\"k\":1}\n"
			       "missing.deep[2]: missing (expected 1)\n"
			       "nil: expected type string, got null null\n"
			       "x: expected type integer, got number 0.25\n");
	free(p);
	/* not JSON at all */
	p = check("cases:\n  - name: j\n    request: { path: /m }\n    expect: { json: { a: 1 } }\n", 200, 1, "<html>");
	assert_string_equal(p, "body: expected JSON, got \"<html>\"\n");
	free(p);
	p = check("cases:\n  - name: j\n    request: { path: /m }\n    expect: { status: [400, 404] }\n", 500, 1, "");
	assert_string_equal(p, "status: expected 400 or 404, got 500\n");
	free(p);
}

static void test_diagnostics(void **state)
{
	char *d;
	(void)state;
	d = parse_bad(
		"cases:\n"
		"  - name: a\n"
		"    request: { method: get, path: x, colour: 1, headers: { \"bad name\": v } }\n"
		"    expect: { status: 700, json: { \"a[\": 1, b: {}, c: { type: float }, d: { min: 2, max: 1 } } }\n"
		"    extra: 1\n"
		"  - request: { path: /ok }\n"
		"  - name: a\n"
		"    request: { path: /ok, body: 1, body_text: x }\n"
		"    expect: { max_latency_ms: -1, json: { e: { exists: false, type: string } } }\n");
	assert_string_equal(
		d, "t.yaml:3:24: request.method: expected an upper-case HTTP method such as GET or POST, got \"get\"\n"
		   "t.yaml:3:35: request.path: expected an HTTP path starting with '/' and without spaces, got \"x\"\n"
		   "t.yaml:3:38: request: unknown key \"colour\" (expected one of: method, path, headers, body, "
		   "body_text)\n"
		   "t.yaml:3:60: request.headers: invalid header name\n"
		   "t.yaml:4:23: expect.status: expected an HTTP status (100 to 599) or a class such as \"4xx\"\n"
		   "t.yaml:4:36: expect.json: expected an index, [*] or [\"key\"] after '[' in path \"a[\"\n"
		   "t.yaml:4:48: expect.json.\"b\": empty matcher (to expect an empty object, write {equals: {}})\n"
		   "t.yaml:4:63: expect.json.\"c\".type: expected one of string, number, integer, boolean, null, "
		   "array, object\n"
		   "t.yaml:4:82: expect.json.\"d\": min 2 is greater than max 1\n"
		   "t.yaml:5:5: cases[0]: unknown key \"extra\" (expected one of: name, request, expect, timeout_ms)\n"
		   "t.yaml:6:5: cases[1]: missing required key \"name\"\n"
		   "t.yaml:8:47: request: give \"body\" (JSON) or \"body_text\" (sent as is), not both\n"
		   "t.yaml:9:31: expect.max_latency_ms: expected a number > 0\n"
		   "t.yaml:9:69: expect.json.\"e\": \"exists: false\" cannot be combined with other matchers\n");
	free(d);
	d = parse_bad("cases:\n  - { name: a, request: { path: /a } }\n  - { name: a, request: { path: /b } }\n");
	assert_string_equal(d, "t.yaml:3:5: duplicate case name \"a\" (also at line 2)\n");
	free(d);
	d = parse_bad("cases: [ { name: x, request: { path: /a\n");
	assert_non_null(strstr(d, "t.yaml:2:1: did not find expected ',' or '}'"));
	free(d);
	d = parse_bad("");
	assert_string_equal(d, "t.yaml:1:1: empty case file (expected a \"cases\" list)\n");
	free(d);
	d = parse_bad("cases: 1\n");
	assert_string_equal(d, "t.yaml:1:8: cases: expected a sequence, got a scalar\n");
	free(d);
	d = parse_bad("kases: []\n");
	assert_non_null(strstr(d, "t.yaml:1:1: case file: unknown key \"kases\" (expected one of: cases)\n"));
	free(d);
	d = parse_bad("cases:\n  - name: x\n    request: { path: /a, body: { n: .inf } }\n");
	assert_string_equal(d, "t.yaml:3:37: '.inf' has no JSON form (JSON numbers are finite)\n");
	free(d);
	/* a billion laughs is bounded, not expanded */
	d = parse_bad("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		      "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		      "cases:\n  - name: x\n    request: { path: /a, body: [*f, *f, *f] }\n");
	assert_non_null(strstr(d, "more than 200000 values"));
	free(d);
}

static void test_kserve_request_from_metadata(void **state)
{
	cJSON *meta = cJSON_Parse("{\"name\":\"m\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,3]},"
				  "{\"name\":\"t\",\"datatype\":\"BYTES\",\"shape\":[2]},"
				  "{\"name\":\"b\",\"datatype\":\"BOOL\",\"shape\":[-1,-1]}],\"outputs\":[]}");
	char why[128], *t;
	cJSON *req;
	(void)state;
	req = protocol_kserve_request(meta, why, sizeof(why));
	assert_non_null(req);
	t = cJSON_PrintUnformatted(req);
	assert_string_equal(t, "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[0,0,0]},"
			       "{\"name\":\"t\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"\",\"\"]},"
			       "{\"name\":\"b\",\"datatype\":\"BOOL\",\"shape\":[1,1],\"data\":[false]}]}");
	cJSON_free(t);
	cJSON_Delete(req);
	cJSON_Delete(meta);
	meta = cJSON_Parse("{\"name\":\"m\",\"inputs\":[]}");
	assert_null(protocol_kserve_request(meta, why, sizeof(why)));
	assert_string_equal(why, "the model metadata has no inputs");
	cJSON_Delete(meta);
	meta = cJSON_Parse("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[100000,100000]}]}");
	assert_null(protocol_kserve_request(meta, why, sizeof(why)));
	assert_non_null(strstr(why, "more than 1000000"));
	cJSON_Delete(meta);
}

static const char *const SPEC_HEAD = "pipeline: p\n"
				     "components:\n"
				     "  evaluate: { run: \"true\", outputs: [parity.csv, predictions.csv] }\n"
				     "checks:\n";

static void test_spec_parity_key(void **state)
{
	struct spec s;
	struct diags d;
	struct buf y = BUF_INIT, msg = BUF_INIT;
	(void)state;
	buf_addf(&y,
		 "%s  service: { start: x, ready: /r, parity: { data: evaluate/parity.csv, "
		 "predictions: evaluate/predictions.csv, tolerance: 0.001 } }\n",
		 SPEC_HEAD);
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_buffer(&s, y.ptr, y.len, "mlci.yaml", &d), 0);
	assert_true(s.checks.service.parity_present);
	assert_string_equal(s.checks.service.parity_data.output, "parity.csv");
	assert_int_equal(s.checks.service.parity_predictions.comp, 0);
	assert_true(s.checks.service.parity_tolerance == 0.001);
	spec_release(&s);
	diags_release(&d);

	buf_reset(&y);
	buf_addf(&y, "%s  service: { start: x, ready: /r, parity: { data: evaluate/parity.cvs, tolerance: -1 } }\n",
		 SPEC_HEAD);
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_buffer(&s, y.ptr, y.len, "mlci.yaml", &d), -1);
	for (size_t i = 0; i < d.n; i++) {
		diag_format(&d, i, &msg);
		buf_addch(&msg, '\n');
	}
	assert_non_null(strstr(msg.ptr, "checks.service.parity: missing required key \"predictions\""));
	assert_non_null(strstr(msg.ptr, "checks.service.parity.data: component \"evaluate\" declares no output "
					"\"parity.cvs\" (did you mean \"parity.csv\"?)"));
	assert_non_null(strstr(msg.ptr, "checks.service.parity.tolerance:"));
	spec_release(&s);
	diags_release(&d);

	/* parity needs a protocol to send rows with */
	buf_reset(&y);
	buf_reset(&msg);
	buf_addf(&y,
		 "%s  service: { start: x, ready: /r, protocol: none, parity: { data: evaluate/parity.csv, "
		 "predictions: evaluate/predictions.csv } }\n",
		 SPEC_HEAD);
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_buffer(&s, y.ptr, y.len, "mlci.yaml", &d), -1);
	assert_int_equal(d.n, 1);
	diag_format(&d, 0, &msg);
	assert_string_equal(msg.ptr, "mlci.yaml:5:59: checks.service.parity: parity sends rows through the protocol's "
				     "predict call: it needs protocol kserve-v2 or tfserving-v1, not none");
	spec_release(&s);
	diags_release(&d);

	/* the default tolerance */
	buf_reset(&y);
	buf_addf(&y,
		 "%s  service: { start: x, ready: /r, parity: { data: evaluate/parity.csv, "
		 "predictions: evaluate/predictions.csv } }\n",
		 SPEC_HEAD);
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_buffer(&s, y.ptr, y.len, "mlci.yaml", &d), 0);
	assert_true(s.checks.service.parity_tolerance == 1e-6);
	spec_release(&s);
	diags_release(&d);
	buf_release(&y);
	buf_release(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_template_cases),
		cmocka_unit_test(test_yaml_to_json_values),
		cmocka_unit_test(test_matchers_pass),
		cmocka_unit_test(test_matchers_fail_messages),
		cmocka_unit_test(test_diagnostics),
		cmocka_unit_test(test_kserve_request_from_metadata),
		cmocka_unit_test(test_spec_parity_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
