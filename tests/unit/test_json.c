/* test_json.c - unit tests of common/json.c: each accessor returns the member of its type and the
 * default for a missing member, another type, null, a NULL or non-object parent; int conversions at
 * their limits. Pure in-memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>

#include "common/json.h"
#include "common/banned.h"

static const char doc[] = "{\"name\":\"m\",\"Name\":\"other\",\"empty\":\"\",\"nul\":null,\"n\":3.75,\"neg\":-1.5,"
			  "\"s3\":\"3\",\"big\":1e12,\"small\":-1e12,\"ms\":1764000000123,\"huge\":1e19,"
			  "\"p63\":9223372036854775808,\"m63\":-9223372036854775808,\"yes\":true,\"no\":false,"
			  "\"one\":1,\"obj\":{\"k\":\"v\"},\"arr\":[1,2]}";

static cJSON *parse(void)
{
	cJSON *j = cJSON_Parse(doc);
	assert_non_null(j);
	return j;
}

static void test_str(void **state)
{
	cJSON *j = parse(), *arr = cJSON_CreateArray();
	(void)state;
	assert_string_equal(json_str(j, "name", "-"), "m");
	assert_string_equal(json_str(j, "Name", "-"), "other"); /* keys are case-sensitive */
	assert_string_equal(json_str(j, "empty", "-"), "");
	assert_string_equal(json_str(j, "missing", "-"), "-");
	assert_string_equal(json_str(j, "nul", "-"), "-");
	assert_string_equal(json_str(j, "n", "-"), "-");
	assert_string_equal(json_str(j, "obj", "-"), "-");
	assert_null(json_str(j, "missing", NULL));
	assert_string_equal(json_str(NULL, "name", "d"), "d");
	assert_string_equal(json_str(json_obj(j, "obj"), "k", "-"), "v");
	cJSON_AddItemToArray(arr, cJSON_CreateString("name"));
	assert_string_equal(json_str(arr, "name", "d"), "d"); /* an array has no members */
	cJSON_Delete(arr);
	cJSON_Delete(j);
}

static void test_num_and_int(void **state)
{
	cJSON *j = parse();
	(void)state;
	assert_true(json_num(j, "n", 0) == 3.75);
	assert_true(json_num(j, "s3", -7) == -7); /* a string of digits is not a number */
	assert_true(json_num(j, "missing", 0.5) == 0.5);
	assert_true(json_num(j, "yes", 2) == 2);
	assert_true(isnan(json_num(NULL, "n", NAN)));
	assert_int_equal(json_int(j, "n", 0), 3);
	assert_int_equal(json_int(j, "one", 0), 1);
	assert_int_equal(json_int(j, "big", 0), INT_MAX);
	assert_int_equal(json_int(j, "small", 0), INT_MIN);
	assert_int_equal(json_int(j, "name", -4), -4);
	assert_int_equal(json_int(j, "nul", -4), -4);
	cJSON_Delete(j);
}

static void test_int64(void **state)
{
	cJSON *j = parse();
	(void)state;
	assert_true(json_int64(j, "ms", 0) == INT64_C(1764000000123)); /* beyond int: not truncated to 32 bits */
	assert_true(json_int64(j, "neg", 0) == -1);                    /* toward zero */
	assert_true(json_int64(j, "n", 0) == 3);
	assert_true(json_int64(j, "huge", -9) == -9);
	assert_true(json_int64(j, "p63", -9) == -9); /* 2^63 does not fit */
	assert_true(json_int64(j, "m63", 0) == INT64_MIN);
	assert_true(json_int64(j, "s3", -9) == -9);
	assert_true(json_int64(j, "missing", 42) == 42);
	cJSON_AddNumberToObject(j, "inf", INFINITY);
	cJSON_AddNumberToObject(j, "nan", NAN);
	assert_true(json_int64(j, "inf", -9) == -9);
	assert_true(json_int64(j, "nan", -9) == -9);
	cJSON_Delete(j);
}

static void test_bool(void **state)
{
	cJSON *j = parse();
	(void)state;
	assert_int_equal(json_bool(j, "yes", 0), 1);
	assert_int_equal(json_bool(j, "no", 1), 0); /* false is an answer, not the default */
	assert_int_equal(json_bool(j, "one", -1), -1);
	assert_int_equal(json_bool(j, "name", -1), -1);
	assert_int_equal(json_bool(j, "missing", -1), -1);
	assert_int_equal(json_bool(NULL, "yes", -1), -1);
	cJSON_Delete(j);
}

static void test_obj_arr(void **state)
{
	cJSON *j = parse();
	const cJSON *o = json_obj(j, "obj"), *a = json_arr(j, "arr");
	(void)state;
	assert_non_null(o);
	assert_true(cJSON_IsObject(o));
	assert_non_null(a);
	assert_int_equal(cJSON_GetArraySize(a), 2);
	assert_null(json_obj(j, "arr"));
	assert_null(json_arr(j, "obj"));
	assert_null(json_obj(j, "name"));
	assert_null(json_arr(j, "missing"));
	assert_null(json_obj(NULL, "obj"));
	assert_null(json_arr(o, "k"));
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str),  cmocka_unit_test(test_num_and_int), cmocka_unit_test(test_int64),
		cmocka_unit_test(test_bool), cmocka_unit_test(test_obj_arr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
