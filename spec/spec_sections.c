/* spec_sections.c - the top-level sections of mlci.yaml (pipeline, model, params, env, components,
 * environments, triggers) and the checks across them: needs, cycles, promotion chains. No I/O here. */
#include "spec/spec_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/dag.h"
#include "spec/freeze.h"
#include "common/alloc.h"
#include "common/banned.h"

#define NF(f) (sizeof(f) / sizeof((f)[0]))

/* ---------- params and env ---------- */

static int param_name_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-' || *s == '.'))
			return 0;
	return 1;
}

static int env_name_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* "params" and "env": mappings of name to scalar, kept as text in file order. */
static void parse_kv(struct spec_ctx *c, yaml_node_t *n, const char *section, int is_env, struct spec_kvlist *out)
{
	struct spec_pairs p;
	size_t mark = yaml_doc_key_push(&c->key, section);
	if (spec_map(c, n, &p) < 0)
		goto done;
	out->items = xcalloc(p.n, sizeof(*out->items));
	for (size_t i = 0; i < p.n; i++) {
		const char *name = p.names[i], *val;
		size_t m2;
		if (!p.keys[i])
			continue;
		if (is_env && !env_name_ok(name)) {
			spec_err(c, p.keys[i],
				 "invalid variable name \"%s\" (expected letters, digits and \"_\", not starting with "
				 "a digit)",
				 name);
			continue;
		}
		if (is_env && !strncmp(name, "MLCI_", 5)) {
			spec_err(c, p.keys[i],
				 "variable \"%s\" is reserved (names starting with MLCI_ are set by mlci)", name);
			continue;
		}
		if (!is_env && !param_name_ok(name)) {
			spec_err(c, p.keys[i],
				 "invalid parameter name \"%s\" (expected letters, digits, \".\", \"-\" and \"_\")",
				 name);
			continue;
		}
		m2 = yaml_doc_key_push(&c->key, name);
		if (yaml_doc_is_null(p.vals[i])) {
			spec_err(c, p.vals[i], "expected a scalar value, got null (write \"\" for an empty value)");
			val = NULL;
		} else {
			val = spec_scalar(c, p.vals[i], "a scalar value");
		}
		yaml_doc_key_pop(&c->key, m2);
		if (!val)
			continue;
		out->items[out->n].key = xstrdup(name);
		out->items[out->n].value = xstrdup(val);
		out->items[out->n].pos = yaml_doc_pos(p.keys[i]);
		out->n++;
	}
	if (!is_env) {
		/* two params must not land on the same MLCI_PARAM_ variable */
		char **vars = xcalloc(out->n, sizeof(*vars));
		size_t *first;
		for (size_t i = 0; i < out->n; i++) {
			struct buf b = BUF_INIT;
			spec_env_name("MLCI_PARAM_", out->items[i].key, &b);
			vars[i] = buf_detach(&b, NULL);
		}
		first = spec_find_dups((const char *const *)vars, out->n);
		for (size_t i = 0; i < out->n; i++)
			if (first[i] != SPEC_NONE)
				spec_err_at(c, out->items[i].pos,
					    "parameter \"%s\" has the same variable name as \"%s\" (%s)",
					    out->items[i].key, out->items[first[i]].key, vars[i]);
		for (size_t i = 0; i < out->n; i++)
			free(vars[i]);
		free(vars);
		free(first);
	}
done:
	spec_pairs_release(&p);
	yaml_doc_key_pop(&c->key, mark);
}

/* ---------- components ---------- */

enum { C_PATH, C_BUILD, C_TEST, C_RUN, C_NEEDS, C_INPUTS, C_OUTPUTS, C_TIMEOUT, C_RESOURCES, C_N };
static const struct spec_field comp_fields[C_N] = {
	[C_PATH] = { "path", 0 },       [C_BUILD] = { "build", 0 },     [C_TEST] = { "test", 0 },
	[C_RUN] = { "run", 1 },         [C_NEEDS] = { "needs", 0 },     [C_INPUTS] = { "inputs", 0 },
	[C_OUTPUTS] = { "outputs", 0 }, [C_TIMEOUT] = { "timeout", 0 }, [C_RESOURCES] = { "resources", 0 },
};

/* Suggest a component name close to "word" (for "did you mean"). */
static void suggest_component(struct spec_ctx *c, struct buf *msg, const char *word)
{
	const char **names = xcalloc(c->s->n_components, sizeof(*names));
	for (size_t i = 0; i < c->s->n_components; i++)
		names[i] = c->s->components[i].name;
	spec_add_suggestion(msg, word, names, c->s->n_components);
	free(names);
}

/* A "needs" entry: a known component other than the one being parsed (c->cur). */
static char *conv_need(struct spec_ctx *c, yaml_node_t *item, const char *text)
{
	size_t idx = spec_index_find(&c->comps, text);
	if (idx == SPEC_NONE) {
		struct buf msg = BUF_INIT;
		buf_addf(&msg, "unknown component \"%s\"", text);
		suggest_component(c, &msg, text);
		spec_err(c, item, "%s", msg.ptr);
		buf_release(&msg);
		return NULL;
	}
	if (idx == c->cur) {
		spec_err(c, item, "component \"%s\" cannot need itself", text);
		return NULL;
	}
	return xstrdup(text);
}

/* An output: a plain relative file path under $MLCI_OUT, no ".", ".." or empty parts. */
static char *conv_output(struct spec_ctx *c, yaml_node_t *item, const char *text)
{
	const char *p = text;
	int ok = *p && *p != '/';
	while (ok && *p) {
		const char *seg = p;
		size_t n;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			ok = 0;
		if (*p == '/' && !*++p)
			ok = 0; /* trailing slash */
	}
	if (!ok) {
		spec_err(c, item,
			 "invalid output \"%s\" (expected a plain relative file path such as \"model.json\" or "
			 "\"plots/roc.png\", without \".\" or \"..\" parts)",
			 text);
		return NULL;
	}
	return xstrdup(text);
}

static void parse_component(struct spec_ctx *c, size_t i, yaml_node_t *n)
{
	struct spec_component *comp = &c->s->components[i];
	yaml_node_t *v[C_N];
	size_t mark = yaml_doc_key_push(&c->key, comp->name);
	c->cur = i;
	if (spec_fields(c, n, comp_fields, C_N, v) < 0)
		goto done;
	if (v[C_PATH]) {
		size_t m2 = yaml_doc_key_push(&c->key, "path");
		const char *t = spec_scalar(c, v[C_PATH], "a directory path");
		char *p = t ? spec_repo_path(c, v[C_PATH], t) : NULL;
		if (p && strcmp(p, ".")) {
			comp->path = p;
			comp->path_pos = yaml_doc_pos(v[C_PATH]);
		} else {
			free(p);
		}
		yaml_doc_key_pop(&c->key, m2);
	}
	spec_get_str(c, v[C_BUILD], "build", "a command", &comp->build);
	spec_get_str(c, v[C_TEST], "test", "a command", &comp->test);
	spec_get_str(c, v[C_RUN], "run", "a command", &comp->run);
	spec_get_list(c, v[C_NEEDS], "needs", 1, "a component name", conv_need, "need", &comp->needs);
	comp->need_idx = xcalloc(comp->needs.n, sizeof(*comp->need_idx));
	for (size_t k = 0; k < comp->needs.n; k++)
		comp->need_idx[k] = spec_index_find(&c->comps, comp->needs.items[k]);
	spec_get_list(c, v[C_INPUTS], "inputs", 1, "a path", spec_conv_repo_path, "input", &comp->inputs);
	spec_get_list(c, v[C_OUTPUTS], "outputs", 1, "a file name", conv_output, "output", &comp->outputs);
	spec_get_duration(c, v[C_TIMEOUT], "timeout", &comp->timeout_ms);
	if (v[C_RESOURCES]) {
		static const struct spec_field rf[] = { { "cpus", 0 }, { "memory", 0 } };
		yaml_node_t *r[2];
		size_t m2 = yaml_doc_key_push(&c->key, "resources");
		if (spec_fields(c, v[C_RESOURCES], rf, 2, r) == 0) {
			spec_get_num(c, r[0], "cpus", 0, 1, 4096, &comp->cpus);
			spec_get_size(c, r[1], "memory", &comp->memory_bytes);
		}
		yaml_doc_key_pop(&c->key, m2);
	}
done:
	c->cur = SPEC_NONE;
	yaml_doc_key_pop(&c->key, mark);
}

/* Report a dependency cycle, if any, as "dependency cycle: a -> b -> a" where "a -> b" means b needs a,
 * starting from the component written first. */
static void check_cycles(struct spec_ctx *c)
{
	struct spec *s = c->s;
	size_t n = s->n_components, len = 0;
	struct dag_node *nodes;
	size_t *order, *level, *cycle;
	if (!n)
		return;
	nodes = xcalloc(n, sizeof(*nodes));
	order = xcalloc(n, sizeof(*order));
	level = xcalloc(n, sizeof(*level));
	cycle = xcalloc(n + 1, sizeof(*cycle));
	for (size_t i = 0; i < n; i++) {
		nodes[i].needs = s->components[i].need_idx;
		nodes[i].n_needs = s->components[i].needs.n;
	}
	if (dag_order(n, nodes, order, level, cycle, &len) < 0 && len >= 2) {
		size_t m = 0, k = len - 1; /* k distinct nodes; cycle[k] repeats cycle[0] */
		struct buf msg = BUF_INIT;
		const struct spec_component *to;
		struct diag_pos pos;
		size_t mark;
		for (size_t j = 1; j < k; j++)
			if (cycle[j] < cycle[m])
				m = j;
		buf_addstr(&msg, "dependency cycle: ");
		for (size_t j = 0; j <= k; j++)
			buf_addf(&msg, "%s%s", j ? " -> " : "", s->components[cycle[(m + j) % k]].name);
		/* point at the entry of the second component that needs the first */
		to = &s->components[cycle[(m + 1) % k]];
		pos = to->pos;
		for (size_t j = 0; j < to->needs.n; j++)
			if (to->need_idx[j] == cycle[m])
				pos = to->needs.pos[j];
		mark = yaml_doc_key_push(&c->key, "components");
		yaml_doc_key_push(&c->key, to->name);
		yaml_doc_key_push(&c->key, "needs");
		spec_err_at(c, pos, "%s", msg.ptr);
		yaml_doc_key_pop(&c->key, mark);
		buf_release(&msg);
	}
	free(nodes);
	free(order);
	free(level);
	free(cycle);
}

static void parse_components(struct spec_ctx *c, yaml_node_t *n)
{
	struct spec *s = c->s;
	struct spec_pairs p;
	const char **names;
	char **vars;
	size_t *first, count = 0, *map;
	size_t mark = yaml_doc_key_push(&c->key, "components");

	if (spec_map(c, n, &p) < 0)
		goto done;
	if (p.n == 0) {
		spec_err(c, n, "expected at least one component");
		goto done;
	}
	if (p.n > SPEC_MAX_COMPONENTS) {
		spec_err(c, n, "too many components (%zu; the limit is %d)", p.n, SPEC_MAX_COMPONENTS);
		goto done;
	}
	/* first pass: names, so that needs can refer to components written later */
	s->components = xcalloc(p.n, sizeof(*s->components));
	map = xcalloc(p.n, sizeof(*map));
	for (size_t i = 0; i < p.n; i++) {
		struct spec_component *comp;
		if (!p.keys[i])
			continue;
		if (!spec_name_ok(p.names[i], 1))
			spec_err(c, p.keys[i],
				 "invalid component name \"%s\" (expected up to 63 lowercase letters, digits, \"-\" "
				 "and \"_\", starting with a letter or digit)",
				 p.names[i]);
		map[count] = i;
		comp = &s->components[count++];
		comp->name = xstrdup(p.names[i]);
		comp->pos = yaml_doc_pos(p.keys[i]);
	}
	s->n_components = count;
	names = xcalloc(count, sizeof(*names));
	vars = xcalloc(count, sizeof(*vars));
	for (size_t i = 0; i < count; i++) {
		struct buf b = BUF_INIT;
		names[i] = s->components[i].name;
		spec_env_name("MLCI_IN_", names[i], &b);
		vars[i] = buf_detach(&b, NULL);
	}
	spec_index_build(&c->comps, names, count);
	c->outputs = xcalloc(count, sizeof(*c->outputs));
	first = spec_find_dups((const char *const *)vars, count);
	for (size_t i = 0; i < count; i++)
		if (first[i] != SPEC_NONE)
			spec_err_at(c, s->components[i].pos,
				    "component \"%s\" has the same variable name as \"%s\" (%s)", names[i],
				    names[first[i]], vars[i]);
	for (size_t i = 0; i < count; i++)
		free(vars[i]);
	free(vars);
	free(first);
	free(names);

	for (size_t i = 0; i < count; i++)
		parse_component(c, i, p.vals[map[i]]);
	free(map);
	yaml_doc_key_pop(&c->key, mark);
	check_cycles(c);
done:
	spec_pairs_release(&p);
	yaml_doc_key_pop(&c->key, mark);
}

/* ---------- environments ---------- */

enum {
	E_PROMOTE,
	E_BRANCHES,
	E_APPROVALS,
	E_FROM,
	E_MIN_RUNS,
	E_APPROVERS,
	E_DEPLOY,
	E_HEALTH,
	E_FREEZE,
	E_SUPERSEDE,
	E_MIN_SOAK,
	E_OVERRIDE,
	E_CHAMPION,
	E_N
};
static const struct spec_field env_fields[E_N] = {
	[E_PROMOTE] = { "promote", 1 },
	[E_BRANCHES] = { "branches", 0 },
	[E_APPROVALS] = { "approvals", 0 },
	[E_FROM] = { "from", 0 },
	[E_MIN_RUNS] = { "min_staging_runs", 0 },
	[E_APPROVERS] = { "approvers", 0 },
	[E_DEPLOY] = { "deploy", 0 },
	[E_HEALTH] = { "health", 0 },
	[E_FREEZE] = { "freeze", 0 },
	[E_SUPERSEDE] = { "supersede", 0 },
	[E_MIN_SOAK] = { "min_soak", 0 },
	[E_OVERRIDE] = { "override_approvers", 0 },
	[E_CHAMPION] = { "champion", 0 },
};
static const char *const promote_names[] = { "auto", "semi", "manual" };

static char *conv_glob(struct spec_ctx *c, yaml_node_t *item, const char *text)
{
	const char *why;
	if (spec_check_glob(text, &why) < 0) {
		spec_err(c, item, "invalid branch pattern \"%s\" (%s)", text, why);
		return NULL;
	}
	return xstrdup(text);
}

static char *conv_approver(struct spec_ctx *c, yaml_node_t *item, const char *text)
{
	const char *p = text;
	int ok = *p != '\0';
	for (; *p; p++)
		if (*p == ' ' || *p == ',' || (unsigned char)*p < 0x20 || *p == 0x7f)
			ok = 0;
	if (!ok || !strcmp(text, "@")) {
		spec_err(c, item, "invalid approver \"%s\" (expected a user name or @group)", text);
		return NULL;
	}
	return xstrdup(text);
}

static char *conv_freeze(struct spec_ctx *c, yaml_node_t *item, const char *text)
{
	struct freeze_window w;
	const char *why;
	if (freeze_parse(text, &w, &why) < 0) {
		spec_err(c, item, "invalid freeze window \"%s\" (%s)", text, why);
		return NULL;
	}
	return xstrdup(text);
}

static void parse_deploy(struct spec_ctx *c, struct spec_environment *e, yaml_node_t *n)
{
	static const struct spec_field df[] = { { "command", 0 }, { "webhook", 0 }, { "ssh", 0 }, { "dir", 0 } };
	yaml_node_t *v[4];
	size_t mark = yaml_doc_key_push(&c->key, "deploy");
	if (spec_fields(c, n, df, 4, v) < 0)
		goto done;
	if (!v[0] && !v[1] && !v[2])
		spec_err(c, n, "deploy needs at least one of command, webhook or ssh");
	spec_get_str(c, v[0], "command", "a command", &e->deploy_command);
	if (spec_get_str(c, v[1], "webhook", "a URL", &e->deploy_webhook) == 0 &&
	    spec_check_url(e->deploy_webhook) < 0) {
		size_t m2 = yaml_doc_key_push(&c->key, "webhook");
		spec_err(c, v[1], "invalid webhook \"%s\" (expected an http:// or https:// URL)", e->deploy_webhook);
		yaml_doc_key_pop(&c->key, m2);
	}
	if (spec_get_str(c, v[2], "ssh", "user@host[:port]", &e->deploy_ssh) == 0) {
		const char *why;
		size_t m2 = yaml_doc_key_push(&c->key, "ssh");
		if (spec_check_ssh(e->deploy_ssh, &why) < 0)
			spec_err(c, v[2], "invalid ssh target \"%s\" (%s)", e->deploy_ssh, why);
		else if (!v[0])
			spec_err(c, v[2], "ssh deploy needs a command to run on the host (deploy.command)");
		yaml_doc_key_pop(&c->key, m2);
	}
	if (spec_get_str(c, v[3], "dir", "a remote directory", &e->deploy_dir) == 0 && !v[2]) {
		size_t m2 = yaml_doc_key_push(&c->key, "dir");
		spec_err(c, v[3], "dir is the remote directory of an ssh deploy (it needs deploy.ssh)");
		yaml_doc_key_pop(&c->key, m2);
	}
done:
	yaml_doc_key_pop(&c->key, mark);
}

/* champion: { metric, tolerance, eval_set, score, metrics, lower_is_better } */
static void parse_champion(struct spec_ctx *c, struct spec_environment *e, yaml_node_t *n)
{
	enum { CH_METRIC, CH_TOLERANCE, CH_EVAL, CH_SCORE, CH_METRICS, CH_LOWER, CH_N };
	static const struct spec_field f[CH_N] = {
		[CH_METRIC] = { "metric", 1 },   [CH_TOLERANCE] = { "tolerance", 0 },
		[CH_EVAL] = { "eval_set", 1 },   [CH_SCORE] = { "score", 1 },
		[CH_METRICS] = { "metrics", 0 }, [CH_LOWER] = { "lower_is_better", 0 },
	};
	struct spec_champion *ch = &e->champion;
	yaml_node_t *v[CH_N];
	size_t mark = yaml_doc_key_push(&c->key, "champion");
	if (spec_fields(c, n, f, CH_N, v) < 0)
		goto done;
	ch->present = 1;
	ch->pos = yaml_doc_pos(n);
	spec_get_str(c, v[CH_METRIC], "metric", "a metric name", &ch->metric);
	if (v[CH_TOLERANCE]) {
		size_t m2 = yaml_doc_key_push(&c->key, "tolerance");
		const char *t = spec_scalar(c, v[CH_TOLERANCE], "a number or a percentage");
		if (t && spec_parse_tolerance(t, &ch->tolerance, &ch->relative) < 0)
			spec_err(c, v[CH_TOLERANCE],
				 "invalid tolerance \"%s\" (expected a number >= 0 such as 0.01, or a percentage such "
				 "as "
				 "\"1%%\")",
				 t);
		yaml_doc_key_pop(&c->key, m2);
	}
	if (spec_get_str(c, v[CH_EVAL], "eval_set", "component/output", &ch->eval_set) == 0) {
		const char *slash = strchr(ch->eval_set, '/');
		if (!slash || slash == ch->eval_set || !slash[1] || strstr(ch->eval_set, "..")) {
			size_t m2 = yaml_doc_key_push(&c->key, "eval_set");
			spec_err(
				c, v[CH_EVAL],
				"invalid eval_set \"%s\" (expected component/output: an output of the candidate's run)",
				ch->eval_set);
			yaml_doc_key_pop(&c->key, m2);
		}
	}
	spec_get_str(c, v[CH_SCORE], "score", "a command", &ch->score);
	if (spec_get_str(c, v[CH_METRICS], "metrics", "a file name in $MLCI_OUT", &ch->metrics) == 0 &&
	    (strchr(ch->metrics, '/') || !strcmp(ch->metrics, "..") || !strcmp(ch->metrics, "."))) {
		size_t m2 = yaml_doc_key_push(&c->key, "metrics");
		spec_err(c, v[CH_METRICS], "invalid metrics \"%s\" (expected a file name in $MLCI_OUT)", ch->metrics);
		yaml_doc_key_pop(&c->key, m2);
	}
	spec_get_bool(c, v[CH_LOWER], "lower_is_better", &ch->lower_is_better);
	if (ch->lower_is_better < 0)
		ch->lower_is_better = 0;
done:
	yaml_doc_key_pop(&c->key, mark);
}

/* 1 when an approver is an @group (whose size only policy.yaml knows). */
static int has_group(const struct spec_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->items[i][0] == '@')
			return 1;
	return 0;
}

static void parse_environment(struct spec_ctx *c, size_t i, yaml_node_t *n)
{
	struct spec_environment *e = &c->s->environments[i];
	yaml_node_t *v[E_N];
	int promote = -1;
	size_t mark = yaml_doc_key_push(&c->key, e->name);
	c->cur = i;
	if (spec_fields(c, n, env_fields, E_N, v) < 0)
		goto done;
	if (spec_get_enum(c, v[E_PROMOTE], "promote", promote_names, 3, &promote) == 0)
		e->promote = (enum spec_promote)promote;
	spec_get_list(c, v[E_BRANCHES], "branches", 1, "a branch pattern", conv_glob, "branch pattern", &e->branches);
	spec_get_int(c, v[E_APPROVALS], "approvals", 0, 100, &e->approvals);
	if (spec_get_str(c, v[E_FROM], "from", "an environment name", &e->from) == 0) {
		size_t idx = spec_index_find(&c->envs, e->from);
		size_t m2 = yaml_doc_key_push(&c->key, "from");
		if (idx == i) {
			spec_err(c, v[E_FROM], "environment \"%s\" cannot promote from itself", e->from);
		} else if (idx == SPEC_NONE) {
			struct buf msg = BUF_INIT;
			const char **names = xcalloc(c->s->n_environments, sizeof(*names));
			for (size_t k = 0; k < c->s->n_environments; k++)
				names[k] = k == i ? NULL : c->s->environments[k].name;
			buf_addf(&msg, "unknown environment \"%s\"", e->from);
			spec_add_suggestion(&msg, e->from, names, c->s->n_environments);
			spec_err(c, v[E_FROM], "%s", msg.ptr);
			buf_release(&msg);
			free(names);
		}
		yaml_doc_key_pop(&c->key, m2);
	}
	spec_get_int(c, v[E_MIN_RUNS], "min_staging_runs", 0, 1000000, &e->min_staging_runs);
	spec_get_list(c, v[E_APPROVERS], "approvers", 0, "a user name or @group", conv_approver, "approver",
		      &e->approvers);
	if (v[E_DEPLOY])
		parse_deploy(c, e, v[E_DEPLOY]);
	spec_get_str(c, v[E_HEALTH], "health", "a URL or command", &e->health);
	spec_get_list(c, v[E_FREEZE], "freeze", 1, "a freeze window", conv_freeze, "freeze window", &e->freeze);
	spec_get_bool(c, v[E_SUPERSEDE], "supersede", &e->supersede);
	spec_get_duration(c, v[E_MIN_SOAK], "min_soak", &e->min_soak_ms);
	spec_get_list(c, v[E_OVERRIDE], "override_approvers", 0, "a user name or @group", conv_approver, "approver",
		      &e->override_approvers);
	if (v[E_CHAMPION])
		parse_champion(c, e, v[E_CHAMPION]);

	/* the promotion rule must make sense as a whole */
	if (promote == SPEC_PROMOTE_AUTO || promote == SPEC_PROMOTE_SEMI) {
		if (!v[E_BRANCHES] || yaml_doc_is_null(v[E_BRANCHES]))
			spec_err(c, n, "a%s %s environment needs branches (the branch patterns whose runs it promotes)",
				 promote == SPEC_PROMOTE_AUTO ? "n" : "", promote_names[promote]);
	} else if (promote == SPEC_PROMOTE_MANUAL) {
		if (v[E_BRANCHES] && !yaml_doc_is_null(v[E_BRANCHES])) {
			size_t m2 = yaml_doc_key_push(&c->key, "branches");
			spec_err(c, v[E_BRANCHES],
				 "branches do not apply to manual environments (they are promoted with \"mlci "
				 "promote\")");
			yaml_doc_key_pop(&c->key, m2);
		}
		if (!e->approvers.n && (!v[E_APPROVERS] || yaml_doc_is_null(v[E_APPROVERS])))
			spec_err(c, n, "a manual environment needs approvers (who may promote to it)");
	}
	if (promote == SPEC_PROMOTE_AUTO && v[E_APPROVALS] && e->approvals > 0) {
		size_t m2 = yaml_doc_key_push(&c->key, "approvals");
		spec_err(c, v[E_APPROVALS], "approvals do not apply to auto environments (they promote at once)");
		yaml_doc_key_pop(&c->key, m2);
	}
	if (promote == SPEC_PROMOTE_AUTO && v[E_APPROVERS]) {
		size_t m2 = yaml_doc_key_push(&c->key, "approvers");
		spec_err(c, v[E_APPROVERS], "approvers do not apply to auto environments (they promote at once)");
		yaml_doc_key_pop(&c->key, m2);
	}
	if (e->approvers.n && e->approvals > (int64_t)e->approvers.n && !has_group(&e->approvers)) {
		size_t m2 = yaml_doc_key_push(&c->key, "approvals");
		spec_err(c, v[E_APPROVALS], "approvals (%lld) is more than the number of approvers (%zu)",
			 (long long)e->approvals, e->approvers.n);
		yaml_doc_key_pop(&c->key, m2);
	}
	if (v[E_MIN_RUNS] && !v[E_FROM]) {
		size_t m2 = yaml_doc_key_push(&c->key, "min_staging_runs");
		spec_err(c, v[E_MIN_RUNS], "min_staging_runs needs \"from\" (the environment whose runs are counted)");
		yaml_doc_key_pop(&c->key, m2);
	}
	if (v[E_MIN_SOAK] && !v[E_FROM]) {
		size_t m2 = yaml_doc_key_push(&c->key, "min_soak");
		spec_err(c, v[E_MIN_SOAK], "min_soak needs \"from\" (the environment the version soaks in)");
		yaml_doc_key_pop(&c->key, m2);
	}
	if (v[E_CHAMPION] && promote != SPEC_PROMOTE_MANUAL && promote >= 0) {
		size_t m2 = yaml_doc_key_push(&c->key, "champion");
		spec_err(c, v[E_CHAMPION], "champion applies to manual environments (it is checked by mlci promote)");
		yaml_doc_key_pop(&c->key, m2);
	}
	if (v[E_OVERRIDE] && promote != SPEC_PROMOTE_MANUAL && promote >= 0) {
		size_t m2 = yaml_doc_key_push(&c->key, "override_approvers");
		spec_err(c, v[E_OVERRIDE],
			 "override_approvers apply to manual environments (they may pass over a gate of mlci promote)");
		yaml_doc_key_pop(&c->key, m2);
	}
done:
	c->cur = SPEC_NONE;
	yaml_doc_key_pop(&c->key, mark);
}

/* "from" links form chains; report each loop once, from the environment written first. */
static void check_from_cycles(struct spec_ctx *c)
{
	struct spec *s = c->s;
	size_t n = s->n_environments;
	unsigned char *state = xcalloc(n, 1); /* 0 new, 1 on the current walk, 2 done */
	size_t *walk = xcalloc(n + 1, sizeof(*walk));
	for (size_t i = 0; i < n; i++) {
		size_t len = 0, j = i;
		while (j != SPEC_NONE && state[j] == 0) {
			state[j] = 1;
			walk[len++] = j;
			j = s->environments[j].from ? spec_index_find(&c->envs, s->environments[j].from) : SPEC_NONE;
		}
		if (j != SPEC_NONE && state[j] == 1) {
			size_t start = 0, m, k;
			struct buf msg = BUF_INIT;
			size_t mark;
			while (walk[start] != j)
				start++;
			k = len - start;
			m = start;
			for (size_t t = start; t < len; t++)
				if (walk[t] < walk[m])
					m = t;
			if (k > 1) {
				buf_addstr(&msg, "promotion cycle: ");
				for (size_t t = 0; t <= k; t++)
					buf_addf(&msg, "%s%s", t ? " -> " : "",
						 s->environments[walk[start + (m - start + t) % k]].name);
				mark = yaml_doc_key_push(&c->key, "environments");
				yaml_doc_key_push(&c->key, s->environments[walk[m]].name);
				yaml_doc_key_push(&c->key, "from");
				spec_err_at(c, s->environments[walk[m]].pos, "%s", msg.ptr);
				yaml_doc_key_pop(&c->key, mark);
			}
			buf_release(&msg);
		}
		for (size_t t = 0; t < len; t++)
			state[walk[t]] = 2;
	}
	free(state);
	free(walk);
}

static void parse_environments(struct spec_ctx *c, yaml_node_t *n)
{
	struct spec *s = c->s;
	struct spec_pairs p;
	const char **names;
	size_t count = 0, *map;
	size_t mark = yaml_doc_key_push(&c->key, "environments");
	if (spec_map(c, n, &p) < 0)
		goto done;
	if (p.n > SPEC_MAX_COMPONENTS) {
		spec_err(c, n, "too many environments (%zu; the limit is %d)", p.n, SPEC_MAX_COMPONENTS);
		goto done;
	}
	s->environments = xcalloc(p.n, sizeof(*s->environments));
	map = xcalloc(p.n, sizeof(*map));
	for (size_t i = 0; i < p.n; i++) {
		if (!p.keys[i])
			continue;
		if (!spec_name_ok(p.names[i], 1))
			spec_err(c, p.keys[i],
				 "invalid environment name \"%s\" (expected up to 63 lowercase letters, digits, \"-\" "
				 "and \"_\", starting with a letter or digit)",
				 p.names[i]);
		map[count] = i;
		s->environments[count].name = xstrdup(p.names[i]);
		s->environments[count].pos = yaml_doc_pos(p.keys[i]);
		s->environments[count].supersede = -1;
		count++;
	}
	s->n_environments = count;
	names = xcalloc(count, sizeof(*names));
	for (size_t i = 0; i < count; i++)
		names[i] = s->environments[i].name;
	spec_index_build(&c->envs, names, count);
	free(names);
	for (size_t i = 0; i < count; i++)
		parse_environment(c, i, p.vals[map[i]]);
	free(map);
	yaml_doc_key_pop(&c->key, mark);
	check_from_cycles(c);
done:
	spec_pairs_release(&p);
	yaml_doc_key_pop(&c->key, mark);
}

/* ---------- triggers ---------- */

static void parse_triggers(struct spec_ctx *c, yaml_node_t *n)
{
	static const struct spec_field tf[] = { { "schedule", 0 }, { "data", 0 } };
	yaml_node_t *v[2];
	size_t mark = yaml_doc_key_push(&c->key, "triggers");
	struct spec_triggers *t = &c->s->triggers;
	if (spec_fields(c, n, tf, 2, v) < 0)
		goto done;
	if (spec_get_str(c, v[0], "schedule", "a cron expression", &t->schedule) == 0) {
		struct buf why = BUF_INIT;
		t->schedule_pos = yaml_doc_pos(v[0]);
		if (spec_check_cron(t->schedule, &why) < 0) {
			size_t m2 = yaml_doc_key_push(&c->key, "schedule");
			spec_err(c, v[0], "invalid schedule \"%s\" (%s)", t->schedule, why.ptr);
			yaml_doc_key_pop(&c->key, m2);
		}
		buf_release(&why);
	}
	spec_get_list(c, v[1], "data", 0, "a path", spec_conv_repo_path, "path", &t->data);
done:
	yaml_doc_key_pop(&c->key, mark);
}

/* ---------- the root ---------- */

enum {
	T_PIPELINE,
	T_MODEL,
	T_MODEL_ARTIFACT,
	T_PARAMS,
	T_ENV,
	T_COMPONENTS,
	T_CHECKS,
	T_ENVIRONMENTS,
	T_TRIGGERS,
	T_N
};
static const struct spec_field top_fields[T_N] = {
	[T_PIPELINE] = { "pipeline", 1 },
	[T_MODEL] = { "model", 0 },
	[T_MODEL_ARTIFACT] = { "model_artifact", 0 },
	[T_PARAMS] = { "params", 0 },
	[T_ENV] = { "env", 0 },
	[T_COMPONENTS] = { "components", 1 },
	[T_CHECKS] = { "checks", 0 },
	[T_ENVIRONMENTS] = { "environments", 0 },
	[T_TRIGGERS] = { "triggers", 0 },
};

static void get_name(struct spec_ctx *c, yaml_node_t *n, const char *key, char **out)
{
	if (spec_get_str(c, n, key, "a name", out) == 0 && !spec_name_ok(*out, 0)) {
		size_t mark = yaml_doc_key_push(&c->key, key);
		spec_err(c, n, "invalid %s name \"%s\" (expected up to 128 letters, digits, \".\", \"-\" and \"_\")",
			 key, *out);
		yaml_doc_key_pop(&c->key, mark);
	}
}

void spec_parse_root(struct spec_ctx *c, yaml_node_t *root)
{
	yaml_node_t *v[T_N];
	struct spec *s = c->s;
	if (root->type != YAML_MAPPING_NODE) {
		spec_err(c, root, "expected a mapping at the top level, got %s", spec_kind(root));
		return;
	}
	spec_fields(c, root, top_fields, T_N, v);
	get_name(c, v[T_PIPELINE], "pipeline", &s->pipeline);
	get_name(c, v[T_MODEL], "model", &s->model);
	if (!s->model && !v[T_MODEL] && s->pipeline)
		s->model = xstrdup(s->pipeline);
	if (v[T_PARAMS])
		parse_kv(c, v[T_PARAMS], "params", 0, &s->params);
	if (v[T_ENV])
		parse_kv(c, v[T_ENV], "env", 1, &s->env);
	if (v[T_COMPONENTS])
		parse_components(c, v[T_COMPONENTS]);
	if (v[T_MODEL_ARTIFACT] && s->n_components)
		spec_get_ref(c, v[T_MODEL_ARTIFACT], "model_artifact", &s->model_artifact);
	if (v[T_CHECKS])
		spec_parse_checks(c, v[T_CHECKS]);
	if (v[T_ENVIRONMENTS])
		parse_environments(c, v[T_ENVIRONMENTS]);
	if (v[T_TRIGGERS])
		parse_triggers(c, v[T_TRIGGERS]);
}

/* ---------- policy.yaml ---------- */

static void parse_groups(struct spec_ctx *c, yaml_node_t *n)
{
	struct spec *s = c->s;
	struct spec_pairs p;
	size_t mark = yaml_doc_key_push(&c->key, "groups");
	if (spec_map(c, n, &p) < 0)
		goto done;
	s->groups = xcalloc(p.n ? p.n : 1, sizeof(*s->groups));
	for (size_t i = 0; i < p.n; i++) {
		struct spec_group *g;
		if (!p.keys[i])
			continue;
		if (!spec_name_ok(p.names[i], 0)) {
			spec_err(c, p.keys[i], "invalid group name \"%s\"", p.names[i]);
			continue;
		}
		g = &s->groups[s->n_groups++];
		g->name = xstrdup(p.names[i]);
		spec_get_list(c, p.vals[i], p.names[i], 0, "a user name", conv_approver, "member", &g->members);
		for (size_t k = 0; k < g->members.n; k++)
			if (g->members.items[k][0] == '@') {
				size_t m2 = yaml_doc_key_push(&c->key, p.names[i]);
				spec_err_at(c, g->members.pos[k], "groups cannot contain groups (\"%s\")",
					    g->members.items[k]);
				yaml_doc_key_pop(&c->key, m2);
			}
	}
done:
	spec_pairs_release(&p);
	yaml_doc_key_pop(&c->key, mark);
}

enum { P_ENVIRONMENTS, P_GROUPS, P_FREEZE, P_STATE, P_N };
static const struct spec_field policy_fields[P_N] = {
	[P_ENVIRONMENTS] = { "environments", 1 },
	[P_GROUPS] = { "groups", 0 },
	[P_FREEZE] = { "freeze", 0 },
	[P_STATE] = { "state", 0 },
};

void spec_parse_policy_root(struct spec_ctx *c, yaml_node_t *root)
{
	yaml_node_t *v[P_N];
	struct spec *s = c->s;
	if (root->type != YAML_MAPPING_NODE) {
		spec_err(c, root, "expected a mapping at the top level, got %s", spec_kind(root));
		return;
	}
	if (spec_fields(c, root, policy_fields, P_N, v) < 0)
		return;
	if (v[P_GROUPS])
		parse_groups(c, v[P_GROUPS]);
	spec_get_list(c, v[P_FREEZE], "freeze", 1, "a freeze window", conv_freeze, "freeze window", &s->freeze);
	spec_get_str(c, v[P_STATE], "state", "a Git URL (the remote state repo)", &s->state_url);
	if (v[P_ENVIRONMENTS])
		parse_environments(c, v[P_ENVIRONMENTS]);
	/* every @group named by approvers and override_approvers must be defined here */
	for (size_t i = 0; i < s->n_environments; i++) {
		const struct spec_environment *e = &s->environments[i];
		for (int which = 0; which < 2; which++) {
			const struct spec_strlist *l = which ? &e->override_approvers : &e->approvers;
			for (size_t k = 0; k < l->n; k++) {
				const char *a = l->items[k];
				int found = 0;
				if (a[0] != '@')
					continue;
				for (size_t g = 0; g < s->n_groups; g++)
					found |= !strcmp(s->groups[g].name, a + 1);
				if (!found) {
					size_t mark = yaml_doc_key_push(&c->key, "environments");
					yaml_doc_key_push(&c->key, e->name);
					yaml_doc_key_push(&c->key, which ? "override_approvers" : "approvers");
					spec_err_at(c, l->pos[k], "unknown group \"%s\" (define it under groups:)",
						    a + 1);
					yaml_doc_key_pop(&c->key, mark);
				}
			}
		}
	}
}
