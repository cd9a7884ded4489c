/* ssh.h - one libssh2 session to "user@host[:port]": host key verified against known_hosts (never an
 * unknown key), key or agent login, remote commands; shared by the ssh deploy hook and the infra probe. */
#ifndef MLCI_SSH_H
#define MLCI_SSH_H

#include <libssh2.h>
#include <libssh2_sftp.h>

#include "common/buf.h"
#include "common/error.h"

struct ssh_conn {
	int sock;
	LIBSSH2_SESSION *session;
	LIBSSH2_SFTP *sftp; /* opened by the caller when needed; shut down by ssh_conn_close */
	char *user, *host;  /* owned */
	int port;
};

/* Connect to "target" (user@host[:port] or user@[v6]:port), check the host key against
 * $MLCI_DEPLOY_KNOWN_HOSTS (default like kh_default_file), log in with $MLCI_DEPLOY_SSH_KEY (its .pub
 * next to it when present) or the ssh-agent. -1 with MLCI_EFAILED (MLCI_EUSAGE for a malformed target);
 * "c" must be closed with ssh_conn_close either way. */
int ssh_conn_open(struct ssh_conn *c, const char *target, struct err *e);
void ssh_conn_close(struct ssh_conn *c);
/* Set "e" to "ssh USER@HOST:PORT: WHAT: <libssh2's last error>"; returns -1. */
int ssh_conn_fail(struct ssh_conn *c, struct err *e, const char *what);
/* Run "command" on an exec channel (stdin closed at once), stdout and stderr merged into "log_fd" when
 * >= 0 and appended to "capture" when not NULL (up to capture->max when set), for at most "timeout_ms";
 * "status" gets its exit status (128 when killed by a signal). -1 when the channel failed. */
int ssh_conn_exec(struct ssh_conn *c, const char *command, long timeout_ms, int log_fd, struct buf *capture,
		  int *status, struct err *e);

#endif
