/* status.c - `mlci status`: what each environment runs (from the state repo) and what waits to be
 * promoted (from the store). Printing only; cd/status.c collects. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd/status.h"
#include "spec/freeze.h"
#include "cmd/cmd.h"
#include "common/json.h"
#include "common/banned.h"

static const char *opt_at, *opt_pipeline;

const struct cmd_opt cmd_status_opts[] = {
	{ 0, "at", "TIME", "what each environment ran at TIME (ISO-8601 UTC or seconds since the epoch)", &opt_at,
	  NULL },
	{ 0, "pipeline", "P", "only the environments of pipeline P", &opt_pipeline, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

/* "bc-classifier@3", or "-" when the state has no model. */
static void model_ref(char *out, size_t n, const cJSON *state)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(state, "model");
	const cJSON *v = cJSON_IsObject(m) ? cJSON_GetObjectItemCaseSensitive(m, "version") : NULL;
	if (cJSON_IsNumber(v))
		snprintf(out, n, "%s@%d", json_str(m, "name", "?"), v->valueint);
	else
		snprintf(out, n, "-");
}

int cmd_status(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	struct err e = ERR_INIT;
	cJSON *o = NULL;
	const cJSON *it;
	time_t at = 0;
	int code;
	opt_at = opt_pipeline = NULL;
	code = cmd_parse(cmd_find("status"), argc, argv, ctx, &args);
	strvec_clear(&args);
	if (code)
		return code;
	if (opt_at && freeze_parse_time(opt_at, &at) < 0) {
		cmd_error(ctx, "status: --at %s: expected an ISO-8601 UTC time (2026-11-25T18:00:00Z) or epoch seconds",
			  opt_at);
		return 2;
	}
	if (status_collect(ctx->home, opt_pipeline, (long long)at, &o, &e) < 0) {
		cmd_error(ctx, "status: %s", err_msg(&e));
		code = e.code ? e.code : 3;
		err_release(&e);
		return code;
	}
	if (ctx->json) {
		cmd_print_json(o);
	} else {
		struct cmd_tab t;
		const cJSON *envs = cJSON_GetObjectItemCaseSensitive(o, "environments");
		const cJSON *pending = cJSON_GetObjectItemCaseSensitive(o, "pending");
		const cJSON *pins = cJSON_GetObjectItemCaseSensitive(o, "pins");
		if (opt_at) {
			char w[32];
			freeze_format_time(at, w, sizeof(w));
			printf("as of %s:\n", w);
		}
		if (!cJSON_GetArraySize(envs))
			printf("%s\n",
			       opt_at ? "no environment had a state then" : "no environment has been promoted to yet");
		cmd_tab_init(&t, 0, 8, "PIPELINE", "ENVIRONMENT", "MODEL", "COMMIT", "BRANCH", "RUN", "SINCE", "BY");
		cJSON_ArrayForEach(it, envs) {
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "state");
			char model[160];
			model_ref(model, sizeof(model), st);
			cmd_tab_add(&t, NULL, "%s", json_str(it, "pipeline", "-"));
			cmd_tab_add(&t, NULL, "%s", json_str(it, "environment", "-"));
			cmd_tab_add(&t, NULL, "%s", model);
			cmd_tab_add(&t, NULL, "%.12s", json_str(st, "commit", "-"));
			cmd_tab_add(&t, NULL, "%s", json_str(st, "branch", "-"));
			cmd_tab_add(&t, NULL, "%s", json_str(st, "run", "-"));
			cmd_tab_add(&t, NULL, "%s", json_str(st, "promoted_at", "-"));
			cmd_tab_add(&t, NULL, "%s", json_str(st, "promoted_by", "-"));
		}
		if (cJSON_GetArraySize(envs))
			cmd_tab_print(&t, ctx, NULL);
		cmd_tab_release(&t);
		if (!opt_at && cJSON_GetArraySize(pins)) {
			printf("\npinned environments (automatic promotions held until mlci unpin):\n");
			cmd_tab_init(&t, 0, 4, "ENVIRONMENT", "PIPELINE", "MODEL", "PINNED BY");
			cJSON_ArrayForEach(it, pins) {
				const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "version");
				cmd_tab_add(&t, NULL, "%s", json_str(it, "environment", "-"));
				cmd_tab_add(&t, NULL, "%s", json_str(it, "pipeline", "-"));
				if (cJSON_IsNumber(v))
					cmd_tab_add(&t, NULL, "%s@%d", json_str(it, "model", "?"), v->valueint);
				else
					cmd_tab_add(&t, NULL, "-");
				cmd_tab_add(&t, "yellow", "rollback by %s", json_str(it, "by", "?"));
			}
			cmd_tab_print(&t, ctx, NULL);
			cmd_tab_release(&t);
		}
		if (!opt_at && cJSON_GetArraySize(pending)) {
			printf("\npending promotions:\n");
			cmd_tab_init(&t, 0, 6, "ENVIRONMENT", "PIPELINE", "MODEL", "RUN", "COMMIT", "WAITING FOR");
			cJSON_ArrayForEach(it, pending) {
				const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "version");
				cmd_tab_add(&t, NULL, "%s", json_str(it, "environment", "-"));
				cmd_tab_add(&t, NULL, "%s", json_str(it, "pipeline", "-"));
				if (cJSON_IsNumber(v))
					cmd_tab_add(&t, NULL, "%s@%d", json_str(it, "model", "?"), v->valueint);
				else
					cmd_tab_add(&t, NULL, "-");
				cmd_tab_add(&t, NULL, "%s", json_str(it, "run", "-"));
				cmd_tab_add(&t, NULL, "%.12s", json_str(it, "commit", "-"));
				cmd_tab_add(&t, "yellow", "%s", json_str(it, "waiting_for", "-"));
			}
			cmd_tab_print(&t, ctx, NULL);
			cmd_tab_release(&t);
		}
	}
	cJSON_Delete(o);
	return 0;
}
