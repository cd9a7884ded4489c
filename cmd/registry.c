/* registry.c - `mlci registry list` and `mlci registry show MODEL[@VERSION]`: the model registry.
 * Printing only; the queries are registry/lineage.c's. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/buf.h"
#include "common/json.h"
#include "registry/query.h"
#include "common/banned.h"

const struct cmd_opt cmd_registry_opts[] = {
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

/* Metrics of a version as "name=value ..." (an object), or compact JSON for anything else. */
static void fmt_metrics(struct buf *b, const cJSON *m)
{
	const cJSON *v;
	char s[256];
	if (!cJSON_IsObject(m)) {
		cmd_fmt_value(s, sizeof(s), m);
		buf_addstr(b, s);
		return;
	}
	cJSON_ArrayForEach(v, m) {
		cmd_fmt_value(s, sizeof(s), v);
		buf_addf(b, "%s%s=%s", b->len ? " " : "", v->string, s);
	}
	if (!b->len)
		buf_addstr(b, "-");
}

static void print_list(const cJSON *models, const struct cmd_ctx *ctx)
{
	struct cmd_tab t;
	const cJSON *m;
	cmd_tab_init(&t, 1u << 1 | 1u << 2, 6, "MODEL", "LATEST", "VERSIONS", "RUN", "COMMIT", "CREATED");
	cJSON_ArrayForEach(m, models) {
		char created[32];
		cmd_fmt_time(created, sizeof(created), m, "created_ms");
		cmd_tab_add(&t, NULL, "%s", json_str(m, "model", "-"));
		cmd_tab_add(&t, NULL, "%d", json_int(m, "latest_version", 0));
		cmd_tab_add(&t, NULL, "%d", json_int(m, "versions", 0));
		cmd_tab_add(&t, NULL, "%s", json_str(m, "latest_run", "-"));
		cmd_tab_add(&t, NULL, "%.12s", json_str(m, "latest_commit", "-"));
		cmd_tab_add(&t, NULL, "%s", created);
	}
	cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
}

static void print_versions(const cJSON *o, const struct cmd_ctx *ctx)
{
	struct cmd_tab t;
	const cJSON *v;
	cmd_tab_init(&t, 1u << 0, 8, "VERSION", "RUN", "COMMIT", "BRANCH", "ARTIFACT", "PREVIOUS", "CREATED",
		     "METRICS");
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(o, "versions")) {
		struct buf b = BUF_INIT;
		char created[32];
		cmd_fmt_time(created, sizeof(created), v, "created_ms");
		fmt_metrics(&b, cJSON_GetObjectItemCaseSensitive(v, "metrics"));
		cmd_tab_add(&t, NULL, "%d", json_int(v, "version", 0));
		cmd_tab_add(&t, NULL, "%s", json_str(v, "run", "-"));
		cmd_tab_add(&t, NULL, "%.12s", json_str(v, "commit", "-"));
		cmd_tab_add(&t, NULL, "%s", json_str(v, "branch", "-"));
		cmd_tab_add(&t, NULL, "%.12s", json_str(v, "artifact", "-"));
		if (json_int(v, "previous", 0))
			cmd_tab_add(&t, NULL, "%d", json_int(v, "previous", 0));
		else
			cmd_tab_add(&t, NULL, "-");
		cmd_tab_add(&t, NULL, "%s", created);
		cmd_tab_add(&t, NULL, "%s", b.ptr);
		buf_release(&b);
	}
	printf("%s%s%s\n", cmd_col(ctx->color, "bold"), json_str(o, "model", "?"), cmd_col(ctx->color, "reset"));
	cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
}

/* "in      production since 2026-..." / "was in  staging 2026-... to 2026-... (replaced)" */
static void print_environments(const cJSON *v)
{
	const cJSON *envs = cJSON_GetObjectItemCaseSensitive(v, "environments"), *p;
	int now = 0, was = 0;
	cJSON_ArrayForEach(p, envs) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "now")))
			printf("%s%s since %s", now++ ? ", " : "in        ", json_str(p, "environment", "?"),
			       json_str(p, "since", "?"));
	}
	if (now)
		printf("\n");
	cJSON_ArrayForEach(p, envs) {
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "now")))
			printf("%s%s %s to %s (%s)", was++ ? ", " : "was in    ", json_str(p, "environment", "?"),
			       json_str(p, "since", "?"), json_str(p, "until", "?"), json_str(p, "left_as", "left"));
	}
	if (was)
		printf("\n");
	if (!now && !was)
		printf("in        no environment\n");
}

static void print_version(const cJSON *v, const struct cmd_ctx *ctx)
{
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(v, "transitions"), *x;
	struct buf b = BUF_INIT;
	char created[32];
	const char *status = json_str(v, "run_status", "-");

	cmd_fmt_time(created, sizeof(created), v, "created_ms");
	fmt_metrics(&b, cJSON_GetObjectItemCaseSensitive(v, "metrics"));
	printf("%smodel     %s@%d%s\n", cmd_col(ctx->color, "bold"), json_str(v, "model", "?"),
	       json_int(v, "version", 0), cmd_col(ctx->color, "reset"));
	printf("run       %s (%s%s%s)\n", json_str(v, "run", "-"),
	       cmd_col(ctx->color && *cmd_status_colour(status), cmd_status_colour(status)), status,
	       cmd_col(ctx->color && *cmd_status_colour(status), "reset"));
	printf("pipeline  %s\n", json_str(v, "pipeline", "-"));
	printf("commit    %s%s%s%s\n", json_str(v, "commit", "-"), json_str(v, "branch", NULL) ? " (" : "",
	       json_str(v, "branch", ""), json_str(v, "branch", NULL) ? ")" : "");
	printf("artifact  sha256:%s\n", json_str(v, "artifact", "-"));
	if (json_int(v, "previous", 0))
		printf("previous  %s@%d\n", json_str(v, "model", "?"), json_int(v, "previous", 0));
	else
		printf("previous  -\n");
	printf("created   %s\n", created);
	printf("metrics   %s\n", b.ptr);
	buf_release(&b);
	print_environments(v);
	if (!cJSON_GetArraySize(tr)) {
		printf("\nno stage transitions\n");
		return;
	}
	{
		struct cmd_tab t;
		cmd_tab_init(&t, 0, 7, "TIME", "ENVIRONMENT", "FROM", "TO", "ACTOR", "STATE COMMIT", "REASON");
		cJSON_ArrayForEach(x, tr) {
			char when[32];
			cmd_fmt_time(when, sizeof(when), x, "time_ms");
			cmd_tab_add(&t, NULL, "%s", when);
			cmd_tab_add(&t, NULL, "%s", json_str(x, "environment", "-"));
			cmd_tab_add(&t, NULL, "%s", json_str(x, "from", "-"));
			cmd_tab_add(&t, NULL, "%s", json_str(x, "to", "-"));
			cmd_tab_add(&t, NULL, "%s", json_str(x, "actor", "-"));
			cmd_tab_add(&t, NULL, "%.12s", json_str(x, "state_commit", "-"));
			cmd_tab_add(&t, NULL, "%s", json_str(x, "reason", ""));
		}
		printf("\n");
		cmd_tab_print(&t, ctx, NULL);
		cmd_tab_release(&t);
	}
}

int cmd_registry(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	cJSON *o = NULL;
	const char *sub;
	int code, list;

	sub = args->v[0];
	list = !strcmp(sub, "list");
	if ((!list && strcmp(sub, "show")) || (list && args->n != 1) || (!list && args->n != 2)) {
		if (list || !strcmp(sub, "show"))
			cmd_error(ctx, "wrong number of arguments for 'mlci registry %s'", sub);
		else
			cmd_error(ctx, "unknown registry command '%s' (expected list or show)", sub);
		fprintf(stderr, "usage: %s\n", ctx->cmd->usage);
		code = 2;
		goto done;
	}
	if (!ctx->store && !list) {
		cmd_error(ctx, "unknown model '%s' (nothing registered in %s yet)", args->v[1], ctx->home);
		code = 2;
		goto done;
	}
	if (!ctx->store) {
		o = cJSON_CreateArray();
	} else {
		code = list ? query_models(ctx->store, &o, &e) : query_model_show(ctx->store, args->v[1], &o, &e);
		if (code < 0) {
			code = cmd_fail(ctx, &e);
			goto done;
		}
	}
	if (ctx->json)
		cmd_print_json(o);
	else if (list && !cJSON_GetArraySize(o)) {
		if (!ctx->quiet)
			fprintf(stderr, "mlci: no models registered yet\n");
	} else if (list)
		print_list(o, ctx);
	else if (cJSON_GetObjectItemCaseSensitive(o, "versions"))
		print_versions(o, ctx);
	else
		print_version(o, ctx);
	code = 0;
done:
	cJSON_Delete(o);
	return code;
}
