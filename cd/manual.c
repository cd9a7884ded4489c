/* manual.c - `mlci promote` to a manual environment (docs/promotion.md "The rules"): every gate evaluated
 * (manual_gates.c, champion.c) and recorded as evidence, the decision (refused, pending, promoted),
 * --dry-run (with manual_diff.c), --override, then the one promotion transaction. It must not print. */
#include "cd/manual_int.h"

#include <cjson/cJSON.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd/apply.h"
#include "cd/candidate.h"
#include "cd/champion.h"
#include "cd/gate_evidence.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/json.h"
#include "registry/store_gates.h"
#include "registry/store_stats.h"
#include "spec/freeze.h"
#include "common/banned.h"

/* ---------- the candidate row ---------- */

static int candidate_row(struct cd_cmd *c, const struct env_state *cand, const char *status, const char *waiting,
			 const char *evidence, struct err *e)
{
	struct store_promotion p;
	struct cd_pending f;
	int r;
	memset(&p, 0, sizeof(p));
	p.pipeline = c->pipeline;
	p.environment = c->q->env;
	p.version = cand->model_version;
	p.model = cand->model_name;
	p.run = cand->run ? cand->run : "";
	p.commit_id = cand->commit ? cand->commit : "";
	p.branch = cand->branch;
	p.status = status;
	p.waiting_for = waiting;
	p.evidence = evidence;
	p.keep_pending = !policy_supersede(c->env);
	/* the same candidate asked again: update its row rather than add another */
	r = cd_pending_find(c->st, c->pipeline, c->q->env, 0, &f, e);
	if (r < 0)
		return -1;
	if (r && f.p.version == p.version && !strcmp(f.commit, p.commit_id)) {
		r = store_promotion_set(c->st, f.p.id, status, waiting, NULL, evidence, e);
		cd_pending_release(&f);
		return r;
	}
	cd_pending_release(&f);
	return store_promotion_add(c->st, &p, NULL, e);
}

/* What one mlci promote works on: the candidate (the state of "from"), what the environment runs, the
 * candidate's approvals and when it entered "from". */
struct manual {
	struct env_state cand, cur;
	int have_cur;
	struct strvec appr;
	struct manual_entry en;
};

static void manual_release(struct manual *m)
{
	env_state_release(&m->cand);
	env_state_release(&m->cur);
	strvec_clear(&m->appr);
	free(m->en.run);
}

/* Every gate after the candidate was found, into res->gates, and the diff into "res". */
static int evaluate(struct cd_cmd *c, struct manual *m, struct cd_result *res, struct err *e)
{
	const struct spec_environment *env = c->env;
	int err = 0;
	m->have_cur = state_read(c->sr, c->pipeline, c->q->env, &m->cur, NULL, e);
	if (m->have_cur < 0)
		return -1;
	/* when the candidate entered "from": its runs there and its soak time count from then */
	m->en.cand = &m->cand;
	if (state_log(c->sr, c->pipeline, env->from, manual_walk_entry, &m->en, e) < 0)
		return -1;
	manual_gate_min_runs(c, &m->cand, &m->en, policy_env(c->pol, env->from), &res->gates, e, &err);
	if (err)
		return -1;
	manual_gate_soak(c, &m->en, &res->gates);
	if (manual_gate_pin(c, &res->gates, e) < 0 || manual_gate_rejection(c, &m->cand, &res->gates, e) < 0)
		return -1;
	if (env->champion.present && cd_champion_gate(c, m->have_cur ? &m->cur : NULL, &m->cand, &res->gates, e) < 0)
		return -1;
	if (cd_candidate_approvals(c->st, env, c->pipeline, m->cand.model_name, m->cand.model_version,
				   m->cand.model_artifact, NULL, NULL, NULL, &m->appr, e) < 0)
		return -1;
	if (env->approvals)
		cd_evidence_approvals(&res->gates, env, &m->appr);
	manual_gate_freeze(c, &res->gates);
	if (cd_evidence_from_store(&res->gates, c->st, m->cand.run, e) < 0)
		return -1;
	return manual_diff(c, &m->cur, m->have_cur, &m->cand, res, e);
}

/* The first failing gate that refuses (NULL: none), and what the pending ones wait for; the overridden
 * gate is marked in its details and passed over. */
static const struct verdict *decide(const struct cd_request *q, struct cd_result *res, struct buf *waiting)
{
	const struct verdict *refusal = NULL;
	for (size_t i = 0; i < res->gates.n; i++) {
		struct verdict *v = &res->gates.items[i];
		if (v->status != VERDICT_FAIL || strcmp(v->kind, "gate"))
			continue;
		if (q->override_gate && !strcmp(v->name, q->override_gate)) {
			cJSON_AddStringToObject(v->details, "overridden_by", q->actor);
			cJSON_AddStringToObject(v->details, "override_reason", q->reason);
			continue;
		}
		if (manual_pending_gate(v->name))
			buf_addf(waiting, "%s%s", waiting->len ? ", " : "", v->summary);
		else if (!refusal)
			refusal = v;
	}
	res->would_pass = !refusal && !waiting->len;
	return refusal;
}

/* The state commit's message: the rule, reason, override, run, approvals and every gate. */
static void message(struct cd_cmd *c, const struct manual *m, const struct cd_result *res, struct buf *msg)
{
	const struct cd_request *q = c->q;
	int counted = 0;
	for (size_t i = 0; i < res->gates.n; i++)
		if (!strcmp(res->gates.items[i].name, "min_staging_runs"))
			counted = json_int(res->gates.items[i].details, "counted", 0);
	buf_addf(msg, "promote %s to %s: %s@%lld\n\nRule: manual (from %s, %d passed run%s there)\n", c->pipeline,
		 q->env, m->cand.model_name, (long long)m->cand.model_version, c->env->from, counted,
		 counted == 1 ? "" : "s");
	if (q->reason)
		buf_addf(msg, "Reason: %s\n", q->reason);
	if (q->override_gate)
		buf_addf(msg, "Override: %s by %s\n", q->override_gate, q->actor);
	buf_addf(msg, "Run: %s\nCommit: %s\nPromoted-by: %s\n", m->cand.run ? m->cand.run : "-",
		 m->cand.commit ? m->cand.commit : "-", q->actor);
	for (size_t i = 0; i < m->appr.n; i++)
		buf_addf(msg, "Approved-by: %s\n", m->appr.v[i]);
	cd_evidence_message(&res->gates, msg);
}

/* Every gate passed (or was overridden): the state with its evidence through the one transaction. */
static int promote_now(struct cd_cmd *c, struct manual *m, struct cd_result *res, struct err *e)
{
	const struct cd_request *q = c->q;
	struct promote_outcome *out = &res->out;
	struct env_state state;
	struct buf msg = BUF_INIT, same = BUF_INIT, reason = BUF_INIT;
	struct store_promotion row;
	struct cd_pending f;
	struct cd_change ch;
	int64_t id = 0;
	int ret = -1, r;

	env_state_copy(&state, &m->cand);
	cd_state_stamp(&state, q->env, "manual", q->actor, &m->appr, q->reason);
	for (size_t i = 0; i < res->gates.n; i++) {
		const struct verdict *v = &res->gates.items[i];
		verdicts_add(&state.gates, v->name, v->kind, v->status, cJSON_Duplicate(v->details, 1), v->started_ms,
			     v->duration_ms, "%s", v->summary);
	}
	if (q->override_gate) {
		env_state_set(&state.override_gate, q->override_gate);
		env_state_set(&state.override_by, q->actor);
		env_state_set(&state.override_reason, q->reason);
		buf_addf(&reason, "override %s by %s: %s", q->override_gate, q->actor, q->reason);
	} else {
		buf_addstr(&reason, q->reason ? q->reason : "manual promotion");
	}
	message(c, m, res, &msg);
	buf_addf(&same, "%s already runs %s@%lld: nothing to promote", q->env, m->cand.model_name,
		 (long long)m->cand.model_version);
	/* a pending row of this very candidate is closed; otherwise a new row says what happened */
	r = cd_pending_find(c->st, c->pipeline, q->env, m->cand.model_version, &f, e);
	if (r < 0)
		goto done;
	if (r && !strcmp(f.commit, m->cand.commit ? m->cand.commit : ""))
		id = f.p.id;
	cd_pending_release(&f);
	memset(&row, 0, sizeof(row));
	row.pipeline = c->pipeline;
	row.environment = q->env;
	row.model = m->cand.model_name;
	row.version = m->cand.model_version;
	row.run = m->cand.run ? m->cand.run : "";
	row.commit_id = m->cand.commit ? m->cand.commit : "";
	row.branch = m->cand.branch;
	row.keep_pending = !policy_supersede(c->env);
	memset(&ch, 0, sizeof(ch));
	ch.env = c->env;
	ch.pipeline = c->pipeline;
	ch.state = &state;
	ch.actor = q->actor;
	ch.message = msg.ptr;
	ch.reason = reason.ptr;
	ch.from_stage = c->env->from;
	ch.promotion_id = id;
	ch.row = id ? NULL : &row;
	ch.same_detail = same.ptr;
	if (cd_apply(&c->s, &ch, out, e) < 0)
		goto done;
	if (out->action == PROMOTE_DONE) {
		struct buf by = BUF_INIT;
		for (size_t k = 0; k < m->appr.n; k++)
			buf_addf(&by, "%s%s", k ? ", " : ", approved by ", m->appr.v[k]);
		promote_say(out, PROMOTE_DONE, "promoted %s@%lld to %s (state %.12s, by %s%s%s%s)", m->cand.model_name,
			    (long long)m->cand.model_version, q->env, out->state_commit, q->actor, by.len ? by.ptr : "",
			    q->override_gate ? ", overriding " : "", q->override_gate ? q->override_gate : "");
		buf_release(&by);
	}
	ret = 0;
done:
	env_state_release(&state);
	buf_release(&msg);
	buf_release(&same);
	buf_release(&reason);
	return ret;
}

int cd_promote_manual(struct cd_cmd *c, struct cd_result *res, struct err *e);
int cd_promote_manual(struct cd_cmd *c, struct cd_result *res, struct err *e)
{
	const struct cd_request *q = c->q;
	struct promote_outcome *out = &res->out;
	struct manual m;
	struct buf waiting = BUF_INIT;
	const struct verdict *refusal;
	char *evidence = NULL;
	int ret = -1;

	memset(&m, 0, sizeof(m));
	env_state_init(&m.cand);
	env_state_init(&m.cur);
	strvec_init(&m.appr);
	out->environment = xstrdup(q->env);
	if (manual_check_override(c, e) < 0)
		goto done;
	manual_gate_approver(c, &res->gates);
	if (manual_find_candidate(c, &m.cand, &res->gates, e) < 0) {
		/* who may promote is said first, as always */
		if (res->gates.items[0].status == VERDICT_FAIL && !q->dry_run)
			err_set(e, MLCI_EFAILED, "refused: %s", res->gates.items[0].summary);
		if (q->dry_run) {
			err_clear(e);
			promote_say(out, PROMOTE_FAILED, "dry run: nothing to promote to %s", q->env);
			ret = 0;
		}
		goto done;
	}
	if (evaluate(c, &m, res, e) < 0)
		goto done;
	refusal = decide(q, res, &waiting);
	if (q->dry_run) {
		promote_say(out,
			    res->would_pass ? PROMOTE_DONE
			    : refusal       ? PROMOTE_FAILED
					    : PROMOTE_PENDING,
			    "dry run: %s@%lld %s %s", m.cand.model_name, (long long)m.cand.model_version,
			    res->would_pass ? "would be promoted to"
			    : refusal       ? "would be refused for"
					    : "would wait for",
			    q->env);
		ret = 0;
	} else if (refusal) {
		err_set(e, MLCI_EFAILED, "refused: %s", refusal->summary);
	} else if (m.have_cur && env_state_same_deploy(&m.cur, &m.cand)) {
		promote_say(out, PROMOTE_NONE, "%s already runs %s@%lld: nothing to promote", q->env, m.cand.model_name,
			    (long long)m.cand.model_version);
		ret = 0;
	} else if (waiting.len) {
		evidence = cd_evidence_json(&res->gates);
		if (candidate_row(c, &m.cand, "pending", waiting.ptr, evidence, e) == 0) {
			promote_say(out, PROMOTE_PENDING, "%s: %s@%lld not promoted yet, pending: waiting for %s",
				    q->env, m.cand.model_name, (long long)m.cand.model_version, waiting.ptr);
			ret = 0;
		}
	} else {
		ret = promote_now(c, &m, res, e);
	}
done:
	manual_release(&m);
	free(evidence);
	buf_release(&waiting);
	return ret;
}

int cd_promote(const struct cd_request *q, struct cd_result *res, struct err *e)
{
	struct cd_cmd c;
	int ret = -1;
	if (!q->pipeline)
		return err_set(e, MLCI_EUSAGE, "name the pipeline to promote");
	if (cd_cmd_open(&c, q, e) == 0) {
		if (c.env->promote == SPEC_PROMOTE_MANUAL)
			ret = cd_promote_manual(&c, res, e);
		else if (q->dry_run || q->override_gate)
			ret = err_set(e, MLCI_EUSAGE,
				      "%s is promoted %s: --dry-run and --override are for manual "
				      "environments",
				      q->env, c.env->promote == SPEC_PROMOTE_AUTO ? "automatically" : "on approval");
		else
			ret = cd_release_pending(&c, 0, &res->out, e);
	}
	cd_cmd_close(&c);
	return ret;
}
