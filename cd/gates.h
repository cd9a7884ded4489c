/* gates.h - promotions decided outside a run, one command each: `mlci promote` (the manual rule's gates,
 * --dry-run, --override), `mlci approve`, `mlci reject`, `mlci rollback`, `mlci unpin`, and the release of
 * held candidates. Rules in docs/promotion.md; the files are manual.c, review.c, rollback.c, release.c;
 * cd/promote.c handles promotion right after a run. */
#ifndef MLCI_GATES_H
#define MLCI_GATES_H

#include <stdint.h>

#include "cd/promote.h"
#include "cd/session.h"
#include "common/strvec.h"
#include "record/verdict.h"

struct cd_request {
	const char *home;
	const char *pipeline; /* NULL = the pipeline of the environment's current state */
	const char *env;
	const char *actor;         /* who runs mlci (the OS user, or $MLCI_ACTOR) */
	const char *reason;        /* NULL = none */
	int64_t version;           /* promote/approve/reject: the model version (0 = the candidate); rollback: --to */
	int dry_run;               /* promote: evaluate every gate and report, write nothing */
	const char *override_gate; /* promote: the gate an override approver passes over (needs a reason) */
};

/* What a command did and, for promote, every gate it evaluated and how the candidate differs from what
 * the environment runs. */
struct cd_result {
	struct promote_outcome out;
	struct verdicts gates;
	struct strvec diff_what, diff_current, diff_candidate; /* one row each, same index */
	int would_pass;                                        /* dry run: 1 when every gate passes */
};
void cd_result_init(struct cd_result *r);
void cd_result_release(struct cd_result *r);

/* `mlci promote`: for a manual environment, every gate (approver, version in "from", min_staging_runs,
 * min_soak, pin, rejection, champion, approvals quorum, freeze), then the promotion transaction. A
 * refusal is -1 with MLCI_EFAILED naming the rule; a held candidate (freeze, missing approvals) is a
 * PROMOTE_PENDING outcome. With dry_run nothing is written: res->gates and the diff say what would
 * happen. For an auto/semi environment it releases the newest held candidate when its gates now pass. */
int cd_promote(const struct cd_request *q, struct cd_result *res, struct err *e);
/* `mlci approve`: record q->actor's approval of model version q->version for q->env, bound to the
 * artifact digest, with the gates as they stand; refused for the author of the candidate commit and
 * for non-approvers. Releases a held semi candidate once it has enough approvals. */
int cd_approve(const struct cd_request *q, struct cd_result *res, struct err *e);
/* `mlci reject`: record q->actor's rejection (q->reason required) of candidate q->version for q->env; the
 * pending row is cancelled and the digest is not promoted to q->env until a new candidate arrives. */
int cd_reject(const struct cd_request *q, struct cd_result *res, struct err *e);
/* `mlci rollback`: the previous (or version q->version's) state of q->env as a new state commit,
 * deploy hooks, transitions, and a pin that holds automatic promotions until `mlci unpin`. */
int cd_rollback(const struct cd_request *q, struct cd_result *res, struct err *e);
/* `mlci unpin`: remove the pin, then release the newest held candidate if its gates pass. */
int cd_unpin(const struct cd_request *q, struct cd_result *res, struct err *e);

/* Internal to cd/: the context of one command (session, policy, environment, pipeline). */
struct cd_cmd {
	const struct cd_request *q;
	struct cd_session s;
	struct store *st;
	struct state_repo *sr;
	const struct policy *pol;
	const struct spec_environment *env;
	char *pipeline; /* owned */
};
int cd_cmd_open(struct cd_cmd *c, const struct cd_request *q, struct err *e);
void cd_cmd_close(struct cd_cmd *c);
/* Release the newest held candidate (of model "version" when not 0) of an auto/semi environment when
 * its gates pass now (release.c). */
int cd_release_pending(struct cd_cmd *c, int64_t version, struct promote_outcome *out, struct err *e);

#endif
