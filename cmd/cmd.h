/* cmd.h - what every subcommand shares: the global context, the command table entry, option parsing.
 * Only cmd/ prints to stdout or decides exit codes; business logic lives in ci/ cd/ checks/ registry/. */
#ifndef MLCI_CMD_H
#define MLCI_CMD_H

#include <stdio.h>

#include "common/strvec.h"

struct cmd_ctx {
	const char *home; /* --home, else $MLCI_HOME, else ./.mlci */
	int json;         /* -o json */
	int quiet;        /* -q */
	int verbose;      /* -v (repeatable) */
	int color;        /* stdout is a TTY and NO_COLOR is unset */
	int err_color;    /* the same for stderr */
};

/* One option of a command; the same table drives parsing and --help. */
struct cmd_opt {
	char short_name; /* 0 = none */
	const char *long_name;
	const char *arg_name; /* NULL = a flag */
	const char *help;
	const char **str; /* where a string value goes (arg_name != NULL) */
	int *flag;        /* incremented for a flag (arg_name == NULL) */
};

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct cmd_ctx *ctx);
	const char *summary;        /* one line for `mlci --help` */
	const char *usage;          /* "mlci run [options]" */
	const char *description;    /* paragraph for `mlci help CMD` */
	const struct cmd_opt *opts; /* terminated by a zeroed entry; may be NULL */
	int min_args, max_args;     /* positional arguments; max -1 = unbounded */
};

/* The table, alphabetical, terminated by a NULL name (cmd/commands.c). */
extern const struct cmd cmd_table[];
const struct cmd *cmd_find(const char *name);

/* Parse argv of command "c" (argv[0] is the command name). Common options (-o, -q, -v, --home) are
 * accepted anywhere. Positional arguments go to "args". Returns 0, CMD_HELP_SHOWN when --help was
 * printed, or 2 after printing a usage error to stderr. */
#define CMD_HELP_SHOWN (-100)
int cmd_parse(const struct cmd *c, int argc, char **argv, struct cmd_ctx *ctx, struct strvec *args);
void cmd_print_help(FILE *f, const struct cmd *c);
/* "mlci: error: ..." on stderr (red on a TTY). */
void cmd_error(const struct cmd_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Flush stdout and report a write error (full disk, closed pipe) as exit code 3. */
int cmd_finish(int code);
/* Parse a positive integer option value, printing a usage error naming "what". Returns 0 or 2. */
int cmd_parse_int(const struct cmd_ctx *ctx, const char *what, const char *s, int min, int max, int *out);

/* Colour helpers: return the escape sequence when "on", else "". */
const char *cmd_col(int on, const char *which);

/* Aligned text tables and formatting shared by the query commands (cmd/table.c). A table collects
 * cells row by row (ncols per row), each with an optional colour, and prints them padded under a header. */
struct cJSON;
struct err;
struct store;
struct cmd_tab {
	size_t ncols;
	unsigned right;        /* bit i set: column i is right-aligned */
	struct strvec cells;   /* header first, then the rows, row-major */
	struct strvec colours; /* colour name per cell, "" = none */
};
void cmd_tab_init(struct cmd_tab *t, unsigned right, size_t ncols, ...); /* ncols header strings follow */
void cmd_tab_add(struct cmd_tab *t, const char *colour, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cmd_tab_print(const struct cmd_tab *t, const struct cmd_ctx *ctx, const char *indent);
void cmd_tab_release(struct cmd_tab *t);
/* Print "j" as indented JSON with a newline. */
void cmd_print_json(const struct cJSON *j);
/* Format a duration member (milliseconds) as "1.23s" / "2m03s", "-" when null; a time member (ms
 * since the epoch) as UTC "2026-11-25 17:42:03"; a byte count as "12.3 KiB". */
void cmd_fmt_duration(char *out, size_t n, const struct cJSON *o, const char *key);
void cmd_fmt_time(char *out, size_t n, const struct cJSON *o, const char *key);
void cmd_fmt_size(char *out, size_t n, const struct cJSON *o, const char *key);
/* A JSON value as short text: strings bare, numbers %g, null "-", anything else compact JSON. */
void cmd_fmt_value(char *out, size_t n, const struct cJSON *v);
/* Colour name for a run or step status ("passed" green, "failed" red, ...). */
const char *cmd_status_colour(const char *status);
/* Open the store of ctx->home if its database exists: 1 opened, 0 no database yet, or -3 after
 * printing the error (the command returns 3). */
int cmd_store_open(const struct cmd_ctx *ctx, struct store *st);
/* Print "e" through cmd_error and return its exit code (3 when unset). */
int cmd_fail(const struct cmd_ctx *ctx, struct err *e);

/* Promotion commands (cmd/promote.c): who runs mlci ($MLCI_ACTOR, a test/CI hook trusted only because
 * the CLI runs as that user, else the OS account), a model version argument, and an outcome printed
 * as text or JSON; returns the exit code (pending -> "pending_code"). */
#include <stdint.h>
struct promote_outcome;
const char *cmd_actor(void);
int cmd_parse_version(const struct cmd_ctx *ctx, const char *s, int64_t *out);
int cmd_print_outcome(const struct cmd_ctx *ctx, const char *what, const struct promote_outcome *o, int pending_code);

int cmd_approve(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_check(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_data(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_diff(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_help(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_history(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_init(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_lineage(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_load(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_logs(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_promote(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_registry(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_run(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_rollback(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_runs(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_schema(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_show(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_status(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_unpin(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_validate(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_version(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_watch(int argc, char **argv, struct cmd_ctx *ctx);

#endif
