/* exec_local.c - runs one step as a local process with a clean, declared environment.
 * Values from git (branch, commit) reach the step only as environment variables, never in the command. */
#include "ci/exec_local.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/path.h"
#include "common/banned.h"

char *exec_local_out_dir(const struct run *r, size_t comp)
{
	return path_join(r->out_dir, r->spec.components[comp].name);
}

static void pass_through(struct strvec *env, const char *name, const char *fallback)
{
	const char *v = getenv(name);
	if (v)
		strvec_setenv(env, name, v);
	else if (fallback)
		strvec_setenv(env, name, fallback);
}

void exec_local_env(const struct run *r, const struct run_step *s, struct strvec *env)
{
	const struct spec *sp = &r->spec;
	const struct spec_component *c = &sp->components[s->comp];
	struct buf name = BUF_INIT;
	char *tmp;

	pass_through(env, "PATH", "/usr/local/bin:/usr/bin:/bin");
	pass_through(env, "HOME", "/");
	pass_through(env, "LANG", NULL);
	pass_through(env, "LC_ALL", NULL);
	pass_through(env, "TZ", NULL);
	tmp = path_join(r->run_dir, "tmp");
	strvec_setenv(env, "TMPDIR", tmp);
	free(tmp);

	for (size_t i = 0; i < sp->env.n; i++)
		strvec_setenv(env, sp->env.items[i].key, sp->env.items[i].value);
	for (size_t i = 0; i < sp->params.n; i++) {
		buf_reset(&name);
		spec_env_name("MLCI_PARAM_", sp->params.items[i].key, &name);
		strvec_setenv(env, name.ptr, sp->params.items[i].value);
	}
	strvec_setenv(env, "MLCI_RUN_ID", r->id);
	strvec_setenv(env, "MLCI_COMMIT", r->commit.id);
	strvec_setenv(env, "MLCI_BRANCH", r->commit.branch ? r->commit.branch : "");
	strvec_setenv(env, "MLCI_PIPELINE", sp->pipeline ? sp->pipeline : "");
	strvec_setenv(env, "MLCI_COMPONENT", c->name);
	strvec_setenv(env, "MLCI_PHASE", step_phase_name(s->phase));
	strvec_setenv(env, "MLCI_WORKSPACE", r->workspace);
	if (s->phase == PHASE_RUN) {
		char *out = exec_local_out_dir(r, s->comp);
		strvec_setenv(env, "MLCI_OUT", out);
		free(out);
		for (size_t k = 0; k < c->needs.n; k++) {
			size_t up = c->need_idx[k];
			char *dir = exec_local_out_dir(r, up);
			buf_reset(&name);
			spec_env_name("MLCI_IN_", sp->components[up].name, &name);
			strvec_setenv(env, name.ptr, dir);
			free(dir);
		}
	}
	buf_release(&name);
}

static int secret_name(const char *n)
{
	static const char *const marks[] = { "TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY" };
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (strstr(n, marks[i]))
			return 1;
	return 0;
}

void exec_local_secrets(const struct run *r, struct strvec *secrets)
{
	for (size_t i = 0; i < r->spec.env.n; i++) {
		const struct spec_kv *kv = &r->spec.env.items[i];
		struct buf up = BUF_INIT;
		for (const char *p = kv->key; *p; p++)
			buf_addch(&up, (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p));
		/* short values would mask ordinary words; four characters is the floor */
		if (secret_name(up.ptr) && kv->value && strlen(kv->value) >= 4 && !strvec_contains(secrets, kv->value))
			strvec_push(secrets, kv->value);
		buf_release(&up);
	}
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

int exec_local_start(const struct run *r, struct run_step *s, int stream_output, struct strvec *env,
		     const struct strvec *secrets, struct err *e)
{
	const struct spec_component *c = &r->spec.components[s->comp];
	struct proc_opts o;
	char *cwd = c->path ? path_join(r->workspace, c->path) : xstrdup(r->workspace);
	char *log = run_log_path(r, c->name);
	struct buf cmdline = BUF_INIT;
	int ret = -1;

	if (s->phase == PHASE_RUN) {
		char *out = exec_local_out_dir(r, s->comp);
		/* a fresh, empty output directory: leftovers from an earlier attempt must not count */
		if (fs_rm_rf(out, e) < 0 || fs_mkdir_p(out, 0755, e) < 0) {
			free(out);
			goto done;
		}
		free(out);
	}
	if (append_header(log, s, c->path ? c->path : ".", e) < 0)
		goto done;
	exec_local_env(r, s, env);
	if (!s->stream_prefix) {
		struct buf p = BUF_INIT;
		buf_addf(&p, "%s | ", c->name);
		s->stream_prefix = buf_detach(&p, NULL);
	}
	memset(&o, 0, sizeof(o));
	o.cmd = s->command;
	if (s->rebuild && c->build) {
		/* the CI phase reused a cached build, but this run step executes in a fresh checkout:
		 * its build products must exist, so the build runs again first (in a subshell each) */
		buf_addf(&cmdline, "(\n%s\n) && (\n%s\n)", c->build, s->command);
		o.cmd = cmdline.ptr;
	}
	o.cwd = cwd;
	o.env = env->v;
	o.log_path = log;
	o.stream_fd = stream_output ? 2 : -1;
	o.stream_prefix = s->stream_prefix;
	o.timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : EXEC_DEFAULT_TIMEOUT_MS;
	o.mask = secrets->n ? (const char *const *)secrets->v : NULL;
	if (proc_start(&s->proc, &o, e) < 0) {
		err_prefix(e, "%s %s", c->name, step_phase_name(s->phase));
		goto done;
	}
	/* only used while starting; freed below, so do not keep them */
	s->proc.opts.cwd = NULL;
	s->proc.opts.log_path = NULL;
	s->proc.opts.env = NULL;
	ret = 0;
done:
	free(cwd);
	free(log);
	buf_release(&cmdline);
	return ret;
}
