/* test_yaml_doc.c - unit tests of common/yaml_doc.c and common/diag.c: load limits (size, depth, aliases,
 * documents), parser errors as data at line:col, positions, node access, core-schema scalars, key paths,
 * and the diagnostics list (format, cap, escaping, sort). Pure in-memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/diag.h"
#include "common/yaml_doc.h"
#include "common/banned.h"

static const struct yaml_doc_limits no_limits = { 0, 0, 0, 0 };
static const struct yaml_doc_limits strict = { 1024, 4, 1, 1 };

static int load(struct yaml_doc *d, const char *yaml, const struct yaml_doc_limits *lim, struct diags *diags)
{
	return yaml_doc_load(d, yaml, strlen(yaml), lim, diags);
}

/* Every diag of "d" formatted, one a line. */
static char *all(const struct diags *d)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < d->n; i++) {
		diag_format(d, i, &b);
		buf_addch(&b, '\n');
	}
	return buf_detach(&b, NULL);
}

static void test_positions_and_nodes(void **state)
{
	struct yaml_doc d;
	struct diags dg;
	yaml_node_t *k, *v, *item;
	(void)state;
	diags_init(&dg);
	assert_int_equal(load(&d, "a: 1\nlist:\n  - x\n  - {b: 'q', c: ~}\n", &no_limits, &dg), 0);
	assert_int_equal(dg.n, 0);
	assert_non_null(d.root);
	assert_string_equal(yaml_doc_kind(d.root), "a mapping");
	assert_int_equal(yaml_doc_map_len(d.root), 2);
	assert_int_equal(yaml_doc_seq_len(d.root), 0); /* not a sequence */
	k = yaml_doc_map_key(&d, d.root, 1);
	v = yaml_doc_map_value(&d, d.root, 1);
	assert_string_equal(yaml_doc_scalar(k), "list");
	assert_int_equal(yaml_doc_pos(k).line, 2);
	assert_int_equal(yaml_doc_pos(k).col, 1);
	assert_string_equal(yaml_doc_kind(v), "a sequence");
	assert_int_equal(yaml_doc_seq_len(v), 2);
	item = yaml_doc_seq_item(&d, v, 1);
	assert_int_equal(yaml_doc_pos(item).line, 4);
	assert_int_equal(yaml_doc_pos(item).col, 5);
	assert_null(yaml_doc_seq_item(&d, v, 2)); /* past the end */
	assert_null(yaml_doc_map_key(&d, d.root, 2));
	/* scalars: quoted is not plain, ~ is null, a quoted "" is not */
	assert_false(yaml_doc_is_plain(yaml_doc_map_value(&d, item, 0)));
	assert_true(yaml_doc_is_null(yaml_doc_map_value(&d, item, 1)));
	assert_true(yaml_doc_is_plain(yaml_doc_map_value(&d, d.root, 0)));
	assert_false(yaml_doc_is_null(yaml_doc_map_value(&d, d.root, 0)));
	assert_null(yaml_doc_scalar(item));
	assert_int_equal(yaml_doc_scalar_len(item), 0);
	assert_string_equal(yaml_doc_kind(NULL), "nothing");
	assert_int_equal(yaml_doc_pos(NULL).line, 1);
	assert_int_equal(yaml_doc_pos(NULL).col, 1);
	yaml_doc_release(&d);
	diags_release(&dg);
}

static void test_empty_and_nul(void **state)
{
	struct yaml_doc d;
	struct diags dg;
	(void)state;
	diags_init(&dg);
	assert_int_equal(load(&d, "", &strict, &dg), 0);
	assert_null(d.root);
	yaml_doc_release(&d);
	assert_int_equal(yaml_doc_load(&d, NULL, 5, &strict, &dg), 0); /* NULL is empty input */
	assert_null(d.root);
	yaml_doc_release(&d);
	assert_int_equal(load(&d, "\"a\\0b\"\n", &strict, &dg), 0);
	assert_int_equal(yaml_doc_scalar_len(d.root), 3);
	assert_int_equal(strlen(yaml_doc_scalar(d.root)), 1);
	yaml_doc_release(&d);
	assert_int_equal(dg.n, 0);
	diags_release(&dg);
}

static void test_size_limit(void **state)
{
	struct yaml_doc d;
	struct diags dg;
	char *big = xmalloc(1026);
	(void)state;
	diags_init(&dg);
	memset(big, '#', 1025);
	big[1025] = '\0';
	assert_int_equal(load(&d, big, &strict, &dg), -1);
	assert_int_equal(d.error.kind, YAML_DOC_TOO_LARGE);
	assert_int_equal(dg.n, 0); /* the caller words it */
	yaml_doc_release(&d);
	big[1024] = '\0';
	assert_int_equal(load(&d, big, &strict, &dg), 0); /* exactly the limit is fine */
	yaml_doc_release(&d);
	free(big);
	diags_release(&dg);
}

static void test_depth_limit(void **state)
{
	struct yaml_doc d;
	struct diags dg;
	char *msg;
	(void)state;
	diags_init(&dg);
	diags_set_file(&dg, "x.yaml");
	assert_int_equal(load(&d, "a: [[[1]]]\n", &strict, &dg), 0); /* 4 levels */
	yaml_doc_release(&d);
	assert_int_equal(load(&d, "a: [[[[1]]]]\n", &strict, &dg), -1);
	assert_int_equal(d.error.kind, YAML_DOC_REFUSED);
	msg = all(&dg);
	assert_string_equal(msg, "x.yaml:1:7: nesting is deeper than 4 levels\n");
	free(msg);
	yaml_doc_release(&d);
	diags_release(&dg);
	/* without a limit, the same text loads */
	diags_init(&dg);
	assert_int_equal(load(&d, "a: [[[[1]]]]\n", &no_limits, &dg), 0);
	yaml_doc_release(&d);
	diags_release(&dg);
}

static void test_aliases_and_documents(void **state)
{
	struct yaml_doc d;
	struct diags dg;
	char *msg;
	(void)state;
	diags_init(&dg);
	diags_set_file(&dg, "x.yaml");
	assert_int_equal(load(&d, "x: &a [1]\ny: *a\nz: *a\n", &strict, &dg), -1);
	msg = all(&dg);
	assert_string_equal(msg, "x.yaml:2:4: aliases are not supported (found \"*a\"; write the value out instead)\n"
				 "x.yaml:3:4: aliases are not supported (found \"*a\"; write the value out instead)\n");
	free(msg);
	yaml_doc_release(&d);
	diags_release(&dg);

	diags_init(&dg);
	diags_set_file(&dg, "x.yaml");
	assert_int_equal(load(&d, "a: 1\n---\nb: 2\n", &strict, &dg), -1);
	msg = all(&dg);
	assert_string_equal(msg, "x.yaml:2:1: more than one document in the file (expected a single YAML document)\n");
	free(msg);
	yaml_doc_release(&d);
	diags_release(&dg);

	/* without the limits: aliases point at the anchored node, the first document is loaded */
	diags_init(&dg);
	assert_int_equal(load(&d, "x: &a [1]\ny: *a\n---\nb: 2\n", &no_limits, &dg), 0);
	assert_ptr_equal(yaml_doc_map_value(&d, d.root, 0), yaml_doc_map_value(&d, d.root, 1));
	assert_int_equal(dg.n, 0);
	yaml_doc_release(&d);
	diags_release(&dg);
}

static void test_parser_errors(void **state)
{
	struct yaml_doc d;
	struct diags dg;
	(void)state;
	diags_init(&dg);
	/* a syntax error: where libyaml stopped, and its context */
	assert_int_equal(load(&d, "a: [1, 2\nb: 3\n", &strict, &dg), -1);
	assert_int_equal(d.error.kind, YAML_DOC_SYNTAX);
	assert_int_equal(d.error.pos.line, 2);
	assert_int_equal(d.error.pos.col, 2);
	assert_string_equal(d.error.problem, "did not find expected ',' or ']'");
	assert_string_equal(d.error.context, "while parsing a flow sequence");
	assert_int_equal(d.error.context_pos.line, 1);
	assert_int_equal(d.error.context_pos.col, 4);
	assert_int_equal(dg.n, 0);
	yaml_doc_release(&d);
	/* the same without a first pass (no shape limits) */
	assert_int_equal(load(&d, "a: [1, 2\nb: 3\n", &no_limits, &dg), -1);
	assert_int_equal(d.error.kind, YAML_DOC_SYNTAX);
	assert_int_equal(d.error.pos.line, 2);
	yaml_doc_release(&d);
	/* an encoding error: the byte offset as line:col, and the byte */
	assert_int_equal(load(&d, "a: 1\nb: x\xff\n", &strict, &dg), -1);
	assert_int_equal(d.error.kind, YAML_DOC_ENCODING);
	assert_int_equal(d.error.pos.line, 2);
	assert_int_equal(d.error.pos.col, 5);
	assert_int_equal(d.error.byte, 0xff);
	assert_int_equal(d.error.mark.line, 1); /* libyaml gives no mark for these */
	yaml_doc_release(&d);
	assert_int_equal(dg.n, 0);
	diags_release(&dg);
}

static void test_core_scalars(void **state)
{
	int b = -1;
	int64_t i = 0;
	double x = 0;
	(void)state;
	assert_int_equal(yaml_doc_bool("TRUE", &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(yaml_doc_bool("False", &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(yaml_doc_bool("yes", &b), -1);
	assert_int_equal(yaml_doc_int("-42", &i), 0);
	assert_int_equal(i, -42);
	assert_int_equal(yaml_doc_int("9223372036854775807", &i), 0);
	assert_int_equal(yaml_doc_int("9223372036854775808", &i), -1);
	assert_int_equal(yaml_doc_int("1.0", &i), -1);
	assert_int_equal(yaml_doc_int("", &i), -1);
	assert_int_equal(yaml_doc_number("+.5e1", &x), 0);
	assert_true(x == 5.0);
	assert_int_equal(yaml_doc_number("5.", &x), 0);
	assert_true(x == 5.0);
	assert_int_equal(yaml_doc_number("1e400", &x), -1); /* not finite */
	assert_int_equal(yaml_doc_number(".inf", &x), -1);
	assert_int_equal(yaml_doc_number("0x10", &x), -1);
	assert_int_equal(yaml_doc_number("1e", &x), -1);
	assert_int_equal(yaml_doc_number(".", &x), -1);
}

static void test_key_path(void **state)
{
	struct buf k = BUF_INIT;
	size_t m1, m2, m3;
	(void)state;
	m1 = yaml_doc_key_push(&k, "components");
	m2 = yaml_doc_key_push(&k, "train");
	m3 = yaml_doc_key_push(&k, "needs");
	yaml_doc_key_push_index(&k, 0);
	assert_string_equal(k.ptr, "components.train.needs[0]");
	yaml_doc_key_pop(&k, m3);
	assert_string_equal(k.ptr, "components.train");
	assert_int_equal(yaml_doc_key_push(&k, ""), k.len); /* pushes nothing */
	assert_int_equal(yaml_doc_key_push(&k, NULL), k.len);
	yaml_doc_key_pop(&k, m2);
	yaml_doc_key_pop(&k, m1);
	assert_string_equal(k.ptr, "");
	yaml_doc_key_push_index(&k, 3);
	assert_string_equal(k.ptr, "[3]");
	buf_release(&k);
}

static void test_diag_format_and_sort(void **state)
{
	struct diags d;
	char *msg;
	(void)state;
	diags_init(&d);
	diags_set_file(&d, "f.yaml");
	diags_add(&d, (struct diag_pos){ 3, 2 }, "a.b[1]", "bad %s", "value");
	diags_add(&d, (struct diag_pos){ 1, 7 }, "", "first");
	diags_add(&d, (struct diag_pos){ 0, 0 }, NULL, "the whole file");
	diags_add(&d, (struct diag_pos){ 1, 7 }, "k", "second at the same place");
	diags_sort(&d, 1); /* the first item stays where it is */
	msg = all(&d);
	assert_string_equal(msg, "f.yaml:3:2: a.b[1]: bad value\n"
				 "f.yaml: the whole file\n"
				 "f.yaml:1:7: first\n"
				 "f.yaml:1:7: k: second at the same place\n");
	free(msg);
	diags_release(&d);
}

static void test_diag_cap_and_escaping(void **state)
{
	struct diags d;
	struct strvec lines = STRVEC_INIT;
	char long_value[200];
	(void)state;
	memset(long_value, 'v', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	diags_init(&d);
	diags_set_file(&d, "f.yaml");
	diags_add(&d, (struct diag_pos){ 1, 1 }, "k\x1b", "got \"a\tb\x01\" and \"%s\"", long_value);
	assert_string_equal(d.items[0].key, "k\\x1b");
	assert_non_null(strstr(d.items[0].msg, "got \"a\\tb\\x01\" and \"vvvv"));
	assert_non_null(strstr(d.items[0].msg, "vvv...\""));
	assert_true(strlen(d.items[0].msg) < 100); /* the quoted run is cut at 64 characters */
	for (int i = 0; i < 300; i++)
		diags_add(&d, (struct diag_pos){ 2, 1 }, "", "problem %d", i);
	assert_int_equal(d.n, DIAGS_MAX + 1);
	assert_string_equal(d.items[DIAGS_MAX].msg, "too many errors; stopping here");
	diags_release(&d);

	/* verbatim and uncapped: kept as given */
	diags_init(&d);
	d.verbatim = 1;
	d.max = 0;
	diags_set_file(&d, "f.yaml");
	diags_add(&d, (struct diag_pos){ 1, 1 }, "", "got \"a\tb\"");
	for (int i = 0; i < 300; i++)
		diags_add(&d, (struct diag_pos){ 2, 1 }, "", "problem %d", i);
	assert_int_equal(d.n, 301);
	diags_to_strvec(&d, &lines);
	assert_int_equal(lines.n, 301);
	assert_string_equal(lines.v[0], "f.yaml:1:1: got \"a\tb\"");
	assert_string_equal(lines.v[300], "f.yaml:2:1: problem 299");
	strvec_clear(&lines);
	diag_format(&d, 301, NULL); /* out of range: nothing, not even a look at "out" */
	diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positions_and_nodes),
		cmocka_unit_test(test_empty_and_nul),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_aliases_and_documents),
		cmocka_unit_test(test_parser_errors),
		cmocka_unit_test(test_core_scalars),
		cmocka_unit_test(test_key_path),
		cmocka_unit_test(test_diag_format_and_sort),
		cmocka_unit_test(test_diag_cap_and_escaping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
