/* deploy.h - deploy hooks run after a state commit: a local command (deploy.c), an HTTP webhook
 * (webhook.c), ssh (deploy_ssh.c) and the health check (health.c); deploy_hooks.c chains them for one
 * environment state. They report success or failure; rolling back is cd/apply.c's. */
#ifndef MLCI_DEPLOY_H
#define MLCI_DEPLOY_H

#include <stdint.h>

#include "cd/env_state.h"
#include "common/error.h"
#include "spec/spec.h"

struct cJSON;

/* What a hook deploys and where its files are, built once per state by deploy_hooks(). */
struct deploy_ctx {
	const char *env;               /* the environment's name */
	const struct env_state *state; /* what is deployed */
	const struct cJSON *json;      /* the state as JSON (what the hooks send) */
	const char *run_dir;           /* $MLCI_HOME/runs/<state.run> (holds deploy-<env>.json) */
	const char *log_dir;           /* $MLCI_HOME/logs/<state.run> (deploy-<env>.log) */
	const char *out_dir;           /* the run's outputs: $run_dir/out */
	const char *workspace;         /* the run's checkout, or $MLCI_HOME when it is gone: the command's cwd */
	const char *model_path;        /* the model file (out_dir/<component>/<name>), NULL when none */
	const char *model_file;        /* its base name, NULL when none */
};

/* Run "command" with /bin/sh -c in the workspace with MLCI_ENV, MLCI_PIPELINE, MLCI_RUN_ID, MLCI_COMMIT,
 * MLCI_MODEL_NAME, MLCI_MODEL_VERSION, MLCI_MODEL (path of the model file), MLCI_STATE_JSON (a file
 * holding the state), MLCI_ARTIFACTS_DIR (the run's outputs), PATH, HOME and any MLCI_DEPLOY_* variable
 * of mlci's own environment; output to deploy-<env>.log. 0 when it exited 0; -1 with the reason in "e"
 * (MLCI_EFAILED for a failing command). */
int deploy_command(const struct deploy_ctx *d, const char *command, struct err *e);

/* POST the state (JSON) to "url" with headers X-Mlci-Event: promote, X-Mlci-Environment: <env> and, when
 * $MLCI_DEPLOY_WEBHOOK_SECRET is set, X-Mlci-Signature-256: sha256=<HMAC-SHA256 of the body>. Success is
 * a 2xx answer; connection errors and 5xx are retried (3 attempts, 1 s then 2 s apart), a 4xx is final.
 * -1 with MLCI_EFAILED and the last reason otherwise. */
int deploy_webhook(const struct deploy_ctx *d, const char *url, struct err *e);

/* The `ssh` hook (deploy_ssh.c): connect to "target" (user@host[:port]), refuse a host key that is not
 * in $MLCI_DEPLOY_KNOWN_HOSTS (default ~/.ssh/known_hosts), log in with $MLCI_DEPLOY_SSH_KEY or the
 * ssh-agent, upload the model file and the state as state.json by SFTP into "dir" (NULL =
 * mlci-deploy/<env>, relative to the login directory), then run "command" there with /bin/sh -c and
 * MLCI_ENV, MLCI_PIPELINE, MLCI_RUN_ID, MLCI_COMMIT, MLCI_MODEL_NAME, MLCI_MODEL_VERSION, MLCI_MODEL and
 * MLCI_STATE_JSON set (quoted assignments). Output to deploy-<env>.log. A non-zero exit is -1 with
 * MLCI_EFAILED. */
int deploy_ssh(const struct deploy_ctx *d, const char *target, const char *command, const char *dir, struct err *e);

/* The post-deploy check (health.c): an http(s) URL is fetched until it answers 2xx, a command is run
 * like deploy_command and must exit 0; within $MLCI_DEPLOY_HEALTH_TIMEOUT (default 30s). -1 with
 * MLCI_EFAILED when unhealthy. */
int deploy_health(const struct deploy_ctx *d, const char *health, struct err *e);
/* The health timeout in ms from $MLCI_DEPLOY_HEALTH_TIMEOUT (default 30 s). */
int deploy_health_timeout_ms(int64_t *out, struct err *e);

/* The environment's hooks for "state" (deploy_hooks.c): ssh (or, without ssh, the local command), then
 * the webhook, then the health check; the first failure is -1 with its reason in "e". The files are the
 * ones of the run that made the state: $home/runs/<run>/out (its outputs), its logs, and its workspace
 * ($home when it is gone). */
int deploy_hooks(const char *home, const struct spec_environment *env, const struct env_state *state, struct err *e);
/* 1 when the environment has any hook. */
int deploy_has_hooks(const struct spec_environment *env);

#endif
