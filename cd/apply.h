/* apply.h - the one promotion transaction, shared by every way a state reaches an environment (a run's
 * promotion, mlci promote, approve, rollback, unpin, the release of a held candidate): under the
 * environment's lock, state commit -> registry transitions -> deploy hooks -> on failure, a restoring
 * state commit and a redeploy of the previous state -> the candidate's promotions row. Gates are decided
 * before; this file applies. */
#ifndef MLCI_APPLY_H
#define MLCI_APPLY_H

#include <stdint.h>

#include "cd/env_state.h"
#include "cd/promote.h"
#include "cd/session.h"
#include "registry/store_promotions.h"

struct cd_change {
	const struct spec_environment *env; /* the environment's rules and hooks */
	const char *pipeline;
	struct env_state *state; /* the desired state, stamped (cd_state_stamp); promoted_at is set here */
	const char *actor;       /* author of the state commit and actor of the transitions */
	const char *message;     /* the state commit's message */
	const char *reason;      /* the entering transition's reason */
	const char *from_stage;  /* where the version comes from (the "from" environment); NULL = a run */
	int rollback;            /* the version leaving is "rolled-back" rather than "replaced" */
	/* the candidate's promotions row: close row "promotion_id" (0 = none), or add "row" (NULL = none);
	 * its status, state commit and evidence are filled here */
	int64_t promotion_id;
	const struct store_promotion *row;
	/* when set and the environment already runs the same commit and model version: nothing is
	 * written, out->action is PROMOTE_NONE with this detail */
	const char *same_detail;
};

/* Apply "c". out->action: PROMOTE_DONE (committed and deployed), PROMOTE_FAILED (a hook failed; the
 * previous state was restored and redeployed, out->detail says so), or PROMOTE_NONE (same_detail).
 * out->state_commit: the last state commit made. -1 only for infrastructure errors (lock, state repo,
 * store), with nothing deployed. */
int cd_apply(struct cd_session *s, const struct cd_change *c, struct promote_outcome *out, struct err *e);

/* Registry rows for the state of "env" moving from "before" (NULL = none) to "after" at state commit
 * "commit": the version entering (from "from_stage", to "env"), and the one leaving (to "replaced", or
 * "rolled-back" when "rolled_back"). Versions the registry does not know are skipped. */
int cd_transitions(struct store *st, const char *env, const struct env_state *before, const struct env_state *after,
		   const char *from_stage, int rolled_back, const char *actor, const char *reason, const char *commit,
		   int64_t time_ms, struct err *e);

/* Milliseconds for promotion records: $MLCI_NOW (a test hook) when set, else the clock. */
int64_t cd_now_ms(void);

#endif
