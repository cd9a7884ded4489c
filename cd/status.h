/* status.h - what runs where: every environment's current state (from the state repo), the pending
 * candidates (from the store), and one environment's history. Read-only; cmd/ renders the JSON. */
#ifndef MLCI_STATUS_H
#define MLCI_STATUS_H

#include <cjson/cJSON.h>

#include "common/error.h"

/* {"environments": [{environment, state, state_commit}], "pending": [...], "pins": [...]} of "$home".
 * "at" > 0: the state each environment had at that time (seconds since the epoch), from the state
 * repo's history; environments that had none then are left out. */
int status_collect(const char *home, long long at, cJSON **out, struct err *e);
/* [{state_commit, time, state}] of "env", newest first. */
int status_history(const char *home, const char *env, cJSON **out, struct err *e);

#endif
