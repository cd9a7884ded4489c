/* state.c - the GitOps state repository with libgit2: read and write environments/<pipeline>/<env>.json
 * on main, one commit per change, history by walking main, fetch and push when remote. Never the git
 * CLI; never prints. */
#include "cd/state.h"

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

#define STATE_REF     "refs/heads/main"
#define REMOTE_REF    "refs/remotes/origin/main"
#define PUSH_REF      "refs/mlci/push"
#define PUSH_ATTEMPTS 20

static int git_fail(struct err *e, const char *what)
{
	const git_error *ge = git_error_last();
	return err_set(e, MLCI_EINFRA, "state repo: %s: %s", what, ge && ge->message ? ge->message : "unknown error");
}

static int opens; /* state_open calls in this process: a debug counter (mlci -v prints it) */

int state_open_count(void)
{
	return opens;
}

int state_exists(const char *home, const char *url)
{
	char *path = path_join(home, "state.git");
	int r = fs_is_dir(path) || url;
	free(path);
	return r;
}

int state_open(struct state_repo *s, const char *home, const char *url, struct err *e)
{
	memset(s, 0, sizeof(*s));
	opens++;
	git_libgit2_init();
	s->url = url ? xstrdup(url) : NULL;
	s->path = path_join(home, "state.git");
	if (fs_is_dir(s->path)) {
		if (git_repository_open_bare(&s->repo, s->path) < 0)
			return git_fail(e, "could not open");
	} else {
		git_repository_init_options io;
		git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		io.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_BARE;
		io.initial_head = "main";
		if (fs_mkdir_p(home, 0755, e) < 0)
			return -1;
		if (git_repository_init_ext(&s->repo, s->path, &io) < 0)
			return git_fail(e, "could not create");
	}
	if (s->url) {
		git_remote *remote = NULL;
		const char *ca = getenv("MLCI_GIT_CA_FILE");
		/* https: certificates are always verified; this only says which CAs to trust */
		if (ca && *ca && git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, ca, NULL) < 0)
			return git_fail(e, "MLCI_GIT_CA_FILE");
		if (git_remote_lookup(&remote, s->repo, "origin") == 0) {
			int same = git_remote_url(remote) && !strcmp(git_remote_url(remote), s->url);
			git_remote_free(remote);
			if (!same && git_remote_set_url(s->repo, "origin", s->url) < 0)
				return git_fail(e, "could not set the remote's URL");
		} else if (git_remote_create_with_fetchspec(&remote, s->repo, "origin", s->url,
							    "+" STATE_REF ":" REMOTE_REF) < 0) {
			return git_fail(e, "could not add the remote");
		} else {
			git_remote_free(remote);
		}
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
	free(s->url);
	memset(s, 0, sizeof(*s));
}

/* ---------- remote ---------- */

/* A server that hangs up while libgit2 writes (https, ssh) must be an error, not a SIGPIPE that kills
 * mlci between a state commit and its record: SIGPIPE is ignored during a transfer, then restored. */
static void sigpipe_ignore(struct sigaction *saved)
{
	struct sigaction ign;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, saved);
}

static void sigpipe_restore(const struct sigaction *saved)
{
	sigaction(SIGPIPE, saved, NULL);
}

/* The path of a remote that is a local repository (file:// URL or a path), else NULL. */
static const char *local_remote_path(const char *url)
{
	if (!strncmp(url, "file://", 7))
		return url + 7;
	return ws_is_url(url) ? NULL : url;
}

/* Hosts sharing a local remote take turns with it: libgit2's local transport lists every ref of the
 * remote (after a push, and to fetch) and fails when one vanishes meanwhile, as another host's incoming
 * ref does (see local_update). flock on the remote's directory, "op" LOCK_SH to fetch, LOCK_EX to push;
 * always the innermost lock. Returns the descriptor to close, or -1 (not a local remote, or no lock to
 * be had: the transfer goes on without, as a remote server would serve it). */
static int local_remote_lock(const struct state_repo *s, int op)
{
	const char *local = s->url ? local_remote_path(s->url) : NULL;
	int fd;
	if (!local)
		return -1;
	fd = open(local, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && flock(fd, op) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void local_remote_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

static int remote_fetch(struct state_repo *s, struct err *e)
{
	git_remote *remote = NULL;
	git_fetch_options fo;
	struct ws_callbacks cb;
	char *spec = "+" STATE_REF ":" REMOTE_REF;
	git_strarray specs = { &spec, 1 };
	struct sigaction saved;
	int r, ret = 0, lock;
	if (git_remote_lookup(&remote, s->repo, "origin") < 0)
		return git_fail(e, "no remote 'origin'");
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	ws_callbacks_init(&fo.callbacks, &cb, NULL, s->url);
	sigpipe_ignore(&saved);
	lock = local_remote_lock(s, LOCK_SH);
	r = git_remote_fetch(remote, &specs, &fo, "mlci state fetch");
	local_remote_unlock(lock);
	if (r < 0) {
		struct buf what = BUF_INIT;
		buf_addf(&what, "state repo: could not fetch %s", s->url);
		ret = ws_transport_fail(e, &cb, what.ptr);
		e->code = MLCI_EINFRA; /* a state repo out of reach is infrastructure, even a refused host key */
		buf_release(&what);
	}
	err_release(&cb.cert_err);
	git_remote_free(remote);
	sigpipe_restore(&saved); /* after the free: closing a TLS session writes too */
	return ret;
}

struct push_cb {
	struct ws_callbacks ws; /* first: the transport callbacks get a pointer to it */
	struct buf rejected;
};

static int push_status_cb(const char *refname, const char *status, void *data)
{
	struct push_cb *pc = data;
	if (status)
		buf_addf(&pc->rejected, "%s%s: %s", pc->rejected.len ? "; " : "", refname, status);
	return 0;
}

/* A local remote: libgit2's local transport moves the remote's ref without compare-and-swap (two
 * pushers could overwrite each other), so the push only transfers the objects (to a ref of its own) and
 * main is moved here from "expected" (NULL: main must not exist yet) to "id", as git receive-pack would.
 * 0 moved, 1 main was not "expected" any more (or locked), -1 error. */
static int local_update(const char *path, const char *incoming, const git_oid *id, const git_oid *expected,
			struct err *e)
{
	git_repository *rr = NULL;
	git_reference *ref = NULL;
	int r;
	if (git_repository_open_bare(&rr, path) < 0)
		return git_fail(e, "could not open the remote");
	r = expected ? git_reference_create_matching(&ref, rr, STATE_REF, id, 1, expected, "mlci state push")
		     : git_reference_create(&ref, rr, STATE_REF, id, 0, "mlci state push");
	git_reference_free(ref);
	git_reference_remove(rr, incoming);
	git_repository_free(rr);
	if (r == GIT_EMODIFIED || r == GIT_EEXISTS || r == GIT_ELOCKED)
		return 1;
	return r < 0 ? git_fail(e, "could not move the remote's main") : 0;
}

/* Push commit "id" to the remote's main, which must be at "expected" (NULL: no main yet). 0 pushed,
 * 1 rejected (the remote's main moved: not a fast-forward), -1 error (unreachable, refused credentials
 * or host key). */
static int remote_push(struct state_repo *s, const git_oid *id, const git_oid *expected, struct err *e)
{
	git_remote *remote = NULL;
	git_reference *tmp = NULL;
	git_push_options po;
	struct push_cb pc;
	struct sigaction saved;
	const char *local = local_remote_path(s->url);
	struct buf incoming = BUF_INIT, refspec = BUF_INIT;
	char *spec;
	git_strarray specs = { &spec, 1 };
	int r, ret = -1, lock;

	buf_addf(&incoming, "refs/mlci/incoming/%ld-%ld", (long)getpid(), (long)time(NULL));
	buf_addf(&refspec, "%s:%s", PUSH_REF, local ? incoming.ptr : STATE_REF);
	spec = refspec.ptr;
	memset(&pc, 0, sizeof(pc));
	{
		struct buf empty = BUF_INIT;
		pc.rejected = empty;
	}
	if (git_remote_lookup(&remote, s->repo, "origin") < 0)
		return git_fail(e, "no remote 'origin'");
	sigpipe_ignore(&saved);
	if (git_reference_create(&tmp, s->repo, PUSH_REF, id, 1, "mlci state push") < 0) {
		git_fail(e, "could not prepare the push");
		goto done;
	}
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	ws_callbacks_init(&po.callbacks, &pc.ws, NULL, s->url);
	po.callbacks.push_update_reference = push_status_cb;
	lock = local_remote_lock(s, LOCK_EX);
	r = git_remote_push(remote, &specs, &po);
	if (r == GIT_ENONFASTFORWARD || (r == 0 && pc.rejected.len)) {
		ret = 1;
	} else if (r < 0) {
		struct buf what = BUF_INIT;
		buf_addf(&what, "state repo: could not push to %s", s->url);
		ws_transport_fail(e, &pc.ws, what.ptr);
		e->code = MLCI_EINFRA;
		buf_release(&what);
	} else if (local && (ret = local_update(local, incoming.ptr, id, expected, e)) != 0) {
		/* 1: rejected, -1: error */
	} else {
		git_reference *rr = NULL;
		git_reference_create(&rr, s->repo, REMOTE_REF, id, 1, "mlci state push");
		git_reference_free(rr);
		ret = 0;
	}
	local_remote_unlock(lock);
done:
	if (tmp) {
		git_reference_delete(tmp);
		git_reference_free(tmp);
	}
	err_release(&pc.ws.cert_err);
	buf_release(&pc.rejected);
	buf_release(&incoming);
	buf_release(&refspec);
	git_remote_free(remote);
	sigpipe_restore(&saved); /* after the free: closing a TLS session writes too */
	return ret;
}

static int set_main(struct state_repo *s, const git_oid *id, struct err *e)
{
	git_reference *ref = NULL;
	if (git_reference_create(&ref, s->repo, STATE_REF, id, 1, "mlci state sync") < 0)
		return git_fail(e, "could not move main");
	git_reference_free(ref);
	return 0;
}

int state_sync(struct state_repo *s, struct err *e)
{
	git_oid remote_tip, local_tip;
	int have_remote, have_local;
	if (!s->url)
		return 0;
	if (remote_fetch(s, e) < 0)
		return -1;
	have_remote = git_reference_name_to_id(&remote_tip, s->repo, REMOTE_REF) == 0;
	have_local = git_reference_name_to_id(&local_tip, s->repo, STATE_REF) == 0;
	if (!have_local || (have_remote && git_oid_equal(&remote_tip, &local_tip)))
		return have_remote ? set_main(s, &remote_tip, e) : 0;
	if (!have_remote || git_graph_descendant_of(s->repo, &local_tip, &remote_tip) == 1) {
		/* the local state repo has history the remote lacks (it was local before): publish it */
		int r = remote_push(s, &local_tip, have_remote ? &remote_tip : NULL, e);
		if (r <= 0)
			return r; /* pushed (main and origin/main are the same now), or an error */
		/* rejected: the remote moved meanwhile; what it has now decides below */
		if (remote_fetch(s, e) < 0)
			return -1;
		if (git_reference_name_to_id(&remote_tip, s->repo, REMOTE_REF) < 0)
			return git_fail(e, "the remote's main vanished");
	}
	if (!git_graph_descendant_of(s->repo, &remote_tip, &local_tip)) {
		/* diverged: the remote wins; the local tip stays reachable for a human to look at */
		git_reference *keep = NULL;
		char name[64];
		snprintf(name, sizeof(name), "refs/mlci/diverged/%lld", (long long)time(NULL));
		if (git_reference_create(&keep, s->repo, name, &local_tip, 1, "mlci state diverged") < 0)
			return git_fail(e, "could not keep the diverged local main");
		git_reference_free(keep);
	}
	return set_main(s, &remote_tip, e);
}

/* ---------- layout ---------- */

static int parse_blob(git_repository *repo, const git_oid *id, struct env_state *out, struct err *e)
{
	git_blob *blob = NULL;
	char hex[41];
	struct buf what = BUF_INIT;
	int r;
	env_state_init(out);
	if (git_blob_lookup(&blob, repo, id) < 0)
		return git_fail(e, "could not read a state file");
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
static int find_blob(git_repository *repo, git_tree *root, const char *pipeline, const char *env, git_oid *out,
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
			ret = git_fail(e, "could not read a state file");
			goto done;
		}
		git_blob_free(blob);
		/* not valid: not a state of this pipeline (as before); a valid one counts when it names this
		 * pipeline or none */
		if (parse_blob(repo, git_tree_entry_id(en), &st, &pe) == 0) {
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
		git_fail(e, "could not read a commit");
		goto done;
	}
	r = find_blob(repo, tree, pipeline, env, &blob, NULL, e);
	if (r <= 0) {
		ret = r;
		goto done;
	}
	ret = parse_blob(repo, &blob, out, e) < 0 ? -1 : 1;
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
		git_fail(e, "could not read the tip tree");
		goto done;
	}
	if (root && (en = git_tree_entry_byname(root, "environments")) &&
	    git_tree_lookup(&envs, repo, git_tree_entry_id(en)) < 0) {
		git_fail(e, "could not read environments/");
		goto done;
	}
	if (envs && (en = git_tree_entry_byname(envs, pipeline))) {
		if (git_tree_entry_type(en) != GIT_OBJECT_TREE) {
			err_set(e, MLCI_EINFRA, "state repo: environments/%s is not a directory", pipeline);
			goto done;
		}
		if (git_tree_lookup(&pipe, repo, git_tree_entry_id(en)) < 0) {
			git_fail(e, "could not read a pipeline directory");
			goto done;
		}
	}
	if (root && find_blob(repo, root, pipeline, env, &old, &legacy, e) < 0)
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
		git_fail(e, "could not build the new tree");
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
	lock_path = path_join(s->path, "mlci.lock");
	lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0) {
		err_errno(e, MLCI_EINFRA, "state repo: could not lock '%s'", lock_path);
		goto done;
	}
	for (int attempt = 0; attempt < attempts; attempt++) {
		git_oid tip, tree_id, commit_id;
		git_commit *parent = NULL;
		git_tree *tree = NULL;
		int have_tip, r;
		/* remote: commit on the remote's current tip (a re-try re-applies the change on the new one) */
		if (s->url && state_sync(s, e) < 0)
			goto done;
		have_tip = git_reference_name_to_id(&tip, s->repo, STATE_REF) == 0;
		if (have_tip && git_commit_lookup(&parent, s->repo, &tip) < 0) {
			git_fail(e, "could not read the tip");
			goto done;
		}
		if (build_tree(s->repo, parent, pipeline, env, &blob_id, &tree_id, e) < 0 ||
		    git_tree_lookup(&tree, s->repo, &tree_id) < 0) {
			git_commit_free(parent);
			if (!e->msg.len)
				git_fail(e, "could not read the new tree");
			goto done;
		}
		/* remote: main moves only once the remote has the commit, so it is never left ahead */
		r = git_commit_create(&commit_id, s->repo, s->url ? NULL : STATE_REF, author, committer, NULL, message,
				      tree, parent ? 1 : 0, (const git_commit **)&parent);
		git_tree_free(tree);
		git_commit_free(parent);
		if (r == 0 && s->url) {
			if (!attempt)
				pause_point();
			r = remote_push(s, &commit_id, have_tip ? &tip : NULL, e);
			if (r < 0)
				goto done;
			if (r == 0) {
				git_reference *ref = NULL;
				r = have_tip ? git_reference_create_matching(&ref, s->repo, STATE_REF, &commit_id, 1,
									     &tip, "mlci state commit")
					     : git_reference_create(&ref, s->repo, STATE_REF, &commit_id, 1,
								    "mlci state commit");
				git_reference_free(ref);
				if (r < 0) {
					git_fail(e, "pushed, but could not move the local main (the next fetch will)");
					goto done;
				}
			} else {
				r = GIT_EMODIFIED; /* rejected: someone else pushed; fetch and re-apply */
			}
		}
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
		git_fail(e, "could not walk history");
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
			git_fail(e, "could not read a commit");
			goto done;
		}
		fb = find_blob(s->repo, t, pipeline, env, &b, NULL, e);
		if (fb >= 0 && git_commit_parentcount(c) && git_commit_parent(&parent, c, 0) == 0 &&
		    git_commit_tree(&pt, parent) == 0)
			fpb = find_blob(s->repo, pt, pipeline, env, &pb, NULL, e);
		if (fb < 0 || fpb < 0) {
			stop = -1;
		} else {
			changed = fb != fpb || (fb && !git_oid_equal(&b, &pb));
			if (changed) {
				struct env_state st;
				char hex[41];
				git_oid_tostr(hex, sizeof(hex), &id);
				env_state_init(&st);
				if (fb && parse_blob(s->repo, &b, &st, e) < 0)
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
static char *json_stem(const char *name)
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
	/* the new layout first: a previous-layout file is shadowed by the new file of its pair */
	for (size_t i = 0; i < git_tree_entrycount(dir); i++) {
		const git_tree_entry *pe = git_tree_entry_byindex(dir, i);
		git_tree *pd = NULL;
		if (git_tree_entry_type(pe) != GIT_OBJECT_TREE)
			continue;
		if (git_tree_lookup(&pd, s->repo, git_tree_entry_id(pe)) < 0) {
			git_fail(e, "could not read a pipeline directory");
			goto done;
		}
		for (size_t k = 0; k < git_tree_entrycount(pd); k++) {
			char *env = json_stem(git_tree_entry_name(git_tree_entry_byindex(pd, k)));
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
		if (git_tree_entry_type(fe) != GIT_OBJECT_BLOB || !(env = json_stem(git_tree_entry_name(fe))))
			continue;
		if (parse_blob(s->repo, git_tree_entry_id(fe), &st, e) < 0) {
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
static int path_pair(const char *path, char **pipeline, char **env)
{
	const char *rest, *slash;
	*pipeline = *env = NULL;
	if (strncmp(path, "environments/", 13))
		return 0;
	rest = path + 13;
	slash = strchr(rest, '/');
	if (!slash)
		return (*env = json_stem(rest)) ? 2 : 0;
	if (strchr(slash + 1, '/') || !(*env = json_stem(slash + 1)))
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
	return parse_blob(repo, &f->id, st, e) < 0 ? -1 : 1;
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
		git_fail(e, "could not diff a state commit");
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
		git_fail(e, "could not walk history");
		goto done;
	}
	/* only what came after "since", when it is still in main's history (a remote that was replaced
	 * or rewritten makes the walk start over from the first commit) */
	if (since && *since && git_oid_fromstr(&from, since) == 0 &&
	    (git_oid_equal(&from, &tip) || git_graph_descendant_of(s->repo, &tip, &from) == 1)) {
		if (git_revwalk_hide(walk, &from) < 0) {
			git_fail(e, "could not walk history");
			goto done;
		}
		*full = 0;
	}
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME | GIT_SORT_REVERSE);
	while (git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;
		int r;
		if (git_commit_lookup(&c, s->repo, &id) < 0) {
			git_fail(e, "could not read a commit");
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
