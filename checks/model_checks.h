/* model_checks.h - the model checks of a pipeline run on metrics.json / slices.json: thresholds,
 * regression against a baseline version with tolerances, slice gaps. Verdicts only; never prints. */
#ifndef MLCI_MODEL_CHECKS_H
#define MLCI_MODEL_CHECKS_H

#include "record/verdict.h"
#include "spec/spec.h"

struct cJSON;

/* 1 when a lower value of "metric" is better: it is in "lower" (the spec's lower_is_better), or its
 * lower-cased name contains loss, error, err, mse, mae, rmse, mape, brier, latency, perplexity, fpr,
 * fnr or wer (as a word part: "val_loss", "error_rate", "latency_p99_ms"); else higher is better. */
int model_lower_is_better(const char *metric, const struct spec_strlist *lower);

/* "model.thresholds": every threshold of "m" against the numbers of "metrics" (a JSON object). */
void model_check_thresholds(struct verdicts *out, const struct spec_check_model *m, const struct cJSON *metrics,
			    const char *display);

/* "model.baseline": "baseline" (the baseline version's metrics object, NULL = none) labelled "label"
 * (e.g. "production (bc-classifier v3)"). Tolerance metrics are compared (every common metric with
 * tolerance 0 when the spec lists none); NULL baseline passes with "no baseline: skipped (WHY)". */
void model_check_baseline(struct verdicts *out, const struct spec_check_model *m, const struct cJSON *metrics,
			  const struct cJSON *baseline, const char *label, const char *why_none);

/* "model.slices": slices.json ({group: {slice: {metric: number, "rows": n}}}) against the overall
 * metrics; a slice worse than overall by more than max_gap fails; slices with fewer than min_rows rows
 * are reported as too small (warn) and not judged. */
void model_check_slices(struct verdicts *out, const struct spec_check_model *m, const struct cJSON *metrics,
			const struct cJSON *slices, const char *display);

#endif
