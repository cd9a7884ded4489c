/* promote.h - promotion after a run: the environment whose branches match, its rule (auto, semi with
 * approvals, manual), the state-repo commit, the registry transition and the deploy hook. */
#ifndef MLCI_PROMOTE_H
#define MLCI_PROMOTE_H

#include "ci/run.h"

enum promote_action { PROMOTE_NONE, PROMOTE_DONE, PROMOTE_PENDING, PROMOTE_FAILED };

struct promote_outcome {
	enum promote_action action;
	char *environment; /* owned; NULL when no environment applies */
	char *detail;      /* owned; one line saying why */
	char state_commit[41];
};

/* Apply the promotion rule of the branch of run "r" (finished; its store still open). "actor" is who
 * ran mlci (the OS user). Promotion failures (deploy hook, rollback) are outcomes, not errors; -1 only
 * for infrastructure errors (state repo, store). */
int promote_after_run(struct run *r, const char *actor, struct promote_outcome *out, struct err *e);
void promote_outcome_release(struct promote_outcome *o);
const char *promote_action_name(enum promote_action a);

#endif
