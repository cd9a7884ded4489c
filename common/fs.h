/* fs.h - small filesystem helpers: mkdir -p, rm -rf, atomic write, copy, existence tests.
 * Every failure fills the error chain with the path; nothing here prints. */
#ifndef MLCI_FS_H
#define MLCI_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

/* write(2) all of "data", retrying on EINTR and short writes; -1 with errno set. */
int fs_write_all(int fd, const void *data, size_t len);
int fs_mkdir_p(const char *path, mode_t mode, struct err *e);
/* Remove "path" recursively (no error when it does not exist). Does not follow symlinks. */
int fs_rm_rf(const char *path, struct err *e);
/* Write "data" to "path" via a temp file + fsync + rename. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct err *e);
int fs_copy_file(const char *src, const char *dst, mode_t mode, struct err *e);
/* Copy a directory tree (files, dirs, symlinks as symlinks). */
int fs_copy_tree(const char *src, const char *dst, struct err *e);
/* Remove write permission from every file and directory under "path" (best effort). */
void fs_make_readonly(const char *path);
int fs_is_file(const char *path);
int fs_is_dir(const char *path);
int fs_exists(const char *path);

#endif
