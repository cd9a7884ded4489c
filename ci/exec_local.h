/* exec_local.h - the local step executor: builds a step's declared environment and starts its command.
 * It knows nothing of scheduling (ci/run.c) and never prints. */
#ifndef MLCI_EXEC_LOCAL_H
#define MLCI_EXEC_LOCAL_H

#include "ci/run.h"
#include "common/strvec.h"

/* Default timeout of a step whose component declares none. */
#define EXEC_DEFAULT_TIMEOUT_MS (60LL * 60 * 1000)

/* Fill "env" with exactly what step "s" of run "r" sees: PATH, HOME, LANG, LC_ALL, TZ (from mlci's own
 * environment when set), TMPDIR, the spec's env:, MLCI_PARAM_*, MLCI_RUN_ID, MLCI_COMMIT, MLCI_BRANCH,
 * MLCI_PIPELINE, MLCI_PHASE, MLCI_COMPONENT, and for the run phase MLCI_OUT and MLCI_IN_<UPSTREAM>. */
void exec_local_env(const struct run *r, const struct run_step *s, struct strvec *env);

/* Values to mask in logs: spec env values whose names contain TOKEN, SECRET, PASSWORD, PASSWD or KEY,
 * and the same names passed through from mlci's environment. */
void exec_local_secrets(const struct run *r, struct strvec *secrets);

/* Start step "s": log header, output directory, environment, /bin/sh -c in the component's path. */
int exec_local_start(const struct run *r, struct run_step *s, int stream_output, struct strvec *env,
		     const struct strvec *secrets, struct err *e);

/* The output directory of component "comp" in run "r" (malloc'd). */
char *exec_local_out_dir(const struct run *r, size_t comp);

#endif
