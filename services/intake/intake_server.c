#include "intake_server.h"

#include "dp_log.h"
#include "dp_privacy.h"
#include "dp_security.h"
#include "privacy.pb-c.h"
#include "dp_server.h"
#include "intake_db.h"
#include "intake_service.h"

const dp_setting_t intake_settings[] = {
    {"DP_DATABASE_URL", "", "libpq connection string or URI (empty: libpq's PG* variables)"},
    {"DP_INTAKE_ENDPOINT", "tcp://127.0.0.1:7102", "ZeroMQ endpoint to bind (ROUTER)"},
    {"DP_REGISTRY_ENDPOINT", "tcp://127.0.0.1:7101", "the registry, for partner domains"},
    {"DP_LOG_LEVEL", "info", "debug, info, warning or error"},
    {"DP_MAX_MESSAGE_BYTES", "1048576", "largest request accepted", true, 1024, 67108864},
    {"DP_QUEUE_LIMIT", "10000", "requests queued per client before ZeroMQ pushes back", true, 1,
     1000000},
    {"DP_DB_WAIT_MS", "30000", "how long to wait for PostgreSQL at start", true, 0, 3600000},
    {"DP_INTAKE_MAX_BATCH", "256", "submissions stored in one transaction at most", true, 1, 10000},
    {"DP_INTAKE_MAX_BODY_BYTES", "20000", "longest enquiry body", true, 100, 1000000},
    {"DP_INTAKE_DUPLICATE_WINDOW_HOURS", "72",
     "same sender and subject within this many hours: possible duplicate", true, 0, 87600},
    {"DP_INTAKE_RESPONSE_DAYS", "5", "first-response target in days (sets the due date)", true, 0,
     365},
    {"DP_INTAKE_SENDER_LIMIT_PER_HOUR", "20",
     "submissions from one address per hour before the rest are quarantined (0: no limit)", true, 0,
     1000000},
    {"DP_INTAKE_SOURCE_RATE", "20000",
     "submissions a second per source (feeding system) before RESOURCE_EXHAUSTED (0: no limit)",
     true, 0, 10000000},
    {"DP_INTAKE_PARTNER_REFRESH_MS", "600000",
     "partner domains are reloaded on every partner.* event, and at least this often", true, 100,
     86400000},
    {"DP_NOTIFY_PUB_ENDPOINT", "tcp://127.0.0.1:7104",
     "the notifications service's live events (empty: reload on the timer only)"},
    {"DP_NOTIFY_ENDPOINT", "tcp://127.0.0.1:7103", "the notifications service, for replay"},
    DP_SECURITY_SETTINGS,
    DP_METRICS_SETTINGS("9102"),
    DP_PRIVACY_SETTINGS,
    {"DP_INTAKE_RETENTION_MONTHS", "24",
     "personal data of enquiries closed or rejected longer than this is pseudonymised", true, 1,
     1200},
    {"DP_INTAKE_PRIVACY_JOB_MS", "3600000", "how often retention and tombstones run", true, 1000,
     86400000},
};
const size_t intake_setting_count = sizeof intake_settings / sizeof intake_settings[0];

const dp_route_t intake_routes[] = {
    {&dp__submit_enquiry_request__descriptor, NULL, intake_submit_batch,
     DP_ROLE_FEEDER | DP_ROLE_STAFF},
    {&dp__get_enquiry_request__descriptor, intake_get, NULL},
    {&dp__list_enquiries_request__descriptor, intake_list, NULL},
    {&dp__assign_enquiry_request__descriptor, intake_assign, NULL},
    {&dp__transition_enquiry_request__descriptor, intake_transition, NULL},
    {&dp__add_enquiry_note_request__descriptor, intake_add_note, NULL},
    {&dp__list_triage_rules_request__descriptor, intake_list_rules, NULL},
    {&dp__add_triage_rule_request__descriptor, intake_add_rule, NULL},
    {&dp__remove_triage_rule_request__descriptor, intake_remove_rule, NULL},
    {&dp__list_enquiry_kinds_request__descriptor, intake_list_kinds, NULL,
     DP_ROLE_FEEDER | DP_ROLE_STAFF | DP_ROLE_SERVICE},
    {&dp__add_enquiry_kind_request__descriptor, intake_add_kind, NULL},
    {&dp__erase_personal_data_request__descriptor, intake_erase, NULL},
    {&dp__export_personal_data_request__descriptor, intake_export, NULL},
    {&dp__run_retention_request__descriptor, intake_retention, NULL},
    {&dp__list_audit_request__descriptor, intake_list_audit, NULL},
};
const size_t intake_route_count = sizeof intake_routes / sizeof intake_routes[0];

/* Reloads partner domains when due; until the first load succeeds it tries
   on every tick, so that a registry that starts later is picked up soon. */
static void s_tick(void *state)
{
    intake_t *intake = state;
    int64_t now = zclock_mono();
    if (now >= intake->next_privacy_job) {
        intake_privacy_job(intake);
        intake->next_privacy_job = zclock_mono() + intake->privacy_job_ms;
    }
    if (now < intake->next_refresh)
        return;
    bool ok = intake_triage_refresh(intake->triage, intake->registry) == 0;
    intake->next_refresh = now + (ok ? intake->refresh_ms : 1000);
}

static zsock_t *s_events_socket(void *state)
{
    intake_t *intake = state;
    return intake->partner_events ? dp_follower_socket(intake->partner_events) : NULL;
}

/* A partner changed: its domains may have, so reload them now. */
static void s_on_partner_events(void *state)
{
    intake_t *intake = state;
    size_t seen = 0;
    Dp__Event *event;
    while ((event = dp_follower_next(intake->partner_events, 0)) != NULL) {
        seen++;
        dp_message_free((ProtobufCMessage **)&event);
    }
    if (seen)
        intake->next_refresh = 0;
    s_tick(intake);
}

void intake_actor(zsock_t *pipe, void *args)
{
    const dp_config_t *config = args;
    intake_t intake = {
        .max_body_bytes = (size_t)dp_config_get_int(config, "DP_INTAKE_MAX_BODY_BYTES"),
        .duplicate_window_hours = (int)dp_config_get_int(config, "DP_INTAKE_DUPLICATE_WINDOW_HOURS"),
        .response_days = (int)dp_config_get_int(config, "DP_INTAKE_RESPONSE_DAYS"),
        .refresh_ms = (int)dp_config_get_int(config, "DP_INTAKE_PARTNER_REFRESH_MS"),
        .privacy_key = dp_config_get(config, "DP_PRIVACY_KEY"),
        .retention_months = (int)dp_config_get_int(config, "DP_INTAKE_RETENTION_MONTHS"),
        .privacy_job_ms = (int)dp_config_get_int(config, "DP_INTAKE_PRIVACY_JOB_MS")};
    intake.db = dp_db_new(dp_config_get(config, "DP_DATABASE_URL"), "dp-intake", intake_statements,
                          intake_statement_count);
    intake.registry = dp_client_new(dp_config_get(config, "DP_REGISTRY_ENDPOINT"), 2000, 1);
    /* Intake calls the registry and follows notify as role "service". */
    const char *curve_dir = dp_config_get(config, "DP_CURVE_DIR");
    const char *own_cert = dp_config_get(config, "DP_CURVE_CLIENT_CERT");
    int registry_keys =
        dp_client_keys_load(&intake.registry_keys, curve_dir, own_cert, "registry");
    int notify_keys = dp_client_keys_load(&intake.notify_keys, curve_dir, own_cert, "notify");
    if (intake.registry && registry_keys == 1)
        dp_client_set_keys(intake.registry, &intake.registry_keys);
    intake.triage =
        intake_triage_new((int)dp_config_get_int(config, "DP_INTAKE_SENDER_LIMIT_PER_HOUR"));
    if (intake.triage)
        intake_triage_set_source_rate(intake.triage,
                                      (int)dp_config_get_int(config, "DP_INTAKE_SOURCE_RATE"));
    dp_metrics_t *metrics =
        dp_metrics_start("intake", dp_config_get(config, "DP_METRICS_ADDRESS"),
                         dp_config_get_int(config, "DP_METRICS_PORT"));
    if (!intake.db || !intake.registry || !intake.triage || registry_keys < 0 || notify_keys < 0 ||
        !metrics) {
        dp_error("cannot start: out of memory or a bad DP_REGISTRY_ENDPOINT");
        zsock_signal(pipe, 1);
    } else {
        if (dp_db_connect(intake.db, (int)dp_config_get_int(config, "DP_DB_WAIT_MS")) != 0)
            dp_warning("PostgreSQL not reachable yet: %s", dp_db_failure_message(intake.db));
        const char *pub = dp_config_get(config, "DP_NOTIFY_PUB_ENDPOINT");
        if (*pub)
            intake.partner_events = dp_follower_new_with_keys(
                pub, dp_config_get(config, "DP_NOTIFY_ENDPOINT"), "partner.", 0,
                notify_keys == 1 ? &intake.notify_keys : NULL);
        dp_privacy_warn_default(intake.privacy_key);
        s_tick(&intake);
        dp_server_config_t server = {
            .service_name = "intake",
            .endpoint = dp_config_get(config, "DP_INTAKE_ENDPOINT"),
            .max_message_bytes = (size_t)dp_config_get_int(config, "DP_MAX_MESSAGE_BYTES"),
            .queue_limit = (int)dp_config_get_int(config, "DP_QUEUE_LIMIT"),
            .routes = intake_routes,
            .route_count = intake_route_count,
            .state = &intake,
            .db = intake.db,
            .curve_dir = dp_config_get(config, "DP_CURVE_DIR"),
            .metrics = metrics,
            .max_batch = (size_t)dp_config_get_int(config, "DP_INTAKE_MAX_BATCH"),
            .tick_ms = 250,
            .on_tick = s_tick,
            .extra_socket = s_events_socket,
            .on_extra_socket = s_on_partner_events};
        dp_server_run(&server, pipe);
    }
    dp_metrics_destroy(&metrics);
    dp_follower_destroy(&intake.partner_events);
    intake_triage_destroy(&intake.triage);
    dp_client_destroy(&intake.registry);
    dp_client_keys_free(&intake.registry_keys);
    dp_client_keys_free(&intake.notify_keys);
    dp_db_destroy(&intake.db);
}
