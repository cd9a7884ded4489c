/* deploy_ssh.c - the `ssh` deploy hook (libssh2): verify the host key against known_hosts, log in with
 * a key, upload the model and the state JSON by SFTP, run deploy.command there. It must not print. */
#include "cd/deploy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/ssh.h"
#include "common/banned.h"

#define SSH_DEPLOY_TIMEOUT_MS (10L * 60 * 1000)

/* mkdir -p over SFTP ("dir" relative to the login directory unless absolute). */
static int sftp_mkdir_p(struct ssh_conn *c, const char *dir, struct err *e)
{
	LIBSSH2_SFTP_ATTRIBUTES st;
	struct buf part = BUF_INIT;
	const char *p = dir;
	while (*p) {
		size_t n = strcspn(p, "/");
		buf_add(&part, p, n);
		if (part.len && strcmp(part.ptr, "/"))
			libssh2_sftp_mkdir_ex(c->sftp, part.ptr, (unsigned int)part.len, 0755); /* exists: fine */
		p += n;
		if (*p == '/') {
			buf_addch(&part, '/');
			p++;
		}
	}
	buf_release(&part);
	if (libssh2_sftp_stat_ex(c->sftp, dir, (unsigned int)strlen(dir), LIBSSH2_SFTP_STAT, &st) != 0 ||
	    !LIBSSH2_SFTP_S_ISDIR(st.permissions))
		return ssh_conn_fail(c, e, "could not create the remote directory");
	return 0;
}

/* Write "len" bytes (or the file "local" when data is NULL) to "dir/name" through "dir/.name.tmp". */
static int sftp_put(struct ssh_conn *c, const char *dir, const char *name, const char *data, size_t len,
		    const char *local, struct err *e)
{
	struct buf tmp = BUF_INIT, dst = BUF_INIT;
	LIBSSH2_SFTP_HANDLE *h;
	char chunk[32768];
	int fd = -1, ret = -1;

	buf_addf(&tmp, "%s/.%s.tmp", dir, name);
	buf_addf(&dst, "%s/%s", dir, name);
	if (local && (fd = open(local, O_RDONLY | O_CLOEXEC)) < 0) {
		err_errno(e, MLCI_EINFRA, "could not open '%s'", local);
		goto done;
	}
	h = libssh2_sftp_open_ex(c->sftp, tmp.ptr, (unsigned int)tmp.len,
				 LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0644,
				 LIBSSH2_SFTP_OPENFILE);
	if (!h) {
		ssh_conn_fail(c, e, "could not open the remote file for writing");
		goto done;
	}
	for (;;) {
		const char *p;
		size_t n;
		if (local) {
			ssize_t r = read(fd, chunk, sizeof(chunk));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				err_errno(e, MLCI_EINFRA, "could not read '%s'", local);
				break;
			}
			p = chunk;
			n = (size_t)r;
		} else {
			p = data;
			n = len;
			len = 0;
		}
		if (!n) {
			ret = 0;
			break;
		}
		while (n) {
			ssize_t w = libssh2_sftp_write(h, p, n);
			if (w < 0) {
				ssh_conn_fail(c, e, "upload failed");
				n = 0;
				goto closed;
			}
			p += w;
			n -= (size_t)w;
		}
	}
closed:
	if (libssh2_sftp_close_handle(h) != 0 && ret == 0)
		ret = ssh_conn_fail(c, e, "upload failed on close");
	if (ret == 0) {
		/* SFTP v3 (OpenSSH) does not rename over an existing file */
		libssh2_sftp_unlink_ex(c->sftp, dst.ptr, (unsigned int)dst.len);
		if (libssh2_sftp_rename_ex(c->sftp, tmp.ptr, (unsigned int)tmp.len, dst.ptr, (unsigned int)dst.len,
					   LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC |
						   LIBSSH2_SFTP_RENAME_NATIVE) != 0)
			ret = ssh_conn_fail(c, e, "could not rename the uploaded file");
	}
	if (ret < 0)
		err_prefix(e, "%s", dst.ptr);
done:
	if (fd >= 0)
		close(fd);
	buf_release(&tmp);
	buf_release(&dst);
	return ret;
}

/* "NAME='value' " for the remote command line; values are single-quoted, never interpolated. */
static void add_assign(struct buf *cmd, const char *name, const char *value)
{
	buf_addf(cmd, "%s=", name);
	buf_add_shquote(cmd, value ? value : "");
	buf_addch(cmd, ' ');
}

int deploy_ssh(const struct deploy_ctx *d, const char *target, const char *command, const char *dir, struct err *e)
{
	struct ssh_conn c;
	struct buf rdir = BUF_INIT, log = BUF_INIT, cmd = BUF_INIT, remote_model = BUF_INIT, remote_state = BUF_INIT;
	const struct env_state *st = d->state;
	const char *env = d->env;
	char *text = cJSON_Print(d->json);
	char vbuf[32] = "";
	int fd = -1, status = 0, ret = -1;

	memset(&c, 0, sizeof(c));
	c.sock = -1;
	buf_addf(&log, "%s/deploy-%s.log", d->log_dir, env);
	if (dir && *dir)
		buf_addstr(&rdir, dir);
	else
		buf_addf(&rdir, "mlci-deploy/%s", env);
	while (rdir.len > 1 && rdir.ptr[rdir.len - 1] == '/')
		buf_setlen(&rdir, rdir.len - 1);
	if (!text) {
		err_set(e, MLCI_EINFRA, "ssh deploy: could not serialise the state of '%s'", env);
		goto done;
	}
	if (fs_mkdir_p(d->log_dir, 0755, e) < 0)
		goto done;
	fd = open(log.ptr, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_errno(e, MLCI_EINFRA, "could not open '%s'", log.ptr);
		goto done;
	}
	if (ssh_conn_open(&c, target, e) < 0) {
		err_prefix(e, "ssh deploy");
		goto done;
	}
	c.sftp = libssh2_sftp_init(c.session);
	if (!c.sftp) {
		ssh_conn_fail(&c, e, "could not start SFTP");
		goto done;
	}
	if (sftp_mkdir_p(&c, rdir.ptr, e) < 0)
		goto done;
	if (d->model_path) {
		if (sftp_put(&c, rdir.ptr, d->model_file, NULL, 0, d->model_path, e) < 0)
			goto done;
		buf_addf(&remote_model, "%s/%s", rdir.ptr, d->model_file);
	}
	if (sftp_put(&c, rdir.ptr, "state.json", text, strlen(text), NULL, e) < 0)
		goto done;
	buf_addf(&remote_state, "%s/state.json", rdir.ptr);

	/* cd DIR && VAR='..' ... /bin/sh -c 'COMMAND' */
	buf_addstr(&cmd, "cd ");
	buf_add_shquote(&cmd, rdir.ptr);
	buf_addstr(&cmd, " && ");
	if (st->model_version)
		snprintf(vbuf, sizeof(vbuf), "%lld", (long long)st->model_version);
	add_assign(&cmd, "MLCI_ENV", env);
	add_assign(&cmd, "MLCI_PIPELINE", st->pipeline);
	add_assign(&cmd, "MLCI_RUN_ID", st->run ? st->run : "none");
	add_assign(&cmd, "MLCI_COMMIT", st->commit);
	add_assign(&cmd, "MLCI_MODEL_NAME", st->model_name);
	add_assign(&cmd, "MLCI_MODEL_VERSION", vbuf);
	add_assign(&cmd, "MLCI_MODEL", d->model_file ? d->model_file : "");
	add_assign(&cmd, "MLCI_STATE_JSON", "state.json");
	buf_addstr(&cmd, "/bin/sh -c ");
	buf_add_shquote(&cmd, command);
	{
		struct buf head = BUF_INIT;
		buf_addf(&head, "mlci: ssh %s@%s:%d: uploaded %s%s%s; running: %s\n", c.user, c.host, c.port,
			 remote_model.len ? remote_model.ptr : "", remote_model.len ? " and " : "", remote_state.ptr,
			 command);
		fs_write_all(fd, head.ptr, head.len);
		buf_release(&head);
	}
	if (ssh_conn_exec(&c, cmd.ptr, SSH_DEPLOY_TIMEOUT_MS, fd, NULL, &status, e) < 0)
		goto done;
	if (status != 0) {
		err_set(e, MLCI_EFAILED, "ssh deploy to %s: remote command exited with status %d (log: %s)", target,
			status, log.ptr);
		goto done;
	}
	ret = 0;
done:
	if (ret < 0 && fd >= 0) {
		struct buf line = BUF_INIT;
		buf_addf(&line, "mlci: ssh deploy failed: %s\n", err_msg(e));
		fs_write_all(fd, line.ptr, line.len);
		buf_release(&line);
	}
	if (fd >= 0)
		close(fd);
	ssh_conn_close(&c);
	free(text);
	buf_release(&rdir);
	buf_release(&log);
	buf_release(&cmd);
	buf_release(&remote_model);
	buf_release(&remote_state);
	return ret;
}
