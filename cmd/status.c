/* status.c - `mlci status`: what each environment runs (from the state repo) and what waits to be
 * promoted (from the store). Printing only; cd/status.c collects. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd/status.h"
#include "spec/freeze.h"
#include "cmd/cmd.h"
#include "common/banned.h"

static const char *opt_at, *opt_pipeline;

const struct cmd_opt cmd_status_opts[] = {
	{ 0, "at", "TIME", "what each environment ran at TIME (ISO-8601 UTC or seconds since the epoch)", &opt_at,
	  NULL },
	{ 0, "pipeline", "P", "only the environments of pipeline P", &opt_pipeline, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

/* "bc-classifier@3", or "-" when the state has no model. */
static void model_ref(char *out, size_t n, const struct env_state *st)
{
	if (st->model_version)
		snprintf(out, n, "%s@%lld", st->model_name ? st->model_name : "?", (long long)st->model_version);
	else
		snprintf(out, n, "-");
}

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

/* "22h05m" */
static void fmt_left(char *out, size_t n, int64_t ms)
{
	long long s = ms / 1000;
	if (s >= 3600)
		snprintf(out, n, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
	else
		snprintf(out, n, "%lldm%02llds", s / 60, s % 60);
}

static void print_text(const struct cmd_ctx *ctx, const struct status_report *r, time_t at)
{
	struct cmd_tab t;
	if (opt_at) {
		char w[32];
		freeze_format_time(at, w, sizeof(w));
		printf("as of %s:\n", w);
	}
	if (!r->n_envs)
		printf("%s\n", opt_at ? "no environment had a state then" : "no environment has been promoted to yet");
	cmd_tab_init(&t, 0, 8, "PIPELINE", "ENVIRONMENT", "MODEL", "COMMIT", "BRANCH", "RUN", "SINCE", "BY");
	for (size_t i = 0; i < r->n_envs; i++) {
		const struct status_env *it = &r->envs[i];
		const struct env_state *st = &it->state;
		char model[160];
		model_ref(model, sizeof(model), st);
		cmd_tab_add(&t, NULL, "%s", it->pipeline);
		cmd_tab_add(&t, NULL, "%s", it->environment);
		cmd_tab_add(&t, NULL, "%s", model);
		cmd_tab_add(&t, NULL, "%.12s", or_dash(st->commit));
		cmd_tab_add(&t, NULL, "%s", or_dash(st->branch));
		cmd_tab_add(&t, NULL, "%s", or_dash(st->run));
		cmd_tab_add(&t, NULL, "%s", or_dash(st->promoted_at));
		cmd_tab_add(&t, NULL, "%s", or_dash(st->promoted_by));
	}
	if (r->n_envs)
		cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
	if (!opt_at && r->n_pins) {
		printf("\npinned environments (automatic promotions held until mlci unpin):\n");
		cmd_tab_init(&t, 0, 4, "ENVIRONMENT", "PIPELINE", "MODEL", "PINNED BY");
		for (size_t i = 0; i < r->n_pins; i++) {
			const struct status_pin *p = &r->pins[i];
			cmd_tab_add(&t, NULL, "%s", or_dash(p->environment));
			cmd_tab_add(&t, NULL, "%s", or_dash(p->pipeline));
			if (p->model)
				cmd_tab_add(&t, NULL, "%s@%lld", p->model, (long long)p->version);
			else
				cmd_tab_add(&t, NULL, "-");
			cmd_tab_add(&t, "yellow", "rollback by %s", p->by ? p->by : "?");
		}
		cmd_tab_print(&t, ctx, NULL);
		cmd_tab_release(&t);
	}
	if (!opt_at && r->n_pending) {
		printf("\npending promotions:\n");
		cmd_tab_init(&t, 0, 6, "ENVIRONMENT", "PIPELINE", "MODEL", "RUN", "COMMIT", "WAITING FOR");
		for (size_t i = 0; i < r->n_pending; i++) {
			const struct status_pending *p = &r->pending[i];
			cmd_tab_add(&t, NULL, "%s", or_dash(p->environment));
			cmd_tab_add(&t, NULL, "%s", or_dash(p->pipeline));
			if (p->model)
				cmd_tab_add(&t, NULL, "%s@%lld", p->model, (long long)p->version);
			else
				cmd_tab_add(&t, NULL, "-");
			cmd_tab_add(&t, NULL, "%s", or_dash(p->run));
			cmd_tab_add(&t, NULL, "%.12s", or_dash(p->commit));
			cmd_tab_add(&t, "yellow", "%s", or_dash(p->waiting_for));
		}
		cmd_tab_print(&t, ctx, NULL);
		cmd_tab_release(&t);
	}
	if (!opt_at && r->n_soak) {
		printf("\nsoaking (min_soak before a promotion onward):\n");
		cmd_tab_init(&t, 0, 5, "ENVIRONMENT", "PIPELINE", "CANDIDATE", "IN", "LEFT");
		for (size_t i = 0; i < r->n_soak; i++) {
			const struct status_soak *k = &r->soak[i];
			char left[32], since[32];
			freeze_format_time((time_t)(k->since_ms / 1000), since, sizeof(since));
			fmt_left(left, sizeof(left), k->left_ms);
			cmd_tab_add(&t, NULL, "%s", k->environment);
			cmd_tab_add(&t, NULL, "%s", k->pipeline);
			cmd_tab_add(&t, NULL, "%s@%lld", or_dash(k->model), (long long)k->version);
			cmd_tab_add(&t, NULL, "%s since %s", k->from, since);
			cmd_tab_add(&t, k->left_ms ? "yellow" : "green", "%s", k->left_ms ? left : "soaked");
		}
		cmd_tab_print(&t, ctx, NULL);
		cmd_tab_release(&t);
	}
}

int cmd_status(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	struct status_report r;
	time_t at = 0;
	int code;
	(void)args; /* none: max_args 0 */
	if (opt_at && freeze_parse_time(opt_at, &at) < 0) {
		cmd_error(ctx, "status: --at %s: expected an ISO-8601 UTC time (2026-11-25T18:00:00Z) or epoch seconds",
			  opt_at);
		return 2;
	}
	if (status_collect(ctx->home, opt_pipeline, (long long)at, &r, &e) < 0) {
		cmd_error(ctx, "status: %s", err_msg(&e));
		code = e.code ? e.code : 3;
		err_release(&e);
		return code;
	}
	if (ctx->json) {
		cJSON *o = status_report_to_json(&r);
		cmd_print_json(o);
		cJSON_Delete(o);
	} else {
		print_text(ctx, &r, at);
	}
	status_report_release(&r);
	return 0;
}
