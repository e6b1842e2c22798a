/* Decoder target, built once per message set (-DDP_FUZZ_SET="registry",
   "intake", "notify", "report", "envelope" or "events"). The first input
   byte picks the message type of the set (see fuzz_types_get); the rest is
   decoded as that type with dp_message_decode under a small memory budget,
   re-encoded, decoded again and compared (fuzz_round_trip). An event's
   payload goes through the same, as the type its event type names. */
#include <stdint.h>
#include <stdlib.h>

#include "dp_events.h"
#include "fuzz_support.h"
#include "notify.pb-c.h"

#ifndef DP_FUZZ_SET
#error "build with -DDP_FUZZ_SET=\"<set>\": registry, intake, notify, report, envelope or events"
#endif

static fuzz_types_t s_types;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (fuzz_types_get(DP_FUZZ_SET, &s_types) != 0 || s_types.count == 0)
        fuzz_fail(__FILE__, __LINE__, "fuzz_types_get", "no message set '%s'", DP_FUZZ_SET);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const ProtobufCMessageDescriptor *type = s_types.types[data[0] % s_types.count];
    ProtobufCMessage *message = fuzz_round_trip(type, data + 1, size - 1);
    if (message && type == &dp__event__descriptor) {
        const Dp__Event *event = (const Dp__Event *)message;
        const ProtobufCMessageDescriptor *payload_type = dp_event_payload_type(event->type);
        if (payload_type) {
            ProtobufCMessage *payload =
                fuzz_round_trip(payload_type, event->payload.data, event->payload.len);
            dp_message_free(&payload);
        }
    }
    dp_message_free(&message);
    return 0;
}
