/* history.c - `mlci history ENV`: every state commit of one environment, newest first (promotions
 * and rollbacks). Printing only; cd/status.c walks the state repo. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cd/status.h"
#include "cmd/cmd.h"
#include "common/json.h"
#include "common/banned.h"

static const char *opt_pipeline;

const struct cmd_opt cmd_history_opts[] = {
	{ 0, "pipeline", "P", "pipeline (default: the one pipeline that has ENV; required when several have)",
	  &opt_pipeline, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

int cmd_history(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	struct err e = ERR_INIT;
	cJSON *arr = NULL;
	const cJSON *it;
	struct cmd_tab t;
	int code;
	opt_pipeline = NULL;
	code = cmd_parse(cmd_find("history"), argc, argv, ctx, &args);
	if (code) {
		strvec_clear(&args);
		return code;
	}
	if (status_history(ctx->home, opt_pipeline, args.v[0], &arr, &e) < 0) {
		cmd_error(ctx, "history: %s", err_msg(&e));
		code = e.code ? e.code : 3;
		err_release(&e);
		strvec_clear(&args);
		return code;
	}
	if (ctx->json) {
		cmd_print_json(arr);
	} else if (!cJSON_GetArraySize(arr)) {
		printf("%s has no history yet\n", args.v[0]);
	} else {
		cmd_tab_init(&t, 0, 7, "STATE", "TIME", "MODEL", "COMMIT", "RUN", "RULE", "BY");
		cJSON_ArrayForEach(it, arr) {
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "state");
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(st, "model");
			const cJSON *v = cJSON_IsObject(m) ? cJSON_GetObjectItemCaseSensitive(m, "version") : NULL;
			const cJSON *tm = cJSON_GetObjectItemCaseSensitive(it, "time");
			char when[32] = "-";
			if (cJSON_IsNumber(tm)) {
				time_t ts = (time_t)tm->valuedouble;
				struct tm g;
				gmtime_r(&ts, &g);
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &g);
			}
			cmd_tab_add(&t, NULL, "%.12s", json_str(it, "state_commit", "-"));
			cmd_tab_add(&t, NULL, "%s", when);
			if (cJSON_IsNumber(v))
				cmd_tab_add(&t, NULL, "%s@%d", json_str(m, "name", "?"), v->valueint);
			else
				cmd_tab_add(&t, "yellow", "%s", json_str(st, "note", "-"));
			cmd_tab_add(&t, NULL, "%.12s", json_str(st, "commit", "-"));
			cmd_tab_add(&t, NULL, "%s", json_str(st, "run", "-"));
			cmd_tab_add(&t, NULL, "%s", json_str(st, "rule", "-"));
			cmd_tab_add(&t, NULL, "%s", json_str(st, "promoted_by", "-"));
		}
		cmd_tab_print(&t, ctx, NULL);
		cmd_tab_release(&t);
	}
	cJSON_Delete(arr);
	strvec_clear(&args);
	return 0;
}
