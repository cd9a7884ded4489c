/* check_data.c - the data stage of a run's checks: the dataset against its schema, its statistics saved
 * as an artifact, and drift against a reference (a file of the commit, production's dataset, a version's).
 * The checks themselves are checks/'s; this file finds inputs and references, and must not print. */
#include "ci/run_checks_int.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checks/drift.h"
#include "checks/infra.h"
#include "checks/model_checks.h"
#include "checks/schema.h"
#include "checks/service.h"
#include "checks/stats.h"
#include "checks/training.h"
#include "ci/run_int.h"
#include "ci/step_env.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/alloc.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/path.h"
#include "common/proc.h"
#include "common/sha256.h"
#include "registry/artifacts.h"
#include "registry/store.h"
#include "registry/store_checks.h"
#include "registry/store_stats.h"
#include "common/banned.h"
/* ---------- data ---------- */

static void data_schema(struct run *r, const char *path, const char *display)
{
	const struct spec_check_data *d = &r->spec.checks.data;
	int64_t t0 = clock_wall_ms();
	char *schema_path = path_join(r->workspace, d->schema);
	struct schema sc;
	struct strvec diags = STRVEC_INIT;
	struct schema_report rep;
	struct err e = ERR_INIT;

	schema_init(&sc);
	memset(&rep, 0, sizeof(rep));
	if (schema_parse_file(&sc, schema_path, &diags) < 0) {
		verdicts_add(&r->checks, "data.schema", "data", VERDICT_FAIL, NULL, t0, clock_wall_ms() - t0,
			     "%s: %s%s", d->schema, diags.n ? diags.v[0] : "invalid schema",
			     diags.n > 1 ? " (and more)" : "");
	} else if (schema_validate_file(&sc, path, &rep, &e) < 0) {
		verdicts_add(&r->checks, "data.schema", "data", VERDICT_FAIL, NULL, t0, clock_wall_ms() - t0, "%s: %s",
			     display, err_msg(&e));
	} else {
		cJSON *j = schema_report_json(&rep);
		struct buf first = BUF_INIT;
		cJSON_ReplaceItemInObjectCaseSensitive(j, "data", cJSON_CreateString(display));
		cJSON_AddStringToObject(j, "schema", d->schema);
		for (size_t i = 0; i < rep.n && i < 3; i++) {
			const struct schema_anomaly *a = &rep.items[i];
			buf_addf(&first, "%s%s%s%s x%" PRIu64 " (line %" PRIu64 ")", i ? ", " : ": ", a->column,
				 *a->column ? " " : "", schema_anomaly_name(a->kind), a->count,
				 a->n_lines ? a->lines[0] : 0);
		}
		if (rep.n > 3)
			buf_addstr(&first, ", ...");
		verdicts_add(&r->checks, "data.schema", "data",
			     rep.errors     ? VERDICT_FAIL
			     : rep.warnings ? VERDICT_WARN
					    : VERDICT_PASS,
			     j, t0, clock_wall_ms() - t0, "%zu errors, %zu warnings in %" PRIu64 " rows vs %s%s",
			     rep.errors, rep.warnings, rep.rows, d->schema, first.ptr);
		buf_release(&first);
	}
	schema_report_release(&rep);
	schema_release(&sc);
	strvec_clear(&diags);
	err_release(&e);
	free(schema_path);
}

/* Save "st" as an artifact and record it as the statistics of dataset artifact "digest". */
static void save_stats(struct run *r, const struct stats *st, const char *digest)
{
	struct buf p = BUF_INIT;
	struct err e = ERR_INIT;
	char sd[65];
	int64_t size = 0;
	char *uri = NULL;
	buf_addf(&p, "%s/tmp/dataset-stats.json", r->run_dir);
	if (stats_save(st, p.ptr, &e) < 0 || artifact_put_file(r->home, p.ptr, sd, &size, &e) < 0)
		goto fail;
	uri = artifact_path(r->home, sd);
	if (store_artifact_put(r->store, sd, size, "stats", uri, &e) < 0 ||
	    store_dataset_stats_put(r->store, digest, sd, &e) < 0)
		goto fail;
	goto done;
fail:
	log_warn("could not save the dataset statistics: %s", err_msg(&e));
done:
	free(uri);
	buf_release(&p);
	err_release(&e);
}

/* The reference statistics for drift. 1 loaded, 0 no baseline ("why"), -1 error ("e"). */
static int drift_reference(struct run *r, struct stats *ref, struct buf *label, struct buf *why, struct err *e)
{
	const struct spec_check_data *d = &r->spec.checks.data;
	const char *refname = d->drift_reference ? d->drift_reference : "production";
	char *run = NULL, *model = NULL, dig[65], sd[65];
	int64_t version = 0;
	int rc;

	if (strchr(refname, '/')) {
		char *p = path_join(r->workspace, refname);
		size_t n = strlen(refname);
		buf_addstr(label, refname);
		if (n > 5 && !strcmp(refname + n - 5, ".json"))
			rc = stats_load(ref, p, e);
		else
			rc = stats_from_data_file(ref, p, NULL, 0, e);
		free(p);
		return rc < 0 ? err_prefix(e, "reference %s", refname) : 1;
	}
	rc = checks_resolve_version(r, refname, &run, &model, &version, why, e);
	if (rc < 0)
		err_prefix(e, "reference %s", refname);
	if (rc <= 0)
		goto done;
	buf_addf(label, "%s (%s v%lld, run %s)", refname, model, (long long)version, run);
	rc = store_run_output_digest(r->store, run, r->spec.components[d->dataset.comp].name, d->dataset.output, dig,
				     e);
	if (rc == 0)
		buf_addf(why, "run %s recorded no %s", run, d->dataset.text);
	if (rc <= 0)
		goto done;
	rc = store_dataset_stats_get(r->store, dig, sd, e);
	if (rc == 0)
		buf_addf(why, "no statistics stored for %s of run %s", d->dataset.text, run);
	if (rc <= 0)
		goto done;
	{
		char *p = artifact_path(r->home, sd);
		rc = p && stats_load(ref, p, e) == 0 ? 1 : -1;
		if (!p)
			err_set(e, MLCI_EINFRA, "bad statistics digest %s", sd);
		free(p);
	}
done:
	free(run);
	free(model);
	return rc;
}

/* The statistics of the dataset at "path", computed at most once per run: 0 ready in "cur", -1 not
 * computable (a failing data.stats verdict says why). "*ready" is 0 before, 1 computed, -1 failed. */
static int current_stats(struct run *r, const char *path, struct stats *cur, int *ready)
{
	const struct spec_check_data *d = &r->spec.checks.data;
	int64_t t0 = clock_wall_ms();
	struct err e = ERR_INIT;
	if (*ready)
		return *ready > 0 ? 0 : -1;
	if (stats_from_data_file(cur, path, NULL, 0, &e) < 0) {
		verdicts_add(&r->checks, "data.stats", "data", VERDICT_FAIL, NULL, t0, clock_wall_ms() - t0, "%s: %s",
			     d->dataset.text, err_msg(&e));
		err_release(&e);
		*ready = -1;
		return -1;
	}
	*ready = 1;
	return 0;
}

/* 1 when the statistics of dataset artifact "digest" are already stored (an earlier run of the same
 * data saved them), so this run need not compute and save them again. */
static int stats_stored(struct run *r, const char *digest)
{
	struct err e = ERR_INIT;
	char sd[65];
	char *p;
	int ok = 0;
	if (!r->store || !digest || store_dataset_stats_get(r->store, digest, sd, &e) != 1) {
		err_release(&e);
		return 0;
	}
	p = artifact_path(r->home, sd);
	ok = p && access(p, R_OK) == 0;
	free(p);
	return ok;
}

/* Drift of the dataset at "path" against the reference; its statistics ("cur", see current_stats) are
 * computed only when there is a reference to compare them with. */
static void data_drift(struct run *r, const char *path, struct stats *cur, int *ready, const char *display)
{
	const struct spec_check_data *d = &r->spec.checks.data;
	int64_t t0 = clock_wall_ms();
	struct stats ref;
	struct buf label = BUF_INIT, why = BUF_INIT, names = BUF_INIT;
	struct err e = ERR_INIT;
	struct drift_opts o;
	struct drift_report rep;
	const char *mname = d->drift_method ? d->drift_method : "auto";
	double share_limit = d->drift_threshold > 0 ? d->drift_threshold : 0.2;
	const char *on = d->on_drift ? d->on_drift : "fail";
	cJSON *det;
	int rc;

	memset(&ref, 0, sizeof(ref));
	memset(&rep, 0, sizeof(rep));
	rc = drift_reference(r, &ref, &label, &why, &e);
	if (rc < 0) {
		verdicts_add(&r->checks, "data.drift", "data", VERDICT_FAIL, NULL, t0, clock_wall_ms() - t0, "%s",
			     err_msg(&e));
		goto done;
	}
	if (rc == 0) {
		det = cJSON_CreateObject();
		cJSON_AddStringToObject(det, "reference", d->drift_reference ? d->drift_reference : "production");
		cJSON_AddStringToObject(det, "note", why.ptr);
		verdicts_add(&r->checks, "data.drift", "data", VERDICT_SKIPPED, det, t0, clock_wall_ms() - t0,
			     "no baseline: skipped (%s)", why.ptr);
		goto done;
	}
	if (current_stats(r, path, cur, ready) < 0)
		goto done;
	drift_opts_init(&o);
	if (!strcmp(mname, "jensen_shannon"))
		mname = "js";
	if (drift_method_parse(mname, &o.method) < 0)
		o.method = DRIFT_AUTO;
	if (drift_compute(&rep, &ref, cur, &o, &e) < 0) {
		verdicts_add(&r->checks, "data.drift", "data", VERDICT_FAIL, NULL, t0, clock_wall_ms() - t0, "%s",
			     err_msg(&e));
		goto done;
	}
	for (size_t i = 0; i < rep.n; i++) {
		const struct drift_feature *f = &rep.f[i];
		if (f->status == DRIFT_DRIFTED || f->status == DRIFT_MISSING || f->status == DRIFT_TYPE_CHANGED) {
			if (names.len < 300)
				buf_addf(&names, "%s%s %s %.3g", names.len ? ", " : "", f->name,
					 f->status == DRIFT_DRIFTED ? drift_method_name(f->method)
								    : drift_status_name(f->status),
					 f->score);
			else if (names.ptr[names.len - 1] != '.')
				buf_addstr(&names, ", ...");
		}
	}
	det = cJSON_CreateObject();
	cJSON_AddStringToObject(det, "reference", label.ptr);
	cJSON_AddStringToObject(det, "method", drift_method_name(o.method));
	cJSON_AddNumberToObject(det, "share", rep.share);
	cJSON_AddNumberToObject(det, "threshold", share_limit);
	cJSON_AddNumberToObject(det, "drifted", (double)rep.n_drifted);
	cJSON_AddNumberToObject(det, "tested", (double)rep.n_tested);
	cJSON_AddNumberToObject(det, "insufficient", (double)rep.n_insufficient);
	cJSON_AddStringToObject(det, "on_drift", on);
	if (rep.n_tested == 0) {
		cJSON_AddItemToObject(det, "report", drift_report_json(&rep));
		verdicts_add(&r->checks, "data.drift", "data", VERDICT_WARN, det, t0, clock_wall_ms() - t0,
			     "insufficient data: no feature has %d values in both %s and %s", DRIFT_MIN_ROWS, display,
			     label.ptr);
	} else if (rep.share >= share_limit && rep.n_drifted) {
		int retrain = !strcmp(on, "retrain");
		enum verdict_status vs = !strcmp(on, "fail") ? VERDICT_FAIL : VERDICT_WARN;
		cJSON_AddNumberToObject(det, "retrain", retrain);
		cJSON_AddItemToObject(det, "report", drift_report_json(&rep));
		verdicts_add(&r->checks, "data.drift", "data", vs, det, t0, clock_wall_ms() - t0,
			     "%zu/%zu features drifted vs %s (share %.3f >= %g): %s%s", rep.n_drifted, rep.n_tested,
			     label.ptr, rep.share, share_limit, names.ptr,
			     retrain ? "; on_drift: retrain (this run retrains)" : "");
	} else {
		cJSON_AddItemToObject(det, "report", drift_report_json(&rep));
		verdicts_add(&r->checks, "data.drift", "data", VERDICT_PASS, det, t0, clock_wall_ms() - t0,
			     "%zu/%zu features drifted vs %s (share %.3f < %g)%s%s", rep.n_drifted, rep.n_tested,
			     label.ptr, rep.share, share_limit, names.len ? ": " : "", names.ptr);
	}
done:
	drift_report_release(&rep);
	stats_release(&ref);
	buf_release(&label);
	buf_release(&why);
	buf_release(&names);
	err_release(&e);
}

void check_stage_data(struct run *r)
{
	const struct spec_check_data *d = &r->spec.checks.data;
	char *path = checks_ref_path(r, &d->dataset);
	const char *digest = checks_ref_digest(r, &d->dataset);
	struct stats cur;
	int ready = 0;

	if (d->schema)
		data_schema(r, path, d->dataset.text);
	memset(&cur, 0, sizeof(cur));
	/* the statistics are saved once per dataset digest: a re-run of the same data has them already */
	if (!stats_stored(r, digest) && current_stats(r, path, &cur, &ready) == 0 && r->store && digest)
		save_stats(r, &cur, digest);
	if (d->drift_present && ready >= 0)
		data_drift(r, path, &cur, &ready, d->dataset.text);
	stats_release(&cur);
	free(path);
}
