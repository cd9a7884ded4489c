/* csv.h - streaming CSV (RFC 4180) and JSON Lines reader: one record at a time, bounded memory.
 * It tokenises only; types, schemas and statistics are checks/schema.c's and checks/stats.c's job. */
#ifndef MLCI_CSV_H
#define MLCI_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/error.h"

enum csv_format { CSV_FORMAT_CSV, CSV_FORMAT_JSONL };

#define CSV_MAX_FIELD_DEFAULT ((size_t)1 << 20)   /* longest field, bytes */
#define CSV_MAX_COLUMNS       100000              /* most fields in one record */
#define CSV_IO_SIZE           ((size_t)1 << 20)   /* read buffer: reads are this large, never per char */
#define CSV_MAX_RECORD        ((size_t)256 << 20) /* longest CSV record, bytes (the read buffer grows to it) */

/* CSV: bytes readable (initialised, contents unspecified) after the NUL that ends every field, so that
 * a value parser may load 16 bytes at a time without a bounds check (checks/decimal.h). */
#define CSV_PAD 32

/* A field of the current record; valid until the next csv_next call. */
struct csv_field {
	const char *ptr; /* NUL-terminated; quotes removed, "" unescaped. JSON Lines: NULL for a missing key */
	size_t len;
	int quoted; /* the field was quoted in the file ("" is then an empty string, not a null); JSON Lines:
		       the value was a JSON string */
};

/*
 * Reading rules (documented in docs/checks.md):
 * - CSV: fields separated by ',', records by LF or CRLF (a lone CR is data); a field starting with '"'
 *   is quoted and may hold ',', '"' (written "") and line breaks; the last record may lack a newline.
 *   A UTF-8 byte-order mark at the start is skipped. Blank lines are skipped. A '"' inside an unquoted
 *   field is kept as data (as Python's csv module does).
 * - Errors (csv_next returns -1, e->code MLCI_EFAILED, message "FILE:LINE: ..."): an unterminated quoted
 *   field (LINE = where it started), text after a closing quote, a field longer than max_field, more
 *   than CSV_MAX_COLUMNS fields, a record longer than max_record; a read error is MLCI_EINFRA.
 * - A record with a different number of fields than the header is NOT an error: csv_next returns it with
 *   n_fields != n_names and the caller decides (the schema check reports it as a "bad_row" anomaly).
 * - JSON Lines: one object per line, blank lines skipped; the header is the keys of the first object in
 *   order; later keys not in the header are ignored; values: strings as is (quoted = 1), numbers in
 *   shortest round-trip form, true/false, null as an empty unquoted field, arrays/objects as compact JSON.
 */
struct csv_reader {
	enum csv_format format;
	FILE *f;    /* owned when opened by csv_open */
	char *path; /* owned; for messages */
	/* the header: column names, owned */
	char **names;
	size_t n_names;
	/* the current record */
	struct csv_field *fields;
	size_t n_fields, alloc_fields;
	uint64_t line;    /* 1-based line where the current record starts */
	uint64_t records; /* data records read so far (header excluded) */
	size_t max_field; /* longest field allowed, bytes (default CSV_MAX_FIELD_DEFAULT) */
	uint64_t bytes;   /* bytes read from the file so far */
	/* internal */
	struct buf rec; /* JSON Lines: bytes of the current record, each field NUL-terminated */
	size_t *offsets;
	unsigned char *quoted; /* per field of the record being read */
	size_t *ends;          /* CSV: where each field ends in iobuf */
	size_t io_cap;         /* iobuf holds io_cap + 1 bytes */
	size_t max_record;     /* the longest CSV record (default CSV_MAX_RECORD) */
	size_t alloc_offsets;
	char *iobuf;
	size_t io_len, io_pos;
	uint64_t next_line;
	int eof;
	int own_file;
	int started; /* BOM check done */
	void *json;  /* JSON Lines: the parsed current object (cJSON *) */
	/* double buffering (csv_columns): fill() copies the unread bytes into "alt" and swaps, so records
	 * read before the swap stay valid until the next one; before_swap runs first */
	char *alt;
	size_t alt_cap;
	uint64_t swaps;
	void (*before_swap)(void *arg);
	void *swap_arg;
};

/* Read size of new readers (CSV_IO_SIZE); tests and fuzzers lower it to make records cross blocks. */
extern size_t csv_io_size;

/* Open "path" (format from the extension: .jsonl/.ndjson = JSON Lines, else CSV) and read the header
 * (CSV: the first record; JSON Lines: the keys of the first object, in order). An empty file is an
 * error ("no header"). */
int csv_open(struct csv_reader *r, const char *path, struct err *e);
/* The format of "path" by its extension: .jsonl/.ndjson = JSON Lines, else CSV. */
enum csv_format csv_path_format(const char *path);
/* The same over an open stream "f" (not closed by csv_close); "name" is used in messages. */
int csv_open_stream(struct csv_reader *r, FILE *f, const char *name, enum csv_format format, struct err *e);
/* Read the next record into r->fields. Returns 1 when a record was read, 0 at end of file, -1 on
 * malformed input ("data.csv:17: unterminated quoted field" etc.). For JSON Lines, fields follow the
 * header's order; a missing key gives a field with ptr NULL. CRLF and LF both end records. */
int csv_next(struct csv_reader *r, struct err *e);
void csv_close(struct csv_reader *r);

/* CSV: the offset in the stream of the next unread byte (after csv_open: where the data records start).
 * Not valid inside csv_columns. */
uint64_t csv_offset(const struct csv_reader *r);
/* CSV: go on reading at byte "offset" of the stream, the start of a record (or of a blank line) on line
 * "line", after "records" data records: for a caller that read the part before it by other means (the
 * parallel spans of checks/schema_check.c). The stream must be seekable; -1 (MLCI_EINFRA) otherwise. */
int csv_resume(struct csv_reader *r, uint64_t offset, uint64_t line, uint64_t records, struct err *e);

/*
 * Column-parallel processing of the rest of a CSV file. The calling thread tokenises records into
 * batches (a few thousand rows, all of one read block); each batch is then processed column by column,
 * the columns shared between "threads" threads (the caller and threads - 1 helpers), while the caller
 * already tokenises the next batch. Every column sees its rows in file order, one batch after the
 * other, and is never processed by two threads at once, so results are the same as a sequential loop.
 *
 * For each record, keep(arg, r) runs on the calling thread: 0 leaves the record out of the batch (e.g.
 * a bad row the caller counts itself), 1 keeps it. Batch column j is the record's field map[j], or a
 * field with ptr NULL when the record has fewer fields. column(arg, from, to, batch) then processes
 * columns [from, to) of every row of the batch, on any thread; each column is in exactly one such
 * range per batch. JSON Lines files (and threads <= 1) are processed the same way on the
 * calling thread only. Returns 0 at end of file, -1 on malformed input or a read error (e set; the
 * batches before the error have been processed).
 */
struct csv_batch {
	size_t n_rows, n_cols;
	const struct csv_field *f; /* n_rows * n_cols, row-major: row i column j is f[i * n_cols + j] */
	const uint64_t *lines;     /* line of each row */
};
typedef int (*csv_keep_fn)(void *arg, const struct csv_reader *r);
typedef void (*csv_column_fn)(void *arg, size_t col_from, size_t col_to, const struct csv_batch *b);
int csv_columns(struct csv_reader *r, const size_t *map, size_t n_cols, csv_keep_fn keep, csv_column_fn column,
		void *arg, int threads, struct err *e);
/* Threads worth using for csv_columns on this machine: the online CPUs, at most 4. */
int csv_default_threads(void);

#endif
