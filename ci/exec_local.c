/* exec_local.c - the local executor (ci/executor.h): a step is `/bin/sh -c CMD` in its own process group
 * on this machine, through the one process runner (common/proc.c). It runs what it is given and never
 * decides, plans or prints. */
#include "ci/executor.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/clock.h"
#include "common/proc.h"
#include "common/banned.h"

struct exec_job {
	struct proc proc; /* must stay at this address while running: the job is heap-allocated */
};

static int local_start(struct executor *x, const struct exec_spec *spec, struct exec_job **job_out, struct err *e)
{
	struct exec_job *j = xcalloc(1, sizeof(*j));
	struct proc_opts o;
	(void)x;
	memset(&o, 0, sizeof(o));
	o.cmd = spec->command;
	o.cwd = spec->cwd;
	o.env = spec->env;
	o.log_path = spec->log_path;
	o.stream_fd = spec->stream_fd;
	o.stream_prefix = spec->stream_prefix;
	o.timeout_ms = spec->timeout_ms;
	o.mask = spec->mask;
	j->proc.out_fd = -1;
	j->proc.log_fd = -1;
	if (proc_start(&j->proc, &o, e) < 0) {
		proc_release(&j->proc);
		free(j);
		return -1;
	}
	/* only used while starting: the caller frees them after this call */
	j->proc.opts.cwd = NULL;
	j->proc.opts.log_path = NULL;
	j->proc.opts.env = NULL;
	*job_out = j;
	return 0;
}

static int local_poll(struct executor *x, struct exec_job *const *jobs, size_t n, int wait_ms)
{
	struct proc *stack[64], **ps = n <= 64 ? stack : xcalloc(n, sizeof(*ps));
	int idx;
	(void)x;
	for (size_t i = 0; i < n; i++)
		ps[i] = jobs[i] ? &jobs[i]->proc : NULL;
	idx = proc_wait_any(ps, n, wait_ms);
	if (ps != stack)
		free(ps);
	return idx;
}

static void local_cancel(struct executor *x, struct exec_job *job, int sig)
{
	(void)x;
	proc_signal(&job->proc, sig);
}

static void local_collect(struct executor *x, struct exec_job *job, struct exec_result *out)
{
	(void)x;
	out->exit_code = job->proc.exit_code;
	out->term_signal = job->proc.term_signal;
	out->timed_out = job->proc.timed_out;
	out->duration_ms = job->proc.duration_ms;
	proc_release(&job->proc);
	free(job);
}

static int64_t local_elapsed(struct executor *x, const struct exec_job *job)
{
	(void)x;
	return clock_mono_ms() - job->proc.started_ms;
}

struct executor *exec_local(void)
{
	static struct executor local = { "local", local_start, local_poll, local_cancel, local_collect, local_elapsed };
	return &local;
}
