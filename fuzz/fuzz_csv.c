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
