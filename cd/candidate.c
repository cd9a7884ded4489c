/* candidate.c - the facts about a promotion candidate that the gates ask (cd/candidate.h): its state,
 * approvals, author, rejection, pending row. It must not decide a promotion or print. */
#include "cd/candidate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cd/approvals.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "registry/store_gates.h"
#include "registry/store_review.h"
#include "common/banned.h"

void cd_state_begin(struct env_state *out, const char *env, const char *pipeline, const char *run, const char *commit,
		    const char *branch, const char *model, int64_t version, const char *artifact)
{
	env_state_init(out);
	env_state_set(&out->environment, env);
	env_state_set(&out->pipeline, pipeline);
	env_state_set(&out->commit, commit);
	env_state_set(&out->branch, branch);
	env_state_set(&out->run, run);
	if (model && version) {
		env_state_set(&out->model_name, model);
		out->model_version = version;
		env_state_set(&out->model_artifact, artifact ? artifact : "");
	}
}

void cd_state_from_record(struct env_state *out, const struct run_record *rec, const char *env)
{
	cd_state_begin(out, env, rec->pipeline, rec->id, rec->commit, rec->branch, rec->model, rec->model_version,
		       rec->model_digest);
	for (size_t i = 0; i < rec->n_outputs; i++) {
		struct buf k = BUF_INIT;
		buf_addf(&k, "%s/%s", rec->outputs[i].component, rec->outputs[i].name);
		env_state_add_artifact(out, k.ptr, rec->outputs[i].digest);
		buf_release(&k);
	}
}

static int add_output(void *payload, const char *component, const char *name, const char *digest)
{
	struct buf k = BUF_INIT;
	buf_addf(&k, "%s/%s", component, name);
	env_state_add_artifact(payload, k.ptr, digest);
	buf_release(&k);
	return 0;
}

int cd_state_from_row(struct env_state *out, struct store *st, const struct store_promotion *p, struct err *e)
{
	char *art = NULL, *run = NULL;
	if (p->model && p->version && store_model_artifact(st, p->model, p->version, &art, &run, e) < 0)
		return -1;
	cd_state_begin(out, p->environment, p->pipeline, p->run, p->commit_id, p->branch, p->model, p->version, art);
	free(art);
	free(run);
	if (store_run_outputs_each(st, p->run, add_output, out, e) < 0) {
		env_state_release(out);
		return -1;
	}
	return 0;
}

void cd_state_stamp(struct env_state *s, const char *env, const char *rule, const char *actor,
		    const struct strvec *approvals, const char *reason)
{
	env_state_set(&s->environment, env);
	env_state_set(&s->rule, rule);
	env_state_set(&s->promoted_by, actor);
	strvec_clear(&s->approvals);
	for (size_t i = 0; approvals && i < approvals->n; i++)
		strvec_push(&s->approvals, approvals->v[i]);
	env_state_set(&s->reason, reason);
	env_state_set(&s->promoted_at, NULL);
	env_state_set(&s->failed_commit, NULL);
	env_state_set(&s->failed_reason, NULL);
	env_state_set(&s->override_gate, NULL);
	env_state_set(&s->override_by, NULL);
	env_state_set(&s->override_reason, NULL);
	env_state_set(&s->note, NULL);
	s->rolled_back_from = 0;
	verdicts_release(&s->gates);
}

/* ---------- pending rows ---------- */

struct find {
	const char *pipeline;
	int64_t version;
	struct cd_pending *out;
	int found;
};

static char *dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int pick(void *payload, const struct store_promotion *p)
{
	struct find *f = payload;
	struct cd_pending *o = f->out;
	if (strcmp(p->pipeline, f->pipeline) || (f->version && p->version != f->version))
		return 0;
	o->p = *p;
	o->pipeline = dup(p->pipeline);
	o->env = dup(p->environment);
	o->model = dup(p->model);
	o->run = dup(p->run);
	o->commit = dup(p->commit_id);
	o->branch = dup(p->branch);
	o->p.pipeline = o->pipeline;
	o->p.environment = o->env;
	o->p.model = o->model;
	o->p.run = o->run;
	o->p.commit_id = o->commit;
	o->p.branch = o->branch;
	o->p.status = NULL;
	o->p.waiting_for = NULL;
	o->p.state_commit = NULL;
	o->p.evidence = NULL;
	f->found = 1;
	return 1; /* newest first: the first one is it */
}

int cd_pending_find(struct store *st, const char *pipeline, const char *env, int64_t version, struct cd_pending *out,
		    struct err *e)
{
	struct find f;
	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	f.pipeline = pipeline;
	f.version = version;
	f.out = out;
	if (store_promotions_each(st, env, "pending", pick, &f, e) < 0)
		return -1;
	return f.found;
}

void cd_pending_release(struct cd_pending *p)
{
	free(p->pipeline);
	free(p->env);
	free(p->model);
	free(p->run);
	free(p->commit);
	free(p->branch);
	memset(p, 0, sizeof(*p));
}

/* ---------- people ---------- */

void cd_commit_facts(struct cd_session *s, const char *commit, struct ws_commit *out)
{
	struct ws_source src;
	struct err e = ERR_INIT;
	memset(out, 0, sizeof(*out));
	memset(&src, 0, sizeof(src));
	if (!s->repo || ws_source_open(&src, s->home, s->repo, &e) < 0) {
		ws_source_release(&src);
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

int cd_is_author(const char *author_name, const char *author_email, const char *actor)
{
	const char *at;
	if (author_name && !strcasecmp(author_name, actor))
		return 1;
	if (!author_email)
		return 0;
	if (!strcasecmp(author_email, actor))
		return 1;
	at = strchr(author_email, '@');
	return at && strlen(actor) == (size_t)(at - author_email) &&
	       !strncasecmp(author_email, actor, (size_t)(at - author_email));
}

int cd_candidate_approvals(struct store *st, const struct spec_environment *env, const char *pipeline,
			   const char *model, int64_t version, const char *artifact, const char *message,
			   const char *author_name, const char *author_email, struct strvec *out, struct err *e)
{
	if (env->promote == SPEC_PROMOTE_SEMI && message)
		approvals_from_trailers(message, author_name, author_email, out);
	if (model && version && artifact)
		return store_approvals_list(st, pipeline, env->name, model, version, artifact, out, e);
	return 0;
}

int cd_rejected(struct store *st, const char *pipeline, const char *env, const char *artifact, struct buf *why,
		struct err *e)
{
	struct store_rejection r;
	int rc;
	if (!artifact || !*artifact)
		return 0;
	rc = store_rejection_get(st, pipeline, env, artifact, &r, e);
	if (rc == 1)
		buf_addf(why, "rejected by %s: %s", r.approver, r.reason);
	store_rejection_release(&r);
	return rc;
}
