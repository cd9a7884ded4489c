/* spec.c - the public face of the mlci.yaml parser (spec/spec.h): bounded input, YAML syntax errors, the
 * document walk, diagnostics output and small helpers. It must not run commands or write files. */
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

void spec_diags_init(struct spec_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void spec_diags_release(struct spec_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].key);
		free(d->items[i].msg);
	}
	free(d->items);
	free(d->file);
	spec_diags_init(d);
}

void spec_diag_format(const struct spec_diags *d, size_t i, struct buf *out)
{
	const struct spec_diag *dg;
	if (i >= d->n)
		return;
	dg = &d->items[i];
	buf_addstr(out, d->file ? d->file : "mlci.yaml");
	if (dg->pos.line)
		buf_addf(out, ":%u:%u", dg->pos.line, dg->pos.col);
	buf_addstr(out, ": ");
	if (dg->key && *dg->key)
		buf_addf(out, "%s: ", dg->key);
	buf_addstr(out, dg->msg);
}

/* ---------- parsing ---------- */

static void set_file(struct spec_diags *d, const char *file)
{
	if (d->file && !strcmp(d->file, file))
		return;
	free(d->file);
	d->file = xstrdup(file);
}

/* Report the parser's error: where libyaml stopped and what it says. Reader errors (bad encoding,
 * control characters) carry a byte offset instead of a mark. */
static void syntax_diag(const yaml_parser_t *p, const char *data, size_t len, struct spec_diags *d)
{
	struct spec_pos pos;
	struct buf msg = BUF_INIT;
	const char *problem = p->problem ? p->problem : "unknown error";
	if (p->error == YAML_MEMORY_ERROR) {
		spec_diag_add(d, (struct spec_pos){ 1, 1 }, "", "out of memory while parsing");
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		size_t off = p->problem_offset < len ? p->problem_offset : len, nl = 0;
		pos.line = 1;
		for (size_t i = 0; i < off; i++) {
			if (data[i] == '\n') {
				pos.line++;
				nl = i + 1;
			}
		}
		pos.col = (unsigned)(off - nl + 1);
		buf_addf(&msg, "invalid character: %s", problem);
		if (p->problem_value != -1)
			buf_addf(&msg, " (byte 0x%02x)", (unsigned)p->problem_value & 0xffu);
	} else {
		pos.line = (unsigned)p->problem_mark.line + 1;
		pos.col = (unsigned)p->problem_mark.column + 1;
		buf_addf(&msg, "syntax error: %s", problem);
		if (p->context)
			buf_addf(&msg, " (%s at line %u, column %u)", p->context, (unsigned)p->context_mark.line + 1,
				 (unsigned)p->context_mark.column + 1);
	}
	spec_diag_add(d, pos, "", "%s", msg.ptr);
	buf_release(&msg);
}

/* A first pass over the event stream: syntax errors, aliases (refused so that a small file cannot
 * expand into a huge tree), nesting deeper than SPEC_MAX_DEPTH, more than one document. Returns 0 when the document may
 * be loaded, 1 when the stream holds no document, -1 after diags. */
static int scan_events(const char *data, size_t len, struct spec_diags *d)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int docs = 0, ret = 0, done = 0, depth = 0;
	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_diag(&p, data, len, d);
			ret = -1;
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs == 2) {
				spec_diag_add(d,
					      (struct spec_pos){ (unsigned)ev.start_mark.line + 1,
								 (unsigned)ev.start_mark.column + 1 },
					      "",
					      "more than one document in the file (expected a single YAML document)");
				ret = -1;
				done = 1;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			/* libyaml's scanner slows down quadratically with flow nesting; a spec needs ~6 */
			if (++depth > SPEC_MAX_DEPTH) {
				spec_diag_add(d,
					      (struct spec_pos){ (unsigned)ev.start_mark.line + 1,
								 (unsigned)ev.start_mark.column + 1 },
					      "", "nesting is deeper than %d levels", SPEC_MAX_DEPTH);
				ret = -1;
				done = 1;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_ALIAS_EVENT:
			spec_diag_add(d,
				      (struct spec_pos){ (unsigned)ev.start_mark.line + 1,
							 (unsigned)ev.start_mark.column + 1 },
				      "", "aliases are not supported (found \"*%s\"; write the value out instead)",
				      (const char *)ev.data.alias.anchor);
			ret = -1;
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (ret == 0 && docs == 0)
		return 1;
	return ret;
}

static int parse_doc(struct spec *out, const char *data, size_t len, const char *file, struct spec_diags *diags,
		     void (*root_fn)(struct spec_ctx *c, yaml_node_t *root))
{
	size_t first = diags->n;
	int ret = -1, r;
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;
	struct spec_ctx c;

	set_file(diags, file ? file : "mlci.yaml");
	if (len > SPEC_MAX_BYTES) {
		spec_diag_add(diags, (struct spec_pos){ 0, 0 }, "", "spec is too large (%zu bytes; the limit is %d)",
			      len, SPEC_MAX_BYTES);
		return -1;
	}
	r = scan_events(data ? data : "", data ? len : 0, diags);
	if (r == 1) {
		spec_diag_add(diags, (struct spec_pos){ 1, 1 }, "", "empty spec");
		return -1;
	}
	if (r < 0) {
		spec_diags_sort(diags, first);
		return -1;
	}

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	if (!yaml_parser_load(&p, &doc)) {
		syntax_diag(&p, data, len, diags);
		yaml_parser_delete(&p);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root || spec_is_null(root)) {
		spec_diag_add(diags, (struct spec_pos){ 1, 1 }, "", "empty spec");
	} else {
		memset(&c, 0, sizeof(c));
		c.doc = &doc;
		c.diags = diags;
		c.s = out;
		c.cur = SPEC_NONE;
		buf_init(&c.key, 0);
		root_fn(&c, root);
		ret = c.nerr ? -1 : 0;
		buf_release(&c.key);
		spec_index_release(&c.comps);
		spec_index_release(&c.envs);
		if (c.outputs)
			for (size_t i = 0; i < out->n_components; i++)
				spec_index_release(&c.outputs[i]);
		free(c.outputs);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	spec_diags_sort(diags, first);
	return ret;
}

int spec_parse_buffer(struct spec *out, const char *data, size_t len, const char *file, struct spec_diags *diags)
{
	return parse_doc(out, data, len, file, diags, spec_parse_root);
}

int spec_parse_policy_buffer(struct spec *out, const char *data, size_t len, const char *file, struct spec_diags *diags)
{
	return parse_doc(out, data, len, file ? file : "policy.yaml", diags, spec_parse_policy_root);
}

int spec_parse_file(struct spec *out, const char *path, const char *display, struct spec_diags *diags)
{
	struct buf b;
	int r;
	buf_init(&b, SPEC_MAX_BYTES);
	if (buf_read_file(&b, path) < 0) {
		set_file(diags, display ? display : path);
		if (errno == EFBIG)
			spec_diag_add(diags, (struct spec_pos){ 0, 0 }, "", "spec is too large (the limit is %d bytes)",
				      SPEC_MAX_BYTES);
		else
			spec_diag_add(diags, (struct spec_pos){ 0, 0 }, "", "could not read \"%s\": %s", path,
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
static int check_path(const char *root, const char *rel, enum path_kind kind, struct spec_pos pos, const char *key,
		      struct spec_diags *d)
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
				spec_diag_add(
					d, pos, key,
					"path \"%s\" leaves the repository through a symlink (it resolves to \"%s\")",
					rel, real);
			else
				spec_diag_add(d, pos, key, "path \"%s\" leaves the repository through a symlink", rel);
			free(joined);
		} else {
			spec_diag_add(d, pos, key, "could not check path \"%s\": %s", rel, err_msg(&e));
		}
		goto done;
	}
	if (stat(abs.ptr, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			spec_diag_add(d, pos, key, "path \"%s\" does not exist in the repository", rel);
		else
			spec_diag_add(d, pos, key, "could not check path \"%s\": %s", rel, strerror(errno));
		goto done;
	}
	if (kind == PATH_DIR && !S_ISDIR(st.st_mode)) {
		spec_diag_add(d, pos, key, "path \"%s\" is not a directory", rel);
		goto done;
	}
	if (kind == PATH_FILE && !S_ISREG(st.st_mode)) {
		spec_diag_add(d, pos, key, "path \"%s\" is not a regular file", rel);
		goto done;
	}
	ret = 0;
done:
	buf_release(&abs);
	err_release(&e);
	return ret;
}

static int check_list(const char *root, const struct spec_strlist *l, const char *key, struct spec_diags *d)
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

int spec_check_paths(const struct spec *s, const char *repo_root, struct spec_diags *diags)
{
	struct buf k = BUF_INIT;
	int bad = 0;
	size_t first = diags->n;
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
	spec_diags_sort(diags, first);
	return bad ? -1 : 0;
}
