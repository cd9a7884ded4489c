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
/* A command requirement "NAME" or "NAME >= VERSION" (spaces optional): splits it into "name" (malloc'd)
 * and "min_version" (malloc'd, NULL when none). Returns 0, or -1 when it is malformed. */
int infra_parse_command(const char *item, char **name, char **min_version);
/* The first dotted version ("3.11.2", "2.39") in "text" into "out"; 1 found, 0 not. */
int infra_find_version(const char *text, char *out, size_t n);
/* Compare dotted versions numerically part by part ("3.10" > "3.9"); <0, 0, >0. */
int infra_version_cmp(const char *a, const char *b);
/* Add verdict "infra.requires" for "req" against "f" (commands looked up on "path_env"; a command with a
 * minimum version is run as "NAME --version", 10 s at most, and the first dotted version of its output
 * compared); "disk_path" names where the disk was measured. */
void infra_check(struct verdicts *out, const struct spec_check_infra *req, const struct infra_found *f,
		 const char *disk_path, const char *path_env);

#endif
