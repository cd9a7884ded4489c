/* yaml_doc.h - the YAML node toolkit every reader of a YAML file uses: load one document with libyaml's
 * document API from bounded input, then positions, kinds, scalars, mappings, sequences and key paths.
 * It knows no file format: it words only the limits it enforces, and leaves parser errors as data. */
#ifndef MLCI_YAML_DOC_H
#define MLCI_YAML_DOC_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "common/buf.h"
#include "common/diag.h"

/* What yaml_doc_load refuses; zero fields are no limit. */
struct yaml_doc_limits {
	size_t max_bytes; /* larger input is refused before parsing */
	int max_depth;    /* mappings and sequences nested deeper are refused (libyaml's scanner slows down
			   * quadratically with flow nesting) */
	int no_aliases;   /* "*name" is refused, so that a small file cannot stand for a huge tree */
	int one_document; /* a second document in the stream is refused */
};

enum yaml_doc_fail {
	YAML_DOC_OK = 0,
	YAML_DOC_TOO_LARGE, /* more than max_bytes: nothing was parsed */
	YAML_DOC_SYNTAX,    /* libyaml's scanner or parser stopped */
	YAML_DOC_ENCODING,  /* libyaml's reader stopped: invalid UTF-8 or a control character */
	YAML_DOC_NOMEM,     /* libyaml ran out of memory */
	YAML_DOC_REFUSED,   /* a limit of the document's shape: the diags say which and where */
};

/* Why a load failed, as data: each file format words parser errors its own way. */
struct yaml_doc_error {
	enum yaml_doc_fail kind;
	struct diag_pos pos;  /* where: the problem mark, or for YAML_DOC_ENCODING the byte offset as line:col */
	struct diag_pos mark; /* libyaml's problem mark as is (1:1 for YAML_DOC_ENCODING, which has none) */
	const char *problem;  /* libyaml's static text, or NULL */
	const char *context;  /* libyaml's static text, or NULL */
	struct diag_pos context_pos;
	int byte; /* YAML_DOC_ENCODING: the offending byte (0..255), or -1 */
};

struct yaml_doc {
	yaml_document_t doc;         /* libyaml's document; valid while "loaded" */
	int loaded;                  /* yaml_doc_release frees "doc" */
	yaml_node_t *root;           /* NULL when the stream holds no document */
	struct yaml_doc_error error; /* kind YAML_DOC_OK unless yaml_doc_load failed */
};

/* Load the first document of "len" bytes at "data" (NULL is empty input) under "lim". Shape limits
 * (depth, aliases, a second document) are checked in a first pass over the events, each violation a
 * diag with key "" added to "diags"; that pass goes on past aliases, so every alias is reported.
 * Returns 0 when loaded ("root" may be NULL), else -1 with d->error set. Either way the caller calls
 * yaml_doc_release. */
int yaml_doc_load(struct yaml_doc *d, const char *data, size_t len, const struct yaml_doc_limits *lim,
		  struct diags *diags);
void yaml_doc_release(struct yaml_doc *d);

/* Where node "n" starts, 1-based; 1:1 for NULL. */
struct diag_pos yaml_doc_pos(const yaml_node_t *n);
/* The node with id "id" (from a pair or an item), or NULL. */
yaml_node_t *yaml_doc_node(struct yaml_doc *d, int id);
/* "a mapping", "a sequence", "a scalar", or "nothing" for NULL. */
const char *yaml_doc_kind(const yaml_node_t *n);

/* Scalars. The text is NUL-terminated; yaml_doc_scalar_len counts NULs inside it too. */
const char *yaml_doc_scalar(const yaml_node_t *n); /* NULL when "n" is not a scalar */
size_t yaml_doc_scalar_len(const yaml_node_t *n);  /* 0 when "n" is not a scalar */
int yaml_doc_is_plain(const yaml_node_t *n);       /* a scalar written without quotes or block style */
/* A plain scalar spelled as YAML's null: "", "~", "null", "Null", "NULL". Quoted "" is not null. */
int yaml_doc_is_null(const yaml_node_t *n);

/* The YAML 1.2 core schema's spellings, on scalar text (the caller decides whether quotes matter).
 * Each returns 0 and sets *out, or -1 when "text" is not one. */
int yaml_doc_bool(const char *text, int *out);      /* true True TRUE false False FALSE */
int yaml_doc_int(const char *text, int64_t *out);   /* [+-]digits within int64 */
int yaml_doc_number(const char *text, double *out); /* [+-](D+(.D*)?|.D+)([eE][+-]?D+)?, finite */

/* Mappings and sequences: counts are 0 when "n" is not one; a node getter returns NULL past the end. */
size_t yaml_doc_map_len(const yaml_node_t *n);
yaml_node_t *yaml_doc_map_key(struct yaml_doc *d, const yaml_node_t *n, size_t i);
yaml_node_t *yaml_doc_map_value(struct yaml_doc *d, const yaml_node_t *n, size_t i);
size_t yaml_doc_seq_len(const yaml_node_t *n);
yaml_node_t *yaml_doc_seq_item(struct yaml_doc *d, const yaml_node_t *n, size_t i);

/* A key path for messages ("components.train.needs[0]") in "key": push returns a mark for pop. A NULL
 * or empty "name" pushes nothing; names after the first are joined with '.', indexes as "[i]". */
size_t yaml_doc_key_push(struct buf *key, const char *name);
size_t yaml_doc_key_push_index(struct buf *key, size_t i);
void yaml_doc_key_pop(struct buf *key, size_t mark);

#endif
