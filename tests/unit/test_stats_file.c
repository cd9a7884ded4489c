/* test_stats_file.c - unit tests of checks/stats_file.c: the statistics of a CSV file read in parallel
 * spans (1 to 3 threads, small spans) are those of one value at a time through the reader (counts,
 * extremes, sketch buckets and categories exactly, mean and std to 1e-12), also when the reader takes
 * over at a quoted field, with CRLF, blank and short lines, a column turning categorical and a category
 * table that overflows; and stats_col_merge of two halves equals one pass. Temporary files removed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks/csv.h"
#include "checks/csv_spans.h"
#include "checks/stats.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/banned.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double unit(void)
{
	return (double)(next() >> 11) / 9007199254740992.0;
}

enum { PLAIN, QUOTED_AT_70, CRLF };

/* A CSV of "rows" rows: f float (with nulls), i int, low (20 values), many (numbers, too many to count
 * one by one), turn (numbers, then text from 60% on), cat (8 strings), wide (up to 3000 strings), neg
 * (negative numbers), range (1e-20 to 1e20: the sketch collapses), with blank lines and short records
 * here and there. */
static char *write_csv(size_t rows, int kind)
{
	char *path = xstrdup("/tmp/mlci-test-stats-file-XXXXXX");
	int fd = mkstemp(path);
	FILE *f;
	const char *eol = kind == CRLF ? "\r\n" : "\n";
	static const char *const cats[] = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta" };
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "f,i,low,many,turn,cat,wide,neg,range%s", eol);
	for (size_t r = 0; r < rows; r++) {
		double u = unit();
		if (u < 0.01) {
			fputs(eol, f); /* a blank line */
			continue;
		}
		if (u < 0.02)
			fprintf(f, "%.3f", unit() * 10); /* a short record: the other fields are nulls */
		else if (u < 0.05)
			fprintf(f, "%s", unit() < 0.5 ? "" : "NA");
		else
			fprintf(f, "%.4f", (unit() - 0.3) * 200);
		if (u < 0.02) {
			fputs(eol, f);
			continue;
		}
		fprintf(f, ",%lld,%d,%llu", (long long)(next() % 2000000) - 1000000, (int)(next() % 20),
			(unsigned long long)(next() % 1000000));
		if (r < rows * 6 / 10 || unit() < 0.5)
			fprintf(f, ",%d", (int)(next() % 50));
		else
			fprintf(f, ",t%d", (int)(next() % 5));
		if (kind == QUOTED_AT_70 && r == rows * 7 / 10)
			fprintf(f, ",\"%s, quoted\"", cats[next() % 8]);
		else
			fprintf(f, ",%s", cats[next() % 8]);
		fprintf(f, ",w%d,%.2f,%.3e%s", (int)(next() % 3000), -1 - unit() * 100, pow(10, unit() * 40 - 20), eol);
	}
	assert_int_equal(fclose(f), 0);
	return path;
}

/* The reference: every field through the reader and stats_add, one at a time. */
static void one_pass(struct stats *s, const char *path)
{
	struct csv_reader r;
	struct err e = ERR_INIT;
	int k;
	assert_int_equal(csv_open(&r, path, &e), 0);
	stats_init(s, (const char *const *)r.names, r.n_names);
	while ((k = csv_next(&r, &e)) > 0) {
		s->rows++;
		for (size_t j = 0; j < r.n_names; j++)
			stats_add(&s->cols[j], j < r.n_fields ? r.fields[j].ptr : NULL,
				  j < r.n_fields ? r.fields[j].len : 0);
	}
	assert_int_equal(k, 0);
	csv_close(&r);
	err_release(&e);
}

static void assert_close(double got, double want, double scale)
{
	if (!(fabs(got - want) <= 1e-12 * scale))
		fail_msg("got %.17g, want %.17g", got, want);
}

static uint64_t table_total(const struct stats_col *c)
{
	const struct stats_cat **v;
	size_t n = stats_categories(c, &v);
	uint64_t t = c->cats.other;
	for (size_t i = 0; i < n; i++)
		t += v[i]->count;
	free(v);
	return t;
}

/* "got" equals "want" (see the top of the file); "exact_cats": compare category tables entry by entry;
 * "exact_sketch": bucket by bucket (else only the number of values in the sketch). */
static void assert_same_col(const struct stats_col *got, const struct stats_col *want, int exact_cats, int exact_sketch)
{
	int64_t *oa, *ob;
	uint64_t *ca, *cb;
	size_t na, nb;
	assert_int_equal(got->count, want->count);
	assert_int_equal(got->nulls, want->nulls);
	assert_int_equal(got->n_num, want->n_num);
	assert_int_equal(stats_col_type(got), stats_col_type(want));
	if (want->n_num) {
		assert_true(got->min == want->min);
		assert_true(got->max == want->max);
		assert_close(got->mean, want->mean, fabs(want->max) + fabs(want->min));
		if (want->n_num > 1)
			assert_close(stats_col_std(got), stats_col_std(want), stats_col_std(want));
	}
	na = stats_sketch_ordinals(&got->sk, &oa, &ca);
	nb = stats_sketch_ordinals(&want->sk, &ob, &cb);
	if (exact_sketch) {
		assert_int_equal(na, nb);
		assert_memory_equal(oa, ob, na * sizeof(*oa));
		assert_memory_equal(ca, cb, na * sizeof(*ca));
	} else {
		assert_int_equal(got->sk.pos.n + got->sk.neg.n + got->sk.zero,
				 want->sk.pos.n + want->sk.neg.n + want->sk.zero);
	}
	free(oa);
	free(ob);
	free(ca);
	free(cb);
	if (stats_col_type(want) != STATS_CATEGORICAL)
		return;
	assert_int_equal(table_total(got), want->count - want->nulls);
	assert_int_equal(table_total(want), want->count - want->nulls);
	if (exact_cats) {
		const struct stats_cat **va, **vb;
		na = stats_categories(got, &va);
		nb = stats_categories(want, &vb);
		assert_int_equal(na, nb);
		for (size_t i = 0; i < na; i++) {
			assert_int_equal(va[i]->len, vb[i]->len);
			assert_memory_equal(va[i]->s, vb[i]->s, va[i]->len);
			assert_int_equal(va[i]->count, vb[i]->count);
		}
		assert_int_equal(got->cats.other, want->cats.other);
		free(va);
		free(vb);
	} else {
		assert_true(got->cats.n <= STATS_MAX_CATEGORIES);
	}
}

/* "one_span": the whole file was one span (one thread), so even a collapsing sketch is the same. */
static void assert_same(const struct stats *got, const struct stats *want, int one_span)
{
	assert_int_equal(got->rows, want->rows);
	assert_int_equal(got->n_cols, want->n_cols);
	for (size_t j = 0; j < want->n_cols; j++) {
		const char *name = want->cols[j].name;
		assert_string_equal(got->cols[j].name, name);
		/* "wide" has 3000 values: which 1000 are counted one by one depends on the spans; which low
		 * buckets of "range" a collapse merges too */
		assert_same_col(&got->cols[j], &want->cols[j], strcmp(name, "wide") != 0,
				one_span || strcmp(name, "range") != 0);
	}
}

static void spans_equal_one_pass(int kind)
{
	char *path = write_csv(20000, kind);
	struct stats want;
	size_t saved = csv_span_min;
	one_pass(&want, path);
	assert_int_equal(stats_col_type(&want.cols[4]), STATS_CATEGORICAL); /* "turn" */
	assert_int_equal(stats_col_type(&want.cols[3]), STATS_NUMERIC);     /* "many" */
	assert_true(want.cols[6].cats.other > 0);                           /* "wide" overflowed */
	assert_true(want.cols[8].sk.pos.collapsed);                         /* "range" collapsed */
	csv_span_min = 4096;
	for (int threads = 1; threads <= 3; threads++) {
		struct stats got;
		struct err e = ERR_INIT;
		char t[16];
		snprintf(t, sizeof(t), "%d", threads);
		setenv("MLCI_THREADS", t, 1);
		assert_int_equal(stats_from_data_file(&got, path, NULL, 0, &e), 0);
		assert_same(&got, &want, threads == 1);
		stats_release(&got);
		err_release(&e);
	}
	unsetenv("MLCI_THREADS");
	csv_span_min = saved;
	stats_release(&want);
	unlink(path);
	free(path);
}

static void test_spans_equal_one_pass(void **state)
{
	(void)state;
	spans_equal_one_pass(PLAIN);
}

static void test_reader_takes_over_at_a_quote(void **state)
{
	(void)state;
	spans_equal_one_pass(QUOTED_AT_70);
}

static void test_crlf(void **state)
{
	(void)state;
	spans_equal_one_pass(CRLF);
}

/* Two halves merged equal one pass over both, for every way a column can end up: numeric, counting
 * or not, turning categorical in either half, a category table overflowing. */
static void test_merge_halves(void **state)
{
	static const char *const firsts[] = { "1", "2.5", "x", "", "1e3" };
	(void)state;
	for (int a_kind = 0; a_kind < 4; a_kind++)
		for (int b_kind = 0; b_kind < 4; b_kind++) {
			const char *names[] = { "c" };
			struct stats one, a, b;
			char v[32];
			stats_init(&one, names, 1);
			stats_init(&a, names, 1);
			stats_init(&b, names, 1);
			for (int half = 0; half < 2; half++) {
				int kind = half ? b_kind : a_kind;
				struct stats *s = half ? &b : &a;
				for (int i = 0; i < 3000; i++) {
					/* 0: few numbers; 1: many numbers (counting stops); 2: numbers then text;
					 * 3: 600 strings of each half's own, 1200 in all: the table overflows, and
					 * which values it keeps depends on the order they came in */
					if (kind == 0)
						snprintf(v, sizeof(v), "%d", (int)(next() % 30));
					else if (kind == 1)
						snprintf(v, sizeof(v), "%d", (int)(next() % 100000));
					else if (kind == 3)
						snprintf(v, sizeof(v), "%c%d", half ? 'b' : 'a', (int)(next() % 600));
					else if (i < 1500)
						snprintf(v, sizeof(v), "%s", firsts[next() % 5]);
					else
						snprintf(v, sizeof(v), "s%d", (int)(next() % 40));
					stats_add(&one.cols[0], v, strlen(v));
					stats_add(&s->cols[0], v, strlen(v));
				}
			}
			stats_col_merge(&a.cols[0], &b.cols[0]);
			assert_int_equal(b.cols[0].count, 0);
			/* with at most 1000 distinct values on the categorical side, tables are exact */
			assert_same_col(&a.cols[0], &one.cols[0], a_kind != 1 && b_kind != 1, 1);
			stats_release(&one);
			stats_release(&a);
			stats_release(&b);
		}
}

/* No column asked for exists: no statistics, every row still counted, also past a quoted field (the
 * reader's batches of zero columns). */
static void test_no_column(void **state)
{
	char path[] = "/tmp/mlci-test-stats-file-XXXXXX";
	static const char text[] = "a,b\n1,2\n3,4\n\"5\",6\n7,8\n";
	const char *want[] = { "zzz" };
	struct stats got;
	struct err e = ERR_INIT;
	int fd = mkstemp(path);
	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(stats_from_data_file(&got, path, want, 1, &e), 0);
	assert_int_equal(got.n_cols, 0);
	assert_int_equal(got.rows, 4);
	stats_release(&got);
	err_release(&e);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spans_equal_one_pass),
		cmocka_unit_test(test_reader_takes_over_at_a_quote),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_merge_halves),
		cmocka_unit_test(test_no_column),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
