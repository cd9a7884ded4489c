/* run_int.h - internals shared by the files of the run engine (ci/run.c, plan.c, schedule.c, step.c,
 * run_store.c, run_checks*.c). Not an API: nothing outside ci/ includes it. */
#ifndef MLCI_RUN_INT_H
#define MLCI_RUN_INT_H

#include "ci/run.h"
#include "common/strvec.h"

/* Default timeout of a step whose component declares none. */
#define STEP_DEFAULT_TIMEOUT_MS (60LL * 60 * 1000)

/* Replace *slot with a printf-formatted string. */
void run_set_reason(char **slot, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* plan.c: every component's build then test (the CI phase), then every component's run step. */
int run_plan(struct run *r, struct err *e);

/* schedule.c: start ready steps up to -j, wait, skip what can never run, run the checks as their inputs
 * appear; 1 when a stop request cancelled the run, else 0. */
int run_schedule(struct run *r, const struct run_opts *o, struct err *e);

/* step.c: start step "s" on r->exec (fresh output dir, log header, environment, command) and, once the
 * executor says it finished, turn its result into the step's status (declared outputs checked and
 * stored). */
int step_start(struct run *r, struct run_step *s, int stream_output, const struct strvec *secrets, struct err *e);
void step_finish(struct run *r, struct run_step *s);
/* The environment of a step of component "comp" in "phase" of run "r" (see ci/step_env.h), with
 * MLCI_OUT = "out_dir" when not NULL. */
void step_env_of(const struct run *r, size_t comp, enum step_phase phase, const char *out_dir, struct strvec *env);
/* The environment of the prediction service a run starts: the run's facts, every component's outputs
 * as $MLCI_IN_<NAME>, no $MLCI_OUT. */
void service_env_of(const struct run *r, struct strvec *env);

#endif
