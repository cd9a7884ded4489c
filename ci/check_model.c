/* check_model.c - the training and model stages of a run's checks: convergence, overfit sample and NaN
 * scan; thresholds, regression against a baseline version (production, MODEL@VERSION) and slices. It finds
 * inputs and baselines; the checks are checks/'s; it must not print. */
#include "ci/run_checks_int.h"

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

void check_stage_training(struct run *r)
{
	const struct spec_check_training *t = &r->spec.checks.training;
	if (t->converges == 1 && t->history.text) {
		char *p = checks_ref_path(r, &t->history);
		training_check_converges(&r->checks, p, t->history.text, t->converges_window, t->converges_ratio);
		free(p);
	}
	if (t->overfit_run)
		training_overfit(r);
	if (t->n_no_nan) {
		char **paths = xcalloc(t->n_no_nan, sizeof(*paths));
		const char **disp = xcalloc(t->n_no_nan, sizeof(*disp));
		for (size_t i = 0; i < t->n_no_nan; i++) {
			paths[i] = checks_ref_path(r, &t->no_nan[i]);
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

void check_stage_model(struct run *r)
{
	const struct spec_check_model *m = &r->spec.checks.model;
	char *mp = checks_ref_path(r, &m->metrics);
	struct buf why = BUF_INIT;
	int64_t t0 = clock_wall_ms();
	cJSON *metrics = checks_read_json_file(mp, &why);

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
		rc = checks_resolve_version(r, m->baseline, &run, &model, &version, &why, &e);
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
		char *sp = checks_ref_path(r, &m->slices_metrics);
		cJSON *slices;
		buf_reset(&why);
		slices = checks_read_json_file(sp, &why);
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
