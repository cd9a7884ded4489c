/* run.c - the run engine's entry: resolve and check out a commit, parse its spec, plan (plan.c) and
 * schedule (schedule.c) its steps, finish the run in the store and hand back its record. It must not
 * print and knows nothing of promotion. */
#include "ci/run_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ci/run_checks.h"
#include "ci/run_store.h"
#include "common/alloc.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/path.h"
#include "record/run_json.h"
#include "registry/store.h"
#include "registry/store_locate.h"
#include "common/banned.h"

void run_set_reason(char **slot, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(*slot);
	*slot = buf_detach(&b, NULL);
}

void run_baseline_release(struct run_baseline *b)
{
	free(b->run);
	free(b->model);
	memset(b, 0, sizeof(*b));
}

char *run_log_path(const struct run *r, const char *component)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s/%s.log", r->log_dir, component);
	return buf_detach(&b, NULL);
}

char *run_out_dir(const struct run *r, size_t comp)
{
	return path_join(r->out_dir, r->spec.components[comp].name);
}

int64_t run_step_elapsed_ms(const struct run *r, const struct run_step *s)
{
	return s->status == STEP_RUNNING && s->job ? r->exec->elapsed_ms(r->exec, s->job) : 0;
}

void run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	spec_init(&r->spec);
	diags_init(&r->diags);
}

void run_release(struct run *r)
{
	for (size_t i = 0; i < r->n_steps; i++) {
		if (r->steps[i].job) {
			/* only after an error stopped the scheduler: end the job, drop its result */
			struct exec_result res;
			r->exec->cancel(r->exec, r->steps[i].job, SIGKILL);
			r->exec->collect(r->exec, r->steps[i].job, &res);
		}
		free(r->steps[i].deps);
		free(r->steps[i].reason);
		free(r->steps[i].stream_prefix);
		free(r->steps[i].cached_from);
	}
	for (size_t i = 0; r->comps && i < r->spec.n_components; i++) {
		struct run_comp *rc = &r->comps[i];
		free(rc->tree_id);
		for (size_t k = 0; rc->input_ids && k < r->spec.components[i].inputs.n; k++)
			free(rc->input_ids[k]);
		free(rc->input_ids);
		for (size_t k = 0; k < rc->n_outputs; k++)
			free(rc->outputs[k].name);
		free(rc->outputs);
	}
	free(r->comps);
	if (r->store && r->own_store) {
		store_close(r->store);
		free(r->store);
	}
	free(r->resumed_from);
	free(r->model_digest);
	verdicts_release(&r->checks);
	free(r->steps);
	free(r->home);
	free(r->repo);
	free(r->trigger);
	free(r->run_dir);
	free(r->workspace);
	free(r->out_dir);
	free(r->log_dir);
	free(r->reason);
	ws_commit_release(&r->commit);
	spec_release(&r->spec);
	diags_release(&r->diags);
	memset(r, 0, sizeof(*r));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void run_to_record(const struct run *r, struct run_record *out)
{
	run_record_init(out);
	memcpy(out->id, r->id, sizeof(out->id));
	out->status = r->status;
	out->reason = dup_or_null(r->reason);
	out->pipeline = dup_or_null(r->spec.pipeline);
	out->model = dup_or_null(r->spec.model);
	out->repo = dup_or_null(r->repo);
	out->trigger = dup_or_null(r->trigger);
	out->resumed_from = dup_or_null(r->resumed_from);
	memcpy(out->commit, r->commit.id, sizeof(out->commit));
	out->branch = dup_or_null(r->commit.branch);
	out->subject = dup_or_null(r->commit.subject);
	out->message = dup_or_null(r->commit.message);
	out->author_name = dup_or_null(r->commit.author_name);
	out->author_email = dup_or_null(r->commit.author_email);
	out->commit_time = r->commit.time;
	out->home = dup_or_null(r->home);
	out->run_dir = dup_or_null(r->run_dir);
	out->workspace = dup_or_null(r->workspace);
	out->out_dir = dup_or_null(r->out_dir);
	out->log_dir = dup_or_null(r->log_dir);
	out->jobs = r->jobs;
	out->started_at_ms = r->started_at_ms;
	out->finished_at_ms = r->finished_at_ms;
	for (size_t i = 0; i < r->spec.params.n; i++) {
		strvec_push(&out->params_keys, r->spec.params.items[i].key);
		strvec_push(&out->params_values, r->spec.params.items[i].value ? r->spec.params.items[i].value : "");
	}
	for (size_t i = 0; i < r->diags.n; i++) {
		struct buf b = BUF_INIT;
		diag_format(&r->diags, i, &b);
		strvec_push(&out->spec_errors, b.ptr);
		buf_release(&b);
	}
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct run_step *s = &r->steps[i];
		struct run_record_step *o = run_record_add_step(out, s->component, s->phase);
		o->status = s->status;
		o->exit_code = s->exit_code;
		o->timed_out = s->timed_out;
		o->started_at_ms = s->started_at_ms;
		o->duration_ms = s->duration_ms;
		o->reason = dup_or_null(s->reason);
		o->cached_from = dup_or_null(s->cached_from);
		memcpy(o->key, s->key, sizeof(o->key));
		o->log_path = run_log_path(r, s->component);
	}
	for (size_t c = 0; r->comps && c < r->spec.n_components; c++)
		for (size_t i = 0; i < r->comps[c].n_outputs; i++)
			run_record_add_output(out, r->spec.components[c].name, r->comps[c].outputs[i].name,
					      r->comps[c].outputs[i].digest, r->comps[c].outputs[i].size);
	for (size_t i = 0; i < r->checks.n; i++) {
		const struct verdict *v = &r->checks.items[i];
		verdicts_add(&out->checks, v->name, v->kind, v->status,
			     v->details ? cJSON_Duplicate(v->details, 1) : NULL, v->started_ms, v->duration_ms, "%s",
			     v->summary);
	}
	out->model_version = r->model_version;
	out->model_created = r->model_created;
	snprintf(out->model_digest, sizeof(out->model_digest), "%s", r->model_digest ? r->model_digest : "");
}

/* "20261125-171502-a1b2c3": sortable by start time, unique enough across concurrent runs. */
static void make_run_id(char *out, size_t n)
{
	struct tm tm;
	time_t now = time(NULL);
	unsigned char rnd[3] = { 0, 0, 0 };
	char ts[32];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsigned pid = (unsigned)getpid();
		rnd[0] = (unsigned char)pid;
		rnd[1] = (unsigned char)(pid >> 8);
		rnd[2] = (unsigned char)(now);
	}
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", &tm);
	snprintf(out, n, "%s-%02x%02x%02x", ts, rnd[0], rnd[1], rnd[2]);
}

static int cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* Everything before the steps: directories, checkout, spec, plan, cache keys. */
static int prepare(struct run *r, const struct run_opts *o, const char *rev, const char *branch, struct ws_source *src,
		   struct err *e)
{
	struct buf b = BUF_INIT;
	char *spec_path;
	int ret = -1;

	buf_addf(&b, "%s/runs/%s", o->home, r->id);
	r->run_dir = buf_detach(&b, NULL);
	buf_addf(&b, "%s/out", r->run_dir);
	r->out_dir = buf_detach(&b, NULL);
	buf_addf(&b, "%s/workspaces/%s", o->home, r->id);
	r->workspace = buf_detach(&b, NULL);
	buf_addf(&b, "%s/logs/%s", o->home, r->id);
	r->log_dir = buf_detach(&b, NULL);
	buf_addf(&b, "%s/tmp", r->run_dir);
	if (fs_mkdir_p(r->out_dir, 0755, e) < 0 || fs_mkdir_p(r->log_dir, 0755, e) < 0 ||
	    fs_mkdir_p(b.ptr, 0700, e) < 0)
		goto done;

	if (ws_source_open(src, o->home, r->repo, e) < 0)
		goto done;
	if (ws_resolve(src, rev, branch, &r->commit, e) < 0)
		goto done;
	if (ws_checkout(src, r->commit.id, r->workspace, e) < 0)
		goto done;

	spec_path = path_join(r->workspace, "mlci.yaml");
	if (!fs_is_file(spec_path)) {
		free(spec_path);
		err_set(e, MLCI_EUSAGE, "commit %.12s has no mlci.yaml at the repository root", r->commit.id);
		goto done;
	}
	if (spec_parse_file(&r->spec, spec_path, "mlci.yaml", &r->diags) < 0 ||
	    spec_check_paths(&r->spec, r->workspace, &r->diags) < 0 || r->diags.n) {
		free(spec_path);
		err_set(e, MLCI_EUSAGE, "mlci.yaml has %zu error%s", r->diags.n, r->diags.n == 1 ? "" : "s");
		goto done;
	}
	free(spec_path);
	if (run_plan(r, e) < 0)
		goto done;
	if (record_prepare_keys(r, src, e) < 0)
		goto done;
	ret = 0;
done:
	buf_release(&b);
	return ret;
}

static void write_record(const struct run *r)
{
	struct run_record rec;
	struct err e = ERR_INIT;
	if (!r->run_dir)
		return;
	run_to_record(r, &rec);
	if (run_record_write_json(&rec, &e) < 0)
		log_warn("could not write the run record: %s", err_msg(&e));
	run_record_release(&rec);
	err_release(&e);
}

/* A run that could not start is still recorded when we know which commit it was for. */
static void record_error_run(struct run *r)
{
	struct err e = ERR_INIT;
	if (!r->store || !r->commit.id[0])
		return;
	if (record_run_begin(r, &e) < 0 || record_run_finish(r, &e) < 0)
		log_warn("could not record the run: %s", err_msg(&e));
	err_release(&e);
}

/* The run's verdict from its steps and checks. */
static void conclude(struct run *r, int cancelled)
{
	const struct verdict *v;
	r->status = RUN_PASSED;
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct run_step *s = &r->steps[i];
		if (s->status == STEP_FAILED && r->status == RUN_PASSED) {
			r->status = RUN_FAILED;
			run_set_reason(&r->reason, "%s %s %s", s->component, step_phase_name(s->phase),
				       s->reason ? s->reason : "failed");
		}
	}
	if (r->status == RUN_PASSED && (v = run_checks_first_failure(r)) != NULL) {
		r->status = RUN_FAILED;
		run_set_reason(&r->reason, "check %s failed: %s", v->name, v->summary);
	}
	if (cancelled) {
		r->status = RUN_CANCELLED;
		run_set_reason(&r->reason, "cancelled by signal");
	}
}

int run_execute(struct run *r, const struct run_opts *o, struct err *e)
{
	struct ws_source src;
	struct store_run_ref resume;
	const char *rev = o->rev, *branch = o->branch;
	int cancelled, ret = 0;

	memset(&src, 0, sizeof(src));
	memset(&resume, 0, sizeof(resume));
	make_run_id(r->id, sizeof(r->id));
	r->home = xstrdup(o->home);
	r->trigger = xstrdup(o->trigger ? o->trigger : "manual");
	r->jobs = o->jobs > 0 ? o->jobs : cpu_count();
	r->started_at_ms = clock_wall_ms();
	r->status = RUN_RUNNING;
	r->baselines = o->baselines;
	r->exec = o->executor ? o->executor : exec_local();

	if (o->store) {
		r->store = o->store;
	} else {
		r->store = xcalloc(1, sizeof(*r->store));
		r->own_store = 1;
		if (store_open(r->store, o->home, e) < 0) {
			free(r->store);
			r->store = NULL;
			r->repo = xstrdup(o->repo);
			goto fail;
		}
	}
	if (o->resume) {
		/* the same repository, commit and branch as the run being resumed */
		if (store_run_locate(r->store, o->resume, &resume, e) < 0) {
			r->repo = xstrdup(o->repo);
			goto fail;
		}
		r->repo = xstrdup(resume.repo);
		r->resumed_from = xstrdup(resume.id);
		rev = resume.commit_id;
		branch = resume.branch;
	} else {
		r->repo = xstrdup(o->repo);
	}

	if (prepare(r, o, rev, branch, &src, e) < 0) {
		ws_source_release(&src);
		goto fail;
	}
	ws_source_release(&src);
	store_run_ref_release(&resume);
	if (record_run_begin(r, e) < 0)
		goto fail;
	if (o->obs && o->obs->run_start)
		o->obs->run_start(o->obs->payload, r);
	write_record(r);

	cancelled = run_schedule(r, o, e);

	r->finished_at_ms = clock_wall_ms();
	conclude(r, cancelled);
	if (record_run_finish(r, e) < 0) {
		err_prefix(e, "could not record the end of run %s", r->id);
		ret = -1;
	}
	write_record(r);
	return ret;

fail:
	store_run_ref_release(&resume);
	r->status = RUN_ERROR;
	r->finished_at_ms = clock_wall_ms();
	run_set_reason(&r->reason, "%s", err_msg(e));
	record_error_run(r);
	write_record(r);
	return -1;
}
