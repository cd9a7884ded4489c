/* session.h - what one mlci command opens for promotion work, once, and passes down: the metadata store,
 * the trusted promotion policy and the state repo. Each is opened on first use and kept for the rest of
 * the command, so a promoting run parses the policy once and opens the state repo once. It opens and
 * caches; the decisions are the rest of cd/'s. */
#ifndef MLCI_SESSION_H
#define MLCI_SESSION_H

#include "cd/policy.h"
#include "cd/state.h"
#include "registry/store.h"

struct cd_session {
	char *home;          /* owned */
	char *repo;          /* the pipeline's repository (for mlci.yaml on main); owned; NULL = unknown */
	int fetch_repo;      /* fetch the repository before reading main's mlci.yaml (outside a run) */
	struct store *store; /* the store; owned when own_store */
	int own_store;
	struct policy file; /* $home/policy.yaml */
	int file_loaded;    /* 1 once policy.yaml was looked for */
	struct policy main; /* mlci.yaml on main, read only without policy.yaml */
	int main_loaded;
	struct state_repo sr;
	int sr_open;    /* 1 opened and synced, -1 opened but the remote could not be fetched */
	int reconciled; /* the registry was reconciled with the state repo in this session */
};

/* Start a session for "home"; "store" (may be NULL: the session opens $home/mlci.db when first asked)
 * is borrowed. "repo" (may be NULL) is where main's mlci.yaml is read when there is no policy.yaml. */
void cd_session_init(struct cd_session *s, const char *home, struct store *store, const char *repo);
void cd_session_release(struct cd_session *s);
/* Set the repository after the fact (the run's, once known); fetch_repo 1 outside a run. */
void cd_session_set_repo(struct cd_session *s, const char *repo, int fetch_repo);

/* The store (opened on first use). */
int cd_session_store(struct cd_session *s, struct store **out, struct err *e);
/* The policy: $home/policy.yaml when it exists, else mlci.yaml on main of the session's repository.
 * (*out)->spec is NULL when there is none. An invalid policy.yaml is an error, never a fallback. */
int cd_session_policy(struct cd_session *s, const struct policy **out, struct err *e);
/* The remote state repo's URL: $MLCI_STATE_URL, else policy.yaml's "state:"; NULL when local only. */
int cd_session_state_url(struct cd_session *s, const char **url_out, struct err *e);
/* 1 when the state repo exists or is remote (nothing is created to find out). */
int cd_session_has_state(struct cd_session *s, struct err *e);
/* The state repo, opened and synced with its remote once. "lenient": an unreachable remote is a
 * warning (the last fetched copy is used), for reading; otherwise an error. */
int cd_session_state(struct cd_session *s, int lenient, struct state_repo **out, struct err *e);

#endif
