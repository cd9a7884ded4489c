/* run_json.h - the run as JSON (cJSON): for `mlci run -o json` and the run record run.json.
 * Serialisation only; it decides nothing about the run. */
#ifndef MLCI_RUN_JSON_H
#define MLCI_RUN_JSON_H

#include <cjson/cJSON.h>

#include "ci/run.h"

/* New JSON object describing "r"; the caller owns it (cJSON_Delete). */
cJSON *run_to_json(const struct run *r);
/* Write $run_dir/run.json atomically. */
int run_json_write(const struct run *r, struct err *e);

#endif
