/* promote.c - the promotion rules after a run (DESIGN "Promotion"): auto for matching dev branches,
 * semi for main with enough distinct approvals, manual never from a run. One state commit per
 * promotion, a registry transition naming it, then the deploy hook; a failed deploy is rolled back. */
#include "cd/promote.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd/approvals.h"
#include "cd/deploy.h"
#include "cd/gates.h"
#include "cd/policy.h"
#include "cd/state.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "registry/store.h"
#include "registry/store_gates.h"
#include "registry/store_promotions.h"
#include "common/banned.h"

const char *promote_action_name(enum promote_action a)
{
	static const char *const names[] = { "none", "promoted", "pending", "failed" };
	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "unknown";
}

void promote_outcome_release(struct promote_outcome *o)
{
	free(o->environment);
	free(o->detail);
	memset(o, 0, sizeof(*o));
}

static void say(struct promote_outcome *o, enum promote_action a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct promote_outcome *o, enum promote_action a, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	o->action = a;
	free(o->detail);
	o->detail = buf_detach(&b, NULL);
}

static const char *rule_name(enum spec_promote p)
{
	return p == SPEC_PROMOTE_AUTO ? "auto" : p == SPEC_PROMOTE_SEMI ? "semi" : "manual";
}

/* The desired state of "env" for run "r". */
static cJSON *make_state(const struct run *r, const struct spec_environment *env, const char *actor,
			 const struct strvec *approvers)
{
	cJSON *s = cJSON_CreateObject(), *arts, *appr;
	char when[32];
	time_t now = policy_now();
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(s, "environment", env->name);
	cJSON_AddStringToObject(s, "pipeline", r->spec.pipeline);
	cJSON_AddStringToObject(s, "commit", r->commit.id);
	if (r->commit.branch)
		cJSON_AddStringToObject(s, "branch", r->commit.branch);
	cJSON_AddStringToObject(s, "run", r->id);
	if (r->model_version) {
		cJSON *m = cJSON_AddObjectToObject(s, "model");
		cJSON_AddStringToObject(m, "name", r->spec.model);
		cJSON_AddNumberToObject(m, "version", (double)r->model_version);
		cJSON_AddStringToObject(m, "artifact", r->model_digest);
	} else {
		cJSON_AddNullToObject(s, "model");
	}
	arts = cJSON_AddObjectToObject(s, "artifacts");
	for (size_t c = 0; r->comps && c < r->spec.n_components; c++)
		for (size_t i = 0; i < r->comps[c].n_outputs; i++) {
			struct buf k = BUF_INIT;
			buf_addf(&k, "%s/%s", r->spec.components[c].name, r->comps[c].outputs[i].name);
			cJSON_AddStringToObject(arts, k.ptr, r->comps[c].outputs[i].digest);
			buf_release(&k);
		}
	cJSON_AddStringToObject(s, "rule", rule_name(env->promote));
	cJSON_AddStringToObject(s, "promoted_by", actor);
	appr = cJSON_AddArrayToObject(s, "approvals");
	for (size_t i = 0; approvers && i < approvers->n; i++)
		cJSON_AddItemToArray(appr, cJSON_CreateString(approvers->v[i]));
	cJSON_AddStringToObject(s, "promoted_at", when);
	return s;
}

static int record_transition(struct run *r, const char *env, const char *to, const char *actor, const char *reason,
			     const char *state_commit, struct err *e)
{
	struct store_transition t;
	if (!r->model_version)
		return 0; /* nothing in the registry to move */
	memset(&t, 0, sizeof(t));
	t.model = r->spec.model;
	t.version = r->model_version;
	t.environment = env;
	t.to_stage = to;
	t.actor = actor;
	t.reason = reason;
	t.state_commit = state_commit;
	t.time_ms = store_now_ms();
	return store_transition_add(r->store, &t, NULL, e);
}

static int add_promotion(struct run *r, const struct spec_environment *env_spec, const char *status,
			 const char *waiting, const char *state_commit, struct err *e)
{
	struct store_promotion p;
	const char *env = env_spec->name;
	memset(&p, 0, sizeof(p));
	p.keep_pending = !policy_supersede(env_spec);
	p.pipeline = r->spec.pipeline;
	p.environment = env;
	p.model = r->model_version ? r->spec.model : NULL;
	p.version = r->model_version;
	p.run = r->id;
	p.commit_id = r->commit.id;
	p.branch = r->commit.branch;
	p.status = status;
	p.waiting_for = waiting;
	p.state_commit = state_commit;
	return store_promotion_add(r->store, &p, NULL, e);
}

/* Commit the state, record it, deploy; roll back (a new commit restoring the previous state) when the
 * deploy hook fails. */
static int do_promote(struct run *r, const struct spec_environment *env, const char *actor,
		      const struct strvec *approvers, const char *why, struct promote_outcome *out, struct err *e)
{
	struct state_repo sr;
	cJSON *state = NULL, *previous = NULL;
	struct buf msg = BUF_INIT;
	struct err de = ERR_INIT, re = ERR_INIT;
	int ret = -1;

	if (state_open(&sr, r->home, e) < 0 || state_sync(&sr, e) < 0) {
		state_close(&sr);
		return -1;
	}
	if (state_read(&sr, r->spec.pipeline, env->name, &previous, NULL, e) < 0)
		goto done;
	if (previous) {
		const cJSON *pc = cJSON_GetObjectItemCaseSensitive(previous, "commit");
		const cJSON *pm = cJSON_GetObjectItemCaseSensitive(previous, "model");
		const cJSON *pv = cJSON_IsObject(pm) ? cJSON_GetObjectItemCaseSensitive(pm, "version") : NULL;
		long long have = cJSON_IsNumber(pv) ? (long long)pv->valuedouble : 0;
		if (cJSON_IsString(pc) && !strcmp(pc->valuestring, r->commit.id) &&
		    have == (long long)r->model_version) {
			say(out, PROMOTE_NONE, "%s already runs commit %.12s%s: nothing to promote", env->name,
			    r->commit.id, r->model_version ? " with this model version" : "");
			ret = 0;
			goto done;
		}
	}
	state = make_state(r, env, actor, approvers);
	buf_addf(&msg, "promote %s to %s", r->spec.pipeline, env->name);
	if (r->model_version)
		buf_addf(&msg, ": %s@%lld", r->spec.model, (long long)r->model_version);
	buf_addf(&msg, "\n\nRule: %s (%s)\nRun: %s\nCommit: %s\n", rule_name(env->promote), why, r->id, r->commit.id);
	for (size_t i = 0; approvers && i < approvers->n; i++)
		buf_addf(&msg, "Approved-by: %s\n", approvers->v[i]);
	if (state_write(&sr, r->spec.pipeline, env->name, state, actor, msg.ptr, out->state_commit, e) < 0)
		goto done;
	cd_crash_point("state-commit");
	if (record_transition(r, env->name, env->name, actor, why, out->state_commit, e) < 0)
		goto done;

	if (deploy_hooks(r, env, state, &de) < 0) {
		/* the environment must not keep a state that failed to deploy */
		char back[41];
		cJSON *restore =
			deploy_restore_state(previous, r->spec.pipeline, env->name, out->state_commit, err_msg(&de));
		struct buf rmsg = BUF_INIT;
		buf_addf(&rmsg, "rollback %s: deploy of run %s failed\n\n%s\n", env->name, r->id, err_msg(&de));
		ret = state_write(&sr, r->spec.pipeline, env->name, restore, "mlci", rmsg.ptr, back, e);
		buf_release(&rmsg);
		cJSON_Delete(restore);
		if (ret < 0)
			goto done;
		if (record_transition(r, env->name, "rolled-back", "mlci", err_msg(&de), back, e) < 0 ||
		    add_promotion(r, env, "failed", NULL, back, e) < 0) {
			ret = -1;
			goto done;
		}
		/* the previous state goes back onto the environment too, not only into the state repo */
		if (previous && deploy_hooks_for_state(r->home, r->spec.pipeline, env, previous, &re) < 0)
			say(out, PROMOTE_FAILED,
			    "deploy to %s failed, rolled back (state %.12s): %s; redeploying the "
			    "previous state failed too: %s",
			    env->name, back, err_msg(&de), err_msg(&re));
		else
			say(out, PROMOTE_FAILED, "deploy to %s failed, rolled back (state %.12s)%s: %s", env->name,
			    back, previous ? " and redeployed the previous state" : "", err_msg(&de));
		memcpy(out->state_commit, back, sizeof(back));
		ret = 0;
		goto done;
	}
	if (add_promotion(r, env, "promoted", NULL, out->state_commit, e) < 0)
		goto done;
	say(out, PROMOTE_DONE, "promoted to %s (state %.12s, %s)%s", env->name, out->state_commit, why,
	    env->deploy_command || env->deploy_webhook || env->deploy_ssh ? ", deployed" : "");
	ret = 0;
done:
	err_release(&de);
	err_release(&re);
	cJSON_Delete(state);
	cJSON_Delete(previous);
	buf_release(&msg);
	state_close(&sr);
	return ret;
}

/* Why an auto/semi candidate must wait (pin, freeze), into "why"; 0 when it need not. */
static int held(struct run *r, const struct policy *pol, const struct spec_environment *env, struct buf *why,
		struct err *e)
{
	struct store_pin pin;
	time_t until;
	int h = store_pin_get(r->store, r->spec.pipeline, env->name, &pin, e);
	if (h < 0)
		return -1;
	if (h) {
		buf_addf(why, "%spinned by rollback %s (mlci unpin %s)", why->len ? ", " : "", pin.actor, env->name);
		store_pin_release(&pin);
		return 1;
	}
	if (policy_frozen(pol, env, policy_now(), &until)) {
		char w[32];
		struct tm tm;
		gmtime_r(&until, &tm);
		strftime(w, sizeof(w), "%Y-%m-%dT%H:%M:%SZ", &tm);
		buf_addf(why, "%sfreeze until %s", why->len ? ", " : "", w);
		return 1;
	}
	return 0;
}

/* The promotion itself under the environment's lock (one promotion per environment at a time). */
static int locked_promote(struct run *r, const struct spec_environment *env, const char *actor,
			  const struct strvec *approvers, const char *why, struct promote_outcome *out, struct err *e)
{
	int ret;
	if (cd_lock(r->store, r->spec.pipeline, env->name, actor, e) < 0)
		return -1;
	ret = do_promote(r, env, actor, approvers, why, out, e);
	cd_unlock(r->store, r->spec.pipeline, env->name);
	return ret;
}

int promote_after_run(struct run *r, const char *actor, struct promote_outcome *out, struct err *e)
{
	const struct spec_environment *env;
	struct strvec approvers = STRVEC_INIT;
	struct buf why = BUF_INIT, waiting = BUF_INIT;
	struct policy pol;
	int ret = 0, h;

	memset(out, 0, sizeof(*out));
	if (r->status != RUN_PASSED) {
		say(out, PROMOTE_NONE, "the run did not pass: nothing is promoted");
		return 0;
	}
	if (!r->commit.branch) {
		say(out, PROMOTE_NONE, "the run has no branch: nothing is promoted");
		return 0;
	}
	if (policy_load(&pol, r->home, r->policy, e) < 0)
		return -1;
	if (!pol.spec) {
		say(out, PROMOTE_NONE, "no promotion policy (no policy.yaml, no valid mlci.yaml on main)");
		goto done;
	}
	env = spec_environment_for_branch(pol.spec, r->commit.branch);
	if (!env) {
		say(out, PROMOTE_NONE, "branch %s matches no environment", r->commit.branch);
		goto done;
	}
	if (cd_reconcile(r->home, r->store, NULL, e) < 0) {
		ret = err_prefix(e, "reconciling the registry with the state repo");
		goto done;
	}
	out->environment = xstrdup(env->name);
	if (env->promote == SPEC_PROMOTE_MANUAL) {
		say(out, PROMOTE_NONE, "%s is promoted by hand (mlci promote)", env->name);
		goto done;
	}
	if (env->promote == SPEC_PROMOTE_SEMI) {
		approvals_from_trailers(r->commit.message, r->commit.author_name, r->commit.author_email, &approvers);
		if (r->model_version && r->model_digest &&
		    store_approvals_list(r->store, r->spec.pipeline, env->name, r->spec.model, r->model_version,
					 r->model_digest, &approvers, e) < 0) {
			ret = -1;
			goto done;
		}
		if ((int64_t)approvers.n < env->approvals)
			buf_addf(&waiting,
				 "approvals %zu/%lld (Reviewed-by: or Approved-by: trailers, or mlci approve; not the "
				 "author)",
				 approvers.n, (long long)env->approvals);
	}
	if ((h = held(r, &pol, env, &waiting, e)) < 0) {
		ret = -1;
		goto done;
	}
	if (waiting.len) {
		ret = add_promotion(r, env, "pending", waiting.ptr, NULL, e);
		say(out, PROMOTE_PENDING, "%s: pending, waiting for %s", env->name, waiting.ptr);
		goto done;
	}
	if (env->promote == SPEC_PROMOTE_AUTO) {
		buf_addf(&why, "auto: branch %s", r->commit.branch);
		ret = locked_promote(r, env, actor, NULL, why.ptr, out, e);
	} else {
		buf_addf(&why, "semi: branch %s, %zu approval%s", r->commit.branch, approvers.n,
			 approvers.n == 1 ? "" : "s");
		ret = locked_promote(r, env, actor, &approvers, why.ptr, out, e);
	}
done:
	policy_release(&pol);
	strvec_clear(&approvers);
	buf_release(&why);
	buf_release(&waiting);
	return ret;
}
