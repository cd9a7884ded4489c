/* load.c - `mlci load URL`: an HTTP load test like wrk/wrk2 (open loop at --rate or closed loop --max),
 * printed as text or JSON, with optional thresholds deciding the exit code. The generator is checks/load.c. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks/load.h"
#include "spec/spec.h"
#include "cmd/cmd.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/banned.h"

#define BODY_MAX (64u << 20)

static const char *opt_rate, *opt_duration, *opt_connections, *opt_threads, *opt_method, *opt_body, *opt_header,
	*opt_timeout, *opt_p99, *opt_min_qps, *opt_max_err, *opt_cacert;
static int opt_max;

const struct cmd_opt cmd_load_opts[] = {
	{ 'r', "rate", "R", "open loop: R requests/s in total, latency from the intended send time", &opt_rate, NULL },
	{ 0, "max", NULL, "closed loop: each connection sends again as soon as it has an answer", NULL, &opt_max },
	{ 'd', "duration", "D", "how long to send, e.g. 10s, 500ms, 1m (default 10s)", &opt_duration, NULL },
	{ 'c', "connections", "C", "concurrent keep-alive connections (default 8)", &opt_connections, NULL },
	{ 't', "threads", "T", "threads, each with its own share of the connections (default 1)", &opt_threads, NULL },
	{ 'X', "method", "M", "HTTP method (default GET, or POST with --body)", &opt_method, NULL },
	{ 0, "body", "B|@FILE", "request body, or @FILE to read it from FILE", &opt_body, NULL },
	{ 'H', "header", "H", "extra request header 'Name: value' (repeatable)", &opt_header, NULL },
	{ 0, "timeout", "D", "per-request timeout, connect included (default 10s)", &opt_timeout, NULL },
	{ 0, "cacert", "FILE", "https: trust the CA certificates in PEM file FILE (default: the system's)", &opt_cacert,
	  NULL },
	{ 0, "p99-ms", "MS", "fail (exit 1) when p99 latency is above MS milliseconds", &opt_p99, NULL },
	{ 0, "min-qps", "Q", "fail (exit 1) when fewer than Q requests/s were achieved", &opt_min_qps, NULL },
	{ 0, "max-error-rate", "F", "fail (exit 1) when more than fraction F of the requests failed", &opt_max_err,
	  NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

/* Does option "a" (without an inline value) consume the next argument? Looks at this command's table
 * and the common options, the same tables cmd_parse uses. */
static int takes_value(const char *a)
{
	if (a[1] == '-') {
		for (const struct cmd_opt *o = cmd_load_opts; o->long_name; o++)
			if (!strcmp(a + 2, o->long_name))
				return o->arg_name != NULL;
		return !strcmp(a + 2, "output") || !strcmp(a + 2, "home");
	}
	if (a[2])
		return 0;
	for (const struct cmd_opt *o = cmd_load_opts; o->long_name; o++)
		if (o->short_name == a[1])
			return o->arg_name != NULL;
	return a[1] == 'o';
}

/* --header is repeatable, which cmd_parse's single-valued options are not (it keeps the last value):
 * collect every -H/--header value, in order, from the command's arguments as given (ctx->argv).
 * cmd_parse has accepted them already, so every option seen here is known and has its value. */
static void collect_headers(int argc, char **argv, struct strvec *headers)
{
	int only_args = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (only_args || a[0] != '-' || !a[1])
			continue;
		if (!strcmp(a, "--"))
			only_args = 1;
		else if ((!strcmp(a, "-H") || !strcmp(a, "--header")) && i + 1 < argc)
			strvec_push(headers, argv[++i]);
		else if (!strncmp(a, "--header=", 9))
			strvec_push(headers, a + 9);
		else if (a[1] == 'H' && a[2])
			strvec_push(headers, a + 2);
		else if (!strchr(a, '=') && takes_value(a) && i + 1 < argc)
			i++; /* another option's value */
	}
}

static int parse_number(const struct cmd_ctx *ctx, const char *what, const char *s, double min, double *out)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min) {
		cmd_error(ctx, "invalid %s '%s' (expected a number >= %g)", what, s, min);
		return 2;
	}
	*out = v;
	return 0;
}

static int parse_ms(const struct cmd_ctx *ctx, const char *what, const char *s, int64_t *out)
{
	if (spec_parse_duration(s, out) < 0 || *out <= 0) {
		cmd_error(ctx, "invalid %s '%s' (expected a duration such as 10s, 500ms or 1m)", what, s);
		return 2;
	}
	return 0;
}

static void progress(const struct check_load_progress *p, void *payload)
{
	(void)payload;
	fprintf(stderr, "\r\033[K%6.1fs  %llu requests  %llu errors", p->elapsed_s, (unsigned long long)p->requests,
		(unsigned long long)p->errors);
	fflush(stderr);
}

static double pct_ms(const struct check_load_result *r, double q)
{
	return (double)check_hist_percentile(&r->latency, q) / 1e6;
}

static void fmt_bytes(char *out, size_t n, uint64_t b)
{
	if (b < 1024)
		snprintf(out, n, "%llu B", (unsigned long long)b);
	else if (b < 1024 * 1024)
		snprintf(out, n, "%.1f KiB", (double)b / 1024.0);
	else if (b < 1024ULL * 1024 * 1024)
		snprintf(out, n, "%.1f MiB", (double)b / 1048576.0);
	else
		snprintf(out, n, "%.2f GiB", (double)b / 1073741824.0);
}

static void print_text(const struct check_load_opts *o, const struct check_load_result *r, const struct cmd_ctx *ctx,
		       int have_thresholds, int failed, const char *msg)
{
	const char *b = cmd_col(ctx->color, "bold"), *z = cmd_col(ctx->color, "reset");
	uint64_t nerr = check_load_errors(r);
	char sent[32], recv[32];

	printf("%sload%s %s: %d connection%s, %d thread%s, %s\n", b, z, o->url, o->connections,
	       o->connections == 1 ? "" : "s", o->threads, o->threads == 1 ? "" : "s",
	       o->rate > 0 ? "open loop" : "closed loop (max)");
	printf("  %-10s %llu in %.2f s: %.1f req/s", "requests", (unsigned long long)r->requests, r->duration_s,
	       r->qps);
	if (o->rate > 0)
		printf(" (target %g req/s, %llu not sent)", o->rate, (unsigned long long)r->unsent);
	printf("%s\n", r->capped ? " (stopped at the request cap)" : "");
	if (r->latency.total)
		printf("  %-10s p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  p99.9 %.3f ms  max %.3f ms  mean %.3f ms\n",
		       "latency", pct_ms(r, 50), pct_ms(r, 90), pct_ms(r, 99), pct_ms(r, 99.9), pct_ms(r, 100),
		       check_hist_mean(&r->latency) / 1e6);
	else
		printf("  %-10s -\n", "latency");
	printf("  %-10s %s%llu%s", "errors", cmd_col(ctx->color && nerr, "red"), (unsigned long long)nerr,
	       cmd_col(ctx->color && nerr, "reset"));
	if (r->requests)
		printf(" (%.3g%%)", 100.0 * check_load_error_rate(r));
	for (int k = 0; k < CHECK_LOAD_NERR; k++)
		printf("%s%s %llu", k ? ", " : "  ", check_load_error_name(k), (unsigned long long)r->errors[k]);
	printf("\n");
	fmt_bytes(sent, sizeof(sent), r->bytes_sent);
	fmt_bytes(recv, sizeof(recv), r->bytes_received);
	printf("  %-10s sent %s, received %s\n", "bytes", sent, recv);
	if (have_thresholds)
		printf("  %-10s %s%s%s: %s\n", "thresholds", cmd_col(ctx->color, failed ? "red" : "green"),
		       failed ? "failed" : "passed", cmd_col(ctx->color, "reset"), msg);
}

static void print_json(const struct check_load_opts *o, const struct check_load_result *r, int have_thresholds,
		       int failed, const char *msg)
{
	cJSON *j = cJSON_CreateObject(), *lat, *errs, *bytes;
	cJSON_AddStringToObject(j, "url", o->url);
	cJSON_AddStringToObject(j, "mode", o->rate > 0 ? "open" : "closed");
	cJSON_AddNumberToObject(j, "connections", o->connections);
	cJSON_AddNumberToObject(j, "threads", o->threads);
	cJSON_AddNumberToObject(j, "duration_s", r->duration_s);
	cJSON_AddNumberToObject(j, "requests", (double)r->requests);
	cJSON_AddNumberToObject(j, "ok", (double)r->ok);
	if (o->rate > 0)
		cJSON_AddNumberToObject(j, "target_qps", o->rate);
	else
		cJSON_AddNullToObject(j, "target_qps");
	cJSON_AddNumberToObject(j, "qps", r->qps);
	cJSON_AddNumberToObject(j, "unsent", (double)r->unsent);
	cJSON_AddBoolToObject(j, "capped", r->capped);
	lat = cJSON_AddObjectToObject(j, "latency_ms");
	if (r->latency.total) {
		cJSON_AddNumberToObject(lat, "min", pct_ms(r, 0));
		cJSON_AddNumberToObject(lat, "p50", pct_ms(r, 50));
		cJSON_AddNumberToObject(lat, "p90", pct_ms(r, 90));
		cJSON_AddNumberToObject(lat, "p99", pct_ms(r, 99));
		cJSON_AddNumberToObject(lat, "p99_9", pct_ms(r, 99.9));
		cJSON_AddNumberToObject(lat, "max", pct_ms(r, 100));
		cJSON_AddNumberToObject(lat, "mean", check_hist_mean(&r->latency) / 1e6);
	}
	errs = cJSON_AddObjectToObject(j, "errors");
	for (int k = 0; k < CHECK_LOAD_NERR; k++)
		cJSON_AddNumberToObject(errs, check_load_error_name(k), (double)r->errors[k]);
	cJSON_AddNumberToObject(errs, "total", (double)check_load_errors(r));
	cJSON_AddNumberToObject(j, "error_rate", check_load_error_rate(r));
	bytes = cJSON_AddObjectToObject(j, "bytes");
	cJSON_AddNumberToObject(bytes, "sent", (double)r->bytes_sent);
	cJSON_AddNumberToObject(bytes, "received", (double)r->bytes_received);
	if (have_thresholds) {
		cJSON *t = cJSON_AddObjectToObject(j, "thresholds");
		cJSON_AddBoolToObject(t, "passed", !failed);
		cJSON_AddStringToObject(t, "message", msg);
	}
	cmd_print_json(j);
	cJSON_Delete(j);
}

int cmd_load(struct strvec *args, struct cmd_ctx *ctx)
{
	struct strvec headers = STRVEC_INIT;
	struct check_load_opts o;
	struct check_load_result r;
	struct check_load_thresholds th = { 0, 0, -1 };
	struct buf body = BUF_INIT, msg = BUF_INIT;
	struct err e = ERR_INIT;
	int code, failed = 0, have_th = 0, n;
	double v;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	collect_headers(ctx->argc, ctx->argv, &headers);
	code = 2;
	o.url = args->v[0];
	o.duration_ms = 10000;
	o.connections = 8;
	o.threads = 1;
	o.timeout_ms = 10000;
	if (!!opt_rate == !!opt_max) {
		cmd_error(ctx, "give exactly one of --rate R and --max");
		goto done;
	}
	if (opt_rate && (parse_number(ctx, "--rate", opt_rate, 0, &o.rate) || !(o.rate > 0))) {
		if (o.rate <= 0 && !errno)
			cmd_error(ctx, "invalid --rate '%s' (expected requests per second > 0)", opt_rate);
		goto done;
	}
	if (opt_duration && parse_ms(ctx, "--duration", opt_duration, &o.duration_ms))
		goto done;
	if (opt_timeout && parse_ms(ctx, "--timeout", opt_timeout, &o.timeout_ms))
		goto done;
	if (opt_connections &&
	    cmd_parse_int(ctx, "--connections", opt_connections, 1, CHECK_LOAD_MAX_CONNECTIONS, &o.connections))
		goto done;
	if (opt_threads && cmd_parse_int(ctx, "--threads", opt_threads, 1, CHECK_LOAD_MAX_THREADS, &o.threads))
		goto done;
	if (o.threads > o.connections) {
		cmd_error(ctx, "--threads %d is more than --connections %d", o.threads, o.connections);
		goto done;
	}
	for (size_t i = 0; i < headers.n; i++)
		if (!strchr(headers.v[i], ':')) {
			cmd_error(ctx, "invalid --header '%s' (expected 'Name: value')", headers.v[i]);
			goto done;
		}
	if (opt_body) {
		buf_init(&body, BODY_MAX);
		if (opt_body[0] == '@') {
			if (buf_read_file(&body, opt_body + 1) < 0) {
				cmd_error(ctx, "could not read '%s': %s", opt_body + 1,
					  errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
				goto done;
			}
		} else if (buf_addstr(&body, opt_body) < 0) {
			cmd_error(ctx, "--body is larger than 64 MiB");
			goto done;
		}
		o.body = body.ptr;
		o.body_len = body.len;
	}
	o.method = opt_method;
	o.ca_file = opt_cacert;
	o.headers = headers.n ? (const char *const *)headers.v : NULL;
	if (opt_p99 && parse_number(ctx, "--p99-ms", opt_p99, 0, &th.p99_ms))
		goto done;
	if (opt_min_qps && parse_number(ctx, "--min-qps", opt_min_qps, 0, &th.min_qps))
		goto done;
	if (opt_max_err && (parse_number(ctx, "--max-error-rate", opt_max_err, 0, &v) || v > 1)) {
		if (v > 1)
			cmd_error(ctx, "invalid --max-error-rate '%s' (expected a fraction from 0 to 1)", opt_max_err);
		goto done;
	}
	if (opt_max_err)
		th.max_error_rate = v;
	have_th = opt_p99 || opt_min_qps || opt_max_err;
	if (isatty(STDERR_FILENO) && !ctx->quiet)
		o.progress = progress;

	n = check_load_run(&o, &r, &e);
	if (o.progress)
		fprintf(stderr, "\r\033[K");
	if (n < 0) {
		code = cmd_fail(ctx, &e);
		goto done;
	}
	if (have_th)
		failed = check_load_evaluate(&r, &th, &msg);
	if (ctx->json)
		print_json(&o, &r, have_th, failed, msg.ptr);
	else
		print_text(&o, &r, ctx, have_th, failed, msg.ptr);
	code = failed ? 1 : 0;
done:
	check_load_result_release(&r);
	strvec_clear(&headers);
	buf_release(&body);
	buf_release(&msg);
	err_release(&e);
	return code;
}
