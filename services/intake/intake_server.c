#include "intake_server.h"

#include <stdlib.h>
#include <string.h>

#include "dp_log.h"
#include "dp_privacy.h"
#include "dp_security.h"
#include "dp_service.h"
#include "intake_db.h"
#include "intake_partners.h"
#include "intake_service.h"
#include "privacy.pb-c.h"
#include "registry.pb-c.h"

const dp_setting_t intake_settings[] = {
    {"DP_DATABASE_URL", "", "libpq connection string or URI (empty: libpq's PG* variables)"},
    {"DP_INTAKE_ENDPOINT", "tcp://127.0.0.1:7102", "ZeroMQ endpoint to bind (ROUTER)"},
    {"DP_REGISTRY_ENDPOINT", "tcp://127.0.0.1:7101", "the registry, for partner domains"},
    DP_SERVICE_SETTINGS("10000"),
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
    {"DP_NOTIFY_ENDPOINT", "tcp://127.0.0.1:7103",
     "the notifications service (unused by the intake since partner events need no replay)"},
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
    {&dp__count_enquiries_request__descriptor, intake_count, NULL},
    {&dp__change_due_date_request__descriptor, intake_change_due, NULL},
    {&dp__merge_enquiry_request__descriptor, intake_merge, NULL},
    {&dp__reply_to_enquiry_request__descriptor, intake_reply, NULL},
    {&dp__record_admission_request__descriptor, intake_record_admission, NULL},
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

/* Reads what the privacy actor reported; its runs are logged where they
   happen, so only a failed run is worth a line here. */
static void s_tick(void *state)
{
    intake_t *intake = state;
    while (intake->privacy && (zsock_events(zactor_sock(intake->privacy)) & ZMQ_POLLIN)) {
        char *what = NULL;
        int reapplied = 0, retained = 0;
        if (zsock_recv(intake->privacy, "sii", &what, &reapplied, &retained) == 0 && what &&
            reapplied < 0)
            dp_warning("privacy job did not run: the database was not reachable");
        zstr_free(&what);
    }
}

static zsock_t *s_partners_socket(void *state)
{
    intake_t *intake = state;
    return intake->partners ? zactor_sock(intake->partners) : NULL;
}

/* A fresh partner map from the partner actor: the registry's two answers.
   Installed between two requests, then the actor is told, so that it
   matches what was stored before without one. */
static void s_on_partners(void *state)
{
    intake_t *intake = state;
    zmsg_t *message = zmsg_recv(intake->partners);
    if (!message)
        return;
    char *command = zmsg_popstr(message);
    zframe_t *domains_frame = zmsg_pop(message);
    zframe_t *areas_frame = zmsg_pop(message);
    if (command && strcmp(command, "PARTNERS") == 0 && domains_frame && areas_frame) {
        Dp__ListPartnerDomainsReply *domains = (Dp__ListPartnerDomainsReply *)dp_message_decode(
            &dp__list_partner_domains_reply__descriptor, zframe_data(domains_frame),
            zframe_size(domains_frame), zframe_size(domains_frame) * 8 + 65536);
        Dp__ListAreasReply *areas = (Dp__ListAreasReply *)dp_message_decode(
            &dp__list_areas_reply__descriptor, zframe_data(areas_frame), zframe_size(areas_frame),
            zframe_size(areas_frame) * 8 + 65536);
        intake_partners_t *map = domains && areas ? intake_partners_new(domains, areas) : NULL;
        bool installed = map != NULL;
        if (map) {
            if (!intake_triage_has_partners(intake->triage))
                dp_info("partner domains loaded: %zu domains, %zu areas",
                        intake_partners_domain_count(map), intake_partners_area_count(map));
            intake_triage_set_partners(intake->triage, &map);
        }
        /* Either way the actor hears back: it asks again only after an answer. */
        zstr_send(intake->partners, installed ? "INSTALLED" : "REFUSED");
        dp_message_free((ProtobufCMessage **)&domains);
        dp_message_free((ProtobufCMessage **)&areas);
    }
    zstr_free(&command);
    zframe_destroy(&domains_frame);
    zframe_destroy(&areas_frame);
    zmsg_destroy(&message);
}

/* The pipe's questions: "PARTNERS" answers "yes" once a partner map is
   installed (tests wait for it), else "no". */
static const char *s_pipe_query(void *state, const char *command)
{
    intake_t *intake = state;
    if (strcmp(command, "PARTNERS") == 0)
        return intake_triage_has_partners(intake->triage) ? "yes" : "no";
    return NULL;
}

intake_t *intake_new(const dp_config_t *config)
{
    /* Refused before anything starts: with CURVE on, the privacy key must be a real secret. */
    if (dp_privacy_key_check(dp_config_get(config, "DP_PRIVACY_KEY"),
                             dp_config_get(config, "DP_CURVE_DIR")) != 0)
        return NULL;
    intake_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    *self =
        (intake_t){.max_body_bytes = (size_t)dp_config_get_int(config, "DP_INTAKE_MAX_BODY_BYTES"),
                   .duplicate_window_hours =
                       (int)dp_config_get_int(config, "DP_INTAKE_DUPLICATE_WINDOW_HOURS"),
                   .response_days = (int)dp_config_get_int(config, "DP_INTAKE_RESPONSE_DAYS"),
                   .refresh_ms = (int)dp_config_get_int(config, "DP_INTAKE_PARTNER_REFRESH_MS"),
                   .privacy_key = dp_config_get(config, "DP_PRIVACY_KEY"),
                   .retention_months = (int)dp_config_get_int(config, "DP_INTAKE_RETENTION_MONTHS"),
                   .privacy_job_ms = (int)dp_config_get_int(config, "DP_INTAKE_PRIVACY_JOB_MS")};
    self->db = dp_db_new(dp_config_get(config, "DP_DATABASE_URL"), "dp-intake", intake_statements,
                         intake_statement_count);
    self->triage =
        intake_triage_new((int)dp_config_get_int(config, "DP_INTAKE_SENDER_LIMIT_PER_HOUR"));
    if (self->triage)
        intake_triage_set_source_rate(self->triage,
                                      (int)dp_config_get_int(config, "DP_INTAKE_SOURCE_RATE"));
    self->metrics = dp_metrics_start("intake", dp_config_get(config, "DP_METRICS_ADDRESS"),
                                     dp_config_get_int(config, "DP_METRICS_PORT"));
    /* The actors start first: the server never waits for what they bring.
       The partner actor says at once whether its keys and endpoints are
       good (a bad key folder stops the service, as it would any client). */
    bool started = false;
    if (self->db && self->triage && self->metrics) {
        self->partners = zactor_new(intake_partners_actor, (void *)config);
        char *word = self->partners ? zstr_recv(self->partners) : NULL;
        started = word && strcmp(word, "READY") == 0;
        zstr_free(&word);
        self->privacy = started ? zactor_new(intake_privacy_actor, (void *)config) : NULL;
    } else
        dp_error("cannot start: out of memory");
    if (!started || !self->privacy) {
        intake_destroy(&self);
        return NULL;
    }
    dp_privacy_warn_default(self->privacy_key);
    dp_server_config_t *server = &self->server;
    *server = dp_service_server_config(config, "intake", "DP_INTAKE_ENDPOINT");
    dp_service_server_handlers(server, intake_routes, intake_route_count, self, self->db,
                               self->metrics);
    server->max_batch = (size_t)dp_config_get_int(config, "DP_INTAKE_MAX_BATCH");
    server->tick_ms = 250;
    server->on_tick = s_tick;
    server->extra_socket = s_partners_socket;
    server->on_extra_socket = s_on_partners;
    server->pipe_query = s_pipe_query;
    return self;
}

void intake_destroy(intake_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    intake_t *self = *self_p;
    /* Each actor polls its pipe between short steps: both stop at once. */
    zactor_destroy(&self->partners);
    zactor_destroy(&self->privacy);
    dp_metrics_destroy(&self->metrics);
    intake_triage_destroy(&self->triage);
    dp_db_destroy(&self->db);
    free(self);
    *self_p = NULL;
}

const dp_server_config_t *intake_server_config(const intake_t *self)
{
    return &self->server;
}

void intake_actor(zsock_t *pipe, void *config)
{
    intake_t *self = intake_new(config);
    dp_service_serve(pipe, self ? intake_server_config(self) : NULL);
    intake_destroy(&self);
}
