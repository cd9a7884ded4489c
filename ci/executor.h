/* executor.h - where a step runs: the interface the scheduler drives (start, poll, cancel, collect).
 * The local executor (ci/exec_local.c) is today's one implementation; remote ones (ssh, slurm) plug in
 * here without touching the scheduler. Executors run what they are given; they decide nothing. */
#ifndef MLCI_EXECUTOR_H
#define MLCI_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* An executor's handle of one started step; opaque to the scheduler. */
struct exec_job;

/* What to run: a shell command with exactly this environment. Pointers are borrowed for the call to
 * start() only. */
struct exec_spec {
	const char *command;       /* run as /bin/sh -c command */
	const char *cwd;           /* working directory */
	char *const *env;          /* the complete environment, NULL-terminated */
	const char *log_path;      /* stdout+stderr appended here */
	int64_t timeout_ms;        /* 0 = none */
	const char *const *mask;   /* NULL-terminated secrets replaced by "***" in the log; may be NULL */
	int stream_fd;             /* also copy output here (-1 = no) */
	const char *stream_prefix; /* before each streamed line; may be NULL */
};

/* How a job ended. */
struct exec_result {
	int exit_code;   /* exit status, or 128+signal when killed */
	int term_signal; /* the signal that ended it; 0 when it exited */
	int timed_out;   /* killed because its timeout passed */
	int64_t duration_ms;
};

struct executor {
	const char *name; /* "local" */
	/* Start "spec": *job_out is the handle until collect(). -1 with "e" when it could not start. */
	int (*start)(struct executor *x, const struct exec_spec *spec, struct exec_job **job_out, struct err *e);
	/* Wait up to "wait_ms" for one of "jobs" (NULL entries are ignored) to finish. The index of one that
	 * finished, -1 when none did, -2 when interrupted by a signal (the caller checks its stop flag). */
	int (*poll)(struct executor *x, struct exec_job *const *jobs, size_t n, int wait_ms);
	/* Deliver "sig" to a running job (all of its processes). */
	void (*cancel)(struct executor *x, struct exec_job *job, int sig);
	/* The result of a finished job (poll() returned it); frees the handle. */
	void (*collect)(struct executor *x, struct exec_job *job, struct exec_result *out);
	/* Milliseconds since the job started. */
	int64_t (*elapsed_ms)(struct executor *x, const struct exec_job *job);
};

/* The local executor: a process group on this machine through common/proc.c. Static; never freed. */
struct executor *exec_local(void);

#endif
