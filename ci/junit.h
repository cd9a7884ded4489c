/* junit.h - the run as JUnit XML (--junit FILE): one testsuite per run, one testcase per step.
 * Serialisation only; CI servers (GitHub Actions, GitLab, Jenkins) render it. */
#ifndef MLCI_JUNIT_H
#define MLCI_JUNIT_H

#include "ci/run.h"

/* Write "r" as JUnit XML to "path" atomically. */
int junit_write(const struct run *r, const char *path, struct err *e);

#endif
