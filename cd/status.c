/* status.c - environments' current state and history from the state repo, pending promotions and pins
 * from the store, soak times from the policy (cd/status.h). It must not create a state repo or a store
 * just to report that there is none, and never prints (an unreachable remote is a logged warning). */
#include "cd/status.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd/session.h"
#include "common/alloc.h"
#include "common/fs.h"
#include "common/path.h"
#include "registry/store.h"
#include "registry/store_gates.h"
#include "registry/store_promotions.h"
#include "common/banned.h"

static char *dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void status_report_release(struct status_report *r)
{
	for (size_t i = 0; i < r->n_envs; i++) {
		free(r->envs[i].pipeline);
		free(r->envs[i].environment);
		env_state_release(&r->envs[i].state);
	}
	free(r->envs);
	for (size_t i = 0; i < r->n_pending; i++) {
		struct status_pending *p = &r->pending[i];
		free(p->environment);
		free(p->pipeline);
		free(p->model);
		free(p->run);
		free(p->commit);
		free(p->branch);
		free(p->waiting_for);
	}
	free(r->pending);
	for (size_t i = 0; i < r->n_pins; i++) {
		struct status_pin *p = &r->pins[i];
		free(p->environment);
		free(p->pipeline);
		free(p->model);
		free(p->by);
		free(p->reason);
	}
	free(r->pins);
	for (size_t i = 0; i < r->n_soak; i++) {
		free(r->soak[i].pipeline);
		free(r->soak[i].environment);
		free(r->soak[i].from);
		free(r->soak[i].model);
	}
	free(r->soak);
	memset(r, 0, sizeof(*r));
}

/* ---------- from the store ---------- */

struct rows {
	struct status_report *r;
	const char *pipeline; /* NULL = any */
};

static int add_pending(void *payload, const struct store_promotion *p)
{
	struct rows *rows = payload;
	struct status_report *r = rows->r;
	struct status_pending *o;
	if (rows->pipeline && strcmp(rows->pipeline, p->pipeline))
		return 0;
	r->pending = xrealloc(r->pending, (r->n_pending + 1) * sizeof(*r->pending));
	o = &r->pending[r->n_pending++];
	memset(o, 0, sizeof(*o));
	o->environment = dup(p->environment);
	o->pipeline = dup(p->pipeline);
	o->model = dup(p->model);
	o->version = p->model ? p->version : 0;
	o->run = dup(p->run);
	o->commit = dup(p->commit_id);
	o->branch = dup(p->branch);
	o->waiting_for = dup(p->waiting_for);
	o->since_ms = p->created_ms;
	return 0;
}

static int add_pin(void *payload, const struct store_pin *p)
{
	struct rows *rows = payload;
	struct status_report *r = rows->r;
	struct status_pin *o;
	if (rows->pipeline && strcmp(rows->pipeline, p->pipeline))
		return 0;
	r->pins = xrealloc(r->pins, (r->n_pins + 1) * sizeof(*r->pins));
	o = &r->pins[r->n_pins++];
	memset(o, 0, sizeof(*o));
	o->environment = dup(p->environment);
	o->pipeline = dup(p->pipeline);
	o->model = dup(p->model);
	o->version = p->model ? p->version : 0;
	o->by = dup(p->actor);
	o->reason = dup(p->reason);
	memcpy(o->state_commit, p->state_commit, sizeof(o->state_commit));
	o->since_ms = p->time_ms;
	return 0;
}

/* ---------- from the state repo ---------- */

struct at_find {
	long long at;
	char commit[41];
	struct env_state state;
	int found, has;
};

/* state_log goes newest first: the first commit not after "at" is the state then. */
static int find_at(void *payload, const char *commit, long long time, const struct env_state *state)
{
	struct at_find *f = payload;
	if (time > f->at)
		return 0;
	f->found = 1;
	snprintf(f->commit, sizeof(f->commit), "%s", commit);
	if (state)
		env_state_copy(&f->state, state);
	f->has = state != NULL;
	return 1;
}

static struct status_env *add_env(struct status_report *r, const char *pipeline, const char *env)
{
	struct status_env *o;
	r->envs = xrealloc(r->envs, (r->n_envs + 1) * sizeof(*r->envs));
	o = &r->envs[r->n_envs++];
	memset(o, 0, sizeof(*o));
	o->pipeline = xstrdup(pipeline);
	o->environment = xstrdup(env);
	env_state_init(&o->state);
	return o;
}

/* When the version "from" runs entered it: the oldest consecutive state with the same artifact. */
struct entry {
	int64_t version;
	const char *artifact;
	long long time;
};

static int walk_entry(void *payload, const char *commit, long long time, const struct env_state *st)
{
	struct entry *en = payload;
	(void)commit;
	if (!st || st->model_version != en->version || !st->model_artifact || strcmp(st->model_artifact, en->artifact))
		return 1;
	en->time = time;
	return 0;
}

/* For each manual environment with min_soak: its candidate in "from", and how long it must still soak. */
static int add_soak(struct cd_session *s, struct state_repo *sr, struct status_report *r, const char *pipeline,
		    struct err *e)
{
	const struct policy *pol;
	if (cd_session_policy(s, &pol, e) < 0)
		return -1;
	for (size_t i = 0; pol->spec && i < pol->spec->n_environments; i++) {
		const struct spec_environment *env = &pol->spec->environments[i];
		struct env_state from, cur;
		struct entry en;
		int hf, hc;
		if (env->promote != SPEC_PROMOTE_MANUAL || !env->from || !env->min_soak_ms)
			continue;
		hf = state_read(sr, pipeline, env->from, &from, NULL, e);
		hc = hf < 0 ? -1 : state_read(sr, pipeline, env->name, &cur, NULL, e);
		if (hf < 0 || hc < 0) {
			env_state_release(&from);
			return -1;
		}
		if (hf > 0 && from.model_version && from.model_artifact &&
		    !(hc > 0 && cur.model_version == from.model_version)) {
			memset(&en, 0, sizeof(en));
			en.version = from.model_version;
			en.artifact = from.model_artifact;
			if (state_log(sr, pipeline, env->from, walk_entry, &en, e) < 0) {
				env_state_release(&from);
				env_state_release(&cur);
				return -1;
			}
			if (en.time) {
				struct status_soak *o;
				int64_t in_ms = ((int64_t)policy_now() - en.time) * 1000;
				r->soak = xrealloc(r->soak, (r->n_soak + 1) * sizeof(*r->soak));
				o = &r->soak[r->n_soak++];
				o->pipeline = xstrdup(pipeline);
				o->environment = xstrdup(env->name);
				o->from = xstrdup(env->from);
				o->model = dup(from.model_name);
				o->version = from.model_version;
				o->since_ms = (int64_t)en.time * 1000;
				o->left_ms = env->min_soak_ms > in_ms ? env->min_soak_ms - in_ms : 0;
			}
		}
		env_state_release(&from);
		env_state_release(&cur);
	}
	return 0;
}

int status_collect(const char *home, const char *pipeline, long long at, struct status_report *out, struct err *e)
{
	struct cd_session s;
	char *db = path_join(home, "mlci.db");
	struct strvec names = STRVEC_INIT, pipes = STRVEC_INIT;
	int has_db = fs_is_file(db), ret = -1, has;

	memset(out, 0, sizeof(*out));
	out->at = at;
	free(db);
	cd_session_init(&s, home, NULL, NULL);
	has = cd_session_has_state(&s, e);
	if (has < 0)
		goto done;
	if (has) {
		struct state_repo *sr;
		if (cd_session_state(&s, 1, &sr, e) < 0 || state_list(sr, &pipes, &names, e) < 0)
			goto done;
		for (size_t i = 0; i < names.n; i++) {
			struct status_env *o;
			if (pipeline && strcmp(pipeline, pipes.v[i]))
				continue;
			if (at > 0) {
				struct at_find f;
				memset(&f, 0, sizeof(f));
				env_state_init(&f.state);
				f.at = at;
				if (state_log(sr, pipes.v[i], names.v[i], find_at, &f, e) < 0) {
					env_state_release(&f.state);
					goto done;
				}
				if (!f.found) {
					env_state_release(&f.state);
					continue;
				}
				o = add_env(out, pipes.v[i], names.v[i]);
				o->state = f.state;
				o->has_state = f.has;
				memcpy(o->state_commit, f.commit, sizeof(o->state_commit));
				continue;
			}
			o = add_env(out, pipes.v[i], names.v[i]);
			o->has_state = state_read(sr, pipes.v[i], names.v[i], &o->state, o->state_commit, e);
			if (o->has_state < 0)
				goto done;
		}
	}
	if (has_db && at <= 0) {
		struct store *st;
		struct rows rows = { out, pipeline };
		if (cd_session_store(&s, &st, e) < 0)
			goto done;
		if (store_promotions_each(st, NULL, "pending", add_pending, &rows, e) < 0 ||
		    store_pins_each(st, add_pin, &rows, e) < 0)
			goto done;
		/* soak times need each pipeline's policy (its repository as last fetched) */
		for (size_t i = 0; has && i < pipes.n; i++) {
			struct state_repo *sr;
			char *repo = NULL;
			if ((pipeline && strcmp(pipeline, pipes.v[i])) || (i && !strcmp(pipes.v[i], pipes.v[i - 1])))
				continue;
			if (store_pipeline_repo(st, pipes.v[i], &repo, e) < 0)
				goto done;
			cd_session_set_repo(&s, repo, 0);
			free(repo);
			if (cd_session_state(&s, 1, &sr, e) < 0 || add_soak(&s, sr, out, pipes.v[i], e) < 0)
				goto done;
		}
	}
	ret = 0;
done:
	if (ret < 0)
		status_report_release(out);
	strvec_clear(&names);
	strvec_clear(&pipes);
	cd_session_release(&s);
	return ret;
}

cJSON *status_report_to_json(const struct status_report *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *envs = cJSON_AddArrayToObject(o, "environments");
	cJSON *pending = cJSON_AddArrayToObject(o, "pending");
	cJSON *pins = cJSON_AddArrayToObject(o, "pins");
	cJSON *soak = cJSON_AddArrayToObject(o, "soak");
	if (r->at > 0)
		cJSON_AddNumberToObject(o, "at", (double)r->at);
	for (size_t i = 0; i < r->n_envs; i++) {
		const struct status_env *s = &r->envs[i];
		cJSON *it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "pipeline", s->pipeline);
		cJSON_AddStringToObject(it, "environment", s->environment);
		cJSON_AddItemToObject(it, "state", s->has_state ? env_state_to_json(&s->state) : cJSON_CreateNull());
		cJSON_AddStringToObject(it, "state_commit", s->state_commit);
		cJSON_AddItemToArray(envs, it);
	}
	for (size_t i = 0; i < r->n_pending; i++) {
		const struct status_pending *p = &r->pending[i];
		cJSON *it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "environment", p->environment);
		cJSON_AddStringToObject(it, "pipeline", p->pipeline);
		if (p->model) {
			cJSON_AddStringToObject(it, "model", p->model);
			cJSON_AddNumberToObject(it, "version", (double)p->version);
		}
		cJSON_AddStringToObject(it, "run", p->run ? p->run : "");
		cJSON_AddStringToObject(it, "commit", p->commit ? p->commit : "");
		if (p->branch)
			cJSON_AddStringToObject(it, "branch", p->branch);
		if (p->waiting_for)
			cJSON_AddStringToObject(it, "waiting_for", p->waiting_for);
		cJSON_AddNumberToObject(it, "since_ms", (double)p->since_ms);
		cJSON_AddItemToArray(pending, it);
	}
	for (size_t i = 0; i < r->n_pins; i++) {
		const struct status_pin *p = &r->pins[i];
		cJSON *it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "environment", p->environment);
		cJSON_AddStringToObject(it, "pipeline", p->pipeline);
		if (p->model) {
			cJSON_AddStringToObject(it, "model", p->model);
			cJSON_AddNumberToObject(it, "version", (double)p->version);
		}
		cJSON_AddStringToObject(it, "by", p->by ? p->by : "");
		if (p->reason)
			cJSON_AddStringToObject(it, "reason", p->reason);
		if (p->state_commit[0])
			cJSON_AddStringToObject(it, "state_commit", p->state_commit);
		cJSON_AddNumberToObject(it, "since_ms", (double)p->since_ms);
		cJSON_AddItemToArray(pins, it);
	}
	for (size_t i = 0; i < r->n_soak; i++) {
		const struct status_soak *s = &r->soak[i];
		cJSON *it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "environment", s->environment);
		cJSON_AddStringToObject(it, "pipeline", s->pipeline);
		cJSON_AddStringToObject(it, "from", s->from);
		cJSON_AddStringToObject(it, "model", s->model ? s->model : "");
		cJSON_AddNumberToObject(it, "version", (double)s->version);
		cJSON_AddNumberToObject(it, "since_ms", (double)s->since_ms);
		cJSON_AddNumberToObject(it, "left_ms", (double)s->left_ms);
		cJSON_AddItemToArray(soak, it);
	}
	return o;
}

/* ---------- history ---------- */

static int add_entry(void *payload, const char *commit, long long time, const struct env_state *state)
{
	struct status_history *h = payload;
	struct status_entry *o;
	h->v = xrealloc(h->v, (h->n + 1) * sizeof(*h->v));
	o = &h->v[h->n++];
	memset(o, 0, sizeof(*o));
	snprintf(o->state_commit, sizeof(o->state_commit), "%s", commit);
	o->time = time;
	if (state)
		env_state_copy(&o->state, state);
	else
		env_state_init(&o->state);
	o->has_state = state != NULL;
	return 0;
}

void status_history_release(struct status_history *h)
{
	for (size_t i = 0; i < h->n; i++)
		env_state_release(&h->v[i].state);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

int status_history(const char *home, const char *pipeline, const char *env, struct status_history *out, struct err *e)
{
	struct cd_session s;
	struct state_repo *sr;
	char *found = NULL;
	int ret = 0, has;
	memset(out, 0, sizeof(*out));
	cd_session_init(&s, home, NULL, NULL);
	has = cd_session_has_state(&s, e);
	if (has < 0)
		ret = -1;
	else if (has) {
		ret = cd_session_state(&s, 1, &sr, e);
		if (!ret && !pipeline && (ret = state_pipeline_of(sr, env, &found, e)) == 0)
			pipeline = found;
		if (!ret && pipeline)
			ret = state_log(sr, pipeline, env, add_entry, out, e);
	}
	free(found);
	cd_session_release(&s);
	if (ret < 0)
		status_history_release(out);
	return ret < 0 ? -1 : 0;
}

cJSON *status_history_to_json(const struct status_history *h)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < h->n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "state_commit", h->v[i].state_commit);
		cJSON_AddNumberToObject(o, "time", (double)h->v[i].time);
		cJSON_AddItemToObject(o, "state",
				      h->v[i].has_state ? env_state_to_json(&h->v[i].state) : cJSON_CreateNull());
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}
