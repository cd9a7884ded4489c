/* step_env.h - the one builder of what a step's process sees: its environment and the values masked in
 * its output. Used by the engine's steps, the checks a run starts (overfit sample, the prediction
 * service) and `mlci check service`. It builds; it starts nothing and never prints. */
#ifndef MLCI_STEP_ENV_H
#define MLCI_STEP_ENV_H

#include <stddef.h>

#include "common/strvec.h"
#include "spec/spec.h"

/* What a step's environment is made of. Every NULL string leaves its variable unset. */
struct step_env {
	const struct spec *spec; /* env:, params: and the component names; required */
	const char *run_id;      /* MLCI_RUN_ID */
	const char *commit;      /* MLCI_COMMIT */
	const char *branch;      /* MLCI_BRANCH ("" when the run has none but run_id is set) */
	const char *workspace;   /* MLCI_WORKSPACE */
	const char *tmpdir;      /* TMPDIR; NULL = passed through from mlci's environment when set */
	const char *component;   /* MLCI_COMPONENT */
	const char *phase;       /* MLCI_PHASE */
	const char *out_dir;     /* MLCI_OUT */
	/* MLCI_IN_<NAME> = outputs_root/<name> for the components "inputs" lists (indices into spec
	 * components), or for every component when all_inputs is set */
	const char *outputs_root;
	const size_t *inputs;
	size_t n_inputs;
	int all_inputs;
};

/* Fill "env" (NAME=value entries) with exactly what a step sees: PATH, HOME, LANG, LC_ALL, TZ from
 * mlci's own environment (PATH and HOME with defaults), TMPDIR, the spec's env:, MLCI_PARAM_<NAME> for
 * every param, MLCI_PIPELINE, then the run's facts set in "f". */
void step_env_build(const struct step_env *f, struct strvec *env);

/* Values to mask in logs: spec env values whose names contain TOKEN, SECRET, PASSWORD, PASSWD or KEY
 * (four characters or longer). */
void step_env_secrets(const struct spec *spec, struct strvec *secrets);

#endif
