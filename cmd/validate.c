/* validate.c - `mlci validate [FILE]`: parse a spec and print every diagnostic as FILE:LINE:COL.
 * Printing only; parsing and checking live in spec/spec.c. */
#include <cjson/cJSON.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "cmd/cmd.h"
#include "common/alloc.h"
#include "common/fs.h"
#include "common/banned.h"

const struct cmd_opt cmd_validate_opts[] = {
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

int cmd_validate(struct strvec *args, struct cmd_ctx *ctx)
{
	struct spec spec;
	struct diags diags;
	const char *file;
	char *dircopy;
	int code;

	file = args->n ? args->v[0] : "mlci.yaml";
	spec_init(&spec);
	diags_init(&diags);
	if (spec_parse_file(&spec, file, file, &diags) == 0) {
		dircopy = xstrdup(file);
		spec_check_paths(&spec, dirname(dircopy), &diags);
		free(dircopy);
	}
	if (ctx->json) {
		cJSON *o = cJSON_CreateObject(), *errs;
		char *text;
		cJSON_AddStringToObject(o, "file", file);
		cJSON_AddBoolToObject(o, "valid", diags.n == 0);
		errs = cJSON_AddArrayToObject(o, "errors");
		for (size_t i = 0; i < diags.n; i++) {
			cJSON *d = cJSON_CreateObject();
			cJSON_AddNumberToObject(d, "line", diags.items[i].pos.line);
			cJSON_AddNumberToObject(d, "column", diags.items[i].pos.col);
			cJSON_AddStringToObject(d, "key", diags.items[i].key ? diags.items[i].key : "");
			cJSON_AddStringToObject(d, "message", diags.items[i].msg ? diags.items[i].msg : "");
			cJSON_AddItemToArray(errs, d);
		}
		if (!diags.n) {
			cJSON_AddStringToObject(o, "pipeline", spec.pipeline);
			cJSON_AddNumberToObject(o, "components", (double)spec.n_components);
			cJSON_AddNumberToObject(o, "environments", (double)spec.n_environments);
		}
		text = cJSON_Print(o);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(o);
	} else if (diags.n) {
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < diags.n; i++) {
			buf_reset(&b);
			diag_format(&diags, i, &b);
			fprintf(stderr, "%s\n", b.ptr);
		}
		fprintf(stderr, "mlci: %s: %zu error%s\n", file, diags.n, diags.n == 1 ? "" : "s");
		buf_release(&b);
	} else if (!ctx->quiet) {
		printf("%s: ok (pipeline %s, %zu component%s, %zu environment%s)\n", file, spec.pipeline,
		       spec.n_components, spec.n_components == 1 ? "" : "s", spec.n_environments,
		       spec.n_environments == 1 ? "" : "s");
	}
	code = diags.n ? 2 : 0;
	spec_release(&spec);
	diags_release(&diags);
	return code;
}
