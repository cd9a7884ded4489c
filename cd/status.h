/* status.h - what runs where: every environment's current state (from the state repo), the pending
 * candidates (from the store), and one environment's history. Read-only; cmd/ renders the JSON. */
#ifndef MLCI_STATUS_H
#define MLCI_STATUS_H

#include <cjson/cJSON.h>

#include "common/error.h"

/* {"environments": [{pipeline, environment, state, state_commit}], "pending": [...], "pins": [...]} of
 * "$home", of every pipeline or only of "pipeline" (not NULL). "at" > 0: the state each environment had
 * at that time (seconds since the epoch), from the state repo's history; environments that had none
 * then are left out. A remote state repo that cannot be fetched is reported from its last fetched copy
 * (with a warning on stderr). */
int status_collect(const char *home, const char *pipeline, long long at, cJSON **out, struct err *e);
/* [{state_commit, time, state}] of "env" of "pipeline", newest first. "pipeline" NULL: the one pipeline
 * that has a state for "env" (MLCI_EUSAGE when several have; an empty list when none has). */
int status_history(const char *home, const char *pipeline, const char *env, cJSON **out, struct err *e);

#endif
