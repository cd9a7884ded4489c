/* run_json.c - serialises a run (status, commit, steps with times and reasons, spec errors) with cJSON.
 * It must not print; cmd/ decides where the JSON goes. */
#include "ci/run_json.h"

#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/path.h"
#include "common/banned.h"

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

cJSON *run_to_json(const struct run *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *commit = cJSON_AddObjectToObject(o, "commit");
	cJSON *steps = cJSON_AddArrayToObject(o, "steps");

	add_str(o, "id", r->id);
	add_str(o, "pipeline", r->spec.pipeline);
	add_str(o, "status", run_status_name(r->status));
	add_str(o, "reason", r->reason);
	add_str(o, "repo", r->repo);
	add_str(o, "trigger", r->trigger);
	add_str(o, "branch", r->commit.branch);
	cJSON_AddNumberToObject(o, "jobs", r->jobs);
	cJSON_AddNumberToObject(o, "started_at_ms", (double)r->started_at_ms);
	cJSON_AddNumberToObject(o, "finished_at_ms", (double)r->finished_at_ms);
	cJSON_AddNumberToObject(
		o, "duration_ms",
		(double)(r->finished_at_ms > r->started_at_ms ? r->finished_at_ms - r->started_at_ms : 0));
	add_str(o, "workspace", r->workspace);
	add_str(o, "outputs", r->out_dir);
	add_str(o, "logs", r->log_dir);
	add_str(o, "resumed_from", r->resumed_from);
	if (r->model_version) {
		cJSON *m = cJSON_AddObjectToObject(o, "model");
		add_str(m, "name", r->spec.model);
		cJSON_AddNumberToObject(m, "version", (double)r->model_version);
		add_str(m, "artifact", r->model_digest);
		cJSON_AddBoolToObject(m, "new", r->model_created);
	}

	add_str(commit, "id", r->commit.id[0] ? r->commit.id : NULL);
	add_str(commit, "subject", r->commit.subject);
	add_str(commit, "author", r->commit.author_name);
	add_str(commit, "author_email", r->commit.author_email);
	cJSON_AddNumberToObject(commit, "time", (double)r->commit.time);

	if (r->spec.params.n) {
		cJSON *params = cJSON_AddObjectToObject(o, "params");
		for (size_t i = 0; i < r->spec.params.n; i++)
			cJSON_AddStringToObject(params, r->spec.params.items[i].key, r->spec.params.items[i].value);
	}
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct run_step *s = &r->steps[i];
		cJSON *j = cJSON_CreateObject();
		add_str(j, "component", s->component);
		add_str(j, "phase", step_phase_name(s->phase));
		add_str(j, "status", step_status_name(s->status));
		if (s->status == STEP_PASSED || s->status == STEP_FAILED || s->status == STEP_CANCELLED)
			cJSON_AddNumberToObject(j, "exit_code", s->exit_code);
		else
			cJSON_AddNullToObject(j, "exit_code");
		cJSON_AddBoolToObject(j, "timed_out", s->timed_out);
		cJSON_AddNumberToObject(j, "started_at_ms", (double)s->started_at_ms);
		cJSON_AddNumberToObject(j, "duration_ms", (double)s->duration_ms);
		add_str(j, "reason", s->reason);
		add_str(j, "cache_key", s->key[0] ? s->key : NULL);
		add_str(j, "cached_from", s->cached_from);
		{
			char *log = run_log_path(r, s->component);
			add_str(j, "log", log);
			free(log);
		}
		if (s->phase == PHASE_RUN && r->comps && r->comps[s->comp].n_outputs) {
			const struct run_comp *rc = &r->comps[s->comp];
			cJSON *outs = cJSON_AddObjectToObject(j, "outputs");
			for (size_t k = 0; k < rc->n_outputs; k++)
				cJSON_AddStringToObject(outs, rc->outputs[k].name, rc->outputs[k].digest);
		}
		cJSON_AddItemToArray(steps, j);
	}
	{
		cJSON *checks = cJSON_AddArrayToObject(o, "checks");
		for (size_t i = 0; i < r->checks.n; i++) {
			const struct verdict *v = &r->checks.items[i];
			cJSON *j = cJSON_CreateObject();
			add_str(j, "name", v->name);
			add_str(j, "kind", v->kind);
			add_str(j, "status", verdict_status_name(v->status));
			add_str(j, "summary", v->summary);
			cJSON_AddNumberToObject(j, "started_ms", (double)v->started_ms);
			cJSON_AddNumberToObject(j, "duration_ms", (double)v->duration_ms);
			cJSON_AddItemToObject(j, "details",
					      v->details ? cJSON_Duplicate(v->details, 1) : cJSON_CreateObject());
			cJSON_AddItemToArray(checks, j);
		}
	}
	if (r->diags.n) {
		cJSON *errs = cJSON_AddArrayToObject(o, "spec_errors");
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < r->diags.n; i++) {
			buf_reset(&b);
			diag_format(&r->diags, i, &b);
			cJSON_AddItemToArray(errs, cJSON_CreateString(b.ptr));
		}
		buf_release(&b);
	}
	return o;
}

int run_json_write(const struct run *r, struct err *e)
{
	cJSON *j = run_to_json(r);
	char *text = cJSON_Print(j);
	char *path = path_join(r->run_dir, "run.json");
	int ret;
	cJSON_Delete(j);
	if (!text) {
		free(path);
		return err_set(e, MLCI_EINFRA, "could not serialise run %s", r->id);
	}
	ret = fs_write_atomic(path, text, strlen(text), 0644, e);
	free(text);
	free(path);
	return ret;
}
