/* dp-fault-submit: submits DP_FAULT_COUNT enquiries to the intake as a
   retrying client would (fault_load.h: Lazy Pirate, several sockets, several
   submissions in flight on each) and keeps at it through whatever the fault
   suite does to the services meanwhile. Writes each acknowledgement to
   DP_FAULT_ACK_FILE and prints its counts as one line of key=value pairs.
   Exit status 0 when every submission was acknowledged, 1 otherwise. */
#include <czmq.h>
#include <stdio.h>

#include "dp_config.h"
#include "fault_common.h"
#include "fault_load.h"

static const dp_setting_t s_settings[] = {
    {"DP_FAULT_ENDPOINT", "tcp://127.0.0.1:7602", "the intake's endpoint"},
    {"DP_FAULT_SOURCE", "faults", "source of the submissions (a slug)"},
    {"DP_FAULT_TAG", "f", "prefix of the idempotency keys: <tag>-<number>"},
    {"DP_FAULT_FIRST", "1", "number of the first submission", true, 1, 1000000000},
    {"DP_FAULT_COUNT", "1000", "submissions to make", true, 1, 100000000},
    {"DP_FAULT_CONNECTIONS", "4", "DEALER sockets", true, 1, 256},
    {"DP_FAULT_INFLIGHT", "8", "submissions in flight per socket", true, 1, 1024},
    {"DP_FAULT_ATTEMPT_MS", "1000", "no reply this long: resend on a fresh socket", true, 50,
     600000},
    {"DP_FAULT_BACKOFF_MS", "200", "wait after a transient refusal (UNAVAILABLE ...)", true, 1,
     60000},
    {"DP_FAULT_RATE", "0", "new submissions per second (0: as fast as answered)", true, 0,
     10000000},
    {"DP_FAULT_DEADLINE_MS", "600000", "give up on what is unacknowledged after this", true, 1000,
     86400000},
    {"DP_FAULT_ACK_FILE", "", "acknowledgements, one 'key<TAB>id<TAB>already' line each"},
};
enum { SETTING_COUNT = sizeof s_settings / sizeof *s_settings };

int main(int argc, char **argv)
{
    int exit_code = 0;
    dp_config_t *config =
        fault_config_load("dp-fault-submit", "retrying enquiry submitter for the fault suite",
                          s_settings, SETTING_COUNT, argc, argv, &exit_code);
    if (!config)
        return exit_code;
    const char *ack_path = dp_config_get(config, "DP_FAULT_ACK_FILE");
    FILE *acks = *ack_path ? fopen(ack_path, "w") : NULL;
    if (*ack_path && !acks) {
        fprintf(stderr, "dp-fault-submit: cannot write %s\n", ack_path);
        dp_config_destroy(&config);
        return 2;
    }
    fault_load_options_t options = {
        .endpoint = dp_config_get(config, "DP_FAULT_ENDPOINT"),
        .source = dp_config_get(config, "DP_FAULT_SOURCE"),
        .tag = dp_config_get(config, "DP_FAULT_TAG"),
        .first = (uint64_t)dp_config_get_int(config, "DP_FAULT_FIRST"),
        .count = (uint64_t)dp_config_get_int(config, "DP_FAULT_COUNT"),
        .connections = (int)dp_config_get_int(config, "DP_FAULT_CONNECTIONS"),
        .inflight = (int)dp_config_get_int(config, "DP_FAULT_INFLIGHT"),
        .attempt_ms = (int)dp_config_get_int(config, "DP_FAULT_ATTEMPT_MS"),
        .backoff_ms = (int)dp_config_get_int(config, "DP_FAULT_BACKOFF_MS"),
        .rate = dp_config_get_int(config, "DP_FAULT_RATE"),
        .acks = acks};
    int64_t deadline = fault_now_us() + dp_config_get_int(config, "DP_FAULT_DEADLINE_MS") * 1000;
    fault_load_t *load = fault_load_new(&options);
    int status = 1;
    if (!load)
        fprintf(stderr, "dp-fault-submit: cannot connect to %s\n", options.endpoint);
    else {
        while (!fault_load_done(load) && !fault_stopping() && fault_now_us() < deadline)
            fault_load_step(load, 100);
        const fault_load_counts_t *counts = fault_load_counts(load);
        fault_load_print(load, stdout);
        printf("\n");
        if (*counts->first_error)
            fprintf(stderr, "dp-fault-submit %s: first refusal: %s\n", options.tag,
                    counts->first_error);
        if (*counts->first_transient)
            fprintf(stderr, "dp-fault-submit %s: first transient refusal: %s\n", options.tag,
                    counts->first_transient);
        status = counts->acked == options.count ? 0 : 1;
        fault_load_destroy(&load);
    }
    if (acks && fclose(acks) != 0) {
        fprintf(stderr, "dp-fault-submit: cannot write %s\n", ack_path);
        status = 2;
    }
    dp_config_destroy(&config);
    return status;
}
