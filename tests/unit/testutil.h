/* testutil.h - scratch directories for unit tests: one fresh mkdtemp directory per test file, removed
 * (read-only parts included) at the end. Header-only; tests include it, mlci never does. */
#ifndef MLCI_TESTUTIL_H
#define MLCI_TESTUTIL_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/fs.h"

/* "$TMPDIR/mlci-test-<name>-XXXXXX" created; malloc'd path, or NULL when it could not be made. */
static inline char *test_scratch_dir(const char *name)
{
	char tmpl[PATH_MAX];
	const char *t = getenv("TMPDIR");
	snprintf(tmpl, sizeof(tmpl), "%s/mlci-test-%s-XXXXXX", t && *t ? t : "/tmp", name);
	if (!mkdtemp(tmpl))
		return NULL;
	return strdup(tmpl);
}

/* Remove and free a directory from test_scratch_dir; 0 on success. */
static inline int test_scratch_remove(char *dir)
{
	struct err e = ERR_INIT;
	int r = dir ? fs_rm_rf(dir, &e) : 0;
	err_release(&e);
	free(dir);
	return r;
}

#endif
