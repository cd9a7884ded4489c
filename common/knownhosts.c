/* knownhosts.c - host key verification against known_hosts through libssh2's knownhost API.
 * Shared by the git transports (git/workspace.c) and cd/deploy_ssh.c; it must not print. */
#include "common/knownhosts.h"

#include <libssh2.h>
#include <stdlib.h>

#include "common/banned.h"

void kh_default_file(const char *explicit_file, struct buf *out)
{
	const char *env = getenv("MLCI_KNOWN_HOSTS"), *home = getenv("HOME");
	if (explicit_file && *explicit_file)
		buf_addstr(out, explicit_file);
	else if (env && *env)
		buf_addstr(out, env);
	else
		buf_addf(out, "%s/.ssh/known_hosts", home && *home ? home : "");
}

static int typemask(enum kh_keytype t)
{
	switch (t) {
	case KH_KEY_RSA:
		return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case KH_KEY_DSS:
		return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case KH_KEY_ECDSA_256:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case KH_KEY_ECDSA_384:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case KH_KEY_ECDSA_521:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case KH_KEY_ED25519:
		return LIBSSH2_KNOWNHOST_KEY_ED25519;
	default:
		return 0;
	}
}

int kh_check(const char *file, const char *host, int port, const char *key, size_t keylen, enum kh_keytype type,
	     struct err *e)
{
	LIBSSH2_SESSION *session;
	LIBSSH2_KNOWNHOSTS *hosts = NULL;
	struct libssh2_knownhost *found = NULL;
	struct buf name = BUF_INIT;
	int rc, ret = -1;

	if (port > 0 && port != 22)
		buf_addf(&name, "[%s]:%d", host, port);
	else
		buf_addstr(&name, host);
	libssh2_init(0);
	session = libssh2_session_init();
	if (!key || !keylen || !typemask(type)) {
		err_set(e, MLCI_EFAILED, "host key of %s refused: the server sent no key of a known type", name.ptr);
		goto done;
	}
	if (!session || !(hosts = libssh2_knownhost_init(session))) {
		err_set(e, MLCI_EINFRA, "could not initialise libssh2");
		goto done;
	}
	if (libssh2_knownhost_readfile(hosts, file, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		err_set(e, MLCI_EFAILED,
			"host key of %s refused: could not read known_hosts file '%s' (add the host with "
			"ssh-keyscan, or give --known-hosts)",
			name.ptr, file);
		goto done;
	}
	rc = libssh2_knownhost_checkp(hosts, host, port > 0 ? port : 22, key, keylen,
				      LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | typemask(type),
				      &found);
	switch (rc) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		ret = 0;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		err_set(e, MLCI_EFAILED,
			"host key of %s refused: it does NOT match the key in '%s' (possible man-in-the-middle, "
			"or the host was reinstalled)",
			name.ptr, file);
		break;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		err_set(e, MLCI_EFAILED,
			"host key of %s refused: host unknown in '%s' (verify it and add it, e.g. "
			"ssh-keyscan -p PORT HOST >> known_hosts)",
			name.ptr, file);
		break;
	default:
		err_set(e, MLCI_EFAILED, "host key of %s refused: could not check it against '%s'", name.ptr, file);
		break;
	}
done:
	if (hosts)
		libssh2_knownhost_free(hosts);
	if (session)
		libssh2_session_free(session);
	buf_release(&name);
	return ret;
}
