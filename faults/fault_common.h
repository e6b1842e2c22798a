/* What the fault programs share: realistic enquiry submissions whose content
   depends only on their number and the time given (so a resend is
   byte-identical), the request envelope, a stop flag raised by SIGTERM or
   SIGINT, and the monotonic clock. */
#ifndef FAULT_COMMON_H
#define FAULT_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_config.h"
#include "intake.pb-c.h"

/* One submission and the buffers its text fields point into. */
typedef struct {
    char key[160];                    /* idempotency key: "<tag>-<number>" */
    char email[200];                  /* unique per submission: no sender limit, no duplicate */
    char received_at[32];             /* RFC 3339, fixed when the submission is made */
    Dp__EnquirySubmission submission; /* points into the buffers above and constant tables */
    Dp__SubmitEnquiryRequest request; /* wraps submission */
} fault_submission_t;

/* Fills a realistic submission (about 350 bytes packed) for `number`. */
void fault_submission_init(fault_submission_t *self, const char *source, const char *tag,
                           uint64_t number, const char *received_at);

/* RFC 3339 UTC of now: "2026-11-28T16:30:00Z". */
void fault_now_rfc3339(char out[32]);

/* Monotonic microseconds. */
int64_t fault_now_us(void);

/* Installs handlers for SIGTERM and SIGINT that raise the stop flag (and
   keeps czmq from installing its own). Call before zsys_init. */
void fault_stop_on_signals(void);
/* Every fault program's start: dp_config_new and dp_config_load in one,
   then fault_stop_on_signals and zsys_init. Returns the loaded
   configuration, or NULL with *exit_code set (0 after --help, 2 on a bad
   setting or when out of memory). */
dp_config_t *fault_config_load(const char *program, const char *summary,
                               const dp_setting_t *settings, size_t count, int argc, char **argv,
                               int *exit_code);
/* True once SIGTERM or SIGINT arrived. */
bool fault_stopping(void);

/* A small deterministic generator (xorshift64*), so a run can be repeated. */
uint64_t fault_random(uint64_t *state);

#endif
