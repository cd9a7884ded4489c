/* sha256.h - SHA-256 digests (OpenSSL EVP) as lowercase hex, one-shot, incremental and of files.
 * Hashing only; it does not decide what goes into a digest (ci/cache.c does). */
#ifndef MLCI_SHA256_H
#define MLCI_SHA256_H

#include <stddef.h>

#include "common/error.h"

#define SHA256_HEX_LEN 64

struct sha256_ctx {
	void *md; /* EVP_MD_CTX *, owned */
};

int sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Feed a string followed by a NUL separator, so ("ab","c") and ("a","bc") differ. */
void sha256_update_str(struct sha256_ctx *c, const char *s);
/* Write 64 hex chars + NUL into "hex" and free the context. */
void sha256_final_hex(struct sha256_ctx *c, char hex[SHA256_HEX_LEN + 1]);
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN + 1]);
int sha256_file_hex(const char *path, char hex[SHA256_HEX_LEN + 1], struct err *e);

#endif
