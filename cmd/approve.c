/* approve.c - `mlci approve PIPELINE --env ENV --version V`: one approval of one candidate, bound to its
 * artifact digest. Printing only; cd/gates.c decides. */
#include <stdio.h>
#include <string.h>

#include "cd/gates.h"
#include "cmd/cmd.h"
#include "common/banned.h"

static const char *opt_env, *opt_version;

const struct cmd_opt cmd_approve_opts[] = {
	{ 0, "env", "ENV", "environment the approval is for (required)", &opt_env, NULL },
	{ 0, "version", "V", "model version approved (required)", &opt_version, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

int cmd_approve(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	struct cd_result res;
	struct cd_request q;
	int code;

	memset(&q, 0, sizeof(q));
	cd_result_init(&res);
	if (!opt_env || !opt_version) {
		cmd_error(ctx, "approve: --env ENV and --version V are required");
		code = 2;
		goto done;
	}
	if ((code = cmd_parse_version(ctx, opt_version, &q.version)) != 0)
		goto done;
	q.home = ctx->home;
	q.pipeline = args->v[0];
	q.env = opt_env;
	q.actor = cmd_actor();
	if (cd_approve(&q, &res, &e) < 0)
		code = cmd_fail(ctx, &e);
	else
		code = cmd_print_outcome(ctx, "approve", &res.out, 0);
	cd_result_release(&res);
done:
	return code;
}
