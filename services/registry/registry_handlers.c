#include "registry_handlers.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dp_validate.h"
#include "events.pb-c.h"
#include "dp_privacy.h"
#include "dp_security.h"
#include "privacy.pb-c.h"
#include "registry_db.h"

enum {
    MAX_NAME_BYTES = 200,
    MAX_LABEL_BYTES = 300,
    MAX_TITLE_BYTES = 300,
    MAX_NOTE_BYTES = 2000,
    MAX_INSTRUMENT_BYTES = 200,
    MAX_SEARCH_BYTES = 200,
    MAX_EMAIL_BYTES = 254,
    MAX_DOMAINS = 20,
    MAX_AREAS = 50,
    DEFAULT_PAGE_SIZE = 50,
    MAX_PAGE_SIZE = 500
};

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

/* ---- validation ------------------------------------------------------------ */

static bool s_check_text(dp_reply_t *reply, const char *field, const char *value, size_t max,
                         bool required)
{
    if (required ? dp_valid_required_text(value, max) : dp_valid_text(value, max))
        return true;
    dp_reply_error(reply, INVALID, field, "%s must be %s UTF-8 text of at most %zu bytes", field,
                   required ? "non-blank" : "printable", max);
    return false;
}

static bool s_check_date(dp_reply_t *reply, const char *field, const char *value, bool required)
{
    if ((!required && !*value) || dp_valid_date(value))
        return true;
    dp_reply_error(reply, INVALID, field, "%s must be a date YYYY-MM-DD%s", field,
                   required ? "" : " or empty");
    return false;
}

/* A date the client writes into the record (joining, renaming,
   withdrawal, engagement): from FIRST_RECORD_DATE to the end of
   `years_ahead` years after this one. A typo such as 2999 or 0201 would
   otherwise stay in the history for good. */
#define FIRST_RECORD_DATE "1990-01-01"

static bool s_check_record_date(dp_reply_t *reply, const char *field, const char *value,
                                bool required, int years_ahead)
{
    if (!s_check_date(reply, field, value, required))
        return false;
    if (!*value)
        return true;
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    char last[16];
    snprintf(last, sizeof last, "%04d-12-31", (utc.tm_year + 1900 + years_ahead) % 10000);
    if (strcmp(value, FIRST_RECORD_DATE) >= 0 && strcmp(value, last) <= 0)
        return true;
    dp_reply_error(reply, INVALID, field, "%s must be between %s and %s", field,
                   FIRST_RECORD_DATE, last);
    return false;
}

static bool s_check_slug(dp_reply_t *reply, const char *field, const char *value)
{
    if (dp_valid_slug(value))
        return true;
    dp_reply_error(reply, INVALID, field,
                   "%s must be 1 to 63 lower-case letters, digits or inner hyphens", field);
    return false;
}

/* An id or a slug, not both: with both, one of them would be ignored
   without a word, and a caller could not tell which partner it changed. */
static bool s_check_ref(dp_reply_t *reply, const Dp__PartnerRef *ref)
{
    bool id = ref && ref->id != 0, slug = ref && ref->slug && *ref->slug;
    if (id && slug) {
        dp_reply_error(reply, INVALID, "partner", "partner must give an id or a slug, not both");
        return false;
    }
    if (ref && ref->id < 0) {
        dp_reply_error(reply, INVALID, "partner.id", "partner.id must be a positive id");
        return false;
    }
    if (id || slug)
        return true;
    dp_reply_error(reply, INVALID, "partner", "partner must give an id or a slug");
    return false;
}

static bool s_check_domains(dp_reply_t *reply, char **domains, size_t count)
{
    if (count > MAX_DOMAINS) {
        dp_reply_error(reply, INVALID, "domains", "at most %d domains", MAX_DOMAINS);
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        if (!dp_valid_domain(domains[i])) {
            dp_reply_error(reply, INVALID, "domains",
                           "domains[%zu] must be a lower-case domain name such as example.org", i);
            return false;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(domains[i], domains[j]) == 0) {
                dp_reply_error(reply, INVALID, "domains", "domain %s is given twice", domains[i]);
                return false;
            }
    }
    return true;
}

static bool s_check_area_slugs(dp_reply_t *reply, char **areas, size_t count)
{
    if (count > MAX_AREAS) {
        dp_reply_error(reply, INVALID, "areas", "at most %d areas", MAX_AREAS);
        return false;
    }
    for (size_t i = 0; i < count; i++)
        if (!dp_valid_slug(areas[i])) {
            dp_reply_error(reply, INVALID, "areas", "areas[%zu] is not a slug", i);
            return false;
        }
    return true;
}

/* A date known to the month is the first of that month; to the year, the first of January. */
static bool s_check_precision(dp_reply_t *reply, const char *date, Dp__DatePrecision precision)
{
    if (precision != DP__DATE_PRECISION__DATE_PRECISION_UNSPECIFIED &&
        !registry_precision_text(precision)) {
        dp_reply_error(reply, INVALID, "joined_precision", "joined_precision is not a known value");
        return false;
    }
    bool month_ok = strcmp(date + 8, "01") == 0;
    bool year_ok = strcmp(date + 5, "01-01") == 0;
    if ((precision == DP__DATE_PRECISION__DATE_PRECISION_MONTH && !month_ok) ||
        (precision == DP__DATE_PRECISION__DATE_PRECISION_YEAR && !year_ok)) {
        dp_reply_error(reply, INVALID, "joined_precision",
                       "a date known only to the %s must be given as its first day",
                       precision == DP__DATE_PRECISION__DATE_PRECISION_MONTH ? "month" : "year");
        return false;
    }
    return true;
}

static const char *s_precision_or_day(Dp__DatePrecision precision)
{
    const char *text = registry_precision_text(precision);
    return text ? text : "day";
}

/* Parses an opaque page token (the last id of the previous page). */
static bool s_page(dp_reply_t *reply, const char *token, uint32_t page_size, int64_t *after,
                   int *limit)
{
    if (page_size > MAX_PAGE_SIZE) {
        dp_reply_error(reply, INVALID, "page_size", "page_size must be at most %d", MAX_PAGE_SIZE);
        return false;
    }
    *limit = page_size ? (int)page_size : DEFAULT_PAGE_SIZE;
    *after = 0;
    if (!*token)
        return true;
    char *end = NULL;
    long long value = strtoll(token, &end, 10);
    if (*end || value <= 0 || strlen(token) > 19) {
        dp_reply_error(reply, INVALID, "page_token", "page_token is not one this service issued");
        return false;
    }
    *after = value;
    return true;
}

static char *s_next_token(dp_arena_t *arena, size_t count, int limit, int64_t last_id)
{
    if (count < (size_t)limit)
        return "";
    char *token = dp_arena_alloc(arena, 24);
    if (token)
        snprintf(token, 24, "%" PRId64, last_id);
    return token ? token : "";
}

static void s_today(char buffer[11])
{
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(buffer, 11, "%Y-%m-%d", &utc);
}

/* ---- transactions ------------------------------------------------------------ */

/* What a write transaction works with; reset at the start of each attempt. */
typedef struct {
    registry_t *registry;          /* the service */
    const ProtobufCMessage *input; /* the decoded request */
    dp_reply_t *reply;             /* where a refusal is written */
    Dp__Partner *partner;          /* the partner after the change */
    int64_t child_id;              /* contact or engagement id made by the change */
    void *extra;                   /* a handler's own result */
} write_t;

static int s_run(write_t *write, dp_txn_body_fn *body)
{
    int outcome = dp_db_transaction(write->registry->db, body, write);
    if (outcome < 0) {
        dp_db_t *db = write->registry->db;
        const char *constraint = dp_db_failure_constraint(db);
        if (dp_db_failure(db) == DP_DB_UNIQUE_VIOLATION && strcmp(constraint, "partner_slug_key") == 0)
            dp_reply_error(write->reply, DP__CODE__CODE_ALREADY_EXISTS, "slug",
                           "a partner with this slug already exists");
        else if (dp_db_failure(db) == DP_DB_UNIQUE_VIOLATION &&
                 strcmp(constraint, "partner_domain_pkey") == 0)
            dp_reply_error(write->reply, DP__CODE__CODE_ALREADY_EXISTS, "domains",
                           "a domain already belongs to another partner");
        else
            dp_reply_db_failure(write->reply, db);
    }
    return outcome;
}

/* Locks the partner named by ref, or refuses with NOT_FOUND. */
static dp_txn_outcome_t s_lock(write_t *write, const Dp__PartnerRef *ref, registry_partner_key_t *key)
{
    int found = registry_db_lock_partner(write->registry->db, ref, key);
    if (found < 0)
        return DP_TXN_FAILED;
    if (!found) {
        /* The slug is echoed only when it is one: anything else the client
           sent (control characters, escapes) never comes back. */
        bool slug = ref->slug && *ref->slug;
        dp_reply_error(write->reply, DP__CODE__CODE_NOT_FOUND, "partner", "no partner %s%s",
                       !slug                        ? "with this id"
                       : dp_valid_slug(ref->slug) ? "with slug "
                                                    : "with this slug",
                       slug && dp_valid_slug(ref->slug) ? ref->slug : "");
        return DP_TXN_ROLLBACK;
    }
    return DP_TXN_COMMIT;
}

/* Refuses domains owned by another partner and areas that do not exist. */
static dp_txn_outcome_t s_check_links(write_t *write, int64_t id, char **domains,
                                      size_t domain_count, char **areas, size_t area_count)
{
    dp_db_t *db = write->registry->db;
    dp_arena_t *arena = dp_reply_arena(write->reply);
    char *taken = NULL, *owner = NULL, *unknown = NULL;
    int found = registry_db_find_taken_domain(db, arena, id, domains, domain_count, &taken, &owner);
    if (found < 0)
        return DP_TXN_FAILED;
    if (found) {
        dp_reply_error(write->reply, DP__CODE__CODE_ALREADY_EXISTS, "domains",
                       "domain %s already belongs to partner %s", taken, owner);
        return DP_TXN_ROLLBACK;
    }
    found = registry_db_find_unknown_area(db, arena, areas, area_count, &unknown);
    if (found < 0)
        return DP_TXN_FAILED;
    if (found) {
        dp_reply_error(write->reply, INVALID, "areas", "unknown area '%s'", unknown);
        return DP_TXN_ROLLBACK;
    }
    return DP_TXN_COMMIT;
}

/* Reloads the changed partner and writes its event. */
static dp_txn_outcome_t s_partner_event(write_t *write, int64_t id, const char *event_type,
                                        const char *effective_on, char **changed, size_t n_changed)
{
    dp_db_t *db = write->registry->db;
    if (registry_db_load_partner(db, dp_reply_arena(write->reply), id, &write->partner) != 1)
        return DP_TXN_FAILED;
    Dp__Partner *partner = write->partner;
    Dp__PartnerEvent event = DP__PARTNER_EVENT__INIT;
    event.partner_id = partner->id;
    event.slug = partner->slug;
    event.name = partner->name;
    event.kind = (char *)registry_kind_text(partner->kind);
    event.status = (char *)registry_status_text(partner->status);
    event.effective_on = (char *)(effective_on ? effective_on : "");
    event.changed_fields = changed;
    event.n_changed_fields = n_changed;
    event.version = partner->version;
    char aggregate[24];
    snprintf(aggregate, sizeof aggregate, "%" PRId64, partner->id);
    if (registry_db_append_event(db, event_type, "partner", aggregate, &event.base) < 0)
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

/* Writes an event about something that belongs to a partner, and bumps the partner's version. */
static dp_txn_outcome_t s_child_event(write_t *write, int64_t partner_id, const char *event_type,
                                      const ProtobufCMessage *payload)
{
    dp_db_t *db = write->registry->db;
    char aggregate[24];
    snprintf(aggregate, sizeof aggregate, "%" PRId64, partner_id);
    if (registry_db_touch_partner(db, partner_id) < 0 ||
        registry_db_append_event(db, event_type, "partner", aggregate, payload) < 0)
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

static void s_reply_partner(write_t *write, int outcome, ProtobufCMessage *reply_message,
                            Dp__Partner **slot)
{
    if (outcome != 0)
        return;
    *slot = write->partner;
    dp_reply_ok(write->reply, reply_message);
}

/* ---- create ------------------------------------------------------------------- */

static dp_txn_outcome_t s_create_body(dp_db_t *db, void *arg)
{
    write_t *write = arg;
    const Dp__CreatePartnerRequest *request = (const Dp__CreatePartnerRequest *)write->input;
    dp_txn_outcome_t outcome =
        s_check_links(write, 0, request->domains, request->n_domains, request->areas,
                      request->n_areas);
    if (outcome != DP_TXN_COMMIT)
        return outcome;
    registry_partner_fields_t fields = {
        .kind = registry_kind_text(request->kind),
        .website = request->website,
        .joined_on = request->joined_on,
        .precision = s_precision_or_day(request->joined_precision),
        .instrument = *request->instrument ? request->instrument : "exchange of letters",
        .note = request->note};
    int64_t id = 0;
    if (registry_db_insert_partner(db, request->slug, &fields, &id) < 0 ||
        registry_db_add_name(db, id, request->name, request->joined_on) < 0 ||
        registry_db_replace_domains(db, id, request->domains, request->n_domains) < 0 ||
        registry_db_replace_areas(db, id, request->areas, request->n_areas) < 0)
        return DP_TXN_FAILED;
    return s_partner_event(write, id, "partner.joined", request->joined_on, NULL, 0);
}

static void s_create(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__CreatePartnerRequest *request = (const Dp__CreatePartnerRequest *)message;
    if (!s_check_slug(reply, "slug", request->slug) ||
        !s_check_text(reply, "name", request->name, MAX_NAME_BYTES, true))
        return;
    if (!registry_kind_text(request->kind)) {
        dp_reply_error(reply, INVALID, "kind", "kind must be COMPANY or ASSOCIATION");
        return;
    }
    if (!dp_valid_url(request->website)) {
        dp_reply_error(reply, INVALID, "website", "website must be an http:// or https:// URL");
        return;
    }
    if (!s_check_domains(reply, request->domains, request->n_domains) ||
        !s_check_record_date(reply, "joined_on", request->joined_on, true, 1) ||
        !s_check_precision(reply, request->joined_on, request->joined_precision) ||
        !s_check_text(reply, "instrument", request->instrument, MAX_INSTRUMENT_BYTES, false) ||
        !s_check_area_slugs(reply, request->areas, request->n_areas) ||
        !s_check_text(reply, "note", request->note, MAX_NOTE_BYTES, false))
        return;
    write_t write = {.registry = state, .input = message, .reply = reply};
    Dp__CreatePartnerReply answer = DP__CREATE_PARTNER_REPLY__INIT;
    s_reply_partner(&write, s_run(&write, s_create_body), &answer.base, &answer.partner);
}

/* ---- get and list -------------------------------------------------------------- */

static void s_get(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    registry_t *registry = state;
    const Dp__GetPartnerRequest *request = (const Dp__GetPartnerRequest *)message;
    if (!s_check_ref(reply, request->partner) || !s_check_date(reply, "as_of", request->as_of, false))
        return;
    Dp__GetPartnerReply answer = DP__GET_PARTNER_REPLY__INIT;
    /* Contact persons go to staff (and front ends acting for staff) only:
       another service asks for a partner's figures, never its people. */
    bool with_contacts = (dp_reply_role(reply) & (DP_ROLE_STAFF | DP_ROLE_FRONTEND)) != 0;
    int found = registry_db_get_partner(registry->db, dp_reply_arena(reply), request->partner,
                                        request->as_of, with_contacts, &answer.partner);
    /* Contact persons are personal data: their reading is recorded. */
    if (found == 1 && answer.partner->n_contacts &&
        registry_audit_contacts(registry, reply, answer.partner->id) < 0)
        found = -1;
    if (found < 0)
        dp_reply_db_failure(reply, registry->db);
    else if (found == 0)
        dp_reply_error(reply, DP__CODE__CODE_NOT_FOUND, "partner", "no such partner");
    else
        dp_reply_ok(reply, &answer.base);
}

static void s_list(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    registry_t *registry = state;
    const Dp__ListPartnersRequest *request = (const Dp__ListPartnersRequest *)message;
    int64_t after = 0;
    int limit = 0;
    if (!s_check_date(reply, "as_of", request->as_of, false) ||
        !s_check_date(reply, "joined_from", request->joined_from, false) ||
        !s_check_date(reply, "joined_to", request->joined_to, false) ||
        !s_check_text(reply, "name_search", request->name_search, MAX_SEARCH_BYTES, false) ||
        (*request->area && !s_check_slug(reply, "area", request->area)) ||
        !s_page(reply, request->page_token, request->page_size, &after, &limit))
        return;
    if (request->kind != DP__PARTNER_KIND__PARTNER_KIND_UNSPECIFIED && !registry_kind_text(request->kind)) {
        dp_reply_error(reply, INVALID, "kind", "kind is not a known value");
        return;
    }
    if (request->status != DP__PARTNER_STATUS__PARTNER_STATUS_UNSPECIFIED &&
        !registry_status_text(request->status)) {
        dp_reply_error(reply, INVALID, "status", "status is not a known value");
        return;
    }
    Dp__ListPartnersReply answer = DP__LIST_PARTNERS_REPLY__INIT;
    dp_arena_t *arena = dp_reply_arena(reply);
    if (registry_db_list_partners(registry->db, arena, request, after, limit, &answer.partners,
                                  &answer.n_partners) < 0) {
        dp_reply_db_failure(reply, registry->db);
        return;
    }
    answer.next_page_token = s_next_token(
        arena, answer.n_partners, limit,
        answer.n_partners ? answer.partners[answer.n_partners - 1]->id : 0);
    dp_reply_ok(reply, &answer.base);
}

/* ---- update ------------------------------------------------------------------- */

/* The fields an update may name, in the order the event lists them. */
static const char *s_updatable[] = {"kind", "website", "domains", "areas", "note", "joined_on",
                                    "joined_precision", "instrument"};

static bool s_masked(const Dp__UpdatePartnerRequest *request, const char *field)
{
    for (size_t i = 0; i < request->n_update_mask; i++)
        if (strcmp(request->update_mask[i], field) == 0)
            return true;
    return false;
}

static dp_txn_outcome_t s_update_body(dp_db_t *db, void *arg)
{
    write_t *write = arg;
    const Dp__UpdatePartnerRequest *request = (const Dp__UpdatePartnerRequest *)write->input;
    registry_partner_key_t key;
    dp_txn_outcome_t outcome = s_lock(write, request->partner, &key);
    if (outcome != DP_TXN_COMMIT)
        return outcome;
    if (request->expected_version && request->expected_version != key.version) {
        dp_reply_error(write->reply, DP__CODE__CODE_FAILED_PRECONDITION, "expected_version",
                       "the partner is at version %" PRId64 ", not %" PRId64, key.version,
                       request->expected_version);
        return DP_TXN_ROLLBACK;
    }
    bool domains = s_masked(request, "domains"), areas = s_masked(request, "areas");
    outcome = s_check_links(write, key.id, request->domains, domains ? request->n_domains : 0,
                            request->areas, areas ? request->n_areas : 0);
    if (outcome != DP_TXN_COMMIT)
        return outcome;
    bool joined = s_masked(request, "joined_on");
    if (joined && strcmp(key.status, "withdrawn") == 0) {
        dp_reply_error(write->reply, DP__CODE__CODE_FAILED_PRECONDITION, "joined_on",
                       "the joining date of a withdrawn partner cannot change");
        return DP_TXN_ROLLBACK;
    }
    registry_partner_fields_t fields = {
        .kind = s_masked(request, "kind") ? registry_kind_text(request->kind) : NULL,
        .website = s_masked(request, "website") ? request->website : NULL,
        .joined_on = joined ? request->joined_on : NULL,
        .precision = joined || s_masked(request, "joined_precision")
                         ? s_precision_or_day(request->joined_precision)
                         : NULL,
        .instrument = s_masked(request, "instrument") ? request->instrument : NULL,
        .note = s_masked(request, "note") ? request->note : NULL};
    if (registry_db_update_partner(db, key.id, &fields) < 0 ||
        (domains && registry_db_replace_domains(db, key.id, request->domains, request->n_domains) < 0) ||
        (areas && registry_db_replace_areas(db, key.id, request->areas, request->n_areas) < 0))
        return DP_TXN_FAILED;
    return s_partner_event(write, key.id, "partner.updated", NULL, request->update_mask,
                           request->n_update_mask);
}

static bool s_check_update(dp_reply_t *reply, const Dp__UpdatePartnerRequest *request)
{
    if (!s_check_ref(reply, request->partner))
        return false;
    if (request->n_update_mask == 0) {
        dp_reply_error(reply, INVALID, "update_mask", "update_mask must name at least one field");
        return false;
    }
    for (size_t i = 0; i < request->n_update_mask; i++) {
        bool known = false;
        for (size_t j = 0; j < sizeof s_updatable / sizeof *s_updatable; j++)
            known = known || strcmp(request->update_mask[i], s_updatable[j]) == 0;
        if (!known) {
            dp_reply_error(reply, INVALID, "update_mask", "update_mask[%zu] names no updatable field",
                           i);
            return false;
        }
    }
    if (s_masked(request, "kind") && !registry_kind_text(request->kind)) {
        dp_reply_error(reply, INVALID, "kind", "kind must be COMPANY or ASSOCIATION");
        return false;
    }
    if (s_masked(request, "website") && !dp_valid_url(request->website)) {
        dp_reply_error(reply, INVALID, "website", "website must be an http:// or https:// URL");
        return false;
    }
    if (s_masked(request, "joined_precision") && !s_masked(request, "joined_on")) {
        dp_reply_error(reply, INVALID, "update_mask",
                       "joined_precision changes only together with joined_on");
        return false;
    }
    bool joined = s_masked(request, "joined_on");
    return (!s_masked(request, "domains") ||
            s_check_domains(reply, request->domains, request->n_domains)) &&
           (!s_masked(request, "areas") ||
            s_check_area_slugs(reply, request->areas, request->n_areas)) &&
           (!joined || (s_check_record_date(reply, "joined_on", request->joined_on, true, 1) &&
                        s_check_precision(reply, request->joined_on, request->joined_precision))) &&
           s_check_text(reply, "note", request->note, MAX_NOTE_BYTES, false) &&
           s_check_text(reply, "instrument", request->instrument, MAX_INSTRUMENT_BYTES,
                        s_masked(request, "instrument"));
}

static void s_update(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    if (!s_check_update(reply, (const Dp__UpdatePartnerRequest *)message))
        return;
    write_t write = {.registry = state, .input = message, .reply = reply};
    Dp__UpdatePartnerReply answer = DP__UPDATE_PARTNER_REPLY__INIT;
    s_reply_partner(&write, s_run(&write, s_update_body), &answer.base, &answer.partner);
}

/* ---- rename ------------------------------------------------------------------- */

static dp_txn_outcome_t s_rename_body(dp_db_t *db, void *arg)
{
    write_t *write = arg;
    const Dp__RenamePartnerRequest *request = (const Dp__RenamePartnerRequest *)write->input;
    registry_partner_key_t key;
    dp_txn_outcome_t outcome = s_lock(write, request->partner, &key);
    if (outcome != DP_TXN_COMMIT)
        return outcome;
    char *current = NULL, *latest_start = NULL;
    if (registry_db_current_name(db, dp_reply_arena(write->reply), key.id, &current,
                                 &latest_start) < 0)
        return DP_TXN_FAILED;
    if (strcmp(current, request->new_name) == 0) {
        dp_reply_error(write->reply, INVALID, "new_name", "new_name is already the current name");
        return DP_TXN_ROLLBACK;
    }
    const char *effective = request->effective_on;
    if (*effective && (strcmp(effective, key.joined_on) < 0 || strcmp(effective, latest_start) < 0)) {
        dp_reply_error(write->reply, INVALID, "effective_on",
                       "effective_on must not be before the joining date (%s) or the start of the "
                       "current name (%s)",
                       key.joined_on, *latest_start ? latest_start : "not known");
        return DP_TXN_ROLLBACK;
    }
    if (registry_db_add_name(db, key.id, request->new_name, effective) < 0 ||
        registry_db_touch_partner(db, key.id) < 0)
        return DP_TXN_FAILED;
    return s_partner_event(write, key.id, "partner.renamed", effective, NULL, 0);
}

static void s_rename(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__RenamePartnerRequest *request = (const Dp__RenamePartnerRequest *)message;
    if (!s_check_ref(reply, request->partner) ||
        !s_check_text(reply, "new_name", request->new_name, MAX_NAME_BYTES, true) ||
        !s_check_record_date(reply, "effective_on", request->effective_on, false, 1))
        return;
    write_t write = {.registry = state, .input = message, .reply = reply};
    Dp__RenamePartnerReply answer = DP__RENAME_PARTNER_REPLY__INIT;
    s_reply_partner(&write, s_run(&write, s_rename_body), &answer.base, &answer.partner);
}

/* ---- withdraw ----------------------------------------------------------------- */

static dp_txn_outcome_t s_withdraw_body(dp_db_t *db, void *arg)
{
    write_t *write = arg;
    const Dp__WithdrawPartnerRequest *request = (const Dp__WithdrawPartnerRequest *)write->input;
    registry_partner_key_t key;
    dp_txn_outcome_t outcome = s_lock(write, request->partner, &key);
    if (outcome != DP_TXN_COMMIT)
        return outcome;
    if (strcmp(key.status, "withdrawn") == 0) {
        dp_reply_error(write->reply, DP__CODE__CODE_FAILED_PRECONDITION, "partner",
                       "the partner has already withdrawn");
        return DP_TXN_ROLLBACK;
    }
    char today[11];
    s_today(today);
    const char *on = *request->withdrawn_on ? request->withdrawn_on : today;
    if (strcmp(on, key.joined_on) < 0) {
        dp_reply_error(write->reply, INVALID, "withdrawn_on",
                       "withdrawn_on must not be before the joining date %s", key.joined_on);
        return DP_TXN_ROLLBACK;
    }
    if (registry_db_withdraw_partner(db, key.id, on, request->note) < 0)
        return DP_TXN_FAILED;
    return s_partner_event(write, key.id, "partner.withdrawn", on, NULL, 0);
}

static void s_withdraw(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__WithdrawPartnerRequest *request = (const Dp__WithdrawPartnerRequest *)message;
    if (!s_check_ref(reply, request->partner) ||
        !s_check_record_date(reply, "withdrawn_on", request->withdrawn_on, false, 1) ||
        !s_check_text(reply, "note", request->note, MAX_NOTE_BYTES, false))
        return;
    write_t write = {.registry = state, .input = message, .reply = reply};
    Dp__WithdrawPartnerReply answer = DP__WITHDRAW_PARTNER_REPLY__INIT;
    s_reply_partner(&write, s_run(&write, s_withdraw_body), &answer.base, &answer.partner);
}

/* ---- contacts ----------------------------------------------------------------- */

static dp_txn_outcome_t s_add_contact_body(dp_db_t *db, void *arg)
{
    write_t *write = arg;
    const Dp__AddContactRequest *request = (const Dp__AddContactRequest *)write->input;
    registry_partner_key_t key;
    dp_txn_outcome_t outcome = s_lock(write, request->partner, &key);
    if (outcome != DP_TXN_COMMIT)
        return outcome;
    char email_key[DP_PRIVACY_KEY_HEX];
    dp_privacy_subject_key(write->registry->privacy_key, request->email, email_key);
    if (registry_db_insert_contact(db, key.id, request->name, request->role, request->email,
                                   email_key,
                                   &write->child_id) < 0)
        return DP_TXN_FAILED;
    Dp__ContactEvent event = DP__CONTACT_EVENT__INIT;
    event.partner_id = key.id;
    event.contact_id = write->child_id;
    return s_child_event(write, key.id, "partner.contact_added", &event.base);
}

static void s_add_contact(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__AddContactRequest *request = (const Dp__AddContactRequest *)message;
    if (!s_check_ref(reply, request->partner) ||
        !s_check_text(reply, "name", request->name, MAX_NAME_BYTES, true) ||
        !s_check_text(reply, "role", request->role, MAX_NAME_BYTES, false))
        return;
    if (!dp_valid_email(request->email)) {
        dp_reply_error(reply, INVALID, "email", "email must be an address such as name@example.org");
        return;
    }
    write_t write = {.registry = state, .input = message, .reply = reply};
    if (s_run(&write, s_add_contact_body) != 0)
        return;
    Dp__Contact contact = DP__CONTACT__INIT;
    contact.id = write.child_id;
    contact.name = request->name;
    contact.role = request->role;
    contact.email = request->email;
    /* An address erased on request was stored erased: say what was stored. */
    char key[DP_PRIVACY_KEY_HEX], erased_email[64];
    dp_privacy_subject_key(((registry_t *)state)->privacy_key, request->email, key);
    if (registry_db_is_tombstoned(((registry_t *)state)->db, key) > 0) {
        dp_privacy_erased_email(key, erased_email);
        contact.name = DP_ERASED_TEXT;
        contact.role = "";
        contact.email = erased_email;
    }
    Dp__AddContactReply answer = DP__ADD_CONTACT_REPLY__INIT;
    answer.contact = &contact;
    dp_reply_ok(reply, &answer.base);
}

static dp_txn_outcome_t s_remove_contact_body(dp_db_t *db, void *arg)
{
    write_t *write = arg;
    const Dp__RemoveContactRequest *request = (const Dp__RemoveContactRequest *)write->input;
    registry_partner_key_t key;
    dp_txn_outcome_t outcome = s_lock(write, request->partner, &key);
    if (outcome != DP_TXN_COMMIT)
        return outcome;
    int removed = registry_db_delete_contact(db, key.id, request->contact_id);
    if (removed < 0)
        return DP_TXN_FAILED;
    if (removed == 0) {
        dp_reply_error(write->reply, DP__CODE__CODE_NOT_FOUND, "contact_id",
                       "the partner has no contact %" PRId64, request->contact_id);
        return DP_TXN_ROLLBACK;
    }
    Dp__ContactEvent event = DP__CONTACT_EVENT__INIT;
    event.partner_id = key.id;
    event.contact_id = request->contact_id;
    return s_child_event(write, key.id, "partner.contact_removed", &event.base);
}

static void s_remove_contact(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__RemoveContactRequest *request = (const Dp__RemoveContactRequest *)message;
    if (!s_check_ref(reply, request->partner))
        return;
    if (request->contact_id <= 0) {
        dp_reply_error(reply, INVALID, "contact_id", "contact_id must be a positive id");
        return;
    }
    write_t write = {.registry = state, .input = message, .reply = reply};
    Dp__RemoveContactReply answer = DP__REMOVE_CONTACT_REPLY__INIT;
    if (s_run(&write, s_remove_contact_body) == 0)
        dp_reply_ok(reply, &answer.base);
}

/* ---- engagements -------------------------------------------------------------- */

/* Refuses a form or area slug that names nothing. */
static dp_txn_outcome_t s_check_term(write_t *write, int exists, const char *field,
                                     const char *slug)
{
    if (exists < 0)
        return DP_TXN_FAILED;
    if (exists == 0) {
        dp_reply_error(write->reply, INVALID, field, "unknown %s '%s'", field, slug);
        return DP_TXN_ROLLBACK;
    }
    return DP_TXN_COMMIT;
}

static dp_txn_outcome_t s_engage_body(dp_db_t *db, void *arg)
{
    write_t *write = arg;
    const Dp__RecordEngagementRequest *request = (const Dp__RecordEngagementRequest *)write->input;
    registry_partner_key_t key;
    dp_txn_outcome_t outcome = s_lock(write, request->partner, &key);
    if (outcome == DP_TXN_COMMIT)
        outcome = s_check_term(write, registry_db_form_exists(db, request->form), "form",
                               request->form);
    if (outcome == DP_TXN_COMMIT)
        outcome = s_check_term(write, registry_db_area_exists(db, request->area), "area",
                               request->area);
    if (outcome != DP_TXN_COMMIT)
        return outcome;
    Dp__Engagement *engagement = NULL;
    if (registry_db_insert_engagement(db, key.id, request, &write->child_id) < 0 ||
        registry_db_load_engagement(db, dp_reply_arena(write->reply), write->child_id,
                                    &engagement) != 1)
        return DP_TXN_FAILED;
    write->extra = engagement;
    Dp__EngagementEvent event = DP__ENGAGEMENT_EVENT__INIT;
    event.engagement_id = engagement->id;
    event.partner_id = key.id;
    event.form = engagement->form;
    event.area = engagement->area;
    event.starts_on = engagement->starts_on;
    event.ends_on = engagement->ends_on;
    return s_child_event(write, key.id, "engagement.recorded", &event.base);
}

static void s_engage(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__RecordEngagementRequest *request = (const Dp__RecordEngagementRequest *)message;
    if (!s_check_ref(reply, request->partner) || !s_check_slug(reply, "form", request->form) ||
        !s_check_slug(reply, "area", request->area) ||
        !s_check_text(reply, "title", request->title, MAX_TITLE_BYTES, true) ||
        !s_check_record_date(reply, "starts_on", request->starts_on, true, 1) ||
        !s_check_record_date(reply, "ends_on", request->ends_on, false, 10) ||
        !s_check_text(reply, "note", request->note, MAX_NOTE_BYTES, false))
        return;
    if (*request->ends_on && strcmp(request->ends_on, request->starts_on) < 0) {
        dp_reply_error(reply, INVALID, "ends_on", "ends_on must not be before starts_on");
        return;
    }
    write_t write = {.registry = state, .input = message, .reply = reply};
    if (s_run(&write, s_engage_body) != 0)
        return;
    Dp__RecordEngagementReply answer = DP__RECORD_ENGAGEMENT_REPLY__INIT;
    answer.engagement = write.extra;
    dp_reply_ok(reply, &answer.base);
}

static void s_list_engagements(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    registry_t *registry = state;
    const Dp__ListEngagementsRequest *request = (const Dp__ListEngagementsRequest *)message;
    int64_t after = 0, partner_id = 0;
    int limit = 0;
    if ((*request->form && !s_check_slug(reply, "form", request->form)) ||
        (*request->area && !s_check_slug(reply, "area", request->area)) ||
        !s_page(reply, request->page_token, request->page_size, &after, &limit))
        return;
    const Dp__PartnerRef *ref = request->partner;
    if (ref && (ref->id || *ref->slug)) {
        if (!s_check_ref(reply, ref))
            return;
        int found = registry_db_find_partner(registry->db, ref, &partner_id);
        if (found <= 0) {
            if (found < 0)
                dp_reply_db_failure(reply, registry->db);
            else
                dp_reply_error(reply, DP__CODE__CODE_NOT_FOUND, "partner", "no such partner");
            return;
        }
    }
    Dp__ListEngagementsReply answer = DP__LIST_ENGAGEMENTS_REPLY__INIT;
    dp_arena_t *arena = dp_reply_arena(reply);
    if (registry_db_list_engagements(registry->db, arena, partner_id, request->form, request->area,
                                     after, limit, &answer.engagements, &answer.n_engagements) < 0) {
        dp_reply_db_failure(reply, registry->db);
        return;
    }
    answer.next_page_token =
        s_next_token(arena, answer.n_engagements, limit,
                     answer.n_engagements ? answer.engagements[answer.n_engagements - 1]->id : 0);
    dp_reply_ok(reply, &answer.base);
}

/* ---- areas, forms and domains ---------------------------------------------------- */

typedef struct {
    const char *list;                       /* "area" or "form" */
    int (*insert)(dp_db_t *, const char *, const char *); /* the list's insert */
    const char *slug;                       /* the new term */
    const char *label;                      /* its label */
} term_t;

static dp_txn_outcome_t s_add_term_body(dp_db_t *db, void *arg)
{
    write_t *write = arg;
    const term_t *term = write->extra;
    int added = term->insert(db, term->slug, term->label);
    if (added < 0)
        return DP_TXN_FAILED;
    if (added == 0) {
        dp_reply_error(write->reply, DP__CODE__CODE_ALREADY_EXISTS, "slug", "%s '%s' already exists",
                       term->list, term->slug);
        return DP_TXN_ROLLBACK;
    }
    Dp__ReferenceEvent event = DP__REFERENCE_EVENT__INIT;
    event.list = (char *)term->list;
    event.slug = (char *)term->slug;
    event.label = (char *)term->label;
    const char *type = strcmp(term->list, "area") == 0 ? "reference.area_added"
                                                       : "reference.form_added";
    return registry_db_append_event(db, type, term->list, term->slug, &event.base) < 0
               ? DP_TXN_FAILED
               : DP_TXN_COMMIT;
}

/* Adds an area or a form; returns true when it was added. */
static bool s_add_term(registry_t *registry, dp_reply_t *reply, term_t *term)
{
    if (!term->slug || !term->label) {
        dp_reply_error(reply, INVALID, term->list, "%s is required", term->list);
        return false;
    }
    if (!s_check_slug(reply, "slug", term->slug) ||
        !s_check_text(reply, "label", term->label, MAX_LABEL_BYTES, true))
        return false;
    write_t write = {.registry = registry, .reply = reply, .extra = term};
    return s_run(&write, s_add_term_body) == 0;
}

static void s_add_area(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__AddAreaRequest *request = (const Dp__AddAreaRequest *)message;
    term_t term = {"area", registry_db_insert_area, request->area ? request->area->slug : NULL,
                   request->area ? request->area->label : NULL};
    if (!s_add_term(state, reply, &term))
        return;
    Dp__AddAreaReply answer = DP__ADD_AREA_REPLY__INIT;
    answer.area = request->area;
    dp_reply_ok(reply, &answer.base);
}

static void s_add_form(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__AddFormRequest *request = (const Dp__AddFormRequest *)message;
    term_t term = {"form", registry_db_insert_form, request->form ? request->form->slug : NULL,
                   request->form ? request->form->label : NULL};
    if (!s_add_term(state, reply, &term))
        return;
    Dp__AddFormReply answer = DP__ADD_FORM_REPLY__INIT;
    answer.form = request->form;
    dp_reply_ok(reply, &answer.base);
}

static void s_list_areas(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    registry_t *registry = state;
    Dp__ListAreasReply answer = DP__LIST_AREAS_REPLY__INIT;
    if (registry_db_list_areas(registry->db, dp_reply_arena(reply), &answer.areas,
                               &answer.n_areas) < 0)
        dp_reply_db_failure(reply, registry->db);
    else
        dp_reply_ok(reply, &answer.base);
}

static void s_list_forms(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    registry_t *registry = state;
    Dp__ListFormsReply answer = DP__LIST_FORMS_REPLY__INIT;
    if (registry_db_list_forms(registry->db, dp_reply_arena(reply), &answer.forms,
                               &answer.n_forms) < 0)
        dp_reply_db_failure(reply, registry->db);
    else
        dp_reply_ok(reply, &answer.base);
}

static void s_list_domains(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    registry_t *registry = state;
    Dp__ListPartnerDomainsReply answer = DP__LIST_PARTNER_DOMAINS_REPLY__INIT;
    if (registry_db_list_domains(registry->db, dp_reply_arena(reply), &answer.domains,
                                 &answer.n_domains) < 0)
        dp_reply_db_failure(reply, registry->db);
    else
        dp_reply_ok(reply, &answer.base);
}

const dp_route_t registry_routes[] = {
    {&dp__create_partner_request__descriptor, s_create},
    {&dp__get_partner_request__descriptor, s_get, NULL, DP_ROLE_STAFF | DP_ROLE_SERVICE},
    {&dp__list_partners_request__descriptor, s_list, NULL, DP_ROLE_STAFF | DP_ROLE_SERVICE},
    {&dp__update_partner_request__descriptor, s_update},
    {&dp__rename_partner_request__descriptor, s_rename},
    {&dp__withdraw_partner_request__descriptor, s_withdraw},
    {&dp__add_contact_request__descriptor, s_add_contact},
    {&dp__remove_contact_request__descriptor, s_remove_contact},
    {&dp__record_engagement_request__descriptor, s_engage},
    {&dp__list_engagements_request__descriptor, s_list_engagements},
    {&dp__list_areas_request__descriptor, s_list_areas, NULL, DP_ROLE_STAFF | DP_ROLE_SERVICE},
    {&dp__add_area_request__descriptor, s_add_area},
    {&dp__list_forms_request__descriptor, s_list_forms, NULL, DP_ROLE_STAFF | DP_ROLE_SERVICE},
    {&dp__add_form_request__descriptor, s_add_form},
    {&dp__erase_personal_data_request__descriptor, registry_erase, NULL},
    {&dp__export_personal_data_request__descriptor, registry_export, NULL},
    {&dp__list_audit_request__descriptor, registry_list_audit, NULL},
    {&dp__list_partner_domains_request__descriptor, s_list_domains, NULL,
     DP_ROLE_STAFF | DP_ROLE_SERVICE},
};
const size_t registry_route_count = sizeof registry_routes / sizeof registry_routes[0];
