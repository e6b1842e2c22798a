/* Pseudonymous keys for personal data: a keyed hash (HMAC-SHA256 with the
   services' shared DP_PRIVACY_KEY) of a lower-cased e-mail address. Rows of
   one person are found by it; a tombstone holds it instead of the address. */
#ifndef DP_PRIVACY_H
#define DP_PRIVACY_H

#define DP_PRIVACY_KEY_HEX 65

/* Writes the 64 hex digits (and a NUL) of the key of `email`. */
void dp_privacy_subject_key(const char *secret, const char *email, char key[DP_PRIVACY_KEY_HEX]);

/* Text that replaces personal data, and the address that replaces an
   address (unique per person, made from the key; never deliverable). */
#define DP_ERASED_TEXT "[erased]"
void dp_privacy_erased_email(const char *key, char email[64]);

#include <stdbool.h>
#include <stddef.h>

#include "dp_db.h"
#include "dp_server.h"
#include "privacy.pb-c.h"

/* Checks a privacy request's address and actor; refuses with INVALID_ARGUMENT. */
bool dp_privacy_check_request(dp_reply_t *reply, const char *email, const char *actor);
/* The start of an access export: checks the request (as above), writes
   the person's key and sets it on the answer. False after a refusal. */
bool dp_privacy_export_start(dp_reply_t *reply, const Dp__ExportPersonalDataRequest *request,
                             const char *secret, char key[DP_PRIVACY_KEY_HEX],
                             Dp__ExportPersonalDataReply *answer);
/* Who did it: dp_reply_actor (the certificate, never the request field with CURVE on). */
const char *dp_privacy_who(dp_reply_t *reply, const char *given);
/* A service's audit trail through its own statements. dp_privacy_audit_add
   runs `statement` with (actor, action, subject_key, detail), NULL texts
   as "". dp_privacy_audit_rows runs `statement` with (subject_key, limit)
   and makes its rows (id, at, actor, action, subject_key, detail) AuditEntry
   messages of `service` in the arena. Both return 1 or -1. */
int dp_privacy_audit_add(dp_db_t *db, int statement, const char *actor, const char *action,
                         const char *subject_key, const char *detail);
int dp_privacy_audit_rows(dp_db_t *db, int statement, const char *service, dp_arena_t *arena,
                          const char *subject_key, int limit, void ***entries, size_t *count);
/* A service's reader of its audit trail: entries about subject_key ("" for
   all), newest first, at most limit. */
typedef int(dp_audit_lister_fn)(dp_db_t *db, dp_arena_t *arena, const char *subject_key, int limit,
                                void ***entries, size_t *count);
/* Answers a dp.ListAuditRequest from one service's audit trail. */
void dp_privacy_list_audit(dp_reply_t *reply, const Dp__ListAuditRequest *request,
                           const char *secret, dp_db_t *db, dp_audit_lister_fn *lister);

/* One service's side of an erasure on request, as dp_privacy_erase runs it
   in one transaction: `erase` pseudonymises what the service holds of the
   person (and leaves a tombstone) and returns how many records, or -1;
   `audit` and `append_event` are the service's audit row and outbox. */
typedef struct {
    const char *service; /* "registry", "intake": the event's service */
    const char *records; /* what erase counts, for the audit ("contacts") */
    int (*erase)(dp_db_t *db, const char *subject_key);
    int (*audit)(dp_db_t *db, const char *actor, const char *action, const char *subject_key,
                 const char *detail);
    int (*append_event)(dp_db_t *db, const char *event_type, const char *aggregate_type,
                        const char *aggregate_id, const ProtobufCMessage *payload);
} dp_privacy_eraser_t;

/* Answers a dp.ErasePersonalDataRequest (the request as the handler got
   it) on the service's connection with its DP_PRIVACY_KEY: checks it, then
   in one transaction erases, writes the audit row "erase" and the event
   privacy.erased; replies with the count and the subject key. */
void dp_privacy_erase(dp_reply_t *reply, const ProtobufCMessage *request, dp_db_t *db,
                      const char *secret, const dp_privacy_eraser_t *eraser);

/* Gives keyed hashes to rows stored before they existed: `select_statement`
   returns (id, email) of up to 500 rows without one, `update_statement`
   takes [{id, key}] as JSON. Returns 0, or -1 on a database failure. */
int dp_privacy_backfill(dp_db_t *db, int select_statement, int update_statement,
                        const char *secret);

/* Logs a warning when `secret` is the development default. */
void dp_privacy_warn_default(const char *secret);

/* The shortest DP_PRIVACY_KEY accepted with CURVE on: an HMAC-SHA256 key
   of fewer bytes than the hash makes the keyed hashes weaker than they look. */
#define DP_PRIVACY_KEY_MIN_BYTES 32
/* With CURVE on (curve_dir not empty) the stack is a deployment, not a
   developer's machine: the development default, or a key shorter than
   DP_PRIVACY_KEY_MIN_BYTES, would let anyone who reads this repository
   recompute who an erased tombstone was. Returns -1 after an error log in
   that case, 0 otherwise (without CURVE the default is only warned about). */
int dp_privacy_key_check(const char *secret, const char *curve_dir);

/* The row every service adds to its settings table. */
#define DP_PRIVACY_SETTINGS                                                                        \
    {                                                                                              \
        "DP_PRIVACY_KEY", "development-only-privacy-key",                                          \
            "secret for the keyed hashes of e-mail addresses; the same in every service"           \
    }

#endif
