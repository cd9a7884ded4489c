/* histogram.c - log-bucketed latency histogram (see histogram.h for the bucket layout and error bound).
 * Pure computation: it must not allocate per record, print, or take locks (each thread has its own). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checks/histogram.h"
#include "common/alloc.h"
#include "common/banned.h"

#define SUB ((uint64_t)1 << CHECK_HIST_SUB_BITS)

static size_t bucket_count(void)
{
	return (size_t)(SUB + (CHECK_HIST_LIMIT_BITS - CHECK_HIST_SUB_BITS) * SUB);
}

/* Index of the bucket holding "v": exact below SUB, else octave e = msb(v) cut into SUB parts. */
static size_t bucket_of(uint64_t v)
{
	unsigned e, shift;
	if (v < SUB)
		return (size_t)v;
	if (v >= CHECK_HIST_LIMIT)
		return bucket_count() - 1;
	e = 63u - (unsigned)__builtin_clzll(v);
	shift = e - CHECK_HIST_SUB_BITS;
	return (size_t)(SUB + (uint64_t)shift * SUB + ((v >> shift) - SUB));
}

/* Lower bound and width of bucket "i" (the inverse of bucket_of). */
static void bucket_range(size_t i, uint64_t *lo, uint64_t *width)
{
	uint64_t shift, sub;
	if (i < SUB) {
		*lo = i;
		*width = 1;
		return;
	}
	shift = (i - SUB) / SUB;
	sub = (i - SUB) % SUB;
	*lo = (SUB + sub) << shift;
	*width = (uint64_t)1 << shift;
}

void check_hist_init(struct check_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->nbuckets = bucket_count();
	h->counts = xcalloc(h->nbuckets, sizeof(*h->counts));
	h->min = UINT64_MAX;
}

void check_hist_release(struct check_hist *h)
{
	free(h->counts);
	memset(h, 0, sizeof(*h));
}

void check_hist_reset(struct check_hist *h)
{
	memset(h->counts, 0, h->nbuckets * sizeof(*h->counts));
	h->total = 0;
	h->sum = 0;
	h->min = UINT64_MAX;
	h->max = 0;
}

void check_hist_record(struct check_hist *h, uint64_t v)
{
	h->counts[bucket_of(v)]++;
	h->total++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void check_hist_merge(struct check_hist *dst, const struct check_hist *src)
{
	for (size_t i = 0; i < dst->nbuckets && i < src->nbuckets; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
	dst->sum += src->sum;
	if (src->total && src->min < dst->min)
		dst->min = src->min;
	if (src->total && src->max > dst->max)
		dst->max = src->max;
}

uint64_t check_hist_percentile(const struct check_hist *h, double q)
{
	uint64_t rank, seen = 0, lo, width, v;
	if (!h->total)
		return 0;
	if (q >= 100.0)
		return h->max;
	if (q <= 0.0)
		return h->min;
	rank = (uint64_t)ceil(q / 100.0 * (double)h->total);
	if (rank < 1)
		rank = 1;
	for (size_t i = 0; i < h->nbuckets; i++) {
		seen += h->counts[i];
		if (seen < rank)
			continue;
		bucket_range(i, &lo, &width);
		v = lo + (width - 1) / 2;
		if (v < h->min)
			v = h->min;
		if (v > h->max)
			v = h->max;
		return v;
	}
	return h->max;
}

double check_hist_mean(const struct check_hist *h)
{
	return h->total ? h->sum / (double)h->total : 0.0;
}
