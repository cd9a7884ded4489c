/* run_checks.h - the pipeline checks as nodes of a run: data (gating its consumers), training, model,
 * infra, then service, each once its inputs exist; verdicts go to the store and the observer. */
#ifndef MLCI_RUN_CHECKS_H
#define MLCI_RUN_CHECKS_H

#include "ci/run.h"

/* Stages in the order they run. */
enum run_check_stage {
	CHECK_STAGE_DATA,
	CHECK_STAGE_TRAINING,
	CHECK_STAGE_MODEL,
	CHECK_STAGE_INFRA,
	CHECK_STAGE_SERVICE,
	CHECK_STAGE_DONE
};

/* Run every check stage whose turn it is and whose inputs (outputs of finished components) exist,
 * in order; stop at the first that is still waiting. With "final" (the DAG is over), a stage whose
 * inputs were never produced gets a skipped verdict instead of waiting. Each verdict is stored in the
 * checks table (and its numbers as metrics "check.NAME.KEY") and sent to obs->check_end.
 * Returns 1 when the data check has just failed: the caller skips the consumers of
 * spec.checks.data.dataset's component ("data check failed"); else 0. */
int run_checks_advance(struct run *r, int final, const struct run_observer *obs);

/* The first failing verdict, or NULL. */
const struct verdict *run_checks_first_failure(const struct run *r);

#endif
