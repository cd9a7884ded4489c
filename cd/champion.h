/* champion.h - the champion gate (spec environments.<env>.champion): before a manual promotion, score the
 * model the environment runs (the champion) and the candidate with the same command on the same
 * evaluation set (an output of the candidate's run, pinned by its digest) and refuse a candidate worse
 * beyond the tolerance. It measures and records a gate verdict; the refusal is cd/manual.c's. */
#ifndef MLCI_CHAMPION_H
#define MLCI_CHAMPION_H

#include "cd/env_state.h"
#include "cd/gates.h"

/* Append the "champion" gate verdict (with both scores and every number the score files hold) to
 * "gates". "champion" NULL (or without a model): nothing to beat, the gate passes. -1 only for
 * infrastructure errors; a score command that fails is a failing gate. */
int cd_champion_gate(struct cd_cmd *c, const struct env_state *champion, const struct env_state *cand,
		     struct verdicts *gates, struct err *e);

#endif
