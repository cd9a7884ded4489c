/* test_schema.c - unit tests of checks/schema*.c: the template's schema file, inference on the template's
 * data, the exact anomalies of a corrupted copy, file:line:col errors, warnings, null tokens, write/parse,
 * and the parallel spans of data check against the streaming reader alone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "checks/csv_spans.h"
#include "checks/schema.h"
#include "common/alloc.h"
#include "common/path.h"
#include "common/banned.h"

static char *top_path(const char *rel)
{
	const char *t = getenv("TOP");
	return path_join(t && *t ? t : ".", rel);
}

static char *write_tmp(const char *content)
{
	char *path = xstrdup("/tmp/mlci-test-schema-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (long)strlen(content));
	close(fd);
	return path;
}

static void test_template_schema_parses(void **state)
{
	char *p = top_path("templates/default/schema.yaml");
	struct schema s;
	struct strvec d = STRVEC_INIT;
	(void)state;
	if (schema_parse_file(&s, p, &d))
		fail_msg("%s", d.v[0]);
	assert_int_equal(s.n_cols, 33);
	assert_string_equal(s.cols[30].name, "diagnosis");
	assert_int_equal(s.cols[30].n_domain, 2);
	assert_int_equal(s.cols[0].type, SCHEMA_FLOAT);
	assert_true(s.cols[0].has_min && s.cols[0].min == 4.0);
	schema_release(&s);
	strvec_clear(&d);
	free(p);
}

/* Infer on the real data, write it, read it back, validate the data: zero anomalies. */
static void test_infer_validates_real_data(void **state)
{
	char *data = top_path("templates/default/data/breast_cancer.csv"), *tmp;
	struct schema s, s2;
	struct strvec d = STRVEC_INIT;
	struct schema_report rep;
	struct err e = ERR_INIT;
	struct buf y = BUF_INIT;
	uint64_t rows = 0;
	(void)state;
	assert_int_equal(schema_infer_file(&s, data, &rows, &e), 0);
	assert_int_equal(rows, 569);
	assert_int_equal(s.n_cols, 31);
	assert_int_equal(s.cols[0].type, SCHEMA_FLOAT);
	assert_true(s.cols[0].min == 6.981 && s.cols[0].max == 28.11);
	assert_int_equal(s.cols[30].type, SCHEMA_STRING);
	assert_int_equal(s.cols[30].n_domain, 2);
	assert_int_equal(s.cols[0].nullable, 0);
	schema_write_yaml(&s, "test", &y);
	tmp = write_tmp(y.ptr);
	if (schema_parse_file(&s2, tmp, &d))
		fail_msg("%s\n%s", d.v[0], y.ptr);
	assert_int_equal(s2.n_cols, s.n_cols);
	for (size_t i = 0; i < s.n_cols; i++) {
		assert_string_equal(s.cols[i].name, s2.cols[i].name);
		assert_true(s.cols[i].min == s2.cols[i].min && s.cols[i].max == s2.cols[i].max);
	}
	assert_int_equal(schema_validate_file(&s2, data, &rep, &e), 0);
	assert_int_equal(rep.rows, 569);
	assert_int_equal(rep.n, 0);
	schema_report_release(&rep);
	unlink(tmp);
	free(tmp);
	buf_release(&y);
	schema_release(&s);
	schema_release(&s2);
	strvec_clear(&d);
	free(data);
}

static const struct schema_anomaly *find(const struct schema_report *rep, const char *col, enum schema_anomaly_kind k)
{
	for (size_t i = 0; i < rep->n; i++)
		if (!strcmp(rep->items[i].column, col) && rep->items[i].kind == k)
			return &rep->items[i];
	fail_msg("no %s anomaly for column '%s'", schema_anomaly_name(k), col);
	return NULL;
}

/* tests/fixtures/data/breast_cancer_corrupt.csv: the first 20 rows of the template's data with
 * mean_texture dropped, a column "extra" added, "abc" as mean_radius on line 3, mean_area 99999 on
 * lines 5 and 7, diagnosis "unknown" on line 10, mean_smoothness empty on lines 12-13 and NA on 14. */
static void test_corrupted_copy(void **state)
{
	char *data = top_path("templates/default/data/breast_cancer.csv");
	char *bad = top_path("tests/fixtures/data/breast_cancer_corrupt.csv");
	struct schema s;
	struct schema_report rep;
	struct err e = ERR_INIT;
	const struct schema_anomaly *a;
	(void)state;
	assert_int_equal(schema_infer_file(&s, data, NULL, &e), 0);
	assert_int_equal(schema_validate_file(&s, bad, &rep, &e), 0);
	assert_int_equal(rep.rows, 20);
	assert_int_equal(rep.n, 6);
	assert_int_equal(rep.errors, 6);
	a = find(&rep, "mean_texture", ANOMALY_MISSING_COLUMN);
	assert_int_equal(a->count, 1);
	a = find(&rep, "extra", ANOMALY_UNEXPECTED_COLUMN);
	assert_int_equal(a->count, 1);
	a = find(&rep, "mean_radius", ANOMALY_WRONG_TYPE);
	assert_int_equal(a->count, 1);
	assert_int_equal(a->lines[0], 3);
	assert_string_equal(a->example, "abc");
	a = find(&rep, "mean_area", ANOMALY_OUT_OF_RANGE);
	assert_int_equal(a->count, 2);
	assert_int_equal(a->n_lines, 2);
	assert_int_equal(a->lines[0], 5);
	assert_int_equal(a->lines[1], 7);
	assert_true(schema_anomaly_share(&rep, a) == 0.1);
	a = find(&rep, "diagnosis", ANOMALY_UNKNOWN_CATEGORY);
	assert_int_equal(a->count, 1);
	assert_int_equal(a->lines[0], 10);
	a = find(&rep, "mean_smoothness", ANOMALY_NULL);
	assert_int_equal(a->count, 3);
	assert_int_equal(a->lines[0], 12);
	assert_int_equal(a->lines[2], 14);
	schema_report_release(&rep);
	schema_release(&s);
	free(data);
	free(bad);
}

static void expect_diag(const char *yaml, const char *want)
{
	struct schema s;
	struct strvec d = STRVEC_INIT;
	int found = 0;
	assert_int_equal(schema_parse_buffer(&s, yaml, strlen(yaml), "s.yaml", &d), -1);
	for (size_t i = 0; i < d.n; i++)
		found |= strstr(d.v[i], want) != NULL;
	if (!found)
		fail_msg("no diag '%s' (first: %s)", want, d.n ? d.v[0] : "none");
	strvec_clear(&d);
}

static void test_bad_schema_file_line_col(void **state)
{
	(void)state;
	expect_diag("columns:\n  - name: a\n    type: flaot\n", "s.yaml:3:11: type: unknown type 'flaot'");
	expect_diag("columns:\n  - { name: a, type: int, colour: red }\n",
		    "s.yaml:2:27: columns[0]: unknown key 'colour'");
	expect_diag("columns:\n  - { name: a, type: float, min: 3, max: 1 }\n", "min 3 is greater than max 1");
	expect_diag("columns:\n  - { name: a, type: int }\n  - { name: a, type: int }\n",
		    "s.yaml:3:5: column 'a' is defined twice");
	expect_diag("columns: [ {name: a, type: int\n", "s.yaml:2:1:");
	expect_diag("", "empty schema");
	expect_diag("columns:\n  - { name: a, type: string, min: 1 }\n", "min/max need type int or float");
	expect_diag("columns:\n  - { type: int }\n", "missing 'name'");
	expect_diag("colums: []\n", "unknown key 'colums'");
}

/* Warnings, null tokens in numeric columns, bool and int types, quoted empty strings, empty data. */
static void test_warnings_nulls_and_types(void **state)
{
	const char *yaml = "unexpected_columns: warn\n"
			   "columns:\n"
			   "  - { name: n, type: float, nullable: false, warn: true, max: 10 }\n"
			   "  - { name: i, type: int, domain: [1, 2] }\n"
			   "  - { name: b, type: bool, nullable: true }\n"
			   "  - { name: s, type: string }\n"
			   "  - { name: gone, type: int, required: false }\n";
	char *csv = write_tmp("n,i,b,s,x\nNA,1,true,\"\",1\n11,02,NaN,a,1\n1.5,3,1,b,1\n");
	char *empty = write_tmp("n,i,b,s\n");
	struct schema s;
	struct strvec d = STRVEC_INIT;
	struct schema_report rep;
	struct err e = ERR_INIT;
	const struct schema_anomaly *a;
	(void)state;
	assert_int_equal(schema_parse_buffer(&s, yaml, strlen(yaml), "s.yaml", &d), 0);
	assert_int_equal(schema_validate_file(&s, csv, &rep, &e), 0);
	a = find(&rep, "n", ANOMALY_NULL);
	assert_int_equal(a->warn, 1);
	a = find(&rep, "n", ANOMALY_OUT_OF_RANGE);
	assert_int_equal(a->lines[0], 3);
	a = find(&rep, "i", ANOMALY_UNKNOWN_CATEGORY); /* 02 is 2 for an int domain; 3 is not */
	assert_int_equal(a->count, 1);
	assert_int_equal(a->lines[0], 4);
	a = find(&rep, "x", ANOMALY_UNEXPECTED_COLUMN);
	assert_int_equal(a->warn, 1);
	assert_int_equal(rep.n, 4); /* a quoted "" is a string, not a null; "gone" is not required */
	assert_int_equal(rep.errors, 1);
	assert_int_equal(rep.warnings, 3);
	schema_report_release(&rep);
	assert_int_equal(schema_validate_file(&s, empty, &rep, &e), 0);
	find(&rep, "", ANOMALY_EMPTY_DATASET);
	assert_int_equal(rep.errors, 1);
	schema_report_release(&rep);
	schema_release(&s);
	unlink(csv);
	unlink(empty);
	free(csv);
	free(empty);
}

static void test_infer_types_and_domains(void **state)
{
	char *csv = write_tmp("i,f,b,s,many,nul\n1,1.5,true,a,v1,\n2,NA,False,\"true\",v2,\n-3,2,true,a,v3,\n");
	struct schema s;
	struct err e = ERR_INIT;
	struct buf y = BUF_INIT;
	(void)state;
	assert_int_equal(schema_infer_file(&s, csv, NULL, &e), 0);
	assert_int_equal(s.cols[0].type, SCHEMA_INT);
	assert_int_equal(s.cols[0].n_domain, 3);
	assert_true(s.cols[0].min == -3);
	assert_int_equal(s.cols[1].type, SCHEMA_FLOAT);
	assert_int_equal(s.cols[1].nullable, 1);
	assert_null(s.cols[1].domain);
	assert_int_equal(s.cols[2].type, SCHEMA_BOOL);
	assert_int_equal(s.cols[3].type, SCHEMA_STRING);
	assert_int_equal(s.cols[5].type, SCHEMA_STRING);
	assert_int_equal(s.cols[5].nullable, 1);
	schema_write_yaml(&s, NULL, &y);
	assert_non_null(strstr(y.ptr, "domain: [a, \"true\"]")); /* a string that YAML would read as a bool */
	buf_release(&y);
	schema_release(&s);
	unlink(csv);
	free(csv);
}

/* Inferred bounds are written exactly: integers as integers (90, not 9e+01), floats with the shortest
 * text that reads back as the same double, and the file read back gives the same bounds. */
static void test_infer_writes_exact_bounds(void **state)
{
	char *csv = write_tmp("age,x,big\n90,0.1,-1234567890123\n18,2.675,0\n40,0.30000000000000004,7\n"
			      "41,123456.789,8\n42,1e-7,9\n43,90,10\n");
	struct schema s, back;
	struct strvec d = STRVEC_INIT;
	struct err e = ERR_INIT;
	struct buf y = BUF_INIT;
	(void)state;
	assert_int_equal(schema_infer_file(&s, csv, NULL, &e), 0);
	schema_write_yaml(&s, NULL, &y);
	assert_non_null(strstr(y.ptr, "name: age, type: int, nullable: false, min: 18, max: 90"));
	assert_null(strstr(y.ptr, "e+"));
	assert_non_null(strstr(y.ptr, "min: 1e-07, max: 123456.789"));
	assert_non_null(strstr(y.ptr, "min: -1234567890123, max: 10"));
	assert_int_equal(schema_parse_buffer(&back, y.ptr, y.len, "back.yaml", &d), 0);
	assert_int_equal(back.n_cols, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_true(back.cols[i].has_min && back.cols[i].has_max);
		assert_memory_equal(&back.cols[i].min, &s.cols[i].min, sizeof(double));
		assert_memory_equal(&back.cols[i].max, &s.cols[i].max, sizeof(double));
	}
	assert_true(back.cols[0].min == 18 && back.cols[0].max == 90);
	assert_true(back.cols[1].min == 1e-7 && back.cols[1].max == 123456.789);
	schema_release(&back);
	schema_release(&s);
	strvec_clear(&d);
	buf_release(&y);
	unlink(csv);
	free(csv);
}

/* Float range checks decide on the exact value (as strtod gives it) also next to a bound, where the
 * fast approximate product could land on the other side: 0.3 is 3 * 0.1 = 0.30000000000000004 that way. */
static void test_range_exact_at_bounds(void **state)
{
	const char *yaml = "columns:\n"
			   "  - { name: a, type: float, min: 0.1, max: 0.3 }\n"
			   "  - { name: b, type: float, min: -2.675, max: 1.005 }\n"
			   "  - { name: c, type: float, min: 0.7, max: 0.7 }\n";
	/* rows 2-5: on the bounds (no anomaly); rows 6-7: the closest 17-digit neighbours outside */
	char *csv = write_tmp("a,b,c\n0.3,1.005,0.7\n0.1,-2.675,0.70\n.3,1.0050,7e-1\n0.30,-2.6750,70e-2\n"
			      "0.30000000000000005,1.0050000000000002,0.70000000000000007\n"
			      "0.099999999999999992,-2.6750000000000003,0.69999999999999984\n");
	struct schema s;
	struct strvec d = STRVEC_INIT;
	struct schema_report rep;
	struct err e = ERR_INIT;
	(void)state;
	assert_int_equal(schema_parse_buffer(&s, yaml, strlen(yaml), "s.yaml", &d), 0);
	assert_int_equal(schema_validate_file(&s, csv, &rep, &e), 0);
	assert_int_equal(rep.n, 3);
	for (size_t i = 0; i < rep.n; i++) {
		assert_int_equal(rep.items[i].kind, ANOMALY_OUT_OF_RANGE);
		assert_int_equal(rep.items[i].count, 2);
		assert_int_equal(rep.items[i].lines[0], 6);
		assert_int_equal(rep.items[i].lines[1], 7);
	}
	schema_report_release(&rep);
	schema_release(&s);
	strvec_clear(&d);
	unlink(csv);
	free(csv);
}

/* schema_parse_float: bit-identical to strtod on plain decimals (fast path and fallback), and the
 * `float` grammar (no hex, inf, nan or spaces). */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void expect_same_as_strtod(const char *text)
{
	double d = 12345, want = strtod(text, NULL);
	if (!schema_parse_float(text, strlen(text), &d))
		fail_msg("'%s' not parsed", text);
	if (memcmp(&d, &want, sizeof(d)))
		fail_msg("'%s': %.17g != strtod %.17g", text, d, want);
}

static void test_parse_float_matches_strtod(void **state)
{
	static const char *const good[] = { "0",
					    "-0",
					    "+0",
					    "0.0",
					    "-0.0",
					    "1",
					    "-1",
					    "1.",
					    ".5",
					    "-.5",
					    "+.5e1",
					    "26.4409",
					    "000123.4500",
					    "1e22",
					    "1e23",
					    "9007199254740992",
					    "9007199254740993",
					    "9007199254740993.0",
					    "1234567890123456789",
					    "12345678901234567890",
					    "0.000000000000000000000000001",
					    "1E-5",
					    "1e-22",
					    "1e-23",
					    "4.9e-324",
					    "2.4703282292062327e-324",
					    "1e-400",
					    "1.7976931348623157e308",
					    "3.14159265358979323846264338327950288",
					    "0.1",
					    "0.2",
					    "0.3",
					    "123456789012345.678",
					    "7e-10",
					    "1e+000000000000000000003" };
	static const char *const bad[] = { "",     "-",        "+",    ".",   "-.",    "e5",     "1e",
					   "1e+",  "1.2.3",    "12 ",  " 12", "0x10",  "abc",    "inf",
					   "-inf", "Infinity", "nan",  "NaN", "1e400", "-1e309", "1,5",
					   "--1",  "1e5.0",    "1 e5", "1d5" };
	char text[96];
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		expect_same_as_strtod(good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		double d;
		if (schema_parse_float(bad[i], strlen(bad[i]), &d))
			fail_msg("'%s' parsed as %g", bad[i], d);
	}
	/* random decimals of every shape: digits before and after the point, signs, exponents */
	for (int i = 0; i < 300000; i++) {
		uint64_t r = rng();
		int n_int = (int)(r % 12), n_frac = (int)((r >> 4) % 14), k = 0;
		if (r >> 63)
			text[k++] = (r >> 62) & 1 ? '-' : '+';
		for (int j = 0; j < n_int; j++)
			text[k++] = (char)('0' + rng() % 10);
		if (n_frac || !n_int) {
			text[k++] = '.';
			for (int j = 0; j < (n_frac ? n_frac : 1); j++)
				text[k++] = (char)('0' + rng() % 10);
		}
		if ((r >> 10) % 4 == 0)
			k += snprintf(text + k, sizeof(text) - (size_t)k, "e%d", (int)((r >> 12) % 80) - 40);
		text[k] = '\0';
		expect_same_as_strtod(text);
	}
	/* printf's shortest forms of random doubles over a wide range */
	for (int i = 0; i < 200000; i++) {
		uint64_t r = rng();
		double x = (double)(r >> 11) / 9007199254740992.0 * pow(10, (int)(rng() % 40) - 20);
		snprintf(text, sizeof(text), i % 2 ? "%.*g" : "%.*f", 1 + (int)(r % 17), r & 1 ? -x : x);
		expect_same_as_strtod(text);
	}
}

/* ---------- parallel spans: the same report as the reader alone ---------- */

static const char span_yaml[] = "columns:\n"
				"  - { name: a, type: int, min: -5, max: 1000 }\n"
				"  - { name: b, type: float, min: -1.5, max: 2000 }\n"
				"  - { name: c, type: string, domain: [x, yy, a-value-longer-than-8, abcdefgh] }\n"
				"  - { name: d, type: bool, nullable: true }\n"
				"  - { name: e, type: string, nullable: true }\n"
				"  - { name: f, type: int, domain: [1, 2, 3] }\n"
				"  - { name: g, type: float, nullable: true, min: 0.1, max: 0.3 }\n"
				"  - { name: h, type: bool, domain: [true, false] }\n";

static char *report_text(const struct schema_report *rep)
{
	cJSON *j = schema_report_json(rep);
	char *t = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return t;
}

/* The report (or error) of "data" validated by the reader alone, and by spans of every size from 1 byte
 * up (1, 5, 21, ... bytes) on 1 to 3 threads: all the same. */
static void expect_spans_agree(const struct schema *s, const char *data, size_t len)
{
	struct schema_report rep;
	struct err e = ERR_INIT;
	char *want, *got;
	FILE *f = fmemopen((void *)data, len, "r");
	int k = schema_validate_stream(s, f, "t.csv", NULL, 0, 2, &rep, &e);
	fclose(f);
	want = k ? xstrdup(err_msg(&e)) : report_text(&rep);
	schema_report_release(&rep);
	err_release(&e);
	for (int threads = 1; threads <= 3; threads++)
		for (size_t min = 1; min <= len + 1; min = min * 4 + 1) {
			csv_span_min = min;
			f = fmemopen((void *)data, len, "r");
			k = schema_validate_stream(s, f, "t.csv", data, len, threads, &rep, &e);
			fclose(f);
			got = k ? xstrdup(err_msg(&e)) : report_text(&rep);
			if (strcmp(want, got))
				fail_msg("%d threads, spans of %zu bytes:\n got %s\nwant %s\ndata:\n%s", threads, min,
					 got, want, data);
			free(got);
			schema_report_release(&rep);
			err_release(&e);
		}
	csv_span_min = (size_t)1 << 20;
	free(want);
}

static const char *const span_tokens[] = { "0",
					   "-0",
					   "+0",
					   "1",
					   "-5",
					   "-6",
					   "1000",
					   "1001",
					   "999.5",
					   "9223372036854775807",
					   "-9223372036854775808",
					   "9223372036854775808",
					   "-9223372036854775809",
					   "123456789012345678",
					   "1234567890123456789",
					   "12345678901234567890",
					   "00000000000000000001",
					   "0.1",
					   "0.3",
					   ".5",
					   "5.",
					   "-.5",
					   "+.5e1",
					   "1e3",
					   "2e3",
					   "2000",
					   "2000.0000000000002",
					   "1999.9999999999998",
					   "-1.5",
					   "-1.5000000000000002",
					   "-1.4999999999999998",
					   "0.30000000000000004",
					   "0.29999999999999999",
					   "0.09999999999999999",
					   "0.1000000000000000055511151231257827",
					   "inf",
					   "-inf",
					   "nan",
					   "NaN",
					   "NA",
					   "null",
					   "None",
					   "NULL",
					   "n",
					   "",
					   "x",
					   "yy",
					   "yyy",
					   "a-value-longer-than-8",
					   "a-value-longer-than-9",
					   "abcdefgh",
					   "abcdefg",
					   "abcdefghi",
					   "true",
					   "false",
					   "TRUE",
					   "False",
					   "0x10",
					   "1,5",
					   "1 ",
					   " 1",
					   "-",
					   "+",
					   ".",
					   "1e",
					   "1e400",
					   "2",
					   "3",
					   "4",
					   "tru",
					   "0.2",
					   "7e-1",
					   "1.7976931348623157e308" };

static void add_field(struct buf *b, uint64_t r, size_t col)
{
	const char *t = span_tokens[(r >> 8) % (sizeof(span_tokens) / sizeof(span_tokens[0]))];
	switch (r % 16) {
	case 0: /* quoted, maybe with a comma, a quote or a line break inside */
		buf_addch(b, '"');
		buf_addstr(b, t);
		if (r & 0x10000)
			buf_addstr(b, (r & 0x20000) ? "\n" : (r & 0x40000) ? "\"\"" : ",");
		buf_addch(b, '"');
		return;
	case 1: /* a lone CR or a NUL inside */
		buf_addstr(b, t);
		buf_add(b, (r & 0x10000) ? "\r" : "\0", 1);
		buf_addstr(b, t);
		return;
	case 2:
	case 3: /* a value typical of the column */
		buf_addstr(b, col == 0   ? "17"
			      : col == 1 ? "12.25"
			      : col == 2 ? "yy"
			      : col == 3 ? "true"
			      : col == 5 ? "2"
			      : col == 6 ? "0.2"
			      : col == 7 ? "false"
					 : "text");
		return;
	default:
		buf_addstr(b, t);
	}
}

static void test_spans_agree_random(void **state)
{
	struct schema s;
	struct strvec d = STRVEC_INIT;
	(void)state;
	assert_int_equal(schema_parse_buffer(&s, span_yaml, strlen(span_yaml), "s.yaml", &d), 0);
	int iters = getenv("MLCI_VALGRIND") ? 40 : 300; /* valgrind runs threads one at a time, slowly */
	for (int iter = 0; iter < iters; iter++) {
		struct buf b = BUF_INIT;
		int rows = (int)(rng() % 30), plain = iter % 2; /* half the files without quotes, CRs or NULs */
		buf_addstr(&b, iter % 7 ? "a,b,c,d,e,f,g,h"
					: "\xef\xbb\xbf"
					  "a,b,c,d,e,f,g,h");
		buf_addstr(&b, iter % 5 ? "\n" : "\r\n");
		for (int i = 0; i < rows; i++) {
			uint64_t r = rng();
			size_t nf = r % 10 ? 8 : 6 + (size_t)(r >> 60) % 4;
			if (r % 23 == 0)
				buf_addstr(&b, (r >> 20) % 2 ? "\n" : "\r\n"); /* a blank line */
			for (size_t j = 0; j < nf; j++) {
				uint64_t x = rng();
				if (j)
					buf_addch(&b, ',');
				if (plain)
					x |= 4; /* never cases 0 and 1 */
				add_field(&b, x, j);
			}
			if (i + 1 < rows || rng() % 3)
				buf_addstr(&b, r % 4 ? "\n" : "\r\n"); /* the last line may lack its line break */
		}
		expect_spans_agree(&s, b.ptr, b.len);
		buf_release(&b);
	}
	schema_release(&s);
	strvec_clear(&d);
}

/* Hand-made cases: a quoted field with line breaks across every possible span boundary, CRLF, no final
 * line break, a lone CR at a record start, an unterminated quote (an error: the same message), a field
 * over the limit. */
static void test_spans_agree_cases(void **state)
{
	static const char *const cases[] = {
		("a,b,c,d,e,f,g,h\n1,1,x,true,\"multi\nline\nfield\",1,0.2,true\n2,2,yy,false,,2,0.3,false\n"
		 "3,3,x,true,e,3,0.1,true\n"),
		"a,b,c,d,e,f,g,h\r\n1,1,x,true,e,1,0.2,true\r\n2,2,yy,false,,2,0.3,false\r\n3,3,x,1,e,3,0.1,true",
		"a,b,c,d,e,f,g,h\n1,1,x,true,e,1,0.2,true\n\r2,2,yy,false,,2,0.3,false\n\n\n3,3,x,1,e,3,0.1,true\r",
		"a,b,c,d,e,f,g,h\n1,1,x,true,e,1,0.2,true\n2,2,yy,false,\"unterminated,2,0.3,false\n3,3,x,1,e,3,0.1,"
		"t\n",
		"a,b,c,d,e,f,g,h\n1,1,x,true,e,1,0.2,true\n2,2,yy,false,\"a\"b,2,0.3,false\n3,3,x,1,e,3,0.1,true\n",
		"a,b,c,d,e,f,g,h\n1,1,x,true,e,1,0.2,true\n2,2,yy,false,a\"b,2,0.3,false\n3,3,x,1,e,3,0.1,true\n",
		"a,b,c,d,e,f,g,h\n",
		"a,b,c,d,e,f,g,h",
		"a,b,c,d,e,f,g,h\n\n\n",
		"x,a,b\n1,2,3\n4,5,6,7\n",
	};
	struct schema s;
	struct strvec d = STRVEC_INIT;
	(void)state;
	assert_int_equal(schema_parse_buffer(&s, span_yaml, strlen(span_yaml), "s.yaml", &d), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_spans_agree(&s, cases[i], strlen(cases[i]));
	schema_release(&s);
	strvec_clear(&d);
}

/* A file that shrinks while its mapping is read (rewritten by another program meanwhile) is an error
 * naming the file, not a SIGBUS that kills mlci. */
static void test_file_shrinking_under_the_mapping(void **state)
{
	char path[] = "/tmp/mlci-shrink-XXXXXX";
	int fd = mkstemp(path);
	FILE *f, *w;
	struct schema s;
	struct strvec d = STRVEC_INIT;
	struct schema_report rep;
	struct err e = ERR_INIT;
	size_t len;
	char *map;
	int k;
	(void)state;
	assert_true(fd >= 0);
	w = fdopen(fd, "w");
	assert_non_null(w);
	fputs("a,b,c,d,e,f,g,h\n", w);
	for (int i = 0; i < 20000; i++)
		fprintf(w, "%d,1.5,x,true,e,1,0.2,true\n", i % 1000);
	fflush(w);
	len = (size_t)ftell(w);
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(ftruncate(fd, 100), 0); /* the header and a few rows: the first page only */
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(schema_parse_buffer(&s, span_yaml, strlen(span_yaml), "s.yaml", &d), 0);
	csv_span_min = 4096;
	k = schema_validate_stream(&s, f, path, map, len, 2, &rep, &e);
	csv_span_min = (size_t)1 << 20;
	assert_int_equal(k, -1);
	assert_non_null(strstr(err_msg(&e), "became shorter while it was read"));
	assert_non_null(strstr(err_msg(&e), path));
	schema_report_release(&rep);
	err_release(&e);
	schema_release(&s);
	strvec_clear(&d);
	fclose(f);
	munmap(map, len);
	fclose(w);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_schema_parses),
		cmocka_unit_test(test_infer_validates_real_data),
		cmocka_unit_test(test_corrupted_copy),
		cmocka_unit_test(test_bad_schema_file_line_col),
		cmocka_unit_test(test_warnings_nulls_and_types),
		cmocka_unit_test(test_infer_types_and_domains),
		cmocka_unit_test(test_parse_float_matches_strtod),
		cmocka_unit_test(test_range_exact_at_bounds),
		cmocka_unit_test(test_infer_writes_exact_bounds),
		cmocka_unit_test(test_spans_agree_random),
		cmocka_unit_test(test_spans_agree_cases),
		cmocka_unit_test(test_file_shrinking_under_the_mapping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
