/* run.h - the run engine's API: one commit through CI (build, unit tests), the component DAG and the
 * checks, recorded in the store; it ends with a run record (record/run_record.h). The engine schedules
 * and records; it reports progress through an observer, never prints, and knows nothing of promotion:
 * what it needs from the trusted side (baselines, the deploy target) is handed to it (struct run_baselines). */
#ifndef MLCI_RUN_H
#define MLCI_RUN_H

#include <signal.h>
#include <stdint.h>

#include "ci/executor.h"
#include "common/buf.h"
#include "common/error.h"
#include "git/workspace.h"
#include "record/run_record.h"
#include "spec/spec.h"

struct run_step {
	size_t comp;           /* index into spec.components */
	const char *component; /* borrowed from the spec */
	enum step_phase phase;
	enum step_status status;
	const char *command; /* borrowed from the spec */
	size_t *deps;        /* indices of steps that must pass first; owned */
	size_t n_deps;
	int exit_code; /* valid once finished and not skipped */
	int timed_out;
	int64_t started_at_ms; /* wall clock, ms since the epoch; 0 = never started */
	int64_t duration_ms;
	char *reason;         /* why it failed, was skipped or cancelled; owned; NULL when passed */
	struct exec_job *job; /* the executor's handle while running; NULL otherwise */
	char *stream_prefix;  /* "component | " for streamed output; owned */
	char key[65];         /* cache key ("" until computed) */
	char *cached_from;    /* run whose result was reused when status is STEP_CACHED; owned */
	int rebuild;          /* run step only: its build was cached, so execute the build first */
};

/* A declared output of a finished component, as stored in the artifact store. */
struct run_output {
	char *name; /* path relative to $MLCI_OUT; owned */
	char digest[65];
	int64_t size;
};

/* Per-component state of a run (same index as spec.components). */
struct run_comp {
	char *tree_id;              /* git tree of the component's path (root tree when none); owned */
	char **input_ids;           /* git object id of each declared input; owned */
	char source_key[65];        /* cache key of the CI phase */
	struct run_output *outputs; /* filled when its run step passed or was cached; owned */
	size_t n_outputs;
};

struct run;

#define OBSERVER_TICK_MS 200

/* Progress callbacks (cmd/ prints them). All may be NULL. */
struct run_observer {
	void (*run_start)(void *payload, const struct run *r);
	void (*step_start)(void *payload, const struct run *r, const struct run_step *s);
	void (*step_end)(void *payload, const struct run *r, const struct run_step *s);
	/* called about every OBSERVER_TICK_MS while steps run, e.g. to refresh elapsed times */
	void (*tick)(void *payload, const struct run *r);
	/* a check (ci/run_checks.c) reached its verdict */
	void (*check_end)(void *payload, const struct run *r, const struct verdict *v);
	void *payload;
};

/* A model version to compare with: the run that produced it, the model's name and version (all owned). */
struct run_baseline {
	char *run;
	char *model;
	int64_t version;
};
void run_baseline_release(struct run_baseline *b);

/* What the engine asks the trusted side (the promotion policy, the state repo), which it must not read
 * itself: whoever starts a run hands these over (pipeline/baseline.c does, with cd/). Both may be NULL:
 * then "production" has no model and infra is probed on this machine. */
struct run_baselines {
	/* The model environment "env" runs for "pipeline": 1 with "out" filled, 0 when there is none ("why"
	 * says why), -1 on error. The checks ask for "production" (model baseline, drift reference). */
	int (*env_model)(void *payload, const char *pipeline, const char *env, struct run_baseline *out,
			 struct buf *why, struct err *e);
	/* Where a run of "branch" would be deployed: the ssh target (user@host[:port]) and remote directory
	 * of the environment its branch promotes to (owned by the caller), or NULLs for this machine. */
	int (*deploy_target)(void *payload, const char *repo, const char *branch, char **ssh, char **dir,
			     struct err *e);
	void *payload;
};

struct run_opts {
	const char *home;                  /* $MLCI_HOME; required */
	const char *repo;                  /* local path or URL; required */
	const char *rev;                   /* NULL = HEAD */
	const char *branch;                /* NULL = from rev or HEAD */
	int jobs;                          /* parallel steps; <= 0 = number of CPUs */
	int stream_output;                 /* copy every step's output to stderr, prefixed with "component | " */
	const char *trigger;               /* "manual", "watch", ...; NULL = "manual" */
	const volatile sig_atomic_t *stop; /* set to non-zero (by a signal handler) to cancel; may be NULL */
	int no_cache;                      /* execute every step even when a completed one has the same key */
	const char *resume;                /* run id (or unique prefix): run its commit again, reusing what completed */
	const struct run_observer *obs;
	const struct run_baselines *baselines; /* may be NULL */
	struct executor *executor;             /* NULL = the local executor */
	struct store *store;                   /* the metadata store to use (borrowed); NULL = open $home's */
};

struct run {
	char id[40];
	enum run_status status;
	char *home, *repo, *trigger; /* owned */
	char *run_dir;               /* $home/runs/<id>; owned */
	char *workspace;             /* $home/workspaces/<id>; owned */
	char *out_dir;               /* $home/runs/<id>/out; owned */
	char *log_dir;               /* $home/logs/<id>; owned */
	struct ws_commit commit;
	struct spec spec;
	char root_tree[41];     /* git tree of the whole commit ("" until the keys are prepared) */
	struct diags diags;     /* spec problems when status is RUN_ERROR because of the spec */
	struct run_step *steps; /* CI steps first, then run steps, each in DAG order; owned */
	size_t n_steps;
	int jobs;
	int64_t started_at_ms, finished_at_ms;
	char *reason;           /* one-line summary when not passed; owned */
	struct run_comp *comps; /* one per component; owned */
	struct store *store;    /* the metadata store while the run executes; owned when own_store */
	int own_store;
	char *resumed_from;     /* owned; NULL = not a resume */
	int64_t model_version;  /* registered version, 0 = none */
	int model_created;      /* 1 when this run created that version */
	char *model_digest;     /* owned; NULL = none */
	struct verdicts checks; /* verdicts of the pipeline checks, in the order they ran (ci/run_checks.c) */
	int check_stage;        /* next check stage to consider (ci/run_checks.c); internal */
	const struct run_baselines *baselines; /* borrowed from the options; may be NULL */
	struct executor *exec;                 /* borrowed: where steps run */
};

void run_init(struct run *r);
void run_release(struct run *r);

/* Resolve, check out, parse the spec, then run the CI phase, the DAG and the checks, and register the
 * model version. Returns 0 when the run reached a verdict (r->status is RUN_PASSED, RUN_FAILED or
 * RUN_CANCELLED) and -1 otherwise (r->status RUN_ERROR; "e" says why: MLCI_EUSAGE for a bad spec or
 * revision with r->diags filled, MLCI_EINFRA for the rest). The run record is written to
 * $home/runs/<id>/run.json either way. */
int run_execute(struct run *r, const struct run_opts *o, struct err *e);

/* The record of "r" as it stands (finished, or so far): a deep copy into "out" (run_record_init'ed by
 * this function; the caller releases it). */
void run_to_record(const struct run *r, struct run_record *out);

/* Log file of a component in run "r" (malloc'd). */
char *run_log_path(const struct run *r, const char *component);
/* The output directory of component "comp" in run "r" (malloc'd). */
char *run_out_dir(const struct run *r, size_t comp);
/* Milliseconds a running step has been running (for live displays); 0 when it is not running. */
int64_t run_step_elapsed_ms(const struct run *r, const struct run_step *s);

#endif
