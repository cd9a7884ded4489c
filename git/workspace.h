/* workspace.h - the source of a run: open a local repo or mirror a URL (libgit2), resolve a revision,
 * and check one commit out into its own directory. It never shells out to git and never runs steps. */
#ifndef MLCI_WORKSPACE_H
#define MLCI_WORKSPACE_H

#include "common/buf.h"
#include "common/error.h"

struct git_repository;

struct ws_source {
	struct git_repository *repo; /* owned; a local repo or the bare mirror under $MLCI_HOME/repos */
	char *location;              /* what the user gave (path or URL); owned */
	char *git_dir;               /* the opened repository's path; owned */
	int is_mirror;               /* 1 when "repo" is our mirror of a URL */
};

struct ws_commit {
	char id[41];
	char *branch;       /* branch the run is for, or NULL when none could be told; owned */
	char *subject;      /* first line of the message; owned */
	char *message;      /* full message; owned */
	char *author_name;  /* owned */
	char *author_email; /* owned */
	long long time;     /* committer time, seconds since the epoch */
};

/* 1 when "location" looks like a URL (scheme:// or scp-like user@host:path) rather than a path. */
int ws_is_url(const char *location);

/* Open "location": a local repository (path to a work tree or a git dir), or a URL, which is fetched
 * into a bare mirror at "$home/repos/<name>-<hash>.git" (created on first use). */
int ws_source_open(struct ws_source *src, const char *home, const char *location, struct err *e);
void ws_source_release(struct ws_source *src);

/* How to reach a remote. NULL fields (or a NULL struct) take the defaults: the ssh key from
 * $MLCI_SSH_KEY, else the ssh-agent; known_hosts from $MLCI_KNOWN_HOSTS, else ~/.ssh/known_hosts.
 * An https token comes from $MLCI_GIT_TOKEN; TLS certificates are verified against the system CAs, or
 * the PEM file $MLCI_GIT_CA_FILE. An ssh host key not in known_hosts is refused. */
struct ws_transport {
	const char *ssh_key;     /* private key file; its public half is FILE.pub when present */
	const char *known_hosts; /* OpenSSH known_hosts file */
};

/* What the transport callbacks need: the options, the URL (for the ssh port) and why a host key or
 * credentials were refused, so that the error says it instead of libgit2's generic message. A caller
 * may embed it as the first member of its own payload (cd/state.c adds push callbacks). */
struct ws_callbacks {
	const struct ws_transport *t;
	const char *url;
	int attempts;
	struct err cert_err; /* release with err_release after the transfer */
};
struct git_remote_callbacks;
/* Fill "cbs" with the credential and certificate callbacks above for "url" (payload "cb"). */
void ws_callbacks_init(struct git_remote_callbacks *cbs, struct ws_callbacks *cb, const struct ws_transport *t,
		       const char *url);
/* The error of a failed transfer: the host key or credential refusal when that was the cause, else
 * libgit2's error; "what" is the context. Always -1. */
int ws_transport_fail(struct err *e, struct ws_callbacks *cb, const char *what);

/* Open the bare mirror of "url" under "$home/repos" (created with its remote on first use) without
 * fetching; src->git_dir is its path. */
int ws_mirror_open(struct ws_source *src, const char *home, const char *url, struct err *e);
/* Fetch every branch and tag into the mirror, pruning deleted branches; HEAD follows the remote's. */
int ws_mirror_fetch(struct ws_source *src, const struct ws_transport *t, struct err *e);

/* One branch of a remote (refs/heads/ stripped) and its commit. */
struct ws_head {
	char *branch; /* owned */
	char id[41];
};
struct ws_heads {
	struct ws_head *v; /* owned */
	size_t n, alloc;
};
/* List the branches of the mirror's remote without transferring objects (like `git ls-remote --heads`). */
int ws_remote_heads(struct ws_source *src, const struct ws_transport *t, struct ws_heads *out, struct err *e);
void ws_heads_release(struct ws_heads *h);
/* The committer time of commit "id" in the repository; -1 when it is not there. */
int ws_commit_time(struct ws_source *src, const char *id, long long *time_out);
/* 1 when commit "ancestor" is "id" or one of its ancestors, 0 when not, -1 when either is unknown. */
int ws_is_ancestor(struct ws_source *src, const char *ancestor, const char *id);

/* Resolve "rev" (NULL = HEAD; a branch, tag, or (abbreviated) sha) to a commit. The branch of the run is
 * "branch_opt" when given, else the branch "rev" names, else the branch HEAD points at. */
int ws_resolve(struct ws_source *src, const char *rev, const char *branch_opt, struct ws_commit *out, struct err *e);
void ws_commit_release(struct ws_commit *c);

/* Write the tree of "commit_id" into "dir" (created; must not exist or be empty). The source repo's
 * index, HEAD and work tree are left untouched. */
int ws_checkout(struct ws_source *src, const char *commit_id, const char *dir, struct err *e);

/* Append the content of file "path" in commit "commit_id" to "out"; 1 when read, 0 when absent. */
int ws_read_file(struct ws_source *src, const char *commit_id, const char *path, struct buf *out, struct err *e);

/* The id of the tree at "path" (repo-relative, "" = root) in "commit_id", as 40 hex chars. */
int ws_tree_id(struct ws_source *src, const char *commit_id, const char *path, char out[41], struct err *e);

#endif
