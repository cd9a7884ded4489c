/* apply.c - the one promotion transaction (cd/apply.h): lock, state commit, transitions, deploy, restore
 * on failure, candidate row. Every caller decides its gates first; this file must not decide gates,
 * and never prints. */
#include "cd/apply.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd/deploy.h"
#include "cd/lock.h"
#include "cd/policy.h"
#include "cd/reconcile.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "registry/store_gates.h"
#include "common/banned.h"

int64_t cd_now_ms(void)
{
	const char *v = getenv("MLCI_NOW");
	return v && *v ? (int64_t)policy_now() * 1000 : clock_wall_ms();
}

/* 1 when the registry knows (model, version): a transition row needs it. */
static int registered(struct store *st, const char *model, int64_t version, struct err *e)
{
	char *art = NULL, *run = NULL;
	int r = store_model_artifact(st, model, version, &art, &run, e);
	free(art);
	free(run);
	return r;
}

static int add_row(struct store *st, const char *model, int64_t version, const char *env, const char *from,
		   const char *to, const char *actor, const char *reason, const char *commit, int64_t time_ms,
		   struct err *e)
{
	struct store_transition t;
	int r = registered(st, model, version, e);
	if (r <= 0)
		return r; /* an unknown version has nothing to attach the row to */
	memset(&t, 0, sizeof(t));
	t.model = model;
	t.version = version;
	t.environment = env;
	t.from_stage = from;
	t.to_stage = to;
	t.actor = actor;
	t.reason = reason;
	t.state_commit = commit;
	t.time_ms = time_ms;
	return store_transition_add(st, &t, NULL, e);
}

int cd_transitions(struct store *st, const char *env, const struct env_state *before, const struct env_state *after,
		   const char *from_stage, int rolled_back, const char *actor, const char *reason, const char *commit,
		   int64_t time_ms, struct err *e)
{
	int same = before && after && before->model_version && after->model_version && before->model_name &&
		   after->model_name && before->model_version == after->model_version &&
		   !strcmp(before->model_name, after->model_name);
	if (after && after->model_version && after->model_name &&
	    add_row(st, after->model_name, after->model_version, env, from_stage, env, actor, reason, commit, time_ms,
		    e) < 0)
		return -1;
	if (before && before->model_version && before->model_name && !same) {
		struct buf why = BUF_INIT;
		int r;
		if (after && after->model_version)
			buf_addf(&why, "%s by %s@%lld", rolled_back ? "rolled back, replaced" : "replaced",
				 after->model_name ? after->model_name : "?", (long long)after->model_version);
		else
			buf_addf(&why, "%s", rolled_back ? "rolled back" : "removed");
		r = add_row(st, before->model_name, before->model_version, env, env,
			    rolled_back ? "rolled-back" : "replaced", actor, why.ptr, commit, time_ms, e);
		buf_release(&why);
		if (r < 0)
			return -1;
	}
	return 0;
}

static void when_now(char *out, size_t n)
{
	time_t now = policy_now();
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The promotions row of the candidate: close it or add it with "status". */
static int close_row(struct store *st, const struct cd_change *c, const char *status, const char *commit, struct err *e)
{
	char *evidence = NULL;
	int r = 0;
	if (c->state->gates.n) {
		cJSON *j = verdicts_to_json(&c->state->gates);
		evidence = cJSON_PrintUnformatted(j);
		cJSON_Delete(j);
	}
	if (c->promotion_id) {
		r = store_promotion_set(st, c->promotion_id, status, NULL, commit, evidence, e);
	} else if (c->row) {
		struct store_promotion p = *c->row;
		p.status = status;
		p.waiting_for = NULL;
		p.state_commit = commit;
		p.evidence = evidence;
		r = store_promotion_add(st, &p, NULL, e);
	}
	free(evidence);
	return r;
}

/* The state that replaces one whose deploy failed: a copy of "previous" (an empty state naming the
 * pipeline and environment when there was none) marked deploy_failed, so that mlci rollback never picks
 * the failed state. */
static void restore_state(struct env_state *out, const struct env_state *previous, const struct cd_change *c,
			  const char *failed_commit, const char *reason)
{
	if (previous) {
		env_state_copy(out, previous);
	} else {
		env_state_init(out);
		env_state_set(&out->environment, c->env->name);
		env_state_set(&out->pipeline, c->pipeline);
		env_state_set(&out->note, "emptied: the first deploy failed");
	}
	env_state_set(&out->failed_commit, failed_commit);
	env_state_set(&out->failed_reason, reason);
}

/* A hook failed after state commit "failed": commit the previous state back, record it, redeploy it. */
static int undo(struct cd_session *s, struct store *st, struct state_repo *sr, const struct cd_change *c,
		const struct env_state *previous, const struct err *de, struct promote_outcome *out, struct err *e)
{
	struct env_state restore;
	struct buf msg = BUF_INIT, why = BUF_INIT;
	struct err re = ERR_INIT;
	char back[41];
	const char *env = c->env->name;
	int64_t now = cd_now_ms();
	int ret = -1;

	restore_state(&restore, previous, c, out->state_commit, err_msg(de));
	if (c->state->run)
		buf_addf(&msg, "rollback %s: deploy of run %s failed\n\n%s\n", env, c->state->run, err_msg(de));
	else
		buf_addf(&msg, "rollback %s: deploy failed\n\n%s\n", env, err_msg(de));
	if (state_write(sr, c->pipeline, env, &restore, "mlci", msg.ptr, back, e) < 0)
		goto done;
	/* the previous version is back, the failed one leaves (rolled back) */
	if (previous && previous->model_version && previous->model_name) {
		buf_addf(&why, "restored: the deploy of %s@%lld failed",
			 c->state->model_name ? c->state->model_name : "-", (long long)c->state->model_version);
		if (add_row(st, previous->model_name, previous->model_version, env, NULL, env, "mlci", why.ptr, back,
			    now, e) < 0)
			goto done;
	}
	if (c->state->model_version && c->state->model_name &&
	    add_row(st, c->state->model_name, c->state->model_version, env, env, "rolled-back", "mlci", err_msg(de),
		    back, now, e) < 0)
		goto done;
	if (close_row(st, c, "failed", back, e) < 0)
		goto done;
	/* the previous state goes back onto the environment too, not only into the state repo */
	if (previous && deploy_hooks(s->home, c->env, previous, &re) < 0)
		promote_say(out, PROMOTE_FAILED,
			    "deploy to %s failed, rolled back (state %.12s): %s; redeploying the previous state failed "
			    "too: %s",
			    env, back, err_msg(de), err_msg(&re));
	else
		promote_say(out, PROMOTE_FAILED, "deploy to %s failed, rolled back (state %.12s)%s: %s", env, back,
			    previous ? " and redeployed the previous state" : "", err_msg(de));
	memcpy(out->state_commit, back, sizeof(back));
	ret = 0;
done:
	env_state_release(&restore);
	buf_release(&msg);
	buf_release(&why);
	err_release(&re);
	return ret;
}

int cd_apply(struct cd_session *s, const struct cd_change *c, struct promote_outcome *out, struct err *e)
{
	struct store *st;
	struct state_repo *sr;
	struct env_state previous;
	struct err de = ERR_INIT;
	const char *env = c->env->name;
	char when[32];
	int have_prev, ret = -1;

	env_state_init(&previous);
	if (cd_session_store(s, &st, e) < 0 || cd_session_state(s, 0, &sr, e) < 0)
		return -1;
	if (cd_reconcile(s, NULL, e) < 0)
		return err_prefix(e, "reconciling the registry with the state repo");
	if (cd_lock(st, c->pipeline, env, c->actor, e) < 0)
		return -1;
	/* read under the lock: someone may have promoted meanwhile */
	have_prev = state_read(sr, c->pipeline, env, &previous, NULL, e);
	if (have_prev < 0)
		goto done;
	if (c->same_detail && have_prev && env_state_same_deploy(&previous, c->state)) {
		if (c->promotion_id && store_promotion_set(st, c->promotion_id, "promoted", NULL, NULL, NULL, e) < 0)
			goto done;
		promote_say(out, PROMOTE_NONE, "%s", c->same_detail);
		ret = 0;
		goto done;
	}
	when_now(when, sizeof(when));
	env_state_set(&c->state->promoted_at, when);
	if (state_write(sr, c->pipeline, env, c->state, c->actor, c->message, out->state_commit, e) < 0)
		goto done;
	cd_crash_point("state-commit");
	if (cd_transitions(st, env, have_prev ? &previous : NULL, c->state, c->from_stage, c->rollback, c->actor,
			   c->reason, out->state_commit, cd_now_ms(), e) < 0)
		goto done;
	if (deploy_hooks(s->home, c->env, c->state, &de) < 0) {
		ret = undo(s, st, sr, c, have_prev ? &previous : NULL, &de, out, e);
		goto done;
	}
	if (close_row(st, c, "promoted", out->state_commit, e) < 0)
		goto done;
	promote_say(out, PROMOTE_DONE, "promoted to %s (state %.12s)", env, out->state_commit);
	ret = 0;
done:
	cd_unlock(st, c->pipeline, env);
	env_state_release(&previous);
	err_release(&de);
	return ret;
}
