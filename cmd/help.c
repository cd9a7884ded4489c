/* help.c - `mlci --help` (the command list) and `mlci help [COMMAND]`, both read from the command table.
 * Text for people only: no state, no setup, nothing but the table and cmd_print_help. */
#include <stdio.h>

#include "cmd/cmd.h"
#include "common/banned.h"

void cmd_print_usage(FILE *f)
{
	fprintf(f, "usage: mlci [--home DIR] [-o json] [-q] [-v] COMMAND [ARGS]\n"
		   "       mlci --help | --version\n\n"
		   "GitOps CI/CD and continuous training for ML pipelines.\n\ncommands:\n");
	for (const struct cmd *c = cmd_table; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nglobal options (also accepted after the command):\n"
		   "  --home DIR     state directory (default $MLCI_HOME, else ./.mlci)\n"
		   "  -o FORMAT      text (default) or json\n"
		   "  -q, -v         quieter, more verbose\n\n"
		   "Run 'mlci help COMMAND' for one command. Exit status: 0 success, 1 pipeline or check\n"
		   "failed, 2 usage or spec error, 3 infrastructure error.\n");
}

int cmd_help(struct strvec *args, struct cmd_ctx *ctx)
{
	const struct cmd *c;
	if (!args->n) {
		cmd_print_usage(stdout);
		return 0;
	}
	c = cmd_find(args->v[0]);
	if (!c) {
		cmd_error(ctx, "unknown command '%s' (see 'mlci --help')", args->v[0]);
		return 2;
	}
	cmd_print_help(stdout, c);
	return 0;
}
