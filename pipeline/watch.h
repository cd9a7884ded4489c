/* watch.h - the GitOps loop of `mlci watch` (DESIGN "Watching"): mirror each repository, compare its
 * branch heads with the ones handled (store table branch_heads), run the pipeline for every new head.
 * Runs are child processes of the mlci binary; this module never prints (events go to an observer). */
#ifndef MLCI_WATCH_H
#define MLCI_WATCH_H

#include <signal.h>
#include <stdint.h>

#include "git/workspace.h"
#include "common/error.h"
#include "common/strvec.h"

enum watch_what {
	WATCH_HEAD,         /* a new head to run: "detail" says new branch / fast-forward / force-push */
	WATCH_RUN_START,    /* a run of "commit" on "branch" started */
	WATCH_RUN_END,      /* it ended: "run" (may be NULL), "exit_code" of `mlci run` */
	WATCH_DELETED,      /* "branch" is gone; "count" pending promotions cancelled */
	WATCH_FETCH_FAILED, /* "detail" says why; retried after "retry_ms" (0: not retried, --once) */
	WATCH_FETCH_OK,     /* the repository answers again after failures */
};

struct watch_report {
	enum watch_what what;
	const char *repo, *branch, *commit, *run, *detail; /* borrowed; any may be NULL */
	int exit_code, count;
	int64_t retry_ms;
};

struct watch_opts {
	const char *home;
	const char *const *repos; /* URLs or local paths; at least one */
	size_t n_repos;
	int64_t interval_ms;           /* between polls of one repository */
	int once;                      /* one poll of each repository, wait for the runs, return */
	int jobs;                      /* runs at once (>= 1) */
	const struct strvec *branches; /* fnmatch globs of the branches to watch; NULL or empty = all */
	struct ws_transport transport; /* ssh key and known_hosts */
	const char *exe;               /* the mlci binary the runs are started with */
	volatile sig_atomic_t *stop;   /* set by a signal handler: stop polling, cancel runs, return */
	void (*report)(void *payload, const struct watch_report *r); /* may be NULL */
	void *payload;
};

struct watch_result {
	int runs, passed, failed, cancelled; /* runs started and how they ended */
	int fetch_failures;                  /* polls that failed */
};

/* Watch until *o->stop is set (or one cycle with o->once). Each repository is locked for the watcher's
 * life ($home/locks/watch-<hash>.lock, flock): when another watcher holds it, -1 with MLCI_EINFRA and
 * the holder's pid, before anything is fetched or run. On stop, running runs get SIGTERM (they
 * cancel and record themselves) and are waited for. A failing poll or fetch is reported and retried
 * with backoff (interval, doubling, at most 5 minutes); it never ends the loop. -1 only when the
 * store or a mirror cannot be opened at all. */
int watch_run(const struct watch_opts *o, struct watch_result *res, struct err *e);

#endif
