/* Data protection in the intake: erasure on request (with a tombstone),
   the access export, retention, the audit trail, and the scheduled job
   that applies retention and tombstones. Personal fields are pseudonymised,
   never deleted rows, so that every count in the reports stays the same. */
#include <inttypes.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <string.h>

#include "dp_log.h"
#include "dp_privacy.h"
#include "dp_validate.h"
#include "events.pb-c.h"
#include "intake_db.h"
#include "intake_partners.h"
#include "intake_service.h"
#include "privacy.pb-c.h"

#define INVALID DP__CODE__CODE_INVALID_ARGUMENT

enum { MAX_ACTOR_BYTES = 100 };

const char *intake_who(dp_reply_t *reply, const char *given)
{
    return dp_privacy_who(reply, given);
}

int intake_audit(intake_t *intake, const char *actor, const char *action, const char *subject_key,
                 const char *format, ...)
{
    char detail[700];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    return intake_db_audit(intake->db, actor, action, subject_key, detail);
}

static int s_privacy_event(dp_db_t *db, const char *subject_key, uint32_t erased,
                           const char *reason)
{
    Dp__PrivacyEvent event = DP__PRIVACY_EVENT__INIT;
    event.service = "intake";
    event.subject_key = (char *)subject_key;
    event.erased = erased;
    event.reason = (char *)reason;
    return intake_db_append_aggregate_event(db, "privacy.erased", "privacy", subject_key,
                                            &event.base);
}

/* ---- erasure ----------------------------------------------------------------------- */

/* The tombstone first, so that the person's address stays erased if it comes again. */
static int s_erase_subject(dp_db_t *db, const char *subject_key)
{
    return intake_db_add_tombstone(db, subject_key) < 0 ? -1
                                                        : intake_db_erase_subject(db, subject_key);
}

static const dp_privacy_eraser_t s_eraser = {"intake", "enquiries", s_erase_subject,
                                             intake_db_audit, intake_db_append_aggregate_event};

void intake_erase(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const intake_t *intake = state;
    dp_privacy_erase(reply, message, intake->db, intake->privacy_key, &s_eraser);
}

/* ---- access export ------------------------------------------------------------------ */

void intake_export(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    intake_t *intake = state;
    const Dp__ExportPersonalDataRequest *request = (const Dp__ExportPersonalDataRequest *)message;
    char key[DP_PRIVACY_KEY_HEX];
    Dp__ExportPersonalDataReply answer;
    if (!dp_privacy_export_start(reply, request, intake->privacy_key, key, &answer))
        return;
    dp_arena_t *arena = dp_reply_arena(reply);
    int64_t *ids = NULL;
    size_t count = 0;
    int tombstoned = intake_db_is_tombstoned(intake->db, key);
    if (tombstoned < 0 || intake_db_subject_enquiries(intake->db, arena, key, &ids, &count) < 0) {
        dp_reply_db_failure(reply, intake->db);
        return;
    }
    answer.erased = tombstoned > 0;
    answer.enquiries = (Dp__Enquiry **)dp_arena_array(arena, count);
    for (size_t i = 0; answer.enquiries && i < count; i++) {
        /* An export that leaves something out would mislead the person: fail instead. */
        if (intake_db_load_enquiry(intake->db, arena, ids[i], true,
                                   &answer.enquiries[answer.n_enquiries]) != 1) {
            dp_reply_db_failure(reply, intake->db);
            return;
        }
        answer.n_enquiries++;
    }
    if (intake_audit(intake, intake_who(reply, request->actor), "export", key, "%zu enquiries",
                     answer.n_enquiries) < 0) {
        dp_reply_db_failure(reply, intake->db);
        return;
    }
    dp_reply_ok(reply, &answer.base);
}

/* ---- retention ------------------------------------------------------------------------ */

typedef struct {
    intake_t *intake;  /* the service */
    bool dry_run;      /* count only */
    const char *actor; /* who ran it */
    int count;         /* enquiries (to be) pseudonymised */
    char cutoff[32];   /* resolved before this */
} retention_t;

static dp_txn_outcome_t s_retention_body(dp_db_t *db, void *arg)
{
    retention_t *run = arg;
    run->count = intake_db_retention(db, run->intake->retention_months, run->dry_run, run->cutoff);
    if (run->count < 0)
        return DP_TXN_FAILED;
    if (run->dry_run || run->count == 0)
        return DP_TXN_COMMIT;
    if (intake_audit(run->intake, run->actor, "retention", "", "%d enquiries resolved before %s",
                     run->count, run->cutoff) < 0 ||
        s_privacy_event(db, "", (uint32_t)run->count, "retention") < 0)
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

void intake_retention(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    intake_t *intake = state;
    const Dp__RunRetentionRequest *request = (const Dp__RunRetentionRequest *)message;
    if (!dp_valid_text(request->actor, MAX_ACTOR_BYTES)) {
        dp_reply_error(reply, INVALID, "actor", "actor must be text of at most %d bytes",
                       MAX_ACTOR_BYTES);
        return;
    }
    retention_t run = {intake, request->dry_run, intake_who(reply, request->actor), 0, ""};
    if (dp_db_transaction(intake->db, s_retention_body, &run) != 0) {
        dp_reply_db_failure(reply, intake->db);
        return;
    }
    Dp__RunRetentionReply answer = DP__RUN_RETENTION_REPLY__INIT;
    answer.enquiries = (uint32_t)run.count;
    answer.cutoff = run.cutoff;
    dp_reply_ok(reply, &answer.base);
}

/* ---- audit trail ---------------------------------------------------------------------- */

void intake_list_audit(void *state, const ProtobufCMessage *message, dp_reply_t *reply)
{
    const intake_t *intake = state;
    dp_privacy_list_audit(reply, (const Dp__ListAuditRequest *)message, intake->privacy_key,
                          intake->db, intake_db_list_audit);
}

/* ---- the scheduled job ------------------------------------------------------------------ */

static dp_txn_outcome_t s_tombstones_body(dp_db_t *db, void *arg)
{
    int *count = arg;
    *count = intake_db_apply_tombstones(db);
    if (*count < 0)
        return DP_TXN_FAILED;
    if (*count && (intake_db_audit(db, "intake", "erase", "",
                                   "tombstones applied again after a restore") < 0 ||
                   s_privacy_event(db, "", (uint32_t)*count, "request") < 0))
        return DP_TXN_FAILED;
    return DP_TXN_COMMIT;
}

/* The job's three steps; between two, the actor looks at its pipe. */
static int s_job_step(intake_t *intake, int step, int *count)
{
    *count = 0;
    if (step == 0)
        return intake_db_backfill(intake->db, intake->privacy_key) < 0 ? -1 : 0;
    if (step == 1) {
        if (dp_db_transaction(intake->db, s_tombstones_body, count) != 0)
            return -1;
        if (*count > 0)
            dp_warning("privacy: %d enquiries of erased people found again and erased", *count);
        return 0;
    }
    retention_t run = {intake, false, "retention job", 0, ""};
    if (dp_db_transaction(intake->db, s_retention_body, &run) != 0)
        return -1;
    *count = run.count;
    if (run.count > 0)
        dp_info("privacy: retention pseudonymised %d enquiries resolved before %s", run.count,
                run.cutoff);
    return 0;
}

/* True when something came on the pipe: the only command is $TERM. */
static bool s_terminated(zsock_t *pipe, int wait_ms)
{
    zmq_pollitem_t item = {zsock_resolve(pipe), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, wait_ms) <= 0 || !(item.revents & ZMQ_POLLIN))
        return false;
    char *command = zstr_recv(pipe);
    zstr_free(&command);
    return true;
}

void intake_privacy_actor(zsock_t *pipe, void *args)
{
    const dp_config_t *config = args;
    /* A connection of its own: a long retention run never holds a request. */
    intake_t job = {.db = dp_db_new(dp_config_get(config, "DP_DATABASE_URL"), "dp-intake-privacy",
                                    intake_statements, intake_statement_count),
                    .privacy_key = dp_config_get(config, "DP_PRIVACY_KEY"),
                    .retention_months =
                        (int)dp_config_get_int(config, "DP_INTAKE_RETENTION_MONTHS"),
                    .privacy_job_ms = (int)dp_config_get_int(config, "DP_INTAKE_PRIVACY_JOB_MS")};
    zsock_signal(pipe, job.db ? 0 : 1);
    bool running = job.db != NULL;
    int64_t next_run = zclock_mono(); /* the first run as the service starts */
    while (running) {
        int64_t left = next_run - zclock_mono();
        if (s_terminated(pipe, left > 0 ? (int)(left > 1000 ? 1000 : left) : 0))
            break;
        if (zclock_mono() < next_run)
            continue;
        int counts[3] = {0, 0, 0}, failed = 0;
        for (int step = 0; step < 3 && running; step++) {
            /* A database that is away is tried again at the next run, not waited for. */
            if (step == 0 && !dp_db_is_connected(job.db) && !dp_db_check(job.db)) {
                failed = 1;
                break;
            }
            failed = s_job_step(&job, step, &counts[step]) != 0;
            running = !s_terminated(pipe, 0);
        }
        if (running)
            zsock_send(pipe, "sii", "PRIVACY", failed ? -1 : counts[1], failed ? -1 : counts[2]);
        next_run = zclock_mono() + job.privacy_job_ms;
    }
    dp_db_destroy(&job.db);
    OPENSSL_thread_stop();
}
