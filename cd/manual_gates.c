/* manual_gates.c - the gates of `mlci promote` to a manual environment, one function each: who promotes
 * (approver, override approver), the candidate in "from", min_staging_runs, min_soak, pin, rejection and
 * freeze, each recorded as a gate verdict with its figures. They measure and say; deciding is manual.c's. */
#include "cd/manual_int.h"

#include <cjson/cJSON.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd/candidate.h"
#include "cd/gate_evidence.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "registry/store_gates.h"
#include "spec/freeze.h"
#include "common/banned.h"

/* Gates that an override approver may pass over; the others say who and what, not whether. */
static const char *const overridable[] = { "min_staging_runs", "min_soak", "champion", "approvals", "freeze" };

static int may_override(const char *gate)
{
	for (size_t i = 0; i < sizeof(overridable) / sizeof(overridable[0]); i++)
		if (!strcmp(overridable[i], gate))
			return 1;
	return 0;
}

static void fmt_time(long long t, char *out, size_t n)
{
	freeze_format_time((time_t)t, out, n);
}

/* "2h05m", "24h00m", "3d4h" (from 48 hours on), "45s" */
static void fmt_span(int64_t ms, char *out, size_t n)
{
	long long s = ms / 1000;
	if (s >= 2 * 86400)
		snprintf(out, n, "%lldd%lldh", s / 86400, (s % 86400) / 3600);
	else if (s >= 3600)
		snprintf(out, n, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
	else if (s >= 60)
		snprintf(out, n, "%lldm%02llds", s / 60, s % 60);
	else
		snprintf(out, n, "%llds", s);
}

/* ---------- when the candidate entered "from" ---------- */

int manual_walk_entry(void *payload, const char *commit, long long time, const struct env_state *st)
{
	struct manual_entry *en = payload;
	if (!st || st->model_version != en->cand->model_version || !st->model_artifact ||
	    strcmp(st->model_artifact, en->cand->model_artifact ? en->cand->model_artifact : ""))
		return 1; /* an older state runs something else: the candidate entered after it */
	en->time = time;
	snprintf(en->commit, sizeof(en->commit), "%s", commit);
	free(en->run);
	en->run = st->run ? xstrdup(st->run) : NULL;
	return 0;
}

/* ---------- min_staging_runs ---------- */

struct count {
	const struct spec_environment *from;
	int64_t since_ms;
	const char *entry_run;
	int counted, before, cached, elsewhere;
	cJSON *runs;
};

static int on_branches(const struct spec_environment *from, const char *branch)
{
	if (!from->branches.n)
		return 1;
	for (size_t i = 0; branch && i < from->branches.n; i++)
		if (fnmatch(from->branches.items[i], branch, 0) == 0)
			return 1;
	return 0;
}

static int count_run(void *payload, const struct store_output_run *r)
{
	struct count *c = payload;
	if (!on_branches(c->from, r->branch))
		c->elsewhere++;
	else if ((c->entry_run && !strcmp(r->run, c->entry_run)) || r->started_ms < c->since_ms)
		c->before++; /* before (or the run that made) its promotion to "from" proves nothing there */
	else if (!r->executed_steps)
		c->cached++; /* served entirely from the cache: nothing new was proven */
	else {
		c->counted++;
		cJSON_AddItemToArray(c->runs, cJSON_CreateString(r->run));
	}
	return 0;
}

void manual_gate_min_runs(struct cd_cmd *c, const struct env_state *cand, const struct manual_entry *en,
			  const struct spec_environment *from, struct verdicts *gates, struct err *e, int *err)
{
	const struct spec_environment *env = c->env;
	struct count cnt;
	struct buf not = BUF_INIT;
	cJSON *d = cJSON_CreateObject();
	char since[32];

	memset(&cnt, 0, sizeof(cnt));
	cnt.from = from;
	/* the entering transition's time has milliseconds; the state commit's only seconds */
	cnt.since_ms = (int64_t)en->time * 1000;
	if (store_transition_time(c->st, en->commit, c->env->from, &cnt.since_ms, e) < 0) {
		*err = 1;
		cJSON_Delete(d);
		return;
	}
	cnt.entry_run = en->run;
	cnt.runs = cJSON_AddArrayToObject(d, "counted_runs");
	if (from && store_runs_with_output(c->st, c->pipeline, cand->model_artifact, count_run, &cnt, e) < 0) {
		*err = 1;
		cJSON_Delete(d);
		return;
	}
	fmt_time(en->time, since, sizeof(since));
	cJSON_AddNumberToObject(d, "counted", cnt.counted);
	cJSON_AddNumberToObject(d, "required", (double)env->min_staging_runs);
	cJSON_AddNumberToObject(d, "before_entry", cnt.before);
	cJSON_AddNumberToObject(d, "cached", cnt.cached);
	cJSON_AddNumberToObject(d, "other_branches", cnt.elsewhere);
	cJSON_AddStringToObject(d, "since", since);
	if (cnt.before)
		buf_addf(&not, "%d before it entered %s", cnt.before, env->from);
	if (cnt.cached)
		buf_addf(&not, "%s%d served entirely from the cache", not .len ? ", " : "", cnt.cached);
	if (cnt.elsewhere)
		buf_addf(&not, "%s%d on branches %s does not take", not .len ? ", " : "", cnt.elsewhere, env->from);
	cd_gate(gates, "min_staging_runs", cnt.counted >= env->min_staging_runs ? VERDICT_PASS : VERDICT_FAIL, d,
		"%s@%lld has %d passed run%s in %s since it entered at %s, min_staging_runs is %lld (rule manual for "
		"%s)%s%s",
		cand->model_name, (long long)cand->model_version, cnt.counted, cnt.counted == 1 ? "" : "s", env->from,
		since, (long long)env->min_staging_runs, c->q->env, not .len ? "; not counted: " : "",
		not .len ? not .ptr : "");
	buf_release(&not );
}

void manual_gate_soak(struct cd_cmd *c, const struct manual_entry *en, struct verdicts *gates)
{
	const struct spec_environment *env = c->env;
	int64_t in_ms = ((int64_t)policy_now() - en->time) * 1000;
	char have[32], want[32], left[32];
	cJSON *d;
	if (!env->min_soak_ms)
		return;
	d = cJSON_CreateObject();
	fmt_span(in_ms > 0 ? in_ms : 0, have, sizeof(have));
	fmt_span(env->min_soak_ms, want, sizeof(want));
	fmt_span(env->min_soak_ms - in_ms > 0 ? env->min_soak_ms - in_ms : 0, left, sizeof(left));
	cJSON_AddNumberToObject(d, "soaked_ms", (double)in_ms);
	cJSON_AddNumberToObject(d, "min_soak_ms", (double)env->min_soak_ms);
	if (in_ms >= env->min_soak_ms)
		cd_gate(gates, "min_soak", VERDICT_PASS, d, "in %s for %s, min_soak %s", env->from, have, want);
	else
		cd_gate(gates, "min_soak", VERDICT_FAIL, d, "in %s for %s, min_soak %s: %s left", env->from, have, want,
			left);
}

/* ---------- the gates ---------- */

/* The candidate: the version "from" runs now. 0 with "cand" filled, -1 with a refusal in "e" (then the
 * gate verdict is in "gates" too). */
int manual_find_candidate(struct cd_cmd *c, struct env_state *cand, struct verdicts *gates, struct err *e)
{
	const struct cd_request *q = c->q;
	const struct spec_environment *env = c->env;
	int r;
	if (!env->from) {
		cd_gate(gates, "from", VERDICT_FAIL, NULL, "%s has no \"from\" environment to promote from", q->env);
		return err_set(e, MLCI_EFAILED, "refused: %s", gates->items[gates->n - 1].summary);
	}
	r = state_read(c->sr, c->pipeline, env->from, cand, NULL, e);
	if (r < 0)
		return -1;
	if (!r || !cand->model_version || !cand->model_name || !cand->model_artifact) {
		cd_gate(gates, "from", VERDICT_FAIL, NULL, "%s has no model version to promote (nothing in %s)",
			env->from, env->from);
		return err_set(e, MLCI_EFAILED, "refused: %s", gates->items[gates->n - 1].summary);
	}
	if (strcmp(cand->pipeline ? cand->pipeline : "", c->pipeline)) {
		cd_gate(gates, "from", VERDICT_FAIL, NULL, "%s runs pipeline %s, not %s", env->from,
			cand->pipeline ? cand->pipeline : "-", c->pipeline);
		return err_set(e, MLCI_EFAILED, "refused: %s", gates->items[gates->n - 1].summary);
	}
	if (q->version && q->version != cand->model_version) {
		cd_gate(gates, "from", VERDICT_FAIL, NULL, "%s@%lld is not in %s (%s runs %s@%lld)", cand->model_name,
			(long long)q->version, env->from, env->from, cand->model_name, (long long)cand->model_version);
		return err_set(e, MLCI_EFAILED, "refused: %s", gates->items[gates->n - 1].summary);
	}
	cd_gate(gates, "from", VERDICT_PASS, NULL, "%s runs %s@%lld (artifact %.12s)", env->from, cand->model_name,
		(long long)cand->model_version, cand->model_artifact);
	return 0;
}

void manual_gate_approver(struct cd_cmd *c, struct verdicts *gates)
{
	struct buf b = BUF_INIT;
	policy_describe_approvers(c->pol, c->env, &b);
	if (policy_is_approver(c->pol, c->env, c->q->actor))
		cd_gate(gates, "approver", VERDICT_PASS, NULL, "%s is an approver of %s", c->q->actor, c->q->env);
	else if (c->q->override_gate && policy_is_override_approver(c->pol, c->env, c->q->actor))
		cd_gate(gates, "approver", VERDICT_PASS, NULL, "%s is an override approver of %s (break glass)",
			c->q->actor, c->q->env);
	else
		cd_gate(gates, "approver", VERDICT_FAIL, NULL,
			"%s is not an approver of %s (rule manual; approvers: %s; policy from %s)", c->q->actor,
			c->q->env, b.len ? b.ptr : "none", c->pol->source);
	buf_release(&b);
}

int manual_gate_pin(struct cd_cmd *c, struct verdicts *gates, struct err *e)
{
	struct store_pin pin;
	int r;
	memset(&pin, 0, sizeof(pin));
	r = store_pin_get(c->st, c->pipeline, c->q->env, &pin, e);
	if (r < 0)
		return -1;
	if (r)
		cd_gate(gates, "pin", VERDICT_FAIL, NULL, "%s is pinned by rollback %s (mlci unpin %s first)",
			c->q->env, pin.actor, c->q->env);
	else
		cd_gate(gates, "pin", VERDICT_PASS, NULL, "%s is not pinned", c->q->env);
	store_pin_release(&pin);
	return 0;
}

int manual_gate_rejection(struct cd_cmd *c, const struct env_state *cand, struct verdicts *gates, struct err *e)
{
	struct buf why = BUF_INIT;
	int r = cd_rejected(c->st, c->pipeline, c->q->env, cand->model_artifact, &why, e);
	if (r > 0)
		cd_gate(gates, "rejection", VERDICT_FAIL, NULL, "%s@%lld was %s; a new candidate is needed",
			cand->model_name, (long long)cand->model_version, why.ptr);
	buf_release(&why);
	return r < 0 ? -1 : 0;
}

void manual_gate_freeze(struct cd_cmd *c, struct verdicts *gates)
{
	time_t until;
	if (policy_frozen(c->pol, c->env, policy_now(), &until)) {
		char w[32];
		freeze_format_time(until, w, sizeof(w));
		cd_gate(gates, "freeze", VERDICT_FAIL, NULL, "freeze until %s", w);
	}
}

/* The gates whose failure holds the candidate as pending rather than refusing it. */
int manual_pending_gate(const char *name)
{
	return !strcmp(name, "approvals") || !strcmp(name, "freeze");
}

/* ---------- mlci promote (manual) ---------- */

int manual_check_override(struct cd_cmd *c, struct err *e)
{
	const struct cd_request *q = c->q;
	struct buf b = BUF_INIT;
	if (!q->override_gate)
		return 0;
	if (!q->reason || !*q->reason)
		return err_set(e, MLCI_EUSAGE, "--override %s needs --reason TEXT (it is recorded)", q->override_gate);
	if (!may_override(q->override_gate))
		return err_set(e, MLCI_EUSAGE,
			       "--override %s: not a gate that can be overridden (min_staging_runs, min_soak, "
			       "champion, approvals, freeze)",
			       q->override_gate);
	if (!c->env->override_approvers.n || !policy_is_override_approver(c->pol, c->env, q->actor)) {
		policy_describe_list(c->pol, &c->env->override_approvers, &b);
		err_set(e, MLCI_EFAILED,
			"refused: %s may not override gates of %s (override_approvers: %s; policy from %s)", q->actor,
			q->env, b.len ? b.ptr : "none", c->pol->source);
		buf_release(&b);
		return -1;
	}
	return 0;
}
