/* lineage.c - `mlci lineage MODEL@VERSION|DIGEST`: where a model version or artifact came from, as a
 * tree of upstream artifacts. Printing only; the walk is registry/lineage.c's. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/buf.h"
#include "common/json.h"
#include "registry/query.h"
#include "common/banned.h"

static const char *opt_depth;

const struct cmd_opt cmd_lineage_opts[] = {
	{ 0, "depth", "N", "follow at most N levels upstream (default 32)", &opt_depth, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

/* One line per artifact: "[as] sha256:<12> type size  <- component/output, run R (commit C)". */
static void print_node(const cJSON *n, const struct cmd_ctx *ctx, struct buf *prefix, int last, int root)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(n, "produced_by"), *inputs, *c;
	const char *as = json_str(n, "as", NULL);
	char size[32];
	size_t keep = prefix->len;
	int i = 0, count;

	cmd_fmt_size(size, sizeof(size), n, "size");
	printf("%s%s", prefix->ptr, root ? "" : last ? "`-- " : "|-- ");
	if (as)
		printf("%s%s%s ", cmd_col(ctx->color, "bold"), as, cmd_col(ctx->color, "reset"));
	printf("sha256:%.12s %s %s", json_str(n, "digest", "?"), json_str(n, "type", "?"), size);
	if (cJSON_IsObject(p))
		printf("  %s<- %s/%s, run %s (commit %.12s%s%s)%s", cmd_col(ctx->color, "dim"),
		       json_str(p, "component", "?"), json_str(p, "name", "?"), json_str(p, "run", "?"),
		       json_str(p, "commit", "?"), json_str(p, "branch", NULL) ? ", " : "", json_str(p, "branch", ""),
		       cmd_col(ctx->color, "reset"));
	else if (!json_bool(n, "seen", 0))
		printf("  (not produced by any recorded step)");
	if (json_bool(n, "seen", 0))
		printf("  (see above)");
	if (json_bool(n, "truncated", 0))
		printf("  (deeper inputs not shown)");
	putchar('\n');
	if (!root)
		buf_addstr(prefix, last ? "    " : "|   ");
	inputs = cJSON_GetObjectItemCaseSensitive(n, "inputs");
	count = cJSON_GetArraySize(inputs);
	cJSON_ArrayForEach(c, inputs)
		print_node(c, ctx, prefix, ++i == count, 0);
	buf_setlen(prefix, keep);
}

int cmd_lineage(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	cJSON *l = NULL;
	int code, depth = 0;

	if (opt_depth && (code = cmd_parse_int(ctx, "--depth", opt_depth, 1, 1000, &depth)) != 0)
		return code;
	if (!ctx->store) {
		cmd_error(ctx, "unknown model or artifact '%s' (nothing recorded in %s yet)", args->v[0], ctx->home);
		return 2;
	}
	if (query_lineage(ctx->store, args->v[0], depth, &l, &e) < 0)
		return cmd_fail(ctx, &e);
	if (ctx->json) {
		cmd_print_json(l);
	} else {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(l, "model");
		struct buf prefix = BUF_INIT;
		if (cJSON_IsObject(m)) {
			char created[32];
			cmd_fmt_time(created, sizeof(created), m, "created_ms");
			printf("%smodel %s@%d%s  run %s  commit %.12s%s%s%s  created %s\n", cmd_col(ctx->color, "bold"),
			       json_str(m, "model", "?"), json_int(m, "version", 0), cmd_col(ctx->color, "reset"),
			       json_str(m, "run", "?"), json_str(m, "commit", "?"),
			       json_str(m, "branch", NULL) ? " (" : "", json_str(m, "branch", ""),
			       json_str(m, "branch", NULL) ? ")" : "", created);
		}
		print_node(cJSON_GetObjectItemCaseSensitive(l, "artifact"), ctx, &prefix, 1, 1);
		buf_release(&prefix);
	}
	cJSON_Delete(l);
	return 0;
}
