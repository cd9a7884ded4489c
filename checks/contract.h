/* contract.h - API contract cases (the YAML files under contracts/): request -> expected status, JSON values, types,
 * ranges and lengths at dotted paths, and latency; parsed with file:line:col errors, run with libcurl.
 * JSON paths: contract_path.c; case files: contract_parse.c (over contract_yaml.c), contract_load.c; checking
 * a response: contract_match.c; sending a case: contract_run.c. */
#ifndef MLCI_CONTRACT_H
#define MLCI_CONTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/strvec.h"

struct cJSON;

#define CONTRACT_MAX_BYTES (1024 * 1024) /* larger case files are refused before parsing */
#define CONTRACT_MAX_DEPTH 64            /* YAML/JSON nesting limit */
#define CONTRACT_MAX_NODES 200000        /* JSON values built from one file (aliases included) */
#define CONTRACT_MAX_FILES 1000          /* case files in one directory */

/*
 * A JSON path (docs/service.md "Contract cases"): segments separated by '.', array indexes in
 * brackets: "outputs[1].data[0]". "[*]" matches every element of an array (or member of an object);
 * ["a.b"] names a key that holds '.', '[' or ']'. "" or "$" is the whole body; a leading "$." is
 * allowed.
 */
enum contract_seg_kind { CONTRACT_SEG_KEY, CONTRACT_SEG_INDEX, CONTRACT_SEG_ALL };

struct contract_seg {
	enum contract_seg_kind kind;
	char *key; /* CONTRACT_SEG_KEY; owned */
	size_t index;
};

struct contract_path {
	struct contract_seg *segs; /* owned */
	size_t n;
};

/* Parse "text"; -1 with the reason in "why" (e.g. "unterminated '['" ). */
int contract_path_parse(const char *text, struct contract_path *out, struct buf *why);
void contract_path_release(struct contract_path *p);

/* Call "fn" for each value "p" selects in "root", with the concrete path ("outputs[1].data[0]").
 * Returns how many matched. */
size_t contract_path_each(const struct cJSON *root, const struct contract_path *p,
			  void (*fn)(const struct cJSON *v, const char *where, void *payload), void *payload);

/* JSON types a matcher can require. */
enum contract_type {
	CONTRACT_T_ANY = 0,
	CONTRACT_T_STRING,
	CONTRACT_T_NUMBER,
	CONTRACT_T_INTEGER,
	CONTRACT_T_BOOLEAN,
	CONTRACT_T_NULL,
	CONTRACT_T_ARRAY,
	CONTRACT_T_OBJECT,
};
const char *contract_type_name(enum contract_type t);

/* One "path: matcher" entry of expect.json. A scalar or sequence in the file is "equals". */
struct contract_expect {
	char *text; /* the path as written; owned */
	struct contract_path path;
	unsigned line, col;
	struct cJSON *equals; /* exact value (deep equality, numbers as doubles); owned; NULL = none */
	struct cJSON *one_of; /* array of allowed values; owned; NULL = none */
	enum contract_type type;
	int has_min, has_max;
	double min, max;               /* inclusive bounds on a number */
	int64_t len, min_len, max_len; /* length of an array, string or object; -1 = not given */
	char *contains;                /* substring of a string value; owned; NULL = none */
	int exists;                    /* 1 (default): the path must select something; 0: it must select nothing */
};

/* Allowed statuses as inclusive ranges: 200 -> [200,200], "4xx" -> [400,499]. */
struct contract_status {
	long lo, hi;
};

struct contract_case {
	char *name; /* owned */
	char *file; /* display name of the case file; owned */
	unsigned line, col;
	char *method;          /* "GET", "POST", ...; owned */
	char *path;            /* starts with '/'; owned */
	struct strvec headers; /* "Name: value" */
	char *body;            /* the request body (JSON text, or raw text); owned; NULL = none */
	size_t body_len;
	struct contract_status *status; /* owned; at least one (default 2xx) */
	size_t n_status;
	struct contract_expect *json; /* owned */
	size_t n_json;
	double max_latency_ms; /* 0 = not checked */
	int64_t timeout_ms;    /* 0 = the runner's default */
};

struct contract_cases {
	struct contract_case *items; /* owned */
	size_t n, alloc;
};

#define CONTRACT_CASES_INIT                                                                                            \
	{                                                                                                              \
		NULL, 0, 0                                                                                             \
	}

/* Parse "len" bytes of a case file ("file" is the display name). Cases are appended to "out"; every
 * problem is appended to "diags" as "FILE:LINE:COL: message" and the function returns -1 (the cases
 * of that file are then not appended). */
int contract_parse_buffer(struct contract_cases *out, const char *data, size_t len, const char *file,
			  struct strvec *diags);
/* Read and parse "path": a case file, or a directory whose *.yaml / *.yml files are read in name
 * order. "display" prefixes names in messages (NULL = "path"). I/O problems are diags too. */
int contract_load(struct contract_cases *out, const char *path, const char *display, struct strvec *diags);
void contract_cases_release(struct contract_cases *c);

/* The outcome of one case. */
struct contract_result {
	int passed;
	long status; /* 0 = no answer */
	double latency_ms;
	struct strvec problems; /* one line each: "outputs[0].shape[0]: expected 2, got 1" */
};

void contract_result_init(struct contract_result *r);
void contract_result_release(struct contract_result *r);

/* Compare a response (status, latency, body) with case "c", appending every mismatch to r->problems.
 * Pure: no I/O (unit tests use it directly). Returns the number of problems added. */
size_t contract_check_response(const struct contract_case *c, long status, double latency_ms, const char *body,
			       size_t body_len, struct contract_result *r);

/* Send case "c" to "base_url" (e.g. "http://127.0.0.1:8080"; a trailing '/' is allowed) and check the
 * answer. "timeout_ms" applies when the case sets none (0 = 10 s). No answer is a problem, not an
 * error. Never fails otherwise; r->passed says the outcome. */
void contract_run_case(const char *base_url, const struct contract_case *c, int64_t timeout_ms,
		       struct contract_result *r);

/* Compact JSON text of "v", cut to "max" bytes with "..." (for messages). */
void contract_json_text(const struct cJSON *v, size_t max, struct buf *out);

#endif
