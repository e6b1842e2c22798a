/* Data protection in the registry: contact persons are erased on request
   (pseudonymised, with a tombstone so that adding the address again stores
   it erased), exported on an access request, and every read of them is in
   the append-only audit trail. */
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "dp_privacy.h"
#include "dp_validate.h"
#include "events.pb-c.h"
#include "privacy.pb-c.h"
#include "registry_db.h"
#include "registry_handlers.h"

int registry_audit_contacts(registry_t *registry, dp_reply_t *reply, int64_t partner_id)
{
    char **keys = NULL;
    size_t count = 0;
    if (registry_db_contact_keys(registry->db, dp_reply_arena(reply), partner_id, &keys, &count) <
        0)
        return -1;
    char detail[64];
    snprintf(detail, sizeof detail, "partner %" PRId64, partner_id);
    for (size_t i = 0; i < count; i++)
        if (registry_db_audit(registry->db, dp_privacy_who(reply, NULL), "read partner contacts",
                              keys[i], detail) < 0)
            return -1;
    return 0;
}

/* The registry's side of an erasure: its contact persons. */
static const dp_privacy_eraser_t s_eraser = {"registry", "contacts", registry_db_erase_contacts,
                                             registry_db_audit, registry_db_append_event};

void registry_erase(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const registry_t *registry = state;
    dp_privacy_erase(reply, message, registry->db, registry->privacy_key, &s_eraser);
}

void registry_export(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    registry_t *registry = state;
    const Dp__ExportPersonalDataRequest *request = (const Dp__ExportPersonalDataRequest *)message;
    char key[DP_PRIVACY_KEY_HEX];
    Dp__ExportPersonalDataReply answer;
    if (!dp_privacy_export_start(reply, request, registry->privacy_key, key, &answer))
        return;
    int tombstoned = registry_db_is_tombstoned(registry->db, key);
    char detail[64] = "";
    if (tombstoned >= 0 &&
        registry_db_export_contacts(registry->db, dp_reply_arena(reply), key,
                                    (void ***)&answer.contacts, &answer.n_contacts) > 0)
        snprintf(detail, sizeof detail, "%zu contacts", answer.n_contacts);
    if (tombstoned < 0 || !*detail ||
        registry_db_audit(registry->db, dp_privacy_who(reply, request->actor), "export", key,
                          detail) < 0) {
        dp_reply_db_failure(reply, registry->db);
        return;
    }
    answer.erased = tombstoned > 0;
    dp_reply_ok(reply, &answer.base);
}

void registry_list_audit(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const registry_t *registry = state;
    dp_privacy_list_audit(reply, (const Dp__ListAuditRequest *)message, registry->privacy_key,
                          registry->db, registry_db_list_audit);
}

void registry_privacy_backfill(registry_t *registry)
{
    registry_db_backfill(registry->db, registry->privacy_key);
}

static dp_txn_outcome_t s_tombstones_body(dp_db_t *db, void *arg)
{
    int *count = arg;
    *count = registry_db_apply_tombstones(db);
    if (*count < 0)
        return DP_TXN_FAILED;
    if (*count == 0)
        return DP_TXN_COMMIT;
    Dp__PrivacyEvent event = DP__PRIVACY_EVENT__INIT;
    event.service = "registry";
    event.subject_key = "";
    event.erased = (uint32_t)*count;
    event.reason = "request";
    return registry_db_audit(db, "registry", "erase", "",
                             "tombstones applied again after a restore") < 0 ||
                   registry_db_append_event(db, "privacy.erased", "privacy", "", &event.base) < 0
               ? DP_TXN_FAILED
               : DP_TXN_COMMIT;
}

void registry_privacy_job(registry_t *registry)
{
    if (!dp_db_is_connected(registry->db) && !dp_db_check(registry->db))
        return;
    registry_privacy_backfill(registry);
    int reapplied = 0;
    dp_db_transaction(registry->db, s_tombstones_body, &reapplied);
}
