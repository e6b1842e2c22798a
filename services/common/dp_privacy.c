#include "dp_privacy.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dp_format.h"
#include "dp_log.h"
#include "dp_validate.h"
#include "events.pb-c.h"

void dp_privacy_subject_key(const char *secret, const char *email, char key[DP_PRIVACY_KEY_HEX])
{
    char lower[320];
    size_t length = 0;
    for (const char *p = email; *p && length < sizeof lower - 1; p++)
        lower[length++] = (char)tolower((unsigned char)*p);
    lower[length] = 0;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)lower, length, digest,
         &digest_length);
    dp_format_hex(digest, 32, key);
}

void dp_privacy_erased_email(const char *key, char email[64])
{
    snprintf(email, 64, "erased-%.16s@invalid", key);
}

bool dp_privacy_check_request(dp_reply_t *reply, const char *email, const char *actor)
{
    if (!dp_valid_email(email)) {
        dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, "email",
                       "email must be an address such as name@example.org");
        return false;
    }
    if (!dp_valid_text(actor, 100)) {
        dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, "actor",
                       "actor must be text of at most 100 bytes");
        return false;
    }
    return true;
}

bool dp_privacy_export_start(dp_reply_t *reply, const Dp__ExportPersonalDataRequest *request,
                             const char *secret, char key[DP_PRIVACY_KEY_HEX],
                             Dp__ExportPersonalDataReply *answer)
{
    if (!dp_privacy_check_request(reply, request->email, request->actor))
        return false;
    dp_privacy_subject_key(secret, request->email, key);
    dp__export_personal_data_reply__init(answer);
    answer->subject_key = key;
    return true;
}

const char *dp_privacy_who(dp_reply_t *reply, const char *given)
{
    return dp_reply_actor(reply, given);
}

static void *s_audit_entry_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    static const char *const fields[] = {"id",          "at",     "actor", "action",
                                         "subject_key", "detail", NULL};
    return dp_db_message(arena, &dp__audit_entry__descriptor, fields, result, row);
}

int dp_privacy_audit_add(dp_db_t *db, int statement, const char *actor, const char *action,
                         const char *subject_key, const char *detail)
{
    const char *params[] = {actor, action, subject_key ? subject_key : "", detail ? detail : ""};
    return dp_db_run_count(db, statement, params) < 0 ? -1 : 1;
}

int dp_privacy_audit_rows(dp_db_t *db, int statement, const char *service, dp_arena_t *arena,
                          const char *subject_key, int limit, void ***entries, size_t *count)
{
    char limit_text[24];
    snprintf(limit_text, sizeof limit_text, "%d", limit);
    const char *params[] = {subject_key, limit_text};
    int outcome =
        dp_db_run_rows(db, statement, params, arena, s_audit_entry_from_row, entries, count);
    for (size_t i = 0; outcome > 0 && i < *count; i++)
        ((Dp__AuditEntry *)(*entries)[i])->service = (char *)service;
    return outcome;
}

/* What one attempt of the erasure transaction works with (reset by the body). */
typedef struct {
    const dp_privacy_eraser_t *eraser; /* the service's side */
    const char *key;                   /* the person's keyed hash */
    const char *actor;                 /* who asked (dp_privacy_who) */
    const char *reason;                /* the request's reference */
    int erased;                        /* records pseudonymised */
} erase_t;

static dp_txn_outcome_t s_erase_body(dp_db_t *db, void *arg)
{
    erase_t *erase = arg;
    const dp_privacy_eraser_t *eraser = erase->eraser;
    erase->erased = eraser->erase(db, erase->key);
    if (erase->erased < 0)
        return DP_TXN_FAILED;
    char detail[700];
    snprintf(detail, sizeof detail, "%d %s; %s", erase->erased, eraser->records, erase->reason);
    Dp__PrivacyEvent event = DP__PRIVACY_EVENT__INIT;
    event.service = (char *)eraser->service;
    event.subject_key = (char *)erase->key;
    event.erased = (uint32_t)erase->erased;
    event.reason = "request";
    if (eraser->audit(db, erase->actor, "erase", erase->key, detail) < 0 ||
        eraser->append_event(db, "privacy.erased", "privacy", erase->key, &event.base) < 0)
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

void dp_privacy_erase(dp_reply_t *reply, const ProtobufCMessage *message, dp_db_t *db,
                      const char *secret, const dp_privacy_eraser_t *eraser)
{
    const Dp__ErasePersonalDataRequest *request = (const Dp__ErasePersonalDataRequest *)message;
    if (!dp_privacy_check_request(reply, request->email, request->actor))
        return;
    if (!dp_valid_text(request->reason, 500)) {
        dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, "reason",
                       "reason must be text of at most 500 bytes");
        return;
    }
    char key[DP_PRIVACY_KEY_HEX];
    dp_privacy_subject_key(secret, request->email, key);
    erase_t erase = {eraser, key, dp_privacy_who(reply, request->actor), request->reason, 0};
    if (dp_db_transaction(db, s_erase_body, &erase) != 0) {
        dp_reply_db_failure(reply, db);
        return;
    }
    Dp__ErasePersonalDataReply answer = DP__ERASE_PERSONAL_DATA_REPLY__INIT;
    answer.erased = (uint32_t)erase.erased;
    answer.subject_key = key;
    dp_reply_ok(reply, &answer.base);
}

int dp_privacy_backfill(dp_db_t *db, int select_statement, int update_statement, const char *secret)
{
    for (int round = 0; round < 20; round++) {
        PGresult *result = dp_db_run(db, select_statement, NULL);
        if (!result)
            return -1;
        int rows = PQntuples(result);
        json_t *updates = json_array();
        for (int row = 0; updates && row < rows; row++) {
            char key[DP_PRIVACY_KEY_HEX];
            dp_privacy_subject_key(secret, PQgetvalue(result, row, 1), key);
            json_array_append_new(
                updates,
                json_pack("{s:I, s:s}", "id", (json_int_t)dp_db_int64(result, row, 0), "key", key));
        }
        PQclear(result);
        char *text = updates && rows ? json_dumps(updates, JSON_COMPACT) : NULL;
        json_decref(updates);
        const char *params[] = {text};
        int outcome = text ? dp_db_run_count(db, update_statement, params) : 0;
        free(text);
        if (outcome < 0)
            return -1;
        if (rows < 500)
            return 0;
    }
    return 0;
}

void dp_privacy_warn_default(const char *secret)
{
    if (strcmp(secret, "development-only-privacy-key") == 0)
        dp_warning("DP_PRIVACY_KEY is the development default: set a secret of your own, or the "
                   "keyed hashes of erased addresses can be recomputed by anyone");
}

int dp_privacy_key_check(const char *secret, const char *curve_dir)
{
    if (!curve_dir || !*curve_dir)
        return 0;
    if (!secret || strcmp(secret, "development-only-privacy-key") == 0) {
        dp_error("DP_PRIVACY_KEY is the development default and CURVE is on: refusing to start; "
                 "set a secret of at least %d bytes (docs/security.md)",
                 DP_PRIVACY_KEY_MIN_BYTES);
        return -1;
    }
    if (strlen(secret) < DP_PRIVACY_KEY_MIN_BYTES) {
        dp_error("DP_PRIVACY_KEY has %zu bytes and CURVE is on: refusing to start; set a secret "
                 "of at least %d bytes (docs/security.md)",
                 strlen(secret), DP_PRIVACY_KEY_MIN_BYTES);
        return -1;
    }
    return 0;
}

void dp_privacy_list_audit(dp_reply_t *reply, const Dp__ListAuditRequest *request,
                           const char *secret, dp_db_t *db, dp_audit_lister_fn *lister)
{
    enum { DEFAULT_LIMIT = 100, MAX_LIMIT = 1000 };
    if (*request->email && !dp_valid_email(request->email)) {
        dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, "email",
                       "email must be an address, or empty for all");
        return;
    }
    if (request->limit > MAX_LIMIT) {
        dp_reply_error(reply, DP__CODE__CODE_INVALID_ARGUMENT, "limit", "limit must be at most %d",
                       MAX_LIMIT);
        return;
    }
    char key[DP_PRIVACY_KEY_HEX] = "";
    if (*request->email)
        dp_privacy_subject_key(secret, request->email, key);
    Dp__ListAuditReply answer = DP__LIST_AUDIT_REPLY__INIT;
    if (lister(db, dp_reply_arena(reply), key, request->limit ? (int)request->limit : DEFAULT_LIMIT,
               (void ***)&answer.entries, &answer.n_entries) < 0)
        dp_reply_db_failure(reply, db);
    else
        dp_reply_ok(reply, &answer.base);
}
