/* csv_spans.h - the plain records of a mapped CSV file read in parallel spans, straight from the
 * mapping, each span into a state of its own that is merged in file order; the reader takes over at
 * the first record that is not plain. Used by data check (checks/schema_check.c) and the statistics
 * of a file (checks/stats_file.c).
 *
 * A regular file is mapped and its data cut at line starts into spans that the threads take from a
 * queue; a thread tokenises a span as long as the records are plain (no '"', no lone CR, fields within
 * the reader's max_field): without quotes every line break ends a record, so every span starts at a
 * record and the spans together read exactly what the reader would. At the first record that is not
 * plain, a span stops; the states of the spans before it and of its part are merged in file order, and
 * the reader (csv_resume) takes the rest of the file from that record on. The last line without a line
 * break is the reader's too. */
#ifndef MLCI_CSV_SPANS_H
#define MLCI_CSV_SPANS_H

#include <stddef.h>
#include <stdint.h>

#include "checks/csv.h"
#include "common/error.h"

/* Smallest span worth a thread (1 MiB); tests and fuzzers lower it. */
extern size_t csv_span_min;

struct csv_span_ops {
	/* A new state for span "index" (0-based, in file order), on the thread about to read it. */
	void *(*open)(void *arg, size_t index);
	/* One plain record of the span, on the span's thread: "nf" fields, the first "cap" (see
	 * csv_spans_run) at fp[i] with fl[i] bytes; "line" counts from 0 at the span's first line. The
	 * mapping is readable up to "limit" (the fields are not NUL-terminated). */
	void (*record)(void *state, const char *const *fp, const size_t *fl, size_t nf, uint64_t line,
		       const char *limit);
	/* In file order, for each span whose records count: fold "state" into "arg"; its lines are after
	 * "line_base" lines of the file. Called on whichever span thread finishes the span that makes it
	 * due, one call at a time (under a lock), so that only a few states are alive at once. */
	void (*merge)(void *arg, void *state, uint64_t line_base);
	/* Release "state" (every opened span's, merged or not), right after its merge is due. */
	void (*close)(void *state);
};

/* Read the plain records of data[csv_offset(r), len) (the mapping of r's stream) in spans on "threads"
 * threads (at least csv_span_min bytes each, at most 8 per thread), merge their states into "arg" and
 * set the reader to go on after them (csv_resume). "cap": fields kept per record (the header's count).
 * "drop": data is a private file mapping whose pages may be given back as they are read. Returns 0, or
 * -1 (MLCI_EINFRA) when the file shrank under the mapping or the stream cannot seek. */
int csv_spans_run(struct csv_reader *r, const char *data, size_t len, int threads, size_t cap, int drop,
		  const struct csv_span_ops *ops, void *arg, struct err *e);

/* Map the regular file open as "f" (read-only, sequential); NULL (and *len 0) when it is not a regular
 * non-empty file or cannot be mapped: the caller then reads it with the reader alone. */
const char *csv_map_file(FILE *f, size_t *len);

#endif
