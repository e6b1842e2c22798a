/* What the registry's handlers share: the checks of its own fields and
   the write transaction (lock the partner, change it, reload it, write
   the event). */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dp_format.h"
#include "dp_validate.h"
#include "events.pb-c.h"
#include "registry_requests.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

/* ---- checks ------------------------------------------------------------------ */

/* A date the client writes into the record (joining, renaming,
   withdrawal, engagement): from FIRST_RECORD_DATE to the end of
   `years_ahead` years after this one. A typo such as 2999 or 0201 would
   otherwise stay in the history for good. */
#define FIRST_RECORD_DATE "1990-01-01"

bool registry_check_record_date(dp_reply_t *reply, const char *field, const char *value,
                                bool required, int years_ahead)
{
    if (!dp_check_date(reply, field, value, required))
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
    dp_reply_error(reply, INVALID, field, "%s must be between %s and %s", field, FIRST_RECORD_DATE,
                   last);
    return false;
}

/* An id or a slug, not both: with both, one of them would be ignored
   without a word, and a caller could not tell which partner it changed. */
bool registry_check_ref(dp_reply_t *reply, const Dp__PartnerRef *ref)
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

bool registry_check_domains(dp_reply_t *reply, char **domains, size_t count)
{
    if (count > REGISTRY_MAX_DOMAINS) {
        dp_reply_error(reply, INVALID, "domains", "at most %d domains", REGISTRY_MAX_DOMAINS);
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

bool registry_check_area_slugs(dp_reply_t *reply, char **areas, size_t count)
{
    if (count > REGISTRY_MAX_AREAS) {
        dp_reply_error(reply, INVALID, "areas", "at most %d areas", REGISTRY_MAX_AREAS);
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
bool registry_check_precision(dp_reply_t *reply, const char *date, Dp__DatePrecision precision)
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

const char *registry_precision_or_day(Dp__DatePrecision precision)
{
    const char *text = registry_precision_text(precision);
    return text ? text : "day";
}

void registry_today(char buffer[11])
{
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(buffer, 11, "%Y-%m-%d", &utc);
}

/* ---- the write transaction ---------------------------------------------------- */

int registry_write_run(registry_write_t *write, dp_txn_body_fn *body)
{
    int outcome = dp_db_transaction(write->registry->db, body, write);
    if (outcome < 0) {
        dp_db_t *db = write->registry->db;
        const char *constraint = dp_db_failure_constraint(db);
        if (dp_db_failure(db) == DP_DB_UNIQUE_VIOLATION &&
            strcmp(constraint, "partner_slug_key") == 0)
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
dp_txn_outcome_t registry_write_lock(registry_write_t *write, const Dp__PartnerRef *ref,
                                     registry_partner_key_t *key)
{
    int found = registry_db_lock_partner(write->registry->db, ref, key);
    if (found < 0)
        return DP_TXN_FAILED;
    if (!found) {
        /* The slug is echoed only when it is one: anything else the client
           sent (control characters, escapes) never comes back. */
        bool slug = ref->slug && *ref->slug;
        dp_reply_error(write->reply, DP__CODE__CODE_NOT_FOUND, "partner", "no partner %s%s",
                       !slug                      ? "with this id"
                       : dp_valid_slug(ref->slug) ? "with slug "
                                                  : "with this slug",
                       slug && dp_valid_slug(ref->slug) ? ref->slug : "");
        return DP_TXN_ROLLBACK;
    }
    return DP_TXN_COMMIT;
}

/* The partner the request names in its field `partner`. */
static const Dp__PartnerRef *s_named_partner(const ProtobufCMessage *input)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(input->descriptor, "partner");
    assert(field && field->type == PROTOBUF_C_TYPE_MESSAGE &&
           field->descriptor == &dp__partner_ref__descriptor);
    return *(const Dp__PartnerRef *const *)((const char *)input + field->offset);
}

static dp_txn_outcome_t s_locked_body(dp_db_t *db, void *arg)
{
    registry_write_t *write = arg;
    dp_txn_outcome_t outcome =
        registry_write_lock(write, s_named_partner(write->input), &write->key);
    return outcome == DP_TXN_COMMIT ? write->locked_body(db, write) : outcome;
}

int registry_write_partner(registry_write_t *write, dp_txn_body_fn *body)
{
    write->locked_body = body;
    return registry_write_run(write, s_locked_body);
}

/* Refuses domains owned by another partner and areas that do not exist. */
dp_txn_outcome_t registry_check_links(registry_write_t *write, int64_t id, char **domains,
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
dp_txn_outcome_t registry_partner_event(registry_write_t *write, int64_t id, const char *event_type,
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
    char aggregate[DP_INT64_TEXT];
    dp_format_int64(aggregate, partner->id);
    if (registry_db_append_event(db, event_type, "partner", aggregate, &event.base) < 0)
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

/* Writes an event about something that belongs to a partner, and bumps the partner's version. */
dp_txn_outcome_t registry_child_event(registry_write_t *write, int64_t partner_id,
                                      const char *event_type, const ProtobufCMessage *payload)
{
    dp_db_t *db = write->registry->db;
    char aggregate[DP_INT64_TEXT];
    dp_format_int64(aggregate, partner_id);
    if (registry_db_touch_partner(db, partner_id) < 0 ||
        registry_db_append_event(db, event_type, "partner", aggregate, payload) < 0)
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

void registry_reply_partner(registry_write_t *write, int outcome, ProtobufCMessage *reply_message,
                            Dp__Partner **slot)
{
    if (outcome != 0)
        return;
    *slot = write->partner;
    dp_reply_ok(write->reply, reply_message);
}
