/* data.c - `mlci data SUBCOMMAND`: checks of a dataset (`check` against a schema; `drift` plugs in here).
 * Printing only; reading, validation and statistics live in checks/. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "checks/schema.h"
#include "cmd/cmd.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/banned.h"

static const char *opt_schema;
/* `mlci data drift` lives in cmd/data_drift.c; its options are set through this table too. */
extern const char *cmd_drift_reference, *cmd_drift_method, *cmd_drift_threshold, *cmd_drift_columns,
	*cmd_drift_save_stats, *cmd_drift_max_share;
int cmd_data_drift(struct strvec *args, struct cmd_ctx *ctx);

/* Options of every `mlci data` subcommand (one table drives parsing and --help): a subcommand checks
 * that the ones it needs are set. The drift helper adds its options (--reference, ...) here. */
const struct cmd_opt cmd_data_opts[] = {
	{ 0, "schema", "FILE", "schema to check DATA against (data check)", &opt_schema, NULL },
	{ 0, "reference", "REF", "reference data, or statistics saved with --save-stats (data drift)",
	  &cmd_drift_reference, NULL },
	{ 0, "method", "M", "auto (default), psi, ks, chi2, js or linf (data drift)", &cmd_drift_method, NULL },
	{ 0, "threshold", "T", "threshold of the chosen --method instead of its default (data drift)",
	  &cmd_drift_threshold, NULL },
	{ 0, "columns", "A,B", "compare only these features (data drift)", &cmd_drift_columns, NULL },
	{ 0, "save-stats", "FILE", "save the statistics of DATA, to use later as --reference (data drift)",
	  &cmd_drift_save_stats, NULL },
	{ 0, "max-drift-share", "S", "fail when more than this share of features drifted (default 0) (data drift)",
	  &cmd_drift_max_share, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

static void print_report(const struct schema_report *rep, const char *schema, const struct cmd_ctx *ctx)
{
	struct cmd_tab t;
	if (!rep->n) {
		if (!ctx->quiet)
			printf("%s: ok (%llu rows, %zu columns, no anomalies against %s)\n", rep->data,
			       (unsigned long long)rep->rows, rep->columns, schema);
		return;
	}
	cmd_tab_init(&t, 1u << 3 | 1u << 4, 7, "COLUMN", "ANOMALY", "SEVERITY", "COUNT", "SHARE", "FIRST LINES",
		     "EXAMPLE");
	for (size_t i = 0; i < rep->n; i++) {
		const struct schema_anomaly *a = &rep->items[i];
		struct buf lines = BUF_INIT;
		for (size_t l = 0; l < a->n_lines; l++)
			buf_addf(&lines, "%s%llu", l ? "," : "", (unsigned long long)a->lines[l]);
		if (a->count > a->n_lines && a->n_lines)
			buf_addstr(&lines, ",...");
		cmd_tab_add(&t, NULL, "%s", *a->column ? a->column : "(dataset)");
		cmd_tab_add(&t, NULL, "%s", schema_anomaly_name(a->kind));
		cmd_tab_add(&t, a->warn ? "yellow" : "red", "%s", a->warn ? "warning" : "error");
		cmd_tab_add(&t, NULL, "%llu", (unsigned long long)a->count);
		cmd_tab_add(&t, NULL, "%.2f%%", 100.0 * schema_anomaly_share(rep, a));
		cmd_tab_add(&t, NULL, "%s", lines.len ? lines.ptr : "-");
		/* values are the data's: keep the table on one line per anomaly */
		struct buf ex = BUF_INIT;
		for (const char *p = a->example ? a->example : ""; *p; p++)
			buf_addch(&ex, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
		cmd_tab_add(&t, NULL, "%s", a->example ? ex.ptr : "");
		buf_release(&ex);
		buf_release(&lines);
	}
	cmd_tab_print(&t, ctx, NULL);
	cmd_tab_release(&t);
	printf("%s: %zu error%s, %zu warning%s (%llu rows, %zu columns, schema %s)\n", rep->data, rep->errors,
	       rep->errors == 1 ? "" : "s", rep->warnings, rep->warnings == 1 ? "" : "s", (unsigned long long)rep->rows,
	       rep->columns, schema);
}

/* `mlci data check DATA --schema S`: exit 0 when no error anomaly (warnings allowed), 1 when there is
 * one or the data is malformed, 2 for a bad schema file or usage, 3 when DATA cannot be read. */
static int data_check(struct strvec *args, struct cmd_ctx *ctx)
{
	struct schema s;
	struct strvec diags = STRVEC_INIT;
	struct schema_report rep;
	struct err e = ERR_INIT;
	int code;
	if (args->n != 2 || !opt_schema) {
		cmd_error(ctx, "usage: mlci data check DATA --schema FILE");
		return 2;
	}
	if (schema_parse_file(&s, opt_schema, &diags)) {
		for (size_t i = 0; i < diags.n; i++)
			fprintf(stderr, "%s\n", diags.v[i]);
		fprintf(stderr, "mlci: %s: %zu error%s\n", opt_schema, diags.n, diags.n == 1 ? "" : "s");
		strvec_clear(&diags);
		return 2;
	}
	if (schema_validate_file(&s, args->v[1], &rep, &e)) {
		schema_report_release(&rep);
		schema_release(&s);
		return cmd_fail(ctx, &e);
	}
	if (ctx->json) {
		cJSON *j = schema_report_json(&rep);
		cJSON_AddStringToObject(j, "schema", opt_schema);
		cmd_print_json(j);
		cJSON_Delete(j);
	} else {
		print_report(&rep, opt_schema, ctx);
	}
	code = rep.errors ? 1 : 0;
	schema_report_release(&rep);
	schema_release(&s);
	return code;
}

/* The subcommands of `mlci data`; args->v[0] is the subcommand's name. The drift helper adds
 * { "drift", data_drift } here (keep alphabetical), with its options in cmd_data_opts. */
static const struct {
	const char *name;
	int (*fn)(struct strvec *args, struct cmd_ctx *ctx);
} data_subcommands[] = {
	{ "check", data_check },
	{ "drift", cmd_data_drift },
};

int cmd_data(struct strvec *args, struct cmd_ctx *ctx)
{
	int code = -1;
	for (size_t i = 0; i < sizeof(data_subcommands) / sizeof(data_subcommands[0]); i++)
		if (!strcmp(args->v[0], data_subcommands[i].name))
			code = data_subcommands[i].fn(args, ctx);
	if (code < 0) {
		cmd_error(ctx, "unknown subcommand '%s' for 'mlci data'", args->v[0]);
		fprintf(stderr, "usage: %s\n", ctx->cmd->usage);
		code = 2;
	}
	return code;
}
