/* workspace.c - libgit2 access to the pipeline repository: open or mirror, resolve, check out.
 * All git work goes through libgit2; it must never run the git CLI or print. */
#include "git/workspace.h"

#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/knownhosts.h"
#include "common/path.h"
#include "common/sha256.h"
#include "common/banned.h"

/* Record libgit2's last error as ours, with "what" as context. */
static int git_fail(struct err *e, const char *what)
{
	const git_error *ge = git_error_last();
	return err_set(e, MLCI_EINFRA, "%s: %s", what, ge && ge->message ? ge->message : "unknown libgit2 error");
}

int ws_is_url(const char *location)
{
	const char *colon, *slash;
	if (strstr(location, "://"))
		return 1;
	/* scp-like "user@host:path" (not a Windows drive, not a local path with a colon after a slash) */
	colon = strchr(location, ':');
	slash = strchr(location, '/');
	return colon && strchr(location, '@') && (!slash || colon < slash);
}

/* The port of an ssh:// URL (22 when none; scp-like URLs have none). */
static int url_port(const char *url)
{
	const char *p = strstr(url, "://"), *end;
	if (!p)
		return 22;
	p += 3;
	end = p + strcspn(p, "/");
	const char *at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		p = rb ? rb + 1 : end;
	} else {
		const char *c = memchr(p, ':', (size_t)(end - p));
		p = c ? c : end;
	}
	if (p < end && *p == ':') {
		long v = strtol(p + 1, NULL, 10);
		return v > 0 && v < 65536 ? (int)v : 22;
	}
	return 22;
}

/* Credentials: an ssh key (--ssh-key, else $MLCI_SSH_KEY, else the agent); https tokens from
 * $MLCI_GIT_TOKEN as user/password. A few attempts at most, so a refused key does not loop. */
static int credentials_cb(git_credential **out, const char *url, const char *username_from_url, unsigned int allowed,
			  void *payload)
{
	struct ws_callbacks *cb = payload;
	const char *user = username_from_url ? username_from_url : "git";
	if (cb->attempts++ > 3) {
		err_set(&cb->cert_err, MLCI_EFAILED, "authentication to %s refused (check %s)", url,
			allowed & GIT_CREDENTIAL_SSH_KEY ? "the ssh key" : "MLCI_GIT_TOKEN");
		return GIT_EAUTH;
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		const char *key = cb->t && cb->t->ssh_key ? cb->t->ssh_key : getenv("MLCI_SSH_KEY");
		if (key && *key) {
			struct buf pub = BUF_INIT;
			int r;
			buf_addf(&pub, "%s.pub", key);
			r = git_credential_ssh_key_new(out, user, fs_is_file(pub.ptr) ? pub.ptr : NULL, key, NULL);
			buf_release(&pub);
			return r;
		}
		return git_credential_ssh_key_from_agent(out, user);
	}
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		const char *token = getenv("MLCI_GIT_TOKEN");
		if (token && *token)
			return git_credential_userpass_plaintext_new(
				out, username_from_url ? username_from_url : "x-access-token", token);
		err_set(&cb->cert_err, MLCI_EFAILED, "%s asks for credentials: set MLCI_GIT_TOKEN", url);
	}
	return GIT_PASSTHROUGH;
}

/* Host verification. ssh: the raw host key must be in known_hosts for this host and port, else the
 * connection is refused (never skipped). https: libgit2's own TLS verification decides. */
static int certificate_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	struct ws_callbacks *cb = payload;
	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
		const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
		struct buf file = BUF_INIT;
		int r;
		kh_default_file(cb->t ? cb->t->known_hosts : NULL, &file);
		if (!(hk->type & GIT_CERT_SSH_RAW)) {
			err_set(&cb->cert_err, MLCI_EFAILED, "host key of %s refused: libgit2 gave no raw key to check",
				host);
			r = -1;
		} else {
			r = kh_check(file.ptr, host, url_port(cb->url), hk->hostkey, hk->hostkey_len,
				     (enum kh_keytype)hk->raw_type, &cb->cert_err);
		}
		buf_release(&file);
		return r < 0 ? GIT_ECERTIFICATE : 0;
	}
	return valid ? 0 : GIT_PASSTHROUGH;
}

void ws_callbacks_init(struct git_remote_callbacks *cbs, struct ws_callbacks *cb, const struct ws_transport *t,
		       const char *url)
{
	memset(cb, 0, sizeof(*cb));
	cb->t = t;
	cb->url = url;
	git_remote_init_callbacks(cbs, GIT_REMOTE_CALLBACKS_VERSION);
	cbs->credentials = credentials_cb;
	cbs->certificate_check = certificate_cb;
	cbs->payload = cb;
}

/* The error of a failed transport operation: the host key refusal when that was the cause. */
int ws_transport_fail(struct err *e, struct ws_callbacks *cb, const char *what)
{
	if (cb->cert_err.code) {
		err_set(e, MLCI_EFAILED, "%s: %s", what, err_msg(&cb->cert_err));
		err_release(&cb->cert_err);
		return -1;
	}
	return git_fail(e, what);
}

/* "$home/repos/<last path component>-<8 hex of sha256(url)>.git" */
static char *mirror_path(const char *home, const char *url)
{
	char hex[SHA256_HEX_LEN + 1];
	struct buf b = BUF_INIT, name = BUF_INIT;
	const char *base = url + strlen(url);
	while (base > url && (base[-1] == '/'))
		base--;
	const char *end = base;
	while (base > url && base[-1] != '/' && base[-1] != ':')
		base--;
	for (const char *p = base; p < end; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			 c == '_' || c == '.';
		buf_addch(&name, ok ? c : '_');
	}
	if (name.len > 4 && !strcmp(name.ptr + name.len - 4, ".git"))
		buf_setlen(&name, name.len - 4);
	if (!name.len)
		buf_addstr(&name, "repo");
	sha256_hex(url, strlen(url), hex);
	buf_addf(&b, "%s/repos/%s-%.8s.git", home, name.ptr, hex);
	buf_release(&name);
	return buf_detach(&b, NULL);
}

int ws_mirror_fetch(struct ws_source *src, const struct ws_transport *t, struct err *e)
{
	git_remote *remote = NULL;
	git_fetch_options fo;
	git_buf def = { 0 };
	struct ws_callbacks cb;
	int ret = -1;

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	if (git_remote_lookup(&remote, src->repo, "origin") < 0)
		return git_fail(e, "could not find remote 'origin' of the mirror");
	ws_callbacks_init(&fo.callbacks, &cb, t, git_remote_url(remote));
	fo.prune = GIT_FETCH_PRUNE;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
	if (git_remote_fetch(remote, NULL, &fo, "mlci mirror fetch") < 0) {
		ws_transport_fail(e, &cb, "could not fetch");
		goto done;
	}
	if (git_remote_default_branch(&def, remote) == 0 && def.ptr) {
		git_repository_set_head(src->repo, def.ptr);
	}
	ret = 0;
done:
	err_release(&cb.cert_err);
	git_buf_dispose(&def);
	git_remote_free(remote);
	return ret;
}

int ws_remote_heads(struct ws_source *src, const struct ws_transport *t, struct ws_heads *out, struct err *e)
{
	git_remote *remote = NULL;
	git_remote_callbacks cbs;
	const git_remote_head **heads = NULL;
	size_t n = 0;
	struct ws_callbacks cb;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (git_remote_lookup(&remote, src->repo, "origin") < 0)
		return git_fail(e, "could not find remote 'origin' of the mirror");
	ws_callbacks_init(&cbs, &cb, t, git_remote_url(remote));
	if (git_remote_connect(remote, GIT_DIRECTION_FETCH, &cbs, NULL, NULL) < 0) {
		ws_transport_fail(e, &cb, "could not connect");
		goto done;
	}
	if (git_remote_ls(&heads, &n, remote) < 0) {
		git_fail(e, "could not list the remote's references");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = heads[i]->name;
		if (strncmp(name, "refs/heads/", 11) || strstr(name, "^{}"))
			continue;
		ALLOC_GROW(out->v, out->n + 1, out->alloc);
		out->v[out->n].branch = xstrdup(name + 11);
		git_oid_tostr(out->v[out->n].id, sizeof(out->v[out->n].id), &heads[i]->oid);
		out->n++;
	}
	ret = 0;
done:
	err_release(&cb.cert_err);
	git_remote_disconnect(remote);
	git_remote_free(remote);
	return ret;
}

void ws_heads_release(struct ws_heads *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].branch);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

int ws_commit_time(struct ws_source *src, const char *id, long long *time_out)
{
	git_oid oid;
	git_commit *c = NULL;
	if (git_oid_fromstr(&oid, id) < 0 || git_commit_lookup(&c, src->repo, &oid) < 0)
		return -1;
	*time_out = (long long)git_commit_time(c);
	git_commit_free(c);
	return 0;
}

int ws_source_open(struct ws_source *src, const char *home, const char *location, struct err *e)
{
	if (!ws_is_url(location)) {
		memset(src, 0, sizeof(*src));
		git_libgit2_init();
		src->location = xstrdup(location);
		if (git_repository_open_ext(&src->repo, location, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
			git_fail(e, "not a git repository");
			err_prefix(e, "'%s'", location);
			return -1;
		}
		src->git_dir = xstrdup(git_repository_path(src->repo));
		return 0;
	}
	if (ws_mirror_open(src, home, location, e) < 0)
		return -1;
	if (ws_mirror_fetch(src, NULL, e) < 0) {
		err_prefix(e, "'%s'", location);
		return -1;
	}
	return 0;
}

int ws_mirror_open(struct ws_source *src, const char *home, const char *url, struct err *e)
{
	const char *location = url, *ca = getenv("MLCI_GIT_CA_FILE");
	memset(src, 0, sizeof(*src));
	git_libgit2_init();
	/* https: certificates are always verified; this only says which CAs to trust */
	if (ca && *ca && git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, ca, NULL) < 0)
		return git_fail(e, "MLCI_GIT_CA_FILE");
	src->location = xstrdup(location);
	src->is_mirror = 1;
	src->git_dir = mirror_path(home, location);
	if (fs_is_dir(src->git_dir)) {
		if (git_repository_open_bare(&src->repo, src->git_dir) < 0)
			return git_fail(e, "could not open mirror");
	} else {
		git_remote *remote = NULL;
		struct buf parent = BUF_INIT;
		buf_addf(&parent, "%s/repos", home);
		if (fs_mkdir_p(parent.ptr, 0755, e) < 0) {
			buf_release(&parent);
			return -1;
		}
		buf_release(&parent);
		if (git_repository_init(&src->repo, src->git_dir, 1) < 0)
			return git_fail(e, "could not create mirror");
		if (git_remote_create_with_fetchspec(&remote, src->repo, "origin", location,
						     "+refs/heads/*:refs/heads/*") < 0) {
			git_fail(e, "could not add remote");
			fs_rm_rf(src->git_dir, NULL);
			return -1;
		}
		git_remote_free(remote);
	}
	return 0;
}

void ws_source_release(struct ws_source *src)
{
	if (src->repo) {
		git_repository_free(src->repo);
		git_libgit2_shutdown();
	}
	free(src->location);
	free(src->git_dir);
	memset(src, 0, sizeof(*src));
}

static char *first_line(const char *msg)
{
	const char *nl = strchr(msg, '\n');
	return nl ? xstrndup(msg, (size_t)(nl - msg)) : xstrdup(msg);
}

int ws_resolve(struct ws_source *src, const char *rev, const char *branch_opt, struct ws_commit *out, struct err *e)
{
	git_object *obj = NULL;
	git_commit *commit = NULL;
	git_reference *ref = NULL;
	const git_signature *author;
	const char *spec = rev ? rev : "HEAD";
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (git_revparse_single(&obj, src->repo, spec) < 0) {
		git_fail(e, "could not resolve revision");
		err_prefix(e, "'%s'", spec);
		e->code = MLCI_EUSAGE;
		goto done;
	}
	if (git_object_peel((git_object **)&commit, obj, GIT_OBJECT_COMMIT) < 0) {
		err_set(e, MLCI_EUSAGE, "'%s' does not name a commit", spec);
		goto done;
	}
	git_oid_tostr(out->id, sizeof(out->id), git_commit_id(commit));
	out->message = xstrdup(git_commit_message(commit) ? git_commit_message(commit) : "");
	out->subject = first_line(out->message);
	author = git_commit_author(commit);
	out->author_name = xstrdup(author && author->name ? author->name : "");
	out->author_email = xstrdup(author && author->email ? author->email : "");
	out->time = (long long)git_commit_time(commit);

	if (branch_opt) {
		out->branch = xstrdup(branch_opt);
	} else if (!rev) {
		if (git_repository_head(&ref, src->repo) == 0 && git_reference_is_branch(ref))
			out->branch = xstrdup(git_reference_shorthand(ref));
	} else if (git_branch_lookup(&ref, src->repo, rev, GIT_BRANCH_LOCAL) == 0) {
		out->branch = xstrdup(rev);
	}
	ret = 0;
done:
	git_reference_free(ref);
	git_commit_free(commit);
	git_object_free(obj);
	return ret;
}

void ws_commit_release(struct ws_commit *c)
{
	free(c->branch);
	free(c->subject);
	free(c->message);
	free(c->author_name);
	free(c->author_email);
	memset(c, 0, sizeof(*c));
}

int ws_checkout(struct ws_source *src, const char *commit_id, const char *dir, struct err *e)
{
	git_oid oid;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_checkout_options co;
	int ret = -1;

	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	if (git_oid_fromstr(&oid, commit_id) < 0)
		return err_set(e, MLCI_EINFRA, "invalid commit id '%s'", commit_id);
	if (git_commit_lookup(&commit, src->repo, &oid) < 0)
		return git_fail(e, "could not look up commit");
	if (git_commit_tree(&tree, commit) < 0) {
		git_fail(e, "could not read tree");
		goto done;
	}
	if (fs_mkdir_p(dir, 0755, e) < 0)
		goto done;
	co.checkout_strategy =
		GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
	co.target_directory = dir;
	if (git_checkout_tree(src->repo, (git_object *)tree, &co) < 0) {
		git_fail(e, "could not check out");
		err_prefix(e, "'%s' into '%s'", commit_id, dir);
		goto done;
	}
	ret = 0;
done:
	git_tree_free(tree);
	git_commit_free(commit);
	return ret;
}

int ws_tree_id(struct ws_source *src, const char *commit_id, const char *path, char out[41], struct err *e)
{
	git_oid oid;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	int ret = -1;

	if (git_oid_fromstr(&oid, commit_id) < 0 || git_commit_lookup(&commit, src->repo, &oid) < 0)
		return git_fail(e, "could not look up commit");
	if (git_commit_tree(&tree, commit) < 0) {
		git_fail(e, "could not read tree");
		goto done;
	}
	if (!path || !*path) {
		git_oid_tostr(out, 41, git_tree_id(tree));
	} else {
		if (git_tree_entry_bypath(&entry, tree, path) < 0) {
			err_set(e, MLCI_EUSAGE, "'%s' is not in commit %.12s", path, commit_id);
			goto done;
		}
		git_oid_tostr(out, 41, git_tree_entry_id(entry));
	}
	ret = 0;
done:
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(commit);
	return ret;
}

int ws_read_file(struct ws_source *src, const char *commit_id, const char *path, struct buf *out, struct err *e)
{
	git_oid oid;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	git_blob *blob = NULL;
	int ret = -1;

	if (git_oid_fromstr(&oid, commit_id) < 0 || git_commit_lookup(&commit, src->repo, &oid) < 0)
		return git_fail(e, "could not look up commit");
	if (git_commit_tree(&tree, commit) < 0) {
		git_fail(e, "could not read tree");
		goto done;
	}
	if (git_tree_entry_bypath(&entry, tree, path) < 0 || git_tree_entry_type(entry) != GIT_OBJECT_BLOB) {
		ret = 0;
		goto done;
	}
	if (git_blob_lookup(&blob, src->repo, git_tree_entry_id(entry)) < 0) {
		git_fail(e, "could not read blob");
		goto done;
	}
	if (buf_add(out, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob)) < 0) {
		err_set(e, MLCI_EUSAGE, "'%s' in commit %.12s is too large", path, commit_id);
		goto done;
	}
	ret = 1;
done:
	git_blob_free(blob);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(commit);
	return ret;
}

int ws_is_ancestor(struct ws_source *src, const char *ancestor, const char *id)
{
	git_oid a, b;
	if (git_oid_fromstr(&a, ancestor) < 0 || git_oid_fromstr(&b, id) < 0)
		return -1;
	if (git_oid_equal(&a, &b))
		return 1;
	return git_graph_descendant_of(src->repo, &b, &a);
}
