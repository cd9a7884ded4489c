/* deploy.c - the `command` deploy hook: a local process with the state JSON and the run's outputs.
 * Uses the one process runner (common/proc.c); it must not print. */
#include "cd/deploy.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/path.h"
#include "common/proc.h"
#include "common/strvec.h"
#include "common/banned.h"

extern char **environ;

#define DEPLOY_TIMEOUT_MS (10LL * 60 * 1000)

int deploy_command(const struct run *r, const char *env, const char *command, const cJSON *state, struct err *e)
{
	struct strvec envv = STRVEC_INIT;
	struct buf path = BUF_INIT, log = BUF_INIT;
	struct proc p;
	struct proc_opts o;
	char *text = cJSON_Print(state);
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(state, "model");
	const cJSON *ver = model ? cJSON_GetObjectItemCaseSensitive(model, "version") : NULL;
	int ret = -1;

	buf_addf(&path, "%s/deploy-%s.json", r->run_dir, env);
	buf_addf(&log, "%s/deploy-%s.log", r->log_dir, env);
	if (!text || fs_write_atomic(path.ptr, text, strlen(text), 0644, e) < 0)
		goto done;
	if (getenv("PATH"))
		strvec_setenv(&envv, "PATH", getenv("PATH"));
	if (getenv("HOME"))
		strvec_setenv(&envv, "HOME", getenv("HOME"));
	strvec_setenv(&envv, "MLCI_ENV", env);
	strvec_setenv(&envv, "MLCI_PIPELINE", r->spec.pipeline);
	strvec_setenv(&envv, "MLCI_RUN_ID", r->id);
	strvec_setenv(&envv, "MLCI_COMMIT", r->commit.id);
	strvec_setenv(&envv, "MLCI_STATE_JSON", path.ptr);
	strvec_setenv(&envv, "MLCI_ARTIFACTS_DIR", r->out_dir);
	strvec_setenv(&envv, "MLCI_MODEL_NAME", r->spec.model ? r->spec.model : "");
	/* MLCI_MODEL: the model file of the run, when one was registered */
	for (size_t c = 0; r->model_digest && r->comps && c < r->spec.n_components; c++)
		for (size_t i = 0; i < r->comps[c].n_outputs; i++)
			if (!strcmp(r->comps[c].outputs[i].digest, r->model_digest) &&
			    !strvec_getenv(&envv, "MLCI_MODEL"))
				strvec_pushf(&envv, "MLCI_MODEL=%s/%s/%s", r->out_dir, r->spec.components[c].name,
					     r->comps[c].outputs[i].name);
	/* outside a run (mlci promote, rollback): the model file from the state's artifacts */
	if (!strvec_getenv(&envv, "MLCI_MODEL") && cJSON_IsObject(model)) {
		const cJSON *dg = cJSON_GetObjectItemCaseSensitive(model, "artifact"), *it;
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(state, "artifacts"))
			if (cJSON_IsString(dg) && cJSON_IsString(it) && !strcmp(it->valuestring, dg->valuestring) &&
			    !strvec_getenv(&envv, "MLCI_MODEL"))
				strvec_pushf(&envv, "MLCI_MODEL=%s/%s", r->out_dir, it->string);
	}
	/* operator settings for deploy hooks pass through: MLCI_DEPLOY_* */
	for (char **ev = environ; *ev; ev++)
		if (!strncmp(*ev, "MLCI_DEPLOY_", 12))
			strvec_push(&envv, *ev);
	if (cJSON_IsNumber(ver))
		strvec_pushf(&envv, "MLCI_MODEL_VERSION=%d", ver->valueint);
	memset(&o, 0, sizeof(o));
	o.cmd = command;
	o.cwd = r->workspace;
	o.env = envv.v;
	o.log_path = log.ptr;
	o.stream_fd = -1;
	o.timeout_ms = DEPLOY_TIMEOUT_MS;
	memset(&p, 0, sizeof(p));
	if (proc_run(&p, &o, e) < 0)
		goto done;
	if (p.timed_out)
		err_set(e, MLCI_EFAILED, "deploy command timed out (log: %s)", log.ptr);
	else if (p.exit_code != 0)
		err_set(e, MLCI_EFAILED, "deploy command exited with status %d (log: %s)", p.exit_code, log.ptr);
	else
		ret = 0;
	proc_release(&p);
done:
	free(text);
	strvec_clear(&envv);
	buf_release(&path);
	buf_release(&log);
	return ret;
}
