/* map_guard.h - a file mapping whose file shrinks while it is read raises SIGBUS on the pages past the
 * new end; the guard turns that into an error. A thread arms it around the code that reads the mapping:
 *
 *     sigjmp_buf jb;
 *     if (sigsetjmp(jb, 1)) { ...the file shrank: give up... }
 *     map_guard_arm(&jb);
 *     ...read the mapping (no allocation whose pointer would be lost by the jump)...
 *     map_guard_arm(NULL);
 *
 * The handler is process-wide: map_guard_install before the threads start, map_guard_restore after they
 * ended. A SIGBUS in a thread that has not armed the guard gets the default action (the process dies,
 * as it would have without the guard). */
#ifndef MLCI_MAP_GUARD_H
#define MLCI_MAP_GUARD_H

#include <setjmp.h>
#include <signal.h>

void map_guard_install(struct sigaction *old);
void map_guard_restore(const struct sigaction *old);
void map_guard_arm(sigjmp_buf *jb);

#endif
