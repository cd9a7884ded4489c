/* step_env.c - builds a step's environment from nothing (ci/step_env.h): only what is declared or
 * listed gets in. Values from git (branch, commit) reach the step only as environment variables, never
 * in its command line. It must not start processes or print. */
#include "ci/step_env.h"

#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/path.h"
#include "common/banned.h"

static void pass_through(struct strvec *env, const char *name, const char *fallback)
{
	const char *v = getenv(name);
	if (v)
		strvec_setenv(env, name, v);
	else if (fallback)
		strvec_setenv(env, name, fallback);
}

static void set_if(struct strvec *env, const char *name, const char *value)
{
	if (value)
		strvec_setenv(env, name, value);
}

static void add_input(const struct step_env *f, size_t comp, struct strvec *env, struct buf *name)
{
	char *dir = path_join(f->outputs_root, f->spec->components[comp].name);
	buf_reset(name);
	spec_env_name("MLCI_IN_", f->spec->components[comp].name, name);
	strvec_setenv(env, name->ptr, dir);
	free(dir);
}

void step_env_build(const struct step_env *f, struct strvec *env)
{
	const struct spec *sp = f->spec;
	struct buf name = BUF_INIT;

	pass_through(env, "PATH", "/usr/local/bin:/usr/bin:/bin");
	pass_through(env, "HOME", "/");
	pass_through(env, "LANG", NULL);
	pass_through(env, "LC_ALL", NULL);
	pass_through(env, "TZ", NULL);
	if (f->tmpdir)
		strvec_setenv(env, "TMPDIR", f->tmpdir);
	else
		pass_through(env, "TMPDIR", NULL);
	for (size_t i = 0; i < sp->env.n; i++)
		strvec_setenv(env, sp->env.items[i].key, sp->env.items[i].value);
	for (size_t i = 0; i < sp->params.n; i++) {
		buf_reset(&name);
		spec_env_name("MLCI_PARAM_", sp->params.items[i].key, &name);
		strvec_setenv(env, name.ptr, sp->params.items[i].value);
	}
	set_if(env, "MLCI_RUN_ID", f->run_id);
	set_if(env, "MLCI_COMMIT", f->commit);
	if (f->run_id)
		strvec_setenv(env, "MLCI_BRANCH", f->branch ? f->branch : "");
	if (f->run_id)
		strvec_setenv(env, "MLCI_PIPELINE", sp->pipeline ? sp->pipeline : "");
	set_if(env, "MLCI_COMPONENT", f->component);
	set_if(env, "MLCI_PHASE", f->phase);
	set_if(env, "MLCI_WORKSPACE", f->workspace);
	set_if(env, "MLCI_OUT", f->out_dir);
	if (f->outputs_root) {
		if (f->all_inputs)
			for (size_t i = 0; i < sp->n_components; i++)
				add_input(f, i, env, &name);
		else
			for (size_t k = 0; k < f->n_inputs; k++)
				add_input(f, f->inputs[k], env, &name);
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

void step_env_secrets(const struct spec *spec, struct strvec *secrets)
{
	for (size_t i = 0; i < spec->env.n; i++) {
		const struct spec_kv *kv = &spec->env.items[i];
		struct buf up = BUF_INIT;
		for (const char *p = kv->key; *p; p++)
			buf_addch(&up, (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p));
		/* short values would mask ordinary words; four characters is the floor */
		if (secret_name(up.ptr) && kv->value && strlen(kv->value) >= 4 && !strvec_contains(secrets, kv->value))
			strvec_push(secrets, kv->value);
		buf_release(&up);
	}
}
