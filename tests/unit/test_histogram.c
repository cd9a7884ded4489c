/* test_histogram.c - unit tests of checks/histogram.c: the relative error bound against exact
 * percentiles of random data, extremes, merging and the mean. Pure computation, no files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checks/histogram.h"
#include "common/alloc.h"
#include "common/banned.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

/* xorshift64*: deterministic, so a failure reproduces */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The exact percentile with the histogram's definition: the value of rank ceil(q/100 * n). */
static uint64_t exact(const uint64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)ceil(q / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static void assert_within(uint64_t got, uint64_t want, double rel)
{
	double err = fabs((double)got - (double)want) / (double)want;
	if (err > rel)
		fail_msg("got %llu, want %llu: relative error %.5f > %.5f", (unsigned long long)got,
			 (unsigned long long)want, err, rel);
}

static void check_random(int log_uniform, size_t n)
{
	static const double qs[] = { 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100 };
	struct check_hist h;
	uint64_t *v = xmalloc(n * sizeof(*v));
	double sum = 0;
	check_hist_init(&h);
	for (size_t i = 0; i < n; i++) {
		double u = (double)(rnd() >> 11) / 9007199254740992.0; /* [0, 1) */
		/* 1 us .. 60 s in ns: log-uniform, or a long-tailed mix around 20 ms */
		double x = log_uniform ? 1e3 * pow(6e7, u) : 2e7 * (1.0 + 0.05 * u) + (u > 0.99 ? 5e9 * u : 0);
		v[i] = (uint64_t)x;
		sum += (double)v[i];
		check_hist_record(&h, v[i]);
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		assert_within(check_hist_percentile(&h, qs[i]), exact(v, n, qs[i]), 0.01);
	assert_int_equal(check_hist_percentile(&h, 100), v[n - 1]);
	assert_int_equal(check_hist_percentile(&h, 0), v[0]);
	assert_int_equal(h.total, n);
	assert_true(fabs(check_hist_mean(&h) - sum / (double)n) / (sum / (double)n) < 1e-9);
	check_hist_release(&h);
	free(v);
}

static void test_error_bound_log_uniform(void **state)
{
	(void)state;
	check_random(1, 200000);
}

static void test_error_bound_long_tail(void **state)
{
	(void)state;
	check_random(0, 100000);
}

/* Every single value from 1 us to 60 s (sampled densely) comes back within 1%, in fact 0.4%. */
static void test_single_values(void **state)
{
	struct check_hist h;
	(void)state;
	check_hist_init(&h);
	for (double x = 1e3; x <= 6e10; x *= 1.0007) {
		uint64_t v = (uint64_t)x;
		check_hist_reset(&h);
		check_hist_record(&h, v);
		check_hist_record(&h, v + 1000000000000ULL); /* a max far above, so min/max clamping hides nothing */
		check_hist_record(&h, 1);
		assert_within(check_hist_percentile(&h, 50), v, 0.004);
	}
	check_hist_release(&h);
}

static void test_extremes_and_empty(void **state)
{
	struct check_hist h;
	(void)state;
	check_hist_init(&h);
	assert_int_equal(check_hist_percentile(&h, 99), 0);
	assert_true(check_hist_mean(&h) == 0.0);
	check_hist_record(&h, 0);
	check_hist_record(&h, 127);
	check_hist_record(&h, UINT64_MAX);
	assert_int_equal(check_hist_percentile(&h, 10), 0);
	assert_int_equal(check_hist_percentile(&h, 50), 127);
	assert_int_equal(check_hist_percentile(&h, 100), UINT64_MAX);
	assert_int_equal(h.min, 0);
	check_hist_release(&h);
}

static void test_merge_equals_single(void **state)
{
	struct check_hist a, b, all;
	(void)state;
	check_hist_init(&a);
	check_hist_init(&b);
	check_hist_init(&all);
	for (int i = 0; i < 50000; i++) {
		uint64_t v = 1000 + rnd() % 100000000;
		check_hist_record(i % 3 ? &a : &b, v);
		check_hist_record(&all, v);
	}
	check_hist_merge(&a, &b);
	assert_int_equal(a.total, all.total);
	assert_int_equal(a.min, all.min);
	assert_int_equal(a.max, all.max);
	assert_memory_equal(a.counts, all.counts, a.nbuckets * sizeof(*a.counts));
	assert_int_equal(check_hist_percentile(&a, 99.9), check_hist_percentile(&all, 99.9));
	/* merging an empty histogram changes nothing */
	check_hist_reset(&b);
	check_hist_merge(&a, &b);
	assert_int_equal(a.min, all.min);
	check_hist_release(&a);
	check_hist_release(&b);
	check_hist_release(&all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_bound_log_uniform), cmocka_unit_test(test_error_bound_long_tail),
		cmocka_unit_test(test_single_values),           cmocka_unit_test(test_extremes_and_empty),
		cmocka_unit_test(test_merge_equals_single),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
