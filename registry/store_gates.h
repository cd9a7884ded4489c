/* store_gates.h - what promotion gates read and write in the store: environment pins, environment locks,
 * passed runs of an artifact, run facts. Approvals and rejections are in store_review.h. Recording only;
 * the rules are cd/'s. */
#ifndef MLCI_STORE_GATES_H
#define MLCI_STORE_GATES_H

#include <stdint.h>

#include "common/strvec.h"
#include "registry/store.h"

struct store_pin {
	char pipeline[256], environment[128], actor[256];
	char *model;     /* owned; NULL = none */
	int64_t version; /* 0 = none */
	char *reason;    /* owned */
	char state_commit[41];
	int64_t time_ms;
};
void store_pin_release(struct store_pin *p);
/* Set (replace) the pin of (pipeline, environment). */
int store_pin_set(struct store *st, const struct store_pin *p, struct err *e);
/* 1 and "out" filled when (pipeline, environment) is pinned; "pipeline" NULL = any pipeline. 0 when not. */
int store_pin_get(struct store *st, const char *pipeline, const char *env, struct store_pin *out, struct err *e);
/* Remove pins of "env" ("pipeline" NULL = every pipeline); "removed" gets the count. */
int store_pin_remove(struct store *st, const char *pipeline, const char *env, int *removed, struct err *e);
/* Call "fn" for every pin. */
int store_pins_each(struct store *st, int (*fn)(void *payload, const struct store_pin *p), void *payload,
		    struct err *e);

/* Take the lock of (pipeline, environment) for "holder" (this host and pid), in one transaction. A lock
 * held by a dead process of this host is taken over. 1 when taken; 0 when someone else holds it, with
 * "holder_out" describing them ("alice (pid 123 on host h, since 2026-...)"); -1 on error. */
int store_env_lock_try(struct store *st, const char *pipeline, const char *env, const char *holder,
		       struct strvec *holder_out, struct err *e);
/* Release our lock (this pid) of (pipeline, environment). */
int store_env_lock_release(struct store *st, const char *pipeline, const char *env, struct err *e);

/* A passed run that produced an artifact; strings valid during the callback only. */
struct store_output_run {
	const char *run, *branch; /* branch NULL when unknown */
	int64_t started_ms;
	int64_t executed_steps; /* steps that executed and passed (0: every step came from the cache) */
};
/* Call "fn" for each passed run of "pipeline" that produced "artifact" as an output (also when served
 * from the cache), oldest first. A non-zero return from "fn" stops the walk. */
int store_runs_with_output(struct store *st, const char *pipeline, const char *artifact,
			   int (*fn)(void *payload, const struct store_output_run *r), void *payload, struct err *e);

/* The repository location and commit of "run"; 0 when unknown. Strings owned by the caller. */
int store_run_source(struct store *st, const char *run, char **repo, char **commit_id, char **branch, struct err *e);
/* The artifact digest of model version (model, version); 0 when unknown. */
int store_model_artifact(struct store *st, const char *model, int64_t version, char **artifact, char **run,
			 struct err *e);

/* The time (ms) of the transition into "env" recorded for "state_commit" into *ms; left as it is when
 * there is none. */
int store_transition_time(struct store *st, const char *state_commit, const char *env, int64_t *ms, struct err *e);
/* 1 when a stage transition names "state_commit". */
int store_transition_exists(struct store *st, const char *state_commit, struct err *e);

/* Move promotion "id" to "status" (and set waiting_for / state_commit / evidence; NULL keeps waiting_for
 * unset, and the state commit and evidence as they were). */
int store_promotion_set(struct store *st, int64_t id, const char *status, const char *waiting_for,
			const char *state_commit, const char *evidence, struct err *e);

/* The repository of the latest run of "pipeline" (owned by the caller); 0 when it never ran. */
int store_pipeline_repo(struct store *st, const char *pipeline, char **repo, struct err *e);
/* Every output of "run": component, name, digest, ordered by component and name. */
int store_run_outputs_each(struct store *st, const char *run,
			   int (*fn)(void *payload, const char *component, const char *name, const char *digest),
			   void *payload, struct err *e);
#endif
