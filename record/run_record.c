/* run_record.c - the run record's life cycle and lookups (record/run_record.h). Data only: it must not
 * decide anything about a run, print, or touch the store. */
#include "record/run_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/banned.h"

const char *run_status_name(enum run_status s)
{
	static const char *const names[] = { "queued", "running", "passed", "failed", "error", "cancelled" };
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

const char *step_status_name(enum step_status s)
{
	static const char *const names[] = {
		"pending", "running", "passed", "failed", "skipped", "cached", "cancelled"
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

const char *step_phase_name(enum step_phase p)
{
	static const char *const names[] = { "build", "test", "run" };
	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "unknown";
}

void run_record_init(struct run_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	strvec_init(&rec->params_keys);
	strvec_init(&rec->params_values);
	strvec_init(&rec->spec_errors);
}

void run_record_release(struct run_record *rec)
{
	for (size_t i = 0; i < rec->n_steps; i++) {
		free(rec->steps[i].component);
		free(rec->steps[i].reason);
		free(rec->steps[i].cached_from);
		free(rec->steps[i].log_path);
	}
	free(rec->steps);
	for (size_t i = 0; i < rec->n_outputs; i++) {
		free(rec->outputs[i].component);
		free(rec->outputs[i].name);
	}
	free(rec->outputs);
	verdicts_release(&rec->checks);
	strvec_clear(&rec->params_keys);
	strvec_clear(&rec->params_values);
	strvec_clear(&rec->spec_errors);
	free(rec->reason);
	free(rec->pipeline);
	free(rec->model);
	free(rec->repo);
	free(rec->trigger);
	free(rec->resumed_from);
	free(rec->branch);
	free(rec->subject);
	free(rec->message);
	free(rec->author_name);
	free(rec->author_email);
	free(rec->home);
	free(rec->run_dir);
	free(rec->workspace);
	free(rec->out_dir);
	free(rec->log_dir);
	run_record_init(rec);
}

struct run_record_step *run_record_add_step(struct run_record *rec, const char *component, enum step_phase phase)
{
	struct run_record_step *s;
	rec->steps = xrealloc(rec->steps, (rec->n_steps + 1) * sizeof(*rec->steps));
	s = &rec->steps[rec->n_steps++];
	memset(s, 0, sizeof(*s));
	s->component = xstrdup(component);
	s->phase = phase;
	s->status = STEP_PENDING;
	return s;
}

struct run_record_output *run_record_add_output(struct run_record *rec, const char *component, const char *name,
						const char *digest, int64_t size)
{
	struct run_record_output *o;
	rec->outputs = xrealloc(rec->outputs, (rec->n_outputs + 1) * sizeof(*rec->outputs));
	o = &rec->outputs[rec->n_outputs++];
	memset(o, 0, sizeof(*o));
	o->component = xstrdup(component);
	o->name = xstrdup(name);
	snprintf(o->digest, sizeof(o->digest), "%s", digest);
	o->size = size;
	return o;
}

const struct run_record_output *run_record_output(const struct run_record *rec, const char *component, const char *name)
{
	for (size_t i = 0; i < rec->n_outputs; i++)
		if (!strcmp(rec->outputs[i].component, component) && !strcmp(rec->outputs[i].name, name))
			return &rec->outputs[i];
	return NULL;
}

const struct run_record_output *run_record_model_output(const struct run_record *rec)
{
	for (size_t i = 0; rec->model_digest[0] && i < rec->n_outputs; i++)
		if (!strcmp(rec->outputs[i].digest, rec->model_digest))
			return &rec->outputs[i];
	return NULL;
}

int run_record_all_cached(const struct run_record *rec)
{
	if (!rec->n_steps)
		return 0;
	for (size_t i = 0; i < rec->n_steps; i++)
		if (rec->steps[i].status != STEP_CACHED)
			return 0;
	return 1;
}

const struct verdict *run_record_first_failure(const struct run_record *rec)
{
	for (size_t i = 0; i < rec->checks.n; i++)
		if (rec->checks.items[i].status == VERDICT_FAIL)
			return &rec->checks.items[i];
	return NULL;
}
