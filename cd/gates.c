/* gates.c - promotions decided outside a run (DESIGN "Promotion"): the manual rule, approvals bound to
 * an artifact digest, rollback with a pin, release of held candidates, one promotion per environment
 * (store lock) and reconciliation of the registry with the state repo (the state repo wins). */
#include "cd/gates.h"

#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cd/approvals.h"
#include "cd/deploy.h"
#include "cd/state.h"
#include "spec/freeze.h"
#include "git/workspace.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/path.h"
#include "registry/store_gates.h"
#include "registry/store_promotions.h"
#include "common/banned.h"

void cd_crash_point(const char *name)
{
	const char *v = getenv("MLCI_TEST_CRASH_AFTER");
	if (v && !strcmp(v, name))
		raise(SIGKILL);
}

static void say(struct promote_outcome *o, enum promote_action a, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct promote_outcome *o, enum promote_action a, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	o->action = a;
	free(o->detail);
	o->detail = buf_detach(&b, NULL);
}

static void when_str(time_t t, char *out, size_t n)
{
	freeze_format_time(t, out, n);
}

/* ---------- locks ---------- */

int cd_lock(struct store *st, const char *pipeline, const char *env, const char *actor, struct err *e)
{
	const char *tv = getenv("MLCI_LOCK_TIMEOUT");
	long timeout_ms = (tv && *tv ? strtol(tv, NULL, 10) : 30) * 1000;
	long waited = 0;
	for (;;) {
		struct strvec holder = STRVEC_INIT;
		int r = store_env_lock_try(st, pipeline, env, actor, &holder, e);
		if (r != 0) {
			strvec_clear(&holder);
			return r < 0 ? -1 : 0;
		}
		if (waited >= timeout_ms) {
			err_set(e, MLCI_EINFRA,
				"environment %s (pipeline %s) is being promoted by %s; gave up after %lds (one "
				"promotion "
				"per environment at a time)",
				env, pipeline, holder.n ? holder.v[0] : "?", waited / 1000);
			strvec_clear(&holder);
			return -1;
		}
		strvec_clear(&holder);
		{
			struct timespec ts = { 0, 100L * 1000 * 1000 };
			nanosleep(&ts, NULL);
			waited += 100;
		}
	}
}

void cd_unlock(struct store *st, const char *pipeline, const char *env)
{
	struct err e = ERR_INIT;
	store_env_lock_release(st, pipeline, env, &e);
	err_release(&e);
}

/* ---------- reconcile ---------- */

struct rec_entry {
	char commit[41];
	long long time;
	cJSON *state;
};
struct rec_list {
	struct rec_entry *v;
	size_t n, alloc;
};

static int rec_add(void *payload, const char *commit, long long time, const cJSON *state)
{
	struct rec_list *l = payload;
	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	snprintf(l->v[l->n].commit, sizeof(l->v[l->n].commit), "%s", commit);
	l->v[l->n].time = time;
	l->v[l->n].state = state ? cJSON_Duplicate(state, 1) : NULL;
	l->n++;
	return 0;
}

static void rec_release(struct rec_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		cJSON_Delete(l->v[i].state);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t jversion(const cJSON *state, const char **model, const char **artifact)
{
	const cJSON *m = state ? cJSON_GetObjectItemCaseSensitive(state, "model") : NULL;
	const cJSON *v = cJSON_IsObject(m) ? cJSON_GetObjectItemCaseSensitive(m, "version") : NULL;
	if (model)
		*model = cJSON_IsObject(m) ? jstr(m, "name") : NULL;
	if (artifact)
		*artifact = cJSON_IsObject(m) ? jstr(m, "artifact") : NULL;
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

int cd_reconcile(const char *home, struct store *st, int *added, struct err *e)
{
	struct state_repo sr;
	struct strvec envs = STRVEC_INIT, pipes = STRVEC_INIT;
	int ret = -1, n = 0;

	if (added)
		*added = 0;
	if (!state_exists(home))
		return 0;
	if (state_open(&sr, home, e) < 0 || state_sync(&sr, e) < 0)
		goto done;
	if (state_list(&sr, &pipes, &envs, e) < 0)
		goto done;
	for (size_t i = 0; i < envs.n; i++) {
		struct rec_list l = { NULL, 0, 0 };
		if (state_log(&sr, pipes.v[i], envs.v[i], rec_add, &l, e) < 0) {
			rec_release(&l);
			goto done;
		}
		for (size_t k = l.n; k-- > 0;) { /* oldest first */
			const char *model, *rule;
			int64_t version = jversion(l.v[k].state, &model, NULL);
			char *art = NULL, *run = NULL;
			int have;
			struct store_transition t;
			if (!version || !model)
				continue;
			have = store_transition_exists(st, l.v[k].commit, e);
			if (have < 0) {
				rec_release(&l);
				goto done;
			}
			if (have)
				continue;
			if (store_model_artifact(st, model, version, &art, &run, e) <= 0) {
				free(art);
				free(run);
				err_release(e);
				continue; /* the registry does not know that version: nothing to attach it to */
			}
			free(art);
			free(run);
			rule = jstr(l.v[k].state, "rule");
			memset(&t, 0, sizeof(t));
			t.model = model;
			t.version = version;
			t.environment = envs.v[i];
			t.to_stage = rule && !strcmp(rule, "rollback") ? "rolled-back" : envs.v[i];
			t.actor = jstr(l.v[k].state, "promoted_by") ? jstr(l.v[k].state, "promoted_by") : "mlci";
			t.reason = "reconciled from the state repo";
			t.state_commit = l.v[k].commit;
			t.time_ms = l.v[k].time * 1000;
			if (store_transition_add(st, &t, NULL, e) < 0) {
				rec_release(&l);
				goto done;
			}
			n++;
		}
		rec_release(&l);
	}
	if (added)
		*added = n;
	ret = 0;
done:
	strvec_clear(&envs);
	strvec_clear(&pipes);
	state_close(&sr);
	return ret;
}

/* ---------- context ---------- */

struct cdx {
	const struct cd_request *q;
	struct store st;
	int st_open;
	struct state_repo sr;
	int sr_open;
	struct policy pol;
	const struct spec_environment *env;
	char *pipeline; /* owned */
	char *repo;     /* owned; the repository of the pipeline's latest run */
	int locked;
};

static void cdx_release(struct cdx *c)
{
	if (c->locked)
		cd_unlock(&c->st, c->pipeline, c->q->env);
	policy_release(&c->pol);
	if (c->sr_open)
		state_close(&c->sr);
	if (c->st_open)
		store_close(&c->st);
	free(c->pipeline);
	free(c->repo);
}

/* Store, state repo, reconciliation, pipeline, policy and environment. */
static int cdx_open(struct cdx *c, const struct cd_request *q, struct err *e)
{
	memset(c, 0, sizeof(*c));
	c->q = q;
	if (store_open(&c->st, q->home, e) < 0)
		return -1;
	c->st_open = 1;
	c->sr_open = 1;
	if (state_open(&c->sr, q->home, e) < 0 || state_sync(&c->sr, e) < 0)
		return -1;
	if (cd_reconcile(q->home, &c->st, NULL, e) < 0)
		return err_prefix(e, "reconciling the registry with the state repo");
	if (q->pipeline) {
		c->pipeline = xstrdup(q->pipeline);
	} else {
		/* the pipeline whose state has that environment; several: the user must say which */
		if (state_pipeline_of(&c->sr, q->env, &c->pipeline, e) < 0)
			return -1;
		if (!c->pipeline)
			return err_set(e, MLCI_EUSAGE,
				       "environment %s has no state yet: name the pipeline (--pipeline P)", q->env);
	}
	if (store_pipeline_repo(&c->st, c->pipeline, &c->repo, e) < 0)
		return -1;
	if (policy_load_for_repo(&c->pol, q->home, c->repo, e) < 0)
		return -1;
	if (!c->pol.spec)
		return err_set(e, MLCI_EUSAGE,
			       "no promotion policy for pipeline %s (no %s/policy.yaml, no valid mlci.yaml on main)",
			       c->pipeline, q->home);
	c->env = policy_env(&c->pol, q->env);
	if (!c->env)
		return err_set(e, MLCI_EUSAGE, "environment '%s' is not in the promotion policy (%s)", q->env,
			       c->pol.source);
	return 0;
}

static int cdx_lock(struct cdx *c, struct err *e)
{
	if (cd_lock(&c->st, c->pipeline, c->q->env, c->q->actor, e) < 0)
		return -1;
	c->locked = 1;
	return 0;
}

/* ---------- deploy and state commits ---------- */

static int add_transition(struct cdx *c, const cJSON *state, const char *to, const char *actor, const char *reason,
			  const char *commit, struct err *e)
{
	const char *model;
	int64_t version = jversion(state, &model, NULL);
	struct store_transition t;
	if (!version || !model)
		return 0;
	memset(&t, 0, sizeof(t));
	t.model = model;
	t.version = version;
	t.environment = c->q->env;
	t.to_stage = to;
	t.actor = actor;
	t.reason = reason;
	t.state_commit = commit;
	t.time_ms = (int64_t)policy_now() * 1000;
	return store_transition_add(&c->st, &t, NULL, e);
}

/* Commit "state" for the environment, record the transition, deploy; a failed deploy restores the
 * previous state with a new commit. PROMOTE_DONE or PROMOTE_FAILED in "out"; -1 for infra errors. */
static int apply_state(struct cdx *c, cJSON *state, const char *message, const char *to_stage, const char *reason,
		       struct promote_outcome *out, struct err *e)
{
	cJSON *previous = NULL;
	struct err de = ERR_INIT, re = ERR_INIT;
	int ret = -1;

	if (state_read(&c->sr, c->pipeline, c->q->env, &previous, NULL, e) < 0)
		return -1;
	if (state_write(&c->sr, c->pipeline, c->q->env, state, c->q->actor, message, out->state_commit, e) < 0)
		goto done;
	cd_crash_point("state-commit");
	if (add_transition(c, state, to_stage, c->q->actor, reason, out->state_commit, e) < 0)
		goto done;
	if (deploy_hooks_for_state(c->q->home, c->pipeline, c->env, state, &de) < 0) {
		char back[41];
		cJSON *restore =
			deploy_restore_state(previous, c->pipeline, c->q->env, out->state_commit, err_msg(&de));
		struct buf rmsg = BUF_INIT;
		buf_addf(&rmsg, "rollback %s: deploy failed\n\n%s\n", c->q->env, err_msg(&de));
		ret = state_write(&c->sr, c->pipeline, c->q->env, restore, "mlci", rmsg.ptr, back, e);
		buf_release(&rmsg);
		if (!ret)
			ret = add_transition(c, restore, "rolled-back", "mlci", err_msg(&de), back, e);
		cJSON_Delete(restore);
		if (ret < 0)
			goto done;
		/* the previous state goes back onto the environment too, not only into the state repo */
		if (previous && deploy_hooks_for_state(c->q->home, c->pipeline, c->env, previous, &re) < 0)
			say(out, PROMOTE_FAILED,
			    "deploy to %s failed, rolled back (state %.12s): %s; redeploying the "
			    "previous state failed too: %s",
			    c->q->env, back, err_msg(&de), err_msg(&re));
		else
			say(out, PROMOTE_FAILED, "deploy to %s failed, rolled back (state %.12s)%s: %s", c->q->env,
			    back, previous ? " and redeployed the previous state" : "", err_msg(&de));
		memcpy(out->state_commit, back, sizeof(back));
		ret = 0;
		goto done;
	}
	say(out, PROMOTE_DONE, "%s", "done");
	ret = 0;
done:
	err_release(&de);
	err_release(&re);
	cJSON_Delete(previous);
	return ret;
}

static void set_meta(cJSON *s, const char *env, const char *rule, const char *actor, const struct strvec *approvals,
		     const char *reason)
{
	char when[32];
	cJSON *a;
	when_str(policy_now(), when, sizeof(when));
	cJSON_DeleteItemFromObjectCaseSensitive(s, "environment");
	cJSON_AddStringToObject(s, "environment", env);
	cJSON_DeleteItemFromObjectCaseSensitive(s, "deploy_failed");
	cJSON_DeleteItemFromObjectCaseSensitive(s, "rule");
	cJSON_AddStringToObject(s, "rule", rule);
	cJSON_DeleteItemFromObjectCaseSensitive(s, "promoted_by");
	cJSON_AddStringToObject(s, "promoted_by", actor);
	cJSON_DeleteItemFromObjectCaseSensitive(s, "approvals");
	a = cJSON_AddArrayToObject(s, "approvals");
	for (size_t i = 0; approvals && i < approvals->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(approvals->v[i]));
	cJSON_DeleteItemFromObjectCaseSensitive(s, "reason");
	if (reason)
		cJSON_AddStringToObject(s, "reason", reason);
	cJSON_DeleteItemFromObjectCaseSensitive(s, "promoted_at");
	cJSON_AddStringToObject(s, "promoted_at", when);
}

/* ---------- candidates from the store ---------- */

static int add_output(void *payload, const char *component, const char *name, const char *digest)
{
	struct buf k = BUF_INIT;
	buf_addf(&k, "%s/%s", component, name);
	cJSON_AddStringToObject((cJSON *)payload, k.ptr, digest);
	buf_release(&k);
	return 0;
}

/* The state a held candidate (promotions row) would have. */
static cJSON *state_of_candidate(struct cdx *c, const struct store_promotion *p, struct err *e)
{
	cJSON *s = cJSON_CreateObject(), *arts;
	char *art = NULL, *run = NULL;
	cJSON_AddStringToObject(s, "environment", p->environment);
	cJSON_AddStringToObject(s, "pipeline", p->pipeline);
	cJSON_AddStringToObject(s, "commit", p->commit_id);
	if (p->branch)
		cJSON_AddStringToObject(s, "branch", p->branch);
	cJSON_AddStringToObject(s, "run", p->run);
	if (p->model && p->version) {
		cJSON *m;
		if (store_model_artifact(&c->st, p->model, p->version, &art, &run, e) < 0) {
			cJSON_Delete(s);
			return NULL;
		}
		m = cJSON_AddObjectToObject(s, "model");
		cJSON_AddStringToObject(m, "name", p->model);
		cJSON_AddNumberToObject(m, "version", (double)p->version);
		cJSON_AddStringToObject(m, "artifact", art ? art : "");
	} else {
		cJSON_AddNullToObject(s, "model");
	}
	free(art);
	free(run);
	arts = cJSON_AddObjectToObject(s, "artifacts");
	if (store_run_outputs_each(&c->st, p->run, add_output, arts, e) < 0) {
		cJSON_Delete(s);
		return NULL;
	}
	return s;
}

/* Author and message of "commit" in the pipeline's repository (NULLs when unreadable). */
static void commit_facts(struct cdx *c, const char *commit, struct ws_commit *out)
{
	struct ws_source src;
	struct err e = ERR_INIT;
	memset(out, 0, sizeof(*out));
	memset(&src, 0, sizeof(src));
	if (!c->repo || ws_source_open(&src, c->q->home, c->repo, &e) < 0) {
		err_release(&e);
		return;
	}
	if (ws_resolve(&src, commit, NULL, out, &e) < 0) {
		ws_commit_release(out);
		memset(out, 0, sizeof(*out));
	}
	err_release(&e);
	ws_source_release(&src);
}

/* 1 when "actor" is the author of the commit (name, e-mail or the e-mail's local part). */
static int is_author(const struct ws_commit *wc, const char *actor)
{
	const char *at;
	if (wc->author_name && !strcasecmp(wc->author_name, actor))
		return 1;
	if (!wc->author_email)
		return 0;
	if (!strcasecmp(wc->author_email, actor))
		return 1;
	at = strchr(wc->author_email, '@');
	return at && strlen(actor) == (size_t)(at - wc->author_email) &&
	       !strncasecmp(wc->author_email, actor, (size_t)(at - wc->author_email));
}

/* Approvals of a candidate: trailers of its commit (semi only) and `mlci approve` rows, distinct. */
static int candidate_approvals(struct cdx *c, const char *model, int64_t version, const char *artifact,
			       const char *commit, struct strvec *out, struct err *e)
{
	if (c->env->promote == SPEC_PROMOTE_SEMI && commit) {
		struct ws_commit wc;
		commit_facts(c, commit, &wc);
		if (wc.message)
			approvals_from_trailers(wc.message, wc.author_name, wc.author_email, out);
		ws_commit_release(&wc);
	}
	if (model && version && artifact)
		return store_approvals_list(&c->st, c->pipeline, c->q->env, model, version, artifact, out, e);
	return 0;
}

struct find_pending {
	const char *pipeline;
	int64_t want_version; /* 0 = any */
	int64_t id;
	struct store_promotion p;
	char *model, *run, *commit, *branch, *env, *pl;
};

static int pick_pending(void *payload, const struct store_promotion *p)
{
	struct find_pending *f = payload;
	if (strcmp(p->pipeline, f->pipeline) || (f->want_version && p->version != f->want_version))
		return 0;
	f->p = *p;
	f->model = p->model ? xstrdup(p->model) : NULL;
	f->run = xstrdup(p->run);
	f->commit = xstrdup(p->commit_id);
	f->branch = p->branch ? xstrdup(p->branch) : NULL;
	f->env = xstrdup(p->environment);
	f->pl = xstrdup(p->pipeline);
	f->p.model = f->model;
	f->p.run = f->run;
	f->p.commit_id = f->commit;
	f->p.branch = f->branch;
	f->p.environment = f->env;
	f->p.pipeline = f->pl;
	f->p.waiting_for = NULL;
	f->p.status = NULL;
	f->p.state_commit = NULL;
	f->id = p->id;
	return 1; /* newest first: the first one is it */
}

static void find_pending_release(struct find_pending *f)
{
	free(f->model);
	free(f->run);
	free(f->commit);
	free(f->branch);
	free(f->env);
	free(f->pl);
}

/* Why the candidate is held (pin, freeze), into "why"; 0 when it is not. */
static int held(struct cdx *c, struct buf *why, struct err *e)
{
	struct store_pin pin;
	time_t until;
	int r = store_pin_get(&c->st, c->pipeline, c->q->env, &pin, e);
	if (r < 0)
		return -1;
	if (r) {
		buf_addf(why, "pinned by rollback %s (mlci unpin %s)", pin.actor, c->q->env);
		store_pin_release(&pin);
		return 1;
	}
	if (policy_frozen(&c->pol, c->env, policy_now(), &until)) {
		char w[32];
		when_str(until, w, sizeof(w));
		buf_addf(why, "freeze until %s", w);
		return 1;
	}
	return 0;
}

/* Release the newest held candidate (of model "version" when not 0) of an auto/semi environment when its
 * gates pass now. */
static int release_pending(struct cdx *c, int64_t version, struct promote_outcome *out, struct err *e)
{
	struct find_pending f;
	struct buf why = BUF_INIT, msg = BUF_INIT;
	struct strvec appr = STRVEC_INIT;
	cJSON *state = NULL;
	const char *artifact;
	int ret = -1, h;

	memset(&f, 0, sizeof(f));
	f.pipeline = c->pipeline;
	f.want_version = version;
	if (store_promotions_each(&c->st, c->q->env, "pending", pick_pending, &f, e) < 0)
		return -1;
	if (!f.id) {
		say(out, PROMOTE_NONE, "%s: no candidate is waiting", c->q->env);
		return 0;
	}
	out->environment = xstrdup(c->q->env);
	if ((h = held(c, &why, e)) < 0)
		goto done;
	if (h) {
		if (store_promotion_set(&c->st, f.id, "pending", why.ptr, NULL, e) < 0)
			goto done;
		say(out, PROMOTE_PENDING, "%s: %s@%lld still pending, waiting for %s", c->q->env,
		    f.model ? f.model : "-", (long long)f.p.version, why.ptr);
		ret = 0;
		goto done;
	}
	if (!(state = state_of_candidate(c, &f.p, e)))
		goto done;
	{
		/* already there (a crash after the state commit, before this row was updated): close the row */
		cJSON *cur = NULL;
		char tip[41];
		int same;
		if (state_read(&c->sr, c->pipeline, c->q->env, &cur, tip, e) < 0)
			goto done;
		same = cur && jstr(cur, "commit") && !strcmp(jstr(cur, "commit"), f.commit) &&
		       jversion(cur, NULL, NULL) == f.p.version;
		cJSON_Delete(cur);
		if (same) {
			if (store_promotion_set(&c->st, f.id, "promoted", NULL, NULL, e) < 0)
				goto done;
			say(out, PROMOTE_NONE, "%s already runs commit %.12s: nothing to release", c->q->env, f.commit);
			ret = 0;
			goto done;
		}
	}
	jversion(state, NULL, &artifact);
	if (candidate_approvals(c, f.model, f.p.version, artifact, f.commit, &appr, e) < 0)
		goto done;
	if (c->env->promote == SPEC_PROMOTE_SEMI && (int64_t)appr.n < c->env->approvals) {
		buf_addf(&why, "approvals %zu/%lld", appr.n, (long long)c->env->approvals);
		if (store_promotion_set(&c->st, f.id, "pending", why.ptr, NULL, e) < 0)
			goto done;
		say(out, PROMOTE_PENDING, "%s: pending, waiting for %s", c->q->env, why.ptr);
		ret = 0;
		goto done;
	}
	if (cdx_lock(c, e) < 0)
		goto done;
	set_meta(state, c->q->env, c->env->promote == SPEC_PROMOTE_AUTO ? "auto" : "semi", c->q->actor, &appr,
		 c->q->reason);
	buf_addf(&msg, "promote %s to %s", c->pipeline, c->q->env);
	if (f.model)
		buf_addf(&msg, ": %s@%lld", f.model, (long long)f.p.version);
	buf_addf(&msg, "\n\nRule: %s (held candidate released)\nRun: %s\nCommit: %s\n",
		 c->env->promote == SPEC_PROMOTE_AUTO ? "auto" : "semi", f.run, f.commit);
	for (size_t i = 0; i < appr.n; i++)
		buf_addf(&msg, "Approved-by: %s\n", appr.v[i]);
	if (apply_state(c, state, msg.ptr, c->q->env, "held candidate released", out, e) < 0)
		goto done;
	if (store_promotion_set(&c->st, f.id, out->action == PROMOTE_DONE ? "promoted" : "failed", NULL,
				out->state_commit, e) < 0)
		goto done;
	if (out->action == PROMOTE_DONE)
		say(out, PROMOTE_DONE, "released: %s@%lld promoted to %s (state %.12s)", f.model ? f.model : "-",
		    (long long)f.p.version, c->q->env, out->state_commit);
	ret = 0;
done:
	cJSON_Delete(state);
	strvec_clear(&appr);
	buf_release(&why);
	buf_release(&msg);
	find_pending_release(&f);
	return ret;
}

/* ---------- manual promotion ---------- */

struct count_runs {
	const struct spec_environment *from;
	int n;
};

static int count_run(void *payload, const char *run, const char *branch)
{
	struct count_runs *cr = payload;
	(void)run;
	if (!cr->from->branches.n) {
		cr->n++;
		return 0;
	}
	if (branch)
		for (size_t i = 0; i < cr->from->branches.n; i++)
			if (fnmatch(cr->from->branches.items[i], branch, 0) == 0) {
				cr->n++;
				break;
			}
	return 0;
}

static int add_candidate_row(struct cdx *c, const cJSON *st, const char *status, const char *waiting,
			     const char *state_commit, struct err *e)
{
	struct store_promotion p;
	const char *model;
	memset(&p, 0, sizeof(p));
	p.pipeline = c->pipeline;
	p.environment = c->q->env;
	p.version = jversion(st, &model, NULL);
	p.model = model;
	p.run = jstr(st, "run") ? jstr(st, "run") : "";
	p.commit_id = jstr(st, "commit") ? jstr(st, "commit") : "";
	p.branch = jstr(st, "branch");
	p.status = status;
	p.waiting_for = waiting;
	p.state_commit = state_commit;
	p.keep_pending = !policy_supersede(c->env);
	{
		/* the same candidate asked again: update its row rather than add another */
		struct find_pending f;
		int r = 0;
		memset(&f, 0, sizeof(f));
		f.pipeline = c->pipeline;
		if (store_promotions_each(&c->st, c->q->env, "pending", pick_pending, &f, e) < 0)
			return -1;
		if (f.id && f.p.version == p.version && !strcmp(f.commit, p.commit_id)) {
			r = store_promotion_set(&c->st, f.id, status, waiting, state_commit, e);
			find_pending_release(&f);
			return r;
		}
		find_pending_release(&f);
	}
	return store_promotion_add(&c->st, &p, NULL, e);
}

static int promote_manual(struct cdx *c, struct promote_outcome *out, struct err *e)
{
	const struct spec_environment *env = c->env, *from;
	const struct cd_request *q = c->q;
	cJSON *src = NULL, *cur = NULL, *state = NULL;
	const char *model, *artifact;
	int64_t version;
	struct strvec appr = STRVEC_INIT;
	struct buf b = BUF_INIT, msg = BUF_INIT;
	struct count_runs cr;
	int ret = -1, h;

	if (!policy_is_approver(&c->pol, env, q->actor)) {
		policy_describe_approvers(&c->pol, env, &b);
		err_set(e, MLCI_EFAILED,
			"refused: %s is not an approver of %s (rule manual; approvers: %s; policy from %s)", q->actor,
			q->env, b.len ? b.ptr : "none", c->pol.source);
		goto done;
	}
	if (!env->from) {
		err_set(e, MLCI_EFAILED, "refused: %s has no \"from\" environment to promote from", q->env);
		goto done;
	}
	from = policy_env(&c->pol, env->from);
	if (state_read(&c->sr, c->pipeline, env->from, &src, NULL, e) < 0)
		goto done;
	version = jversion(src, &model, &artifact);
	if (!src || !version || !model || !artifact) {
		err_set(e, MLCI_EFAILED, "refused: %s has no model version to promote (nothing in %s)", env->from,
			env->from);
		goto done;
	}
	if (strcmp(jstr(src, "pipeline") ? jstr(src, "pipeline") : "", c->pipeline)) {
		err_set(e, MLCI_EFAILED, "refused: %s runs pipeline %s, not %s", env->from, jstr(src, "pipeline"),
			c->pipeline);
		goto done;
	}
	if (q->version && q->version != version) {
		err_set(e, MLCI_EFAILED, "refused: %s@%lld is not in %s (%s runs %s@%lld)", model,
			(long long)q->version, env->from, env->from, model, (long long)version);
		goto done;
	}
	memset(&cr, 0, sizeof(cr));
	cr.from = from;
	if (from && store_runs_with_output(&c->st, c->pipeline, artifact, count_run, &cr, e) < 0)
		goto done;
	if (cr.n < env->min_staging_runs) {
		err_set(e, MLCI_EFAILED,
			"refused: %s@%lld has %d passed run%s in %s, min_staging_runs is %lld (rule manual for %s)",
			model, (long long)version, cr.n, cr.n == 1 ? "" : "s", env->from,
			(long long)env->min_staging_runs, q->env);
		goto done;
	}
	if (state_read(&c->sr, c->pipeline, q->env, &cur, NULL, e) < 0)
		goto done;
	if (cur && jversion(cur, NULL, NULL) == version && jstr(cur, "commit") && jstr(src, "commit") &&
	    !strcmp(jstr(cur, "commit"), jstr(src, "commit"))) {
		out->environment = xstrdup(q->env);
		say(out, PROMOTE_NONE, "%s already runs %s@%lld: nothing to promote", q->env, model,
		    (long long)version);
		ret = 0;
		goto done;
	}
	{
		struct store_pin pin;
		int r = store_pin_get(&c->st, c->pipeline, q->env, &pin, e);
		if (r < 0)
			goto done;
		if (r) {
			err_set(e, MLCI_EFAILED, "refused: %s is pinned by rollback %s (mlci unpin %s first)", q->env,
				pin.actor, q->env);
			store_pin_release(&pin);
			goto done;
		}
	}
	out->environment = xstrdup(q->env);
	if (candidate_approvals(c, model, version, artifact, NULL, &appr, e) < 0)
		goto done;
	buf_reset(&b);
	if ((int64_t)appr.n < env->approvals)
		buf_addf(&b, "approvals %zu/%lld", appr.n, (long long)env->approvals);
	{
		time_t until;
		if (policy_frozen(&c->pol, env, policy_now(), &until)) {
			char w[32];
			when_str(until, w, sizeof(w));
			buf_addf(&b, "%sfreeze until %s", b.len ? ", " : "", w);
		}
	}
	if (b.len) {
		if (add_candidate_row(c, src, "pending", b.ptr, NULL, e) < 0)
			goto done;
		say(out, PROMOTE_PENDING, "%s: %s@%lld not promoted yet, pending: waiting for %s", q->env, model,
		    (long long)version, b.ptr);
		ret = 0;
		goto done;
	}
	if ((h = cdx_lock(c, e)) < 0)
		goto done;
	/* someone may have promoted it while we waited for the lock */
	cJSON_Delete(cur);
	cur = NULL;
	if (state_read(&c->sr, c->pipeline, q->env, &cur, NULL, e) < 0)
		goto done;
	if (cur && jversion(cur, NULL, NULL) == version && jstr(cur, "commit") && jstr(src, "commit") &&
	    !strcmp(jstr(cur, "commit"), jstr(src, "commit"))) {
		say(out, PROMOTE_NONE, "%s already runs %s@%lld: nothing to promote", q->env, model,
		    (long long)version);
		ret = 0;
		goto done;
	}
	state = cJSON_Duplicate(src, 1);
	set_meta(state, q->env, "manual", q->actor, &appr, q->reason);
	buf_addf(&msg, "promote %s to %s: %s@%lld\n\nRule: manual (from %s, %d passed run%s there)\n", c->pipeline,
		 q->env, model, (long long)version, env->from, cr.n, cr.n == 1 ? "" : "s");
	if (q->reason)
		buf_addf(&msg, "Reason: %s\n", q->reason);
	buf_addf(&msg, "Run: %s\nCommit: %s\nPromoted-by: %s\n", jstr(src, "run") ? jstr(src, "run") : "-",
		 jstr(src, "commit") ? jstr(src, "commit") : "-", q->actor);
	for (size_t i = 0; i < appr.n; i++)
		buf_addf(&msg, "Approved-by: %s\n", appr.v[i]);
	if (apply_state(c, state, msg.ptr, q->env, q->reason ? q->reason : "manual promotion", out, e) < 0)
		goto done;
	if (add_candidate_row(c, src, out->action == PROMOTE_DONE ? "promoted" : "failed", NULL, out->state_commit, e) <
	    0)
		goto done;
	if (out->action == PROMOTE_DONE) {
		struct buf by = BUF_INIT;
		for (size_t k = 0; k < appr.n; k++)
			buf_addf(&by, "%s%s", k ? ", " : ", approved by ", appr.v[k]);
		say(out, PROMOTE_DONE, "promoted %s@%lld to %s (state %.12s, by %s%s)", model, (long long)version,
		    q->env, out->state_commit, q->actor, by.len ? by.ptr : "");
		buf_release(&by);
	}
	ret = 0;
done:
	cJSON_Delete(src);
	cJSON_Delete(cur);
	cJSON_Delete(state);
	strvec_clear(&appr);
	buf_release(&b);
	buf_release(&msg);
	return ret;
}

int cd_promote(const struct cd_request *q, struct promote_outcome *out, struct err *e)
{
	struct cdx c;
	int ret = -1;
	memset(out, 0, sizeof(*out));
	if (!q->pipeline)
		return err_set(e, MLCI_EUSAGE, "name the pipeline to promote");
	if (cdx_open(&c, q, e) == 0)
		ret = c.env->promote == SPEC_PROMOTE_MANUAL ? promote_manual(&c, out, e)
							    : release_pending(&c, 0, out, e);
	cdx_release(&c);
	return ret;
}

/* ---------- approve ---------- */

int cd_approve(const struct cd_request *q, struct promote_outcome *out, struct err *e)
{
	struct cdx c;
	char *artifact = NULL, *run = NULL, *repo = NULL, *commit = NULL, *branch = NULL;
	const char *model = NULL;
	cJSON *src = NULL;
	struct ws_commit wc;
	struct strvec appr = STRVEC_INIT;
	struct buf b = BUF_INIT;
	int ret = -1, r;

	memset(out, 0, sizeof(*out));
	memset(&wc, 0, sizeof(wc));
	if (cdx_open(&c, q, e) < 0)
		goto done;
	if (c.env->promote == SPEC_PROMOTE_AUTO) {
		err_set(e, MLCI_EUSAGE, "%s promotes automatically (rule auto): there is nothing to approve", q->env);
		goto done;
	}
	/* the candidate: the model version, its digest and the commit that made it */
	if (c.env->promote == SPEC_PROMOTE_MANUAL && c.env->from) {
		if (state_read(&c.sr, c.pipeline, c.env->from, &src, NULL, e) < 0)
			goto done;
		if (jversion(src, &model, NULL) != q->version) {
			err_set(e, MLCI_EFAILED, "refused: version %lld is not the candidate for %s (it is not in %s)",
				(long long)q->version, q->env, c.env->from);
			goto done;
		}
	} else {
		struct find_pending f;
		memset(&f, 0, sizeof(f));
		f.pipeline = c.pipeline;
		f.want_version = q->version;
		if (store_promotions_each(&c.st, q->env, "pending", pick_pending, &f, e) < 0)
			goto done;
		if (!f.id || f.p.version != q->version || !f.model) {
			err_set(e, MLCI_EFAILED, "refused: version %lld is not a pending candidate for %s",
				(long long)q->version, q->env);
			find_pending_release(&f);
			goto done;
		}
		src = cJSON_CreateObject();
		cJSON_AddStringToObject(cJSON_AddObjectToObject(src, "model"), "name", f.model);
		jversion(src, &model, NULL);
		find_pending_release(&f);
	}
	r = store_model_artifact(&c.st, model, q->version, &artifact, &run, e);
	if (r <= 0) {
		if (!r)
			err_set(e, MLCI_EUSAGE, "unknown model version %s@%lld", model, (long long)q->version);
		goto done;
	}
	if (store_run_source(&c.st, run, &repo, &commit, &branch, e) < 0)
		goto done;
	if (commit)
		commit_facts(&c, commit, &wc);
	if (commit && !wc.author_name) {
		err_set(e, MLCI_EINFRA, "cannot read commit %.12s to check who wrote it", commit);
		goto done;
	}
	if (is_author(&wc, q->actor)) {
		err_set(e, MLCI_EFAILED,
			"refused: %s wrote commit %.12s (%s <%s>) of %s@%lld; self-approval does not count", q->actor,
			commit, wc.author_name, wc.author_email ? wc.author_email : "", model, (long long)q->version);
		goto done;
	}
	if (c.env->approvers.n && !policy_is_approver(&c.pol, c.env, q->actor)) {
		policy_describe_approvers(&c.pol, c.env, &b);
		err_set(e, MLCI_EFAILED, "refused: %s is not an approver of %s (approvers: %s; policy from %s)",
			q->actor, q->env, b.ptr, c.pol.source);
		goto done;
	}
	r = store_approval_add(&c.st, c.pipeline, q->env, model, q->version, artifact, q->actor, e);
	if (r < 0)
		goto done;
	if (candidate_approvals(&c, model, q->version, artifact, commit, &appr, e) < 0)
		goto done;
	out->environment = xstrdup(q->env);
	buf_reset(&b);
	if (c.env->approvals)
		buf_addf(&b, "approvals %zu/%lld", appr.n, (long long)c.env->approvals);
	else
		buf_addf(&b, "%zu approval%s (none required)", appr.n, appr.n == 1 ? "" : "s");
	say(out, PROMOTE_NONE, "%s %s %s@%lld for %s (artifact %.12s): %s", q->actor,
	    r ? "approved" : "had already approved (counted once)", model, (long long)q->version, q->env, artifact,
	    b.ptr);
	if (c.env->promote == SPEC_PROMOTE_SEMI) {
		struct promote_outcome rel;
		memset(&rel, 0, sizeof(rel));
		if (release_pending(&c, q->version, &rel, e) < 0) {
			promote_outcome_release(&rel);
			goto done;
		}
		if (rel.action != PROMOTE_NONE) {
			char *d = out->detail;
			out->detail = NULL;
			say(out, rel.action, "%s; %s", d, rel.detail);
			memcpy(out->state_commit, rel.state_commit, sizeof(rel.state_commit));
			free(d);
		}
		promote_outcome_release(&rel);
	}
	ret = 0;
done:
	cJSON_Delete(src);
	ws_commit_release(&wc);
	strvec_clear(&appr);
	buf_release(&b);
	free(artifact);
	free(run);
	free(repo);
	free(commit);
	free(branch);
	cdx_release(&c);
	return ret;
}

/* ---------- rollback, unpin ---------- */

int cd_rollback(const struct cd_request *q, struct promote_outcome *out, struct err *e)
{
	struct cdx c;
	struct rec_list l = { NULL, 0, 0 };
	cJSON *state = NULL;
	const cJSON *target = NULL;
	const char *model;
	int64_t cur_v;
	const char *cur_commit;
	struct buf msg = BUF_INIT;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (cdx_open(&c, q, e) < 0)
		goto done;
	if (state_log(&c.sr, c.pipeline, q->env, rec_add, &l, e) < 0)
		goto done;
	if (!l.n || !l.v[0].state) {
		err_set(e, MLCI_EFAILED, "refused: %s has no state to roll back", q->env);
		goto done;
	}
	cur_v = jversion(l.v[0].state, NULL, NULL);
	cur_commit = jstr(l.v[0].state, "commit");
	for (size_t i = 1; i < l.n && !target; i++) {
		const cJSON *s = l.v[i].state;
		int64_t v = jversion(s, NULL, NULL);
		/* a state whose deploy failed (the next commit restored its predecessor) never ran */
		if (!s || !v || cJSON_GetObjectItemCaseSensitive(l.v[i - 1].state, "deploy_failed"))
			continue;
		if (q->version ? v == q->version
			       : (v != cur_v || !cur_commit || !jstr(s, "commit") ||
				  strcmp(jstr(s, "commit"), cur_commit)))
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
	if (cdx_lock(&c, e) < 0)
		goto done;
	out->environment = xstrdup(q->env);
	state = cJSON_Duplicate(target, 1);
	set_meta(state, q->env, "rollback", q->actor, NULL, q->reason);
	cJSON_AddNumberToObject(state, "rolled_back_from", (double)cur_v);
	jversion(state, &model, NULL);
	buf_addf(&msg, "rollback %s to %s@%lld (from version %lld)\n\nRule: rollback by %s\n", q->env,
		 model ? model : "-", (long long)jversion(state, NULL, NULL), (long long)cur_v, q->actor);
	if (q->reason)
		buf_addf(&msg, "Reason: %s\n", q->reason);
	buf_addf(&msg, "Run: %s\nCommit: %s\nPinned: yes (mlci unpin %s)\n",
		 jstr(state, "run") ? jstr(state, "run") : "-", jstr(state, "commit") ? jstr(state, "commit") : "-",
		 q->env);
	if (apply_state(&c, state, msg.ptr, "rolled-back", q->reason ? q->reason : "rollback", out, e) < 0)
		goto done;
	if (out->action == PROMOTE_DONE) {
		struct store_pin pin;
		memset(&pin, 0, sizeof(pin));
		snprintf(pin.pipeline, sizeof(pin.pipeline), "%s", c.pipeline);
		snprintf(pin.environment, sizeof(pin.environment), "%s", q->env);
		snprintf(pin.actor, sizeof(pin.actor), "%s", q->actor);
		pin.model = (char *)(uintptr_t)model;
		pin.version = jversion(state, NULL, NULL);
		pin.reason = (char *)(uintptr_t)(q->reason ? q->reason : "rollback");
		memcpy(pin.state_commit, out->state_commit, sizeof(pin.state_commit));
		pin.time_ms = (int64_t)policy_now() * 1000;
		if (store_pin_set(&c.st, &pin, e) < 0)
			goto done;
		say(out, PROMOTE_DONE, "rolled %s back to %s@%lld (state %.12s); pinned until mlci unpin %s", q->env,
		    model ? model : "-", (long long)pin.version, out->state_commit, q->env);
	}
	ret = 0;
done:
	cJSON_Delete(state);
	rec_release(&l);
	buf_release(&msg);
	cdx_release(&c);
	return ret;
}

int cd_unpin(const struct cd_request *q, struct promote_outcome *out, struct err *e)
{
	struct cdx c;
	int removed = 0, ret = -1;
	memset(out, 0, sizeof(*out));
	if (cdx_open(&c, q, e) < 0)
		goto done;
	if (store_pin_remove(&c.st, c.pipeline, q->env, &removed, e) < 0)
		goto done;
	if (!removed) {
		out->environment = xstrdup(q->env);
		say(out, PROMOTE_NONE, "%s was not pinned", q->env);
		ret = 0;
		goto done;
	}
	if (c.env->promote != SPEC_PROMOTE_MANUAL) {
		if (release_pending(&c, 0, out, e) < 0)
			goto done;
		{
			char *d = out->detail;
			out->detail = NULL;
			say(out, out->action, "unpinned %s; %s", q->env, d ? d : "");
			free(d);
		}
	} else {
		if (!out->environment)
			out->environment = xstrdup(q->env);
		say(out, PROMOTE_NONE, "unpinned %s", q->env);
	}
	ret = 0;
done:
	cdx_release(&c);
	return ret;
}
