/* rollback.c - `mlci rollback` (an earlier state of an environment as a new state commit, through the one
 * promotion transaction, then a pin that holds automatic promotions) and `mlci unpin` (the pin removed,
 * the newest held candidate released). It must not print. */
#include "cd/gates.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd/apply.h"
#include "cd/candidate.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "registry/store_gates.h"
#include "common/banned.h"

/* The history of an environment, newest first. */
struct hist {
	struct env_state *v; /* owned; a removed state is an initialised empty one with has[i] 0 */
	int *has;
	size_t n;
};

static int hist_add(void *payload, const char *commit, long long time, const struct env_state *state)
{
	struct hist *h = payload;
	(void)commit;
	(void)time;
	h->v = xrealloc(h->v, (h->n + 1) * sizeof(*h->v));
	h->has = xrealloc(h->has, (h->n + 1) * sizeof(*h->has));
	if (state)
		env_state_copy(&h->v[h->n], state);
	else
		env_state_init(&h->v[h->n]);
	h->has[h->n] = state != NULL;
	h->n++;
	return 0;
}

static void hist_release(struct hist *h)
{
	for (size_t i = 0; i < h->n; i++)
		env_state_release(&h->v[i]);
	free(h->v);
	free(h->has);
	memset(h, 0, sizeof(*h));
}

int cd_rollback(const struct cd_request *q, struct cd_result *res, struct err *e)
{
	struct promote_outcome *out = &res->out;
	struct cd_cmd c;
	struct hist h;
	struct env_state state;
	const struct env_state *target = NULL;
	int64_t cur_v;
	const char *cur_commit;
	struct buf msg = BUF_INIT, why = BUF_INIT;
	int ret = -1;

	memset(&h, 0, sizeof(h));
	env_state_init(&state);
	if (cd_cmd_open(&c, q, e) < 0)
		goto done;
	if (state_log(c.sr, c.pipeline, q->env, hist_add, &h, e) < 0)
		goto done;
	if (!h.n || !h.has[0]) {
		err_set(e, MLCI_EFAILED, "refused: %s has no state to roll back", q->env);
		goto done;
	}
	cur_v = h.v[0].model_version;
	cur_commit = h.v[0].commit;
	for (size_t i = 1; i < h.n && !target; i++) {
		const struct env_state *s = &h.v[i];
		int64_t v = s->model_version;
		/* a state whose deploy failed (the next commit restored its predecessor) never ran */
		if (!h.has[i] || !v || h.v[i - 1].failed_commit)
			continue;
		if (q->version ? v == q->version
			       : (v != cur_v || !cur_commit || !s->commit || strcmp(s->commit, cur_commit)))
			target = s;
	}
	if (!target) {
		if (q->version)
			err_set(e, MLCI_EFAILED, "refused: %s never ran model version %lld", q->env,
				(long long)q->version);
		else
			err_set(e, MLCI_EFAILED, "refused: %s has no earlier state to roll back to", q->env);
		goto done;
	}
	out->environment = xstrdup(q->env);
	env_state_copy(&state, target);
	cd_state_stamp(&state, q->env, "rollback", q->actor, NULL, q->reason);
	state.rolled_back_from = cur_v;
	buf_addf(&msg, "rollback %s to %s@%lld (from version %lld)\n\nRule: rollback by %s\n", q->env,
		 state.model_name ? state.model_name : "-", (long long)state.model_version, (long long)cur_v, q->actor);
	if (q->reason)
		buf_addf(&msg, "Reason: %s\n", q->reason);
	buf_addf(&msg, "Run: %s\nCommit: %s\nPinned: yes (mlci unpin %s)\n", state.run ? state.run : "-",
		 state.commit ? state.commit : "-", q->env);
	buf_addf(&why, "rollback by %s%s%s", q->actor, q->reason ? ": " : "", q->reason ? q->reason : "");
	{
		struct cd_change ch;
		memset(&ch, 0, sizeof(ch));
		ch.env = c.env;
		ch.pipeline = c.pipeline;
		ch.state = &state;
		ch.actor = q->actor;
		ch.message = msg.ptr;
		ch.reason = why.ptr;
		ch.rollback = 1;
		if (cd_apply(&c.s, &ch, out, e) < 0)
			goto done;
	}
	if (out->action == PROMOTE_DONE) {
		struct store_pin pin;
		memset(&pin, 0, sizeof(pin));
		snprintf(pin.pipeline, sizeof(pin.pipeline), "%s", c.pipeline);
		snprintf(pin.environment, sizeof(pin.environment), "%s", q->env);
		snprintf(pin.actor, sizeof(pin.actor), "%s", q->actor);
		pin.model = state.model_name;
		pin.version = state.model_version;
		pin.reason = (char *)(uintptr_t)(q->reason ? q->reason : "rollback");
		memcpy(pin.state_commit, out->state_commit, sizeof(pin.state_commit));
		pin.time_ms = cd_now_ms();
		if (store_pin_set(c.st, &pin, e) < 0)
			goto done;
		promote_say(out, PROMOTE_DONE, "rolled %s back to %s@%lld (state %.12s); pinned until mlci unpin %s",
			    q->env, state.model_name ? state.model_name : "-", (long long)pin.version,
			    out->state_commit, q->env);
	}
	ret = 0;
done:
	env_state_release(&state);
	hist_release(&h);
	buf_release(&msg);
	buf_release(&why);
	cd_cmd_close(&c);
	return ret;
}

int cd_unpin(const struct cd_request *q, struct cd_result *res, struct err *e)
{
	struct promote_outcome *out = &res->out;
	struct cd_cmd c;
	int removed = 0, ret = -1;
	if (cd_cmd_open(&c, q, e) < 0)
		goto done;
	if (store_pin_remove(c.st, c.pipeline, q->env, &removed, e) < 0)
		goto done;
	if (!removed) {
		out->environment = xstrdup(q->env);
		promote_say(out, PROMOTE_NONE, "%s was not pinned", q->env);
		ret = 0;
		goto done;
	}
	if (c.env->promote != SPEC_PROMOTE_MANUAL) {
		char *d;
		if (cd_release_pending(&c, 0, out, e) < 0)
			goto done;
		d = out->detail;
		out->detail = NULL;
		promote_say(out, out->action, "unpinned %s; %s", q->env, d ? d : "");
		free(d);
	} else {
		if (!out->environment)
			out->environment = xstrdup(q->env);
		promote_say(out, PROMOTE_NONE, "unpinned %s", q->env);
	}
	ret = 0;
done:
	cd_cmd_close(&c);
	return ret;
}
