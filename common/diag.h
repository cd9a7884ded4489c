/* diag.h - the one diagnostics type: problems found in a file, each at a line and column with a key path,
 * rendered "FILE:LINE:COL: KEY: MESSAGE". It collects and formats; it never prints. */
#ifndef MLCI_DIAG_H
#define MLCI_DIAG_H

#include <stdarg.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/strvec.h"

#define DIAGS_MAX 200 /* the default cap: past it, one "too many errors" item ends the list */

/* Where something is in a file: 1-based, as editors count. Line 0 means the file as a whole. */
struct diag_pos {
	unsigned line;
	unsigned col;
};

/* One problem. */
struct diag {
	struct diag_pos pos;
	char *key; /* dotted key path, e.g. "components.train.needs[0]"; "" for none; owned */
	char *msg; /* e.g. "unknown component \"ingst\" (did you mean \"ingest\"?)"; owned */
};

struct diags {
	char *file;         /* display name used in messages, e.g. "mlci.yaml"; owned; NULL until set */
	struct diag *items; /* in the order added (diags_sort orders them by position); owned */
	size_t n, alloc;
	/* How items are added (diags_init sets the safe defaults): */
	size_t max;   /* DIAGS_MAX; past it one "too many errors; stopping here" item ends the list; 0 = none */
	int verbatim; /* 0: control characters are escaped and each "quoted" run is cut to 64 characters, so
		       * a hostile file cannot garble a terminal; 1: key and message are kept as given */
};

void diags_init(struct diags *d);
void diags_release(struct diags *d);
/* Set the display name (a copy) used by diag_format. */
void diags_set_file(struct diags *d, const char *file);
/* Append a problem at "pos" (line 0: the whole file) under key path "key" (NULL or "" for none). */
void diags_add(struct diags *d, struct diag_pos pos, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diags_vadd(struct diags *d, struct diag_pos pos, const char *key, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* Order the items added since index "from" by position, stably; a final "too many errors" item stays
 * last. */
void diags_sort(struct diags *d, size_t from);
/* Append "FILE:LINE:COL: KEY: MESSAGE" for item "i" to "out" (":LINE:COL" only when line > 0, "KEY: "
 * only when there is a key); nothing when "i" is out of range. */
void diag_format(const struct diags *d, size_t i, struct buf *out);
/* Push every item, formatted, onto "out" (for callers that keep lines of text). */
void diags_to_strvec(const struct diags *d, struct strvec *out);

#endif
