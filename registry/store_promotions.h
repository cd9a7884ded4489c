/* store_promotions.h - promotion candidates in the store: pending (waiting for approvals), promoted,
 * superseded, failed. Recording only; the rules live in cd/promote.c. */
#ifndef MLCI_STORE_PROMOTIONS_H
#define MLCI_STORE_PROMOTIONS_H

#include <stdint.h>

#include "registry/store.h"

struct store_promotion {
	int64_t id;
	const char *pipeline, *environment, *model;
	int64_t version; /* 0 = no model version */
	const char *run, *commit_id, *branch, *status, *waiting_for, *state_commit;
	int64_t created_ms, updated_ms;
	const char *evidence; /* JSON array of the gate verdicts decided on; NULL = none */
	int keep_pending;     /* store_promotion_add: do not supersede older pending ones (supersede: false) */
};

/* Insert a candidate; every older pending one of the same pipeline and environment is superseded by it
 * (one transaction): a newer commit replaces what waited before it, unless "keep_pending". "id_out" may be NULL. */
int store_promotion_add(struct store *st, const struct store_promotion *p, int64_t *id_out, struct err *e);
/* Call "fn" for candidates of "environment" (NULL = all) with status "status" (NULL = any), newest first. */
int store_promotions_each(struct store *st, const char *environment, const char *status,
			  int (*fn)(void *payload, const struct store_promotion *p), void *payload, struct err *e);

#endif
