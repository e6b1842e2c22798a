/* A partner's names: a rename starts a new name on a date; the history
   keeps every earlier one ("the name in force on a date"). */
#include <inttypes.h>
#include <string.h>

#include "events.pb-c.h"
#include "registry_requests.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

/* ---- rename ------------------------------------------------------------------- */

static dp_txn_outcome_t s_rename_body(dp_db_t *db, void *arg)
{
    registry_write_t *write = arg;
    const Dp__RenamePartnerRequest *request = (const Dp__RenamePartnerRequest *)write->input;
    const registry_partner_key_t *key = &write->key; /* locked by registry_write_partner */
    char *current = NULL, *latest_start = NULL;
    if (registry_db_current_name(db, dp_reply_arena(write->reply), key->id, &current,
                                 &latest_start) < 0)
        return DP_TXN_FAILED;
    if (strcmp(current, request->new_name) == 0) {
        dp_reply_error(write->reply, INVALID, "new_name", "new_name is already the current name");
        return DP_TXN_ROLLBACK;
    }
    const char *effective = request->effective_on;
    if (*effective &&
        (strcmp(effective, key->joined_on) < 0 || strcmp(effective, latest_start) < 0)) {
        dp_reply_error(write->reply, INVALID, "effective_on",
                       "effective_on must not be before the joining date (%s) or the start of the "
                       "current name (%s)",
                       key->joined_on, *latest_start ? latest_start : "not known");
        return DP_TXN_ROLLBACK;
    }
    if (registry_db_add_name(db, key->id, request->new_name, effective) < 0 ||
        registry_db_touch_partner(db, key->id) < 0)
        return DP_TXN_FAILED;
    return registry_partner_event(write, key->id, "partner.renamed", effective, NULL, 0);
}

void registry_rename(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__RenamePartnerRequest *request = (const Dp__RenamePartnerRequest *)message;
    if (!registry_check_ref(reply, request->partner) ||
        !dp_check_text(reply, "new_name", request->new_name, REGISTRY_MAX_NAME_BYTES, true) ||
        !registry_check_record_date(reply, "effective_on", request->effective_on, false, 1))
        return;
    registry_write_t write = {.registry = state, .input = message, .reply = reply};
    Dp__RenamePartnerReply answer = DP__RENAME_PARTNER_REPLY__INIT;
    registry_reply_partner(&write, registry_write_partner(&write, s_rename_body), &answer.base,
                           &answer.partner);
}
