/* manual_int.h - internals shared by the files of `mlci promote` to a manual environment (manual.c,
 * manual_gates.c, manual_diff.c). Not an API: nothing outside them includes it. */
#ifndef MLCI_MANUAL_INT_H
#define MLCI_MANUAL_INT_H

#include "cd/env_state.h"
#include "cd/gates.h"

/* When the candidate entered "from": the oldest consecutive state commit of "from" running its artifact,
 * and the run that put it there; filled by manual_walk_entry over state_log of "from". */
struct manual_entry {
	const struct env_state *cand;
	long long time;
	char commit[41]; /* that state commit */
	char *run;       /* owned */
	int done;
};
int manual_walk_entry(void *payload, const char *commit, long long time, const struct env_state *st);

/* The gates, each appending its verdict (kind "gate") to "gates". */
int manual_find_candidate(struct cd_cmd *c, struct env_state *cand, struct verdicts *gates, struct err *e);
void manual_gate_approver(struct cd_cmd *c, struct verdicts *gates);
void manual_gate_min_runs(struct cd_cmd *c, const struct env_state *cand, const struct manual_entry *en,
			  const struct spec_environment *from, struct verdicts *gates, struct err *e, int *err);
void manual_gate_soak(struct cd_cmd *c, const struct manual_entry *en, struct verdicts *gates);
int manual_gate_pin(struct cd_cmd *c, struct verdicts *gates, struct err *e);
int manual_gate_rejection(struct cd_cmd *c, const struct env_state *cand, struct verdicts *gates, struct err *e);
void manual_gate_freeze(struct cd_cmd *c, struct verdicts *gates);
/* 1 for the gates whose failure holds the candidate as pending rather than refusing it. */
int manual_pending_gate(const char *name);
/* --override: a reason, an overridable gate and an override approver, or -1 with the refusal. */
int manual_check_override(struct cd_cmd *c, struct err *e);

/* The candidate next to what the environment runs ("cur", when have_cur), as rows of res->diff_*. */
int manual_diff(struct cd_cmd *c, const struct env_state *cur, int have_cur, const struct env_state *cand,
		struct cd_result *res, struct err *e);

#endif
