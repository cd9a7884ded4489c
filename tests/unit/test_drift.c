/* test_drift.c - unit tests of checks/drift.c: special functions and every measure on hand-computed
 * examples, the automatic method, small samples, and the breast cancer data with one feature scaled. */
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

#include "checks/drift.h"
#include "checks/stats.h"
#include "common/error.h"
#include "common/banned.h"

static void assert_close(double got, double want, double abs_tol)
{
	if (!(fabs(got - want) <= abs_tol))
		fail_msg("got %.17g, want %.17g (tolerance %g)", got, want, abs_tol);
}

static void one_col(struct stats *s, const char *name)
{
	stats_init(s, &name, 1);
}

static void add_range(struct stats_col *c, int from, int to)
{
	for (int i = from; i <= to; i++)
		stats_add_number(c, i);
}

static void add_str(struct stats_col *c, const char *v, int times)
{
	for (int i = 0; i < times; i++)
		stats_add(c, v, strlen(v));
}

/* ---------------------------------------------------------------- special functions */

static void test_chi2_sf_known_values(void **state)
{
	(void)state;
	/* critical values at 5% from any chi-squared table */
	assert_close(drift_chi2_sf(3.841458820694124, 1), 0.05, 1e-12);
	assert_close(drift_chi2_sf(5.991464547107979, 2), 0.05, 1e-12);
	assert_close(drift_chi2_sf(18.307038053275146, 10), 0.05, 1e-12);
	assert_close(drift_chi2_sf(6.634896601021214, 1), 0.01, 1e-12);
	/* closed forms: dof 1 = erfc(sqrt(x/2)), dof 2 = exp(-x/2), dof 3 = erfc(sqrt(x/2)) + sqrt(2x/pi) e^(-x/2);
	 * x = 0.5 takes the series branch, x = 40 the continued fraction */
	assert_close(drift_chi2_sf(0.5, 1), 0.4795001221869535, 1e-13);
	assert_close(drift_chi2_sf(0.5, 3), 0.9188914116546758, 1e-13);
	assert_close(drift_chi2_sf(40, 2), exp(-20), 1e-20);
	assert_close(drift_chi2_sf(40, 1), erfc(sqrt(20)), 1e-20);
	assert_close(drift_chi2_sf(0, 4), 1, 0);
	assert_close(drift_gammq(1, 2), exp(-2), 1e-15);
	assert_true(isnan(drift_gammq(0, 1)));
}

static void test_kolmogorov_known_values(void **state)
{
	(void)state;
	/* Q_KS(lambda) = 2 sum_{j>=1} (-1)^(j-1) exp(-2 j^2 lambda^2), summed by hand to 200 terms */
	assert_close(drift_kolmogorov_q(1.36), 0.049485876755377876, 1e-8);
	assert_close(drift_kolmogorov_q(1.0), 0.26999967167735456, 1e-8);
	assert_close(drift_kolmogorov_q(0.5), 0.9639452436648751, 1e-6);
	assert_close(drift_kolmogorov_q(0.01), 1, 0);
	/* the critical value of the asymptotic test at 5%: 1.3581 */
	assert_close(drift_kolmogorov_q(1.3581), 0.05, 2e-4);
}

/* ---------------------------------------------------------------- numeric */

static void test_ks_hand_example(void **state)
{
	struct stats a, b;
	double p, d;
	(void)state;
	one_col(&a, "x");
	one_col(&b, "x");
	add_range(&a.cols[0], 1, 40);  /* 1..40 */
	add_range(&b.cols[0], 21, 60); /* 21..60: the CDFs differ by 0.5 from 20 to 40 */
	d = drift_ks(&a.cols[0], &b.cols[0], &p);
	assert_close(d, 0.5, 1e-15);
	/* en = sqrt(40*40/80) = sqrt(20); p = Q_KS((en + 0.12 + 0.11/en) * 0.5) */
	assert_close(p, 4.706583254931542e-05, 1e-9);
	d = drift_ks(&a.cols[0], &a.cols[0], &p);
	assert_close(d, 0, 0);
	assert_close(p, 1, 0);
	stats_release(&a);
	stats_release(&b);
}

static void test_psi_hand_example(void **state)
{
	struct stats a, b;
	double want;
	(void)state;
	one_col(&a, "x");
	one_col(&b, "x");
	add_range(&a.cols[0], 1, 100); /* deciles 10, 20, ..., 90: ten bins of 10% */
	for (int i = 0; i < 50; i++) {
		stats_add_number(&b.cols[0], 5);  /* first bin */
		stats_add_number(&b.cols[0], 95); /* last bin */
	}
	/* two bins 0.1 -> 0.5, eight bins 0.1 -> 0 (counted as 1e-4) */
	want = 2 * (0.5 - 0.1) * log(0.5 / 0.1) + 8 * (1e-4 - 0.1) * log(1e-4 / 0.1);
	assert_close(drift_psi(&a.cols[0], &b.cols[0]), want, 1e-12);
	assert_close(drift_psi(&a.cols[0], &a.cols[0]), 0, 0);
	stats_release(&a);
	stats_release(&b);
}

/* ---------------------------------------------------------------- categorical */

static void test_categorical_hand_example(void **state)
{
	const double a[] = { 10, 20, 30 }, b[] = { 20, 20, 20 };
	const double p[] = { 1, 1 }, q[] = { 2, 0 };
	double chi2, dof, pv, js, linf, want;
	(void)state;
	/* 2 x 3 table: expected 15/20/25 per row; chi2 = 2*(25/15) + 0 + 2*(25/25) = 5.3333 */
	drift_categorical(a, b, 3, &chi2, &dof, &pv, &js, &linf);
	assert_close(chi2, 16.0 / 3.0, 1e-12);
	assert_close(dof, 2, 0);
	assert_close(pv, exp(-chi2 / 2), 1e-13); /* dof 2: exp(-x/2) = 0.0694834512228 */
	assert_close(linf, 1.0 / 6.0, 1e-15);
	/* JS base 2 of (0.5, 0.5) and (1, 0): m = (0.75, 0.25) */
	drift_categorical(p, q, 2, &chi2, &dof, &pv, &js, &linf);
	want = 0.5 * (0.5 * log2(0.5 / 0.75) + 0.5 * log2(0.5 / 0.25)) + 0.5 * log2(1 / 0.75);
	assert_close(js, sqrt(want), 1e-15);
	assert_close(linf, 0.5, 0);
	/* disjoint supports: JS distance 1, L-inf 1 */
	{
		const double x[] = { 3, 0 }, y[] = { 0, 5 };
		drift_categorical(x, y, 2, &chi2, &dof, &pv, &js, &linf);
		assert_close(js, 1, 1e-15);
		assert_close(linf, 1, 0);
	}
}

static void test_categorical_columns_union(void **state)
{
	struct stats a, b;
	struct drift_report r;
	struct drift_opts o;
	struct err e = ERR_INIT;
	(void)state;
	one_col(&a, "c");
	one_col(&b, "c");
	add_str(&a.cols[0], "red", 40);
	add_str(&a.cols[0], "blue", 40);
	add_str(&b.cols[0], "red", 40);
	add_str(&b.cols[0], "green", 40); /* new category, blue gone */
	drift_opts_init(&o);
	assert_int_equal(drift_compute(&r, &a, &b, &o, &e), 0);
	assert_int_equal(r.f[0].method, DRIFT_CHI2);
	assert_int_equal(r.f[0].status, DRIFT_DRIFTED);
	assert_close(r.f[0].chi2_dof, 2, 0);
	assert_close(r.f[0].linf, 0.5, 0);
	drift_report_release(&r);
	stats_release(&a);
	stats_release(&b);
}

/* ---------------------------------------------------------------- verdicts */

static void test_identical_small_auto(void **state)
{
	const char *names[] = { "n", "c" };
	struct stats a, b;
	struct drift_report r;
	struct drift_opts o;
	struct err e = ERR_INIT;
	(void)state;
	stats_init(&a, names, 2);
	stats_init(&b, names, 2);
	for (int i = 0; i < 5000; i++) {
		char v[16];
		snprintf(v, sizeof(v), "%d", i % 7);
		stats_add_number(&a.cols[0], i * 0.37);
		stats_add_number(&b.cols[0], i * 0.37);
		add_str(&a.cols[1], i % 3 ? "x" : "y", 1);
		add_str(&b.cols[1], i % 3 ? "x" : "y", 1);
	}
	drift_opts_init(&o);
	assert_int_equal(drift_compute(&r, &a, &b, &o, &e), 0);
	/* more than 1000 values: PSI and Jensen-Shannon */
	assert_int_equal(r.f[0].method, DRIFT_PSI);
	assert_int_equal(r.f[1].method, DRIFT_JS);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(r.f[i].status, DRIFT_OK);
		assert_close(r.f[i].score, 0, 1e-12); /* always reported */
		assert_close(r.f[i].threshold, 0.1, 0);
	}
	assert_close(r.f[0].ks_p, 1, 0);
	assert_int_equal(r.n_drifted, 0);
	assert_int_equal(r.n_tested, 2);
	drift_report_release(&r);
	/* every explicit method agrees there is no drift */
	for (int m = DRIFT_PSI; m <= DRIFT_LINF; m++) {
		o.method = (enum drift_method)m;
		assert_int_equal(drift_compute(&r, &a, &b, &o, &e), 0);
		assert_int_equal(r.n_drifted, 0);
		drift_report_release(&r);
	}
	stats_release(&a);
	stats_release(&b);
}

static void test_small_sample_insufficient(void **state)
{
	struct stats a, b;
	struct drift_report r;
	struct drift_opts o;
	struct err e = ERR_INIT;
	cJSON *j;
	(void)state;
	one_col(&a, "x");
	one_col(&b, "x");
	add_range(&a.cols[0], 1, 500);
	add_range(&b.cols[0], 1000, 1020); /* 21 values, wildly different */
	drift_opts_init(&o);
	assert_int_equal(drift_compute(&r, &a, &b, &o, &e), 0);
	assert_int_equal(r.f[0].status, DRIFT_INSUFFICIENT);
	assert_true(r.f[0].score < 1e-6); /* the score is still there */
	assert_int_equal(r.n_tested, 0);
	assert_int_equal(r.n_insufficient, 1);
	j = drift_report_json(&r);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
				    cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0), "status")),
			    "insufficient data");
	cJSON_Delete(j);
	drift_report_release(&r);
	stats_release(&a);
	stats_release(&b);
}

static void test_missing_and_type_changed(void **state)
{
	const char *ra[] = { "a", "b", "c" }, *cb[] = { "a", "b" };
	struct stats a, b;
	struct drift_report r;
	struct drift_opts o;
	struct err e = ERR_INIT;
	const char *only[] = { "zzz" };
	(void)state;
	stats_init(&a, ra, 3);
	stats_init(&b, cb, 2);
	add_range(&a.cols[0], 1, 100);
	add_range(&b.cols[0], 1, 100);
	add_range(&a.cols[1], 1, 100);
	add_str(&b.cols[1], "text", 100);
	add_range(&a.cols[2], 1, 100);
	drift_opts_init(&o);
	assert_int_equal(drift_compute(&r, &a, &b, &o, &e), 0);
	assert_int_equal(r.f[0].status, DRIFT_OK);
	assert_int_equal(r.f[1].status, DRIFT_TYPE_CHANGED);
	assert_int_equal(r.f[2].status, DRIFT_MISSING);
	assert_int_equal(r.n_drifted, 2);
	assert_close(r.share, 2.0 / 3.0, 1e-15);
	drift_report_release(&r);
	o.columns = only;
	o.n_columns = 1;
	assert_int_equal(drift_compute(&r, &a, &b, &o, &e), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	err_release(&e);
	stats_release(&a);
	stats_release(&b);
}

/* ---------------------------------------------------------------- breast cancer, one feature scaled */

/* Statistics of breast_cancer.csv with a plain split (no quoted fields), "scaled" multiplied by "k". */
static void load_breast_cancer(struct stats *s, const char *scaled, double k)
{
	const char *top = getenv("TOP");
	char path[4096], line[8192];
	char *names[64];
	size_t nc = 0, target = (size_t)-1;
	FILE *f;
	snprintf(path, sizeof(path), "%s/templates/default/data/breast_cancer.csv", top && *top ? top : ".");
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	line[strcspn(line, "\r\n")] = '\0';
	for (char *p = line, *c; p; p = c ? c + 1 : NULL) {
		c = strchr(p, ',');
		if (c)
			*c = '\0';
		if (scaled && !strcmp(p, scaled))
			target = nc;
		names[nc++] = strdup(p);
	}
	stats_init(s, (const char *const *)names, nc);
	while (fgets(line, sizeof(line), f)) {
		size_t i = 0;
		line[strcspn(line, "\r\n")] = '\0';
		for (char *p = line, *c; p && i < nc; p = c ? c + 1 : NULL, i++) {
			c = strchr(p, ',');
			if (c)
				*c = '\0';
			if (i == target) {
				char v[64];
				snprintf(v, sizeof(v), "%.17g", strtod(p, NULL) * k);
				stats_add(&s->cols[i], v, strlen(v));
			} else {
				stats_add(&s->cols[i], p, strlen(p));
			}
		}
		s->rows++;
	}
	fclose(f);
	for (size_t i = 0; i < nc; i++)
		free(names[i]);
}

static void test_breast_cancer_scaled_feature(void **state)
{
	static const enum drift_method methods[] = { DRIFT_PSI, DRIFT_KS, DRIFT_AUTO };
	struct stats ref, cur, saved;
	struct err e = ERR_INIT;
	cJSON *j;
	char *text;
	(void)state;
	load_breast_cancer(&ref, NULL, 1);
	load_breast_cancer(&cur, "mean_texture", 1.3);
	/* the reference through its JSON form must give the same results */
	j = stats_to_json(&ref);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	assert_int_equal(stats_load_buffer(&saved, text, strlen(text), &e), 0);
	free(text);
	for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
		struct drift_opts o;
		struct drift_report r, r2;
		drift_opts_init(&o);
		o.method = methods[m];
		assert_int_equal(drift_compute(&r, &ref, &cur, &o, &e), 0);
		assert_int_equal(drift_compute(&r2, &saved, &cur, &o, &e), 0);
		assert_int_equal(r.n, 31);
		for (size_t i = 0; i < r.n; i++) {
			int is_target = !strcmp(r.f[i].name, "mean_texture");
			if (r.f[i].status != (is_target ? DRIFT_DRIFTED : DRIFT_OK))
				fail_msg("method %s, %s: status %s, score %g", drift_method_name(methods[m]),
					 r.f[i].name, drift_status_name(r.f[i].status), r.f[i].score);
			assert_int_equal(r.f[i].n_ref, 569);
			assert_int_equal(r2.f[i].status, r.f[i].status);
			assert_true(r2.f[i].score == r.f[i].score);
			assert_true(r2.f[i].psi == r.f[i].psi || (isnan(r2.f[i].psi) && isnan(r.f[i].psi)));
			assert_true(r2.f[i].ks_p == r.f[i].ks_p || (isnan(r2.f[i].ks_p) && isnan(r.f[i].ks_p)));
		}
		assert_int_equal(r.n_drifted, 1);
		drift_report_release(&r);
		drift_report_release(&r2);
	}
	/* KS's D on the bucket grid against the exact two-sample D (sorting both samples in Python):
	 * every distinct value of this column has its own bucket, so they agree */
	{
		const struct stats_col *a = stats_find(&ref, "mean_texture"), *b = stats_find(&cur, "mean_texture");
		double p, d = drift_ks(a, b, &p);
		assert_close(d, 0.4639718804920914, 1e-12);
		assert_true(p < 1e-40);
	}
	stats_release(&saved);
	stats_release(&ref);
	stats_release(&cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chi2_sf_known_values),     cmocka_unit_test(test_kolmogorov_known_values),
		cmocka_unit_test(test_ks_hand_example),          cmocka_unit_test(test_psi_hand_example),
		cmocka_unit_test(test_categorical_hand_example), cmocka_unit_test(test_categorical_columns_union),
		cmocka_unit_test(test_identical_small_auto),     cmocka_unit_test(test_small_sample_insufficient),
		cmocka_unit_test(test_missing_and_type_changed), cmocka_unit_test(test_breast_cancer_scaled_feature),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
