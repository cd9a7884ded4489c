/* proc.h - the one process runner: `/bin/sh -c CMD` in its own process group, exact environment,
 * output captured to a log file (and optionally streamed), timeout that kills the whole group. */
#ifndef MLCI_PROC_H
#define MLCI_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/error.h"

struct proc_opts {
	const char *cmd;           /* shell command, run as /bin/sh -c cmd; required */
	const char *cwd;           /* working directory; NULL = inherit */
	char *const *env;          /* the complete environment, NULL-terminated; NULL = empty environment */
	const char *log_path;      /* stdout+stderr appended here (created 0644); NULL = discard */
	int stream_fd;             /* also copy output to this fd (e.g. 2); -1 = do not stream */
	const char *stream_prefix; /* prefix for each streamed line (e.g. "train | "); NULL = none */
	int64_t timeout_ms;        /* 0 = no timeout */
	const char *const *mask;   /* NULL-terminated secrets replaced by "***" in log and stream; may be NULL */
	struct buf *capture;       /* also append raw output here (bounded by capture->max); may be NULL */
};

enum proc_state { PROC_IDLE = 0, PROC_RUNNING, PROC_DONE };

struct proc {
	enum proc_state state;
	pid_t pid;             /* also the process group id */
	int out_fd;            /* read end of the child's stdout+stderr pipe; -1 when closed */
	int log_fd;            /* -1 when no log */
	int exited;            /* waitpid reaped the child */
	int64_t started_ms;    /* monotonic */
	int64_t deadline_ms;   /* monotonic; 0 = none */
	int64_t kill_at_ms;    /* when to escalate SIGTERM to SIGKILL (0 = not signalled); once reaped: drain limit */
	struct buf linebuf;    /* partial line pending for masking/prefixing */
	struct proc_opts opts; /* copy of the caller's options; pointers are borrowed */
	/* results, valid when state == PROC_DONE */
	int exit_code;   /* exit status, or 128+signal when killed by a signal */
	int term_signal; /* signal that ended it, 0 if it exited */
	int timed_out;   /* killed because the timeout passed */
	int64_t duration_ms;
};

/* Start the command; on success p->state == PROC_RUNNING. "p" must stay at the same address
 * until proc_release. Returns 0 or -1 with "e" set (MLCI_EINFRA). */
int proc_start(struct proc *p, const struct proc_opts *o, struct err *e);

/* Pump output and reap children for up to "wait_ms" (0 = just poll, -1 = until one finishes).
 * Enforces timeouts (SIGTERM to the group, SIGKILL 2 s later). Returns the index in "ps" of a
 * process that reached PROC_DONE during this call, or -1 if none did. Entries that are NULL or not
 * PROC_RUNNING are ignored. Returns -2 if interrupted by a signal (EINTR) so callers can check flags. */
int proc_wait_any(struct proc **ps, size_t n, int wait_ms);

/* Send "sig" to the whole process group of a running process. */
void proc_signal(struct proc *p, int sig);

/* Convenience: start, wait until done. Returns 0 when it ran (inspect exit_code), -1 when it could not start. */
int proc_run(struct proc *p, const struct proc_opts *o, struct err *e);

/* Close fds and free buffers. Kills the group (SIGKILL) if still running. */
void proc_release(struct proc *p);

#endif
