/* state.h - the GitOps state repo: environments/<pipeline>/<env>.json in a bare Git repository, one commit
 * per promotion or rollback (libgit2), pushed when the state repo is remote. It stores desired states
 * (struct env_state); deciding promotions is cd/'s other files' job. Layout and remote: docs/promotion.md
 * "The state repo". */
#ifndef MLCI_STATE_H
#define MLCI_STATE_H

#include "cd/env_state.h"
#include "common/error.h"
#include "common/strvec.h"

struct git_repository;

struct state_repo {
	struct git_repository *repo; /* owned */
	char *path;                  /* $home/state.git (a clone of "url" when remote); owned */
	char *url;                   /* the remote state repo, NULL when local only; owned */
};

/* 1 when "$home" has a state repo to read: state.git exists or a remote one ("url", may be NULL) is
 * configured. */
int state_exists(const char *home, const char *url);

/* Open "$home/state.git", creating the bare repository (branch main) on first use. With a remote "url"
 * (NULL = local only), state.git is its local clone: the remote "origin" is set to the URL (nothing is
 * fetched yet: state_sync does). */
int state_open(struct state_repo *s, const char *home, const char *url, struct err *e);
void state_close(struct state_repo *s);
/* How many times this process opened a state repo (a debug counter: `mlci -v` prints it). */
int state_open_count(void);

/* Remote only (no-op otherwise): fetch the remote's main and make the local main equal to it (the
 * remote wins; a local main with commits the remote lacks is pushed when it is a fast-forward, else
 * kept under refs/mlci/diverged/<time> and replaced). MLCI_EINFRA when the remote is unreachable. */
int state_sync(struct state_repo *s, struct err *e);

/* The current state of (pipeline, env) at the tip of main: 1 with "out" filled, 0 when it has none ("out"
 * empty but initialised), -1 on error; "out" is always released by the caller. "commit_out" (may be NULL)
 * gets the tip commit id ("" when the repo is empty). A state file of the previous layout
 * (environments/<env>.json naming "pipeline") is read when the new one is absent. */
int state_read(struct state_repo *s, const char *pipeline, const char *env, struct env_state *out, char commit_out[41],
	       struct err *e);

/* The same as of "commit" (an id of the state repo). */
int state_read_at(struct state_repo *s, const char *commit, const char *pipeline, const char *env,
		  struct env_state *out, struct err *e);

/* Write "state" as environments/<pipeline>/<env>.json in one new commit on main (removing the previous
 * layout's file of that pipeline and environment): author "actor", committer mlci, message "message".
 * Local: retries when another process moved main meanwhile. Remote: fetches, commits on the remote's
 * tip and pushes; a rejected push (someone else pushed) is re-applied on the new tip, a few times;
 * the local main moves only once the remote has the commit. "commit_out" gets the id. */
int state_write(struct state_repo *s, const char *pipeline, const char *env, const struct env_state *state,
		const char *actor, const char *message, char commit_out[41], struct err *e);

/* Walk main from the tip: calls "fn" for each commit that changed the state of (pipeline, env), newest
 * first, with the commit id, time (s) and the state in that commit (NULL if it was removed). A non-zero
 * return from "fn" stops the walk (-1: an error, in "e"). */
int state_log(struct state_repo *s, const char *pipeline, const char *env,
	      int (*fn)(void *payload, const char *commit, long long time, const struct env_state *state),
	      void *payload, struct err *e);

/* The tip of main into "out": 1, or 0 when the repository is empty ("out" ""). */
int state_tip(struct state_repo *s, char out[41]);

/* Every change of a state file, commit by commit, oldest first, after commit "since" (NULL or "" or not
 * in main's history: from the first commit; *full is then 1): "fn" gets the commit, its time, the pair
 * and the state before and after (either NULL when the file was added or removed). A non-zero return
 * from "fn" is an error (in "e") and stops the walk. */
struct state_change_fn {
	int (*fn)(void *payload, const char *commit, long long time, const char *pipeline, const char *env,
		  const struct env_state *before, const struct env_state *after);
	void *payload;
};
int state_changes(struct state_repo *s, const char *since, struct state_change_fn *cb, int *full, struct err *e);

/* The (pipeline, env) pairs that have a state at the tip of main, sorted by pipeline then environment:
 * pipelines->v[i] goes with envs->v[i]. A previous-layout file counts for the pipeline it names. */
int state_list(struct state_repo *s, struct strvec *pipelines, struct strvec *envs, struct err *e);

/* The pipeline that has a state for "env": *pipeline_out (caller owns) when exactly one has; NULL and 0
 * when none has; -1 with MLCI_EUSAGE naming them when several have ("name one with --pipeline P"). */
int state_pipeline_of(struct state_repo *s, const char *env, char **pipeline_out, struct err *e);

#endif
