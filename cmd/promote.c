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

static const char *opt_to, *opt_version, *opt_reason;

const struct cmd_opt cmd_promote_opts[] = {
	{ 0, "to", "ENV", "environment to promote to (required)", &opt_to, NULL },
	{ 0, "version", "V", "model version to promote (default: the one in the \"from\" environment)", &opt_version,
	  NULL },
	{ 0, "reason", "TEXT", "why (recorded in the state commit and the registry)", &opt_reason, NULL },
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

int cmd_promote(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	struct promote_outcome o;
	struct cd_request q;
	int code;

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
	if (cd_promote(&q, &o, &e) < 0) {
		code = cmd_fail(ctx, &e);
		goto done;
	}
	code = cmd_print_outcome(ctx, "promote", &o, 1);
	promote_outcome_release(&o);
done:
	return code;
}
