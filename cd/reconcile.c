/* reconcile.c - adds the registry rows missing for state commits (cd/reconcile.h), reading only the
 * state commits made since the mark the store keeps per state repo (table state_marks). It must not
 * write to the state repo, deploy or print. */
#include "cd/reconcile.h"

#include <string.h>

#include "cd/apply.h"
#include "registry/store_gates.h"
#include "registry/store_review.h"
#include "common/banned.h"

static int commits_read;

int cd_reconcile_commits_read(void)
{
	return commits_read;
}

struct rec {
	struct store *st;
	char last[41];
	int added;
};

static int on_change(void *payload, const char *commit, long long time, const char *pipeline, const char *env,
		     const struct env_state *before, const struct env_state *after, struct err *e)
{
	struct rec *r = payload;
	int have;
	(void)pipeline;
	if (strcmp(r->last, commit)) {
		memcpy(r->last, commit, 41);
		commits_read++;
	}
	if (!after || !after->model_version || !after->model_name)
		return 0; /* an emptied state: nothing entered */
	have = store_transition_exists(r->st, commit, e);
	if (have)
		return have < 0 ? -1 : 0;
	if (cd_transitions(r->st, env, before, after, NULL, after->rule && !strcmp(after->rule, "rollback"),
			   after->promoted_by ? after->promoted_by : "mlci", "reconciled from the state repo", commit,
			   (int64_t)time * 1000, e) < 0)
		return -1;
	r->added++;
	return 0;
}

struct rec_cb {
	struct rec *r;
	struct err *e;
};

static int change_cb(void *payload, const char *commit, long long time, const char *pipeline, const char *env,
		     const struct env_state *before, const struct env_state *after)
{
	struct rec_cb *cb = payload;
	return on_change(cb->r, commit, time, pipeline, env, before, after, cb->e);
}

int cd_reconcile(struct cd_session *s, int *added, struct err *e)
{
	struct store *st;
	struct state_repo *sr;
	struct rec r;
	struct rec_cb cb;
	struct state_change_fn fn;
	char mark[41], tip[41];
	const char *key;
	int has, full = 0;

	if (added)
		*added = 0;
	commits_read = 0;
	if (s->reconciled)
		return 0;
	has = cd_session_has_state(s, e);
	if (has <= 0)
		return has;
	if (cd_session_store(s, &st, e) < 0 || cd_session_state(s, 0, &sr, e) < 0)
		return -1;
	key = sr->url ? sr->url : sr->path;
	if (store_state_mark_get(st, key, mark, e) < 0)
		return -1;
	if (!state_tip(sr, tip) || !strcmp(mark, tip)) {
		s->reconciled = 1;
		return 0; /* nothing new since the last time */
	}
	memset(&r, 0, sizeof(r));
	r.st = st;
	cb.r = &r;
	cb.e = e;
	fn.fn = change_cb;
	fn.payload = &cb;
	if (state_changes(sr, mark, &fn, &full, e) < 0)
		return -1;
	if (store_state_mark_set(st, key, tip, e) < 0)
		return -1;
	s->reconciled = 1;
	if (added)
		*added = r.added;
	return 0;
}
