/* parity.h - training/serving parity: send the rows the pipeline evaluated offline (parity.csv) to the
 * running service in batches and compare its answers with the offline predictions (predictions.csv). */
#ifndef MLCI_PARITY_H
#define MLCI_PARITY_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/strvec.h"

#define PARITY_MAX_ROWS  1000000 /* rows of parity.csv read at most */
#define PARITY_MAX_SHOWN 10      /* differing rows listed in the report */

struct cJSON;

struct parity_opts {
	const char *base_url;         /* "http://127.0.0.1:PORT" */
	const char *protocol;         /* "kserve-v2" | "tfserving-v1" */
	const char *model;            /* model name in the URLs */
	const char *data_path;        /* parity.csv: a header of feature names, one row per example */
	const char *predictions_path; /* predictions.csv: optional "row" (0-based row of parity.csv), then the
					 columns to compare, named like the service's outputs */
	double tolerance;             /* largest absolute difference allowed between numbers */
	size_t batch;                 /* rows per request; 0 = 64 */
	int64_t timeout_ms;           /* per request; 0 = 30 s */
};

struct parity_report {
	uint64_t rows;         /* rows sent */
	uint64_t values;       /* values compared */
	uint64_t differing;    /* rows with at least one value out of tolerance */
	double max_abs_diff;   /* over numeric values */
	struct strvec columns; /* the predictions.csv columns compared */
	struct strvec diffs;   /* the first PARITY_MAX_SHOWN differing rows, one line each:
				  "parity.csv:12 (row 10): probability: offline 0.93, service 0.41" */
	char *problem;         /* why the comparison could not be done (service error, no matching output);
				  owned; NULL = compared */
};

void parity_report_init(struct parity_report *r);
void parity_report_release(struct parity_report *r);

/* Read both files, send the rows and compare. Returns 0 when the comparison ran or the service failed
 * to answer (r->problem says so: a check failure), -1 with "e" when a file is unreadable or malformed
 * (MLCI_EFAILED, "FILE:LINE: ...") or the options are bad (MLCI_EUSAGE). */
int parity_run(const struct parity_opts *o, struct parity_report *r, struct err *e);

/* The first "n" rows of parity.csv at "path" as a JSON array of arrays of numbers (strings for values
 * that are not numbers), for protocol checks that need example inputs. NULL with "e" on error. */
struct cJSON *parity_sample_rows(const char *path, size_t n, struct err *e);

#endif
