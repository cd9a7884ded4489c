/* dag.c - Kahn's topological sort with levels, and cycle extraction by depth-first search.
 * Index-based: it must not know about component names or print anything. */
#include "common/dag.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "common/banned.h"

/* Find one cycle among the nodes not yet ordered ("done" == 0) with an iterative DFS over needs.
 * colour: 0 white, 1 on stack, 2 finished. */
static void find_cycle(size_t n, const struct dag_node *nodes, const unsigned char *done, size_t *cycle,
		       size_t *cycle_len)
{
	unsigned char *colour = xcalloc(n, 1);
	size_t *stack = xmalloc(n * sizeof(*stack));
	size_t *next = xcalloc(n, sizeof(*next));
	*cycle_len = 0;
	for (size_t s = 0; s < n && !*cycle_len; s++) {
		size_t sp = 0;
		if (done[s] || colour[s])
			continue;
		stack[sp++] = s;
		colour[s] = 1;
		while (sp && !*cycle_len) {
			size_t u = stack[sp - 1];
			if (next[u] < nodes[u].n_needs) {
				size_t v = nodes[u].needs[next[u]++];
				if (v >= n || done[v])
					continue;
				if (colour[v] == 1) {
					/* cycle: v ... u on the stack, then back to v; report in dependency
					 * direction reversed so it reads "a -> b" meaning a is needed by b */
					size_t i = sp;
					while (i > 0 && stack[i - 1] != v)
						i--;
					size_t k = 0;
					for (size_t j = i - 1; j < sp; j++)
						cycle[k++] = stack[j];
					cycle[k++] = v;
					/* reverse so the order follows "needed by" edges */
					for (size_t a = 0, b = k - 1; a < b; a++, b--) {
						size_t t = cycle[a];
						cycle[a] = cycle[b];
						cycle[b] = t;
					}
					*cycle_len = k;
				} else if (!colour[v]) {
					colour[v] = 1;
					stack[sp++] = v;
				}
			} else {
				colour[u] = 2;
				sp--;
			}
		}
	}
	free(colour);
	free(stack);
	free(next);
}

int dag_order(size_t n, const struct dag_node *nodes, size_t *order, size_t *level, size_t *cycle, size_t *cycle_len)
{
	unsigned char *done = xcalloc(n ? n : 1, 1);
	size_t placed = 0;
	int ret = 0;

	if (cycle_len)
		*cycle_len = 0;
	/* O(n^2) passes are fine for pipelines (tens of components) and keep the order stable */
	while (placed < n) {
		int progress = 0;
		for (size_t i = 0; i < n; i++) {
			size_t lv = 0;
			int ready = 1;
			if (done[i])
				continue;
			for (size_t k = 0; k < nodes[i].n_needs; k++) {
				size_t d = nodes[i].needs[k];
				if (d >= n)
					continue;
				if (!done[d] || d == i) {
					ready = 0;
					break;
				}
				if (level[d] + 1 > lv)
					lv = level[d] + 1;
			}
			if (!ready)
				continue;
			/* only place nodes whose needs were placed in earlier passes or earlier in this one */
			done[i] = 1;
			level[i] = lv;
			order[placed++] = i;
			progress = 1;
		}
		if (!progress) {
			if (cycle && cycle_len)
				find_cycle(n, nodes, done, cycle, cycle_len);
			ret = -1;
			break;
		}
	}
	free(done);
	return ret;
}

int dag_depends_on(size_t n, const struct dag_node *nodes, size_t from, size_t to)
{
	unsigned char *seen;
	size_t *stack;
	size_t sp = 0;
	int found = 0;
	if (from >= n || to >= n)
		return 0;
	seen = xcalloc(n, 1);
	stack = xmalloc(n * sizeof(*stack));
	stack[sp++] = from;
	seen[from] = 1;
	while (sp && !found) {
		size_t u = stack[--sp];
		for (size_t k = 0; k < nodes[u].n_needs; k++) {
			size_t v = nodes[u].needs[k];
			if (v >= n || seen[v])
				continue;
			if (v == to) {
				found = 1;
				break;
			}
			seen[v] = 1;
			stack[sp++] = v;
		}
	}
	free(seen);
	free(stack);
	return found;
}
