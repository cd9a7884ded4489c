/* store_locate.c - run lookup by id or unique prefix, like git's abbreviated object names.
 * Read-only queries with bound parameters; it must not print or modify the store. */
#include "registry/store_locate.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "registry/store_int.h"
#include "common/banned.h"

void store_run_ref_release(struct store_run_ref *r)
{
	free(r->id);
	free(r->repo);
	free(r->commit_id);
	free(r->branch);
	free(r->status);
	free(r->pipeline);
	memset(r, 0, sizeof(*r));
}

int store_run_locate(struct store *st, const char *id_or_prefix, struct store_run_ref *out, struct err *e)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *q = NULL;
	struct buf names = BUF_INIT;
	int n = 0, rc, ret = -1;

	memset(out, 0, sizeof(out[0]));
	if (!*id_or_prefix || strspn(id_or_prefix, "0123456789abcdef-") != strlen(id_or_prefix))
		return err_set(e, MLCI_EUSAGE, "invalid run id '%s'", id_or_prefix);
	/* exact match first, then prefix (the id alphabet has no LIKE wildcards, checked above) */
	if (sqlite3_prepare_v2(db,
			       "SELECT id, repo, commit_id, branch, status, pipeline FROM runs "
			       "WHERE id = ?1 OR (NOT EXISTS (SELECT 1 FROM runs WHERE id = ?1) AND id LIKE ?1 || '%') "
			       "ORDER BY id LIMIT 6",
			       -1, &q, NULL) != SQLITE_OK) {
		err_set(e, MLCI_EINFRA, "could not look up run '%s': %s", id_or_prefix, sqlite3_errmsg(db));
		goto done;
	}
	sqlite3_bind_text(q, 1, id_or_prefix, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n++ == 0) {
			out->id = store_col_dup(q, 0);
			out->repo = store_col_dup(q, 1);
			out->commit_id = store_col_dup(q, 2);
			out->branch = store_col_dup(q, 3);
			out->status = store_col_dup(q, 4);
			out->pipeline = store_col_dup(q, 5);
		}
		buf_addf(&names, "%s%s", names.len ? ", " : "", (const char *)sqlite3_column_text(q, 0));
	}
	if (rc != SQLITE_DONE) {
		err_set(e, MLCI_EINFRA, "could not look up run '%s': %s", id_or_prefix, sqlite3_errmsg(db));
		goto done;
	}
	if (n == 0) {
		err_set(e, MLCI_EUSAGE, "unknown run '%s'", id_or_prefix);
		goto done;
	}
	if (n > 1) {
		err_set(e, MLCI_EUSAGE, "run id '%s' is ambiguous: %s%s", id_or_prefix, names.ptr,
			n > 5 ? ", ..." : "");
		goto done;
	}
	ret = 0;
done:
	if (ret < 0)
		store_run_ref_release(out);
	sqlite3_finalize(q);
	buf_release(&names);
	return ret;
}
