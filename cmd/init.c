/* init.c - `mlci init DIR [--template NAME]`: write an example pipeline repo and say what to type next.
 * The writing and the first commit are git/template.c's job; this file parses and prints. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "git/template.h"
#include "cmd/cmd.h"
#include "common/banned.h"

static const char *template_name = "default";

const struct cmd_opt cmd_init_opts[] = {
	{ 't', "template", "NAME", "template to write (default: default)", &template_name, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

int cmd_init(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	char commit[41];
	int code = 0;

	if (template_init(template_name, args->v[0], commit, &e) < 0) {
		cmd_error(ctx, "init: %s", err_msg(&e));
		code = e.code ? e.code : 3;
		goto done;
	}
	if (ctx->json) {
		cJSON *o = cJSON_CreateObject();
		char *text;
		cJSON_AddStringToObject(o, "dir", args->v[0]);
		cJSON_AddStringToObject(o, "template", template_name);
		cJSON_AddStringToObject(o, "commit", commit);
		cJSON_AddStringToObject(o, "branch", "main");
		text = cJSON_Print(o);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(o);
	} else if (!ctx->quiet) {
		printf("Created pipeline repo %s from template '%s' (commit %.12s on main).\n\n"
		       "Next:\n"
		       "  cd %s\n"
		       "  mlci validate             # check mlci.yaml\n"
		       "  mlci run                  # build, unit-test and run the pipeline at HEAD\n"
		       "  git switch -c dev/try && mlci run   # a run on a dev branch\n",
		       args->v[0], template_name, commit, args->v[0]);
	}
done:
	err_release(&e);
	return code;
}
