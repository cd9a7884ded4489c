/* junit.h - a run record as JUnit XML (--junit FILE): one testsuite per run, one testcase per step and
 * per check. Serialisation only; CI servers (GitHub Actions, GitLab, Jenkins) render it. */
#ifndef MLCI_JUNIT_H
#define MLCI_JUNIT_H

#include "common/error.h"
#include "record/run_record.h"

/* Write "r" as JUnit XML to "path" atomically. */
int junit_write(const struct run_record *r, const char *path, struct err *e);

#endif
