/* state_write.c - one commit on main of the state repo per change (a promotion, a rollback, a restore):
 * the tree with one state file replaced, a compare-and-swap of main, and for a remote a push re-applied
 * on the new tip when someone else pushed first. It must not decide what to write, or print. */
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

static int build_tree(git_repository *repo, git_commit *parent, const char *pipeline, const char *env,
		      const git_oid *blob_id, git_oid *tree_out, struct err *e)
{
	git_tree *root = NULL, *envs = NULL, *pipe = NULL;
	git_treebuilder *tb_root = NULL, *tb_envs = NULL, *tb_pipe = NULL;
	const git_tree_entry *en;
	git_oid envs_id, pipe_id, old;
	struct buf name = BUF_INIT;
	int legacy = 0, ret = -1;

	if (parent && git_commit_tree(&root, parent) < 0) {
		state_git_fail(e, "could not read the tip tree");
		goto done;
	}
	if (root && (en = git_tree_entry_byname(root, "environments")) &&
	    git_tree_lookup(&envs, repo, git_tree_entry_id(en)) < 0) {
		state_git_fail(e, "could not read environments/");
		goto done;
	}
	if (envs && (en = git_tree_entry_byname(envs, pipeline))) {
		if (git_tree_entry_type(en) != GIT_OBJECT_TREE) {
			err_set(e, MLCI_EINFRA, "state repo: environments/%s is not a directory", pipeline);
			goto done;
		}
		if (git_tree_lookup(&pipe, repo, git_tree_entry_id(en)) < 0) {
			state_git_fail(e, "could not read a pipeline directory");
			goto done;
		}
	}
	if (root && state_find_blob(repo, root, pipeline, env, &old, &legacy, e) < 0)
		goto done;
	buf_addf(&name, "%s.json", env);
	if (git_treebuilder_new(&tb_pipe, repo, pipe) < 0 ||
	    git_treebuilder_insert(NULL, tb_pipe, name.ptr, blob_id, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(&pipe_id, tb_pipe) < 0 || git_treebuilder_new(&tb_envs, repo, envs) < 0 ||
	    (legacy && git_treebuilder_remove(tb_envs, name.ptr) < 0) ||
	    git_treebuilder_insert(NULL, tb_envs, pipeline, &pipe_id, GIT_FILEMODE_TREE) < 0 ||
	    git_treebuilder_write(&envs_id, tb_envs) < 0 || git_treebuilder_new(&tb_root, repo, root) < 0 ||
	    git_treebuilder_insert(NULL, tb_root, "environments", &envs_id, GIT_FILEMODE_TREE) < 0 ||
	    git_treebuilder_write(tree_out, tb_root) < 0) {
		state_git_fail(e, "could not build the new tree");
		goto done;
	}
	ret = 0;
done:
	git_treebuilder_free(tb_pipe);
	git_treebuilder_free(tb_envs);
	git_treebuilder_free(tb_root);
	git_tree_free(pipe);
	git_tree_free(envs);
	git_tree_free(root);
	buf_release(&name);
	return ret;
}

/* The test hook $MLCI_TEST_STATE_PAUSE=PATH (docs/promotion.md): before the first push, create
 * PATH.ready and wait up to 30 s for PATH.go, so that a test can push to the remote in between. */
static void pause_point(void)
{
	const char *p = getenv("MLCI_TEST_STATE_PAUSE");
	struct buf ready = BUF_INIT, go = BUF_INIT;
	if (!p || !*p)
		return;
	buf_addf(&ready, "%s.ready", p);
	buf_addf(&go, "%s.go", p);
	if (fs_write_atomic(ready.ptr, "1\n", 2, 0644, NULL) == 0)
		for (int i = 0; i < 1500 && !fs_is_file(go.ptr); i++) {
			struct timespec ts = { 0, 20L * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	buf_release(&ready);
	buf_release(&go);
}

/* What one attempt commits. */
struct attempt {
	const char *pipeline, *env;
	const git_oid *blob_id;
	const git_signature *author, *committer;
	const char *message;
};

/* One attempt: the new tree on the current tip, a commit, and main moved by compare-and-swap (local) or
 * the commit pushed first (remote). 0 done ("commit_out" set), 1 someone else moved main (try again on
 * the new tip), -1 error. */
static int commit_once(struct state_repo *s, const struct attempt *a, int attempt, char commit_out[41], struct err *e)
{
	git_oid tip, tree_id, commit_id;
	git_commit *parent = NULL;
	git_tree *tree = NULL;
	int have_tip, r;
	/* remote: commit on the remote's current tip (a re-try re-applies the change on the new one) */
	if (s->url && state_sync(s, e) < 0)
		return -1;
	have_tip = git_reference_name_to_id(&tip, s->repo, STATE_REF) == 0;
	if (have_tip && git_commit_lookup(&parent, s->repo, &tip) < 0)
		return state_git_fail(e, "could not read the tip");
	if (build_tree(s->repo, parent, a->pipeline, a->env, a->blob_id, &tree_id, e) < 0 ||
	    git_tree_lookup(&tree, s->repo, &tree_id) < 0) {
		git_commit_free(parent);
		return e->msg.len ? -1 : state_git_fail(e, "could not read the new tree");
	}
	/* remote: main moves only once the remote has the commit, so it is never left ahead */
	r = git_commit_create(&commit_id, s->repo, s->url ? NULL : STATE_REF, a->author, a->committer, NULL, a->message,
			      tree, parent ? 1 : 0, (const git_commit **)&parent);
	git_tree_free(tree);
	git_commit_free(parent);
	if (r == 0 && s->url) {
		if (!attempt)
			pause_point();
		r = state_remote_push(s, &commit_id, have_tip ? &tip : NULL, e);
		if (r < 0)
			return -1;
		if (r == 1)
			return 1; /* rejected: someone else pushed; fetch and re-apply */
		{
			git_reference *ref = NULL;
			r = have_tip ? git_reference_create_matching(&ref, s->repo, STATE_REF, &commit_id, 1, &tip,
								     "mlci state commit")
				     : git_reference_create(&ref, s->repo, STATE_REF, &commit_id, 1,
							    "mlci state commit");
			git_reference_free(ref);
			if (r < 0)
				return state_git_fail(
					e, "pushed, but could not move the local main (the next fetch will)");
		}
	}
	if (r == 0) {
		git_oid_tostr(commit_out, 41, &commit_id);
		return 0;
	}
	if (r != GIT_EMODIFIED && r != GIT_ELOCKED && r != GIT_EEXISTS)
		return state_git_fail(e, "could not commit");
	return 1;
}

int state_write(struct state_repo *s, const char *pipeline, const char *env, const struct env_state *state,
		const char *actor, const char *message, char commit_out[41], struct err *e)
{
	cJSON *json = env_state_to_json(state);
	char *text = cJSON_Print(json);
	git_signature *author = NULL, *committer = NULL;
	struct buf email = BUF_INIT;
	git_oid blob_id;
	char *lock_path = NULL;
	int lock_fd = -1;
	int ret = -1;
	int attempts = s->url ? PUSH_ATTEMPTS : 20;

	if (!text)
		return err_set(e, MLCI_EINFRA, "state repo: could not serialise the state of '%s'", env);
	buf_addf(&email, "%s@localhost", actor);
	/* $MLCI_NOW (a test hook) dates the commit, so that `status --at` can be tested without waiting */
	if (getenv("MLCI_NOW")
		    ? git_signature_new(&author, actor, email.ptr, (git_time_t)policy_now(), 0) < 0 ||
			      git_signature_new(&committer, "mlci", "mlci@localhost", (git_time_t)policy_now(), 0) < 0
		    : git_signature_now(&author, actor, email.ptr) < 0 ||
			      git_signature_now(&committer, "mlci", "mlci@localhost") < 0) {
		state_git_fail(e, "could not make signatures");
		goto done;
	}
	{
		struct buf body = BUF_INIT;
		buf_addf(&body, "%s\n", text);
		if (git_blob_create_from_buffer(&blob_id, s->repo, body.ptr, body.len) < 0) {
			buf_release(&body);
			state_git_fail(e, "could not write the state blob");
			goto done;
		}
		buf_release(&body);
	}
	/* writers of this state repo take turns (flock on state.git/mlci.lock), so history stays linear
	 * without livelock; the compare-and-swap below still protects against anyone else moving main */
	lock_path = path_join(s->path, "mlci.lock");
	lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0) {
		err_errno(e, MLCI_EINFRA, "state repo: could not lock '%s'", lock_path);
		goto done;
	}
	for (int attempt = 0; attempt < attempts; attempt++) {
		struct attempt a = { pipeline, env, &blob_id, author, committer, message };
		int r = commit_once(s, &a, attempt, commit_out, e);
		if (r <= 0) {
			ret = r;
			goto done;
		}
		{
			/* someone else moved main: back off a little (randomly, so that two hosts racing for a
			 * remote drift apart) before rebuilding on it */
			long ms = 1 + attempt * 5 + (s->url ? (long)(random() % (10 + attempt * 10)) : 0);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	if (s->url)
		err_set(e, MLCI_EINFRA,
			"state repo: push to %s rejected %d times (others kept pushing); nothing was recorded, "
			"try again",
			s->url, attempts);
	else
		err_set(e, MLCI_EINFRA, "state repo: main kept moving; gave up after %d attempts", attempts);
done:
	if (lock_fd >= 0)
		close(lock_fd); /* releases the flock */
	free(lock_path);
	git_signature_free(author);
	git_signature_free(committer);
	buf_release(&email);
	free(text);
	cJSON_Delete(json);
	return ret;
}
