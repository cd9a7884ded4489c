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

/* csv_columns: the same fields, rows and lines as a plain csv_next loop, for 1 to 3 threads, on a
 * file of ~5 MB with quoted fields, embedded line breaks, blank lines, bad rows and records longer
 * than the 1 MiB read block (so batches cross buffer swaps and buffer growth). */
struct digest {
	uint64_t h[8]; /* per column: hash of (line, value) in row order */
	uint64_t rows, bad;
};

static uint64_t mix(uint64_t h, const char *p, size_t n, uint64_t line, int quoted)
{
	h = (h ^ line) * 1099511628211ull;
	h = (h ^ (uint64_t)quoted) * 1099511628211ull;
	if (!p)
		return (h ^ 0xabcdefull) * 1099511628211ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return (h ^ n) * 1099511628211ull;
}

static int dg_keep(void *arg, const struct csv_reader *r)
{
	struct digest *d = arg;
	if (r->n_fields == 2) {
		d->bad++;
		return 0;
	}
	d->rows++;
	return 1;
}

static void dg_cols(void *arg, size_t from, size_t to, const struct csv_batch *b)
{
	struct digest *d = arg;
	for (size_t i = 0; i < b->n_rows; i++)
		for (size_t j = from; j < to; j++) {
			const struct csv_field *f = &b->f[i * b->n_cols + j];
			d->h[j] = mix(d->h[j], f->ptr, f->len, b->lines[i], f->quoted);
		}
}

static void test_columns_match_sequential(void **state)
{
	char path[] = "/tmp/mlci-test-csvcols-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	size_t map[5] = { 4, 0, 2, 3, 1 }; /* out of order on purpose; field 4 is absent in short rows */
	struct digest want, got;
	struct csv_reader r;
	struct err e = ERR_INIT;
	uint64_t seed = 7;
	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("a,b,c,d,e\n", f);
	for (int i = 0; i < 60000; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		switch ((seed >> 33) % 16) {
		case 0:
			fprintf(f, "%d,\"q,\"\"x\"\"\ny\",,%d,z\r\n", i, i * 3);
			break;
		case 1:
			fputs("\n", f); /* blank line */
			break;
		case 2:
			fprintf(f, "%d,bad\n", i); /* 2 fields: left out by keep */
			break;
		case 3:
			fprintf(f, "%d,1,2,3\n", i); /* 4 fields: the fifth is absent */
			break;
		case 4:
			if (i % 1000 == 4) {            /* now and then a field longer than the read block */
				fprintf(f, "%d,\"", i); /* two fields of 700 kB: a record of 1.4 MB */
				for (int k = 0; k < 140000; k++)
					fputs("ab\nc", f);
				fputs("\",x,\"", f);
				for (int k = 0; k < 140000; k++)
					fputs("a\"\"\nc", f);
				fputs("\",z\n", f);
				break;
			}
			/* fall through */
		default:
			fprintf(f, "%d,%llu,v%d,%.3f,\"\"\n", i, (unsigned long long)(seed >> 40), i % 7,
				(double)i / 7);
		}
	}
	fputs("last,1,2,3,4", f); /* no final newline */
	fclose(f);

	memset(&want, 0, sizeof(want));
	assert_int_equal(csv_open(&r, path, &e), 0);
	while (csv_next(&r, &e) == 1) {
		if (!dg_keep(&want, &r))
			continue;
		for (size_t j = 0; j < 5; j++) {
			const struct csv_field *fl = map[j] < r.n_fields ? &r.fields[map[j]] : NULL;
			want.h[j] = mix(want.h[j], fl ? fl->ptr : NULL, fl ? fl->len : 0, r.line, fl ? fl->quoted : 0);
		}
	}
	assert_string_equal(err_msg(&e), "");
	csv_close(&r);
	assert_true(want.rows > 50000);
	for (int threads = 1; threads <= 3; threads++) {
		memset(&got, 0, sizeof(got));
		assert_int_equal(csv_open(&r, path, &e), 0);
		assert_int_equal(csv_columns(&r, map, 5, dg_keep, dg_cols, &got, threads, &e), 0);
		csv_close(&r);
		assert_int_equal(got.rows, want.rows);
		assert_int_equal(got.bad, want.bad);
		for (size_t j = 0; j < 5; j++)
			assert_true(got.h[j] == want.h[j]);
	}
	/* an error stops it with the reader's message, the rows before it processed */
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("\n1,\"unterminated\n", f);
	fclose(f);
	memset(&got, 0, sizeof(got));
	assert_int_equal(csv_open(&r, path, &e), 0);
	assert_int_equal(csv_columns(&r, map, 5, dg_keep, dg_cols, &got, 2, &e), -1);
	assert_non_null(strstr(err_msg(&e), "unterminated quoted field"));
	assert_int_equal(got.rows, want.rows);
	csv_close(&r);
	err_release(&e);
	unlink(path);
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
		cmocka_unit_test(test_columns_match_sequential),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
