/* deploy_hooks.c - an environment's deploy hooks in order (ssh or command, webhook, health), for the run
 * that made a state or, outside it (mlci promote, mlci rollback, the redeploy after a failed deploy),
 * for a state read back from the state repo. */
#include "cd/deploy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/banned.h"

int deploy_hooks(const struct run *r, const struct spec_environment *env, const cJSON *state, struct err *e)
{
	if (env->deploy_ssh) {
		if (deploy_ssh(r, env->name, env->deploy_ssh, env->deploy_command, env->deploy_dir, state, e) < 0)
			return -1;
	} else if (env->deploy_command && deploy_command(r, env->name, env->deploy_command, state, e) < 0) {
		return -1;
	}
	if (env->deploy_webhook && deploy_webhook(env->name, env->deploy_webhook, state, e) < 0)
		return -1;
	if (env->health && deploy_health(r, env->name, env->health, state, e) < 0)
		return -1;
	return 0;
}

static const char *state_str(const cJSON *o, const char *k)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int deploy_hooks_for_state(const char *home, const char *pipeline, const struct spec_environment *env,
			   const cJSON *state, struct err *e)
{
	struct run r;
	struct buf b = BUF_INIT;
	const char *run_id = state_str(state, "run") ? state_str(state, "run") : "none";
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(state, "model");
	const char *model = cJSON_IsObject(m) ? state_str(m, "name") : NULL;
	int ret = -1;

	if (!env->deploy_command && !env->deploy_webhook && !env->deploy_ssh && !env->health)
		return 0;
	/* a shell run: ids, directories and names only; no components, so the hooks take the model file
	 * from the state's artifacts */
	memset(&r, 0, sizeof(r));
	snprintf(r.id, sizeof(r.id), "%s", run_id);
	snprintf(r.commit.id, sizeof(r.commit.id), "%s", state_str(state, "commit") ? state_str(state, "commit") : "");
	buf_addf(&b, "%s/runs/%s", home, run_id);
	r.run_dir = buf_detach(&b, NULL);
	buf_addf(&b, "%s/out", r.run_dir);
	r.out_dir = buf_detach(&b, NULL);
	buf_addf(&b, "%s/logs/%s", home, run_id);
	r.log_dir = buf_detach(&b, NULL);
	buf_addf(&b, "%s/workspaces/%s", home, run_id);
	r.workspace = buf_detach(&b, NULL);
	if (!fs_is_dir(r.workspace)) {
		free(r.workspace);
		r.workspace = xstrdup(home);
	}
	r.spec.pipeline = xstrdup(pipeline);
	r.spec.model = model ? xstrdup(model) : NULL;
	if (fs_mkdir_p(r.run_dir, 0755, e) < 0 || fs_mkdir_p(r.log_dir, 0755, e) < 0)
		goto done;
	ret = deploy_hooks(&r, env, state, e);
done:
	free(r.run_dir);
	free(r.out_dir);
	free(r.log_dir);
	free(r.workspace);
	free(r.spec.pipeline);
	free(r.spec.model);
	return ret;
}

cJSON *deploy_restore_state(const cJSON *previous, const char *pipeline, const char *env, const char *failed_commit,
			    const char *reason)
{
	cJSON *restore = previous ? cJSON_Duplicate(previous, 1) : cJSON_CreateObject();
	cJSON *mark;
	if (!previous) {
		cJSON_AddStringToObject(restore, "environment", env);
		cJSON_AddStringToObject(restore, "pipeline", pipeline);
		cJSON_AddNullToObject(restore, "model");
		cJSON_AddStringToObject(restore, "note", "emptied: the first deploy failed");
	}
	cJSON_DeleteItemFromObjectCaseSensitive(restore, "deploy_failed");
	mark = cJSON_AddObjectToObject(restore, "deploy_failed");
	cJSON_AddStringToObject(mark, "state_commit", failed_commit);
	cJSON_AddStringToObject(mark, "reason", reason);
	return restore;
}
