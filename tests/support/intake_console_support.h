/* Support for the tests of the staff console's requests to the intake
   (test_intake_console_*): typed calls of the new requests and the
   workflow moves that set an enquiry up, each failing the test unless the
   intake answers OK, and dpctl run against the intake. Names start with
   tq_ (test queue). */
#ifndef INTAKE_CONSOLE_SUPPORT_H
#define INTAKE_CONSOLE_SUPPORT_H

#include <stdint.h>

#include "intake_support.h"

/* A typed call per request type: Dp__XReply *tq_x (intake, request, status). */
#define TQ_INTAKE_CALLS(X)                                                                         \
    X(CountEnquiries, count_enquiries)                                                             \
    X(ChangeDueDate, change_due_date)                                                              \
    X(MergeEnquiry, merge_enquiry)                                                                 \
    X(ReplyToEnquiry, reply_to_enquiry)                                                            \
    X(RecordAdmission, record_admission)

#define TQ_DECLARE_CALL(Camel, snake) TF_DECLARE_CALL(tq_, Camel, snake)
TQ_INTAKE_CALLS(TQ_DECLARE_CALL)
#undef TQ_DECLARE_CALL

/* Assigns the enquiry to assignee (actor "setup"). */
void tq_assign_at(ti_fixture_t *fixture, int64_t id, const char *assignee, const char *file,
                  int line);
#define tq_assign(fixture, id, assignee) tq_assign_at(fixture, id, assignee, __FILE__, __LINE__)
/* Moves the enquiry to a status (actor "setup"). */
void tq_move_at(ti_fixture_t *fixture, int64_t id, Dp__EnquiryStatus to, const char *file,
                int line);
#define tq_move(fixture, id, to) tq_move_at(fixture, id, to, __FILE__, __LINE__)

/* Runs the dpctl of DP_BUILD_DIR with these arguments (NULL-terminated,
   at most 20) against the fixture's intake; free with ts_process_free. */
ts_process_t tq_dpctl(ti_fixture_t *fixture, const char *const *args);
/* The same, failing the test (with what dpctl wrote) unless it exits 0. */
ts_process_t tq_dpctl_ok_at(ti_fixture_t *fixture, const char *const *args, const char *file,
                            int line);
#define tq_dpctl_ok(fixture, args) tq_dpctl_ok_at(fixture, args, __FILE__, __LINE__)

#endif
