/* promote.h - promotion right after a run: the environment whose branches match the run's branch, its
 * rule (auto; semi with approvals; manual never from a run), the gates, then the one promotion
 * transaction (cd/apply.c). It takes the run's record, never the engine's working state. */
#ifndef MLCI_PROMOTE_H
#define MLCI_PROMOTE_H

#include "cd/session.h"
#include "record/run_record.h"

enum promote_action { PROMOTE_NONE, PROMOTE_DONE, PROMOTE_PENDING, PROMOTE_FAILED };

struct promote_outcome {
	enum promote_action action;
	char *environment; /* owned; NULL when no environment applies */
	char *detail;      /* owned; one line saying why */
	char state_commit[41];
};

/* Apply the promotion rule of the branch of run "rec" (finished). "actor" is who ran mlci. Promotion
 * failures (deploy hook, rollback) are outcomes, not errors; -1 only for infrastructure errors (state
 * repo, store) and an invalid policy. */
int promote_after_run(struct cd_session *s, const struct run_record *rec, const char *actor,
		      struct promote_outcome *out, struct err *e);
void promote_outcome_release(struct promote_outcome *o);
const char *promote_action_name(enum promote_action a);
/* Set out->action and a printf-formatted out->detail. */
void promote_say(struct promote_outcome *o, enum promote_action a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
