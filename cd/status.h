/* status.h - what runs where: every environment's current state (from the state repo), the pending
 * candidates, pins and soak times (from the store and the policy), and one environment's history, as
 * typed reports with one JSON writer each. Read-only; cmd/ renders them. */
#ifndef MLCI_STATUS_H
#define MLCI_STATUS_H

#include <stdint.h>

#include "cd/env_state.h"
#include "common/error.h"

struct cJSON;

struct status_env {
	char *pipeline, *environment; /* owned */
	struct env_state state;       /* what it runs (has_state 0: it ran nothing then) */
	int has_state;
	char state_commit[41];
};

struct status_pending {
	char *environment, *pipeline, *model, *run, *commit, *branch, *waiting_for; /* owned; may be NULL */
	int64_t version;
	int64_t since_ms;
};

struct status_pin {
	char *environment, *pipeline, *model, *by, *reason; /* owned; may be NULL */
	int64_t version;
	char state_commit[41];
	int64_t since_ms;
};

/* A candidate in "from" of a manual environment with min_soak, not yet soaked enough. */
struct status_soak {
	char *pipeline, *environment, *from, *model; /* owned */
	int64_t version;
	int64_t since_ms; /* when it entered "from" */
	int64_t left_ms;  /* 0 when soaked */
};

struct status_report {
	long long at; /* > 0: the states as of that time (no pending, pins or soak then) */
	struct status_env *envs;
	size_t n_envs;
	struct status_pending *pending;
	size_t n_pending;
	struct status_pin *pins;
	size_t n_pins;
	struct status_soak *soak;
	size_t n_soak;
};

/* Every (pipeline, environment) of "$home", or only those of "pipeline" (not NULL). "at" > 0: the state
 * each environment had at that time (seconds since the epoch), from the state repo's history;
 * environments that had none then are left out. A remote state repo that cannot be fetched is reported
 * from its last fetched copy (with a warning on stderr). */
int status_collect(const char *home, const char *pipeline, long long at, struct status_report *out, struct err *e);
void status_report_release(struct status_report *r);
/* {"environments": [{pipeline, environment, state, state_commit}], "pending": [...], "pins": [...],
 * "soak": [...]} ("at" when given). */
struct cJSON *status_report_to_json(const struct status_report *r);

struct status_entry {
	char state_commit[41];
	long long time;
	struct env_state state; /* has_state 0: the state was removed in that commit */
	int has_state;
};
struct status_history {
	struct status_entry *v; /* newest first; owned */
	size_t n;
};
/* Every state commit of "env" of "pipeline", newest first. "pipeline" NULL: the one pipeline that has a
 * state for "env" (MLCI_EUSAGE when several have; an empty history when none has). */
int status_history(const char *home, const char *pipeline, const char *env, struct status_history *out, struct err *e);
void status_history_release(struct status_history *h);
/* [{state_commit, time, state}] */
struct cJSON *status_history_to_json(const struct status_history *h);

#endif
