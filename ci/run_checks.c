/* run_checks.c - the check engine of a run: decides when each check stage runs, finds its inputs and
 * baselines (production state -> model version -> run -> lineage -> dataset_stats), records verdicts.
 * The checks themselves are in checks/; this file must not print. */
#include "ci/run_checks.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* The environment whose current model is the baseline for `production`. */
#define PRODUCTION_ENV "production"

const struct verdict *run_checks_first_failure(const struct run *r)
{
	for (size_t i = 0; i < r->checks.n; i++)
		if (r->checks.items[i].status == VERDICT_FAIL)
			return &r->checks.items[i];
	return NULL;
}

/* ---------- inputs ---------- */

/* 1 ready, 0 waiting, -1 never (its component's run step did not pass); "why" gets the reason. */
static int ref_state(const struct run *r, const struct spec_ref *ref, struct buf *why)
{
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct run_step *s = &r->steps[i];
		if (s->phase != PHASE_RUN || s->comp != ref->comp)
			continue;
		switch (s->status) {
		case STEP_PASSED:
		case STEP_CACHED:
			return 1;
		case STEP_PENDING:
		case STEP_RUNNING:
			buf_addf(why, "%s%s not produced yet", why->len ? ", " : "", ref->text);
			return 0;
		default:
			buf_addf(why, "%s%s not produced (%s run %s)", why->len ? ", " : "", ref->text, s->component,
				 step_status_name(s->status));
			return -1;
		}
	}
	return -1;
}

static int refs_state(const struct run *r, const struct spec_ref *const *refs, size_t n, struct buf *why)
{
	int worst = 1;
	for (size_t i = 0; i < n; i++) {
		int st;
		if (!refs[i] || !refs[i]->text)
			continue;
		st = ref_state(r, refs[i], why);
		if (st < worst)
			worst = st;
	}
	return worst;
}

static char *ref_path(const struct run *r, const struct spec_ref *ref)
{
	char *dir = run_out_dir(r, ref->comp), *p = path_join(dir, ref->output);
	free(dir);
	return p;
}

static const char *ref_digest(const struct run *r, const struct spec_ref *ref)
{
	const struct run_comp *rc = &r->comps[ref->comp];
	for (size_t i = 0; i < rc->n_outputs; i++)
		if (!strcmp(rc->outputs[i].name, ref->output))
			return rc->outputs[i].digest;
	return NULL;
}

static cJSON *read_json_file(const char *path, struct buf *why)
{
	struct buf b = BUF_INIT;
	cJSON *j = NULL;
	b.max = 64 * 1024 * 1024;
	if (buf_read_file(&b, path) < 0)
		buf_addf(why, "could not read");
	else if (!(j = cJSON_ParseWithLength(b.ptr, b.len)))
		buf_addf(why, "not valid JSON");
	buf_release(&b);
	return j;
}

/* ---------- baselines ---------- */

/* The model in production for this pipeline, as whoever started the run says (struct run_baselines).
 * Returns 1 found, 0 none ("why" says why), -1 error. */
static int production_model(const struct run *r, char **run_out, char **model_out, int64_t *version, struct buf *why,
			    struct err *e)
{
	struct run_baseline b;
	int rc;
	if (!r->baselines || !r->baselines->env_model || !r->spec.pipeline) {
		buf_addf(why, "no model in " PRODUCTION_ENV);
		return 0;
	}
	memset(&b, 0, sizeof(b));
	rc = r->baselines->env_model(r->baselines->payload, r->spec.pipeline, PRODUCTION_ENV, &b, why, e);
	if (rc == 1) {
		*run_out = b.run;
		*model_out = b.model;
		*version = b.version;
		b.run = b.model = NULL;
	}
	run_baseline_release(&b);
	return rc;
}

/* "production", "MODEL@VERSION" or "VERSION" -> run, model, version. 1 found, 0 none (only for
 * production: nothing there yet), -1 error (also a named version that is not registered). */
static int resolve_version(const struct run *r, const char *ref, char **run_out, char **model_out, int64_t *version,
			   struct buf *why, struct err *e)
{
	const char *at = strchr(ref, '@');
	char *model, *end;
	long long v;
	int rc;
	if (!strcmp(ref, "production"))
		return production_model(r, run_out, model_out, version, why, e);
	model = at ? xstrndup(ref, (size_t)(at - ref)) : xstrdup(r->spec.model ? r->spec.model : "");
	v = strtoll(at ? at + 1 : ref, &end, 10);
	if (*end || v <= 0 || end == (at ? at + 1 : ref)) {
		free(model);
		return err_set(e, MLCI_EUSAGE, "'%s' is not production, MODEL@VERSION or VERSION", ref);
	}
	rc = store_model_version_get(r->store, model, (int64_t)v, run_out, NULL, e);
	if (rc == 0)
		rc = err_set(e, MLCI_EFAILED, "%s version %lld is not registered", model, v); /* named: an error */
	if (rc == 1) {
		*model_out = model;
		*version = (int64_t)v;
	} else {
		free(model);
	}
	return rc;
}

/* ---------- recording ---------- */

static void record(struct run *r, const struct run_observer *obs, size_t from)
{
	for (size_t i = from; i < r->checks.n; i++) {
		const struct verdict *v = &r->checks.items[i];
		struct err e = ERR_INIT;
		const cJSON *it;
		if (r->store) {
			if (store_check_put(r->store, r->id, v, &e) < 0) {
				log_warn("%s", err_msg(&e));
				err_clear(&e);
			}
			cJSON_ArrayForEach(it, v->details) {
				struct buf name = BUF_INIT;
				if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
					continue;
				buf_addf(&name, "check.%s.%s", v->name, it->string);
				if (store_metric_put(r->store, r->id, name.ptr, "", it->valuedouble, &e) < 0) {
					log_warn("%s", err_msg(&e));
					err_clear(&e);
				}
				buf_release(&name);
			}
		}
		err_release(&e);
		if (obs && obs->check_end)
			obs->check_end(obs->payload, r, v);
	}
}

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
	rc = resolve_version(r, refname, &run, &model, &version, why, e);
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

static void data_drift(struct run *r, const struct stats *cur, const char *display)
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

static void stage_data(struct run *r)
{
	const struct spec_check_data *d = &r->spec.checks.data;
	char *path = ref_path(r, &d->dataset);
	const char *digest = ref_digest(r, &d->dataset);
	struct stats cur;
	struct err e = ERR_INIT;
	int64_t t0 = clock_wall_ms();

	if (d->schema)
		data_schema(r, path, d->dataset.text);
	memset(&cur, 0, sizeof(cur));
	if (stats_from_data_file(&cur, path, NULL, 0, &e) < 0) {
		verdicts_add(&r->checks, "data.stats", "data", VERDICT_FAIL, NULL, t0, clock_wall_ms() - t0, "%s: %s",
			     d->dataset.text, err_msg(&e));
		goto done;
	}
	if (r->store && digest)
		save_stats(r, &cur, digest);
	if (d->drift_present)
		data_drift(r, &cur, d->dataset.text);
	stats_release(&cur);
done:
	err_release(&e);
	free(path);
}

/* ---------- training ---------- */

/* overfit_sample: run the command in the repository root; the last number it prints is the loss. */
static void training_overfit(struct run *r)
{
	const struct spec_check_training *t = &r->spec.checks.training;
	int64_t t0 = clock_wall_ms();
	struct proc_opts po;
	struct proc p;
	struct strvec env = STRVEC_INIT;
	struct buf out = BUF_INIT, logp = BUF_INIT, outdir = BUF_INIT;
	struct err e = ERR_INIT;
	double loss = 0;
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "command", t->overfit_run);
	cJSON_AddNumberToObject(d, "max_loss", t->overfit_max_loss);
	buf_addf(&logp, "%s/check-overfit.log", r->log_dir);
	buf_addf(&outdir, "%s/tmp/overfit", r->run_dir);
	/* the environment of the training component's run step, with a scratch $MLCI_OUT */
	step_env_of(r,
		    t->history.text ? t->history.comp
		    : t->n_no_nan   ? t->no_nan[0].comp
				    : 0,
		    PHASE_RUN, outdir.ptr, &env);
	fs_mkdir_p(outdir.ptr, 0755, NULL);
	memset(&po, 0, sizeof(po));
	po.cmd = t->overfit_run;
	po.env = env.v;
	po.cwd = r->workspace;
	po.log_path = logp.ptr;
	po.stream_fd = -1;
	po.timeout_ms = 10 * 60 * 1000;
	out.max = 16 * 1024 * 1024;
	po.capture = &out;
	if (proc_run(&p, &po, &e) < 0) {
		verdicts_add(&r->checks, "training.overfit_sample", "training", VERDICT_FAIL, d, t0,
			     clock_wall_ms() - t0, "could not run overfit_sample: %s", err_msg(&e));
		goto done;
	}
	if (p.exit_code != 0 || p.timed_out || p.term_signal) {
		verdicts_add(&r->checks, "training.overfit_sample", "training", VERDICT_FAIL, d, t0,
			     clock_wall_ms() - t0, "overfit_sample %s (log %s)",
			     p.timed_out     ? "timed out"
			     : p.term_signal ? "was killed"
					     : "exited non-zero",
			     logp.ptr);
		proc_release(&p);
		goto done;
	}
	proc_release(&p);
	if (!training_last_number(out.ptr ? out.ptr : "", &loss)) {
		verdicts_add(&r->checks, "training.overfit_sample", "training", VERDICT_FAIL, d, t0,
			     clock_wall_ms() - t0, "overfit_sample printed no final loss (log %s)", logp.ptr);
		goto done;
	}
	cJSON_AddNumberToObject(d, "loss", loss);
	if (loss < t->overfit_max_loss)
		verdicts_add(&r->checks, "training.overfit_sample", "training", VERDICT_PASS, d, t0,
			     clock_wall_ms() - t0, "overfit_sample loss %.4g < %g", loss, t->overfit_max_loss);
	else
		verdicts_add(&r->checks, "training.overfit_sample", "training", VERDICT_FAIL, d, t0,
			     clock_wall_ms() - t0, "overfit_sample loss %.4g >= %g (max_loss)", loss,
			     t->overfit_max_loss);
done:
	strvec_clear(&env);
	buf_release(&out);
	buf_release(&logp);
	buf_release(&outdir);
	err_release(&e);
}

static void stage_training(struct run *r)
{
	const struct spec_check_training *t = &r->spec.checks.training;
	if (t->converges == 1 && t->history.text) {
		char *p = ref_path(r, &t->history);
		training_check_converges(&r->checks, p, t->history.text, t->converges_window, t->converges_ratio);
		free(p);
	}
	if (t->overfit_run)
		training_overfit(r);
	if (t->n_no_nan) {
		char **paths = xcalloc(t->n_no_nan, sizeof(*paths));
		const char **disp = xcalloc(t->n_no_nan, sizeof(*disp));
		for (size_t i = 0; i < t->n_no_nan; i++) {
			paths[i] = ref_path(r, &t->no_nan[i]);
			disp[i] = t->no_nan[i].text;
		}
		training_check_no_nan(&r->checks, (const char *const *)paths, disp, t->n_no_nan);
		for (size_t i = 0; i < t->n_no_nan; i++)
			free(paths[i]);
		free(paths);
		free(disp);
	}
}

/* ---------- model ---------- */

static void stage_model(struct run *r)
{
	const struct spec_check_model *m = &r->spec.checks.model;
	char *mp = ref_path(r, &m->metrics);
	struct buf why = BUF_INIT;
	int64_t t0 = clock_wall_ms();
	cJSON *metrics = read_json_file(mp, &why);

	if (!cJSON_IsObject(metrics)) {
		verdicts_add(&r->checks, "model.metrics", "model", VERDICT_FAIL, NULL, t0, clock_wall_ms() - t0,
			     "%s: %s", m->metrics.text, why.len ? why.ptr : "not a JSON object");
		goto done;
	}
	if (m->n_thresholds)
		model_check_thresholds(&r->checks, m, metrics, m->metrics.text);
	if (m->baseline) {
		char *run = NULL, *model = NULL, *mj = NULL;
		int64_t version = 0;
		struct err e = ERR_INIT;
		struct buf label = BUF_INIT;
		int rc;
		buf_reset(&why);
		rc = resolve_version(r, m->baseline, &run, &model, &version, &why, &e);
		if (rc > 0) {
			rc = store_model_version_get(r->store, model, version, NULL, &mj, &e);
			if (rc == 0)
				buf_addf(&why, "%s version %lld is not registered", model, (long long)version);
		}
		if (rc < 0) {
			verdicts_add(&r->checks, "model.baseline", "model", VERDICT_FAIL, NULL, t0,
				     clock_wall_ms() - t0, "baseline %s: %s", m->baseline, err_msg(&e));
		} else if (rc == 0) {
			model_check_baseline(&r->checks, m, metrics, NULL, NULL, why.ptr);
		} else {
			cJSON *bm = cJSON_Parse(mj);
			if (!strcmp(m->baseline, "production"))
				buf_addf(&label, "production");
			else
				buf_addf(&label, "%s@%lld", model, (long long)version);
			model_check_baseline(&r->checks, m, metrics, cJSON_IsObject(bm) ? bm : NULL, label.ptr,
					     "the baseline version has no metrics");
			if (cJSON_IsObject(bm)) {
				cJSON *det = r->checks.items[r->checks.n - 1].details;
				cJSON_AddStringToObject(det, "baseline_model", model);
				cJSON_AddNumberToObject(det, "baseline_version", (double)version);
				cJSON_AddStringToObject(det, "baseline_run", run);
			}
			cJSON_Delete(bm);
		}
		buf_release(&label);
		free(run);
		free(model);
		free(mj);
		err_release(&e);
	}
	if (m->slices_metrics.text) {
		char *sp = ref_path(r, &m->slices_metrics);
		cJSON *slices;
		buf_reset(&why);
		slices = read_json_file(sp, &why);
		if (!slices)
			verdicts_add(&r->checks, "model.slices", "model", VERDICT_FAIL, NULL, t0, clock_wall_ms() - t0,
				     "%s: %s", m->slices_metrics.text, why.ptr);
		else
			model_check_slices(&r->checks, m, metrics, slices, m->slices_metrics.text);
		cJSON_Delete(slices);
		free(sp);
	}
done:
	cJSON_Delete(metrics);
	buf_release(&why);
	free(mp);
}

/* ---------- service ---------- */

static void service_progress(const char *check, void *payload)
{
	(void)check;
	(void)payload;
}

/* The service check's inputs: the whole commit tree (spec, serving code, contracts) and every step's
 * cache key (which fixes every output). Equal keys mean the same service built from the same model. */
static void service_reuse_key(const struct run *r, char out[SHA256_HEX_LEN + 1])
{
	struct sha256_ctx c;
	if (sha256_init(&c) < 0) {
		out[0] = '\0';
		return;
	}
	sha256_update_str(&c, "mlci service check v1");
	sha256_update_str(&c, MLCI_VERSION);
	sha256_update_str(&c, r->root_tree);
	for (size_t i = 0; i < r->n_steps; i++)
		sha256_update_str(&c, r->steps[i].key);
	sha256_final_hex(&c, out);
}

struct reuse_walk {
	struct run *r;
	const char *from;
};

static int reuse_one(void *payload, const struct store_check_row *row)
{
	struct reuse_walk *w = payload;
	cJSON *d;
	if (strcmp(row->kind, "service"))
		return 0;
	d = cJSON_Parse(row->details_json);
	if (!cJSON_IsObject(d)) {
		cJSON_Delete(d);
		d = NULL;
	}
	/* A verdict that was itself reused points at the run that really checked the service, and its
	 * summary already ends with that run's name: keep both instead of chaining "reused from" notes. */
	const char *origin = w->from;
	char suffix[160];
	size_t len = strlen(row->summary);
	const char *prev = json_str(d, "reused_from", NULL);
	if (prev)
		origin = prev;
	snprintf(suffix, sizeof(suffix), " (reused from run %s)", origin);
	if (len >= strlen(suffix) && !strcmp(row->summary + len - strlen(suffix), suffix))
		len -= strlen(suffix);
	if (d && !prev)
		cJSON_AddStringToObject(d, "reused_from", w->from);
	verdicts_add(&w->r->checks, row->name, "service", VERDICT_PASS, d, clock_wall_ms(), 0,
		     "%.*s (reused from run %s)", (int)len, row->summary, origin);
	return 0;
}

/* A fully cached run of the same commit tree reuses the passing service verdicts of the run that
 * produced them instead of starting the service and load-testing it again. 1 when reused. */
static int service_reuse(struct run *r, const char *key)
{
	char from[128];
	struct err e = ERR_INIT;
	struct reuse_walk w = { r, from };
	int rc;
	if (!r->store || !*key || !r->root_tree[0])
		return 0;
	for (size_t i = 0; i < r->n_steps; i++)
		if (r->steps[i].status != STEP_CACHED)
			return 0;
	rc = store_checks_find_reusable(r->store, "service.start", "service", key, from, sizeof(from), &e);
	if (rc == 1 && store_checks_each(r->store, from, reuse_one, &w, &e) < 0)
		rc = -1;
	if (rc < 0)
		log_warn("could not reuse the service verdicts: %s", err_msg(&e));
	err_release(&e);
	return rc == 1;
}

/* Start the prediction service from this run's outputs (every component's output directory as
 * $MLCI_IN_<NAME>, the repository checkout as cwd) and run protocol, contract, parity and load. Runs only
 * when every component passed or came from the cache and no model check failed. */
static void stage_service(struct run *r)
{
	const struct spec_check_service *svc = &r->spec.checks.service;
	struct service_ctx sc;
	struct step_env f;
	struct strvec env = STRVEC_INIT, secrets = STRVEC_INIT;
	struct buf logp = BUF_INIT;
	struct err e = ERR_INIT;
	char *contract = NULL, *pdata = NULL, *ppred = NULL;
	int64_t t0 = clock_wall_ms();
	char key[SHA256_HEX_LEN + 1];
	size_t first;

	for (size_t i = 0; i < r->n_steps; i++)
		if (r->steps[i].status != STEP_PASSED && r->steps[i].status != STEP_CACHED) {
			verdicts_add(&r->checks, "service", "service", VERDICT_SKIPPED, NULL, t0, 0,
				     "skipped: %s.%s did not pass", r->spec.components[r->steps[i].comp].name,
				     step_phase_name(r->steps[i].phase));
			return;
		}
	for (size_t i = 0; i < r->checks.n; i++)
		if (!strcmp(r->checks.items[i].kind, "model") && r->checks.items[i].status == VERDICT_FAIL) {
			verdicts_add(&r->checks, "service", "service", VERDICT_SKIPPED, NULL, t0, 0,
				     "skipped: the model check failed");
			return;
		}
	service_reuse_key(r, key);
	if (service_reuse(r, key))
		return;
	first = r->checks.n;
	/* the run's common environment, every component's outputs as $MLCI_IN_<NAME>, no $MLCI_OUT */
	memset(&f, 0, sizeof(f));
	f.spec = &r->spec;
	f.run_id = r->id;
	f.commit = r->commit.id;
	f.branch = r->commit.branch;
	f.workspace = r->workspace;
	f.component = "service";
	f.phase = "check";
	f.outputs_root = r->out_dir;
	f.all_inputs = 1;
	buf_addf(&logp, "%s/tmp", r->run_dir);
	f.tmpdir = logp.ptr;
	step_env_build(&f, &env);
	buf_reset(&logp);
	step_env_secrets(&r->spec, &secrets);
	buf_addf(&logp, "%s/check-service.log", r->log_dir);
	if (svc->contract)
		contract = path_join(r->workspace, svc->contract);
	if (svc->parity_present) {
		pdata = ref_path(r, &svc->parity_data);
		ppred = ref_path(r, &svc->parity_predictions);
	}
	memset(&sc, 0, sizeof(sc));
	sc.svc = svc;
	sc.cwd = r->workspace;
	sc.env = (const char *const *)env.v;
	sc.mask = (const char *const *)secrets.v;
	sc.log_path = logp.ptr;
	sc.model_name = r->spec.model ? r->spec.model : r->spec.pipeline;
	sc.contract_path = contract;
	sc.parity_data_path = pdata;
	sc.parity_predictions_path = ppred;
	sc.progress = service_progress;
	if (service_checks_run(&sc, &r->checks, &e) < 0)
		verdicts_add(&r->checks, "service", "service", VERDICT_FAIL, NULL, t0, clock_wall_ms() - t0,
			     "could not run the service check: %s", err_msg(&e));
	for (size_t i = first; *key && i < r->checks.n; i++)
		cJSON_AddStringToObject(r->checks.items[i].details, "reuse_key", key);
	strvec_clear(&env);
	strvec_clear(&secrets);
	buf_release(&logp);
	err_release(&e);
	free(contract);
	free(pdata);
	free(ppred);
}

/* ---------- the stages ---------- */

static int stage_present(const struct run *r, int stage)
{
	const struct spec_checks *k = &r->spec.checks;
	switch (stage) {
	case CHECK_STAGE_DATA:
		return k->data.present && k->data.dataset.text;
	case CHECK_STAGE_TRAINING:
		return k->training.present;
	case CHECK_STAGE_MODEL:
		return k->model.present && k->model.metrics.text;
	case CHECK_STAGE_INFRA:
		return k->infra.present;
	case CHECK_STAGE_SERVICE:
		return k->service.present;
	default:
		return 0;
	}
}

/* Infra is checked on the machine that will serve: the deploy target of the environment this run's
 * branch would be promoted to (as whoever started the run says) when it deploys over ssh, else here. */
static void stage_infra(struct run *r)
{
	const struct spec_check_infra *req = &r->spec.checks.infra;
	struct infra_found f;
	struct err e = ERR_INIT;
	char *ssh = NULL, *dir = NULL;

	if (r->commit.branch && r->baselines && r->baselines->deploy_target &&
	    r->baselines->deploy_target(r->baselines->payload, r->repo, r->commit.branch, &ssh, &dir, &e) < 0) {
		log_warn("could not tell where branch %s deploys (infra is probed here): %s", r->commit.branch,
			 err_msg(&e));
		err_clear(&e);
	}
	if (ssh) {
		if (infra_probe_remote(&f, req, ssh, dir, &e) == 0)
			infra_check(&r->checks, req, &f);
		else
			infra_check_unreachable(&r->checks, f.machine ? f.machine : ssh, err_msg(&e));
	} else {
		infra_probe(&f, req, r->home, getenv("PATH"));
		infra_check(&r->checks, req, &f);
	}
	infra_found_release(&f);
	err_release(&e);
	free(ssh);
	free(dir);
}

static const char *const stage_names[] = { "data", "training", "model", "infra", "service" };

/* 1 ready, 0 waiting, -1 never. Infra and service wait for the model stage (they come after it). */
static int stage_inputs(const struct run *r, int stage, struct buf *why)
{
	const struct spec_checks *k = &r->spec.checks;
	const struct spec_ref *refs[64];
	size_t n = 0;
	switch (stage) {
	case CHECK_STAGE_DATA:
		refs[n++] = &k->data.dataset;
		break;
	case CHECK_STAGE_TRAINING:
		refs[n++] = &k->training.history;
		for (size_t i = 0; i < k->training.n_no_nan && n < 64; i++)
			refs[n++] = &k->training.no_nan[i];
		break;
	case CHECK_STAGE_MODEL:
		refs[n++] = &k->model.metrics;
		refs[n++] = &k->model.slices_metrics;
		break;
	default:
		break;
	}
	return refs_state(r, refs, n, why);
}

int run_checks_advance(struct run *r, int final, const struct run_observer *obs)
{
	int data_failed = 0;
	while (r->check_stage < CHECK_STAGE_DONE) {
		int stage = r->check_stage, st;
		size_t before = r->checks.n;
		struct buf why = BUF_INIT;
		if (!stage_present(r, stage)) {
			r->check_stage++;
			continue;
		}
		if (stage == CHECK_STAGE_SERVICE && !final)
			break; /* the service starts from the finished pipeline's outputs */
		st = stage_inputs(r, stage, &why);
		if (st == 0 && !final) {
			buf_release(&why);
			break;
		}
		if (st != 1) {
			struct buf name = BUF_INIT;
			buf_addf(&name, "%s", stage_names[stage]);
			if (stage != CHECK_STAGE_SERVICE)
				verdicts_add(&r->checks, name.ptr, stage_names[stage], VERDICT_SKIPPED, NULL,
					     clock_wall_ms(), 0, "%s", why.len ? why.ptr : "inputs not produced");
			buf_release(&name);
		} else {
			switch (stage) {
			case CHECK_STAGE_DATA:
				stage_data(r);
				for (size_t i = before; i < r->checks.n; i++)
					data_failed |= r->checks.items[i].status == VERDICT_FAIL;
				break;
			case CHECK_STAGE_TRAINING:
				stage_training(r);
				break;
			case CHECK_STAGE_MODEL:
				stage_model(r);
				break;
			case CHECK_STAGE_INFRA:
				stage_infra(r);
				break;
			case CHECK_STAGE_SERVICE:
				stage_service(r);
				break;
			}
		}
		buf_release(&why);
		record(r, obs, before);
		r->check_stage++;
	}
	return data_failed;
}
