/* schema.c - `mlci schema infer DATA`: print the schema inferred from a CSV or JSON Lines file as YAML.
 * Printing only; inference and the file format live in checks/schema*.c. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "checks/schema.h"
#include "cmd/cmd.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/banned.h"

const struct cmd_opt cmd_schema_opts[] = {
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

static int schema_infer(const char *data, struct cmd_ctx *ctx)
{
	struct schema s;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	uint64_t rows = 0;
	if (schema_infer_file(&s, data, &rows, &e))
		return cmd_fail(ctx, &e);
	if (ctx->json) {
		cJSON *j = schema_json(&s);
		cJSON_AddStringToObject(j, "data", data);
		cJSON_AddNumberToObject(j, "rows", (double)rows);
		cmd_print_json(j);
		cJSON_Delete(j);
	} else {
		buf_addf(&b, "schema inferred by mlci schema infer from %s (%llu rows)", data,
			 (unsigned long long)rows);
		/* the comment is one line whatever the file name holds */
		for (size_t i = 0; i < b.len; i++)
			if (b.ptr[i] == '\n' || b.ptr[i] == '\r')
				b.ptr[i] = ' ';
		struct buf out = BUF_INIT;
		schema_write_yaml(&s, b.ptr, &out);
		fputs(out.ptr, stdout);
		buf_release(&out);
	}
	buf_release(&b);
	schema_release(&s);
	return 0;
}

int cmd_schema(struct strvec *args, struct cmd_ctx *ctx)
{
	int code;
	if (!strcmp(args->v[0], "infer") && args->n == 2) {
		code = schema_infer(args->v[1], ctx);
	} else {
		cmd_error(ctx, "unknown or incomplete subcommand for 'mlci schema' (expected: infer DATA)");
		fprintf(stderr, "usage: %s\n", ctx->cmd->usage);
		code = 2;
	}
	return code;
}
