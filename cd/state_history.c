/* state_history.c - walking the state repo's history: the states of one (pipeline, environment) newest
 * first (history, rollback targets, status --at), and every state file changed since a commit, oldest
 * first (the registry's reconciliation). It must not write to the repository or print. */
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

int state_log(struct state_repo *s, const char *pipeline, const char *env,
	      int (*fn)(void *payload, const char *commit, long long time, const struct env_state *state),
	      void *payload, struct err *e)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int ret = -1;

	if (git_reference_name_to_id(&id, s->repo, STATE_REF) < 0)
		return 0;
	if (git_revwalk_new(&walk, s->repo) < 0 || git_revwalk_push(walk, &id) < 0) {
		state_git_fail(e, "could not walk history");
		goto done;
	}
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	while (git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL, *parent = NULL;
		git_tree *t = NULL, *pt = NULL;
		git_oid b, pb;
		int fb, fpb = 0, changed, stop = 0;
		if (git_commit_lookup(&c, s->repo, &id) < 0 || git_commit_tree(&t, c) < 0) {
			git_commit_free(c);
			state_git_fail(e, "could not read a commit");
			goto done;
		}
		fb = state_find_blob(s->repo, t, pipeline, env, &b, NULL, e);
		if (fb >= 0 && git_commit_parentcount(c) && git_commit_parent(&parent, c, 0) == 0 &&
		    git_commit_tree(&pt, parent) == 0)
			fpb = state_find_blob(s->repo, pt, pipeline, env, &pb, NULL, e);
		if (fb < 0 || fpb < 0) {
			stop = -1;
		} else {
			changed = fb != fpb || (fb && !git_oid_equal(&b, &pb));
			if (changed) {
				struct env_state st;
				char hex[41];
				git_oid_tostr(hex, sizeof(hex), &id);
				env_state_init(&st);
				if (fb && state_parse_blob(s->repo, &b, &st, e) < 0)
					stop = -1;
				else
					stop = fn(payload, hex, (long long)git_commit_time(c), fb ? &st : NULL);
				env_state_release(&st);
			}
		}
		git_tree_free(t);
		git_tree_free(pt);
		git_commit_free(parent);
		git_commit_free(c);
		if (stop) {
			ret = stop < 0 ? -1 : 0;
			goto done;
		}
	}
	ret = 0;
done:
	git_revwalk_free(walk);
	return ret;
}

static int path_pair(const char *path, char **pipeline, char **env)
{
	const char *rest, *slash;
	*pipeline = *env = NULL;
	if (strncmp(path, "environments/", 13))
		return 0;
	rest = path + 13;
	slash = strchr(rest, '/');
	if (!slash)
		return (*env = state_json_stem(rest)) ? 2 : 0;
	if (strchr(slash + 1, '/') || !(*env = state_json_stem(slash + 1)))
		return 0;
	*pipeline = xstrndup(rest, (size_t)(slash - rest));
	return 1;
}

/* Read a blob of a diff side into "st"; 0 when the side does not exist (zero id). */
static int side_state(git_repository *repo, const git_diff_file *f, struct env_state *st, struct err *e)
{
	env_state_init(st);
	if (git_oid_is_zero(&f->id) || !(f->flags & GIT_DIFF_FLAG_EXISTS))
		return 0;
	return state_parse_blob(repo, &f->id, st, e) < 0 ? -1 : 1;
}

/* Every state file changed by commit "c" (against its first parent), oldest commit first from the caller. */
static int commit_changes(struct state_repo *s, git_commit *c, struct state_change_fn *cb, struct err *e)
{
	git_commit *parent = NULL;
	git_tree *t = NULL, *pt = NULL;
	git_diff *diff = NULL;
	git_diff_options o;
	char *spec = "environments";
	char hex[41];
	int ret = -1;

	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	o.pathspec.strings = &spec;
	o.pathspec.count = 1;
	if (git_commit_tree(&t, c) < 0 ||
	    (git_commit_parentcount(c) && (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&pt, parent) < 0)) ||
	    git_diff_tree_to_tree(&diff, s->repo, pt, t, &o) < 0) {
		state_git_fail(e, "could not diff a state commit");
		goto done;
	}
	git_oid_tostr(hex, sizeof(hex), git_commit_id(c));
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		struct env_state before, after;
		char *pipeline = NULL, *env = NULL;
		int kind = path_pair(d->new_file.path, &pipeline, &env), rb, ra, stop = 0;
		if (!kind) {
			free(env);
			continue;
		}
		rb = side_state(s->repo, &d->old_file, &before, e);
		ra = rb < 0 ? -1 : side_state(s->repo, &d->new_file, &after, e);
		if (rb < 0 || ra < 0) {
			env_state_release(&before);
			free(pipeline);
			free(env);
			goto done;
		}
		if (kind == 2)
			pipeline = xstrdup(ra ? (after.pipeline ? after.pipeline : "")
					      : (before.pipeline ? before.pipeline : ""));
		if (*pipeline)
			stop = cb->fn(cb->payload, hex, (long long)git_commit_time(c), pipeline, env,
				      rb ? &before : NULL, ra ? &after : NULL);
		env_state_release(&before);
		env_state_release(&after);
		free(pipeline);
		free(env);
		if (stop)
			goto done; /* the callback's error */
	}
	ret = 0;
done:
	git_diff_free(diff);
	git_tree_free(t);
	git_tree_free(pt);
	git_commit_free(parent);
	return ret;
}

int state_changes(struct state_repo *s, const char *since, struct state_change_fn *cb, int *full, struct err *e)
{
	git_revwalk *walk = NULL;
	git_oid tip, from, id;
	int ret = -1;

	*full = 1;
	if (git_reference_name_to_id(&tip, s->repo, STATE_REF) < 0)
		return 0;
	if (git_revwalk_new(&walk, s->repo) < 0 || git_revwalk_push(walk, &tip) < 0) {
		state_git_fail(e, "could not walk history");
		goto done;
	}
	/* only what came after "since", when it is still in main's history (a remote that was replaced
	 * or rewritten makes the walk start over from the first commit) */
	if (since && *since && git_oid_fromstr(&from, since) == 0 &&
	    (git_oid_equal(&from, &tip) || git_graph_descendant_of(s->repo, &tip, &from) == 1)) {
		if (git_revwalk_hide(walk, &from) < 0) {
			state_git_fail(e, "could not walk history");
			goto done;
		}
		*full = 0;
	}
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME | GIT_SORT_REVERSE);
	while (git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;
		int r;
		if (git_commit_lookup(&c, s->repo, &id) < 0) {
			state_git_fail(e, "could not read a commit");
			goto done;
		}
		r = commit_changes(s, c, cb, e);
		git_commit_free(c);
		if (r < 0)
			goto done;
	}
	ret = 0;
done:
	git_revwalk_free(walk);
	return ret;
}
