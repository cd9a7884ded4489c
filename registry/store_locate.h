/* store_locate.h - find a recorded run by id or unique id prefix (for --resume and the query commands).
 * Read-only; it does not change the store. */
#ifndef MLCI_STORE_LOCATE_H
#define MLCI_STORE_LOCATE_H

#include "registry/store.h"

struct store_run_ref {
	char *id, *repo, *commit_id, *branch, *status, *pipeline; /* owned; branch may be NULL */
};

/* Fill "out" with the run whose id is "id_or_prefix" or the only one starting with it.
 * Unknown or ambiguous: -1 with MLCI_EUSAGE and a message naming the candidates. */
int store_run_locate(struct store *st, const char *id_or_prefix, struct store_run_ref *out, struct err *e);
void store_run_ref_release(struct store_run_ref *r);

#endif
