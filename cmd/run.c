/* run.c - `mlci run`: options, Ctrl-C handling, live step lines, the summary table and -o json.
 * The run itself is ci/run.c's; this file only decides what the user sees and the exit code. */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include "ci/run.h"
#include "ci/junit.h"
#include "ci/run_json.h"
#include "cd/promote.h"
#include "cmd/cmd.h"
#include "common/log.h"
#include "common/banned.h"

static const char *opt_repo, *opt_rev, *opt_branch, *opt_jobs, *opt_resume, *opt_junit, *opt_trigger;
static int opt_no_cache;

const struct cmd_opt cmd_run_opts[] = {
	{ 0, "repo", "PATH|URL", "pipeline repository: a local path or a URL (default: .)", &opt_repo, NULL },
	{ 0, "rev", "REV", "branch, tag or commit to run (default: HEAD)", &opt_rev, NULL },
	{ 0, "branch", "NAME", "branch the run counts for (default: the branch REV names, else HEAD's)", &opt_branch,
	  NULL },
	{ 'j', "jobs", "N", "steps to run in parallel (default: number of CPUs)", &opt_jobs, NULL },
	{ 0, "no-cache", NULL, "execute every step even when a completed one has the same cache key", NULL,
	  &opt_no_cache },
	{ 0, "resume", "RUN", "run RUN's commit again, reusing every step that completed", &opt_resume, NULL },
	{ 0, "junit", "FILE", "also write the steps and checks as JUnit XML to FILE", &opt_junit, NULL },
	{ 0, "trigger", "NAME", "what started the run, recorded with it (default: manual; mlci watch: push)",
	  &opt_trigger, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_requested = 1;
	stop_signal = sig;
}

struct view {
	const struct cmd_ctx *ctx;
	int live;      /* print step lines at all */
	int tty;       /* stderr is a terminal: keep a live block of running steps at the bottom */
	size_t name_w; /* width of the component column */
	int drawn;     /* lines of the live block currently on screen */
	int64_t last_draw_ms;
};

static const char *status_colour(enum step_status s)
{
	switch (s) {
	case STEP_PASSED:
	case STEP_CACHED:
		return "green";
	case STEP_FAILED:
		return "red";
	case STEP_SKIPPED:
	case STEP_CANCELLED:
		return "yellow";
	default:
		return "dim";
	}
}

static void fmt_duration(char *out, size_t n, int64_t ms)
{
	if (ms < 60000)
		snprintf(out, n, "%.2fs", (double)ms / 1000.0);
	else
		snprintf(out, n, "%lldm%02llds", (long long)(ms / 60000), (long long)((ms / 1000) % 60));
}

static void on_run_start(void *payload, const struct run *r)
{
	struct view *v = payload;
	for (size_t i = 0; i < r->spec.n_components; i++) {
		size_t l = strlen(r->spec.components[i].name);
		if (l > v->name_w)
			v->name_w = l;
	}
	if (v->ctx->quiet)
		return;
	fprintf(stderr, "mlci: run %s: pipeline %s at %.12s%s%s%s, %zu steps, -j %d\n", r->id, r->spec.pipeline,
		r->commit.id, r->commit.branch ? " (" : "", r->commit.branch ? r->commit.branch : "",
		r->commit.branch ? ")" : "", r->n_steps, r->jobs);
}

/* The live block: one line per running step with its elapsed time, redrawn in place. */
static void erase_block(struct view *v)
{
	if (v->drawn)
		fprintf(stderr, "\033[%dA\033[J", v->drawn);
	v->drawn = 0;
}

static void draw_block(struct view *v, const struct run *r)
{
	int64_t now = proc_now_ms();
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct run_step *s = &r->steps[i];
		char d[32];
		if (s->status != STEP_RUNNING)
			continue;
		fmt_duration(d, sizeof(d), now - s->proc.started_ms);
		fprintf(stderr, "  %s%-9s%s %-*s %-5s %8s\n", cmd_col(v->ctx->err_color, "dim"), "running",
			cmd_col(v->ctx->err_color, "reset"), (int)v->name_w, s->component, step_phase_name(s->phase),
			d);
		v->drawn++;
	}
	v->last_draw_ms = now;
	fflush(stderr);
}

static void on_step_start(void *payload, const struct run *r, const struct run_step *s)
{
	struct view *v = payload;
	(void)s;
	if (!v->live || !v->tty)
		return;
	erase_block(v);
	draw_block(v, r);
}

static void on_tick(void *payload, const struct run *r)
{
	struct view *v = payload;
	if (!v->live || !v->tty || proc_now_ms() - v->last_draw_ms < 100)
		return;
	erase_block(v);
	draw_block(v, r);
}

static void on_step_end(void *payload, const struct run *r, const struct run_step *s)
{
	struct view *v = payload;
	char d[32];
	int c = v->ctx->err_color;
	if (!v->live)
		return;
	if (v->tty)
		erase_block(v);
	fmt_duration(d, sizeof(d), s->duration_ms);
	fprintf(stderr, "  %s%-9s%s %-*s %-5s %8s%s%s\n", cmd_col(c, status_colour(s->status)),
		step_status_name(s->status), cmd_col(c, "reset"), (int)v->name_w, s->component,
		step_phase_name(s->phase), s->status == STEP_SKIPPED || s->status == STEP_PENDING ? "-" : d,
		s->reason ? "  " : "", s->reason ? s->reason : "");
	if (v->tty)
		draw_block(v, r);
}

static const char *verdict_colour(enum verdict_status st)
{
	switch (st) {
	case VERDICT_PASS:
		return "green";
	case VERDICT_FAIL:
		return "red";
	case VERDICT_WARN:
		return "yellow";
	default:
		return "dim";
	}
}

static void on_check_end(void *payload, const struct run *r, const struct verdict *vd)
{
	struct view *v = payload;
	int c = v->ctx->err_color;
	if (!v->live)
		return;
	if (v->tty)
		erase_block(v);
	fprintf(stderr, "  %s%-9s%s check %s  %s\n", cmd_col(c, verdict_colour(vd->status)),
		verdict_status_name(vd->status), cmd_col(c, "reset"), vd->name, vd->summary);
	if (v->tty)
		draw_block(v, r);
}

/* The checks table: one line per verdict. */
static void print_checks(const struct run *r, const struct cmd_ctx *ctx)
{
	size_t w = 5;
	int c = ctx->color;
	if (!r->checks.n)
		return;
	for (size_t i = 0; i < r->checks.n; i++)
		if (strlen(r->checks.items[i].name) > w)
			w = strlen(r->checks.items[i].name);
	printf("\n%-*s  %-7s  %s\n", (int)w, "CHECK", "VERDICT", "SUMMARY");
	for (size_t i = 0; i < r->checks.n; i++) {
		const struct verdict *vd = &r->checks.items[i];
		printf("%-*s  %s%-7s%s  %s\n", (int)w, vd->name, cmd_col(c, verdict_colour(vd->status)),
		       verdict_status_name(vd->status), cmd_col(c, "reset"), vd->summary);
	}
}

static void print_summary(const struct run *r, const struct cmd_ctx *ctx, size_t name_w)
{
	char d[32];
	int c = ctx->color;
	if (name_w < 9)
		name_w = 9;
	printf("\n%-*s  %-5s  %-9s  %9s\n", (int)name_w, "COMPONENT", "PHASE", "STATUS", "DURATION");
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct run_step *s = &r->steps[i];
		fmt_duration(d, sizeof(d), s->duration_ms);
		printf("%-*s  %-5s  %s%-9s%s  %9s%s%s\n", (int)name_w, s->component, step_phase_name(s->phase),
		       cmd_col(c, status_colour(s->status)), step_status_name(s->status), cmd_col(c, "reset"),
		       s->started_at_ms && s->status != STEP_CACHED ? d : "-", s->cached_from ? "  from run " : "",
		       s->cached_from ? s->cached_from : "");
	}
	print_checks(r, ctx);
	fmt_duration(d, sizeof(d), r->finished_at_ms - r->started_at_ms);
	printf("\nrun %s %s%s%s in %s", r->id, cmd_col(c, r->status == RUN_PASSED ? "green" : "red"),
	       run_status_name(r->status), cmd_col(c, "reset"), d);
	if (r->reason)
		printf(": %s", r->reason);
	{
		size_t cached = 0;
		for (size_t i = 0; i < r->n_steps; i++)
			cached += r->steps[i].status == STEP_CACHED;
		if (cached)
			printf(" (%zu of %zu steps cached)", cached, r->n_steps);
	}
	if (r->model_version)
		printf("\nmodel %s version %lld%s (artifact sha256:%.12s)", r->spec.model, (long long)r->model_version,
		       r->model_created ? " registered" : " already registered", r->model_digest);
	printf("\nlogs: %s/\n", r->log_dir);
}

/* Who runs mlci: the OS account, or $MLCI_ACTOR (promotions and approvals are attributed to it). */
static const char *os_user(void)
{
	return cmd_actor();
}

static int exit_code_for(const struct run *r)
{
	switch (r->status) {
	case RUN_PASSED:
		return 0;
	case RUN_CANCELLED:
		return 128 + (stop_signal ? stop_signal : SIGINT);
	default:
		return 1;
	}
}

int cmd_run(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	struct run_observer obs;
	struct run_opts o;
	struct view v;
	struct run r;
	struct err e = ERR_INIT;
	struct sigaction sa, old_int, old_term;
	int jobs = 0, code;

	code = cmd_parse(cmd_find("run"), argc, argv, ctx, &args);
	strvec_clear(&args);
	if (code)
		return code;
	if (opt_jobs && (code = cmd_parse_int(ctx, "--jobs", opt_jobs, 1, 1024, &jobs)))
		return code;
	log_set_level(ctx->quiet ? LOG_QUIET : ctx->verbose ? LOG_VERBOSE : LOG_NORMAL);

	memset(&v, 0, sizeof(v));
	v.ctx = ctx;
	/* step lines are for people watching a terminal; logs and pipes get the header and the table */
	/* the redrawn block would garble streamed step output, so -v gets plain lines */
	v.tty = isatty(2) && !ctx->verbose && !ctx->json;
	v.live = !ctx->quiet && (isatty(2) || ctx->verbose);
	memset(&obs, 0, sizeof(obs));
	obs.run_start = on_run_start;
	obs.step_start = on_step_start;
	obs.step_end = on_step_end;
	obs.tick = on_tick;
	obs.check_end = on_check_end;
	obs.payload = &v;
	memset(&o, 0, sizeof(o));
	o.home = ctx->home;
	o.repo = opt_repo ? opt_repo : ".";
	o.rev = opt_rev;
	o.branch = opt_branch;
	o.jobs = jobs;
	o.stream_output = ctx->verbose > 0 && !ctx->json;
	o.stop = &stop_requested;
	o.no_cache = opt_no_cache;
	o.resume = opt_resume;
	o.trigger = opt_trigger;
	if (opt_trigger && (!*opt_trigger || strlen(opt_trigger) > 32 ||
			    strspn(opt_trigger, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(opt_trigger))) {
		cmd_error(ctx, "--trigger: invalid name '%s' (expected [a-z0-9_-], at most 32 characters)",
			  opt_trigger);
		return 2;
	}
	if (opt_resume && (opt_repo || opt_rev || opt_branch)) {
		cmd_error(ctx, "--resume takes the repository, commit and branch of the resumed run; "
			       "do not combine it with --repo, --rev or --branch");
		return 2;
	}
	o.obs = &obs;

	/* no SA_RESTART: the engine's poll() must wake up to notice the request */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	run_init(&r);
	if (run_execute(&r, &o, &e) < 0) {
		for (size_t i = 0; i < r.diags.n; i++) {
			struct buf b = BUF_INIT;
			diag_format(&r.diags, i, &b);
			fprintf(stderr, "%s\n", b.ptr);
			buf_release(&b);
		}
		cmd_error(ctx, "run: %s", err_msg(&e));
		code = e.code ? e.code : 3;
		if (ctx->json) {
			cJSON *j = run_to_json(&r);
			char *text = cJSON_Print(j);
			printf("%s\n", text);
			free(text);
			cJSON_Delete(j);
		}
	} else {
		struct promote_outcome po;
		struct err pe = ERR_INIT;
		int prc = promote_after_run(&r, os_user(), &po, &pe);
		if (ctx->json) {
			cJSON *j = run_to_json(&r);
			cJSON *pj = cJSON_AddObjectToObject(j, "promotion");
			cJSON_AddStringToObject(pj, "action", prc < 0 ? "error" : promote_action_name(po.action));
			if (po.environment)
				cJSON_AddStringToObject(pj, "environment", po.environment);
			cJSON_AddStringToObject(pj, "detail", prc < 0 ? err_msg(&pe) : po.detail ? po.detail : "");
			if (po.state_commit[0])
				cJSON_AddStringToObject(pj, "state_commit", po.state_commit);
			char *text = cJSON_Print(j);
			printf("%s\n", text);
			free(text);
			cJSON_Delete(j);
		} else if (!ctx->quiet) {
			print_summary(&r, ctx, v.name_w);
			if (prc == 0 && po.detail)
				printf("promotion: %s\n", po.detail);
		} else {
			printf("%s %s\n", r.id, run_status_name(r.status));
		}
		code = exit_code_for(&r);
		if (prc < 0) {
			cmd_error(ctx, "promotion: %s", err_msg(&pe));
			code = pe.code ? pe.code : 3;
		} else if (po.action == PROMOTE_FAILED && code == 0) {
			code = 1;
		}
		promote_outcome_release(&po);
		err_release(&pe);
	}
	if (opt_junit && r.n_steps) {
		struct err je = ERR_INIT;
		if (junit_write(&r, opt_junit, &je) < 0) {
			cmd_error(ctx, "--junit: %s", err_msg(&je));
			if (code == 0)
				code = 3;
		}
		err_release(&je);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	run_release(&r);
	err_release(&e);
	return code;
}
