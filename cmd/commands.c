/* commands.c - the command table: name, function, setup flags, one-line summary, usage, options.
 * Alphabetical; `mlci --help`, `mlci help CMD` and cmd_run_command all read it. No logic here. */
#include <stddef.h>
#include <string.h>

#include "cmd/cmd.h"

extern const struct cmd_opt cmd_check_opts[];
extern const struct cmd_opt cmd_history_opts[], cmd_status_opts[], cmd_promote_opts[], cmd_approve_opts[],
	cmd_reject_opts[], cmd_rollback_opts[], cmd_unpin_opts[];
extern const struct cmd_opt cmd_data_opts[], cmd_diff_opts[], cmd_init_opts[], cmd_lineage_opts[], cmd_load_opts[],
	cmd_logs_opts[], cmd_registry_opts[], cmd_run_opts[], cmd_runs_opts[], cmd_schema_opts[], cmd_show_opts[],
	cmd_validate_opts[];
extern const struct cmd_opt cmd_watch_opts[];

const struct cmd cmd_table[] = {
	{ "approve", cmd_approve, CMD_JSON, "approve a candidate model version for an environment",
	  "mlci approve PIPELINE --env ENV --version V",
	  "Record that you (the OS user; $MLCI_ACTOR overrides it for tests and CI) approve model version V of\n"
	  "PIPELINE for ENV. The approval is bound to the version's artifact digest: a new candidate needs new\n"
	  "approvals. Refused (exit 1) for the author of the candidate's commit and, when ENV lists approvers,\n"
	  "for anyone else. A held semi candidate is promoted once it has enough distinct approvals.",
	  cmd_approve_opts, 1, 1 },
	{ "check", cmd_check, CMD_JSON,
	  "check a running prediction service: contract cases, protocol conformance, or all",
	  "mlci check contract URL CASES... | protocol URL --model NAME | service [--spec FILE] [options]",
	  "'contract': send every case of the CASES files (or directories of *.yaml) to the service at URL and\n"
	  "compare status, JSON values, types, ranges, lengths and latency (docs/service.md); every mismatch\n"
	  "is shown with its JSON path, expected and actual value. 'protocol': the built-in conformance\n"
	  "checks of --protocol (kserve-v2: live, ready, metadata, infer built from the model metadata, 4xx\n"
	  "with {\"error\": ...} on bad requests; tfserving-v1: model status, predict, errors). 'service':\n"
	  "the whole checks.service of --spec: start the service on a free 127.0.0.1 port, wait until ready,\n"
	  "run protocol, contract, parity (files under --outputs) and load, stop it. Exit status 0 when\n"
	  "everything passed, 1 when a check failed, 2 for bad cases, spec or usage, 3 for infrastructure.",
	  cmd_check_opts, 1, -1 },
	{ "data", cmd_data, CMD_JSON, "check a dataset against a schema, or measure its drift against a reference",
	  "mlci data check DATA --schema FILE | drift CURRENT --reference REF [options]",
	  "'check': read DATA (CSV, or JSON Lines for .jsonl/.ndjson) in one pass and report every anomaly\n"
	  "against the schema FILE: missing or unexpected column, wrong type, out of range, unknown category,\n"
	  "null where not allowed, empty dataset, rows with the wrong number of fields; each with its count,\n"
	  "share of rows and first line numbers (docs/checks.md). Exit status 0 when no anomaly is an error\n"
	  "(warnings allowed), 1 when one is or DATA is malformed, 2 for a bad schema, 3 when DATA is unreadable.\n"
	  "'drift': per-feature statistics of CURRENT against REF (a CSV/JSON Lines file or statistics saved\n"
	  "with --save-stats): PSI and Kolmogorov-Smirnov for numeric features, chi-squared, Jensen-Shannon\n"
	  "and L-infinity for categorical ones, the score always reported; exit 1 when the share of drifted\n"
	  "features exceeds --max-drift-share (default 0: any drifted feature).",
	  cmd_data_opts, 1, -1 },
	{ "diff", cmd_diff, CMD_NEEDS_STORE | CMD_JSON, "compare two runs: params, metrics and the steps that differ",
	  "mlci diff RUN_A RUN_B",
	  "Show the params and metrics of two runs side by side, differences marked with '*' and metric\n"
	  "deltas (B - A), then the steps whose status or cache key differ. Run ids may be unique prefixes.\n"
	  "Exit status 0 (also when they differ), 2 when a run is unknown or a prefix is ambiguous.",
	  cmd_diff_opts, 2, 2 },
	{ "help", cmd_help, 0, "show help for mlci or one command", "mlci help [COMMAND]",
	  "Without an argument, list the commands. With one, show that command's usage and options\n"
	  "(the same as `mlci COMMAND --help`).",
	  NULL, 0, 1 },
	{ "history", cmd_history, CMD_JSON, "list every promotion and rollback of one environment",
	  "mlci history ENV [--pipeline P]",
	  "Every commit of the state repo that changed ENV's desired state, newest first: the state commit,\n"
	  "time, model version, source commit, run, the rule that promoted it and who did; under the table,\n"
	  "the gates and evidence each manual promotion decided on, and any override. States are kept per\n"
	  "pipeline: --pipeline P is needed when several pipelines have ENV (exit 2 otherwise).",
	  cmd_history_opts, 1, 1 },
	{ "init", cmd_init, CMD_JSON, "write a working example pipeline repo (git init + first commit)",
	  "mlci init DIR [--template NAME]",
	  "Write the example ML pipeline (data, components with unit tests, serving, schema, contracts,\n"
	  "deploy script and mlci.yaml) into DIR, which must be absent or empty, create a git repository\n"
	  "there with libgit2 on branch main and commit every file.",
	  cmd_init_opts, 1, 1 },
	{ "lineage", cmd_lineage, CMD_NEEDS_STORE | CMD_JSON,
	  "show where a model version or artifact came from, as a tree",
	  "mlci lineage MODEL@VERSION|DIGEST [--depth N]",
	  "Print the run, commit, component and output that produced a registered model version (MODEL@VERSION,\n"
	  "or MODEL for its latest version) or an artifact (its sha256 digest, or a unique prefix of at least\n"
	  "8 hex digits), then its inputs and, recursively, the artifacts upstream of them: the data it was\n"
	  "trained on and how that data was made. An artifact met twice is shown once.",
	  cmd_lineage_opts, 1, 1 },
	{ "load", cmd_load, CMD_JSON, "load-test an HTTP service: requests/s, latency percentiles, errors",
	  "mlci load URL (--rate R | --max) [--duration D] [--connections C] [--threads T] [options]",
	  "Send requests to URL (http or https) over C keep-alive connections (opened by libcurl, answers\n"
	  "framed by http_parser, one event loop per thread) for D (default 10s): at a constant total rate R\n"
	  "(open loop; latency counts from each request's intended send time, so a slow server cannot hide\n"
	  "its queueing - like wrk2) or, with --max, each connection sending again as soon as it has an\n"
	  "answer (closed loop, like wrk). Requests in flight at the end are awaited. Prints requests, req/s\n"
	  "achieved vs target, latency p50/p90/p99/p99.9/max/mean, errors by kind (connect, timeout, 4xx,\n"
	  "5xx, closed, other) and bytes. At most 100 million requests per run. A body is sent as\n"
	  "application/json unless a header says otherwise.\n"
	  "Exit status 0, 1 when a --p99-ms/--min-qps/--max-error-rate threshold fails, 2 bad usage, 3 when\n"
	  "the test itself could not run.",
	  cmd_load_opts, 1, 1 },
	{ "logs", cmd_logs, CMD_NEEDS_STORE | CMD_JSON, "print the logs of a run's components",
	  "mlci logs RUN [COMPONENT]",
	  "Print the captured build, test and run output of COMPONENT in RUN, or of every component (in the\n"
	  "order they ran, each under a '==> component (path) <==' line). RUN may be a unique prefix.\n"
	  "Exit status 2 for an unknown run or component, 3 when a recorded log file is missing.",
	  cmd_logs_opts, 1, 2 },
	{ "promote", cmd_promote, CMD_JSON, "promote a model version to an environment by hand (manual rule)",
	  "mlci promote PIPELINE --to ENV [--version V] [--reason TEXT] [--dry-run] [--override GATE]",
	  "For a manual environment: promote the version now in its \"from\" environment when every gate passes:\n"
	  "you are one of its approvers (names or @groups of policy.yaml); it has min_staging_runs passed runs\n"
	  "in \"from\" since it entered there (runs served entirely from the cache do not count); it has been\n"
	  "there min_soak; it is not rejected; with a champion gate it scores no worse than what ENV runs on\n"
	  "the same pinned evaluation set; with approvals: N, N distinct approvals (mlci approve); ENV is not\n"
	  "pinned. The gates and their numbers are recorded with the state commit. One state commit, registry\n"
	  "transitions, then the deploy hooks (rolled back when they fail). Inside a freeze window, or short of\n"
	  "approvals, the candidate is queued as pending (exit 1). --dry-run evaluates and prints every gate and\n"
	  "the difference from what ENV runs, writing nothing. --override GATE --reason TEXT lets one of ENV's\n"
	  "override_approvers pass over a failing gate, recorded as an override. For an auto/semi environment:\n"
	  "release the newest held candidate when its gates pass now. Exit 0 promoted (or would pass), 1\n"
	  "refused/pending/rolled back, 2 usage, 3 infra.",
	  cmd_promote_opts, 1, 1 },
	{ "registry", cmd_registry, CMD_NEEDS_STORE | CMD_JSON, "list registered models, or show one model's versions",
	  "mlci registry list | show MODEL[@VERSION]",
	  "'list': every model with its latest version, number of versions, latest run and creation time.\n"
	  "'show MODEL': all versions, newest first, with run, commit, artifact, previous version and metrics.\n"
	  "'show MODEL@VERSION': that version in detail: the environments it is in and was in, and every\n"
	  "stage transition (promoted, replaced, rolled back) with its rule, actor and reason.",
	  cmd_registry_opts, 1, 2 },
	{ "reject", cmd_reject, CMD_JSON, "reject a candidate model version for an environment",
	  "mlci reject PIPELINE --env ENV --version V --reason TEXT",
	  "Record that you (an approver of ENV when it lists approvers; never the author of the candidate's\n"
	  "commit) reject model version V of PIPELINE for ENV, with a reason. The rejection is bound to the\n"
	  "version's artifact digest: its pending promotion is cancelled and that digest is not promoted to\n"
	  "ENV, by a run or by mlci promote, until a new candidate arrives. Exit 0 recorded, 1 refused.",
	  cmd_reject_opts, 1, 1 },
	{ "rollback", cmd_rollback, CMD_JSON, "put an environment back to an earlier state and pin it",
	  "mlci rollback ENV [--to VERSION] [--pipeline P] [--reason TEXT]",
	  "Write the previous state of ENV (the newest earlier one with another model version or commit), or\n"
	  "the newest with model VERSION, as a new state commit, run the deploy hooks, record the transition,\n"
	  "and pin ENV: automatic and semi-automatic promotions to it are held (pending) until mlci unpin ENV.",
	  cmd_rollback_opts, 1, 1 },
	{ "run", cmd_run, CMD_JSON, "run one commit through build, unit tests and the component DAG",
	  "mlci run [--repo PATH|URL] [--rev REV] [--branch B] [-j N] [--no-cache] [--resume RUN] [--junit FILE]",
	  "Check the commit out into $MLCI_HOME/workspaces/<run>, parse its mlci.yaml, run every\n"
	  "component's build then test (the CI phase; any failure stops the run before the DAG), then each\n"
	  "component's run in dependency order, independent components in parallel. Logs go to\n"
	  "$MLCI_HOME/logs/<run>/<component>.log, outputs to $MLCI_HOME/runs/<run>/out/<component>/.\n"
	  "The branch of the run is --branch, else the branch --rev names, else the repo's HEAD branch.\n"
	  "Steps whose cache key already passed are reused (cached) unless --no-cache; --resume RUN runs\n"
	  "RUN's commit again, reusing what completed. A passing run registers its model version.\n"
	  "Exit status: 0 passed, 1 failed, 2 bad usage or spec, 3 infrastructure error, 128+N cancelled\n"
	  "by signal N.",
	  cmd_run_opts, 0, 0 },
	{ "runs", cmd_runs, CMD_NEEDS_STORE | CMD_JSON, "list recent runs, newest first",
	  "mlci runs [--pipeline P] [--branch B] [--status S] [--limit N]",
	  "List the runs recorded in $MLCI_HOME/mlci.db, newest first (20 unless --limit): id, pipeline,\n"
	  "branch, commit, status, trigger, start time (UTC), duration and how many steps were cached.\n"
	  "No runs is an empty list, not an error.",
	  cmd_runs_opts, 0, 0 },
	{ "schema", cmd_schema, CMD_JSON, "infer a data schema (types, nulls, ranges, domains) from a dataset",
	  "mlci schema infer DATA",
	  "'infer': read DATA (CSV, or JSON Lines for .jsonl/.ndjson) in one pass and print a schema as YAML\n"
	  "(docs/checks.md): per column its type (int, float, string, bool), nullable, the observed min and max,\n"
	  "and a categorical domain when it has at most 20 distinct values. Redirect it to schema.yaml and\n"
	  "edit it: then `mlci data check DATA --schema schema.yaml`.",
	  cmd_schema_opts, 2, 2 },
	{ "show", cmd_show, CMD_NEEDS_STORE | CMD_JSON, "show one run: params, steps, artifacts, metrics",
	  "mlci show RUN",
	  "Show RUN (its id or a unique prefix of it): commit, branch, status, executor, params, then every\n"
	  "step with start time, duration, exit code, cache key and the run it was cached from, the artifacts\n"
	  "it read and wrote, its metrics and the model versions it registered.\n"
	  "Exit status 2 when the run is unknown or the prefix is ambiguous.",
	  cmd_show_opts, 1, 1 },
	{ "status", cmd_status, CMD_JSON, "show what each environment runs and what waits to be promoted",
	  "mlci status [--pipeline P] [--at TIME]",
	  "Per pipeline and environment, the desired state at the tip of the state repo ($MLCI_HOME/state.git,\n"
	  "fetched first when it is remote): model version, commit, branch, run, since when and by whom; then\n"
	  "the pending promotion candidates with what they wait for (e.g. approvals 0/1), the environments\n"
	  "pinned by a rollback, and the versions still soaking before a min_soak gate lets them on.",
	  cmd_status_opts, 0, 0 },
	{ "unpin", cmd_unpin, CMD_JSON, "lift the pin a rollback put on an environment",
	  "mlci unpin ENV [--pipeline P]",
	  "Remove the pin of ENV, then promote the newest candidate held while it was pinned if its other\n"
	  "gates (approvals, freeze) pass now.",
	  cmd_unpin_opts, 1, 1 },
	{ "validate", cmd_validate, CMD_JSON, "check mlci.yaml and print every error as FILE:LINE:COL",
	  "mlci validate [FILE]",
	  "Parse FILE (default ./mlci.yaml) and report every problem, not only the first, as\n"
	  "FILE:LINE:COL: KEY: MESSAGE. Paths in the spec are checked against FILE's directory.\n"
	  "Exit status 0 when valid, 2 when not.",
	  cmd_validate_opts, 0, 1 },
	{ "version", cmd_version, CMD_JSON, "print the version of mlci and its libraries", "mlci version",
	  "Print mlci's version (also `mlci --version`). With -v or -o json, also the versions of libgit2,\n"
	  "libcurl, libyaml, cJSON, SQLite, libssh2 and OpenSSL it runs with.",
	  NULL, 0, 0 },
	{ "watch", cmd_watch, CMD_JSON,
	  "watch repositories and run the pipeline for every new branch head (GitOps loop)",
	  "mlci watch REPO_URL... [--interval 30s] [--once [-o json]] [-j N] [--branches GLOB,...]\n"
	  "       [--ssh-key FILE] [--known-hosts FILE]",
	  "Keep a bare mirror of each REPO_URL (a local path, file://, ssh:// or https://) under\n"
	  "$MLCI_HOME/repos and poll it every --interval: list the remote branch heads (no transfer when\n"
	  "nothing changed), fetch when one moved, and run the pipeline (`mlci run` of that commit and\n"
	  "branch, logged to $MLCI_HOME/logs/watch.log) for every new branch, fast-forward or force-push,\n"
	  "oldest commit first, at most -j at once; its promotion rule applies. A deleted branch's pending\n"
	  "promotions are cancelled. Heads handled are kept in the store, so a restart runs only what is new\n"
	  "(and re-runs a head whose run was interrupted). ssh: key from --ssh-key, $MLCI_SSH_KEY or the\n"
	  "agent; the host key must be in --known-hosts (default ~/.ssh/known_hosts), else it is refused.\n"
	  "https: token from $MLCI_GIT_TOKEN, TLS verified (CAs: system, or $MLCI_GIT_CA_FILE).\n"
	  "A failing poll is logged and retried with backoff.\n"
	  "SIGTERM/SIGINT: stop polling, cancel the running runs (they record themselves), exit 0.\n"
	  "With --once: exit 0 when every run passed (or nothing was new), 1 when a run failed, 3 when a\n"
	  "repository could not be polled. --once -o json prints one object at the end: runs, passed,\n"
	  "failed, cancelled, fetch_failures, heads [{repo, branch, commit, event, run, status, exit_code}]\n"
	  "and deleted [{repo, branch, cancelled_promotions}] (-o json needs --once).\n"
	  "One watcher per repository and $MLCI_HOME: each repository is locked (flock on\n"
	  "$MLCI_HOME/locks/watch-HASH.lock) for the watcher's life; a second watcher of it exits 3 naming\n"
	  "the holder's pid.",
	  cmd_watch_opts, 1, -1 },
	{ NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, 0 },
};

const struct cmd *cmd_find(const char *name)
{
	for (const struct cmd *c = cmd_table; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}
