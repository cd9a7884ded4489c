/* artifacts.h - the content-addressed artifact store: $MLCI_HOME/artifacts/sha256/ab/<digest>.
 * Files only, written once (temp file, fsync, rename) and read-only after; it records nothing in SQLite. */
#ifndef MLCI_ARTIFACTS_H
#define MLCI_ARTIFACTS_H

#include <stdint.h>

#include "common/error.h"
#include "common/sha256.h"

/* Hash "src" and store it unless the digest is already there (identical content is stored once).
 * "digest" receives the 64 hex chars, "size" the byte count. */
int artifact_put_file(const char *home, const char *src, char digest[SHA256_HEX_LEN + 1], int64_t *size, struct err *e);
/* Path of a stored artifact (malloc'd); the file may not exist. NULL when "digest" is not valid
 * (artifact_digest_valid), so a digest read from anywhere can never name a path outside the store. */
char *artifact_path(const char *home, const char *digest);
/* Copy stored artifact "digest" to "dst" (parent directories created; mode 0644), verifying its digest on
 * the way; a corrupted store file is an error ("artifact <digest> is corrupted in the store"), never
 * silently copied, and leaves nothing at "dst". */
int artifact_materialize(const char *home, const char *digest, const char *dst, struct err *e);
/* 1 when "s" is 64 lowercase hex chars. */
int artifact_digest_valid(const char *s);

#endif
