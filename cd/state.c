/* state.c - the GitOps state repository with libgit2: open or create it, and keep it in step with its
 * remote (fetch, push with a compare-and-swap). Reading is state_read.c's, writing state_write.c's,
 * history state_history.c's. Never the git CLI; never prints. */
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

int state_git_fail(struct err *e, const char *what)
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
			return state_git_fail(e, "could not open");
	} else {
		git_repository_init_options io;
		git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		io.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_BARE;
		io.initial_head = "main";
		if (fs_mkdir_p(home, 0755, e) < 0)
			return -1;
		if (git_repository_init_ext(&s->repo, s->path, &io) < 0)
			return state_git_fail(e, "could not create");
	}
	if (s->url) {
		git_remote *remote = NULL;
		const char *ca = getenv("MLCI_GIT_CA_FILE");
		/* https: certificates are always verified; this only says which CAs to trust */
		if (ca && *ca && git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, ca, NULL) < 0)
			return state_git_fail(e, "MLCI_GIT_CA_FILE");
		if (git_remote_lookup(&remote, s->repo, "origin") == 0) {
			int same = git_remote_url(remote) && !strcmp(git_remote_url(remote), s->url);
			git_remote_free(remote);
			if (!same && git_remote_set_url(s->repo, "origin", s->url) < 0)
				return state_git_fail(e, "could not set the remote's URL");
		} else if (git_remote_create_with_fetchspec(&remote, s->repo, "origin", s->url,
							    "+" STATE_REF ":" REMOTE_REF) < 0) {
			return state_git_fail(e, "could not add the remote");
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
		return state_git_fail(e, "no remote 'origin'");
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
		return state_git_fail(e, "could not open the remote");
	r = expected ? git_reference_create_matching(&ref, rr, STATE_REF, id, 1, expected, "mlci state push")
		     : git_reference_create(&ref, rr, STATE_REF, id, 0, "mlci state push");
	git_reference_free(ref);
	git_reference_remove(rr, incoming);
	git_repository_free(rr);
	if (r == GIT_EMODIFIED || r == GIT_EEXISTS || r == GIT_ELOCKED)
		return 1;
	return r < 0 ? state_git_fail(e, "could not move the remote's main") : 0;
}

/* Push commit "id" to the remote's main, which must be at "expected" (NULL: no main yet). 0 pushed,
 * 1 rejected (the remote's main moved: not a fast-forward), -1 error (unreachable, refused credentials
 * or host key). */
int state_remote_push(struct state_repo *s, const git_oid *id, const git_oid *expected, struct err *e)
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
		return state_git_fail(e, "no remote 'origin'");
	sigpipe_ignore(&saved);
	if (git_reference_create(&tmp, s->repo, PUSH_REF, id, 1, "mlci state push") < 0) {
		state_git_fail(e, "could not prepare the push");
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
		return state_git_fail(e, "could not move main");
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
		int r = state_remote_push(s, &local_tip, have_remote ? &remote_tip : NULL, e);
		if (r <= 0)
			return r; /* pushed (main and origin/main are the same now), or an error */
		/* rejected: the remote moved meanwhile; what it has now decides below */
		if (remote_fetch(s, e) < 0)
			return -1;
		if (git_reference_name_to_id(&remote_tip, s->repo, REMOTE_REF) < 0)
			return state_git_fail(e, "the remote's main vanished");
	}
	if (!git_graph_descendant_of(s->repo, &remote_tip, &local_tip)) {
		/* diverged: the remote wins; the local tip stays reachable for a human to look at */
		git_reference *keep = NULL;
		char name[64];
		snprintf(name, sizeof(name), "refs/mlci/diverged/%lld", (long long)time(NULL));
		if (git_reference_create(&keep, s->repo, name, &local_tip, 1, "mlci state diverged") < 0)
			return state_git_fail(e, "could not keep the diverged local main");
		git_reference_free(keep);
	}
	return set_main(s, &remote_tip, e);
}
