/* approvals.c - Reviewed-by:/Approved-by: trailers as approvals (the Linux and Gerrit convention).
 * Identities are compared case-insensitively; an author never approves their own commit. */
#include "cd/approvals.h"

#include <ctype.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/banned.h"

static void lower_trim(struct buf *b, const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	for (size_t i = 0; i < n; i++)
		buf_addch(b, (char)tolower((unsigned char)s[i]));
}

/* The identity of "Name <mail>": the mail when present, else the name. */
static void identity(const char *v, size_t n, struct buf *out)
{
	const char *lt = memchr(v, '<', n);
	const char *gt = lt ? memchr(lt, '>', n - (size_t)(lt - v)) : NULL;
	buf_reset(out);
	if (lt && gt && gt > lt + 1)
		lower_trim(out, lt + 1, (size_t)(gt - lt - 1));
	else
		lower_trim(out, v, lt ? (size_t)(lt - v) : n);
}

void approvals_from_trailers(const char *message, const char *author_name, const char *author_email, struct strvec *out)
{
	static const char *const keys[] = { "reviewed-by:", "approved-by:" };
	struct buf id = BUF_INIT, an = BUF_INIT, ae = BUF_INIT;
	const char *line = message;

	lower_trim(&an, author_name ? author_name : "", author_name ? strlen(author_name) : 0);
	lower_trim(&ae, author_email ? author_email : "", author_email ? strlen(author_email) : 0);
	while (line && *line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			size_t kl = strlen(keys[k]);
			if (len > kl && !strncasecmp(line, keys[k], kl)) {
				identity(line + kl, len - kl, &id);
				if (id.len && strcmp(id.ptr, ae.ptr) && strcmp(id.ptr, an.ptr) &&
				    !strvec_contains(out, id.ptr))
					strvec_push(out, id.ptr);
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	buf_release(&id);
	buf_release(&an);
	buf_release(&ae);
}
