/* schema_check.c - schema inference from data and validation of data against a schema, one pass each.
 * Memory is constant per column (no value is kept beyond a domain of SCHEMA_DOMAIN_MAX); no printing. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "checks/csv.h"
#include "checks/csv_spans.h"
#include "checks/decimal.h"
#include "checks/schema.h"
#include "common/alloc.h"
#include "common/banned.h"

/* Values that are null in int, float and bool columns (besides the empty field). */
static int is_na_token(const char *v, size_t n)
{
	if (!n || (v[0] | 0x20) != 'n') /* every token starts with N or n: most values stop here */
		return 0;
	switch (n) {
	case 2:
		return !memcmp(v, "NA", 2);
	case 3:
		return !memcmp(v, "NaN", 3) || !memcmp(v, "nan", 3);
	case 4:
		return !memcmp(v, "null", 4) || !memcmp(v, "None", 4) || !memcmp(v, "NULL", 4);
	default:
		return 0;
	}
}

/* An empty unquoted field (or a missing JSON Lines key) is null in every column. */
static int is_empty_null(const struct csv_field *f)
{
	return !f->ptr || (f->len == 0 && !f->quoted);
}

/* [+-]digits, the whole field ("len" bytes), within long long: what strtoll(v, &end, 10) accepts with
 * end == v + len and no ERANGE, minus the leading white space strtoll would skip (not an int here). */
static int parse_int(const char *v, size_t len, long long *out)
{
	const char *p = v, *e = v + len;
	uint64_t m = 0, limit;
	int neg = 0;
	if (p < e && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (p >= e || (unsigned)(*p - '0') >= 10)
		return 0;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (e - p <= 18) { /* at most 18 digits: no overflow possible */
		for (; p < e && (unsigned)(*p - '0') < 10; p++)
			m = m * 10 + (unsigned)(*p - '0');
	} else {
		for (; p < e && (unsigned)(*p - '0') < 10; p++) {
			unsigned dgt = (unsigned)(*p - '0');
			if (m > (limit - dgt) / 10)
				return 0; /* out of range */
			m = m * 10 + dgt;
		}
	}
	if (p != e)
		return 0;
	*out = neg ? (m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(long long)m) : (long long)m;
	return 1;
}

/* Decimal notation only: [+-]digits[.digits][(e|E)[+-]digits] or [+-].digits...; no hex, inf or nan,
 * no spaces. "v" has "len" bytes and a NUL after them. Up to 19 digits whose value fits in 53 bits and
 * a power of ten within 1e+-22 take Clinger's fast path (the mantissa and the power are exact doubles,
 * so one multiplication or division rounds correctly: the double strtod returns); anything else goes
 * to strtod. tests/unit/test_schema.c compares both on random and edge-case input. */
static const double pow10_exact[23] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
					1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* Negative powers of ten, rounded: m * neg_pow10[k] is within 2 ulps of m / 10^k (m exact). */
static const double neg_pow10[23] = { 1e0,   1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,  1e-7,
				      1e-8,  1e-9,  1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15,
				      1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22 };

/* schema_parse_float, or with "approx" non-NULL a faster result within 2 ulps of it for fractions
 * (a multiplication instead of a division), *approx then telling whether it may differ. */
static int parse_float_x(const char *v, size_t len, double *out, int *approx)
{
	const char *p = v, *e = v + len, *d0;
	size_t n_int, n_frac = 0;
	uint64_t m = 0;
	long exp10 = 0;
	int neg = 0;
	if (p < e && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	d0 = p;
	while (p < e && (unsigned)(*p - '0') < 10)
		m = m * 10 + (unsigned)(*p++ - '0'); /* wraps past 19 digits: then unused */
	n_int = (size_t)(p - d0);
	if (p < e && *p == '.') {
		const char *f0 = ++p;
		while (p < e && (unsigned)(*p - '0') < 10)
			m = m * 10 + (unsigned)(*p++ - '0');
		n_frac = (size_t)(p - f0);
	}
	if (!n_int && !n_frac)
		return 0;
	if (p < e && (*p == 'e' || *p == 'E')) {
		int eneg = 0;
		long ev = 0;
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p >= e || (unsigned)(*p - '0') >= 10)
			return 0;
		for (; p < e && (unsigned)(*p - '0') < 10; p++)
			if (ev < 100000)
				ev = ev * 10 + (*p - '0');
		exp10 = eneg ? -ev : ev;
	}
	if (p != e)
		return 0;
	exp10 -= (long)n_frac;
	if (n_int + n_frac <= 19 && m <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
		double d = (double)m;
		if (exp10 >= 0)
			d *= pow10_exact[exp10];
		else if (approx)
			d *= neg_pow10[-exp10], *approx = 1;
		else
			d /= pow10_exact[-exp10];
		*out = neg ? -d : d;
		return 1;
	}
	{
		char *end;
		*out = strtod(v, &end);
	}
	return isfinite(*out);
}

int schema_parse_float(const char *v, size_t len, double *out)
{
	return parse_float_x(v, len, out, NULL);
}

/* 1 when "d" (within 2 ulps of the exact value) may fall on the other side of bound "b" than the exact
 * value: then the exact value decides. */
static int near_bound(double d, double b)
{
	return fabs(d - b) <= fabs(b) * 1e-15;
}

/* true/false in any case; also 0/1 unless strict. "len" bytes. */
static int parse_bool(const char *v, size_t len, int strict)
{
	switch (len) {
	case 1:
		return !strict && (v[0] == '0' || v[0] == '1');
	case 4:
		return (v[0] | 0x20) == 't' && (v[1] | 0x20) == 'r' && (v[2] | 0x20) == 'u' && (v[3] | 0x20) == 'e';
	case 5:
		return (v[0] | 0x20) == 'f' && (v[1] | 0x20) == 'a' && (v[2] | 0x20) == 'l' && (v[3] | 0x20) == 's' &&
		       (v[4] | 0x20) == 'e';
	default:
		return 0;
	}
}

/* ---------- inference ---------- */

struct infer_col {
	uint64_t nulls, na, values;
	int can_int, can_float, can_bool;
	double min, max;
	int have_num;
	char **distinct; /* up to SCHEMA_DOMAIN_MAX + 1, then freed and "overflow" set */
	size_t n_distinct;
	int overflow;
};

static void distinct_add(struct infer_col *c, const char *v, size_t len)
{
	if (c->overflow)
		return;
	for (size_t i = 0; i < c->n_distinct; i++)
		if (!strcmp(c->distinct[i], v))
			return;
	if (c->n_distinct == SCHEMA_DOMAIN_MAX || len > SCHEMA_DOMAIN_VALUE_MAX) {
		for (size_t i = 0; i < c->n_distinct; i++)
			free(c->distinct[i]);
		c->n_distinct = 0;
		c->overflow = 1;
		return;
	}
	c->distinct[c->n_distinct++] = xstrndup(v, len);
}

static void infer_value(struct infer_col *c, const struct csv_field *f)
{
	long long iv;
	double d;
	if (is_empty_null(f)) {
		c->nulls++;
		return;
	}
	distinct_add(c, f->ptr, f->len);
	if (!f->quoted && is_na_token(f->ptr, f->len)) {
		c->na++; /* null if the column turns out numeric or bool, a value if string */
		return;
	}
	c->values++;
	if (c->can_bool && !parse_bool(f->ptr, f->len, 1))
		c->can_bool = 0;
	if (c->can_int && !parse_int(f->ptr, f->len, &iv))
		c->can_int = 0;
	if (c->can_float) {
		if (!schema_parse_float(f->ptr, f->len, &d)) {
			c->can_float = 0;
		} else {
			if (!c->have_num || d < c->min)
				c->min = d;
			if (!c->have_num || d > c->max)
				c->max = d;
			c->have_num = 1;
		}
	}
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void infer_finish(struct infer_col *ic, struct schema_column *col)
{
	int numeric;
	col->required = 1;
	if (!ic->values) /* only nulls (or NA tokens): nothing to type it by */
		col->type = SCHEMA_STRING;
	else if (ic->can_bool)
		col->type = SCHEMA_BOOL;
	else if (ic->can_int)
		col->type = SCHEMA_INT;
	else if (ic->can_float)
		col->type = SCHEMA_FLOAT;
	else
		col->type = SCHEMA_STRING;
	numeric = col->type == SCHEMA_INT || col->type == SCHEMA_FLOAT;
	col->nullable = ic->nulls > 0 || (col->type != SCHEMA_STRING && ic->na > 0) || (!ic->values && ic->na);
	if (numeric && ic->have_num) {
		col->has_min = col->has_max = 1;
		col->min = ic->min;
		col->max = ic->max;
	}
	if (col->type != SCHEMA_FLOAT && !ic->overflow && ic->values) {
		col->domain = xcalloc(ic->n_distinct ? ic->n_distinct : 1, sizeof(char *));
		for (size_t i = 0; i < ic->n_distinct; i++) {
			if (col->type != SCHEMA_STRING && is_na_token(ic->distinct[i], strlen(ic->distinct[i])))
				continue;
			col->domain[col->n_domain++] = xstrdup(ic->distinct[i]);
		}
		qsort(col->domain, col->n_domain, sizeof(char *), cmp_strp);
	}
}

int schema_infer_file(struct schema *s, const char *path, uint64_t *rows, struct err *e)
{
	struct csv_reader r;
	struct infer_col *ic;
	int k, ret = -1;
	schema_init(s);
	if (csv_open(&r, path, e))
		return -1;
	ic = xcalloc(r.n_names ? r.n_names : 1, sizeof(*ic));
	for (size_t i = 0; i < r.n_names; i++) {
		ic[i].can_int = ic[i].can_float = ic[i].can_bool = 1;
		ic[i].distinct = xcalloc(SCHEMA_DOMAIN_MAX, sizeof(char *));
	}
	while ((k = csv_next(&r, e)) > 0) {
		if (r.n_fields != r.n_names)
			continue; /* a bad row says nothing reliable about any column */
		for (size_t i = 0; i < r.n_names; i++)
			infer_value(&ic[i], &r.fields[i]);
	}
	if (k == 0) {
		s->cols = xcalloc(r.n_names ? r.n_names : 1, sizeof(*s->cols));
		for (size_t i = 0; i < r.n_names; i++) {
			int dup = 0;
			for (size_t j = 0; j < s->n_cols; j++)
				dup |= !strcmp(s->cols[j].name, r.names[i]);
			if (dup)
				continue; /* a repeated header name: the first one is described */
			s->cols[s->n_cols].name = xstrdup(r.names[i]);
			infer_finish(&ic[i], &s->cols[s->n_cols]);
			s->n_cols++;
		}
		if (rows)
			*rows = r.records;
		ret = 0;
	}
	for (size_t i = 0; i < r.n_names; i++) {
		for (size_t j = 0; j < ic[i].n_distinct; j++)
			free(ic[i].distinct[j]);
		free(ic[i].distinct);
	}
	free(ic);
	csv_close(&r);
	if (ret)
		schema_release(s);
	return ret;
}

/* ---------- validation ---------- */

const char *schema_anomaly_name(enum schema_anomaly_kind k)
{
	static const char *const names[] = { "missing_column",   "unexpected_column",
					     "wrong_type",       "out_of_range",
					     "unknown_category", "null",
					     "empty_dataset",    "bad_row" };
	return k < ANOMALY_KINDS ? names[k] : "?";
}

/* Per-column counters, turned into report items at the end. */
struct vcol {
	uint64_t count[ANOMALY_KINDS];
	uint64_t lines[ANOMALY_KINDS][SCHEMA_FIRST_LINES];
	char *example[ANOMALY_KINDS];
};

static void note(struct vcol *v, enum schema_anomaly_kind k, uint64_t line, const char *value, size_t len)
{
	if (v->count[k] < SCHEMA_FIRST_LINES)
		v->lines[k][v->count[k]] = line;
	if (!v->count[k] && value)
		v->example[k] = xstrndup(value, len > 64 ? 64 : len);
	v->count[k]++;
}

static struct schema_anomaly *add_item(struct schema_report *rep, const char *column, enum schema_anomaly_kind k,
				       int warn, uint64_t count)
{
	struct schema_anomaly *a;
	ALLOC_GROW(rep->items, rep->n + 1, rep->alloc);
	a = &rep->items[rep->n++];
	memset(a, 0, sizeof(*a));
	a->column = xstrdup(column);
	a->kind = k;
	a->warn = warn;
	a->count = count;
	if (warn)
		rep->warnings++;
	else
		rep->errors++;
	return a;
}

/* A schema column prepared for validation: its int domain parsed once (sorted), not per value. */
struct vprep {
	const struct schema_column *c;
	long long *idom; /* owned; the int values of c->domain, sorted */
	size_t n_idom;
	/* other domains: open addressing over c->domain (index + 1, 0 = empty), power-of-two size */
	uint32_t *slots; /* owned */
	size_t mask;
	size_t *lens; /* owned; strlen of each domain value */
};

static uint32_t hash_value(const char *p, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static int domain_has(const struct vprep *vp, const char *p, size_t len)
{
	for (size_t j = hash_value(p, len) & vp->mask; vp->slots[j]; j = (j + 1) & vp->mask) {
		size_t k = vp->slots[j] - 1;
		const char *d = vp->c->domain[k];
		size_t i = 0;
		if (vp->lens[k] != len)
			continue;
		while (i < len && d[i] == p[i]) /* short values: no call to memcmp */
			i++;
		if (i == len)
			return 1;
	}
	return 0;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static void vprep_init(struct vprep *vp, const struct schema_column *c)
{
	memset(vp, 0, sizeof(*vp));
	vp->c = c;
	if (!c->domain)
		return;
	if (c->type != SCHEMA_INT) {
		size_t n = 4;
		while (n < 2 * c->n_domain)
			n *= 2;
		vp->slots = xcalloc(n, sizeof(*vp->slots));
		vp->mask = n - 1;
		vp->lens = xcalloc(c->n_domain ? c->n_domain : 1, sizeof(*vp->lens));
		for (size_t i = 0; i < c->n_domain; i++) {
			size_t j;
			vp->lens[i] = strlen(c->domain[i]);
			for (j = hash_value(c->domain[i], vp->lens[i]) & vp->mask; vp->slots[j]; j = (j + 1) & vp->mask)
				;
			vp->slots[j] = (uint32_t)(i + 1);
		}
		return;
	}
	vp->idom = xcalloc(c->n_domain ? c->n_domain : 1, sizeof(*vp->idom));
	for (size_t i = 0; i < c->n_domain; i++)
		if (parse_int(c->domain[i], strlen(c->domain[i]), &vp->idom[vp->n_idom]))
			vp->n_idom++;
	qsort(vp->idom, vp->n_idom, sizeof(*vp->idom), cmp_ll);
}

static void check_value(const struct vprep *vp, struct vcol *v, const struct csv_field *f, uint64_t line)
{
	const struct schema_column *c = vp->c;
	long long iv = 0;
	int approx;
	double d;
	int numeric = c->type == SCHEMA_INT || c->type == SCHEMA_FLOAT;
	if (is_empty_null(f) || (c->type != SCHEMA_STRING && !f->quoted && is_na_token(f->ptr, f->len))) {
		if (!c->nullable)
			note(v, ANOMALY_NULL, line, f->ptr ? f->ptr : "", f->len);
		return;
	}
	switch (c->type) {
	case SCHEMA_INT:
		if (!parse_int(f->ptr, f->len, &iv)) {
			note(v, ANOMALY_WRONG_TYPE, line, f->ptr, f->len);
			return;
		}
		d = (double)iv;
		break;
	case SCHEMA_FLOAT:
		approx = 0;
		if (!parse_float_x(f->ptr, f->len, &d, &approx)) {
			note(v, ANOMALY_WRONG_TYPE, line, f->ptr, f->len);
			return;
		}
		/* the range check needs the exact value only next to a bound */
		if (approx && ((c->has_min && near_bound(d, c->min)) || (c->has_max && near_bound(d, c->max))))
			schema_parse_float(f->ptr, f->len, &d);
		break;
	case SCHEMA_BOOL:
		if (!parse_bool(f->ptr, f->len, 0)) {
			note(v, ANOMALY_WRONG_TYPE, line, f->ptr, f->len);
			return;
		}
		d = 0;
		break;
	default:
		d = 0;
		break;
	}
	if (numeric && ((c->has_min && d < c->min) || (c->has_max && d > c->max)))
		note(v, ANOMALY_OUT_OF_RANGE, line, f->ptr, f->len);
	if (c->domain) {
		int found;
		if (c->type == SCHEMA_INT) {
			found = bsearch(&iv, vp->idom, vp->n_idom, sizeof(*vp->idom), cmp_ll) != NULL;
		} else {
			found = domain_has(vp, f->ptr, f->len);
		}
		if (!found)
			note(v, ANOMALY_UNKNOWN_CATEGORY, line, f->ptr, f->len);
	}
}

/* Per batch column, the cheapest exact check of a plain field (spans only). Any value the fast check
 * cannot settle (null, NA token, an unusual number, a value next to or beyond a bound, an unknown
 * category...) goes to check_value, which decides as the reader's path does. */
enum vkind {
	VK_GENERIC, /* check_value */
	VK_FLOAT,   /* float, no domain */
	VK_INT,     /* int, no domain */
	VK_STRING,  /* string: only a non-empty field matters (or its domain) */
	VK_BOOL     /* bool (its domain, if any) */
};

struct vfast {
	enum vkind kind;
	size_t h;                 /* header position */
	const struct vprep *prep; /* the schema column */
	long sc;                  /* its index */
	double lo, hi;            /* float: strictly between, surely within the bounds (-inf/inf: none) */
	/* a string domain as (length, first 8 bytes) slots; len 0 = empty slot, else length + 1 */
	uint64_t *w;
	uint32_t *slen, *sidx;
	size_t smask;
};

/* The first min(len, 8) bytes of p as a word, the rest zero; p + 8 <= limit allows one 8-byte load. */
static inline uint64_t word8(const char *p, size_t len, const char *limit)
{
	uint64_t w = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (p + 8 <= limit) {
		memcpy(&w, p, 8);
		return len >= 8 ? w : w & ((UINT64_C(1) << (8 * len)) - 1);
	}
#else
	(void)limit;
#endif
	memcpy(&w, p, len < 8 ? len : 8);
	return w;
}

static inline size_t word_slot(uint64_t w, size_t len, size_t mask)
{
	return (size_t)(((w ^ len) * UINT64_C(0x9E3779B97F4A7C15)) >> 40) & mask;
}

static void vfast_domain(struct vfast *vf, const struct schema_column *c)
{
	size_t n = 4;
	while (n < 4 * c->n_domain)
		n *= 2;
	vf->smask = n - 1;
	vf->w = xcalloc(n, sizeof(*vf->w));
	vf->slen = xcalloc(n, sizeof(*vf->slen));
	vf->sidx = xcalloc(n, sizeof(*vf->sidx));
	for (size_t i = 0; i < c->n_domain; i++) {
		size_t len = strlen(c->domain[i]), j;
		uint64_t w = word8(c->domain[i], len, c->domain[i]); /* no 8-byte load: may be shorter */
		if (len >= UINT32_MAX)
			continue; /* never matched here: check_value decides */
		for (j = word_slot(w, len, vf->smask); vf->slen[j]; j = (j + 1) & vf->smask)
			;
		vf->w[j] = w;
		vf->slen[j] = (uint32_t)(len + 1);
		vf->sidx[j] = (uint32_t)i;
	}
}

static void vfast_init(struct vfast *vf, const struct vprep *vp, long sc, size_t h)
{
	const struct schema_column *c = vp->c;
	memset(vf, 0, sizeof(*vf));
	vf->prep = vp;
	vf->sc = sc;
	vf->h = h;
	vf->lo = -INFINITY;
	vf->hi = INFINITY;
	if (c->has_min) /* strictly above min + 2e-15 |min|, the exact value is at least min */
		vf->lo = c->min + fabs(c->min) * 2e-15;
	if (c->has_max)
		vf->hi = c->max - fabs(c->max) * 2e-15;
	switch (c->type) {
	case SCHEMA_FLOAT:
		vf->kind = c->domain ? VK_GENERIC : VK_FLOAT;
		break;
	case SCHEMA_INT:
		vf->kind = c->domain ? VK_GENERIC : VK_INT;
		break;
	case SCHEMA_STRING:
		vf->kind = VK_STRING;
		break;
	case SCHEMA_BOOL:
		vf->kind = VK_BOOL;
		break;
	}
	if (c->domain && (vf->kind == VK_STRING || vf->kind == VK_BOOL))
		vfast_domain(vf, c);
}

static void vfast_release(struct vfast *vf)
{
	free(vf->w);
	free(vf->slen);
	free(vf->sidx);
}

/* 1 when the plain field p[0, len) surely has no anomaly; 0: check_value decides. */
static inline int vfast_ok(const struct vfast *vf, const char *p, size_t len, const char *limit)
{
	switch (vf->kind) {
	case VK_FLOAT: {
#ifdef DECIMAL_SWAR
		if (len && len <= 16 && p + DECIMAL_READABLE <= limit) {
			uint64_t m;
			size_t nf;
			double d;
			if (decimal_swar(p, len, &m, &nf)) {
				d = (double)m * neg_pow10[nf];
				if (*p == '-')
					d = -d;
				return d > vf->lo && d < vf->hi;
			}
		}
#endif
		{
			/* [+-]digits[.digits], 1 to 19 digits: the approximate value of parse_float_x */
			const char *q = p, *e = p + len, *d0;
			uint64_t m = 0;
			size_t nd, nf = 0;
			double d;
			if (q < e && (*q == '-' || *q == '+'))
				q++;
			d0 = q;
			for (; q < e && (unsigned)(*q - '0') < 10; q++)
				m = m * 10 + (unsigned)(*q - '0');
			nd = (size_t)(q - d0);
			if (q < e && *q == '.') {
				const char *f0 = ++q;
				for (; q < e && (unsigned)(*q - '0') < 10; q++)
					m = m * 10 + (unsigned)(*q - '0');
				nf = (size_t)(q - f0);
				nd += nf;
			}
			if (q != e || !nd || nd > 19 || m > (UINT64_C(1) << 53))
				return 0;
			d = (double)m * neg_pow10[nf];
			if (*p == '-')
				d = -d;
			return d > vf->lo && d < vf->hi;
		}
	}
	case VK_INT: {
		const char *q = p, *e = p + len;
		long long v = 0;
		int neg = 0;
		if (len > 18 || !len)
			return 0; /* also: what may overflow */
		if (*q == '-' || *q == '+')
			neg = *q++ == '-';
		if (q == e)
			return 0;
		for (; q < e && (unsigned)(*q - '0') < 10; q++)
			v = v * 10 + (*q - '0');
		if (q != e)
			return 0;
		if (neg)
			v = -v;
		{
			const struct schema_column *c = vf->prep->c;
			double d = (double)v;
			return !((c->has_min && d < c->min) || (c->has_max && d > c->max));
		}
	}
	case VK_BOOL:
		if (!parse_bool(p, len, 0))
			return 0;
		/* fall through */
	case VK_STRING:
		if (!len)
			return 0;
		if (vf->slen) {
			uint64_t w = word8(p, len, limit);
			for (size_t j = word_slot(w, len, vf->smask); vf->slen[j]; j = (j + 1) & vf->smask) {
				if (vf->slen[j] != len + 1 || vf->w[j] != w)
					continue;
				if (len <= 8 || !memcmp(p + 8, vf->prep->c->domain[vf->sidx[j]] + 8, len - 8))
					return 1;
			}
			return 0;
		}
		return 1;
	default:
		return 0;
	}
}

/* The validation of one file: the columns the schema names, and the counters of each. */
struct vrun {
	const struct vprep *prep; /* per schema column */
	struct vcol *vc;          /* per schema column */
	const long *scol;         /* batch column -> schema column */
	const size_t *fmap;       /* batch column -> header position */
	const struct vfast *fast; /* per batch column, for the spans */
	size_t n_batch, n_names;
	struct vcol bad; /* bad rows: count[0], lines[0], example[0] */
};

/* On the reading thread: a record with the wrong number of fields is a bad row, not validated. */
static void bad_row(struct vcol *bad, uint64_t line, size_t n_fields, size_t n_names);

static int vrun_keep(void *arg, const struct csv_reader *r)
{
	struct vrun *v = arg;
	if (r->n_fields == r->n_names)
		return 1;
	bad_row(&v->bad, r->line, r->n_fields, r->n_names);
	return 0;
}

/* Columns [from, to) of a batch, on any thread (each schema column is fed by one batch column). */
static void vrun_columns(void *arg, size_t from, size_t to, const struct csv_batch *b)
{
	struct vrun *v = arg;
	for (size_t i = 0; i < b->n_rows; i++) {
		const struct csv_field *f = b->f + i * b->n_cols;
		for (size_t j = from; j < to; j++) {
			long sc = v->scol[j];
			check_value(&v->prep[sc], &v->vc[sc], &f[j], b->lines[i]);
		}
	}
}

/* ---------- parallel spans (checks/csv_spans.h) ---------- */

static void bad_row(struct vcol *bad, uint64_t line, size_t n_fields, size_t n_names)
{
	if (bad->count[0] < SCHEMA_FIRST_LINES)
		bad->lines[0][bad->count[0]] = line;
	if (!bad->count[0]) {
		struct buf b = BUF_INIT;
		buf_addf(&b, "%zu fields, header has %zu", n_fields, n_names);
		bad->example[0] = buf_detach(&b, NULL);
	}
	bad->count[0]++;
}

/* Append the counters of "src" (lines relative, shifted by "base") after those of "dst"; src's
 * examples are moved or freed. */
static void vcol_merge(struct vcol *dst, struct vcol *src, uint64_t base)
{
	for (int k = 0; k < ANOMALY_KINDS; k++) {
		uint64_t n = src->count[k];
		if (!n)
			continue;
		for (uint64_t i = 0; i < n && i < SCHEMA_FIRST_LINES && dst->count[k] + i < SCHEMA_FIRST_LINES; i++)
			dst->lines[k][dst->count[k] + i] = src->lines[k][i] + base;
		if (!dst->count[k]) {
			dst->example[k] = src->example[k];
			src->example[k] = NULL;
		}
		dst->count[k] += n;
		free(src->example[k]);
		src->example[k] = NULL;
	}
}

/* The counters of one span, lines relative to the span's first line (0). */
struct vspan {
	const struct vrun *v;
	struct vcol *vc; /* per schema column */
	struct vcol bad;
	size_t n_schema;
};

/* What the spans fold into. */
struct vspans {
	struct vrun *v;
	size_t n_schema;
};

static void *vspan_open(void *arg, size_t index)
{
	struct vspans *vs = arg;
	struct vspan *sp = xcalloc(1, sizeof(*sp));
	(void)index;
	sp->v = vs->v;
	sp->n_schema = vs->n_schema;
	sp->vc = xcalloc(vs->n_schema ? vs->n_schema : 1, sizeof(*sp->vc));
	return sp;
}

/* A plain record: its values that the exact fast check does not pass go to check_value. */
static void vspan_record(void *state, const char *const *fp, const size_t *fl, size_t nf, uint64_t line,
			 const char *limit)
{
	struct vspan *sp = state;
	const struct vrun *v = sp->v;
	if (nf != v->n_names) {
		bad_row(&sp->bad, line, nf, v->n_names);
		return;
	}
	for (size_t j = 0; j < v->n_batch; j++) {
		const struct vfast *vf = &v->fast[j];
		size_t h = vf->h;
		if (!vfast_ok(vf, fp[h], fl[h], limit)) {
			struct csv_field f;
			f.ptr = fp[h];
			f.len = fl[h];
			f.quoted = 0;
			check_value(vf->prep, &sp->vc[vf->sc], &f, line);
		}
	}
}

/* Counts add, first lines and examples are taken in order, lines shifted by those of the spans before. */
static void vspan_merge(void *arg, void *state, uint64_t line_base)
{
	struct vspans *vs = arg;
	struct vspan *sp = state;
	for (size_t j = 0; j < vs->n_schema; j++)
		vcol_merge(&vs->v->vc[j], &sp->vc[j], line_base);
	vcol_merge(&vs->v->bad, &sp->bad, line_base);
}

static void vspan_close(void *state)
{
	struct vspan *sp = state;
	for (size_t j = 0; j < sp->n_schema; j++)
		for (int kind = 0; kind < ANOMALY_KINDS; kind++)
			free(sp->vc[j].example[kind]);
	free(sp->bad.example[0]);
	free(sp->vc);
	free(sp);
}

static const struct csv_span_ops vspan_ops = { vspan_open, vspan_record, vspan_merge, vspan_close };

static int validate(const struct schema *s, FILE *f, const char *name, const char *data, size_t len, int threads,
		    int mapped, struct schema_report *rep, struct err *e);

int schema_validate_file(const struct schema *s, const char *path, struct schema_report *rep, struct err *e)
{
	FILE *f = fopen(path, "rb");
	const char *map;
	size_t len;
	int k;
	if (!f) {
		memset(rep, 0, sizeof(*rep));
		rep->data = xstrdup(path);
		return err_errno(e, MLCI_EINFRA, "could not open '%s' for reading", path);
	}
	map = csv_map_file(f, &len);
	k = validate(s, f, path, map, len, csv_default_threads(), 1, rep, e);
	if (map)
		munmap((void *)map, len);
	fclose(f);
	return k;
}

int schema_validate_stream(const struct schema *s, FILE *f, const char *name, const char *data, size_t len, int threads,
			   struct schema_report *rep, struct err *e)
{
	return validate(s, f, name, data, len, threads, 0, rep, e);
}

/* schema_validate_stream; "mapped": data is a private file mapping whose read pages may be dropped. */
static int validate(const struct schema *s, FILE *f, const char *name, const char *data, size_t len, int threads,
		    int mapped, struct schema_report *rep, struct err *e)
{
	struct csv_reader r;
	struct vrun v;
	struct vcol *vc;
	struct vprep *prep;
	long *map;  /* header position -> schema column, -1 = unexpected */
	char *seen; /* schema column present in the header */
	size_t *fmap, n_batch = 0;
	long *scol;
	struct vfast *fast;
	int k;
	memset(rep, 0, sizeof(*rep));
	memset(&v, 0, sizeof(v));
	rep->data = xstrdup(name);
	if (csv_open_stream(&r, f, name, csv_path_format(name), e))
		return -1;
	rep->columns = r.n_names;
	map = xcalloc(r.n_names ? r.n_names : 1, sizeof(*map));
	fmap = xcalloc(r.n_names ? r.n_names : 1, sizeof(*fmap));
	scol = xcalloc(r.n_names ? r.n_names : 1, sizeof(*scol));
	seen = xcalloc(s->n_cols ? s->n_cols : 1, 1);
	vc = xcalloc(s->n_cols ? s->n_cols : 1, sizeof(*vc));
	prep = xcalloc(s->n_cols ? s->n_cols : 1, sizeof(*prep));
	for (size_t j = 0; j < s->n_cols; j++)
		vprep_init(&prep[j], &s->cols[j]);
	for (size_t i = 0; i < r.n_names; i++) {
		map[i] = -1;
		for (size_t j = 0; j < s->n_cols; j++)
			if (!seen[j] && !strcmp(s->cols[j].name, r.names[i])) {
				map[i] = (long)j;
				seen[j] = 1;
				fmap[n_batch] = i;
				scol[n_batch++] = (long)j;
				break;
			}
	}
	v.prep = prep;
	v.vc = vc;
	v.scol = scol;
	v.n_names = r.n_names;
	v.fmap = fmap;
	v.n_batch = n_batch;
	fast = xcalloc(n_batch ? n_batch : 1, sizeof(*fast));
	for (size_t j = 0; j < n_batch; j++)
		vfast_init(&fast[j], &prep[scol[j]], scol[j], fmap[j]);
	v.fast = fast;
	k = 0;
	if (data && r.format == CSV_FORMAT_CSV) {
		struct vspans vs = { &v, s->n_cols };
		k = csv_spans_run(&r, data, len, threads, r.n_names, mapped, &vspan_ops, &vs, e);
	}
	for (size_t j = 0; j < n_batch; j++)
		vfast_release(&fast[j]);
	free(fast);
	if (k == 0)
		k = csv_columns(&r, fmap, n_batch, vrun_keep, vrun_columns, &v, threads, e);
	if (k == 0) {
		struct vcol *bad = &v.bad;
		rep->rows = r.records;
		if (!rep->rows) {
			struct schema_anomaly *a = add_item(rep, "", ANOMALY_EMPTY_DATASET, s->empty_warn, 1);
			a->example = xstrdup("no data rows");
		}
		if (bad->count[0]) {
			struct schema_anomaly *a = add_item(rep, "", ANOMALY_BAD_ROW, 0, bad->count[0]);
			a->n_lines = bad->count[0] < SCHEMA_FIRST_LINES ? bad->count[0] : SCHEMA_FIRST_LINES;
			memcpy(a->lines, bad->lines[0], sizeof(a->lines));
			a->example = bad->example[0];
			bad->example[0] = NULL;
		}
		for (size_t j = 0; j < s->n_cols; j++)
			if (!seen[j] && s->cols[j].required) {
				struct schema_anomaly *a =
					add_item(rep, s->cols[j].name, ANOMALY_MISSING_COLUMN, s->cols[j].warn, 1);
				a->lines[0] = 1;
				a->n_lines = 1;
			}
		for (size_t i = 0; i < r.n_names; i++)
			if (map[i] < 0 && s->unexpected != SCHEMA_EXTRA_IGNORE) {
				struct schema_anomaly *a = add_item(rep, r.names[i], ANOMALY_UNEXPECTED_COLUMN,
								    s->unexpected == SCHEMA_EXTRA_WARN, 1);
				a->lines[0] = 1;
				a->n_lines = 1;
			}
		for (size_t j = 0; j < s->n_cols; j++)
			for (int kind = 0; kind < ANOMALY_KINDS; kind++) {
				uint64_t n = vc[j].count[kind];
				struct schema_anomaly *a;
				if (!n)
					continue;
				a = add_item(rep, s->cols[j].name, (enum schema_anomaly_kind)kind, s->cols[j].warn, n);
				a->n_lines = n < SCHEMA_FIRST_LINES ? n : SCHEMA_FIRST_LINES;
				memcpy(a->lines, vc[j].lines[kind], sizeof(a->lines));
				a->example = vc[j].example[kind];
				vc[j].example[kind] = NULL;
			}
	}
	for (size_t j = 0; j < s->n_cols; j++) {
		for (int kind = 0; kind < ANOMALY_KINDS; kind++)
			free(vc[j].example[kind]);
		free(prep[j].idom);
		free(prep[j].slots);
		free(prep[j].lens);
	}
	free(v.bad.example[0]);
	free(prep);
	free(vc);
	free(seen);
	free(scol);
	free(fmap);
	free(map);
	csv_close(&r);
	return k == 0 ? 0 : -1;
}

double schema_anomaly_share(const struct schema_report *rep, const struct schema_anomaly *a)
{
	if (a->kind == ANOMALY_MISSING_COLUMN || a->kind == ANOMALY_UNEXPECTED_COLUMN ||
	    a->kind == ANOMALY_EMPTY_DATASET)
		return 1.0; /* the whole dataset is affected */
	return rep->rows ? (double)a->count / (double)rep->rows : 0.0;
}

void schema_report_release(struct schema_report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		free(rep->items[i].column);
		free(rep->items[i].example);
	}
	free(rep->items);
	free(rep->data);
	memset(rep, 0, sizeof(*rep));
}

cJSON *schema_report_json(const struct schema_report *rep)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	cJSON_AddStringToObject(o, "data", rep->data ? rep->data : "");
	cJSON_AddNumberToObject(o, "rows", (double)rep->rows);
	cJSON_AddNumberToObject(o, "columns", (double)rep->columns);
	cJSON_AddBoolToObject(o, "valid", rep->errors == 0);
	cJSON_AddNumberToObject(o, "errors", (double)rep->errors);
	cJSON_AddNumberToObject(o, "warnings", (double)rep->warnings);
	arr = cJSON_AddArrayToObject(o, "anomalies");
	for (size_t i = 0; i < rep->n; i++) {
		const struct schema_anomaly *a = &rep->items[i];
		cJSON *j = cJSON_CreateObject(), *lines;
		cJSON_AddStringToObject(j, "column", a->column);
		cJSON_AddStringToObject(j, "kind", schema_anomaly_name(a->kind));
		cJSON_AddStringToObject(j, "severity", a->warn ? "warning" : "error");
		cJSON_AddNumberToObject(j, "count", (double)a->count);
		cJSON_AddNumberToObject(j, "share", schema_anomaly_share(rep, a));
		lines = cJSON_AddArrayToObject(j, "lines");
		for (size_t l = 0; l < a->n_lines; l++)
			cJSON_AddItemToArray(lines, cJSON_CreateNumber((double)a->lines[l]));
		if (a->example)
			cJSON_AddStringToObject(j, "example", a->example);
		else
			cJSON_AddNullToObject(j, "example");
		cJSON_AddItemToArray(arr, j);
	}
	return o;
}
