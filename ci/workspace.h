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
