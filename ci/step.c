/* step.c - one step of a run from start to result: a fresh output directory, the log header, the
 * declared environment and the command, handed to the run's executor; then its exit, timeout or signal,
 * its declared outputs checked and stored. Scheduling is schedule.c's; this file must not print. */
#include "ci/run_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ci/run_store.h"
#include "ci/step_env.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/path.h"
#include "common/banned.h"

/* The facts every process of run r shares: the run, its commit, branch and workspace, and
 * <run_dir>/tmp as TMPDIR (*tmp is the caller's to free once the environment is built). */
static void run_env_facts(const struct run *r, struct step_env *f, char **tmp)
{
	*tmp = path_join(r->run_dir, "tmp");
	memset(f, 0, sizeof(*f));
	f->spec = &r->spec;
	f->run_id = r->id;
	f->commit = r->commit.id;
	f->branch = r->commit.branch;
	f->workspace = r->workspace;
	f->tmpdir = *tmp;
}

void step_env_of(const struct run *r, size_t comp, enum step_phase phase, const char *out_dir, struct strvec *env)
{
	const struct spec_component *c = &r->spec.components[comp];
	struct step_env f;
	char *tmp;
	run_env_facts(r, &f, &tmp);
	f.component = c->name;
	f.phase = step_phase_name(phase);
	f.out_dir = out_dir;
	if (phase == PHASE_RUN) {
		f.outputs_root = r->out_dir;
		f.inputs = c->need_idx;
		f.n_inputs = c->needs.n;
	}
	step_env_build(&f, env);
	free(tmp);
}

void service_env_of(const struct run *r, struct strvec *env)
{
	struct step_env f;
	char *tmp;
	run_env_facts(r, &f, &tmp);
	f.component = "service";
	f.phase = "check";
	f.outputs_root = r->out_dir;
	f.all_inputs = 1;
	step_env_build(&f, env);
	free(tmp);
}

static int append_header(const char *log_path, const struct run_step *s, const char *cwd, struct err *e)
{
	struct buf h = BUF_INIT;
	int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	int ret = 0;
	if (fd < 0)
		return err_errno(e, MLCI_EINFRA, "could not open log '%s'", log_path);
	buf_addf(&h, "=== mlci: %s %s in %s\n", s->component, step_phase_name(s->phase), cwd);
	if (s->rebuild)
		buf_addstr(&h,
			   "=== (the build was reused from the cache; it runs again first in this fresh checkout)\n");
	buf_addf(&h, "=== $ %s\n", s->command);
	if (write(fd, h.ptr, h.len) != (ssize_t)h.len)
		ret = err_errno(e, MLCI_EINFRA, "could not write log '%s'", log_path);
	close(fd);
	buf_release(&h);
	return ret;
}

int step_start(struct run *r, struct run_step *s, int stream_output, const struct strvec *secrets, struct err *e)
{
	const struct spec_component *c = &r->spec.components[s->comp];
	struct exec_spec x;
	struct strvec env = STRVEC_INIT;
	char *cwd = c->path ? path_join(r->workspace, c->path) : xstrdup(r->workspace);
	char *log = run_log_path(r, c->name);
	char *out = s->phase == PHASE_RUN ? run_out_dir(r, s->comp) : NULL;
	struct buf cmdline = BUF_INIT;
	int ret = -1;

	/* a fresh, empty output directory: leftovers from an earlier attempt must not count */
	if (out && (fs_rm_rf(out, e) < 0 || fs_mkdir_p(out, 0755, e) < 0))
		goto done;
	if (append_header(log, s, c->path ? c->path : ".", e) < 0)
		goto done;
	step_env_of(r, s->comp, s->phase, out, &env);
	if (!s->stream_prefix) {
		struct buf p = BUF_INIT;
		buf_addf(&p, "%s | ", c->name);
		s->stream_prefix = buf_detach(&p, NULL);
	}
	memset(&x, 0, sizeof(x));
	x.command = s->command;
	if (s->rebuild && c->build) {
		/* the CI phase reused a cached build, but this run step executes in a fresh checkout:
		 * its build products must exist, so the build runs again first (in a subshell each) */
		buf_addf(&cmdline, "(\n%s\n) && (\n%s\n)", c->build, s->command);
		x.command = cmdline.ptr;
	}
	x.cwd = cwd;
	x.env = env.v;
	x.log_path = log;
	x.stream_fd = stream_output ? 2 : -1;
	x.stream_prefix = s->stream_prefix;
	x.timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : STEP_DEFAULT_TIMEOUT_MS;
	x.mask = secrets->n ? (const char *const *)secrets->v : NULL;
	if (r->exec->start(r->exec, &x, &s->job, e) < 0) {
		err_prefix(e, "%s %s", c->name, step_phase_name(s->phase));
		goto done;
	}
	ret = 0;
done:
	strvec_clear(&env);
	free(cwd);
	free(log);
	free(out);
	buf_release(&cmdline);
	return ret;
}

/* After a run step exited 0: every declared output must exist in $MLCI_OUT. */
static int check_outputs(const struct run *r, struct run_step *s)
{
	const struct spec_component *c = &r->spec.components[s->comp];
	char *out = run_out_dir(r, s->comp);
	struct buf missing = BUF_INIT;
	for (size_t i = 0; i < c->outputs.n; i++) {
		char *p = path_join(out, c->outputs.items[i]);
		if (!fs_exists(p))
			buf_addf(&missing, "%s'%s'", missing.len ? ", " : "", c->outputs.items[i]);
		free(p);
	}
	int ret = missing.len ? -1 : 0;
	if (ret)
		run_set_reason(&s->reason, "exited 0 but did not write declared output %s to $MLCI_OUT", missing.ptr);
	else
		fs_make_readonly(out); /* downstream steps may read but not change them */
	free(out);
	buf_release(&missing);
	return ret;
}

void step_finish(struct run *r, struct run_step *s)
{
	struct exec_result res;
	memset(&res, 0, sizeof(res));
	r->exec->collect(r->exec, s->job, &res);
	s->job = NULL;
	s->exit_code = res.exit_code;
	s->timed_out = res.timed_out;
	s->duration_ms = res.duration_ms;
	if (res.timed_out) {
		const struct spec_component *c = &r->spec.components[s->comp];
		s->status = STEP_FAILED;
		run_set_reason(&s->reason, "timed out after %.1fs and was killed",
			       (double)(c->timeout_ms > 0 ? c->timeout_ms : STEP_DEFAULT_TIMEOUT_MS) / 1000.0);
	} else if (res.term_signal) {
		s->status = STEP_FAILED;
		run_set_reason(&s->reason, "killed by signal %d", res.term_signal);
	} else if (res.exit_code != 0) {
		s->status = STEP_FAILED;
		run_set_reason(&s->reason, "exited with status %d", res.exit_code);
	} else if (s->phase == PHASE_RUN && check_outputs(r, s) < 0) {
		s->status = STEP_FAILED;
	} else {
		s->status = STEP_PASSED;
	}
	if (s->status == STEP_PASSED && s->phase == PHASE_RUN && r->store) {
		struct err e = ERR_INIT;
		if (record_outputs(r, s, &e) < 0) {
			s->status = STEP_FAILED;
			run_set_reason(&s->reason, "could not store its outputs: %s", err_msg(&e));
		}
		err_release(&e);
	}
}
