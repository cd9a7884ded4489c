/* stats.c - per-column statistics in one pass: Welford mean/variance, a log-bucketed quantile sketch
 * with a stated error bound, bounded category counts, and their JSON form. It must not print, read
 * data files (checks/stats_file.c does) or allocate per value. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/csv.h"
#include "checks/decimal.h"
#include "checks/stats.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/banned.h"

const double stats_quantile_ps[STATS_NQ] = { 0.01, 0.05, 0.25, 0.50, 0.75, 0.95, 0.99 };

/* Largest key of a finite double: exponent 0x7fe, all 7 mantissa bits set. */
#define KEY_MAX ((int32_t)((0x7feu << 7) | 127u))

/* ---------------------------------------------------------------- sketch */

static int32_t key_of(double ax)
{
	uint64_t bits;
	memcpy(&bits, &ax, sizeof(bits));
	return (int32_t)((bits >> 45) & 0x3ffffu);
}

static double key_bound(int32_t k)
{
	uint64_t bits = (uint64_t)k << 45;
	double d;
	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* Harmonic midpoint of bucket "k": within |x|/257 of every x in it. */
static double key_value(int32_t k)
{
	double lo = key_bound(k), hi = k >= KEY_MAX ? INFINITY : key_bound(k + 1);
	if (!isfinite(hi))
		return lo;
	return lo * (2.0 / (1.0 + lo / hi)); /* 2*lo*hi/(lo+hi) without overflowing near DBL_MAX */
}

/* Re-lay "s" so that key "k" fits: grow (keeping at least half the window free), re-centre, or, past
 * STATS_SKETCH_MAX_BUCKETS, merge the smallest keys into the lowest kept one. */
static void store_make_room(struct stats_store *s, int32_t k)
{
	int32_t nmin = k < s->kmin ? k : s->kmin, nmax = k > s->kmax ? k : s->kmax, lo;
	int64_t span = (int64_t)nmax - nmin + 1;
	uint32_t cap = s->cap;
	uint64_t *counts;
	int32_t floor_key = nmin;

	if (span > STATS_SKETCH_MAX_BUCKETS) {
		/* collapse, leaving an eighth of headroom above for values that keep growing */
		int64_t l = (int64_t)nmax + STATS_SKETCH_MAX_BUCKETS / 8 - STATS_SKETCH_MAX_BUCKETS + 1;
		if (l > nmax)
			l = nmax;
		if (l + STATS_SKETCH_MAX_BUCKETS - 1 > KEY_MAX + (int64_t)STATS_SKETCH_MAX_BUCKETS)
			l = nmax;
		floor_key = (int32_t)l;
		cap = STATS_SKETCH_MAX_BUCKETS;
		lo = floor_key;
		s->collapsed = 1;
	} else {
		while ((int64_t)cap < 2 * span && cap < STATS_SKETCH_MAX_BUCKETS)
			cap *= 2;
		lo = (int32_t)(nmin - ((int64_t)cap - span) / 2);
	}
	counts = xcalloc(cap, sizeof(*counts));
	for (uint32_t i = 0; i < s->cap; i++) {
		int32_t key = s->lo + (int32_t)i;
		if (!s->counts[i])
			continue;
		if (key < floor_key)
			key = floor_key;
		counts[key - lo] += s->counts[i];
	}
	free(s->counts);
	s->counts = counts;
	s->cap = cap;
	s->lo = lo;
	if (s->kmin < floor_key)
		s->kmin = floor_key;
}

static void store_add(struct stats_store *s, int32_t k, uint64_t n)
{
	if (!s->counts) {
		s->cap = 64;
		s->counts = xcalloc(s->cap, sizeof(*s->counts));
		s->lo = k - 32;
		s->kmin = s->kmax = k;
	}
	if (k < s->lo || (int64_t)k >= (int64_t)s->lo + s->cap)
		store_make_room(s, k);
	if (k < s->lo) /* collapsed */
		k = s->lo;
	s->counts[k - s->lo] += n;
	s->n += n;
	if (k < s->kmin)
		s->kmin = k;
	if (k > s->kmax)
		s->kmax = k;
}

/* store_add(s, k, 1), the common case (k within the window) inline. */
static inline void store_add1(struct stats_store *s, int32_t k)
{
	if (s->counts && k >= s->lo && (int64_t)k < (int64_t)s->lo + s->cap) {
		s->counts[k - s->lo]++;
		s->n++;
		s->kmin = k < s->kmin ? k : s->kmin;
		s->kmax = k > s->kmax ? k : s->kmax;
		return;
	}
	store_add(s, k, 1);
}

static inline void sketch_add(struct stats_sketch *sk, double x)
{
	if (x == 0)
		sk->zero++;
	else if (x > 0)
		store_add1(&sk->pos, key_of(x));
	else
		store_add1(&sk->neg, key_of(-x));
}

/* sketch_add of xs[0, n), all of one sign, lo..hi their extremes, when the store needs no collapse for
 * them: its window is made to hold both ends once, then one increment per value. 0 (nothing done) when
 * the run has zeros or both signs, or would collapse the store (the caller then adds one by one). */
static int sketch_add_run(struct stats_sketch *sk, const double *xs, size_t n, double lo, double hi)
{
	struct stats_store *s;
	int32_t k0, k1;
	uint64_t *base;
	if (lo > 0) {
		s = &sk->pos;
		k0 = key_of(lo);
		k1 = key_of(hi);
	} else if (hi < 0) {
		s = &sk->neg;
		k0 = key_of(-hi);
		k1 = key_of(-lo);
	} else {
		return 0;
	}
	if (s->counts &&
	    (int64_t)(k1 > s->kmax ? k1 : s->kmax) - (k0 < s->kmin ? k0 : s->kmin) + 1 > STATS_SKETCH_MAX_BUCKETS)
		return 0;
	if ((int64_t)k1 - k0 + 1 > STATS_SKETCH_MAX_BUCKETS)
		return 0;
	store_add(s, k0, 0); /* room for both ends (no collapse: checked above) */
	store_add(s, k1, 0);
	base = s->counts - s->lo;
	if (lo > 0)
		for (size_t i = 0; i < n; i++)
			base[key_of(xs[i])]++;
	else
		for (size_t i = 0; i < n; i++)
			base[key_of(-xs[i])]++;
	s->n += n;
	return 1;
}

static void sketch_release(struct stats_sketch *sk)
{
	free(sk->pos.counts);
	free(sk->neg.counts);
	memset(sk, 0, sizeof(*sk));
}

size_t stats_sketch_ordinals(const struct stats_sketch *sk, int64_t **ord_out, uint64_t **cnt_out)
{
	size_t cap = (sk->neg.counts ? sk->neg.cap : 0) + (sk->pos.counts ? sk->pos.cap : 0) + 1, n = 0;
	int64_t *ord = xmalloc(cap * sizeof(*ord));
	uint64_t *cnt = xmalloc(cap * sizeof(*cnt));
	if (sk->neg.counts)
		for (uint32_t i = sk->neg.cap; i-- > 0;)
			if (sk->neg.counts[i]) {
				ord[n] = -((int64_t)sk->neg.lo + i + 1);
				cnt[n++] = sk->neg.counts[i];
			}
	if (sk->zero) {
		ord[n] = 0;
		cnt[n++] = sk->zero;
	}
	if (sk->pos.counts)
		for (uint32_t i = 0; i < sk->pos.cap; i++)
			if (sk->pos.counts[i]) {
				ord[n] = (int64_t)sk->pos.lo + i + 1;
				cnt[n++] = sk->pos.counts[i];
			}
	*ord_out = ord;
	*cnt_out = cnt;
	return n;
}

double stats_ordinal_upper(int64_t o)
{
	if (o == 0)
		return 0;
	if (o > 0)
		return key_bound((int32_t)o); /* +inf above the largest finite bucket */
	return -key_bound((int32_t)(-o - 1));
}

double stats_quantile(const struct stats_col *c, double p)
{
	const struct stats_sketch *sk = &c->sk;
	uint64_t n = sk->neg.n + sk->zero + sk->pos.n, r, cum = 0;
	double v = NAN;
	if (!n || !(p >= 0 && p <= 1))
		return NAN;
	r = (uint64_t)floor(p * (double)(n - 1));
	if (r >= n - 1)
		return c->max; /* the extremes are known exactly */
	if (r == 0)
		return c->min;
	if (r < sk->neg.n) {
		for (uint32_t i = sk->neg.cap; i-- > 0;) {
			cum += sk->neg.counts[i];
			if (cum > r) {
				v = -key_value(sk->neg.lo + (int32_t)i);
				break;
			}
		}
	} else if (r < sk->neg.n + sk->zero) {
		v = 0;
	} else {
		cum = sk->neg.n + sk->zero;
		for (uint32_t i = 0; i < sk->pos.cap; i++) {
			cum += sk->pos.counts[i];
			if (cum > r) {
				v = key_value(sk->pos.lo + (int32_t)i);
				break;
			}
		}
	}
	if (v < c->min)
		v = c->min;
	if (v > c->max)
		v = c->max;
	return v;
}

/* ---------------------------------------------------------------- categories */

/* A hash of a value: the short ones (most categories) with two overlapping loads inside the value and
 * two multiplications, no loop; longer ones 8 bytes a step. Only used inside the table. */
static uint32_t hash_bytes(const char *p, size_t len)
{
	uint64_t a = 0, b = 0, h;
	if (len >= 8) {
		size_t i;
		for (i = 0; i + 8 < len; i += 8) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			a = (a ^ w) * UINT64_C(0x9E3779B97F4A7C15);
			a ^= a >> 29;
		}
		memcpy(&b, p + len - 8, 8);
	} else if (len >= 4) {
		uint32_t x, y;
		memcpy(&x, p, 4);
		memcpy(&y, p + len - 4, 4);
		a = x;
		b = y;
	} else if (len) {
		a = (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[len / 2] << 8 |
		    (uint64_t)(unsigned char)p[len - 1] << 16;
	}
	h = (a ^ UINT64_C(0xA0761D6478BD642F)) * (b ^ len ^ UINT64_C(0xE7037ED1A0B428DB));
	h ^= h >> 32;
	h *= UINT64_C(0x8EBC6AF09C88C6E3);
	return (uint32_t)(h >> 32);
}

static void cats_rehash(struct stats_cats *t, size_t n_slots)
{
	struct stats_cat *old = t->slots;
	size_t old_n = t->n_slots;
	t->slots = xcalloc(n_slots, sizeof(*t->slots));
	t->n_slots = n_slots;
	for (size_t i = 0; i < old_n; i++) {
		size_t j;
		if (!old[i].s)
			continue;
		for (j = old[i].hash & (n_slots - 1); t->slots[j].s; j = (j + 1) & (n_slots - 1))
			;
		t->slots[j] = old[i];
	}
	free(old);
}

/* memcmp(a, b, n) == 0, without a call or a loop for the short values most categories are: two
 * overlapping loads inside the values (positions 0, n/2 and n - 1 cover every byte below 4). */
static int same_bytes(const char *a, const char *b, size_t n)
{
	if (n > 16)
		return !memcmp(a, b, n);
	if (n >= 8) {
		uint64_t x0, y0, x1, y1;
		memcpy(&x0, a, 8);
		memcpy(&y0, b, 8);
		memcpy(&x1, a + n - 8, 8);
		memcpy(&y1, b + n - 8, 8);
		return !((x0 ^ y0) | (x1 ^ y1));
	}
	if (n >= 4) {
		uint32_t x0, y0, x1, y1;
		memcpy(&x0, a, 4);
		memcpy(&y0, b, 4);
		memcpy(&x1, a + n - 4, 4);
		memcpy(&y1, b + n - 4, 4);
		return !((x0 ^ y0) | (x1 ^ y1));
	}
	return !n || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

/* Count "n" occurrences of value "p"; new values past the limit go to "other". */
static void cats_add(struct stats_cats *t, const char *p, size_t len, uint64_t n)
{
	uint32_t h;
	size_t j;
	if (len > STATS_MAX_CATEGORY_LEN) {
		t->other += n;
		return;
	}
	if (!t->slots)
		cats_rehash(t, 64);
	h = hash_bytes(p, len);
	for (j = h & (t->n_slots - 1); t->slots[j].s; j = (j + 1) & (t->n_slots - 1)) {
		struct stats_cat *c = &t->slots[j];
		if (c->hash == h && c->len == len && same_bytes(c->s, p, len)) {
			c->count += n;
			return;
		}
	}
	if (t->n >= STATS_MAX_CATEGORIES) {
		t->other += n;
		return;
	}
	t->slots[j].s = xmalloc(len + 1); /* all its bytes: a value may hold a NUL */
	memcpy(t->slots[j].s, p, len);
	t->slots[j].s[len] = '\0';
	t->slots[j].len = len;
	t->slots[j].hash = h;
	t->slots[j].seq = (uint32_t)t->n;
	t->slots[j].count = n;
	t->n++;
	if (2 * t->n > t->n_slots)
		cats_rehash(t, t->n_slots * 2);
}

uint64_t stats_category_count(const struct stats_col *c, const char *p, size_t len)
{
	const struct stats_cats *t = &c->cats;
	uint32_t h;
	if (!t->slots)
		return 0;
	h = hash_bytes(p, len);
	for (size_t j = h & (t->n_slots - 1); t->slots[j].s; j = (j + 1) & (t->n_slots - 1))
		if (t->slots[j].hash == h && t->slots[j].len == len && !memcmp(t->slots[j].s, p, len))
			return t->slots[j].count;
	return 0;
}

static void cats_release(struct stats_cats *t)
{
	for (size_t i = 0; i < t->n_slots; i++)
		free(t->slots[i].s);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static int cat_cmp(const void *a, const void *b)
{
	const struct stats_cat *x = *(const struct stats_cat *const *)a, *y = *(const struct stats_cat *const *)b;
	size_t l = x->len < y->len ? x->len : y->len;
	int c;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = memcmp(x->s, y->s, l);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

size_t stats_categories(const struct stats_col *c, const struct stats_cat ***out)
{
	const struct stats_cat **v = xmalloc((c->cats.n + 1) * sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < c->cats.n_slots; i++)
		if (c->cats.slots[i].s)
			v[n++] = &c->cats.slots[i];
	qsort(v, n, sizeof(*v), cat_cmp);
	*out = v;
	return n;
}

/* ---------------------------------------------------------------- values */

static inline int is_null(const char *p, size_t len)
{
	if (len && (p[0] | 0x20) != 'n') /* every spelling but the empty one starts with N or n */
		return 0;
	switch (len) {
	case 0:
		return 1;
	case 2:
		return !memcmp(p, "NA", 2);
	case 3:
		return !memcmp(p, "NaN", 3) || !memcmp(p, "nan", 3);
	case 4:
		return !memcmp(p, "null", 4) || !memcmp(p, "None", 4) || !memcmp(p, "NULL", 4);
	default:
		return 0;
	}
}

static const double pow10_exact[23] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
					1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

static int parse_slow(const char *p, size_t len, double *out)
{
	char small[64], *copy = small, *end;
	double d;
	int ok;
	if (len >= sizeof(small))
		copy = xmalloc(len + 1);
	memcpy(copy, p, len);
	copy[len] = '\0';
	errno = 0;
	d = strtod(copy, &end);
	/* strtod's ERANGE on underflow still returns the right (subnormal or zero) value */
	ok = end != copy && (size_t)(end - copy) == len && isfinite(d);
	if (copy != small)
		free(copy);
	if (ok)
		*out = d;
	return ok;
}

int stats_is_null(const char *p, size_t len)
{
	return is_null(p, len);
}

/* Clinger's fast path: a decimal with at most 19 digits whose mantissa fits in 53 bits and whose power
 * of ten is at most 22 is one exact multiplication or division away, correctly rounded, i.e. the same
 * double strtod returns. Anything else (hex, inf, spaces, long mantissas) goes to strtod. */
int stats_parse_number(const char *p, size_t len, double *out)
{
	const char *s = p, *e = p + len, *d0;
	uint64_t m = 0;
	size_t n_int, n_frac = 0;
	int neg = 0, exp10 = 0;
	double d;
	if (s < e && (*s == '-' || *s == '+'))
		neg = *s++ == '-';
	d0 = s;
	while (s < e && (unsigned)(*s - '0') < 10)
		m = m * 10 + (unsigned)(*s++ - '0'); /* wraps past 19 digits: then unused */
	n_int = (size_t)(s - d0);
	if (s < e && *s == '.') {
		const char *f0 = ++s;
		while (s < e && (unsigned)(*s - '0') < 10)
			m = m * 10 + (unsigned)(*s++ - '0');
		n_frac = (size_t)(s - f0);
	}
	if (!n_int && !n_frac)
		return parse_slow(p, len, out);
	if (s < e && (*s == 'e' || *s == 'E')) {
		int eneg = 0, ev = 0, edig = 0;
		s++;
		if (s < e && (*s == '-' || *s == '+'))
			eneg = *s++ == '-';
		while (s < e && (unsigned)(*s - '0') < 10) {
			if (ev < 10000)
				ev = ev * 10 + (*s - '0');
			edig++;
			s++;
		}
		if (!edig)
			return parse_slow(p, len, out);
		exp10 = eneg ? -ev : ev;
	}
	exp10 -= (int)(n_frac < 100000 ? n_frac : 100000);
	if (s != e || n_int + n_frac > 19 || m > (1ull << 53) || exp10 < -22 || exp10 > 22)
		return parse_slow(p, len, out);
	d = (double)m;
	if (exp10 < 0)
		d /= pow10_exact[-exp10];
	else
		d *= pow10_exact[exp10];
	*out = neg ? -d : d;
	return 1;
}

static inline void add_number(struct stats_col *c, double x)
{
	double d, y, r;
	c->count++;
	if (isnan(x)) {
		c->nulls++;
		return;
	}
	if (!isfinite(x)) {
		c->non_numeric = 1;
		return;
	}
	c->n_num++;
	/* Welford on x - shift (the first value): with data far from zero (1e9 + noise) the running mean
	 * stays small, so its rounding does not swamp the variance */
	if (c->n_num == 1)
		c->shift = x;
	y = x - c->shift;
	d = y - c->smean;
	/* 1/n does not depend on the running mean, so the division runs off the critical path */
	r = 1.0 / (double)c->n_num;
	c->smean += d * r;
	c->m2 += d * (y - c->smean);
	c->mean = c->shift + c->smean;
	if (c->n_num == 1 || x < c->min)
		c->min = x;
	if (c->n_num == 1 || x > c->max)
		c->max = x;
	sketch_add(&c->sk, x);
}

void stats_add_number(struct stats_col *c, double x)
{
	add_number(c, x);
}

/* A non-null value as a number (1, *x set) or not (0): short decimals by SWAR when "padded" (checks/
 * decimal.h) with the same Clinger fast path as stats_parse_number (m exact, 10^nf exact, one
 * division), so the same double; anything else by stats_parse_number. */
static inline __attribute__((always_inline)) int parse_value(const char *p, size_t len, int padded, double *x)
{
#ifdef DECIMAL_SWAR
	uint64_t m;
	size_t nf;
	if (padded && len && len <= 16 && decimal_swar(p, len, &m, &nf) && m <= (UINT64_C(1) << 53)) {
		double d = (double)(int64_t)m; /* m <= 2^53: one signed conversion */
		if (nf)
			d /= pow10_exact[nf];
		*x = *p == '-' ? -d : d;
		return 1;
	}
#else
	(void)padded;
#endif
	return stats_parse_number(p, len, x);
}

/* stats_add; "padded": DECIMAL_READABLE bytes are readable at p (a CSV field, see CSV_PAD). */
static inline void add_value(struct stats_col *c, const char *p, size_t len, int padded)
{
	double x;
	int num = 0;
	if (!p || is_null(p, len)) {
		c->count++;
		c->nulls++;
		return;
	}
	if (!c->non_numeric)
		num = parse_value(p, len, padded, &x);
	if (num) {
		add_number(c, x);
		if (c->cats.tracking) {
			cats_add(&c->cats, p, len, 1);
			/* a numeric column with many distinct values: stop hashing them (see stats_col_type) */
			if (c->cats.other)
				c->cats.tracking = 0;
		}
		return;
	}
	c->count++;
	if (!c->non_numeric) {
		c->non_numeric = 1;
		if (!c->cats.tracking) {
			/* the numeric values seen since counting stopped are not known one by one: "other" */
			uint64_t known = c->cats.other;
			for (size_t i = 0; i < c->cats.n_slots; i++)
				known += c->cats.slots[i].s ? c->cats.slots[i].count : 0;
			c->cats.other += c->n_num - known;
			c->cats.tracking = 1;
		}
	}
	cats_add(&c->cats, p, len, 1);
}

void stats_add(struct stats_col *c, const char *p, size_t len)
{
	add_value(c, p, len, 0);
}

void stats_add_padded(struct stats_col *c, const char *p, size_t len)
{
	add_value(c, p, len, 1);
}

/* ---------------------------------------------------------------- runs and merging */

/* Fold "n" numbers with mean "mean_b", squared deviations "m2_b" and extremes lo, hi (values after the
 * column's) into the column's moments: Chan, Golub and LeVeque's pairwise update. */
static void merge_moments(struct stats_col *c, uint64_t n, double mean_b, double m2_b, double lo, double hi)
{
	if (!n)
		return;
	if (!c->n_num) {
		c->n_num = n;
		c->shift = mean_b;
		c->smean = 0;
		c->mean = mean_b;
		c->m2 = m2_b;
		c->min = lo;
		c->max = hi;
		return;
	}
	double na = (double)c->n_num, nb = (double)n, nt = na + nb, delta = (mean_b - c->shift) - c->smean;
	c->n_num += n;
	c->smean += delta * (nb / nt);
	c->m2 += m2_b + delta * delta * (na * nb / nt);
	c->mean = c->shift + c->smean;
	c->min = lo < c->min ? lo : c->min;
	c->max = hi > c->max ? hi : c->max;
}

void stats_run_flush(struct stats_col *c, struct stats_run *run)
{
	const double *xs = run->xs;
	size_t n = run->n, i;
	double s0 = 0, s1 = 0, mean_b, q0 = 0, q1 = 0, lo, hi;
	if (!n)
		return;
	lo = hi = xs[0];
	for (i = 0; i + 1 < n; i += 2) { /* two chains: each add waits on half as many */
		s0 += xs[i];
		s1 += xs[i + 1];
	}
	if (i < n)
		s0 += xs[i];
	mean_b = (s0 + s1) / (double)n;
	for (i = 0; i + 1 < n; i += 2) { /* the second pass: deviations from the run's own mean */
		double d0 = xs[i] - mean_b, d1 = xs[i + 1] - mean_b;
		q0 += d0 * d0;
		q1 += d1 * d1;
		lo = xs[i] < lo ? xs[i] : lo;
		lo = xs[i + 1] < lo ? xs[i + 1] : lo;
		hi = xs[i] > hi ? xs[i] : hi;
		hi = xs[i + 1] > hi ? xs[i + 1] : hi;
	}
	if (i < n) {
		double d0 = xs[i] - mean_b;
		q0 += d0 * d0;
		lo = xs[i] < lo ? xs[i] : lo;
		hi = xs[i] > hi ? xs[i] : hi;
	}
	c->count += n;
	merge_moments(c, n, mean_b, q0 + q1, lo, hi);
	if (!sketch_add_run(&c->sk, xs, n, lo, hi))
		for (i = 0; i < n; i++) /* in file order, as one value at a time (a collapse depends on it) */
			sketch_add(&c->sk, xs[i]);
	run->n = 0;
}

/* stats_add_padded ("padded": CSV_PAD bytes readable after p[len]) with the numbers kept in "run". */
static inline __attribute__((always_inline)) void run_add(struct stats_col *c, struct stats_run *run, const char *p,
							  size_t len, int padded)
{
	double x;
	int num;
	if (!p || is_null(p, len)) {
		c->count++;
		c->nulls++;
		return;
	}
	if (c->non_numeric) {
		add_value(c, p, len, padded);
		return;
	}
	num = parse_value(p, len, padded, &x);
	if (!num) {
		/* the column turns categorical: the numbers before it must be counted first */
		stats_run_flush(c, run);
		add_value(c, p, len, padded);
		return;
	}
	run->xs[run->n++] = x;
	if (c->cats.tracking) {
		cats_add(&c->cats, p, len, 1);
		if (c->cats.other) /* as add_value: a numeric column with many distinct values */
			c->cats.tracking = 0;
	}
	if (run->n == STATS_RUN_MAX)
		stats_run_flush(c, run);
}

void stats_run_add_record(struct stats_col *cols, struct stats_run *runs, size_t n_cols, const size_t *map,
			  const char *const *fp, const size_t *fl, size_t nf, const char *limit)
{
	for (size_t j = 0; j < n_cols; j++) {
		size_t h = map[j];
		if (h < nf) /* CSV_PAD bytes readable after the field, or the plain path */
			run_add(&cols[j], &runs[j], fp[h], fl[h], (size_t)(limit - (fp[h] + fl[h])) >= CSV_PAD);
		else
			run_add(&cols[j], &runs[j], NULL, 0, 0); /* a field the record lacks is a null */
	}
}

void stats_add_fields(struct stats_col *c, const struct csv_field *f, size_t stride, size_t n)
{
	struct stats_run run;
	run.n = 0;
	for (size_t i = 0; i < n; i++, f += stride)
		run_add(c, &run, f->ptr, f->len, 1);
	stats_run_flush(c, &run);
}

static void store_merge(struct stats_store *dst, const struct stats_store *src)
{
	if (!src->counts)
		return;
	for (uint32_t i = 0; i < src->cap; i++)
		if (src->counts[i])
			store_add(dst, src->lo + (int32_t)i, src->counts[i]);
	dst->collapsed |= src->collapsed;
}

static int seq_cmp(const void *a, const void *b)
{
	uint32_t x = (*(const struct stats_cat *const *)a)->seq, y = (*(const struct stats_cat *const *)b)->seq;
	return x < y ? -1 : x > y;
}

/* The values of a column not in its category table: for a numeric one, every number its table does not
 * count (once the table was full, numbers were not hashed; see add_value). */
static uint64_t cats_rest(const struct stats_col *c)
{
	uint64_t known = 0;
	if (c->non_numeric)
		return c->cats.other;
	for (size_t i = 0; i < c->cats.n_slots; i++)
		known += c->cats.slots[i].s ? c->cats.slots[i].count : 0;
	return c->n_num - known;
}

/* Replay the table of "src" into "dst" in the order it was filled. */
static void cats_merge(struct stats_cats *dst, const struct stats_cats *src)
{
	const struct stats_cat **v;
	size_t n = 0;
	if (!src->n)
		return;
	v = xmalloc(src->n * sizeof(*v));
	for (size_t i = 0; i < src->n_slots; i++)
		if (src->slots[i].s)
			v[n++] = &src->slots[i];
	qsort(v, n, sizeof(*v), seq_cmp);
	for (size_t i = 0; i < n; i++)
		cats_add(dst, v[i]->s, v[i]->len, v[i]->count);
	free(v);
}

void stats_col_merge(struct stats_col *dst, struct stats_col *src)
{
	/* values of each in no table, taken before dst's counts change */
	uint64_t rest_dst = cats_rest(dst), rest_src = cats_rest(src);
	dst->count += src->count;
	dst->nulls += src->nulls;
	if (!dst->non_numeric) { /* once a column is categorical, later numbers are only categories */
		merge_moments(dst, src->n_num, src->mean, src->m2, src->min, src->max);
		store_merge(&dst->sk.pos, &src->sk.pos);
		store_merge(&dst->sk.neg, &src->sk.neg);
		dst->sk.zero += src->sk.zero;
	}
	if (dst->non_numeric || src->non_numeric) {
		/* categorical: every value of both in the table or in "other" */
		dst->non_numeric = 1;
		dst->cats.tracking = 1;
		dst->cats.other = rest_dst;
		cats_merge(&dst->cats, &src->cats);
		dst->cats.other += rest_src;
	} else if (dst->cats.tracking && src->cats.tracking) {
		/* numeric, both still counting every number: as one pass, counting stops once the table is full */
		cats_merge(&dst->cats, &src->cats);
		dst->cats.other += src->cats.other;
		dst->cats.tracking = !dst->cats.other;
	} else {
		/* numeric, one stopped counting: the table keeps what dst counted, the rest is "other" once the
		 * column turns categorical (add_value) */
		dst->cats.tracking = 0;
	}
	sketch_release(&src->sk);
	cats_release(&src->cats);
	src->count = src->nulls = src->n_num = 0;
	src->non_numeric = 0;
	src->mean = src->m2 = src->min = src->max = src->shift = src->smean = 0;
}

/* ---------------------------------------------------------------- columns */

void stats_init(struct stats *s, const char *const *names, size_t n_names)
{
	memset(s, 0, sizeof(*s));
	s->n_cols = n_names;
	s->cols = xcalloc(n_names ? n_names : 1, sizeof(*s->cols));
	for (size_t i = 0; i < n_names; i++) {
		s->cols[i].name = xstrdup(names[i] ? names[i] : "");
		s->cols[i].cats.tracking = 1;
	}
}

void stats_release(struct stats *s)
{
	for (size_t i = 0; i < s->n_cols; i++) {
		free(s->cols[i].name);
		sketch_release(&s->cols[i].sk);
		cats_release(&s->cols[i].cats);
	}
	free(s->cols);
	free(s->source);
	memset(s, 0, sizeof(*s));
}

enum stats_type stats_col_type(const struct stats_col *c)
{
	if (c->non_numeric)
		return STATS_CATEGORICAL;
	return c->n_num ? STATS_NUMERIC : STATS_EMPTY;
}

const char *stats_type_name(enum stats_type t)
{
	return t == STATS_NUMERIC ? "numeric" : t == STATS_CATEGORICAL ? "categorical" : "empty";
}

uint64_t stats_col_n(const struct stats_col *c)
{
	return stats_col_type(c) == STATS_NUMERIC ? c->n_num : c->count - c->nulls;
}

double stats_col_std(const struct stats_col *c)
{
	if (c->n_num < 2)
		return NAN;
	return sqrt(c->m2 / (double)(c->n_num - 1));
}

const struct stats_col *stats_find(const struct stats *s, const char *name)
{
	for (size_t i = 0; i < s->n_cols; i++)
		if (!strcmp(s->cols[i].name, name))
			return &s->cols[i];
	return NULL;
}

/* ---------------------------------------------------------------- JSON */

static cJSON *store_json(const struct stats_store *s, int neg)
{
	cJSON *a = cJSON_CreateArray();
	for (uint32_t i = 0; s->counts && i < s->cap; i++)
		if (s->counts[i]) {
			cJSON *pair = cJSON_CreateArray();
			cJSON_AddItemToArray(pair, cJSON_CreateNumber(s->lo + (int32_t)i));
			cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)s->counts[i]));
			cJSON_AddItemToArray(a, pair);
		}
	(void)neg;
	return a;
}

static void add_num(cJSON *o, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *col_json(const struct stats_col *c)
{
	cJSON *o = cJSON_CreateObject(), *q, *sk, *h;
	enum stats_type t = stats_col_type(c);
	cJSON_AddStringToObject(o, "name", c->name);
	cJSON_AddStringToObject(o, "type", stats_type_name(t));
	cJSON_AddNumberToObject(o, "count", (double)c->count);
	cJSON_AddNumberToObject(o, "nulls", (double)c->nulls);
	if (t == STATS_NUMERIC) {
		int64_t *ord;
		uint64_t *cnt, cum = 0, n = c->n_num;
		size_t nb = stats_sketch_ordinals(&c->sk, &ord, &cnt), b = 0;
		cJSON *edges, *counts;
		cJSON_AddNumberToObject(o, "numeric", (double)c->n_num);
		add_num(o, "mean", c->mean);
		add_num(o, "std", stats_col_std(c));
		add_num(o, "min", c->min);
		add_num(o, "max", c->max);
		q = cJSON_AddObjectToObject(o, "quantiles");
		for (int i = 0; i < STATS_NQ; i++) {
			char k[8];
			snprintf(k, sizeof(k), "p%d", (int)lround(stats_quantile_ps[i] * 100));
			add_num(q, k, stats_quantile(c, stats_quantile_ps[i]));
		}
		/* deciles as a fixed-bin histogram (upper bucket edges), for people reading the file */
		h = cJSON_AddObjectToObject(o, "histogram");
		edges = cJSON_AddArrayToObject(h, "upper_edges");
		counts = cJSON_AddArrayToObject(h, "counts");
		for (int d = 1; d <= 10 && nb; d++) {
			uint64_t want = d == 10 ? n : (uint64_t)floor((double)d / 10.0 * (double)(n - 1)) + 1,
				 start = cum;
			if (cum >= want)
				continue;
			while (b < nb && cum < want)
				cum += cnt[b++];
			cJSON_AddItemToArray(edges,
					     cJSON_CreateNumber(d == 10 ? c->max : stats_ordinal_upper(ord[b - 1])));
			cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)(cum - start)));
		}
		free(ord);
		free(cnt);
		sk = cJSON_AddObjectToObject(o, "sketch");
		cJSON_AddNumberToObject(sk, "resolution", STATS_SKETCH_RES);
		cJSON_AddNumberToObject(sk, "zero", (double)c->sk.zero);
		cJSON_AddItemToObject(sk, "pos", store_json(&c->sk.pos, 0));
		cJSON_AddItemToObject(sk, "neg", store_json(&c->sk.neg, 1));
		cJSON_AddBoolToObject(sk, "collapsed", c->sk.pos.collapsed || c->sk.neg.collapsed);
	} else if (t == STATS_CATEGORICAL) {
		const struct stats_cat **v;
		size_t n = stats_categories(c, &v);
		cJSON *a = cJSON_AddArrayToObject(o, "categories");
		cJSON_AddNumberToObject(o, "distinct", (double)n);
		for (size_t i = 0; i < n; i++) {
			cJSON *pair = cJSON_CreateArray();
			char *s = xstrndup(v[i]->s, v[i]->len);
			cJSON_AddItemToArray(pair, cJSON_CreateString(s));
			cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)v[i]->count));
			cJSON_AddItemToArray(a, pair);
			free(s);
		}
		cJSON_AddNumberToObject(o, "other", (double)c->cats.other);
		free(v);
	}
	return o;
}

cJSON *stats_to_json(const struct stats *s)
{
	cJSON *j = cJSON_CreateObject(), *cols;
	cJSON_AddStringToObject(j, "format", "mlci-stats/1");
	if (s->source)
		cJSON_AddStringToObject(j, "source", s->source);
	cJSON_AddNumberToObject(j, "rows", (double)s->rows);
	cJSON_AddNumberToObject(j, "quantile_relative_error", STATS_REL_ERROR);
	cols = cJSON_AddArrayToObject(j, "columns");
	for (size_t i = 0; i < s->n_cols; i++)
		cJSON_AddItemToArray(cols, col_json(&s->cols[i]));
	return j;
}

#define MAX_COUNT 9007199254740992.0 /* 2^53: counts are stored as JSON numbers */

static int get_count(const cJSON *o, const char *key, uint64_t *out, struct err *e)
{
	double v = json_num(o, key, NAN); /* NaN when absent or not a number: fails the range test */
	if (!(v >= 0 && v <= MAX_COUNT) || v != floor(v))
		return err_set(e, MLCI_EUSAGE, "'%s' must be a non-negative integer", key);
	*out = (uint64_t)v;
	return 0;
}

static int get_real(const cJSON *o, const char *key, double *out, struct err *e)
{
	double v = json_num(o, key, NAN);
	if (!isfinite(v))
		return err_set(e, MLCI_EUSAGE, "'%s' must be a number", key);
	*out = v;
	return 0;
}

static int load_store(struct stats_store *s, const cJSON *a, const char *what, struct err *e)
{
	const cJSON *pair;
	int64_t prev = -1;
	if (!cJSON_IsArray(a))
		return err_set(e, MLCI_EUSAGE, "'sketch.%s' must be an array of [key, count]", what);
	cJSON_ArrayForEach(pair, a) {
		const cJSON *k = cJSON_GetArrayItem(pair, 0), *n = cJSON_GetArrayItem(pair, 1);
		if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 || !cJSON_IsNumber(k) || !cJSON_IsNumber(n) ||
		    !(k->valuedouble >= 0 && k->valuedouble <= KEY_MAX) || k->valuedouble != floor(k->valuedouble) ||
		    !(n->valuedouble >= 1 && n->valuedouble <= MAX_COUNT) || n->valuedouble != floor(n->valuedouble))
			return err_set(e, MLCI_EUSAGE, "'sketch.%s' entries must be [key 0..%d, count >= 1]", what,
				       (int)KEY_MAX);
		if ((int64_t)k->valuedouble <= prev)
			return err_set(e, MLCI_EUSAGE, "'sketch.%s' keys must increase", what);
		prev = (int64_t)k->valuedouble;
		if ((double)s->n + n->valuedouble > MAX_COUNT)
			return err_set(e, MLCI_EUSAGE, "'sketch.%s' counts are too large", what);
		store_add(s, (int32_t)prev, (uint64_t)n->valuedouble);
	}
	return 0;
}

static int load_col(struct stats_col *c, const cJSON *o, struct err *e)
{
	const char *type = json_str(o, "type", NULL);
	if (get_count(o, "count", &c->count, e) < 0 || get_count(o, "nulls", &c->nulls, e) < 0)
		return -1;
	if (c->nulls > c->count)
		return err_set(e, MLCI_EUSAGE, "'nulls' exceeds 'count'");
	if (!type)
		return err_set(e, MLCI_EUSAGE, "'type' must be a string");
	if (!strcmp(type, "numeric")) {
		const cJSON *sk = cJSON_GetObjectItemCaseSensitive(o, "sketch");
		double sd = 0;
		if (get_count(o, "numeric", &c->n_num, e) < 0 || get_real(o, "mean", &c->mean, e) < 0 ||
		    get_real(o, "min", &c->min, e) < 0 || get_real(o, "max", &c->max, e) < 0)
			return -1;
		if (c->n_num < 1 || c->n_num > c->count - c->nulls || c->min > c->max || c->mean < c->min ||
		    c->mean > c->max)
			return err_set(e, MLCI_EUSAGE, "inconsistent numeric summary (count, min, mean, max)");
		if (c->n_num >= 2 && (get_real(o, "std", &sd, e) < 0 || sd < 0))
			return err_set(e, MLCI_EUSAGE, "'std' must be a non-negative number");
		c->m2 = sd * sd * (double)(c->n_num - 1);
		c->shift = c->mean;
		if (!cJSON_IsObject(sk))
			return err_set(e, MLCI_EUSAGE, "'sketch' must be an object");
		if (get_count(sk, "zero", &c->sk.zero, e) < 0)
			return err_prefix(e, "sketch");
		if (load_store(&c->sk.pos, cJSON_GetObjectItemCaseSensitive(sk, "pos"), "pos", e) < 0 ||
		    load_store(&c->sk.neg, cJSON_GetObjectItemCaseSensitive(sk, "neg"), "neg", e) < 0)
			return -1;
		if ((double)c->sk.pos.n + (double)c->sk.neg.n + (double)c->sk.zero != (double)c->n_num)
			return err_set(e, MLCI_EUSAGE, "sketch counts do not add up to 'numeric'");
		c->cats.tracking = 0;
	} else if (!strcmp(type, "categorical")) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "categories"), *pair;
		uint64_t other, total;
		c->non_numeric = 1;
		if (!cJSON_IsArray(a))
			return err_set(e, MLCI_EUSAGE, "'categories' must be an array of [value, count]");
		if (get_count(o, "other", &other, e) < 0)
			return -1;
		total = other;
		cJSON_ArrayForEach(pair, a) {
			const cJSON *v = cJSON_GetArrayItem(pair, 0), *n = cJSON_GetArrayItem(pair, 1);
			if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 || !cJSON_IsString(v) ||
			    !cJSON_IsNumber(n) || !(n->valuedouble >= 1 && n->valuedouble <= MAX_COUNT) ||
			    n->valuedouble != floor(n->valuedouble))
				return err_set(e, MLCI_EUSAGE, "'categories' entries must be [string, count >= 1]");
			if ((double)total + n->valuedouble > MAX_COUNT)
				return err_set(e, MLCI_EUSAGE, "category counts are too large");
			total += (uint64_t)n->valuedouble;
			cats_add(&c->cats, v->valuestring, strlen(v->valuestring), (uint64_t)n->valuedouble);
		}
		c->cats.other += other;
		if (total != c->count - c->nulls)
			return err_set(e, MLCI_EUSAGE, "category counts do not add up to count - nulls");
	} else if (strcmp(type, "empty") != 0 || c->count != c->nulls) {
		return err_set(e, MLCI_EUSAGE, "'type' must be numeric, categorical or empty (with only nulls)");
	}
	return 0;
}

int stats_from_json(struct stats *s, const cJSON *j, struct err *e)
{
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(j, "columns"), *c;
	const char *fmt = json_str(j, "format", NULL);
	const char *src = json_str(j, "source", NULL);
	size_t i = 0;
	memset(s, 0, sizeof(*s));
	if (!cJSON_IsObject(j) || !fmt || strcmp(fmt, "mlci-stats/1") != 0)
		return err_set(e, MLCI_EUSAGE, "not an mlci statistics file (\"format\": \"mlci-stats/1\" missing)");
	if (!cJSON_IsArray(cols))
		return err_set(e, MLCI_EUSAGE, "'columns' must be an array");
	stats_init(s, NULL, 0);
	free(s->cols);
	s->n_cols = (size_t)cJSON_GetArraySize(cols);
	s->cols = xcalloc(s->n_cols ? s->n_cols : 1, sizeof(*s->cols));
	if (src)
		s->source = xstrdup(src);
	if (get_count(j, "rows", &s->rows, e) < 0)
		goto fail;
	cJSON_ArrayForEach(c, cols) {
		const char *name = json_str(c, "name", NULL);
		struct stats_col *col = &s->cols[i++];
		col->cats.tracking = 1;
		col->name = xstrdup(name ? name : "");
		if (!cJSON_IsObject(c) || !name) {
			err_set(e, MLCI_EUSAGE, "column %zu: 'name' must be a string", i);
			goto fail;
		}
		if (load_col(col, c, e) < 0) {
			err_prefix(e, "column '%s'", name);
			goto fail;
		}
		if (col->count != s->rows) {
			err_set(e, MLCI_EUSAGE, "column '%s': 'count' differs from 'rows'", name);
			goto fail;
		}
	}
	return 0;
fail:
	stats_release(s);
	return -1;
}

int stats_load_buffer(struct stats *s, const char *text, size_t len, struct err *e)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	int r;
	memset(s, 0, sizeof(*s));
	if (!j)
		return err_set(e, MLCI_EUSAGE, "not valid JSON");
	r = stats_from_json(s, j, e);
	cJSON_Delete(j);
	return r;
}

int stats_load(struct stats *s, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;
	int r;
	memset(s, 0, sizeof(*s));
	b.max = (size_t)1 << 30;
	if (buf_read_file(&b, path) < 0) {
		buf_release(&b);
		return err_errno(e, MLCI_EUSAGE, "could not read '%s'", path);
	}
	r = stats_load_buffer(s, b.ptr, b.len, e);
	buf_release(&b);
	return r < 0 ? err_prefix(e, "%s", path) : 0;
}

int stats_save(const struct stats *s, const char *path, struct err *e)
{
	cJSON *j = stats_to_json(s);
	char *text = cJSON_Print(j);
	struct buf b = BUF_INIT;
	int r;
	cJSON_Delete(j);
	if (!text)
		return err_set(e, MLCI_EINFRA, "could not serialise statistics");
	buf_addstr(&b, text);
	buf_addch(&b, '\n');
	free(text);
	r = fs_write_atomic(path, b.ptr, b.len, 0644, e);
	buf_release(&b);
	return r;
}
