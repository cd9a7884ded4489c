/* cmd_context.c - what every promotion command outside a run opens first (cd/gates.h struct cd_cmd): the
 * session (store, state repo synced with its remote, registry reconciled), the pipeline, its policy
 * and the environment named. It decides nothing and never prints. */
#include "cd/gates.h"

#include <stdlib.h>
#include <string.h>

#include "cd/reconcile.h"
#include "common/alloc.h"
#include "registry/store_gates.h"
#include "common/banned.h"

void cd_result_init(struct cd_result *r)
{
	memset(r, 0, sizeof(*r));
	strvec_init(&r->diff_what);
	strvec_init(&r->diff_current);
	strvec_init(&r->diff_candidate);
}

void cd_result_release(struct cd_result *r)
{
	promote_outcome_release(&r->out);
	verdicts_release(&r->gates);
	strvec_clear(&r->diff_what);
	strvec_clear(&r->diff_current);
	strvec_clear(&r->diff_candidate);
	cd_result_init(r);
}

void cd_cmd_close(struct cd_cmd *c)
{
	cd_session_release(&c->s);
	free(c->pipeline);
	memset(c, 0, sizeof(*c));
}

int cd_cmd_open(struct cd_cmd *c, const struct cd_request *q, struct err *e)
{
	char *repo = NULL;
	memset(c, 0, sizeof(*c));
	c->q = q;
	cd_session_init(&c->s, q->home, NULL, NULL);
	if (cd_session_store(&c->s, &c->st, e) < 0 || cd_session_state(&c->s, 0, &c->sr, e) < 0)
		return -1;
	if (cd_reconcile(&c->s, NULL, e) < 0)
		return err_prefix(e, "reconciling the registry with the state repo");
	if (q->pipeline) {
		c->pipeline = xstrdup(q->pipeline);
	} else {
		/* the pipeline whose state has that environment; several: the user must say which */
		if (state_pipeline_of(c->sr, q->env, &c->pipeline, e) < 0)
			return -1;
		if (!c->pipeline)
			return err_set(e, MLCI_EUSAGE,
				       "environment %s has no state yet: name the pipeline (--pipeline P)", q->env);
	}
	if (store_pipeline_repo(c->st, c->pipeline, &repo, e) < 0)
		return -1;
	cd_session_set_repo(&c->s, repo, 1);
	free(repo);
	if (cd_session_policy(&c->s, &c->pol, e) < 0)
		return -1;
	if (!c->pol->spec)
		return err_set(e, MLCI_EUSAGE,
			       "no promotion policy for pipeline %s (no %s/policy.yaml, no valid mlci.yaml on main)",
			       c->pipeline, q->home);
	c->env = policy_env(c->pol, q->env);
	if (!c->env)
		return err_set(e, MLCI_EUSAGE, "environment '%s' is not in the promotion policy (%s)", q->env,
			       c->pol->source);
	return 0;
}
