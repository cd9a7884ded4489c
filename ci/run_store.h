/* run_store.h - what the run engine keeps in the metadata store: cache keys and hits, step rows,
 * output artifacts and lineage events, metrics and the registered model version. No scheduling here. */
#ifndef MLCI_RUN_STORE_H
#define MLCI_RUN_STORE_H

#include "ci/run.h"

/* Git ids of every component's path tree and inputs, and the source (CI phase) keys. */
int record_prepare_keys(struct run *r, struct ws_source *src, struct err *e);
/* Insert the run row (status running) and take its liveness lock. */
int record_run_begin(struct run *r, struct err *e);
/* Compute step "s"'s key; when a completed step has it (and !no_cache), reuse it: for a run step the
 * outputs are restored from the artifact store and recorded. Returns 1 when cached, 0 when the step
 * must execute, -1 on a store error. */
int record_try_cache(struct run *r, struct run_step *s, int no_cache, struct err *e);
/* After a run step passed: store its declared outputs as artifacts, record output and input events. */
int record_outputs(struct run *r, struct run_step *s, struct err *e);
/* Upsert the step row (called when a step starts and when it ends). */
int record_step(struct run *r, const struct run_step *s, struct err *e);
/* End of run: metrics and the model version when it passed, then the final run row. */
int record_run_finish(struct run *r, struct err *e);

#endif
