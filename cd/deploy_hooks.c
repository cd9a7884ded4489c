/* deploy_hooks.c - an environment's deploy hooks in order (ssh or command, webhook, health) for one
 * state: the same for a state a run just made and for one read back from the state repo (mlci promote,
 * rollback, the redeploy after a failed deploy). It runs hooks; it does not decide or print. */
#include "cd/deploy.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/banned.h"

int deploy_has_hooks(const struct spec_environment *env)
{
	return env->deploy_command || env->deploy_webhook || env->deploy_ssh || env->health;
}

int deploy_hooks(const char *home, const struct spec_environment *env, const struct env_state *state, struct err *e)
{
	struct deploy_ctx d;
	struct buf run_dir = BUF_INIT, log_dir = BUF_INIT, out_dir = BUF_INIT, ws = BUF_INIT, model = BUF_INIT;
	const char *run_id = state->run ? state->run : "none";
	const struct env_artifact *ma = env_state_model_artifact(state);
	cJSON *json = NULL;
	int ret = -1;

	if (!deploy_has_hooks(env))
		return 0;
	buf_addf(&run_dir, "%s/runs/%s", home, run_id);
	buf_addf(&out_dir, "%s/out", run_dir.ptr);
	buf_addf(&log_dir, "%s/logs/%s", home, run_id);
	buf_addf(&ws, "%s/workspaces/%s", home, run_id);
	if (!fs_is_dir(ws.ptr)) {
		buf_reset(&ws);
		buf_addstr(&ws, home);
	}
	if (fs_mkdir_p(run_dir.ptr, 0755, e) < 0 || fs_mkdir_p(log_dir.ptr, 0755, e) < 0)
		goto done;
	json = env_state_to_json(state);
	memset(&d, 0, sizeof(d));
	d.env = env->name;
	d.state = state;
	d.json = json;
	d.run_dir = run_dir.ptr;
	d.log_dir = log_dir.ptr;
	d.out_dir = out_dir.ptr;
	d.workspace = ws.ptr;
	if (ma) {
		const char *slash = strrchr(ma->name, '/');
		buf_addf(&model, "%s/%s", out_dir.ptr, ma->name);
		d.model_path = model.ptr;
		d.model_file = slash ? slash + 1 : ma->name;
	}
	if (env->deploy_ssh) {
		if (deploy_ssh(&d, env->deploy_ssh, env->deploy_command, env->deploy_dir, e) < 0)
			goto done;
	} else if (env->deploy_command && deploy_command(&d, env->deploy_command, e) < 0) {
		goto done;
	}
	if (env->deploy_webhook && deploy_webhook(&d, env->deploy_webhook, e) < 0)
		goto done;
	if (env->health && deploy_health(&d, env->health, e) < 0)
		goto done;
	ret = 0;
done:
	cJSON_Delete(json);
	buf_release(&run_dir);
	buf_release(&log_dir);
	buf_release(&out_dir);
	buf_release(&ws);
	buf_release(&model);
	return ret;
}
