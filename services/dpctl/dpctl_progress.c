#include "dpctl_progress.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { S_REDRAW_MS = 100, S_BAR_WIDTH = 30 };

struct _dpctl_progress_t {
    char *noun;           /* what is counted */
    uint64_t total_bytes; /* the input's size, or 0 when unknown */
    bool terminal;        /* standard error is a terminal: draw the bar */
    int64_t started;      /* zclock_mono at the start */
    int64_t drawn;        /* zclock_mono of the last redraw */
    uint64_t bytes_done;  /* of total_bytes */
};

dpctl_progress_t *dpctl_progress_new(const char *noun, uint64_t total_bytes)
{
    dpctl_progress_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->noun = strdup(noun);
    if (!self->noun) {
        free(self);
        return NULL;
    }
    self->total_bytes = total_bytes;
    self->terminal = isatty(STDERR_FILENO);
    self->started = zclock_mono();
    return self;
}

void dpctl_progress_destroy(dpctl_progress_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->noun);
    free(*self_p);
    *self_p = NULL;
}

static double s_seconds(const dpctl_progress_t *self)
{
    return (double)(zclock_mono() - self->started) / 1000.0;
}

static void s_draw(const dpctl_progress_t *self, size_t count)
{
    double seconds = s_seconds(self);
    double rate = seconds > 0 ? (double)count / seconds : 0;
    fputc('\r', stderr);
    if (self->total_bytes) {
        uint64_t done = self->bytes_done < self->total_bytes ? self->bytes_done : self->total_bytes;
        int filled = (int)(done * S_BAR_WIDTH / self->total_bytes);
        fputc('[', stderr);
        for (int i = 0; i < S_BAR_WIDTH; i++)
            fputc(i < filled ? '#' : '-', stderr);
        fprintf(stderr, "] %3d%%  ", (int)(done * 100 / self->total_bytes));
    }
    fprintf(stderr, "%zu %s  %.0f/s ", count, self->noun, rate);
    fflush(stderr);
}

void dpctl_progress_update(dpctl_progress_t *self, size_t count, uint64_t bytes_done)
{
    self->bytes_done = bytes_done;
    int64_t now = zclock_mono();
    if (!self->terminal || now - self->drawn < S_REDRAW_MS)
        return;
    self->drawn = now;
    s_draw(self, count);
}

void dpctl_progress_finish(dpctl_progress_t *self, size_t count)
{
    if (self->terminal) {
        if (self->total_bytes)
            self->bytes_done = self->total_bytes;
        s_draw(self, count);
        fputc('\n', stderr);
        return;
    }
    double seconds = s_seconds(self);
    fprintf(stderr, "dpctl: %zu %s in %.1f s (%.0f %s/s)\n", count, self->noun, seconds,
            seconds > 0 ? (double)count / seconds : 0.0, self->noun);
}
