/* store_review.h - what reviewers record in the store: approvals and rejections of a candidate model
 * version for an environment, both bound to its artifact digest (a new candidate needs a new review),
 * with the gate evidence they saw; and the reconciliation mark of a state repo. Recording only; who may
 * approve is cd/'s decision. */
#ifndef MLCI_STORE_REVIEW_H
#define MLCI_STORE_REVIEW_H

#include <stdint.h>

#include "common/strvec.h"
#include "registry/store.h"

/* Record "approver" for (pipeline, environment, model, version, artifact) with "evidence" (JSON text of
 * the gates as they stood; may be NULL). 1 when new, 0 when that approver had already approved this exact
 * candidate, -1 on error. */
int store_approval_add(struct store *st, const char *pipeline, const char *env, const char *model, int64_t version,
		       const char *artifact, const char *approver, const char *evidence, struct err *e);
/* Distinct approvers of that exact candidate (same digest), oldest first, appended to "out". */
int store_approvals_list(struct store *st, const char *pipeline, const char *env, const char *model, int64_t version,
			 const char *artifact, struct strvec *out, struct err *e);

struct store_rejection {
	char *approver, *reason; /* owned */
	int64_t version;
	int64_t time_ms;
};
void store_rejection_release(struct store_rejection *r);
/* Record that "approver" rejected the candidate with digest "artifact" for (pipeline, env). */
int store_rejection_add(struct store *st, const char *pipeline, const char *env, const char *model, int64_t version,
			const char *artifact, const char *approver, const char *reason, struct err *e);
/* The latest rejection of digest "artifact" for (pipeline, env): 1 with "out" filled, 0 when none. */
int store_rejection_get(struct store *st, const char *pipeline, const char *env, const char *artifact,
			struct store_rejection *out, struct err *e);

/* The commit of state repo "state" (its path or URL) up to which the registry was reconciled: 1 with
 * "out" filled, 0 when never. */
int store_state_mark_get(struct store *st, const char *state, char out[41], struct err *e);
int store_state_mark_set(struct store *st, const char *state, const char *commit, struct err *e);

#endif
