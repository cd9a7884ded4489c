/* spec.c - the public face of the mlci.yaml parser (spec/spec.h): the limits on input, the wording of YAML
 * syntax errors, the document walk, paths on disk and small helpers. It must not run commands or write files. */
#include "spec/spec.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec/spec_int.h"
#include "common/alloc.h"
#include "common/path.h"
#include "common/banned.h"

/* ---------- life cycle ---------- */

void spec_init(struct spec *s)
{
	memset(s, 0, sizeof(*s));
	s->checks.training.converges = -1;
	s->checks.service.load_max_error_rate = -1;
}

static void kvlist_release(struct spec_kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
}

void spec_release(struct spec *s)
{
	free(s->pipeline);
	free(s->model);
	free(s->state_url);
	spec_ref_release(&s->model_artifact);
	kvlist_release(&s->params);
	kvlist_release(&s->env);
	for (size_t i = 0; i < s->n_components; i++) {
		struct spec_component *c = &s->components[i];
		free(c->name);
		free(c->path);
		free(c->build);
		free(c->test);
		free(c->run);
		spec_strlist_release(&c->needs);
		free(c->need_idx);
		spec_strlist_release(&c->inputs);
		spec_strlist_release(&c->outputs);
	}
	free(s->components);
	spec_checks_release(&s->checks);
	for (size_t i = 0; i < s->n_environments; i++) {
		struct spec_environment *e = &s->environments[i];
		free(e->name);
		spec_strlist_release(&e->branches);
		free(e->from);
		spec_strlist_release(&e->approvers);
		free(e->deploy_command);
		free(e->deploy_webhook);
		free(e->deploy_ssh);
		free(e->deploy_dir);
		free(e->health);
		spec_strlist_release(&e->freeze);
		spec_strlist_release(&e->override_approvers);
		free(e->champion.metric);
		free(e->champion.eval_set);
		free(e->champion.score);
		free(e->champion.metrics);
	}
	for (size_t i = 0; i < s->n_groups; i++) {
		free(s->groups[i].name);
		spec_strlist_release(&s->groups[i].members);
	}
	free(s->groups);
	spec_strlist_release(&s->freeze);
	free(s->environments);
	free(s->triggers.schedule);
	spec_strlist_release(&s->triggers.data);
	spec_init(s);
}

/* ---------- parsing ---------- */

/* Word the parser's error: where libyaml stopped and what it says. */
static void syntax_diag(const struct yaml_doc_error *e, struct diags *d)
{
	struct buf msg = BUF_INIT;
	const char *problem = e->problem ? e->problem : "unknown error";
	if (e->kind == YAML_DOC_NOMEM) {
		diags_add(d, (struct diag_pos){ 1, 1 }, "", "out of memory while parsing");
		return;
	}
	if (e->kind == YAML_DOC_ENCODING) {
		buf_addf(&msg, "invalid character: %s", problem);
		if (e->byte != -1)
			buf_addf(&msg, " (byte 0x%02x)", (unsigned)e->byte);
	} else {
		buf_addf(&msg, "syntax error: %s", problem);
		if (e->context)
			buf_addf(&msg, " (%s at line %u, column %u)", e->context, e->context_pos.line,
				 e->context_pos.col);
	}
	diags_add(d, e->pos, "", "%s", msg.ptr);
	buf_release(&msg);
}

static int parse_doc(struct spec *out, const char *data, size_t len, const char *file, struct diags *diags,
		     void (*root_fn)(struct spec_ctx *c, yaml_node_t *root))
{
	static const struct yaml_doc_limits lim = { SPEC_MAX_BYTES, SPEC_MAX_DEPTH, 1, 1 };
	size_t first = diags->n;
	int ret = -1;
	struct yaml_doc doc;
	struct spec_ctx c;

	diags_set_file(diags, file ? file : "mlci.yaml");
	if (yaml_doc_load(&doc, data, len, &lim, diags) < 0) {
		if (doc.error.kind == YAML_DOC_TOO_LARGE)
			diags_add(diags, (struct diag_pos){ 0, 0 }, "",
				  "spec is too large (%zu bytes; the limit is %d)", len, SPEC_MAX_BYTES);
		else if (doc.error.kind != YAML_DOC_REFUSED)
			syntax_diag(&doc.error, diags);
		diags_sort(diags, first);
		yaml_doc_release(&doc);
		return -1;
	}
	if (!doc.root || yaml_doc_is_null(doc.root)) {
		diags_add(diags, (struct diag_pos){ 1, 1 }, "", "empty spec");
	} else {
		memset(&c, 0, sizeof(c));
		c.doc = &doc;
		c.diags = diags;
		c.s = out;
		c.cur = SPEC_NONE;
		buf_init(&c.key, 0);
		root_fn(&c, doc.root);
		ret = c.nerr ? -1 : 0;
		buf_release(&c.key);
		spec_index_release(&c.comps);
		spec_index_release(&c.envs);
		if (c.outputs)
			for (size_t i = 0; i < out->n_components; i++)
				spec_index_release(&c.outputs[i]);
		free(c.outputs);
	}
	yaml_doc_release(&doc);
	diags_sort(diags, first);
	return ret;
}

int spec_parse_buffer(struct spec *out, const char *data, size_t len, const char *file, struct diags *diags)
{
	return parse_doc(out, data, len, file, diags, spec_parse_root);
}

int spec_parse_policy_buffer(struct spec *out, const char *data, size_t len, const char *file, struct diags *diags)
{
	return parse_doc(out, data, len, file ? file : "policy.yaml", diags, spec_parse_policy_root);
}

int spec_parse_file(struct spec *out, const char *path, const char *display, struct diags *diags)
{
	struct buf b;
	int r;
	buf_init(&b, SPEC_MAX_BYTES);
	if (buf_read_file(&b, path) < 0) {
		diags_set_file(diags, display ? display : path);
		if (errno == EFBIG)
			diags_add(diags, (struct diag_pos){ 0, 0 }, "", "spec is too large (the limit is %d bytes)",
				  SPEC_MAX_BYTES);
		else
			diags_add(diags, (struct diag_pos){ 0, 0 }, "", "could not read \"%s\": %s", path,
				  strerror(errno));
		buf_release(&b);
		return -1;
	}
	r = spec_parse_buffer(out, b.ptr, b.len, display ? display : path, diags);
	buf_release(&b);
	return r;
}

/* ---------- helpers ---------- */

size_t spec_component_index(const struct spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_components; i++)
		if (!strcmp(s->components[i].name, name))
			return i;
	return (size_t)-1;
}

void spec_env_name(const char *prefix, const char *name, struct buf *out)
{
	buf_addstr(out, prefix);
	for (const char *p = name; *p; p++) {
		char ch = *p;
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		else if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
			ch = '_';
		buf_addch(out, ch);
	}
}

const struct spec_environment *spec_environment_for_branch(const struct spec *s, const char *branch)
{
	for (size_t i = 0; i < s->n_environments; i++) {
		const struct spec_environment *e = &s->environments[i];
		for (size_t j = 0; j < e->branches.n; j++)
			if (fnmatch(e->branches.items[j], branch, 0) == 0)
				return e;
	}
	return NULL;
}

/* ---------- paths on disk ---------- */

enum path_kind { PATH_ANY, PATH_DIR, PATH_FILE };

/* Check one repo-relative path "rel" under "root"; the diag goes to "pos" with key path "key". */
static int check_path(const char *root, const char *rel, enum path_kind kind, struct diag_pos pos, const char *key,
		      struct diags *d)
{
	struct buf abs = BUF_INIT;
	struct err e = ERR_INIT;
	struct stat st;
	int ret = -1;
	if (path_resolve_under(root, rel, &abs, &e) < 0) {
		if (e.code == MLCI_EUSAGE) {
			char *joined = path_join(root, rel);
			char real[PATH_MAX];
			if (realpath(joined, real))
				diags_add(d, pos, key,
					  "path \"%s\" leaves the repository through a symlink (it resolves to \"%s\")",
					  rel, real);
			else
				diags_add(d, pos, key, "path \"%s\" leaves the repository through a symlink", rel);
			free(joined);
		} else {
			diags_add(d, pos, key, "could not check path \"%s\": %s", rel, err_msg(&e));
		}
		goto done;
	}
	if (stat(abs.ptr, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			diags_add(d, pos, key, "path \"%s\" does not exist in the repository", rel);
		else
			diags_add(d, pos, key, "could not check path \"%s\": %s", rel, strerror(errno));
		goto done;
	}
	if (kind == PATH_DIR && !S_ISDIR(st.st_mode)) {
		diags_add(d, pos, key, "path \"%s\" is not a directory", rel);
		goto done;
	}
	if (kind == PATH_FILE && !S_ISREG(st.st_mode)) {
		diags_add(d, pos, key, "path \"%s\" is not a regular file", rel);
		goto done;
	}
	ret = 0;
done:
	buf_release(&abs);
	err_release(&e);
	return ret;
}

static int check_list(const char *root, const struct spec_strlist *l, const char *key, struct diags *d)
{
	int bad = 0;
	struct buf k = BUF_INIT;
	for (size_t i = 0; i < l->n; i++) {
		buf_reset(&k);
		buf_addf(&k, "%s[%zu]", key, i);
		if (check_path(root, l->items[i], PATH_ANY, l->pos[i], k.ptr, d) < 0)
			bad = 1;
	}
	buf_release(&k);
	return bad;
}

int spec_check_paths(const struct spec *s, const char *repo_root, struct diags *diags)
{
	struct buf k = BUF_INIT;
	int bad = 0;
	size_t first = diags->n;
	if (!diags->file)
		diags_set_file(diags, "mlci.yaml");
	for (size_t i = 0; i < s->n_components; i++) {
		const struct spec_component *c = &s->components[i];
		if (c->path) {
			buf_reset(&k);
			buf_addf(&k, "components.%s.path", c->name);
			bad |= check_path(repo_root, c->path, PATH_DIR, c->path_pos, k.ptr, diags) < 0;
		}
		buf_reset(&k);
		buf_addf(&k, "components.%s.inputs", c->name);
		bad |= check_list(repo_root, &c->inputs, k.ptr, diags);
	}
	if (s->checks.data.schema)
		bad |= check_path(repo_root, s->checks.data.schema, PATH_FILE, s->checks.data.schema_pos,
				  "checks.data.schema", diags) < 0;
	if (s->checks.data.drift_reference && strchr(s->checks.data.drift_reference, '/'))
		bad |= check_path(repo_root, s->checks.data.drift_reference, PATH_ANY,
				  s->checks.data.drift_reference_pos, "checks.data.drift.reference", diags) < 0;
	if (s->checks.service.contract)
		bad |= check_path(repo_root, s->checks.service.contract, PATH_ANY, s->checks.service.contract_pos,
				  "checks.service.contract", diags) < 0;
	bad |= check_list(repo_root, &s->triggers.data, "triggers.data", diags);
	buf_release(&k);
	diags_sort(diags, first);
	return bad ? -1 : 0;
}
