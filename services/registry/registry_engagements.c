/* Engagements: what a partner took part in, by form and area. */
#include <inttypes.h>
#include <string.h>

#include "events.pb-c.h"
#include "registry_requests.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

/* ---- engagements -------------------------------------------------------------- */

/* Refuses a form or area slug that names nothing. */
static dp_txn_outcome_t s_check_term(registry_write_t *write, int exists, const char *field,
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
    registry_write_t *write = arg;
    const Dp__RecordEngagementRequest *request = (const Dp__RecordEngagementRequest *)write->input;
    const registry_partner_key_t *key = &write->key; /* locked by registry_write_partner */
    dp_txn_outcome_t outcome =
        s_check_term(write, registry_db_form_exists(db, request->form), "form", request->form);
    if (outcome == DP_TXN_COMMIT)
        outcome =
            s_check_term(write, registry_db_area_exists(db, request->area), "area", request->area);
    if (outcome != DP_TXN_COMMIT)
        return outcome;
    Dp__Engagement *engagement = NULL;
    if (registry_db_insert_engagement(db, key->id, request, &write->child_id) < 0 ||
        registry_db_load_engagement(db, dp_reply_arena(write->reply), write->child_id,
                                    &engagement) != 1)
        return DP_TXN_FAILED;
    write->extra = engagement;
    Dp__EngagementEvent event = DP__ENGAGEMENT_EVENT__INIT;
    event.engagement_id = engagement->id;
    event.partner_id = key->id;
    event.form = engagement->form;
    event.area = engagement->area;
    event.starts_on = engagement->starts_on;
    event.ends_on = engagement->ends_on;
    return registry_child_event(write, key->id, "engagement.recorded", &event.base);
}

void registry_engage(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__RecordEngagementRequest *request = (const Dp__RecordEngagementRequest *)message;
    if (!registry_check_ref(reply, request->partner) ||
        !dp_check_slug(reply, "form", request->form) ||
        !dp_check_slug(reply, "area", request->area) ||
        !dp_check_text(reply, "title", request->title, REGISTRY_MAX_TITLE_BYTES, true) ||
        !registry_check_record_date(reply, "starts_on", request->starts_on, true, 1) ||
        !registry_check_record_date(reply, "ends_on", request->ends_on, false, 10) ||
        !dp_check_text(reply, "note", request->note, REGISTRY_MAX_NOTE_BYTES, false))
        return;
    if (*request->ends_on && strcmp(request->ends_on, request->starts_on) < 0) {
        dp_reply_error(reply, INVALID, "ends_on", "ends_on must not be before starts_on");
        return;
    }
    registry_write_t write = {.registry = state, .input = message, .reply = reply};
    if (registry_write_partner(&write, s_engage_body) != 0)
        return;
    Dp__RecordEngagementReply answer = DP__RECORD_ENGAGEMENT_REPLY__INIT;
    answer.engagement = write.extra;
    dp_reply_ok(reply, &answer.base);
}

void registry_list_engagements(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    registry_t *registry = state;
    const Dp__ListEngagementsRequest *request = (const Dp__ListEngagementsRequest *)message;
    int64_t partner_id = 0;
    dp_page_t page;
    if ((*request->form && !dp_check_slug(reply, "form", request->form)) ||
        (*request->area && !dp_check_slug(reply, "area", request->area)) ||
        !dp_page_read(reply, request->page_token, request->page_size, &page))
        return;
    const Dp__PartnerRef *ref = request->partner;
    if (ref && (ref->id || *ref->slug)) {
        if (!registry_check_ref(reply, ref))
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
                                     page.after, page.limit, &answer.engagements,
                                     &answer.n_engagements) < 0) {
        dp_reply_db_failure(reply, registry->db);
        return;
    }
    answer.next_page_token =
        dp_page_next(reply, &page, answer.n_engagements,
                     answer.n_engagements ? answer.engagements[answer.n_engagements - 1]->id : 0);
    dp_reply_ok(reply, &answer.base);
}
