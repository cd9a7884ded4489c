/* service.h - the service check: start the prediction service on a free loopback port, wait until it is
 * ready, run protocol -> contract -> parity -> load, stop it (whatever happens), one verdict per check. */
#ifndef MLCI_SERVICE_H
#define MLCI_SERVICE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/proc.h"

struct spec_check_service;
struct verdicts;

#define SERVICE_STOP_GRACE_MS 5000 /* default time between SIGTERM and SIGKILL of the service's group */
#define SERVICE_LOG_TAIL      20   /* log lines quoted when the service fails to start */

/* ---------------------------------------------------------------- lifecycle */

/* A running service. The process runs `sh -c START` in its own process group; its output is pumped to
 * the log by a background thread (so a chatty service never blocks on a full pipe) which also notices
 * when it exits. Fields are private to service.c. */
struct service {
	struct proc proc;
	pthread_t pump;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int pumping; /* the pump thread runs */
	int stop;    /* asks the pump thread to return (under mu) */
	int exited;  /* the process group leader is gone (under mu) */
	int exit_code;
	int port;
	char base_url[64]; /* "http://127.0.0.1:PORT" */
	char *log_path;    /* owned */
	int64_t ready_ms;  /* monotonic time it answered ready; 0 before */
};

struct service_start_opts {
	const char *cmd;         /* shell command; required */
	const char *cwd;         /* working directory; NULL = inherit */
	const char *const *env;  /* NULL-terminated KEY=VALUE; MLCI_PORT is added (replaced); NULL = empty */
	const char *log_path;    /* output appended here; required */
	const char *const *mask; /* secrets masked in the log; may be NULL */
	int port;                /* 0 = pick a free 127.0.0.1 port */
};

/* Pick a free TCP port on 127.0.0.1 (bind port 0, read it, close). Returns the port or -1 with "e". */
int service_free_port(struct err *e);

/* Start the service. On success it runs and service_stop must be called. -1 with "e" (MLCI_EINFRA)
 * when it could not be started (nothing is left running then). */
int service_start(struct service *s, const struct service_start_opts *o, struct err *e);

/* Poll GET base_url + "ready_path" until it answers 2xx, with backoff (10 ms doubling to 500 ms),
 * for at most "timeout_ms". Returns 0 when ready, 1 when not: "why" says whether it exited (with its
 * status; the caller adds the log tail) or never answered 2xx (with the last answer seen). */
int service_wait_ready(struct service *s, const char *ready_path, int64_t timeout_ms, struct buf *why);

/* 1 while the process group leader has not exited. */
int service_running(struct service *s);

/* SIGTERM to the group, up to "grace_ms" (0 = SERVICE_STOP_GRACE_MS) for it to exit, then SIGKILL to
 * the group; waits until it is reaped. Safe to call twice and after a failed start. Returns the exit
 * code (128+signal when killed), or -1 when it never started. */
int service_stop(struct service *s, int64_t grace_ms);

/* The last "lines" lines of the file at "path" (at most 64 KiB read) into "out", one per line. */
void service_log_tail(const char *path, size_t lines, struct buf *out);

/* ---------------------------------------------------------------- the pipeline entry point */

/* Everything the service check needs, resolved by the caller (the run engine, or `mlci check service`). */
struct service_ctx {
	const struct spec_check_service *svc; /* the parsed checks.service; required */
	const char *cwd;                      /* where `start` runs: the repository root (the workspace) */
	const char *const *env;               /* the step environment, NULL-terminated KEY=VALUE (MLCI_IN_*
						 included); MLCI_PORT is added here */
	const char *const *mask;              /* secrets masked in the log; may be NULL */
	const char *log_path;                 /* the service's output is appended here; required */
	const char *model_name;               /* name in the protocol URLs (the spec's `model`) */
	const char *contract_path;            /* the contract file or directory, resolved; NULL = none */
	const char *parity_data_path;         /* resolved parity files; NULL = no parity */
	const char *parity_predictions_path;
	int64_t request_timeout_ms; /* protocol/contract/load requests; 0 = 10 s */
	int64_t stop_grace_ms;      /* 0 = SERVICE_STOP_GRACE_MS */
	/* called before each check starts ("service.start", "service.protocol", ...); may be NULL */
	void (*progress)(const char *check, void *payload);
	void *payload;
};

/* Start the service, then run protocol -> contract -> parity -> load, appending one verdict each to
 * "out": "service.start", "service.protocol", "service.contract", "service.parity", "service.load"
 * (kind "service"; "skipped" when not configured or when the service did not start), and stop the
 * service whatever happened: no process of its group survives this call. Returns 0 (the verdicts
 * carry pass/fail), or -1 with "e" for infrastructure errors (could not fork, bad contract files are
 * a failed verdict, not an error). */
int service_checks_run(const struct service_ctx *ctx, struct verdicts *out, struct err *e);

#endif
