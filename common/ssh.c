/* ssh.c - one libssh2 session (common/ssh.h): connect, verify the host key against known_hosts, log in
 * with a key or the agent, run remote commands. Shared by the ssh deploy hook and the infra probe. */
#include "common/ssh.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/fs.h"
#include "common/knownhosts.h"
#include "common/banned.h"

#define SSH_TIMEOUT_MS 30000L

/* "user@host[:port]" or "user@[v6]:port" (validated by the spec parser). */
static int parse_target(const char *t, struct ssh_conn *c, struct err *e)
{
	const char *at = strchr(t, '@'), *h, *colon;
	if (!at)
		return err_set(e, MLCI_EUSAGE, "ssh target '%s' is not user@host[:port]", t);
	c->user = xstrndup(t, (size_t)(at - t));
	h = at + 1;
	c->port = 22;
	if (*h == '[') {
		const char *rb = strchr(h, ']');
		if (!rb)
			return err_set(e, MLCI_EUSAGE, "ssh target '%s' is not user@host[:port]", t);
		c->host = xstrndup(h + 1, (size_t)(rb - h - 1));
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = strchr(h, ':');
		c->host = colon ? xstrndup(h, (size_t)(colon - h)) : xstrdup(h);
	}
	if (colon)
		c->port = atoi(colon + 1);
	return 0;
}

int ssh_conn_fail(struct ssh_conn *c, struct err *e, const char *what)
{
	char *msg = NULL;
	if (c->session)
		libssh2_session_last_error(c->session, &msg, NULL, 0);
	return err_set(e, MLCI_EFAILED, "ssh %s@%s:%d: %s%s%s", c->user, c->host, c->port, what, msg ? ": " : "",
		       msg ? msg : "");
}

static int tcp_connect(struct ssh_conn *c, struct err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", c->port);
	rc = getaddrinfo(c->host, port, &hints, &res);
	if (rc != 0)
		return err_set(e, MLCI_EFAILED, "ssh %s: could not resolve: %s", c->host, gai_strerror(rc));
	c->sock = -1;
	for (ai = res; ai && c->sock < 0; ai = ai->ai_next) {
		int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (s < 0)
			continue;
		if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0)
			c->sock = s;
		else
			close(s);
	}
	freeaddrinfo(res);
	if (c->sock < 0)
		return err_set(e, MLCI_EFAILED, "ssh %s:%d: could not connect: %s", c->host, c->port, strerror(errno));
	return 0;
}

/* Public-key login: $MLCI_DEPLOY_SSH_KEY (its .pub next to it when present), else the ssh-agent. */
static int authenticate(struct ssh_conn *c, struct err *e)
{
	const char *key = getenv("MLCI_DEPLOY_SSH_KEY");
	LIBSSH2_AGENT *agent;
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int ok = 0;

	if (key && *key) {
		struct buf pub = BUF_INIT;
		int rc;
		buf_addf(&pub, "%s.pub", key);
		rc = libssh2_userauth_publickey_fromfile(c->session, c->user, fs_is_file(pub.ptr) ? pub.ptr : NULL, key,
							 NULL);
		buf_release(&pub);
		return rc == 0 ? 0 : ssh_conn_fail(c, e, "public key authentication refused (MLCI_DEPLOY_SSH_KEY)");
	}
	agent = libssh2_agent_init(c->session);
	if (!agent || libssh2_agent_connect(agent) != 0 || libssh2_agent_list_identities(agent) != 0) {
		if (agent)
			libssh2_agent_free(agent);
		return err_set(e, MLCI_EFAILED,
			       "ssh %s@%s:%d: no key: set MLCI_DEPLOY_SSH_KEY or run an ssh-agent with the deploy key",
			       c->user, c->host, c->port);
	}
	while (!ok && libssh2_agent_get_identity(agent, &id, prev) == 0) {
		if (libssh2_agent_userauth(agent, c->user, id) == 0)
			ok = 1;
		prev = id;
	}
	libssh2_agent_disconnect(agent);
	libssh2_agent_free(agent);
	return ok ? 0 : ssh_conn_fail(c, e, "no key of the ssh-agent was accepted");
}

int ssh_conn_open(struct ssh_conn *c, const char *target, struct err *e)
{
	const char *key;
	size_t keylen;
	int type;
	struct buf kh = BUF_INIT;
	int rc;

	memset(c, 0, sizeof(*c));
	c->sock = -1;
	if (parse_target(target, c, e) < 0 || tcp_connect(c, e) < 0)
		return -1;
	libssh2_init(0);
	c->session = libssh2_session_init();
	if (!c->session)
		return err_set(e, MLCI_EINFRA, "could not initialise libssh2");
	libssh2_session_set_blocking(c->session, 1);
	libssh2_session_set_timeout(c->session, SSH_TIMEOUT_MS);
	if (libssh2_session_handshake(c->session, c->sock) != 0)
		return ssh_conn_fail(c, e, "handshake failed");
	/* the host must be the one we know: an unknown or changed key is refused, never accepted */
	key = libssh2_session_hostkey(c->session, &keylen, &type);
	kh_default_file(getenv("MLCI_DEPLOY_KNOWN_HOSTS"), &kh);
	rc = kh_check(kh.ptr, c->host, c->port, key, keylen, (enum kh_keytype)type, e);
	buf_release(&kh);
	if (rc < 0)
		return -1;
	if (authenticate(c, e) < 0)
		return -1;
	return 0;
}

void ssh_conn_close(struct ssh_conn *c)
{
	if (c->sftp)
		libssh2_sftp_shutdown(c->sftp);
	if (c->session) {
		libssh2_session_disconnect(c->session, "mlci done");
		libssh2_session_free(c->session);
	}
	if (c->sock >= 0)
		close(c->sock);
	free(c->user);
	free(c->host);
	memset(c, 0, sizeof(*c));
	c->sock = -1;
}

int ssh_conn_exec(struct ssh_conn *c, const char *command, long timeout_ms, int log_fd, struct buf *capture,
		  int *status, struct err *e)
{
	LIBSSH2_CHANNEL *ch;
	char chunk[16384];
	ssize_t n;

	libssh2_session_set_timeout(c->session, timeout_ms);
	ch = libssh2_channel_open_session(c->session);
	if (!ch)
		return ssh_conn_fail(c, e, "could not open a channel");
	libssh2_channel_handle_extended_data2(ch, LIBSSH2_CHANNEL_EXTENDED_DATA_MERGE);
	if (libssh2_channel_exec(ch, command) != 0) {
		libssh2_channel_free(ch);
		return ssh_conn_fail(c, e, "could not start the remote command");
	}
	libssh2_channel_send_eof(ch); /* nothing on its stdin: a command reading it must not wait */
	while ((n = libssh2_channel_read(ch, chunk, sizeof(chunk))) > 0) {
		if (log_fd >= 0)
			fs_write_all(log_fd, chunk, (size_t)n);
		if (capture)
			buf_add(capture, chunk, (size_t)n); /* past capture->max: the rest is dropped */
	}
	if (n < 0) {
		libssh2_channel_free(ch);
		return ssh_conn_fail(c, e, "lost the remote command");
	}
	libssh2_channel_close(ch);
	libssh2_channel_wait_closed(ch);
	*status = libssh2_channel_get_exit_status(ch);
	{
		char *sig = NULL;
		libssh2_channel_get_exit_signal(ch, &sig, NULL, NULL, NULL, NULL, NULL);
		if (sig && *status == 0)
			*status = 128;
		free(sig);
	}
	libssh2_channel_free(ch);
	return 0;
}
