/* test_stats.c - unit tests of checks/stats.c: number parsing, nulls, typing, moments and quantiles
 * against an exact computation (sorting), bounded categories, the JSON round trip. No files left behind. */
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

#include "checks/stats.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/banned.h"

/* ---------------------------------------------------------------- helpers */

static uint64_t rng_state = 88172645463325252ull;

static double uniform(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static double gaussian(void)
{
	return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void assert_rel(double got, double want, double rel)
{
	double tol = rel * fmax(fabs(want), 1e-300);
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.17g, want %.17g (relative tolerance %g)", got, want, rel);
}

/* Feed "v" to a fresh column by formatting each value as text (the path data files take), then check
 * every statistic against the exact ones computed from the sorted values. */
static void check_against_exact(const double *v, size_t n)
{
	struct stats s;
	const char *name = "x";
	double *sorted = malloc(n * sizeof(*sorted));
	long double sum = 0, ss = 0, mean;
	char text[64];
	assert_non_null(sorted);
	stats_init(&s, &name, 1);
	for (size_t i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "%.17g", v[i]);
		stats_add(&s.cols[0], text, strlen(text));
		sorted[i] = v[i];
		sum += v[i];
	}
	qsort(sorted, n, sizeof(*sorted), dcmp);
	mean = sum / (long double)n;
	for (size_t i = 0; i < n; i++)
		ss += ((long double)v[i] - mean) * ((long double)v[i] - mean);
	assert_int_equal(stats_col_type(&s.cols[0]), STATS_NUMERIC);
	assert_int_equal(s.cols[0].n_num, n);
	assert_rel(s.cols[0].mean, (double)mean, 1e-9);
	assert_rel(stats_col_std(&s.cols[0]), sqrt((double)(ss / (long double)(n - 1))), 1e-9);
	assert_true(s.cols[0].min == sorted[0]);
	assert_true(s.cols[0].max == sorted[n - 1]);
	for (int q = 0; q < STATS_NQ; q++) {
		double p = stats_quantile_ps[q];
		double exact = sorted[(size_t)floor(p * (double)(n - 1))];
		double got = stats_quantile(&s.cols[0], p);
		if (!(fabs(got - exact) <= fabs(exact) * STATS_REL_ERROR * (1 + 1e-12)))
			fail_msg("p%g: got %.17g, exact %.17g, error %.3g%% > %.3g%%", p * 100, got, exact,
				 100 * fabs(got - exact) / fabs(exact), 100 * STATS_REL_ERROR);
	}
	/* and every percentile, not only the reported ones */
	for (int k = 0; k <= 100; k++) {
		double p = k / 100.0, exact = sorted[(size_t)floor(p * (double)(n - 1))];
		assert_true(fabs(stats_quantile(&s.cols[0], p) - exact) <= fabs(exact) * STATS_REL_ERROR * (1 + 1e-12));
	}
	stats_release(&s);
	free(sorted);
}

/* ---------------------------------------------------------------- parsing and typing */

static void test_parse_number_matches_strtod(void **state)
{
	static const char *const good[] = { "0",
					    "-0",
					    "1",
					    "+1",
					    "1.5",
					    ".5",
					    "5.",
					    "-12.25e3",
					    "1e22",
					    "1e23",
					    "123456789012345678901234567890",
					    "0.1",
					    "3.14159265358979323846",
					    "4.9e-324",
					    "1.7976931348623157e308",
					    " 12",
					    "0x10",
					    "000123.4500",
					    "1E-5",
					    "9007199254740993" };
	static const char *const bad[] = { "",    "-",   ".",         "e5",  "1e",    "1e+", "1.2.3", "12 ",
					   "abc", "inf", "-Infinity", "nan", "1e400", "1,5", "--1" };
	char text[64];
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		double d = -1;
		assert_true(stats_parse_number(good[i], strlen(good[i]), &d));
		assert_true(d == strtod(good[i], NULL));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		double d;
		if (stats_parse_number(bad[i], strlen(bad[i]), &d))
			fail_msg("'%s' parsed as %g", bad[i], d);
	}
	/* random decimals: the fast path must give exactly strtod's double */
	for (int i = 0; i < 200000; i++) {
		double d, x = (uniform() - 0.5) * pow(10, (int)(uniform() * 30) - 15);
		int digits = 1 + (int)(uniform() * 17);
		snprintf(text, sizeof(text), i % 2 ? "%.*g" : "%.*f", digits, x);
		assert_true(stats_parse_number(text, strlen(text), &d));
		if (d != strtod(text, NULL))
			fail_msg("'%s': %.17g != strtod %.17g", text, d, strtod(text, NULL));
	}
	/* the field need not be NUL-terminated */
	{
		double d;
		assert_true(stats_parse_number("12345", 3, &d));
		assert_true(d == 123);
	}
}

static void test_nulls_and_typing(void **state)
{
	const char *names[] = { "num", "cat", "allnull", "mixed" };
	static const char *const nulls[] = { "", "NA", "NaN", "nan", "null", "NULL", "None" };
	struct stats s;
	(void)state;
	stats_init(&s, names, 4);
	for (size_t i = 0; i < 7; i++) {
		assert_true(stats_is_null(nulls[i], strlen(nulls[i])));
		stats_add(&s.cols[0], nulls[i], strlen(nulls[i]));
		stats_add(&s.cols[2], nulls[i], strlen(nulls[i]));
	}
	assert_false(stats_is_null("Nan", 3));
	assert_false(stats_is_null("N", 1));
	stats_add(&s.cols[2], NULL, 0); /* a key absent from a JSON Lines record */
	stats_add(&s.cols[0], "1", 1);
	stats_add(&s.cols[0], "2.5", 3);
	stats_add(&s.cols[1], "a", 1);
	stats_add(&s.cols[1], "b", 1);
	stats_add(&s.cols[1], "a", 1);
	stats_add(&s.cols[3], "1", 1);
	stats_add(&s.cols[3], "2", 1);
	stats_add(&s.cols[3], "inf", 3); /* not finite: a string */
	stats_add(&s.cols[3], "1", 1);
	assert_int_equal(stats_col_type(&s.cols[0]), STATS_NUMERIC);
	assert_int_equal(s.cols[0].nulls, 7);
	assert_int_equal(s.cols[0].count, 9);
	assert_int_equal(stats_col_n(&s.cols[0]), 2);
	assert_true(s.cols[0].mean == 1.75);
	assert_int_equal(stats_col_type(&s.cols[1]), STATS_CATEGORICAL);
	assert_int_equal(stats_category_count(&s.cols[1], "a", 1), 2);
	assert_int_equal(stats_category_count(&s.cols[1], "b", 1), 1);
	assert_int_equal(stats_col_type(&s.cols[2]), STATS_EMPTY);
	assert_int_equal(s.cols[2].nulls, 8);
	assert_int_equal(stats_col_type(&s.cols[3]), STATS_CATEGORICAL);
	assert_int_equal(stats_category_count(&s.cols[3], "1", 1), 2);
	assert_int_equal(stats_category_count(&s.cols[3], "2", 1), 1);
	assert_int_equal(stats_category_count(&s.cols[3], "inf", 3), 1);
	assert_int_equal(s.cols[3].cats.other, 0);
	assert_true(isnan(stats_quantile(&s.cols[2], 0.5)));
	stats_release(&s);
}

static void test_categories_bounded(void **state)
{
	const char *names[] = { "c", "late" };
	struct stats s;
	const struct stats_cat **v;
	char text[32];
	uint64_t total;
	size_t n;
	(void)state;
	stats_init(&s, names, 2);
	for (int i = 0; i < 1500; i++) {
		snprintf(text, sizeof(text), "v%d", i);
		stats_add(&s.cols[0], text, strlen(text));
		stats_add(&s.cols[0], "v7", 2);
	}
	assert_int_equal(s.cols[0].cats.n, STATS_MAX_CATEGORIES);
	assert_int_equal(s.cols[0].cats.other, 500);
	assert_int_equal(stats_category_count(&s.cols[0], "v7", 2), 1501);
	n = stats_categories(&s.cols[0], &v);
	assert_int_equal(n, STATS_MAX_CATEGORIES);
	assert_memory_equal(v[0]->s, "v7", 2); /* most frequent first */
	free(v);
	/* a numeric column with many distinct values that turns categorical late: every value is still
	 * counted once, the ones not known individually as "other" */
	for (int i = 0; i < 5000; i++) {
		snprintf(text, sizeof(text), "%d", i);
		stats_add(&s.cols[1], text, strlen(text));
	}
	assert_int_equal(s.cols[1].cats.tracking, 0);
	stats_add(&s.cols[1], "oops", 4);
	assert_int_equal(stats_col_type(&s.cols[1]), STATS_CATEGORICAL);
	total = s.cols[1].cats.other;
	for (size_t i = 0; i < s.cols[1].cats.n_slots; i++)
		total += s.cols[1].cats.slots[i].s ? s.cols[1].cats.slots[i].count : 0;
	assert_int_equal(total, 5001);
	assert_int_equal(stats_category_count(&s.cols[1], "0", 1), 1);
	stats_release(&s);
}

/* ---------------------------------------------------------------- accuracy */

static void test_generated_distributions(void **state)
{
	size_t n = 200000;
	double *v = malloc(n * sizeof(*v));
	(void)state;
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) /* normal */
		v[i] = 100 + 15 * gaussian();
	check_against_exact(v, n);
	for (size_t i = 0; i < n; i++) /* lognormal: a long right tail */
		v[i] = exp(2 * gaussian());
	check_against_exact(v, n);
	for (size_t i = 0; i < n; i++) /* both signs, zeros and ties */
		v[i] = i % 10 == 0 ? 0 : (double)((long)(uniform() * 2001) - 1000) / 8;
	check_against_exact(v, n);
	for (size_t i = 0; i < n; i++) /* a large offset: Welford keeps the variance */
		v[i] = 1e9 + uniform();
	check_against_exact(v, 5000);
	free(v);
}

static void test_wide_range_collapses(void **state)
{
	const char *name = "w";
	struct stats s;
	(void)state;
	stats_init(&s, &name, 1);
	for (int i = -300; i <= 300; i++)
		for (int k = 0; k < 10; k++)
			stats_add_number(&s.cols[0], pow(10, i) * (1 + k / 10.0));
	assert_true(s.cols[0].sk.pos.collapsed);
	assert_true(s.cols[0].sk.pos.cap <= STATS_SKETCH_MAX_BUCKETS);
	/* quantiles above the collapsed range keep the bound: p99 is around 1e294 */
	{
		double exact = 0, got = stats_quantile(&s.cols[0], 0.99);
		size_t r = (size_t)floor(0.99 * (6010 - 1)), idx = 0;
		for (int i = -300; i <= 300 && idx <= r; i++)
			for (int k = 0; k < 10 && idx <= r; k++, idx++)
				exact = pow(10, i) * (1 + k / 10.0);
		assert_true(fabs(got - exact) <= exact * STATS_REL_ERROR);
	}
	assert_true(stats_quantile(&s.cols[0], 0) == s.cols[0].min);
	stats_release(&s);
}

/* breast_cancer.csv has no quoted fields: a plain split is an independent reader. */
static void test_breast_cancer(void **state)
{
	const char *top = getenv("TOP");
	char path[4096], line[8192];
	FILE *f;
	char *names[64];
	size_t nc = 0, rows = 0;
	double *cols[64];
	struct stats s;
	(void)state;
	snprintf(path, sizeof(path), "%s/templates/default/data/breast_cancer.csv", top && *top ? top : ".");
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	line[strcspn(line, "\r\n")] = '\0';
	for (char *p = line, *c; p; p = c ? c + 1 : NULL) {
		c = strchr(p, ',');
		if (c)
			*c = '\0';
		names[nc] = strdup(p);
		cols[nc] = malloc(1000 * sizeof(double));
		nc++;
	}
	stats_init(&s, (const char *const *)names, nc);
	while (fgets(line, sizeof(line), f)) {
		size_t i = 0;
		line[strcspn(line, "\r\n")] = '\0';
		for (char *p = line, *c; p && i < nc; p = c ? c + 1 : NULL, i++) {
			c = strchr(p, ',');
			if (c)
				*c = '\0';
			stats_add(&s.cols[i], p, strlen(p));
			if (i + 1 < nc)
				cols[i][rows] = strtod(p, NULL);
		}
		rows++;
	}
	fclose(f);
	assert_int_equal(rows, 569);
	assert_int_equal(nc, 31);
	for (size_t i = 0; i + 1 < nc; i++) {
		assert_int_equal(stats_col_type(&s.cols[i]), STATS_NUMERIC);
		check_against_exact(cols[i], rows);
	}
	assert_int_equal(stats_col_type(&s.cols[nc - 1]), STATS_CATEGORICAL);
	assert_int_equal(stats_category_count(&s.cols[nc - 1], "benign", 6), 357);
	assert_int_equal(stats_category_count(&s.cols[nc - 1], "malignant", 9), 212);
	/* a value from the Python statistics module: statistics.mean / stdev of mean_radius */
	assert_rel(s.cols[0].mean, 14.127291739894552, 1e-9);
	assert_rel(stats_col_std(&s.cols[0]), 3.5240488262120775, 1e-9);
	for (size_t i = 0; i < nc; i++) {
		free(names[i]);
		free(cols[i]);
	}
	stats_release(&s);
}

/* ---------------------------------------------------------------- JSON */

static void test_json_round_trip(void **state)
{
	const char *names[] = { "x", "c", "e" };
	struct stats s, t;
	struct err e = ERR_INIT;
	cJSON *j;
	char *text;
	(void)state;
	stats_init(&s, names, 3);
	s.source = strdup("gen");
	for (int i = 0; i < 3000; i++) {
		char v[32];
		snprintf(v, sizeof(v), "%.6f", gaussian() * 5 - (i % 3 ? 0 : 100));
		stats_add(&s.cols[0], v, strlen(v));
		snprintf(v, sizeof(v), "k%d", i % 17);
		stats_add(&s.cols[1], i % 100 ? v : "", i % 100 ? strlen(v) : 0);
		stats_add(&s.cols[2], NULL, 0);
		s.rows++;
	}
	stats_add_number(&s.cols[0], 0);
	stats_add(&s.cols[1], "k1", 2);
	stats_add(&s.cols[2], NULL, 0);
	s.rows++;
	j = stats_to_json(&s);
	text = cJSON_Print(j);
	cJSON_Delete(j);
	assert_int_equal(stats_load_buffer(&t, text, strlen(text), &e), 0);
	assert_int_equal(t.n_cols, 3);
	assert_string_equal(t.source, "gen");
	for (int q = 0; q <= 100; q++)
		assert_true(stats_quantile(&t.cols[0], q / 100.0) == stats_quantile(&s.cols[0], q / 100.0));
	assert_true(t.cols[0].mean == s.cols[0].mean);
	assert_rel(stats_col_std(&t.cols[0]), stats_col_std(&s.cols[0]), 1e-12);
	assert_true(t.cols[0].min == s.cols[0].min && t.cols[0].max == s.cols[0].max);
	assert_int_equal(t.cols[0].sk.zero, 1);
	assert_int_equal(stats_col_type(&t.cols[1]), STATS_CATEGORICAL);
	assert_int_equal(t.cols[1].nulls, s.cols[1].nulls);
	assert_int_equal(stats_category_count(&t.cols[1], "k1", 2), stats_category_count(&s.cols[1], "k1", 2));
	assert_int_equal(stats_col_type(&t.cols[2]), STATS_EMPTY);
	stats_release(&t);
	free(text);
	stats_release(&s);
}

static void test_json_rejects_bad_files(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"format\": \"other\"}",
		"{\"format\": \"mlci-stats/1\", \"rows\": 1}",
		"{\"format\": \"mlci-stats/1\", \"rows\": -1, \"columns\": []}",
		("{\"format\": \"mlci-stats/1\", \"rows\": 1, \"columns\": [{\"name\": \"a\", \"type\": \"numeric\", "
		 "\"count\": 1, \"nulls\": 0, \"numeric\": 1, \"mean\": 1, \"std\": null, \"min\": 1, \"max\": 1, "
		 "\"sketch\": {\"zero\": 0, \"pos\": [[999999, 1]], \"neg\": []}}]}"),
		("{\"format\": \"mlci-stats/1\", \"rows\": 1, \"columns\": [{\"name\": \"a\", \"type\": \"numeric\", "
		 "\"count\": 1, \"nulls\": 0, \"numeric\": 1, \"mean\": 1, \"std\": null, \"min\": 1, \"max\": 1, "
		 "\"sketch\": {\"zero\": 0, \"pos\": [[5, 2]], \"neg\": []}}]}"),
		("{\"format\": \"mlci-stats/1\", \"rows\": 2, \"columns\": [{\"name\": \"a\", \"type\": "
		 "\"categorical\", "
		 "\"count\": 2, \"nulls\": 0, \"categories\": [[\"x\", 1]], \"other\": 0}]}"),
		("{\"format\": \"mlci-stats/1\", \"rows\": 2, \"columns\": [{\"name\": \"a\", \"type\": \"empty\", "
		 "\"count\": 2, \"nulls\": 1}]}"),
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct stats s;
		struct err e = ERR_INIT;
		if (stats_load_buffer(&s, bad[i], strlen(bad[i]), &e) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(e.code, MLCI_EUSAGE);
		assert_true(strlen(err_msg(&e)) > 0);
		err_release(&e);
	}
}

/* stats_add_padded (the SWAR decimal path, reading past the value) gives exactly what stats_add gives:
 * the same statistics JSON for tricky numbers, followed by digits or garbage that must not be read as
 * part of them; short categories compared by overlapping loads. */
static void test_padded_same_as_plain(void **state)
{
	static const char *const toks[] = { "0",
					    "-0",
					    "+0",
					    "1",
					    "-5",
					    "1000",
					    "999.5",
					    "9223372036854775807",
					    "-9223372036854775808",
					    "123456789012345678",
					    "12345678901234567890",
					    "0.1",
					    "0.3",
					    ".5",
					    "5.",
					    "-.5",
					    "+.5e1",
					    "1e3",
					    "-1.5",
					    "0.30000000000000004",
					    "12345678.12345678",
					    "99999999.99999999",
					    "123456789.1234567",
					    "1.123456789",
					    "9007199254740993",
					    "90071992.54740993",
					    "900719925474099.3",
					    "+7.25",
					    "00000001.5",
					    "-00000000.00000001",
					    "1.7976931348623157e308",
					    "4.9e-324",
					    "1e-7",
					    "1e400",
					    "inf",
					    "-inf",
					    "nan",
					    "NA",
					    "",
					    ".",
					    "-",
					    "+",
					    "1..2",
					    "1.2.3",
					    "--1",
					    "+-1",
					    "1-",
					    "1e",
					    "0x10",
					    " 1",
					    "1 ",
					    "abc",
					    "abcd",
					    "abcdefgh",
					    "abcdefghi",
					    "abcdefghijklmnopq",
					    "a",
					    "ab",
					    "ba",
					    "abcdefgi",
					    "bbcdefgh" };
	const size_t n_toks = sizeof(toks) / sizeof(toks[0]);
	char buf[64 + 48];
	(void)state;
	for (int round = 0; round < 40; round++) {
		struct stats a, b;
		const char *names[] = { "x" };
		cJSON *ja, *jb;
		char *ta, *tb;
		stats_init(&a, names, 1);
		stats_init(&b, names, 1);
		for (int i = 0; i < 3000; i++) {
			/* numeric rounds first (half of them random decimals of 1 to 17 digits), then mixed ones
			 * with categories */
			size_t t = round < 20 ? (size_t)(uniform() * 33) : (size_t)(uniform() * (double)n_toks);
			char rnd[40];
			const char *v = toks[t % n_toks];
			size_t len;
			char *exact;
			if (round < 10 && i % 2) {
				int n_int = (int)(uniform() * 10), n_frac = (int)(uniform() * 10), k = 0;
				if (uniform() < 0.3)
					rnd[k++] = uniform() < 0.5 ? '-' : '+';
				for (int j = 0; j < n_int; j++)
					rnd[k++] = (char)('0' + (int)(uniform() * 10));
				if (n_frac || !n_int) {
					rnd[k++] = '.';
					for (int j = 0; j < (n_frac ? n_frac : 1); j++)
						rnd[k++] = (char)('0' + (int)(uniform() * 10));
				}
				rnd[k] = '\0';
				v = rnd;
			}
			len = strlen(v);
			exact = malloc(len ? len : 1);
			memcpy(exact, v, len);
			memcpy(buf, v, len);
			for (size_t k = len; k < sizeof(buf); k++) /* what follows: digits, a point, a NUL */
				buf[k] = "0123456789.\0e-"[(size_t)(uniform() * 14)];
			stats_add(&a.cols[0], exact, len);
			stats_add_padded(&b.cols[0], buf, len);
			free(exact);
			if (memcmp(&a.cols[0].mean, &b.cols[0].mean, sizeof(double)) ||
			    memcmp(&a.cols[0].m2, &b.cols[0].m2, sizeof(double)) || a.cols[0].n_num != b.cols[0].n_num)
				fail_msg("'%s': %.17g != %.17g", v, a.cols[0].mean, b.cols[0].mean);
		}
		ja = stats_to_json(&a);
		jb = stats_to_json(&b);
		ta = cJSON_PrintUnformatted(ja);
		tb = cJSON_PrintUnformatted(jb);
		if (strcmp(ta, tb))
			fail_msg("round %d:\n%s\n%s", round, ta, tb);
		free(ta);
		free(tb);
		cJSON_Delete(ja);
		cJSON_Delete(jb);
		stats_release(&a);
		stats_release(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_number_matches_strtod),
		cmocka_unit_test(test_nulls_and_typing),
		cmocka_unit_test(test_categories_bounded),
		cmocka_unit_test(test_generated_distributions),
		cmocka_unit_test(test_wide_range_collapses),
		cmocka_unit_test(test_breast_cancer),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_rejects_bad_files),
		cmocka_unit_test(test_padded_same_as_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
