/* release.c - the release of a held auto/semi candidate (cd/gates.h cd_release_pending): when what it
 * waited for (approvals, a pin, a freeze) is gone, the newest pending candidate goes through the one
 * promotion transaction. It must not print. */
#include "cd/gates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd/apply.h"
#include "cd/candidate.h"
#include "cd/gate_evidence.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "registry/store_gates.h"
#include "spec/freeze.h"
#include "common/banned.h"

/* Why the candidate is held (pin, freeze, rejection), into "why"; 0 when it is not. */
static int held(struct cd_cmd *c, const char *artifact, struct buf *why, struct err *e)
{
	struct store_pin pin;
	time_t until;
	int r = store_pin_get(c->st, c->pipeline, c->q->env, &pin, e);
	if (r < 0)
		return -1;
	if (r) {
		buf_addf(why, "pinned by rollback %s (mlci unpin %s)", pin.actor, c->q->env);
		store_pin_release(&pin);
		return 1;
	}
	if (policy_frozen(c->pol, c->env, policy_now(), &until)) {
		char w[32];
		freeze_format_time(until, w, sizeof(w));
		buf_addf(why, "freeze until %s", w);
		return 1;
	}
	return cd_rejected(c->st, c->pipeline, c->q->env, artifact, why, e);
}

int cd_release_pending(struct cd_cmd *c, int64_t version, struct promote_outcome *out, struct err *e)
{
	const char *env = c->q->env;
	const char *rule = c->env->promote == SPEC_PROMOTE_AUTO ? "auto" : "semi";
	struct cd_pending f;
	struct buf why = BUF_INIT, msg = BUF_INIT, same = BUF_INIT;
	struct strvec appr = STRVEC_INIT;
	struct env_state state;
	struct ws_commit wc;
	int ret = -1, h, r;

	env_state_init(&state);
	memset(&wc, 0, sizeof(wc));
	r = cd_pending_find(c->st, c->pipeline, env, version, &f, e);
	if (r < 0)
		return -1;
	if (!r) {
		promote_say(out, PROMOTE_NONE, "%s: no candidate is waiting", env);
		return 0;
	}
	out->environment = xstrdup(env);
	if (cd_state_from_row(&state, c->st, &f.p, e) < 0)
		goto done;
	if ((h = held(c, state.model_artifact, &why, e)) < 0)
		goto done;
	if (h) {
		if (store_promotion_set(c->st, f.p.id, "pending", why.ptr, NULL, NULL, e) < 0)
			goto done;
		promote_say(out, PROMOTE_PENDING, "%s: %s@%lld still pending, waiting for %s", env,
			    f.model ? f.model : "-", (long long)f.p.version, why.ptr);
		ret = 0;
		goto done;
	}
	if (c->env->promote == SPEC_PROMOTE_SEMI)
		cd_commit_facts(&c->s, f.commit, &wc);
	if (cd_candidate_approvals(c->st, c->env, c->pipeline, f.model, f.p.version, state.model_artifact, wc.message,
				   wc.author_name, wc.author_email, &appr, e) < 0)
		goto done;
	if (c->env->promote == SPEC_PROMOTE_SEMI && (int64_t)appr.n < c->env->approvals) {
		buf_addf(&why, "approvals %zu/%lld", appr.n, (long long)c->env->approvals);
		if (store_promotion_set(c->st, f.p.id, "pending", why.ptr, NULL, NULL, e) < 0)
			goto done;
		promote_say(out, PROMOTE_PENDING, "%s: pending, waiting for %s", env, why.ptr);
		ret = 0;
		goto done;
	}
	cd_state_stamp(&state, env, rule, c->q->actor, &appr, c->q->reason);
	if (cd_evidence_from_store(&state.gates, c->st, f.run, e) < 0)
		goto done;
	if (c->env->promote == SPEC_PROMOTE_SEMI)
		cd_evidence_approvals(&state.gates, c->env, &appr);
	buf_addf(&msg, "promote %s to %s", c->pipeline, env);
	if (f.model)
		buf_addf(&msg, ": %s@%lld", f.model, (long long)f.p.version);
	buf_addf(&msg, "\n\nRule: %s (held candidate released)\nRun: %s\nCommit: %s\n", rule, f.run, f.commit);
	for (size_t i = 0; i < appr.n; i++)
		buf_addf(&msg, "Approved-by: %s\n", appr.v[i]);
	cd_evidence_message(&state.gates, &msg);
	/* already there (a crash after the state commit, before this row was updated): close the row */
	buf_addf(&same, "%s already runs commit %.12s: nothing to release", env, f.commit);
	{
		struct cd_change ch;
		memset(&ch, 0, sizeof(ch));
		ch.env = c->env;
		ch.pipeline = c->pipeline;
		ch.state = &state;
		ch.actor = c->q->actor;
		ch.message = msg.ptr;
		ch.reason = "held candidate released";
		ch.promotion_id = f.p.id;
		ch.same_detail = same.ptr;
		if (cd_apply(&c->s, &ch, out, e) < 0)
			goto done;
	}
	if (out->action == PROMOTE_DONE)
		promote_say(out, PROMOTE_DONE, "released: %s@%lld promoted to %s (state %.12s)",
			    f.model ? f.model : "-", (long long)f.p.version, env, out->state_commit);
	ret = 0;
done:
	env_state_release(&state);
	ws_commit_release(&wc);
	strvec_clear(&appr);
	buf_release(&why);
	buf_release(&msg);
	buf_release(&same);
	cd_pending_release(&f);
	return ret;
}
