/* map_guard.c - SIGBUS from a shrunk file mapping turned into a jump back to the reader (map_guard.h). */
#include <string.h>

#include "checks/map_guard.h"
#include "common/banned.h"

static _Thread_local sigjmp_buf *armed;

static void on_sigbus(int sig)
{
	sigjmp_buf *jb = armed;
	if (jb) {
		armed = NULL;
		siglongjmp(*jb, 1);
	}
	signal(sig, SIG_DFL); /* not a guarded read: what SIGBUS does without the guard */
	raise(sig);
}

void map_guard_install(struct sigaction *old)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, old);
}

void map_guard_restore(const struct sigaction *old)
{
	sigaction(SIGBUS, old, NULL);
}

void map_guard_arm(sigjmp_buf *jb)
{
	armed = jb;
}
