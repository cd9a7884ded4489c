/* test_csv.c - unit tests of checks/csv.c: RFC 4180 edge cases, line numbers, errors, JSON Lines and
 * records that span read blocks. In-memory streams (fmemopen) and one temporary file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks/csv.h"
#include "common/banned.h"

static FILE *mem(const char *s)
{
	FILE *f = fmemopen((void *)s, strlen(s), "r");
	assert_non_null(f);
	return f;
}

static void test_rfc4180(void **state)
{
	const char *in = "a,b,c\r\n1,\"x,y\",\"say \"\"hi\"\"\"\r\n,\"\",\"two\nlines\"\r\n3,4,5";
	FILE *f = mem(in);
	struct csv_reader r;
	struct err e = ERR_INIT;
	(void)state;
	assert_int_equal(csv_open_stream(&r, f, "t.csv", CSV_FORMAT_CSV, &e), 0);
	assert_int_equal(r.n_names, 3);
	assert_string_equal(r.names[2], "c");
	assert_int_equal(csv_next(&r, &e), 1);
	assert_int_equal(r.line, 2);
	assert_int_equal(r.n_fields, 3);
	assert_string_equal(r.fields[0].ptr, "1");
	assert_string_equal(r.fields[1].ptr, "x,y");
	assert_int_equal(r.fields[1].quoted, 1);
	assert_string_equal(r.fields[2].ptr, "say \"hi\"");
	assert_int_equal(csv_next(&r, &e), 1);
	assert_int_equal(r.line, 3);
	assert_int_equal(r.fields[0].len, 0);
	assert_int_equal(r.fields[0].quoted, 0); /* empty unquoted: a null */
	assert_int_equal(r.fields[1].len, 0);
	assert_int_equal(r.fields[1].quoted, 1); /* "": an empty string */
	assert_string_equal(r.fields[2].ptr, "two\nlines");
	assert_int_equal(csv_next(&r, &e), 1); /* no final newline */
	assert_int_equal(r.line, 5);
	assert_string_equal(r.fields[2].ptr, "5");
	assert_int_equal(csv_next(&r, &e), 0);
	assert_int_equal(r.records, 3);
	csv_close(&r);
	fclose(f);
	err_release(&e);
}

static void test_bom_blank_lines_and_trailing_comma(void **state)
{
	FILE *f = mem("\xef\xbb\xbfid,v\n\n1,\n\r\n2,x\n\n");
	struct csv_reader r;
	struct err e = ERR_INIT;
	(void)state;
	assert_int_equal(csv_open_stream(&r, f, "t.csv", CSV_FORMAT_CSV, &e), 0);
	assert_string_equal(r.names[0], "id");
	assert_int_equal(csv_next(&r, &e), 1);
	assert_int_equal(r.line, 3);
	assert_int_equal(r.n_fields, 2);
	assert_string_equal(r.fields[1].ptr, "");
	assert_int_equal(csv_next(&r, &e), 1);
	assert_int_equal(r.line, 5);
	assert_string_equal(r.fields[1].ptr, "x");
	assert_int_equal(csv_next(&r, &e), 0);
	csv_close(&r);
	fclose(f);
	err_release(&e);
}

static void test_field_count_mismatch_is_returned(void **state)
{
	FILE *f = mem("a,b\n1\n1,2,3\n");
	struct csv_reader r;
	struct err e = ERR_INIT;
	(void)state;
	assert_int_equal(csv_open_stream(&r, f, "t.csv", CSV_FORMAT_CSV, &e), 0);
	assert_int_equal(csv_next(&r, &e), 1);
	assert_int_equal(r.n_fields, 1);
	assert_int_equal(csv_next(&r, &e), 1);
	assert_int_equal(r.n_fields, 3);
	assert_int_equal(r.line, 3);
	csv_close(&r);
	fclose(f);
	err_release(&e);
}

static void expect_error(const char *in, const char *msg)
{
	FILE *f = mem(in);
	struct csv_reader r;
	struct err e = ERR_INIT;
	int k = csv_open_stream(&r, f, "t.csv", CSV_FORMAT_CSV, &e);
	if (k == 0) {
		r.max_field = 8;
		while ((k = csv_next(&r, &e)) > 0)
			;
		csv_close(&r);
	}
	assert_int_equal(k, -1);
	assert_int_equal(e.code, MLCI_EFAILED);
	if (!strstr(err_msg(&e), msg))
		fail_msg("'%s' does not contain '%s'", err_msg(&e), msg);
	fclose(f);
	err_release(&e);
}

static void test_errors_name_the_line(void **state)
{
	(void)state;
	expect_error("a,b\n1,2\n3,\"op\ns\n", "t.csv:3: unterminated quoted field");
	expect_error("a,b\n1,\"x\"y\n", "t.csv:2: text after the closing quote");
	expect_error("a,b\n1,2\n\n123456789,1\n", "t.csv:4: field 1 is longer than 8 bytes");
	expect_error("", "t.csv: empty file: no header");
	expect_error("\"a\n", "t.csv:1: unterminated quoted field");
}

static void test_jsonl(void **state)
{
	FILE *f = mem(
		"{\"a\": 1, \"b\": \"x\", \"c\": true}\n\n{\"b\": \"y,z\", \"a\": 2.5, \"c\": null}\n{\"a\": [1]}\n");
	struct csv_reader r;
	struct err e = ERR_INIT;
	(void)state;
	assert_int_equal(csv_open_stream(&r, f, "t.jsonl", CSV_FORMAT_JSONL, &e), 0);
	assert_int_equal(r.n_names, 3);
	assert_string_equal(r.names[1], "b");
	assert_int_equal(csv_next(&r, &e), 1);
	assert_int_equal(r.line, 1);
	assert_string_equal(r.fields[0].ptr, "1");
	assert_string_equal(r.fields[1].ptr, "x");
	assert_string_equal(r.fields[2].ptr, "true");
	assert_int_equal(csv_next(&r, &e), 1);
	assert_int_equal(r.line, 3);
	assert_string_equal(r.fields[0].ptr, "2.5");
	assert_string_equal(r.fields[1].ptr, "y,z");
	assert_int_equal(r.fields[2].len, 0);
	assert_int_equal(r.fields[2].quoted, 0);
	assert_int_equal(csv_next(&r, &e), 1);
	assert_string_equal(r.fields[0].ptr, "[1]");
	assert_null(r.fields[1].ptr); /* missing key */
	assert_int_equal(csv_next(&r, &e), 0);
	csv_close(&r);
	fclose(f);
	err_release(&e);
}

/* Records spanning the 1 MiB read blocks, quoted and not, with CRLF: every field comes back intact. */
static void test_large_file_spans_blocks(void **state)
{
	char path[] = "/tmp/mlci-test-csv-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct csv_reader r;
	struct err e = ERR_INIT;
	long n = 0;
	char want[64];
	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("id,text,num\r\n", f);
	for (long i = 0; i < 120000; i++)
		fprintf(f, "%ld,\"row \"\"%ld\"\"\nnext\",%ld.5\r\n", i, i, i * 3);
	fclose(f);
	assert_int_equal(csv_open(&r, path, &e), 0);
	while (csv_next(&r, &e) == 1) {
		assert_int_equal(r.n_fields, 3);
		assert_int_equal(strtol(r.fields[0].ptr, NULL, 10), n);
		snprintf(want, sizeof(want), "row \"%ld\"\nnext", n);
		assert_string_equal(r.fields[1].ptr, want);
		assert_int_equal(r.line, 2 + 2 * (uint64_t)n);
		n++;
	}
	assert_int_equal(e.code, MLCI_OK);
	assert_int_equal(n, 120000);
	csv_close(&r);
	unlink(path);
	err_release(&e);
}

/* A record larger than the 1 MiB read block grows the buffer; max_field still bounds a field. */
static void test_record_larger_than_block(void **state)
{
	char path[] = "/tmp/mlci-test-csv-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct csv_reader r;
	struct err e = ERR_INIT;
	size_t big = 3u << 20;
	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("a,b\n1,\"", f);
	for (size_t i = 0; i < big; i++)
		fputc(i % 1000 == 999 ? '\n' : 'x', f);
	fputs("\"\n2,y\n", f);
	for (size_t i = 0; i < big; i++)
		fputc('z', f);
	fputs(",3\n", f);
	fclose(f);
	assert_int_equal(csv_open(&r, path, &e), 0);
	r.max_field = 4u << 20;
	assert_int_equal(csv_next(&r, &e), 1);
	assert_int_equal(r.fields[1].len, big);
	assert_int_equal(csv_next(&r, &e), 1);
	assert_int_equal(r.line, 3 + big / 1000); /* record 2 starts on line 2 and holds big / 1000 newlines */
	assert_string_equal(r.fields[1].ptr, "y");
	r.max_field = 1u << 20;
	assert_int_equal(csv_next(&r, &e), -1);
	if (!strstr(err_msg(&e), ": field 1 is longer than 1048576 bytes"))
		fail_msg("%s", err_msg(&e));
	csv_close(&r);
	unlink(path);
	err_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4180),
		cmocka_unit_test(test_bom_blank_lines_and_trailing_comma),
		cmocka_unit_test(test_field_count_mismatch_is_returned),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_jsonl),
		cmocka_unit_test(test_large_file_spans_blocks),
		cmocka_unit_test(test_record_larger_than_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
