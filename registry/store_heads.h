/* store_heads.h - the branch heads `mlci watch` has handled (table branch_heads, schema v3), the run
 * a watched head started, and the cancelling of a deleted branch's pending promotions. Recording only;
 * deciding what to run is pipeline/watch.c's. */
#ifndef MLCI_STORE_HEADS_H
#define MLCI_STORE_HEADS_H

#include <stdint.h>

#include "registry/store.h"

/* A watched head. status: "seen" (found, its run not finished: run it again on restart), "running"
 * (a run was started for it), "done" (its run finished), "deleted" (the branch is gone). */
struct store_head {
	const char *repo, *branch, *commit_id, *run, *status; /* run may be NULL */
	int64_t updated_ms;
};

/* Insert or replace the head of ("repo", "branch"). "run" may be NULL. */
int store_head_put(struct store *st, const char *repo, const char *branch, const char *commit_id, const char *run,
		   const char *status, struct err *e);
/* Set status and run of the head of ("repo", "branch") only while it is still at "commit_id" (a newer
 * head found meanwhile is not overwritten). "run" may be NULL (keeps the recorded one). */
int store_head_finish(struct store *st, const char *repo, const char *branch, const char *commit_id, const char *run,
		      const char *status, struct err *e);
/* Call "fn" for every head of "repo", ordered by branch. */
int store_heads_each(struct store *st, const char *repo, int (*fn)(void *payload, const struct store_head *h),
		     void *payload, struct err *e);

/* The newest run of "commit_id" on "branch" from repository "run_repo" started at or after
 * "since_ms": its id (up to n-1 chars) into "id_out". 1 when found, 0 when none, -1 on error. */
int store_head_find_run(struct store *st, const char *run_repo, const char *commit_id, const char *branch,
			int64_t since_ms, char *id_out, size_t n, struct err *e);

/* Cancel (status 'cancelled') the pending promotions of "branch" whose run came from "run_repo".
 * "count_out" (may be NULL) gets how many. */
int store_promotions_cancel_branch(struct store *st, const char *run_repo, const char *branch, int *count_out,
				   struct err *e);

#endif
