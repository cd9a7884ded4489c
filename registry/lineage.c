/* lineage.c - read-only queries on artifacts and the model registry: the upstream lineage tree of a
 * model version or artifact, the model list and one model's versions. Never writes, never prints. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/strvec.h"
#include "registry/query.h"
#include "registry/query_int.h"
#include "common/banned.h"

/* ---- lineage ---- */

/* The walk keeps its statements prepared for the whole tree; every statement is reset before the walk
 * recurses, so none is in progress across a recursive call. */
struct walk {
	sqlite3_stmt *art;      /* artifact row by digest */
	sqlite3_stmt *producer; /* the output event that made a digest, preferring a given run */
	sqlite3_stmt *inputs;   /* input events of (run, component) */
	sqlite3_stmt *cached;   /* cached_from of a (run, component)'s run step */
	struct strvec seen;     /* digests already listed */
	int max_depth;
};

static int walk_prepare(struct walk *w, sqlite3 *db, struct err *e)
{
	memset(w, 0, sizeof(*w));
	strvec_init(&w->seen);
	if (query_prepare(db, &w->art, "SELECT size, type, uri FROM artifacts WHERE digest = ?1", e) < 0 ||
	    query_prepare(db, &w->producer,
			  "SELECT e.run, e.component, e.name, r.commit_id, r.branch, r.pipeline FROM events e"
			  " JOIN runs r ON r.id = e.run WHERE e.artifact = ?1 AND e.kind = 'output'"
			  " ORDER BY e.run IS ?2 DESC, e.id LIMIT 1",
			  e) < 0 ||
	    query_prepare(db, &w->inputs,
			  "SELECT artifact, name FROM events WHERE run = ?1 AND component = ?2 AND kind = 'input'"
			  " ORDER BY id",
			  e) < 0 ||
	    query_prepare(db, &w->cached,
			  "SELECT cached_from FROM steps WHERE run = ?1 AND component = ?2 AND cached_from IS NOT NULL"
			  " ORDER BY phase = 'run' DESC LIMIT 1",
			  e) < 0)
		return -1;
	return 0;
}

static void walk_release(struct walk *w)
{
	sqlite3_finalize(w->art);
	sqlite3_finalize(w->producer);
	sqlite3_finalize(w->inputs);
	sqlite3_finalize(w->cached);
	strvec_clear(&w->seen);
}

/* Input events of ("run", "component") as pairs digest, name in "out". A cached step may have recorded
 * none; then the run it was cached from is asked (a bounded number of hops). */
static int collect_inputs(struct walk *w, const char *run, const char *component, struct strvec *out, struct err *e)
{
	char *cur = xstrdup(run);
	int rc = SQLITE_DONE;
	for (int hop = 0; hop < 8 && !out->n; hop++) {
		char *next = NULL;
		sqlite3_reset(w->inputs);
		query_bind_text(w->inputs, 1, cur);
		query_bind_text(w->inputs, 2, component);
		while ((rc = sqlite3_step(w->inputs)) == SQLITE_ROW) {
			const char *d = query_col_text(w->inputs, 0), *n = query_col_text(w->inputs, 1);
			strvec_push(out, d ? d : "");
			strvec_push(out, n ? n : "");
		}
		sqlite3_reset(w->inputs);
		if (rc != SQLITE_DONE)
			break;
		if (out->n)
			break;
		sqlite3_reset(w->cached);
		query_bind_text(w->cached, 1, cur);
		query_bind_text(w->cached, 2, component);
		if ((rc = sqlite3_step(w->cached)) == SQLITE_ROW && query_col_text(w->cached, 0))
			next = xstrdup(query_col_text(w->cached, 0));
		sqlite3_reset(w->cached);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			break;
		rc = SQLITE_DONE;
		if (!next || !strcmp(next, cur)) {
			free(next);
			break;
		}
		free(cur);
		cur = next;
	}
	free(cur);
	if (rc != SQLITE_DONE)
		return err_set(e, MLCI_EINFRA, "store query failed: %s", sqlite3_errmsg(sqlite3_db_handle(w->inputs)));
	return 0;
}

/* One node of the tree for artifact "digest", consumed under the name "as" (NULL at the root), whose
 * producer is looked up preferring run "pref_run" (the consumer's run). */
static cJSON *walk_node(struct walk *w, const char *digest, const char *as, const char *pref_run, int depth,
			struct err *e)
{
	cJSON *o = cJSON_CreateObject(), *inputs;
	char *run = NULL, *component = NULL;
	struct strvec in = STRVEC_INIT;
	int rc;

	cJSON_AddStringToObject(o, "digest", digest);
	if (as)
		cJSON_AddStringToObject(o, "as", as);
	else
		cJSON_AddNullToObject(o, "as");
	sqlite3_reset(w->art);
	query_bind_text(w->art, 1, digest);
	rc = sqlite3_step(w->art);
	if (rc == SQLITE_ROW) {
		query_add_text(o, "type", w->art, 1);
		query_add_int(o, "size", w->art, 0);
		query_add_text(o, "uri", w->art, 2);
	} else {
		cJSON_AddNullToObject(o, "type");
		cJSON_AddNullToObject(o, "size");
		cJSON_AddNullToObject(o, "uri");
	}
	sqlite3_reset(w->art);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail_sql;
	if (strvec_contains(&w->seen, digest)) {
		cJSON_AddBoolToObject(o, "seen", 1);
		return o;
	}
	strvec_push(&w->seen, digest);

	sqlite3_reset(w->producer);
	query_bind_text(w->producer, 1, digest);
	query_bind_text(w->producer, 2, pref_run);
	rc = sqlite3_step(w->producer);
	if (rc == SQLITE_ROW) {
		cJSON *p = cJSON_AddObjectToObject(o, "produced_by");
		query_add_text(p, "run", w->producer, 0);
		query_add_text(p, "component", w->producer, 1);
		query_add_text(p, "name", w->producer, 2);
		query_add_text(p, "commit", w->producer, 3);
		query_add_text(p, "branch", w->producer, 4);
		query_add_text(p, "pipeline", w->producer, 5);
		if (query_col_text(w->producer, 0) && query_col_text(w->producer, 1)) {
			run = xstrdup(query_col_text(w->producer, 0));
			component = xstrdup(query_col_text(w->producer, 1));
		}
	} else {
		cJSON_AddNullToObject(o, "produced_by");
	}
	sqlite3_reset(w->producer);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto fail_sql;

	inputs = cJSON_AddArrayToObject(o, "inputs");
	if (run && collect_inputs(w, run, component, &in, e) < 0)
		goto fail;
	if (in.n && depth >= w->max_depth) {
		cJSON_AddBoolToObject(o, "truncated", 1);
	} else {
		for (size_t i = 0; i + 1 < in.n; i += 2) {
			cJSON *child = walk_node(w, in.v[i], in.v[i + 1], run, depth + 1, e);
			if (!child)
				goto fail;
			cJSON_AddItemToArray(inputs, child);
		}
	}
	strvec_clear(&in);
	free(run);
	free(component);
	return o;

fail_sql:
	err_set(e, MLCI_EINFRA, "store query failed: %s", sqlite3_errmsg(sqlite3_db_handle(w->art)));
fail:
	strvec_clear(&in);
	free(run);
	free(component);
	cJSON_Delete(o);
	return NULL;
}

/* Full digest for "s" ("sha256:" optional; at least 8 hex digits, a unique prefix). Returns 1 and
 * "out" (malloc'd) when found, 0 when nothing matches, -1 on an error (ambiguous, SQL). */
static int resolve_digest(sqlite3 *db, const char *s, char **out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct strvec found = STRVEC_INIT;
	char *low;
	size_t len;
	int rc, ret = -1;

	*out = NULL;
	if (!strncmp(s, "sha256:", 7))
		s += 7;
	len = strlen(s);
	if (len < 8 || len > 64)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	low = xstrdup(s);
	for (size_t i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)low[i]);
	if (query_prepare(db, &st, "SELECT digest FROM artifacts WHERE substr(digest, 1, length(?1)) = ?1 LIMIT 3", e) <
	    0) {
		free(low);
		return -1;
	}
	query_bind_text(st, 1, low);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		strvec_push(&found, query_col_text(st, 0) ? query_col_text(st, 0) : "");
	if (rc != SQLITE_DONE)
		query_step_error(st, e);
	else if (found.n > 1)
		err_set(e, MLCI_EUSAGE, "ambiguous artifact digest '%s' matches %s, %s%s", low, found.v[0], found.v[1],
			found.n > 2 ? ", ..." : "");
	else if (found.n == 1) {
		*out = xstrdup(found.v[0]);
		ret = 1;
	} else
		ret = 0;
	sqlite3_finalize(st);
	strvec_clear(&found);
	free(low);
	return ret;
}

static const char model_sql[] =
	"SELECT m.model, m.version, m.run, m.commit_id, m.artifact, m.metrics, m.previous, m.created_ms, r.branch,"
	" r.pipeline, r.status FROM model_versions m LEFT JOIN runs r ON r.id = m.run"
	" WHERE m.model = ?1 AND (?2 <= 0 OR m.version = ?2) ORDER BY m.version DESC";

static void model_version_row(cJSON *o, sqlite3_stmt *s)
{
	query_add_text(o, "model", s, 0);
	query_add_int(o, "version", s, 1);
	query_add_text(o, "run", s, 2);
	query_add_text(o, "commit", s, 3);
	query_add_text(o, "branch", s, 8);
	query_add_text(o, "pipeline", s, 9);
	query_add_text(o, "run_status", s, 10);
	query_add_text(o, "artifact", s, 4);
	cJSON_AddItemToObject(o, "metrics", query_parse_json(query_col_text(s, 5)));
	query_add_int(o, "previous", s, 6);
	query_add_time(o, "created", s, 7);
}

/* Versions of "model" ("version" <= 0: all, newest first) into array "arr". Returns the count or -1. */
static int model_versions(sqlite3 *db, const char *model, int64_t version, cJSON *arr, struct err *e)
{
	sqlite3_stmt *s = NULL;
	int rc, n = 0;
	if (query_prepare(db, &s, model_sql, e) < 0)
		return -1;
	query_bind_text(s, 1, model);
	sqlite3_bind_int64(s, 2, version);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		model_version_row(o, s);
		cJSON_AddItemToArray(arr, o);
		n++;
	}
	if (rc != SQLITE_DONE) {
		query_step_error(s, e);
		n = -1;
	}
	sqlite3_finalize(s);
	return n;
}

int query_lineage(struct store *st, const char *what, int max_depth, cJSON **out, struct err *e)
{
	sqlite3 *db = store_db(st);
	struct walk w;
	char *model = NULL, *digest = NULL;
	int64_t version = 0;
	cJSON *o = NULL, *versions = cJSON_CreateArray(), *node;
	const char *root_run = NULL;
	int ref, n = 0, ret = -1;

	*out = NULL;
	ref = query_parse_model_ref(what, &model, &version);
	if (ref < 0) {
		err_set(e, MLCI_EUSAGE, "invalid model version '%s' (expected MODEL@VERSION, e.g. model@3)", what);
		goto done;
	}
	if (strncmp(what, "sha256:", 7) && (n = model_versions(db, model, version, versions, e)) < 0)
		goto done;
	if (n > 0) {
		cJSON *v = cJSON_DetachItemFromArray(versions, 0);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", "model");
		cJSON_AddItemToObject(o, "model", v);
		digest = xstrdup(json_str(v, "artifact", NULL));
		root_run = json_str(v, "run", NULL);
	} else if (ref == 1) {
		err_set(e, MLCI_EUSAGE, "unknown model version '%s'", what);
		goto done;
	} else {
		int r = resolve_digest(db, what, &digest, e);
		if (r < 0)
			goto done;
		if (!r) {
			err_set(e, MLCI_EUSAGE, "unknown model or artifact '%s'", what);
			goto done;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", "artifact");
	}
	if (walk_prepare(&w, db, e) < 0) {
		walk_release(&w);
		goto done;
	}
	w.max_depth = max_depth > 0 ? max_depth : QUERY_LINEAGE_DEPTH;
	node = walk_node(&w, digest, NULL, root_run, 0, e);
	walk_release(&w);
	if (!node)
		goto done;
	cJSON_AddItemToObject(o, "artifact", node);
	*out = o;
	o = NULL;
	ret = 0;
done:
	cJSON_Delete(o);
	cJSON_Delete(versions);
	free(model);
	free(digest);
	return ret;
}

/* ---- registry ---- */

int query_models(struct store *st, cJSON **out, struct err *e)
{
	static const char sql[] =
		"SELECT m.model, m.version, m.run, m.commit_id, m.created_ms,"
		" (SELECT COUNT(*) FROM model_versions x WHERE x.model = m.model) FROM model_versions m"
		" WHERE m.version = (SELECT MAX(version) FROM model_versions y WHERE y.model = m.model) ORDER BY "
		"m.model";
	sqlite3_stmt *s = NULL;
	cJSON *arr;
	int rc;

	*out = NULL;
	if (query_prepare(store_db(st), &s, sql, e) < 0)
		return -1;
	arr = cJSON_CreateArray();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		query_add_text(o, "model", s, 0);
		query_add_int(o, "latest_version", s, 1);
		query_add_int(o, "versions", s, 5);
		query_add_text(o, "latest_run", s, 2);
		query_add_text(o, "latest_commit", s, 3);
		query_add_time(o, "created", s, 4);
		cJSON_AddItemToArray(arr, o);
	}
	if (rc != SQLITE_DONE) {
		query_step_error(s, e);
		sqlite3_finalize(s);
		cJSON_Delete(arr);
		return -1;
	}
	sqlite3_finalize(s);
	*out = arr;
	return 0;
}

static int add_transitions(sqlite3 *db, cJSON *o, const char *model, int64_t version, struct err *e)
{
	sqlite3_stmt *s = NULL;
	cJSON *arr;
	int rc;
	if (query_prepare(db, &s,
			  "SELECT environment, from_stage, to_stage, actor, reason, state_commit, time_ms"
			  " FROM stage_transitions WHERE model = ?1 AND version = ?2 ORDER BY time_ms, id",
			  e) < 0)
		return -1;
	query_bind_text(s, 1, model);
	sqlite3_bind_int64(s, 2, version);
	arr = cJSON_AddArrayToObject(o, "transitions");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *t = cJSON_CreateObject();
		query_add_text(t, "environment", s, 0);
		query_add_text(t, "from", s, 1);
		query_add_text(t, "to", s, 2);
		query_add_text(t, "actor", s, 3);
		query_add_text(t, "reason", s, 4);
		query_add_text(t, "state_commit", s, 5);
		query_add_time(t, "time", s, 6);
		cJSON_AddItemToArray(arr, t);
	}
	if (rc != SQLITE_DONE) {
		query_step_error(s, e);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

/* "environments": where the version is now and was, with times, from its transitions (oldest first):
 * a row whose to_stage is its environment enters it, any other row of that environment leaves it. */
static void add_periods(cJSON *o)
{
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(o, "transitions"), *t;
	cJSON *arr = cJSON_AddArrayToObject(o, "environments");
	cJSON_ArrayForEach(t, tr) {
		const cJSON *env = cJSON_GetObjectItemCaseSensitive(t, "environment");
		const cJSON *to = cJSON_GetObjectItemCaseSensitive(t, "to");
		const cJSON *ms = cJSON_GetObjectItemCaseSensitive(t, "time_ms");
		const cJSON *when = cJSON_GetObjectItemCaseSensitive(t, "time");
		cJSON *open = NULL, *p;
		if (!cJSON_IsString(env) || !cJSON_IsString(to))
			continue;
		cJSON_ArrayForEach(p, arr) {
			const cJSON *pe = cJSON_GetObjectItemCaseSensitive(p, "environment");
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "now")) && cJSON_IsString(pe) &&
			    !strcmp(pe->valuestring, env->valuestring))
				open = p;
		}
		if (!strcmp(to->valuestring, env->valuestring)) {
			if (open)
				continue; /* entered again while in it (another commit of the same version) */
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "environment", env->valuestring);
			cJSON_AddItemToObject(p, "since", cJSON_Duplicate(when, 1));
			cJSON_AddItemToObject(p, "since_ms", cJSON_Duplicate(ms, 1));
			cJSON_AddNullToObject(p, "until");
			cJSON_AddNullToObject(p, "until_ms");
			cJSON_AddBoolToObject(p, "now", 1);
			cJSON_AddItemToArray(arr, p);
		} else if (open) {
			cJSON_ReplaceItemInObjectCaseSensitive(open, "until", cJSON_Duplicate(when, 1));
			cJSON_ReplaceItemInObjectCaseSensitive(open, "until_ms", cJSON_Duplicate(ms, 1));
			cJSON_ReplaceItemInObjectCaseSensitive(open, "now", cJSON_CreateBool(0));
			cJSON_AddStringToObject(open, "left_as", to->valuestring);
		}
	}
}

int query_model_show(struct store *st, const char *spec, cJSON **out, struct err *e)
{
	sqlite3 *db = store_db(st);
	char *model = NULL;
	int64_t version = 0;
	cJSON *o = NULL, *versions;
	int ref, n;

	*out = NULL;
	ref = query_parse_model_ref(spec, &model, &version);
	if (ref < 0)
		return err_set(e, MLCI_EUSAGE, "invalid model version '%s' (expected MODEL or MODEL@VERSION)", spec);
	versions = cJSON_CreateArray();
	n = model_versions(db, model, version, versions, e);
	if (n < 0)
		goto fail;
	if (!n) {
		if (ref == 1)
			err_set(e, MLCI_EUSAGE, "unknown model version '%s'", spec);
		else
			err_set(e, MLCI_EUSAGE, "unknown model '%s'", spec);
		goto fail;
	}
	if (ref == 1) {
		o = cJSON_DetachItemFromArray(versions, 0);
		if (add_transitions(db, o, model, version, e) < 0)
			goto fail;
		add_periods(o);
		cJSON_Delete(versions);
	} else {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "model", model);
		cJSON_AddItemToObject(o, "versions", versions);
	}
	free(model);
	*out = o;
	return 0;
fail:
	cJSON_Delete(o); /* only ever a version detached from "versions" here */
	cJSON_Delete(versions);
	free(model);
	return -1;
}
