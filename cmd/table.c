/* table.c - what the query commands (runs, show, logs, diff, lineage, registry) share for text output:
 * aligned tables, durations, times, sizes, status colours, errors. No queries here. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/json.h"
#include "registry/query.h"
#include "common/banned.h"

void cmd_tab_init(struct cmd_tab *t, unsigned right, size_t ncols, ...)
{
	va_list ap;
	t->ncols = ncols;
	t->right = right;
	strvec_init(&t->cells);
	strvec_init(&t->colours);
	va_start(ap, ncols);
	for (size_t i = 0; i < ncols; i++) {
		strvec_push(&t->cells, va_arg(ap, const char *));
		strvec_push(&t->colours, "");
	}
	va_end(ap);
}

void cmd_tab_add(struct cmd_tab *t, const char *colour, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	strvec_push_owned(&t->cells, buf_detach(&b, NULL));
	strvec_push(&t->colours, colour ? colour : "");
}

void cmd_tab_print(const struct cmd_tab *t, const struct cmd_ctx *ctx, const char *indent)
{
	size_t *w = xcalloc(t->ncols ? t->ncols : 1, sizeof(*w));
	for (size_t i = 0; i < t->cells.n; i++) {
		size_t l = strlen(t->cells.v[i]);
		if (l > w[i % t->ncols])
			w[i % t->ncols] = l;
	}
	for (size_t row = 0; row + t->ncols <= t->cells.n; row += t->ncols) {
		size_t end = t->ncols; /* trailing empty cells are not padded: no spaces at line ends */
		while (end > 1 && !*t->cells.v[row + end - 1])
			end--;
		fputs(indent ? indent : "", stdout);
		for (size_t c = 0; c < end; c++) {
			const char *cell = t->cells.v[row + c];
			const char *col = row ? t->colours.v[row + c] : "bold";
			int on = ctx->color && *col && *cell;
			printf("%s", cmd_col(on, col));
			if ((t->right >> c) & 1)
				printf("%*s", (int)w[c], cell);
			else if (c + 1 == end)
				printf("%s", cell);
			else
				printf("%-*s", (int)w[c], cell);
			printf("%s%s", cmd_col(on, "reset"), c + 1 == end ? "\n" : "  ");
		}
	}
	free(w);
}

void cmd_tab_release(struct cmd_tab *t)
{
	strvec_clear(&t->cells);
	strvec_clear(&t->colours);
}

void cmd_print_json(const cJSON *j)
{
	char *text = cJSON_Print(j);
	printf("%s\n", text ? text : "null");
	free(text);
}

void cmd_fmt_duration(char *out, size_t n, const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	long long ms;
	if (!cJSON_IsNumber(v)) {
		snprintf(out, n, "-");
		return;
	}
	ms = (long long)v->valuedouble;
	if (ms < 60000)
		snprintf(out, n, "%.2fs", (double)ms / 1000.0);
	else
		snprintf(out, n, "%lldm%02llds", ms / 60000, (ms / 1000) % 60);
}

void cmd_fmt_time(char *out, size_t n, const cJSON *o, const char *key)
{
	query_fmt_time(out, n, json_int64(o, key, 0));
}

void cmd_fmt_size(char *out, size_t n, const cJSON *o, const char *key)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	double d;
	size_t u = 0;
	if (!cJSON_IsNumber(v)) {
		snprintf(out, n, "-");
		return;
	}
	d = v->valuedouble;
	if (d < 1024) {
		snprintf(out, n, "%.0f B", d);
		return;
	}
	d /= 1024;
	while (d >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		d /= 1024;
		u++;
	}
	snprintf(out, n, "%.1f %s", d, units[u]);
}

void cmd_fmt_value(char *out, size_t n, const cJSON *v)
{
	char *text;
	if (!v || cJSON_IsNull(v)) {
		snprintf(out, n, "-");
	} else if (cJSON_IsString(v)) {
		snprintf(out, n, "%s", v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		snprintf(out, n, "%.6g", v->valuedouble);
	} else {
		text = cJSON_PrintUnformatted(v);
		snprintf(out, n, "%s", text ? text : "?");
		free(text);
	}
}

const char *cmd_status_colour(const char *status)
{
	if (!status)
		return "";
	if (!strcmp(status, "passed") || !strcmp(status, "cached"))
		return "green";
	if (!strcmp(status, "failed") || !strcmp(status, "error") || !strcmp(status, "interrupted"))
		return "red";
	if (!strcmp(status, "skipped") || !strcmp(status, "cancelled") || !strcmp(status, "running"))
		return "yellow";
	return "";
}

int cmd_fail(const struct cmd_ctx *ctx, struct err *e)
{
	int code = e->code ? e->code : 3;
	cmd_error(ctx, "%s", err_msg(e));
	err_release(e);
	return code;
}
