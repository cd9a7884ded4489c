/* commands.c - the command table: name, function, one-line summary, usage, options.
 * Alphabetical; `mlci --help`, `mlci help CMD` and dispatch all read it. No logic here. */
#include <stddef.h>
#include <string.h>

#include "cmd/cmd.h"

extern const struct cmd_opt cmd_init_opts[], cmd_run_opts[], cmd_validate_opts[];

const struct cmd cmd_table[] = {
	{ "help", cmd_help, "show help for mlci or one command", "mlci help [COMMAND]",
	  "Without an argument, list the commands. With one, show that command's usage and options\n"
	  "(the same as `mlci COMMAND --help`).",
	  NULL, 0, 1 },
	{ "init", cmd_init, "write a working example pipeline repo (git init + first commit)",
	  "mlci init DIR [--template NAME]",
	  "Write the example ML pipeline (data, components with unit tests, serving, schema, contracts,\n"
	  "deploy script and mlci.yaml) into DIR, which must be absent or empty, create a git repository\n"
	  "there with libgit2 on branch main and commit every file.",
	  cmd_init_opts, 1, 1 },
	{ "run", cmd_run, "run one commit through build, unit tests and the component DAG",
	  "mlci run [--repo PATH|URL] [--rev REV] [--branch B] [-j N]",
	  "Check the commit out into $MLCI_HOME/workspaces/<run>, parse its mlci.yaml, run every\n"
	  "component's build then test (the CI phase; any failure stops the run before the DAG), then each\n"
	  "component's run in dependency order, independent components in parallel. Logs go to\n"
	  "$MLCI_HOME/logs/<run>/<component>.log, outputs to $MLCI_HOME/runs/<run>/out/<component>/.\n"
	  "The branch of the run is --branch, else the branch --rev names, else the repo's HEAD branch.\n"
	  "Exit status: 0 passed, 1 failed, 2 bad usage or spec, 3 infrastructure error, 130 cancelled.",
	  cmd_run_opts, 0, 0 },
	{ "validate", cmd_validate, "check mlci.yaml and print every error as FILE:LINE:COL", "mlci validate [FILE]",
	  "Parse FILE (default ./mlci.yaml) and report every problem, not only the first, as\n"
	  "FILE:LINE:COL: KEY: MESSAGE. Paths in the spec are checked against FILE's directory.\n"
	  "Exit status 0 when valid, 2 when not.",
	  cmd_validate_opts, 0, 1 },
	{ "version", cmd_version, "print the version of mlci and its libraries", "mlci version",
	  "Print mlci's version (also `mlci --version`). With -v or -o json, also the versions of libgit2,\n"
	  "libcurl, libyaml, cJSON, SQLite, libssh2 and OpenSSL it runs with.",
	  NULL, 0, 0 },
	{ NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 },
};

const struct cmd *cmd_find(const char *name)
{
	for (const struct cmd *c = cmd_table; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}
