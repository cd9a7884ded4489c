/* query_int.h - helpers shared by the query files (query.c, lineage.c): prepared statements and
 * turning result columns into cJSON values. Internal to registry/; nothing outside includes it. */
#ifndef MLCI_QUERY_INT_H
#define MLCI_QUERY_INT_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdint.h>

#include "common/error.h"

/* Prepare "sql" on "db"; on failure set "e" (MLCI_EINFRA) and return -1. */
int query_prepare(sqlite3 *db, sqlite3_stmt **s, const char *sql, struct err *e);
/* Bind "v" (NULL binds SQL NULL) to parameter "i". */
void query_bind_text(sqlite3_stmt *s, int i, const char *v);
/* The error of a failed sqlite3_step: MLCI_EINFRA with the database's message; returns -1. */
int query_step_error(sqlite3_stmt *s, struct err *e);
/* Column "i" as text, or NULL for SQL NULL. */
const char *query_col_text(sqlite3_stmt *s, int i);
/* Add column "i" to "o" under "key" as a string / number, or null for SQL NULL. */
void query_add_text(cJSON *o, const char *key, sqlite3_stmt *s, int i);
void query_add_int(cJSON *o, const char *key, sqlite3_stmt *s, int i);
/* Add "<key>_ms" (number or null) and "<key>" (ISO 8601 UTC "2026-11-25T17:42:03Z" or null). */
void query_add_time(cJSON *o, const char *key, sqlite3_stmt *s, int i);
/* Parse JSON text into a value; text that is not JSON is kept as a string, NULL becomes null. */
cJSON *query_parse_json(const char *text);

#endif
