/* test_fs.c - unit tests of common/fs.c: mkdir -p, atomic writes, copying files and trees (with
 * symlinks), rm -rf (read-only directories, links not followed). All under a mkdtemp() directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/path.h"
#include "tests/unit/testutil.h"
#include "common/banned.h"

static char *tmpdir;

static int setup(void **state)
{
	(void)state;
	tmpdir = test_scratch_dir("fs");
	if (!tmpdir)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	int r;
	(void)state;
	r = test_scratch_remove(tmpdir);
	tmpdir = NULL;
	return r;
}

static char *tp(const char *rel)
{
	return path_join(tmpdir, rel);
}

static char *slurp(const char *path)
{
	struct buf b = BUF_INIT;
	if (buf_read_file(&b, path) < 0)
		fail_msg("could not read '%s': %s", path, strerror(errno));
	return buf_detach(&b, NULL);
}

static void put(const char *rel, const char *data, mode_t mode)
{
	struct err e = ERR_INIT;
	char *p = tp(rel);
	if (fs_write_atomic(p, data, strlen(data), mode, &e) < 0)
		fail_msg("%s", err_msg(&e));
	free(p);
	err_release(&e);
}

/* Like put(), without cmocka asserts: also used in a forked child. */
static int put_raw(const char *rel, const char *data, mode_t mode)
{
	struct err e = ERR_INIT;
	char *p = tp(rel);
	int r = fs_write_atomic(p, data, strlen(data), mode, &e);
	free(p);
	err_release(&e);
	return r;
}

static void assert_file(const char *path, const char *want)
{
	char *got = slurp(path);
	assert_string_equal(got, want);
	free(got);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_mkdir_p(void **state)
{
	struct err e = ERR_INIT;
	char *deep = tp("a/b//c/d/");
	char *deep_clean = tp("a/b/c/d");
	char *file = tp("file");
	char *under_file = tp("file/sub");
	(void)state;
	assert_int_equal(fs_mkdir_p(deep, 0755, &e), 0);
	assert_true(fs_is_dir(deep_clean));
	assert_int_equal(fs_mkdir_p(deep_clean, 0755, &e), 0); /* existing: fine */
	put("file", "x", 0644);
	assert_int_equal(fs_mkdir_p(file, 0755, &e), -1); /* a file is in the way */
	assert_int_equal(e.code, MLCI_EINFRA);
	assert_non_null(strstr(err_msg(&e), file));
	err_clear(&e);
	assert_int_equal(fs_mkdir_p(under_file, 0755, &e), -1);
	assert_non_null(strstr(err_msg(&e), "file"));
	assert_int_equal(fs_mkdir_p("", 0755, &e), -1);
	free(deep);
	free(deep_clean);
	free(file);
	free(under_file);
	err_release(&e);
}

static void test_predicates(void **state)
{
	char *f = tp("f"), *d = tp("d"), *l = tp("l"), *missing = tp("missing");
	struct err e = ERR_INIT;
	(void)state;
	put("f", "x", 0644);
	assert_int_equal(fs_mkdir_p(d, 0755, &e), 0);
	assert_int_equal(symlink("missing", l), 0);
	assert_true(fs_is_file(f) && !fs_is_dir(f) && fs_exists(f));
	assert_true(fs_is_dir(d) && !fs_is_file(d) && fs_exists(d));
	assert_true(!fs_exists(missing) && !fs_is_file(missing) && !fs_is_dir(missing));
	assert_true(fs_exists(l)); /* a dangling link exists (lstat) but is neither a file nor a dir */
	assert_false(fs_is_file(l));
	free(f);
	free(d);
	free(l);
	free(missing);
	err_release(&e);
}

static void test_write_atomic(void **state)
{
	struct err e = ERR_INIT;
	char *p = tp("out.json");
	char *nodir = tp("no/such/dir/out.json");
	(void)state;
	assert_int_equal(fs_write_atomic(p, "{\"a\":1}", 7, 0600, &e), 0);
	assert_file(p, "{\"a\":1}");
	assert_int_equal(mode_of(p), 0600);
	/* replacing: the new content, and no temp file left next to it */
	assert_int_equal(fs_write_atomic(p, "{}", 2, 0644, &e), 0);
	assert_file(p, "{}");
	assert_int_equal(count_entries(tmpdir), 1);
	/* binary and empty */
	assert_int_equal(fs_write_atomic(p, "a\0b", 3, 0644, &e), 0);
	{
		struct buf b = BUF_INIT;
		assert_int_equal(buf_read_file(&b, p), 0);
		assert_int_equal(b.len, 3);
		assert_memory_equal(b.ptr, "a\0b", 3);
		buf_release(&b);
	}
	assert_int_equal(fs_write_atomic(p, "", 0, 0644, &e), 0);
	assert_file(p, "");
	/* a failure names the path and leaves nothing behind */
	assert_int_equal(fs_write_atomic(nodir, "x", 1, 0644, &e), -1);
	assert_int_equal(e.code, MLCI_EINFRA);
	assert_non_null(strstr(err_msg(&e), "no/such/dir/out.json"));
	assert_int_equal(count_entries(tmpdir), 1);
	free(p);
	free(nodir);
	err_release(&e);
}

static void test_copy_file(void **state)
{
	struct err e = ERR_INIT;
	char *src = tp("src.bin"), *dst = tp("dst.bin"), *missing = tp("missing");
	struct buf big = BUF_INIT, got = BUF_INIT;
	(void)state;
	for (int i = 0; i < 200000; i++) /* more than one copy chunk */
		buf_addch(&big, (char)(i % 251));
	assert_int_equal(fs_write_atomic(src, big.ptr, big.len, 0644, &e), 0);
	assert_int_equal(fs_copy_file(src, dst, 0640, &e), 0);
	assert_int_equal(buf_read_file(&got, dst), 0);
	assert_int_equal(got.len, big.len);
	assert_memory_equal(got.ptr, big.ptr, big.len);
	assert_int_equal(mode_of(dst), 0640);
	/* copying over an existing, longer file truncates it */
	put("small", "tiny", 0644);
	free(src);
	src = tp("small");
	assert_int_equal(fs_copy_file(src, dst, 0644, &e), 0);
	assert_file(dst, "tiny");
	assert_int_equal(fs_copy_file(missing, dst, 0644, &e), -1);
	assert_non_null(strstr(err_msg(&e), missing));
	free(src);
	free(dst);
	free(missing);
	buf_release(&big);
	buf_release(&got);
	err_release(&e);
}

static void test_copy_tree(void **state)
{
	struct err e = ERR_INIT;
	char *src = tp("src"), *dst = tp("dst");
	char *f, *link_path, target[PATH_MAX];
	ssize_t n;
	(void)state;
	put("outside.txt", "outside", 0644);
	assert_int_equal(fs_mkdir_p(src, 0755, &e), 0);
	f = tp("src/a/b");
	assert_int_equal(fs_mkdir_p(f, 0755, &e), 0);
	free(f);
	put("src/top.txt", "top", 0644);
	put("src/a/b/deep.sh", "#!/bin/sh\n", 0755);
	put("src/a/.hidden", "h", 0600);
	f = tp("src/empty");
	assert_int_equal(fs_mkdir_p(f, 0755, &e), 0);
	free(f);
	f = tp("src/a/link");
	assert_int_equal(symlink("../top.txt", f), 0);
	free(f);
	f = tp("src/out");
	assert_int_equal(symlink("../outside.txt", f), 0);
	free(f);

	assert_int_equal(fs_copy_tree(src, dst, &e), 0);

	f = tp("dst/top.txt");
	assert_file(f, "top");
	free(f);
	f = tp("dst/a/b/deep.sh");
	assert_file(f, "#!/bin/sh\n");
	assert_int_equal(mode_of(f) & 0111, 0111); /* still executable */
	free(f);
	f = tp("dst/a/.hidden");
	assert_file(f, "h");
	free(f);
	f = tp("dst/empty");
	assert_true(fs_is_dir(f));
	free(f);
	/* symlinks are copied as symlinks with the same target, not as the files they point at */
	link_path = tp("dst/a/link");
	{
		struct stat st;
		assert_int_equal(lstat(link_path, &st), 0);
		assert_true(S_ISLNK(st.st_mode));
	}
	n = readlink(link_path, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "../top.txt");
	assert_file(link_path, "top"); /* and it still works relative to the copy */
	free(link_path);
	link_path = tp("dst/out");
	n = readlink(link_path, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "../outside.txt");
	free(link_path);
	/* copying again over the existing copy works (links replaced) */
	assert_int_equal(fs_copy_tree(src, dst, &e), 0);
	/* a missing source is an error naming it */
	free(src);
	src = tp("nope");
	assert_int_equal(fs_copy_tree(src, dst, &e), -1);
	assert_non_null(strstr(err_msg(&e), "nope"));
	free(src);
	free(dst);
	err_release(&e);
}

/* Build a tree with read-only files and directories (like an artifact store), plus a symlink to
 * a directory outside it, then remove it. Returns 0 when every expectation held. */
static int rm_rf_readonly_tree(void)
{
	struct err e = ERR_INIT;
	char *tree = tp("store"), *outside = tp("keep"), *kept = tp("keep/precious");
	char *p;
	int ok = 1;
	p = tp("keep");
	if (fs_mkdir_p(p, 0755, &e) < 0)
		ok = 0;
	free(p);
	p = tp("store/sha256/ab/cd");
	if (fs_mkdir_p(p, 0755, &e) < 0)
		ok = 0;
	free(p);
	if (put_raw("keep/precious", "x", 0644) < 0 || put_raw("store/sha256/ab/cd/blob", "data", 0444) < 0 ||
	    put_raw("store/top", "t", 0444) < 0)
		ok = 0;
	p = tp("store/link-out");
	if (symlink(outside, p) < 0)
		ok = 0;
	free(p);
	p = tp("store/sha256/ab/cd");
	chmod(p, 0555);
	free(p);
	p = tp("store/sha256/ab");
	chmod(p, 0555);
	free(p);
	p = tp("store/sha256/empty-ro");
	mkdir(p, 0555);
	free(p);
	chmod(tree, 0555);

	if (fs_rm_rf(tree, &e) != 0)
		ok = 0;
	if (fs_exists(tree))
		ok = 0;
	/* the symlink was removed, not followed */
	if (!fs_is_file(kept))
		ok = 0;
	/* not there any more: still fine */
	if (fs_rm_rf(tree, &e) != 0)
		ok = 0;
	free(tree);
	free(outside);
	free(kept);
	err_release(&e);
	return ok ? 0 : -1;
}

static void test_rm_rf(void **state)
{
	struct err e = ERR_INIT;
	char *f = tp("plain"), *l = tp("dirlink"), *target = tp("target"), *inside = tp("target/file");
	(void)state;
	assert_int_equal(rm_rf_readonly_tree(), 0);
	/* a plain file */
	put("plain", "x", 0644);
	assert_int_equal(fs_rm_rf(f, &e), 0);
	assert_false(fs_exists(f));
	/* a symlink to a directory: the link goes, the directory stays */
	assert_int_equal(fs_mkdir_p(target, 0755, &e), 0);
	put("target/file", "x", 0644);
	assert_int_equal(symlink(target, l), 0);
	assert_int_equal(fs_rm_rf(l, &e), 0);
	assert_false(fs_exists(l));
	assert_true(fs_is_file(inside));
	free(f);
	free(l);
	free(target);
	free(inside);
	err_release(&e);
}

/* root ignores permissions, so check read-only trees again as an ordinary user. */
static void test_rm_rf_readonly_unprivileged(void **state)
{
	pid_t pid;
	int status;
	(void)state;
	if (geteuid() != 0)
		skip(); /* test_rm_rf already ran unprivileged */
	assert_int_equal(chown(tmpdir, 65534, 65534), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		_exit(rm_rf_readonly_tree() == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mkdir_p),
		T(test_predicates),
		T(test_write_atomic),
		T(test_copy_file),
		T(test_copy_tree),
		T(test_rm_rf),
		T(test_rm_rf_readonly_unprivileged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
