/* A partner's contact persons: personal data, keyed for erasure. */
#include <inttypes.h>
#include <string.h>

#include "dp_privacy.h"
#include "dp_validate.h"
#include "events.pb-c.h"
#include "registry_requests.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

/* ---- contacts ----------------------------------------------------------------- */

static dp_txn_outcome_t s_add_contact_body(dp_db_t *db, void *arg)
{
    registry_write_t *write = arg;
    const Dp__AddContactRequest *request = (const Dp__AddContactRequest *)write->input;
    const registry_partner_key_t *key = &write->key; /* locked by registry_write_partner */
    char email_key[DP_PRIVACY_KEY_HEX];
    dp_privacy_subject_key(write->registry->privacy_key, request->email, email_key);
    if (registry_db_insert_contact(db, key->id, request->name, request->role, request->email,
                                   email_key, &write->child_id) < 0)
        return DP_TXN_FAILED;
    Dp__ContactEvent event = DP__CONTACT_EVENT__INIT;
    event.partner_id = key->id;
    event.contact_id = write->child_id;
    return registry_child_event(write, key->id, "partner.contact_added", &event.base);
}

void registry_add_contact(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__AddContactRequest *request = (const Dp__AddContactRequest *)message;
    if (!registry_check_ref(reply, request->partner) ||
        !dp_check_text(reply, "name", request->name, REGISTRY_MAX_NAME_BYTES, true) ||
        !dp_check_text(reply, "role", request->role, REGISTRY_MAX_NAME_BYTES, false))
        return;
    if (!dp_valid_email(request->email)) {
        dp_reply_error(reply, INVALID, "email",
                       "email must be an address such as name@example.org");
        return;
    }
    registry_write_t write = {.registry = state, .input = message, .reply = reply};
    if (registry_write_partner(&write, s_add_contact_body) != 0)
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
    registry_write_t *write = arg;
    const Dp__RemoveContactRequest *request = (const Dp__RemoveContactRequest *)write->input;
    const registry_partner_key_t *key = &write->key; /* locked by registry_write_partner */
    int removed = registry_db_delete_contact(db, key->id, request->contact_id);
    if (removed < 0)
        return DP_TXN_FAILED;
    if (removed == 0) {
        dp_reply_error(write->reply, DP__CODE__CODE_NOT_FOUND, "contact_id",
                       "the partner has no contact %" PRId64, request->contact_id);
        return DP_TXN_ROLLBACK;
    }
    Dp__ContactEvent event = DP__CONTACT_EVENT__INIT;
    event.partner_id = key->id;
    event.contact_id = request->contact_id;
    return registry_child_event(write, key->id, "partner.contact_removed", &event.base);
}

void registry_remove_contact(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const Dp__RemoveContactRequest *request = (const Dp__RemoveContactRequest *)message;
    if (!registry_check_ref(reply, request->partner))
        return;
    if (request->contact_id <= 0) {
        dp_reply_error(reply, INVALID, "contact_id", "contact_id must be a positive id");
        return;
    }
    registry_write_t write = {.registry = state, .input = message, .reply = reply};
    Dp__RemoveContactReply answer = DP__REMOVE_CONTACT_REPLY__INIT;
    if (registry_write_partner(&write, s_remove_contact_body) == 0)
        dp_reply_ok(reply, &answer.base);
}
