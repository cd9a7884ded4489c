/* rollback.c - `mlci rollback ENV [--to VERSION]`: restore an earlier state of ENV and pin it.
 * Printing only; cd/gates.c does the work. */
#include <stdio.h>
#include <string.h>

#include "cd/gates.h"
#include "cmd/cmd.h"
#include "common/banned.h"

static const char *opt_to, *opt_pipeline, *opt_reason;

const struct cmd_opt cmd_rollback_opts[] = {
	{ 0, "to", "VERSION", "model version to go back to (default: the state before the current one)", &opt_to,
	  NULL },
	{ 0, "pipeline", "P", "pipeline (default: the one ENV runs)", &opt_pipeline, NULL },
	{ 0, "reason", "TEXT", "why (recorded in the state commit, the registry and the pin)", &opt_reason, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

int cmd_rollback(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	struct cd_result res;
	struct cd_request q;
	int code;

	memset(&q, 0, sizeof(q));
	cd_result_init(&res);
	if (opt_to && (code = cmd_parse_version(ctx, opt_to, &q.version)) != 0)
		goto done;
	q.home = ctx->home;
	q.pipeline = opt_pipeline;
	q.env = args->v[0];
	q.actor = cmd_actor();
	q.reason = opt_reason;
	if (cd_rollback(&q, &res, &e) < 0)
		code = cmd_fail(ctx, &e);
	else
		code = cmd_print_outcome(ctx, "rollback", &res.out, 1);
	cd_result_release(&res);
done:
	return code;
}
