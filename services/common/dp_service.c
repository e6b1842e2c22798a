#include "dp_service.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "dp_log.h"

int dp_service_main(const dp_service_t *service, int argc, char **argv)
{
    /* Block the stop signals before any thread exists, so that every thread
       inherits the mask and only sigwait below receives them. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);

    dp_config_t *config = dp_config_new(service->program, service->summary, service->settings,
                                        service->setting_count);
    if (!config)
        return 1;
    int loaded = dp_config_load(config, argc, argv);
    if (loaded != 0) {
        dp_config_destroy(&config);
        return loaded > 0 ? 0 : 2;
    }
    const char *log_format = getenv("DP_LOG_FORMAT");
    if (dp_log_init(service->log_ident, dp_config_get(config, "DP_LOG_LEVEL")) != 0 ||
        dp_log_set_format(log_format) != 0) {
        fprintf(stderr,
                "%s: DP_LOG_LEVEL must be debug, info, warning or error, and "
                "DP_LOG_FORMAT text or json\n",
                service->program);
        dp_config_destroy(&config);
        return 2;
    }
    zsys_handler_set(NULL);
    zsys_init();
    zactor_t *actor = dp_server_start(service->actor, config, NULL);
    if (!actor) {
        dp_error("could not start");
        dp_config_destroy(&config);
        return 1;
    }
    int received = 0;
    sigwait(&signals, &received);
    dp_info("received %s, stopping", received == SIGINT ? "SIGINT" : "SIGTERM");
    zactor_destroy(&actor);
    dp_config_destroy(&config);
    return 0;
}

void dp_service_serve(zsock_t *pipe, const dp_server_config_t *server)
{
    if (server)
        dp_server_run(server, pipe);
    else
        dp_server_refuse(pipe);
}

dp_server_config_t dp_service_server_config(const dp_config_t *config, const char *service_name,
                                            const char *endpoint_setting)
{
    return (dp_server_config_t){.service_name = service_name,
                                .endpoint = dp_config_get(config, endpoint_setting),
                                .max_message_bytes =
                                    (size_t)dp_config_get_int(config, "DP_MAX_MESSAGE_BYTES"),
                                .queue_limit = (int)dp_config_get_int(config, "DP_QUEUE_LIMIT"),
                                .db_wait_ms = (int)dp_config_get_int(config, "DP_DB_WAIT_MS"),
                                .curve_dir = dp_config_get(config, "DP_CURVE_DIR")};
}

void dp_service_server_handlers(dp_server_config_t *server, const dp_route_t *routes,
                                size_t route_count, void *state, dp_db_t *db, dp_metrics_t *metrics)
{
    server->routes = routes;
    server->route_count = route_count;
    server->state = state;
    server->db = db;
    server->metrics = metrics;
}
