/* run_record.h - what a run hands to everything after it (promotion, run.json, -o json, JUnit, the server):
 * a plain record of its identity, commit, steps, outputs, checks and registered model. Data only: the run
 * engine (ci/) fills it, cd/, pipeline/ and cmd/ read it; nothing here runs, decides or prints. */
#ifndef MLCI_RUN_RECORD_H
#define MLCI_RUN_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/strvec.h"
#include "record/verdict.h"

enum run_status { RUN_QUEUED, RUN_RUNNING, RUN_PASSED, RUN_FAILED, RUN_ERROR, RUN_CANCELLED };
enum step_phase { PHASE_BUILD, PHASE_TEST, PHASE_RUN };
enum step_status { STEP_PENDING, STEP_RUNNING, STEP_PASSED, STEP_FAILED, STEP_SKIPPED, STEP_CACHED, STEP_CANCELLED };

/* "queued", "running", "passed", ... as stored in the metadata store and printed. */
const char *run_status_name(enum run_status s);
const char *step_status_name(enum step_status s);
const char *step_phase_name(enum step_phase p);

/* One step (a component's build, test or run) as it ended, or as it stands while the run goes on. */
struct run_record_step {
	char *component; /* owned */
	enum step_phase phase;
	enum step_status status;
	int exit_code; /* valid when passed, failed or cancelled */
	int timed_out;
	int64_t started_at_ms; /* wall clock, ms since the epoch; 0 = never started */
	int64_t duration_ms;
	char *reason;      /* why it failed, was skipped or cancelled; owned; NULL when passed */
	char *cached_from; /* run whose result was reused when cached; owned; NULL otherwise */
	char key[65];      /* cache key; "" when never computed */
	char *log_path;    /* the component's log file; owned */
};

/* A declared output of a component, as stored in the content-addressed artifact store. */
struct run_record_output {
	char *component; /* owned */
	char *name;      /* path relative to the component's $MLCI_OUT; owned */
	char digest[65]; /* sha256, hex */
	int64_t size;    /* bytes; 0 when restored from the cache without a size */
};

struct run_record {
	char id[40];
	enum run_status status;
	char *reason;       /* one-line summary when not passed; owned; NULL when passed */
	char *pipeline;     /* owned; NULL when the spec could not be read */
	char *model;        /* the registered model's name (spec model:, default the pipeline); owned; may be NULL */
	char *repo;         /* the repository as given (path or URL); owned */
	char *trigger;      /* "manual", "push", ...; owned */
	char *resumed_from; /* owned; NULL = not a resume */

	/* the commit */
	char commit[41];                                      /* "" when it could not be resolved */
	char *branch;                                         /* the branch the run counts for; owned; NULL = none */
	char *subject, *message, *author_name, *author_email; /* owned; may be NULL */
	long long commit_time;                                /* committer time, s since the epoch */

	/* where it lives ($MLCI_HOME/...); owned */
	char *home, *run_dir, *workspace, *out_dir, *log_dir;

	int jobs;
	int64_t started_at_ms, finished_at_ms;
	struct strvec params_keys, params_values; /* spec params in file order (same index) */
	struct strvec spec_errors;                /* "FILE:LINE:COL: KEY: MESSAGE" when the spec was invalid */

	struct run_record_step *steps; /* CI steps, then run steps, each in DAG order; owned */
	size_t n_steps;
	struct run_record_output *outputs; /* every stored output, by component then name; owned */
	size_t n_outputs;
	struct verdicts checks; /* pipeline checks in the order they ran */

	int64_t model_version; /* registered version; 0 = none */
	int model_created;     /* 1 when this run registered that version */
	char model_digest[65]; /* its artifact; "" = none */
};

void run_record_init(struct run_record *rec);
void run_record_release(struct run_record *rec);

/* Append a step or an output; the strings are copied. Returns the new entry. */
struct run_record_step *run_record_add_step(struct run_record *rec, const char *component, enum step_phase phase);
struct run_record_output *run_record_add_output(struct run_record *rec, const char *component, const char *name,
						const char *digest, int64_t size);

/* The output "component"/"name", or NULL. */
const struct run_record_output *run_record_output(const struct run_record *rec, const char *component,
						  const char *name);
/* The output whose digest is the registered model's, or NULL. */
const struct run_record_output *run_record_model_output(const struct run_record *rec);
/* 1 when every step came from the cache (nothing executed, so nothing new was proven). */
int run_record_all_cached(const struct run_record *rec);
/* The first failing check, or NULL. */
const struct verdict *run_record_first_failure(const struct run_record *rec);

#endif
