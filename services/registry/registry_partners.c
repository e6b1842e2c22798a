/* Partners: joining, reading and listing, updating, withdrawal. */
#include <inttypes.h>
#include <string.h>

#include "dp_security.h"
#include "dp_validate.h"
#include "events.pb-c.h"
#include "registry_requests.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

/* ---- create ------------------------------------------------------------------- */

/* The partner already admitted from the request's enquiry, as the reply:
   an admission is asked again after a lost reply, or by two admins at
   once, and must end with one partner and one partner.joined. 1 when there
   is one (write->partner set, *write->extra true), 0 when not, -1. */
static int s_admitted_before(registry_write_t *write, int64_t enquiry_id)
{
    dp_db_t *db = write->registry->db;
    int64_t id = 0;
    int found = enquiry_id > 0 ? registry_db_find_admitted(db, enquiry_id, &id) : 0;
    if (found == 1 &&
        registry_db_load_partner(db, dp_reply_arena(write->reply), id, &write->partner) != 1)
        return -1;
    *(protobuf_c_boolean *)write->extra = found == 1;
    return found;
}

static dp_txn_outcome_t s_create_body(dp_db_t *db, void *arg)
{
    registry_write_t *write = arg;
    const Dp__CreatePartnerRequest *request = (const Dp__CreatePartnerRequest *)write->input;
    int admitted = s_admitted_before(write, request->from_enquiry);
    if (admitted != 0)
        return admitted < 0 ? DP_TXN_FAILED : DP_TXN_COMMIT;
    dp_txn_outcome_t outcome = registry_check_links(write, 0, request->domains, request->n_domains,
                                                    request->areas, request->n_areas);
    if (outcome != DP_TXN_COMMIT)
        return outcome;
    registry_partner_fields_t fields = {
        .kind = registry_kind_text(request->kind),
        .website = request->website,
        .joined_on = request->joined_on,
        .precision = registry_precision_or_day(request->joined_precision),
        .instrument = *request->instrument ? request->instrument : "exchange of letters",
        .note = request->note,
        .from_enquiry = request->from_enquiry};
    int64_t id = 0;
    int inserted = registry_db_insert_partner(db, request->slug, &fields, &id);
    /* Another replica admitted the same enquiry after our look-up: its
       partner is the answer (the insert waited for it to commit). */
    if (inserted == 0) {
        admitted = s_admitted_before(write, request->from_enquiry);
        return admitted == 1 ? DP_TXN_COMMIT : DP_TXN_FAILED;
    }
    if (inserted < 0 || registry_db_add_name(db, id, request->name, request->joined_on) < 0 ||
        registry_db_replace_domains(db, id, request->domains, request->n_domains) < 0 ||
        registry_db_replace_areas(db, id, request->areas, request->n_areas) < 0)
        return DP_TXN_FAILED;
    return registry_partner_event(write, id, "partner.joined", request->joined_on, NULL, 0);
}

void registry_create(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__CreatePartnerRequest *request = (const Dp__CreatePartnerRequest *)message;
    if (!dp_check_slug(reply, "slug", request->slug) ||
        !dp_check_text(reply, "name", request->name, REGISTRY_MAX_NAME_BYTES, true))
        return;
    if (!registry_kind_text(request->kind)) {
        dp_reply_error(reply, INVALID, "kind", "kind must be COMPANY or ASSOCIATION");
        return;
    }
    if (!dp_valid_url(request->website)) {
        dp_reply_error(reply, INVALID, "website", "website must be an http:// or https:// URL");
        return;
    }
    if (!registry_check_domains(reply, request->domains, request->n_domains) ||
        !registry_check_record_date(reply, "joined_on", request->joined_on, true, 1) ||
        !registry_check_precision(reply, request->joined_on, request->joined_precision) ||
        !dp_check_text(reply, "instrument", request->instrument, REGISTRY_MAX_INSTRUMENT_BYTES,
                       false) ||
        !registry_check_area_slugs(reply, request->areas, request->n_areas) ||
        !dp_check_text(reply, "note", request->note, REGISTRY_MAX_NOTE_BYTES, false))
        return;
    if (request->from_enquiry < 0) {
        dp_reply_error(reply, INVALID, "from_enquiry",
                       "from_enquiry must be an enquiry id, or 0 for none");
        return;
    }
    Dp__CreatePartnerReply answer = DP__CREATE_PARTNER_REPLY__INIT;
    registry_write_t write = {
        .registry = state, .input = message, .reply = reply, .extra = &answer.already_created};
    registry_reply_partner(&write, registry_write_run(&write, s_create_body), &answer.base,
                           &answer.partner);
}

/* ---- get and list -------------------------------------------------------------- */

void registry_get(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    registry_t *registry = state;
    const Dp__GetPartnerRequest *request = (const Dp__GetPartnerRequest *)message;
    if (!registry_check_ref(reply, request->partner) ||
        !dp_check_date(reply, "as_of", request->as_of, false))
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
    dp_reply_found(reply, registry->db, found, &answer.base, "partner", "no such partner");
}

void registry_list(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    registry_t *registry = state;
    const Dp__ListPartnersRequest *request = (const Dp__ListPartnersRequest *)message;
    dp_page_t page;
    if (!dp_check_date(reply, "as_of", request->as_of, false) ||
        !dp_check_date(reply, "joined_from", request->joined_from, false) ||
        !dp_check_date(reply, "joined_to", request->joined_to, false) ||
        !dp_check_text(reply, "name_search", request->name_search, REGISTRY_MAX_SEARCH_BYTES,
                       false) ||
        (*request->area && !dp_check_slug(reply, "area", request->area)) ||
        !dp_page_read(reply, request->page_token, request->page_size, &page))
        return;
    if (request->kind != DP__PARTNER_KIND__PARTNER_KIND_UNSPECIFIED &&
        !registry_kind_text(request->kind)) {
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
    if (registry_db_list_partners(registry->db, arena, request, page.after, page.limit,
                                  &answer.partners, &answer.n_partners) < 0) {
        dp_reply_db_failure(reply, registry->db);
        return;
    }
    answer.next_page_token =
        dp_page_next(reply, &page, answer.n_partners,
                     answer.n_partners ? answer.partners[answer.n_partners - 1]->id : 0);
    dp_reply_ok(reply, &answer.base);
}

/* ---- update ------------------------------------------------------------------- */

/* The fields an update may name, in the order the event lists them. */
static const char *s_updatable[] = {"kind", "website",   "domains",          "areas",
                                    "note", "joined_on", "joined_precision", "instrument"};

static bool s_masked(const Dp__UpdatePartnerRequest *request, const char *field)
{
    for (size_t i = 0; i < request->n_update_mask; i++)
        if (strcmp(request->update_mask[i], field) == 0)
            return true;
    return false;
}

static dp_txn_outcome_t s_update_body(dp_db_t *db, void *arg)
{
    registry_write_t *write = arg;
    const Dp__UpdatePartnerRequest *request = (const Dp__UpdatePartnerRequest *)write->input;
    const registry_partner_key_t *key = &write->key; /* locked by registry_write_partner */
    if (request->expected_version && request->expected_version != key->version) {
        dp_reply_error(write->reply, DP__CODE__CODE_FAILED_PRECONDITION, "expected_version",
                       "the partner is at version %" PRId64 ", not %" PRId64, key->version,
                       request->expected_version);
        return DP_TXN_ROLLBACK;
    }
    bool domains = s_masked(request, "domains"), areas = s_masked(request, "areas");
    dp_txn_outcome_t outcome =
        registry_check_links(write, key->id, request->domains, domains ? request->n_domains : 0,
                             request->areas, areas ? request->n_areas : 0);
    if (outcome != DP_TXN_COMMIT)
        return outcome;
    bool joined = s_masked(request, "joined_on");
    if (joined && strcmp(key->status, "withdrawn") == 0) {
        dp_reply_error(write->reply, DP__CODE__CODE_FAILED_PRECONDITION, "joined_on",
                       "the joining date of a withdrawn partner cannot change");
        return DP_TXN_ROLLBACK;
    }
    registry_partner_fields_t fields = {
        .kind = s_masked(request, "kind") ? registry_kind_text(request->kind) : NULL,
        .website = s_masked(request, "website") ? request->website : NULL,
        .joined_on = joined ? request->joined_on : NULL,
        .precision = joined || s_masked(request, "joined_precision")
                         ? registry_precision_or_day(request->joined_precision)
                         : NULL,
        .instrument = s_masked(request, "instrument") ? request->instrument : NULL,
        .note = s_masked(request, "note") ? request->note : NULL};
    if (registry_db_update_partner(db, key->id, &fields) < 0 ||
        (domains &&
         registry_db_replace_domains(db, key->id, request->domains, request->n_domains) < 0) ||
        (areas && registry_db_replace_areas(db, key->id, request->areas, request->n_areas) < 0))
        return DP_TXN_FAILED;
    return registry_partner_event(write, key->id, "partner.updated", NULL, request->update_mask,
                                  request->n_update_mask);
}

static bool s_check_update(dp_reply_t *reply, const Dp__UpdatePartnerRequest *request)
{
    if (!registry_check_ref(reply, request->partner))
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
            dp_reply_error(reply, INVALID, "update_mask",
                           "update_mask[%zu] names no updatable field", i);
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
            registry_check_domains(reply, request->domains, request->n_domains)) &&
           (!s_masked(request, "areas") ||
            registry_check_area_slugs(reply, request->areas, request->n_areas)) &&
           (!joined ||
            (registry_check_record_date(reply, "joined_on", request->joined_on, true, 1) &&
             registry_check_precision(reply, request->joined_on, request->joined_precision))) &&
           dp_check_text(reply, "note", request->note, REGISTRY_MAX_NOTE_BYTES, false) &&
           dp_check_text(reply, "instrument", request->instrument, REGISTRY_MAX_INSTRUMENT_BYTES,
                         s_masked(request, "instrument"));
}

void registry_update(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    if (!s_check_update(reply, (const Dp__UpdatePartnerRequest *)message))
        return;
    registry_write_t write = {.registry = state, .input = message, .reply = reply};
    Dp__UpdatePartnerReply answer = DP__UPDATE_PARTNER_REPLY__INIT;
    registry_reply_partner(&write, registry_write_partner(&write, s_update_body), &answer.base,
                           &answer.partner);
}

/* ---- withdraw ----------------------------------------------------------------- */

static dp_txn_outcome_t s_withdraw_body(dp_db_t *db, void *arg)
{
    registry_write_t *write = arg;
    const Dp__WithdrawPartnerRequest *request = (const Dp__WithdrawPartnerRequest *)write->input;
    const registry_partner_key_t *key = &write->key; /* locked by registry_write_partner */
    if (strcmp(key->status, "withdrawn") == 0) {
        dp_reply_error(write->reply, DP__CODE__CODE_FAILED_PRECONDITION, "partner",
                       "the partner has already withdrawn");
        return DP_TXN_ROLLBACK;
    }
    char today[11];
    registry_today(today);
    const char *on = *request->withdrawn_on ? request->withdrawn_on : today;
    if (strcmp(on, key->joined_on) < 0) {
        dp_reply_error(write->reply, INVALID, "withdrawn_on",
                       "withdrawn_on must not be before the joining date %s", key->joined_on);
        return DP_TXN_ROLLBACK;
    }
    if (registry_db_withdraw_partner(db, key->id, on, request->note) < 0)
        return DP_TXN_FAILED;
    return registry_partner_event(write, key->id, "partner.withdrawn", on, NULL, 0);
}

void registry_withdraw(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__WithdrawPartnerRequest *request = (const Dp__WithdrawPartnerRequest *)message;
    if (!registry_check_ref(reply, request->partner) ||
        !registry_check_record_date(reply, "withdrawn_on", request->withdrawn_on, false, 1) ||
        !dp_check_text(reply, "note", request->note, REGISTRY_MAX_NOTE_BYTES, false))
        return;
    registry_write_t write = {.registry = state, .input = message, .reply = reply};
    Dp__WithdrawPartnerReply answer = DP__WITHDRAW_PARTNER_REPLY__INIT;
    registry_reply_partner(&write, registry_write_partner(&write, s_withdraw_body), &answer.base,
                           &answer.partner);
}
