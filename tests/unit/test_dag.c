/* test_dag.c - unit tests of common/dag.c: order, parallel levels, stability, cycle reporting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/dag.h"

/* nodes: 0 ingest, 1 train(0), 2 evaluate(1,0), 3 lint(), 4 report(2,3) */
static const size_t n1[] = { 0 }, n2[] = { 1, 0 }, n4[] = { 2, 3 };

static void test_order_and_levels(void **state)
{
	struct dag_node nodes[5] = { { NULL, 0 }, { n1, 1 }, { n2, 2 }, { NULL, 0 }, { n4, 2 } };
	size_t order[5], level[5], cycle[6], clen = 99;
	(void)state;
	assert_int_equal(dag_order(5, nodes, order, level, cycle, &clen), 0);
	assert_int_equal(clen, 0);
	/* stable: index order among ready nodes */
	size_t want[5] = { 0, 1, 2, 3, 4 };
	assert_memory_equal(order, want, sizeof(want));
	assert_int_equal(level[0], 0);
	assert_int_equal(level[1], 1);
	assert_int_equal(level[2], 2);
	assert_int_equal(level[3], 0);
	assert_int_equal(level[4], 3);
}

static void test_order_needs_later_index(void **state)
{
	/* 0 needs 2, 1 needs 0, 2 needs nothing: must come out 2, 0, 1 */
	static const size_t a[] = { 2 }, b[] = { 0 };
	struct dag_node nodes[3] = { { a, 1 }, { b, 1 }, { NULL, 0 } };
	size_t order[3], level[3];
	(void)state;
	assert_int_equal(dag_order(3, nodes, order, level, NULL, NULL), 0);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 0);
	assert_int_equal(order[2], 1);
	assert_int_equal(level[1], 2);
}

static void test_cycle_reported(void **state)
{
	/* 0 -> fine; 1 needs 3, 2 needs 1, 3 needs 2: cycle 1,2,3 */
	static const size_t a[] = { 3 }, b[] = { 1 }, c[] = { 2 };
	struct dag_node nodes[4] = { { NULL, 0 }, { a, 1 }, { b, 1 }, { c, 1 } };
	size_t order[4], level[4], cycle[5], clen = 0;
	(void)state;
	assert_int_equal(dag_order(4, nodes, order, level, cycle, &clen), -1);
	assert_int_equal(clen, 4);
	assert_int_equal(cycle[0], cycle[3]);
	/* consecutive entries are edges "cycle[i] is needed by cycle[i+1]" */
	for (size_t i = 0; i + 1 < clen; i++) {
		size_t needer = cycle[i + 1], needed = cycle[i];
		int found = 0;
		for (size_t k = 0; k < nodes[needer].n_needs; k++)
			found |= nodes[needer].needs[k] == needed;
		assert_true(found);
	}
}

static void test_self_cycle(void **state)
{
	static const size_t a[] = { 0 };
	struct dag_node nodes[1] = { { a, 1 } };
	size_t order[1], level[1], cycle[2], clen = 0;
	(void)state;
	assert_int_equal(dag_order(1, nodes, order, level, cycle, &clen), -1);
	assert_int_equal(clen, 2);
	assert_int_equal(cycle[0], 0);
	assert_int_equal(cycle[1], 0);
}

static void test_depends_on(void **state)
{
	struct dag_node nodes[5] = { { NULL, 0 }, { n1, 1 }, { n2, 2 }, { NULL, 0 }, { n4, 2 } };
	(void)state;
	assert_true(dag_depends_on(5, nodes, 4, 0));
	assert_true(dag_depends_on(5, nodes, 2, 0));
	assert_false(dag_depends_on(5, nodes, 0, 4));
	assert_false(dag_depends_on(5, nodes, 3, 0));
	assert_false(dag_depends_on(5, nodes, 1, 3));
}

static void test_empty(void **state)
{
	size_t order[1], level[1];
	(void)state;
	assert_int_equal(dag_order(0, NULL, order, level, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_levels), cmocka_unit_test(test_order_needs_later_index),
		cmocka_unit_test(test_cycle_reported),   cmocka_unit_test(test_self_cycle),
		cmocka_unit_test(test_depends_on),       cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
