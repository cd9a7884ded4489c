/* knownhosts.h - verify an SSH server's host key against an OpenSSH known_hosts file (libssh2's
 * knownhost API), for git over ssh:// and the ssh deploy hook. It never accepts an unknown key. */
#ifndef MLCI_KNOWNHOSTS_H
#define MLCI_KNOWNHOSTS_H

#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

/* Key types, numbered like libssh2's LIBSSH2_HOSTKEY_TYPE_* and libgit2's GIT_CERT_SSH_RAW_TYPE_*. */
enum kh_keytype {
	KH_KEY_UNKNOWN = 0,
	KH_KEY_RSA = 1,
	KH_KEY_DSS = 2,
	KH_KEY_ECDSA_256 = 3,
	KH_KEY_ECDSA_384 = 4,
	KH_KEY_ECDSA_521 = 5,
	KH_KEY_ED25519 = 6,
};

/* The known_hosts file to use: "explicit" when given, else $MLCI_KNOWN_HOSTS, else ~/.ssh/known_hosts.
 * Appends the path to "out". */
void kh_default_file(const char *explicit_file, struct buf *out);

/* 0 when "file" has a line for "host" (as "[host]:port" when port is not 22) with exactly this raw
 * key; otherwise -1 with MLCI_EFAILED and a message that says whether the host is unknown or its key
 * differs (and how to add it), or MLCI_EINFRA when the file cannot be read. */
int kh_check(const char *file, const char *host, int port, const char *key, size_t keylen, enum kh_keytype type,
	     struct err *e);

#endif
