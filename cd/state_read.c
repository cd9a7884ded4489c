/* state_read.c - reading the state repo: the state of a (pipeline, environment) at the tip of main or at a
 * commit, every pair that has one, the tip itself. Both layouts (environments/<pipeline>/<env>.json and
 * the previous environments/<env>.json). It must not write to the repository or print. */
#include "cd/state_int.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <signal.h>
#include <git2.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cd/policy.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/path.h"
#include "git/workspace.h"
#include "common/banned.h"

/* ---------- layout ---------- */

int state_parse_blob(git_repository *repo, const git_oid *id, struct env_state *out, struct err *e)
{
	git_blob *blob = NULL;
	char hex[41];
	struct buf what = BUF_INIT;
	int r;
	env_state_init(out);
	if (git_blob_lookup(&blob, repo, id) < 0)
		return state_git_fail(e, "could not read a state file");
	git_oid_tostr(hex, sizeof(hex), id);
	buf_addf(&what, "state repo: state file %.12s", hex);
	r = env_state_parse(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), what.ptr, e);
	buf_release(&what);
	git_blob_free(blob);
	return r;
}

/* The blob holding the state of (pipeline, env) in "root": environments/<pipeline>/<env>.json, else the
 * previous layout's environments/<env>.json when its JSON names that pipeline (or no pipeline at all).
 * 1 found ("*legacy" says which layout), 0 not there, -1 error. */
int state_find_blob(git_repository *repo, git_tree *root, const char *pipeline, const char *env, git_oid *out,
		    int *legacy, struct err *e)
{
	git_tree_entry *en = NULL;
	struct buf path = BUF_INIT;
	int ret = 0;
	if (legacy)
		*legacy = 0;
	buf_addf(&path, "environments/%s/%s.json", pipeline, env);
	if (git_tree_entry_bypath(&en, root, path.ptr) == 0 && git_tree_entry_type(en) == GIT_OBJECT_BLOB) {
		git_oid_cpy(out, git_tree_entry_id(en));
		ret = 1;
		goto done;
	}
	git_tree_entry_free(en);
	en = NULL;
	buf_reset(&path);
	buf_addf(&path, "environments/%s.json", env);
	if (git_tree_entry_bypath(&en, root, path.ptr) == 0 && git_tree_entry_type(en) == GIT_OBJECT_BLOB) {
		struct env_state st;
		struct err pe = ERR_INIT;
		git_blob *blob = NULL;
		if (git_blob_lookup(&blob, repo, git_tree_entry_id(en)) < 0) {
			ret = state_git_fail(e, "could not read a state file");
			goto done;
		}
		git_blob_free(blob);
		/* not valid: not a state of this pipeline (as before); a valid one counts when it names this
		 * pipeline or none */
		if (state_parse_blob(repo, git_tree_entry_id(en), &st, &pe) == 0) {
			if (!st.pipeline || !strcmp(st.pipeline, pipeline)) {
				git_oid_cpy(out, git_tree_entry_id(en));
				if (legacy)
					*legacy = 1;
				ret = 1;
			}
			env_state_release(&st);
		}
		err_release(&pe);
	}
done:
	git_tree_entry_free(en);
	buf_release(&path);
	return ret;
}

/* The state of (pipeline, env) in "commit": 1 parsed into "out", 0 none there ("out" empty). */
static int read_in_commit(git_repository *repo, const git_oid *commit_id, const char *pipeline, const char *env,
			  struct env_state *out, struct err *e)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_oid blob;
	int ret = -1, r;

	env_state_init(out);
	if (git_commit_lookup(&c, repo, commit_id) < 0 || git_commit_tree(&tree, c) < 0) {
		state_git_fail(e, "could not read a commit");
		goto done;
	}
	r = state_find_blob(repo, tree, pipeline, env, &blob, NULL, e);
	if (r <= 0) {
		ret = r;
		goto done;
	}
	ret = state_parse_blob(repo, &blob, out, e) < 0 ? -1 : 1;
done:
	git_tree_free(tree);
	git_commit_free(c);
	return ret;
}

int state_read(struct state_repo *s, const char *pipeline, const char *env, struct env_state *out, char commit_out[41],
	       struct err *e)
{
	git_oid tip;
	env_state_init(out);
	if (commit_out)
		commit_out[0] = '\0';
	if (git_reference_name_to_id(&tip, s->repo, STATE_REF) < 0)
		return 0; /* empty repository */
	if (commit_out)
		git_oid_tostr(commit_out, 41, &tip);
	return read_in_commit(s->repo, &tip, pipeline, env, out, e);
}

int state_read_at(struct state_repo *s, const char *commit, const char *pipeline, const char *env,
		  struct env_state *out, struct err *e)
{
	git_oid id;
	env_state_init(out);
	if (git_oid_fromstr(&id, commit) < 0)
		return err_set(e, MLCI_EUSAGE, "invalid state commit '%s'", commit);
	return read_in_commit(s->repo, &id, pipeline, env, out, e);
}

/* The new root tree: the parent's tree with environments/<pipeline>/<env>.json set to "blob_id" and the
 * previous layout's file of (pipeline, env) removed. */
struct pair {
	char *pipeline, *env; /* owned */
};

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->pipeline, y->pipeline);
	return c ? c : strcmp(x->env, y->env);
}

static int has_pair(const struct pair *v, size_t n, const char *pipeline, const char *env)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].pipeline, pipeline) && !strcmp(v[i].env, env))
			return 1;
	return 0;
}

/* "x.json" -> "x", else NULL. */
char *state_json_stem(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && !strcmp(name + n - 5, ".json") ? xstrndup(name, n - 5) : NULL;
}

int state_list(struct state_repo *s, struct strvec *pipelines, struct strvec *envs, struct err *e)
{
	git_oid tip;
	git_commit *c = NULL;
	git_tree *root = NULL, *dir = NULL;
	const git_tree_entry *en;
	struct pair *v = NULL;
	size_t n = 0, alloc = 0;
	int ret = -1;
	if (git_reference_name_to_id(&tip, s->repo, STATE_REF) < 0)
		return 0;
	if (git_commit_lookup(&c, s->repo, &tip) < 0 || git_commit_tree(&root, c) < 0) {
		state_git_fail(e, "could not read the tip");
		goto done;
	}
	en = git_tree_entry_byname(root, "environments");
	if (!en) {
		ret = 0;
		goto done;
	}
	if (git_tree_lookup(&dir, s->repo, git_tree_entry_id(en)) < 0) {
		state_git_fail(e, "could not read environments/");
		goto done;
	}
	/* the new layout first: a previous-layout file is shadowed by the new file of its pair */
	for (size_t i = 0; i < git_tree_entrycount(dir); i++) {
		const git_tree_entry *pe = git_tree_entry_byindex(dir, i);
		git_tree *pd = NULL;
		if (git_tree_entry_type(pe) != GIT_OBJECT_TREE)
			continue;
		if (git_tree_lookup(&pd, s->repo, git_tree_entry_id(pe)) < 0) {
			state_git_fail(e, "could not read a pipeline directory");
			goto done;
		}
		for (size_t k = 0; k < git_tree_entrycount(pd); k++) {
			char *env = state_json_stem(git_tree_entry_name(git_tree_entry_byindex(pd, k)));
			if (!env)
				continue;
			ALLOC_GROW(v, n + 1, alloc);
			v[n].pipeline = xstrdup(git_tree_entry_name(pe));
			v[n++].env = env;
		}
		git_tree_free(pd);
	}
	for (size_t i = 0; i < git_tree_entrycount(dir); i++) {
		const git_tree_entry *fe = git_tree_entry_byindex(dir, i);
		char *env;
		struct env_state st;
		if (git_tree_entry_type(fe) != GIT_OBJECT_BLOB || !(env = state_json_stem(git_tree_entry_name(fe))))
			continue;
		if (state_parse_blob(s->repo, git_tree_entry_id(fe), &st, e) < 0) {
			free(env);
			goto done;
		}
		if (st.pipeline && !has_pair(v, n, st.pipeline, env)) {
			ALLOC_GROW(v, n + 1, alloc);
			v[n].pipeline = xstrdup(st.pipeline);
			v[n++].env = env;
		} else {
			free(env); /* no pipeline named: an emptied state of the previous layout */
		}
		env_state_release(&st);
	}
	if (n)
		qsort(v, n, sizeof(*v), pair_cmp);
	for (size_t i = 0; i < n; i++) {
		strvec_push_owned(pipelines, v[i].pipeline);
		strvec_push_owned(envs, v[i].env);
	}
	n = 0;
	ret = 0;
done:
	for (size_t i = 0; i < n; i++) {
		free(v[i].pipeline);
		free(v[i].env);
	}
	free(v);
	git_tree_free(dir);
	git_tree_free(root);
	git_commit_free(c);
	return ret;
}

int state_pipeline_of(struct state_repo *s, const char *env, char **pipeline_out, struct err *e)
{
	struct strvec pipes = STRVEC_INIT, envs = STRVEC_INIT, match = STRVEC_INIT;
	int ret = -1;
	*pipeline_out = NULL;
	if (state_list(s, &pipes, &envs, e) < 0)
		goto done;
	for (size_t i = 0; i < envs.n; i++)
		if (!strcmp(envs.v[i], env))
			strvec_push(&match, pipes.v[i]);
	if (match.n > 1) {
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < match.n; i++)
			buf_addf(&b, "%s%s", i ? ", " : "", match.v[i]);
		err_set(e, MLCI_EUSAGE, "environment %s is used by pipelines %s: name one with --pipeline P", env,
			b.ptr);
		buf_release(&b);
		goto done;
	}
	if (match.n == 1)
		*pipeline_out = xstrdup(match.v[0]);
	ret = 0;
done:
	strvec_clear(&pipes);
	strvec_clear(&envs);
	strvec_clear(&match);
	return ret;
}

int state_tip(struct state_repo *s, char out[41])
{
	git_oid tip;
	out[0] = '\0';
	if (git_reference_name_to_id(&tip, s->repo, STATE_REF) < 0)
		return 0;
	git_oid_tostr(out, 41, &tip);
	return 1;
}

/* (pipeline, env) of a state file path: "environments/<p>/<e>.json" (new layout, 1) or
 * "environments/<e>.json" (previous layout, 2: the pipeline is in the JSON); 0 for anything else. */
