/* histogram.h - log-bucketed (HDR-like) latency histogram: 128 linear sub-buckets per power of two,
 * so a reported value is within 0.4% of the recorded one from 1 ns to 18 minutes. No I/O, no locking. */
#ifndef MLCI_HISTOGRAM_H
#define MLCI_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

/* Values are unsigned integers (mlci records nanoseconds). Values below 2^7 are kept exactly; above,
 * bucket [2^e, 2^(e+1)) is cut into 2^7 equal parts, so a bucket is at most 1/128 of its lower bound
 * wide and its midpoint is within 1/256 (0.39%) of anything recorded in it. Values at or above
 * CHECK_HIST_LIMIT (2^40 ns, about 18 minutes) land in the last bucket; min and max stay exact. */
#define CHECK_HIST_SUB_BITS   7
#define CHECK_HIST_LIMIT_BITS 40
#define CHECK_HIST_LIMIT      ((uint64_t)1 << CHECK_HIST_LIMIT_BITS)

struct check_hist {
	uint64_t *counts; /* nbuckets counters, owned */
	size_t nbuckets;
	uint64_t total; /* values recorded */
	uint64_t min, max;
	double sum; /* of the recorded values, for the mean */
};

void check_hist_init(struct check_hist *h);
void check_hist_release(struct check_hist *h);
void check_hist_reset(struct check_hist *h);
void check_hist_record(struct check_hist *h, uint64_t v);
/* Add every value of "src" to "dst" (both initialised); used to merge per-thread histograms. */
void check_hist_merge(struct check_hist *dst, const struct check_hist *src);
/* The value at percentile "q" (0..100): the smallest bucket whose cumulative count reaches
 * ceil(q/100 * total), reported as its midpoint clamped to [min, max]; 0 when empty. q=100 is max. */
uint64_t check_hist_percentile(const struct check_hist *h, double q);
double check_hist_mean(const struct check_hist *h);

#endif
