/* drift.c - per-feature drift scores between a reference's and a current dataset's statistics, the
 * automatic choice of method, thresholds and the dataset drift share. No I/O, no printing. */
#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checks/drift.h"
#include "common/alloc.h"
#include "common/banned.h"

/* ---------------------------------------------------------------- special functions */

#define GAM_ITMAX 1000
#define GAM_EPS   1e-15
#define GAM_FPMIN (DBL_MIN / GAM_EPS)

/* Regularised lower incomplete gamma P(a, x) by its series; converges quickly for x < a + 1. */
static double gser(double a, double x)
{
	double ap = a, del = 1.0 / a, sum = del;
	for (int n = 1; n <= GAM_ITMAX; n++) {
		ap += 1;
		del *= x / ap;
		sum += del;
		if (fabs(del) < fabs(sum) * GAM_EPS)
			break;
	}
	return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Regularised upper incomplete gamma Q(a, x) by Lentz's continued fraction; for x >= a + 1. */
static double gcf(double a, double x)
{
	double b = x + 1 - a, c = 1 / GAM_FPMIN, d = 1 / b, h = d;
	for (int i = 1; i <= GAM_ITMAX; i++) {
		double an = -i * (i - a), del;
		b += 2;
		d = an * d + b;
		if (fabs(d) < GAM_FPMIN)
			d = GAM_FPMIN;
		c = b + an / c;
		if (fabs(c) < GAM_FPMIN)
			c = GAM_FPMIN;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < GAM_EPS)
			break;
	}
	return exp(-x + a * log(x) - lgamma(a)) * h;
}

double drift_gammq(double a, double x)
{
	double q;
	if (!(a > 0) || !(x >= 0) || isnan(x))
		return NAN;
	if (x == 0)
		return 1;
	if (isinf(x))
		return 0;
	q = x < a + 1 ? 1 - gser(a, x) : gcf(a, x);
	return q < 0 ? 0 : q > 1 ? 1 : q;
}

double drift_chi2_sf(double x, double dof)
{
	if (!(dof > 0))
		return 1;
	return drift_gammq(dof / 2, x / 2);
}

double drift_kolmogorov_q(double lambda)
{
	double a2 = -2 * lambda * lambda, fac = 2, sum = 0, termbf = 0;
	if (!(lambda > 0))
		return 1;
	for (int j = 1; j <= 100; j++) {
		double term = fac * exp(a2 * j * j);
		sum += term;
		if (fabs(term) <= 0.001 * termbf || fabs(term) <= 1e-8 * sum)
			return sum < 0 ? 0 : sum > 1 ? 1 : sum;
		fac = -fac;
		termbf = fabs(term);
	}
	return 1; /* lambda this small: no evidence at all */
}

double drift_ks_pvalue(double d, double n, double m)
{
	double en;
	if (!(n > 0 && m > 0))
		return NAN;
	en = sqrt(n * m / (n + m));
	return drift_kolmogorov_q((en + 0.12 + 0.11 / en) * d);
}

/* ---------------------------------------------------------------- numeric */

struct ordinals {
	int64_t *o;
	uint64_t *c;
	size_t n;
	uint64_t total;
};

static void ordinals_get(struct ordinals *v, const struct stats_col *col)
{
	v->n = stats_sketch_ordinals(&col->sk, &v->o, &v->c);
	v->total = 0;
	for (size_t i = 0; i < v->n; i++)
		v->total += v->c[i];
}

static void ordinals_free(struct ordinals *v)
{
	free(v->o);
	free(v->c);
}

double drift_ks(const struct stats_col *ref, const struct stats_col *cur, double *p_value)
{
	struct ordinals a, b;
	size_t i = 0, j = 0;
	uint64_t ca = 0, cb = 0;
	double d = 0;
	ordinals_get(&a, ref);
	ordinals_get(&b, cur);
	if (!a.total || !b.total) {
		ordinals_free(&a);
		ordinals_free(&b);
		*p_value = NAN;
		return NAN;
	}
	while (i < a.n || j < b.n) {
		int64_t o = i < a.n && (j >= b.n || a.o[i] <= b.o[j]) ? a.o[i] : b.o[j];
		double gap;
		if (i < a.n && a.o[i] == o)
			ca += a.c[i++];
		if (j < b.n && b.o[j] == o)
			cb += b.c[j++];
		gap = fabs((double)ca / (double)a.total - (double)cb / (double)b.total);
		if (gap > d)
			d = gap;
	}
	*p_value = drift_ks_pvalue(d, (double)a.total, (double)b.total);
	ordinals_free(&a);
	ordinals_free(&b);
	return d;
}

/* Share of "v" in each bin: bin i holds ordinals in (edge[i-1], edge[i]], the last bin everything above. */
static void bin_shares(const struct ordinals *v, const int64_t *edge, size_t n_edges, double *share)
{
	size_t b = 0;
	for (size_t i = 0; i <= n_edges; i++)
		share[i] = 0;
	for (size_t i = 0; i < v->n; i++) {
		while (b < n_edges && v->o[i] > edge[b])
			b++;
		share[b] += (double)v->c[i];
	}
	for (size_t i = 0; i <= n_edges; i++)
		share[i] /= (double)v->total;
}

double drift_psi(const struct stats_col *ref, const struct stats_col *cur)
{
	struct ordinals a, b;
	int64_t edge[DRIFT_PSI_BINS];
	double ra[DRIFT_PSI_BINS + 1], cb[DRIFT_PSI_BINS + 1], psi = 0;
	size_t n_edges = 0, k = 0;
	uint64_t cum = 0;
	ordinals_get(&a, ref);
	ordinals_get(&b, cur);
	if (!a.total || !b.total) {
		ordinals_free(&a);
		ordinals_free(&b);
		return NAN;
	}
	/* the reference's deciles, each snapped to the upper edge of its bucket; equal edges merge */
	for (int d = 1; d < DRIFT_PSI_BINS; d++) {
		uint64_t r = (uint64_t)floor((double)d / DRIFT_PSI_BINS * (double)(a.total - 1));
		while (k < a.n && cum + a.c[k] <= r)
			cum += a.c[k++];
		if (k < a.n && (!n_edges || a.o[k] > edge[n_edges - 1]))
			edge[n_edges++] = a.o[k];
	}
	bin_shares(&a, edge, n_edges, ra);
	bin_shares(&b, edge, n_edges, cb);
	for (size_t i = 0; i <= n_edges; i++) {
		double r = ra[i] > 0 ? ra[i] : DRIFT_PSI_EPS, c = cb[i] > 0 ? cb[i] : DRIFT_PSI_EPS;
		psi += (c - r) * log(c / r);
	}
	ordinals_free(&a);
	ordinals_free(&b);
	return psi;
}

/* ---------------------------------------------------------------- categorical */

void drift_categorical(const double *a, const double *b, size_t k, double *chi2, double *dof, double *p, double *js,
		       double *linf)
{
	double na = 0, nb = 0, n, x2 = 0, j = 0, l = 0;
	size_t used = 0;
	for (size_t i = 0; i < k; i++) {
		na += a[i];
		nb += b[i];
	}
	n = na + nb;
	*chi2 = *dof = *p = *js = *linf = NAN;
	if (!(na > 0 && nb > 0))
		return;
	for (size_t i = 0; i < k; i++) {
		double col = a[i] + b[i], ea, eb, pa = a[i] / na, pb = b[i] / nb, m = (pa + pb) / 2;
		if (col <= 0)
			continue;
		used++;
		/* 2 x k contingency table, expected counts from the margins (test of homogeneity) */
		ea = na * col / n;
		eb = nb * col / n;
		x2 += (a[i] - ea) * (a[i] - ea) / ea + (b[i] - eb) * (b[i] - eb) / eb;
		if (pa > 0)
			j += 0.5 * pa * log2(pa / m);
		if (pb > 0)
			j += 0.5 * pb * log2(pb / m);
		if (fabs(pa - pb) > l)
			l = fabs(pa - pb);
	}
	*chi2 = x2;
	*dof = used > 1 ? (double)(used - 1) : 0;
	*p = used > 1 ? drift_chi2_sf(x2, *dof) : 1;
	*js = sqrt(j > 0 ? j : 0);
	*linf = l;
}

/* Align the categories of both columns (union, plus "other" when either has it) and measure them. */
static void categorical_measures(const struct stats_col *ref, const struct stats_col *cur, struct drift_feature *f)
{
	const struct stats_cat **rv, **cv;
	size_t nr = stats_categories(ref, &rv), nc = stats_categories(cur, &cv), k = 0;
	double *a = xcalloc(nr + nc + 1, sizeof(*a)), *b = xcalloc(nr + nc + 1, sizeof(*b));
	for (size_t i = 0; i < nr; i++, k++) {
		a[k] = (double)rv[i]->count;
		b[k] = (double)stats_category_count(cur, rv[i]->s, rv[i]->len);
	}
	for (size_t i = 0; i < nc; i++)
		if (!stats_category_count(ref, cv[i]->s, cv[i]->len)) {
			b[k++] = (double)cv[i]->count;
		}
	if (ref->cats.other || cur->cats.other) {
		a[k] = (double)ref->cats.other;
		b[k++] = (double)cur->cats.other;
	}
	drift_categorical(a, b, k, &f->chi2, &f->chi2_dof, &f->chi2_p, &f->js, &f->linf);
	free(a);
	free(b);
	free(rv);
	free(cv);
}

/* ---------------------------------------------------------------- report */

const char *drift_method_name(enum drift_method m)
{
	static const char *const names[] = { "auto", "psi", "ks", "chi2", "js", "linf" };
	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

int drift_method_parse(const char *s, enum drift_method *out)
{
	for (int m = DRIFT_AUTO; m <= DRIFT_LINF; m++)
		if (!strcmp(s, drift_method_name((enum drift_method)m))) {
			*out = (enum drift_method)m;
			return 0;
		}
	return -1;
}

const char *drift_status_name(enum drift_status s)
{
	switch (s) {
	case DRIFT_OK:
		return "ok";
	case DRIFT_DRIFTED:
		return "drift";
	case DRIFT_INSUFFICIENT:
		return "insufficient data";
	case DRIFT_MISSING:
		return "missing";
	case DRIFT_TYPE_CHANGED:
		return "type changed";
	}
	return "?";
}

double drift_default_threshold(enum drift_method m)
{
	return m == DRIFT_KS || m == DRIFT_CHI2 ? 0.05 : 0.1;
}

int drift_method_is_test(enum drift_method m)
{
	return m == DRIFT_KS || m == DRIFT_CHI2;
}

void drift_opts_init(struct drift_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->method = DRIFT_AUTO;
	o->threshold = NAN;
}

static int method_fits(enum drift_method m, enum stats_type t)
{
	if (m == DRIFT_AUTO)
		return 1;
	return t == STATS_NUMERIC ? m == DRIFT_PSI || m == DRIFT_KS
				  : m == DRIFT_CHI2 || m == DRIFT_JS || m == DRIFT_LINF;
}

static void measure(struct drift_feature *f, const struct stats_col *ref, const struct stats_col *cur,
		    const struct drift_opts *o)
{
	enum stats_type tr = stats_col_type(ref), tc = stats_col_type(cur);
	size_t min_rows = o->min_rows ? o->min_rows : DRIFT_MIN_ROWS;
	enum drift_method m = o->method;
	int small;

	f->type = tr != STATS_EMPTY ? tr : tc;
	f->n_ref = stats_col_n(ref);
	f->n_cur = stats_col_n(cur);
	if (tr != STATS_EMPTY && tc != STATS_EMPTY && tr != tc) {
		f->status = DRIFT_TYPE_CHANGED;
		f->method = m;
		return;
	}
	small = f->n_ref <= DRIFT_AUTO_SMALL && f->n_cur <= DRIFT_AUTO_SMALL;
	if (f->type == STATS_NUMERIC) {
		if (f->n_ref && f->n_cur) {
			f->psi = drift_psi(ref, cur);
			f->ks_d = drift_ks(ref, cur, &f->ks_p);
		}
		if (m == DRIFT_AUTO || !method_fits(m, f->type))
			m = small ? DRIFT_KS : DRIFT_PSI;
	} else {
		if (f->n_ref && f->n_cur)
			categorical_measures(ref, cur, f);
		if (m == DRIFT_AUTO || !method_fits(m, f->type))
			m = small ? DRIFT_CHI2 : DRIFT_JS;
	}
	f->method = m;
	f->threshold = isnan(o->threshold) ? drift_default_threshold(m) : o->threshold;
	switch (m) {
	case DRIFT_PSI:
		f->score = f->psi;
		break;
	case DRIFT_KS:
		f->score = f->ks_p;
		break;
	case DRIFT_CHI2:
		f->score = f->chi2_p;
		break;
	case DRIFT_JS:
		f->score = f->js;
		break;
	default:
		f->score = f->linf;
		break;
	}
	if (f->n_ref < min_rows || f->n_cur < min_rows || isnan(f->score))
		f->status = DRIFT_INSUFFICIENT;
	else if (drift_method_is_test(m) ? f->score < f->threshold : f->score > f->threshold)
		f->status = DRIFT_DRIFTED;
	else
		f->status = DRIFT_OK;
}

int drift_compute(struct drift_report *r, const struct stats *ref, const struct stats *cur, const struct drift_opts *o,
		  struct err *e)
{
	size_t n = o->columns ? o->n_columns : ref->n_cols;
	memset(r, 0, sizeof(*r));
	if (o->columns)
		for (size_t i = 0; i < n; i++)
			if (!stats_find(ref, o->columns[i]))
				return err_set(e, MLCI_EUSAGE, "the reference has no column '%s'", o->columns[i]);
	r->f = xcalloc(n ? n : 1, sizeof(*r->f));
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		const struct stats_col *rc = o->columns ? stats_find(ref, o->columns[i]) : &ref->cols[i];
		const struct stats_col *cc = stats_find(cur, rc->name);
		struct drift_feature *f = &r->f[i];
		f->name = xstrdup(rc->name);
		f->psi = f->ks_d = f->ks_p = f->chi2 = f->chi2_dof = f->chi2_p = f->js = f->linf = NAN;
		f->score = f->threshold = NAN;
		if (!cc) {
			f->type = stats_col_type(rc);
			f->method = o->method;
			f->n_ref = stats_col_n(rc);
			f->status = DRIFT_MISSING;
		} else {
			measure(f, rc, cc, o);
		}
		if (f->status == DRIFT_INSUFFICIENT) {
			r->n_insufficient++;
			continue;
		}
		r->n_tested++;
		if (f->status != DRIFT_OK)
			r->n_drifted++;
	}
	r->share = r->n_tested ? (double)r->n_drifted / (double)r->n_tested : 0;
	return 0;
}

void drift_report_release(struct drift_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->f[i].name);
	free(r->f);
	memset(r, 0, sizeof(*r));
}

static void add_num(cJSON *o, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

cJSON *drift_report_json(const struct drift_report *r)
{
	cJSON *j = cJSON_CreateObject(), *a;
	cJSON_AddNumberToObject(j, "features", (double)r->n);
	cJSON_AddNumberToObject(j, "tested", (double)r->n_tested);
	cJSON_AddNumberToObject(j, "drifted", (double)r->n_drifted);
	cJSON_AddNumberToObject(j, "insufficient", (double)r->n_insufficient);
	cJSON_AddNumberToObject(j, "drift_share", r->share);
	a = cJSON_AddArrayToObject(j, "results");
	for (size_t i = 0; i < r->n; i++) {
		const struct drift_feature *f = &r->f[i];
		cJSON *o = cJSON_CreateObject(), *m;
		cJSON_AddStringToObject(o, "feature", f->name);
		cJSON_AddStringToObject(o, "type", stats_type_name(f->type));
		cJSON_AddStringToObject(o, "method", drift_method_name(f->method));
		cJSON_AddStringToObject(o, "status", drift_status_name(f->status));
		cJSON_AddBoolToObject(o, "drifted",
				      f->status == DRIFT_DRIFTED || f->status == DRIFT_MISSING ||
					      f->status == DRIFT_TYPE_CHANGED);
		add_num(o, "score", f->score);
		add_num(o, "threshold", f->threshold);
		cJSON_AddStringToObject(o, "drift_when",
					drift_method_is_test(f->method) ? "score < threshold" : "score > threshold");
		cJSON_AddNumberToObject(o, "n_ref", (double)f->n_ref);
		cJSON_AddNumberToObject(o, "n_cur", (double)f->n_cur);
		m = cJSON_AddObjectToObject(o, "measures");
		if (f->type == STATS_NUMERIC) {
			add_num(m, "psi", f->psi);
			add_num(m, "ks_d", f->ks_d);
			add_num(m, "ks_p", f->ks_p);
		} else if (f->type == STATS_CATEGORICAL) {
			add_num(m, "chi2", f->chi2);
			add_num(m, "chi2_dof", f->chi2_dof);
			add_num(m, "chi2_p", f->chi2_p);
			add_num(m, "js", f->js);
			add_num(m, "linf", f->linf);
		}
		cJSON_AddItemToArray(a, o);
	}
	return j;
}
