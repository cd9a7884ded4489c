/* dag.h - topological order, parallel levels and cycle detection over component "needs".
 * Works on indices only; names and messages are the caller's job. */
#ifndef MLCI_DAG_H
#define MLCI_DAG_H

#include <stddef.h>

struct dag_node {
	const size_t *needs; /* indices of the nodes this one depends on; borrowed */
	size_t n_needs;
};

/* Order the "n" nodes so every node comes after its needs; ties keep index order (stable).
 * "order" and "level" (both length n, caller-allocated) receive the order and each node's level
 * (0 = no needs; else 1 + max level of its needs). Returns 0, or -1 on a cycle: then "cycle"
 * (length n+1, caller-allocated) holds the cycle as node indices, first repeated at the end,
 * and *cycle_len its length (including the repeat). */
int dag_order(size_t n, const struct dag_node *nodes, size_t *order, size_t *level, size_t *cycle, size_t *cycle_len);

/* 1 if "to" is reachable from "from" following needs (from needs ... needs to). */
int dag_depends_on(size_t n, const struct dag_node *nodes, size_t from, size_t to);

#endif
