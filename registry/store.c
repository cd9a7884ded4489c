/* store.c - the metadata store's lifecycle: open (pragmas, migrations, interrupted-run detection),
 * transactions, run rows and the run lock files. Values always go through bound parameters; no printing. */
#include "registry/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/path.h"
#include "registry/store_int.h"
#include "registry/store_schema.h"
#include "common/banned.h"

#define STORE_BUSY_TIMEOUT_MS 10000

/* ---------------------------------------------------------------- helpers shared with store_records.c */

int store_sql_err(struct store *st, struct err *e, const char *fmt, ...)
{
	struct buf what = BUF_INIT;
	va_list ap;
	int ret;
	va_start(ap, fmt);
	buf_vaddf(&what, fmt, ap);
	va_end(ap);
	ret = err_set(e, MLCI_EINFRA, "%s: %s", what.ptr, st->db ? sqlite3_errmsg(st->db) : "no database");
	buf_release(&what);
	return ret;
}

int store_prepare(struct store *st, sqlite3_stmt **s, const char *sql, const char *what, struct err *e)
{
	*s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK) {
		sqlite3_finalize(*s);
		*s = NULL;
		return store_sql_err(st, e, "%s", what);
	}
	return 0;
}

void store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

void store_bind_ms(sqlite3_stmt *s, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

const char *store_col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

const char *store_col_str(sqlite3_stmt *s, int i)
{
	const char *t = store_col(s, i);
	return t ? t : "";
}

char *store_col_dup(sqlite3_stmt *s, int i)
{
	const char *t = store_col(s, i);
	return t ? xstrdup(t) : NULL;
}

int store_exec_done(struct store *st, sqlite3_stmt *s, const char *what, struct err *e)
{
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return store_sql_err(st, e, "%s", what);
	return 0;
}

/* Run a statement without results (no values: those go through store_prepare and binding). */
static int exec_sql(struct store *st, const char *sql, const char *what, struct err *e)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_sql_err(st, e, "%s", what);
	return 0;
}

/* ---------------------------------------------------------------- transactions */

/*
 * Write transactions start with BEGIN IMMEDIATE: the write lock is taken (waiting up to the busy
 * timeout) before anything is read, so two processes never both hold a read snapshot and then
 * deadlock trying to upgrade it. Inside a caller's transaction a savepoint gives the same
 * all-or-nothing behaviour to one multi-row change.
 */
int store_tx_begin(struct store *st, struct store_tx *tx, struct err *e)
{
	tx->active = 0;
	tx->owned = sqlite3_get_autocommit(st->db);
	/* The bare SQLite message ("database is locked"): callers say what they were doing. */
	if (sqlite3_exec(st->db, tx->owned ? "BEGIN IMMEDIATE" : "SAVEPOINT mlci_tx", NULL, NULL, NULL) != SQLITE_OK)
		return err_set(e, MLCI_EINFRA, "%s", sqlite3_errmsg(st->db));
	tx->active = 1;
	return 0;
}

int store_tx_commit(struct store *st, struct store_tx *tx, struct err *e)
{
	if (!tx->active)
		return 0;
	if (sqlite3_exec(st->db, tx->owned ? "COMMIT" : "RELEASE mlci_tx", NULL, NULL, NULL) != SQLITE_OK) {
		err_set(e, MLCI_EINFRA, "%s", sqlite3_errmsg(st->db));
		store_tx_rollback(st, tx);
		return -1;
	}
	tx->active = 0;
	return 0;
}

void store_tx_rollback(struct store *st, struct store_tx *tx)
{
	if (!tx->active)
		return;
	tx->active = 0;
	/* Some errors (SQLITE_FULL, IOERR, NOMEM) end the transaction by themselves. */
	if (sqlite3_get_autocommit(st->db))
		return;
	if (tx->owned)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	else
		sqlite3_exec(st->db, "ROLLBACK TO mlci_tx; RELEASE mlci_tx", NULL, NULL, NULL);
}

int store_begin(struct store *st, struct err *e)
{
	if (!sqlite3_get_autocommit(st->db))
		return err_set(e, MLCI_EINFRA, "could not begin a transaction: one is already open");
	return exec_sql(st, "BEGIN IMMEDIATE", "could not begin a transaction", e);
}

int store_commit(struct store *st, struct err *e)
{
	if (sqlite3_get_autocommit(st->db))
		return err_set(e, MLCI_EINFRA, "could not commit: no transaction is open");
	if (exec_sql(st, "COMMIT", "could not commit", e) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

void store_rollback(struct store *st)
{
	if (st->db && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

struct sqlite3 *store_db(struct store *st)
{
	return st->db;
}

/* ---------------------------------------------------------------- migrations */

/* Version recorded in the file: 0 for a new file, an empty schema_version table or none. */
static int schema_version_read(struct store *st, int64_t *version, struct err *e)
{
	sqlite3_stmt *s;
	int rc, exists;
	*version = 0;
	if (store_prepare(st, &s, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
			  "could not read the store schema version", e) < 0)
		return -1;
	rc = sqlite3_step(s);
	exists = rc == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_sql_err(st, e, "could not read the store schema version");
	if (!exists)
		return 0;
	if (store_prepare(st, &s, "SELECT max(version) FROM schema_version", "could not read the store schema version",
			  e) < 0)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int64(s, 0); /* NULL (no row) reads as 0 */
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return store_sql_err(st, e, "could not read the store schema version");
	return 0;
}

static int schema_too_new(int64_t version, struct err *e)
{
	return err_set(e, MLCI_EINFRA, "store schema version %lld is newer than this mlci (%d)", (long long)version,
		       STORE_SCHEMA_VERSION);
}

/*
 * Bring the file to STORE_SCHEMA_VERSION: every missing migration and the new version row in one
 * BEGIN IMMEDIATE transaction, so a crash or a concurrent mlci sees either the old schema or the new
 * one. The version is read again under the write lock because another process may have migrated
 * in between. A file newer than this binary is refused, never downgraded.
 */
static int store_migrate(struct store *st, struct err *e)
{
	struct store_tx tx;
	sqlite3_stmt *s;
	int64_t version;
	if (schema_version_read(st, &version, e) < 0)
		return -1;
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	if (version > STORE_SCHEMA_VERSION || version < 0)
		return schema_too_new(version, e);
	if (store_tx_begin(st, &tx, e) < 0)
		return err_prefix(e, "could not migrate the store");
	if (schema_version_read(st, &version, e) < 0)
		goto fail;
	if (version > STORE_SCHEMA_VERSION || version < 0) {
		schema_too_new(version, e);
		goto fail;
	}
	for (int64_t v = version + 1; v <= STORE_SCHEMA_VERSION; v++) {
		if (sqlite3_exec(st->db, store_migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
			store_sql_err(st, e, "could not migrate the store to schema version %lld", (long long)v);
			goto fail;
		}
	}
	if (exec_sql(st, "DELETE FROM schema_version", "could not record the store schema version", e) < 0)
		goto fail;
	if (store_prepare(st, &s, "INSERT INTO schema_version(version) VALUES (?1)",
			  "could not record the store schema version", e) < 0)
		goto fail;
	sqlite3_bind_int(s, 1, STORE_SCHEMA_VERSION);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_sql_err(st, e, "could not record the store schema version");
		sqlite3_finalize(s);
		goto fail;
	}
	sqlite3_finalize(s);
	if (store_tx_commit(st, &tx, e) < 0)
		return err_prefix(e, "could not migrate the store");
	if (version != STORE_SCHEMA_VERSION)
		log_verbose("store '%s' migrated from schema version %lld to %d", st->path, (long long)version,
			    STORE_SCHEMA_VERSION);
	return 0;
fail:
	store_tx_rollback(st, &tx);
	return -1;
}

/* ---------------------------------------------------------------- run locks */

/* Run ids name lock files: keep them to one safe path component. */
static int run_id_valid(const char *id)
{
	size_t n = 0;
	if (!id || !*id || *id == '.')
		return 0;
	for (const char *p = id; *p; p++, n++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '-'))
			return 0;
	}
	return n <= 200;
}

static char *lock_path_of(const struct store *st, const char *run_id)
{
	struct buf b = BUF_INIT;
	buf_addf(&b, "%s/locks/%s.lock", st->home, run_id);
	return buf_detach(&b, NULL);
}

/* Unlink first, then close: once the lock file is gone nobody can mistake it for a dead owner's. */
static void lock_release(struct store *st)
{
	if (st->lock_fd >= 0) {
		if (st->lock_path)
			unlink(st->lock_path);
		close(st->lock_fd);
	}
	st->lock_fd = -1;
	free(st->lock_path);
	st->lock_path = NULL;
}

/*
 * Whether the process owning running run "id" is gone: its lock file is missing (the owner never
 * keeps a running row without one) or can be locked by us. On "dead" with a lock file, "*fd" keeps
 * it locked so that the owner cannot come back while we mark the run; the caller closes it.
 */
static int run_owner_dead(struct store *st, const char *id, int *fd)
{
	char *path;
	int dead = 0;
	*fd = -1;
	if (!run_id_valid(id))
		return 0;
	path = lock_path_of(st, id);
	*fd = open(path, O_RDWR | O_CLOEXEC);
	if (*fd < 0) {
		dead = errno == ENOENT;
		if (!dead)
			log_warn("could not open '%s': %s", path, strerror(errno));
	} else if (flock(*fd, LOCK_EX | LOCK_NB) == 0) {
		dead = 1;
	} else {
		close(*fd);
		*fd = -1;
	}
	free(path);
	return dead;
}

struct dead_run {
	char *id;
	int64_t pid;
	char *host;
	int fd;
};

static int mark_one_interrupted(struct store *st, const struct dead_run *d, int64_t now, struct err *e)
{
	static const char run_sql[] = "UPDATE runs SET status = 'interrupted', finished_ms = ?1, reason = ?2 "
				      "WHERE id = ?3 AND status = 'running'";
	static const char step_sql[] =
		"UPDATE steps SET status = 'interrupted', finished_ms = coalesce(finished_ms, ?1), "
		"reason = coalesce(reason, ?2) WHERE run = ?3 AND status = 'running'";
	struct buf reason = BUF_INIT;
	int ret = 0;
	buf_addf(&reason, "mlci process died (pid %lld on %s)", (long long)d->pid, d->host);
	for (int i = 0; i < 2 && !ret; i++) {
		sqlite3_stmt *s;
		if (store_prepare(st, &s, i ? step_sql : run_sql, "could not mark interrupted runs", e) < 0) {
			ret = -1;
			break;
		}
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_text(s, 2, reason.ptr, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, d->id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			ret = store_sql_err(st, e, "could not mark run '%s' interrupted", d->id);
		sqlite3_finalize(s);
	}
	if (!ret)
		log_verbose("run '%s' marked interrupted: %s", d->id, reason.ptr);
	buf_release(&reason);
	return ret;
}

/*
 * Every run still "running" whose owner is gone becomes "interrupted", with its running steps, in one
 * transaction. The scan happens under the write lock: an owner finishing its run at the same moment
 * either commits before we look (the row is no longer running) or waits for us while still holding
 * its lock file (so it is not taken for dead).
 */
static int mark_interrupted_runs(struct store *st, struct err *e)
{
	struct dead_run *dead = NULL;
	size_t ndead = 0, alloc = 0;
	struct store_tx tx;
	sqlite3_stmt *s;
	int rc, ret = -1, any;
	int64_t now = clock_wall_ms();

	/* Fast path without the write lock: usually nothing is running. */
	if (store_prepare(st, &s, "SELECT 1 FROM runs WHERE status = 'running' LIMIT 1",
			  "could not look for interrupted runs", e) < 0)
		return -1;
	rc = sqlite3_step(s);
	any = rc == SQLITE_ROW;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_err(st, e, "could not look for interrupted runs");
	if (!any)
		return 0;

	if (store_tx_begin(st, &tx, e) < 0)
		return err_prefix(e, "could not mark interrupted runs");
	if (store_prepare(st, &s, "SELECT id, pid, host FROM runs WHERE status = 'running'",
			  "could not look for interrupted runs", e) < 0)
		goto done;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		const char *host = (const char *)sqlite3_column_text(s, 2);
		int fd;
		if (!id || !run_owner_dead(st, id, &fd))
			continue;
		ALLOC_GROW(dead, ndead + 1, alloc);
		dead[ndead].id = xstrdup(id);
		dead[ndead].pid = sqlite3_column_int64(s, 1);
		dead[ndead].host = xstrdup(host ? host : "?");
		dead[ndead].fd = fd;
		ndead++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sql_err(st, e, "could not look for interrupted runs");
		goto done;
	}
	for (size_t i = 0; i < ndead; i++)
		if (mark_one_interrupted(st, &dead[i], now, e) < 0)
			goto done;
	if (store_tx_commit(st, &tx, e) < 0) {
		err_prefix(e, "could not mark interrupted runs");
		goto done;
	}
	ret = 0;
done:
	store_tx_rollback(st, &tx);
	for (size_t i = 0; i < ndead; i++) {
		if (dead[i].fd >= 0) {
			if (!ret) {
				char *p = lock_path_of(st, dead[i].id);
				unlink(p);
				free(p);
			}
			close(dead[i].fd);
		}
		free(dead[i].id);
		free(dead[i].host);
	}
	free(dead);
	return ret;
}

/* ---------------------------------------------------------------- open / close */

/*
 * WAL mode, then the per-connection pragmas. Switching a new file to WAL needs an exclusive lock and
 * SQLite does not call the busy handler for it, so two mlci creating the store at the same moment
 * would see "database is locked": retry for as long as the busy timeout.
 */
static int set_pragmas(struct store *st, struct err *e)
{
	struct timespec pause = { 0, 5 * 1000 * 1000 };
	int64_t deadline = clock_mono_ms() + STORE_BUSY_TIMEOUT_MS;
	sqlite3_stmt *s;
	const char *mode;
	int ok, rc;
	for (;;) {
		if (store_prepare(st, &s, "PRAGMA journal_mode=WAL", "could not switch the store to WAL mode", e) < 0)
			return -1;
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			break;
		if ((rc & 0xff) != SQLITE_BUSY || clock_mono_ms() > deadline) {
			store_sql_err(st, e, "could not switch the store to WAL mode");
			sqlite3_finalize(s);
			return -1;
		}
		sqlite3_finalize(s);
		nanosleep(&pause, NULL);
	}
	mode = (const char *)sqlite3_column_text(s, 0);
	ok = mode && !strcmp(mode, "wal");
	if (!ok)
		err_set(e, MLCI_EINFRA, "could not switch the store to WAL mode (journal mode is '%s')",
			mode ? mode : "?");
	sqlite3_finalize(s);
	if (!ok)
		return -1;
	return exec_sql(st, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL", "could not configure the store", e);
}

int store_open(struct store *st, const char *home, struct err *e)
{
	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if (fs_mkdir_p(home, 0755, e) < 0)
		return err_prefix(e, "could not open the store");
	st->home = xstrdup(home);
	st->path = path_join(home, "mlci.db");
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		store_sql_err(st, e, "could not open the store '%s'", st->path);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	if (set_pragmas(st, e) < 0 || store_migrate(st, e) < 0 || mark_interrupted_runs(st, e) < 0) {
		err_prefix(e, "could not open the store '%s'", st->path);
		goto fail;
	}
	return 0;
fail:
	store_close(st);
	return -1;
}

void store_close(struct store *st)
{
	lock_release(st);
	if (st->db)
		sqlite3_close_v2(st->db);
	st->db = NULL;
	free(st->path);
	free(st->home);
	st->path = NULL;
	st->home = NULL;
}

/* ---------------------------------------------------------------- runs */

static char *host_name(void)
{
	char host[256];
	if (gethostname(host, sizeof(host)) < 0 || !host[0])
		return xstrdup("localhost");
	host[sizeof(host) - 1] = '\0';
	return xstrdup(host);
}

/* The OS user running mlci: passwd entry, else $USER, else the uid. */
static char *user_name(void)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];
	const char *env;
	struct buf b = BUF_INIT;
	uid_t uid = geteuid();
	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res && res->pw_name && *res->pw_name)
		return xstrdup(res->pw_name);
	env = getenv("USER");
	if (env && *env)
		return xstrdup(env);
	buf_addf(&b, "%lu", (unsigned long)uid);
	return buf_detach(&b, NULL);
}

/* Create and lock "$home/locks/<id>.lock" for the run this handle is about to own. */
static int lock_take(struct store *st, const char *run_id, struct err *e)
{
	struct buf dir = BUF_INIT;
	char *path;
	int fd;
	buf_addf(&dir, "%s/locks", st->home);
	if (fs_mkdir_p(dir.ptr, 0755, e) < 0) {
		buf_release(&dir);
		return -1;
	}
	buf_release(&dir);
	path = lock_path_of(st, run_id);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_errno(e, MLCI_EINFRA, "could not create lock file '%s'", path);
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			err_set(e, MLCI_EINFRA, "run '%s' is owned by another process (lock '%s')", run_id, path);
		else
			err_errno(e, MLCI_EINFRA, "could not lock '%s'", path);
		close(fd);
		free(path);
		return -1;
	}
	st->lock_fd = fd;
	st->lock_path = path;
	return 0;
}

int store_run_begin(struct store *st, const struct store_run *r, struct err *e)
{
	static const char sql[] =
		"INSERT INTO runs(id, pipeline, repo, commit_id, branch, trigger, status, host, user, pid, params, "
		"mlci_version, resumed_from, started_ms) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
	struct store_tx tx;
	sqlite3_stmt *s = NULL;
	char *host = NULL, *user = NULL;
	int ret = -1;
	if (!run_id_valid(r->id))
		return err_set(e, MLCI_EINFRA, "could not record run '%s': invalid run id", r->id ? r->id : "");
	if (st->lock_fd >= 0)
		return err_set(e, MLCI_EINFRA, "could not record run '%s': this store handle already owns a run",
			       r->id);
	if (lock_take(st, r->id, e) < 0)
		return err_prefix(e, "could not record run '%s'", r->id);
	if (store_tx_begin(st, &tx, e) < 0) {
		err_prefix(e, "could not record run '%s'", r->id);
		goto done;
	}
	if (store_prepare(st, &s, sql, "could not record run", e) < 0)
		goto done;
	host = host_name();
	user = user_name();
	store_bind_text(s, 1, r->id);
	store_bind_text(s, 2, r->pipeline);
	store_bind_text(s, 3, r->repo);
	store_bind_text(s, 4, r->commit_id);
	store_bind_text(s, 5, r->branch);
	store_bind_text(s, 6, r->trigger);
	store_bind_text(s, 7, host);
	store_bind_text(s, 8, user);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)getpid());
	store_bind_text(s, 10, r->params_json ? r->params_json : "{}");
	store_bind_text(s, 11, MLCI_VERSION);
	store_bind_text(s, 12, r->resumed_from);
	sqlite3_bind_int64(s, 13, r->started_ms ? r->started_ms : clock_wall_ms());
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_sql_err(st, e, "could not record run '%s'", r->id);
		goto done;
	}
	if (store_tx_commit(st, &tx, e) < 0) {
		err_prefix(e, "could not record run '%s'", r->id);
		goto done;
	}
	ret = 0;
done:
	sqlite3_finalize(s);
	store_tx_rollback(st, &tx);
	if (ret < 0)
		lock_release(st);
	free(host);
	free(user);
	return ret;
}

int store_run_finish(struct store *st, const char *run_id, const char *status, int64_t finished_ms, const char *reason,
		     struct err *e)
{
	struct store_tx tx;
	sqlite3_stmt *s = NULL;
	char *mine = NULL;
	int ret = -1;
	if (store_tx_begin(st, &tx, e) < 0)
		return err_prefix(e, "could not finish run '%s'", run_id);
	if (store_prepare(st, &s, "UPDATE runs SET status = ?1, finished_ms = ?2, reason = ?3 WHERE id = ?4",
			  "could not finish run", e) < 0)
		goto done;
	store_bind_text(s, 1, status);
	sqlite3_bind_int64(s, 2, finished_ms ? finished_ms : clock_wall_ms());
	store_bind_text(s, 3, reason);
	store_bind_text(s, 4, run_id);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_sql_err(st, e, "could not finish run '%s'", run_id);
		goto done;
	}
	if (sqlite3_changes(st->db) == 0) {
		err_set(e, MLCI_EINFRA, "could not finish run '%s': no such run", run_id);
		goto done;
	}
	if (store_tx_commit(st, &tx, e) < 0) {
		err_prefix(e, "could not finish run '%s'", run_id);
		goto done;
	}
	ret = 0;
	/* The row is no longer "running": the lock has done its job. */
	if (st->lock_path && run_id_valid(run_id)) {
		mine = lock_path_of(st, run_id);
		if (!strcmp(mine, st->lock_path))
			lock_release(st);
	}
done:
	sqlite3_finalize(s);
	store_tx_rollback(st, &tx);
	free(mine);
	return ret;
}
