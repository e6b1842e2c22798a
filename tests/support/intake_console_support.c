#include "intake_console_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#define TQ_DEFINE_CALL(Camel, snake) TF_DEFINE_CALL(tq_, Camel, snake)
TQ_INTAKE_CALLS(TQ_DEFINE_CALL)

void tq_assign_at(ti_fixture_t *fixture, int64_t id, const char *assignee, const char *file,
                  int line)
{
    Dp__AssignEnquiryRequest request = DP__ASSIGN_ENQUIRY_REQUEST__INIT;
    request.id = id;
    request.assignee = (char *)assignee;
    request.actor = "setup";
    dp_status_t status;
    Dp__AssignEnquiryReply *reply = ti_assign_enquiry(fixture->intake, &request, &status);
    ts_assert_status_at(&status, DP__CODE__CODE_OK, NULL, file, line);
    ts_free(&reply);
}

void tq_move_at(ti_fixture_t *fixture, int64_t id, Dp__EnquiryStatus to, const char *file, int line)
{
    Dp__TransitionEnquiryRequest request = DP__TRANSITION_ENQUIRY_REQUEST__INIT;
    request.id = id;
    request.to_status = to;
    request.actor = "setup";
    dp_status_t status;
    Dp__TransitionEnquiryReply *reply = ti_transition_enquiry(fixture->intake, &request, &status);
    ts_assert_status_at(&status, DP__CODE__CODE_OK, NULL, file, line);
    ts_free(&reply);
}
