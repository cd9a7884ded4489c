/* load_request.c - builds the load generator's HTTP/1.1 request once per run (see load_request.h). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "checks/load_request.h"
#include "common/banned.h"

/* Whether "headers" holds one named "name" (case-insensitive, up to its colon). */
static int has_header(const char *const *headers, const char *name)
{
	size_t n = strlen(name);
	for (const char *const *h = headers; h && *h; h++)
		if (!strncasecmp(*h, name, n) && (*h)[n] == ':')
			return 1;
	return 0;
}

/* A header line must not carry CR or LF (it would end the header block early) and needs a name. */
static int bad_header(const char *h)
{
	const char *colon = strchr(h, ':');
	if (!colon || colon == h || strpbrk(h, "\r\n"))
		return 1;
	for (const char *p = h; p < colon; p++)
		if (!isgraph((unsigned char)*p))
			return 1;
	return 0;
}

int load_request_build(struct buf *out, CURLU *url, const char *method, const char *const *headers, const char *body,
		       size_t body_len, struct err *e)
{
	char *path = NULL, *query = NULL, *host = NULL, *port = NULL;

	if (!method)
		method = body ? "POST" : "GET";
	if (!*method || strpbrk(method, " \t\r\n"))
		return err_set(e, MLCI_EUSAGE, "invalid HTTP method '%s'", method);
	for (const char *const *h = headers; h && *h; h++)
		if (bad_header(*h))
			return err_set(e, MLCI_EUSAGE, "invalid header '%s' (expected 'Name: value' on one line)", *h);
	if (curl_url_get(url, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return err_set(e, MLCI_EUSAGE, "the URL has no host");
	curl_url_get(url, CURLUPART_PATH, &path, 0);
	curl_url_get(url, CURLUPART_QUERY, &query, 0);
	curl_url_get(url, CURLUPART_PORT, &port, 0); /* NULL when the URL gives none */

	buf_addf(out, "%s %s%s%s HTTP/1.1\r\n", method, path && *path ? path : "/", query ? "?" : "",
		 query ? query : "");
	if (!has_header(headers, "Host"))
		buf_addf(out, "Host: %s%s%s\r\n", host, port ? ":" : "", port ? port : "");
	if (!has_header(headers, "Accept"))
		buf_addstr(out, "Accept: */*\r\n");
	if (body && !has_header(headers, "Content-Type"))
		buf_addstr(out, "Content-Type: application/json\r\n");
	if ((body || !strcmp(method, "POST") || !strcmp(method, "PUT")) && !has_header(headers, "Content-Length"))
		buf_addf(out, "Content-Length: %zu\r\n", body ? body_len : 0);
	for (const char *const *h = headers; h && *h; h++)
		buf_addf(out, "%s\r\n", *h);
	buf_addstr(out, "\r\n");
	if (body)
		buf_add(out, body, body_len);
	curl_free(path);
	curl_free(query);
	curl_free(host);
	curl_free(port);
	return 0;
}
