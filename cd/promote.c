/* promote.c - the promotion rules right after a run (DESIGN "Promotion"): auto for matching dev branches,
 * semi for main with enough distinct approvals, manual never from a run. Pins, freezes and rejections
 * hold a candidate as pending; otherwise cd_apply does the one transaction. It must not print. */
#include "cd/promote.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd/apply.h"
#include "cd/candidate.h"
#include "cd/deploy.h"
#include "cd/gate_evidence.h"
#include "cd/reconcile.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "registry/store_gates.h"
#include "registry/store_promotions.h"
#include "spec/freeze.h"
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

void promote_say(struct promote_outcome *o, enum promote_action a, const char *fmt, ...)
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

/* Why an auto/semi candidate must wait (pin, freeze, rejection), appended to "why"; 1 when it must. */
static int held(struct store *st, const struct policy *pol, const struct run_record *rec,
		const struct spec_environment *env, struct buf *why, struct err *e)
{
	struct store_pin pin;
	time_t until;
	int h = store_pin_get(st, rec->pipeline, env->name, &pin, e), any = 0;
	if (h < 0)
		return -1;
	if (h) {
		buf_addf(why, "%spinned by rollback %s (mlci unpin %s)", why->len ? ", " : "", pin.actor, env->name);
		store_pin_release(&pin);
		any = 1;
	}
	if (!any && policy_frozen(pol, env, policy_now(), &until)) {
		char w[32];
		freeze_format_time(until, w, sizeof(w));
		buf_addf(why, "%sfreeze until %s", why->len ? ", " : "", w);
		any = 1;
	}
	return any;
}

static void candidate_row(struct store_promotion *p, const struct run_record *rec, const struct spec_environment *env,
			  const char *status, const char *waiting)
{
	memset(p, 0, sizeof(*p));
	p->keep_pending = !policy_supersede(env);
	p->pipeline = rec->pipeline;
	p->environment = env->name;
	p->model = rec->model_version ? rec->model : NULL;
	p->version = rec->model_version;
	p->run = rec->id;
	p->commit_id = rec->commit;
	p->branch = rec->branch;
	p->status = status;
	p->waiting_for = waiting;
}

/* The environment the run's branch promotes to, from the trusted policy: 1 with *env_out, 0 when nothing
 * applies (out says why), -1 on error. */
static int environment_of(struct cd_session *s, const struct run_record *rec, const struct policy **pol,
			  const struct spec_environment **env_out, struct promote_outcome *out, struct err *e)
{
	if (rec->status != RUN_PASSED) {
		promote_say(out, PROMOTE_NONE, "the run did not pass: nothing is promoted");
		return 0;
	}
	if (!rec->branch) {
		promote_say(out, PROMOTE_NONE, "the run has no branch: nothing is promoted");
		return 0;
	}
	if (cd_session_policy(s, pol, e) < 0)
		return -1;
	if (!(*pol)->spec) {
		promote_say(out, PROMOTE_NONE, "no promotion policy (no policy.yaml, no valid mlci.yaml on main)");
		return 0;
	}
	*env_out = spec_environment_for_branch((*pol)->spec, rec->branch);
	if (!*env_out) {
		promote_say(out, PROMOTE_NONE, "branch %s matches no environment", rec->branch);
		return 0;
	}
	out->environment = xstrdup((*env_out)->name);
	if ((*env_out)->promote == SPEC_PROMOTE_MANUAL) {
		promote_say(out, PROMOTE_NONE, "%s is promoted by hand (mlci promote)", (*env_out)->name);
		return 0;
	}
	return 1;
}

/* What the candidate waits for (approvals, pin, freeze) into "waiting"; 1 when its digest was rejected
 * (out says so), 0 otherwise, -1 on error. */
static int gates_of(struct store *st, const struct policy *pol, const struct run_record *rec,
		    const struct spec_environment *env, struct strvec *approvers, struct buf *waiting,
		    struct promote_outcome *out, struct err *e)
{
	struct buf why = BUF_INIT;
	int r;
	if (env->promote == SPEC_PROMOTE_SEMI) {
		if (cd_candidate_approvals(st, env, rec->pipeline, rec->model, rec->model_version,
					   rec->model_digest[0] ? rec->model_digest : NULL, rec->message,
					   rec->author_name, rec->author_email, approvers, e) < 0)
			return -1;
		if ((int64_t)approvers->n < env->approvals)
			buf_addf(waiting,
				 "approvals %zu/%lld (Reviewed-by: or Approved-by: trailers, or mlci approve; not the "
				 "author)",
				 approvers->n, (long long)env->approvals);
	}
	if (held(st, pol, rec, env, waiting, e) < 0)
		return -1;
	r = cd_rejected(st, rec->pipeline, env->name, rec->model_digest, &why, e);
	if (r > 0)
		promote_say(out, PROMOTE_NONE, "%s: not promoted, %s@%lld (artifact %.12s) was %s", env->name,
			    rec->model ? rec->model : "-", (long long)rec->model_version, rec->model_digest, why.ptr);
	buf_release(&why);
	return r;
}

/* Every gate passed: the record's state with its evidence through the one transaction. */
static int promote_run(struct cd_session *s, const struct run_record *rec, const struct spec_environment *env,
		       const struct strvec *approvers, const char *actor, struct promote_outcome *out, struct err *e)
{
	struct buf why = BUF_INIT, msg = BUF_INIT, same = BUF_INIT;
	struct store_promotion row;
	struct env_state state;
	struct cd_change c;
	int semi = env->promote == SPEC_PROMOTE_SEMI, ret;

	if (semi)
		buf_addf(&why, "semi: branch %s, %zu approval%s", rec->branch, approvers->n,
			 approvers->n == 1 ? "" : "s");
	else
		buf_addf(&why, "auto: branch %s", rec->branch);
	cd_state_from_record(&state, rec, env->name);
	cd_state_stamp(&state, env->name, rule_name(env->promote), actor, semi ? approvers : NULL, NULL);
	cd_evidence_from_run(&state.gates, rec);
	if (semi)
		cd_evidence_approvals(&state.gates, env, approvers);
	buf_addf(&msg, "promote %s to %s", rec->pipeline, env->name);
	if (rec->model_version)
		buf_addf(&msg, ": %s@%lld", rec->model, (long long)rec->model_version);
	buf_addf(&msg, "\n\nRule: %s (%s)\nRun: %s\nCommit: %s\n", rule_name(env->promote), why.ptr, rec->id,
		 rec->commit);
	for (size_t i = 0; semi && i < approvers->n; i++)
		buf_addf(&msg, "Approved-by: %s\n", approvers->v[i]);
	cd_evidence_message(&state.gates, &msg);
	buf_addf(&same, "%s already runs commit %.12s%s: nothing to promote", env->name, rec->commit,
		 rec->model_version ? " with this model version" : "");
	candidate_row(&row, rec, env, "promoted", NULL);
	memset(&c, 0, sizeof(c));
	c.env = env;
	c.pipeline = rec->pipeline;
	c.state = &state;
	c.actor = actor;
	c.message = msg.ptr;
	c.reason = why.ptr;
	c.row = &row;
	c.same_detail = same.ptr;
	ret = cd_apply(s, &c, out, e);
	if (!ret && out->action == PROMOTE_DONE)
		promote_say(out, PROMOTE_DONE, "promoted to %s (state %.12s, %s)%s", env->name, out->state_commit,
			    why.ptr, env->deploy_command || env->deploy_webhook || env->deploy_ssh ? ", deployed" : "");
	env_state_release(&state);
	buf_release(&why);
	buf_release(&msg);
	buf_release(&same);
	return ret;
}

int promote_after_run(struct cd_session *s, const struct run_record *rec, const char *actor,
		      struct promote_outcome *out, struct err *e)
{
	const struct spec_environment *env = NULL;
	const struct policy *pol = NULL;
	struct store *st;
	struct strvec approvers = STRVEC_INIT;
	struct buf waiting = BUF_INIT;
	struct store_promotion row;
	int ret, r;

	memset(out, 0, sizeof(*out));
	r = environment_of(s, rec, &pol, &env, out, e);
	if (r <= 0)
		return r;
	if (cd_session_store(s, &st, e) < 0)
		return -1;
	if (cd_reconcile(s, NULL, e) < 0)
		return err_prefix(e, "reconciling the registry with the state repo");
	r = gates_of(st, pol, rec, env, &approvers, &waiting, out, e);
	if (r != 0) {
		ret = r < 0 ? -1 : 0; /* rejected: said in "out" */
	} else if (waiting.len) {
		candidate_row(&row, rec, env, "pending", waiting.ptr);
		ret = store_promotion_add(st, &row, NULL, e);
		promote_say(out, PROMOTE_PENDING, "%s: pending, waiting for %s", env->name, waiting.ptr);
	} else {
		ret = promote_run(s, rec, env, &approvers, actor, out, e);
	}
	strvec_clear(&approvers);
	buf_release(&waiting);
	return ret;
}
