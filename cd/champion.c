/* champion.c - re-verification at promotion (cd/champion.h): both models scored on one pinned evaluation
 * set by the environment's score command, in a checkout of the candidate's commit (which reached "from"
 * through its own gates). It runs the score command and compares; it never prints. */
#include "cd/champion.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cd/gate_evidence.h"
#include "checks/model_checks.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/path.h"
#include "common/proc.h"
#include "common/strvec.h"
#include "git/workspace.h"
#include "registry/artifacts.h"
#include "common/banned.h"

#define SCORE_TIMEOUT_MS (10LL * 60 * 1000)

static void log_line(const char *log, const char *text)
{
	int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		fs_write_all(fd, text, strlen(text));
		close(fd);
	}
}

/* The digest of output "ref" ("component/output") in "s", or NULL. */
static const char *artifact_of(const struct env_state *s, const char *ref)
{
	for (size_t i = 0; i < s->n_artifacts; i++)
		if (!strcmp(s->artifacts[i].name, ref))
			return s->artifacts[i].digest;
	return NULL;
}

/* The base name of the model file of "s" (its artifact's name), or "model". */
static const char *model_file(const struct env_state *s)
{
	const struct env_artifact *a = env_state_model_artifact(s);
	const char *slash = a ? strrchr(a->name, '/') : NULL;
	return a ? (slash ? slash + 1 : a->name) : "model";
}

struct side {
	const char *name; /* "champion" | "candidate" */
	const struct env_state *st;
	cJSON *metrics; /* the score file; owned */
	double value;
	int ok;
	struct buf why;
};

/* Score one side: materialize its model, run the score command, read the metric. */
static int score(struct cd_cmd *c, const char *scratch, const char *workspace, const char *eval_path, struct side *sd,
		 const char *log, struct err *e)
{
	const struct spec_champion *ch = &c->env->champion;
	struct buf model = BUF_INIT, out = BUF_INIT, file = BUF_INIT, text = BUF_INIT;
	struct strvec env = STRVEC_INIT;
	struct proc p;
	struct proc_opts o;
	const cJSON *v;
	int ret = -1;

	buf_addf(&model, "%s/%s/model/%s", scratch, sd->name, model_file(sd->st));
	buf_addf(&out, "%s/%s/out", scratch, sd->name);
	if (artifact_materialize(c->s.home, sd->st->model_artifact, model.ptr, e) < 0 ||
	    fs_mkdir_p(out.ptr, 0755, e) < 0)
		goto done;
	if (getenv("PATH"))
		strvec_setenv(&env, "PATH", getenv("PATH"));
	if (getenv("HOME"))
		strvec_setenv(&env, "HOME", getenv("HOME"));
	if (getenv("LANG"))
		strvec_setenv(&env, "LANG", getenv("LANG"));
	strvec_setenv(&env, "MLCI_ENV", c->q->env);
	strvec_setenv(&env, "MLCI_PIPELINE", c->pipeline);
	strvec_setenv(&env, "MLCI_SIDE", sd->name);
	strvec_setenv(&env, "MLCI_MODEL", model.ptr);
	strvec_setenv(&env, "MLCI_MODEL_NAME", sd->st->model_name ? sd->st->model_name : "");
	strvec_pushf(&env, "MLCI_MODEL_VERSION=%lld", (long long)sd->st->model_version);
	strvec_setenv(&env, "MLCI_EVAL_SET", eval_path);
	strvec_setenv(&env, "MLCI_OUT", out.ptr);
	memset(&o, 0, sizeof(o));
	o.cmd = ch->score;
	o.cwd = workspace;
	o.env = env.v;
	o.log_path = log;
	o.stream_fd = -1;
	o.timeout_ms = SCORE_TIMEOUT_MS;
	memset(&p, 0, sizeof(p));
	{
		struct buf head = BUF_INIT;
		buf_addf(&head, "=== mlci: champion gate of %s: scoring the %s (%s@%lld)\n=== $ %s\n", c->q->env,
			 sd->name, sd->st->model_name, (long long)sd->st->model_version, ch->score);
		log_line(log, head.ptr);
		buf_release(&head);
	}
	if (proc_run(&p, &o, e) < 0)
		goto done;
	if (p.exit_code || p.timed_out) {
		buf_addf(&sd->why, "the score command %s for the %s (log %s)",
			 p.timed_out ? "timed out" : "exited non-zero", sd->name, log);
		proc_release(&p);
		ret = 0;
		goto done;
	}
	proc_release(&p);
	buf_addf(&file, "%s/%s", out.ptr, ch->metrics ? ch->metrics : "metrics.json");
	text.max = 16 << 20;
	if (buf_read_file(&text, file.ptr) < 0 || !(sd->metrics = cJSON_ParseWithLength(text.ptr, text.len)) ||
	    !cJSON_IsObject(sd->metrics)) {
		buf_addf(&sd->why, "the score command wrote no JSON object to $MLCI_OUT/%s for the %s",
			 ch->metrics ? ch->metrics : "metrics.json", sd->name);
		ret = 0;
		goto done;
	}
	v = cJSON_GetObjectItemCaseSensitive(sd->metrics, ch->metric);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
		buf_addf(&sd->why, "the %s's score has no number \"%s\"", sd->name, ch->metric);
		ret = 0;
		goto done;
	}
	sd->value = v->valuedouble;
	sd->ok = 1;
	ret = 0;
done:
	strvec_clear(&env);
	buf_release(&model);
	buf_release(&out);
	buf_release(&file);
	buf_release(&text);
	return ret;
}

/* A checkout of the candidate's commit: its run's workspace, or a fresh one in "scratch". */
static int workspace_of(struct cd_cmd *c, const struct env_state *cand, const char *scratch, struct buf *out,
			struct err *e)
{
	struct ws_source src;
	int ret;
	buf_addf(out, "%s/workspaces/%s", c->s.home, cand->run ? cand->run : "-");
	if (cand->run && fs_is_dir(out->ptr))
		return 0;
	buf_reset(out);
	buf_addf(out, "%s/workspace", scratch);
	if (!c->s.repo || !cand->commit)
		return err_set(e, MLCI_EINFRA, "champion gate: no checkout of the candidate's commit to score in");
	memset(&src, 0, sizeof(src));
	ret = ws_source_open(&src, c->s.home, c->s.repo, e) < 0 || ws_checkout(&src, cand->commit, out->ptr, e) < 0 ? -1
														    : 0;
	ws_source_release(&src);
	return ret < 0 ? err_prefix(e, "champion gate") : 0;
}

static void add_numbers(cJSON *into, const char *key, const cJSON *metrics)
{
	cJSON *o = cJSON_AddObjectToObject(into, key);
	const cJSON *it;
	cJSON_ArrayForEach(it, metrics) {
		if (cJSON_IsNumber(it) || cJSON_IsObject(it))
			cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
	}
}

int cd_champion_gate(struct cd_cmd *c, const struct env_state *champion, const struct env_state *cand,
		     struct verdicts *gates, struct err *e)
{
	const struct spec_champion *ch = &c->env->champion;
	struct side sides[2];
	struct buf scratch = BUF_INIT, ws = BUF_INIT, eval = BUF_INIT, log = BUF_INIT;
	const char *digest = artifact_of(cand, ch->eval_set);
	const char *slash = strrchr(ch->eval_set, '/');
	cJSON *d;
	int ret = -1;

	if (!champion || !champion->model_version || !champion->model_artifact) {
		cd_gate(gates, "champion", VERDICT_PASS, NULL, "%s runs no model: nothing to beat", c->q->env);
		return 0;
	}
	if (!digest) {
		cd_gate(gates, "champion", VERDICT_FAIL, NULL, "the candidate's run %s has no output %s to score on",
			cand->run ? cand->run : "-", ch->eval_set);
		return 0;
	}
	memset(sides, 0, sizeof(sides));
	sides[0].name = "champion";
	sides[0].st = champion;
	sides[1].name = "candidate";
	sides[1].st = cand;
	buf_addf(&scratch, "%s/tmp/champion-%s-%ld", c->s.home, c->q->env, (long)getpid());
	buf_addf(&log, "%s/logs/%s", c->s.home, cand->run ? cand->run : "none");
	if (fs_rm_rf(scratch.ptr, e) < 0 || fs_mkdir_p(scratch.ptr, 0700, e) < 0 || fs_mkdir_p(log.ptr, 0755, e) < 0)
		goto done;
	buf_addf(&log, "/champion-%s.log", c->q->env);
	/* the evaluation set, pinned by its digest: both models see the same bytes */
	buf_addf(&eval, "%s/eval/%s", scratch.ptr, slash ? slash + 1 : ch->eval_set);
	if (artifact_materialize(c->s.home, digest, eval.ptr, e) < 0 || workspace_of(c, cand, scratch.ptr, &ws, e) < 0)
		goto done;
	for (int i = 0; i < 2; i++)
		if (score(c, scratch.ptr, ws.ptr, eval.ptr, &sides[i], log.ptr, e) < 0)
			goto done;
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "metric", ch->metric);
	cJSON_AddStringToObject(d, "eval_set", ch->eval_set);
	cJSON_AddStringToObject(d, "eval_digest", digest);
	cJSON_AddStringToObject(d, "champion_model", champion->model_name ? champion->model_name : "");
	cJSON_AddNumberToObject(d, "champion_version", (double)champion->model_version);
	if (sides[0].metrics)
		add_numbers(d, "champion", sides[0].metrics);
	if (sides[1].metrics)
		add_numbers(d, "candidate", sides[1].metrics);
	if (!sides[0].ok || !sides[1].ok) {
		cd_gate(gates, "champion", VERDICT_FAIL, d, "could not score: %s",
			!sides[0].ok ? sides[0].why.ptr : sides[1].why.ptr);
	} else {
		int lower = ch->lower_is_better || model_lower_is_better(ch->metric, NULL);
		double tol = ch->relative ? fabs(sides[0].value) * ch->tolerance : ch->tolerance;
		double worse = lower ? sides[1].value - sides[0].value : sides[0].value - sides[1].value;
		cJSON_AddNumberToObject(d, "tolerance", tol);
		cJSON_AddBoolToObject(d, "lower_is_better", lower);
		cd_gate(gates, "champion", worse > tol ? VERDICT_FAIL : VERDICT_PASS, d,
			"%s on %s (%.12s): candidate %s@%lld %.6g vs champion %s@%lld %.6g (%s is better, tolerance "
			"%.4g)%s",
			ch->metric, ch->eval_set, digest, cand->model_name, (long long)cand->model_version,
			sides[1].value, champion->model_name, (long long)champion->model_version, sides[0].value,
			lower ? "lower" : "higher", tol, worse > tol ? ": the candidate is worse" : "");
	}
	ret = 0;
done:
	for (int i = 0; i < 2; i++) {
		cJSON_Delete(sides[i].metrics);
		buf_release(&sides[i].why);
	}
	if (scratch.len)
		fs_rm_rf(scratch.ptr, NULL);
	buf_release(&scratch);
	buf_release(&ws);
	buf_release(&eval);
	buf_release(&log);
	return ret;
}
