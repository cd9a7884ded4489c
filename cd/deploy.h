/* deploy.h - deploy hooks run after a state commit: a local command (deploy.c), an HTTP webhook
 * (webhook.c), ssh (deploy_ssh.c) and the health check (health.c). deploy_hooks.c chains them. They report success or
 * failure; rollback is the caller's. */
#ifndef MLCI_DEPLOY_H
#define MLCI_DEPLOY_H

#include <cjson/cJSON.h>

#include "ci/run.h"

/* Run "command" with /bin/sh -c in the run's workspace with MLCI_ENV, MLCI_PIPELINE, MLCI_RUN_ID,
 * MLCI_COMMIT, MLCI_MODEL_NAME, MLCI_MODEL_VERSION, MLCI_MODEL (path of the registered model file),
 * MLCI_STATE_JSON (a file holding "state"), MLCI_ARTIFACTS_DIR (the run's outputs), PATH, HOME and any
 * MLCI_DEPLOY_* variable of mlci's own environment; output to $MLCI_HOME/logs/<run>/deploy-<env>.log. 0 when it exited
 * 0; -1 with the reason in "e" (MLCI_EFAILED for a failing command). */
int deploy_command(const struct run *r, const char *env, const char *command, const cJSON *state, struct err *e);

/* POST "state" (JSON) to "url" with headers X-Mlci-Event: promote, X-Mlci-Environment: <env> and, when
 * $MLCI_DEPLOY_WEBHOOK_SECRET is set, X-Mlci-Signature-256: sha256=<HMAC-SHA256 of the body>. Success is
 * a 2xx answer; connection errors and 5xx are retried (3 attempts, 1 s then 2 s apart), a 4xx is final.
 * -1 with MLCI_EFAILED and the last reason otherwise. */
int deploy_webhook(const char *env, const char *url, const cJSON *state, struct err *e);

/* The `ssh` hook (deploy_ssh.c): connect to "target" (user@host[:port]), refuse a host key that is not
 * in $MLCI_DEPLOY_KNOWN_HOSTS (default ~/.ssh/known_hosts), log in with $MLCI_DEPLOY_SSH_KEY or the
 * ssh-agent, upload the run's model file and the state as state.json by SFTP into "dir" (NULL =
 * mlci-deploy/<env>, relative to the login directory), then run "command" there with /bin/sh -c and
 * MLCI_ENV, MLCI_PIPELINE, MLCI_RUN_ID, MLCI_COMMIT, MLCI_MODEL_NAME, MLCI_MODEL_VERSION, MLCI_MODEL and
 * MLCI_STATE_JSON set (quoted assignments). Output to $MLCI_HOME/logs/<run>/deploy-<env>.log. A non-zero
 * exit is -1 with MLCI_EFAILED. */
int deploy_ssh(const struct run *r, const char *env, const char *target, const char *command, const char *dir,
	       const cJSON *state, struct err *e);

/* The post-deploy check (health.c): an http(s) URL is fetched until it answers 2xx, a command is run
 * like deploy_command and must exit 0; within $MLCI_DEPLOY_HEALTH_TIMEOUT (default 30s). -1 with
 * MLCI_EFAILED when unhealthy. */
int deploy_health(const struct run *r, const char *env, const char *health, const cJSON *state, struct err *e);
/* The health timeout in ms from $MLCI_DEPLOY_HEALTH_TIMEOUT (default 30 s). */
int deploy_health_timeout_ms(int64_t *out, struct err *e);

/* The environment's hooks for "state" (deploy_hooks.c): ssh (or, without ssh, the local command), then
 * the webhook, then the health check; the first failure is -1 with its reason in "e". */
int deploy_hooks(const struct run *r, const struct spec_environment *env, const cJSON *state, struct err *e);
/* The same for a state outside the run that produced it: a shell run pointing at
 * $home/runs/<state.run> (its outputs), its logs and its workspace ($home when it is gone). */
int deploy_hooks_for_state(const char *home, const char *pipeline, const struct spec_environment *env,
			   const cJSON *state, struct err *e);

/* The state that replaces one whose deploy failed: a copy of "previous" (an empty state naming pipeline
 * and env when there was none) marked "deploy_failed": { state_commit: the failed state's commit,
 * reason }, so that mlci rollback never picks the failed state. Caller owns the result. */
cJSON *deploy_restore_state(const cJSON *previous, const char *pipeline, const char *env, const char *failed_commit,
			    const char *reason);

#endif
