/* dispatch.c - cmd_run_command, git's run_builtin(): parse a command's options, do the setup its table
 * flags ask for (the store), call it, release the setup, check stdout. No command's own logic here. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "common/error.h"
#include "common/log.h"
#include "registry/query.h"
#include "registry/store.h"
#include "common/banned.h"

/* CMD_NEEDS_STORE: open the store of ctx->home into "st" when its database exists (ctx->store = st),
 * else leave ctx->store NULL: each query command says itself what "nothing recorded yet" means (an
 * empty list, or an unknown run). Returns 0, or 3 after printing why the store could not be opened. */
static int store_setup(struct cmd_ctx *ctx, struct store *st)
{
	struct err e = ERR_INIT;
	int r = query_store_open(st, ctx->home, &e);
	if (r < 0) {
		cmd_error(ctx, "%s", err_msg(&e));
		err_release(&e);
		return 3;
	}
	ctx->store = r ? st : NULL;
	return 0;
}

int cmd_run_command(const struct cmd *c, int argc, char **argv, struct cmd_ctx *ctx)
{
	struct strvec args = STRVEC_INIT;
	struct store st;
	int code;

	ctx->cmd = c;
	ctx->argc = argc;
	ctx->argv = argv;
	ctx->store = NULL;
	code = cmd_parse(c, argc, argv, ctx, &args);
	if (code == CMD_HELP_SHOWN) {
		code = 0;
		goto out;
	}
	if (code)
		goto out;
	if (ctx->json && !(c->flags & CMD_JSON)) {
		cmd_error(ctx, "'mlci %s' has no JSON output (-o json)", c->name);
		code = 2;
		goto out;
	}
	if ((c->flags & CMD_NEEDS_STORE) && (code = store_setup(ctx, &st)) != 0)
		goto out;
	code = c->fn(&args, ctx);
	if (ctx->store)
		store_close(ctx->store);
	ctx->store = NULL;
out:
	strvec_clear(&args);
	/* run and watch set the level from -q/-v */
	log_set_level(LOG_NORMAL);
	return cmd_finish(code);
}
