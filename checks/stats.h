/* stats.h - one-pass, constant-memory-per-column statistics of a dataset: counts, nulls, mean/std,
 * min/max, quantiles from a log-bucketed sketch, category counts; saved to and loaded from JSON.
 * It computes and serialises only: it never decides drift (checks/drift.c) nor prints. */
#ifndef MLCI_STATS_H
#define MLCI_STATS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "common/error.h"

struct cJSON;
struct csv_field;

/*
 * Quantile sketch. A value x != 0 goes to the bucket whose key is the top 18 bits of |x|'s IEEE 754
 * representation after the sign (11 exponent bits + 7 mantissa bits): STATS_SKETCH_RES = 128 buckets per
 * power of two, each [lo, hi) with hi/lo <= 1 + 1/128. Exact zeros have their own bucket. A quantile is
 * reported as the harmonic midpoint 2*lo*hi/(lo+hi) of its bucket, clamped to [min, max], so
 *
 *     |q_hat - q| <= |q| / 257  (0.39% relative)  for every quantile q,
 *
 * where q is the exact order statistic x_(r), r = floor(p * (n - 1)) (0-based, numpy's method='lower').
 * Each sign keeps at most STATS_SKETCH_MAX_BUCKETS consecutive keys (32 powers of two, a 4e9 ratio
 * between the largest and smallest magnitude); past that the smallest magnitudes are merged into the
 * lowest kept bucket ("collapsed" is set) and the bound holds only for quantiles above them. The same
 * bucket grid is shared by every sketch, so two sketches can be merged and compared bucket by bucket.
 */
#define STATS_SKETCH_RES         128
#define STATS_SKETCH_MAX_BUCKETS 4096
#define STATS_REL_ERROR          (1.0 / 257.0)
/* Exact category counts for up to this many distinct values; later new values count as "other". */
#define STATS_MAX_CATEGORIES 1000
/* Category values longer than this (bytes) always count as "other". */
#define STATS_MAX_CATEGORY_LEN 1024
#define STATS_NQ               7
extern const double stats_quantile_ps[STATS_NQ]; /* 0.01 0.05 0.25 0.50 0.75 0.95 0.99 */

enum stats_type { STATS_EMPTY, STATS_NUMERIC, STATS_CATEGORICAL };

/* One sign's dense bucket run: counts[i] is key lo + i; kmin..kmax are the keys in use. */
struct stats_store {
	uint64_t *counts;
	uint32_t cap;
	int32_t lo, kmin, kmax;
	uint64_t n;
	int collapsed;
};

struct stats_sketch {
	struct stats_store pos, neg;
	uint64_t zero;
};

struct stats_cat {
	char *s; /* NULL = free slot */
	size_t len;
	uint32_t hash;
	uint32_t seq; /* insertion order in its table: merging replays a table in the order it was filled */
	uint64_t count;
};

struct stats_cats {
	struct stats_cat *slots; /* open addressing, power-of-two size */
	size_t n_slots, n;
	uint64_t other; /* values not counted individually (table full, or too long) */
	int tracking;   /* 0 once a still-numeric column filled the table: counting stops until it turns categorical */
};

struct stats_col {
	char *name;
	uint64_t count;  /* values seen, nulls included */
	uint64_t nulls;  /* empty, NA, NaN, nan, null, NULL, None (as checks/schema.c), or an absent JSON Lines key */
	uint64_t n_num;  /* values that parsed as finite numbers */
	int non_numeric; /* some non-null value did not parse: the column is categorical */
	double mean, m2, min, max; /* over the numeric values (Welford, m2 = sum of squared deviations) */
	double shift, smean;       /* internal: Welford runs on x - shift */
	struct stats_sketch sk;
	struct stats_cats cats;
};

struct stats {
	struct stats_col *cols;
	size_t n_cols;
	uint64_t rows;
	char *source; /* where the data came from, for reports; may be NULL */
};

void stats_init(struct stats *s, const char *const *names, size_t n_names);
void stats_release(struct stats *s);

/* Add one value to column "c": "p" of "len" bytes (p[len] need not be NUL), or p == NULL for an
 * absent value (a null). No allocation except when a new category or a new sketch range appears. */
void stats_add(struct stats_col *c, const char *p, size_t len);
/* The same for a value with CSV_PAD bytes readable after p[len] (a CSV field of checks/csv.h): short
 * decimals are then read without a loop per digit (checks/decimal.h); the result is identical. */
void stats_add_padded(struct stats_col *c, const char *p, size_t len);
/* Numbers of one column waiting to be folded into it: stats_run_add_record and stats_add_fields keep a
 * column's numbers in its run (nulls and categories are counted at once, as stats_add_padded does),
 * stats_run_flush folds them (mean and variance by two passes over the run, merged into the column's by
 * Chan, Golub and LeVeque's update; extremes; sketch). Faster than stats_add; mean and std may differ
 * from it in the last digits, every other figure is identical. A run must be flushed before the column
 * is read. */
#define STATS_RUN_MAX 256
struct stats_run {
	size_t n;
	double xs[STATS_RUN_MAX];
};
void stats_run_flush(struct stats_col *c, struct stats_run *run);
/* A record read from a mapping into cols[j] through runs[j]: column j is field map[j] (a null when
 * map[j] >= nf) of fp/fl; the bytes before "limit" are readable (the fields are not NUL-terminated). */
void stats_run_add_record(struct stats_col *cols, struct stats_run *runs, size_t n_cols, const size_t *map,
			  const char *const *fp, const size_t *fl, size_t nf, const char *limit);
/* n CSV fields of one column, f[0], f[stride], ... (checks/csv.h), through a run of its own, flushed. */
void stats_add_fields(struct stats_col *c, const struct csv_field *f, size_t stride, size_t n);
/* Fold the statistics of "src", the values that come after those of "dst" in the file, into "dst";
 * "src" is left empty (released). Counts, extremes and sketch buckets add exactly (a sketch that must
 * collapse may keep different low buckets than one pass would); mean and variance merge as above;
 * category tables merge in the order they were filled, so with at most STATS_MAX_CATEGORIES distinct
 * values the counts are exactly those of one pass (with more, which values are counted one by one may
 * differ, the total never does). */
void stats_col_merge(struct stats_col *dst, struct stats_col *src);
/* Add a number directly (what stats_add does after parsing); NaN counts as a null, +-Inf as non-numeric. */
void stats_add_number(struct stats_col *c, double x);
/* 1 when "p" is one of the null spellings. */
int stats_is_null(const char *p, size_t len);
/* Parse "p" as strtod would with the whole field consumed (fast path for plain decimals, strtod
 * otherwise). Returns 1 and sets *out for a finite number, else 0. */
int stats_parse_number(const char *p, size_t len, double *out);

enum stats_type stats_col_type(const struct stats_col *c);
const char *stats_type_name(enum stats_type t);
/* Non-null values: numeric values for a numeric column, every non-null for a categorical one. */
uint64_t stats_col_n(const struct stats_col *c);
/* Sample standard deviation (n - 1), NaN below two values. */
double stats_col_std(const struct stats_col *c);
/* Quantile "p" in [0, 1] from the sketch (see the bound above); NaN when there are no numbers. */
double stats_quantile(const struct stats_col *c, double p);
const struct stats_col *stats_find(const struct stats *s, const char *name);

/* Buckets of a sketch in increasing value order as (ordinal, count) pairs: negative key k has ordinal
 * -(k + 1), zero 0, positive key k has k + 1. Returns the number of pairs; *out is malloc'd. */
size_t stats_sketch_ordinals(const struct stats_sketch *sk, int64_t **ord_out, uint64_t **cnt_out);
/* Upper edge of the bucket of ordinal "o" (the largest value in it, for display). */
double stats_ordinal_upper(int64_t o);

/* Every category with its count, most frequent first (ties by value); *out is malloc'd, entries
 * point into the column. */
size_t stats_categories(const struct stats_col *c, const struct stats_cat ***out);

/* Count of category "p" in "c" (0 when absent or counted in "other"). */
uint64_t stats_category_count(const struct stats_col *c, const char *p, size_t len);

/* JSON form ({"format": "mlci-stats/1", ...}); loading validates everything it reads. */
struct cJSON *stats_to_json(const struct stats *s);
int stats_from_json(struct stats *s, const struct cJSON *j, struct err *e);
int stats_save(const struct stats *s, const char *path, struct err *e);
int stats_load(struct stats *s, const char *path, struct err *e);
int stats_load_buffer(struct stats *s, const char *text, size_t len, struct err *e);

/* Compute the statistics of a CSV or JSON Lines file in one pass (checks/stats_file.c, uses the CSV
 * reader). "columns", when non-NULL, restricts to those names that the file has (the others are not
 * parsed; a requested name the file lacks is simply absent from "s"). */
int stats_from_data_file(struct stats *s, const char *path, const char *const *columns, size_t n_columns,
			 struct err *e);

/* stats_from_data_file over the open stream "f" (named "name"; the format from its extension) with
 * "threads" threads; when "data" is not NULL, it holds the stream's "len" bytes, and the plain records
 * are read from it in parallel spans (checks/csv_spans.h). Tests and fuzzers compare it with data NULL. */
int stats_from_data_stream(struct stats *s, FILE *f, const char *name, const char *data, size_t len, int threads,
			   const char *const *columns, size_t n_columns, struct err *e);
/* The same for two files at once, each on its own thread (the reference and the current data). On
 * failure both are released and "e" holds the first file's error. */
int stats_from_data_files(struct stats *a, const char *path_a, struct stats *b, const char *path_b,
			  const char *const *columns, size_t n_columns, struct err *e);

#endif
