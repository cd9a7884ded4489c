/* cache.c - sha256 cache keys over a component's spec entry, source tree, inputs, params, env,
 * upstream output digests and the mlci version. Pure computation: no I/O, no store access. */
#include "ci/cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/banned.h"

/* Every field is fed with a tag and a NUL terminator, so no two different specs hash alike by
 * shifting text between fields. */
static void field(struct sha256_ctx *c, const char *tag, const char *value)
{
	sha256_update_str(c, tag);
	sha256_update_str(c, value); /* NULL is hashed distinctly from "" */
}

static void field_num(struct sha256_ctx *c, const char *tag, long long v)
{
	char num[32];
	snprintf(num, sizeof(num), "%lld", v);
	field(c, tag, num);
}

static void list(struct sha256_ctx *c, const char *tag, const struct spec_strlist *l)
{
	field_num(c, tag, (long long)l->n);
	for (size_t i = 0; i < l->n; i++)
		sha256_update_str(c, l->items[i]);
}

static void source_fields(struct sha256_ctx *c, const struct cache_ingredients *in)
{
	const struct spec *s = in->spec;
	const struct spec_component *comp = &s->components[in->comp];
	char res[64];

	field(c, "mlci-cache", "1");
	field(c, "version", in->version);
	field(c, "name", comp->name);
	field(c, "path", comp->path);
	field(c, "build", comp->build);
	field(c, "test", comp->test);
	field(c, "run", comp->run);
	list(c, "needs", &comp->needs);
	list(c, "inputs", &comp->inputs);
	list(c, "outputs", &comp->outputs);
	field_num(c, "timeout", (long long)comp->timeout_ms);
	snprintf(res, sizeof(res), "%.6f/%lld", comp->cpus, (long long)comp->memory_bytes);
	field(c, "resources", res);
	field(c, "tree", in->tree_id);
	for (size_t i = 0; i < comp->inputs.n; i++)
		field(c, "input", in->input_ids ? in->input_ids[i] : NULL);
	/* every step sees every param and env entry, so all of them are ingredients */
	field_num(c, "params", (long long)s->params.n);
	for (size_t i = 0; i < s->params.n; i++) {
		sha256_update_str(c, s->params.items[i].key);
		sha256_update_str(c, s->params.items[i].value);
	}
	field_num(c, "env", (long long)s->env.n);
	for (size_t i = 0; i < s->env.n; i++) {
		sha256_update_str(c, s->env.items[i].key);
		sha256_update_str(c, s->env.items[i].value);
	}
	field(c, "pipeline", s->pipeline);
}

void cache_source_key(const struct cache_ingredients *in, char key[SHA256_HEX_LEN + 1])
{
	struct sha256_ctx c;
	sha256_init(&c);
	source_fields(&c, in);
	sha256_final_hex(&c, key);
}

static int up_cmp(const void *a, const void *b)
{
	const struct cache_upstream *x = a, *y = b;
	int r = strcmp(x->component, y->component);
	return r ? r : strcmp(x->name, y->name);
}

void cache_run_key(const struct cache_ingredients *in, char key[SHA256_HEX_LEN + 1])
{
	struct sha256_ctx c;
	struct cache_upstream *up = NULL;
	sha256_init(&c);
	source_fields(&c, in);
	field(&c, "phase", "run");
	if (in->n_up) {
		up = xmalloc(in->n_up * sizeof(*up));
		memcpy(up, in->up, in->n_up * sizeof(*up));
		qsort(up, in->n_up, sizeof(*up), up_cmp);
	}
	field_num(&c, "upstream", (long long)in->n_up);
	for (size_t i = 0; i < in->n_up; i++) {
		sha256_update_str(&c, up[i].component);
		sha256_update_str(&c, up[i].name);
		sha256_update_str(&c, up[i].digest);
	}
	free(up);
	sha256_final_hex(&c, key);
}
