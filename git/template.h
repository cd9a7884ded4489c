/* template.h - the example pipeline repos compiled into mlci, and `mlci init`'s writer.
 * Writes files and makes the first commit with libgit2; it does not run the pipeline. */
#ifndef MLCI_TEMPLATE_H
#define MLCI_TEMPLATE_H

#include <stddef.h>

#include "common/error.h"
#include "common/strvec.h"

struct template_file {
	const char *path; /* "default/mlci.yaml" */
	const unsigned char *data;
	size_t len;
	int mode; /* 0644 or 0755 */
};

/* Generated at build time by tools/embed.c; terminated by a NULL path. */
extern const struct template_file template_files[];

/* Names of the available templates (first path component), in order. */
void template_names(struct strvec *out);

/* Write template "name" into "dir" (created; must be empty or absent), git-init it with libgit2
 * and commit every file on branch "main". "commit_out" (41 bytes) receives the commit id. */
int template_init(const char *name, const char *dir, char commit_out[41], struct err *e);

#endif
