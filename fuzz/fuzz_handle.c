/* Handler target, built once per service (-DDP_FUZZ_SERVICE="registry",
   "intake", "notify" or "report"). Each input becomes the frames of one
   request (fuzz_frames: the first byte picks the framing, the rest is the
   dp.Request envelope) and goes through dp_server_handle_frames with the
   service's real route table and state, as the server loop does: frames,
   envelope, route, body, handler, reply. The database refuses every
   connection, so the validation runs fully and every database call fails
   at once; fuzz_check_reply then holds the reply to what such a server may
   answer. Leaks are found by libFuzzer's leak check after each input. */
#include <stdint.h>
#include <stdlib.h>

#include "dp_log.h"
#include "fuzz_support.h"

#ifndef DP_FUZZ_SERVICE
#error "build with -DDP_FUZZ_SERVICE=\"<service>\": registry, intake, notify or report"
#endif

static fuzz_service_t *s_service;

static void s_stop(void)
{
    fuzz_service_destroy(&s_service);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* Refusals are logged at info; a crash report should not drown in them. */
    dp_log_init("fuzz-" DP_FUZZ_SERVICE, "error");
    s_service = fuzz_service_new(DP_FUZZ_SERVICE);
    if (!s_service)
        fuzz_fail(__FILE__, __LINE__, "fuzz_service_new", "cannot set up '%s'", DP_FUZZ_SERVICE);
    atexit(s_stop);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zmsg_t *request = fuzz_frames(data, size);
    zmsg_t *reply = dp_server_handle_frames(fuzz_service_config(s_service), request);
    Dp__Reply *answer = fuzz_check_reply(request, reply);
    dp_message_free((ProtobufCMessage **)&answer);
    zmsg_destroy(&reply);
    zmsg_destroy(&request);
    return 0;
}
