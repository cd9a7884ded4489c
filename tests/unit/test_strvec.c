/* test_strvec.c - unit tests of common/strvec.c: push, pushf, setenv replace, getenv, contains,
 * clear. Pure in-memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/strvec.h"
#include "common/banned.h"

static void test_empty(void **state)
{
	struct strvec sv = STRVEC_INIT;
	(void)state;
	assert_non_null(sv.v);
	assert_null(sv.v[0]); /* usable as an empty envp/argv as is */
	assert_int_equal(sv.n, 0);
	assert_null(strvec_getenv(&sv, "PATH"));
	assert_int_equal(strvec_contains(&sv, "x"), 0);
	strvec_clear(&sv);
	assert_ptr_equal(sv.v, strvec_empty);
}

static void test_push(void **state)
{
	struct strvec sv = STRVEC_INIT;
	char word[] = "copied";
	(void)state;
	strvec_push(&sv, word);
	word[0] = 'X'; /* push copies */
	strvec_pushf(&sv, "%s-%d", "n", 7);
	strvec_push_owned(&sv, xstrdup("owned"));
	for (int i = 0; i < 100; i++)
		strvec_pushf(&sv, "%d", i);
	assert_int_equal(sv.n, 103);
	assert_string_equal(sv.v[0], "copied");
	assert_string_equal(sv.v[1], "n-7");
	assert_string_equal(sv.v[2], "owned");
	assert_string_equal(sv.v[102], "99");
	assert_null(sv.v[103]);
	assert_int_equal(strvec_contains(&sv, "n-7"), 1);
	assert_int_equal(strvec_contains(&sv, "n-"), 0);
	strvec_clear(&sv);
	assert_int_equal(sv.n, 0);
	assert_null(sv.v[0]);
	/* usable again after clear */
	strvec_push(&sv, "again");
	assert_string_equal(sv.v[0], "again");
	strvec_clear(&sv);
}

static void test_setenv_getenv(void **state)
{
	struct strvec sv = STRVEC_INIT;
	(void)state;
	strvec_setenv(&sv, "FOO", "1");
	strvec_setenv(&sv, "FOOBAR", "2");
	strvec_setenv(&sv, "EMPTY", "");
	strvec_setenv(&sv, "EQ", "a=b");
	assert_int_equal(sv.n, 4);
	assert_string_equal(strvec_getenv(&sv, "FOO"), "1");
	assert_string_equal(strvec_getenv(&sv, "FOOBAR"), "2");
	assert_string_equal(strvec_getenv(&sv, "EMPTY"), "");
	assert_string_equal(strvec_getenv(&sv, "EQ"), "a=b");
	assert_null(strvec_getenv(&sv, "FO")); /* a prefix of a name is not the name */
	assert_null(strvec_getenv(&sv, "FOOB"));
	/* replace in place: no duplicate entry, order kept */
	strvec_setenv(&sv, "FOO", "changed");
	assert_int_equal(sv.n, 4);
	assert_string_equal(sv.v[0], "FOO=changed");
	assert_string_equal(sv.v[1], "FOOBAR=2");
	assert_string_equal(strvec_getenv(&sv, "FOO"), "changed");
	assert_null(sv.v[4]);
	strvec_clear(&sv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_push),
		cmocka_unit_test(test_setenv_getenv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
