/* Progress of a long command on standard error: a bar redrawn in place
   when standard error is a terminal, otherwise only one plain line at the
   end (so that logs and CI output stay readable). */
#ifndef DPCTL_PROGRESS_H
#define DPCTL_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct _dpctl_progress_t dpctl_progress_t;

/* noun: what is counted, e.g. "lines". total_bytes: the input's size, or 0
   when not known (a pipe): then no bar, only the count and the rate. */
dpctl_progress_t *dpctl_progress_new(const char *noun, uint64_t total_bytes);
void dpctl_progress_destroy(dpctl_progress_t **self_p);

/* Records how far the work is; redraws at most ten times a second. */
void dpctl_progress_update(dpctl_progress_t *self, size_t count, uint64_t bytes_done);

/* Draws the final state and ends the line, or prints the plain line:
   "dpctl: 5000 lines in 2.1 s (2381 lines/s)". */
void dpctl_progress_finish(dpctl_progress_t *self, size_t count);

#endif
