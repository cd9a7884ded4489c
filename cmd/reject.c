/* reject.c - `mlci reject PIPELINE --env ENV --version V --reason TEXT`: a recorded rejection of a pending
 * candidate by an approver. Printing only; cd/review.c decides. */
#include <stdio.h>
#include <string.h>

#include "cd/gates.h"
#include "cmd/cmd.h"
#include "common/banned.h"

static const char *opt_env, *opt_version, *opt_reason;

const struct cmd_opt cmd_reject_opts[] = {
	{ 0, "env", "ENV", "environment the rejection is for (required)", &opt_env, NULL },
	{ 0, "version", "V", "model version rejected (required)", &opt_version, NULL },
	{ 0, "reason", "TEXT", "why (required; recorded and shown)", &opt_reason, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

int cmd_reject(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	struct cd_result res;
	struct cd_request q;
	int code;

	cd_result_init(&res);
	memset(&q, 0, sizeof(q));
	if (!opt_env || !opt_version || !opt_reason || !*opt_reason) {
		cmd_error(ctx, "reject: --env ENV, --version V and --reason TEXT are required");
		code = 2;
		goto done;
	}
	if ((code = cmd_parse_version(ctx, opt_version, &q.version)) != 0)
		goto done;
	q.home = ctx->home;
	q.pipeline = args->v[0];
	q.env = opt_env;
	q.actor = cmd_actor();
	q.reason = opt_reason;
	if (cd_reject(&q, &res, &e) < 0)
		code = cmd_fail(ctx, &e);
	else
		code = cmd_print_outcome(ctx, "reject", &res.out, 0);
done:
	cd_result_release(&res);
	return code;
}
