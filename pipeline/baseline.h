/* baseline.h - what the run engine may ask the trusted side, answered from a promotion session: the model
 * an environment runs (state repo) and where a branch deploys (policy). The engine never includes cd/;
 * this file is the bridge, and it only reads. */
#ifndef MLCI_BASELINE_H
#define MLCI_BASELINE_H

#include "cd/session.h"
#include "ci/run.h"

/* Fill "out" with callbacks answering from session "s" (borrowed; it must outlive the run). */
void pipeline_baselines(struct run_baselines *out, struct cd_session *s);

#endif
