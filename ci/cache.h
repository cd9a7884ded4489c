/* cache.h - cache keys of components: what must be equal for a completed step to be reused.
 * It computes keys from their ingredients; looking them up and restoring outputs is ci/run.c's job. */
#ifndef MLCI_CACHE_H
#define MLCI_CACHE_H

#include <stddef.h>

#include "spec/spec.h"
#include "common/sha256.h"

/* One output of an upstream component, as handed to a downstream one. */
struct cache_upstream {
	const char *component; /* upstream component name */
	const char *name;      /* output name */
	const char *digest;    /* sha256 of its content */
};

/* Everything a component's key depends on. */
struct cache_ingredients {
	const struct spec *spec;
	size_t comp;                     /* index into spec->components */
	const char *tree_id;             /* git tree id of the component's path (the root tree when none) */
	const char *const *input_ids;    /* git object id of each declared input, in declared order */
	const struct cache_upstream *up; /* upstream outputs (any order: they are sorted); run phase only */
	size_t n_up;
	const char *version; /* mlci version */
};

/* The source key: the component's spec entry, its path tree, its inputs, every param and env entry
 * and the mlci version. Keys the CI phase (build, test). */
void cache_source_key(const struct cache_ingredients *in, char key[SHA256_HEX_LEN + 1]);
/* The run key: the source key plus the digests of the upstream outputs. Keys the run phase. */
void cache_run_key(const struct cache_ingredients *in, char key[SHA256_HEX_LEN + 1]);

#endif
