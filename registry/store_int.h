/* store_int.h - helpers shared by the files of the metadata store (store.c and registry/store_*.c):
 * transactions that nest, binding, SQLite error messages. Nothing outside registry/store*.c uses it. */
#ifndef MLCI_STORE_INT_H
#define MLCI_STORE_INT_H

#include <sqlite3.h>
#include <stdint.h>

#include "common/error.h"
#include "registry/store.h"

/* A write transaction: BEGIN IMMEDIATE when none is open ("owned"), else a savepoint inside the
 * caller's transaction, so that a failing multi-row change never leaves half of itself behind. */
struct store_tx {
	int owned;
	int active;
};
int store_tx_begin(struct store *st, struct store_tx *tx, struct err *e);
int store_tx_commit(struct store *st, struct store_tx *tx, struct err *e);
/* Undo everything since store_tx_begin; a no-op once committed or rolled back. */
void store_tx_rollback(struct store *st, struct store_tx *tx);

/* err_set(e, MLCI_EINFRA, "<what>: <sqlite3_errmsg>") with "what" formatted; returns -1. */
int store_sql_err(struct store *st, struct err *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prepare "sql"; on failure the error names "what". */
int store_prepare(struct store *st, sqlite3_stmt **s, const char *sql, const char *what, struct err *e);
/* Bind text (NULL binds NULL) and times (0 binds NULL). Values are bound, never pasted into SQL. */
void store_bind_text(sqlite3_stmt *s, int i, const char *v);
void store_bind_ms(sqlite3_stmt *s, int i, int64_t v);
/* Column i as text: NULL for SQL NULL (store_col), "" for SQL NULL (store_col_str), or a copy the
 * caller frees (store_col_dup, NULL for SQL NULL). The first two point into the statement's row. */
const char *store_col(sqlite3_stmt *s, int i);
const char *store_col_str(sqlite3_stmt *s, int i);
char *store_col_dup(sqlite3_stmt *s, int i);
/* Step a prepared statement that returns no row and finalize it; the error names "what". */
int store_exec_done(struct store *st, sqlite3_stmt *s, const char *what, struct err *e);

#endif
