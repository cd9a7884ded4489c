/* check_service.c - the service stage of a run's checks: the prediction service started from the run's
 * outputs and checked (protocol, contract, parity, load), or the verdicts of an identical earlier run
 * reused. The checks are checks/service.c's; this file must not print. */
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
void check_stage_service(struct run *r)
{
	const struct spec_check_service *svc = &r->spec.checks.service;
	struct service_ctx sc;
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
	service_env_of(r, &env);
	step_env_secrets(&r->spec, &secrets);
	buf_addf(&logp, "%s/check-service.log", r->log_dir);
	if (svc->contract)
		contract = path_join(r->workspace, svc->contract);
	if (svc->parity_present) {
		pdata = checks_ref_path(r, &svc->parity_data);
		ppred = checks_ref_path(r, &svc->parity_predictions);
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
