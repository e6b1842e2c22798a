/* dp-fault-health: waits until a service answers dp.HealthRequest with its
   database connected, then prints the reply's service, uptime and requests
   served. Exit status 0 when it did within DP_FAULT_WAIT_MS, 1 otherwise. */
#include <czmq.h>
#include <stdio.h>

#include "dp_client.h"
#include "dp_config.h"
#include "fault_common.h"

static const dp_setting_t s_settings[] = {
    {"DP_FAULT_ENDPOINT", "tcp://127.0.0.1:7602", "the service's endpoint"},
    {"DP_FAULT_WAIT_MS", "20000", "give up after this long", true, 0, 3600000},
    {"DP_FAULT_NEED_DATABASE", "1", "1: wait for database_ok too; 0: any answer", true, 0, 1},
};
enum { SETTING_COUNT = sizeof s_settings / sizeof *s_settings };

int main(int argc, char **argv)
{
    int exit_code = 0;
    dp_config_t *config = fault_config_load("dp-fault-health", "waits until a service is healthy",
                                            s_settings, SETTING_COUNT, argc, argv, &exit_code);
    if (!config)
        return exit_code;
    const char *endpoint = dp_config_get(config, "DP_FAULT_ENDPOINT");
    bool need_database = dp_config_get_int(config, "DP_FAULT_NEED_DATABASE") == 1;
    int64_t deadline = fault_now_us() + dp_config_get_int(config, "DP_FAULT_WAIT_MS") * 1000;
    char last[600] = "no answer";
    int status = 1;
    while (status != 0 && !fault_stopping()) {
        dp_client_t *client = dp_client_new(endpoint, 500, 1);
        Dp__HealthRequest request = DP__HEALTH_REQUEST__INIT;
        Dp__HealthReply *reply = NULL;
        dp_status_t answer;
        if (client &&
            dp_client_call(client, &request.base, &dp__health_reply__descriptor,
                           (ProtobufCMessage **)&reply, &answer) == 0 &&
            answer.code == DP__CODE__CODE_OK && reply) {
            snprintf(last, sizeof last, "database %s", reply->database_message);
            if (reply->database_ok || !need_database) {
                printf("service=%s uptime_s=%lld requests_served=%llu database_ok=%d\n",
                       reply->service, (long long)reply->uptime_seconds,
                       (unsigned long long)reply->requests_served, reply->database_ok);
                status = 0;
            }
        } else if (client)
            snprintf(last, sizeof last, "%s", answer.message);
        dp_message_free((ProtobufCMessage **)&reply);
        dp_client_destroy(&client);
        if (status != 0 && fault_now_us() >= deadline)
            break;
        if (status != 0)
            zclock_sleep(100);
    }
    if (status != 0)
        fprintf(stderr, "dp-fault-health: %s not healthy: %s\n", endpoint, last);
    dp_config_destroy(&config);
    return status;
}
