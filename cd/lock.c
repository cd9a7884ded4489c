/* lock.c - the per-environment promotion lock (cd/lock.h) and the test crash points. It must not decide
 * or print anything. */
#include "cd/lock.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/strvec.h"
#include "registry/store_gates.h"
#include "common/banned.h"

void cd_crash_point(const char *name)
{
	const char *v = getenv("MLCI_TEST_CRASH_AFTER");
	if (v && !strcmp(v, name))
		raise(SIGKILL);
}

int cd_lock(struct store *st, const char *pipeline, const char *env, const char *actor, struct err *e)
{
	const char *tv = getenv("MLCI_LOCK_TIMEOUT");
	long timeout_ms = (tv && *tv ? strtol(tv, NULL, 10) : 30) * 1000;
	long waited = 0;
	for (;;) {
		struct strvec holder = STRVEC_INIT;
		int r = store_env_lock_try(st, pipeline, env, actor, &holder, e);
		if (r != 0) {
			strvec_clear(&holder);
			return r < 0 ? -1 : 0;
		}
		if (waited >= timeout_ms) {
			err_set(e, MLCI_EINFRA,
				"environment %s (pipeline %s) is being promoted by %s; gave up after %lds (one "
				"promotion per environment at a time)",
				env, pipeline, holder.n ? holder.v[0] : "?", waited / 1000);
			strvec_clear(&holder);
			return -1;
		}
		strvec_clear(&holder);
		{
			struct timespec ts = { 0, 100L * 1000 * 1000 };
			nanosleep(&ts, NULL);
			waited += 100;
		}
	}
}

void cd_unlock(struct store *st, const char *pipeline, const char *env)
{
	struct err e = ERR_INIT;
	store_env_lock_release(st, pipeline, env, &e);
	err_release(&e);
}
