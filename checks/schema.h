/* schema.h - the data schema: its YAML file (parse, write), inference from data, and validation of a
 * dataset against it with per-column anomaly counts. No printing (cmd/schema.c and cmd/data.c print). */
#ifndef MLCI_SCHEMA_H
#define MLCI_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/strvec.h"

struct cJSON;

enum schema_type { SCHEMA_INT, SCHEMA_FLOAT, SCHEMA_STRING, SCHEMA_BOOL };

#define SCHEMA_DOMAIN_MAX       20        /* inference: a categorical domain when distinct values <= this */
#define SCHEMA_DOMAIN_VALUE_MAX 256       /* inference: longer values never make a domain */
#define SCHEMA_FIRST_LINES      5         /* line numbers kept per anomaly */
#define SCHEMA_MAX_BYTES        (1 << 20) /* largest schema file */

struct schema_column {
	char *name;
	enum schema_type type;
	int nullable; /* default false */
	int required; /* default true: a missing column is an anomaly */
	int warn;     /* anomalies of this column are warnings, not errors */
	int has_min, has_max;
	double min, max;
	char **domain; /* sorted (strcmp), owned; NULL when no domain */
	size_t n_domain;
	unsigned line, col; /* where the column is defined in the file (0 when inferred) */
};

enum schema_extra { SCHEMA_EXTRA_ERROR, SCHEMA_EXTRA_WARN, SCHEMA_EXTRA_IGNORE };

struct schema {
	struct schema_column *cols;
	size_t n_cols;
	enum schema_extra unexpected; /* `unexpected_columns:`; default error */
	int empty_warn;               /* `empty_dataset: warn`; default error */
};

void schema_init(struct schema *s);
void schema_release(struct schema *s);
const char *schema_type_name(enum schema_type t);

/* Parse a schema file's bytes; "file" names it in diagnostics. Every problem is appended to "diags" as
 * "FILE:LINE:COL: message"; returns 0 when valid, -1 otherwise. */
int schema_parse_buffer(struct schema *s, const char *data, size_t len, const char *file, struct strvec *diags);
/* Read "path" and parse it; an I/O error is one diagnostic "FILE: could not read: ...". */
int schema_parse_file(struct schema *s, const char *path, struct strvec *diags);
/* Write "s" in the file format (one flow mapping per column), loadable by schema_parse_buffer. */
void schema_write_yaml(const struct schema *s, const char *comment, struct buf *out);

/* Infer a schema from the CSV or JSON Lines file at "path" in one pass (docs/checks.md, "Inference").
 * "rows" receives the number of data records. */
int schema_infer_file(struct schema *s, const char *path, uint64_t *rows, struct err *e);

enum schema_anomaly_kind {
	ANOMALY_MISSING_COLUMN,
	ANOMALY_UNEXPECTED_COLUMN,
	ANOMALY_WRONG_TYPE,
	ANOMALY_OUT_OF_RANGE,
	ANOMALY_UNKNOWN_CATEGORY,
	ANOMALY_NULL,
	ANOMALY_EMPTY_DATASET,
	ANOMALY_BAD_ROW,
	ANOMALY_KINDS
};

struct schema_anomaly {
	char *column; /* "" for dataset-wide anomalies (empty_dataset, bad_row) */
	enum schema_anomaly_kind kind;
	int warn;       /* a warning, not an error */
	uint64_t count; /* rows (values) affected; 1 for column-level anomalies */
	uint64_t lines[SCHEMA_FIRST_LINES];
	size_t n_lines;
	char *example; /* the first offending value (cut to 64 bytes) or a detail, owned; may be NULL */
};

struct schema_report {
	char *data;     /* path of the data file */
	uint64_t rows;  /* data records */
	size_t columns; /* columns in the data's header */
	struct schema_anomaly *items;
	size_t n, alloc;
	size_t errors, warnings;
};

/* A `float` value: decimal notation only ([+-]digits[.digits][(e|E)[+-]digits], no hex, inf, nan or
 * spaces), "len" bytes followed by a NUL. Sets *out to exactly what strtod returns; 0 when the text is
 * not such a number or is out of the double range. */
int schema_parse_float(const char *v, size_t len, double *out);

const char *schema_anomaly_name(enum schema_anomaly_kind k);
/* Validate the data at "path" against "s" in one pass. Returns 0 when the data could be read to the end
 * (anomalies, even errors, are in "rep"), -1 on an I/O error or malformed CSV (e set). */
int schema_validate_file(const struct schema *s, const char *path, struct schema_report *rep, struct err *e);
/* schema_validate_file over the open stream "f" (named "name"; the format from its extension), with
 * "threads" threads; when "data" is not NULL, it holds the stream's "len" bytes (a mapping), and the
 * plain records are validated from it in parallel spans (checks/csv_spans.h). Tests and fuzzers compare it
 * with data NULL. */
int schema_validate_stream(const struct schema *s, FILE *f, const char *name, const char *data, size_t len, int threads,
			   struct schema_report *rep, struct err *e);
/* Share of rows affected: count / rows, 1.0 for missing/unexpected column and empty dataset. */
double schema_anomaly_share(const struct schema_report *rep, const struct schema_anomaly *a);
void schema_report_release(struct schema_report *rep);
/* The report as JSON: data, rows, columns, valid, errors, warnings, anomalies[]. */
struct cJSON *schema_report_json(const struct schema_report *rep);
/* The schema as JSON (for `mlci schema infer -o json`). */
struct cJSON *schema_json(const struct schema *s);

#endif
