/* state.c - the GitOps state repository with libgit2: read and write environments/<env>.json on
 * main, one commit per change, history by walking main. Never the git CLI; never prints. */
#include "cd/state.h"

#include <fcntl.h>
#include <git2.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "cd/policy.h"
#include "common/path.h"
#include "common/banned.h"

#define STATE_REF "refs/heads/main"

static int git_fail(struct err *e, const char *what)
{
	const git_error *ge = git_error_last();
	return err_set(e, MLCI_EINFRA, "state repo: %s: %s", what, ge && ge->message ? ge->message : "unknown error");
}

int state_open(struct state_repo *s, const char *home, struct err *e)
{
	memset(s, 0, sizeof(*s));
	git_libgit2_init();
	s->path = path_join(home, "state.git");
	if (fs_is_dir(s->path)) {
		if (git_repository_open_bare(&s->repo, s->path) < 0)
			return git_fail(e, "could not open");
		return 0;
	}
	{
		git_repository_init_options io;
		git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		io.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_BARE;
		io.initial_head = "main";
		if (fs_mkdir_p(home, 0755, e) < 0)
			return -1;
		if (git_repository_init_ext(&s->repo, s->path, &io) < 0)
			return git_fail(e, "could not create");
	}
	return 0;
}

void state_close(struct state_repo *s)
{
	if (s->repo) {
		git_repository_free(s->repo);
		git_libgit2_shutdown();
	}
	free(s->path);
	memset(s, 0, sizeof(*s));
}

/* environments/<env>.json of "commit" parsed, or *out = NULL when the file is not there. */
static int read_in_commit(git_repository *repo, const git_oid *commit_id, const char *env, cJSON **out, struct err *e)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	struct buf path = BUF_INIT;
	int ret = -1;

	*out = NULL;
	buf_addf(&path, "environments/%s.json", env);
	if (git_commit_lookup(&c, repo, commit_id) < 0 || git_commit_tree(&tree, c) < 0) {
		git_fail(e, "could not read a commit");
		goto done;
	}
	if (git_tree_entry_bypath(&entry, tree, path.ptr) < 0) {
		ret = 0; /* not there: no state for that environment */
		goto done;
	}
	if (git_blob_lookup(&blob, repo, git_tree_entry_id(entry)) < 0) {
		git_fail(e, "could not read a state file");
		goto done;
	}
	{
		struct buf text = BUF_INIT;
		buf_add(&text, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
		*out = cJSON_Parse(text.ptr);
		buf_release(&text);
	}
	if (!*out) {
		err_set(e, MLCI_EINFRA, "state repo: %s is not valid JSON", path.ptr);
		goto done;
	}
	ret = 0;
done:
	git_blob_free(blob);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(c);
	buf_release(&path);
	return ret;
}

int state_read(struct state_repo *s, const char *env, cJSON **out, char commit_out[41], struct err *e)
{
	git_oid tip;
	*out = NULL;
	if (commit_out)
		commit_out[0] = '\0';
	if (git_reference_name_to_id(&tip, s->repo, STATE_REF) < 0)
		return 0; /* empty repository */
	if (commit_out)
		git_oid_tostr(commit_out, 41, &tip);
	return read_in_commit(s->repo, &tip, env, out, e);
}

int state_read_at(struct state_repo *s, const char *commit, const char *env, cJSON **out, struct err *e)
{
	git_oid id;
	*out = NULL;
	if (git_oid_fromstr(&id, commit) < 0)
		return err_set(e, MLCI_EUSAGE, "invalid state commit '%s'", commit);
	return read_in_commit(s->repo, &id, env, out, e);
}

/* The new root tree: the parent's tree with environments/<env>.json replaced by "blob_id". */
static int build_tree(git_repository *repo, git_commit *parent, const char *env, const git_oid *blob_id,
		      git_oid *tree_out, struct err *e)
{
	git_tree *root = NULL, *envs = NULL;
	git_treebuilder *tb_root = NULL, *tb_envs = NULL;
	const git_tree_entry *envs_entry = NULL;
	git_oid envs_id;
	struct buf name = BUF_INIT;
	int ret = -1;

	if (parent && git_commit_tree(&root, parent) < 0) {
		git_fail(e, "could not read the tip tree");
		goto done;
	}
	if (root && (envs_entry = git_tree_entry_byname(root, "environments")) &&
	    git_tree_lookup(&envs, repo, git_tree_entry_id(envs_entry)) < 0) {
		git_fail(e, "could not read environments/");
		goto done;
	}
	buf_addf(&name, "%s.json", env);
	if (git_treebuilder_new(&tb_envs, repo, envs) < 0 ||
	    git_treebuilder_insert(NULL, tb_envs, name.ptr, blob_id, GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(&envs_id, tb_envs) < 0 || git_treebuilder_new(&tb_root, repo, root) < 0 ||
	    git_treebuilder_insert(NULL, tb_root, "environments", &envs_id, GIT_FILEMODE_TREE) < 0 ||
	    git_treebuilder_write(tree_out, tb_root) < 0) {
		git_fail(e, "could not build the new tree");
		goto done;
	}
	ret = 0;
done:
	git_treebuilder_free(tb_envs);
	git_treebuilder_free(tb_root);
	git_tree_free(envs);
	git_tree_free(root);
	buf_release(&name);
	return ret;
}

int state_write(struct state_repo *s, const char *env, const cJSON *state, const char *actor,
		const char *message, char commit_out[41], struct err *e)
{
	char *text = cJSON_Print(state);
	git_signature *author = NULL, *committer = NULL;
	struct buf email = BUF_INIT;
	git_oid blob_id;
	char *lock_path = NULL;
	int lock_fd = -1;
	int ret = -1;

	if (!text)
		return err_set(e, MLCI_EINFRA, "state repo: could not serialise the state of '%s'", env);
	buf_addf(&email, "%s@localhost", actor);
	/* $MLCI_NOW (a test hook) dates the commit, so that `status --at` can be tested without waiting */
	if (getenv("MLCI_NOW") ? git_signature_new(&author, actor, email.ptr, (git_time_t)policy_now(), 0) < 0 ||
					 git_signature_new(&committer, "mlci", "mlci@localhost", (git_time_t)policy_now(), 0) < 0
			       : git_signature_now(&author, actor, email.ptr) < 0 ||
					 git_signature_now(&committer, "mlci", "mlci@localhost") < 0) {
		git_fail(e, "could not make signatures");
		goto done;
	}
	{
		struct buf body = BUF_INIT;
		buf_addf(&body, "%s\n", text);
		if (git_blob_create_from_buffer(&blob_id, s->repo, body.ptr, body.len) < 0) {
			buf_release(&body);
			git_fail(e, "could not write the state blob");
			goto done;
		}
		buf_release(&body);
	}
	/* writers of this state repo take turns (flock on state.git/mlci.lock), so history stays linear
	 * without livelock; the compare-and-swap below still protects against anyone else moving main */
	if (lock_fd < 0) {
		lock_path = path_join(s->path, "mlci.lock");
		lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0) {
			err_errno(e, MLCI_EINFRA, "state repo: could not lock '%s'", lock_path);
			goto done;
		}
	}
	for (int attempt = 0; attempt < 20; attempt++) {
		git_oid tip, tree_id, commit_id;
		git_commit *parent = NULL;
		git_tree *tree = NULL;
		int have_tip = git_reference_name_to_id(&tip, s->repo, STATE_REF) == 0;
		int r;
		if (have_tip && git_commit_lookup(&parent, s->repo, &tip) < 0) {
			git_fail(e, "could not read the tip");
			goto done;
		}
		if (build_tree(s->repo, parent, env, &blob_id, &tree_id, e) < 0 ||
		    git_tree_lookup(&tree, s->repo, &tree_id) < 0) {
			git_commit_free(parent);
			if (!e->msg.len)
				git_fail(e, "could not read the new tree");
			goto done;
		}
		r = git_commit_create(&commit_id, s->repo, STATE_REF, author, committer, NULL, message, tree,
				      parent ? 1 : 0, (const git_commit **)&parent);
		git_tree_free(tree);
		git_commit_free(parent);
		if (r == 0) {
			git_oid_tostr(commit_out, 41, &commit_id);
			ret = 0;
			goto done;
		}
		if (r != GIT_EMODIFIED && r != GIT_ELOCKED && r != GIT_EEXISTS) {
			git_fail(e, "could not commit");
			goto done;
		}
		{
			/* someone outside mlci moved main: back off a little before rebuilding on it */
			struct timespec ts = { 0, (long)(1000000 * (1 + attempt * 5)) };
			nanosleep(&ts, NULL);
		}
	}
	err_set(e, MLCI_EINFRA, "state repo: main kept moving; gave up after 20 attempts");
done:
	if (lock_fd >= 0)
		close(lock_fd); /* releases the flock */
	free(lock_path);
	git_signature_free(author);
	git_signature_free(committer);
	buf_release(&email);
	free(text);
	return ret;
}

int state_log(struct state_repo *s, const char *env,
	      int (*fn)(void *payload, const char *commit, long long time, const cJSON *state), void *payload,
	      struct err *e)
{
	git_revwalk *walk = NULL;
	git_oid id;
	struct buf path = BUF_INIT;
	int ret = -1;

	buf_addf(&path, "environments/%s.json", env);
	if (git_reference_name_to_id(&id, s->repo, STATE_REF) < 0) {
		buf_release(&path);
		return 0;
	}
	if (git_revwalk_new(&walk, s->repo) < 0 || git_revwalk_push(walk, &id) < 0) {
		git_fail(e, "could not walk history");
		goto done;
	}
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	while (git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL, *parent = NULL;
		git_tree *t = NULL, *pt = NULL;
		git_tree_entry *en = NULL, *pen = NULL;
		int changed;
		if (git_commit_lookup(&c, s->repo, &id) < 0 || git_commit_tree(&t, c) < 0) {
			git_commit_free(c);
			git_fail(e, "could not read a commit");
			goto done;
		}
		git_tree_entry_bypath(&en, t, path.ptr);
		if (git_commit_parentcount(c) && git_commit_parent(&parent, c, 0) == 0 && git_commit_tree(&pt, parent) == 0)
			git_tree_entry_bypath(&pen, pt, path.ptr);
		changed = (en == NULL) != (pen == NULL) ||
			  (en && pen && !git_oid_equal(git_tree_entry_id(en), git_tree_entry_id(pen)));
		if (changed) {
			cJSON *st = NULL;
			char hex[41];
			int stop;
			git_oid_tostr(hex, sizeof(hex), &id);
			if (en && read_in_commit(s->repo, &id, env, &st, e) < 0) {
				stop = -1;
			} else {
				stop = fn(payload, hex, (long long)git_commit_time(c), st);
			}
			cJSON_Delete(st);
			if (stop) {
				git_tree_entry_free(en);
				git_tree_entry_free(pen);
				git_tree_free(t);
				git_tree_free(pt);
				git_commit_free(parent);
				git_commit_free(c);
				ret = stop < 0 ? -1 : 0;
				goto done;
			}
		}
		git_tree_entry_free(en);
		git_tree_entry_free(pen);
		git_tree_free(t);
		git_tree_free(pt);
		git_commit_free(parent);
		git_commit_free(c);
	}
	ret = 0;
done:
	git_revwalk_free(walk);
	buf_release(&path);
	return ret;
}

int state_list(struct state_repo *s, struct strvec *envs, struct err *e)
{
	git_oid tip;
	git_commit *c = NULL;
	git_tree *root = NULL, *dir = NULL;
	const git_tree_entry *en;
	int ret = -1;
	if (git_reference_name_to_id(&tip, s->repo, STATE_REF) < 0)
		return 0;
	if (git_commit_lookup(&c, s->repo, &tip) < 0 || git_commit_tree(&root, c) < 0) {
		git_fail(e, "could not read the tip");
		goto done;
	}
	en = git_tree_entry_byname(root, "environments");
	if (!en) {
		ret = 0;
		goto done;
	}
	if (git_tree_lookup(&dir, s->repo, git_tree_entry_id(en)) < 0) {
		git_fail(e, "could not read environments/");
		goto done;
	}
	for (size_t i = 0; i < git_tree_entrycount(dir); i++) {
		const char *name = git_tree_entry_name(git_tree_entry_byindex(dir, i));
		size_t n = strlen(name);
		if (n > 5 && !strcmp(name + n - 5, ".json")) {
			char *env = xstrndup(name, n - 5);
			strvec_push_owned(envs, env);
		}
	}
	ret = 0;
done:
	git_tree_free(dir);
	git_tree_free(root);
	git_commit_free(c);
	return ret;
}
