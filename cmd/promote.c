/* promote.c - `mlci promote PIPELINE --to ENV`: the manual rule (or the release of a held candidate),
 * plus what approve/rollback/unpin share: who the actor is and how an outcome is printed. */
#include <cjson/cJSON.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cd/gates.h"
#include "cmd/cmd.h"
#include "common/banned.h"

static const char *opt_to, *opt_version, *opt_reason, *opt_override;
static int opt_dry_run;

const struct cmd_opt cmd_promote_opts[] = {
	{ 0, "to", "ENV", "environment to promote to (required)", &opt_to, NULL },
	{ 0, "version", "V", "model version to promote (default: the one in the \"from\" environment)", &opt_version,
	  NULL },
	{ 0, "reason", "TEXT", "why (recorded in the state commit and the registry)", &opt_reason, NULL },
	{ 0, "dry-run", NULL,
	  "evaluate every gate and show how the candidate differs from what ENV runs; write nothing (exit 0 when "
	  "it would pass, 1 when not)",
	  NULL, &opt_dry_run },
	{ 0, "override", "GATE",
	  "break glass: pass over failing GATE (min_staging_runs, min_soak, champion, approvals, freeze); only "
	  "for override_approvers, --reason required, recorded as an override",
	  &opt_override, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

const char *cmd_actor(void)
{
	const char *a = getenv("MLCI_ACTOR");
	struct passwd *pw;
	const char *u = getenv("USER");
	if (a && *a)
		return a;
	pw = getpwuid(geteuid());
	return pw && pw->pw_name ? pw->pw_name : u && *u ? u : "unknown";
}

int cmd_parse_version(const struct cmd_ctx *ctx, const char *s, int64_t *out)
{
	int v = 0;
	int code = cmd_parse_int(ctx, "--version", s, 1, 2000000000, &v);
	*out = v;
	return code;
}

int cmd_print_outcome(const struct cmd_ctx *ctx, const char *what, const struct promote_outcome *o, int pending_code)
{
	if (ctx->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "action", promote_action_name(o->action));
		if (o->environment)
			cJSON_AddStringToObject(j, "environment", o->environment);
		cJSON_AddStringToObject(j, "detail", o->detail ? o->detail : "");
		if (o->state_commit[0])
			cJSON_AddStringToObject(j, "state_commit", o->state_commit);
		cmd_print_json(j);
		cJSON_Delete(j);
	} else {
		printf("%s: %s\n", what, o->detail ? o->detail : promote_action_name(o->action));
	}
	switch (o->action) {
	case PROMOTE_FAILED:
		return 1;
	case PROMOTE_PENDING:
		return pending_code;
	default:
		return 0;
	}
}

/* The gates and the diff of a promote (every gate evaluated), as text. */
static void print_gates(const struct cmd_ctx *ctx, const struct cd_result *res)
{
	struct cmd_tab t;
	if (res->gates.n) {
		cmd_tab_init(&t, 0, 3, "GATE", "RESULT", "DETAIL");
		for (size_t i = 0; i < res->gates.n; i++) {
			const struct verdict *v = &res->gates.items[i];
			cmd_tab_add(&t, NULL, "%s", v->name);
			cmd_tab_add(&t,
				    v->status == VERDICT_FAIL   ? "red"
				    : v->status == VERDICT_PASS ? "green"
								: "yellow",
				    "%s", verdict_status_name(v->status));
			cmd_tab_add(&t, NULL, "%s", v->summary);
		}
		cmd_tab_print(&t, ctx, NULL);
		cmd_tab_release(&t);
	}
	if (res->diff_what.n) {
		printf("\n");
		cmd_tab_init(&t, 0, 3, "", "NOW", "CANDIDATE");
		for (size_t i = 0; i < res->diff_what.n; i++) {
			cmd_tab_add(&t, NULL, "%s", res->diff_what.v[i]);
			cmd_tab_add(&t, NULL, "%s", res->diff_current.v[i]);
			cmd_tab_add(&t, NULL, "%s", res->diff_candidate.v[i]);
		}
		cmd_tab_print(&t, ctx, NULL);
		cmd_tab_release(&t);
	}
}

static int print_dry_run(const struct cmd_ctx *ctx, const struct cd_result *res)
{
	if (ctx->json) {
		cJSON *j = cJSON_CreateObject(), *d = cJSON_AddArrayToObject(j, "diff");
		cJSON_AddBoolToObject(j, "would_pass", res->would_pass);
		if (res->out.environment)
			cJSON_AddStringToObject(j, "environment", res->out.environment);
		cJSON_AddStringToObject(j, "detail", res->out.detail ? res->out.detail : "");
		cJSON_AddItemToObject(j, "gates", verdicts_to_json(&res->gates));
		for (size_t i = 0; i < res->diff_what.n; i++) {
			cJSON *row = cJSON_CreateObject();
			cJSON_AddStringToObject(row, "what", res->diff_what.v[i]);
			cJSON_AddStringToObject(row, "now", res->diff_current.v[i]);
			cJSON_AddStringToObject(row, "candidate", res->diff_candidate.v[i]);
			cJSON_AddItemToArray(d, row);
		}
		cmd_print_json(j);
		cJSON_Delete(j);
	} else {
		print_gates(ctx, res);
		printf("\npromote: %s\n", res->out.detail ? res->out.detail : "dry run");
	}
	return res->would_pass ? 0 : 1;
}

int cmd_promote(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	struct cd_result res;
	struct cd_request q;
	int code;

	cd_result_init(&res);
	memset(&q, 0, sizeof(q));
	if (!opt_to) {
		cmd_error(ctx, "promote: --to ENV is required");
		code = 2;
		goto done;
	}
	if (opt_version && (code = cmd_parse_version(ctx, opt_version, &q.version)) != 0)
		goto done;
	q.home = ctx->home;
	q.pipeline = args->v[0];
	q.env = opt_to;
	q.actor = cmd_actor();
	q.reason = opt_reason;
	q.dry_run = opt_dry_run;
	q.override_gate = opt_override;
	if (cd_promote(&q, &res, &e) < 0) {
		code = cmd_fail(ctx, &e);
	} else if (q.dry_run) {
		code = print_dry_run(ctx, &res);
	} else {
		code = cmd_print_outcome(ctx, "promote", &res.out, 1);
	}
done:
	cd_result_release(&res);
	return code;
}
