#include "intake_db.h"

#include "dp_format.h"
#include "dp_privacy.h"
#include "privacy.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    STORE_BATCH,
    LOOKUP_KEYS,
    LINK_DUPLICATES,
    APPEND_EVENTS,
    APPEND_EVENT,
    SELECT_ENQUIRY,
    SELECT_TRANSITIONS,
    SELECT_NOTES,
    LOCK_ENQUIRY,
    MOVE_ENQUIRY,
    INSERT_NOTE,
    LIST_RULES,
    INSERT_RULE,
    DELETE_RULE,
    LIST_KINDS,
    INSERT_KIND,
    ERASE_BY_KEY,
    APPLY_TOMBSTONES,
    RETENTION_COUNT,
    ERASE_RETENTION,
    ADD_TOMBSTONE,
    IS_TOMBSTONED,
    EXPORT_IDS,
    AUDIT_INSERT,
    AUDIT_LIST,
    BACKFILL_SELECT,
    BACKFILL_UPDATE,
    SUBJECT_KEY_OF,
    PENDING_SELECT,
    PENDING_RESOLVE,
    ENSURE_STAFF,
    ASSIGNEE_ID_OF,
    PLAN_CUSTOM,
    LIST_NEWEST,
    LIST_OLDEST,
    LIST_DUE,
    LIST_TOTAL,
    COUNT_QUEUE,
    LOCK_STATE,
    UPDATE_DUE,
    INSERT_STEP,
    CLOSE_AS,
    INSERT_MESSAGE,
    SELECT_MESSAGES,
    STATEMENT_COUNT
};

/* The replies to the enquiries of the CTE "erased" (PSEUDONYMISE): their
   subject and body are personal data about the enquirer. A reply still
   queued is parked, so that the mailer never sends the blanked text. */
#define REPLIES_ERASED                                                                             \
    "replies AS (UPDATE intake.outgoing_message m SET subject = '[erased]', body = '[erased]', "   \
    "    status = CASE WHEN m.status = 'queued' THEN 'parked' ELSE m.status END, "                 \
    "    reason = CASE WHEN m.status = 'queued' THEN 'personal data erased before sending' "       \
    "      ELSE m.reason END, "                                                                    \
    "    status_at = CASE WHEN m.status = 'queued' THEN now() ELSE m.status_at END "               \
    "  FROM erased x WHERE m.enquiry_id = x.id) "

/* Pseudonymises the enquiries of the CTE "targets" (ids), their notes, the
   notes of their history and their replies; the enquiry, its kind, dates,
   statuses and partner link stay, so that every count stays the same. The
   search words (a column generated from subject and body) go with them.
   $reason is given by the statement. Answers with the number of enquiries. */
#define PSEUDONYMISE(targets, reason)                                                              \
    "erased AS ("                                                                                  \
    "  UPDATE intake.enquiry e SET sender_name = '[erased]', "                                     \
    "    email = 'erased-' || left(COALESCE(e.email_key, md5(e.id::text)), 16) || '@invalid', "    \
    "    organisation = '', subject = '[erased]', subject_key = '', body = '[erased]', "           \
    "    erased_at = now(), erasure_reason = " reason ", updated_at = now() "                      \
    "  FROM " targets " t WHERE e.id = t.id AND e.erased_at IS NULL RETURNING e.id), "             \
    "notes AS (UPDATE intake.enquiry_note n SET text = '[erased]' FROM erased x "                  \
    "  WHERE n.enquiry_id = x.id), "                                                               \
    "steps AS (UPDATE intake.enquiry_transition s SET note = '[erased]' FROM erased x "            \
    "  WHERE s.enquiry_id = x.id AND s.note NOT IN ('', 'at intake')), " REPLIES_ERASED            \
    "SELECT count(*) FROM erased"

/* A timestamp as RFC 3339 UTC, or "" for NULL. */
#define TS(column)                                                                                 \
    "COALESCE(to_char(" column " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"

/* The columns s_enquiry_from_row reads, with the body as `body` (an expression). */
#define ENQUIRY_COLUMNS_WITH(body)                                                                 \
    "e.id, e.source, e.idempotency_key, e.sender_name, e.email, e.organisation, e.country, "       \
    "e.kind, e.subject, " body                                                                     \
    ", e.language, array_to_string(e.areas, ','), " TS("e.received_at") ", " TS(                   \
        "e.stored_at") ", e.status, COALESCE(e.partner_id, 0), "                                   \
                       "e.partner_slug, "                                                          \
                       "array_to_string(e.suggested_areas, ','), "                                 \
                       "COALESCE(e.possible_duplicate_of, 0), "                                    \
                       "e.quarantine_reason, e.assignee, "                                         \
                       "to_char(e.due_on, 'YYYY-MM-DD'), " TS("e.first_response_at") ", " TS(      \
                           "e.resolved_at") ", "                                                   \
                                            "COALESCE(e.merged_into, 0), "                         \
                                            "e.outcome "

/* $1 of the statements below that use it: true for the full enquiry. */
#define ENQUIRY_COLUMNS ENQUIRY_COLUMNS_WITH("CASE WHEN $1::bool THEN e.body ELSE '' END")

/* An open enquiry: one that waits for staff. The partial indexes of
   migration 0011 repeat this list word for word. */
#define OPEN "e.status IN ('received', 'triaged', 'assigned', 'quarantined')"
/* Today where the Division works. */
#define TODAY "(now() AT TIME ZONE 'Europe/Paris')::date"

/* The queue's filters, $1..$13 (intake_db_list_queue): status, statuses
   (an array literal or NULL), kind, source, partner ("-": none), area,
   assignee, received from and to (UTC days, as the services' sessions run
   in UTC), unassigned, overdue, due today, search words (NULL: none).
   Unset filters are constants that the custom plan folds away (see
   PLAN_CUSTOM), so that each view is planned on its own indexes. */
#define QUEUE_FILTERS                                                                              \
    "($1 = '' OR e.status = $1) AND ($2::text[] IS NULL OR e.status = ANY ($2::text[])) "          \
    "AND ($3 = '' OR e.kind = $3) AND ($4 = '' OR e.source = $4) "                                 \
    "AND ($5 = '' OR e.partner_slug = CASE WHEN $5 = '-' THEN '' ELSE $5 END) "                    \
    "AND ($6 = '' OR $6 = ANY (e.areas) OR $6 = ANY (e.suggested_areas)) "                         \
    "AND ($7 = '' OR e.assignee = $7) "                                                            \
    "AND ($8::date IS NULL OR e.received_at >= $8::date) "                                         \
    "AND ($9::date IS NULL OR e.received_at < $9::date + 1) "                                      \
    "AND (NOT $10::bool OR e.assignee = '') "                                                      \
    "AND (NOT $11::bool OR (" OPEN " AND e.due_on < " TODAY ")) "                                  \
    "AND (NOT $12::bool OR (" OPEN " AND e.due_on = " TODAY ")) "                                  \
    "AND ($13::text IS NULL OR e.search @@ websearch_to_tsquery('simple', $13::text)) "

/* A reply to the enquirer, as s_message_from_row reads it. */
#define MESSAGE_COLUMNS                                                                            \
    "id, author, " TS("created_at") ", subject, body, status, " TS("status_at") ", reason"

/* A page of the queue in one order: the filters, then the rows after the
   cursor ($14 received_at, $15 id, and for the due order $17 due_on; $14
   NULL on the first page), at most $16. The last column is the cursor of
   the row, "<order>_[<due_on>_]<received_at to the microsecond>_<id>". */
#define RECEIVED_KEY                                                                               \
    "to_char(e.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
#define LIST_QUEUE(keyset, order, cursor)                                                          \
    "SELECT " ENQUIRY_COLUMNS_WITH("''") ", " cursor " FROM intake.enquiry e "                     \
                                         "WHERE " QUEUE_FILTERS "AND ($14::timestamptz IS NULL "   \
                                         "OR " keyset ") ORDER BY " order " LIMIT $16::int"

const dp_statement_t intake_statements[] = {
    /* One statement stores a whole batch. Repeated keys inside the batch are
       stored once (the first); rows whose key exists are skipped (and looked
       up by LOOKUP_KEYS). Areas come from the keyword rules; a possible
       duplicate is the latest earlier enquiry from the same address with the
       same normalised subject within $2 hours; the first response is due
       $3 days after the day it was received. */
    [STORE_BATCH] =
        {"store_batch",
         "WITH input AS ("
         "  SELECT t.*, row_number() OVER (PARTITION BY t.source, t.idempotency_key "
         "                                 ORDER BY t.ord) AS occurrence, "
         "    lower(t.subject || ' ' || t.body) AS haystack "
         "  FROM jsonb_to_recordset($1::jsonb) AS t(ord int, source text, idempotency_key text, "
         "    content_hash text, sender_name text, email text, organisation text, country text, "
         "    kind text, subject text, subject_key text, body text, language text, areas text[], "
         "    received_at timestamptz, status text, partner_id bigint, partner_slug text, "
         "    quarantine_reason text, email_key text, partner_pending boolean, actor text)), "
         /* An address erased on request stays erased when its enquiry comes again. */
         "tombstoned AS ("
         "  SELECT i.*, EXISTS (SELECT 1 FROM intake.erasure_tombstone z "
         "    WHERE z.email_key = i.email_key) AS erase FROM input i), "
         "inserted AS ("
         "  INSERT INTO intake.enquiry (source, idempotency_key, content_hash, sender_name, email, "
         "    organisation, country, kind, subject, subject_key, body, language, areas, "
         "    received_at, status, partner_id, partner_slug, quarantine_reason, due_on, "
         "    suggested_areas, possible_duplicate_of, email_key, erased_at, erasure_reason, "
         "    partner_pending) "
         "  SELECT i.source, i.idempotency_key, i.content_hash, "
         "    CASE WHEN i.erase THEN '[erased]' ELSE i.sender_name END, "
         "    CASE WHEN i.erase THEN 'erased-' || left(i.email_key, 16) || '@invalid' "
         "      ELSE i.email END, "
         "    CASE WHEN i.erase THEN '' ELSE i.organisation END, i.country, i.kind, "
         "    CASE WHEN i.erase THEN '[erased]' ELSE i.subject END, "
         "    CASE WHEN i.erase THEN '' ELSE i.subject_key END, "
         "    CASE WHEN i.erase THEN '[erased]' ELSE i.body END, i.language, "
         "    i.areas, i.received_at, i.status, i.partner_id, i.partner_slug, "
         "    i.quarantine_reason, (i.received_at AT TIME ZONE 'UTC')::date + $3::int, "
         "    COALESCE((SELECT array_agg(DISTINCT r.area_slug ORDER BY r.area_slug) "
         "              FROM intake.triage_rule r "
         "              WHERE strpos(i.haystack, r.keyword) > 0), "
         "             '{}'), "
         "    (SELECT e.id FROM intake.enquiry e "
         "      WHERE lower(e.email) = lower(i.email) AND e.subject_key = i.subject_key "
         "        AND e.received_at BETWEEN i.received_at - make_interval(hours => $2::int) "
         "                              AND i.received_at "
         "      ORDER BY e.received_at DESC, e.id DESC LIMIT 1), "
         "    i.email_key, CASE WHEN i.erase THEN now() END, "
         "    CASE WHEN i.erase THEN 'request' ELSE '' END, COALESCE(i.partner_pending, false) "
         "  FROM tombstoned i WHERE i.occurrence = 1 ORDER BY i.ord "
         "  ON CONFLICT (source, idempotency_key) DO NOTHING "
         "  RETURNING id, source, idempotency_key, status, suggested_areas, "
         "possible_duplicate_of), "
         /* Received from the submitter (the authenticated caller); triaged by the intake. */
         "history AS ("
         "  INSERT INTO intake.enquiry_transition (enquiry_id, from_status, to_status, actor, "
         "note) "
         "  SELECT n.id, NULL, 'received', COALESCE(i.actor, 'intake'), '' FROM inserted n "
         "    JOIN input i ON i.occurrence = 1 AND i.source = n.source "
         "      AND i.idempotency_key = n.idempotency_key "
         "  UNION ALL SELECT id, 'received', status, 'intake', 'at intake' FROM inserted) "
         "SELECT i.ord, COALESCE(n.id, 0), COALESCE(n.status, ''), "
         "  COALESCE(array_to_string(n.suggested_areas, ','), ''), "
         "  COALESCE(n.possible_duplicate_of, 0), n.id IS NOT NULL "
         "FROM input i LEFT JOIN inserted n ON i.occurrence = 1 AND n.source = i.source "
         "  AND n.idempotency_key = i.idempotency_key "
         "ORDER BY i.ord",
         3},
    [LOOKUP_KEYS] = {"lookup_keys",
                     "SELECT t.ord, e.id, e.status, e.content_hash "
                     "FROM jsonb_to_recordset($1::jsonb) AS t(ord int, source text, "
                     "  idempotency_key text) "
                     "JOIN intake.enquiry e ON e.source = t.source "
                     "  AND e.idempotency_key = t.idempotency_key",
                     1},
    [LINK_DUPLICATES] =
        {"link_duplicates",
         "UPDATE intake.enquiry e SET possible_duplicate_of = ("
         "  SELECT d.id FROM intake.enquiry d "
         "  WHERE lower(d.email) = lower(e.email) AND d.subject_key = e.subject_key "
         "    AND d.received_at BETWEEN e.received_at - "
         "      make_interval(hours => $2::int) AND e.received_at "
         "    AND d.id < e.id "
         "  ORDER BY d.received_at DESC, d.id DESC LIMIT 1) "
         "WHERE e.id = ANY ($1::bigint[]) AND e.possible_duplicate_of IS NULL "
         "RETURNING e.id, COALESCE(e.possible_duplicate_of, 0)",
         2},
    [APPEND_EVENTS] = {"append_events",
                       "INSERT INTO intake.outbox (event_type, aggregate_type, aggregate_id, "
                       "payload) "
                       "SELECT e.item->>'type', 'enquiry', e.item->>'id', "
                       "  decode(e.item->>'payload', 'hex') "
                       "FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(item, n) "
                       "ORDER BY e.n",
                       1},
    [APPEND_EVENT] = {"append_event",
                      "INSERT INTO intake.outbox (event_type, aggregate_type, aggregate_id, "
                      "payload) VALUES ($1, $2, $3, $4)",
                      4},
    [SELECT_ENQUIRY] = {"select_enquiry",
                        "SELECT " ENQUIRY_COLUMNS "FROM intake.enquiry e WHERE e.id = $2", 2},
    [SELECT_TRANSITIONS] =
        {"select_transitions",
         "SELECT COALESCE(from_status, ''), to_status, actor, " TS(
             "at") ", note "
                   "FROM intake.enquiry_transition WHERE enquiry_id = $1 ORDER BY id",
         1},
    [SELECT_NOTES] = {"select_notes",
                      "SELECT id, actor, " TS("at") ", text FROM intake.enquiry_note "
                                                    "WHERE enquiry_id = $1 ORDER BY id",
                      1},
    [LOCK_ENQUIRY] = {"lock_enquiry",
                      "SELECT status, assignee FROM intake.enquiry WHERE id = $1 FOR UPDATE", 1},
    /* $2 new status, $3 assignee or NULL (keep), $4 old status, $5 actor, $6 note,
       $7 the assignee's staff id ($3 "" clears both).
       The first answer sets the first-response time; closing or rejecting
       sets the resolution time and reopening clears it, with the outcome. */
    [MOVE_ENQUIRY] =
        {"move_enquiry",
         "WITH moved AS ("
         "  UPDATE intake.enquiry SET status = $2, assignee = COALESCE($3, assignee), "
         "    assignee_id = CASE WHEN $3 IS NULL THEN assignee_id WHEN $3 = '' THEN NULL "
         "      ELSE $7::bigint END, "
         "    first_response_at = CASE WHEN $2 = 'answered' "
         "      THEN COALESCE(first_response_at, now()) ELSE first_response_at END, "
         "    resolved_at = CASE WHEN $2 IN ('closed', 'rejected') THEN now() "
         "      WHEN $4 IN ('closed', 'rejected') THEN NULL ELSE resolved_at END, "
         "    merged_into = CASE WHEN $4 IN ('closed', 'rejected') THEN NULL "
         "      ELSE merged_into END, "
         "    outcome = CASE WHEN $4 IN ('closed', 'rejected') THEN '' ELSE outcome END, "
         "    updated_at = now() "
         "  WHERE id = $1 RETURNING id) "
         "INSERT INTO intake.enquiry_transition (enquiry_id, from_status, to_status, "
         "  actor, note) SELECT id, $4, $2, $5, $6 FROM moved",
         7},
    [INSERT_NOTE] = {"insert_note",
                     "INSERT INTO intake.enquiry_note (enquiry_id, actor, text) "
                     "VALUES ($1, $2, $3) RETURNING id, " TS("at"),
                     3},
    [LIST_RULES] = {"list_rules",
                    "SELECT id, keyword, area_slug FROM intake.triage_rule "
                    "ORDER BY area_slug, keyword",
                    0},
    [INSERT_RULE] = {"insert_rule",
                     "INSERT INTO intake.triage_rule (keyword, area_slug) VALUES ($1, $2) "
                     "ON CONFLICT (keyword, area_slug) DO NOTHING RETURNING id",
                     2},
    [DELETE_RULE] = {"delete_rule", "DELETE FROM intake.triage_rule WHERE id = $1", 1},
    [LIST_KINDS] = {"list_kinds",
                    "SELECT slug, label FROM intake.enquiry_kind ORDER BY created_at, slug", 0},
    [ERASE_BY_KEY] = {"erase_by_key",
                      "WITH targets AS (SELECT id FROM intake.enquiry "
                      "  WHERE email_key = $1 AND erased_at IS NULL), " PSEUDONYMISE("targets",
                                                                                     "'request'"),
                      1},
    /* After a restore from a backup older than an erasure. */
    [APPLY_TOMBSTONES] = {"apply_tombstones",
                          "WITH targets AS (SELECT e.id FROM intake.enquiry e "
                          "  JOIN intake.erasure_tombstone z ON z.email_key = e.email_key "
                          "  WHERE e.erased_at IS NULL), " PSEUDONYMISE("targets", "'request'"),
                          0},
    [RETENTION_COUNT] = {"retention_count",
                         "SELECT count(*), to_char((now() - make_interval(months => $1::int)) "
                         "  AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                         "FROM intake.enquiry WHERE erased_at IS NULL "
                         "AND status IN ('closed', 'rejected') "
                         "AND resolved_at < now() - make_interval(months => $1::int)",
                         1},
    [ERASE_RETENTION] =
        {"erase_retention",
         "WITH targets AS (SELECT id FROM intake.enquiry WHERE erased_at IS NULL "
         "  AND status IN ('closed', 'rejected') "
         "  AND resolved_at < now() - make_interval(months => $1::int)), " PSEUDONYMISE(
             "targets", "'retention'"),
         1},
    [ADD_TOMBSTONE] = {"add_tombstone",
                       "INSERT INTO intake.erasure_tombstone (email_key) VALUES ($1) "
                       "ON CONFLICT (email_key) DO NOTHING",
                       1},
    [IS_TOMBSTONED] = {"is_tombstoned",
                       "SELECT 1 FROM intake.erasure_tombstone WHERE email_key = $1", 1},
    [EXPORT_IDS] = {"export_ids", "SELECT id FROM intake.enquiry WHERE email_key = $1 ORDER BY id",
                    1},
    [AUDIT_INSERT] = {"audit_insert",
                      "INSERT INTO intake.audit_log (actor, action, subject_key, detail) "
                      "VALUES ($1, $2, $3, $4)",
                      4},
    [AUDIT_LIST] = {"audit_list",
                    "SELECT id, " TS(
                        "at") ", actor, action, subject_key, detail "
                              "FROM intake.audit_log WHERE ($1 = '' OR subject_key = $1) "
                              "ORDER BY id DESC LIMIT $2::int",
                    2},
    [BACKFILL_SELECT] = {"backfill_select",
                         "SELECT id, email FROM intake.enquiry WHERE email_key IS NULL "
                         "AND erased_at IS NULL ORDER BY id LIMIT 500",
                         0},
    [BACKFILL_UPDATE] = {"backfill_update",
                         "UPDATE intake.enquiry e SET email_key = v.key "
                         "FROM jsonb_to_recordset($1::jsonb) AS v(id bigint, key text) "
                         "WHERE e.id = v.id AND e.email_key IS NULL",
                         1},
    [SUBJECT_KEY_OF] = {"subject_key_of",
                        "SELECT COALESCE(email_key, '') FROM intake.enquiry WHERE id = $1", 1},
    /* Enquiries stored while the intake had no partner map, oldest first;
       rows another session holds are left for the next turn. */
    [PENDING_SELECT] = {"pending_select",
                        "SELECT id, email FROM intake.enquiry WHERE partner_pending "
                        "ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED",
                        1},
    [PENDING_RESOLVE] = {"pending_resolve",
                         "UPDATE intake.enquiry e SET partner_id = v.partner_id, "
                         "  partner_slug = COALESCE(v.partner_slug, ''), partner_pending = false, "
                         "  updated_at = CASE WHEN v.partner_id IS NULL THEN e.updated_at "
                         "    ELSE now() END "
                         "FROM jsonb_to_recordset($1::jsonb) AS v(id bigint, partner_id bigint, "
                         "  partner_slug text) "
                         "WHERE e.id = v.id AND e.partner_pending",
                         1},
    [ENSURE_STAFF] = {"ensure_staff",
                      "WITH found AS (SELECT id FROM intake.staff WHERE name = $1), "
                      "added AS (INSERT INTO intake.staff (name) SELECT $1 "
                      "  WHERE NOT EXISTS (SELECT 1 FROM found) "
                      "  ON CONFLICT (name) DO NOTHING RETURNING id) "
                      "SELECT id FROM found UNION ALL SELECT id FROM added",
                      1},
    [ASSIGNEE_ID_OF] = {"assignee_id_of",
                        "SELECT COALESCE(assignee_id, 0) FROM intake.enquiry WHERE id = $1", 1},
    [INSERT_KIND] = {"insert_kind",
                     "INSERT INTO intake.enquiry_kind (slug, label) VALUES ($1, $2) "
                     "ON CONFLICT (slug) DO NOTHING",
                     2},
    /* The queue's statements test optional filters against constants: each
       is planned for the values given (in the list's transaction only). */
    [PLAN_CUSTOM] = {"plan_custom",
                     "SELECT set_config('plan_cache_mode', 'force_custom_plan', true)", 0},
    [LIST_NEWEST] = {"list_newest",
                     LIST_QUEUE("(e.received_at, e.id) < ($14::timestamptz, $15::bigint)",
                                "e.received_at DESC, e.id DESC",
                                "'n_' || " RECEIVED_KEY " || '_' || e.id"),
                     16},
    [LIST_OLDEST] = {"list_oldest",
                     LIST_QUEUE("(e.received_at, e.id) > ($14::timestamptz, $15::bigint)",
                                "e.received_at, e.id", "'o_' || " RECEIVED_KEY " || '_' || e.id"),
                     16},
    [LIST_DUE] = {"list_due",
                  LIST_QUEUE("(e.due_on, e.received_at, e.id) > ($17::date, $14::timestamptz, "
                             "$15::bigint)",
                             "e.due_on, e.received_at, e.id",
                             "'d_' || to_char(e.due_on, 'YYYY-MM-DD') || '_' || " RECEIVED_KEY
                             " || '_' || e.id"),
                  17},
    /* Counted up to INTAKE_TOTAL_CAP + 1: an exact count of a broad view
       (every enquiry, a common word) reads every match, hundreds of
       milliseconds at a million enquiries; "more than 10,000" is what a
       person needs of it. */
    [LIST_TOTAL] = {"list_total",
                    "SELECT count(*) FROM (SELECT 1 FROM intake.enquiry e WHERE " QUEUE_FILTERS
                    "LIMIT 10001) AS matches",
                    13},
    /* Each count reads one partial index of migration 0011. */
    [COUNT_QUEUE] = {"count_queue",
                     "SELECT (SELECT count(*) FROM intake.enquiry e WHERE " OPEN
                     " AND $1 <> '' AND e.assignee = $1), "
                     "(SELECT count(*) FROM intake.enquiry e WHERE " OPEN " AND e.assignee = ''), "
                     "(SELECT count(*) FROM intake.enquiry e WHERE " OPEN " AND e.due_on < " TODAY
                     "), "
                     "(SELECT count(*) FROM intake.enquiry e WHERE " OPEN " AND e.due_on = " TODAY
                     "), "
                     "(SELECT count(*) FROM intake.enquiry e WHERE " OPEN ")",
                     1},
    [LOCK_STATE] = {"lock_state",
                    "SELECT status, COALESCE(possible_duplicate_of, 0), COALESCE(merged_into, 0), "
                    "  kind, COALESCE(partner_id, 0), partner_slug, to_char(due_on, 'YYYY-MM-DD'), "
                    "  outcome, erased_at IS NOT NULL FROM intake.enquiry WHERE id = $1 FOR UPDATE",
                    1},
    [UPDATE_DUE] = {"update_due",
                    "UPDATE intake.enquiry SET due_on = $2::date, updated_at = now() WHERE id = $1",
                    2},
    /* A history entry; from = to for a change that keeps the status. */
    [INSERT_STEP] = {"insert_step",
                     "INSERT INTO intake.enquiry_transition (enquiry_id, from_status, to_status, "
                     "  actor, note) VALUES ($1, $2, $3, $4, $5)",
                     5},
    /* Closes an enquiry as merged ($2) or admitted as partner ($3, $4: the
       partner matcher no longer looks for one), with the outcome $5. */
    [CLOSE_AS] = {"close_as",
                  "UPDATE intake.enquiry SET status = 'closed', "
                  "  merged_into = COALESCE($2::bigint, merged_into), "
                  "  partner_id = COALESCE($3::bigint, partner_id), "
                  "  partner_slug = COALESCE($4, partner_slug), "
                  "  partner_pending = partner_pending AND $3::bigint IS NULL, outcome = $5, "
                  "  resolved_at = now(), updated_at = now() WHERE id = $1",
                  5},
    [INSERT_MESSAGE] = {"insert_message",
                        "INSERT INTO intake.outgoing_message (enquiry_id, author, subject, body) "
                        "VALUES ($1, $2, $3, $4) RETURNING " MESSAGE_COLUMNS,
                        4},
    [SELECT_MESSAGES] = {"select_messages",
                         "SELECT " MESSAGE_COLUMNS " FROM intake.outgoing_message "
                         "WHERE enquiry_id = $1 ORDER BY id",
                         1},
};
const size_t intake_statement_count = STATEMENT_COUNT;

static const char *s_status_names[] = {"",         "received", "triaged",  "assigned",
                                       "answered", "closed",   "rejected", "quarantined"};

const char *intake_status_text(Dp__EnquiryStatus status)
{
    if ((int)status > 0 && (size_t)status < sizeof s_status_names / sizeof *s_status_names)
        return s_status_names[status];
    return NULL;
}

Dp__EnquiryStatus intake_status_value(const char *text)
{
    for (size_t i = 1; i < sizeof s_status_names / sizeof *s_status_names; i++)
        if (strcmp(text, s_status_names[i]) == 0)
            return (Dp__EnquiryStatus)i;
    return DP__ENQUIRY_STATUS__ENQUIRY_STATUS_UNSPECIFIED;
}

/* ---- helpers ------------------------------------------------------------------ */

/* ---- submissions ---------------------------------------------------------------- */

int intake_db_store_batch(dp_db_t *db, dp_arena_t *arena, const char *rows_json,
                          int duplicate_window_hours, int response_days, intake_stored_t *stored,
                          size_t count)
{
    char window[24], days[24];
    dp_format_int64(window, duplicate_window_hours);
    dp_format_int64(days, response_days);
    const char *params[] = {rows_json, window, days};
    PGresult *result = dp_db_run(db, STORE_BATCH, params);
    if (!result)
        return -1;
    for (int row = 0; row < PQntuples(result); row++) {
        int ord = atoi(PQgetvalue(result, row, 0));
        if (ord < 0 || (size_t)ord >= count)
            continue;
        intake_stored_t *one = &stored[ord];
        one->inserted = strcmp(PQgetvalue(result, row, 5), "t") == 0;
        if (!one->inserted)
            continue;
        one->id = dp_db_int64(result, row, 1);
        snprintf(one->status, sizeof one->status, "%s", PQgetvalue(result, row, 2));
        one->suggested_areas =
            dp_db_split_list(arena, PQgetvalue(result, row, 3), &one->n_suggested_areas);
        one->possible_duplicate_of = dp_db_int64(result, row, 4);
    }
    PQclear(result);

    /* Submissions not stored now were stored before: find what is there. */
    bool any_missing = false;
    for (size_t i = 0; i < count; i++)
        any_missing = any_missing || !stored[i].inserted;
    if (!any_missing)
        return 1;
    const char *lookup_params[] = {rows_json};
    result = dp_db_run(db, LOOKUP_KEYS, lookup_params);
    if (!result)
        return -1;
    for (int row = 0; row < PQntuples(result); row++) {
        int ord = atoi(PQgetvalue(result, row, 0));
        if (ord < 0 || (size_t)ord >= count || stored[ord].inserted)
            continue;
        stored[ord].id = dp_db_int64(result, row, 1);
        snprintf(stored[ord].status, sizeof stored[ord].status, "%s", PQgetvalue(result, row, 2));
        snprintf(stored[ord].content_hash, sizeof stored[ord].content_hash, "%s",
                 PQgetvalue(result, row, 3));
    }
    PQclear(result);
    return 1;
}

int intake_db_link_duplicates(dp_db_t *db, const int64_t *ids, int64_t *links, size_t count,
                              int window_hours)
{
    /* An array literal of ids: digits and commas only. */
    char *literal = malloc(count * 21 + 3);
    if (!literal)
        return -1;
    size_t used = 0;
    literal[used++] = '{';
    for (size_t i = 0; i < count; i++)
        used += (size_t)sprintf(literal + used, "%s%" PRId64, i ? "," : "", ids[i]);
    literal[used++] = '}';
    literal[used] = 0;
    char window[24];
    dp_format_int64(window, window_hours);
    const char *params[] = {literal, window};
    PGresult *result = dp_db_run(db, LINK_DUPLICATES, params);
    free(literal);
    if (!result)
        return -1;
    for (int row = 0; row < PQntuples(result); row++) {
        int64_t id = dp_db_int64(result, row, 0);
        for (size_t i = 0; i < count; i++)
            if (ids[i] == id)
                links[i] = dp_db_int64(result, row, 1);
    }
    PQclear(result);
    return 1;
}

int intake_db_append_events(dp_db_t *db, const char *events_json)
{
    const char *params[] = {events_json};
    return dp_db_run_count(db, APPEND_EVENTS, params) < 0 ? -1 : 1;
}

int intake_db_append_aggregate_event(dp_db_t *db, const char *event_type,
                                     const char *aggregate_type, const char *aggregate_id,
                                     const ProtobufCMessage *payload)
{
    return dp_db_append_event(db, APPEND_EVENT, event_type, aggregate_type, aggregate_id, payload)
               ? -1
               : 1;
}

int intake_db_append_event(dp_db_t *db, const char *event_type, int64_t enquiry_id,
                           const ProtobufCMessage *payload)
{
    char id[24];
    dp_format_int64(id, enquiry_id);
    return dp_db_append_event(db, APPEND_EVENT, event_type, "enquiry", id, payload) ? -1 : 1;
}

/* ---- enquiries ---------------------------------------------------------------------- */

static void *s_enquiry_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    Dp__Enquiry *enquiry = dp_arena_alloc(arena, sizeof *enquiry);
    if (!enquiry)
        return NULL;
    dp__enquiry__init(enquiry);
    int column = 0;
    enquiry->id = dp_db_int64(result, row, column++);
    enquiry->source = dp_db_text(arena, result, row, column++);
    enquiry->idempotency_key = dp_db_text(arena, result, row, column++);
    enquiry->sender_name = dp_db_text(arena, result, row, column++);
    enquiry->email = dp_db_text(arena, result, row, column++);
    enquiry->organisation = dp_db_text(arena, result, row, column++);
    enquiry->country = dp_db_text(arena, result, row, column++);
    enquiry->kind = dp_db_text(arena, result, row, column++);
    enquiry->subject = dp_db_text(arena, result, row, column++);
    enquiry->body = dp_db_text(arena, result, row, column++);
    enquiry->language = dp_db_text(arena, result, row, column++);
    enquiry->areas = dp_db_split_list(arena, PQgetvalue(result, row, column++), &enquiry->n_areas);
    enquiry->received_at = dp_db_text(arena, result, row, column++);
    enquiry->stored_at = dp_db_text(arena, result, row, column++);
    enquiry->status = intake_status_value(PQgetvalue(result, row, column++));
    enquiry->partner_id = dp_db_int64(result, row, column++);
    enquiry->partner_slug = dp_db_text(arena, result, row, column++);
    enquiry->suggested_areas =
        dp_db_split_list(arena, PQgetvalue(result, row, column++), &enquiry->n_suggested_areas);
    enquiry->possible_duplicate_of = dp_db_int64(result, row, column++);
    enquiry->quarantine_reason = dp_db_text(arena, result, row, column++);
    enquiry->assignee = dp_db_text(arena, result, row, column++);
    enquiry->due_on = dp_db_text(arena, result, row, column++);
    enquiry->first_response_at = dp_db_text(arena, result, row, column++);
    enquiry->resolved_at = dp_db_text(arena, result, row, column++);
    enquiry->merged_into = dp_db_int64(result, row, column++);
    enquiry->outcome = dp_db_text(arena, result, row, column++);
    return enquiry;
}

static void *s_message_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    Dp__OutgoingMessage *message = dp_arena_alloc(arena, sizeof *message);
    if (!message)
        return NULL;
    dp__outgoing_message__init(message);
    int column = 0;
    message->id = dp_db_int64(result, row, column++);
    message->author = dp_db_text(arena, result, row, column++);
    message->created_at = dp_db_text(arena, result, row, column++);
    message->subject = dp_db_text(arena, result, row, column++);
    message->body = dp_db_text(arena, result, row, column++);
    message->status = dp_db_text(arena, result, row, column++);
    message->status_at = dp_db_text(arena, result, row, column++);
    message->reason = dp_db_text(arena, result, row, column++);
    return message;
}

/* History, notes and replies, oldest first. */
static int s_load_history(dp_db_t *db, dp_arena_t *arena, Dp__Enquiry *enquiry)
{
    char id[24];
    dp_format_int64(id, enquiry->id);
    const char *params[] = {id};
    PGresult *result = dp_db_run(db, SELECT_TRANSITIONS, params);
    if (!result)
        return -1;
    int rows = PQntuples(result);
    enquiry->history = (Dp__EnquiryTransition **)dp_arena_array(arena, (size_t)rows);
    for (int row = 0; enquiry->history && row < rows; row++) {
        Dp__EnquiryTransition *step = dp_arena_alloc(arena, sizeof *step);
        if (!step)
            break;
        dp__enquiry_transition__init(step);
        step->from_status = intake_status_value(PQgetvalue(result, row, 0));
        step->to_status = intake_status_value(PQgetvalue(result, row, 1));
        step->actor = dp_db_text(arena, result, row, 2);
        step->at = dp_db_text(arena, result, row, 3);
        step->note = dp_db_text(arena, result, row, 4);
        enquiry->history[enquiry->n_history++] = step;
    }
    PQclear(result);
    result = dp_db_run(db, SELECT_NOTES, params);
    if (!result)
        return -1;
    rows = PQntuples(result);
    enquiry->notes = (Dp__EnquiryNote **)dp_arena_array(arena, (size_t)rows);
    for (int row = 0; enquiry->notes && row < rows; row++) {
        Dp__EnquiryNote *note = dp_arena_alloc(arena, sizeof *note);
        if (!note)
            break;
        dp__enquiry_note__init(note);
        note->id = dp_db_int64(result, row, 0);
        note->actor = dp_db_text(arena, result, row, 1);
        note->at = dp_db_text(arena, result, row, 2);
        note->text = dp_db_text(arena, result, row, 3);
        enquiry->notes[enquiry->n_notes++] = note;
    }
    PQclear(result);
    return dp_db_run_rows(db, SELECT_MESSAGES, params, arena, s_message_from_row,
                          (void ***)&enquiry->messages, &enquiry->n_messages);
}

int intake_db_load_enquiry(dp_db_t *db, dp_arena_t *arena, int64_t id, bool full,
                           Dp__Enquiry **enquiry)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {full ? "true" : "false", id_text};
    PGresult *result = dp_db_run(db, SELECT_ENQUIRY, params);
    if (!result)
        return -1;
    int found = PQntuples(result) == 1;
    *enquiry = found ? s_enquiry_from_row(arena, result, 0) : NULL;
    PQclear(result);
    if (found && !*enquiry)
        return -1;
    if (found && full &&
        (s_load_history(db, arena, *enquiry) < 0 || !intake_fill_allowed_moves(arena, *enquiry)))
        return -1;
    return found;
}

/* The parameters of QUEUE_FILTERS. */
enum { QUEUE_FILTER_COUNT = 13 };

static void s_queue_filters(const intake_queue_t *queue, const char **params)
{
    const Dp__ListEnquiriesRequest *filter = queue->filter;
    const char *values[QUEUE_FILTER_COUNT] = {queue->status,
                                              queue->statuses,
                                              filter->kind,
                                              filter->source,
                                              filter->partner_slug,
                                              filter->area,
                                              filter->assignee,
                                              *filter->received_from ? filter->received_from : NULL,
                                              *filter->received_to ? filter->received_to : NULL,
                                              filter->unassigned ? "true" : "false",
                                              filter->overdue ? "true" : "false",
                                              filter->due_today ? "true" : "false",
                                              *filter->search ? filter->search : NULL};
    memcpy(params, values, sizeof values);
}

/* The statement of each order, by Dp__EnquirySort. */
static const int s_list_statements[] = {LIST_NEWEST, LIST_OLDEST, LIST_DUE};

int intake_db_list_queue(dp_db_t *db, dp_arena_t *arena, const intake_queue_t *queue,
                         Dp__Enquiry ***enquiries, size_t *count, char **last_cursor)
{
    char after_id[24], limit[24];
    dp_format_int64(after_id, queue->after_id);
    dp_format_int64(limit, queue->limit);
    const char *params[QUEUE_FILTER_COUNT + 4];
    s_queue_filters(queue, params);
    params[QUEUE_FILTER_COUNT] = queue->after_received;
    params[QUEUE_FILTER_COUNT + 1] = after_id;
    params[QUEUE_FILTER_COUNT + 2] = limit;
    params[QUEUE_FILTER_COUNT + 3] = queue->after_due;
    *last_cursor = NULL;
    if ((size_t)queue->sort >= sizeof s_list_statements / sizeof *s_list_statements)
        return -1;
    PGresult *result = dp_db_run(db, PLAN_CUSTOM, NULL);
    if (!result)
        return -1;
    PQclear(result);
    result = dp_db_run(db, s_list_statements[queue->sort], params);
    if (!result)
        return -1;
    int rows = PQntuples(result);
    if (rows > 0) {
        *last_cursor = dp_db_text(arena, result, rows - 1, PQnfields(result) - 1);
        if (!*last_cursor) {
            PQclear(result);
            return -1;
        }
    }
    return dp_db_rows(result, arena, s_enquiry_from_row, (void ***)enquiries, count);
}

int intake_db_count_matches(dp_db_t *db, const intake_queue_t *queue, uint64_t *total)
{
    const char *params[QUEUE_FILTER_COUNT];
    s_queue_filters(queue, params);
    PGresult *result = dp_db_run(db, LIST_TOTAL, params);
    if (!result)
        return -1;
    *total = dp_db_uint64(result, 0, 0);
    PQclear(result);
    return 1;
}

int intake_db_count_queue(dp_db_t *db, const char *assignee, Dp__CountEnquiriesReply *counts)
{
    const char *params[] = {assignee};
    PGresult *result = dp_db_run(db, COUNT_QUEUE, params);
    if (!result)
        return -1;
    counts->mine = dp_db_uint64(result, 0, 0);
    counts->unassigned = dp_db_uint64(result, 0, 1);
    counts->overdue = dp_db_uint64(result, 0, 2);
    counts->due_today = dp_db_uint64(result, 0, 3);
    counts->open = dp_db_uint64(result, 0, 4);
    PQclear(result);
    return 1;
}

int intake_db_lock_enquiry(dp_db_t *db, int64_t id, char status[16], char assignee[201])
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text};
    PGresult *result = dp_db_run(db, LOCK_ENQUIRY, params);
    if (!result)
        return -1;
    int found = PQntuples(result) == 1;
    if (found) {
        snprintf(status, 16, "%s", PQgetvalue(result, 0, 0));
        snprintf(assignee, 201, "%s", PQgetvalue(result, 0, 1));
    }
    PQclear(result);
    return found;
}

int intake_db_move(dp_db_t *db, int64_t id, const char *from, const char *to, const char *assignee,
                   int64_t assignee_id, const char *actor, const char *note)
{
    char id_text[24], staff_text[24];
    dp_format_int64(id_text, id);
    dp_format_int64(staff_text, assignee_id);
    const char *params[] = {
        id_text, to, assignee, from, actor, note ? note : "", assignee_id > 0 ? staff_text : NULL};
    return dp_db_run_count(db, MOVE_ENQUIRY, params) == 1 ? 1 : -1;
}

int intake_db_add_note(dp_db_t *db, dp_arena_t *arena, int64_t id, const char *actor,
                       const char *text, Dp__EnquiryNote **note)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text, actor, text};
    PGresult *result = dp_db_run(db, INSERT_NOTE, params);
    if (!result)
        return -1;
    *note = dp_arena_alloc(arena, sizeof **note);
    if (*note) {
        dp__enquiry_note__init(*note);
        (*note)->id = dp_db_int64(result, 0, 0);
        (*note)->at = dp_db_text(arena, result, 0, 1);
        (*note)->actor = dp_arena_strdup(arena, actor);
        (*note)->text = dp_arena_strdup(arena, text);
    }
    PQclear(result);
    return *note ? 1 : -1;
}

/* ---- the staff console: due dates, merges, replies, admissions ------------------------ */

int intake_db_lock_state(dp_db_t *db, int64_t id, intake_locked_t *state)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text};
    PGresult *result = dp_db_run(db, LOCK_STATE, params);
    if (!result)
        return -1;
    int found = PQntuples(result) == 1;
    memset(state, 0, sizeof *state);
    if (found) {
        snprintf(state->status, sizeof state->status, "%s", PQgetvalue(result, 0, 0));
        state->possible_duplicate_of = dp_db_int64(result, 0, 1);
        state->merged_into = dp_db_int64(result, 0, 2);
        snprintf(state->kind, sizeof state->kind, "%s", PQgetvalue(result, 0, 3));
        state->partner_id = dp_db_int64(result, 0, 4);
        snprintf(state->partner_slug, sizeof state->partner_slug, "%s", PQgetvalue(result, 0, 5));
        snprintf(state->due_on, sizeof state->due_on, "%s", PQgetvalue(result, 0, 6));
        snprintf(state->outcome, sizeof state->outcome, "%s", PQgetvalue(result, 0, 7));
        state->erased = strcmp(PQgetvalue(result, 0, 8), "t") == 0;
    }
    PQclear(result);
    return found;
}

int intake_db_set_due(dp_db_t *db, int64_t id, const char *due_on)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text, due_on};
    return dp_db_run_count(db, UPDATE_DUE, params) == 1 ? 1 : -1;
}

int intake_db_add_step(dp_db_t *db, int64_t id, const char *from, const char *to, const char *actor,
                       const char *note)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text, from, to, actor, note};
    return dp_db_run_count(db, INSERT_STEP, params) == 1 ? 1 : -1;
}

int intake_db_close_as(dp_db_t *db, int64_t id, int64_t merged_into, int64_t partner_id,
                       const char *partner_slug, const char *outcome)
{
    char id_text[24], into_text[24], partner_text[24];
    dp_format_int64(id_text, id);
    dp_format_int64(into_text, merged_into);
    dp_format_int64(partner_text, partner_id);
    const char *params[] = {id_text, merged_into > 0 ? into_text : NULL,
                            partner_id > 0 ? partner_text : NULL,
                            partner_id > 0 ? partner_slug : NULL, outcome};
    return dp_db_run_count(db, CLOSE_AS, params) == 1 ? 1 : -1;
}

int intake_db_add_message(dp_db_t *db, dp_arena_t *arena, int64_t enquiry_id, const char *author,
                          const char *subject, const char *body, Dp__OutgoingMessage **message)
{
    char id_text[24];
    dp_format_int64(id_text, enquiry_id);
    const char *params[] = {id_text, author, subject, body};
    PGresult *result = dp_db_run(db, INSERT_MESSAGE, params);
    if (!result)
        return -1;
    *message = PQntuples(result) == 1 ? s_message_from_row(arena, result, 0) : NULL;
    PQclear(result);
    return *message ? 1 : -1;
}

/* ---- rules and kinds ---------------------------------------------------------------- */

static void *s_rule_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    Dp__TriageRule *rule = dp_arena_alloc(arena, sizeof *rule);
    if (!rule)
        return NULL;
    dp__triage_rule__init(rule);
    rule->id = dp_db_int64(result, row, 0);
    rule->keyword = dp_db_text(arena, result, row, 1);
    rule->area = dp_db_text(arena, result, row, 2);
    return rule;
}

int intake_db_list_rules(dp_db_t *db, dp_arena_t *arena, Dp__TriageRule ***rules, size_t *count)
{
    return dp_db_run_rows(db, LIST_RULES, NULL, arena, s_rule_from_row, (void ***)rules, count);
}

int intake_db_add_rule(dp_db_t *db, const char *keyword, const char *area, int64_t *id)
{
    const char *params[] = {keyword, area};
    PGresult *result = dp_db_run(db, INSERT_RULE, params);
    if (!result)
        return -1;
    int added = PQntuples(result) == 1;
    if (added)
        *id = dp_db_int64(result, 0, 0);
    PQclear(result);
    return added;
}

int intake_db_remove_rule(dp_db_t *db, int64_t id)
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text};
    return dp_db_run_count(db, DELETE_RULE, params);
}

static void *s_kind_from_row(dp_arena_t *arena, const PGresult *result, int row)
{
    Dp__EnquiryKind *kind = dp_arena_alloc(arena, sizeof *kind);
    if (!kind)
        return NULL;
    dp__enquiry_kind__init(kind);
    kind->slug = dp_db_text(arena, result, row, 0);
    kind->label = dp_db_text(arena, result, row, 1);
    return kind;
}

int intake_db_list_kinds(dp_db_t *db, dp_arena_t *arena, Dp__EnquiryKind ***kinds, size_t *count)
{
    return dp_db_run_rows(db, LIST_KINDS, NULL, arena, s_kind_from_row, (void ***)kinds, count);
}

int intake_db_add_kind(dp_db_t *db, const char *slug, const char *label)
{
    const char *params[] = {slug, label};
    return dp_db_run_count(db, INSERT_KIND, params);
}

/* ---- data protection ---------------------------------------------------------------- */

static int s_count_of(dp_db_t *db, int statement, const char *const *params)
{
    PGresult *result = dp_db_run(db, statement, params);
    if (!result)
        return -1;
    int count = PQntuples(result) ? atoi(PQgetvalue(result, 0, 0)) : 0;
    PQclear(result);
    return count;
}

int intake_db_erase_subject(dp_db_t *db, const char *subject_key)
{
    const char *params[] = {subject_key};
    return s_count_of(db, ERASE_BY_KEY, params);
}

int intake_db_apply_tombstones(dp_db_t *db)
{
    return s_count_of(db, APPLY_TOMBSTONES, NULL);
}

int intake_db_retention(dp_db_t *db, int months, bool dry_run, char cutoff[32])
{
    char months_text[24];
    dp_format_int64(months_text, months);
    const char *params[] = {months_text};
    PGresult *result = dp_db_run(db, RETENTION_COUNT, params);
    if (!result)
        return -1;
    int count = atoi(PQgetvalue(result, 0, 0));
    snprintf(cutoff, 32, "%s", PQgetvalue(result, 0, 1));
    PQclear(result);
    return dry_run ? count : s_count_of(db, ERASE_RETENTION, params);
}

int intake_db_add_tombstone(dp_db_t *db, const char *subject_key)
{
    const char *params[] = {subject_key};
    return dp_db_run_count(db, ADD_TOMBSTONE, params) < 0 ? -1 : 1;
}

int intake_db_is_tombstoned(dp_db_t *db, const char *subject_key)
{
    const char *params[] = {subject_key};
    return dp_db_run_count(db, IS_TOMBSTONED, params);
}

int intake_db_subject_enquiries(dp_db_t *db, dp_arena_t *arena, const char *subject_key,
                                int64_t **ids, size_t *count)
{
    const char *params[] = {subject_key};
    PGresult *result = dp_db_run(db, EXPORT_IDS, params);
    if (!result)
        return -1;
    *count = (size_t)PQntuples(result);
    *ids = dp_arena_alloc(arena, sizeof **ids * (*count ? *count : 1));
    for (size_t i = 0; *ids && i < *count; i++)
        (*ids)[i] = dp_db_int64(result, (int)i, 0);
    PQclear(result);
    return *ids ? 1 : -1;
}

int intake_db_audit(dp_db_t *db, const char *actor, const char *action, const char *subject_key,
                    const char *detail)
{
    return dp_privacy_audit_add(db, AUDIT_INSERT, actor, action, subject_key, detail);
}

int intake_db_list_audit(dp_db_t *db, dp_arena_t *arena, const char *subject_key, int limit,
                         void ***entries, size_t *count)
{
    return dp_privacy_audit_rows(db, AUDIT_LIST, "intake", arena, subject_key, limit, entries,
                                 count);
}

int intake_db_backfill(dp_db_t *db, const char *secret)
{
    return dp_privacy_backfill(db, BACKFILL_SELECT, BACKFILL_UPDATE, secret);
}

int intake_db_subject_key_of(dp_db_t *db, int64_t id, char key[65])
{
    char id_text[24];
    dp_format_int64(id_text, id);
    const char *params[] = {id_text};
    PGresult *result = dp_db_run(db, SUBJECT_KEY_OF, params);
    if (!result)
        return -1;
    int found = PQntuples(result) == 1;
    snprintf(key, 65, "%s", found ? PQgetvalue(result, 0, 0) : "");
    PQclear(result);
    return found;
}

/* ---- partners matched later; staff ids -------------------------------------------- */

int intake_db_pending_partners(dp_db_t *db, dp_arena_t *arena, int limit, int64_t **ids,
                               char ***emails, size_t *count)
{
    char limit_text[24];
    dp_format_int64(limit_text, limit);
    const char *params[] = {limit_text};
    PGresult *result = dp_db_run(db, PENDING_SELECT, params);
    if (!result)
        return -1;
    size_t rows = (size_t)PQntuples(result);
    *count = 0;
    *ids = dp_arena_alloc(arena, sizeof **ids * (rows ? rows : 1));
    *emails = (char **)dp_arena_array(arena, rows);
    for (size_t row = 0; *ids && *emails && row < rows; row++) {
        (*ids)[row] = dp_db_int64(result, (int)row, 0);
        (*emails)[row] = dp_db_text(arena, result, (int)row, 1);
        if (!(*emails)[row])
            break;
        (*count)++;
    }
    PQclear(result);
    return *count == rows ? 1 : -1;
}

int intake_db_resolve_partners(dp_db_t *db, const char *matches_json)
{
    const char *params[] = {matches_json};
    return dp_db_run_count(db, PENDING_RESOLVE, params);
}

int intake_db_staff_id(dp_db_t *db, const char *name, int64_t *id)
{
    const char *params[] = {name};
    PGresult *result = dp_db_run(db, ENSURE_STAFF, params);
    if (!result)
        return -1;
    int found = PQntuples(result) >= 1;
    *id = found ? dp_db_int64(result, 0, 0) : 0;
    PQclear(result);
    return found ? 1 : -1;
}

int intake_db_assignee_id_of(dp_db_t *db, int64_t enquiry_id, int64_t *id)
{
    char id_text[24];
    dp_format_int64(id_text, enquiry_id);
    const char *params[] = {id_text};
    PGresult *result = dp_db_run(db, ASSIGNEE_ID_OF, params);
    if (!result)
        return -1;
    int found = PQntuples(result) == 1;
    *id = found ? dp_db_int64(result, 0, 0) : 0;
    PQclear(result);
    return found;
}
