/* dp-fault-follow: a subscriber of the live event stream built on
   dp_follower (services/common/dp_events.h), from DP_FAULT_FROM_SEQ. It
   writes the seq of every event it is given, one per line, to
   DP_FAULT_SEQ_FILE, and on SIGTERM prints what it got: how many, the first
   and last seq, how many came by replay, and how many were out of order
   (a seq other than the previous one plus one). The fault suite pauses it
   with SIGSTOP and checks the file. */
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>

#include "dp_config.h"
#include "dp_events.h"
#include "dp_log.h"
#include "fault_common.h"

static const dp_setting_t s_settings[] = {
    {"DP_FAULT_PUB_ENDPOINT", "tcp://127.0.0.1:7604", "the notifications service's PUB"},
    {"DP_FAULT_ENDPOINT", "tcp://127.0.0.1:7603", "the notifications service, for replay"},
    {"DP_FAULT_PREFIX", "", "topic prefix of the events wanted"},
    {"DP_FAULT_FROM_SEQ", "1", "first seq wanted (0: from the next live event)", true, 0,
     1000000000000},
    {"DP_FAULT_SEQ_FILE", "", "where the seqs go, one per line (required)"},
};
enum { SETTING_COUNT = sizeof s_settings / sizeof *s_settings };

int main(int argc, char **argv)
{
    int exit_code = 0;
    dp_config_t *config =
        fault_config_load("dp-fault-follow", "event stream subscriber for the fault suite",
                          s_settings, SETTING_COUNT, argc, argv, &exit_code);
    if (!config)
        return exit_code;
    dp_log_init("dp-fault-follow", "warning");
    const char *path = dp_config_get(config, "DP_FAULT_SEQ_FILE");
    FILE *out = *path ? fopen(path, "w") : NULL;
    dp_follower_t *follower =
        out ? dp_follower_new(dp_config_get(config, "DP_FAULT_PUB_ENDPOINT"),
                              dp_config_get(config, "DP_FAULT_ENDPOINT"),
                              dp_config_get(config, "DP_FAULT_PREFIX"),
                              (uint64_t)dp_config_get_int(config, "DP_FAULT_FROM_SEQ"))
            : NULL;
    if (!follower) {
        fprintf(stderr, "dp-fault-follow: cannot write '%s' or cannot subscribe\n", path);
        if (out)
            fclose(out);
        dp_config_destroy(&config);
        return 2;
    }
    uint64_t received = 0, first = 0, last = 0, out_of_order = 0;
    while (!fault_stopping()) {
        Dp__Event *event = dp_follower_next(follower, 200);
        bool wrote = false;
        while (event) {
            if (received && event->seq != last + 1)
                out_of_order++;
            if (!received)
                first = event->seq;
            last = event->seq;
            received++;
            fprintf(out, "%" PRIu64 "\n", event->seq);
            wrote = true;
            dp_message_free((ProtobufCMessage **)&event);
            event = dp_follower_next(follower, 0);
        }
        if (wrote)
            fflush(out);
    }
    int status = fclose(out) == 0 ? 0 : 2;
    printf("received=%" PRIu64 " first=%" PRIu64 " last=%" PRIu64 " repaired=%" PRIu64
           " out_of_order=%" PRIu64 "\n",
           received, first, last, dp_follower_repaired(follower), out_of_order);
    dp_follower_destroy(&follower);
    dp_config_destroy(&config);
    return status;
}
