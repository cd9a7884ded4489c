/* training.h - the training checks of a pipeline run: the loss history converges, an overfit-sample
 * command reaches a small loss, and listed outputs hold no NaN/Inf. Verdicts only; it never prints. */
#ifndef MLCI_TRAINING_H
#define MLCI_TRAINING_H

#include <stddef.h>
#include <stdint.h>

#include "record/verdict.h"
#include "common/error.h"

#define TRAINING_WINDOW_DEFAULT 10
#define TRAINING_RATIO_DEFAULT  0.9

/* The loss column of a history header: "loss" when present, else the first name containing "loss"
 * (case-insensitive); -1 when none. */
int training_loss_column(const char *const *names, size_t n);

/* Convergence on "losses[0..n)": window w = "window" (0 = TRAINING_WINDOW_DEFAULT) capped at n / 3
 * (at least 1); passes when mean(last w) < ratio * mean(first w). Needs n >= 2 finite values.
 * Fills the means and the window used; returns 1 converged, 0 not, -1 when it cannot be decided
 * (fewer than 2 rows, a non-finite loss). */
int training_converged(const double *losses, size_t n, size_t window, double ratio, double *first_mean,
		       double *last_mean, size_t *used_window);

/* Read the loss column of history CSV "path" and add verdict "training.converges". "display" names
 * the file in messages (e.g. "train/history.csv"). */
void training_check_converges(struct verdicts *out, const char *path, const char *display, int64_t window,
			      double ratio);

/* Find the first NaN or Inf token in "path": in JSON (name ending in .json) outside strings, the bare
 * words NaN, Infinity, -Infinity (and nan/inf in any case); in other files (CSV) a field that is one of
 * nan, inf, infinity, +inf, -inf, -infinity (any case). Returns 1 and sets line/col (1-based) and
 * "token" (cut to 31 bytes), 0 when there is none, -1 on a read error. */
int training_find_nan(const char *path, uint64_t *line, uint64_t *col, char token[32], struct err *e);

/* Add verdict "training.no_nan" over the files (paths[i], shown as display[i]). */
void training_check_no_nan(struct verdicts *out, const char *const *paths, const char *const *display, size_t n);

/* The last number printed on its own (the last whitespace-separated token that parses as a finite
 * number) in "text"; returns 1 and sets *out, else 0. */
int training_last_number(const char *text, double *out);

#endif
