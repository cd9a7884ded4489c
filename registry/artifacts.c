/* artifacts.c - the content-addressed artifact store (see artifacts.h): put by digest, verify on the way out.
 * Must not record anything in SQLite, and must never expose a half-written or unverified file. */
#include "registry/artifacts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fs.h"
#include "common/sha256.h"
#include "common/banned.h"

int artifact_digest_valid(const char *s)
{
	size_t n = 0;
	if (!s)
		return 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return 0;
	return n == SHA256_HEX_LEN;
}

static void artifact_dir(struct buf *b, const char *home, const char *digest)
{
	buf_addf(b, "%s/artifacts/sha256/%.2s", home, digest);
}

char *artifact_path(const char *home, const char *digest)
{
	struct buf b = BUF_INIT;
	if (!artifact_digest_valid(digest))
		return NULL;
	artifact_dir(&b, home, digest);
	buf_addf(&b, "/%s", digest);
	return buf_detach(&b, NULL);
}

/* Make a rename durable (best effort: not every filesystem can fsync a directory). */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/*
 * Copy "src" to a new temp file in directory "dir" (the name is left in "tmp"), hashing the bytes as
 * they go by; the temp file is fsync'd, given "mode" and closed. On failure it is removed.
 */
static int copy_hashing(const char *src, const char *dir, const char *base, mode_t mode, struct buf *tmp,
			char hex[SHA256_HEX_LEN + 1], int64_t *size, struct err *e)
{
	char chunk[65536];
	struct sha256_ctx c;
	int in, out, ret = -1;
	int64_t total = 0;
	buf_reset(tmp);
	buf_addf(tmp, "%s/.%s.tmp.XXXXXX", dir, base);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err_errno(e, MLCI_EINFRA, "could not open '%s'", src);
	out = mkostemp(tmp->ptr, O_CLOEXEC);
	if (out < 0) {
		err_errno(e, MLCI_EINFRA, "could not create a temporary file in '%s'", dir);
		close(in);
		return -1;
	}
	if (sha256_init(&c) < 0) {
		err_set(e, MLCI_EINFRA, "could not initialise sha256");
		goto done;
	}
	for (;;) {
		ssize_t n = read(in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno(e, MLCI_EINFRA, "could not read '%s'", src);
			goto done;
		}
		if (n == 0)
			break;
		sha256_update(&c, chunk, (size_t)n);
		if (fs_write_all(out, chunk, (size_t)n) < 0) {
			err_errno(e, MLCI_EINFRA, "could not write '%s'", tmp->ptr);
			goto done;
		}
		total += n;
	}
	if (fsync(out) < 0 || fchmod(out, mode) < 0) {
		err_errno(e, MLCI_EINFRA, "could not write '%s'", tmp->ptr);
		goto done;
	}
	ret = 0;
done:
	sha256_final_hex(&c, hex); /* frees the context either way */
	close(in);
	if (close(out) < 0 && !ret)
		ret = err_errno(e, MLCI_EINFRA, "could not write '%s'", tmp->ptr);
	if (ret < 0)
		unlink(tmp->ptr);
	else if (size)
		*size = total;
	return ret;
}

/*
 * Store "src" under its digest. The file is hashed first, so content already in the store costs one
 * read and no write. Otherwise it is copied (hashing again: a source that changes in between is an
 * error, not a mislabelled artifact) to a temp file in the target directory, fsync'd, made read-only
 * and renamed into place. Two processes storing the same content at once both rename an identical
 * complete file, so the result is one good file whoever wins.
 */
int artifact_put_file(const char *home, const char *src, char digest[SHA256_HEX_LEN + 1], int64_t *size, struct err *e)
{
	struct buf dir = BUF_INIT, tmp = BUF_INIT;
	char copied[SHA256_HEX_LEN + 1];
	char *target = NULL;
	struct stat st;
	int ret = -1;
	if (sha256_file_hex(src, digest, e) < 0)
		return err_prefix(e, "could not store artifact '%s'", src);
	target = artifact_path(home, digest);
	if (stat(target, &st) == 0 && S_ISREG(st.st_mode)) {
		if (size)
			*size = (int64_t)st.st_size;
		ret = 0;
		goto done;
	}
	artifact_dir(&dir, home, digest);
	if (fs_mkdir_p(dir.ptr, 0755, e) < 0)
		goto done;
	if (copy_hashing(src, dir.ptr, digest, 0444, &tmp, copied, size, e) < 0)
		goto done;
	if (strcmp(copied, digest) != 0) {
		err_set(e, MLCI_EINFRA, "'%s' changed while it was being stored", src);
		unlink(tmp.ptr);
		goto done;
	}
	if (rename(tmp.ptr, target) < 0) {
		err_errno(e, MLCI_EINFRA, "could not rename '%s' to '%s'", tmp.ptr, target);
		unlink(tmp.ptr);
		goto done;
	}
	sync_dir(dir.ptr);
	ret = 0;
done:
	if (ret < 0)
		err_prefix(e, "could not store artifact '%s'", src);
	free(target);
	buf_release(&dir);
	buf_release(&tmp);
	return ret;
}

/*
 * Copy artifact "digest" to "dst" through a temp file beside it, hashing on the way; only a copy
 * whose digest matches is renamed to "dst". A mismatch means the store file was damaged: it is
 * reported and nothing is left at "dst" (not even an older file of that name).
 */
int artifact_materialize(const char *home, const char *digest, const char *dst, struct err *e)
{
	struct buf dir = BUF_INIT, tmp = BUF_INIT;
	char got[SHA256_HEX_LEN + 1];
	const char *slash, *base;
	char *src;
	int ret = -1;
	if (!artifact_digest_valid(digest))
		return err_set(e, MLCI_EINFRA, "invalid artifact digest '%s'", digest ? digest : "");
	src = artifact_path(home, digest);
	if (!fs_is_file(src)) {
		err_set(e, MLCI_EINFRA, "artifact %s is missing from the store ('%s')", digest, src);
		goto done;
	}
	slash = strrchr(dst, '/');
	if (slash) {
		buf_add(&dir, dst, slash == dst ? 1 : (size_t)(slash - dst));
		base = slash + 1;
	} else {
		buf_addstr(&dir, ".");
		base = dst;
	}
	if (!*base) {
		err_set(e, MLCI_EINFRA, "could not materialise artifact %s: '%s' is not a file name", digest, dst);
		goto done;
	}
	if (fs_mkdir_p(dir.ptr, 0755, e) < 0)
		goto done;
	if (copy_hashing(src, dir.ptr, base, 0644, &tmp, got, NULL, e) < 0)
		goto done;
	if (strcmp(got, digest) != 0) {
		unlink(tmp.ptr);
		unlink(dst); /* whatever an earlier materialisation left there is not to be trusted either */
		err_set(e, MLCI_EINFRA, "artifact %s is corrupted in the store ('%s' has digest %s)", digest, src, got);
		goto done;
	}
	if (rename(tmp.ptr, dst) < 0) {
		err_errno(e, MLCI_EINFRA, "could not rename '%s' to '%s'", tmp.ptr, dst);
		unlink(tmp.ptr);
		goto done;
	}
	ret = 0;
done:
	free(src);
	buf_release(&dir);
	buf_release(&tmp);
	return ret;
}
