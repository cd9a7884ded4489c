/* check.c - `mlci check contract|protocol|service`: API contract cases and protocol conformance against a
 * running service, or the whole service check from mlci.yaml. Printing only; the checks live in checks/. */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks/contract.h"
#include "checks/protocol.h"
#include "checks/service.h"
#include "record/verdict.h"
#include "spec/spec.h"
#include "ci/step_env.h"
#include "cmd/cmd.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/json.h"
#include "common/path.h"
#include "common/banned.h"

static const char *opt_timeout, *opt_model, *opt_protocol, *opt_spec, *opt_outputs, *opt_log;

const struct cmd_opt cmd_check_opts[] = {
	{ 0, "timeout", "D", "per-request timeout, e.g. 5s (default 10s)", &opt_timeout, NULL },
	{ 'm', "model", "NAME", "model name in the URLs (protocol; service: default the spec's model)", &opt_model,
	  NULL },
	{ 0, "protocol", "P", "kserve-v2 (default) or tfserving-v1 (protocol)", &opt_protocol, NULL },
	{ 0, "spec", "FILE", "the pipeline spec (service; default mlci.yaml)", &opt_spec, NULL },
	{ 0, "outputs", "DIR", "DIR/COMPONENT holds each component's outputs: MLCI_IN_<COMPONENT> (service)",
	  &opt_outputs, NULL },
	{ 0, "log", "FILE", "append the service's output to FILE (service; default a new file in $TMPDIR)", &opt_log,
	  NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

static int parse_timeout(const struct cmd_ctx *ctx, int64_t *ms)
{
	*ms = 10000;
	if (opt_timeout && (spec_parse_duration(opt_timeout, ms) < 0 || *ms <= 0)) {
		cmd_error(ctx, "invalid --timeout '%s' (expected a duration such as 10s or 500ms)", opt_timeout);
		return 2;
	}
	return 0;
}

static int url_ok(const char *u)
{
	return !strncmp(u, "http://", 7) || !strncmp(u, "https://", 8);
}

/* ---------------------------------------------------------------- contract */

static int check_contract(struct strvec *args, struct cmd_ctx *ctx)
{
	struct contract_cases cases = CONTRACT_CASES_INIT;
	struct strvec diags = STRVEC_INIT;
	const char *url;
	int64_t timeout;
	size_t failed = 0;
	cJSON *j = NULL, *arr = NULL;
	int bad = 0;

	if (args->n < 3) {
		cmd_error(ctx, "usage: mlci check contract URL CASES...");
		return 2;
	}
	url = args->v[1];
	if (!url_ok(url)) {
		cmd_error(ctx, "invalid URL '%s' (expected http://HOST:PORT)", url);
		return 2;
	}
	if (parse_timeout(ctx, &timeout))
		return 2;
	for (size_t i = 2; i < args->n; i++)
		if (contract_load(&cases, args->v[i], NULL, &diags) < 0)
			bad = 1;
	if (bad) {
		for (size_t i = 0; i < diags.n; i++)
			fprintf(stderr, "%s\n", diags.v[i]);
		fprintf(stderr, "mlci: %zu error%s in the contract cases\n", diags.n, diags.n == 1 ? "" : "s");
		strvec_clear(&diags);
		contract_cases_release(&cases);
		return 2;
	}
	if (ctx->json) {
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "url", url);
		arr = cJSON_AddArrayToObject(j, "cases");
	}
	for (size_t i = 0; i < cases.n; i++) {
		const struct contract_case *c = &cases.items[i];
		struct contract_result r;
		contract_result_init(&r);
		contract_run_case(url, c, timeout, &r);
		if (!r.passed)
			failed++;
		if (j) {
			cJSON *o = cJSON_CreateObject(), *p;
			cJSON_AddStringToObject(o, "name", c->name);
			cJSON_AddStringToObject(o, "file", c->file);
			cJSON_AddNumberToObject(o, "line", c->line);
			cJSON_AddStringToObject(o, "method", c->method);
			cJSON_AddStringToObject(o, "path", c->path);
			cJSON_AddBoolToObject(o, "passed", r.passed);
			if (r.status)
				cJSON_AddNumberToObject(o, "status", (double)r.status);
			else
				cJSON_AddNullToObject(o, "status");
			cJSON_AddNumberToObject(o, "latency_ms", r.latency_ms);
			p = cJSON_AddArrayToObject(o, "problems");
			for (size_t k = 0; k < r.problems.n; k++)
				cJSON_AddItemToArray(p, cJSON_CreateString(r.problems.v[k]));
			cJSON_AddItemToArray(arr, o);
		} else if (!ctx->quiet || !r.passed) {
			const char *col = r.passed ? "green" : "red";
			char st[16];
			snprintf(st, sizeof(st), r.status ? "%ld" : "-", r.status);
			printf("%s%-4s%s %s  (%s:%u; %s %s -> %s, %.1f ms)\n", cmd_col(ctx->color, col),
			       r.passed ? "ok" : "FAIL", cmd_col(ctx->color, "reset"), c->name, c->file, c->line,
			       c->method, c->path, st, r.latency_ms);
			for (size_t k = 0; k < r.problems.n; k++)
				printf("     %s\n", r.problems.v[k]);
		}
		contract_result_release(&r);
	}
	if (j) {
		cJSON_AddNumberToObject(j, "passed", (double)(cases.n - failed));
		cJSON_AddNumberToObject(j, "failed", (double)failed);
		cmd_print_json(j);
		cJSON_Delete(j);
	} else if (!ctx->quiet) {
		printf("%zu case%s: %zu passed, %zu failed\n", cases.n, cases.n == 1 ? "" : "s", cases.n - failed,
		       failed);
	}
	contract_cases_release(&cases);
	strvec_clear(&diags);
	return failed ? 1 : 0;
}

/* ---------------------------------------------------------------- protocol */

static const char *item_status(int st)
{
	return st == 0 ? "pass" : st == 1 ? "fail" : "skipped";
}

static const char *item_colour(int st)
{
	return st == 0 ? "green" : st == 1 ? "red" : "yellow";
}

static int check_protocol(struct strvec *args, struct cmd_ctx *ctx)
{
	struct protocol_opts po;
	struct protocol_report rep;
	const char *proto = opt_protocol ? opt_protocol : "kserve-v2";
	int64_t timeout;
	if (args->n != 2 || !opt_model) {
		cmd_error(ctx, "usage: mlci check protocol URL --model NAME [--protocol kserve-v2|tfserving-v1]");
		return 2;
	}
	if (!url_ok(args->v[1])) {
		cmd_error(ctx, "invalid URL '%s' (expected http://HOST:PORT)", args->v[1]);
		return 2;
	}
	if (strcmp(proto, "kserve-v2") && strcmp(proto, "tfserving-v1")) {
		cmd_error(ctx, "invalid --protocol '%s' (expected kserve-v2 or tfserving-v1)", proto);
		return 2;
	}
	if (parse_timeout(ctx, &timeout))
		return 2;
	memset(&po, 0, sizeof(po));
	memset(&rep, 0, sizeof(rep));
	{
		size_t l = strlen(args->v[1]);
		while (l && args->v[1][l - 1] == '/')
			args->v[1][--l] = '\0';
	}
	po.base_url = args->v[1];
	po.protocol = proto;
	po.model = opt_model;
	po.timeout_ms = timeout;
	protocol_check(&po, &rep);
	if (ctx->json) {
		cJSON *j = cJSON_CreateObject(), *a;
		cJSON_AddStringToObject(j, "url", po.base_url);
		cJSON_AddStringToObject(j, "protocol", proto);
		cJSON_AddStringToObject(j, "model", opt_model);
		a = cJSON_AddArrayToObject(j, "items");
		for (size_t i = 0; i < rep.n; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", rep.items[i].name);
			cJSON_AddStringToObject(o, "status", item_status(rep.items[i].status));
			cJSON_AddStringToObject(o, "detail", rep.items[i].detail);
			cJSON_AddItemToArray(a, o);
		}
		cJSON_AddNumberToObject(j, "failed", (double)rep.failed);
		cmd_print_json(j);
		cJSON_Delete(j);
	} else {
		for (size_t i = 0; i < rep.n; i++)
			if (!ctx->quiet || rep.items[i].status == 1)
				printf("%s%-7s%s %-44s %s\n", cmd_col(ctx->color, item_colour(rep.items[i].status)),
				       item_status(rep.items[i].status), cmd_col(ctx->color, "reset"),
				       rep.items[i].name, rep.items[i].detail);
		if (!ctx->quiet)
			printf("%s: %zu item%s, %zu failed\n", proto, rep.n, rep.n == 1 ? "" : "s", rep.failed);
	}
	{
		int code = rep.failed ? 1 : 0;
		protocol_report_release(&rep);
		return code;
	}
}

/* ---------------------------------------------------------------- service */

static void progress(const char *check, void *payload)
{
	const struct cmd_ctx *ctx = payload;
	if (!ctx->quiet && !ctx->json && isatty(2))
		fprintf(stderr, "\r\033[K%s ...", check);
}

/* The resolved file of check reference "r" under --outputs, or NULL. */
static char *ref_path(const struct spec *s, const struct spec_ref *r, const char *outputs)
{
	char *dir, *p;
	if (!r->text || r->comp >= s->n_components || !outputs)
		return NULL;
	dir = path_join(outputs, s->components[r->comp].name);
	p = path_join(dir, r->output);
	free(dir);
	return p;
}

static void print_details(const struct verdict *v)
{
	const cJSON *d = v->details, *a;
	if (v->status != VERDICT_FAIL || !d)
		return;
	if ((a = cJSON_GetObjectItemCaseSensitive(d, "items")) != NULL)
		for (const cJSON *it = a->child; it; it = it->next) {
			if (strcmp(json_str(it, "status", ""), "fail"))
				continue;
			printf("    %s: %s\n", json_str(it, "name", "?"), json_str(it, "detail", ""));
		}
	if ((a = cJSON_GetObjectItemCaseSensitive(d, "cases")) != NULL)
		for (const cJSON *c = a->child; c; c = c->next) {
			const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "problems");
			if (json_bool(c, "passed", 0))
				continue;
			printf("    %s:\n", json_str(c, "name", "?"));
			for (const cJSON *x = p ? p->child : NULL; x; x = x->next)
				printf("      %s\n", cJSON_IsString(x) ? x->valuestring : "?");
		}
	if ((a = cJSON_GetObjectItemCaseSensitive(d, "errors")) != NULL && cJSON_IsArray(a))
		for (const cJSON *x = a->child; x; x = x->next)
			printf("    %s\n", cJSON_IsString(x) ? x->valuestring : "?");
	if ((a = cJSON_GetObjectItemCaseSensitive(d, "differences")) != NULL)
		for (const cJSON *x = a->child; x; x = x->next)
			printf("    %s\n", cJSON_IsString(x) ? x->valuestring : "?");
	if ((a = cJSON_GetObjectItemCaseSensitive(d, "log_tail")) != NULL && a->child) {
		printf("    last lines of the service's log:\n");
		for (const cJSON *x = a->child; x; x = x->next)
			printf("    | %s\n", cJSON_IsString(x) ? x->valuestring : "?");
	}
}

static int check_service(struct strvec *args, struct cmd_ctx *ctx)
{
	struct spec s;
	struct diags diags;
	struct strvec env = STRVEC_INIT;
	struct verdicts vs = VERDICTS_INIT;
	struct service_ctx sc;
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	const char *file = opt_spec ? opt_spec : "mlci.yaml";
	char root[PATH_MAX], logbuf[PATH_MAX];
	char *contract = NULL, *pdata = NULL, *ppred = NULL, *outputs = NULL;
	int64_t timeout;
	int code = 0;

	if (args->n != 1) {
		cmd_error(ctx, "usage: mlci check service [--spec mlci.yaml] [--outputs DIR] [--log FILE]");
		return 2;
	}
	if (parse_timeout(ctx, &timeout))
		return 2;
	spec_init(&s);
	diags_init(&diags);
	if (spec_parse_file(&s, file, file, &diags) < 0) {
		for (size_t i = 0; i < diags.n; i++) {
			buf_reset(&b);
			diag_format(&diags, i, &b);
			fprintf(stderr, "%s\n", b.ptr);
		}
		code = 2;
		goto out;
	}
	if (!s.checks.service.present) {
		cmd_error(ctx, "%s has no checks.service", file);
		code = 2;
		goto out;
	}
	{
		char *dir = xstrdup(file), *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		if (!realpath(slash ? (*dir ? dir : "/") : ".", root)) {
			free(dir);
			cmd_error(ctx, "could not resolve the directory of '%s'", file);
			code = 3;
			goto out;
		}
		free(dir);
	}
	if (opt_outputs) {
		char real[PATH_MAX];
		if (!realpath(opt_outputs, real)) {
			cmd_error(ctx, "could not resolve --outputs '%s'", opt_outputs);
			code = 2;
			goto out;
		}
		outputs = xstrdup(real);
	}
	{
		/* what a run's service check sees, without the run: the spec's env and params, and every
		 * component's outputs under --outputs as $MLCI_IN_<NAME> */
		struct step_env f;
		memset(&f, 0, sizeof(f));
		f.spec = &s;
		f.outputs_root = outputs;
		f.all_inputs = 1;
		step_env_build(&f, &env);
	}
	if (s.checks.service.contract)
		contract = path_join(root, s.checks.service.contract);
	if (s.checks.service.parity_present) {
		if (!outputs) {
			cmd_error(ctx, "checks.service.parity needs --outputs DIR (where %s and %s are)",
				  s.checks.service.parity_data.text, s.checks.service.parity_predictions.text);
			code = 2;
			goto out;
		}
		pdata = ref_path(&s, &s.checks.service.parity_data, outputs);
		ppred = ref_path(&s, &s.checks.service.parity_predictions, outputs);
	}
	if (opt_log) {
		snprintf(logbuf, sizeof(logbuf), "%s", opt_log);
	} else {
		const char *t = getenv("TMPDIR");
		int fd;
		snprintf(logbuf, sizeof(logbuf), "%s/mlci-service-XXXXXX", t && *t ? t : "/tmp");
		fd = mkstemp(logbuf);
		if (fd < 0) {
			cmd_error(ctx, "could not create a log file in %s", t && *t ? t : "/tmp");
			code = 3;
			goto out;
		}
		close(fd);
	}
	memset(&sc, 0, sizeof(sc));
	sc.svc = &s.checks.service;
	sc.cwd = root;
	sc.env = (const char *const *)env.v;
	sc.log_path = logbuf;
	sc.model_name = opt_model ? opt_model : s.model ? s.model : s.pipeline;
	sc.contract_path = contract;
	sc.parity_data_path = pdata;
	sc.parity_predictions_path = ppred;
	sc.request_timeout_ms = timeout;
	sc.progress = progress;
	sc.payload = ctx;
	if (service_checks_run(&sc, &vs, &e) < 0) {
		code = cmd_fail(ctx, &e);
		goto out;
	}
	if (!ctx->json && !ctx->quiet && isatty(2))
		fprintf(stderr, "\r\033[K");
	if (ctx->json) {
		cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "checks");
		cJSON_AddStringToObject(j, "log", logbuf);
		for (size_t i = 0; i < vs.n; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", vs.items[i].name);
			cJSON_AddStringToObject(o, "status", verdict_status_name(vs.items[i].status));
			cJSON_AddStringToObject(o, "summary", vs.items[i].summary);
			cJSON_AddNumberToObject(o, "duration_ms", (double)vs.items[i].duration_ms);
			cJSON_AddItemToObject(o, "details", cJSON_Duplicate(vs.items[i].details, 1));
			cJSON_AddItemToArray(a, o);
		}
		cJSON_AddStringToObject(j, "status", verdict_status_name(verdicts_worst(&vs)));
		cmd_print_json(j);
		cJSON_Delete(j);
	} else {
		for (size_t i = 0; i < vs.n; i++) {
			const struct verdict *v = &vs.items[i];
			const char *col = v->status == VERDICT_PASS   ? "green"
					  : v->status == VERDICT_FAIL ? "red"
								      : "yellow";
			if (ctx->quiet && v->status != VERDICT_FAIL)
				continue;
			printf("%-17s %s%-7s%s %s\n", v->name, cmd_col(ctx->color, col), verdict_status_name(v->status),
			       cmd_col(ctx->color, "reset"), v->summary);
			print_details(v);
		}
		if (!ctx->quiet)
			printf("service log: %s\n", logbuf);
	}
	code = verdicts_worst(&vs) == VERDICT_FAIL ? 1 : 0;
out:
	verdicts_release(&vs);
	strvec_clear(&env);
	spec_release(&s);
	diags_release(&diags);
	err_release(&e);
	buf_release(&b);
	free(contract);
	free(pdata);
	free(ppred);
	free(outputs);
	return code;
}

static const struct {
	const char *name;
	int (*fn)(struct strvec *args, struct cmd_ctx *ctx);
} check_subcommands[] = {
	{ "contract", check_contract },
	{ "protocol", check_protocol },
	{ "service", check_service },
};

int cmd_check(struct strvec *args, struct cmd_ctx *ctx)
{
	int code = -1;
	for (size_t i = 0; i < sizeof(check_subcommands) / sizeof(check_subcommands[0]); i++)
		if (!strcmp(args->v[0], check_subcommands[i].name))
			code = check_subcommands[i].fn(args, ctx);
	if (code < 0) {
		cmd_error(ctx, "unknown subcommand '%s' for 'mlci check'", args->v[0]);
		fprintf(stderr, "usage: %s\n", ctx->cmd->usage);
		code = 2;
	}
	return code;
}
