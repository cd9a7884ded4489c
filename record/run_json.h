/* run_json.h - the run record as JSON (cJSON): `mlci run -o json` and $MLCI_HOME/runs/<id>/run.json.
 * Serialisation only; it decides nothing about the run. */
#ifndef MLCI_RUN_JSON_H
#define MLCI_RUN_JSON_H

#include <cjson/cJSON.h>

#include "common/error.h"
#include "record/run_record.h"

/* New JSON object describing "rec"; the caller owns it (cJSON_Delete). */
cJSON *run_record_to_json(const struct run_record *rec);
/* Write rec->run_dir/run.json atomically. */
int run_record_write_json(const struct run_record *rec, struct err *e);

#endif
