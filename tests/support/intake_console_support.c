#include "intake_console_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <czmq.h>

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

ts_process_t tq_dpctl(ti_fixture_t *fixture, const char *const *args)
{
    char *program = zsys_sprintf("%s/services/dpctl/dpctl", ts_require_env("DP_BUILD_DIR"));
    char *endpoint = zsys_sprintf("DP_INTAKE_ENDPOINT=%s", ti_intake_endpoint(fixture->intake));
    const char *argv[22] = {program};
    size_t count = 1;
    for (const char *const *arg = args; *arg && count < 21; arg++)
        argv[count++] = *arg;
    argv[count] = NULL;
    const char *env[] = {endpoint, NULL};
    ts_process_t process = ts_run(argv, env, 60000);
    zstr_free(&program);
    zstr_free(&endpoint);
    return process;
}

ts_process_t tq_dpctl_ok_at(ti_fixture_t *fixture, const char *const *args, const char *file,
                            int line)
{
    ts_process_t process = tq_dpctl(fixture, args);
    if (process.exit_code != 0) {
        print_error("dpctl %s %s ... exited %d\nstdout:\n%s\nstderr:\n%s\n", args[0],
                    args[1] ? args[1] : "", process.exit_code, process.out, process.err);
        ts_process_free(&process);
        _fail(file, line);
    }
    return process;
}
