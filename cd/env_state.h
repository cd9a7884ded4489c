/* env_state.h - the desired state of one environment of one pipeline, as a C type: what the GitOps state
 * repo holds in environments/<pipeline>/<env>.json. env_state.c is the only place that reads or writes
 * that JSON; everything else uses these fields. Data only: it decides nothing. */
#ifndef MLCI_ENV_STATE_H
#define MLCI_ENV_STATE_H

#include <stdint.h>

#include "common/error.h"
#include "common/strvec.h"
#include "record/verdict.h"

struct cJSON;

/* One output the state deploys: "component/name" -> sha256. */
struct env_artifact {
	char *name; /* "component/output"; owned */
	char digest[65];
};

struct env_state {
	char *environment; /* owned */
	char *pipeline;    /* owned */
	char *commit;      /* the pipeline repository's commit; owned; NULL = none (an emptied state) */
	char *branch;      /* owned; may be NULL */
	char *run;         /* the run that produced it; owned; may be NULL */

	/* the model version; model_version 0 = the state has no model ("model": null) */
	char *model_name; /* owned */
	int64_t model_version;
	char *model_artifact; /* sha256 of the model file; owned */

	struct env_artifact *artifacts; /* owned; in the order they were added */
	size_t n_artifacts;

	char *rule;        /* auto | semi | manual | rollback; owned; may be NULL */
	char *promoted_by; /* the actor; owned */
	struct strvec approvals;
	char *promoted_at;        /* "2026-11-25T18:00:00Z"; owned */
	char *reason;             /* owned; may be NULL */
	int64_t rolled_back_from; /* rollback: the version it replaced; 0 = none */

	/* gate evidence: which gates passed with which numbers (kind "gate"), and the run's checks that
	 * decide promotion (model thresholds, baseline, slices) */
	struct verdicts gates;
	/* break-glass: the gate overridden, by whom and why; all NULL when none */
	char *override_gate, *override_by, *override_reason;

	/* set on the state that replaced one whose deploy failed */
	char *failed_commit; /* the failed state's commit; owned; NULL = none */
	char *failed_reason; /* owned */
	char *note;          /* a human note ("emptied: the first deploy failed"); owned; may be NULL */

	struct cJSON *extra; /* members this mlci does not know (written by a newer one), kept; owned */
};

void env_state_init(struct env_state *s);
void env_state_release(struct env_state *s);
/* A deep copy of "src" into "dst" (initialised by this function). */
void env_state_copy(struct env_state *dst, const struct env_state *src);

/* Read the JSON object "j" into "s" (initialised by this function). -1 with MLCI_EINFRA naming the member
 * when a known member has the wrong type. */
int env_state_from_json(struct env_state *s, const struct cJSON *j, struct err *e);
/* The same from text ("what" names it in errors, e.g. "state abc123:environments/p/test.json"). */
int env_state_parse(struct env_state *s, const char *text, size_t len, const char *what, struct err *e);
/* New JSON object for "s" (the caller owns it). */
struct cJSON *env_state_to_json(const struct env_state *s);

void env_state_add_artifact(struct env_state *s, const char *name, const char *digest);
/* The artifact whose digest is the model's, or NULL. */
const struct env_artifact *env_state_model_artifact(const struct env_state *s);
/* Replace a string field: *slot = copy of "v" (NULL allowed). */
void env_state_set(char **slot, const char *v);
/* 1 when both name the same source commit and model version (the same deployment). */
int env_state_same_deploy(const struct env_state *a, const struct env_state *b);

#endif
