/* infra.h - the infra check of a pipeline run: required commands on PATH, free memory, CPUs, free
 * disk and accelerator, probed on this machine or over ssh on the deploy target, as a table of required
 * vs found (one comparison for both). Never prints. */
#ifndef MLCI_INFRA_H
#define MLCI_INFRA_H

#include <stdint.h>

#include "record/verdict.h"
#include "spec/spec.h"
#include "common/error.h"

/* One `commands` requirement as found: index i of infra_found.cmds is requires.commands[i]. */
struct infra_command {
	char *path;    /* where it was found; NULL = not found (or a malformed requirement); owned */
	char *version; /* first dotted version of its `--version` output when one was asked for; owned */
};

/* What a machine has; each probe is -1 / NULL when unknown. */
struct infra_found {
	char *machine;              /* "this machine" or "user@host:port"; owned */
	int64_t mem_available;      /* /proc/meminfo MemAvailable, bytes */
	int64_t cpus;               /* CPUs this process may use (sched affinity), else online CPUs; remote: nproc */
	int64_t disk_free;          /* bytes available to non-root where "disk_path" is */
	char *disk_path;            /* where the disk was measured; owned */
	int nvidia;                 /* 1 when /proc/driver/nvidia exists or nvidia-smi is on PATH */
	struct infra_command *cmds; /* one per requires.commands item; owned */
	size_t n_cmds;
};

#define INFRA_THIS_MACHINE "this machine"

void infra_found_init(struct infra_found *f);
void infra_found_release(struct infra_found *f);
/* Probe this machine: memory, CPUs, disk free at "disk_path", accelerator, and every command of "req"
 * looked up on "path_env" (a PATH value; with a minimum version it is run as "NAME --version", 10 s at
 * most). */
void infra_probe(struct infra_found *f, const struct spec_check_infra *req, const char *disk_path,
		 const char *path_env);
/* The same over ssh on "target" (user@host[:port]; host key, key and agent as the ssh deploy hook,
 * common/ssh.h): one remote /bin/sh script prints the figures (infra_remote_script), parsed by
 * infra_parse_remote; disk is measured at "dir" (or its nearest existing parent; NULL = the login
 * directory). -1 with MLCI_EFAILED when the host cannot be reached, is refused or the script fails. */
int infra_probe_remote(struct infra_found *f, const struct spec_check_infra *req, const char *target, const char *dir,
		       struct err *e);
/* The remote probe script for "req" and "dir" into "out" (lines "mem_kb N", "cpus N", "disk_kb N",
 * "disk_path P", "nvidia 0|1", "cmd I [PATH]", "ver I TEXT"). */
void infra_remote_script(const struct spec_check_infra *req, const char *dir, struct buf *out);
/* Fill "f" (already initialised, machine set by the caller) from the script's output "text". */
int infra_parse_remote(struct infra_found *f, const struct spec_check_infra *req, const char *text, struct err *e);

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
/* Add verdict "infra.requires" for "req" against "f" (probed by infra_probe or infra_probe_remote); the
 * summary starts "on MACHINE: ", details hold "machine" and the table. */
void infra_check(struct verdicts *out, const struct spec_check_infra *req, const struct infra_found *f);
/* Add a failed "infra.requires" verdict: "machine" could not be probed because of "why". */
void infra_check_unreachable(struct verdicts *out, const char *machine, const char *why);

#endif
