/* history.c - `mlci history ENV`: every state commit of one environment, newest first (promotions
 * and rollbacks). Printing only; cd/status.c walks the state repo. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cd/status.h"
#include "cmd/cmd.h"
#include "common/banned.h"

static const char *opt_pipeline;

const struct cmd_opt cmd_history_opts[] = {
	{ 0, "pipeline", "P", "pipeline (default: the one pipeline that has ENV; required when several have)",
	  &opt_pipeline, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

/* Under the table: for each state commit that recorded gate evidence or an override, what it decided on. */
static void print_gates(const struct status_history *h)
{
	int header = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct env_state *st = &h->v[i].state;
		if (!st->gates.n && !st->override_gate && !st->failed_commit)
			continue;
		if (!header)
			printf("\ngates and evidence:\n");
		header = 1;
		printf("  %.12s", h->v[i].state_commit);
		if (st->model_version)
			printf(" %s@%lld", st->model_name ? st->model_name : "?", (long long)st->model_version);
		printf("\n");
		if (st->override_gate)
			printf("    override %s by %s: %s\n", st->override_gate,
			       st->override_by ? st->override_by : "?", st->override_reason ? st->override_reason : "");
		if (st->failed_commit)
			printf("    restored: the deploy of state %.12s failed: %s\n", st->failed_commit,
			       st->failed_reason ? st->failed_reason : "");
		for (size_t k = 0; k < st->gates.n; k++)
			printf("    %-18s %-7s %s\n", st->gates.items[k].name,
			       verdict_status_name(st->gates.items[k].status), st->gates.items[k].summary);
	}
}

int cmd_history(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	struct status_history h;
	struct cmd_tab t;
	int code;
	if (status_history(ctx->home, opt_pipeline, args->v[0], &h, &e) < 0) {
		cmd_error(ctx, "history: %s", err_msg(&e));
		code = e.code ? e.code : 3;
		err_release(&e);
		return code;
	}
	if (ctx->json) {
		cJSON *arr = status_history_to_json(&h);
		cmd_print_json(arr);
		cJSON_Delete(arr);
	} else if (!h.n) {
		printf("%s has no history yet\n", args->v[0]);
	} else {
		cmd_tab_init(&t, 0, 7, "STATE", "TIME", "MODEL", "COMMIT", "RUN", "RULE", "BY");
		for (size_t i = 0; i < h.n; i++) {
			const struct env_state *st = &h.v[i].state;
			char when[32] = "-";
			time_t ts = (time_t)h.v[i].time;
			struct tm g;
			gmtime_r(&ts, &g);
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &g);
			cmd_tab_add(&t, NULL, "%.12s", h.v[i].state_commit);
			cmd_tab_add(&t, NULL, "%s", when);
			if (st->model_version)
				cmd_tab_add(&t, NULL, "%s@%lld", st->model_name ? st->model_name : "?",
					    (long long)st->model_version);
			else
				cmd_tab_add(&t, "yellow", "%s", st->note ? st->note : "-");
			cmd_tab_add(&t, NULL, "%.12s", st->commit ? st->commit : "-");
			cmd_tab_add(&t, NULL, "%s", st->run ? st->run : "-");
			cmd_tab_add(&t, NULL, "%s", st->rule ? st->rule : "-");
			cmd_tab_add(&t, NULL, "%s", st->promoted_by ? st->promoted_by : "-");
		}
		cmd_tab_print(&t, ctx, NULL);
		cmd_tab_release(&t);
		if (!ctx->quiet)
			print_gates(&h);
	}
	status_history_release(&h);
	return 0;
}
