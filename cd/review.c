/* review.c - `mlci approve` and `mlci reject`: a reviewer's decision on a candidate model version for an
 * environment, bound to its artifact digest and recorded with the gates as they stand. Authors never
 * review their own commit; when the environment lists approvers only they may. It must not print. */
#include "cd/gates.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd/candidate.h"
#include "cd/gate_evidence.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "registry/store_gates.h"
#include "registry/store_promotions.h"
#include "registry/store_review.h"
#include "spec/freeze.h"
#include "common/banned.h"

/* The candidate version q->version for q->env: its model name, digest, run and source commit. */
struct review {
	char *model, *artifact, *run, *repo, *commit, *branch; /* owned */
	struct ws_commit wc;
};

static void review_release(struct review *r)
{
	free(r->model);
	free(r->artifact);
	free(r->run);
	free(r->repo);
	free(r->commit);
	free(r->branch);
	ws_commit_release(&r->wc);
	memset(r, 0, sizeof(*r));
}

/* Find the candidate and check who may review it. -1 with the refusal in "e". */
static int candidate(struct cd_cmd *c, const char *what, struct review *rv, struct err *e)
{
	const struct cd_request *q = c->q;
	struct buf b = BUF_INIT;
	int r;

	if (c->env->promote == SPEC_PROMOTE_AUTO)
		return err_set(e, MLCI_EUSAGE, "%s promotes automatically (rule auto): there is nothing to %s", q->env,
			       what);
	if (c->env->promote == SPEC_PROMOTE_MANUAL && c->env->from) {
		struct env_state src;
		r = state_read(c->sr, c->pipeline, c->env->from, &src, NULL, e);
		if (r < 0) {
			env_state_release(&src);
			return -1;
		}
		if (!r || src.model_version != q->version) {
			env_state_release(&src);
			return err_set(e, MLCI_EFAILED,
				       "refused: version %lld is not the candidate for %s (it is not in %s)",
				       (long long)q->version, q->env, c->env->from);
		}
		rv->model = xstrdup(src.model_name ? src.model_name : "");
		env_state_release(&src);
	} else {
		struct cd_pending f;
		r = cd_pending_find(c->st, c->pipeline, q->env, q->version, &f, e);
		if (r < 0)
			return -1;
		if (!r || f.p.version != q->version || !f.model) {
			cd_pending_release(&f);
			return err_set(e, MLCI_EFAILED, "refused: version %lld is not a pending candidate for %s",
				       (long long)q->version, q->env);
		}
		rv->model = xstrdup(f.model);
		cd_pending_release(&f);
	}
	r = store_model_artifact(c->st, rv->model, q->version, &rv->artifact, &rv->run, e);
	if (r <= 0) {
		if (!r)
			err_set(e, MLCI_EUSAGE, "unknown model version %s@%lld", rv->model, (long long)q->version);
		return -1;
	}
	if (store_run_source(c->st, rv->run, &rv->repo, &rv->commit, &rv->branch, e) < 0)
		return -1;
	if (rv->commit)
		cd_commit_facts(&c->s, rv->commit, &rv->wc);
	if (rv->commit && !rv->wc.author_name)
		return err_set(e, MLCI_EINFRA, "cannot read commit %.12s to check who wrote it", rv->commit);
	if (cd_is_author(rv->wc.author_name, rv->wc.author_email, q->actor))
		return err_set(e, MLCI_EFAILED,
			       "refused: %s wrote commit %.12s (%s <%s>) of %s@%lld; self-%s does not count", q->actor,
			       rv->commit, rv->wc.author_name, rv->wc.author_email ? rv->wc.author_email : "",
			       rv->model, (long long)q->version, !strcmp(what, "approve") ? "approval" : "review");
	if (c->env->approvers.n && !policy_is_approver(c->pol, c->env, q->actor)) {
		policy_describe_approvers(c->pol, c->env, &b);
		err_set(e, MLCI_EFAILED, "refused: %s is not an approver of %s (approvers: %s; policy from %s)",
			q->actor, q->env, b.ptr, c->pol->source);
		buf_release(&b);
		return -1;
	}
	return 0;
}

/* What a pending row of the candidate waits for now (approvals, freeze); "" when only mlci promote. */
static void waiting_now(struct cd_cmd *c, size_t n_appr, struct buf *out)
{
	time_t until;
	if ((int64_t)n_appr < c->env->approvals)
		buf_addf(out, "approvals %zu/%lld", n_appr, (long long)c->env->approvals);
	if (policy_frozen(c->pol, c->env, policy_now(), &until)) {
		char w[32];
		freeze_format_time(until, w, sizeof(w));
		buf_addf(out, "%sfreeze until %s", out->len ? ", " : "", w);
	}
}

int cd_approve(const struct cd_request *q, struct cd_result *res, struct err *e)
{
	struct promote_outcome *out = &res->out;
	struct cd_cmd c;
	struct review rv;
	struct strvec appr = STRVEC_INIT;
	struct buf b = BUF_INIT;
	char *evidence = NULL;
	int ret = -1, r;

	memset(&rv, 0, sizeof(rv));
	if (cd_cmd_open(&c, q, e) < 0 || candidate(&c, "approve", &rv, e) < 0)
		goto done;
	/* the gates as the approver saw them: the candidate run's model checks (slices included) */
	if (cd_evidence_from_store(&res->gates, c.st, rv.run, e) < 0)
		goto done;
	evidence = cd_evidence_json(&res->gates);
	r = store_approval_add(c.st, c.pipeline, q->env, rv.model, q->version, rv.artifact, q->actor, evidence, e);
	if (r < 0)
		goto done;
	if (cd_candidate_approvals(c.st, c.env, c.pipeline, rv.model, q->version, rv.artifact, rv.wc.message,
				   rv.wc.author_name, rv.wc.author_email, &appr, e) < 0)
		goto done;
	out->environment = xstrdup(q->env);
	if (c.env->approvals)
		buf_addf(&b, "approvals %zu/%lld", appr.n, (long long)c.env->approvals);
	else
		buf_addf(&b, "%zu approval%s (none required)", appr.n, appr.n == 1 ? "" : "s");
	promote_say(out, PROMOTE_NONE, "%s %s %s@%lld for %s (artifact %.12s): %s", q->actor,
		    r ? "approved" : "had already approved (counted once)", rv.model, (long long)q->version, q->env,
		    rv.artifact, b.ptr);
	if (c.env->promote == SPEC_PROMOTE_SEMI) {
		struct promote_outcome rel;
		memset(&rel, 0, sizeof(rel));
		if (cd_release_pending(&c, q->version, &rel, e) < 0) {
			promote_outcome_release(&rel);
			goto done;
		}
		if (rel.action != PROMOTE_NONE) {
			char *d = out->detail;
			out->detail = NULL;
			promote_say(out, rel.action, "%s; %s", d, rel.detail);
			memcpy(out->state_commit, rel.state_commit, sizeof(rel.state_commit));
			free(d);
		}
		promote_outcome_release(&rel);
	} else {
		/* a held manual candidate: what it waits for changed, and mlci status shows it at once */
		struct cd_pending f;
		struct buf w = BUF_INIT;
		r = cd_pending_find(c.st, c.pipeline, q->env, q->version, &f, e);
		if (r < 0)
			goto done;
		waiting_now(&c, appr.n, &w);
		if (r && store_promotion_set(c.st, f.p.id, "pending", w.len ? w.ptr : "mlci promote by an approver",
					     NULL, NULL, e) < 0) {
			buf_release(&w);
			cd_pending_release(&f);
			goto done;
		}
		buf_release(&w);
		cd_pending_release(&f);
	}
	ret = 0;
done:
	free(evidence);
	strvec_clear(&appr);
	buf_release(&b);
	review_release(&rv);
	cd_cmd_close(&c);
	return ret;
}

int cd_reject(const struct cd_request *q, struct cd_result *res, struct err *e)
{
	struct promote_outcome *out = &res->out;
	struct cd_cmd c;
	struct review rv;
	struct cd_pending f;
	int ret = -1, r;

	memset(&rv, 0, sizeof(rv));
	memset(&f, 0, sizeof(f));
	if (!q->reason || !*q->reason)
		return err_set(e, MLCI_EUSAGE, "a rejection needs --reason TEXT (it is recorded and shown)");
	if (cd_cmd_open(&c, q, e) < 0 || candidate(&c, "reject", &rv, e) < 0)
		goto done;
	if (store_rejection_add(c.st, c.pipeline, q->env, rv.model, q->version, rv.artifact, q->actor, q->reason, e) <
	    0)
		goto done;
	/* its pending row ends: it will not be released, whatever approvals come */
	r = cd_pending_find(c.st, c.pipeline, q->env, q->version, &f, e);
	if (r < 0)
		goto done;
	if (r) {
		struct buf w = BUF_INIT;
		buf_addf(&w, "rejected by %s: %s", q->actor, q->reason);
		r = store_promotion_set(c.st, f.p.id, "cancelled", w.ptr, NULL, NULL, e);
		buf_release(&w);
		if (r < 0)
			goto done;
	}
	out->environment = xstrdup(q->env);
	promote_say(out, PROMOTE_NONE,
		    "%s rejected %s@%lld for %s (artifact %.12s): %s; it is not promoted to %s until a new candidate "
		    "arrives",
		    q->actor, rv.model, (long long)q->version, q->env, rv.artifact, q->reason, q->env);
	ret = 0;
done:
	cd_pending_release(&f);
	review_release(&rv);
	cd_cmd_close(&c);
	return ret;
}
