/* path.h - path joining and the checks that keep spec paths inside the repository.
 * Lexical checks need no filesystem; path_resolve_under also follows symlinks. */
#ifndef MLCI_PATH_H
#define MLCI_PATH_H

#include "common/buf.h"
#include "common/error.h"

/* "a/b" with exactly one slash between; result is malloc'd and owned by the caller. */
char *path_join(const char *a, const char *b);
/* Lexically check a repo-relative path: not empty, not absolute, no NUL, does not climb out with "..".
 * Returns 0 when fine, else -1 with a reason in "why" (e.g. "leaves the repository"). */
int path_check_relative(const char *rel, const char **why);
/* Normalise "rel" lexically (drop ".", empty segments, resolve "x/.." pairs) into "out". */
int path_normalise(const char *rel, struct buf *out);
/* "p" made absolute against the current directory and normalised lexically ("a/../b" -> "b");
 * malloc'd, or NULL when the current directory cannot be read. Symlinks are not resolved. */
char *path_absolute(const char *p);
/* Resolve "rel" under "root" following symlinks as far as the path exists; fail if the result leaves root.
 * On success "out" holds the absolute path (the non-existing tail appended unresolved). */
int path_resolve_under(const char *root, const char *rel, struct buf *out, struct err *e);

#endif
