/* env_state.c - the one JSON reader and writer of environment states (cd/env_state.h). Unknown members
 * are kept so that a state written by a newer mlci survives a round trip. It must not decide anything. */
#include "cd/env_state.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/banned.h"

/* The members this file reads and writes, in the order they are written. */
static const char *const known[] = {
	"environment",      "pipeline", "commit",      "branch",        "run",         "model",
	"artifacts",        "rule",     "promoted_by", "approvals",     "promoted_at", "reason",
	"rolled_back_from", "gates",    "override",    "deploy_failed", "note"
};

void env_state_init(struct env_state *s)
{
	memset(s, 0, sizeof(*s));
	strvec_init(&s->approvals);
}

void env_state_release(struct env_state *s)
{
	free(s->environment);
	free(s->pipeline);
	free(s->commit);
	free(s->branch);
	free(s->run);
	free(s->model_name);
	free(s->model_artifact);
	for (size_t i = 0; i < s->n_artifacts; i++)
		free(s->artifacts[i].name);
	free(s->artifacts);
	free(s->rule);
	free(s->promoted_by);
	strvec_clear(&s->approvals);
	free(s->promoted_at);
	free(s->reason);
	verdicts_release(&s->gates);
	free(s->override_gate);
	free(s->override_by);
	free(s->override_reason);
	free(s->failed_commit);
	free(s->failed_reason);
	free(s->note);
	cJSON_Delete(s->extra);
	env_state_init(s);
}

void env_state_set(char **slot, const char *v)
{
	char *copy = v ? xstrdup(v) : NULL;
	free(*slot);
	*slot = copy;
}

void env_state_add_artifact(struct env_state *s, const char *name, const char *digest)
{
	s->artifacts = xrealloc(s->artifacts, (s->n_artifacts + 1) * sizeof(*s->artifacts));
	s->artifacts[s->n_artifacts].name = xstrdup(name);
	snprintf(s->artifacts[s->n_artifacts].digest, sizeof(s->artifacts[0].digest), "%s", digest);
	s->n_artifacts++;
}

const struct env_artifact *env_state_model_artifact(const struct env_state *s)
{
	for (size_t i = 0; s->model_artifact && i < s->n_artifacts; i++)
		if (!strcmp(s->artifacts[i].digest, s->model_artifact))
			return &s->artifacts[i];
	return NULL;
}

int env_state_same_deploy(const struct env_state *a, const struct env_state *b)
{
	return a->commit && b->commit && !strcmp(a->commit, b->commit) && a->model_version == b->model_version;
}

void env_state_copy(struct env_state *dst, const struct env_state *src)
{
	struct err e = ERR_INIT;
	cJSON *j = env_state_to_json(src);
	/* through the one reader and writer: a copy can never differ from a round trip */
	if (env_state_from_json(dst, j, &e) < 0)
		abort(); /* what env_state_to_json writes always reads back */
	cJSON_Delete(j);
	err_release(&e);
}

/* ---------- reading ---------- */

static int is_known(const char *name)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(known[i], name))
			return 1;
	return 0;
}

static int wrong(struct err *e, const char *member, const char *expected)
{
	return err_set(e, MLCI_EINFRA, "state: member \"%s\" is not %s", member, expected);
}

/* A string member into *slot; absent or null leaves NULL. */
static int get_str(const cJSON *o, const char *k, char **slot, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return wrong(e, k, "a string");
	*slot = xstrdup(v->valuestring);
	return 0;
}

static int get_int(const cJSON *o, const char *k, int64_t *out, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!v || cJSON_IsNull(v))
		return 0;
	/* 2^63 is exact as a double: a whole number in [-2^63, 2^63) converts without overflow */
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble != floor(v->valuedouble) ||
	    v->valuedouble >= 9223372036854775808.0 || v->valuedouble < -9223372036854775808.0)
		return wrong(e, k, "a whole number");
	*out = (int64_t)v->valuedouble;
	return 0;
}

static int get_model(struct env_state *s, const cJSON *m, struct err *e)
{
	if (!m || cJSON_IsNull(m))
		return 0;
	if (!cJSON_IsObject(m))
		return wrong(e, "model", "an object or null");
	if (get_str(m, "name", &s->model_name, e) < 0 || get_int(m, "version", &s->model_version, e) < 0 ||
	    get_str(m, "artifact", &s->model_artifact, e) < 0)
		return err_prefix(e, "model");
	return 0;
}

static int get_artifacts(struct env_state *s, const cJSON *a, struct err *e)
{
	const cJSON *it;
	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsObject(a))
		return wrong(e, "artifacts", "an object");
	cJSON_ArrayForEach(it, a) {
		if (!cJSON_IsString(it) || !it->string)
			return wrong(e, "artifacts", "an object of digests");
		env_state_add_artifact(s, it->string, it->valuestring);
	}
	return 0;
}

static int get_approvals(struct env_state *s, const cJSON *a, struct err *e)
{
	const cJSON *it;
	if (!a || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return wrong(e, "approvals", "an array");
	cJSON_ArrayForEach(it, a) {
		if (!cJSON_IsString(it))
			return wrong(e, "approvals", "an array of names");
		strvec_push(&s->approvals, it->valuestring);
	}
	return 0;
}

static int get_gates(struct env_state *s, const cJSON *a, struct err *e)
{
	if (!a || cJSON_IsNull(a))
		return 0;
	if (verdicts_from_json(&s->gates, a) < 0)
		return wrong(e, "gates", "an array of gate verdicts");
	return 0;
}

static int get_override(struct env_state *s, const cJSON *o, struct err *e)
{
	if (!o || cJSON_IsNull(o))
		return 0;
	if (!cJSON_IsObject(o))
		return wrong(e, "override", "an object");
	if (get_str(o, "gate", &s->override_gate, e) < 0 || get_str(o, "by", &s->override_by, e) < 0 ||
	    get_str(o, "reason", &s->override_reason, e) < 0)
		return err_prefix(e, "override");
	return 0;
}

static int get_failed(struct env_state *s, const cJSON *o, struct err *e)
{
	if (!o || cJSON_IsNull(o))
		return 0;
	if (!cJSON_IsObject(o))
		return wrong(e, "deploy_failed", "an object");
	if (get_str(o, "state_commit", &s->failed_commit, e) < 0 || get_str(o, "reason", &s->failed_reason, e) < 0)
		return err_prefix(e, "deploy_failed");
	if (!s->failed_commit)
		s->failed_commit = xstrdup("");
	return 0;
}

int env_state_from_json(struct env_state *s, const cJSON *j, struct err *e)
{
	const cJSON *it;
	env_state_init(s);
	if (!cJSON_IsObject(j))
		return err_set(e, MLCI_EINFRA, "state: not a JSON object");
	if (get_str(j, "environment", &s->environment, e) < 0 || get_str(j, "pipeline", &s->pipeline, e) < 0 ||
	    get_str(j, "commit", &s->commit, e) < 0 || get_str(j, "branch", &s->branch, e) < 0 ||
	    get_str(j, "run", &s->run, e) < 0 || get_model(s, cJSON_GetObjectItemCaseSensitive(j, "model"), e) < 0 ||
	    get_artifacts(s, cJSON_GetObjectItemCaseSensitive(j, "artifacts"), e) < 0 ||
	    get_str(j, "rule", &s->rule, e) < 0 || get_str(j, "promoted_by", &s->promoted_by, e) < 0 ||
	    get_approvals(s, cJSON_GetObjectItemCaseSensitive(j, "approvals"), e) < 0 ||
	    get_str(j, "promoted_at", &s->promoted_at, e) < 0 || get_str(j, "reason", &s->reason, e) < 0 ||
	    get_int(j, "rolled_back_from", &s->rolled_back_from, e) < 0 ||
	    get_gates(s, cJSON_GetObjectItemCaseSensitive(j, "gates"), e) < 0 ||
	    get_override(s, cJSON_GetObjectItemCaseSensitive(j, "override"), e) < 0 ||
	    get_failed(s, cJSON_GetObjectItemCaseSensitive(j, "deploy_failed"), e) < 0 ||
	    get_str(j, "note", &s->note, e) < 0) {
		env_state_release(s);
		return -1;
	}
	cJSON_ArrayForEach(it, j) {
		if (!it->string || is_known(it->string))
			continue;
		if (!s->extra)
			s->extra = cJSON_CreateObject();
		cJSON_AddItemToObject(s->extra, it->string, cJSON_Duplicate(it, 1));
	}
	return 0;
}

int env_state_parse(struct env_state *s, const char *text, size_t len, const char *what, struct err *e)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	int r;
	if (!j) {
		env_state_init(s);
		return err_set(e, MLCI_EINFRA, "%s: not valid JSON", what);
	}
	r = env_state_from_json(s, j, e);
	cJSON_Delete(j);
	return r < 0 ? err_prefix(e, "%s", what) : 0;
}

/* ---------- writing ---------- */

static void put_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

cJSON *env_state_to_json(const struct env_state *s)
{
	cJSON *o = cJSON_CreateObject(), *it;
	put_str(o, "environment", s->environment);
	put_str(o, "pipeline", s->pipeline);
	put_str(o, "commit", s->commit);
	put_str(o, "branch", s->branch);
	put_str(o, "run", s->run);
	if (s->model_version) {
		cJSON *m = cJSON_AddObjectToObject(o, "model");
		put_str(m, "name", s->model_name);
		cJSON_AddNumberToObject(m, "version", (double)s->model_version);
		put_str(m, "artifact", s->model_artifact);
	} else {
		cJSON_AddNullToObject(o, "model");
	}
	if (s->n_artifacts || s->commit) {
		cJSON *a = cJSON_AddObjectToObject(o, "artifacts");
		for (size_t i = 0; i < s->n_artifacts; i++)
			cJSON_AddStringToObject(a, s->artifacts[i].name, s->artifacts[i].digest);
	}
	put_str(o, "rule", s->rule);
	put_str(o, "promoted_by", s->promoted_by);
	if (s->promoted_by || s->approvals.n) {
		cJSON *a = cJSON_AddArrayToObject(o, "approvals");
		for (size_t i = 0; i < s->approvals.n; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(s->approvals.v[i]));
	}
	put_str(o, "promoted_at", s->promoted_at);
	put_str(o, "reason", s->reason);
	if (s->rolled_back_from)
		cJSON_AddNumberToObject(o, "rolled_back_from", (double)s->rolled_back_from);
	if (s->gates.n)
		cJSON_AddItemToObject(o, "gates", verdicts_to_json(&s->gates));
	if (s->override_gate) {
		cJSON *ov = cJSON_AddObjectToObject(o, "override");
		put_str(ov, "gate", s->override_gate);
		put_str(ov, "by", s->override_by);
		put_str(ov, "reason", s->override_reason);
	}
	if (s->failed_commit) {
		cJSON *f = cJSON_AddObjectToObject(o, "deploy_failed");
		put_str(f, "state_commit", s->failed_commit);
		put_str(f, "reason", s->failed_reason);
	}
	put_str(o, "note", s->note);
	cJSON_ArrayForEach(it, s->extra) {
		if (it->string && !cJSON_GetObjectItemCaseSensitive(o, it->string))
			cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
	}
	return o;
}
