/* approvals.h - who approved a commit: Reviewed-by:/Approved-by: trailers of its message, made
 * distinct and without its author. Parsing only; whether that is enough is cd/promote.c's decision. */
#ifndef MLCI_APPROVALS_H
#define MLCI_APPROVALS_H

#include "common/strvec.h"

/* Append to "out" one identity per distinct approver found in the trailers of "message" (the e-mail
 * in <...> when present, else the name, lower-cased), skipping the author (same e-mail or name). */
void approvals_from_trailers(const char *message, const char *author_name, const char *author_email,
			     struct strvec *out);

#endif
