/* model_checks.c - thresholds, baseline regression with tolerances, and slice gaps on a run's
 * metrics. Messages name the metric, its value and the limit. Verdicts only; it never prints. */
#include "checks/model_checks.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/banned.h"

int model_lower_is_better(const char *metric, const struct spec_strlist *lower)
{
	static const char *const parts[] = { "loss",  "error",   "err",        "mse", "mae", "rmse", "mape",
					     "brier", "latency", "perplexity", "fpr", "fnr", "wer" };
	char low[128];
	size_t n = 0;
	for (size_t i = 0; lower && i < lower->n; i++)
		if (!strcmp(lower->items[i], metric))
			return 1;
	for (; metric[n] && n + 1 < sizeof(low); n++)
		low[n] = (char)tolower((unsigned char)metric[n]);
	low[n] = 0;
	/* word parts: split on anything that is not a letter */
	for (char *p = low; *p;) {
		size_t len;
		while (*p && !isalpha((unsigned char)*p))
			p++;
		len = 0;
		while (p[len] && isalpha((unsigned char)p[len]))
			len++;
		for (size_t k = 0; len && k < sizeof(parts) / sizeof(parts[0]); k++)
			if (strlen(parts[k]) == len && !strncmp(p, parts[k], len))
				return 1;
		p += len;
	}
	return 0;
}

static const char *op_name(enum spec_cmp op)
{
	switch (op) {
	case SPEC_GE:
		return ">=";
	case SPEC_LE:
		return "<=";
	case SPEC_GT:
		return ">";
	case SPEC_LT:
		return "<";
	default:
		return "==";
	}
}

/* The operator that holds when "op" does not. */
static const char *op_negated(enum spec_cmp op)
{
	switch (op) {
	case SPEC_GE:
		return "<";
	case SPEC_LE:
		return ">";
	case SPEC_GT:
		return "<=";
	case SPEC_LT:
		return ">=";
	default:
		return "!=";
	}
}

static int cmp_holds(double v, enum spec_cmp op, double lim)
{
	switch (op) {
	case SPEC_GE:
		return v >= lim;
	case SPEC_LE:
		return v <= lim;
	case SPEC_GT:
		return v > lim;
	case SPEC_LT:
		return v < lim;
	default:
		return v == lim;
	}
}

static int metric_value(const cJSON *obj, const char *name, double *out)
{
	double v = json_num(obj, name, NAN);
	if (!isfinite(v))
		return 0;
	*out = v;
	return 1;
}

void model_check_thresholds(struct verdicts *out, const struct spec_check_model *m, const cJSON *metrics,
			    const char *display)
{
	int64_t t0 = clock_wall_ms();
	cJSON *d = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(d, "thresholds");
	struct buf fails = BUF_INIT, all = BUF_INIT;
	size_t n_fail = 0;
	for (size_t i = 0; i < m->n_thresholds; i++) {
		const struct spec_threshold *t = &m->thresholds[i];
		cJSON *o = cJSON_CreateObject();
		double v = 0;
		int have = metric_value(metrics, t->metric, &v), ok = have && cmp_holds(v, t->op, t->value);
		cJSON_AddStringToObject(o, "metric", t->metric);
		cJSON_AddStringToObject(o, "op", op_name(t->op));
		cJSON_AddNumberToObject(o, "limit", t->value);
		if (have)
			cJSON_AddNumberToObject(o, "value", v);
		else
			cJSON_AddNullToObject(o, "value");
		cJSON_AddBoolToObject(o, "ok", ok);
		cJSON_AddItemToArray(arr, o);
		if (!have) {
			buf_addf(&fails, "%s%s missing from %s (threshold %s %g)", n_fail ? "; " : "", t->metric,
				 display, op_name(t->op), t->value);
			n_fail++;
		} else if (!ok) {
			buf_addf(&fails, "%s%s %.3f %s %g (threshold)", n_fail ? "; " : "", t->metric, v,
				 op_negated(t->op), t->value);
			n_fail++;
		} else {
			buf_addf(&all, "%s%s %.3f %s %g", all.len ? ", " : "", t->metric, v, op_name(t->op), t->value);
		}
	}
	if (n_fail)
		verdicts_add(out, "model.thresholds", "model", VERDICT_FAIL, d, t0, clock_wall_ms() - t0, "%s",
			     fails.ptr);
	else
		verdicts_add(out, "model.thresholds", "model", VERDICT_PASS, d, t0, clock_wall_ms() - t0, "%s",
			     all.len ? all.ptr : "no thresholds");
	buf_release(&fails);
	buf_release(&all);
}

/* Allowed drop: absolute value, or relative to the baseline value. */
static double allowed(const struct spec_tolerance *t, double base)
{
	return t->relative ? t->value * fabs(base) : t->value;
}

static void baseline_one(const char *metric, double cur, double base, double allow, const char *tol_text, int lower,
			 const char *label, cJSON *arr, struct buf *fails, struct buf *all, size_t *n_fail)
{
	double delta = cur - base; /* signed change */
	double worse = lower ? delta : -delta;
	int ok = !(worse > allow + 1e-12);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "metric", metric);
	cJSON_AddNumberToObject(o, "value", cur);
	cJSON_AddNumberToObject(o, "baseline", base);
	cJSON_AddNumberToObject(o, "delta", delta);
	cJSON_AddNumberToObject(o, "tolerance", allow);
	cJSON_AddStringToObject(o, "better", lower ? "lower" : "higher");
	cJSON_AddBoolToObject(o, "ok", ok);
	cJSON_AddItemToArray(arr, o);
	if (!ok) {
		buf_addf(fails, "%s%s %.3f vs %s %.3f: %+.3f beyond tolerance %s", *n_fail ? "; " : "", metric, cur,
			 label, base, delta, tol_text);
		(*n_fail)++;
	} else {
		buf_addf(all, "%s%s %.3f vs %.3f (%+.3f, tolerance %s)", all->len ? ", " : "", metric, cur, base, delta,
			 tol_text);
	}
}

void model_check_baseline(struct verdicts *out, const struct spec_check_model *m, const cJSON *metrics,
			  const cJSON *baseline, const char *label, const char *why_none)
{
	int64_t t0 = clock_wall_ms();
	cJSON *d = cJSON_CreateObject(), *arr;
	struct buf fails = BUF_INIT, all = BUF_INIT;
	size_t n_fail = 0;

	cJSON_AddStringToObject(d, "baseline", m->baseline ? m->baseline : "");
	if (!baseline) {
		cJSON_AddStringToObject(d, "note", why_none ? why_none : "no baseline");
		verdicts_add(out, "model.baseline", "model", VERDICT_PASS, d, t0, clock_wall_ms() - t0,
			     "no baseline: skipped (%s)", why_none ? why_none : "none found");
		return;
	}
	cJSON_AddStringToObject(d, "against", label);
	arr = cJSON_AddArrayToObject(d, "metrics");
	if (m->n_tolerance) {
		for (size_t i = 0; i < m->n_tolerance; i++) {
			const struct spec_tolerance *t = &m->tolerance[i];
			double cur, base;
			char tol[64];
			if (t->relative)
				snprintf(tol, sizeof(tol), "%g%%", t->value * 100);
			else
				snprintf(tol, sizeof(tol), "%g", t->value);
			if (!metric_value(metrics, t->metric, &cur)) {
				buf_addf(&fails, "%s%s missing from the run's metrics", n_fail ? "; " : "", t->metric);
				n_fail++;
				continue;
			}
			if (!metric_value(baseline, t->metric, &base)) {
				buf_addf(&all, "%s%s: not in %s, not compared", all.len ? ", " : "", t->metric, label);
				continue;
			}
			baseline_one(t->metric, cur, base, allowed(t, base), tol,
				     model_lower_is_better(t->metric, &m->lower_is_better), label, arr, &fails, &all,
				     &n_fail);
		}
	} else {
		const cJSON *it;
		cJSON_ArrayForEach(it, metrics) {
			double cur, base;
			if (!metric_value(metrics, it->string, &cur) || !metric_value(baseline, it->string, &base) ||
			    !strcmp(it->string, "rows") || !strcmp(it->string, "positives"))
				continue;
			baseline_one(it->string, cur, base, 0, "0",
				     model_lower_is_better(it->string, &m->lower_is_better), label, arr, &fails, &all,
				     &n_fail);
		}
	}
	if (n_fail)
		verdicts_add(out, "model.baseline", "model", VERDICT_FAIL, d, t0, clock_wall_ms() - t0, "%s",
			     fails.ptr);
	else
		verdicts_add(out, "model.baseline", "model", VERDICT_PASS, d, t0, clock_wall_ms() - t0, "vs %s: %s",
			     label, all.len ? all.ptr : "no common metric");
	buf_release(&fails);
	buf_release(&all);
}

void model_check_slices(struct verdicts *out, const struct spec_check_model *m, const cJSON *metrics,
			const cJSON *slices, const char *display)
{
	int64_t t0 = clock_wall_ms();
	cJSON *d = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(d, "slices");
	cJSON *small = cJSON_AddArrayToObject(d, "too_small");
	struct buf fails = BUF_INIT, smalls = BUF_INIT;
	size_t n_fail = 0, n_small = 0, n_judged = 0;
	const cJSON *group, *slice;

	if (!cJSON_IsObject(slices)) {
		verdicts_add(out, "model.slices", "model", VERDICT_FAIL, d, t0, clock_wall_ms() - t0,
			     "%s: not a JSON object of slice groups", display);
		return;
	}
	cJSON_ArrayForEach(group, slices) {
		if (!cJSON_IsObject(group))
			continue;
		cJSON_ArrayForEach(slice, group) {
			double rows = -1;
			char name[256];
			snprintf(name, sizeof(name), "%s=%s", group->string, slice->string);
			metric_value(slice, "rows", &rows);
			if (m->slices_min_rows > 0 && rows >= 0 && rows < (double)m->slices_min_rows) {
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "slice", name);
				cJSON_AddNumberToObject(o, "rows", rows);
				cJSON_AddItemToArray(small, o);
				buf_addf(&smalls, "%s%s (%.0f rows < %lld)", n_small ? ", " : "", name, rows,
					 (long long)m->slices_min_rows);
				n_small++;
				continue;
			}
			n_judged++;
			for (size_t i = 0; i < m->n_max_gap; i++) {
				const struct spec_tolerance *g = &m->max_gap[i];
				double overall, v, gap, limit;
				int lower = model_lower_is_better(g->metric, &m->lower_is_better), ok;
				cJSON *o;
				if (!metric_value(metrics, g->metric, &overall) ||
				    !metric_value(slice, g->metric, &v)) {
					buf_addf(&fails, "%s%s: %s missing", n_fail ? "; " : "", name, g->metric);
					n_fail++;
					continue;
				}
				gap = lower ? v - overall : overall - v; /* how much worse the slice is */
				limit = g->relative ? g->value * fabs(overall) : g->value;
				ok = !(gap > limit + 1e-12);
				o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "slice", name);
				cJSON_AddStringToObject(o, "metric", g->metric);
				cJSON_AddNumberToObject(o, "value", v);
				cJSON_AddNumberToObject(o, "overall", overall);
				cJSON_AddNumberToObject(o, "gap", gap);
				cJSON_AddNumberToObject(o, "max_gap", limit);
				if (rows >= 0)
					cJSON_AddNumberToObject(o, "rows", rows);
				cJSON_AddBoolToObject(o, "ok", ok);
				cJSON_AddItemToArray(arr, o);
				if (!ok) {
					buf_addf(&fails, "%sslice %s %s %.3f vs overall %.3f: gap %.3f > max_gap %g",
						 n_fail ? "; " : "", name, g->metric, v, overall, gap, limit);
					n_fail++;
				}
			}
		}
	}
	if (n_fail)
		verdicts_add(out, "model.slices", "model", VERDICT_FAIL, d, t0, clock_wall_ms() - t0, "%s%s%s",
			     fails.ptr, n_small ? "; too small: " : "", n_small ? smalls.ptr : "");
	else if (n_small)
		verdicts_add(out, "model.slices", "model", VERDICT_WARN, d, t0, clock_wall_ms() - t0,
			     "%zu slices within max_gap; too small, not judged: %s", n_judged, smalls.ptr);
	else
		verdicts_add(out, "model.slices", "model", VERDICT_PASS, d, t0, clock_wall_ms() - t0,
			     "%zu slices within max_gap of overall", n_judged);
	buf_release(&fails);
	buf_release(&smalls);
}
