/* test_cache.c - unit tests of ci/cache.c: the key changes exactly when one of its ingredients
 * changes (one test per ingredient) and not when anything else does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ci/cache.h"

static const char base_yaml[] =
	"pipeline: p\n"
	"params: { lr: 0.1, epochs: 10 }\n"
	"env: { SEED: \"1\" }\n"
	"components:\n"
	"  ingest: { path: ing, run: \"python3 main.py\", inputs: [data/a.csv], outputs: [d.csv] }\n"
	"  train: { needs: [ingest], path: tr, run: \"python3 t.py\", outputs: [m.json] }\n";

static const char *const inputs_a[] = { "1111111111111111111111111111111111111111" };
static const char *const inputs_b[] = { "2222222222222222222222222222222222222222" };
static const struct cache_upstream up_a[] = { { "ingest", "d.csv", "aaaa" } };
static const struct cache_upstream up_b[] = { { "ingest", "d.csv", "bbbb" } };

/* Key of component "comp" of the spec "yaml" with the given ingredients. */
static void key_of(const char *yaml, size_t comp, const char *tree, const char *const *inputs,
		   const struct cache_upstream *up, size_t n_up, const char *version, int run_key,
		   char key[SHA256_HEX_LEN + 1])
{
	struct spec s;
	struct diags d;
	struct cache_ingredients in;
	spec_init(&s);
	diags_init(&d);
	assert_int_equal(spec_parse_buffer(&s, yaml, strlen(yaml), "mlci.yaml", &d), 0);
	memset(&in, 0, sizeof(in));
	in.spec = &s;
	in.comp = comp;
	in.tree_id = tree;
	in.input_ids = inputs;
	in.up = up;
	in.n_up = n_up;
	in.version = version;
	if (run_key)
		cache_run_key(&in, key);
	else
		cache_source_key(&in, key);
	spec_release(&s);
	diags_release(&d);
}

static void base_key(size_t comp, int run_key, char key[SHA256_HEX_LEN + 1])
{
	key_of(base_yaml, comp, "tree1", comp == 0 ? inputs_a : NULL, comp == 1 ? up_a : NULL, comp == 1, "1.0",
	       run_key, key);
}

/* Replace the first "from" in base_yaml by "to". */
static const char *edited(const char *from, const char *to)
{
	static char out[2048];
	const char *p = strstr(base_yaml, from);
	size_t pre;
	assert_non_null(p);
	pre = (size_t)(p - base_yaml);
	memcpy(out, base_yaml, pre);
	out[pre] = '\0';
	assert_true(strlen(base_yaml) + strlen(to) < sizeof(out));
	memcpy(out + pre, to, strlen(to) + 1);
	memcpy(out + pre + strlen(to), p + strlen(from), strlen(p + strlen(from)) + 1);
	return out;
}

static void test_deterministic(void **state)
{
	char a[65], b[65];
	(void)state;
	base_key(0, 0, a);
	base_key(0, 0, b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 64);
	base_key(0, 1, b);
	assert_string_not_equal(a, b); /* source and run keys differ */
}

static void test_spec_entry(void **state)
{
	char a[65], b[65];
	(void)state;
	base_key(0, 0, a);
	key_of(edited("python3 main.py", "python3 main.py -v"), 0, "tree1", inputs_a, NULL, 0, "1.0", 0, b);
	assert_string_not_equal(a, b);
	key_of(edited("outputs: [d.csv]", "outputs: [d.csv, e.csv]"), 0, "tree1", inputs_a, NULL, 0, "1.0", 0, b);
	assert_string_not_equal(a, b);
	/* a change to another component does not touch this one */
	key_of(edited("python3 t.py", "python3 t.py --fast"), 0, "tree1", inputs_a, NULL, 0, "1.0", 0, b);
	assert_string_equal(a, b);
}

static void test_tree(void **state)
{
	char a[65], b[65];
	(void)state;
	base_key(0, 0, a);
	key_of(base_yaml, 0, "tree2", inputs_a, NULL, 0, "1.0", 0, b);
	assert_string_not_equal(a, b);
}

static void test_inputs(void **state)
{
	char a[65], b[65];
	(void)state;
	base_key(0, 0, a);
	key_of(base_yaml, 0, "tree1", inputs_b, NULL, 0, "1.0", 0, b);
	assert_string_not_equal(a, b);
}

static void test_upstream_digests(void **state)
{
	char a[65], b[65];
	(void)state;
	base_key(1, 1, a);
	key_of(base_yaml, 1, "tree1", NULL, up_b, 1, "1.0", 1, b);
	assert_string_not_equal(a, b);
	/* the source key (CI phase) does not depend on upstream outputs */
	base_key(1, 0, a);
	key_of(base_yaml, 1, "tree1", NULL, up_b, 1, "1.0", 0, b);
	assert_string_equal(a, b);
}

static void test_upstream_order_irrelevant(void **state)
{
	static const struct cache_upstream two[] = { { "ingest", "d.csv", "aaaa" }, { "ingest", "e.csv", "cccc" } };
	static const struct cache_upstream swapped[] = { { "ingest", "e.csv", "cccc" }, { "ingest", "d.csv", "aaaa" } };
	char a[65], b[65];
	(void)state;
	key_of(base_yaml, 1, "tree1", NULL, two, 2, "1.0", 1, a);
	key_of(base_yaml, 1, "tree1", NULL, swapped, 2, "1.0", 1, b);
	assert_string_equal(a, b);
}

static void test_params(void **state)
{
	char a[65], b[65];
	(void)state;
	base_key(0, 0, a);
	key_of(edited("lr: 0.1", "lr: 0.2"), 0, "tree1", inputs_a, NULL, 0, "1.0", 0, b);
	assert_string_not_equal(a, b);
	key_of(edited("epochs: 10 }", "epochs: 10, extra: x }"), 0, "tree1", inputs_a, NULL, 0, "1.0", 0, b);
	assert_string_not_equal(a, b);
}

static void test_env(void **state)
{
	char a[65], b[65];
	(void)state;
	base_key(0, 0, a);
	key_of(edited("SEED: \"1\"", "SEED: \"2\""), 0, "tree1", inputs_a, NULL, 0, "1.0", 0, b);
	assert_string_not_equal(a, b);
}

static void test_version(void **state)
{
	char a[65], b[65];
	(void)state;
	base_key(0, 0, a);
	key_of(base_yaml, 0, "tree1", inputs_a, NULL, 0, "1.1", 0, b);
	assert_string_not_equal(a, b);
}

static void test_no_field_shifting(void **state)
{
	/* moving text between two adjacent fields must change the key */
	char a[65], b[65];
	(void)state;
	key_of(edited("run: \"python3 main.py\"", "build: ab, test: c, run: \"python3 main.py\""), 0, "tree1", inputs_a,
	       NULL, 0, "1.0", 0, a);
	key_of(edited("run: \"python3 main.py\"", "build: a, test: bc, run: \"python3 main.py\""), 0, "tree1", inputs_a,
	       NULL, 0, "1.0", 0, b);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_spec_entry),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_inputs),
		cmocka_unit_test(test_upstream_digests),
		cmocka_unit_test(test_upstream_order_irrelevant),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_no_field_shifting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
