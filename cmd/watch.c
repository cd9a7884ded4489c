/* watch.c - `mlci watch`: options, signal handling and one line per event on stdout.
 * The loop itself is pipeline/watch.c's; this file only decides what the user sees and the exit code. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "spec/spec.h"
#include "pipeline/watch.h"
#include "cmd/cmd.h"
#include "common/alloc.h"
#include "common/json.h"
#include "common/log.h"
#include "common/banned.h"

static const char *opt_interval, *opt_jobs, *opt_branches, *opt_ssh_key, *opt_known_hosts;
static int opt_once;

const struct cmd_opt cmd_watch_opts[] = {
	{ 0, "interval", "DURATION", "time between two polls of a repository (default: 30s)", &opt_interval, NULL },
	{ 0, "once", NULL, "poll each repository once, wait for the runs it started, exit (-o json: what it did)", NULL,
	  &opt_once },
	{ 'j', "jobs", "N", "pipeline runs at once (default: 1)", &opt_jobs, NULL },
	{ 0, "branches", "GLOB[,GLOB...]", "watch only the branches matching one of these patterns (default: all)",
	  &opt_branches, NULL },
	{ 0, "ssh-key", "FILE", "private key for ssh:// repositories (default: $MLCI_SSH_KEY, else the ssh-agent)",
	  &opt_ssh_key, NULL },
	{ 0, "known-hosts", "FILE", "known_hosts file the ssh host key must be in (default: ~/.ssh/known_hosts)",
	  &opt_known_hosts, NULL },
	{ 0, NULL, NULL, NULL, NULL, NULL },
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* What `--once -o json` prints: the heads handled, their runs, the deleted branches. */
struct watch_out {
	const struct cmd_ctx *ctx;
	cJSON *heads, *deleted; /* arrays; owned */
};

static const char *end_status(int code)
{
	return code == 0 ? "passed" : code == 1 ? "failed" : code > 128 ? "cancelled" : "error";
}

/* The entry of "r"'s head in out->heads (the last one of its repository, branch and commit). */
static cJSON *json_head(struct watch_out *out, const struct watch_report *r)
{
	cJSON *found = NULL, *h;
	cJSON_ArrayForEach(h, out->heads) {
		if (!strcmp(json_str(h, "repo", ""), r->repo ? r->repo : "") &&
		    !strcmp(json_str(h, "branch", ""), r->branch ? r->branch : "") &&
		    !strcmp(json_str(h, "commit", ""), r->commit ? r->commit : ""))
			found = h;
	}
	return found;
}

static void json_report(struct watch_out *out, const struct watch_report *r)
{
	cJSON *h;
	switch (r->what) {
	case WATCH_HEAD:
		h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "repo", r->repo ? r->repo : "");
		cJSON_AddStringToObject(h, "branch", r->branch ? r->branch : "");
		cJSON_AddStringToObject(h, "commit", r->commit ? r->commit : "");
		cJSON_AddStringToObject(h, "event", r->detail ? r->detail : "");
		cJSON_AddNullToObject(h, "run");
		cJSON_AddStringToObject(h, "status", "queued");
		cJSON_AddNullToObject(h, "exit_code");
		cJSON_AddItemToArray(out->heads, h);
		break;
	case WATCH_RUN_START:
		if ((h = json_head(out, r)))
			cJSON_ReplaceItemInObject(h, "status", cJSON_CreateString("running"));
		break;
	case WATCH_RUN_END:
		if (!(h = json_head(out, r)))
			break;
		if (r->run)
			cJSON_ReplaceItemInObject(h, "run", cJSON_CreateString(r->run));
		cJSON_ReplaceItemInObject(h, "status",
					  cJSON_CreateString(r->detail ? "not started" : end_status(r->exit_code)));
		cJSON_ReplaceItemInObject(h, "exit_code", cJSON_CreateNumber(r->exit_code));
		if (r->detail)
			cJSON_AddStringToObject(h, "error", r->detail);
		break;
	case WATCH_DELETED:
		h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "repo", r->repo ? r->repo : "");
		cJSON_AddStringToObject(h, "branch", r->branch ? r->branch : "");
		cJSON_AddNumberToObject(h, "cancelled_promotions", r->count);
		cJSON_AddItemToArray(out->deleted, h);
		break;
	default:
		break;
	}
}

static void on_report(void *payload, const struct watch_report *r)
{
	struct watch_out *out = payload;
	const struct cmd_ctx *ctx = out->ctx;
	const char *b = r->branch ? r->branch : "";
	if (out->heads && r->what != WATCH_FETCH_FAILED && r->what != WATCH_FETCH_OK) {
		json_report(out, r);
		return;
	}
	switch (r->what) {
	case WATCH_HEAD:
		if (!ctx->quiet)
			printf("%s %.12s: %s\n", b, r->commit, r->detail);
		break;
	case WATCH_RUN_START:
		if (!ctx->quiet)
			printf("%s %.12s: run started\n", b, r->commit);
		break;
	case WATCH_RUN_END:
		if (r->detail)
			printf("%s %.12s: run could not start: %s\n", b, r->commit, r->detail);
		else
			printf("%s %.12s: run %s %s (exit %d)\n", b, r->commit, r->run ? r->run : "?",
			       end_status(r->exit_code), r->exit_code);
		break;
	case WATCH_DELETED:
		printf("%s: branch deleted, %d pending promotion%s cancelled\n", b, r->count, r->count == 1 ? "" : "s");
		break;
	case WATCH_FETCH_FAILED:
		if (r->retry_ms)
			log_warn("watch %s: %s (attempt %d, retry in %.1fs)", r->repo, r->detail ? r->detail : "?",
				 r->count, (double)r->retry_ms / 1000.0);
		else
			log_warn("watch %s: %s", r->repo, r->detail ? r->detail : "?");
		break;
	case WATCH_FETCH_OK:
		log_info("watch %s: reachable again after %d failed attempt%s", r->repo, r->count,
			 r->count == 1 ? "" : "s");
		break;
	}
	fflush(stdout);
}

int cmd_watch(struct strvec *args, struct cmd_ctx *ctx)
{
	struct strvec globs = STRVEC_INIT;
	struct watch_opts o;
	struct watch_result res;
	struct err e = ERR_INIT;
	struct sigaction sa, old_int, old_term;
	int64_t interval = 30000;
	int jobs = 1, code;
	char *exe = NULL;
	struct watch_out out;

	memset(&out, 0, sizeof(out));
	out.ctx = ctx;

	if (ctx->json && !opt_once) {
		cmd_error(ctx, "watch: -o json needs --once (a long-running watch prints one line per event)");
		code = 2;
		goto out;
	}
	if (ctx->json) {
		out.heads = cJSON_CreateArray();
		out.deleted = cJSON_CreateArray();
	}
	if (opt_jobs && (code = cmd_parse_int(ctx, "--jobs", opt_jobs, 1, 256, &jobs)))
		goto out;
	if (opt_interval && (spec_parse_duration(opt_interval, &interval) < 0 || interval < 100)) {
		cmd_error(ctx, "--interval: invalid duration '%s' (e.g. 30s, 1m, 500ms; at least 100ms)", opt_interval);
		code = 2;
		goto out;
	}
	if (opt_branches) {
		const char *p = opt_branches;
		while (*p) {
			size_t n = strcspn(p, ",");
			if (n)
				strvec_push_owned(&globs, xstrndup(p, n));
			p += n;
			if (*p == ',')
				p++;
		}
	}
	log_set_level(ctx->quiet ? LOG_QUIET : ctx->verbose ? LOG_VERBOSE : LOG_NORMAL);
	/* the runs are this very binary, so that they match the watcher's version */
	exe = realpath("/proc/self/exe", NULL);
	if (!exe) {
		cmd_error(ctx, "watch: could not find the mlci binary (/proc/self/exe)");
		code = 3;
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.home = ctx->home;
	o.repos = (const char *const *)args->v;
	o.n_repos = args->n;
	o.interval_ms = interval;
	o.once = opt_once;
	o.jobs = jobs;
	o.branches = &globs;
	o.transport.ssh_key = opt_ssh_key;
	o.transport.known_hosts = opt_known_hosts;
	o.exe = exe;
	o.stop = &stop_requested;
	o.report = on_report;
	o.payload = &out;

	/* no SA_RESTART: waits must wake up to notice the request */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (watch_run(&o, &res, &e) < 0) {
		cmd_error(ctx, "watch: %s", err_msg(&e));
		code = e.code ? e.code : 3;
	} else if (opt_once && ctx->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "runs", res.runs);
		cJSON_AddNumberToObject(j, "passed", res.passed);
		cJSON_AddNumberToObject(j, "failed", res.failed);
		cJSON_AddNumberToObject(j, "cancelled", res.cancelled);
		cJSON_AddNumberToObject(j, "fetch_failures", res.fetch_failures);
		cJSON_AddItemToObject(j, "heads", out.heads);
		cJSON_AddItemToObject(j, "deleted", out.deleted);
		out.heads = out.deleted = NULL;
		cmd_print_json(j);
		cJSON_Delete(j);
		code = res.fetch_failures ? 3 : res.failed ? 1 : 0;
	} else if (opt_once) {
		if (!ctx->quiet)
			printf("%d run%s: %d passed, %d failed\n", res.runs, res.runs == 1 ? "" : "s", res.passed,
			       res.failed);
		code = res.fetch_failures ? 3 : res.failed ? 1 : 0;
	} else {
		code = 0;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
out:
	cJSON_Delete(out.heads);
	cJSON_Delete(out.deleted);
	free(exe);
	strvec_clear(&globs);
	err_release(&e);
	return code;
}
