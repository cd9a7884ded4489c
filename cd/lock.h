/* lock.h - one promotion per environment at a time: the (pipeline, environment) lock in the store,
 * waited for up to $MLCI_LOCK_TIMEOUT seconds; and the crash points tests use to kill mlci mid-promotion.
 * It locks; what happens under the lock is cd/apply.c's. */
#ifndef MLCI_LOCK_H
#define MLCI_LOCK_H

#include "common/error.h"
#include "registry/store.h"

/* Take the lock of (pipeline, env), waiting up to $MLCI_LOCK_TIMEOUT seconds (default 30); -1 naming
 * the holder when it stays taken. A lock left by a dead process of this host is taken over. */
int cd_lock(struct store *st, const char *pipeline, const char *env, const char *actor, struct err *e);
void cd_unlock(struct store *st, const char *pipeline, const char *env);

/* The test hook $MLCI_TEST_CRASH_AFTER=NAME: SIGKILL this process when it reaches crash point NAME
 * ("state-commit": right after a state commit). */
void cd_crash_point(const char *name);

#endif
