/* fuzz_csv.c - libFuzzer harness for the CSV and JSON Lines reader: bytes through an fmemopen stream;
 * CSV records are compared with a byte-at-a-time reference tokeniser. It must not touch the filesystem. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference: the rules of checks/csv.h read one byte at a time. Returns 1 with the record's fields
 * (bytes into "out", lengths into "lens"), 0 at end, -1 on malformed input. */
struct ref {
	const uint8_t *d;
	size_t n, i;
	uint64_t line;
};

static int ref_next(struct ref *r, size_t max_field, char *out, size_t *lens, size_t *nf, uint64_t *start)
{
	size_t o = 0;
	*nf = 0;
	for (;;) {
		if (r->i >= r->n)
			return 0;
		if (r->d[r->i] == '\n') {
			r->i++;
			r->line++;
		} else if (r->d[r->i] == '\r') {
			if (r->i + 1 < r->n && r->d[r->i + 1] == '\n') {
				r->i++;
				r->line++;
			}
			r->i++;
		} else {
			break;
		}
	}
	*start = r->line;
	for (;;) {
		size_t len = 0;
		if (r->i < r->n && r->d[r->i] == '"') {
			size_t raw = 0;
			r->i++;
			for (;;) {
				if (r->i >= r->n)
					return -1;
				if (r->d[r->i] == '"') {
					if (r->i + 1 < r->n && r->d[r->i + 1] == '"') {
						out[o + len++] = '"';
						r->i += 2;
						raw += 2;
						continue;
					}
					r->i++;
					break;
				}
				if (r->d[r->i] == '\n')
					r->line++;
				out[o + len++] = (char)r->d[r->i++];
				raw++;
			}
			if (raw > max_field)
				return -1;
			lens[(*nf)++] = len;
			o += len;
			if (r->i >= r->n)
				return 1;
			if (r->d[r->i] == ',') {
				r->i++;
				continue;
			}
			if (r->d[r->i] == '\n') {
				r->i++;
				r->line++;
				return 1;
			}
			if (r->d[r->i] == '\r' && r->i + 1 < r->n && r->d[r->i + 1] == '\n') {
				r->i += 2;
				r->line++;
				return 1;
			}
			return -1;
		}
		for (;;) {
			if (r->i >= r->n)
				break;
			if (r->d[r->i] == ',' || r->d[r->i] == '\n')
				break;
			if (r->d[r->i] == '\r' && r->i + 1 < r->n && r->d[r->i + 1] == '\n')
				break;
			out[o + len++] = (char)r->d[r->i++];
		}
		if (len > max_field)
			return -1;
		lens[(*nf)++] = len;
		o += len;
		if (r->i >= r->n)
			return 1;
		if (r->d[r->i] == ',') {
			r->i++;
			continue;
		}
		r->i += r->d[r->i] == '\r' ? 2 : 1;
		r->line++;
		return 1;
	}
}

/* Mode bits 4 (without 1): the same CSV through csv_columns (2 threads, 64-byte reads so that batches
 * cross buffer swaps); every record must reach the batches with the reference's fields and line. The
 * reference's records are all read first, so the callbacks (on two threads) only read them. */
struct cols_check {
	size_t n_rows, kept;
	int ref_end; /* what the reference ended with: 0 end of file, -1 malformed */
	char **rows; /* each record's fields, back to back */
	size_t **row_lens;
	size_t *row_nf;
	uint64_t *row_line;
};

static int cols_keep(void *arg, const struct csv_reader *r)
{
	struct cols_check *c = arg;
	size_t k = c->kept++;
	if (k >= c->n_rows || c->row_nf[k] != r->n_fields || c->row_line[k] != r->line)
		__builtin_trap();
	return 1;
}

static void cols_column(void *arg, size_t from, size_t to, const struct csv_batch *b)
{
	const struct cols_check *c = arg;
	for (size_t i = 0; i < b->n_rows; i++) {
		size_t lo = 0, hi = c->n_rows, k, o = 0;
		while (lo < hi) { /* lines increase strictly from record to record */
			size_t mid = lo + (hi - lo) / 2;
			if (c->row_line[mid] < b->lines[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		k = lo;
		if (k >= c->n_rows || c->row_line[k] != b->lines[i])
			__builtin_trap();
		for (size_t j = 0; j < to; j++) {
			const struct csv_field *f = &b->f[i * b->n_cols + j];
			size_t len = j < c->row_nf[k] ? c->row_lens[k][j] : 0;
			if (j >= from && (j >= c->row_nf[k] ? f->ptr != NULL
							    : (f->len != len || memcmp(f->ptr, c->rows[k] + o, len) ||
							       f->ptr[len] != '\0')))
				__builtin_trap();
			o += len;
		}
	}
}

static void cols_run(const uint8_t *data, size_t size, size_t max_field)
{
	struct csv_reader r;
	struct err e = ERR_INIT;
	struct cols_check c;
	struct ref ref;
	size_t map[4] = { 0, 1, 2, 3 }, nf;
	uint64_t start;
	char *out = malloc(size + 1);
	size_t *lens = malloc((size + 2) * sizeof(*lens));
	FILE *f = fmemopen((void *)data, size, "r");
	int k, header;
	memset(&c, 0, sizeof(c));
	ref.d = data;
	ref.n = size;
	ref.i = size >= 3 && !memcmp(data, "\xef\xbb\xbf", 3) ? 3 : 0;
	ref.line = 1;
	header = ref_next(&ref, CSV_MAX_FIELD_DEFAULT, out, lens, &nf, &start);
	while (header == 1 && (k = ref_next(&ref, max_field, out, lens, &nf, &start)) == 1) {
		size_t o = 0;
		for (size_t i = 0; i < nf; i++)
			o += lens[i];
		c.rows = realloc(c.rows, (c.n_rows + 1) * sizeof(*c.rows));
		c.row_lens = realloc(c.row_lens, (c.n_rows + 1) * sizeof(*c.row_lens));
		c.row_nf = realloc(c.row_nf, (c.n_rows + 1) * sizeof(*c.row_nf));
		c.row_line = realloc(c.row_line, (c.n_rows + 1) * sizeof(*c.row_line));
		c.rows[c.n_rows] = malloc(o + 1);
		memcpy(c.rows[c.n_rows], out, o);
		c.row_lens[c.n_rows] = malloc((nf + 1) * sizeof(size_t));
		memcpy(c.row_lens[c.n_rows], lens, nf * sizeof(size_t));
		c.row_nf[c.n_rows] = nf;
		c.row_line[c.n_rows] = start;
		c.n_rows++;
		c.ref_end = 0;
	}
	if (header == 1)
		c.ref_end = k;
	if (f) {
		csv_io_size = 64; /* small reads: many buffer swaps */
		k = csv_open_stream(&r, f, "fuzz", CSV_FORMAT_CSV, &e);
		csv_io_size = CSV_IO_SIZE;
		if ((k == 0) != (header == 1))
			__builtin_trap();
		if (k == 0) {
			r.max_field = max_field;
			k = csv_columns(&r, map, 4, cols_keep, cols_column, &c, 2, &e);
			if (k != c.ref_end || c.kept != c.n_rows)
				__builtin_trap();
			csv_close(&r);
		}
		fclose(f);
	}
	for (size_t i = 0; i < c.n_rows; i++) {
		free(c.rows[i]);
		free(c.row_lens[i]);
	}
	free(c.rows);
	free(c.row_lens);
	free(c.row_nf);
	free(c.row_line);
	free(out);
	free(lens);
	err_release(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader r;
	struct err e = ERR_INIT;
	struct ref ref;
	FILE *f;
	int mode, k, rk;
	size_t max_field, nf, *lens;
	char *out;
	uint64_t start;
	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	max_field = (mode & 2) ? 16 : CSV_MAX_FIELD_DEFAULT;
	if ((mode & 5) == 4) {
		if (size)
			cols_run(data, size, max_field);
		return 0;
	}
	f = fmemopen(size ? (void *)data : (void *)"", size ? size : 1, "r");
	if (!f)
		return 0;
	if (!size)
		(void)fgetc(f); /* an empty stream */
	ref.d = data;
	ref.n = size;
	ref.i = size >= 3 && !memcmp(data, "\xef\xbb\xbf", 3) ? 3 : 0;
	ref.line = 1;
	out = malloc(size + 1);
	lens = malloc((size + 2) * sizeof(*lens));
	k = csv_open_stream(&r, f, "fuzz", (mode & 1) ? CSV_FORMAT_JSONL : CSV_FORMAT_CSV, &e);
	if (!(mode & 1)) {
		rk = ref_next(&ref, CSV_MAX_FIELD_DEFAULT, out, lens, &nf, &start);
		if ((k == 0) != (rk == 1))
			__builtin_trap(); /* header read by one and not the other */
	}
	if (k == 0) {
		r.max_field = max_field;
		for (;;) {
			k = csv_next(&r, &e);
			if (!(mode & 1)) {
				size_t o = 0;
				rk = ref_next(&ref, max_field, out, lens, &nf, &start);
				if (k != rk)
					__builtin_trap();
				if (k != 1)
					break;
				if (nf != r.n_fields || start != r.line)
					__builtin_trap();
				for (size_t i = 0; i < nf; i++) {
					if (lens[i] != r.fields[i].len || memcmp(out + o, r.fields[i].ptr, lens[i]) ||
					    r.fields[i].ptr[lens[i]] != '\0')
						__builtin_trap();
					o += lens[i];
				}
			} else if (k != 1) {
				break;
			}
		}
		csv_close(&r);
	}
	free(out);
	free(lens);
	fclose(f);
	err_release(&e);
	return 0;
}
