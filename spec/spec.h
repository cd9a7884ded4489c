/* spec.h - the parsed mlci.yaml: every section of the pipeline spec as plain structs, and its validator.
 * Parsing and validation only; nothing here runs commands or touches the repository beyond reading files. */
#ifndef MLCI_SPEC_H
#define MLCI_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/diag.h"
#include "common/error.h"

/* A list of strings from a YAML sequence (or a single scalar where the doc allows it). */
struct spec_strlist {
	char **items;         /* owned */
	struct diag_pos *pos; /* position of each item; owned */
	size_t n;
};

/* "key: scalar" pairs in file order (params, env). Values are kept as the YAML scalar text. */
struct spec_kv {
	char *key;
	char *value;
	struct diag_pos pos;
};

struct spec_kvlist {
	struct spec_kv *items; /* owned */
	size_t n;
};

struct spec_component {
	char *name; /* map key; owned */
	struct diag_pos pos;
	char *path;                  /* normalised repo-relative dir; NULL = repo root */
	struct diag_pos path_pos;    /* where "path" was written (spec_check_paths reports there) */
	char *build, *test, *run;    /* shell commands; NULL when absent (run is required) */
	struct spec_strlist needs;   /* names, validated to exist */
	size_t *need_idx;            /* needs resolved to component indices (same order); owned */
	struct spec_strlist inputs;  /* repo-relative files or dirs (normalised) */
	struct spec_strlist outputs; /* file names relative to $MLCI_OUT */
	int64_t timeout_ms;          /* 0 = not given (engine default applies) */
	double cpus;                 /* 0 = not given */
	int64_t memory_bytes;        /* 0 = not given */
};

/* Reference "component/output" to a declared output, as used by checks. */
struct spec_ref {
	char *text;   /* as written; owned; NULL when absent */
	size_t comp;  /* component index (valid when text != NULL) */
	char *output; /* the output file name part; owned */
	struct diag_pos pos;
};

enum spec_cmp { SPEC_GE, SPEC_LE, SPEC_GT, SPEC_LT, SPEC_EQ };

struct spec_threshold {
	char *metric;
	enum spec_cmp op;
	double value;
	struct diag_pos pos;
};

struct spec_tolerance {
	char *metric;
	double value; /* absolute, or a fraction when relative */
	int relative; /* written as "1%" */
	struct diag_pos pos;
};

struct spec_check_data {
	int present;
	struct spec_ref dataset;
	char *schema; /* repo-relative file; NULL = none */
	struct diag_pos schema_pos;
	int drift_present;
	char *drift_reference; /* "production", a registry version, or a repo path (contains a '/') */
	struct diag_pos drift_reference_pos;
	char *drift_method;     /* auto | psi | ks | chi2 | jensen_shannon | linf; default "auto" */
	double drift_threshold; /* default 0.2 */
	char *on_drift;         /* fail | warn | retrain; default "fail" */
};

struct spec_check_training {
	int present;
	struct spec_ref history;
	int converges;            /* -1 = not given, else 0/1 (a mapping means 1) */
	int64_t converges_window; /* rows averaged at each end; 0 = default (10, at most a third of the rows) */
	double converges_ratio;   /* last mean must be below ratio x first mean; 0 = default 0.9 */
	char *overfit_run;        /* overfit_sample.run: command (repo root); NULL = none */
	double overfit_max_loss;  /* overfit_sample.max_loss: the last number it prints must be below */
	struct spec_ref *no_nan;  /* owned array */
	size_t n_no_nan;
};

struct spec_check_model {
	int present;
	struct spec_ref metrics;
	struct spec_threshold *thresholds;
	size_t n_thresholds;
	char *baseline; /* "production" or "MODEL@VERSION"/"VERSION"; NULL = none */
	struct spec_tolerance *tolerance;
	size_t n_tolerance;
	struct spec_ref slices_metrics;
	struct spec_tolerance *max_gap; /* per metric */
	size_t n_max_gap;
	int64_t slices_min_rows;             /* 0 = not given */
	struct spec_strlist lower_is_better; /* metrics where lower is better, beyond the name rule */
};

struct spec_check_infra {
	int present;
	struct spec_strlist commands;
	int64_t memory_bytes;
	double cpus;
	int64_t disk_bytes;
	char *accelerator; /* "none" | "nvidia"; NULL = not given */
};

struct spec_check_service {
	int present;
	char *start;    /* command, run in the repo root */
	char *ready;    /* HTTP path polled for readiness */
	char *protocol; /* "kserve-v2" | "tfserving-v1" | "none"; default "kserve-v2" */
	char *contract; /* repo-relative dir or file of contract cases; NULL = none */
	struct diag_pos contract_pos;
	int64_t ready_timeout_ms; /* default 60 s */
	int load_present;
	double load_rate; /* requests/s; 0 = max (closed loop) */
	int64_t load_duration_ms;
	int64_t load_connections;
	double load_p99_ms;         /* 0 = not given */
	double load_min_qps;        /* 0 = not given */
	double load_max_error_rate; /* <0 = not given */
	int parity_present;
	struct spec_ref parity_data;        /* rows to send: "component/output" (CSV, header = features) */
	struct spec_ref parity_predictions; /* offline predictions of those rows: "component/output" */
	double parity_tolerance;            /* largest absolute difference; default 1e-6 */
};

struct spec_checks {
	struct spec_check_data data;
	struct spec_check_training training;
	struct spec_check_model model;
	struct spec_check_infra infra;
	struct spec_check_service service;
};

enum spec_promote { SPEC_PROMOTE_AUTO, SPEC_PROMOTE_SEMI, SPEC_PROMOTE_MANUAL };

/* The champion gate of an environment: before a manual promotion, the model it runs (the champion) and
 * the candidate are scored by the same command on the same evaluation set, an output of the candidate's
 * run pinned by its digest; the candidate may not be worse beyond the tolerance. */
struct spec_champion {
	int present;
	char *metric;        /* the metric compared, e.g. "accuracy"; required */
	double tolerance;    /* how much worse the candidate may be (absolute, or a fraction when relative) */
	int relative;        /* tolerance written as "1%" */
	int lower_is_better; /* 1 for loss-like metrics (a name rule or lower_is_better: true) */
	char *eval_set;      /* "component/output" of the candidate's run; required */
	char *score;         /* shell command writing $MLCI_OUT/<metrics>; required */
	char *metrics;       /* the file the score command writes in $MLCI_OUT; default "metrics.json" */
	struct diag_pos pos;
};

struct spec_environment {
	char *name;
	struct diag_pos pos;
	enum spec_promote promote;
	struct spec_strlist branches; /* fnmatch globs */
	int64_t approvals;            /* 0 = none */
	char *from;                   /* environment name; NULL = none */
	int64_t min_staging_runs;
	struct spec_strlist approvers;          /* user names or @group */
	char *deploy_command;                   /* NULL = none */
	char *deploy_webhook;                   /* http(s) URL; NULL = none */
	char *deploy_ssh;                       /* user@host[:port]; NULL = none */
	char *deploy_dir;                       /* remote directory of the ssh hook; NULL = mlci-deploy/<env> */
	char *health;                           /* post-deploy health URL or command; NULL = none */
	struct spec_strlist freeze;             /* freeze windows (spec/freeze.h syntax), validated */
	int supersede;                          /* 1/0; -1 = not given (default: on) */
	int64_t min_soak_ms;                    /* time a version must have been in "from" first; 0 = none */
	struct spec_strlist override_approvers; /* who may pass over a gate (--override); names or @group */
	struct spec_champion champion;          /* re-score against what this environment runs */
};

/* A named set of approvers ("@release" in approvers); policy.yaml only. */
struct spec_group {
	char *name;
	struct spec_strlist members;
};

struct spec_triggers {
	char *schedule; /* 5-field cron; NULL = none */
	struct diag_pos schedule_pos;
	struct spec_strlist data; /* repo-relative paths */
};

struct spec {
	char *pipeline;                 /* required; [A-Za-z0-9._-]+ */
	char *model;                    /* defaults to pipeline */
	struct spec_ref model_artifact; /* output registered as the model version; text NULL = not given */
	struct spec_kvlist params;
	struct spec_kvlist env;
	struct spec_component *components; /* in file order; owned */
	size_t n_components;
	struct spec_checks checks;
	struct spec_environment *environments; /* in file order; owned */
	size_t n_environments;
	struct spec_triggers triggers;
	struct spec_group *groups; /* policy.yaml only (spec_parse_policy_buffer); owned */
	size_t n_groups;
	struct spec_strlist freeze; /* policy.yaml only: windows applying to every environment */
	char *state_url;            /* policy.yaml only: "state:", the remote state repo (NULL = local) */
};

/* Parse and validate "len" bytes of YAML. "file" is the display name used in diagnostics.
 * Returns 0 when valid. Otherwise -1: every problem found is appended to "diags" (file:line:col,
 * key path, message), and "out" holds whatever parsed (always safe to spec_release).
 * "out" must be zeroed (or fresh from spec_init) by the caller. */
int spec_parse_buffer(struct spec *out, const char *data, size_t len, const char *file, struct diags *diags);
/* Parse a promotion policy ($MLCI_HOME/policy.yaml, docs/promotion.md): top-level "environments"
 * (the keys of mlci.yaml's environments), "groups" (name: [users]) and "freeze" (windows for every
 * environment); only those fields of "out" are set. Same diagnostics contract as spec_parse_buffer. */
int spec_parse_policy_buffer(struct spec *out, const char *data, size_t len, const char *file, struct diags *diags);
/* Read the file at "path" then spec_parse_buffer; I/O failure is a single diag at 0:0. */
int spec_parse_file(struct spec *out, const char *path, const char *display, struct diags *diags);
/* Check that every repo-relative path of the spec (component paths, inputs, schema, contract,
 * trigger data) exists under "repo_root" and does not leave it through a symlink. Appends diags. */
int spec_check_paths(const struct spec *s, const char *repo_root, struct diags *diags);

void spec_init(struct spec *s);
void spec_release(struct spec *s);

/* Index of component "name", or (size_t)-1. */
size_t spec_component_index(const struct spec *s, const char *name);
/* Environment variable name for a component/param: "MLCI_IN_" + upper-cased name with every
 * character outside [A-Z0-9] turned into '_'. Appends to "out". */
void spec_env_name(const char *prefix, const char *name, struct buf *out);
/* Parse "5m", "90s", "1h30m", "250ms", "2d" to milliseconds; -1 on error. */
int spec_parse_duration(const char *s, int64_t *ms);
/* Parse "512Mi", "1G", "1024", "2Gi", "100k" to bytes; -1 on error. */
int spec_parse_size(const char *s, int64_t *bytes);
/* Find the environment whose branch globs match "branch"; NULL if none. */
const struct spec_environment *spec_environment_for_branch(const struct spec *s, const char *branch);

#endif
