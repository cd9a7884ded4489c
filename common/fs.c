/* fs.c - filesystem helpers (see fs.h).
 * Must not follow symlinks when deleting; must not leave half-written files behind a rename. */
#define _XOPEN_SOURCE 700
#include "common/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/path.h"
#include "common/banned.h"

int fs_mkdir_p(const char *path, mode_t mode, struct err *e)
{
	struct buf b = BUF_INIT;
	int ret = 0;
	buf_addstr(&b, path);
	for (size_t i = 1; i <= b.len; i++) {
		if (b.ptr[i] != '/' && b.ptr[i] != '\0')
			continue;
		char c = b.ptr[i];
		b.ptr[i] = '\0';
		if (mkdir(b.ptr, mode) < 0 && errno != EEXIST) {
			ret = err_errno(e, MLCI_EINFRA, "could not create directory '%s'", b.ptr);
			break;
		}
		b.ptr[i] = c;
	}
	if (!ret && !fs_is_dir(path))
		ret = err_set(e, MLCI_EINFRA, "'%s' exists and is not a directory", path);
	buf_release(&b);
	return ret;
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(p) < 0 && errno != ENOENT ? -1 : 0;
	if (unlink(p) < 0 && errno != ENOENT) {
		/* read-only directories from artifact stores: make writable and retry */
		return -1;
	}
	return 0;
}

static int chmod_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DP)
		chmod(p, (st->st_mode & 07777) | S_IRWXU);
	return 0;
}

int fs_rm_rf(const char *path, struct err *e)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : err_errno(e, MLCI_EINFRA, "could not stat '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0)
			return err_errno(e, MLCI_EINFRA, "could not remove '%s'", path);
		return 0;
	}
	nftw(path, chmod_cb, 32, FTW_PHYS);
	if (nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS) < 0)
		return err_errno(e, MLCI_EINFRA, "could not remove '%s'", path);
	return 0;
}

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Make a rename in the directory of "path" durable, so a power loss cannot undo a write that a
 * later record (the store) already refers to. Best effort: not every filesystem can. */
static void sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct err *e)
{
	struct buf tmp = BUF_INIT;
	int fd, ret = -1;
	buf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		err_errno(e, MLCI_EINFRA, "could not open '%s' for writing", tmp.ptr);
		goto done;
	}
	if (fs_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		err_errno(e, MLCI_EINFRA, "could not write '%s'", tmp.ptr);
		close(fd);
		unlink(tmp.ptr);
		goto done;
	}
	close(fd);
	if (rename(tmp.ptr, path) < 0) {
		err_errno(e, MLCI_EINFRA, "could not rename '%s' to '%s'", tmp.ptr, path);
		unlink(tmp.ptr);
		goto done;
	}
	sync_parent(path);
	ret = 0;
done:
	buf_release(&tmp);
	return ret;
}

int fs_copy_file(const char *src, const char *dst, mode_t mode, struct err *e)
{
	char tmp[65536];
	int in, out, ret = 0;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err_errno(e, MLCI_EINFRA, "could not open '%s'", src);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return err_errno(e, MLCI_EINFRA, "could not create '%s'", dst);
	}
	for (;;) {
		ssize_t n = read(in, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = err_errno(e, MLCI_EINFRA, "could not read '%s'", src);
			break;
		}
		if (n == 0)
			break;
		if (fs_write_all(out, tmp, (size_t)n) < 0) {
			ret = err_errno(e, MLCI_EINFRA, "could not write '%s'", dst);
			break;
		}
	}
	close(in);
	if (close(out) < 0 && !ret)
		ret = err_errno(e, MLCI_EINFRA, "could not write '%s'", dst);
	return ret;
}

int fs_copy_tree(const char *src, const char *dst, struct err *e)
{
	DIR *d;
	struct dirent *de;
	int ret = 0;
	if (fs_mkdir_p(dst, 0755, e) < 0)
		return -1;
	d = opendir(src);
	if (!d)
		return err_errno(e, MLCI_EINFRA, "could not open directory '%s'", src);
	while (!ret && (de = readdir(d))) {
		struct stat st;
		char *s, *t;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		s = path_join(src, de->d_name);
		t = path_join(dst, de->d_name);
		if (lstat(s, &st) < 0) {
			ret = err_errno(e, MLCI_EINFRA, "could not stat '%s'", s);
		} else if (S_ISDIR(st.st_mode)) {
			ret = fs_copy_tree(s, t, e);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlink(s, target, sizeof(target) - 1);
			if (n < 0) {
				ret = err_errno(e, MLCI_EINFRA, "could not read link '%s'", s);
			} else {
				target[n] = '\0';
				unlink(t);
				if (symlink(target, t) < 0)
					ret = err_errno(e, MLCI_EINFRA, "could not create link '%s'", t);
			}
		} else if (S_ISREG(st.st_mode)) {
			ret = fs_copy_file(s, t, st.st_mode & 0777, e);
		}
		free(s);
		free(t);
	}
	closedir(d);
	return ret;
}

static int ro_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_F || flag == FTW_D || flag == FTW_DP)
		chmod(p, st->st_mode & 07555);
	return 0;
}

void fs_make_readonly(const char *path)
{
	nftw(path, ro_cb, 32, FTW_PHYS | FTW_DEPTH);
}

int fs_is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int fs_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}
