/* manual.c - `mlci promote` to a manual environment (docs/promotion.md "The rules"): every gate evaluated
 * and recorded as evidence (approver, candidate in "from", min_staging_runs, min_soak, pin, rejection,
 * champion, approvals, freeze), --dry-run, --override, then the one promotion transaction. It must not
 * print. */
#include "cd/gates.h"

#include <cjson/cJSON.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd/apply.h"
#include "cd/candidate.h"
#include "cd/champion.h"
#include "cd/gate_evidence.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/json.h"
#include "registry/store_gates.h"
#include "registry/store_stats.h"
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

struct entry {
	const struct env_state *cand;
	long long time; /* the oldest consecutive state commit of "from" that runs the candidate's artifact */
	char *run;      /* the run that put it there; owned */
	int done;
};

static int walk_entry(void *payload, const char *commit, long long time, const struct env_state *st)
{
	struct entry *en = payload;
	(void)commit;
	if (!st || st->model_version != en->cand->model_version || !st->model_artifact ||
	    strcmp(st->model_artifact, en->cand->model_artifact ? en->cand->model_artifact : ""))
		return 1; /* an older state runs something else: the candidate entered after it */
	en->time = time;
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
	if ((c->entry_run && !strcmp(r->run, c->entry_run)) || r->started_ms < c->since_ms)
		c->before++; /* before (or the run that made) its promotion to "from" proves nothing there */
	else if (!on_branches(c->from, r->branch))
		c->elsewhere++;
	else if (!r->executed_steps)
		c->cached++; /* served entirely from the cache: nothing new was proven */
	else {
		c->counted++;
		cJSON_AddItemToArray(c->runs, cJSON_CreateString(r->run));
	}
	return 0;
}

static void gate_min_runs(struct cd_cmd *c, const struct env_state *cand, const struct entry *en,
			  const struct spec_environment *from, struct verdicts *gates, struct err *e, int *err)
{
	const struct spec_environment *env = c->env;
	struct count cnt;
	struct buf not = BUF_INIT;
	cJSON *d = cJSON_CreateObject();
	char since[32];

	memset(&cnt, 0, sizeof(cnt));
	cnt.from = from;
	cnt.since_ms = (int64_t)en->time * 1000;
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

static void gate_soak(struct cd_cmd *c, const struct entry *en, struct verdicts *gates)
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

/* ---------- the diff shown by --dry-run ---------- */

static void diff_row(struct cd_result *res, const char *what, const char *cur, const char *cand)
{
	strvec_push(&res->diff_what, what);
	strvec_push(&res->diff_current, cur ? cur : "-");
	strvec_push(&res->diff_candidate, cand ? cand : "-");
}

struct metric {
	char *key; /* "accuracy" or "accuracy [size=small]" */
	double cur, cand;
	int has_cur, has_cand;
};
struct metrics {
	struct metric *v;
	size_t n;
	int side; /* 0 current, 1 candidate */
};

static int on_metric(void *payload, const char *name, const char *slice, double value)
{
	struct metrics *m = payload;
	struct buf k = BUF_INIT;
	struct metric *it = NULL;
	if (!strncmp(name, "check.", 6))
		return 0; /* check figures (ports, timings) are not results */
	buf_addf(&k, "%s%s%s%s", name, slice && *slice ? " [" : "", slice ? slice : "", slice && *slice ? "]" : "");
	for (size_t i = 0; i < m->n && !it; i++)
		if (!strcmp(m->v[i].key, k.ptr))
			it = &m->v[i];
	if (!it) {
		m->v = xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
		it = &m->v[m->n++];
		memset(it, 0, sizeof(*it));
		it->key = buf_detach(&k, NULL);
	}
	buf_release(&k);
	if (m->side) {
		it->cand = value;
		it->has_cand = 1;
	} else {
		it->cur = value;
		it->has_cur = 1;
	}
	return 0;
}

static int diff(struct cd_cmd *c, const struct env_state *cur, int have_cur, const struct env_state *cand,
		struct cd_result *res, struct err *e)
{
	struct metrics m;
	char a[160], b[160];
	int ret = -1;
	memset(&m, 0, sizeof(m));
	snprintf(a, sizeof(a), "%s@%lld", have_cur && cur->model_name ? cur->model_name : "-",
		 have_cur ? (long long)cur->model_version : 0LL);
	snprintf(b, sizeof(b), "%s@%lld", cand->model_name, (long long)cand->model_version);
	diff_row(res, "model", have_cur && cur->model_version ? a : NULL, b);
	snprintf(a, sizeof(a), "%.12s", have_cur && cur->model_artifact ? cur->model_artifact : "-");
	snprintf(b, sizeof(b), "%.12s", cand->model_artifact ? cand->model_artifact : "-");
	diff_row(res, "artifact", a, b);
	snprintf(a, sizeof(a), "%.12s", have_cur && cur->commit ? cur->commit : "-");
	snprintf(b, sizeof(b), "%.12s", cand->commit ? cand->commit : "-");
	diff_row(res, "commit", a, b);
	diff_row(res, "run", have_cur ? cur->run : NULL, cand->run);
	diff_row(res, "since", have_cur ? cur->promoted_at : NULL, NULL);
	if (have_cur && cur->run && store_metrics_each(c->st, cur->run, on_metric, &m, e) < 0)
		goto done;
	m.side = 1;
	if (cand->run && store_metrics_each(c->st, cand->run, on_metric, &m, e) < 0)
		goto done;
	for (size_t i = 0; i < m.n; i++) {
		struct buf what = BUF_INIT, cb = BUF_INIT;
		buf_addf(&what, "metric %s", m.v[i].key);
		snprintf(a, sizeof(a), "%.6g", m.v[i].cur);
		if (m.v[i].has_cand) {
			buf_addf(&cb, "%.6g", m.v[i].cand);
			if (m.v[i].has_cur)
				buf_addf(&cb, " (%+.4g)", m.v[i].cand - m.v[i].cur);
		}
		diff_row(res, what.ptr, m.v[i].has_cur ? a : NULL, m.v[i].has_cand ? cb.ptr : NULL);
		buf_release(&what);
		buf_release(&cb);
	}
	ret = 0;
done:
	for (size_t i = 0; i < m.n; i++)
		free(m.v[i].key);
	free(m.v);
	return ret;
}

/* ---------- the candidate row ---------- */

static int candidate_row(struct cd_cmd *c, const struct env_state *cand, const char *status, const char *waiting,
			 const char *evidence, struct err *e)
{
	struct store_promotion p;
	struct cd_pending f;
	int r;
	memset(&p, 0, sizeof(p));
	p.pipeline = c->pipeline;
	p.environment = c->q->env;
	p.version = cand->model_version;
	p.model = cand->model_name;
	p.run = cand->run ? cand->run : "";
	p.commit_id = cand->commit ? cand->commit : "";
	p.branch = cand->branch;
	p.status = status;
	p.waiting_for = waiting;
	p.evidence = evidence;
	p.keep_pending = !policy_supersede(c->env);
	/* the same candidate asked again: update its row rather than add another */
	r = cd_pending_find(c->st, c->pipeline, c->q->env, 0, &f, e);
	if (r < 0)
		return -1;
	if (r && f.p.version == p.version && !strcmp(f.commit, p.commit_id)) {
		r = store_promotion_set(c->st, f.p.id, status, waiting, NULL, evidence, e);
		cd_pending_release(&f);
		return r;
	}
	cd_pending_release(&f);
	return store_promotion_add(c->st, &p, NULL, e);
}

/* ---------- the gates ---------- */

/* The candidate: the version "from" runs now. 0 with "cand" filled, -1 with a refusal in "e" (then the
 * gate verdict is in "gates" too). */
static int find_candidate(struct cd_cmd *c, struct env_state *cand, struct verdicts *gates, struct err *e)
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

static void gate_approver(struct cd_cmd *c, struct verdicts *gates)
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

static int gate_pin(struct cd_cmd *c, struct verdicts *gates, struct err *e)
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

static int gate_rejection(struct cd_cmd *c, const struct env_state *cand, struct verdicts *gates, struct err *e)
{
	struct buf why = BUF_INIT;
	int r = cd_rejected(c->st, c->pipeline, c->q->env, cand->model_artifact, &why, e);
	if (r > 0)
		cd_gate(gates, "rejection", VERDICT_FAIL, NULL, "%s@%lld was %s; a new candidate is needed",
			cand->model_name, (long long)cand->model_version, why.ptr);
	buf_release(&why);
	return r < 0 ? -1 : 0;
}

static void gate_freeze(struct cd_cmd *c, struct verdicts *gates)
{
	time_t until;
	if (policy_frozen(c->pol, c->env, policy_now(), &until)) {
		char w[32];
		freeze_format_time(until, w, sizeof(w));
		cd_gate(gates, "freeze", VERDICT_FAIL, NULL, "freeze until %s", w);
	}
}

/* The gates whose failure holds the candidate as pending rather than refusing it. */
static int pending_gate(const char *name)
{
	return !strcmp(name, "approvals") || !strcmp(name, "freeze");
}

/* ---------- mlci promote (manual) ---------- */

static int check_override(struct cd_cmd *c, struct err *e)
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

int cd_promote_manual(struct cd_cmd *c, struct cd_result *res, struct err *e);
int cd_promote_manual(struct cd_cmd *c, struct cd_result *res, struct err *e)
{
	const struct cd_request *q = c->q;
	const struct spec_environment *env = c->env, *from;
	struct promote_outcome *out = &res->out;
	struct env_state cand, cur, state;
	struct strvec appr = STRVEC_INIT;
	struct entry en;
	struct buf msg = BUF_INIT, waiting = BUF_INIT, same = BUF_INIT, reason = BUF_INIT;
	const struct verdict *refusal = NULL;
	char *evidence = NULL;
	int have_cur, err = 0, ret = -1;

	env_state_init(&cand);
	env_state_init(&cur);
	env_state_init(&state);
	memset(&en, 0, sizeof(en));
	out->environment = xstrdup(q->env);
	if (check_override(c, e) < 0)
		goto done;
	gate_approver(c, &res->gates);
	if (find_candidate(c, &cand, &res->gates, e) < 0) {
		/* who may promote is said first, as always */
		if (res->gates.items[0].status == VERDICT_FAIL && !q->dry_run)
			err_set(e, MLCI_EFAILED, "refused: %s", res->gates.items[0].summary);
		if (q->dry_run) {
			err_clear(e);
			promote_say(out, PROMOTE_FAILED, "dry run: nothing to promote to %s", q->env);
			ret = 0;
		}
		goto done;
	}
	from = policy_env(c->pol, env->from);
	have_cur = state_read(c->sr, c->pipeline, q->env, &cur, NULL, e);
	if (have_cur < 0)
		goto done;
	/* when the candidate entered "from": its runs there and its soak time count from then */
	en.cand = &cand;
	if (state_log(c->sr, c->pipeline, env->from, walk_entry, &en, e) < 0)
		goto done;
	gate_min_runs(c, &cand, &en, from, &res->gates, e, &err);
	if (err)
		goto done;
	gate_soak(c, &en, &res->gates);
	if (gate_pin(c, &res->gates, e) < 0 || gate_rejection(c, &cand, &res->gates, e) < 0)
		goto done;
	if (env->champion.present && cd_champion_gate(c, have_cur ? &cur : NULL, &cand, &res->gates, e) < 0)
		goto done;
	if (cd_candidate_approvals(c->st, env, c->pipeline, cand.model_name, cand.model_version, cand.model_artifact,
				   NULL, NULL, NULL, &appr, e) < 0)
		goto done;
	if (env->approvals)
		cd_evidence_approvals(&res->gates, env, &appr);
	gate_freeze(c, &res->gates);
	if (cd_evidence_from_store(&res->gates, c->st, cand.run, e) < 0)
		goto done;
	if (diff(c, &cur, have_cur, &cand, res, e) < 0)
		goto done;

	/* decide: a refusal at the first failing gate, else pending, else promote */
	for (size_t i = 0; i < res->gates.n; i++) {
		struct verdict *v = &res->gates.items[i];
		if (v->status != VERDICT_FAIL || strcmp(v->kind, "gate"))
			continue;
		if (q->override_gate && !strcmp(v->name, q->override_gate)) {
			cJSON_AddStringToObject(v->details, "overridden_by", q->actor);
			cJSON_AddStringToObject(v->details, "override_reason", q->reason);
			continue;
		}
		if (pending_gate(v->name))
			buf_addf(&waiting, "%s%s", waiting.len ? ", " : "", v->summary);
		else if (!refusal)
			refusal = v;
	}
	res->would_pass = !refusal && !waiting.len;
	if (q->dry_run) {
		promote_say(out,
			    res->would_pass ? PROMOTE_DONE
			    : refusal       ? PROMOTE_FAILED
					    : PROMOTE_PENDING,
			    "dry run: %s@%lld %s %s", cand.model_name, (long long)cand.model_version,
			    res->would_pass ? "would be promoted to"
			    : refusal       ? "would be refused for"
					    : "would wait for",
			    q->env);
		ret = 0;
		goto done;
	}
	if (refusal) {
		err_set(e, MLCI_EFAILED, "refused: %s", refusal->summary);
		goto done;
	}
	if (have_cur && env_state_same_deploy(&cur, &cand)) {
		promote_say(out, PROMOTE_NONE, "%s already runs %s@%lld: nothing to promote", q->env, cand.model_name,
			    (long long)cand.model_version);
		ret = 0;
		goto done;
	}
	evidence = cd_evidence_json(&res->gates);
	if (waiting.len) {
		if (candidate_row(c, &cand, "pending", waiting.ptr, evidence, e) < 0)
			goto done;
		promote_say(out, PROMOTE_PENDING, "%s: %s@%lld not promoted yet, pending: waiting for %s", q->env,
			    cand.model_name, (long long)cand.model_version, waiting.ptr);
		ret = 0;
		goto done;
	}

	env_state_copy(&state, &cand);
	cd_state_stamp(&state, q->env, "manual", q->actor, &appr, q->reason);
	for (size_t i = 0; i < res->gates.n; i++) {
		const struct verdict *v = &res->gates.items[i];
		verdicts_add(&state.gates, v->name, v->kind, v->status, cJSON_Duplicate(v->details, 1), v->started_ms,
			     v->duration_ms, "%s", v->summary);
	}
	if (q->override_gate) {
		env_state_set(&state.override_gate, q->override_gate);
		env_state_set(&state.override_by, q->actor);
		env_state_set(&state.override_reason, q->reason);
	}
	{
		const struct verdict *runs = NULL;
		for (size_t i = 0; i < res->gates.n; i++)
			if (!strcmp(res->gates.items[i].name, "min_staging_runs"))
				runs = &res->gates.items[i];
		int counted = runs ? json_int(runs->details, "counted", 0) : 0;
		buf_addf(&msg, "promote %s to %s: %s@%lld\n\nRule: manual (from %s, %d passed run%s there)\n",
			 c->pipeline, q->env, cand.model_name, (long long)cand.model_version, env->from, counted,
			 counted == 1 ? "" : "s");
	}
	if (q->reason)
		buf_addf(&msg, "Reason: %s\n", q->reason);
	if (q->override_gate)
		buf_addf(&msg, "Override: %s by %s\n", q->override_gate, q->actor);
	buf_addf(&msg, "Run: %s\nCommit: %s\nPromoted-by: %s\n", cand.run ? cand.run : "-",
		 cand.commit ? cand.commit : "-", q->actor);
	for (size_t i = 0; i < appr.n; i++)
		buf_addf(&msg, "Approved-by: %s\n", appr.v[i]);
	cd_evidence_message(&res->gates, &msg);
	if (q->override_gate)
		buf_addf(&reason, "override %s by %s: %s", q->override_gate, q->actor, q->reason);
	else
		buf_addstr(&reason, q->reason ? q->reason : "manual promotion");
	buf_addf(&same, "%s already runs %s@%lld: nothing to promote", q->env, cand.model_name,
		 (long long)cand.model_version);
	{
		struct cd_change ch;
		struct store_promotion row;
		struct cd_pending f;
		int64_t id = 0;
		int r = cd_pending_find(c->st, c->pipeline, q->env, cand.model_version, &f, e);
		if (r < 0)
			goto done;
		if (r && !strcmp(f.commit, cand.commit ? cand.commit : ""))
			id = f.p.id;
		cd_pending_release(&f);
		memset(&row, 0, sizeof(row));
		row.pipeline = c->pipeline;
		row.environment = q->env;
		row.model = cand.model_name;
		row.version = cand.model_version;
		row.run = cand.run ? cand.run : "";
		row.commit_id = cand.commit ? cand.commit : "";
		row.branch = cand.branch;
		row.keep_pending = !policy_supersede(env);
		memset(&ch, 0, sizeof(ch));
		ch.env = env;
		ch.pipeline = c->pipeline;
		ch.state = &state;
		ch.actor = q->actor;
		ch.message = msg.ptr;
		ch.reason = reason.ptr;
		ch.from_stage = env->from;
		ch.promotion_id = id;
		ch.row = id ? NULL : &row;
		ch.same_detail = same.ptr;
		if (cd_apply(&c->s, &ch, out, e) < 0)
			goto done;
	}
	if (out->action == PROMOTE_DONE) {
		struct buf by = BUF_INIT;
		for (size_t k = 0; k < appr.n; k++)
			buf_addf(&by, "%s%s", k ? ", " : ", approved by ", appr.v[k]);
		promote_say(out, PROMOTE_DONE, "promoted %s@%lld to %s (state %.12s, by %s%s%s%s)", cand.model_name,
			    (long long)cand.model_version, q->env, out->state_commit, q->actor, by.len ? by.ptr : "",
			    q->override_gate ? ", overriding " : "", q->override_gate ? q->override_gate : "");
		buf_release(&by);
	}
	ret = 0;
done:
	env_state_release(&cand);
	env_state_release(&cur);
	env_state_release(&state);
	free(en.run);
	free(evidence);
	strvec_clear(&appr);
	buf_release(&msg);
	buf_release(&waiting);
	buf_release(&same);
	buf_release(&reason);
	return ret;
}

int cd_promote(const struct cd_request *q, struct cd_result *res, struct err *e)
{
	struct cd_cmd c;
	int ret = -1;
	if (!q->pipeline)
		return err_set(e, MLCI_EUSAGE, "name the pipeline to promote");
	if (cd_cmd_open(&c, q, e) == 0) {
		if (c.env->promote == SPEC_PROMOTE_MANUAL)
			ret = cd_promote_manual(&c, res, e);
		else if (q->dry_run || q->override_gate)
			ret = err_set(e, MLCI_EUSAGE,
				      "%s is promoted %s: --dry-run and --override are for manual "
				      "environments",
				      q->env, c.env->promote == SPEC_PROMOTE_AUTO ? "automatically" : "on approval");
		else
			ret = cd_release_pending(&c, 0, &res->out, e);
	}
	cd_cmd_close(&c);
	return ret;
}
