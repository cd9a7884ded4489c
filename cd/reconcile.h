/* reconcile.h - the registry follows the state repo (the state repo wins): transition rows missing for
 * state commits (what a crash between the state commit and the registry write left behind) are added.
 * Incremental: only the commits after the last reconciled one are read. It repairs records; it never
 * changes the state repo or deploys. */
#ifndef MLCI_RECONCILE_H
#define MLCI_RECONCILE_H

#include "cd/session.h"

/* Reconcile the session's store with its state repo, at most once per session. "added" (may be NULL)
 * gets the number of rows added. */
int cd_reconcile(struct cd_session *s, int *added, struct err *e);
/* How many state commits the last cd_reconcile of this process read (a debug counter for tests). */
int cd_reconcile_commits_read(void);

#endif
