/* logs.c - `mlci logs RUN [COMPONENT]`: print the captured log file(s) of a run's steps.
 * The log paths come from the store (registry/query.c); this file only reads and prints them. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/json.h"
#include "registry/query.h"
#include "common/banned.h"

const struct cmd_opt cmd_logs_opts[] = {
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

/* The logs to print: one entry per distinct log path, run-phase steps first (they started in DAG
 * order) and then the CI steps of components that never reached the run phase. A cached step ran in
 * another run and has no log here: it gets an entry naming that run instead ("path" NULL). */
struct log_item {
	const char *component, *path;
	const char *cached_from; /* path == NULL: the run whose log has this step's output */
	int ran;                 /* some step writing this log started, so the file must exist */
};

static int step_ran(const cJSON *s)
{
	const char *status = json_str(s, "status", "");
	return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(s, "started_ms")) ||
	       (strcmp(status, "skipped") && strcmp(status, "pending") && strcmp(status, "cancelled"));
}

static size_t collect(const cJSON *steps, const char *component, struct log_item *items, size_t max)
{
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++) {
		const cJSON *s;
		cJSON_ArrayForEach(s, steps) {
			const char *c = json_str(s, "component", NULL), *p = json_str(s, "log_path", NULL);
			const char *from = p ? NULL : json_str(s, "cached_from", NULL);
			int is_run = !strcmp(json_str(s, "phase", ""), "run");
			size_t i;
			if (!c || (!p && !from) || (component && strcmp(c, component)) || (pass == 0) != is_run)
				continue;
			for (i = 0; i < n; i++)
				if (p ? items[i].path && !strcmp(items[i].path, p)
				      : !items[i].path && !strcmp(items[i].component, c) &&
						    !strcmp(items[i].cached_from, from))
					break;
			if (i == n) {
				if (n == max)
					continue;
				items[n].component = c;
				items[n].path = p;
				items[n].cached_from = from;
				items[n].ran = 0;
				n++;
			}
			items[i].ran |= step_ran(s);
		}
	}
	return n;
}

int cmd_logs(struct strvec *args, struct cmd_ctx *ctx)
{
	struct err e = ERR_INIT;
	struct log_item *items = NULL;
	const char *component;
	cJSON *r = NULL, *steps, *out = NULL;
	size_t n, max;
	int code;

	component = args->n > 1 ? args->v[1] : NULL;
	if (!ctx->store) {
		cmd_error(ctx, "unknown run '%s' (no runs recorded in %s yet)", args->v[0], ctx->home);
		code = 2;
		goto done;
	}
	code = query_run_show(ctx->store, args->v[0], &r, &e);
	if (code < 0) {
		code = cmd_fail(ctx, &e);
		goto done;
	}
	steps = cJSON_GetObjectItemCaseSensitive(r, "steps");
	max = (size_t)cJSON_GetArraySize(steps) + 1;
	items = xcalloc(max, sizeof(*items));
	n = collect(steps, component, items, max);
	if (!n) {
		const cJSON *s;
		int known = 0;
		cJSON_ArrayForEach(s, steps)
			known |= component && !strcmp(json_str(s, "component", ""), component);
		if (component && !known)
			cmd_error(ctx, "unknown component '%s' in run %s", component, json_str(r, "id", "?"));
		else if (component)
			cmd_error(ctx, "run %s has no log for component '%s'", json_str(r, "id", "?"), component);
		else
			cmd_error(ctx, "run %s has no logs", json_str(r, "id", "?"));
		code = 2;
		goto done;
	}
	if (ctx->json) {
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "run", json_str(r, "id", ""));
		cJSON_AddArrayToObject(out, "logs");
	}
	/* a missing log is an error before anything is printed, not halfway through */
	for (size_t i = 0; i < n; i++) {
		if (items[i].path && items[i].ran && !fs_is_file(items[i].path)) {
			cmd_error(ctx, "log of %s in run %s is missing: '%s'", items[i].component,
				  json_str(r, "id", "?"), items[i].path);
			code = 3;
			goto done;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct buf b = BUF_INIT;
		if (!items[i].path) {
			if (out) {
				cJSON *l = cJSON_CreateObject();
				cJSON_AddStringToObject(l, "component", items[i].component);
				cJSON_AddNullToObject(l, "path");
				cJSON_AddStringToObject(l, "cached_from", items[i].cached_from);
				cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(out, "logs"), l);
			} else {
				printf("%s==> %s: cached from run %s (mlci logs %s %s) <==%s\n",
				       cmd_col(ctx->color, "bold"), items[i].component, items[i].cached_from,
				       items[i].cached_from, items[i].component, cmd_col(ctx->color, "reset"));
			}
			continue;
		}
		if (!fs_is_file(items[i].path))
			continue; /* every step writing it was skipped: nothing was ever written */
		if (buf_read_file(&b, items[i].path) < 0) {
			cmd_error(ctx, "could not read '%s': %s", items[i].path, strerror(errno));
			buf_release(&b);
			code = 3;
			goto done;
		}
		if (out) {
			cJSON *l = cJSON_CreateObject();
			cJSON_AddStringToObject(l, "component", items[i].component);
			cJSON_AddStringToObject(l, "path", items[i].path);
			cJSON_AddStringToObject(l, "content", b.ptr);
			cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(out, "logs"), l);
		} else {
			if (n > 1 || !component)
				printf("%s==> %s (%s) <==%s\n", cmd_col(ctx->color, "bold"), items[i].component,
				       items[i].path, cmd_col(ctx->color, "reset"));
			fwrite(b.ptr, 1, b.len, stdout);
			if (b.len && b.ptr[b.len - 1] != '\n')
				putchar('\n');
			if (i + 1 < n && (n > 1 || !component))
				putchar('\n');
		}
		buf_release(&b);
	}
	if (out)
		cmd_print_json(out);
	code = 0;
done:
	cJSON_Delete(out);
	cJSON_Delete(r);
	free(items);
	return code;
}
