/* store_heads.c - branch_heads rows for `mlci watch` and the cancelling of pending promotions of a
 * deleted branch. Bound parameters only; it must not print. */
#include "registry/store_heads.h"

#include <string.h>

#include "registry/store_int.h"
#include "common/clock.h"
#include "common/banned.h"

int store_head_put(struct store *st, const char *repo, const char *branch, const char *commit_id, const char *run,
		   const char *status, struct err *e)
{
	sqlite3_stmt *s;
	int ret = 0;
	if (store_prepare(st, &s,
			  "INSERT OR REPLACE INTO branch_heads(repo, branch, commit_id, run, status, updated_ms) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			  "could not record a branch head", e) < 0)
		return -1;
	store_bind_text(s, 1, repo);
	store_bind_text(s, 2, branch);
	store_bind_text(s, 3, commit_id);
	store_bind_text(s, 4, run);
	store_bind_text(s, 5, status);
	store_bind_ms(s, 6, clock_wall_ms());
	if (sqlite3_step(s) != SQLITE_DONE)
		ret = store_sql_err(st, e, "could not record the head of branch '%s'", branch);
	sqlite3_finalize(s);
	return ret;
}

int store_head_finish(struct store *st, const char *repo, const char *branch, const char *commit_id, const char *run,
		      const char *status, struct err *e)
{
	sqlite3_stmt *s;
	int ret = 0;
	if (store_prepare(st, &s,
			  "UPDATE branch_heads SET status = ?4, run = coalesce(?5, run), updated_ms = ?6 "
			  "WHERE repo = ?1 AND branch = ?2 AND commit_id = ?3",
			  "could not update a branch head", e) < 0)
		return -1;
	store_bind_text(s, 1, repo);
	store_bind_text(s, 2, branch);
	store_bind_text(s, 3, commit_id);
	store_bind_text(s, 4, status);
	store_bind_text(s, 5, run);
	store_bind_ms(s, 6, clock_wall_ms());
	if (sqlite3_step(s) != SQLITE_DONE)
		ret = store_sql_err(st, e, "could not update the head of branch '%s'", branch);
	sqlite3_finalize(s);
	return ret;
}

int store_heads_each(struct store *st, const char *repo, int (*fn)(void *payload, const struct store_head *h),
		     void *payload, struct err *e)
{
	sqlite3_stmt *s;
	int rc, ret = 0;
	if (store_prepare(st, &s,
			  "SELECT repo, branch, commit_id, run, status, updated_ms FROM branch_heads WHERE repo = ?1 "
			  "ORDER BY branch",
			  "could not list branch heads", e) < 0)
		return -1;
	store_bind_text(s, 1, repo);
	while (!ret && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_head h;
		h.repo = store_col(s, 0);
		h.branch = store_col(s, 1);
		h.commit_id = store_col(s, 2);
		h.run = store_col(s, 3);
		h.status = store_col(s, 4);
		h.updated_ms = sqlite3_column_int64(s, 5);
		ret = fn(payload, &h);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = store_sql_err(st, e, "could not list branch heads");
	sqlite3_finalize(s);
	return ret < 0 ? -1 : 0;
}

int store_head_find_run(struct store *st, const char *run_repo, const char *commit_id, const char *branch,
			int64_t since_ms, char *id_out, size_t n, struct err *e)
{
	sqlite3_stmt *s;
	int rc, ret = 0;
	if (store_prepare(st, &s,
			  "SELECT id FROM runs WHERE repo = ?1 AND commit_id = ?2 AND branch = ?3 AND started_ms >= ?4 "
			  "ORDER BY started_ms DESC, rowid DESC LIMIT 1",
			  "could not look up the run of a head", e) < 0)
		return -1;
	store_bind_text(s, 1, run_repo);
	store_bind_text(s, 2, commit_id);
	store_bind_text(s, 3, branch);
	sqlite3_bind_int64(s, 4, since_ms);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *id = store_col(s, 0);
		size_t l = id ? strlen(id) : 0;
		if (l >= n)
			l = n - 1;
		memcpy(id_out, id ? id : "", l);
		id_out[l] = '\0';
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		ret = store_sql_err(st, e, "could not look up the run of a head");
	}
	sqlite3_finalize(s);
	return ret;
}

int store_promotions_cancel_branch(struct store *st, const char *run_repo, const char *branch, int *count_out,
				   struct err *e)
{
	sqlite3_stmt *s;
	int ret = 0;
	if (store_prepare(st, &s,
			  "UPDATE promotions SET status = 'cancelled', updated_ms = ?3, "
			  "waiting_for = 'branch deleted' "
			  "WHERE status = 'pending' AND branch = ?2 AND run IN (SELECT id FROM runs WHERE repo = ?1)",
			  "could not cancel pending promotions", e) < 0)
		return -1;
	store_bind_text(s, 1, run_repo);
	store_bind_text(s, 2, branch);
	store_bind_ms(s, 3, clock_wall_ms());
	if (sqlite3_step(s) != SQLITE_DONE)
		ret = store_sql_err(st, e, "could not cancel the pending promotions of branch '%s'", branch);
	else if (count_out)
		*count_out = sqlite3_changes(store_db(st));
	sqlite3_finalize(s);
	return ret;
}
