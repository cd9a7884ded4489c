/* state_int.h - internals shared by the files of the state repo (state.c: open and remote; state_read.c;
 * state_write.c; state_history.c). Not an API: nothing outside cd/state*.c includes it. */
#ifndef MLCI_STATE_INT_H
#define MLCI_STATE_INT_H

#include <git2.h>

#include "cd/state.h"

#define STATE_REF     "refs/heads/main"
#define REMOTE_REF    "refs/remotes/origin/main"
#define PUSH_REF      "refs/mlci/push"
#define PUSH_ATTEMPTS 20

/* err_set(e, MLCI_EINFRA, "state repo: WHAT: <libgit2's last error>"); returns -1. */
int state_git_fail(struct err *e, const char *what);
/* The state in blob "id" into "out" (initialised here). */
int state_parse_blob(git_repository *repo, const git_oid *id, struct env_state *out, struct err *e);
/* The blob holding the state of (pipeline, env) in "root" (the new layout, else the previous one's file
 * naming that pipeline or none): 1 found ("*legacy" says which layout; may be NULL), 0 not there. */
int state_find_blob(git_repository *repo, git_tree *root, const char *pipeline, const char *env, git_oid *out,
		    int *legacy, struct err *e);
/* "x.json" -> "x" (malloc'd), else NULL. */
char *state_json_stem(const char *name);
/* Push commit "id" to the remote's main, expecting it at "expected" (NULL: absent): 0 pushed, 1 rejected
 * (someone else pushed), -1 error. */
int state_remote_push(struct state_repo *s, const git_oid *id, const git_oid *expected, struct err *e);

#endif
