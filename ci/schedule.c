/* schedule.c - the scheduler of a run: start every step whose dependencies passed (or reuse it from the
 * cache) while fewer than -j run, wait for one to end, skip what can never run, run the checks as their
 * inputs appear, and cancel everything on a stop request. It must not print. */
#include "ci/run_int.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ci/run_checks.h"
#include "ci/run_store.h"
#include "ci/step_env.h"
#include "common/alloc.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/banned.h"

/* Grace period between SIGTERM and SIGKILL when a run is cancelled. */
#define CANCEL_GRACE_MS 5000

/* 1 ready, 0 waiting, -1 can never run (a dependency did not pass; "why" says which). */
static int step_readiness(const struct run *r, const struct run_step *s, const struct run_step **why)
{
	for (size_t i = 0; i < s->n_deps; i++) {
		const struct run_step *d = &r->steps[s->deps[i]];
		switch (d->status) {
		case STEP_PASSED:
		case STEP_CACHED:
			continue;
		case STEP_FAILED:
		case STEP_SKIPPED:
		case STEP_CANCELLED:
			*why = d;
			return -1;
		default:
			return 0;
		}
	}
	return 1;
}

/* Every change of a step's state goes through here: into the store (committed at once), then to the
 * observer. A store failure is reported but does not stop the steps. */
static void notify(const struct run_opts *o, struct run *r, const struct run_step *s, int start)
{
	if (r->store) {
		struct err e = ERR_INIT;
		if (record_step(r, s, &e) < 0)
			log_warn("%s", err_msg(&e));
		err_release(&e);
	}
	if (!o->obs)
		return;
	if (start && o->obs->step_start)
		o->obs->step_start(o->obs->payload, r, s);
	if (!start && o->obs->step_end)
		o->obs->step_end(o->obs->payload, r, s);
}

static void skip_step(struct run *r, struct run_step *s, const struct run_step *why, const struct run_opts *o)
{
	s->status = STEP_SKIPPED;
	if (why->phase != PHASE_RUN)
		run_set_reason(&s->reason, "CI phase failed (%s %s %s)", why->component, step_phase_name(why->phase),
			       step_status_name(why->status));
	else
		run_set_reason(&s->reason, "upstream %s %s", why->component, step_status_name(why->status));
	notify(o, r, s, 0);
}

/* Stop everything: SIGTERM to every running step, SIGKILL after the grace period, mark the rest. */
static void cancel_all(struct run *r, const struct run_opts *o, struct exec_job **running)
{
	int64_t kill_at = clock_mono_ms() + CANCEL_GRACE_MS;
	size_t n_running = 0;
	int killed = 0;

	for (size_t i = 0; i < r->n_steps; i++) {
		struct run_step *s = &r->steps[i];
		if (s->status == STEP_RUNNING) {
			r->exec->cancel(r->exec, s->job, SIGTERM);
			n_running++;
		} else if (s->status == STEP_PENDING) {
			s->status = STEP_CANCELLED;
			run_set_reason(&s->reason, "run cancelled before it started");
			notify(o, r, s, 0);
		}
	}
	while (n_running) {
		int64_t now = clock_mono_ms();
		struct exec_result res;
		int idx;
		if (!killed && now >= kill_at) {
			for (size_t i = 0; i < r->n_steps; i++)
				if (running[i])
					r->exec->cancel(r->exec, running[i], SIGKILL);
			killed = 1;
		}
		idx = r->exec->poll(r->exec, running, r->n_steps, killed ? 200 : (int)(kill_at - now));
		if (idx < 0)
			continue;
		struct run_step *s = &r->steps[idx];
		running[idx] = NULL;
		n_running--;
		r->exec->collect(r->exec, s->job, &res);
		s->job = NULL;
		s->exit_code = res.exit_code;
		s->duration_ms = res.duration_ms;
		s->status = STEP_CANCELLED;
		run_set_reason(&s->reason, "cancelled while running (stopped by signal)");
		notify(o, r, s, 0);
	}
}

/* 1 when component "comp" has a build step that was satisfied from the cache in this run. */
static int build_was_cached(const struct run *r, size_t comp)
{
	for (size_t i = 0; i < r->n_steps; i++)
		if (r->steps[i].comp == comp && r->steps[i].phase == PHASE_BUILD)
			return r->steps[i].status == STEP_CACHED;
	return 0;
}

/* A component's run step passed or came from the cache: run the checks whose turn it is. A failing
 * data check skips the components that consume the dataset's component, as a failed step would. */
static void after_component(struct run *r, const struct run_opts *o)
{
	size_t comp;
	if (!run_checks_advance(r, 0, o->obs))
		return;
	comp = r->spec.checks.data.dataset.comp;
	for (size_t i = 0; i < r->n_steps; i++) {
		struct run_step *s = &r->steps[i];
		const struct spec_component *c = &r->spec.components[s->comp];
		int consumer = 0;
		if (s->status != STEP_PENDING || s->phase != PHASE_RUN)
			continue;
		for (size_t k = 0; k < c->needs.n; k++)
			consumer |= c->need_idx[k] == comp;
		if (!consumer)
			continue;
		s->status = STEP_SKIPPED;
		run_set_reason(&s->reason, "data check failed");
		notify(o, r, s, 0);
	}
}

/* Start step "s" (ready), or satisfy it from the cache. 1 when it is now running. */
static int start_one(struct run *r, struct run_step *s, const struct run_opts *o, const struct strvec *secrets,
		     struct err *e)
{
	s->started_at_ms = clock_wall_ms();
	if (r->store) {
		int hit = record_try_cache(r, s, o->no_cache, e);
		if (hit < 0) {
			s->status = STEP_FAILED;
			run_set_reason(&s->reason, "cache lookup failed: %s", err_msg(e));
			err_clear(e);
			notify(o, r, s, 0);
			return 0;
		}
		if (hit) {
			s->status = STEP_CACHED;
			s->duration_ms = 0;
			notify(o, r, s, 0);
			if (s->phase == PHASE_RUN)
				after_component(r, o);
			return 0;
		}
		if (s->phase == PHASE_RUN)
			s->rebuild = build_was_cached(r, s->comp);
	}
	if (step_start(r, s, o->stream_output, secrets, e) < 0) {
		s->status = STEP_FAILED;
		run_set_reason(&s->reason, "could not start: %s", err_msg(e));
		notify(o, r, s, 0);
		err_clear(e);
		return 0;
	}
	s->status = STEP_RUNNING;
	notify(o, r, s, 1);
	return 1;
}

int run_schedule(struct run *r, const struct run_opts *o, struct err *e)
{
	struct exec_job **running = xcalloc(r->n_steps ? r->n_steps : 1, sizeof(*running));
	struct strvec secrets = STRVEC_INIT;
	size_t n_running = 0;
	int cancelled = 0;

	step_env_secrets(&r->spec, &secrets);
	for (;;) {
		int progress = 1;
		if (o->stop && *o->stop) {
			cancel_all(r, o, running);
			cancelled = 1;
			break;
		}
		/* start or skip what we can */
		while (progress) {
			progress = 0;
			for (size_t i = 0; i < r->n_steps && n_running < (size_t)r->jobs; i++) {
				struct run_step *s = &r->steps[i];
				const struct run_step *why = NULL;
				int rd;
				if (s->status != STEP_PENDING)
					continue;
				rd = step_readiness(r, s, &why);
				if (rd < 0) {
					skip_step(r, s, why, o);
					progress = 1;
					continue;
				}
				if (rd == 0)
					continue;
				if (start_one(r, s, o, &secrets, e)) {
					running[i] = s->job;
					n_running++;
				}
				progress = 1;
			}
			/* skipping may cascade even when no slot is free */
			for (size_t i = 0; i < r->n_steps; i++) {
				const struct run_step *why = NULL;
				if (r->steps[i].status == STEP_PENDING && step_readiness(r, &r->steps[i], &why) < 0) {
					skip_step(r, &r->steps[i], why, o);
					progress = 1;
				}
			}
		}
		if (!n_running)
			break;
		int idx = r->exec->poll(r->exec, running, r->n_steps, o->obs && o->obs->tick ? OBSERVER_TICK_MS : 1000);
		if (o->obs && o->obs->tick)
			o->obs->tick(o->obs->payload, r);
		if (idx < 0)
			continue;
		running[idx] = NULL;
		n_running--;
		step_finish(r, &r->steps[idx]);
		notify(o, r, &r->steps[idx], 0);
		if (r->steps[idx].phase == PHASE_RUN && r->steps[idx].status == STEP_PASSED)
			after_component(r, o);
	}
	if (!cancelled)
		run_checks_advance(r, 1, o->obs);
	free(running);
	strvec_clear(&secrets);
	return cancelled;
}
