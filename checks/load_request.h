/* load_request.h - the bytes of the one HTTP/1.1 request the load generator sends on every connection:
 * built once per run from the URL (parsed by libcurl), method, headers and body. */
#ifndef MLCI_LOAD_REQUEST_H
#define MLCI_LOAD_REQUEST_H

#include <curl/curl.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

/* Append to "out" the request "method" (NULL: GET, or POST with a body) for "url": request line with
 * the path and query, Host (with the port when the URL names one), Accept: * / *, Content-Type:
 * application/json and Content-Length when there is a body, then "headers" ("Name: value"; a header
 * given there replaces the default of the same name), then the body. Returns 0, or -1 with "e" set
 * (MLCI_EUSAGE: a header or method that would break the request framing). */
int load_request_build(struct buf *out, CURLU *url, const char *method, const char *const *headers, const char *body,
		       size_t body_len, struct err *e);

#endif
