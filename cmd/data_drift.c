/* data_drift.c - `mlci data drift CURRENT --reference REF`: per-feature drift table and verdict.
 * Printing and option checking only; statistics and scores are checks/stats.c's and checks/drift.c's. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/drift.h"
#include "checks/stats.h"
#include "cmd/cmd.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/strvec.h"
#include "common/banned.h"

/* set by cmd_parse through cmd_data_opts (cmd/data.c) */
const char *cmd_drift_reference, *cmd_drift_method, *cmd_drift_threshold, *cmd_drift_columns, *cmd_drift_save_stats,
	*cmd_drift_max_share;

int cmd_data_drift(struct strvec *args, struct cmd_ctx *ctx);

static int parse_real(const struct cmd_ctx *ctx, const char *what, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		cmd_error(ctx, "invalid %s '%s' (expected a number from %g to %g)", what, s, lo, hi);
		return 2;
	}
	*out = v;
	return 0;
}

/* A path ending in ".json" is a statistics file (JSON Lines data ends in .jsonl or .ndjson). */
static int is_stats_file(const char *path)
{
	size_t n = strlen(path);
	return n >= 5 && !strcmp(path + n - 5, ".json");
}

static int load_stats(struct stats *s, const char *path, const struct strvec *cols, struct err *e)
{
	if (is_stats_file(path))
		return stats_load(s, path, e);
	return stats_from_data_file(s, path, cols->n ? (const char *const *)cols->v : NULL, cols->n, e);
}

static void fmt_score(char *out, size_t n, double v)
{
	if (isnan(v))
		snprintf(out, n, "-");
	else if (v != 0 && fabs(v) < 1e-4)
		snprintf(out, n, "%.2e", v);
	else
		snprintf(out, n, "%.4f", v);
}

static void print_report(const struct drift_report *r, double max_share, const struct cmd_ctx *ctx)
{
	struct cmd_tab t;
	cmd_tab_init(&t, 1u << 3 | 1u << 4 | 1u << 6 | 1u << 7, 8, "FEATURE", "TYPE", "METHOD", "SCORE", "THRESHOLD",
		     "STATUS", "N REF", "N CUR");
	for (size_t i = 0; i < r->n; i++) {
		const struct drift_feature *f = &r->f[i];
		char sc[32], th[32];
		const char *colour = f->status == DRIFT_OK             ? "green"
				     : f->status == DRIFT_INSUFFICIENT ? "yellow"
								       : "red";
		fmt_score(sc, sizeof(sc), f->score);
		fmt_score(th, sizeof(th), f->threshold);
		cmd_tab_add(&t, NULL, "%s", f->name);
		cmd_tab_add(&t, NULL, "%s", stats_type_name(f->type));
		cmd_tab_add(&t, NULL, "%s",
			    f->status == DRIFT_MISSING || f->status == DRIFT_TYPE_CHANGED
				    ? "-"
				    : drift_method_name(f->method));
		cmd_tab_add(&t, NULL, "%s", sc);
		cmd_tab_add(&t, NULL, "%s%s",
			    isnan(f->threshold)               ? ""
			    : drift_method_is_test(f->method) ? "< "
							      : "> ",
			    th);
		cmd_tab_add(&t, colour, "%s", drift_status_name(f->status));
		cmd_tab_add(&t, NULL, "%llu", (unsigned long long)f->n_ref);
		cmd_tab_add(&t, NULL, "%llu", (unsigned long long)f->n_cur);
	}
	if (!ctx->quiet)
		cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
	printf("%zu of %zu feature%s drifted (share %.3f, limit %g)", r->n_drifted, r->n_tested,
	       r->n_tested == 1 ? "" : "s", r->share, max_share);
	if (r->n_insufficient)
		printf(", %zu with insufficient data (fewer than %d values): not tested", r->n_insufficient,
		       DRIFT_MIN_ROWS);
	printf("\n");
}

/* Exit 1 when the share of drifted features exceeds --max-drift-share (default 0: any drifted,
 * missing or retyped feature fails, like TFDV's anomalies), or when no feature had enough data to be
 * tested; 2 for usage errors and bad statistics files; 3 when a file cannot be read. */
int cmd_data_drift(struct strvec *args, struct cmd_ctx *ctx)
{
	struct drift_opts o;
	struct strvec cols = STRVEC_INIT;
	struct stats ref, cur;
	struct drift_report rep;
	struct err e = ERR_INIT;
	double max_share = 0;
	int code = 0;

	drift_opts_init(&o);
	if (args->n != 2 || !cmd_drift_reference) {
		cmd_error(ctx, "usage: mlci data drift CURRENT --reference REF [--method M] [--threshold T] "
			       "[--columns A,B] [--save-stats FILE] [--max-drift-share S]");
		return 2;
	}
	if (cmd_drift_method && drift_method_parse(cmd_drift_method, &o.method) < 0) {
		cmd_error(ctx, "invalid --method '%s' (expected auto, psi, ks, chi2, js or linf)", cmd_drift_method);
		return 2;
	}
	if (cmd_drift_threshold) {
		if (o.method == DRIFT_AUTO) {
			cmd_error(ctx, "--threshold needs --method (thresholds differ between methods)");
			return 2;
		}
		if (parse_real(ctx, "--threshold", cmd_drift_threshold, 0, 1e9, &o.threshold))
			return 2;
	}
	if (cmd_drift_max_share && parse_real(ctx, "--max-drift-share", cmd_drift_max_share, 0, 1, &max_share))
		return 2;
	if (cmd_drift_columns) {
		const char *p = cmd_drift_columns;
		while (*p) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			if (len)
				strvec_push_owned(&cols, strndup(p, len));
			p += len + (comma ? 1 : 0);
		}
		if (!cols.n) {
			cmd_error(ctx, "--columns needs at least one column name");
			return 2;
		}
		o.columns = (const char *const *)cols.v;
		o.n_columns = cols.n;
	}
	if (!is_stats_file(cmd_drift_reference) && !is_stats_file(args->v[1])) {
		/* two data files: each in parallel spans, or (not both mappable CSV) both at once */
		if (stats_from_data_files(&ref, cmd_drift_reference, &cur, args->v[1],
					  cols.n ? (const char *const *)cols.v : NULL, cols.n, &e) < 0) {
			strvec_clear(&cols);
			return cmd_fail(ctx, &e);
		}
	} else {
		if (load_stats(&ref, cmd_drift_reference, &cols, &e) < 0) {
			strvec_clear(&cols);
			return cmd_fail(ctx, &e);
		}
		if (load_stats(&cur, args->v[1], &cols, &e) < 0) {
			stats_release(&ref);
			strvec_clear(&cols);
			return cmd_fail(ctx, &e);
		}
	}
	if (cmd_drift_save_stats && stats_save(&cur, cmd_drift_save_stats, &e) < 0)
		goto fail;
	if (drift_compute(&rep, &ref, &cur, &o, &e) < 0)
		goto fail;
	if (!rep.n_tested || rep.share > max_share)
		code = 1;
	if (ctx->json) {
		cJSON *j = drift_report_json(&rep);
		cJSON_AddStringToObject(j, "current", args->v[1]);
		cJSON_AddStringToObject(j, "reference", cmd_drift_reference);
		cJSON_AddNumberToObject(j, "max_drift_share", max_share);
		cJSON_AddNumberToObject(j, "min_rows", DRIFT_MIN_ROWS);
		cJSON_AddStringToObject(j, "verdict", code ? (rep.n_tested ? "fail" : "insufficient data") : "pass");
		cmd_print_json(j);
		cJSON_Delete(j);
	} else {
		print_report(&rep, max_share, ctx);
	}
	if (!rep.n_tested)
		cmd_error(ctx, "insufficient data: no feature has %d values in both datasets", DRIFT_MIN_ROWS);
	drift_report_release(&rep);
	stats_release(&ref);
	stats_release(&cur);
	strvec_clear(&cols);
	return code;
fail:
	stats_release(&ref);
	stats_release(&cur);
	strvec_clear(&cols);
	return cmd_fail(ctx, &e);
}
