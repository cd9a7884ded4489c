/* test_clock.c - unit tests of common/clock.c: the wall clock is the epoch in ms (next to time()), the
 * monotonic clock advances across a sleep and never goes back, ms and ns readings agree. No fixtures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <time.h>

#include "common/clock.h"
#include "common/banned.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void test_wall_is_epoch_ms(void **state)
{
	int64_t before = (int64_t)time(NULL) * 1000, now = clock_wall_ms(), after = (int64_t)time(NULL) * 1000;
	(void)state;
	/* time() truncates to the second: "now" lies within [before, after + 1 s) */
	assert_true(now >= before);
	assert_true(now < after + 1000);
	assert_true(now > (int64_t)1600000000 * 1000); /* milliseconds, not seconds, since 1970 */
}

static void test_mono_advances(void **state)
{
	int64_t a = clock_mono_ms(), b;
	(void)state;
	sleep_ms(60);
	b = clock_mono_ms();
	assert_true(b - a >= 60);
	assert_true(b - a < 5000);
	for (int i = 0; i < 10000; i++) {
		int64_t c = clock_mono_ms();
		assert_true(c >= b);
		b = c;
	}
}

static void test_mono_ns_matches_ms(void **state)
{
	int64_t ms0 = clock_mono_ms();
	uint64_t ns = clock_mono_ns(), ns2;
	int64_t ms1 = clock_mono_ms();
	(void)state;
	/* the same clock in other units: ns / 1e6 is between the two ms readings */
	assert_true((int64_t)(ns / 1000000u) >= ms0);
	assert_true((int64_t)(ns / 1000000u) <= ms1);
	sleep_ms(5);
	ns2 = clock_mono_ns();
	assert_true(ns2 - ns >= 5000000u);
	assert_true(ns2 - ns < 5000000000u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wall_is_epoch_ms),
		cmocka_unit_test(test_mono_advances),
		cmocka_unit_test(test_mono_ns_matches_ms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
