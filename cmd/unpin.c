/* unpin.c - `mlci unpin ENV`: lift the pin a rollback set, releasing the newest held candidate.
 * Printing only; cd/gates.c does the work. */
#include <stdio.h>
#include <string.h>

#include "cd/gates.h"
#include "cmd/cmd.h"
#include "common/banned.h"

static const char *opt_pipeline;

const struct cmd_opt cmd_unpin_opts[] = {
	{ 0, "pipeline", "P", "pipeline (default: the one ENV runs)", &opt_pipeline, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

int cmd_unpin(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	struct cd_result res;
	struct cd_request q;
	int code;

	memset(&q, 0, sizeof(q));
	cd_result_init(&res);
	q.home = ctx->home;
	q.pipeline = opt_pipeline;
	q.env = args->v[0];
	q.actor = cmd_actor();
	if (cd_unpin(&q, &res, &e) < 0)
		code = cmd_fail(ctx, &e);
	else
		code = cmd_print_outcome(ctx, "unpin", &res.out, 0);
	cd_result_release(&res);
	return code;
}
