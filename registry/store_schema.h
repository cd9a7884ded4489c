/* store_schema.h - the store's migrations, one SQL script per schema version (index = version).
 * Only registry/store.c and the tests read it; released entries are never edited, new ones appended. */
#ifndef MLCI_STORE_SCHEMA_H
#define MLCI_STORE_SCHEMA_H

/* store_migrations[v] takes a database from version v - 1 to v; [0] is NULL (version 0 = empty).
 * There are STORE_SCHEMA_VERSION + 1 entries. */
extern const char *const store_migrations[];

#endif
