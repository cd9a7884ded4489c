/* deploy.c - the `command` deploy hook: a local process with the state JSON and the run's outputs.
 * Uses the one process runner (common/proc.c); it must not print. */
#include "cd/deploy.h"

#include <cjson/cJSON.h>
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

int deploy_command(const struct deploy_ctx *d, const char *command, struct err *e)
{
	struct strvec envv = STRVEC_INIT;
	struct buf path = BUF_INIT, log = BUF_INIT;
	struct proc p;
	struct proc_opts o;
	char *text = cJSON_Print(d->json);
	const struct env_state *st = d->state;
	int ret = -1;

	buf_addf(&path, "%s/deploy-%s.json", d->run_dir, d->env);
	buf_addf(&log, "%s/deploy-%s.log", d->log_dir, d->env);
	if (!text || fs_write_atomic(path.ptr, text, strlen(text), 0644, e) < 0)
		goto done;
	if (getenv("PATH"))
		strvec_setenv(&envv, "PATH", getenv("PATH"));
	if (getenv("HOME"))
		strvec_setenv(&envv, "HOME", getenv("HOME"));
	strvec_setenv(&envv, "MLCI_ENV", d->env);
	strvec_setenv(&envv, "MLCI_PIPELINE", st->pipeline ? st->pipeline : "");
	strvec_setenv(&envv, "MLCI_RUN_ID", st->run ? st->run : "none");
	strvec_setenv(&envv, "MLCI_COMMIT", st->commit ? st->commit : "");
	strvec_setenv(&envv, "MLCI_STATE_JSON", path.ptr);
	strvec_setenv(&envv, "MLCI_ARTIFACTS_DIR", d->out_dir);
	strvec_setenv(&envv, "MLCI_MODEL_NAME", st->model_name ? st->model_name : "");
	if (d->model_path)
		strvec_setenv(&envv, "MLCI_MODEL", d->model_path);
	/* operator settings for deploy hooks pass through: MLCI_DEPLOY_* */
	for (char **ev = environ; *ev; ev++)
		if (!strncmp(*ev, "MLCI_DEPLOY_", 12))
			strvec_push(&envv, *ev);
	if (st->model_version)
		strvec_pushf(&envv, "MLCI_MODEL_VERSION=%lld", (long long)st->model_version);
	memset(&o, 0, sizeof(o));
	o.cmd = command;
	o.cwd = d->workspace;
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
