/* query.c - read-only queries on runs: listing, one run with its steps, artifacts and metrics, and
 * the diff of two runs, all as cJSON. Bound parameters only; it never writes to the store or prints. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/path.h"
#include "common/strvec.h"
#include "registry/query.h"
#include "registry/query_int.h"
#include "common/banned.h"

/* ---- helpers shared with lineage.c ---- */

int query_prepare(sqlite3 *db, sqlite3_stmt **s, const char *sql, struct err *e)
{
	if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK) {
		err_set(e, MLCI_EINFRA, "store query failed: %s", sqlite3_errmsg(db));
		sqlite3_finalize(*s);
		*s = NULL;
		return -1;
	}
	return 0;
}

void query_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

int query_step_error(sqlite3_stmt *s, struct err *e)
{
	return err_set(e, MLCI_EINFRA, "store query failed: %s", sqlite3_errmsg(sqlite3_db_handle(s)));
}

const char *query_col_text(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return NULL;
	return (const char *)sqlite3_column_text(s, i);
}

void query_add_text(cJSON *o, const char *key, sqlite3_stmt *s, int i)
{
	const char *v = query_col_text(s, i);
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

void query_add_int(cJSON *o, const char *key, sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, (double)sqlite3_column_int64(s, i));
}

/* "iso": 2026-11-25T17:42:03Z, else 2026-11-25 17:42:03 (both UTC). */
static void iso_time(char *out, size_t n, int64_t ms, int iso)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) ||
	    !(iso ? strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) : strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm)))
		snprintf(out, n, "%lld", (long long)ms);
}

void query_fmt_time(char *out, size_t n, int64_t ms)
{
	if (!ms) {
		snprintf(out, n, "-");
		return;
	}
	iso_time(out, n, ms, 0);
}

void query_add_time(cJSON *o, const char *key, sqlite3_stmt *s, int i)
{
	char k[64], v[64];
	snprintf(k, sizeof(k), "%s_ms", key);
	query_add_int(o, k, s, i);
	if (sqlite3_column_type(s, i) == SQLITE_NULL) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	iso_time(v, sizeof(v), sqlite3_column_int64(s, i), 1);
	cJSON_AddStringToObject(o, key, v);
}

cJSON *query_parse_json(const char *text)
{
	cJSON *v;
	if (!text)
		return cJSON_CreateNull();
	v = cJSON_Parse(text);
	return v ? v : cJSON_CreateString(text);
}

int query_store_open(struct store *st, const char *home, struct err *e)
{
	char *db = path_join(home, "mlci.db");
	int have = fs_is_file(db);
	free(db);
	if (!have)
		return 0;
	if (store_open(st, home, e) < 0)
		return -1;
	return 1;
}

int query_parse_model_ref(const char *s, char **model_out, int64_t *version_out)
{
	const char *at = strrchr(s, '@');
	char *end;
	long long v;
	*version_out = 0;
	if (!at) {
		*model_out = xstrdup(s);
		return 0;
	}
	*model_out = NULL;
	if (at == s || !isdigit((unsigned char)at[1]))
		return -1;
	v = strtoll(at + 1, &end, 10);
	if (*end || v <= 0)
		return -1;
	*model_out = xstrndup(s, (size_t)(at - s));
	*version_out = v;
	return 1;
}

/* ---- runs ---- */

int query_runs(struct store *st, const struct query_runs_filter *f, cJSON **out, struct err *e)
{
	static const char sql[] =
		"SELECT r.id, r.pipeline, r.branch, r.commit_id, r.status, r.trigger, r.started_ms, r.finished_ms,"
		" (SELECT COUNT(*) FROM steps s WHERE s.run = r.id),"
		" (SELECT COUNT(*) FROM steps s WHERE s.run = r.id AND s.status = 'cached')"
		" FROM runs r WHERE (?1 IS NULL OR r.pipeline = ?1) AND (?2 IS NULL OR r.branch = ?2)"
		" AND (?3 IS NULL OR r.status = ?3) ORDER BY r.started_ms DESC, r.id DESC LIMIT ?4";
	sqlite3_stmt *s = NULL;
	cJSON *arr;
	int rc;

	*out = NULL;
	if (query_prepare(store_db(st), &s, sql, e) < 0)
		return -1;
	query_bind_text(s, 1, f ? f->pipeline : NULL);
	query_bind_text(s, 2, f ? f->branch : NULL);
	query_bind_text(s, 3, f ? f->status : NULL);
	sqlite3_bind_int(s, 4, f && f->limit > 0 ? f->limit : 20);
	arr = cJSON_CreateArray();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *r = cJSON_CreateObject();
		query_add_text(r, "id", s, 0);
		query_add_text(r, "pipeline", s, 1);
		query_add_text(r, "branch", s, 2);
		query_add_text(r, "commit", s, 3);
		query_add_text(r, "status", s, 4);
		query_add_text(r, "trigger", s, 5);
		query_add_time(r, "started", s, 6);
		query_add_int(r, "finished_ms", s, 7);
		if (sqlite3_column_type(s, 7) == SQLITE_NULL)
			cJSON_AddNullToObject(r, "duration_ms");
		else
			cJSON_AddNumberToObject(r, "duration_ms",
						(double)(sqlite3_column_int64(s, 7) - sqlite3_column_int64(s, 6)));
		cJSON_AddNumberToObject(r, "steps", (double)sqlite3_column_int64(s, 8));
		cJSON_AddNumberToObject(r, "steps_cached", (double)sqlite3_column_int64(s, 9));
		cJSON_AddItemToArray(arr, r);
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

int query_run_resolve(struct store *st, const char *prefix, char **id_out, struct err *e)
{
	static const char sql[] = "SELECT id FROM runs WHERE id = ?1 UNION ALL SELECT * FROM"
				  " (SELECT id FROM runs WHERE substr(id, 1, length(?1)) = ?1 AND id <> ?1"
				  " ORDER BY id LIMIT 5)";
	sqlite3_stmt *s = NULL;
	struct strvec found = STRVEC_INIT;
	int rc, ret = -1;

	*id_out = NULL;
	if (!*prefix)
		return err_set(e, MLCI_EUSAGE, "empty run id");
	if (query_prepare(store_db(st), &s, sql, e) < 0)
		return -1;
	query_bind_text(s, 1, prefix);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = query_col_text(s, 0);
		if (id && !strcmp(id, prefix)) { /* an exact id wins over longer ids it prefixes */
			*id_out = xstrdup(id);
			ret = 0;
			goto done;
		}
		if (id)
			strvec_push(&found, id);
	}
	if (rc != SQLITE_DONE) {
		query_step_error(s, e);
		goto done;
	}
	if (found.n == 1) {
		*id_out = xstrdup(found.v[0]);
		ret = 0;
	} else if (!found.n) {
		err_set(e, MLCI_EUSAGE, "unknown run '%s'", prefix);
	} else {
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < found.n && i < 4; i++)
			buf_addf(&b, "%s%s", i ? ", " : "", found.v[i]);
		err_set(e, MLCI_EUSAGE, "ambiguous run id '%s' matches %s%s", prefix, b.ptr,
			found.n > 4 ? ", ..." : "");
		buf_release(&b);
	}
done:
	sqlite3_finalize(s);
	strvec_clear(&found);
	return ret;
}

static int run_row(sqlite3 *db, const char *id, cJSON *o, struct err *e)
{
	static const char sql[] = "SELECT id, pipeline, repo, commit_id, branch, trigger, status, host, user, pid,"
				  " params, mlci_version, resumed_from, started_ms, finished_ms, reason"
				  " FROM runs WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int rc;
	if (query_prepare(db, &s, sql, e) < 0)
		return -1;
	query_bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			err_set(e, MLCI_EUSAGE, "unknown run '%s'", id);
		else
			query_step_error(s, e);
		sqlite3_finalize(s);
		return -1;
	}
	query_add_text(o, "id", s, 0);
	query_add_text(o, "pipeline", s, 1);
	query_add_text(o, "repo", s, 2);
	query_add_text(o, "commit", s, 3);
	query_add_text(o, "branch", s, 4);
	query_add_text(o, "trigger", s, 5);
	query_add_text(o, "status", s, 6);
	query_add_text(o, "host", s, 7);
	query_add_text(o, "user", s, 8);
	query_add_int(o, "pid", s, 9);
	cJSON_AddItemToObject(o, "params", query_parse_json(query_col_text(s, 10)));
	query_add_text(o, "mlci_version", s, 11);
	query_add_text(o, "resumed_from", s, 12);
	query_add_time(o, "started", s, 13);
	query_add_time(o, "finished", s, 14);
	if (sqlite3_column_type(s, 14) == SQLITE_NULL)
		cJSON_AddNullToObject(o, "duration_ms");
	else
		cJSON_AddNumberToObject(o, "duration_ms",
					(double)(sqlite3_column_int64(s, 14) - sqlite3_column_int64(s, 13)));
	query_add_text(o, "reason", s, 15);
	sqlite3_finalize(s);
	return 0;
}

/* Run "sql" with the run id bound to ?1 and add one object per row to a new array "key" of "o",
 * filled by "row". */
static int add_rows(sqlite3 *db, cJSON *o, const char *key, const char *sql, const char *id,
		    void (*row)(cJSON *item, sqlite3_stmt *s), struct err *e)
{
	sqlite3_stmt *s = NULL;
	cJSON *arr;
	int rc;
	if (query_prepare(db, &s, sql, e) < 0)
		return -1;
	query_bind_text(s, 1, id);
	arr = cJSON_AddArrayToObject(o, key);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *item = cJSON_CreateObject();
		row(item, s);
		cJSON_AddItemToArray(arr, item);
	}
	if (rc != SQLITE_DONE) {
		query_step_error(s, e);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

static void step_row(cJSON *o, sqlite3_stmt *s)
{
	query_add_text(o, "component", s, 0);
	query_add_text(o, "phase", s, 1);
	query_add_text(o, "status", s, 2);
	query_add_time(o, "started", s, 3);
	query_add_int(o, "finished_ms", s, 4);
	query_add_int(o, "duration_ms", s, 5);
	query_add_int(o, "exit_code", s, 6);
	query_add_text(o, "cache_key", s, 7);
	query_add_text(o, "cached_from", s, 8);
	query_add_text(o, "log_path", s, 9);
	query_add_text(o, "reason", s, 10);
}

static void artifact_row(cJSON *o, sqlite3_stmt *s)
{
	query_add_text(o, "kind", s, 0);
	query_add_text(o, "component", s, 1);
	query_add_text(o, "name", s, 2);
	query_add_text(o, "digest", s, 3);
	query_add_text(o, "type", s, 4);
	query_add_int(o, "size", s, 5);
	query_add_text(o, "uri", s, 6);
}

static void metric_row(cJSON *o, sqlite3_stmt *s)
{
	query_add_text(o, "name", s, 0);
	query_add_text(o, "slice", s, 1);
	cJSON_AddNumberToObject(o, "value", sqlite3_column_double(s, 2));
}

static void check_row(cJSON *o, sqlite3_stmt *s)
{
	const unsigned char *d = sqlite3_column_text(s, 4);
	cJSON *details = d ? cJSON_Parse((const char *)d) : NULL;
	query_add_text(o, "name", s, 0);
	query_add_text(o, "kind", s, 1);
	query_add_text(o, "status", s, 2);
	query_add_text(o, "summary", s, 3);
	cJSON_AddItemToObject(o, "details", details ? details : cJSON_CreateObject());
	query_add_int(o, "started_ms", s, 5);
	query_add_int(o, "duration_ms", s, 6);
}

static void promotion_row(cJSON *o, sqlite3_stmt *s)
{
	const unsigned char *d = sqlite3_column_text(s, 5);
	cJSON *evidence = d ? cJSON_Parse((const char *)d) : NULL;
	query_add_text(o, "environment", s, 0);
	query_add_text(o, "status", s, 1);
	query_add_text(o, "waiting_for", s, 2);
	query_add_text(o, "state_commit", s, 3);
	query_add_time(o, "updated", s, 4);
	cJSON_AddItemToObject(o, "gates", cJSON_IsArray(evidence) ? evidence : cJSON_CreateArray());
	if (evidence && !cJSON_IsArray(evidence))
		cJSON_Delete(evidence);
}

static void model_row(cJSON *o, sqlite3_stmt *s)
{
	query_add_text(o, "model", s, 0);
	query_add_int(o, "version", s, 1);
	query_add_text(o, "artifact", s, 2);
}

int query_run_show(struct store *st, const char *run, cJSON **out, struct err *e)
{
	/* steps in the order they started (ties, e.g. cached steps, in the order they were recorded);
	 * steps that never started (skipped) last, by phase */
	static const char steps_sql[] =
		"SELECT component, phase, status, started_ms, finished_ms, duration_ms, exit_code, cache_key,"
		" cached_from, log_path, reason FROM steps WHERE run = ?1 ORDER BY started_ms IS NULL, started_ms,"
		" CASE WHEN started_ms IS NOT NULL THEN 0 WHEN phase = 'build' THEN 1 WHEN phase = 'test' THEN 2"
		" WHEN phase = 'run' THEN 3 ELSE 4 END, rowid";
	static const char art_sql[] = "SELECT e.kind, e.component, e.name, e.artifact, a.type, a.size, a.uri"
				      " FROM events e JOIN artifacts a ON a.digest = e.artifact WHERE e.run = ?1"
				      " ORDER BY e.id";
	static const char met_sql[] = "SELECT name, slice, value FROM metrics WHERE run = ?1 ORDER BY name, slice";
	static const char mod_sql[] =
		"SELECT model, version, artifact FROM model_versions WHERE run = ?1 ORDER BY model, version";
	static const char chk_sql[] = "SELECT name, kind, status, summary, details, started_ms, duration_ms"
				      " FROM checks WHERE run = ?1 ORDER BY started_ms, rowid";
	static const char pro_sql[] = "SELECT environment, status, waiting_for, state_commit, updated_ms, evidence"
				      " FROM promotions WHERE run = ?1 ORDER BY id";
	sqlite3 *db = store_db(st);
	char *id = NULL;
	cJSON *o;

	*out = NULL;
	if (query_run_resolve(st, run, &id, e) < 0)
		return -1;
	o = cJSON_CreateObject();
	if (run_row(db, id, o, e) < 0 || add_rows(db, o, "steps", steps_sql, id, step_row, e) < 0 ||
	    add_rows(db, o, "artifacts", art_sql, id, artifact_row, e) < 0 ||
	    add_rows(db, o, "metrics", met_sql, id, metric_row, e) < 0 ||
	    add_rows(db, o, "models", mod_sql, id, model_row, e) < 0 ||
	    add_rows(db, o, "checks", chk_sql, id, check_row, e) < 0 ||
	    add_rows(db, o, "promotions", pro_sql, id, promotion_row, e) < 0) {
		free(id);
		cJSON_Delete(o);
		return -1;
	}
	free(id);
	*out = o;
	return 0;
}

/* ---- diff ---- */

static int json_equal(const cJSON *a, const cJSON *b)
{
	if (!a || !b)
		return !a && !b;
	return cJSON_Compare(a, b, 1);
}

static cJSON *dup_or_null(const cJSON *v)
{
	return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

static cJSON *run_summary(const cJSON *r)
{
	static const char *const keys[] = { "id", "pipeline", "commit", "branch", "status", "started", "duration_ms" };
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cJSON_AddItemToObject(o, keys[i], dup_or_null(cJSON_GetObjectItemCaseSensitive(r, keys[i])));
	return o;
}

static int diff_params(cJSON *out, const cJSON *pa, const cJSON *pb)
{
	cJSON *arr = cJSON_AddArrayToObject(out, "params");
	const cJSON *v;
	int n = 0;
	for (int pass = 0; pass < 2; pass++) {
		const cJSON *from = pass ? pb : pa;
		if (!cJSON_IsObject(from))
			continue;
		cJSON_ArrayForEach(v, from) {
			const cJSON *a = cJSON_IsObject(pa) ? cJSON_GetObjectItemCaseSensitive(pa, v->string) : NULL;
			const cJSON *b = cJSON_IsObject(pb) ? cJSON_GetObjectItemCaseSensitive(pb, v->string) : NULL;
			cJSON *p;
			int differs;
			if (pass && a)
				continue; /* listed in the first pass */
			differs = !json_equal(a, b);
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "name", v->string);
			cJSON_AddItemToObject(p, "a", dup_or_null(a));
			cJSON_AddItemToObject(p, "b", dup_or_null(b));
			cJSON_AddBoolToObject(p, "differs", differs);
			cJSON_AddItemToArray(arr, p);
			n += differs;
		}
	}
	return n;
}

static const cJSON *find_metric(const cJSON *list, const char *name, const char *slice)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, list) {
		const char *n = json_str(m, "name", NULL);
		const char *s = json_str(m, "slice", NULL);
		if (n && s && !strcmp(n, name) && !strcmp(s, slice))
			return m;
	}
	return NULL;
}

static int diff_metrics(cJSON *out, const cJSON *ma, const cJSON *mb)
{
	cJSON *arr = cJSON_AddArrayToObject(out, "metrics");
	const cJSON *m;
	int n = 0;
	for (int pass = 0; pass < 2; pass++) {
		const cJSON *list = pass ? mb : ma;
		cJSON_ArrayForEach(m, list) {
			const char *name = json_str(m, "name", NULL);
			const char *slice = json_str(m, "slice", NULL);
			const cJSON *a, *b, *va, *vb;
			cJSON *p;
			int differs;
			if (!name || !slice)
				continue;
			a = find_metric(ma, name, slice);
			b = find_metric(mb, name, slice);
			if (pass && a)
				continue;
			va = a ? cJSON_GetObjectItemCaseSensitive(a, "value") : NULL;
			vb = b ? cJSON_GetObjectItemCaseSensitive(b, "value") : NULL;
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "name", name);
			cJSON_AddStringToObject(p, "slice", slice);
			cJSON_AddItemToObject(p, "a", dup_or_null(va));
			cJSON_AddItemToObject(p, "b", dup_or_null(vb));
			if (cJSON_IsNumber(va) && cJSON_IsNumber(vb)) {
				double d = vb->valuedouble - va->valuedouble;
				differs = d != 0.0;
				cJSON_AddNumberToObject(p, "delta", d);
			} else {
				differs = 1;
				cJSON_AddNullToObject(p, "delta");
			}
			cJSON_AddBoolToObject(p, "differs", differs);
			cJSON_AddItemToArray(arr, p);
			n += differs;
		}
	}
	return n;
}

static const cJSON *find_step(const cJSON *steps, const char *component, const char *phase)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, steps) {
		const char *c = json_str(s, "component", NULL);
		const char *p = json_str(s, "phase", NULL);
		if (c && p && !strcmp(c, component) && !strcmp(p, phase))
			return s;
	}
	return NULL;
}

static cJSON *field_or_null(const cJSON *o, const char *key)
{
	return dup_or_null(o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL);
}

static int diff_steps(cJSON *out, const cJSON *sa, const cJSON *sb)
{
	cJSON *arr = cJSON_AddArrayToObject(out, "steps");
	const cJSON *s;
	int n = 0;
	for (int pass = 0; pass < 2; pass++) {
		const cJSON *list = pass ? sb : sa;
		cJSON_ArrayForEach(s, list) {
			const char *c = json_str(s, "component", NULL);
			const char *ph = json_str(s, "phase", NULL);
			const cJSON *a, *b;
			cJSON *p;
			if (!c || !ph)
				continue;
			a = find_step(sa, c, ph);
			b = find_step(sb, c, ph);
			if (pass && a)
				continue;
			if (a && b &&
			    json_equal(cJSON_GetObjectItemCaseSensitive(a, "status"),
				       cJSON_GetObjectItemCaseSensitive(b, "status")) &&
			    json_equal(cJSON_GetObjectItemCaseSensitive(a, "cache_key"),
				       cJSON_GetObjectItemCaseSensitive(b, "cache_key")))
				continue;
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "component", c);
			cJSON_AddStringToObject(p, "phase", ph);
			cJSON_AddItemToObject(p, "a_status", field_or_null(a, "status"));
			cJSON_AddItemToObject(p, "b_status", field_or_null(b, "status"));
			cJSON_AddItemToObject(p, "a_cache_key", field_or_null(a, "cache_key"));
			cJSON_AddItemToObject(p, "b_cache_key", field_or_null(b, "cache_key"));
			cJSON_AddItemToArray(arr, p);
			n++;
		}
	}
	return n;
}

int query_run_diff(struct store *st, const char *run_a, const char *run_b, cJSON **out, struct err *e)
{
	cJSON *a = NULL, *b = NULL, *o;
	int n;

	*out = NULL;
	if (query_run_show(st, run_a, &a, e) < 0 || query_run_show(st, run_b, &b, e) < 0) {
		cJSON_Delete(a);
		return -1;
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "a", run_summary(a));
	cJSON_AddItemToObject(o, "b", run_summary(b));
	n = diff_params(o, cJSON_GetObjectItemCaseSensitive(a, "params"),
			cJSON_GetObjectItemCaseSensitive(b, "params"));
	n += diff_metrics(o, cJSON_GetObjectItemCaseSensitive(a, "metrics"),
			  cJSON_GetObjectItemCaseSensitive(b, "metrics"));
	n += diff_steps(o, cJSON_GetObjectItemCaseSensitive(a, "steps"), cJSON_GetObjectItemCaseSensitive(b, "steps"));
	cJSON_AddNumberToObject(o, "differences", n);
	cJSON_Delete(a);
	cJSON_Delete(b);
	*out = o;
	return 0;
}
