/* run_checks.c - the check engine of a run: decides when each check stage runs, finds its inputs and
 * baselines (production state -> model version -> run -> lineage -> dataset_stats), records verdicts.
 * The checks themselves are in checks/; this file must not print. */
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

char *checks_ref_path(const struct run *r, const struct spec_ref *ref)
{
	char *dir = run_out_dir(r, ref->comp), *p = path_join(dir, ref->output);
	free(dir);
	return p;
}

const char *checks_ref_digest(const struct run *r, const struct spec_ref *ref)
{
	const struct run_comp *rc = &r->comps[ref->comp];
	for (size_t i = 0; i < rc->n_outputs; i++)
		if (!strcmp(rc->outputs[i].name, ref->output))
			return rc->outputs[i].digest;
	return NULL;
}

cJSON *checks_read_json_file(const char *path, struct buf *why)
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
int checks_resolve_version(const struct run *r, const char *ref, char **run_out, char **model_out, int64_t *version,
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
				check_stage_data(r);
				for (size_t i = before; i < r->checks.n; i++)
					data_failed |= r->checks.items[i].status == VERDICT_FAIL;
				break;
			case CHECK_STAGE_TRAINING:
				check_stage_training(r);
				break;
			case CHECK_STAGE_MODEL:
				check_stage_model(r);
				break;
			case CHECK_STAGE_INFRA:
				stage_infra(r);
				break;
			case CHECK_STAGE_SERVICE:
				check_stage_service(r);
				break;
			}
		}
		buf_release(&why);
		record(r, obs, before);
		r->check_stage++;
	}
	return data_failed;
}
