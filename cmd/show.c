/* show.c - `mlci show RUN`: one run with its params, steps, artifacts, checks, metrics and registered models.
 * Printing only; the query is registry/query.c's (the text is rendered from the same JSON as -o json). */
#include <cjson/cJSON.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/alloc.h"
#include "common/json.h"
#include "registry/query.h"
#include "common/banned.h"

const struct cmd_opt cmd_show_opts[] = {
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

static void field(const struct cmd_ctx *ctx, const char *name, const char *colour, const char *value)
{
	printf("%s%-9s%s %s%s%s\n", cmd_col(ctx->color, "bold"), name, cmd_col(ctx->color, "reset"),
	       cmd_col(ctx->color && *colour, colour), value, cmd_col(ctx->color && *colour, "reset"));
}

static void print_header(const cJSON *r, const struct cmd_ctx *ctx)
{
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(r, "params"), *p;
	const char *status = json_str(r, "status", "-"), *reason = json_str(r, "reason", NULL);
	const char *branch = json_str(r, "branch", NULL), *from = json_str(r, "resumed_from", NULL);
	struct buf b = BUF_INIT;
	char t[64];

	field(ctx, "run", "", json_str(r, "id", "-"));
	field(ctx, "pipeline", "", json_str(r, "pipeline", "-"));
	buf_addf(&b, "%s%s%s%s", json_str(r, "commit", "-"), branch ? " (" : "", branch ? branch : "",
		 branch ? ")" : "");
	field(ctx, "commit", "", b.ptr);
	field(ctx, "repo", "", json_str(r, "repo", "-"));
	buf_reset(&b);
	buf_addf(&b, "%s%s%s", status, reason ? ": " : "", reason ? reason : "");
	field(ctx, "status", cmd_status_colour(status), b.ptr);
	field(ctx, "trigger", "", json_str(r, "trigger", "-"));
	cmd_fmt_time(t, sizeof(t), r, "started_ms");
	field(ctx, "started", "", t);
	cmd_fmt_time(t, sizeof(t), r, "finished_ms");
	field(ctx, "finished", "", t);
	cmd_fmt_duration(t, sizeof(t), r, "duration_ms");
	field(ctx, "duration", "", t);
	buf_reset(&b);
	buf_addf(&b, "%s@%s (pid %d), mlci %s", json_str(r, "user", "?"), json_str(r, "host", "?"),
		 json_int(r, "pid", 0), json_str(r, "mlci_version", "?"));
	field(ctx, "executor", "", b.ptr);
	if (from)
		field(ctx, "resumed", "", from);
	buf_reset(&b);
	if (cJSON_IsObject(params)) {
		cJSON_ArrayForEach(p, params) {
			char v[256];
			cmd_fmt_value(v, sizeof(v), p);
			buf_addf(&b, "%s%s=%s", b.len ? " " : "", p->string, v);
		}
	} else {
		char v[256];
		cmd_fmt_value(v, sizeof(v), params);
		buf_addstr(&b, v);
	}
	field(ctx, "params", "", b.len ? b.ptr : "-");
	buf_release(&b);
}

static void print_steps(const cJSON *steps, const struct cmd_ctx *ctx)
{
	struct cmd_tab t;
	const cJSON *s;
	cmd_tab_init(&t, 1u << 4 | 1u << 5, 9, "COMPONENT", "PHASE", "STATUS", "STARTED", "DURATION", "EXIT",
		     "CACHE KEY", "CACHED FROM", "REASON");
	cJSON_ArrayForEach(s, steps) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(s, "exit_code");
		const char *status = json_str(s, "status", "-");
		char started[32], dur[32];
		cmd_fmt_time(started, sizeof(started), s, "started_ms");
		cmd_fmt_duration(dur, sizeof(dur), s, "duration_ms");
		cmd_tab_add(&t, NULL, "%s", json_str(s, "component", "-"));
		cmd_tab_add(&t, NULL, "%s", json_str(s, "phase", "-"));
		cmd_tab_add(&t, cmd_status_colour(status), "%s", status);
		cmd_tab_add(&t, NULL, "%s", started);
		cmd_tab_add(&t, NULL, "%s", dur);
		if (cJSON_IsNumber(code))
			cmd_tab_add(&t, NULL, "%d", code->valueint);
		else
			cmd_tab_add(&t, NULL, "-");
		cmd_tab_add(&t, NULL, "%.12s", json_str(s, "cache_key", "-"));
		cmd_tab_add(&t, NULL, "%s", json_str(s, "cached_from", "-"));
		cmd_tab_add(&t, NULL, "%s", json_str(s, "reason", ""));
	}
	printf("\n");
	cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
}

static void print_artifacts(const cJSON *arts, const struct cmd_ctx *ctx)
{
	struct cmd_tab t;
	const cJSON *a;
	if (!cJSON_GetArraySize(arts))
		return;
	cmd_tab_init(&t, 1u << 4, 6, "ARTIFACT", "COMPONENT", "NAME", "DIGEST", "SIZE", "URI");
	cJSON_ArrayForEach(a, arts) {
		char size[32];
		cmd_fmt_size(size, sizeof(size), a, "size");
		cmd_tab_add(&t, NULL, "%s", json_str(a, "kind", "-"));
		cmd_tab_add(&t, NULL, "%s", json_str(a, "component", "-"));
		cmd_tab_add(&t, NULL, "%s", json_str(a, "name", "-"));
		cmd_tab_add(&t, NULL, "%.12s", json_str(a, "digest", "-"));
		cmd_tab_add(&t, NULL, "%s", size);
		cmd_tab_add(&t, NULL, "%s", json_str(a, "uri", "-"));
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
	cmd_tab_init(&t, 1u << 2, 3, "METRIC", "SLICE", "VALUE");
	cJSON_ArrayForEach(m, metrics) {
		char v[64];
		cmd_fmt_value(v, sizeof(v), cJSON_GetObjectItemCaseSensitive(m, "value"));
		cmd_tab_add(&t, NULL, "%s", json_str(m, "name", "-"));
		cmd_tab_add(&t, NULL, "%s", *json_str(m, "slice", "") ? json_str(m, "slice", "") : "-");
		cmd_tab_add(&t, NULL, "%s", v);
	}
	printf("\n");
	cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
}

static void print_checks(const cJSON *checks, const struct cmd_ctx *ctx)
{
	struct cmd_tab t;
	const cJSON *c;
	if (!cJSON_GetArraySize(checks))
		return;
	cmd_tab_init(&t, 0, 3, "CHECK", "VERDICT", "SUMMARY");
	cJSON_ArrayForEach(c, checks) {
		const char *st = json_str(c, "status", "-");
		cmd_tab_add(&t, NULL, "%s", json_str(c, "name", "-"));
		cmd_tab_add(&t,
			    !strcmp(st, "pass")   ? "green"
			    : !strcmp(st, "fail") ? "red"
			    : !strcmp(st, "warn") ? "yellow"
						  : "dim",
			    "%s", st);
		cmd_tab_add(&t, NULL, "%s", json_str(c, "summary", ""));
	}
	printf("\n");
	cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
}

/* Each promotion of the run with the gates it was decided on (their figures, slices included). */
static void print_promotions(const cJSON *pro)
{
	const cJSON *p, *g;
	cJSON_ArrayForEach(p, pro) {
		printf("%spromotion to %s: %s", p == pro->child ? "\n" : "", json_str(p, "environment", "?"),
		       json_str(p, "status", "?"));
		if (json_str(p, "state_commit", NULL))
			printf(" (state %.12s)", json_str(p, "state_commit", ""));
		if (json_str(p, "waiting_for", NULL))
			printf(", %s", json_str(p, "waiting_for", ""));
		printf("\n");
		cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(p, "gates")) {
			printf("  %-18s %-7s %s\n", json_str(g, "name", "?"), json_str(g, "status", "?"),
			       json_str(g, "summary", ""));
		}
	}
}

static void print_tail(const cJSON *r)
{
	const cJSON *models = cJSON_GetObjectItemCaseSensitive(r, "models"), *m, *s;
	cJSON_ArrayForEach(m, models) {
		printf("%smodel: %s@%d (%.12s)\n", m == models->child ? "\n" : "", json_str(m, "model", "?"),
		       json_int(m, "version", 0), json_str(m, "artifact", "?"));
	}
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r, "steps")) {
		const char *log = json_str(s, "log_path", NULL);
		if (log) {
			char *d = xstrdup(log);
			printf("\nlogs: %s/ (mlci logs %s [COMPONENT])\n", dirname(d), json_str(r, "id", "RUN"));
			free(d);
			break;
		}
	}
}

int cmd_show(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	cJSON *r = NULL;

	if (!ctx->store) {
		cmd_error(ctx, "unknown run '%s' (no runs recorded in %s yet)", args->v[0], ctx->home);
		return 2;
	}
	if (query_run_show(ctx->store, args->v[0], &r, &e) < 0)
		return cmd_fail(ctx, &e);
	if (ctx->json) {
		cmd_print_json(r);
	} else {
		print_header(r, ctx);
		print_steps(cJSON_GetObjectItemCaseSensitive(r, "steps"), ctx);
		print_artifacts(cJSON_GetObjectItemCaseSensitive(r, "artifacts"), ctx);
		print_checks(cJSON_GetObjectItemCaseSensitive(r, "checks"), ctx);
		print_metrics(cJSON_GetObjectItemCaseSensitive(r, "metrics"), ctx);
		print_promotions(cJSON_GetObjectItemCaseSensitive(r, "promotions"));
		print_tail(r);
	}
	cJSON_Delete(r);
	return 0;
}
