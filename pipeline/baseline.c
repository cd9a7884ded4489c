/* baseline.c - the engine's questions to the trusted side, answered from a promotion session
 * (pipeline/baseline.h): the state repo says what an environment runs, the policy where a branch
 * deploys. Reads only; it must not print. */
#include "pipeline/baseline.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/banned.h"

static int env_model(void *payload, const char *pipeline, const char *env, struct run_baseline *out, struct buf *why,
		     struct err *e)
{
	struct cd_session *s = payload;
	struct state_repo *sr;
	struct env_state st;
	int has = cd_session_has_state(s, e), r;
	if (has < 0)
		return -1;
	if (!has) {
		buf_addf(why, "no model in %s", env);
		return 0;
	}
	/* an unreachable remote state repo: compare with the last state fetched */
	if (cd_session_state(s, 1, &sr, e) < 0)
		return -1;
	r = state_read(sr, pipeline, env, &st, NULL, e);
	if (r < 0) {
		env_state_release(&st);
		return -1;
	}
	if (!r || !st.model_version) {
		buf_addf(why, "no model in %s", env);
		r = 0;
	} else if (st.pipeline && strcmp(st.pipeline, pipeline)) {
		buf_addf(why, "%s runs pipeline %s", env, st.pipeline);
		r = 0;
	} else if (!st.model_name || !st.run) {
		buf_addf(why, "the %s state names no model version", env);
		r = 0;
	} else {
		out->run = xstrdup(st.run);
		out->model = xstrdup(st.model_name);
		out->version = st.model_version;
		r = 1;
	}
	env_state_release(&st);
	return r;
}

static int deploy_target(void *payload, const char *repo, const char *branch, char **ssh, char **dir, struct err *e)
{
	struct cd_session *s = payload;
	const struct policy *pol;
	const struct spec_environment *env;
	*ssh = *dir = NULL;
	cd_session_set_repo(s, repo, 0);
	if (cd_session_policy(s, &pol, e) < 0)
		return -1;
	env = pol->spec ? spec_environment_for_branch(pol->spec, branch) : NULL;
	if (!env || !env->deploy_ssh)
		return 0;
	*ssh = xstrdup(env->deploy_ssh);
	if (env->deploy_dir) {
		*dir = xstrdup(env->deploy_dir);
	} else {
		struct buf b = BUF_INIT;
		buf_addf(&b, "mlci-deploy/%s", env->name);
		*dir = buf_detach(&b, NULL);
	}
	return 0;
}

void pipeline_baselines(struct run_baselines *out, struct cd_session *s)
{
	memset(out, 0, sizeof(*out));
	out->env_model = env_model;
	out->deploy_target = deploy_target;
	out->payload = s;
}
