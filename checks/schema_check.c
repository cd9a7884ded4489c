/* schema_check.c - schema inference from data and validation of data against a schema, one pass each.
 * Memory is constant per column (no value is kept beyond a domain of SCHEMA_DOMAIN_MAX); no printing. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checks/csv.h"
#include "checks/schema.h"
#include "common/alloc.h"
#include "common/banned.h"

/* Values that are null in int, float and bool columns (besides the empty field). */
static int is_na_token(const char *v, size_t n)
{
	if ((v[0] | 0x20) != 'n') /* every token starts with N or n: most values stop here */
		return 0;
	switch (n) {
	case 2:
		return !strcmp(v, "NA");
	case 3:
		return !strcmp(v, "NaN") || !strcmp(v, "nan");
	case 4:
		return !strcmp(v, "null") || !strcmp(v, "None") || !strcmp(v, "NULL");
	default:
		return 0;
	}
}

/* An empty unquoted field (or a missing JSON Lines key) is null in every column. */
static int is_empty_null(const struct csv_field *f)
{
	return !f->ptr || (f->len == 0 && !f->quoted);
}

/* [+-]digits, the whole field, within long long: what strtoll(v, &end, 10) accepts with *end == '\0' and
 * no ERANGE, minus the leading white space strtoll would skip (not an int here). */
static int parse_int(const char *v, long long *out)
{
	const char *p = v;
	uint64_t m = 0, limit;
	int neg = 0;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (*p < '0' || *p > '9')
		return 0;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned dgt = (unsigned)(*p - '0');
		if (m > (limit - dgt) / 10)
			return 0; /* out of range */
		m = m * 10 + dgt;
	}
	if (*p)
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

static int parse_float(const char *v, double *out)
{
	return schema_parse_float(v, strlen(v), out);
}

/* true/false in any case; also 0/1 unless strict. */
static int parse_bool(const char *v, int strict)
{
	switch (v[0]) {
	case 't':
	case 'T':
		return (v[1] | 0x20) == 'r' && (v[2] | 0x20) == 'u' && (v[3] | 0x20) == 'e' && !v[4];
	case 'f':
	case 'F':
		return (v[1] | 0x20) == 'a' && (v[2] | 0x20) == 'l' && (v[3] | 0x20) == 's' && (v[4] | 0x20) == 'e' &&
		       !v[5];
	case '0':
	case '1':
		return !strict && !v[1];
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
	if (c->can_bool && !parse_bool(f->ptr, 1))
		c->can_bool = 0;
	if (c->can_int && !parse_int(f->ptr, &iv))
		c->can_int = 0;
	if (c->can_float) {
		if (!parse_float(f->ptr, &d)) {
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
		if (parse_int(c->domain[i], &vp->idom[vp->n_idom]))
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
		if (!parse_int(f->ptr, &iv)) {
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
		if (!parse_bool(f->ptr, 0)) {
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

/* The validation of one file: the columns the schema names, and the counters of each. */
struct vrun {
	const struct vprep *prep; /* per schema column */
	struct vcol *vc;          /* per schema column */
	const long *scol;         /* batch column -> schema column */
	size_t n_names;
	struct vcol bad; /* bad rows: count[0], lines[0], example[0] */
};

/* On the reading thread: a record with the wrong number of fields is a bad row, not validated. */
static int vrun_keep(void *arg, const struct csv_reader *r)
{
	struct vrun *v = arg;
	if (r->n_fields == r->n_names)
		return 1;
	if (v->bad.count[0] < SCHEMA_FIRST_LINES)
		v->bad.lines[0][v->bad.count[0]] = r->line;
	if (!v->bad.count[0]) {
		struct buf b = BUF_INIT;
		buf_addf(&b, "%zu fields, header has %zu", r->n_fields, r->n_names);
		v->bad.example[0] = buf_detach(&b, NULL);
	}
	v->bad.count[0]++;
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

int schema_validate_file(const struct schema *s, const char *path, struct schema_report *rep, struct err *e)
{
	struct csv_reader r;
	struct vrun v;
	struct vcol *vc;
	struct vprep *prep;
	long *map;  /* header position -> schema column, -1 = unexpected */
	char *seen; /* schema column present in the header */
	size_t *fmap, n_batch = 0;
	long *scol;
	int k;
	memset(rep, 0, sizeof(*rep));
	memset(&v, 0, sizeof(v));
	rep->data = xstrdup(path);
	if (csv_open(&r, path, e))
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
	k = csv_columns(&r, fmap, n_batch, vrun_keep, vrun_columns, &v, csv_default_threads(), e);
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
