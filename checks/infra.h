/* infra.h - the infra check of a pipeline run: required commands on PATH, free memory, CPUs, free
 * disk and accelerator, probed on this machine, as a table of required vs found. Never prints. */
#ifndef MLCI_INFRA_H
#define MLCI_INFRA_H

#include <stdint.h>

#include "checks/verdict.h"
#include "ci/spec.h"

/* What this machine has; each probe is -1 / NULL when unknown. */
struct infra_found {
	int64_t mem_available; /* /proc/meminfo MemAvailable, bytes */
	int64_t cpus;          /* CPUs this process may use (sched affinity), else online CPUs */
	int64_t disk_free;     /* statvfs(disk_path): f_bavail * f_frsize */
	int nvidia;            /* 1 when /proc/driver/nvidia exists or nvidia-smi is on PATH */
};

void infra_probe(struct infra_found *f, const char *disk_path, const char *path_env);
/* Full path of "cmd" on "path_env" (a PATH value) into "out"; 1 found, 0 not. A name with '/' is
 * checked as is. */
int infra_which(const char *cmd, const char *path_env, char *out, size_t n);
/* Add verdict "infra.requires" for "req" against "f" (commands looked up on "path_env"); "disk_path"
 * names where the disk was measured. */
void infra_check(struct verdicts *out, const struct spec_check_infra *req, const struct infra_found *f,
		 const char *disk_path, const char *path_env);

#endif
