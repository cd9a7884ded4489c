/* test_artifacts.c - unit tests of the content-addressed artifact store (registry/artifacts.c): put once,
 * known digests, read-only files, verified materialisation, corruption, concurrent puts. Under mkdtemp(). */
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
#include "registry/artifacts.h"
#include "tests/unit/testutil.h"
#include "common/banned.h"

#define HELLO_DIGEST "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

static char *tmpdir;
static char *home;

static int setup(void **state)
{
	(void)state;
	tmpdir = test_scratch_dir("artifacts");
	if (!tmpdir)
		return -1;
	home = path_join(tmpdir, "home");
	return 0;
}

static int teardown(void **state)
{
	int r;
	(void)state;
	r = test_scratch_remove(tmpdir);
	tmpdir = NULL;
	free(home);
	return r;
}

static char *tp(const char *rel)
{
	return path_join(tmpdir, rel);
}

static char *write_tmp(const char *rel, const void *data, size_t len)
{
	char *p = tp(rel);
	struct err e = ERR_INIT;
	if (fs_write_atomic(p, data, len, 0644, &e) < 0)
		fail_msg("%s", err_msg(&e));
	err_release(&e);
	return p;
}

static char *slurp(const char *path)
{
	struct buf b = BUF_INIT;
	if (buf_read_file(&b, path) < 0)
		fail_msg("could not read '%s': %s", path, strerror(errno));
	return buf_detach(&b, NULL);
}

/* Number of entries in "dir" (all of them, temp files included). */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void put_ok(const char *src, char digest[SHA256_HEX_LEN + 1], int64_t *size)
{
	struct err e = ERR_INIT;
	if (artifact_put_file(home, src, digest, size, &e) < 0)
		fail_msg("artifact_put_file: %s", err_msg(&e));
	err_release(&e);
}

static void test_put_known_digest_once(void **state)
{
	char d1[SHA256_HEX_LEN + 1], d2[SHA256_HEX_LEN + 1];
	int64_t size = -1;
	char *a = write_tmp("a.txt", "hello\n", 6), *b = write_tmp("b.txt", "hello\n", 6);
	char *stored, *dir, *content;
	struct stat st;
	(void)state;
	put_ok(a, d1, &size);
	assert_string_equal(d1, HELLO_DIGEST);
	assert_int_equal(size, 6);
	stored = artifact_path(home, d1);
	assert_non_null(strstr(stored, "/artifacts/sha256/58/" HELLO_DIGEST));
	assert_int_equal(stat(stored, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444);

	/* same content again, from another file: same digest, still one file */
	size = -1;
	put_ok(b, d2, &size);
	assert_string_equal(d2, d1);
	assert_int_equal(size, 6);
	dir = tp("home/artifacts/sha256/58");
	assert_int_equal(count_entries(dir), 1);
	content = slurp(stored);
	assert_string_equal(content, "hello\n");

	/* the source is not touched */
	assert_int_equal(stat(a, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	free(content);
	free(dir);
	free(stored);
	free(a);
	free(b);
}

static void test_put_empty_and_binary(void **state)
{
	char d[SHA256_HEX_LEN + 1];
	int64_t size = -1;
	unsigned char bin[200000];
	char *empty = write_tmp("empty", "", 0), *big;
	char *path, *back;
	struct err e = ERR_INIT;
	(void)state;
	put_ok(empty, d, &size);
	assert_string_equal(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(size, 0);
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7 + (i >> 9));
	big = write_tmp("big.bin", bin, sizeof(bin));
	put_ok(big, d, &size);
	assert_int_equal(size, (int64_t)sizeof(bin));
	back = tp("out/big.bin");
	assert_int_equal(artifact_materialize(home, d, back, &e), 0);
	{
		struct buf b = BUF_INIT;
		assert_int_equal(buf_read_file(&b, back), 0);
		assert_int_equal(b.len, sizeof(bin));
		assert_memory_equal(b.ptr, bin, sizeof(bin));
		buf_release(&b);
	}
	/* a missing source is an error naming it */
	path = tp("nope");
	assert_int_equal(artifact_put_file(home, path, d, &size, &e), -1);
	assert_non_null(strstr(err_msg(&e), "nope"));
	assert_int_equal(e.code, MLCI_EINFRA);
	err_release(&e);
	free(path);
	free(back);
	free(big);
	free(empty);
}

static void test_materialize(void **state)
{
	char d[SHA256_HEX_LEN + 1];
	char *src = write_tmp("m.json", "{\"w\": [1, 2, 3]}\n", 17);
	char *dst = tp("deep/er/dir/model.json"), *content;
	struct err e = ERR_INIT;
	struct stat st;
	(void)state;
	put_ok(src, d, NULL);
	assert_int_equal(artifact_materialize(home, d, dst, &e), 0);
	content = slurp(dst);
	assert_string_equal(content, "{\"w\": [1, 2, 3]}\n");
	free(content);
	assert_int_equal(stat(dst, &st), 0);
	assert_true(st.st_mode & S_IWUSR);          /* a copy the step may change; the store file stays read-only */
	assert_int_equal(count_entries(tmpdir), 3); /* m.json, home, deep */
	{
		char *dir = tp("deep/er/dir");
		assert_int_equal(count_entries(dir), 1); /* no temp file left beside it */
		free(dir);
	}
	/* again over an existing file */
	assert_int_equal(artifact_materialize(home, d, dst, &e), 0);
	/* unknown digest */
	assert_int_equal(
		artifact_materialize(home, "0000000000000000000000000000000000000000000000000000000000000000", dst, &e),
		-1);
	assert_non_null(strstr(err_msg(&e), "missing from the store"));
	err_release(&e);
	free(src);
	free(dst);
}

static void test_corruption_detected(void **state)
{
	char d[SHA256_HEX_LEN + 1];
	char *src = write_tmp("a.txt", "hello\n", 6);
	char *dst = tp("out/a.txt"), *stored;
	struct err e = ERR_INIT;
	FILE *f;
	(void)state;
	put_ok(src, d, NULL);
	stored = artifact_path(home, d);
	assert_int_equal(chmod(stored, 0644), 0);
	f = fopen(stored, "w");
	assert_non_null(f);
	fputs("jello\n", f);
	fclose(f);
	assert_int_equal(artifact_materialize(home, d, dst, &e), -1);
	assert_int_equal(e.code, MLCI_EINFRA);
	if (!strstr(err_msg(&e), "artifact " HELLO_DIGEST " is corrupted in the store"))
		fail_msg("message: %s", err_msg(&e));
	assert_false(fs_exists(dst));
	{
		char *dir = tp("out");
		assert_int_equal(count_entries(dir), 0);
		free(dir);
	}
	err_release(&e);
	free(stored);
	free(src);
	free(dst);
}

static void test_digest_valid(void **state)
{
	char *dst = tp("x");
	struct err e = ERR_INIT;
	static const char *const bad[] = {
		"",
		"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be0",   /* 63 */
		"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be033", /* 65 */
		"5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03",  /* upper case */
		"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be0g",
		"../../../../etc/passwd/../../../../../../../../../../../../../../x",
		"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be0 ",
	};
	(void)state;
	assert_true(artifact_digest_valid(HELLO_DIGEST));
	assert_false(artifact_digest_valid(NULL));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (artifact_digest_valid(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
		assert_null(artifact_path(home, bad[i]));
		assert_int_equal(artifact_materialize(home, bad[i], dst, &e), -1);
		assert_non_null(strstr(err_msg(&e), "invalid artifact digest"));
	}
	assert_false(fs_exists(dst));
	err_release(&e);
	free(dst);
}

/* Two processes store the same (large) content at the same moment: one good, read-only file. */
static void test_concurrent_put(void **state)
{
	enum { SIZE = 4 * 1024 * 1024 };
	char *data = xmalloc(SIZE);
	char *srcs[2], *stored, *dir;
	char d[SHA256_HEX_LEN + 1], want[SHA256_HEX_LEN + 1];
	int fds[2];
	pid_t pids[2];
	struct err e = ERR_INIT;
	(void)state;
	for (size_t i = 0; i < SIZE; i++)
		data[i] = (char)(i * 31 + (i >> 13));
	sha256_hex(data, SIZE, want);
	srcs[0] = write_tmp("c0.bin", data, SIZE);
	srcs[1] = write_tmp("c1.bin", data, SIZE);
	free(data);
	assert_int_equal(pipe(fds), 0);
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char go, cd[SHA256_HEX_LEN + 1];
			close(fds[1]);
			if (read(fds[0], &go, 1) != 1)
				_exit(2);
			for (int round = 0; round < 5; round++)
				if (artifact_put_file(home, srcs[i], cd, NULL, &e) < 0 || strcmp(cd, want) != 0) {
					fprintf(stderr, "child %d: %s\n", i, err_msg(&e));
					_exit(1);
				}
			_exit(0);
		}
	}
	close(fds[0]);
	assert_int_equal(write(fds[1], "gg", 2), 2);
	close(fds[1]);
	for (int i = 0; i < 2; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	stored = artifact_path(home, want);
	assert_int_equal(sha256_file_hex(stored, d, &e), 0);
	assert_string_equal(d, want);
	{
		struct stat st;
		assert_int_equal(stat(stored, &st), 0);
		assert_int_equal(st.st_size, SIZE);
		assert_int_equal(st.st_mode & 0777, 0444);
	}
	*strrchr(stored, '/') = '\0';
	dir = stored;
	assert_int_equal(count_entries(dir), 1); /* no temp files left */
	err_release(&e);
	free(dir);
	free(srcs[0]);
	free(srcs[1]);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_put_known_digest_once), T(test_put_empty_and_binary), T(test_materialize),
		T(test_corruption_detected),   T(test_digest_valid),         T(test_concurrent_put),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
