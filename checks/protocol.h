/* protocol.h - built-in conformance checks of a prediction service's REST protocol: KServe Open Inference
 * Protocol V2 ("kserve-v2") and TF Serving's REST predict API ("tfserving-v1"). Reports items; no printing. */
#ifndef MLCI_PROTOCOL_H
#define MLCI_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

/* One conformance item: "server live", "infer from metadata", "bad request: wrong datatype", ... */
struct protocol_item {
	char *name;   /* owned */
	int status;   /* 0 pass, 1 fail, 2 skipped */
	char *detail; /* what was seen ("200 in 1.3 ms", "answered 500: ..."); owned */
};

struct protocol_report {
	struct protocol_item *items; /* owned, in the order they ran */
	size_t n, alloc;
	size_t failed;
};

struct protocol_opts {
	const char *base_url; /* "http://127.0.0.1:PORT" */
	const char *protocol; /* "kserve-v2" | "tfserving-v1" */
	const char *model;    /* model name in the URLs */
	int64_t timeout_ms;   /* per request; 0 = 10 s */
	/* tfserving-v1 only (it has no tensor metadata): a JSON array of instances to predict; NULL = the
	 * predict item is skipped */
	const struct cJSON *instances;
};

/* Run every item of "o->protocol" against the running service. Items that could not run for lack of
 * an earlier answer are "skipped" with the reason. Returns 0 (the report says pass/fail), or -1 for an
 * unknown protocol name. Order (kserve-v2): ready, model metadata, infer built from the metadata (so
 * that a server claiming readiness before it can answer is caught), live, server metadata, model
 * ready, then bad requests (wrong datatype, wrong shape, data not matching the shape, unknown model,
 * invalid JSON) which must each get a 4xx with an {"error": "..."} body, never a 5xx or no answer. */
int protocol_check(const struct protocol_opts *o, struct protocol_report *r);
void protocol_report_release(struct protocol_report *r);

/* Build a KServe V2 infer request from model metadata "meta" (GET /v2/models/NAME): every input, -1 in
 * its shape taken as 1, data all zeros of its datatype (false for BOOL, "" for BYTES). NULL with the
 * reason in "why" when the metadata does not describe the inputs. */
struct cJSON *protocol_kserve_request(const struct cJSON *meta, char *why, size_t why_len);

#endif
