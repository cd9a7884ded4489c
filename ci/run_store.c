/* run_store.c - the run engine's bridge to the metadata store and the artifact store: cache lookups
 * and restores, step rows, artifacts, lineage, metrics and model registration. It must not print. */
#include "ci/run_store.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ci/cache.h"
#include "ci/run_int.h"
#include "common/alloc.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/path.h"
#include "registry/artifacts.h"
#include "registry/store.h"
#include "common/banned.h"

int record_prepare_keys(struct run *r, struct ws_source *src, struct err *e)
{
	size_t n = r->spec.n_components;
	r->comps = xcalloc(n ? n : 1, sizeof(*r->comps));
	if (ws_tree_id(src, r->commit.id, "", r->root_tree, e) < 0)
		return err_prefix(e, "commit %s", r->commit.id);
	for (size_t i = 0; i < n; i++) {
		const struct spec_component *c = &r->spec.components[i];
		struct run_comp *rc = &r->comps[i];
		struct cache_ingredients in;
		char id[41];
		/* no path means the repository root: then the whole tree is an ingredient (safe, not fast) */
		if (ws_tree_id(src, r->commit.id, c->path ? c->path : "", id, e) < 0)
			return err_prefix(e, "component '%s'", c->name);
		rc->tree_id = xstrdup(id);
		rc->input_ids = xcalloc(c->inputs.n ? c->inputs.n : 1, sizeof(*rc->input_ids));
		for (size_t k = 0; k < c->inputs.n; k++) {
			if (ws_tree_id(src, r->commit.id, c->inputs.items[k], id, e) < 0)
				return err_prefix(e, "component '%s' input", c->name);
			rc->input_ids[k] = xstrdup(id);
		}
		memset(&in, 0, sizeof(in));
		in.spec = &r->spec;
		in.comp = i;
		in.tree_id = rc->tree_id;
		in.input_ids = (const char *const *)rc->input_ids;
		in.version = MLCI_VERSION;
		cache_source_key(&in, rc->source_key);
	}
	return 0;
}

static char *params_json(const struct spec *s)
{
	cJSON *o = cJSON_CreateObject();
	char *text;
	for (size_t i = 0; i < s->params.n; i++)
		cJSON_AddStringToObject(o, s->params.items[i].key, s->params.items[i].value);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

int record_run_begin(struct run *r, struct err *e)
{
	struct store_run sr;
	char *params = params_json(&r->spec);
	int ret;
	memset(&sr, 0, sizeof(sr));
	sr.id = r->id;
	sr.pipeline = r->spec.pipeline ? r->spec.pipeline : "";
	sr.repo = r->repo;
	sr.commit_id = r->commit.id;
	sr.branch = r->commit.branch;
	sr.trigger = r->trigger;
	sr.status = run_status_name(RUN_RUNNING);
	sr.params_json = params;
	sr.resumed_from = r->resumed_from;
	sr.started_ms = r->started_at_ms;
	ret = store_run_begin(r->store, &sr, e);
	free(params);
	return ret;
}

int record_step(struct run *r, const struct run_step *s, struct err *e)
{
	struct store_step ss;
	char *log = run_log_path(r, s->component);
	int ret;
	memset(&ss, 0, sizeof(ss));
	ss.run = r->id;
	ss.component = s->component;
	ss.phase = step_phase_name(s->phase);
	ss.status = step_status_name(s->status);
	ss.started_ms = s->started_at_ms;
	if (s->status != STEP_RUNNING && s->status != STEP_PENDING && s->started_at_ms)
		ss.finished_ms = s->started_at_ms + s->duration_ms;
	ss.duration_ms = s->duration_ms;
	ss.has_exit_code = s->status == STEP_PASSED || s->status == STEP_FAILED;
	ss.exit_code = s->exit_code;
	ss.cache_key = s->key[0] ? s->key : NULL;
	ss.cached_from = s->cached_from;
	ss.log_path = s->status == STEP_SKIPPED || s->status == STEP_CACHED ? NULL : log;
	ss.reason = s->reason;
	ret = store_step_put(r->store, &ss, e);
	free(log);
	return ret;
}

static void outputs_clear(struct run_comp *rc)
{
	for (size_t i = 0; i < rc->n_outputs; i++)
		free(rc->outputs[i].name);
	free(rc->outputs);
	rc->outputs = NULL;
	rc->n_outputs = 0;
}

static void outputs_add(struct run_comp *rc, const char *name, const char *digest, int64_t size)
{
	rc->outputs = xrealloc(rc->outputs, (rc->n_outputs + 1) * sizeof(*rc->outputs));
	rc->outputs[rc->n_outputs].name = xstrdup(name);
	snprintf(rc->outputs[rc->n_outputs].digest, sizeof(rc->outputs[0].digest), "%s", digest);
	rc->outputs[rc->n_outputs].size = size;
	rc->n_outputs++;
}

/* The run key of a run step: source key plus the outputs of its needs (known by now). */
static void run_key(struct run *r, size_t comp, char key[65])
{
	const struct spec_component *c = &r->spec.components[comp];
	struct cache_upstream *up = NULL;
	struct cache_ingredients in;
	size_t n = 0;
	for (size_t k = 0; k < c->needs.n; k++) {
		const struct run_comp *u = &r->comps[c->need_idx[k]];
		up = xrealloc(up, (n + u->n_outputs + 1) * sizeof(*up));
		for (size_t j = 0; j < u->n_outputs; j++) {
			up[n].component = r->spec.components[c->need_idx[k]].name;
			up[n].name = u->outputs[j].name;
			up[n].digest = u->outputs[j].digest;
			n++;
		}
	}
	memset(&in, 0, sizeof(in));
	in.spec = &r->spec;
	in.comp = comp;
	in.tree_id = r->comps[comp].tree_id;
	in.input_ids = (const char *const *)r->comps[comp].input_ids;
	in.up = up;
	in.n_up = n;
	in.version = MLCI_VERSION;
	cache_run_key(&in, key);
	free(up);
}

static int collect(const char *base, const char *rel, struct strvec *files, struct err *e);

/* Input events for the repository files a step declares in "inputs" (directories expanded): the data
 * a model was trained on shows up in its lineage. Content goes to the artifact store like outputs. */
static int record_repo_inputs(struct run *r, const struct run_step *s, struct err *e)
{
	const struct spec_component *c = &r->spec.components[s->comp];
	struct strvec files = STRVEC_INIT;
	int ret = 0;
	for (size_t i = 0; i < c->inputs.n && !ret; i++)
		ret = collect(r->workspace, c->inputs.items[i], &files, e);
	for (size_t i = 0; i < files.n && !ret; i++) {
		char digest[65], *src = path_join(r->workspace, files.v[i]), *uri;
		int64_t size = 0;
		ret = artifact_put_file(r->home, src, digest, &size, e);
		free(src);
		if (ret)
			break;
		uri = artifact_path(r->home, digest);
		ret = store_artifact_put(r->store, digest, size, "source", uri, e);
		free(uri);
		if (!ret)
			ret = store_event_put(r->store, r->id, s->component, digest, "input", files.v[i], e);
	}
	strvec_clear(&files);
	return ret;
}

/* Input events of a run step: every output of its needs, named "<need>/<output>", and its declared
 * repository inputs, named by their path. */
static int record_inputs(struct run *r, const struct run_step *s, struct err *e)
{
	const struct spec_component *c = &r->spec.components[s->comp];
	struct buf name = BUF_INIT;
	int ret = record_repo_inputs(r, s, e);
	for (size_t k = 0; k < c->needs.n && !ret; k++) {
		const struct run_comp *u = &r->comps[c->need_idx[k]];
		for (size_t j = 0; j < u->n_outputs && !ret; j++) {
			buf_reset(&name);
			buf_addf(&name, "%s/%s", r->spec.components[c->need_idx[k]].name, u->outputs[j].name);
			ret = store_event_put(r->store, r->id, s->component, u->outputs[j].digest, "input", name.ptr,
					      e);
		}
	}
	buf_release(&name);
	return ret;
}

struct restore_ctx {
	struct run *r;
	struct run_comp *rc;
	const char *out_dir;
	struct err *e;
	int failed;
};

static int restore_one(void *payload, const char *name, const char *digest)
{
	struct restore_ctx *x = payload;
	char *dst = path_join(x->out_dir, name);
	struct err e2 = ERR_INIT;
	int ret = artifact_materialize(x->r->home, digest, dst, &e2);
	if (ret < 0) {
		log_warn("cache: could not restore '%s': %s; running the step instead", name, err_msg(&e2));
		x->failed = 1;
	} else {
		outputs_add(x->rc, name, digest, 0);
	}
	err_release(&e2);
	free(dst);
	return ret < 0 ? -1 : 0;
}

int record_try_cache(struct run *r, struct run_step *s, int no_cache, struct err *e)
{
	struct run_comp *rc = &r->comps[s->comp];
	char origin[64];
	int hit;

	if (s->phase == PHASE_RUN)
		run_key(r, s->comp, s->key);
	else
		snprintf(s->key, sizeof(s->key), "%s", rc->source_key);
	if (no_cache)
		return 0;
	hit = store_cache_lookup(r->store, s->key, step_phase_name(s->phase), origin, sizeof(origin), e);
	if (hit <= 0)
		return hit;
	if (s->phase == PHASE_RUN) {
		struct restore_ctx x;
		char *out = run_out_dir(r, s->comp);
		struct err e2 = ERR_INIT;
		memset(&x, 0, sizeof(x));
		x.r = r;
		x.rc = rc;
		x.out_dir = out;
		x.e = e;
		outputs_clear(rc);
		if (fs_rm_rf(out, e) < 0 || fs_mkdir_p(out, 0755, e) < 0) {
			free(out);
			return -1;
		}
		if (store_outputs_each(r->store, origin, s->component, restore_one, &x, &e2) < 0 || x.failed) {
			/* a broken cache entry is a miss, not an error */
			err_release(&e2);
			outputs_clear(rc);
			fs_rm_rf(out, NULL);
			free(out);
			return 0;
		}
		err_release(&e2);
		fs_make_readonly(out);
		free(out);
		if (store_begin(r->store, e) < 0)
			return -1;
		for (size_t i = 0; i < rc->n_outputs; i++)
			if (store_event_put(r->store, r->id, s->component, rc->outputs[i].digest, "output",
					    rc->outputs[i].name, e) < 0) {
				store_rollback(r->store);
				return -1;
			}
		if (record_inputs(r, s, e) < 0) {
			store_rollback(r->store);
			return -1;
		}
		if (store_commit(r->store, e) < 0)
			return -1;
	}
	free(s->cached_from);
	s->cached_from = xstrdup(origin);
	return 1;
}

/* Files under "base"/"rel", expanded: a directory contributes every regular file below it. */
static int collect(const char *base, const char *rel, struct strvec *files, struct err *e)
{
	char *full = path_join(base, rel);
	struct stat st;
	int ret = 0;
	if (lstat(full, &st) < 0) {
		ret = err_errno(e, MLCI_EINFRA, "could not stat '%s'", rel);
	} else if (S_ISREG(st.st_mode)) {
		strvec_push(files, rel);
	} else if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(full);
		struct dirent *de;
		if (!d) {
			free(full);
			return err_errno(e, MLCI_EINFRA, "could not read directory '%s'", rel);
		}
		while (!ret && (de = readdir(d))) {
			char *sub;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			sub = path_join(rel, de->d_name);
			ret = collect(base, sub, files, e);
			free(sub);
		}
		closedir(d);
	} else {
		ret = err_set(e, MLCI_EFAILED, "'%s' is not a regular file or directory", rel);
	}
	free(full);
	return ret;
}

int record_outputs(struct run *r, struct run_step *s, struct err *e)
{
	const struct spec_component *c = &r->spec.components[s->comp];
	struct run_comp *rc = &r->comps[s->comp];
	char *out = run_out_dir(r, s->comp);
	struct strvec files = STRVEC_INIT;
	int ret = -1;

	outputs_clear(rc);
	for (size_t i = 0; i < c->outputs.n; i++)
		if (collect(out, c->outputs.items[i], &files, e) < 0)
			goto done;
	/* content first (idempotent), rows after, in one transaction */
	for (size_t i = 0; i < files.n; i++) {
		char digest[65], *src = path_join(out, files.v[i]);
		int64_t size = 0;
		int r2 = artifact_put_file(r->home, src, digest, &size, e);
		free(src);
		if (r2 < 0)
			goto done;
		outputs_add(rc, files.v[i], digest, size);
	}
	if (store_begin(r->store, e) < 0)
		goto done;
	for (size_t i = 0; i < rc->n_outputs; i++) {
		char *uri = artifact_path(r->home, rc->outputs[i].digest);
		int r2 = store_artifact_put(r->store, rc->outputs[i].digest, rc->outputs[i].size, "output", uri, e);
		free(uri);
		if (r2 < 0 || store_event_put(r->store, r->id, s->component, rc->outputs[i].digest, "output",
					      rc->outputs[i].name, e) < 0) {
			store_rollback(r->store);
			goto done;
		}
	}
	if (record_inputs(r, s, e) < 0) {
		store_rollback(r->store);
		goto done;
	}
	if (store_commit(r->store, e) < 0)
		goto done;
	ret = 0;
done:
	strvec_clear(&files);
	free(out);
	return ret;
}

/* The output file of reference "ref" in this run, or NULL. */
static char *ref_file(const struct run *r, const struct spec_ref *ref)
{
	char *dir, *p;
	if (!ref->text || ref->comp >= r->spec.n_components)
		return NULL;
	dir = run_out_dir(r, ref->comp);
	p = path_join(dir, ref->output);
	free(dir);
	return p;
}

static cJSON *read_json(const char *path)
{
	struct buf b = BUF_INIT;
	cJSON *j = NULL;
	b.max = 16 * 1024 * 1024;
	if (path && buf_read_file(&b, path) == 0)
		j = cJSON_Parse(b.ptr);
	buf_release(&b);
	return j;
}

/* Numbers at the top level of metrics.json; objects of objects in slices.json as "key=value" slices. */
static int record_metrics(struct run *r, cJSON *metrics, cJSON *slices, struct err *e)
{
	const cJSON *m, *group, *slice;
	cJSON_ArrayForEach(m, metrics) {
		if (cJSON_IsNumber(m) && store_metric_put(r->store, r->id, m->string, "", m->valuedouble, e) < 0)
			return -1;
	}
	cJSON_ArrayForEach(group, slices) {
		if (!cJSON_IsObject(group))
			continue;
		cJSON_ArrayForEach(slice, group) {
			struct buf name = BUF_INIT;
			buf_addf(&name, "%s=%s", group->string, slice->string);
			cJSON_ArrayForEach(m, slice) {
				if (cJSON_IsNumber(m) &&
				    store_metric_put(r->store, r->id, m->string, name.ptr, m->valuedouble, e) < 0) {
					buf_release(&name);
					return -1;
				}
			}
			buf_release(&name);
		}
	}
	return 0;
}

/* The model artifact: spec's model_artifact, else the only declared output named "model.*". */
static const struct run_output *model_output(const struct run *r)
{
	const struct run_output *found = NULL;
	if (r->spec.model_artifact.text) {
		const struct run_comp *rc = &r->comps[r->spec.model_artifact.comp];
		for (size_t i = 0; i < rc->n_outputs; i++)
			if (!strcmp(rc->outputs[i].name, r->spec.model_artifact.output))
				return &rc->outputs[i];
		return NULL;
	}
	for (size_t c = 0; c < r->spec.n_components; c++)
		for (size_t i = 0; i < r->comps[c].n_outputs; i++) {
			const char *base = strrchr(r->comps[c].outputs[i].name, '/');
			base = base ? base + 1 : r->comps[c].outputs[i].name;
			if (!strncmp(base, "model.", 6)) {
				if (found)
					return NULL; /* ambiguous: the spec must say which */
				found = &r->comps[c].outputs[i];
			}
		}
	return found;
}

int record_run_finish(struct run *r, struct err *e)
{
	int ret = 0;
	if (r->status == RUN_PASSED && r->comps) {
		char *mpath = ref_file(r, &r->spec.checks.model.metrics);
		char *spath = ref_file(r, &r->spec.checks.model.slices_metrics);
		cJSON *metrics = read_json(mpath), *slices = read_json(spath);
		const struct run_output *model = model_output(r);
		if (store_begin(r->store, e) < 0) {
			ret = -1;
		} else if (record_metrics(r, metrics, slices, e) < 0) {
			store_rollback(r->store);
			ret = -1;
		} else if (store_commit(r->store, e) < 0) {
			ret = -1;
		}
		if (!ret && model && r->spec.model) {
			char *mj = metrics ? cJSON_PrintUnformatted(metrics) : xstrdup("{}");
			ret = store_model_register(r->store, r->spec.model, r->id, r->commit.id, model->digest, mj,
						   &r->model_version, &r->model_created, e);
			if (!ret)
				r->model_digest = xstrdup(model->digest);
			free(mj);
		} else if (!ret && !model) {
			log_verbose("no model artifact to register (set model_artifact in mlci.yaml)");
		}
		cJSON_Delete(metrics);
		cJSON_Delete(slices);
		free(mpath);
		free(spath);
	}
	{
		/* the run row is closed even when recording its results failed (that error is kept) */
		struct err e2 = ERR_INIT;
		if (store_run_finish(r->store, r->id, run_status_name(r->status), r->finished_at_ms, r->reason, &e2) <
			    0 &&
		    !ret) {
			err_set(e, e2.code, "%s", err_msg(&e2));
			ret = -1;
		}
		err_release(&e2);
	}
	return ret;
}
