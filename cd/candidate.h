/* candidate.h - a candidate for an environment and what the gates ask about it: the state it would have
 * (one builder, whether the candidate comes from a finished run or from a held promotions row), who
 * approved it, who wrote its commit, whether it was rejected, and its pending promotions row. Facts
 * only; the rules are in cd/promote.c, manual.c, release.c and review.c. */
#ifndef MLCI_CANDIDATE_H
#define MLCI_CANDIDATE_H

#include <stdint.h>

#include "cd/env_state.h"
#include "cd/session.h"
#include "git/workspace.h"
#include "record/run_record.h"
#include "registry/store_promotions.h"

/* The state a candidate would have in "env": ids and the model ("model" NULL or version 0: none). */
void cd_state_begin(struct env_state *out, const char *env, const char *pipeline, const char *run, const char *commit,
		    const char *branch, const char *model, int64_t version, const char *artifact);
/* The same for run "rec", with its outputs as the state's artifacts. */
void cd_state_from_record(struct env_state *out, const struct run_record *rec, const char *env);
/* The same for a held candidate (promotions row "p"), its outputs and model digest read from the store. */
int cd_state_from_row(struct env_state *out, struct store *st, const struct store_promotion *p, struct err *e);
/* Who, how and why: environment, rule, promoted_by, approvals (may be NULL), reason (may be NULL); a
 * copied state's marks of an earlier life (deploy_failed, override, rolled_back_from, gates, note) are
 * cleared. promoted_at is set by cd_apply. */
void cd_state_stamp(struct env_state *s, const char *env, const char *rule, const char *actor,
		    const struct strvec *approvals, const char *reason);

/* The newest pending promotions row of (pipeline, env) (of model "version" when not 0): 1 with "out"
 * filled (owned copies), 0 when none. */
struct cd_pending {
	struct store_promotion p; /* strings point into the owned copies below */
	char *pipeline, *env, *model, *run, *commit, *branch;
};
int cd_pending_find(struct store *st, const char *pipeline, const char *env, int64_t version, struct cd_pending *out,
		    struct err *e);
void cd_pending_release(struct cd_pending *p);

/* Author and message of "commit" in the session's repository; out->author_name NULL when it cannot be
 * read. */
void cd_commit_facts(struct cd_session *s, const char *commit, struct ws_commit *out);
/* 1 when "actor" wrote the commit (its name, e-mail or the e-mail's local part, case-insensitively). */
int cd_is_author(const char *author_name, const char *author_email, const char *actor);

/* The distinct approvals of a candidate: Reviewed-by:/Approved-by: trailers of "message" (semi
 * environments only; not its author's) and `mlci approve` rows bound to its digest. */
int cd_candidate_approvals(struct store *st, const struct spec_environment *env, const char *pipeline,
			   const char *model, int64_t version, const char *artifact, const char *message,
			   const char *author_name, const char *author_email, struct strvec *out, struct err *e);

/* When digest "artifact" was rejected for (pipeline, env): 1 with "why" ("rejected by bob: too slow"),
 * 0 when not. */
int cd_rejected(struct store *st, const char *pipeline, const char *env, const char *artifact, struct buf *why,
		struct err *e);

#endif
