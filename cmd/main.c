/* main.c - mlci's entry point: global options before the command, the absolute home, the command's
 * table entry; cmd_run_command (cmd/dispatch.c) does the rest. No business logic, no per-command setup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/path.h"
#include "common/banned.h"

int main(int argc, char **argv)
{
	struct cmd_ctx ctx;
	const struct cmd *c;
	int i = 1, code;
	char *home_abs = NULL;

	memset(&ctx, 0, sizeof(ctx));
	ctx.home = getenv("MLCI_HOME");
	if (!ctx.home || !*ctx.home)
		ctx.home = ".mlci";
	ctx.color = isatty(1) && !getenv("NO_COLOR");
	ctx.err_color = isatty(2) && !getenv("NO_COLOR");

	/* global options before the command */
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			cmd_print_usage(stdout);
			return cmd_finish(0);
		} else if (!strcmp(a, "--version")) {
			return cmd_run_command(cmd_find("version"), 1, argv + i, &ctx);
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			ctx.quiet = 1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			ctx.verbose++;
		} else if ((!strcmp(a, "--home") || !strcmp(a, "-o") || !strcmp(a, "--output")) && i + 1 < argc) {
			if (!strcmp(a, "--home")) {
				ctx.home = argv[++i];
			} else {
				const char *v = argv[++i];
				if (strcmp(v, "json") && strcmp(v, "text")) {
					cmd_error(&ctx, "invalid output format '%s' (expected text or json)", v);
					return 2;
				}
				ctx.json = !strcmp(v, "json");
			}
		} else if (!strncmp(a, "--home=", 7)) {
			ctx.home = a + 7;
		} else if (!strcmp(a, "-ojson") || !strcmp(a, "--output=json")) {
			ctx.json = 1;
		} else {
			cmd_error(&ctx, "unknown option '%s' (see 'mlci --help')", a);
			return 2;
		}
	}
	if (i >= argc) {
		cmd_print_usage(stderr);
		return 2;
	}
	/* steps run in other directories and get paths under the home: it must be absolute */
	if (ctx.home[0] != '/' || strstr(ctx.home, "/..") || strstr(ctx.home, "/./")) {
		home_abs = path_absolute(ctx.home);
		if (!home_abs) {
			cmd_error(&ctx, "could not determine the current directory");
			return 3;
		}
		ctx.home = home_abs;
	}
	c = cmd_find(argv[i]);
	if (!c) {
		cmd_error(&ctx, "unknown command '%s' (see 'mlci --help')", argv[i]);
		return 2;
	}
	code = cmd_run_command(c, argc - i, argv + i, &ctx);
	free(home_abs);
	return code;
}
