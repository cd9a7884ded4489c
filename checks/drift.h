/* drift.h - drift of a dataset against a reference, feature by feature, from their statistics:
 * PSI and Kolmogorov-Smirnov (numeric), chi-squared, Jensen-Shannon and L-infinity (categorical).
 * It compares statistics only: it never reads data files (checks/stats_file.c) nor prints. */
#ifndef MLCI_DRIFT_H
#define MLCI_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "checks/stats.h"
#include "common/error.h"

struct cJSON;

enum drift_method { DRIFT_AUTO, DRIFT_PSI, DRIFT_KS, DRIFT_CHI2, DRIFT_JS, DRIFT_LINF };

/*
 * Method `auto` (after Evidently's defaults): numeric features use KS when both samples have at most
 * DRIFT_AUTO_SMALL non-null values, else PSI; categorical ones use chi-squared when both have at most
 * DRIFT_AUTO_SMALL, else Jensen-Shannon. Tests (KS, chi2) give a p-value and drift below the threshold;
 * distances (PSI, JS, L-inf) drift above it. Default thresholds: PSI 0.1, KS p < 0.05, chi2 p < 0.05,
 * JS distance 0.1, L-inf 0.1. Below DRIFT_MIN_ROWS non-null values in either sample the feature is
 * "insufficient data": scores are still reported, the verdict is not a pass.
 */
#define DRIFT_AUTO_SMALL 1000
#define DRIFT_MIN_ROWS   30
/* Frequency used for a PSI bin that is empty in one sample (as Evidently does). */
#define DRIFT_PSI_EPS  1e-4
#define DRIFT_PSI_BINS 10

enum drift_status { DRIFT_OK, DRIFT_DRIFTED, DRIFT_INSUFFICIENT, DRIFT_MISSING, DRIFT_TYPE_CHANGED };

struct drift_opts {
	enum drift_method method;
	double threshold;           /* NaN = the method's default */
	size_t min_rows;            /* 0 = DRIFT_MIN_ROWS */
	const char *const *columns; /* NULL = every column of the reference */
	size_t n_columns;
};

struct drift_feature {
	char *name;
	enum stats_type type;
	enum drift_method method; /* the one that decides (never DRIFT_AUTO) */
	enum drift_status status;
	double score, threshold; /* score of "method" (p-value for KS and chi2) */
	uint64_t n_ref, n_cur;   /* non-null values compared */
	/* every applicable measure; NaN when not computed */
	double psi, ks_d, ks_p, chi2, chi2_dof, chi2_p, js, linf;
};

struct drift_report {
	struct drift_feature *f;
	size_t n;
	size_t n_drifted, n_insufficient, n_tested; /* tested = n - insufficient */
	double share;                               /* n_drifted / n_tested (0 when nothing was tested) */
};

void drift_opts_init(struct drift_opts *o);
int drift_compute(struct drift_report *r, const struct stats *ref, const struct stats *cur, const struct drift_opts *o,
		  struct err *e);
void drift_report_release(struct drift_report *r);
struct cJSON *drift_report_json(const struct drift_report *r);

const char *drift_method_name(enum drift_method m);
/* Parse a method name ("auto", "psi", "ks", "chi2", "js", "linf"); -1 when unknown. */
int drift_method_parse(const char *s, enum drift_method *out);
const char *drift_status_name(enum drift_status s);
double drift_default_threshold(enum drift_method m);
/* 1 when the method is a test whose score is a p-value (drift when below the threshold). */
int drift_method_is_test(enum drift_method m);

/* The measures, exposed for tests. Two numeric sketches share one bucket grid, so KS and PSI are
 * evaluated on it: KS's D is the largest CDF gap at bucket edges (it can underestimate the exact D by
 * at most the largest single-bucket mass) and PSI's bins are the reference's deciles snapped to edges. */
double drift_psi(const struct stats_col *ref, const struct stats_col *cur);
double drift_ks(const struct stats_col *ref, const struct stats_col *cur, double *p_value);
/* Asymptotic Kolmogorov distribution Q_KS(lambda) = 2 sum (-1)^(j-1) exp(-2 j^2 lambda^2). */
double drift_kolmogorov_q(double lambda);
/* p-value of D for samples of n and m (Numerical Recipes' probks with Stephens' correction). */
double drift_ks_pvalue(double d, double n, double m);
/* Regularised upper incomplete gamma Q(a, x) (series / continued fraction). */
double drift_gammq(double a, double x);
/* Chi-squared survival function: P(X > x) with "dof" degrees of freedom. */
double drift_chi2_sf(double x, double dof);
/* Categorical measures on two count vectors over the same categories. */
void drift_categorical(const double *a, const double *b, size_t k, double *chi2, double *dof, double *p, double *js,
		       double *linf);

#endif
