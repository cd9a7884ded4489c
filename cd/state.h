/* state.h - the GitOps state repo: environments/<env>.json in a bare Git repository, one commit per
 * promotion or rollback (libgit2). It stores desired state; deciding promotions is cd/promote.c's job. */
#ifndef MLCI_STATE_H
#define MLCI_STATE_H

#include <cjson/cJSON.h>

#include "common/error.h"
#include "common/strvec.h"

struct git_repository;

struct state_repo {
	struct git_repository *repo; /* owned */
	char *path;                  /* $home/state.git; owned */
};

/* Open "$home/state.git", creating the bare repository (branch main) on first use. */
int state_open(struct state_repo *s, const char *home, struct err *e);
void state_close(struct state_repo *s);

/* The current state of "env" at the tip of main (caller owns *out, NULL when the environment has none)
 * and, when "commit_out" is not NULL, the tip commit id ("" when the repo is empty). */
int state_read(struct state_repo *s, const char *env, cJSON **out, char commit_out[41], struct err *e);

/* The state of "env" as of "commit" (an id of the state repo); *out NULL when absent there. */
int state_read_at(struct state_repo *s, const char *commit, const char *env, cJSON **out, struct err *e);

/* Write "state" as environments/<env>.json in one new commit on main: author "actor", committer mlci,
 * message "message". Retries when another process moved main meanwhile. "commit_out" gets the id. */
int state_write(struct state_repo *s, const char *env, const cJSON *state, const char *actor,
		const char *message, char commit_out[41], struct err *e);

/* Walk main from the tip: calls "fn" for each commit that changed environments/<env>.json, newest
 * first, with the commit id, time (s) and the state in that commit (NULL if it was removed). */
int state_log(struct state_repo *s, const char *env,
	      int (*fn)(void *payload, const char *commit, long long time, const cJSON *state), void *payload,
	      struct err *e);

/* Names of the environments that have a state at the tip of main, sorted. */
int state_list(struct state_repo *s, struct strvec *envs, struct err *e);

#endif
