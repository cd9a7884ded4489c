/* pipeline.h - one commit from start to promotion, for every front end (mlci run, mlci watch's runs, the
 * server to come): the run engine (CI, DAG, checks, registration) with the baselines the trusted side
 * gives it, then the promotion rule of the run's branch, in one session that opens the policy and the
 * state repo once, and the CLI's exit-code policy. It starts and decides; it never prints. */
#ifndef MLCI_PIPELINE_H
#define MLCI_PIPELINE_H

#include <signal.h>

#include "cd/promote.h"
#include "ci/run.h"
#include "record/run_record.h"

struct pipeline_opts {
	struct run_opts run;                      /* what to run (home, repo, rev, ...); baselines are set here */
	const char *actor;                        /* who runs mlci: promotions are attributed to them */
	const volatile sig_atomic_t *stop_signal; /* the signal that stopped the run (exit 128+sig); may be NULL */
};

struct pipeline_result {
	struct run_record rec; /* the finished run (status RUN_ERROR when it could not run) */
	int run_failed;        /* run_execute returned -1: "run_err" says why */
	struct err run_err;
	int promoted;                 /* promotion was attempted (the run reached a verdict) */
	struct promote_outcome promo; /* its outcome */
	int promo_failed;             /* an infrastructure error while promoting: "promo_err" says why */
	struct err promo_err;
	int exit_code;                  /* 0 passed (and promoted or nothing to do), 1 failed, 2 usage/spec, 3 infra,
					 * 128+N cancelled by signal N */
	int policy_parses, state_opens; /* debug counters of this run (mlci -v prints them) */
};

/* Run, then promote. Always fills "res" (release it with pipeline_result_release); the return value is
 * res->exit_code. "obs" progress goes through o->run.obs. */
int pipeline_run(const struct pipeline_opts *o, struct pipeline_result *res);
void pipeline_result_release(struct pipeline_result *res);

#endif
