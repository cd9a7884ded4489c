/* run_checks_int.h - internals shared by the files of a run's check engine (run_checks.c: stages and
 * recording; check_data.c, check_model.c, check_service.c: one stage each). Not an API. */
#ifndef MLCI_RUN_CHECKS_INT_H
#define MLCI_RUN_CHECKS_INT_H

#include <cjson/cJSON.h>

#include "ci/run_checks.h"
#include "common/buf.h"

/* The file of output reference "ref" in this run (malloc'd), and its digest (NULL when not stored). */
char *checks_ref_path(const struct run *r, const struct spec_ref *ref);
const char *checks_ref_digest(const struct run *r, const struct spec_ref *ref);
/* A JSON file (at most 64 MiB); NULL with "why" appended when unreadable or invalid. */
cJSON *checks_read_json_file(const char *path, struct buf *why);
/* "production", "MODEL@VERSION" or "VERSION" -> run, model, version. 1 found, 0 none (production with
 * nothing there; "why" says why), -1 error (also a named version that is not registered). */
int checks_resolve_version(const struct run *r, const char *ref, char **run_out, char **model_out, int64_t *version,
			   struct buf *why, struct err *e);

void check_stage_data(struct run *r);
void check_stage_training(struct run *r);
void check_stage_model(struct run *r);
void check_stage_service(struct run *r);

#endif
