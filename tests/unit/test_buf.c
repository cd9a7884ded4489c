/* test_buf.c - unit tests of common/buf.c: growth, formatting, insertion, ownership, the maximum,
 * shell quoting, trimming and file reading. Must not leave files behind. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
	tmpdir = test_scratch_dir("buf");
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

static void test_init_empty(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	assert_non_null(b.ptr);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	/* reset, rtrim and setlen on a never-allocated buffer must not write to buf_empty */
	buf_reset(&b);
	buf_rtrim(&b);
	buf_setlen(&b, 0);
	assert_int_equal(buf_empty[0], '\0');
	buf_release(&b);
	assert_ptr_equal(b.ptr, buf_empty);
}

static void test_add_and_grow(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	assert_int_equal(buf_addstr(&b, "hello"), 0);
	assert_int_equal(buf_addch(&b, ' '), 0);
	assert_int_equal(buf_add(&b, "worldXXX", 5), 0);
	assert_string_equal(b.ptr, "hello world");
	assert_int_equal(b.len, 11);
	assert_int_equal(buf_add(&b, NULL, 0), 0);
	assert_int_equal(b.len, 11);
	/* grow well past the first allocation; contents survive every realloc */
	for (int i = 0; i < 10000; i++)
		assert_int_equal(buf_addch(&b, (char)('a' + i % 26)), 0);
	assert_int_equal(b.len, 10011);
	assert_int_equal(strlen(b.ptr), 10011);
	assert_memory_equal(b.ptr, "hello worldabc", 14);
	assert_int_equal(b.ptr[10010], 'a' + 9999 % 26);
	assert_true(b.alloc > b.len);
	/* binary data with NULs keeps its length */
	buf_reset(&b);
	assert_int_equal(buf_add(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_int_equal(b.ptr[3], '\0');
	buf_release(&b);
}

static void test_addf(void **state)
{
	struct buf b = BUF_INIT;
	struct buf big = BUF_INIT;
	(void)state;
	assert_int_equal(buf_addf(&b, "%s=%d", "n", 42), 0);
	assert_int_equal(buf_addf(&b, ",%05.1f", 3.14159), 0);
	assert_string_equal(b.ptr, "n=42,003.1");
	assert_int_equal(b.len, strlen("n=42,003.1"));
	/* a formatted string larger than the current allocation */
	for (int i = 0; i < 300; i++)
		buf_addch(&big, 'x');
	buf_reset(&b);
	assert_int_equal(buf_addf(&b, "<%s>", big.ptr), 0);
	assert_int_equal(b.len, 302);
	assert_int_equal(b.ptr[0], '<');
	assert_int_equal(b.ptr[301], '>');
	assert_int_equal(b.ptr[302], '\0');
	buf_release(&b);
	buf_release(&big);
}

static void test_insert(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	assert_int_equal(buf_insert(&b, 0, "c", 1), 0);
	assert_string_equal(b.ptr, "c");
	assert_int_equal(buf_insert(&b, 0, "a: ", 3), 0);
	assert_string_equal(b.ptr, "a: c");
	assert_int_equal(buf_insert(&b, 3, "b: ", 3), 0);
	assert_string_equal(b.ptr, "a: b: c");
	/* past the end appends */
	assert_int_equal(buf_insert(&b, 1000, "!", 1), 0);
	assert_string_equal(b.ptr, "a: b: c!");
	assert_int_equal(b.len, 8);
	buf_release(&b);
}

static void test_detach_reset(void **state)
{
	struct buf b = BUF_INIT;
	size_t len = 99;
	char *s;
	(void)state;
	s = buf_detach(&b, &len); /* never allocated: still a fresh, owned "" */
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	buf_addstr(&b, "owned");
	s = buf_detach(&b, &len);
	assert_string_equal(s, "owned");
	assert_int_equal(len, 5);
	assert_ptr_equal(b.ptr, buf_empty);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.alloc, 0);
	free(s);
	/* reset keeps the allocation, release frees it */
	buf_addstr(&b, "abc");
	buf_reset(&b);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	assert_true(b.alloc > 0);
	buf_addstr(&b, "xyz");
	buf_setlen(&b, 1);
	assert_string_equal(b.ptr, "x");
	buf_setlen(&b, 10); /* cannot grow through setlen */
	assert_int_equal(b.len, 1);
	buf_release(&b);
}

static void test_max(void **state)
{
	struct buf b;
	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_addstr(&b, "12345"), 0);
	assert_int_equal(buf_addstr(&b, "6789"), -1); /* would be 9 > 8: nothing added */
	assert_string_equal(b.ptr, "12345");
	assert_int_equal(buf_addf(&b, "%d", 6789), -1);
	assert_string_equal(b.ptr, "12345");
	assert_int_equal(buf_insert(&b, 0, "abcd", 4), -1);
	assert_string_equal(b.ptr, "12345");
	assert_int_equal(buf_addstr(&b, "678"), 0); /* exactly at the maximum is fine */
	assert_int_equal(b.len, 8);
	assert_int_equal(buf_addch(&b, 'x'), -1);
	assert_int_equal(b.len, 8);
	/* the maximum survives release and detach */
	buf_release(&b);
	assert_int_equal(b.max, 8);
	assert_int_equal(buf_addstr(&b, "123456789"), -1);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

/* What buf_add_shquote produces must come back unchanged through a real /bin/sh. */
static void shell_roundtrip(const char *s)
{
	struct buf cmd = BUF_INIT, out = BUF_INIT;
	FILE *f;
	buf_addstr(&cmd, "printf '%s' ");
	assert_int_equal(buf_add_shquote(&cmd, s), 0);
	f = popen(cmd.ptr, "r");
	assert_non_null(f);
	assert_int_equal(buf_read_fd(&out, fileno(f)), 0);
	assert_int_equal(pclose(f), 0);
	assert_string_equal(out.ptr, s);
	buf_release(&cmd);
	buf_release(&out);
}

static void test_shquote(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	buf_add_shquote(&b, "plain");
	assert_string_equal(b.ptr, "'plain'");
	buf_reset(&b);
	buf_add_shquote(&b, "it's");
	assert_string_equal(b.ptr, "'it'\\''s'");
	buf_reset(&b);
	buf_add_shquote(&b, "");
	assert_string_equal(b.ptr, "''");
	buf_release(&b);
	shell_roundtrip("it's");
	shell_roundtrip("$(touch /nonexistent/pwned) `id` $HOME ; | & > < * ? ~ \\ \" ''' \n\t end");
	shell_roundtrip("");
}

static void test_rtrim(void **state)
{
	struct buf b = BUF_INIT;
	(void)state;
	buf_addstr(&b, "  keep inner  \t\r\n \n");
	buf_rtrim(&b);
	assert_string_equal(b.ptr, "  keep inner");
	assert_int_equal(b.len, 12);
	buf_reset(&b);
	buf_addstr(&b, " \n\t");
	buf_rtrim(&b);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void write_file(const char *path, const char *data, size_t len)
{
	struct err e = ERR_INIT;
	assert_int_equal(fs_write_atomic(path, data, len, 0644, &e), 0);
	err_release(&e);
}

static void test_read_file(void **state)
{
	struct buf b = BUF_INIT;
	char *path = path_join(tmpdir, "f");
	char *big = path_join(tmpdir, "big");
	char *missing = path_join(tmpdir, "missing");
	char *data = malloc(200000);
	(void)state;
	assert_non_null(data);
	for (size_t i = 0; i < 200000; i++)
		data[i] = (char)(i * 7);
	write_file(path, "line\n", 5);
	write_file(big, data, 200000);
	assert_int_equal(buf_addstr(&b, ">"), 0);
	assert_int_equal(buf_read_file(&b, path), 0);
	assert_string_equal(b.ptr, ">line\n"); /* appends */
	buf_reset(&b);
	assert_int_equal(buf_read_file(&b, big), 0);
	assert_int_equal(b.len, 200000);
	assert_memory_equal(b.ptr, data, 200000);
	buf_release(&b);

	errno = 0;
	assert_int_equal(buf_read_file(&b, missing), -1);
	assert_int_equal(errno, ENOENT);

	buf_init(&b, 1000); /* bounded: a file past the maximum is refused with EFBIG */
	errno = 0;
	assert_int_equal(buf_read_file(&b, big), -1);
	assert_int_equal(errno, EFBIG);
	assert_true(b.len <= 1000);
	buf_release(&b);
	free(data);
	free(path);
	free(big);
	free(missing);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init_empty), T(test_add_and_grow), T(test_addf),  T(test_insert),    T(test_detach_reset),
		T(test_max),        T(test_shquote),      T(test_rtrim), T(test_read_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
