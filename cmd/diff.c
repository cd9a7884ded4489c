/* diff.c - `mlci diff RUN_A RUN_B`: params and metrics of two runs side by side, and the steps whose
 * status or cache key differ. Printing only; the comparison is registry/query.c's. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "registry/query.h"
#include "common/json.h"
#include "common/banned.h"

const struct cmd_opt cmd_diff_opts[] = {
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

static void print_runs(const cJSON *a, const cJSON *b, const struct cmd_ctx *ctx)
{
	struct cmd_tab t;
	char da[32], db[32];
	cmd_tab_init(&t, 0, 3, "", "A", "B");
	cmd_tab_add(&t, NULL, "run");
	cmd_tab_add(&t, NULL, "%s", json_str(a, "id", "-"));
	cmd_tab_add(&t, NULL, "%s", json_str(b, "id", "-"));
	cmd_tab_add(&t, NULL, "commit");
	cmd_tab_add(&t, NULL, "%.12s (%s)", json_str(a, "commit", "-"), json_str(a, "branch", "-"));
	cmd_tab_add(&t, NULL, "%.12s (%s)", json_str(b, "commit", "-"), json_str(b, "branch", "-"));
	cmd_tab_add(&t, NULL, "status");
	cmd_tab_add(&t, cmd_status_colour(json_str(a, "status", NULL)), "%s", json_str(a, "status", "-"));
	cmd_tab_add(&t, cmd_status_colour(json_str(b, "status", NULL)), "%s", json_str(b, "status", "-"));
	cmd_fmt_duration(da, sizeof(da), a, "duration_ms");
	cmd_fmt_duration(db, sizeof(db), b, "duration_ms");
	cmd_tab_add(&t, NULL, "duration");
	cmd_tab_add(&t, NULL, "%s", da);
	cmd_tab_add(&t, NULL, "%s", db);
	cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
}

static void print_params(const cJSON *params, const struct cmd_ctx *ctx)
{
	struct cmd_tab t;
	const cJSON *p;
	if (!cJSON_GetArraySize(params))
		return;
	cmd_tab_init(&t, 0, 4, "", "PARAM", "A", "B");
	cJSON_ArrayForEach(p, params) {
		int d = json_bool(p, "differs", 0);
		char va[256], vb[256];
		cmd_fmt_value(va, sizeof(va), cJSON_GetObjectItemCaseSensitive(p, "a"));
		cmd_fmt_value(vb, sizeof(vb), cJSON_GetObjectItemCaseSensitive(p, "b"));
		cmd_tab_add(&t, "yellow", "%s", d ? "*" : "");
		cmd_tab_add(&t, NULL, "%s", json_str(p, "name", "-"));
		cmd_tab_add(&t, d ? "yellow" : NULL, "%s", va);
		cmd_tab_add(&t, d ? "yellow" : NULL, "%s", vb);
	}
	printf("\n");
	cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
}

static void print_metrics(const cJSON *metrics, const struct cmd_ctx *ctx)
{
	struct cmd_tab t;
	const cJSON *m;
	if (!cJSON_GetArraySize(metrics))
		return;
	cmd_tab_init(&t, 1u << 3 | 1u << 4 | 1u << 5, 6, "", "METRIC", "SLICE", "A", "B", "DELTA");
	cJSON_ArrayForEach(m, metrics) {
		const cJSON *delta = cJSON_GetObjectItemCaseSensitive(m, "delta");
		int d = json_bool(m, "differs", 0);
		char va[64], vb[64];
		cmd_fmt_value(va, sizeof(va), cJSON_GetObjectItemCaseSensitive(m, "a"));
		cmd_fmt_value(vb, sizeof(vb), cJSON_GetObjectItemCaseSensitive(m, "b"));
		cmd_tab_add(&t, "yellow", "%s", d ? "*" : "");
		cmd_tab_add(&t, NULL, "%s", json_str(m, "name", "-"));
		cmd_tab_add(&t, NULL, "%s", *json_str(m, "slice", "") ? json_str(m, "slice", "") : "-");
		cmd_tab_add(&t, NULL, "%s", va);
		cmd_tab_add(&t, NULL, "%s", vb);
		if (cJSON_IsNumber(delta) && delta->valuedouble == 0.0)
			cmd_tab_add(&t, NULL, "0");
		else if (cJSON_IsNumber(delta))
			cmd_tab_add(&t,
				    !d                       ? NULL
				    : delta->valuedouble > 0 ? "green"
							     : "red",
				    "%+.6g", delta->valuedouble);
		else
			cmd_tab_add(&t, NULL, "-");
	}
	printf("\n");
	cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
}

static void print_steps(const cJSON *steps, const struct cmd_ctx *ctx)
{
	struct cmd_tab t;
	const cJSON *s;
	if (!cJSON_GetArraySize(steps))
		return;
	cmd_tab_init(&t, 0, 6, "COMPONENT", "PHASE", "A STATUS", "B STATUS", "A CACHE KEY", "B CACHE KEY");
	cJSON_ArrayForEach(s, steps) {
		const char *sa = json_str(s, "a_status", "-"), *sb = json_str(s, "b_status", "-");
		cmd_tab_add(&t, NULL, "%s", json_str(s, "component", "-"));
		cmd_tab_add(&t, NULL, "%s", json_str(s, "phase", "-"));
		cmd_tab_add(&t, cmd_status_colour(sa), "%s", sa);
		cmd_tab_add(&t, cmd_status_colour(sb), "%s", sb);
		cmd_tab_add(&t, NULL, "%.12s", json_str(s, "a_cache_key", "-"));
		cmd_tab_add(&t, NULL, "%.12s", json_str(s, "b_cache_key", "-"));
	}
	printf("\nsteps that differ:\n");
	cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
}

int cmd_diff(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	cJSON *d = NULL;

	if (!ctx->store) {
		cmd_error(ctx, "unknown run '%s' (no runs recorded in %s yet)", args->v[0], ctx->home);
		return 2;
	}
	if (query_run_diff(ctx->store, args->v[0], args->v[1], &d, &e) < 0)
		return cmd_fail(ctx, &e);
	if (ctx->json) {
		cmd_print_json(d);
	} else {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, "differences");
		print_runs(cJSON_GetObjectItemCaseSensitive(d, "a"), cJSON_GetObjectItemCaseSensitive(d, "b"), ctx);
		print_params(cJSON_GetObjectItemCaseSensitive(d, "params"), ctx);
		print_metrics(cJSON_GetObjectItemCaseSensitive(d, "metrics"), ctx);
		print_steps(cJSON_GetObjectItemCaseSensitive(d, "steps"), ctx);
		printf("\n%d difference%s\n", n ? n->valueint : 0, n && n->valueint == 1 ? "" : "s");
	}
	cJSON_Delete(d);
	return 0;
}
