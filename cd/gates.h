/* gates.h - promotions decided outside a run: `mlci promote` (manual rule), `mlci approve`,
 * `mlci rollback`, `mlci unpin`, the release of held candidates, and the reconciliation of the store
 * with the state repo. Rules in docs/promotion.md; cd/promote.c handles promotion right after a run. */
#ifndef MLCI_GATES_H
#define MLCI_GATES_H

#include <stdint.h>

#include "cd/promote.h"
#include "cd/policy.h"
#include "registry/store.h"

struct cd_request {
	const char *home;
	const char *pipeline; /* NULL = the pipeline of the environment's current state */
	const char *env;
	const char *actor;  /* who runs mlci (the OS user, or $MLCI_ACTOR) */
	const char *reason; /* NULL = none */
	int64_t version;    /* promote/approve: the model version (0 = the one in "from"); rollback: --to */
};

/* `mlci promote`: for a manual environment, every gate (approver, version in "from",
 * min_staging_runs, approvals quorum, pin, freeze), then one state commit, the transition, deploy
 * hooks (rolled back when they fail). A refusal is -1 with MLCI_EFAILED and the rule named; a held
 * candidate (freeze, missing approvals) is a PROMOTE_PENDING outcome. For an auto/semi environment it
 * releases the newest held candidate when its gates now pass. */
int cd_promote(const struct cd_request *q, struct promote_outcome *out, struct err *e);
/* `mlci approve`: record q->actor's approval of model version q->version for q->env, bound to the
 * artifact digest; refused for the author of the candidate commit and for non-approvers. Releases a
 * held semi candidate once it has enough approvals. */
int cd_approve(const struct cd_request *q, struct promote_outcome *out, struct err *e);
/* `mlci rollback`: the previous (or version q->version's) state of q->env as a new state commit,
 * deploy hooks, a transition, and a pin that holds automatic promotions until `mlci unpin`. */
int cd_rollback(const struct cd_request *q, struct promote_outcome *out, struct err *e);
/* `mlci unpin`: remove the pin, then release the newest held candidate if its gates pass. */
int cd_unpin(const struct cd_request *q, struct promote_outcome *out, struct err *e);

/* Add the stage transition rows missing for state commits of the state repo (the state repo wins):
 * what a crash between the state commit and the registry write left behind. "added" may be NULL. */
int cd_reconcile(const char *home, struct store *st, int *added, struct err *e);

/* Take the one-promotion-per-environment lock of (pipeline, env), waiting up to $MLCI_LOCK_TIMEOUT
 * seconds (default 30); -1 naming the holder when it stays taken. */
int cd_lock(struct store *st, const char *pipeline, const char *env, const char *actor, struct err *e);
void cd_unlock(struct store *st, const char *pipeline, const char *env);

/* The test hook $MLCI_TEST_CRASH_AFTER=state-commit: SIGKILL this process right after a state commit. */
void cd_crash_point(const char *name);

#endif
