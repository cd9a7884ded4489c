/* test_error.c - unit tests of common/error.c: set, the prefix chain, the errno variant and the
 * error class. Pure in-memory; nothing on disk. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/banned.h"

static void test_unset(void **state)
{
	struct err e = ERR_INIT;
	(void)state;
	assert_int_equal(e.code, MLCI_OK);
	assert_string_equal(err_msg(&e), "");
	err_release(&e);
}

static void test_set_returns_minus_one(void **state)
{
	struct err e = ERR_INIT;
	(void)state;
	assert_int_equal(err_set(&e, MLCI_EUSAGE, "unknown key '%s'", "foo"), -1);
	assert_int_equal(e.code, MLCI_EUSAGE);
	assert_string_equal(err_msg(&e), "unknown key 'foo'");
	/* a second set replaces the first */
	assert_int_equal(err_set(&e, MLCI_EINFRA, "disk %d", 2), -1);
	assert_int_equal(e.code, MLCI_EINFRA);
	assert_string_equal(err_msg(&e), "disk 2");
	err_release(&e);
	/* NULL is allowed everywhere a caller does not care */
	assert_int_equal(err_set(NULL, MLCI_EINFRA, "x"), -1);
	assert_int_equal(err_errno(NULL, MLCI_EINFRA, "x"), -1);
	assert_int_equal(err_prefix(NULL, "x"), -1);
}

static void test_prefix_chain(void **state)
{
	struct err e = ERR_INIT;
	(void)state;
	err_set(&e, MLCI_EFAILED, "c");
	assert_int_equal(err_prefix(&e, "b"), -1);
	assert_int_equal(err_prefix(&e, "%s", "a"), -1);
	assert_string_equal(err_msg(&e), "a: b: c");
	/* the class set where the error happened is kept on the way up */
	assert_int_equal(e.code, MLCI_EFAILED);
	err_release(&e);

	/* prefixing an unset error gives it a class, so it is never mistaken for success */
	err_prefix(&e, "context");
	assert_int_not_equal(e.code, MLCI_OK);
	assert_int_equal(e.code, MLCI_EINFRA);
	err_release(&e);
}

static void test_errno_variant(void **state)
{
	struct err e = ERR_INIT;
	char want[256];
	(void)state;
	errno = ENOENT;
	assert_int_equal(err_errno(&e, MLCI_EINFRA, "could not open '%s'", "x.yaml"), -1);
	snprintf(want, sizeof(want), "could not open 'x.yaml': %s", strerror(ENOENT));
	assert_string_equal(err_msg(&e), want);
	assert_int_equal(e.code, MLCI_EINFRA);
	assert_int_equal(errno, ENOENT); /* preserved for the caller */
	err_prefix(&e, "spec");
	snprintf(want, sizeof(want), "spec: could not open 'x.yaml': %s", strerror(ENOENT));
	assert_string_equal(err_msg(&e), want);
	err_release(&e);
}

static void test_clear_and_release(void **state)
{
	struct err e = ERR_INIT;
	(void)state;
	err_set(&e, MLCI_EUSAGE, "bad");
	err_clear(&e);
	assert_int_equal(e.code, MLCI_OK);
	assert_string_equal(err_msg(&e), "");
	err_set(&e, MLCI_EUSAGE, "again");
	assert_string_equal(err_msg(&e), "again");
	err_release(&e);
	assert_int_equal(e.code, MLCI_OK);
	assert_string_equal(err_msg(&e), "");
	err_release(&e); /* twice is harmless */
}

/* Re-setting an error from its own message (wrapping it) must not lose the message. */
static void test_set_from_own_message(void **state)
{
	struct err e = ERR_INIT;
	(void)state;
	err_set(&e, MLCI_EINFRA, "inner problem");
	err_set(&e, MLCI_EUSAGE, "outer (%s)", err_msg(&e));
	assert_string_equal(err_msg(&e), "outer (inner problem)");
	assert_int_equal(e.code, MLCI_EUSAGE);
	errno = EACCES;
	err_errno(&e, MLCI_EINFRA, "[%s]", err_msg(&e));
	assert_non_null(strstr(err_msg(&e), "[outer (inner problem)]: "));
	err_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset),
		cmocka_unit_test(test_set_returns_minus_one),
		cmocka_unit_test(test_prefix_chain),
		cmocka_unit_test(test_errno_variant),
		cmocka_unit_test(test_clear_and_release),
		cmocka_unit_test(test_set_from_own_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
