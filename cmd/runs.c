/* runs.c - `mlci runs`: the recent runs of the store, newest first, with filters.
 * Printing only; the query is registry/query.c's (the text table is rendered from the same JSON). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "registry/query.h"
#include "common/json.h"
#include "common/banned.h"

static const char *opt_pipeline, *opt_branch, *opt_status, *opt_limit;

const struct cmd_opt cmd_runs_opts[] = {
	{ 0, "pipeline", "P", "only runs of pipeline P", &opt_pipeline, NULL },
	{ 0, "branch", "B", "only runs of branch B", &opt_branch, NULL },
	{ 0, "status", "S", "only runs with status S (passed, failed, error, cancelled, running, interrupted)",
	  &opt_status, NULL },
	{ 'n', "limit", "N", "at most N runs (default 20)", &opt_limit, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

static void print_runs(const cJSON *runs, const struct cmd_ctx *ctx)
{
	struct cmd_tab t;
	const cJSON *r;
	cmd_tab_init(&t, 1u << 7, 9, "RUN", "PIPELINE", "BRANCH", "COMMIT", "STATUS", "TRIGGER", "STARTED", "DURATION",
		     "CACHED");
	cJSON_ArrayForEach(r, runs) {
		char started[32], dur[32];
		const char *status = json_str(r, "status", "-");
		cmd_fmt_time(started, sizeof(started), r, "started_ms");
		cmd_fmt_duration(dur, sizeof(dur), r, "duration_ms");
		cmd_tab_add(&t, NULL, "%s", json_str(r, "id", "-"));
		cmd_tab_add(&t, NULL, "%s", json_str(r, "pipeline", "-"));
		cmd_tab_add(&t, NULL, "%s", json_str(r, "branch", "-"));
		cmd_tab_add(&t, NULL, "%.12s", json_str(r, "commit", "-"));
		cmd_tab_add(&t, cmd_status_colour(status), "%s", status);
		cmd_tab_add(&t, NULL, "%s", json_str(r, "trigger", "-"));
		cmd_tab_add(&t, NULL, "%s", started);
		cmd_tab_add(&t, NULL, "%s", dur);
		cmd_tab_add(&t, NULL, "%d/%d", json_int(r, "steps_cached", 0), json_int(r, "steps", 0));
	}
	cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
}

int cmd_runs(struct strvec *args, struct cmd_ctx *ctx)
{
	struct query_runs_filter f;
	struct err e = ERR_INIT;
	cJSON *runs = NULL;
	int code;

	(void)args; /* none: max_args 0 */
	memset(&f, 0, sizeof(f));
	if (opt_limit && (code = cmd_parse_int(ctx, "--limit", opt_limit, 1, 1000000, &f.limit)))
		return code;
	f.pipeline = opt_pipeline;
	f.branch = opt_branch;
	f.status = opt_status;
	if (ctx->store) {
		if (query_runs(ctx->store, &f, &runs, &e) < 0)
			return cmd_fail(ctx, &e);
	} else {
		runs = cJSON_CreateArray(); /* no database yet: nothing has run */
	}
	if (ctx->json)
		cmd_print_json(runs);
	else if (cJSON_GetArraySize(runs))
		print_runs(runs, ctx);
	else if (!ctx->quiet)
		fprintf(stderr, "mlci: no runs%s\n", opt_pipeline || opt_branch || opt_status ? " match" : " yet");
	cJSON_Delete(runs);
	return 0;
}
