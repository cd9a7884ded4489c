/* test_sha256.c - unit tests of common/sha256.c: FIPS 180-2 vectors, incremental equals one-shot,
 * file hashing, the string separator. Scratch files live in a mkdtemp() directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/path.h"
#include "common/sha256.h"
#include "tests/unit/testutil.h"
#include "common/banned.h"

#define EMPTY_HEX  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC_HEX    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC448_HEX "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define ABC448     "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

static char *tmpdir;

static int setup(void **state)
{
	(void)state;
	tmpdir = test_scratch_dir("sha256");
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

static void test_vectors(void **state)
{
	char hex[SHA256_HEX_LEN + 1];
	(void)state;
	sha256_hex("", 0, hex);
	assert_string_equal(hex, EMPTY_HEX);
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, ABC_HEX);
	sha256_hex(ABC448, strlen(ABC448), hex);
	assert_string_equal(hex, ABC448_HEX);
	assert_int_equal(strlen(hex), SHA256_HEX_LEN);
}

static void test_incremental(void **state)
{
	struct sha256_ctx c;
	char hex[SHA256_HEX_LEN + 1];
	(void)state;
	assert_int_equal(sha256_init(&c), 0);
	sha256_update(&c, "a", 1);
	sha256_update(&c, "", 0);
	sha256_update(&c, "bc", 2);
	sha256_final_hex(&c, hex);
	assert_string_equal(hex, ABC_HEX);
	assert_null(c.md); /* final frees the context */
}

static void test_update_str_separates(void **state)
{
	struct sha256_ctx c;
	char h1[SHA256_HEX_LEN + 1], h2[SHA256_HEX_LEN + 1], h3[SHA256_HEX_LEN + 1];
	char h4[SHA256_HEX_LEN + 1], h5[SHA256_HEX_LEN + 1];
	(void)state;
	sha256_init(&c);
	sha256_update_str(&c, "ab");
	sha256_update_str(&c, "c");
	sha256_final_hex(&c, h1);
	sha256_init(&c);
	sha256_update_str(&c, "a");
	sha256_update_str(&c, "bc");
	sha256_final_hex(&c, h2);
	assert_string_not_equal(h1, h2);
	/* the separator is a NUL: "ab","c" hashes as the bytes "ab\0c\0" */
	sha256_hex("ab\0c\0", 5, h3);
	assert_string_equal(h1, h3);
	/* NULL and "" are different inputs */
	sha256_init(&c);
	sha256_update_str(&c, NULL);
	sha256_final_hex(&c, h4);
	sha256_init(&c);
	sha256_update_str(&c, "");
	sha256_final_hex(&c, h5);
	assert_string_not_equal(h4, h5);
}

static void test_file(void **state)
{
	struct err e = ERR_INIT;
	char hex[SHA256_HEX_LEN + 1], want[SHA256_HEX_LEN + 1];
	char *p = path_join(tmpdir, "data.bin");
	char *empty = path_join(tmpdir, "empty");
	char *missing = path_join(tmpdir, "missing");
	size_t n = 300000; /* several read chunks */
	char *data = malloc(n);
	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 31 + 7);
	assert_int_equal(fs_write_atomic(p, data, n, 0644, &e), 0);
	assert_int_equal(fs_write_atomic(empty, "", 0, 0644, &e), 0);
	assert_int_equal(sha256_file_hex(p, hex, &e), 0);
	sha256_hex(data, n, want);
	assert_string_equal(hex, want);
	assert_int_equal(sha256_file_hex(empty, hex, &e), 0);
	assert_string_equal(hex, EMPTY_HEX);
	assert_int_equal(sha256_file_hex(missing, hex, &e), -1);
	assert_int_equal(e.code, MLCI_EINFRA);
	assert_non_null(strstr(err_msg(&e), missing));
	err_release(&e);
	free(data);
	free(p);
	free(empty);
	free(missing);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_vectors),
		T(test_incremental),
		T(test_update_str_separates),
		T(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
