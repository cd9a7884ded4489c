/* run.c - the run engine: resolve and check out a commit, plan CI and DAG steps, schedule them in
 * parallel up to -j, enforce failure and cancel rules, record the run. It must not print. */
#include "ci/run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/dag.h"
#include "ci/exec_local.h"
#include "ci/run_json.h"
#include "ci/run_checks.h"
#include "ci/run_record.h"
#include "common/alloc.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/path.h"
#include "registry/store.h"
#include "registry/store_locate.h"
#include "common/banned.h"

/* Grace period between SIGTERM and SIGKILL when a run is cancelled. */
#define CANCEL_GRACE_MS 5000

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

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *run_log_path(const struct run *r, const char *component)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s/%s.log", r->log_dir, component);
	return buf_detach(&b, NULL);
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
		proc_release(&r->steps[i].proc);
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
	if (r->store) {
		store_close(r->store);
		free(r->store);
	}
	free(r->resumed_from);
	free(r->model_digest);
	if (r->policy) {
		spec_release(r->policy);
		free(r->policy);
	}
	free(r->policy_commit);
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

static void set_reason(char **slot, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_reason(char **slot, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	free(*slot);
	*slot = buf_detach(&b, NULL);
}

static void add_step(struct run *r, size_t *alloc, size_t comp, enum step_phase phase, const char *cmd)
{
	struct run_step *s;
	ALLOC_GROW(r->steps, r->n_steps + 1, *alloc);
	s = &r->steps[r->n_steps++];
	memset(s, 0, sizeof(*s));
	s->comp = comp;
	s->component = r->spec.components[comp].name;
	s->phase = phase;
	s->command = cmd;
	s->status = STEP_PENDING;
	s->proc.out_fd = -1;
	s->proc.log_fd = -1;
}

static void add_dep(struct run_step *s, size_t dep)
{
	s->deps = xrealloc(s->deps, (s->n_deps + 1) * sizeof(*s->deps));
	s->deps[s->n_deps++] = dep;
}

/* Plan: every component's build then test in DAG order (the CI phase), then every component's run,
 * each run step depending on the whole CI phase and on the run steps of its needs. */
static int plan_steps(struct run *r, struct err *e)
{
	size_t n = r->spec.n_components, alloc = 0;
	struct dag_node *nodes = xcalloc(n ? n : 1, sizeof(*nodes));
	size_t *order = xcalloc(n ? n : 1, sizeof(*order));
	size_t *level = xcalloc(n ? n : 1, sizeof(*level));
	size_t *run_step_of = xcalloc(n ? n : 1, sizeof(*run_step_of));
	size_t n_ci;
	int ret = -1;

	for (size_t i = 0; i < n; i++) {
		nodes[i].needs = r->spec.components[i].need_idx;
		nodes[i].n_needs = r->spec.components[i].needs.n;
	}
	if (dag_order(n, nodes, order, level, NULL, NULL) < 0) {
		err_set(e, MLCI_EUSAGE, "components form a dependency cycle");
		goto done;
	}
	for (size_t k = 0; k < n; k++) {
		const struct spec_component *c = &r->spec.components[order[k]];
		size_t build = (size_t)-1;
		if (c->build) {
			build = r->n_steps;
			add_step(r, &alloc, order[k], PHASE_BUILD, c->build);
		}
		if (c->test) {
			add_step(r, &alloc, order[k], PHASE_TEST, c->test);
			if (build != (size_t)-1)
				add_dep(&r->steps[r->n_steps - 1], build);
		}
	}
	n_ci = r->n_steps;
	for (size_t k = 0; k < n; k++) {
		const struct spec_component *c = &r->spec.components[order[k]];
		run_step_of[order[k]] = r->n_steps;
		add_step(r, &alloc, order[k], PHASE_RUN, c->run);
	}
	for (size_t k = 0; k < n; k++) {
		size_t ci = order[k];
		struct run_step *s = &r->steps[run_step_of[ci]];
		for (size_t i = 0; i < n_ci; i++)
			add_dep(s, i);
		for (size_t d = 0; d < r->spec.components[ci].needs.n; d++)
			add_dep(s, run_step_of[r->spec.components[ci].need_idx[d]]);
	}
	ret = 0;
done:
	free(nodes);
	free(order);
	free(level);
	free(run_step_of);
	return ret;
}

/* After a run step exited 0: every declared output must exist in $MLCI_OUT. */
static int check_outputs(const struct run *r, struct run_step *s)
{
	const struct spec_component *c = &r->spec.components[s->comp];
	char *out = exec_local_out_dir(r, s->comp);
	struct buf missing = BUF_INIT;
	for (size_t i = 0; i < c->outputs.n; i++) {
		char *p = path_join(out, c->outputs.items[i]);
		if (!fs_exists(p))
			buf_addf(&missing, "%s'%s'", missing.len ? ", " : "", c->outputs.items[i]);
		free(p);
	}
	int ret = missing.len ? -1 : 0;
	if (ret)
		set_reason(&s->reason, "exited 0 but did not write declared output %s to $MLCI_OUT", missing.ptr);
	else
		fs_make_readonly(out); /* downstream steps may read but not change them */
	free(out);
	buf_release(&missing);
	return ret;
}

static void finish_step(struct run *r, struct run_step *s)
{
	struct proc *p = &s->proc;
	s->exit_code = p->exit_code;
	s->timed_out = p->timed_out;
	s->duration_ms = p->duration_ms;
	if (p->timed_out) {
		s->status = STEP_FAILED;
		set_reason(&s->reason, "timed out after %.1fs and was killed",
			   (double)(r->spec.components[s->comp].timeout_ms > 0 ? r->spec.components[s->comp].timeout_ms
									       : EXEC_DEFAULT_TIMEOUT_MS) /
				   1000.0);
	} else if (p->term_signal) {
		s->status = STEP_FAILED;
		set_reason(&s->reason, "killed by signal %d", p->term_signal);
	} else if (p->exit_code != 0) {
		s->status = STEP_FAILED;
		set_reason(&s->reason, "exited with status %d", p->exit_code);
	} else if (s->phase == PHASE_RUN && check_outputs(r, s) < 0) {
		s->status = STEP_FAILED;
	} else {
		s->status = STEP_PASSED;
	}
	proc_release(p);
	if (s->status == STEP_PASSED && s->phase == PHASE_RUN && r->store) {
		struct err e = ERR_INIT;
		if (record_outputs(r, s, &e) < 0) {
			s->status = STEP_FAILED;
			set_reason(&s->reason, "could not store its outputs: %s", err_msg(&e));
		}
		err_release(&e);
	}
}

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
		set_reason(&s->reason, "CI phase failed (%s %s %s)", why->component, step_phase_name(why->phase),
			   step_status_name(why->status));
	else
		set_reason(&s->reason, "upstream %s %s", why->component, step_status_name(why->status));
	(void)r;
	notify(o, r, s, 0);
}

/* Stop everything: SIGTERM to every running group, SIGKILL after the grace period, mark the rest. */
static void cancel_all(struct run *r, const struct run_opts *o)
{
	struct proc **running = xcalloc(r->n_steps ? r->n_steps : 1, sizeof(*running));
	int64_t kill_at = proc_now_ms() + CANCEL_GRACE_MS;
	size_t n_running = 0;
	int killed = 0;

	for (size_t i = 0; i < r->n_steps; i++) {
		struct run_step *s = &r->steps[i];
		if (s->status == STEP_RUNNING) {
			proc_signal(&s->proc, SIGTERM);
			running[i] = &s->proc;
			n_running++;
		} else if (s->status == STEP_PENDING) {
			s->status = STEP_CANCELLED;
			set_reason(&s->reason, "run cancelled before it started");
			notify(o, r, s, 0);
		}
	}
	while (n_running) {
		int64_t now = proc_now_ms();
		int idx;
		if (!killed && now >= kill_at) {
			for (size_t i = 0; i < r->n_steps; i++)
				if (running[i])
					proc_signal(running[i], SIGKILL);
			killed = 1;
		}
		idx = proc_wait_any(running, r->n_steps, killed ? 200 : (int)(kill_at - now));
		if (idx < 0)
			continue;
		struct run_step *s = &r->steps[idx];
		running[idx] = NULL;
		n_running--;
		s->exit_code = s->proc.exit_code;
		s->duration_ms = s->proc.duration_ms;
		s->status = STEP_CANCELLED;
		set_reason(&s->reason, "cancelled while running (stopped by signal)");
		proc_release(&s->proc);
		notify(o, r, s, 0);
	}
	free(running);
}

static int cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
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
		set_reason(&s->reason, "data check failed");
		notify(o, r, s, 0);
	}
}

/* The scheduler loop: start every ready step while fewer than "jobs" run, wait for one to end.
 * Returns 1 when a stop request cancelled the run, else 0. */
static int schedule(struct run *r, const struct run_opts *o, struct err *e)
{
	struct proc **running = xcalloc(r->n_steps ? r->n_steps : 1, sizeof(*running));
	struct strvec secrets = STRVEC_INIT;
	size_t n_running = 0;
	int cancelled = 0;

	exec_local_secrets(r, &secrets);
	for (;;) {
		int progress = 1;
		if (o->stop && *o->stop) {
			cancel_all(r, o);
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
				s->started_at_ms = wall_ms();
				if (r->store) {
					int hit = record_try_cache(r, s, o->no_cache, e);
					if (hit < 0) {
						s->status = STEP_FAILED;
						set_reason(&s->reason, "cache lookup failed: %s", err_msg(e));
						err_clear(e);
						notify(o, r, s, 0);
						progress = 1;
						continue;
					}
					if (hit) {
						s->status = STEP_CACHED;
						s->duration_ms = 0;
						notify(o, r, s, 0);
						if (s->phase == PHASE_RUN)
							after_component(r, o);
						progress = 1;
						continue;
					}
					if (s->phase == PHASE_RUN)
						s->rebuild = build_was_cached(r, s->comp);
				}
				struct strvec env = STRVEC_INIT;
				if (exec_local_start(r, s, o->stream_output, &env, &secrets, e) < 0) {
					strvec_clear(&env);
					s->status = STEP_FAILED;
					set_reason(&s->reason, "could not start: %s", err_msg(e));
					notify(o, r, s, 0);
					err_clear(e);
					progress = 1;
					continue;
				}
				strvec_clear(&env);
				s->status = STEP_RUNNING;
				running[i] = &s->proc;
				n_running++;
				notify(o, r, s, 1);
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
		int idx = proc_wait_any(running, r->n_steps, o->obs && o->obs->tick ? OBSERVER_TICK_MS : 1000);
		if (o->obs && o->obs->tick)
			o->obs->tick(o->obs->payload, r);
		if (idx < 0)
			continue;
		running[idx] = NULL;
		n_running--;
		finish_step(r, &r->steps[idx]);
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

/* Promotion rules come from the trusted side, never from the commit under test: the mlci.yaml of the
 * repository's main branch. No main, or an invalid spec there, means no promotion (and says why). */
static void load_policy(struct run *r, struct ws_source *src)
{
	struct ws_commit main_commit;
	struct buf text = BUF_INIT;
	struct diags d;
	struct err e = ERR_INIT;
	diags_init(&d);
	if (ws_resolve(src, "main", NULL, &main_commit, &e) < 0) {
		log_verbose("no branch main: no promotion policy");
		goto done;
	}
	if (ws_read_file(src, main_commit.id, "mlci.yaml", &text, &e) == 1) {
		r->policy = xcalloc(1, sizeof(*r->policy));
		spec_init(r->policy);
		if (spec_parse_buffer(r->policy, text.ptr, text.len, "mlci.yaml@main", &d) < 0) {
			log_warn("mlci.yaml on main is invalid: no promotion policy");
			spec_release(r->policy);
			free(r->policy);
			r->policy = NULL;
		} else {
			r->policy_commit = xstrdup(main_commit.id);
		}
	}
	ws_commit_release(&main_commit);
done:
	diags_release(&d);
	buf_release(&text);
	err_release(&e);
}

/* Everything before the steps: directories, checkout, spec. */
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
	if (plan_steps(r, e) < 0)
		goto done;
	if (record_prepare_keys(r, src, e) < 0)
		goto done;
	load_policy(r, src);
	ret = 0;
done:
	buf_release(&b);
	return ret;
}

static void write_record(const struct run *r)
{
	struct err e = ERR_INIT;
	if (r->run_dir && run_json_write(r, &e) < 0)
		log_warn("could not write the run record: %s", err_msg(&e));
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
	r->started_at_ms = wall_ms();
	r->status = RUN_RUNNING;

	r->store = xcalloc(1, sizeof(*r->store));
	if (store_open(r->store, o->home, e) < 0) {
		free(r->store);
		r->store = NULL;
		r->repo = xstrdup(o->repo);
		goto fail;
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

	cancelled = schedule(r, o, e);

	r->finished_at_ms = wall_ms();
	r->status = RUN_PASSED;
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct run_step *s = &r->steps[i];
		if (s->status == STEP_FAILED && r->status == RUN_PASSED) {
			r->status = RUN_FAILED;
			set_reason(&r->reason, "%s %s %s", s->component, step_phase_name(s->phase),
				   s->reason ? s->reason : "failed");
		}
	}
	if (r->status == RUN_PASSED && run_checks_first_failure(r)) {
		const struct verdict *v = run_checks_first_failure(r);
		r->status = RUN_FAILED;
		set_reason(&r->reason, "check %s failed: %s", v->name, v->summary);
	}
	if (cancelled) {
		r->status = RUN_CANCELLED;
		set_reason(&r->reason, "cancelled by signal");
	}
	if (record_run_finish(r, e) < 0) {
		err_prefix(e, "could not record the end of run %s", r->id);
		ret = -1;
	}
	write_record(r);
	return ret;

fail:
	store_run_ref_release(&resume);
	r->status = RUN_ERROR;
	r->finished_at_ms = wall_ms();
	set_reason(&r->reason, "%s", err_msg(e));
	record_error_run(r);
	write_record(r);
	return -1;
}
